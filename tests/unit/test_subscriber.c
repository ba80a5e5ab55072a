/*
 * test_subscriber.c - who may revoke, suspend or resume a certificate
 * (src/ra/subscriber.c) on a real CA home: SoftHSM2 token, SQLite store,
 * Maildir outbox.  Certificates are issued the way subscribers get them
 * (apply, verify the email, an officer approves, retrieve with a CSR),
 * then officers and subscribers act on them; every refusal is checked to
 * leave the status as it was and to be audited.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/app.h"
#include "ra/retrieve.h"

#define PW "violet tractor umbrella"
#define PW2 "copper meadow lighthouse"
#define OFFICER_PW "quiet harbour lantern 7"
#define CLIENT "http:127.0.0.1"

struct subscriber {
	char id[TSR_APP_ID_MAX + 1];
	char serial[TSR_SERIAL_HEX_MAX + 1];
	EVP_PKEY *key;
	uint8_t *der;               /* the certificate */
	size_t der_len;
};

struct fx {
	char home[64];
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_store *st;
	time_t now;
	char vouchers[8][TSR_VOUCHER_CODE_LEN];
	int next_voucher;
	struct subscriber jane, john;
};

static time_t fixed_clock(void *ctx)
{
	return *(time_t *)ctx;
}

static int setup_failed(const char *step)
{
	fprintf(stderr, "setup: %s: %s\n", step, tsr_error_detail());
	return -1;
}

static int make_vouchers(struct fx *fx)
{
	const struct tsr_config *cfg = tsr_ca_config(fx->ca);
	char batch[TSR_VOUCHER_BATCH_LEN + 1], **codes = NULL, path[128];
	uint8_t key[TSR_CODE_KEY_BYTES];

	snprintf(path, sizeof(path), "%s/codes.key", fx->home);
	if (tsr_code_key_load_or_create(path, key) != 0 ||
	    tsr_ra_voucher_create(fx->st, &cfg->products, key, "test", "smime", 8, 0, batch,
	    &codes) != 0)
		return -1;
	for (int i = 0; i < 8; i++)
		snprintf(fx->vouchers[i], sizeof(fx->vouchers[i]), "%s", codes[i]);
	tsr_ra_voucher_codes_free(codes, 8);
	return 0;
}

static int add_users(struct fx *fx)
{
	struct tsr_password_list *list = NULL;
	int r;

	if (tsr_password_list_builtin(&list) != 0)
		return -1;
	r = tsr_ra_user_add(fx->st, list, "test", "alice", "Alice", NULL, "ra-officer",
	    OFFICER_PW) != 0 ||
	    tsr_ra_user_add(fx->st, list, "test", "dave", "Dave", NULL, "ca-admin",
	    OFFICER_PW) != 0 ||
	    tsr_ra_user_add(fx->st, list, "test", "carol", "Carol", NULL, "auditor",
	    OFFICER_PW) != 0 ||
	    tsr_ra_user_add(fx->st, list, "test", "erin", "Erin", NULL, "ra-officer",
	    OFFICER_PW) != 0 ? -1 : 0;
	tsr_password_list_free(list);
	return r;
}

static int setup(void **state)
{
	struct tsr_init_options o;
	struct fx *fx = calloc(1, sizeof(*fx));
	char conf[256];

	if (fx == NULL || getenv("SOFTHSM_MODULE") == NULL)
		return -1;
	tsr_secret_set_cost(true);
	snprintf(fx->home, sizeof(fx->home), "/tmp/tsr-sub-XXXXXX");
	if (mkdtemp(fx->home) == NULL)
		return -1;
	strcat(fx->home, "/ca");
	tsr_init_options_default(&o);
	o.home = fx->home;
	o.key_type = TSR_KEY_EC_P256;
	o.country = "US";
	o.softhsm_module = getenv("SOFTHSM_MODULE");
	if (tsr_ca_init(&o, "test") != 0)
		return setup_failed("init");
	/* Three failures lock (the default is 5). */
	snprintf(conf, sizeof(conf), "sed -i 's/^max_failures = 5$/max_failures = 3/' "
	    "'%s/tessera.conf'", fx->home);
	if (system(conf) != 0)
		return setup_failed("config");
	fx->now = time(NULL);
	tsr_clock_set(fixed_clock, &fx->now);
	if (tsr_ca_open(fx->home, &fx->ca) != 0 || tsr_ra_open(fx->ca, &fx->ra) != 0 ||
	    tsr_ra_store_acquire(fx->ra, &fx->st) != 0)
		return setup_failed("open");
	if (add_users(fx) != 0 || make_vouchers(fx) != 0)
		return setup_failed("users and vouchers");
	*state = fx;
	return 0;
}

