/*
 * lint.c - pre-issuance lint: RFC 5280, the CA/Browser Forum rules that
 * apply to us, and the product profile, checked on a certificate before it
 * is signed.
 *
 * Lint works on the DER a relying party would receive (the certificate is
 * re-encoded and re-parsed first), never looks at the signature (it is
 * still empty when we run), and collects every finding instead of stopping
 * at the first, so that one run tells the operator everything that is
 * wrong.  Each finding is one sentence that starts with its source.
 *
 * The checks are void: a decoding failure, even one caused by a failed
 * allocation, becomes a finding, which stops issuance just the same.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

#define HOUR 3600
#define DAY 86400
#define OID_TEXT_MAX 80
#define OID_LIST_MAX 32

#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_EMAIL_PROTECTION "1.3.6.1.5.5.7.3.4"

struct lint {
	X509 *cert;                        /* the re-parsed copy */
	enum tsr_cert_kind kind;
	const X509 *issuer;                /* the certificate itself for a root */
	const struct tsr_product *product; /* subscribers only */
	time_t now;
	bool times_ok;                     /* not_before/not_after decoded */
	time_t not_before, not_after;
	enum tsr_key_type key_type;        /* TSR_KEY_NONE if it did not classify */
	struct tsr_lint_findings *out;
};

/* The OIDs of a list-valued extension, as dotted text. */
struct oid_list {
	size_t n;
	bool overflow;                     /* too many, or one too long to compare */
	char oid[OID_LIST_MAX][OID_TEXT_MAX];
};

static void finding(struct lint *l, const char *fmt, ...) TSR_PRINTF(2, 3);

/* Findings past the cap are dropped: the first ones already stop issuance. */
static void finding(struct lint *l, const char *fmt, ...)
{
	struct tsr_lint_findings *f = l->out;
	va_list ap;

	if (f->n >= TSR_LINT_MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(f->msg[f->n], sizeof(f->msg[0]), fmt, ap);
	va_end(ap);
	f->n++;
}

/* ------------------------------------------------------------------ helpers */

/* Copy an ASN.1 string for a message, with anything unprintable as '?'. */
static const char *shown(const ASN1_STRING *s, char buf[64])
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s), i;

	for (i = 0; i < n && i < 63; i++)
		buf[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	buf[i] = '\0';
	return buf;
}

static const char *oid_text(const ASN1_OBJECT *obj, char buf[OID_TEXT_MAX])
{
	if (OBJ_obj2txt(buf, OID_TEXT_MAX, obj, 1) <= 0)
		snprintf(buf, OID_TEXT_MAX, "(bad OID)");
	return buf;
}

static void oid_list_add(struct oid_list *o, const ASN1_OBJECT *obj)
{
	int n;

	if (o->n == OID_LIST_MAX) {
		o->overflow = true;
		return;
	}
	n = OBJ_obj2txt(o->oid[o->n], OID_TEXT_MAX, obj, 1);
	if (n <= 0 || n >= OID_TEXT_MAX) {
		o->overflow = true;
		return;
	}
	o->n++;
}

static bool oid_in(const char *oid, char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(oid, list[i]) == 0)
			return true;
	return false;
}

static bool oid_list_has(const struct oid_list *o, const char *oid)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->oid[i], oid) == 0)
			return true;
	return false;
}

/* The first OID listed twice, or NULL. */
static const char *oid_list_duplicate(const struct oid_list *o)
{
	for (size_t i = 0; i < o->n; i++)
		for (size_t j = i + 1; j < o->n; j++)
			if (strcmp(o->oid[i], o->oid[j]) == 0)
				return o->oid[i];
	return NULL;
}

/* Equal as sets: a product lists its OIDs in config order, the certificate
 * may carry them in another. */
static bool oid_list_equals(const struct oid_list *o, char *const *want, size_t n_want)
{
	if (o->overflow)
		return false;
	for (size_t i = 0; i < o->n; i++)
		if (!oid_in(o->oid[i], want, n_want))
			return false;
	for (size_t i = 0; i < n_want; i++)
		if (!oid_list_has(o, want[i]))
			return false;
	return true;
}

