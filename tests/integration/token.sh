#!/bin/bash
# token.sh - the subscriber's side with `tessera token`, on SoftHSM2 tokens
# prepared the way the CA ships them (a random initial passcode set by
# fulfilment from the passcode letter, the CA's marker object, the serial
# recorded at approval), against the real `tessera serve`.
#
# check, passcode and show; then the journey: an S/MIME application on a new
# token over the API to activation_issued (the token's serial assigned), every
# bad input of the issue refused with a clear message and nothing issued or
# stored, an interrupted retrieval (a proxy drops the server's answer) that
# the same key completes, the retrieval onto the token, pkcs11-tool's view
# of what is stored (a sensitive, never extractable key and the certificate
# beside it), `openssl verify`, Test My Certificate, renewal over mutual TLS.
#
# EPCS: on a home made without --country the server answers a configuration
# error (EPCS subjects carry C from [ca] country) and issues nothing.  Then
# the whole journey on a home made with --country US: an application with
# NPI and DEA, email verification, two officers' approvals with the token's
# serial, the shipped token's passcode replaced, retrieve, test, a document
# signed on the token (attached and detached) that `openssl cms -verify` and
# `tessera verify` accept, certificate_issued and the audit chain; renewal
# over mutual TLS with curl and `openssl req` through OpenSSL's pkcs11 engine
# (nothing of Tessera's on the client side), the renewed certificate stored
# by the conventions and used by `token test` and `sign`.  Last, the median
# retrieval time over five S/MIME retrievals.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 sqlite3 pkcs11-tool softhsm2-util
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -n 1 || true)
[ -n "$ENGINE" ] || {
	echo "SKIP: OpenSSL's pkcs11 engine is not installed (libengine-pkcs11-openssl)"
	exit 77
}

M=$SOFTHSM_MODULE
SUB=$WORK/subscriber            # the subscriber's SoftHSM2 (not the CA's)
mkdir -p "$SUB/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$SUB/tokens" >"$SUB/softhsm2.conf"
SUBCONF=$SUB/softhsm2.conf

# tok ARGS...: tessera token ARGS on the subscriber's tokens (output as tsr).
tok() { SOFTHSM2_CONF=$SUBCONF tsr token "$@"; }
tok_ok()
{
	local desc=$1
	shift
	tok "$@"
	[ "$RC" -eq 0 ] || { show_output; fail "$desc: tessera token $* exited $RC"; }
	pass "$desc"
}
tok_fails() { local d=$1 s=$2 r=$3; shift 3; SOFTHSM2_CONF=$SUBCONF tsr_fails "$d" "$s" "$r" token "$@"; }
p11() { SOFTHSM2_CONF=$SUBCONF pkcs11-tool --module "$M" "$@"; }
db() { dbq "$H" "$1"; }
state_of() { db "SELECT state FROM applications WHERE id = '$1'"; }
# app_serial ID: the serial of the application's certificate (lower-case, no leading zeros).
app_serial()
{
	db "SELECT cert_serial FROM applications WHERE id = '$1'" | tr 'A-F' 'a-f' | sed 's/^0*//'
}
serial_of() { SOFTHSM2_CONF=$SUBCONF softhsm2-util --show-slots |
    awk -v l="$1" '/Serial number:/ { s = $3 } /Label:/ { sub(/^ *Label: */, ""); sub(/ +$/, ""); if ($0 == l) print s }'; }
rand_digits() { python3 -c 'import secrets, sys
print("".join(secrets.choice("0123456789") for _ in range(int(sys.argv[1]))))' "$1"; }

# new_token LABEL: a token as it leaves the CA's stock, before approval: an SO
# PIN, a throw-away user PIN; its serial printed.
new_token()
{
	SOFTHSM2_CONF=$SUBCONF softhsm2-util --init-token --free --label "$1" \
	    --so-pin "$SO_PIN" --pin "$(rand_digits 8)" >/dev/null
	serial_of "$1"
}

# ship_token LABEL PASSCODE: what fulfilment does with the passcode letter:
# the initial passcode set by the SO, and the CA's marker (docs/token.md).
ship_token()
{
	printf 1 >"$WORK/one"
	p11 --token-label "$1" --login --login-type so --so-pin "$SO_PIN" --init-pin \
	    --new-pin "$2" >/dev/null 2>&1 || fail "fulfilment: cannot set the initial passcode"
	p11 --token-label "$1" --login --pin "$2" --write-object "$WORK/one" --type data \
	    --label 'initial passcode' --application-label Tessera >/dev/null 2>&1 ||
	    fail "fulfilment: cannot write the marker"
	pass "token $1 shipped: initial passcode set, marker written"
}

SO_PIN=$(rand_digits 12)
OPTS=(--module "$M")

# ------------------------------------------------------------------ the CA and an application
section "the CA, officers, an S/MIME application on a new token"
base_home
H=$BASE
PW_ALICE='violet tractor umbrella 42'
PW_BOB='quiet harbour lantern 7'
PW='correct horse battery staple'
add_user alice ra-officer "$PW_ALICE"
add_user bob ra-officer "$PW_BOB"
vouchers VOUCHERS smime 6
start_server
ROOT=$H/certs/root.pem
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
# apply VOUCHER GIVEN: an S/MIME application on a new token (the CA ships
# it), its email verified; its id in $A.
apply()
{
	jq -n --arg v "$1" --arg g "$2" --arg pw "$PW" --arg ag "$AGREEMENT" \
	    --argjson q "$QUESTIONS" \
	    '{product: "smime", storage: "new-token", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: $g, family_name: "Tester",
	        email: (($g | ascii_downcase) + "@example.org")}, questions: $q}' >"$WORK/app.json"
	call POST /api/v1/applications "@$WORK/app.json"
	answered "$2 applies for S/MIME on a new token" 201
	A=$(field .id)
	call POST "/api/v1/applications/$A/email-verification" \
	    "{\"code\":\"$(mail_codes "$H/outbox" verification "$A" "$VCODE_RE")\"}"
	answered "the email is verified" 200
}
apply "${VOUCHERS[0]}" Jane

