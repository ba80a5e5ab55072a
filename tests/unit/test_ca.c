/*
 * test_ca.c - the CA layer against real SoftHSM2 tokens and SQLite files:
 * init, the refusal of an existing home, external tokens and their PINs,
 * issuance, and refusals that leave nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <glob.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "pkcs11/p11.h"

static const char *module(void)
{
	const char *m = getenv("SOFTHSM_MODULE");

	return m ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/tessera-test-ca-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static char *join(const char *a, const char *b)
{
	char *p = NULL;

	assert_int_equal(tsr_path_join(a, b, &p), 0);
	return p;
}

static void init_home(const char *home, enum tsr_key_type kt)
{
	struct tsr_init_options o;

	tsr_init_options_default(&o);
	o.home = home;
	o.key_type = kt;
	o.organization = "Test Clinic";
	o.country = "US";
	o.softhsm_module = module();
	assert_int_equal(tsr_ca_init(&o, "test"), 0);
}

static int64_t cert_rows(struct tsr_ca *ca)
{
	int64_t n = -1;

	assert_int_equal(tsr_store_cert_count(tsr_ca_store(ca), &n), 0);
	return n;
}

struct last_audit {
	char action[64];
	char outcome[32];
	char detail[512];
	int64_t n;
};

static int keep_last(const struct tsr_audit_record *r, void *ctx)
{
	struct last_audit *l = ctx;

	snprintf(l->action, sizeof(l->action), "%s", r->action);
	snprintf(l->outcome, sizeof(l->outcome), "%s", r->outcome);
	snprintf(l->detail, sizeof(l->detail), "%s", r->detail);
	l->n++;
	return 0;
}

static struct last_audit last_audit(struct tsr_store *st)
{
	struct last_audit l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(tsr_store_audit_iter(st, keep_last, &l), 0);
	return l;
}

static struct tsr_buf csr_for(const char *alg, const char *param)
{
	EVP_PKEY *k = strcmp(alg, "RSA") == 0 ?
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param)) :
	    EVP_PKEY_Q_keygen(NULL, NULL, alg, param);
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	struct tsr_buf b;
	int n;

	assert_non_null(k);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	tsr_buf_init(&b, 1 << 16);
	assert_int_equal(tsr_buf_append(&b, der, (size_t)n), 0);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return b;
}

/* --------------------------------------------------------------- init */

/* text with its commented-out settings ("# key = value", "# [verifier x]")
 * made live: what an administrator gets by removing the "# ". */
static char *uncomment_examples(const char *text)
{
	char *out = strdup(text), *o = out;
	const char *p = text;

	assert_non_null(out);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n"), key;
		const char *rest;

		if (n > 2 && p[0] == '#' && p[1] == ' ') {
			rest = p + 2;
			key = strspn(rest, "abcdefghijklmnopqrstuvwxyz_");
			if ((key > 0 && strncmp(rest + key, " = ", 3) == 0) ||
			    strncmp(rest, "[verifier ", 10) == 0) {
				p = rest;
				n -= 2;
			}
		}
		memcpy(o, p, n + (p[n] == '\n'));
		o += n + (p[n] == '\n');
		p += n + (p[n] == '\n');
	}
	*o = '\0';
	return out;
}

static void check_init_config(const char *home, const struct tsr_config *c)
{
	char *real = realpath(home, NULL), *outbox = join(real, "outbox"), *live, *conf;
	struct tsr_config ex;
	struct tsr_buf text;

	/* the [ra] and [mail] sections init writes hold the defaults */
	assert_string_equal(c->home, real);
	assert_int_equal(c->ra.max_failures, 5);
	assert_string_equal(c->ra.agreement_version, "2026-11");
	assert_string_equal(c->mail.outbox, outbox);
	assert_int_equal(c->n_verifiers, 0);
	/* and every example in the comments is valid once uncommented */
	conf = join(home, "tessera.conf");
	tsr_buf_init(&text, 1 << 20);
	assert_int_equal(tsr_file_read(conf, 1 << 20, &text), 0);
	assert_int_equal(tsr_buf_append(&text, "", 1), 0);
	live = uncomment_examples((const char *)text.data);
	if (tsr_config_parse(live, strlen(live), real, &ex) != 0)
		fail_msg("uncommented examples: %s", tsr_error_detail());
	assert_non_null(tsr_config_verifier(&ex, "epcs"));
	assert_non_null(ex.mail.smtp_url);
	assert_non_null(ex.ra.password_list);
	tsr_config_free(&ex);
	tsr_buf_free(&text);
	free(live);
	free(conf);
	free(outbox);
	free(real);
}

static void test_init_creates_home(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca");
	const char *files[] = { "tessera.conf", "tessera.db", "token.pin", "softhsm2.conf",
		"certs/root.pem", "certs/issuing.pem", "certs/ocsp.pem", "certs/chain.pem" };
	struct tsr_audit_report rep;
	struct tsr_ca *ca = NULL;
	struct last_audit l;
	struct stat st;

	(void)state;
	init_home(home, TSR_KEY_EC_P256);
	for (size_t i = 0; i < TSR_ARRAY_LEN(files); i++) {
		char *p = join(home, files[i]);

		assert_int_equal(stat(p, &st), 0);
		if (strcmp(files[i], "tessera.db") == 0 || strcmp(files[i], "token.pin") == 0)
			assert_int_equal(st.st_mode & 0077, 0);
		free(p);
	}
	/* nothing but the home: the staging directory is gone */
	assert_int_equal(tsr_ca_open(home, &ca), 0);
	assert_int_equal(tsr_ca_config(ca)->products.n, 8);
	check_init_config(home, tsr_ca_config(ca));
	assert_int_equal(cert_rows(ca), 3);   /* root, issuing, OCSP */
	assert_int_equal(X509_check_issued((X509 *)tsr_ca_root_cert(ca),
	    (X509 *)tsr_ca_issuing_cert(ca)), X509_V_OK);
	assert_int_equal(tsr_audit_verify(tsr_ca_store(ca), &rep), 0);
	l = last_audit(tsr_ca_store(ca));
	assert_string_equal(l.action, "ca.init");
	assert_string_equal(l.outcome, "success");
	assert_int_equal(l.n, 7);   /* 3 keys, 3 certificates, init */
	/* the keys are on the token and can sign */
	assert_int_equal(tsr_ca_login(ca, "test"), 0);
	tsr_ca_close(ca);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(home);
	free(dir);
}

static void test_init_refuses_existing_home(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca"), *conf = join(home, "tessera.conf");
	struct tsr_init_options o;
	struct tsr_ca *ca = NULL;
	struct tsr_buf before, after;
	struct last_audit l;

	(void)state;
	init_home(home, TSR_KEY_EC_P256);
	tsr_buf_init(&before, 1 << 20);
	tsr_buf_init(&after, 1 << 20);
	assert_int_equal(tsr_file_read(conf, 1 << 20, &before), 0);
	tsr_init_options_default(&o);
	o.home = home;
	o.softhsm_module = module();
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_EXISTS);
	assert_non_null(strstr(tsr_error_detail(), "already exists"));
	assert_int_equal(tsr_file_read(conf, 1 << 20, &after), 0);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	assert_int_equal(tsr_ca_open(home, &ca), 0);
	l = last_audit(tsr_ca_store(ca));
	assert_string_equal(l.action, "ca.init");
	assert_string_equal(l.outcome, "refused");
	assert_int_equal(cert_rows(ca), 3);
	tsr_ca_close(ca);
	/* a non-empty directory that is not a home is refused too */
	free(conf);
	conf = join(dir, "other");
	assert_int_equal(mkdir(conf, 0700), 0);
	free(home);
	home = join(conf, "file");
	assert_int_equal(tsr_file_create(home, "x", 1, 0600), 0);
	o.home = conf;
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_EXISTS);
	tsr_buf_free(&before);
	tsr_buf_free(&after);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(home);
	free(conf);
	free(dir);
}

