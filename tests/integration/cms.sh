#!/bin/bash
# cms.sh - document signatures against OpenSSL, both ways.  With a real CA
# home: OpenSSL signs (cms -sign -cades) with a key whose certificate
# `tessera cert issue` made, and `tessera verify` accepts what it must and
# names the bad check of what it must refuse (no ESS attribute, SHA-1, BER,
# changed content, another CA, an authentication certificate, garbage).
# Then a SoftHSM2 token: a key generated on it with pkcs11-tool, a CSR signed
# on it through OpenSSL's pkcs11 engine, an EPCS certificate issued and
# stored beside the key; `tessera sign` signs with the token, attached and
# detached, DER and PEM, and `openssl cms -verify` and `tessera verify`
# accept it; every bad input of signing gets one clear error; faketime shows
# a signature staying good after its certificate expired.
. "$(dirname "$0")/lib.sh"
need openssl pkcs11-tool softhsm2-util jq faketime

ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -n 1 || true)
[ -n "$ENGINE" ] || {
	echo "SKIP: OpenSSL's pkcs11 engine is not installed (libengine-pkcs11-openssl)"
	exit 77
}
# Under ASan, libfaketime is preloaded ahead of the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

base_home
H=$BASE
ROOT=$H/certs/root.pem
ISS=$H/certs/issuing.pem
DOC=$WORK/prescription.bin
# binary on purpose: CR LF, NUL and high bytes must be signed as they are
{ printf 'Prescription: amoxicillin 500 mg\r\n\0'; head -c 5000 /dev/urandom; } >"$DOC"

# serial_hex PEM: the serial as Tessera prints it (lower-case hex of its bytes).
serial_hex() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'; }

CHECKS="structure signer-certificate content-digest signature chain validity key-usage"

# verify_ok DESC ARGS...: tessera verify --no-status exits 0, every check
# good, status not checked (these certificates name http://localhost:8080,
# where nothing answers; status.sh checks revocation against a server).
verify_ok()
{
	local desc=$1 c
	shift
	tsr verify --no-status "$@"
	if [ "$RC" -ne 0 ]; then
		show_output
		fail "$desc: tessera verify $* exited $RC"
	fi
	for c in $CHECKS; do
		grep -Eq "^$c: +good \(" "$WORK/out" || { show_output; fail "$desc: $c is not good"; }
	done
	grep -Eq '^status: +not checked \(--no-status\)$' "$WORK/out" ||
	    { show_output; fail "$desc: the status line is missing"; }
	grep -q '^verified: every check is good; the revocation status was not checked$' \
	    "$WORK/out" || fail "$desc: no verdict line"
	pass "$desc"
}

# verify_bad DESC STATUS CHECK REGEX ARGS...: tessera verify exits STATUS;
# its one error line names CHECK and matches REGEX; the report on stdout
# shows CHECK bad and says NOT VERIFIED.
verify_bad()
{
	local desc=$1 want=$2 check=$3 re=$4 line
	shift 4
	tsr verify --no-status "$@"
	if [ "$RC" -ne "$want" ]; then
		show_output
		fail "$desc: tessera verify exited $RC, expected $want"
	fi
	line=$(grep -v '^usage: ' "$WORK/err" || true)
	if [ "$(wc -l <<<"$line")" -ne 1 ] || [[ $line != "tessera: error: $check: "* ]] ||
	    ! grep -Eiq -- "$re" <<<"$line"; then
		show_output
		fail "$desc: expected one line 'tessera: error: $check: /$re/'"
	fi
	if [ "$want" -ne 64 ]; then
		grep -Eq "^$check: +bad \(" "$WORK/out" || { show_output; fail "$desc: $check not bad"; }
		grep -q '^NOT VERIFIED' "$WORK/out" || fail "$desc: no NOT VERIFIED line"
	fi
	pass "$desc (exit $RC: ${line#tessera: error: })"
}

# ossl_sign OUT [openssl cms -sign options...]: Jane's software key signs $DOC.
ossl_sign()
{
	local out=$1
	shift
	check "openssl cms -sign $*" openssl cms -sign -binary -in "$DOC" -signer "$WORK/jane.pem" \
	    -inkey "$WORK/jane.key" "$@" -out "$out"
}

