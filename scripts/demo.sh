#!/usr/bin/env bash
# Quick start: install the system libraries, build Yusu, score the bundled demo call.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libsndfile1-dev libfftw3-dev libsqlite3-dev zlib1g-dev pkg-config git fonts-noto-cjk curl >/dev/null
swift build -c release
.build/release/yusu score Fixtures/demo_call.wav
echo "The binary is .build/release/yusu; the README's commands call it yusu: export PATH=\"\$PWD/.build/release:\$PATH\"" >&2
