/*
 * retrieve.c - retrieval with the activation code, renewal with the
 * current certificate (retrieve.h).
 *
 * The certificate's contents come from the approved application and its
 * product; the CSR only proves possession of the key generated on the
 * token and supplies it.  Issuance is the CA's one pipeline (lint, sign in
 * the token, store); what the workflow records (the code used, the state,
 * the serial) commits in the same transaction as the certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit/audit.h"
#include "ra/ra_impl.h"
#include "ra/retrieve.h"

#define WRONG_CREDENTIALS "wrong activation code or password"
#define SUBJECT_MAX 1024
#define CLAIM_MAX 64

void tsr_ra_issued_clear(struct tsr_ra_issued *c)
{
	if (c == NULL)
		return;
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ the code */

/* The activation code typed finds its row; a code that is not an
 * activation code, or unknown, is the same answer as a wrong password. */
static int code_lookup(struct tsr_ra *ra, struct tsr_store *st, const char *typed,
    struct tsr_code_record *out)
{
	char canonical[64], hash[TSR_CODE_HASH_HEX];
	int r;

	memset(out, 0, sizeof(*out));
	r = tsr_code_normalise(typed ? typed : "", canonical, sizeof(canonical));
	if (r == 0 && strlen(canonical) + 1 != tsr_code_len(TSR_CODE_ACTIVATION_BITS))
		r = tsr_error(TSR_ERR_AUTH, WRONG_CREDENTIALS);
	if (r == 0 && (r = tsr_code_hash(ra->code_key, TSR_CODE_ACTIVATION, canonical, hash)) == 0)
		r = tsr_store_code_get(st, hash, out);
	if (r == TSR_ERR_NOT_FOUND || (r == 0 && strcmp(out->purpose, TSR_CODE_ACTIVATION) != 0))
		r = tsr_error(TSR_ERR_AUTH, WRONG_CREDENTIALS);
	tsr_wipe(canonical, sizeof(canonical));
	tsr_wipe(hash, sizeof(hash));
	return r;
}

/* The code and the account password, the password counted on the account
 * (app.c's rules).  On success *code is the code's row. */
static int credentials(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *typed, const char *password, struct tsr_code_record *code)
{
	int r = code_lookup(ra, st, typed, code);

	if (r == TSR_ERR_AUTH) {
		char saved[256];

		snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
		if (tsr_audit_append(st, actor, "application.retrieve", "", TSR_AUDIT_FAILURE,
		    "unknown activation code") != 0)
			tsr_log(TSR_LOG_WARN, "cannot audit a retrieval: %s", tsr_error_detail());
		return tsr_error(TSR_ERR_AUTH, "%s", saved);
	}
	if (r != 0)
		return r;
	if ((r = tsr_ra_applicant_login(ra, st, actor, code->application, password)) != 0 &&
	    r == TSR_ERR_AUTH)
		r = tsr_error(TSR_ERR_AUTH, WRONG_CREDENTIALS);
	return r;
}

/* Why an unused code cannot be used now, or 0. */
static int code_fresh(const struct tsr_code_record *c, int64_t now)
{
	if (c->superseded_at != 0)
		return tsr_error(TSR_ERR_POLICY, "this activation code was replaced by a newer one: "
		    "use the code from the latest letter");
	if (c->locked)
		return tsr_error(TSR_ERR_POLICY, "this activation code is locked; a registration "
		    "officer must unlock it");
	if (c->expires_at <= now)
		return tsr_error(TSR_ERR_POLICY, "this activation code has expired; a registration "
		    "officer can issue a new one");
	return 0;
}

/* ------------------------------------------------------------------ the CSR */

/* Parse the CSR strictly (proof of possession included) and hash its
 * public key: hex SHA-256 of the SubjectPublicKeyInfo DER. */