static bool time_of(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	/* ASN1_TIME_to_tm(NULL) would read the clock. */
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

/* X.680 41.4: A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
static bool printable_valid(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr(" '()+,-./:=?", c) != NULL) || c == '\0')
			return false;
	}
	return true;
}

/* Printable ASCII without spaces: what mail addresses and URIs may hold. */
static bool graphic_ascii(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

/* local@domain: printable ASCII, exactly one @, neither side empty. */
static bool email_valid(const unsigned char *p, size_t n)
{
	const unsigned char *at = memchr(p, '@', n);

	return graphic_ascii(p, n) && at != NULL && at != p && at != p + n - 1 &&
	    memchr(at + 1, '@', n - (size_t)(at - p) - 1) == NULL;
}

/* Lower-case LDH labels of 1..63 bytes, 253 in all, no empty label. */
static bool dns_name_valid(const unsigned char *p, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (label == 0 || label > 63 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    (p[i] == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

/* An absolute URI: a scheme (RFC 3986 3.1), a colon, printable ASCII. */
static bool uri_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (!graphic_ascii(p, n) || n == 0 || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
		return false;
	while (i < n && p[i] != ':') {
		unsigned char c = p[i] | 0x20;

		if (!((c >= 'a' && c <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '+' ||
		    p[i] == '-' || p[i] == '.'))
			return false;
		i++;
	}
	return i < n && i + 1 < n;
}

/* http:// or https:// with a host: what relying parties fetch OCSP, CRLs
 * and issuer certificates from. */
static bool fetch_url_valid(const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	size_t n = (size_t)ASN1_STRING_length(s), skip;

	if (!graphic_ascii(p, n))
		return false;
	if (n > 7 && memcmp(p, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && memcmp(p, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	return p[skip] != '/';
}

/* ------------------------------------------------------------------ extensions */
struct ext_rule {
	int nid;
	const char *name;      /* as RFC 5280 spells it */
	const char *source;    /* where its criticality is set */
	bool may_be_critical;
};

/* Every extension a Tessera certificate may carry.  Anything else is
 * tolerated only when non-critical (RFC 5280 4.2). */
static const struct ext_rule ext_rules[] = {
	{ NID_basic_constraints, "basicConstraints", "RFC 5280 4.2.1.9", true },
	{ NID_key_usage, "keyUsage", "RFC 5280 4.2.1.3", true },
	{ NID_ext_key_usage, "extKeyUsage", "RFC 5280 4.2.1.12", true },
	{ NID_subject_alt_name, "subjectAltName", "RFC 5280 4.2.1.6", true },
	{ NID_name_constraints, "nameConstraints", "RFC 5280 4.2.1.10", true },
	{ NID_certificate_policies, "certificatePolicies", "RFC 5280 4.2.1.4", true },
	{ NID_policy_constraints, "policyConstraints", "RFC 5280 4.2.1.11", true },
	{ NID_inhibit_any_policy, "inhibitAnyPolicy", "RFC 5280 4.2.1.14", true },
	{ NID_subject_key_identifier, "subjectKeyIdentifier", "RFC 5280 4.2.1.2", false },
	{ NID_authority_key_identifier, "authorityKeyIdentifier", "RFC 5280 4.2.1.1", false },
	{ NID_info_access, "authorityInfoAccess", "RFC 5280 4.2.2.1", false },
	{ NID_crl_distribution_points, "cRLDistributionPoints", "RFC 5280 4.2.1.13", false },
	{ NID_id_pkix_OCSP_noCheck, "id-pkix-ocsp-nocheck", "RFC 6960 4.2.2.2.1", false },
};

static const struct ext_rule *ext_rule_of(int nid)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(ext_rules); i++)
		if (ext_rules[i].nid == nid)
			return &ext_rules[i];
	return NULL;
}

static const char *ext_name(int nid)
{
	const struct ext_rule *r = ext_rule_of(nid);

	return r ? r->name : OBJ_nid2sn(nid);
}

/* The extension, or NULL if absent (a duplicate is reported elsewhere). */
static X509_EXTENSION *ext_find(const struct lint *l, int nid)
{
	int i = X509_get_ext_by_NID(l->cert, nid, -1);

	return i < 0 ? NULL : X509_get_ext(l->cert, i);
}

/* The decoded value of an extension, or NULL with a finding. */
static void *ext_decode(struct lint *l, X509_EXTENSION *ext, int nid)
{
	void *v = X509V3_EXT_d2i(ext);

	if (v == NULL) {
		ERR_clear_error();
		finding(l, "RFC 5280 4.2: %s extension is malformed", ext_name(nid));
	}
	return v;
}

static void check_extension_list(struct lint *l)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_get0_extensions(l->cert);
	char buf[OID_TEXT_MAX];

	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
		const struct ext_rule *r = ext_rule_of(OBJ_obj2nid(obj));

		for (int j = 0; j < i; j++)
			if (OBJ_cmp(obj, X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(exts, j))) == 0) {
				finding(l, "RFC 5280 4.2: extension %s appears more than once",
				    r ? r->name : oid_text(obj, buf));
				break;
			}
		if (!X509_EXTENSION_get_critical(e))
			continue;
		if (r == NULL)
			finding(l, "RFC 5280 4.2: unknown critical extension %s",
			    oid_text(obj, buf));
		else if (!r->may_be_critical)
			finding(l, "%s: %s must not be critical", r->source, r->name);
	}
}

/* A subjectKeyIdentifier decoded from a certificate (new, or NULL). */
static ASN1_OCTET_STRING *ski_of(const X509 *x)
{
	ASN1_OCTET_STRING *ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);

	ERR_clear_error();
	return ski;
}

static void check_ski(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_subject_key_identifier);
	ASN1_OCTET_STRING *ski;

	if (ext == NULL) {
		finding(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier missing");
		return;
	}
	if ((ski = ext_decode(l, ext, NID_subject_key_identifier)) == NULL)
		return;
	if (ASN1_STRING_length(ski) == 0)
		finding(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier must not be empty");
	ASN1_OCTET_STRING_free(ski);
}

static void check_aki_value(struct lint *l, const AUTHORITY_KEYID *aki)
{
	ASN1_OCTET_STRING *issuer_ski;

	if (aki->issuer != NULL || aki->serial != NULL)
		finding(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier must not carry "
		    "authorityCertIssuer or authorityCertSerialNumber");
	if (aki->keyid == NULL) {
		finding(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier must carry a keyIdentifier");
		return;
	}
	if ((issuer_ski = ski_of(l->issuer)) == NULL) {
		finding(l, "RFC 5280 4.2.1.1: the issuer has no subjectKeyIdentifier to match");
		return;
	}
	if (ASN1_OCTET_STRING_cmp(aki->keyid, issuer_ski) != 0)
		finding(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier differs from the "
		    "issuer's subjectKeyIdentifier");
	ASN1_OCTET_STRING_free(issuer_ski);
}

static void check_aki(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_authority_key_identifier);
	AUTHORITY_KEYID *aki;

	if (ext == NULL) {
		/* A self-signed root has no other key to point at. */
		if (l->kind != TSR_CERT_ROOT)
			finding(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier missing");
		return;
	}
	if ((aki = ext_decode(l, ext, NID_authority_key_identifier)) == NULL)
		return;
	check_aki_value(l, aki);
	AUTHORITY_KEYID_free(aki);
}

static void check_general_name(struct lint *l, const GENERAL_NAME *gn)
{
	char buf[64];
	const unsigned char *p;
	size_t n;

	switch (gn->type) {
	case GEN_DNS:
		p = ASN1_STRING_get0_data(gn->d.dNSName);
		n = (size_t)ASN1_STRING_length(gn->d.dNSName);
		if (!dns_name_valid(p, n))
			finding(l, "RFC 5280 4.2.1.6: dNSName \"%s\" is not a lower-case LDH name",
			    shown(gn->d.dNSName, buf));
		break;
	case GEN_EMAIL:
		p = ASN1_STRING_get0_data(gn->d.rfc822Name);
		n = (size_t)ASN1_STRING_length(gn->d.rfc822Name);
		if (!email_valid(p, n))
			finding(l, "RFC 5280 4.2.1.6: rfc822Name \"%s\" must be local@domain "
			    "with exactly one @", shown(gn->d.rfc822Name, buf));
		break;
	case GEN_IPADD:
		n = (size_t)ASN1_STRING_length(gn->d.iPAddress);
		if (n != 4 && n != 16)
			finding(l, "RFC 5280 4.2.1.6: iPAddress of %zu bytes, must be 4 or 16", n);
		break;
	case GEN_URI:
		p = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		n = (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		if (!uri_valid(p, n))
			finding(l, "RFC 5280 4.2.1.6: URI \"%s\" is not an absolute URI",
			    shown(gn->d.uniformResourceIdentifier, buf));
		break;
	default:
		/* Other forms are the product's business (see check_product_sans). */
		break;
	}
}

static void check_san(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_subject_alt_name);
	bool empty_subject = X509_NAME_entry_count(X509_get_subject_name(l->cert)) == 0;
	GENERAL_NAMES *gens;

	if (ext == NULL) {
		if (empty_subject)
			finding(l, "RFC 5280 4.2.1.6: a certificate with an empty subject "
			    "needs a subjectAltName");
		return;
	}
	if (empty_subject && !X509_EXTENSION_get_critical(ext))
		finding(l, "RFC 5280 4.2.1.6: subjectAltName must be critical when the "
		    "subject is empty");
	if ((gens = ext_decode(l, ext, NID_subject_alt_name)) == NULL)
		return;
	if (sk_GENERAL_NAME_num(gens) == 0)
		finding(l, "RFC 5280 4.2.1.6: subjectAltName must not be empty");
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		check_general_name(l, sk_GENERAL_NAME_value(gens, i));
	GENERAL_NAMES_free(gens);
}

/* ------------------------------------------------------------------ AIA and CRL DP */
struct fetch_urls {
	int ocsp, ca_issuers;  /* http(s) URLs by access method */
	int crl;               /* http(s) URIs in the distribution points */
};

static void check_fetch_name(struct lint *l, const GENERAL_NAME *gn, const char *what, int *count)
{
	char buf[64];

	if (gn->type != GEN_URI) {
		finding(l, "RFC 5280 4.2.2.1: %s location must be a URI", what);
		return;
	}
	if (!fetch_url_valid(gn->d.uniformResourceIdentifier)) {
		finding(l, "RFC 5280 4.2.2.1: %s URL \"%s\" must be http:// or https://", what,
		    shown(gn->d.uniformResourceIdentifier, buf));
		return;
	}
	(*count)++;
}

static void collect_aia(struct lint *l, struct fetch_urls *u)
{
	X509_EXTENSION *ext = ext_find(l, NID_info_access);
	AUTHORITY_INFO_ACCESS *aia;

	if (ext == NULL || (aia = ext_decode(l, ext, NID_info_access)) == NULL)
		return;
	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		int nid = OBJ_obj2nid(ad->method);

		if (nid == NID_ad_OCSP)
			check_fetch_name(l, ad->location, "OCSP", &u->ocsp);
		else if (nid == NID_ad_ca_issuers)
			check_fetch_name(l, ad->location, "caIssuers", &u->ca_issuers);
		else
			finding(l, "RFC 5280 4.2.2.1: unexpected AIA access method");
	}
	AUTHORITY_INFO_ACCESS_free(aia);
}

static void collect_crldp(struct lint *l, struct fetch_urls *u)
{
	X509_EXTENSION *ext = ext_find(l, NID_crl_distribution_points);
	CRL_DIST_POINTS *dps;

	if (ext == NULL || (dps = ext_decode(l, ext, NID_crl_distribution_points)) == NULL)
		return;
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0) {
			finding(l, "RFC 5280 4.2.1.13: distribution point must be a fullName");
			continue;
		}
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++)
			check_fetch_name(l, sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j),
			    "CRL", &u->crl);
	}
	CRL_DIST_POINTS_free(dps);
}

