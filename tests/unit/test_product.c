/*
 * test_product.c - products: the shipped default products load and say what
 * their documentation says; every load rule refuses a small config naming the
 * right line; subjects, SANs and key types are checked against a product.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "x509/x509.h"

#define ARC "2.25.1234"

/* ------------------------------------------------------------------ helpers */

static int load_text(const char *text, struct tsr_products *out)
{
	struct tsr_ini ini;
	int r;

	assert_int_equal(tsr_ini_parse(text, strlen(text), &ini), 0);
	r = tsr_products_load(&ini, out);
	tsr_ini_free(&ini);
	return r;
}

static void load_defaults(struct tsr_products *out)
{
	struct tsr_buf b;
	const char *text;

	tsr_buf_init(&b, 1024 * 1024);
	assert_int_equal(tsr_products_default_config(ARC, &b), 0);
	assert_int_equal(tsr_buf_cstr(&b, &text), 0);
	assert_int_equal(load_text(text, out), 0);
	tsr_buf_free(&b);
}

static bool has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* A name from (type, value) pairs, most significant first, ending in NULL. */
static X509_NAME *make_name(const char *type, ...)
{
	X509_NAME *name = X509_NAME_new();
	va_list ap;

	assert_non_null(name);
	va_start(ap, type);
	for (; type != NULL; type = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);

		assert_int_equal(X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
		    (const unsigned char *)value, -1, -1, 0), 1);
	}
	va_end(ap);
	return name;
}

/* ------------------------------------------------------------------ the default products */

struct expected_product {
	const char *name;
	enum tsr_product_class class_;
	int validity_days;
	int cap;
	enum tsr_storage storage;
	int approvals;
	const char *payment;
	const char *ekus[3];
};

static const struct expected_product expected[] = {
	{ "epcs", TSR_CLASS_SIGNING, 730, 1095, TSR_STORAGE_HARDWARE, 2, "voucher",
	    { "1.3.6.1.5.5.7.3.36" } },
	{ "identity", TSR_CLASS_AUTHENTICATION, 730, 1095, TSR_STORAGE_SOFTWARE, 1, "voucher",
	    { "1.3.6.1.5.5.7.3.2" } },
	{ "eca-medium", TSR_CLASS_AUTHENTICATION, 825, 825, TSR_STORAGE_HARDWARE, 2, "invoice",
	    { "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4", "1.3.6.1.4.1.311.20.2.2" } },
	{ "tls-server", TSR_CLASS_AUTHENTICATION, 199, 200, TSR_STORAGE_SOFTWARE, 1, "invoice",
	    { "1.3.6.1.5.5.7.3.1" } },
	{ "smime", TSR_CLASS_SIGNING, 825, 825, TSR_STORAGE_EITHER, 1, "voucher",
	    { "1.3.6.1.5.5.7.3.4" } },
	{ "code-signing", TSR_CLASS_AUTHENTICATION, 460, 460, TSR_STORAGE_HARDWARE, 2, "invoice",
	    { "1.3.6.1.5.5.7.3.3" } },
	{ "document-signing", TSR_CLASS_SIGNING, 1095, 1095, TSR_STORAGE_EITHER, 1, "voucher",
	    { "1.3.6.1.5.5.7.3.36" } },
	{ "device", TSR_CLASS_AUTHENTICATION, 199, 200, TSR_STORAGE_SOFTWARE, 1, "free",
	    { "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1" } },
};

static void test_default_products(void **state)
{
	struct tsr_products ps;

	(void)state;
	load_defaults(&ps);
	assert_int_equal(ps.n, TSR_ARRAY_LEN(expected));
	for (size_t i = 0; i < TSR_ARRAY_LEN(expected); i++) {
		const struct expected_product *e = &expected[i];
		const struct tsr_product *p = tsr_product_find(&ps, e->name);
		char policy[32];
		size_t n_eku = 0;

		print_message("product %s\n", e->name);
		assert_non_null(p);
		assert_int_equal(p->class_, e->class_);
		assert_int_equal(p->validity_days, e->validity_days);
		assert_int_equal(p->max_validity_days, e->cap);
		assert_int_equal(p->storage, e->storage);
		assert_int_equal(p->ra_approvals, e->approvals);
		assert_string_equal(p->payment, e->payment);
		for (; n_eku < 3 && e->ekus[n_eku] != NULL; n_eku++)
			assert_true(has(p->eku, p->n_eku, e->ekus[n_eku]));
		assert_int_equal(p->n_eku, n_eku);
		snprintf(policy, sizeof(policy), ARC ".1.%zu", i + 1);
		assert_int_equal(p->n_policies, 1);
		assert_string_equal(p->policies[0], policy);
		assert_true(p->title[0] != '\0');
		assert_true(p->description[0] != '\0');
		assert_true(p->n_applicant_fields > 0);
		assert_true(p->n_subject_allowed > 0);
		for (size_t j = 0; j < p->n_subject_required; j++)
			assert_true(has(p->subject_allowed, p->n_subject_allowed,
			    p->subject_required[j]));
	}
	assert_null(tsr_product_find(&ps, "nope"));
	tsr_products_free(&ps);
	assert_int_equal(ps.n, 0);
	tsr_products_free(&ps);
}

