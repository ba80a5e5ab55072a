/*
 * store_impl.h - what a storage backend implements (internal to src/store).
 *
 * store.c is the front: it picks a backend from the path, checks arguments,
 * normalises serial numbers and enforces the transaction rules (no nested
 * begin, reservations and audit inserts only inside a transaction).  A
 * backend therefore receives well-formed arguments and only persists them.
 *
 * Every operation takes the backend's own state (the be pointer its open
 * returned) and follows the error model of base.h; a database failure is
 * TSR_ERR_STORE with the database's own message in the detail.
 *
 * The outcomes store.h names for an operation (no such row, the key is
 * taken, a single-use condition failed) are the backend's to find and
 * store.c's to word: a backend returns the bare code, without a detail,
 * and store.c sets the detail callers see, so it reads the same whatever
 * the backend.  Where the reason has to be read from the row as it is
 * after the change failed, store.c reads it (through the ops below) and
 * decides.  Each operation below notes its bare codes.
 *
 * Both backends describe statement parameters alike and run the same SQL
 * for a whole-store copy; those few helpers are here too (store.c).
 */
#ifndef TSR_STORE_IMPL_H
#define TSR_STORE_IMPL_H

#include "store/store.h"

/* A table as a whole store copy sees it (copy.c): its name, the ORDER BY
 * that lists its rows in a stable order, and its columns with their kinds.
 * The list of tables and columns is copy.c's, for the latest schema. */
enum store_col_type { STORE_COL_TEXT, STORE_COL_INT, STORE_COL_BLOB };

struct store_column {
	const char *name;
	enum store_col_type type;
};

struct store_table {
	const char *name;
	const char *order;
	const struct store_column *cols;
	size_t n_cols;
};

/* One column's value in a copied row: null, or the member its type names. */
struct store_value {
	bool null;
	int64_t i;
	const char *s;
	const uint8_t *b;
	size_t len;
};

/* Called for each row of a table; row[k] is column k.  Non-zero stops. */
typedef int (*store_row_fn)(const struct store_value *row, void *ctx);

/* A value for a statement's parameter, as both backends describe it; each
 * binds it its own way.  A TEXT with a NULL pointer is SQL NULL. */
enum param_type { PARAM_NULL, PARAM_TEXT, PARAM_INT, PARAM_BLOB };

struct param {
	enum param_type type;
	const char *text;
	int64_t num;
	const void *blob;
	size_t len;
};

#define P_NULL { .type = PARAM_NULL }
#define P_TEXT(s) { .type = PARAM_TEXT, .text = (s) }
#define P_INT(v) { .type = PARAM_INT, .num = (v) }
#define P_BLOB(p, n) { .type = PARAM_BLOB, .blob = (p), .len = (n) }

/* -1 in an update ("leave as it is") is NULL, which the UPDATE reads as
 * the old value (IFNULL, COALESCE). */
static inline struct param opt_int(int v)
{
	return v < 0 ? (struct param)P_NULL : (struct param)P_INT(v);
}

/* 0 (no such time, no filter) is NULL. */
static inline struct param int_or_null(int64_t v)
{
	return v != 0 ? (struct param)P_INT(v) : (struct param)P_NULL;
}

/* The SQL a copy runs on t, from its description (copy.c's constants, not
 * input): "SELECT c1, c2 FROM t ORDER BY o", or with insert "INSERT INTO
 * t(c1, c2) VALUES(?1, ?2)", mark ('?' or '$') before each number.
 * TSR_ERR_INTERNAL if it does not fit. */
#define STORE_TABLE_SQL_MAX 2048
int store_table_sql(const struct store_table *t, bool insert, char mark,
    char out[STORE_TABLE_SQL_MAX]);

/* The parameters that insert row of t as it came, into p[0..t->n_cols);
 * TSR_ERR_INTERNAL if t has more than max columns. */
int store_row_params(const struct store_table *t, const struct store_value *row,
    struct param *p, size_t max);

/* The columns each backend reads a record's row from, in the order its row
 * readers expect: one list for both, since the tables are the same. */
#define CERT_COLUMNS \
	"serial, issuer, role, product, key_type, status, fingerprint," \
	" not_before, not_after, issued_at, subject, sans, der," \
	" revoked_at, revocation_reason, invalidity_date"
#define AUDIT_COLUMNS "seq, time, actor, action, object, outcome, detail, prev_hash, hash"
#define USER_COLUMNS \
	"id, name, display_name, email, roles, password_hash, failed_logins, locked, disabled," \
	" created_at, updated_at"
