"""Audit trail benchmark, run by `scripts/bench.sh --audit` against the release server:
  1. seeds the trail with ROWS rows (default 10 million, scripts/audit_seed.sql: a few minutes,
     once per database) and signs up the benchmark's administrator;
  2. times the first page of each search below, and the page after it, through the server
     function the admin page calls (median of 5, loopback, so ≈ server time);
  3. exports 1 million rows (action = download, about 15% of the trail) as NDJSON and CSV: rows
     per second, and the server's peak RSS (VmHWM) before and after;
  4. times audit_append (the chain included) with 8 concurrent writers (pgbench, 10 s each), flat
     out and at 800 and 200 rows/s in all: p50/p99;
  5. appends/s with 64 concurrent writers spread over 1, 4, 16 and 64 shards (the chain's
     heads), beside two ceilings for the same 64 writers: a bare one-row insert (Postgres's own
     commit rate here) and the same audit row with its indexes but no chain; then
     `server audit verify` over the result.
With --appends-only, only 4 and 5 (no server, no seed: a minute; the database is migrated first).
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


def pgbench(url, sql, clients, rate=None):
    """pgbench running `sql` in `clients` sessions for 10 s, flat out or at `rate` statements/s in
    all: statements/s, p50 and p99 (ms) from its per-transaction log (sent → commit answered)."""
    script = "/tmp/crossview-append.sql"
    with open(script, "w") as f:
        f.write(sql)
    logs = "/tmp/crossview-pgbench"
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        os.remove(os.path.join(logs, old))
    limit = ["-R", str(rate)] if rate else []
    subprocess.run([os.environ.get("PGBENCH", "pgbench"), "-n", "-c", str(clients), "-j", "2",
                    "-T", "10", *limit, "-f", script, "-l", "--log-prefix", f"{logs}/log", url],
                   check=True, capture_output=True)
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


# One connection's appends all go to one shard; the benchmark's come from many connections.
APPEND = ("\\set c random(1, 1000000)\n"
          "select audit_append(null, :c, 'list_objects', 'bench', 'k', 'ok', 'ok', 'r', '{}');\n")


def appends(url, server):
    print("\naudit_append (the chain included), 8 concurrent writers, each append committed:")
    psql(url, "-c", "select audit_set_shards(1::smallint)")
    for rate in (None, 800, 200):
        rows, p50, p99 = pgbench(url, APPEND, 8, rate)
        label = "flat out" if rate is None else f"at {rate} rows/s"
        print(f"  {label:<16}{rows:>8,.0f} rows/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms", flush=True)

    print("\n64 concurrent writers flat out, by the chain's shards:")
    psql(url, "-c", "create table if not exists bench_commit_floor (n int)")
    rows, p50, p99 = pgbench(url, "insert into bench_commit_floor values (1);\n", 64)
    print(f"  {'bare insert':<16}{rows:>8,.0f} commits/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms"
          "  (Postgres's commit rate: the ceiling)", flush=True)
    psql(url, "-c", "drop table bench_commit_floor")
    # The same row with the same indexes, inserted without a chain: what a row costs here.
    psql(url, "-c", "create table bench_rows (like audit_events including defaults including generated including indexes)")
    rows, p50, p99 = pgbench(url, "\\set i random(1, 1000000000000)\n"
                             "insert into bench_rows (id, at, action, connection_id, bucket, "
                             "key, outcome, class, aws_request_id, prev_hash, hash) values "
                             "(:i, clock_timestamp(), 'list_objects', 42, 'bench', 'k', 'ok', 'ok', "
                             "'r', sha256('x'), sha256('y'));\n", 64)
    print(f"  {'row, no chain':<16}{rows:>8,.0f} rows/s     p50 {p50:.2f} ms  p99 {p99:.2f} ms"
          "  (an audit row and its indexes, unchained)", flush=True)
    psql(url, "-c", "drop table bench_rows")
    for shards in (1, 4, 16, 64):
        psql(url, "-c", f"select audit_set_shards({shards}::smallint)")
        rows, p50, p99 = pgbench(url, APPEND, 64)
        print(f"  {f'{shards} shards':<16}{rows:>8,.0f} rows/s     p50 {p50:.2f} ms  p99 {p99:.2f} ms",
              flush=True)
    psql(url, "-c", "select audit_set_shards(4::smallint)")
    settings = psql(url, "-c", "select string_agg(name || '=' || setting, ' ') from pg_settings "
                    "where name in ('synchronous_commit', 'fsync', 'commit_delay', 'wal_sync_method')")
    print(f"  ({settings})")
    verified = subprocess.run([server, "audit", "verify"], capture_output=True, text=True)
    print(f"  server audit verify: {(verified.stdout + verified.stderr).strip()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--appends-only", action="store_true")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if args.appends_only:
        # the database may be new (bench.sh only creates it): the schema as a server would make it
        subprocess.run([args.server, "migrate"], check=True, stdout=subprocess.DEVNULL)
        appends(url, args.server)
        return

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
        have = int(psql(url, "-c", "select max(last_id) from audit_chain"))
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

        appends(url, args.server)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
