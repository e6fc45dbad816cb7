#!/usr/bin/env python3
"""Voicing misses / false alarms and gross errors on the dev pitch corpus (development aid)."""
import sys
import numpy as np
from pitch_corpus import files
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
for part in ('pitch', 'pitch_tel'):
    miss = fa = tot = gross = both = hi = lo = 0
    for _, ref, est, _, _ in files(cli, part):
        rv, ev = ref > 0, est > 0
        miss += np.sum(rv & ~ev); fa += np.sum(~rv & ev); tot += len(ref)
        b = rv & ev; both += b.sum(); r = est[b] / ref[b]
        gross += np.sum(np.abs(r - 1) > 0.2); hi += np.sum(r > 1.2); lo += np.sum(r < 0.8)
    print(f"{part}: VDE {100*(miss+fa)/tot:.2f}% (miss {100*miss/tot:.2f}%, false {100*fa/tot:.2f}%), GPE {100*gross/both:.2f}% (high {hi}, low {lo})")
