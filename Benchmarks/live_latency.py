#!/usr/bin/env python3
"""Latency of `yusu live`: for every line, the audio time from the end of its evidence (or
the moment a limit was reached) to the audio time it was emitted at (`emitted_at_s`).

    python3 Benchmarks/live_latency.py --cli .build/release/yusu [--calls ../shared/corpus/dev/calls] [-v]
    python3 Benchmarks/live_latency.py --calls ../shared/corpus/dev-robust/calls   # FLAC, through sox

Evidence ends: utterance, filled_pause, hold: end_s; sinking_ending: its utterance's end_s; backchannel: at_s +
duration_s; interruption: at_s + overlap_s (the overlap's end); alert talking_over_customer:
at_s + overlap_so_far_s (the moment the overlap passed a backchannel's length); hold_too_long, no_acknowledgement:
start_s + limit_s; too_fast, too_slow, rate_ok: end_s (the utterance that moved the rate).
The target (issue [11]) is 1.0 s for every line of every dev call.
"""
import argparse, glob, json, os, subprocess, sys
from collections import defaultdict


def evidence_end(line, utterance_end):
    t = line["type"]
    if t == "sinking_ending":
        # An ending is the utterance's only once the utterance has ended.
        return max(line["end_s"], utterance_end.get(line["utterance_index"], line["end_s"]))
    if t in ("utterance", "filled_pause", "hold"):
        return line["end_s"]
    if t == "backchannel":
        return line["at_s"] + line["duration_s"]
    if t == "interruption":
        return line["at_s"] + line["overlap_s"]
    if t == "alert":
        k = line["kind"]
        if k == "talking_over_customer":
            # Said once the overlap is longer than a backchannel (or has qualified).
            return line["at_s"] + line["overlap_so_far_s"]
        if k in ("hold_too_long", "no_acknowledgement"):
            return line["start_s"] + line["limit_s"]
        return line["end_s"]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--calls", action="append")
    ap.add_argument("--target", type=float, default=1.0)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    dirs = a.calls or [os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus", "dev", "calls")]
    # WAV as it is; FLAC (the dev-robust calls) through sox into a WAV stream, as live reads one.
    files = sorted(f for d in dirs for pattern in ("*.wav", "*.flac") for f in glob.glob(os.path.join(d, pattern)))
    if not files:
        sys.exit("no calls found in " + ", ".join(dirs))
    per_type = defaultdict(list)
    worst = []
    # talking_over_customer against its interruption's final overlap: said before it ended?
    over_alerts = {"overlaps >= 1 s": 0, "said before the end": 0}
    for f in files:
        if f.endswith(".flac"):
            audio = subprocess.run(["sox", f, "-t", "wav", "-"], capture_output=True, check=True).stdout
        else:
            with open(f, "rb") as wav:
                audio = wav.read()
        r = subprocess.run([a.cli, "live", "-", "--name", os.path.basename(f)], input=audio, capture_output=True)
        r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
        if r.returncode != 0:
            print(f"{f}: exit {r.returncode}: {r.stderr.strip()}")
            continue
        utterance_end = {}
        said = {}
        for raw in r.stdout.splitlines():
            line = json.loads(raw)
            if line["type"] == "alert" and line["kind"] == "talking_over_customer":
                said[line["at_s"]] = line["emitted_at_s"]
            if line["type"] == "interruption" and line["by"] == "agent" and line["overlap_s"] >= 1.0:
                over_alerts["overlaps >= 1 s"] += 1
                if said.get(line["at_s"], float("inf")) < line["at_s"] + line["overlap_s"]:
                    over_alerts["said before the end"] += 1
                elif a.v:
                    print(f"  late talking_over_customer: {os.path.basename(f)} {raw}")
            if line["type"] == "utterance":
                utterance_end[line["index"]] = line["end_s"]
            end = evidence_end(line, utterance_end)
            if end is None:
                continue
            key = line["type"] + ("/" + line["kind"] if line["type"] == "alert" else "")
            latency = line["emitted_at_s"] - end
            per_type[key].append(latency)
            worst.append((latency, os.path.basename(f), key, raw))
    print(f"{len(files)} calls; latency = emitted_at_s - evidence end, seconds (target <= {a.target})")
    print(f"{'line':32s} {'n':>5s} {'median':>7s} {'p95':>7s} {'max':>7s} {'over':>5s}")
    every = []
    for key in sorted(per_type):
        v = sorted(per_type[key])
        every += v
        over = sum(1 for x in v if x > a.target + 1e-9)
        print(f"{key:32s} {len(v):5d} {v[len(v)//2]:7.3f} {v[min(len(v)-1, int(0.95*len(v)))]:7.3f} {v[-1]:7.3f} {over:5d}")
    every.sort()
    over = sum(1 for x in every if x > a.target + 1e-9)
    print(f"{'all':32s} {len(every):5d} {every[len(every)//2]:7.3f} {every[min(len(every)-1, int(0.95*len(every)))]:7.3f} {every[-1]:7.3f} {over:5d}")
    print(
        f"talking_over_customer before its overlap ended: {over_alerts['said before the end']} of "
        f"{over_alerts['overlaps >= 1 s']} agent interruptions with >= 1 s of overlap")
    if a.v:
        for latency, f, key, raw in sorted(worst, reverse=True)[:15]:
            print(f"  {latency:6.3f} {f} {raw[:160]}")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