#define VOUCHER_COLUMNS \
	"code_hash, batch, product, created_at, expires_at, used_at, used_by, revoked_at"
#define APP_COLUMNS \
	"id, product, storage, state, state_since, created_at, updated_at, email, npi, dea," \
	" identity, applicant, agreement, password_hash, failed_logins, locked, token_serial," \
	" checks, reason, cert_serial, last_test"
#define CODE_COLUMNS \
	"code_hash, application, purpose, created_at, expires_at, used_at, superseded_at," \
	" failures, locked, used_key"
#define APPROVAL_COLUMNS "application, officer, at, comment"
#define SESSION_COLUMNS "token_hash, subject, created_at, last_seen, expires_at"

struct store_ops {
	const char *name;

	/* path is the backend's part of the store path (prefix removed), or
	 * the whole path for a backend that takes URIs (PostgreSQL). */
	int (*open)(const char *path, bool create, void **be);
	void (*close)(void *be);
	int (*schema_version)(void *be, int *out);

	/* begin takes the write lock at once.  A failed commit leaves no
	 * transaction open (the backend rolls back). */
	int (*begin)(void *be);
	/* A snapshot for reading, taken now, without the write lock. */
	int (*begin_read)(void *be);
	int (*commit)(void *be);
	void (*rollback)(void *be);
	bool (*in_transaction)(const void *be);

	int (*meta_set)(void *be, const char *key, const char *value);
	/* NOT_FOUND: key is not set. */
	int (*meta_get)(void *be, const char *key, char **out);

	/* Serials arrive normalised (see store.c).  EXISTS: the serial has a
	 * row already. */
	int (*serial_reserve)(void *be, const char *serial, const char *issuer);
	/* Subject and SANs arrive as "" rather than NULL.  NOT_FOUND: no row
	 * reserved for rec's serial and issuer (store.c asks serial_state why). */
	int (*cert_put)(void *be, const struct tsr_cert_record *rec);
	/* The row serial holds: *issued (else only reserved) and the issuer
	 * it is for, copied into issuer[size].  NOT_FOUND: no row. */
	int (*serial_state)(void *be, const char *serial, bool *issued, char *issuer,
	    size_t size);
	/* NOT_FOUND: no issued certificate with serial. */
	int (*cert_get)(void *be, const char *serial, struct tsr_cert_record *out);
	int (*cert_list)(void *be, const struct tsr_cert_filter *f, tsr_cert_fn fn, void *ctx);
	int (*cert_count)(void *be, int64_t *out);
	/* Arguments arrive checked; reason NULL and the times 0 for "valid".
	 * No row changed: NOT_FOUND (no issued certificate with serial) or
	 * POLICY (its status is not expect_status). */
	int (*cert_set_status)(void *be, const char *serial, const char *expect_status,
	    const char *new_status, int64_t revoked_at, const char *reason,
	    int64_t invalidity_date);
	/* A successful cert_set_status also appends to the status changes, in
	 * the same transaction. */
	int (*revoked_list)(void *be, const char *issuer, int64_t not_after_from,
	    tsr_revoked_fn fn, void *ctx);
	int (*status_changes)(void *be, int64_t after, tsr_status_change_fn fn, void *ctx);
	int (*status_seq)(void *be, int64_t *out);

	/* NOT_FOUND: the log is empty. */
	int (*audit_last)(void *be, struct tsr_audit_record *out);
	/* INTERNAL: rec->seq is not the last seq + 1, and nothing is stored. */
	int (*audit_insert)(void *be, const struct tsr_audit_record *rec);
	int (*audit_iter)(void *be, tsr_audit_fn fn, void *ctx);

	/* Names, hashes and batches arrive checked (see store.c).  user_create:
	 * EXISTS, the name is taken; user_get and user_update: NOT_FOUND. */
	int (*user_create)(void *be, const struct tsr_user_record *u, int64_t now);
	int (*user_get)(void *be, const char *name, struct tsr_user_record *out);
	int (*user_list)(void *be, tsr_user_fn fn, void *ctx);
	int (*user_update)(void *be, const char *name, const struct tsr_user_update *u,
	    int64_t now);

