#!/bin/bash
# multinode.sh - two `tessera serve` nodes on one PostgreSQL database.
#
# Node A and node B are two homes with the same configuration (B is a copy of
# A: the same token, the same database URI), each with its own server on its
# own port, as two machines behind a load balancer would be.  Applications
# are made, approved, enrolled over EST and revoked through both nodes at
# once, each step on the node the previous one did not use.  Then: every
# certificate a client got is stored once, no serial twice; the audit chain
# is one unbroken chain; an officer's approval and an activation code raced
# on both nodes are each taken once;
# both nodes' OCSP answers agree with the database; both nodes' CRLs list
# the revoked certificates, and two CRLs with one number are the same CRL.
#
# Needs TSR_TEST_PG: a maintenance URI on a throw-away cluster (with-pg.sh
# starts one).
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 psql

[ -n "${TSR_TEST_PG:-}" ] || { echo "SKIP: TSR_TEST_PG is not set (tests/integration/with-pg.sh sets it)"; exit 77; }
JOBS=${MULTINODE_JOBS:-8}

# pg_uri DB: TSR_TEST_PG with its database replaced by DB.
pg_uri()
{
	python3 - "$TSR_TEST_PG" "$1" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit((p.scheme, p.netloc, "/" + sys.argv[2], p.query, p.fragment)))
PY
}

section "one database, two homes"
DBNAME=multinode_$$
psql -X -q -v ON_ERROR_STOP=1 "$TSR_TEST_PG" -c "CREATE DATABASE $DBNAME" >/dev/null
DB=$(pg_uri "$DBNAME")
H=$WORK/a
init_home "$H" --database "$DB"
file_has "node A's config names the database" "$H/tessera.conf" "^database = postgresql://"
OFFICER_PW='violet tractor umbrella 42'
add_user alice ra-officer "$OFFICER_PW"
PW='correct horse battery staple'
vouchers VOUCHERS smime $((JOBS + 1))
# B: the same home on another machine (paths rewritten, the database kept).
H_B=$WORK/b
cp -a "$H" "$H_B"
sed -i "s|$H/|$H_B/|g; s|$H\$|$H_B|g" "$H_B/tessera.conf" "$H_B/softhsm2.conf"
grep -qxF "database = $DB" "$H_B/tessera.conf" || fail "node B does not name the database $DB"
pass "node B names the same database"

# start_node VAR HOME: a server for HOME; its URL into URL_VAR, its pid into PID_VAR.
start_node()
{
	local saved_h=$H
	H=$2
	start_server
	printf -v "URL_$1" '%s' "$URL"
	printf -v "PID_$1" '%s' "$PID"
	KILL_AT_EXIT+=("PID_$1")
	PID=
	H=$saved_h
}
start_node A "$H"
start_node B "$H_B"
[ "$URL_A" != "$URL_B" ] || fail "the nodes share a port"

URL=$URL_A
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
login T_OFFICER alice "$OFFICER_PW"

# A node's answer to a request made on the other: sessions live in the database.
URL=$URL_B
call GET /api/v1/ra/applications '' "$T_OFFICER"
answered "node B accepts a session made on node A" 200

