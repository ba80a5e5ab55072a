#!/bin/bash
# relay.sh - mail through a real SMTP relay, end to end: the real `tessera
# serve` configured with [mail] smtp_url, and a real SMTP server (Debian's
# python3-aiosmtpd, storing what it receives in a Maildir) on a loopback
# port.  What the applicant receives at the relay verifies the address
# through the API; the outbox keeps a copy in cur/; `tessera mail list` shows
# it as sent without its code.  With the relay down, an application is still
# accepted (201), its message waits in outbox/new and the failure is audited;
# `tessera mail retry` fails clearly, then, with the relay back, sends it.
# Initial token passcodes (an EPCS application on a new token, approved by
# two officers) never reach the relay and wait in HOME/passcodes/new.
. "$(dirname "$0")/lib.sh"
need curl jq python3

# Debian's python3 carries python3-aiosmtpd; another python3 earlier in PATH
# (pyenv, a venv) may not.
PY=${TSR_TEST_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import aiosmtpd.main' 2>/dev/null; then
	echo "SKIP: aiosmtpd is not installed for $PY (apt install python3-aiosmtpd)"
	exit 77
fi

base_home
H=$BASE
SMTPD_PID=
# A failed check must leave neither server behind.
KILL_AT_EXIT+=(SMTPD_PID)
MBOX=$WORK/relay-mailbox   # what the SMTP server received (a Maildir)

# ------------------------------------------------------------------ the SMTP server
free_port()
{
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# smtpd_start PORT: aiosmtpd on 127.0.0.1:PORT storing into $MBOX; waits
# (bounded) until it accepts connections.  Status 1 if it died (port taken).
smtpd_start()
{
	"$PY" -m aiosmtpd -n -l "127.0.0.1:$1" -c aiosmtpd.handlers.Mailbox "$MBOX" \
	    >>"$WORK/smtpd.log" 2>&1 </dev/null &
	SMTPD_PID=$!
	for _ in $(seq 1 100); do
		port_open "$1" && return 0
		kill -0 "$SMTPD_PID" 2>/dev/null || { wait "$SMTPD_PID" || true; SMTPD_PID=; return 1; }
		sleep 0.1
	done
	fail "aiosmtpd does not answer on port $1 (see the log below)$(sed 's/^/\n    | /' "$WORK/smtpd.log")"
}

smtpd_stop()
{
	kill -TERM "$SMTPD_PID"
	wait "$SMTPD_PID" || true
	SMTPD_PID=
	port_open "$SMTP_PORT" && fail "the SMTP server still answers on port $SMTP_PORT"
	pass "the SMTP server is stopped"
}

# ------------------------------------------------------------------ Maildirs
# header FILE NAME: the value of a header (first line), without CR.
header() { sed -n "/^\r\?$/q; s/^$2: //p" "$1" | head -n 1 | tr -d '\r'; }

# relay_passcodes: messages of kind passcode the SMTP server received.
relay_passcodes() { { grep -rlE $'^X-Tessera-Kind: passcode\r?$' "$MBOX" || true; } | wc -l; }

# mail_count DIR SUBDIR: files in a Maildir sub-directory.
mail_count() { find "$1/$2" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# ------------------------------------------------------------------ setup
section "no relay configured: tessera mail retry refuses, mail list works"
tsr_fails "mail retry without [mail] smtp_url" 78 'no SMTP relay is configured.*smtp_url' \
    mail retry --home "$H"
tsr_ok "mail list on a home that never sent mail" mail list --home "$H" --json
expect "nothing listed" "$(jq 'length' "$WORK/out")" 0
[ -e "$H/outbox" ] && fail "mail list created the outbox"
pass "mail list created nothing"
tsr_fails "mail retry with an unknown option" 64 'unknown option --to' mail retry --home "$H" \
    --to x

section "a real SMTP server and the [mail] configuration"
for _ in 1 2 3; do
	SMTP_PORT=$(free_port)
	smtpd_start "$SMTP_PORT" && break
done
[ -n "$SMTPD_PID" ] || fail "aiosmtpd did not start$(sed 's/^/\n    | /' "$WORK/smtpd.log")"
pass "aiosmtpd listens on 127.0.0.1:$SMTP_PORT"
set_conf mail smtp_url "smtp://127.0.0.1:$SMTP_PORT"
set_conf mail smtp_starttls no
set_conf mail from ca@tessera.test
expect "one [mail] section" "$(grep -c '^\[mail\]$' "$H/tessera.conf")" 1
file_has "smtp_url is set" "$H/tessera.conf" "^smtp_url = smtp://127\.0\.0\.1:$SMTP_PORT\$"
file_has "smtp_starttls = no" "$H/tessera.conf" '^smtp_starttls = no$'
file_has "from = ca@tessera.test" "$H/tessera.conf" '^from = ca@tessera\.test$'
tsr_ok "the configuration loads (product list)" product list --home "$H"

PW_ALICE='violet tractor umbrella 42'
PW_BOB='quiet harbour lantern 7'
add_user alice ra-officer "$PW_ALICE"
add_user bob ra-officer "$PW_BOB"
vouchers SMIME_VOUCHERS smime 2
vouchers EPCS_VOUCHER epcs 1
start_server
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)

PW_A='correct horse battery staple'

# smime_app VOUCHER GIVEN EMAIL: an S/MIME application (fields: name, email).
smime_app()
{
	jq -n --arg v "$1" --arg g "$2" --arg e "$3" --arg pw "$PW_A" --arg ag "$AGREEMENT" \
	    --argjson q "$QUESTIONS" \
	    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: $g, family_name: "Tester", email: $e}, questions: $q}'
}

