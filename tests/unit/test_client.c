/*
 * test_client.c - the subscriber's client (src/client) against real
 * components: SoftHSM2 tokens in a temporary directory, and an EST server
 * that is not Tessera's (tests/unit/est_fixture.py: python3's ssl and
 * http.server, with the openssl command as its CA) on a loopback port.
 *
 * Groups: the parsers of server answers (no token, no server); the token
 * (open, passcode and marker, keys, CSRs, signatures, certificates); and
 * the flows against the fixture (trust, errors, retrieval, an interrupted
 * retrieval, a different token, Test My Certificate, renewal over mutual
 * TLS with EC and RSA keys).  The token tests run in order on one token.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "client/client.h"
#include "pkcs11/p11_int.h"   /* raw Cryptoki for the marker object */

#define LABEL "Subscriber"
#define URI "pkcs11:token=" LABEL
#define SO_PIN "so-pin-4321"
#define PIN "86420135"            /* the "initial passcode" */
#define NEW_PIN "my own passcode"
#define CODE "ABCD-EFGH-JKLM"
#define PASSWORD "account password"
/* Attribute { id-ecPublicKey, { prime256v1 } } */
#define P256_CSRATTRS "MBcwFQYHKoZIzj0CATEKBggqhkjOPQMBBw=="

/* RFC 7030 section 4.5.2's example: challengePassword, an EC P-384 key,
 * an extension request, ecdsa-with-SHA384. */
#define RFC7030_CSRATTRS "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJBgcr" \
	"BgEBAQEWBggqhkjOPQQDAw=="

static const char *module_path(void)
{
	const char *m = getenv("SOFTHSM_MODULE");

	return m != NULL && m[0] != '\0' ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static void expect(int got, int want, const char *what)
{
	if (got != want)
		fail_msg("%s: got %d (%s), want %d", what, got, tsr_error_detail(), want);
}

static void detail_has(const char *needle)
{
	if (strstr(tsr_error_detail(), needle) == NULL)
		fail_msg("detail '%s' lacks '%s'", tsr_error_detail(), needle);
}

/* ------------------------------------------------------------------ DER and base64 helpers */
/* A DER TLV of tag around n bytes (short or one-byte long form). */
static size_t tlv(uint8_t *out, uint8_t tag, const uint8_t *p, size_t n)
{
	size_t h = 0;

	out[h++] = tag;
	if (n >= 128)
		out[h++] = 0x81;
	out[h++] = (uint8_t)n;
	memmove(out + h, p, n);
	return h + n;
}

static const uint8_t oid_ec[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_rsa[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x01 };
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
	0x07 };
static const uint8_t oid_k256[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
static const uint8_t oid_ecdsa256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	0x02 };

/* Attribute { type, SET { value } }. */
static size_t attribute(uint8_t *out, const uint8_t *type, size_t tlen, const uint8_t *value,
    size_t vlen)
{
	uint8_t inner[128], set[64];
	size_t n = 0, s;

	s = tlv(set, 0x31, value, vlen);
	memcpy(inner, type, tlen);
	n = tlen;
	memcpy(inner + n, set, s);
	n += s;
	return tlv(out, 0x30, inner, n);
}

/* base64 of p (new string, free()). */
static char *b64(const uint8_t *p, size_t n, size_t line)
{
	char *s = NULL;
	size_t len;

	expect(tsr_base64_encode(p, n, line, &s, &len), 0, "base64");
	return s;
}

static int csrattrs_of(const char *text, struct tsr_est_csrattrs *a)
{
	return tsr_est_parse_csrattrs((const uint8_t *)text, strlen(text), a);
}

/* ------------------------------------------------------------------ certificates */
static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

/* A certificate for pub, signed by issuer_key (self-signed if issuer is
 * NULL), valid from now + from for days; ca makes a CA certificate. */
static X509 *make_cert(EVP_PKEY *pub, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
    long from, long days, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	static long serial = 100;

	assert_non_null(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), from + days * 86400));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

static char *certs_only_b64(X509 **certs, int n, size_t line)
{
	PKCS7 *p7 = PKCS7_new();
	uint8_t *der = NULL;
	char *s;
	int len;

	assert_non_null(p7);
	assert_int_equal(PKCS7_set_type(p7, NID_pkcs7_signed), 1);
	assert_int_equal(PKCS7_content_new(p7, NID_pkcs7_data), 1);
	for (int i = 0; i < n; i++)
		assert_int_equal(PKCS7_add_certificate(p7, certs[i]), 1);
	len = i2d_PKCS7(p7, &der);
	assert_true(len > 0);
	s = b64(der, (size_t)len, line);
	OPENSSL_free(der);
	PKCS7_free(p7);
	return s;
}

/* The subject key identifier OpenSSL computes ("hash", RFC 5280 method 1). */
static void openssl_ski(EVP_PKEY *pub, uint8_t out[20])
{
	EVP_PKEY *signer = ec_key();
	X509 *x = make_cert(pub, signer, NULL, "ski", 0, 1, false);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

	assert_non_null(ski);
	assert_int_equal(ASN1_STRING_length(ski), 20);
	memcpy(out, ASN1_STRING_get0_data(ski), 20);
	X509_free(x);
	EVP_PKEY_free(signer);
}

