#!/bin/bash
# ra.sh - `tessera ra ...`: RA officers review on the CA host.  Applications
# are submitted and verified through the real server (curl), with the code
# read from the outbox; then the server is stopped and two officers review
# with the CLI, each with their own password: dual control, a refused second
# approval by the same officer, an auditor refused, a new-token application
# that needs its token serial, the activation letter and the token passcode
# in separate outboxes, a wrong password counted, the audit chain intact.
# Lapses are run with faketime.
. "$(dirname "$0")/lib.sh"
need curl jq python3 sqlite3 faketime

base_home
H=$BASE

OLIVIA_PW='copper lantern meadow 7'
OSCAR_PW='silent orchard river 42'
AUDE_PW='marble kite horizon 19'
APPLICANT_PW='purple elephant dances slowly'

# ------------------------------------------------------------------ mail
# kind_count KIND DIR: how many messages of KIND (a regex) the Maildir DIR holds.
kind_count()
{
	{ find "$2/new" "$2/cur" -type f -exec grep -lE "^X-Tessera-Kind: $1\b" {} + 2>/dev/null ||
	    true; } | wc -l
}

# lacks_text DESC FILE TEXT: FILE does not contain TEXT (a fixed string: codes
# may hold characters that mean something in a regex).
lacks_text()
{
	! grep -qF -- "$3" "$2" || fail "$1: '$3' is in $2"
	pass "$1"
}

# code_in FILE LABEL: the code after "LABEL:" in the message body.
code_in()
{
	body_of "$1" | sed -n "s/^$2: *//p" | tr -d '\r' | head -n 1
}

# ------------------------------------------------------------------ applying
# submit JSON: POST /api/v1/applications; sets $APP.
submit()
{
	call POST /api/v1/applications "$1"
	if [ "$STATUS" != 201 ]; then
		cat "$WORK/body" >&2
		fail "POST /api/v1/applications: $STATUS, expected 201"
	fi
	APP=$(jq -r .id "$WORK/body")
	[[ $APP =~ ^AP-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] || fail "no application id: $APP"
	pass "application $APP submitted"
}

# verify_email ID: type the mailed verification code.
verify_email()
{
	local code
	code=$(code_in "$(mail_file "$H/outbox" verification "$1")" 'Your verification code')
	[ -n "$code" ] || fail "no verification code in the mail for $1"
	call POST "/api/v1/applications/$1/email-verification" "{\"code\": \"$code\"}"
	[ "$STATUS" = 200 ] || { cat "$WORK/body" >&2; fail "email verification: $STATUS"; }
	pass "$1: email verified with the mailed code"
}

# applicant JSON for an EPCS application on a new token paid with voucher $1.
epcs_application()
{
	jq -n --arg v "$1" --arg pw "$APPLICANT_PW" --arg ag "$AGREEMENT" '{
	    product: "epcs", storage: "new-token", agreement: $ag, password: $pw, voucher: $v,
	    questions: [
	        {question: "First pet?", answer: "Rex the dog"},
	        {question: "Town of birth?", answer: "Springfield"},
	        {question: "First teacher?", answer: "Mrs Krabappel"}],
	    applicant: {given_name: "Jane", family_name: "Tester", email: "jane@example.com",
	        address: "1 Main Street, Springfield, IL 62701", date_of_birth: "1980-04-01",
	        npi: "1234567893", dea: "AT1234563"}}'
}

# device_application EMAIL GIVEN_NAME: a free product, software storage.
device_application()
{
	jq -n --arg pw "$APPLICANT_PW" --arg ag "$AGREEMENT" --arg email "$1" --arg given "$2" '{
	    product: "device", storage: "software", agreement: $ag, password: $pw,
	    questions: [
	        {question: "First pet?", answer: "Tom"},
	        {question: "Town of birth?", answer: "Shelbyville"},
	        {question: "First car?", answer: "Plymouth"}],
	    applicant: {given_name: $given, family_name: "Ops", email: $email,
	        organization: "Tessera Test Clinic", domain: "device.example.com"}}'
}

