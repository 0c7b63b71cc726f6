"""Cold-start benchmark, run by `scripts/bench.sh --start` against the release server:
  1. one warm-up start migrates the database, signs up, verifies a connection through Crossview's
     own API and seeds a folder of 100 keys in the strict stand-in; then the server stops;
  2. ten times: exec the server and time (a) the first `/healthz` 200 (polled every millisecond)
     and (b) the first signed-in folder page rendered (requested right after (a)), then SIGTERM;
  3. the first visit's transferred bytes: the sign-in page's HTML plus the JS, wasm and CSS it
     names, each fetched with `Accept-Encoding: br` as a browser does, as the server sends them.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import aws_world  # noqa: E402
from demo_account import Crossview  # noqa: E402

BUCKET = "bench-start"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port):
    """One `/healthz` try on a raw socket: True on a 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.0 200") or False
    except OSError:
        return False


def start(server, port):
    env = {**os.environ, "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}", "RUST_LOG": "warn"}
    return subprocess.Popen([server], env=env)


def seed():
    s3 = aws_world.admin_client("s3")
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for n in range(100):
        s3.put_object(Bucket=BUCKET, Key=f"folder/key-{n:03d}.txt", Body=b"cold")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    seed()
    warm = start(args.server, port)
    while not healthy(port):
        time.sleep(0.05)
    crossview = Crossview(base)
    crossview.sign_up_or_in("cold@bench.example.com", "bench harbour lantern quietly")
    connection = crossview.verified_connection("Cold", "crossview-bench-cold")
    folder = f"/c/{connection['id']}/{BUCKET}/folder/"
    assert b"key-099.txt" in crossview.get(folder)
    warm.terminate()
    warm.wait()

    healths, pages = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        server = start(args.server, port)
        while not healthy(port):
            time.sleep(0.001)
        healths.append((time.perf_counter() - started) * 1000)
        body = crossview.get(folder)
        pages.append((time.perf_counter() - started) * 1000)
        assert b"key-099.txt" in body
        server.terminate()
        server.wait()

    def line(name, values, goal):
        print(f"{name:<44} median {statistics.median(values):6.1f} ms  "
              f"(min {min(values):.1f}, max {max(values):.1f}; goal ≤ {goal} ms)")

    print(f"cold start over {args.runs} runs, database already migrated:")
    line("exec → first /healthz 200", healths, 100)
    line("exec → first signed-in folder page (100 keys)", pages, 300)

    server = start(args.server, port)
    while not healthy(port):
        time.sleep(0.01)
    try:
        html = urllib.request.urlopen(f"{base}/sign-in").read()
        total = len(html)
        print(f"\nfirst visit (sign-in page), bytes as sent with Accept-Encoding: br")
        print(f"  {'HTML':<40}{len(html):>9,}")
        for name in sorted(set(re.findall(rb'/pkg/crossview\.[\w-]+\.(?:js|wasm|css)', html))):
            request = urllib.request.Request(f"{base}{name.decode()}", headers={"Accept-Encoding": "br"})
            with urllib.request.urlopen(request) as response:
                size = len(response.read())
                print(f"  {name.decode():<40}{size:>9,}  ({response.headers.get('Content-Encoding')})")
                total += size
        print(f"  {'total':<40}{total:>9,}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
