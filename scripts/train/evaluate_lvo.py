#!/usr/bin/env python3
"""Leave-voice-out evaluation of the learned syllable stage, per voice, per condition.

Every sentence is counted by a model that never heard its voice: a dev voice (S0150,
S0252) by the model trained without it (train.py --exclude-speaker), every other voice by
the full model (which never heard any of them). Counts are the network's shares summed over
the speech of Yusu's own features (`yusu frames --syllable-features`), rounded: the
arithmetic of LearnedNucleusTracker (SyllableNetTests pins the Swift network to PyTorch's
to 1e-4). Filled pauses, which `yusu score` adds, are not in these counts.

Usage:
  python3 scripts/train/evaluate_lvo.py --cli .build/release/yusu --full /tmp/yusu-model/weights.bin \
      --held S0150=/tmp/yusu-model-no150/weights.bin --held S0252=/tmp/yusu-model-no252/weights.bin \
      [--tempos 0.6 0.8 1.2 1.35] [--robust]
"""
import argparse, json, os, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import steps, PAD, F  # noqa: E402
from export_swift import load  # noqa: E402
from make_material import frame_features  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))


def voice_of(name):
    m = re.search(r"(S\d{4})W", name) or re.search(r"(SSB\d{4})", name)
    return m.group(1) if m else "?"


def features(cli, path, cache):
    out = os.path.join(cache, re.sub(r"[^A-Za-z0-9_.-]", "_", path) + ".npy")
    if not os.path.exists(out):
        a, _ = frame_features(cli, path)
        np.save(out, a if a is not None else np.zeros((0, F), np.float32))
    return np.load(out)


def count(net, frames):
    if len(frames) == 0:
        return 0
    x, sp = steps(frames)
    padded = np.zeros((1, F, len(x) + 2 * PAD), np.float32)
    padded[0, :, PAD:PAD + len(x)] = x.T
    with torch.no_grad():
        shares = net(torch.from_numpy(padded))[0].numpy()
    return int(np.floor(float((shares * sp / 2).sum()) + 0.5))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--full", required=True)
    ap.add_argument("--held", action="append", default=[], help="VOICE=weights.bin of a model trained without VOICE")
    ap.add_argument("--tempos", type=float, nargs="*", default=[])
    ap.add_argument("--robust", action="store_true", help="also dev-robust/utterances, per condition")
    ap.add_argument("--cache", default="/tmp/yusu-lvo-cache")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    os.makedirs(a.cache, exist_ok=True)
    full, _ = load(a.full)
    held = {}
    for h in a.held:
        v, p = h.split("=", 1)
        held[v], _ = load(p)
    net_for = lambda voice: held.get(voice, full)
    items = []  # (set, condition, voice, path, truth)
    dev = os.path.join(CORPUS, "dev", "utterances")
    for t in json.load(open(os.path.join(dev, "truth.json"))):
        items.append(("dev", "8k" if t.get("telephone") else "16k", voice_of(t["file"]), os.path.join(dev, t["file"]), t["syllables"]))
    for tempo in a.tempos:
        for t in json.load(open(os.path.join(dev, "truth.json"))):
            out = os.path.join(a.cache, f"tempo{tempo}__{t['file']}")
            if not os.path.exists(out):
                subprocess.run(["sox", os.path.join(dev, t["file"]), out, "tempo", "-s", str(tempo)], check=True)
            items.append(("tempo", f"x{tempo}", voice_of(t["file"]), out, t["syllables"]))
    if a.robust:
        rob = os.path.join(CORPUS, "dev-robust", "utterances")
        for t in json.load(open(os.path.join(rob, "truth.json"))):
            cond = t["file"].split("__")[0]
            items.append(("robust", cond, voice_of(t["file"]), os.path.join(rob, t["file"]), t["syllables"]))
    with ThreadPoolExecutor(2) as ex:
        feats = list(ex.map(lambda it: features(cli, it[3], a.cache), items))
    rows = []
    for it, fr in zip(items, feats):
        c = count(net_for(it[2]), fr)
        rows.append({"set": it[0], "condition": it[1], "voice": it[2], "file": os.path.basename(it[3]), "truth": it[4], "count": c,
                     "err_pct": (c - it[4]) / it[4] * 100})

    def summary(sel):
        n = np.array([r["truth"] for r in sel]); c = np.array([r["count"] for r in sel])
        return {"sentences": len(sel), "mape_pct": float(np.mean(np.abs(c - n) / n) * 100), "bias_pct": float((c.sum() / n.sum() - 1) * 100)}

    report = {"by_voice": {}, "by_condition": {}}
    dev_rows = [r for r in rows if r["set"] == "dev"]
    for v in sorted({r["voice"] for r in dev_rows}):
        sel = [r for r in dev_rows if r["voice"] == v]
        report["by_voice"][v] = dict(summary(sel), mean_err_pct=float(np.mean([r["err_pct"] for r in sel])),
                                     model="held-out" if v in held else "full")
    for s in ("dev", "tempo", "robust"):
        for cond in sorted({r["condition"] for r in rows if r["set"] == s}):
            report["by_condition"][f"{s}.{cond}"] = summary([r for r in rows if r["set"] == s and r["condition"] == cond])
    print("voice      sentences  mean err  MAPE   model")
    for v, r in report["by_voice"].items():
        print(f"{v:10s} {r['sentences']:5d}   {r['mean_err_pct']:+6.1f}%  {r['mape_pct']:5.1f}%  {r['model']}")
    print("\nset.condition        sentences  MAPE    bias")
    for k, r in report["by_condition"].items():
        print(f"{k:20s} {r['sentences']:5d}   {r['mape_pct']:5.1f}%  {r['bias_pct']:+5.1f}%")
    if a.json_out:
        json.dump({"report": report, "rows": rows}, open(a.json_out, "w"), indent=1)


if __name__ == "__main__":
    main()
