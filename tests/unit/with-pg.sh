#!/bin/sh
# with-pg.sh PG_CLUSTER COMMAND...: run COMMAND against a throw-away PostgreSQL
# cluster (scripts/pg-cluster), stopped and removed however COMMAND ends.
# COMMAND gets TSR_TEST_DATABASE (the URI), TSR_PG_CLUSTER_SCRIPT and
# TSR_PG_CLUSTER_DIR (to stop and start the server mid-test).  Exits 77 (a
# skipped test) if no PostgreSQL server is installed.
set -u
script=$1
shift
if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "with-pg: no PostgreSQL server installed (scripts/install-deps); skipped" >&2
  exit 77
fi
dir=$(mktemp -u /tmp/tsr-pg.XXXXXX)
trap '"$script" stop "$dir" >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM HUP
# With our pid: should this shell be killed outright, the cluster goes too.
uri=$("$script" start "$dir" $$) || exit 1
TSR_TEST_DATABASE=$uri TSR_PG_CLUSTER_SCRIPT=$script TSR_PG_CLUSTER_DIR=$dir "$@"
