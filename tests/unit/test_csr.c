/*
 * test_csr.c - public key classification and PKCS#10 parsing, with keys and
 * requests made here by OpenSSL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

enum test_key {
	K_RSA1024, K_RSA2048, K_RSA2056, K_RSA3072, K_RSA4096, K_RSA2048_E3,
	K_P256, K_P384, K_K256, K_P521, K_ED25519, K_COUNT
};

static EVP_PKEY *keys[K_COUNT];

static EVP_PKEY *rsa_with_exponent(unsigned bits, unsigned long e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *bn = BN_new();
	EVP_PKEY *pk = NULL;

	assert_non_null(ctx);
	assert_true(BN_set_word(bn, e));
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &pk), 1);
	BN_free(bn);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static int make_keys(void **state)
{
	static const struct {
		enum test_key k;
		const char *type;
		const char *curve;
		size_t bits;
	} specs[] = {
		{ K_RSA1024, "RSA", NULL, 1024 }, { K_RSA2048, "RSA", NULL, 2048 },
		{ K_RSA2056, "RSA", NULL, 2056 }, { K_RSA3072, "RSA", NULL, 3072 },
		{ K_RSA4096, "RSA", NULL, 4096 }, { K_P256, "EC", "P-256", 0 },
		{ K_P384, "EC", "P-384", 0 }, { K_K256, "EC", "secp256k1", 0 },
		{ K_P521, "EC", "P-521", 0 }, { K_ED25519, "ED25519", NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(specs); i++) {
		if (specs[i].curve)
			keys[specs[i].k] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", specs[i].curve);
		else if (specs[i].bits)
			keys[specs[i].k] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", specs[i].bits);
		else
			keys[specs[i].k] = EVP_PKEY_Q_keygen(NULL, NULL, specs[i].type);
		if (keys[specs[i].k] == NULL)
			return -1;
	}
	keys[K_RSA2048_E3] = rsa_with_exponent(2048, 3);
	return 0;
}

static int free_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < K_COUNT; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* ------------------------------------------------------------------ helpers */
static void classify_fails(EVP_PKEY *pk, const char *detail)
{
	enum tsr_key_type t = TSR_KEY_RSA_4096;
	int rc = tsr_pubkey_classify(pk, &t);

	if (rc != TSR_ERR_KEY || strstr(tsr_error_detail(), detail) == NULL)
		print_error("classify: %d \"%s\", wanted \"%s\"\n", rc, tsr_error_detail(), detail);
	assert_int_equal(rc, TSR_ERR_KEY);
	assert_int_equal(t, TSR_KEY_NONE);
	assert_non_null(strstr(tsr_error_detail(), detail));
	assert_int_equal(ERR_peek_error(), 0);
}

/* A DER CSR for subject key pub signed by signer (version 0 = v1), asking
 * for a SAN extension if ext. */
static uint8_t *make_csr_ex(EVP_PKEY *pub, EVP_PKEY *signer, long version, bool ext, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	const EVP_MD *md = EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256();
	uint8_t *der = NULL;
	int n;

	assert_non_null(req);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Test Subject", -1, -1, 0));
	assert_true(X509_REQ_set_version(req, version));
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, pub));
	if (ext) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
		    "DNS:a.example");

		assert_non_null(san);
		assert_true(sk_X509_EXTENSION_push(exts, san));
		assert_true(X509_REQ_add_extensions(req, exts));
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, signer, md) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static uint8_t *make_csr(EVP_PKEY *k, size_t *len)
{
	return make_csr_ex(k, k, X509_REQ_VERSION_1, false, len);
}

/* The PEM form of a DER CSR, as OpenSSL writes it (new string, free()). */
static char *pem_of(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &q, (long)len);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *s;
	long n;

	assert_non_null(req);
	assert_true(PEM_write_bio_X509_REQ(bio, req));
	n = BIO_get_mem_data(bio, &data);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(bio);
	X509_REQ_free(req);
	return s;
}

static void csr_ok(const void *p, size_t n, EVP_PKEY *want_key)
{
	X509_REQ *req = NULL;
	int rc = tsr_csr_parse(p, n, &req);

	if (rc != 0)
		print_error("tsr_csr_parse: %d %s\n", rc, tsr_error_detail());
	assert_int_equal(rc, 0);
	assert_non_null(req);
	if (want_key != NULL)
		assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), want_key), 1);
	X509_REQ_free(req);
	assert_int_equal(ERR_peek_error(), 0);
}