	/* EXISTS: the hash is stored already. */
	int (*voucher_insert)(void *be, const struct tsr_voucher_record *v);
	/* NOT_FOUND: no such voucher. */
	int (*voucher_get)(void *be, const char *code_hash, struct tsr_voucher_record *out);
	int (*voucher_list)(void *be, const struct tsr_voucher_filter *f, tsr_voucher_fn fn,
	    void *ctx);
	/* POLICY: no row changed (store.c reads the voucher to say why). */
	int (*voucher_consume)(void *be, const char *code_hash, const char *product,
	    const char *used_by, int64_t now);
	/* NOT_FOUND: the batch has no voucher at all. */
	int (*voucher_revoke_batch)(void *be, const char *batch, int64_t now, int64_t *revoked);

	/* Ids, hashes, states and purposes arrive checked; optional text
	 * members of a record arrive as "" rather than NULL (see store.c).
	 * "No such application" is NOT_FOUND whether or not the backend
	 * enforces foreign keys.  app_create: EXISTS, the id is taken;
	 * app_get: NOT_FOUND; app_update, no row changed: NOT_FOUND (no such
	 * application) or POLICY (its state is not u->expect_state);
	 * answer_add: EXISTS (the idx is taken) or NOT_FOUND. */
	int (*app_create)(void *be, const struct tsr_app_record *a);
	int (*app_get)(void *be, const char *id, struct tsr_app_record *out);
	int (*app_list)(void *be, const struct tsr_app_filter *f, tsr_app_fn fn, void *ctx);
	int (*app_update)(void *be, const char *id, const struct tsr_app_update *u, int64_t now);
	int (*answer_add)(void *be, const char *app, const struct tsr_answer_record *a);
	int (*answer_list)(void *be, const char *app, tsr_answer_fn fn, void *ctx);

	/* Supersede and insert together: both or neither, inside the caller's
	 * transaction or not.  EXISTS: the hash is taken; NOT_FOUND: no such
	 * application. */
	int (*code_insert)(void *be, const struct tsr_code_record *c);
	/* code_current, code_get and code_set_failures: NOT_FOUND. */
	int (*code_current)(void *be, const char *app, const char *purpose,
	    struct tsr_code_record *out);
	int (*code_get)(void *be, const char *code_hash, struct tsr_code_record *out);
	/* used_key is "" for none.  POLICY: no row changed (store.c reads the
	 * code to say why). */
	int (*code_use)(void *be, const char *code_hash, int64_t now, const char *used_key);
	int (*code_set_failures)(void *be, const char *code_hash, int failures, bool locked);

	/* EXISTS: this officer approved already; NOT_FOUND: no such application. */
	int (*approval_add)(void *be, const struct tsr_approval_record *a);
	int (*approval_list)(void *be, const char *app, tsr_approval_fn fn, void *ctx);

	/* session_insert: EXISTS; session_get, _touch and _delete: NOT_FOUND. */
	int (*session_insert)(void *be, const struct tsr_session_record *s);
	int (*session_get)(void *be, const char *token_hash, struct tsr_session_record *out);
	int (*session_touch)(void *be, const char *token_hash, int64_t now);
	int (*session_delete)(void *be, const char *token_hash);
	int (*session_delete_subject)(void *be, const char *subject, int64_t *deleted);
	int (*session_purge)(void *be, int64_t now, int64_t idle_before, int64_t *deleted);

	/* EXISTS: the nonce is stored already. */
	int (*nonce_insert)(void *be, const char *nonce, int64_t created_at, int64_t expires_at);
	/* POLICY: no row changed (store.c asks nonce_used_at why). */
	int (*nonce_use)(void *be, const char *nonce, int64_t now);
	/* When nonce was used, 0 if not.  NOT_FOUND: no such nonce. */
	int (*nonce_used_at)(void *be, const char *nonce, int64_t *out);
	int (*nonce_purge)(void *be, int64_t before, int64_t *deleted);

	/* A whole-store copy (copy.c): every row of t in t->order, values
	 * valid only during the call; insert one row as it came; count the
	 * rows; and, last in the copy's transaction, move any sequence or
	 * counter of the backend past the copied keys. */
	int (*table_rows)(void *be, const struct store_table *t, store_row_fn fn, void *ctx);
	int (*table_insert)(void *be, const struct store_table *t, const struct store_value *row);
	int (*table_count)(void *be, const struct store_table *t, int64_t *out);
	int (*copy_finish)(void *be);
};

/* The backend of an open store, for copy.c. */
const struct store_ops *store_ops_of(const struct tsr_store *st);
void *store_be_of(const struct tsr_store *st);

extern const struct store_ops tsr_store_sqlite_ops;
extern const struct store_ops tsr_store_pg_ops;

#endif /* TSR_STORE_IMPL_H */
