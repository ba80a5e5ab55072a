#!/bin/sh
# with-pg.sh PG_CLUSTER SCRIPT [ARGS...]: run an integration script with its
# homes in PostgreSQL: a throw-away cluster (scripts/pg-cluster, PG_CLUSTER)
# is started for it and stopped and removed however the script ends.  The
# script gets (see lib.sh):
#   TSR_TEST_PG        the cluster's URI (role "tessera", which may CREATE
#                      DATABASE; lib.sh makes a database per home)
#   TSR_TEST_PG_SUPER  a superuser connection over the cluster's socket
#   TSR_TEST_PG_DATA   the cluster's data directory
# Without a PostgreSQL server (/usr/lib/postgresql/*/bin) the test is
# skipped (77), except under CI=true, where that is a failure.
set -u
cluster=$1
shift

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL: no PostgreSQL server in /usr/lib/postgresql/*/bin (scripts/install-deps installs it)" >&2
		exit 1
	fi
	echo "SKIP: no PostgreSQL server in /usr/lib/postgresql/*/bin (scripts/install-deps installs it)"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/tessera-pg.XXXXXX") || exit 1
stop() { "$cluster" stop "$dir" >/dev/null 2>&1 || true; }
trap stop EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# Should this wrapper be killed outright (SIGKILL on a timeout), a watchdog
# in a session of its own still stops the server: it outlives the test's
# process group, and keeps none of its output open.
wrapper=$$
setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; "$2" stop "$3"' \
    with-pg-watchdog "$wrapper" "$cluster" "$dir" </dev/null >/dev/null 2>&1 &

uri=$("$cluster" start "$dir") || { echo "FAIL: $cluster start $dir failed" >&2; exit 1; }
echo "with-pg: a throw-away PostgreSQL cluster in $dir: $uri"
TSR_TEST_PG=$uri \
TSR_TEST_PG_SUPER="host=$dir port=$(cat "$dir/port") user=postgres dbname=postgres" \
TSR_TEST_PG_DATA=$dir/data \
    "$@"
rc=$?
exit $rc