/* ================================================================== parsers */
static void test_parse_certs(void **state)
{
	EVP_PKEY *k = ec_key();
	X509 *certs[TSR_EST_CERTS_MAX + 1];
	STACK_OF(X509) *sk = (STACK_OF(X509) *)1;
	char *text, *crlf, padded[4096];

	(void)state;
	for (int i = 0; i <= TSR_EST_CERTS_MAX; i++)
		certs[i] = make_cert(k, k, NULL, "c", 0, 1, true);
	/* 64-character lines, as RFC 7030 servers send, in order */
	text = certs_only_b64(certs, 2, 64);
	expect(tsr_est_parse_certs((const uint8_t *)text, strlen(text), &sk), 0, "lines");
	assert_int_equal(sk_X509_num(sk), 2);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), certs[0]), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), certs[1]), 0);
	sk_X509_pop_free(sk, X509_free);
	/* CRLF line ends and whitespace around the text */
	crlf = padded;
	crlf += sprintf(crlf, "\r\n  ");
	for (const char *p = text; *p; p++)
		crlf += *p == '\n' ? sprintf(crlf, "\r\n") : sprintf(crlf, "%c", *p);
	sprintf(crlf, "\t \r\n");
	expect(tsr_est_parse_certs((const uint8_t *)padded, strlen(padded), &sk), 0, "crlf");
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	free(text);

	/* too many certificates; none */
	text = certs_only_b64(certs, TSR_EST_CERTS_MAX + 1, 0);
	expect(tsr_est_parse_certs((const uint8_t *)text, strlen(text), &sk), TSR_ERR_TOO_LARGE,
	    "17 certs");
	assert_null(sk);
	free(text);
	text = certs_only_b64(certs, 0, 0);
	expect(tsr_est_parse_certs((const uint8_t *)text, strlen(text), &sk), TSR_ERR_PARSE,
	    "no certs");
	detail_has("no certificate");
	free(text);

	/* not base64; base64 of junk; DER sent raw; empty; trailing bytes */
	expect(tsr_est_parse_certs((const uint8_t *)"MII*", 4, &sk), TSR_ERR_PARSE, "not b64");
	expect(tsr_est_parse_certs((const uint8_t *)"anVuaw==", 8, &sk), TSR_ERR_PARSE, "junk");
	expect(tsr_est_parse_certs((const uint8_t *)"\x30\x03\x02\x01\x00", 5, &sk),
	    TSR_ERR_PARSE, "raw DER");
	expect(tsr_est_parse_certs(NULL, 0, &sk), TSR_ERR_PARSE, "empty");
	{
		PKCS7 *p7 = PKCS7_new();
		uint8_t *der = NULL, *more;
		int len;

		assert_int_equal(PKCS7_set_type(p7, NID_pkcs7_signed), 1);
		assert_int_equal(PKCS7_content_new(p7, NID_pkcs7_data), 1);
		assert_int_equal(PKCS7_add_certificate(p7, certs[0]), 1);
		len = i2d_PKCS7(p7, &der);
		more = malloc((size_t)len + 2);
		memcpy(more, der, (size_t)len);
		more[len] = 0;
		more[len + 1] = 0;
		text = b64(more, (size_t)len + 2, 64);
		expect(tsr_est_parse_certs((const uint8_t *)text, strlen(text), &sk),
		    TSR_ERR_PARSE, "trailing");
		free(text);
		free(more);
		OPENSSL_free(der);
		PKCS7_free(p7);
	}
	for (int i = 0; i <= TSR_EST_CERTS_MAX; i++)
		X509_free(certs[i]);
	EVP_PKEY_free(k);
}

static void test_parse_csrattrs(void **state)
{
	struct tsr_est_csrattrs a;
	uint8_t der[512], attrs[256], one[128], bits[] = { 0x02, 0x02, 0x0c, 0x00 };
	size_t n = 0, k;
	char *text;

	(void)state;
	/* the RFC's own example: P-384, and four entries */
	expect(csrattrs_of(RFC7030_CSRATTRS, &a), 0, "RFC 7030 example");
	assert_int_equal(a.key_types, 1u << TSR_KEY_EC_P384);
	assert_int_equal(a.preferred, TSR_KEY_EC_P384);
	assert_int_equal(a.n_attrs, 4);

	/* RSA-3072 first, then P-256, then a curve we do not make, an OID */
	k = attribute(one, oid_rsa, sizeof(oid_rsa), bits, sizeof(bits));
	memcpy(attrs + n, one, k);
	n += k;
	k = attribute(one, oid_ec, sizeof(oid_ec), oid_p256, sizeof(oid_p256));
	memcpy(attrs + n, one, k);
	n += k;
	k = attribute(one, oid_ec, sizeof(oid_ec), oid_k256, sizeof(oid_k256));
	memcpy(attrs + n, one, k);
	n += k;
	memcpy(attrs + n, oid_ecdsa256, sizeof(oid_ecdsa256));
	n += sizeof(oid_ecdsa256);
	k = tlv(der, 0x30, attrs, n);
	text = b64(der, k, 64);
	expect(csrattrs_of(text, &a), 0, "rsa+ec");
	assert_int_equal(a.key_types, (1u << TSR_KEY_RSA_3072) | (1u << TSR_KEY_EC_P256));
	assert_int_equal(a.preferred, TSR_KEY_RSA_3072);
	assert_int_equal(a.n_attrs, 4);
	free(text);

	/* only a curve we do not make: parsed, no key type */
	k = attribute(one, oid_ec, sizeof(oid_ec), oid_k256, sizeof(oid_k256));
	k = tlv(der, 0x30, one, k);
	text = b64(der, k, 0);
	expect(csrattrs_of(text, &a), 0, "secp256k1");
	assert_int_equal(a.key_types, 0);
	assert_int_equal(a.preferred, TSR_KEY_NONE);
	free(text);

	/* empty: no attributes (like a 204) */
	expect(csrattrs_of("", &a), 0, "empty");
	assert_int_equal(a.n_attrs, 0);

	/* malformed: an INTEGER entry; an attribute of three parts; trailing bytes */
	k = tlv(der, 0x30, bits, sizeof(bits));
	text = b64(der, k, 0);
	expect(csrattrs_of(text, &a), TSR_ERR_PARSE, "integer entry");
	assert_int_equal(a.key_types, 0);
	free(text);
	memcpy(attrs, oid_ec, sizeof(oid_ec));
	k = tlv(attrs + sizeof(oid_ec), 0x31, oid_p256, sizeof(oid_p256));
	memcpy(attrs + sizeof(oid_ec) + k, oid_p256, sizeof(oid_p256));
	k = tlv(one, 0x30, attrs, sizeof(oid_ec) + k + sizeof(oid_p256));
	k = tlv(der, 0x30, one, k);
	text = b64(der, k, 0);
	expect(csrattrs_of(text, &a), TSR_ERR_PARSE, "three-part attribute");
	free(text);
	k = attribute(one, oid_ec, sizeof(oid_ec), oid_p256, sizeof(oid_p256));
	k = tlv(der, 0x30, one, k);
	der[k++] = 0;
	text = b64(der, k, 0);
	expect(csrattrs_of(text, &a), TSR_ERR_PARSE, "trailing byte");
	free(text);
	expect(csrattrs_of("not base64!", &a), TSR_ERR_PARSE, "not base64");
}

