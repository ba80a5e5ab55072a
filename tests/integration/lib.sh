# lib.sh - helpers shared by Tessera's integration tests (sourced, never run).
#
# The tests drive the real `tessera` binary and judge what it made with
# independent implementations: OpenSSL, GnuTLS certtool, NSS and OpenSC.
# meson passes the environment (tests/integration/meson.build):
#   TESSERA          the binary under test
#   SOFTHSM_MODULE   the SoftHSM2 PKCS#11 module
#   SRCDIR           the source tree
# and, for the PostgreSQL runs (with-pg.sh, suite integration-pg):
#   TSR_TEST_PG      a libpq URI of a maintenance database whose role may
#                    CREATE DATABASE; every home then gets a fresh database
#                    of its own there (init_home, new_database) instead of
#                    its SQLite file
#   TSR_TEST_PG_SUPER, TSR_TEST_PG_DATA  (optional) a superuser connection
#                    and the cluster's data directory, for the scans of the
#                    database's own pages (db_files)
# Without TSR_TEST_PG every home keeps its data in SQLite, HOME/tessera.db.
#
# Conventions: every check prints one "ok" line; the first failure prints
# "FAIL: ..." with what was expected and what happened, and exits 1.  Exit 77
# (meson's "skipped") is reserved for a missing third-party tool, so a tessera
# command that happens to exit 77 (wrong PIN) can never pass as a skip.

set -Eeuo pipefail

: "${TESSERA:?TESSERA must name the tessera binary (run through meson test)}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
export LC_ALL=C TZ=UTC
# Never let a caller's environment pick the home or the token for us.
unset TESSERA_HOME SOFTHSM2_CONF

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-$TEST_NAME.XXXXXX")
# At exit, whatever ends the script, the processes whose ids the variables
# named in KILL_AT_EXIT hold (a server's $PID, see start_server) are killed
# and $WORK is removed.
PID=
KILL_AT_EXIT=(PID)
PG_DATABASES=()
at_exit()
{
	local v
	for v in "${KILL_AT_EXIT[@]}"; do
		[ -z "${!v:-}" ] || kill "${!v}" 2>/dev/null || true
	done
	for v in "${PG_DATABASES[@]}"; do
		pg_admin -c "DROP DATABASE IF EXISTS \"$v\" WITH (FORCE)" >/dev/null 2>&1 || true
	done
	rm -rf "$WORK"
}
trap at_exit EXIT
# A command that fails outside a check is a test failure (status 1), whatever
# status it had: see the note on 77 above.
trap 'echo "FAIL: line $LINENO: command failed (status $?): $BASH_COMMAND" >&2; exit 1' ERR

# ------------------------------------------------------------------ reporting
section() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# The last command's output, indented, for failure messages.
show_output()
{
	local f
	for f in "$WORK/out" "$WORK/err"; do
		[ -s "$f" ] && head -c 2000 "$f" | sed 's/^/    | /' >&2
	done
	return 0
}

# need TOOL...: skip the whole script unless every tool is installed.
need()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "SKIP: $t is not installed (scripts/install-deps installs it)"
			exit 77
		}
	done
}

# run CMD...: run a command, keeping stdout in $WORK/out, stderr in
# $WORK/err and the status in $RC; never fails itself.
run()
{
	RC=0
	"$@" </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
}

# check DESC CMD...: CMD must succeed.
check()
{
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -ne 0 ]; then
		show_output
		fail "$desc (status $RC: $*)"
	fi
	pass "$desc"
}

# check_fails DESC CMD...: CMD must fail.
check_fails()
{
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then
		show_output
		fail "$desc: expected a failure, it succeeded ($*)"
	fi
	pass "$desc"
}

# expect DESC ACTUAL WANTED: two strings must be equal.
expect()
{
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
	pass "$1"
}

# file_has DESC FILE REGEX / file_lacks DESC FILE REGEX
file_has()
{
	grep -Eq -- "$3" "$2" || {
		sed 's/^/    | /' "$2" | head -60 >&2
		fail "$1: no line matches /$3/"
	}
	pass "$1"
}
file_lacks()
{
	if grep -Eq -- "$3" "$2"; then
		grep -E -- "$3" "$2" | sed 's/^/    | /' >&2
		fail "$1: a line matches /$3/"
	fi
	pass "$1"
}

