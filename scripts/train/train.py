#!/usr/bin/env python3
"""Trains SyllableNet (Sources/YusuSignal/SyllableNet.swift) on the material of make_material.py.

The network sees Yusu's own frame features (15 per 10 ms frame, SyllableFeatures.swift),
averaged over pairs of frames into 20 ms steps, padded with 15 zero steps on either side
as the Swift stream does, and gives each step a share in 0..1. The count of a recording is
the sum of its steps' shares, each weighed by how many of its two frames are speech (0, 1/2
or 1): exactly what LearnedNucleusTracker sums. The loss is (count - truth)^2 / truth per
recording: SylNet's idea (train on counts alone), no frame labels.

Usage:
  python3 scripts/train/train.py --material /tmp/yusu-train --out /tmp/yusu-model
  python3 scripts/train/train.py ... --exclude-speaker S0150   # a leave-voice-out model
Writes OUT/weights.bin (little-endian Float32 in SyllableNet's order) and OUT/report.json.
"""
import argparse, glob, json, os, random, sys, time
import numpy as np
import torch
import torch.nn as nn

F, C, DIL = 15, 16, (1, 2, 4, 8)
PAD = sum(DIL)


class Net(nn.Module):
    def __init__(self, C=C):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(F if i == 0 else C, C, 3, dilation=d) for i, d in enumerate(DIL)])
        self.out = nn.Conv1d(C, 1, 1)

    def forward(self, x):  # x: B x F x (S + 2 PAD)
        h = torch.relu(self.convs[0](x))
        for conv, d in zip(self.convs[1:], DIL[1:]):
            h = torch.relu(conv(h)) + h[:, :, d:-d]
        return torch.sigmoid(self.out(h))[:, 0, :]  # B x S

    def flat(self):
        parts = []
        for conv in self.convs:
            parts += [conv.weight.detach().numpy().ravel(), conv.bias.detach().numpy().ravel()]
        parts += [self.out.weight.detach().numpy().ravel(), self.out.bias.detach().numpy().ravel()]
        return np.concatenate(parts).astype("<f4")


BRIDGE_FRAMES = 50  # DeliveryConfig.utterancePauseSeconds (0.5 s) at 10 ms


def in_utterance(speech, bridge=BRIDGE_FRAMES):
    """Frames inside an utterance: speech, and pauses shorter than `bridge` between speech."""
    speech = speech > 0.5
    inside = speech.copy()
    idx = np.nonzero(speech)[0]
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= bridge:
            inside[a + 1:b] = True
    return inside


def steps(frames):
    """Frames (T x 15) -> steps (S x 15) and, per step, how many of its two frames lie in an
    utterance (0, 1, 2): the weight LearnedNucleusTracker gives the step's share is that / 2."""
    t = len(frames)
    even = t - t % 2
    inside = in_utterance(frames[:, 13]).astype(np.float32)
    x = 0.5 * (frames[0:even:2] + frames[1:even:2])
    sp = inside[0:even:2] + inside[1:even:2]
    if t % 2:
        x = np.vstack([x, frames[-1:]])
        sp = np.append(sp, inside[-1])
    return x.astype(np.float32), sp.astype(np.float32)


def nucleus_density(times, count, sigma_s=0.04):
    """Steps' target shares: a Gaussian of sigma_s around each nucleus time, each summing to 1."""
    centre = 0.01 + 0.02 * np.arange(count)
    d = np.zeros(count, np.float32)
    for t in times:
        g = np.exp(-0.5 * ((centre - t) / sigma_s) ** 2)
        if g.sum() > 1e-6:
            d += (g / g.sum()).astype(np.float32)
    return d


def load(material, exclude, align=None):
    # Each variant's metadata lies beside its features (material.json lists them all once
    # make_material.py has finished; the files alone serve for material cut short).
    metas = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(material, "features", "*.json")))]
    items = []
    for m in metas:
        if "error" in m or m["speaker"] in exclude:
            continue
        z = np.load(os.path.join(material, "features", m["name"] + ".npz"))
        x, sp = steps(z["x"])
        if sp.sum() == 0:
            continue
        item = {"x": x, "sp": sp, "n": float(z["chars"]), "speaker": m["speaker"], "name": m["name"], "meta": m}
        # Frame targets where the recogniser's times hold: a variant neither cut (its start
        # unknown) nor made by tempo alone is timed as the original, stretched by 1 / tempo.
        times = m.get("nuclei_s") or (align or {}).get(m["name"].split("__")[0])
        if times is not None and "trim_s" not in m and m.get("line") != "unknown":
            item["d"] = nucleus_density([t / m.get("tempo", 1.0) for t in times], len(x))
        items.append(item)
    return items


