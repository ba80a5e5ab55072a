#!/bin/bash
# crl.sh - `tessera crl`: the CRLs of the issuing CA and the root, judged by
# OpenSSL (`openssl crl`, `openssl verify -crl_check`) and GnuTLS (`certtool
# --crl-info`, `--verify-crl`): number, AKI, reasons, invalidity dates and
# times; a revoked certificate refused by verify, a suspended one too until
# resumed; numbers that only grow; expired certificates leaving the CRL; failures and refusals audited.
. "$(dirname "$0")/lib.sh"
need openssl jq sqlite3 faketime certtool

# Under ASan, libfaketime is preloaded ahead of the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# The home is made three days ago and the certificates two days ago, so
# that an invalidity date (a whole day, 00:00 UTC) can fall inside their
# validity and before now.
H=$WORK/home
new_database
run faketime '-3 days' "$TESSERA" init --home "$H" "${DB_ARGS[@]}"
[ "$RC" -eq 0 ] || { show_output; fail "tessera init (three days ago) exited $RC"; }
pass "a CA home made three days ago"
ROOT=$H/certs/root.pem
ISSUING=$H/certs/issuing.pem

# issue NAME: a certificate of the software product "device", two days ago;
# sets $SERIAL (lower-case hex).
issue()
{
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$WORK/$1.key" -subj "/CN=$1.example.org" -out "$WORK/$1.csr" 2>/dev/null ||
	    fail "openssl req for $1"
	run faketime '-2 days' "$TESSERA" cert issue --home "$H" --product device \
	    --csr "$WORK/$1.csr" --subject "CN=$1.example.org" --san "dns:$1.example.org" \
	    --out "$WORK/$1.pem"
	[ "$RC" -eq 0 ] || { show_output; fail "issue $1 exited $RC"; }
	pass "issue $1"
	SERIAL=$(cert_serial "$WORK/$1.pem")
}

# publish DESC ARGS...: tessera crl --home $H ARGS (stdout in $WORK/out);
# sets NUMBER and ENTRIES from what it printed.
publish()
{
	local desc=$1
	shift
	tsr_ok "$desc" crl --home "$H" "$@"
	NUMBER=$(sed -n 's/^number  *//p' "$WORK/out")
	ENTRIES=$(sed -n 's/^entries  *//p' "$WORK/out")
	[ -n "$NUMBER" ] && [ -n "$ENTRIES" ] || { show_output; fail "$desc: no number or entries"; }
}

# crl_text FILE: `openssl crl -text` of a DER CRL into $WORK/crl.txt.
crl_text() { openssl crl -inform DER -in "$1" -noout -text >"$WORK/crl.txt"; }

# crl_number FILE: the cRLNumber of a DER CRL (decimal).
crl_number() { printf '%d\n' "$(openssl crl -inform DER -in "$1" -noout -crlnumber | cut -d= -f2)"; }