# ------------------------------------------------------------------ tessera
# tsr ARGS...: run tessera (output in $WORK/out, $WORK/err, status in $RC).
tsr() { run "$TESSERA" "$@"; }

# tsr_ok DESC ARGS...: tessera must succeed.
tsr_ok()
{
	local desc=$1
	shift
	tsr "$@"
	if [ "$RC" -ne 0 ]; then
		show_output
		fail "$desc: tessera $* exited $RC"
	fi
	pass "$desc"
}

# tsr_fails DESC STATUS REGEX ARGS...: tessera must exit with STATUS ("any"
# for any non-zero status) and print exactly one line on stderr,
# "tessera: error: ..." matching REGEX (case-insensitive), and nothing on
# stdout.  The message is kept in $ERR_LINE.
tsr_fails()
{
	local desc=$1 want=$2 re=$3 lines
	shift 3
	tsr "$@"
	if [ "$RC" -eq 0 ]; then
		show_output
		fail "$desc: tessera $* succeeded, expected a failure"
	fi
	if [ "$want" != any ] && [ "$RC" -ne "$want" ]; then
		show_output
		fail "$desc: tessera exited $RC, expected $want"
	fi
	# init announces itself ("Creating a CA home in ...") before it works,
	# and a usage error (64) may recall the synopsis ("usage: tessera ...");
	# those are the only other lines allowed.
	if [ "$RC" -eq 64 ]; then
		lines=$(grep -Evc '^(Creating a CA home in |usage: tessera )' "$WORK/err" || true)
	else
		lines=$(grep -vc '^Creating a CA home in ' "$WORK/err" || true)
	fi
	ERR_LINE=$(tail -n 1 "$WORK/err")
	if [ "$lines" -ne 1 ] || [[ $ERR_LINE != "tessera: error: "* ]]; then
		show_output
		fail "$desc: expected one line 'tessera: error: ...' on stderr, got $lines lines"
	fi
	if ! grep -Eiq -- "$re" <<<"$ERR_LINE"; then
		show_output
		fail "$desc: the error does not name the problem (/$re/)"
	fi
	if [ -s "$WORK/out" ]; then
		show_output
		fail "$desc: a failing command wrote to stdout"
	fi
	pass "$desc (exit $RC: ${ERR_LINE#tessera: error: })"
}

# ------------------------------------------------------------------ the database
# The backend of every home this script makes: SQLite, or PostgreSQL when
# TSR_TEST_PG is set (see the top).  The checks below are the same on both;
# the few that only SQLite can answer say so (sqlite_only).
if [ -n "${TSR_TEST_PG:-}" ]; then
	DB_BACKEND=postgresql
	for _t in psql pg_dump; do
		command -v "$_t" >/dev/null 2>&1 || fail "TSR_TEST_PG is set but $_t is not installed"
	done
else
	DB_BACKEND=sqlite
fi
on_pg() { [ "$DB_BACKEND" = postgresql ]; }

# sqlite_only WHAT WHY: true on SQLite; on PostgreSQL prints that the check
# WHAT is skipped, and WHY, and is false: if sqlite_only WHAT WHY; then ...; fi
sqlite_only()
{
	on_pg || return 0
	printf 'skipped on PostgreSQL: %s (%s)\n' "$1" "$2"
	return 1
}

# pg_admin ARGS...: psql on the maintenance database $TSR_TEST_PG.
pg_admin() { psql "$TSR_TEST_PG" -X -q -At -v ON_ERROR_STOP=1 "$@" </dev/null; }

# pg_uri NAME: $TSR_TEST_PG with its database replaced by NAME.
pg_uri() { sed -E "s|^(postgres(ql)?://[^/?]*)(/[^?]*)?|\1/$1|" <<<"$TSR_TEST_PG"; }

