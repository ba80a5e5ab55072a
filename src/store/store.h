/*
 * store.h - the one interface to persistence.
 *
 * Every row Tessera keeps goes through these functions; callers never see
 * SQL.  SQLite is the backend today ("tessera.db" in the CA home, WAL mode);
 * a PostgreSQL backend will implement the same operations behind
 * struct store_ops in store_impl.h, so no caller changes.
 *
 * Writes that must be atomic together (reserve a serial, store the
 * certificate, append the audit record) run between tsr_store_begin() and
 * tsr_store_commit(); tsr_store_begin() takes the write lock at once so that
 * two processes never interleave an audit append.
 */
#ifndef TSR_STORE_H
#define TSR_STORE_H

#include "base/base.h"

struct tsr_store;

/* A PostgreSQL URI as a config file or a command line may hold it: one
 * libpq parses (PQconninfoParse, so percent-encoded keys count too) and
 * that carries no password or sslpassword, which belong in a passfile.
 * TSR_ERR_INVALID otherwise, with a detail that never repeats the URI. */
int tsr_store_uri_check(const char *uri) TSR_MUST_CHECK;

/* Open the store at path ("sqlite:PATH" or a plain path).  With create, the
 * database must not exist yet and is created 0600; without it, it must
 * exist.  Pending schema migrations are applied either way. */
int tsr_store_open(const char *path, bool create, struct tsr_store **out) TSR_MUST_CHECK;
void tsr_store_close(struct tsr_store *st);
/* The schema version after migrations (the number of the last one). */
int tsr_store_schema_version(struct tsr_store *st, int *out) TSR_MUST_CHECK;

int tsr_store_begin(struct tsr_store *st) TSR_MUST_CHECK;
/* Begin a read transaction: a consistent snapshot of the store as it is
 * now (taken at once, not at the first read), without the write lock, so
 * that a long reading (a CRL of a million entries) never holds up writers.
 * End it with tsr_store_commit() or tsr_store_rollback().  Meant for reads:
 * a write inside it may fail with TSR_ERR_STORE ("database is locked"). */
int tsr_store_begin_read(struct tsr_store *st) TSR_MUST_CHECK;
int tsr_store_commit(struct tsr_store *st) TSR_MUST_CHECK;
/* Roll back the open transaction, if any.  Never fails from the caller's view. */
void tsr_store_rollback(struct tsr_store *st);
bool tsr_store_in_transaction(const struct tsr_store *st);

/* ------------------------------------------------------------------ metadata
 * Small named values that belong to the CA (e.g. the policy OID arc). */
