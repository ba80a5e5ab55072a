/*
 * test_cms.c - document signatures: tsr_cms_sign() through the signer shim
 * (driven by software keys, as in test_cert) and tsr_cms_verify(), with
 * every check made to fail on its own.  Signatures the verifier must refuse
 * are built with OpenSSL directly, or by editing the DER of good ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"
#include "soft_key.h"

#define DAY 86400
#define T0 ((time_t)1790000000)    /* 2026-09-21: every certificate starts here */

static const char doc[] = "Prescription: amoxicillin 500 mg, 21 capsules.\n";

static char *eku_doc[] = { "1.3.6.1.5.5.7.3.36" };
static char *eku_client[] = { "1.3.6.1.5.5.7.3.2" };
static char *policies[] = { "2.25.1234.1.1" };
static char *subj_req[] = { "CN", "C" };
static char *subj_allowed[] = { "CN", "C", "O" };

static struct tsr_product docsign = {
	.name = "document-signing", .title = "test", .description = "",
	.class_ = TSR_CLASS_SIGNING,
	.eku = eku_doc, .n_eku = 1, .policies = policies, .n_policies = 1,
	.validity_days = 1095, .max_validity_days = 1095, .key_types = 0x3e,
	.subject_required = subj_req, .n_subject_required = 2,
	.subject_allowed = subj_allowed, .n_subject_allowed = 3,
	.san_allowed = 1u << TSR_SAN_EMAIL, .storage = TSR_STORAGE_EITHER, .ra_approvals = 1,
	.payment = "free",
};

static struct tsr_product identity = {
	.name = "identity", .title = "test", .description = "",
	.class_ = TSR_CLASS_AUTHENTICATION,
	.eku = eku_client, .n_eku = 1, .policies = policies, .n_policies = 1,
	.validity_days = 730, .max_validity_days = 1095, .key_types = 0x3e,
	.subject_required = subj_req, .n_subject_required = 2,
	.subject_allowed = subj_allowed, .n_subject_allowed = 3,
	.san_allowed = 1u << TSR_SAN_EMAIL, .storage = TSR_STORAGE_EITHER, .ra_approvals = 1,
	.payment = "free",
};

/* A key with its certificate, and the signer that uses the key. */
struct party {
	EVP_PKEY *key;
	X509 *cert;
	struct tsr_signer *signer;
};

/* A root and an issuing CA. */
struct pki {
	struct party root, issuing;
	STACK_OF(X509) *roots;
	STACK_OF(X509) *chain;   /* the issuing CA */
};

static X509 *make_cert(enum tsr_cert_kind kind, const char *cn, EVP_PKEY *pub,
    const struct party *issuer, struct tsr_signer *signer, const struct tsr_product *p,
    time_t nb, int days)
{
	struct tsr_cert_template t;
	X509_NAME *n = X509_NAME_new();
	X509 *cert = NULL;

	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"US", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.product = p;
	t.subject = n;
	t.pubkey = pub;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = nb;
	t.not_after = nb + (time_t)days * DAY - 1;
	t.issuer = issuer ? issuer->cert : NULL;
	if (kind != TSR_CERT_ROOT) {
		t.ca_issuers_url = "http://localhost:8080/ca/x.crt";
		t.crl_url = "http://localhost:8080/crl/x.crl";
	}
	if (kind == TSR_CERT_SUBSCRIBER)
		t.ocsp_url = "http://localhost:8080/ocsp";
	assert_int_equal(tsr_cert_make(&t, signer, nb + 60, NULL, &cert), 0);
	X509_NAME_free(n);
	return cert;
}

static void party_new(struct party *p, enum tsr_key_type type)
{
	memset(p, 0, sizeof(*p));
	p->key = make_key(type);
	assert_non_null(p->key);
	assert_int_equal(tsr_signer_new(p->key, soft_sign, p->key, &p->signer), 0);
}

