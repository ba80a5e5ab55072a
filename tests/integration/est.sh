#!/bin/bash
# est.sh - EST (RFC 7030) and Test My Certificate with nothing of Tessera's
# on the client side: curl, an OpenSSL key and CSR, `openssl pkcs7`,
# `openssl asn1parse`, `openssl verify`, `openssl dgst -sign`.  An S/MIME
# application (software storage: no token) is taken to activation_issued
# over the API; the activation code comes from the outbox.  Then: cacerts,
# csrattrs, simpleenroll (the subject from the application, the key from
# the CSR; the same request again gives the same certificate; another key
# is refused), simplereenroll over mutual TLS, and Test My Certificate.  A
# second application, on a new token, checks the token claim headers.
# Every bad input gets its status and leaves the certificates table as it
# was.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 sqlite3 base64

base_home
H=$BASE
EST=/.well-known/est
CHALLENGE='Basic realm="tessera", charset="UTF-8"'

db() { dbq "$H" "$1"; }
state_of() { db "SELECT state FROM applications WHERE id = '$1'"; }

# problem DESC STATUS TYPE [DETAIL-REGEX]: the last call was refused with a
# problem document of this status and type.
problem()
{
	local desc=$1 want=$2 type=$3 re=${4-} got
	got=$(jq -r .type "$WORK/body" 2>/dev/null || true)
	if [ "$STATUS" != "$want" ] || [ "$got" != "https://tessera.invalid/problems/$type" ]; then
		show_body
		fail "$desc: expected $want $type, got $STATUS ${got##*/}"
	fi
	[ "$(hdr Content-Type)" = application/problem+json ] ||
	    fail "$desc: Content-Type $(hdr Content-Type)"
	if [ -n "$re" ] && ! field .detail | grep -Eiq -- "$re"; then
		fail "$desc: detail '$(field .detail)' does not match /$re/"
	fi
	pass "$desc ($want $type: $(field .detail))"
}

# hdr NAME: the value of response header NAME of the last call ("" if none).
hdr()
{
	awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" '{ sub(/\r$/, "") }
	    tolower(substr($0, 1, length(n) + 1)) == n ":" { sub(/^[^:]*: */, ""); print; exit }' \
	    "$WORK/headers"
}

# unchanged DESC: the certificates table has $ROWS rows still.
unchanged() { expect "$1: no certificate row added" "$(cert_count_db "$H")" "$ROWS"; }

# csr KEY OUT [SUBJ]: base64 (lines of 64, as `openssl base64` writes) of a
# DER CSR for KEY, with a subject the CA must not use.
csr()
{
	openssl req -new -key "$1" -subj "${3:-/CN=Mallory/O=Not From Here}" -outform DER |
	    openssl base64 >"$2"
}

# enroll CODE PASSWORD CSRFILE [CURL ARGS...]: POST simpleenroll.
enroll()
{
	local code=$1 pw=$2 body=$3
	shift 3
	api "$EST/simpleenroll" -u "$code:$pw" -H 'Content-Type: application/pkcs10' \
	    --data-binary "@$body" "$@"
}

# certs_of OUT: the certificates of the last answer (base64 certs-only CMS)
# as PEM into OUT; prints how many.
certs_of()
{
	base64 -d "$WORK/body" >"$WORK/answer.p7" || fail "the answer is not base64"
	openssl pkcs7 -inform DER -in "$WORK/answer.p7" -print_certs -out "$1" ||
	    fail "the answer is not a PKCS#7 openssl reads"
	grep -c 'BEGIN CERTIFICATE' "$1"
}

pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha; }
pubkey_of_key() { openssl pkey -in "$1" -pubout -outform DER | sha; }
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256; }

# ------------------------------------------------------------------ setup
section "an approved S/MIME application"
PW_ALICE='violet tractor umbrella 42'
PW='correct horse battery staple'
add_user alice ra-officer "$PW_ALICE"
vouchers VOUCHERS smime 2
VOUCHER=${VOUCHERS[0]}
start_server
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
jq -n --arg v "$VOUCHER" --arg pw "$PW" --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
      applicant: {given_name: "Jane", family_name: "Tester", email: "jane@example.org"},
      questions: $q}' >"$WORK/app.json"