static void test_init_bad_options_leave_nothing(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca");
	struct tsr_init_options o;

	(void)state;
	tsr_init_options_default(&o);
	o.home = home;
	o.softhsm_module = module();
	o.key_type = TSR_KEY_RSA_2048;
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_KEY);
	o.key_type = TSR_KEY_EC_P256;
	o.country = "USA";
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_INVALID);
	o.country = NULL;
	o.ocsp_days = 121;
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_INVALID);
	o.ocsp_days = 90;
	o.issuing_days = 4000;
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_INVALID);
	o.issuing_days = 3650;
	o.softhsm_module = "/nonexistent/libsofthsm2.so";
	assert_int_not_equal(tsr_ca_init(&o, "test"), 0);
	assert_false(tsr_file_exists(home));
	/* the parent holds nothing either: no staging directory left */
	assert_int_equal(rmdir(dir), 0);
	free(home);
	free(dir);
}

/* An external token: made here as an HSM administrator would. */
static char *make_external_token(const char *dir, const char *pin)
{
	char *conf = join(dir, "hsm.conf"), *tokens = join(dir, "hsm-tokens");
	struct tsr_p11_module *mod = NULL;
	char text[512];

	assert_int_equal(mkdir(tokens, 0700), 0);
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", tokens);
	assert_int_equal(tsr_file_create(conf, text, strlen(text), 0600), 0);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	assert_int_equal(tsr_p11_module_load(module(), &mod), 0);
	assert_int_equal(tsr_p11_token_init(mod, "My HSM", "so-secret", pin), 0);
	tsr_p11_module_unload(mod);
	free(tokens);
	return conf;
}

static void test_init_external_token(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca"), *pinfile = join(dir, "pin");
	char *conf = make_external_token(dir, "1234-right");
	struct tsr_init_options o;
	struct tsr_ca *ca = NULL;

	(void)state;
	tsr_init_options_default(&o);
	o.home = home;
	o.module_path = module();
	o.token_uri = "pkcs11:token=My%20HSM";
	o.pin_file = pinfile;
	o.key_type = TSR_KEY_EC_P256;
	assert_int_equal(tsr_file_create(pinfile, "0000-wrong\n", 11, 0600), 0);
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "PIN"));
	assert_false(tsr_file_exists(home));
	assert_int_equal(tsr_file_write(pinfile, "1234-right\n", 11, 0600), 0);
	o.token_uri = "pkcs11:token=No%20Such%20Token";
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_NOT_FOUND);
	assert_false(tsr_file_exists(home));
	o.token_uri = "pkcs11:token=My%20HSM?pin-value=1234-right";
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "must not carry a PIN"));
	o.token_uri = "pkcs11:token=My%20HSM";
	assert_int_equal(chmod(pinfile, 0644), 0);
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "chmod 600"));
	assert_false(tsr_file_exists(home));
	assert_int_equal(chmod(pinfile, 0600), 0);
	/* a relative --pin-file is stored as an absolute path: the home works
	 * from any directory */
	assert_int_equal(chdir(dir), 0);
	o.pin_file = "pin";
	assert_int_equal(tsr_ca_init(&o, "test"), 0);
	assert_int_equal(chdir("/"), 0);
	/* the home has no token of its own, and works with the external one */
	free(pinfile);
	pinfile = join(home, "tokens");
	assert_false(tsr_file_exists(pinfile));
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	assert_int_equal(tsr_ca_open(home, &ca), 0);
	assert_int_equal(tsr_ca_login(ca, "test"), 0);
	tsr_ca_close(ca);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(conf);
	free(pinfile);
	free(home);
	free(dir);
}

/* A clock that jumps three days after its first reading: init takes its
 * one "now" first, so the first certificate then fails lint (notBefore too
 * far in the past) after the keys are already on the token. */
static time_t jumping_clock(void *ctx)
{
	int *calls = ctx;

	return 1790000000 + ((*calls)++ > 0 ? 3 * 86400 : 0);
}

static void test_init_failure_cleans_external_token(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca"), *pinfile = join(dir, "pin");
	char *conf = make_external_token(dir, "1234-right");
	const char *labels[] = { "tessera root CA", "tessera issuing CA", "tessera OCSP responder" };
	struct tsr_p11_module *mod = NULL;
	struct tsr_p11_session *sess = NULL;
	struct tsr_p11_uri uri;
	struct tsr_p11_key *k = NULL;
	struct tsr_init_options o;
	int calls = 0;

	(void)state;
	assert_int_equal(tsr_file_create(pinfile, "1234-right\n", 11, 0600), 0);
	tsr_init_options_default(&o);
	o.home = home;
	o.module_path = module();
	o.token_uri = "pkcs11:token=My%20HSM";
	o.pin_file = pinfile;
	o.key_type = TSR_KEY_EC_P256;
	tsr_clock_set(jumping_clock, &calls);
	assert_int_equal(tsr_ca_init(&o, "test"), TSR_ERR_LINT);
	tsr_clock_set(NULL, NULL);
	assert_non_null(strstr(tsr_error_detail(), "notBefore"));
	assert_false(tsr_file_exists(home));
	/* the token holds nothing init made: no key, no certificate */
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	assert_int_equal(tsr_p11_uri_parse("pkcs11:token=My%20HSM", &uri), 0);
	assert_int_equal(tsr_p11_module_load(module(), &mod), 0);
	assert_int_equal(tsr_p11_open(mod, &uri, &sess), 0);
	assert_int_equal(tsr_p11_login(sess, "1234-right"), 0);
	for (size_t i = 0; i < TSR_ARRAY_LEN(labels); i++)
		assert_int_equal(tsr_p11_key_find(sess, labels[i], NULL, 0, &k), TSR_ERR_NOT_FOUND);
	tsr_p11_close(sess);
	tsr_p11_module_unload(mod);
	tsr_p11_uri_free(&uri);
	/* and no staging directory is left beside the home */
	{
		char pattern[512];
		glob_t g;

		snprintf(pattern, sizeof(pattern), "%s.init-*", home);
		assert_int_equal(glob(pattern, 0, NULL, &g), GLOB_NOMATCH);
	}
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(conf);
	free(pinfile);
	free(home);
	free(dir);
}

/* --------------------------------------------------------------- issuance */

