/*
 * store.c - the backend-neutral front of the store.
 *
 * Callers hold a struct tsr_store; it forwards to a backend's operations
 * (store_impl.h).  Everything that must behave the same whatever the backend
 * lives here: choosing the backend from the path, argument checks, the
 * canonical form of serial numbers, the transaction rules, and the words
 * of every refusal (a backend reports it as a bare code; where the reason
 * is read from the row, it is decided here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_impl.h"

struct tsr_store {
	const struct store_ops *ops;
	void *be;
};

/* Serial numbers as users type them may carry upper case or leading zeros;
 * we accept a little slack but no more than that. */
#define SERIAL_INPUT_MAX 128

static const struct {
	const char *prefix;
	const struct store_ops *ops; /* NULL: recognised but not supported yet */
	const char *name;
	bool whole;                  /* the backend gets the path with its prefix */
} backends[] = {
	{ "sqlite:", &tsr_store_sqlite_ops, "SQLite", false },
	/* libpq URIs, passed to libpq as they are */
	{ "postgresql://", &tsr_store_pg_ops, "PostgreSQL", true },
	{ "postgres://", &tsr_store_pg_ops, "PostgreSQL", true },
};

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Open the store at path: "sqlite:PATH" or a plain path selects SQLite,
 * a "postgresql://" or "postgres://" URI PostgreSQL.
 * On success *out is a new handle for tsr_store_close().
 */
int tsr_store_open(const char *path, bool create, struct tsr_store **out)
{
	const struct store_ops *ops = &tsr_store_sqlite_ops;
	struct tsr_store *st;
	int r;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return tsr_error(TSR_ERR_INVALID, "no database path given");
	for (size_t i = 0; i < TSR_ARRAY_LEN(backends); i++) {
		if (!has_prefix(path, backends[i].prefix))
			continue;
		if (backends[i].ops == NULL)
			return tsr_error(TSR_ERR_INVALID, "%s is not supported yet",
			    backends[i].name);
		ops = backends[i].ops;
		if (path[strlen(backends[i].prefix)] == '\0')
			return tsr_error(TSR_ERR_INVALID, "no database path given");
		if (!backends[i].whole)
			path += strlen(backends[i].prefix);
		break;
	}
	if (*path == '\0')
		return tsr_error(TSR_ERR_INVALID, "no database path given");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	st->ops = ops;
	if ((r = ops->open(path, create, &st->be)) != 0) {
		free(st);
		return r;
	}
	*out = st;
	return 0;
}

/* Close the store, rolling back a transaction left open.  NULL is fine. */
void tsr_store_close(struct tsr_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st->be);
	free(st);
}

const struct store_ops *store_ops_of(const struct tsr_store *st)
{
	return st->ops;
}

void *store_be_of(const struct tsr_store *st)
{
	return st->be;
}

/* ------------------------------------------------------------------ for the backends */

int store_table_sql(const struct store_table *t, bool insert, char mark,
    char out[STORE_TABLE_SQL_MAX])
{
	size_t n = 0;

#define PUT(...) (n += (size_t)snprintf(out + n, \
	n < STORE_TABLE_SQL_MAX ? STORE_TABLE_SQL_MAX - n : 0, __VA_ARGS__))
	if (insert)
		PUT("INSERT INTO %s(", t->name);
	else
		PUT("SELECT ");
	for (size_t k = 0; k < t->n_cols; k++)
		PUT("%s%s", k ? ", " : "", t->cols[k].name);
	if (insert) {
		PUT(") VALUES(");
		for (size_t k = 0; k < t->n_cols; k++)
			PUT("%s%c%zu", k ? ", " : "", mark, k + 1);
		PUT(")");
	} else {
		PUT(" FROM %s ORDER BY %s", t->name, t->order);
	}
#undef PUT
	if (n >= STORE_TABLE_SQL_MAX)
		return tsr_error(TSR_ERR_INTERNAL, "table %s: statement too long", t->name);
	return 0;
}

int store_row_params(const struct store_table *t, const struct store_value *row,
    struct param *p, size_t max)
{
	if (t->n_cols > max)
		return tsr_error(TSR_ERR_INTERNAL, "table %s has too many columns", t->name);
	for (size_t k = 0; k < t->n_cols; k++) {
		const struct store_value *v = &row[k];

		if (v->null)
			p[k] = (struct param)P_NULL;
		else if (t->cols[k].type == STORE_COL_INT)
			p[k] = (struct param)P_INT(v->i);
		else if (t->cols[k].type == STORE_COL_BLOB)
			p[k] = (struct param)P_BLOB(v->b != NULL ? v->b : (const uint8_t *)"", v->len);
		else
			p[k] = (struct param)P_TEXT(v->s);
	}
	return 0;
}

/* The number of the last migration applied to this database. */
int tsr_store_schema_version(struct tsr_store *st, int *out)
{
	return st->ops->schema_version(st->be, out);
}

/* Begin a write transaction; TSR_ERR_INTERNAL if one is already open. */
int tsr_store_begin(struct tsr_store *st)
{
	if (st->ops->in_transaction(st->be))
		return tsr_error(TSR_ERR_INTERNAL, "a store transaction is already open");
	return st->ops->begin(st->be);
}

/* Begin a read transaction (a snapshot); TSR_ERR_INTERNAL if one is
 * already open. */
int tsr_store_begin_read(struct tsr_store *st)
{
	if (st->ops->in_transaction(st->be))
		return tsr_error(TSR_ERR_INTERNAL, "a store transaction is already open");
	return st->ops->begin_read(st->be);
}

/* Commit the open transaction; TSR_ERR_INTERNAL if there is none.  On
 * failure nothing is committed and no transaction remains open. */
int tsr_store_commit(struct tsr_store *st)
{
	if (!st->ops->in_transaction(st->be))
		return tsr_error(TSR_ERR_INTERNAL, "commit without an open store transaction");
	return st->ops->commit(st->be);
}

/* Roll back the open transaction, if any. */
void tsr_store_rollback(struct tsr_store *st)
{
	if (st != NULL && st->ops->in_transaction(st->be))
		st->ops->rollback(st->be);
}