static void test_default_details(void **state)
{
	struct tsr_products ps;
	const struct tsr_product *p;

	(void)state;
	load_defaults(&ps);

	p = tsr_product_find(&ps, "epcs");
	assert_int_equal(tsr_product_key_usage(p), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_string_equal(tsr_product_class_name(p->class_), "signing");
	assert_string_equal(tsr_storage_name(p->storage), "hardware");
	assert_int_equal(p->key_types, 1u << TSR_KEY_EC_P256 | 1u << TSR_KEY_EC_P384 |
	    1u << TSR_KEY_RSA_2048 | 1u << TSR_KEY_RSA_3072);
	assert_int_equal(p->n_subject_required, 2);
	assert_string_equal(p->subject_required[0], "CN");
	assert_string_equal(p->subject_required[1], "C");
	assert_true(has(p->subject_allowed, p->n_subject_allowed, "serialNumber"));
	assert_true(has(p->subject_allowed, p->n_subject_allowed, "GN"));
	assert_int_equal(p->san_allowed, 1u << TSR_SAN_EMAIL);
	assert_false(p->san_required);
	assert_true(has(p->applicant_fields, p->n_applicant_fields, "npi"));
	assert_true(has(p->applicant_fields, p->n_applicant_fields, "dea"));

	p = tsr_product_find(&ps, "tls-server");
	assert_int_equal(tsr_product_key_usage(p), KU_DIGITAL_SIGNATURE);
	assert_string_equal(tsr_product_class_name(p->class_), "authentication");
	assert_int_equal(p->n_subject_required, 0);
	assert_int_equal(p->san_allowed, 1u << TSR_SAN_DNS | 1u << TSR_SAN_IP);
	assert_true(p->san_required);

	p = tsr_product_find(&ps, "code-signing");
	assert_int_equal(tsr_product_key_usage(p), KU_DIGITAL_SIGNATURE);
	assert_int_equal(p->key_types, 1u << TSR_KEY_EC_P256 | 1u << TSR_KEY_EC_P384 |
	    1u << TSR_KEY_RSA_3072 | 1u << TSR_KEY_RSA_4096);
	assert_int_equal(p->san_allowed, 0);

	p = tsr_product_find(&ps, "device");
	assert_int_equal(p->san_allowed, 1u << TSR_SAN_DNS);
	assert_string_equal(tsr_storage_name(tsr_product_find(&ps, "smime")->storage), "either");
	tsr_products_free(&ps);
}

static void test_default_config_text(void **state)
{
	struct tsr_buf b;
	const char *text;

	(void)state;
	tsr_buf_init(&b, 1024 * 1024);
	assert_int_equal(tsr_products_default_config("1.3.6.1.4.1.99999", &b), 0);
	assert_int_equal(tsr_buf_cstr(&b, &text), 0);
	assert_non_null(strstr(text, "policies = 1.3.6.1.4.1.99999.1.8\n"));
	assert_non_null(strstr(text, "accredited"));
	assert_null(strstr(text, "@ARC@"));
	/* Appends: what was in the buffer stays. */
	tsr_buf_reset(&b);
	assert_int_equal(tsr_buf_append_str(&b, "[ca]\nname = x\n"), 0);
	assert_int_equal(tsr_products_default_config(ARC, &b), 0);
	assert_int_equal(strncmp((const char *)b.data, "[ca]\nname = x\n#", 15), 0);
	tsr_buf_reset(&b);

	assert_int_equal(tsr_products_default_config("not an oid", &b), TSR_ERR_INVALID);
	assert_int_equal(tsr_products_default_config("1.2.", &b), TSR_ERR_INVALID);
	assert_int_equal(tsr_products_default_config("", &b), TSR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	tsr_buf_free(&b);
}

/* ------------------------------------------------------------------ load rules
 * One small valid product; each case changes a few of its lines (keeping
 * the line numbers: a removed line becomes a comment) and may add one line
 * at the end, line 18.
 */
static const char *const base_lines[] = {
	"[ca]",                            /* 1 */
	"name = Test CA",                  /* 2 */
	"[product p]",                     /* 3 */
	"title = P",                       /* 4 */
	"class = authentication",          /* 5 */
	"extended_key_usage = clientAuth", /* 6 */
	"policies = 2.25.1.1",             /* 7 */
	"validity_days = 365",             /* 8 */
	"key_types = ec-p256",             /* 9 */
	"subject_required = CN",           /* 10 */
	"subject_allowed = CN, O",         /* 11 */
	"san = email",                     /* 12 */
	"san_required = no",               /* 13 */
	"storage = software",              /* 14 */
	"ra_approvals = 1",                /* 15 */
	"payment = free",                  /* 16 */
	"applicant_fields = name, email",  /* 17 */
};

struct change {
	const char *key;   /* the line "key = ..." to change */
	const char *value; /* its new value, or NULL to remove the line */
};

static int load_changed(const struct change *ch, const char *extra, struct tsr_products *out)
{
	struct tsr_buf b;
	const char *text;
	int r;

	tsr_buf_init(&b, 65536);
	for (size_t i = 0; i < TSR_ARRAY_LEN(base_lines); i++) {
		const char *line = base_lines[i];
		const struct change *c = ch;
		size_t klen;

		for (; c != NULL && c->key != NULL; c++) {
			klen = strlen(c->key);
			if (strncmp(line, c->key, klen) == 0 && strncmp(line + klen, " =", 2) == 0)
				break;
		}
		if (c == NULL || c->key == NULL)
			r = tsr_buf_printf(&b, "%s\n", line);
		else if (c->value == NULL)
			r = tsr_buf_printf(&b, "# %s removed\n", c->key);
		else
			r = tsr_buf_printf(&b, "%s = %s\n", c->key, c->value);
		assert_int_equal(r, 0);
	}
	if (extra != NULL)
		assert_int_equal(tsr_buf_printf(&b, "%s\n", extra), 0);
	assert_int_equal(tsr_buf_cstr(&b, &text), 0);
	r = load_text(text, out);
	tsr_buf_free(&b);
	return r;
}

struct bad_product {
	struct change ch[5]; /* ends at the first without a key */
	const char *extra;
	const char *detail;
};

#define CAP_TEXT(d, eku, why) #d "-day cap for " eku " certificates (" why ")"

static const struct bad_product bad_products[] = {
	{ { { NULL, NULL } }, "colour = blue", "line 18: [product p] unknown key 'colour'" },
	{ { { "title", NULL } }, NULL, "line 3: [product p] missing required key 'title'" },
	{ { { "class", NULL } }, NULL, "line 3: [product p] missing required key 'class'" },
	{ { { "payment", NULL } }, NULL, "line 3: [product p] missing required key 'payment'" },
	{ { { "title", "" } }, NULL, "line 4: [product p] title: must not be empty" },
	{ { { "class", "both" } }, NULL,
	    "line 5: [product p] class: 'both' is not a class (use signing or authentication)" },
	/* extended key usages */
	{ { { "extended_key_usage", "anyExtendedKeyUsage" } }, NULL,
	    "line 6: [product p] extended_key_usage: anyExtendedKeyUsage is refused: a "
	    "certificate must say what it is for" },
	{ { { "extended_key_usage", "clientAuth, 2.5.29.37.0" } }, NULL,
	    "line 6: [product p] extended_key_usage: anyExtendedKeyUsage is refused: a "
	    "certificate must say what it is for" },
	{ { { "extended_key_usage", "OCSPSigning" } }, NULL,
	    "line 6: [product p] extended_key_usage: OCSPSigning is refused: only the CA's own "
	    "OCSP responder gets it" },
	{ { { "extended_key_usage", "" } }, NULL,
	    "line 6: [product p] extended_key_usage: at least one extended key usage is required" },
	{ { { "extended_key_usage", "clientAuth, 1.3.6.1.5.5.7.3.2" } }, NULL,
	    "line 6: [product p] extended_key_usage: '1.3.6.1.5.5.7.3.2' is listed twice" },
	{ { { "extended_key_usage", "clientAuth,,timeStamping" } }, NULL,
	    "line 6: [product p] extended_key_usage: empty item in the list" },
	{ { { "extended_key_usage", "clientAuth," } }, NULL,
	    "line 6: [product p] extended_key_usage: empty item in the list" },
	{ { { "extended_key_usage", "1..2" } }, NULL,
	    "line 6: [product p] extended_key_usage: unknown extended key usage '1..2' (use "
	    "serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, documentSigning, "
	    "smartcardLogon or a dotted OID)" },
	/* policies */
	{ { { "policies", "2.5.29.32.0" } }, NULL,
	    "line 7: [product p] policies: anyPolicy is refused for subscriber certificates: "
	    "name the policies the certificate is issued under" },
	{ { { "policies", "" } }, NULL,
	    "line 7: [product p] policies: at least one policy OID is required" },
	{ { { "policies", "2.25.1, 2.25.1" } }, NULL,
	    "line 7: [product p] policies: '2.25.1' is listed twice" },
	{ { { "policies", "2.25.01" } }, NULL,
	    "line 7: [product p] policies: '2.25.01' is not a dotted OID" },
	{ { { "policies", "3.1" } }, NULL,
	    "line 7: [product p] policies: '3.1' is not a dotted OID" },
	{ { { "policies", "1.2." } }, NULL,
	    "line 7: [product p] policies: '1.2.' is not a dotted OID" },
	{ { { "policies", "2" } }, NULL, "line 7: [product p] policies: '2' is not a dotted OID" },
	/* validity and its caps */
	{ { { "validity_days", "0" } }, NULL,
	    "line 8: [product p] validity_days: must be at least 1 day" },
	{ { { "validity_days", "-5" } }, NULL,
	    "line 8: [product p] validity_days: '-5' is not a number of days" },
	{ { { "validity_days", "2 years" } }, NULL,
	    "line 8: [product p] validity_days: '2 years' is not a number of days" },
	{ { { "validity_days", "1096" } }, NULL,
	    "line 8: [product p] validity_days: 1096 exceeds the " CAP_TEXT(1095, "subscriber",
	    "Tessera's limit of 3 years for any subscriber certificate") },
	{ { { "extended_key_usage", "clientAuth, emailProtection" }, { "validity_days", "900" } },
	    NULL, "line 8: [product p] validity_days: 900 exceeds the " CAP_TEXT(825,
	    "emailProtection", "CA/Browser Forum S/MIME Baseline Requirements") },
	{ { { "extended_key_usage", "codeSigning" }, { "validity_days", "461" },
	    { "storage", "hardware" } }, NULL,
	    "line 8: [product p] validity_days: 461 exceeds the " CAP_TEXT(460, "codeSigning",
	    "CA/Browser Forum Code Signing Baseline Requirements") },
	{ { { "extended_key_usage", "clientAuth, serverAuth" }, { "validity_days", "201" },
	    { "san", "dns" }, { "san_required", "yes" } }, NULL,
	    "line 8: [product p] validity_days: 201 exceeds the " CAP_TEXT(200, "serverAuth",
	    "CA/Browser Forum TLS Baseline Requirements, since 15 March 2026") },
	/* key types */
	{ { { "key_types", "ec-p256, ec-p521" } }, NULL,
	    "line 9: [product p] key_types: unknown key type 'ec-p521' (use ec-p256, ec-p384, "
	    "rsa-2048, rsa-3072 or rsa-4096)" },
	{ { { "key_types", "" } }, NULL, "line 9: [product p] key_types: at least one key type "
	    "is required" },
	{ { { "key_types", "rsa-2048, rsa-2048" } }, NULL,
	    "line 9: [product p] key_types: 'rsa-2048' is listed twice" },
	/* subject */
	{ { { "subject_required", "CN, XX" } }, NULL,
	    "line 10: [product p] subject_required: unknown subject attribute 'XX' (see "
	    "docs/products.md for the supported ones)" },
	{ { { "subject_allowed", "CN, O, cn" } }, NULL,
	    "line 11: [product p] subject_allowed: 'CN' is listed twice" },
	{ { { "subject_required", "" }, { "subject_allowed", "" } }, NULL,
	    "line 11: [product p] subject_allowed: no subject attribute is allowed or required" },
	{ { { "subject_required", NULL }, { "subject_allowed", NULL } }, NULL,
	    "line 3: [product p] subject_allowed: no subject attribute is allowed or required" },
	/* SANs */
	{ { { "san", "email, fax" } }, NULL,
	    "line 12: [product p] san: unknown SAN type 'fax' (use dns, ip, email or uri)" },
	{ { { "san", "email, email" } }, NULL,
	    "line 12: [product p] san: 'email' is listed twice" },
	{ { { "san_required", "maybe" } }, NULL,
	    "line 13: [product p] san_required: 'maybe' is not yes or no" },
	{ { { "san", "" }, { "san_required", "yes" } }, NULL,
	    "line 13: [product p] san_required: a SAN is required but san allows no type" },
	/* enrollment policy */
	{ { { "storage", "cloud" } }, NULL,
	    "line 14: [product p] storage: 'cloud' is not a storage (use hardware, software or "
	    "either)" },
	{ { { "ra_approvals", "3" } }, NULL,
	    "line 15: [product p] ra_approvals: '3' is not 1 or 2" },
	{ { { "ra_approvals", "0" } }, NULL,
	    "line 15: [product p] ra_approvals: '0' is not 1 or 2" },
	{ { { "payment", "bitcoin" } }, NULL,
	    "line 16: [product p] payment: 'bitcoin' is not a payment (use free, voucher or "
	    "invoice)" },
	{ { { "applicant_fields", "name, shoe_size" } }, NULL,
	    "line 17: [product p] applicant_fields: unknown applicant field 'shoe_size' (use "
	    "name, address, date_of_birth, email, npi, dea, organization, phone or domain)" },
	{ { { "applicant_fields", "" } }, NULL,
	    "line 17: [product p] applicant_fields: at least one applicant field is required" },
	/* rules between keys */
	{ { { "extended_key_usage", "serverAuth" }, { "validity_days", "90" },
	    { "san_required", "yes" } }, NULL,
	    "line 12: [product p] san: a serverAuth product must allow dns or ip SANs" },
	{ { { "extended_key_usage", "serverAuth" }, { "validity_days", "90" },
	    { "san", NULL }, { "san_required", "yes" } }, NULL,
	    "line 3: [product p] san: a serverAuth product must allow dns or ip SANs" },
	{ { { "extended_key_usage", "serverAuth" }, { "validity_days", "90" }, { "san", "ip" } },
	    NULL, "line 13: [product p] san_required: a serverAuth product must require a SAN: "
	    "set san_required = yes" },
	{ { { "extended_key_usage", "serverAuth" }, { "validity_days", "90" },
	    { "san", "dns" }, { "class", "signing" } }, NULL,
	    "line 5: [product p] class: serverAuth certificates may not have nonRepudiation "
	    "(CA/Browser Forum TLS Baseline Requirements): use class = authentication" },
	{ { { "extended_key_usage", "serverAuth" }, { "validity_days", "90" },
	    { "san", "dns, uri" }, { "san_required", "yes" } }, NULL,
	    "line 12: [product p] san: a serverAuth product may allow only dns and ip SANs "
	    "(CA/Browser Forum TLS Baseline Requirements)" },
	{ { { "extended_key_usage", "emailProtection" }, { "san", "dns" } }, NULL,
	    "line 12: [product p] san: an emailProtection product must allow email SANs "
	    "(CA/Browser Forum S/MIME Baseline Requirements)" },
	{ { { "extended_key_usage", "emailProtection" } }, NULL,
	    "line 13: [product p] san_required: an emailProtection product must require a SAN: "
	    "set san_required = yes" },
	{ { { "extended_key_usage", "codeSigning" } }, NULL,
	    "line 14: [product p] storage: code-signing keys must be on hardware (CA/Browser Forum "
	    "Code Signing Baseline Requirements): set storage = hardware" },
	{ { { "extended_key_usage", "codeSigning" }, { "storage", "hardware" },
	    { "class", "signing" } }, NULL,
	    "line 5: [product p] class: codeSigning certificates may have only digitalSignature "
	    "(CA/Browser Forum Code Signing Baseline Requirements): use class = authentication" },
	/* section names */
	{ { { NULL, NULL } }, "[product]",
	    "line 18: [product] needs a name, as in [product epcs]" },
	{ { { NULL, NULL } }, "[product Big]",
	    "line 18: [product Big] a product name is 1 to 63 characters of a-z, 0-9 and '-'" },
	{ { { NULL, NULL } }, "[product a_b]",
	    "line 18: [product a_b] a product name is 1 to 63 characters of a-z, 0-9 and '-'" },
	{ { { NULL, NULL } }, "[product two words]",
	    "line 18: [product two words] a product name is 1 to 63 characters of a-z, 0-9 and "
	    "'-'" },
	{ { { NULL, NULL } },
	    "[product x123456789012345678901234567890123456789012345678901234567890123]",
	    "line 18: [product x123456789012345678901234567890123456789012345678901234567890123] a "
	    "product name is 1 to 63 characters of a-z, 0-9 and '-'" },
	{ { { NULL, NULL } }, "[product q]",
	    "line 18: [product q] missing required key 'title'" },
};

static void test_load_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_products); i++) {
		const struct bad_product *c = &bad_products[i];
		struct tsr_products ps;

		print_message("case %zu: %s\n", i, c->detail);
		assert_int_equal(load_changed(c->ch, c->extra, &ps), TSR_ERR_CONFIG);
		assert_string_equal(tsr_error_detail(), c->detail);
		assert_null(ps.items);
		assert_int_equal(ps.n, 0);
	}
}