# new_database: the database options of the next `tessera init`, in the array
# DB_ARGS: none on SQLite (the home's own tessera.db); on PostgreSQL a new,
# empty database of its own, --database URI (dropped when the script ends).
DB_ARGS=()
new_database()
{
	DB_ARGS=()
	on_pg || return 0
	local name
	name=tsr_${TEST_NAME}_$$_${#PG_DATABASES[@]}
	pg_admin -c "CREATE DATABASE \"$name\"" || fail "CREATE DATABASE $name on $TSR_TEST_PG failed"
	PG_DATABASES+=("$name")
	DB_ARGS=(--database "$(pg_uri "$name")")
}

# new_database_unless ARGS...: new_database, unless ARGS (of a `tessera
# init`) choose a database themselves; then DB_ARGS is empty.
new_database_unless()
{
	local a
	for a in "$@"; do
		case $a in --database | --database=*) DB_ARGS=(); return 0 ;; esac
	done
	new_database
}

# db_uri HOME: the database the home's tessera.conf names (its `database`).
db_uri() { sed -n 's/^[ \t]*database[ \t]*=[ \t]*//p' "$1/tessera.conf" | tail -n 1; }

# db_name HOME: the name of the home's PostgreSQL database.
db_name() { db_uri "$1" | sed -E 's|^postgres(ql)?://[^/]*/||; s|\?.*||'; }