int tsr_store_meta_set(struct tsr_store *st, const char *key, const char *value) TSR_MUST_CHECK;
/* *out is a new string (free()); TSR_ERR_NOT_FOUND if unset. */
int tsr_store_meta_get(struct tsr_store *st, const char *key, char **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ certificates */
#define TSR_SERIAL_HEX_MAX 40   /* 20 octets, RFC 5280 */

struct tsr_cert_record {
	char serial[TSR_SERIAL_HEX_MAX + 1]; /* lower-case hex of the DER INTEGER's value */
	char issuer[32];          /* CA that signed it: "root" or "issuing" */
	char role[16];            /* "ca", "ocsp" or "subscriber" */
	char product[64];         /* product name; "" for CA and OCSP certificates */
	char key_type[16];        /* tsr_key_type_name() */
	char status[16];          /* "valid", "revoked" or "suspended" */
	char fingerprint[65];     /* SHA-256 of the DER, lower-case hex */
	int64_t not_before;
	int64_t not_after;
	int64_t issued_at;
	char *subject;            /* RFC 4514 string */
	char *sans;               /* "dns:a.example, email:x@y" or "" */
	uint8_t *der;
	size_t der_len;
	/* Revocation (0 and "" while valid).  A suspension is recorded as a
	 * revocation with reason certificateHold; lifting it clears all three. */
	int64_t revoked_at;       /* when it was revoked or put on hold */
	char revocation_reason[24]; /* RFC 5280 name: "keyCompromise", "certificateHold", ... */
	int64_t invalidity_date;  /* when the key is known or suspected to have been
	                           * compromised; 0 if not given */
};

/* Free the heap members of a record (not the record itself). */
void tsr_cert_record_clear(struct tsr_cert_record *rec);

/* Reserve a serial inside the open transaction: TSR_ERR_EXISTS if any
 * certificate or reservation already has it.  A rollback releases it. */
int tsr_store_serial_reserve(struct tsr_store *st, const char *serial, const char *issuer) TSR_MUST_CHECK;
/* Fill the reserved row with the issued certificate (inside the transaction).
 * TSR_ERR_NOT_FOUND if the serial was not reserved. */
int tsr_store_cert_put(struct tsr_store *st, const struct tsr_cert_record *rec) TSR_MUST_CHECK;
/* Read one certificate by serial (hex, any case, leading zeros ignored). */
int tsr_store_cert_get(struct tsr_store *st, const char *serial, struct tsr_cert_record *out) TSR_MUST_CHECK;
/* True if reason is one of the RFC 5280 reason names the store keeps
 * (every CRLReason but removeFromCRL, which is never stored). */
bool tsr_revocation_reason_known(const char *reason);
/*
 * Change the status of an issued certificate from expect_status to
 * new_status in one compare-and-set UPDATE (statuses: "valid", "revoked",
 * "suspended").  To "valid": revoked_at, reason and invalidity_date are
 * cleared (the arguments are ignored).  Otherwise revoked_at > 0 and reason
 * is a known name: "certificateHold" for "suspended" and only then;
 * invalidity_date is 0 or a time.  TSR_ERR_NOT_FOUND if no certificate has
 * serial; TSR_ERR_POLICY if its status is no longer expect_status.
 */
int tsr_store_cert_set_status(struct tsr_store *st, const char *serial,
    const char *expect_status, const char *new_status, int64_t revoked_at, const char *reason,
    int64_t invalidity_date) TSR_MUST_CHECK;

/*
 * What relying parties need (CRLs, OCSP).  Every successful
 * tsr_store_cert_set_status() also appends (seq, serial, time) to the log
 * of status changes in the same transaction, so that a process keeping
 * signed statuses (the OCSP cache, the CRL) can follow changes made by any
 * other process: it remembers the last seq it saw and asks for the rest.
 */
struct tsr_revoked_entry {
	char serial[TSR_SERIAL_HEX_MAX + 1];
	int64_t revoked_at;
	char reason[24];          /* RFC 5280 name; "certificateHold" while suspended */
	int64_t invalidity_date;  /* 0 if not given */
};
typedef int (*tsr_revoked_fn)(const struct tsr_revoked_entry *e, void *ctx);
/* Call fn for every revoked or suspended certificate that issuer ("root",
 * "issuing") signed and whose not_after >= not_after_from (expired entries
 * leave the CRL), in no particular order, one row in memory at a time. fn
 * returns non-zero to stop (returned).  Run it inside a transaction for a
 * consistent snapshot. */
int tsr_store_revoked_list(struct tsr_store *st, const char *issuer, int64_t not_after_from,
    tsr_revoked_fn fn, void *ctx) TSR_MUST_CHECK;

typedef int (*tsr_status_change_fn)(int64_t seq, const char *serial, int64_t at, void *ctx);
/* Call fn for each status change with seq > after, oldest first. */
int tsr_store_status_changes(struct tsr_store *st, int64_t after, tsr_status_change_fn fn,
    void *ctx) TSR_MUST_CHECK;
/* The seq of the newest status change, 0 if none. */
int tsr_store_status_seq(struct tsr_store *st, int64_t *out) TSR_MUST_CHECK;

struct tsr_cert_filter {
	const char *product;      /* exact, or NULL */
	const char *role;         /* exact, or NULL */
	const char *issuer;       /* exact, or NULL */
	const char *status;       /* exact, or NULL */
	const char *subject_like; /* case-insensitive substring, or NULL */
	int64_t expires_before;   /* not_after < this, or 0 */
	int64_t expires_after;    /* not_after > this, or 0 */
	unsigned limit;           /* 0 = no limit */
};

/* Call fn for each matching certificate, newest first (reserved rows are
 * never listed).  fn returns 0 to go on, non-zero to stop (returned). The
 * record is only valid during the call. */
typedef int (*tsr_cert_fn)(const struct tsr_cert_record *rec, void *ctx);
int tsr_store_cert_list(struct tsr_store *st, const struct tsr_cert_filter *f,
    tsr_cert_fn fn, void *ctx) TSR_MUST_CHECK;
/* Number of rows in the certificates table, reservations included (for
 * tests that prove nothing was left behind). */
int tsr_store_cert_count(struct tsr_store *st, int64_t *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ audit rows
 * The store only keeps audit rows; src/audit computes and checks the chain. */
struct tsr_audit_record {
	int64_t seq;              /* 1, 2, 3, ... */
	int64_t time;             /* Unix seconds */
	char *actor;              /* "cli:alice" */
	char *action;             /* "cert.issue" */
	char *object;             /* "serial:5f..", "product:epcs", "" */
	char *outcome;            /* "success", "failure", "refused" */
	char *detail;             /* one line, never a secret */
	char prev_hash[65];
	char hash[65];
};

void tsr_audit_record_clear(struct tsr_audit_record *r);
/* The record with the highest seq; TSR_ERR_NOT_FOUND if there is none. */
int tsr_store_audit_last(struct tsr_store *st, struct tsr_audit_record *out) TSR_MUST_CHECK;
/* Append a row (rec->seq must be last + 1; the caller holds a transaction). */
int tsr_store_audit_insert(struct tsr_store *st, const struct tsr_audit_record *rec) TSR_MUST_CHECK;
/* Call fn for every row in seq order; fn returns non-zero to stop. */
typedef int (*tsr_audit_fn)(const struct tsr_audit_record *rec, void *ctx);
int tsr_store_audit_iter(struct tsr_store *st, tsr_audit_fn fn, void *ctx) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ users
 * RA officers and administrators who log in to Tessera.  The store keeps
 * only the Argon2id hash of a password; src/ra/user.c makes and checks it. */
#define TSR_USER_NAME_MAX 32      /* [a-z][a-z0-9._-]{1,31} (src/ra/user.c) */
#define TSR_USER_ROLES_MAX 64     /* "ra-officer,ca-admin,auditor" fits */
#define TSR_USER_TEXT_MAX 256     /* display name and email, bytes */

struct tsr_user_record {
	int64_t id;               /* assigned by the store */
	char name[TSR_USER_NAME_MAX + 1];
	char roles[TSR_USER_ROLES_MAX + 1];  /* comma list, canonical order */
	char *display_name;       /* "" if none */
	char *email;              /* "" if none */
	char *password_hash;      /* Argon2id string; wiped by the clear */
	int failed_logins;        /* consecutive, reset by a success or an unlock */
	bool locked;              /* too many failures: an administrator unlocks */
	bool disabled;            /* switched off by an administrator */
	int64_t created_at;
	int64_t updated_at;
};

/* Wipe the hash and free the heap members of u (not u itself). */
void tsr_user_record_clear(struct tsr_user_record *u);
/* Add a user; the store sets id, created_at and updated_at (now).
 * TSR_ERR_EXISTS if the name is taken. */
int tsr_store_user_create(struct tsr_store *st, const struct tsr_user_record *u) TSR_MUST_CHECK;
/* Read one user by exact name into out (clear it); TSR_ERR_NOT_FOUND if none. */
int tsr_store_user_get(struct tsr_store *st, const char *name,
    struct tsr_user_record *out) TSR_MUST_CHECK;
/* Call fn for every user in name order; fn returns non-zero to stop. */
typedef int (*tsr_user_fn)(const struct tsr_user_record *u, void *ctx);
int tsr_store_user_list(struct tsr_store *st, tsr_user_fn fn, void *ctx) TSR_MUST_CHECK;

/* The fields an update may change; NULL or -1 leaves a field as it is. */
struct tsr_user_update {
	const char *password_hash;
	const char *roles;
	int failed_logins;        /* >= 0, or -1 */
	int locked;               /* 0, 1 or -1 */
	int disabled;             /* 0, 1 or -1 */
};
#define TSR_USER_UPDATE_NONE { NULL, NULL, -1, -1, -1 }

/* Change user name as u says and set updated_at (now).  A read-modify-write
 * (counting failures) belongs inside a transaction.  TSR_ERR_NOT_FOUND if
 * there is no such user. */
int tsr_store_user_update(struct tsr_store *st, const char *name,
    const struct tsr_user_update *u) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ vouchers
 * Prepaid codes for products that are not free.  The store keeps only the
 * keyed hash of a code (src/ra/voucher.c); a batch is the set of codes
 * made together. */
#define TSR_VOUCHER_BATCH_MAX 16
#define TSR_VOUCHER_USED_BY_MAX 64

struct tsr_voucher_record {
	char code_hash[65];       /* HMAC-SHA-256 of the canonical code, hex */
	char batch[TSR_VOUCHER_BATCH_MAX + 1];
	char product[64];
	int64_t created_at;
	int64_t expires_at;       /* 0: never */
	int64_t used_at;          /* 0: not used */
	char used_by[TSR_VOUCHER_USED_BY_MAX + 1]; /* application id, "" if not used */
	int64_t revoked_at;       /* 0: not revoked */
};

/* Insert one unused voucher (used_at, used_by and revoked_at are ignored).
 * TSR_ERR_EXISTS if the hash is already stored. */
int tsr_store_voucher_insert(struct tsr_store *st,
    const struct tsr_voucher_record *v) TSR_MUST_CHECK;
/* Read one voucher by hash; TSR_ERR_NOT_FOUND if none. */
int tsr_store_voucher_get(struct tsr_store *st, const char *code_hash,
    struct tsr_voucher_record *out) TSR_MUST_CHECK;

struct tsr_voucher_filter {
	const char *batch;        /* exact, or NULL */
	const char *product;      /* exact, or NULL */
};

/* Call fn for each matching voucher, oldest batch first, the rows of one
 * batch together; fn returns non-zero to stop (returned). */
typedef int (*tsr_voucher_fn)(const struct tsr_voucher_record *v, void *ctx);
int tsr_store_voucher_list(struct tsr_store *st, const struct tsr_voucher_filter *f,
    tsr_voucher_fn fn, void *ctx) TSR_MUST_CHECK;

/* 0 if v can pay for product at now; else TSR_ERR_POLICY saying why
 * (used, revoked, for another product, expired).  The one statement of the
 * rule, for backends and for read-only checks. */
int tsr_voucher_unusable(const struct tsr_voucher_record *v, const char *product, int64_t now)
    TSR_MUST_CHECK;
/* Mark the voucher used by used_by at now, in one statement, if and only if
 * it exists, is for product, is unused, not revoked and not expired at now.
 * Otherwise nothing changes and the error says why: TSR_ERR_NOT_FOUND (no
 * such voucher) or TSR_ERR_POLICY (already used, for another product,
 * expired, revoked). */
int tsr_store_voucher_consume(struct tsr_store *st, const char *code_hash, const char *product,
    const char *used_by, int64_t now) TSR_MUST_CHECK;
/* Revoke every unused, unrevoked voucher of batch at now; *revoked (if not
 * NULL) gets how many.  Used vouchers stay used.  TSR_ERR_NOT_FOUND if the
 * batch has no vouchers at all. */
int tsr_store_voucher_revoke_batch(struct tsr_store *st, const char *batch, int64_t now,
    int64_t *revoked) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ applications
 * An applicant's request for a certificate (src/ra/app.c runs the workflow;
 * the store only keeps rows).  Secrets appear only as Argon2id strings or
 * keyed hashes.  Text members are the caller's to free with
 * tsr_app_record_clear(). */
#define TSR_APP_ID_MAX 24         /* "AP-XXXX-XXXX-XXXX" and room to spare */
#define TSR_APP_STATE_MAX 24
#define TSR_TOKEN_SERIAL_MAX 64

struct tsr_app_record {
	char id[TSR_APP_ID_MAX + 1];
	char product[64];
	char storage[16];         /* "new-token", "existing-token" or "software" */
	char state[TSR_APP_STATE_MAX + 1];   /* tsr_app_state_name() */
	int64_t state_since;      /* when it entered state */
	int64_t created_at;
	int64_t updated_at;
	char *email;              /* as given (checked), the address mail goes to */
	char *npi;                /* "" if none */
	char *dea;                /* "" if none */
	char *identity;           /* hex SHA-256 of the normalised name and date of
	                           * birth: finds duplicates without a second copy */
	char *applicant;          /* JSON object text: the applicant's fields */
	char *agreement;          /* subscriber agreement version accepted */
	char *password_hash;      /* Argon2id; wiped by the clear */
	int failed_logins;        /* consecutive wrong passwords or answers */
	bool locked;              /* too many failures: an officer unlocks */
	char token_serial[TSR_TOKEN_SERIAL_MAX + 1]; /* assigned hardware token, "" */
	char *checks;             /* JSON object text of the automatic checks, "" before */
	char *reason;             /* why it was rejected, lapsed or withdrawn, "" */
	char cert_serial[TSR_SERIAL_HEX_MAX + 1];  /* the newest certificate issued, "" */
	char *last_test;          /* JSON object text of the last "test my certificate", "" */
};

/* Wipe the hash and free the heap members of a (not a itself). */
void tsr_app_record_clear(struct tsr_app_record *a);
/* Insert a new application (every text member non-NULL; checks and reason
 * may be "").  TSR_ERR_EXISTS if the id is taken. */
int tsr_store_app_create(struct tsr_store *st, const struct tsr_app_record *a) TSR_MUST_CHECK;
/* Read one application by exact id; TSR_ERR_NOT_FOUND if none. */
int tsr_store_app_get(struct tsr_store *st, const char *id,
    struct tsr_app_record *out) TSR_MUST_CHECK;

struct tsr_app_filter {
	const char *state;        /* exact, or NULL */
	const char *product;      /* exact, or NULL */
	const char *email;        /* exact, case-insensitive, or NULL */
	const char *npi;          /* exact, or NULL */
	const char *dea;          /* exact, or NULL */
	const char *identity;     /* exact, or NULL */
	int64_t state_before;     /* state_since < this, or 0 */
	const char *token_serial; /* exact, or NULL */
	const char *cert_serial;  /* exact, or NULL */
	unsigned limit;           /* 0 = no limit */
};

/* Call fn for each matching application, oldest first (created_at, then
 * the order they were stored in): the order of a review queue.  fn returns non-zero to stop
 * (returned).  The record is only valid during the call. */
typedef int (*tsr_app_fn)(const struct tsr_app_record *a, void *ctx);
int tsr_store_app_list(struct tsr_store *st, const struct tsr_app_filter *f,
    tsr_app_fn fn, void *ctx) TSR_MUST_CHECK;

/* The fields an update may change; NULL or -1 leaves a field as it is. */
struct tsr_app_update {
	const char *expect_state; /* change only if the state is this now, else
	                           * TSR_ERR_POLICY "the application changed meanwhile" */
	const char *state;        /* with it, state_since is set to now */
	const char *password_hash;
	int failed_logins;        /* >= 0, or -1 */
	int locked;               /* 0, 1 or -1 */
	const char *token_serial; /* "" clears */
	const char *checks;
	const char *reason;
	const char *cert_serial;
	const char *last_test;
};
#define TSR_APP_UPDATE_NONE { NULL, NULL, NULL, -1, -1, NULL, NULL, NULL, NULL, NULL }

/* Change application id as u says and set updated_at to now.
 * TSR_ERR_NOT_FOUND if there is none. */
int tsr_store_app_update(struct tsr_store *st, const char *id, const struct tsr_app_update *u,
    int64_t now) TSR_MUST_CHECK;

/* Secret questions: the question as the applicant wrote it, and the
 * Argon2id hash of the normalised answer. */
#define TSR_QUESTION_MAX 200      /* bytes */

struct tsr_answer_record {
	int idx;                  /* 0, 1, 2, ... in the order given */
	char *question;
	char *answer_hash;        /* wiped by the clear */
};

void tsr_answer_record_clear(struct tsr_answer_record *a);
/* Add answer idx of application app (inside the transaction that creates
 * it).  TSR_ERR_EXISTS if that idx is taken; TSR_ERR_NOT_FOUND if there is
 * no such application. */
int tsr_store_answer_add(struct tsr_store *st, const char *app,
    const struct tsr_answer_record *a) TSR_MUST_CHECK;
/* Call fn for each answer of app in idx order; fn returns non-zero to stop. */
typedef int (*tsr_answer_fn)(const struct tsr_answer_record *a, void *ctx);
int tsr_store_answer_list(struct tsr_store *st, const char *app, tsr_answer_fn fn,
    void *ctx) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ codes
 * Verification and activation codes of an application: only the keyed
 * hash (ra/secret.h tsr_code_hash()) is kept. */
struct tsr_code_record {
	char code_hash[65];
	char application[TSR_APP_ID_MAX + 1];
	char purpose[16];         /* "verification" or "activation" */
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at;          /* 0: not used */
	int64_t superseded_at;    /* 0: current; else a newer code replaced it */
	int failures;             /* wrong codes typed while this one was current */
	bool locked;              /* too many failures: an officer unlocks */
	char used_key[65];        /* activation: hex SHA-256 of the public key (SPKI DER)
	                           * it was used with, "" */
};

/* Insert a new code and, in the same statement group, mark every earlier
 * unused code of the same application and purpose superseded at
 * c->created_at.  TSR_ERR_EXISTS if the hash is already stored;
 * TSR_ERR_NOT_FOUND if there is no such application. */
int tsr_store_code_insert(struct tsr_store *st, const struct tsr_code_record *c) TSR_MUST_CHECK;
/* The current code (not superseded; used or not) of app for purpose, the
 * newest if several; TSR_ERR_NOT_FOUND if there is none. */
int tsr_store_code_current(struct tsr_store *st, const char *app, const char *purpose,
    struct tsr_code_record *out) TSR_MUST_CHECK;
/* Read one code by hash; TSR_ERR_NOT_FOUND if none. */
int tsr_store_code_get(struct tsr_store *st, const char *code_hash,
    struct tsr_code_record *out) TSR_MUST_CHECK;
/* Mark the code used at now in one statement, if and only if it is unused,
 * not superseded, not locked and not expired at now; otherwise
 * TSR_ERR_POLICY and nothing changes (so two uses never both succeed).
 * TSR_ERR_NOT_FOUND if there is no such code. */
int tsr_store_code_use(struct tsr_store *st, const char *code_hash, int64_t now) TSR_MUST_CHECK;
/* The same, recording the public key it was used with (64 lower-case hex
 * digits). */
int tsr_store_code_use_key(struct tsr_store *st, const char *code_hash, int64_t now,
    const char *used_key) TSR_MUST_CHECK;
/* Set the failure count and lock of a code (failures >= 0; locked 0/1). */
int tsr_store_code_set_failures(struct tsr_store *st, const char *code_hash, int failures,
    bool locked) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ approvals */
struct tsr_approval_record {
	char application[TSR_APP_ID_MAX + 1];
	char officer[TSR_USER_NAME_MAX + 1];
	int64_t at;
	char *comment;            /* "" if none */
};

void tsr_approval_record_clear(struct tsr_approval_record *a);
/* Record an officer's approval.  TSR_ERR_EXISTS if this officer already
 * approved this application (a unique constraint, not a read first);
 * TSR_ERR_NOT_FOUND if there is no such application. */
int tsr_store_approval_add(struct tsr_store *st, const struct tsr_approval_record *a)
    TSR_MUST_CHECK;
/* Call fn for each approval of app, oldest first; fn returns non-zero to stop. */
typedef int (*tsr_approval_fn)(const struct tsr_approval_record *a, void *ctx);
int tsr_store_approval_list(struct tsr_store *st, const char *app, tsr_approval_fn fn,
    void *ctx) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ sessions
 * Logged-in officers and applicants.  The bearer token itself is never
 * stored: only its SHA-256. */
#define TSR_SESSION_SUBJECT_MAX 64   /* "officer:alice", "applicant:AP-..." */

struct tsr_session_record {
	char token_hash[65];      /* hex SHA-256 of the token */
	char subject[TSR_SESSION_SUBJECT_MAX + 1];
	int64_t created_at;
	int64_t last_seen;
	int64_t expires_at;       /* absolute end, whatever the activity */
};

/* TSR_ERR_EXISTS if the hash is already stored. */
int tsr_store_session_insert(struct tsr_store *st, const struct tsr_session_record *s)
    TSR_MUST_CHECK;
/* TSR_ERR_NOT_FOUND if there is no such session. */
int tsr_store_session_get(struct tsr_store *st, const char *token_hash,
    struct tsr_session_record *out) TSR_MUST_CHECK;
/* Set last_seen to now.  TSR_ERR_NOT_FOUND if there is no such session. */
int tsr_store_session_touch(struct tsr_store *st, const char *token_hash, int64_t now)
    TSR_MUST_CHECK;
/* Delete one session (TSR_ERR_NOT_FOUND if none). */
int tsr_store_session_delete(struct tsr_store *st, const char *token_hash) TSR_MUST_CHECK;
/* Delete every session of subject (log out everywhere, e.g. after a
 * password change); *deleted (if not NULL) gets how many. */
int tsr_store_session_delete_subject(struct tsr_store *st, const char *subject,
    int64_t *deleted) TSR_MUST_CHECK;
/* Delete sessions that ended: expires_at <= now or last_seen <= idle_before. */
int tsr_store_session_purge(struct tsr_store *st, int64_t now, int64_t idle_before,
    int64_t *deleted) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ nonces
 * Single-use challenges ("test my certificate"); not secrets. */
#define TSR_NONCE_MAX 64

/* TSR_ERR_EXISTS if the nonce is already stored. */
int tsr_store_nonce_insert(struct tsr_store *st, const char *nonce, int64_t created_at,
    int64_t expires_at) TSR_MUST_CHECK;
/* Use the nonce at now in one statement, if and only if it is unused and
 * not expired; TSR_ERR_POLICY ("already used", "expired") otherwise,
 * TSR_ERR_NOT_FOUND if there is no such nonce. */
int tsr_store_nonce_use(struct tsr_store *st, const char *nonce, int64_t now) TSR_MUST_CHECK;
/* Delete nonces that expired before before; *deleted (if not NULL) gets how many. */
int tsr_store_nonce_purge(struct tsr_store *st, int64_t before, int64_t *deleted)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ copy */

#define TSR_STORE_COPY_TABLES_MAX 24

struct tsr_store_copy_report {
	struct {
		const char *name;     /* a table */
		int64_t rows;         /* rows copied */
	} tables[TSR_STORE_COPY_TABLES_MAX];
	size_t n_tables;
	int64_t rows;                 /* all tables */
};

/* Copy every row of src into dst, of the same schema version, whose tables
 * must all be empty (a store just created; else TSR_ERR_EXISTS).  src is
 * read from one snapshot, dst written in one transaction: all the rows land
 * or none do.  Then each table's rows are counted on both sides, still in
 * that snapshot: TSR_ERR_STORE if any count differs.  Neither store may be
 * in a transaction.  (The audit chain is the caller's to verify on dst.) */
int tsr_store_copy(struct tsr_store *src, struct tsr_store *dst,
    struct tsr_store_copy_report *out) TSR_MUST_CHECK;
/* Open the target of a copy: create it (as tsr_store_open() with create),
 * or, where a database is already there, accept it only if it is a Tessera
 * database at this version whose tables are all empty (the schema a copy
 * that failed before its commit leaves), so that the copy can be run
 * again.  Anything else keeps create's TSR_ERR_EXISTS. */
int tsr_store_open_copy_target(const char *path, struct tsr_store **out) TSR_MUST_CHECK;
/* The names of the tables a copy covers, NULL-terminated. */
const char *const *tsr_store_copy_tables(void);

#endif /* TSR_STORE_H */