static void csr_fails(const void *p, size_t n, int code, const char *detail)
{
	X509_REQ *req = (X509_REQ *)1;
	int rc = tsr_csr_parse(p, n, &req);

	if (rc != code || strstr(tsr_error_detail(), detail) == NULL)
		print_error("tsr_csr_parse: %d \"%s\", wanted %d \"%s\"\n", rc, tsr_error_detail(),
		    code, detail);
	assert_int_equal(rc, code);
	assert_null(req);
	assert_non_null(strstr(tsr_error_detail(), detail));
	/* Every failure path drains OpenSSL's queue. */
	assert_int_equal(ERR_peek_error(), 0);
}

static void pem_fails(const char *pem, const char *detail)
{
	csr_fails(pem, strlen(pem), TSR_ERR_PARSE, detail);
}

/* Replace the first occurrence of from in s by to (new string, free()). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t pre;
	char *out;

	assert_non_null(at);
	pre = (size_t)(at - s);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, s, pre);
	strcpy(out + pre, to);
	strcat(out, at + strlen(from));
	return out;
}

/* replace(), freeing s. */
static char *replace_free(char *s, const char *from, const char *to)
{
	char *out = replace(s, from, to);

	free(s);
	return out;
}

/* ------------------------------------------------------------------ BER maker */
/* Header length of the TLV at p, and its content length in *clen. */
static size_t tlv(const uint8_t *p, size_t *clen)
{
	size_t hl = 2, len = p[1];

	if (len & 0x80) {
		size_t k = len & 0x7f;

		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		hl += k;
	}
	*clen = len;
	return hl;
}

static size_t put_len(uint8_t *out, size_t len, bool long_form)
{
	if (long_form) {
		/* 0x84 and four bytes: legal BER, never DER. */
		out[0] = 0x84;
		for (int i = 0; i < 4; i++)
			out[1 + i] = (uint8_t)(len >> (8 * (3 - i)));
		return 5;
	}
	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len < 0x100) {
		out[0] = 0x81;
		out[1] = (uint8_t)len;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	return 3;
}

/* What reencode() does to its target: three encodings BER allows and DER does not. */
enum ber_mode { BER_LONG_LENGTH, BER_INDEFINITE, BER_CONSTRUCTED };

/* Re-encode the TLV at der[off] into out, changing the one at target as
 * mode says and fixing every enclosing length. */
static size_t reencode(const uint8_t *der, size_t off, size_t target, enum ber_mode mode,
    uint8_t *out)
{
	size_t clen, hl = tlv(der + off, &clen), m = 0, n;
	uint8_t *body = malloc(clen + 64);

	assert_non_null(body);
	if (der[off] & 0x20) {
		for (size_t c = off + hl; c < off + hl + clen;) {
			size_t cl, chl = tlv(der + c, &cl);

			m += reencode(der, c, target, mode, body + m);
			c += chl + cl;
		}
	} else {
		memcpy(body, der + off + hl, clen);
		m = clen;
	}
	n = 0;
	if (off == target && mode == BER_INDEFINITE) {
		out[n++] = der[off];
		out[n++] = 0x80;
		memcpy(out + n, body, m);
		n += m;
		out[n++] = 0;
		out[n++] = 0;
	} else if (off == target && mode == BER_CONSTRUCTED) {
		/* One primitive segment inside a constructed string. */
		uint8_t seg[8];
		size_t sl = put_len(seg, m, false);

		out[n++] = der[off] | 0x20;
		n += put_len(out + n, 1 + sl + m, false);
		out[n++] = der[off];
		memcpy(out + n, seg, sl);
		n += sl;
		memcpy(out + n, body, m);
		n += m;
	} else {
		out[n++] = der[off];
		n += put_len(out + n, m, off == target);
		memcpy(out + n, body, m);
		n += m;
	}
	free(body);
	return n;
}

/* Offset of the index-th child of the constructed TLV at off. */
static size_t child(const uint8_t *der, size_t off, int index)
{
	size_t clen, c = off + tlv(der + off, &clen);

	for (int i = 0; i < index; i++) {
		size_t cl, chl = tlv(der + c, &cl);

		c += chl + cl;
	}
	return c;
}