# dbq HOME SQL: run SQL on the home's database, results as sqlite3 prints
# them (one row per line, columns joined by "|", NULL as empty) on stdout.
# Write SQL both accept: || not concat(), no group_concat/string_agg (sort
# and join rows in the shell), no GLOB, no BLOB literals.
dbq()
{
	local uri
	uri=$(db_uri "$1")
	case $uri in
	postgres*) psql "$uri" -X -q -At -v ON_ERROR_STOP=1 -c "$2" </dev/null ;;
	/*) sqlite3 "$uri" "$2" ;;
	*) sqlite3 "$1/${uri:-tessera.db}" "$2" ;;
	esac
}

# db_dump HOME FILE: a dump of the home's whole database (its SQL text) in
# FILE: `sqlite3 .dump` after a checkpoint of the WAL, or pg_dump.
db_dump()
{
	if on_pg; then
		pg_dump --no-owner "$(db_uri "$1")" >"$2" </dev/null
	else
		sqlite3 "$1/tessera.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
		sqlite3 "$1/tessera.db" .dump >"$2"
	fi
}

# db_files VAR HOME: the files that hold the home's data as stored, for a
# scan for secrets, into the array VAR.  SQLite: HOME/tessera.db (free pages
# keep deleted rows) and its WAL if there is one.  PostgreSQL: a pg_dump
# (live rows, even those TOAST compresses), and, when the cluster is our own
# (TSR_TEST_PG_SUPER and TSR_TEST_PG_DATA), the database's pages after a
# CHECKPOINT (dead row versions stay there until a vacuum), concatenated.
db_files()
{
	local -n files_=$1
	local home=$2 base oid
	if ! on_pg; then
		files_=("$home/tessera.db")
		[ -e "$home/tessera.db-wal" ] && files_+=("$home/tessera.db-wal")
		return 0
	fi
	base=$WORK/db-$(db_name "$home")
	db_dump "$home" "$base.sql"
	files_=("$base.sql")
	if [ -z "${TSR_TEST_PG_SUPER:-}" ] || [ -z "${TSR_TEST_PG_DATA:-}" ]; then
		echo "note: the database's own pages are not scanned (TSR_TEST_PG_SUPER, TSR_TEST_PG_DATA unset)"
		return 0
	fi
	psql "$TSR_TEST_PG_SUPER" -X -q -v ON_ERROR_STOP=1 -c CHECKPOINT </dev/null >/dev/null
	oid=$(psql "$TSR_TEST_PG_SUPER" -X -q -At -v ON_ERROR_STOP=1 -c \
	    "SELECT oid FROM pg_database WHERE datname = '$(db_name "$home")'" </dev/null)
	[ -n "$oid" ] && [ -d "$TSR_TEST_PG_DATA/base/$oid" ] ||
	    fail "db_files: no directory of database $(db_name "$home") in $TSR_TEST_PG_DATA"
	cat "$TSR_TEST_PG_DATA/base/$oid"/* >"$base.pages"
	files_+=("$base.pages")
}

# init_home DIR [ARGS...]: tessera init a new home at DIR (on PostgreSQL,
# with a new database of its own, unless ARGS name one: --database URI).
init_home()
{
	local dir=$1
	shift
	new_database_unless "$@"
	tsr init --home "$dir" "${DB_ARGS[@]}" "$@"
	if [ "$RC" -ne 0 ]; then
		show_output
		fail "tessera init --home $dir ${DB_ARGS[*]} $* exited $RC"
	fi
}

# base_home: the script's one initialized home (default options), made on
# first use; sets $BASE.  Tests that change a home work on a copy_home.
BASE=
base_home()
{
	if [ -z "$BASE" ]; then
		BASE=$WORK/base
		init_home "$BASE"
	fi
}

# copy_home SRC DST: an independent copy of a home.  The config files name
# absolute paths (database, PIN file, SoftHSM2 token directory), so they are
# rewritten to point into the copy, which then has its own token and store.
copy_home()
{
	local src=$1 dst=$2 f
	cp -a "$src" "$dst"
	for f in "$dst/tessera.conf" "$dst/softhsm2.conf"; do
		[ -f "$f" ] && sed -i "s|$src/|$dst/|g; s|$src\$|$dst|g" "$f"
	done
	if grep -qs -- "$src/" "$dst/tessera.conf" "$dst/softhsm2.conf"; then
		fail "copy_home: $dst still names $src"
	fi
	on_pg || return 0
	# The database too: a new one made from the old as its template (which
	# nobody may be connected to: no server of SRC may run now).
	local old new uri
	old=$(db_name "$src")
	new=tsr_${TEST_NAME}_$$_${#PG_DATABASES[@]}
	pg_admin -c "CREATE DATABASE \"$new\" TEMPLATE \"$old\"" ||
	    fail "copy_home: CREATE DATABASE $new TEMPLATE $old failed (is a server of $src running?)"
	PG_DATABASES+=("$new")
	uri=$(pg_uri "$new")
	awk -v uri="$uri" '/^[ \t]*database[ \t]*=/ { print "database = " uri; next } { print }' \
	    "$dst/tessera.conf" >"$WORK/conf.new"
	cat "$WORK/conf.new" >"$dst/tessera.conf"
	[ "$(db_uri "$dst")" = "$uri" ] || fail "copy_home: $dst/tessera.conf does not name $uri"
}

# ------------------------------------------------------------------ JSON (jq)
# Tessera's JSON lists may be a bare array or an object holding one array;
# $JQ_ITEMS turns either into the array.
JQ_ITEMS='(if type == "array" then . else ([.[] | select(type == "array")] | .[0] // []) end)'

# audit_json HOME: `tessera audit list --json` into $WORK/audit.json.
audit_json()
{
	tsr audit list --home "$1" --json
	if [ "$RC" -ne 0 ]; then
		show_output
		fail "tessera audit list --json exited $RC"
	fi
	cp "$WORK/out" "$WORK/audit.json"
}

# audit_count HOME: number of audit records (stdout).
audit_count()
{
	audit_json "$1"
	jq "$JQ_ITEMS | length" "$WORK/audit.json"
}

# cert_count_json HOME: number of certificates `cert list --json` shows.
cert_count_json()
{
	tsr cert list --home "$1" --json
	[ "$RC" -eq 0 ] || { show_output; fail "tessera cert list --json exited $RC"; }
	jq "$JQ_ITEMS | length" "$WORK/out"
}

# cert_count_db HOME: rows in the certificates table (reservations included).
cert_count_db() { dbq "$1" 'SELECT count(*) FROM certificates;'; }

# ------------------------------------------------------------------ products
# product_info HOME NAME: read `tessera product show --json` into P_* variables.
product_info()
{
	tsr product show --home "$1" "$2" --json
	[ "$RC" -eq 0 ] || { show_output; fail "tessera product show $2 --json exited $RC"; }
	local j=$WORK/product.json
	cp "$WORK/out" "$j"
	P_CLASS=$(jq -r '.class' "$j")
	P_STORAGE=$(jq -r '.storage' "$j")
	# A hardware product needs someone to vouch for the key's token: a CSR
	# alone cannot show where its key was generated.
	HW=()
	[ "$P_STORAGE" = hardware ] && HW=(--hardware-verified-by "integration test officer")
	P_VALIDITY=$(jq -r '.validity_days' "$j")
	P_KEYS=$(jq -r '.key_types[]' "$j")
	P_EKU=$(jq -r '.extended_key_usage[]' "$j")
	P_POLICIES=$(jq -r '.policies[]' "$j")
	P_REQ=$(jq -r '.subject_required[]' "$j")
	P_ALLOWED=$(jq -r '.subject_allowed[]' "$j")
	P_SANS=$(jq -r '.san_allowed[]' "$j")
	[ -n "$P_EKU" ] && [ -n "$P_POLICIES" ] && [ -n "$P_KEYS" ] && [ "$P_VALIDITY" -gt 0 ] ||
	    fail "product show $2 --json lacks eku, policies, key_types or validity_days"
}

# in_list WORD LIST: WORD is one of the lines of LIST.
in_list() { grep -qx -- "$1" <<<"$2"; }

# A value for each DN attribute Tessera supports, and the order (most
# specific first) in which a subject lists them.
declare -A VALUE=([CN]="Jane Q. Tester" [GN]=Jane [SN]=Tester [pseudonym]=jqt [title]=Prescriber
	[serialNumber]=T-1234567 [emailAddress]=jane@example.com [UID]=jtester
	[OU]=Integration [O]="Tessera Test Clinic" [street]="1 Main Street" [L]=Springfield
	[ST]=Illinois [postalCode]=62701 [DC]=example [C]=US)
DN_ORDER="CN GN SN pseudonym title serialNumber emailAddress UID OU O street L ST postalCode DC C"

# make_request NAME: choose SUBJECT and SANS (array) the product accepts:
# its required attributes plus CN and O where allowed; a SAN of each
# allowed type (dns and email first); for serverAuth, CN = the DNS name.
make_request()
{
	local host="$1.example.com" a v
	SANS=()
	in_list dns "$P_SANS" && SANS+=("dns:$host")
	in_list email "$P_SANS" && SANS+=("email:$1@example.com")
	if [ ${#SANS[@]} -eq 0 ]; then
		in_list ip "$P_SANS" && SANS+=("ip:192.0.2.10")
		in_list uri "$P_SANS" && SANS+=("uri:https://$host/id")
	fi
	SUBJECT=
	for a in $DN_ORDER; do
		if ! in_list "$a" "$P_REQ"; then
			[ "$a" = CN ] || [ "$a" = O ] || continue
			in_list "$a" "$P_ALLOWED" || continue
		fi
		v=${VALUE[$a]}
		[ "$a" = CN ] && in_list 1.3.6.1.5.5.7.3.1 "$P_EKU" && v=$host
		SUBJECT+="${SUBJECT:+,}$a=$v"
	done
	[ -n "$SUBJECT" ] || fail "$1: no subject attribute is required or allowed"
}

# ------------------------------------------------------------------ tokens
# private_key_access FILE: the Access: line of every private key in a
# `pkcs11-tool --list-objects` listing, one per line.
private_key_access()
{
	awk '/^Private Key Object/ { inkey = 1; next }
	     /^[A-Z]/ { inkey = 0 }
	     inkey && /^ *Access:/ { sub(/^ *Access: */, ""); print }' "$1"
}

