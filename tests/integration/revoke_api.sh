#!/bin/bash
# revoke_api.sh - revoking, suspending and resuming certificates over the
# API, against the real `tessera serve`, with curl and SoftHSM2 tokens.
#
# Three subscribers retrieve S/MIME certificates onto their own tokens with
# `tessera token retrieve`.  Officers read, suspend, resume and revoke Kim's
# certificate; an auditor may read but not act.  John, who has lost his
# token, uses his account password and a secret answer: a wrong answer is
# refused and counted, his secrets on Jane's certificate are refused, resume
# is not his to ask, suspending his own works.  A signed request by a key
# that is not the certificate's, and a replayed nonce, are refused.  Jane
# revokes hers with `tessera token revoke`, the token key signing the
# server's nonce; John revokes his for good with `tessera token revoke
# --application`.  After every refusal the status is unchanged; every
# change and refusal is audited; the audit chain verifies; no password,
# answer, code, passcode or token is in the database, the audit log or the
# server's log.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 sqlite3 softhsm2-util

M=$SOFTHSM_MODULE
SUB=$WORK/subscriber            # the subscribers' SoftHSM2 (not the CA's)
mkdir -p "$SUB/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$SUB/tokens" >"$SUB/softhsm2.conf"
SUBCONF=$SUB/softhsm2.conf
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
db() { dbq "$H" "$1"; }
status_of() { db "SELECT status FROM certificates WHERE serial = '$1'"; }
failures_of() { db "SELECT failed_logins FROM applications WHERE id = '$1'"; }

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
	if [ -n "$re" ] && ! field .detail | grep -Eiq -- "$re"; then
		fail "$desc: detail '$(field .detail)' does not match /$re/"
	fi
	pass "$desc ($want $type: $(field .detail))"
}

# ------------------------------------------------------------------ the CA and three subscribers
section "the CA, officers, an auditor, three S/MIME subscribers with their tokens"
base_home
H=$BASE
ROOT=$H/certs/root.pem
PW_ALICE='violet tractor umbrella 42'
PW_DAVE='copper meadow lighthouse 9'
PW_CAROL='quiet harbour lantern 7'
add_user alice ra-officer "$PW_ALICE"
add_user dave ca-admin "$PW_DAVE"
add_user carol auditor "$PW_CAROL"
vouchers VOUCHERS smime 3
start_server
call GET /api/v1/agreement
AGREEMENT=$(field .version)
login T_ALICE alice "$PW_ALICE"
login T_DAVE dave "$PW_DAVE"
login T_CAROL carol "$PW_CAROL"
PASSCODE='my own passcode 1'
PCF=$(pwfile passcode.pin "$PASSCODE")
declare -A APP SERIAL
declare -A PW=([Jane]='correct horse battery staple' [John]='purple mountain ferry 2031'
    [Kim]='silver canyon orchard 88')
