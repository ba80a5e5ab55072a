/*
 * flow.c - the subscriber's journeys that use the token and the server
 * together: retrieval (EST simpleenroll), renewal (simplereenroll over
 * mutual TLS), Test My Certificate, and the subscriber's own revocation
 * (signed on the token, or with the account's secrets for a lost token).
 *
 * Order matters for "nothing stored half-way": every check on what the
 * server sent (the certificate is for the token key, it chains to the
 * trusted root) runs before anything is written to the token, and a key
 * whose certificate is not stored yet carries the pending label, so that
 * an interrupted retrieval picks the same key up again (the server
 * answers the same code and key with the same certificate).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "client/client.h"

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tsr_client_issued_clear(struct tsr_client_issued *r)
{
	X509_free(r->cert);
	sk_X509_pop_free(r->chain, X509_free);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ checking the answer */
/* The certificate of certs whose public key is key's; the others are CA
 * certificates, added to chain.  TSR_ERR_KEY if none is for the key. */
static int pick_cert(STACK_OF(X509) *certs, EVP_PKEY *key, X509 **cert, STACK_OF(X509) *chain)
{
	*cert = NULL;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		EVP_PKEY *pk = X509_get0_pubkey(x);

		if (*cert == NULL && pk != NULL && EVP_PKEY_eq(pk, key) == 1) {
			if (X509_up_ref(x) != 1)
				return tsr_error(TSR_ERR_NOMEM, "out of memory");
			*cert = x;
		} else if (X509_check_ca(x) > 0) {
			if (X509_up_ref(x) != 1 || sk_X509_push(chain, x) <= 0) {
				X509_free(x);
				return tsr_error(TSR_ERR_NOMEM, "out of memory");
			}
		}
	}
	ERR_clear_error();
	if (*cert == NULL)
		return tsr_error(TSR_ERR_KEY, "the server's answer holds no certificate for the key "
		    "on the token: nothing was stored");
	return 0;
}

/* Add every CA certificate of more to chain that it does not hold yet. */
static int chain_add(STACK_OF(X509) *chain, STACK_OF(X509) *more)
{
	for (int i = 0; i < sk_X509_num(more); i++) {
		X509 *x = sk_X509_value(more, i);
		bool have = false;

		for (int j = 0; j < sk_X509_num(chain) && !have; j++)
			have = X509_cmp(x, sk_X509_value(chain, j)) == 0;
		if (have || X509_check_ca(x) <= 0)
			continue;
		if (X509_up_ref(x) != 1 || sk_X509_push(chain, x) <= 0) {
			X509_free(x);
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		}
	}
	ERR_clear_error();
	return 0;
}

/* A transfer that broke off, or a server that failed: the key stays
 * pending, and the same command completes it (the server answers the same
 * key with the same certificate). */
static int pending_hint(int r)
{
	char why[800];

	snprintf(why, sizeof(why), "%s", tsr_error_detail());
	return tsr_error(r, "%s; the new key stays on the token as \"%s\": run the same command "
	    "again (once the server answers) to complete it", why, TSR_CLIENT_PENDING_LABEL);
}

/* Enroll (or re-enroll) key, and check the answer: out gets the
 * certificate and the CA chain, which chains to est's trusted root. */
static int enroll(struct tsr_client_token *t, const struct tsr_est *est, bool reenroll,
    struct tsr_client_key *key, struct tsr_client_issued *out)
{
	STACK_OF(X509) *certs = NULL, *cacerts = NULL;
	uint8_t *csr = NULL;
	size_t csr_len;
	double t0 = seconds();
	int r;