# ------------------------------------------------------------------ relay up
section "with the relay up, the verification message reaches it"
smime_app "${SMIME_VOUCHERS[0]}" Jane jane@example.org >"$WORK/app1.json"
call POST /api/v1/applications "@$WORK/app1.json"
answered "an S/MIME application" 201
S1=$(field .id)
M1=$(mail_file "$MBOX" verification "$S1" new)
pass "the SMTP server received the verification message of $S1"
expect "To: the applicant" "$(header "$M1" To)" jane@example.org
expect "envelope recipient (X-RcptTo)" "$(header "$M1" X-RcptTo)" jane@example.org
expect "From: [mail] from" "$(header "$M1" From)" ca@tessera.test
expect "envelope sender (X-MailFrom)" "$(header "$M1" X-MailFrom)" ca@tessera.test
expect "X-Tessera-Kind" "$(header "$M1" X-Tessera-Kind)" verification
mapfile -t codes < <(mail_codes "$MBOX" verification "$S1" "$VCODE_RE")
expect "one verification code for $S1 at the relay" "${#codes[@]}" 1
CODE1=${codes[0]}
[[ $CODE1 =~ ^[0-9A-Z]{4}-[0-9A-Z*~$=]{4}$ ]] || fail "verification code '$CODE1'"
pass "a verification code: $CODE1"

C1=$(mail_file "$H/outbox" verification "$S1" cur)
[[ $C1 == *:2,S ]] || fail "the outbox copy $C1 has no :2,S"
pass "the outbox copy is in outbox/cur/ with :2,S"
expect "no message waits in outbox/new" "$(mail_count "$H/outbox" new)" 0
expect "the copy is what the relay received (Message-ID)" "$(header "$C1" Message-ID)" \
    "$(header "$M1" Message-ID)"
audit_has "the send is audited as relayed" \
    ".action == \"mail.send\" and .outcome == \"success\" and .object == \"application:$S1\" and (.detail | test(\"relayed\"))"

call POST "/api/v1/applications/$S1/email-verification" "{\"code\":\"$CODE1\"}"
answered "the code from the relay verifies the address" 200
expect "on to review" "$(field .state)" under_review

