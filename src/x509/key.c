/*
 * key.c - which public keys Tessera certifies: RSA 2048/3072/4096 with a
 * sane exponent, EC on P-256 or P-384 with a named curve and a valid point.
 * Everything else is refused with a message naming what was found.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "x509/x509.h"

/* FIPS 186-4 B.3.1: 2^16 < e < 2^256. */
#define RSA_E_MAX_BITS 256

static int classify_rsa(EVP_PKEY *pk, enum tsr_key_type *out)
{
	BIGNUM *n = NULL, *e = NULL;
	int bits, rc;

	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
		rc = tsr_error_openssl(TSR_ERR_KEY, "cannot read the RSA key's modulus and exponent");
		goto out;
	}
	bits = BN_num_bits(n);
	if (bits < 2048) {
		rc = tsr_error(TSR_ERR_KEY, "RSA key of %d bits is too small (at least 2048)", bits);
		goto out;
	}
	switch (bits) {
	case 2048:
		*out = TSR_KEY_RSA_2048;
		break;
	case 3072:
		*out = TSR_KEY_RSA_3072;
		break;
	case 4096:
		*out = TSR_KEY_RSA_4096;
		break;
	default:
		rc = tsr_error(TSR_ERR_KEY, "RSA key of %d bits is not one of 2048, 3072, 4096",
		    bits);
		goto out;
	}
	/* An even modulus cannot be a product of two large primes. */
	if (!BN_is_odd(n)) {
		rc = tsr_error(TSR_ERR_KEY, "RSA modulus is even: not a valid RSA key");
		goto out;
	}
	if (!BN_is_odd(e) || BN_num_bits(e) < 17 || BN_num_bits(e) > RSA_E_MAX_BITS) {
		char *dec = BN_bn2dec(e);

		rc = tsr_error(TSR_ERR_KEY, "RSA public exponent %s is not allowed (odd, at least "
		    "65537 and below 2^256)", dec && strlen(dec) <= 80 ? dec : "(large)");
		OPENSSL_free(dec);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		*out = TSR_KEY_NONE;
	BN_free(n);
	BN_free(e);
	return rc;
}

/* RFC 5480: a named curve only; explicit parameters can describe any curve. */
static int check_named_curve(EVP_PKEY *pk)
{
	char enc[32];
	size_t len = 0;

	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc),
	    &len) && strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
		return tsr_error(TSR_ERR_KEY, "EC keys with explicit curve parameters are not "
		    "allowed (use a named curve)");
	ERR_clear_error();
	return 0;
}

static int classify_ec(EVP_PKEY *pk, enum tsr_key_type *out)
{
	EVP_PKEY_CTX *ctx = NULL;
	char group[64];
	size_t len = 0;
	int nid, rc;

	if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), &len)) {
		rc = tsr_error_openssl(TSR_ERR_KEY, "EC key on an unnamed curve is not allowed "
		    "(use P-256 or P-384)");
		goto out;
	}
	if ((rc = check_named_curve(pk)) != 0)
		goto out;
	nid = OBJ_txt2nid(group);
	if (nid == NID_X9_62_prime256v1) {
		*out = TSR_KEY_EC_P256;
	} else if (nid == NID_secp384r1) {
		*out = TSR_KEY_EC_P384;
	} else {
		rc = tsr_error(TSR_ERR_KEY, "EC curve %s is not allowed (use P-256 or P-384)", group);
		goto out;
	}
	/* On the curve, not the point at infinity, in the right subgroup. */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL) {
		rc = tsr_error_openssl(TSR_ERR_NOMEM, "cannot check the EC key");
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		rc = tsr_error_openssl(TSR_ERR_KEY, "EC public key is not a valid point on %s",
		    group);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		*out = TSR_KEY_NONE;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/*
 * Classify pk (not consumed) as one of the allowed key types into *out;
 * TSR_ERR_KEY with a detail naming the key otherwise (*out = TSR_KEY_NONE).
 */
int tsr_pubkey_classify(EVP_PKEY *pk, enum tsr_key_type *out)
{
	const char *type;

	*out = TSR_KEY_NONE;
	if (pk == NULL)
		return tsr_error(TSR_ERR_INVALID, "no public key given");
	/* "RSA" matches plain rsaEncryption only; RSA-PSS keys are refused below. */
	if (EVP_PKEY_is_a(pk, "RSA"))
		return classify_rsa(pk, out);
	if (EVP_PKEY_is_a(pk, "EC"))
		return classify_ec(pk, out);
	type = EVP_PKEY_get0_type_name(pk);
	return tsr_error(TSR_ERR_KEY, "%s keys are not allowed (use RSA or EC P-256/P-384)",
	    type ? type : "unknown");
}
