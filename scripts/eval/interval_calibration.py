#!/usr/bin/env python3
"""Per-call relative errors of Yusu's rates and counts against the corpus truth, and the
90% interval half-widths they imply: the numbers behind `MeasureUncertainty` (Sources/
YusuDelivery/Uncertainty.swift).

    python3 scripts/eval/interval_calibration.py --cli .build/release/yusu \
        --calibrate ../shared/corpus/dev/calls --check ../shared/corpus/dev-robust/calls ../shared/corpus/dev-listening/calls

For each measure (agent syllables, speech rate, articulation rate; customer syllables) it
prints the signed errors on the calibration calls, the half-width (the 90th percentile of
|error|, with a small-sample inflation: with n calls the k-th largest of n errors bounds
the 90% quantile only loosely, so the half-width is the largest error times (n+1)/n when n
< 10), and the coverage of that interval on the check calls.
"""
import argparse, glob, json, math, os, subprocess
from concurrent.futures import ThreadPoolExecutor

MEASURES = [("agent", "syllables"), ("agent", "speech_rate_cpm"), ("agent", "articulation_rate_cpm"), ("customer", "syllables")]


def errors(cli, folder):
    files = sorted(glob.glob(os.path.join(folder, "*.wav")) + glob.glob(os.path.join(folder, "*.flac")))
    def one(f):
        t = json.load(open(f.rsplit(".", 1)[0] + ".truth.json"))
        ch = t["channels"]["agent"]
        doc = json.loads(subprocess.run([cli, "score", f, "--format", "json", "--agent-channel", str(ch)], capture_output=True, text=True).stdout)
        out = {}
        for party, key in MEASURES:
            truth = t["summary"].get(party, {}).get(key)
            est = (doc["speakers"].get(party) or {}).get(key)
            if truth and est is not None:
                out[(party, key)] = (est - truth) / truth * 100
        out["_n"] = {"agent": t["summary"]["agent"].get("syllables"), "customer": t["summary"].get("customer", {}).get("syllables")}
        return os.path.basename(f), out, doc
    with ThreadPoolExecutor(2) as ex:
        return list(ex.map(one, files))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--calibrate", nargs="+", required=True)
    ap.add_argument("--check", nargs="*", default=[])
    a = ap.parse_args()
    cal = [r for d in a.calibrate for r in errors(a.cli, d)]
    chk = [r for d in a.check for r in errors(a.cli, d)]
    for m in MEASURES:
        e = [r[1][m] for r in cal if m in r[1]]
        if not e:
            continue
        # Systematic part: what the per-call errors hold beyond the counting noise k / N
        # (k: per-syllable error variance of single sentences, dev/utterances).
        ns = [r[1]["_n"][m[0]] for r in cal if m in r[1]]
        k = 0.125
        ms = sum((x / 100) ** 2 for x in e) / len(e)
        noise = sum(k / n for n in ns) / len(ns)
        sys_sd = math.sqrt(max(0.0, ms - noise)) * 100
        print(f"{m[0]:8s} {m[1]:22s} rms {math.sqrt(ms) * 100:.2f}% counting noise {math.sqrt(noise) * 100:.2f}% -> systematic sd {sys_sd:.2f}%")
        mags = sorted(abs(x) for x in e)
        n = len(mags)
        q = mags[min(n - 1, math.ceil(0.9 * n) - 1)]
        half = q * (n + 1) / n if n < 10 else q
        print(f"{m[0]:8s} {m[1]:22s} calibration n={n:2d} signed {['%+.1f' % x for x in e]} -> half-width {half:.1f}%")
        # Coverage on the check calls of the interval the product prints (its own half-width).
        inside = []
        for name, errs, doc in chk:
            if m not in errs:
                continue
            sp = doc["speakers"].get(m[0]) or {}
            iv = sp.get(m[1] + "_90")
            if iv:
                est = sp[m[1]]
                truth = est / (1 + errs[m] / 100)
                inside.append(iv[0] <= truth <= iv[1])
        if inside:
            print(f"{'':31s} check n={len(inside):2d}: the printed 90% interval holds the truth in {sum(inside)} ({100 * sum(inside) / len(inside):.0f}%)")


if __name__ == "__main__":
    main()
