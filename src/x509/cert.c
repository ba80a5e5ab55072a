/*
 * cert.c - build a certificate from a template, and sign it.
 *
 * Every field comes from the template, which the caller fills from the
 * product and the approved request; nothing is copied from a CSR.  The
 * build puts the signature algorithm in place before lint, so that lint
 * sees the very TBS bytes that are signed; tsr_cert_sign() checks that.
 */
#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

int tsr_serial_random(uint8_t serial[20], size_t *len)
{
	int r;

	/* 16 bytes: 127 bits from the CSPRNG once the sign bit is cleared,
	 * well over the 64 the CA/Browser Forum requires. */
	do {
		if ((r = tsr_random(serial, 16)) != 0)
			return r;
		serial[0] &= 0x7f;
	} while (serial[0] == 0);
	*len = 16;
	return 0;
}

static int add_ext(X509 *x, int nid, void *value, int critical)
{
	if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_APPEND) != 1)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
	return 0;
}

static int add_basic_constraints(X509 *x, bool ca, int pathlen)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int r;

	if (bc == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	bc->ca = ca ? 0xff : 0;
	if (ca && pathlen >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (bc->pathlen == NULL || ASN1_INTEGER_set(bc->pathlen, pathlen) != 1) {
			BASIC_CONSTRAINTS_free(bc);
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		}
	}
	r = add_ext(x, NID_basic_constraints, bc, 1);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* keyUsage from KU_* flags (x509v3.h); bit n of the BIT STRING is 0x80 >> n. */
static int add_key_usage(X509 *x, unsigned ku)
{
	static const struct {
		unsigned flag;
		int bit;
	} bits[] = {
		{ KU_DIGITAL_SIGNATURE, 0 }, { KU_NON_REPUDIATION, 1 }, { KU_KEY_ENCIPHERMENT, 2 },
		{ KU_DATA_ENCIPHERMENT, 3 }, { KU_KEY_AGREEMENT, 4 }, { KU_KEY_CERT_SIGN, 5 },
		{ KU_CRL_SIGN, 6 },
	};
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	int r = 0;

	if (bs == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < TSR_ARRAY_LEN(bits); i++)
		if ((ku & bits[i].flag) && ASN1_BIT_STRING_set_bit(bs, bits[i].bit, 1) != 1)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0)
		r = add_ext(x, NID_key_usage, bs, 1);
	ASN1_BIT_STRING_free(bs);
	return r;
}

static int add_eku(X509 *x, const char *const *oids, size_t n, int ocsp)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	int r = 0;

	if (eku == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n + (ocsp ? 1 : 0) && r == 0; i++) {
		ASN1_OBJECT *o = i < n ? OBJ_txt2obj(oids[i], 1) : OBJ_nid2obj(NID_OCSP_sign);

		if (o == NULL || sk_ASN1_OBJECT_push(eku, o) <= 0) {
			ASN1_OBJECT_free(o);
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "bad extended key usage");
		}
	}
	if (r == 0)
		r = add_ext(x, NID_ext_key_usage, eku, 0);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return r;
}

static int add_policies(X509 *x, const char *const *oids, size_t n)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	int r = 0;

	if (pols == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < (n ? n : 1) && r == 0; i++) {
		POLICYINFO *pi = POLICYINFO_new();

		if (pi != NULL) {
			ASN1_OBJECT_free(pi->policyid);
			pi->policyid = n ? OBJ_txt2obj(oids[i], 1) : OBJ_nid2obj(NID_any_policy);
		}
		if (pi == NULL || pi->policyid == NULL || sk_POLICYINFO_push(pols, pi) <= 0) {
			POLICYINFO_free(pi);
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "bad certificate policy OID");
		}
	}
	if (r == 0)
		r = add_ext(x, NID_certificate_policies, pols, 0);
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	return r;
}

static GENERAL_NAME *uri_name(const char *uri)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || ASN1_STRING_set(s, uri, (int)strlen(uri)) != 1) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	return gn;
}

