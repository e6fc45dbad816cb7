#!/usr/bin/env python3
"""Training material for the learned syllable stage: voices and lines made from the train set.

Every sentence of ../shared/corpus/train (AISHELL's two dev voices, 500 sentences, and the
3 clips of extra/) is turned into VARIANTS recordings, each a random chain (fixed seed):
  1. voice (p = 0.75): WORLD analysis/synthesis (pyworld: DIO + StoneMask, CheapTrick, D4C)
     with the spectral envelope warped in frequency (vocal-tract length x0.85-1.15) and F0
     scaled (x0.6-1.6, log-uniform);
  2. tempo (p = 0.7): sox `tempo` (WSOLA, pitch kept), x0.6-1.5;
  3. line, one of: clean 16 kHz; telephone band 8 kHz PCM; G.711 mu-law; A-law; AMR-NB
     12.2 kbit/s; hard compression; reverb (far field); babble of 3-5 other sentences at
     5-15 dB; street-like noise (brown noise and a distant talker) at 5-15 dB;
  (between 2 and 3, half of the time: the clip cut close around its speech, 0-0.3 s left;)
  4. gain: the peak set to -3...-35 dBFS.
Sentences holding Latin letters or words (16) are left out: their syllables are not their
characters. The truth of every variant is the sentence's Han character count.

Then `yusu frames --syllable-features` gives each variant's frame features (what the
product computes), kept as one .npz per variant with the count.

Usage: python3 scripts/train/make_material.py --cli .build/release/yusu --out /tmp/yusu-train
"""
import argparse, csv, json, os, random, subprocess, sys, tempfile
from multiprocessing import Pool
import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus", "train"))
LINES = ["clean", "tel", "ulaw", "alaw", "amr", "compressed", "reverb", "babble", "street"]