# canon HEX: a serial as the store keeps it: lower case, whole octets, no
# leading zero octet.
canon()
{
	local s
	s=$(tr 'A-F' 'a-f' <<<"$1" | sed 's/^0*//')
	[ $((${#s} % 2)) -eq 0 ] || s=0$s
	echo "${s:-00}"
}

# code_of KIND ID RE: the newest code of that kind mailed for ID, by either
# node (each writes to its own home's outbox).
code_of()
{
	local c
	c=$({ mail_codes "$H/outbox" "$@"; mail_codes "$H_B/outbox" "$@"; } | tail -n 1)
	[ -n "$c" ] && [ "$c" != "(no match)" ] || fail "no $1 code was mailed for $2"
	echo "$c"
}

# ------------------------------------------------------------------ one enrolment, in a job
# enrol I: apply on one node, verify the email and get approved on the other,
# enrol over EST on the first; the certificate's serial into $WORK/serial.I.
# Runs in a subshell with its own files.
enrol()
{
	local i=$1 first second id code j=$WORK/job$1
	mkdir -p "$j"
	WORK=$j
	if [ $((i % 2)) -eq 0 ]; then first=$URL_A second=$URL_B; else first=$URL_B second=$URL_A; fi
	jq -n --arg v "${VOUCHERS[$i]}" --arg pw "$PW" --arg ag "$AGREEMENT" \
	    --argjson q "$QUESTIONS" --arg e "node$i@example.org" \
	    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: "Node", family_name: "Tester", email: $e}, questions: $q}' \
	    >"$j/app.json"
	URL=$first
	call POST /api/v1/applications "@$j/app.json"
	[ "$STATUS" = 201 ] || { show_body; fail "job $i: apply: $STATUS"; }
	id=$(field .id)
	code=$(code_of verification "$id" "$VCODE_RE")
	URL=$second
	call POST "/api/v1/applications/$id/email-verification" "{\"code\":\"$code\"}"
	[ "$STATUS" = 200 ] || { show_body; fail "job $i: verify email: $STATUS"; }
	call POST "/api/v1/ra/applications/$id/approval" '{}' "$T_OFFICER"
	[ "$STATUS" = 200 ] || { show_body; fail "job $i: approve: $STATUS"; }
	code=$(code_of activation "$id" "$ACODE_RE")
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$j/key" 2>/dev/null
	openssl req -new -key "$j/key" -subj /CN=ignored -outform DER | openssl base64 >"$j/csr"
	URL=$first
	api /.well-known/est/simpleenroll -u "$code:$PW" -H 'Content-Type: application/pkcs10' \
	    --data-binary "@$j/csr"
	[ "$STATUS" = 200 ] || { show_body; fail "job $i: EST simpleenroll: $STATUS"; }
	base64 -d "$WORK/body" | openssl pkcs7 -inform DER -print_certs >"$j/cert.pem"
	canon "$(cert_serial "$j/cert.pem")" >"$j/serial"
	echo "$id" >"$j/id"
}

section "$JOBS enrolments at once, through both nodes"
pids=()
for i in $(seq 0 $((JOBS - 1))); do
	(enrol "$i") >"$WORK/job$i.log" 2>&1 &
	pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { failed=1; echo "job $i:"; sed 's/^/    | /' "$WORK/job$i.log"; }
done
[ "$failed" = 0 ] || fail "an enrolment failed"
pass "$JOBS applications applied, verified, approved and enrolled across the nodes"
mapfile -t SERIALS < <(cat "$WORK"/job*/serial)
expect "every client got a certificate" "${#SERIALS[@]}" "$JOBS"
expect "no serial was given twice" "$(printf '%s\n' "${SERIALS[@]}" | sort -u | wc -l)" "$JOBS"

dbq() { psql -X -At -v ON_ERROR_STOP=1 "$DB" -c "$1"; }
for s in "${SERIALS[@]}"; do
	[ "$(dbq "SELECT count(*) FROM certificates WHERE serial = '$s' AND state = 'issued'")" = 1 ] ||
	    fail "certificate $s, which a client got, is not stored"
done
pass "every certificate a client got is stored, once"
expect "the database holds no serial twice" \
    "$(dbq "SELECT count(*) - count(DISTINCT serial) FROM certificates")" 0

section "an activation code raced on both nodes is used once"
# The last voucher: one more approved application, enrolled from both nodes at once.
i=$JOBS
jq -n --arg v "${VOUCHERS[$i]}" --arg pw "$PW" --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
    '{product: "smime", storage: "software", agreement: $ag, password: $pw, voucher: $v,
      applicant: {given_name: "Race", family_name: "Tester", email: "race@example.org"}, questions: $q}' \
    >"$WORK/race.json"
URL=$URL_A
call POST /api/v1/applications "@$WORK/race.json"
answered "the race's application" 201
RID=$(field .id)
call POST "/api/v1/applications/$RID/email-verification" \
    "{\"code\":\"$(code_of verification "$RID" "$VCODE_RE")\"}"
answered "its email verified" 200
# The officer's approval, sent to both nodes at once: counted once, one
# activation code mailed.
approve_on()
{
	local u=URL_$1
	curl -sS --max-time 30 --cacert "$H/certs/root.pem" -o "$WORK/approve$1.body" \
	    -w '%{http_code}' -H "Authorization: Bearer $T_OFFICER" \
	    -H 'Content-Type: application/json' --data-binary '{}' \
	    "${!u}/api/v1/ra/applications/$RID/approval" >"$WORK/approve$1.status"
}
approve_on A & pa=$!
approve_on B & pb=$!
wait "$pa" "$pb"
statuses="$(cat "$WORK/approveA.status") $(cat "$WORK/approveB.status")"
case $statuses in
"200 200") fail "one officer's approval was counted on both nodes" ;;
200\ 4* | 4*\ 200) pass "one node took the approval and the other refused it ($statuses)" ;;
*) fail "the approval race gave $statuses (expected one 200 and one refusal)" ;;
esac
expect "one approval is stored" "$(dbq "SELECT count(*) FROM approvals WHERE application = '$RID'")" 1
expect "one activation code was made" \
    "$(dbq "SELECT count(*) FROM codes WHERE application = '$RID' AND purpose = 'activation'")" 1
