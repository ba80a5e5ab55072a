/*
 * copy.c - a verified copy of a whole store into another, of any backend.
 *
 * `tessera db copy` moves a CA from SQLite to PostgreSQL (or back, or to a
 * backup), and `tessera init --database` builds a new CA in SQLite and lands
 * it in PostgreSQL with one copy.  Every table is listed here with its
 * columns, for the latest schema; a backend only reads and writes rows as
 * they come (store_impl.h).  The whole copy is one transaction of the
 * target, read from one snapshot of the source: it lands entirely or not
 * at all, and the counts compared afterwards are those of that snapshot.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_impl.h"

/* The schema these tables describe: a migration that adds a table or a
 * column must add it here too (test_store checks the list against the
 * SQLite schema itself). */
#define COPY_SCHEMA_VERSION 6

#define T STORE_COL_TEXT
#define I STORE_COL_INT
#define B STORE_COL_BLOB
#define TABLE(name, order, cols) { name, order, cols, TSR_ARRAY_LEN(cols) }

static const struct store_column meta_cols[] = { { "key", T }, { "value", T } };
static const struct store_column cert_cols[] = {
	{ "serial", T }, { "issuer", T }, { "state", T }, { "role", T }, { "product", T },
	{ "key_type", T }, { "status", T }, { "fingerprint", T }, { "not_before", I },
	{ "not_after", I }, { "issued_at", I }, { "subject", T }, { "sans", T }, { "der", B },
	{ "revoked_at", I }, { "revocation_reason", T }, { "invalidity_date", I },
};
static const struct store_column audit_cols[] = {
	{ "seq", I }, { "time", I }, { "actor", T }, { "action", T }, { "object", T },
	{ "outcome", T }, { "detail", T }, { "prev_hash", T }, { "hash", T },
};
static const struct store_column user_cols[] = {
	{ "id", I }, { "name", T }, { "display_name", T }, { "email", T }, { "roles", T },
	{ "password_hash", T }, { "failed_logins", I }, { "locked", I }, { "disabled", I },
	{ "created_at", I }, { "updated_at", I },
};
static const struct store_column voucher_cols[] = {
	{ "code_hash", T }, { "batch", T }, { "product", T }, { "created_at", I },
	{ "expires_at", I }, { "used_at", I }, { "used_by", T }, { "revoked_at", I },
};
static const struct store_column app_cols[] = {
	{ "id", T }, { "product", T }, { "storage", T }, { "state", T }, { "state_since", I },
	{ "created_at", I }, { "updated_at", I }, { "email", T }, { "npi", T }, { "dea", T },
	{ "identity", T }, { "applicant", T }, { "agreement", T }, { "password_hash", T },
	{ "failed_logins", I }, { "locked", I }, { "token_serial", T }, { "checks", T },
	{ "reason", T }, { "cert_serial", T }, { "last_test", T },
};
static const struct store_column answer_cols[] = {
	{ "application", T }, { "idx", I }, { "question", T }, { "answer_hash", T },
};
static const struct store_column code_cols[] = {
	{ "code_hash", T }, { "application", T }, { "purpose", T }, { "created_at", I },
	{ "expires_at", I }, { "used_at", I }, { "superseded_at", I }, { "failures", I },
	{ "locked", I }, { "used_key", T },
};
static const struct store_column approval_cols[] = {
	{ "application", T }, { "officer", T }, { "at", I }, { "comment", T },
};
static const struct store_column session_cols[] = {
	{ "token_hash", T }, { "subject", T }, { "created_at", I }, { "last_seen", I },
	{ "expires_at", I },
};
static const struct store_column nonce_cols[] = {
	{ "nonce", T }, { "created_at", I }, { "expires_at", I }, { "used_at", I },
};
static const struct store_column change_cols[] = {
	{ "seq", I }, { "serial", T }, { "at", I },
};

/* In an order that satisfies the foreign keys (applications first).  The
 * tables that listings order by time keep their insertion order too
 * ("rowid": SQLite's own, an identity column in PostgreSQL), so that rows
 * of the same second list in the same order after a copy. */
static const struct store_table tables[] = {
	TABLE("meta", "key", meta_cols),
	TABLE("certificates", "rowid", cert_cols),
	TABLE("audit", "seq", audit_cols),
	TABLE("users", "id", user_cols),
	TABLE("vouchers", "code_hash", voucher_cols),
	TABLE("applications", "rowid", app_cols),
	TABLE("answers", "application, idx", answer_cols),
	TABLE("codes", "rowid", code_cols),
	TABLE("approvals", "rowid", approval_cols),
	TABLE("sessions", "token_hash", session_cols),
	TABLE("nonces", "nonce", nonce_cols),
	TABLE("status_changes", "seq", change_cols),
};

#undef T
#undef I
#undef B

_Static_assert(TSR_ARRAY_LEN(tables) <= TSR_STORE_COPY_TABLES_MAX, "too many tables");