/* True while a transaction begun with tsr_store_begin() is open. */
bool tsr_store_in_transaction(const struct tsr_store *st)
{
	return st->ops->in_transaction(st->be);
}

static int require_transaction(const struct tsr_store *st, const char *what)
{
	if (!st->ops->in_transaction(st->be))
		return tsr_error(TSR_ERR_INTERNAL, "%s outside a store transaction", what);
	return 0;
}

/* ------------------------------------------------------------------ metadata */

/* Set (or overwrite) the metadata value under key. */
int tsr_store_meta_set(struct tsr_store *st, const char *key, const char *value)
{
	if (key == NULL || *key == '\0' || value == NULL)
		return tsr_error(TSR_ERR_INVALID, "metadata needs a key and a value");
	return st->ops->meta_set(st->be, key, value);
}

/* Read the metadata value under key into a new string. */
int tsr_store_meta_get(struct tsr_store *st, const char *key, char **out)
{
	int r;

	*out = NULL;
	if (key == NULL || *key == '\0')
		return tsr_error(TSR_ERR_INVALID, "metadata needs a key");
	if ((r = st->ops->meta_get(st->be, key, out)) == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_NOT_FOUND, "metadata '%s' is not set", key);
	return r;
}

/* ------------------------------------------------------------------ certificates */

/*
 * The canonical form of a serial is the lower-case hex of its value as the
 * shortest whole-octet string: an even number of digits with no leading
 * "00" pair ("00" itself for zero).  That is what tsr_hex_encode() gives for
 * the serial octets, so stored serials and typed ones compare as strings.
 */
static int serial_normalise(const char *in, char out[TSR_SERIAL_HEX_MAX + 1])
{
	size_t len, start, digits, o = 0;

	if (in == NULL || *in == '\0')
		return tsr_error(TSR_ERR_INVALID, "no serial number given");
	len = strnlen(in, SERIAL_INPUT_MAX + 1);
	if (len > SERIAL_INPUT_MAX)
		return tsr_error(TSR_ERR_INVALID, "serial number longer than %d digits",
		    SERIAL_INPUT_MAX);
	for (size_t i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", in[i]) == NULL)
			return tsr_error(TSR_ERR_INVALID,
			    "serial number: not a hex digit at position %zu", i + 1);
	for (start = 0; start < len && in[start] == '0'; start++)
		;
	digits = len - start;
	if (digits > TSR_SERIAL_HEX_MAX)
		return tsr_error(TSR_ERR_INVALID, "serial number longer than %d octets",
		    TSR_SERIAL_HEX_MAX / 2);
	if (digits == 0 || digits % 2 == 1)
		out[o++] = '0';
	if (digits == 0)
		out[o++] = '0';
	for (size_t i = start; i < len; i++)
		out[o++] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]);
	out[o] = '\0';
	return 0;
}

/* A fixed-size text member must be terminated inside its array. */
#define FIELD_OK(rec, member, may_be_empty) \
	(strnlen((rec)->member, sizeof((rec)->member)) < sizeof((rec)->member) && \
	    ((may_be_empty) || (rec)->member[0] != '\0'))

static int check_record(const struct tsr_cert_record *rec)
{
	if (!FIELD_OK(rec, issuer, false) || !FIELD_OK(rec, role, false) ||
	    !FIELD_OK(rec, product, true) || !FIELD_OK(rec, key_type, false) ||
	    !FIELD_OK(rec, status, false) || !FIELD_OK(rec, fingerprint, false))
		return tsr_error(TSR_ERR_INVALID, "certificate record: issuer, role, key type, "
		    "status and fingerprint are required");
	if (rec->der == NULL || rec->der_len == 0)
		return tsr_error(TSR_ERR_INVALID, "certificate record without its DER");
	return 0;
}

/* Free the heap members of rec and zero it. */
void tsr_cert_record_clear(struct tsr_cert_record *rec)
{
	if (rec == NULL)
		return;
	free(rec->subject);
	free(rec->sans);
	free(rec->der);
	memset(rec, 0, sizeof(*rec));
}

/* Reserve serial for issuer inside the open transaction. */
int tsr_store_serial_reserve(struct tsr_store *st, const char *serial, const char *issuer)
{
	char norm[TSR_SERIAL_HEX_MAX + 1];
	struct tsr_cert_record probe;
	int r;

	if ((r = require_transaction(st, "serial reservation")) != 0)
		return r;
	if ((r = serial_normalise(serial, norm)) != 0)
		return r;
	if (issuer == NULL || *issuer == '\0' || strlen(issuer) >= sizeof(probe.issuer))
		return tsr_error(TSR_ERR_INVALID,
		    "serial reservation needs an issuer name of 1 to %zu characters",
		    sizeof(probe.issuer) - 1);
	if ((r = st->ops->serial_reserve(st->be, norm, issuer)) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "serial number %s is already in use", norm);
	return r;
}

/* Say why a put found no row reserved for serial and issuer to fill. */
static int put_refused(struct tsr_store *st, const char *serial, const char *issuer)
{
	char reserved_for[sizeof(((struct tsr_cert_record *)NULL)->issuer)];
	bool issued = false;
	int r;

	r = st->ops->serial_state(st->be, serial, &issued, reserved_for, sizeof(reserved_for));
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_NOT_FOUND, "serial number %s was not reserved", serial);
	if (r != 0)
		return r;
	if (issued)
		return tsr_error(TSR_ERR_EXISTS, "serial number %s is already issued", serial);
	return tsr_error(TSR_ERR_NOT_FOUND, "serial number %s was reserved for issuer '%s', "
	    "not '%s'", serial, reserved_for, issuer);
}

/* Store the issued certificate rec in the row its serial reserved. */
int tsr_store_cert_put(struct tsr_store *st, const struct tsr_cert_record *rec)
{
	struct tsr_cert_record copy = *rec;
	char norm[TSR_SERIAL_HEX_MAX + 1];
	int r;

	if ((r = require_transaction(st, "storing a certificate")) != 0)
		return r;
	if (strnlen(rec->serial, sizeof(rec->serial)) == sizeof(rec->serial))
		return tsr_error(TSR_ERR_INVALID, "certificate record: serial not terminated");
	if ((r = serial_normalise(rec->serial, norm)) != 0 || (r = check_record(rec)) != 0)
		return r;
	memcpy(copy.serial, norm, sizeof(norm));
	if (copy.subject == NULL)
		copy.subject = "";
	if (copy.sans == NULL)
		copy.sans = "";
	if ((r = st->ops->cert_put(st->be, &copy)) == TSR_ERR_NOT_FOUND)
		r = put_refused(st, copy.serial, copy.issuer);
	return r;
}

