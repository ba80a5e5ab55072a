/*
 * token.c - the subscriber's token: opening it with advice when something
 * is missing, the initial passcode, keys generated on it for a request,
 * CSRs and signatures made with them, and the certificates stored on it.
 * The conventions (ids, labels, the marker) are in docs/token.md.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "client/client.h"

/* ------------------------------------------------------------------ opening */
/* The module to load (see client.h). */
const char *tsr_client_module_path(const char *opt)
{
	const char *env = getenv(TSR_CLIENT_MODULE_ENV);

	if (opt != NULL && opt[0] != '\0')
		return opt;
	if (env != NULL && env[0] != '\0')
		return env;
	return TSR_CLIENT_DEFAULT_MODULE;
}

static int load_module(const char *path, struct tsr_client_token *t)
{
	int r = tsr_p11_module_load(path, &t->mod);

	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(r, "the PKCS#11 module %s does not exist: install your token's "
		    "module (for most smart cards and USB tokens: apt install opensc-pkcs11) or "
		    "give its path with --module (or $%s)", path, TSR_CLIENT_MODULE_ENV);
	if (r != 0)
		return tsr_error_wrap(r, "the PKCS#11 module %s does not load (give your token "
		    "vendor's module with --module)", path);
	return 0;
}

static int open_token(const char *uri_text, struct tsr_client_token *t)
{
	struct tsr_p11_uri uri;
	char why[512];
	int r;

	memset(&uri, 0, sizeof(uri));
	uri.slot_id = -1;
	if (uri_text != NULL && (r = tsr_p11_uri_parse(uri_text, &uri)) != 0)
		return tsr_error_wrap(r, "--token");
	r = tsr_p11_open(t->mod, uri_text ? &uri : NULL, &t->s);
	tsr_p11_uri_free(&uri);
	/* copied: tsr_error() overwrites it; without --token, "matches any
	 * token" would only puzzle */
	snprintf(why, sizeof(why), "%s", uri_text == NULL && r == TSR_ERR_NOT_FOUND ?
	    "no initialized PKCS#11 token is present" : tsr_error_detail()[0] ?
	    tsr_error_detail() : "no token found");
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(r, "%s: insert the token%s (is pcscd running? `pkcs11-tool "
		    "--module %s --list-slots` lists what the module sees)", why,
		    uri_text ? " or correct --token" : "", t->module);
	if (r == TSR_ERR_INVALID && uri_text == NULL)
		return tsr_error(r, "several tokens are present: choose one with --token "
		    "'pkcs11:serial=SERIAL' (`pkcs11-tool --module %s --list-token-slots` shows "
		    "their serials)", t->module);
	if (r == TSR_ERR_INVALID)
		return tsr_error(r, "%s (--token)", why);
	return r;
}