static void party_free(struct party *p)
{
	tsr_signer_free(p->signer);
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	memset(p, 0, sizeof(*p));
}

static void pki_new(struct pki *k, const char *name)
{
	char cn[64];

	memset(k, 0, sizeof(*k));
	party_new(&k->root, TSR_KEY_EC_P256);
	party_new(&k->issuing, TSR_KEY_EC_P256);
	snprintf(cn, sizeof(cn), "%s Root", name);
	k->root.cert = make_cert(TSR_CERT_ROOT, cn, k->root.key, NULL, k->root.signer, NULL,
	    T0 - 10 * DAY, 7000);
	snprintf(cn, sizeof(cn), "%s Issuing", name);
	k->issuing.cert = make_cert(TSR_CERT_ISSUING, cn, k->issuing.key, &k->root,
	    k->root.signer, NULL, T0 - 5 * DAY, 3000);
	k->roots = sk_X509_new_null();
	k->chain = sk_X509_new_null();
	sk_X509_push(k->roots, k->root.cert);
	sk_X509_push(k->chain, k->issuing.cert);
}

static void pki_free(struct pki *k)
{
	sk_X509_free(k->roots);
	sk_X509_free(k->chain);
	party_free(&k->root);
	party_free(&k->issuing);
}

/* A subscriber of k's issuing CA, valid for days from nb. */
static void subscriber(struct pki *k, struct party *p, enum tsr_key_type type,
    const struct tsr_product *prod, time_t nb, int days)
{
	party_new(p, type);
	p->cert = make_cert(TSR_CERT_SUBSCRIBER, "Jane Doe", p->key, &k->issuing,
	    k->issuing.signer, prod, nb, days);
}

static void sign_ok(struct party *p, STACK_OF(X509) *chain, bool detached, time_t now,
    uint8_t **der, size_t *len)
{
	int r = tsr_cms_sign(p->signer, p->cert, chain, (const uint8_t *)doc, strlen(doc),
	    detached, now, der, len);

	if (r != 0)
		fail_msg("tsr_cms_sign: %d %s", r, tsr_error_detail());
	assert_int_equal(ERR_peek_error(), 0);
}

static int verify(const uint8_t *der, size_t len, const char *content, struct pki *k,
    STACK_OF(X509) *untrusted, time_t now, struct tsr_cms_report *rep)
{
	int r = tsr_cms_verify(der, len, (const uint8_t *)content, content ? strlen(content) : 0,
	    k->roots, untrusted, now, rep);

	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

static void assert_all_good(const struct tsr_cms_report *rep)
{
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++) {
		enum tsr_cms_result want = c == TSR_CMS_CHECK_STATUS ? TSR_CMS_NOT_CHECKED :
		    TSR_CMS_GOOD;

		if (rep->result[c] != want)
			fail_msg("%s: %s (%s)", tsr_cms_check_name(c),
			    tsr_cms_result_name(rep->result[c]), rep->reason[c]);
	}
}

/* Only check c is bad: the others that could run are good. */
static void assert_only_bad(const struct tsr_cms_report *rep, enum tsr_cms_check c,
    const char *reason)
{
	if (rep->result[c] != TSR_CMS_BAD)
		fail_msg("%s should be bad, is %s (%s)", tsr_cms_check_name(c),
		    tsr_cms_result_name(rep->result[c]), rep->reason[c]);
	if (reason != NULL && strstr(rep->reason[c], reason) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", tsr_cms_check_name(c), rep->reason[c],
		    reason);
	for (int i = 0; i < TSR_CMS_CHECK_COUNT; i++)
		if (i != (int)c && rep->result[i] == TSR_CMS_BAD)
			fail_msg("%s is bad too: %s", tsr_cms_check_name(i), rep->reason[i]);
	/* The error detail names the check and says why. */
	assert_non_null(strstr(tsr_error_detail(), tsr_cms_check_name(c)));
}

/* ------------------------------------------------------------------ round trips */