call POST /api/v1/applications "@$WORK/app.json"
answered "apply for S/MIME, software storage" 201
A=$(field .id)
VCODE=$(mail_codes "$H/outbox" verification "$A" "$VCODE_RE")
call POST "/api/v1/applications/$A/email-verification" "{\"code\":\"$VCODE\"}"
answered "the email is verified" 200
login TOKEN alice "$PW_ALICE"
call POST "/api/v1/ra/applications/$A/approval" '{}' "$TOKEN"
answered "alice approves (one approval is final for S/MIME)" 200
expect "activation issued" "$(state_of "$A")" activation_issued
CODE=$(mail_codes "$H/outbox" activation "$A" "$ACODE_RE")
[ -n "$CODE" ] && [ "$CODE" != "(no match)" ] || fail "no activation code in the outbox"
pass "the activation code is in the outbox"
ROWS=$(cert_count_db "$H")

# ------------------------------------------------------------------ cacerts
section "cacerts: the issuing CA and the root, to anyone"
api "$EST/cacerts"
answered "GET cacerts without credentials" 200
expect "Content-Type" "$(hdr Content-Type)" application/pkcs7-mime
expect "Content-Transfer-Encoding" "$(hdr Content-Transfer-Encoding)" base64
expect "two certificates" "$(certs_of "$WORK/cacerts.pem")" 2
openssl x509 -in "$WORK/cacerts.pem" -out "$WORK/ca1.pem"
awk 'n > 0 || /END CERTIFICATE/ { if (n++ > 0) print }' "$WORK/cacerts.pem" |
    openssl x509 -out "$WORK/ca2.pem"
expect "the first is the issuing CA" "$(fingerprint "$WORK/ca1.pem")" \
    "$(fingerprint "$H/certs/issuing.pem")"
expect "the second is the root" "$(fingerprint "$WORK/ca2.pem")" \
    "$(fingerprint "$H/certs/root.pem")"
check "openssl asn1parse: a degenerate SignedData, no signers" \
    openssl asn1parse -inform DER -in "$WORK/answer.p7"
file_has "pkcs7-signedData" "$WORK/out" 'OBJECT +:pkcs7-signedData'
api "$EST/cacerts" -I
answered "HEAD cacerts" 200
api "$EST/cacerts" -X POST
problem "POST cacerts" 405 method-not-allowed
api "$EST/cacerts/"
problem "cacerts/ (paths match exactly)" 404 not-found

# ------------------------------------------------------------------ csrattrs
section "csrattrs: the key type the product wants"
api "$EST/csrattrs"
answered "without credentials: nothing to ask" 204
expect "no body" "$(wc -c <"$WORK/body")" 0
api "$EST/csrattrs" -u "$CODE:$PW"
answered "with the activation code and password" 200
expect "Content-Type" "$(hdr Content-Type)" application/csrattrs
expect "Content-Transfer-Encoding" "$(hdr Content-Transfer-Encoding)" base64
base64 -d "$WORK/body" >"$WORK/attrs.der"
check "openssl asn1parse reads the CsrAttrs" openssl asn1parse -inform DER -in "$WORK/attrs.der"
cp "$WORK/out" "$WORK/attrs.txt"
file_has "an attribute: id-ecPublicKey" "$WORK/attrs.txt" 'OBJECT +:id-ecPublicKey'
file_has "... on P-256" "$WORK/attrs.txt" 'OBJECT +:prime256v1'
file_has "and the signature algorithm ecdsa-with-SHA256" "$WORK/attrs.txt" \
    'OBJECT +:ecdsa-with-SHA256'
file_lacks "nothing else" "$WORK/attrs.txt" 'rsaEncryption|secp384r1'
FAILS=$(db "SELECT failed_logins FROM applications WHERE id = '$A'")
api "$EST/csrattrs" -u "$CODE:not the password"
problem "csrattrs with a wrong password" 401 auth
expect "WWW-Authenticate" "$(hdr WWW-Authenticate)" "$CHALLENGE"
expect "the failure is counted" "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" \
    $((FAILS + 1))