static int no_certificate(const char *serial)
{
	return tsr_error(TSR_ERR_NOT_FOUND, "no certificate with serial number %s", serial);
}

/* Read the certificate with serial into out (clear it after use). */
int tsr_store_cert_get(struct tsr_store *st, const char *serial, struct tsr_cert_record *out)
{
	char norm[TSR_SERIAL_HEX_MAX + 1];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = serial_normalise(serial, norm)) != 0)
		return r;
	if ((r = st->ops->cert_get(st->be, norm, out)) == TSR_ERR_NOT_FOUND)
		r = no_certificate(norm);
	if (r != 0)
		tsr_cert_record_clear(out);
	return r;
}

/* RFC 5280 5.3.1 CRLReason names, removeFromCRL left out on purpose. */
static const char *const revocation_reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise",
};

/* Is reason a CRLReason name the store keeps? */
bool tsr_revocation_reason_known(const char *reason)
{
	if (reason == NULL)
		return false;
	for (size_t i = 0; i < TSR_ARRAY_LEN(revocation_reasons); i++)
		if (strcmp(reason, revocation_reasons[i]) == 0)
			return true;
	return false;
}

static bool status_known(const char *s)
{
	return s != NULL && (strcmp(s, "valid") == 0 || strcmp(s, "revoked") == 0 ||
	    strcmp(s, "suspended") == 0);
}

/* The revocation columns must agree with the new status. */
static int check_status_change(const char *expect_status, const char *new_status,
    int64_t revoked_at, const char *reason, int64_t invalidity_date)
{
	bool hold;

	if (!status_known(expect_status) || !status_known(new_status))
		return tsr_error(TSR_ERR_INVALID, "certificate status must be valid, revoked or "
		    "suspended");
	if (strcmp(new_status, "valid") == 0)
		return 0;
	if (revoked_at <= 0 || invalidity_date < 0)
		return tsr_error(TSR_ERR_INVALID, "a revocation needs its time");
	if (!tsr_revocation_reason_known(reason))
		return tsr_error(TSR_ERR_INVALID, "unknown revocation reason '%s'",
		    reason != NULL ? reason : "");
	hold = strcmp(reason, "certificateHold") == 0;
	if (hold != (strcmp(new_status, "suspended") == 0))
		return tsr_error(TSR_ERR_INVALID, "certificateHold is the reason of a suspension, "
		    "and only of one");
	return 0;
}

/* Compare-and-set the status of the certificate with serial. */
int tsr_store_cert_set_status(struct tsr_store *st, const char *serial,
    const char *expect_status, const char *new_status, int64_t revoked_at, const char *reason,
    int64_t invalidity_date)
{
	char norm[TSR_SERIAL_HEX_MAX + 1];
	int r;

	if ((r = serial_normalise(serial, norm)) != 0 ||
	    (r = check_status_change(expect_status, new_status, revoked_at, reason,
	    invalidity_date)) != 0)
		return r;
	if (strcmp(new_status, "valid") == 0)
		r = st->ops->cert_set_status(st->be, norm, expect_status, new_status, 0, NULL, 0);
	else
		r = st->ops->cert_set_status(st->be, norm, expect_status, new_status, revoked_at,
		    reason, invalidity_date);
	if (r == TSR_ERR_NOT_FOUND)
		return no_certificate(norm);
	if (r == TSR_ERR_POLICY)
		return tsr_error(TSR_ERR_POLICY, "certificate %s changed meanwhile: it is no longer "
		    "%s", norm, expect_status);
	return r;
}

int tsr_store_revoked_list(struct tsr_store *st, const char *issuer, int64_t not_after_from,
    tsr_revoked_fn fn, void *ctx)
{
	if (fn == NULL || issuer == NULL || issuer[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "revoked listing without an issuer or a callback");
	return st->ops->revoked_list(st->be, issuer, not_after_from, fn, ctx);
}

int tsr_store_status_changes(struct tsr_store *st, int64_t after, tsr_status_change_fn fn,
    void *ctx)
{
	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "status changes without a callback");
	return st->ops->status_changes(st->be, after, fn, ctx);
}

int tsr_store_status_seq(struct tsr_store *st, int64_t *out)
{
	return st->ops->status_seq(st->be, out);
}

/* Call fn for each issued certificate matching f (NULL: all), newest first. */
int tsr_store_cert_list(struct tsr_store *st, const struct tsr_cert_filter *f, tsr_cert_fn fn,
    void *ctx)
{
	static const struct tsr_cert_filter all;

	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "certificate listing without a callback");
	return st->ops->cert_list(st->be, f != NULL ? f : &all, fn, ctx);
}

/* Count every row of the certificates table, reservations included. */
int tsr_store_cert_count(struct tsr_store *st, int64_t *out)
{
	return st->ops->cert_count(st->be, out);
}

/* ------------------------------------------------------------------ audit rows */

/* Free the heap members of r and zero it. */
void tsr_audit_record_clear(struct tsr_audit_record *r)
{
	if (r == NULL)
		return;
	free(r->actor);
	free(r->action);
	free(r->object);
	free(r->outcome);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

/* The last audit row into out (clear it after use); NOT_FOUND if none. */
int tsr_store_audit_last(struct tsr_store *st, struct tsr_audit_record *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = st->ops->audit_last(st->be, out)) == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_NOT_FOUND, "the audit log is empty");
	if (r != 0)
		tsr_audit_record_clear(out);
	return r;
}