static void round_trip(enum tsr_key_type type, const char *digest)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	uint8_t *der = NULL;
	size_t len;
	time_t when = T0 + 100 * DAY;

	pki_new(&k, "Test");
	subscriber(&k, &jane, type, &docsign, T0, 365);
	for (int detached = 0; detached <= 1; detached++) {
		sign_ok(&jane, k.chain, detached, when, &der, &len);
		assert_int_equal(verify(der, len, detached ? doc : NULL, &k, NULL, when + 60, &rep),
		    0);
		assert_all_good(&rep);
		assert_string_equal(rep.digest, digest);
		assert_int_equal(rep.signing_time, when);
		assert_true(rep.has_signing_time);
		assert_int_equal(rep.detached, detached);
		assert_int_equal(rep.content_len, strlen(doc));
		assert_int_equal(rep.chain_len, 3);
		assert_true(rep.valid_now);
		assert_true(rep.non_repudiation);
		assert_string_equal(rep.subject, "CN=Jane Doe,C=US");
		assert_string_equal(rep.issuer, "CN=Test Issuing,C=US");
		assert_int_equal(X509_cmp(rep.signer, jane.cert), 0);
		assert_int_equal(strlen(rep.serial), 32);
		tsr_cms_report_clear(&rep);
		OPENSSL_free(der);
	}
	party_free(&jane);
	pki_free(&k);
}

static void test_round_trip_p256(void **state)
{
	(void)state;
	round_trip(TSR_KEY_EC_P256, "SHA-256");
}

static void test_round_trip_p384(void **state)
{
	(void)state;
	round_trip(TSR_KEY_EC_P384, "SHA-384");
}

static void test_round_trip_rsa2048(void **state)
{
	(void)state;
	round_trip(TSR_KEY_RSA_2048, "SHA-256");
}

static void test_round_trip_rsa4096(void **state)
{
	(void)state;
	round_trip(TSR_KEY_RSA_4096, "SHA-384");
}

/* What the signature carries, seen through OpenSSL's own parser. */
static void test_attributes_as_openssl_sees_them(void **state)
{
	struct pki k;
	struct party jane;
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs;
	X509_ATTRIBUTE *a;
	ESS_SIGNING_CERT_V2 *ess;
	STACK_OF(X509) *one = sk_X509_new_null();

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P384, &docsign, T0, 365);
	sign_ok(&jane, k.chain, false, T0 + DAY, &der, &len);
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	assert_non_null(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	/* exactly the four attributes, no smimeCapabilities */
	assert_int_equal(CMS_signed_get_attr_count(si), 4);
	assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
	assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
	assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0);
	a = CMS_signed_get_attr(si, CMS_signed_get_attr_by_NID(si,
	    NID_id_smime_aa_signingCertificateV2, -1));
	assert_non_null(a);
	/* The ESS hash is SHA-256 even though P-384 signs with SHA-384: the
	 * algorithm is the DEFAULT one and so absent from the DER. */
	p = ASN1_STRING_get0_data(X509_ATTRIBUTE_get0_type(a, 0)->value.sequence);
	ess = d2i_ESS_SIGNING_CERT_V2(NULL, &p,
	    ASN1_STRING_length(X509_ATTRIBUTE_get0_type(a, 0)->value.sequence));
	assert_non_null(ess);
	sk_X509_push(one, jane.cert);
	assert_int_equal(OSSL_ESS_check_signing_certs(NULL, ess, one, 1), 1);
	/* no sha256 OID anywhere (the CAs sign with ecdsa-with-SHA256, another OID) */
	assert_null(memmem(der, len, "\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01", 11));
	/* signer and issuing CA carried */
	certs = CMS_get1_certs(cms);
	assert_int_equal(sk_X509_num(certs), 2);
	assert_int_equal(CMS_SignerInfo_cert_cmp(si, jane.cert), 0);
	sk_X509_pop_free(certs, X509_free);
	ESS_SIGNING_CERT_V2_free(ess);
	sk_X509_free(one);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* The issuing CA can come from the caller instead of the signature. */