api "$EST/csrattrs" -H 'Authorization: Bearer abc'
problem "csrattrs with another scheme" 401 auth
expect "WWW-Authenticate" "$(hdr WWW-Authenticate)" "$CHALLENGE"

# ------------------------------------------------------------------ bad requests
section "simpleenroll: bad requests issue nothing"
make_key ec-p256 "$WORK/key.pem"
csr "$WORK/key.pem" "$WORK/csr.b64"
api "$EST/simpleenroll" -H 'Content-Type: application/pkcs10' --data-binary "@$WORK/csr.b64"
problem "no credentials" 401 unauthenticated
expect "WWW-Authenticate" "$(hdr WWW-Authenticate)" "$CHALLENGE"
enroll "$CODE" "not the password" "$WORK/csr.b64"
problem "a wrong password" 401 auth
expect "WWW-Authenticate" "$(hdr WWW-Authenticate)" "$CHALLENGE"
expect "the failure is counted" "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" \
    $((FAILS + 2))
OTHER=$(tr '0-9A-Z' '1-9A-Z0' <<<"$CODE")
enroll "$OTHER" "$PW" "$WORK/csr.b64"
[ "$STATUS" = 400 ] || [ "$STATUS" = 401 ] || { show_body; fail "another code: status $STATUS"; }
pass "another activation code: $STATUS $(field .type | sed 's,.*/,,')"
api "$EST/simpleenroll" -u "$CODE:$PW" -H 'Content-Type: application/json' \
    --data-binary "@$WORK/csr.b64"
problem "a JSON content type" 415 unsupported-media-type 'application/pkcs10'
enroll "$CODE" "$PW" "$WORK/csr.b64" -H 'Content-Type: application/json'
problem "two content types" 400 parse
api "$EST/simpleenroll" -u "$CODE:$PW" --data-binary "@$WORK/csr.b64"
problem "a form content type (curl's default)" 415 unsupported-media-type
printf 'not base64 at all!\n' >"$WORK/bad.b64"
enroll "$CODE" "$PW" "$WORK/bad.b64"
problem "a body that is not base64" 400 parse base64
openssl req -new -key "$WORK/key.pem" -subj /CN=x | base64 >"$WORK/pem.b64"
enroll "$CODE" "$PW" "$WORK/pem.b64"
problem "base64 of a PEM CSR, not of DER" 400 parse
openssl req -new -key "$WORK/key.pem" -subj /CN=x -outform DER >"$WORK/csr.der"
base64 -w0 "$WORK/csr.der" | tr '+/' '-_' | tr -d = >"$WORK/url.b64"
enroll "$CODE" "$PW" "$WORK/url.b64"
problem "base64url without padding" 400 parse
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-1] ^= 1
open(sys.argv[2], "wb").write(d)' "$WORK/csr.der" "$WORK/badsig.der"
base64 "$WORK/badsig.der" >"$WORK/badsig.b64"
enroll "$CODE" "$PW" "$WORK/badsig.b64"
problem "a CSR whose signature does not verify" 400 signature
make_key secp256k1 "$WORK/k1.pem"
csr "$WORK/k1.pem" "$WORK/k1.b64"
enroll "$CODE" "$PW" "$WORK/k1.b64"
problem "a key type no product allows (secp256k1)" 422 key
head -c 70000 /dev/zero | tr '\0' A >"$WORK/big.b64"
enroll "$CODE" "$PW" "$WORK/big.b64"
problem "a body over 64 KiB" 413 too-large
enroll "$CODE" "$PW" "$WORK/csr.b64" -H "X-Tessera-Token-Serial: $(printf '%070d' 1)"
problem "a token claim over 64 characters" 400 invalid 'X-Tessera-Token-Serial'
enroll "$CODE" "$PW" "$WORK/csr.b64" -H 'X-Tessera-Token-Model: a' -H 'X-Tessera-Token-Model: b'
problem "a token claim given twice" 400 invalid 'X-Tessera-Token-Model'
unchanged "after every bad request"
expect "still activation_issued" "$(state_of "$A")" activation_issued