static void test_parse_problem(void **state)
{
	const char *doc = "{\"type\":\"https://tessera.invalid/problems/policy\",\"title\":\"x\","
	    "\"status\":422,\"detail\":\"a \\u001b[31mred\\u0007 bell \\u00e9\"}";
	char detail[64];

	(void)state;
	assert_int_equal(tsr_est_parse_problem((const uint8_t *)doc, strlen(doc), TSR_ERR_IO,
	    detail, sizeof(detail)), TSR_ERR_POLICY);
	/* no escape sequence reaches the terminal */
	assert_string_equal(detail, "a ?[31mred? bell ??");
	doc = "{\"type\":\"https://tessera.invalid/problems/unauthenticated\",\"title\":\"who?\"}";
	assert_int_equal(tsr_est_parse_problem((const uint8_t *)doc, strlen(doc), TSR_ERR_IO,
	    detail, sizeof(detail)), TSR_ERR_AUTH);
	assert_string_equal(detail, "who?");
	doc = "{\"type\":\"urn:other:thing\",\"detail\":\"long detail text here\"}";
	assert_int_equal(tsr_est_parse_problem((const uint8_t *)doc, strlen(doc), TSR_ERR_IO,
	    detail, 10), TSR_ERR_IO);
	assert_string_equal(detail, "long deta");
	assert_int_equal(tsr_est_parse_problem((const uint8_t *)"<html>", 6, TSR_ERR_INVALID,
	    detail, sizeof(detail)), TSR_ERR_INVALID);
	assert_string_equal(detail, "");
}

static void test_parse_nonce(void **state)
{
	char *m, *n, doc[256];

	(void)state;
	snprintf(doc, sizeof(doc), "{\"nonce\":\"AbCdEfGhIjKlMnOpQrStUv\",\"expires_at\":\"x\","
	    "\"message\":\"%sAbCdEfGhIjKlMnOpQrStUv\"}", TSR_CLIENT_TEST_PREFIX);
	expect(tsr_client_parse_nonce((const uint8_t *)doc, strlen(doc), &m, &n), 0, "nonce");
	assert_string_equal(n, "AbCdEfGhIjKlMnOpQrStUv");
	assert_string_equal(m, TSR_CLIENT_TEST_PREFIX "AbCdEfGhIjKlMnOpQrStUv");
	free(m);
	free(n);
	/* a message that is not the prefix and the nonce is never signed */
	snprintf(doc, sizeof(doc), "{\"nonce\":\"AbCdEfGhIjKlMnOpQrStUv\",\"message\":\"Pay "
	    "Mallory AbCdEfGhIjKlMnOpQrStUv\"}");
	expect(tsr_client_parse_nonce((const uint8_t *)doc, strlen(doc), &m, &n), TSR_ERR_PARSE,
	    "other message");
	assert_null(m);
	detail_has("refused");
	snprintf(doc, sizeof(doc), "{\"nonce\":\"AbCdEfGhIjKlMnOpQrStUv\",\"message\":\"%s"
	    "AbCdEfGhIjKlMnOpQrStUv and more\"}", TSR_CLIENT_TEST_PREFIX);
	expect(tsr_client_parse_nonce((const uint8_t *)doc, strlen(doc), &m, &n), TSR_ERR_PARSE,
	    "suffix");
	/* short, or not base64url */
	snprintf(doc, sizeof(doc), "{\"nonce\":\"short\",\"message\":\"%sshort\"}",
	    TSR_CLIENT_TEST_PREFIX);
	expect(tsr_client_parse_nonce((const uint8_t *)doc, strlen(doc), &m, &n), TSR_ERR_PARSE,
	    "short");
	snprintf(doc, sizeof(doc), "{\"nonce\":\"AbCdEfGhIjKlMnOp\\nrStUv\",\"message\":\"%s"
	    "AbCdEfGhIjKlMnOp\\nrStUv\"}", TSR_CLIENT_TEST_PREFIX);
	expect(tsr_client_parse_nonce((const uint8_t *)doc, strlen(doc), &m, &n), TSR_ERR_PARSE,
	    "newline");
	expect(tsr_client_parse_nonce((const uint8_t *)"{}", 2, &m, &n), TSR_ERR_PARSE, "empty");
}

static void test_parse_test_result(void **state)
{
	struct tsr_client_test_result r;
	const char *good = "{\"good\":true,\"serial\":\"0A\",\"subject\":\"CN=Jane\",\"checks\":{"
	    "\"signature\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"chain\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"validity\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"status\":{\"result\":\"good\",\"detail\":\"not revoked\"}}}";
	const char *liar = "{\"good\":true,\"checks\":{"
	    "\"signature\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"chain\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"validity\":{\"result\":\"good\",\"detail\":\"ok\"},"
	    "\"status\":{\"result\":\"bad\",\"detail\":\"revoked\"}}}";

	(void)state;
	expect(tsr_client_parse_test_result((const uint8_t *)good, strlen(good), &r), 0, "good");
	assert_true(r.good);
	assert_string_equal(r.serial, "0A");
	assert_string_equal(r.checks[3].detail, "not revoked");
	/* "good" is not believed when a check says otherwise; a missing check is unknown */
	expect(tsr_client_parse_test_result((const uint8_t *)liar, strlen(liar), &r), 0, "liar");
	assert_false(r.good);
	assert_string_equal(r.checks[3].result, "bad");
	good = "{\"good\":true,\"checks\":{}}";
	expect(tsr_client_parse_test_result((const uint8_t *)good, strlen(good), &r), 0,
	    "no checks");
	assert_false(r.good);
	assert_string_equal(r.checks[0].result, "unknown");
	expect(tsr_client_parse_test_result((const uint8_t *)"{\"good\":1}", 10, &r),
	    TSR_ERR_PARSE, "no checks object");
}

static void test_est_init(void **state)
{
	struct tsr_est e;

	(void)state;
	expect(tsr_est_init(&e, "https://ca.example:8443", "root.pem"), 0, "host:port");
	assert_string_equal(e.base, "https://ca.example:8443/.well-known/est/");
	assert_string_equal(e.api, "https://ca.example:8443/api/v1/");
	expect(tsr_est_init(&e, "https://ca.example/", "root.pem"), 0, "trailing slash");
	assert_string_equal(e.base, "https://ca.example/.well-known/est/");
	expect(tsr_est_init(&e, "http://ca.example", "r"), TSR_ERR_INVALID, "http");
	expect(tsr_est_init(&e, "https://ca.example/est", "r"), TSR_ERR_INVALID, "path");
	expect(tsr_est_init(&e, "https://user@ca.example", "r"), TSR_ERR_INVALID, "userinfo");
	expect(tsr_est_init(&e, "https://", "r"), TSR_ERR_INVALID, "no host");
	expect(tsr_est_init(&e, "https://ca example", "r"), TSR_ERR_INVALID, "space");
	expect(tsr_est_init(&e, NULL, "r"), TSR_ERR_INVALID, "none");
}