/* ------------------------------------------------------------------ fields */
static void check_version_serial(struct lint *l)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(l->cert);
	const unsigned char *p = ASN1_STRING_get0_data(sn);
	int len = ASN1_STRING_length(sn), octets;
	const ASN1_BIT_STRING *iuid, *suid;

	if (X509_get_version(l->cert) != X509_VERSION_3)
		finding(l, "RFC 5280 4.1.2.1: version must be v3");
	X509_get0_uids(l->cert, &iuid, &suid);
	if (iuid != NULL || suid != NULL)
		finding(l, "RFC 5280 4.1.2.8: issuerUniqueID and subjectUniqueID must be absent");
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER) {
		finding(l, "RFC 5280 4.1.2.2: serial number must be positive");
		return;
	}
	/* OpenSSL holds the magnitude, minimal, so zero has no octets. */
	if (len == 0 || (len == 1 && p[0] == 0)) {
		finding(l, "RFC 5280 4.1.2.2: serial number must not be zero");
		return;
	}
	/* DER prefixes a 0x00 octet when the top bit is set. */
	octets = len + ((p[0] & 0x80) ? 1 : 0);
	if (octets > 20)
		finding(l, "RFC 5280 4.1.2.2: serial number of %d octets, at most 20", octets);
	if (octets < 8)
		finding(l, "BR 7.1: serial number of %d octets, at least 8 (64 random bits)",
		    octets);
}