static void test_load_good_variants(void **state)
{
	static const struct change optional_gone[] = {
		{ "subject_allowed", NULL }, { "san", NULL }, { "san_required", NULL },
		{ NULL, NULL }
	};
	static const struct change custom[] = {
		{ "extended_key_usage", "1.2.3.4.5, timestamping, documentSigning" },
		{ "subject_required", "c, givenName" }, { "subject_allowed", "CN" }, { NULL, NULL }
	};
	struct tsr_products ps;
	const struct tsr_product *p;

	(void)state;
	assert_int_equal(load_changed(NULL, "description = A test product.", &ps), 0);
	p = tsr_product_find(&ps, "p");
	assert_non_null(p);
	assert_string_equal(p->title, "P");
	assert_string_equal(p->description, "A test product.");
	assert_int_equal(p->validity_days, 365);
	assert_int_equal(p->max_validity_days, 1095);
	tsr_products_free(&ps);

	/* Optional keys: no description, subject_allowed = the required ones, no SANs. */
	assert_int_equal(load_changed(optional_gone, NULL, &ps), 0);
	p = &ps.items[0];
	assert_string_equal(p->description, "");
	assert_int_equal(p->n_subject_allowed, 1);
	assert_string_equal(p->subject_allowed[0], "CN");
	assert_int_equal(p->san_allowed, 0);
	assert_false(p->san_required);
	tsr_products_free(&ps);

	/* Dotted EKUs, names in any case, attributes stored by their short names,
	 * required attributes added to the allowed ones. */
	assert_int_equal(load_changed(custom, NULL, &ps), 0);
	p = &ps.items[0];
	assert_int_equal(p->n_eku, 3);
	assert_string_equal(p->eku[0], "1.2.3.4.5");
	assert_string_equal(p->eku[1], "1.3.6.1.5.5.7.3.8");
	assert_string_equal(p->eku[2], "1.3.6.1.5.5.7.3.36");
	assert_string_equal(p->subject_required[0], "C");
	assert_string_equal(p->subject_required[1], "GN");
	assert_int_equal(p->n_subject_allowed, 3);
	assert_true(has(p->subject_allowed, p->n_subject_allowed, "CN"));
	assert_true(has(p->subject_allowed, p->n_subject_allowed, "C"));
	assert_true(has(p->subject_allowed, p->n_subject_allowed, "GN"));
	tsr_products_free(&ps);
}