/* The names of the copied tables, NULL-terminated (for tests). */
const char *const *tsr_store_copy_tables(void)
{
	static const char *names[TSR_ARRAY_LEN(tables) + 1];

	for (size_t i = 0; i < TSR_ARRAY_LEN(tables); i++)
		names[i] = tables[i].name;
	return names;
}

struct copy_ctx {
	const struct store_ops *ops;
	void *be;
	const struct store_table *t;
	int64_t rows;
};

static int copy_row(const struct store_value *row, void *arg)
{
	struct copy_ctx *c = arg;

	c->rows++;
	return c->ops->table_insert(c->be, c->t, row);
}

static int check_versions(struct tsr_store *src, struct tsr_store *dst)
{
	int a, b, r;

	if ((r = tsr_store_schema_version(src, &a)) != 0 ||
	    (r = tsr_store_schema_version(dst, &b)) != 0)
		return r;
	if (a != COPY_SCHEMA_VERSION || b != COPY_SCHEMA_VERSION)
		return tsr_error(TSR_ERR_INTERNAL, "the copy knows schema version %d; the source "
		    "is at %d and the target at %d", COPY_SCHEMA_VERSION, a, b);
	return 0;
}

/* Every table of dst must be empty: a copy never merges. */
static int check_empty(const struct store_ops *ops, void *be)
{
	int64_t n;
	int r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(tables); i++) {
		if ((r = ops->table_count(be, &tables[i], &n)) != 0)
			return r;
		if (n != 0)
			return tsr_error(TSR_ERR_EXISTS, "the target database is not empty: table "
			    "%s holds %lld rows", tables[i].name, (long long)n);
	}
	return 0;
}

static int copy_tables(struct tsr_store *src, struct tsr_store *dst,
    struct tsr_store_copy_report *out)
{
	struct copy_ctx c = { .ops = store_ops_of(dst), .be = store_be_of(dst) };
	const struct store_ops *sops = store_ops_of(src);
	int r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(tables); i++) {
		c.t = &tables[i];
		c.rows = 0;
		if ((r = sops->table_rows(store_be_of(src), c.t, copy_row, &c)) != 0)
			return r;
		out->tables[i].name = tables[i].name;
		out->tables[i].rows = c.rows;
		out->rows += c.rows;
	}
	out->n_tables = TSR_ARRAY_LEN(tables);
	return c.ops->copy_finish(c.be);
}

/* After the commit, still in src's snapshot: each table counts the same. */
static int compare_counts(struct tsr_store *src, struct tsr_store *dst,
    const struct tsr_store_copy_report *rep)
{
	int64_t a, b;
	int r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(tables); i++) {
		if ((r = store_ops_of(src)->table_count(store_be_of(src), &tables[i], &a)) != 0 ||
		    (r = store_ops_of(dst)->table_count(store_be_of(dst), &tables[i], &b)) != 0)
			return r;
		if (a != b || a != rep->tables[i].rows)
			return tsr_error(TSR_ERR_STORE, "the copy differs: table %s has %lld rows "
			    "in the source and %lld in the target", tables[i].name, (long long)a,
			    (long long)b);
	}
	return 0;
}

/*
 * Open the target of a copy (see store.h): a new database, or one holding
 * the bare schema an earlier copy that failed left behind.
 */
int tsr_store_open_copy_target(const char *path, struct tsr_store **out)
{
	struct tsr_store *st = NULL;
	int r = tsr_store_open(path, true, out);

	if (r != TSR_ERR_EXISTS)
		return r;
	/* Keep create's refusal unless the database is ours and empty. */
	if (tsr_store_open(path, false, &st) == 0 &&
	    check_empty(store_ops_of(st), store_be_of(st)) == 0) {
		*out = st;
		return 0;
	}
	tsr_store_close(st);
	return tsr_store_open(path, true, out);
}

/*
 * Copy every row of src into dst (see store.h).  src is read in a snapshot
 * held until the counts are compared; dst is written in one transaction.
 */
int tsr_store_copy(struct tsr_store *src, struct tsr_store *dst,
    struct tsr_store_copy_report *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (tsr_store_in_transaction(src) || tsr_store_in_transaction(dst))
		return tsr_error(TSR_ERR_INTERNAL, "a store copy runs in transactions of its own");
	if ((r = check_versions(src, dst)) != 0)
		return r;
	if ((r = tsr_store_begin_read(src)) != 0)
		return r;
	if ((r = tsr_store_begin(dst)) != 0)
		goto out;
	if ((r = check_empty(store_ops_of(dst), store_be_of(dst))) != 0 ||
	    (r = copy_tables(src, dst, out)) != 0 ||
	    (r = tsr_store_commit(dst)) != 0)
		goto out;
	r = compare_counts(src, dst, out);
out:
	tsr_store_rollback(dst);
	tsr_store_rollback(src);
	return r;
}
