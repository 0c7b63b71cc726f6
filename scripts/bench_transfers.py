"""Transfer benchmark: what Crossview's server itself sends and holds while a file goes up to S3
and comes back down, for a 40 MiB and a 400 MiB file.

Run by scripts/bench.sh --transfers, which starts the strict stand-in (it checks presigned URLs
as S3 does) and builds the release server. This script puts a byte-counting TCP relay in front of the
server (everything the browser says to it) and a byte-counting proxy in front of the stand-in
(everything the server says to AWS), then, as a browser would: starts a multipart upload through Crossview, sends the parts
straight to the stand-in, completes it through Crossview, then downloads it through Crossview's
link. It prints the server's traffic on both sides and its peak resident memory during each run.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from bench_browse import CountingProxy  # noqa: E402
from demo_account import Crossview  # noqa: E402

import aws_world  # noqa: E402

MIB = 1 << 20


class Relay:
    """A TCP relay that counts the bytes it carries each way."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.bytes = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, source, sink):
        try:
            while chunk := source.recv(65536):
                with self.lock:
                    self.bytes += len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """Samples a process's resident memory every 20 ms while in use."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call_json(crossview, endpoint, payload):
    """A server function taking JSON, as the hydrated app calls the transfer functions."""
    request = urllib.request.Request(
        f"{crossview.base}/api/{endpoint}",
        data=json.dumps(payload).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    with crossview.opener.open(request) as response:
        return json.loads(response.read() or b"null")


def direct(url, store, **kwargs):
    """A request for a presigned URL, sent straight to the stand-in (as a browser sends it to S3)
    rather than through the counting proxy the server talks to; the Host it was signed for stays."""
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=store)), **kwargs)
    request.add_header("Host", parts.netloc)
    return request


def transfer(crossview, cid, store, size):
    key = f"bench/{size // MIB}-MiB-{time.time_ns()}.bin"
    data = os.urandom(MIB) * (size // MIB)
    target = {"connection": cid, "bucket": "cv-transfers", "key": key}
    plan = call_json(crossview, "upload_start", {**target, "size": size, "content_type": "application/octet-stream", "replace": True})
    multipart = plan["Multipart"]
    part_size, parts, upload = multipart["part_size"], multipart["parts"], multipart["upload"]
    sent, batch = [], 16
    for first in range(1, parts + 1, batch):
        count = min(batch, parts - first + 1)
        signed = call_json(
            crossview,
            "upload_parts",
            {**target, "upload": upload, "first": first, "count": count},
        )
        # Each batch renews the upload's ticket, which expires with the URLs it came with.
        upload = {**upload, "ticket": signed["ticket"]}
        for number, url in zip(range(first, first + count), signed["urls"]):
            body = data[(number - 1) * part_size : number * part_size]
            # (urllib would call the body a form, which the stand-in would try to parse.)
            headers = {"Content-Type": "application/octet-stream"}
            with urllib.request.urlopen(direct(url, store, data=body, headers=headers, method="PUT")) as response:
                sent.append({"number": number, "etag": response.headers["ETag"]})
    call_json(crossview, "upload_complete", {**target, "upload": upload, "parts": sent, "replace": True})

    query = urllib.parse.urlencode({"connection": cid, "bucket": "cv-transfers", "key": key})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(crossview.cookies), NoRedirect)
    request = urllib.request.Request(f"{crossview.base}/api/download?{query}", headers={"Accept": "text/html"})
    try:
        opener.open(request)
        raise SystemExit("the download did not redirect")
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
    received = 0
    with urllib.request.urlopen(direct(location, store)) as response:
        while chunk := response.read(MIB):
            received += len(chunk)
    assert received == size, (received, size)
    return parts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the release server binary")
    parser.add_argument("--store", required=True, help="the strict stand-in's URL")
    args = parser.parse_args()
    store = args.store.removeprefix("http://")
    # The bucket's owner makes the bucket, with the CORS rule a browser would need.
    s3 = aws_world.admin_client("s3")
    s3.create_bucket(Bucket="cv-transfers")
    aws_world.cors_for_crossview(s3, "cv-transfers", "http://127.0.0.1")

    # Keep-alive towards Crossview, as AWS; counts every byte of every request and answer.
    aws = CountingProxy(args.store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Crossview gets its own identity only; the admin key plays the bucket owner's side.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSVIEW_STANDIN_ADMIN_")}
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{aws.port}",
        LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
        RUST_LOG="warn",
    )
    server = subprocess.Popen([args.server], env=env)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port)):
                    break
            except OSError:
                time.sleep(0.2)
        web = Relay(port)
        crossview = Crossview(f"http://127.0.0.1:{web.port}")
        crossview.sign_up_or_in(f"bench-{time.time_ns()}@example.com", "a long enough passphrase")
        connection = crossview.verified_connection("Transfers", "bench-transfers")
        assert connection.get("status") == "Verified", connection

        print(f"\n{'file':>10}  {'parts':>5}  {'browser ↔ server':>17}  {'server ↔ AWS':>13}  {'server peak RSS':>16}")
        for size in (40 * MIB, 400 * MIB):
            web.bytes = aws.bytes = 0
            with PeakMemory(server.pid) as memory:
                parts = transfer(crossview, connection["id"], store, size)
            print(
                f"{size // MIB:>6} MiB  {parts:>5}  {web.bytes / 1024:>13.1f} KiB  {aws.bytes / 1024:>9.1f} KiB"
                f"  {memory.peak / 1024:>12.1f} MiB"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