static void test_chain_from_caller(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	uint8_t *der = NULL;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	sign_ok(&jane, NULL, false, T0 + DAY, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_CHAIN, "issuer");
	assert_int_equal(rep.result[TSR_CMS_CHECK_VALIDITY], TSR_CMS_NOT_RUN);
	tsr_cms_report_clear(&rep);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), 0);
	assert_all_good(&rep);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* ------------------------------------------------------------------ signing refusals */

static void test_sign_refusals(void **state)
{
	struct pki k;
	struct party jane, other;
	uint8_t *der = (uint8_t *)1;
	size_t len = 1;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	party_new(&other, TSR_KEY_EC_P256);
	/* another key than the certificate's */
	assert_int_equal(tsr_cms_sign(other.signer, jane.cert, NULL, (const uint8_t *)doc,
	    strlen(doc), false, T0 + DAY, &der, &len), TSR_ERR_KEY);
	assert_null(der);
	assert_int_equal(len, 0);
	/* before and after the certificate's validity */
	assert_int_equal(tsr_cms_sign(jane.signer, jane.cert, NULL, (const uint8_t *)doc,
	    strlen(doc), false, T0 - 1, &der, &len), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "not valid before"));
	assert_int_equal(tsr_cms_sign(jane.signer, jane.cert, NULL, (const uint8_t *)doc,
	    strlen(doc), false, T0 + 365 * DAY, &der, &len), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "expired"));
	/* a token that signs with the wrong key: caught before it is returned */
	tsr_signer_free(other.signer);
	assert_int_equal(tsr_signer_new(jane.key, soft_sign, other.key, &other.signer), 0);
	assert_int_equal(tsr_cms_sign(other.signer, jane.cert, NULL, (const uint8_t *)doc,
	    strlen(doc), false, T0 + DAY, &der, &len), TSR_ERR_SIGNATURE);
	assert_non_null(strstr(tsr_error_detail(), "just made"));
	assert_null(der);
	assert_int_equal(ERR_peek_error(), 0);
	party_free(&other);
	party_free(&jane);
	pki_free(&k);
}

/* ------------------------------------------------------------------ tampering */

static void test_tampered_content(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	uint8_t *der = NULL, *at;
	size_t len;
	char changed[sizeof(doc)];

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	/* attached: one byte of the carried content changed */
	sign_ok(&jane, k.chain, false, T0 + DAY, &der, &len);
	at = memmem(der, len, "500 mg", 6);
	assert_non_null(at);
	at[0] = '9';
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_DIGEST, "not what was signed");
	assert_int_equal(rep.result[TSR_CMS_CHECK_SIGNATURE], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	/* detached: another file */
	sign_ok(&jane, k.chain, true, T0 + DAY, &der, &len);
	memcpy(changed, doc, sizeof(doc));
	changed[0] = 'p';
	assert_int_equal(verify(der, len, changed, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_DIGEST, "differs");
	tsr_cms_report_clear(&rep);
	/* detached without the content, attached with a second copy */
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_INVALID);
	assert_only_bad(&rep, TSR_CMS_CHECK_DIGEST, "must be given");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	sign_ok(&jane, k.chain, false, T0 + DAY, &der, &len);
	assert_int_equal(verify(der, len, doc, &k, NULL, T0 + DAY, &rep), TSR_ERR_INVALID);
	assert_only_bad(&rep, TSR_CMS_CHECK_DIGEST, "second copy");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* The signing time moved by a second: still DER, no longer what was signed. */
static void test_tampered_signed_attribute(void **state)
{
	static const uint8_t oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
		0x09, 0x05 };
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	uint8_t *der = NULL, *at;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	sign_ok(&jane, k.chain, false, T0 + DAY, &der, &len);
	at = memmem(der, len, oid, sizeof(oid));
	assert_non_null(at);
	/* OID, SET { UTCTime "YYMMDDHHMMSSZ" }: the last second digit */
	at += sizeof(oid);
	assert_int_equal(at[0], 0x31);
	assert_int_equal(at[2], 0x17);
	assert_int_equal(at[3], 13);
	at[4 + 11] = at[4 + 11] == '0' ? '1' : '0';
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_SIGNATURE, "does not verify");
	assert_int_equal(rep.result[TSR_CMS_CHECK_DIGEST], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* ------------------------------------------------------------------ hand-made signatures */

struct recipe {
	X509 *ess_cert;         /* whose hash signing-certificate-v2 holds; NULL: none */
	bool no_signing_time;
	time_t signing_time;
	struct party *second;   /* a second signer */
	const EVP_MD *md;       /* NULL: SHA-256 */
};

static void add_ess(CMS_SignerInfo *si, X509 *cert)
{
	ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), cert, NULL, 1);
	ASN1_STRING *seq = ASN1_STRING_new();
	unsigned char *der = NULL;
	int n = i2d_ESS_SIGNING_CERT_V2(sc, &der);

	assert_true(n > 0);
	assert_int_equal(ASN1_STRING_set(seq, der, n), 1);
	assert_int_equal(CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
	    V_ASN1_SEQUENCE, seq, -1), 1);
	OPENSSL_free(der);
	ASN1_STRING_free(seq);
	ESS_SIGNING_CERT_V2_free(sc);
}

