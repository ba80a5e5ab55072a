#!/bin/bash
# status.sh - `tessera verify` asks whether the signer's certificate was
# revoked, of the real `tessera serve`: the OCSP responder its AIA names
# (plain HTTP, --public-listen) and, with the responder stopped, the CRL at
# its distribution point (then served by python3's http.server).  Three
# EPCS certificates on a SoftHSM2 token each sign a document before and
# after a status change: affiliationChanged keeps the earlier signature
# good (with a note), keyCompromise makes both bad, a suspension makes the
# later one bad until it is lifted.  The CA is made two hours in the past
# (faketime) so that the first signatures can be made before the changes,
# which happen now.  Finally: a stale CRL, no source at all, --no-status.
. "$(dirname "$0")/lib.sh"
need openssl pkcs11-tool softhsm2-util jq curl python3 faketime

if ! "$TESSERA" serve --help 2>/dev/null | grep -q -- '--public-listen'; then
	echo "SKIP: this tessera serve has no --public-listen (OCSP and CRLs over HTTP)"
	exit 77
fi
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -n 1 || true)
[ -n "$ENGINE" ] || {
	echo "SKIP: OpenSSL's pkcs11 engine is not installed (libengine-pkcs11-openssl)"
	exit 77
}
# Under ASan, libfaketime is preloaded ahead of the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# The public port is written into every certificate, so it is chosen first.
PPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
PUB=http://127.0.0.1:$PPORT
H=$WORK/ca
ROOT=$H/certs/root.pem
DOC=$WORK/prescription.bin
{ printf 'Prescription: amoxicillin 500 mg\r\n\0'; head -c 3000 /dev/urandom; } >"$DOC"
T_RE='20[0-9-]{8}T[0-9:]{8}Z'     # a time as the report prints it
PYPID=
KILL_AT_EXIT+=(PYPID)

section "a CA made two hours ago, its URLs at $PUB"
new_database
check "tessera init --public-url $PUB (faketime -2 hours)" faketime '-2 hours' "$TESSERA" init \
    --home "$H" --public-url "$PUB" "${DB_ARGS[@]}"

T=$WORK/token
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" \
    >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
TOKEN_PIN=482916
check "softhsm2-util makes the subscriber's token" softhsm2-util --init-token --free \
    --label "Status token" --pin "$TOKEN_PIN" --so-pin 97531864