# ------------------------------------------------------------------ simpleenroll
section "simpleenroll: curl and an OpenSSL CSR"
# The pipeline docs/est.md shows, as it stands.
openssl req -new -key "$WORK/key.pem" -subj '/CN=Mallory/O=Not From Here' -outform DER |
    base64 | curl -sS -f --cacert "$H/certs/root.pem" -u "$CODE:$PW" \
    -H 'Content-Type: application/pkcs10' --data-binary @- "$URL$EST/simpleenroll" |
    base64 -d | openssl pkcs7 -inform DER -print_certs >"$WORK/cert.pem" ||
    fail "the enrolment pipeline failed"
expect "one certificate" "$(grep -c 'BEGIN CERTIFICATE' "$WORK/cert.pem")" 1
check "openssl verify: it chains to the root" openssl verify -CAfile "$H/certs/root.pem" \
    -untrusted "$H/certs/issuing.pem" "$WORK/cert.pem"
SUBJECT=$(openssl x509 -in "$WORK/cert.pem" -noout -subject -nameopt RFC2253)
[[ $SUBJECT == *"Jane Tester"* ]] || fail "subject '$SUBJECT' does not name the applicant"
[[ $SUBJECT != *Mallory* && $SUBJECT != *"Not From Here"* ]] ||
    fail "subject '$SUBJECT' comes from the CSR"
pass "the subject comes from the application: $SUBJECT"
ext "$WORK/cert.pem" subjectAltName >"$WORK/san.txt"
file_has "the applicant's email as SAN" "$WORK/san.txt" 'email:jane@example\.org'
expect "the public key is the CSR's" "$(pubkey_of_cert "$WORK/cert.pem")" \
    "$(pubkey_of_key "$WORK/key.pem")"
SERIAL=$(cert_serial "$WORK/cert.pem")
expect "one certificate row more" "$(cert_count_db "$H")" $((ROWS + 1))
ROWS=$(cert_count_db "$H")
expect "the application holds the certificate" "$(state_of "$A")" certificate_issued

section "an interrupted retrieval: the same request again"
csr "$WORK/key.pem" "$WORK/again.b64" "/CN=Another Subject"
enroll "$CODE" "$PW" "$WORK/again.b64" -H 'X-Tessera-Token-Manufacturer: none'
answered "the same code and key again" 200
expect "Content-Type" "$(hdr Content-Type)" "application/pkcs7-mime; smime-type=certs-only"
expect "Content-Transfer-Encoding" "$(hdr Content-Transfer-Encoding)" base64
expect "one certificate" "$(certs_of "$WORK/again.pem")" 1
expect "the same certificate" "$(fingerprint "$WORK/again.pem")" "$(fingerprint "$WORK/cert.pem")"
expect "the same serial" "$(cert_serial "$WORK/again.pem")" "$SERIAL"
unchanged "a repeated retrieval"

make_key ec-p384 "$WORK/other.pem"
csr "$WORK/other.pem" "$WORK/other.b64"
enroll "$CODE" "$PW" "$WORK/other.b64"
[[ $STATUS == 4?? ]] || { show_body; fail "another key with the used code: status $STATUS"; }
pass "another key with the used code: $STATUS $(field .type | sed 's,.*/,,')"
unchanged "another key"
audit_has "the other key is audited" \
    ".action == \"application.retrieve\" and .outcome != \"success\" and .object == \"application:$A\""
audit_has "the retrieval is audited" \
    ".action == \"application.retrieve\" and .outcome == \"success\" and .object == \"application:$A\""
enroll "$CODE" "wrong password" "$WORK/csr.b64"
problem "the used code with a wrong password" 401 auth

section "a new token: the claimed serial must be the one assigned"
jq --arg v "${VOUCHERS[1]}" '.voucher = $v | .storage = "new-token" |
    .applicant.given_name = "Tom" | .applicant.email = "tom@example.org"' "$WORK/app.json" \
    >"$WORK/token-app.json"
call POST /api/v1/applications "@$WORK/token-app.json"
answered "apply for S/MIME on a new token" 201
T=$(field .id)
call POST "/api/v1/applications/$T/email-verification" \
    "{\"code\":\"$(mail_codes "$H/outbox" verification "$T" "$VCODE_RE")\"}"