/* ------------------------------------------------------------------ keys */
static void test_key_allowed(void **state)
{
	static const struct {
		enum test_key k;
		enum tsr_key_type t;
	} cases[] = {
		{ K_RSA2048, TSR_KEY_RSA_2048 }, { K_RSA3072, TSR_KEY_RSA_3072 },
		{ K_RSA4096, TSR_KEY_RSA_4096 }, { K_P256, TSR_KEY_EC_P256 },
		{ K_P384, TSR_KEY_EC_P384 },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		enum tsr_key_type t = TSR_KEY_NONE;

		assert_int_equal(tsr_pubkey_classify(keys[cases[i].k], &t), 0);
		assert_int_equal(t, cases[i].t);
	}
}

static void test_key_refused(void **state)
{
	enum tsr_key_type t;

	(void)state;
	classify_fails(keys[K_RSA1024], "RSA key of 1024 bits is too small (at least 2048)");
	classify_fails(keys[K_RSA2056], "RSA key of 2056 bits is not one of 2048, 3072, 4096");
	classify_fails(keys[K_RSA2048_E3], "RSA public exponent 3 is not allowed");
	classify_fails(keys[K_K256], "EC curve secp256k1 is not allowed (use P-256 or P-384)");
	classify_fails(keys[K_P521], "EC curve secp521r1 is not allowed (use P-256 or P-384)");
	classify_fails(keys[K_ED25519], "ED25519 keys are not allowed");
	assert_int_equal(tsr_pubkey_classify(NULL, &t), TSR_ERR_INVALID);
	assert_int_equal(t, TSR_KEY_NONE);
}

/* An RSA public key from its parts: nothing checks them but us. */
static EVP_PKEY *rsa_from(const BIGNUM *n, const BIGNUM *e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM *params;
	EVP_PKEY *pk = NULL;

	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static void test_key_rsa_parts(void **state)
{
	BIGNUM *n = NULL, *e = BN_new(), *even_n;
	EVP_PKEY *pk;
	enum tsr_key_type t;

	(void)state;
	assert_true(EVP_PKEY_get_bn_param(keys[K_RSA2048], OSSL_PKEY_PARAM_RSA_N, &n));
	/* The real modulus with 65537 is fine... */
	assert_true(BN_set_word(e, 65537));
	pk = rsa_from(n, e);
	assert_int_equal(tsr_pubkey_classify(pk, &t), 0);
	assert_int_equal(t, TSR_KEY_RSA_2048);
	EVP_PKEY_free(pk);
	/* ...an even exponent, 2^256 + 1, or an even modulus are not. */
	assert_true(BN_set_word(e, 65536));
	pk = rsa_from(n, e);
	classify_fails(pk, "RSA public exponent 65536 is not allowed");
	EVP_PKEY_free(pk);
	assert_true(BN_set_word(e, 1));
	assert_true(BN_lshift(e, e, 256));
	assert_true(BN_add_word(e, 1));
	pk = rsa_from(n, e);
	classify_fails(pk, "RSA public exponent");
	EVP_PKEY_free(pk);
	even_n = BN_dup(n);
	assert_true(BN_sub_word(even_n, 1));
	assert_true(BN_set_word(e, 65537));
	pk = rsa_from(even_n, e);
	classify_fails(pk, "RSA modulus is even");
	EVP_PKEY_free(pk);
	BN_free(even_n);
	BN_free(n);
	BN_free(e);
}

/* A P-256 key whose SubjectPublicKeyInfo spells the curve out (RFC 5480 forbids it). */
static void test_key_ec_explicit(void **state)
{
	EVP_PKEY *copy = EVP_PKEY_dup(keys[K_P256]), *back;
	unsigned char *der = NULL;
	const unsigned char *q;
	int len;

	(void)state;
	assert_non_null(copy);
	assert_true(EVP_PKEY_set_utf8_string_param(copy, OSSL_PKEY_PARAM_EC_ENCODING,
	    OSSL_PKEY_EC_ENCODING_EXPLICIT));
	len = i2d_PUBKEY(copy, &der);
	assert_true(len > 0);
	q = der;
	back = d2i_PUBKEY(NULL, &q, len);
	assert_non_null(back);
	classify_fails(back, "explicit curve parameters");
	EVP_PKEY_free(back);
	EVP_PKEY_free(copy);
	OPENSSL_free(der);
}

/* ------------------------------------------------------------------ CSRs */
static void test_csr_allowed_types(void **state)
{
	static const enum test_key good[] = { K_RSA2048, K_RSA3072, K_RSA4096, K_P256, K_P384 };

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(good); i++) {
		size_t len;
		uint8_t *der = make_csr(keys[good[i]], &len);
		char *pem = pem_of(der, len);
		char *newpem = replace_free(replace(pem, "BEGIN CERTIFICATE REQUEST",
		    "BEGIN NEW CERTIFICATE REQUEST"), "END CERTIFICATE REQUEST",
		    "END NEW CERTIFICATE REQUEST");

		csr_ok(der, len, keys[good[i]]);
		csr_ok(pem, strlen(pem), keys[good[i]]);
		csr_ok(newpem, strlen(newpem), keys[good[i]]);
		OPENSSL_free(der);
		free(pem);
		free(newpem);
	}
}