# ------------------------------------------------------------------ keys, CSRs, certificates
# make_key TYPE FILE: a software key for a CSR.  TYPE is a Tessera key type
# (ec-p256, rsa-2048, ...) or one it must refuse (rsa-1024, secp256k1,
# ec-p521, ed25519).  Keys are cached per type: RSA generation is slow.
make_key()
{
	local type=$1 out=$2 cache=$WORK/keycache/$1.pem
	mkdir -p "$WORK/keycache"
	if [ ! -f "$cache" ]; then
		case $type in
		ec-p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$cache" ;;
		ec-p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$cache" ;;
		ec-p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$cache" ;;
		secp256k1) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$cache" ;;
		ed25519) openssl genpkey -algorithm ED25519 -out "$cache" ;;
		rsa-*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${type#rsa-}" -out "$cache" ;;
		*) fail "make_key: unknown key type $type" ;;
		esac 2>/dev/null
	fi
	cp "$cache" "$out"
}

# make_csr KEY OUT SUBJ [openssl req options...]: a PEM CSR.
make_csr()
{
	local key=$1 out=$2 subj=$3
	shift 3
	openssl req -new -key "$key" -subj "$subj" -out "$out" "$@"
}

# ext PEM NAME...: the named extensions as `openssl x509 -ext` prints them.
ext()
{
	local pem=$1
	shift
	openssl x509 -in "$pem" -noout -ext "$(IFS=,; echo "$*")" 2>/dev/null
}

