#!/usr/bin/env python3
"""Where pitch errors sit relative to voicing edges (development aid).

For each part of the pitch corpus: voicing errors by distance to the nearest reference
voicing boundary (reference frames of 15 ms), and the fine error's spread by distance of
the estimated frame to the nearest unvoiced frame (1 = first/last voiced frame).
Usage: scripts/eval/pitch_edges.py [path/to/yusu]
"""
import sys
import numpy as np
from pitch_corpus import files
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
for part in ('pitch', 'pitch_tel'):
    tot = 0; miss = {}; fa = {}; rows = []
    for _, ref, est, idx, a in files(cli, part):
        rv, ev = ref > 0, est > 0
        tot += len(ref)
        bounds = np.where(np.diff(rv.astype(int)) != 0)[0]
        for j in np.where(rv != ev)[0]:
            d = int(min(np.min(np.abs(bounds - j + 0.5)) + 0.5, 6)) if len(bounds) else 6
            h = miss if rv[j] else fa
            h[d] = h.get(d, 0) + 1
        voiced = a[:, 1] > 0
        dist = np.full(len(a), 99)
        last = -99
        for i in range(len(a)):
            if not voiced[i]: last = i
            dist[i] = i - last
        last = 10 ** 9
        for i in range(len(a) - 1, -1, -1):
            if not voiced[i]: last = i
            dist[i] = min(dist[i], last - i)
        for j in np.where(rv & ev)[0]:
            r = est[j] / ref[j]
            if abs(r - 1) <= 0.2: rows.append((dist[idx[j]], 1200 * np.log2(r)))
    print(f"{part}: voicing errors, % of frames, by distance to a reference boundary (15 ms frames; 6 = 6 or more)")
    print('   missed:', {k: round(100 * v / tot, 2) for k, v in sorted(miss.items())})
    print('   false: ', {k: round(100 * v / tot, 2) for k, v in sorted(fa.items())})
    r = np.array(rows); c = r[:, 1]; ss = ((c - c.mean()) ** 2).sum()
    print(f"   fine error {c.std():.1f} cents; by distance to the nearest unvoiced frame:")
    for d in (1, 2, 3, 4):
        m = r[:, 0] == d
        print(f"     {d}: {m.sum()} frames, {c[m].std():.1f} cents, {100 * ((c[m] - c.mean()) ** 2).sum() / ss:.0f}% of the variance")
    m = r[:, 0] >= 5
    print(f"     5+: {m.sum()} frames, {c[m].std():.1f} cents, {100 * ((c[m] - c.mean()) ** 2).sum() / ss:.0f}% of the variance")
