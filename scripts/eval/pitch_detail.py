#!/usr/bin/env python3
"""Voicing misses / false alarms and gross errors on the dev pitch corpus (development aid)."""
import csv, io, os, subprocess, sys
import numpy as np
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
for part in ('pitch', 'pitch_tel'):
    root = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev', part)
    miss = fa = tot = gross = both = hi = lo = 0
    for f in sorted(os.listdir(root)):
        if not f.endswith('.wav'): continue
        ref = np.loadtxt(os.path.join(root, f[:-4] + '.f0ref')); rt = np.arange(len(ref)) * 0.015
        out = subprocess.run([cli, 'frames', os.path.join(root, f)], capture_output=True, text=True).stdout
        a = np.array([(float(r['time_s']), float(r['f0_hz'])) for r in csv.DictReader(io.StringIO(out)) if r['channel'] == '0'])
        idx = np.clip(np.searchsorted(a[:, 0], rt), 0, len(a) - 1); est = a[idx, 1]
        rv, ev = ref > 0, est > 0
        miss += np.sum(rv & ~ev); fa += np.sum(~rv & ev); tot += len(ref)
        b = rv & ev; both += b.sum(); r = est[b] / ref[b]
        gross += np.sum(np.abs(r - 1) > 0.2); hi += np.sum(r > 1.2); lo += np.sum(r < 0.8)
    print(f"{part}: VDE {100*(miss+fa)/tot:.2f}% (miss {100*miss/tot:.2f}%, false {100*fa/tot:.2f}%), GPE {100*gross/both:.2f}% (high {hi}, low {lo})")
