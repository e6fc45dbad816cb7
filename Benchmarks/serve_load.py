#!/usr/bin/env python3
"""Load on `yusu serve` ([13]): a night of 10,000 calls, a page and an API list under wrk on
loopback, and a burst of concurrent uploads.

    python3 Benchmarks/serve_load.py --cli .build/release/yusu [--calls 10000] [--seconds 10]
                                     [--connections 32] [--server-cpus 0] [--keep DIR]

The night: `yusu batch` scores 40 synthetic-free copies of the demo call's shape (the demo
call itself, under 40 names), then the rows are replicated with SQL into 10,000 calls over
30 days and 25 agents (verdicts, utterances and events included, so every filter has work).
The server runs pinned to --server-cpus (taskset), wrk on the other core. Prints
requests/s and the latency percentiles wrk measures (target: >= 1000 requests/s and
p99 <= 50 ms for each), then 8 concurrent uploads of the demo call (target: all scored).
"""
import argparse, concurrent.futures, os, re, shutil, sqlite3, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "Fixtures", "demo_call.wav")


def build_night(cli, folder, calls):
    archive = os.path.join(folder, "archive")
    os.makedirs(archive)
    lines = ["path,agent_id,call_id,date"]
    for k in range(40):
        p = os.path.join(archive, f"seed_{k}.wav")
        shutil.copyfile(DEMO, p)
        lines.append(f"{p},seed_agent,seed_{k},2026-11-01")
    manifest = os.path.join(folder, "m.csv")
    open(manifest, "w").write("\n".join(lines) + "\n")
    db = os.path.join(folder, "night.sqlite")
    subprocess.run([cli, "batch", manifest, "--db", db, "--quiet"], check=True)
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(calls)") if r[1] != "id"]
    seeds = [r[0] for r in con.execute("SELECT id FROM calls")]
    con.execute("BEGIN")
    for n in range(calls - len(seeds)):
        seed = seeds[n % len(seeds)]
        agent = f"agent_{n % 25:02d}"
        day = f"2026-11-{1 + (n // 25) % 30:02d}"
        values = {"path": f"/archive/{agent}/{day}/call_{n}.wav", "agent_id": agent, "call_id": f"call_{n}", "call_date": day}
        select = ", ".join(f"? AS {c}" if c in values else c for c in cols)
        params = [values[c] for c in cols if c in values]
        cur = con.execute(f"INSERT INTO calls ({', '.join(cols)}) SELECT {select} FROM calls WHERE id = ?", params + [seed])
        new = cur.lastrowid
        # Pass/fail varies with n, so pass rates are not all alike.
        con.execute("INSERT INTO verdicts (call_row, rule, passed, value, weight) SELECT ?, rule, "
                    "CASE WHEN (? + length(rule)) % 3 = 0 THEN 1 - COALESCE(passed, 1) ELSE passed END, value, weight FROM verdicts WHERE call_row = ?",
                    (new, n, seed))
        con.execute("INSERT INTO utterances SELECT ?, party, start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st FROM utterances WHERE call_row = ?", (new, seed))
        con.execute("INSERT INTO events SELECT ?, kind, party, start_s, end_s, detail FROM events WHERE call_row = ?", (new, seed))
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    return db


def start_server(cli, db, cpus, *flags):
    """A token with write scope, and `yusu serve` on `db` pinned to `cpus`, on a free
    loopback port: (process, base URL, token)."""
    token = subprocess.run([cli, "token", "create", "--db", db, "--name", "bench", "--scope", "write"],
                           capture_output=True, text=True, check=True).stdout.strip()
    server = subprocess.Popen(["taskset", "-c", cpus, cli, "serve", "--db", db, "--listen", "127.0.0.1:0", "--log-level", "warning", *flags],
                              stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            return server, f"http://127.0.0.1:{m.group(1)}", token
    sys.exit("yusu serve did not start")


def wrk(url, token, seconds, connections):
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-H", f"Authorization: Bearer {token}", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct(50), pct(99), int(errors.group(1)) if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--server-cpus", default="0")
    ap.add_argument("--keep")
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    folder = a.keep or tempfile.mkdtemp(prefix="yusu-serve-load-")
    os.makedirs(folder, exist_ok=True)
    t0 = time.time()
    db = build_night(cli, folder, a.calls)
    print(f"night: {a.calls} calls in {time.time() - t0:.1f} s ({db})")
    server, base, token = start_server(cli, db, a.server_cpus, "--jobs", "2", "--queue", "16")
    try:
        print(f"{'target':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, path in [("API list: /v1/calls?per_page=50", "/v1/calls?per_page=50"),
                           ("API list filtered: agent + rule_failed", "/v1/calls?agent=agent_07&rule_failed=speech_rate&per_page=50"),
                           ("page: /calls (call list)", "/calls"),
                           ("page: / (overview, 3 windows)", "/"),
                           ("API: /v1/agents", "/v1/agents")]:
            rps, p50, p99, bad = wrk(base + path, token, a.seconds, a.connections)
            print(f"{name:<44} {rps:8.0f} {p50:8.2f} {p99:8.2f} {bad:8d}")
        # Eight concurrent uploads of the demo call.
        body = open(DEMO, "rb").read()
        def upload(_):
            req = urllib.request.Request(base + "/v1/score", data=body, method="POST", headers={"Authorization": f"Bearer {token}"})
            t = time.time()
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, time.time() - t
        t = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(upload, range(8)))
        print(f"8 concurrent uploads: statuses {sorted(s for s, _ in results)}, {time.time() - t:.2f} s wall, "
              f"slowest {max(d for _, d in results):.2f} s")
    finally:
        server.terminate()
        server.wait()
    if not a.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
