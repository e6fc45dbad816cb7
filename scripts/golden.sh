#!/usr/bin/env bash
# Writes Fixtures/golden/: what `yusu` prints today for the dev calls and the demo call
# (score as JSON, text and HTML without the player; live's JSON Lines). GoldenTests compares
# every later build with these bytes, so a refactor that changes an output fails until the
# change is meant: then run this again and say why in the commit.
# Usage: scripts/golden.sh [path/to/yusu]   (default .build/release/yusu)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
yusu=$(realpath "${1:-.build/release/yusu}")
out=$root/Fixtures/golden
corpus=$root/../shared/corpus/dev/calls
mkdir -p "$out"
one() {  # folder, file
    (cd "$1"
     "$yusu" score --format json "$2" > "$out/${2%.wav}.score.json"
     "$yusu" score "$2" > "$out/${2%.wav}.score.txt"
     "$yusu" score --format html --audio none "$2" > "$out/${2%.wav}.score.html"
     "$yusu" live - --name "$2" < "$2" > "$out/${2%.wav}.live.jsonl")
}
for f in "$corpus"/call_0?.wav; do one "$corpus" "$(basename "$f")"; done
one "$root/Fixtures" demo_call.wav
# The FFTW rounding they were written with: GoldenTests compares byte for byte where the
# machine's is the same, and numbers within 2% where it is not (the test prints it).
fingerprint=$(swift test --filter "GoldenTests/fingerprint" 2>&1 | sed -n 's/^FFTW fingerprint: //p')
[ -n "$fingerprint" ] || { echo "golden.sh: the test build failed; no FFTW fingerprint written" >&2; exit 1; }
echo "$fingerprint" > "$out/fftw-fingerprint.txt"
ls -l "$out"
