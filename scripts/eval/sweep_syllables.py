#!/usr/bin/env python3
"""Sweep YUSU_DEV settings: utterance MAPE/bias and per-call agent syllable errors (development aid)."""
import json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
cli = os.environ.get('YUSU_CLI', '.build-dev/release/yusu')
base = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev')
truth = json.load(open(os.path.join(base, 'utterances/truth.json')))
calls = sorted(f for f in os.listdir(os.path.join(base, 'calls')) if f.endswith('.truth.json'))
def score(path, env):
    return json.loads(subprocess.run([cli, 'score', path, '--format', 'json'], capture_output=True, text=True, env=env).stdout)
for cfg in sys.argv[1:]:
    env = dict(os.environ, YUSU_DEV=cfg)
    with ThreadPoolExecutor(2) as ex:
        utt = list(ex.map(lambda it: (it, score(os.path.join(base, 'utterances', it['file']), env)['speakers']['agent']['syllables']), truth))
        cl = list(ex.map(lambda n: (json.load(open(os.path.join(base, 'calls', n))), n), calls))
        cres = list(ex.map(lambda tn: (tn[0], score(os.path.join(base, 'calls', tn[0]['file']), env)), cl))
    e = {True: [], False: []}
    for it, est in utt: e[it['telephone']].append(100 * (est - it['syllables']) / it['syllables'])
    bias = 100 * (sum(x for _, x in utt) - sum(it['syllables'] for it, _ in utt)) / sum(it['syllables'] for it, _ in utt)
    ce = [round(100 * (d['speakers']['agent']['syllables'] - t['summary']['agent']['syllables']) / t['summary']['agent']['syllables'], 1) for t, d in cres]
    print(f"{cfg:40s} utt16 {sum(map(abs, e[False]))/len(e[False]):5.2f} utt8 {sum(map(abs, e[True]))/len(e[True]):5.2f} bias {bias:5.2f} calls {ce}", flush=True)
