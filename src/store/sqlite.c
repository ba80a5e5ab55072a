/*
 * sqlite.c - the SQLite backend of the store.
 *
 * One connection per handle, in WAL mode with synchronous=FULL: a CA must
 * not lose a committed issuance or audit record to a power cut.  Every
 * statement is a constant SQL text with bound parameters; nothing here
 * builds SQL from data.  Compiling SQL costs more than running these
 * statements, so each connection keeps the statements it runs prepared,
 * keyed by their text, and resets them after each use.  The schema grows
 * by numbered migrations, each applied once in its own transaction and
 * recorded in schema_migrations.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_impl.h"

#define BUSY_TIMEOUT_MS 5000
/* Statements kept prepared per connection.  The store has about fifty
 * SQL texts, plus the application listings' variants a process uses;
 * beyond this many the least recently used statement makes room. */
#define STMT_CACHE_MAX 64

/* A prepared statement kept for the next call with the same SQL text. */
struct cached_stmt {
	char *sql;            /* the key: a copy of the text */
	uint64_t hash;        /* of sql */
	sqlite3_stmt *stmt;
	uint64_t last_use;    /* sq->uses when last handed out */
	bool busy;            /* handed out and not released yet */
};

/* One connection, used by one thread at a time (the RA layer pools them),
 * so its statement cache needs no lock. */
struct sq {
	sqlite3 *db;
	char *path;        /* as the user gave it, for messages */
	int last_rc;       /* extended result code of the last failure */
	struct cached_stmt cache[STMT_CACHE_MAX];
	size_t n_cached;
	uint64_t uses;
};

/* ------------------------------------------------------------------ schema */

/*
 * Migration n (1-based) is migrations[n - 1].  Append only: a migration that
 * has shipped is never edited, since databases in the field already ran it.
 */
static const char *const migrations[] = {
	/* 1: the initial schema */
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
	/* The chain already detects tampering; the triggers stop accidents
	 * (and make a deliberate change take a visible extra step). */
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",

	/* 2: RA officers and vouchers */
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
	"  expires_at INTEGER,"          /* NULL: never */
	"  used_at INTEGER,"
	"  used_by TEXT,"
	"  revoked_at INTEGER,"
	"  CHECK((used_at IS NULL) = (used_by IS NULL)));"
	"CREATE INDEX vouchers_batch ON vouchers(batch);"
	"CREATE INDEX vouchers_product ON vouchers(product);",

	/* 3: the enrollment workflow: applications, their secret answers,
	 * verification and activation codes, approvals, and sessions.  States,
	 * products and storage kinds are the RA's to check (a CHECK here could
	 * never change without rebuilding the table). */
	"CREATE TABLE applications("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  product TEXT NOT NULL,"
	"  storage TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  state_since INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  email TEXT NOT NULL,"
	"  npi TEXT NOT NULL DEFAULT '',"
	"  dea TEXT NOT NULL DEFAULT '',"
	"  identity TEXT NOT NULL,"
	"  applicant TEXT NOT NULL,"
	"  agreement TEXT NOT NULL,"
	"  password_hash TEXT NOT NULL,"
	"  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK(failed_logins >= 0),"
	"  locked INTEGER NOT NULL DEFAULT 0 CHECK(locked IN (0, 1)),"
	"  token_serial TEXT NOT NULL DEFAULT '',"
	"  checks TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX applications_state ON applications(state, state_since);"
	"CREATE INDEX applications_email ON applications(email COLLATE NOCASE);"
	"CREATE INDEX applications_npi ON applications(npi);"
	"CREATE INDEX applications_dea ON applications(dea);"
	"CREATE INDEX applications_identity ON applications(identity);"
	"CREATE INDEX applications_token_serial ON applications(token_serial);"
	"CREATE INDEX applications_created ON applications(created_at);"
	"CREATE TABLE answers("
	"  application TEXT NOT NULL REFERENCES applications(id),"
	"  idx INTEGER NOT NULL CHECK(idx >= 0),"
	"  question TEXT NOT NULL,"
	"  answer_hash TEXT NOT NULL,"
	"  PRIMARY KEY(application, idx));"
	"CREATE TABLE codes("
	"  code_hash TEXT PRIMARY KEY NOT NULL,"
	"  application TEXT NOT NULL REFERENCES applications(id),"
	"  purpose TEXT NOT NULL CHECK(purpose IN ('verification', 'activation')),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"             /* NULL: not used */
	"  superseded_at INTEGER,"       /* NULL: current */
	"  failures INTEGER NOT NULL DEFAULT 0 CHECK(failures >= 0),"
	"  locked INTEGER NOT NULL DEFAULT 0 CHECK(locked IN (0, 1)));"
	"CREATE INDEX codes_application ON codes(application, purpose);"
	"CREATE TABLE approvals("
	"  application TEXT NOT NULL REFERENCES applications(id),"
	"  officer TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  UNIQUE(application, officer));"
	"CREATE TABLE sessions("
	"  token_hash TEXT PRIMARY KEY NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_subject ON sessions(subject);",

	/* 4: retrieval: the certificate an application got, the key its
	 * activation code was used with, "test my certificate" */
	"ALTER TABLE applications ADD COLUMN cert_serial TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE applications ADD COLUMN last_test TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX applications_cert_serial ON applications(cert_serial);"
	"ALTER TABLE codes ADD COLUMN used_key TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE nonces("
	"  nonce TEXT PRIMARY KEY NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER);"
	"CREATE INDEX nonces_expires ON nonces(expires_at);",

	/* 5: revocation: when, why, and since when the key was unsafe */
	"ALTER TABLE certificates ADD COLUMN revoked_at INTEGER;"
	"ALTER TABLE certificates ADD COLUMN revocation_reason TEXT;"
	"ALTER TABLE certificates ADD COLUMN invalidity_date INTEGER;"
	"CREATE INDEX certificates_status ON certificates(status);",

	/* 6: what relying parties see: a log of status changes that OCSP
	 * caches and CRL builders follow, and the revoked rows of each CA */
	"CREATE TABLE status_changes("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  serial TEXT NOT NULL,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX certificates_not_valid ON certificates(issuer, not_after)"
	"  WHERE status != 'valid';",
};

/* ------------------------------------------------------------------ statements */

static int db_error(struct sq *sq, const char *what)
{
	sq->last_rc = sqlite3_extended_errcode(sq->db);
	if ((sq->last_rc & 0xff) == SQLITE_BUSY)
		return tsr_error(TSR_ERR_STORE,
		    "%s: %s: database is locked (another process kept it busy for %d s)",
		    sq->path, what, BUSY_TIMEOUT_MS / 1000);
	return tsr_error(TSR_ERR_STORE, "%s: %s: %s", sq->path, what, sqlite3_errmsg(sq->db));
}

static int bind(sqlite3_stmt *stmt, int i, const struct param *p)
{
	switch (p->type) {
	case PARAM_TEXT:
		if (p->text != NULL)
			return sqlite3_bind_text(stmt, i, p->text, -1, SQLITE_STATIC);
		return sqlite3_bind_null(stmt, i);
	case PARAM_INT:
		return sqlite3_bind_int64(stmt, i, p->num);
	case PARAM_BLOB:
		return sqlite3_bind_blob64(stmt, i, p->blob, p->len, SQLITE_STATIC);
	case PARAM_NULL:
	default:
		return sqlite3_bind_null(stmt, i);
	}
}

/* FNV-1a: the cache's key is the SQL text, and listings build theirs. */
static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 14695981039346656037u;

	for (const unsigned char *c = (const unsigned char *)sql; *c != '\0'; c++)
		h = (h ^ *c) * 1099511628211u;
	return h;
}

static struct cached_stmt *cache_find(struct sq *sq, const char *sql, uint64_t hash)
{
	for (size_t i = 0; i < sq->n_cached; i++)
		if (sq->cache[i].hash == hash && strcmp(sq->cache[i].sql, sql) == 0)
			return &sq->cache[i];
	return NULL;
}

/* A slot for a new entry: a free one, else the least recently used entry
 * not in use (the caller finalizes what it held); NULL if all are busy. */
static struct cached_stmt *cache_slot(struct sq *sq)
{
	struct cached_stmt *lru = NULL;

	if (sq->n_cached < STMT_CACHE_MAX)
		return &sq->cache[sq->n_cached];
	for (size_t i = 0; i < sq->n_cached; i++)
		if (!sq->cache[i].busy && (lru == NULL || sq->cache[i].last_use < lru->last_use))
			lru = &sq->cache[i];
	return lru;
}

/* Keep stmt, just prepared from sql, in the cache if a slot and memory
 * allow; otherwise it stays uncached and release() finalizes it. */