/* ================================================================== token fixture */
struct fx {
	char dir[64];
	char est[96];            /* the EST fixture's directory */
	char server[64];         /* https://127.0.0.1:PORT */
	char root[128], other_root[128];
	pid_t pid;
	int stdin_fd;
	struct tsr_client_token t;
	bool open;
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void est_file(struct fx *f, const char *name, const char *text)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", f->est, name);
	if (text == NULL)
		unlink(p);
	else
		write_text(p, text);
}

static int write_conf(const char *dir, const char *name)
{
	char path[160], tokens[128];

	snprintf(tokens, sizeof(tokens), "%s/tokens-%s", dir, name);
	if (mkdir(tokens, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	{
		FILE *fp = fopen(path, "w");

		if (fp == NULL)
			return -1;
		fprintf(fp, "directories.tokendir = %s\nobjectstore.backend = file\n"
		    "log.level = ERROR\n", tokens);
		fclose(fp);
	}
	return setenv("SOFTHSM2_CONF", path, 1);
}

static void spawn(struct fx *f)
{
	const char *dir = getenv("TESSERA_UNIT_DIR");
	char script[512], line[32] = "";
	int in[2], out[2];
	size_t n = 0;

	snprintf(script, sizeof(script), "%s/est_fixture.py", dir ? dir : "tests/unit");
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp("python3", "python3", script, f->est, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->stdin_fd = in[1];
	while (n + 1 < sizeof(line) && read(out[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	close(out[0]);
	line[n] = '\0';
	if (atoi(line) <= 0)
		fail_msg("%s did not start (it printed '%s')", script, line);
	snprintf(f->server, sizeof(f->server), "https://127.0.0.1:%d", atoi(line));
	snprintf(f->root, sizeof(f->root), "%s/root.pem", f->est);
	snprintf(f->other_root, sizeof(f->other_root), "%s/other-root.pem", f->est);
}

/* Two SoftHSM2 tokens ("Subscriber", the one used, and "Other") and the
 * EST fixture.  The teardown runs even if this fails half-way. */
static int group_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tsr_p11_module *mod = NULL;

	assert_non_null(f);
	f->stdin_fd = -1;
	*state = f;
	strcpy(f->dir, "/tmp/tsr-client-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(write_conf(f->dir, "softhsm2"), 0);
	expect(tsr_p11_module_load(module_path(), &mod), 0, "load");
	expect(tsr_p11_token_init(mod, LABEL, SO_PIN, PIN), 0, "init");
	expect(tsr_p11_token_init(mod, "Other", SO_PIN, PIN), 0, "init other");
	tsr_p11_module_unload(mod);
	snprintf(f->est, sizeof(f->est), "%s/est", f->dir);
	assert_int_equal(mkdir(f->est, 0700), 0);
	signal(SIGPIPE, SIG_IGN);
	spawn(f);
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	int status;

	if (f == NULL)
		return 0;
	if (f->open)
		tsr_client_token_close(&f->t);
	if (f->stdin_fd >= 0)
		close(f->stdin_fd);
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, &status, 0);
	}
	if (getenv("TSR_TEST_KEEP_TOKENS") != NULL)
		fprintf(stderr, "kept: %s\n", f->dir);
	else if (f->dir[0] != '\0')
		assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	free(f);
	return 0;
}

static void token_open(struct fx *f)
{
	if (f->open)
		tsr_client_token_close(&f->t);
	expect(tsr_client_token_open(module_path(), URI, &f->t), 0, "open");
	f->open = true;
}

static void token_login(struct fx *f, const char *pin)
{
	token_open(f);
	expect(tsr_client_login(&f->t, pin), 0, "login");
}

/* The private keys on the token labelled label. */
static size_t private_keys(struct fx *f, const char *label)
{
	struct tsr_p11_object *o;
	size_t n, k = 0;

	expect(tsr_p11_objects(f->t.s, &o, &n), 0, "objects");
	for (size_t i = 0; i < n; i++)
		k += o[i].cls == TSR_P11_PRIVATE_KEY && strcmp(o[i].label, label) == 0;
	tsr_p11_objects_free(o, n);
	return k;
}

/* ================================================================== token */
static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct tsr_client_token t;
	char *saved;
	Dl_info lib;

	expect(tsr_client_token_open("/nonexistent/pkcs11.so", URI, &t), TSR_ERR_NOT_FOUND,
	    "no module");
	detail_has("opensc-pkcs11");
	detail_has("--module");
	/* a library that is not a PKCS#11 module */
	assert_true(dladdr((void *)EVP_PKEY_new, &lib) != 0);
	expect(tsr_client_token_open(lib.dli_fname, URI, &t), TSR_ERR_PKCS11, "not PKCS#11");
	detail_has("does not load");
	/* the default, the environment, the option */
	unsetenv(TSR_CLIENT_MODULE_ENV);
	assert_string_equal(tsr_client_module_path(NULL), TSR_CLIENT_DEFAULT_MODULE);
	setenv(TSR_CLIENT_MODULE_ENV, "/env/module.so", 1);
	assert_string_equal(tsr_client_module_path(NULL), "/env/module.so");
	assert_string_equal(tsr_client_module_path("/opt/m.so"), "/opt/m.so");
	unsetenv(TSR_CLIENT_MODULE_ENV);

	/* two tokens: one must be chosen; a URI that matches none */
	expect(tsr_client_token_open(module_path(), NULL, &t), TSR_ERR_INVALID, "two tokens");
	detail_has("--token");
	expect(tsr_client_token_open(module_path(), "pkcs11:serial=nope", &t), TSR_ERR_NOT_FOUND,
	    "no match");
	detail_has("correct --token");
	expect(tsr_client_token_open(module_path(), "pkcs11:bogus=1", &t), TSR_ERR_PARSE,
	    "bad URI");
	detail_has("--token");

	/* no token at all (an empty SoftHSM2 directory: only a blank slot) */
	saved = strdup(getenv("SOFTHSM2_CONF"));
	assert_int_equal(write_conf(f->dir, "empty"), 0);
	expect(tsr_client_token_open(module_path(), NULL, &t), TSR_ERR_NOT_FOUND, "no token");
	detail_has("insert the token");
	setenv("SOFTHSM2_CONF", saved, 1);
	free(saved);

	token_open(f);
	assert_string_equal(f->t.info.label, LABEL);
	assert_string_equal(f->t.info.manufacturer, "SoftHSM project");
	assert_true(strlen(f->t.info.serial) > 0);
	assert_false(f->t.marker);
}

/* The CA's marker, as fulfilment staff write it (docs/token.md). */
static void put_marker(struct fx *f)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_APPLICATION, TSR_CLIENT_MARKER_APP, strlen(TSR_CLIENT_MARKER_APP) },
		{ CKA_LABEL, TSR_CLIENT_MARKER_LABEL, strlen(TSR_CLIENT_MARKER_LABEL) },
		{ CKA_VALUE, "1", 1 },
	};
	CK_OBJECT_HANDLE h;

	token_login(f, PIN);
	assert_int_equal(f->t.s->mod->fn->C_CreateObject(f->t.s->h, tmpl, TSR_ARRAY_LEN(tmpl),
	    &h), CKR_OK);
}