# ------------------------------------------------------------------------
section "setup: officers, an auditor, a voucher"
AGREEMENT=2026-11
set_conf ra agreement_version "$AGREEMENT"
# The activation code outlives the email deadline, so that one lapse
# sweep 31 days on lapses only the unverified application.
set_conf ra activation_days 60
add_user olivia ra-officer "$OLIVIA_PW"
add_user oscar ra-officer "$OSCAR_PW"
add_user aude auditor "$AUDE_PW"
vouchers VOUCHER epcs 1
OLIVIA=(--officer olivia --password-file "$WORK/olivia.pw")
OSCAR=(--officer oscar --password-file "$WORK/oscar.pw")
AUDE=(--officer aude --password-file "$WORK/aude.pw")

section "apply and verify through the API"
start_server
submit "$(epcs_application "$VOUCHER")"
EPCS=$APP
# Another open application with the same email: a duplicate for the checks.
submit "$(device_application jane@example.com Dev)"
LATE=$APP
# EPCS's code is well formed but wrong for LATE: max_failures (5) of them
# lock LATE's verification code, for an officer to unlock.
EPCS_CODE=$(code_in "$(mail_file "$H/outbox" verification "$EPCS")" 'Your verification code')
for i in 1 2 3 4 5; do
	call POST "/api/v1/applications/$LATE/email-verification" "{\"code\": \"$EPCS_CODE\"}"
	[ "$STATUS" = 401 ] || { cat "$WORK/body" >&2; fail "wrong code $i: $STATUS, not 401"; }
done
pass "five wrong codes for $LATE: 401 each"
verify_email "$EPCS"
submit "$(device_application ops@example.com Devon)"
DOOMED=$APP
verify_email "$DOOMED"

section "who am I: GET /api/v1/sessions/current"
login OLIVIA_TOKEN olivia "$OLIVIA_PW"
call GET /api/v1/sessions/current "" "$OLIVIA_TOKEN"
answered "olivia asks who she is" 200
expect "an officer, her name and roles" "$(jq -c '[.kind, .name, .roles]' "$WORK/body")" \
    '["officer","olivia",["ra-officer"]]'
IDLE1=$(field .idle_expires_at)
EXP1=$(field .expires_at)
expect "idle end 30 minutes after the login" \
    "$(( ($(date -d "$EXP1" +%s) - $(date -d "$IDLE1" +%s)) / 60 ))" $((12 * 60 - 30))
sleep 1.2
call GET /api/v1/sessions/current "" "$OLIVIA_TOKEN"
expect "asking again does not move the idle limit" "$(field .idle_expires_at)" "$IDLE1"
call GET "/api/v1/ra/applications?limit=1" "" "$OLIVIA_TOKEN"
answered "any other request" 200
call GET /api/v1/sessions/current "" "$OLIVIA_TOKEN"
[ "$(date -d "$(field .idle_expires_at)" +%s)" -gt "$(date -d "$IDLE1" +%s)" ] ||
    fail "the idle limit did not move after a request: $(field .idle_expires_at)"
pass "does move it"
login AUDE_TOKEN aude "$AUDE_PW"
call GET /api/v1/sessions/current "" "$AUDE_TOKEN"
expect "the auditor's roles" "$(jq -c '[.kind, .name, .roles]' "$WORK/body")" \
    '["officer","aude",["auditor"]]'
call GET /api/v1/sessions/current
answered "no session" 401
expect "type unauthenticated" "$(field .type)" https://tessera.invalid/problems/unauthenticated
grep -qi '^content-type: application/problem+json' "$WORK/headers" || fail "not a problem+json"
call GET /api/v1/sessions/current "" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
answered "an unknown token" 401
api /api/v1/sessions/current -H "Cookie: tsr_session=garbage"
answered "a malformed cookie" 401
call POST "/api/v1/applications/$EPCS/session" "{\"password\": \"$APPLICANT_PW\"}"
answered "the applicant signs in" 201
keep_token JANE_TOKEN
call GET /api/v1/sessions/current "" "$JANE_TOKEN"
expect "an applicant's session names the application" \
    "$(jq -c '[.kind, .application, has("roles")]' "$WORK/body")" "[\"applicant\",\"$EPCS\",false]"
