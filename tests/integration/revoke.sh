#!/bin/bash
# revoke.sh - `tessera cert revoke|suspend|resume`: the status a user sees in
# cert show and cert list after each change, the rules (a revoked certificate
# stays revoked, certificateHold only through suspend, unknown serials, bad
# reasons and dates), and an audit record for every change and refusal.
. "$(dirname "$0")/lib.sh"
need openssl jq sqlite3 faketime

# Under ASan, libfaketime is preloaded ahead of the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

base_home
H=$BASE

# issue NAME: a certificate of the software product "device"; sets $SERIAL.
issue()
{
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/$1.key" -subj "/CN=$1.example.org" -out "$WORK/$1.csr" 2>/dev/null ||
	    fail "openssl req for $1"
	tsr_ok "issue $1" cert issue --home "$H" --product device --csr "$WORK/$1.csr" \
	    --subject "CN=$1.example.org" --san "dns:$1.example.org" --out "$WORK/$1.pem"
	SERIAL=$(openssl x509 -in "$WORK/$1.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)
	SERIAL=${SERIAL#00}
}

# field SERIAL NAME: one field of `cert show --json`.
field()
{
	tsr cert show --home "$H" "$1" --json
	[ "$RC" -eq 0 ] || { show_output; fail "cert show $1 --json exited $RC"; }
	jq -r ".$2" "$WORK/out"
}

# last_audit FIELD: the last audit record's action, object, outcome, detail.
last_audit()
{
	audit_json "$H"
	jq -r "$JQ_ITEMS | last | .$1" "$WORK/audit.json"
}

# audited ACTION OBJECT OUTCOME: the last audit record says so.
audited()
{
	expect "audit: $1 $2 $3" "$(last_audit action) $(last_audit object) $(last_audit outcome)" \
	    "$1 $2 $3"
}

issue alpha
A=$SERIAL
issue bravo
B=$SERIAL
issue charlie
C=$SERIAL
expect "a new certificate is valid" "$(field "$A" status)" valid
expect "no revocation time while valid" "$(field "$A" revoked_at)" null

section "revoke with a reason"
TODAY=$(date -u +%Y-%m-%d)
TOMORROW=$(date -u -d tomorrow +%Y-%m-%d)
YESTERDAY=$(date -u -d yesterday +%Y-%m-%d)
tsr_fails "revoke without --reason" 64 'reason' cert revoke "$A" --home "$H"
tsr_fails "revoke with an unknown reason" 64 "unknown revocation reason 'stolen'" \
    cert revoke "$A" --reason stolen --home "$H"
audited cert.revoke "$A" refused
tsr_fails "revoke with certificateHold" 64 'suspend' \
    cert revoke "$A" --reason certificateHold --home "$H"
tsr_fails "revoke with removeFromCRL" 64 'removeFromCRL' \
    cert revoke "$A" --reason removeFromCRL --home "$H"
tsr_fails "an invalidity date in the future" 64 'future' \
    cert revoke "$A" --reason keyCompromise --invalidity-date "$TOMORROW" --home "$H"
tsr_fails "an invalidity date before the certificate" 64 'before the certificate' \
    cert revoke "$A" --reason keyCompromise --invalidity-date "$YESTERDAY" --home "$H"
tsr_fails "a malformed invalidity date" 64 'YYYY-MM-DD' \
    cert revoke "$A" --reason keyCompromise --invalidity-date 2026-13-45 --home "$H"
expect "refusals left it valid" "$(field "$A" status)" valid
tsr_fails "revoke an unknown serial" 66 'no certificate' \
    cert revoke 7777777777 --reason superseded --home "$H"
audited cert.revoke 7777777777 refused
tsr_fails "revoke a serial that is not hex" 64 'hex' \
    cert revoke xyz --reason superseded --home "$H"
ROOT_SERIAL=$(openssl x509 -in "$H/certs/root.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)
tsr_fails "revoke the root CA certificate" 65 'only subscriber' \
    cert revoke "$ROOT_SERIAL" --reason cACompromise --home "$H"
tsr_fails "a SERIAL is required" 64 'SERIAL' cert suspend --home "$H"

# The certificate was issued today, so a key compromise dated today (00:00
# UTC) is earlier than it: revoke two days on, with the day after issuance.
run faketime '+2 days' "$TESSERA" cert revoke "$A" --reason keyCompromise \
    --invalidity-date "$TOMORROW" --home "$H"
[ "$RC" -eq 0 ] || { show_output; fail "revoke $A (keyCompromise) exited $RC"; }
pass "revoke $A with keyCompromise and an invalidity date"
expect "status revoked" "$(field "$A" status)" revoked
expect "reason recorded" "$(field "$A" revocation_reason)" keyCompromise
expect "invalidity date recorded" "$(field "$A" invalidity_date)" "${TOMORROW}T00:00:00Z"
AT=$(field "$A" revoked_at)
[[ $AT == "$(date -u -d '+2 days' +%Y-%m-%d)"T* ]] || fail "revoked_at $AT is not the time of revocation"
pass "revocation time is the time of the revocation ($AT)"
audited cert.revoke "$A" success
tsr_ok "cert show" cert show --home "$H" "$A"
file_has "cert show prints the status" "$WORK/out" '^status +revoked$'
file_has "cert show prints the time" "$WORK/out" "^revoked +$AT\$"
file_has "cert show prints the reason" "$WORK/out" '^reason +keyCompromise$'
tsr_ok "cert list" cert list --home "$H"
file_has "cert list shows status, time and reason" "$WORK/out" \
    "^$A .* revoked +[^ ]+ +$AT +keyCompromise "

section "a revoked certificate stays revoked"
tsr_fails "revoke again" 65 'cannot be un-revoked' cert revoke "$A" --reason superseded --home "$H"
audited cert.revoke "$A" refused
tsr_fails "resume a revoked certificate" 65 'cannot be un-revoked' cert resume "$A" --home "$H"
audited cert.resume "$A" refused
tsr_fails "suspend a revoked certificate" 65 'cannot be un-revoked' cert suspend "$A" --home "$H"
expect "time recorded once" "$(field "$A" revoked_at)" "$AT"
expect "reason recorded once" "$(field "$A" revocation_reason)" keyCompromise

section "suspend and resume"
tsr_fails "resume a valid certificate" 65 'not suspended' cert resume "$B" --home "$H"
tsr_ok "suspend $B" cert suspend "$B" --home "$H"
expect "status suspended" "$(field "$B" status)" suspended
expect "reason certificateHold" "$(field "$B" revocation_reason)" certificateHold
audited cert.suspend "$B" success
tsr_fails "suspend twice" 65 'already suspended' cert suspend "$B" --home "$H"
tsr_ok "resume $B" cert resume "$B" --home "$H"
expect "valid again" "$(field "$B" status)" valid
expect "reason cleared" "$(field "$B" revocation_reason)" null
expect "time cleared" "$(field "$B" revoked_at)" null
audited cert.resume "$B" success
expect "--json list: statuses" \
    "$(tsr cert list --home "$H" --role subscriber --json; jq -r "$JQ_ITEMS | map(.status) | join(\" \")" "$WORK/out")" \
    "valid valid revoked"

section "a held certificate revoked for good"
tsr_ok "suspend $C" cert suspend "$C" --home "$H"
HELD=$(field "$C" revoked_at)
run faketime '+1 day' "$TESSERA" cert revoke "$C" --reason superseded --home "$H"
[ "$RC" -eq 0 ] || { show_output; fail "revoke suspended $C exited $RC"; }
pass "revoke the suspended $C"
expect "status revoked" "$(field "$C" status)" revoked
expect "reason superseded" "$(field "$C" revocation_reason)" superseded
expect "revocation time is the time of the hold" "$(field "$C" revoked_at)" "$HELD"
tsr_fails "resume it" 65 'cannot be un-revoked' cert resume "$C" --home "$H"

section "audit"
expect "the database holds what cert show says" \
    "$(dbq "$H" "SELECT status, revocation_reason FROM certificates WHERE serial = '$A'")" \
    "revoked|keyCompromise"
tsr_ok "audit verify" audit verify --home "$H"
audit_json "$H"
# 8 refused revocations, 1 done, 3 refused changes to a revoked certificate,
# 4 for bravo, 3 for charlie.  Usage errors (no --reason, a malformed date,
# no SERIAL) stop before the CA is opened, as for every command.
expect "every change and refusal audited" \
    "$(jq -r "$JQ_ITEMS | map(select(.action | test(\"^cert[.](revoke|suspend|resume)\$\"))) | length" "$WORK/audit.json")" \
    19

echo
echo "revoke.sh: all checks passed"
