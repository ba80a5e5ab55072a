/*
 * test_lint.c - pre-issuance lint: one clean certificate per kind, then one
 * variant per rule that breaks exactly that rule.
 *
 * Certificates are made here with OpenSSL and software keys (a root, an
 * issuing CA, responders and subscribers), described by a spec that each
 * variant edits before the certificate is built and signed.  Lint never
 * looks at signatures, so a few variants edit the signed certificate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

#define DAY 86400
#define NOW ((time_t)1767225600)      /* 2026-01-01T00:00:00Z */
#define NOW_2045 ((time_t)2366841600) /* 2045-01-01T00:00:00Z */
#define MAX_EXTS 64
#define MAX_RDNS 10

/* ------------------------------------------------------------------ fixture */
static struct {
	EVP_PKEY *root_key;  /* EC P-384 */
	EVP_PKEY *ca_key;    /* EC P-256 */
	EVP_PKEY *leaf_key;  /* EC P-256 */
	EVP_PKEY *rsa_key;   /* RSA 2048 */
	EVP_PKEY *k1_key;    /* EC secp256k1: a curve Tessera refuses */
	X509 *root;
	X509 *issuing;       /* EC, issued by root */
	X509 *rsa_issuing;   /* RSA, issued by root */
	X509 *issuing_no_ski;  /* issuing CA without a subjectKeyIdentifier */
	X509 *issuing_bad_key; /* issuing CA whose key does not decode */
	X509 *issuing_bad_time; /* issuing CA whose notBefore does not decode */
} fx;

static char oid_server[] = "1.3.6.1.5.5.7.3.1";
static char oid_client[] = "1.3.6.1.5.5.7.3.2";
static char oid_email[] = "1.3.6.1.5.5.7.3.4";
static char oid_policy_smime[] = "2.25.1111";
static char oid_policy_tls[] = "2.25.2222";
static char a_cn[] = "CN", a_o[] = "O", a_c[] = "C", a_email[] = "emailAddress";

static char *smime_eku[] = { oid_client, oid_email };
static char *smime_policies[] = { oid_policy_smime };
static char *smime_required[] = { a_cn, a_c };
static char *smime_allowed[] = { a_cn, a_o, a_c, a_email };
static char *tls_eku[] = { oid_server, oid_client };
static char *tls_policies[] = { oid_policy_tls };
static char *tls_required[] = { a_cn };
static char *tls_allowed[] = { a_cn, a_o, a_c };

static const struct tsr_product smime_product = {
	.name = "smime", .title = "Signed mail", .description = "",
	.class_ = TSR_CLASS_SIGNING,
	.eku = smime_eku, .n_eku = 2,
	.policies = smime_policies, .n_policies = 1,
	.validity_days = 365, .max_validity_days = 825,
	.key_types = 1u << TSR_KEY_EC_P256 | 1u << TSR_KEY_EC_P384 | 1u << TSR_KEY_RSA_2048,
	.subject_required = smime_required, .n_subject_required = 2,
	.subject_allowed = smime_allowed, .n_subject_allowed = 4,
	.san_allowed = 1u << TSR_SAN_EMAIL, .san_required = true,
	.storage = TSR_STORAGE_EITHER, .ra_approvals = 1, .payment = "free",
};

static const struct tsr_product tls_product = {
	.name = "tls", .title = "TLS server", .description = "",
	.class_ = TSR_CLASS_AUTHENTICATION,
	.eku = tls_eku, .n_eku = 2,
	.policies = tls_policies, .n_policies = 1,
	.validity_days = 200, .max_validity_days = 398,
	.key_types = 1u << TSR_KEY_EC_P256 | 1u << TSR_KEY_RSA_2048,
	.subject_required = tls_required, .n_subject_required = 1,
	.subject_allowed = tls_allowed, .n_subject_allowed = 3,
	.san_allowed = 1u << TSR_SAN_DNS | 1u << TSR_SAN_IP, .san_required = true,
	.storage = TSR_STORAGE_SOFTWARE, .ra_approvals = 1, .payment = "free",
};

/* ------------------------------------------------------------------ specs */
struct rdn {
	int nid;
	int type;             /* V_ASN1_* string type, used as given */
	const char *value;
	bool merge;           /* same RDN as the previous attribute */
};

struct ext {
	const char *name;     /* OpenSSL config name or dotted OID */
	const char *value;    /* OpenSSL config value ("critical,..." / "DER:...") */
};

struct spec {
	enum tsr_cert_kind kind;
	long version;
	uint8_t serial[24];
	size_t serial_len;
	bool serial_negative;
	struct rdn subject[MAX_RDNS];
	size_t n_subject;
	X509 *issuer;                /* NULL: self-issued */
	const char *issuer_dn;       /* override the issuer name ("CN=...") */
	int issuer_cn_type;          /* override: re-encode the issuer's CN as this type */
	X509 *aki_from;              /* override: take the AKI from this certificate */
	EVP_PKEY *key;
	EVP_PKEY *sign_key;
	const EVP_MD *md;
	time_t not_before, not_after;
	const char *nb_raw;          /* override: exact notBefore contents */
	int nb_raw_type;
	bool na_generalized;         /* force GeneralizedTime for notAfter */
	struct ext exts[MAX_EXTS];
	size_t n_exts;
	X509 *(*post)(X509 *cert);   /* edit after signing */
	struct tsr_product product;  /* subscribers */
	time_t now;
};

enum base { B_ROOT, B_ISSUING, B_OCSP, B_SMIME, B_TLS };

static void ext_set(struct spec *s, const char *name, const char *value)
{
	for (size_t i = 0; i < s->n_exts; i++) {
		if (strcmp(s->exts[i].name, name) != 0)
			continue;
		if (value != NULL) {
			s->exts[i].value = value;
		} else {
			memmove(&s->exts[i], &s->exts[i + 1],
			    (s->n_exts - i - 1) * sizeof(s->exts[0]));
			s->n_exts--;
		}
		return;
	}
	if (value != NULL) {
		assert_true(s->n_exts < MAX_EXTS);
		s->exts[s->n_exts++] = (struct ext){ name, value };
	}
}

static void ext_add(struct spec *s, const char *name, const char *value)
{
	assert_true(s->n_exts < MAX_EXTS);
	s->exts[s->n_exts++] = (struct ext){ name, value };
}

static void rdn_add(struct spec *s, int nid, int type, const char *value)
{
	assert_true(s->n_subject < MAX_RDNS);
	s->subject[s->n_subject++] = (struct rdn){ nid, type, value, false };
}

static void rdn_del(struct spec *s, int nid)
{
	for (size_t i = 0; i < s->n_subject; i++)
		if (s->subject[i].nid == nid) {
			memmove(&s->subject[i], &s->subject[i + 1],
			    (s->n_subject - i - 1) * sizeof(s->subject[0]));
			s->n_subject--;
			return;
		}
}

static void spec_common(struct spec *s, enum tsr_cert_kind kind, const char *cn)
{
	static const uint8_t serial[16] = { 0x4f, 0x12, 0x9a, 0x33, 0x01, 0xde, 0x77, 0x10,
		0x2b, 0xc4, 0x56, 0x8e, 0x90, 0x0d, 0xa1, 0x5c };

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->version = X509_VERSION_3;
	memcpy(s->serial, serial, sizeof(serial));
	s->serial_len = sizeof(serial);
	rdn_add(s, NID_commonName, V_ASN1_UTF8STRING, cn);
	rdn_add(s, NID_organizationName, V_ASN1_UTF8STRING, "Tessera Test");
	rdn_add(s, NID_countryName, V_ASN1_PRINTABLESTRING, "US");
	s->now = NOW;
	ext_set(s, "subjectKeyIdentifier", "hash");
	if (kind != TSR_CERT_ROOT)
		ext_set(s, "authorityKeyIdentifier", "keyid:always");
}

static void spec_root(struct spec *s)
{
	spec_common(s, TSR_CERT_ROOT, "Tessera Test Root");
	s->key = s->sign_key = fx.root_key;
	s->md = EVP_sha384();
	s->not_before = NOW - 3600;
	s->not_after = s->not_before + 7300L * DAY;
	ext_set(s, "basicConstraints", "critical,CA:TRUE");
	ext_set(s, "keyUsage", "critical,keyCertSign,cRLSign");
	ext_set(s, "authorityKeyIdentifier", "keyid:always");
	ext_set(s, "certificatePolicies", "2.5.29.32.0");
}

