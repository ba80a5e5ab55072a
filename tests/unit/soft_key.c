/*
 * soft_key.c - software keys for the unit tests that sign: a stand-in for
 * tsr_p11_key_sign (the same input and output format) and key generation
 * by type.  Shared by test_cert.c and test_cms.c.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "soft_key.h"

/* A software stand-in for tsr_p11_key_sign: same input and output format. */
int soft_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	EVP_PKEY *key = ctx;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	uint8_t der[256];
	size_t derlen = sizeof(der);
	int ok;

	ok = c != NULL && EVP_PKEY_sign_init(c) == 1;
	if (ok && EVP_PKEY_is_a(key, "RSA")) {
		ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_sign(c, out, outlen, in, inlen) == 1;
	} else if (ok) {
		const unsigned char *p = der;
		ECDSA_SIG *sig = NULL;
		int half = (EVP_PKEY_get_bits(key) + 7) / 8;

		ok = EVP_PKEY_sign(c, der, &derlen, in, inlen) == 1 &&
		    (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL &&
		    *outlen >= (size_t)(2 * half) &&
		    BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, half) == half &&
		    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + half, half) == half;
		*outlen = (size_t)(2 * half);
		ECDSA_SIG_free(sig);
	}
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : TSR_ERR_CRYPTO;
}

EVP_PKEY *make_key(enum tsr_key_type t)
{
	switch (t) {
	case TSR_KEY_EC_P256: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case TSR_KEY_EC_P384: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case TSR_KEY_RSA_2048: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case TSR_KEY_RSA_3072: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	case TSR_KEY_RSA_4096: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	case TSR_KEY_NONE:
	default: return NULL;
	}
}