section "the token the CA ships: serial recorded at approval, initial passcode"
SERIAL=$(new_token "Jane token")
[[ $SERIAL =~ ^[0-9a-f]{16}$ ]] || fail "SoftHSM serial '$SERIAL'"
OTHER_SERIAL=$(new_token "Other token")
pass "two tokens in stock: $SERIAL (for Jane) and $OTHER_SERIAL"
login T_ALICE alice "$PW_ALICE"
login T_BOB bob "$PW_BOB"
call PUT "/api/v1/ra/applications/$A/token" "{\"serial\":\"$SERIAL\"}" "$T_BOB"
answered "bob assigns the token's serial" 200
call POST "/api/v1/ra/applications/$A/approval" '{}' "$T_ALICE"
answered "alice approves: final (one approval for S/MIME)" 200
expect "activation issued" "$(state_of "$A")" activation_issued
CODE=$(mail_codes "$H/outbox" activation "$A" "$ACODE_RE")
PASSCODE=$(mail_codes "$H/passcodes" passcode "$A" "$PCODE_RE")
[[ $PASSCODE =~ ^[0-9]{8}$ ]] || fail "passcode letter: '$PASSCODE'"
pass "the activation letter and the passcode letter"
ship_token "Jane token" "$PASSCODE"
OTHER_PC=$(rand_digits 8)
ship_token "Other token" "$OTHER_PC"
JANE=(--token 'pkcs11:token=Jane%20token')
OTHER=(--token 'pkcs11:token=Other%20token')
INITIAL=$(pwfile initial.pin "$PASSCODE")
MINE=$(pwfile mine.pin "my own passcode 1")
PWF=$(pwfile account.pw "$PW")

# ------------------------------------------------------------------ check and passcode
section "token check: what is missing and how to fix it"
tok_fails "check: two tokens, none chosen" 64 "several tokens.*--token" check "${OPTS[@]}"
tok check "${OPTS[@]}" "${JANE[@]}"
expect "check with the initial passcode exits 65" "$RC" 65
file_has "it names the module" "$WORK/out" "^Module: +$M \\(loaded\\)"
file_has "the token, maker, model and serial" "$WORK/out" \
    "^Token: +\"Jane token\", SoftHSM project SoftHSM v2, serial $SERIAL"
file_has "free space (SoftHSM2 does not report it)" "$WORK/out" '^Free space: '
file_has "the passcode is the initial one, by the CA's marker" "$WORK/out" \
    '^Passcode: +still the initial one: the CA.s marker'
file_has "not ready" "$WORK/out" '^Status: +not ready'
file_has "how to fix it" "$WORK/err" 'tessera token passcode'
# SoftHSM2 never sets CKF_USER_PIN_TO_BE_CHANGED: the marker is what shows it.
p11 --token-label "Jane token" -T >"$WORK/p11info" 2>&1
file_lacks "SoftHSM2 does not flag the PIN as to be changed" "$WORK/p11info" 'PIN.*to be changed'

tok_fails "retrieve refuses while the initial passcode is set (before asking anything)" 65 \
    'initial passcode.*tessera token passcode' retrieve --server "$URL" --ca-file "$ROOT" \
    --activation-code "$CODE" "${OPTS[@]}" "${JANE[@]}"
tok_fails "passcode: a wrong current passcode" 77 \
    'refused to change the passcode.*wrong current PIN' passcode "${OPTS[@]}" \
    "${JANE[@]}" --passcode-file "$(pwfile wrong.pin 00000000)" --new-passcode-file "$MINE"
tok_fails "passcode: a new one too short" 64 'at least 4' passcode "${OPTS[@]}" "${JANE[@]}" \
    --passcode-file "$INITIAL" --new-passcode-file "$(pwfile short.pin 123)"
tok_fails "passcode: a passcode file others can read" 64 'chmod' passcode "${OPTS[@]}" \
    "${JANE[@]}" --passcode-file "$(pwfile open.pin "$PASSCODE" 644)" --new-passcode-file "$MINE"
tok_ok "passcode: the initial one replaced" passcode "${OPTS[@]}" "${JANE[@]}" \
    --passcode-file "$INITIAL" --new-passcode-file "$MINE"
file_has "it says so" "$WORK/out" "passcode of token Jane token \\(serial $SERIAL\\) is changed"
p11 --token-label "Jane token" --list-objects >"$WORK/objs" 2>&1
file_lacks "the marker is gone" "$WORK/objs" 'initial passcode'
tok_ok "check: ready" check "${OPTS[@]}" "${JANE[@]}"
file_has "ready for retrieve" "$WORK/out" '^Status: +ready'
p11 --token-label "Jane token" --login --pin "$PASSCODE" --list-objects >/dev/null 2>&1 &&
    fail "the initial passcode still works"
pass "pkcs11-tool: the initial passcode is refused"
tok_ok "passcode on the other token too" passcode "${OPTS[@]}" "${OTHER[@]}" \
    --passcode-file "$(pwfile other.pin "$OTHER_PC")" --new-passcode-file "$MINE"
tok_ok "show: an empty token" show "${OPTS[@]}" "${JANE[@]}"
file_has "no certificates" "$WORK/out" 'no certificates on the token'

# ------------------------------------------------------------------ bad input
section "retrieve: bad input gets a clear message, nothing is issued or stored"
ROWS=$(cert_count_db "$H")
FAILS=$(db "SELECT failed_logins FROM applications WHERE id = '$A'")
# retrieve_fails DESC STATUS REGEX [OPTIONS...]: a retrieval onto Jane's token
# with the right code, password and passcode unless OPTIONS override them.
retrieve_fails()
{
	local d=$1 s=$2 r=$3
	shift 3
	tok_fails "$d" "$s" "$r" retrieve --server "$URL" --ca-file "$ROOT" \
	    --activation-code "$CODE" --password-file "$PWF" --passcode-file "$MINE" "$@"
}
retrieve_fails "a module path that does not exist" 66 'does not exist.*--module' \
    --module /nonexistent/pkcs11.so "${JANE[@]}"
# awk reads to the end (no early exit): under pipefail, ldconfig must not
# die of SIGPIPE while it still writes.
LIBCRYPTO=$(ldconfig -p | awk '!found && /libcrypto\.so\.3 .*x86-64|libcrypto\.so\.3 / { print $NF; found = 1 }')
retrieve_fails "a library that is not a PKCS#11 module" 69 'does not load' \
    --module "$LIBCRYPTO" "${JANE[@]}"