static int csr_key(const uint8_t *csr, size_t len, char spki[65])
{
	uint8_t md[SHA256_DIGEST_LENGTH], *der = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	int n, r;

	if (csr == NULL || len == 0)
		return tsr_error(TSR_ERR_INVALID, "no CSR was sent");
	if (len > TSR_CSR_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the CSR is over %d bytes", TSR_CSR_MAX);
	if ((r = tsr_csr_parse(csr, len, &req)) != 0)
		return tsr_error_wrap(r, "CSR");
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL || (n = i2d_PUBKEY(pk, &der)) <= 0) {
		X509_REQ_free(req);
		return tsr_error_openssl(TSR_ERR_PARSE, "CSR: no public key");
	}
	SHA256(der, (size_t)n, md);
	tsr_hex_encode(md, sizeof(md), spki);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return 0;
}

/* The same hash of a certificate's public key ("" if it cannot be read). */
static void cert_key(const uint8_t *der, size_t len, char spki[65])
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	uint8_t md[SHA256_DIGEST_LENGTH], *k = NULL;
	int n = x != NULL ? i2d_PUBKEY(X509_get0_pubkey(x), &k) : -1;

	spki[0] = '\0';
	if (n > 0) {
		SHA256(k, (size_t)n, md);
		tsr_hex_encode(md, sizeof(md), spki);
	}
	OPENSSL_free(k);
	X509_free(x);
}

/* ------------------------------------------------------------------ the subject */

/* Append value to out escaped for an RFC 4514 string. */
static int escape_into(struct tsr_buf *out, const char *value)
{
	size_t n = strlen(value);
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		char c = value[i];
		bool esc = strchr(",+\"\\<>;=", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
		    (i + 1 == n && c == ' ');

		if (esc)
			r = tsr_buf_append(out, "\\", 1);
		if (r == 0)
			r = tsr_buf_append(out, &c, 1);
	}
	return r;
}

static bool allows(const struct tsr_product *p, const char *attr)
{
	for (size_t i = 0; i < p->n_subject_allowed; i++)
		if (strcmp(p->subject_allowed[i], attr) == 0)
			return true;
	return false;
}

static bool requires(const struct tsr_product *p, const char *attr)
{
	for (size_t i = 0; i < p->n_subject_required; i++)
		if (strcmp(p->subject_required[i], attr) == 0)
			return true;
	return false;
}

static int rdn(struct tsr_buf *out, const char *type, const char *value)
{
	int r = 0;

	if (value == NULL || value[0] == '\0')
		return 0;
	if (out->len > 0)
		r = tsr_buf_append(out, ",", 1);
	if (r == 0 && (r = tsr_buf_append_str(out, type)) == 0 &&
	    (r = tsr_buf_append(out, "=", 1)) == 0)
		r = escape_into(out, value);
	return r;
}

static const char *field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * The subject and SANs of application a for product p: CN is the
 * applicant's name (or the domain, or the organization, for products that
 * do not ask for a name), GN and SN and O where the product allows them,
 * C the CA's country; an email SAN and a DNS SAN where the product allows
 * them.  The product's own rules are checked again by the CA.
 */
