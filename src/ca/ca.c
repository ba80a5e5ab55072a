/*
 * ca.c - an open CA home: config, store, token session and the pipeline
 * every certificate goes through (ca_make_cert).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

int ca_read_pin(const char *path, char **out)
{
	struct tsr_buf b;
	const char *s;
	size_t n;
	int r;

	*out = NULL;
	tsr_buf_init_secret(&b, CA_PIN_MAX);
	/* Like ssh with its keys: a PIN others can read is no longer a secret. */
	if ((r = tsr_file_read_private(path, CA_PIN_MAX, &b)) != 0) {
		if (r == TSR_ERR_POLICY)
			r = tsr_error_wrap(TSR_ERR_PIN, "PIN file");
		goto out;
	}
	if ((r = tsr_buf_cstr(&b, &s)) != 0)
		goto out;
	n = strcspn(s, "\r\n");
	if (n == 0 || memchr(s, '\0', b.len) != NULL) {
		r = tsr_error(TSR_ERR_PIN, "%s holds no PIN on its first line", path);
		goto out;
	}
	if ((*out = strndup(s, n)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	tsr_buf_free(&b);
	return r;
}

int ca_check_token_uri(const char *s)
{
	struct tsr_p11_uri uri;
	bool pin;

	memset(&uri, 0, sizeof(uri));
	if (tsr_p11_uri_parse(s, &uri) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "token URI");
	pin = uri.pin_value != NULL || uri.pin_source != NULL;
	tsr_p11_uri_free(&uri);
	if (pin)
		return tsr_error(TSR_ERR_INVALID, "the token URI must not carry a PIN "
		    "(pin-value, pin-source): give the PIN in a file instead");
	return 0;
}

int ca_token_open(const char *module, const char *softhsm_conf, const char *token_uri,
    const char *pin, struct tsr_p11_module **mod, struct tsr_p11_session **sess)
{
	struct tsr_p11_uri uri;
	int r;

	*mod = NULL;
	*sess = NULL;
	memset(&uri, 0, sizeof(uri));
	/* SoftHSM reads its configuration file name from the environment
	 * when it is initialized; the built-in token has its own. */
	if (softhsm_conf != NULL && setenv("SOFTHSM2_CONF", softhsm_conf, 1) != 0)
		return tsr_error(TSR_ERR_IO, "cannot set SOFTHSM2_CONF");
	if ((r = ca_check_token_uri(token_uri)) != 0 ||
	    (r = tsr_p11_uri_parse(token_uri, &uri)) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, NULL);
	if ((r = tsr_p11_module_load(module, mod)) != 0)
		goto out;
	if ((r = tsr_p11_open(*mod, &uri, sess)) != 0)
		goto out;
	r = tsr_p11_login(*sess, pin);
out:
	tsr_p11_uri_free(&uri);
	if (r != 0) {
		tsr_p11_close(*sess);
		tsr_p11_module_unload(*mod);
		*sess = NULL;
		*mod = NULL;
	}
	return r;
}

/* A token that ignored CKA_SENSITIVE or CKA_EXTRACTABLE must not hold a CA key. */
int ca_check_key_protected(struct tsr_p11_key *key, const char *label)
{
	struct tsr_p11_key_attrs a;
	int r;

	if ((r = tsr_p11_key_attrs(key, &a)) != 0)
		return r;
	if (!a.sensitive || !a.always_sensitive || a.extractable || !a.never_extractable ||
	    !a.private_ || !a.token)
		return tsr_error(TSR_ERR_PKCS11, "the token did not protect the new key '%s' as "
		    "asked (sensitive %d, always sensitive %d, extractable %d, never extractable %d, "
		    "private %d, token %d): refusing to use it", label, a.sensitive,
		    a.always_sensitive, a.extractable, a.never_extractable, a.private_, a.token);
	return 0;
}

static int token_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	return tsr_p11_key_sign(ctx, in, inlen, out, outlen);
}

int ca_signer_for(struct tsr_p11_key *key, struct tsr_signer **out)
{
	EVP_PKEY *pub = NULL;
	int r;

	if ((r = tsr_p11_key_public(key, &pub)) != 0)
		return r;
	r = tsr_signer_new(pub, token_sign, key, out);
	EVP_PKEY_free(pub);
	return r;
}

