#!/bin/bash
# outage.sh - the database goes away under load and comes back (issue 7).
#
# A node on PostgreSQL takes a steady stream of applications.  The database
# server is stopped in the middle of it and started again.  While it is
# down, requests fail cleanly (503 "store", a problem document; the health
# check says "unreachable") and the node keeps running; once it is back,
# the same process serves again without a restart, and every application
# that was answered 201 at any time is in the database.
#
# Needs TSR_TEST_PG and TSR_TEST_PG_DATA (tests/integration/with-pg.sh).
. "$(dirname "$0")/lib.sh"
need curl jq python3 psql

[ -n "${TSR_TEST_PG:-}" ] && [ -n "${TSR_TEST_PG_DATA:-}" ] ||
    { echo "SKIP: TSR_TEST_PG is not set (tests/integration/with-pg.sh sets it)"; exit 77; }
CLUSTER=$SRCDIR/scripts/pg-cluster
CLUSTER_DIR=$(dirname "$TSR_TEST_PG_DATA")

section "a node on PostgreSQL under a steady load"
H=$WORK/home
init_home "$H"
on_pg || fail "lib.sh did not put the home in PostgreSQL"
vouchers VOUCHERS smime 400
start_server
NODE=$PID
call GET /api/v1/agreement
answered "the agreement version" 200
AGREEMENT=$(field .version)
PW='correct horse battery staple'

# The load: one application after another, "N STATUS ID TYPE" per answer
# into $WORK/load, until $WORK/stop exists (or the vouchers run out).
load()
{
	local i=0 status id type
	while [ ! -e "$WORK/stop" ] && [ "$i" -lt "${#VOUCHERS[@]}" ]; do
		jq -n --arg v "${VOUCHERS[$i]}" --arg pw "$PW" --arg ag "$AGREEMENT" \
		    --argjson q "$QUESTIONS" --arg e "load$i@example.org" \
		    '{product: "smime", storage: "software", agreement: $ag, password: $pw,
		      voucher: $v, questions: $q,
		      applicant: {given_name: "Load", family_name: "Tester", email: $e}}' \
		    >"$WORK/load.json"
		status=$(curl -sS --max-time 30 --cacert "$H/certs/root.pem" -o "$WORK/load.body" \
		    -w '%{http_code}' -H 'Content-Type: application/json' \
		    --data-binary "@$WORK/load.json" "$URL/api/v1/applications" 2>/dev/null) || status=000
		id=$(jq -r '.id // "-"' "$WORK/load.body" 2>/dev/null || echo -)
		type=$(jq -r '.type // "-"' "$WORK/load.body" 2>/dev/null || echo -)
		echo "$i $status $id ${type##*/}" >>"$WORK/load"
		i=$((i + 1))
	done
}
: >"$WORK/load"
load &
LOADER=$!
KILL_AT_EXIT+=(LOADER)

# wait_for DESC TEST...: poll TEST every 0.1 s, for at most 30 s.
wait_for()
{
	local desc=$1
	shift
	for _ in $(seq 1 300); do
		"$@" && { pass "$desc"; return 0; }
		sleep 0.1
	done
	fail "$desc: not within 30 s"
}
successes() { awk '$2 == 201' "$WORK/load" | wc -l; }
at_least() { [ "$("$1")" -ge "$2" ]; }
wait_for "the load is under way (3 applications)" at_least successes 3

section "the database stops"
"$CLUSTER" pause "$CLUSTER_DIR" >/dev/null
before=$(wc -l <"$WORK/load")
health() { curl -sS --max-time 10 --cacert "$H/certs/root.pem" -o "$WORK/health" -w '%{http_code}' \
    "$URL/api/v1/health" 2>/dev/null; }
health_is() { [ "$(health)" = "$1" ]; }
wait_for "the health check answers 503" health_is 503
expect "it says the database is unreachable" "$(jq -c . "$WORK/health")" \
    '{"status":"unavailable","database":"unreachable"}'
failed_since() { awk -v n="$before" 'NR > n && $2 != 201' "$WORK/load" | wc -l; }
wait_for "applications fail while it is down (3 of them)" at_least failed_since 3
bad=$(awk -v n="$before" 'NR > n && $2 != 201 && !($2 == 503 && $4 == "store")' "$WORK/load")
[ -z "$bad" ] || { echo "$bad" >&2; fail "a request failed otherwise than with 503 store"; }
pass "every failure is 503 with the problem type store"
kill -0 "$NODE" 2>/dev/null || fail "the node died while the database was down"
pass "the node is still running"
file_has "the node's log names the cause" "$WORK/serve.err" "health: the database does not answer"

section "the database comes back"
"$CLUSTER" resume "$CLUSTER_DIR" >/dev/null
wait_for "the health check answers 200 again" health_is 200
expect "it says the database is ok" "$(jq -c . "$WORK/health")" '{"status":"ok","database":"ok"}'
after=$(wc -l <"$WORK/load")
ok_since() { awk -v n="$after" 'NR > n && $2 == 201' "$WORK/load" | wc -l; }
wait_for "applications succeed again (3 of them)" at_least ok_since 3
touch "$WORK/stop"
wait "$LOADER" || true
LOADER=
# Pooled connections that died idle are found and reconnected before use,
# so no request fails once the database answers again (but the one the
# loader may have had in flight when the health check saw it back).
late=$(awk -v n="$after" 'NR > n + 1 && $2 != 201' "$WORK/load")
[ -z "$late" ] || { echo "$late" >&2; fail "a request failed after the database was back"; }
pass "no request failed after the database was back ($(awk -v n="$after" 'NR > n' "$WORK/load" | wc -l) requests)"
expect "the same process serves: no restart" "$(kill -0 "$NODE" 2>/dev/null && echo alive)" alive

section "nothing committed is lost"
total=$(successes)
mapfile -t IDS < <(awk '$2 == 201 { print $3 }' "$WORK/load")
expect "every answered application has a number" "${#IDS[@]}" "$total"
stored=$(dbq "$H" "SELECT count(*) FROM applications WHERE id IN ($(printf "'%s'," "${IDS[@]}" | sed 's/,$//'))")
expect "all $total applications answered 201 are stored" "$stored" "$total"
tsr_ok "the audit chain verifies" audit verify --home "$H"
stop_server