static const int sigalgs_allowed[] = {
	NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384,
	NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption, NID_sha512WithRSAEncryption,
};

/* The issuer's key must be able to make this signature: same algorithm
 * family, and for ECDSA the digest that pairs with the curve. */
static void check_signer_key(struct lint *l, int md_nid, int pkey_nid)
{
	EVP_PKEY *pk = X509_get0_pubkey(l->issuer);
	int bits;

	if (pk == NULL) {
		ERR_clear_error();
		finding(l, "RFC 5280 4.1.2.3: the issuer's public key cannot be decoded");
		return;
	}
	if (EVP_PKEY_get_base_id(pk) != pkey_nid) {
		finding(l, "RFC 5280 4.1.2.3: signature algorithm does not match the "
		    "issuer's %s key", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
		return;
	}
	bits = EVP_PKEY_get_bits(pk);
	if (pkey_nid == EVP_PKEY_EC && ((bits == 256 && md_nid != NID_sha256) ||
	    (bits == 384 && md_nid != NID_sha384)))
		finding(l, "Mozilla policy 5.1.2: a P-%d issuer must sign with SHA-%d", bits, bits);
}

static void check_signature_algorithm(struct lint *l)
{
	const X509_ALGOR *inner = X509_get0_tbs_sigalg(l->cert), *outer;
	const ASN1_OBJECT *obj;
	int ptype, nid, md_nid, pkey_nid;
	bool allowed = false;
	char buf[OID_TEXT_MAX];

	X509_get0_signature(NULL, &outer, l->cert);
	if (X509_ALGOR_cmp(inner, outer) != 0)
		finding(l, "RFC 5280 4.1.1.2: signatureAlgorithm differs from the TBS signature "
		    "field");
	X509_ALGOR_get0(&obj, &ptype, NULL, inner);
	nid = OBJ_obj2nid(obj);
	for (size_t i = 0; i < TSR_ARRAY_LEN(sigalgs_allowed); i++)
		allowed = allowed || nid == sigalgs_allowed[i];
	if (!allowed || !OBJ_find_sigid_algs(nid, &md_nid, &pkey_nid)) {
		finding(l, "RFC 5280 4.1.2.3: signature algorithm %s is not allowed",
		    nid != NID_undef ? OBJ_nid2sn(nid) : oid_text(obj, buf));
		return;
	}
	if (pkey_nid == EVP_PKEY_EC && ptype != V_ASN1_UNDEF)
		finding(l, "RFC 5758 3.2: ECDSA signature algorithm parameters must be absent");
	if (pkey_nid == EVP_PKEY_RSA && ptype != V_ASN1_NULL)
		finding(l, "RFC 4055 5: RSA signature algorithm parameters must be NULL");
	check_signer_key(l, md_nid, pkey_nid);
}

static void check_issuer_name(struct lint *l)
{
	const unsigned char *a, *b;
	size_t alen, blen;

	/* Byte for byte: some relying parties chain on the exact encoding. */
	if (!X509_NAME_get0_der(X509_get_issuer_name(l->cert), &a, &alen) ||
	    !X509_NAME_get0_der(X509_get_subject_name(l->issuer), &b, &blen) ||
	    alen != blen || memcmp(a, b, alen) != 0)
		finding(l, "RFC 5280 4.1.2.4: issuer name differs from the issuer's subject%s",
		    l->kind == TSR_CERT_ROOT ? " (a root is self-issued)" : "");
}

static bool is_letter(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A UTF8String needs no check of its own: OpenSSL refuses to encode or to
 * parse a name holding invalid UTF-8, so such a certificate fails the
 * round trip in reparse(). */
static void check_attribute_string(struct lint *l, const X509_NAME_ENTRY *e)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
	const unsigned char *p = ASN1_STRING_get0_data(v);
	size_t n = (size_t)ASN1_STRING_length(v);
	int nid = OBJ_obj2nid(obj), type = ASN1_STRING_type(v);
	const char *name = tsr_name_attr_name(nid);
	char buf[OID_TEXT_MAX];

	if (name == NULL)
		name = oid_text(obj, buf);
	if (n == 0)
		finding(l, "RFC 5280 4.1.2.6: subject attribute %s is empty", name);
	if (nid == NID_countryName) {
		if (type != V_ASN1_PRINTABLESTRING || n != 2 || !is_letter(p[0]) ||
		    !is_letter(p[1]))
			finding(l, "RFC 5280 A.1: C must be a 2-letter PrintableString");
	} else if (nid == NID_pkcs9_emailAddress || nid == NID_domainComponent) {
		if (type != V_ASN1_IA5STRING || !graphic_ascii(p, n))
			finding(l, "RFC 5280 A.1: %s must be an IA5String", name);
	} else if (type == V_ASN1_PRINTABLESTRING) {
		if (!printable_valid(p, n))
			finding(l, "X.680 41.4: %s holds characters PrintableString does not allow",
			    name);
	} else if (type != V_ASN1_UTF8STRING) {
		finding(l, "RFC 5280 4.1.2.6: %s must be PrintableString or UTF8String", name);
	}
}

static void check_subject(struct lint *l)
{
	const X509_NAME *nm = X509_get_subject_name(l->cert);
	int count = X509_NAME_entry_count(nm), prev_set = -1;

	if (count == 0 && l->kind != TSR_CERT_SUBSCRIBER)
		finding(l, "RFC 5280 4.1.2.6: a CA or OCSP certificate needs a subject");
	for (int i = 0; i < count; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);

		if (X509_NAME_ENTRY_set(e) == prev_set)
			finding(l, "BR 7.1.4: each subject RDN must hold exactly one attribute");
		prev_set = X509_NAME_ENTRY_set(e);
		check_attribute_string(l, e);
	}
}

