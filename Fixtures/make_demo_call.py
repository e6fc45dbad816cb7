#!/usr/bin/env python3
"""Builds Fixtures/demo_call.wav: a one-minute two-channel telephone call, synthetic.

Agent on channel 0, customer on channel 1, both espeak-ng's Mandarin voice (`-v cmn`,
the customer at a higher pitch), 8 kHz G.711 μ-law like a phone line, with faint line
noise. The timeline holds one of each thing Yusu looks for: turns, a backchannel (嗯),
a 15 s hold, an agent interruption, a sinking final "再见".

Needs: espeak-ng, sox, python3 with numpy. Run from anywhere:
    python3 Fixtures/make_demo_call.py
Writes Fixtures/demo_call.wav and prints the timeline it laid out.
"""
import os, subprocess, tempfile, wave
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 8000

def speak(text, pitch, speed=150):
    with tempfile.TemporaryDirectory() as d:
        raw, out = os.path.join(d, 'raw.wav'), os.path.join(d, 'out.wav')
        subprocess.run(['espeak-ng', '-v', 'cmn', '-p', str(pitch), '-s', str(speed), '-w', raw, text], check=True)
        # telephone band: 8 kHz, 300-3400 Hz
        subprocess.run(['sox', raw, '-r', str(RATE), '-b', '16', out, 'highpass', '300', 'lowpass', '3400'], check=True)
        with wave.open(out) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64) / 32768
    nz = np.nonzero(np.abs(x) > 1e-3)[0]
    return x[nz[0]:nz[-1] + 1]

def at_level(x, dbov):
    rms = np.sqrt(np.mean(x[np.abs(x) > 1e-3] ** 2))
    return x * (10 ** (dbov / 20) / rms)

AGENT, CUSTOMER = 0, 1
script = [  # (who, text, start: 'after' gap in s or 'over' seconds before the other's end)
    (AGENT, '您好，这里是客服中心，请问有什么可以帮您？', ('after', 0.5)),
    (CUSTOMER, '你好，我家的宽带从昨天晚上开始就上不了网了。', ('after', 0.6)),
    (AGENT, '好的，我帮您查一下，请您稍等。', ('after', 0.7)),
    (AGENT, '让您久等了，您那边的线路有故障，我们已经安排师傅上门维修。', ('after', 15.0)),
    (CUSTOMER, '那大概什么时候能修好呢？我明天还要用网上班。', ('after', 0.8)),
    (AGENT, '明天上午十点之前一定修好。', ('over', 1.2)),
    (CUSTOMER, '好的，谢谢。', ('after', 0.7)),
    (AGENT, '不客气，祝您生活愉快，再见。', ('after', 0.6)),
]
pitch = {AGENT: 40, CUSTOMER: 75}
level = {AGENT: -26.0, CUSTOMER: -28.0}

clips, t, last_end = [], 0.0, 0.0
for who, text, (how, amount) in script:
    x = at_level(speak(text, pitch[who]), level[who])
    start = last_end + amount if how == 'after' else last_end - amount
    clips.append((who, start, x, text))
    last_end = start + len(x) / RATE
# a backchannel inside the customer's first sentence
cust1 = clips[1]
bc = at_level(speak('嗯', pitch[AGENT], 170), level[AGENT])
clips.append((AGENT, cust1[1] + len(cust1[2]) / RATE * 0.55, bc, '嗯 (backchannel)'))

total = max(s + len(x) / RATE for _, s, x, _ in clips) + 1.0
n = int(total * RATE)
rng = np.random.default_rng(7)
out = rng.normal(0, 10 ** (-62 / 20), size=(n, 2))  # line noise about -62 dBov
for who, s, x, text in sorted(clips, key=lambda c: c[1]):
    i = int(s * RATE)
    out[i:i + len(x), who] += x
    print(f"{['agent', 'customer'][who]:8s} {s:6.2f}-{s + len(x) / RATE:6.2f}  {text}")
pcm = np.clip(np.round(out * 32767), -32768, 32767).astype('<i2')
with tempfile.TemporaryDirectory() as d:
    tmp = os.path.join(d, 'pcm.wav')
    with wave.open(tmp, 'wb') as w:
        w.setnchannels(2); w.setsampwidth(2); w.setframerate(RATE); w.writeframes(pcm.tobytes())
    subprocess.run(['sox', tmp, '-e', 'u-law', os.path.join(HERE, 'demo_call.wav')], check=True)
print(f"wrote demo_call.wav: {total:.1f} s, stereo, {RATE} Hz, μ-law")