static int subject_of(struct tsr_ra *ra, const struct tsr_app_record *a,
    const struct tsr_product *p, struct tsr_buf *subject, char sans[2][300], size_t *n_sans)
{
	json_t *o = json_loads(a->applicant, JSON_REJECT_DUPLICATES, NULL);
	const char *given = field(o, "given_name"), *family = field(o, "family_name");
	const char *org = field(o, "organization"), *domain = field(o, "domain");
	const char *email = field(o, "email");
	char cn[512] = "";
	int r = 0;

	*n_sans = 0;
	if (o == NULL)
		return tsr_error(TSR_ERR_STORE, "application %s: the stored fields are not JSON",
		    a->id);
	if (given != NULL && family != NULL)
		snprintf(cn, sizeof(cn), "%s %s", given, family);
	else if (domain != NULL || org != NULL)
		snprintf(cn, sizeof(cn), "%s", domain != NULL ? domain : org);
	if (allows(p, "CN"))
		r = rdn(subject, "CN", cn);
	if (r == 0 && allows(p, "GN"))
		r = rdn(subject, "GN", given);
	if (r == 0 && allows(p, "SN"))
		r = rdn(subject, "SN", family);
	if (r == 0 && allows(p, "O"))
		r = rdn(subject, "O", org);
	if (r == 0 && allows(p, "C") && ra->cfg->ca.country[0] == '\0' && requires(p, "C"))
		r = tsr_error(TSR_ERR_CONFIG, "product %s puts the country in the subject: set "
		    "[ca] country in tessera.conf", p->name);
	if (r == 0 && allows(p, "C"))
		r = rdn(subject, "C", ra->cfg->ca.country);
	if (r == 0 && email != NULL && (p->san_allowed & (1u << TSR_SAN_EMAIL)))
		snprintf(sans[(*n_sans)++], 300, "email:%s", email);
	if (r == 0 && domain != NULL && (p->san_allowed & (1u << TSR_SAN_DNS)))
		snprintf(sans[(*n_sans)++], 300, "dns:%s", domain);
	json_decref(o);
	return r;
}

/* ------------------------------------------------------------------ the token */

/* A PKCS#11 token serial is padded with spaces to 16 characters. */
static void trimmed(const char *in, char out[CLAIM_MAX + 1])
{
	size_t n;

	snprintf(out, CLAIM_MAX + 1, "%s", in ? in : "");
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

/* A shipped token must be the one assigned at approval; the serial is the
 * client's claim (docs/est.md: attestation would make it proof). */
static int claim_check(const struct tsr_app_record *a, const struct tsr_ra_token_claim *claim,
    char *who, size_t who_size)
{
	char serial[CLAIM_MAX + 1], model[CLAIM_MAX + 1], maker[CLAIM_MAX + 1];

	trimmed(claim ? claim->serial : NULL, serial);
	trimmed(claim ? claim->model : NULL, model);
	trimmed(claim ? claim->manufacturer : NULL, maker);
	snprintf(who, who_size, "token retrieval: key generated on token %.32s %.16s serial %.16s "
	    "(the client's claim)", maker[0] ? maker : "?", model[0] ? model : "?",
	    serial[0] ? serial : "?");
	if (strcmp(a->storage, TSR_CHOICE_SOFTWARE) == 0 || a->token_serial[0] == '\0')
		return 0;
	if (serial[0] == '\0')
		return tsr_error(TSR_ERR_POLICY, "this certificate goes onto token %s: the client "
		    "must say which token it uses", a->token_serial);
	if (strcmp(serial, a->token_serial) != 0)
		return tsr_error(TSR_ERR_POLICY, "this certificate goes onto token %s, not onto "
		    "token %s", a->token_serial, serial);
	return 0;
}

/* ------------------------------------------------------------------ issuing */

struct issuing {
	const char *actor;
	const char *code_hash;        /* retrieval: the code to use up; else NULL */
	const char *spki;
	const struct tsr_app_record *app;
};

/* Renewal, inside the write lock: the certificate the checks accepted is
 * still the application's newest and still valid, so that two renewals
 * racing with one certificate, or a revocation landing meanwhile, cannot
 * both be honoured. */
static int still_current(struct tsr_store *st, const struct tsr_app_record *seen)
{
	struct tsr_app_record a;
	struct tsr_cert_record c;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = ra_app_read(st, seen->id, &a)) != 0)
		return r;
	if (strcmp(a.cert_serial, seen->cert_serial) != 0 || strcmp(a.state, seen->state) != 0)
		r = tsr_error(TSR_ERR_POLICY, "this certificate was renewed meanwhile; renew with "
		    "the newest one");
	else if ((r = tsr_store_cert_get(st, a.cert_serial, &c)) == 0 &&
	    strcmp(c.status, "valid") != 0)
		r = tsr_error(TSR_ERR_POLICY, "the current certificate is %s", c.status);
	tsr_cert_record_clear(&c);
	tsr_app_record_clear(&a);
	return r;
}

