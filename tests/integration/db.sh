#!/bin/bash
# db.sh - `tessera db migrate` and `tessera db copy` (issue 7): a CA with
# certificates, a revocation, officers, vouchers and an application is
# copied into a new database; every table counts the same there, the audit
# chain verifies, and a home pointed at the copy works as the original did.
# On SQLite the copy is a new SQLite file; on PostgreSQL (with-pg.sh) it goes
# PostgreSQL -> SQLite -> a new PostgreSQL database.
. "$(dirname "$0")/lib.sh"
need openssl jq sqlite3

section "a CA with something in every table"
H=$WORK/home
init_home "$H"
add_user alice ra-officer 'violet tractor umbrella 42'
vouchers V smime 3
product_info "$H" tls-server
make_key ec-p256 "$WORK/k.pem"
for n in one two three; do
	make_csr "$WORK/k.pem" "$WORK/$n.csr" "/CN=$n.example.com"
	tsr_ok "issue $n" cert issue --home "$H" --product tls-server --csr "$WORK/$n.csr" \
	    --subject "CN=$n.example.com" --san "dns:$n.example.com" --out "$WORK/$n.pem"
done
# serial PEM: as the store keeps it (lower-case hex, whole octets).
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr A-F a-f; }
S2=$(serial "$WORK/two.pem")
tsr_ok "revoke two" cert revoke --home "$H" "$S2" --reason keyCompromise
start_server
call GET /api/v1/agreement
answered "the agreement version" 200
jq -n --arg v "${V[0]}" --arg ag "$(field .version)" --argjson q "$QUESTIONS" \
    '{product: "smime", storage: "software", agreement: $ag, password: "correct horse battery staple",
      voucher: $v, questions: $q, applicant: {given_name: "Copy", family_name: "Tester",
      email: "copy@example.org"}}' >"$WORK/app.json"
call POST /api/v1/applications "@$WORK/app.json"
answered "an application" 201
APP=$(field .id)
login T_ALICE alice 'violet tractor umbrella 42'
stop_server

section "tessera db migrate"
tsr_ok "db migrate" db migrate --home "$H"
file_has "it prints the schema version" "$WORK/out" "schema version 6, up to date\$"

# counts HOME: "table rows" for every table the copy covers, from the database.
TABLES="meta certificates audit users vouchers applications answers codes approvals sessions nonces status_changes"
counts()
{
	local t
	for t in $TABLES; do
		echo "$t $(dbq "$1" "SELECT count(*) FROM $t")"
	done
}
for t in certificates audit users vouchers applications answers codes sessions status_changes; do
	[ "$(dbq "$H" "SELECT count(*) FROM $t")" -gt 0 ] || fail "table $t is empty: the copy would not be tested on it"
done
pass "every table but approvals and nonces has rows"

if ! on_pg; then
	# The copy covers every table the schema has (a new table must join copy.c).
	expect "the copy covers every table of the schema" \
	    "$(sqlite3 "$H/tessera.db" "SELECT name FROM sqlite_master WHERE type = 'table'
	       AND name NOT IN ('schema_migrations', 'sqlite_sequence') ORDER BY name" | tr '\n' ' ')" \
	    "$(tr ' ' '\n' <<<"$TABLES" | sort | tr '\n' ' ')"
fi

# home_on HOME DB: a copy of the home whose config names DB.
home_on()
{
	local dst=$1 db=$2
	cp -a "$H" "$dst"
	sed -i "s|$H/|$dst/|g; s|$H\$|$dst|g" "$dst/tessera.conf" "$dst/softhsm2.conf"
	db=$(printf '%s' "$db" | sed 's/[&|\\]/\\&/g')   # a URI may hold '&'
	sed -i "s|^database = .*|database = $db|" "$dst/tessera.conf"
	rm -f "$dst/tessera.db" "$dst/tessera.db-wal" "$dst/tessera.db-shm"
}

# check_copy DESC HOME PEM: HOME (on the copy) has the original's rows, chain
# and data, and takes new rows (PEM's certificate is revoked there).
check_copy()
{
	local c=$2 pem=$3
	expect "$1: every table counts the same" "$(counts "$c" | grep -v '^audit ')" \
	    "$(counts "$H" | grep -v '^audit ')"
	# The copy adds one db.copy record to the target's chain (and one to the source's).
	expect "$1: the audit log has the source's records and the copy's" \
	    "$(dbq "$c" "SELECT count(*) FROM audit")" "$(dbq "$H" "SELECT count(*) FROM audit")"
	tsr_ok "$1: audit verify" audit verify --home "$c"
	tsr_ok "$1: cert list" cert list --home "$c" --json --limit 0
	expect "$1: the revoked certificate is still revoked" \
	    "$(jq -r --arg s "$S2" "$JQ_ITEMS | map(select(.serial == \$s)) | .[0].status" "$WORK/out")" revoked
	tsr_ok "$1: user list" user list --home "$c" --json
	file_has "$1: the officer is there" "$WORK/out" '"alice"'
	tsr_ok "$1: ra show" ra show --home "$c" "$APP" --json
	# New rows continue the numbering: a new revocation gets the next status seq.
	tsr_ok "$1: a revocation on the copy" cert revoke --home "$c" "$(serial "$pem")" \
	    --reason superseded
	expect "$1: status changes continue after the copied ones" \
	    "$(dbq "$c" "SELECT max(seq) FROM status_changes")" \
	    "$(( $(dbq "$H" "SELECT max(seq) FROM status_changes") + 1 ))"
}

section "db copy to a new SQLite file"
tsr_ok "db copy --to FILE" db copy --home "$H" --to "$WORK/copy.db"
file_has "it names the next step" "$WORK/out" "^Next: set \`database = $WORK/copy.db\`"
file_has "it lists the certificates" "$WORK/out" \
    "^  certificates +$(dbq "$H" "SELECT count(*) FROM certificates") rows\$"
expect "the copy is private (0600)" "$(stat -c %a "$WORK/copy.db")" 600
audit_has "the source records the copy" '.action == "db.copy" and .outcome == "success"'
home_on "$WORK/c1" "$WORK/copy.db"
check_copy "the SQLite copy" "$WORK/c1" "$WORK/one.pem"

section "what db copy refuses"
tsr_fails "an existing file" 73 'already exists' db copy --home "$H" --to "$WORK/copy.db"
tsr_fails "a password in a URI" 64 'passfile' db copy --home "$H" \
    --to 'postgresql://u:secret@127.0.0.1/x'
file_lacks "the password is not repeated" "$WORK/err" secret
tsr_fails "no --to" 64 'to is required' db copy --home "$H"

if on_pg; then
	section "db copy from SQLite back into a new PostgreSQL database"
	new_database
	target=${DB_ARGS[1]}
	tsr_ok "db copy of the SQLite copy --to a PostgreSQL URI" db copy --home "$WORK/c1" --to "$target"
	home_on "$WORK/c2" "$target"
	H_SAVED=$H
	H=$WORK/c1          # the source of this copy
	check_copy "the PostgreSQL copy" "$WORK/c2" "$WORK/three.pem"
	H=$H_SAVED
	tsr_fails "a PostgreSQL database that is not empty" any '(not empty|already)' \
	    db copy --home "$WORK/c1" --to "$target"
fi