static void test_csr_refused_key_types(void **state)
{
	static const struct {
		enum test_key k;
		const char *detail;
	} cases[] = {
		{ K_RSA1024, "RSA key of 1024 bits is too small" },
		{ K_RSA2056, "RSA key of 2056 bits is not one of" },
		{ K_RSA2048_E3, "exponent 3" },
		{ K_K256, "EC curve secp256k1 is not allowed" },
		{ K_P521, "EC curve secp521r1 is not allowed" },
		{ K_ED25519, "ED25519 keys are not allowed" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		size_t len;
		uint8_t *der = make_csr(keys[cases[i].k], &len);
		char *pem = pem_of(der, len);

		csr_fails(der, len, TSR_ERR_KEY, cases[i].detail);
		csr_fails(pem, strlen(pem), TSR_ERR_KEY, cases[i].detail);
		OPENSSL_free(der);
		free(pem);
	}
}

static void test_csr_bad_signature(void **state)
{
	static const enum test_key ks[] = { K_RSA2048, K_P256, K_P384 };

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(ks); i++) {
		size_t len;
		uint8_t *der = make_csr(keys[ks[i]], &len);
		uint8_t *at = memmem(der, len, "Test Subject", 12);

		/* The signature BIT STRING is the last element: flip its last byte. */
		der[len - 1] ^= 0x01;
		csr_fails(der, len, TSR_ERR_SIGNATURE,
		    "the CSR's signature does not verify (no proof of possession)");
		der[len - 1] ^= 0x01;
		csr_ok(der, len, keys[ks[i]]);
		/* Or change what was signed. */
		assert_non_null(at);
		at[0] = 'B';
		csr_fails(der, len, TSR_ERR_SIGNATURE, "no proof of possession");
		OPENSSL_free(der);
	}
}

/* A request for one key signed with another proves nothing. */
static void test_csr_other_signer(void **state)
{
	size_t len;
	uint8_t *der = make_csr_ex(keys[K_P256], keys[K_P384], X509_REQ_VERSION_1, false, &len);

	(void)state;
	csr_fails(der, len, TSR_ERR_SIGNATURE, "no proof of possession");
	OPENSSL_free(der);
	der = make_csr_ex(keys[K_RSA2048], keys[K_RSA3072], X509_REQ_VERSION_1, false, &len);
	csr_fails(der, len, TSR_ERR_SIGNATURE, "no proof of possession");
	OPENSSL_free(der);
}