int ca_pem(X509 *x, struct tsr_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r;

	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
		BIO_free(bio);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot write PEM");
	}
	n = BIO_get_mem_data(bio, &p);
	r = tsr_buf_append(out, p, (size_t)n);
	BIO_free(bio);
	return r;
}

/* Fill the record's columns from what was built. */
static int fill_record(struct ca_job *job, X509 *x, struct tsr_cert_record *rec)
{
	const struct tsr_cert_template *t = &job->t;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	enum tsr_key_type kt;
	unsigned char *der = NULL;
	int n, r;

	memset(rec, 0, sizeof(*rec));
	tsr_hex_encode(t->serial, t->serial_len, rec->serial);
	snprintf(rec->issuer, sizeof(rec->issuer), "%s", job->issuer_label);
	snprintf(rec->role, sizeof(rec->role), "%s", job->role);
	snprintf(rec->product, sizeof(rec->product), "%s", t->product ? t->product->name : "");
	if ((r = tsr_pubkey_classify(t->pubkey, &kt)) != 0)
		return r;
	snprintf(rec->key_type, sizeof(rec->key_type), "%s", tsr_key_type_name(kt));
	snprintf(rec->status, sizeof(rec->status), "valid");
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot hash the certificate");
	tsr_hex_encode(md, mdlen, rec->fingerprint);
	rec->not_before = t->not_before;
	rec->not_after = t->not_after;
	rec->issued_at = tsr_now();
	if ((r = tsr_name_format(t->subject, &rec->subject)) != 0 ||
	    (r = tsr_sans_format(t->sans, t->n_sans, &rec->sans)) != 0)
		return r;
	if ((n = i2d_X509(x, &der)) <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the certificate");
	if ((rec->der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	memcpy(rec->der, der, (size_t)n);
	rec->der_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

/* Reserve a fresh serial; a collision (2^-127 odds, or a broken RNG) retries. */
static int reserve_serial(struct tsr_store *st, struct ca_job *job)
{
	char hex[TSR_SERIAL_HEX_MAX + 1];
	int r = 0;

	for (int attempt = 0; attempt < 3; attempt++) {
		if ((r = tsr_serial_random(job->t.serial, &job->t.serial_len)) != 0)
			return r;
		tsr_hex_encode(job->t.serial, job->t.serial_len, hex);
		r = tsr_store_serial_reserve(st, hex, job->issuer_label);
		if (r != TSR_ERR_EXISTS)
			return r;
	}
	return r;
}

int ca_make_cert(struct tsr_store *st, struct ca_job *job, X509 **cert,
    struct tsr_cert_record *rec)
{
	char object[TSR_SERIAL_HEX_MAX + 8];
	int r;

	*cert = NULL;
	memset(rec, 0, sizeof(*rec));
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = reserve_serial(st, job)) != 0 ||
	    (r = tsr_cert_make(&job->t, job->signer, tsr_now(), NULL, cert)) != 0 ||
	    (r = fill_record(job, *cert, rec)) != 0 ||
	    (r = tsr_store_cert_put(st, rec)) != 0 ||
	    (job->in_transaction != NULL && (r = job->in_transaction(st, rec, job->ctx)) != 0))
		goto out;
	snprintf(object, sizeof(object), "serial:%s", rec->serial);
	if ((r = tsr_audit_append(st, job->actor, "cert.issue", object, TSR_AUDIT_SUCCESS,
	    "issuer=%s role=%s product=%s key=%s subject=%s%s%s", rec->issuer, rec->role,
	    rec->product[0] ? rec->product : "-", rec->key_type, rec->subject,
	    rec->sans[0] ? " san=" : "", rec->sans)) != 0)
		goto out;
	r = tsr_store_commit(st);
out:
	if (r != 0) {
		tsr_store_rollback(st);
		X509_free(*cert);
		*cert = NULL;
		tsr_cert_record_clear(rec);
	}
	return r;
}

void tsr_ca_audit(struct tsr_ca *ca, const char *actor, const char *action, const char *object,
    const char *outcome, const char *fmt, ...)
{
	char detail[1024];
	char saved[1024];
	va_list ap;

	/* Auditing a failure must not replace the failure's own message. */
	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (tsr_audit_append(ca->store, actor, action, object, outcome, "%s", detail) != 0)
		fprintf(stderr, "tessera: warning: cannot write the audit log: %s\n",
		    tsr_error_detail());
	tsr_error(0, "%s", saved);
}

static int load_ca_cert(struct tsr_store *st, const char *meta_key, X509 **out)
{
	struct tsr_cert_record rec;
	const unsigned char *p;
	char *serial = NULL;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = tsr_store_meta_get(st, meta_key, &serial)) != 0)
		return tsr_error_wrap(TSR_ERR_STORE, "the store does not name the %s certificate",
		    meta_key);
	if ((r = tsr_store_cert_get(st, serial, &rec)) != 0)
		goto out;
	p = rec.der;
	if ((*out = d2i_X509(NULL, &p, (long)rec.der_len)) == NULL)
		r = tsr_error_openssl(TSR_ERR_STORE, "stored %s certificate is corrupt", meta_key);
out:
	free(serial);
	tsr_cert_record_clear(&rec);
	return r;
}