section "a document-signing certificate with a software key"
make_key ec-p256 "$WORK/jane.key"
make_csr "$WORK/jane.key" "$WORK/jane.csr" "/CN=anything"
tsr_ok "cert issue --product document-signing" cert issue --home "$H" --product document-signing \
    --csr "$WORK/jane.csr" --subject "CN=Jane Doe,O=Tessera Test Clinic,C=US" --out "$WORK/jane.pem"

section "OpenSSL signs, tessera verifies"
ossl_sign "$WORK/o1.p7s" -md sha256 -cades -nodetach -certfile "$ISS" -outform DER
verify_ok "attached, SHA-256, issuing CA carried" --in "$WORK/o1.p7s" --ca-file "$ROOT"
file_has "the report names the signer" "$WORK/out" \
    '^signer +CN=Jane Doe,O=Tessera Test Clinic,C=US$'
file_has "the report gives the serial" "$WORK/out" "^serial +$(serial_hex "$WORK/jane.pem")\$"
file_has "the report gives the size and digest" "$WORK/out" \
    "^content +$(stat -c %s "$DOC") bytes, attached, SHA-256\$"
file_has "valid now" "$WORK/out" '^valid now: +yes'
file_has "nonRepudiation reported" "$WORK/out" '^non-repudiation: +yes'
ossl_sign "$WORK/o2.p7s" -md sha384 -cades -outform DER
verify_bad "detached without --content" 64 content-digest 'must be given' \
    --in "$WORK/o2.p7s" --ca-file "$ROOT" --untrusted "$ISS"
verify_ok "detached, SHA-384, the issuing CA from --untrusted" --in "$WORK/o2.p7s" \
    --content "$DOC" --ca-file "$ROOT" --untrusted "$ISS"
verify_bad "detached, the issuing CA nowhere" 65 chain 'issuer' --in "$WORK/o2.p7s" \
    --content "$DOC" --ca-file "$ROOT"
ossl_sign "$WORK/o3.pem" -md sha512 -cades -nodetach -outform PEM
verify_ok "PEM, SHA-512, with OpenSSL's smimeCapabilities attribute" --in "$WORK/o3.pem" \
    --ca-file "$ROOT" --untrusted "$ISS"
openssl cms -cmsout -inform PEM -in "$WORK/o3.pem" -outform DER -out "$WORK/o3.der"
tsr_ok "tessera verify --json" verify --no-status --in "$WORK/o3.der" --ca-file "$ROOT" \
    --untrusted "$ISS" --json
J=$WORK/out
expect "--json: verified" "$(jq .verified "$J")" true
expect "--json: signer" "$(jq -r .signer.subject "$J")" "CN=Jane Doe,O=Tessera Test Clinic,C=US"
expect "--json: digest" "$(jq -r .digest "$J")" SHA-512
expect "--json: every check good" "$(jq -r '[.checks[] | .result] | unique | join(",")' "$J")" \
    "good,not checked"
expect "--json: status not checked" "$(jq -r .checks.status.result "$J")" "not checked"
expect "--json: chain of 3" "$(jq .chain_length "$J")" 3
RFC3339='^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$'
jq -r .signing_time "$J" | grep -Eq "$RFC3339" ||
    fail "--json: signing_time is not an RFC 3339 UTC time: $(jq -r .signing_time "$J")"
pass "--json: signing time in RFC 3339"

section "what tessera verify refuses"
ossl_sign "$WORK/b1.p7s" -md sha256 -nodetach -certfile "$ISS" -outform DER
verify_bad "no signing-certificate-v2 (OpenSSL without -cades)" 65 structure \
    'signing-certificate-v2 is missing' --in "$WORK/b1.p7s" --ca-file "$ROOT"
ossl_sign "$WORK/b2.p7s" -md sha1 -cades -nodetach -certfile "$ISS" -outform DER
verify_bad "SHA-1" 65 structure 'digest algorithm' --in "$WORK/b2.p7s" --ca-file "$ROOT"
ossl_sign "$WORK/b3.p7s" -md sha256 -cades -nodetach -stream -certfile "$ISS" -outform DER
verify_bad "BER with indefinite lengths (openssl -stream)" 65 structure 'not DER' \
    --in "$WORK/b3.p7s" --ca-file "$ROOT"