answered "the email is verified" 200
call POST "/api/v1/ra/applications/$T/approval" '{"token_serial":"TKN-4711"}' "$TOKEN"
answered "alice assigns token TKN-4711 and approves" 200
TCODE=$(mail_codes "$H/outbox" activation "$T" "$ACODE_RE")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/tkey.pem" 2>/dev/null
csr "$WORK/tkey.pem" "$WORK/tcsr.b64"
enroll "$TCODE" "$PW" "$WORK/tcsr.b64" -H 'X-Tessera-Token-Serial: TKN-0815' \
    -H 'X-Tessera-Token-Manufacturer: SoftHSM project' -H 'X-Tessera-Token-Model: SoftHSM v2'
problem "another token's serial" 422 policy
audit_has "the other token is audited" \
    ".action == \"application.retrieve\" and .outcome != \"success\" and .object == \"application:$T\""
unchanged "another token"
expect "still activation_issued" "$(state_of "$T")" activation_issued
enroll "$TCODE" "$PW" "$WORK/tcsr.b64" -H 'X-Tessera-Token-Serial: TKN-4711' \
    -H 'X-Tessera-Token-Manufacturer: SoftHSM project' -H 'X-Tessera-Token-Model: SoftHSM v2'
answered "the assigned token's serial" 200
expect "one certificate" "$(certs_of "$WORK/tcert.pem")" 1
expect "for Tom" "$(openssl x509 -in "$WORK/tcert.pem" -noout -subject -nameopt RFC2253)" \
    "subject=CN=Tom Tester,GN=Tom,SN=Tester"
ROWS=$(cert_count_db "$H")

# ------------------------------------------------------------------ simplereenroll
section "simplereenroll: renewal over mutual TLS"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/key2.pem" 2>/dev/null
csr "$WORK/key2.pem" "$WORK/csr2.b64"
reenroll() { api "$EST/simplereenroll" -H 'Content-Type: application/pkcs10' "$@"; }
reenroll --data-binary "@$WORK/csr2.b64"
problem "without a client certificate" 401 auth 'client certificate'
expect "no Basic challenge for renewal" "$(hdr WWW-Authenticate)" ""
openssl req -x509 -new -key "$WORK/key.pem" -subj '/CN=Jane Tester' -days 30 \
    -out "$WORK/fake.pem"
reenroll --cert "$WORK/fake.pem" --key "$WORK/key.pem" --data-binary "@$WORK/csr2.b64"
problem "a self-made certificate with the same key" 401 auth
reenroll --cert "$WORK/cert.pem" --key "$WORK/key.pem" --data-binary "@$WORK/bad.b64"
problem "the right certificate, a body that is not base64" 400 parse
unchanged "refused renewals"
reenroll --cert "$WORK/cert.pem" --key "$WORK/key.pem" --data-binary "@$WORK/csr2.b64"
answered "renewal with the current certificate and a new key" 200
expect "Content-Type" "$(hdr Content-Type)" "application/pkcs7-mime; smime-type=certs-only"
expect "one certificate" "$(certs_of "$WORK/cert2.pem")" 1
check "openssl verify: the new certificate chains to the root" openssl verify \
    -CAfile "$H/certs/root.pem" -untrusted "$H/certs/issuing.pem" "$WORK/cert2.pem"
expect "the same subject" "$(openssl x509 -in "$WORK/cert2.pem" -noout -subject -nameopt RFC2253)" \
    "$SUBJECT"
expect "the same SANs" "$(ext "$WORK/cert2.pem" subjectAltName)" "$(cat "$WORK/san.txt")"
SERIAL2=$(cert_serial "$WORK/cert2.pem")
[ "$SERIAL2" != "$SERIAL" ] || fail "renewal kept the serial"
pass "a new serial: $SERIAL2"
expect "the new key" "$(pubkey_of_cert "$WORK/cert2.pem")" "$(pubkey_of_key "$WORK/key2.pem")"
expect "one certificate row more" "$(cert_count_db "$H")" $((ROWS + 1))
ROWS=$(cert_count_db "$H")
reenroll --cert "$WORK/cert2.pem" --key "$WORK/key2.pem" --data-binary "@$WORK/csr2.b64"
problem "renewal with the same key again" 422 policy
unchanged "the same key"

