#!/usr/bin/env python3
"""Sinking-ending errors per call (development aid, not product): for each call in a
calls/ folder, the agent utterances whose end or falling flag disagrees with the truth.
usage: endings_detail.py [--cli PATH] [--calls DIR] [-v]"""
import argparse, glob, json, os, subprocess
ap = argparse.ArgumentParser()
ap.add_argument('--cli', default=os.environ.get('YUSU_CLI', '.build/release/yusu'))
ap.add_argument('--calls', default=os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev-robust/calls'))
ap.add_argument('-v', action='store_true')
a = ap.parse_args()
T = [0, 0, 0]
for tf in sorted(glob.glob(os.path.join(a.calls, '*.truth.json'))):
    t = json.load(open(tf))
    out = subprocess.run([a.cli, 'score', os.path.join(a.calls, t['file']), '--format', 'json',
                          '--agent-channel', str(t['channels']['agent'])], capture_output=True, text=True).stdout
    est = json.loads(out)['speakers']['agent'].get('utterances') or []
    used = set(); tp = fp = fn = 0; notes = []
    for u in t['events']['agent_utterances']:
        j = min(range(len(est)), key=lambda k: abs(est[k]['end_s'] - u['end_s']), default=None)
        hit = j is not None and j not in used and abs(est[j]['end_s'] - u['end_s']) <= 0.3
        if hit: used.add(j)
        ef = bool(est[j]['falling_ending']) if hit else False
        tf_ = u['ending'] == 'falling'
        tp += tf_ and ef; fn += tf_ and not ef; fp += ef and not tf_
        if tf_ != ef:
            near = est[j] if j is not None else None
            notes.append(f"  truth end {u['end_s']:.2f} {u['ending']:8s} est {'miss' if not hit else 'hit'} nearest end {near['end_s'] if near else None} falling {near.get('falling_ending') if near else None}")
    extra = [e for k, e in enumerate(est) if k not in used and e.get('falling_ending')]
    fp += len(extra)
    for e in extra: notes.append(f"  extra falling est end {e['end_s']:.2f}")
    T[0] += tp; T[1] += fp; T[2] += fn
    print(f"{t['file']:28s} tp {tp} fp {fp} fn {fn}")
    if a.v: print('\n'.join(notes))
p = T[0] / max(1, T[0] + T[1]); r = T[0] / max(1, T[0] + T[2])
print(f"F1 {2 * p * r / max(1e-9, p + r):.3f}  P {p:.3f} R {r:.3f}")