PINFILE=$(pwfile token.pin "$TOKEN_PIN")
URI='pkcs11:token=Status%20token'
P11=(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "Status token" --login
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

# token_cert TMPID NAME: a key generated on the token, a CSR signed there,
# an EPCS certificate issued 90 minutes ago into $WORK/NAME.pem and stored
# beside the key (CKA_ID = SKI).  Sets ID_<NAME> and SERIAL_<NAME>.
token_cert()
{
	local tmp=$1 name=$2 id
	check "$name: pkcs11-tool --keypairgen on the token" "${P11[@]}" --keypairgen \
	    --key-type EC:prime256v1 --id "$tmp" --label "Tessera pending" --usage-sign
	check "$name: a CSR signed on the token" env OPENSSL_CONF="$WORK/engine.cnf" openssl req \
	    -new -engine pkcs11 -keyform engine \
	    -key "$URI;id=%$tmp;type=private?pin-value=$TOKEN_PIN" -subj "/CN=anything" \
	    -out "$WORK/$name.csr"
	check "$name: cert issue --product epcs (faketime -90 minutes)" faketime '-90 minutes' \
	    "$TESSERA" cert issue --home "$H" --product epcs --csr "$WORK/$name.csr" \
	    --subject "CN=Dr $name,C=US" --hardware-verified-by "status.sh (pkcs11-tool)" \
	    --out "$WORK/$name.pem"
	id=$(ski "$WORK/$name.pem")
	check "$name: CKA_ID := SKI" "${P11[@]}" --set-id "$id" --id "$tmp" --type privkey
	check "$name: CKA_ID := SKI (public key)" "${P11[@]}" --set-id "$id" --id "$tmp" \
	    --type pubkey
	openssl x509 -in "$WORK/$name.pem" -outform DER -out "$WORK/$name.der"
	check "$name: the certificate stored on the token" "${P11[@]}" --write-object \
	    "$WORK/$name.der" --type cert --id "$id" --label "Tessera Dr $name"
	printf -v "ID_$name" '%s' "$id"
	printf -v "SERIAL_$name" '%s' "$(cert_serial "$WORK/$name.pem")"
}

section "three signing certificates on a token"
token_cert 01 Alice
token_cert 02 Bob
token_cert 03 Carol
openssl x509 -in "$H/certs/issuing.pem" -outform DER -out "$WORK/issuing.der"
check "the issuing CA certificate on the token too" "${P11[@]}" --write-object \
    "$WORK/issuing.der" --type cert --id CA01 --label "Tessera CA"
ext "$WORK/Alice.pem" authorityInfoAccess crlDistributionPoints >"$WORK/urls"
file_has "the certificate names the OCSP responder at $PUB/ocsp" "$WORK/urls" \
    "OCSP - URI:$PUB/ocsp\$"
file_has "and the CRL at $PUB/crl/issuing.crl" "$WORK/urls" "URI:$PUB/crl/issuing.crl\$"

# sign_doc NAME OUT [faketime offset]: NAME's certificate signs $DOC.
sign_doc()
{
	local name=$1 out=$2 id_var="ID_$1"
	if [ $# -gt 2 ]; then
		check "Dr $name signs ($3)" faketime "$3" "$TESSERA" "${SIGN[@]}" \
		    --id "${!id_var}" --in "$DOC" --out "$out"
	else
		check "Dr $name signs (now)" "$TESSERA" "${SIGN[@]}" --id "${!id_var}" --in "$DOC" \
		    --out "$out"
	fi
}

for n in Alice Bob Carol; do
	sign_doc "$n" "$WORK/$n-before.p7s" '-1 hour'
done

# verify_status DESC STATUS REGEX ARGS...: tessera verify --ca-file ROOT ARGS
# exits STATUS and its status line matches REGEX; every other check is good;
# when it fails, its one error line names the status.
verify_status()
{
	local desc=$1 want=$2 re=$3 c
	shift 3
	tsr verify --ca-file "$ROOT" "$@"
	if [ "$RC" -ne "$want" ]; then
		show_output
		fail "$desc: tessera verify exited $RC, expected $want"
	fi
	grep -Eq -- "^status: +$re" "$WORK/out" || {
		show_output
		fail "$desc: the status line does not match /$re/"
	}
	for c in structure signer-certificate content-digest signature chain validity key-usage; do
		grep -Eq "^$c: +good \(" "$WORK/out" ||
		    { show_output; fail "$desc: $c is not good"; }
	done
	if [ "$want" -ne 0 ]; then
		[ "$(grep -c . "$WORK/err")" -eq 1 ] &&
		    grep -q '^tessera: error: status: ' "$WORK/err" ||
		    { show_output; fail "$desc: not one error line naming the status"; }
	fi
	pass "$desc: $(grep '^status:' "$WORK/out" | sed 's/^status: *//' | cut -c1-150)..."
}

# start_public: tessera serve with the plain-HTTP listener on $PPORT; sets
# $PID (killed at exit); waits (bounded) until a CA certificate is served.
start_public()
{
	"$TESSERA" serve --home "$H" --listen 127.0.0.1:0 --public-listen "127.0.0.1:$PPORT" \
	    >"$WORK/serve.out" 2>>"$WORK/serve.err" </dev/null &
	PID=$!
	local up=
	for _ in $(seq 1 100); do
		curl -sf --max-time 2 -o /dev/null "$PUB/ca/issuing.crt" && up=yes && break
		kill -0 "$PID" 2>/dev/null ||
		    { cat "$WORK/serve.err" >&2; fail "tessera serve exited"; }
		sleep 0.1
	done
	[ -n "$up" ] || fail "tessera serve does not answer on $PUB"
	pass "tessera serve answers OCSP, CRLs and CA certificates on $PUB"
}

section "before any change: good, says the OCSP responder"
start_public
for n in Alice Bob Carol; do
	verify_status "Dr $n's signature" 0 \
	    "good \\(not revoked, says OCSP $PUB/ocsp: thisUpdate $T_RE, nonce echoed\\)\$" \
	    --in "$WORK/$n-before.p7s"
done
file_has "verified" "$WORK/out" '^verified: every check is good$'
# access_count REGEX: requests in the server's access log so far.
access_count() { grep -Ec "$1" "$WORK/serve.err" || true; }
N_OCSP=$(access_count 'method=POST path=/ocsp ')
N_CRL=$(access_count 'path=/crl/')
tsr_ok "tessera verify once more" verify --in "$WORK/Alice-before.p7s" --ca-file "$ROOT"
expect "it made one OCSP request (POST /ocsp)" \
    "$(($(access_count 'method=POST path=/ocsp ') - N_OCSP))" 1
expect "and fetched no CRL: OCSP answered" "$(($(access_count 'path=/crl/') - N_CRL))" 0
tsr_ok "tessera verify --json" verify --in "$WORK/Alice-before.p7s" --ca-file "$ROOT" --json
expect "--json: verified" "$(jq .verified "$WORK/out")" true
expect "--json: status good" "$(jq -r .checks.status.result "$WORK/out")" good
expect "--json: revocation.state" "$(jq -r .revocation.state "$WORK/out")" good
expect "--json: revocation.source" "$(jq -r .revocation.source "$WORK/out")" "OCSP $PUB/ocsp"
verify_status "--no-status asks nothing" 0 'not checked \(--no-status\)$' \
    --in "$WORK/Alice-before.p7s" --no-status
file_has "--no-status says so in the verdict" "$WORK/out" \
    '^verified: every check is good; the revocation status was not checked$'

section "revoked: affiliationChanged (Alice), keyCompromise (Bob); suspended (Carol)"
tsr_ok "cert revoke Alice --reason affiliationChanged" cert revoke --home "$H" "$SERIAL_Alice" \
    --reason affiliationChanged
tsr_ok "cert revoke Bob --reason keyCompromise" cert revoke --home "$H" "$SERIAL_Bob" \
    --reason keyCompromise
tsr_ok "cert suspend Carol" cert suspend --home "$H" "$SERIAL_Carol"
# A revoked certificate's key can still sign; the verifier must catch it.
for n in Alice Bob Carol; do
	sign_doc "$n" "$WORK/$n-after.p7s"
done
RE="good \\(signed at $T_RE \\(the signer's claim\\), before the certificate was revoked at "
RE+="$T_RE \\(affiliationChanged\\), says OCSP $PUB/ocsp: affiliationChanged does not put "
RE+="the key in doubt"
verify_status "Alice, signed before the revocation: good, with the revocation noted" 0 "$RE" \
    --in "$WORK/Alice-before.p7s"
RE="bad \\(revoked at $T_RE \\(affiliationChanged\\), says OCSP $PUB/ocsp: the claimed "
RE+="signing time $T_RE is not before it"
verify_status "Alice, signed after it: bad" 65 "$RE" --in "$WORK/Alice-after.p7s"
file_has "NOT VERIFIED" "$WORK/out" '^NOT VERIFIED: see the bad check above$'
RE="bad \\(revoked at $T_RE \\(keyCompromise\\), says OCSP $PUB/ocsp: the key may have "
RE+="been in other hands"
verify_status "Bob, signed before a key compromise: bad all the same" 65 "$RE" \
    --in "$WORK/Bob-before.p7s"
verify_status "Bob, signed after it: bad" 65 "bad \\(revoked at .*not before it" \
    --in "$WORK/Bob-after.p7s"
verify_status "Carol, signed before the suspension: bad while on hold (the token may be in other hands)" 65 \
    "bad \\(put on hold at $T_RE \\(certificateHold\\).*may have been in other hands" \
    --in "$WORK/Carol-before.p7s"
verify_status "Carol, signed while on hold: bad" 65 "bad \\(put on hold at .*not before it" \
    --in "$WORK/Carol-after.p7s"
tsr verify --in "$WORK/Bob-before.p7s" --ca-file "$ROOT" --json
J=$WORK/out
expect "--json: not verified" "$(jq .verified "$J")" false
expect "--json: status bad" "$(jq -r .checks.status.result "$J")" bad
expect "--json: revoked" "$(jq -r .revocation.state "$J")" revoked
expect "--json: keyCompromise" "$(jq -r .revocation.reason "$J")" keyCompromise
jq -r .revocation.revoked_at "$J" | grep -Eq "^$T_RE\$" ||
    fail "--json: revoked_at $(jq .revocation.revoked_at "$J")"
pass "--json: revoked_at in RFC 3339"
OTHERS='[.checks | to_entries[] | select(.key != "status") | .value.result] | unique | join(",")'
expect "--json: the other checks are good" "$(jq -r "$OTHERS" "$J")" good
tsr_ok "cert resume Carol" cert resume --home "$H" "$SERIAL_Carol"
verify_status "Carol's signature made while on hold, after the resume: good" 0 \
    "good \\(not revoked, says OCSP $PUB/ocsp" --in "$WORK/Carol-after.p7s"
stop_server

section "the responder stopped: the CRL decides"
mkdir -p "$WORK/pub/crl"
tsr_ok "tessera crl --out (what the distribution point serves)" crl --home "$H" \
    --out "$WORK/pub/crl/issuing.crl"
# Only a static file server now: POST /ocsp gets 501.
python3 -m http.server "$PPORT" --bind 127.0.0.1 --directory "$WORK/pub" \
    >"$WORK/py.out" 2>"$WORK/py.err" </dev/null &
PYPID=$!
for _ in $(seq 1 100); do
	curl -sf --max-time 2 -o /dev/null "$PUB/crl/issuing.crl" && break
	kill -0 "$PYPID" 2>/dev/null ||
	    { cat "$WORK/py.err" >&2; fail "python3 -m http.server exited"; }
	sleep 0.1
done
CRL=$PUB/crl/issuing.crl
RE="good \\(signed at .*affiliationChanged\\), says CRL $CRL: .*before that, OCSP $PUB/ocsp: "
RE+="HTTP status 501"
verify_status "Alice, before: good from the CRL, the failed OCSP noted" 0 "$RE" \
    --in "$WORK/Alice-before.p7s"
RE="bad \\(revoked at $T_RE \\(affiliationChanged\\), says CRL $CRL: the claimed signing time"
verify_status "Alice, after: bad from the CRL" 65 "$RE" --in "$WORK/Alice-after.p7s"
verify_status "Bob, before: bad from the CRL" 65 \
    "bad \\(revoked at $T_RE \\(keyCompromise\\), says CRL .*other hands" \
    --in "$WORK/Bob-before.p7s"
verify_status "Carol, resumed: not on the CRL" 0 "good \\(not revoked, says CRL $CRL" \
    --in "$WORK/Carol-after.p7s"
grep -q '"GET /crl/issuing.crl' "$WORK/py.err" || fail "the CRL was not fetched from $PUB"
pass "the CRL was fetched from the distribution point"
run faketime '+3 days' "$TESSERA" verify --in "$WORK/Alice-before.p7s" --ca-file "$ROOT"
[ "$RC" -eq 74 ] && grep -Eq '^status: +unknown \(.*CRL .*stale: nextUpdate' "$WORK/out" &&
    grep -q '^NOT VERIFIED: the revocation status is unknown' "$WORK/out" ||
    { show_output; fail "three days on, a stale CRL was not refused (exit $RC)"; }
pass "three days on, the CRL is stale: status unknown, exit 74"
kill "$PYPID"
wait "$PYPID" 2>/dev/null || true
PYPID=

section "nobody answers"
verify_status "no responder, no CRL: unknown, exit 74" 74 \
    "unknown \\(OCSP $PUB/ocsp: cannot connect .*; CRL $CRL: cannot connect" \
    --in "$WORK/Alice-before.p7s"
RE='^NOT VERIFIED: the revocation status is unknown \(see status above; --no-status '
file_has "the verdict says what to do" "$WORK/out" "$RE"'verifies without it\)$'
verify_status "--no-status verifies without it" 0 'not checked \(--no-status\)$' \
    --in "$WORK/Alice-before.p7s" --no-status
verify_status "--status-timeout 2 is accepted" 74 "unknown" --in "$WORK/Alice-before.p7s" \
    --status-timeout 2
tsr_fails "--status-timeout 0" 64 'status-timeout' verify --in "$WORK/Alice-before.p7s" \
    --ca-file "$ROOT" --status-timeout 0
tsr_fails "--no-status with --status-timeout" 64 'exclude' verify \
    --in "$WORK/Alice-before.p7s" --ca-file "$ROOT" --no-status --status-timeout 5
unset SOFTHSM2_CONF

echo
echo "status.sh: all checks passed"