static void test_passcode(void **state)
{
	struct fx *f = *state;
	struct tsr_client_issued res;
	struct tsr_est est;
	const char *why;

	assert_false(tsr_client_initial_passcode(&f->t, &why));
	put_marker(f);
	token_open(f);   /* seen before login: a public object */
	assert_true(f->t.marker);
	assert_true(tsr_client_initial_passcode(&f->t, &why));
	assert_non_null(strstr(why, "marker"));
	/* retrieval refuses before it talks to any server */
	expect(tsr_est_init(&est, "https://127.0.0.1:1", f->root), 0, "est");
	expect(tsr_client_retrieve(&f->t, &est, &res), TSR_ERR_POLICY, "initial passcode");
	detail_has("tessera token passcode");

	/* a wrong current passcode changes nothing */
	expect(tsr_client_change_passcode(&f->t, "00000000", NEW_PIN), TSR_ERR_PIN, "wrong old");
	detail_has("wrong current PIN");
	token_open(f);
	assert_true(f->t.marker);
	expect(tsr_client_change_passcode(&f->t, PIN, PIN), TSR_ERR_POLICY, "same");
	expect(tsr_client_change_passcode(&f->t, PIN, "123"), TSR_ERR_PIN, "too short");
	detail_has("takes 4 to");
	expect(tsr_client_change_passcode(&f->t, PIN, NEW_PIN), 0, "change");
	assert_false(f->t.marker);
	token_open(f);
	assert_false(f->t.marker);
	assert_false(tsr_client_initial_passcode(&f->t, &why));
	/* the old passcode is refused, the new one works */
	expect(tsr_client_login(&f->t, PIN), TSR_ERR_PIN, "old passcode");
	detail_has("refused the passcode");
	expect(tsr_client_login(&f->t, NEW_PIN), 0, "new passcode");
}

static void verify_sig(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *sig, size_t len,
    const char *msg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, len, (const uint8_t *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(ctx);
}

/* Sign with key, check with OpenSSL alone and the expected digest. */
static void sign_check(struct tsr_client_key *key, const EVP_MD *md)
{
	const char *msg = TSR_CLIENT_TEST_PREFIX "AbCdEfGhIjKlMnOpQrStUv";
	uint8_t *sig;
	size_t len;

	expect(tsr_client_sign(key, (const uint8_t *)msg, strlen(msg), &sig, &len), 0, "sign");
	verify_sig(key->pub, md, sig, len, msg);
	OPENSSL_free(sig);
}

static void test_keys(void **state)
{
	struct fx *f = *state;
	struct tsr_client_key a, b, c, k;
	struct tsr_p11_key_attrs at;
	struct tsr_p11_key *raw;
	uint8_t ski[20], id[20], *csr;
	const uint8_t ids[][1] = { { 0xa1 }, { 0xa2 } };
	X509_REQ *req;
	size_t len;
	int n;

	token_login(f, NEW_PIN);
	/* a new key: pending label, id = its SKI as OpenSSL computes it, protected */
	expect(tsr_client_key_pending(&f->t, 1u << TSR_KEY_EC_P256, TSR_KEY_EC_P256, &a), 0, "gen");
	assert_false(a.reused);
	assert_int_equal(a.id_len, 20);
	openssl_ski(a.pub, ski);
	assert_memory_equal(a.id, ski, 20);
	expect(tsr_client_key_id(a.pub, id), 0, "key id");
	assert_memory_equal(id, ski, 20);
	expect(tsr_p11_key_attrs(a.k, &at), 0, "attrs");
	assert_true(at.sensitive && at.always_sensitive && at.never_extractable);
	assert_false(at.extractable);
	assert_int_equal(private_keys(f, TSR_CLIENT_PENDING_LABEL), 1);

	/* again, with P-256 among the types: the same key */
	expect(tsr_client_key_pending(&f->t, (1u << TSR_KEY_EC_P256) | (1u << TSR_KEY_EC_P384),
	    TSR_KEY_EC_P384, &b), 0, "reuse");
	assert_true(b.reused);
	assert_memory_equal(b.id, a.id, 20);
	assert_int_equal(EVP_PKEY_eq(a.pub, b.pub), 1);
	tsr_client_key_free(&b);

	/* a CSR the strict parser accepts, with the token key */
	expect(tsr_client_csr(&a, &csr, &len), 0, "csr");
	expect(tsr_csr_parse(csr, len, &req), 0, "csr parse");
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), a.pub), 1);
	X509_REQ_free(req);
	OPENSSL_free(csr);
	sign_check(&a, EVP_sha256());
	tsr_client_key_free(&a);

	/* only P-384 wanted: the P-256 pending key goes, a P-384 one comes */
	expect(tsr_client_key_pending(&f->t, 1u << TSR_KEY_EC_P384, TSR_KEY_EC_P384, &c), 0,
	    "other type");
	assert_false(c.reused);
	assert_int_equal(tsr_p11_key_type(c.k), TSR_KEY_EC_P384);
	assert_int_equal(private_keys(f, TSR_CLIENT_PENDING_LABEL), 1);
	sign_check(&c, EVP_sha384());
	expect(tsr_p11_destroy_by_id(f->t.s, c.id, c.id_len, &n), 0, "cleanup");
	assert_int_equal(n, 2);
	tsr_client_key_free(&c);

	/* Test My Certificate's digests: RSA PKCS#1 v1.5 with SHA-256 (2048) */
	expect(tsr_p11_keygen(f->t.s, TSR_KEY_RSA_2048, "rsa", ids[0], 1, &raw), 0, "rsa");
	tsr_p11_key_free(raw);
	expect(tsr_client_key_by_id(&f->t, ids[0], 1, &k), 0, "by id");
	sign_check(&k, EVP_sha256());
	tsr_client_key_free(&k);
	expect(tsr_p11_destroy_by_id(f->t.s, ids[0], 1, &n), 0, "cleanup rsa");
	expect(tsr_client_key_by_id(&f->t, ids[1], 1, &k), TSR_ERR_NOT_FOUND, "no key");
}