static uint8_t *csr_signed_with(EVP_PKEY *k, const EVP_MD *md, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	uint8_t *der = NULL;
	int n;

	assert_true(X509_REQ_set_pubkey(req, k));
	assert_true(X509_REQ_sign(req, k, md) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_REQ_free(req);
	return der;
}

/* Proof of possession with a weak hash is refused, a strong one accepted. */
static void test_csr_signature_algorithm(void **state)
{
	X509_REQ *req = NULL;
	uint8_t *der;
	size_t len;

	(void)state;
	der = csr_signed_with(keys[K_RSA2048], EVP_sha1(), &len);
	csr_fails(der, len, TSR_ERR_SIGNATURE, "sha1WithRSAEncryption");
	OPENSSL_free(der);
	der = csr_signed_with(keys[K_P256], EVP_sha1(), &len);
	csr_fails(der, len, TSR_ERR_SIGNATURE, "ecdsa-with-SHA1");
	OPENSSL_free(der);
	der = csr_signed_with(keys[K_P256], EVP_sha224(), &len);
	csr_fails(der, len, TSR_ERR_SIGNATURE, "SHA-256 or stronger");
	OPENSSL_free(der);
	{
		/* RSA-PSS, even over SHA-256: its hash hides in parameters */
		X509_REQ *pss = X509_REQ_new();
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		int n;

		der = NULL;
		assert_true(X509_REQ_set_pubkey(pss, keys[K_RSA2048]));
		assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL,
		    keys[K_RSA2048]), 1);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(X509_REQ_sign_ctx(pss, mctx) > 0);
		n = i2d_X509_REQ(pss, &der);
		assert_true(n > 0);
		csr_fails(der, (size_t)n, TSR_ERR_SIGNATURE, "rsassaPss");
		OPENSSL_free(der);
		EVP_MD_CTX_free(mctx);
		X509_REQ_free(pss);
	}
	der = csr_signed_with(keys[K_P384], EVP_sha384(), &len);
	assert_int_equal(tsr_csr_parse(der, len, &req), 0);
	X509_REQ_free(req);
	OPENSSL_free(der);
	der = csr_signed_with(keys[K_RSA3072], EVP_sha512(), &len);
	assert_int_equal(tsr_csr_parse(der, len, &req), 0);
	X509_REQ_free(req);
	OPENSSL_free(der);
}

static void test_csr_version(void **state)
{
	size_t len;
	uint8_t *der = make_csr_ex(keys[K_P256], keys[K_P256], 1, false, &len);

	(void)state;
	csr_fails(der, len, TSR_ERR_PARSE, "version field is 1, not 0");
	OPENSSL_free(der);
}