/* Append rec, which must directly follow the last row, in the open transaction. */
int tsr_store_audit_insert(struct tsr_store *st, const struct tsr_audit_record *rec)
{
	int r;

	if ((r = require_transaction(st, "audit append")) != 0)
		return r;
	if (rec->actor == NULL || rec->action == NULL || rec->object == NULL ||
	    rec->outcome == NULL || rec->detail == NULL)
		return tsr_error(TSR_ERR_INVALID, "audit record with a missing field");
	if ((r = st->ops->audit_insert(st->be, rec)) == TSR_ERR_INTERNAL)
		r = tsr_error(TSR_ERR_INTERNAL, "audit record %lld does not follow the last record",
		    (long long)rec->seq);
	return r;
}

/* Call fn for every audit row in seq order. */
int tsr_store_audit_iter(struct tsr_store *st, tsr_audit_fn fn, void *ctx)
{
	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "audit iteration without a callback");
	return st->ops->audit_iter(st->be, fn, ctx);
}

/* ------------------------------------------------------------------ users */

static bool text_ok(const char *s, size_t max, bool may_be_empty)
{
	return s != NULL && strnlen(s, max + 1) <= max && (may_be_empty || *s != '\0');
}

static int no_user(const char *name)
{
	return tsr_error(TSR_ERR_NOT_FOUND, "no user called '%s'", name);
}

static int check_user_name(const char *name)
{
	if (!text_ok(name, TSR_USER_NAME_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "a user name has 1 to %d characters",
		    TSR_USER_NAME_MAX);
	return 0;
}

/* Wipe the password hash and free the heap members of u, then zero it. */
void tsr_user_record_clear(struct tsr_user_record *u)
{
	if (u == NULL)
		return;
	free(u->display_name);
	free(u->email);
	tsr_free_secret(u->password_hash);
	memset(u, 0, sizeof(*u));
}

/* Add user u (its id and times are set by the store). */
int tsr_store_user_create(struct tsr_store *st, const struct tsr_user_record *u)
{
	struct tsr_user_record copy = *u;
	int r;

	if ((r = check_user_name(u->name)) != 0)
		return r;
	if (!FIELD_OK(u, roles, false) || !text_ok(u->password_hash, 1024, false))
		return tsr_error(TSR_ERR_INVALID, "a user needs roles and a password hash");
	if (copy.display_name == NULL)
		copy.display_name = "";
	if (copy.email == NULL)
		copy.email = "";
	if (!text_ok(copy.display_name, TSR_USER_TEXT_MAX, true) ||
	    !text_ok(copy.email, TSR_USER_TEXT_MAX, true))
		return tsr_error(TSR_ERR_INVALID, "a user's display name and email have at most "
		    "%d bytes each", TSR_USER_TEXT_MAX);
	if ((r = st->ops->user_create(st->be, &copy, (int64_t)tsr_now())) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "a user called '%s' already exists", u->name);
	return r;
}

/* Read the user called name into out (clear it after use). */
int tsr_store_user_get(struct tsr_store *st, const char *name, struct tsr_user_record *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_user_name(name)) != 0)
		return r;
	if ((r = st->ops->user_get(st->be, name, out)) == TSR_ERR_NOT_FOUND)
		r = no_user(name);
	if (r != 0)
		tsr_user_record_clear(out);
	return r;
}

/* Call fn for every user, in name order. */
int tsr_store_user_list(struct tsr_store *st, tsr_user_fn fn, void *ctx)
{
	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "user listing without a callback");
	return st->ops->user_list(st->be, fn, ctx);
}

/* Apply the changes in u to the user called name. */
int tsr_store_user_update(struct tsr_store *st, const char *name,
    const struct tsr_user_update *u)
{
	int r;

	if ((r = check_user_name(name)) != 0)
		return r;
	if ((u->roles != NULL && !text_ok(u->roles, TSR_USER_ROLES_MAX, false)) ||
	    (u->password_hash != NULL && !text_ok(u->password_hash, 1024, false)) ||
	    u->failed_logins < -1 || u->locked < -1 || u->locked > 1 ||
	    u->disabled < -1 || u->disabled > 1)
		return tsr_error(TSR_ERR_INVALID, "user update with a value out of range");
	if ((r = st->ops->user_update(st->be, name, u, (int64_t)tsr_now())) == TSR_ERR_NOT_FOUND)
		r = no_user(name);
	return r;
}

/* ------------------------------------------------------------------ vouchers */

/* Keyed hashes (tsr_code_hash()) and SHA-256 digests are stored as what
 * tsr_hex_encode() writes: 64 lower-case hex digits.  what names the value
 * for the detail ("a voucher hash"). */
static int check_hex64(const char *h, const char *what)
{
	if (h == NULL || strnlen(h, 65) != 64)
		return tsr_error(TSR_ERR_INVALID, "%s has 64 lower-case hex digits", what);
	for (size_t i = 0; i < 64; i++)
		if (strchr("0123456789abcdef", h[i]) == NULL)
			return tsr_error(TSR_ERR_INVALID, "%s has 64 lower-case hex digits", what);
	return 0;
}

static int check_code_hash(const char *h)
{
	return check_hex64(h, "a voucher hash");
}

static int check_batch(const char *batch)
{
	if (!text_ok(batch, TSR_VOUCHER_BATCH_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "a voucher batch has 1 to %d characters",
		    TSR_VOUCHER_BATCH_MAX);
	return 0;
}

static int check_product(const char *product)
{
	struct tsr_voucher_record v;

	if (!text_ok(product, sizeof(v.product) - 1, false))
		return tsr_error(TSR_ERR_INVALID, "a voucher's product name has 1 to %zu characters",
		    sizeof(v.product) - 1);
	return 0;
}

/* Insert the unused voucher v. */
int tsr_store_voucher_insert(struct tsr_store *st, const struct tsr_voucher_record *v)
{
	int r;

	if (!FIELD_OK(v, code_hash, false) || !FIELD_OK(v, batch, false) ||
	    !FIELD_OK(v, product, false))
		return tsr_error(TSR_ERR_INVALID, "a voucher needs a hash, a batch and a product");
	if ((r = check_code_hash(v->code_hash)) != 0 || (r = check_batch(v->batch)) != 0)
		return r;
	if (v->created_at <= 0 || v->expires_at < 0)
		return tsr_error(TSR_ERR_INVALID, "a voucher needs its creation time");
	if ((r = st->ops->voucher_insert(st->be, v)) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "that voucher is already stored");
	return r;
}

static int voucher_get(struct tsr_store *st, const char *code_hash,
    struct tsr_voucher_record *out)
{
	int r;

	if ((r = st->ops->voucher_get(st->be, code_hash, out)) == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_NOT_FOUND, "no such voucher");
	return r;
}

/* Read the voucher whose code hashes to code_hash into out. */
int tsr_store_voucher_get(struct tsr_store *st, const char *code_hash,
    struct tsr_voucher_record *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_code_hash(code_hash)) != 0)
		return r;
	return voucher_get(st, code_hash, out);
}

