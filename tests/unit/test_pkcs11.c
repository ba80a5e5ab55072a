/*
 * test_pkcs11.c - the pkcs11 module against a real SoftHSM2 token.
 *
 * The URI tests need nothing.  The token tests create a SoftHSM2 token
 * directory under /tmp, point SOFTHSM2_CONF at it before the module is
 * loaded, and run in order on one token: init and open, login, key
 * generation for every key type with signatures checked by OpenSSL,
 * lookup, destruction, certificates, and persistence across a reload.
 * Set TSR_TEST_KEEP_TOKENS=1 to keep the token directory for inspection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pkcs11/p11.h"
#include "pkcs11/p11_int.h"   /* for raw C_FindObjects checks */

#define LABEL "Tessera Test"
#define SO_PIN "so-pin-4321"
#define USER_PIN "user-pin-1234"

/* ------------------------------------------------------------------ URI parsing */
static void parse_ok(const char *s, struct tsr_p11_uri *u)
{
	int rc = tsr_p11_uri_parse(s, u);

	if (rc != 0)
		fail_msg("parse '%s': %d %s", s, rc, tsr_error_detail());
}

static void parse_fails(const char *s, int want)
{
	struct tsr_p11_uri u;
	int rc = tsr_p11_uri_parse(s, &u);

	if (rc != want)
		fail_msg("parse '%s': got %d (%s), want %d", s, rc, tsr_error_detail(), want);
	/* a failed parse leaves nothing behind */
	assert_null(u.token);
	assert_null(u.pin_value);
	assert_int_equal(u.slot_id, -1);
	assert_int_equal(u.id_len, 0);
	assert_true(strlen(tsr_error_detail()) > 0);
}

static void test_uri_full(void **state)
{
	static const uint8_t id[] = { 0x01, 0x02, 0x00, 0xff, 'a' };
	struct tsr_p11_uri u;

	(void)state;
	parse_ok("pkcs11:token=Tessera%20CA;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;"
		 "serial=0123abcd;slot-id=42;object=root%2Dkey;id=%01%02%00%FFa;type=private"
		 "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2034",
	    &u);
	assert_string_equal(u.token, "Tessera CA");
	assert_string_equal(u.manufacturer, "SoftHSM project");
	assert_string_equal(u.model, "SoftHSM v2");
	assert_string_equal(u.serial, "0123abcd");
	assert_int_equal(u.slot_id, 42);
	assert_string_equal(u.object, "root-key");
	assert_int_equal(u.id_len, sizeof(id));
	assert_memory_equal(u.id, id, sizeof(id));
	assert_string_equal(u.type, "private");
	assert_string_equal(u.module_path, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(u.pin_value, "12 34");
	assert_null(u.pin_source);
	tsr_p11_uri_free(&u);
	assert_null(u.token);
	assert_int_equal(u.slot_id, -1);
	tsr_p11_uri_free(&u);   /* twice is harmless */
}

static void test_uri_minimal_and_lenient(void **state)
{
	struct tsr_p11_uri u;

	(void)state;
	parse_ok("pkcs11:", &u);
	assert_null(u.token);
	assert_null(u.object);
	assert_int_equal(u.slot_id, -1);
	assert_int_equal(u.id_len, 0);
	tsr_p11_uri_free(&u);

	parse_ok("pkcs11:?", &u);
	tsr_p11_uri_free(&u);

	/* the scheme is case-insensitive; an empty value is a value */
	parse_ok("PKCS11:token=", &u);
	assert_string_equal(u.token, "");
	tsr_p11_uri_free(&u);

	/* library-* are accepted and ignored; so are unknown query attributes */
	parse_ok("pkcs11:library-manufacturer=OpenSC%20Project;library-description=x;"
		 "library-version=1.2;token=t?module-name=softhsm2&x-vendor=a/b?c|d&token=q",
	    &u);
	assert_string_equal(u.token, "t");
	tsr_p11_uri_free(&u);

	/* RFC 7512 lets these appear literally: & in the path, / ? | in the query */
	parse_ok("pkcs11:object=a:b@c!$'()*+,=&d;token=%C3%A9?pin-source=/run/pin?x|y", &u);
	assert_string_equal(u.object, "a:b@c!$'()*+,=&d");
	assert_string_equal(u.token, "\xc3\xa9");
	assert_string_equal(u.pin_source, "/run/pin?x|y");
	tsr_p11_uri_free(&u);
}

static void test_uri_pin_source(void **state)
{
	static const struct {
		const char *uri, *path;
	} cases[] = {
		{ "pkcs11:?pin-source=file:/etc/tessera/pin", "/etc/tessera/pin" },
		{ "pkcs11:?pin-source=file:///etc/tessera/pin", "/etc/tessera/pin" },
		{ "pkcs11:?pin-source=FILE://localhost/etc/pin", "/etc/pin" },
		{ "pkcs11:?pin-source=/etc/pin", "/etc/pin" },
		{ "pkcs11:?pin-source=pin.txt", "pin.txt" },
		{ "pkcs11:?pin-source=file%3A%2Fp", "/p" },
	};
	struct tsr_p11_uri u;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		parse_ok(cases[i].uri, &u);
		assert_string_equal(u.pin_source, cases[i].path);
		tsr_p11_uri_free(&u);
	}
	parse_fails("pkcs11:?pin-source=%7C/usr/bin/getpin", TSR_ERR_PARSE);
	parse_fails("pkcs11:?pin-source=|/usr/bin/getpin", TSR_ERR_PARSE);
	parse_fails("pkcs11:?pin-source=https://example.org/pin", TSR_ERR_PARSE);
	parse_fails("pkcs11:?pin-source=file://otherhost/pin", TSR_ERR_PARSE);
	parse_fails("pkcs11:?pin-source=", TSR_ERR_PARSE);
	parse_fails("pkcs11:?pin-source=/p&pin-value=1234", TSR_ERR_PARSE);
}