call DELETE /api/v1/sessions/current "" "$OLIVIA_TOKEN"
answered "olivia signs out" 200
call GET /api/v1/sessions/current "" "$OLIVIA_TOKEN"
answered "then her token is nobody" 401

section "the queue's text search: ?q="
login OLIVIA_TOKEN olivia "$OLIVIA_PW"
queue_ids() { jq -c '[.applications[].id]' "$WORK/body"; }
call GET "/api/v1/ra/applications?q=TESTER" "" "$OLIVIA_TOKEN"
answered "search by family name, another case" 200
expect "finds Jane Tester's" "$(queue_ids)" "[\"$EPCS\"]"
call GET "/api/v1/ra/applications?q=OPS@example" "" "$OLIVIA_TOKEN"
expect "by part of the email address" "$(queue_ids)" "[\"$DOOMED\"]"
call GET "/api/v1/ra/applications?q=$(echo "${DOOMED:3:9}" | tr 'A-Z' 'a-z')" "" "$OLIVIA_TOKEN"
expect "by part of the application number" "$(queue_ids)" "[\"$DOOMED\"]"
call GET "/api/v1/ra/applications?q=Jane%20Tester" "" "$OLIVIA_TOKEN"
expect "by the whole name" "$(queue_ids)" "[\"$EPCS\"]"
call GET "/api/v1/ra/applications?q=e&limit=1" "" "$OLIVIA_TOKEN"
expect "the limit counts matches, oldest first" "$(queue_ids)" "[\"$EPCS\"]"
call GET "/api/v1/ra/applications?q=nobody-here" "" "$OLIVIA_TOKEN"
expect "no match: an empty list" "$(queue_ids)" "[]"
call GET "/api/v1/ra/applications?q=jane&state=all" "" "$OLIVIA_TOKEN"
expect "with the other filters (any state)" "$(queue_ids)" "[\"$EPCS\",\"$LATE\"]"
call GET "/api/v1/ra/applications?q=$(printf 'x%.0s' $(seq 65))" "" "$OLIVIA_TOKEN"
answered "65 characters: refused" 400
expect "the detail says the bound" "$(field .detail)" "query: q must have at most 64 characters"
call GET "/api/v1/ra/applications?q=jane" "" "$AUDE_TOKEN"
answered "an auditor: refused" 403
stop_server

# ------------------------------------------------------------------------
section "tessera ra queue"
tsr_ok "ra queue --json" ra queue --home "$H" --json
expect "the queue holds the verified applications, oldest first" \
    "$(jq -c "$JQ_ITEMS | map(.id)" "$WORK/out")" "[\"$EPCS\",\"$DOOMED\"]"
expect "product, storage, state" "$(jq -c "$JQ_ITEMS | .[0] | [.product, .storage, .state]" \
    "$WORK/out")" '["epcs","new-token","under_review"]'
expect "no approvals yet, 2 required" "$(jq -c "$JQ_ITEMS | .[0] |
    [.approvals, .approvals_required]" "$WORK/out")" '[0,2]'
expect "flagged as a duplicate (same email as $LATE)" \
    "$(jq "$JQ_ITEMS | .[0].duplicate" "$WORK/out")" true
tsr_ok "ra queue (table)" ra queue --home "$H"
file_has "the table shows it" "$WORK/out" \
    "^$EPCS +[0-9]+m +under_review +epcs +new-token +0/2 +duplicate$"
tsr_ok "ra queue --state submitted" ra queue --home "$H" --state submitted --json
expect "the unverified one waits in submitted" "$(jq -c "$JQ_ITEMS | map(.id)" "$WORK/out")" \
    "[\"$LATE\"]"
tsr_ok "ra queue --product epcs" ra queue --home "$H" --product epcs --json
expect "filtered by product" "$(jq -c "$JQ_ITEMS | map(.id)" "$WORK/out")" "[\"$EPCS\"]"
tsr_ok "ra queue --state all --product device" ra queue --home "$H" --state all \
    --product device --json
expect "every state of one product" "$(jq -c "$JQ_ITEMS | map(.id)" "$WORK/out")" \
    "[\"$LATE\",\"$DOOMED\"]"