static bool digits_then_z(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0 && p[n - 1] == 'Z';
}

/* UTCTime through 2049, GeneralizedTime otherwise, both with seconds and
 * a Z: the only forms RFC 5280 allows. */
static void check_time_encoding(struct lint *l, const ASN1_TIME *t, const char *field)
{
	const unsigned char *p = ASN1_STRING_get0_data(t);
	int type = ASN1_STRING_type(t), len = ASN1_STRING_length(t), want, year;
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		finding(l, "RFC 5280 4.1.2.5: %s is not a valid time", field);
		return;
	}
	year = tm.tm_year + 1900;
	want = (year >= 1950 && year < 2050) ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME;
	if (type != want) {
		finding(l, "RFC 5280 4.1.2.5: %s in %d must be encoded as %s", field, year,
		    want == V_ASN1_UTCTIME ? "UTCTime" : "GeneralizedTime");
		return;
	}
	if (len != (want == V_ASN1_UTCTIME ? 13 : 15) || !digits_then_z(p, (size_t)len))
		finding(l, "RFC 5280 4.1.2.5.%d: %s must be %s", want == V_ASN1_UTCTIME ? 1 : 2,
		    field, want == V_ASN1_UTCTIME ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ");
}

static void check_validity(struct lint *l)
{
	const ASN1_TIME *nb = X509_get0_notBefore(l->cert), *na = X509_get0_notAfter(l->cert);
	time_t inb, ina;

	check_time_encoding(l, nb, "notBefore");
	check_time_encoding(l, na, "notAfter");
	if (!time_of(nb, &l->not_before) || !time_of(na, &l->not_after))
		return;
	l->times_ok = true;
	if (l->not_before >= l->not_after)
		finding(l, "RFC 5280 4.1.2.5: notBefore must be before notAfter");
	if (l->not_before < l->now - 48 * HOUR)
		finding(l, "Tessera: notBefore is more than 48 hours in the past");
	if (l->not_before > l->now + 5 * 60)
		finding(l, "Tessera: notBefore is more than 5 minutes in the future");
	if (l->kind == TSR_CERT_ROOT)
		return;
	if (!time_of(X509_get0_notBefore(l->issuer), &inb) ||
	    !time_of(X509_get0_notAfter(l->issuer), &ina)) {
		finding(l, "RFC 5280 4.1.2.5: the issuer's validity cannot be decoded");
		return;
	}
	if (l->not_after > ina)
		finding(l, "Tessera: notAfter is after the issuer's notAfter");
	if (l->not_before < inb)
		finding(l, "Tessera: notBefore is before the issuer's notBefore");
}

/* notAfter - notBefore, counted in seconds, at most days. */
static void check_max_validity(struct lint *l, long days, const char *source, const char *what)
{
	/* RFC 5280 4.1.2.5 and the BRs count both ends: the period is
	 * notAfter - notBefore + 1 second. */
	if (l->times_ok && (long long)l->not_after - l->not_before + 1 > (long long)days * DAY)
		finding(l, "%s: validity exceeds %s of %ld days", source, what, days);
}

static void check_public_key(struct lint *l)
{
	EVP_PKEY *pk = X509_get0_pubkey(l->cert);

	l->key_type = TSR_KEY_NONE;
	if (pk == NULL) {
		ERR_clear_error();
		finding(l, "RFC 5280 4.1.2.7: subject public key cannot be decoded");
		return;
	}
	if (tsr_pubkey_classify(pk, &l->key_type) != 0) {
		l->key_type = TSR_KEY_NONE;
		finding(l, "BR 6.1.5: %s", tsr_error_detail());
	}
}

/* ------------------------------------------------------------------ kinds */
struct ku_name {
	unsigned bit;
	const char *name;
};

static const struct ku_name ku_names[] = {
	{ KU_DIGITAL_SIGNATURE, "digitalSignature" }, { KU_NON_REPUDIATION, "nonRepudiation" },
	{ KU_KEY_ENCIPHERMENT, "keyEncipherment" }, { KU_DATA_ENCIPHERMENT, "dataEncipherment" },
	{ KU_KEY_AGREEMENT, "keyAgreement" }, { KU_KEY_CERT_SIGN, "keyCertSign" },
	{ KU_CRL_SIGN, "cRLSign" }, { KU_ENCIPHER_ONLY, "encipherOnly" },
	{ KU_DECIPHER_ONLY, "decipherOnly" },
};

/* keyUsage as KU_* bits; false (with a finding) if absent or malformed. */
static bool key_usage_of(struct lint *l, unsigned *mask)
{
	X509_EXTENSION *ext = ext_find(l, NID_key_usage);
	ASN1_BIT_STRING *ku;
	const unsigned char *p;
	int n;

	if (ext == NULL) {
		finding(l, "RFC 5280 4.2.1.3: keyUsage missing");
		return false;
	}
	if (!X509_EXTENSION_get_critical(ext))
		finding(l, "RFC 5280 4.2.1.3: keyUsage must be critical");
	if ((ku = ext_decode(l, ext, NID_key_usage)) == NULL)
		return false;
	p = ASN1_STRING_get0_data(ku);
	n = ASN1_STRING_length(ku);
	*mask = (n > 0 ? p[0] : 0u) | (n > 1 ? (unsigned)p[1] << 8 : 0u);
	if (n > 2 || (n == 2 && (p[1] & 0x7f)))
		finding(l, "RFC 5280 4.2.1.3: keyUsage has bits past decipherOnly");
	ASN1_BIT_STRING_free(ku);
	if (*mask == 0)
		finding(l, "RFC 5280 4.2.1.3: keyUsage must assert at least one bit");
	return *mask != 0;
}