struct fixture {
	char *dir;
	char *home;
	struct tsr_ca *ca;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tmpdir();
	f->home = join(f->dir, "ca");
	init_home(f->home, TSR_KEY_EC_P384);
	assert_int_equal(tsr_ca_open(f->home, &f->ca), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tsr_ca_close(f->ca);
	assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	free(f->home);
	free(f->dir);
	free(f);
	return 0;
}

static void test_issue_every_product(void **state)
{
	struct fixture *f = *state;
	const struct {
		const char *product, *subject, *san;
	} cases[] = {
		{ "epcs", "CN=Jane Doe,C=US", NULL },
		{ "identity", "CN=John Roe,C=US", NULL },
		{ "eca-medium", "CN=Ann Contractor,O=Acme,C=US", "email:ann@acme.example" },
		{ "tls-server", "CN=www.example.org", "dns:www.example.org" },
		{ "smime", "CN=Bob,C=US", "email:bob@example.org" },
		{ "code-signing", "CN=Acme Software,O=Acme,C=US", NULL },
		{ "document-signing", "CN=Jane Doe,C=US", NULL },
		{ "device", "CN=sensor-1.example.org", "dns:sensor-1.example.org" },
	};
	X509_STORE *trust = X509_STORE_new();
	STACK_OF(X509) *chain = sk_X509_new_null();

	X509_STORE_add_cert(trust, (X509 *)tsr_ca_root_cert(f->ca));
	sk_X509_push(chain, (X509 *)tsr_ca_issuing_cert(f->ca));
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		struct tsr_buf csr = csr_for("EC", "P-256");
		struct tsr_issue_request req = { .product = cases[i].product, .csr = csr.data,
			.csr_len = csr.len, .subject = cases[i].subject, .sans = &cases[i].san,
			.n_sans = cases[i].san ? 1 : 0, .hardware_verified_by = "officer Alice" };
		const struct tsr_product *prod = tsr_product_find(&tsr_ca_config(f->ca)->products,
		    cases[i].product);
		struct tsr_cert_record rec, stored;
		const unsigned char *p;
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		X509 *x;

		if (tsr_ca_issue(f->ca, "test", &req, &rec) != 0)
			fail_msg("%s: %s", cases[i].product, tsr_error_detail());
		assert_string_equal(rec.product, cases[i].product);
		if (prod->storage == TSR_STORAGE_HARDWARE) {
			struct last_audit l = last_audit(tsr_ca_store(f->ca));

			assert_string_equal(l.action, "cert.hardware-key");
			assert_non_null(strstr(l.detail, "verified by officer Alice"));
			assert_non_null(strstr(l.detail, rec.serial));
		}
		/* exactly validity_days, both ends counted (RFC 5280 4.1.2.5) */
		assert_int_equal(rec.not_after - rec.not_before + 1,
		    (int64_t)prod->validity_days * 86400);
		assert_string_equal(rec.role, "subscriber");
		/* stored before it is returned */
		assert_int_equal(tsr_store_cert_get(tsr_ca_store(f->ca), rec.serial, &stored), 0);
		assert_int_equal(stored.der_len, rec.der_len);
		assert_memory_equal(stored.der, rec.der, rec.der_len);
		p = rec.der;
		x = d2i_X509(NULL, &p, (long)rec.der_len);
		assert_non_null(x);
		X509_STORE_CTX_init(ctx, trust, x, chain);
		if (X509_verify_cert(ctx) != 1)
			fail_msg("%s: %s", cases[i].product,
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		X509_STORE_CTX_free(ctx);
		X509_free(x);
		tsr_cert_record_clear(&rec);
		tsr_cert_record_clear(&stored);
		tsr_buf_free(&csr);
	}
	assert_int_equal(cert_rows(f->ca), 3 + 8);
	/* the last product (device) is software: its issuance is the last record */
	assert_string_equal(last_audit(tsr_ca_store(f->ca)).action, "cert.issue");
	X509_STORE_free(trust);
	sk_X509_free(chain);
}

/* Each refusal: the right code, an audit record, no row left behind. */
static void expect_refusal(struct fixture *f, struct tsr_issue_request *req, int code,
    const char *needle)
{
	struct tsr_cert_record rec;
	struct tsr_audit_report rep;
	struct last_audit l;
	int64_t before = cert_rows(f->ca);
	int r = tsr_ca_issue(f->ca, "test", req, &rec);

	if (r != code)
		fail_msg("expected %d got %d: %s", code, r, tsr_error_detail());
	if (strstr(tsr_error_detail(), needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, tsr_error_detail());
	assert_int_equal(cert_rows(f->ca), before);
	l = last_audit(tsr_ca_store(f->ca));
	assert_string_equal(l.action, "cert.issue");
	assert_string_equal(l.outcome, "refused");
	assert_int_equal(tsr_audit_verify(tsr_ca_store(f->ca), &rep), 0);
}

static void test_issue_refusals(void **state)
{
	struct fixture *f = *state;
	struct tsr_buf good = csr_for("EC", "P-256"), rsa1024 = csr_for("RSA", "1024");
	struct tsr_buf k1 = csr_for("EC", "secp256k1"), bad = csr_for("EC", "P-256");
	const char *ou[] = { "dns:www.example.org" };
	struct tsr_issue_request req = { .product = "epcs", .csr = good.data, .csr_len = good.len,
		.subject = "CN=Jane Doe,C=US" };

	/* a hardware product needs someone to vouch for the key's token */
	expect_refusal(f, &req, TSR_ERR_POLICY, "hardware");
	req.hardware_verified_by = "officer Alice";
	req.product = "no-such-product";
	expect_refusal(f, &req, TSR_ERR_NOT_FOUND, "unknown product");
	req.product = NULL;
	expect_refusal(f, &req, TSR_ERR_INVALID, "product");
	req.product = "epcs";
	req.subject = "CN=Jane Doe,OU=Pharmacy,C=US";
	expect_refusal(f, &req, TSR_ERR_POLICY, "OU");
	req.subject = "CN=Jane Doe";
	expect_refusal(f, &req, TSR_ERR_POLICY, "C");
	req.subject = "CN=Jane Doe,C=US";
	req.sans = ou;
	req.n_sans = 1;
	expect_refusal(f, &req, TSR_ERR_POLICY, "dns");
	req.product = "tls-server";
	req.subject = "CN=www.example.org";
	req.sans = NULL;
	req.n_sans = 0;
	expect_refusal(f, &req, TSR_ERR_POLICY, "SAN");
	req.product = "epcs";
	req.subject = "CN=Jane Doe,C=US";
	req.csr = rsa1024.data;
	req.csr_len = rsa1024.len;
	expect_refusal(f, &req, TSR_ERR_KEY, "1024");
	req.csr = k1.data;
	req.csr_len = k1.len;
	expect_refusal(f, &req, TSR_ERR_KEY, "secp256k1");
	bad.data[bad.len - 5] ^= 0x01;   /* inside the signature */
	req.csr = bad.data;
	req.csr_len = bad.len;
	expect_refusal(f, &req, TSR_ERR_SIGNATURE, "signature");
	assert_int_equal(tsr_buf_append(&good, "\0", 1), 0);
	req.csr = good.data;
	req.csr_len = good.len;
	expect_refusal(f, &req, TSR_ERR_PARSE, "trailing");
	req.csr_len = good.len - 20;
	expect_refusal(f, &req, TSR_ERR_PARSE, "CSR");
	req.csr_len = TSR_CSR_MAX + 1;
	expect_refusal(f, &req, TSR_ERR_TOO_LARGE, "CSR");
	tsr_buf_free(&good);
	tsr_buf_free(&rsa1024);
	tsr_buf_free(&k1);
	tsr_buf_free(&bad);
}

static void test_issue_wrong_pin(void **state)
{
	struct fixture *f = *state;
	struct tsr_buf csr = csr_for("EC", "P-256");
	struct tsr_issue_request req = { .product = "epcs", .csr = csr.data, .csr_len = csr.len,
		.subject = "CN=Jane Doe,C=US", .hardware_verified_by = "officer Alice" };
	struct tsr_cert_record rec;
	struct tsr_ca *ca = NULL;
	struct last_audit l;
	char *pin = join(f->home, "token.pin");

	assert_int_equal(tsr_file_write(pin, "not-the-pin\n", 12, 0600), 0);
	assert_int_equal(tsr_ca_open(f->home, &ca), 0);
	assert_int_equal(tsr_ca_issue(ca, "test", &req, &rec), TSR_ERR_PIN);
	assert_non_null(strstr(tsr_error_detail(), "PIN"));
	assert_int_equal(cert_rows(ca), 3);
	l = last_audit(tsr_ca_store(ca));
	assert_string_equal(l.action, "token.login");
	assert_string_equal(l.outcome, "failure");
	tsr_ca_close(ca);
	free(pin);
	tsr_buf_free(&csr);
}

/* ------------------------------------------------------------ server cert */

static time_t clock_at(void *ctx)
{
	return *(time_t *)ctx;
}

static void fingerprint(const char *path, char out[65])
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char md[32];
	unsigned int n = 0;

	assert_non_null(x);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
	tsr_hex_encode(md, n, out);
	X509_free(x);
	BIO_free(bio);
}

/* ------------------------------------------------------------ revocation */

struct audit_row {
	char action[64], object[64], outcome[32], detail[512];
};

static int keep_row(const struct tsr_audit_record *r, void *ctx)
{
	struct audit_row *a = ctx;

	snprintf(a->action, sizeof(a->action), "%s", r->action);
	snprintf(a->object, sizeof(a->object), "%s", r->object);
	snprintf(a->outcome, sizeof(a->outcome), "%s", r->outcome);
	snprintf(a->detail, sizeof(a->detail), "%s", r->detail);
	return 0;
}

/* The last audit record is action on object with outcome; the chain holds. */
static void expect_audit(struct fixture *f, const char *action, const char *object,
    const char *outcome, const char *needle)
{
	struct tsr_audit_report rep;
	struct audit_row a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(tsr_store_audit_iter(tsr_ca_store(f->ca), keep_row, &a), 0);
	assert_string_equal(a.action, action);
	assert_string_equal(a.object, object);
	assert_string_equal(a.outcome, outcome);
	if (strstr(a.detail, needle) == NULL)
		fail_msg("'%s' not in audit detail '%s'", needle, a.detail);
	assert_int_equal(tsr_audit_verify(tsr_ca_store(f->ca), &rep), 0);
}

static void issue_one(struct fixture *f, char serial[TSR_SERIAL_HEX_MAX + 1], int64_t *nb)
{
	struct tsr_buf csr = csr_for("EC", "P-256");
	struct tsr_issue_request req = { .product = "epcs", .csr = csr.data,
		.csr_len = csr.len, .subject = "CN=Jane Doe,C=US",
		.hardware_verified_by = "officer Alice" };
	struct tsr_cert_record rec;

	if (tsr_ca_issue(f->ca, "test", &req, &rec) != 0)
		fail_msg("issue: %s", tsr_error_detail());
	snprintf(serial, TSR_SERIAL_HEX_MAX + 1, "%s", rec.serial);
	*nb = rec.not_before;
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&csr);
}

