#!/bin/bash
# audit.sh - the audit log is append-only and hash-chained: `tessera audit
# verify` passes on an honest log and names the first record that was
# altered, removed or reordered behind its back with sqlite3 (or psql).
. "$(dirname "$0")/lib.sh"
need openssl sqlite3 jq

section "a home with some history"
base_home
H=$BASE
audit_json "$H"
INIT_SEQ=$(jq "$JQ_ITEMS | map(.seq) | max" "$WORK/audit.json")
make_key ec-p256 "$WORK/key.pem"
make_csr "$WORK/key.pem" "$WORK/csr.pem" /CN=audit
for n in 1 2 3; do
	tsr_ok "issue certificate $n" cert issue --home "$H" --product tls-server --csr "$WORK/csr.pem" \
	    --subject "CN=host$n.example.com,C=US" --san "dns:host$n.example.com" --out "$WORK/c$n.pem"
done
tsr_fails "a refused issuance is recorded too" any 'product' cert issue --home "$H" \
    --product no-such-product --csr "$WORK/csr.pem" --subject CN=x,C=US
tsr_ok "tessera audit verify" audit verify --home "$H"
tsr_ok "tessera audit list" audit list --home "$H"
grep -q 'cert.issue' "$WORK/out" || fail "audit list does not show cert.issue"
audit_json "$H"
N=$(jq "$JQ_ITEMS | length" "$WORK/audit.json")
[ "$N" -ge 5 ] || fail "only $N audit records after init and four issuance attempts"
pass "$N audit records"
expect "records are numbered 1..$N, oldest first" \
    "$(jq -c "$JQ_ITEMS | map(.seq)" "$WORK/audit.json")" "$(seq -s, 1 "$N" | sed 's/.*/[&]/')"