static void spec_issuing(struct spec *s)
{
	spec_common(s, TSR_CERT_ISSUING, "Tessera Test Issuing CA");
	s->issuer = fx.root;
	s->key = fx.ca_key;
	s->sign_key = fx.root_key;
	s->md = EVP_sha384();
	s->not_before = NOW - 1800;
	s->not_after = s->not_before + 3650L * DAY;
	ext_set(s, "basicConstraints", "critical,CA:TRUE,pathlen:0");
	ext_set(s, "keyUsage", "critical,digitalSignature,keyCertSign,cRLSign");
	ext_set(s, "authorityInfoAccess", "caIssuers;URI:http://ca.example/root.crt");
	ext_set(s, "crlDistributionPoints", "URI:http://ca.example/root.crl");
	ext_set(s, "certificatePolicies", "2.5.29.32.0");
}

static void spec_ocsp(struct spec *s)
{
	spec_common(s, TSR_CERT_OCSP, "Tessera Test OCSP Responder");
	s->issuer = fx.issuing;
	s->key = fx.leaf_key;
	s->sign_key = fx.ca_key;
	s->md = EVP_sha256();
	s->not_before = NOW - 60;
	s->not_after = s->not_before + 90L * DAY;
	ext_set(s, "keyUsage", "critical,digitalSignature");
	ext_set(s, "extendedKeyUsage", "OCSPSigning");
	ext_set(s, "noCheck", "DER:05:00");
}

static void spec_subscriber(struct spec *s, const char *cn)
{
	spec_common(s, TSR_CERT_SUBSCRIBER, cn);
	s->issuer = fx.issuing;
	s->key = fx.leaf_key;
	s->sign_key = fx.ca_key;
	s->md = EVP_sha256();
	s->not_before = NOW;
	s->not_after = NOW + 365L * DAY - 1;
	ext_set(s, "basicConstraints", "critical,CA:FALSE");
	ext_set(s, "authorityInfoAccess", "OCSP;URI:http://ocsp.example/,"
	    "caIssuers;URI:http://ca.example/issuing.crt");
	ext_set(s, "crlDistributionPoints", "URI:http://ca.example/issuing.crl");
}

static void spec_smime(struct spec *s)
{
	spec_subscriber(s, "Jane Doe");
	s->product = smime_product;
	ext_set(s, "keyUsage", "critical,digitalSignature,nonRepudiation");
	ext_set(s, "extendedKeyUsage", "clientAuth,emailProtection");
	ext_set(s, "certificatePolicies", "2.25.1111");
	ext_set(s, "subjectAltName", "email:jane@example.com");
}

static void spec_tls(struct spec *s)
{
	spec_subscriber(s, "www.example.com");
	s->product = tls_product;
	s->not_after = NOW + 200L * DAY - 1;
	ext_set(s, "keyUsage", "critical,digitalSignature");
	ext_set(s, "extendedKeyUsage", "serverAuth,clientAuth");
	ext_set(s, "certificatePolicies", "2.25.2222");
	ext_set(s, "subjectAltName", "DNS:www.example.com,IP:192.0.2.1");
}

static void spec_base(struct spec *s, enum base b)
{
	switch (b) {
	case B_ROOT:
		spec_root(s);
		break;
	case B_ISSUING:
		spec_issuing(s);
		break;
	case B_OCSP:
		spec_ocsp(s);
		break;
	case B_SMIME:
		spec_smime(s);
		break;
	case B_TLS:
	default:
		spec_tls(s);
		break;
	}
}

/* ------------------------------------------------------------------ building */
static X509_NAME *make_subject(const struct spec *s)
{
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(nm);
	for (size_t i = 0; i < s->n_subject; i++) {
		const struct rdn *r = &s->subject[i];

		assert_int_equal(X509_NAME_add_entry_by_NID(nm, r->nid, r->type,
		    (const unsigned char *)r->value, (int)strlen(r->value), -1, r->merge ? -1 : 0),
		    1);
	}
	return nm;
}

/* The issuer's subject with its CN re-encoded as another string type:
 * equal to X509_NAME_cmp(), different byte for byte. */
static X509_NAME *recode_cn(const X509_NAME *in, int type)
{
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(nm);
	for (int i = 0; i < X509_NAME_entry_count(in); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(in, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);

		assert_int_equal(X509_NAME_add_entry_by_OBJ(nm, obj,
		    OBJ_obj2nid(obj) == NID_commonName ? type : ASN1_STRING_type(v),
		    ASN1_STRING_get0_data(v), ASN1_STRING_length(v), -1, 0), 1);
	}
	return nm;
}

static void set_issuer_name(X509 *c, const struct spec *s, const X509_NAME *subject)
{
	X509_NAME *nm = NULL;

	if (s->issuer_dn != NULL)
		assert_int_equal(tsr_name_parse(s->issuer_dn, &nm), 0);
	else if (s->issuer_cn_type != 0)
		nm = recode_cn(s->issuer ? X509_get_subject_name(s->issuer) : subject,
		    s->issuer_cn_type);
	assert_int_equal(X509_set_issuer_name(c, nm ? nm : s->issuer ?
	    X509_get_subject_name(s->issuer) : subject), 1);
	X509_NAME_free(nm);
}

static void set_serial(X509 *c, const struct spec *s)
{
	BIGNUM *bn = BN_bin2bn(s->serial, (int)s->serial_len, NULL);
	ASN1_INTEGER *i;

	assert_non_null(bn);
	BN_set_negative(bn, s->serial_negative);
	assert_non_null(i = BN_to_ASN1_INTEGER(bn, NULL));
	assert_int_equal(X509_set_serialNumber(c, i), 1);
	ASN1_INTEGER_free(i);
	BN_free(bn);
}

static void set_validity(X509 *c, const struct spec *s)
{
	ASN1_TIME *nb, *na;

	if (s->nb_raw != NULL) {
		nb = ASN1_STRING_type_new(s->nb_raw_type);
		assert_true(ASN1_STRING_set(nb, s->nb_raw, (int)strlen(s->nb_raw)));
	} else {
		nb = ASN1_TIME_set(NULL, s->not_before);
	}
	na = s->na_generalized ? ASN1_GENERALIZEDTIME_set(NULL, s->not_after)
	    : ASN1_TIME_set(NULL, s->not_after);
	assert_non_null(nb);
	assert_non_null(na);
	assert_int_equal(X509_set1_notBefore(c, nb), 1);
	assert_int_equal(X509_set1_notAfter(c, na), 1);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
}

static void add_extensions(X509 *c, const struct spec *s)
{
	/* Some extensions (certificatePolicies) want a config, even an empty one. */
	CONF *conf = NCONF_new(NULL);

	assert_non_null(conf);
	for (size_t i = 0; i < s->n_exts; i++) {
		X509V3_CTX ctx;
		X509 *issuer = s->issuer ? s->issuer : c;
		X509_EXTENSION *e;

		if (s->aki_from && strcmp(s->exts[i].name, "authorityKeyIdentifier") == 0)
			issuer = s->aki_from;
		X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
		X509V3_set_nconf(&ctx, conf);
		e = X509V3_EXT_nconf(conf, &ctx, s->exts[i].name, s->exts[i].value);
		if (e == NULL)
			fail_msg("cannot make extension %s = %s", s->exts[i].name,
			    s->exts[i].value);
		assert_int_equal(X509_add_ext(c, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	NCONF_free(conf);
}

static X509 *build(const struct spec *s)
{
	X509 *c = X509_new();
	X509_NAME *subject = make_subject(s);

	assert_non_null(c);
	assert_int_equal(X509_set_version(c, s->version), 1);
	set_serial(c, s);
	assert_int_equal(X509_set_subject_name(c, subject), 1);
	set_issuer_name(c, s, subject);
	set_validity(c, s);
	assert_int_equal(X509_set_pubkey(c, s->key), 1);
	add_extensions(c, s);
	if (X509_sign(c, s->sign_key, s->md) <= 0)
		fail_msg("X509_sign failed");
	X509_NAME_free(subject);
	return s->post ? s->post(c) : c;
}

static int lint_spec(const struct spec *s, X509 *c, struct tsr_lint_findings *f)
{
	return tsr_lint_cert(c, s->kind, s->issuer,
	    s->kind == TSR_CERT_SUBSCRIBER ? &s->product : NULL, s->now, f);
}

static void dump(const struct tsr_lint_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		print_message("  finding: %s\n", f->msg[i]);
}

static bool has_finding(const struct tsr_lint_findings *f, const char *sub)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->msg[i], sub) != NULL)
			return true;
	return false;
}

static void assert_clean(const struct spec *s, X509 *c)
{
	struct tsr_lint_findings f;
	int r = lint_spec(s, c, &f);

	if (r != 0)
		dump(&f);
	assert_int_equal(r, 0);
	assert_int_equal(f.n, 0);
}

static X509 *build_clean(enum base b)
{
	struct spec s;
	X509 *c;

	spec_base(&s, b);
	c = build(&s);
	assert_clean(&s, c);
	return c;
}