static void expect_status(struct fixture *f, const char *serial, const char *status,
    int64_t revoked_at, const char *reason, int64_t invalidity_date)
{
	struct tsr_cert_record rec;

	assert_int_equal(tsr_store_cert_get(tsr_ca_store(f->ca), serial, &rec), 0);
	assert_string_equal(rec.status, status);
	assert_int_equal(rec.revoked_at, revoked_at);
	assert_string_equal(rec.revocation_reason, reason);
	assert_int_equal(rec.invalidity_date, invalidity_date);
	tsr_cert_record_clear(&rec);
}

static void expect_code(int got, int want, const char *needle)
{
	if (got != want)
		fail_msg("expected %d got %d: %s", want, got, tsr_error_detail());
	if (strstr(tsr_error_detail(), needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, tsr_error_detail());
}

static int first_ca_cert(const struct tsr_cert_record *rec, void *ctx)
{
	snprintf(ctx, TSR_SERIAL_HEX_MAX + 1, "%s", rec->serial);
	return 1;
}

static void test_revoke(void **state)
{
	struct fixture *f = *state;
	char a[TSR_SERIAL_HEX_MAX + 1], b[TSR_SERIAL_HEX_MAX + 1], upper[TSR_SERIAL_HEX_MAX + 1];
	struct tsr_cert_filter cf = { .role = "ca" };
	char ca_serial[TSR_SERIAL_HEX_MAX + 1] = "";
	int64_t nb_a, nb_b;
	time_t now;

	issue_one(f, a, &nb_a);
	issue_one(f, b, &nb_b);
	now = (time_t)nb_a + 3600;
	tsr_clock_set(clock_at, &now);

	/* Bad reasons and dates change nothing and are audited. */
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, NULL, 0), TSR_ERR_INVALID,
	    "reason is required");
	expect_audit(f, "cert.revoke", a, "refused", "reason is required");
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "stolen", 0), TSR_ERR_INVALID,
	    "unknown revocation reason 'stolen'");
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "certificateHold", 0),
	    TSR_ERR_INVALID, "tessera cert suspend");
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "removeFromCRL", 0),
	    TSR_ERR_INVALID, "removeFromCRL");
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "keyCompromise", now + 1),
	    TSR_ERR_INVALID, "in the future");
	expect_audit(f, "cert.revoke", a, "refused", "in the future");
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "keyCompromise", nb_a - 1),
	    TSR_ERR_INVALID, "before the certificate");
	expect_status(f, a, "valid", 0, "", 0);

	/* Unknown serial; the CA's own certificates. */
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", "7777", "superseded", 0),
	    TSR_ERR_NOT_FOUND, "no certificate");
	expect_audit(f, "cert.revoke", "7777", "refused", "no certificate");
	expect_code(tsr_ca_suspend(f->ca, NULL, "cli:alice", "not-hex"), TSR_ERR_INVALID,
	    "hex");
	assert_int_equal(tsr_store_cert_list(tsr_ca_store(f->ca), &cf, first_ca_cert, ca_serial), 1);
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", ca_serial, "cACompromise", 0),
	    TSR_ERR_POLICY, "only subscriber");
	expect_audit(f, "cert.revoke", ca_serial, "refused", "only subscriber");
	expect_status(f, ca_serial, "valid", 0, "", 0);

	/* Resume needs a suspension. */
	expect_code(tsr_ca_resume(f->ca, NULL, "cli:alice", a), TSR_ERR_POLICY, "not suspended");
	expect_audit(f, "cert.resume", a, "refused", "not suspended");

	/* Revoke: time now, reason, invalidity date; the serial in any case. */
	for (size_t i = 0; i <= strlen(a); i++)
		upper[i] = (char)(a[i] >= 'a' && a[i] <= 'f' ? a[i] - 'a' + 'A' : a[i]);
	assert_int_equal(tsr_ca_revoke(f->ca, NULL, "cli:alice", upper, "keyCompromise",
	    nb_a + 60), 0);
	expect_status(f, a, "revoked", now, "keyCompromise", nb_a + 60);
	expect_audit(f, "cert.revoke", a, "success", "valid -> revoked, reason keyCompromise");

	/* Revoked is final, and the time is recorded once. */
	now += 600;
	expect_code(tsr_ca_revoke(f->ca, NULL, "cli:alice", a, "superseded", 0), TSR_ERR_POLICY,
	    "cannot be un-revoked");
	expect_audit(f, "cert.revoke", a, "refused", "cannot be un-revoked");
	expect_code(tsr_ca_resume(f->ca, NULL, "cli:alice", a), TSR_ERR_POLICY,
	    "cannot be un-revoked");
	expect_code(tsr_ca_suspend(f->ca, NULL, "cli:alice", a), TSR_ERR_POLICY,
	    "cannot be un-revoked");
	expect_status(f, a, "revoked", now - 600, "keyCompromise", nb_a + 60);

	/* Suspend and resume; suspend twice refused. */
	assert_int_equal(tsr_ca_suspend(f->ca, NULL, "cli:bob", b), 0);
	expect_status(f, b, "suspended", now, "certificateHold", 0);
	expect_audit(f, "cert.suspend", b, "success", "reason certificateHold");
	expect_code(tsr_ca_suspend(f->ca, NULL, "cli:bob", b), TSR_ERR_POLICY, "already suspended");
	expect_audit(f, "cert.suspend", b, "refused", "already suspended");
	assert_int_equal(tsr_ca_resume(f->ca, tsr_ca_store(f->ca), "cli:bob", b), 0);
	expect_status(f, b, "valid", 0, "", 0);
	expect_audit(f, "cert.resume", b, "success", "suspended -> valid");

	/* A held certificate revoked for good keeps the time of its hold. */
	now += 100;
	assert_int_equal(tsr_ca_suspend(f->ca, NULL, "cli:bob", b), 0);
	now += 100;
	assert_int_equal(tsr_ca_revoke(f->ca, NULL, "cli:bob", b, "cessationOfOperation", 0), 0);
	expect_status(f, b, "revoked", now - 100, "cessationOfOperation", 0);
	expect_audit(f, "cert.revoke", b, "success", "suspended -> revoked");
	expect_code(tsr_ca_resume(f->ca, NULL, "cli:bob", b), TSR_ERR_POLICY,
	    "cannot be un-revoked");
	tsr_clock_set(NULL, NULL);
}

/* ------------------------------------------------------------ the OCSP responder */

/* The DER request about serial (hex) under issuer's name and key, SHA-1
 * CertID, with a 16-byte nonce if asked. */
static struct tsr_buf ocsp_request(const X509 *issuer, const char *serial, bool nonce)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn;
	OCSP_CERTID *id;
	unsigned char *der = NULL;
	struct tsr_buf b;
	int n;

	assert_true(BN_hex2bn(&bn, serial) > 0);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), sn);
	assert_non_null(id);
	assert_non_null(OCSP_request_add0_id(req, id));
	if (nonce)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
	n = i2d_OCSP_REQUEST(req, &der);
	assert_true(n > 0);
	tsr_buf_init(&b, 1 << 16);
	assert_int_equal(tsr_buf_append(&b, der, (size_t)n), 0);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return b;
}

struct ocsp_seen {
	int status;            /* OCSP response status */
	int cert_status;       /* V_OCSP_CERTSTATUS_*, or -1 */
	int reason;
	time_t this_update, revoked_at;
	char responder[TSR_SERIAL_HEX_MAX + 1];   /* the signing certificate's serial */
};