static void test_no_products(void **state)
{
	struct tsr_products ps;

	(void)state;
	assert_int_equal(load_text("[ca]\nname = x\n", &ps), TSR_ERR_CONFIG);
	assert_string_equal(tsr_error_detail(),
	    "no [product NAME] section: the CA needs at least one product");
	assert_int_equal(load_text("", &ps), TSR_ERR_CONFIG);
	/* Sections of other modules are not the products' business. */
	assert_int_equal(load_changed(NULL, "[products-ui]\ncolour = blue", &ps), 0);
	assert_int_equal(ps.n, 1);
	tsr_products_free(&ps);
}

/* ------------------------------------------------------------------ checking requests */

static void test_check_key(void **state)
{
	struct tsr_products ps;
	const struct tsr_product *cs, *epcs;

	(void)state;
	load_defaults(&ps);
	cs = tsr_product_find(&ps, "code-signing");
	epcs = tsr_product_find(&ps, "epcs");
	assert_int_equal(tsr_product_check_key(cs, TSR_KEY_EC_P256), 0);
	assert_int_equal(tsr_product_check_key(cs, TSR_KEY_RSA_4096), 0);
	assert_int_equal(tsr_product_check_key(cs, TSR_KEY_RSA_2048), TSR_ERR_KEY);
	assert_string_equal(tsr_error_detail(), "key type rsa-2048 is not allowed by product "
	    "code-signing (allowed: ec-p256, ec-p384, rsa-3072, rsa-4096)");
	assert_int_equal(tsr_product_check_key(epcs, TSR_KEY_RSA_2048), 0);
	assert_int_equal(tsr_product_check_key(epcs, TSR_KEY_RSA_4096), TSR_ERR_KEY);
	assert_int_equal(tsr_product_check_key(epcs, TSR_KEY_NONE), TSR_ERR_KEY);
	tsr_products_free(&ps);
}