static void test_uri_bad(void **state)
{
	static const char *const bad[] = {
		"",                                    /* no scheme */
		"token=x",
		"pkcs12:token=x",
		"pkcs11",
		"pkcs11:token=%",                      /* bad escapes */
		"pkcs11:token=%4",
		"pkcs11:token=%zz",
		"pkcs11:token=%G0",
		"pkcs11:token=ab%2",
		"pkcs11:token=a%00b",                  /* NUL */
		"pkcs11:object=%00",
		"pkcs11:?pin-value=12%0034",
		"pkcs11:?module-path=/lib%00x.so",
		"pkcs11:token=a;token=b",              /* duplicates */
		"pkcs11:id=%01;object=x;id=%01",
		"pkcs11:?pin-value=1&pin-value=1",
		"pkcs11:foo=bar",                      /* unknown path attribute */
		"pkcs11:pin-value=1234",               /* query attribute in the path */
		"pkcs11:slot-description=x",           /* valid RFC, not honoured */
		"pkcs11:slot-manufacturer=x",
		"pkcs11:token",                        /* structure */
		"pkcs11:=x",
		"pkcs11:token=a;;object=b",
		"pkcs11:token=a;",
		"pkcs11:;",
		"pkcs11:?&",
		"pkcs11:tok%65n=x",
		"pkcs11:to ken=x",
		"pkcs11:token=a b",                    /* characters to encode */
		"pkcs11:object=a/b",
		"pkcs11:token=a#b",
		"pkcs11:token=\xc3\xa9",
		"pkcs11:?pin-value=a;b",
		"pkcs11:slot-id=",                     /* slot-id */
		"pkcs11:slot-id=1a",
		"pkcs11:slot-id=-1",
		"pkcs11:slot-id=99999999999999999999999",
		"pkcs11:type=key",                     /* type */
		"pkcs11:type=",
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		parse_fails(bad[i], TSR_ERR_PARSE);
}

static void test_uri_limits(void **state)
{
	struct tsr_p11_uri u;
	char id65[7 + 3 + 65 * 3 + 1], *big;

	(void)state;
	assert_int_equal(tsr_p11_uri_parse(NULL, &u), TSR_ERR_INVALID);

	/* the id holds 64 bytes */
	strcpy(id65, "pkcs11:id=");
	for (int i = 0; i < 64; i++)
		strcat(id65, "%AB");
	parse_ok(id65, &u);
	assert_int_equal(u.id_len, 64);
	tsr_p11_uri_free(&u);
	strcat(id65, "%AB");
	parse_fails(id65, TSR_ERR_TOO_LARGE);

	/* 4096 bytes are fine, 4097 are not */
	big = malloc(4098);
	assert_non_null(big);
	memset(big, 'a', 4097);
	memcpy(big, "pkcs11:object=", 14);
	big[4096] = '\0';
	parse_ok(big, &u);
	assert_int_equal(strlen(u.object), 4096 - 14);
	tsr_p11_uri_free(&u);
	big[4096] = 'a';
	big[4097] = '\0';
	parse_fails(big, TSR_ERR_TOO_LARGE);
	free(big);

	/* the detail names the problem without repeating a PIN */
	assert_int_equal(tsr_p11_uri_parse("pkcs11:?pin-value=sekr%00t", &u), TSR_ERR_PARSE);
	assert_non_null(strstr(tsr_error_detail(), "pin-value"));
	assert_null(strstr(tsr_error_detail(), "sekr"));
}

static void test_uri_for_token(void **state)
{
	static const char *const labels[] = {
		"Tessera CA", "", "a;b?c&d=e%f/g#h", "\xc3\xa9t\xc3\xa9 ~._-", "pkcs11:token=x",
	};
	struct tsr_p11_uri u;
	char *s, *big;

	(void)state;
	assert_int_equal(tsr_p11_uri_for_token("Tessera CA", &s), 0);
	assert_string_equal(s, "pkcs11:token=Tessera%20CA");
	free(s);
	for (size_t i = 0; i < TSR_ARRAY_LEN(labels); i++) {
		assert_int_equal(tsr_p11_uri_for_token(labels[i], &s), 0);
		parse_ok(s, &u);
		assert_string_equal(u.token, labels[i]);
		tsr_p11_uri_free(&u);
		free(s);
	}
	assert_int_equal(tsr_p11_uri_for_token(NULL, &s), TSR_ERR_INVALID);
	assert_null(s);
	big = malloc(2000);
	assert_non_null(big);
	memset(big, ' ', 1999);
	big[1999] = '\0';
	assert_int_equal(tsr_p11_uri_for_token(big, &s), TSR_ERR_TOO_LARGE);
	assert_null(s);
	free(big);
}

/* ------------------------------------------------------------------ token fixture */
struct fixture {
	char dir[64];
	const char *module_path;
	struct tsr_p11_module *mod;
	struct tsr_p11_session *s;
};

static int write_conf(struct fixture *f)
{
	char path[128], tokens[96];
	FILE *fp;

	snprintf(tokens, sizeof(tokens), "%s/tokens", f->dir);
	if (mkdir(tokens, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/softhsm2.conf", f->dir);
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
	    tokens);
	if (fclose(fp) != 0)
		return -1;
	/* SoftHSM2 reads this in C_Initialize, so before the module is loaded */
	return setenv("SOFTHSM2_CONF", path, 1);
}

static struct tsr_p11_session *open_label(struct tsr_p11_module *mod, const char *label)
{
	struct tsr_p11_uri u = { .token = (char *)label, .slot_id = -1 };
	struct tsr_p11_session *s;
	int rc = tsr_p11_open(mod, &u, &s);

	if (rc != 0)
		fail_msg("open token '%s': %d %s", label, rc, tsr_error_detail());
	return s;
}

static int token_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return -1;
	f->module_path = getenv("SOFTHSM_MODULE");
	if (f->module_path == NULL || f->module_path[0] == '\0')
		f->module_path = "/usr/lib/softhsm/libsofthsm2.so";
	strcpy(f->dir, "/tmp/tsr-p11-XXXXXX");
	if (mkdtemp(f->dir) == NULL || write_conf(f) != 0)
		return -1;
	rc = tsr_p11_module_load(f->module_path, &f->mod);
	if (rc == 0)
		rc = tsr_p11_token_init(f->mod, LABEL, SO_PIN, USER_PIN);
	if (rc != 0) {
		fprintf(stderr, "token setup: %d %s\n", rc, tsr_error_detail());
		return -1;
	}
	*state = f;
	return 0;
}

static int token_teardown(void **state)
{
	struct fixture *f = *state;

	tsr_p11_close(f->s);
	tsr_p11_module_unload(f->mod);
	if (getenv("TSR_TEST_KEEP_TOKENS") != NULL)
		fprintf(stderr, "token directory kept: %s\n", f->dir);
	else if (tsr_dir_remove_tree(f->dir) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ modules and tokens */
static void test_module_load_errors(void **state)
{
	struct fixture *f = *state;
	struct tsr_p11_module *m = (struct tsr_p11_module *)1;
	Dl_info lib;

	assert_int_equal(tsr_p11_module_load("/nonexistent/libnothing.so", &m), TSR_ERR_NOT_FOUND);
	assert_null(m);
	/* a bare name would be searched through the library path */
	assert_int_equal(tsr_p11_module_load("libsofthsm2.so", &m), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_module_load(NULL, &m), TSR_ERR_INVALID);
	/* a shared library that is not a PKCS#11 module: libcrypto */
	assert_true(dladdr((void *)&EVP_PKEY_new, &lib) != 0);
	assert_int_equal(tsr_p11_module_load(lib.dli_fname, &m), TSR_ERR_PKCS11);
	assert_non_null(strstr(tsr_error_detail(), "C_GetFunctionList"));
	/* loading it twice is refused, and leaves the first load working */
	assert_int_equal(tsr_p11_module_load(f->module_path, &m), TSR_ERR_PKCS11);
	assert_non_null(strstr(tsr_error_detail(), "already loaded"));
	assert_null(m);
	tsr_p11_module_unload(NULL);
	tsr_p11_close(NULL);
}

static void test_token_open(void **state)
{
	struct fixture *f = *state;
	struct tsr_p11_token_info ti;
	struct tsr_p11_session *s2;
	struct tsr_p11_uri u;
	char *uri_s, serial_uri[64];

	assert_int_equal(tsr_p11_uri_for_token(LABEL, &uri_s), 0);
	parse_ok(uri_s, &u);
	free(uri_s);
	assert_int_equal(tsr_p11_open(f->mod, &u, &f->s), 0);
	tsr_p11_uri_free(&u);

	assert_int_equal(tsr_p11_token_info(f->s, &ti), 0);
	assert_string_equal(ti.label, LABEL);
	assert_string_equal(ti.manufacturer, "SoftHSM project");
	assert_string_equal(ti.model, "SoftHSM v2");
	assert_true(strlen(ti.serial) > 0);
	assert_true(ti.initialized);
	assert_true(ti.user_pin_initialized);
	assert_false(ti.user_pin_locked);
	assert_false(ti.user_pin_to_be_changed);
	assert_int_equal(ti.min_pin_len, 4);     /* SoftHSM2's limits */
	assert_int_equal(ti.max_pin_len, 255);
	assert_false(ti.protected_auth_path);

	/* by serial, manufacturer and model; by slot id */
	snprintf(serial_uri, sizeof(serial_uri), "pkcs11:serial=%s;model=SoftHSM%%20v2",
	    ti.serial);
	parse_ok(serial_uri, &u);
	assert_int_equal(tsr_p11_open(f->mod, &u, &s2), 0);
	tsr_p11_close(s2);
	tsr_p11_uri_free(&u);
	u = (struct tsr_p11_uri){ .manufacturer = "SoftHSM project", .slot_id = (long)f->s->slot };
	assert_int_equal(tsr_p11_open(f->mod, &u, &s2), 0);
	tsr_p11_close(s2);
	u.slot_id = (long)f->s->slot + 1000;
	assert_int_equal(tsr_p11_open(f->mod, &u, &s2), TSR_ERR_NOT_FOUND);

	/* no attributes: the one initialized token (SoftHSM's free one is skipped) */
	assert_int_equal(tsr_p11_open(f->mod, NULL, &s2), 0);
	tsr_p11_close(s2);

	u = (struct tsr_p11_uri){ .token = "No Such Token", .slot_id = -1 };
	assert_int_equal(tsr_p11_open(f->mod, &u, &s2), TSR_ERR_NOT_FOUND);
	assert_null(s2);
	assert_non_null(strstr(tsr_error_detail(), "No Such Token"));
	u = (struct tsr_p11_uri){ .token = LABEL, .serial = "0000", .slot_id = -1 };
	assert_int_equal(tsr_p11_open(f->mod, &u, &s2), TSR_ERR_NOT_FOUND);
}

static void test_token_init_rules(void **state)
{
	struct fixture *f = *state;
	struct tsr_p11_session *s2;

	/* a second token with the same label would make lookups ambiguous */
	assert_int_equal(tsr_p11_token_init(f->mod, LABEL, SO_PIN, USER_PIN), TSR_ERR_EXISTS);
	assert_int_equal(tsr_p11_token_init(f->mod, "", SO_PIN, USER_PIN), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_token_init(f->mod, "123456789012345678901234567890123", SO_PIN,
			     USER_PIN), TSR_ERR_INVALID);
	/* a full 32-byte label works, and now "any token" is ambiguous */
	assert_int_equal(tsr_p11_token_init(f->mod, "12345678901234567890123456789012", SO_PIN,
			     USER_PIN), 0);
	s2 = open_label(f->mod, "12345678901234567890123456789012");
	tsr_p11_close(s2);
	assert_int_equal(tsr_p11_open(f->mod, NULL, &s2), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "serial"));
	/* the first token is still found by its label after the re-numbering */
	s2 = open_label(f->mod, LABEL);
	tsr_p11_close(s2);
}

static void test_login(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tsr_p11_login(f->s, "wrong-pin"), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "C_Login: CKR_PIN_INCORRECT"));
	assert_int_equal(tsr_p11_login(f->s, "12"), TSR_ERR_PIN);
	assert_int_equal(tsr_p11_login(f->s, SO_PIN), TSR_ERR_PIN);
	assert_int_equal(tsr_p11_login(f->s, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_login(f->s, USER_PIN), 0);
	/* already logged in is success */
	assert_int_equal(tsr_p11_login(f->s, USER_PIN), 0);
}

/* ------------------------------------------------------------------ keys */
static const uint8_t digest_info_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};
static const uint8_t digest_info_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
};

