#!/usr/bin/env python3
"""Filled-pause precision/recall per half of the fillers corpus (development aid): tune on
one half (--files even), check on the other (--files odd); -v lists every miss and false
alarm. A filler matches when the centres are within 0.3 s (as evaluate.py does).
usage: fillers_detail.py [--cli PATH] [--files even|odd] [-v]"""
import argparse, json, os, subprocess
ap = argparse.ArgumentParser()
ap.add_argument('--cli', default=os.environ.get('YUSU_CLI', '.build/release/yusu'))
ap.add_argument('--root', default=os.path.join(os.path.dirname(__file__), '../../../shared/corpus/dev/fillers'))
ap.add_argument('--files', default='', help='even|odd (every other file) or first|second (halves of the list; fillers sit in every other file, so halves split them fairly)')
ap.add_argument('-v', action='store_true')
a = ap.parse_args()
truth = json.load(open(os.path.join(a.root, 'truth.json')))
if a.files in ('even', 'odd'):
    truth = truth[0 if a.files == 'even' else 1::2]
elif a.files in ('first', 'second'):
    truth = truth[:len(truth) // 2] if a.files == 'first' else truth[len(truth) // 2:]
tp = fp = fn = 0
errs = []
for item in truth:
    d = json.loads(subprocess.run([a.cli, 'score', os.path.join(a.root, item['file']), '--format', 'json'], capture_output=True, text=True).stdout)
    ag = d['speakers']['agent']
    est = [(f['start_s'] + f['end_s']) / 2 for f in ag['filled_pauses']]
    tru = [(f['start_s'] + f['end_s']) / 2 for f in item['fillers']]
    used = set(); hit = 0
    for t in tru:
        j = next((k for k, e in enumerate(est) if k not in used and abs(e - t) <= 0.3), None)
        if j is not None: used.add(j); hit += 1
        elif a.v: print(f"  miss  {item['file']} at {t:.2f}")
    for k, e in enumerate(est):
        if k not in used and a.v: print(f"  false {item['file']} at {e:.2f}")
    tp += hit; fn += len(tru) - hit; fp += len(est) - len(used)
    true_syl = item['syllables']   # fillers included, one syllable each
    errs.append(abs(ag['syllables'] - true_syl) / true_syl * 100)
p = tp / max(1, tp + fp); r = tp / max(1, tp + fn)
print(f"files {len(truth)}  precision {p:.3f}  recall {r:.3f}  (tp {tp} fp {fp} fn {fn})  syllables MAPE {sum(errs) / len(errs):.2f}%")