static time_t gt(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

/* Parse a's answer about serial and check its signature chains to the CA. */
static struct ocsp_seen ocsp_read(struct fixture *f, const struct tsr_ocsp_answer *a,
    const char *serial, const struct tsr_buf *request)
{
	const unsigned char *p = a->der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)a->len);
	OCSP_BASICRESP *br;
	OCSP_REQUEST *req;
	OCSP_CERTID *id;
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
	const STACK_OF(X509) *certs;
	struct ocsp_seen s = { .cert_status = -1 };
	BIGNUM *bn;
	char *hex;

	assert_non_null(resp);
	assert_ptr_equal(p, a->der + a->len);
	s.status = OCSP_response_status(resp);
	if (s.status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		OCSP_RESPONSE_free(resp);
		X509_STORE_free(store);
		sk_X509_free(untrusted);
		return s;
	}
	br = OCSP_response_get1_basic(resp);
	assert_non_null(br);
	X509_STORE_add_cert(store, (X509 *)tsr_ca_root_cert(f->ca));
	sk_X509_push(untrusted, (X509 *)tsr_ca_issuing_cert(f->ca));
	if (OCSP_basic_verify(br, untrusted, store, 0) != 1)
		fail_msg("the answer does not verify: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
	p = request->data;
	req = d2i_OCSP_REQUEST(NULL, &p, (long)request->len);
	id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	assert_int_equal(OCSP_resp_find_status(br, id, &s.cert_status, &s.reason, &rev, &tu, &nu),
	    1);
	s.this_update = gt(tu);
	s.revoked_at = rev != NULL ? gt(rev) : 0;
	assert_non_null(nu);
	assert_int_equal(gt(nu) - s.this_update, 24 * 3600);
	certs = OCSP_resp_get0_certs(br);
	assert_int_equal(sk_X509_num(certs), 1);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(sk_X509_value(certs, 0)), NULL);
	hex = BN_bn2hex(bn);
	for (char *c = hex; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(s.responder, sizeof(s.responder), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	(void)serial;
	OCSP_REQUEST_free(req);
	OCSP_BASICRESP_free(br);
	OCSP_RESPONSE_free(resp);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return s;
}

static struct ocsp_seen ocsp_ask(struct fixture *f, struct tsr_ocsp_responder *r,
    const char *serial, bool nonce, struct tsr_ocsp_answer *a)
{
	struct tsr_buf req = ocsp_request(tsr_ca_issuing_cert(f->ca), serial, nonce);
	struct ocsp_seen s;

	if (tsr_ocsp_respond(r, tsr_ca_store(f->ca), req.data, req.len, a) != 0)
		fail_msg("respond: %s", tsr_error_detail());
	s = ocsp_read(f, a, serial, &req);
	tsr_buf_free(&req);
	return s;
}

static void test_ocsp_responder(void **state)
{
	struct fixture *f = *state;
	struct tsr_ocsp_responder *r = NULL;
	struct tsr_ocsp_answer a1, a2;
	struct ocsp_seen s;
	struct tsr_buf req;
	char a[TSR_SERIAL_HEX_MAX + 1], ocsp_serial[TSR_SERIAL_HEX_MAX + 1];
	time_t t0 = time(NULL);
	int64_t nb;
	size_t changed = 0;
	bool rotated = false;

	issue_one(f, a, &nb);
	assert_int_equal(tsr_ocsp_responder_new(f->ca, &r), 0);

	/* good, kept, and the same bytes again */
	s = ocsp_ask(f, r, a, false, &a1);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);
	assert_true(a1.cacheable);
	assert_int_equal(a1.next_update - a1.this_update, 24 * 3600);
	assert_int_equal(strlen(a1.etag), 42);
	snprintf(ocsp_serial, sizeof(ocsp_serial), "%s", s.responder);
	s = ocsp_ask(f, r, a, false, &a2);
	assert_int_equal(a1.len, a2.len);
	assert_memory_equal(a1.der, a2.der, a1.len);
	tsr_ocsp_answer_clear(&a2);

	/* a nonce: signed live and echoed */
	s = ocsp_ask(f, r, a, true, &a2);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);
	assert_false(a2.cacheable);
	tsr_ocsp_answer_clear(&a2);

	/* a revocation shows once the responder follows the store */
	assert_int_equal(tsr_ca_revoke(f->ca, NULL, "test", a, "keyCompromise", 0), 0);
	s = ocsp_ask(f, r, a, false, &a2);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);   /* not yet followed */
	tsr_ocsp_answer_clear(&a2);
	assert_int_equal(tsr_ocsp_sync(r, tsr_ca_store(f->ca), &changed), 0);
	assert_int_equal(changed, 1);
	s = ocsp_ask(f, r, a, false, &a2);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(s.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
	assert_true(s.revoked_at >= (time_t)nb);
	tsr_ocsp_answer_clear(&a2);
	assert_int_equal(tsr_ocsp_sync(r, tsr_ca_store(f->ca), &changed), 0);
	assert_int_equal(changed, 0);

	/* past half its validity a kept answer is signed afresh */
	{
		time_t later = t0 + 12 * 3600 + 60;

		tsr_clock_set(clock_at, &later);
		s = ocsp_ask(f, r, a, false, &a2);
		assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
		assert_true(s.this_update >= later);
		tsr_ocsp_answer_clear(&a2);
		tsr_clock_set(NULL, NULL);
	}

	/* never good for a serial the CA did not issue */
	s = ocsp_ask(f, r, "1234567890abcdef", false, &a2);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
	tsr_ocsp_answer_clear(&a2);

	/* another CA, garbage */
	req = ocsp_request(tsr_ca_root_cert(f->ca), a, false);
	assert_int_equal(tsr_ocsp_respond(r, tsr_ca_store(f->ca), req.data, req.len, &a2), 0);
	s = ocsp_read(f, &a2, a, &req);
	assert_int_equal(s.status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	assert_false(a2.cacheable);
	tsr_ocsp_answer_clear(&a2);
	assert_int_equal(tsr_ocsp_respond(r, tsr_ca_store(f->ca), req.data, req.len - 1, &a2), 0);
	s = ocsp_read(f, &a2, a, &req);
	assert_int_equal(s.status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	tsr_ocsp_answer_clear(&a2);
	tsr_buf_free(&req);

	/* rotation: not due yet; forced; the responder follows */
	assert_int_equal(tsr_ca_ocsp_rotate(f->ca, "test", false, &rotated), 0);
	assert_false(rotated);
	assert_int_equal(tsr_ca_ocsp_rotate(f->ca, "test", true, &rotated), 0);
	assert_true(rotated);
	{
		char *now_serial = NULL;

		assert_int_equal(tsr_store_meta_get(tsr_ca_store(f->ca), "ocsp_serial",
		    &now_serial), 0);
		expect_audit(f, "ocsp.rotate", now_serial, "success", "replaces");
		free(now_serial);
	}
	assert_int_equal(tsr_ocsp_sync(r, tsr_ca_store(f->ca), NULL), 0);
	s = ocsp_ask(f, r, a, false, &a2);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
	assert_string_not_equal(s.responder, ocsp_serial);
	tsr_ocsp_answer_clear(&a2);

	/* export: one signed file per unexpired certificate of the issuing CA */
	{
		char *dir = join(f->dir, "export"), *file, name[64];
		size_t count = 0;
		struct tsr_buf b;

		assert_int_equal(tsr_ocsp_export(f->ca, "test", dir, &count), 0);
		assert_true(count >= 2);   /* the subscriber and the OCSP certificates */
		snprintf(name, sizeof(name), "%s.der", a);
		for (char *c = name; *c != '.'; c++)
			*c = (char)toupper((unsigned char)*c);
		file = join(dir, name);
		tsr_buf_init(&b, 1 << 16);
		assert_int_equal(tsr_file_read(file, 1 << 16, &b), 0);
		a2.der = b.data;
		a2.len = b.len;
		req = ocsp_request(tsr_ca_issuing_cert(f->ca), a, false);
		s = ocsp_read(f, &a2, a, &req);
		assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
		tsr_buf_free(&req);
		tsr_buf_free(&b);
		free(file);
		free(dir);
	}
	/* (last: the new certificate dates from the future) due when a third of its life is left */
	{
		time_t later = t0 + 61 * 86400;

		tsr_clock_set(clock_at, &later);
		assert_int_equal(tsr_ca_ocsp_rotate(f->ca, "test", false, &rotated), 0);
		assert_true(rotated);
		tsr_clock_set(NULL, NULL);
	}
	tsr_ocsp_answer_clear(&a1);
	tsr_ocsp_responder_free(r);
}

/* A server rotating its own OCSP certificate keeps following revocations
 * and keeps caching. */
static void test_ocsp_rotation_in_process(void **state)
{
	struct fixture *f = *state;
	struct tsr_ocsp_responder *r = NULL;
	struct tsr_ocsp_answer a1, a2;
	struct ocsp_seen s;
	char a[TSR_SERIAL_HEX_MAX + 1], before[TSR_SERIAL_HEX_MAX + 1];
	int64_t nb;
	size_t changed = 0;
	bool rotated = false;

	issue_one(f, a, &nb);
	assert_int_equal(tsr_ocsp_responder_new(f->ca, &r), 0);
	s = ocsp_ask(f, r, a, false, &a1);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);
	snprintf(before, sizeof(before), "%s", s.responder);
	tsr_ocsp_answer_clear(&a1);
	assert_int_equal(tsr_ca_ocsp_rotate(f->ca, "test", true, &rotated), 0);
	assert_true(rotated);
	assert_int_equal(tsr_ocsp_sync(r, tsr_ca_store(f->ca), NULL), 0);
	s = ocsp_ask(f, r, a, false, &a1);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);
	assert_string_not_equal(s.responder, before);
	s = ocsp_ask(f, r, a, false, &a2);
	assert_int_equal(a1.len, a2.len);
	assert_memory_equal(a1.der, a2.der, a1.len);   /* cached again */
	tsr_ocsp_answer_clear(&a1);
	tsr_ocsp_answer_clear(&a2);
	assert_int_equal(tsr_ca_revoke(f->ca, NULL, "test", a, "keyCompromise", 0), 0);
	assert_int_equal(tsr_ocsp_sync(r, tsr_ca_store(f->ca), &changed), 0);
	assert_int_equal(changed, 1);
	s = ocsp_ask(f, r, a, false, &a1);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
	tsr_ocsp_answer_clear(&a1);
	tsr_ocsp_responder_free(r);
}

