#!/bin/sh
# Rebuilds the MP3 fixtures: a 200 Hz tone from 1.000 s to 1.500 s in 2.5 s of silence,
# encoded by LAME three ways. Needs sox and lame (Debian packages).
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
sox -n -r 16000 -c 1 -b 16 "$tmp/silence.wav" trim 0 1.0
sox -n -r 16000 -c 1 -b 16 "$tmp/tone.wav" synth 0.5 sine 200 vol 0.5
sox "$tmp/silence.wav" "$tmp/tone.wav" "$tmp/silence.wav" "$tmp/burst16k.wav"
sox "$tmp/burst16k.wav" -r 8000 "$tmp/burst8k.wav"
# 16 kHz at 32 kbit/s and 8 kHz at 16 kbit/s: first frames too small for LAME's gapless tag.
lame --quiet -b 32 "$tmp/burst16k.wav" burst_16k_32kbps_untagged.mp3
lame --quiet -b 16 "$tmp/burst8k.wav" burst_8k_16kbps_untagged.mp3
# 16 kHz at 64 kbit/s: the first frame holds the Info/LAME tag.
lame --quiet -b 64 "$tmp/burst16k.wav" burst_16k_64kbps_tagged.mp3
rm -r "$tmp"
