/*
 * test_store.c - the store against real SQLite files in a temporary
 * directory: open rules, migrations, metadata, serial reservation and
 * certificate rows, listing filters, transactions, the audit table's
 * append-only triggers, users and vouchers, and the enrollment workflow's
 * rows (applications, answers, codes, approvals, sessions).
 *
 * With TSR_TEST_DATABASE set (a libpq URI whose role may create databases;
 * tests/unit/with-pg.sh starts a throw-away cluster and sets it), the same
 * tests run against PostgreSQL, each in a new, empty database of its own;
 * the SQLite-only ones (files, modes, old file formats) are skipped, and
 * the PostgreSQL-only ones (races between connections, an outage) run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* The number of the last migration in src/store/sqlite.c. */
#define SCHEMA_VERSION 6

struct fx {
	char dir[64];
	char path[512];           /* the store: a file, or a PostgreSQL URI */
	char db[64];              /* PostgreSQL: the test's own database */
	struct tsr_store *st;
};

/* The maintenance URI (TSR_TEST_DATABASE), or NULL to test SQLite. */
static const char *pg_uri;

static bool on_pg(void)
{
	return pg_uri != NULL;
}

#define SQLITE_ONLY() do { if (on_pg()) skip(); } while (0)
#define PG_ONLY() do { if (!on_pg()) skip(); } while (0)

/* base with its database name replaced by db. */
static void uri_with_db(const char *base, const char *db, char *out, size_t size)
{
	const char *host = strstr(base, "://");
	const char *slash = host != NULL ? strchr(host + 3, '/') : NULL;
	const char *query = strchr(base, '?');
	size_t head;

	assert_non_null(slash);
	head = (size_t)(slash - base);
	snprintf(out, size, "%.*s/%s%s", (int)head, base, db, query != NULL ? query : "");
}

/* Run sql on the maintenance database (CREATE or DROP DATABASE). */
static int pg_admin(const char *sql)
{
	PGconn *c = PQconnectdb(pg_uri);
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "pg_admin: %s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A new, empty database; its URI into uri. */
static int pg_new_db(char *name, size_t name_size, char *uri, size_t uri_size)
{
	static int n;
	char sql[128];

	snprintf(name, name_size, "tsr_test_%d_%d", (int)getpid(), ++n);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	uri_with_db(pg_uri, name, uri, uri_size);
	return pg_admin(sql);
}

static int pg_drop_db(const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	return pg_admin(sql);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsr-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/tessera.db", fx->dir);
	if (on_pg() && pg_new_db(fx->db, sizeof(fx->db), fx->path, sizeof(fx->path)) != 0)
		return -1;
	if (tsr_store_open(fx->path, true, &fx->st) != 0) {
		fprintf(stderr, "setup: %s\n", tsr_error_detail());
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tsr_store_close(fx->st);
	if (fx->db[0] != '\0' && pg_drop_db(fx->db) != 0)
		return -1;
	if (tsr_dir_remove_tree(fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

/* raw_sql() on PostgreSQL, in SQLite's result codes: a trigger's RAISE is
 * SQLITE_CONSTRAINT as in SQLite, any other failure SQLITE_ERROR. */
static int raw_sql_pg(const char *uri, const char *sql, char *errbuf, size_t errlen)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *res = PQexec(c, sql);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	int rc = SQLITE_OK;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = state != NULL && strcmp(state, "P0001") == 0 ? SQLITE_CONSTRAINT : SQLITE_ERROR;
	if (errbuf != NULL)
		snprintf(errbuf, errlen, "%s", rc != SQLITE_OK ? PQerrorMessage(c) : "");
	PQclear(res);
	PQfinish(c);
	return rc;
}

static int64_t raw_int_pg(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *res = PQexec(c, sql);
	int64_t v;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return v;
}

/* Run SQL on the database file behind Tessera's back, as anyone with
 * access to the file could; returns the SQLite result code. */
static int raw_sql(const char *path, const char *sql, char *errbuf, size_t errlen)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	if (strncmp(path, "postgres", 8) == 0)
		return raw_sql_pg(path, sql, errbuf, errlen);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (errbuf != NULL)
		snprintf(errbuf, errlen, "%s", err != NULL ? err : "");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t v;

	if (strncmp(path, "postgres", 8) == 0)
		return raw_int_pg(path, sql);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static const uint8_t der_bytes[] = { 0x30, 0x82, 0x00, 0x05, 0x00, 0xff, 0x01, 0x00, 0x7f };

static void make_rec(struct tsr_cert_record *rec, const char *serial, const char *product,
    const char *role, const char *subject, int64_t not_after, int64_t issued_at)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->serial, sizeof(rec->serial), "%s", serial);
	snprintf(rec->issuer, sizeof(rec->issuer), "issuing");
	snprintf(rec->role, sizeof(rec->role), "%s", role);
	snprintf(rec->product, sizeof(rec->product), "%s", product);
	snprintf(rec->key_type, sizeof(rec->key_type), "ec-p256");
	snprintf(rec->status, sizeof(rec->status), "valid");
	memset(rec->fingerprint, 'f', 64);
	rec->not_before = issued_at - 60;
	rec->not_after = not_after;
	rec->issued_at = issued_at;
	rec->subject = (char *)subject;
	rec->sans = (char *)"dns:a.example, email:x@y.example";
	rec->der = (uint8_t *)der_bytes;
	rec->der_len = sizeof(der_bytes);
}

/* Reserve, store and commit one certificate. */
static void issue(struct tsr_store *st, const struct tsr_cert_record *rec)
{
	assert_int_equal(tsr_store_begin(st), 0);
	assert_int_equal(tsr_store_serial_reserve(st, rec->serial, rec->issuer), 0);
	assert_int_equal(tsr_store_cert_put(st, rec), 0);
	assert_int_equal(tsr_store_commit(st), 0);
}

static int64_t count(struct tsr_store *st)
{
	int64_t n = -1;

	assert_int_equal(tsr_store_cert_count(st, &n), 0);
	return n;
}

/* ------------------------------------------------------------------ open */

static void test_open_rules(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;
	char path[600];
	struct stat sb;

	SQLITE_ONLY();

	/* The fixture created the file: 0600, and create refuses to reuse it. */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s-wal", fx->path);
	if (stat(path, &sb) == 0)
		assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(tsr_store_open(fx->path, true, &st), TSR_ERR_EXISTS);
	assert_null(st);

	/* Without create it opens, also under the explicit "sqlite:" prefix. */
	snprintf(path, sizeof(path), "sqlite:%s", fx->path);
	assert_int_equal(tsr_store_open(path, false, &st), 0);
	tsr_store_close(st);

	/* Missing file without create: not found, and nothing is created. */
	snprintf(path, sizeof(path), "%s/missing.db", fx->dir);
	assert_int_equal(tsr_store_open(path, false, &st), TSR_ERR_NOT_FOUND);
	assert_false(tsr_file_exists(path));

	/* The mode holds even under a permissive umask. */
	mode_t old = umask(0);
	snprintf(path, sizeof(path), "%s/new.db", fx->dir);
	assert_int_equal(tsr_store_open(path, true, &st), 0);
	umask(old);
	tsr_store_close(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	/* A directory that does not exist is an I/O error. */
	snprintf(path, sizeof(path), "%s/no/such/dir.db", fx->dir);
	assert_int_equal(tsr_store_open(path, true, &st), TSR_ERR_IO);

	/* A URI without even a host names no database. */
	assert_int_equal(tsr_store_open("postgresql://", false, &st), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_open("", false, &st), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_open("sqlite:", false, &st), TSR_ERR_INVALID);
}

/* The target of a copy: a store that is there already is accepted only
 * while every table is empty (the bare schema a failed copy leaves), on
 * both backends; otherwise create's refusal stands. */
static void test_open_copy_target(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;

	/* The fixture made the schema and wrote nothing: a copy may land. */
	assert_int_equal(tsr_store_open_copy_target(fx->path, &st), 0);
	tsr_store_close(st);
	st = NULL;
	assert_int_equal(tsr_store_meta_set(fx->st, "organization", "x"), 0);
	assert_int_equal(tsr_store_open_copy_target(fx->path, &st), TSR_ERR_EXISTS);
	assert_null(st);
}

/* What may stand in a config file or on a command line. */
static void test_uri_check(void **state)
{
	(void)state;
	assert_int_equal(tsr_store_uri_check("postgresql://ca@db.example/tessera"
	    "?passfile=/etc/tessera/pgpass&sslmode=verify-full"), 0);
	assert_int_equal(tsr_store_uri_check("postgresql://ca:s3cret@db/tessera"),
	    TSR_ERR_INVALID);
	assert_null(strstr(tsr_error_detail(), "s3cret"));
	assert_int_equal(tsr_store_uri_check("postgresql://ca@db/t?password=s3cret"),
	    TSR_ERR_INVALID);
	/* libpq decodes percent-escapes in keys, so must the check. */
	assert_int_equal(tsr_store_uri_check("postgresql://ca@db/t?%70assword=s3cret"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_uri_check("postgresql://ca:pa%2Fss@db/t"), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_uri_check("postgresql://ca@db/t?sslpassword=s3cret"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_uri_check("postgresql://ca@db/t?nosuchkey=1"),
	    TSR_ERR_INVALID);
	assert_null(strstr(tsr_error_detail(), "nosuchkey"));
}

static void test_open_refuses_foreign_files(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;
	char path[600];

	SQLITE_ONLY();

	/* Someone else's SQLite database is not silently turned into ours. */
	snprintf(path, sizeof(path), "%s/other.db", fx->dir);
	assert_int_equal(tsr_file_create(path, "", 0, 0600), 0);
	assert_int_equal(raw_sql(path, "CREATE TABLE songs(title TEXT)", NULL, 0), SQLITE_OK);
	assert_int_equal(tsr_store_open(path, false, &st), TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "not a Tessera database"));
	/* ...and left as it was: no tables added, journal mode untouched. */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);
	assert_int_equal(raw_int(path,
	    "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'delete'"), 1);

	/* A file that is not a database at all. */
	snprintf(path, sizeof(path), "%s/junk.db", fx->dir);
	assert_int_equal(tsr_file_create(path, "this is not sqlite, not at all, no no no", 40,
	    0600), 0);
	assert_int_equal(tsr_store_open(path, false, &st), TSR_ERR_STORE);
	assert_null(st);
}

static void test_migrations(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;
	int v = -1;

	assert_int_equal(tsr_store_schema_version(fx->st, &v), 0);
	assert_int_equal(v, SCHEMA_VERSION);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM schema_migrations"),
	    SCHEMA_VERSION);
	assert_true(raw_int(fx->path, "SELECT applied_at FROM schema_migrations WHERE version = 1")
	    > 0);

	/* Reopening applies nothing twice. */
	tsr_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(tsr_store_open(fx->path, false, &st), 0);
	assert_int_equal(tsr_store_schema_version(st, &v), 0);
	assert_int_equal(v, SCHEMA_VERSION);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM schema_migrations"),
	    SCHEMA_VERSION);
	assert_int_equal(raw_int(fx->path, on_pg() ?
	    "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit'::regclass"
	    " AND NOT tgisinternal" :
	    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), on_pg() ? 3 : 2);
	fx->st = st;
}

static void test_too_new_schema_refused(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;

	tsr_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(raw_sql(fx->path,
	    "INSERT INTO schema_migrations(version, applied_at) VALUES(999, 0)", NULL, 0),
	    SQLITE_OK);
	assert_int_equal(tsr_store_open(fx->path, false, &st), TSR_ERR_STORE);
	assert_null(st);
	assert_non_null(strstr(tsr_error_detail(), "schema version 999 is newer"));
}

/* ------------------------------------------------------------------ meta */

static void test_meta(void **state)
{
	struct fx *fx = *state;
	char *v = NULL;

	assert_int_equal(tsr_store_meta_get(fx->st, "policy_arc", &v), TSR_ERR_NOT_FOUND);
	assert_null(v);
	assert_int_equal(tsr_store_meta_set(fx->st, "policy_arc", "1.3.6.1.4.1.99999.1"), 0);
	assert_int_equal(tsr_store_meta_get(fx->st, "policy_arc", &v), 0);
	assert_string_equal(v, "1.3.6.1.4.1.99999.1");
	free(v);
	assert_int_equal(tsr_store_meta_set(fx->st, "policy_arc", "2.999"), 0);
	assert_int_equal(tsr_store_meta_get(fx->st, "policy_arc", &v), 0);
	assert_string_equal(v, "2.999");
	free(v);
	/* Quotes and SQL in values are just data. */
	assert_int_equal(tsr_store_meta_set(fx->st, "k'; DROP TABLE meta; --", "it's"), 0);
	assert_int_equal(tsr_store_meta_get(fx->st, "k'; DROP TABLE meta; --", &v), 0);
	assert_string_equal(v, "it's");
	free(v);
	assert_int_equal(tsr_store_meta_set(fx->st, "", "x"), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_meta_set(fx->st, "k", NULL), TSR_ERR_INVALID);
}

/* ------------------------------------------------------------------ certificates */

static void test_cert_round_trip(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec, got;

	make_rec(&rec, "5f01a2", "epcs", "subscriber", "CN=Alice Example,O=Example", 2000000000,
	    1700000000);
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_cert_get(fx->st, "5f01a2", &got), 0);
	assert_string_equal(got.serial, "5f01a2");
	assert_string_equal(got.issuer, "issuing");
	assert_string_equal(got.role, "subscriber");
	assert_string_equal(got.product, "epcs");
	assert_string_equal(got.key_type, "ec-p256");
	assert_string_equal(got.status, "valid");
	assert_string_equal(got.fingerprint, rec.fingerprint);
	assert_int_equal(got.not_before, 1700000000 - 60);
	assert_int_equal(got.not_after, 2000000000);
	assert_int_equal(got.issued_at, 1700000000);
	assert_string_equal(got.subject, "CN=Alice Example,O=Example");
	assert_string_equal(got.sans, "dns:a.example, email:x@y.example");
	assert_int_equal(got.der_len, sizeof(der_bytes));
	assert_memory_equal(got.der, der_bytes, sizeof(der_bytes));
	tsr_cert_record_clear(&got);
	assert_null(got.der);

	/* The state column says what the row is. */
	assert_int_equal(raw_int(fx->path,
	    "SELECT count(*) FROM certificates WHERE state = 'issued'"), 1);
}

