"""A small HTTP front for trying Crossview's deployments on one machine (standard library only).

  edge.py --port P --upstream HOST:PORT [--upstream HOST:PORT ...]
      A round-robin load balancer: each request goes to the next upstream in turn, so one
      browser session alternates between server instances.

  edge.py --port P --vercel .vercel/output --upstream HOST:PORT
      Vercel's edge as the Build Output (v3) describes it: the routes of config.json in order
      (headers with `continue`, `handle: filesystem` serving static/, `dest` sending the request
      to the function, whose local mode listens at the upstream), the request's own path kept.

Like a real front it appends the client's address to X-Forwarded-For and streams bodies both
ways; it follows no redirect and keeps every Set-Cookie.
"""
import argparse
import http.client
import http.server
import itertools
import json
import mimetypes
import os
import re
import threading

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade"}


class Edge(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, upstreams, vercel):
        super().__init__(("127.0.0.1", port), Handler)
        self.turns = itertools.cycle(upstreams)
        self.lock = threading.Lock()
        self.routes = []
        self.static = None
        if vercel:
            with open(os.path.join(vercel, "config.json")) as f:
                self.routes = json.load(f)["routes"]
            self.static = os.path.realpath(os.path.join(vercel, "static"))

    def next_upstream(self):
        with self.lock:
            return next(self.turns)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_request(self):
        path = self.path.split("?", 1)[0]
        extra = {}
        for route in self.server.routes:
            if route.get("handle") == "filesystem":
                if self.serve_static(path, extra):
                    return
                continue
            if not re.match(route["src"], path):
                continue
            extra.update(route.get("headers", {}))
            if not route.get("continue"):
                break
        self.forward(extra)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_request

    def serve_static(self, path, extra):
        if self.command not in ("GET", "HEAD"):
            return False
        file = os.path.realpath(os.path.join(self.server.static, path.lstrip("/")))
        if not file.startswith(self.server.static + os.sep) or not os.path.isfile(file):
            return False
        with open(file, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(file)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)
        return True

    def forward(self, extra):
        host, port = self.server.next_upstream().rsplit(":", 1)
        upstream = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        forwarded = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
        except OSError as err:
            self.send_error(502, f"upstream {host}:{port}: {err}")
            return
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP and name.lower() != "content-length":
                self.send_header(name, value)
        for name, value in extra.items():
            self.send_header(name, value)
        # Which instance answered, for the tests that follow a session across instances.
        self.send_header("X-Served-By", f"{host}:{port}")
        chunked = self.command != "HEAD" and answer.status not in (204, 304)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", "0")
        self.end_headers()
        while chunked and (chunk := answer.read1(1 << 16)):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        upstream.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
    parser.add_argument("--vercel", help="a Build Output folder (.vercel/output)")
    args = parser.parse_args()
    Edge(args.port, args.upstream, args.vercel).serve_forever()


if __name__ == "__main__":
    main()
