#!/usr/bin/env python3
"""Builds Fixtures/demo_call.wav and its truth, demo_call.truth.json, from real speech.

A two-channel telephone call assembled from real Mandarin read sentences of AISHELL-1
(Apache License 2.0; www.aishelltech.com/kysjcp, openslr.org/33), as they sit in the
evaluation corpus's `dev/utterances` folder: one speaker (S0150) is the agent on channel
0, another (S0252) the customer on channel 1. The sentences are news and address-book
text, not a service dialogue; what matters is that they are real speech with a known
character count. Each sentence is trimmed to its speech, band-limited to 300-3400 Hz,
resampled to 8 kHz and set to a level; the call is G.711 μ-law with faint line noise.

The timeline holds one of each thing Yusu looks for: turns with natural gaps, an agent
backchannel (a 0.22 s one-syllable burst of the agent's voice inside a customer sentence),
a 15 s hold, one sentence over 20 characters, and an agent interruption (the agent starts
1.2 s before the customer's sentence ends).

The truth file holds every utterance (start, end, characters) and the summary Yusu should
report, computed with the definitions of the evaluation contract: syllables = characters;
a turn bridges pauses under 1.5 s unless the other party starts inside them; talk time is
the sum of turns; speech rate = syllables per minute of talk time.

Needs: sox, python3 with numpy, and the corpus beside the checkout (../shared/corpus).
Run from anywhere:  python3 Fixtures/make_demo_call.py
"""
import json, os, subprocess, tempfile, wave
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'corpus', 'dev', 'utterances'))
RATE = 8000
AGENT, CUSTOMER = 0, 1
TEXT = {x['file']: x for x in json.load(open(os.path.join(CORPUS, 'truth.json'), encoding='utf-8'))}