/* Store x on the token under id with label. */
static void put_cert(struct fx *f, X509 *x, const uint8_t *id, size_t id_len, const char *label)
{
	uint8_t *der = NULL;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	expect(tsr_p11_cert_store(f->t.s, label, id, id_len, der, (size_t)n), 0, "store");
	OPENSSL_free(der);
}

static void test_certs(void **state)
{
	struct fx *f = *state;
	struct tsr_client_key k[3];
	struct tsr_client_cert *c;
	EVP_PKEY *ca_key = ec_key(), *loose = ec_key();
	X509 *root, *x[4], *cur;
	uint8_t loose_id[20], root_id[20];
	char root_file[160];
	size_t n;
	int d;

	token_login(f, NEW_PIN);
	expect(tsr_client_current(&f->t, NULL, 0, &cur), TSR_ERR_NOT_FOUND, "empty");
	detail_has("tessera token retrieve");
	root = make_cert(ca_key, ca_key, NULL, "Test Root", -86400, 365, true);
	for (int i = 0; i < 3; i++) {
		struct tsr_p11_key *raw;
		uint8_t tmp[1] = { (uint8_t)(0xc0 + i) };

		expect(tsr_p11_keygen(f->t.s, TSR_KEY_EC_P256, "t", tmp, 1, &raw), 0, "keygen");
		tsr_p11_key_free(raw);
		expect(tsr_client_key_by_id(&f->t, tmp, 1, &k[i]), 0, "key");
	}
	/* valid for 30 days, valid for 60, expired; and one without a key */
	x[0] = make_cert(k[0].pub, ca_key, root, "A", -86400, 30, false);
	x[1] = make_cert(k[1].pub, ca_key, root, "B", -86400, 60, false);
	x[2] = make_cert(k[2].pub, ca_key, root, "C", -40 * 86400, 10, false);
	x[3] = make_cert(loose, ca_key, root, "D", -86400, 90, false);
	for (int i = 0; i < 3; i++)
		put_cert(f, x[i], k[i].id, k[i].id_len, "Tessera test");
	expect(tsr_client_key_id(loose, loose_id), 0, "loose id");
	put_cert(f, x[3], loose_id, 20, "Tessera loose");
	expect(tsr_client_key_id(ca_key, root_id), 0, "root id");
	put_cert(f, root, root_id, 20, TSR_CLIENT_CA_LABEL);

	expect(tsr_client_certs(&f->t, &c, &n), 0, "certs");
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		bool is_root = X509_cmp(c[i].x, root) == 0, is_loose = X509_cmp(c[i].x, x[3]) == 0;

		assert_int_equal(c[i].is_ca, is_root);
		assert_int_equal(c[i].has_key, !is_root && !is_loose);
	}
	tsr_client_certs_free(c, n);

	/* the valid one that expires last; by id; an expired one by id */
	expect(tsr_client_current(&f->t, NULL, 0, &cur), 0, "current");
	assert_int_equal(X509_cmp(cur, x[1]), 0);
	X509_free(cur);
	expect(tsr_client_current(&f->t, k[0].id, k[0].id_len, &cur), 0, "by id");
	assert_int_equal(X509_cmp(cur, x[0]), 0);
	X509_free(cur);
	expect(tsr_client_current(&f->t, k[2].id, k[2].id_len, &cur), TSR_ERR_POLICY, "expired");
	detail_has("valid now");
	expect(tsr_client_current(&f->t, loose_id, 20, &cur), TSR_ERR_NOT_FOUND, "no key");

	/* the chain: to the root in a file, not to another root */
	snprintf(root_file, sizeof(root_file), "%s/test-root.pem", f->dir);
	{
		FILE *fp = fopen(root_file, "w");

		assert_non_null(fp);
		assert_int_equal(PEM_write_X509(fp, root), 1);
		fclose(fp);
	}
	expect(tsr_client_verify_chain(x[1], NULL, root_file, tsr_now()), 0, "chain");
	expect(tsr_client_verify_chain(x[2], NULL, root_file, tsr_now()), TSR_ERR_SIGNATURE,
	    "expired chain");
	detail_has("expired");
	expect(tsr_client_verify_chain(x[1], NULL, f->other_root, tsr_now()), TSR_ERR_SIGNATURE,
	    "other root");
	expect(tsr_client_verify_chain(x[1], NULL, "/nonexistent.pem", tsr_now()), TSR_ERR_IO,
	    "no file");

	/* leave the token as it was */
	for (int i = 0; i < 3; i++) {
		expect(tsr_p11_destroy_by_id(f->t.s, k[i].id, k[i].id_len, &d), 0, "cleanup");
		tsr_client_key_free(&k[i]);
	}
	expect(tsr_p11_destroy_by_id(f->t.s, loose_id, 20, &d), 0, "cleanup loose");
	expect(tsr_p11_destroy_by_id(f->t.s, root_id, 20, &d), 0, "cleanup root");
	for (int i = 0; i < 4; i++)
		X509_free(x[i]);
	X509_free(root);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(loose);
}