RCODE=$(code_of activation "$RID" "$ACODE_RE")
for n in A B; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/race$n.key" 2>/dev/null
	openssl req -new -key "$WORK/race$n.key" -subj /CN=ignored -outform DER |
	    openssl base64 >"$WORK/race$n.csr"
done
race()
{
	local u
	u=URL_$1
	curl -sS --max-time 30 --cacert "$H/certs/root.pem" -o "$WORK/race$1.body" \
	    -w '%{http_code}' -u "$RCODE:$PW" -H 'Content-Type: application/pkcs10' \
	    --data-binary "@$WORK/race$1.csr" "${!u}/.well-known/est/simpleenroll" >"$WORK/race$1.status"
}
race A & ra=$!
race B & rb=$!
wait "$ra" "$rb"
statuses="$(cat "$WORK/raceA.status") $(cat "$WORK/raceB.status")"
case $statuses in
"200 200") fail "one activation code enrolled twice" ;;
200\ 4* | 4*\ 200) pass "one node enrolled and the other refused ($statuses)" ;;
*) fail "the race gave $statuses (expected one 200 and one refusal)" ;;
esac
expect "the raced application has one certificate" \
    "$(dbq "SELECT count(*) FROM certificates c JOIN applications a ON a.cert_serial = c.serial WHERE a.id = '$RID'")" 1

section "revocations through both nodes at once"
REVOKED=()
pids=()
for k in "${!SERIALS[@]}"; do
	[ $((k % 2)) -eq 0 ] || continue
	REVOKED+=("${SERIALS[$k]}")
	if [ $((k % 4)) -eq 0 ]; then u=$URL_A; else u=$URL_B; fi
	curl -sS --max-time 30 --cacert "$H/certs/root.pem" -o /dev/null -w '%{http_code}\n' \
	    -H "Authorization: Bearer $T_OFFICER" -H 'Content-Type: application/json' \
	    --data-binary '{"reason":"keyCompromise"}' \
	    "$u/api/v1/certificates/${SERIALS[$k]}/revoke" >"$WORK/revoke$k.status" &
	pids+=($!)
