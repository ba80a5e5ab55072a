#!/bin/bash
# enroll.sh - the enrollment workflow over HTTPS: the real `tessera serve` on
# a loopback port, driven with curl.  An applicant applies for EPCS, verifies
# the email with the code read from the outbox, two officers approve (dual
# control) after a token serial is assigned, and the activation letter and
# the token passcode leave by two channels; status, password reset, locks
# and unlocks (a locked account answers like a wrong password), rejection,
# withdrawal, every bad input of issue 3, a name of 60 euro signs in the
# queue, officers' sessions ended by a lock, a new password or a disable, and
# the 30-day lapse with the server's clock moved by faketime.  After every
# refusal nothing has changed; the audit chain verifies and no secret (code,
# passcode, token, password, answer, voucher) is in the database, the audit
# log or the server's log.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 sqlite3

base_home
H=$BASE

# ------------------------------------------------------------------ requests
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
	[ "$(field .status)" = "$want" ] || fail "$desc: the document's status is not $want"
	if [ -n "$re" ] && ! field .detail | grep -Eiq -- "$re"; then
		fail "$desc: detail '$(field .detail)' does not match /$re/"
	fi
	pass "$desc ($want $type: $(field .detail))"
}

# typo_of CODE: CODE with its first two adjacent different symbols swapped,
# a typo its mod-37 check symbol always catches (swapping equal ones would
# change nothing).
typo_of()
{
	local c=$1 i
	for ((i = 0; i + 1 < ${#c}; i++)); do
		[[ ${c:i:1} != "${c:i+1:1}" && ${c:i:1} != - && ${c:i+1:1} != - ]] &&
		    { printf '%s\n' "${c:0:i}${c:i+1:1}${c:i:1}${c:i+2}"; return; }
	done
	fail "no two different symbols side by side in $c"
}

db() { dbq "$H" "$1"; }
state_of() { db "SELECT state FROM applications WHERE id = '$1'"; }
count_apps() { db 'SELECT count(*) FROM applications'; }

# ------------------------------------------------------------------ setup
section "officers, vouchers, and the server"
PW_ALICE='violet tractor umbrella 42'
PW_BOB='quiet harbour lantern 7'
PW_CAROL='orange kettle meadow 9'
add_user alice ra-officer "$PW_ALICE"
add_user bob ra-officer "$PW_BOB"
add_user carol auditor "$PW_CAROL"
vouchers VOUCHERS epcs 3
vouchers CS_VOUCHER code-signing 1
start_server

section "products and the agreement"
call GET /api/v1/products
answered "the product list" 200
expect "EPCS is offered, paid by voucher, on hardware" \
    "$(field '.products[] | select(.name == "epcs") | [.payment, .storage] | join(" ")')" \
    "voucher hardware"
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
file_has "it is the configured [ra] agreement_version" "$H/tessera.conf" \
    "^agreement_version *= *$AGREEMENT\$"

# ------------------------------------------------------------------ applications
PW_A='correct horse battery staple'

# device_app GIVEN FAMILY PASSWORD: a valid application for the free device product.
device_app()
{
	jq -n --arg g "$1" --arg f "$2" --arg pw "$3" --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
	    '{product: "device", storage: "software", agreement: $ag, password: $pw,
	      applicant: {given_name: $g, family_name: $f, email: (($g | ascii_downcase) + "@example.net"),
	        organization: "Example Hosting", domain: "example.net"},
	      questions: $q}'
}

epcs_app "${VOUCHERS[0]}" "$PW_A" >"$WORK/app.json"

section "bad input: the application is refused and nothing is stored"
# refused DESC JQ-FILTER STATUS TYPE [DETAIL-REGEX]: the application changed
# by FILTER is refused with that problem.
refused()
{
	jq "$2" "$WORK/app.json" >"$WORK/variant.json"
	call POST /api/v1/applications "@$WORK/variant.json"
	problem "$1" "$3" "$4" "${5-}"
}
call POST /api/v1/applications '{"product": "epcs", "storage":'
problem "malformed JSON" 400 parse 'malformed JSON'
call POST /api/v1/applications '{"product": "epcs", "product": "epcs"}'
problem "a duplicate key" 400 parse 'duplicate key'
call POST /api/v1/applications '["epcs"]'
problem "an array instead of an object" 400 invalid
refused "a wrong type (questions as a string)" '.questions = "none"' 400 invalid \
    '^/questions: expected an array'
refused "a wrong type (date of birth as a number)" '.applicant.date_of_birth = 19800229' \
    400 invalid '^/applicant/date_of_birth: expected a string'
refused "null for an optional field" '.voucher = null' 400 invalid '^/voucher: expected a string'
refused "an unknown field" '.applicant.nickname = "JT"' 400 invalid \
    '^/applicant/nickname: unknown field'
refused "an unknown top-level field" '.approved = true' 400 invalid '^/approved: unknown field'
refused "a missing required field" 'del(.password)' 400 invalid \
    '^/password: required field missing'
refused "a field the product needs, missing (NPI)" 'del(.applicant.npi)' 400 invalid 'npi|NPI'
refused "no voucher for a voucher product" 'del(.voucher)' 400 invalid voucher
refused "two secret questions" '.questions |= .[0:2]' 400 invalid '^/questions: must have 3'
refused "an NPI with a wrong check digit" '.applicant.npi = "1234567890"' 400 invalid \
    'NPI.*check digit'
refused "a DEA number with a wrong check digit" '.applicant.dea = "AT1234567"' 400 invalid \
    'DEA.*check digit'
refused "a DEA number with another registrant's initial" '.applicant.dea = "AB1234563"' 400 \
    invalid 'DEA'
refused "a weak password (on the common list)" '.password = "password123"' 422 policy common
refused "a short password" '.password = "x7!k2"' 422 policy 'shorter|8'
refused "a password with the applicant's name" '.password = "tester tester 123"' 422 policy
refused "an old agreement version" '.agreement = "1999-01"' 422 policy agreement
refused "a storage choice the product does not allow" '.storage = "software"' 400 invalid
refused "an unknown product" '.product = "nope"' 400 invalid product
refused "a voucher for another product" ".voucher = \"$CS_VOUCHER\"" 422 policy 'product'
# Swapping two symbols of the code is caught by its check symbol.
TYPO=$(typo_of "${VOUCHERS[0]}")
refused "a voucher with a typo" ".voucher = \"$TYPO\"" 400 parse typo
head -c 70000 /dev/zero | tr '\0' a >"$WORK/big"
call POST /api/v1/applications "@$WORK/big"
problem "an oversized body (70000 bytes; the cap is 64 KiB)" 413 too-large
api /api/v1/applications -H 'Content-Type: text/plain' --data-binary "@$WORK/app.json"
problem "a body that is not application/json" 415 unsupported-media-type
api /api/v1/applications -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data-binary "@$WORK/app.json"
problem "a chunked body" 411 length-required
expect "no application was stored" "$(count_apps)" 0
tsr_ok "voucher list --product epcs --json" voucher list --home "$H" --product epcs --json
expect "every EPCS voucher is still unused" "$(jq "$JQ_ITEMS | .[0].unused" "$WORK/out")" 3
audit_has "refused applications are audited" \
    '.action == "application.submit" and .outcome != "success"'

section "apply for EPCS"
call POST /api/v1/applications "@$WORK/app.json"
answered "POST /api/v1/applications" 201
A=$(field .id)
[[ $A =~ ^AP-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] || fail "application id '$A'"
pass "application number $A"
expect "it is submitted" "$(field .state)" submitted
expect "the answer has exactly id, state, next and the deadlines" "$(jq -c 'keys' "$WORK/body")" \
    '["code_expires_at","email_days","id","lapses_at","next","state"]'
expect "one application stored" "$(count_apps)" 1
audit_has "the submission is audited with the client address as actor" \
    ".action == \"application.submit\" and .outcome == \"success\" and .actor == \"http:127.0.0.1\""
tsr_ok "voucher list --product epcs --json" voucher list --home "$H" --product epcs --json
expect "one voucher is used" "$(jq "$JQ_ITEMS | .[0].used" "$WORK/out")" 1

jq '.applicant.given_name = "John" | .applicant.email = "john@example.org"' "$WORK/app.json" \
    >"$WORK/again.json"
call POST /api/v1/applications "@$WORK/again.json"
problem "a voucher already used" 422 policy 'used'
expect "still one application" "$(count_apps)" 1

PW_B='blue gravel whistle 88'
PW_C='green ladder pocket 31'
PW_D='amber window salmon 64'
for who in "B:Bert:Baker:$PW_B" "C:Cora:Cole:$PW_C" "D:Dana:Drake:$PW_D"; do
	IFS=: read -r var given family pw <<<"$who"
	device_app "$given" "$family" "$pw" >"$WORK/device.json"
	call POST /api/v1/applications "@$WORK/device.json"
	answered "a device application for $given $family (free: no voucher)" 201
	printf -v "$var" '%s' "$(field .id)"
done

section "email verification"
mapfile -t codes < <(mail_codes "$H/outbox" verification "$A" "$VCODE_RE")
expect "one verification message for $A" "${#codes[@]}" 1
CODE_A=${codes[0]}
CODE_B=$(mail_codes "$H/outbox" verification "$B" "$VCODE_RE")
[[ $CODE_A =~ ^[0-9A-Z]{4}-[0-9A-Z*~$=]{4}$ ]] || fail "verification code '$CODE_A'"
file_has "the message goes to the applicant's address" \
    "$(grep -l "X-Tessera-Application: $A" "$H"/outbox/new/* | head -n 1)" '^To: jane@example\.org'
CODE_TYPO=$(typo_of "$CODE_A")
call POST "/api/v1/applications/$A/email-verification" "{\"code\":\"$CODE_TYPO\"}"
problem "a mistyped code (caught by the check symbol)" 400 parse typo
expect "a typo is not counted" "$(db "SELECT failures FROM codes WHERE application = '$A'")" 0
call POST "/api/v1/applications/$A/email-verification" "{\"code\":\"$CODE_B\"}"
problem "a wrong code" 401 auth
expect "the wrong code is counted" "$(db "SELECT failures FROM codes WHERE application = '$A'")" 1
expect "still submitted" "$(state_of "$A")" submitted
audit_has "the wrong code is audited" \
    ".action == \"application.verify_email\" and .outcome == \"failure\" and .object == \"application:$A\""
call POST "/api/v1/applications/$A/email-verification" '{"code": 1234}'
problem "a code of the wrong type" 400 invalid '^/code: expected a string'
call POST "/api/v1/applications/$A/email-verification" "{\"code\":\"$CODE_A\"}"
answered "the right code" 200
expect "verified and on to review at once" "$(field .state)" under_review
call POST "/api/v1/applications/$A/email-verification" "{\"code\":\"$CODE_A\"}"
problem "the code used again" 422 policy
expect "still under review" "$(state_of "$A")" under_review
call POST "/api/v1/applications/AP-0000-0000-0000/email-verification" "{\"code\":\"$CODE_A\"}"
problem "an unknown application" 404 not-found

section "the applicant's session and status"
call POST "/api/v1/applications/$A/session" '{"password":"not my password at all"}'
problem "a wrong password" 401 auth
expect "counted" "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" 1
call POST "/api/v1/applications/$A/session" "$(jq -n --arg p "$PW_A" '{password: $p}')"
answered "the applicant logs in" 201
keep_token TOKEN_A
[[ $TOKEN_A =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "session token '$TOKEN_A'"
[[ $(field .expires_at) =~ ^20[0-9-]+T[0-9:]+Z$ ]] || fail "expires_at '$(field .expires_at)'"
pass "a 43-character token and its end"
call GET "/api/v1/applications/$A" "" "$TOKEN_A"
answered "the applicant reads the application" 200
expect "state" "$(field .state)" under_review
expect "the applicant's view" "$(jq -c 'keys' "$WORK/body")" \
    '["created_at","id","next","product","state","state_since","storage"]'
call GET "/api/v1/applications/$B" "" "$TOKEN_A"
problem "another application, with this session" 404 not-found
call GET "/api/v1/applications/$A"
problem "no session" 401 unauthenticated
call GET "/api/v1/applications/$A" "" "${TOKEN_A%?}x"
problem "a wrong token" 401 unauthenticated
api "/api/v1/applications/$A" -H "Authorization: Basic YWxpY2U6cHc="
problem "another authentication scheme" 401 unauthenticated

section "officers: login, roles, the queue"
call POST /api/v1/sessions '{"user":"alice","password":"not the password"}'
problem "an officer's wrong password" 401 auth
call POST /api/v1/sessions '{"user":"nobody","password":"not the password"}'
problem "an unknown officer, the same answer" 401 auth 'wrong user name or password'
call POST /api/v1/sessions '{"user":"alice"}'
problem "a login without password" 400 invalid '^/password: required'
login TOKEN_ALICE alice "$PW_ALICE"
login TOKEN_BOB bob "$PW_BOB"
login TOKEN_CAROL carol "$PW_CAROL"

call GET /api/v1/ra/applications "" "$TOKEN_CAROL"
problem "an auditor sees no queue" 403 forbidden 'ra-officer'
call GET "/api/v1/applications/$A" "" "$TOKEN_CAROL"
problem "an auditor opens no application" 403 forbidden
call POST "/api/v1/ra/applications/$A/approval" '{}' "$TOKEN_CAROL"
problem "an auditor cannot approve" 403 forbidden
expect "no approval recorded" "$(db "SELECT count(*) FROM approvals")" 0
audit_has "the refused approval is audited" \
    ".action == \"application.approve\" and .outcome != \"success\" and (.actor | contains(\"carol\"))"
call GET /api/v1/ra/applications "" "$TOKEN_A"
problem "an applicant sees no queue" 403 forbidden

call GET /api/v1/ra/applications "" "$TOKEN_ALICE"
answered "the queue" 200
expect "under review by default: $A" "$(jq -c '[.applications[].id]' "$WORK/body")" "[\"$A\"]"
expect "queue entries name the applicant" "$(field '.applications[0].name')" "Jane Tester"
# queue_order WHERE [LIMIT]: the ids in queue order (oldest first; within a
# second, the order they were stored in), as the store holds them.
queue_order()
{
	db "SELECT id FROM applications WHERE $1 ORDER BY created_at, rowid ${2:+LIMIT $2}" |
	    jq -Rsc 'split("\n") | map(select(length > 0))'
}
call GET "/api/v1/ra/applications?state=submitted" "" "$TOKEN_ALICE"
expect "?state=submitted: B, C and D" "$(jq -c '[.applications[].id] | sort' "$WORK/body")" \
    "$(jq -nc --arg b "$B" --arg c "$C" --arg d "$D" '[$b, $c, $d] | sort')"
expect "oldest first" "$(jq -c '[.applications[].id]' "$WORK/body")" \
    "$(queue_order "state = 'submitted'")"
call GET "/api/v1/ra/applications?state=all&limit=2" "" "$TOKEN_ALICE"
expect "?state=all&limit=2" "$(jq -c '[.applications[].id]' "$WORK/body")" \
    "$(queue_order '1 = 1' 2)"
call GET "/api/v1/ra/applications?state=all&product=device" "" "$TOKEN_ALICE"
expect "?product=device" "$(jq '.applications | length' "$WORK/body")" 3
for q in 'state=bogus' 'colour=red' 'state=submitted&state=all' 'limit=0' 'limit=x' \
    'product=nope' 'state='; do
	call GET "/api/v1/ra/applications?$q" "" "$TOKEN_ALICE"
	problem "a bad query: ?$q" 400 invalid '^query: '
done

call GET "/api/v1/applications/$A" "" "$TOKEN_ALICE"
answered "an officer opens the application" 200
expect "the applicant's fields" "$(field '[.applicant.npi, .applicant.dea] | join(" ")')" \
    "1234567893 AT1234563"
expect "the automatic checks" "$(field '[.checks.npi.result, .checks.dea.result] | join(" ")')" \
    "pass pass"
expect "EPCS needs two approvals" "$(field .approvals_required)" 2
expect "none yet" "$(field '.approvals | length')" 0
expect "agreement recorded" "$(field .agreement)" "$AGREEMENT"
file_lacks "no hash in the officer's view" "$WORK/body" 'argon2|password|answer'

section "dual control"
call POST "/api/v1/ra/applications/$A/approval" '{"comment":"Identity documents checked."}' \
    "$TOKEN_ALICE"
answered "alice approves" 200
expect "not final: 1 of 2" "$(field '[.final, .approvals, .approvals_required] | join(" ")')" \
    "false 1 2"
call POST "/api/v1/ra/applications/$A/approval" '{}' "$TOKEN_ALICE"
problem "alice approves again" 422 policy 'already approved'
expect "still one approval" "$(db "SELECT count(*) FROM approvals")" 1
audit_has "the second approval is audited as refused" \
    ".action == \"application.approve\" and .outcome != \"success\" and (.actor | contains(\"alice\"))"
call POST "/api/v1/ra/applications/$A/approval" '{}' "$TOKEN_BOB"
problem "bob's final approval without a token serial" 422 policy 'serial|token'
expect "nothing recorded" "$(db "SELECT count(*) FROM approvals")" 1
expect "still under review" "$(state_of "$A")" under_review
call PUT "/api/v1/ra/applications/$A/token" '{"serial":"has space"}' "$TOKEN_BOB"
problem "a serial with a space" 400 invalid
call PUT "/api/v1/ra/applications/$A/token" '{"serial":"TKN-000117"}' "$TOKEN_BOB"
answered "bob assigns the token" 200
expect "the serial" "$(field .token_serial)" TKN-000117
call POST "/api/v1/ra/applications/$A/approval" '{"comment":"Second check."}' "$TOKEN_BOB"
answered "bob approves" 200
expect "final: activation issued" "$(field '[.final, .state, .approvals] | join(" ")')" \
    "true activation_issued 2"

section "two channels: the activation letter and the passcode"
mapfile -t letters < <(mail_codes "$H/outbox" activation "$A" "$ACODE_RE")
expect "one activation letter in the outbox" "${#letters[@]}" 1
ACT=${letters[0]}
[[ $ACT =~ ^[0-9A-Z*~$=-]{27,}$ ]] || fail "activation code '$ACT'"
pass "an activation code of 23 symbols and a check symbol"
mapfile -t passcodes < <(mail_codes "$H/passcodes" passcode "$A" "$PCODE_RE")
expect "one passcode message in the passcode outbox" "${#passcodes[@]}" 1
PASSCODE=${passcodes[0]}
[[ $PASSCODE =~ ^[0-9]{6,}$ ]] || fail "passcode '$PASSCODE'"
expect "no passcode message in the outbox" "$(mail_codes "$H/outbox" passcode "$A" '(.*)' | wc -l)" 0
expect "no activation letter in the passcode outbox" \
    "$(mail_codes "$H/passcodes" activation "$A" '(.*)' | wc -l)" 0
grep -rqF -- "$PASSCODE" "$H/outbox" && fail "the passcode is in the outbox"
grep -rqF -- "$ACT" "$H/passcodes" && fail "the activation code is in the passcode outbox"
pass "neither message carries the other's secret"
expect "the letter names the token" \
    "$(mail_codes "$H/outbox" activation "$A" '(TKN-000117)')" TKN-000117

call GET "/api/v1/applications/$A" "" "$TOKEN_A"
expect "the applicant sees activation_issued and the token" \
    "$(field '[.state, .token_serial] | join(" ")')" "activation_issued TKN-000117"
call POST "/api/v1/ra/applications/$A/activation" "" "$TOKEN_BOB"
answered "an officer reissues the activation" 200
expect "two letters now" "$(mail_codes "$H/outbox" activation "$A" "$ACODE_RE" | sort -u | wc -l)" 2
expect "two passcode messages" "$(mail_codes "$H/passcodes" passcode "$A" "$PCODE_RE" | wc -l)" 2

section "password reset through the secret questions"
call GET "/api/v1/applications/$A/questions"
answered "the questions (anonymous)" 200
expect "in order" "$(jq -c .questions "$WORK/body")" \
    '["Name of your first pet?","Street you grew up on?","Your favourite teacher?"]'
call GET "/api/v1/applications/AP-0000-0000-0000/questions"
problem "an unknown application has no questions" 404 not-found
NEW_A='purple mountain ferry 2031'
reset_body() { jq -n --arg p "$1" --argjson a "$2" '{answers: $a, new_password: $p}'; }
call POST "/api/v1/applications/$A/password-reset" \
    "$(reset_body "$NEW_A" '["Rex the Dog","Oak Street","Mrs Smith"]')"
problem "a wrong answer" 401 auth
expect "counted like a wrong password" \
    "$(db "SELECT failed_logins FROM applications WHERE id = '$A'")" 1
call POST "/api/v1/applications/$A/password-reset" \
    "$(reset_body "$NEW_A" '["Rex the Dog","Elm Street"]')"
problem "too few answers" 400 invalid '^/answers: must have 3'
call POST "/api/v1/applications/$A/password-reset" \
    "$(reset_body 'password1' '["Rex the Dog","Elm Street","Mrs Smith"]')"
problem "a weak new password" 422 policy
call POST "/api/v1/applications/$A/password-reset" \
    "$(reset_body "$NEW_A" '["  rex THE   dog ","ELM street","mrs smith"]')"
answered "the answers, in other case and spacing, and a new password" 200
expect "the application is unchanged" "$(field .state)" activation_issued
call GET "/api/v1/applications/$A" "" "$TOKEN_A"
problem "the reset ended the old session" 401 unauthenticated
call POST "/api/v1/applications/$A/session" "$(jq -n --arg p "$PW_A" '{password: $p}')"
problem "the old password no longer works" 401 auth
call POST "/api/v1/applications/$A/session" "$(jq -n --arg p "$NEW_A" '{password: $p}')"
answered "the new password does" 201
keep_token TOKEN_A

section "the account lock after max_failures wrong passwords"
MAX=$(sed -n 's/^max_failures *= *//p' "$H/tessera.conf")
[ -n "$MAX" ] || MAX=5
for i in $(seq 1 "$MAX"); do
	call POST "/api/v1/applications/$B/session" '{"password":"guess guess guess"}'
	[ "$STATUS" = 401 ] || { show_body; fail "wrong password $i of $MAX: status $STATUS"; }
done
pass "$MAX wrong passwords: 401 each"
expect "the account is locked" "$(db "SELECT locked FROM applications WHERE id = '$B'")" 1
# A locked account answers the right password as it answers a wrong one,
# so guessing on past the lock learns nothing; the audit log has the truth.
call POST "/api/v1/applications/$B/session" '{"password":"guess guess guess"}'
problem "a wrong password on a locked account" 401 auth '^wrong application number or password$'
cp "$WORK/body" "$WORK/locked-wrong.json"
call POST "/api/v1/applications/$B/session" "$(jq -n --arg p "$PW_B" '{password: $p}')"
problem "the right password on a locked account: the same answer" 401 auth \
    '^wrong application number or password$'
expect "word for word the answer to a wrong password" "$(jq -cS . "$WORK/body")" \
    "$(jq -cS . "$WORK/locked-wrong.json")"
expect "still locked" "$(db "SELECT locked FROM applications WHERE id = '$B'")" 1
audit_has "the lock is audited" ".action == \"application.lock\" and .object == \"application:$B\""
audit_has "the refused login is audited as a lock refusal" \
    ".action == \"application.login\" and .object == \"application:$B\" and .outcome == \"refused\" and (.detail | test(\"locked\"))"
call GET "/api/v1/applications/$B" "" "$TOKEN_ALICE"
expect "the officer sees the lock" "$(field .locked)" true
call POST "/api/v1/ra/applications/$B/unlock" '{"what":"everything"}' "$TOKEN_ALICE"
problem "unlock what?" 400 invalid 'account|code'
call POST "/api/v1/ra/applications/$B/unlock" '{"what":"account"}' "$TOKEN_ALICE"
answered "alice unlocks the account" 200
expect "unlocked" "$(field .locked)" false
call POST "/api/v1/applications/$B/session" "$(jq -n --arg p "$PW_B" '{password: $p}')"
answered "the applicant logs in again" 201
keep_token TOKEN_B

section "the code lock, an officer's unlock, and a rejection"
for i in $(seq 1 "$MAX"); do
	call POST "/api/v1/applications/$B/email-verification" "{\"code\":\"$CODE_A\"}"
	[ "$STATUS" = 401 ] || { show_body; fail "wrong code $i of $MAX: status $STATUS"; }
done
pass "$MAX wrong codes: 401 each"
call POST "/api/v1/applications/$B/email-verification" "{\"code\":\"$CODE_B\"}"
problem "the right code, locked" 422 policy locked
expect "still submitted" "$(state_of "$B")" submitted
call GET "/api/v1/applications/$B" "" "$TOKEN_ALICE"
expect "the officer sees the code lock" "$(field .code_locked)" true
call POST "/api/v1/ra/applications/$B/unlock" '{"what":"code"}' "$TOKEN_ALICE"
answered "alice unlocks the code" 200
call POST "/api/v1/applications/$B/email-verification" "{\"code\":\"$CODE_B\"}"
answered "the right code now" 200
call POST "/api/v1/ra/applications/$B/rejection" '{}' "$TOKEN_ALICE"
problem "a rejection without a reason" 400 invalid '^/reason: required'
call POST "/api/v1/ra/applications/$B/rejection" \
    '{"reason":"The domain is not registered to Example Hosting."}' "$TOKEN_ALICE"
answered "alice rejects with a reason" 200
expect "rejected" "$(field .state)" rejected
call POST "/api/v1/ra/applications/$B/rejection" '{"reason":"again"}' "$TOKEN_ALICE"
problem "a rejected application cannot be rejected again" 422 policy
call GET "/api/v1/applications/$B" "" "$TOKEN_B"
expect "the applicant reads the reason" "$(field '[.state, .reason] | join(": ")')" \
    "rejected: The domain is not registered to Example Hosting."

section "a new code, and a withdrawal"
call POST "/api/v1/applications/$C/session" "$(jq -n --arg p "$PW_C" '{password: $p}')"
answered "applicant C logs in" 201
keep_token TOKEN_C
OLD_C=$(mail_codes "$H/outbox" verification "$C" "$VCODE_RE")
call POST "/api/v1/applications/$C/verification-code" "" "$TOKEN_A"
problem "another applicant cannot ask for C's code" 404 not-found
call POST "/api/v1/applications/$C/verification-code" "" "$TOKEN_C"
problem "a new code within a minute of the last one" 422 policy 'less than a minute'
expect "no new message" "$(mail_codes "$H/outbox" verification "$C" "$VCODE_RE" | wc -l)" 1
# As if the first code had been mailed a minute earlier.
db "UPDATE codes SET created_at = created_at - 60 WHERE application = '$C'"
call POST "/api/v1/applications/$C/verification-code" "" "$TOKEN_C"
answered "C asks for a new code a minute later" 200
NEW_C=$(mail_codes "$H/outbox" verification "$C" "$VCODE_RE" | grep -vxF -- "$OLD_C" | head -n 1)
[ -n "$NEW_C" ] || fail "no new verification code was mailed"
pass "a second verification message"
call POST "/api/v1/applications/$C/email-verification" "{\"code\":\"$OLD_C\"}"
problem "the replaced code" 422 policy
call POST "/api/v1/applications/$C/withdrawal" '{"reason":"Applied twice."}' "$TOKEN_ALICE"
problem "an officer cannot withdraw for the applicant" 403 forbidden
call POST "/api/v1/applications/$C/withdrawal" '{"reason": 7}' "$TOKEN_C"
problem "a reason of the wrong type" 400 invalid
call POST "/api/v1/applications/$C/withdrawal" '{"reason":"Applied twice."}' "$TOKEN_C"
answered "C withdraws" 200
expect "withdrawn" "$(field .state)" withdrawn
call POST "/api/v1/applications/$C/withdrawal" '{}' "$TOKEN_C"
problem "withdrawn twice" 422 policy
expect "C stays withdrawn" "$(state_of "$C")" withdrawn

section "names in the queue: long and non-ASCII, or stored not UTF-8"
# 40 and 20 euro signs (3 bytes each): 181 bytes of "given family", and a
# cut at any byte count not a multiple of 3 would leave invalid UTF-8.
PW_E='silver canoe thunder 57'
PW_F='maple drum vessel 73'
device_app Eve Euro "$PW_E" | jq '.applicant.given_name = ("\u20ac" * 40) |
    .applicant.family_name = ("\u20ac" * 20)' >"$WORK/euro.json"
call POST /api/v1/applications "@$WORK/euro.json"
answered "an application named with 40 and 20 euro signs" 201
E=$(field .id)
EURO_NAME=$(jq -rn '("\u20ac" * 40) + " " + ("\u20ac" * 20)')
call GET "/api/v1/ra/applications?state=all" "" "$TOKEN_ALICE"
answered "the officers' queue still answers" 200
expect "it lists the application with the name whole" \
    "$(jq -r --arg e "$E" '.applications[] | select(.id == $e) | .name' "$WORK/body")" \
    "$EURO_NAME"
expect "and every other application" "$(jq '.applications | length' "$WORK/body")" \
    "$(count_apps)"
call GET "/api/v1/ra/applications?state=submitted" "" "$TOKEN_ALICE"
answered "the queue of submitted applications" 200
expect "lists it too" "$(jq -r --arg e "$E" '.applications[] | select(.id == $e) | .name' \
    "$WORK/body")" "$EURO_NAME"
call GET "/api/v1/applications/$E" "" "$TOKEN_ALICE"
answered "an officer opens it" 200
expect "the names as typed" "$(field '.applicant.given_name + " " + .applicant.family_name')" \
    "$EURO_NAME"
# Text is validated before it is stored; a row that holds bytes that are
# not UTF-8 anyway (written past the server) shows them as '?' and fails
# neither the listing nor the application.
device_app Fay Fox "$PW_F" >"$WORK/fox.json"
call POST /api/v1/applications "@$WORK/fox.json"
answered "an application of Fay Fox" 201
F=$(field .id)
if sqlite_only "a stored name with a byte that is not UTF-8" \
    "PostgreSQL refuses such text, so no row can hold it"; then
	db "UPDATE applications SET applicant = replace(applicant, '\"Fox\"', CAST(X'2246FF7822' AS TEXT))
	    WHERE id = '$F'"
	expect "the stored family name is now F, byte 0xFF, x" "$(db "SELECT instr(CAST(applicant
	    AS BLOB), X'2246FF7822') > 0 FROM applications WHERE id = '$F'")" 1
fi
call GET "/api/v1/ra/applications?state=all" "" "$TOKEN_ALICE"
answered "the queue still answers" 200
# (On PostgreSQL the row is as stored, F o x.)
FOX=("the byte shows as '?'" "Fay F?x" "with the byte as '?'" "F?x")
on_pg && FOX=("the name as stored" "Fay Fox" "with the name as stored" Fox)
expect "${FOX[0]}" \
    "$(jq -r --arg f "$F" '.applications[] | select(.id == $f) | .name' "$WORK/body")" "${FOX[1]}"
expect "the other applications are listed as before" \
    "$(jq -r --arg e "$E" '.applications[] | select(.id == $e) | .name' "$WORK/body")" "$EURO_NAME"
call GET "/api/v1/applications/$F" "" "$TOKEN_ALICE"
answered "an officer opens it" 200
expect "${FOX[2]}" "$(field .applicant.family_name)" "${FOX[3]}"

section "logging out"
call DELETE /api/v1/sessions/current "" "$TOKEN_CAROL"
answered "carol logs out" 200
expect "ended" "$(field .ended)" true
call GET /api/v1/ra/applications "" "$TOKEN_CAROL"
problem "the token no longer works" 401 unauthenticated
call DELETE /api/v1/sessions/current
problem "logging out without a session" 401 unauthenticated

section "an officer's lock, new password or disable ends the officer's sessions"
# officer_refused DESC USER PASSWORD: a login refused with the answer a
# wrong password gets, whatever the account's state.
officer_refused()
{
	call POST /api/v1/sessions "$(jq -n --arg u "$2" --arg p "$3" '{user: $u, password: $p}')"
	problem "$1" 401 auth '^wrong user name or password$'
}
# queue_with DESC TOKEN STATUS: the queue answers TOKEN with STATUS.
queue_with()
{
	call GET /api/v1/ra/applications "" "$2"
	if [ "$3" = 200 ]; then answered "$1" 200; else problem "$1" "$3" unauthenticated; fi
}
for i in $(seq 1 "$MAX"); do
	call POST /api/v1/sessions '{"user":"bob","password":"not the password"}'
	[ "$STATUS" = 401 ] || { show_body; fail "bob's wrong password $i of $MAX: status $STATUS"; }
done
pass "$MAX wrong passwords for bob: 401 each"
officer_refused "bob's right password on his locked account: 401 like a wrong one" bob "$PW_BOB"
queue_with "the lock ended bob's session" "$TOKEN_BOB" 401
queue_with "alice's session goes on" "$TOKEN_ALICE" 200
audit_has "the audit log says the account was locked" \
    '.action == "user.login" and .object == "user:bob" and .outcome == "refused" and (.detail | test("locked"))'
tsr_ok "tessera user unlock bob" user unlock --home "$H" bob
login TOKEN_BOB bob "$PW_BOB"
queue_with "after the unlock, bob's right password works again" "$TOKEN_BOB" 200

PW_BOB2='copper orchard lantern 58'
tsr_ok "tessera user passwd bob" user passwd --home "$H" bob --password-file \
    "$(pwfile bob.pw "$PW_BOB2")"
queue_with "the new password ended bob's session" "$TOKEN_BOB" 401
officer_refused "bob's old password" bob "$PW_BOB"
login TOKEN_BOB bob "$PW_BOB2"
queue_with "bob works on with the new password" "$TOKEN_BOB" 200

tsr_ok "tessera user disable bob" user disable --home "$H" bob
queue_with "disabling bob ended his session" "$TOKEN_BOB" 401
officer_refused "bob's right password on his disabled account: 401 like a wrong one" bob \
    "$PW_BOB2"
audit_has "the audit log says the account is disabled" \
    '.action == "user.login" and .object == "user:bob" and .outcome == "refused" and (.detail | test("disabled"))'
tsr_ok "tessera user enable bob" user enable --home "$H" bob
queue_with "enabling bob again does not bring the old session back" "$TOKEN_BOB" 401
login TOKEN_BOB bob "$PW_BOB2"
queue_with "bob logs in again and works on" "$TOKEN_BOB" 200
queue_with "alice's session went on throughout" "$TOKEN_ALICE" 200
stop_server

section "the 30-day lapse, with the server's clock 31 days ahead"
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1 || true)
if [ -z "$FAKETIME_LIB" ]; then
	echo "SKIP: libfaketime is not installed; the lapse is left to tessera ra lapse's test"
else
	# Only the wall clock moves: the server's timeouts use the monotonic one.
	start_server LD_PRELOAD="$FAKETIME_LIB" FAKETIME=+31d FAKETIME_DONT_FAKE_MONOTONIC=1 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	for _ in $(seq 1 100); do
		[ "$(state_of "$D")" = lapsed ] && [ "$(state_of "$A")" = lapsed ] && break
		sleep 0.1
	done
	expect "D, never verified, lapsed at the server's first sweep" "$(state_of "$D")" lapsed
	expect "A's activation code expired unused: lapsed" "$(state_of "$A")" lapsed
	expect "B stays rejected" "$(state_of "$B")" rejected
	expect "C stays withdrawn" "$(state_of "$C")" withdrawn
	audit_has "the lapse is audited by the server" \
	    ".action == \"application.lapse\" and .object == \"application:$D\""
	call GET "/api/v1/applications/$D/questions"
	answered "D still answers for its questions" 200
	stop_server
fi

section "the audit chain and secrets"
tsr_ok "tessera audit verify" audit verify --home "$H"
audit_json "$H"
db_dump "$H" "$WORK/dump.sql"
# Every code mailed (the reissued activation code too), every passcode of
# the passcode channel, every session token the script was given.
mapfile -t ACTS < <(mail_codes "$H/outbox" activation "$A" "$ACODE_RE")
mapfile -t PASSCODES < <(mail_codes "$H/passcodes" passcode "$A" "$PCODE_RE")
VCODES=()
for id in "$A" "$B" "$C" "$D" "$E" "$F"; do
	mapfile -t -O "${#VCODES[@]}" VCODES < <(mail_codes "$H/outbox" verification "$id" "$VCODE_RE")
done
expect "two activation codes (one reissued)" "${#ACTS[@]}" 2
expect "two passcodes" "${#PASSCODES[@]}" 2
expect "seven verification codes (C's resent)" "${#VCODES[@]}" 7
expect "the scan knows every session: A twice, B, C, alice, bob 4 times, carol" \
    "${#TOKENS[@]}" 10
SECRETS=("$PW_A" "$NEW_A" "$PW_B" "$PW_C" "$PW_D" "$PW_E" "$PW_F" "$PW_ALICE" "$PW_BOB"
    "$PW_BOB2" "$PW_CAROL" "Rex the Dog" "Elm Street" "Mrs Smith" "${VOUCHERS[@]}" "$CS_VOUCHER"
    "${ACTS[@]}" "${PASSCODES[@]}" "${VCODES[@]}" "${TOKENS[@]}")
for secret in "${SECRETS[@]}"; do
	[ -n "$secret" ] && [ "$secret" != "(no match)" ] || fail "a secret to scan for is missing"
done
# The database file itself (free pages keep deleted rows), its dump, the
# audit log, and the server's output (its stderr is the access log).
db_files DBF "$H"
SCANNED=("${DBF[@]}" "$WORK/dump.sql" "$WORK/audit.json" "$WORK/serve.err" "$WORK/serve.out")
for f in "${SCANNED[@]}"; do
	for secret in "${SECRETS[@]}"; do
		grep -aqiF -- "$secret" "$f" && fail "$(basename "$f") holds a secret: $secret"
	done
done
pass "none of ${#SECRETS[@]} passwords, answers, codes, passcodes, tokens and vouchers is in the database, the audit log or the server's output"
file_has "the access log names the requests" "$WORK/serve.err" \
    "method=POST path=/api/v1/applications/$A/session status=201"

echo
echo "enroll.sh: all checks passed"