static void test_serial_forms(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec, got;

	make_rec(&rec, "0A12", "epcs", "subscriber", "CN=Bob", 2000000000, 1700000000);
	issue(fx->st, &rec);
	/* Stored in canonical form: lower case, whole octets, no 00 prefix. */
	assert_int_equal(raw_int(fx->path,
	    "SELECT count(*) FROM certificates WHERE serial = '0a12'"), 1);
	const char *same[] = { "0a12", "0A12", "a12", "A12", "000a12", "00000A12" };
	for (size_t i = 0; i < TSR_ARRAY_LEN(same); i++) {
		assert_int_equal(tsr_store_cert_get(fx->st, same[i], &got), 0);
		assert_string_equal(got.serial, "0a12");
		tsr_cert_record_clear(&got);
	}
	assert_int_equal(tsr_store_cert_get(fx->st, "0a13", &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_cert_get(fx->st, "a1", &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_cert_get(fx->st, "xyz", &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_get(fx->st, "0a:12", &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_get(fx->st, "0a12' OR '1'='1", &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_get(fx->st, "", &got), TSR_ERR_INVALID);
	/* 21 octets is more than RFC 5280 allows; 20 is fine (leading zeros aside). */
	assert_int_equal(tsr_store_cert_get(fx->st, "010203040506070809101112131415161718192021",
	    &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_get(fx->st,
	    "000102030405060708091011121314151617181920", &got), TSR_ERR_NOT_FOUND);
}

static void test_reserve_twice(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec;

	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "77aa", "issuing"), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "77AA", "issuing"), TSR_ERR_EXISTS);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0077aa", "root"), TSR_ERR_EXISTS);
	assert_int_equal(tsr_store_commit(fx->st), 0);

	/* An issued serial cannot be reserved again either. */
	make_rec(&rec, "1234", "epcs", "subscriber", "CN=C", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "1234", "issuing"), TSR_ERR_EXISTS);
	tsr_store_rollback(fx->st);
	assert_int_equal(count(fx->st), 2);
}

static void test_rollback_releases_reservation(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(count(fx->st), 0);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "abcd", "issuing"), 0);
	assert_int_equal(count(fx->st), 1);
	tsr_store_rollback(fx->st);
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(count(fx->st), 0);
	/* The serial is free again. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "abcd", "issuing"), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_int_equal(count(fx->st), 1);
}

static void test_put_rules(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec, got;

	make_rec(&rec, "beef", "epcs", "subscriber", "CN=D", 2000000000, 1700000000);
	/* Not reserved. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_NOT_FOUND);
	tsr_store_rollback(fx->st);
	assert_int_equal(count(fx->st), 0);

	/* Reserved for another issuer. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "beef", "root"), 0);
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_NOT_FOUND);
	tsr_store_rollback(fx->st);

	/* Reserved, but no DER: refused before touching the row. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "beef", "issuing"), 0);
	rec.der_len = 0;
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_INVALID);
	rec.der_len = sizeof(der_bytes);
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), 0);
	/* A reserved-but-unfilled row is never handed out; an issued one once. */
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_EXISTS);
	assert_int_equal(tsr_store_commit(fx->st), 0);

	/* Outside a transaction. */
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_INTERNAL);
	assert_int_equal(tsr_store_cert_get(fx->st, "beef", &got), 0);
	tsr_cert_record_clear(&got);

	/* A reservation alone is not a certificate. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "cafe", "issuing"), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_int_equal(tsr_store_cert_get(fx->st, "cafe", &got), TSR_ERR_NOT_FOUND);
}

static void test_transaction_rules(void **state)
{
	struct fx *fx = *state;

	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0101", "issuing"), TSR_ERR_INTERNAL);
	assert_int_equal(count(fx->st), 0);
	assert_int_equal(tsr_store_commit(fx->st), TSR_ERR_INTERNAL);
	tsr_store_rollback(fx->st);   /* nothing open: harmless */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_true(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_begin(fx->st), TSR_ERR_INTERNAL);
	assert_true(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_false(tsr_store_in_transaction(fx->st));
}

/* begin takes the write lock: a second handle (another process, in
 * production) waits for the busy timeout and then gets a clear error.
 * This test therefore takes about five seconds. */
static void test_begin_takes_write_lock(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *other = NULL;

	assert_int_equal(tsr_store_open(fx->path, false, &other), 0);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0202", "issuing"), 0);
	/* Readers are not blocked (WAL), and see only committed rows. */
	assert_int_equal(count(other), 0);
	assert_int_equal(tsr_store_begin(other), TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "database is locked"));
	assert_false(tsr_store_in_transaction(other));
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_int_equal(count(other), 1);
	assert_int_equal(tsr_store_begin(other), 0);
	tsr_store_rollback(other);
	tsr_store_close(other);
}

/* ------------------------------------------------------------------ listing */

struct seen {
	char serials[16][TSR_SERIAL_HEX_MAX + 1];
	int n;
	int stop_after;
};

static int collect(const struct tsr_cert_record *rec, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 16);
	snprintf(s->serials[s->n], sizeof(s->serials[0]), "%s", rec->serial);
	s->n++;
	assert_int_equal(rec->der_len, sizeof(der_bytes));
	return s->stop_after != 0 && s->n == s->stop_after ? 42 : 0;
}

static struct seen list(struct tsr_store *st, const struct tsr_cert_filter *f)
{
	struct seen s = { .n = 0 };

	assert_int_equal(tsr_store_cert_list(st, f, collect, &s), 0);
	return s;
}

static void test_list_filters(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec;
	struct tsr_cert_filter f;
	struct seen s;

	/* issued_at gives the order: 05 newest ... 01 oldest. */
	make_rec(&rec, "01", "epcs", "subscriber", "CN=Alice,O=Example", 1800000000, 1000);
	issue(fx->st, &rec);
	make_rec(&rec, "02", "tls", "subscriber", "CN=www.example,O=Example", 1900000000, 2000);
	issue(fx->st, &rec);
	make_rec(&rec, "03", "", "ocsp", "CN=OCSP Responder", 1850000000, 3000);
	issue(fx->st, &rec);
	make_rec(&rec, "04", "epcs", "subscriber", "CN=ALICE Smith", 2000000000, 4000);
	snprintf(rec.status, sizeof(rec.status), "revoked");
	issue(fx->st, &rec);
	make_rec(&rec, "05", "", "ca", "CN=Issuing CA", 2100000000, 5000);
	snprintf(rec.issuer, sizeof(rec.issuer), "root");
	issue(fx->st, &rec);
	/* A reservation never shows up in a listing. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "06", "issuing"), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_int_equal(count(fx->st), 6);

	s = list(fx->st, NULL);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.serials[0], "05");
	assert_string_equal(s.serials[4], "01");

	f = (struct tsr_cert_filter){ .product = "epcs" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.serials[0], "04");
	assert_string_equal(s.serials[1], "01");

	f = (struct tsr_cert_filter){ .role = "ocsp" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.serials[0], "03");

	f = (struct tsr_cert_filter){ .issuer = "root" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.serials[0], "05");

	f = (struct tsr_cert_filter){ .status = "revoked" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.serials[0], "04");

	/* Case-insensitive substring; % and _ are not wildcards. */
	f = (struct tsr_cert_filter){ .subject_like = "alice" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.serials[0], "04");
	assert_string_equal(s.serials[1], "01");
	f = (struct tsr_cert_filter){ .subject_like = "%" };
	assert_int_equal(list(fx->st, &f).n, 0);
	f = (struct tsr_cert_filter){ .subject_like = "CN=_" };
	assert_int_equal(list(fx->st, &f).n, 0);

	f = (struct tsr_cert_filter){ .expires_before = 1900000000 };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.serials[0], "03");
	assert_string_equal(s.serials[1], "01");

	f = (struct tsr_cert_filter){ .expires_after = 1900000000 };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.serials[0], "05");
	assert_string_equal(s.serials[1], "04");

	f = (struct tsr_cert_filter){ .expires_after = 1800000000, .expires_before = 2000000000,
		.role = "subscriber" };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.serials[0], "02");

	f = (struct tsr_cert_filter){ .limit = 2 };
	s = list(fx->st, &f);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.serials[0], "05");
	assert_string_equal(s.serials[1], "04");

	f = (struct tsr_cert_filter){ .product = "nonesuch" };
	assert_int_equal(list(fx->st, &f).n, 0);

	/* The callback's non-zero return stops the walk and is returned. */
	s = (struct seen){ .stop_after = 3 };
	assert_int_equal(tsr_store_cert_list(fx->st, NULL, collect, &s), 42);
	assert_int_equal(s.n, 3);
}

/* ------------------------------------------------------------------ audit rows */

static void fill_audit(struct tsr_audit_record *r, int64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->time = 1700000000 + seq;
	r->actor = (char *)"cli:alice";
	r->action = (char *)"test.row";
	r->object = (char *)"";
	r->outcome = (char *)"success";
	r->detail = (char *)"row";
	memset(r->prev_hash, '0', 64);
	memset(r->hash, 'a', 64);
}

static int count_audit(const struct tsr_audit_record *rec, void *ctx)
{
	int64_t *n = ctx;

	assert_int_equal(rec->seq, *n + 1);
	(*n)++;
	return 0;
}

static void test_audit_rows(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_record r, last;
	char err[256];
	int64_t n = 0;

	assert_int_equal(tsr_store_audit_last(fx->st, &last), TSR_ERR_NOT_FOUND);
	fill_audit(&r, 1);
	assert_int_equal(tsr_store_audit_insert(fx->st, &r), TSR_ERR_INTERNAL);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_audit_insert(fx->st, &r), 0);
	fill_audit(&r, 3);   /* not last + 1 */
	assert_int_equal(tsr_store_audit_insert(fx->st, &r), TSR_ERR_INTERNAL);
	fill_audit(&r, 1);   /* a duplicate is not last + 1 either */
	assert_int_equal(tsr_store_audit_insert(fx->st, &r), TSR_ERR_INTERNAL);
	fill_audit(&r, 2);
	r.detail = (char *)"second";
	assert_int_equal(tsr_store_audit_insert(fx->st, &r), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);

	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(last.seq, 2);
	assert_int_equal(last.time, 1700000002);
	assert_string_equal(last.actor, "cli:alice");
	assert_string_equal(last.object, "");
	assert_string_equal(last.detail, "second");
	assert_string_equal(last.hash, r.hash);
	tsr_audit_record_clear(&last);
	assert_int_equal(tsr_store_audit_iter(fx->st, count_audit, &n), 0);
	assert_int_equal(n, 2);

	/* The table is append-only even for someone with raw SQL access... */
	assert_int_equal(raw_sql(fx->path, "UPDATE audit SET actor = 'cli:mallory' WHERE seq = 1",
	    err, sizeof(err)), SQLITE_CONSTRAINT);
	assert_non_null(strstr(err, "audit log is append-only"));
	assert_int_equal(raw_sql(fx->path, "DELETE FROM audit WHERE seq = 2", err, sizeof(err)),
	    SQLITE_CONSTRAINT);
	assert_non_null(strstr(err, "audit log is append-only"));
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM audit"), 2);
	assert_int_equal(raw_int(fx->path,
	    "SELECT count(*) FROM audit WHERE actor = 'cli:alice'"), 2);
	/* ...unless they drop the trigger first (what test_audit's tampering tests do). */
	assert_int_equal(raw_sql(fx->path, on_pg() ? "DROP TRIGGER audit_no_delete ON audit; "
	    "DELETE FROM audit WHERE seq = 2" : "DROP TRIGGER audit_no_delete; "
	    "DELETE FROM audit WHERE seq = 2", NULL, 0), SQLITE_OK);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM audit"), 1);
}

/* ------------------------------------------------------------------ migration 2 */

/* The schema as version 1 of Tessera created it, frozen here: a database in
 * the field that must open with this build. */
static const char v1_schema[] =
    "CREATE TABLE schema_migrations("
    "  version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE certificates("
    "  serial TEXT PRIMARY KEY NOT NULL,"
    "  issuer TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK(state IN ('reserved', 'issued')),"
    "  role TEXT, product TEXT, key_type TEXT, status TEXT, fingerprint TEXT,"
    "  not_before INTEGER, not_after INTEGER, issued_at INTEGER,"
    "  subject TEXT, sans TEXT, der BLOB,"
    "  CHECK(state = 'reserved' OR (role IS NOT NULL AND product IS NOT NULL"
    "    AND key_type IS NOT NULL AND status IS NOT NULL AND fingerprint IS NOT NULL"
    "    AND not_before IS NOT NULL AND not_after IS NOT NULL AND issued_at IS NOT NULL"
    "    AND subject IS NOT NULL AND sans IS NOT NULL AND der IS NOT NULL)));"
    "CREATE INDEX certificates_product ON certificates(product);"
    "CREATE INDEX certificates_not_after ON certificates(not_after);"
    "CREATE INDEX certificates_subject ON certificates(subject);"
    "CREATE INDEX certificates_issued_at ON certificates(issued_at);"
    "CREATE TABLE audit("
    "  seq INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
    "  outcome TEXT NOT NULL, detail TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "INSERT INTO schema_migrations VALUES(1, 1700000000);"
    "INSERT INTO meta VALUES('root_serial', '0a1b');"
    "INSERT INTO audit VALUES(1, 1700000000, 'cli:alice', 'ca.init', '', 'success',"
    "  'made in version 1', '0000000000000000000000000000000000000000000000000000000000000000',"
    "  '1111111111111111111111111111111111111111111111111111111111111111');";