expect "init is recorded once, as a success" \
    "$(jq -r "$JQ_ITEMS | map(select(.action == \"ca.init\") | .outcome) | join(\",\")" \
    "$WORK/audit.json")" success
expect "subscriber issuances recorded: 3 successes, 1 refusal" \
    "$(jq -r "$JQ_ITEMS | map(select(.action == \"cert.issue\" and .seq > $INIT_SEQ) | .outcome) |
    sort | join(\",\")" "$WORK/audit.json")" "refused,success,success,success"
for n in 1 2 3; do
	s=$(cert_serial "$WORK/c$n.pem")
	jq -e --arg s "$s" "$JQ_ITEMS | map(select(.action == \"cert.issue\" and
	    (.object | ascii_downcase | test(\$s)))) | length == 1" "$WORK/audit.json" >/dev/null ||
	    fail "no cert.issue record names serial $s"
done
pass "each issued serial is named by its cert.issue record"
tsr_ok "audit list --limit 2 --json" audit list --home "$H" --limit 2 --json
expect "audit list --limit 2 shows the two newest" "$(jq -c "$JQ_ITEMS | map(.seq)" "$WORK/out")" \
    "[$((N - 1)),$N]"
PIN=$(cat "$H/token.pin")
db_files DBF "$H"
for f in "${DBF[@]}"; do
	grep -aqF -- "$PIN" "$f" && fail "the token PIN is in the database ($(basename "$f"))"
done
pass "the token PIN appears nowhere in the database"

section "the database refuses to rewrite the log"
if on_pg; then
	pg_dump --schema-only "$(db_uri "$H")" >"$WORK/schema"
	TRIGGERS=$(dbq "$H" "SELECT tgname FROM pg_trigger
	    WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal ORDER BY tgname")
else
	sqlite3 "$H/tessera.db" .schema >"$WORK/schema"
	TRIGGERS=$(sqlite3 "$H/tessera.db" \
	    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")
fi
file_has "the audit table exists" "$WORK/schema" 'CREATE TABLE (IF NOT EXISTS )?(public\.)?"?audit"?'
[ -n "$TRIGGERS" ] || fail "no trigger guards the audit table"
pass "triggers on audit: $(echo $TRIGGERS)"
copy_home "$H" "$WORK/guard"
check_fails "UPDATE of an audit record is refused" dbq "$WORK/guard" \
    "UPDATE audit SET detail = 'x' WHERE seq = 2"
check_fails "DELETE of an audit record is refused" dbq "$WORK/guard" \
    "DELETE FROM audit WHERE seq = 2"
# (SQLite has no TRUNCATE: its DELETE without WHERE is the one above.)
on_pg && check_fails "TRUNCATE of the audit log is refused" dbq "$WORK/guard" "TRUNCATE audit"
q='SELECT seq, detail FROM audit ORDER BY seq'
expect "the guarded log is unchanged" "$(dbq "$WORK/guard" "$q" | sha)" "$(dbq "$H" "$q" | sha)"
expect "the guarded log has all $N records" "$(dbq "$WORK/guard" 'SELECT count(*) FROM audit')" "$N"

# tamper NAME SQL: a fresh copy of the home with the triggers dropped and SQL
# run; `audit verify` on it is left in $WORK/out, $WORK/err, $RC.
tamper()
{
	local t=$WORK/$1 trig
	copy_home "$H" "$t"
	for trig in $TRIGGERS; do
		if on_pg; then
			dbq "$t" "DROP TRIGGER \"$trig\" ON audit"
		else
			dbq "$t" "DROP TRIGGER \"$trig\""
		fi
	done
	dbq "$t" "$2" >/dev/null
	tsr audit verify --home "$t"
}

# names_seq DESC SEQ: the failed verify names record SEQ first.
names_seq()
{
	local desc=$1 seq=$2 nums
	[ "$RC" -ne 0 ] || { show_output; fail "$desc: audit verify passed"; }
	[ "$RC" -ne 77 ] || fail "$desc: audit verify exited 77"
	nums=$(cat "$WORK/out" "$WORK/err" | grep -Eio '(seq(uence)?|record|entry)[ #:=]*[0-9]+' |
	    grep -Eo '[0-9]+$' | head -1)
	if [ "$nums" != "$seq" ]; then
		show_output
		fail "$desc: audit verify should name record $seq, it names: ${nums:-nothing}"
	fi
	pass "$desc: audit verify fails (exit $RC) naming record $seq:" \
	    "$(cat "$WORK/err" "$WORK/out" | head -1)"
}

section "tampering is detected"
MID=$((N / 2))
tamper control "SELECT 1"
[ "$RC" -eq 0 ] || { show_output; fail "audit verify fails on an untouched copy"; }
pass "control: a copy with the triggers dropped still verifies"

tamper alter "UPDATE audit SET detail = detail || ' (edited)' WHERE seq = 3"
names_seq "detail of record 3 altered" 3
tamper outcome "UPDATE audit SET outcome = 'success'
    WHERE action = 'cert.issue' AND outcome = 'refused'"
names_seq "a refusal rewritten as success" "$(jq "$JQ_ITEMS | map(select(.outcome == \"refused\")) |
    .[0].seq" "$WORK/audit.json")"
tamper time "UPDATE audit SET time = time - 3600 WHERE seq = 2"
names_seq "time of record 2 altered" 2
tamper delete "DELETE FROM audit WHERE seq = $MID"
names_seq "record $MID deleted" "$MID"
tamper swap "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;
    UPDATE audit SET seq = 3 WHERE seq = -1"
names_seq "records 2 and 3 swapped" 2
tamper first "DELETE FROM audit WHERE seq = 1"
names_seq "the first record deleted" 1
tamper rehash "UPDATE audit SET detail = 'forged', hash = '$(printf '0%.0s' $(seq 64))'
    WHERE seq = 4"
names_seq "record 4 altered and its hash replaced" 4

# A hash chain cannot see its own tail cut off; what verify offers instead
# is the head hash, which an operator can note down and compare later.
HEAD=$(jq -r "$JQ_ITEMS | last | .hash" "$WORK/audit.json")
tsr_ok "audit verify on the untouched home" audit verify --home "$H"
grep -q "$HEAD" "$WORK/out" || fail "audit verify does not print the head hash $HEAD"
pass "audit verify prints the head hash (the last record's hash)"
tamper tail "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)"
[ "$RC" -eq 0 ] || { show_output; fail "audit verify fails after the last record was cut"; }
grep -q "$HEAD" "$WORK/out" && fail "the head hash did not change when the last record was cut"
pass "the last record cut: the chain still verifies, but the printed head hash changes"

echo
echo "audit.sh: all checks passed"