/* Is the CA's initial-passcode marker on the token? */
static int find_marker(struct tsr_client_token *t)
{
	struct tsr_p11_object *objs;
	size_t n;
	int r;

	if ((r = tsr_p11_objects(t->s, &objs, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (objs[i].cls == TSR_P11_DATA &&
		    strcmp(objs[i].application, TSR_CLIENT_MARKER_APP) == 0 &&
		    strcmp(objs[i].label, TSR_CLIENT_MARKER_LABEL) == 0)
			t->marker = true;
	tsr_p11_objects_free(objs, n);
	return 0;
}

/* Load the module and open the token (see client.h). */
int tsr_client_token_open(const char *module, const char *uri, struct tsr_client_token *t)
{
	int r;

	memset(t, 0, sizeof(*t));
	snprintf(t->module, sizeof(t->module), "%s", tsr_client_module_path(module));
	if ((r = load_module(t->module, t)) != 0 || (r = open_token(uri, t)) != 0 ||
	    (r = tsr_p11_token_info(t->s, &t->info)) != 0 || (r = find_marker(t)) != 0)
		tsr_client_token_close(t);
	return r;
}

void tsr_client_token_close(struct tsr_client_token *t)
{
	tsr_p11_close(t->s);
	tsr_p11_module_unload(t->mod);
	t->s = NULL;
	t->mod = NULL;
}

/* ------------------------------------------------------------------ the passcode */
/* Whether the passcode is still the initial one (see client.h). */
bool tsr_client_initial_passcode(const struct tsr_client_token *t, const char **why)
{
	*why = "";
	if (t->info.user_pin_to_be_changed)
		*why = "the token says so (CKF_USER_PIN_TO_BE_CHANGED)";
	else if (t->marker)
		*why = "the CA's marker \"" TSR_CLIENT_MARKER_LABEL "\" is still on the token";
	return (*why)[0] != '\0';
}

/* Log in (see client.h). */
int tsr_client_login(struct tsr_client_token *t, const char *passcode)
{
	int r;

	if (t->info.user_pin_locked)
		return tsr_error(TSR_ERR_PIN, "the token's passcode is locked after too many wrong "
		    "tries: the token's security officer (the CA, for a token it shipped) must "
		    "unlock it");
	r = tsr_p11_login(t->s, passcode);
	if (r == TSR_ERR_PIN)
		return tsr_error_wrap(r, "the token refused the passcode");
	return r;
}

/* Change the passcode, then remove the marker (see client.h). */
int tsr_client_change_passcode(struct tsr_client_token *t, const char *old_pin,
    const char *new_pin)
{
	const char *why;
	int r, n = 0;

	if (strcmp(old_pin, new_pin) == 0 && tsr_client_initial_passcode(t, &why))
		return tsr_error(TSR_ERR_POLICY, "the new passcode must differ from the initial one");
	if ((r = tsr_p11_set_pin(t->s, old_pin, new_pin)) == TSR_ERR_PIN)
		return tsr_error_wrap(r, "the token refused to change the passcode");
	if (r != 0)
		return r;
	/* the new passcode works, and some tokens destroy only after login */
	if ((r = tsr_client_login(t, new_pin)) != 0)
		return tsr_error_wrap(r, "the passcode was changed, but logging in with the new one "
		    "failed");
	if ((r = tsr_p11_data_destroy(t->s, TSR_CLIENT_MARKER_APP, TSR_CLIENT_MARKER_LABEL,
	    &n)) != 0)
		return tsr_error_wrap(r, "the passcode was changed, but the initial-passcode marker "
		    "could not be removed");
	t->marker = false;
	return tsr_p11_token_info(t->s, &t->info);
}

/* ------------------------------------------------------------------ keys */
/* The key id of pub (see client.h). */
int tsr_client_key_id(EVP_PKEY *pub, uint8_t id[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	int len, r = 0;

	if (X509_PUBKEY_set(&xpk, pub) != 1 ||
	    X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk) != 1 || len <= 0)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the public key");
	else if (SHA1(bits, (size_t)len, id) == NULL)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "SHA-1 failed");
	X509_PUBKEY_free(xpk);
	return r;
}

static int token_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	return tsr_p11_key_sign(ctx, in, inlen, out, outlen);
}

void tsr_client_key_free(struct tsr_client_key *key)
{
	tsr_signer_free(key->signer);
	EVP_PKEY_free(key->pub);
	tsr_p11_key_free(key->k);
	memset(key, 0, sizeof(*key));
}

/* The public half and a signer for key->k. */
static int key_complete(struct tsr_client_key *key, const uint8_t *id, size_t id_len)
{
	int r;

	memcpy(key->id, id, id_len);
	key->id_len = id_len;
	if ((r = tsr_p11_key_public(key->k, &key->pub)) != 0 ||
	    (r = tsr_signer_new(key->pub, token_sign, key->k, &key->signer)) != 0)
		tsr_client_key_free(key);
	return r;
}

/* The key with this id (see client.h). */
int tsr_client_key_by_id(struct tsr_client_token *t, const uint8_t *id, size_t id_len,
    struct tsr_client_key *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = tsr_p11_key_find(t->s, NULL, id, id_len, &out->k)) != 0)
		return r;
	return key_complete(out, id, id_len);
}

/* Generate a pending key of type, then give both halves its key id. */
static int key_generate(struct tsr_client_token *t, enum tsr_key_type type,
    struct tsr_client_key *out)
{
	uint8_t tmp[20], id[20];
	struct tsr_p11_key *k = NULL;
	EVP_PKEY *pub = NULL;
	int r, n = 0;

	if ((r = tsr_random(tmp, sizeof(tmp))) != 0 ||
	    (r = tsr_p11_keygen(t->s, type, TSR_CLIENT_PENDING_LABEL, tmp, sizeof(tmp), &k)) != 0)
		return r;
	r = tsr_p11_key_public(k, &pub);
	if (r == 0)
		r = tsr_client_key_id(pub, id);
	EVP_PKEY_free(pub);
	if (r != 0) {
		if (tsr_p11_key_destroy(k) != 0)
			tsr_log(TSR_LOG_WARN, "cannot remove the key just generated");
		tsr_p11_key_free(k);
		return r;
	}
	tsr_p11_key_free(k);
	/* A card that fixes its ids (PIV slots) refuses: the key keeps its
	 * own id, and the certificate is stored under it all the same. */
	if (tsr_p11_objects_rename(t->s, tmp, sizeof(tmp), id, sizeof(id), NULL, &n) != 0) {
		tsr_log(TSR_LOG_WARN, "the token keeps its own key id: %s", tsr_error_detail());
		return tsr_client_key_by_id(t, tmp, sizeof(tmp), out);
	}
	return tsr_client_key_by_id(t, id, sizeof(id), out);
}