static void add_signer(CMS_ContentInfo *cms, struct party *p, const struct recipe *r)
{
	const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_SignerInfo *si = CMS_add1_signer(cms, p->cert, p->key, r->md ? r->md : EVP_sha256(),
	    flags);
	ASN1_TIME *t = ASN1_TIME_adj(NULL, r->signing_time, 0, 0);

	assert_non_null(si);
	if (!r->no_signing_time)
		assert_int_equal(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
		    ASN1_STRING_type(t), t, -1), 1);
	if (r->ess_cert != NULL)
		add_ess(si, r->ess_cert);
	ASN1_TIME_free(t);
}

/* A signature by p made with OpenSSL alone, as the recipe says. */
static void hand_made(struct party *p, const struct recipe *r, uint8_t **der, size_t *len)
{
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_PARTIAL);
	BIO *in = BIO_new_mem_buf(doc, (int)strlen(doc));
	int n;

	assert_non_null(cms);
	add_signer(cms, p, r);
	if (r->second != NULL)
		add_signer(cms, r->second, r);
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	*der = NULL;
	n = i2d_CMS_ContentInfo(cms, der);
	assert_true(n > 0);
	*len = (size_t)n;
	BIO_free(in);
	CMS_ContentInfo_free(cms);
}

static void test_hand_made_good(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	struct recipe r = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	r.ess_cert = jane.cert;
	r.signing_time = T0 + DAY;
	r.md = EVP_sha512();
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), 0);
	assert_all_good(&rep);
	assert_string_equal(rep.digest, "SHA-512");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	/* SHA-1 is not accepted */
	r.md = EVP_sha1();
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_PARSE);
	assert_only_bad(&rep, TSR_CMS_CHECK_STRUCTURE, "digest algorithm");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

static void test_wrong_ess_hash(void **state)
{
	struct pki k;
	struct party jane, john;
	struct tsr_cms_report rep;
	struct recipe r = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	subscriber(&k, &john, TSR_KEY_EC_P256, &docsign, T0, 365);
	r.ess_cert = john.cert;    /* names another certificate */
	r.signing_time = T0 + DAY;
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_SIGNER_CERT, "signing-certificate-v2");
	assert_int_equal(rep.result[TSR_CMS_CHECK_SIGNATURE], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	party_free(&john);
	pki_free(&k);
}