int tsr_ca_open(const char *home, struct tsr_ca **out)
{
	struct tsr_ca *ca;
	int r;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&ca->lock, NULL);
	for (size_t i = 0; i < CA_OCSP_LANES; i++)
		pthread_mutex_init(&ca->lanes[i].lock, NULL);
	if ((ca->home = strdup(home)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = tsr_config_load(home, &ca->cfg)) != 0)
		goto out;
	if ((r = tsr_store_open(ca->cfg.ca.database, false, &ca->store)) != 0)
		goto out;
	if ((r = load_ca_cert(ca->store, "root_serial", &ca->root)) != 0 ||
	    (r = load_ca_cert(ca->store, "issuing_serial", &ca->issuing)) != 0)
		goto out;
	*out = ca;
	ca = NULL;
out:
	tsr_ca_close(ca);
	return r;
}

/* Back to the state before tsr_ca_login(): a retry starts clean. */
static void lane_clear(struct ca_lane *l)
{
	tsr_signer_free(l->signer);
	tsr_p11_key_free(l->key);
	X509_free(l->cert);
	l->signer = NULL;
	l->key = NULL;
	l->cert = NULL;
}

static void logout(struct tsr_ca *ca)
{
	for (size_t i = 0; i < CA_OCSP_LANES; i++) {
		lane_clear(&ca->lanes[i]);
		tsr_p11_close(ca->lanes[i].sess);
		ca->lanes[i].sess = NULL;
	}
	ca_ocsp_forget(ca);
	tsr_signer_free(ca->root_signer);
	tsr_p11_key_free(ca->root_key);
	ca->root_signer = NULL;
	ca->root_key = NULL;
	tsr_signer_free(ca->signer);
	tsr_p11_key_free(ca->issuing_key);
	tsr_p11_close(ca->sess);
	tsr_p11_module_unload(ca->mod);
	ca->signer = NULL;
	ca->issuing_key = NULL;
	ca->sess = NULL;
	ca->mod = NULL;
}

void tsr_ca_close(struct tsr_ca *ca)
{
	if (ca == NULL)
		return;
	logout(ca);
	X509_free(ca->root);
	X509_free(ca->issuing);
	tsr_store_close(ca->store);
	tsr_config_free(&ca->cfg);
	free(ca->home);
	pthread_mutex_destroy(&ca->lock);
	for (size_t i = 0; i < CA_OCSP_LANES; i++)
		pthread_mutex_destroy(&ca->lanes[i].lock);
	free(ca);
}

const struct tsr_config *tsr_ca_config(const struct tsr_ca *ca)
{
	return &ca->cfg;
}

struct tsr_store *tsr_ca_store(struct tsr_ca *ca)
{
	return ca->store;
}

const X509 *tsr_ca_issuing_cert(const struct tsr_ca *ca)
{
	return ca->issuing;
}

const X509 *tsr_ca_root_cert(const struct tsr_ca *ca)
{
	return ca->root;
}

/* The key whose id the store keeps under meta, checked to be protected
 * and to match cert, as a signer. */