cp "$DOC" "$WORK/changed.bin"
printf 'X' | dd of="$WORK/changed.bin" bs=1 seek=20 conv=notrunc status=none
verify_bad "a changed document" 65 content-digest 'not what was signed' --in "$WORK/o2.p7s" \
    --content "$WORK/changed.bin" --ca-file "$ROOT" --untrusted "$ISS"
verify_bad "content given twice" 64 content-digest 'second copy' --in "$WORK/o1.p7s" \
    --content "$DOC" --ca-file "$ROOT"
head -c 200 "$WORK/o1.p7s" >"$WORK/truncated.p7s"
verify_bad "truncated" 65 structure 'truncated' --in "$WORK/truncated.p7s" --ca-file "$ROOT"
{ cat "$WORK/o1.p7s"; printf 'junk'; } >"$WORK/trailing.p7s"
verify_bad "trailing bytes" 65 structure '4 bytes follow' --in "$WORK/trailing.p7s" \
    --ca-file "$ROOT"
verify_bad "not a signature at all" 65 structure 'not a CMS' --in "$DOC" --ca-file "$ROOT"
tsr_fails "verify without --ca-file" 64 'ca-file' verify --in "$WORK/o1.p7s"
tsr_fails "verify with a --ca-file that holds no certificate" any 'no PEM certificate' \
    verify --in "$WORK/o1.p7s" --ca-file "$DOC"

OTHER=$WORK/other
init_home "$OTHER"
verify_bad "another CA's root" 65 chain 'issuer' --in "$WORK/o1.p7s" \
    --ca-file "$OTHER/certs/root.pem"
make_csr "$WORK/jane.key" "$WORK/id.csr" "/CN=anything"
tsr_ok "cert issue --product identity (clientAuth)" cert issue --home "$H" --product identity \
    --csr "$WORK/id.csr" --subject "CN=Jane Doe,C=US" --out "$WORK/id.pem"
check "openssl signs with the identity certificate" openssl cms -sign -binary -in "$DOC" \
    -signer "$WORK/id.pem" -inkey "$WORK/jane.key" -md sha256 -cades -nodetach \
    -certfile "$ISS" -outform DER -out "$WORK/id.p7s"
verify_bad "an authentication certificate does not sign documents" 65 key-usage 'clientAuth' \
    --in "$WORK/id.p7s" --ca-file "$ROOT"

section "a subscriber token: key on SoftHSM2, certificate beside it"
T=$WORK/token
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" \
    >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
TOKEN_PIN=482916
check "softhsm2-util makes the token" softhsm2-util --init-token --free --label "Jane token" \
    --pin "$TOKEN_PIN" --so-pin 97531864
PINFILE=$(pwfile token.pin "$TOKEN_PIN")
URI='pkcs11:token=Jane%20token'
P11=(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "Jane token" --login
	--pin "$TOKEN_PIN")
SIGN=(sign --module "$SOFTHSM_MODULE" --token "$URI" --passcode-file "$PINFILE")

cat >"$WORK/engine.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engines
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $SOFTHSM_MODULE
EOF