mkdir -p "$WORK/empty/tokens"
printf 'directories.tokendir = %s\n' "$WORK/empty/tokens" >"$WORK/empty/softhsm2.conf"
SOFTHSM2_CONF=$WORK/empty/softhsm2.conf tsr_fails "no token present" 66 \
    'no initialized PKCS#11 token is present: insert the token' \
    token retrieve --server "$URL" --ca-file "$ROOT" --activation-code "$CODE" \
    --password-file "$PWF" --passcode-file "$MINE" "${OPTS[@]}"
retrieve_fails "a token that is not there (--token)" 66 'insert the token or correct --token' \
    "${OPTS[@]}" --token "pkcs11:serial=0000000000000000"
retrieve_fails "a wrong token passcode (before the server is asked)" 77 \
    'refused the passcode.*wrong PIN' "${OPTS[@]}" "${JANE[@]}" \
    --passcode-file "$(pwfile wrong.pin 00000000)"
expect "the server was not asked: no failure counted" \
    "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" "$FAILS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/evil.key" \
    -out "$WORK/evil.pem" -subj /CN=Evil -days 2 2>/dev/null
retrieve_fails "a server the --ca-file does not vouch for" 77 'not trusted.*--ca-file' \
    "${OPTS[@]}" "${JANE[@]}" --ca-file "$WORK/evil.pem"
retrieve_fails "no --ca-file" 64 'ca-file ROOT is required' "${OPTS[@]}" "${JANE[@]}" \
    --ca-file ''
retrieve_fails "an http:// server" 64 'https://' "${OPTS[@]}" "${JANE[@]}" \
    --server "http://${URL#https://}"
OTHER_CODE=$(tr '0-9A-Z' '1-9A-Z0' <<<"$CODE")
retrieve_fails "a wrong activation code" any 'typo|activation code or password|auth' \
    "${OPTS[@]}" "${JANE[@]}" --activation-code "$OTHER_CODE"
retrieve_fails "a wrong account password" 77 'csrattrs: .*(wrong|password)' "${OPTS[@]}" \
    "${JANE[@]}" --password-file "$(pwfile wrong.pw 'not my password at all')"
expect "the wrong password is counted on the account" \
    "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" $((FAILS + 1))
retrieve_fails "a different token than the one assigned" 65 "onto token $SERIAL, not onto token $OTHER_SERIAL" \
    "${OPTS[@]}" "${OTHER[@]}"
audit_has "the other token is audited" \
    ".outcome != \"success\" and .object == \"application:$A\" and (.detail | test(\"$OTHER_SERIAL\"))"
expect "nothing issued by any of them" "$(cert_count_db "$H")" "$ROWS"
expect "still activation_issued" "$(state_of "$A")" activation_issued
p11 --token-label "Jane token" --list-objects >"$WORK/objs" 2>&1
file_lacks "nothing stored on Jane's token" "$WORK/objs" 'Certificate Object|Public Key Object'

# ------------------------------------------------------------------ an interrupted retrieval
section "an interrupted retrieval: the server's answer is lost, the same key completes it"
# A TCP proxy in front of the server.  On the second connection (csrattrs,
# simpleenroll, cacerts) it forwards the client's request, then drops the
# server's answer and closes both sides: the certificate is issued, the
# client never gets it.
cat >"$WORK/proxy.py" <<'PY'
import socket, sys, threading
target = ("127.0.0.1", int(sys.argv[1]))
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(8)
print(lsock.getsockname()[1], flush=True)

def relay(conn, up, drop):
    # The client's TLS records are read as they pass: the request is the
    # application data (type 23) beyond the ~60 bytes of an encrypted
    # TLS 1.3 Finished; once it has gone, the server's bytes are dropped.
    st = {"buf": b"", "appdata": 0}
    def cut():
        for s in (conn, up):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    def c2s():
        try:
            while True:
                d = conn.recv(65536)
                if not d:
                    break
                st["buf"] += d
                while len(st["buf"]) >= 5:
                    n = 5 + int.from_bytes(st["buf"][3:5], "big")
                    if len(st["buf"]) < n:
                        break
                    if st["buf"][0] == 23:
                        st["appdata"] += n
                    st["buf"] = st["buf"][n:]
                up.sendall(d)
        except OSError:
            pass
        cut()
    def s2c():
        dropped, timer = 0, None
        try:
            while True:
                d = up.recv(65536)
                if not d:
                    break
                if drop and st["appdata"] > 250:
                    # the answer (not a session ticket) has come, or surely has by 10 s
                    if timer is None:
                        timer = threading.Timer(10, cut)
                        timer.start()
                    dropped += len(d)
                    if dropped >= 1000:
                        timer.cancel()
                        break
                    continue
                conn.sendall(d)
        except OSError:
            pass
        cut()
    threading.Thread(target=c2s, daemon=True).start()
    threading.Thread(target=s2c, daemon=True).start()

count = 0
while True:
    conn, _ = lsock.accept()
    count += 1
    relay(conn, socket.create_connection(target), count == 2)
PY
python3 "$WORK/proxy.py" "${URL##*:}" >"$WORK/proxy.port" </dev/null &
PROXY=$!
KILL_AT_EXIT+=(PROXY)
for _ in $(seq 1 50); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
PROXY_URL=https://127.0.0.1:$(cat "$WORK/proxy.port")
retrieve_fails "the answer lost on the way" 74 \
    'simpleenroll.*stays on the token as "Tessera pending": run the same command again' \
    "${OPTS[@]}" "${JANE[@]}" \
    --server "$PROXY_URL"
kill "$PROXY"
PROXY=
expect "the server issued it" "$(state_of "$A")" certificate_issued
expect "one certificate more" "$(cert_count_db "$H")" $((ROWS + 1))
ISSUED_SERIAL=$(db "SELECT cert_serial FROM applications WHERE id = '$A'" | tr 'A-F' 'a-f' |
    sed 's/^0*//')
p11 --token-label "Jane token" --login --pin "my own passcode 1" --list-objects >"$WORK/objs" 2>&1
file_has "the key waits on the token, labelled pending" "$WORK/objs" "label: +Tessera pending"
file_lacks "no certificate stored" "$WORK/objs" 'Certificate Object'

# ------------------------------------------------------------------ retrieval
section "retrieve: onto the token"
tok_ok "retrieve again, straight to the server" retrieve --server "$URL" --ca-file "$ROOT" \
    --activation-code "$CODE" --password-file "$PWF" --passcode-file "$MINE" "${OPTS[@]}" \
    "${JANE[@]}"
