/*
 * subscriber.c - who may revoke, suspend or resume a certificate
 * (retrieve.h, "certificate status"): officers by their role, subscribers
 * by the account's secrets or by a signature with the certificate's key.
 *
 * The change itself is the CA's (src/ca/revoke.c): it checks the
 * transition, writes it in one transaction and audits it.  This file
 * decides whether the caller may ask, and audits its own refusals under
 * the same actions.  A subscriber's secrets are checked as the login
 * checks them (account.c): one failure counter per application for
 * passwords and answers alike, the lock, and the dummy hash for unknown
 * numbers and locked accounts, so that no answer tells a guesser more
 * than "wrong".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/ra_impl.h"
#include "ra/retrieve.h"

#define WRONG_SECRETS "wrong application number, password or answer"
#define ACTOR_MAX 96

static const char *const action_names[] = { "revoke", "suspend", "resume" };
static const char *const audit_actions[] = { "cert.revoke", "cert.suspend", "cert.resume" };

/* The reasons a subscriber may give (TSR_RA_SUBSCRIBER_REASONS). */
static const char *const subscriber_reasons[] = { "unspecified", "keyCompromise",
	"affiliationChanged", "superseded", "cessationOfOperation" };

/* "revoke", "suspend" or "resume" into *out (see retrieve.h). */
int tsr_ra_cert_action_parse(const char *s, enum tsr_ra_cert_action *out)
{
	for (size_t i = 0; s != NULL && i < TSR_ARRAY_LEN(action_names); i++)
		if (strcmp(s, action_names[i]) == 0) {
			*out = (enum tsr_ra_cert_action)i;
			return 0;
		}
	return tsr_error(TSR_ERR_INVALID, "the action must be revoke, suspend or resume");
}

/* The action's name ("?" for a value out of range). */
const char *tsr_ra_cert_action_name(enum tsr_ra_cert_action a)
{
	return (unsigned)a < TSR_ARRAY_LEN(action_names) ? action_names[a] : "?";
}