static void subscriber_free(struct subscriber *s)
{
	EVP_PKEY_free(s->key);
	free(s->der);
	memset(s, 0, sizeof(*s));
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	if (fx == NULL)
		return 0;
	subscriber_free(&fx->jane);
	subscriber_free(&fx->john);
	tsr_ra_store_release(fx->ra, fx->st);
	tsr_ra_close(fx->ra);
	tsr_ca_close(fx->ca);
	tsr_clock_set(NULL, NULL);
	*strrchr(fx->home, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->home);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static const struct tsr_ra_answer answers[] = {
	{ "First pet's name?", "Rex  the Dog" },
	{ "Street you grew up on?", "Elm street" },
	{ "Favourite teacher?", "Mrs Smith" },
};

/* Undo quoted-printable in place (a code's check symbol may be '='). */
static void qp_decode(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && s[1] && s[2] && tsr_hex_digit(s[1]) >= 0 &&
		    tsr_hex_digit(s[2]) >= 0) {
			*o++ = (char)(tsr_hex_digit(s[1]) * 16 + tsr_hex_digit(s[2]));
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

/* Messages of kind for id in the outbox; the text after marker in one of
 * them goes to out (if marker is not NULL), and whether any of them holds
 * text (if not NULL) to *has. */
static int find_mail(struct fx *fx, const char *id, const char *kind, const char *marker,
    char *out, size_t outlen, const char *text_wanted, bool *has)
{
	char path[512], want_app[128], want_kind[64];
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/outbox/new", fx->home);
	snprintf(want_app, sizeof(want_app), "X-Tessera-Application: %s\r\n", id);
	snprintf(want_kind, sizeof(want_kind), "X-Tessera-Kind: %s\r\n", kind);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char file[1024], *text = calloc(1, 65537), *m;
		FILE *f;

		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (e->d_name[0] == '.' || text == NULL || (f = fopen(file, "r")) == NULL) {
			free(text);
			continue;
		}
		(void)!fread(text, 1, 65536, f);
		fclose(f);
		qp_decode(text);
		if (strstr(text, want_app) && strstr(text, want_kind)) {
			count++;
			if (marker != NULL && (m = strstr(text, marker)) != NULL)
				snprintf(out, outlen, "%.*s",
				    (int)strcspn(m + strlen(marker), "\r\n"), m + strlen(marker));
			if (text_wanted != NULL && strstr(text, text_wanted) != NULL)
				*has = true;
		}
		free(text);
	}
	closedir(d);
	return count;
}

static void csr_of(EVP_PKEY *k, uint8_t **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	int l;

	assert_non_null(req);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	*der = NULL;
	l = i2d_X509_REQ(req, der);
	assert_true(l > 0);
	*len = (size_t)l;
	X509_REQ_free(req);
}

/* An S/MIME certificate in software for given@example.org, issued as a
 * subscriber gets one: apply, verify, approve, retrieve. */
static void issued(struct fx *fx, const char *given, const char *password,
    struct subscriber *out)
{
	char email[64], code[64] = "";
	struct tsr_ra_application a = {
		.product = "smime", .storage = TSR_CHOICE_SOFTWARE, .agreement = "2026-11",
		.password = password, .answers = answers, .n_answers = 3,
		.given_name = given, .family_name = "Tester", .email = email,
		.voucher = fx->vouchers[fx->next_voucher++],
	};
	struct tsr_ra_issued got;
	uint8_t *csr = NULL;
	size_t csr_len;

	snprintf(email, sizeof(email), "%s@example.org", given);
	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, CLIENT, &a, out->id), 0);
	assert_true(find_mail(fx, out->id, "verification", "Your verification code:  ", code,
	    sizeof(code), NULL, NULL) >= 1);
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, CLIENT, out->id, code), 0);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "alice", out->id, NULL, NULL, NULL), 0);
	assert_int_equal(find_mail(fx, out->id, "activation", "Your activation code: ", code,
	    sizeof(code), NULL, NULL), 1);
	assert_non_null(out->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	csr_of(out->key, &csr, &csr_len);
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, CLIENT, code, password, csr, csr_len,
	    NULL, &got), 0);
	snprintf(out->serial, sizeof(out->serial), "%s", got.serial);
	out->der = got.der;
	out->der_len = got.der_len;
	got.der = NULL;
	tsr_ra_issued_clear(&got);
	OPENSSL_free(csr);
}

