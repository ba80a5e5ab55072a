/*
 * cms.c - document signatures: CMS SignedData (RFC 5652) made through the
 * signer shim, and a strict verifier that reports each check on its own.
 *
 * The format is narrow on purpose: one SignerInfo over id-data content,
 * with the signed attributes content-type, message-digest, signing-time and
 * signing-certificate-v2 (RFC 5035), in DER.  OpenSSL does the ASN.1 and
 * the arithmetic; this file decides what is acceptable and says why
 * something is not.  docs/sign.md describes the format and its limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

#define OID_DOCUMENT_SIGNING "1.3.6.1.5.5.7.3.36"   /* RFC 9336 */
#define SIGNED_ATTRS_MAX 32

/* Everything the checks learn about one signature. */
struct verify {
	struct tsr_cms_report *rep;
	int code[TSR_CMS_CHECK_COUNT];  /* the error code of each bad check */
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;             /* borrowed from cms */
	STACK_OF(X509) *certs;          /* carried in the signature */
	X509 *signer;                   /* borrowed from certs */
	const EVP_MD *md;
	const ASN1_OCTET_STRING *message_digest;   /* borrowed from si */
	ESS_SIGNING_CERT *ess1;         /* optional signing-certificate (v1) */
	ESS_SIGNING_CERT_V2 *ess2;
	const uint8_t *content;         /* attached, or the caller's detached copy */
	size_t content_len;
	STACK_OF(X509) *chain;          /* as far as verification built it */
	int time_error;                 /* first validity error at the signing time */
	int time_depth;
	X509 *time_cert;
};

static const char *const check_names[TSR_CMS_CHECK_COUNT] = {
	"structure", "signer-certificate", "content-digest", "signature", "chain", "validity",
	"key-usage", "status",
};

/* The short name of a check ("chain"), for reports and error details. */
const char *tsr_cms_check_name(enum tsr_cms_check c)
{
	return (unsigned)c < TSR_CMS_CHECK_COUNT ? check_names[c] : "unknown";
}

/* "good", "bad", "not checked" or "not run". */
const char *tsr_cms_result_name(enum tsr_cms_result r)
{
	switch (r) {
	case TSR_CMS_GOOD: return "good";
	case TSR_CMS_BAD: return "bad";
	case TSR_CMS_NOT_CHECKED: return "not checked";
	case TSR_CMS_UNKNOWN: return "unknown";
	case TSR_CMS_NOT_RUN:
	default: return "not run";
	}
}

static void vset(struct verify *v, enum tsr_cms_check c, enum tsr_cms_result r, const char *fmt,
    va_list ap)
{
	v->rep->result[c] = r;
	vsnprintf(v->rep->reason[c], TSR_CMS_REASON_MAX, fmt, ap);
}

/* Mark check c bad with the error code it stands for; returns code. */
static int bad(struct verify *v, enum tsr_cms_check c, int code, const char *fmt, ...)
    TSR_PRINTF(4, 5);
static int bad(struct verify *v, enum tsr_cms_check c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(v, c, TSR_CMS_BAD, fmt, ap);
	va_end(ap);
	v->code[c] = code;
	ERR_clear_error();
	return code;
}