static void test_migration_2_on_v1_file(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_record last;
	struct tsr_store *st = NULL;
	struct tsr_user_record u;
	char path[160], *value = NULL;
	sqlite3 *db = NULL;
	int v = -1;

	SQLITE_ONLY();

	snprintf(path, sizeof(path), "%s/v1.db", fx->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'users'"),
	    0);

	/* Every later migration runs, in order. */
	assert_int_equal(tsr_store_open(path, false, &st), 0);
	assert_int_equal(tsr_store_schema_version(st, &v), 0);
	assert_int_equal(v, SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
	    "('users', 'vouchers', 'vouchers_batch')"), 3);
	/* What version 1 wrote is still there. */
	assert_int_equal(tsr_store_meta_get(st, "root_serial", &value), 0);
	assert_string_equal(value, "0a1b");
	free(value);
	assert_int_equal(tsr_store_audit_last(st, &last), 0);
	assert_string_equal(last.detail, "made in version 1");
	tsr_audit_record_clear(&last);
	/* And the new tables work. */
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "alice");
	snprintf(u.roles, sizeof(u.roles), "ra-officer");
	u.password_hash = (char *)"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
	assert_int_equal(tsr_store_user_create(st, &u), 0);
	tsr_store_close(st);

	/* Opening again applies nothing twice. */
	assert_int_equal(tsr_store_open(path, false, &st), 0);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM users"), 1);
	tsr_store_close(st);
}

/* ------------------------------------------------------------------ migration 3 */

/* What migration 2 added, frozen here like v1_schema: with it, a file at
 * version 2 as the previous release left it. */
static const char v2_additions[] =
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT UNIQUE NOT NULL,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  email TEXT NOT NULL DEFAULT '',"
    "  roles TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK(failed_logins >= 0),"
    "  locked INTEGER NOT NULL DEFAULT 0 CHECK(locked IN (0, 1)),"
    "  disabled INTEGER NOT NULL DEFAULT 0 CHECK(disabled IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE vouchers("
    "  code_hash TEXT PRIMARY KEY NOT NULL,"
    "  batch TEXT NOT NULL,"
    "  product TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER,"
    "  used_at INTEGER,"
    "  used_by TEXT,"
    "  revoked_at INTEGER,"
    "  CHECK((used_at IS NULL) = (used_by IS NULL)));"
    "CREATE INDEX vouchers_batch ON vouchers(batch);"
    "CREATE INDEX vouchers_product ON vouchers(product);"
    "INSERT INTO schema_migrations VALUES(2, 1710000000);"
    "INSERT INTO users(name, roles, password_hash, created_at, updated_at)"
    "  VALUES('alice', 'ra-officer', '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA', 1, 1);"
    "INSERT INTO vouchers(code_hash, batch, product, created_at) VALUES("
    "  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'B1', 'epcs', 1);";

/* The tables and indexes migration 3 creates. */
static const char v3_objects[] = "SELECT count(*) FROM sqlite_master WHERE name IN ("
    "'applications', 'answers', 'codes', 'approvals', 'sessions', 'applications_state',"
    " 'applications_email', 'applications_npi', 'applications_dea', 'applications_identity',"
    " 'applications_token_serial', 'applications_created', 'codes_application',"
    " 'sessions_subject')";

static void make_app(struct tsr_app_record *a, const char *id, const char *state,
    const char *email, char identity, int64_t created_at);

static void test_migration_3_on_v2_file(void **state)
{
	struct fx *fx = *state;
	struct tsr_voucher_record v;
	struct tsr_user_record u;
	struct tsr_app_record a, got;
	struct tsr_store *st = NULL;
	char path[160];
	sqlite3 *db = NULL;
	int ver = -1;

	SQLITE_ONLY();

	snprintf(path, sizeof(path), "%s/v2.db", fx->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_additions, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int(path, v3_objects), 0);

	assert_int_equal(tsr_store_open(path, false, &st), 0);
	assert_int_equal(tsr_store_schema_version(st, &ver), 0);
	assert_int_equal(ver, SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(raw_int(path,
	    "SELECT applied_at FROM schema_migrations WHERE version = 2"), 1710000000);
	assert_int_equal(raw_int(path, v3_objects), 14);
	/* What version 2 wrote is still there... */
	assert_int_equal(tsr_store_user_get(st, "alice", &u), 0);
	assert_string_equal(u.roles, "ra-officer");
	tsr_user_record_clear(&u);
	assert_int_equal(tsr_store_voucher_get(st,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &v), 0);
	assert_string_equal(v.batch, "B1");
	/* ...and the new tables work. */
	make_app(&a, "AP-0000-0000-0001", "submitted", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_app_create(st, &a), 0);
	assert_int_equal(tsr_store_app_get(st, "AP-0000-0000-0001", &got), 0);
	tsr_app_record_clear(&got);
	tsr_store_close(st);

	/* Opening again applies nothing twice. */
	assert_int_equal(tsr_store_open(path, false, &st), 0);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM applications"), 1);
	tsr_store_close(st);
}

/* A database made by this build has the same objects. */
static void test_migration_3_fresh(void **state)
{
	struct fx *fx = *state;
	char err[256];

	SQLITE_ONLY();

	assert_int_equal(raw_int(fx->path, v3_objects), 14);
	/* The rows of an application refer to it (for anyone writing raw SQL
	 * with foreign keys on, as Tessera's connections have them). */
	assert_int_equal(raw_sql(fx->path, "PRAGMA foreign_keys = ON;"
	    " INSERT INTO approvals(application, officer, at) VALUES('AP-NONE', 'bob', 1)",
	    err, sizeof(err)), SQLITE_CONSTRAINT);
	assert_non_null(strstr(err, "FOREIGN KEY"));
	assert_int_equal(raw_sql(fx->path, "INSERT INTO codes(code_hash, application, purpose,"
	    " created_at, expires_at) VALUES('x', 'AP-NONE', 'voucher', 1, 2)", err, sizeof(err)),
	    SQLITE_CONSTRAINT);
	assert_non_null(strstr(err, "CHECK"));
}

/* ------------------------------------------------------------------ applications */

#define PW_HASH "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"

/* A hash-like value: 64 copies of the lower-case hex digit c. */
static const char *hex64(char c)
{
	static char buf[8][65];
	static unsigned next;
	char *h = buf[next++ % 8];

	memset(h, c, 64);
	h[64] = '\0';
	return h;
}

static void make_app(struct tsr_app_record *a, const char *id, const char *state,
    const char *email, char identity, int64_t created_at)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->product, sizeof(a->product), "epcs");
	snprintf(a->storage, sizeof(a->storage), "new-token");
	snprintf(a->state, sizeof(a->state), "%s", state);
	a->state_since = created_at;
	a->created_at = created_at;
	a->updated_at = created_at;
	a->email = (char *)email;
	a->npi = (char *)"";
	a->dea = (char *)"";
	a->identity = (char *)hex64(identity);
	a->applicant = (char *)"{\"given_name\":\"Alice\"}";
	a->agreement = (char *)"2024-01";
	a->password_hash = (char *)PW_HASH;
	a->checks = (char *)"";
	a->reason = (char *)"";
}

static void test_app_create_get(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record a, got;

	make_app(&a, "AP-AAAA-BBBB-CCCC", "submitted", "Alice@Example.org", '3', 1700000000);
	a.npi = (char *)"1234567893";
	a.dea = (char *)"AB1234563";
	a.failed_logins = 2;
	a.locked = true;
	snprintf(a.token_serial, sizeof(a.token_serial), "TK-0001");
	a.checks = (char *)"{\"npi\":\"ok\"}";
	a.reason = (char *)"it's fine; DROP TABLE applications; --";
	a.state_since = 1700000100;
	a.updated_at = 1700000200;
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_EXISTS);
	assert_non_null(strstr(tsr_error_detail(), "AP-AAAA-BBBB-CCCC already exists"));

	assert_int_equal(tsr_store_app_get(fx->st, "AP-AAAA-BBBB-CCCC", &got), 0);
	assert_string_equal(got.id, "AP-AAAA-BBBB-CCCC");
	assert_string_equal(got.product, "epcs");
	assert_string_equal(got.storage, "new-token");
	assert_string_equal(got.state, "submitted");
	assert_int_equal(got.state_since, 1700000100);
	assert_int_equal(got.created_at, 1700000000);
	assert_int_equal(got.updated_at, 1700000200);
	assert_string_equal(got.email, "Alice@Example.org");
	assert_string_equal(got.npi, "1234567893");
	assert_string_equal(got.dea, "AB1234563");
	assert_string_equal(got.identity, hex64('3'));
	assert_string_equal(got.applicant, "{\"given_name\":\"Alice\"}");
	assert_string_equal(got.agreement, "2024-01");
	assert_string_equal(got.password_hash, PW_HASH);
	assert_int_equal(got.failed_logins, 2);
	assert_true(got.locked);
	assert_string_equal(got.token_serial, "TK-0001");
	assert_string_equal(got.checks, "{\"npi\":\"ok\"}");
	assert_string_equal(got.reason, "it's fine; DROP TABLE applications; --");
	tsr_app_record_clear(&got);
	assert_null(got.password_hash);
	assert_null(got.email);
	assert_string_equal(got.id, "");

	/* Ids are exact: no case folding, no prefix match. */
	assert_int_equal(tsr_store_app_get(fx->st, "ap-aaaa-bbbb-cccc", &got), TSR_ERR_NOT_FOUND);
	assert_null(got.email);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-AAAA", &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-AAAA-BBBB-CCCC' OR '1'='1", &got),
	    TSR_ERR_INVALID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM applications"), 1);
}

static void test_app_create_invalid(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record a, got;

	assert_int_equal(tsr_store_app_create(fx->st, NULL), TSR_ERR_INVALID);
	/* Each broken in one way. */
	make_app(&a, "", "submitted", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	memset(a.id, 'X', sizeof(a.id));                 /* not terminated */
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", NULL, '1', 1000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "", '1', 1000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	a.npi = NULL;                                     /* "" if none, not NULL */
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	a.password_hash = (char *)"";
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	a.checks = NULL;
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", 'A', 1000); /* upper-case hex */
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "identity has 64 lower-case hex digits"));
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	a.identity = (char *)"abc";
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	a.failed_logins = -1;
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 0);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_INVALID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM applications"), 0);

	/* The longest id fits; one more character does not. */
	make_app(&a, "AP-123456789012345678901", "submitted", "a@example.org", '1', 1000);
	assert_int_equal(strlen(a.id), TSR_APP_ID_MAX);
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1234567890123456789012", &got),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_get(fx->st, NULL, &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_get(fx->st, "", &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", NULL), TSR_ERR_INVALID);
}

struct ids {
	char id[8][TSR_APP_ID_MAX + 1];
	int n;
	int stop_after;
};

static int collect_ids(const struct tsr_app_record *a, void *ctx)
{
	struct ids *s = ctx;

	assert_true(s->n < 8);
	assert_string_equal(a->password_hash, PW_HASH);  /* whole records */
	snprintf(s->id[s->n], sizeof(s->id[0]), "%s", a->id);
	s->n++;
	return s->stop_after != 0 && s->n == s->stop_after ? 7 : 0;
}

/* The ids f lists, joined by spaces. */
static const char *list_ids(struct tsr_store *st, const struct tsr_app_filter *f)
{
	static char out[8 * (TSR_APP_ID_MAX + 1) + 1];
	struct ids s = { .n = 0 };

	assert_int_equal(tsr_store_app_list(st, f, collect_ids, &s), 0);
	out[0] = '\0';
	for (int i = 0; i < s.n; i++) {
		strcat(out, i > 0 ? " " : "");
		strcat(out, s.id[i]);
	}
	return out;
}

static void test_app_list(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record a;
	struct tsr_app_filter f;
	struct ids s;

	/* Created in the order A3, A2, A1 (A2 and A1 in the same second: the
	 * one stored first comes first), A4, A5. */
	make_app(&a, "A3", "submitted", "carol@example.org", '3', 100);
	a.state_since = 500;
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	make_app(&a, "A2", "under_review", "Alice@Example.org", '1', 200);
	a.npi = (char *)"1234567893";
	a.state_since = 300;
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	make_app(&a, "A1", "under_review", "bob@example.org", '2', 200);
	a.dea = (char *)"AB1234563";
	a.state_since = 250;
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	make_app(&a, "A4", "under_review", "alice@example.org", '1', 400);
	snprintf(a.product, sizeof(a.product), "code-signing");
	a.state_since = 450;
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	make_app(&a, "A5", "approved", "dave@example.org", '4', 500);
	a.npi = (char *)"1234567893";
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);

	assert_string_equal(list_ids(fx->st, NULL), "A3 A2 A1 A4 A5");
	f = (struct tsr_app_filter){ .state = "under_review" };
	assert_string_equal(list_ids(fx->st, &f), "A2 A1 A4");
	f = (struct tsr_app_filter){ .state = "under" };
	assert_string_equal(list_ids(fx->st, &f), "");
	f = (struct tsr_app_filter){ .product = "code-signing" };
	assert_string_equal(list_ids(fx->st, &f), "A4");
	/* Email: exact but case-insensitive. */
	f = (struct tsr_app_filter){ .email = "ALICE@example.ORG" };
	assert_string_equal(list_ids(fx->st, &f), "A2 A4");
	f = (struct tsr_app_filter){ .email = "alice@example" };
	assert_string_equal(list_ids(fx->st, &f), "");
	f = (struct tsr_app_filter){ .email = "%" };
	assert_string_equal(list_ids(fx->st, &f), "");
	f = (struct tsr_app_filter){ .npi = "1234567893" };
	assert_string_equal(list_ids(fx->st, &f), "A2 A5");
	f = (struct tsr_app_filter){ .dea = "AB1234563" };
	assert_string_equal(list_ids(fx->st, &f), "A1");
	f = (struct tsr_app_filter){ .dea = "ab1234563" };
	assert_string_equal(list_ids(fx->st, &f), "");
	f = (struct tsr_app_filter){ .identity = hex64('1') };
	assert_string_equal(list_ids(fx->st, &f), "A2 A4");
	/* state_before is strict. */
	f = (struct tsr_app_filter){ .state_before = 450 };
	assert_string_equal(list_ids(fx->st, &f), "A2 A1");
	f = (struct tsr_app_filter){ .state_before = 451 };
	assert_string_equal(list_ids(fx->st, &f), "A2 A1 A4");
	/* Filters combine. */
	f = (struct tsr_app_filter){ .state = "under_review", .identity = hex64('1'),
		.state_before = 1000 };
	assert_string_equal(list_ids(fx->st, &f), "A2 A4");
	f = (struct tsr_app_filter){ .state = "under_review", .product = "epcs",
		.email = "alice@example.org", .npi = "1234567893", .dea = "",
		.identity = hex64('1'), .state_before = 301 };
	assert_string_equal(list_ids(fx->st, &f), "A2");
	f = (struct tsr_app_filter){ .state = "approved", .product = "code-signing" };
	assert_string_equal(list_ids(fx->st, &f), "");
	/* Token serials: exact. */
	{
		struct tsr_app_update upd = TSR_APP_UPDATE_NONE;

		upd.token_serial = "YK-42";
		assert_int_equal(tsr_store_app_update(fx->st, "A1", &upd, 600), 0);
		f = (struct tsr_app_filter){ .token_serial = "YK-42" };
		assert_string_equal(list_ids(fx->st, &f), "A1");
		f = (struct tsr_app_filter){ .token_serial = "yk-42" };
		assert_string_equal(list_ids(fx->st, &f), "");
		upd.token_serial = "";
		assert_int_equal(tsr_store_app_update(fx->st, "A1", &upd, 600), 0);
	}
	/* Limit keeps the first rows of the order. */
	f = (struct tsr_app_filter){ .limit = 2 };
	assert_string_equal(list_ids(fx->st, &f), "A3 A2");
	f = (struct tsr_app_filter){ .state = "under_review", .limit = 1 };
	assert_string_equal(list_ids(fx->st, &f), "A2");

	/* The callback's non-zero return stops the walk and is returned. */
	s = (struct ids){ .stop_after = 2 };
	assert_int_equal(tsr_store_app_list(fx->st, NULL, collect_ids, &s), 7);
	assert_int_equal(s.n, 2);
	assert_int_equal(tsr_store_app_list(fx->st, NULL, NULL, NULL), TSR_ERR_INVALID);
}

