/*
 * key.c - key pairs on a token: generation, lookup, the public half as an
 * OpenSSL key, raw signatures, and destruction.
 *
 * A private key is made sensitive and non-extractable when it is generated
 * and may only sign; nothing here can read it or change that.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "pkcs11/p11_int.h"

#define ID_MAX 64
#define SIG_MAX 512   /* RSA-4096 */

/* DER OIDs as CKA_EC_PARAMS holds them (namedCurve). */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

static const struct tsr_p11_curve curves[] = {
	{ TSR_KEY_EC_P256, oid_p256, sizeof(oid_p256), "prime256v1", 32 },
	{ TSR_KEY_EC_P384, oid_p384, sizeof(oid_p384), "secp384r1", 48 },
};

const struct tsr_p11_curve *tsr_p11_curve_of_type(enum tsr_key_type type)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(curves); i++)
		if (curves[i].type == type)
			return &curves[i];
	return NULL;
}

static const struct tsr_p11_curve *curve_of_params(const struct tsr_buf *params)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(curves); i++)
		if (params->len == curves[i].oid_len &&
		    memcmp(params->data, curves[i].oid, params->len) == 0)
			return &curves[i];
	return NULL;
}

/* The size of a raw signature: r||s for EC, the modulus for RSA. */
static size_t sig_len(enum tsr_key_type type)
{
	const struct tsr_p11_curve *c = tsr_p11_curve_of_type(type);

	if (c != NULL)
		return 2 * c->field_bytes;
	return (size_t)tsr_key_type_bits(type) / 8;
}

/* ------------------------------------------------------------------ generation */
/* TSR_ERR_EXISTS if a private key with this id is on the token. */
static int id_taken(struct tsr_p11_session *s, const uint8_t *id, size_t id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE h;
	CK_ULONG n;
	int rc;

	if ((rc = tsr_p11_find(s, tmpl, TSR_ARRAY_LEN(tmpl), &h, 1, &n)) < 0)
		return rc;
	if (n > 0)
		return tsr_error(TSR_ERR_EXISTS,
		    "a private key with this id is already on the token");
	return 0;
}

/*
 * C_GenerateKeyPair with Tessera's templates plus the mechanism's own
 * public-key attributes (extra, at most 2).
 */
static int generate(struct tsr_p11_key *k, const char *label, CK_MECHANISM_TYPE mech,
    const CK_ATTRIBUTE *extra, CK_ULONG n_extra)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub[9] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },   /* readable without login */
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_WRAP, &no, sizeof(no) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, k->id, k->id_len },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, k->id, k->id_len },
	};
	CK_ULONG n_pub = 7;
	CK_RV rv;

	if (n_extra > TSR_ARRAY_LEN(pub) - n_pub)
		return tsr_error(TSR_ERR_INTERNAL, "too many key generation attributes");
	for (CK_ULONG i = 0; i < n_extra; i++)
		pub[n_pub++] = extra[i];
	rv = k->s->mod->fn->C_GenerateKeyPair(k->s->h, &m, pub, n_pub, priv,
	    TSR_ARRAY_LEN(priv), &k->pub, &k->priv);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_GenerateKeyPair", rv);
	return 0;
}

static int generate_typed(struct tsr_p11_key *k, const char *label)
{
	const struct tsr_p11_curve *c = tsr_p11_curve_of_type(k->type);
	uint8_t exponent[] = { 0x01, 0x00, 0x01 };   /* 65537 */
	CK_ULONG bits = (CK_ULONG)tsr_key_type_bits(k->type);

	if (c != NULL) {
		CK_ATTRIBUTE ec[] = { { CKA_EC_PARAMS, (void *)c->oid, c->oid_len } };

		return generate(k, label, CKM_EC_KEY_PAIR_GEN, ec, TSR_ARRAY_LEN(ec));
	}
	if (tsr_key_type_is_rsa(k->type)) {
		CK_ATTRIBUTE rsa[] = {
			{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
			{ CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent) },
		};

		return generate(k, label, CKM_RSA_PKCS_KEY_PAIR_GEN, rsa, TSR_ARRAY_LEN(rsa));
	}
	return tsr_error(TSR_ERR_KEY, "cannot generate a key of type %s",
	    tsr_key_type_name(k->type));
}

/*
 * Generate a key pair of type on the token, both halves labelled label
 * and identified by id (1..64 bytes).  The private key is a sensitive,
 * non-extractable signing-only token object.  TSR_ERR_EXISTS if a private
 * key with this id is already there.  Requires login.
 */
