#!/usr/bin/env python3
"""An OCSP responder and CRL server for tests/unit/test_status.c that is
not Tessera's: python3's http.server on 127.0.0.1 (an ephemeral port,
printed on one line) in front of the openssl command, which answers each
OCSP request from DIR/index.txt (the `openssl ca` database format).

Usage: status_fixture.py DIR

  POST /ocsp/sign/NAME    openssl ocsp -index DIR/index.txt -CA DIR/issuing.pem
                          -rsigner DIR/NAME.pem -rkey DIR/NAME.key -ndays 1
  POST /ocsp/canned/NAME  DIR/NAME.der as it is (a response made beforehand)
  POST /ocsp/trylater     an unsigned tryLater response
  POST /ocsp/http500      HTTP 500
  POST /ocsp/garbage      200 with bytes that are no OCSP response
  POST /ocsp/redirect     302 to /ocsp/sign/ocsp (a client must not follow it)
  POST /ocsp/slow         answers after 3 seconds
  GET  /NAME.crl          DIR/NAME.crl (404 if there is none)
  GET  /slow.crl          answers after 3 seconds

Every request is appended to DIR/requests.log as "METHOD PATH CONTENT-TYPE".
It stops on SIGTERM or when its stdin closes.
"""
import http.server
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

DIR = sys.argv[1]
NAME = re.compile(r"^[a-z0-9-]+$")
LOG = threading.Lock()


def path(name):
    return os.path.join(DIR, name)


def ocsp_sign(signer, request):
    with tempfile.TemporaryDirectory(dir=DIR) as tmp:
        req, resp = os.path.join(tmp, "req.der"), os.path.join(tmp, "resp.der")
        with open(req, "wb") as f:
            f.write(request)
        subprocess.run(["openssl", "ocsp", "-index", path("index.txt"), "-CA", path("issuing.pem"),
                        "-rsigner", path(signer + ".pem"), "-rkey", path(signer + ".key"),
                        "-ndays", "1", "-reqin", req, "-respout", resp],
                       check=True, capture_output=True)
        with open(resp, "rb") as f:
            return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def record(self):
        with LOG, open(path("requests.log"), "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Content-Type", "-")))

    def send(self, status, body=b"", ctype="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.record()
        m = re.match(r"^/([a-z0-9-]+)\.crl$", self.path)
        if m is None:
            return self.send(404)
        if m.group(1) == "slow":
            time.sleep(3)
        try:
            with open(path(m.group(1) + ".crl"), "rb") as f:
                body = f.read()
        except FileNotFoundError:
            return self.send(404)
        self.send(200, body, "application/pkix-crl")

    def do_POST(self):
        self.record()
        request = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path.split("/")[1:]
        if parts[0] != "ocsp" or len(parts) < 2 or not all(NAME.match(p) for p in parts):
            return self.send(404)
        kind, name = parts[1], parts[2] if len(parts) > 2 else ""
        ctype = "application/ocsp-response"
        if kind == "sign" and name:
            self.send(200, ocsp_sign(name, request), ctype)
        elif kind == "canned" and name:
            with open(path(name + ".der"), "rb") as f:
                self.send(200, f.read(), ctype)
        elif kind == "trylater":
            self.send(200, bytes([0x30, 0x03, 0x0A, 0x01, 0x03]), ctype)
        elif kind == "http500":
            self.send(500, b"responder broken", "text/plain")
        elif kind == "garbage":
            self.send(200, b"this is not an OCSP response", ctype)
        elif kind == "redirect":
            self.send(302, b"", "text/plain", [("Location", "/ocsp/sign/ocsp")])
        elif kind == "slow":
            time.sleep(3)
            self.send(200, ocsp_sign("ocsp", request), ctype)
        else:
            self.send(404)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass    # a client that timed out and left: nothing to report


def main():
    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