static int add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *gn = uri_name(url);
	int r = TSR_ERR_NOMEM;

	if (dps == NULL || dp == NULL || gn == NULL)
		goto out;
	if ((dp->distpoint = DIST_POINT_NAME_new()) == NULL)
		goto out;
	dp->distpoint->type = 0;
	if ((dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) <= 0)
		goto out;
	gn = NULL;
	if (sk_DIST_POINT_push(dps, dp) <= 0)
		goto out;
	dp = NULL;
	r = add_ext(x, NID_crl_distribution_points, dps, 0);
out:
	if (r == TSR_ERR_NOMEM)
		tsr_error(r, "out of memory");
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return r;
}

static int push_access(AUTHORITY_INFO_ACCESS *aia, int method, const char *url)
{
	ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();

	if (ad == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(method);
	GENERAL_NAME_free(ad->location);
	ad->location = uri_name(url);
	if (ad->location == NULL || sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
		ACCESS_DESCRIPTION_free(ad);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int add_aia(X509 *x, const char *ocsp, const char *ca_issuers)
{
	AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
	int r = 0;

	if (aia == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (ocsp != NULL)
		r = push_access(aia, NID_ad_OCSP, ocsp);
	if (r == 0 && ca_issuers != NULL)
		r = push_access(aia, NID_ad_ca_issuers, ca_issuers);
	if (r == 0)
		r = add_ext(x, NID_info_access, aia, 0);
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return r;
}

static GENERAL_NAME *san_name(const struct tsr_san *san)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s = NULL;
	uint8_t ip[16];
	int type = GEN_DNS;

	if (gn == NULL)
		return NULL;
	switch (san->type) {
	case TSR_SAN_IP:
		type = GEN_IPADD;
		s = ASN1_OCTET_STRING_new();
		if (s == NULL)
			break;
		if (inet_pton(AF_INET, san->value, ip) == 1)
			ASN1_STRING_set(s, ip, 4);
		else if (inet_pton(AF_INET6, san->value, ip) == 1)
			ASN1_STRING_set(s, ip, 16);
		break;
	case TSR_SAN_DNS:
	case TSR_SAN_EMAIL:
	case TSR_SAN_URI:
	default:
		type = san->type == TSR_SAN_EMAIL ? GEN_EMAIL :
		    san->type == TSR_SAN_URI ? GEN_URI : GEN_DNS;
		s = ASN1_IA5STRING_new();
		if (s != NULL)
			ASN1_STRING_set(s, san->value, (int)strlen(san->value));
		break;
	}
	if (s == NULL || ASN1_STRING_length(s) == 0) {
		ASN1_STRING_free(s);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	return gn;
}

static int add_sans(X509 *x, const struct tsr_san *sans, size_t n, bool critical)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	int r = 0;

	if (names == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		GENERAL_NAME *gn = san_name(&sans[i]);

		if (gn == NULL || sk_GENERAL_NAME_push(names, gn) <= 0) {
			GENERAL_NAME_free(gn);
			r = tsr_error(TSR_ERR_INVALID, "cannot encode SAN %s:%s",
			    tsr_san_type_name(sans[i].type), sans[i].value);
		}
	}
	if (r == 0)
		r = add_ext(x, NID_subject_alt_name, names, critical);
	GENERAL_NAMES_free(names);
	return r;
}

/* SKI by RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
static int add_key_ids(X509 *x, const X509 *issuer)
{
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const ASN1_OCTET_STRING *issuer_ski;
	int r = TSR_ERR_NOMEM;

	if (ski == NULL || aki == NULL)
		goto out;
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1 ||
	    ASN1_OCTET_STRING_set(ski, md, (int)mdlen) != 1) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot compute the subject key identifier");
		goto out;
	}
	if ((r = add_ext(x, NID_subject_key_identifier, ski, 0)) != 0)
		goto out;
	issuer_ski = issuer ? X509_get0_subject_key_id((X509 *)issuer) : ski;
	if (issuer_ski == NULL) {
		r = tsr_error(TSR_ERR_INVALID, "the issuer certificate has no subject key identifier");
		goto out;
	}
	if ((aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = add_ext(x, NID_authority_key_identifier, aki, 0);
out:
	if (r == TSR_ERR_NOMEM)
		tsr_error(r, "out of memory");
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	return r;
}

static int add_nocheck(X509 *x)
{
	ASN1_NULL *null = ASN1_NULL_new();
	int r;

	if (null == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	r = add_ext(x, NID_id_pkix_OCSP_noCheck, null, 0);
	ASN1_NULL_free(null);
	return r;
}

static int add_subscriber_exts(X509 *x, const struct tsr_cert_template *t)
{
	const struct tsr_product *p = t->product;
	int r;

	if (p == NULL)
		return tsr_error(TSR_ERR_INVALID, "a subscriber certificate needs a product");
	if ((r = add_basic_constraints(x, false, -1)) != 0 ||
	    (r = add_key_usage(x, tsr_product_key_usage(p))) != 0 ||
	    (r = add_eku(x, (const char *const *)p->eku, p->n_eku, 0)) != 0 ||
	    (r = add_policies(x, (const char *const *)p->policies, p->n_policies)) != 0)
		return r;
	if (t->n_sans > 0) {
		/* RFC 5280 4.2.1.6: critical when the subject is empty. */
		bool critical = X509_NAME_entry_count(t->subject) == 0;

		if ((r = add_sans(x, t->sans, t->n_sans, critical)) != 0)
			return r;
	}
	return 0;
}

static int add_extensions(X509 *x, const struct tsr_cert_template *t)
{
	int r = 0;

	switch (t->kind) {
	case TSR_CERT_ROOT:
		r = add_basic_constraints(x, true, -1);
		if (r == 0)
			r = add_key_usage(x, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
		break;
	case TSR_CERT_ISSUING:
		r = add_basic_constraints(x, true, 0);
		if (r == 0)
			r = add_key_usage(x, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
		if (r == 0)
			r = add_policies(x, t->ca_policies, t->n_ca_policies);
		break;
	case TSR_CERT_OCSP:
		r = add_basic_constraints(x, false, -1);
		if (r == 0)
			r = add_key_usage(x, KU_DIGITAL_SIGNATURE);
		if (r == 0)
			r = add_eku(x, NULL, 0, 1);
		if (r == 0)
			r = add_nocheck(x);
		break;
	case TSR_CERT_SUBSCRIBER:
		r = add_subscriber_exts(x, t);
		break;
	default:
		return tsr_error(TSR_ERR_INTERNAL, "unknown certificate kind %d", (int)t->kind);
	}
	if (r == 0)
		r = add_key_ids(x, t->issuer);
	if (r == 0 && t->crl_url != NULL)
		r = add_crl_dp(x, t->crl_url);
	if (r == 0 && (t->ocsp_url != NULL || t->ca_issuers_url != NULL))
		r = add_aia(x, t->ocsp_url, t->ca_issuers_url);
	return r;
}

/*
 * Put the signer's algorithm into both AlgorithmIdentifiers.  OpenSSL only
 * does this while signing; we need it earlier, so that the TBS that lint
 * checks is byte for byte the TBS that gets signed.
 */
static int set_sig_alg(X509 *x, const struct tsr_signer *signer)
{
	const EVP_MD *md = tsr_signer_md(signer);
	bool rsa = tsr_key_type_is_rsa(tsr_signer_key_type(signer));
	const X509_ALGOR *inner = X509_get0_tbs_sigalg(x);
	const X509_ALGOR *outer = NULL;
	int sig_nid;

	X509_get0_signature(NULL, &outer, x);
	if (md == NULL || OBJ_find_sigid_by_algs(&sig_nid, EVP_MD_get_type(md),
	    rsa ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey) != 1)
		return tsr_error(TSR_ERR_INTERNAL, "no signature algorithm for this key");
	/* RFC 5754: NULL parameters for RSA, absent for ECDSA. */
	if (X509_ALGOR_set0((X509_ALGOR *)inner, OBJ_nid2obj(sig_nid),
	    rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1 ||
	    X509_ALGOR_set0((X509_ALGOR *)outer, OBJ_nid2obj(sig_nid),
	    rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot set the signature algorithm");
	return 0;
}

static int set_serial(X509 *x, const uint8_t *serial, size_t len)
{
	BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	int ok = ai != NULL && X509_set_serialNumber(x, ai) == 1;

	BN_free(bn);
	ASN1_INTEGER_free(ai);
	return ok ? 0 : tsr_error_openssl(TSR_ERR_CRYPTO, "cannot set the serial number");
}

int tsr_cert_build(const struct tsr_cert_template *t, const struct tsr_signer *signer, X509 **out)
{
	X509 *x = X509_new();
	const X509_NAME *issuer_name;
	int r;

	*out = NULL;
	if (x == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (t->serial_len == 0 || t->serial_len > 20 || t->not_after <= t->not_before) {
		r = tsr_error(TSR_ERR_INVALID, "bad serial or validity in certificate template");
		goto out;
	}
	issuer_name = t->issuer ? X509_get_subject_name(t->issuer) : t->subject;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_issuer_name(x, issuer_name) != 1 ||
	    X509_set_subject_name(x, t->subject) != 1 ||
	    X509_set_pubkey(x, t->pubkey) != 1 ||
	    /* ASN1_TIME_set picks UTCTime up to 2049, GeneralizedTime after,
	     * as RFC 5280 4.1.2.5 requires. */
	    ASN1_TIME_set(X509_getm_notBefore(x), t->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), t->not_after) == NULL) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot fill the certificate");
		goto out;
	}
	if ((r = set_serial(x, t->serial, t->serial_len)) != 0 ||
	    (r = add_extensions(x, t)) != 0 ||
	    (r = set_sig_alg(x, signer)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return r;
}

int tsr_cert_tbs_der(X509 *cert, uint8_t **out, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_re_X509_tbs(cert, &der);

	if (n <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the TBS certificate");
	*out = der;
	*len = (size_t)n;
	return 0;
}

int tsr_cert_sign(X509 *cert, struct tsr_signer *signer, const X509 *issuer,
    const uint8_t *tbs_der, size_t tbs_len)
{
	EVP_PKEY *verify_key;
	uint8_t *signed_tbs = NULL;
	size_t signed_len = 0;
	int r;

	if (X509_sign(cert, tsr_signer_pkey(signer), tsr_signer_md(signer)) <= 0)
		return tsr_error_openssl(TSR_ERR_PKCS11, "signing in the token failed");
	if ((r = tsr_cert_tbs_der(cert, &signed_tbs, &signed_len)) != 0)
		return r;
	if (signed_len != tbs_len || memcmp(signed_tbs, tbs_der, tbs_len) != 0) {
		r = tsr_error(TSR_ERR_INTERNAL, "the signed TBS differs from the linted one");
		goto out;
	}
	/* Check the token's work, as a relying party would: a faulty HSM or a
	 * wrong key must never produce a certificate we hand out. */
	verify_key = X509_get0_pubkey(issuer ? issuer : cert);
	if (verify_key == NULL || X509_verify(cert, verify_key) != 1)
		r = tsr_error_openssl(TSR_ERR_PKCS11,
		    "the token's signature does not verify with the issuer's key");
out:
	OPENSSL_free(signed_tbs);
	return r;
}

int tsr_cert_make(const struct tsr_cert_template *t, struct tsr_signer *signer, time_t now,
    struct tsr_lint_findings *findings, X509 **out)
{
	struct tsr_lint_findings local;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	X509 *cert = NULL;
	int r;

	*out = NULL;
	if ((r = tsr_cert_build(t, signer, &cert)) != 0)
		return r;
	if ((r = tsr_lint_cert(cert, t->kind, t->issuer, t->product, now,
	    findings ? findings : &local)) != 0 ||
	    (r = tsr_cert_tbs_der(cert, &tbs, &tbs_len)) != 0 ||
	    (r = tsr_cert_sign(cert, signer, t->issuer, tbs, tbs_len)) != 0)
		goto out;
	*out = cert;
	cert = NULL;
out:
	OPENSSL_free(tbs);
	X509_free(cert);
	return r;
}