/* A request that decided "good" just before a revocation, and signs after
 * the responder followed it, must not leave its answer in the cache. */
struct race {
	struct fixture *f;
	struct tsr_ocsp_responder *r;
	const char *serial;
	int calls, fire_at;
	bool fired;
};

static time_t race_clock(void *ctx)
{
	struct race *x = ctx;

	if (!x->fired && ++x->calls == x->fire_at) {
		x->fired = true;
		assert_int_equal(tsr_ca_revoke(x->f->ca, NULL, "test", x->serial, "superseded", 0),
		    0);
		assert_int_equal(tsr_ocsp_sync(x->r, tsr_ca_store(x->f->ca), NULL), 0);
	}
	return time(NULL);
}

static void test_ocsp_race_with_revocation(void **state)
{
	struct fixture *f = *state;
	struct tsr_ocsp_responder *r = NULL;
	struct tsr_ocsp_answer a1;
	struct ocsp_seen s;
	char a[TSR_SERIAL_HEX_MAX + 1];
	int64_t nb;
	/* tsr_now() is read by the cache lookup, then by the signature, which
	 * comes after the status was decided: revoke and sync there. */
	struct race x = { .f = f, .fire_at = 2 };

	issue_one(f, a, &nb);
	assert_int_equal(tsr_ocsp_responder_new(f->ca, &r), 0);
	x.r = r;
	x.serial = a;
	tsr_clock_set(race_clock, &x);
	s = ocsp_ask(f, r, a, false, &a1);
	tsr_clock_set(NULL, NULL);
	assert_true(x.fired);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_GOOD);   /* decided before */
	tsr_ocsp_answer_clear(&a1);
	s = ocsp_ask(f, r, a, false, &a1);
	assert_int_equal(s.cert_status, V_OCSP_CERTSTATUS_REVOKED);
	tsr_ocsp_answer_clear(&a1);
	tsr_ocsp_responder_free(r);
}

