"""A test upstream on Python's standard-library http.server (not hyper).

It routes on the raw request-target, as most real frameworks do, and serves
the response shapes ghost must record and replay. Prints `listening on PORT`
once bound (argv[1]: port, 0 picks one). With argv[2] and argv[3] (a PEM
certificate chain and its key) it serves HTTPS through Python's ssl module.
"""
import gzip
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def large_body():
    return bytes((i * 7 % 251) for i in range(1024 * 1024))


LARGE = large_body()
GZIPPED = gzip.compress(b"compressed hello " * 200, mtime=0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "peer-python"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=(), length=True):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def route(self):
        # The raw request-target, split by hand as simple frameworks do: an
        # absolute-form target (meant for proxies) does not route here.
        target = self.path
        path, _, query = target.partition("?")
        if path.startswith("/users/") and self.command in ("GET", "HEAD"):
            uid = path.rsplit("/", 1)[1]
            body = json.dumps(
                {"id": int(uid), "name": f"User {uid}", "links": {"self": f"/users/{uid}"}, "q": query},
                indent=2,
            ).encode() + b"\n"
            return self.send(200, body, [("Content-Type", "application/json")])
        if path == "/metrics":
            # The upstream's own metrics: ghost must record and replay them like
            # any other path (its own live under /_ghost/).
            body = b"# TYPE app_requests_total counter\napp_requests_total 7\n"
            return self.send(200, body, [("Content-Type", "text/plain; version=0.0.4")])
        if path == "/binary":
            return self.send(200, bytes(range(256)) * 16, [("Content-Type", "application/octet-stream")])
        if path == "/gzip":
            return self.send(200, GZIPPED, [("Content-Type", "text/plain"), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")])
        if path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b"first chunk;", b"second chunk;", b"third chunk"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return None
        if path.startswith("/items/") and self.command == "DELETE":
            self.send_response(204)
            self.end_headers()
            return None
        if path == "/redirect":
            return self.send(302, b"", [("Location", "/users/1")])
        if path == "/etag":
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.send_header("Cache-Control", "max-age=60")
            self.end_headers()
            return None
        if path == "/missing":
            return self.send(404, b'{"error":"not here"}', [("Content-Type", "application/json")])
        if path == "/boom":
            return self.send(500, b"upstream exploded", [("Content-Type", "text/plain"), ("X-Error-Id", "e-123")])
        if path == "/large":
            return self.send(200, LARGE, [("Content-Type", "application/octet-stream")])
        if path == "/echo":
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            headers = [("X-Echo-Method", self.command), ("X-Echo-Target", target)]
            if self.headers.get("traceparent"):
                headers.append(("X-Echo-Traceparent", self.headers["traceparent"]))
            if self.headers.get("Content-Type"):
                headers.append(("Content-Type", self.headers["Content-Type"]))
            return self.send(200, body, headers)
        return self.send(404, f"no route for {target}".encode(), [("Content-Type", "text/plain")])

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = route


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if len(sys.argv) > 3:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        ctx.set_alpn_protocols(["http/1.1"])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