/* Jane's and John's certificates, made once. */
static void both(struct fx *fx)
{
	if (fx->jane.serial[0] == '\0')
		issued(fx, "Jane", PW, &fx->jane);
	if (fx->john.serial[0] == '\0')
		issued(fx, "John", PW2, &fx->john);
}

static void status_is(struct fx *fx, const char *serial, const char *status, const char *reason)
{
	struct tsr_cert_record rec;

	memset(&rec, 0, sizeof(rec));
	assert_int_equal(tsr_store_cert_get(fx->st, serial, &rec), 0);
	assert_string_equal(rec.status, status);
	assert_string_equal(rec.revocation_reason, reason);
	tsr_cert_record_clear(&rec);
}

struct match {
	const char *actor, *action, *outcome, *detail;   /* NULL: any; detail: substring */
	int64_t n;
};

static int match_row(const struct tsr_audit_record *r, void *ctx)
{
	struct match *m = ctx;

	if ((m->actor == NULL || strcmp(r->actor, m->actor) == 0) &&
	    (m->action == NULL || strcmp(r->action, m->action) == 0) &&
	    (m->outcome == NULL || strcmp(r->outcome, m->outcome) == 0) &&
	    (m->detail == NULL || strstr(r->detail, m->detail) != NULL))
		m->n++;
	return 0;
}

static int64_t audited(struct fx *fx, const char *actor, const char *action,
    const char *outcome, const char *detail)
{
	struct match m = { actor, action, outcome, detail, 0 };

	assert_int_equal(tsr_store_audit_iter(fx->st, match_row, &m), 0);
	return m.n;
}

static int failed_logins(struct fx *fx, const char *id, bool *locked)
{
	struct tsr_app_record a;
	int n;

	assert_int_equal(tsr_store_app_get(fx->st, id, &a), 0);
	n = a.failed_logins;
	if (locked != NULL)
		*locked = a.locked;
	tsr_app_record_clear(&a);
	return n;
}

static void unlock(struct fx *fx, const char *id)
{
	assert_int_equal(tsr_ra_unlock(fx->ra, fx->st, "alice", id, TSR_RA_UNLOCK_ACCOUNT), 0);
}

static char *applicant(const struct subscriber *s)
{
	static char actor[64];

	snprintf(actor, sizeof(actor), "applicant:%s", s->id);
	return actor;
}

/* ------------------------------------------------------------------ officers */

