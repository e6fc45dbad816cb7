#!/usr/bin/env python3
"""Side-by-side speed: Yusu's whole `score` vs Praat's autocorrelation pitch alone.

Both run on the same files in one run, on one core each, best of --repeat:
  - yusu: `yusu bench FILE --format json --repeat R` (in-process timing of the whole score:
    decode, frames, pitch, voice activity, nuclei, measures, verdicts);
  - Praat: parselmouth (PyPI praat-parselmouth, Praat's own C++), Sound.to_pitch_ac() with
    Praat's defaults (time step 0.75/pitch floor, floor 75 Hz, ceiling 600 Hz) on every channel,
    timed in-process after the file is loaded.

usage: compare_praat.py [--cli .build/release/yusu] [--repeat 5] FILE [FILE ...]
Needs: pip install praat-parselmouth numpy
"""
import argparse, json, os, subprocess, time
import parselmouth

# One core for both, as the bar is stated: Praat's pitch analysis runs on every core it is
# given (6.2x on this 2-core machine unpinned, 12.3x pinned), and `yusu bench` inherits this.
os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

ap = argparse.ArgumentParser()
ap.add_argument('--cli', default='.build/release/yusu')
ap.add_argument('--repeat', type=int, default=5)
ap.add_argument('files', nargs='+')
a = ap.parse_args()
print(f"{'file':28s} {'audio s':>8s} {'yusu score ms':>14s} {'x rt':>7s} {'praat pitch ms':>15s} {'x rt':>7s} {'yusu faster':>12s}")
for f in a.files:
    b = json.loads(subprocess.run([a.cli, 'bench', f, '--format', 'json', '--repeat', str(a.repeat)],
                                  capture_output=True, text=True, check=True).stdout)
    yusu = b['whole_score_ms'] / 1000
    sound = parselmouth.Sound(f)
    channels = [sound.extract_channel(c + 1) for c in range(sound.n_channels)] if sound.n_channels > 1 else [sound]
    best = float('inf')
    for _ in range(a.repeat):
        t = time.perf_counter()
        for ch in channels:
            ch.to_pitch_ac()
        best = min(best, time.perf_counter() - t)
    d = b['duration_s']
    print(f"{f.split('/')[-1]:28s} {d:8.1f} {yusu * 1000:14.1f} {d / yusu:7.0f} {best * 1000:15.1f} {d / best:7.0f} {best / yusu:11.1f}x")