static void test_server_cert(void **state)
{
	struct fixture *f = *state;
	char *cert = NULL, *key = NULL, first[65], again[65], later[65];
	X509_STORE *trust = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	X509_VERIFY_PARAM *param;
	struct stat st;
	BIO *bio;
	X509 *leaf;
	time_t now = tsr_now();

	assert_int_equal(tsr_ca_server_cert(f->ca, "test", &cert, &key), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fingerprint(cert, first);
	/* server.pem holds the leaf and the issuing CA: it verifies for TLS
	 * server use as localhost, 127.0.0.1 and ::1 against the root alone */
	bio = BIO_new_file(cert, "r");
	leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	chain = sk_X509_new_null();
	sk_X509_push(chain, PEM_read_bio_X509(bio, NULL, NULL, NULL));
	X509_STORE_add_cert(trust, (X509 *)tsr_ca_root_cert(f->ca));
	assert_int_equal(X509_STORE_CTX_init(ctx, trust, leaf, chain), 1);
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set1_host(param, "localhost", 0);
	assert_int_equal(X509_verify_cert(ctx), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
	/* kept while good */
	free(cert);
	free(key);
	assert_int_equal(tsr_ca_server_cert(f->ca, "test", &cert, &key), 0);
	fingerprint(cert, again);
	assert_string_equal(first, again);
	/* kept when another node on the same database renewed its own (meta
	 * server_serial names the newest server certificate, not ours) */
	{
		char *root_serial = NULL;

		assert_int_equal(tsr_store_meta_get(tsr_ca_store(f->ca), "root_serial",
		    &root_serial), 0);
		assert_int_equal(tsr_store_meta_set(tsr_ca_store(f->ca), "server_serial",
		    root_serial), 0);
		free(root_serial);
	}
	free(cert);
	free(key);
	assert_int_equal(tsr_ca_server_cert(f->ca, "test", &cert, &key), 0);
	fingerprint(cert, again);
	assert_string_equal(first, again);
	/* renewed once fewer than 30 of its 90 days are left */
	now += 61 * 86400;
	tsr_clock_set(clock_at, &now);
	free(cert);
	free(key);
	assert_int_equal(tsr_ca_server_cert(f->ca, "test", &cert, &key), 0);
	tsr_clock_set(NULL, NULL);
	fingerprint(cert, later);
	assert_string_not_equal(first, later);
	/* replaced at once when it was revoked */
	{
		BIO *b = BIO_new_file(cert, "r");
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
		char serial[TSR_SERIAL_HEX_MAX + 1], replaced[65];

		tsr_hex_encode(ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn), serial);
		assert_int_equal(tsr_store_cert_set_status(tsr_ca_store(f->ca), serial, "valid",
		    "revoked", (int64_t)tsr_now(), "superseded", 0), 0);
		X509_free(x);
		BIO_free(b);
		free(cert);
		free(key);
		assert_int_equal(tsr_ca_server_cert(f->ca, "test", &cert, &key), 0);
		fingerprint(cert, replaced);
		assert_string_not_equal(later, replaced);
	}
	free(cert);
	free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(bio);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(trust);
}

/* ---------------------------------------------------------------- config */

static void test_config_errors(void **state)
{
	const char *bad[] = {
		"[ca]\norganization = x\n",                       /* required keys missing */
		"[nope]\n",                                       /* unknown section */
		"[ca]\ncolour = blue\n",                          /* unknown key */
		"key = value\n",                                  /* outside a section */
	};
	struct tsr_config c;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		assert_int_equal(tsr_config_parse(bad[i], strlen(bad[i]), "/h", &c), TSR_ERR_CONFIG);
}

/* A valid [ca] section and the default products, then extra. */
static int parse_extra(const char *extra, struct tsr_config *c)
{
	static const char ca[] = "[ca]\norganization = Test\ntoken = pkcs11:token=Test\n"
	    "public_url = http://localhost:8080\npolicy_arc = 2.25.1\n"
	    "pkcs11_module = /nonexistent/module.so\npin_file = pin\ndatabase = db\n"
	    "key_type = ec-p256\n";
	struct tsr_buf text;
	int r;

	tsr_buf_init(&text, 1 << 20);
	assert_int_equal(tsr_buf_append_str(&text, ca), 0);
	assert_int_equal(tsr_products_default_config("2.25.1", &text), 0);
	assert_int_equal(tsr_buf_append_str(&text, extra), 0);
	r = tsr_config_parse((const char *)text.data, text.len, "/h", c);
	tsr_buf_free(&text);
	return r;
}

static void expect_ok(const char *extra, struct tsr_config *c)
{
	if (parse_extra(extra, c) != 0)
		fail_msg("refused: %s\n%s", tsr_error_detail(), extra);
}

/* Refused as TSR_ERR_CONFIG with a detail holding want ("line N: ..."). */
static void expect_refused(const char *extra, const char *want)
{
	struct tsr_config c;
	int r = parse_extra(extra, &c);

	if (r != TSR_ERR_CONFIG)
		fail_msg("%s: got %d, want a config error", extra, r);
	if (strstr(tsr_error_detail(), want) == NULL || strncmp(tsr_error_detail(), "line ", 5) != 0)
		fail_msg("%s: detail '%s' lacks 'line N: ...%s'", extra, tsr_error_detail(), want);
}

static void test_config_workflow_defaults(void **state)
{
	struct tsr_config c;

	(void)state;
	expect_ok("", &c);
	assert_string_equal(c.home, "/h");
	assert_int_equal(c.ra.email_days, 30);
	assert_int_equal(c.ra.verification_hours, 24);
	assert_int_equal(c.ra.activation_days, 30);
	assert_int_equal(c.ra.max_failures, 5);
	assert_string_equal(c.ra.agreement_version, "2026-11");
	assert_null(c.ra.password_list);
	assert_int_equal(c.ra.officer_idle_minutes, 30);
	assert_int_equal(c.ra.officer_session_hours, 12);
	assert_int_equal(c.ra.applicant_idle_minutes, 30);
	assert_string_equal(c.mail.outbox, "/h/outbox");
	assert_string_equal(c.mail.passcode_outbox, "/h/passcodes");
	assert_string_equal(c.mail.from, "noreply@tessera.invalid");
	assert_null(c.mail.smtp_url);
	assert_null(c.mail.smtp_user);
	assert_null(c.mail.smtp_password_file);
	assert_null(c.mail.smtp_ca_file);
	assert_true(c.mail.smtp_starttls_required);
	assert_int_equal(c.mail.timeout_seconds, 0);
	assert_int_equal(c.n_verifiers, 0);
	assert_null(tsr_config_verifier(&c, "epcs"));
	tsr_config_free(&c);
	/* empty sections, and empty string values, are the defaults too */
	expect_ok("[ra]\nagreement_version =\npassword_list =\n[mail]\noutbox =\nfrom =\n", &c);
	assert_string_equal(c.ra.agreement_version, "2026-11");
	assert_null(c.ra.password_list);
	assert_string_equal(c.mail.outbox, "/h/outbox");
	assert_string_equal(c.mail.from, "noreply@tessera.invalid");
	tsr_config_free(&c);
}

static void test_config_ra(void **state)
{
	static const struct { const char *key; int min, max; size_t off; } ints[] = {
		{ "email_days", 1, 365, offsetof(struct tsr_ra_config, email_days) },
		{ "verification_hours", 1, 720, offsetof(struct tsr_ra_config, verification_hours) },
		{ "activation_days", 1, 365, offsetof(struct tsr_ra_config, activation_days) },
		{ "max_failures", 1, 100, offsetof(struct tsr_ra_config, max_failures) },
		{ "officer_idle_minutes", 1, 720,
		  offsetof(struct tsr_ra_config, officer_idle_minutes) },
		{ "officer_session_hours", 1, 24,
		  offsetof(struct tsr_ra_config, officer_session_hours) },
		{ "applicant_idle_minutes", 1, 720,
		  offsetof(struct tsr_ra_config, applicant_idle_minutes) },
	};
	struct tsr_config c;
	char text[256], want[128];

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(ints); i++) {
		int ok[2] = { ints[i].min, ints[i].max };
		char bad[6][16];

		for (int k = 0; k < 2; k++) {
			snprintf(text, sizeof(text), "\n[ra]\n%s = %d\n", ints[i].key, ok[k]);
			expect_ok(text, &c);
			assert_int_equal(*(int *)((char *)&c.ra + ints[i].off), ok[k]);
			tsr_config_free(&c);
		}
		snprintf(bad[0], sizeof(bad[0]), "%d", ints[i].min - 1);
		snprintf(bad[1], sizeof(bad[1]), "%d", ints[i].max + 1);
		snprintf(bad[2], sizeof(bad[2]), "ten");
		snprintf(bad[3], sizeof(bad[3]), "5 days");
		snprintf(bad[4], sizeof(bad[4]), "%s", "");
		snprintf(bad[5], sizeof(bad[5]), "99999999999999");
		for (size_t k = 0; k < 6; k++) {
			snprintf(text, sizeof(text), "\n[ra]\n%s = %s\n",
			    ints[i].key, bad[k]);
			snprintf(want, sizeof(want), "[ra] %s must be a whole number from %d to %d",
			    ints[i].key, ints[i].min, ints[i].max);
			expect_refused(text, want);
		}
	}
	expect_refused("\n[ra]\nmax_failures = 101\n", "NIST SP 800-63B");
	/* agreement_version: 1..32 of [A-Za-z0-9._-] */
	expect_ok("\n[ra]\nagreement_version = v2.0_rc-1\n", &c);
	assert_string_equal(c.ra.agreement_version, "v2.0_rc-1");
	tsr_config_free(&c);
	expect_ok("\n[ra]\nagreement_version = 12345678901234567890123456789012\n", &c);
	tsr_config_free(&c);
	expect_refused("\n[ra]\nagreement_version = 123456789012345678901234567890123\n",
	    "[ra] agreement_version must be 1 to 32");
	expect_refused("\n[ra]\nagreement_version = 2026/11\n", "agreement_version");
	expect_refused("\n[ra]\nagreement_version = 2026 11\n", "agreement_version");
	/* web_url: https, trailing '/' dropped; agreement_file: HOME/agreement.txt */
	expect_ok("\n[ra]\n", &c);
	assert_string_equal(c.ra.web_url, "https://localhost:8443");
	assert_string_equal(c.ra.agreement_file, "/h/agreement.txt");
	tsr_config_free(&c);
	expect_ok("\n[ra]\nweb_url = https://ca.example/tessera/\nagreement_file = a/sa.txt\n", &c);
	assert_string_equal(c.ra.web_url, "https://ca.example/tessera");
	assert_string_equal(c.ra.agreement_file, "/h/a/sa.txt");
	tsr_config_free(&c);
	expect_refused("\n[ra]\nweb_url = http://ca.example\n", "[ra] web_url must start with");
	expect_refused("\n[ra]\nweb_url = https://ca.example/?a=b\n", "web_url");
	/* paths are made absolute against the home */
	expect_ok("\n[ra]\npassword_list = lists/breached.txt\n", &c);
	assert_string_equal(c.ra.password_list, "/h/lists/breached.txt");
	tsr_config_free(&c);
	expect_ok("\n[ra]\npassword_list = /etc/tessera/pw.txt\n", &c);
	assert_string_equal(c.ra.password_list, "/etc/tessera/pw.txt");
	tsr_config_free(&c);
	expect_refused("\n[ra]\nemail_day = 3\n", "line 2");
	expect_refused("\n[ra]\nemail_day = 3\n", "[ra] unknown key 'email_day'");
}

