#!/usr/bin/env python3
"""Per-sentence syllable counts vs truth on the dev corpus (development aid, not product)."""
import json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
cli = sys.argv[1] if len(sys.argv) > 1 else '.build/release/yusu'
root = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev/utterances')
truth = json.load(open(os.path.join(root, 'truth.json')))
def run(item):
    out = subprocess.run([cli, 'score', os.path.join(root, item['file']), '--format', 'json'], capture_output=True, text=True).stdout
    d = json.loads(out)
    a = d['speakers']['agent']
    return item, a['syllables'], a['phonation_time_s'], len(a['utterances'])
with ThreadPoolExecutor(2) as ex:
    rows = list(ex.map(run, truth))
errs = {True: [], False: []}
for item, est, ph, nu in rows:
    e = 100 * (est - item['syllables']) / item['syllables']
    errs[item['telephone']].append(e)
    if '-v' in sys.argv:
        print(f"{item['file']:28s} tel={int(item['telephone'])} true={item['syllables']:3d} est={est:3d} err={e:6.1f}% speech={item['speech_s']:.2f} phon={item['phonation_s']:.2f}/{ph:.2f} utts={nu}")
import statistics as st
for k in (False, True):
    print('tel' if k else '16k', 'MAPE', round(statistics_mean := sum(abs(x) for x in errs[k]) / len(errs[k]), 2), 'bias', round(sum(errs[k]) / len(errs[k]), 2))