	if ((r = tsr_client_csr(key, &csr, &csr_len)) != 0)
		goto out;
	out->t.csr = seconds() - t0;
	t0 = seconds();
	if ((r = tsr_est_enroll(est, reenroll, csr, csr_len, &t->info, &certs)) != 0 ||
	    (r = tsr_est_cacerts(est, &cacerts)) != 0) {
		if (r == TSR_ERR_IO)
			r = pending_hint(r);
		goto out;
	}
	out->t.est += seconds() - t0;   /* after csrattrs, for a retrieval */
	if ((out->chain = sk_X509_new_null()) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pick_cert(certs, key->pub, &out->cert, out->chain)) != 0 ||
	    (r = chain_add(out->chain, cacerts)) != 0)
		goto out;
	if ((r = tsr_client_verify_chain(out->cert, out->chain, est->tls.ca_file, tsr_now())) != 0)
		r = tsr_error_wrap(r, "the server's certificate was not stored");
out:
	OPENSSL_free(csr);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(cacerts, X509_free);
	return r;
}

/* ------------------------------------------------------------------ storing */
/* Is der on the token under id already? */
static bool stored_already(struct tsr_client_token *t, const uint8_t *id, size_t id_len,
    const uint8_t *der, size_t der_len)
{
	uint8_t *have = NULL;
	size_t have_len = 0;
	bool same;

	if (tsr_p11_cert_find(t->s, id, id_len, &have, &have_len) != 0) {
		tsr_error_clear();
		return false;
	}
	same = have_len == der_len && memcmp(have, der, der_len) == 0;
	free(have);
	return same;
}

/* Store x under id with label unless it is there; *stored says if it was. */
static int store_cert(struct tsr_client_token *t, X509 *x, const uint8_t *id, size_t id_len,
    const char *label, bool *stored)
{
	uint8_t *der = NULL;
	int n = i2d_X509(x, &der), r = 0;

	*stored = false;
	if (n <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode a certificate");
	if (!stored_already(t, id, id_len, der, (size_t)n)) {
		r = tsr_p11_cert_store(t->s, label, id, id_len, der, (size_t)n);
		*stored = r == 0;
	}
	OPENSSL_free(der);
	return r;
}

/* The CA certificates beside the subscriber's, each under its own key id
 * (its subject key identifier), so `tessera sign` can carry the chain. */
static int store_chain(struct tsr_client_token *t, struct tsr_client_issued *out)
{
	for (int i = 0; i < sk_X509_num(out->chain); i++) {
		X509 *x = sk_X509_value(out->chain, i);
		const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
		bool stored;
		int r;

		if (ski == NULL || ASN1_STRING_length(ski) <= 0 || ASN1_STRING_length(ski) > 64)
			continue;
		if ((r = store_cert(t, x, ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski),
		    TSR_CLIENT_CA_LABEL, &stored)) != 0)
			return r;
		out->ca_stored += stored;
	}
	return 0;
}

/* "Tessera <CN>" (or "Tessera certificate") for the key and certificate. */
static void cert_label(X509 *x, char *out, size_t size)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	ASN1_STRING *cn = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
	unsigned char *utf8 = NULL;
	int n = cn != NULL ? ASN1_STRING_to_UTF8(&utf8, cn) : -1;

	if (n > 0 && n < 100 && memchr(utf8, '\0', (size_t)n) == NULL)
		snprintf(out, size, TSR_CLIENT_LABEL_PREFIX "%.*s", n, (const char *)utf8);
	else
		snprintf(out, size, TSR_CLIENT_LABEL_PREFIX "certificate");
	OPENSSL_free(utf8);
}

/* Store the certificate and chain, read it back, compare, then give the
 * key pair its final label. */
