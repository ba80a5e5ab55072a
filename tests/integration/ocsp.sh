#!/bin/bash
# ocsp.sh - the OCSP responder, the CRL and the CA certificates as relying
# parties fetch them from `tessera serve --public-listen`, judged by
# independent clients: OpenSSL `openssl ocsp`, GnuTLS `ocsptool`, NSS
# `vfychain`, and nginx as a relying party doing mutual TLS with
# `ssl_ocsp`.  Covers good / revoked (time, reason) / unknown, the nonce,
# malformed and unauthorized requests, GET with its caching headers, status
# changes made by another process reaching the answers and the CRL within
# seconds, `tessera ocsp export`, and rotation of the OCSP-signing
# certificate under a running server.
. "$(dirname "$0")/lib.sh"
need openssl curl jq sqlite3 python3 ocsptool vfychain certutil nginx

PORT=$(free_port)
PUB=http://127.0.0.1:$PORT
H=$WORK/home
init_home "$H" --public-url "$PUB"
C=$H/certs
cat "$C/issuing.pem" "$C/root.pem" >"$WORK/cafile.pem"

# issue NAME: a device certificate (clientAuth, serverAuth) with its key in
# $WORK/NAME.key; sets $SERIAL.
issue()
{
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/$1.key" -subj "/CN=$1.example.org" -out "$WORK/$1.csr" 2>/dev/null ||
	    fail "openssl req for $1"
	tsr_ok "issue $1" cert issue --home "$H" --product device --csr "$WORK/$1.csr" \
	    --subject "CN=$1.example.org" --san "dns:$1.example.org" --out "$WORK/$1.pem"
	# The store's form: the octets in lower-case hex (openssl keeps a leading 0).
	SERIAL=$(openssl x509 -in "$WORK/$1.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)
}

# ask NAME [OPENSSL OCSP ARGS...]: openssl ocsp about $WORK/NAME.pem at /ocsp;
# the report in $WORK/ocsp.txt.
ask()
{
	local name=$1
	shift
	openssl ocsp -issuer "$C/issuing.pem" -cert "$WORK/$name.pem" -url "$PUB/ocsp" \
	    -CAfile "$WORK/cafile.pem" -resp_text "$@" >"$WORK/ocsp.txt" 2>&1 ||
	    { cat "$WORK/ocsp.txt" >&2; fail "openssl ocsp about $name failed"; }
}

# status_of NAME: good / revoked / unknown, as openssl ocsp says it.
status_of()
{
	ask "$1" -no_nonce
	sed -n "s|^$WORK/$1.pem: ||p" "$WORK/ocsp.txt"
}

# wait_status NAME WANT: the responder says WANT within 10 s.
wait_status()
{
	local got=
	for _ in $(seq 1 50); do
		got=$(status_of "$1")
		[ "$got" = "$2" ] && break
		sleep 0.2
	done
	expect "OCSP answer for $1 after the change" "$got" "$2"
}

issue alpha
A=$SERIAL
issue bravo
B=$SERIAL
issue charlie
C_SERIAL=$SERIAL
issue delta
D=$SERIAL

SERVE_ARGS=(--public-listen "127.0.0.1:$PORT")
start_server
grep -q "http://127.0.0.1:$PORT/" "$WORK/serve.out" || fail "serve does not announce $PUB"

section "good, with and without a nonce (openssl ocsp)"
ask alpha
file_has "the answer verifies under the root" "$WORK/ocsp.txt" "Response verify OK"
file_has "alpha is good" "$WORK/ocsp.txt" "$WORK/alpha.pem: good"
file_lacks "the nonce is echoed" "$WORK/ocsp.txt" "WARNING: no nonce"
grep -q "OCSP Nonce" "$WORK/ocsp.txt" || fail "no nonce extension in the answer"
pass "the answer carries the nonce"
file_has "a responder id" "$WORK/ocsp.txt" "Responder Id: .*"
grep -q "Cert Status: good" "$WORK/ocsp.txt" && pass "Cert Status: good"
ask alpha -no_nonce
file_has "alpha is good without a nonce (cached path)" "$WORK/ocsp.txt" "$WORK/alpha.pem: good"
openssl ocsp -issuer "$C/issuing.pem" -cert "$WORK/alpha.pem" -no_nonce -reqout "$WORK/req.der" \
    >/dev/null 2>&1 || fail "openssl ocsp -reqout"
curl -sS -o "$WORK/a1.der" --data-binary @"$WORK/req.der" \
    -H 'Content-Type: application/ocsp-request' "$PUB/ocsp"
curl -sS -o "$WORK/a2.der" --data-binary @"$WORK/req.der" \
    -H 'Content-Type: application/ocsp-request' "$PUB/ocsp"
cmp -s "$WORK/a1.der" "$WORK/a2.der" || fail "two requests without a nonce got different answers"
pass "answers without a nonce are signed once and served from the cache"
# The validity: thisUpdate .. nextUpdate is [ca] ocsp_response_hours (24).
openssl ocsp -respin "$WORK/a1.der" -resp_text -noverify >"$WORK/a1.txt" 2>&1
tu=$(date -u -d "$(sed -n 's/^ *This Update: //p' "$WORK/a1.txt")" +%s)
nu=$(date -u -d "$(sed -n 's/^ *Next Update: //p' "$WORK/a1.txt")" +%s)
expect "nextUpdate - thisUpdate" "$((nu - tu))" 86400

section "the responder's certificate"
openssl ocsp -respin "$WORK/a1.der" -resp_text -noverify 2>/dev/null |
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$WORK/responder.pem"
cmp -s <(openssl x509 -in "$WORK/responder.pem" -outform DER) \
    <(openssl x509 -in "$C/ocsp.pem" -outform DER) ||
    fail "the answer is not signed by certs/ocsp.pem"
pass "signed by the delegated OCSP certificate (certs/ocsp.pem)"
openssl x509 -in "$WORK/responder.pem" -noout -ext extendedKeyUsage | grep -q "OCSP Signing" ||
    fail "the responder certificate lacks id-kp-OCSPSigning"
pass "the responder certificate has id-kp-OCSPSigning"

section "GET (RFC 5019) and HTTP caching"
enc=$(base64 -w0 "$WORK/req.der" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')
curl -sS -D "$WORK/h.txt" -o "$WORK/g.der" "$PUB/ocsp/$enc"
grep -qi '^HTTP/1.1 200' "$WORK/h.txt" || { cat "$WORK/h.txt" >&2; fail "GET /ocsp/... not 200"; }
for h in 'Content-Type: application/ocsp-response' 'Cache-Control: max-age=[0-9]+, public, no-transform, must-revalidate' \
    'ETag: "[0-9a-f]{40}"' 'Last-Modified: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} ' \
    'Expires: [A-Z][a-z]{2}, '; do
	grep -Eqi "^$h" "$WORK/h.txt" || { cat "$WORK/h.txt" >&2; fail "GET lacks $h"; }
done
pass "GET answers with Content-Type, Cache-Control, ETag, Last-Modified and Expires"
cmp -s "$WORK/g.der" "$WORK/a1.der" || fail "GET and POST gave different answers"
pass "GET serves the same signed answer as POST"
# Unescaped slashes and pluses, as some clients send them, work too.
raw=$(base64 -w0 "$WORK/req.der")
curl -sS -o "$WORK/g2.der" "$PUB/ocsp/$raw"
cmp -s "$WORK/g2.der" "$WORK/a1.der" || fail "GET with raw base64 differs"
pass "GET with unescaped base64"
max_age=$(sed -n 's/^Cache-Control: max-age=\([0-9]*\).*/\1/ip' "$WORK/h.txt" | tr -d '\r')
[ "$max_age" -le 300 ] && [ "$max_age" -gt 0 ] || fail "max-age $max_age not in 1..300"
pass "max-age $max_age s (at most 5 minutes)"
curl -sS -I "$PUB/ocsp/$enc" -o "$WORK/head.txt"
grep -qi '^HTTP/1.1 200' "$WORK/head.txt" && pass "HEAD works"
# The HTTPS listener answers too.
curl -sS --cacert "$C/root.pem" -o "$WORK/s.der" --data-binary @"$WORK/req.der" \
    -H 'Content-Type: application/ocsp-request' "$URL/ocsp"
cmp -s "$WORK/s.der" "$WORK/a1.der" || fail "HTTPS /ocsp differs"
pass "the HTTPS listener serves /ocsp too"

section "GnuTLS ocsptool and NSS vfychain"
ocsptool --ask="$PUB/ocsp" --load-issuer "$C/issuing.pem" --load-cert "$WORK/alpha.pem" \
    --load-trust "$WORK/cafile.pem" >"$WORK/gnutls.txt" 2>&1 ||
    { cat "$WORK/gnutls.txt" >&2; fail "ocsptool --ask failed"; }
grep -q "Certificate Status: good" "$WORK/gnutls.txt" || { cat "$WORK/gnutls.txt" >&2; fail "ocsptool: not good"; }
grep -qi "Verifying OCSP Response: Success" "$WORK/gnutls.txt" ||
    { cat "$WORK/gnutls.txt" >&2; fail "ocsptool does not verify the response"; }
pass "ocsptool: good, response verified"
# NSS checks the responder's certificate against its database: the root
# trusted there, the issuing CA known.
mkdir "$WORK/nssdb"
certutil -N -d "sql:$WORK/nssdb" --empty-password
certutil -A -d "sql:$WORK/nssdb" -n root -t C,C,C -i "$C/root.pem"
certutil -A -d "sql:$WORK/nssdb" -n issuing -t ,, -i "$C/issuing.pem"
nss_check()
{
	vfychain -d "sql:$WORK/nssdb" -pp -u 1 -g leaf -m ocsp -s failIfNoInfo -a "$WORK/$1.pem" \
	    >"$WORK/nss.txt" 2>&1
}
nss_check alpha || { cat "$WORK/nss.txt" >&2; fail "vfychain -m ocsp refuses a good certificate"; }
grep -q "Chain is good" "$WORK/nss.txt" || { cat "$WORK/nss.txt" >&2; fail "vfychain: chain not good"; }
pass "NSS vfychain (OCSP required) accepts alpha"

section "nginx as a relying party: mutual TLS with ssl_ocsp"
NPORT=$(free_port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT ssl;
        ssl_certificate $H/tls/server.pem;
        ssl_certificate_key $H/tls/server.key;
        ssl_client_certificate $WORK/cafile.pem;
        ssl_verify_client on;
        ssl_verify_depth 2;
        ssl_ocsp leaf;
        location / { return 200 "hello \$ssl_client_s_dn\n"; }
    }
}
EOF
nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX=$!
KILL_AT_EXIT+=(NGINX)
for _ in $(seq 1 50); do
	curl -s -o /dev/null --cacert "$C/root.pem" "https://127.0.0.1:$NPORT/" && break
	sleep 0.1
done
code=$(curl -s -o "$WORK/n.txt" -w '%{http_code}' --cacert "$C/root.pem" \
    --cert "$WORK/delta.pem" --key "$WORK/delta.key" "https://127.0.0.1:$NPORT/")
expect "nginx lets delta in while it is good" "$code" 200
file_has "nginx saw delta's certificate" "$WORK/n.txt" "CN=delta.example.org"

section "revoke, suspend, resume: the answers follow within seconds"
tsr_ok "revoke bravo (keyCompromise)" cert revoke --home "$H" "$B" --reason keyCompromise
wait_status bravo revoked
ask bravo
file_has "the reason is keyCompromise" "$WORK/ocsp.txt" "Reason: keyCompromise"
file_has "the revocation time is given" "$WORK/ocsp.txt" "Revocation Time: "
rt=$(date -u -d "$(sed -n 's/^ *Revocation Time: //p' "$WORK/ocsp.txt" | head -n 1)" +%s)
db_rt=$(dbq "$H" "SELECT revoked_at FROM certificates WHERE serial = '$B'")
expect "the revocation time is the store's" "$rt" "$db_rt"
tsr_ok "suspend charlie" cert suspend --home "$H" "$C_SERIAL"
wait_status charlie revoked
ask charlie
file_has "a hold is revoked with certificateHold" "$WORK/ocsp.txt" "Reason: certificateHold"
tsr_ok "resume charlie" cert resume --home "$H" "$C_SERIAL"
wait_status charlie good
tsr_ok "revoke delta (affiliationChanged)" cert revoke --home "$H" "$D" --reason affiliationChanged
wait_status delta revoked
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/root.pem" \
    --cert "$WORK/delta.pem" --key "$WORK/delta.key" "https://127.0.0.1:$NPORT/" || true)
[ "$code" != 200 ] || fail "nginx still lets revoked delta in"
pass "nginx refuses delta once it is revoked (HTTP $code)"
grep -qi "certificate revoked\|revoked" "$WORK/nginx/error.log" && pass "nginx logged the revocation"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/root.pem" \
    --cert "$WORK/alpha.pem" --key "$WORK/alpha.key" "https://127.0.0.1:$NPORT/")
expect "nginx still lets alpha in" "$code" 200
kill "$NGINX" && wait "$NGINX" 2>/dev/null || true
NGINX=
nss_check bravo && fail "vfychain accepts revoked bravo"
grep -qi "revoked" "$WORK/nss.txt" || { cat "$WORK/nss.txt" >&2; fail "vfychain: no revocation error"; }
pass "NSS vfychain refuses bravo: revoked"
ocsptool --ask="$PUB/ocsp" --load-issuer "$C/issuing.pem" --load-cert "$WORK/bravo.pem" \
    --load-trust "$WORK/cafile.pem" >"$WORK/gnutls.txt" 2>&1 || true
grep -q "Certificate Status: revoked" "$WORK/gnutls.txt" || { cat "$WORK/gnutls.txt" >&2; fail "ocsptool: bravo not revoked"; }
pass "ocsptool: bravo revoked"

section "the CRL and the CA certificates at their URLs"
for _ in $(seq 1 50); do
	curl -sS -D "$WORK/ch.txt" -o "$WORK/issuing.crl" "$PUB/crl/issuing.crl"
	openssl crl -inform DER -in "$WORK/issuing.crl" -noout -text >"$WORK/crl.txt" 2>&1 || true
	grep -qi "Serial Number: 0*$(tr a-f A-F <<<"$D")" "$WORK/crl.txt" && break
	sleep 0.2
done
grep -qi '^Content-Type: application/pkix-crl' "$WORK/ch.txt" || fail "CRL Content-Type"
grep -Eqi '^Cache-Control: max-age=[0-9]+' "$WORK/ch.txt" || fail "CRL Cache-Control"
grep -qi '^Last-Modified: ' "$WORK/ch.txt" || fail "CRL Last-Modified"
pass "the CRL is served as application/pkix-crl with caching headers"
for s in "$B" "$D"; do
	grep -qi "Serial Number: 0*$(tr a-f A-F <<<"$s")" "$WORK/crl.txt" ||
	    { cat "$WORK/crl.txt" >&2; fail "the CRL lacks $s"; }
done
grep -qi "Serial Number: 0*$(tr a-f A-F <<<"$C_SERIAL")" "$WORK/crl.txt" &&
    fail "the CRL still lists resumed charlie"
pass "the served CRL lists bravo and delta, not resumed charlie"
openssl verify -crl_check -CAfile "$C/root.pem" -untrusted "$C/issuing.pem" \
    -CRLfile <(openssl crl -inform DER -in "$WORK/issuing.crl") "$WORK/bravo.pem" \
    >"$WORK/v.txt" 2>&1 && fail "openssl verify -crl_check accepts bravo"
grep -q "certificate revoked" "$WORK/v.txt" || { cat "$WORK/v.txt" >&2; fail "no 'certificate revoked'"; }
openssl verify -crl_check -CAfile "$C/root.pem" -untrusted "$C/issuing.pem" \
    -CRLfile <(openssl crl -inform DER -in "$WORK/issuing.crl") "$WORK/alpha.pem" >/dev/null 2>&1 ||
    fail "openssl verify -crl_check refuses good alpha"
pass "openssl verify -crl_check with the served CRL: bravo revoked, alpha OK"
curl -sS -o "$WORK/root.crl" "$PUB/crl/root.crl"
openssl crl -inform DER -in "$WORK/root.crl" -CAfile "$C/root.pem" -noout 2>&1 | grep -q "verify OK" ||
    fail "the root CRL does not verify under the root"
pass "the root's CRL is served and verifies"
curl -sS -D "$WORK/cah.txt" -o "$WORK/issuing.der" "$PUB/ca/issuing.crt"
grep -qi '^Content-Type: application/pkix-cert' "$WORK/cah.txt" || fail "caIssuers Content-Type"
cmp -s "$WORK/issuing.der" <(openssl x509 -in "$C/issuing.pem" -outform DER) ||
    fail "/ca/issuing.crt is not the issuing CA certificate"
curl -sS -o "$WORK/root.der" "$PUB/ca/root.crt"
cmp -s "$WORK/root.der" <(openssl x509 -in "$C/root.pem" -outform DER) || fail "/ca/root.crt"
pass "/ca/issuing.crt and /ca/root.crt are the CA certificates in DER"
aia=$(openssl x509 -in "$WORK/alpha.pem" -noout -ext authorityInfoAccess | sed -n 's/.*CA Issuers - URI://p')
expect "the leaf's caIssuers URL" "$aia" "$PUB/ca/issuing.crt"
# A client that has only the leaf builds the chain from the AIA.
vfychain -pp -pp -f -u 1 -a "$WORK/alpha.pem" -t -a "$C/root.pem" >"$WORK/nss.txt" 2>&1 ||
    { cat "$WORK/nss.txt" >&2; fail "vfychain -f cannot build the chain from the leaf"; }
pass "NSS builds the chain from the leaf alone (AIA fetching)"

section "unknown serials, other CAs, bad requests"
openssl ocsp -issuer "$C/issuing.pem" -serial 0x1234567890abcdef -url "$PUB/ocsp" \
    -CAfile "$WORK/cafile.pem" >"$WORK/ocsp.txt" 2>&1 || { cat "$WORK/ocsp.txt" >&2; fail "openssl ocsp -serial"; }
grep -q "0x1234567890abcdef: unknown" "$WORK/ocsp.txt" || { cat "$WORK/ocsp.txt" >&2; fail "not unknown"; }
pass "a serial the CA never issued is unknown (signed answer)"
root_serial=$(cert_serial "$C/issuing.pem")
openssl ocsp -issuer "$C/root.pem" -serial "0x$root_serial" -url "$PUB/ocsp" \
    -CAfile "$WORK/cafile.pem" >"$WORK/ocsp.txt" 2>&1 || true
grep -q "Responder Error: unauthorized (6)" "$WORK/ocsp.txt" ||
    { cat "$WORK/ocsp.txt" >&2; fail "a request about the root's certificates is not unauthorized"; }
pass "a request for another CA's certificate: unauthorized"
bad_post()
{
	curl -sS -o "$WORK/bad.der" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' \
	    --data-binary @"$1" "$PUB/ocsp" >"$WORK/code"
	expect "$2: HTTP status" "$(cat "$WORK/code")" 200
	openssl ocsp -respin "$WORK/bad.der" -resp_text -noverify >"$WORK/bad.txt" 2>&1 || true
	grep -qi "Responder Error: malformedRequest (1)" "$WORK/bad.txt" ||
	    { cat "$WORK/bad.txt" >&2; fail "$2: not malformedRequest"; }
	pass "$2: malformedRequest"
}
printf 'garbage' >"$WORK/garbage"
bad_post "$WORK/garbage" "garbage"
head -c 20 "$WORK/req.der" >"$WORK/trunc"
bad_post "$WORK/trunc" "a truncated request"
cat "$WORK/req.der" <(printf '\0') >"$WORK/trail"
bad_post "$WORK/trail" "a request with a trailing byte"
: >"$WORK/empty"
bad_post "$WORK/empty" "an empty body"
args=()
for n in 1 2 3 4 5 6 7 8 9; do args+=(-serial "0x$n"); done
openssl ocsp -issuer "$C/issuing.pem" "${args[@]}" -no_nonce -reqout "$WORK/many.der" >/dev/null 2>&1
bad_post "$WORK/many.der" "nine certificates in one request"
head -c 5000 /dev/urandom >"$WORK/big"
bad_post "$WORK/big" "an oversized request"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
    --data-binary @"$WORK/req.der" "$PUB/ocsp")