cp "$WORK/out" "$WORK/retrieve.out"
file_has "stored on Jane's token" "$WORK/retrieve.out" \
    "^Certificate stored on token \"Jane token\" \\(serial $SERIAL\\)"
file_has "with the key of the interrupted attempt" "$WORK/retrieve.out" \
    'generated on the token by the interrupted attempt; sensitive, never extractable'
file_has "the subject from the application" "$WORK/retrieve.out" '^  subject: .*Jane'
file_has "issued by the issuing CA" "$WORK/retrieve.out" "^  issuer: "
file_has "valid now" "$WORK/retrieve.out" '\(valid now\)'
file_has "the CA certificates stored beside" "$WORK/retrieve.out" 'CA certificates: 2 stored'
file_has "the time it took" "$WORK/retrieve.out" '^Time: [0-9.]+ s \(key'
expect "the same certificate as the lost answer" "$(cert_count_db "$H")" $((ROWS + 1))
GOT_SERIAL=$(awk '/^  serial:/ { print tolower($2) }' "$WORK/retrieve.out" | sed 's/^0*//')
expect "the serial the server recorded" "$GOT_SERIAL" "$ISSUED_SERIAL"

section "pkcs11-tool: what is on the token"
p11 --token-label "Jane token" --login --pin "my own passcode 1" --list-objects >"$WORK/objs" 2>&1
expect "one private key, sensitive and never extractable" "$(private_key_access "$WORK/objs")" \
    "sensitive, always sensitive, never extractable, local"
KEY_ID=$(awk '/^Private Key Object/ { k = 1 } k && /ID:/ { print $2; exit }' "$WORK/objs")
CERT_ID=$(awk '/^Certificate Object/ { c = 1 } c && /subject:.*Jane/ { s = 1 }
    c && /ID:/ { if (s) { print $2; exit } c = 0 }' "$WORK/objs")
[ -n "$KEY_ID" ] || fail "no key ID in the listing"
expect "the certificate is stored beside the key (same ID)" "$CERT_ID" "$KEY_ID"
p11 --token-label "Jane token" --read-object --type cert --id "$KEY_ID" -o "$WORK/cert.der" \
    >/dev/null 2>&1
openssl x509 -inform DER -in "$WORK/cert.der" -out "$WORK/cert.pem"
expect "the ID is the certificate's subject key identifier" "$(ski "$WORK/cert.pem")" \
    "$(tr 'a-f' 'A-F' <<<"$KEY_ID")"
expect "its key is the token's" "$(openssl x509 -in "$WORK/cert.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | sha)" "$(p11 --token-label "Jane token" --read-object \
    --type pubkey --id "$KEY_ID" 2>/dev/null | openssl pkey -pubin -inform DER -outform DER | sha)"
file_has "labelled after the certificate" "$WORK/objs" 'label: +Tessera Jane'
file_lacks "no pending key left" "$WORK/objs" 'Tessera pending'
file_has "the CA certificates beside it" "$WORK/objs" 'label: +Tessera CA'
check "openssl verify: the chain to the CA's root" openssl verify -CAfile "$ROOT" \
    -untrusted "$H/certs/issuing.pem" "$WORK/cert.pem"
tsr_ok "the CA's record" cert show --home "$H" "$GOT_SERIAL" --pem
expect "is the certificate on the token" "$(openssl x509 -in "$WORK/out" -outform DER | sha)" \
    "$(sha "$WORK/cert.der")"

tok_ok "show" show "${OPTS[@]}" "${JANE[@]}" --ca-file "$ROOT"
file_has "the certificate, valid now" "$WORK/out" '^  valid: .*\(valid now\)'
file_has "its key beside it" "$WORK/out" '^  key: +on the token'
file_has "it chains to the root" "$WORK/out" "^  chain: +chains to $ROOT"
tok_ok "show --login lists the private key" show "${OPTS[@]}" "${JANE[@]}" \
    --passcode-file "$MINE"
file_has "sensitive, never extractable" "$WORK/out" \
    '^Private key "Tessera Jane.*: sensitive, never extractable'

retrieve_fails "the used code with another key" 65 'policy|another key|used' "${OPTS[@]}" \
    "${JANE[@]}"
expect "nothing more issued" "$(cert_count_db "$H")" $((ROWS + 1))

# ------------------------------------------------------------------ test my certificate
section "Test My Certificate"
tok_ok "token test" test --server "$URL" --ca-file "$ROOT" --passcode-file "$MINE" \
    "${OPTS[@]}" "${JANE[@]}"
file_has "the signature is good" "$WORK/out" '^  signature +good'
file_has "the chain is good" "$WORK/out" '^  chain +good'
file_has "valid" "$WORK/out" '^  validity +good'
file_has "not revoked" "$WORK/out" '^  status +good'
file_has "GOOD" "$WORK/out" '^Result: GOOD'
tok_fails "test with a wrong passcode" 77 'refused the passcode' test --server "$URL" \
    --ca-file "$ROOT" --passcode-file "$(pwfile wrong.pin 00000000)" "${OPTS[@]}" "${JANE[@]}"
tok_fails "test on a token without a certificate" 66 'no certificate' test --server "$URL" \
    --ca-file "$ROOT" --passcode-file "$MINE" "${OPTS[@]}" "${OTHER[@]}"

# ------------------------------------------------------------------ renewal
section "renew: a new key, over mutual TLS with the current certificate"
tok_fails "renew through a server the --ca-file does not vouch for" 77 'not trusted' renew \
    --server "$URL" --ca-file "$WORK/evil.pem" --passcode-file "$MINE" "${OPTS[@]}" "${JANE[@]}"
tok_ok "renew" renew --server "$URL" --ca-file "$ROOT" --passcode-file "$MINE" "${OPTS[@]}" \
    "${JANE[@]}"
cp "$WORK/out" "$WORK/renew.out"
file_has "stored" "$WORK/renew.out" '^Renewed certificate stored on token "Jane token"'
file_has "the old key and certificate removed" "$WORK/renew.out" 'old key and certificate removed'
NEW_SERIAL=$(awk '/^  serial:/ { print tolower($2) }' "$WORK/renew.out" | sed 's/^0*//')
[ "$NEW_SERIAL" != "$GOT_SERIAL" ] || fail "renewal gave the same serial"
pass "a new serial: $NEW_SERIAL"
audit_has "the renewal is audited" '.action == "cert.renew" and .outcome == "success"'
p11 --token-label "Jane token" --login --pin "my own passcode 1" --list-objects >"$WORK/objs" 2>&1
expect "one private key, sensitive and never extractable" "$(private_key_access "$WORK/objs")" \
    "sensitive, always sensitive, never extractable, local"