static void test_officer(void **state)
{
	struct fx *fx = *state;
	const char *s;
	bool has = false;
	int mails;

	both(fx);
	s = fx->jane.serial;
	/* Who may read: officers, administrators and auditors. */
	assert_int_equal(tsr_ra_cert_reader_check(fx->st, "alice"), 0);
	assert_int_equal(tsr_ra_cert_reader_check(fx->st, "dave"), 0);
	assert_int_equal(tsr_ra_cert_reader_check(fx->st, "carol"), 0);
	assert_int_equal(tsr_ra_cert_reader_check(fx->st, "nobody"), TSR_ERR_FORBIDDEN);
	/* An auditor may not change anything: refused, audited, nothing changed. */
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "carol", s, TSR_RA_CERT_SUSPEND,
	    NULL, 0, NULL), TSR_ERR_FORBIDDEN);
	assert_non_null(strstr(tsr_error_detail(), "ra-officer or ca-admin"));
	assert_int_equal(audited(fx, "officer:carol", "cert.suspend", "refused", NULL), 1);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "nobody", s,
	    TSR_RA_CERT_REVOKE, "keyCompromise", 0, NULL), TSR_ERR_FORBIDDEN);
	status_is(fx, s, "valid", "");
	/* A disabled officer neither. */
	assert_int_equal(tsr_ra_user_disable(fx->st, "test", "erin"), 0);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "erin", s, TSR_RA_CERT_SUSPEND,
	    NULL, 0, NULL), TSR_ERR_FORBIDDEN);
	assert_non_null(strstr(tsr_error_detail(), "disabled"));
	status_is(fx, s, "valid", "");

	/* Arguments that do not go with the action. */
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", s, TSR_RA_CERT_SUSPEND,
	    "keyCompromise", 0, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", s, TSR_RA_CERT_REVOKE,
	    "certificateHold", 0, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", "0badc0de",
	    TSR_RA_CERT_SUSPEND, NULL, 0, NULL), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", "xyz",
	    TSR_RA_CERT_SUSPEND, NULL, 0, NULL), TSR_ERR_INVALID);
	status_is(fx, s, "valid", "");

	/* alice suspends with a comment; the subscriber is mailed. */
	mails = find_mail(fx, fx->jane.id, "status", NULL, NULL, 0, NULL, NULL);
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", s, TSR_RA_CERT_SUSPEND,
	    NULL, 0, "Phoned in:\nthe token is missing"), 0);
	status_is(fx, s, "suspended", "certificateHold");
	assert_int_equal(audited(fx, "officer:alice", "cert.suspend", "success", NULL), 1);
	assert_int_equal(audited(fx, "officer:alice", "cert.comment", "success",
	    "suspend: Phoned in: the token is missing"), 1);
	assert_int_equal(find_mail(fx, fx->jane.id, "status", NULL, NULL, 0, s, &has), mails + 1);
	assert_true(has);
	/* dave, an administrator, lifts it. */
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "dave", s, TSR_RA_CERT_RESUME,
	    NULL, 0, NULL), 0);
	status_is(fx, s, "valid", "");
	assert_int_equal(audited(fx, "officer:dave", "cert.resume", "success", NULL), 1);
	/* Resuming a valid one is the CA's refusal. */
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "dave", s, TSR_RA_CERT_RESUME,
	    NULL, 0, NULL), TSR_ERR_POLICY);
	assert_int_equal(audited(fx, "officer:dave", "cert.resume", "refused", NULL), 1);
	status_is(fx, s, "valid", "");
}

/* ------------------------------------------------------------------ the account's secrets */

static int by_password(struct fx *fx, const char *serial, enum tsr_ra_cert_action action,
    const char *reason, const struct subscriber *who, const char *password, int question,
    const char *answer)
{
	struct tsr_ra_subscriber_secret sec = { who->id, password, question, answer };

	return tsr_ra_subscriber_change_password(fx->ra, fx->st, CLIENT, serial, action, reason,
	    &sec);
}