static void cache_put(struct sq *sq, const char *sql, uint64_t hash, sqlite3_stmt *stmt)
{
	struct cached_stmt *e = cache_slot(sq);
	char *key;

	if (e == NULL || (key = strdup(sql)) == NULL)
		return;
	if (e == &sq->cache[sq->n_cached]) {
		sq->n_cached++;
	} else {
		sqlite3_finalize(e->stmt);
		free(e->sql);
	}
	*e = (struct cached_stmt){ .sql = key, .hash = hash, .stmt = stmt,
	    .last_use = ++sq->uses, .busy = true };
}

/* A statement for sql with no bindings, not in use elsewhere: the cached
 * one when it is free; a new one otherwise (cached if possible).  A
 * statement already in use (a listing whose callback runs the same SQL
 * on this connection) gets an uncached twin.  Returns an SQLite code. */
static int stmt_get(struct sq *sq, const char *sql, bool keep, sqlite3_stmt **out)
{
	uint64_t hash = keep ? sql_hash(sql) : 0;
	struct cached_stmt *e = keep ? cache_find(sq, sql, hash) : NULL;
	int rc;

	if (e != NULL && !e->busy) {
		e->busy = true;
		e->last_use = ++sq->uses;
		*out = e->stmt;
		return SQLITE_OK;
	}
	keep = keep && e == NULL;
	rc = sqlite3_prepare_v3(sq->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, out, NULL);
	if (rc == SQLITE_OK && keep)
		cache_put(sq, sql, hash, *out);
	return rc;
}

/* Done with stmt (NULL is fine): a cached statement is reset and its
 * bindings cleared (they point at the caller's memory) for the next call;
 * any other is finalized.  Every prepare() ends here. */
static void release(struct sq *sq, sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	for (size_t i = 0; i < sq->n_cached; i++) {
		if (sq->cache[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			sq->cache[i].busy = false;
			return;
		}
	}
	sqlite3_finalize(stmt);
}

/* Finalize every cached statement (at close). */
static void cache_clear(struct sq *sq)
{
	for (size_t i = 0; i < sq->n_cached; i++) {
		sqlite3_finalize(sq->cache[i].stmt);
		free(sq->cache[i].sql);
	}
	sq->n_cached = 0;
}

/* Get a statement for sql (kept prepared if keep) and bind p[0..n) to
 * ?1..?n.  The bound strings must stay valid until release(). */
static int prepare_with(struct sq *sq, const char *what, const char *sql, const struct param *p,
    size_t n, bool keep, sqlite3_stmt **out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r;

	*out = NULL;
	rc = stmt_get(sq, sql, keep, &stmt);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++)
		rc = bind(stmt, (int)i + 1, &p[i]);
	if (rc != SQLITE_OK) {
		r = db_error(sq, what);
		release(sq, stmt);
		return r;
	}
	*out = stmt;
	return 0;
}

/* prepare_with() for the statements run again and again: all but the few
 * run once when a database is opened. */
static int prepare(struct sq *sq, const char *what, const char *sql, const struct param *p,
    size_t n, sqlite3_stmt **out)
{
	return prepare_with(sq, what, sql, p, n, true, out);
}

/* Run a statement that returns no rows; *changes (if not NULL) gets the
 * number of rows it inserted, updated or deleted. */
static int run(struct sq *sq, const char *what, const char *sql, const struct param *p, size_t n,
    int *changes)
{
	sqlite3_stmt *stmt;
	int r;

	if ((r = prepare(sq, what, sql, p, n, &stmt)) != 0)
		return r;
	if (sqlite3_step(stmt) != SQLITE_DONE)
		r = db_error(sq, what);
	else if (changes != NULL)
		*changes = sqlite3_changes(sq->db);
	release(sq, stmt);
	return r;
}

/* Run a statement that returns one integer (e.g. a count). */
static int query_int(struct sq *sq, const char *what, const char *sql, const struct param *p,
    size_t n, int64_t *out)
{
	sqlite3_stmt *stmt;
	int r;

	if ((r = prepare(sq, what, sql, p, n, &stmt)) != 0)
		return r;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	else
		r = db_error(sq, what);
	release(sq, stmt);
	return r;
}

/* Column i as text of n bytes; NULL reads as "".  A NUL inside the value can
 * only come from a row written outside Tessera and would hide bytes from C
 * strings, so it is refused. */
static int col_text(struct sq *sq, sqlite3_stmt *stmt, int i, const char **text, size_t *n)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	if (t == NULL && sqlite3_errcode(sq->db) == SQLITE_NOMEM)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	*text = t != NULL ? (const char *)t : "";
	*n = t != NULL ? (size_t)sqlite3_column_bytes(stmt, i) : 0;
	if (memchr(*text, '\0', *n) != NULL)
		return tsr_error(TSR_ERR_STORE,
		    "%s: column %s holds a NUL byte (written outside Tessera?)", sq->path,
		    sqlite3_column_name(stmt, i));
	return 0;
}