/* The certificate with its key's algorithm replaced by an unknown OID, so
 * that the key no longer decodes; parsed afresh from DER (frees c). */
static X509 *garble_key(X509 *c)
{
	unsigned char *der = NULL, *bits = OPENSSL_malloc(4);
	const unsigned char *p;
	X509 *copy;
	int n;

	assert_non_null(bits);
	memcpy(bits, "\x01\x02\x03\x04", 4);
	assert_true(X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(c), OBJ_txt2obj("1.2.3.4", 1),
	    V_ASN1_NULL, NULL, bits, 4));
	assert_true(i2d_re_X509_tbs(c, NULL) > 0);
	assert_true((n = i2d_X509(c, &der)) > 0);
	p = der;
	assert_non_null(copy = d2i_X509(NULL, &p, n));
	OPENSSL_free(der);
	X509_free(c);
	return copy;
}

/* ------------------------------------------------------------------ fixture setup */
static EVP_PKEY *ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);

	assert_non_null(k);
	return k;
}

static int group_setup(void **state)
{
	struct spec s;

	(void)state;
	fx.root_key = ec_key("P-384");
	fx.ca_key = ec_key("P-256");
	fx.leaf_key = ec_key("P-256");
	fx.k1_key = ec_key("secp256k1");
	fx.rsa_key = EVP_RSA_gen(2048);
	assert_non_null(fx.rsa_key);
	fx.root = build_clean(B_ROOT);
	fx.issuing = build_clean(B_ISSUING);
	spec_issuing(&s);
	rdn_del(&s, NID_commonName);
	rdn_add(&s, NID_commonName, V_ASN1_UTF8STRING, "Tessera Test RSA Issuing CA");
	s.key = fx.rsa_key;
	fx.rsa_issuing = build(&s);
	assert_clean(&s, fx.rsa_issuing);
	spec_issuing(&s);
	ext_set(&s, "subjectKeyIdentifier", NULL);
	fx.issuing_no_ski = build(&s);
	fx.issuing_bad_key = garble_key(X509_dup(fx.issuing));
	spec_issuing(&s);
	s.nb_raw = "26aa01000000Z";
	s.nb_raw_type = V_ASN1_UTCTIME;
	fx.issuing_bad_time = build(&s);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	X509_free(fx.root);
	X509_free(fx.issuing);
	X509_free(fx.rsa_issuing);
	X509_free(fx.issuing_no_ski);
	X509_free(fx.issuing_bad_key);
	X509_free(fx.issuing_bad_time);
	EVP_PKEY_free(fx.root_key);
	EVP_PKEY_free(fx.ca_key);
	EVP_PKEY_free(fx.leaf_key);
	EVP_PKEY_free(fx.rsa_key);
	EVP_PKEY_free(fx.k1_key);
	return 0;
}

/* ------------------------------------------------------------------ post-signing edits */
static X509 *post_empty_signature(X509 *c)
{
	const ASN1_BIT_STRING *sig;

	/* What the CA lints: the TBS is final, the signature still empty. */
	X509_get0_signature(&sig, NULL, c);
	assert_true(ASN1_BIT_STRING_set((ASN1_BIT_STRING *)sig, (unsigned char *)"", 0));
	return c;
}

static X509 *post_outer_sigalg(X509 *c)
{
	const X509_ALGOR *alg;

	X509_get0_signature(NULL, &alg, c);
	assert_true(X509_ALGOR_set0((X509_ALGOR *)alg, OBJ_nid2obj(NID_ecdsa_with_SHA384),
	    V_ASN1_UNDEF, NULL));
	return c;
}

/* Give both signature algorithm fields the parameter type ptype. */
static X509 *set_sigalg_params(X509 *c, int ptype)
{
	const X509_ALGOR *outer, *inner = X509_get0_tbs_sigalg(c);
	const ASN1_OBJECT *obj;

	X509_get0_signature(NULL, &outer, c);
	X509_ALGOR_get0(&obj, NULL, NULL, inner);
	assert_true(X509_ALGOR_set0((X509_ALGOR *)inner, OBJ_dup(obj), ptype, NULL));
	X509_ALGOR_get0(&obj, NULL, NULL, outer);
	assert_true(X509_ALGOR_set0((X509_ALGOR *)outer, OBJ_dup(obj), ptype, NULL));
	/* The TBS encoding is cached after signing; make i2d re-encode it. */
	assert_true(i2d_re_X509_tbs(c, NULL) > 0);
	return c;
}

static X509 *post_ecdsa_null_params(X509 *c)
{
	return set_sigalg_params(c, V_ASN1_NULL);
}

static X509 *post_rsa_absent_params(X509 *c)
{
	return set_sigalg_params(c, V_ASN1_UNDEF);
}

/* DER of a SEQUENCE around content (new, OPENSSL_free()). */
static unsigned char *wrap_sequence(const unsigned char *content, size_t n, size_t *outlen)
{
	int total = ASN1_object_size(1, (long)n, V_ASN1_SEQUENCE);
	unsigned char *out = OPENSSL_malloc((size_t)total), *p = out;

	assert_non_null(out);
	ASN1_put_object(&p, 1, (long)n, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, content, n);
	*outlen = (size_t)total;
	return out;
}

/* No OpenSSL setter makes a subjectUniqueID, so splice one into the DER
 * just before the [3] extensions. */
static X509 *post_unique_id(X509 *c)
{
	static const unsigned char uid[] = { 0x82, 0x02, 0x00, 0xaa };
	unsigned char *der = NULL, *tbs_content, *tbs, *cert_content, *out;
	const unsigned char *p, *q, *tbs_end, *end;
	long len;
	int tag, xclass, der_len = i2d_X509(c, &der);
	size_t head, tbs_len, rest, out_len;
	X509 *copy;

	assert_true(der_len > 0);
	end = der + der_len;
	p = der;
	assert_false(ASN1_get_object(&p, &len, &tag, &xclass, der_len) & 0x80);
	assert_false(ASN1_get_object(&p, &len, &tag, &xclass, end - p) & 0x80);
	tbs_end = p + len;
	for (q = p; q < tbs_end;) {
		const unsigned char *e = q;

		assert_false(ASN1_get_object(&e, &len, &tag, &xclass, tbs_end - q) & 0x80);
		if (xclass == V_ASN1_CONTEXT_SPECIFIC && tag == 3)
			break;
		q = e + len;
	}
	head = (size_t)(q - p);
	tbs_content = malloc(head + sizeof(uid) + (size_t)(tbs_end - q));
	assert_non_null(tbs_content);
	memcpy(tbs_content, p, head);
	memcpy(tbs_content + head, uid, sizeof(uid));
	memcpy(tbs_content + head + sizeof(uid), q, (size_t)(tbs_end - q));
	tbs = wrap_sequence(tbs_content, head + sizeof(uid) + (size_t)(tbs_end - q), &tbs_len);
	rest = (size_t)(end - tbs_end);
	cert_content = malloc(tbs_len + rest);
	assert_non_null(cert_content);
	memcpy(cert_content, tbs, tbs_len);
	memcpy(cert_content + tbs_len, tbs_end, rest);
	out = wrap_sequence(cert_content, tbs_len + rest, &out_len);
	p = out;
	copy = d2i_X509(NULL, &p, (long)out_len);
	assert_non_null(copy);
	OPENSSL_free(der);
	OPENSSL_free(tbs);
	OPENSSL_free(out);
	free(tbs_content);
	free(cert_content);
	X509_free(c);
	return copy;
}

/* ------------------------------------------------------------------ variants */

/* All kinds: fields */
static void v_version1(struct spec *s)
{
	s->version = X509_VERSION_1;
}

static void v_serial_negative(struct spec *s)
{
	s->serial_negative = true;
}

static void v_serial_zero(struct spec *s)
{
	s->serial_len = 0;
}

static void v_serial_7(struct spec *s)
{
	s->serial_len = 7;
}

static void v_serial_8(struct spec *s)
{
	s->serial_len = 8;
}

static void v_serial_21(struct spec *s)
{
	memset(s->serial, 0x11, 21);
	s->serial_len = 21;
}

/* 20 bytes with the top bit set are 21 octets in DER. */
static void v_serial_20_high(struct spec *s)
{
	memset(s->serial, 0x91, 20);
	s->serial_len = 20;
}

static void v_serial_20(struct spec *s)
{
	memset(s->serial, 0x71, 20);
	s->serial_len = 20;
}

static void v_outer_sigalg(struct spec *s)
{
	s->post = post_outer_sigalg;
}

static void v_empty_signature(struct spec *s)
{
	s->post = post_empty_signature;
}

static void v_ecdsa_null_params(struct spec *s)
{
	s->post = post_ecdsa_null_params;
}