static void test_app_update(void **state)
{
	struct tsr_app_update u = TSR_APP_UPDATE_NONE;
	struct fx *fx = *state;
	struct tsr_app_record a, got;

	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	snprintf(a.token_serial, sizeof(a.token_serial), "TK-9");
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);

	/* A change of state with the state the caller read. */
	u.expect_state = "submitted";
	u.state = "email_verified";
	u.checks = "{\"email\":\"ok\"}";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 2000), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_string_equal(got.state, "email_verified");
	assert_int_equal(got.state_since, 2000);
	assert_int_equal(got.updated_at, 2000);
	assert_int_equal(got.created_at, 1000);
	assert_string_equal(got.checks, "{\"email\":\"ok\"}");
	assert_string_equal(got.token_serial, "TK-9");
	assert_string_equal(got.password_hash, PW_HASH);
	assert_int_equal(got.failed_logins, 0);
	assert_false(got.locked);
	tsr_app_record_clear(&got);

	/* Someone else moved it on since: nothing changes. */
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 3000), TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "the application changed meanwhile");
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_string_equal(got.state, "email_verified");
	assert_int_equal(got.updated_at, 2000);
	tsr_app_record_clear(&got);
	assert_int_equal(tsr_store_app_update(fx->st, "AP-2", &u, 3000), TSR_ERR_NOT_FOUND);

	/* Without a state, state_since stays; "" clears the token serial. */
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	u.failed_logins = 5;
	u.locked = 1;
	u.password_hash = "$argon2id$v=19$m=8,t=1,p=1$bmV3$bmV3";
	u.token_serial = "";
	u.reason = "too many tries";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 4000), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_string_equal(got.state, "email_verified");
	assert_int_equal(got.state_since, 2000);
	assert_int_equal(got.updated_at, 4000);
	assert_int_equal(got.failed_logins, 5);
	assert_true(got.locked);
	assert_string_equal(got.password_hash, "$argon2id$v=19$m=8,t=1,p=1$bmV3$bmV3");
	assert_string_equal(got.token_serial, "");
	assert_string_equal(got.reason, "too many tries");
	assert_string_equal(got.checks, "{\"email\":\"ok\"}");
	tsr_app_record_clear(&got);
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	u.failed_logins = 0;
	u.locked = 0;
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 4500), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_int_equal(got.failed_logins, 0);
	assert_false(got.locked);
	tsr_app_record_clear(&got);
	/* An update that changes nothing but the time still needs the row. */
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	assert_int_equal(tsr_store_app_update(fx->st, "AP-2", &u, 5000), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), 0);

	/* Out of range. */
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", NULL, 5000), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 0), TSR_ERR_INVALID);
	u.locked = 2;
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), TSR_ERR_INVALID);
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	u.failed_logins = -2;
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), TSR_ERR_INVALID);
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	u.state = "";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), TSR_ERR_INVALID);
	u.state = "a_state_name_of_25_chars_";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), TSR_ERR_INVALID);
	u = (struct tsr_app_update)TSR_APP_UPDATE_NONE;
	u.expect_state = "";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-1", &u, 5000), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_update(fx->st, "", &u, 5000), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_int_equal(got.updated_at, 5000);
	tsr_app_record_clear(&got);
}

/* ------------------------------------------------------------------ answers */

struct answers {
	char text[256];
	int stop_after;
	int n;
};

static int collect_answers(const struct tsr_answer_record *a, void *ctx)
{
	struct answers *s = ctx;
	char one[64];

	snprintf(one, sizeof(one), "%s%d=%s/%s", s->n > 0 ? " " : "", a->idx, a->question,
	    a->answer_hash);
	strcat(s->text, one);
	s->n++;
	return s->stop_after != 0 && s->n == s->stop_after ? 9 : 0;
}

static void test_answers(void **state)
{
	struct fx *fx = *state;
	struct tsr_answer_record ans = { 2, (char *)"Pet?", (char *)"h2" };
	struct tsr_app_record a;
	struct answers s = { .n = 0 };
	char question[TSR_QUESTION_MAX + 2];

	/* Added with the application, in one transaction, in any order. */
	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), 0);
	ans = (struct tsr_answer_record){ 0, (char *)"City?", (char *)"h0" };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), 0);
	ans = (struct tsr_answer_record){ 1, (char *)"Car?", (char *)"h1" };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), 0);
	ans = (struct tsr_answer_record){ 1, (char *)"Other?", (char *)"hx" };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), TSR_ERR_EXISTS);
	assert_true(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_commit(fx->st), 0);

	assert_int_equal(tsr_store_answer_list(fx->st, "AP-1", collect_answers, &s), 0);
	assert_string_equal(s.text, "0=City?/h0 1=Car?/h1 2=Pet?/h2");
	s = (struct answers){ .stop_after = 1 };
	assert_int_equal(tsr_store_answer_list(fx->st, "AP-1", collect_answers, &s), 9);
	assert_string_equal(s.text, "0=City?/h0");
	s = (struct answers){ .n = 0 };
	assert_int_equal(tsr_store_answer_list(fx->st, "AP-2", collect_answers, &s), 0);
	assert_int_equal(s.n, 0);

	/* No such application. */
	ans = (struct tsr_answer_record){ 0, (char *)"City?", (char *)"h0" };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-2", &ans), TSR_ERR_NOT_FOUND);
	assert_non_null(strstr(tsr_error_detail(), "no application AP-2"));
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM answers"), 3);

	/* A rollback takes the answers with the application. */
	make_app(&a, "AP-3", "submitted", "c@example.org", '3', 1000);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-3", &ans), 0);
	tsr_store_rollback(fx->st);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM answers"), 3);

	/* Out of range. */
	memset(question, 'q', sizeof(question) - 1);
	question[sizeof(question) - 1] = '\0';
	ans.question = question;                    /* TSR_QUESTION_MAX + 1 bytes */
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), TSR_ERR_INVALID);
	question[TSR_QUESTION_MAX] = '\0';
	ans.idx = 3;
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), 0);
	ans.question = (char *)"";
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), TSR_ERR_INVALID);
	ans = (struct tsr_answer_record){ -1, (char *)"City?", (char *)"h0" };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), TSR_ERR_INVALID);
	ans = (struct tsr_answer_record){ 4, (char *)"City?", NULL };
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &ans), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_answer_add(fx->st, "", &ans), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_answer_list(fx->st, "AP-1", NULL, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_answer_list(fx->st, NULL, collect_answers, &s),
	    TSR_ERR_INVALID);
}

/* ------------------------------------------------------------------ codes */

static void make_code(struct tsr_code_record *c, char hash, const char *app,
    const char *purpose, int64_t created_at, int64_t expires_at)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->code_hash, sizeof(c->code_hash), "%s", hex64(hash));
	snprintf(c->application, sizeof(c->application), "%s", app);
	snprintf(c->purpose, sizeof(c->purpose), "%s", purpose);
	c->created_at = created_at;
	c->expires_at = expires_at;
}

static void create_app(struct tsr_store *st, const char *id)
{
	struct tsr_app_record a;

	make_app(&a, id, "submitted", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_app_create(st, &a), 0);
}

/* The hash of the current code of app for purpose, or "" if none. */
static const char *current(struct tsr_store *st, const char *app, const char *purpose)
{
	static struct tsr_code_record c;
	int r = tsr_store_code_current(st, app, purpose, &c);

	assert_true(r == 0 || r == TSR_ERR_NOT_FOUND);
	return r == 0 ? c.code_hash : "";
}

static void test_code_supersede(void **state)
{
	struct fx *fx = *state;
	struct tsr_code_record c, got;

	create_app(fx->st, "AP-1");
	create_app(fx->st, "AP-2");
	assert_string_equal(current(fx->st, "AP-1", "verification"), "");

	make_code(&c, 'a', "AP-1", "verification", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('a'));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &got), 0);
	assert_string_equal(got.application, "AP-1");
	assert_string_equal(got.purpose, "verification");
	assert_int_equal(got.created_at, 1000);
	assert_int_equal(got.expires_at, 2000);
	assert_int_equal(got.used_at, 0);
	assert_int_equal(got.superseded_at, 0);
	assert_int_equal(got.failures, 0);
	assert_false(got.locked);

	/* Other applications and purposes are not touched by a new code. */
	make_code(&c, 'c', "AP-1", "activation", 1050, 9000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	make_code(&c, 'd', "AP-2", "verification", 1060, 9000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);

	/* A new verification code replaces the old one, at its own time. */
	make_code(&c, 'b', "AP-1", "verification", 1100, 2100);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('b'));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &got), 0);
	assert_int_equal(got.superseded_at, 1100);
	assert_string_equal(current(fx->st, "AP-1", "activation"), hex64('c'));
	assert_string_equal(current(fx->st, "AP-2", "verification"), hex64('d'));
	assert_int_equal(tsr_store_code_use(fx->st, hex64('a'), 1500), TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "the code was replaced by a newer code");

	/* A used code is not superseded; the newer one becomes current. */
	assert_int_equal(tsr_store_code_use(fx->st, hex64('b'), 1200), 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('b'));
	make_code(&c, 'e', "AP-1", "verification", 1300, 2300);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('b'), &got), 0);
	assert_int_equal(got.used_at, 1200);
	assert_int_equal(got.superseded_at, 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('e'));
	/* Two codes in the same second: the later insert is current. */
	make_code(&c, 'f', "AP-1", "verification", 1300, 2300);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('f'));
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM codes WHERE application = 'AP-1'"
	    " AND purpose = 'verification' AND superseded_at IS NULL AND used_at IS NULL"), 1);
}