int tsr_p11_keygen(struct tsr_p11_session *s, enum tsr_key_type type, const char *label,
    const uint8_t *id, size_t id_len, struct tsr_p11_key **out)
{
	struct tsr_p11_key *k;
	int rc;

	*out = NULL;
	if (s == NULL || label == NULL || id == NULL)
		return tsr_error(TSR_ERR_INVALID, "key generation needs a session, label and id");
	if (id_len == 0 || id_len > ID_MAX)
		return tsr_error(TSR_ERR_INVALID, "key id must be 1 to %d bytes", ID_MAX);
	if (tsr_key_type_bits(type) == 0)
		return tsr_error(TSR_ERR_KEY, "cannot generate a key of type %s",
		    tsr_key_type_name(type));
	if ((rc = id_taken(s, id, id_len)) < 0)
		return rc;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	k->s = s;
	k->type = type;
	memcpy(k->id, id, id_len);
	k->id_len = id_len;
	if ((rc = generate_typed(k, label)) < 0) {
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* ------------------------------------------------------------------ lookup */
/* Work out which of our key types the private key is; TSR_ERR_KEY if none. */
static int key_type_of(struct tsr_p11_key *k, CK_KEY_TYPE *kt)
{
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, kt, sizeof(*kt) };
	const struct tsr_p11_curve *c;
	struct tsr_buf b;
	BIGNUM *n;
	CK_RV rv;
	int rc, bits;

	rv = k->s->mod->fn->C_GetAttributeValue(k->s->h, k->priv, &a, 1);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	switch (*kt) {
	case CKK_EC:
		if ((rc = tsr_p11_get_attr(k->s, k->priv, CKA_EC_PARAMS, &b)) < 0)
			return rc;
		c = curve_of_params(&b);
		tsr_buf_free(&b);
		if (c == NULL)
			return tsr_error(TSR_ERR_KEY, "the key's curve is not P-256 or P-384");
		k->type = c->type;
		return 0;
	case CKK_RSA:
		if ((rc = tsr_p11_get_attr(k->s, k->priv, CKA_MODULUS, &b)) < 0)
			return rc;
		n = BN_bin2bn(b.data, (int)b.len, NULL);
		tsr_buf_free(&b);
		if (n == NULL)
			return tsr_error_openssl(TSR_ERR_NOMEM, "cannot read the key's modulus");
		bits = BN_num_bits(n);
		BN_free(n);
		k->type = bits == 2048 ? TSR_KEY_RSA_2048 : bits == 3072 ? TSR_KEY_RSA_3072 :
		    bits == 4096 ? TSR_KEY_RSA_4096 : TSR_KEY_NONE;
		if (k->type == TSR_KEY_NONE)
			return tsr_error(TSR_ERR_KEY, "RSA key of %d bits is not allowed", bits);
		return 0;
	default:
		return tsr_error(TSR_ERR_KEY, "the key is neither EC nor RSA (CKK %#lx)", *kt);
	}
}

/* Remember the private key's id and find its public half by that id, if any. */
static int find_public(struct tsr_p11_key *k, CK_KEY_TYPE kt)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_ID, k->id, 0 },
	};
	CK_OBJECT_HANDLE h[2];
	struct tsr_buf id;
	CK_ULONG n;
	int rc;

	if ((rc = tsr_p11_get_attr(k->s, k->priv, CKA_ID, &id)) < 0)
		return rc;
	if (id.len > ID_MAX) {
		tsr_buf_free(&id);
		return tsr_error(TSR_ERR_KEY, "the key's CKA_ID is longer than %d bytes", ID_MAX);
	}
	if (id.len > 0)
		memcpy(k->id, id.data, id.len);
	k->id_len = id.len;
	tsr_buf_free(&id);
	k->pub = CK_INVALID_HANDLE;
	if (k->id_len == 0)
		return 0;   /* nothing ties a public key to it */
	tmpl[2].ulValueLen = k->id_len;
	if ((rc = tsr_p11_find(k->s, tmpl, TSR_ARRAY_LEN(tmpl), h, 2, &n)) < 0)
		return rc;
	if (n == 1)
		k->pub = h[0];
	return 0;
}

/* Why a search for a private key came back empty: often, no login. */
static const char *login_hint(struct tsr_p11_session *s)
{
	CK_SESSION_INFO si;

	if (s->mod->fn->C_GetSessionInfo(s->h, &si) == CKR_OK &&
	    si.state != CKS_RW_USER_FUNCTIONS && si.state != CKS_RO_USER_FUNCTIONS)
		return " (not logged in: private keys are only visible after login)";
	return "";
}

/*
 * Find the one private key labelled label (and with id, if id_len > 0; a
 * NULL label then searches by id alone).  TSR_ERR_NOT_FOUND if there is
 * none, TSR_ERR_INVALID if several match, TSR_ERR_KEY if it is not one of
 * our key types.  The key refers to s, which must outlive it.
 */