done
wait "${pids[@]}"
for k in "${!SERIALS[@]}"; do
	[ $((k % 2)) -eq 0 ] || continue
	expect "revoke ${SERIALS[$k]}" "$(cat "$WORK/revoke$k.status")" 200
done
expect "the database holds the revocations" \
    "$(dbq "SELECT count(*) FROM certificates WHERE status = 'revoked'")" "${#REVOKED[@]}"

section "the audit chain is one chain"
tsr_ok "audit verify on node A's home" audit verify --home "$H"
tsr_ok "audit verify on node B's home" audit verify --home "$H_B"
expect "every issuance is audited once" \
    "$(dbq "SELECT count(*) FROM audit WHERE action = 'cert.issue' AND object IN ($(printf "'serial:%s'," "${SERIALS[@]}" | sed 's/,$//'))")" \
    "$JOBS"

section "both nodes' OCSP answers agree with the database"
# ocsp_status URL SERIAL: good / revoked / unknown, by openssl ocsp.
ocsp_status()
{
	openssl ocsp -issuer "$H/certs/issuing.pem" -serial "0x$2" -url "$1/ocsp" \
	    -CAfile "$H/certs/chain.pem" -no_nonce -timeout 10 2>/dev/null |
	    sed -n "s/^0x$2: *//Ip" | head -n 1
}
for s in "${SERIALS[@]}"; do
	want=good
	printf '%s\n' "${REVOKED[@]}" | grep -qx "$s" && want=revoked
	for n in A B; do
		u=URL_$n got=
		# A node follows changes made by the other within seconds (bounded).
		for _ in $(seq 1 50); do
			got=$(ocsp_status "${!u}" "$s")
			[ "$got" = "$want" ] && break
			sleep 0.2
		done
		[ "$got" = "$want" ] || fail "node $n answers '$got' for $s, the database says $want"
	done
done
pass "both nodes answer good or revoked for each certificate as the database says"

section "both nodes' CRLs"
declare -A num
for n in A B; do
	u=URL_$n
	for _ in $(seq 1 50); do
		curl -sS --max-time 10 --cacert "$H/certs/root.pem" -o "$WORK/$n.crl" "${!u}/crl/issuing.crl"
		missing=0
		listed=$(openssl crl -inform DER -in "$WORK/$n.crl" -noout -text |
		    sed -n 's/^ *Serial Number: *//p' | while read -r x; do canon "$x"; done)
		for s in "${REVOKED[@]}"; do grep -qx "$s" <<<"$listed" || missing=1; done
		[ "$missing" = 0 ] && break
		sleep 0.2
	done
	[ "$missing" = 0 ] || fail "node $n's CRL lacks a revoked certificate"
	openssl crl -inform DER -in "$WORK/$n.crl" -noout -CAfile "$H/certs/chain.pem" 2>&1 |
	    grep -q 'verify OK' || fail "node $n's CRL does not verify"
	num[$n]=$(openssl crl -inform DER -in "$WORK/$n.crl" -noout -crlnumber | sed 's/.*=//')
done
pass "both nodes serve a verified CRL listing every revocation (numbers ${num[A]} and ${num[B]})"
if [ "${num[A]}" = "${num[B]}" ]; then
	cmp -s "$WORK/A.crl" "$WORK/B.crl" || fail "two different CRLs carry the number ${num[A]}"
	pass "one CRL number, one CRL"
fi
# Each published CRL is audited as "number=N entries=...": no N twice per CA.
expect "no CRL number was published twice" "$(dbq "SELECT count(*) FROM (SELECT object,
    substring(detail from '^number=([0-9]+) entries=') AS n FROM audit
    WHERE action = 'crl.issue' AND detail LIKE 'number=% entries=%'
    GROUP BY 1, 2 HAVING count(*) > 1) AS twice")" 0

for n in A B; do
	u=PID_$n
	PID=${!u}
	stop_server
	printf -v "PID_$n" ''
done
psql -X -q "$TSR_TEST_PG" -c "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1 || true