NEW_ID=$(awk '/^Private Key Object/ { k = 1 } k && /ID:/ { print $2; exit }' "$WORK/objs")
[ "$NEW_ID" != "$KEY_ID" ] || fail "the renewed certificate has the old key"
file_lacks "the old certificate is gone" "$WORK/objs" "ID: +$KEY_ID"
tok_ok "token test with the renewed certificate" test --server "$URL" --ca-file "$ROOT" \
    --passcode-file "$MINE" "${OPTS[@]}" "${JANE[@]}"
file_has "GOOD" "$WORK/out" '^Result: GOOD'
check "audit chain verifies" "$TESSERA" audit verify --home "$H"
db_files DBF "$H"
for secret in "$PASSCODE" "$PW" "my own passcode 1" "$CODE"; do
	grep -rqF -- "$secret" "$WORK/serve.err" "${DBF[@]}" && fail "a secret is in the server's log or database"
done
pass "no passcode, password or code in the server's log or database"

# ------------------------------------------------------------------ EPCS, no country
section "EPCS on a CA home made without --country: a clear configuration error"
# EPCS subjects carry C, taken from [ca] country; this home was made without
# --country, so the server cannot make the subject and must say why.
expect "this home has no [ca] country" "$(sed -n 's/^country *= *//p' "$H/tessera.conf")" ""
vouchers NC_VOUCHER epcs 1
epcs_app "$NC_VOUCHER" "$PW" Nora nora@example.org >"$WORK/app.json"
call POST /api/v1/applications "@$WORK/app.json"
answered "Nora applies for EPCS on a new token" 201
NC=$(field .id)
call POST "/api/v1/applications/$NC/email-verification" \
    "{\"code\":\"$(mail_codes "$H/outbox" verification "$NC" "$VCODE_RE")\"}"
answered "the email is verified" 200
SOFTHSM2_CONF=$SUBCONF softhsm2-util --init-token --free --label "Nora token" \
    --so-pin "$SO_PIN" --pin "my own passcode 1" >/dev/null
NC_SERIAL=$(serial_of "Nora token")
call POST "/api/v1/ra/applications/$NC/approval" "{\"token_serial\":\"$NC_SERIAL\"}" "$T_ALICE"
answered "alice assigns the token and approves" 200
call POST "/api/v1/ra/applications/$NC/approval" '{}' "$T_BOB"
answered "bob approves: final" 200
expect "activation issued" "$(state_of "$NC")" activation_issued
NC_CODE=$(mail_codes "$H/outbox" activation "$NC" "$ACODE_RE")
ROWS=$(cert_count_db "$H")
# The client is told that the server failed and why in a word; the
# operator's log has the whole reason (a server keeps 5xx details for it).
tok_fails "retrieve: the server's configuration error" 74 \
    'simpleenroll: the server failed \(HTTP 500, invalid configuration\).*tell the CA.*run the same' \
    retrieve --server "$URL" --ca-file "$ROOT" --activation-code "$NC_CODE" \
    --password-file "$PWF" --passcode-file "$MINE" "${OPTS[@]}" --token 'pkcs11:token=Nora%20token'
file_has "the server answered 500 to simpleenroll" "$WORK/serve.err" \
    'path=/\.well-known/est/simpleenroll status=500'
file_has "its log names the fix" "$WORK/serve.err" \
    'simpleenroll: invalid configuration: product epcs puts the country in the subject: set \[ca\] country'
expect "nothing issued" "$(cert_count_db "$H")" "$ROWS"
expect "still activation_issued" "$(state_of "$NC")" activation_issued
expect "not counted against Nora's account" \
    "$(db "SELECT failed_logins FROM applications WHERE id = '$NC'")" 0
p11 --token-label "Nora token" --list-objects >"$WORK/objs" 2>&1
file_lacks "no certificate stored on Nora's token" "$WORK/objs" 'Certificate Object'
stop_server

# ------------------------------------------------------------------ the EPCS journey
section "the EPCS journey: a CA home made with --country US, two officers"
US=$WORK/us
init_home "$US" --country US
H=$US
ROOT=$H/certs/root.pem
expect "[ca] country" "$(sed -n 's/^country *= *//p' "$H/tessera.conf")" US
[[ $(openssl x509 -in "$ROOT" -noout -subject -nameopt RFC2253) == *C=US* ]] ||
    fail "the root's subject has no C=US"
pass "the root carries C=US"
add_user alice ra-officer "$PW_ALICE"
add_user bob ra-officer "$PW_BOB"
vouchers EPCS_VOUCHER epcs 1
vouchers VOUCHERS smime 6
start_server
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
epcs_app "$EPCS_VOUCHER" "$PW" >"$WORK/app.json"
call POST /api/v1/applications "@$WORK/app.json"
answered "Jane applies for EPCS on a new token, with NPI and DEA" 201
E=$(field .id)
call POST "/api/v1/applications/$E/email-verification" \
    "{\"code\":\"$(mail_codes "$H/outbox" verification "$E" "$VCODE_RE")\"}"
answered "the email is verified with the code from the outbox" 200
login T_ALICE alice "$PW_ALICE"
login T_BOB bob "$PW_BOB"
call GET "/api/v1/applications/$E" "" "$T_ALICE"
answered "alice reads the application" 200
expect "under review" "$(field .state)" under_review
expect "the NPI and DEA checks pass" \
    "$(field '[.checks.npi.result, .checks.dea.result] | join(" ")')" "pass pass"

RX_SERIAL=$(new_token "Prescriber token")
call PUT "/api/v1/ra/applications/$E/token" "{\"serial\":\"$RX_SERIAL\"}" "$T_ALICE"
answered "alice assigns the token's serial ($RX_SERIAL)" 200
call POST "/api/v1/ra/applications/$E/approval" \
    '{"comment":"Photo ID, NPI and DEA registration checked."}' "$T_ALICE"
answered "alice approves" 200
expect "not final: one of two approvals" \
    "$(field '[.final, .approvals, .approvals_required] | map(tostring) | join(" ")')" "false 1 2"
