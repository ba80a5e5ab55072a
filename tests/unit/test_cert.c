/*
 * test_cert.c - the signer shim and the certificate builder.
 *
 * The signer is driven by a software key here (the token is exercised in
 * test_pkcs11 and test_ca): what matters is that OpenSSL's signatures made
 * through the shim verify, for every key type, and that tsr_cert_sign()
 * refuses a wrong signature or a TBS that changed after lint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"
#include "soft_key.h"

#define DAY 86400

static X509_NAME *name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"US", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

static char *eku[] = { "1.3.6.1.5.5.7.3.36" };
static char *policies[] = { "2.25.1234.1.1" };
static char *subj_req[] = { "CN", "C" };
static char *subj_allowed[] = { "CN", "C", "O" };

static struct tsr_product product = {
	.name = "docsign", .title = "test", .description = "",
	.class_ = TSR_CLASS_SIGNING,
	.eku = eku, .n_eku = 1, .policies = policies, .n_policies = 1,
	.validity_days = 730, .max_validity_days = 1095,
	.key_types = 0x3e,
	.subject_required = subj_req, .n_subject_required = 2,
	.subject_allowed = subj_allowed, .n_subject_allowed = 3,
	.san_allowed = 1u << TSR_SAN_EMAIL, .san_required = false,
	.storage = TSR_STORAGE_EITHER, .ra_approvals = 1, .payment = "free",
};

struct ca {
	EVP_PKEY *key;
	struct tsr_signer *signer;
	X509 *cert;
};

/* Build, lint and sign one certificate; returns the lint/sign result. */
static int make(enum tsr_cert_kind kind, X509_NAME *subject, EVP_PKEY *pub, struct ca *issuer,
    struct tsr_signer *signer, time_t nb, int days, const struct tsr_san *sans, size_t n_sans,
    X509 **out)
{
	struct tsr_cert_template t;
	struct tsr_lint_findings f;
	uint8_t *tbs = NULL;
	size_t tbs_len;
	int r;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.product = kind == TSR_CERT_SUBSCRIBER ? &product : NULL;
	t.subject = subject;
	t.sans = sans;
	t.n_sans = n_sans;
	t.pubkey = pub;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = nb;
	t.not_after = nb + (time_t)days * DAY - 1;   /* both ends count */
	t.issuer = issuer ? issuer->cert : NULL;
	if (kind != TSR_CERT_ROOT) {
		t.ca_issuers_url = "http://localhost:8080/ca/x.crt";
		t.crl_url = "http://localhost:8080/crl/x.crl";
	}
	if (kind == TSR_CERT_SUBSCRIBER)
		t.ocsp_url = "http://localhost:8080/ocsp";
	assert_int_equal(tsr_cert_build(&t, signer, out), 0);
	r = tsr_lint_cert(*out, kind, t.issuer, t.product, nb + 60, &f);
	if (r != 0)
		return r;
	assert_int_equal(tsr_cert_tbs_der(*out, &tbs, &tbs_len), 0);
	r = tsr_cert_sign(*out, signer, t.issuer, tbs, tbs_len);
	OPENSSL_free(tbs);
	return r;
}

static void make_ca(enum tsr_key_type type, struct ca *root, struct ca *issuing, time_t now)
{
	X509_NAME *n;

	root->key = make_key(type);
	issuing->key = make_key(type);
	assert_non_null(root->key);
	assert_int_equal(tsr_signer_new(root->key, soft_sign, root->key, &root->signer), 0);
	assert_int_equal(tsr_signer_new(issuing->key, soft_sign, issuing->key, &issuing->signer), 0);
	n = name("Test Root");
	assert_int_equal(make(TSR_CERT_ROOT, n, root->key, NULL, root->signer, now, 7000, NULL, 0,
	    &root->cert), 0);
	X509_NAME_free(n);
	n = name("Test Issuing");
	assert_int_equal(make(TSR_CERT_ISSUING, n, issuing->key, root, root->signer, now, 3000,
	    NULL, 0, &issuing->cert), 0);
	X509_NAME_free(n);
}