static void v_sha512_ecdsa(struct spec *s)
{
	s->md = EVP_sha512();
}

static void v_p256_sha384(struct spec *s)
{
	s->md = EVP_sha384();
}

static void v_wrong_signer(struct spec *s)
{
	s->sign_key = fx.leaf_key;
}

static void v_rsa_signer_ec_issuer(struct spec *s)
{
	s->sign_key = fx.rsa_key;
}

static void v_rsa_issuer(struct spec *s)
{
	s->issuer = fx.rsa_issuing;
	s->sign_key = fx.rsa_key;
	s->md = EVP_sha256();
}

static void v_rsa_issuer_sha512(struct spec *s)
{
	v_rsa_issuer(s);
	s->md = EVP_sha512();
}

static void v_rsa_absent_params(struct spec *s)
{
	v_rsa_issuer(s);
	s->post = post_rsa_absent_params;
}

static void v_issuer_dn_other(struct spec *s)
{
	s->issuer_dn = "CN=Someone Else,C=US";
}

static void v_issuer_dn_recoded(struct spec *s)
{
	s->issuer_cn_type = V_ASN1_PRINTABLESTRING;
}

static void v_no_subject(struct spec *s)
{
	s->n_subject = 0;
}

static void v_no_subject_critical_san(struct spec *s)
{
	s->n_subject = 0;
	ext_set(s, "subjectAltName", "critical,email:jane@example.com");
	s->product.n_subject_required = 0;
}

static void v_no_subject_plain_san(struct spec *s)
{
	s->n_subject = 0;
	s->product.n_subject_required = 0;
}

static void v_no_subject_no_san(struct spec *s)
{
	v_no_subject_plain_san(s);
	ext_set(s, "subjectAltName", NULL);
	s->product.san_required = false;
}

static void v_nb_equals_na(struct spec *s)
{
	s->not_after = s->not_before;
}

static void v_nb_generalized(struct spec *s)
{
	s->nb_raw = "20260101000000Z";
	s->nb_raw_type = V_ASN1_GENERALIZEDTIME;
}

static void v_nb_no_seconds(struct spec *s)
{
	s->nb_raw = "2601010000Z";
	s->nb_raw_type = V_ASN1_UTCTIME;
}

static void v_nb_offset(struct spec *s)
{
	s->nb_raw = "260101010000+0100";
	s->nb_raw_type = V_ASN1_UTCTIME;
}

static void v_nb_garbage(struct spec *s)
{
	s->nb_raw = "26aa01000000Z";
	s->nb_raw_type = V_ASN1_UTCTIME;
}

static void v_nb_48h(struct spec *s)
{
	s->not_before = NOW - 48 * 3600;
}

static void v_nb_48h_1s(struct spec *s)
{
	s->not_before = NOW - 48 * 3600 - 1;
}

static void v_nb_5min(struct spec *s)
{
	s->not_before = NOW + 300;
}

static void v_nb_5min_1s(struct spec *s)
{
	s->not_before = NOW + 301;
}

static void v_na_past_issuer(struct spec *s)
{
	time_t ina = NOW - 1800 + 3650L * DAY;

	s->product.validity_days = s->product.max_validity_days = 5000;
	s->not_after = ina + 1;
}

static void v_na_equals_issuer(struct spec *s)
{
	s->product.validity_days = s->product.max_validity_days = 5000;
	s->not_after = NOW - 1800 + 3650L * DAY;
}

static void v_nb_before_issuer(struct spec *s)
{
	s->not_before = NOW - 1800 - 1;
}

/* A root valid past 2050: notAfter must then be GeneralizedTime. */
static void v_root_2050(struct spec *s)
{
	s->now = NOW_2045;
	s->not_before = NOW_2045;
	s->not_after = NOW_2045 + 3650L * DAY;
}

static void v_root_2050_utc_forced(struct spec *s)
{
	v_root_2050(s);
	s->not_after = NOW_2045 + 1000L * DAY; /* 2047: UTCTime is right */
	s->na_generalized = true;
}

static void v_key_k1(struct spec *s)
{
	s->key = fx.k1_key;
}

static void v_key_garbled(struct spec *s)
{
	s->post = garble_key;
}

/* The AKI still names the issuing CA's key, but the issuer given to lint
 * lacks what lint needs from it. */
static void v_issuer_no_ski(struct spec *s)
{
	s->aki_from = fx.issuing;
	s->issuer = fx.issuing_no_ski;
}

static void v_issuer_bad_key(struct spec *s)
{
	s->issuer = fx.issuing_bad_key;
}

static void v_issuer_bad_time(struct spec *s)
{
	s->issuer = fx.issuing_bad_time;
}

static void v_key_rsa(struct spec *s)
{
	s->key = fx.rsa_key;
}

static void v_key_not_in_product(struct spec *s)
{
	s->product.key_types = 1u << TSR_KEY_EC_P384;
}

/* All kinds: extensions */
static void v_dup_ext(struct spec *s)
{
	ext_add(s, "certificatePolicies", "2.25.1111");
}

static void v_unknown_critical(struct spec *s)
{
	ext_add(s, "1.2.3.4", "critical,DER:05:00");
}

static void v_unknown_noncritical(struct spec *s)
{
	ext_add(s, "1.2.3.4", "DER:05:00");
}

static void v_bad_name_constraints(struct spec *s)
{
	ext_add(s, "nameConstraints", "critical,DER:30:03:02:01:01");
}

static void v_san_empty(struct spec *s)
{
	ext_set(s, "subjectAltName", "DER:30:00");
	s->product.san_required = false;
}

static void v_aki_from_root(struct spec *s)
{
	s->aki_from = fx.root;
}

static void v_uid(struct spec *s)
{
	s->post = post_unique_id;
}

/* Subject strings */
static void v_cn_t61(struct spec *s)
{
	s->subject[0].type = V_ASN1_T61STRING;
}

static void v_cn_printable(struct spec *s)
{
	s->subject[0].type = V_ASN1_PRINTABLESTRING;
}

static void v_c_utf8(struct spec *s)
{
	s->subject[2].type = V_ASN1_UTF8STRING;
}

static void v_c_three(struct spec *s)
{
	s->subject[2].value = "USA";
}

static void v_c_digits(struct spec *s)
{
	s->subject[2].value = "1A";
}

static void v_email_utf8(struct spec *s)
{
	rdn_add(s, NID_pkcs9_emailAddress, V_ASN1_UTF8STRING, "jane@example.com");
}

static void v_email_ia5(struct spec *s)
{
	rdn_add(s, NID_pkcs9_emailAddress, V_ASN1_IA5STRING, "jane@example.com");
}

static void v_printable_at(struct spec *s)
{
	s->subject[1].type = V_ASN1_PRINTABLESTRING;
	s->subject[1].value = "Acme@Home";
}

static void v_utf8_ok(struct spec *s)
{
	s->subject[1].value = "Zo\xc3\xab M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x91";
}

static void v_empty_value(struct spec *s)
{
	s->subject[1].value = "";
}

static void v_multi_rdn(struct spec *s)
{
	s->subject[1].merge = true;
}

/* CA kinds.  Validity counts both ends (RFC 5280 4.1.2.5): N days is
 * notAfter = notBefore + N * DAY - 1, and + N * DAY is one second over. */
static void v_pathlen_1(struct spec *s)
{
	ext_set(s, "basicConstraints", "critical,CA:TRUE,pathlen:1");
}

static void v_root_7305(struct spec *s)
{
	s->not_after = s->not_before + 7305L * DAY - 1;
}

static void v_root_7305_1s(struct spec *s)
{
	s->not_after = s->not_before + 7305L * DAY;
}

static void v_issuing_3653_1s(struct spec *s)
{
	s->not_after = s->not_before + 3653L * DAY;
}

/* OCSP */
static void v_ocsp_121(struct spec *s)
{
	s->not_after = s->not_before + 121L * DAY;
}

static void v_ocsp_120(struct spec *s)
{
	s->not_after = s->not_before + 120L * DAY - 1;
}

/* Subscribers */
static void v_validity_plus_1s(struct spec *s)
{
	s->not_after = s->not_before + 365L * DAY;
}

static void v_validity_max(struct spec *s)
{
	s->product.validity_days = 900;
	s->not_after = s->not_before + 825L * DAY;
}

static void v_tls_cn_ip(struct spec *s)
{
	s->subject[0].value = "192.0.2.1";
}

static void v_tls_cn_other(struct spec *s)
{
	s->subject[0].value = "mail.example.com";
}

static void v_tls_cn_upper(struct spec *s)
{
	s->subject[0].value = "WWW.example.com";
}

static void v_tls_email_san(struct spec *s)
{
	ext_set(s, "subjectAltName", "DNS:www.example.com,email:a@example.com");
	s->product.san_allowed |= 1u << TSR_SAN_EMAIL;
}