/* Call fn for each voucher matching f (NULL: all), a batch's rows together. */
int tsr_store_voucher_list(struct tsr_store *st, const struct tsr_voucher_filter *f,
    tsr_voucher_fn fn, void *ctx)
{
	static const struct tsr_voucher_filter all;

	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "voucher listing without a callback");
	return st->ops->voucher_list(st->be, f != NULL ? f : &all, fn, ctx);
}

/* Why v cannot pay for product at now (see store.h). */
int tsr_voucher_unusable(const struct tsr_voucher_record *v, const char *product, int64_t now)
{
	char when[21];

	if (v->used_at != 0) {
		tsr_time_format((time_t)v->used_at, when);
		return tsr_error(TSR_ERR_POLICY, "this voucher was already used (%s)", when);
	}
	if (v->revoked_at != 0)
		return tsr_error(TSR_ERR_POLICY, "this voucher was revoked");
	if (strcmp(v->product, product) != 0)
		return tsr_error(TSR_ERR_POLICY, "this voucher is for product %s, not %s",
		    v->product, product);
	if (v->expires_at != 0 && v->expires_at <= now) {
		tsr_time_format((time_t)v->expires_at, when);
		return tsr_error(TSR_ERR_POLICY, "this voucher expired at %s", when);
	}
	return 0;
}

/* Say why a consume changed nothing, from the row as it is now. */
static int consume_refused(struct tsr_store *st, const char *code_hash, const char *product,
    int64_t now)
{
	struct tsr_voucher_record v;
	int r;

	memset(&v, 0, sizeof(v));
	if ((r = voucher_get(st, code_hash, &v)) != 0 ||
	    (r = tsr_voucher_unusable(&v, product, now)) != 0)
		return r;
	return tsr_error(TSR_ERR_INTERNAL, "the voucher could not be used, for no known reason");
}

/* Use the voucher code_hash for product by used_by, atomically. */
int tsr_store_voucher_consume(struct tsr_store *st, const char *code_hash, const char *product,
    const char *used_by, int64_t now)
{
	int r;

	if ((r = check_code_hash(code_hash)) != 0 || (r = check_product(product)) != 0)
		return r;
	if (!text_ok(used_by, TSR_VOUCHER_USED_BY_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "a voucher is used by an application id of 1 to "
		    "%d characters", TSR_VOUCHER_USED_BY_MAX);
	r = st->ops->voucher_consume(st->be, code_hash, product, used_by, now);
	if (r == TSR_ERR_POLICY)
		r = consume_refused(st, code_hash, product, now);
	return r;
}

/* Revoke the unused vouchers of batch. */
int tsr_store_voucher_revoke_batch(struct tsr_store *st, const char *batch, int64_t now,
    int64_t *revoked)
{
	int64_t n = 0;
	int r;

	if ((r = check_batch(batch)) != 0)
		return r;
	r = st->ops->voucher_revoke_batch(st->be, batch, now, &n);
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_NOT_FOUND, "no voucher batch '%s'", batch);
	if (r == 0 && revoked != NULL)
		*revoked = n;
	return r;
}

/* ------------------------------------------------------------------ applications */

/* Caps on the heap text of the workflow's rows.  The RA checks each field
 * to its own, tighter limit; these only keep a bug from storing megabytes. */
#define SHORT_TEXT_MAX 1024       /* email, NPI, DEA, agreement, Argon2id strings */
#define LONG_TEXT_MAX 65536       /* JSON texts, reasons, comments */

static int no_application(const char *id)
{
	return tsr_error(TSR_ERR_NOT_FOUND, "no application %s", id);
}