static void test_password(void **state)
{
	struct fx *fx = *state;
	struct subscriber nobody = { .id = "AP-0000-0000-0000" };
	const char *s;
	bool locked = true;

	both(fx);
	s = fx->john.serial;
	assert_int_equal(failed_logins(fx, fx->john.id, NULL), 0);
	/* A wrong answer, a wrong password: the same refusal, counted. */
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW2, 2,
	    "Oak street"), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number, password or answer");
	assert_int_equal(failed_logins(fx, fx->john.id, NULL), 1);
	assert_int_equal(audited(fx, CLIENT, "cert.suspend", "failure", "wrong answer (failure 1"),
	    1);
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW, 2,
	    "Elm street"), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number, password or answer");
	assert_int_equal(failed_logins(fx, fx->john.id, NULL), 2);
	/* A question the application does not have; refusals before any secret. */
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW2, 4,
	    "x"), TSR_ERR_INVALID);
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_REVOKE, "privilegeWithdrawn", &fx->john,
	    PW2, 2, "Elm street"), TSR_ERR_INVALID);
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_REVOKE, NULL, &fx->john, PW2, 2,
	    "Elm street"), TSR_ERR_INVALID);
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_RESUME, NULL, &fx->john, PW2, 2,
	    "Elm street"), TSR_ERR_FORBIDDEN);
	assert_int_equal(audited(fx, CLIENT, "cert.resume", "refused", "registration officer"), 1);
	assert_int_equal(failed_logins(fx, fx->john.id, NULL), 2);
	status_is(fx, s, "valid", "");

	/* John's right secrets for Jane's certificate: refused, audited, nothing
	 * changed (and the right secrets clear John's count). */
	assert_int_equal(by_password(fx, fx->jane.serial, TSR_RA_CERT_REVOKE, "keyCompromise",
	    &fx->john, PW2, 1, "rex the dog"), TSR_ERR_FORBIDDEN);
	assert_non_null(strstr(tsr_error_detail(), "only their own"));
	assert_int_equal(audited(fx, applicant(&fx->john), "cert.revoke", "refused",
	    fx->john.id), 1);
	status_is(fx, fx->jane.serial, "valid", "");
	assert_int_equal(failed_logins(fx, fx->john.id, NULL), 0);
	/* An unknown serial, once authenticated. */
	assert_int_equal(by_password(fx, "0badc0de", TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW2, 1,
	    "Rex the dog"), TSR_ERR_NOT_FOUND);

	/* John suspends his own (the answer's case and spaces do not matter),
	 * then revokes it for good. */
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW2, 3,
	    "  MRS   smith "), 0);
	status_is(fx, s, "suspended", "certificateHold");
	assert_int_equal(audited(fx, applicant(&fx->john), "cert.suspend", "success", NULL), 1);
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_REVOKE, "keyCompromise", &fx->john, PW2, 1,
	    "Rex the Dog"), 0);
	status_is(fx, s, "revoked", "keyCompromise");
	assert_int_equal(audited(fx, applicant(&fx->john), "cert.revoke", "success",
	    "suspended -> revoked"), 1);
	/* A revoked certificate stays revoked. */
	assert_int_equal(by_password(fx, s, TSR_RA_CERT_SUSPEND, NULL, &fx->john, PW2, 1,
	    "Rex the Dog"), TSR_ERR_POLICY);
	status_is(fx, s, "revoked", "keyCompromise");

	/* Three wrong answers lock the account; then the right secrets get the
	 * same answer as wrong ones, and so does an unknown application. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(by_password(fx, fx->jane.serial, TSR_RA_CERT_SUSPEND, NULL,
		    &fx->jane, PW, 1, "Fido"), TSR_ERR_AUTH);
	assert_int_equal(failed_logins(fx, fx->jane.id, &locked), 3);
	assert_true(locked);
	assert_int_equal(audited(fx, CLIENT, "application.lock", "success", NULL), 1);
	assert_int_equal(by_password(fx, fx->jane.serial, TSR_RA_CERT_SUSPEND, NULL, &fx->jane, PW,
	    1, "Rex the dog"), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number, password or answer");
	assert_int_equal(audited(fx, CLIENT, "cert.suspend", "refused", "the account is locked"),
	    1);
	assert_int_equal(by_password(fx, fx->jane.serial, TSR_RA_CERT_SUSPEND, NULL, &nobody, PW,
	    1, "Rex the dog"), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number, password or answer");
	status_is(fx, fx->jane.serial, "valid", "");
	unlock(fx, fx->jane.id);
	assert_int_equal(failed_logins(fx, fx->jane.id, &locked), 0);
	assert_false(locked);
}

/* ------------------------------------------------------------------ signed by the key */

static void sign(EVP_PKEY *k, const char *message, uint8_t *sig, size_t *sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	*sig_len = 256;
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, sig_len, (const uint8_t *)message,
	    strlen(message)), 1);
	EVP_MD_CTX_free(md);
}