static void good(struct verify *v, enum tsr_cms_check c, const char *fmt, ...) TSR_PRINTF(3, 4);
static void good(struct verify *v, enum tsr_cms_check c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(v, c, TSR_CMS_GOOD, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ small helpers */

static int time_of(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* How many certificates a stack holds (sk_X509_num(NULL) is -1). */
static int count(const STACK_OF(X509) *s)
{
	return s != NULL ? sk_X509_num(s) : 0;
}

static const char *md_name(const EVP_MD *md)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256: return "SHA-256";
	case NID_sha384: return "SHA-384";
	case NID_sha512: return "SHA-512";
	default: return NULL;
	}
}

/* The subject of x for a reason string (the caller frees). */
static char *subject_of(const X509 *x)
{
	char *s = NULL;

	if (x == NULL || tsr_name_format(X509_get_subject_name(x), &s) != 0)
		s = strdup("(unreadable name)");
	return s;
}

/* ------------------------------------------------------------------ signing */

/* The certificate must be cert of the signer's key, valid at now, and
 * allow digital signatures: a signature that cannot verify is not made. */
static int check_signing_cert(struct tsr_signer *signer, X509 *cert, time_t now)
{
	unsigned char *a = NULL, *b = NULL;
	int alen, blen, r = 0;
	time_t nb, na;
	char t[21];

	alen = i2d_PUBKEY(X509_get0_pubkey(cert), &a);
	blen = i2d_PUBKEY(tsr_signer_pkey(signer), &b);
	if (alen <= 0 || blen <= 0)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the public keys to compare");
	else if (alen != blen || memcmp(a, b, (size_t)alen) != 0)
		r = tsr_error(TSR_ERR_KEY, "the certificate's public key is not the signing key's");
	OPENSSL_free(a);
	OPENSSL_free(b);
	if (r != 0)
		return r;
	if (time_of(X509_get0_notBefore(cert), &nb) != 0 ||
	    time_of(X509_get0_notAfter(cert), &na) != 0)
		return tsr_error(TSR_ERR_PARSE, "the certificate's validity cannot be read");
	if (now < nb || now > na) {
		tsr_time_format(now < nb ? nb : na, t);
		return tsr_error(TSR_ERR_POLICY, "the certificate %s %s: a signature made now "
		    "would not verify", now < nb ? "is not valid before" : "expired on", t);
	}
	if ((X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0)
		return tsr_error(TSR_ERR_POLICY, "the certificate's keyUsage does not allow "
		    "digitalSignature");
	return 0;
}

static int add_signing_time(CMS_SignerInfo *si, time_t now)
{
	/* ASN1_TIME_adj chooses UTCTime for 1950-2049, as RFC 5652 requires. */
	ASN1_TIME *t = ASN1_TIME_adj(NULL, now, 0, 0);
	int ok;

	ok = t != NULL && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    ASN1_STRING_type(t), t, -1) == 1;
	ASN1_TIME_free(t);
	return ok ? 0 : tsr_error_openssl(TSR_ERR_CRYPTO, "cannot add the signing time");
}

/* signing-certificate-v2 with the SHA-256 hash of cert and its issuer and
 * serial, whatever digest signs the document (SHA-256 is the default the
 * attribute's DER then leaves out). */
static int add_signing_cert(CMS_SignerInfo *si, X509 *cert)
{
	ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), cert, NULL, 1);
	ASN1_STRING *seq = ASN1_STRING_new();
	unsigned char *der = NULL;
	int len, ok;

	len = sc != NULL ? i2d_ESS_SIGNING_CERT_V2(sc, &der) : -1;
	ok = len > 0 && seq != NULL && ASN1_STRING_set(seq, der, len) == 1 &&
	    CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
	    V_ASN1_SEQUENCE, seq, -1) == 1;
	OPENSSL_free(der);
	ASN1_STRING_free(seq);
	ESS_SIGNING_CERT_V2_free(sc);
	return ok ? 0 : tsr_error_openssl(TSR_ERR_CRYPTO, "cannot add signing-certificate-v2");
}

static int add_chain(CMS_ContentInfo *cms, STACK_OF(X509) *chain)
{
	if (count(chain) > TSR_CMS_CERTS_MAX - 1)
		return tsr_error(TSR_ERR_TOO_LARGE, "at most %d chain certificates",
		    TSR_CMS_CERTS_MAX - 1);
	for (int i = 0; i < count(chain); i++)
		if (CMS_add1_cert(cms, sk_X509_value(chain, i)) != 1)
			return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot add a chain certificate");
	return 0;
}

static int self_check(const uint8_t *der, size_t len, X509 *cert, const uint8_t *data,
    size_t data_len, bool detached);

/* CMS_final hashes the content, adds message-digest and content-type, and
 * signs the attributes through the shim (the token). */
static int finish(CMS_ContentInfo *cms, const uint8_t *data, size_t len, unsigned flags)
{
	BIO *in = BIO_new_mem_buf(len > 0 ? data : (const uint8_t *)"", (int)len);
	int r = 0;

	tsr_error_clear();
	if (in == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (CMS_final(cms, in, NULL, flags) != 1) {
		/* The token's own detail (a PKCS#11 error) says more than OpenSSL's. */
		if (tsr_error_detail()[0] != '\0') {
			ERR_clear_error();
			r = tsr_error_wrap(TSR_ERR_CRYPTO, "cannot sign the document");
		} else {
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot sign the document");
		}
	}
	BIO_free(in);
	return r;
}

/*
 * Sign data with signer for cert: the four signed attributes, the
 * certificate and chain carried, the content attached unless detached.
 * Checked with cert's public key before it is returned (x509.h).
 */
int tsr_cms_sign(struct tsr_signer *signer, X509 *cert, STACK_OF(X509) *chain,
    const uint8_t *data, size_t len, bool detached, time_t now, uint8_t **out, size_t *out_len)
{
	const unsigned flags = CMS_BINARY | CMS_NOSMIMECAP | (detached ? CMS_DETACHED : 0);
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	unsigned char *der = NULL;
	int r, n;

	*out = NULL;
	*out_len = 0;
	if (signer == NULL || cert == NULL || (data == NULL && len > 0))
		return tsr_error(TSR_ERR_INVALID, "signing needs a signer, a certificate and data");
	if (len > TSR_CMS_CONTENT_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the document is %zu bytes; at most %u can be "
		    "signed", len, TSR_CMS_CONTENT_MAX);
	if ((r = check_signing_cert(signer, cert, now)) != 0)
		return r;
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL);
	si = cms == NULL ? NULL : CMS_add1_signer(cms, cert, tsr_signer_pkey(signer),
	    tsr_signer_md(signer), flags | CMS_PARTIAL);
	if (si == NULL) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot start the CMS signature");
		goto out;
	}
	if ((r = add_chain(cms, chain)) != 0 || (r = add_signing_time(si, now)) != 0 ||
	    (r = add_signing_cert(si, cert)) != 0 || (r = finish(cms, data, len, flags)) != 0)
		goto out;
	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the signature");
		goto out;
	}
	if ((r = self_check(der, (size_t)n, cert, data, len, detached)) != 0)
		goto out;
	*out = der;
	*out_len = (size_t)n;
	der = NULL;
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	return r;
}

