#!/usr/bin/env python3
"""Per-call syllable errors of the dev calls as archived in MP3 ([12]): each call as WAV, as
32 kbit/s and as 16 kbit/s MP3 (sox -C, libmp3lame; stereo, written at 16 kHz), scored by
`yusu score`; agent and customer syllables, agent rate and level against the truth, and
the times printed: the median offset of the agent's utterance starts from the truth's (an
undone codec delay shows here) and the call duration's error.

    python3 scripts/eval/mp3_calls.py CLI [--corpus ../shared/corpus/dev/calls]
"""
import argparse, json, subprocess, glob, os, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("cli")
ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus", "dev", "calls"))
a = ap.parse_args()
tmp = tempfile.mkdtemp(prefix="yusu-mp3-")
stats = {"wav": [], "mp3-32": [], "mp3-16": []}
for wav in sorted(glob.glob(os.path.join(a.corpus, "call_*.wav"))):
    b = os.path.basename(wav)[:-4]
    truth = json.load(open(os.path.join(a.corpus, f"{b}.truth.json")))
    t = truth["summary"]
    starts = [u["start_s"] for u in truth["events"]["agent_utterances"]]
    out = [b]
    sources = [("wav", wav)]
    for rate in (32, 16):
        mp3 = os.path.join(tmp, f"{b}_{rate}.mp3")
        subprocess.run(["sox", wav, "-C", str(rate), mp3], check=True, capture_output=True)
        sources.append((f"mp3-{rate}", mp3))
    for name, src in sources:
        r = subprocess.run([a.cli, "score", src, "--format", "json"], capture_output=True, text=True, env=os.environ)
        if r.returncode != 0:
            out.append("ERR " + r.stderr.strip()[:60]); continue
        d = json.loads(r.stdout)
        ag, cu = d["speakers"]["agent"], d["speakers"]["customer"]
        ea = 100 * (ag["syllables"] - t["agent"]["syllables"]) / t["agent"]["syllables"]
        ec = 100 * (cu["syllables"] - t["customer"]["syllables"]) / t["customer"]["syllables"]
        er = 100 * (ag["speech_rate_cpm"] - t["agent"]["speech_rate_cpm"]) / t["agent"]["speech_rate_cpm"]
        el = ag["active_level_dbov"] - t["agent"]["level_dbov"]
        offsets = sorted(u["start_s"] - start for u in ag["utterances"] for start in starts if abs(u["start_s"] - start) < 0.3)
        off_ms = 1000 * offsets[len(offsets) // 2] if offsets else float("nan")
        ed = d["duration_s"] - t["duration_s"]
        stats[name].append((ea, ec, off_ms, ed))
        out.append(f"{name}: agent {ea:+5.1f}% customer {ec:+5.1f}% rate {er:+5.1f}% level {el:+.2f} dB starts {off_ms:+.0f} ms duration {ed:+.3f} s")
    print(" | ".join(out))
for name, col in stats.items():
    if col:
        print(f"{name}: agent mean |e| {sum(abs(c[0]) for c in col) / len(col):.1f}%, worst {max(abs(c[0]) for c in col):.1f}%; "
              f"customer mean |e| {sum(abs(c[1]) for c in col) / len(col):.1f}%, worst {max(abs(c[1]) for c in col):.1f}%; "
              f"start offset {min(c[2] for c in col):+.0f}..{max(c[2] for c in col):+.0f} ms; "
              f"duration error {min(c[3] for c in col):+.3f}..{max(c[3] for c in col):+.3f} s")