call POST "/api/v1/ra/applications/$E/approval" '{}' "$T_ALICE"
answered "alice cannot give the second approval" 422
expect "no activation letter yet" "$(mail_codes "$H/outbox" activation "$E" "$ACODE_RE")" ""
call POST "/api/v1/ra/applications/$E/approval" '{}' "$T_BOB"
answered "bob, another officer, approves" 200
expect "final" "$(field '[.final, .state] | map(tostring) | join(" ")')" "true activation_issued"
RX_CODE=$(mail_codes "$H/outbox" activation "$E" "$ACODE_RE")
RX_INITIAL=$(mail_codes "$H/passcodes" passcode "$E" "$PCODE_RE")
[[ $RX_INITIAL =~ ^[0-9]{8}$ ]] || fail "passcode letter: '$RX_INITIAL'"
grep -rqF -- "$RX_INITIAL" "$H/outbox" && fail "the initial passcode is in the applicant's outbox"
pass "the activation letter in the outbox, the passcode letter apart in passcodes/"
file_has "the activation letter names the token" "$(mail_file "$H/outbox" activation "$E")" \
    "$RX_SERIAL"

section "the EPCS journey: the token the CA ships, the subscriber's passcode"
ship_token "Prescriber token" "$RX_INITIAL"
RX=(--token 'pkcs11:token=Prescriber%20token')
RXP=prescriber-passcode-9   # no space: it goes into a PKCS#11 URI below
RX_PIN=$(pwfile rx.pin "$RXP")
tok check "${OPTS[@]}" "${RX[@]}"
expect "check: the initial passcode, exit 65" "$RC" 65
file_has "check names the CA's marker" "$WORK/out" '^Passcode: +still the initial one'
tok_fails "retrieve refuses the initial passcode" 65 'initial passcode.*tessera token passcode' \
    retrieve --server "$URL" --ca-file "$ROOT" --activation-code "$RX_CODE" "${OPTS[@]}" "${RX[@]}"
tok_ok "passcode: the subscriber replaces the initial one" passcode "${OPTS[@]}" "${RX[@]}" \
    --passcode-file "$(pwfile rx-initial.pin "$RX_INITIAL")" --new-passcode-file "$RX_PIN"
tok_ok "check: ready" check "${OPTS[@]}" "${RX[@]}"
file_has "ready for retrieve" "$WORK/out" '^Status: +ready'

section "the EPCS journey: retrieve, test"
tok_ok "retrieve" retrieve --server "$URL" --ca-file "$ROOT" --activation-code "$RX_CODE" \
    --password-file "$PWF" --passcode-file "$RX_PIN" "${OPTS[@]}" "${RX[@]}"
cp "$WORK/out" "$WORK/rx-retrieve.out"
file_has "stored on the prescriber's token" "$WORK/rx-retrieve.out" \
    "^Certificate stored on token \"Prescriber token\" \\(serial $RX_SERIAL\\)"
file_has "the subject from the application and [ca] country" "$WORK/rx-retrieve.out" \
    '^  subject: +CN=Jane Tester,.*C=US$'
file_has "a key made on the token" "$WORK/rx-retrieve.out" \
    '^  key: +ec-p256, generated on the token; sensitive, never extractable'
expect "certificate issued" "$(state_of "$E")" certificate_issued
p11 --token-label "Prescriber token" --login --pin "$RXP" --list-objects >"$WORK/objs" 2>&1
expect "pkcs11-tool: one private key, sensitive and never extractable" \
    "$(private_key_access "$WORK/objs")" "sensitive, always sensitive, never extractable, local"
RX_ID=$(awk '/^Private Key Object/ { k = 1 } k && /ID:/ { print $2; exit }' "$WORK/objs")
p11 --token-label "Prescriber token" --read-object --type cert --id "$RX_ID" -o "$WORK/rx.der" \
    >/dev/null 2>&1 || fail "no certificate under the key's ID $RX_ID"
openssl x509 -inform DER -in "$WORK/rx.der" -out "$WORK/rx.pem"
pass "pkcs11-tool: the certificate beside the key (ID $RX_ID)"
check "openssl verify: the chain to the root" openssl verify -CAfile "$ROOT" \
    -untrusted "$H/certs/issuing.pem" "$WORK/rx.pem"
RX_SUBJECT=$(openssl x509 -in "$WORK/rx.pem" -noout -subject -nameopt RFC2253)
[[ $RX_SUBJECT == *"CN=Jane Tester"* && $RX_SUBJECT == *C=US* ]] ||
    fail "subject '$RX_SUBJECT'"
pass "openssl: $RX_SUBJECT"
ext "$WORK/rx.pem" extendedKeyUsage subjectAltName >"$WORK/rx.ext"
file_has "EKU: document signing" "$WORK/rx.ext" '1\.3\.6\.1\.5\.5\.7\.3\.36|[Dd]ocument [Ss]igning'
file_has "SAN: the applicant's email" "$WORK/rx.ext" 'email:jane@example\.org'
RX_CERT_SERIAL=$(cert_serial "$WORK/rx.pem")
expect "the serial the application records" "$(app_serial "$E")" "$RX_CERT_SERIAL"
tok_ok "token test" test --server "$URL" --ca-file "$ROOT" --passcode-file "$RX_PIN" \
    "${OPTS[@]}" "${RX[@]}"
file_has "Test My Certificate: GOOD" "$WORK/out" '^Result: GOOD'
file_has "every check good" "$WORK/out" '^  status +good'

section "the EPCS journey: a prescription signed with the token"
DOC=$WORK/prescription.bin
# binary on purpose: CR LF, NUL and high bytes are signed as they are
{ printf 'Rx: oxycodone 5 mg, #20\r\nDEA AT1234563\r\n\0'; head -c 3000 /dev/urandom; } >"$DOC"
cp "$DOC" "$WORK/changed.bin"
printf 'X' | dd of="$WORK/changed.bin" bs=1 seek=4 conv=notrunc status=none
SIGN=(sign --module "$M" "${RX[@]}" --passcode-file "$RX_PIN")
sub_tsr_ok() { local d=$1; shift; SOFTHSM2_CONF=$SUBCONF tsr_ok "$d" "$@"; }
sub_tsr_ok "tessera sign: attached" "${SIGN[@]}" --in "$DOC" --out "$WORK/rx.p7s"
file_has "sign names the signer" "$WORK/out" 'as CN=Jane Tester,.*C=US; attached signature in'
check "openssl cms -verify accepts it" openssl cms -verify -binary -inform DER \
    -in "$WORK/rx.p7s" -CAfile "$ROOT" -purpose any -out "$WORK/rx.extracted"