static void test_code_insert_atomic(void **state)
{
	struct fx *fx = *state;
	struct tsr_code_record c, got;

	create_app(fx->st, "AP-1");
	make_code(&c, 'a', "AP-1", "verification", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);

	/* A hash already stored: refused, and the current code stays current. */
	make_code(&c, 'a', "AP-1", "verification", 1100, 2100);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_EXISTS);
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &got), 0);
	assert_int_equal(got.superseded_at, 0);
	assert_int_equal(got.created_at, 1000);

	/* No such application. */
	make_code(&c, 'b', "AP-9", "verification", 1100, 2100);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_NOT_FOUND);
	assert_non_null(strstr(tsr_error_detail(), "no application AP-9"));
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM codes"), 1);

	/* Inside the caller's transaction: a failed insert leaves the
	 * transaction open and its earlier work in place... */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	create_app(fx->st, "AP-2");
	make_code(&c, 'a', "AP-2", "verification", 1100, 2100);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_EXISTS);
	assert_true(tsr_store_in_transaction(fx->st));
	make_code(&c, 'b', "AP-1", "verification", 1200, 2200);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_true(tsr_store_in_transaction(fx->st));
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('b'));
	/* ...and a rollback undoes the supersede with the insert. */
	tsr_store_rollback(fx->st);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('a'));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('b'), &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM applications"), 1);

	/* Committed with the caller's transaction. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_string_equal(current(fx->st, "AP-1", "verification"), hex64('b'));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &got), 0);
	assert_int_equal(got.superseded_at, 1200);
}

static void test_code_use(void **state)
{
	struct fx *fx = *state;
	struct tsr_code_record c, got;

	create_app(fx->st, "AP-1");
	create_app(fx->st, "AP-2");
	make_code(&c, 'a', "AP-1", "verification", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	make_code(&c, 'b', "AP-1", "activation", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	make_code(&c, 'c', "AP-2", "activation", 1000, 5000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);

	/* Used once; the second use is refused and changes nothing. */
	assert_int_equal(tsr_store_code_use(fx->st, hex64('a'), 1999), 0);
	assert_int_equal(tsr_store_code_use(fx->st, hex64('a'), 1999), TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "the code was already used");
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &got), 0);
	assert_int_equal(got.used_at, 1999);

	/* Expired at expires_at exactly. */
	assert_int_equal(tsr_store_code_use(fx->st, hex64('b'), 2000), TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "the code has expired");
	assert_int_equal(tsr_store_code_get(fx->st, hex64('b'), &got), 0);
	assert_int_equal(got.used_at, 0);

	/* Locked after failures, usable again once unlocked. */
	assert_int_equal(tsr_store_code_set_failures(fx->st, hex64('c'), 2, false), 0);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('c'), &got), 0);
	assert_int_equal(got.failures, 2);
	assert_false(got.locked);
	assert_int_equal(tsr_store_code_set_failures(fx->st, hex64('c'), 3, true), 0);
	assert_int_equal(tsr_store_code_use(fx->st, hex64('c'), 1500), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "the code is locked"));
	assert_int_equal(tsr_store_code_get(fx->st, hex64('c'), &got), 0);
	assert_int_equal(got.failures, 3);
	assert_true(got.locked);
	assert_int_equal(got.used_at, 0);
	assert_int_equal(tsr_store_code_set_failures(fx->st, hex64('c'), 0, false), 0);
	assert_int_equal(tsr_store_code_use(fx->st, hex64('c'), 1500), 0);

	/* Unknown. */
	assert_int_equal(tsr_store_code_use(fx->st, hex64('9'), 1500), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('9'), &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_code_set_failures(fx->st, hex64('9'), 1, false),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_code_current(fx->st, "AP-9", "activation", &got),
	    TSR_ERR_NOT_FOUND);

	/* Out of range. */
	make_code(&c, 'd', "AP-1", "voucher", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_INVALID);
	make_code(&c, 'd', "AP-1", "verification", 2000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_INVALID);
	make_code(&c, 'd', "AP-1", "verification", 0, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_INVALID);
	make_code(&c, 'D', "AP-1", "verification", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_INVALID);
	make_code(&c, 'd', "", "verification", 1000, 2000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_insert(fx->st, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_use(fx->st, "abc", 1500), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_use(fx->st, hex64('c'), 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_get(fx->st, NULL, &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('c'), NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_set_failures(fx->st, hex64('c'), -1, false),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_current(fx->st, "AP-1", "Verification", &got),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_current(fx->st, "AP-1", NULL, &got), TSR_ERR_INVALID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM codes"), 3);
}

/* ------------------------------------------------------------------ approvals */

static int collect_approvals(const struct tsr_approval_record *a, void *ctx)
{
	char *out = ctx, one[96];

	snprintf(one, sizeof(one), "%s%s@%lld:%s", *out != '\0' ? " " : "", a->officer,
	    (long long)a->at, a->comment);
	strcat(out, one);
	return 0;
}

static void test_approvals(void **state)
{
	struct fx *fx = *state;
	struct tsr_approval_record a = { "AP-1", "bob", 300, (char *)"checked the NPI" };
	char out[256] = "";

	create_app(fx->st, "AP-1");
	create_app(fx->st, "AP-2");
	assert_int_equal(tsr_store_approval_add(fx->st, &a), 0);
	a = (struct tsr_approval_record){ "AP-1", "carol", 100, NULL };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), 0);
	a = (struct tsr_approval_record){ "AP-2", "bob", 200, (char *)"" };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), 0);
	/* The same officer twice: refused by the unique constraint. */
	a = (struct tsr_approval_record){ "AP-1", "bob", 400, (char *)"again" };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_EXISTS);
	assert_non_null(strstr(tsr_error_detail(), "bob already approved application AP-1"));
	a = (struct tsr_approval_record){ "AP-9", "dave", 400, NULL };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_NOT_FOUND);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM approvals"), 3);

	assert_int_equal(tsr_store_approval_list(fx->st, "AP-1", collect_approvals, out), 0);
	assert_string_equal(out, "carol@100: bob@300:checked the NPI");
	out[0] = '\0';
	assert_int_equal(tsr_store_approval_list(fx->st, "AP-9", collect_approvals, out), 0);
	assert_string_equal(out, "");

	/* Out of range. */
	a = (struct tsr_approval_record){ "AP-1", "", 400, NULL };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_INVALID);
	a = (struct tsr_approval_record){ "AP-1", "dave", 0, NULL };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_INVALID);
	a = (struct tsr_approval_record){ "", "dave", 400, NULL };
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_INVALID);
	memset(a.officer, 'o', sizeof(a.officer));        /* not terminated */
	assert_int_equal(tsr_store_approval_add(fx->st, &a), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_approval_add(fx->st, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_approval_list(fx->st, "AP-1", NULL, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_approval_list(fx->st, "", collect_approvals, out),
	    TSR_ERR_INVALID);
}

/* ------------------------------------------------------------------ sessions */

static void make_session(struct tsr_session_record *s, char hash, const char *subject,
    int64_t created_at, int64_t expires_at)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->token_hash, sizeof(s->token_hash), "%s", hex64(hash));
	snprintf(s->subject, sizeof(s->subject), "%s", subject);
	s->created_at = created_at;
	s->last_seen = created_at;
	s->expires_at = expires_at;
}

static void test_sessions(void **state)
{
	struct fx *fx = *state;
	struct tsr_session_record s, got;
	int64_t n = -1;

	make_session(&s, '1', "officer:alice", 1000, 5000);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_EXISTS);
	make_session(&s, '2', "officer:alice", 1100, 5100);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	make_session(&s, '3', "applicant:AP-1", 1200, 5200);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);

	assert_int_equal(tsr_store_session_get(fx->st, hex64('1'), &got), 0);
	assert_string_equal(got.token_hash, hex64('1'));
	assert_string_equal(got.subject, "officer:alice");
	assert_int_equal(got.created_at, 1000);
	assert_int_equal(got.last_seen, 1000);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(tsr_store_session_touch(fx->st, hex64('1'), 1500), 0);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('1'), &got), 0);
	assert_int_equal(got.last_seen, 1500);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('9'), &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_session_touch(fx->st, hex64('9'), 1500), TSR_ERR_NOT_FOUND);

	assert_int_equal(tsr_store_session_delete(fx->st, hex64('3')), 0);
	assert_int_equal(tsr_store_session_delete(fx->st, hex64('3')), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('3'), &got), TSR_ERR_NOT_FOUND);
	/* Log out everywhere: only that subject's sessions. */
	make_session(&s, '4', "officer:alicia", 1200, 5200);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	assert_int_equal(tsr_store_session_delete_subject(fx->st, "officer:alice", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tsr_store_session_delete_subject(fx->st, "officer:alice", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tsr_store_session_delete_subject(fx->st, "officer:alice", NULL), 0);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('4'), &got), 0);

	/* Out of range. */
	make_session(&s, 'A', "officer:bob", 1000, 5000);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_INVALID);
	make_session(&s, '5', "", 1000, 5000);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_INVALID);
	make_session(&s, '5', "officer:bob", 1000, 1000);
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_INVALID);
	make_session(&s, '5', "officer:bob", 1000, 5000);
	s.last_seen = 999;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_INVALID);
	memset(s.subject, 's', sizeof(s.subject));        /* not terminated */
	s.last_seen = 1000;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_insert(fx->st, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_get(fx->st, "", &got), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('4'), NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_touch(fx->st, hex64('4'), 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_delete(fx->st, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_delete_subject(fx->st, "", &n), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_delete_subject(fx->st,
	    "applicant:AP-0000000000000000000000000000000000000000000000000000000", &n),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_session_purge(fx->st, 0, 0, &n), TSR_ERR_INVALID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM sessions"), 1);
}

static void test_session_purge(void **state)
{
	struct fx *fx = *state;
	struct tsr_session_record s, got;
	int64_t n = -1;

	make_session(&s, '1', "officer:a", 1000, 3000);   /* ends at 3000 */
	s.last_seen = 2900;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	make_session(&s, '2', "officer:b", 1000, 9000);   /* idle since 2000 */
	s.last_seen = 2000;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	make_session(&s, '3', "officer:c", 1000, 9000);   /* seen at 2001 */
	s.last_seen = 2001;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);
	make_session(&s, '4', "officer:d", 1000, 3001);   /* ends at 3001 */
	s.last_seen = 2900;
	assert_int_equal(tsr_store_session_insert(fx->st, &s), 0);

	/* Idle only: last_seen <= idle_before. */
	assert_int_equal(tsr_store_session_purge(fx->st, 2999, 2000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('2'), &got), TSR_ERR_NOT_FOUND);
	/* Expiry: expires_at <= now, whatever the activity (an idle limit
	 * before every session, even a negative one, purges no idle ones). */
	assert_int_equal(tsr_store_session_purge(fx->st, 3000, -100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('1'), &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('3'), &got), 0);
	assert_int_equal(tsr_store_session_get(fx->st, hex64('4'), &got), 0);
	/* Both at once; nothing left to do afterwards. */
	assert_int_equal(tsr_store_session_purge(fx->st, 3001, 2001, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tsr_store_session_purge(fx->st, 9999, 9999, NULL), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM sessions"), 0);
}

/* ------------------------------------------------------------------ record clears */

/* Heap members come back from the store, and the clears release them
 * (ASan's leak check covers what this cannot see). */
static void test_record_clears(void **state)
{
	struct fx *fx = *state;
	struct tsr_approval_record ap = { "AP-1", "bob", 300, (char *)"ok" };
	struct tsr_answer_record an = { 0, (char *)"Q?", (char *)"$argon2id$answer" };
	struct tsr_app_record a, got;

	make_app(&a, "AP-1", "submitted", "a@example.org", '1', 1000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_answer_add(fx->st, "AP-1", &an), 0);
	assert_int_equal(tsr_store_approval_add(fx->st, &ap), 0);

	assert_int_equal(tsr_store_app_get(fx->st, "AP-1", &got), 0);
	assert_non_null(got.password_hash);
	tsr_app_record_clear(&got);
	assert_null(got.email);
	assert_null(got.npi);
	assert_null(got.dea);
	assert_null(got.identity);
	assert_null(got.applicant);
	assert_null(got.agreement);
	assert_null(got.password_hash);
	assert_null(got.checks);
	assert_null(got.reason);
	assert_int_equal(got.created_at, 0);
	tsr_app_record_clear(&got);   /* twice is harmless */
	tsr_app_record_clear(NULL);

	an = (struct tsr_answer_record){ 0, NULL, NULL };
	an.question = strdup("Q?");
	an.answer_hash = strdup("$argon2id$answer");
	assert_non_null(an.question);
	assert_non_null(an.answer_hash);
	tsr_answer_record_clear(&an);
	assert_null(an.question);
	assert_null(an.answer_hash);
	tsr_answer_record_clear(NULL);

	ap.comment = strdup("a comment");
	assert_non_null(ap.comment);
	tsr_approval_record_clear(&ap);
	assert_null(ap.comment);
	assert_string_equal(ap.officer, "");
	tsr_approval_record_clear(NULL);
}

/* ------------------------------------------------------------------ users */

static void make_user(struct tsr_user_record *u, const char *name, const char *roles)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->roles, sizeof(u->roles), "%s", roles);
	u->display_name = (char *)"Alice Example";
	u->password_hash = (char *)"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
}

static int collect_names(const struct tsr_user_record *u, void *ctx)
{
	char *names = ctx;

	strcat(names, u->name);
	strcat(names, " ");
	return 0;
}

static void test_users(void **state)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;
	struct fx *fx = *state;
	struct tsr_user_record u, got;
	char names[128] = "";

	make_user(&u, "carol", "auditor");
	assert_int_equal(tsr_store_user_create(fx->st, &u), 0);
	make_user(&u, "alice", "ra-officer,ca-admin");
	assert_int_equal(tsr_store_user_create(fx->st, &u), 0);
	assert_int_equal(tsr_store_user_create(fx->st, &u), TSR_ERR_EXISTS);
	assert_non_null(strstr(tsr_error_detail(), "'alice' already exists"));
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM users"), 2);

	assert_int_equal(tsr_store_user_get(fx->st, "alice", &got), 0);
	assert_string_equal(got.roles, "ra-officer,ca-admin");
	assert_string_equal(got.display_name, "Alice Example");
	assert_string_equal(got.email, "");
	assert_string_equal(got.password_hash, u.password_hash);
	assert_int_equal(got.failed_logins, 0);
	assert_false(got.locked);
	assert_false(got.disabled);
	assert_true(got.created_at > 0 && got.updated_at == got.created_at);
	tsr_user_record_clear(&got);
	assert_int_equal(tsr_store_user_get(fx->st, "bob", &got), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_user_get(fx->st, "", &got), TSR_ERR_INVALID);

	assert_int_equal(tsr_store_user_list(fx->st, collect_names, names), 0);
	assert_string_equal(names, "alice carol ");

	/* An update changes only what it names. */
	upd.failed_logins = 3;
	upd.locked = 1;
	assert_int_equal(tsr_store_user_update(fx->st, "alice", &upd), 0);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &got), 0);
	assert_int_equal(got.failed_logins, 3);
	assert_true(got.locked);
	assert_false(got.disabled);
	assert_string_equal(got.roles, "ra-officer,ca-admin");
	tsr_user_record_clear(&got);
	upd = (struct tsr_user_update)TSR_USER_UPDATE_NONE;
	upd.roles = "auditor";
	upd.disabled = 1;
	assert_int_equal(tsr_store_user_update(fx->st, "alice", &upd), 0);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &got), 0);
	assert_string_equal(got.roles, "auditor");
	assert_true(got.disabled && got.locked);
	assert_int_equal(got.failed_logins, 3);
	tsr_user_record_clear(&got);
	assert_int_equal(tsr_store_user_update(fx->st, "bob", &upd), TSR_ERR_NOT_FOUND);
	upd.locked = 2;
	assert_int_equal(tsr_store_user_update(fx->st, "alice", &upd), TSR_ERR_INVALID);
}

/* ------------------------------------------------------------------ vouchers */

static void make_voucher(struct tsr_voucher_record *v, char hex, const char *batch,
    const char *product, int64_t expires_at)
{
	memset(v, 0, sizeof(*v));
	memset(v->code_hash, hex, 64);
	snprintf(v->batch, sizeof(v->batch), "%s", batch);
	snprintf(v->product, sizeof(v->product), "%s", product);
	v->created_at = 1700000000;
	v->expires_at = expires_at;
}

