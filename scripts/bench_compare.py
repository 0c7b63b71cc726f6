"""Crossview beside the Node reference (what a user would pick instead) and beside the floor, in one
run.

Run by `scripts/bench.sh --compare`, which starts the strict stand-in and builds the release
server and the benchmark binaries. The world (users, a verified connection, grants) is set up
for real through the canned stand-in (`aws-canned`), which forwards to the strict one; then it is
switched on and answers AssumeRole and ListObjectsV2 from fixed bodies (1,000 keys) at near-zero
CPU, so that what is measured is the servers' own work. The canned stand-in and the load run on
core 0, the server measured on core 1 (`taskset`). It prints:

  - the floor: CPU ms of one AssumeRole + one ListObjectsV2 through the AWS SDK, answers decoded
    (`bench-load floor`), the work the design cannot avoid per folder page;
  - server CPU ms per 1000-key folder page for Crossview and Node, and the ratios to the floor
    and to Node;
  - AWS calls and Postgres round trips (Sync or simple Query messages, counted by a proxy in
    front of Postgres) per Crossview page;
  - added latency with 8 users browsing at once: the page's p50/p99 wall time minus the floor's
    at the same concurrency; pages/s on one core, Crossview's and Node's;
  - bytes on the wire: the folder page (Accept-Encoding: br), and a first visit (HTML, JS, wasm,
    CSS) of the folder page and of the sign-in page;
  - the server's peak RSS with 200 signed-in users browsing at once.

The Node reference lives outside the project (`../shared/bench/node-reference`, or
`--node-reference DIR`); without it, Crossview's figures are printed alone and the script says so.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from bench_browse import cpu_seconds, free_port, seed  # noqa: E402
from demo_account import Crossview  # noqa: E402

PASSWORD = "a long enough passphrase"
# What the browsers accept (--accept-encoding).
ACCEPT_ENCODING = "br, gzip"


class PostgresProxy:
    """Forwards Postgres connections and counts round trips: the client's Sync ('S') and simple
    Query ('Q') messages, each of which the server answers before the client goes on."""

    def __init__(self, port):
        self.upstream = ("127.0.0.1", port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.round_trips = 0
        # What each round trip asked, in order: the statement parsed or run before its Sync
        # ('' for one that executes a statement prepared earlier on that connection).
        self.asked = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self.pipe, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self.client_side, args=(client, upstream), daemon=True).start()

    @staticmethod
    def pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    @staticmethod
    def exact(source, n):
        data = b""
        while len(data) < n:
            chunk = source.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def client_side(self, client, upstream):
        try:
            # Untyped messages first: an SSLRequest (answered 'N': this one speaks plain) and then
            # the StartupMessage.
            while True:
                size = self.exact(client, 4)
                rest = self.exact(client, struct.unpack("!I", size)[0] - 4)
                upstream.sendall(size + rest)
                if rest[:4] != struct.pack("!I", 80877103):
                    break
            statement, prepared = "", {}
            while True:
                kind = self.exact(client, 1)
                size = self.exact(client, 4)
                rest = self.exact(client, struct.unpack("!I", size)[0] - 4)
                if kind == b"P":
                    name, text = rest.split(b"\0")[:2]
                    statement = prepared[name] = text.decode(errors="replace")
                elif kind == b"B":
                    statement = prepared.get(rest.split(b"\0")[1], statement)
                elif kind == b"Q":
                    statement = rest.rstrip(b"\0").decode(errors="replace")
                if kind in (b"S", b"Q"):
                    self.round_trips += 1
                    self.asked.append(" ".join(statement.split())[:100])
                    statement = ""
                upstream.sendall(kind + size + rest)
        except OSError:
            pass
        finally:
            upstream.close()


def get(port, path, headers=None, timeout=60):
    """One GET, the body as sent (compressed if the server chose to): (status, headers, bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def wait_for(port):
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port)):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def cpu_per_page(pid, request, n):
    for _ in range(20):
        request()
    before = cpu_seconds(pid)
    for _ in range(n):
        request()
    return 1000 * (cpu_seconds(pid) - before) / n