/* Extended key usage OIDs; false if absent or malformed (with a finding
 * if malformed). */
static bool eku_of(struct lint *l, struct oid_list *o)
{
	X509_EXTENSION *ext = ext_find(l, NID_ext_key_usage);
	EXTENDED_KEY_USAGE *eku;

	memset(o, 0, sizeof(*o));
	if (ext == NULL || (eku = ext_decode(l, ext, NID_ext_key_usage)) == NULL)
		return false;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		oid_list_add(o, sk_ASN1_OBJECT_value(eku, i));
	EXTENDED_KEY_USAGE_free(eku);
	return true;
}

/* basicConstraints of an end entity or responder: absent or cA FALSE. */
static void check_not_ca(struct lint *l, const char *source, const char *what)
{
	X509_EXTENSION *ext = ext_find(l, NID_basic_constraints);
	BASIC_CONSTRAINTS *bc;

	if (ext == NULL || (bc = ext_decode(l, ext, NID_basic_constraints)) == NULL)
		return;
	if (bc->ca)
		finding(l, "%s: %s must not be a CA (cA TRUE)", source, what);
	else if (bc->pathlen != NULL)
		finding(l, "RFC 5280 4.2.1.9: pathLenConstraint without cA TRUE");
	BASIC_CONSTRAINTS_free(bc);
}

static void check_ca_basic_constraints(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_basic_constraints);
	BASIC_CONSTRAINTS *bc;

	if (ext == NULL) {
		finding(l, "RFC 5280 4.2.1.9: basicConstraints missing from a CA certificate");
		return;
	}
	if (!X509_EXTENSION_get_critical(ext))
		finding(l, "RFC 5280 4.2.1.9: basicConstraints must be critical in a CA "
		    "certificate");
	if ((bc = ext_decode(l, ext, NID_basic_constraints)) == NULL)
		return;
	if (!bc->ca)
		finding(l, "RFC 5280 4.2.1.9: a CA certificate needs cA TRUE");
	/* An issuing CA signs only end entities and responders. */
	if (l->kind == TSR_CERT_ISSUING &&
	    (bc->pathlen == NULL || ASN1_INTEGER_get(bc->pathlen) != 0))
		finding(l, "Tessera: an issuing CA needs pathLenConstraint 0");
	BASIC_CONSTRAINTS_free(bc);
}

