/*
 * ra_impl.h - what app.c, review.c and session.c share (internal to src/ra).
 */
#ifndef TSR_RA_IMPL_H
#define TSR_RA_IMPL_H

#include <openssl/x509.h>

#include <pthread.h>

#include "ra/app.h"

#define RA_OBJECT_MAX (TSR_APP_ID_MAX + 16)   /* "application:AP-..." */
#define RA_APPLICANT_SESSION_HOURS 12         /* absolute life of an applicant's session */

struct tsr_ra {
	struct tsr_ca *ca;
	const struct tsr_config *cfg;
	uint8_t code_key[TSR_CODE_KEY_BYTES];
	struct tsr_password_list *passwords;
	struct tsr_mail_config mail;          /* the applicant's email */
	struct tsr_mail_config passcode_mail; /* the second channel: never relayed */
	pthread_mutex_t pool_lock;
	struct tsr_store *pool[TSR_RA_POOL_MAX];
	size_t n_pool;
};

/* "application:ID" for audit records. */
void ra_object(const char *id, char out[RA_OBJECT_MAX]);
/* TSR_ERR_INVALID unless id looks like an application id (so that it can
 * go into audit records and SQL parameters safely). */
int ra_id_check(const char *id) TSR_MUST_CHECK;

/* Inside the caller's transaction: move application a (as read in this
 * transaction) by event ev caused by who; the store refuses if the state
 * changed meanwhile.  reason (may be NULL) is stored with the application.
 * Audited as "application.<event>" with "from -> to" and detail. */
int ra_transition(struct tsr_store *st, const char *actor, const struct tsr_app_record *a,
    enum tsr_app_event ev, enum tsr_app_actor who, const char *reason,
    const char *detail) TSR_MUST_CHECK;
/* The state of a as an enum (TSR_ERR_STORE for a name the table lacks). */
int ra_state_of(const struct tsr_app_record *a, enum tsr_app_state *out) TSR_MUST_CHECK;

/* A new code of purpose for application id, valid until expires_at, stored
 * (hash only) inside the caller's transaction; the code goes to out. */
int ra_code_issue(struct tsr_ra *ra, struct tsr_store *st, const char *id,
    const char *purpose, size_t bits, int64_t expires_at, char *out, size_t outlen)
    TSR_MUST_CHECK;

/* Mail a message of kind to the applicant of a through ch (ra->mail or
 * ra->passcode_mail), after the commit.  A failure to relay is logged and
 * audited, not returned: the message stays in the outbox for the retry.
 * Only a failure to write the outbox copy is returned. */
int ra_mail(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_mail_config *ch,
    const struct tsr_app_record *a, const char *kind, const char *subject,
    const char *body) TSR_MUST_CHECK;
/* ra_mail() with the body formatted from fmt in a buffer that is wiped
 * afterwards (bodies carry codes). */
int ra_mailf(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_mail_config *ch,
    const struct tsr_app_record *a, const char *kind, const char *subject,
    const char *fmt, ...) TSR_PRINTF(7, 8) TSR_MUST_CHECK;
/* Mail the applicant that the state changed (status message); errors are
 * logged, not returned. */
void ra_mail_status(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_app_record *a,
    const char *what);

/* Read application id (TSR_ERR_NOT_FOUND "no application AP-..." if none). */
int ra_app_read(struct tsr_store *st, const char *id, struct tsr_app_record *out)
    TSR_MUST_CHECK;
/* The product of a from the configuration (TSR_ERR_CONFIG if it is gone). */
int ra_product(struct tsr_ra *ra, const struct tsr_app_record *a,
    const struct tsr_product **out) TSR_MUST_CHECK;

/* What mail calls a's product: its title, or its name if it is gone. */
const char *ra_product_title(const struct tsr_ra *ra, const struct tsr_app_record *a);
/* The hash a wrong id or name is checked against, so that the time of a
 * check does not tell which exist (made once per process). */
int ra_dummy_hash(const char **out) TSR_MUST_CHECK;

/* Inside the caller's transaction (or alone): a new session for subject,
 * ending hours from now; the bearer token goes to token.  (session.c) */
int ra_session_start(struct tsr_store *st, const char *subject, int hours,
    char token[TSR_SESSION_TOKEN_LEN], int64_t *expires_at) TSR_MUST_CHECK;

/* Start review of an email_verified application: run the automatic checks
 * and the product's verifier, store their results, move it to
 * under_review.  (review.c) */
int ra_start_review(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id) TSR_MUST_CHECK;

/* One certificate in PEM or DER, at most 64 KiB, nothing after it
 * (testcert.c).  TSR_ERR_INVALID (empty, too big), TSR_ERR_PARSE. */
int ra_cert_parse(const uint8_t *in, size_t len, X509 **out) TSR_MUST_CHECK;

/* One wrong password or answer on application id (account.c): counted
 * inside the write lock so that concurrent failures all count, audited as
 * action (failure) with what, and the account locked with its sessions
 * ended at [ra] max_failures. */
int ra_count_failure(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *action, const char *what) TSR_MUST_CHECK;

#endif /* TSR_RA_IMPL_H */
