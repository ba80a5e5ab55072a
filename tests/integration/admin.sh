#!/bin/bash
# admin.sh - `tessera user ...` and `tessera voucher ...` with the real binary:
# officers added from private password files, listed and shown as JSON, weak
# and duplicate ones refused; voucher batches made, listed without codes,
# written to private files and revoked; everything in the audit chain and
# no password or code anywhere in the database or the audit log.
. "$(dirname "$0")/lib.sh"
need sqlite3 jq

base_home
H=$BASE
GOOD='violet tractor umbrella 42'
SECOND='quiet harbour lantern'

# ------------------------------------------------------------------------
section "tessera user add"
P=$(pwfile alice.pw "$GOOD")
tsr_ok "user add alice --role ra-officer --role auditor" user add --home "$H" alice \
    --role ra-officer --role auditor --display-name "Alice Example" --email alice@example.org \
    --password-file "$P"
tsr_ok "user add bob --role ca-admin (no display name, no email)" user add --home "$H" bob \
    --role ca-admin --password-file "$(pwfile bob.pw "$SECOND")"

tsr_fails "a password on the common list is refused" 65 'common' user add --home "$H" carol \
    --role auditor --password-file "$(pwfile weak.pw password123)"
tsr_fails "a short password is refused" 65 'shorter than 8' user add --home "$H" carol \
    --role auditor --password-file "$(pwfile short.pw 'x7!k2')"
tsr_fails "a password containing the user's name is refused" 65 'name' user add --home "$H" \
    carol --role auditor --display-name "Carol Jones" --password-file \
    "$(pwfile ctx.pw 'jones family garden')"
tsr_fails "a repetitive password is refused" 65 'repeated|sequential' user add --home "$H" \
    carol --role auditor --password-file "$(pwfile rep.pw aaaaaaaaaaaa)"
tsr_fails "the same name twice is refused" 73 'already exists' user add --home "$H" alice \
    --role auditor --password-file "$P"
tsr_fails "an invalid user name is refused" 64 'user name' user add --home "$H" Carol \
    --role auditor --password-file "$P"
tsr_fails "an unknown role is refused" 64 'unknown role' user add --home "$H" carol \
    --role root --password-file "$P"
tsr_fails "a user without a role is refused" 64 'role' user add --home "$H" carol \
    --password-file "$P"
tsr_fails "a password file others can read is refused" 64 'chmod 600' user add --home "$H" \
    carol --role auditor --password-file "$(pwfile open.pw "$GOOD" 644)"
tsr_fails "no password file and no terminal" 64 'not a terminal' user add --home "$H" carol \
    --role auditor
# An operator's own list replaces the built-in one.
printf '# our breach corpus\nviolet tractor umbrella 42\n' >"$WORK/corpus.txt"
TESSERA_PASSWORD_LIST=$WORK/corpus.txt tsr_fails "TESSERA_PASSWORD_LIST: the operator's list" \
    65 'common' user add --home "$H" carol --role auditor --password-file "$P"
TESSERA_PASSWORD_LIST=$WORK/nope.txt tsr_fails "TESSERA_PASSWORD_LIST names no file" 78 \
    'TESSERA_PASSWORD_LIST' user add --home "$H" carol --role auditor --password-file "$P"
expect "only alice and bob exist" "$(dbq "$H" 'SELECT name FROM users ORDER BY name' |
    paste -sd,)" "alice,bob"