static void check_ca(struct lint *l)
{
	struct fetch_urls u = { 0 };
	unsigned ku;
	bool root = l->kind == TSR_CERT_ROOT;

	check_ca_basic_constraints(l);
	if (key_usage_of(l, &ku) &&
	    (ku & ~(unsigned)KU_DIGITAL_SIGNATURE) != (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		finding(l, "BR 7.1.2.10.7: CA keyUsage must be keyCertSign and cRLSign "
		    "(digitalSignature allowed)");
	if (ext_find(l, NID_ext_key_usage) != NULL)
		finding(l, "Tessera: a CA certificate must not have extKeyUsage");
	check_max_validity(l, root ? 7305 : 3653, "Tessera",
	    root ? "the root CA maximum" : "the issuing CA maximum");
	if (root) {
		/* They would point at the root itself, which nobody can check. */
		if (ext_find(l, NID_info_access) != NULL)
			finding(l, "Tessera: a root must not have authorityInfoAccess");
		if (ext_find(l, NID_crl_distribution_points) != NULL)
			finding(l, "Tessera: a root must not have cRLDistributionPoints");
		return;
	}
	collect_aia(l, &u);
	collect_crldp(l, &u);
	if (u.ca_issuers == 0)
		finding(l, "RFC 5280 4.2.2.1: an issuing CA needs an AIA caIssuers URL");
	if (u.crl == 0)
		finding(l, "RFC 5280 4.2.1.13: an issuing CA needs a CRL distribution point URL");
}

static void check_ocsp_nocheck(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_id_pkix_OCSP_noCheck);
	const ASN1_OCTET_STRING *v;

	if (ext == NULL) {
		finding(l, "RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck missing");
		return;
	}
	v = X509_EXTENSION_get_data(ext);
	if (ASN1_STRING_length(v) != 2 || memcmp(ASN1_STRING_get0_data(v), "\x05\x00", 2) != 0)
		finding(l, "RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck value must be NULL");
}

static void check_ocsp(struct lint *l)
{
	struct oid_list eku;
	struct fetch_urls u = { 0 };
	unsigned ku;

	check_not_ca(l, "RFC 6960 4.2.2.2", "an OCSP responder");
	if (key_usage_of(l, &ku) && ku != KU_DIGITAL_SIGNATURE)
		finding(l, "RFC 6960 4.2.2.2: OCSP responder keyUsage must be digitalSignature "
		    "only");
	if (!eku_of(l, &eku) || eku.n != 1 || strcmp(eku.oid[0], "1.3.6.1.5.5.7.3.9") != 0)
		finding(l, "RFC 6960 4.2.2.2: OCSP responder extKeyUsage must be exactly "
		    "id-kp-OCSPSigning");
	check_ocsp_nocheck(l);
	check_max_validity(l, 120, "Tessera", "the OCSP responder maximum");
	collect_aia(l, &u);
	collect_crldp(l, &u);
}

/* ------------------------------------------------------------------ subscribers */
static void check_product_key_usage(struct lint *l)
{
	const unsigned forbidden = KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT | KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN | KU_DATA_ENCIPHERMENT;
	unsigned ku;

	if (!key_usage_of(l, &ku))
		return;
	for (size_t i = 0; i < TSR_ARRAY_LEN(ku_names); i++)
		if (ku & forbidden & ku_names[i].bit)
			finding(l, "Tessera: keyUsage %s is never allowed in a subscriber "
			    "certificate", ku_names[i].name);
	if (ku != tsr_product_key_usage(l->product))
		finding(l, "Tessera: keyUsage differs from the product's %s class",
		    tsr_product_class_name(l->product->class_));
}

static void check_product_eku(struct lint *l)
{
	const struct tsr_product *pr = l->product;
	struct oid_list eku;
	const char *dup;

	if (!eku_of(l, &eku)) {
		if (ext_find(l, NID_ext_key_usage) == NULL)
			finding(l, "Tessera: extKeyUsage missing");
		return;
	}
	if (oid_list_has(&eku, "2.5.29.37.0"))
		finding(l, "RFC 5280 4.2.1.12: anyExtendedKeyUsage is not allowed");
	if ((dup = oid_list_duplicate(&eku)) != NULL)
		finding(l, "Tessera: extKeyUsage lists %s twice", dup);
	if (!oid_list_equals(&eku, pr->eku, pr->n_eku))
		finding(l, "Tessera: extKeyUsage differs from the product's");
}

static void check_product_policies(struct lint *l)
{
	X509_EXTENSION *ext = ext_find(l, NID_certificate_policies);
	CERTIFICATEPOLICIES *cp;
	struct oid_list o = { 0 };
	const char *dup;

	if (ext == NULL) {
		finding(l, "Tessera: certificatePolicies missing");
		return;
	}
	if ((cp = ext_decode(l, ext, NID_certificate_policies)) == NULL)
		return;
	for (int i = 0; i < sk_POLICYINFO_num(cp); i++)
		oid_list_add(&o, sk_POLICYINFO_value(cp, i)->policyid);
	CERTIFICATEPOLICIES_free(cp);
	if ((dup = oid_list_duplicate(&o)) != NULL)
		finding(l, "RFC 5280 4.2.1.4: policy %s appears more than once", dup);
	if (!oid_list_equals(&o, l->product->policies, l->product->n_policies))
		finding(l, "Tessera: certificatePolicies differ from the product's");
}

static void check_product_urls(struct lint *l)
{
	struct fetch_urls u = { 0 };

	collect_aia(l, &u);
	collect_crldp(l, &u);
	if (u.ocsp == 0)
		finding(l, "BR 7.1.2.7.7: authorityInfoAccess needs an OCSP URL");
	if (u.ca_issuers == 0)
		finding(l, "BR 7.1.2.7.7: authorityInfoAccess needs a caIssuers URL");
	if (u.crl == 0)
		finding(l, "BR 7.1.2.11.2: cRLDistributionPoints needs a URL");
}

static bool name_in(const char *name, char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return true;
	return false;
}

static void check_product_subject(struct lint *l)
{
	const struct tsr_product *pr = l->product;
	const X509_NAME *nm = X509_get_subject_name(l->cert);
	char buf[OID_TEXT_MAX];

	for (int i = 0; i < X509_NAME_entry_count(nm); i++) {
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(X509_NAME_get_entry(nm, i));
		const char *name = tsr_name_attr_name(OBJ_obj2nid(obj));

		if (name == NULL || !name_in(name, pr->subject_allowed, pr->n_subject_allowed))
			finding(l, "Tessera: subject attribute %s is not allowed by the product",
			    name ? name : oid_text(obj, buf));
	}
	for (size_t i = 0; i < pr->n_subject_required; i++) {
		int nid = tsr_name_attr_nid(pr->subject_required[i]);

		if (nid == NID_undef || X509_NAME_get_index_by_NID(nm, nid, -1) < 0)
			finding(l, "Tessera: subject attribute %s required by the product is "
			    "missing", pr->subject_required[i]);
	}
}

/* The product's SAN type of a general name, or -1 for forms we never use. */
static int san_type_of(const GENERAL_NAME *gn)
{
	switch (gn->type) {
	case GEN_DNS:
		return TSR_SAN_DNS;
	case GEN_EMAIL:
		return TSR_SAN_EMAIL;
	case GEN_IPADD:
		return TSR_SAN_IP;
	case GEN_URI:
		return TSR_SAN_URI;
	default:
		return -1;
	}
}

/* BR 7.1.4.3: a CN must be a copy of one of the DNS or IP SANs. */
static bool cn_in_sans(const ASN1_STRING *cn, const GENERAL_NAMES *gens)
{
	char text[INET6_ADDRSTRLEN + 1];
	unsigned char ip[16];
	int n = ASN1_STRING_length(cn), ip_len = 0;

	if (n > 0 && (size_t)n < sizeof(text)) {
		memcpy(text, ASN1_STRING_get0_data(cn), (size_t)n);
		text[n] = '\0';
		if (inet_pton(AF_INET, text, ip) == 1)
			ip_len = 4;
		else if (inet_pton(AF_INET6, text, ip) == 1)
			ip_len = 16;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

		/* The CN is a UTF8String or PrintableString, the SAN an
		 * IA5String: compare the bytes, not the types. */
		if (gn->type == GEN_DNS && ASN1_STRING_length(gn->d.dNSName) == n &&
		    memcmp(ASN1_STRING_get0_data(gn->d.dNSName), ASN1_STRING_get0_data(cn),
		    (size_t)n) == 0)
			return true;
		if (gn->type == GEN_IPADD && ip_len > 0 &&
		    ASN1_STRING_length(gn->d.iPAddress) == ip_len &&
		    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip, (size_t)ip_len) == 0)
			return true;
	}
	return false;
}

static void check_server_auth(struct lint *l, const GENERAL_NAMES *gens)
{
	const X509_NAME *nm = X509_get_subject_name(l->cert);
	char buf[64];

	if (gens == NULL || sk_GENERAL_NAME_num(gens) == 0) {
		finding(l, "BR 7.1.2.7.12: a serverAuth certificate needs a subjectAltName");
		return;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		int t = sk_GENERAL_NAME_value(gens, i)->type;

		if (t != GEN_DNS && t != GEN_IPADD) {
			finding(l, "BR 7.1.2.7.12: serverAuth SANs must be dNSName or iPAddress");
			break;
		}
	}
	for (int i = -1; (i = X509_NAME_get_index_by_NID(nm, NID_commonName, i)) >= 0;) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));

		if (!cn_in_sans(cn, gens))
			finding(l, "BR 7.1.4.3: CN \"%s\" is not one of the DNS or IP SANs",
			    shown(cn, buf));
	}
}