static void v_tls_no_san(struct spec *s)
{
	ext_set(s, "subjectAltName", NULL);
	s->product.san_required = false;
}

static void v_smime_no_email(struct spec *s)
{
	ext_set(s, "subjectAltName", "DNS:mail.example.com");
	s->product.san_allowed |= 1u << TSR_SAN_DNS;
}

static void v_smime_no_san(struct spec *s)
{
	ext_set(s, "subjectAltName", NULL);
}

static void v_subject_ou(struct spec *s)
{
	rdn_add(s, NID_organizationalUnitName, V_ASN1_UTF8STRING, "Billing");
}

static void v_subject_no_c(struct spec *s)
{
	rdn_del(s, NID_countryName);
}

static void v_subject_unsupported(struct spec *s)
{
	rdn_add(s, NID_description, V_ASN1_UTF8STRING, "Billing");
}

struct variant {
	const char *name;
	enum base base;
	const char *ext;        /* extension to replace (value NULL: remove) */
	const char *value;
	void (*edit)(struct spec *s);
	const char *expect;     /* a finding containing this; NULL: must be clean */
};

#define EXT(n, b, e, v, x) { n, b, e, v, NULL, x }
#define FN(n, b, f, x) { n, b, NULL, NULL, f, x }

static const struct variant variants[] = {
	/* clean edges */
	FN("clean_empty_signature", B_SMIME, v_empty_signature, NULL),
	FN("clean_wrong_signer_key", B_SMIME, v_wrong_signer, NULL),
	FN("clean_serial_8_octets", B_SMIME, v_serial_8, NULL),
	FN("clean_serial_20_octets", B_SMIME, v_serial_20, NULL),
	FN("clean_rsa_issuer", B_SMIME, v_rsa_issuer, NULL),
	FN("clean_rsa_issuer_sha512", B_SMIME, v_rsa_issuer_sha512, NULL),
	FN("clean_rsa_subject_key", B_SMIME, v_key_rsa, NULL),
	FN("clean_nb_48h_ago", B_ROOT, v_nb_48h, NULL),
	FN("clean_nb_5min_ahead", B_OCSP, v_nb_5min, NULL),
	FN("clean_na_equals_issuer", B_SMIME, v_na_equals_issuer, NULL),
	FN("clean_root_past_2050", B_ROOT, v_root_2050, NULL),
	FN("clean_unknown_noncritical_ext", B_SMIME, v_unknown_noncritical, NULL),
	FN("clean_email_attr_ia5", B_SMIME, v_email_ia5, NULL),
	FN("clean_utf8_multibyte", B_SMIME, v_utf8_ok, NULL),
	FN("clean_cn_printable", B_SMIME, v_cn_printable, NULL),
	FN("clean_no_subject_critical_san", B_SMIME, v_no_subject_critical_san, NULL),
	EXT("clean_root_without_aki", B_ROOT, "authorityKeyIdentifier", NULL, NULL),
	EXT("clean_root_ku_digital_signature", B_ROOT, "keyUsage",
	    "critical,digitalSignature,keyCertSign,cRLSign", NULL),
	EXT("clean_issuing_ku_no_digital_signature", B_ISSUING, "keyUsage",
	    "critical,keyCertSign,cRLSign", NULL),
	FN("clean_root_7305_days", B_ROOT, v_root_7305, NULL),
	FN("clean_ocsp_120_days", B_OCSP, v_ocsp_120, NULL),
	EXT("clean_ocsp_bc_ca_false", B_OCSP, "basicConstraints", "critical,CA:FALSE", NULL),
	EXT("clean_subscriber_no_bc", B_SMIME, "basicConstraints", NULL, NULL),
	EXT("clean_eku_other_order", B_SMIME, "extendedKeyUsage", "emailProtection,clientAuth",
	    NULL),
	EXT("clean_https_urls", B_SMIME, "authorityInfoAccess",
	    "OCSP;URI:https://ocsp.example/,caIssuers;URI:https://ca.example/i.crt", NULL),
	FN("clean_tls_cn_is_ip", B_TLS, v_tls_cn_ip, NULL),

	/* version, serial, unique IDs */
	FN("version_v1", B_SMIME, v_version1, "version must be v3"),
	FN("serial_negative", B_SMIME, v_serial_negative, "serial number must be positive"),
	FN("serial_zero", B_SMIME, v_serial_zero, "serial number must not be zero"),
	FN("serial_21_octets", B_SMIME, v_serial_21, "serial number of 21 octets, at most 20"),
	FN("serial_20_bytes_high_bit", B_SMIME, v_serial_20_high, "of 21 octets, at most 20"),
	FN("serial_7_octets", B_SMIME, v_serial_7, "serial number of 7 octets, at least 8"),
	FN("subject_unique_id", B_SMIME, v_uid, "UniqueID must be absent"),

	/* signature algorithm */
	FN("sigalg_outer_differs", B_SMIME, v_outer_sigalg,
	    "signatureAlgorithm differs from the TBS"),
	FN("sigalg_ecdsa_sha512", B_SMIME, v_sha512_ecdsa,
	    "signature algorithm ecdsa-with-SHA512 is not allowed"),
	FN("sigalg_rsa_for_ec_issuer", B_SMIME, v_rsa_signer_ec_issuer,
	    "does not match the issuer's id-ecPublicKey key"),
	FN("sigalg_p256_with_sha384", B_SMIME, v_p256_sha384,
	    "P-256 issuer must sign with SHA-256"),
	FN("sigalg_ecdsa_null_params", B_SMIME, v_ecdsa_null_params,
	    "ECDSA signature algorithm parameters must be absent"),
	FN("sigalg_rsa_absent_params", B_SMIME, v_rsa_absent_params,
	    "RSA signature algorithm parameters must be NULL"),

	/* names */
	FN("issuer_name_other", B_SMIME, v_issuer_dn_other, "issuer name differs"),
	FN("issuer_name_recoded", B_SMIME, v_issuer_dn_recoded, "issuer name differs"),
	FN("root_not_self_issued", B_ROOT, v_issuer_dn_other, "a root is self-issued"),
	FN("ocsp_empty_subject", B_OCSP, v_no_subject, "CA or OCSP certificate needs a subject"),
	FN("issuing_empty_subject", B_ISSUING, v_no_subject,
	    "CA or OCSP certificate needs a subject"),
	FN("empty_subject_san_not_critical", B_SMIME, v_no_subject_plain_san,
	    "subjectAltName must be critical when the subject is empty"),
	FN("empty_subject_no_san", B_SMIME, v_no_subject_no_san,
	    "empty subject needs a subjectAltName"),
	FN("subject_t61string", B_SMIME, v_cn_t61, "CN must be PrintableString or UTF8String"),
	FN("subject_c_utf8", B_SMIME, v_c_utf8, "C must be a 2-letter PrintableString"),
	FN("subject_c_three_letters", B_SMIME, v_c_three, "C must be a 2-letter PrintableString"),
	FN("subject_c_digits", B_SMIME, v_c_digits, "C must be a 2-letter PrintableString"),
	FN("subject_email_utf8", B_SMIME, v_email_utf8, "emailAddress must be an IA5String"),
	FN("subject_printable_bad_char", B_SMIME, v_printable_at,
	    "O holds characters PrintableString does not allow"),
	FN("subject_empty_value", B_SMIME, v_empty_value, "subject attribute O is empty"),
	FN("subject_multi_valued_rdn", B_SMIME, v_multi_rdn, "RDN must hold exactly one"),

	/* validity */
	FN("validity_nb_equals_na", B_SMIME, v_nb_equals_na, "notBefore must be before notAfter"),
	FN("validity_generalized_before_2050", B_SMIME, v_nb_generalized,
	    "notBefore in 2026 must be encoded as UTCTime"),
	FN("validity_generalized_notafter_2047", B_ROOT, v_root_2050_utc_forced,
	    "notAfter in 2047 must be encoded as UTCTime"),
	FN("validity_utctime_no_seconds", B_SMIME, v_nb_no_seconds,
	    "notBefore must be YYMMDDHHMMSSZ"),
	FN("validity_utctime_offset", B_SMIME, v_nb_offset, "notBefore must be YYMMDDHHMMSSZ"),
	FN("validity_not_a_time", B_SMIME, v_nb_garbage, "notBefore is not a valid time"),
	FN("validity_nb_48h_1s_ago", B_ROOT, v_nb_48h_1s, "more than 48 hours in the past"),
	FN("validity_nb_5min_1s_ahead", B_OCSP, v_nb_5min_1s, "more than 5 minutes in the future"),
	FN("validity_na_after_issuer", B_SMIME, v_na_past_issuer,
	    "notAfter is after the issuer's notAfter"),
	FN("validity_nb_before_issuer", B_SMIME, v_nb_before_issuer,
	    "notBefore is before the issuer's notBefore"),

	FN("issuer_key_undecodable", B_SMIME, v_issuer_bad_key,
	    "the issuer's public key cannot be decoded"),
	FN("issuer_without_ski", B_SMIME, v_issuer_no_ski,
	    "the issuer has no subjectKeyIdentifier to match"),
	FN("issuer_validity_undecodable", B_SMIME, v_issuer_bad_time,
	    "the issuer's validity cannot be decoded"),

	/* public key */
	FN("key_undecodable", B_SMIME, v_key_garbled, "subject public key cannot be decoded"),
	FN("key_secp256k1", B_SMIME, v_key_k1, "EC curve secp256k1 is not allowed"),
	FN("key_secp256k1_issuing", B_ISSUING, v_key_k1, "EC curve secp256k1 is not allowed"),

	/* extension list */
	FN("ext_duplicate", B_SMIME, v_dup_ext, "certificatePolicies appears more than once"),
	FN("ext_unknown_critical", B_SMIME, v_unknown_critical,
	    "unknown critical extension 1.2.3.4"),
	FN("ext_openssl_rejects", B_SMIME, v_bad_name_constraints,
	    "OpenSSL rejects the certificate's extensions"),
	EXT("ext_malformed_key_usage", B_SMIME, "keyUsage", "critical,DER:01:02",
	    "keyUsage extension is malformed"),
	EXT("ku_no_bits", B_SMIME, "keyUsage", "critical,DER:03:01:00",
	    "keyUsage must assert at least one bit"),
	EXT("ku_bit_past_decipher_only", B_SMIME, "keyUsage", "critical,DER:03:03:00:c0:40",
	    "keyUsage has bits past decipherOnly"),
	EXT("ski_missing", B_SMIME, "subjectKeyIdentifier", NULL, "subjectKeyIdentifier missing"),
	EXT("ski_critical", B_SMIME, "subjectKeyIdentifier", "critical,hash",
	    "subjectKeyIdentifier must not be critical"),
	EXT("ski_empty", B_SMIME, "subjectKeyIdentifier", "DER:04:00",
	    "subjectKeyIdentifier must not be empty"),
	EXT("aki_missing", B_SMIME, "authorityKeyIdentifier", NULL,
	    "authorityKeyIdentifier missing"),
	EXT("aki_missing_ocsp", B_OCSP, "authorityKeyIdentifier", NULL,
	    "authorityKeyIdentifier missing"),
	EXT("aki_critical", B_SMIME, "authorityKeyIdentifier", "critical,keyid:always",
	    "authorityKeyIdentifier must not be critical"),
	EXT("aki_issuer_serial", B_SMIME, "authorityKeyIdentifier", "keyid:always,issuer:always",
	    "must not carry authorityCertIssuer"),
	EXT("aki_no_keyid", B_SMIME, "authorityKeyIdentifier", "issuer:always",
	    "must carry a keyIdentifier"),
	FN("aki_wrong_keyid", B_SMIME, v_aki_from_root,
	    "authorityKeyIdentifier differs from the issuer's subjectKeyIdentifier"),
	EXT("aia_critical", B_SMIME, "authorityInfoAccess",
	    "critical,OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/i.crt",
	    "authorityInfoAccess must not be critical"),
	EXT("crldp_critical", B_SMIME, "crlDistributionPoints", "critical,URI:http://c.example/",
	    "cRLDistributionPoints must not be critical"),
	EXT("nocheck_critical", B_OCSP, "noCheck", "critical,DER:05:00",
	    "id-pkix-ocsp-nocheck must not be critical"),

	/* subjectAltName */
	FN("san_empty", B_SMIME, v_san_empty, "subjectAltName must not be empty"),
	EXT("san_dns_upper_case", B_TLS, "subjectAltName", "DNS:WWW.example.com",
	    "dNSName \"WWW.example.com\" is not a lower-case LDH name"),
	EXT("san_dns_underscore", B_TLS, "subjectAltName", "DNS:www.example.com,DNS:a_b.example",
	    "dNSName \"a_b.example\" is not a lower-case LDH name"),
	EXT("san_dns_empty_label", B_TLS, "subjectAltName", "DNS:www.example.com,DNS:a..example",
	    "is not a lower-case LDH name"),
	EXT("san_dns_hyphen_end", B_TLS, "subjectAltName", "DNS:www.example.com,DNS:a-.example",
	    "is not a lower-case LDH name"),
	EXT("san_email_two_at", B_SMIME, "subjectAltName", "email:jane@doe@example.com",
	    "rfc822Name \"jane@doe@example.com\" must be local@domain with exactly one @"),
	EXT("san_email_no_at", B_SMIME, "subjectAltName", "email:jane.example.com",
	    "with exactly one @"),
	EXT("san_ip_3_bytes", B_TLS, "subjectAltName", "DER:30:0a:82:01:61:87:03:c0:00:02:82:00",
	    "iPAddress of 3 bytes, must be 4 or 16"),
	EXT("san_uri_no_scheme", B_SMIME, "subjectAltName",
	    "email:jane@example.com,URI:example.com",
	    "URI \"example.com\" is not an absolute URI"),

	/* CA certificates */
	EXT("ca_bc_missing", B_ROOT, "basicConstraints", NULL,
	    "basicConstraints missing from a CA certificate"),
	EXT("ca_bc_not_critical", B_ISSUING, "basicConstraints", "CA:TRUE,pathlen:0",
	    "basicConstraints must be critical in a CA certificate"),
	EXT("ca_bc_ca_false", B_ISSUING, "basicConstraints", "critical,CA:FALSE",
	    "a CA certificate needs cA TRUE"),
	EXT("issuing_no_pathlen", B_ISSUING, "basicConstraints", "critical,CA:TRUE",
	    "an issuing CA needs pathLenConstraint 0"),
	FN("issuing_pathlen_1", B_ISSUING, v_pathlen_1, "an issuing CA needs pathLenConstraint 0"),
	EXT("ca_ku_missing", B_ROOT, "keyUsage", NULL, "keyUsage missing"),
	EXT("ca_ku_not_critical", B_ISSUING, "keyUsage", "keyCertSign,cRLSign",
	    "keyUsage must be critical"),
	EXT("ca_ku_no_crl_sign", B_ISSUING, "keyUsage", "critical,keyCertSign",
	    "CA keyUsage must be keyCertSign and cRLSign"),
	EXT("ca_ku_key_encipherment", B_ROOT, "keyUsage",
	    "critical,keyCertSign,cRLSign,keyEncipherment",
	    "CA keyUsage must be keyCertSign and cRLSign"),
	EXT("ca_eku", B_ISSUING, "extendedKeyUsage", "clientAuth",
	    "a CA certificate must not have extKeyUsage"),
	FN("root_validity_7305_days_1s", B_ROOT, v_root_7305_1s,
	    "validity exceeds the root CA maximum of 7305 days"),
	FN("issuing_validity_3653_days_1s", B_ISSUING, v_issuing_3653_1s,
	    "validity exceeds the issuing CA maximum of 3653 days"),
	EXT("issuing_no_aia", B_ISSUING, "authorityInfoAccess", NULL,
	    "an issuing CA needs an AIA caIssuers URL"),
	EXT("issuing_no_crldp", B_ISSUING, "crlDistributionPoints", NULL,
	    "an issuing CA needs a CRL distribution point URL"),
	EXT("issuing_aia_ldap", B_ISSUING, "authorityInfoAccess",
	    "caIssuers;URI:ldap://ca.example/cn=root", "must be http:// or https://"),
	EXT("issuing_crldp_ftp", B_ISSUING, "crlDistributionPoints", "URI:ftp://ca.example/r.crl",
	    "CRL URL \"ftp://ca.example/r.crl\" must be http:// or https://"),
	EXT("root_with_aia", B_ROOT, "authorityInfoAccess", "caIssuers;URI:http://ca.example/r",
	    "a root must not have authorityInfoAccess"),
	EXT("root_with_crldp", B_ROOT, "crlDistributionPoints", "URI:http://ca.example/r.crl",
	    "a root must not have cRLDistributionPoints"),

	/* OCSP responders */
	EXT("ocsp_is_ca", B_OCSP, "basicConstraints", "critical,CA:TRUE",
	    "an OCSP responder must not be a CA"),
	EXT("ocsp_ku_non_repudiation", B_OCSP, "keyUsage",
	    "critical,digitalSignature,nonRepudiation", "keyUsage must be digitalSignature only"),
	EXT("ocsp_ku_not_critical", B_OCSP, "keyUsage", "digitalSignature",
	    "keyUsage must be critical"),
	EXT("ocsp_ku_missing", B_OCSP, "keyUsage", NULL, "keyUsage missing"),
	EXT("ocsp_eku_missing", B_OCSP, "extendedKeyUsage", NULL,
	    "extKeyUsage must be exactly id-kp-OCSPSigning"),
	EXT("ocsp_eku_extra", B_OCSP, "extendedKeyUsage", "OCSPSigning,clientAuth",
	    "extKeyUsage must be exactly id-kp-OCSPSigning"),
	EXT("ocsp_nocheck_missing", B_OCSP, "noCheck", NULL, "id-pkix-ocsp-nocheck missing"),
	EXT("ocsp_nocheck_not_null", B_OCSP, "noCheck", "DER:04:00",
	    "id-pkix-ocsp-nocheck value must be NULL"),
	FN("ocsp_validity_121_days", B_OCSP, v_ocsp_121,
	    "validity exceeds the OCSP responder maximum of 120 days"),

	/* subscribers */
	EXT("subscriber_is_ca", B_SMIME, "basicConstraints", "critical,CA:TRUE",
	    "a subscriber certificate must not be a CA"),
	EXT("subscriber_pathlen_without_ca", B_SMIME, "basicConstraints",
	    "critical,CA:FALSE,pathlen:0", "pathLenConstraint without cA TRUE"),
	EXT("subscriber_ku_missing", B_SMIME, "keyUsage", NULL, "keyUsage missing"),
	EXT("subscriber_ku_not_critical", B_SMIME, "keyUsage",
	    "digitalSignature,nonRepudiation", "keyUsage must be critical"),
	EXT("subscriber_ku_key_encipherment", B_TLS, "keyUsage",
	    "critical,digitalSignature,keyEncipherment",
	    "keyUsage keyEncipherment is never allowed"),
	EXT("subscriber_ku_key_agreement", B_TLS, "keyUsage",
	    "critical,digitalSignature,keyAgreement", "keyUsage keyAgreement is never allowed"),
	EXT("subscriber_ku_cert_sign", B_SMIME, "keyUsage",
	    "critical,digitalSignature,nonRepudiation,keyCertSign",
	    "keyUsage keyCertSign is never allowed"),
	EXT("subscriber_ku_crl_sign", B_SMIME, "keyUsage",
	    "critical,digitalSignature,nonRepudiation,cRLSign",
	    "keyUsage cRLSign is never allowed"),
	EXT("subscriber_ku_data_encipherment", B_SMIME, "keyUsage",
	    "critical,digitalSignature,nonRepudiation,dataEncipherment",
	    "keyUsage dataEncipherment is never allowed"),
	EXT("subscriber_ku_not_class", B_SMIME, "keyUsage", "critical,digitalSignature",
	    "keyUsage differs from the product's signing class"),
	EXT("subscriber_ku_not_class_auth", B_TLS, "keyUsage",
	    "critical,digitalSignature,nonRepudiation",
	    "keyUsage differs from the product's authentication class"),
	EXT("eku_missing", B_SMIME, "extendedKeyUsage", NULL, "extKeyUsage missing"),
	EXT("eku_any", B_SMIME, "extendedKeyUsage", "clientAuth,emailProtection,anyExtendedKeyUsage",
	    "anyExtendedKeyUsage is not allowed"),
	EXT("eku_subset", B_SMIME, "extendedKeyUsage", "emailProtection",
	    "extKeyUsage differs from the product's"),
	EXT("eku_extra", B_SMIME, "extendedKeyUsage", "clientAuth,emailProtection,codeSigning",
	    "extKeyUsage differs from the product's"),
	EXT("eku_twice", B_SMIME, "extendedKeyUsage", "clientAuth,emailProtection,clientAuth",
	    "extKeyUsage lists 1.3.6.1.5.5.7.3.2 twice"),
	EXT("policies_missing", B_SMIME, "certificatePolicies", NULL,
	    "certificatePolicies missing"),
	EXT("policies_other", B_SMIME, "certificatePolicies", "2.25.2222",
	    "certificatePolicies differ from the product's"),
	EXT("policies_extra", B_SMIME, "certificatePolicies", "2.25.1111,2.25.2222",
	    "certificatePolicies differ from the product's"),
	EXT("policies_twice", B_SMIME, "certificatePolicies", "2.25.1111,2.25.1111",
	    "policy 2.25.1111 appears more than once"),
	FN("validity_days_plus_1s", B_SMIME, v_validity_plus_1s,
	    "validity exceeds the product's validity_days of 365 days"),
	FN("max_validity_days_plus_1s", B_SMIME, v_validity_max,
	    "validity exceeds the product's max_validity_days of 825 days"),
	FN("key_type_not_in_product", B_SMIME, v_key_not_in_product,
	    "key type ec-p256 is not allowed by the product"),
	EXT("aia_missing", B_SMIME, "authorityInfoAccess", NULL,
	    "authorityInfoAccess needs an OCSP URL"),
	EXT("aia_no_ocsp", B_SMIME, "authorityInfoAccess", "caIssuers;URI:http://ca.example/i",
	    "authorityInfoAccess needs an OCSP URL"),
	EXT("aia_no_ca_issuers", B_SMIME, "authorityInfoAccess", "OCSP;URI:http://ocsp.example/",
	    "authorityInfoAccess needs a caIssuers URL"),
	EXT("aia_ocsp_ldap", B_SMIME, "authorityInfoAccess",
	    "OCSP;URI:ldap://ocsp.example/,caIssuers;URI:http://ca.example/i",
	    "OCSP URL \"ldap://ocsp.example/\" must be http:// or https://"),
	EXT("aia_not_a_uri", B_SMIME, "authorityInfoAccess",
	    "OCSP;URI:http://ocsp.example/,caIssuers;email:ca@example.com",
	    "caIssuers location must be a URI"),
	EXT("aia_http_no_host", B_SMIME, "authorityInfoAccess",
	    "OCSP;URI:http:///x,caIssuers;URI:http://ca.example/i", "must be http:// or https://"),
	EXT("aia_unknown_method", B_SMIME, "authorityInfoAccess",
	    "OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/i,"
	    "1.2.3.4;URI:http://x.example/", "unexpected AIA access method"),
	/* One DistributionPoint holding only cRLIssuer [2] URI:http://c.example/ */
	EXT("crldp_not_full_name", B_SMIME, "crlDistributionPoints",
	    "DER:30:17:30:15:a2:13:86:11:68:74:74:70:3a:2f:2f:63:2e:65:78:61:6d:70:6c:65:2f",
	    "distribution point must be a fullName"),
	EXT("crldp_missing", B_SMIME, "crlDistributionPoints", NULL,
	    "cRLDistributionPoints needs a URL"),
	EXT("crldp_ldap", B_SMIME, "crlDistributionPoints", "URI:ldap://ca.example/crl",
	    "must be http:// or https://"),
	FN("tls_no_san", B_TLS, v_tls_no_san, "serverAuth certificate needs a subjectAltName"),
	FN("tls_email_san", B_TLS, v_tls_email_san, "serverAuth SANs must be dNSName or iPAddress"),
	FN("tls_cn_not_in_sans", B_TLS, v_tls_cn_other,
	    "CN \"mail.example.com\" is not one of the DNS or IP SANs"),
	FN("tls_cn_case_differs", B_TLS, v_tls_cn_upper, "is not one of the DNS or IP SANs"),
	FN("smime_no_rfc822_san", B_SMIME, v_smime_no_email,
	    "emailProtection certificate needs an rfc822Name SAN"),
	FN("san_required_by_product", B_SMIME, v_smime_no_san,
	    "the product requires a subjectAltName"),
	EXT("san_type_not_in_product", B_SMIME, "subjectAltName",
	    "email:jane@example.com,DNS:jane.example.com",
	    "a SAN of type dns is not allowed by the product"),
	EXT("san_type_other", B_SMIME, "subjectAltName",
	    "email:jane@example.com,RID:1.2.3.4", "a SAN of type other is not allowed"),
	FN("subject_attr_not_allowed", B_SMIME, v_subject_ou,
	    "subject attribute OU is not allowed by the product"),
	FN("subject_attr_unsupported", B_SMIME, v_subject_unsupported,
	    "subject attribute 2.5.4.13 is not allowed by the product"),
	FN("subject_attr_required_missing", B_SMIME, v_subject_no_c,
	    "subject attribute C required by the product is missing"),
};

