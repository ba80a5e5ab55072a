/*
 * pubkey.c - the public half of a token key as an OpenSSL key.
 *
 * The values come from the token, which we trust to hold our keys but not
 * to encode them the way we expect: each is checked, and the result must
 * pass OpenSSL's public key check, before anyone verifies with it.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "pkcs11/p11_int.h"

/*
 * Find the uncompressed point (0x04 || X || Y) in CKA_EC_POINT.  PKCS#11
 * says it is a DER OCTET STRING wrapping the point (SoftHSM2 does that);
 * some modules store the bare point, which we accept too.
 */
static int ec_point(const struct tsr_buf *b, size_t field_bytes, const uint8_t **out)
{
	size_t raw = 1 + 2 * field_bytes, hdr = 2, len;
	const uint8_t *p = b->data;

	if (b->len == raw && p[0] == 0x04) {
		*out = p;
		return 0;
	}
	if (b->len < 3 || p[0] != 0x04)
		goto bad;
	len = p[1];
	if (p[1] == 0x81) {   /* long form, one length byte */
		len = p[2];
		hdr = 3;
		if (len < 0x80)
			goto bad;   /* DER wants the short form here */
	} else if (p[1] > 0x80) {
		goto bad;
	}
	if (hdr + len != b->len || len != raw || p[hdr] != 0x04)
		goto bad;
	*out = p + hdr;
	return 0;
bad:
	return tsr_error(TSR_ERR_KEY,
	    "CKA_EC_POINT is not an uncompressed point of the key's curve");
}

/* Run OpenSSL's public key check (point on the curve, sane RSA values). */
static int check_public(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return tsr_error_openssl(TSR_ERR_KEY, "the token's public key is not valid");
	return 0;
}

/* Build an EVP_PKEY of type name ("EC", "RSA") from params. */
static int from_params(const char *name, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	int rc = 0;

	*out = NULL;
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = tsr_error_openssl(TSR_ERR_KEY, "cannot build an %s key from the token's "
		    "public key", name);
	EVP_PKEY_CTX_free(ctx);
	if (rc == 0 && (rc = check_public(*out)) < 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

static int ec_public(const struct tsr_p11_key *k, EVP_PKEY **out)
{
	const struct tsr_p11_curve *c = tsr_p11_curve_of_type(k->type);
	struct tsr_buf b;
	const uint8_t *point = NULL;
	int rc;

	if (c == NULL)
		return tsr_error(TSR_ERR_KEY, "not an EC key type: %s", tsr_key_type_name(k->type));
	/* the private key object carries no point: it lives on the public one */
	if (k->pub == CK_INVALID_HANDLE)
		return tsr_error(TSR_ERR_NOT_FOUND,
		    "the token holds no public key object for this EC key");
	if ((rc = tsr_p11_get_attr(k->s, k->pub, CKA_EC_POINT, &b)) < 0)
		return rc;
	if ((rc = ec_point(&b, c->field_bytes, &point)) == 0) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
			    (char *)c->group, 0),
			OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point,
			    1 + 2 * c->field_bytes),
			OSSL_PARAM_construct_end(),
		};

		rc = from_params("EC", params, out);
	}
	tsr_buf_free(&b);
	return rc;
}

/* Modulus and exponent are public on both halves; prefer the public object. */
static int rsa_public(const struct tsr_p11_key *k, EVP_PKEY **out)
{
	CK_OBJECT_HANDLE h = k->pub != CK_INVALID_HANDLE ? k->pub : k->priv;
	struct tsr_buf nb, eb;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	int rc;

	tsr_buf_init(&eb, 0);
	if ((rc = tsr_p11_get_attr(k->s, h, CKA_MODULUS, &nb)) < 0 ||
	    (rc = tsr_p11_get_attr(k->s, h, CKA_PUBLIC_EXPONENT, &eb)) < 0)
		goto out;
	n = BN_bin2bn(nb.data, (int)nb.len, NULL);
	e = BN_bin2bn(eb.data, (int)eb.len, NULL);
	if (n == NULL || e == NULL) {
		rc = tsr_error_openssl(TSR_ERR_NOMEM, "cannot read the RSA public key");
		goto out;
	}
	if (BN_num_bits(n) != tsr_key_type_bits(k->type)) {
		rc = tsr_error(TSR_ERR_KEY, "the token's RSA modulus has %d bits, %d expected",
		    BN_num_bits(n), tsr_key_type_bits(k->type));
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		rc = tsr_error_openssl(TSR_ERR_NOMEM, "cannot build the RSA public key");
		goto out;
	}
	rc = from_params("RSA", params, out);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	tsr_buf_free(&nb);
	tsr_buf_free(&eb);
	return rc;
}

/* The public key as a new OpenSSL key (the caller EVP_PKEY_free()s it). */
int tsr_p11_key_public(const struct tsr_p11_key *k, EVP_PKEY **out)
{
	*out = NULL;
	if (k == NULL)
		return tsr_error(TSR_ERR_INVALID, "no key");
	if (tsr_key_type_is_rsa(k->type))
		return rsa_public(k, out);
	return ec_public(k, out);
}