static void test_csr_der_framing(void **state)
{
	size_t len;
	uint8_t *der = make_csr(keys[K_P256], &len);
	uint8_t *more = malloc(len + 3);

	(void)state;
	assert_non_null(more);
	memcpy(more, der, len);
	memset(more + len, 0, 3);
	csr_fails(more, len + 3, TSR_ERR_PARSE, "3 trailing bytes after the CSR");
	csr_fails(der, len - 1, TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	csr_fails(der, len - 10, TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	csr_fails(der, 4, TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	csr_fails(der, 1, TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	/* A DER certificate-shaped SEQUENCE that is not a request. */
	csr_fails("\x30\x03\x02\x01\x00", 5, TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	free(more);
	OPENSSL_free(der);
}

static void test_csr_size(void **state)
{
	uint8_t *big = malloc(TSR_CSR_MAX + 1);
	X509_REQ *req = (X509_REQ *)1;

	(void)state;
	assert_non_null(big);
	memset(big, 'A', TSR_CSR_MAX + 1);
	csr_fails(big, TSR_CSR_MAX + 1, TSR_ERR_TOO_LARGE, "over the 65536-byte limit");
	/* At the limit it is read, and refused for what it is. */
	csr_fails(big, TSR_CSR_MAX, TSR_ERR_PARSE, "not a CSR");
	big[0] = 0x30;
	csr_fails(big, TSR_CSR_MAX, TSR_ERR_PARSE, "not a PKCS#10");
	csr_fails("", 0, TSR_ERR_PARSE, "empty CSR");
	csr_fails("hello", 5, TSR_ERR_PARSE, "not a CSR");
	assert_int_equal(tsr_csr_parse(NULL, 10, &req), TSR_ERR_INVALID);
	assert_null(req);
	free(big);
}

/* Apply mode at target in der and expect tsr_csr_parse() to refuse it. */
static void ber_fails(const uint8_t *der, size_t target, enum ber_mode mode, const char *detail)
{
	uint8_t ber[8192];
	size_t blen = reencode(der, 0, target, mode, ber);

	assert_true(blen < sizeof(ber));
	csr_fails(ber, blen, TSR_ERR_PARSE, detail);
}

/* BER that d2i accepts but DER forbids, at the top, in the signed part, in
 * the key, in the subject, and inside the attributes OpenSSL keeps opaque. */
static void test_csr_ber(void **state)
{
	size_t len, tbs, spki, cn, attr, ext, octets;
	uint8_t *der = make_csr_ex(keys[K_P256], keys[K_P256], X509_REQ_VERSION_1, true, &len);
	uint8_t copy[4096];
	uint8_t *oid;

	(void)state;
	csr_ok(der, len, keys[K_P256]);
	/* Sanity: re-encoding with no target changes nothing. */
	assert_int_equal(reencode(der, 0, (size_t)-1, BER_LONG_LENGTH, copy), len);
	assert_memory_equal(copy, der, len);

	tbs = child(der, 0, 0);
	spki = child(der, tbs, 2);
	oid = memmem(der, len, "\x06\x03\x55\x04\x03", 5);
	assert_non_null(oid);
	cn = (size_t)(oid - der) + 5;
	attr = child(der, child(der, tbs, 3), 0);                 /* extensionRequest */
	ext = child(der, child(der, child(der, attr, 1), 0), 0);  /* the SAN Extension */
	octets = child(der, ext, 1);                              /* its OCTET STRING */
	ber_fails(der, 0, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, tbs, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, spki, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, cn, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, attr, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, octets, BER_LONG_LENGTH, "not DER-encoded (non-minimal length)");
	ber_fails(der, tbs, BER_INDEFINITE, "not DER-encoded");
	ber_fails(der, ext, BER_INDEFINITE, "not DER-encoded (indefinite length)");
	ber_fails(der, octets, BER_CONSTRUCTED, "not DER-encoded (constructed string)");
	OPENSSL_free(der);
}

/* A multi-valued RDN whose SET OF is not in DER order: lengths are fine,
 * and OpenSSL would hand back the subject's bytes as received. */
static void test_csr_unsorted_rdn(void **state)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t *der = NULL, swapped[4096];
	size_t set, a, b, alen, blen, end;
	int n;

	(void)state;
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"a", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"b", -1, -1, -1));
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, keys[K_P256]));
	assert_true(X509_REQ_sign(req, keys[K_P256], EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0 && (size_t)n < sizeof(swapped));
	csr_ok(der, (size_t)n, keys[K_P256]);

	set = child(der, child(der, child(der, 0, 0), 1), 0);
	a = child(der, set, 0);
	b = child(der, set, 1);
	alen = b - a;
	end = child(der, set, 2);
	blen = end - b;
	memcpy(swapped, der, (size_t)n);
	memcpy(swapped + a, der + b, blen);
	memcpy(swapped + a + blen, der + a, alen);
	csr_fails(swapped, (size_t)n, TSR_ERR_PARSE, "subject is not DER-encoded");
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

static void test_csr_pem_good_variants(void **state)
{
	size_t len;
	uint8_t *der = make_csr(keys[K_P256], &len);
	char *pem = pem_of(der, len), *padded, *crlf, *oneline, *tmp;
	size_t j = 0;

	(void)state;
	padded = malloc(strlen(pem) + 16);
	assert_non_null(padded);
	strcpy(padded, " \r\n\t\n");
	strcat(padded, pem);
	strcat(padded, "\n \n");
	csr_ok(padded, strlen(padded), keys[K_P256]);
	/* CRLF line ends. */
	crlf = malloc(strlen(pem) * 2 + 1);
	assert_non_null(crlf);
	for (size_t i = 0; pem[i]; i++) {
		if (pem[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = pem[i];
	}
	crlf[j] = '\0';
	csr_ok(crlf, strlen(crlf), keys[K_P256]);
	/* No final newline after END. */
	pem[strlen(pem) - 1] = '\0';
	csr_ok(pem, strlen(pem), keys[K_P256]);
	/* The whole base64 on one line. */
	oneline = strdup(pem);
	for (char *p = strstr(oneline, "-----\n") + 6; (tmp = strchr(p, '\n')) != NULL &&
	    strncmp(tmp + 1, "-----END", 8) != 0;)
		memmove(tmp, tmp + 1, strlen(tmp));
	csr_ok(oneline, strlen(oneline), keys[K_P256]);
	free(oneline);
	free(padded);
	free(crlf);
	free(pem);
	OPENSSL_free(der);
}

static void test_csr_pem_bad(void **state)
{
	size_t len;
	uint8_t *der = make_csr(keys[K_P256], &len);
	char *pem = pem_of(der, len), *s, *body;
	char two[8192];

	(void)state;
	snprintf(two, sizeof(two), "%s%s", pem, pem);
	pem_fails(two, "more than one PEM block");
	snprintf(two, sizeof(two), "%s\n\n%s", pem, pem);
	pem_fails(two, "more than one PEM block");
	snprintf(two, sizeof(two), "%sgarbage\n", pem);
	pem_fails(two, "unexpected data after the PEM END line");
	snprintf(two, sizeof(two), "junk\n%s", pem);
	pem_fails(two, "not a CSR");

	s = replace_free(replace(pem, "BEGIN CERTIFICATE REQUEST", "BEGIN CERTIFICATE"),
	    "END CERTIFICATE REQUEST", "END CERTIFICATE");
	pem_fails(s, "PEM BEGIN line is 'CERTIFICATE', not CERTIFICATE REQUEST");
	free(s);
	s = replace(pem, "BEGIN CERTIFICATE REQUEST", "BEGIN NEW CERTIFICATE REQUEST");
	pem_fails(s, "END label does not match");
	free(s);
	s = replace(pem, "END CERTIFICATE REQUEST", "END X509 CRL");
	pem_fails(s, "PEM END line is 'X509 CRL'");
	free(s);
	s = replace(pem, "-----BEGIN CERTIFICATE REQUEST-----", "-----BEGIN CERTIFICATE REQUEST");
	pem_fails(s, "malformed PEM BEGIN line");
	free(s);
	s = replace(pem, "REQUEST-----\n", "REQUEST----- x\n");
	pem_fails(s, "junk after the BEGIN line");
	free(s);
	s = replace(pem, "-----END", "-----NOPE");
	pem_fails(s, "not base64");
	free(s);
	*strstr(pem, "-----END") = '\0';
	pem_fails(pem, "no END line");
	free(pem);

	pem = pem_of(der, len);
	body = strstr(pem, "-----\n") + 6;
	s = replace(pem, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n");
	pem_fails(s, "not base64");
	free(s);
	s = replace(pem, "-----\n", "-----\n\n");
	pem_fails(s, "PEM line 2 is empty");
	free(s);
	body[5] = '!';
	pem_fails(pem, "PEM line 2: 0x21 is not base64");
	body[5] = ' ';
	pem_fails(pem, "0x20 is not base64");
	free(pem);
	OPENSSL_free(der);
}

/* The base64 rules, on bodies too short to be a CSR: the base64 check
 * fires first, so the detail tells which rule. */
static void test_csr_pem_base64(void **state)
{
	static const struct {
		const char *body, *detail;
	} cases[] = {
		{ "QUJD", "not a PKCS#10" },                 /* valid base64, not a CSR */
		{ "QUI=", "not a PKCS#10" },
		{ "QQ==", "not a PKCS#10" },
		{ "QUJ", "not a multiple of 4" },
		{ "QQ", "not a multiple of 4" },
		{ "QQ=A", "'=' inside the base64" },
		{ "Q===", "'=' inside the base64" },
		{ "QQ==\nQUJD", "'=' inside the base64" },
		{ "QR==", "non-canonical base64 padding" },
		{ "QUJ=", "non-canonical base64 padding" },
		{ "QUJD\n\nQUJD", "is empty" },
		{ "QU JD", "0x20 is not base64" },
		{ "QUJD ", "0x20 is not base64" },
		{ "QUJD\t", "0x09 is not base64" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		char pem[256];

		snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE REQUEST-----\n%s\n"
		    "-----END CERTIFICATE REQUEST-----\n", cases[i].body);
		pem_fails(pem, cases[i].detail);
	}
	pem_fails("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
	    "empty PEM block");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_allowed),
		cmocka_unit_test(test_key_refused),
		cmocka_unit_test(test_key_rsa_parts),
		cmocka_unit_test(test_key_ec_explicit),
		cmocka_unit_test(test_csr_allowed_types),
		cmocka_unit_test(test_csr_refused_key_types),
		cmocka_unit_test(test_csr_bad_signature),
		cmocka_unit_test(test_csr_other_signer),
		cmocka_unit_test(test_csr_signature_algorithm),
		cmocka_unit_test(test_csr_version),
		cmocka_unit_test(test_csr_der_framing),
		cmocka_unit_test(test_csr_size),
		cmocka_unit_test(test_csr_ber),
		cmocka_unit_test(test_csr_unsorted_rdn),
		cmocka_unit_test(test_csr_pem_good_variants),
		cmocka_unit_test(test_csr_pem_bad),
		cmocka_unit_test(test_csr_pem_base64),
	};

	return cmocka_run_group_tests(tests, make_keys, free_keys);
}