# cert_seconds PEM: the validity period in seconds.
cert_seconds()
{
	local nb na
	nb=$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')
	na=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
	echo $(($(date -u -d "$na" +%s) - $(date -u -d "$nb" +%s)))
}

# cert_serial PEM: the serial in lower-case hex, no leading zeros.
cert_serial()
{
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//; s/^0*//' | tr 'A-F' 'a-f'
}

# hexid TEXT: a key identifier from openssl output, "keyid:" and colons removed.
hexid() { tr -d ' \n:' <<<"$1" | sed 's/^keyid//' | tr 'a-f' 'A-F'; }

# ski PEM / aki PEM: subject and authority key identifiers (upper-case hex).
ski() { hexid "$(ext "$1" subjectKeyIdentifier | tail -n +2)"; }
aki() { hexid "$(ext "$1" authorityKeyIdentifier | tail -n +2 | grep -v -i -E 'DirName|serial')"; }

# oid_name OID: the name OpenSSL prints for OID (the OID itself if unknown).
oid_name() { openssl asn1parse -genstr "OID:$1" | sed 's/.*OBJECT *://'; }

# sha FILE...: one SHA-256 over the files' contents.
sha() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ------------------------------------------------------------------ configuration, users, vouchers
# The helpers from here on work on the script's home, $H.

# set_conf SECTION KEY VALUE: KEY = VALUE in [SECTION] of $H/tessera.conf, in
# place of the key's line (or of a commented-out "# KEY = ..."), else at the
# section's end; other lines of KEY there go; a missing section is added.
set_conf()
{
	awk -v head="[$1]" -v key="$2" -v value="$3" '
	    function put() { print key " = " value; done = 1 }
	    /^\[/ { if (in_sec && !done) put(); in_sec = ($0 == head); seen = seen || in_sec }
	    in_sec && $0 ~ ("^[ \t]*" key "[ \t]*=") { if (!done) put(); next }
	    in_sec && !done && $0 ~ ("^#[ \t]*" key "[ \t]*=") { put(); next }
	    { print }
	    END { if (!done) { if (!seen) print "\n" head; put() } }' "$H/tessera.conf" >"$WORK/conf.new"
	cat "$WORK/conf.new" >"$H/tessera.conf"
}

# pwfile NAME TEXT [MODE]: TEXT in $WORK/NAME, created private, then given
# mode 0600 (or MODE); prints the path.
pwfile()
{
	(umask 077 && printf '%s\n' "$2" >"$WORK/$1")
	chmod "${3:-600}" "$WORK/$1"
	echo "$WORK/$1"
}

# add_user NAME ROLE PASSWORD: `tessera user add`, the password in $WORK/NAME.pw.
add_user()
{
	tsr_ok "user add $1 --role $2" user add --home "$H" "$1" --role "$2" \
	    --password-file "$(pwfile "$1.pw" "$3")"
}

# vouchers VAR PRODUCT COUNT: a batch of COUNT voucher codes for PRODUCT
# into the array VAR (for one code, $VAR is it).
vouchers()
{
	tsr_ok "voucher create --product $2 --count $3" voucher create --home "$H" --product "$2" \
	    --count "$3"
	[ "$(wc -l <"$WORK/out")" -eq "$3" ] || { show_output; fail "voucher create: not $3 codes"; }
	mapfile -t "$1" <"$WORK/out"
}

# ------------------------------------------------------------------ the server and its API
# start_server [ENV=VALUE...]: tessera serve in the background on
# 127.0.0.1:0 (through env, so that $PID is tessera's own); sets $PID and,
# from the URL it prints, $URL; waits (bounded) for /api/v1/health.  Its
# stdout is $WORK/serve.out, its stderr (the access log) is added to
# $WORK/serve.err.
start_server()
{
	env "$@" "$TESSERA" serve --home "$H" --listen 127.0.0.1:0 "${SERVE_ARGS[@]}" \
	    >"$WORK/serve.out" 2>>"$WORK/serve.err" </dev/null &
	PID=$!
	local port= up=
	URL=
	# Bounded, but generous: a loaded machine (2 cores, several suites at
	# once) can take seconds to log in to the token and publish the CRLs.
	for _ in $(seq 1 300); do
		port=$(grep -Eo 'https://127\.0\.0\.1:[1-9][0-9]*' "$WORK/serve.out" | head -n 1 |
		    sed 's/.*://' || true)
		[ -n "$port" ] && URL=https://127.0.0.1:$port && break
		kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; fail "tessera serve exited"; }
		sleep 0.1
	done
	[ -n "$URL" ] || fail "tessera serve printed no URL"
	for _ in $(seq 1 300); do
		curl -sS --max-time 2 --cacert "$H/certs/root.pem" -o /dev/null "$URL/api/v1/health" &&
		    up=yes && break
		sleep 0.1
	done
	[ -n "$up" ] || fail "tessera serve does not answer /api/v1/health on $URL"
	pass "tessera serve answers on $URL"
}