/* Take the pending key k if it is of a type asked for and protected as
 * ours are; else destroy it: it has no certificate and can get none. */
static int pending_take(struct tsr_client_token *t, struct tsr_p11_key *k, unsigned types,
    struct tsr_client_key *out, bool *taken)
{
	struct tsr_p11_key_attrs at;
	const uint8_t *id;
	size_t id_len;
	int r;

	*taken = false;
	id = tsr_p11_key_id(k, &id_len);
	if ((types & (1u << tsr_p11_key_type(k))) != 0 && id_len > 0 &&
	    tsr_p11_key_attrs(k, &at) == 0 && at.sensitive && !at.extractable) {
		*taken = true;
		if ((r = tsr_client_key_by_id(t, id, id_len, out)) == 0)
			out->reused = true;
		return r;
	}
	tsr_log(TSR_LOG_INFO, "removing the unusable pending key (%s) left on the token",
	    tsr_key_type_name(tsr_p11_key_type(k)));
	return tsr_p11_key_destroy(k);
}

/* The pending key, or a new one (see client.h). */
int tsr_client_key_pending(struct tsr_client_token *t, unsigned types,
    enum tsr_key_type preferred, struct tsr_client_key *out)
{
	struct tsr_p11_key *k = NULL;
	bool taken = false;
	int r;

	memset(out, 0, sizeof(*out));
	r = tsr_p11_key_find(t->s, TSR_CLIENT_PENDING_LABEL, NULL, 0, &k);
	if (r == TSR_ERR_INVALID)
		return tsr_error(r, "several keys on the token are labelled '%s' (left by "
		    "interrupted attempts): remove all but one with pkcs11-tool --delete-object",
		    TSR_CLIENT_PENDING_LABEL);
	if (r == 0) {
		r = pending_take(t, k, types, out, &taken);
		tsr_p11_key_free(k);
		if (r != 0 || taken)
			return r;
	} else if (r != TSR_ERR_NOT_FOUND && r != TSR_ERR_KEY) {
		return r;
	}
	tsr_error_clear();
	return key_generate(t, preferred, out);
}

/* ------------------------------------------------------------------ signing */
/* A CSR signed by key (see client.h). */
int tsr_client_csr(struct tsr_client_key *key, uint8_t **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_REQ *check = NULL;
	unsigned char *p = NULL;
	int n = 0, r;

	*der = NULL;
	*len = 0;
	if (req == NULL || name == NULL || X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Tessera token key", -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 || X509_REQ_set_pubkey(req, key->pub) != 1) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot build the certificate request");
		goto out;
	}
	if (X509_REQ_sign(req, tsr_signer_pkey(key->signer), tsr_signer_md(key->signer)) <= 0 ||
	    (n = i2d_X509_REQ(req, &p)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_PKCS11, "the token could not sign the certificate "
		    "request");
		goto out;
	}
	/* what the server will check: it parses and its signature verifies */
	if ((r = tsr_csr_parse(p, (size_t)n, &check)) != 0)
		goto out;
	*der = p;
	*len = (size_t)n;
	p = NULL;
out:
	X509_REQ_free(check);
	OPENSSL_free(p);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

/* Sign msg for Test My Certificate (see client.h). */
int tsr_client_sign(struct tsr_client_key *key, const uint8_t *msg, size_t len, uint8_t **sig,
    size_t *sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *out = NULL;
	size_t n = 0;
	int r = 0;

	*sig = NULL;
	*sig_len = 0;
	if (md == NULL || EVP_DigestSignInit(md, NULL, tsr_signer_md(key->signer), NULL,
	    tsr_signer_pkey(key->signer)) != 1 ||
	    EVP_DigestSign(md, NULL, &n, msg, len) != 1 || (out = OPENSSL_malloc(n)) == NULL ||
	    EVP_DigestSign(md, out, &n, msg, len) != 1) {
		r = tsr_error_openssl(TSR_ERR_PKCS11, "the token could not sign the test message");
		OPENSSL_free(out);
		goto out;
	}
	*sig = out;
	*sig_len = n;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/* ------------------------------------------------------------------ certificates */
void tsr_client_certs_free(struct tsr_client_cert *c, size_t n)
{
	for (size_t i = 0; c != NULL && i < n; i++)
		X509_free(c[i].x);
	free(c);
}

static bool key_with_id(const struct tsr_p11_object *objs, size_t n, const uint8_t *id,
    size_t id_len)
{
	for (size_t i = 0; i < n; i++)
		if ((objs[i].cls == TSR_P11_PRIVATE_KEY || objs[i].cls == TSR_P11_PUBLIC_KEY) &&
		    id_len > 0 && objs[i].id_len == id_len && memcmp(objs[i].id, id, id_len) == 0)
			return true;
	return false;
}

/* Every certificate on the token (see client.h). */
int tsr_client_certs(struct tsr_client_token *t, struct tsr_client_cert **out, size_t *count)
{
	struct tsr_p11_object *objs;
	struct tsr_client_cert *c;
	size_t n, k = 0;
	int r;

	*out = NULL;
	*count = 0;
	if ((r = tsr_p11_objects(t->s, &objs, &n)) != 0)
		return r;
	if ((c = calloc(n ? n : 1, sizeof(*c))) == NULL) {
		tsr_p11_objects_free(objs, n);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = objs[i].der;

		if (objs[i].cls != TSR_P11_CERTIFICATE || p == NULL ||
		    (c[k].x = d2i_X509(NULL, &p, (long)objs[i].der_len)) == NULL)
			continue;
		memcpy(c[k].id, objs[i].id, objs[i].id_len);
		c[k].id_len = objs[i].id_len;
		snprintf(c[k].label, sizeof(c[k].label), "%s", objs[i].label);
		c[k].has_key = key_with_id(objs, n, objs[i].id, objs[i].id_len);
		c[k].is_ca = X509_check_ca(c[k].x) > 0;
		k++;
	}
	ERR_clear_error();
	tsr_p11_objects_free(objs, n);
	*out = c;
	*count = k;
	return 0;
}

static bool valid_at(X509 *x, time_t now)
{
	return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(x), &now) > 0;
}

