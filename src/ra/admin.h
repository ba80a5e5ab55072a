/*
 * admin.h - what an administrator manages in the RA: the officers who log
 * in (user.c) and the voucher batches applicants pay with (voucher.c).
 *
 * Both the CLI and the server call these; they only parse and print.  Every
 * call that changes something, and every refusal, is audited; no audit
 * record, error detail or log line ever holds a password, a code, or a hash
 * of either.  docs/admin.md explains the rules.
 */
#ifndef TSR_RA_ADMIN_H
#define TSR_RA_ADMIN_H

#include "base/base.h"
#include "ra/secret.h"
#include "store/store.h"
#include "x509/x509.h"

/* ------------------------------------------------------------------ officers */
#define TSR_ROLE_RA_OFFICER "ra-officer"   /* reviews and approves applications */
#define TSR_ROLE_CA_ADMIN "ca-admin"       /* manages officers, vouchers, the CA */
#define TSR_ROLE_AUDITOR "auditor"         /* reads the audit log */

#define TSR_USER_MAX_FAILURES_DEFAULT 5    /* failed logins before the lock */
#define TSR_USER_MAX_FAILURES_LIMIT 100    /* SP 800-63B 5.2.2: never more */

/* Check a user name: [a-z][a-z0-9._-]{1,31}.  TSR_ERR_INVALID with a
 * sentence otherwise. */
int tsr_ra_user_name_check(const char *name) TSR_MUST_CHECK;
/* Parse a comma-separated role list ("auditor,ra-officer"; spaces around
 * names ignored, repeats folded) into its canonical form: the known roles
 * in the order ra-officer, ca-admin, auditor, comma-separated, in out.
 * TSR_ERR_INVALID for an unknown role or an empty list. */
int tsr_ra_roles_parse(const char *roles, char out[TSR_USER_ROLES_MAX + 1]) TSR_MUST_CHECK;
/* True if u holds role (one of TSR_ROLE_*). */
bool tsr_ra_user_has_role(const struct tsr_user_record *u, const char *role);

/* Add an officer.  name as tsr_ra_user_name_check(); roles as
 * tsr_ra_roles_parse(); display_name and email optional (NULL or "", at
 * most TSR_USER_TEXT_MAX bytes, email checked by tsr_email_check()); the
 * password must pass tsr_password_check() against list with the context
 * words name, display name, email local part and "tessera".  Stores only
 * the Argon2id hash.  TSR_ERR_EXISTS if the name is taken; TSR_ERR_POLICY
 * for a weak password.  Audited as user.add. */
int tsr_ra_user_add(struct tsr_store *st, const struct tsr_password_list *list,
    const char *actor, const char *name, const char *display_name, const char *email,
    const char *roles, const char *password) TSR_MUST_CHECK;
/* Set a new password (same rules as at add).  Does not unlock the account.
 * Audited as user.passwd. */
int tsr_ra_user_passwd(struct tsr_store *st, const struct tsr_password_list *list,
    const char *actor, const char *name, const char *password) TSR_MUST_CHECK;
/* Replace the roles of name.  Audited as user.roles. */
int tsr_ra_user_set_roles(struct tsr_store *st, const char *actor, const char *name,
    const char *roles) TSR_MUST_CHECK;
/* Switch an account off or on again.  Audited as user.disable, user.enable. */
int tsr_ra_user_disable(struct tsr_store *st, const char *actor, const char *name) TSR_MUST_CHECK;
int tsr_ra_user_enable(struct tsr_store *st, const char *actor, const char *name) TSR_MUST_CHECK;
/* Clear the failure count and the lock.  Audited as user.unlock. */
int tsr_ra_user_unlock(struct tsr_store *st, const char *actor, const char *name) TSR_MUST_CHECK;

/*
 * Log in: check password for name.  actor says where the attempt came from
 * ("http:192.0.2.7").  The Argon2id verification runs whatever the name, so
 * the time taken does not tell which names exist.  A wrong password counts a
 * failure; the max_failures-th consecutive one locks the account
 * (1..TSR_USER_MAX_FAILURES_LIMIT, else TSR_ERR_INVALID).  A success resets
 * the count and rehashes a hash made at an older cost.
 *
 * 0 on success (*out, if not NULL, holds the user: tsr_user_record_clear()
 * it).  TSR_ERR_AUTH "wrong user name or password" for an unknown name, a
 * wrong password, and any password on a disabled or locked account alike:
 * a locked account is checked against a dummy hash, so guessing past the
 * lock learns nothing, not even which guess was right.  Every attempt is
 * audited as user.login (success, failure or refused with the reason); the
 * lock as user.lock.  Locking, a new password, new roles and disabling end
 * the account's sessions ("officer:NAME").
 */