static void expect_policy(int r, const char *detail)
{
	assert_int_equal(r, TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), detail);
}

static void test_check_subject_attributes(void **state)
{
	struct tsr_products ps;
	const struct tsr_product *epcs, *doc;
	struct tsr_san email = { TSR_SAN_EMAIL, "jane@example.com" };
	X509_NAME *n;

	(void)state;
	load_defaults(&ps);
	epcs = tsr_product_find(&ps, "epcs");
	doc = tsr_product_find(&ps, "document-signing");

	n = make_name("C", "US", "ST", "Ohio", "GN", "Jane", "SN", "Doe", "CN", "Jane Doe", NULL);
	assert_int_equal(tsr_product_check_subject(epcs, n, NULL, 0), 0);
	assert_int_equal(tsr_product_check_subject(epcs, n, &email, 1), 0);
	X509_NAME_free(n);

	n = make_name("CN", "Jane Doe", NULL);
	expect_policy(tsr_product_check_subject(epcs, n, NULL, 0),
	    "product epcs requires subject attribute C");
	X509_NAME_free(n);

	n = make_name("C", "US", "OU", "Pharmacy", "CN", "Jane Doe", NULL);
	expect_policy(tsr_product_check_subject(epcs, n, NULL, 0),
	    "subject attribute OU is not allowed by product epcs (allowed: CN, C, O, L, ST, "
	    "serialNumber, emailAddress, GN, SN)");
	X509_NAME_free(n);

	n = make_name("C", "US", "CN", "Jane Doe", "CN", "J. Doe", NULL);
	expect_policy(tsr_product_check_subject(epcs, n, NULL, 0),
	    "subject attribute CN appears more than once");
	X509_NAME_free(n);

	/* An attribute Tessera does not support at all. */
	n = make_name("C", "US", "businessCategory", "Private Organization", "CN", "Jane Doe",
	    NULL);
	assert_int_equal(tsr_product_check_subject(epcs, n, NULL, 0), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "is not allowed by product epcs"));
	X509_NAME_free(n);

	/* Two values in one RDN (CN=Jane Doe+C=US). */
	n = make_name("CN", "Jane Doe", NULL);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
	    (const unsigned char *)"US", -1, -1, -1), 1);
	expect_policy(tsr_product_check_subject(epcs, n, NULL, 0),
	    "multi-valued RDNs are not allowed");
	X509_NAME_free(n);

	/* OU and DC may repeat where they are allowed. */
	n = make_name("C", "US", "O", "Acme", "OU", "Sales", "OU", "East", "CN", "Jane Doe", NULL);
	assert_int_equal(tsr_product_check_subject(doc, n, NULL, 0), 0);
	X509_NAME_free(n);
	tsr_products_free(&ps);
}