/* Convert r||s into a DER ECDSA-Sig-Value, as X.509 and OpenSSL want it. */
static size_t ecdsa_der(const uint8_t *rs, size_t len, uint8_t *der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)len / 2, NULL);
	BIGNUM *s = BN_bin2bn(rs + len / 2, (int)len / 2, NULL);
	int n;

	assert_non_null(sig);
	assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	assert_true(n > 0);
	return (size_t)n;
}

static bool verifies(EVP_PKEY *pub, const EVP_MD *md, const char *msg, const uint8_t *sig,
    size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub), 1);
	ok = EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)msg, strlen(msg));
	EVP_MD_CTX_free(ctx);
	return ok == 1;
}

/*
 * Sign msg's digest on the token as Tessera's signer would (a digest for
 * ECDSA, a DigestInfo for RSA) and verify it with OpenSSL over the message.
 */
static void sign_and_verify(struct tsr_p11_key *k, EVP_PKEY *pub, const EVP_MD *md)
{
	const char *msg = "to be signed by the token";
	uint8_t digest[EVP_MAX_MD_SIZE], in[128], sig[512], der[160];
	unsigned int dlen;
	size_t inlen, siglen = sizeof(sig), expect;
	bool sha384 = EVP_MD_get_size(md) == 48;

	assert_int_equal(EVP_Digest(msg, strlen(msg), digest, &dlen, md, NULL), 1);
	if (tsr_key_type_is_rsa(tsr_p11_key_type(k))) {
		const uint8_t *prefix = sha384 ? digest_info_sha384 : digest_info_sha256;

		memcpy(in, prefix, sizeof(digest_info_sha256));
		memcpy(in + sizeof(digest_info_sha256), digest, dlen);
		inlen = sizeof(digest_info_sha256) + dlen;
		expect = (size_t)tsr_key_type_bits(tsr_p11_key_type(k)) / 8;
	} else {
		memcpy(in, digest, dlen);
		inlen = dlen;
		expect = tsr_p11_key_type(k) == TSR_KEY_EC_P256 ? 64 : 96;
	}
	if (tsr_p11_key_sign(k, in, inlen, sig, &siglen) != 0)
		fail_msg("sign: %s", tsr_error_detail());
	assert_int_equal(siglen, expect);
	if (!tsr_key_type_is_rsa(tsr_p11_key_type(k))) {
		size_t n = ecdsa_der(sig, siglen, der);

		assert_true(verifies(pub, md, msg, der, n));
		assert_false(verifies(pub, md, "something else", der, n));
	} else {
		assert_true(verifies(pub, md, msg, sig, siglen));
		assert_false(verifies(pub, md, "something else", sig, siglen));
	}
	/* a buffer that is too small is refused before the token is asked */
	siglen = expect - 1;
	assert_int_equal(tsr_p11_key_sign(k, in, inlen, sig, &siglen), TSR_ERR_INVALID);
}

