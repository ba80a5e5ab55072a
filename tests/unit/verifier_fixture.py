#!/usr/bin/env python3
"""A stand-in external verifier for tests/unit/test_verifier.c.

Usage: verifier_fixture.py RECORD_DIR TOKEN

Listens on 127.0.0.1 on an ephemeral port and prints the port on one line.
Every request is recorded, before it is answered, as RECORD_DIR/request.json:
{"method", "path", "headers": {lower-case name: value}, "body": text}.
The path chooses the answer (see ANSWERS and the special cases in do_POST).
/auth/... answers 401 unless "Authorization: Bearer TOKEN" came with it.
It stops on SIGTERM (the test kills it) or when its stdin closes.
"""
import http.server
import json
import os
import sys
import threading
import time

RECORD_DIR = sys.argv[1]
TOKEN = sys.argv[2]

ANSWERS = {
    "/pass": {"result": "pass", "evidence": "NPI 1234567893 matches the NPPES record of Jane Doe"},
    "/fail": {"result": "fail", "evidence": "DEA registration AB1234563 is retired"},
    "/bare": {"result": "pass"},
    "/control": {"result": "fail",
                 "evidence": "red\u001b[31m bell\u0007 line\nnext\ttab c1\u0085 bidi\u202eevil\u2066 ok"},
    "/extra": {"result": "pass", "evidence": "x", "score": 3},
    "/wrong-result": {"result": True},
    "/unknown-result": {"result": "maybe"},
    "/no-result": {"evidence": "nothing decided"},
    "/evidence-type": {"result": "pass", "evidence": 42},
    "/evidence-max": {"result": "pass", "evidence": "e" * 1000},
    "/evidence-long": {"result": "pass", "evidence": "e" * 1001},
    "/array": ["pass"],
    # a key whose first 40 bytes end inside a character: "a" and 30 x U+00E9
    "/extra-utf8": {"result": "pass", "a" + "\u00e9" * 30: 1},
    "/utf8": {"result": "pass", "evidence": "Zo\u00eb Doe \u2014 NPPES \u2713 \u78ba\u8a8d \U0001f600"},
}

# A Content-Type of 61 bytes: two bytes that are not UTF-8, then fifteen
# euro signs, so that its first 60 bytes end inside the last one.
ODD_TYPE = (b"text/plain; q=\xff\xfe" + "\u20ac".encode() * 15).decode("latin-1")
# JSON that is not UTF-8 (sent as raw bytes, as json.dumps would escape them).
NOT_UTF8 = b'{"result": "fail", "evidence": "bad \xff\xfe bytes \xe2\x82 and \xc3"}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def record(self, body):
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("latin-1")}
        tmp = os.path.join(RECORD_DIR, "request.json.tmp")
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(RECORD_DIR, "request.json"))

    def answer(self, status, body, ctype="application/json", length=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.record(body)
        path = self.path
        if path.startswith("/auth/"):
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                self.answer(401, b'{"error": "bad token"}')
                return
            path = path[len("/auth"):]
        if path in ANSWERS:
            self.answer(200, json.dumps(ANSWERS[path]).encode())
        elif path == "/bad-json":
            self.answer(200, b'{"result": "pass", ')
        elif path == "/duplicate":
            self.answer(200, b'{"result": "pass", "result": "fail"}')
        elif path == "/trailing":
            self.answer(200, b'{"result": "pass"} {"result": "fail"}')
        elif path == "/odd-type":
            # http.server sends header values as latin-1: these are the raw bytes
            self.answer(200, b'{"result": "pass"}', ctype=ODD_TYPE)
        elif path == "/not-utf8":
            self.answer(200, NOT_UTF8)
        elif path == "/text":
            self.answer(200, b'{"result": "pass"}', ctype="text/plain")
        elif path == "/500":
            self.answer(500, b'{"result": "pass"}')
        elif path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/pass")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":
            time.sleep(5)
            self.answer(200, json.dumps(ANSWERS["/pass"]).encode())
        elif path == "/huge":
            pad = "x" * (100 * 1024)
            self.answer(200, json.dumps({"result": "pass", "evidence": pad}).encode())
        elif path == "/huge-stream":
            pad = "x" * (100 * 1024)
            self.answer(200, json.dumps({"result": "pass", "evidence": pad}).encode(),
                        length=False)
        else:
            self.answer(404, b'{"error": "no such mode"}')


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    # The test holds our stdin open; EOF means it is gone.
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