static void run_variant(void **state)
{
	const struct variant *v = *state;
	struct tsr_lint_findings f;
	struct spec s;
	X509 *c;
	int r;

	spec_base(&s, v->base);
	if (v->ext != NULL)
		ext_set(&s, v->ext, v->value);
	if (v->edit != NULL)
		v->edit(&s);
	c = build(&s);
	r = lint_spec(&s, c, &f);
	if (v->expect == NULL) {
		if (r != 0)
			dump(&f);
		assert_int_equal(r, 0);
		assert_int_equal(f.n, 0);
	} else {
		if (r != TSR_ERR_LINT || !has_finding(&f, v->expect)) {
			print_message("  expected a finding with \"%s\"\n", v->expect);
			dump(&f);
		}
		assert_int_equal(r, TSR_ERR_LINT);
		assert_true(has_finding(&f, v->expect));
		/* The first finding is the error detail. */
		assert_string_equal(tsr_error_detail(), f.msg[0]);
	}
	X509_free(c);
}

/* ------------------------------------------------------------------ other tests */
static void test_clean_each_kind(void **state)
{
	static const enum base bases[] = { B_ROOT, B_ISSUING, B_OCSP, B_SMIME, B_TLS };

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bases); i++)
		X509_free(build_clean(bases[i]));
}

