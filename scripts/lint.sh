#!/usr/bin/env bash
# The code's shape, as CI checks it: the toolchain's `swift format` (configuration in
# .swift-format: 4 spaces, 120 columns) finds nothing to change or warn about, and no line
# is over 120 characters (swift-format cannot break a string literal; scripts/fold_long_strings.py
# folds those into continued multi-line literals). Fix with:
#   swift format -i -r Sources Tests Benchmarks/Benchmarks Fuzz/Sources
#   scripts/fold_long_strings.py $(git ls-files '*.swift') && swift format -i -r ...
set -euo pipefail
cd "$(dirname "$0")/.."
trees=(Sources Tests Benchmarks/Benchmarks Fuzz/Sources)
swift format lint --strict -r "${trees[@]}"
python3 - "${trees[@]}" <<'PY'
import pathlib, sys
long = [f"{p}:{n}: {len(line)} characters" for tree in sys.argv[1:] for p in sorted(pathlib.Path(tree).rglob("*.swift"))
        for n, line in enumerate(p.read_text(encoding="utf-8").split("\n"), 1) if len(line) > 120]
print("\n".join(long) or "lint: no line over 120 characters")
sys.exit(1 if long else 0)
PY