static int count_vouchers(const struct tsr_voucher_record *v, void *ctx)
{
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static void test_voucher_consume(void **state)
{
	struct fx *fx = *state;
	struct tsr_voucher_record v;
	struct tsr_voucher_filter f = { "B1", NULL };
	char a[65], b[65], c[65], d[65];
	int64_t n = -1;
	int rows = 0;

	make_voucher(&v, 'a', "B1", "epcs", 0);
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), 0);
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), TSR_ERR_EXISTS);
	memcpy(a, v.code_hash, 65);
	make_voucher(&v, 'b', "B1", "epcs", 1700001000);
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), 0);
	memcpy(b, v.code_hash, 65);
	make_voucher(&v, 'c', "B1", "epcs", 0);
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), 0);
	memcpy(c, v.code_hash, 65);
	make_voucher(&v, 'd', "B2", "code-signing", 0);
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), 0);
	memcpy(d, v.code_hash, 65);
	make_voucher(&v, 'A', "B2", "code-signing", 0);  /* not lower-case hex */
	assert_int_equal(tsr_store_voucher_insert(fx->st, &v), TSR_ERR_INVALID);

	assert_int_equal(tsr_store_voucher_list(fx->st, &f, count_vouchers, &rows), 0);
	assert_int_equal(rows, 3);

	/* Used once, then refused with the reason. */
	assert_int_equal(tsr_store_voucher_consume(fx->st, a, "epcs", "app-1", 1700000500), 0);
	assert_int_equal(tsr_store_voucher_get(fx->st, a, &v), 0);
	assert_int_equal(v.used_at, 1700000500);
	assert_string_equal(v.used_by, "app-1");
	assert_int_equal(tsr_store_voucher_consume(fx->st, a, "epcs", "app-2", 1700000600),
	    TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "already used"));
	assert_int_equal(tsr_store_voucher_get(fx->st, a, &v), 0);
	assert_string_equal(v.used_by, "app-1");

	/* Another product; expired (expiry is exclusive); unknown. */
	assert_int_equal(tsr_store_voucher_consume(fx->st, d, "epcs", "app-3", 1700000500),
	    TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "for product code-signing, not epcs"));
	assert_int_equal(tsr_store_voucher_consume(fx->st, b, "epcs", "app-3", 1700001000),
	    TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "expired"));
	memset(v.code_hash, 'e', 64);
	assert_int_equal(tsr_store_voucher_consume(fx->st, v.code_hash, "epcs", "app-3",
	    1700000500), TSR_ERR_NOT_FOUND);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM vouchers WHERE used_at IS NOT NULL"),
	    1);

	/* Revoking a batch leaves the used voucher used. */
	assert_int_equal(tsr_store_voucher_revoke_batch(fx->st, "B1", 1700000700, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tsr_store_voucher_consume(fx->st, c, "epcs", "app-4", 1700000800),
	    TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "revoked"));
	assert_int_equal(tsr_store_voucher_get(fx->st, a, &v), 0);
	assert_int_equal(v.revoked_at, 0);
	assert_int_equal(tsr_store_voucher_revoke_batch(fx->st, "B1", 1700000900, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tsr_store_voucher_revoke_batch(fx->st, "B9", 1700000900, &n),
	    TSR_ERR_NOT_FOUND);
	/* The other batch is untouched. */
	assert_int_equal(tsr_store_voucher_consume(fx->st, d, "code-signing", "app-5", 1700000900),
	    0);
}

/* ------------------------------------------------------------------ statement reuse */

static int count_app(const struct tsr_app_record *a, void *ctx)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

/* What a listing's callback read back from the same store. */
struct nested {
	struct tsr_store *st;
	char text[512];
	int n;
};

/* For each application listed, while the listing's statement is still
 * stepping: read its code, its answers and itself, and run the very same
 * listing again (the same SQL, so not the same statement). */
static int read_inside(const struct tsr_app_record *a, void *ctx)
{
	struct nested *s = ctx;
	struct tsr_app_filter f = { .state = "under_review" };
	struct tsr_code_record c;
	struct tsr_app_record again;
	struct answers ans = { .n = 0 };
	char one[sizeof(ans.text) + 64];
	int inner = 0;

	assert_int_equal(tsr_store_code_current(s->st, a->id, "verification", &c), 0);
	assert_int_equal(tsr_store_answer_list(s->st, a->id, collect_answers, &ans), 0);
	assert_int_equal(tsr_store_app_get(s->st, a->id, &again), 0);
	assert_string_equal(again.email, a->email);
	tsr_app_record_clear(&again);
	assert_int_equal(tsr_store_app_list(s->st, &f, count_app, &inner), 0);
	snprintf(one, sizeof(one), "%s%s:%.3s:%s:%d", s->n > 0 ? " " : "", a->id, c.code_hash,
	    ans.text, inner);
	strcat(s->text, one);
	s->n++;
	return 0;
}

static void test_reentrant_listing(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_filter f = { .state = "under_review" };
	struct tsr_answer_record ans;
	struct tsr_code_record c;
	struct tsr_app_record a;
	struct nested s = { .st = fx->st };
	struct ids stop = { .stop_after = 1 };
	const char *want = "AP-1:111:0=Q1?/h1:3 AP-2:222:0=Q2?/h2:3 AP-3:333:0=Q3?/h3:3";
	char id[8], q[8], h[8];

	for (int i = 1; i <= 4; i++) {
		snprintf(id, sizeof(id), "AP-%d", i);
		snprintf(q, sizeof(q), "Q%d?", i);
		snprintf(h, sizeof(h), "h%d", i);
		make_app(&a, id, i < 4 ? "under_review" : "submitted", "a@example.org", '1',
		    1000 + i);
		assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
		ans = (struct tsr_answer_record){ 0, q, h };
		assert_int_equal(tsr_store_answer_add(fx->st, id, &ans), 0);
		make_code(&c, (char)('0' + i), id, "verification", 1000, 2000);
		assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	}

	assert_int_equal(tsr_store_app_list(fx->st, &f, read_inside, &s), 0);
	assert_string_equal(s.text, want);
	/* Everything the callbacks used is free again, the listing included. */
	s = (struct nested){ .st = fx->st };
	assert_int_equal(tsr_store_app_list(fx->st, &f, read_inside, &s), 0);
	assert_string_equal(s.text, want);

	/* A listing stopped after its first row starts over the next time. */
	assert_int_equal(tsr_store_app_list(fx->st, &f, collect_ids, &stop), 7);
	assert_string_equal(stop.id[0], "AP-1");
	assert_string_equal(list_ids(fx->st, &f), "AP-1 AP-2 AP-3");

	/* A write inside a listing's callback, then reads of what it wrote. */
	s = (struct nested){ .st = fx->st };
	make_code(&c, '9', "AP-2", "verification", 1500, 2500);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_int_equal(tsr_store_app_list(fx->st, &f, read_inside, &s), 0);
	assert_string_equal(s.text,
	    "AP-1:111:0=Q1?/h1:3 AP-2:999:0=Q2?/h2:3 AP-3:333:0=Q3?/h3:3");
}

/* The code hash "%064x" of n: a distinct hash per n. */
static const char *nth_hash(int n)
{
	static char buf[65];

	snprintf(buf, sizeof(buf), "%064x", n);
	return buf;
}

static void test_statement_reuse(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_update u;
	struct tsr_code_record c;
	struct tsr_app_record a, got;
	char id[16], email[32];
	char *value = NULL;

	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "AP-%02d", i);
		snprintf(email, sizeof(email), "u%02d@example.org", i);
		make_app(&a, id, "submitted", email, '1', 1000 + i);
		assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
		memset(&c, 0, sizeof(c));
		snprintf(c.code_hash, sizeof(c.code_hash), "%s", nth_hash(i + 1));
		snprintf(c.application, sizeof(c.application), "%s", id);
		snprintf(c.purpose, sizeof(c.purpose), "%s", i % 2 ? "activation" : "verification");
		c.created_at = 1000;
		c.expires_at = 2000;
		assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	}

	/* The same few statements, hundreds of times, each with other values:
	 * every answer is the row asked for, and a miss in between leaves no
	 * trace on the next call. */
	for (int round = 0; round < 600; round++) {
		int i = (round * 7) % 20;

		snprintf(id, sizeof(id), "AP-%02d", i);
		snprintf(email, sizeof(email), "u%02d@example.org", i);
		assert_int_equal(tsr_store_app_get(fx->st, id, &got), 0);
		assert_string_equal(got.id, id);
		assert_string_equal(got.email, email);
		assert_int_equal(got.created_at, 1000 + i);
		tsr_app_record_clear(&got);
		assert_int_equal(tsr_store_code_current(fx->st, id,
		    i % 2 ? "activation" : "verification", &c), 0);
		assert_string_equal(c.code_hash, nth_hash(i + 1));
		assert_string_equal(c.application, id);
		assert_int_equal(tsr_store_code_current(fx->st, id,
		    i % 2 ? "verification" : "activation", &c), TSR_ERR_NOT_FOUND);
		if (round % 50 == 0) {
			assert_int_equal(tsr_store_app_get(fx->st, "AP-99", &got), TSR_ERR_NOT_FOUND);
			assert_non_null(strstr(tsr_error_detail(), "no application AP-99"));
		}
	}

	/* A statement that failed is reset and serves the next call. */
	make_app(&a, "AP-00", "submitted", "x@example.org", '1', 5000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), TSR_ERR_EXISTS);
	assert_non_null(strstr(tsr_error_detail(), "AP-00 already exists"));
	make_app(&a, "AP-20", "submitted", "u20@example.org", '1', 5000);
	assert_int_equal(tsr_store_app_create(fx->st, &a), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-20", &got), 0);
	assert_string_equal(got.email, "u20@example.org");
	tsr_app_record_clear(&got);
	assert_int_equal(tsr_store_meta_get(fx->st, "k", &value), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_meta_set(fx->st, "k", "v1"), 0);
	assert_int_equal(tsr_store_meta_get(fx->st, "k", &value), 0);
	assert_string_equal(value, "v1");
	free(value);

	/* One statement, a value then NULL (no condition) for the same
	 * parameter: the second call does not see the first one's value. */
	u = (struct tsr_app_update){ .expect_state = "submitted", .state = "under_review",
	    .failed_logins = -1, .locked = -1 };
	assert_int_equal(tsr_store_app_update(fx->st, "AP-05", &u, 6000), 0);
	assert_int_equal(tsr_store_app_update(fx->st, "AP-05", &u, 6001), TSR_ERR_POLICY);
	u = (struct tsr_app_update){ .reason = "checked", .failed_logins = -1, .locked = -1 };
	assert_int_equal(tsr_store_app_update(fx->st, "AP-05", &u, 6002), 0);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-05", &got), 0);
	assert_string_equal(got.state, "under_review");
	assert_string_equal(got.reason, "checked");
	assert_int_equal(got.updated_at, 6002);
	tsr_app_record_clear(&got);
}

/* Bits of the filters test_statement_cache_full builds. */
enum { F_STATE = 1, F_PRODUCT = 2, F_EMAIL = 4, F_NPI = 8, F_DEA = 16, F_IDENTITY = 32,
	F_BEFORE = 64, F_TOKEN = 128 };

static void test_statement_cache_full(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record x, y, got;

	/* X and Y differ in every field a listing can filter on. */
	make_app(&x, "AP-X", "under_review", "x@example.org", '1', 100);
	x.npi = (char *)"1234567893";
	x.dea = (char *)"AB1234563";
	snprintf(x.token_serial, sizeof(x.token_serial), "TK-X");
	assert_int_equal(tsr_store_app_create(fx->st, &x), 0);
	make_app(&y, "AP-Y", "submitted", "y@example.org", '2', 200);
	snprintf(y.product, sizeof(y.product), "device");
	y.npi = (char *)"2222222222";
	y.dea = (char *)"BB2222222";
	y.state_since = 300;
	snprintf(y.token_serial, sizeof(y.token_serial), "TK-Y");
	assert_int_equal(tsr_store_app_create(fx->st, &y), 0);

	/* Each combination of conditions is its own SQL text: 256 of them,
	 * more than the connection keeps prepared, so older ones make room
	 * for newer ones as this goes; the answers stay right throughout. */
	for (unsigned m = 0; m < 256; m++) {
		for (int t = 0; t < 2; t++) {
			const struct tsr_app_record *w = t == 0 ? &x : &y;
			struct tsr_app_filter f = {
				.state = m & F_STATE ? w->state : NULL,
				.product = m & F_PRODUCT ? w->product : NULL,
				.email = m & F_EMAIL ? w->email : NULL,
				.npi = m & F_NPI ? w->npi : NULL,
				.dea = m & F_DEA ? w->dea : NULL,
				.identity = m & F_IDENTITY ? w->identity : NULL,
				.state_before = m & F_BEFORE ? (t == 0 ? 200 : 400) : 0,
				.token_serial = m & F_TOKEN ? w->token_serial : NULL,
			};
			/* state_since < 400 holds for both. */
			bool both = t == 0 ? m == 0 : (m & ~(unsigned)F_BEFORE) == 0;

			assert_string_equal(list_ids(fx->st, &f), both ? "AP-X AP-Y" : w->id);
		}
		assert_int_equal(tsr_store_app_get(fx->st, "AP-Y", &got), 0);
		assert_string_equal(got.email, "y@example.org");
		tsr_app_record_clear(&got);
	}
}

/* Version 4: the certificate of an application, the key a code was used
 * with, single-use nonces. */
