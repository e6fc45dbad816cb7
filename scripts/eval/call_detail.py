#!/usr/bin/env python3
"""Per-call agent syllables by truth utterance, and VAD confusion (development aid)."""
import csv, io, json, os, subprocess, sys
import numpy as np
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
root = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev/calls')
only = sys.argv[2] if len(sys.argv) > 2 else None
for n in sorted(f for f in os.listdir(root) if f.endswith('.truth.json')):
    if only and only not in n: continue
    t = json.load(open(os.path.join(root, n)))
    path = os.path.join(root, t['file'])
    d = json.loads(subprocess.run([cli, 'score', path, '--format', 'json'], capture_output=True, text=True).stdout)
    ag = d['speakers']['agent']; ev = t['events']
    est_u = ag['utterances']
    over = under = 0
    rows = []
    for u in ev['agent_utterances']:
        s = sum(e['syllables'] for e in est_u if e['end_s'] > u['start_s'] and e['start_s'] < u['end_s'])
        rows.append((u['start_s'], u['end_s'], u['chars'], s))
    tot_t = sum(r[2] for r in rows); tot_e = sum(r[3] for r in rows)
    outside = ag['syllables'] - tot_e
    cfg = t['config']
    print(f"{t['file']} tempo={cfg['agent_tempo']} snr={cfg['snr_db']} {cfg['subtype']} truth={t['summary']['agent']['syllables']} est={ag['syllables']} in-utts={tot_e}/{tot_t} outside={outside} "
          f"talk={ag['talk_time_s']}/{t['summary']['agent']['talk_time_s']} phon={ag['phonation_time_s']}/{t['summary']['agent']['phonation_time_s']}")
    if '-v' in sys.argv:
        for r in rows: print(f"   {r[0]:7.2f}-{r[1]:7.2f} chars={r[2]:3d} est={r[3]:3d}")