/* A certificate with many faults lists them all, up to the cap. */
static void test_many_findings(void **state)
{
	struct tsr_lint_findings f;
	struct spec s;
	X509 *c;

	(void)state;
	spec_smime(&s);
	s.version = X509_VERSION_1;
	s.serial_negative = true;
	s.key = fx.k1_key;
	s.not_after = s.not_before + 5000L * DAY;
	ext_set(&s, "keyUsage", "digitalSignature,keyEncipherment,keyAgreement,cRLSign");
	ext_set(&s, "extendedKeyUsage", "anyExtendedKeyUsage");
	ext_set(&s, "subjectKeyIdentifier", NULL);
	ext_set(&s, "authorityKeyIdentifier", NULL);
	ext_set(&s, "certificatePolicies", NULL);
	ext_set(&s, "authorityInfoAccess", NULL);
	ext_set(&s, "crlDistributionPoints", NULL);
	c = build(&s);
	assert_int_equal(lint_spec(&s, c, &f), TSR_ERR_LINT);
	assert_true(f.n >= 15);
	assert_true(f.n <= TSR_LINT_MAX_FINDINGS);
	assert_true(has_finding(&f, "version must be v3"));
	assert_true(has_finding(&f, "cRLDistributionPoints needs a URL"));
	assert_string_equal(tsr_error_detail(), f.msg[0]);
	X509_free(c);
}