/* Inside the CA's transaction, with the certificate stored: the code used
 * by this key, the serial, the state. */
static int record_issue(struct tsr_store *st, const struct tsr_cert_record *rec, void *ctx)
{
	struct issuing *is = ctx;
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(is->app->id, object);
	upd.cert_serial = rec->serial;
	upd.expect_state = is->app->state;
	if (is->code_hash == NULL && (r = still_current(st, is->app)) != 0)
		return r;
	if (is->code_hash != NULL &&
	    (r = tsr_store_code_use_key(st, is->code_hash, (int64_t)tsr_now(), is->spki)) != 0)
		return r;
	if ((r = tsr_store_app_update(st, is->app->id, &upd, (int64_t)tsr_now())) != 0)
		return r;
	if (is->code_hash != NULL)
		return ra_transition(st, is->actor, is->app, TSR_EV_RETRIEVE, TSR_ACTOR_APPLICANT,
		    NULL, rec->serial);
	return tsr_audit_append(st, is->actor, "cert.renew", object, TSR_AUDIT_SUCCESS,
	    "serial %s replaces %s", rec->serial, is->app->cert_serial);
}

static int issue(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_app_record *a,
    const uint8_t *csr, size_t csr_len, const char *who, struct issuing *is,
    struct tsr_ra_issued *out)
{
	const struct tsr_product *p;
	struct tsr_cert_record rec;
	struct tsr_buf subject;
	const char *subject_text = NULL;
	char sans[2][300];
	const char *san_ptrs[2] = { sans[0], sans[1] };
	size_t n_sans = 0;
	int r;

	memset(&rec, 0, sizeof(rec));
	tsr_buf_init(&subject, SUBJECT_MAX);
	if ((r = ra_product(ra, a, &p)) != 0 || (r = subject_of(ra, a, p, &subject, sans,
	    &n_sans)) != 0 || (r = tsr_buf_cstr(&subject, &subject_text)) != 0)
		goto out;
	{
		struct tsr_issue_request req = {
			.product = a->product, .csr = csr, .csr_len = csr_len,
			.subject = subject_text, .sans = san_ptrs, .n_sans = n_sans,
			.hardware_verified_by = who, .store = st,
			.in_transaction = record_issue, .ctx = is,
		};

		if ((r = tsr_ca_issue(ra->ca, is->actor, &req, &rec)) != 0)
			goto out;
	}
	if ((out->der = malloc(rec.der_len)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out->der, rec.der, rec.der_len);
	out->der_len = rec.der_len;
	snprintf(out->serial, sizeof(out->serial), "%s", rec.serial);
	snprintf(out->application, sizeof(out->application), "%s", a->id);
out:
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&subject);
	return r;
}