tsr_ok "ra queue --state all --limit 1" ra queue --home "$H" --state all --limit 1
file_has "a full page says so" "$WORK/err" 'the first 1 shown: --limit 0 shows all'
expect "the oldest first" "$(awk 'NR == 2 { print $1 }' "$WORK/out")" "$EPCS"
tsr_fails "an unknown state" 64 'not an application state' ra queue --home "$H" --state nope
tsr_fails "queue takes no --officer" 64 'does not take --officer' ra queue --home "$H" \
    --officer olivia

section "tessera ra show"
tsr_ok "ra show --json" ra show --home "$H" "$EPCS" --json
cp "$WORK/out" "$WORK/show.json"
expect "applicant fields" "$(jq -c '.applicant | [.given_name, .family_name, .date_of_birth,
    .npi, .dea]' "$WORK/show.json")" '["Jane","Tester","1980-04-01","1234567893","AT1234563"]'
expect "state" "$(jq -r .state "$WORK/show.json")" under_review
expect "the NPI and DEA checks passed" "$(jq -c '[.checks.npi.result, .checks.dea.result]' \
    "$WORK/show.json")" '["pass","pass"]'
expect "the duplicate names $LATE by email" "$(jq -c '.checks.duplicates | map([.field,
    .applications])' "$WORK/show.json")" "[[\"email\",[\"$LATE\"]]]"
expect "no locks" "$(jq -c '.locks | [.account, .verification_code, .activation_code]' \
    "$WORK/show.json")" '[false,false,false]'
expect "no token yet" "$(jq -r .token_serial "$WORK/show.json")" null
jq -e '.next_step | length > 0' "$WORK/show.json" >/dev/null || fail "no next step"
pass "a next step is shown"
file_lacks "no hash, no password" "$WORK/show.json" "argon2|[0-9a-f]{64}|$APPLICANT_PW"
expect "no identity or password member" "$(jq '[.. | objects | keys[]] |
    map(select(test("identity|password|hash"))) | length' "$WORK/show.json")" 0
tsr_ok "ra show (text)" ra show --home "$H" "$EPCS"
file_has "text: the state and since" "$WORK/out" '^state +under_review since [0-9TZ:-]+'
file_has "text: the applicant's name" "$WORK/out" '^  family_name +Tester$'
file_has "text: approvals" "$WORK/out" '^approvals +0 of 2$'
file_has "text: the duplicate" "$WORK/out" "^    email +$LATE\$"
file_has "text: the NPI check" "$WORK/out" '^  npi +pass: '
file_has "text: what the officers must do" "$WORK/out" \
    '^officers +2 more approvals, .*assign the token serial before the last$'
file_lacks "text: no hash" "$WORK/out" 'argon2|[0-9a-f]{64}'
tsr_ok "ra show $DOOMED --json" ra show --home "$H" "$DOOMED" --json
expect "a device application: no NPI or DEA check, no duplicate" "$(jq -c '[.checks.npi,
    .checks.dea, (.checks.duplicates | length)]' "$WORK/out")" '[null,null,0]'
expect "1 approval required" "$(jq .approvals_required "$WORK/out")" 1
tsr_fails "show an unknown application" 66 'AP-' ra show --home "$H" AP-0000-0000-0000

section "approvals: dual control with two passwords"
tsr_ok "olivia approves" ra approve --home "$H" "$EPCS" "${OLIVIA[@]}" --comment "ID checked"
file_has "it says 1 of 2" "$WORK/err" "$EPCS: approved by olivia; now under_review \\(1 of 2"
tsr_fails "olivia approves again: refused" 65 'already approved' ra approve --home "$H" "$EPCS" \
    "${OLIVIA[@]}"
tsr_fails "the auditor approving: forbidden" 77 'ra-officer|not allowed|role' ra approve \
    --home "$H" "$EPCS" "${AUDE[@]}"
tsr_fails "reject without a reason: usage error" 64 'reason' ra reject --home "$H" "$EPCS" \
    "${OSCAR[@]}"
tsr_fails "approve without --officer: usage error" 64 'officer' ra approve --home "$H" "$EPCS" \
    --password-file "$WORK/oscar.pw"