/* Findings past TSR_LINT_MAX_FINDINGS are dropped, not overflowed. */
static void test_findings_cap(void **state)
{
	struct tsr_lint_findings f;
	struct spec s;
	char oid[40][16];
	X509 *c;

	(void)state;
	spec_smime(&s);
	for (int i = 0; i < 40; i++) {
		snprintf(oid[i], sizeof(oid[i]), "1.2.3.%d", i);
		ext_add(&s, oid[i], "critical,DER:05:00");
	}
	c = build(&s);
	assert_int_equal(lint_spec(&s, c, &f), TSR_ERR_LINT);
	assert_int_equal(f.n, TSR_LINT_MAX_FINDINGS);
	X509_free(c);
}

static void test_bad_arguments(void **state)
{
	struct tsr_lint_findings f;
	struct spec s;
	X509 *c;

	(void)state;
	spec_smime(&s);
	c = build(&s);
	/* A subscriber needs its product. */
	assert_int_equal(tsr_lint_cert(c, TSR_CERT_SUBSCRIBER, fx.issuing, NULL, NOW, &f),
	    TSR_ERR_INVALID);
	/* Everything but a root needs its issuer. */
	assert_int_equal(tsr_lint_cert(c, TSR_CERT_SUBSCRIBER, NULL, &s.product, NOW, &f),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_lint_cert(c, TSR_CERT_OCSP, NULL, NULL, NOW, &f), TSR_ERR_INVALID);
	/* A root has none. */
	assert_int_equal(tsr_lint_cert(fx.root, TSR_CERT_ROOT, fx.root, NULL, NOW, &f),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_lint_cert(c, (enum tsr_cert_kind)7, fx.issuing, NULL, NOW, &f),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_lint_cert(NULL, TSR_CERT_ROOT, NULL, NULL, NOW, &f),
	    TSR_ERR_INVALID);
	assert_int_equal(f.n, 0);
	X509_free(c);
}

/* The same certificate under the wrong kind is not clean. */
static void test_wrong_kind(void **state)
{
	struct tsr_lint_findings f;

	(void)state;
	assert_int_equal(tsr_lint_cert(fx.issuing, TSR_CERT_OCSP, fx.root, NULL, NOW, &f),
	    TSR_ERR_LINT);
	assert_true(has_finding(&f, "an OCSP responder must not be a CA"));
	assert_int_equal(tsr_lint_cert(fx.issuing, TSR_CERT_ROOT, NULL, NULL, NOW, &f),
	    TSR_ERR_LINT);
	assert_true(has_finding(&f, "a root is self-issued"));
}

/* A certificate that cannot be encoded is a finding, not a crash. */
static void test_unencodable(void **state)
{
	struct tsr_lint_findings f;
	X509 *c = X509_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(tsr_lint_cert(c, TSR_CERT_OCSP, fx.issuing, NULL, NOW, &f),
	    TSR_ERR_LINT);
	assert_true(f.n >= 1);
	X509_free(c);
}

/* A serial stored with a leading zero octet encodes as a non-minimal
 * INTEGER, which DER parsers (OpenSSL's included) refuse. */
static void test_does_not_parse_back(void **state)
{
	static const unsigned char padded[] = { 0x00, 0x4f, 0x12, 0x9a, 0x33, 0x01, 0xde, 0x77,
		0x10, 0x2b };
	struct tsr_lint_findings f;
	struct spec s;
	X509 *c;

	(void)state;
	spec_smime(&s);
	c = build(&s);
	assert_true(ASN1_STRING_set(X509_get_serialNumber(c), padded, sizeof(padded)));
	assert_true(i2d_re_X509_tbs(c, NULL) > 0);
	assert_int_equal(lint_spec(&s, c, &f), TSR_ERR_LINT);
	assert_int_equal(f.n, 1);
	assert_non_null(strstr(f.msg[0], "DER does not parse back"));
	X509_free(c);
}

/* A subject with invalid UTF-8 cannot even be encoded. */
static void test_invalid_utf8_subject(void **state)
{
	static const char *bad[] = { "Acme \xc3\x28", "Acme \xc0\xaf", "Acme \xed\xa0\x80" };
	struct tsr_lint_findings f;
	struct spec s;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		X509 *c;

		spec_smime(&s);
		c = build(&s);
		assert_int_equal(X509_NAME_add_entry_by_NID(X509_get_subject_name(c),
		    NID_organizationalUnitName, V_ASN1_UTF8STRING, (const unsigned char *)bad[i],
		    (int)strlen(bad[i]), -1, 0), 1);
		/* Drop the TBS encoding cached by signing. */
		assert_int_equal(X509_set_version(c, X509_VERSION_1), 1);
		assert_int_equal(X509_set_version(c, X509_VERSION_3), 1);
		assert_int_equal(lint_spec(&s, c, &f), TSR_ERR_LINT);
		assert_int_equal(f.n, 1);
		assert_non_null(strstr(f.msg[0], "cannot be DER-encoded"));
		X509_free(c);
	}
}

/* Lint reads only what it is given: the input certificate is unchanged. */
static void test_input_unchanged(void **state)
{
	struct tsr_lint_findings f;
	unsigned char *before = NULL, *after = NULL;
	int n_before, n_after;

	(void)state;
	n_before = i2d_X509(fx.issuing, &before);
	assert_int_equal(tsr_lint_cert(fx.issuing, TSR_CERT_ISSUING, fx.root, NULL, NOW, &f), 0);
	n_after = i2d_X509(fx.issuing, &after);
	assert_int_equal(n_before, n_after);
	assert_memory_equal(before, after, (size_t)n_before);
	OPENSSL_free(before);
	OPENSSL_free(after);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_clean_each_kind),
		cmocka_unit_test(test_many_findings),
		cmocka_unit_test(test_findings_cap),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_unencodable),
		cmocka_unit_test(test_does_not_parse_back),
		cmocka_unit_test(test_invalid_utf8_subject),
		cmocka_unit_test(test_input_unchanged),
	};
	size_t n = TSR_ARRAY_LEN(fixed) + TSR_ARRAY_LEN(variants);
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int r;

	if (tests == NULL)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < TSR_ARRAY_LEN(variants); i++) {
		struct CMUnitTest *t = &tests[TSR_ARRAY_LEN(fixed) + i];

		t->name = variants[i].name;
		t->test_func = run_variant;
		t->initial_state = (void *)&variants[i];
	}
	r = _cmocka_run_group_tests("lint", tests, n, group_setup, group_teardown);
	free(tests);
	return r;
}