static void check_protected(const struct tsr_p11_key *k)
{
	struct tsr_p11_key_attrs a;

	assert_int_equal(tsr_p11_key_attrs(k, &a), 0);
	assert_true(a.sensitive);
	assert_true(a.always_sensitive);
	assert_false(a.extractable);
	assert_true(a.never_extractable);
	assert_true(a.private_);
	assert_true(a.token);
}

static void check_public(const struct tsr_p11_key *k, enum tsr_key_type type)
{
	EVP_PKEY *pub;
	char group[32];
	size_t glen;

	if (tsr_p11_key_public(k, &pub) != 0)
		fail_msg("public: %s", tsr_error_detail());
	assert_int_equal(EVP_PKEY_get_bits(pub), tsr_key_type_bits(type));
	if (tsr_key_type_is_rsa(type)) {
		BIGNUM *e = NULL;

		assert_true(EVP_PKEY_is_a(pub, "RSA"));
		assert_int_equal(EVP_PKEY_get_bn_param(pub, "e", &e), 1);
		assert_true(BN_is_word(e, 65537));
		BN_free(e);
	} else {
		assert_true(EVP_PKEY_is_a(pub, "EC"));
		assert_int_equal(EVP_PKEY_get_utf8_string_param(pub, "group", group,
				     sizeof(group), &glen), 1);
		assert_string_equal(group, type == TSR_KEY_EC_P256 ? "prime256v1" : "secp384r1");
	}
	EVP_PKEY_free(pub);
}