static void test_retrieval_rows(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_filter f = { .cert_serial = "0abc" };
	struct tsr_code_record c;
	struct tsr_app_record got;

	create_app(fx->st, "AP-RETR-0000-0001");
	create_app(fx->st, "AP-RETR-0000-0002");
	upd.cert_serial = "0abc";
	upd.last_test = "{\"good\":true}";
	assert_int_equal(tsr_store_app_update(fx->st, "AP-RETR-0000-0002", &upd, 2000), 0);
	assert_string_equal(list_ids(fx->st, &f), "AP-RETR-0000-0002");
	assert_int_equal(tsr_store_app_get(fx->st, "AP-RETR-0000-0002", &got), 0);
	assert_string_equal(got.cert_serial, "0abc");
	assert_string_equal(got.last_test, "{\"good\":true}");
	tsr_app_record_clear(&got);
	assert_int_equal(tsr_store_app_get(fx->st, "AP-RETR-0000-0001", &got), 0);
	assert_string_equal(got.cert_serial, "");
	assert_string_equal(got.last_test, "");
	tsr_app_record_clear(&got);

	make_code(&c, 'a', "AP-RETR-0000-0001", "activation", 1000, 5000);
	assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	assert_int_equal(tsr_store_code_use_key(fx->st, hex64('a'), 2000, "bad"), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_code_use_key(fx->st, hex64('a'), 2000, hex64('e')), 0);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &c), 0);
	assert_string_equal(c.used_key, hex64('e'));
	assert_int_equal(c.used_at, 2000);
	assert_int_equal(tsr_store_code_use_key(fx->st, hex64('a'), 2001, hex64('f')),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_store_code_get(fx->st, hex64('a'), &c), 0);
	assert_string_equal(c.used_key, hex64('e'));

	/* Nonces: once, before they expire. */
	assert_int_equal(tsr_store_nonce_insert(fx->st, "n1", 1000, 1300), 0);
	assert_int_equal(tsr_store_nonce_insert(fx->st, "n1", 1000, 1300), TSR_ERR_EXISTS);
	assert_int_equal(tsr_store_nonce_insert(fx->st, "n2", 1000, 1300), 0);
	assert_int_equal(tsr_store_nonce_insert(fx->st, "n3", 1000, 1000), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_nonce_insert(fx->st, "bad nonce", 1000, 1300), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_nonce_use(fx->st, "n1", 1299), 0);
	assert_int_equal(tsr_store_nonce_use(fx->st, "n1", 1299), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "already used"));
	assert_int_equal(tsr_store_nonce_use(fx->st, "n2", 1300), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "expired"));
	assert_int_equal(tsr_store_nonce_use(fx->st, "nx", 1000), TSR_ERR_NOT_FOUND);
	{
		int64_t n = -1;

		assert_int_equal(tsr_store_nonce_purge(fx->st, 1301, &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(tsr_store_nonce_use(fx->st, "n2", 1000), TSR_ERR_NOT_FOUND);
	}
}

/* ------------------------------------------------------------------ status */

static void test_cert_set_status(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec, got;
	struct tsr_cert_filter f = { .status = "revoked" };
	struct seen seen;

	make_rec(&rec, "0a01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0a02", "epcs", "subscriber", "CN=B", 2000000000, 1700000001);
	issue(fx->st, &rec);

	/* A fresh certificate is valid, with no revocation columns. */
	assert_int_equal(tsr_store_cert_get(fx->st, "0a01", &got), 0);
	assert_string_equal(got.status, "valid");
	assert_int_equal(got.revoked_at, 0);
	assert_string_equal(got.revocation_reason, "");
	assert_int_equal(got.invalidity_date, 0);
	tsr_cert_record_clear(&got);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM certificates WHERE "
	    "revoked_at IS NULL AND revocation_reason IS NULL AND invalidity_date IS NULL"), 2);

	/* Bad arguments change nothing. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "gone", 1800000000,
	    "keyCompromise", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "revoked", 1800000000,
	    "removeFromCRL", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "revoked", 1800000000,
	    "KeyCompromise", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "revoked", 1800000000,
	    "certificateHold", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "suspended",
	    1800000000, "keyCompromise", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "revoked", 0,
	    "keyCompromise", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "zz", "valid", "revoked", 1800000000,
	    "keyCompromise", 0), TSR_ERR_INVALID);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM certificates WHERE "
	    "status = 'valid' AND revoked_at IS NULL"), 2);

	/* Unknown serial vs. a status that changed meanwhile. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0b99", "valid", "revoked", 1800000000,
	    "keyCompromise", 0), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "suspended", "valid", 0, NULL,
	    0), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "changed meanwhile"));
	/* A reservation is not an issued certificate. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0a03", "issuing"), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a03", "valid", "revoked", 1800000000,
	    "keyCompromise", 0), TSR_ERR_NOT_FOUND);
	tsr_store_rollback(fx->st);

	/* Revoke with every column; the serial in any form. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "000A01", "valid", "revoked",
	    1800000000, "keyCompromise", 1799990000), 0);
	assert_int_equal(tsr_store_cert_get(fx->st, "0a01", &got), 0);
	assert_string_equal(got.status, "revoked");
	assert_int_equal(got.revoked_at, 1800000000);
	assert_string_equal(got.revocation_reason, "keyCompromise");
	assert_int_equal(got.invalidity_date, 1799990000);
	tsr_cert_record_clear(&got);
	/* The compare-and-set refuses a second change from "valid". */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a01", "valid", "revoked", 1800000100,
	    "superseded", 0), TSR_ERR_POLICY);
	assert_int_equal(tsr_store_cert_get(fx->st, "0a01", &got), 0);
	assert_int_equal(got.revoked_at, 1800000000);
	assert_string_equal(got.revocation_reason, "keyCompromise");
	tsr_cert_record_clear(&got);

	/* Suspend without an invalidity date, then resume: columns cleared. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a02", "valid", "suspended",
	    1800000000, "certificateHold", 0), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM certificates WHERE serial = "
	    "'0a02' AND invalidity_date IS NULL AND revocation_reason = 'certificateHold'"), 1);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0a02", "suspended", "valid",
	    1800000500, "superseded", 5), 0);
	assert_int_equal(tsr_store_cert_get(fx->st, "0a02", &got), 0);
	assert_string_equal(got.status, "valid");
	assert_int_equal(got.revoked_at, 0);
	assert_string_equal(got.revocation_reason, "");
	assert_int_equal(got.invalidity_date, 0);
	tsr_cert_record_clear(&got);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM certificates WHERE serial = "
	    "'0a02' AND revoked_at IS NULL AND revocation_reason IS NULL"), 1);

	/* Listing by status sees the change. */
	seen = list(fx->st, &f);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.serials[0], "0a01");
}

/* ------------------------------------------------------------------ revoked listing, status changes */

struct revoked_seen {
	struct tsr_revoked_entry e[8];
	int n;
	int stop_after;
};

static int collect_revoked(const struct tsr_revoked_entry *e, void *ctx)
{
	struct revoked_seen *s = ctx;

	assert_true(s->n < 8);
	s->e[s->n++] = *e;
	return s->stop_after != 0 && s->n == s->stop_after ? 7 : 0;
}

/* The entries listed for issuer from not_after_from, sorted by serial. */
static struct revoked_seen revoked(struct tsr_store *st, const char *issuer, int64_t from)
{
	struct revoked_seen s = { .n = 0 };

	assert_int_equal(tsr_store_revoked_list(st, issuer, from, collect_revoked, &s), 0);
	for (int i = 1; i < s.n; i++)
		for (int j = i; j > 0 && strcmp(s.e[j - 1].serial, s.e[j].serial) > 0; j--) {
			struct tsr_revoked_entry t = s.e[j];

			s.e[j] = s.e[j - 1];
			s.e[j - 1] = t;
		}
	return s;
}

static void test_revoked_list(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec;
	struct revoked_seen s;

	make_rec(&rec, "0c01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0c02", "epcs", "subscriber", "CN=B", 2000000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0c03", "epcs", "subscriber", "CN=C", 2000000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0c04", "epcs", "subscriber", "CN=D (expired)", 1750000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0c05", "", "ca", "CN=Issuing", 2000000000, 1700000000);
	snprintf(rec.issuer, sizeof(rec.issuer), "root");
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0c01", "valid", "revoked", 1800000000,
	    "keyCompromise", 1799000000), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0c02", "valid", "suspended",
	    1800000100, "certificateHold", 0), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0c04", "valid", "revoked", 1740000000,
	    "superseded", 0), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0c05", "valid", "revoked", 1800000200,
	    "cACompromise", 0), 0);
	/* A reservation is never listed. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0c06", "issuing"), 0);

	/* Revoked and suspended certificates of that issuer, with every column;
	 * not_after_from leaves the expired one out (not_after >= from). */
	s = revoked(fx->st, "issuing", 1800000000);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.e[0].serial, "0c01");
	assert_int_equal(s.e[0].revoked_at, 1800000000);
	assert_string_equal(s.e[0].reason, "keyCompromise");
	assert_int_equal(s.e[0].invalidity_date, 1799000000);
	assert_string_equal(s.e[1].serial, "0c02");
	assert_int_equal(s.e[1].revoked_at, 1800000100);
	assert_string_equal(s.e[1].reason, "certificateHold");
	assert_int_equal(s.e[1].invalidity_date, 0);
	tsr_store_rollback(fx->st);
	assert_int_equal(revoked(fx->st, "issuing", 1750000000).n, 3);   /* the boundary is in */
	assert_int_equal(revoked(fx->st, "issuing", 1750000001).n, 2);
	assert_int_equal(revoked(fx->st, "issuing", 0).n, 3);
	s = revoked(fx->st, "root", 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.e[0].serial, "0c05");
	assert_int_equal(revoked(fx->st, "nobody", 0).n, 0);

	/* The callback stops the listing with its own value. */
	s.n = 0;
	s.stop_after = 1;
	assert_int_equal(tsr_store_revoked_list(fx->st, "issuing", 0, collect_revoked, &s), 7);
	assert_int_equal(s.n, 1);
	assert_int_equal(tsr_store_revoked_list(fx->st, NULL, 0, collect_revoked, &s),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_revoked_list(fx->st, "", 0, collect_revoked, &s),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_store_revoked_list(fx->st, "issuing", 0, NULL, NULL),
	    TSR_ERR_INVALID);

	/* A lifted hold leaves the list. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0c02", "suspended", "valid", 0, NULL,
	    0), 0);
	s = revoked(fx->st, "issuing", 1800000000);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.e[0].serial, "0c01");
}

static time_t fixed_clock(void *ctx)
{
	return *(time_t *)ctx;
}

struct change_seen {
	int64_t seq[8];
	char serial[8][TSR_SERIAL_HEX_MAX + 1];
	int64_t at[8];
	int n;
	int stop_after;
};

static int collect_change(int64_t seq, const char *serial, int64_t at, void *ctx)
{
	struct change_seen *c = ctx;

	assert_true(c->n < 8);
	c->seq[c->n] = seq;
	snprintf(c->serial[c->n], sizeof(c->serial[0]), "%s", serial);
	c->at[c->n] = at;
	c->n++;
	return c->stop_after != 0 && c->n == c->stop_after ? 9 : 0;
}

static struct change_seen changes(struct tsr_store *st, int64_t after)
{
	struct change_seen c = { .n = 0 };

	assert_int_equal(tsr_store_status_changes(st, after, collect_change, &c), 0);
	return c;
}

static void test_status_changes(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec;
	struct change_seen c;
	time_t now = 1800000000;
	int64_t seq = -1;

	tsr_clock_set(fixed_clock, &now);
	make_rec(&rec, "0d01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(fx->st, &rec);
	make_rec(&rec, "0d02", "epcs", "subscriber", "CN=B", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_status_seq(fx->st, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(changes(fx->st, 0).n, 0);

	/* Each change once, in order, at the time it was made (not the
	 * revocation time it records). */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0d01", "valid", "suspended",
	    1700000500, "certificateHold", 0), 0);
	now += 10;
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0d02", "valid", "revoked", 1800000005,
	    "superseded", 0), 0);
	now += 10;
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0D01", "suspended", "valid", 0, NULL,
	    0), 0);
	/* Refused or rolled back: no change logged. */
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0d02", "valid", "revoked", 1800000005,
	    "superseded", 0), TSR_ERR_POLICY);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0d01", "valid", "suspended",
	    1800000030, "certificateHold", 0), 0);
	tsr_store_rollback(fx->st);

	c = changes(fx->st, 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.serial[0], "0d01");
	assert_string_equal(c.serial[1], "0d02");
	assert_string_equal(c.serial[2], "0d01");
	assert_int_equal(c.at[0], 1800000000);
	assert_int_equal(c.at[1], 1800000010);
	assert_int_equal(c.at[2], 1800000020);
	assert_true(c.seq[0] < c.seq[1] && c.seq[1] < c.seq[2]);
	assert_int_equal(tsr_store_status_seq(fx->st, &seq), 0);
	assert_int_equal(seq, c.seq[2]);

	/* Only those after a seq; the callback stops with its value. */
	c = changes(fx->st, c.seq[0]);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.serial[0], "0d02");
	assert_int_equal(changes(fx->st, seq).n, 0);
	c.n = 0;
	c.stop_after = 1;
	assert_int_equal(tsr_store_status_changes(fx->st, 0, collect_change, &c), 9);
	assert_int_equal(c.n, 1);
	assert_int_equal(tsr_store_status_changes(fx->st, 0, NULL, NULL), TSR_ERR_INVALID);
	tsr_clock_set(NULL, NULL);
}

/* A read transaction is a snapshot taken when it begins, and holds no
 * write lock: another connection changes and commits meanwhile (without
 * waiting for the busy timeout), and the snapshot does not see it until
 * it ends. */