/* ================================================================== flows against the fixture */
static json_t *last_request(struct fx *f)
{
	char p[160];
	json_t *j;

	snprintf(p, sizeof(p), "%s/request.json", f->est);
	j = json_load_file(p, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *header(json_t *rq, const char *name)
{
	return json_string_value(json_object_get(json_object_get(rq, "headers"), name));
}

static void est_for(struct fx *f, struct tsr_est *e, const char *ca_file)
{
	expect(tsr_est_init(e, f->server, ca_file), 0, "est init");
	e->user = CODE;
	e->password = PASSWORD;
}

static void test_trust(void **state)
{
	struct fx *f = *state;
	STACK_OF(X509) *certs;
	struct tsr_est e;

	/* a server whose certificate does not chain to --ca-file */
	est_for(f, &e, f->other_root);
	expect(tsr_est_cacerts(&e, &certs), TSR_ERR_AUTH, "untrusted");
	detail_has("not trusted");
	detail_has("--ca-file");
	est_for(f, &e, "/nonexistent/root.pem");
	assert_true(tsr_est_cacerts(&e, &certs) < 0);
	est_for(f, &e, NULL);
	expect(tsr_est_cacerts(&e, &certs), TSR_ERR_INVALID, "no ca file");
	detail_has("--ca-file");
	/* the right root */
	est_for(f, &e, f->root);
	expect(tsr_est_cacerts(&e, &certs), 0, "cacerts");
	assert_int_equal(sk_X509_num(certs), 2);
	sk_X509_pop_free(certs, X509_free);
	/* a port nobody listens on */
	expect(tsr_est_init(&e, "https://127.0.0.1:1", f->root), 0, "init");
	expect(tsr_est_cacerts(&e, &certs), TSR_ERR_IO, "no server");
	detail_has("cannot reach");
}

static void test_http_errors(void **state)
{
	struct fx *f = *state;
	struct tsr_client_tls tls = { .ca_file = f->root };
	struct tsr_client_request rq = { .method = "GET", .tls = &tls };
	struct tsr_client_response r;
	struct tsr_est_csrattrs a;
	struct tsr_est e;
	char url[128];

	snprintf(url, sizeof(url), "%s/problem", f->server);
	rq.url = url;
	expect(tsr_client_http(&rq, &r), 0, "problem");
	assert_int_equal(r.status, 422);
	assert_string_equal(r.content_type, "application/problem+json");
	expect(tsr_client_http_error(&r, "thing"), TSR_ERR_POLICY, "mapped");
	detail_has("thing: red?[31m bell? ok (HTTP 422)");
	tsr_client_response_free(&r);
	snprintf(url, sizeof(url), "%s/big", f->server);
	expect(tsr_client_http(&rq, &r), TSR_ERR_TOO_LARGE, "big");
	snprintf(url, sizeof(url), "http://127.0.0.1:1/x");
	expect(tsr_client_http(&rq, &r), TSR_ERR_INVALID, "http");

	/* csrattrs: wrong password (401), none offered (204) */
	est_for(f, &e, f->root);
	e.password = "wrong";
	expect(tsr_est_csrattrs(&e, &a), TSR_ERR_AUTH, "wrong password");
	detail_has("wrong");
	e.password = PASSWORD;
	est_file(f, "csrattrs.b64", NULL);
	expect(tsr_est_csrattrs(&e, &a), 0, "204");
	assert_int_equal(a.n_attrs, 0);
}

static void cert_sha256(X509 *x, char hex[65])
{
	uint8_t *der = NULL, md[32];
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL), 1);
	tsr_hex_encode(md, 32, hex);
	OPENSSL_free(der);
}

/* How many objects have this id, all of them labelled label. */
static size_t labelled(struct fx *f, const uint8_t *id, size_t id_len, const char *label)
{
	struct tsr_p11_object *o;
	size_t n, k = 0;

	expect(tsr_p11_objects(f->t.s, &o, &n), 0, "objects");
	for (size_t i = 0; i < n; i++)
		if (o[i].id_len == id_len && memcmp(o[i].id, id, id_len) == 0) {
			assert_string_equal(o[i].label, label);
			k++;
		}
	tsr_p11_objects_free(o, n);
	return k;
}

/* What a retrieval must leave: the certificate under the key's id, read
 * back equal, for the token key, no pending key, the final label. */
static void check_stored(struct fx *f, const struct tsr_client_issued *res)
{
	struct tsr_client_key key;
	uint8_t *der, ski[20];
	const unsigned char *p;
	size_t len;
	X509 *x;

	expect(tsr_p11_cert_find(f->t.s, res->id, res->id_len, &der, &len), 0, "find");
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, res->cert), 0);
	expect(tsr_client_key_by_id(&f->t, res->id, res->id_len, &key), 0, "key");
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key.pub), 1);
	openssl_ski(key.pub, ski);
	assert_int_equal(res->id_len, 20);
	assert_memory_equal(res->id, ski, 20);
	assert_int_equal(private_keys(f, TSR_CLIENT_PENDING_LABEL), 0);
	assert_int_equal(labelled(f, res->id, res->id_len, "Tessera Jane Doe"), 3);
	tsr_client_key_free(&key);
	X509_free(x);
	free(der);
}

static void test_retrieve_other_token(void **state)
{
	struct fx *f = *state;
	struct tsr_client_issued res;
	struct tsr_client_cert *c;
	struct tsr_est e;
	size_t n;

	est_file(f, "csrattrs.b64", RFC7030_CSRATTRS);
	est_file(f, "serial", "0123456789abcdef");
	token_login(f, NEW_PIN);
	est_for(f, &e, f->root);
	expect(tsr_client_retrieve(&f->t, &e, &res), TSR_ERR_POLICY, "other token");
	detail_has("not the one assigned");
	/* nothing stored; the key waits for the next attempt */
	expect(tsr_client_certs(&f->t, &c, &n), 0, "certs");
	assert_int_equal(n, 0);
	tsr_client_certs_free(c, n);
	assert_int_equal(private_keys(f, TSR_CLIENT_PENDING_LABEL), 1);
	tsr_client_issued_clear(&res);
}

static void test_retrieve(void **state)
{
	struct fx *f = *state;
	struct tsr_client_issued res;
	struct tsr_est e;
	json_t *rq;

	est_file(f, "serial", f->t.info.serial);
	token_login(f, NEW_PIN);
	est_for(f, &e, f->root);
	e.password = "wrong";
	expect(tsr_client_retrieve(&f->t, &e, &res), TSR_ERR_AUTH, "wrong password");
	e.password = PASSWORD;
	expect(tsr_client_retrieve(&f->t, &e, &res), 0, "retrieve");
	/* the key of the refused attempt (P-384, as csrattrs asked) */
	assert_true(res.key_reused);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(res.cert)), 384);
	assert_false(res.already_stored);
	assert_int_equal(res.ca_stored, 2);
	assert_int_equal(sk_X509_num(res.chain), 2);
	assert_true(res.t.total >= res.t.est);
	check_stored(f, &res);
	/* what went over the wire: the token's claim and a PKCS#10 */
	rq = last_request(f);
	assert_string_equal(json_string_value(json_object_get(rq, "path")),
	    "/.well-known/est/cacerts");
	json_decref(rq);
	tsr_client_issued_clear(&res);
}