/* Whether a subscriber may give reason (TSR_RA_SUBSCRIBER_REASONS). */
bool tsr_ra_subscriber_reason_ok(const char *reason)
{
	for (size_t i = 0; reason != NULL && i < TSR_ARRAY_LEN(subscriber_reasons); i++)
		if (strcmp(reason, subscriber_reasons[i]) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ shared */

/* The object of audit records: the serial as given (bounded). */
static void serial_object(const char *serial, char out[TSR_SERIAL_HEX_MAX + 8])
{
	snprintf(out, TSR_SERIAL_HEX_MAX + 8, "%.*s", TSR_SERIAL_HEX_MAX,
	    serial != NULL ? serial : "");
}

/* Audit refusal r of action on serial by actor, and return r. */
static int refuse(struct tsr_store *st, const char *actor, enum tsr_ra_cert_action action,
    const char *serial, int r)
{
	char object[TSR_SERIAL_HEX_MAX + 8];

	serial_object(serial, object);
	return tsr_audit_error(st, actor, audit_actions[action], object, r);
}

/* The CA's change of serial as actor. */
static int ca_change(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason, int64_t inv)
{
	switch (action) {
	case TSR_RA_CERT_REVOKE:
		return tsr_ca_revoke(ra->ca, st, actor, serial, reason, inv);
	case TSR_RA_CERT_SUSPEND:
		return tsr_ca_suspend(ra->ca, st, actor, serial);
	case TSR_RA_CERT_RESUME:
		return tsr_ca_resume(ra->ca, st, actor, serial);
	}
	return tsr_error(TSR_ERR_INVALID, "the action must be revoke, suspend or resume");
}

static int first_app(const struct tsr_app_record *a, void *ctx)
{
	snprintf(ctx, TSR_APP_ID_MAX + 1, "%s", a->id);
	return 1;
}

/* Mail the subscriber whose current certificate serial (canonical) is,
 * if there is one, what happened to it.  Errors are logged: the change is
 * made and audited whatever the mail does. */
static void mail_subscriber(struct tsr_ra *ra, struct tsr_store *st, const char *serial,
    enum tsr_ra_cert_action action, const char *reason)
{
	struct tsr_app_filter f = { .cert_serial = serial, .limit = 1 };
	char id[TSR_APP_ID_MAX + 1] = "", what[320];
	struct tsr_app_record a;
	int r = tsr_store_app_list(st, &f, first_app, id);

	memset(&a, 0, sizeof(a));
	if ((r != 0 && r != 1) || id[0] == '\0' || ra_app_read(st, id, &a) != 0) {
		if (r != 0 && r != 1)
			tsr_log(TSR_LOG_WARN, "no status message for certificate %s: %s", serial,
			    tsr_error_detail());
		tsr_error_clear();
		tsr_app_record_clear(&a);
		return;
	}
	if (action == TSR_RA_CERT_RESUME)
		snprintf(what, sizeof(what), "has its certificate %s valid again: a registration "
		    "officer lifted its suspension", serial);
	else
		snprintf(what, sizeof(what), "has its certificate %s %s%s%s: it can no longer be "
		    "used%s. If you did not ask for this, contact the registration authority now",
		    serial, action == TSR_RA_CERT_REVOKE ? "revoked (" : "suspended",
		    action == TSR_RA_CERT_REVOKE ? reason : "",
		    action == TSR_RA_CERT_REVOKE ? ")" : "",
		    action == TSR_RA_CERT_REVOKE ? "" : " until a registration officer lifts the "
		    "suspension");
	ra_mail_status(ra, st, &a, what);
	tsr_app_record_clear(&a);
}

/* The store's serial for certificate x: lower-case hex of its octets. */
static int serial_of(X509 *x, char out[TSR_SERIAL_HEX_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t bytes[TSR_SERIAL_HEX_MAX / 2];
	int n = bn != NULL ? BN_num_bytes(bn) : 0, r = 0;

	out[0] = '\0';
	if (bn == NULL || BN_is_negative(bn) || n <= 0 || n > (int)sizeof(bytes) ||
	    BN_bn2bin(bn, bytes) != n)
		r = tsr_error(TSR_ERR_INVALID, "the certificate's serial is not one this CA gives");
	else
		tsr_hex_encode(bytes, (size_t)n, out);
	BN_free(bn);
	ERR_clear_error();
	return r;
}

/* ------------------------------------------------------------------ officers */

/* 0 if user name exists, is enabled, unlocked and holds one of roles. */
static int role_check(struct tsr_store *st, const char *name, const char *const *roles,
    size_t n, const char *what)
{
	struct tsr_user_record u;
	bool has = false;
	int r;

	if (name == NULL || tsr_ra_user_name_check(name) != 0)
		return tsr_error(TSR_ERR_FORBIDDEN, "no such officer");
	memset(&u, 0, sizeof(u));
	r = tsr_store_user_get(st, name, &u);
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_FORBIDDEN, "no such officer '%s'", name);
	if (r != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		has = has || tsr_ra_user_has_role(&u, roles[i]);
	if (u.disabled || u.locked)
		r = tsr_error(TSR_ERR_FORBIDDEN, "the account of %s is %s", name,
		    u.disabled ? "disabled" : "locked");
	else if (!has)
		r = tsr_error(TSR_ERR_FORBIDDEN, "%s may not %s: that needs the role %s%s%s%s%s",
		    name, what, roles[0], n > 2 ? ", " : n > 1 ? " or " : "", n > 1 ? roles[1] : "",
		    n > 2 ? " or " : "", n > 2 ? roles[2] : "");
	tsr_user_record_clear(&u);
	return r;
}

/* Whether name may read certificates (see retrieve.h). */
int tsr_ra_cert_reader_check(struct tsr_store *st, const char *name)
{
	static const char *const roles[] = { TSR_ROLE_RA_OFFICER, TSR_ROLE_CA_ADMIN,
		TSR_ROLE_AUDITOR };

	return role_check(st, name, roles, TSR_ARRAY_LEN(roles), "read certificates");
}

/* The officer's arguments, checked before anything is touched. */
static int officer_args(enum tsr_ra_cert_action action, const char *reason, int64_t inv,
    const char *comment)
{
	if ((unsigned)action > TSR_RA_CERT_RESUME)
		return tsr_error(TSR_ERR_INVALID, "the action must be revoke, suspend or resume");
	if (action != TSR_RA_CERT_REVOKE && (reason != NULL || inv != 0))
		return tsr_error(TSR_ERR_INVALID, "a reason and an invalidity date go with a "
		    "revocation only");
	if (comment != NULL && (comment[0] == '\0' || strlen(comment) > TSR_RA_REASON_MAX))
		return tsr_error(TSR_ERR_INVALID, "a comment has 1 to %d bytes", TSR_RA_REASON_MAX);
	return 0;
}

/* The comment on one line for the audit record (control characters as
 * spaces); a new string, or NULL when out of memory. */
static char *one_line(const char *s)
{
	char *copy = strdup(s);

	for (char *p = copy; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return copy;
}

/* An officer's change (see retrieve.h). */
int tsr_ra_cert_officer_change(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *serial, enum tsr_ra_cert_action action, const char *reason,
    int64_t invalidity_date, const char *comment)
{
	static const char *const roles[] = { TSR_ROLE_RA_OFFICER, TSR_ROLE_CA_ADMIN };
	struct tsr_cert_record rec;
	char actor[ACTOR_MAX], object[TSR_SERIAL_HEX_MAX + 8], *line = NULL;
	int r;

	snprintf(actor, sizeof(actor), "%s%.*s", TSR_SESSION_PREFIX_OFFICER, TSR_USER_NAME_MAX,
	    officer != NULL ? officer : "");
	if ((r = officer_args(action, reason, invalidity_date, comment)) != 0)
		return r;
	if ((r = role_check(st, officer, roles, TSR_ARRAY_LEN(roles),
	    "change a certificate's status")) != 0)
		return refuse(st, actor, action, serial, r);
	if ((r = ca_change(ra, st, actor, serial, action, reason, invalidity_date)) != 0)
		return r;   /* the CA audited it */
	memset(&rec, 0, sizeof(rec));
	if (tsr_store_cert_get(st, serial, &rec) != 0) {
		tsr_error_clear();
		return 0;
	}
	if (comment != NULL) {
		serial_object(rec.serial, object);
		if ((line = one_line(comment)) == NULL ||
		    tsr_audit_append(st, actor, "cert.comment", object, TSR_AUDIT_SUCCESS, "%s: %s",
		    action_names[action], line) != 0)
			tsr_log(TSR_LOG_WARN, "the comment on %s was not audited: %s", rec.serial,
			    line == NULL ? "out of memory" : tsr_error_detail());
		free(line);
	}
	mail_subscriber(ra, st, rec.serial, action, reason);
	tsr_cert_record_clear(&rec);
	return 0;
}

/* ------------------------------------------------------------------ subscribers */

/* What a subscriber may ask: revoke for a subscriber's reason, or
 * suspend.  *reason_out is the reason the change records. */
static int subscriber_args(struct tsr_store *st, const char *actor, const char *serial,
    enum tsr_ra_cert_action action, const char *reason, const char **reason_out)
{
	*reason_out = reason;
	if (action == TSR_RA_CERT_RESUME)
		return refuse(st, actor, action, serial, tsr_error(TSR_ERR_FORBIDDEN, "only a "
		    "registration officer can lift a suspension"));
	if (action == TSR_RA_CERT_SUSPEND) {
		if (reason != NULL && strcmp(reason, "certificateHold") != 0)
			return tsr_error(TSR_ERR_INVALID, "a suspension takes no reason (it is "
			    "certificateHold)");
		*reason_out = "certificateHold";
		return 0;
	}
	if (action != TSR_RA_CERT_REVOKE)
		return tsr_error(TSR_ERR_INVALID, "the action must be revoke or suspend");
	if (reason == NULL)
		return tsr_error(TSR_ERR_INVALID, "a revocation needs a reason: one of "
		    TSR_RA_SUBSCRIBER_REASONS);
	if (!tsr_ra_subscriber_reason_ok(reason))
		return tsr_error(TSR_ERR_INVALID, "'%.40s' is not a reason a subscriber can give: "
		    "one of " TSR_RA_SUBSCRIBER_REASONS, reason);
	return 0;
}

/* After the checks: the CA's change as the subscriber, and the mail. */
static int subscriber_change(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason)
{
	int r = ca_change(ra, st, actor, serial, action, reason, 0);

	if (r == 0)
		mail_subscriber(ra, st, serial, action, reason);
	return r;
}

/* ------------------------------------------------------------------ the account's secrets */

/* Right secrets: inside the write lock, re-read the account (a lock taken
 * meanwhile wins) and clear its failure count. */
static int record_success(struct tsr_store *st, const char *actor, const char *id,
    enum tsr_ra_cert_action action)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_record a;
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(id, object);
	memset(&a, 0, sizeof(a));
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) == 0 && a.locked)
		r = TSR_ERR_AUTH;
	upd.failed_logins = 0;
	if (r == 0 && a.failed_logins != 0)
		r = tsr_store_app_update(st, id, &upd, (int64_t)tsr_now());
	if (r == 0)
		r = tsr_store_commit(st);
	if (r != 0)
		tsr_store_rollback(st);
	if (r == TSR_ERR_AUTH) {
		if (tsr_audit_append(st, actor, audit_actions[action], object, TSR_AUDIT_REFUSED,
		    "the account was locked meanwhile") != 0)
			tsr_log(TSR_LOG_WARN, "cannot audit a refusal: %s", tsr_error_detail());
		r = tsr_error(TSR_ERR_AUTH, WRONG_SECRETS);
	}
	tsr_app_record_clear(&a);
	return r;
}

struct pick {
	int idx;                  /* wanted, 0-based */
	size_t n;                 /* questions seen */
	char *hash;               /* its answer hash (tsr_free_secret) */
	int r;
};

static int pick_answer(const struct tsr_answer_record *a, void *ctx)
{
	struct pick *p = ctx;

	p->n++;
	if (a->idx == p->idx && p->hash == NULL && (p->hash = strdup(a->answer_hash)) == NULL) {
		p->r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		return 1;
	}
	return 0;
}

/* Verify password and answer against the hashes (the dummy's when
 * usable is false): both, always.  *ok says whether both matched; *what
 * names what was wrong, for the audit log. */
static int verify_both(const struct tsr_app_record *a, const struct pick *p, bool usable,
    const struct tsr_ra_subscriber_secret *s, bool *ok, const char **what)
{
	const char *dummy = NULL;
	char *norm = NULL;
	int pv, av, r;

	*ok = false;
	if ((r = ra_dummy_hash(&dummy)) != 0)
		return r;
	pv = tsr_secret_verify(usable ? a->password_hash : dummy, s->password ? s->password : "");
	if (s->answer == NULL || tsr_answer_normalise(s->answer, &norm) != 0) {
		tsr_error_clear();
		av = tsr_secret_verify(dummy, "x");   /* the same work: no timing difference */
		if (av == 0)
			av = TSR_ERR_SIGNATURE;
	} else {
		av = tsr_secret_verify(usable ? p->hash : dummy, norm);
	}
	tsr_free_secret(norm);
	if (pv != 0 && pv != TSR_ERR_SIGNATURE)
		return pv;
	if (av != 0 && av != TSR_ERR_SIGNATURE)
		return av;
	*ok = pv == 0 && av == 0;
	*what = pv != 0 && av != 0 ? "wrong password and answer" : pv != 0 ? "wrong password" :
	    "wrong answer";
	return 0;
}

/* The secrets of s for application s->application: 0 with *a read, or
 * TSR_ERR_AUTH (audited, counted), TSR_ERR_INVALID (no such question). */
static int check_secrets(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    enum tsr_ra_cert_action action, const struct tsr_ra_subscriber_secret *s,
    struct tsr_app_record *a)
{
	struct pick p = { .idx = s->question - 1 };
	char object[RA_OBJECT_MAX];
	const char *what = "";
	bool known, usable, ok = false;
	int r;

	memset(a, 0, sizeof(*a));
	r = s->application != NULL && ra_id_check(s->application) == 0 ?
	    tsr_store_app_get(st, s->application, a) : TSR_ERR_NOT_FOUND;
	if (r != 0 && r != TSR_ERR_NOT_FOUND)
		return r;
	known = r == 0;
	if (known && (r = tsr_store_answer_list(st, a->id, pick_answer, &p)) != 0)
		goto out;
	if ((r = p.r) != 0)
		goto out;
	if (known && (size_t)s->question > p.n) {
		r = tsr_error(TSR_ERR_INVALID, "application %s has %zu secret questions: choose "
		    "one from 1 to %zu", a->id, p.n, p.n);
		goto out;
	}
	usable = known && !a->locked && p.hash != NULL;
	if ((r = verify_both(a, &p, usable, s, &ok, &what)) != 0)
		goto out;
	if (!usable) {
		ra_object(known ? a->id : "", object);
		if (tsr_audit_append(st, actor, audit_actions[action], known ? object : "",
		    known ? TSR_AUDIT_REFUSED : TSR_AUDIT_FAILURE, "%s", known ?
		    "the account is locked" : "unknown application number") != 0)
			tsr_log(TSR_LOG_WARN, "cannot audit a refusal: %s", tsr_error_detail());
		r = tsr_error(TSR_ERR_AUTH, WRONG_SECRETS);
	} else if (!ok) {
		if ((r = ra_count_failure(ra, st, actor, a->id, audit_actions[action],
		    what)) == 0)
			r = tsr_error(TSR_ERR_AUTH, WRONG_SECRETS);
	} else {
		r = record_success(st, actor, a->id, action);
	}
out:
	tsr_free_secret(p.hash);
	if (a->password_hash != NULL)
		tsr_wipe(a->password_hash, strlen(a->password_hash));
	return r;
}

/* A subscriber's change with the account's secrets (see retrieve.h). */
int tsr_ra_subscriber_change_password(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason,
    const struct tsr_ra_subscriber_secret *secret)
{
	struct tsr_cert_record rec;
	struct tsr_app_record a;
	char who[ACTOR_MAX];
	bool found;
	int r;

	memset(&rec, 0, sizeof(rec));
	memset(&a, 0, sizeof(a));
	if ((r = subscriber_args(st, actor, serial, action, reason, &reason)) != 0)
		return r;
	if (secret == NULL || secret->question < 1 || secret->question > TSR_RA_ANSWERS_MAX)
		return tsr_error(TSR_ERR_INVALID, "the question is a number from 1 to %d",
		    TSR_RA_ANSWERS_MAX);
	r = tsr_store_cert_get(st, serial, &rec);
	if (r != 0 && r != TSR_ERR_NOT_FOUND)
		return r;   /* a malformed serial, or the store */
	found = r == 0;
	if ((r = check_secrets(ra, st, actor, action, secret, &a)) != 0)
		goto out;
	snprintf(who, sizeof(who), "%s%s", TSR_SESSION_PREFIX_APPLICANT, a.id);
	if (!found)
		r = refuse(st, who, action, serial, tsr_error(TSR_ERR_NOT_FOUND, "there is no "
		    "certificate %s", serial));
	else if (strcmp(rec.role, "subscriber") != 0 || strcmp(rec.serial, a.cert_serial) != 0)
		r = refuse(st, who, action, rec.serial, tsr_error(TSR_ERR_FORBIDDEN, "certificate "
		    "%s is not the certificate of application %s: a subscriber can revoke or "
		    "suspend only their own", rec.serial, a.id));
	else
		r = subscriber_change(ra, st, who, rec.serial, action, reason);
out:
	tsr_cert_record_clear(&rec);
	tsr_app_record_clear(&a);
	return r;
}

/* ------------------------------------------------------------------ signed by the key */

/* A message part: 1..max printable ASCII characters, no space. */
static bool part_ok(const char *s, size_t max)
{
	size_t n = s != NULL ? strnlen(s, max + 1) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

/* The message to sign (see retrieve.h). */
int tsr_ra_revoke_message(const char *serial, enum tsr_ra_cert_action action,
    const char *reason, const char *nonce, char out[TSR_RA_REVOKE_MESSAGE_MAX])
{
	out[0] = '\0';
	if (action == TSR_RA_CERT_SUSPEND)
		reason = "certificateHold";
	if ((action != TSR_RA_CERT_REVOKE && action != TSR_RA_CERT_SUSPEND) ||
	    !part_ok(serial, TSR_SERIAL_HEX_MAX) || !part_ok(reason, 23) ||
	    !part_ok(nonce, TSR_NONCE_MAX))
		return tsr_error(TSR_ERR_INVALID, "a revocation message needs a serial, revoke or "
		    "suspend, a reason and a nonce, none with spaces");
	snprintf(out, TSR_RA_REVOKE_MESSAGE_MAX, "%s%s %s %s %s", TSR_RA_REVOKE_PREFIX, serial,
	    action_names[action], reason, nonce);
	return 0;
}

/* A nonce for a signed change (see retrieve.h). */
int tsr_ra_revoke_nonce(struct tsr_ra *ra, struct tsr_store *st, const char *serial,
    enum tsr_ra_cert_action action, const char *reason, char nonce[TSR_RA_NONCE_LEN],
    int64_t *expires_at, char message[TSR_RA_REVOKE_MESSAGE_MAX])
{
	struct tsr_cert_record rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	if (action == TSR_RA_CERT_RESUME)
		return tsr_error(TSR_ERR_FORBIDDEN, "only a registration officer can lift a "
		    "suspension");
	if ((r = subscriber_args(st, "", serial, action, reason, &reason)) != 0 ||
	    (r = tsr_store_cert_get(st, serial, &rec)) != 0)
		goto out;
	if (strcmp(rec.role, "subscriber") != 0) {
		r = tsr_error(TSR_ERR_NOT_FOUND, "%s is not a subscriber certificate of this CA",
		    rec.serial);
		goto out;
	}
	if ((r = tsr_ra_test_nonce(ra, st, nonce, expires_at)) == 0)
		r = tsr_ra_revoke_message(rec.serial, action, reason, nonce, message);
out:
	tsr_cert_record_clear(&rec);
	return r;
}

/* The signature over message with x's key (Test My Certificate's rules):
 * 0 or TSR_ERR_AUTH. */
static int verify_signature(X509 *x, const char *message, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	enum tsr_key_type type = TSR_KEY_NONE;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *digest;
	int ok = 0;

	if (md != NULL && pk != NULL && tsr_pubkey_classify(pk, &type) == 0) {
		digest = type == TSR_KEY_EC_P384 || type == TSR_KEY_RSA_4096 ? EVP_sha384() :
		    EVP_sha256();
		ok = EVP_DigestVerifyInit(md, NULL, digest, NULL, pk) == 1 &&
		    EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)message,
		    strlen(message)) == 1;
	}
	ERR_clear_error();
	tsr_error_clear();
	EVP_MD_CTX_free(md);
	return ok ? 0 : tsr_error(TSR_ERR_AUTH, "the signature does not verify with the "
	    "certificate's key: a different key, or a different message");
}