static void check_product_sans(struct lint *l)
{
	const struct tsr_product *pr = l->product;
	GENERAL_NAMES *gens = X509_get_ext_d2i(l->cert, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	bool email = false;

	ERR_clear_error();
	if (pr->san_required && n == 0)
		finding(l, "Tessera: the product requires a subjectAltName");
	for (int i = 0; i < n; i++) {
		int t = san_type_of(sk_GENERAL_NAME_value(gens, i));

		email = email || t == TSR_SAN_EMAIL;
		if (t < 0 || !(pr->san_allowed & (1u << t)))
			finding(l, "Tessera: a SAN of type %s is not allowed by the product",
			    t < 0 ? "other" : tsr_san_type_name((enum tsr_san_type)t));
	}
	if (oid_in(OID_SERVER_AUTH, pr->eku, pr->n_eku))
		check_server_auth(l, gens);
	if (oid_in(OID_EMAIL_PROTECTION, pr->eku, pr->n_eku) && !email)
		finding(l, "S/MIME BR 7.1.2.3: an emailProtection certificate needs an "
		    "rfc822Name SAN");
	GENERAL_NAMES_free(gens);
}

static void check_subscriber(struct lint *l)
{
	const struct tsr_product *pr = l->product;

	check_not_ca(l, "RFC 5280 4.2.1.9", "a subscriber certificate");
	check_product_key_usage(l);
	check_product_eku(l);
	check_product_policies(l);
	check_max_validity(l, pr->validity_days, "Tessera", "the product's validity_days");
	check_max_validity(l, pr->max_validity_days, "Tessera",
	    "the product's max_validity_days");
	if (l->key_type != TSR_KEY_NONE && !(pr->key_types & (1u << l->key_type)))
		finding(l, "Tessera: key type %s is not allowed by the product",
		    tsr_key_type_name(l->key_type));
	check_product_urls(l);
	check_product_sans(l);
	check_product_subject(l);
}

/* ------------------------------------------------------------------ entry */

/* The DER a relying party would receive, parsed back.  A certificate that
 * does not survive the round trip is itself a finding. */
static X509 *reparse(struct lint *l, X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *copy = NULL;
	int len = i2d_X509(cert, &der);

	if (len <= 0) {
		finding(l, "RFC 5280 4.1: the certificate cannot be DER-encoded");
		goto out;
	}
	p = der;
	copy = d2i_X509(NULL, &p, len);
	if (copy == NULL || p != der + len) {
		finding(l, "RFC 5280 4.1: the certificate's DER does not parse back");
		X509_free(copy);
		copy = NULL;
	}
out:
	ERR_clear_error();
	OPENSSL_free(der);
	return copy;
}

static void lint_all(struct lint *l)
{
	/* Fills OpenSSL's extension cache; EXFLAG_INVALID catches what our
	 * own decoding might not (e.g. a bad nameConstraints). */
	if (X509_check_purpose(l->cert, -1, 0) != 1 ||
	    (X509_get_extension_flags(l->cert) & EXFLAG_INVALID))
		finding(l, "RFC 5280 4.2: OpenSSL rejects the certificate's extensions");
	ERR_clear_error();
	check_version_serial(l);
	check_signature_algorithm(l);
	check_issuer_name(l);
	check_subject(l);
	check_validity(l);
	check_public_key(l);
	check_extension_list(l);
	check_ski(l);
	check_aki(l);
	check_san(l);
	switch (l->kind) {
	case TSR_CERT_ROOT:
	case TSR_CERT_ISSUING:
		check_ca(l);
		break;
	case TSR_CERT_OCSP:
		check_ocsp(l);
		break;
	case TSR_CERT_SUBSCRIBER:
		check_subscriber(l);
		break;
	default:
		break;
	}
}

int tsr_lint_cert(X509 *cert, enum tsr_cert_kind kind, const X509 *issuer,
    const struct tsr_product *product, time_t now, struct tsr_lint_findings *out)
{
	struct lint l = { .kind = kind, .issuer = issuer, .product = product, .now = now,
	    .out = out };

	if (out == NULL)
		return tsr_error(TSR_ERR_INVALID, "lint: no place for the findings");
	out->n = 0;
	if (cert == NULL)
		return tsr_error(TSR_ERR_INVALID, "lint: no certificate");
	if (kind != TSR_CERT_ROOT && kind != TSR_CERT_ISSUING && kind != TSR_CERT_OCSP &&
	    kind != TSR_CERT_SUBSCRIBER)
		return tsr_error(TSR_ERR_INVALID, "lint: unknown certificate kind %d", (int)kind);
	if ((kind == TSR_CERT_ROOT) != (issuer == NULL))
		return tsr_error(TSR_ERR_INVALID, "lint: %s", kind == TSR_CERT_ROOT ?
		    "a root has no issuer certificate" : "the issuer certificate is required");
	if (kind == TSR_CERT_SUBSCRIBER && product == NULL)
		return tsr_error(TSR_ERR_INVALID, "lint: a subscriber certificate needs a product");
	if ((l.cert = reparse(&l, cert)) != NULL) {
		if (kind == TSR_CERT_ROOT)
			l.issuer = l.cert;
		lint_all(&l);
		X509_free(l.cert);
	}
	if (out->n > 0)
		return tsr_error(TSR_ERR_LINT, "%s", out->msg[0]);
	return 0;
}
