"""Audit trail benchmark, run by `scripts/bench.sh --audit` against the release server:
  1. seeds the trail with ROWS rows (default 10 million, scripts/audit_seed.sql: a few minutes,
     once per database) and signs up the benchmark's administrator;
  2. times the first page of each search below, and the page after it, through the server
     function the admin page calls (median of 5, loopback, so ≈ server time);
  3. exports 1 million rows (action = download, about 15% of the trail) as NDJSON and CSV: rows
     per second, and the server's peak RSS (VmHWM) before and after;
  4. times audit_append (the chain included) with 8 concurrent writers (pgbench, 10 s each), flat
     out and at 800 and 200 rows/s in all: p50/p99.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from demo_account import Crossview  # noqa: E402

SEARCHES = [
    ("no filter", {}),
    ("actor", {"actor": "bench-7@example.com"}),
    ("connection", {"connection": "42"}),
    ("account", {"account": "123456789042"}),
    ("action (rare: admin.grant)", {"action": "admin.grant"}),
    ("action (common: download)", {"action": "download"}),
    ("outcome refused", {"outcome": "refused"}),
    ("outcome failed", {"outcome": "failed"}),
    ("bucket", {"bucket": "payroll"}),
    ("bucket + key prefix", {"bucket": "payroll", "prefix": "reports/5/"}),
    ("time range (a March day)", {"from": "MONTH-05", "to": "MONTH-06"}),
    ("actor + outcome refused", {"actor": "bench-51@example.com", "outcome": "refused"}),
    ("actor + refused (none: all scanned)", {"actor": "bench-7@example.com", "outcome": "refused"}),
    ("account + action + refused", {"account": "123456789042", "action": "download", "outcome": "refused"}),
    ("bucket + refused + time range", {"bucket": "payroll", "outcome": "refused", "from": "MONTH-01", "to": "MONTH-28"}),
    ("connection + time range", {"connection": "42", "from": "MONTH-01", "to": "MONTH-28"}),
]


def psql(url, *args):
    return subprocess.run(["psql", url, "-qAtX", *args], check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(call):
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def search(crossview, filter_):
    names = ("actor", "connection", "account", "action", "outcome", "bucket", "prefix", "from", "to", "before")
    fields = {f"filter[{k}]": filter_.get(k, "") for k in names}
    page = crossview.call("admin_audit", **fields)
    if isinstance(page, dict) and "error" in page:
        sys.exit(f"search {filter_} failed: {page['error']}")
    return page


def export(crossview, filter_, fmt):
    query = urllib.parse.urlencode({"format": fmt, **filter_})
    started = time.perf_counter()
    rows = 0
    with crossview.opener.open(f"{crossview.base}/admin/audit/export?{query}") as response:
        while chunk := response.read(1 << 20):
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    return rows - (1 if fmt == "csv" else 0), seconds


def append_latency(url, rate=None):
    """pgbench: 8 clients appending audit rows for 10 s, flat out or at `rate` rows/s in all;
    rows/s, p50 and p99 from its per-transaction log (statement sent → commit answered)."""
    script = "/tmp/crossview-append.sql"
    with open(script, "w") as f:
        f.write("select audit_append(null, 42, 'list_objects', 'bench', 'k', 'ok', 'ok', 'r', '{}');\n")
    logs = "/tmp/crossview-pgbench"
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        os.remove(os.path.join(logs, old))
    pgbench = os.environ.get("PGBENCH", "pgbench")
    limit = ["-R", str(rate)] if rate else []
    subprocess.run([pgbench, "-n", "-c", "8", "-j", "2", "-T", "10", *limit, "-f", script, "-l",
                    "--log-prefix", f"{logs}/log", url], check=True, capture_output=True)
    latencies = []
    for name in os.listdir(logs):
        with open(os.path.join(logs, name)) as f:
            for line in f:
                fields = line.split()
                # At a set rate pgbench counts from when it meant to send (its own delay, the
                # last column, included): the append's cost starts when the statement leaves.
                lag = int(fields[6]) if rate else 0
                latencies.append((int(fields[2]) - lag) / 1000)
    latencies.sort()
    return len(latencies) / 10, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]

    port = free_port()
    env = {**os.environ, "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}", "RUST_LOG": "warn"}
    server = subprocess.Popen([args.server], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        crossview = Crossview(base)
        # The benchmark's administrator, made one as an operator makes one.
        crossview.sign_up_or_in("auditor@bench.example.com", "bench harbour lantern quietly")
        subprocess.run([args.server, "admin", "grant", "auditor@bench.example.com"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        have = int(psql(url, "-c", "select last_id from audit_chain"))
        if have < args.rows:
            print(f"seeding {args.rows:,} audit rows (once per database; minutes)…", flush=True)
            started = time.time()
            subprocess.run(["psql", url, "-qX", "-v", f"rows={args.rows}", "-f",
                            os.path.join(os.path.dirname(__file__), "audit_seed.sql")],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"  seeded in {time.time() - started:.0f} s", flush=True)
        month = psql(url, "-c", "select to_char(now() - interval '8 months', 'YYYY-MM')")
        # Statistics as autovacuum keeps them: earlier runs' appends (below) skew the newest month.
        psql(url, "-c", "analyze audit_events")

        print(f"\nsearch, first page and next page (ms, median of 5) over {args.rows:,} rows")
        print(f"{'filter':<34}{'first':>8}{'next':>8}{'rows':>6}")
        worst = 0.0
        for name, filter_ in SEARCHES:
            filter_ = {k: v.replace("MONTH", month) for k, v in filter_.items()}
            search(crossview, filter_)  # warm the connection and the plan
            firsts, nexts, count = [], [], 0
            for _ in range(5):
                ms, page = timed(lambda: search(crossview, filter_))
                firsts.append(ms)
                count = len(page["rows"])
                if page["next"]:
                    ms, _ = timed(lambda: search(crossview, {**filter_, "before": page["next"]}))
                    nexts.append(ms)
            first = statistics.median(firsts)
            nxt = statistics.median(nexts) if nexts else float("nan")
            worst = max(worst, first, nxt if nexts else 0)
            print(f"{name:<34}{first:>8.1f}{nxt:>8.1f}{count:>6}")
        print(f"worst first or next page: {worst:.1f} ms (goal ≤ 50)")

        print("\nexport of action = download (about 15% of the trail)")
        for fmt in ("ndjson", "csv"):
            before = peak_rss_mib(server.pid)
            rows, seconds = export(crossview, {"action": "download"}, fmt)
            after = peak_rss_mib(server.pid)
            print(f"{fmt:<7}{rows:>12,} rows in {seconds:6.1f} s = {rows / seconds:>9,.0f} rows/s; "
                  f"server peak RSS {before:.0f} → {after:.0f} MiB")

        print("\naudit_append (the chain included), 8 concurrent writers, each append committed:")
        for rate in (None, 800, 200):
            appends, p50, p99 = append_latency(url, rate)
            label = "flat out" if rate is None else f"at {rate} rows/s"
            print(f"  {label:<16}{appends:>8,.0f} rows/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