def load_sentences():
    rows = []
    for tsv in (os.path.join(TRAIN, "transcripts.tsv"), os.path.join(TRAIN, "extra", "transcripts.tsv")):
        base = os.path.dirname(tsv)
        with open(tsv, encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                if int(r["latin_tokens"]) > 0:
                    continue
                path = os.path.join(base, r["file"]) if not r["file"].startswith("extra/") else os.path.join(TRAIN, r["file"])
                rows.append({"path": path, "speaker": r["speaker"], "chars": int(r["han_chars"])})
    return rows


def read16k(path):
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    x = x[:, 0]
    if sr != 16000:
        with tempfile.TemporaryDirectory() as d:
            sf.write(os.path.join(d, "i.wav"), x, sr, subtype="FLOAT")
            subprocess.run(["sox", "-D", os.path.join(d, "i.wav"), "-r", "16000", os.path.join(d, "o.wav")], check=True)
            x, _ = sf.read(os.path.join(d, "o.wav"), dtype="float64")
    return x


def world_voice(x, vtl, f0_scale):
    import pyworld as pw
    fs = 16000
    f0, t = pw.dio(x, fs, f0_floor=60, f0_ceil=600, frame_period=5)
    f0 = pw.stonemask(x, f0, t, fs)
    sp = pw.cheaptrick(x, f0, t, fs)
    ap = pw.d4c(x, f0, t, fs)
    bins = sp.shape[1]
    k = np.arange(bins)
    # A longer tract (vtl > 1) puts every formant lower: the new envelope at bin k is the old at k * vtl.
    src = np.clip(k * vtl, 0, bins - 1)
    sp2 = np.stack([np.interp(src, k, row) for row in sp])
    ap2 = np.stack([np.interp(src, k, row) for row in ap])
    y = pw.synthesize(f0 * f0_scale, sp2, ap2, fs, frame_period=5)
    return y[: len(x)]


# Every sox call runs with -D: no automatic dither, whose noise is random, so that the same
# seed makes the same material.
def sox(x, sr, args, out_sr=None, in_type=None):
    with tempfile.TemporaryDirectory() as d:
        i, o = os.path.join(d, "i.wav"), os.path.join(d, "o.wav")
        sf.write(i, np.clip(x, -1, 1), sr, subtype="FLOAT")
        cmd = ["sox", "-V1", "-D", i] + ([] if out_sr is None else ["-r", str(out_sr)]) + [o] + args
        subprocess.run(cmd, check=True)
        y, sr2 = sf.read(o, dtype="float64")
    return y, sr2


def through(x, sr, fmt_args, ext):
    """Encodes with sox to a codec and back (mu-law, A-law, AMR-NB)."""
    with tempfile.TemporaryDirectory() as d:
        i, c, o = os.path.join(d, "i.wav"), os.path.join(d, "c." + ext), os.path.join(d, "o.wav")
        sf.write(i, np.clip(x, -1, 1), sr, subtype="FLOAT")
        subprocess.run(["sox", "-V1", "-D", i] + fmt_args + [c], check=True)
        subprocess.run(["sox", "-V1", "-D", c, "-b", "16", o], check=True)
        y, sr2 = sf.read(o, dtype="float64")
    return y, sr2


def trim(x, sr, rng):
    """Cuts the leading and trailing silence to a random margin of 0-0.3 s (0 half the time)."""
    hop = sr // 100
    n = len(x) // hop
    if n < 3:
        return x, 0.0
    db = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    active = np.nonzero(db > db.max() - 35)[0]
    margin = 0.0 if rng.random() < 0.5 else rng.uniform(0.01, 0.3)
    m = int(margin * sr)
    start, end = max(0, active[0] * hop - m), min(len(x), (active[-1] + 1) * hop + m)
    return x[start:end], margin


CODEC_LINES = ("tel", "ulaw", "alaw", "amr", "compressed", "reverb")


def codec_line(x, sr, line, rng):
    """One of CODEC_LINES: the telephone band (8 kHz), G.711 μ-law or A-law on it, AMR-NB
    12.2 kbit/s, hard compression, or reverb (sox's Freeverb mixed with the direct sound, a
    room of 60-100% size)."""
    if line in ("tel", "ulaw", "alaw"):
        x, sr = sox(x, sr, ["sinc", "300-3400"], out_sr=8000)
        if line != "tel":
            x, sr = through(x, sr, ["-e", "u-law" if line == "ulaw" else "a-law", "-b", "8", "-t", "wav"], "wav")
    elif line == "amr":
        x, sr = sox(x, sr, ["sinc", "200-3600"], out_sr=8000)
        x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
        x, sr = through(x, sr, ["-t", "amr-nb", "-C", "7"], "amr")
    elif line == "compressed":
        x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
        x, sr = sox(x, sr, ["compand", "0.005,0.08", "6:-80,-80,-50,-12,-20,-8,0,-6", "-3"])
    elif line == "reverb":
        x, sr = sox(x, sr, ["reverb", str(rng.randint(50, 100)), "50", str(rng.randint(60, 100)), "100", "20", str(rng.randint(0, 4))])
    return x, sr


def mix(x, noise, snr_db):
    if len(noise) < len(x):
        noise = np.tile(noise, int(np.ceil(len(x) / max(1, len(noise)))) + 1)
    noise = noise[: len(x)]
    px = np.mean(x[np.abs(x) > 0.1 * np.max(np.abs(x))] ** 2) if np.any(x) else 1e-9
    pn = np.mean(noise ** 2) + 1e-12
    return x + noise * np.sqrt(px / pn / 10 ** (snr_db / 10))


def make_variant(job):
    sentence, variant, seed, others, out = job
    rng = random.Random(seed)
    name = f"{os.path.splitext(os.path.basename(sentence['path']))[0]}__v{variant}"
    wav = os.path.join(out, "audio", name + ".wav")
    npz = os.path.join(out, "features", name + ".npz")
    meta = {"name": name, "speaker": sentence["speaker"], "chars": sentence["chars"], "variant": variant}
    if os.path.exists(npz) and os.path.exists(npz[:-4] + ".json"):
        return json.load(open(npz[:-4] + ".json"))
    x = read16k(sentence["path"])
    sr = 16000
    if variant > 0 and rng.random() < 0.75:
        meta["vtl"] = rng.uniform(0.85, 1.15)
        meta["f0"] = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
        x = world_voice(x, meta["vtl"], meta["f0"])
    if variant > 0 and rng.random() < 0.7:
        meta["tempo"] = rng.uniform(0.6, 1.5)
        x, sr = sox(x, sr, ["tempo", "-s", f"{meta['tempo']:.3f}"])
    if variant > 0 and TRIM_SHARE > 0 and rng.random() < TRIM_SHARE:
        # A clip cut close around its speech (as dev's sentences are, to about 30 ms): the
        # levels then see little or no background, which moves the speech decision and the
        # features measured against the floor.
        x, meta["trim_s"] = trim(x, sr, rng)
    line = "clean" if variant == 0 else rng.choice(LINES)
    meta["line"] = line
    if line in CODEC_LINES:
        x, sr = codec_line(x, sr, line, rng)
    elif line in ("babble", "street"):
        if line == "babble":
            talkers = [read16k(p) for p in rng.sample(others, rng.randint(3, 5))]
            n = max(len(x), max(len(t) for t in talkers))
            noise = np.zeros(n)
            for t in talkers:
                off = rng.randint(0, max(0, n - len(t)))
                noise[off: off + len(t)] += t / (np.std(t) + 1e-9)
        else:
            rs = np.random.default_rng(seed)
            brown = np.cumsum(rs.standard_normal(len(x)))
            brown = brown - np.convolve(brown, np.ones(801) / 801, mode="same")
            talker = read16k(rng.choice(others))
            talker, _ = sox(talker, 16000, ["sinc", "-2500", "reverb", "80"])
            noise = brown / (np.std(brown) + 1e-9) + np.resize(talker / (np.std(talker) + 1e-9), len(x)) * 0.3
        meta["snr_db"] = rng.uniform(5, 15)
        x = mix(x, noise, meta["snr_db"])
        x, sr = sox(x, sr, ["sinc", "300-3400"], out_sr=8000)
        x, sr = through(x, sr, ["-e", "u-law", "-b", "8", "-t", "wav"], "wav")
    peak = np.max(np.abs(x)) + 1e-9
    gain_db = -3.0 if variant == 0 else rng.uniform(-35, -3)
    x = x / peak * 10 ** (gain_db / 20)
    os.makedirs(os.path.dirname(wav), exist_ok=True)
    sf.write(wav, x, sr, subtype="PCM_16")
    return _features(wav, npz, meta, sentence["chars"])


def call_like(job):
    """One party's side of a call: 4-10 sentences of one voice with pauses of 0.2-3 s between
    them (longer than the 10 s a recording is judged whole, so its levels run as in a call),
    then a tempo and a line as for single sentences. Syllable times are kept when every
    sentence has them (ALIGN)."""
    k, seed, sentences, align, out = job
    rng = random.Random(seed)
    name = f"calllike{k:04d}__v0"
    npz = os.path.join(out, "features", name + ".npz")
    if os.path.exists(npz) and os.path.exists(npz[:-4] + ".json"):
        return json.load(open(npz[:-4] + ".json"))
    speaker = rng.choice(sorted({s["speaker"] for s in sentences if "/aishell/" in s["path"]}))
    chosen = rng.sample([s for s in sentences if s["speaker"] == speaker], rng.randint(4, 10))
    sr, parts, times, t, chars, timed = 16000, [], [], 0.0, 0, True
    for s in chosen:
        if parts:
            gap = rng.uniform(0.2, 3.0)
            parts.append(np.zeros(int(gap * sr)))
            t += gap
        x = read16k(s["path"])
        key = os.path.splitext(os.path.basename(s["path"]))[0]
        if key in align:
            times += [t + v for v in align[key]]
        else:
            timed = False
        parts.append(x)
        t += len(x) / sr
        chars += s["chars"]
    x = np.concatenate(parts)
    meta = {"name": name, "speaker": speaker, "chars": chars, "variant": 0, "sentences": len(chosen)}
    if rng.random() < 0.7:
        meta["tempo"] = rng.uniform(0.6, 1.5)
        x, sr = sox(x, sr, ["tempo", "-s", f"{meta['tempo']:.3f}"])
    line = rng.choice(LINES)
    meta["line"] = line
    if line in ("babble", "street"):
        # Their noise, simply: line noise 50-70 dB under the peak, then the μ-law line.
        x = x + np.random.default_rng(seed).standard_normal(len(x)) * 10 ** (rng.uniform(-70, -50) / 20) * np.max(np.abs(x))
        line = "ulaw"
    if line in CODEC_LINES:
        x, sr = codec_line(x, sr, line, rng)
    x = x / (np.max(np.abs(x)) + 1e-9) * 10 ** (rng.uniform(-35, -3) / 20)
    if timed:
        meta["nuclei_s"] = [round(v / meta.get("tempo", 1.0), 4) for v in times]
    wav = os.path.join(out, "audio", name + ".wav")
    os.makedirs(os.path.dirname(wav), exist_ok=True)
    sf.write(wav, x, sr, subtype="PCM_16")
    return _features(wav, npz, meta, chars)


def synthetic_train(job):
    """A syllable train of known count (as Tests/YusuTestSupport's Synth.syllableTrain): a
    harmonic tone with a wandering F0 under raised-cosine bursts, so that the network counts
    what the tests synthesise too. Its nuclei are the bursts' middles."""
    k, seed, out = job
    rng = random.Random(seed)
    name = f"synthetic{k:04d}__v0"
    npz = os.path.join(out, "features", name + ".npz")
    if os.path.exists(npz) and os.path.exists(npz[:-4] + ".json"):
        return json.load(open(npz[:-4] + ".json"))
    sr = rng.choice([8000, 16000])
    count = rng.randint(3, 30)
    syl, gap, lead = rng.uniform(0.1, 0.4), rng.uniform(0.03, 0.25), rng.uniform(0.1, 0.5)
    f0, first = rng.uniform(80, 320), rng.choice([1, 1, 2])
    total = 2 * lead + count * (syl + gap)
    t = np.arange(int(total * sr)) / sr
    f = f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = np.cumsum(2 * np.pi * f / sr)
    tone = np.zeros_like(t)
    h = first
    while h * f0 * 1.05 < min(3400, sr / 2 - 100):
        tone += np.sin(h * phase) / h
        h += 1
    x = np.zeros_like(t)
    nuclei = []
    for i in range(count):
        a = int((lead + i * (syl + gap)) * sr)
        n = int(syl * sr)
        env = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
        x[a:a + n] = tone[a:a + n] * env[: len(x[a:a + n])]
        nuclei.append(lead + i * (syl + gap) + syl / 2)
    x = x / (np.max(np.abs(x)) + 1e-9) * 10 ** (rng.uniform(-30, -6) / 20)
    x = x + np.random.default_rng(seed).standard_normal(len(x)) * 10 ** (rng.uniform(-75, -45) / 20)
    meta = {"name": name, "speaker": "synthetic", "chars": count, "variant": 0, "line": "synthetic",
            "nuclei_s": [round(v, 4) for v in nuclei]}
    wav = os.path.join(out, "audio", name + ".wav")
    os.makedirs(os.path.dirname(wav), exist_ok=True)
    sf.write(wav, x, sr, subtype="PCM_16")
    return _features(wav, npz, meta, count)


def frame_features(cli, path):
    """`yusu frames --syllable-features` of a recording: channel 0's features (frames x 15),
    or (None, the reason) when Yusu gave none."""
    frames = subprocess.run([cli, "frames", path, "--syllable-features"], capture_output=True, text=True)
    rows = [r for r in frames.stdout.strip().split("\n")[1:] if r]
    if frames.returncode not in (0, 1) or not rows:
        return None, frames.stderr.strip()[:200]
    a = np.array([[float(v) for v in r.split(",")] for r in rows], dtype=np.float32)
    return a[a[:, 1] == 0][:, 2:], None


def _features(wav, npz, meta, chars):
    a, error = frame_features(CLI, wav)
    if a is None:
        meta["error"] = error
        return meta
    os.makedirs(os.path.dirname(npz), exist_ok=True)
    np.savez_compressed(npz, x=a, chars=chars)
    with open(npz[:-4] + ".json", "w") as f:
        json.dump(meta, f)
    if not KEEP_AUDIO:
        os.remove(wav)
    return meta


def main():
    global CLI, KEEP_AUDIO, TRIM_SHARE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--out", default="/tmp/yusu-train")
    ap.add_argument("--variants", type=int, default=8, help="recordings per sentence (the first is the clean original)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep-audio", action="store_true")
    ap.add_argument("--first-variant", type=int, default=0, help="number the variants from here (more material, new seeds)")
    ap.add_argument("--calls", type=int, default=0, help="also this many call-like recordings (one voice, 4-10 sentences with pauses)")
    ap.add_argument("--align", help="align_whisper.py's syllable times, for the call-like recordings' frame targets")
    ap.add_argument("--synthetic", type=int, default=0, help="also this many synthetic syllable trains (known count and times)")
    ap.add_argument("--trim-share", type=float, default=0.5, help="share of made variants cut close around their speech")
    args = ap.parse_args()
    CLI, KEEP_AUDIO, TRIM_SHARE = os.path.abspath(args.cli), args.keep_audio, args.trim_share
    sentences = load_sentences()
    others = [s["path"] for s in sentences if "/aishell/" in s["path"]]
    jobs = []
    for i, s in enumerate(sentences):
        for v in range(args.first_variant, args.first_variant + args.variants):
            jobs.append((s, v, args.seed * 1_000_003 + i * 101 + v, others, args.out))
    # A random order (fixed seed): material cut short is still every voice and line.
    random.Random(args.seed).shuffle(jobs)
    os.makedirs(args.out, exist_ok=True)
    metas = []
    with Pool(args.jobs, initializer=_init, initargs=(CLI, KEEP_AUDIO, TRIM_SHARE)) as pool:
        for k, m in enumerate(pool.imap_unordered(make_variant, jobs, chunksize=4)):
            metas.append(m)
            if k % 200 == 0:
                print(f"{k}/{len(jobs)} variants", file=sys.stderr, flush=True)
        align = {os.path.splitext(k)[0]: v for k, v in (json.load(open(args.align)) if args.align else {}).items()}
        calls = [(k, args.seed * 104729 + k, sentences, align, args.out) for k in range(args.calls)]
        for k, m in enumerate(pool.imap_unordered(call_like, calls)):
            metas.append(m)
        for k, m in enumerate(pool.imap_unordered(synthetic_train, [(k, args.seed * 7919 + k, args.out) for k in range(args.synthetic)])):
            metas.append(m)
    bad = [m for m in metas if "error" in m]
    with open(os.path.join(args.out, "material.json"), "w") as f:
        json.dump(sorted(metas, key=lambda m: m["name"]), f, indent=0)
    print(f"{len(metas) - len(bad)} variants with features, {len(bad)} failed", file=sys.stderr)


def _init(cli, keep, trim_share):
    global CLI, KEEP_AUDIO, TRIM_SHARE
    CLI, KEEP_AUDIO, TRIM_SHARE = cli, keep, trim_share


if __name__ == "__main__":
    main()
