#!/usr/bin/env python3
"""A stand-in EST server for tests/unit/test_client.c, built from python3's
http.server and ssl and the openssl command (which plays the CA), so the
client is tested against an implementation that is not Tessera's.

Usage: est_fixture.py DIR

At start it makes, in DIR: root.pem (the CA root), issuing.pem/.key,
server.pem/.key (TLS, for 127.0.0.1 and localhost) and other-root.pem (a
root that did not issue the server's certificate).  Then it listens on
127.0.0.1 on an ephemeral port and prints the port on one line.

  GET  /.well-known/est/cacerts         issuing + root, base64 certs-only
  GET  /.well-known/est/csrattrs        Basic code:pw; DIR/csrattrs.b64 (if absent: 204)
  POST /.well-known/est/simpleenroll    Basic code:pw; the token serial header must
                                        equal DIR/serial if that exists; issues with
                                        openssl; the same key gets the same certificate
  POST /.well-known/est/simplereenroll  a TLS client certificate from root is required
  POST /api/v1/test-my-cert/nonce       a nonce (DIR/mode "bad-message": another message)
  POST /api/v1/test-my-cert             checks the signature with openssl
  GET  /whoami                          the TLS client certificate's subject and the TLS version
  GET  /big                             2 MiB of JSON
  GET  /problem                         a 422 problem whose detail holds control characters

DIR/mode "fail-after-issue" answers 503 once after issuing (an interrupted
retrieval).  Every request is recorded in DIR/request.json, the last
simplereenroll also in DIR/reenroll.json.  It stops on
SIGTERM or when its stdin closes.
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading

DIR = sys.argv[1]
CREDENTIALS = "Basic " + base64.b64encode(b"ABCD-EFGH-JKLM:account password").decode()
PREFIX = "Tessera test my certificate: "
NONCES = set()
ISSUED = {}     # SHA-256 of the public key (DER) -> base64 certs-only


def path(name):
    return os.path.join(DIR, name)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def make_ca():
    ext = path("ext.cnf")
    with open(ext, "w") as f:
        f.write("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                "[server]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n"
                "[ee]\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=emailProtection,clientAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    for root in ("root", "other-root"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path(root + ".key"), "-out", path(root + ".pem"), "-days", "30",
                "-subj", "/CN=Fixture " + root, "-addext", "basicConstraints=critical,CA:true",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    sign_new("issuing", "/CN=Fixture Issuing CA", "root", "ca")
    sign_new("server", "/CN=127.0.0.1", "issuing", "server")


def sign_new(name, subj, ca, section):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj", subj)
    openssl("x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"), "-CAkey",
            path(ca + ".key"), "-CAcreateserial", "-days", "30", "-extfile", path("ext.cnf"),
            "-extensions", section, "-out", path(name + ".pem"))
    if name == "server":   # the server sends its chain
        with open(path("server-chain.pem"), "w") as out:
            out.write(open(path("server.pem")).read() + open(path("issuing.pem")).read())


def certs_only(pems):
    der = openssl("crl2pkcs7", "-nocrl", *sum([["-certfile", p] for p in pems], []),
                  "-outform", "DER")
    return base64.encodebytes(der)   # 76-character lines, as many servers send


def issue(csr_der):
    """Issue for the CSR's key; the same key gets the same answer."""
    csr = path("req.der")
    with open(csr, "wb") as f:
        f.write(csr_der)
    pub = openssl("req", "-in", csr, "-inform", "DER", "-pubkey", "-noout", "-verify")
    key = hashlib.sha256(pub).hexdigest()
    if key not in ISSUED:
        cert = path("ee-%s.pem" % key[:16])
        openssl("x509", "-req", "-in", csr, "-inform", "DER", "-CA", path("issuing.pem"),
                "-CAkey", path("issuing.key"), "-CAcreateserial", "-days", "10", "-subj",
                "/CN=Jane Doe", "-extfile", path("ext.cnf"), "-extensions", "ee", "-out", cert)
        ISSUED[key] = certs_only([cert])
    return ISSUED[key]