static void test_missing_attributes(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	struct recipe r = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	r.signing_time = T0 + DAY;
	hand_made(&jane, &r, &der, &len);   /* no signing-certificate-v2 */
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_PARSE);
	assert_only_bad(&rep, TSR_CMS_CHECK_STRUCTURE, "signing-certificate");
	assert_int_equal(rep.result[TSR_CMS_CHECK_SIGNATURE], TSR_CMS_NOT_RUN);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

static void test_two_signers_refused(void **state)
{
	struct pki k;
	struct party jane, john;
	struct tsr_cms_report rep;
	struct recipe r = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	subscriber(&k, &john, TSR_KEY_EC_P256, &docsign, T0, 365);
	r.signing_time = T0 + DAY;
	r.ess_cert = jane.cert;
	r.second = &john;
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_PARSE);
	assert_only_bad(&rep, TSR_CMS_CHECK_STRUCTURE, "2 signers");
	assert_null(rep.signer);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	party_free(&john);
	pki_free(&k);
}

/* ------------------------------------------------------------------ trust and time */

static void test_other_ca(void **state)
{
	struct pki k, evil;
	struct party mallory;
	struct tsr_cms_report rep;
	uint8_t *der = NULL;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	pki_new(&evil, "Test");   /* the same names, other keys */
	subscriber(&evil, &mallory, TSR_KEY_EC_P256, &docsign, T0, 365);
	sign_ok(&mallory, evil.chain, false, T0 + DAY, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_CHAIN, "local issuer");
	assert_int_equal(rep.result[TSR_CMS_CHECK_SIGNATURE], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	/* and with the honest issuing CA offered as untrusted: still no chain */
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_CHAIN, NULL);
	tsr_cms_report_clear(&rep);
	/* no roots at all */
	sk_X509_free(k.roots);
	k.roots = NULL;
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_CHAIN, "no trusted root");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&mallory);
	pki_free(&evil);
	pki_free(&k);
}

static time_t fixed_clock(void *ctx)
{
	return *(const time_t *)ctx;
}

/* Signed while valid, checked after expiry: good, and "not valid now". */
static void test_valid_then_expired(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	uint8_t *der = NULL;
	size_t len;
	time_t clock = T0 + 300 * DAY;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	tsr_clock_set(fixed_clock, &clock);
	sign_ok(&jane, k.chain, false, tsr_now(), &der, &len);
	clock = T0 + 400 * DAY;     /* the certificate expired 35 days ago */
	assert_int_equal(verify(der, len, NULL, &k, NULL, tsr_now(), &rep), 0);
	assert_all_good(&rep);
	assert_false(rep.valid_now);
	assert_non_null(strstr(rep.valid_now_reason, "CN=Jane Doe,C=US expired on"));
	assert_int_equal(rep.signing_time, T0 + 300 * DAY);
	tsr_cms_report_clear(&rep);
	tsr_clock_set(NULL, NULL);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* A signing time after expiry (or in the future) is refused. */
static void test_expired_at_signing_time(void **state)
{
	struct pki k;
	struct party jane;
	struct tsr_cms_report rep;
	struct recipe r = { 0 };
	uint8_t *der;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	r.ess_cert = jane.cert;
	r.signing_time = T0 + 366 * DAY;
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + 400 * DAY, &rep),
	    TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_VALIDITY, "had expired at the signing time");
	assert_int_equal(rep.result[TSR_CMS_CHECK_CHAIN], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	/* before the certificate's start */
	r.signing_time = T0 - DAY;
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_VALIDITY, "not yet valid");
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	/* a signing time ahead of the verifier's clock */
	r.signing_time = T0 + 10 * DAY;
	hand_made(&jane, &r, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + 9 * DAY, &rep),
	    TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_VALIDITY, "in the future");
	tsr_cms_report_clear(&rep);
	assert_int_equal(verify(der, len, NULL, &k, k.chain, T0 + 10 * DAY - TSR_CMS_FUTURE_SKEW,
	    &rep), 0);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

