"""Browsing benchmark: what one browse request costs Crossview's server, against the stand-in.

Run by scripts/bench.sh, which starts the strict stand-in, seeds Crossview's world and builds the
release server. This script:
  1. seeds `bench-1k` (1,000 keys) and `bench-50k` (50,000 keys) in the stand-in;
  2. puts a counting proxy in front of the stand-in: it keeps Crossview's connections alive as AWS
     does (moto closes every connection after one response) and counts the connections Crossview
     opens;
  3. starts the release server against the proxy, signs up and verifies a connection through
     Crossview's own API;
  4. measures, after a warm-up: server CPU seconds per request (utime + stime of the server process
     from /proc ÷ requests), p50/p90 latency, and new TCP connections to AWS per request, for a
     1000-key folder page (server function and full page load), and first-page CPU for 1k vs 50k.

Each browse request is one AssumeRole and one ListObjectsV2 in the stand-in, whose own time grows
with the bucket; Crossview's share must not.
"""

import argparse
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import aws_world  # noqa: E402
from demo_account import Crossview  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def seed(bucket, count):
    """Creates `bucket` with `count` small keys, unless it already holds them."""
    s3 = aws_world.admin_client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    if s3.list_objects_v2(Bucket=bucket, Prefix=f"obj-{count - 1:06d}").get("KeyCount", 0):
        return  # seeded by an earlier run (the last key is written last)

    local = threading.local()

    def put(n):
        if not hasattr(local, "s3"):
            local.s3 = aws_world.admin_client("s3")
        local.s3.put_object(Bucket=bucket, Key=f"obj-{n:06d}", Body=b"bench")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(count - 1)))
    put(count - 1)


class CountingProxy:
    """Accepts keep-alive HTTP/1.1 connections from Crossview and forwards each request to the
    stand-in on a connection of its own. `opened` counts the connections Crossview made."""

    def __init__(self, upstream):
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.opened = 0
        # Bytes Crossview sent and received through the proxy (requests and answers).
        self.bytes = 0
        # Every AWS call: (started, ended, who), `who` being the AssumeRole's session name, which
        # the temporary access key it returns carries on to the S3 calls signed with it.
        self.calls = []
        self.sessions = {}
        threading.Thread(target=self.accept, daemon=True).start()

    def caller(self, head, body, answer):
        """The session name an AWS call belongs to (learnt from AssumeRole), if any."""
        if b"Action=AssumeRole" in body:
            fields = dict(
                pair.split("=", 1) for pair in body.decode(errors="replace").split("&") if "=" in pair
            )
            who = fields.get("RoleSessionName", "")
            key = answer.partition(b"<AccessKeyId>")[2].partition(b"</AccessKeyId>")[0]
            self.sessions[key.decode()] = who
            return who
        credential = head.partition(b"Credential=")[2].partition(b"/")[0]
        return self.sessions.get(credential.decode(), "")

    def accept(self):
        while True:
            conn, _ = self.server.accept()
            self.opened += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    @staticmethod
    def read_message(stream):
        """One request from a buffered reader: (head, body, when its first line arrived)."""
        first = stream.readline()
        if not first:
            return None
        arrived = time.perf_counter()
        head = first
        while (line := stream.readline()) not in (b"\r\n", b""):
            head += line
        head += b"\r\n"
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return head, stream.read(length) if length else b"", arrived

    def serve(self, conn):
        with conn, conn.makefile("rb") as stream:
            while (message := self.read_message(stream)) is not None:
                head, body, started = message
                method = head.split(b" ", 1)[0]
                with socket.create_connection(self.upstream) as up:
                    up.sendall(head + body)
                    response = b""
                    while chunk := up.recv(65536):
                        response += chunk
                status_head, _, payload = response.partition(b"\r\n\r\n")
                lines = [
                    line
                    for line in status_head.split(b"\r\n")
                    if not line.lower().startswith(b"connection:")
                ]
                names = {line.split(b":")[0].strip().lower() for line in lines[1:]}
                if method != b"HEAD" and not names & {b"content-length", b"transfer-encoding"}:
                    lines.append(b"Content-Length: %d" % len(payload))
                answer = b"\r\n".join(lines) + b"\r\n\r\n" + payload
                self.bytes += len(head) + len(body) + len(answer)
                self.calls.append((started, time.perf_counter(), self.caller(head, body, payload)))
                conn.sendall(answer)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(server, proxy, label, request, n):
    for _ in range(10):  # warm-up: pools filled, region cache written, code paths paged in
        request()
    cpu, opened = cpu_seconds(server.pid), proxy.opened
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        request()
        latencies.append(time.perf_counter() - start)
    cpu = cpu_seconds(server.pid) - cpu
    latencies.sort()
    row = {
        "request": label,
        "cpu_ms_per_request": 1000 * cpu / n,
        "p50_ms": 1000 * statistics.median(latencies),
        "p90_ms": 1000 * latencies[int(0.9 * n)],
        "tcp_connections_per_request": (proxy.opened - opened) / n,
    }
    print(
        f"{label:<44} {row['cpu_ms_per_request']:7.2f} ms CPU  p50 {row['p50_ms']:7.1f} ms  "
        f"p90 {row['p90_ms']:7.1f} ms  {row['tcp_connections_per_request']:.2f} TCP conns/request"
    )
    return row


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the release server binary")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    print("seeding bench-1k and bench-50k (once per stand-in; 50,000 puts take a few minutes)")
    seed("bench-1k", 1000)
    seed("bench-50k", 50_000)

    proxy = CountingProxy(os.environ["AWS_ENDPOINT_URL"])
    addr = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSVIEW_STANDIN_ADMIN")}
    env.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}", LEPTOS_SITE_ADDR=addr, RUST_LOG="warn")
    server = subprocess.Popen([args.server], env=env)
    try:
        base = f"http://{addr}"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", int(addr.split(":")[1]))):
                    break
            except OSError:
                time.sleep(0.2)
        crossview = Crossview(base)
        crossview.sign_up_or_in(f"bench-{int(time.time())}@example.com", "a long enough passphrase")
        connection = crossview.verified_connection("Benchmark", "crossview-bench")
        cid = connection["id"]

        def page(bucket):
            def request():
                listing = crossview.call("objects", connection=cid, bucket=bucket, prefix="", token="", per=1000)
                assert "error" not in listing, listing
                assert len(listing["objects"]) == 1000, len(listing["objects"])

            return request

        print(f"\n{args.requests} requests each, after 10 warm-up requests:\n")
        measure(server, proxy, "1000-key page (server function, bench-1k)", page("bench-1k"), args.requests)
        measure(
            server,
            proxy,
            "1000-key page (full page load, bench-1k)",
            lambda: crossview.get(f"/c/{cid}/bench-1k?per=1000"),
            args.requests,
        )
        small = measure(server, proxy, "first page of 1,000 keys (bench-1k)", page("bench-1k"), args.requests)
        large = measure(server, proxy, "first page of 50,000 keys (bench-50k)", page("bench-50k"), args.requests)
        ratio = large["cpu_ms_per_request"] / small["cpu_ms_per_request"]
        print(f"\nserver CPU per first page, 50k keys ÷ 1k keys: {ratio:.2f}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