CODES=()
# subscriber NAME VOUCHER: apply (S/MIME, software storage), verify, alice
# approves, `tessera token retrieve` onto the token "NAME token";
# ${APP[NAME]}, ${SERIAL[NAME]}, ${PW[NAME]}.
subscriber()
{
	local name=$1 lower code
	lower=$(tr 'A-Z' 'a-z' <<<"$name")
	jq -n --arg v "$2" --arg g "$name" --arg e "$lower@example.org" --arg pw "${PW[$name]}" \
	    --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
	    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: $g, family_name: "Tester", email: $e}, questions: $q}' \
	    >"$WORK/app.json"
	call POST /api/v1/applications "@$WORK/app.json"
	answered "$name applies" 201
	APP[$name]=$(field .id)
	call POST "/api/v1/applications/${APP[$name]}/email-verification" \
	    "{\"code\":\"$(mail_codes "$H/outbox" verification "${APP[$name]}" "$VCODE_RE")\"}"
	answered "$name's email is verified" 200
	call POST "/api/v1/ra/applications/${APP[$name]}/approval" '{}' "$T_ALICE"
	answered "alice approves $name" 200
	code=$(mail_codes "$H/outbox" activation "${APP[$name]}" "$ACODE_RE")
	CODES+=("$code")
	SOFTHSM2_CONF=$SUBCONF softhsm2-util --init-token --free --label "$name token" \
	    --so-pin 87654321 --pin "$PASSCODE" >/dev/null
	tok_ok "$name retrieves onto the token" retrieve --server "$URL" --ca-file "$ROOT" \
	    --activation-code "$code" --password-file "$(pwfile "$lower.pw" "${PW[$name]}")" \
	    --passcode-file "$PCF" --module "$M" --token "pkcs11:token=$name%20token"
	SERIAL[$name]=$(db "SELECT cert_serial FROM applications WHERE id = '${APP[$name]}'")
	[[ ${SERIAL[$name]} =~ ^[0-9a-f]+$ ]] || fail "$name's certificate serial"
	expect "$name's certificate is valid" "$(status_of "${SERIAL[$name]}")" valid
}
subscriber Jane "${VOUCHERS[0]}"
subscriber John "${VOUCHERS[1]}"
subscriber Kim "${VOUCHERS[2]}"
J=${SERIAL[Jane]}
JO=${SERIAL[John]}
K=${SERIAL[Kim]}
call POST "/api/v1/applications/${APP[John]}/session" "{\"password\":\"${PW[John]}\"}"
answered "John logs in" 201
keep_token T_JOHN
call GET "/api/v1/applications/${APP[John]}" "" "$T_JOHN"
expect "John's application names his certificate" "$(field .certificate_serial)" "$JO"

# ------------------------------------------------------------------ officers
section "officers read, suspend, resume and revoke; an auditor only reads"
call GET "/api/v1/certificates/$K"
problem "reading a certificate needs a session" 401 unauthenticated
call GET "/api/v1/certificates/$K" "" "$T_JOHN"
problem "an applicant's session may not read certificates" 403 forbidden
call GET "/api/v1/certificates/$K" "" "$T_CAROL"
answered "carol, an auditor, reads Kim's certificate" 200
expect "valid" "$(field .status)" valid
expect "Kim's application" "$(field .application)" "${APP[Kim]}"
expect "the product" "$(field .product)" smime
field .subject | grep -q 'CN=Kim Tester' || fail "the subject: $(field .subject)"
pass "the subject: $(field .subject)"
call POST "/api/v1/certificates/$K/suspend" '{}' "$T_CAROL"
problem "carol may not suspend" 403 forbidden 'ra-officer or ca-admin'
call POST "/api/v1/certificates/$K/revoke" '{"reason":"keyCompromise"}' "$T_JOHN"
problem "an applicant's session may not revoke" 403 forbidden
expect "still valid" "$(status_of "$K")" valid
audit_has "carol's refusal is audited" \
    ".actor == \"officer:carol\" and .action == \"cert.suspend\" and .outcome == \"refused\""

call POST "/api/v1/certificates/$K/suspend" '{"comment":"Kim phoned:\nthe token is missing."}' \
    "$T_ALICE"
answered "alice suspends Kim's certificate" 200
expect "suspended (API)" "$(field .status)" suspended
expect "certificateHold" "$(field .reason)" certificateHold
expect "suspended (database)" "$(status_of "$K")" suspended
audit_has "the suspension is audited as alice" \
    ".actor == \"officer:alice\" and .action == \"cert.suspend\" and .outcome == \"success\" and .object == \"$K\""
audit_has "and her comment" \
    ".action == \"cert.comment\" and (.detail | test(\"Kim phoned: the token is missing\"))"
mapfile -t STATUS_MAILS < <(mail_codes "$H/outbox" status "${APP[Kim]}" "certificate ([0-9a-f]+) suspended")
expect "Kim is mailed about the suspension" "${STATUS_MAILS[-1]}" "$K"
call POST "/api/v1/certificates/$K/resume" '{}' "$T_DAVE"
answered "dave, an administrator, resumes it" 200
expect "valid again" "$(status_of "$K")" valid
call POST "/api/v1/certificates/$K/revoke" '{"reason":"certificateHold"}' "$T_ALICE"
problem "certificateHold is not a reason to revoke" 400 invalid 'suspension'
call POST "/api/v1/certificates/$K/revoke" '{"reason":"keyCompromise","invalidity_date":"2026-02-30"}' \
    "$T_ALICE"
