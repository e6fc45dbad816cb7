#!/usr/bin/env python3
"""Falling-ending decisions against truth, with end-time matching (development aid)."""
import json, os, subprocess, sys
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
root = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev/calls')
rows = []
unmatched_fp = []
for n in sorted(f for f in os.listdir(root) if f.endswith('.truth.json')):
    t = json.load(open(os.path.join(root, n)))
    d = json.loads(subprocess.run([cli, 'score', os.path.join(root, t['file']), '--format', 'json'], capture_output=True, text=True).stdout)
    est = d['speakers']['agent']['utterances']
    used = set()
    for u in t['events']['agent_utterances']:
        j = min(range(len(est)), key=lambda k: abs(est[k]['end_s'] - u['end_s']))
        ok = abs(est[j]['end_s'] - u['end_s']) <= 0.3
        if ok: used.add(j)
        e = est[j]
        rows.append((t['file'], u['end_s'], u['ending'], u['ending_drop_st'], ok, e['end_s'], e['falling_ending'], e['final_drop_st'], e['end_vs_median_st']))
    unmatched_fp += [(t['file'], e['start_s'], e['end_s'], e['final_drop_st'], e['end_vs_median_st'])
                     for k, e in enumerate(est) if k not in used and e['falling_ending']]
tp = sum(1 for r in rows if r[2] == 'falling' and r[4] and r[6]); fn = sum(1 for r in rows if r[2] == 'falling' and not (r[4] and r[6]))
fp = sum(1 for r in rows if r[2] != 'falling' and r[4] and r[6])
print('unmatched estimated utterances called falling:', len(unmatched_fp))
if '-v' in sys.argv:
    for u in unmatched_fp: print('   FP', u)
print('truth utterances', len(rows), 'unmatched end', sum(1 for r in rows if not r[4]), 'tp', tp, 'fn', fn, 'fp (matched)', fp)
if '-v' in sys.argv:
    for r in rows:
        flag = ''
        if r[2] == 'falling' and not (r[4] and r[6]): flag = 'FN'
        if r[2] != 'falling' and r[4] and r[6]: flag = 'FP'
        if flag or '-a' in sys.argv:
            print(f"{flag:2s} {r[0]} end {r[1]:7.2f} est_end {r[5]:7.2f} match={r[4]} truth={r[2]:9s} drop={r[3]:5.2f} | est fall={r[6]} drop={r[7]} end_vs_med={r[8]}")
