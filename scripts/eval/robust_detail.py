#!/usr/bin/env python3
"""Per-condition syllable errors on a robustness corpus (development aid, not product).

usage: robust_detail.py [--cli PATH] [--corpus DIR] [--cond a,b] [--files even|odd] [-v]
Runs in parallel on 2 workers; YUSU_DEV passes through for dev-tuning builds.
--files even/odd keeps every other source sentence, to tune on one half and check the other.
"""
import argparse, json, os, subprocess, statistics
from concurrent.futures import ThreadPoolExecutor
ap = argparse.ArgumentParser()
ap.add_argument('--cli', default=os.environ.get('YUSU_CLI', '.build/release/yusu'))
ap.add_argument('--corpus', default=os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev-robust/utterances'))
ap.add_argument('--cond', default='')
ap.add_argument('--files', default='')
ap.add_argument('-v', action='store_true')
a = ap.parse_args()
truth = json.load(open(os.path.join(a.corpus, 'truth.json')))
if a.cond:
    truth = [t for t in truth if t.get('condition', '') in a.cond.split(',')]
if a.files:
    srcs = sorted({t.get('source', t['file']) for t in truth})
    keep = set(srcs[0 if a.files == 'even' else 1::2])
    truth = [t for t in truth if t.get('source', t['file']) in keep]
def run(item):
    p = subprocess.run([a.cli, 'score', os.path.join(a.corpus, item['file']), '--format', 'json'], capture_output=True, text=True)
    if p.returncode != 0:
        return item, 0, p.stderr.strip()[-100:]
    return item, json.loads(p.stdout)['speakers']['agent']['syllables'], ''
with ThreadPoolExecutor(2) as ex:
    rows = list(ex.map(run, truth))
by = {}
est_sum = true_sum = 0
for item, est, err in rows:
    e = 100 * (est - item['syllables']) / item['syllables']
    by.setdefault(item.get('condition', 'clean'), []).append(e)
    est_sum += est; true_sum += item['syllables']
    if a.v:
        print(f"{item['file']:40s} true={item['syllables']:3d} est={est:3d} err={e:6.1f}% {err}")
for c, v in sorted(by.items()):
    print(f"{c:12s} MAPE {statistics.mean(map(abs, v)):6.2f}  bias {statistics.mean(v):6.2f}  worst {max(v, key=abs):6.1f}")
print(f"overall bias {100 * (est_sum - true_sum) / true_sum:.2f}%  refused {sum(1 for r in rows if r[2])}")