def load(name, cut=None):
    """The sentence at 8 kHz in the telephone band, trimmed to its speech (or to `cut` s)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'out.wav')
        subprocess.run(['sox', os.path.join(CORPUS, name), '-r', str(RATE), '-b', '16', out,
                        'highpass', '300', 'lowpass', '3400'], check=True)
        with wave.open(out) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64) / 32768
    if cut:
        x = x[int(cut[0] * RATE):int(cut[1] * RATE)]
    else:
        # speech = 10 ms frames within 30 dB of the loudest, with 30 ms kept either side
        hop = RATE // 100
        e = np.array([np.mean(x[i:i + hop] ** 2) + 1e-12 for i in range(0, len(x) - hop, hop)])
        on = np.nonzero(10 * np.log10(e / e.max()) > -30)[0]
        x = x[max(0, (on[0] - 3) * hop):(on[-1] + 4) * hop]
    fade = int(0.015 * RATE)
    ramp = np.linspace(0, 1, fade)
    x = x.copy()
    x[:fade] *= ramp
    x[-fade:] *= ramp[::-1]
    return x


def at_level(x, dbov):
    """Scale so that the RMS over frames within 20 dB of the loudest is `dbov` (near P.56)."""
    hop = RATE // 100
    e = np.array([np.mean(x[i:i + hop] ** 2) for i in range(0, len(x) - hop, hop)])
    active = e[e > e.max() * 0.01]
    # 0 dBov = full-scale square wave: RMS 1.0
    return x * (10 ** (dbov / 20) / np.sqrt(np.mean(active)))


# (who, file, how it starts: ('after', gap after the previous sentence's end, s) or
#  ('over', s before the previous sentence's end), note)
SCRIPT = [
    (AGENT, 'utt_062_BAC009S0150W0234.wav', ('after', 0.5), ''),
    (CUSTOMER, 'utt_026_BAC009S0252W0123.wav', ('after', 0.6), ''),
    (AGENT, 'utt_076_BAC009S0150W0170.wav', ('after', 0.7), ''),
    (CUSTOMER, 'utt_000_BAC009S0252W0093.wav', ('after', 0.6), ''),
    (AGENT, 'utt_056_BAC009S0150W0173.wav', ('after', 0.7), 'then the agent puts the call on hold'),
    (AGENT, 'utt_118_BAC009S0150W0194.wav', ('after', 15.0), 'over 20 characters'),
    (CUSTOMER, 'utt_084_BAC009S0252W0185.wav', ('after', 0.8), ''),
    (AGENT, 'utt_100_BAC009S0150W0139.wav', ('over', 1.2), 'interrupts: starts 1.2 s before the customer ends'),
    (CUSTOMER, 'utt_072_BAC009S0252W0137.wav', ('after', 0.7), ''),
    (AGENT, 'utt_002_BAC009S0150W0171.wav', ('after', 0.6), ''),
    (AGENT, 'utt_024_BAC009S0150W0026.wav', ('after', 0.9), ''),
]
LEVEL = {AGENT: -26.0, CUSTOMER: -28.0}
BACKCHANNEL = ('utt_028_BAC009S0150W0005.wav', (0.06, 0.28), 1)  # 调, the first syllable of 调高温度

clips, last_end = [], 0.0
for who, name, (how, amount), note in SCRIPT:
    x = at_level(load(name), LEVEL[who])
    start = last_end + amount if how == 'after' else last_end - amount
    clips.append(dict(who=who, start=start, x=x, chars=TEXT[name]['syllables'], text=TEXT[name]['text'],
                      source=name, note=note))
    last_end = start + len(x) / RATE
# the backchannel, 55% of the way into the customer's first sentence
first_customer = next(c for c in clips if c['who'] == CUSTOMER)
name, cut, chars = BACKCHANNEL
bc = at_level(load(name, cut), LEVEL[AGENT])
clips.append(dict(who=AGENT, start=first_customer['start'] + len(first_customer['x']) / RATE * 0.55, x=bc,
                  chars=chars, text='调 (backchannel)', source=name, note='backchannel'))
clips.sort(key=lambda c: c['start'])

total = max(c['start'] + len(c['x']) / RATE for c in clips) + 1.0
n = int(total * RATE)
rng = np.random.default_rng(7)
out = rng.normal(0, 10 ** (-62 / 20), size=(n, 2))  # line noise about -62 dBov
for c in clips:
    i = int(round(c['start'] * RATE))
    out[i:i + len(c['x']), c['who']] += c['x']
pcm = np.clip(np.round(out * 32767), -32768, 32767).astype('<i2')
with tempfile.TemporaryDirectory() as d:
    tmp = os.path.join(d, 'pcm.wav')
    with wave.open(tmp, 'wb') as w:
        w.setnchannels(2); w.setsampwidth(2); w.setframerate(RATE); w.writeframes(pcm.tobytes())
    subprocess.run(['sox', tmp, '-e', 'u-law', os.path.join(HERE, 'demo_call.wav')], check=True)


def span(c):
    return round(c['start'], 3), round(c['start'] + len(c['x']) / RATE, 3)


def turns(mine, theirs):
    """Turns per the contract: pauses under 1.5 s bridged unless the other starts inside."""
    out = []
    for s, e in mine:
        if out and s - out[-1][1] < 1.5 and not any(out[-1][1] <= ts < s for ts, _ in theirs):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


agent = [c for c in clips if c['who'] == AGENT]
customer = [c for c in clips if c['who'] == CUSTOMER]
agent_turns = turns([span(c) for c in agent], [span(c) for c in customer])
talk_s = sum(e - s for s, e in agent_turns)
syllables = sum(c['chars'] for c in agent)
gaps = []
ends_so_far = 0.0
for c in clips:
    s, e = span(c)
    if s - ends_so_far >= 10:
        gaps.append({'start_s': round(ends_so_far, 3), 'end_s': s})
    ends_so_far = max(ends_so_far, e)
interrupt = next(c for c in clips if c['note'].startswith('interrupts'))
truth = {
    'file': 'demo_call.wav',
    'duration_s': round(n / RATE, 3),
    'channels': {'agent': AGENT, 'customer': CUSTOMER},
    'summary': {
        'agent': {'syllables': syllables, 'talk_time_s': round(talk_s, 3),
                  'speech_rate_cpm': round(syllables / talk_s * 60, 1), 'long_sentences': sum(c['chars'] > 20 for c in agent),
                  'level_dbov': LEVEL[AGENT]},
        'customer': {'syllables': sum(c['chars'] for c in customer), 'level_dbov': LEVEL[CUSTOMER]},
    },
    'events': {
        'agent_utterances': [dict(zip(('start_s', 'end_s'), span(c)), chars=c['chars'], text=c['text'], source=c['source'])
                             for c in agent],
        'customer_utterances': [dict(zip(('start_s', 'end_s'), span(c)), chars=c['chars'], text=c['text'], source=c['source'])
                                for c in customer],
        'backchannels': [{'at_s': span(c)[0], 'dur_s': round(len(c['x']) / RATE, 3)} for c in agent if c['note'] == 'backchannel'],
        'interruptions': [{'by': 'agent', 'at_s': span(interrupt)[0]}],
        'holds': gaps,
    },
}
with open(os.path.join(HERE, 'demo_call.truth.json'), 'w', encoding='utf-8') as f:
    json.dump(truth, f, ensure_ascii=False, indent=1)
    f.write('\n')
for c in clips:
    s, e = span(c)
    print(f"{['agent', 'customer'][c['who']]:8s} {s:6.2f}-{e:6.2f}  {c['chars']:2d}字  {c['text']}  {c['note']}")
print(f"wrote demo_call.wav: {total:.1f} s, stereo, {RATE} Hz, μ-law; agent {syllables} 字 in {talk_s:.2f} s of talk "
      f"= {syllables / talk_s * 60:.1f} 字/分钟; holds {gaps}")
