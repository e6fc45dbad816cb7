#!/usr/bin/env python3
"""Peak memory of `yusu score` and `yusu live` on long calls: the demo call (58 s of real
two-party speech) repeated to 1 hour and to 10 hours, as one stereo 8 kHz μ-law WAV.

    python3 Benchmarks/long_call_memory.py --cli .build/release/yusu [--hours 1 10] [--keep DIR]

Prints peak resident memory (ru_maxrss of the child) and × real time for each. The target
(issue [11]): at most 64 MB, and 10 hours within 10% of 1 hour.
"""
import argparse, os, struct, subprocess, sys, tempfile


def data_chunk(path):
    with open(path, "rb") as f:
        b = f.read()
    i = 12
    fmt = None
    while i + 8 <= len(b):
        cid, size = b[i:i + 4], struct.unpack("<I", b[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = b[i + 8:i + 8 + size]
        if cid == b"data":
            return fmt, b[i + 8:i + 8 + size]
        i += 8 + size + (size & 1)
    sys.exit(f"{path}: no data chunk")


def write_long(path, fmt, data, seconds_each, hours):
    repeats = max(1, round(hours * 3600 / seconds_each))
    total = len(data) * repeats
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + total) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", total))
        for _ in range(repeats):
            f.write(data)
    return repeats * seconds_each


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=".build/release/yusu")
    ap.add_argument("--hours", type=float, nargs="+", default=[1, 10])
    ap.add_argument("--keep", help="folder for the long files (default: a temporary one, removed)")
    a = ap.parse_args()
    demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "demo_call.wav")
    fmt, data = data_chunk(demo)
    channels, rate = struct.unpack("<H", fmt[2:4])[0], struct.unpack("<I", fmt[4:8])[0]
    block = struct.unpack("<H", fmt[12:14])[0]
    seconds_each = len(data) / block / rate
    folder = a.keep or tempfile.mkdtemp(prefix="yusu-long-")
    os.makedirs(folder, exist_ok=True)
    print(f"demo call {seconds_each:.2f} s, {channels} ch, {rate} Hz; files in {folder}")
    print(f"{'command':8s} {'hours':>6s} {'peak MiB':>9s} {'x real time':>12s}")
    results = {}
    for hours in sorted(a.hours):
        path = os.path.join(folder, f"long_{hours:g}h.wav")
        duration = write_long(path, fmt, data, seconds_each, hours)
        for name, cmd, stdin in [("score", [a.cli, "score", path, "--format", "json"], None),
                                 ("live", [a.cli, "live", "-"], path)]:
            # A fresh interpreter per measurement, so that ru_maxrss is this child's alone.
            out = subprocess.run([sys.executable, "-c", f"""
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run({cmd!r}, stdin=open({stdin!r}, 'rb') if {stdin!r} else subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if p.returncode: sys.exit(p.stderr.decode()[-400:])
print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"{name} {hours} h failed: {out.stderr}")
            elapsed, rss = out.stdout.split()
            mib = int(rss) / 1024
            results[(name, hours)] = mib
            print(f"{name:8s} {hours:6g} {mib:9.1f} {duration / float(elapsed):12.0f}")
        if not a.keep:
            os.remove(path)
    if not a.keep:
        os.rmdir(folder)
    hs = sorted(a.hours)
    if len(hs) >= 2:
        for name in ("score", "live"):
            lo, hi = results[(name, hs[0])], results[(name, hs[-1])]
            print(f"{name}: {hs[-1]:g} h uses {hi / lo:.3f}x the memory of {hs[0]:g} h")


if __name__ == "__main__":
    main()
