#!/bin/bash
# serve.sh - `tessera serve`: HTTPS on a loopback port chosen by the kernel,
# the read-only API judged with curl, jq and openssl, and a clean stop on
# SIGTERM and SIGINT.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

base_home
H=$BASE

# header NAME: a header of the last answer.
header() { grep -i "^$1:" "$WORK/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

section "start"
start_server

section "health and the security headers"
api /api/v1/health
expect "health is 200" "$STATUS" 200
expect "health says ok" "$(jq -r .status "$WORK/body")" ok
expect "JSON content type" "$(header Content-Type)" application/json
expect "Cache-Control" "$(header Cache-Control)" no-store
expect "X-Content-Type-Options" "$(header X-Content-Type-Options)" nosniff
expect "Strict-Transport-Security" "$(header Strict-Transport-Security)" max-age=31536000
expect "Referrer-Policy" "$(header Referrer-Policy)" no-referrer
expect "Content-Security-Policy" "$(header Content-Security-Policy)" \
    "default-src 'none'; frame-ancestors 'none'"

section "products"
"$TESSERA" product list --home "$H" --json >"$WORK/cli.json"
api /api/v1/products
expect "products is 200" "$STATUS" 200
expect "the API lists the CLI's products, in order" \
    "$(jq -c '[.products[].name]' "$WORK/body")" "$(jq -c '[.[].name]' "$WORK/cli.json")"
expect "only public members" "$(jq -c '[.products[0] | keys[]] | sort' "$WORK/body")" \
    '["applicant_fields","class","description","key_types","name","payment","storage","title","validity_days"]'
api /api/v1/products/epcs
expect "one product is 200" "$STATUS" 200
expect "epcs as the CLI shows it" "$(jq -c '[.name,.class,.storage,.validity_days]' "$WORK/body")" \
    "$(jq -c '.[] | select(.name == "epcs") | [.name,.class,.storage,.validity_days]' "$WORK/cli.json")"

section "errors are problem documents"
api /api/v1/products/nope
expect "unknown product is 404" "$STATUS" 404
expect "problem content type" "$(header Content-Type)" application/problem+json
expect "problem type" "$(jq -r .type "$WORK/body")" https://tessera.invalid/problems/not-found
expect "problem instance" "$(jq -r .instance "$WORK/body")" /api/v1/products/nope
api /api/v1/products -X POST -H 'Content-Type: application/json' --data '{}'
expect "POST on a GET resource is 405" "$STATUS" 405
expect "405 says what is allowed" "$(header Allow)" "GET, HEAD"
api /api/v1/products/
expect "no trailing-slash games" "$STATUS" 404
api /api/v1/products -X GET -H 'Content-Type: application/json' --data-binary @<(head -c 70000 /dev/zero | tr '\0' a)
expect "a body where none is taken is 413" "$STATUS" 413

section "the OpenAPI document"
api /api/v1/openapi.json
expect "openapi.json is 200" "$STATUS" 200
expect "OpenAPI 3.0.3" "$(jq -r .openapi "$WORK/body")" 3.0.3
for p in /api/v1/health /api/v1/openapi.json /api/v1/products '/api/v1/products/{name}'; do
	expect "documents $p" "$(jq --arg p "$p" '.paths | has($p)' "$WORK/body")" true
done

section "TLS"
# The certificate chains to the CA's root and names localhost.
check "curl verifies https://localhost with the CA's root" \
    curl -sS --max-time 5 --cacert "$H/certs/root.pem" -o /dev/null "${URL/127.0.0.1/localhost}/api/v1/health"
HOSTPORT=${URL#https://}
check "TLS 1.3 is accepted" \
    openssl s_client -connect "$HOSTPORT" -tls1_3 -CAfile "$H/certs/root.pem" -verify_return_error
check "TLS 1.2 is accepted" \
    openssl s_client -connect "$HOSTPORT" -tls1_2 -CAfile "$H/certs/root.pem" -verify_return_error
check_fails "TLS 1.1 is refused" \
    openssl s_client -connect "$HOSTPORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
check_fails "TLS 1.2 CBC suites are refused" \
    openssl s_client -connect "$HOSTPORT" -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA'

section "request smuggling: one framing only"
# raw REQUESTS: send them on one TLS connection, print what comes back.
raw()
{
	printf '%b' "$1" | timeout 10 openssl s_client -quiet -connect "$HOSTPORT" \
	    -CAfile "$H/certs/root.pem" 2>/dev/null || true
}
smuggle()
{
	local desc=$1 first=$2 status=$3 out
	out=$(raw "${first}GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
	printf '%s\n' "$out" >"$WORK/raw"
	grep -q "HTTP/1.1 $status" "$WORK/raw" || { cat "$WORK/raw"; fail "$desc: no $status"; }
	grep -qi '^Connection: close' "$WORK/raw" || { cat "$WORK/raw"; fail "$desc: not closed"; }
	# responses follow bodies on the same line: count status lines anywhere
	[ "$(grep -o 'HTTP/1\.1 [0-9][0-9][0-9]' "$WORK/raw" | wc -l)" -eq 1 ] ||
	    { cat "$WORK/raw"; fail "$desc: the request behind it was served"; }
	pass "$desc: $status, connection closed, nothing behind it served"
}
smuggle "two Content-Length headers" \
    'POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello' 400
smuggle "Content-Length with Transfer-Encoding" \
    'POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' 411
# control: two well-framed requests on one connection are both served
printf '%s\n' "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')" >"$WORK/raw"
expect "two pipelined well-framed requests are both answered" \
    "$(grep -o 'HTTP/1\.1 200' "$WORK/raw" | wc -l)" 2

section "the access log"
api '/api/v1/health?code=SECRET-CODE'
file_has "a line per request" "$WORK/serve.err" \
    '^time=[0-9TZ:-]+ ip=127\.0\.0\.1 method=GET path=/api/v1/health status=200 bytes=31 ms=[0-9]+$'
stop_server TERM
file_has "query names are logged" "$WORK/serve.err" 'path=/api/v1/health\?code status=400'
file_lacks "query values are not" "$WORK/serve.err" 'SECRET-CODE'

section "stop on SIGINT too"
start_server
stop_server INT

section "refusals"
tsr_fails "a host name is not a listen address" 64 'IPv4:PORT' serve --home "$H" --listen localhost:8443
start_server
tsr_fails "a busy port is refused" any 'cannot listen' serve --home "$H" --listen "${URL#https://}"
stop_server TERM