static void test_begin_read_snapshot(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *rd = NULL;
	struct tsr_cert_record rec;
	time_t start;

	make_rec(&rec, "0e01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_open(fx->path, false, &rd), 0);

	/* Taken while a writer holds the write lock: it sees what was committed. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0e01", "valid", "revoked", 1800000000,
	    "keyCompromise", 0), 0);
	assert_int_equal(tsr_store_begin_read(rd), 0);
	assert_true(tsr_store_in_transaction(rd));
	assert_int_equal(tsr_store_begin_read(rd), TSR_ERR_INTERNAL);
	assert_int_equal(tsr_store_begin(rd), TSR_ERR_INTERNAL);
	start = time(NULL);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	/* ... and keeps not seeing it after the writer committed. */
	assert_int_equal(revoked(rd, "issuing", 0).n, 0);
	make_rec(&rec, "0e02", "epcs", "subscriber", "CN=B", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_true(time(NULL) - start < 3);   /* nobody waited for a lock */
	assert_int_equal(count(rd), 1);
	assert_int_equal(tsr_store_commit(rd), 0);
	assert_false(tsr_store_in_transaction(rd));
	assert_int_equal(revoked(rd, "issuing", 0).n, 1);
	assert_int_equal(count(rd), 2);
	/* Rolled back, too, it ends. */
	assert_int_equal(tsr_store_begin_read(rd), 0);
	tsr_store_rollback(rd);
	assert_false(tsr_store_in_transaction(rd));
	tsr_store_close(rd);
}

/* ------------------------------------------------------------------ PostgreSQL only */

/* The open rules of a database server: create wants no Tessera schema
 * there yet, open wants one; someone else's tables are left alone; an
 * unreachable server or a wrong password is a clean error without the
 * password in it. */
static void test_pg_open_rules(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *st = NULL;
	char name[64], uri[512], bad[600];
	const char *at;

	PG_ONLY();
	assert_int_equal(tsr_store_open(fx->path, true, &st), TSR_ERR_EXISTS);
	assert_null(st);
	/* "postgres://" is the same scheme. */
	assert_int_equal(strncmp(fx->path, "postgresql://", 13), 0);
	snprintf(bad, sizeof(bad), "postgres://%s", fx->path + 13);
	assert_int_equal(tsr_store_open(bad, false, &st), 0);
	tsr_store_close(st);

	/* An empty database without create: not found, and left empty. */
	assert_int_equal(pg_new_db(name, sizeof(name), uri, sizeof(uri)), 0);
	assert_int_equal(tsr_store_open(uri, false, &st), TSR_ERR_NOT_FOUND);
	assert_int_equal(raw_int(uri, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
	    0);
	/* Someone else's tables: refused, with or without create. */
	assert_int_equal(raw_sql(uri, "CREATE TABLE songs(title TEXT)", NULL, 0), SQLITE_OK);
	assert_int_equal(tsr_store_open(uri, false, &st), TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "not a Tessera database"));
	assert_int_equal(tsr_store_open(uri, true, &st), TSR_ERR_STORE);
	assert_int_equal(raw_int(uri, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
	    1);
	assert_int_equal(pg_drop_db(name), 0);

	/* A wrong password: refused, and the password is not in the detail. */
	at = strchr(fx->path, '@');
	assert_non_null(at);
	snprintf(bad, sizeof(bad), "postgresql://tessera:Pw-Secret-4711%s", at);
	*strchr(bad, '?') = '\0';
	assert_int_equal(tsr_store_open(bad, false, &st), TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "database unreachable"));
	assert_null(strstr(tsr_error_detail(), "Pw-Secret-4711"));
	/* Nobody listening. */
	assert_int_equal(tsr_store_open("postgresql://tessera@127.0.0.1:1/tessera", false, &st),
	    TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "database unreachable"));
	assert_null(st);
}

struct opener {
	const char *uri;
	int r;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;
	struct tsr_store *st = NULL;

	o->r = tsr_store_open(o->uri, true, &st);
	tsr_store_close(st);
	return NULL;
}

/* Nodes starting at once on a new database: one creates the schema, the
 * other finds it there; the migrations run once. */
static void test_pg_concurrent_create(void **state)
{
	char name[64], uri[512];
	struct opener o[4];
	pthread_t t[4];
	int ok = 0;

	(void)state;
	PG_ONLY();
	assert_int_equal(pg_new_db(name, sizeof(name), uri, sizeof(uri)), 0);
	for (int i = 0; i < 4; i++) {
		o[i] = (struct opener){ .uri = uri };
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (o[i].r == 0)
			ok++;
		else
			assert_int_equal(o[i].r, TSR_ERR_EXISTS);
	}
	assert_int_equal(ok, 1);
	assert_int_equal(raw_int(uri, "SELECT count(*) FROM schema_migrations"), SCHEMA_VERSION);
	assert_int_equal(pg_drop_db(name), 0);
}

#define RACE_ITEMS 40

/* Two nodes: two store handles, each in its own thread. */
struct racer {
	struct tsr_store *st;
	int won;
	int lost;
	int failed;
	int kind;                 /* 0 serials, 1 codes, 2 audit appends */
};

static void race_serials(struct racer *r)
{
	char serial[16];
	int rc;

	for (int i = 0; i < RACE_ITEMS; i++) {
		snprintf(serial, sizeof(serial), "7a%04x", i);
		if (tsr_store_begin(r->st) != 0) {
			r->failed++;
			continue;
		}
		rc = tsr_store_serial_reserve(r->st, serial, "issuing");
		if (rc == 0 && tsr_store_commit(r->st) == 0)
			r->won++;
		else if (rc == TSR_ERR_EXISTS)
			r->lost++;
		else
			r->failed++;
		tsr_store_rollback(r->st);
	}
}

static void race_codes(struct racer *r)
{
	char hash[65];
	int rc;

	for (int i = 0; i < RACE_ITEMS; i++) {
		/* nth_hash()'s buffer is shared: not for two threads. */
		snprintf(hash, sizeof(hash), "%064x", 1000 + i);
		rc = tsr_store_code_use(r->st, hash, 1500);
		if (rc == 0)
			r->won++;
		else if (rc == TSR_ERR_POLICY)
			r->lost++;
		else
			r->failed++;
	}
}

static void race_audit(struct racer *r)
{
	for (int i = 0; i < RACE_ITEMS; i++) {
		if (tsr_audit_append(r->st, "cli:race", "test.race", "", TSR_AUDIT_SUCCESS,
		    "append %d", i) == 0)
			r->won++;
		else
			r->failed++;
	}
}

static void *race_thread(void *arg)
{
	struct racer *r = arg;

	if (r->kind == 0)
		race_serials(r);
	else if (r->kind == 1)
		race_codes(r);
	else
		race_audit(r);
	return NULL;
}

/* Run kind on fx->st and a second handle at once; the results in r[2]. */
static void race(struct fx *fx, int kind, struct racer r[2])
{
	pthread_t t[2];
	struct tsr_store *other = NULL;

	assert_int_equal(tsr_store_open(fx->path, false, &other), 0);
	r[0] = (struct racer){ .st = fx->st, .kind = kind };
	r[1] = (struct racer){ .st = other, .kind = kind };
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tsr_store_close(other);
	assert_int_equal(r[0].failed + r[1].failed, 0);
}

/* The same serials reserved from two nodes: each exactly once. */
static void test_pg_serial_race(void **state)
{
	struct fx *fx = *state;
	struct racer r[2];

	PG_ONLY();
	race(fx, 0, r);
	assert_int_equal(r[0].won + r[1].won, RACE_ITEMS);
	assert_int_equal(r[0].lost + r[1].lost, RACE_ITEMS);
	assert_int_equal(count(fx->st), RACE_ITEMS);
}

static void create_app(struct tsr_store *st, const char *id);

/* The same activation codes used from two nodes: each exactly once. */
static void test_pg_code_use_race(void **state)
{
	struct fx *fx = *state;
	struct tsr_code_record c;
	struct racer r[2];

	PG_ONLY();
	for (int i = 0; i < RACE_ITEMS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "AP-R%d", i);
		create_app(fx->st, id);
		memset(&c, 0, sizeof(c));
		snprintf(c.code_hash, sizeof(c.code_hash), "%s", nth_hash(1000 + i));
		snprintf(c.application, sizeof(c.application), "%s", id);
		snprintf(c.purpose, sizeof(c.purpose), "activation");
		c.created_at = 1000;
		c.expires_at = 2000;
		assert_int_equal(tsr_store_code_insert(fx->st, &c), 0);
	}
	race(fx, 1, r);
	assert_int_equal(r[0].won + r[1].won, RACE_ITEMS);
	assert_int_equal(r[0].lost + r[1].lost, RACE_ITEMS);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM codes WHERE used_at = 1500"),
	    RACE_ITEMS);
}

/* Two nodes appending to the audit log at once: one unbroken chain. */
static void test_pg_audit_race(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;
	struct racer r[2];

	PG_ONLY();
	race(fx, 2, r);
	assert_int_equal(r[0].won + r[1].won, 2 * RACE_ITEMS);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 2 * RACE_ITEMS);
	assert_int_equal(rep.first_bad_seq, 0);
}

struct blocked {
	struct tsr_store *st;
	int r;
	struct timespec done;
};

static void *begin_thread(void *arg)
{
	struct blocked *b = arg;

	b->r = tsr_store_begin(b->st);
	clock_gettime(CLOCK_MONOTONIC, &b->done);
	if (b->r == 0)
		tsr_store_rollback(b->st);
	return NULL;
}

/* begin waits while another node holds the write lock, and goes on as
 * soon as that node commits. */
static void test_pg_begin_blocks(void **state)
{
	struct fx *fx = *state;
	struct blocked b = { 0 };
	struct timespec committed;
	pthread_t t;

	PG_ONLY();
	assert_int_equal(tsr_store_open(fx->path, false, &b.st), 0);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(pthread_create(&t, NULL, begin_thread, &b), 0);
	usleep(1500 * 1000);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0b0b", "issuing"), 0);
	clock_gettime(CLOCK_MONOTONIC, &committed);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	pthread_join(t, NULL);
	assert_int_equal(b.r, 0);
	/* It returned only after the commit. */
	assert_true(b.done.tv_sec > committed.tv_sec ||
	    (b.done.tv_sec == committed.tv_sec && b.done.tv_nsec >= committed.tv_nsec));
	tsr_store_close(b.st);
}

/* A CA moved from SQLite to PostgreSQL (tsr_store_copy, what `tessera db
 * copy` runs): every row lands, the audit chain verifies on the target,
 * and the target's identity sequences continue after the copied keys. */
static void test_pg_copy_from_sqlite(void **state)
{
	struct fx *fx = *state;
	struct tsr_store_copy_report rep;
	struct tsr_audit_report arep;
	struct tsr_cert_record rec, got;
	struct tsr_user_record u;
	struct tsr_store *src = NULL;
	char path[128];
	int64_t seq = 0;

	PG_ONLY();
	snprintf(path, sizeof(path), "%s/src.db", fx->dir);
	assert_int_equal(tsr_store_open(path, true, &src), 0);
	make_rec(&rec, "0d01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(src, &rec);
	make_rec(&rec, "0d02", "epcs", "subscriber", "CN=B", 2000000000, 1700000001);
	issue(src, &rec);
	assert_int_equal(tsr_store_cert_set_status(src, "0d01", "valid", "revoked", 1800000000,
	    "keyCompromise", 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tsr_audit_append(src, "cli:alice", "test.copy", "", TSR_AUDIT_SUCCESS,
		    "row %d", i), 0);
	make_user(&u, "alice", "ra-officer");
	assert_int_equal(tsr_store_user_create(src, &u), 0);
	create_app(src, "AP-C1");
	assert_int_equal(tsr_store_meta_set(src, "k", "v"), 0);

	assert_int_equal(tsr_store_copy(src, fx->st, &rep), 0);
	assert_int_equal(rep.rows, 1 + 2 + 3 + 1 + 1 + 1);
	tsr_store_close(src);

	assert_int_equal(tsr_audit_verify(fx->st, &arep), 0);
	assert_int_equal(arep.records, 3);
	assert_int_equal(tsr_store_cert_get(fx->st, "0d02", &got), 0);
	assert_int_equal(got.der_len, sizeof(der_bytes));
	assert_memory_equal(got.der, der_bytes, sizeof(der_bytes));
	tsr_cert_record_clear(&got);
	/* New keys follow the copied ones. */
	make_user(&u, "bob", "auditor");
	assert_int_equal(tsr_store_user_create(fx->st, &u), 0);
	assert_int_equal(tsr_store_user_get(fx->st, "bob", &u), 0);
	assert_int_equal(u.id, 2);
	tsr_user_record_clear(&u);
	assert_int_equal(tsr_store_cert_set_status(fx->st, "0d02", "valid", "revoked",
	    1800000000, "superseded", 0), 0);
	assert_int_equal(tsr_store_status_seq(fx->st, &seq), 0);
	assert_int_equal(seq, 2);
}

/* pg-cluster pause or resume on the test's cluster. */
static void cluster(const char *what)
{
	const char *script = getenv("TSR_PG_CLUSTER_SCRIPT");
	const char *dir = getenv("TSR_PG_CLUSTER_DIR");
	char cmd[1024];

	assert_non_null(script);
	assert_non_null(dir);
	snprintf(cmd, sizeof(cmd), "'%s' %s '%s'", script, what, dir);
	assert_int_equal(system(cmd), 0);
}

/* The server goes away mid-use: clean errors, a transaction lost with it,
 * nothing committed lost; it comes back: the same handle works again. */
static void test_pg_outage(void **state)
{
	struct fx *fx = *state;
	struct tsr_cert_record rec;
	char *value = NULL;
	int64_t n = 0;

	PG_ONLY();
	if (getenv("TSR_PG_CLUSTER_DIR") == NULL)
		skip();
	make_rec(&rec, "0c01", "epcs", "subscriber", "CN=A", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_int_equal(tsr_store_meta_set(fx->st, "k", "v"), 0);
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "0c02", "issuing"), 0);

	cluster("pause");
	assert_int_equal(tsr_store_cert_put(fx->st, &rec), TSR_ERR_STORE);
	assert_true(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_commit(fx->st), TSR_ERR_STORE);
	tsr_store_rollback(fx->st);
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_meta_get(fx->st, "k", &value), TSR_ERR_STORE);
	assert_non_null(strstr(tsr_error_detail(), "database unreachable"));
	assert_int_equal(tsr_store_begin(fx->st), TSR_ERR_STORE);
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_cert_count(fx->st, &n), TSR_ERR_STORE);

	cluster("resume");
	assert_int_equal(tsr_store_meta_get(fx->st, "k", &value), 0);
	assert_string_equal(value, "v");
	free(value);
	assert_int_equal(count(fx->st), 1);   /* the reservation died with the link */
	make_rec(&rec, "0c03", "epcs", "subscriber", "CN=C", 2000000000, 1700000000);
	issue(fx->st, &rec);
	assert_int_equal(count(fx->st), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_copy_target, setup, teardown),
		cmocka_unit_test(test_uri_check),
		cmocka_unit_test_setup_teardown(test_open_refuses_foreign_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_new_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_releases_reservation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_begin_takes_write_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_2_on_v1_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_consume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_3_on_v2_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_3_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_create_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_supersede, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_insert_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentrant_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrieval_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_cache_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_set_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_begin_read_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_open_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_concurrent_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_serial_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_code_use_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_audit_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_begin_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_copy_from_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_outage, setup, teardown),
	};

	pg_uri = getenv("TSR_TEST_DATABASE");
	if (pg_uri != NULL && *pg_uri == '\0')
		pg_uri = NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