static int find_key(struct tsr_ca *ca, const char *meta, const char *what, const X509 *cert,
    struct tsr_p11_key **key, struct tsr_signer **signer)
{
	uint8_t id[64];
	size_t id_len = 0;
	char *hex = NULL;
	EVP_PKEY *pub = NULL;
	int r;

	if ((r = tsr_store_meta_get(ca->store, meta, &hex)) != 0)
		return tsr_error_wrap(TSR_ERR_STORE, "the store does not name the %s key", what);
	r = tsr_hex_decode(hex, id, sizeof(id), &id_len);
	free(hex);
	if (r != 0)
		return tsr_error_wrap(TSR_ERR_STORE, "%s", meta);
	if ((r = tsr_p11_key_find(ca->sess, NULL, id, id_len, key)) != 0 ||
	    (r = ca_check_key_protected(*key, what)) != 0 ||
	    (r = tsr_p11_key_public(*key, &pub)) != 0)
		goto fail;
	if (EVP_PKEY_eq(pub, X509_get0_pubkey(cert)) != 1) {
		r = tsr_error(TSR_ERR_PKCS11, "the %s key on the token does not match its "
		    "certificate", what);
		goto fail;
	}
	EVP_PKEY_free(pub);
	if ((r = ca_signer_for(*key, signer)) == 0)
		return 0;
fail:
	EVP_PKEY_free(pub);
	tsr_p11_key_free(*key);
	*key = NULL;
	return r;
}