static void test_check_subject_sans(void **state)
{
	struct tsr_products ps;
	const struct tsr_product *epcs, *smime, *cs;
	struct tsr_san dns = { TSR_SAN_DNS, "www.example.com" };
	struct tsr_san email = { TSR_SAN_EMAIL, "jane@example.com" };
	struct tsr_san two_emails[] = { email, email };
	X509_NAME *n;

	(void)state;
	load_defaults(&ps);
	epcs = tsr_product_find(&ps, "epcs");
	smime = tsr_product_find(&ps, "smime");
	cs = tsr_product_find(&ps, "code-signing");

	n = make_name("C", "US", "CN", "Jane Doe", NULL);
	expect_policy(tsr_product_check_subject(epcs, n, &dns, 1),
	    "SAN type dns is not allowed by product epcs (allowed: email)");
	expect_policy(tsr_product_check_subject(smime, n, NULL, 0),
	    "product smime requires a SAN of type email");
	assert_int_equal(tsr_product_check_subject(smime, n, &email, 1), 0);
	expect_policy(tsr_product_check_subject(smime, n, two_emails, 2),
	    "SAN email:jane@example.com is given twice");
	X509_NAME_free(n);

	n = make_name("C", "US", "O", "Acme Software", NULL);
	assert_int_equal(tsr_product_check_subject(cs, n, NULL, 0), 0);
	expect_policy(tsr_product_check_subject(cs, n, &email, 1),
	    "SAN type email is not allowed by product code-signing (allowed: none)");
	X509_NAME_free(n);
	tsr_products_free(&ps);
}