static int store(struct tsr_client_token *t, struct tsr_client_key *key,
    struct tsr_client_issued *out)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	char label[160];
	X509 *back = NULL;
	bool stored;
	int r, n;

	cert_label(out->cert, label, sizeof(label));
	if ((r = store_cert(t, out->cert, key->id, key->id_len, label, &stored)) != 0 ||
	    (r = store_chain(t, out)) != 0)
		return r;
	out->already_stored = !stored;
	/* the check the issue asks for: what the token holds is for its key */
	if ((r = tsr_p11_cert_find(t->s, key->id, key->id_len, &der, &der_len)) != 0)
		return tsr_error_wrap(r, "the certificate just stored cannot be read back");
	p = der;
	back = d2i_X509(NULL, &p, (long)der_len);
	if (back == NULL || X509_cmp(back, out->cert) != 0 ||
	    EVP_PKEY_eq(X509_get0_pubkey(back), key->pub) != 1)
		r = tsr_error(TSR_ERR_KEY, "the certificate read back from the token is not the one "
		    "stored for its key");
	else
		r = tsr_p11_objects_rename(t->s, key->id, key->id_len, NULL, 0, label, &n);
	ERR_clear_error();
	X509_free(back);
	free(der);
	memcpy(out->id, key->id, key->id_len);
	out->id_len = key->id_len;
	return r;
}

/* ------------------------------------------------------------------ retrieval */
/* The key type to generate: what csrattrs asks for, else P-256. */
static int key_types(const struct tsr_est *est, unsigned *types, enum tsr_key_type *preferred)
{
	struct tsr_est_csrattrs a;
	int r;

	if ((r = tsr_est_csrattrs(est, &a)) != 0)
		return r;
	if (a.n_attrs == 0) {
		*types = 1u << TSR_KEY_EC_P256;
		*preferred = TSR_KEY_EC_P256;
		return 0;
	}
	if (a.key_types == 0)
		return tsr_error(TSR_ERR_KEY, "the server asks for no key type this client can make "
		    "(P-256, P-384, RSA 2048/3072/4096)");
	*types = a.key_types;
	*preferred = a.preferred;
	return 0;
}

/* Retrieval (see client.h). */
int tsr_client_retrieve(struct tsr_client_token *t, const struct tsr_est *est,
    struct tsr_client_issued *out)
{
	struct tsr_client_key key;
	enum tsr_key_type preferred = TSR_KEY_NONE;
	unsigned types = 0;
	const char *why;
	double start = seconds(), t0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&key, 0, sizeof(key));
	if (tsr_client_initial_passcode(t, &why))
		return tsr_error(TSR_ERR_POLICY, "the token still has its initial passcode (%s): "
		    "change it first with `tessera token passcode`", why);
	t0 = seconds();
	if ((r = key_types(est, &types, &preferred)) != 0)
		return r;
	out->t.est = seconds() - t0;
	t0 = seconds();
	if ((r = tsr_client_key_pending(t, types, preferred, &key)) != 0)
		return r;
	out->t.keygen = seconds() - t0;
	out->key_reused = key.reused;
	if ((r = enroll(t, est, false, &key, out)) != 0)
		goto out;
	t0 = seconds();
	r = store(t, &key, out);
	out->t.store = seconds() - t0;
out:
	out->t.total = seconds() - start;
	tsr_client_key_free(&key);
	return r;
}