static void test_retrieve_interrupted(void **state)
{
	struct fx *f = *state;
	struct tsr_client_issued res;
	struct tsr_client_key key;
	uint8_t id[20];
	struct tsr_est e;
	json_t *rq;

	est_file(f, "csrattrs.b64", P256_CSRATTRS);   /* P-256 */
	est_file(f, "mode", "fail-after-issue");
	token_login(f, NEW_PIN);
	est_for(f, &e, f->root);
	expect(tsr_client_retrieve(&f->t, &e, &res), TSR_ERR_IO, "interrupted");
	detail_has("connection broke");
	rq = last_request(f);
	assert_string_equal(header(rq, "x-tessera-token-serial"), f->t.info.serial);
	assert_string_equal(header(rq, "x-tessera-token-manufacturer"), "SoftHSM project");
	assert_string_equal(header(rq, "x-tessera-token-model"), "SoftHSM v2");
	assert_string_equal(header(rq, "content-type"), "application/pkcs10");
	json_decref(rq);
	assert_int_equal(private_keys(f, TSR_CLIENT_PENDING_LABEL), 1);
	expect(tsr_client_key_pending(&f->t, 1u << TSR_KEY_EC_P256, TSR_KEY_EC_P256, &key), 0,
	    "pending");
	memcpy(id, key.id, 20);
	tsr_client_key_free(&key);

	/* again: the same key, and the server's certificate for it */
	expect(tsr_client_retrieve(&f->t, &e, &res), 0, "retry");
	assert_true(res.key_reused);
	assert_memory_equal(res.id, id, 20);
	assert_int_equal(res.ca_stored, 0);   /* the CA certificates are there already */
	check_stored(f, &res);
	tsr_client_issued_clear(&res);
}

static void test_test_my_cert(void **state)
{
	struct fx *f = *state;
	struct tsr_client_test_result r;
	struct tsr_est e;

	token_login(f, NEW_PIN);
	est_for(f, &e, f->root);
	expect(tsr_client_test(&f->t, &e, NULL, 0, &r), 0, "test");
	assert_true(r.good);
	for (int i = 0; i < 4; i++)
		assert_string_equal(r.checks[i].result, "good");
	/* a server that asks to sign something else is refused */
	est_file(f, "mode", "bad-message");
	expect(tsr_client_test(&f->t, &e, NULL, 0, &r), TSR_ERR_PARSE, "other message");
	est_file(f, "mode", NULL);
}

/* Renew the certificate with id over mutual TLS; check what the server saw. */
static void renew_check(struct fx *f, const uint8_t *id, size_t id_len, const char *tls)
{
	struct tsr_client_issued res;
	struct tsr_client_cert *c;
	X509 *old = NULL;
	char want[65];
	struct tsr_est e;
	json_t *rq;
	size_t n;

	token_login(f, NEW_PIN);
	expect(tsr_client_current(&f->t, id, id_len, &old), 0, "current");
	cert_sha256(old, want);
	est_for(f, &e, f->root);
	e.user = e.password = NULL;   /* renewal never sends the code */
	expect(tsr_client_renew(&f->t, &e, id, id_len, false, &res), 0, "renew");
	assert_int_equal(res.old_removed, 3);   /* private key, public key, certificate */
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(res.cert)),
	    EVP_PKEY_get_base_id(X509_get0_pubkey(old)));
	assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(res.cert), X509_get0_pubkey(old)), 1);
	check_stored(f, &res);
	rq = last_request(f);   /* cacerts, on the same kind of connection */
	json_decref(rq);
	/* the simplereenroll request came with the old certificate over TLS */
	expect(tsr_client_certs(&f->t, &c, &n), 0, "certs");
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(X509_cmp(c[i].x, old), 0);
	tsr_client_certs_free(c, n);
	{
		char p[160];
		json_t *j;

		snprintf(p, sizeof(p), "%s/reenroll.json", f->est);
		j = json_load_file(p, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "peer")), want);
		assert_string_equal(json_string_value(json_object_get(j, "tls")), tls);
		assert_null(json_object_get(json_object_get(j, "headers"), "authorization"));
		json_decref(j);
	}
	X509_free(old);
	tsr_client_issued_clear(&res);
}

static void test_renew_ec(void **state)
{
	struct fx *f = *state;
	X509 *cur;
	uint8_t id[20];

	token_login(f, NEW_PIN);
	expect(tsr_client_current(&f->t, NULL, 0, &cur), 0, "current");
	expect(tsr_client_key_id(X509_get0_pubkey(cur), id), 0, "id");
	X509_free(cur);
	renew_check(f, id, sizeof(id), "TLSv1.3");
}

static void test_renew_rsa(void **state)
{
	struct fx *f = *state;
	uint8_t der[64], one[64], bits[] = { 0x02, 0x02, 0x08, 0x00 };
	struct tsr_client_issued res;
	struct tsr_est e;
	char *text;
	size_t k;

	k = attribute(one, oid_rsa, sizeof(oid_rsa), bits, sizeof(bits));
	k = tlv(der, 0x30, one, k);
	text = b64(der, k, 0);
	est_file(f, "csrattrs.b64", text);
	free(text);
	token_login(f, NEW_PIN);
	est_for(f, &e, f->root);
	expect(tsr_client_retrieve(&f->t, &e, &res), 0, "retrieve rsa");
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(res.cert)), EVP_PKEY_RSA);
	/* RSA client authentication: PKCS#1 v1.5 signatures, so TLS 1.2 */
	renew_check(f, res.id, res.id_len, "TLSv1.2");
	tsr_client_issued_clear(&res);
}

int main(void)
{
	const struct CMUnitTest parsers[] = {
		cmocka_unit_test(test_parse_certs),
		cmocka_unit_test(test_parse_csrattrs),
		cmocka_unit_test(test_parse_problem),
		cmocka_unit_test(test_parse_nonce),
		cmocka_unit_test(test_parse_test_result),
		cmocka_unit_test(test_est_init),
	};
	/* in order, on one token and one fixture: each builds on the one before */
	const struct CMUnitTest token[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_passcode),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_certs),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_retrieve_other_token),
		cmocka_unit_test(test_retrieve),
		cmocka_unit_test(test_retrieve_interrupted),
		cmocka_unit_test(test_test_my_cert),
		cmocka_unit_test(test_renew_ec),
		cmocka_unit_test(test_renew_rsa),
	};
	int failed = cmocka_run_group_tests_name("client parsers", parsers, NULL, NULL);

	failed += cmocka_run_group_tests_name("client with SoftHSM2 and an EST server", token,
	    group_setup, group_teardown);
	return failed;
}
