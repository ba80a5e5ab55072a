/*
 * testcert.c - "Test my certificate" (retrieve.h): a single-use nonce, and
 * the check of a signature made over it on the subscriber's token.  Each
 * part of the answer (signature, chain, validity, status) is reported on
 * its own, so that the subscriber learns what is wrong, not only that
 * something is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "audit/audit.h"
#include "ra/ra_impl.h"
#include "ra/retrieve.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A new nonce (see retrieve.h): 128 random bits, base64url. */
int tsr_ra_test_nonce(struct tsr_ra *ra, struct tsr_store *st, char nonce[TSR_RA_NONCE_LEN],
    int64_t *expires_at)
{
	uint8_t raw[16];
	int64_t now = (int64_t)tsr_now();
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	(void)ra;
	if (tsr_random(raw, sizeof(raw)) != 0)
		return tsr_error(TSR_ERR_CRYPTO, "no random bytes for a nonce");
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			nonce[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		nonce[o++] = b64url[(acc << (6 - bits)) & 63];
	nonce[o] = '\0';
	*expires_at = now + TSR_RA_NONCE_SECONDS;
	/* Old nonces go as new ones come: the table stays small. */
	if (tsr_store_nonce_purge(st, now, NULL) != 0)
		tsr_log(TSR_LOG_WARN, "cannot purge old nonces: %s", tsr_error_detail());
	return tsr_store_nonce_insert(st, nonce, now, *expires_at);
}

/* ------------------------------------------------------------------ the checks */

static void set(enum tsr_ra_check *c, char *detail, enum tsr_ra_check v, const char *fmt, ...)
    TSR_PRINTF(4, 5);

static void set(enum tsr_ra_check *c, char *detail, enum tsr_ra_check v, const char *fmt, ...)
{
	va_list ap;

	*c = v;
	va_start(ap, fmt);
	vsnprintf(detail, 160, fmt, ap);
	va_end(ap);
}

/* PEM or DER, one certificate, nothing after it (ra_impl.h). */
int ra_cert_parse(const uint8_t *in, size_t len, X509 **out)
{
	const uint8_t *p = in;
	BIO *bio;

	*out = NULL;
	if (in == NULL || len == 0 || len > 65536)
		return tsr_error(TSR_ERR_INVALID, "no certificate, or one over 64 KiB");
	if (len > 10 && memcmp(in, "-----BEGIN", 10) == 0) {
		if ((bio = BIO_new_mem_buf(in, (int)len)) != NULL)
			*out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if ((*out = d2i_X509(NULL, &p, (long)len)) != NULL && p != in + len) {
		X509_free(*out);
		*out = NULL;
	}
	return *out != NULL ? 0 : tsr_error_openssl(TSR_ERR_PARSE, "the certificate is not a "
	    "certificate in PEM or DER");
}

static void check_signature(X509 *x, const char *nonce, const uint8_t *sig, size_t sig_len,
    struct tsr_ra_test_result *out)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	enum tsr_key_type type = TSR_KEY_NONE;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char message[sizeof(TSR_RA_TEST_PREFIX) + TSR_RA_NONCE_LEN];
	const EVP_MD *digest;
	int ok;

	snprintf(message, sizeof(message), "%s%s", TSR_RA_TEST_PREFIX, nonce);
	if (pk == NULL || tsr_pubkey_classify(pk, &type) != 0) {
		set(&out->signature, out->signature_detail, TSR_RA_CHECK_BAD, "the certificate's key "
		    "is not a kind Tessera issues");
		goto out;
	}
	digest = type == TSR_KEY_EC_P384 || type == TSR_KEY_RSA_4096 ? EVP_sha384() : EVP_sha256();
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, digest, NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)message, strlen(message)) == 1;
	if (ok)
		set(&out->signature, out->signature_detail, TSR_RA_CHECK_GOOD, "the token signed "
		    "the challenge with the certificate's key (%s, %s)", tsr_key_type_name(type),
		    EVP_MD_get0_name(digest));
	else
		set(&out->signature, out->signature_detail, TSR_RA_CHECK_BAD, "the signature does "
		    "not verify with the certificate's key: a different key, or a different message");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
}

static void check_chain(struct tsr_ra *ra, X509 *x, struct tsr_ra_test_result *out)
{
	X509_STORE *trust = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok = -1;

	if (trust != NULL && ctx != NULL && untrusted != NULL &&
	    X509_STORE_add_cert(trust, (X509 *)tsr_ca_root_cert(ra->ca)) == 1 &&
	    sk_X509_push(untrusted, (X509 *)tsr_ca_issuing_cert(ra->ca)) > 0 &&
	    X509_STORE_CTX_init(ctx, trust, x, untrusted) == 1) {
		/* Time is the validity check's job: the chain is judged apart. */
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(ctx);
	}
	if (ok == 1)
		set(&out->chain, out->chain_detail, TSR_RA_CHECK_GOOD, "issued by this CA's issuing "
		    "CA under its root");
	else
		set(&out->chain, out->chain_detail, TSR_RA_CHECK_BAD, "does not chain to this CA: "
		    "%s", ctx != NULL ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) :
		    "out of memory");
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(trust);
}