check "the content OpenSSL extracts is the document, byte for byte" cmp "$DOC" \
    "$WORK/rx.extracted"
tsr_ok "tessera verify accepts it" verify --no-status --in "$WORK/rx.p7s" --ca-file "$ROOT"
file_has "every check good" "$WORK/out" \
    '^verified: every check is good; the revocation status was not checked$'
file_has "the signer" "$WORK/out" '^signer +CN=Jane Tester,.*C=US$'
sub_tsr_ok "tessera sign: detached" "${SIGN[@]}" --in "$DOC" --out "$WORK/rx.sig" --detached
check "openssl cms -verify -content accepts the detached signature" openssl cms -verify -binary \
    -inform DER -in "$WORK/rx.sig" -content "$DOC" -CAfile "$ROOT" -purpose any -out /dev/null
tsr_ok "tessera verify --content accepts it" verify --no-status --in "$WORK/rx.sig" \
    --content "$DOC" --ca-file "$ROOT"
file_has "every check good" "$WORK/out" \
    '^verified: every check is good; the revocation status was not checked$'
check_fails "openssl refuses the detached signature over a changed document" openssl cms -verify \
    -binary -inform DER -in "$WORK/rx.sig" -content "$WORK/changed.bin" -CAfile "$ROOT" \
    -purpose any -out /dev/null
tsr verify --no-status --in "$WORK/rx.sig" --content "$WORK/changed.bin" --ca-file "$ROOT"
[ "$RC" -eq 65 ] && grep -q '^NOT VERIFIED' "$WORK/out" ||
    { show_output; fail "tessera verify: a changed document (exit $RC)"; }
pass "tessera verify refuses a changed document (exit 65: $(tail -n 1 "$WORK/err"))"
call GET "/api/v1/applications/$E" "" "$T_BOB"
answered "the application, as an officer sees it" 200
expect "certificate_issued (API)" "$(field .state)" certificate_issued
expect "certificate_issued (database)" "$(state_of "$E")" certificate_issued
check "tessera audit verify: the chain holds" "$TESSERA" audit verify --home "$H"

# ------------------------------------------------------------------ the pkcs11 engine
section "renewal over mutual TLS with the token key through OpenSSL's pkcs11 engine"
# Nothing of Tessera's on the client side: curl presents the current
# certificate and does the TLS handshake with the token key through the
# engine; `openssl req` makes the new key's CSR on the token the same way.
cat >"$WORK/engine.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engines
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $M
CNF
ENG=(env OPENSSL_CONF="$WORK/engine.cnf" SOFTHSM2_CONF="$SUBCONF")
check "curl --engine list" "${ENG[@]}" curl --engine list
file_has "curl can use the pkcs11 engine" "$WORK/out" '^ *pkcs11$'
# key_uri HEXID: the PKCS#11 URI of a private key on the prescriber's token.
key_uri()
{
	echo "pkcs11:token=Prescriber%20token;id=$(sed 's/../%&/g' <<<"$1");type=private?pin-value=$RXP"
}
# engine_csr HEXID OUT: base64 of a DER CSR signed on the token by key HEXID.
engine_csr()
{
	check "openssl req -engine pkcs11: a CSR signed by token key $1" "${ENG[@]}" openssl req \
	    -new -engine pkcs11 -keyform engine -key "$(key_uri "$1")" -subj "/CN=Mallory" \
	    -outform DER -out "$WORK/$1.csr"
	openssl base64 -in "$WORK/$1.csr" -out "$2"
}
# reenroll_engine CSR [HEXID]: POST simplereenroll, curl authenticated by the
# current certificate and the token key HEXID (default: the current key);
# curl's status in $RC, its stderr in $WORK/err.
reenroll_engine()
{
	RC=0
	STATUS=$("${ENG[@]}" curl -sS --max-time 60 --engine pkcs11 --key-type ENG \
	    --key "$(key_uri "${2:-$RX_ID}")" --cert "$WORK/rx.pem" --cacert "$ROOT" \
	    -H 'Content-Type: application/pkcs10' --data-binary "@$1" -D "$WORK/headers" \
	    -o "$WORK/body" -w '%{http_code}' "$URL/.well-known/est/simplereenroll" \
	    2>"$WORK/err") || RC=$?
}
ROWS=$(cert_count_db "$H")
engine_csr "$RX_ID" "$WORK/same.b64"
reenroll_engine "$WORK/same.b64"
answered "a renewal request for the current key is refused" 422
expect "nothing issued" "$(cert_count_db "$H")" "$ROWS"
NEW_KEY=0e0e0e0e
check "pkcs11-tool --keypairgen: a new P-256 key on the token" p11 \
    --token-label "Prescriber token" --login --pin "$RXP" --keypairgen --key-type EC:prime256v1 \
    --id "$NEW_KEY" --label "engine renewal" --usage-sign
engine_csr "$NEW_KEY" "$WORK/new.b64"
reenroll_engine "$WORK/new.b64" "$NEW_KEY"
[ "$RC" -ne 0 ] || fail "curl used a token key that is not the certificate's"
pass "curl refuses a token key not the certificate's (curl exit $RC: $(head -n 1 "$WORK/err"))"
expect "nothing issued" "$(cert_count_db "$H")" "$ROWS"
reenroll_engine "$WORK/new.b64"
[ "$RC" -eq 0 ] || { cat "$WORK/err" >&2; fail "curl --engine pkcs11 exited $RC"; }
answered "curl --engine pkcs11: simplereenroll with the current certificate" 200
grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' "$WORK/headers" ||
    fail "the answer's Content-Type"
base64 -d "$WORK/body" | openssl pkcs7 -inform DER -print_certs -out "$WORK/renewed.pem" ||
    fail "the answer is not a certs-only PKCS#7"
expect "one certificate" "$(grep -c 'BEGIN CERTIFICATE' "$WORK/renewed.pem")" 1
check "openssl verify: it chains to the root" openssl verify -CAfile "$ROOT" \
    -untrusted "$H/certs/issuing.pem" "$WORK/renewed.pem"
expect "the same subject" \
    "$(openssl x509 -in "$WORK/renewed.pem" -noout -subject -nameopt RFC2253)" "$RX_SUBJECT"