static int col_dup(struct sq *sq, sqlite3_stmt *stmt, int i, char **out)
{
	const char *t;
	size_t n;
	int r;

	if ((r = col_text(sq, stmt, i, &t, &n)) != 0)
		return r;
	if ((*out = malloc(n + 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	memcpy(*out, t, n);
	(*out)[n] = '\0';
	return 0;
}

static int col_copy(struct sq *sq, sqlite3_stmt *stmt, int i, char *buf, size_t size)
{
	const char *t;
	size_t n;
	int r;

	if ((r = col_text(sq, stmt, i, &t, &n)) != 0)
		return r;
	if (n >= size)
		return tsr_error(TSR_ERR_STORE,
		    "%s: column %s is %zu bytes, more than the %zu allowed", sq->path,
		    sqlite3_column_name(stmt, i), n, size - 1);
	memcpy(buf, t, n);
	buf[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ transactions */

static int sq_begin(void *be)
{
	struct sq *sq = be;

	/* IMMEDIATE takes the write lock now, so two processes can never both
	 * read the same audit head and append after it. */
	return run(sq, "begin transaction", "BEGIN IMMEDIATE", NULL, 0, NULL);
}

static bool sq_in_transaction(const void *be)
{
	const struct sq *sq = be;

	return sqlite3_get_autocommit(sq->db) == 0;
}

static void sq_rollback(void *be)
{
	struct sq *sq = be;

	/* SQLite may already have rolled back after certain errors. */
	if (sq_in_transaction(sq))
		sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_commit(void *be)
{
	struct sq *sq = be;
	int r;

	if ((r = run(sq, "commit", "COMMIT", NULL, 0, NULL)) != 0)
		sq_rollback(sq);
	return r;
}

static int sq_begin_read(void *be)
{
	struct sq *sq = be;
	int64_t n = 0;
	int r;

	/* DEFERRED takes no lock; the first read then fixes the snapshot (in
	 * WAL mode, the readers' end mark), which must happen now, not at the
	 * caller's first read. */
	if ((r = run(sq, "begin read transaction", "BEGIN DEFERRED", NULL, 0, NULL)) != 0)
		return r;
	if ((r = query_int(sq, "begin read transaction", "SELECT count(*) FROM sqlite_master",
	    NULL, 0, &n)) != 0)
		sq_rollback(sq);
	return r;
}

/* ------------------------------------------------------------------ migrations */

static int schema_version(struct sq *sq, int64_t *out)
{
	return query_int(sq, "reading the schema version",
	    "SELECT IFNULL(MAX(version), 0) FROM schema_migrations", NULL, 0, out);
}

static int run_migration(struct sq *sq, int64_t version)
{
	struct param p[] = { P_INT(version), P_INT((int64_t)tsr_now()) };

	if (sqlite3_exec(sq->db, migrations[version - 1], NULL, NULL, NULL) != SQLITE_OK)
		return db_error(sq, "applying a schema migration");
	return run(sq, "recording a schema migration",
	    "INSERT INTO schema_migrations(version, applied_at) VALUES(?1, ?2)",
	    p, TSR_ARRAY_LEN(p), NULL);
}

/* Apply migration version and record it, all in one transaction. */
static int apply_migration(struct sq *sq, int64_t version)
{
	int64_t current = 0;
	int r;

	if ((r = sq_begin(sq)) != 0)
		return r;
	/* Another process may have migrated while we waited for the lock. */
	if ((r = schema_version(sq, &current)) == 0 && current < version)
		r = run_migration(sq, version);
	if (r == 0)
		return sq_commit(sq);
	sq_rollback(sq);
	return r;
}

/* Refuse to turn someone else's database into ours. */
static int check_foreign(struct sq *sq, bool *fresh)
{
	int64_t ours = 0, objects = 0;
	int r;

	if ((r = query_int(sq, "reading the schema",
	    "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'",
	    NULL, 0, &ours)) != 0 ||
	    (r = query_int(sq, "reading the schema", "SELECT count(*) FROM sqlite_master",
	    NULL, 0, &objects)) != 0)
		return r;
	if (ours == 0 && objects > 0)
		return tsr_error(TSR_ERR_STORE, "%s: not a Tessera database", sq->path);
	*fresh = ours == 0;
	return 0;
}

/* Apply the migrations this database has not had yet. */
static int migrate(struct sq *sq, bool fresh)
{
	const int64_t known = (int64_t)TSR_ARRAY_LEN(migrations);
	int64_t version = 0;
	int r;

	if (fresh && (r = run(sq, "creating the schema table",
	    "CREATE TABLE IF NOT EXISTS schema_migrations("
	    "  version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
	    NULL, 0, NULL)) != 0)
		return r;
	if ((r = schema_version(sq, &version)) != 0)
		return r;
	if (version > known)
		return tsr_error(TSR_ERR_STORE,
		    "%s: database schema version %lld is newer than this build of Tessera "
		    "knows (%lld); use a newer Tessera", sq->path, (long long)version,
		    (long long)known);
	for (int64_t v = version + 1; v <= known; v++)
		if ((r = apply_migration(sq, v)) != 0)
			return r;
	return 0;
}

static int sq_schema_version(void *be, int *out)
{
	int64_t v = 0;
	int r;

	if ((r = schema_version(be, &v)) == 0)
		*out = (int)v;
	return r;
}

/* ------------------------------------------------------------------ open and close */

static int create_file(const char *dbpath, const char *path)
{
	int fd = open(dbpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return tsr_error(errno == EEXIST ? TSR_ERR_EXISTS : TSR_ERR_IO, "%s: %s", path,
		    errno == EEXIST ? "a database already exists there" : strerror(errno));
	/* The umask may have taken bits away; 0600 is what we want, exactly.
	 * SQLite gives the -wal and -shm files the database file's mode. */
	if (fchmod(fd, 0600) != 0) {
		int r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));

		close(fd);
		unlink(dbpath);
		return r;
	}
	close(fd);
	return 0;
}

static void remove_files(const char *dbpath)
{
	static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
	char *p;

	for (size_t i = 0; i < TSR_ARRAY_LEN(suffixes); i++) {
		if (asprintf(&p, "%s%s", dbpath, suffixes[i]) >= 0) {
			unlink(p);
			free(p);
		}
	}
	unlink(dbpath);
}

/* Settings of this connection only; nothing is written to the file. */
static int configure(struct sq *sq)
{
	sqlite3_busy_timeout(sq->db, BUSY_TIMEOUT_MS);
	/* Defensive mode forbids the pragmas that can corrupt a database. */
	sqlite3_db_config(sq->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (sqlite3_exec(sq->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
	    " PRAGMA trusted_schema = OFF;", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(sq, "configuring the connection");
	return 0;
}

/* WAL lets readers (OCSP, listings) run while an issuance holds the write
 * lock.  The mode is stored in the file, so this comes after the check
 * that the file is ours. */
static int enable_wal(struct sq *sq)
{
	const unsigned char *mode;
	sqlite3_stmt *stmt;
	int r;

	/* Run once per connection: not worth a place in the cache. */
	if ((r = prepare_with(sq, "switching to WAL mode", "PRAGMA journal_mode = WAL", NULL, 0,
	    false, &stmt)) != 0)
		return r;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		r = db_error(sq, "switching to WAL mode");
	} else {
		mode = sqlite3_column_text(stmt, 0);
		if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
			r = tsr_error(TSR_ERR_STORE, "%s: the database refused WAL mode", sq->path);
	}
	release(sq, stmt);
	return r;
}

static void sq_close(void *be)
{
	struct sq *sq = be;

	if (sq == NULL)
		return;
	if (sq->db != NULL) {
		sq_rollback(sq);
		cache_clear(sq);
		sqlite3_close(sq->db);
	}
	free(sq->path);
	free(sq);
}

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

/* Settings of the SQLite library, made once per process before it
 * initialises (the first open does that).  Memory statistics take one
 * process-wide mutex on every allocation, which threads serving requests
 * on their own connections would queue on; the store never reads them. */
static void library_configure(void)
{
	library_rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* SQLITE_MISUSE: something else in the process initialised SQLite
	 * first.  The statistics then stay on, which costs time, not
	 * correctness. */
	if (library_rc == SQLITE_MISUSE)
		library_rc = SQLITE_OK;
}

static int sq_open(const char *path, bool create, void **be)
{
	struct sq *sq = NULL;
	char *dbpath = NULL;
	struct stat sb;
	bool created = false, fresh = false;
	int r = 0, flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);

	*be = NULL;
	pthread_once(&library_once, library_configure);
	if (library_rc != SQLITE_OK)
		return tsr_error(TSR_ERR_STORE, "configuring SQLite: %s", sqlite3_errstr(library_rc));
	/* This SQLite reads "file:" names as URIs; "./" keeps a path a path. */
	if (asprintf(&dbpath, "%s%s", path[0] == '/' ? "" : "./", path) < 0 ||
	    (sq = calloc(1, sizeof(*sq))) == NULL || (sq->path = strdup(path)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (create) {
		if ((r = create_file(dbpath, path)) != 0)
			goto out;
		created = true;
	} else if (stat(dbpath, &sb) != 0) {
		r = tsr_error(errno == ENOENT ? TSR_ERR_NOT_FOUND : TSR_ERR_IO, "%s: %s", path,
		    errno == ENOENT ? "no database there" : strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(dbpath, &sq->db, flags, NULL) != SQLITE_OK) {
		r = sq->db != NULL ? db_error(sq, "opening the database") :
		    tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = configure(sq)) != 0 || (r = check_foreign(sq, &fresh)) != 0 ||
	    (r = enable_wal(sq)) != 0 || (r = migrate(sq, fresh)) != 0)
		goto out;
	*be = sq;
	sq = NULL;
out:
	sq_close(sq);
	if (r != 0 && created)
		remove_files(dbpath);
	free(dbpath);
	return r;
}

/* ------------------------------------------------------------------ metadata */

static int sq_meta_set(void *be, const char *key, const char *value)
{
	struct param p[] = { P_TEXT(key), P_TEXT(value) };

	return run(be, "setting metadata",
	    "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    p, TSR_ARRAY_LEN(p), NULL);
}

static int sq_meta_get(void *be, const char *key, char **out)
{
	struct param p[] = { P_TEXT(key) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading metadata", "SELECT value FROM meta WHERE key = ?1", p,
	    TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = col_dup(sq, stmt, 0, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading metadata");
	release(sq, stmt);
	return r;
}

/* ------------------------------------------------------------------ certificates */

static int sq_serial_reserve(void *be, const char *serial, const char *issuer)
{
	struct param p[] = { P_TEXT(serial), P_TEXT(issuer) };
	struct sq *sq = be;
	int r;

	r = run(sq, "reserving a serial number",
	    "INSERT INTO certificates(serial, issuer, state) VALUES(?1, ?2, 'reserved')",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_serial_state(void *be, const char *serial, bool *issued, char *issuer,
    size_t size)
{
	struct param p[] = { P_TEXT(serial) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	const unsigned char *state;
	int r, rc;

	if ((r = prepare(sq, "storing a certificate",
	    "SELECT state, issuer FROM certificates WHERE serial = ?1",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		r = TSR_ERR_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		r = db_error(sq, "storing a certificate");
	} else {
		state = sqlite3_column_text(stmt, 0);
		*issued = state != NULL && strcmp((const char *)state, "issued") == 0;
		r = col_copy(sq, stmt, 1, issuer, size);
	}
	release(sq, stmt);
	return r;
}

static int sq_cert_put(void *be, const struct tsr_cert_record *rec)
{
	struct param p[] = {
		P_TEXT(rec->serial), P_TEXT(rec->issuer), P_TEXT(rec->role),
		P_TEXT(rec->product), P_TEXT(rec->key_type), P_TEXT(rec->status),
		P_TEXT(rec->fingerprint), P_INT(rec->not_before), P_INT(rec->not_after),
		P_INT(rec->issued_at), P_TEXT(rec->subject), P_TEXT(rec->sans),
		P_BLOB(rec->der, rec->der_len),
	};
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "storing a certificate",
	    "UPDATE certificates SET state = 'issued', role = ?3, product = ?4, key_type = ?5,"
	    " status = ?6, fingerprint = ?7, not_before = ?8, not_after = ?9, issued_at = ?10,"
	    " subject = ?11, sans = ?12, der = ?13"
	    " WHERE serial = ?1 AND issuer = ?2 AND state = 'reserved'",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_NOT_FOUND;
	return r;
}

/* Fill rec from a row of CERT_COLUMNS. */
static int row_to_cert(struct sq *sq, sqlite3_stmt *stmt, struct tsr_cert_record *rec)
{
	const void *der;
	int r;

	if ((r = col_copy(sq, stmt, 0, rec->serial, sizeof(rec->serial))) != 0 ||
	    (r = col_copy(sq, stmt, 1, rec->issuer, sizeof(rec->issuer))) != 0 ||
	    (r = col_copy(sq, stmt, 2, rec->role, sizeof(rec->role))) != 0 ||
	    (r = col_copy(sq, stmt, 3, rec->product, sizeof(rec->product))) != 0 ||
	    (r = col_copy(sq, stmt, 4, rec->key_type, sizeof(rec->key_type))) != 0 ||
	    (r = col_copy(sq, stmt, 5, rec->status, sizeof(rec->status))) != 0 ||
	    (r = col_copy(sq, stmt, 6, rec->fingerprint, sizeof(rec->fingerprint))) != 0 ||
	    (r = col_dup(sq, stmt, 10, &rec->subject)) != 0 ||
	    (r = col_dup(sq, stmt, 11, &rec->sans)) != 0)
		return r;
	rec->not_before = sqlite3_column_int64(stmt, 7);
	rec->not_after = sqlite3_column_int64(stmt, 8);
	rec->issued_at = sqlite3_column_int64(stmt, 9);
	rec->revoked_at = sqlite3_column_int64(stmt, 13);   /* NULL reads as 0 */
	rec->invalidity_date = sqlite3_column_int64(stmt, 15);
	if ((r = col_copy(sq, stmt, 14, rec->revocation_reason,
	    sizeof(rec->revocation_reason))) != 0)
		return r;
	der = sqlite3_column_blob(stmt, 12);
	rec->der_len = (size_t)sqlite3_column_bytes(stmt, 12);
	if (der == NULL || rec->der_len == 0)
		return tsr_error(TSR_ERR_STORE, "%s: certificate %s has no DER", sq->path,
		    rec->serial);
	if ((rec->der = malloc(rec->der_len)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	memcpy(rec->der, der, rec->der_len);
	return 0;
}

static int sq_cert_get(void *be, const char *serial, struct tsr_cert_record *out)
{
	struct param p[] = { P_TEXT(serial) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading a certificate",
	    "SELECT " CERT_COLUMNS " FROM certificates WHERE serial = ?1 AND state = 'issued'",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_cert(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading a certificate");
	release(sq, stmt);
	return r;
}

static int sq_cert_list(void *be, const struct tsr_cert_filter *f, tsr_cert_fn fn, void *ctx)
{
	/* Absent filters bind NULL, which the WHERE clause reads as "any". */
	struct param p[] = {
		P_TEXT(f->product), P_TEXT(f->role), P_TEXT(f->issuer), P_TEXT(f->status),
		P_TEXT(f->subject_like), int_or_null(f->expires_before),
		int_or_null(f->expires_after), P_INT(f->limit != 0 ? (int64_t)f->limit : -1),
	};
	struct tsr_cert_record rec;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	/* Many certificates share a second: the rowid, taken when the serial
	 * was reserved, keeps "newest first" exact among them. */
	if ((r = prepare(sq, "listing certificates",
	    "SELECT " CERT_COLUMNS " FROM certificates WHERE state = 'issued'"
	    " AND (?1 IS NULL OR product = ?1) AND (?2 IS NULL OR role = ?2)"
	    " AND (?3 IS NULL OR issuer = ?3) AND (?4 IS NULL OR status = ?4)"
	    " AND (?5 IS NULL OR instr(lower(subject), lower(?5)) > 0)"
	    " AND (?6 IS NULL OR not_after < ?6) AND (?7 IS NULL OR not_after > ?7)"
	    " ORDER BY issued_at DESC, rowid DESC LIMIT ?8",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&rec, 0, sizeof(rec));
		if ((r = row_to_cert(sq, stmt, &rec)) == 0)
			r = fn(&rec, ctx);
		tsr_cert_record_clear(&rec);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "listing certificates");
	release(sq, stmt);
	return r;
}

static int sq_cert_set_status(void *be, const char *serial, const char *expect_status,
    const char *new_status, int64_t revoked_at, const char *reason, int64_t invalidity_date)
{
	struct param p[] = {
		P_TEXT(serial), P_TEXT(expect_status), P_TEXT(new_status), int_or_null(revoked_at),
		P_TEXT(reason), int_or_null(invalidity_date),
	};
	struct sq *sq = be;
	int64_t exists = 0;
	int r, changes = 0;

	r = run(sq, "changing a certificate's status",
	    "UPDATE certificates SET status = ?3, revoked_at = ?4, revocation_reason = ?5,"
	    " invalidity_date = ?6 WHERE serial = ?1 AND state = 'issued' AND status = ?2",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes == 1) {
		struct param q[] = { P_TEXT(serial), P_INT((int64_t)tsr_now()) };

		return run(sq, "logging a status change",
		    "INSERT INTO status_changes(serial, at) VALUES(?1, ?2)", q, TSR_ARRAY_LEN(q),
		    NULL);
	}
	if (r != 0)
		return r;
	if ((r = query_int(sq, "changing a certificate's status",
	    "SELECT count(*) FROM certificates WHERE serial = ?1 AND state = 'issued'",
	    p, 1, &exists)) != 0)
		return r;
	return exists == 0 ? TSR_ERR_NOT_FOUND : TSR_ERR_POLICY;
}

static int sq_revoked_list(void *be, const char *issuer, int64_t not_after_from,
    tsr_revoked_fn fn, void *ctx)
{
	struct param p[] = { P_TEXT(issuer), P_INT(not_after_from) };
	struct tsr_revoked_entry e;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	/* The WHERE repeats the partial index's condition word for word so
	 * that SQLite uses it. */
	if ((r = prepare(sq, "listing revoked certificates",
	    "SELECT serial, revoked_at, revocation_reason, IFNULL(invalidity_date, 0)"
	    " FROM certificates WHERE status != 'valid' AND issuer = ?1 AND not_after >= ?2"
	    " AND state = 'issued'", p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.revoked_at = sqlite3_column_int64(stmt, 1);
		e.invalidity_date = sqlite3_column_int64(stmt, 3);
		if ((r = col_copy(sq, stmt, 0, e.serial, sizeof(e.serial))) != 0 ||
		    (r = col_copy(sq, stmt, 2, e.reason, sizeof(e.reason))) != 0 ||
		    (r = fn(&e, ctx)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "listing revoked certificates");
	release(sq, stmt);
	return r;
}

static int sq_status_changes(void *be, int64_t after, tsr_status_change_fn fn, void *ctx)
{
	struct param p[] = { P_INT(after) };
	char serial[TSR_SERIAL_HEX_MAX + 1];
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading status changes",
	    "SELECT seq, serial, at FROM status_changes WHERE seq > ?1 ORDER BY seq",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((r = col_copy(sq, stmt, 1, serial, sizeof(serial))) != 0 ||
		    (r = fn(sqlite3_column_int64(stmt, 0), serial, sqlite3_column_int64(stmt, 2),
		    ctx)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "reading status changes");
	release(sq, stmt);
	return r;
}

static int sq_status_seq(void *be, int64_t *out)
{
	return query_int(be, "reading the last status change",
	    "SELECT IFNULL(MAX(seq), 0) FROM status_changes", NULL, 0, out);
}

static int sq_cert_count(void *be, int64_t *out)
{
	return query_int(be, "counting certificates", "SELECT count(*) FROM certificates", NULL,
	    0, out);
}

/* ------------------------------------------------------------------ audit rows */

/* Fill rec from a row of AUDIT_COLUMNS. */
static int row_to_audit(struct sq *sq, sqlite3_stmt *stmt, struct tsr_audit_record *rec)
{
	int r;

	rec->seq = sqlite3_column_int64(stmt, 0);
	rec->time = sqlite3_column_int64(stmt, 1);
	if ((r = col_dup(sq, stmt, 2, &rec->actor)) != 0 ||
	    (r = col_dup(sq, stmt, 3, &rec->action)) != 0 ||
	    (r = col_dup(sq, stmt, 4, &rec->object)) != 0 ||
	    (r = col_dup(sq, stmt, 5, &rec->outcome)) != 0 ||
	    (r = col_dup(sq, stmt, 6, &rec->detail)) != 0 ||
	    (r = col_copy(sq, stmt, 7, rec->prev_hash, sizeof(rec->prev_hash))) != 0 ||
	    (r = col_copy(sq, stmt, 8, rec->hash, sizeof(rec->hash))) != 0)
		return r;
	return 0;
}

static int sq_audit_last(void *be, struct tsr_audit_record *out)
{
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading the audit log",
	    "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY seq DESC LIMIT 1", NULL, 0,
	    &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_audit(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading the audit log");
	release(sq, stmt);
	return r;
}

static int sq_audit_insert(void *be, const struct tsr_audit_record *rec)
{
	struct param p[] = {
		P_INT(rec->seq), P_INT(rec->time), P_TEXT(rec->actor), P_TEXT(rec->action),
		P_TEXT(rec->object), P_TEXT(rec->outcome), P_TEXT(rec->detail),
		P_TEXT(rec->prev_hash), P_TEXT(rec->hash),
	};
	struct sq *sq = be;
	int r, changes = 0;

	/* The WHERE makes "seq is last + 1" part of the insert itself. */
	r = run(sq, "appending to the audit log",
	    "INSERT INTO audit(" AUDIT_COLUMNS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
	    " WHERE ?1 = (SELECT IFNULL(MAX(seq), 0) + 1 FROM audit)",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_INTERNAL;
	return r;
}

static int sq_audit_iter(void *be, tsr_audit_fn fn, void *ctx)
{
	struct tsr_audit_record rec;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading the audit log",
	    "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY seq", NULL, 0, &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&rec, 0, sizeof(rec));
		if ((r = row_to_audit(sq, stmt, &rec)) == 0)
			r = fn(&rec, ctx);
		tsr_audit_record_clear(&rec);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "reading the audit log");
	release(sq, stmt);
	return r;
}

/* ------------------------------------------------------------------ users */

/* Fill u from a row of USER_COLUMNS. */
static int row_to_user(struct sq *sq, sqlite3_stmt *stmt, struct tsr_user_record *u)
{
	int r;

	u->id = sqlite3_column_int64(stmt, 0);
	if ((r = col_copy(sq, stmt, 1, u->name, sizeof(u->name))) != 0 ||
	    (r = col_dup(sq, stmt, 2, &u->display_name)) != 0 ||
	    (r = col_dup(sq, stmt, 3, &u->email)) != 0 ||
	    (r = col_copy(sq, stmt, 4, u->roles, sizeof(u->roles))) != 0 ||
	    (r = col_dup(sq, stmt, 5, &u->password_hash)) != 0)
		return r;
	u->failed_logins = (int)sqlite3_column_int64(stmt, 6);
	u->locked = sqlite3_column_int64(stmt, 7) != 0;
	u->disabled = sqlite3_column_int64(stmt, 8) != 0;
	u->created_at = sqlite3_column_int64(stmt, 9);
	u->updated_at = sqlite3_column_int64(stmt, 10);
	return 0;
}

static int sq_user_create(void *be, const struct tsr_user_record *u, int64_t now)
{
	struct param p[] = {
		P_TEXT(u->name), P_TEXT(u->display_name), P_TEXT(u->email), P_TEXT(u->roles),
		P_TEXT(u->password_hash), P_INT(u->failed_logins), P_INT(u->locked ? 1 : 0),
		P_INT(u->disabled ? 1 : 0), P_INT(now),
	};
	struct sq *sq = be;
	int r;

	r = run(sq, "adding a user",
	    "INSERT INTO users(name, display_name, email, roles, password_hash, failed_logins,"
	    " locked, disabled, created_at, updated_at)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_UNIQUE)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_user_get(void *be, const char *name, struct tsr_user_record *out)
{
	struct param p[] = { P_TEXT(name) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading a user",
	    "SELECT " USER_COLUMNS " FROM users WHERE name = ?1", p, TSR_ARRAY_LEN(p),
	    &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_user(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading a user");
	release(sq, stmt);
	return r;
}

static int sq_user_list(void *be, tsr_user_fn fn, void *ctx)
{
	struct tsr_user_record u;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "listing users", "SELECT " USER_COLUMNS " FROM users ORDER BY name",
	    NULL, 0, &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		if ((r = row_to_user(sq, stmt, &u)) == 0)
			r = fn(&u, ctx);
		tsr_user_record_clear(&u);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "listing users");
	release(sq, stmt);
	return r;
}

static int sq_user_update(void *be, const char *name, const struct tsr_user_update *u,
    int64_t now)
{
	struct param p[] = {
		P_TEXT(name), P_TEXT(u->password_hash), P_TEXT(u->roles),
		opt_int(u->failed_logins), opt_int(u->locked), opt_int(u->disabled), P_INT(now),
	};
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "updating a user",
	    "UPDATE users SET password_hash = IFNULL(?2, password_hash),"
	    " roles = IFNULL(?3, roles), failed_logins = IFNULL(?4, failed_logins),"
	    " locked = IFNULL(?5, locked), disabled = IFNULL(?6, disabled), updated_at = ?7"
	    " WHERE name = ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_NOT_FOUND;
	return r;
}

/* ------------------------------------------------------------------ vouchers */

/* Fill v from a row of VOUCHER_COLUMNS; NULL times read as 0. */
static int row_to_voucher(struct sq *sq, sqlite3_stmt *stmt, struct tsr_voucher_record *v)
{
	int r;

	if ((r = col_copy(sq, stmt, 0, v->code_hash, sizeof(v->code_hash))) != 0 ||
	    (r = col_copy(sq, stmt, 1, v->batch, sizeof(v->batch))) != 0 ||
	    (r = col_copy(sq, stmt, 2, v->product, sizeof(v->product))) != 0 ||
	    (r = col_copy(sq, stmt, 6, v->used_by, sizeof(v->used_by))) != 0)
		return r;
	v->created_at = sqlite3_column_int64(stmt, 3);
	v->expires_at = sqlite3_column_int64(stmt, 4);
	v->used_at = sqlite3_column_int64(stmt, 5);
	v->revoked_at = sqlite3_column_int64(stmt, 7);
	return 0;
}

static int sq_voucher_insert(void *be, const struct tsr_voucher_record *v)
{
	struct param p[] = {
		P_TEXT(v->code_hash), P_TEXT(v->batch), P_TEXT(v->product), P_INT(v->created_at),
		int_or_null(v->expires_at),
	};
	struct sq *sq = be;
	int r;

	r = run(sq, "storing a voucher",
	    "INSERT INTO vouchers(code_hash, batch, product, created_at, expires_at)"
	    " VALUES(?1, ?2, ?3, ?4, ?5)",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_voucher_get(void *be, const char *code_hash, struct tsr_voucher_record *out)
{
	struct param p[] = { P_TEXT(code_hash) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading a voucher",
	    "SELECT " VOUCHER_COLUMNS " FROM vouchers WHERE code_hash = ?1", p, TSR_ARRAY_LEN(p),
	    &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_voucher(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading a voucher");
	release(sq, stmt);
	return r;
}

static int sq_voucher_list(void *be, const struct tsr_voucher_filter *f, tsr_voucher_fn fn,
    void *ctx)
{
	struct param p[] = { P_TEXT(f->batch), P_TEXT(f->product) };
	struct tsr_voucher_record v;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	/* A batch is made at one instant, so created_at then batch keeps
	 * its rows together. */
	if ((r = prepare(sq, "listing vouchers",
	    "SELECT " VOUCHER_COLUMNS " FROM vouchers"
	    " WHERE (?1 IS NULL OR batch = ?1) AND (?2 IS NULL OR product = ?2)"
	    " ORDER BY created_at, batch, code_hash",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&v, 0, sizeof(v));
		if ((r = row_to_voucher(sq, stmt, &v)) == 0)
			r = fn(&v, ctx);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "listing vouchers");
	release(sq, stmt);
	return r;
}

static int sq_voucher_consume(void *be, const char *code_hash, const char *product,
    const char *used_by, int64_t now)
{
	struct param p[] = { P_TEXT(code_hash), P_TEXT(product), P_TEXT(used_by), P_INT(now) };
	struct sq *sq = be;
	int r, changes = 0;

	/* Every condition is in the one statement, so two redemptions of the
	 * same code can never both succeed. */
	r = run(sq, "using a voucher",
	    "UPDATE vouchers SET used_at = ?4, used_by = ?3"
	    " WHERE code_hash = ?1 AND product = ?2 AND used_at IS NULL AND revoked_at IS NULL"
	    " AND (expires_at IS NULL OR expires_at > ?4)",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_POLICY;
	return r;
}

static int sq_voucher_revoke_batch(void *be, const char *batch, int64_t now, int64_t *revoked)
{
	struct param p[] = { P_TEXT(batch), P_INT(now) };
	struct sq *sq = be;
	int64_t rows = 0;
	int r, changes = 0;

	if ((r = query_int(sq, "revoking vouchers", "SELECT count(*) FROM vouchers WHERE batch = ?1",
	    p, 1, &rows)) != 0)
		return r;
	if (rows == 0)
		return TSR_ERR_NOT_FOUND;
	r = run(sq, "revoking vouchers",
	    "UPDATE vouchers SET revoked_at = ?2"
	    " WHERE batch = ?1 AND used_at IS NULL AND revoked_at IS NULL",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0)
		*revoked = changes;
	return r;
}

/* ------------------------------------------------------------------ applications */

/* Fill a from a row of APP_COLUMNS. */
static int row_to_app(struct sq *sq, sqlite3_stmt *stmt, struct tsr_app_record *a)
{
	int r;

	if ((r = col_copy(sq, stmt, 0, a->id, sizeof(a->id))) != 0 ||
	    (r = col_copy(sq, stmt, 1, a->product, sizeof(a->product))) != 0 ||
	    (r = col_copy(sq, stmt, 2, a->storage, sizeof(a->storage))) != 0 ||
	    (r = col_copy(sq, stmt, 3, a->state, sizeof(a->state))) != 0 ||
	    (r = col_dup(sq, stmt, 7, &a->email)) != 0 ||
	    (r = col_dup(sq, stmt, 8, &a->npi)) != 0 ||
	    (r = col_dup(sq, stmt, 9, &a->dea)) != 0 ||
	    (r = col_dup(sq, stmt, 10, &a->identity)) != 0 ||
	    (r = col_dup(sq, stmt, 11, &a->applicant)) != 0 ||
	    (r = col_dup(sq, stmt, 12, &a->agreement)) != 0 ||
	    (r = col_dup(sq, stmt, 13, &a->password_hash)) != 0 ||
	    (r = col_copy(sq, stmt, 16, a->token_serial, sizeof(a->token_serial))) != 0 ||
	    (r = col_dup(sq, stmt, 17, &a->checks)) != 0 ||
	    (r = col_dup(sq, stmt, 18, &a->reason)) != 0 ||
	    (r = col_copy(sq, stmt, 19, a->cert_serial, sizeof(a->cert_serial))) != 0 ||
	    (r = col_dup(sq, stmt, 20, &a->last_test)) != 0)
		return r;
	a->state_since = sqlite3_column_int64(stmt, 4);
	a->created_at = sqlite3_column_int64(stmt, 5);
	a->updated_at = sqlite3_column_int64(stmt, 6);
	a->failed_logins = (int)sqlite3_column_int64(stmt, 14);
	a->locked = sqlite3_column_int64(stmt, 15) != 0;
	return 0;
}

static int sq_app_create(void *be, const struct tsr_app_record *a)
{
	struct param p[] = {
		P_TEXT(a->id), P_TEXT(a->product), P_TEXT(a->storage), P_TEXT(a->state),
		P_INT(a->state_since), P_INT(a->created_at), P_INT(a->updated_at),
		P_TEXT(a->email), P_TEXT(a->npi), P_TEXT(a->dea), P_TEXT(a->identity),
		P_TEXT(a->applicant), P_TEXT(a->agreement), P_TEXT(a->password_hash),
		P_INT(a->failed_logins), P_INT(a->locked ? 1 : 0), P_TEXT(a->token_serial),
		P_TEXT(a->checks), P_TEXT(a->reason), P_TEXT(a->cert_serial),
		P_TEXT(a->last_test),
	};
	struct sq *sq = be;
	int r;

	r = run(sq, "storing an application",
	    "INSERT INTO applications(" APP_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_app_get(void *be, const char *id, struct tsr_app_record *out)
{
	struct param p[] = { P_TEXT(id) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading an application",
	    "SELECT " APP_COLUMNS " FROM applications WHERE id = ?1", p, TSR_ARRAY_LEN(p),
	    &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_app(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading an application");
	release(sq, stmt);
	return r;
}

/*
 * The optional conditions of an application listing, each with its own
 * parameter number.  Only the conditions the filter sets go into the
 * statement, so that SQLite can use the index behind each one ("?1 IS NULL
 * OR state = ?1" would hide it); the text is still constant and every
 * value is bound.
 */
static const char *const app_conditions[] = {
	" AND state = ?1", " AND product = ?2", " AND email = ?3 COLLATE NOCASE",
	" AND npi = ?4", " AND dea = ?5", " AND identity = ?6", " AND state_since < ?7",
	" AND token_serial = ?8", " AND cert_serial = ?9",
};
#define APP_LIST_HEAD "SELECT " APP_COLUMNS " FROM applications WHERE 1"
/* Same second: the one stored first comes first (rowid), as a queue should. */
#define APP_LIST_TAIL " ORDER BY created_at, rowid LIMIT ?10"

static void app_list_sql(const struct tsr_app_filter *f, char *sql, size_t size)
{
	const bool set[TSR_ARRAY_LEN(app_conditions)] = {
		f->state != NULL, f->product != NULL, f->email != NULL, f->npi != NULL,
		f->dea != NULL, f->identity != NULL, f->state_before != 0, f->token_serial != NULL,
		f->cert_serial != NULL,
	};

	snprintf(sql, size, "%s", APP_LIST_HEAD);
	for (size_t i = 0; i < TSR_ARRAY_LEN(app_conditions); i++)
		if (set[i])
			strncat(sql, app_conditions[i], size - strlen(sql) - 1);
	strncat(sql, APP_LIST_TAIL, size - strlen(sql) - 1);
}

static int sq_app_list(void *be, const struct tsr_app_filter *f, tsr_app_fn fn, void *ctx)
{
	struct param p[] = {
		P_TEXT(f->state), P_TEXT(f->product), P_TEXT(f->email), P_TEXT(f->npi),
		P_TEXT(f->dea), P_TEXT(f->identity), int_or_null(f->state_before),
		P_TEXT(f->token_serial), P_TEXT(f->cert_serial),
		/* ?10, the last, is always in the SQL: SQLite counts parameters up
		 * to the highest number used, so every one above can be bound. */
		P_INT(f->limit != 0 ? (int64_t)f->limit : -1),
	};
	/* Room for the head, every condition and the tail. */
	char sql[sizeof(APP_LIST_HEAD) + sizeof(APP_LIST_TAIL) + 256];
	struct tsr_app_record a;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	app_list_sql(f, sql, sizeof(sql));
	if ((r = prepare(sq, "listing applications", sql, p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		if ((r = row_to_app(sq, stmt, &a)) == 0)
			r = fn(&a, ctx);
		tsr_app_record_clear(&a);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "listing applications");
	release(sq, stmt);
	return r;
}

static int sq_app_update(void *be, const char *id, const struct tsr_app_update *u,
    int64_t now)
{
	struct param p[] = {
		P_TEXT(id), P_TEXT(u->expect_state), P_TEXT(u->state), P_TEXT(u->password_hash),
		opt_int(u->failed_logins), opt_int(u->locked), P_TEXT(u->token_serial),
		P_TEXT(u->checks), P_TEXT(u->reason), P_INT(now), P_TEXT(u->cert_serial),
		P_TEXT(u->last_test),
	};
	struct sq *sq = be;
	int64_t rows = 0;
	int r, changes = 0;

	/* The expected state is part of the WHERE, so a change made by another
	 * request since the caller read the row makes this one change nothing. */
	r = run(sq, "updating an application",
	    "UPDATE applications SET state = IFNULL(?3, state),"
	    " state_since = CASE WHEN ?3 IS NULL THEN state_since ELSE ?10 END,"
	    " password_hash = IFNULL(?4, password_hash),"
	    " failed_logins = IFNULL(?5, failed_logins), locked = IFNULL(?6, locked),"
	    " token_serial = IFNULL(?7, token_serial), checks = IFNULL(?8, checks),"
	    " reason = IFNULL(?9, reason), cert_serial = IFNULL(?11, cert_serial),"
	    " last_test = IFNULL(?12, last_test), updated_at = ?10"
	    " WHERE id = ?1 AND (?2 IS NULL OR state = ?2)",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r != 0 || changes == 1)
		return r;
	/* Without an expected state only a missing row changes nothing. */
	if (u->expect_state != NULL && (r = query_int(sq, "updating an application",
	    "SELECT count(*) FROM applications WHERE id = ?1", p, 1, &rows)) != 0)
		return r;
	return rows == 0 ? TSR_ERR_NOT_FOUND : TSR_ERR_POLICY;
}

/* The outcome of an insert guarded by "WHERE EXISTS (the application)":
 * EXISTS when it broke the key's constraint, taken; NOT_FOUND when the
 * SELECT found no application or, with foreign keys on, the foreign key
 * refused the row. */
static int insert_outcome(struct sq *sq, int r, int changes, int taken)
{
	if (r != 0 && sq->last_rc == taken)
		return TSR_ERR_EXISTS;
	if ((r != 0 && sq->last_rc == SQLITE_CONSTRAINT_FOREIGNKEY) || (r == 0 && changes != 1))
		return TSR_ERR_NOT_FOUND;
	return r;
}

static int sq_answer_add(void *be, const char *app, const struct tsr_answer_record *a)
{
	struct param p[] = {
		P_TEXT(app), P_INT(a->idx), P_TEXT(a->question), P_TEXT(a->answer_hash),
	};
	struct sq *sq = be;
	int r, changes = 0;

	/* The EXISTS keeps "no such application" a clean NOT_FOUND whether or
	 * not the connection enforces foreign keys. */
	r = run(sq, "storing an answer",
	    "INSERT INTO answers(application, idx, question, answer_hash)"
	    " SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1)",
	    p, TSR_ARRAY_LEN(p), &changes);
	return insert_outcome(sq, r, changes, SQLITE_CONSTRAINT_PRIMARYKEY);
}

static int sq_answer_list(void *be, const char *app, tsr_answer_fn fn, void *ctx)
{
	struct param p[] = { P_TEXT(app) };
	struct tsr_answer_record a;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading answers",
	    "SELECT idx, question, answer_hash FROM answers WHERE application = ?1 ORDER BY idx",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.idx = (int)sqlite3_column_int64(stmt, 0);
		if ((r = col_dup(sq, stmt, 1, &a.question)) == 0 &&
		    (r = col_dup(sq, stmt, 2, &a.answer_hash)) == 0)
			r = fn(&a, ctx);
		tsr_answer_record_clear(&a);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "reading answers");
	release(sq, stmt);
	return r;
}

/* ------------------------------------------------------------------ codes */

/* Fill c from a row of CODE_COLUMNS; NULL times read as 0. */
static int row_to_code(struct sq *sq, sqlite3_stmt *stmt, struct tsr_code_record *c)
{
	int r;

	if ((r = col_copy(sq, stmt, 0, c->code_hash, sizeof(c->code_hash))) != 0 ||
	    (r = col_copy(sq, stmt, 1, c->application, sizeof(c->application))) != 0 ||
	    (r = col_copy(sq, stmt, 2, c->purpose, sizeof(c->purpose))) != 0)
		return r;
	c->created_at = sqlite3_column_int64(stmt, 3);
	c->expires_at = sqlite3_column_int64(stmt, 4);
	c->used_at = sqlite3_column_int64(stmt, 5);
	c->superseded_at = sqlite3_column_int64(stmt, 6);
	c->failures = (int)sqlite3_column_int64(stmt, 7);
	c->locked = sqlite3_column_int64(stmt, 8) != 0;
	return col_copy(sq, stmt, 9, c->used_key, sizeof(c->used_key));
}

/* Read the one code row sql selects with p; what names the operation. */
static int code_read(struct sq *sq, const char *what, const char *sql, const struct param *p,
    size_t n, struct tsr_code_record *out)
{
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, what, sql, p, n, &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		r = row_to_code(sq, stmt, out);
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, what);
	release(sq, stmt);
	return r;
}

/* Supersede the current unused codes of c's application and purpose, then
 * insert c: the two statements the savepoint in sq_code_insert groups. */
static int code_replace(struct sq *sq, const struct tsr_code_record *c)
{
	struct param old[] = { P_TEXT(c->application), P_TEXT(c->purpose), P_INT(c->created_at) };
	struct param p[] = {
		P_TEXT(c->code_hash), P_TEXT(c->application), P_TEXT(c->purpose),
		P_INT(c->created_at), P_INT(c->expires_at),
	};
	int r, changes = 0;

	if ((r = run(sq, "storing a code",
	    "UPDATE codes SET superseded_at = ?3 WHERE application = ?1 AND purpose = ?2"
	    " AND used_at IS NULL AND superseded_at IS NULL",
	    old, TSR_ARRAY_LEN(old), NULL)) != 0)
		return r;
	r = run(sq, "storing a code",
	    "INSERT INTO codes(code_hash, application, purpose, created_at, expires_at)"
	    " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?2)",
	    p, TSR_ARRAY_LEN(p), &changes);
	return insert_outcome(sq, r, changes, SQLITE_CONSTRAINT_PRIMARYKEY);
}

static int sq_code_insert(void *be, const struct tsr_code_record *c)
{
	struct sq *sq = be;
	bool outer = sq_in_transaction(sq);
	int r, rr;

	/* A savepoint nests inside the caller's transaction, or is a
	 * transaction of its own outside one: either way the old code is
	 * superseded if and only if the new one is stored. */
	if ((r = run(sq, "storing a code", "SAVEPOINT code_insert", NULL, 0, NULL)) != 0)
		return r;
	if ((r = code_replace(sq, c)) != 0)
		sqlite3_exec(sq->db, "ROLLBACK TO code_insert", NULL, NULL, NULL);
	rr = run(sq, "storing a code", "RELEASE code_insert", NULL, 0, NULL);
	if (r == 0)
		r = rr;
	if (r != 0 && !outer)
		sq_rollback(sq);
	return r;
}

static int sq_code_current(void *be, const char *app, const char *purpose,
    struct tsr_code_record *out)
{
	struct param p[] = { P_TEXT(app), P_TEXT(purpose) };

	/* Codes made in the same second: the rowid says which came last. */
	return code_read(be, "reading a code",
	    "SELECT " CODE_COLUMNS " FROM codes WHERE application = ?1 AND purpose = ?2"
	    " AND superseded_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1",
	    p, TSR_ARRAY_LEN(p), out);
}

static int sq_code_get(void *be, const char *code_hash, struct tsr_code_record *out)
{
	struct param p[] = { P_TEXT(code_hash) };

	return code_read(be, "reading a code",
	    "SELECT " CODE_COLUMNS " FROM codes WHERE code_hash = ?1", p, TSR_ARRAY_LEN(p), out);
}

static int sq_code_use(void *be, const char *code_hash, int64_t now, const char *used_key)
{
	struct param p[] = { P_TEXT(code_hash), P_INT(now), P_TEXT(used_key) };
	struct sq *sq = be;
	int r, changes = 0;

	/* Every condition is in the one statement, so two uses of the same
	 * code can never both succeed. */
	r = run(sq, "using a code",
	    "UPDATE codes SET used_at = ?2, used_key = ?3 WHERE code_hash = ?1"
	    " AND used_at IS NULL AND superseded_at IS NULL AND locked = 0 AND expires_at > ?2",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_POLICY;
	return r;
}

static int sq_code_set_failures(void *be, const char *code_hash, int failures, bool locked)
{
	struct param p[] = { P_TEXT(code_hash), P_INT(failures), P_INT(locked ? 1 : 0) };
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "counting a code failure",
	    "UPDATE codes SET failures = ?2, locked = ?3 WHERE code_hash = ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_NOT_FOUND;
	return r;
}

/* ------------------------------------------------------------------ approvals */

static int sq_approval_add(void *be, const struct tsr_approval_record *a)
{
	struct param p[] = {
		P_TEXT(a->application), P_TEXT(a->officer), P_INT(a->at), P_TEXT(a->comment),
	};
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "recording an approval",
	    "INSERT INTO approvals(" APPROVAL_COLUMNS ") SELECT ?1, ?2, ?3, ?4"
	    " WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1)",
	    p, TSR_ARRAY_LEN(p), &changes);
	return insert_outcome(sq, r, changes, SQLITE_CONSTRAINT_UNIQUE);
}

static int sq_approval_list(void *be, const char *app, tsr_approval_fn fn, void *ctx)
{
	struct param p[] = { P_TEXT(app) };
	struct tsr_approval_record a;
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading approvals",
	    "SELECT " APPROVAL_COLUMNS " FROM approvals WHERE application = ?1"
	    " ORDER BY at, rowid", p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.at = sqlite3_column_int64(stmt, 2);
		if ((r = col_copy(sq, stmt, 0, a.application, sizeof(a.application))) == 0 &&
		    (r = col_copy(sq, stmt, 1, a.officer, sizeof(a.officer))) == 0 &&
		    (r = col_dup(sq, stmt, 3, &a.comment)) == 0)
			r = fn(&a, ctx);
		tsr_approval_record_clear(&a);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(sq, "reading approvals");
	release(sq, stmt);
	return r;
}

/* ------------------------------------------------------------------ sessions */

static int sq_session_insert(void *be, const struct tsr_session_record *s)
{
	struct param p[] = {
		P_TEXT(s->token_hash), P_TEXT(s->subject), P_INT(s->created_at),
		P_INT(s->last_seen), P_INT(s->expires_at),
	};
	struct sq *sq = be;
	int r;

	r = run(sq, "storing a session",
	    "INSERT INTO sessions(" SESSION_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5)",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_session_get(void *be, const char *token_hash, struct tsr_session_record *out)
{
	struct param p[] = { P_TEXT(token_hash) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading a session",
	    "SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1", p,
	    TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if ((r = col_copy(sq, stmt, 0, out->token_hash, sizeof(out->token_hash))) == 0)
			r = col_copy(sq, stmt, 1, out->subject, sizeof(out->subject));
		out->created_at = sqlite3_column_int64(stmt, 2);
		out->last_seen = sqlite3_column_int64(stmt, 3);
		out->expires_at = sqlite3_column_int64(stmt, 4);
	} else if (rc == SQLITE_DONE) {
		r = TSR_ERR_NOT_FOUND;
	} else {
		r = db_error(sq, "reading a session");
	}
	release(sq, stmt);
	return r;
}

static int sq_session_touch(void *be, const char *token_hash, int64_t now)
{
	struct param p[] = { P_TEXT(token_hash), P_INT(now) };
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "updating a session",
	    "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_NOT_FOUND;
	return r;
}

static int sq_session_delete(void *be, const char *token_hash)
{
	struct param p[] = { P_TEXT(token_hash) };
	struct sq *sq = be;
	int r, changes = 0;

	r = run(sq, "ending a session", "DELETE FROM sessions WHERE token_hash = ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_NOT_FOUND;
	return r;
}

static int sq_session_delete_subject(void *be, const char *subject, int64_t *deleted)
{
	struct param p[] = { P_TEXT(subject) };
	int r, changes = 0;

	r = run(be, "ending sessions", "DELETE FROM sessions WHERE subject = ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0)
		*deleted = changes;
	return r;
}

static int sq_session_purge(void *be, int64_t now, int64_t idle_before, int64_t *deleted)
{
	struct param p[] = { P_INT(now), P_INT(idle_before) };
	int r, changes = 0;

	r = run(be, "purging sessions",
	    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0)
		*deleted = changes;
	return r;
}

/* ------------------------------------------------------------------ nonces */

static int sq_nonce_insert(void *be, const char *nonce, int64_t created_at, int64_t expires_at)
{
	struct param p[] = { P_TEXT(nonce), P_INT(created_at), P_INT(expires_at) };
	struct sq *sq = be;
	int r;

	r = run(sq, "storing a nonce",
	    "INSERT INTO nonces(nonce, created_at, expires_at) VALUES(?1, ?2, ?3)",
	    p, TSR_ARRAY_LEN(p), NULL);
	if (r != 0 && sq->last_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TSR_ERR_EXISTS;
	return r;
}

static int sq_nonce_use(void *be, const char *nonce, int64_t now)
{
	struct param p[] = { P_TEXT(nonce), P_INT(now) };
	int r, changes = 0;

	/* One statement decides, so a nonce is used once whatever races. */
	r = run(be, "using a nonce", "UPDATE nonces SET used_at = ?2 WHERE nonce = ?1"
	    " AND used_at IS NULL AND expires_at > ?2", p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0 && changes != 1)
		r = TSR_ERR_POLICY;
	return r;
}

static int sq_nonce_used_at(void *be, const char *nonce, int64_t *out)
{
	struct param p[] = { P_TEXT(nonce) };
	struct sq *sq = be;
	sqlite3_stmt *stmt;
	int r, rc;

	if ((r = prepare(sq, "reading a nonce", "SELECT used_at FROM nonces WHERE nonce = ?1",
	    p, TSR_ARRAY_LEN(p), &stmt)) != 0)
		return r;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);   /* NULL reads as 0 */
	else if (rc == SQLITE_DONE)
		r = TSR_ERR_NOT_FOUND;
	else
		r = db_error(sq, "reading a nonce");
	release(sq, stmt);
	return r;
}

static int sq_nonce_purge(void *be, int64_t before, int64_t *deleted)
{
	struct param p[] = { P_INT(before) };
	int r, changes = 0;

	r = run(be, "purging nonces", "DELETE FROM nonces WHERE expires_at < ?1",
	    p, TSR_ARRAY_LEN(p), &changes);
	if (r == 0)
		*deleted = changes;
	return r;
}

/* ------------------------------------------------------------------ whole-store copy */

static int row_value(struct sq *sq, sqlite3_stmt *stmt, int k, enum store_col_type type,
    struct store_value *v)
{
	size_t n;

	memset(v, 0, sizeof(*v));
	if (sqlite3_column_type(stmt, k) == SQLITE_NULL) {
		v->null = true;
		return 0;
	}
	switch (type) {
	case STORE_COL_INT:
		v->i = sqlite3_column_int64(stmt, k);
		return 0;
	case STORE_COL_BLOB:
		v->b = sqlite3_column_blob(stmt, k);
		v->len = (size_t)sqlite3_column_bytes(stmt, k);
		return 0;
	case STORE_COL_TEXT:
	default:
		return col_text(sq, stmt, k, &v->s, &n);
	}
}

static int sq_table_rows(void *be, const struct store_table *t, store_row_fn fn, void *ctx)
{
	struct sq *sq = be;
	struct store_value *row = calloc(t->n_cols, sizeof(*row));
	sqlite3_stmt *stmt = NULL;
	char sql[STORE_TABLE_SQL_MAX];
	int r, rc;

	if (row == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = store_table_sql(t, false, '?', sql)) != 0 ||
	    (r = prepare_with(sq, "reading a table to copy", sql, NULL, 0, false, &stmt)) != 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (size_t k = 0; r == 0 && k < t->n_cols; k++)
			r = row_value(sq, stmt, (int)k, t->cols[k].type, &row[k]);
		if (r != 0 || (r = fn(row, ctx)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = db_error(sq, "reading a table to copy");
out:
	release(sq, stmt);
	free(row);
	return r;
}

static int sq_table_insert(void *be, const struct store_table *t, const struct store_value *row)
{
	struct sq *sq = be;
	struct param p[32];
	char sql[STORE_TABLE_SQL_MAX];
	int r;

	if ((r = store_row_params(t, row, p, TSR_ARRAY_LEN(p))) == 0 &&
	    (r = store_table_sql(t, true, '?', sql)) == 0)
		r = run(sq, "copying a row", sql, p, t->n_cols, NULL);
	return r;
}

static int sq_table_count(void *be, const struct store_table *t, int64_t *out)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", t->name);
	return query_int(be, "counting rows", sql, NULL, 0, out);
}

/* SQLite moves an AUTOINCREMENT counter past explicit keys by itself. */
static int sq_copy_finish(void *be)
{
	(void)be;
	return 0;
}

const struct store_ops tsr_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.begin = sq_begin,
	.begin_read = sq_begin_read,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_transaction = sq_in_transaction,
	.meta_set = sq_meta_set,
	.meta_get = sq_meta_get,
	.serial_reserve = sq_serial_reserve,
	.cert_put = sq_cert_put,
	.serial_state = sq_serial_state,
	.cert_get = sq_cert_get,
	.cert_list = sq_cert_list,
	.cert_count = sq_cert_count,
	.cert_set_status = sq_cert_set_status,
	.revoked_list = sq_revoked_list,
	.status_changes = sq_status_changes,
	.status_seq = sq_status_seq,
	.audit_last = sq_audit_last,
	.audit_insert = sq_audit_insert,
	.audit_iter = sq_audit_iter,
	.user_create = sq_user_create,
	.user_get = sq_user_get,
	.user_list = sq_user_list,
	.user_update = sq_user_update,
	.voucher_insert = sq_voucher_insert,
	.voucher_get = sq_voucher_get,
	.voucher_list = sq_voucher_list,
	.voucher_consume = sq_voucher_consume,
	.voucher_revoke_batch = sq_voucher_revoke_batch,
	.app_create = sq_app_create,
	.app_get = sq_app_get,
	.app_list = sq_app_list,
	.app_update = sq_app_update,
	.answer_add = sq_answer_add,
	.answer_list = sq_answer_list,
	.code_insert = sq_code_insert,
	.code_current = sq_code_current,
	.code_get = sq_code_get,
	.code_use = sq_code_use,
	.code_set_failures = sq_code_set_failures,
	.approval_add = sq_approval_add,
	.approval_list = sq_approval_list,
	.session_insert = sq_session_insert,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_delete_subject = sq_session_delete_subject,
	.session_purge = sq_session_purge,
	.nonce_insert = sq_nonce_insert,
	.nonce_use = sq_nonce_use,
	.nonce_used_at = sq_nonce_used_at,
	.nonce_purge = sq_nonce_purge,
	.table_rows = sq_table_rows,
	.table_insert = sq_table_insert,
	.table_count = sq_table_count,
	.copy_finish = sq_copy_finish,
};