tsr_ok "tessera mail list" mail list --home "$H"
cp "$WORK/out" "$WORK/list.txt"
file_has "the list shows the message as sent" "$WORK/list.txt" \
    " mail +sent +verification +$S1 +jane@example\.org\$"
grep -qF -- "$CODE1" "$WORK/list.txt" && fail "mail list shows the verification code"
pass "mail list does not show the code"
tsr_ok "tessera mail list --json" mail list --home "$H" --json
cp "$WORK/out" "$WORK/list.json"
expect "JSON: sent, to the applicant, the relay's Message-ID" \
    "$(jq -r --arg a "$S1" '.[] | select(.application == $a and .kind == "verification") |
        [.outbox, .status, .to, .message_id, (.file | startswith("cur/"))] | join(" ")' \
        "$WORK/list.json")" "mail sent jane@example.org $(header "$M1" Message-ID) true"
grep -qF -- "$CODE1" "$WORK/list.json" && fail "mail list --json shows the verification code"
pass "mail list --json does not show the code"

section "an EPCS application on a new token: the passcode never reaches the relay"
epcs_app "$EPCS_VOUCHER" "$PW_A" Erin erin@example.org >"$WORK/epcs.json"
call POST /api/v1/applications "@$WORK/epcs.json"
answered "an EPCS application" 201
E=$(field .id)
ECODE=$(mail_codes "$MBOX" verification "$E" "$VCODE_RE")
call POST "/api/v1/applications/$E/email-verification" "{\"code\":\"$ECODE\"}"
answered "verified with the code from the relay" 200
login TOKEN_ALICE alice "$PW_ALICE"
login TOKEN_BOB bob "$PW_BOB"
call PUT "/api/v1/ra/applications/$E/token" '{"serial":"TKN-000201"}' "$TOKEN_ALICE"
answered "alice assigns the token" 200
call POST "/api/v1/ra/applications/$E/approval" '{}' "$TOKEN_ALICE"
answered "alice approves" 200
call POST "/api/v1/ra/applications/$E/approval" '{}' "$TOKEN_BOB"
answered "bob approves" 200
expect "final: activation issued" "$(field '[.final, .state] | join(" ")')" \
    "true activation_issued"
mapfile -t acts < <(mail_codes "$MBOX" activation "$E" "$ACODE_RE")
expect "the activation letter reached the relay" "${#acts[@]}" 1
mapfile -t passcodes < <(mail_codes "$H/passcodes" passcode "$E" "$PCODE_RE" new)
expect "the passcode waits in HOME/passcodes/new" "${#passcodes[@]}" 1
PASSCODE=${passcodes[0]}
[[ $PASSCODE =~ ^[0-9]{6,}$ ]] || fail "passcode '$PASSCODE'"
expect "no passcode message at the relay" \
    "$(relay_passcodes)" 0
grep -rqF -- "$PASSCODE" "$MBOX" && fail "the passcode reached the relay"
pass "the passcode is nowhere in what the relay received"
tsr_ok "tessera mail list --json" mail list --home "$H" --json
expect "listed in the passcode outbox, to post" \
    "$(jq -r --arg a "$E" '.[] | select(.kind == "passcode") | [.outbox, .status, .application] |
        join(" ")' "$WORK/out")" "passcode to-post $E"
grep -qF -- "$PASSCODE" "$WORK/out" && fail "mail list shows the passcode"
pass "mail list does not show the passcode"

# ------------------------------------------------------------------ relay down
section "with the relay down, the application is still accepted"
smtpd_stop
BEFORE=$(mail_count "$MBOX" new)
smime_app "${SMIME_VOUCHERS[1]}" John john@example.net >"$WORK/app2.json"
call POST /api/v1/applications "@$WORK/app2.json"
answered "an S/MIME application while the relay is down" 201
S2=$(field .id)
expect "it is submitted" "$(field .state)" submitted
W2=$(mail_file "$H/outbox" verification "$S2" new)
pass "its verification message waits in outbox/new"
expect "To: the applicant" "$(header "$W2" To)" john@example.net
audit_has "the relay failure is audited" \
    ".action == \"mail.send\" and .outcome == \"failure\" and .object == \"application:$S2\""