int tsr_p11_key_find(struct tsr_p11_session *s, const char *label, const uint8_t *id,
    size_t id_len, struct tsr_p11_key **out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[3] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ULONG nt = 1, n;
	CK_OBJECT_HANDLE h[2];
	CK_KEY_TYPE kt;
	struct tsr_p11_key *k;
	int rc;

	*out = NULL;
	if (s == NULL || (label == NULL && id_len == 0) || (id == NULL && id_len > 0))
		return tsr_error(TSR_ERR_INVALID, "key lookup needs a label or an id");
	if (label != NULL)
		tmpl[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	if (id_len > 0)
		tmpl[nt++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
	if ((rc = tsr_p11_find(s, tmpl, nt, h, 2, &n)) < 0)
		return rc;
	if (n == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "no private key %s%s%s on the token%s",
		    label ? "labelled '" : "with that id", label ? label : "", label ? "'" : "",
		    login_hint(s));
	if (n > 1)
		return tsr_error(TSR_ERR_INVALID, "several private keys match%s%s%s; give an id",
		    label ? " the label '" : "", label ? label : "", label ? "'" : "");
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	k->s = s;
	k->priv = h[0];
	if ((rc = key_type_of(k, &kt)) < 0 || (rc = find_public(k, kt)) < 0) {
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* Forget the key (the token keeps it).  NULL is fine. */
void tsr_p11_key_free(struct tsr_p11_key *k)
{
	free(k);
}

enum tsr_key_type tsr_p11_key_type(const struct tsr_p11_key *k)
{
	return k ? k->type : TSR_KEY_NONE;
}

/* ------------------------------------------------------------------ attributes */
/* The private key's protection flags, as the token reports them. */
int tsr_p11_key_attrs(const struct tsr_p11_key *k, struct tsr_p11_key_attrs *out)
{
	const struct {
		CK_ATTRIBUTE_TYPE type;
		bool *field;
	} flags[] = {
		{ CKA_SENSITIVE, &out->sensitive },
		{ CKA_ALWAYS_SENSITIVE, &out->always_sensitive },
		{ CKA_EXTRACTABLE, &out->extractable },
		{ CKA_NEVER_EXTRACTABLE, &out->never_extractable },
		{ CKA_PRIVATE, &out->private_ },
		{ CKA_TOKEN, &out->token },
	};
	int rc;

	memset(out, 0, sizeof(*out));
	if (k == NULL || k->priv == CK_INVALID_HANDLE)
		return tsr_error(TSR_ERR_INVALID, "no key");
	for (size_t i = 0; i < TSR_ARRAY_LEN(flags); i++)
		if ((rc = tsr_p11_get_bool(k->s, k->priv, flags[i].type, flags[i].field)) < 0)
			return rc;
	return 0;
}

/* ------------------------------------------------------------------ signing */
/*
 * Raw signature: CKM_ECDSA over a digest (out is r||s, 2 * field bytes) or
 * CKM_RSA_PKCS over a DER DigestInfo (out is modulus-sized).  *outlen holds
 * out's size on entry and the signature's length on return.  A session
 * must not sign from two threads at once.
 */
int tsr_p11_key_sign(struct tsr_p11_key *k, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	uint8_t sig[SIG_MAX];
	CK_ULONG len = sizeof(sig);
	size_t want;
	CK_RV rv;

	if (k == NULL || in == NULL || out == NULL || outlen == NULL ||
	    k->priv == CK_INVALID_HANDLE)
		return tsr_error(TSR_ERR_INVALID, "signing needs a key, input and output");
	want = sig_len(k->type);
	if (want == 0 || want > sizeof(sig))
		return tsr_error(TSR_ERR_INTERNAL, "no signature size for key type %s",
		    tsr_key_type_name(k->type));
	if (*outlen < want)
		return tsr_error(TSR_ERR_INVALID, "signature buffer holds %zu bytes, %zu needed",
		    *outlen, want);
	if (tsr_key_type_is_rsa(k->type)) {
		m.mechanism = CKM_RSA_PKCS;
		if (inlen == 0 || inlen > want - 11)   /* PKCS#1 v1.5 padding needs 11 */
			return tsr_error(TSR_ERR_INVALID, "DigestInfo of %zu bytes does not fit "
			    "the key", inlen);
	} else if (inlen < 20 || inlen > 64) {
		return tsr_error(TSR_ERR_INVALID, "%zu bytes is not a digest", inlen);
	}
	rv = k->s->mod->fn->C_SignInit(k->s->h, &m, k->priv);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_SignInit", rv);
	/* sig is large enough for any key, so C_Sign cannot stop half-way */
	rv = k->s->mod->fn->C_Sign(k->s->h, (CK_BYTE *)in, inlen, sig, &len);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_Sign", rv);
	if (len != want)
		return tsr_error(TSR_ERR_PKCS11, "C_Sign returned %lu bytes, %zu expected", len,
		    want);
	memcpy(out, sig, want);
	*outlen = want;
	return 0;
}

/* ------------------------------------------------------------------ destruction */
/*
 * Destroy the private key and, if the token has it, its public half.  The
 * key object stays valid for tsr_p11_key_free() only.
 */
int tsr_p11_key_destroy(struct tsr_p11_key *k)
{
	CK_RV rv;

	if (k == NULL || k->priv == CK_INVALID_HANDLE)
		return tsr_error(TSR_ERR_INVALID, "no key to destroy");
	rv = k->s->mod->fn->C_DestroyObject(k->s->h, k->priv);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_DestroyObject (private key)", rv);
	k->priv = CK_INVALID_HANDLE;
	if (k->pub != CK_INVALID_HANDLE) {
		rv = k->s->mod->fn->C_DestroyObject(k->s->h, k->pub);
		if (rv != CKR_OK)
			return tsr_p11_rv_error("C_DestroyObject (public key)", rv);
		k->pub = CK_INVALID_HANDLE;
	}
	return 0;
}
