#!/usr/bin/env python3
"""Syllable counts and phonation time under tempo: the dev sentences time-stretched by sox
`tempo` (pitch kept) from x0.6 to x1.35 must count the same syllables, and their phonation
time must scale as 1/tempo (issue [12]).

    python3 scripts/eval/tempo_sweep.py --cli .build/release/yusu [--corpus ../shared/corpus/dev/utterances] [--tempos 0.6 0.8 1 1.2 1.35]

Prints, per tempo: the pooled syllable bias against the truth, the mean absolute error per
sentence, the count's change against x1.0 (pooled), and phonation time x tempo against
x1.0 (1.0 = it scales exactly).
"""
import argparse, json, os, subprocess, tempfile
from concurrent.futures import ThreadPoolExecutor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus", "dev", "utterances"))
    ap.add_argument("--tempos", type=float, nargs="+", default=[0.6, 0.8, 1.0, 1.2, 1.35])
    ap.add_argument("--only", choices=["16k", "8k", "all"], default="all")
    a = ap.parse_args()
    truth = json.load(open(os.path.join(a.corpus, "truth.json")))
    if a.only != "all":
        truth = [t for t in truth if t.get("telephone", False) == (a.only == "8k")]
    tmp = tempfile.mkdtemp(prefix="yusu-tempo-")

    def one(args):
        t, tempo = args
        src = os.path.join(a.corpus, t["file"])
        path = src
        if tempo != 1.0:
            path = os.path.join(tmp, f"{tempo}_{t['file']}")
            # Keep the file's own encoding (μ-law 8 kHz or 16-bit 16 kHz).
            subprocess.run(["sox", src, path, "tempo", "-s", str(tempo)], check=True, capture_output=True)
        r = subprocess.run([a.cli, "score", path, "--format", "json"], capture_output=True, text=True)
        if r.returncode != 0:
            return t, tempo, None, None
        d = json.loads(r.stdout)["speakers"]["agent"]
        return t, tempo, d["syllables"], d["phonation_time_s"]

    jobs = [(t, tempo) for tempo in a.tempos for t in truth]
    with ThreadPoolExecutor(2) as ex:
        res = list(ex.map(one, jobs))
    base = {t["file"]: (s, p) for t, tempo, s, p in res if tempo == 1.0}
    print(f"{len(truth)} sentences; sox tempo -s (speech, pitch kept)")
    print(f"{'tempo':>6s} {'bias %':>7s} {'MAPE %':>7s} {'count vs x1 %':>14s} {'phonation x tempo / x1':>23s} {'refused':>8s}")
    for tempo in a.tempos:
        rows = [(t, s, p) for t, tp, s, p in res if tp == tempo]
        ok = [(t, s, p) for t, s, p in rows if s is not None and base.get(t["file"], (None, None))[0] is not None]
        true_total = sum(t["syllables"] for t, s, p in ok)
        est_total = sum(s for t, s, p in ok)
        mape = sum(abs(s - t["syllables"]) / t["syllables"] for t, s, p in ok) / max(1, len(ok)) * 100
        base_total = sum(base[t["file"]][0] for t, s, p in ok)
        phon = sum(p * tempo for t, s, p in ok) / max(1e-9, sum(base[t["file"]][1] for t, s, p in ok))
        print(f"{tempo:6.2f} {100 * (est_total - true_total) / true_total:+7.1f} {mape:7.1f} {100 * (est_total - base_total) / base_total:+14.1f} {phon:23.3f} {len(rows) - len(ok):8d}")


if __name__ == "__main__":
    main()