static void test_check_subject_server(void **state)
{
	struct tsr_products ps;
	const struct tsr_product *tls, *device;
	struct tsr_san sans[] = {
		{ TSR_SAN_DNS, "www.example.com" },
		{ TSR_SAN_DNS, "example.com" },
		{ TSR_SAN_IP, "192.0.2.1" },
	};
	struct tsr_san email = { TSR_SAN_EMAIL, "jane@example.com" };
	struct tsr_san *many;
	X509_NAME *n;

	(void)state;
	load_defaults(&ps);
	tls = tsr_product_find(&ps, "tls-server");
	device = tsr_product_find(&ps, "device");

	/* No CN at all is fine; the SANs carry the names. */
	n = X509_NAME_new();
	assert_int_equal(tsr_product_check_subject(tls, n, sans, 3), 0);
	expect_policy(tsr_product_check_subject(tls, n, NULL, 0),
	    "product tls-server requires a SAN of type dns or ip");
	expect_policy(tsr_product_check_subject(tls, n, &email, 1),
	    "SAN type email is not allowed by product tls-server (allowed: dns, ip)");
	X509_NAME_free(n);

	/* a copy of the SAN, byte for byte (BR 7.1.4.3); SANs are lower-case */
	n = make_name("C", "US", "O", "Example Inc", "CN", "WWW.Example.COM", NULL);
	expect_policy(tsr_product_check_subject(tls, n, sans, 3),
	    "subject CN 'WWW.Example.COM' is not a copy of one of the dns or ip SANs "
	    "(lower-case), as product tls-server (serverAuth) requires");
	X509_NAME_free(n);

	n = make_name("CN", "192.0.2.1", NULL);
	assert_int_equal(tsr_product_check_subject(tls, n, sans, 3), 0);
	X509_NAME_free(n);

	n = make_name("CN", "mail.example.com", NULL);
	expect_policy(tsr_product_check_subject(tls, n, sans, 3),
	    "subject CN 'mail.example.com' is not a copy of one of the dns or ip SANs "
	    "(lower-case), as product tls-server (serverAuth) requires");
	expect_policy(tsr_product_check_subject(device, n, sans, 2),
	    "subject CN 'mail.example.com' is not a copy of one of the dns or ip SANs "
	    "(lower-case), as product device (serverAuth) requires");
	X509_NAME_free(n);

	n = make_name("OU", "Web", "CN", "www.example.com", NULL);
	expect_policy(tsr_product_check_subject(tls, n, sans, 3),
	    "subject attribute OU is not allowed by product tls-server (allowed: CN, O, L, ST, C)");
	X509_NAME_free(n);

	/* At most TSR_SAN_MAX SANs. */
	many = calloc(TSR_SAN_MAX + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= TSR_SAN_MAX; i++) {
		many[i].type = TSR_SAN_DNS;
		assert_true(asprintf(&many[i].value, "h%zu.example.com", i) > 0);
	}
	n = X509_NAME_new();
	assert_int_equal(tsr_product_check_subject(tls, n, many, TSR_SAN_MAX), 0);
	expect_policy(tsr_product_check_subject(tls, n, many, TSR_SAN_MAX + 1),
	    "101 SANs are more than the 100 allowed");
	X509_NAME_free(n);
	for (size_t i = 0; i <= TSR_SAN_MAX; i++)
		free(many[i].value);
	free(many);
	tsr_products_free(&ps);
}