def batches(items, size, rng):
    order = sorted(range(len(items)), key=lambda i: len(items[i]["x"]) + rng.random() * 20)
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    for g in groups:
        longest = max(len(items[i]["x"]) for i in g)
        x = np.zeros((len(g), F, longest + 2 * PAD), np.float32)
        sp = np.zeros((len(g), longest), np.float32)
        d = np.zeros((len(g), longest), np.float32)
        timed = np.zeros(len(g), np.float32)
        n = np.zeros(len(g), np.float32)
        for k, i in enumerate(g):
            it = items[i]
            x[k, :, PAD:PAD + len(it["x"])] = it["x"].T
            sp[k, :len(it["sp"])] = it["sp"]
            if "d" in it:
                d[k, :len(it["d"])] = it["d"]
                timed[k] = 1
            n[k] = it["n"]
        yield torch.from_numpy(x), torch.from_numpy(sp), torch.from_numpy(n), g, torch.from_numpy(d), torch.from_numpy(timed)


def counts(net, items):
    out = np.zeros(len(items))
    with torch.no_grad():
        for x, sp, n, g, _, _ in batches(items, 64, random.Random(0)):
            pred = (net(x) * sp / 2).sum(1).numpy()
            out[g] = pred
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--material", default="/tmp/yusu-train")
    ap.add_argument("--out", default="/tmp/yusu-model")
    ap.add_argument("--exclude-speaker", action="append", default=[])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels", type=int, default=C, help="channels of every layer")
    ap.add_argument("--align", help="align_whisper.py's nucleus times: frame targets beside the counts")
    ap.add_argument("--frame-weight", type=float, default=0.0, help="weight of the frame targets' loss")
    ap.add_argument("--synthetic-share", type=float, default=1.0, help="share of the synthetic syllable trains used")
    ap.add_argument("--drop-features", type=int, nargs="*", default=[], help="features set to 0 (ablation)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    align = json.load(open(args.align)) if args.align else None
    align = {os.path.splitext(k)[0]: v for k, v in (align or {}).items()}
    items = load(args.material, set(args.exclude_speaker), align)
    synthetic = [it for it in items if it["speaker"] == "synthetic"]
    keep = set(id(it) for it in random.Random(args.seed).sample(synthetic, int(len(synthetic) * args.synthetic_share)))
    items = [it for it in items if it["speaker"] != "synthetic" or id(it) in keep]
    for it in items:
        it["x"][:, args.drop_features] = 0
    print(f"{sum('d' in it for it in items)} recordings with frame targets", file=sys.stderr)
    # 10% of the sentences (every variant of each) are kept aside to choose the epoch.
    sentences = sorted({it["name"].split("__")[0] for it in items})
    held = set(random.Random(args.seed).sample(sentences, max(1, len(sentences) // 10)))
    train = [it for it in items if it["name"].split("__")[0] not in held]
    val = [it for it in items if it["name"].split("__")[0] in held]
    print(f"{len(train)} training recordings, {len(val)} kept aside; speakers {sorted({i['speaker'] for i in items})}", file=sys.stderr)
    net = Net(args.channels)
    with torch.no_grad():
        net.out.bias.fill_(-3.0)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    best, best_state, start = 1e9, None, time.time()
    for epoch in range(args.epochs):
        net.train()
        total = 0.0
        for x, sp, n, _, d, timed in batches(train, 32, rng):
            shares = net(x) * sp / 2
            pred = shares.sum(1)
            loss = ((pred - n) ** 2 / n).mean()
            if args.frame_weight > 0:
                # Where the recogniser timed the syllables: the shares should gather there.
                loss = loss + args.frame_weight * (((shares - d) ** 2).sum(1) * timed).sum() / max(1.0, float(timed.sum()))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(n)
        sched.step()
        net.eval()
        vc = counts(net, val)
        vn = np.array([it["n"] for it in val])
        mape = float(np.mean(np.abs(vc - vn) / vn) * 100)
        bias = float((vc.sum() / vn.sum() - 1) * 100)
        if mape < best:
            best, best_state = mape, {k: v.clone() for k, v in net.state_dict().items()}
        print(f"epoch {epoch + 1}: train loss {total / len(train):.3f}, kept-aside MAPE {mape:.2f}% bias {bias:+.2f}% ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)
    net.load_state_dict(best_state)
    with torch.no_grad():
        # Dropped features were 0 in training: their weights must not see them at run time.
        net.convs[0].weight[:, args.drop_features, :] = 0
    os.makedirs(args.out, exist_ok=True)
    w = net.flat()
    w.tofile(os.path.join(args.out, "weights.bin"))
    # Per-condition errors on the kept-aside sentences.
    vc = counts(net, val)
    report = {"kept_aside_mape_pct": best, "excluded": args.exclude_speaker, "epochs": args.epochs, "seed": args.seed,
              "frame_weight": args.frame_weight, "drop_features": args.drop_features,
              "weights": int(w.size), "by_line": {}}
    for line in sorted({it["meta"].get("line") for it in val}):
        idx = [i for i, it in enumerate(val) if it["meta"].get("line") == line]
        n = np.array([val[i]["n"] for i in idx])
        report["by_line"][line] = {"mape_pct": float(np.mean(np.abs(vc[idx] - n) / n) * 100),
                                   "bias_pct": float((vc[idx].sum() / n.sum() - 1) * 100), "recordings": len(idx)}
    json.dump(report, open(os.path.join(args.out, "report.json"), "w"), indent=1)
    print(json.dumps(report, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