static int check_app_id(const char *id)
{
	if (!text_ok(id, TSR_APP_ID_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "an application id has 1 to %d characters",
		    TSR_APP_ID_MAX);
	return 0;
}

/* A time the caller passes as "now": Unix seconds, after 1970. */
static int check_now(int64_t now)
{
	if (now <= 0)
		return tsr_error(TSR_ERR_INVALID, "a store operation needs the current time");
	return 0;
}

/* Wipe the password hash and free the heap members of a, then zero it. */
void tsr_app_record_clear(struct tsr_app_record *a)
{
	if (a == NULL)
		return;
	free(a->email);
	free(a->npi);
	free(a->dea);
	free(a->identity);
	free(a->applicant);
	free(a->agreement);
	tsr_free_secret(a->password_hash);
	free(a->checks);
	free(a->reason);
	free(a->last_test);
	memset(a, 0, sizeof(*a));
}

static bool opt_text_ok(const char *s, size_t max, bool may_be_empty)
{
	return s == NULL || text_ok(s, max, may_be_empty);
}

static int check_app_record(const struct tsr_app_record *a)
{
	int r;

	if (!FIELD_OK(a, id, false) || !FIELD_OK(a, product, false) ||
	    !FIELD_OK(a, storage, false) || !FIELD_OK(a, state, false) ||
	    !FIELD_OK(a, token_serial, true) || !FIELD_OK(a, cert_serial, true))
		return tsr_error(TSR_ERR_INVALID, "an application needs an id of 1 to %d "
		    "characters, a product, a storage kind and a state", TSR_APP_ID_MAX);
	if (!text_ok(a->email, SHORT_TEXT_MAX, false) || !text_ok(a->npi, SHORT_TEXT_MAX, true) ||
	    !text_ok(a->dea, SHORT_TEXT_MAX, true) ||
	    !text_ok(a->agreement, SHORT_TEXT_MAX, false) ||
	    !text_ok(a->password_hash, SHORT_TEXT_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "an application needs an email address, an "
		    "agreement version and a password hash, NPI and DEA as \"\" if none "
		    "(each at most %d bytes)", SHORT_TEXT_MAX);
	if (!text_ok(a->applicant, LONG_TEXT_MAX, false) ||
	    !text_ok(a->checks, LONG_TEXT_MAX, true) || !text_ok(a->reason, LONG_TEXT_MAX, true) ||
	    !opt_text_ok(a->last_test, LONG_TEXT_MAX, true))
		return tsr_error(TSR_ERR_INVALID, "an application needs its applicant fields, "
		    "checks and reason as \"\" if none (each at most %d bytes)", LONG_TEXT_MAX);
	/* "" when the product asks for neither a name nor a date of birth. */
	if (a->identity == NULL)
		return tsr_error(TSR_ERR_INVALID, "an application needs an identity, \"\" if none");
	if (a->identity[0] != '\0' &&
	    (r = check_hex64(a->identity, "an applicant's identity")) != 0)
		return r;
	if (a->failed_logins < 0 || a->created_at <= 0 || a->updated_at <= 0 ||
	    a->state_since <= 0)
		return tsr_error(TSR_ERR_INVALID, "an application needs its creation, update and "
		    "state times and a failure count of 0 or more");
	return 0;
}

/* Insert the new application a. */
int tsr_store_app_create(struct tsr_store *st, const struct tsr_app_record *a)
{
	struct tsr_app_record copy;
	int r;

	if (a == NULL)
		return tsr_error(TSR_ERR_INVALID, "no application given");
	if ((r = check_app_record(a)) != 0)
		return r;
	copy = *a;
	if (copy.last_test == NULL)
		copy.last_test = "";
	if ((r = st->ops->app_create(st->be, &copy)) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "application %s already exists", a->id);
	return r;
}

/* Read application id into out (clear it after use). */
int tsr_store_app_get(struct tsr_store *st, const char *id, struct tsr_app_record *out)
{
	int r;

	if (out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no record to read an application into");
	memset(out, 0, sizeof(*out));
	if ((r = check_app_id(id)) != 0)
		return r;
	if ((r = st->ops->app_get(st->be, id, out)) == TSR_ERR_NOT_FOUND)
		r = no_application(id);
	if (r != 0)
		tsr_app_record_clear(out);
	return r;
}

/* Call fn for each application matching f (NULL: all), oldest first. */
int tsr_store_app_list(struct tsr_store *st, const struct tsr_app_filter *f, tsr_app_fn fn,
    void *ctx)
{
	static const struct tsr_app_filter all;

	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "application listing without a callback");
	return st->ops->app_list(st->be, f != NULL ? f : &all, fn, ctx);
}


/* Apply the changes in u to application id at now. */
int tsr_store_app_update(struct tsr_store *st, const char *id, const struct tsr_app_update *u,
    int64_t now)
{
	int r;

	if ((r = check_app_id(id)) != 0 || (r = check_now(now)) != 0)
		return r;
	if (u == NULL)
		return tsr_error(TSR_ERR_INVALID, "no application update given");
	if (!opt_text_ok(u->expect_state, TSR_APP_STATE_MAX, false) ||
	    !opt_text_ok(u->state, TSR_APP_STATE_MAX, false) ||
	    !opt_text_ok(u->password_hash, SHORT_TEXT_MAX, false) ||
	    !opt_text_ok(u->token_serial, TSR_TOKEN_SERIAL_MAX, true) ||
	    !opt_text_ok(u->checks, LONG_TEXT_MAX, true) ||
	    !opt_text_ok(u->reason, LONG_TEXT_MAX, true) ||
	    !opt_text_ok(u->cert_serial, TSR_SERIAL_HEX_MAX, true) ||
	    !opt_text_ok(u->last_test, LONG_TEXT_MAX, true) ||
	    u->failed_logins < -1 || u->locked < -1 || u->locked > 1)
		return tsr_error(TSR_ERR_INVALID, "application update with a value out of range");
	r = st->ops->app_update(st->be, id, u, now);
	if (r == TSR_ERR_NOT_FOUND)
		return no_application(id);
	if (r == TSR_ERR_POLICY)
		return tsr_error(TSR_ERR_POLICY, "the application changed meanwhile");
	return r;
}

/* Wipe the answer hash and free the heap members of a, then zero it. */
void tsr_answer_record_clear(struct tsr_answer_record *a)
{
	if (a == NULL)
		return;
	free(a->question);
	tsr_free_secret(a->answer_hash);
	memset(a, 0, sizeof(*a));
}

/* Add answer a->idx of application app. */
int tsr_store_answer_add(struct tsr_store *st, const char *app,
    const struct tsr_answer_record *a)
{
	int r;

	if ((r = check_app_id(app)) != 0)
		return r;
	if (a == NULL || a->idx < 0 || !text_ok(a->question, TSR_QUESTION_MAX, false) ||
	    !text_ok(a->answer_hash, SHORT_TEXT_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "an answer needs an index of 0 or more, a "
		    "question of 1 to %d bytes and an answer hash", TSR_QUESTION_MAX);
	r = st->ops->answer_add(st->be, app, a);
	if (r == TSR_ERR_EXISTS)
		return tsr_error(TSR_ERR_EXISTS, "application %s already has answer %d", app,
		    a->idx);
	if (r == TSR_ERR_NOT_FOUND)
		return no_application(app);
	return r;
}

/* Call fn for each answer of app, in idx order. */
int tsr_store_answer_list(struct tsr_store *st, const char *app, tsr_answer_fn fn, void *ctx)
{
	int r;

	if ((r = check_app_id(app)) != 0)
		return r;
	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "answer listing without a callback");
	return st->ops->answer_list(st->be, app, fn, ctx);
}

/* ------------------------------------------------------------------ codes */

static int check_purpose(const char *purpose)
{
	if (purpose == NULL ||
	    (strcmp(purpose, "verification") != 0 && strcmp(purpose, "activation") != 0))
		return tsr_error(TSR_ERR_INVALID,
		    "a code's purpose is \"verification\" or \"activation\"");
	return 0;
}

/* Insert the new code c, superseding the unused ones it replaces. */
int tsr_store_code_insert(struct tsr_store *st, const struct tsr_code_record *c)
{
	int r;

	if (c == NULL)
		return tsr_error(TSR_ERR_INVALID, "no code given");
	if (!FIELD_OK(c, code_hash, false) || !FIELD_OK(c, application, false) ||
	    !FIELD_OK(c, purpose, false))
		return tsr_error(TSR_ERR_INVALID, "a code needs a hash, an application id of 1 to "
		    "%d characters and a purpose", TSR_APP_ID_MAX);
	if ((r = check_hex64(c->code_hash, "a code hash")) != 0 ||
	    (r = check_purpose(c->purpose)) != 0)
		return r;
	if (c->created_at <= 0 || c->expires_at <= c->created_at)
		return tsr_error(TSR_ERR_INVALID, "a code needs its creation time and an expiry "
		    "after it");
	if ((r = st->ops->code_insert(st->be, c)) == TSR_ERR_EXISTS)
		return tsr_error(TSR_ERR_EXISTS, "that code is already stored");
	if (r == TSR_ERR_NOT_FOUND)
		return no_application(c->application);
	return r;
}

/* Read the current code of app for purpose into out. */
int tsr_store_code_current(struct tsr_store *st, const char *app, const char *purpose,
    struct tsr_code_record *out)
{
	int r;

	if (out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no record to read a code into");
	memset(out, 0, sizeof(*out));
	if ((r = check_app_id(app)) != 0 || (r = check_purpose(purpose)) != 0)
		return r;
	if ((r = st->ops->code_current(st->be, app, purpose, out)) == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_NOT_FOUND, "application %s has no current %s code", app,
		    purpose);
	return r;
}

static int no_code(void)
{
	return tsr_error(TSR_ERR_NOT_FOUND, "no such code");
}

static int code_get(struct tsr_store *st, const char *code_hash, struct tsr_code_record *out)
{
	int r;

	if ((r = st->ops->code_get(st->be, code_hash, out)) == TSR_ERR_NOT_FOUND)
		r = no_code();
	return r;
}

/* Read the code whose hash is code_hash into out. */
int tsr_store_code_get(struct tsr_store *st, const char *code_hash,
    struct tsr_code_record *out)
{
	int r;

	if (out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no record to read a code into");
	memset(out, 0, sizeof(*out));
	if ((r = check_hex64(code_hash, "a code hash")) != 0)
		return r;
	return code_get(st, code_hash, out);
}

/* Say why a use changed nothing, from the row as it is now.  A replaced
 * code is named as such before a lock or an expiry: the newer code is
 * what the person should type. */
static int code_use_refused(struct tsr_store *st, const char *code_hash, int64_t now)
{
	struct tsr_code_record c;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = code_get(st, code_hash, &c)) != 0)
		return r;
	if (c.used_at != 0)
		return tsr_error(TSR_ERR_POLICY, "the code was already used");
	if (c.superseded_at != 0)
		return tsr_error(TSR_ERR_POLICY, "the code was replaced by a newer code");
	if (c.locked)
		return tsr_error(TSR_ERR_POLICY, "the code is locked after too many wrong tries");
	if (c.expires_at <= now)
		return tsr_error(TSR_ERR_POLICY, "the code has expired");
	return tsr_error(TSR_ERR_INTERNAL, "the code could not be used, for no known reason");
}

/* Use a checked code, recording used_key ("" for none). */
static int code_use(struct tsr_store *st, const char *code_hash, int64_t now,
    const char *used_key)
{
	int r;

	if ((r = st->ops->code_use(st->be, code_hash, now, used_key)) == TSR_ERR_POLICY)
		r = code_use_refused(st, code_hash, now);
	return r;
}

/* Use the code code_hash at now, atomically. */
int tsr_store_code_use(struct tsr_store *st, const char *code_hash, int64_t now)
{
	int r;

	if ((r = check_hex64(code_hash, "a code hash")) != 0 || (r = check_now(now)) != 0)
		return r;
	return code_use(st, code_hash, now, "");
}

int tsr_store_code_use_key(struct tsr_store *st, const char *code_hash, int64_t now,
    const char *used_key)
{
	int r;

	if ((r = check_hex64(code_hash, "a code hash")) != 0 || (r = check_now(now)) != 0 ||
	    (r = check_hex64(used_key, "a public key's hash")) != 0)
		return r;
	return code_use(st, code_hash, now, used_key);
}

/* Set the failure count and lock of the code code_hash. */
int tsr_store_code_set_failures(struct tsr_store *st, const char *code_hash, int failures,
    bool locked)
{
	int r;

	if ((r = check_hex64(code_hash, "a code hash")) != 0)
		return r;
	if (failures < 0)
		return tsr_error(TSR_ERR_INVALID, "a code's failure count is 0 or more");
	if ((r = st->ops->code_set_failures(st->be, code_hash, failures, locked)) ==
	    TSR_ERR_NOT_FOUND)
		r = no_code();
	return r;
}

/* ------------------------------------------------------------------ approvals */

/* Free the comment of a and zero it. */
void tsr_approval_record_clear(struct tsr_approval_record *a)
{
	if (a == NULL)
		return;
	free(a->comment);
	memset(a, 0, sizeof(*a));
}

/* Record the approval a (a NULL comment is stored as ""). */
int tsr_store_approval_add(struct tsr_store *st, const struct tsr_approval_record *a)
{
	struct tsr_approval_record copy;
	int r;

	if (a == NULL)
		return tsr_error(TSR_ERR_INVALID, "no approval given");
	copy = *a;
	if (copy.comment == NULL)
		copy.comment = "";
	if (!FIELD_OK(a, application, false) || !FIELD_OK(a, officer, false) || a->at <= 0 ||
	    !text_ok(copy.comment, LONG_TEXT_MAX, true))
		return tsr_error(TSR_ERR_INVALID, "an approval needs an application id of 1 to %d "
		    "characters, an officer, its time and a comment of at most %d bytes",
		    TSR_APP_ID_MAX, LONG_TEXT_MAX);
	r = st->ops->approval_add(st->be, &copy);
	if (r == TSR_ERR_EXISTS)
		return tsr_error(TSR_ERR_EXISTS, "officer %s already approved application %s",
		    a->officer, a->application);
	if (r == TSR_ERR_NOT_FOUND)
		return no_application(a->application);
	return r;
}

/* Call fn for each approval of app, oldest first. */
int tsr_store_approval_list(struct tsr_store *st, const char *app, tsr_approval_fn fn,
    void *ctx)
{
	int r;

	if ((r = check_app_id(app)) != 0)
		return r;
	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "approval listing without a callback");
	return st->ops->approval_list(st->be, app, fn, ctx);
}

/* ------------------------------------------------------------------ sessions */

static int no_session(int r)
{
	return r == TSR_ERR_NOT_FOUND ? tsr_error(TSR_ERR_NOT_FOUND, "no such session") : r;
}

static int check_token_hash(const char *h)
{
	return check_hex64(h, "a session token hash");
}

/* Store the new session s. */
int tsr_store_session_insert(struct tsr_store *st, const struct tsr_session_record *s)
{
	int r;

	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "no session given");
	if (!FIELD_OK(s, token_hash, false) || !FIELD_OK(s, subject, false))
		return tsr_error(TSR_ERR_INVALID, "a session needs a token hash and a subject of 1 "
		    "to %d characters", TSR_SESSION_SUBJECT_MAX);
	if ((r = check_token_hash(s->token_hash)) != 0)
		return r;
	if (s->created_at <= 0 || s->last_seen < s->created_at ||
	    s->expires_at <= s->created_at)
		return tsr_error(TSR_ERR_INVALID, "a session needs its creation time, and its last "
		    "activity and end not before it");
	if ((r = st->ops->session_insert(st->be, s)) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "that session is already stored");
	return r;
}