static void check_validity(X509 *x, struct tsr_ra_test_result *out)
{
	time_t now = tsr_now();
	int before = X509_cmp_time(X509_get0_notBefore(x), &now);
	int after = X509_cmp_time(X509_get0_notAfter(x), &now);

	if (before < 0 && after > 0)
		set(&out->validity, out->validity_detail, TSR_RA_CHECK_GOOD, "valid now");
	else if (before >= 0)
		set(&out->validity, out->validity_detail, TSR_RA_CHECK_BAD, "not valid yet");
	else
		set(&out->validity, out->validity_detail, TSR_RA_CHECK_BAD, "expired");
}

/* The store's word on it: ours byte for byte, and its status. */
static void check_status(struct tsr_store *st, X509 *x, struct tsr_ra_test_result *out)
{
	struct tsr_cert_record rec;
	uint8_t *der = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int n = i2d_X509(x, &der);

	memset(&rec, 0, sizeof(rec));
	if (hex == NULL || n <= 0 || tsr_store_cert_get(st, hex, &rec) != 0 ||
	    rec.der_len != (size_t)n || memcmp(rec.der, der, (size_t)n) != 0) {
		set(&out->status, out->status_detail, TSR_RA_CHECK_UNKNOWN, "this CA has no record "
		    "of this certificate");
	} else {
		snprintf(out->serial, sizeof(out->serial), "%s", rec.serial);
		snprintf(out->subject, sizeof(out->subject), "%s", rec.subject);
		if (strcmp(rec.status, "valid") == 0)
			set(&out->status, out->status_detail, TSR_RA_CHECK_GOOD, "not revoked or "
			    "suspended");
		else
			set(&out->status, out->status_detail, TSR_RA_CHECK_BAD, "%s", rec.status);
	}
	tsr_error_clear();
	tsr_cert_record_clear(&rec);
	OPENSSL_free(der);
	OPENSSL_free(hex);
	BN_free(bn);
}

static const char *check_name(enum tsr_ra_check c)
{
	return c == TSR_RA_CHECK_GOOD ? "good" : c == TSR_RA_CHECK_BAD ? "bad" : "unknown";
}

static int first_app(const struct tsr_app_record *a, void *ctx)
{
	snprintf(ctx, TSR_APP_ID_MAX + 1, "%s", a->id);
	return 1;
}

/* Keep the result with the application whose newest certificate it is
 * (for the web page), and audit it. */
static int record(struct tsr_store *st, const char *actor, struct tsr_ra_test_result *out)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_filter f = { .cert_serial = out->serial };
	char object[RA_OBJECT_MAX] = "", *text = NULL;
	json_t *j;
	int r = 0;

	if (out->serial[0] != '\0' && (r = tsr_store_app_list(st, &f, first_app,
	    out->application)) > 0)
		r = 0;
	if (r != 0)
		return r;
	j = json_pack("{s:b, s:I, s:s, s:s, s:s, s:s}", "good", out->good, "at",
	    (json_int_t)tsr_now(), "signature", check_name(out->signature), "chain",
	    check_name(out->chain), "validity", check_name(out->validity), "status",
	    check_name(out->status));
	if (j == NULL || (text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	/* Only a caller who holds the key replaces the kept result: anyone can
	 * post someone's (public) certificate with a bad signature. */
	if (r == 0 && out->application[0] != '\0' && out->signature == TSR_RA_CHECK_GOOD) {
		upd.last_test = text;
		ra_object(out->application, object);
		r = tsr_store_app_update(st, out->application, &upd, (int64_t)tsr_now());
	}
	if (r == 0)
		r = tsr_audit_append(st, actor, "cert.test", object, out->good ? TSR_AUDIT_SUCCESS :
		    TSR_AUDIT_FAILURE, "serial %s: signature %s, chain %s, validity %s, status %s",
		    out->serial[0] ? out->serial : "(not ours)", check_name(out->signature),
		    check_name(out->chain), check_name(out->validity), check_name(out->status));
	free(text);
	json_decref(j);
	return r;
}

/* Check a test (see retrieve.h). */
int tsr_ra_test_check(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *nonce, const uint8_t *cert, size_t cert_len, const uint8_t *sig,
    size_t sig_len, struct tsr_ra_test_result *out)
{
	X509 *x = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (nonce == NULL || strlen(nonce) + 1 != TSR_RA_NONCE_LEN)
		return tsr_error(TSR_ERR_INVALID, "the nonce is not one this server hands out");
	if ((r = ra_cert_parse(cert, cert_len, &x)) != 0)
		return r;
	r = tsr_store_nonce_use(st, nonce, (int64_t)tsr_now());
	if (r == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_POLICY, "this nonce is unknown: ask for a new one");
	if (r != 0)
		goto out;
	check_signature(x, nonce, sig, sig_len, out);
	check_chain(ra, x, out);
	check_validity(x, out);
	check_status(st, x, out);
	out->good = out->signature == TSR_RA_CHECK_GOOD && out->chain == TSR_RA_CHECK_GOOD &&
	    out->validity == TSR_RA_CHECK_GOOD && out->status == TSR_RA_CHECK_GOOD;
	r = record(st, actor, out);
out:
	X509_free(x);
	return r;
}