/* ------------------------------------------------------------------ structure */

static int parse_der(struct verify *v, const uint8_t *p7s, size_t len)
{
	const unsigned char *p = p7s;
	unsigned char *der = NULL;
	int n, r = 0;

	if (len == 0)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE, "the input is empty");
	if (len > TSR_CMS_MAX)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_TOO_LARGE,
		    "the signature is %zu bytes, over the limit of %u", len, TSR_CMS_MAX);
	if ((v->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "not a CMS structure (DER), or truncated");
	if (p != p7s + len)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "%zu bytes follow the CMS structure", len - (size_t)(p - p7s));
	/* DER is the one encoding: what we re-encode must be what we read. */
	n = i2d_CMS_ContentInfo(v->cms, &der);
	if (n <= 0 || (size_t)n != len || memcmp(der, p7s, len) != 0)
		r = bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "not DER (BER, indefinite lengths or unsorted sets are not accepted)");
	OPENSSL_free(der);
	return r;
}

static int parse_signing_time(struct verify *v, const ASN1_TYPE *t)
{
	const ASN1_STRING *s = t->value.asn1_string;
	struct tm tm;
	bool utc = t->type == V_ASN1_UTCTIME;

	if ((t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME) ||
	    ASN1_STRING_length(s) != (utc ? 13 : 15) ||
	    ASN1_STRING_get0_data(s)[ASN1_STRING_length(s) - 1] != 'Z' ||
	    ASN1_TIME_to_tm(s, &tm) != 1)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "signing-time is not a UTC time to the second");
	/* RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise. */
	if (utc != (tm.tm_year >= 50 && tm.tm_year < 150))
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "signing-time uses the wrong time type for its year");
	v->rep->signing_time = timegm(&tm);
	v->rep->has_signing_time = true;
	return 0;
}

/* A SEQUENCE attribute value decoded as it, every byte consumed, or NULL. */
static void *decode_seq(const ASN1_TYPE *t, const ASN1_ITEM *it)
{
	const unsigned char *p, *end;
	ASN1_VALUE *val;

	if (t->type != V_ASN1_SEQUENCE)
		return NULL;
	p = ASN1_STRING_get0_data(t->value.sequence);
	end = p + ASN1_STRING_length(t->value.sequence);
	val = ASN1_item_d2i(NULL, &p, end - p, it);
	if (val != NULL && p != end) {
		ASN1_item_free(val, it);
		val = NULL;
	}
	return val;
}

/* One signed attribute: the value of one we require, well-formed. */
static int parse_attr(struct verify *v, int nid, const ASN1_TYPE *t)
{
	switch (nid) {
	case NID_pkcs9_contentType:
		if (t->type != V_ASN1_OBJECT || OBJ_obj2nid(t->value.object) != NID_pkcs7_data)
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "content-type is not id-data");
		return 0;
	case NID_pkcs9_messageDigest:
		if (t->type != V_ASN1_OCTET_STRING ||
		    ASN1_STRING_length(t->value.octet_string) != EVP_MD_get_size(v->md))
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "message-digest is not a %s digest", md_name(v->md));
		v->message_digest = t->value.octet_string;
		return 0;
	case NID_pkcs9_signingTime:
		return parse_signing_time(v, t);
	case NID_id_smime_aa_signingCertificateV2:
		if (v->ess2 != NULL ||
		    (v->ess2 = decode_seq(t, ASN1_ITEM_rptr(ESS_SIGNING_CERT_V2))) == NULL)
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "signing-certificate-v2 is malformed");
		return 0;
	case NID_id_smime_aa_signingCertificate:
		if (v->ess1 != NULL ||
		    (v->ess1 = decode_seq(t, ASN1_ITEM_rptr(ESS_SIGNING_CERT))) == NULL)
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "signing-certificate is malformed");
		return 0;
	default:
		return 0;   /* other attributes are signed too, and otherwise ignored */
	}
}

/* Every signed attribute once with one value; the four we need present. */
static int parse_attrs(struct verify *v)
{
	static const struct {
		int nid;
		const char *name;
	} need[] = {
		{ NID_pkcs9_contentType, "content-type" },
		{ NID_pkcs9_messageDigest, "message-digest" },
		{ NID_pkcs9_signingTime, "signing-time" },
		{ NID_id_smime_aa_signingCertificateV2, "signing-certificate-v2" },
	};
	int n = CMS_signed_get_attr_count(v->si), r;

	if (n <= 0)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE, "no signed attributes");
	if (n > SIGNED_ATTRS_MAX)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "%d signed attributes; at most %d are accepted", n, SIGNED_ATTRS_MAX);
	for (int i = 0; i < n; i++) {
		X509_ATTRIBUTE *a = CMS_signed_get_attr(v->si, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
		char name[80];

		OBJ_obj2txt(name, sizeof(name), obj, 0);
		for (int j = 0; j < i; j++)
			if (OBJ_cmp(obj, X509_ATTRIBUTE_get0_object(CMS_signed_get_attr(v->si, j))) == 0)
				return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
				    "signed attribute %s appears twice", name);
		if (X509_ATTRIBUTE_count(a) != 1)
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "signed attribute %s has %d values; one is required", name,
			    X509_ATTRIBUTE_count(a));
		if ((r = parse_attr(v, OBJ_obj2nid(obj), X509_ATTRIBUTE_get0_type(a, 0))) != 0)
			return r;
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(need); i++)
		if (CMS_signed_get_attr_by_NID(v->si, need[i].nid, -1) < 0)
			return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
			    "the signed attribute %s is missing", need[i].name);
	return 0;
}

