#!/usr/bin/env python3
"""Many live calls on one `yusu serve` core ([13]): N WebSocket clients each stream a dev call
(or the demo call) at real-time pace, in 100 ms binary messages, and time every line.

    pip install websockets
    python3 Benchmarks/serve_live.py --cli .build/release/yusu [--calls 100] [--server-cpus 0]
                                     [--corpus ../shared/corpus/dev/calls] [--seconds 120]

The server runs pinned to one core (taskset). For every line a client receives:
  - the wall delay: received − (call start + emitted_at_s), the time the server added on top
    of the audio clock (0 when it keeps up with real time);
  - for alerts and events: the audio delay emitted_at_s − the moment its evidence ended or its
    limit was reached (at_s, end_s or the alert's own time), as Benchmarks/live_latency.py;
the total is what a supervisor waits after the audio. Target: every alert within 1 s.
"""
import argparse, asyncio, glob, json, os, re, shutil, statistics, struct, subprocess, sys, tempfile, time

try:
    import websockets
except ImportError:
    sys.exit("pip install websockets")

HERE = os.path.dirname(os.path.abspath(__file__))


def wav_parts(path):
    b = open(path, "rb").read()
    i, fmt = 12, None
    while i + 8 <= len(b):
        cid, size = b[i:i + 4], struct.unpack("<I", b[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = b[i + 8:i + 8 + size]
        if cid == b"data":
            return b[:i + 8], fmt, b[i + 8:i + 8 + size]
        i += 8 + size + (size & 1)
    raise SystemExit(f"{path}: no data chunk")


sys.path.insert(0, HERE)
from live_latency import evidence_end  # the same definitions as [11]'s latency benchmark
from serve_load import start_server


async def one_call(k, url, token, path, seconds, delays, audio_delays, alerts, counts):
    header, fmt, data = wav_parts(path)
    channels, rate, byte_rate = struct.unpack("<HI I", fmt[2:12])[0], struct.unpack("<I", fmt[4:8])[0], struct.unpack("<I", fmt[8:12])[0]
    piece = byte_rate // 10
    limit = int(seconds * byte_rate)
    data = data[:limit - limit % struct.unpack("<H", fmt[12:14])[0]]
    async with websockets.connect(url + f"&call_id=bench-{k}", additional_headers={"Authorization": f"Bearer {token}"}, max_size=1 << 26) as ws:
        start = time.monotonic()
        utterance_end = {}
        async def reader():
            async for message in ws:
                now = time.monotonic()
                line = json.loads(message)
                counts[line["type"]] = counts.get(line["type"], 0) + 1
                if line["type"] == "summary":
                    continue
                wall = now - start - line["emitted_at_s"]
                delays.append(wall)
                if line["type"] == "utterance":
                    utterance_end[line.get("index", -1)] = line["end_s"]
                end = evidence_end(line, utterance_end)
                if end is not None:
                    audio = max(0.0, line["emitted_at_s"] - end)
                    audio_delays.append((line["type"] + ("/" + line["kind"] if line["type"] == "alert" else ""), audio, audio + max(0.0, wall)))
                    if line["type"] == "alert":
                        alerts.append((audio + max(0.0, wall), line["kind"]))
        task = asyncio.create_task(reader())
        await ws.send(header[:4] + struct.pack("<I", 0xFFFFFFFF) + header[8:-4] + struct.pack("<I", 0xFFFFFFFF))
        for n, offset in enumerate(range(0, len(data), piece)):
            due = start + n * 0.1
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await ws.send(data[offset:offset + piece])
        await ws.send("end")
        await task


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def run(a, url, token, files):
    delays, audio_delays, alerts, counts = [], [], [], {}
    await asyncio.gather(*(one_call(k, url, token, files[k % len(files)], a.seconds, delays, audio_delays, alerts, counts) for k in range(a.calls)))
    return delays, audio_delays, alerts, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--server-cpus", default="0")
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "corpus", "dev", "calls"))
    ap.add_argument("--seconds", type=float, default=120, help="stream at most this much of each call")
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    files = sorted(glob.glob(os.path.join(a.corpus, "*.wav"))) or [os.path.join(HERE, "..", "Fixtures", "demo_call.wav")]
    folder = tempfile.mkdtemp(prefix="yusu-serve-live-")
    db = os.path.join(folder, "r.sqlite")
    server, base, token = start_server(cli, db, a.server_cpus)
    try:
        t = time.time()
        delays, audio_delays, alerts, counts = asyncio.run(run(a, base.replace("http://", "ws://") + "/v1/live?agent_id=bench", token, files))
        wall = time.time() - t
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{a.calls} live calls of up to {a.seconds:.0f} s ({len(files)} recordings), server on cpu {a.server_cpus}: {wall:.1f} s wall")
    print(f"lines: {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    print(f"wall delay added by the server (all lines): median {pct(delays, 50) * 1000:.0f} ms, p99 {pct(delays, 99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    kinds = sorted({k for k, _, _ in audio_delays})
    print(f"{'line':<34} {'n':>5} {'audio med':>10} {'audio max':>10} {'+wall max':>10} {'<=1 s':>7}")
    for kind in kinds:
        rows = [(a, t) for k, a, t in audio_delays if k == kind]
        within = sum(1 for _, t in rows if t <= 1.0)
        print(f"{kind:<34} {len(rows):5d} {pct([a for a, _ in rows], 50):10.2f} {max(a for a, _ in rows):10.2f} {max(t for _, t in rows):10.2f} {within:4d}/{len(rows)}")
    if alerts:
        totals = [x[0] for x in alerts]
        print(f"alerts: {len(alerts)}, audio + wall delay median {pct(totals, 50):.2f} s, max {max(totals):.2f} s, within 1 s: {sum(1 for x in totals if x <= 1.0)}/{len(alerts)}")

if __name__ == "__main__":
    main()