static void free_ca(struct ca *c)
{
	tsr_signer_free(c->signer);
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

static void verify_chain(X509 *leaf, X509 *issuing, X509 *root, time_t at)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	sk_X509_push(untrusted, issuing);
	X509_STORE_add_cert(store, root);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	X509_STORE_CTX_set_time(ctx, 0, at);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
}

static void test_every_key_type(void **state)
{
	const enum tsr_key_type types[] = { TSR_KEY_EC_P256, TSR_KEY_EC_P384, TSR_KEY_RSA_2048,
		TSR_KEY_RSA_3072, TSR_KEY_RSA_4096 };
	time_t now = 1790000000;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(types); i++) {
		struct ca root = { 0 }, issuing = { 0 };
		EVP_PKEY *sub = make_key(TSR_KEY_EC_P256);
		X509_NAME *n = name("Jane Doe");
		X509 *leaf = NULL;
		const EVP_MD *md;

		make_ca(types[i], &root, &issuing, now);
		assert_int_equal(tsr_signer_key_type(root.signer), types[i]);
		md = tsr_signer_md(root.signer);
		assert_int_equal(EVP_MD_get_size(md),
		    types[i] == TSR_KEY_EC_P384 || types[i] == TSR_KEY_RSA_4096 ? 48 : 32);
		assert_int_equal(make(TSR_CERT_SUBSCRIBER, n, sub, &issuing, issuing.signer, now,
		    730, NULL, 0, &leaf), 0);
		verify_chain(leaf, issuing.cert, root.cert, now + DAY);
		X509_free(leaf);
		X509_NAME_free(n);
		EVP_PKEY_free(sub);
		free_ca(&root);
		free_ca(&issuing);
	}
}

static void test_subscriber_contents(void **state)
{
	struct ca root = { 0 }, issuing = { 0 };
	struct tsr_san sans[2];
	EVP_PKEY *sub = make_key(TSR_KEY_EC_P256);
	X509_NAME *n = name("Jane Doe");
	X509 *leaf = NULL;
	time_t now = 1790000000;
	uint32_t ku, xku;

	(void)state;
	make_ca(TSR_KEY_EC_P256, &root, &issuing, now);
	assert_int_equal(tsr_san_parse("email:jane@example.org", &sans[0]), 0);
	assert_int_equal(tsr_san_parse("email:j.doe@example.org", &sans[1]), 0);
	assert_int_equal(make(TSR_CERT_SUBSCRIBER, n, sub, &issuing, issuing.signer, now, 730,
	    sans, 2, &leaf), 0);
	X509_check_purpose(leaf, -1, 0);
	ku = X509_get_key_usage(leaf);
	xku = X509_get_extended_key_usage(leaf);
	assert_int_equal(ku, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_int_equal(xku & XKU_ANYEKU, 0);
	assert_int_equal(X509_get_extension_flags(leaf) & EXFLAG_CA, 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), sub), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf),
	    X509_get_subject_name(issuing.cert)), 0);
	assert_int_equal(ASN1_STRING_length(X509_get0_authority_key_id(leaf)),
	    ASN1_STRING_length(X509_get0_subject_key_id(issuing.cert)));
	tsr_san_clear(&sans[0]);
	tsr_san_clear(&sans[1]);
	X509_free(leaf);
	X509_NAME_free(n);
	EVP_PKEY_free(sub);
	free_ca(&root);
	free_ca(&issuing);
}