/* The digest algorithm of the one signer: SHA-2 only. */
static int parse_digest(struct verify *v)
{
	X509_ALGOR *dig = NULL;
	char name[80];

	CMS_SignerInfo_get0_algs(v->si, NULL, NULL, &dig, NULL);
	v->md = dig == NULL ? NULL : EVP_get_digestbyobj(dig->algorithm);
	if (v->md == NULL || md_name(v->md) == NULL) {
		if (dig != NULL)
			OBJ_obj2txt(name, sizeof(name), dig->algorithm, 0);
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "digest algorithm %s is not accepted (SHA-256, SHA-384 or SHA-512)",
		    dig != NULL ? name : "(none)");
	}
	v->rep->digest = md_name(v->md);
	return 0;
}

static int check_structure(struct verify *v, const uint8_t *p7s, size_t len)
{
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **content;
	int r;

	if ((r = parse_der(v, p7s, len)) != 0)
		return r;
	if (OBJ_obj2nid(CMS_get0_type(v->cms)) != NID_pkcs7_signed)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE, "not a SignedData");
	if (OBJ_obj2nid(CMS_get0_eContentType(v->cms)) != NID_pkcs7_data)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "the signed content type is not id-data");
	sis = CMS_get0_SignerInfos(v->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "%d signers; exactly one is accepted", sk_CMS_SignerInfo_num(sis));
	v->si = sk_CMS_SignerInfo_value(sis, 0);
	v->certs = CMS_get1_certs(v->cms);
	if (count(v->certs) > TSR_CMS_CERTS_MAX)
		return bad(v, TSR_CMS_CHECK_STRUCTURE, TSR_ERR_PARSE,
		    "%d certificates; at most %d are accepted", count(v->certs),
		    TSR_CMS_CERTS_MAX);
	if ((r = parse_digest(v)) != 0 || (r = parse_attrs(v)) != 0)
		return r;
	content = CMS_get0_content(v->cms);
	v->rep->detached = CMS_is_detached(v->cms) == 1;
	if (!v->rep->detached && content != NULL && *content != NULL) {
		v->content = ASN1_STRING_get0_data(*content);
		v->content_len = (size_t)ASN1_STRING_length(*content);
	}
	good(v, TSR_CMS_CHECK_STRUCTURE, "DER SignedData, one signer, %s, %s, signed attributes "
	    "complete", v->rep->digest, v->rep->detached ? "detached" : "content attached");
	return 0;
}

/* ------------------------------------------------------------------ the signer */

static void describe_signer(struct verify *v)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(v->signer);
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	uint8_t bytes[20];
	int n;

	if (X509_up_ref(v->signer) == 1)
		v->rep->signer = v->signer;
	v->rep->subject = subject_of(v->signer);
	if (tsr_name_format(X509_get_issuer_name(v->signer), &v->rep->issuer) != 0)
		v->rep->issuer = strdup("(unreadable name)");
	if (bn != NULL && (n = BN_num_bytes(bn)) > 0 && n <= (int)sizeof(bytes) &&
	    BN_bn2bin(bn, bytes) == n)
		tsr_hex_encode(bytes, (size_t)n, v->rep->serial);
	BN_free(bn);
}

/* The certificate named by the signer identifier is carried, allowed, and
 * is the one signing-certificate-v2 names. */
static int check_signer_cert(struct verify *v)
{
	STACK_OF(X509) *ess_certs = NULL;
	enum tsr_key_type type;
	int matches = 0, r = 0;

	for (int i = 0; i < count(v->certs); i++)
		if (CMS_SignerInfo_cert_cmp(v->si, sk_X509_value(v->certs, i)) == 0 &&
		    matches++ == 0)
			v->signer = sk_X509_value(v->certs, i);
	if (matches == 0)
		return bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_SIGNATURE, "the signer's "
		    "certificate is not among the %d the signature carries", count(v->certs));
	if (matches > 1) {
		v->signer = NULL;
		return bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_SIGNATURE,
		    "%d carried certificates match the signer identifier", matches);
	}
	describe_signer(v);
	if (tsr_pubkey_classify(X509_get0_pubkey(v->signer), &type) != 0)
		return bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_SIGNATURE, "%s",
		    tsr_error_detail());
	/* The signer first: the attribute's first hash must be its, any
	 * further ones those of carried CA certificates. */
	if ((ess_certs = sk_X509_new_null()) == NULL || sk_X509_push(ess_certs, v->signer) <= 0) {
		r = bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < count(v->certs); i++)
		if (sk_X509_value(v->certs, i) != v->signer &&
		    sk_X509_push(ess_certs, sk_X509_value(v->certs, i)) <= 0) {
			r = bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
	if (OSSL_ESS_check_signing_certs(v->ess1, v->ess2, ess_certs, 1) != 1) {
		r = bad(v, TSR_CMS_CHECK_SIGNER_CERT, TSR_ERR_SIGNATURE,
		    "signing-certificate-v2 does not name the signer's certificate (hash, issuer "
		    "or serial differ)");
		goto out;
	}
	good(v, TSR_CMS_CHECK_SIGNER_CERT, "carried, %s, named by signing-certificate-v2",
	    tsr_key_type_name(type));
out:
	sk_X509_free(ess_certs);
	return r;
}