/* Why no certificate qualifies, as advice. */
static int none_current(size_t subscriber, size_t with_key, bool by_id)
{
	if (by_id)
		return tsr_error(TSR_ERR_NOT_FOUND, "no certificate with that --id and a key beside "
		    "it is on the token (`tessera token show` lists them)");
	if (subscriber == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "no certificate is on the token: retrieve one "
		    "first (tessera token retrieve)");
	if (with_key == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "no certificate on the token has its key beside "
		    "it (log in to see private keys)");
	return tsr_error(TSR_ERR_POLICY, "no certificate on the token is valid now (`tessera "
	    "token show` says why): an expired certificate cannot be renewed; apply again");
}

/* The certificate to use (see client.h). */
int tsr_client_current(struct tsr_client_token *t, const uint8_t *id, size_t id_len, X509 **out)
{
	struct tsr_client_cert *c, *best = NULL;
	size_t n, subscriber = 0, with_key = 0;
	time_t now = tsr_now();
	int r;

	*out = NULL;
	if ((r = tsr_client_certs(t, &c, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (c[i].is_ca)
			continue;
		subscriber++;
		if (!c[i].has_key || (id_len > 0 && (c[i].id_len != id_len ||
		    memcmp(c[i].id, id, id_len) != 0)))
			continue;
		with_key++;
		if (!valid_at(c[i].x, now))
			continue;
		if (best == NULL || ASN1_TIME_compare(X509_get0_notAfter(c[i].x),
		    X509_get0_notAfter(best->x)) > 0)
			best = &c[i];
	}
	if (best == NULL)
		r = none_current(subscriber, with_key, id_len > 0 && with_key == 0);
	else if (X509_up_ref(best->x) == 1)
		*out = best->x;
	else
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	tsr_client_certs_free(c, n);
	return r;
}

/* ------------------------------------------------------------------ trust */
/* Load every certificate of a PEM file (see client.h). */
int tsr_client_load_pem(const char *path, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int r = 0;

	*out = NULL;
	if (sk == NULL || bio == NULL) {
		r = tsr_error_openssl(TSR_ERR_IO, "cannot read %s", path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= TSR_EST_CERTS_MAX || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			r = tsr_error(TSR_ERR_TOO_LARGE, "%s holds over %d certificates", path,
			    TSR_EST_CERTS_MAX);
			goto out;
		}
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		r = tsr_error(TSR_ERR_PARSE, "%s holds no PEM certificate", path);
		goto out;
	}
	*out = sk;
	sk = NULL;
out:
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

/* Check cert's chain to the roots of ca_file (see client.h). */
int tsr_client_verify_chain(X509 *cert, STACK_OF(X509) *chain, const char *ca_file, time_t now)
{
	STACK_OF(X509) *roots = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	if (store == NULL || ctx == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = tsr_client_load_pem(ca_file, &roots)) != 0)
		goto out;
	for (int i = 0; i < sk_X509_num(roots); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot use %s", ca_file);
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, cert, chain) != 1) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot check the certificate chain");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (X509_verify_cert(ctx) != 1)
		r = tsr_error(TSR_ERR_SIGNATURE, "the certificate does not chain to the root in %s: "
		    "%s", ca_file, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(roots, X509_free);
	return r;
}
