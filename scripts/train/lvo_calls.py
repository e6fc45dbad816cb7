#!/usr/bin/env python3
"""Leave-voice-out per call: each party's syllables and speech rate counted by the real
pipeline (`yusu score`) with a model that never heard that party's voice.

Needs a dev build (it reads YUSU_SYLLABLE_WEIGHTS and YUSU_DEV):
  swift build -c release --scratch-path .build-dev -Xswiftc -DYUSU_DEV_TUNING
  python3 scripts/train/lvo_calls.py --cli .build-dev/release/yusu \
      --held S0150=/tmp/yusu-model/no150/weights.bin --held S0252=/tmp/yusu-model/no252/weights.bin \
      ../shared/corpus/dev/calls ../shared/corpus/dev-robust/calls
With --peaks, the hand-set counter of [12] instead (YUSU_DEV=peaks=1), for comparison.
"""
import argparse, glob, json, os, re, subprocess
from concurrent.futures import ThreadPoolExecutor


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=".build-dev/release/yusu")
    ap.add_argument("--held", action="append", default=[])
    ap.add_argument("--peaks", action="store_true")
    ap.add_argument("folders", nargs="+")
    a = ap.parse_args()
    held = dict(h.split("=", 1) for h in a.held)
    jobs = []
    for folder in a.folders:
        for f in sorted(glob.glob(os.path.join(folder, "*.wav")) + glob.glob(os.path.join(folder, "*.flac"))):
            t = json.load(open(f.rsplit(".", 1)[0] + ".truth.json"))
            for party in ("agent", "customer"):
                utts = t["events"].get(f"{party}_utterances") or []
                if not utts or not t["summary"].get(party, {}).get("syllables"):
                    continue
                voice = re.search(r"S\d{4}", utts[0]["source"]).group(0)
                jobs.append((f, t, party, voice))

    def one(job):
        f, t, party, voice = job
        env = dict(os.environ)
        if a.peaks:
            env["YUSU_DEV"] = "peaks=1"
        elif voice in held:
            env["YUSU_SYLLABLE_WEIGHTS"] = held[voice]
        out = subprocess.run([a.cli, "score", f, "--format", "json", "--agent-channel", str(t["channels"]["agent"])],
                             capture_output=True, text=True, env=env).stdout
        doc = json.loads(out)["speakers"][party]
        truth = t["summary"][party]
        r = {"call": os.path.basename(f), "party": party, "voice": voice,
             "syllables_err_pct": (doc["syllables"] - truth["syllables"]) / truth["syllables"] * 100}
        if "speech_rate_cpm" in truth:
            r["speech_rate_err_pct"] = (doc["speech_rate_cpm"] - truth["speech_rate_cpm"]) / truth["speech_rate_cpm"] * 100
        return r

    with ThreadPoolExecutor(2) as ex:
        rows = list(ex.map(one, jobs))
    for r in rows:
        rate = f"  rate {r['speech_rate_err_pct']:+5.1f}%" if "speech_rate_err_pct" in r else ""
        print(f"{r['call']:28s} {r['party']:8s} {r['voice']}  syllables {r['syllables_err_pct']:+5.1f}%{rate}")
    for party in ("agent", "customer"):
        sel = [r for r in rows if r["party"] == party]
        if sel:
            worst = max(abs(r["syllables_err_pct"]) for r in sel)
            mean = sum(abs(r["syllables_err_pct"]) for r in sel) / len(sel)
            rates = [abs(r["speech_rate_err_pct"]) for r in sel if "speech_rate_err_pct" in r]
            print(f"{party}: syllables per call mean |e| {mean:.1f}%, worst {worst:.1f}%"
                  + (f"; speech rate worst {max(rates):.1f}%" if rates else ""))


if __name__ == "__main__":
    main()