file_has "the server's log says the message stays in the outbox" "$WORK/serve.err" \
    "verification message of $S2 stays in the outbox"
tsr_ok "tessera mail list --json" mail list --home "$H" --json
expect "listed as unsent" \
    "$(jq -r --arg a "$S2" '.[] | select(.application == $a) | [.status, (.file | startswith("new/"))] |
        join(" ")' "$WORK/out")" "unsent true"
# From here the CLI retries by hand: the server's own retry (every 60 s)
# must not race it.
stop_server

tsr_fails "mail retry while the relay is down" 74 \
    "0 sent, 1 failed.*SMTP relay smtp://127\.0\.0\.1:$SMTP_PORT" mail retry --home "$H"
mail_file "$H/outbox" verification "$S2" new >/dev/null
pass "the message is still in outbox/new"
expect "nothing reached the relay" "$(mail_count "$MBOX" new)" "$BEFORE"

section "the relay back: tessera mail retry sends it"
if ! smtpd_start "$SMTP_PORT"; then
	# Someone took the port meanwhile: a new one, and the config follows.
	SMTP_PORT=$(free_port)
	smtpd_start "$SMTP_PORT" || fail "aiosmtpd did not start again"
	set_conf mail smtp_url "smtp://127.0.0.1:$SMTP_PORT"
fi
pass "aiosmtpd listens again on 127.0.0.1:$SMTP_PORT"
tsr_ok "tessera mail retry" mail retry --home "$H"
expect "it reports one sent" "$(cat "$WORK/out")" "1 sent, 0 failed"
M2=$(mail_file "$MBOX" verification "$S2" new)
pass "the message reached the relay"
expect "To: the applicant" "$(header "$M2" To)" john@example.net
expect "envelope sender (X-MailFrom)" "$(header "$M2" X-MailFrom)" ca@tessera.test
C2=$(mail_file "$H/outbox" verification "$S2" cur)
[[ $C2 == *:2,S ]] || fail "the outbox copy $C2 has no :2,S"
pass "moved to outbox/cur/ with :2,S"
expect "outbox/new is empty" "$(mail_count "$H/outbox" new)" 0
expect "the same message (Message-ID)" "$(header "$C2" Message-ID)" "$(header "$M2" Message-ID)"
tsr_ok "tessera mail retry --json, nothing left" mail retry --home "$H" --json
expect "nothing sent twice" "$(jq -c . "$WORK/out")" '{"sent":0,"failed":0}'
expect "the relay holds it once" "$(mail_codes "$MBOX" verification "$S2" "$VCODE_RE" | wc -l)" 1
CODE2=$(mail_codes "$MBOX" verification "$S2" "$VCODE_RE")
tsr_ok "tessera mail list" mail list --home "$H"
file_has "now listed as sent" "$WORK/out" " mail +sent +verification +$S2 +john@example\.net\$"
grep -qF -- "$CODE2" "$WORK/out" && fail "mail list shows the code"
pass "without the code"

start_server
call POST "/api/v1/applications/$S2/email-verification" "{\"code\":\"$CODE2\"}"
answered "the retried code verifies the address" 200
stop_server

section "the passcode outbox is never relayed"
mapfile -t passcodes < <(mail_codes "$H/passcodes" passcode "$E" "$PCODE_RE" new)
expect "the passcode still waits in HOME/passcodes/new" "${#passcodes[@]}" 1
expect "no passcode message ever reached the relay" \
    "$(relay_passcodes)" 0
grep -rqF -- "$PASSCODE" "$MBOX" && fail "the passcode reached the relay"
grep -rqF -- "$PASSCODE" "$H/outbox" && fail "the passcode is in the relayed outbox"
pass "the passcode is neither at the relay nor in the relayed outbox"
smtpd_stop

section "the audit chain"
tsr_ok "tessera audit verify" audit verify --home "$H"

echo
echo "relay.sh: all checks passed"