tsr_fails "unlock needs --account or --code" 64 'account' ra unlock --home "$H" "$EPCS" \
    "${OSCAR[@]}"
tsr_fails "no password file and no terminal" 64 'not a terminal' ra approve --home "$H" \
    "$EPCS" --officer oscar
tsr_fails "the final approval of a new token needs a serial" 65 'token' ra approve --home "$H" \
    "$EPCS" "${OSCAR[@]}"
tsr_ok "ra show --json" ra show --home "$H" "$EPCS" --json
expect "still one approval, by olivia, with her comment" "$(jq -c '[.approvals[] |
    [.officer, .comment]]' "$WORK/out")" '[["olivia","ID checked"]]'
expect "still under review" "$(jq -r .state "$WORK/out")" under_review

section "reject, assign-token, unlock"
tsr_ok "olivia rejects $DOOMED" ra reject --home "$H" "$DOOMED" "${OLIVIA[@]}" \
    --reason "We could not confirm the organization."
file_has "it says rejected" "$WORK/err" "$DOOMED: rejected by olivia; now rejected"
tsr_ok "ra show --json" ra show --home "$H" "$DOOMED" --json
expect "rejected, with the reason" "$(jq -c '[.state, .reason]' "$WORK/out")" \
    '["rejected","We could not confirm the organization."]'