/* ------------------------------------------------------------------ renewal */
/* The id (CKA_ID) the current certificate x is stored under. */
static int cert_id(struct tsr_client_token *t, X509 *x, uint8_t *id, size_t *id_len)
{
	struct tsr_client_cert *c;
	size_t n;
	int r;

	*id_len = 0;
	if ((r = tsr_client_certs(t, &c, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && *id_len == 0; i++)
		if (c[i].has_key && X509_cmp(c[i].x, x) == 0) {
			memcpy(id, c[i].id, c[i].id_len);
			*id_len = c[i].id_len;
		}
	tsr_client_certs_free(c, n);
	if (*id_len == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "the current certificate has no id on the token");
	return 0;
}

/* The current certificate and its key (logged in). */
static int current_key(struct tsr_client_token *t, const uint8_t *want, size_t want_len,
    X509 **cert, struct tsr_client_key *key)
{
	uint8_t id[64];
	size_t id_len;
	int r;

	memset(key, 0, sizeof(*key));
	if ((r = tsr_client_current(t, want, want_len, cert)) != 0)
		return r;
	if ((r = cert_id(t, *cert, id, &id_len)) != 0 ||
	    (r = tsr_client_key_by_id(t, id, id_len, key)) != 0 ||
	    (EVP_PKEY_eq(X509_get0_pubkey(*cert), key->pub) != 1 &&
	    (r = tsr_error(TSR_ERR_KEY, "the key stored beside the current certificate is not "
	    "its key")) != 0)) {
		X509_free(*cert);
		*cert = NULL;
		tsr_client_key_free(key);
	}
	return r;
}

/* The CA certificates stored on the token (for the TLS client chain). */
static int token_cas(struct tsr_client_token *t, STACK_OF(X509) **out)
{
	struct tsr_client_cert *c;
	size_t n;
	int r;

	if ((*out = sk_X509_new_null()) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = tsr_client_certs(t, &c, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		if (c[i].is_ca && (X509_up_ref(c[i].x) != 1 || sk_X509_push(*out, c[i].x) <= 0)) {
			X509_free(c[i].x);
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		}
	tsr_client_certs_free(c, n);
	return r;
}

/* Renewal (see client.h). */
int tsr_client_renew(struct tsr_client_token *t, struct tsr_est *est, const uint8_t *id,
    size_t id_len, bool keep_old, struct tsr_client_issued *out)
{
	struct tsr_client_key old, key;
	STACK_OF(X509) *cas = NULL;
	X509 *cur = NULL;
	double start = seconds(), t0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&key, 0, sizeof(key));
	if ((r = current_key(t, id, id_len, &cur, &old)) != 0)
		return r;
	if ((r = token_cas(t, &cas)) != 0)
		goto out;
	t0 = seconds();
	if ((r = tsr_client_key_pending(t, 1u << tsr_p11_key_type(old.k),
	    tsr_p11_key_type(old.k), &key)) != 0)
		goto out;
	out->t.keygen = seconds() - t0;
	out->key_reused = key.reused;
	est->tls.cert = cur;
	est->tls.key = tsr_signer_pkey(old.signer);
	est->tls.chain = cas;
	r = enroll(t, est, true, &key, out);
	est->tls.cert = NULL;
	est->tls.key = NULL;
	est->tls.chain = NULL;
	if (r != 0)
		goto out;
	t0 = seconds();
	if ((r = store(t, &key, out)) != 0)
		goto out;
	/* the new certificate is on the token: only now may the old one go */
	if (!keep_old && (r = tsr_p11_destroy_by_id(t->s, old.id, old.id_len,
	    &out->old_removed)) != 0)
		r = tsr_error_wrap(r, "the new certificate is stored, but the old key and "
		    "certificate could not be removed");
	out->t.store = seconds() - t0;
out:
	out->t.total = seconds() - start;
	sk_X509_pop_free(cas, X509_free);
	X509_free(cur);
	tsr_client_key_free(&old);
	tsr_client_key_free(&key);
	return r;
}

/* ------------------------------------------------------------------ test my certificate */
static int post_json(const struct tsr_est *e, const char *path, const char *body,
    struct tsr_client_response *r)
{
	char url[1100];
	struct tsr_client_request rq = { .method = "POST", .url = url, .tls = &e->tls,
		.content_type = body ? "application/json" : NULL, .body = (const uint8_t *)body,
		.body_len = body ? strlen(body) : 0 };

	snprintf(url, sizeof(url), "%s%s", e->api, path);
	return tsr_client_http(&rq, r);
}

static int expect_json(const struct tsr_client_response *r, long status, const char *what)
{
	if (r->status != status)
		return tsr_client_http_error(r, what);
	if (strcmp(r->content_type, "application/json") != 0)
		return tsr_error(TSR_ERR_PARSE, "%s: the server answered with Content-Type '%s'",
		    what, r->content_type);
	return 0;
}

/* A fresh nonce and the message to sign (the request has no body). */
static int get_nonce(const struct tsr_est *est, char **message, char **nonce)
{
	struct tsr_client_response r;
	int rc;

	if ((rc = post_json(est, "test-my-cert/nonce", NULL, &r)) != 0)
		return rc;
	if ((rc = expect_json(&r, 201, "test nonce")) == 0)
		rc = tsr_client_parse_nonce(r.body.data, r.body.len, message, nonce);
	tsr_client_response_free(&r);
	return rc;
}

/* The request body: nonce, PEM certificate, base64 signature. */
static int test_body(const char *nonce, X509 *cert, const uint8_t *sig, size_t sig_len,
    char **out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL, *b64 = NULL;
	size_t b64_len;
	long n;
	json_t *j = NULL;
	int r = 0;

	*out = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	if ((r = tsr_base64_encode(sig, sig_len, 0, &b64, &b64_len)) != 0)
		goto out;
	j = json_pack("{s:s, s:s%, s:s}", "nonce", nonce, "certificate", pem, (size_t)n,
	    "signature", b64);
	if (j == NULL || (*out = json_dumps(j, JSON_COMPACT)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	json_decref(j);
	free(b64);
	BIO_free(bio);
	return r;
}

/* Test My Certificate (see client.h). */
int tsr_client_test(struct tsr_client_token *t, const struct tsr_est *est, const uint8_t *id,
    size_t id_len, struct tsr_client_test_result *out)
{
	struct tsr_client_response r;
	struct tsr_client_key key;
	char *message = NULL, *nonce = NULL, *body = NULL;
	uint8_t *sig = NULL;
	size_t sig_len;
	X509 *cert = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = current_key(t, id, id_len, &cert, &key)) != 0)
		return rc;
	if ((rc = get_nonce(est, &message, &nonce)) != 0 ||
	    (rc = tsr_client_sign(&key, (const uint8_t *)message, strlen(message), &sig,
	    &sig_len)) != 0 || (rc = test_body(nonce, cert, sig, sig_len, &body)) != 0)
		goto out;
	if ((rc = post_json(est, "test-my-cert", body, &r)) != 0)
		goto out;
	if ((rc = expect_json(&r, 200, "test my certificate")) == 0)
		rc = tsr_client_parse_test_result(r.body.data, r.body.len, out);
	tsr_client_response_free(&r);
out:
	free(message);
	free(nonce);
	free(body);
	OPENSSL_free(sig);
	X509_free(cert);
	tsr_client_key_free(&key);
	return rc;
}

/* ------------------------------------------------------------------ revocation */
/* The serial as the CA keeps it (see client.h). */
int tsr_client_cert_serial(X509 *x, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t bytes[20];
	int n = bn != NULL ? BN_num_bytes(bn) : 0, r = 0;

	out[0] = '\0';
	if (bn == NULL || BN_is_negative(bn) || n <= 0 || n > (int)sizeof(bytes) ||
	    BN_bn2bin(bn, bytes) != n)
		r = tsr_error(TSR_ERR_INVALID, "the certificate's serial is not one a CA gives "
		    "(1 to 20 octets, positive)");
	else
		tsr_hex_encode(bytes, (size_t)n, out);
	BN_free(bn);
	ERR_clear_error();
	return r;
}

/* Text from the server into out (size bytes): printable ASCII only. */
static void printable_copy(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* An action this client sends, and the reason the message names: a
 * word of letters (no space can end up in the signed message). */
static int revocation_check(const struct tsr_client_revocation *rv, const char **reason)
{
	size_t n;

	if (rv == NULL || rv->action == NULL || (strcmp(rv->action, "revoke") != 0 &&
	    strcmp(rv->action, "suspend") != 0))
		return tsr_error(TSR_ERR_INVALID, "the action is revoke or suspend");
	*reason = strcmp(rv->action, "suspend") == 0 ? "certificateHold" : rv->reason;
	if (strcmp(rv->action, "suspend") == 0 && rv->reason != NULL)
		return tsr_error(TSR_ERR_INVALID, "a suspension takes no reason");
	n = *reason != NULL ? strlen(*reason) : 0;
	if (n == 0 || n > 31 || strspn(*reason, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz") != n)
		return tsr_error(TSR_ERR_INVALID, "a revocation reason is an RFC 5280 name such as "
		    "keyCompromise");
	return 0;
}

/* The certificate's status from a 200 answer. */
static int status_parse(const struct tsr_client_response *r, struct tsr_client_cert_status *out)
{
	json_t *doc = json_loadb((const char *)r->body.data, r->body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	const char *serial = json_string_value(json_object_get(doc, "serial"));
	const char *status = json_string_value(json_object_get(doc, "status"));
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (serial == NULL || status == NULL)
		rc = tsr_error(TSR_ERR_PARSE, "the server's answer lacks the certificate's status");
	else {
		printable_copy(out->serial, sizeof(out->serial), serial);
		printable_copy(out->status, sizeof(out->status), status);
		printable_copy(out->reason, sizeof(out->reason),
		    json_string_value(json_object_get(doc, "reason")));
		printable_copy(out->revoked_at, sizeof(out->revoked_at),
		    json_string_value(json_object_get(doc, "revoked_at")));
	}
	json_decref(doc);
	return rc;
}

/* POST body (NULL: none) to path and expect a JSON answer of status. */
static int post_expect(const struct tsr_est *est, const char *path, const char *body,
    long status, const char *what, struct tsr_client_response *r)
{
	int rc;

	if ((rc = post_json(est, path, body, r)) != 0)
		return rc;
	if ((rc = expect_json(r, status, what)) != 0)
		tsr_client_response_free(r);
	return rc;
}

/* {action, reason} as JSON text (free()). */
static int action_json(const struct tsr_client_revocation *rv, char **out)
{
	json_t *j = json_pack("{s:s}", "action", rv->action);

	*out = NULL;
	if (j != NULL && rv->reason != NULL &&
	    json_object_set_new(j, "reason", json_string(rv->reason)) != 0) {
		json_decref(j);
		j = NULL;
	}
	if (j != NULL)
		*out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return *out != NULL ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* A nonce for a signed revocation, and the message: the client builds the
 * message and refuses a server that asks to sign anything else. */
static int revocation_nonce(const struct tsr_est *est, const char *serial,
    const struct tsr_client_revocation *rv, const char *reason, char **nonce, char **message)
{
	struct tsr_client_response r;
	char path[128], *body = NULL;
	const char *n, *m;
	json_t *doc = NULL;
	size_t len;
	int rc;

	*nonce = *message = NULL;
	snprintf(path, sizeof(path), "certificates/%s/subscriber-revocation/nonce", serial);
	if ((rc = action_json(rv, &body)) != 0 ||
	    (rc = post_expect(est, path, body, 201, "revocation nonce", &r)) != 0)
		goto out;
	doc = json_loadb((const char *)r.body.data, r.body.len, JSON_REJECT_DUPLICATES, NULL);
	tsr_client_response_free(&r);
	n = json_string_value(json_object_get(doc, "nonce"));
	m = json_string_value(json_object_get(doc, "message"));
	len = n != NULL ? strlen(n) : 0;
	if (len < 16 || len > 64 || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != len) {
		rc = tsr_error(TSR_ERR_PARSE, "the server's nonce is not 16 to 64 base64url "
		    "characters");
		goto out;
	}
	if (asprintf(message, "%s%s %s %s %s", TSR_CLIENT_REVOKE_PREFIX, serial, rv->action,
	    reason, n) < 0 || (*nonce = strdup(n)) == NULL) {
		*message = NULL;
		rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
	} else if (m == NULL || strcmp(m, *message) != 0) {
		rc = tsr_error(TSR_ERR_PARSE, "the server asks to sign a message other than "
		    "\"%s\": refused", *message);
	}
out:
	json_decref(doc);
	free(body);
	if (rc != 0) {
		free(*nonce);
		free(*message);
		*nonce = *message = NULL;
	}
	return rc;
}

/* The signed request's body: action, reason, nonce, certificate, signature. */
static int signed_body(const struct tsr_client_revocation *rv, const char *nonce, X509 *cert,
    const uint8_t *sig, size_t sig_len, char **out)
{
	char *part = NULL, *rest = NULL;
	json_t *head = NULL, *tail = NULL;
	int r;

	*out = NULL;
	if ((r = test_body(nonce, cert, sig, sig_len, &rest)) != 0 ||
	    (r = action_json(rv, &part)) != 0)
		goto out;
	head = json_loads(part, 0, NULL);
	tail = json_loads(rest, 0, NULL);
	if (head == NULL || tail == NULL || json_object_update(head, tail) != 0 ||
	    (*out = json_dumps(head, JSON_COMPACT)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	json_decref(head);
	json_decref(tail);
	free(part);
	free(rest);
	return r;
}

/* The key beside cert on the token (logged in). */
static int key_of(struct tsr_client_token *t, X509 *cert, struct tsr_client_key *key)
{
	uint8_t id[64];
	size_t id_len;
	int r;

	memset(key, 0, sizeof(*key));
	if ((r = cert_id(t, cert, id, &id_len)) != 0 ||
	    (r = tsr_client_key_by_id(t, id, id_len, key)) != 0)
		return r;
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key->pub) != 1) {
		tsr_client_key_free(key);
		return tsr_error(TSR_ERR_KEY, "the key stored beside the certificate is not its "
		    "key");
	}
	return 0;
}

/* Revocation signed on the token (see client.h). */
int tsr_client_revoke_signed(struct tsr_client_token *t, const struct tsr_est *est, X509 *cert,
    const struct tsr_client_revocation *rv, struct tsr_client_cert_status *out)
{
	struct tsr_client_response r;
	struct tsr_client_key key;
	char serial[41], path[128], *nonce = NULL, *message = NULL, *body = NULL;
	const char *reason;
	uint8_t *sig = NULL;
	size_t sig_len;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&key, 0, sizeof(key));
	if ((rc = revocation_check(rv, &reason)) != 0 ||
	    (rc = tsr_client_cert_serial(cert, serial)) != 0 || (rc = key_of(t, cert, &key)) != 0)
		return rc;
	if ((rc = revocation_nonce(est, serial, rv, reason, &nonce, &message)) != 0 ||
	    (rc = tsr_client_sign(&key, (const uint8_t *)message, strlen(message), &sig,
	    &sig_len)) != 0 || (rc = signed_body(rv, nonce, cert, sig, sig_len, &body)) != 0)
		goto out;
	snprintf(path, sizeof(path), "certificates/%s/subscriber-revocation", serial);
	if ((rc = post_expect(est, path, body, 200, "revocation", &r)) != 0)
		goto out;
	rc = status_parse(&r, out);
	tsr_client_response_free(&r);
out:
	free(nonce);
	free(message);
	free(body);
	OPENSSL_free(sig);
	tsr_client_key_free(&key);
	return rc;
}

/* jansson's blocks are wiped before they are freed: the request body and
 * jansson's copies of its strings hold the password and the answer. */
static void wiping_free(void *p)
{
	if (p != NULL)
		tsr_wipe(p, malloc_usable_size(p));
	free(p);
}

/* The body with the account's secrets (tsr_free_secret() it). */
static int secret_body(const struct tsr_client_revocation *rv, const char *application,
    const char *password, int question, const char *answer, char **out)
{
	json_t *j;

	/* Process-wide, as `tessera serve` does; both are malloc's, so blocks
	 * allocated before this are freed as well. */
	json_set_alloc_funcs(malloc, wiping_free);
	j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "action", rv->action, "application",
	    application, "password", password, "question", question, "answer", answer);
	if (j != NULL && rv->reason != NULL &&
	    json_object_set_new(j, "reason", json_string(rv->reason)) != 0) {
		json_decref(j);
		j = NULL;
	}
	*out = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return *out != NULL ? 0 : tsr_error(TSR_ERR_INVALID, "the password and the answer must be "
	    "UTF-8 text");
}

/* An application number as it may go into a path: AP-XXXX-XXXX-XXXX. */
static int application_check(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n < 4 || n > 24 || strncmp(id, "AP-", 3) != 0 ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return tsr_error(TSR_ERR_INVALID, "an application number looks like "
		    "AP-XXXX-XXXX-XXXX");
	return 0;
}

/* Revocation with the account's secrets (see client.h). */
int tsr_client_revoke_password(const struct tsr_est *est, const char *serial,
    const struct tsr_client_revocation *rv, const char *application, const char *password,
    int question, const char *answer, struct tsr_client_cert_status *out)
{
	struct tsr_client_response r;
	const char *reason;
	char path[128], *body = NULL;
	size_t n = serial != NULL ? strlen(serial) : 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = revocation_check(rv, &reason)) != 0 || (rc = application_check(application)) != 0)
		goto out;
	if (n == 0 || n > 40 || strspn(serial, "0123456789abcdefABCDEF") != n) {
		rc = tsr_error(TSR_ERR_INVALID, "a serial is 1 to 40 hex digits");
		goto out;
	}
	if (password == NULL || answer == NULL || question < 1) {
		rc = tsr_error(TSR_ERR_INVALID, "the password, a question number and its answer "
		    "are required");
		goto out;
	}
	if ((rc = secret_body(rv, application, password, question, answer, &body)) != 0)
		goto out;
	snprintf(path, sizeof(path), "certificates/%s/subscriber-revocation", serial);
	if ((rc = post_expect(est, path, body, 200, "revocation", &r)) != 0)
		goto out;
	rc = status_parse(&r, out);
	tsr_client_response_free(&r);
out:
	tsr_free_secret(body);
	return rc;
}

/* Free what tsr_client_questions() returned. */
void tsr_client_questions_free(char **questions, size_t n)
{
	for (size_t i = 0; questions != NULL && i < n; i++)
		free(questions[i]);
	free(questions);
}

/* The secret questions (see client.h). */
int tsr_client_questions(const struct tsr_est *est, const char *application, char ***questions,
    size_t *n)
{
	struct tsr_client_response r;
	struct tsr_client_request rq = { .method = "GET", .tls = &est->tls };
	char url[1200];
	json_t *doc = NULL, *list;
	size_t count;
	int rc;

	*questions = NULL;
	*n = 0;
	if ((rc = application_check(application)) != 0)
		return rc;
	snprintf(url, sizeof(url), "%sapplications/%s/questions", est->api, application);
	rq.url = url;
	if ((rc = tsr_client_http(&rq, &r)) != 0)
		return rc;
	if ((rc = expect_json(&r, 200, "secret questions")) == 0) {
		doc = json_loadb((const char *)r.body.data, r.body.len, JSON_REJECT_DUPLICATES,
		    NULL);
		list = json_object_get(doc, "questions");
		count = json_array_size(list);
		if (count == 0 || count > 16)
			rc = tsr_error(TSR_ERR_PARSE, "the server's answer lacks the questions");
		else if ((*questions = calloc(count, sizeof(char *))) == NULL)
			rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
		for (size_t i = 0; rc == 0 && i < count; i++) {
			if (((*questions)[i] = calloc(1, 256)) == NULL) {
				rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
				break;
			}
			*n = i + 1;
			printable_copy((*questions)[i], 256,
			    json_string_value(json_array_get(list, i)));
		}
	}
	json_decref(doc);
	tsr_client_response_free(&r);
	if (rc != 0) {
		tsr_client_questions_free(*questions, *n);
		*questions = NULL;
		*n = 0;
	}
	return rc;
}