/* A nonce for action on serial, and the message the server wants signed. */
static void nonce_for(struct fx *fx, const char *serial, enum tsr_ra_cert_action action,
    const char *reason, char nonce[TSR_RA_NONCE_LEN], char message[TSR_RA_REVOKE_MESSAGE_MAX])
{
	int64_t expires = 0;

	assert_int_equal(tsr_ra_revoke_nonce(fx->ra, fx->st, serial, action, reason, nonce,
	    &expires, message), 0);
	assert_int_equal(expires, (int64_t)fx->now + TSR_RA_NONCE_SECONDS);
}

static int by_key(struct fx *fx, const char *serial, enum tsr_ra_cert_action action,
    const char *reason, const char *nonce, const uint8_t *der, size_t der_len, EVP_PKEY *k,
    const char *message)
{
	uint8_t sig[256];
	size_t sig_len;

	sign(k, message, sig, &sig_len);
	return tsr_ra_subscriber_change_signed(fx->ra, fx->st, CLIENT, serial, action, reason,
	    nonce, der, der_len, sig, sig_len);
}

/* A certificate with serial made by someone else (self-signed, key k). */
static void forged(const char *serial, EVP_PKEY *k, uint8_t **der, size_t *der_len)
{
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	int n;

	assert_true(BN_hex2bn(&bn, serial) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const uint8_t *)"Jane Tester", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*der = NULL;
	assert_true((n = i2d_X509(x, der)) > 0);
	*der_len = (size_t)n;
	BN_free(bn);
	X509_free(x);
}

static void test_signed(void **state)
{
	struct fx *fx = *state;
	struct subscriber *j = &fx->jane;
	char nonce[TSR_RA_NONCE_LEN], message[TSR_RA_REVOKE_MESSAGE_MAX], want[256], who[64];
	int64_t expires;
	uint8_t *fake = NULL;
	size_t fake_len;

	both(fx);
	status_is(fx, j->serial, "valid", "");
	/* The nonce's message is exactly the documented text. */
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	snprintf(want, sizeof(want), "Tessera revoke certificate: %s suspend certificateHold %s",
	    j->serial, nonce);
	assert_string_equal(message, want);
	assert_int_equal(strlen(nonce) + 1, TSR_RA_NONCE_LEN);
	/* No nonce for what a subscriber may not do, or for a certificate not ours. */
	assert_int_equal(tsr_ra_revoke_nonce(fx->ra, fx->st, j->serial, TSR_RA_CERT_RESUME, NULL,
	    nonce, &expires, message), TSR_ERR_FORBIDDEN);
	assert_int_equal(tsr_ra_revoke_nonce(fx->ra, fx->st, j->serial, TSR_RA_CERT_REVOKE,
	    "cACompromise", nonce, &expires, message), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_revoke_nonce(fx->ra, fx->st, "0badc0de", TSR_RA_CERT_REVOKE,
	    "keyCompromise", nonce, &expires, message), TSR_ERR_NOT_FOUND);

	/* John's key over Jane's certificate; Jane's key over another action;
	 * John's certificate for Jane's serial; a forged certificate with
	 * Jane's serial and its own key: all refused, nothing changed. */
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, j->der,
	    j->der_len, fx->john.key, message), TSR_ERR_AUTH);
	assert_non_null(strstr(tsr_error_detail(), "does not verify"));
	assert_int_equal(audited(fx, CLIENT, "cert.suspend", "refused", "does not verify"), 1);
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_REVOKE, "keyCompromise", nonce, j->der,
	    j->der_len, j->key, message), TSR_ERR_AUTH);
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, fx->john.der,
	    fx->john.der_len, fx->john.key, message), TSR_ERR_INVALID);
	forged(j->serial, fx->john.key, &fake, &fake_len);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, fake, fake_len,
	    fx->john.key, message), TSR_ERR_AUTH);
	assert_non_null(strstr(tsr_error_detail(), "did not issue"));
	/* That nonce is used up now; an invented one is unknown. */
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, j->der,
	    j->der_len, j->key, message), TSR_ERR_POLICY);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, "AAAAAAAAAAAAAAAAAAAAAA",
	    j->der, j->der_len, j->key, message), TSR_ERR_POLICY);
	/* A nonce past its five minutes. */
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	fx->now += TSR_RA_NONCE_SECONDS + 1;
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, j->der,
	    j->der_len, j->key, message), TSR_ERR_POLICY);
	fx->now -= TSR_RA_NONCE_SECONDS + 1;
	/* Resume is an officer's. */
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_RESUME, NULL, nonce, j->der,
	    j->der_len, j->key, message), TSR_ERR_FORBIDDEN);
	status_is(fx, j->serial, "valid", "");

	/* The key holder suspends, then revokes for good. */
	snprintf(who, sizeof(who), "keyholder:%s", j->serial);
	nonce_for(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, message);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_SUSPEND, NULL, nonce, j->der,
	    j->der_len, j->key, message), 0);
	status_is(fx, j->serial, "suspended", "certificateHold");
	assert_int_equal(audited(fx, who, "cert.suspend", "success", NULL), 1);
	nonce_for(fx, j->serial, TSR_RA_CERT_REVOKE, "superseded", nonce, message);
	assert_int_equal(by_key(fx, j->serial, TSR_RA_CERT_REVOKE, "superseded", nonce, j->der,
	    j->der_len, j->key, message), 0);
	status_is(fx, j->serial, "revoked", "superseded");
	assert_int_equal(audited(fx, who, "cert.revoke", "success", NULL), 1);
	/* The officer cannot bring it back either. */
	assert_int_equal(tsr_ra_cert_officer_change(fx->ra, fx->st, "alice", j->serial,
	    TSR_RA_CERT_RESUME, NULL, 0, NULL), TSR_ERR_POLICY);
	status_is(fx, j->serial, "revoked", "superseded");
	OPENSSL_free(fake);
}