expect "a POST with the wrong media type" "$code" 415
curl -sS -o "$WORK/bad.der" "$PUB/ocsp/not-base64!"
openssl ocsp -respin "$WORK/bad.der" -resp_text -noverify >"$WORK/bad.txt" 2>&1 || true
grep -qi "malformedRequest" "$WORK/bad.txt" || fail "GET with garbage is not malformedRequest"
pass "GET with garbage: malformedRequest"
code=$(curl -s -o /dev/null -w '%{http_code}' "$PUB/api/v1/health")
expect "the plain listener serves nothing but the status routes" "$code" 404
# Eight serials (the limit) with a nonce: signed live, one answer each.
args=()
for s in "$A" "$B" "$C_SERIAL" "$D" 1 2 3 4; do args+=(-serial "0x$s"); done
openssl ocsp -issuer "$C/issuing.pem" "${args[@]}" -url "$PUB/ocsp" -CAfile "$WORK/cafile.pem" \
    >"$WORK/ocsp.txt" 2>&1 || { cat "$WORK/ocsp.txt" >&2; fail "eight serials"; }
expect "eight answers" "$(grep -c -E ': (good|revoked|unknown)$' "$WORK/ocsp.txt")" 8
expect "statuses of alpha bravo charlie delta" \
    "$(grep -E ': (good|revoked|unknown)$' "$WORK/ocsp.txt" | head -n 4 | sed 's/.*: //' | tr '\n' ' ')" \
    "good revoked good revoked "