problem "a malformed invalidity date" 400 invalid 'invalidity_date'
call POST "/api/v1/certificates/$K/revoke" '{"reason":"keyCompromise","invalidity_date":"2999-01-01"}' \
    "$T_ALICE"
problem "an invalidity date in the future" 400 invalid 'future'
call POST "/api/v1/certificates/$K/revoke" '{}' "$T_ALICE"
problem "no reason" 400 invalid '/reason'
call POST /api/v1/certificates/0badc0de/revoke '{"reason":"keyCompromise"}' "$T_ALICE"
problem "an unknown serial" 404 not-found
call POST /api/v1/certificates/xyz/suspend '{}' "$T_ALICE"
problem "a serial that is not hex" 400 invalid 'hex'
expect "after every refusal still valid" "$(status_of "$K")" valid
TODAY=$(date -u +%Y-%m-%d)
call POST "/api/v1/certificates/$K/revoke" \
    "{\"reason\":\"affiliationChanged\",\"invalidity_date\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" "$T_ALICE"
answered "alice revokes it" 200
expect "revoked" "$(field .status)" revoked
expect "affiliationChanged" "$(field .reason)" affiliationChanged
[[ $(field .invalidity_date) == "$TODAY"T* ]] || fail "the invalidity date: $(field .invalidity_date)"
pass "the invalidity date is kept: $(field .invalidity_date)"
call POST "/api/v1/certificates/$K/resume" '{}' "$T_DAVE"
problem "a revoked certificate cannot be resumed" 422 policy 'revoked'
call POST "/api/v1/certificates/$K/suspend" '{}' "$T_DAVE"
problem "nor suspended" 422 policy
expect "still revoked (database)" "$(status_of "$K")" revoked
expect "with its reason" "$(db "SELECT revocation_reason FROM certificates WHERE serial = '$K'")" \
    affiliationChanged
audit_has "the revocation is audited as alice" \
    ".actor == \"officer:alice\" and .action == \"cert.revoke\" and .outcome == \"success\" and .object == \"$K\""
audit_has "the refused resume as dave" \
    ".actor == \"officer:dave\" and .action == \"cert.resume\" and .outcome == \"refused\""

# ------------------------------------------------------------------ the account's secrets
section "John, without his token: the account password and a secret answer"
# by_secrets SERIAL ACTION REASON APP PASSWORD QUESTION ANSWER: the request.
by_secrets()
{
	jq -n --arg act "$2" --arg r "$3" --arg a "$4" --arg p "$5" --argjson q "$6" --arg ans "$7" \
	    '{action: $act, application: $a, password: $p, question: $q, answer: $ans}
	     + (if $r == "" then {} else {reason: $r} end)' >"$WORK/req.json"
	call POST "/api/v1/certificates/$1/subscriber-revocation" "@$WORK/req.json"
}
call GET "/api/v1/applications/${APP[John]}/questions"
answered "the questions, for the form" 200
expect "the second question" "$(field '.questions[1]')" "Street you grew up on?"
by_secrets "$JO" suspend "" "${APP[John]}" "${PW[John]}" 2 "Oak Street"
problem "a wrong answer" 401 auth 'wrong application number, password or answer'
expect "counted on John's account" "$(failures_of "${APP[John]}")" 1
by_secrets "$JO" suspend "" "${APP[John]}" "not his password" 2 "Elm Street"
problem "a wrong password: the same answer" 401 auth 'wrong application number, password or answer'
expect "counted too" "$(failures_of "${APP[John]}")" 2
by_secrets "$JO" suspend "" AP-0000-0000-0000 "${PW[John]}" 2 "Elm Street"
problem "an unknown application: the same answer" 401 auth 'wrong application number, password or answer'
by_secrets "$JO" resume "" "${APP[John]}" "${PW[John]}" 2 "Elm Street"
problem "resume is not a subscriber's" 403 forbidden 'registration officer'
by_secrets "$JO" revoke cACompromise "${APP[John]}" "${PW[John]}" 2 "Elm Street"
problem "a reason subscribers do not give" 400 invalid 'keyCompromise'
by_secrets "$JO" suspend "" "${APP[John]}" "${PW[John]}" 4 "Elm Street"
problem "a question John does not have" 400 invalid '1 to 3'
expect "still valid" "$(status_of "$JO")" valid
expect "the refusals before the secrets are not counted" "$(failures_of "${APP[John]}")" 2
call POST "/api/v1/certificates/$JO/subscriber-revocation" \
    "{\"action\":\"suspend\",\"application\":\"${APP[John]}\",\"password\":\"x\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA\"}"