/* The certificate an earlier retrieval with this code and key returned. */
static int repeat(struct tsr_store *st, const char *actor, const struct tsr_code_record *c,
    const struct tsr_app_record *a, const char *spki, struct tsr_ra_issued *out)
{
	struct tsr_cert_record rec;
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(a->id, object);
	if (strcmp(c->used_key, spki) != 0)
		return tsr_error(TSR_ERR_POLICY, "this activation code was already used with "
		    "another key; a registration officer can issue a new code");
	if ((int64_t)tsr_now() - c->used_at > TSR_RA_RETRIEVE_WINDOW_SECONDS)
		return tsr_error(TSR_ERR_POLICY, "this activation code was used more than %d hours "
		    "ago", TSR_RA_RETRIEVE_WINDOW_SECONDS / 3600);
	if (a->cert_serial[0] == '\0')
		return tsr_error(TSR_ERR_STORE, "application %s used its code but has no "
		    "certificate", a->id);
	if ((r = tsr_store_cert_get(st, a->cert_serial, &rec)) != 0)
		return r;
	{
		char key[65];

		/* Renewed or revoked since: not the certificate this key was given. */
		cert_key(rec.der, rec.der_len, key);
		if (strcmp(key, spki) != 0 || strcmp(rec.status, "valid") != 0) {
			tsr_cert_record_clear(&rec);
			return tsr_error(TSR_ERR_POLICY, "the certificate retrieved with this code "
			    "was renewed or revoked since; there is nothing to retrieve again");
		}
	}
	if ((out->der = malloc(rec.der_len)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	else {
		memcpy(out->der, rec.der, rec.der_len);
		out->der_len = rec.der_len;
		snprintf(out->serial, sizeof(out->serial), "%s", rec.serial);
		snprintf(out->application, sizeof(out->application), "%s", a->id);
		out->repeated = true;
		r = tsr_audit_append(st, actor, "application.retrieve", object, TSR_AUDIT_SUCCESS,
		    "the same key again: certificate %s returned again", rec.serial);
	}
	tsr_cert_record_clear(&rec);
	return r;
}

/* Retrieve (see retrieve.h). */
int tsr_ra_retrieve(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *typed_code, const char *password, const uint8_t *csr, size_t csr_len,
    const struct tsr_ra_token_claim *claim, struct tsr_ra_issued *out)
{
	struct tsr_code_record code;
	struct tsr_app_record a;
	char spki[65], object[RA_OBJECT_MAX] = "", who[256];
	struct issuing is = { .actor = actor };
	int r;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if ((r = credentials(ra, st, actor, typed_code, password, &code)) != 0)
		goto done;   /* audited where it was decided */
	ra_object(code.application, object);
	if ((r = ra_app_read(st, code.application, &a)) != 0 || (r = csr_key(csr, csr_len,
	    spki)) != 0)
		goto out;
	if (code.used_at != 0) {
		r = repeat(st, actor, &code, &a, spki, out);
		goto out;
	}
	if ((r = code_fresh(&code, (int64_t)tsr_now())) != 0)
		goto out;
	if (strcmp(a.state, tsr_app_state_name(TSR_APP_ACTIVATION_ISSUED)) != 0) {
		r = tsr_error(TSR_ERR_POLICY, "this application is %s; there is nothing to "
		    "retrieve", a.state);
		goto out;
	}
	if ((r = claim_check(&a, claim, who, sizeof(who))) != 0)
		goto out;
	is.code_hash = code.code_hash;
	is.spki = spki;
	is.app = &a;
	r = issue(ra, st, &a, csr, csr_len, who, &is, out);
out:
	if (r != 0)
		r = tsr_audit_error(st, actor, "application.retrieve", object, r);
done:
	if (r != 0)
		tsr_ra_issued_clear(out);
	tsr_app_record_clear(&a);
	tsr_wipe(&code, sizeof(code));
	return r;
}

/* The key types for csrattrs (see retrieve.h). */
int tsr_ra_retrieve_key_types(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *typed_code, const char *password, unsigned *mask,
    enum tsr_key_type *preferred)
{
	const struct tsr_product *p;
	struct tsr_code_record code;
	struct tsr_app_record a;
	int r;

	*mask = 0;
	*preferred = TSR_KEY_NONE;
	memset(&a, 0, sizeof(a));
	if ((r = credentials(ra, st, actor, typed_code, password, &code)) == 0 &&
	    (r = ra_app_read(st, code.application, &a)) == 0 && (r = ra_product(ra, &a, &p)) == 0) {
		*mask = p->key_types;
		/* The first the product lists in enum order: P-256 before P-384
		 * before RSA, the order tokens generate fastest. */
		for (int t = TSR_KEY_EC_P256; t < TSR_KEY_TYPE_COUNT && *preferred == TSR_KEY_NONE;
		    t++)
			if (*mask & (1u << t))
				*preferred = (enum tsr_key_type)t;
	}
	tsr_app_record_clear(&a);
	tsr_wipe(&code, sizeof(code));
	return r;
}

/* ------------------------------------------------------------------ renewal */

struct by_serial {
	char id[TSR_APP_ID_MAX + 1];
};

static int first_app(const struct tsr_app_record *a, void *ctx)
{
	snprintf(((struct by_serial *)ctx)->id, TSR_APP_ID_MAX + 1, "%s", a->id);
	return 1;
}

/* The stored certificate that client_cert is, byte for byte, and its
 * application.  TSR_ERR_AUTH for anything else. */
static int current_cert(struct tsr_store *st, const uint8_t *der, size_t len,
    struct tsr_cert_record *rec, struct tsr_app_record *a)
{
	const uint8_t *p = der;
	X509 *x = NULL;
	const ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	struct by_serial found = { "" };
	struct tsr_app_filter f = { 0 };
	int r;

	if (der == NULL || len == 0 || len > 65536 ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)
		r = tsr_error(TSR_ERR_AUTH, "the client certificate is not a certificate");
	else if ((sn = X509_get0_serialNumber(x)) == NULL ||
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL)
		r = tsr_error_openssl(TSR_ERR_AUTH, "the client certificate's serial");
	else
		r = tsr_store_cert_get(st, hex, rec);
	if (r == TSR_ERR_NOT_FOUND || (r == 0 && (rec->der_len != len ||
	    memcmp(rec->der, der, len) != 0 || strcmp(rec->role, "subscriber") != 0)))
		r = tsr_error(TSR_ERR_AUTH, "the client certificate was not issued by this CA to "
		    "a subscriber");
	if (r == 0) {
		f.cert_serial = rec->serial;
		if ((r = tsr_store_app_list(st, &f, first_app, &found)) > 0)
			r = 0;
		if (r == 0 && found.id[0] == '\0')
			r = tsr_error(TSR_ERR_AUTH, "the client certificate is not the newest "
			    "certificate of an application");
		if (r == 0)
			r = ra_app_read(st, found.id, a);
	}
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	return r;
}

/* Renew (see retrieve.h). */
int tsr_ra_reenroll(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const uint8_t *client_cert, size_t client_cert_len, const uint8_t *csr, size_t csr_len,
    struct tsr_ra_issued *out)
{
	struct tsr_cert_record rec;
	struct tsr_app_record a;
	struct issuing is = { .actor = actor };
	char spki[65], old[65] = "", object[RA_OBJECT_MAX] = "";
	int64_t now = (int64_t)tsr_now();
	int r;

	memset(out, 0, sizeof(*out));
	memset(&rec, 0, sizeof(rec));
	memset(&a, 0, sizeof(a));
	if ((r = current_cert(st, client_cert, client_cert_len, &rec, &a)) != 0)
		goto out;
	ra_object(a.id, object);
	if (strcmp(rec.status, "valid") != 0)
		r = tsr_error(TSR_ERR_POLICY, "the current certificate is %s", rec.status);
	else if (now < rec.not_before || now > rec.not_after)
		r = tsr_error(TSR_ERR_POLICY, "the current certificate is not valid now");
	else if (strcmp(a.state, tsr_app_state_name(TSR_APP_CERTIFICATE_ISSUED)) != 0)
		r = tsr_error(TSR_ERR_POLICY, "application %s is %s", a.id, a.state);
	if (r != 0 || (r = csr_key(csr, csr_len, spki)) != 0)
		goto out;
	cert_key(rec.der, rec.der_len, old);   /* to refuse the same key again */
	if (strcmp(old, spki) == 0) {
		r = tsr_error(TSR_ERR_POLICY, "a renewal needs a new key, not the current one");
		goto out;
	}
	is.app = &a;
	is.spki = spki;
	r = issue(ra, st, &a, csr, csr_len, "renewal: authenticated by the current certificate's "
	    "key over TLS", &is, out);
out:
	if (r != 0) {
		r = tsr_audit_error(st, actor, "cert.renew", object, r);
		tsr_ra_issued_clear(out);
	}
	tsr_cert_record_clear(&rec);
	tsr_app_record_clear(&a);
	return r;
}