# ------------------------------------------------------------------ test my certificate
section "Test My Certificate"
# nonce: a fresh nonce; sets NONCE and MESSAGE.
nonce()
{
	call POST /api/v1/test-my-cert/nonce
	answered "a nonce" 201
	NONCE=$(field .nonce)
	MESSAGE=$(field .message)
}
# test_body KEY CERT [TEXT]: the JSON of a test signing TEXT (default: the
# message) with KEY, into $WORK/test.json.  The certificate goes as plain
# PEM (`openssl pkcs7 -print_certs` adds subject and issuer lines).
test_body()
{
	local sig
	sig=$(printf '%s' "${3-$MESSAGE}" | openssl dgst -sha256 -sign "$1" | base64 -w0)
	jq -n --arg n "$NONCE" --arg c "$(openssl x509 -in "$2")" --arg s "$sig" \
	    '{nonce: $n, certificate: $c, signature: $s}' >"$WORK/test.json"
}
nonce
[[ $NONCE =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "nonce '$NONCE'"
expect "the message is the prefix and the nonce" "$MESSAGE" "Tessera test my certificate: $NONCE"
[[ $(field .expires_at) =~ ^20[0-9-]+T[0-9:]+Z$ ]] || fail "expires_at '$(field .expires_at)'"
pass "the nonce expires at $(field .expires_at)"
test_body "$WORK/key2.pem" "$WORK/cert2.pem"
call POST /api/v1/test-my-cert "@$WORK/test.json"
answered "the current certificate and its key" 200
expect "good" "$(field .good)" true
expect "every check good" "$(field '[.checks[].result] | join(" ")')" "good good good good"
expect "the serial (hex, leading zeros aside)" "$(field .serial | sed 's/^0*//')" "$SERIAL2"
expect "the application" "$(field .application)" "$A"
[[ $(field .subject) == *"Jane Tester"* ]] || fail "subject '$(field .subject)'"
pass "the subject: $(field .subject)"
call POST /api/v1/test-my-cert "@$WORK/test.json"
problem "the nonce used again" 422 policy

nonce
test_body "$WORK/key2.pem" "$WORK/cert2.pem" "something else"
call POST /api/v1/test-my-cert "@$WORK/test.json"
answered "a signature over something else" 200
expect "not good" "$(field .good)" false
expect "the signature is bad" "$(field .checks.signature.result)" bad
nonce
test_body "$WORK/key.pem" "$WORK/cert2.pem"
call POST /api/v1/test-my-cert "@$WORK/test.json"
answered "a signature with another key" 200
expect "the signature is bad" "$(field '[.good, .checks.signature.result] | join(" ")')" "false bad"
NONCE=AAAAAAAAAAAAAAAAAAAAAA
test_body "$WORK/key2.pem" "$WORK/cert2.pem"
call POST /api/v1/test-my-cert "@$WORK/test.json"
problem "an unknown nonce" 422 policy
nonce
jq '.signature = "not base64!"' "$WORK/test.json" >"$WORK/t2.json"
call POST /api/v1/test-my-cert "@$WORK/t2.json"
problem "a signature that is not base64" 400 invalid '^/signature'
jq '.extra = 1' "$WORK/test.json" >"$WORK/t2.json"
call POST /api/v1/test-my-cert "@$WORK/t2.json"
problem "an unknown field" 400 invalid '^/extra'
jq 'del(.certificate)' "$WORK/test.json" >"$WORK/t2.json"
call POST /api/v1/test-my-cert "@$WORK/t2.json"
problem "no certificate" 400 invalid '^/certificate'
unchanged "tests"

section "the server's log holds no secret"
file_lacks "no activation code in the server's log" "$WORK/serve.err" "$(sed 's/[]$*.^[]/\\&/g' <<<"$CODE")"
file_lacks "no password in the server's log" "$WORK/serve.err" "$PW"
file_has "the access log names the EST paths" "$WORK/serve.err" \
    'path=/\.well-known/est/simpleenroll status=200'
stop_server