problem "credentials of both kinds mixed" 400 invalid 'either'
by_secrets "$J" revoke keyCompromise "${APP[John]}" "${PW[John]}" 2 "elm   STREET"
problem "John's secrets for Jane's certificate" 403 forbidden 'only their own'
expect "Jane's is unchanged" "$(status_of "$J")" valid
audit_has "the attempt on Jane's certificate is audited" \
    ".actor == \"applicant:${APP[John]}\" and .action == \"cert.revoke\" and .outcome == \"refused\" and .object == \"$J\""
by_secrets "$JO" suspend "" "${APP[John]}" "${PW[John]}" 2 "elm   STREET"
answered "John suspends his own certificate" 200
expect "suspended" "$(field .status)" suspended
expect "suspended (database)" "$(status_of "$JO")" suspended
expect "the right secrets clear the count" "$(failures_of "${APP[John]}")" 0
audit_has "the suspension is audited as John" \
    ".actor == \"applicant:${APP[John]}\" and .action == \"cert.suspend\" and .outcome == \"success\" and .object == \"$JO\""
by_secrets "$JO" resume "" "${APP[John]}" "${PW[John]}" 2 "Elm Street"
problem "John may not lift it" 403 forbidden 'registration officer'
expect "still suspended" "$(status_of "$JO")" suspended
audit_has "the refused resume is audited" \
    ".action == \"cert.resume\" and .outcome == \"refused\" and .object == \"$JO\""
call POST "/api/v1/certificates/$JO/resume" '{}' "$T_ALICE"
answered "alice lifts the suspension (his token turned up)" 200
expect "valid again" "$(status_of "$JO")" valid

# ------------------------------------------------------------------ signed by a key
section "signed requests: the certificate's key only, each nonce once"
call POST "/api/v1/certificates/$JO/subscriber-revocation/nonce" '{"action":"revoke","reason":"keyCompromise"}'
answered "a nonce" 201
NONCE=$(field .nonce)
expect "the message to sign" "$(field .message)" \
    "Tessera revoke certificate: $JO revoke keyCompromise $NONCE"
call POST "/api/v1/certificates/$JO/subscriber-revocation/nonce" '{"action":"resume"}'
problem "no nonce to resume" 403 forbidden
call POST /api/v1/certificates/0badc0de/subscriber-revocation/nonce '{"action":"suspend"}'
problem "no nonce for an unknown certificate" 404 not-found
# Mallory holds John's (public) certificate and a key of her own.
tsr_ok "John's certificate (public)" cert show "$JO" --home "$H" --pem
cp "$WORK/out" "$WORK/john.pem"
expect "it is certificate $JO" \
    "$(openssl x509 -in "$WORK/john.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')" "$JO"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/mallory.key" 2>/dev/null
printf '%s' "Tessera revoke certificate: $JO revoke keyCompromise $NONCE" |
    openssl dgst -sha256 -sign "$WORK/mallory.key" -binary | base64 -w0 >"$WORK/sig.b64"