static void keygen_check(struct fixture *f, enum tsr_key_type type, uint8_t id_byte)
{
	const uint8_t id[] = { 0x7e, id_byte };
	struct tsr_p11_key *k;
	EVP_PKEY *pub;
	int rc;

	rc = tsr_p11_keygen(f->s, type, tsr_key_type_name(type), id, sizeof(id), &k);
	if (rc != 0)
		fail_msg("keygen %s: %d %s", tsr_key_type_name(type), rc, tsr_error_detail());
	assert_int_equal(tsr_p11_key_type(k), type);
	check_protected(k);
	check_public(k, type);
	assert_int_equal(tsr_p11_key_public(k, &pub), 0);
	sign_and_verify(k, pub, EVP_sha256());
	sign_and_verify(k, pub, EVP_sha384());
	EVP_PKEY_free(pub);
	tsr_p11_key_free(k);

	/* the same key, found again by label and id */
	assert_int_equal(tsr_p11_key_find(f->s, tsr_key_type_name(type), id, sizeof(id), &k), 0);
	assert_int_equal(tsr_p11_key_type(k), type);
	check_public(k, type);
	tsr_p11_key_free(k);
}

static void test_keygen_ec_p256(void **state)
{
	keygen_check(*state, TSR_KEY_EC_P256, 1);
}

static void test_keygen_ec_p384(void **state)
{
	keygen_check(*state, TSR_KEY_EC_P384, 2);
}

static void test_keygen_rsa_2048(void **state)
{
	keygen_check(*state, TSR_KEY_RSA_2048, 3);
}

static void test_keygen_rsa_3072(void **state)
{
	keygen_check(*state, TSR_KEY_RSA_3072, 4);
}

static void test_keygen_rsa_4096(void **state)
{
	keygen_check(*state, TSR_KEY_RSA_4096, 5);
}

static void test_keygen_refusals(void **state)
{
	struct fixture *f = *state;
	const uint8_t taken[] = { 0x7e, 1 }, fresh[] = { 0x7f }, big[65] = { 0 };
	struct tsr_p11_key *k = (struct tsr_p11_key *)1;

	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P384, "other", taken, sizeof(taken), &k),
	    TSR_ERR_EXISTS);
	assert_null(k);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_NONE, "none", fresh, sizeof(fresh), &k),
	    TSR_ERR_KEY);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "x", fresh, 0, &k),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "x", big, sizeof(big), &k),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, NULL, fresh, sizeof(fresh), &k),
	    TSR_ERR_INVALID);
	/* nothing was left behind by the refusals */
	assert_int_equal(tsr_p11_key_find(f->s, NULL, fresh, sizeof(fresh), &k),
	    TSR_ERR_NOT_FOUND);
}

static void test_key_find(void **state)
{
	struct fixture *f = *state;
	const uint8_t id_a[] = { 0x51 }, id_b[] = { 0x52 }, id_none[] = { 0x53 };
	struct tsr_p11_key *k;
	uint8_t digest[32] = { 1 }, sig[64];
	size_t siglen = sizeof(sig);

	/* two keys share a label: the label alone is ambiguous */
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "twin", id_a, 1, &k), 0);
	tsr_p11_key_free(k);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "twin", id_b, 1, &k), 0);
	tsr_p11_key_free(k);
	assert_int_equal(tsr_p11_key_find(f->s, "twin", NULL, 0, &k), TSR_ERR_INVALID);
	assert_null(k);
	assert_int_equal(tsr_p11_key_find(f->s, "twin", id_b, 1, &k), 0);
	assert_int_equal(tsr_p11_key_type(k), TSR_KEY_EC_P256);
	assert_int_equal(tsr_p11_key_sign(k, digest, sizeof(digest), sig, &siglen), 0);
	tsr_p11_key_free(k);
	/* by id alone */
	assert_int_equal(tsr_p11_key_find(f->s, NULL, id_a, 1, &k), 0);
	tsr_p11_key_free(k);

	assert_int_equal(tsr_p11_key_find(f->s, "twin", id_none, 1, &k), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_p11_key_find(f->s, "nobody", NULL, 0, &k), TSR_ERR_NOT_FOUND);
	assert_non_null(strstr(tsr_error_detail(), "nobody"));
	assert_int_equal(tsr_p11_key_find(f->s, NULL, NULL, 0, &k), TSR_ERR_INVALID);
	/* the public half is not a private key */
	assert_int_equal(tsr_p11_key_find(f->s, "ec-p256", NULL, 0, &k), 0);
	tsr_p11_key_free(k);
	tsr_p11_key_free(NULL);
	assert_int_equal(tsr_p11_key_type(NULL), TSR_KEY_NONE);
}

static CK_ULONG count_objects(struct tsr_p11_session *s, CK_OBJECT_CLASS cls,
    const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *first)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE h[8];
	CK_ULONG n;
	CK_FUNCTION_LIST *fn = s->mod->fn;

	assert_int_equal(fn->C_FindObjectsInit(s->h, tmpl, 2), CKR_OK);
	assert_int_equal(fn->C_FindObjects(s->h, h, 8, &n), CKR_OK);
	assert_int_equal(fn->C_FindObjectsFinal(s->h), CKR_OK);
	if (first != NULL && n > 0)
		*first = h[0];
	return n;
}