# More arguments for start_server's `tessera serve` (e.g. --public-listen).
SERVE_ARGS=()

# free_port: a TCP port of 127.0.0.1 that nobody listens on now, for an
# address that must be known before a server starts ([ca] public_url).
free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stop_server [SIGNAL]: SIGTERM (or SIGNAL) to the server; it must exit 0
# within 5 s.
stop_server()
{
	local sig=${1:-TERM} rc=0
	kill "-$sig" "$PID"
	for _ in $(seq 1 50); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PID" 2>/dev/null && fail "tessera serve still running 5 s after SIG$sig"
	wait "$PID" || rc=$?
	PID=
	expect "tessera serve exits 0 on SIG$sig" "$rc" 0
}

# api PATH [CURL ARGS...]: a request to $URL, the server's certificate judged
# by the home's root; the answer's body in $WORK/body, its headers in
# $WORK/headers, its status in $STATUS.
api()
{
	local path=$1
	shift
	STATUS=$(curl -sS --max-time 60 --cacert "$H/certs/root.pem" -D "$WORK/headers" \
	    -o "$WORK/body" -w '%{http_code}' "$@" "$URL$path")
}

# call METHOD PATH [BODY [TOKEN]]: api with BODY as JSON (text, @FILE, or ""
# for none) and TOKEN, if given, as the bearer token.
call()
{
	local method=$1 path=$2 body=${3-} token=${4-} args
	args=(-X "$method")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	api "$path" "${args[@]}"
}

# field JQ-FILTER: a value of the last answer (raw).
field() { jq -r "$1" "$WORK/body"; }

# show_body: the last answer's body (its start), for failure messages.
show_body() { head -c 2000 "$WORK/body" >&2; echo >&2; }

# answered DESC STATUS: the last call succeeded with STATUS.
answered()
{
	[ "$STATUS" = "$2" ] || { show_body; fail "$1: status $STATUS, expected $2"; }
	pass "$1 ($2)"
}

# keep_token VAR: the session token of the last answer into VAR, and onto
# $TOKENS, every token the script got (for a scan for secrets).
TOKENS=()
keep_token()
{
	printf -v "$1" '%s' "$(field .token)"
	TOKENS+=("${!1}")
}

