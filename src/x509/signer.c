/*
 * signer.c - an OpenSSL key object whose private half lives elsewhere.
 *
 * OpenSSL signs certificates, CRLs and OCSP responses through an EVP_PKEY.
 * We give it an EC_KEY or RSA object that carries only the public key and
 * a method table whose signing entry calls our tsr_sign_fn (the token).
 * OpenSSL treats such "foreign" keys through its legacy path, which is
 * what libp11 relies on too; the deprecated method APIs are confined to
 * this file.  The narrow tsr_sign_fn is the seam where the signer can move
 * into a separate process later: only raw digests cross it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "x509/x509.h"

struct tsr_signer {
	EVP_PKEY *pub;
	EVP_PKEY *pkey;            /* the foreign key handed to OpenSSL */
	enum tsr_key_type type;
	tsr_sign_fn fn;
	void *ctx;
	EC_KEY_METHOD *ec_method;
	RSA_METHOD *rsa_method;
};

static int ec_index = -1;
static int rsa_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_indexes(void)
{
	ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The ECDSA entry point OpenSSL calls with the digest already computed. */
static ECDSA_SIG *ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *rp, EC_KEY *ec)
{
	struct tsr_signer *s = EC_KEY_get_ex_data(ec, ec_index);
	uint8_t raw[2 * 66];
	size_t rawlen = sizeof(raw);
	BIGNUM *r = NULL, *sv = NULL;
	ECDSA_SIG *sig = NULL;

	(void)kinv;
	(void)rp;
	if (s == NULL || dlen <= 0 || s->fn(s->ctx, dgst, (size_t)dlen, raw, &rawlen) != 0 ||
	    rawlen == 0 || rawlen % 2 != 0)
		return NULL;
	r = BN_bin2bn(raw, (int)(rawlen / 2), NULL);
	sv = BN_bin2bn(raw + rawlen / 2, (int)(rawlen / 2), NULL);
	sig = ECDSA_SIG_new();
	if (r == NULL || sv == NULL || sig == NULL || ECDSA_SIG_set0(sig, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	return sig;
}

/* RSA_sign() hands us the DER DigestInfo with PKCS#1 v1.5 padding requested. */
static int rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
    int padding)
{
	struct tsr_signer *s = RSA_get_ex_data(rsa, rsa_index);
	size_t outlen = (size_t)RSA_size(rsa);

	if (s == NULL || padding != RSA_PKCS1_PADDING || flen <= 0)
		return -1;
	if (s->fn(s->ctx, from, (size_t)flen, to, &outlen) != 0)
		return -1;
	return (int)outlen;
}

static int make_ec(struct tsr_signer *s)
{
	int (*sign)(int, const unsigned char *, int, unsigned char *, unsigned int *,
	    const BIGNUM *, const BIGNUM *, EC_KEY *) = NULL;
	int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;
	ECDSA_SIG *(*sign_sig)(const unsigned char *, int, const BIGNUM *, const BIGNUM *,
	    EC_KEY *) = NULL;
	EC_KEY *src = NULL, *ec = NULL;
	int r = TSR_ERR_CRYPTO;

	if ((s->ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		goto out;
	EC_KEY_METHOD_get_sign(s->ec_method, &sign, &setup, &sign_sig);
	EC_KEY_METHOD_set_sign(s->ec_method, sign, NULL, ec_sign_sig);
	if ((src = EVP_PKEY_get1_EC_KEY(s->pub)) == NULL || (ec = EC_KEY_dup(src)) == NULL)
		goto out;
	/* The method must be set before the key is wrapped: that is when
	 * OpenSSL decides the key is foreign and must use the method. */
	if (EC_KEY_set_method(ec, s->ec_method) != 1 || EC_KEY_set_ex_data(ec, ec_index, s) != 1)
		goto out;
	if ((s->pkey = EVP_PKEY_new()) == NULL || EVP_PKEY_set1_EC_KEY(s->pkey, ec) != 1)
		goto out;
	r = 0;
out:
	EC_KEY_free(src);
	EC_KEY_free(ec);
	return r;
}

static int make_rsa(struct tsr_signer *s)
{
	RSA *src = NULL, *rsa = NULL;
	const BIGNUM *n, *e;
	BIGNUM *n2 = NULL, *e2 = NULL;
	int r = TSR_ERR_CRYPTO;

	if ((s->rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL())) == NULL ||
	    RSA_meth_set1_name(s->rsa_method, "tessera-token") != 1 ||
	    RSA_meth_set_priv_enc(s->rsa_method, rsa_priv_enc) != 1)
		goto out;
	if ((src = EVP_PKEY_get1_RSA(s->pub)) == NULL || (rsa = RSA_new()) == NULL)
		goto out;
	RSA_get0_key(src, &n, &e, NULL);
	if ((n2 = BN_dup(n)) == NULL || (e2 = BN_dup(e)) == NULL)
		goto out;
	if (RSA_set0_key(rsa, n2, e2, NULL) != 1)
		goto out;
	n2 = e2 = NULL;
	if (RSA_set_method(rsa, s->rsa_method) != 1 || RSA_set_ex_data(rsa, rsa_index, s) != 1)
		goto out;
	if ((s->pkey = EVP_PKEY_new()) == NULL || EVP_PKEY_set1_RSA(s->pkey, rsa) != 1)
		goto out;
	r = 0;
out:
	BN_free(n2);
	BN_free(e2);
	RSA_free(src);
	RSA_free(rsa);
	return r;
}

int tsr_signer_new(EVP_PKEY *pub, tsr_sign_fn fn, void *ctx, struct tsr_signer **out)
{
	struct tsr_signer *s;
	int r;

	*out = NULL;
	pthread_once(&index_once, make_indexes);
	if (ec_index < 0 || rsa_index < 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot allocate key ex-data index");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = tsr_pubkey_classify(pub, &s->type)) != 0) {
		free(s);
		return r;
	}
	if (EVP_PKEY_up_ref(pub) != 1) {
		free(s);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "EVP_PKEY_up_ref");
	}
	s->pub = pub;
	s->fn = fn;
	s->ctx = ctx;
	r = tsr_key_type_is_rsa(s->type) ? make_rsa(s) : make_ec(s);
	if (r != 0) {
		tsr_error_openssl(r, "cannot wrap the token key for OpenSSL");
		tsr_signer_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void tsr_signer_free(struct tsr_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);
	EVP_PKEY_free(s->pub);
	if (s->ec_method != NULL)
		EC_KEY_METHOD_free(s->ec_method);
	if (s->rsa_method != NULL)
		RSA_meth_free(s->rsa_method);
	free(s);
}

enum tsr_key_type tsr_signer_key_type(const struct tsr_signer *s)
{
	return s->type;
}

const EVP_MD *tsr_signer_md(const struct tsr_signer *s)
{
	switch (s->type) {
	case TSR_KEY_EC_P384:
	case TSR_KEY_RSA_4096:
		return EVP_sha384();
	case TSR_KEY_EC_P256:
	case TSR_KEY_RSA_2048:
	case TSR_KEY_RSA_3072:
		return EVP_sha256();
	case TSR_KEY_NONE:
	default:
		return NULL;
	}
}

EVP_PKEY *tsr_signer_pkey(struct tsr_signer *s)
{
	return s->pkey;
}