/* The caller's copy of the content, for a detached signature only. */
static int set_content(struct verify *v, const uint8_t *content, size_t len)
{
	if (!v->rep->detached && content != NULL)
		return bad(v, TSR_CMS_CHECK_DIGEST, TSR_ERR_INVALID, "the signature carries the "
		    "signed content; a second copy is not accepted");
	if (v->rep->detached && content == NULL)
		return bad(v, TSR_CMS_CHECK_DIGEST, TSR_ERR_INVALID, "a detached signature: the "
		    "signed content must be given");
	if (len > TSR_CMS_CONTENT_MAX)
		return bad(v, TSR_CMS_CHECK_DIGEST, TSR_ERR_TOO_LARGE,
		    "the content is %zu bytes, over the limit of %u", len, TSR_CMS_CONTENT_MAX);
	if (v->rep->detached) {
		v->content = content;
		v->content_len = len;
	}
	return 0;
}

static int check_digest(struct verify *v)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	v->rep->content_len = v->content_len;
	if (EVP_Digest(v->content_len > 0 ? v->content : (const uint8_t *)"", v->content_len, md,
	    &mdlen, v->md, NULL) != 1)
		return bad(v, TSR_CMS_CHECK_DIGEST, TSR_ERR_CRYPTO, "cannot hash the content");
	if ((int)mdlen != ASN1_STRING_length(v->message_digest) ||
	    CRYPTO_memcmp(md, ASN1_STRING_get0_data(v->message_digest), mdlen) != 0)
		return bad(v, TSR_CMS_CHECK_DIGEST, TSR_ERR_SIGNATURE, "the %s of the content "
		    "differs from the signed message-digest: the content is not what was signed",
		    v->rep->digest);
	good(v, TSR_CMS_CHECK_DIGEST, "%s of the %zu-byte content matches message-digest",
	    v->rep->digest, v->content_len);
	return 0;
}

static int check_signature(struct verify *v)
{
	X509_ALGOR *alg = NULL;
	char name[80] = "";

	CMS_SignerInfo_get0_algs(v->si, NULL, NULL, NULL, &alg);
	if (alg != NULL)
		OBJ_obj2txt(name, sizeof(name), alg->algorithm, 0);
	CMS_SignerInfo_set1_signer_cert(v->si, v->signer);
	if (CMS_SignerInfo_verify(v->si) != 1)
		return bad(v, TSR_CMS_CHECK_SIGNATURE, TSR_ERR_SIGNATURE, "the signature over the "
		    "signed attributes does not verify with the signer's key (%s)", name);
	good(v, TSR_CMS_CHECK_SIGNATURE, "%s over the signed attributes", name);
	return 0;
}

/* ------------------------------------------------------------------ trust */

/* Validity is its own check: OpenSSL judges it at the signing time, and
 * this records what it found and lets the chain be judged on the rest. */
static int time_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify *v = X509_STORE_CTX_get_app_data(ctx);
	int e = X509_STORE_CTX_get_error(ctx);

	if (ok || (e != X509_V_ERR_CERT_NOT_YET_VALID && e != X509_V_ERR_CERT_HAS_EXPIRED))
		return ok;
	if (v->time_error == 0) {
		v->time_error = e;
		v->time_depth = X509_STORE_CTX_get_error_depth(ctx);
		v->time_cert = X509_STORE_CTX_get_current_cert(ctx);
		if (v->time_cert != NULL && X509_up_ref(v->time_cert) != 1)
			v->time_cert = NULL;
	}
	return 1;
}

static int run_chain(struct verify *v, X509_STORE_CTX *ctx)
{
	X509 *at, *root;
	char *who, *top;
	int e;

	if (X509_verify_cert(ctx) == 1) {
		v->chain = X509_STORE_CTX_get1_chain(ctx);
		v->rep->chain_len = (size_t)sk_X509_num(v->chain);
		root = sk_X509_value(v->chain, sk_X509_num(v->chain) - 1);
		top = subject_of(root);
		good(v, TSR_CMS_CHECK_CHAIN, "%zu certificates up to the trusted root %s",
		    v->rep->chain_len, top ? top : "");
		free(top);
		return 0;
	}
	e = X509_STORE_CTX_get_error(ctx);
	at = X509_STORE_CTX_get_current_cert(ctx);
	who = subject_of(at);
	bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_SIGNATURE, "%s (certificate %s, depth %d)",
	    X509_verify_cert_error_string(e), who ? who : "", X509_STORE_CTX_get_error_depth(ctx));
	free(who);
	return TSR_ERR_SIGNATURE;
}