signed()
{
	jq -n --arg n "$1" --rawfile c "$WORK/john.pem" --rawfile s "$WORK/sig.b64" \
	    '{action: "revoke", reason: "keyCompromise", nonce: $n, certificate: $c, signature: $s}' \
	    >"$WORK/req.json"
	call POST "/api/v1/certificates/$JO/subscriber-revocation" "@$WORK/req.json"
}
signed "$NONCE"
problem "a signature by another key" 401 auth 'does not verify'
signed "$NONCE"
problem "the nonce again" 422 policy 'already used|unknown'
expect "John's certificate is unchanged" "$(status_of "$JO")" valid
audit_has "the bad signature is audited" \
    ".action == \"cert.revoke\" and .outcome == \"refused\" and .object == \"$JO\" and (.detail | test(\"does not verify\"))"

# ------------------------------------------------------------------ tessera token revoke
section "Jane: tessera token revoke with the token key"
JANE=(--module "$M" --token 'pkcs11:token=Jane%20token' --passcode-file "$PCF")
tok_fails "no confirmation without a terminal, no --yes" 64 'give --yes' revoke \
    --server "$URL" --ca-file "$ROOT" --reason keyCompromise "${JANE[@]}"
tok_fails "--reason and --suspend together" 64 'either --reason' revoke --server "$URL" \
    --ca-file "$ROOT" --reason keyCompromise --suspend --yes "${JANE[@]}"
tok_fails "a reason subscribers do not give" 64 'not a reason a subscriber' revoke \
    --server "$URL" --ca-file "$ROOT" --reason privilegeWithdrawn --yes "${JANE[@]}"