# Status messages so far: under review, then rejected.
: >"$WORK/status.txt"
for f in $(grep -lE "^X-Tessera-Application: $DOOMED\b" "$H"/outbox/new/* |
    xargs grep -lE '^X-Tessera-Kind: status\b'); do
	body_of "$f" >>"$WORK/status.txt"
done
file_has "the applicant is told review started" "$WORK/status.txt" 'now with our registration'
file_has "the applicant is told the reason" "$WORK/status.txt" 'could not confirm the organization'
tsr_fails "a software application takes no token" 65 'token' ra assign-token --home "$H" \
    "$LATE" "${OSCAR[@]}" --serial TOKEN-0001
tsr_fails "assign-token needs --serial" 64 'serial' ra assign-token --home "$H" "$LATE" \
    "${OSCAR[@]}"
tsr_ok "ra show --json" ra show --home "$H" "$LATE" --json
expect "$LATE's verification code is locked" "$(jq .locks.verification_code "$WORK/out")" true
tsr_ok "ra show (text)" ra show --home "$H" "$LATE"
file_has "text: the lock" "$WORK/out" '^locks +account unlocked \(0 failed\), verification code LOCKED'
tsr_ok "olivia unlocks the code" ra unlock --home "$H" "$LATE" "${OLIVIA[@]}" --code
tsr_ok "ra show --json" ra show --home "$H" "$LATE" --json
expect "the code is unlocked" "$(jq .locks.verification_code "$WORK/out")" false

section "a wrong officer password is refused and counted"
pwfile wrong.pw 'not the right one at all' >/dev/null
tsr_fails "oscar with a wrong password" 77 'wrong user name or password' ra approve \
    --home "$H" "$EPCS" --officer oscar --password-file "$WORK/wrong.pw" --token-serial T-1
tsr_ok "user show oscar --json" user show --home "$H" oscar --json
expect "the failure is counted on oscar's account" "$(jq .failed_logins "$WORK/out")" 1
tsr_ok "ra show --json" ra show --home "$H" "$EPCS" --json
expect "nothing changed: no token, one approval" "$(jq -c '[.token_serial, (.approvals |
    length)]' "$WORK/out")" '[null,1]'

section "the final approval issues the activation"
tsr_ok "oscar approves with --token-serial" ra approve --home "$H" "$EPCS" "${OSCAR[@]}" \
    --token-serial TOKEN-0042
file_has "it says final" "$WORK/err" "$EPCS: final approval by oscar; now activation_issued"
tsr_ok "user show oscar --json" user show --home "$H" oscar --json
expect "the right password reset oscar's count" "$(jq .failed_logins "$WORK/out")" 0
tsr_ok "ra show --json" ra show --home "$H" "$EPCS" --json
expect "activation_issued, token TOKEN-0042, two approvals" "$(jq -c '[.state, .token_serial,
    [.approvals[].officer]]' "$WORK/out")" '["activation_issued","TOKEN-0042",["olivia","oscar"]]'
LETTER=$(mail_file "$H/outbox" activation "$EPCS")
PASSCODE=$(mail_file "$H/passcodes" passcode "$EPCS")
pass "the activation letter is in HOME/outbox, the passcode in HOME/passcodes"
expect "no passcode message in the applicant's outbox" "$(kind_count passcode "$H/outbox")" 0
expect "only passcodes in the passcode outbox" "$(kind_count '[a-z]+' "$H/passcodes")" 1
body_of "$LETTER" >"$WORK/letter.txt"
body_of "$PASSCODE" >"$WORK/passcode.txt"
file_has "the letter names the application" "$WORK/letter.txt" "$EPCS"
ACODE=$(code_in "$LETTER" 'Your activation code')
PCODE=$(code_in "$PASSCODE" 'Initial token passcode')
[ -n "$ACODE" ] && [ -n "$PCODE" ] || fail "no activation code or no passcode in the letters"
pass "the letter holds the activation code, the other message the passcode"
file_has "the passcode message names the token" "$WORK/passcode.txt" TOKEN-0042
lacks_text "the letter does not hold the passcode" "$WORK/letter.txt" "$PCODE"
lacks_text "the passcode message does not hold the activation code" "$WORK/passcode.txt" \
    "$ACODE"
db_dump "$H" "$WORK/dump.sql"
lacks_text "the activation code is not in the database" "$WORK/dump.sql" "$ACODE"
lacks_text "nor without its hyphens" "$WORK/dump.sql" "${ACODE//-/}"
tsr_ok "ra queue --json" ra queue --home "$H" --json
expect "the queue is empty" "$(jq "$JQ_ITEMS | length" "$WORK/out")" 0
tsr_ok "oscar reissues the activation" ra reissue --home "$H" "$EPCS" "${OSCAR[@]}"
expect "a second activation letter" "$(kind_count activation "$H/outbox")" 2
expect "a second passcode message" "$(kind_count passcode "$H/passcodes")" 2
NEWEST=$(ls -t "$H"/outbox/new/* | xargs grep -lE '^X-Tessera-Kind: activation' | head -n 1)
[ "$(code_in "$NEWEST" 'Your activation code')" != "$ACODE" ] ||
    fail "the reissued letter holds the old code"
pass "the reissued letter holds a new code"
tsr_fails "reissue for an application without an activation" 65 'only an issued activation' \
    ra reissue --home "$H" "$LATE" "${OSCAR[@]}"
tsr_fails "rejecting after the activation is refused" 65 'activation_issued' ra reject --home "$H" "$EPCS" \
    "${OLIVIA[@]}" --reason "too late"

section "the audit log"
tsr_ok "tessera audit verify" audit verify --home "$H"
audit_json "$H"
# events EXPR: how many audit records for the EPCS application match EXPR.
events() { jq "$JQ_ITEMS | map(select(.object == \"application:$EPCS\" and ($1))) | length" \
    "$WORK/audit.json"; }
[ "$(events '.action | test("approve")')" -ge 3 ] || fail "the approvals are not audited"
pass "the approvals are audited"
[ "$(events '.outcome == "refused"')" -ge 3 ] || fail "the refusals are not audited"
pass "the refused approvals (twice, the auditor, no serial) are audited"
expect "oscar's wrong password is a failed user.login" "$(jq "$JQ_ITEMS | map(select(
    .action == \"user.login\" and .object == \"user:oscar\" and .outcome == \"failure\")) |
    length" "$WORK/audit.json")" 1
file_lacks "no password in the audit log" "$WORK/audit.json" \
    "$OLIVIA_PW|$OSCAR_PW|$AUDE_PW|$APPLICANT_PW|not the right one"
lacks_text "no activation code in the audit log" "$WORK/audit.json" "$ACODE"

section "lapse: an unverified application after 31 days"
# Under ASan, libfaketime is preloaded ahead of the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
tsr_ok "ra lapse now: nothing is due" ra lapse --home "$H" --json
expect "0 lapsed" "$(jq .lapsed "$WORK/out")" 0
run faketime '+31 days' "$TESSERA" ra lapse --home "$H" --json
[ "$RC" -eq 0 ] || { show_output; fail "faketime +31 days tessera ra lapse exited $RC"; }
expect "31 days on, 1 lapsed" "$(jq .lapsed "$WORK/out")" 1
tsr_ok "ra show --json" ra show --home "$H" "$LATE" --json
expect "ra show says lapsed" "$(jq -r .state "$WORK/out")" lapsed
run faketime '+31 days' "$TESSERA" ra lapse --home "$H"
[ "$RC" -eq 0 ] || { show_output; fail "the second lapse exited $RC"; }
file_has "a second run lapses nothing" "$WORK/err" '^0 applications lapsed$'
tsr_ok "ra show --json" ra show --home "$H" "$EPCS" --json
expect "the activation (60 days) did not lapse" "$(jq -r .state "$WORK/out")" activation_issued
tsr_ok "tessera audit verify" audit verify --home "$H"

for c in queue show approve reject assign-token unlock reissue lapse; do
	tsr_ok "ra $c --help" ra "$c" --help
	file_has "ra $c --help describes --home" "$WORK/out" '--home DIR'
done

# Last: a new application would change the queues checked above.
start_server
section "the apply answer, the verification mail, the agreement's text"
submit "$(device_application next@example.com Nell)"
NELL=$APP
jq -e '.code_expires_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' \
    "$WORK/body" >/dev/null || { show_body; fail "no code_expires_at in the apply answer"; }
expect "the answer says the days left to verify ([ra] email_days)" "$(field .email_days)" 30
CODE_LIFE=$(( $(date -d "$(field .code_expires_at)" +%s) - $(date -d "$(field .lapses_at)" +%s) +
    30 * 86400 ))
[ "$CODE_LIFE" -ge 86400 ] && [ "$CODE_LIFE" -le 86401 ] ||
    fail "the code does not expire [ra] verification_hours (24) after the application: $CODE_LIFE s"
pass "the code expires [ra] verification_hours (24) after the application"
NELL_MAIL=$(mail_file "$H/outbox" verification "$NELL")
body_of "$NELL_MAIL" | tr -d '\r' | grep -qx "  https://localhost:8443/verify-email?id=$NELL" ||
    { body_of "$NELL_MAIL" >&2; fail "no link to the verify-email page in the mail"; }
pass "the mail links to <[ra] web_url>/verify-email?id=$NELL"
NELL_CODE=$(code_in "$NELL_MAIL" 'Your verification code')
[ -n "$NELL_CODE" ] && ! body_of "$NELL_MAIL" | grep -F "https://" | grep -qF "$NELL_CODE" ||
    fail "the code is in a URL"
pass "no URL holds the code"
call GET /api/v1/agreement
answered "the agreement" 200
expect "its version" "$(field .version)" "$AGREEMENT"
expect "its text is the file's (agreement.txt, written by tessera init)" \
    "$(jq -j .text "$WORK/body" | sha256sum | cut -d" " -f1)" "$(sha256sum <"$H/agreement.txt" | cut -d' ' -f1)"
expect "with its SHA-256" "$(field .sha256)" "$(sha256sum <"$H/agreement.txt" | cut -d' ' -f1)"
AGREEMENT_SHA=$(field .sha256)
audit_has "the application's record names the text's SHA-256" \
    ".action == \"application.submit\" and .object == \"application:$NELL\" and
    (.detail | contains(\"text sha256 $AGREEMENT_SHA\"))"
mv "$H/agreement.txt" "$H/agreement.away"
call GET /api/v1/agreement
answered "without the agreement's file: a configuration error" 500
expect "type config" "$(field .type)" https://tessera.invalid/problems/config
call POST /api/v1/applications "$(device_application nofile@example.com Nia)"
answered "and nobody can apply" 500
expect "type config" "$(field .type)" https://tessera.invalid/problems/config
mv "$H/agreement.away" "$H/agreement.txt"

stop_server

echo
echo "ra.sh: all checks passed"
