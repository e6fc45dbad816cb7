#!/usr/bin/env bash
# Fuzzes decode + analysis for N seconds (default 60), seeded from seeds/. A crash leaves
# its input in crashers/ and fails the run; add it to Fixtures/fuzz/ as a regression input.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >/dev/null
mkdir -p crashers corpus
cp -n seeds/* corpus/ 2>/dev/null || true
exec "$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)/YusuFuzz" \
    corpus -max_total_time="$seconds" -max_len=40000 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=crashers/ -print_final_stats=1