def mode():
    try:
        return open(path("mode")).read().strip()
    except FileNotFoundError:
        return ""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, ctype, body, extra=None):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (OSError, ssl.SSLError):
            pass   # the client stopped reading (an answer over its cap)

    def problem(self, status, name, detail, extra=None):
        body = json.dumps({"type": "https://tessera.invalid/problems/" + name, "title": name,
                           "status": status, "detail": detail}).encode()
        self.send(status, "application/problem+json", body, extra)

    def record(self, body):
        peer = self.connection.getpeercert(binary_form=True)
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("latin-1"), "tls": self.connection.version(),
               "peer": hashlib.sha256(peer).hexdigest() if peer else None}
        for name in ("request.json",) + (("reenroll.json",) if "reenroll" in self.path else ()):
            with open(path(name + ".tmp"), "w") as f:
                json.dump(rec, f)
            os.rename(path(name + ".tmp"), path(name))

    def authorized(self):
        if self.headers.get("Authorization") == CREDENTIALS:
            return True
        self.problem(401, "auth", "the activation code or password is wrong",
                     {"WWW-Authenticate": 'Basic realm="fixture"'})
        return False

    def do_GET(self):
        self.record(b"")
        if self.path == "/.well-known/est/cacerts":
            self.send(200, "application/pkcs7-mime",
                      certs_only([path("issuing.pem"), path("root.pem")]),
                      {"Content-Transfer-Encoding": "base64"})
        elif self.path == "/.well-known/est/csrattrs":
            if not self.authorized():
                return
            if os.path.exists(path("csrattrs.b64")):
                self.send(200, "application/csrattrs", open(path("csrattrs.b64"), "rb").read())
            else:
                self.send(204, None, b"")
        elif self.path == "/whoami":
            peer = self.connection.getpeercert()
            subject = dict(x[0] for x in peer["subject"]) if peer else {}
            self.send(200, "application/json", json.dumps(
                {"cn": subject.get("commonName"), "tls": self.connection.version()}).encode())
        elif self.path == "/big":
            self.send(200, "application/json", b'"' + b"x" * (2 << 20) + b'"')
        elif self.path == "/problem":
            self.problem(422, "policy", "red\u001b[31m bell\u0007 ok")
        else:
            self.problem(404, "not-found", "no such path")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.record(body)
        if self.path == "/.well-known/est/simpleenroll":
            if not self.authorized():
                return
            want = open(path("serial")).read().strip() if os.path.exists(path("serial")) else None
            got = self.headers.get("X-Tessera-Token-Serial")
            if want is not None and got != want:
                return self.problem(422, "policy", "the token (serial %s) is not the one "
                                    "assigned to this application" % got)
            self.enroll(body)
        elif self.path == "/.well-known/est/simplereenroll":
            if self.connection.getpeercert(binary_form=True) is None:
                return self.problem(401, "auth", "renewal needs the current certificate")
            self.enroll(body)
        elif self.path == "/api/v1/test-my-cert/nonce":
            nonce = secrets.token_urlsafe(16)
            NONCES.add(nonce)
            message = PREFIX + nonce if mode() != "bad-message" else "Pay 100 EUR to Mallory"
            self.send(201, "application/json", json.dumps(
                {"nonce": nonce, "expires_at": "2099-01-01T00:00:00Z",
                 "message": message}).encode())
        elif self.path == "/api/v1/test-my-cert":
            self.test(json.loads(body))
        else:
            self.problem(404, "not-found", "no such path")

    def enroll(self, body):
        try:
            csr = base64.b64decode(body, validate=False)
            answer = issue(csr)
        except (subprocess.CalledProcessError, ValueError):
            return self.problem(400, "parse", "the request is not a valid CSR")
        if mode() == "fail-after-issue":
            os.unlink(path("mode"))
            return self.problem(503, "io", "the connection broke")
        self.send(200, "application/pkcs7-mime; smime-type=certs-only", answer,
                  {"Content-Transfer-Encoding": "base64"})

    def test(self, req):
        nonce = req.get("nonce")
        if nonce not in NONCES:
            return self.problem(422, "policy", "this nonce is unknown")
        NONCES.discard(nonce)
        cert, sig = path("test-cert.pem"), path("test.sig")
        with open(cert, "w") as f:
            f.write(req["certificate"])
        with open(sig, "wb") as f:
            f.write(base64.b64decode(req["signature"]))
        with open(path("test.msg"), "w") as f:
            f.write(PREFIX + nonce)
        pub = openssl("x509", "-in", cert, "-pubkey", "-noout")
        with open(path("test-pub.pem"), "wb") as f:
            f.write(pub)
        text = openssl("x509", "-in", cert, "-noout", "-text").decode()
        md = "-sha384" if ("secp384r1" in text or "(4096 bit)" in text) else "-sha256"
        ok = subprocess.run(["openssl", "dgst", md, "-verify", path("test-pub.pem"),
                             "-signature", sig, path("test.msg")], capture_output=True)
        chain = subprocess.run(["openssl", "verify", "-CAfile", path("root.pem"), "-untrusted",
                                path("issuing.pem"), cert], capture_output=True)
        good = lambda b: "good" if b else "bad"
        checks = {"signature": {"result": good(ok.returncode == 0), "detail": "checked"},
                  "chain": {"result": good(chain.returncode == 0), "detail": "checked"},
                  "validity": {"result": "good", "detail": "valid now"},
                  "status": {"result": "good", "detail": "not revoked"}}
        allgood = all(c["result"] == "good" for c in checks.values())
        self.send(200, "application/json", json.dumps(
            {"good": allgood, "serial": "01AB", "subject": "CN=Jane Doe",
             "checks": checks}).encode())


def main():
    make_ca()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(path("server-chain.pem"), path("server.key"))
    ctx.load_verify_locations(path("root.pem"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sys.stdin.read()   # until the test closes it
    httpd.shutdown()


main()