# token_cert TMPID TYPE SUBJECT OUT: a key pair generated on the token, a
# CSR signed there (OpenSSL's pkcs11 engine), an EPCS certificate for it;
# the key's CKA_ID becomes the certificate's subject key identifier (the
# convention) and the certificate is stored beside it.  Sets $ID.
token_cert()
{
	local tmp=$1 type=$2 subject=$3 out=$4 cn
	cn=${subject%%,*}
	cn=${cn#CN=}
	check "pkcs11-tool --keypairgen $type on the token" "${P11[@]}" --keypairgen \
	    --key-type "$type" --id "$tmp" --label "Tessera pending" --usage-sign
	check "a CSR signed on the token through OpenSSL's pkcs11 engine" \
	    env OPENSSL_CONF="$WORK/engine.cnf" openssl req -new -engine pkcs11 -keyform engine \
	    -key "$URI;id=%$tmp;type=private?pin-value=$TOKEN_PIN" -subj "/CN=anything" \
	    -out "$WORK/$tmp.csr"
	tsr_ok "cert issue --product epcs --hardware-verified-by" cert issue --home "$H" \
	    --product epcs --csr "$WORK/$tmp.csr" --subject "$subject" \
	    --hardware-verified-by "cms.sh (pkcs11-tool --keypairgen)" --out "$out"
	ID=$(ski "$out")
	check "CKA_ID of the private key := the SKI" "${P11[@]}" --set-id "$ID" --id "$tmp" \
	    --type privkey
	check "CKA_ID of the public key := the SKI" "${P11[@]}" --set-id "$ID" --id "$tmp" \
	    --type pubkey
	openssl x509 -in "$out" -outform DER -out "$WORK/$tmp.der"
	check "pkcs11-tool --write-object the certificate" "${P11[@]}" --write-object \
	    "$WORK/$tmp.der" --type cert --id "$ID" --label "Tessera $cn"
}

token_cert 01 EC:prime256v1 "CN=Dr Jane Doe,C=US" "$WORK/tok1.pem"
ID1=$ID
openssl x509 -in "$ISS" -outform DER -out "$WORK/issuing.der"
check "the issuing CA certificate stored on the token too" "${P11[@]}" --write-object \
    "$WORK/issuing.der" --type cert --id CA01 --label "Tessera CA"

section "tessera sign with the token"
tsr_ok "tessera sign (attached, DER)" "${SIGN[@]}" --in "$DOC" --out "$WORK/t1.p7s"
file_has "sign says who signed" "$WORK/out" 'as CN=Dr Jane Doe,C=US; attached signature in'
check "openssl cms -verify accepts it" openssl cms -verify -binary -inform DER \
    -in "$WORK/t1.p7s" -CAfile "$ROOT" -purpose any -out "$WORK/t1.out"
check "the content OpenSSL extracts is the document, byte for byte" cmp "$DOC" "$WORK/t1.out"
verify_ok "tessera verify accepts it (issuing CA carried from the token)" \
    --in "$WORK/t1.p7s" --ca-file "$ROOT"
file_has "signer is the token certificate" "$WORK/out" "^serial +$(serial_hex "$WORK/tok1.pem")\$"
SIGNED=$(sed -n 's/^signing time  *\([^ ]*\) .*/\1/p' "$WORK/out")
AGE=$(($(date -u +%s) - $(date -u -d "$SIGNED" +%s)))
[ "$AGE" -ge 0 ] && [ "$AGE" -lt 300 ] || fail "signing time $SIGNED is not the time of signing"
pass "the signing time is the time of signing ($SIGNED)"
check "openssl cms -cmsout -print" openssl cms -cmsout -print -inform DER -in "$WORK/t1.p7s"
for a in contentType signingTime messageDigest id-smime-aa-signingCertificateV2; do
	file_has "signed attribute $a" "$WORK/out" "object: $a "
done
file_lacks "no smimeCapabilities" "$WORK/out" 'SMIMECapabilities'
expect "one SignerInfo" "$(grep -c 'signatureAlgorithm:' "$WORK/out")" 1
expect "two certificates: the signer's and the issuing CA's" \
    "$(grep -c '^ *cert_info:' "$WORK/out")" 2

tsr_ok "tessera sign --detached --pem" "${SIGN[@]}" --in "$DOC" --out "$WORK/t2.p7s" \
    --detached --pem
expect "PEM output" "$(head -n 1 "$WORK/t2.p7s")" "-----BEGIN CMS-----"
check "openssl cms -verify -content accepts the detached signature" openssl cms -verify \
    -binary -inform PEM -in "$WORK/t2.p7s" -content "$DOC" -CAfile "$ROOT" -purpose any \
    -out /dev/null
verify_ok "tessera verify --content accepts it" --in "$WORK/t2.p7s" --content "$DOC" \
    --ca-file "$ROOT"
verify_bad "the detached signature over a changed document" 65 content-digest 'differs' \
    --in "$WORK/t2.p7s" --content "$WORK/changed.bin" --ca-file "$ROOT"

section "signing refusals"
BADPIN=$(pwfile bad.pin 000000)
tsr_fails "a wrong passcode" 77 'passcode|pin' sign --module "$SOFTHSM_MODULE" --token "$URI" \
    --passcode-file "$BADPIN" --in "$DOC" --out "$WORK/x.p7s"
OPENPIN=$(pwfile open.pin "$TOKEN_PIN" 644)
tsr_fails "a passcode file others can read" any 'others|chmod' sign --module "$SOFTHSM_MODULE" \
    --token "$URI" --passcode-file "$OPENPIN" --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "no passcode file and no terminal" 64 'terminal' sign --module "$SOFTHSM_MODULE" \
    --token "$URI" --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "a module that does not exist" any 'module' sign --module "$WORK/nope.so" \
    --token "$URI" --passcode-file "$PINFILE" --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "a token that is not there" any 'token' sign --module "$SOFTHSM_MODULE" \
    --token 'pkcs11:token=Nobody' --passcode-file "$PINFILE" --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "--out is the document" 64 'itself' "${SIGN[@]}" --in "$DOC" --out "$DOC"
tsr_fails "--id of no certificate" 66 'no certificate' "${SIGN[@]}" --id 0badc0de \
    --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "--id that is not hex" 64 'hex' "${SIGN[@]}" --id xyz --in "$DOC" --out "$WORK/x.p7s"
tsr_fails "a missing document" any 'prescription.nope' "${SIGN[@]}" \
    --in "$WORK/prescription.nope" --out "$WORK/x.p7s"
[ ! -e "$WORK/x.p7s" ] || fail "a refused signing left $WORK/x.p7s"
pass "no refused signing wrote a file"

section "three certificates on the token: --id chooses"
token_cert 02 rsa:2048 "CN=Dr Jane Doe (RSA),C=US" "$WORK/tok2.pem"
ID2=$ID
token_cert 03 EC:secp384r1 "CN=Dr Jane Doe (P-384),C=US" "$WORK/tok3.pem"
ID3=$ID
tsr_fails "three valid certificates and no --id" 64 '3 Tessera certificates.*choose one with --id' \
    "${SIGN[@]}" --in "$DOC" --out "$WORK/x.p7s"
# id certificate digest signature-algorithm-regex
for pick in "$ID2 tok2 SHA-256 rsa" "$ID3 tok3 SHA-384 ecdsa-with-SHA384" \
    "$ID1 tok1 SHA-256 ecdsa-with-SHA256"; do
	read -r id crt md alg <<<"$pick"
	tsr_ok "--id picks $crt" "${SIGN[@]}" --id "$id" --in "$DOC" --out "$WORK/$crt.p7s"
	check "openssl cms -verify accepts the $crt signature" openssl cms -verify -binary \
	    -inform DER -in "$WORK/$crt.p7s" -CAfile "$ROOT" -purpose any -out /dev/null
	verify_ok "tessera verify accepts the $crt signature" --in "$WORK/$crt.p7s" --ca-file "$ROOT"
	file_has "$crt: signed with $md" "$WORK/out" ", attached, $md\$"
	file_has "$crt: $alg" "$WORK/out" "^signature: +good \\($alg"
	file_has "$crt: the signer is $crt" "$WORK/out" "^serial +$(serial_hex "$WORK/$crt.pem")\$"
done

section "time: valid when signed, expired now"
run faketime '+800 days' "$TESSERA" verify --no-status --in "$WORK/t1.p7s" --ca-file "$ROOT"
[ "$RC" -eq 0 ] || { show_output; fail "800 days on, the signature no longer verifies"; }
file_has "800 days on: still good at the signing time" "$WORK/out" '^validity: +good'
file_has "800 days on: not valid now" "$WORK/out" \
    '^valid now: +no \(CN=Dr Jane Doe,C=US expired on '
run faketime '+800 days' "$TESSERA" "${SIGN[@]}" --id "$ID1" --in "$DOC" --out "$WORK/x.p7s"
[ "$RC" -ne 0 ] && grep -q 'expired on' "$WORK/err" ||
    { show_output; fail "signing with an expired certificate was not refused"; }
pass "800 days on, signing with the expired certificate is refused ($(tail -n 1 "$WORK/err"))"
run faketime '+800 days' "$TESSERA" "${SIGN[@]}" --in "$DOC" --out "$WORK/x.p7s"
[ "$RC" -ne 0 ] && grep -q 'no Tessera certificate valid now' "$WORK/err" ||
    { show_output; fail "with every certificate expired, sign did not say so"; }
pass "800 days on, no certificate is valid: sign says so"
run faketime '-1 day' "$TESSERA" verify --no-status --in "$WORK/t1.p7s" --ca-file "$ROOT"
[ "$RC" -eq 65 ] && grep -q 'validity: .*in the future' "$WORK/err" ||
    { show_output; fail "a signing time a day ahead of the verifier's clock was accepted"; }
pass "a verifier whose clock is a day behind refuses a signature from its future"
unset SOFTHSM2_CONF

echo
echo "cms.sh: all checks passed"