int tsr_ra_user_authenticate(struct tsr_store *st, const char *actor, const char *name,
    const char *password, int max_failures, struct tsr_user_record *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ vouchers
 * A voucher code carries TSR_VOUCHER_BITS random bits in Crockford base32
 * with a check symbol (ra/secret.h), "XXXX-XXXX-XXXX-XXXX".  75 bits give
 * four groups of four symbols, and leave an attacker who could try a
 * billion codes against a million outstanding vouchers a chance of about
 * 2^-25; online guessing, which is all that is left without the code key,
 * is far slower than that.
 */
#define TSR_VOUCHER_BITS 75
#define TSR_VOUCHER_CODE_LEN 20      /* tsr_code_len(TSR_VOUCHER_BITS), NUL included */
#define TSR_VOUCHER_COUNT_MAX 10000  /* codes in one batch */
#define TSR_VOUCHER_BATCH_LEN 8      /* Crockford base32 characters (40 bits) */

/*
 * Make a batch of count (1..TSR_VOUCHER_COUNT_MAX) vouchers for the product
 * called product_name, which must be in products and not free.  expires_at
 * is 0 (never) or a time after now.  Each code is stored only as
 * tsr_code_hash(key, TSR_CODE_VOUCHER, code); the new batch id goes into batch_out and the
 * plaintext codes into *codes_out, an array of count strings that is the
 * caller's only copy (tsr_ra_voucher_codes_free()).  All or nothing: one
 * transaction.  Audited as voucher.create with batch, product and count.
 */
int tsr_ra_voucher_create(struct tsr_store *st, const struct tsr_products *products,
    const uint8_t key[TSR_CODE_KEY_BYTES], const char *actor, const char *product_name,
    long count, time_t expires_at, char batch_out[TSR_VOUCHER_BATCH_LEN + 1],
    char ***codes_out) TSR_MUST_CHECK;
/* Wipe and free the codes tsr_ra_voucher_create() returned. */
void tsr_ra_voucher_codes_free(char **codes, long count);

/*
 * Redeem typed_code (as a human typed it) for product on behalf of
 * application_id at now.  TSR_ERR_PARSE "the code has a typo" when the
 * check symbol catches a mistake; TSR_ERR_NOT_FOUND for an unknown code;
 * TSR_ERR_POLICY when it is used, revoked, expired or for another product.
 * The use is one atomic statement: two redemptions never both succeed.
 *
 * Outside a transaction, every outcome is audited (voucher.redeem).  Inside
 * the caller's transaction the redemption and its audit record join it, so
 * they commit or roll back with the application that used the voucher; a
 * refusal is then the caller's to audit, since it will roll back.
 */
int tsr_ra_voucher_redeem(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    const char *actor, const char *typed_code, const char *product,
    const char *application_id, time_t now) TSR_MUST_CHECK;

/* Whether typed_code could pay for product at now, changing nothing: the
 * errors of tsr_ra_voucher_redeem(), not audited.  For a cheap refusal
 * before slow work; only the redemption itself decides. */
int tsr_ra_voucher_check(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    const char *typed_code, const char *product, time_t now) TSR_MUST_CHECK;

/* Revoke every unused voucher of batch at now; *revoked (if not NULL) gets
 * how many.  TSR_ERR_NOT_FOUND for an unknown batch.  Audited. */
int tsr_ra_voucher_revoke_batch(struct tsr_store *st, const char *actor, const char *batch,
    int64_t *revoked) TSR_MUST_CHECK;

/* One batch as listings show it: never a code, never a hash. */
struct tsr_voucher_batch {
	char batch[TSR_VOUCHER_BATCH_MAX + 1];
	char product[64];
	int64_t created_at;
	int64_t expires_at;           /* 0: never */
	long total, unused, used, revoked, expired;  /* expired: unused and past expiry */
};

/* Call fn for each batch matching f (NULL: all), oldest first, with the
 * counts at now.  fn returns non-zero to stop (returned). */
typedef int (*tsr_voucher_batch_fn)(const struct tsr_voucher_batch *b, void *ctx);
int tsr_ra_voucher_batches(struct tsr_store *st, const struct tsr_voucher_filter *f,
    time_t now, tsr_voucher_batch_fn fn, void *ctx) TSR_MUST_CHECK;

#endif /* TSR_RA_ADMIN_H */