/* An emailProtection certificate needs the address it protects, even where
 * the product allows other SAN types too. */
static void test_check_subject_email(void **state)
{
	static const struct change smime_uri[] = {
		{ "extended_key_usage", "emailProtection" }, { "san", "email, uri" },
		{ "san_required", "yes" }, { NULL, NULL }
	};
	struct tsr_san uri = { TSR_SAN_URI, "https://example.com/jane" };
	struct tsr_san both[] = { uri, { TSR_SAN_EMAIL, "jane@example.com" } };
	struct tsr_products ps;
	X509_NAME *n;

	(void)state;
	assert_int_equal(load_changed(smime_uri, NULL, &ps), 0);
	n = make_name("CN", "Jane Doe", NULL);
	expect_policy(tsr_product_check_subject(&ps.items[0], n, &uri, 1),
	    "product p (emailProtection) requires an email SAN");
	assert_int_equal(tsr_product_check_subject(&ps.items[0], n, both, 2), 0);
	expect_policy(tsr_product_check_subject(&ps.items[0], n, NULL, 0),
	    "product p requires a SAN of type email or uri");
	X509_NAME_free(n);
	tsr_products_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_products),
		cmocka_unit_test(test_default_details),
		cmocka_unit_test(test_default_config_text),
		cmocka_unit_test(test_load_rules),
		cmocka_unit_test(test_load_good_variants),
		cmocka_unit_test(test_no_products),
		cmocka_unit_test(test_check_key),
		cmocka_unit_test(test_check_subject_attributes),
		cmocka_unit_test(test_check_subject_sans),
		cmocka_unit_test(test_check_subject_server),
		cmocka_unit_test(test_check_subject_email),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