# entry_block SERIAL: the lines of $WORK/crl.txt for that entry (serial
# upper-case, as OpenSSL prints it, an even number of digits).
entry_block()
{
	local s=${1^^}
	[ $((${#s} % 2)) -eq 0 ] || s=0$s
	awk -v s="$s" '/Serial Number:/ { on = ($3 == s) } /Signature Algorithm/ { on = 0 } on' \
	    "$WORK/crl.txt"
}

# verify_leaf NAME CRLPEM: openssl verify of NAME's certificate with the CRL
# check of its issuer; output in $WORK/verify.out, status in $RC.
verify_leaf()
{
	RC=0
	openssl verify -crl_check -CAfile "$ROOT" -untrusted "$ISSUING" -CRLfile "$2" \
	    "$WORK/$1.pem" >"$WORK/verify.out" 2>&1 || RC=$?
}

issue alpha
A=$SERIAL
issue bravo
B=$SERIAL
issue charlie
C=$SERIAL
issue delta
D=$SERIAL

section "the first CRL: empty"
publish "tessera crl --out" --out "$WORK/c1.der"
expect "CRL number 1" "$NUMBER" 1
expect "no entries" "$ENTRIES" 0
file_has "prints the published path" "$WORK/out" "^published +$H/crl/issuing.crl\$"
file_has "prints thisUpdate" "$WORK/out" '^thisUpdate +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
file_has "prints nextUpdate" "$WORK/out" '^nextUpdate +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
check "--out is the published CRL" cmp "$WORK/c1.der" "$H/crl/issuing.crl"
expect "the CRL is world-readable (0644)" "$(stat -c %a "$H/crl/issuing.crl")" 644
expect "HOME/crl is 0755" "$(stat -c %a "$H/crl")" 755
expect "nothing else in HOME/crl but the file's record" "$(ls -A "$H/crl" | tr '\n' ' ')" \
    ".issuing.number issuing.crl "
expect "HOME/crl/.issuing.number is the CRL's record (number, entries)" \
    "$(cut -d' ' -f1,4 "$H/crl/.issuing.number")" "1 0"
crl_text "$WORK/c1.der"
file_has "v2" "$WORK/crl.txt" 'Version 2 \(0x1\)'
file_has "signed ecdsa-with-SHA384, as the certificates" "$WORK/crl.txt" \
    'Signature Algorithm: ecdsa-with-SHA384'
file_has "issuer is the issuing CA" "$WORK/crl.txt" \
    "Issuer: $(openssl x509 -in "$ISSUING" -noout -subject -nameopt oneline | sed 's/^subject=//')\$"
file_has "No Revoked Certificates" "$WORK/crl.txt" 'No Revoked Certificates'
expect "AKI is the issuing CA's SKI" \
    "$(hexid "$(grep -A1 'Authority Key Identifier' "$WORK/crl.txt" | tail -n 1)")" "$(ski "$ISSUING")"
expect "cRLNumber 1" "$(crl_number "$WORK/c1.der")" 1
THIS=$(date -u -d "$(openssl crl -inform DER -in "$WORK/c1.der" -noout -lastupdate | cut -d= -f2)" +%s)
NEXT=$(date -u -d "$(openssl crl -inform DER -in "$WORK/c1.der" -noout -nextupdate | cut -d= -f2)" +%s)
expect "nextUpdate is thisUpdate + 24 hours ([ca] crl_hours)" $((NEXT - THIS)) 86400
NOW=$(date -u +%s)
[ $((NOW - THIS)) -ge 0 ] && [ $((NOW - THIS)) -lt 120 ] || fail "thisUpdate $THIS is not now ($NOW)"
pass "thisUpdate is now"
check "openssl crl verifies the signature with the issuing CA's key" \
    openssl crl -inform DER -in "$WORK/c1.der" -noout -CAfile "$ISSUING"
file_has "openssl says verify OK" "$WORK/err" 'verify OK'
openssl crl -inform DER -in "$WORK/c1.der" -out "$WORK/c1.pem"
verify_leaf alpha "$WORK/c1.pem"
[ "$RC" -eq 0 ] && grep -q ': OK$' "$WORK/verify.out" || { cat "$WORK/verify.out" >&2; fail "verify -crl_check alpha before revocation"; }
pass "openssl verify -crl_check: alpha OK before its revocation"

section "revoked, suspended and held"
YESTERDAY=$(date -u -d yesterday +%Y-%m-%d)
tsr_ok "revoke alpha (keyCompromise, invalid since yesterday)" cert revoke "$A" \
    --reason keyCompromise --invalidity-date "$YESTERDAY" --home "$H"
tsr_ok "revoke bravo (unspecified)" cert revoke "$B" --reason unspecified --home "$H"
tsr_ok "suspend charlie" cert suspend "$C" --home "$H"
publish "tessera crl --pem" --out "$WORK/c2.pem" --pem
expect "CRL number 2" "$NUMBER" 2
expect "three entries" "$ENTRIES" 3
file_has "--pem writes PEM" "$WORK/c2.pem" '^-----BEGIN X509 CRL-----$'
openssl crl -in "$WORK/c2.pem" -outform DER -out "$WORK/c2.der"
check "the PEM holds the published CRL" cmp "$WORK/c2.der" "$H/crl/issuing.crl"
crl_text "$WORK/c2.der"
expect "cRLNumber 2" "$(crl_number "$WORK/c2.der")" 2
entry_block "$A" >"$WORK/alpha.txt"
file_has "alpha is listed" "$WORK/alpha.txt" 'Serial Number'
file_has "alpha: reason Key Compromise" "$WORK/alpha.txt" 'Key Compromise'
file_has "alpha: invalidity date" "$WORK/alpha.txt" "Invalidity Date"
expect "alpha: the invalidity date is yesterday 00:00 UTC" \
    "$(grep -A1 'Invalidity Date' "$WORK/alpha.txt" | tail -n 1 | sed 's/^ *//')" \
    "$(date -u -d "$YESTERDAY" '+%b %e %H:%M:%S %Y GMT')"
AT=$(tsr cert show --home "$H" "$A" --json; jq -r .revoked_at "$WORK/out")
expect "alpha: revocation date as stored" \
    "$(grep 'Revocation Date' "$WORK/alpha.txt" | sed 's/.*Revocation Date: //')" \
    "$(date -u -d "$AT" '+%b %e %H:%M:%S %Y GMT')"
entry_block "$B" >"$WORK/bravo.txt"
file_has "bravo is listed" "$WORK/bravo.txt" 'Serial Number'
file_lacks "bravo: no reasonCode for unspecified" "$WORK/bravo.txt" 'Reason|CRL entry extensions'
entry_block "$C" >"$WORK/charlie.txt"
file_has "charlie: Certificate Hold" "$WORK/charlie.txt" 'Certificate Hold'
[ -z "$(entry_block "$D")" ] || fail "delta (valid) is listed"
pass "delta (valid) is not listed"

verify_leaf alpha "$WORK/c2.pem"
[ "$RC" -ne 0 ] && grep -q 'certificate revoked' "$WORK/verify.out" || { cat "$WORK/verify.out" >&2; fail "verify alpha after revocation"; }
pass "openssl verify -crl_check: alpha 'certificate revoked'"
verify_leaf charlie "$WORK/c2.pem"
[ "$RC" -ne 0 ] && grep -q 'certificate revoked' "$WORK/verify.out" || { cat "$WORK/verify.out" >&2; fail "verify charlie while suspended"; }
pass "openssl verify -crl_check: charlie (on hold) 'certificate revoked'"
verify_leaf delta "$WORK/c2.pem"
[ "$RC" -eq 0 ] || { cat "$WORK/verify.out" >&2; fail "verify delta"; }
pass "openssl verify -crl_check: delta OK"

section "GnuTLS certtool"
check "certtool --crl-info" certtool --crl-info --inder --infile "$WORK/c2.der"
file_has "certtool: version 2" "$WORK/out" 'Version: 2'
file_has "certtool: CRL Number 02" "$WORK/out" 'CRL Number \(not critical\): 02'
file_has "certtool: the AKI" "$WORK/out" "$(ski "$ISSUING" | tr 'A-F' 'a-f')"
file_has "certtool: three revoked certificates" "$WORK/out" 'Revoked certificates \(3\)'
file_has "certtool: ECDSA-SHA384" "$WORK/out" 'Signature Algorithm: ECDSA-SHA384'
check "certtool --verify-crl with the issuing CA" certtool --verify-crl \
    --load-ca-certificate "$ISSUING" --infile "$WORK/c2.pem"
file_has "certtool: Verified" "$WORK/out" 'Verification output: Verified'
check_fails "certtool --verify-crl refuses it under the root" certtool --verify-crl \
    --load-ca-certificate "$ROOT" --infile "$WORK/c2.pem"

section "resume: the hold leaves the CRL"
tsr_ok "resume charlie" cert resume "$C" --home "$H"
publish "tessera crl" --out "$WORK/c3.der"
expect "CRL number 3" "$NUMBER" 3
expect "two entries" "$ENTRIES" 2
crl_text "$WORK/c3.der"
[ -z "$(entry_block "$C")" ] || fail "charlie is still listed after resume"
pass "charlie is no longer listed"
openssl crl -inform DER -in "$WORK/c3.der" -out "$WORK/c3.pem"
verify_leaf charlie "$WORK/c3.pem"
[ "$RC" -eq 0 ] || { cat "$WORK/verify.out" >&2; fail "verify charlie after resume"; }
pass "openssl verify -crl_check: charlie OK again"

section "the root's CRL"
publish "tessera crl --ca root" --ca root --out "$WORK/r1.der"
expect "root CRL number 1 (numbers are per CA)" "$NUMBER" 1
expect "root CRL: no entries" "$ENTRIES" 0
file_has "published as root.crl" "$WORK/out" "^published +$H/crl/root.crl\$"
check "openssl crl verifies it with the root's key" \
    openssl crl -inform DER -in "$WORK/r1.der" -noout -CAfile "$ROOT"
file_has "openssl says verify OK" "$WORK/err" 'verify OK'
check_fails "not with the issuing CA's key" \
    openssl crl -inform DER -in "$WORK/r1.der" -noout -CAfile "$ISSUING"
crl_text "$WORK/r1.der"
expect "root CRL: AKI is the root's SKI" \
    "$(hexid "$(grep -A1 'Authority Key Identifier' "$WORK/crl.txt" | tail -n 1)")" "$(ski "$ROOT")"
THIS=$(date -u -d "$(openssl crl -inform DER -in "$WORK/r1.der" -noout -lastupdate | cut -d= -f2)" +%s)
NEXT=$(date -u -d "$(openssl crl -inform DER -in "$WORK/r1.der" -noout -nextupdate | cut -d= -f2)" +%s)
expect "root CRL: nextUpdate + 30 days ([ca] root_crl_days)" $((NEXT - THIS)) $((30 * 86400))
openssl crl -inform DER -in "$WORK/r1.der" -out "$WORK/r1.pem"
cat "$WORK/c3.pem" "$WORK/r1.pem" >"$WORK/both.pem"
RC=0
openssl verify -crl_check_all -CAfile "$ROOT" -untrusted "$ISSUING" -CRLfile "$WORK/both.pem" \
    "$WORK/delta.pem" >"$WORK/verify.out" 2>&1 || RC=$?
[ "$RC" -eq 0 ] || { cat "$WORK/verify.out" >&2; fail "verify -crl_check_all delta"; }
pass "openssl verify -crl_check_all (both CRLs): delta OK"
check "certtool --verify-crl of the root CRL" certtool --verify-crl \
    --load-ca-certificate "$ROOT" --infile "$WORK/r1.pem"

section "numbers only grow"
# (Several processes publishing at once are tested with threads in
# test_crl.c: the built-in SoftHSM2 token's file store does not take
# several processes logging in at the same moment.)
publish "tessera crl again" --out "$WORK/c4.der"
expect "CRL number 4" "$NUMBER" 4
expect "the published CRL is the newest" "$(crl_number "$H/crl/issuing.crl")" 4
expect "meta crl_issuing records it (number, entries)" \
    "$(dbq "$H" "SELECT value FROM meta WHERE key = 'crl_issuing'" | cut -d' ' -f1,4)" "4 2"
expect "meta crl_number_issuing is 4" \
    "$(dbq "$H" "SELECT value FROM meta WHERE key = 'crl_number_issuing'")" 4
expect "nothing left beside the CRLs and their records" "$(ls -A "$H/crl" | sort | tr '\n' ' ')" \
    ".issuing.number .root.number issuing.crl root.crl "
expect "HOME/crl/.issuing.number is meta crl_issuing (one home)" \
    "$(cat "$H/crl/.issuing.number")" "$(dbq "$H" "SELECT value FROM meta WHERE key = 'crl_issuing'")"

section "expired certificates leave the CRL after one more period"
NA=$(date -u -d "$(openssl x509 -in "$WORK/alpha.pem" -noout -enddate | cut -d= -f2)" +%s)
at() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }
run faketime -f "@$(at $((NA + 12 * 3600)))" "$TESSERA" crl --home "$H" --out "$WORK/late.der"
[ "$RC" -eq 0 ] || { show_output; fail "tessera crl 12 hours after alpha expired exited $RC"; }
expect "12 hours after they expired, both are still listed (RFC 5280 5.1.2.6)" \
    "$(sed -n 's/^entries  *//p' "$WORK/out")" 2
run faketime -f "@$(at $((NA + 25 * 3600)))" "$TESSERA" crl --home "$H" --out "$WORK/later.der"
[ "$RC" -eq 0 ] || { show_output; fail "tessera crl 25 hours after alpha expired exited $RC"; }
expect "25 hours after (one CRL period and more), both are gone" \
    "$(sed -n 's/^entries  *//p' "$WORK/out")" 0
crl_text "$WORK/later.der"
file_has "No Revoked Certificates" "$WORK/crl.txt" 'No Revoked Certificates'
expect "and the numbers went on" "$(crl_number "$WORK/later.der")" 6

section "refusals and failures"
tsr_fails "an unknown --ca" 64 'issuing or root' crl --home "$H" --ca policy
tsr_fails "--pem without --out" 64 'pem' crl --home "$H" --pem
tsr_fails "an --out in a missing directory" 74 'cannot write' crl --home "$H" \
    --out "$WORK/no/such/dir/x.crl"
tsr_fails "an unexpected argument" 64 'unexpected' crl --home "$H" extra
publish "the next CRL" --out "$WORK/c7.der"
expect "refused commands took no CRL number" "$NUMBER" 7
# HOME/crl turned into a file: the CRL cannot be written.
mv "$H/crl" "$WORK/crl.saved"
: >"$H/crl"
tsr_fails "HOME/crl is not a directory" 74 'crl' crl --home "$H"
audit_has "the failure is audited" \
    '.action == "crl.issue" and .outcome == "failure" and .object == "crl:issuing"'
rm "$H/crl"
mv "$WORK/crl.saved" "$H/crl"
expect "the published CRL is untouched" "$(crl_number "$H/crl/issuing.crl")" 7

section "audit"
audit_json "$H"
expect "one crl.issue success per CRL published (7 issuing, 1 root)" \
    "$(jq -r "$JQ_ITEMS | map(select(.action == \"crl.issue\" and .outcome == \"success\")) | length" "$WORK/audit.json")" 8
audit_has "crl.issue names number, entries and nextUpdate" \
    '.action == "crl.issue" and .object == "crl:issuing" and (.detail | test("^number=2 entries=3 thisUpdate=[0-9T:-]+Z nextUpdate=[0-9T:-]+Z$"))'
audit_has "crl.issue of the root" '.action == "crl.issue" and .object == "crl:root"'
tsr_ok "audit verify" audit verify --home "$H"

echo
echo "crl.sh: all checks passed"