section "tessera user list and show"
tsr_ok "user list --json" user list --home "$H" --json
cp "$WORK/out" "$WORK/users.json"
expect "two users listed" "$(jq "$JQ_ITEMS | length" "$WORK/users.json")" 2
expect "alice's roles" "$(jq -c "$JQ_ITEMS | map(select(.name == \"alice\")) | .[0].roles" \
    "$WORK/users.json")" '["ra-officer","auditor"]'
expect "bob is active" "$(jq -r "$JQ_ITEMS | map(select(.name == \"bob\")) | .[0].state" \
    "$WORK/users.json")" active
file_lacks "no password hash in the listing" "$WORK/users.json" 'argon2|password_hash'
tsr_ok "user list (table)" user list --home "$H"
file_has "the table shows alice" "$WORK/out" '^alice +ra-officer,auditor +active +Alice Example'
tsr_ok "user show alice --json" user show --home "$H" alice --json
expect "show: display name" "$(jq -r .display_name "$WORK/out")" "Alice Example"
expect "show: email" "$(jq -r .email "$WORK/out")" "alice@example.org"
expect "show: failed logins" "$(jq -r .failed_logins "$WORK/out")" 0
expect "show: not locked, not disabled" "$(jq -c '[.locked, .disabled]' "$WORK/out")" \
    '[false,false]'
file_lacks "show prints no hash" "$WORK/out" 'argon2'
tsr_fails "show an unknown user" 66 'no user' user show --home "$H" nobody

section "tessera user passwd, roles, disable, enable, unlock"
tsr_fails "passwd with a weak password" 65 'common' user passwd --home "$H" alice \
    --password-file "$WORK/weak.pw"
tsr_ok "passwd alice" user passwd --home "$H" alice --password-file \
    "$(pwfile new.pw 'orange kettle meadow')"
tsr_fails "passwd for an unknown user" 66 'no user' user passwd --home "$H" nobody \
    --password-file "$WORK/new.pw"
tsr_ok "roles alice --role ca-admin,auditor" user roles --home "$H" alice --role ca-admin,auditor
tsr_ok "user show alice --json" user show --home "$H" alice --json
expect "alice's new roles" "$(jq -c .roles "$WORK/out")" '["ca-admin","auditor"]'
tsr_fails "roles without --role" 64 'role' user roles --home "$H" alice
tsr_ok "disable bob" user disable --home "$H" bob
tsr_ok "user show bob --json" user show --home "$H" bob --json
expect "bob is disabled" "$(jq -r .state "$WORK/out")" disabled
tsr_ok "enable bob" user enable --home "$H" bob
tsr_ok "unlock bob" user unlock --home "$H" bob
tsr_fails "disable an unknown user" 66 'no user' user disable --home "$H" nobody
for c in add list show passwd roles disable enable unlock; do
	tsr_ok "user $c --help" user "$c" --help
	file_has "user $c --help describes --home" "$WORK/out" '--home DIR'
done
tsr_ok "user add --help" user add --help
file_has "user add --help describes --password-file" "$WORK/out" '--password-file FILE'
file_has "user add --help names TESSERA_PASSWORD_LIST" "$WORK/out" 'TESSERA_PASSWORD_LIST'

# ------------------------------------------------------------------------
section "tessera voucher create"
tsr_ok "voucher create --product epcs --count 5" voucher create --home "$H" --product epcs \
    --count 5
cp "$WORK/out" "$WORK/codes1"
B1=$(sed -n 's/^batch \([0-9A-Z]*\):.*/\1/p' "$WORK/err")
[ -n "$B1" ] || { show_output; fail "voucher create named no batch on stderr"; }
pass "batch $B1 named on stderr"
expect "five codes on stdout" "$(wc -l <"$WORK/codes1")" 5
expect "codes look like XXXX-XXXX-XXXX-XXXX" \
    "$(grep -cE '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z*~$=U]{4}$' \
    "$WORK/codes1")" 5
expect "the codes are distinct" "$(sort -u "$WORK/codes1" | wc -l)" 5
[ "$(stat -c %a "$H/codes.key")" = 600 ] || fail "codes.key is not mode 0600"
pass "HOME/codes.key exists, mode 0600"

tsr_ok "voucher create --count 3 --expires 2099-12-31 --out FILE" voucher create --home "$H" \
    --product code-signing --count 3 --expires 2099-12-31 --out "$WORK/codes2"
[ ! -s "$WORK/out" ] || fail "voucher create --out also printed to stdout"
B2=$(sed -n 's/^batch \([0-9A-Z]*\):.*/\1/p' "$WORK/err")
expect "the codes file is mode 0600" "$(stat -c %a "$WORK/codes2")" 600
expect "three codes in the file" "$(wc -l <"$WORK/codes2")" 3
tsr_fails "--out never writes over a file" 73 'exists' voucher create --home "$H" \
    --product epcs --count 1 --out "$WORK/codes2"
expect "the existing file is untouched" "$(wc -l <"$WORK/codes2")" 3

n_before=$(dbq "$H" 'SELECT count(*) FROM vouchers')
tsr_fails "a free product takes no voucher" 65 'free' voucher create --home "$H" \
    --product device --count 1
tsr_fails "an unknown product" 66 'product' voucher create --home "$H" --product nope --count 1
tsr_fails "--count 0" 64 'count' voucher create --home "$H" --product epcs --count 0
tsr_fails "--count 10001" 64 'count' voucher create --home "$H" --product epcs --count 10001
tsr_fails "--count missing" 64 'count' voucher create --home "$H" --product epcs
tsr_fails "an expiry in the past" 64 'expiry' voucher create --home "$H" --product epcs \
    --count 1 --expires 2001-01-01
tsr_fails "a malformed expiry" 64 'expires' voucher create --home "$H" --product epcs \
    --count 1 --expires tomorrow
[ ! -e "$WORK/refused" ] || fail "a refused create left a file behind"
tsr_fails "a refused create removes its --out file" 65 'free' voucher create --home "$H" \
    --product device --count 1 --out "$WORK/refused"
[ ! -e "$WORK/refused" ] || fail "a refused create left its --out file behind"
pass "no --out file is left after a refusal"
expect "refusals stored no voucher" "$(dbq "$H" 'SELECT count(*) FROM vouchers')" \
    "$n_before"

section "only keyed hashes are stored"
db_dump "$H" "$WORK/dump.sql"
db_files DBF "$H"
while read -r code; do
	bare=${code//-/}
	grep -qF -- "$code" "$WORK/dump.sql" && fail "code $code is in the database"
	grep -qF -- "$bare" "$WORK/dump.sql" && fail "code $bare is in the database"
	for f in "${DBF[@]}"; do
		grep -qaF -- "$code" "$f" && fail "code $code is in the database file $(basename "$f")"
	done
done < <(cat "$WORK/codes1" "$WORK/codes2")
pass "no code appears in the database, with or without hyphens"
expect "every stored hash is 64 hex digits" "$(dbq "$H" 'SELECT code_hash FROM vouchers' |
    grep -cvxE '[0-9a-f]{64}' || true)" 0
expect "the vouchers stored: 8" "$(dbq "$H" 'SELECT count(*) FROM vouchers')" 8
expect "no password is in the database" "$(grep -cF -e "$GOOD" -e "$SECOND" -e 'orange kettle' \
    "$WORK/dump.sql" || true)" 0

section "tessera voucher list"
tsr_ok "voucher list --json" voucher list --home "$H" --json
cp "$WORK/out" "$WORK/vouchers.json"
expect "two batches" "$(jq "$JQ_ITEMS | length" "$WORK/vouchers.json")" 2
expect "batch 1: epcs, 5 unused, never expires" "$(jq -c --arg b "$B1" \
    "$JQ_ITEMS | map(select(.batch == \$b)) | .[0] | [.product, .total, .unused, .expires_at]" \
    "$WORK/vouchers.json")" '["epcs",5,5,null]'
expect "batch 2: code-signing, expires at the end of 2099-12-31" "$(jq -r --arg b "$B2" \
    "$JQ_ITEMS | map(select(.batch == \$b)) | .[0].expires_at" "$WORK/vouchers.json")" \
    2100-01-01T00:00:00Z
tsr_ok "voucher list (table)" voucher list --home "$H"
cp "$WORK/out" "$WORK/vlist"
tsr_ok "voucher list --product epcs --json" voucher list --home "$H" --product epcs --json
expect "filtered by product" "$(jq -c "$JQ_ITEMS | map(.batch)" "$WORK/out")" "[\"$B1\"]"
tsr_ok "voucher list --batch (lower case) --json" voucher list --home "$H" \
    --batch "${B2,,}" --json
expect "filtered by batch" "$(jq -c "$JQ_ITEMS | map(.batch)" "$WORK/out")" "[\"$B2\"]"
while read -r code; do
	for f in "$WORK/vouchers.json" "$WORK/vlist"; do
		grep -qF -- "$code" "$f" && fail "voucher list shows code $code"
		grep -qF -- "${code//-/}" "$f" && fail "voucher list shows code ${code//-/}"
	done
done < <(cat "$WORK/codes1" "$WORK/codes2")
pass "voucher list shows no code"

section "tessera voucher revoke"
tsr_ok "voucher revoke --batch $B1" voucher revoke --home "$H" --batch "$B1"
grep -q '5 unused vouchers revoked' "$WORK/err" || { show_output; fail "revoke did not say 5"; }
pass "revoke says how many"
tsr_ok "voucher list --batch $B1 --json" voucher list --home "$H" --batch "$B1" --json
expect "all five revoked" "$(jq -c "$JQ_ITEMS | .[0] | [.revoked, .unused]" "$WORK/out")" '[5,0]'
tsr_fails "revoke an unknown batch" 66 'batch' voucher revoke --home "$H" --batch ZZZZZZZZ
tsr_fails "revoke without --batch" 64 'batch' voucher revoke --home "$H"
for c in create list revoke; do
	tsr_ok "voucher $c --help" voucher "$c" --help
	file_has "voucher $c --help describes --home" "$WORK/out" '--home DIR'
done

# ------------------------------------------------------------------------
section "the audit log"
audit_json "$H"
for a in user.add user.passwd user.roles user.disable user.enable user.unlock voucher.create \
    voucher.revoke; do
	n=$(jq "$JQ_ITEMS | map(select(.action == \"$a\" and .outcome == \"success\")) | length" \
	    "$WORK/audit.json")
	[ "$n" -ge 1 ] || fail "no successful $a in the audit log"
done
pass "every change is audited"
expect "refused user.add records" "$(jq "$JQ_ITEMS | map(select(.action == \"user.add\" and
    .outcome == \"refused\")) | length" "$WORK/audit.json")" 8
jq -e --arg b "$B1" "$JQ_ITEMS | map(select(.action == \"voucher.create\" and
    (.detail | contains(\"batch \" + \$b + \", product epcs, 5 vouchers\")))) | length == 1" \
    "$WORK/audit.json" >/dev/null || fail "voucher.create does not record batch, product, count"
pass "voucher.create records batch, product and count"
file_lacks "no password in the audit log" "$WORK/audit.json" \
    "$GOOD|$SECOND|orange kettle|password123|jones family|argon2"
while read -r code; do
	grep -qF -- "$code" "$WORK/audit.json" && fail "the audit log holds code $code"
	grep -qF -- "${code//-/}" "$WORK/audit.json" && fail "the audit log holds code ${code//-/}"
done < <(cat "$WORK/codes1" "$WORK/codes2")
pass "no code in the audit log"
tsr_ok "tessera audit verify" audit verify --home "$H"

echo
echo "admin.sh: all checks passed"