static void test_key_destroy(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0xd0, 0x0d };
	struct tsr_p11_key *k;

	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_RSA_2048, "doomed", id, sizeof(id), &k), 0);
	assert_int_equal(count_objects(f->s, CKO_PRIVATE_KEY, id, sizeof(id), NULL), 1);
	assert_int_equal(count_objects(f->s, CKO_PUBLIC_KEY, id, sizeof(id), NULL), 1);
	assert_int_equal(tsr_p11_key_destroy(k), 0);
	assert_int_equal(tsr_p11_key_destroy(k), TSR_ERR_INVALID);
	tsr_p11_key_free(k);
	assert_int_equal(count_objects(f->s, CKO_PRIVATE_KEY, id, sizeof(id), NULL), 0);
	assert_int_equal(count_objects(f->s, CKO_PUBLIC_KEY, id, sizeof(id), NULL), 0);
	assert_int_equal(tsr_p11_key_find(f->s, "doomed", NULL, 0, &k), TSR_ERR_NOT_FOUND);
	/* and the id is free again */
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "reborn", id, sizeof(id), &k), 0);
	tsr_p11_key_free(k);
}

/* A small self-signed certificate, DER, made with OpenSSL, valid from
 * now + from_offset seconds for a day. */
static uint8_t *make_cert_from(long from_offset, int *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t *der = NULL;

	assert_non_null(key);
	assert_non_null(x);
	assert_non_null(name);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
			     (const unsigned char *)"Tessera Test Cert", -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from_offset));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), from_offset + 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*len = i2d_X509(x, &der);
	assert_true(*len > 0);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return der;
}

static uint8_t *make_cert(int *len)
{
	return make_cert_from(0, len);
}

static void test_cert_store(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0x7e, 1 };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tsr_buf value, subject, label;
	uint8_t *der, *padded, *subj = NULL;
	const unsigned char *p;
	int len, subj_len;
	X509 *x;

	der = make_cert(&len);
	assert_int_equal(tsr_p11_cert_store(f->s, "ec-p256", id, sizeof(id), der, (size_t)len), 0);
	assert_int_equal(count_objects(f->s, CKO_CERTIFICATE, id, sizeof(id), &h), 1);

	/* what the token holds is what we stored */
	assert_int_equal(tsr_p11_get_attr(f->s, h, CKA_VALUE, &value), 0);
	assert_int_equal(value.len, (size_t)len);
	assert_memory_equal(value.data, der, (size_t)len);
	assert_int_equal(tsr_p11_get_attr(f->s, h, CKA_LABEL, &label), 0);
	assert_int_equal(label.len, strlen("ec-p256"));
	assert_memory_equal(label.data, "ec-p256", label.len);
	p = der;
	x = d2i_X509(NULL, &p, len);
	assert_non_null(x);
	subj_len = i2d_X509_NAME(X509_get_subject_name(x), &subj);
	assert_int_equal(tsr_p11_get_attr(f->s, h, CKA_SUBJECT, &subject), 0);
	assert_int_equal(subject.len, (size_t)subj_len);
	assert_memory_equal(subject.data, subj, (size_t)subj_len);
	tsr_buf_free(&value);
	tsr_buf_free(&label);
	tsr_buf_free(&subject);
	OPENSSL_free(subj);
	X509_free(x);

	/* not a certificate, trailing bytes, nothing */
	assert_int_equal(tsr_p11_cert_store(f->s, "bad", id, sizeof(id), (const uint8_t *)"junk",
			     4), TSR_ERR_PARSE);
	padded = malloc((size_t)len + 1);
	assert_non_null(padded);
	memcpy(padded, der, (size_t)len);
	padded[len] = 0;
	assert_int_equal(tsr_p11_cert_store(f->s, "bad", id, sizeof(id), padded, (size_t)len + 1),
	    TSR_ERR_PARSE);
	assert_int_equal(tsr_p11_cert_store(f->s, "bad", id, sizeof(id), der, 0),
	    TSR_ERR_TOO_LARGE);
	assert_int_equal(count_objects(f->s, CKO_CERTIFICATE, id, sizeof(id), NULL), 1);
	free(padded);
	OPENSSL_free(der);
}

/* A certificate is found again by the id it was stored with; of two with
 * one id, the newer; other ids and bad arguments are refused. */
static void test_cert_find(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0x7e, 1 }, id2[] = { 0xcf, 0x01 }, id3[] = { 0xcf, 0x03 },
	    none[] = { 0xcf, 0x02 };
	uint8_t *stored, *older, *found = (uint8_t *)1;
	const unsigned char *p;
	size_t found_len = 1;
	int len, older_len;
	X509 *x;

	/* the one test_cert_store left, byte for byte; no login needed */
	assert_int_equal(tsr_p11_cert_find(f->s, id, sizeof(id), &found, &found_len), 0);
	p = found;
	x = d2i_X509(NULL, &p, (long)found_len);
	assert_non_null(x);
	assert_ptr_equal(p, found + found_len);
	X509_free(x);
	free(found);

	/* two certificates with one id: the newer one (by notBefore) wins,
	 * whichever was stored first */
	older = make_cert_from(-86400, &older_len);
	stored = make_cert(&len);
	assert_int_equal(tsr_p11_cert_store(f->s, "old", id2, sizeof(id2), older,
	    (size_t)older_len), 0);
	assert_int_equal(tsr_p11_cert_store(f->s, "new", id2, sizeof(id2), stored, (size_t)len), 0);
	assert_int_equal(tsr_p11_cert_store(f->s, "new", id3, sizeof(id3), stored, (size_t)len), 0);
	assert_int_equal(tsr_p11_cert_store(f->s, "old", id3, sizeof(id3), older,
	    (size_t)older_len), 0);
	assert_int_equal(tsr_p11_cert_find(f->s, id2, sizeof(id2), &found, &found_len), 0);
	assert_int_equal(found_len, (size_t)len);
	assert_memory_equal(found, stored, (size_t)len);
	free(found);
	assert_int_equal(tsr_p11_cert_find(f->s, id3, sizeof(id3), &found, &found_len), 0);
	assert_int_equal(found_len, (size_t)len);
	assert_memory_equal(found, stored, (size_t)len);
	free(found);

	assert_int_equal(tsr_p11_cert_find(f->s, none, sizeof(none), &found, &found_len),
	    TSR_ERR_NOT_FOUND);
	assert_null(found);
	assert_int_equal(found_len, 0);
	assert_int_equal(tsr_p11_cert_find(f->s, NULL, 0, &found, &found_len), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_cert_find(f->s, id, 0, &found, &found_len), TSR_ERR_INVALID);
	OPENSSL_free(stored);
	OPENSSL_free(older);
}