# login VAR USER PASSWORD: an officer's session token into VAR.
login()
{
	call POST /api/v1/sessions "$(jq -n --arg u "$2" --arg p "$3" '{user: $u, password: $p}')"
	answered "$2 logs in" 201
	keep_token "$1"
}

# audit_has DESC JQ-CONDITION: some audit record of $H matches.
audit_has()
{
	audit_json "$H"
	jq -e "$JQ_ITEMS | map(select($2)) | length > 0" "$WORK/audit.json" >/dev/null ||
	    fail "$1: no audit record matches $2"
	pass "$1"
}

# Three secret questions, their answers (secrets a test may scan for).
QUESTIONS='[{"question":"Name of your first pet?","answer":"Rex the Dog"},
	{"question":"Street you grew up on?","answer":"Elm Street"},
	{"question":"Your favourite teacher?","answer":"Mrs Smith"}]'

# epcs_app VOUCHER PASSWORD [GIVEN EMAIL]: a valid EPCS application on a new
# token for agreement $AGREEMENT, by Jane (jane@example.org) Tester unless
# named; NPI and DEA with valid check digits: the Luhn digit over 80840 +
# the first nine; (1+3+5) + 2(2+4+6) = 33.
epcs_app()
{
	jq -n --arg v "$1" --arg pw "$2" --arg g "${3:-Jane}" --arg e "${4:-jane@example.org}" \
	    --arg ag "$AGREEMENT" --argjson q "$QUESTIONS" \
	    '{product: "epcs", storage: "new-token", agreement: $ag, password: $pw, voucher: $v,
	      applicant: {given_name: $g, family_name: "Tester", email: $e,
	        address: "1 Main Street\nSpringfield, IL 62701", date_of_birth: "1980-02-29",
	        npi: "1234567893", dea: "AT1234563"},
	      questions: $q}'
}

# ------------------------------------------------------------------ mail (Maildirs)
# Patterns for mail_codes: a verification code, an activation code, an
# initial token passcode.
VCODE_RE='verification code: *([0-9A-Z]{4}-[0-9A-Z*~$=]{4})'
ACODE_RE='activation code: *([0-9A-Z*~$=-]{20,})'
PCODE_RE='Initial token passcode: *([0-9]+)'

# mail_file DIR KIND ID [SUBDIRS]: the path of the one message of KIND for
# application ID in the Maildir DIR (SUBDIRS: "new cur", the default, "new"
# or "cur"); fails unless there is exactly one.
mail_file()
{
	local d=$1 kind=$2 app=$3 subs=${4:-new cur} s f n=0 hit=
	for s in $subs; do
		for f in "$d/$s"/*; do
			[ -f "$f" ] || continue
			grep -Eq "^X-Tessera-Kind: $kind"$'\r'"?\$" "$f" &&
			    grep -Eq "^X-Tessera-Application: $app"$'\r'"?\$" "$f" && hit=$f && n=$((n + 1))
		done
	done
	[ "$n" -eq 1 ] || fail "$n $kind messages of $app in $d ($subs), expected 1"
	printf '%s\n' "$hit"
}

# body_of FILE: the decoded body (quoted-printable) of a message.
body_of()
{
	python3 -c 'import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
sys.stdout.write(m.get_content())' "$1"
}

# mail_codes DIR KIND ID REGEX [SUBDIRS]: the first group of REGEX in the
# decoded body of each message of KIND for application ID in the Maildir DIR
# (SUBDIRS as for mail_file), one line per message, oldest first.
mail_codes()
{
	python3 - "$@" <<'PY'
import email, email.policy, glob, os, re, sys
d, kind, app, rx = sys.argv[1:5]
subs = sys.argv[5] if len(sys.argv) > 5 else "new cur"
found = []
for sub in subs.split():
    for p in glob.glob(os.path.join(d, sub, "*")):
        with open(p, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        if m["X-Tessera-Kind"] != kind or m["X-Tessera-Application"] != app:
            continue
        hit = re.search(rx, m.get_content())
        found.append((os.stat(p).st_mtime_ns, hit.group(1) if hit else "(no match)"))
for _, code in sorted(found):
    print(code)
PY
}