/* Read the session whose token hashes to token_hash into out. */
int tsr_store_session_get(struct tsr_store *st, const char *token_hash,
    struct tsr_session_record *out)
{
	int r;

	if (out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no record to read a session into");
	memset(out, 0, sizeof(*out));
	if ((r = check_token_hash(token_hash)) != 0)
		return r;
	return no_session(st->ops->session_get(st->be, token_hash, out));
}

/* Record activity on session token_hash at now. */
int tsr_store_session_touch(struct tsr_store *st, const char *token_hash, int64_t now)
{
	int r;

	if ((r = check_token_hash(token_hash)) != 0 || (r = check_now(now)) != 0)
		return r;
	return no_session(st->ops->session_touch(st->be, token_hash, now));
}

/* End session token_hash. */
int tsr_store_session_delete(struct tsr_store *st, const char *token_hash)
{
	int r;

	if ((r = check_token_hash(token_hash)) != 0)
		return r;
	return no_session(st->ops->session_delete(st->be, token_hash));
}

/* End every session of subject. */
int tsr_store_session_delete_subject(struct tsr_store *st, const char *subject,
    int64_t *deleted)
{
	int64_t n = 0;
	int r;

	if (!text_ok(subject, TSR_SESSION_SUBJECT_MAX, false))
		return tsr_error(TSR_ERR_INVALID, "a session subject has 1 to %d characters",
		    TSR_SESSION_SUBJECT_MAX);
	if ((r = st->ops->session_delete_subject(st->be, subject, &n)) == 0 && deleted != NULL)
		*deleted = n;
	return r;
}

/* Delete the sessions that expired by now or were idle since idle_before. */
int tsr_store_session_purge(struct tsr_store *st, int64_t now, int64_t idle_before,
    int64_t *deleted)
{
	int64_t n = 0;
	int r;

	/* Any idle_before will do: one before every last_seen purges only
	 * the sessions that reached their end. */
	if ((r = check_now(now)) != 0)
		return r;
	if ((r = st->ops->session_purge(st->be, now, idle_before, &n)) == 0 && deleted != NULL)
		*deleted = n;
	return r;
}

/* ------------------------------------------------------------------ nonces */

static int check_nonce(const char *nonce)
{
	size_t n = nonce != NULL ? strnlen(nonce, TSR_NONCE_MAX + 1) : 0;

	if (n == 0 || n > TSR_NONCE_MAX)
		return tsr_error(TSR_ERR_INVALID, "a nonce has 1 to %d characters", TSR_NONCE_MAX);
	for (size_t i = 0; i < n; i++)
		if (nonce[i] <= ' ' || nonce[i] > '~')
			return tsr_error(TSR_ERR_INVALID, "a nonce is printable ASCII");
	return 0;
}

int tsr_store_nonce_insert(struct tsr_store *st, const char *nonce, int64_t created_at,
    int64_t expires_at)
{
	int r;

	if ((r = check_nonce(nonce)) != 0 || (r = check_now(created_at)) != 0)
		return r;
	if (expires_at <= created_at)
		return tsr_error(TSR_ERR_INVALID, "a nonce expires after it is made");
	if ((r = st->ops->nonce_insert(st->be, nonce, created_at, expires_at)) == TSR_ERR_EXISTS)
		r = tsr_error(TSR_ERR_EXISTS, "the nonce exists already");
	return r;
}

int tsr_store_nonce_use(struct tsr_store *st, const char *nonce, int64_t now)
{
	int64_t used_at = 0;
	int r;

	if ((r = check_nonce(nonce)) != 0 || (r = check_now(now)) != 0)
		return r;
	if ((r = st->ops->nonce_use(st->be, nonce, now)) != TSR_ERR_POLICY)
		return r;
	/* Nothing changed: say why, from the row as it is now. */
	if ((r = st->ops->nonce_used_at(st->be, nonce, &used_at)) == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_NOT_FOUND, "no such nonce");
	if (r != 0)
		return r;
	return tsr_error(TSR_ERR_POLICY, used_at != 0 ? "the nonce was already used" :
	    "the nonce has expired");
}

int tsr_store_nonce_purge(struct tsr_store *st, int64_t before, int64_t *deleted)
{
	int64_t n = 0;
	int r;

	if ((r = check_now(before)) != 0)
		return r;
	if ((r = st->ops->nonce_purge(st->be, before, &n)) == 0 && deleted != NULL)
		*deleted = n;
	return r;
}