/* Undoing a failed init: the key pair and the certificate beside it go. */
static void test_destroy_by_id(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0xde, 0xad, 0x01 }, other[] = { 0xde, 0xad, 0x02 };
	struct tsr_p11_key *k, *keep;
	uint8_t *der;
	int len, n = -1;

	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "undo", id, sizeof(id), &k), 0);
	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "keep", other, sizeof(other),
	    &keep), 0);
	der = make_cert(&len);
	assert_int_equal(tsr_p11_cert_store(f->s, "undo", id, sizeof(id), der, (size_t)len), 0);
	assert_int_equal(tsr_p11_destroy_by_id(f->s, id, sizeof(id), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(count_objects(f->s, CKO_PRIVATE_KEY, id, sizeof(id), NULL), 0);
	assert_int_equal(count_objects(f->s, CKO_PUBLIC_KEY, id, sizeof(id), NULL), 0);
	assert_int_equal(count_objects(f->s, CKO_CERTIFICATE, id, sizeof(id), NULL), 0);
	/* other objects are untouched; nothing left is not an error */
	assert_int_equal(count_objects(f->s, CKO_PRIVATE_KEY, other, sizeof(other), NULL), 1);
	assert_int_equal(tsr_p11_destroy_by_id(f->s, id, sizeof(id), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tsr_p11_destroy_by_id(f->s, NULL, 0, &n), TSR_ERR_INVALID);
	tsr_p11_key_free(k);
	tsr_p11_key_free(keep);
	OPENSSL_free(der);
}

/* The listing sees each object with what its class adds; renaming moves
 * a key pair and its certificate to a new id and label together; data
 * objects go by application and label. */
static void test_objects_rename(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0x0b, 1 }, id2[] = { 0x0b, 2 };
	CK_OBJECT_CLASS data = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &data, sizeof(data) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_APPLICATION, "Tessera", 7 },
		{ CKA_LABEL, "marker", 6 },
		{ CKA_VALUE, "1", 1 },
	};
	struct tsr_p11_object *o;
	struct tsr_p11_key *k;
	CK_OBJECT_HANDLE h;
	const uint8_t *kid;
	uint8_t *der, *found;
	size_t n, found_len, kid_len;
	int len, seen = 0, changed, gone;

	assert_int_equal(tsr_p11_keygen(f->s, TSR_KEY_EC_P256, "old", id, sizeof(id), &k), 0);
	tsr_p11_key_free(k);
	der = make_cert(&len);
	assert_int_equal(tsr_p11_cert_store(f->s, "old", id, sizeof(id), der, (size_t)len), 0);
	assert_int_equal(f->s->mod->fn->C_CreateObject(f->s->h, tmpl, TSR_ARRAY_LEN(tmpl), &h),
	    CKR_OK);

	assert_int_equal(tsr_p11_objects(f->s, &o, &n), 0);
	for (size_t i = 0; i < n; i++) {
		bool ours = o[i].id_len == sizeof(id) && memcmp(o[i].id, id, sizeof(id)) == 0;

		if (ours && o[i].cls == TSR_P11_PRIVATE_KEY) {
			assert_string_equal(o[i].label, "old");
			assert_int_equal(o[i].key_type, TSR_KEY_EC_P256);
			assert_true(o[i].sensitive && o[i].never_extractable && !o[i].extractable);
			seen |= 1;
		} else if (ours && o[i].cls == TSR_P11_PUBLIC_KEY) {
			assert_int_equal(o[i].key_type, TSR_KEY_EC_P256);
			seen |= 2;
		} else if (ours && o[i].cls == TSR_P11_CERTIFICATE) {
			assert_int_equal(o[i].der_len, (size_t)len);
			assert_memory_equal(o[i].der, der, (size_t)len);
			seen |= 4;
		} else if (o[i].cls == TSR_P11_DATA) {
			assert_string_equal(o[i].application, "Tessera");
			assert_string_equal(o[i].label, "marker");
			assert_int_equal(o[i].id_len, 0);
			seen |= 8;
		}
	}
	tsr_p11_objects_free(o, n);
	assert_int_equal(seen, 15);

	/* the three objects of id move together */
	assert_int_equal(tsr_p11_objects_rename(f->s, id, sizeof(id), id2, sizeof(id2), "new",
	    &changed), 0);
	assert_int_equal(changed, 3);
	assert_int_equal(count_objects(f->s, CKO_PRIVATE_KEY, id, sizeof(id), NULL), 0);
	assert_int_equal(tsr_p11_key_find(f->s, "new", id2, sizeof(id2), &k), 0);
	kid = tsr_p11_key_id(k, &kid_len);
	assert_int_equal(kid_len, sizeof(id2));
	assert_memory_equal(kid, id2, sizeof(id2));
	tsr_p11_key_free(k);
	assert_int_equal(tsr_p11_cert_find(f->s, id2, sizeof(id2), &found, &found_len), 0);
	assert_memory_equal(found, der, (size_t)len);
	free(found);
	/* a label alone; nothing to rename; bad arguments */
	assert_int_equal(tsr_p11_objects_rename(f->s, id2, sizeof(id2), NULL, 0, "newer",
	    &changed), 0);
	assert_int_equal(changed, 3);
	assert_int_equal(tsr_p11_key_find(f->s, "newer", NULL, 0, &k), 0);
	tsr_p11_key_free(k);
	assert_int_equal(tsr_p11_objects_rename(f->s, id, sizeof(id), NULL, 0, "x", &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(tsr_p11_objects_rename(f->s, id2, sizeof(id2), NULL, 0, NULL, &changed),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_objects_rename(f->s, NULL, 0, id, 1, NULL, &changed),
	    TSR_ERR_INVALID);

	assert_int_equal(tsr_p11_data_destroy(f->s, "Tessera", "other", &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(tsr_p11_data_destroy(f->s, "Tessera", "marker", &gone), 0);
	assert_int_equal(gone, 1);
	assert_int_equal(tsr_p11_data_destroy(f->s, "Tessera", "marker", &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(tsr_p11_data_destroy(f->s, NULL, "marker", &gone), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_destroy_by_id(f->s, id2, sizeof(id2), &gone), 0);
	OPENSSL_free(der);
}

/* Changing the user PIN: the old one must be right, the new one fit the
 * token; afterwards only the new one logs in.  Runs last: it logs out. */
static void test_set_pin(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tsr_p11_set_pin(f->s, "wrong-pin", "new-pin-5678"), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "wrong current PIN"));
	assert_int_equal(tsr_p11_set_pin(f->s, USER_PIN, "123"), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "takes 4 to 255"));
	assert_int_equal(tsr_p11_set_pin(f->s, USER_PIN, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_p11_set_pin(f->s, USER_PIN, "new-pin-5678"), 0);
	assert_int_equal(f->s->mod->fn->C_Logout(f->s->h), CKR_OK);
	assert_int_equal(tsr_p11_login(f->s, USER_PIN), TSR_ERR_PIN);
	assert_int_equal(tsr_p11_login(f->s, "new-pin-5678"), 0);
}

static void test_persist(void **state)
{
	struct fixture *f = *state;
	const uint8_t id[] = { 0x7e, 2 };
	struct tsr_p11_key *k;
	EVP_PKEY *before, *after;

	assert_int_equal(tsr_p11_key_find(f->s, "ec-p384", id, sizeof(id), &k), 0);
	assert_int_equal(tsr_p11_key_public(k, &before), 0);
	tsr_p11_key_free(k);
	tsr_p11_close(f->s);
	f->s = NULL;
	tsr_p11_module_unload(f->mod);
	f->mod = NULL;

	assert_int_equal(tsr_p11_module_load(f->module_path, &f->mod), 0);
	f->s = open_label(f->mod, LABEL);
	/* private keys are invisible before login, and the detail says so */
	assert_int_equal(tsr_p11_key_find(f->s, "ec-p384", NULL, 0, &k), TSR_ERR_NOT_FOUND);
	assert_non_null(strstr(tsr_error_detail(), "not logged in"));
	assert_int_equal(tsr_p11_login(f->s, USER_PIN), 0);
	assert_int_equal(tsr_p11_key_find(f->s, "ec-p384", NULL, 0, &k), 0);
	assert_int_equal(tsr_p11_key_type(k), TSR_KEY_EC_P384);
	check_protected(k);
	assert_int_equal(tsr_p11_key_public(k, &after), 0);
	assert_int_equal(EVP_PKEY_eq(before, after), 1);
	sign_and_verify(k, after, EVP_sha384());
	tsr_p11_key_free(k);
	EVP_PKEY_free(before);
	EVP_PKEY_free(after);
}

int main(void)
{
	const struct CMUnitTest uri_tests[] = {
		cmocka_unit_test(test_uri_full),
		cmocka_unit_test(test_uri_minimal_and_lenient),
		cmocka_unit_test(test_uri_pin_source),
		cmocka_unit_test(test_uri_bad),
		cmocka_unit_test(test_uri_limits),
		cmocka_unit_test(test_uri_for_token),
	};
	/* these run in order on one token; each builds on the one before */
	const struct CMUnitTest token_tests[] = {
		cmocka_unit_test(test_module_load_errors),
		cmocka_unit_test(test_token_open),
		cmocka_unit_test(test_token_init_rules),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_keygen_ec_p256),
		cmocka_unit_test(test_keygen_ec_p384),
		cmocka_unit_test(test_keygen_rsa_2048),
		cmocka_unit_test(test_keygen_rsa_3072),
		cmocka_unit_test(test_keygen_rsa_4096),
		cmocka_unit_test(test_keygen_refusals),
		cmocka_unit_test(test_key_find),
		cmocka_unit_test(test_key_destroy),
		cmocka_unit_test(test_cert_store),
		cmocka_unit_test(test_cert_find),
		cmocka_unit_test(test_destroy_by_id),
		cmocka_unit_test(test_objects_rename),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_set_pin),
	};
	int failed = cmocka_run_group_tests_name("pkcs11 URIs", uri_tests, NULL, NULL);

	failed += cmocka_run_group_tests_name("pkcs11 on SoftHSM2", token_tests, token_setup,
	    token_teardown);
	return failed;
}