static void test_config_mail(void **state)
{
	static const char full[] = "\n[mail]\noutbox = mail/out\npasscode_outbox = /var/post\n"
	    "from = ca@tessera.example\nsmtp_url = smtps://mail.example.com:465\n"
	    "smtp_user = tessera\nsmtp_password_file = smtp.pw\nsmtp_ca_file = relay.pem\n"
	    "smtp_starttls = no\ntimeout = 600\n";
	static const struct { const char *text, *want; } bad[] = {
		{ "[mail]\nsmtp_starttls = yes\n", "[mail] smtp_starttls must be required or no" },
		{ "[mail]\ntimeout = 601\n", "[mail] timeout must be a whole number from 0 to 600" },
		{ "[mail]\ntimeout = -1\n", "[mail] timeout" },
		{ "[mail]\nfrom = not an address\n", "[mail] from must be one address" },
		{ "[mail]\nfrom = a@example.com, b@example.com\n", "[mail] from" },
		{ "[mail]\nfrom = Jane <a@example.com>\n", "[mail] from" },
		{ "[mail]\nsmtp_url = http://mail.example.com\n", "[mail] smtp_url" },
		{ "[mail]\nsmtp_url = smtp://u:pw@mail.example.com\n", "no user or password" },
		{ "[mail]\npasscode_outbox = outbox\n", "passcode_outbox must be a directory of its own" },
		{ "[mail]\noutbox = /h/x\npasscode_outbox = /h/./x/\n", "passcode_outbox" },
		{ "[mail]\noutbox = a/b/../x\npasscode_outbox = a//x\n", "passcode_outbox" },
		{ "[mail]\npasscode_outbox = outbox/new\n", "passcode_outbox" },
		{ "[mail]\noutbox = passcodes/relayed\n", "passcode_outbox" },
		{ "[mail]\npasscode_outbox = /\n", "passcode_outbox" },
		{ "[mail]\ncolour = blue\n", "[mail] unknown key 'colour'" },
	};
	struct tsr_config c;

	(void)state;
	expect_ok(full, &c);
	assert_string_equal(c.mail.outbox, "/h/mail/out");
	assert_string_equal(c.mail.passcode_outbox, "/var/post");
	assert_string_equal(c.mail.from, "ca@tessera.example");
	assert_string_equal(c.mail.smtp_url, "smtps://mail.example.com:465");
	assert_string_equal(c.mail.smtp_user, "tessera");
	assert_string_equal(c.mail.smtp_password_file, "/h/smtp.pw");
	assert_string_equal(c.mail.smtp_ca_file, "/h/relay.pem");
	assert_false(c.mail.smtp_starttls_required);
	assert_int_equal(c.mail.timeout_seconds, 600);
	tsr_config_free(&c);
	expect_ok("\n[mail]\nsmtp_starttls = required\nsmtp_url = smtp://127.0.0.1:2525\n"
	    "outbox = out\npasscode_outbox = outbox\n", &c);
	assert_true(c.mail.smtp_starttls_required);
	assert_string_equal(c.mail.passcode_outbox, "/h/outbox");   /* a sibling of out */
	tsr_config_free(&c);
	expect_ok("\n[mail]\noutbox = mail\npasscode_outbox = mail-post\n", &c);
	tsr_config_free(&c);
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		expect_refused(bad[i].text, bad[i].want);
}

static void test_config_verifier(void **state)
{
	static const char *const good_urls[] = {
		"https://verifier.example/check", "https://verifier.example:8443",
		"https://[2001:db8::1]:443/x?y=1", "http://127.0.0.1:9000/check",
		"http://[::1]:9000/", "http://localhost/v", "HTTP://LOCALHOST:80",
	};
	static const char *const bad_urls[] = {
		"http://192.0.2.1/check", "http://verifier.example/", "http://localhost.example/",
		"http://127.0.0.1.example/", "http://127.0.0.2/", "http://[::2]/",
		"http://127.0.0.1@evil.example/", "https://user:pw@verifier.example/",
		"ftp://verifier.example/", "https://", "https://:443/", "https://h:abc/",
		"https://h:/", "https://[::1/", "https://verifier.example/a b",
		"https://verifier.example\\@evil/", "verifier.example",
	};
	struct tsr_config c;
	const struct tsr_verifier_config *v;
	char text[256];

	(void)state;
	expect_ok("\n[verifier epcs]\nurl = https://verifier.example/check\nca_file = v/ca.pem\n"
	    "token_file = /etc/tessera/v.token\n\n[verifier identity]\n"
	    "url = http://127.0.0.1:9000/\ntimeout = 60\n", &c);
	assert_int_equal(c.n_verifiers, 2);
	assert_non_null(v = tsr_config_verifier(&c, "epcs"));
	assert_string_equal(v->product, "epcs");
	assert_string_equal(v->url, "https://verifier.example/check");
	assert_string_equal(v->ca_file, "/h/v/ca.pem");
	assert_string_equal(v->token_file, "/etc/tessera/v.token");
	assert_int_equal(v->timeout_seconds, 10);
	assert_non_null(v = tsr_config_verifier(&c, "identity"));
	assert_null(v->ca_file);
	assert_null(v->token_file);
	assert_int_equal(v->timeout_seconds, 60);
	assert_null(tsr_config_verifier(&c, "smime"));
	tsr_config_free(&c);
	for (size_t i = 0; i < TSR_ARRAY_LEN(good_urls); i++) {
		snprintf(text, sizeof(text), "\n[verifier epcs]\nurl = %s\ntimeout = 1\n",
		    good_urls[i]);
		expect_ok(text, &c);
		tsr_config_free(&c);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_urls); i++) {
		snprintf(text, sizeof(text), "\n[verifier epcs]\nurl = %s\n", bad_urls[i]);
		expect_refused(text, "[verifier epcs] url");
	}
	expect_refused("\n[verifier epcs]\nurl = http://192.0.2.1/\n",
	    "http:// is allowed only to 127.0.0.1, [::1] or localhost");
	expect_refused("\n[verifier epcs]\nca_file = ca.pem\n", "[verifier epcs] url is required");
	expect_refused("\n[verifier epcs]\nurl = https://v.example\ntimeout = 0\n",
	    "[verifier epcs] timeout must be a whole number from 1 to 60");
	expect_refused("\n[verifier epcs]\nurl = https://v.example\ntimeout = 61\n", "timeout");
	expect_refused("\n[verifier epcs]\nurl = https://v.example\nsecret = x\n",
	    "[verifier epcs] unknown key 'secret'");
	expect_refused("\n[verifier nope]\nurl = https://v.example\n",
	    "[verifier nope]: there is no [product nope] section");
	expect_refused("\n[verifier]\nurl = https://v.example\n", "[verifier] needs a product name");
	/* one verifier per product, however the header is spaced */
	expect_refused("\n[verifier epcs]\nurl = https://a.example\n"
	    "[verifier   epcs ]\nurl = https://b.example\n", "epcs");
}

static void test_config_unknown_sections(void **state)
{
	(void)state;
	expect_refused("\n[raa]\n", "unknown section [raa]");
	expect_refused("\n[mail relay]\n", "unknown section [mail relay]");
	expect_refused("\n[verifiers epcs]\n", "unknown section [verifiers epcs]");
}

/* tsr_config_load resolves the home first: a relative home gives absolute
 * paths and an absolute config->home. */
static void test_config_load_relative_home(void **state)
{
	char *dir = tmpdir(), *home = join(dir, "ca"), *conf, *real, *outbox, cwd[4096];
	struct tsr_config c;
	struct tsr_buf text;

	(void)state;
	assert_int_equal(mkdir(home, 0700), 0);
	conf = join(home, "tessera.conf");
	tsr_buf_init(&text, 1 << 20);
	assert_int_equal(tsr_buf_append_str(&text, "[ca]\norganization = Test\n"
	    "token = pkcs11:token=Test\npublic_url = http://localhost:8080\npolicy_arc = 2.25.1\n"
	    "pkcs11_module = /nonexistent/module.so\npin_file = pin\ndatabase = db\n"
	    "key_type = ec-p256\n"), 0);
	assert_int_equal(tsr_products_default_config("2.25.1", &text), 0);
	assert_int_equal(tsr_buf_append_str(&text, "[verifier epcs]\nurl = https://v.example\n"
	    "token_file = v.token\n"), 0);
	assert_int_equal(tsr_file_create(conf, text.data, text.len, 0644), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(tsr_config_load("./ca/", &c), 0);
	assert_int_equal(chdir(cwd), 0);
	real = realpath(home, NULL);
	outbox = join(real, "outbox");
	assert_string_equal(c.home, real);
	assert_string_equal(c.mail.outbox, outbox);
	assert_true(strncmp(tsr_config_verifier(&c, "epcs")->token_file, real, strlen(real)) == 0);
	tsr_config_free(&c);
	tsr_buf_free(&text);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(outbox);
	free(real);
	free(conf);
	free(home);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_creates_home),
		cmocka_unit_test(test_init_refuses_existing_home),
		cmocka_unit_test(test_init_bad_options_leave_nothing),
		cmocka_unit_test(test_init_external_token),
		cmocka_unit_test(test_init_failure_cleans_external_token),
		cmocka_unit_test_setup_teardown(test_issue_every_product, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_wrong_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_rotation_in_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_race_with_revocation, setup, teardown),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_workflow_defaults),
		cmocka_unit_test(test_config_ra),
		cmocka_unit_test(test_config_mail),
		cmocka_unit_test(test_config_verifier),
		cmocka_unit_test(test_config_unknown_sections),
		cmocka_unit_test(test_config_load_relative_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