static int check_chain(struct verify *v, STACK_OF(X509) *roots, STACK_OF(X509) *untrusted)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *pool = sk_X509_new_null();
	X509_VERIFY_PARAM *param;
	int n_untrusted = count(untrusted), n_carried = count(v->certs);
	int r;

	if (store == NULL || ctx == NULL || pool == NULL) {
		r = bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (count(roots) <= 0) {
		r = bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_SIGNATURE, "no trusted root was given");
		goto out;
	}
	for (int i = 0; i < count(roots); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
			r = bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_CRYPTO, "cannot load the roots");
			goto out;
		}
	for (int i = 0; i < n_untrusted + n_carried; i++) {
		X509 *x = i < n_untrusted ? sk_X509_value(untrusted, i) :
		    sk_X509_value(v->certs, i - n_untrusted);

		if (sk_X509_push(pool, x) <= 0) {
			r = bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, store, v->signer, pool) != 1) {
		r = bad(v, TSR_CMS_CHECK_CHAIN, TSR_ERR_CRYPTO, "cannot start chain verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_time(param, v->rep->signing_time);
	X509_STORE_CTX_set_app_data(ctx, v);
	X509_STORE_CTX_set_verify_cb(ctx, time_cb);
	r = run_chain(v, ctx);
out:
	sk_X509_free(pool);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

/* The first certificate of the chain not valid at t, with why, or 0. */
static int invalid_at(STACK_OF(X509) *chain, time_t t, char *why, size_t size)
{
	for (int i = 0; i < count(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		time_t nb, na;
		char *who, when[21];

		if (time_of(X509_get0_notBefore(x), &nb) != 0 ||
		    time_of(X509_get0_notAfter(x), &na) != 0)
			nb = na = 0;
		if (t >= nb && t <= na && na != 0)
			continue;
		tsr_time_format(t < nb ? nb : na, when);
		who = subject_of(x);
		snprintf(why, size, "%s %s %s", who ? who : "", t < nb ? "is not valid before" :
		    "expired on", when);
		free(who);
		return -1;
	}
	return 0;
}

static int check_validity(struct verify *v, time_t now)
{
	char st[21], nw[21], *who;

	tsr_time_format(v->rep->signing_time, st);
	tsr_time_format(now, nw);
	v->rep->valid_now = invalid_at(v->chain, now, v->rep->valid_now_reason,
	    sizeof(v->rep->valid_now_reason)) == 0;
	if (v->rep->valid_now)
		snprintf(v->rep->valid_now_reason, sizeof(v->rep->valid_now_reason),
		    "every certificate of the chain is valid at %s", nw);
	if (v->rep->signing_time > now + TSR_CMS_FUTURE_SKEW)
		return bad(v, TSR_CMS_CHECK_VALIDITY, TSR_ERR_SIGNATURE,
		    "the signing time %s is in the future (now is %s)", st, nw);
	if (v->time_error != 0) {
		who = subject_of(v->time_cert);
		bad(v, TSR_CMS_CHECK_VALIDITY, TSR_ERR_SIGNATURE, "%s (depth %d) %s at the "
		    "signing time %s", who ? who : "", v->time_depth,
		    v->time_error == X509_V_ERR_CERT_HAS_EXPIRED ? "had expired" :
		    "was not yet valid", st);
		free(who);
		return TSR_ERR_SIGNATURE;
	}
	good(v, TSR_CMS_CHECK_VALIDITY, "every certificate of the chain was valid at the "
	    "signing time %s", st);
	return 0;
}

/* Whether an EKU extension (if any) allows signing documents. */
static int check_eku(struct verify *v, char *names, size_t size)
{
	int crit = -1;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(v->signer, NID_ext_key_usage, &crit, NULL);
	bool ok = false;
	size_t used = 0;

	snprintf(names, size, "no extended key usage");
	if (eku == NULL)
		return crit == -1 ? 0 : bad(v, TSR_CMS_CHECK_KEY_USAGE, TSR_ERR_SIGNATURE,
		    "the extended key usage extension is malformed or repeated");
	names[0] = '\0';
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		char oid[80];
		int nid = OBJ_obj2nid(o);

		OBJ_obj2txt(oid, sizeof(oid), o, 1);
		ok = ok || nid == NID_email_protect || nid == NID_anyExtendedKeyUsage ||
		    strcmp(oid, OID_DOCUMENT_SIGNING) == 0;
		if (strcmp(oid, OID_DOCUMENT_SIGNING) == 0)
			snprintf(oid, sizeof(oid), "documentSigning");
		else if (nid != NID_undef)
			snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
		if (used < size)
			used += (size_t)snprintf(names + used, size - used, "%s%s", i ? ", " : "",
			    oid);
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	if (!ok)
		return bad(v, TSR_CMS_CHECK_KEY_USAGE, TSR_ERR_SIGNATURE, "the extended key usage "
		    "(%s) does not allow signing documents (documentSigning or emailProtection)",
		    names);
	return 0;
}

static int check_key_usage(struct verify *v)
{
	uint32_t ku = X509_get_key_usage(v->signer);
	char ekus[160];
	int r;

	v->rep->non_repudiation = (ku & KU_NON_REPUDIATION) != 0;
	if ((ku & KU_DIGITAL_SIGNATURE) == 0)
		return bad(v, TSR_CMS_CHECK_KEY_USAGE, TSR_ERR_SIGNATURE,
		    "the certificate's keyUsage does not allow digitalSignature");
	if ((r = check_eku(v, ekus, sizeof(ekus))) != 0)
		return r;
	good(v, TSR_CMS_CHECK_KEY_USAGE, "%s%s; %s", ku == UINT32_MAX ? "no keyUsage (any)" :
	    "digitalSignature", ku != UINT32_MAX && v->rep->non_repudiation ?
	    ", nonRepudiation" : "", ekus);
	return 0;
}

/* Revocation status needs the network (the OCSP responder and CRL the
 * certificate names), which this layer never uses: the caller asks them
 * (client/status.c) and records the answer with tsr_cms_report_status().
 * Until then the report says so, and why when it cannot be asked. */
static void check_status(struct verify *v)
{
	v->rep->result[TSR_CMS_CHECK_STATUS] = TSR_CMS_NOT_CHECKED;
	snprintf(v->rep->reason[TSR_CMS_CHECK_STATUS], TSR_CMS_REASON_MAX, "%s",
	    v->chain != NULL ? "not checked (revocation status was not asked for)" :
	    "not checked (no verified chain, so no trusted issuer to ask about the certificate)");
}

/* ------------------------------------------------------------------ verification */

/* The checks that need no trust anchor: structure, signer, digest, signature. */
static void check_own(struct verify *v, const uint8_t *p7s, size_t len, const uint8_t *content,
    size_t content_len)
{
	if (check_structure(v, p7s, len) != 0)
		return;
	(void)check_signer_cert(v);
	if (set_content(v, content, content_len) == 0)
		(void)check_digest(v);
	if (v->signer != NULL)
		(void)check_signature(v);
}

static void verify_free(struct verify *v)
{
	CMS_ContentInfo_free(v->cms);
	sk_X509_pop_free(v->certs, X509_free);
	sk_X509_pop_free(v->chain, X509_free);
	ESS_SIGNING_CERT_free(v->ess1);
	ESS_SIGNING_CERT_V2_free(v->ess2);
	X509_free(v->time_cert);
	ERR_clear_error();
}

/* 0 if no check is bad, else the code of the first bad one, its reason as
 * the detail. */
static int outcome(const struct verify *v)
{
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++)
		if (v->rep->result[c] == TSR_CMS_BAD)
			return tsr_error(v->code[c], "%s: %s", check_names[c], v->rep->reason[c]);
	return 0;
}

static int self_check(const uint8_t *der, size_t len, X509 *cert, const uint8_t *data,
    size_t data_len, bool detached)
{
	struct tsr_cms_report rep;
	struct verify v;
	int r;

	memset(&rep, 0, sizeof(rep));
	memset(&v, 0, sizeof(v));
	v.rep = &rep;
	check_own(&v, der, len, detached ? data : NULL, data_len);
	r = outcome(&v);
	if (r == 0 && (rep.result[TSR_CMS_CHECK_SIGNATURE] != TSR_CMS_GOOD ||
	    X509_cmp(v.signer, cert) != 0))
		r = tsr_error(TSR_ERR_INTERNAL, "the signature just made names another signer");
	else if (r != 0)
		r = tsr_error_wrap(TSR_ERR_SIGNATURE, "the signature just made does not verify");
	verify_free(&v);
	tsr_cms_report_clear(&rep);
	return r;
}

/*
 * Verify a signature: every check that can run is reported in *rep; 0 only
 * if none is bad, else the first bad check's code and reason (x509.h).
 */
int tsr_cms_verify(const uint8_t *p7s, size_t len, const uint8_t *content, size_t content_len,
    STACK_OF(X509) *roots, STACK_OF(X509) *untrusted, time_t now,
    struct tsr_cms_report *rep)
{
	struct verify v;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	v.rep = rep;
	if (p7s == NULL)
		len = 0;
	check_own(&v, p7s, len, content, content_len);
	if (v.signer != NULL) {
		if (check_chain(&v, roots, untrusted) == 0)
			(void)check_validity(&v, now);
		(void)check_key_usage(&v);
	}
	if (rep->result[TSR_CMS_CHECK_STRUCTURE] == TSR_CMS_GOOD)
		check_status(&v);
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++)
		if (rep->result[c] == TSR_CMS_NOT_RUN)
			snprintf(rep->reason[c], TSR_CMS_REASON_MAX, "an earlier check failed");
	/* the caller needs the issuer to ask about the signer's status */
	rep->chain = v.chain;
	v.chain = NULL;
	r = outcome(&v);
	verify_free(&v);
	return r;
}

/* Free what a report owns and zero it; NULL is fine. */
void tsr_cms_report_clear(struct tsr_cms_report *rep)
{
	if (rep == NULL)
		return;
	X509_free(rep->signer);
	sk_X509_pop_free(rep->chain, X509_free);
	free(rep->subject);
	free(rep->issuer);
	memset(rep, 0, sizeof(*rep));
}

/* ------------------------------------------------------------------ revocation status */

static const char *const reason_names[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
	"aACompromise",
};

/* The RFC 5280 name of a CRLReason code (x509.h). */
const char *tsr_cms_reason_name(int reason)
{
	if (reason == CRL_REASON_NONE)
		return "no reason";
	if (reason >= 0 && (size_t)reason < TSR_ARRAY_LEN(reason_names) &&
	    reason_names[reason] != NULL)
		return reason_names[reason];
	return "an unrecognised reason";
}

/* Whether a revocation for this reason leaves the key beyond doubt until
 * the revocation: the subscriber left, was superseded, stopped, or lost the
 * privilege.  Every other reason (no reason included) says, or does not
 * deny, that someone else may have held the key, and a signing time is only
 * the key holder's claim.  A hold is one of those: subscribers suspend when
 * their token is missing, and whoever has it can date a signature before
 * the hold. */
static bool key_kept(int reason)
{
	switch (reason) {
	case CRL_REASON_AFFILIATION_CHANGED:
	case CRL_REASON_SUPERSEDED:
	case CRL_REASON_CESSATION_OF_OPERATION:
	case CRL_REASON_PRIVILEGE_WITHDRAWN:
		return true;
	default:
		return false;
	}
}

/* Record the status check; code 0 for good, else the error it stands for. */
static int status_set(struct tsr_cms_report *rep, enum tsr_cms_result res, int code,
    const char *fmt, ...) TSR_PRINTF(4, 5);
static int status_set(struct tsr_cms_report *rep, enum tsr_cms_result res, int code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rep->result[TSR_CMS_CHECK_STATUS] = res;
	vsnprintf(rep->reason[TSR_CMS_CHECK_STATUS], TSR_CMS_REASON_MAX, fmt, ap);
	va_end(ap);
	return code == 0 ? 0 : tsr_error(code, "status: %s", rep->reason[TSR_CMS_CHECK_STATUS]);
}

/* The verdict on a signature whose certificate was revoked (or put on
 * hold): see tsr_cms_report_status(). */
static int judge_revoked(struct tsr_cms_report *rep, const struct tsr_cms_status *st)
{
	char at[21], inv[21], sat[21], what[480];
	const char *sep = st->detail[0] != '\0' ? "; " : "";

	tsr_time_format(st->revoked_at, at);
	tsr_time_format(st->invalidity_date, inv);
	tsr_time_format(rep->signing_time, sat);
	snprintf(what, sizeof(what), "%s at %s (%s%s%s), says %s",
	    st->reason == CRL_REASON_CERTIFICATE_HOLD ? "put on hold" : "revoked", at,
	    tsr_cms_reason_name(st->reason), st->invalidity_date != 0 ? ", key in doubt since " :
	    "", st->invalidity_date != 0 ? inv : "", st->source);
	if (!rep->has_signing_time)
		return status_set(rep, TSR_CMS_BAD, TSR_ERR_SIGNATURE, "%s: the signature has no "
		    "signing time to compare%s%s", what, sep, st->detail);
	if (rep->signing_time >= st->revoked_at)
		return status_set(rep, TSR_CMS_BAD, TSR_ERR_SIGNATURE, "%s: the claimed signing "
		    "time %s is not before it%s%s", what, sat, sep, st->detail);
	if (st->invalidity_date != 0 && rep->signing_time >= st->invalidity_date)
		return status_set(rep, TSR_CMS_BAD, TSR_ERR_SIGNATURE, "%s: the claimed signing "
		    "time %s is not before the key was in doubt%s%s", what, sat, sep, st->detail);
	if (!key_kept(st->reason))
		return status_set(rep, TSR_CMS_BAD, TSR_ERR_SIGNATURE, "%s: the key may have been "
		    "in other hands, so a claimed signing time before that (%s) proves nothing%s%s",
		    what, sat, sep, st->detail);
	return status_set(rep, TSR_CMS_GOOD, 0, "signed at %s (the signer's claim), before the "
	    "certificate was %s: %s does not put the key in doubt%s%s", sat, what,
	    tsr_cms_reason_name(st->reason), sep, st->detail);
}

/* Record the signer certificate's status and judge by it (x509.h). */
int tsr_cms_report_status(struct tsr_cms_report *rep, const struct tsr_cms_status *st)
{
	rep->status = *st;
	rep->status_recorded = true;
	switch (st->state) {
	case TSR_REVOCATION_GOOD:
		return status_set(rep, TSR_CMS_GOOD, 0, "not revoked, says %s%s%s", st->source,
		    st->detail[0] != '\0' ? ": " : "", st->detail);
	case TSR_REVOCATION_REVOKED:
		return judge_revoked(rep, st);
	case TSR_REVOCATION_UNKNOWN:
	default:
		return status_set(rep, TSR_CMS_UNKNOWN, TSR_ERR_IO, "%s", st->detail[0] != '\0' ?
		    st->detail : "no source of revocation status answered");
	}
}