/* An authentication certificate (clientAuth) does not sign documents. */
static void test_key_usage(void **state)
{
	struct pki k;
	struct party joe;
	struct tsr_cms_report rep;
	uint8_t *der = NULL;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &joe, TSR_KEY_EC_P256, &identity, T0, 365);
	sign_ok(&joe, k.chain, false, T0 + DAY, &der, &len);
	assert_int_equal(verify(der, len, NULL, &k, NULL, T0 + DAY, &rep), TSR_ERR_SIGNATURE);
	assert_only_bad(&rep, TSR_CMS_CHECK_KEY_USAGE, "clientAuth");
	assert_false(rep.non_repudiation);
	tsr_cms_report_clear(&rep);
	OPENSSL_free(der);
	party_free(&joe);
	pki_free(&k);
}

/* ------------------------------------------------------------------ malformed input */

static void expect_structure(const uint8_t *der, size_t len, struct pki *k, int code,
    const char *reason)
{
	struct tsr_cms_report rep;

	assert_int_equal(verify(der, len, NULL, k, NULL, T0 + DAY, &rep), code);
	assert_only_bad(&rep, TSR_CMS_CHECK_STRUCTURE, reason);
	for (int c = 1; c < TSR_CMS_CHECK_COUNT; c++)
		assert_int_equal(rep.result[c], TSR_CMS_NOT_RUN);
	assert_null(rep.signer);
	tsr_cms_report_clear(&rep);
}

static void test_malformed(void **state)
{
	struct pki k;
	struct party jane;
	uint8_t *der = NULL, *buf;
	size_t len;

	(void)state;
	pki_new(&k, "Test");
	subscriber(&k, &jane, TSR_KEY_EC_P256, &docsign, T0, 365);
	sign_ok(&jane, k.chain, false, T0 + DAY, &der, &len);
	buf = malloc(len + 2);
	assert_non_null(buf);
	/* trailing garbage */
	memcpy(buf, der, len);
	buf[len] = 0;
	buf[len + 1] = 0;
	expect_structure(buf, len + 2, &k, TSR_ERR_PARSE, "2 bytes follow");
	/* truncated, at every length a few hundred bytes apart and the last */
	for (size_t n = 0; n < len; n += 97)
		expect_structure(der, n, &k, TSR_ERR_PARSE, n == 0 ? "empty" : "truncated");
	expect_structure(der, len - 1, &k, TSR_ERR_PARSE, "truncated");
	/* BER: the outer length in a longer form than needed */
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x82);
	buf[0] = 0x30;
	buf[1] = 0x83;
	buf[2] = 0;
	memcpy(buf + 3, der + 2, len - 2);
	expect_structure(buf, len + 1, &k, TSR_ERR_PARSE, "not DER");
	/* not CMS at all, and over the size cap */
	expect_structure((const uint8_t *)doc, strlen(doc), &k, TSR_ERR_PARSE, "not a CMS");
	expect_structure(der, TSR_CMS_MAX + 1, &k, TSR_ERR_TOO_LARGE, "over the limit");
	expect_structure(NULL, 0, &k, TSR_ERR_PARSE, "empty");
	free(buf);
	OPENSSL_free(der);
	party_free(&jane);
	pki_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_p256),
		cmocka_unit_test(test_round_trip_p384),
		cmocka_unit_test(test_round_trip_rsa2048),
		cmocka_unit_test(test_round_trip_rsa4096),
		cmocka_unit_test(test_attributes_as_openssl_sees_them),
		cmocka_unit_test(test_chain_from_caller),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_tampered_content),
		cmocka_unit_test(test_tampered_signed_attribute),
		cmocka_unit_test(test_hand_made_good),
		cmocka_unit_test(test_wrong_ess_hash),
		cmocka_unit_test(test_missing_attributes),
		cmocka_unit_test(test_two_signers_refused),
		cmocka_unit_test(test_other_ca),
		cmocka_unit_test(test_valid_then_expired),
		cmocka_unit_test(test_expired_at_signing_time),
		cmocka_unit_test(test_key_usage),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