/* x is, byte for byte, the subscriber certificate rec of this CA. */
static int issued_here(X509 *x, const struct tsr_cert_record *rec)
{
	uint8_t *der = NULL;
	int n = i2d_X509(x, &der);
	bool same = n > 0 && rec->der_len == (size_t)n && memcmp(rec->der, der, (size_t)n) == 0;

	OPENSSL_free(der);
	if (!same || strcmp(rec->role, "subscriber") != 0)
		return tsr_error(TSR_ERR_AUTH, "this CA did not issue this certificate to a "
		    "subscriber");
	return 0;
}

/* The checks of a signed change, in order; rec is the store's record. */
static int check_signed(struct tsr_store *st, const char *serial, enum tsr_ra_cert_action action,
    const char *reason, const char *nonce, X509 *x, const uint8_t *sig, size_t sig_len,
    struct tsr_cert_record *rec)
{
	char sent[TSR_SERIAL_HEX_MAX + 1], message[TSR_RA_REVOKE_MESSAGE_MAX];
	int r;

	if ((r = tsr_store_cert_get(st, serial, rec)) != 0 || (r = serial_of(x, sent)) != 0)
		return r;
	if (strcmp(sent, rec->serial) != 0)
		return tsr_error(TSR_ERR_INVALID, "the certificate sent is certificate %s, not %s",
		    sent, rec->serial);
	r = tsr_store_nonce_use(st, nonce, (int64_t)tsr_now());
	if (r == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_POLICY, "this nonce is unknown: ask for a new one");
	if (r != 0 || (r = issued_here(x, rec)) != 0 ||
	    (r = tsr_ra_revoke_message(rec->serial, action, reason, nonce, message)) != 0)
		return r;
	return verify_signature(x, message, sig, sig_len);
}

/* A subscriber's change signed by the certificate's key (see retrieve.h). */
int tsr_ra_subscriber_change_signed(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason, const char *nonce,
    const uint8_t *cert, size_t cert_len, const uint8_t *sig, size_t sig_len)
{
	struct tsr_cert_record rec;
	char who[ACTOR_MAX];
	X509 *x = NULL;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = subscriber_args(st, actor, serial, action, reason, &reason)) != 0)
		return r;
	if (nonce == NULL || strlen(nonce) + 1 != TSR_RA_NONCE_LEN)
		return tsr_error(TSR_ERR_INVALID, "the nonce is not one this server hands out");
	if ((r = ra_cert_parse(cert, cert_len, &x)) != 0)
		return r;
	if ((r = check_signed(st, serial, action, reason, nonce, x, sig, sig_len, &rec)) != 0) {
		r = refuse(st, actor, action, rec.serial[0] ? rec.serial : serial, r);
		goto out;
	}
	snprintf(who, sizeof(who), "keyholder:%s", rec.serial);
	r = subscriber_change(ra, st, who, rec.serial, action, reason);
out:
	X509_free(x);
	tsr_cert_record_clear(&rec);
	return r;
}