/* A signer whose public key is A but whose token holds B: never handed out. */
static void test_wrong_key_is_caught(void **state)
{
	EVP_PKEY *a = make_key(TSR_KEY_EC_P256), *b = make_key(TSR_KEY_EC_P256);
	struct tsr_signer *liar = NULL;
	X509_NAME *n = name("Root");
	X509 *cert = NULL;

	(void)state;
	assert_int_equal(tsr_signer_new(a, soft_sign, b, &liar), 0);
	assert_int_equal(make(TSR_CERT_ROOT, n, a, NULL, liar, 1790000000, 365, NULL, 0, &cert),
	    TSR_ERR_PKCS11);
	X509_free(cert);
	X509_NAME_free(n);
	tsr_signer_free(liar);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void test_tbs_must_match_lint(void **state)
{
	EVP_PKEY *k = make_key(TSR_KEY_EC_P256);
	struct tsr_signer *s = NULL;
	struct tsr_cert_template t;
	X509_NAME *n = name("Root");
	X509 *cert = NULL;
	uint8_t *tbs = NULL;
	size_t len;

	(void)state;
	assert_int_equal(tsr_signer_new(k, soft_sign, k, &s), 0);
	memset(&t, 0, sizeof(t));
	t.kind = TSR_CERT_ROOT;
	t.subject = n;
	t.pubkey = k;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = 1790000000;
	t.not_after = t.not_before + 365 * DAY;
	assert_int_equal(tsr_cert_build(&t, s, &cert), 0);
	assert_int_equal(tsr_cert_tbs_der(cert, &tbs, &len), 0);
	tbs[len - 1] ^= 1;   /* what was linted is not what is about to be signed */
	assert_int_equal(tsr_cert_sign(cert, s, NULL, tbs, len), TSR_ERR_INTERNAL);
	OPENSSL_free(tbs);
	X509_free(cert);
	X509_NAME_free(n);
	tsr_signer_free(s);
	EVP_PKEY_free(k);
}

/* tsr_cert_make signs nothing lint refuses: one second over the product. */
static void test_make_refuses_on_lint(void **state)
{
	struct ca root = { 0 }, issuing = { 0 };
	struct tsr_cert_template t;
	struct tsr_lint_findings f;
	EVP_PKEY *sub = make_key(TSR_KEY_EC_P256);
	X509_NAME *n = name("Jane Doe");
	X509 *cert = (X509 *)1;
	time_t now = 1790000000;

	(void)state;
	make_ca(TSR_KEY_EC_P256, &root, &issuing, now);
	memset(&t, 0, sizeof(t));
	t.kind = TSR_CERT_SUBSCRIBER;
	t.product = &product;
	t.subject = n;
	t.pubkey = sub;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = now;
	t.not_after = now + 730 * DAY;   /* 730 days and one second */
	t.issuer = issuing.cert;
	t.ocsp_url = "http://localhost:8080/ocsp";
	t.ca_issuers_url = "http://localhost:8080/ca/x.crt";
	t.crl_url = "http://localhost:8080/crl/x.crl";
	assert_int_equal(tsr_cert_make(&t, issuing.signer, now, &f, &cert), TSR_ERR_LINT);
	assert_null(cert);
	assert_true(f.n >= 1);
	assert_non_null(strstr(tsr_error_detail(), "validity"));
	t.not_after -= 1;
	assert_int_equal(tsr_cert_make(&t, issuing.signer, now, NULL, &cert), 0);
	verify_chain(cert, issuing.cert, root.cert, now + DAY);
	X509_free(cert);
	X509_NAME_free(n);
	EVP_PKEY_free(sub);
	free_ca(&root);
	free_ca(&issuing);
}

static void test_serial_and_time_encoding(void **state)
{
	uint8_t serial[20];
	size_t len;
	EVP_PKEY *k = make_key(TSR_KEY_EC_P256);
	struct tsr_signer *s = NULL;
	X509_NAME *n = name("Root");
	X509 *cert = NULL;

	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(tsr_serial_random(serial, &len), 0);
		assert_int_equal(len, 16);
		assert_true(serial[0] > 0 && serial[0] < 0x80);
	}
	/* 2049 is UTCTime, 2050 and later GeneralizedTime (RFC 5280 4.1.2.5). */
	assert_int_equal(tsr_signer_new(k, soft_sign, k, &s), 0);
	assert_int_equal(make(TSR_CERT_ROOT, n, k, NULL, s, 2524608000 - 400 * DAY, 7000, NULL, 0,
	    &cert), 0);
	assert_int_equal(ASN1_STRING_type(X509_get0_notBefore(cert)), V_ASN1_UTCTIME);
	assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(cert)), V_ASN1_GENERALIZEDTIME);
	X509_free(cert);
	X509_NAME_free(n);
	tsr_signer_free(s);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_type),
		cmocka_unit_test(test_subscriber_contents),
		cmocka_unit_test(test_wrong_key_is_caught),
		cmocka_unit_test(test_tbs_must_match_lint),
		cmocka_unit_test(test_make_refuses_on_lint),
		cmocka_unit_test(test_serial_and_time_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