def status_mib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid):
    return status_mib(pid, "VmHWM:")


def rss_mib(pid):
    return status_mib(pid, "VmRSS:")


class Browser(Crossview):
    """A signed-in user's page loads, as a browser sends them (cookie, Accept-Encoding)."""

    # Each simulated user is a client of its own, as a proxy in front would report it:
    # Crossview gives one client address at most half of its request slots.
    address = "198.51.100.1"

    def page(self, port, path):
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        status, headers, body = get(
            port, path, {"Cookie": cookie, "Accept": "text/html", "Accept-Encoding": ACCEPT_ENCODING,
                         "X-Forwarded-For": self.address}
        )
        assert status == 200, (status, body[:200])
        return headers, body


def pinned(core, command):
    """`command` on one core only."""
    return ["taskset", "-c", str(core), *command]


# Core 0: the canned stand-in and the load; core 1: the server measured (and the floor's SDK).
LOAD_CORE, SERVER_CORE = 0, 1


def start_canned(binary, upstream):
    """The canned stand-in on core 0, forwarding to the strict one: (process, its URL)."""
    process = subprocess.Popen(pinned(LOAD_CORE, [binary, "--upstream", upstream]),
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        sys.exit(f"aws-canned did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[-1])}"


def canned_answered(url, switch_on=False):
    """How many calls the canned stand-in answered itself; `switch_on` turns it on first."""
    address = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    conn.request("PUT" if switch_on else "GET", "/__canned")
    answered = int(re.search(rb'"answered":(\d+)', conn.getresponse().read()).group(1))
    conn.close()
    return answered


def bench_load(binary, core, *args):
    """One run of `bench-load` on `core`: its JSON line as a dict."""
    out = subprocess.run(pinned(core, [binary, *map(str, args)]), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench-load {args[0]} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def node_reference(args, endpoint, role_arn, external_id):
    """Starts the Node reference on core 1, on its own copy (dependencies installed once), its
    table in a database of the same Postgres; returns (process, port), or None when it is not
    there."""
    source = args.node_reference
    if not os.path.isfile(os.path.join(source, "server.mjs")):
        print(f"the Node reference is not at {source}: Crossview's figures alone")
        return None
    copy = os.path.join(os.environ["DATA"], "node-reference")
    os.makedirs(copy, exist_ok=True)
    for name in ("server.mjs", "package.json", "package-lock.json"):
        if os.path.exists(os.path.join(source, name)):
            shutil.copy(os.path.join(source, name), copy)
    if not os.path.isdir(os.path.join(copy, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=copy, check=True)
    url = args.node_database
    psql = ["psql", url, "-qv", "ON_ERROR_STOP=1", "-c"]
    subprocess.run(psql + ["drop table if exists connections"], check=True)
    subprocess.run(
        psql + ["create table connections (id int primary key, role_arn text not null, external_id text not null)"],
        check=True,
    )
    subprocess.run(
        psql + [f"insert into connections values (1, '{role_arn}', '{external_id}')"], check=True
    )
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, PORT=str(port), AWS_ENDPOINT_URL=endpoint)
    process = subprocess.Popen(pinned(SERVER_CORE, ["node", "server.mjs"]), cwd=copy, env=env)
    wait_for(port)
    return process, port


def first_visit(port, path, cookies):
    """What a first visit to `path` fetches, brotli or gzip as browsers take it: (KB, assets)."""
    headers = {"Accept": "text/html", "Accept-Encoding": ACCEPT_ENCODING}
    if cookies:
        headers["Cookie"] = cookies
    status, _, body = get(port, path, headers)
    assert status == 200, (path, status)
    _, _, html = get(port, path, {k: v for k, v in headers.items() if k != "Accept-Encoding"})
    # Every file the page names under /pkg (stylesheet, JS, wasm, and anything it preloads),
    # not only the ones named after the site: a first visit fetches them all.
    assets = sorted(set(re.findall(rb"/pkg/[\w.-]+\.(?:js|wasm|css)", html)))
    total = len(body)
    for asset in assets:
        _, _, data = get(port, asset.decode(), {"Accept-Encoding": ACCEPT_ENCODING})
        total += len(data)
    return total / 1024, len(assets)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the release server binary")
    parser.add_argument("--bin-dir", required=True, help="where aws-canned and bench-load are")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10, help="length of each timed load")
    parser.add_argument("--node-reference", default=os.path.join(os.environ["ROOT"], "..", "shared", "bench", "node-reference"))
    parser.add_argument("--node-database", required=True, help="a Postgres database for the Node reference's table")
    parser.add_argument("--users", type=int, default=200, help="signed-in users browsing at once, for the peak RSS")
    parser.add_argument("--show-queries", action="store_true", help="print one page's Postgres round trips")
    parser.add_argument("--profile", action="store_true", help="perf profile of Crossview's page loads")
    parser.add_argument("--accept-encoding", default="br, gzip", help="what the browsers accept")
    args = parser.parse_args()
    global ACCEPT_ENCODING
    ACCEPT_ENCODING = args.accept_encoding
    load = os.path.join(args.bin_dir, "bench-load")

    print("seeding bench-1k (once per stand-in)")
    seed("bench-1k", 1000)
    canned, canned_url = start_canned(os.path.join(args.bin_dir, "aws-canned"), os.environ["AWS_ENDPOINT_URL"])
    database = urllib.parse.urlparse(os.environ["DATABASE_URL"])
    pg_proxy = PostgresProxy(database.port or 5432)
    # Plain text, so that the proxy can read the messages it counts.
    proxied = database._replace(
        netloc=f"{database.username}@127.0.0.1:{pg_proxy.port}", query="sslmode=disable"
    ).geturl()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSVIEW_STANDIN_ADMIN")}
    env.update(
        AWS_ENDPOINT_URL=canned_url,
        LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
        RUST_LOG="warn",
        DATABASE_URL=proxied,
        SIGNUP_PER_ADDRESS_PER_HOUR="100000",
        TRUST_PROXY="true",
        # One search request walks the whole 1,000,000-key prefix.
        SEARCH_MAX_KEYS="1000000",
        REQUEST_TIMEOUT_SECS="600",
    )
    server = subprocess.Popen(pinned(SERVER_CORE, [args.server]), env=env)
    node = None
    try:
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        stamp = int(time.time())
        owner = Browser(base)
        owner.sign_up_or_in(f"bench-owner-{stamp}@example.com", PASSWORD)
        connection = owner.verified_connection("Benchmark", f"crossview-compare-{stamp}")
        cid = connection["id"]
        page_path = f"/c/{cid}/bench-1k?per=1000"
        # Teammates: the owner shares the bucket, each browses it with a session of their own.
        owner.call("location_add", connection=cid, bucket="bench-1k", prefix="", mode="read", back="")
        location = owner.call("locations", connection=cid)[0]["id"]
        users = []
        for n in range(args.users):
            user = Browser(base)
            user.address = f"10.{n // 250}.{n % 250}.1"
            email = f"bench-{stamp}-{n}@example.com"
            user.sign_up_or_in(email, PASSWORD)
            if n % 25 == 0:
                # One person may invite 30 people an hour; the benchmark's owner invites more.
                subprocess.run(["psql", os.environ["DATABASE_URL"], "-qc",
                                "delete from attempts where kind = 'grant.user'"], check=True)
            owner.call("grant_create", connection=cid, location=location, email=email, mode="read",
                       until="", back="")
            # A grant is an invitation until its grantee accepts it.
            for invitation in user.call("invitations"):
                user.call("invitation_answer", id=invitation["id"], accept="yes")
            users.append(user)
        node = node_reference(args, canned_url, connection["role_arn"], connection["external_id"])

        # From here on, AssumeRole and ListObjectsV2 are answered from fixed bodies.
        canned_answered(canned_url, switch_on=True)
        floor_args = ["--endpoint", canned_url, "--role-arn", connection["role_arn"],
                      "--external-id", connection["external_id"], "--bucket", "bench-1k"]
        floor = bench_load(load, SERVER_CORE, "floor", *floor_args, "--seconds", args.seconds)

        # Side by side: the same page, the same requests, one after the other.
        profiler = None
        if args.profile:
            profiler = subprocess.Popen(
                ["perf", "record", "-F", "499", "--call-graph", "dwarf,32768", "-o", os.path.join(os.environ["DATA"], "perf.data"),
                 "-p", str(server.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        crossview_cpu = cpu_per_page(server.pid, lambda: owner.page(port, page_path), args.requests)
        if profiler:
            profiler.send_signal(2)
            profiler.wait()
            report = subprocess.run(
                ["perf", "report", "-i", os.path.join(os.environ["DATA"], "perf.data"), "--no-children",
                 "--sort", "dso,symbol", "--stdio", "-g", "none", "--percent-limit", "0.7"],
                capture_output=True, text=True).stdout
            print("profile of Crossview's page loads (self time):")
            print("\n".join(line[:160] for line in report.splitlines() if "%" in line and not line.startswith("#")))
        calls, trips = canned_answered(canned_url), pg_proxy.round_trips
        for _ in range(args.requests):
            owner.page(port, page_path)
        aws_per_page = (canned_answered(canned_url) - calls) / args.requests
        trips_per_page = (pg_proxy.round_trips - trips) / args.requests
        if args.show_queries:
            asked = len(pg_proxy.asked)
            owner.page(port, page_path)
            time.sleep(0.2)  # the pool's release of a connection runs after the response
            print("one page's Postgres round trips:", *pg_proxy.asked[asked:], sep="\n  ")
        print(f"\nthe floor (one AssumeRole + one ListObjectsV2 of 1,000 keys through the AWS SDK, "
              f"answers decoded): {floor['cpu_ms_per_call']:.2f} ms CPU")
        print(f"{args.requests} page loads each (1,000 keys), after 20 warm-up loads:")
        print(f"  Crossview: {crossview_cpu:6.2f} ms CPU/page, {aws_per_page:.2f} AWS calls, "
              f"{trips_per_page:.2f} Postgres round trips per page (goal ≤ 3)")
        print(f"  ratio Crossview ÷ floor: {crossview_cpu / floor['cpu_ms_per_call']:.2f} (goal ≤ 1.5)")
        node_cpu = None
        if node:
            process, node_port = node
            node_path = "/browse?connection=1&bucket=bench-1k&prefix="

            def node_page():
                status, _, body = get(node_port, node_path)
                assert status == 200 and body.count(b"<tr>") == 1000, (status, body[:200])

            node_cpu = cpu_per_page(process.pid, node_page, args.requests)
            print(f"  Node:      {node_cpu:6.2f} ms CPU/page")
            print(f"  ratio Crossview ÷ Node: {crossview_cpu / node_cpu:.3f} (goal ≤ 0.25)")

        # Bytes: the page, and what a first visit fetches besides.
        headers, body = owner.page(port, page_path)
        print(f"\nfolder page: {len(body) / 1024:.1f} KB on the wire "
              f"({headers.get('content-encoding', 'identity')}); goal ≤ 40 KB")
        cookies = "; ".join(f"{c.name}={c.value}" for c in owner.cookies)
        _, _, plain = get(port, page_path, {"Cookie": cookies})
        assert plain.count(b'class="object"') == 1000, "the page lists 1000 objects"
        for kind, path, cookie, goal in (("folder page", page_path, cookies, 250),
                                         ("sign-in page", "/sign-in", None, 160)):
            kb, assets = first_visit(port, path, cookie)
            print(f"first visit, {kind} (page + {assets} assets): {kb:.1f} KB; goal ≤ {goal} KB")

        # Search: one walk request over a 1,000,000-key prefix, whose pages the canned stand-in
        # makes as they are asked for; one key matches.
        walk = f"/api/search/{cid}/bench-1k?within=walk%2F&q=-0999999.&kind=contains"
        before, started = cpu_seconds(server.pid), time.monotonic()
        status, _, body = get(port, walk, {"Cookie": cookies}, timeout=600)
        took, cpu = time.monotonic() - started, cpu_seconds(server.pid) - before
        end = json.loads(body.splitlines()[-1]).get("end", {})
        assert status == 200 and end.get("scanned") == 1_000_000, (status, body[-300:])
        print(f"search of a 1,000,000-key prefix, one request: {1_000_000 / took:,.0f} keys/s, "
              f"{cpu:.3f} ms CPU per 1,000 keys scanned ({took:.1f} s, {cpu:.1f} s CPU)")

        # Under load, a second server on Postgres directly (the counting proxy would add its own
        # time to every round trip), serving the same sessions; its memory holds no sign-up.
        server.terminate()
        server.wait()
        port = free_port()
        env.update(DATABASE_URL=os.environ["DATABASE_URL"], LEPTOS_SITE_ADDR=f"127.0.0.1:{port}")
        server = subprocess.Popen(pinned(SERVER_CORE, [args.server]), env=env)
        wait_for(port)
        url = f"http://127.0.0.1:{port}{page_path}"

        def pages(some, seconds):
            cookie_args = []
            for user in some:
                cookie_args += ["--cookie", "; ".join(f"{c.name}={c.value}" for c in user.cookies)]
            return bench_load(load, LOAD_CORE, "pages", "--url", url, "--seconds", seconds,
                              "--header", "Accept: text/html", "--header", f"Accept-Encoding: {ACCEPT_ENCODING}",
                              *cookie_args)

        pages(users[:8], 2)  # warm-up: pools filled, sessions' first loads done
        eight = pages(users[:8], args.seconds)
        floor8 = bench_load(load, SERVER_CORE, "floor", *floor_args, "--users", 8, "--seconds", args.seconds)
        print(f"\n8 users at once, {eight['calls']} pages: p50 {eight['p50_ms']:.2f} ms, p99 {eight['p99_ms']:.2f} ms; "
              f"the floor at 8 at once: p50 {floor8['p50_ms']:.2f} ms, p99 {floor8['p99_ms']:.2f} ms")
        print(f"added latency: p50 {eight['p50_ms'] - floor8['p50_ms']:.2f} ms, "
              f"p99 {eight['p99_ms'] - floor8['p99_ms']:.2f} ms (goal ≤ 2 / ≤ 5)")
        print(f"throughput on one core, 8 users: Crossview {eight['per_second']:.0f} pages/s, "
              f"the floor {floor8['per_second']:.0f}/s", end="")
        if node:
            node_load = bench_load(load, LOAD_CORE, "pages", "--url", f"http://127.0.0.1:{node[1]}{node_path}",
                                   "--users", 8, "--seconds", args.seconds)
            print(f", Node {node_load['per_second']:.0f} pages/s")
        else:
            print()
        # The peak while they browse (VmHWM would also count the sign-ups' password hashing).
        peak, done = [0.0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(server.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        everyone = pages(users, args.seconds)
        done.set()
        sampler.join()
        print(f"peak RSS with {len(users)} signed-in users browsing at once ({everyone['calls']} pages): "
              f"{peak[0]:.1f} MiB (goal ≤ 60; {peak_rss_mib(server.pid):.1f} MiB since start)")
    finally:
        for process in (server, canned, node[0] if node else None):
            if process:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