section "tessera ocsp export"
tsr_ok "ocsp export" ocsp export --home "$H" --out "$WORK/export"
n=$(find "$WORK/export" -name '*.der' | wc -l)
subscribers=$(dbq "$H" "SELECT count(*) FROM certificates WHERE issuer = 'issuing' AND state = 'issued'")
expect "one file per certificate of the issuing CA" "$n" "$subscribers"
for name in alpha bravo; do
	# The serial's octets in upper-case hex, as openssl prints it.
	f=$WORK/export/$(openssl x509 -in "$WORK/$name.pem" -noout -serial | cut -d= -f2).der
	[ -f "$f" ] || fail "no export for $name ($f)"
	openssl ocsp -respin "$f" -issuer "$C/issuing.pem" -cert "$WORK/$name.pem" \
	    -CAfile "$WORK/cafile.pem" >"$WORK/e.txt" 2>&1 || { cat "$WORK/e.txt" >&2; fail "export $name"; }
	grep -q "Response verify OK" "$WORK/e.txt" || fail "exported $name does not verify"
done
grep -q "bravo.pem: revoked" "$WORK/e.txt" || { cat "$WORK/e.txt" >&2; fail "exported bravo not revoked"; }
pass "exported answers verify: alpha good, bravo revoked"

section "rotating the OCSP-signing certificate under a running server"
old=$(cert_serial "$C/ocsp.pem")
tsr_ok "ocsp rotate (not due)" ocsp rotate --home "$H"
file_has "a young certificate is not renewed" "$WORK/out" "not due"
tsr_ok "ocsp rotate --force" ocsp rotate --home "$H" --force
new=$(cert_serial "$C/ocsp.pem")
[ "$new" != "$old" ] || fail "certs/ocsp.pem did not change"
pass "certs/ocsp.pem is a new certificate ($new)"
for _ in $(seq 1 50); do
	curl -sS -o "$WORK/r.der" --data-binary @"$WORK/req.der" \
	    -H 'Content-Type: application/ocsp-request' "$PUB/ocsp"
	openssl ocsp -respin "$WORK/r.der" -resp_text -noverify 2>/dev/null |
	    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' >"$WORK/responder.pem"
	[ "$(cert_serial "$WORK/responder.pem")" = "$new" ] && break
	sleep 0.2
done
expect "the server signs with the new certificate" "$(cert_serial "$WORK/responder.pem")" "$new"
ask alpha
file_has "answers by the new certificate verify" "$WORK/ocsp.txt" "Response verify OK"
audit_json "$H"
jq -e "$JQ_ITEMS | map(select(.action == \"ocsp.rotate\" and .outcome == \"success\")) | length == 1" \
    "$WORK/audit.json" >/dev/null || fail "no ocsp.rotate audit record"
pass "audited: ocsp.rotate"
jq -e "$JQ_ITEMS | map(select(.action == \"crl.issue\")) | length >= 2" "$WORK/audit.json" \
    >/dev/null || fail "no crl.issue audit records"
pass "audited: crl.issue"

stop_server
