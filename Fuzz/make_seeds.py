#!/usr/bin/env python3
"""Writes the fuzzer's seed recordings into seeds/: short, valid files of each format Yusu
reads (PCM 8/16-bit, float, μ-law, A-law WAV; FLAC; mono and stereo; 8, 16 and 22.05 kHz: a
whole and a fractional resampling ratio), so the fuzzer starts from headers and sample data
worth mangling. Needs sox (whose dither makes its conversions differ from run to run)."""
import math, os, struct, subprocess, wave
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')
os.makedirs(here, exist_ok=True)

def tone(rate, seconds, f0, channels):
    n = int(rate * seconds)
    out = []
    for i in range(n):
        t = i / rate
        env = 0.5 * (1 - math.cos(2 * math.pi * 4 * t))   # 4 syllables a second
        s = env * 0.3 * sum(math.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 6))
        out.append([s if c == 0 else s * 0.5 * math.sin(2 * math.pi * 3 * t) for c in range(channels)])
    return out

def write_pcm16(path, rate, frames):
    with wave.open(path, 'wb') as w:
        w.setnchannels(len(frames[0])); w.setsampwidth(2); w.setframerate(rate)
        w.writeframes(b''.join(struct.pack('<' + 'h' * len(f), *[int(x * 32767) for x in f]) for f in frames))

base = os.path.join(here, 'pcm16_stereo_8k.wav')
write_pcm16(base, 8000, tone(8000, 0.6, 180, 2))
write_pcm16(os.path.join(here, 'pcm16_mono_16k.wav'), 16000, tone(16000, 0.55, 220, 1))
write_pcm16(os.path.join(here, 'pcm16_mono_22k.wav'), 22050, tone(22050, 0.55, 200, 1))
for name, args in [('ulaw_stereo_8k.wav', ['-e', 'u-law']), ('alaw_stereo_8k.wav', ['-e', 'a-law']),
                   ('float_stereo_8k.wav', ['-e', 'floating-point', '-b', '32']), ('pcm8_stereo_8k.wav', ['-b', '8']),
                   ('stereo_8k.flac', [])]:
    subprocess.run(['sox', base] + args + [os.path.join(here, name)], check=True)
print('\n'.join(sorted(os.listdir(here))))