/* ------------------------------------------------------------------ the audit log */

static const char *const secrets[] = { PW, PW2, "Rex  the Dog", "rex the dog", "Mrs Smith",
	"Elm street", "Fido", OFFICER_PW };

static int no_secret(const struct tsr_audit_record *r, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < TSR_ARRAY_LEN(secrets); i++)
		if (strstr(r->detail, secrets[i]) != NULL || strstr(r->actor, secrets[i]) != NULL ||
		    strstr(r->object, secrets[i]) != NULL)
			fail_msg("audit record %lld holds a secret", (long long)r->seq);
	return 0;
}

static void test_audit_clean(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;

	assert_int_equal(tsr_store_audit_iter(fx->st, no_secret, NULL), 0);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_true(rep.records > 0);
}

static void test_message(void **state)
{
	char m[TSR_RA_REVOKE_MESSAGE_MAX];
	enum tsr_ra_cert_action a;

	(void)state;
	assert_int_equal(tsr_ra_revoke_message("5f0c", TSR_RA_CERT_REVOKE, "keyCompromise",
	    "q3dS1f9JtmM0bQe8W2wZtA", m), 0);
	assert_string_equal(m, "Tessera revoke certificate: 5f0c revoke keyCompromise "
	    "q3dS1f9JtmM0bQe8W2wZtA");
	/* Nothing with a space can be slipped in; resume is never signed. */
	assert_int_equal(tsr_ra_revoke_message("5f0c", TSR_RA_CERT_REVOKE, "key Compromise",
	    "q3dS1f9JtmM0bQe8W2wZtA", m), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_revoke_message("5f0c 00", TSR_RA_CERT_REVOKE, "keyCompromise",
	    "n", m), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_revoke_message("5f0c", TSR_RA_CERT_RESUME, "x", "n", m),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_cert_action_parse("suspend", &a), 0);
	assert_int_equal(a, TSR_RA_CERT_SUSPEND);
	assert_int_equal(tsr_ra_cert_action_parse("Revoke", &a), TSR_ERR_INVALID);
	assert_true(tsr_ra_subscriber_reason_ok("cessationOfOperation"));
	assert_false(tsr_ra_subscriber_reason_ok("certificateHold"));
	assert_false(tsr_ra_subscriber_reason_ok("cACompromise"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_officer),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_audit_clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