RENEWED_SERIAL=$(cert_serial "$WORK/renewed.pem")
[ "$RENEWED_SERIAL" != "$RX_CERT_SERIAL" ] || fail "the renewal kept the serial"
pass "a new serial: $RENEWED_SERIAL"
expect "its key is the new token key" "$(openssl x509 -in "$WORK/renewed.pem" -noout -pubkey |
    openssl pkey -pubin -outform DER | sha)" "$(p11 --token-label "Prescriber token" \
    --read-object --type pubkey --id "$NEW_KEY" 2>/dev/null |
    openssl pkey -pubin -inform DER -outform DER | sha)"
expect "one certificate row more" "$(cert_count_db "$H")" $((ROWS + 1))
expect "the application records the new serial" "$(app_serial "$E")" "$RENEWED_SERIAL"
expect "still certificate_issued" "$(state_of "$E")" certificate_issued
audit_has "the renewal is audited" ".action == \"cert.renew\" and .outcome == \"success\" and
    (.detail | test(\"$RENEWED_SERIAL\"; \"i\"))"

section "the renewed certificate on the token, as Tessera's conventions say"
RENEWED_ID=$(ski "$WORK/renewed.pem")
for t in privkey pubkey; do
	check "CKA_ID of the new $t := the SKI" p11 --token-label "Prescriber token" --login \
	    --pin "$RXP" --set-id "$RENEWED_ID" --id "$NEW_KEY" --type "$t"
done
openssl x509 -in "$WORK/renewed.pem" -outform DER -out "$WORK/renewed.der"
check "pkcs11-tool --write-object the renewed certificate" p11 --token-label "Prescriber token" \
    --login --pin "$RXP" --write-object "$WORK/renewed.der" --type cert --id "$RENEWED_ID" \
    --label "Tessera Jane Tester"
tok_ok "show: both certificates" show "${OPTS[@]}" "${RX[@]}" --ca-file "$ROOT"
expect "two subscriber certificates, valid now, keys beside them" \
    "$(grep -Ec '^  key: +on the token' "$WORK/out" || true)" 2
tok_ok "token test --id: the renewed certificate" test --server "$URL" --ca-file "$ROOT" \
    --passcode-file "$RX_PIN" --id "$RENEWED_ID" "${OPTS[@]}" "${RX[@]}"
file_has "GOOD" "$WORK/out" '^Result: GOOD'
SOFTHSM2_CONF=$SUBCONF tsr_fails "sign: two valid certificates and no --id" 64 \
    'choose one with --id' "${SIGN[@]}" --in "$DOC" --out "$WORK/x.p7s"
sub_tsr_ok "sign --id: with the renewed certificate" "${SIGN[@]}" --id "$RENEWED_ID" \
    --in "$DOC" --out "$WORK/renewed.p7s"
check "openssl cms -verify accepts it" openssl cms -verify -binary -inform DER \
    -in "$WORK/renewed.p7s" -CAfile "$ROOT" -purpose any -out /dev/null
tsr_ok "tessera verify accepts it" verify --no-status --in "$WORK/renewed.p7s" --ca-file "$ROOT"
file_has "signed by the renewed certificate" "$WORK/out" \
    "^serial +0*$(tr 'A-F' 'a-f' <<<"$RENEWED_SERIAL")\$"
check "audit chain verifies" "$TESSERA" audit verify --home "$H"
db_files DBF "$H"
for secret in "$RX_INITIAL" "$RXP" "$PW" "$RX_CODE"; do
	grep -rqF -- "$secret" "$WORK/serve.err" "${DBF[@]}" &&
	    fail "a secret is in the server's log or database"
done
pass "no passcode, password or code in the server's log or database"

# ------------------------------------------------------------------ timing
section "the retrieval time: key generation + CSR + EST + storing, five runs"
# Five more S/MIME applications (software storage, so no serial to assign)
# retrieved onto one token; `token retrieve` reports its own time for the
# steps the issue names, and the whole command is timed from outside too.
SOFTHSM2_CONF=$SUBCONF softhsm2-util --init-token --free --label "Bench token" \
    --so-pin "$SO_PIN" --pin "my own passcode 1" >/dev/null
BENCH=(--token 'pkcs11:token=Bench%20token')
: >"$WORK/times"
for i in 1 2 3 4 5; do
	jq -n --arg v "${VOUCHERS[$i]}" --arg pw "$PW" --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
	    --arg e "bench$i@example.org" \
	    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: "Bench", family_name: "Tester", email: $e}, questions: $q}' \
	    >"$WORK/app.json"
	call POST /api/v1/applications "@$WORK/app.json"
	answered "application $i" 201
	B=$(field .id)
	call POST "/api/v1/applications/$B/email-verification" \
	    "{\"code\":\"$(mail_codes "$H/outbox" verification "$B" "$VCODE_RE")\"}"
	call POST "/api/v1/ra/applications/$B/approval" '{}' "$T_ALICE"
	answered "approved" 200
	BCODE=$(mail_codes "$H/outbox" activation "$B" "$ACODE_RE")
	start=$(date +%s.%N)
	tok_ok "retrieval $i" retrieve --server "$URL" --ca-file "$ROOT" --activation-code "$BCODE" \
	    --password-file "$PWF" --passcode-file "$MINE" "${OPTS[@]}" "${BENCH[@]}"
	end=$(date +%s.%N)
	steps=$(sed -n 's/^Time: \([0-9.]*\) s .*/\1/p' "$WORK/out")
	keytype=$(sed -n 's/^  key: *\([a-z0-9-]*\),.*/\1/p' "$WORK/out")
	echo "$steps $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') $keytype" \
	    "$(sed -n 's/^Time: [0-9.]* s //p' "$WORK/out")" >>"$WORK/times"
done
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }
STEPS=$(cut -d' ' -f1 "$WORK/times" | median)
WALL=$(cut -d' ' -f2 "$WORK/times" | median)
printf 'retrieval of a %s key, median of 5: %s s (key generation + CSR + EST + storing); %s s for the whole command\n' \
    "$(cut -d' ' -f3 "$WORK/times" | head -n 1)" "$STEPS" "$WALL"
awk '{ t = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", t); printf "    run: %s s, whole command %s s %s\n", $1, $2, t }' \
    "$WORK/times"
pass "five retrievals timed"