int ca_root_signer(struct tsr_ca *ca, struct tsr_signer **out)
{
	int r;

	if (ca->sess == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the root key is used before logging in");
	if (ca->root_signer == NULL &&
	    (r = find_key(ca, "root_key_id", "root CA", ca->root, &ca->root_key,
	    &ca->root_signer)) != 0)
		return r;
	*out = ca->root_signer;
	return 0;
}

void ca_ocsp_forget(struct tsr_ca *ca)
{
	tsr_signer_free(ca->ocsp_signer);
	tsr_p11_key_free(ca->ocsp_key);
	X509_free(ca->ocsp_cert);
	ca->ocsp_signer = NULL;
	ca->ocsp_key = NULL;
	ca->ocsp_cert = NULL;
}

/* Give lane l the key with id (found in its own session, opened now if
 * need be) and cert (a reference is taken). */
static int lane_load(struct tsr_ca *ca, struct tsr_p11_module *mod, struct ca_lane *l,
    const uint8_t *id, size_t id_len, X509 *cert)
{
	struct tsr_p11_uri uri;
	int r = 0;

	lane_clear(l);
	if (l->sess == NULL) {
		memset(&uri, 0, sizeof(uri));
		if ((r = tsr_p11_uri_parse(ca->cfg.ca.token_uri, &uri)) == 0)
			r = tsr_p11_open(mod, &uri, &l->sess);
		tsr_p11_uri_free(&uri);
		if (r != 0)
			return r;
	}
	if ((r = tsr_p11_key_find(l->sess, NULL, id, id_len, &l->key)) != 0 ||
	    (r = ca_signer_for(l->key, &l->signer)) != 0) {
		lane_clear(l);
		return r;
	}
	X509_up_ref(cert);
	l->cert = cert;
	return 0;
}

int ca_ocsp_lane_get(struct tsr_ca *ca, struct ca_lane **out)
{
	struct ca_lane *l = &ca->lanes[__atomic_fetch_add(&ca->next_lane, 1, __ATOMIC_RELAXED) %
	    CA_OCSP_LANES];
	struct tsr_p11_module *mod = NULL;
	struct tsr_signer *signer;
	uint8_t id[64];
	size_t id_len = 0;
	X509 *cert = NULL;
	const uint8_t *kid;
	int r;

	/* The current certificate and key id, through the main session. */
	pthread_mutex_lock(&ca->lock);
	if ((r = ca_ocsp_signer(ca, &signer, &cert)) == 0) {
		kid = tsr_p11_key_id(ca->ocsp_key, &id_len);
		if (id_len == 0 || id_len > sizeof(id))
			r = tsr_error(TSR_ERR_PKCS11, "the OCSP key has no usable CKA_ID");
		else
			memcpy(id, kid, id_len);
		X509_up_ref(cert);
		mod = ca->mod;
	}
	pthread_mutex_unlock(&ca->lock);
	if (r != 0)
		return r;
	pthread_mutex_lock(&l->lock);
	if (l->cert == NULL || X509_cmp(l->cert, cert) != 0)
		r = lane_load(ca, mod, l, id, id_len, cert);
	X509_free(cert);
	if (r != 0) {
		pthread_mutex_unlock(&l->lock);
		return r;
	}
	*out = l;
	return 0;
}

void ca_ocsp_lane_put(struct ca_lane *lane)
{
	pthread_mutex_unlock(&lane->lock);
}

int ca_ocsp_signer(struct tsr_ca *ca, struct tsr_signer **signer, X509 **cert)
{
	struct tsr_cert_record rec;
	const unsigned char *p;
	char *serial = NULL;
	int r;

	if (ca->sess == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the OCSP key is used before logging in");
	if (ca->ocsp_signer == NULL) {
		memset(&rec, 0, sizeof(rec));
		if ((r = tsr_store_meta_get(ca->store, "ocsp_serial", &serial)) != 0)
			return tsr_error_wrap(TSR_ERR_STORE, "the store does not name the OCSP "
			    "certificate");
		r = tsr_store_cert_get(ca->store, serial, &rec);
		free(serial);
		if (r != 0)
			return tsr_error_wrap(r, "the OCSP-signing certificate");
		p = rec.der;
		ca->ocsp_cert = d2i_X509(NULL, &p, (long)rec.der_len);
		tsr_cert_record_clear(&rec);
		if (ca->ocsp_cert == NULL)
			return tsr_error_openssl(TSR_ERR_STORE, "the stored OCSP-signing certificate");
		if ((r = find_key(ca, "ocsp_key_id", "OCSP responder", ca->ocsp_cert,
		    &ca->ocsp_key, &ca->ocsp_signer)) != 0) {
			ca_ocsp_forget(ca);
			return r;
		}
	}
	*signer = ca->ocsp_signer;
	*cert = ca->ocsp_cert;
	return 0;
}

static int find_issuing_key(struct tsr_ca *ca)
{
	uint8_t id[64];
	size_t id_len = 0;
	char *hex = NULL;
	int r;

	if ((r = tsr_store_meta_get(ca->store, "issuing_key_id", &hex)) != 0)
		return tsr_error_wrap(TSR_ERR_STORE, "the store does not name the issuing CA key");
	r = tsr_hex_decode(hex, id, sizeof(id), &id_len);
	free(hex);
	if (r != 0)
		return tsr_error_wrap(TSR_ERR_STORE, "issuing_key_id");
	if ((r = tsr_p11_key_find(ca->sess, NULL, id, id_len, &ca->issuing_key)) != 0)
		return tsr_error_wrap(r, "the issuing CA key is not on the token");
	if ((r = ca_check_key_protected(ca->issuing_key, "issuing CA")) != 0)
		return r;
	return ca_signer_for(ca->issuing_key, &ca->signer);
}

int tsr_ca_login(struct tsr_ca *ca, const char *actor)
{
	const struct tsr_ca_config *c = &ca->cfg.ca;
	EVP_PKEY *pub;
	char *pin = NULL;
	int r;

	if (ca->signer != NULL)
		return 0;
	if ((r = ca_read_pin(c->pin_file, &pin)) != 0)
		goto out;
	r = ca_token_open(c->pkcs11_module, c->softhsm_conf, c->token_uri, pin, &ca->mod,
	    &ca->sess);
	if (r == TSR_ERR_PIN)
		tsr_ca_audit(ca, actor, "token.login", c->token_uri, TSR_AUDIT_FAILURE, "%s",
		    tsr_error_detail());
	if (r != 0)
		goto out;
	if ((r = find_issuing_key(ca)) != 0)
		goto out;
	/* The key on the token must be the one the issuing certificate names. */
	if ((r = tsr_p11_key_public(ca->issuing_key, &pub)) != 0)
		goto out;
	if (EVP_PKEY_eq(pub, X509_get0_pubkey(ca->issuing)) != 1)
		r = tsr_error(TSR_ERR_PKCS11,
		    "the issuing CA key on the token does not match the issuing CA certificate");
	EVP_PKEY_free(pub);
out:
	tsr_free_secret(pin);
	if (r != 0)
		logout(ca);
	return r;
}