expect "Jane's is still valid" "$(status_of "$J")" valid
# A server that asks the token to sign more than the revocation message:
# the client refuses before the token signs anything.
cat >"$WORK/evil.py" <<'PY'
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[3], "a") as log:
            log.write(self.path + "\n")
        serial, n = self.path.split("/")[4], "AAAAAAAAAAAAAAAAAAAAAA"
        body = json.dumps({"nonce": n, "expires_at": "2099-01-01T00:00:00Z",
            "message": "Tessera revoke certificate: %s revoke keyCompromise %s and pay 100 EUR"
            % (serial, n)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
: >"$WORK/evil.log"
python3 "$WORK/evil.py" "$H/tls/server.pem" "$H/tls/server.key" "$WORK/evil.log" \
    >"$WORK/evil.port" &
EVIL=$!
KILL_AT_EXIT+=(EVIL)
for _ in $(seq 1 50); do [ -s "$WORK/evil.port" ] && break; sleep 0.1; done
tok_fails "a server that asks to sign another text is refused" 65 'other than' revoke \
    --server "https://127.0.0.1:$(cat "$WORK/evil.port")" --ca-file "$ROOT" \
    --reason keyCompromise --yes "${JANE[@]}"
expect "it never got a signature (one request: the nonce)" "$(grep -c . "$WORK/evil.log")" 1
kill "$EVIL"
EVIL=
# On a terminal it asks; anything but "yes" changes nothing.
cat >"$WORK/confirm_tty.py" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out = b""
while b"Type yes" not in out:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.write(fd, sys.argv[1].encode() + b"\n")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
RC=0
SOFTHSM2_CONF=$SUBCONF python3 "$WORK/confirm_tty.py" no "$TESSERA" token revoke --server "$URL" \
    --ca-file "$ROOT" --suspend "${JANE[@]}" >"$WORK/pty.out" 2>&1 || RC=$?
[ "$RC" -ne 0 ] || { cat "$WORK/pty.out" >&2; fail "answering no went on"; }
file_has "it asks, naming the certificate" "$WORK/pty.out" \
    "Suspend certificate $J \\(CN=Jane Tester.*\\)\\? Type yes to go on"
file_has "and does nothing without yes" "$WORK/pty.out" 'not confirmed: nothing was changed'
expect "still valid" "$(status_of "$J")" valid
tok_ok "token revoke --reason keyCompromise --yes" revoke --server "$URL" --ca-file "$ROOT" \
    --reason keyCompromise --yes "${JANE[@]}"
file_has "the outcome, with the certificate's subject" "$WORK/out" \
    "^Certificate $J \\(CN=Jane Tester,.*\\) is revoked \\(keyCompromise\\) since "
expect "revoked (database)" "$(status_of "$J")" revoked
expect "keyCompromise" "$(db "SELECT revocation_reason FROM certificates WHERE serial = '$J'")" \
    keyCompromise
audit_has "audited as the key's holder" \
    ".actor == \"keyholder:$J\" and .action == \"cert.revoke\" and .outcome == \"success\""
tok_fails "revoking it again" 65 'revoked' revoke --server "$URL" --ca-file "$ROOT" \
    --reason keyCompromise --yes "${JANE[@]}"
tok "test" --server "$URL" --ca-file "$ROOT" "${JANE[@]}"
file_has "Test My Certificate now says revoked" "$WORK/out" '^  status +bad +revoked'

# ------------------------------------------------------------------ a lost token
section "John: tessera token revoke --application, for a lost token"
LOST=(--server "$URL" --ca-file "$ROOT" --application "${APP[John]}" --serial "$JO" \
    --password-file "$WORK/john.pw")
tok_fails "a wrong answer" 77 'wrong application number, password or answer' revoke \
    "${LOST[@]}" --question 1 --answer-file "$(pwfile wrong.answer 'Fido')" \
    --reason keyCompromise --yes
expect "counted" "$(failures_of "${APP[John]}")" 1
tok_fails "a question John does not have" 64 'has 3 secret questions' revoke "${LOST[@]}" \
    --question 5 --answer-file "$(pwfile a1.answer 'Rex the Dog')" --reason keyCompromise --yes
tok_fails "the token's options do not mix in" 64 'do not mix' revoke "${LOST[@]}" \
    --question 1 --answer-file "$WORK/a1.answer" --reason keyCompromise --yes --module "$M"
expect "still valid" "$(status_of "$JO")" valid
tok_ok "token revoke --application --serial --question 1" revoke "${LOST[@]}" --question 1 \
    --answer-file "$WORK/a1.answer" --reason cessationOfOperation --yes
file_has "and the outcome" "$WORK/out" "^Certificate $JO is revoked \\(cessationOfOperation\\)"
expect "revoked (database)" "$(status_of "$JO")" revoked
expect "the count is cleared" "$(failures_of "${APP[John]}")" 0
mapfile -t STATUS_MAILS < <(mail_codes "$H/outbox" status "${APP[John]}" "certificate ([0-9a-f]+) revoked")
expect "John is mailed about the revocation" "${STATUS_MAILS[-1]}" "$JO"

# ------------------------------------------------------------------ audit and secrets
section "the audit chain and secrets"
stop_server
file_lacks "no sanitizer report from the server" "$WORK/serve.err" 'Sanitizer|runtime error'
tsr_ok "tessera audit verify" audit verify --home "$H"
audit_json "$H"
db_dump "$H" "$WORK/dump.sql"
SECRETS=("${PW[Jane]}" "${PW[John]}" "${PW[Kim]}" "$PW_ALICE" "$PW_DAVE" "$PW_CAROL"
    "Rex the Dog" "Elm Street" "Mrs Smith" "Oak Street" "Fido" "$PASSCODE" "${CODES[@]}"
    "${VOUCHERS[@]}" "${TOKENS[@]}")
db_files DBF "$H"
SCANNED=("${DBF[@]}" "$WORK/dump.sql" "$WORK/audit.json" "$WORK/serve.err" "$WORK/serve.out")
for f in "${SCANNED[@]}"; do
	for secret in "${SECRETS[@]}"; do
		[ -n "$secret" ] || fail "a secret to scan for is missing"
		grep -aqiF -- "$secret" "$f" && fail "$(basename "$f") holds a secret: $secret"
	done
done
pass "none of ${#SECRETS[@]} passwords, answers, codes, passcodes and tokens is in the database, the audit log or the server's output"
file_has "the access log names the requests" "$WORK/serve.err" \
    "method=POST path=/api/v1/certificates/$JO/subscriber-revocation status=200"

echo
echo "revoke_api.sh: all checks passed"
