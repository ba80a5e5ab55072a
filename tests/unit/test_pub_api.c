/*
 * test_pub_api.c - the public certificate lookups (src/http/pub_api.c) on a
 * real CA home (SoftHSM2 token, SQLite store): POST
 * /api/v1/certificate-check and GET /api/v1/certificate-status/{serial},
 * called through the routing table with the body checked against the
 * route's schema, as the server does.  A certificate of this CA is good
 * until revoked; another CA's, or a forgery that copies a real serial, is
 * "unknown" and never good; bad input is 400 with a detail naming the
 * member; the answer holds nothing but the certificate and its status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "http/http.h"
#include "ra/app.h"

struct fx {
	char dir[64], home[96];
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_http_app app;
	char *pem;                 /* a certificate of this CA (alpha) */
	char serial[TSR_SERIAL_HEX_MAX + 1];
	char *other_pem;           /* a self-signed certificate */
	char *forged_pem;          /* self-signed, with bravo's serial */
	char bravo[TSR_SERIAL_HEX_MAX + 1];
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int sh(const char *fmt, ...) TSR_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* Issue a device certificate for CN=name.example.org; its PEM (new string)
 * and serial. */
static char *issue(struct fx *fx, const char *name, char serial[TSR_SERIAL_HEX_MAX + 1])
{
	struct tsr_issue_request req;
	struct tsr_cert_record rec;
	char path[160], subject[64], san[64], *csr, *pem = NULL;
	const char *sans[1] = { san };
	BIO *b = BIO_new(BIO_s_mem());
	const uint8_t *p;
	X509 *x = NULL;

	snprintf(subject, sizeof(subject), "CN=%s.example.org", name);
	snprintf(san, sizeof(san), "dns:%s.example.org", name);
	if (sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout '%s/%s.key' -subj '/%s' -out '%s/%s.csr' 2>/dev/null", fx->dir, name,
	    subject, fx->dir, name) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.csr", fx->dir, name);
	if ((csr = slurp(path)) == NULL)
		return NULL;
	memset(&req, 0, sizeof(req));
	memset(&rec, 0, sizeof(rec));
	req.product = "device";
	req.csr = (const uint8_t *)csr;
	req.csr_len = strlen(csr);
	req.subject = subject;
	req.sans = sans;
	req.n_sans = 1;
	if (tsr_ca_issue(fx->ca, "test", &req, &rec) != 0) {
		fprintf(stderr, "issue: %s\n", tsr_error_detail());
		free(csr);
		return NULL;
	}
	p = rec.der;
	x = d2i_X509(NULL, &p, (long)rec.der_len);
	if (x != NULL && b != NULL && PEM_write_bio_X509(b, x) == 1) {
		char *data;
		long n = BIO_get_mem_data(b, &data);

		if ((pem = calloc(1, (size_t)n + 1)) != NULL)
			memcpy(pem, data, (size_t)n);
	}
	snprintf(serial, TSR_SERIAL_HEX_MAX + 1, "%s", rec.serial);
	X509_free(x);
	BIO_free(b);
	tsr_cert_record_clear(&rec);
	free(csr);
	return pem;
}

static int setup(void **state)
{
	struct tsr_init_options o;
	struct fx *fx = calloc(1, sizeof(*fx));
	char path[160];

	if (fx == NULL || getenv("SOFTHSM_MODULE") == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsr-pub-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->home, sizeof(fx->home), "%s/ca", fx->dir);
	tsr_init_options_default(&o);
	o.home = fx->home;
	o.key_type = TSR_KEY_EC_P256;
	o.softhsm_module = getenv("SOFTHSM_MODULE");
	if (tsr_ca_init(&o, "test") != 0 || tsr_ca_open(fx->home, &fx->ca) != 0 ||
	    tsr_ra_open(fx->ca, &fx->ra) != 0 || tsr_ca_login(fx->ca, "test") != 0) {
		fprintf(stderr, "setup: %s\n", tsr_error_detail());
		return -1;
	}
	fx->app.ctx = fx->ra;
	fx->app.cfg = tsr_ca_config(fx->ca);
	if ((fx->pem = issue(fx, "alpha", fx->serial)) == NULL)
		return -1;
	{
		char *bravo = issue(fx, "bravo", fx->bravo);

		if (bravo == NULL)
			return -1;
		free(bravo);
	}
	if (sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout '%s/o.key' -subj '/CN=alpha.example.org' -days 30 -out '%s/o.pem' "
	    "2>/dev/null", fx->dir, fx->dir) != 0 ||
	    sh("openssl req -x509 -key '%s/bravo.key' -subj '/CN=bravo.example.org' "
	    "-set_serial 0x%s -days 30 -out '%s/f.pem' 2>/dev/null", fx->dir, fx->bravo,
	    fx->dir) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/o.pem", fx->dir);
	fx->other_pem = slurp(path);
	snprintf(path, sizeof(path), "%s/f.pem", fx->dir);
	fx->forged_pem = slurp(path);
	if (fx->other_pem == NULL || fx->forged_pem == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	if (fx == NULL)
		return 0;
	tsr_ra_close(fx->ra);
	tsr_ca_close(fx->ca);
	free(fx->pem);
	free(fx->other_pem);
	free(fx->forged_pem);
	if (sh("rm -rf '%s'", fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ calling */

/* METHOD PATH with body (JSON text or NULL) through the routing table:
 * 0 and *out the answer, or the error (the detail in tsr_error_detail()). */
static int call(struct fx *fx, const char *method, const char *path, const char *body,
    json_t **out)
{
	size_t n;
	const struct tsr_http_route *routes = tsr_http_pub_routes(&n);
	struct tsr_http_match m;
	struct tsr_http_request req;
	struct tsr_http_response res;
	json_t *b = NULL;
	int r;

	*out = NULL;
	assert_int_equal(tsr_http_route_find(routes, n, method, path, &m), 0);
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	res.body_fd = -1;
	req.app = &fx->app;
	req.route = m.route;
	req.method = method;
	req.path = path;
	memcpy(req.params, m.params, sizeof(m.params));
	req.n_params = m.n_params;
	if (m.route->body != NULL) {
		assert_non_null(body);
		if ((r = tsr_json_read(body, strlen(body), m.route->body, &b)) != 0)
			return r;
		req.body = b;
	}
	r = m.route->handler(&req, &res);
	json_decref(b);
	assert_null(res.raw);
	if (r == 0) {
		assert_non_null(res.json);
		*out = res.json;
	} else {
		assert_null(res.json);
	}
	return r;
}

/* POST /api/v1/certificate-check with {"pem": pem}. */
static int check_pem(struct fx *fx, const char *pem, json_t **out)
{
	json_t *b = json_pack("{s:s}", "pem", pem);
	char *text = json_dumps(b, JSON_COMPACT);
	int r;

	assert_non_null(text);
	r = call(fx, "POST", "/api/v1/certificate-check", text, out);
	free(text);
	json_decref(b);
	return r;
}

/* The same with {"der": base64 of len bytes}. */
static int check_der(struct fx *fx, const uint8_t *der, size_t len, json_t **out)
{
	char *b64 = NULL, *text;
	size_t n;
	json_t *b;
	int r;

	assert_int_equal(tsr_base64_encode(der, len, 0, &b64, &n), 0);
	b = json_pack("{s:s}", "der", b64);
	text = json_dumps(b, JSON_COMPACT);
	r = call(fx, "POST", "/api/v1/certificate-check", text, out);
	free(text);
	free(b64);
	json_decref(b);
	return r;
}

static const char *str(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	if (s == NULL)
		fail_msg("no string %s in the answer", key);
	return s;
}

static bool truth(const json_t *v, const char *key)
{
	json_t *b = json_object_get(v, key);

	assert_true(json_is_boolean(b));
	return json_is_true(b);
}

/* The PEM's DER (new buffer). */
static uint8_t *der_of(const char *pem, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_free(x);
	BIO_free(b);
	return der;
}

/* Only these keys, ever: nothing about an application or an applicant. */
static void only_public(const json_t *v)
{
	static const char *const allowed[] = { "good", "issued_by_this_ca", "serial", "status",
		"status_detail", "validity", "chain", "chain_detail", "certificate", "revoked_at",
		"reason", "product" };
	const char *key;
	json_t *x;

	json_object_foreach((json_t *)v, key, x) {
		bool ok = false;

		for (size_t i = 0; i < TSR_ARRAY_LEN(allowed); i++)
			ok = ok || strcmp(allowed[i], key) == 0;
		if (!ok)
			fail_msg("the answer has %s", key);
	}
	(void)x;
}

/* ------------------------------------------------------------------ tests */

static void test_good_pem(void **state)
{
	struct fx *fx = *state;
	json_t *v, *c;

	assert_int_equal(check_pem(fx, fx->pem, &v), 0);
	only_public(v);
	assert_true(truth(v, "good"));
	assert_true(truth(v, "issued_by_this_ca"));
	assert_string_equal(str(v, "status"), "valid");
	assert_string_equal(str(v, "chain"), "good");
	assert_string_equal(str(v, "validity"), "current");
	assert_string_equal(str(v, "serial"), fx->serial);
	assert_string_equal(str(v, "product"), "device");
	c = json_object_get(v, "certificate");
	assert_string_equal(str(c, "subject"), "CN=alpha.example.org");
	assert_string_equal(str(c, "serial"), fx->serial);
	assert_non_null(strstr(str(c, "issuer"), "Issuing CA"));
	assert_string_equal(str(c, "key"), "ec-p256");
	assert_int_equal(strlen(str(c, "sha256")), 64);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "sans"), 0)),
	    "dns:alpha.example.org");
	assert_true(json_array_size(json_object_get(c, "eku")) >= 1);
	assert_int_equal(json_array_size(json_object_get(c, "policies")), 1);
	assert_true(json_is_false(json_object_get(c, "ca")));
	assert_null(json_object_get(v, "revoked_at"));
	json_decref(v);
	/* The same certificate with white space around it. */
	{
		char *spaced = calloc(1, strlen(fx->pem) + 16);

		sprintf(spaced, " \n\t%s\n\n", fx->pem);
		assert_int_equal(check_pem(fx, spaced, &v), 0);
		assert_true(truth(v, "good"));
		json_decref(v);
		free(spaced);
	}
	/* Carriage returns are control characters, which the JSON reader
	 * refuses in any string (a browser's text box sends line feeds). */
	{
		json_t *b = json_pack("{s:s}", "pem", "-----BEGIN CERTIFICATE-----\r\nAAAA\r\n");
		char *t = json_dumps(b, JSON_COMPACT);

		assert_int_equal(call(fx, "POST", "/api/v1/certificate-check", t, &v),
		    TSR_ERR_INVALID);
		assert_non_null(strstr(tsr_error_detail(), "/pem"));
		free(t);
		json_decref(b);
	}
}

static void test_good_der_and_serial(void **state)
{
	struct fx *fx = *state;
	size_t len;
	uint8_t *der = der_of(fx->pem, &len);
	char path[192], upper[TSR_SERIAL_HEX_MAX * 3 + 1];
	json_t *v;
	size_t o = 0;

	assert_int_equal(check_der(fx, der, len, &v), 0);
	assert_true(truth(v, "good"));
	assert_string_equal(str(v, "serial"), fx->serial);
	json_decref(v);
	OPENSSL_free(der);
	/* Upper case with colons, as openssl and browsers show it. */
	for (size_t i = 0; fx->serial[i]; i++) {
		if (i > 0 && i % 2 == 0)
			upper[o++] = ':';
		upper[o++] = (char)(fx->serial[i] >= 'a' ? fx->serial[i] - 32 : fx->serial[i]);
	}
	upper[o] = '\0';
	snprintf(path, sizeof(path), "/api/v1/certificate-status/%s", upper);
	assert_int_equal(call(fx, "GET", path, NULL, &v), 0);
	only_public(v);
	assert_true(truth(v, "good"));
	assert_string_equal(str(v, "status"), "valid");
	assert_string_equal(str(json_object_get(v, "certificate"), "subject"),
	    "CN=alpha.example.org");
	json_decref(v);
}

static void test_unknown_serial(void **state)
{
	struct fx *fx = *state;
	json_t *v;

	assert_int_equal(call(fx, "GET", "/api/v1/certificate-status/00abcdef0123", NULL, &v), 0);
	only_public(v);
	assert_false(truth(v, "good"));
	assert_false(truth(v, "issued_by_this_ca"));
	assert_string_equal(str(v, "status"), "unknown");
	assert_string_equal(str(v, "status_detail"), "not issued by this CA");
	assert_string_equal(str(v, "serial"), "abcdef0123");
	assert_null(json_object_get(v, "certificate"));
	json_decref(v);
}

static void test_bad_serials(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {
		"/api/v1/certificate-status/xyz",
		"/api/v1/certificate-status/12-34",
		"/api/v1/certificate-status/0x",
		"/api/v1/certificate-status/"
		    "123456789012345678901234567890123456789012",   /* 42 digits */
	};
	json_t *v;

	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		assert_int_equal(call(fx, "GET", bad[i], NULL, &v), TSR_ERR_INVALID);
		assert_non_null(strstr(tsr_error_detail(), "serial number"));
	}
	/* Zero is a serial this CA never issues. */
	assert_int_equal(call(fx, "GET", "/api/v1/certificate-status/0", NULL, &v), 0);
	assert_string_equal(str(v, "status"), "unknown");
	json_decref(v);
}

static void test_foreign(void **state)
{
	struct fx *fx = *state;
	json_t *v;

	assert_int_equal(check_pem(fx, fx->other_pem, &v), 0);
	only_public(v);
	assert_false(truth(v, "good"));
	assert_false(truth(v, "issued_by_this_ca"));
	assert_string_equal(str(v, "status"), "unknown");
	assert_string_equal(str(v, "chain"), "bad");
	assert_null(json_object_get(v, "product"));
	assert_string_equal(str(json_object_get(v, "certificate"), "subject"),
	    "CN=alpha.example.org");
	json_decref(v);
	/* A forgery with a real, valid certificate's serial is not that one. */
	assert_int_equal(check_pem(fx, fx->forged_pem, &v), 0);
	assert_false(truth(v, "good"));
	assert_false(truth(v, "issued_by_this_ca"));
	assert_string_equal(str(v, "status"), "unknown");
	assert_string_equal(str(v, "serial"), fx->bravo);
	assert_null(json_object_get(v, "revoked_at"));
	json_decref(v);
}

static void test_ca_certificates_chain(void **state)
{
	struct fx *fx = *state;
	unsigned char *der = NULL;
	int n = i2d_X509(tsr_ca_issuing_cert(tsr_ra_ca(fx->ra)), &der);
	json_t *v;

	assert_true(n > 0);
	assert_int_equal(check_der(fx, der, (size_t)n, &v), 0);
	assert_string_equal(str(v, "chain"), "good");
	assert_true(json_is_true(json_object_get(json_object_get(v, "certificate"), "ca")));
	json_decref(v);
	OPENSSL_free(der);
}

static void refused(struct fx *fx, const char *body, int code, const char *pointer,
    const char *words)
{
	json_t *v = NULL;
	int r = call(fx, "POST", "/api/v1/certificate-check", body, &v);

	if (r != code)
		fail_msg("%.80s: %d, expected %d (%s)", body, r, code, tsr_error_detail());
	if (pointer != NULL && strncmp(tsr_error_detail(), pointer, strlen(pointer)) != 0)
		fail_msg("%.80s: the detail \"%s\" does not start with %s", body,
		    tsr_error_detail(), pointer);
	if (words != NULL && strstr(tsr_error_detail(), words) == NULL)
		fail_msg("%.80s: the detail \"%s\" does not say \"%s\"", body, tsr_error_detail(),
		    words);
}

static void refused_pem(struct fx *fx, const char *pem, const char *words)
{
	json_t *b = json_pack("{s:s}", "pem", pem);
	char *text = json_dumps(b, JSON_COMPACT);

	refused(fx, text, TSR_ERR_INVALID, "/pem: ", words);
	free(text);
	json_decref(b);
}

static void test_bad_input(void **state)
{
	struct fx *fx = *state;
	size_t len, n = strlen(fx->pem);
	uint8_t *der = der_of(fx->pem, &len), *longer = malloc(len + 1);
	char *b64 = NULL, *text = malloc(2 * n + 64), *pem2 = malloc(2 * n + 1);
	size_t b64_len;
	json_t *v;

	/* The schema: one of the two members, strings, no others. */
	refused(fx, "{}", TSR_ERR_INVALID, NULL, "either");
	refused(fx, "{\"pem\":\"x\",\"der\":\"eA==\"}", TSR_ERR_INVALID, NULL, "not both");
	refused(fx, "{\"pem\":\"\"}", TSR_ERR_INVALID, "/pem", NULL);
	refused(fx, "{\"pem\":1}", TSR_ERR_INVALID, "/pem", NULL);
	refused(fx, "{\"certificate\":\"x\"}", TSR_ERR_INVALID, NULL, NULL);
	refused(fx, "[]", TSR_ERR_INVALID, NULL, NULL);
	refused(fx, "not json", TSR_ERR_PARSE, NULL, NULL);
	/* PEM. */
	refused_pem(fx, "garbage", "BEGIN CERTIFICATE");
	refused_pem(fx, "   \n", "empty");
	refused_pem(fx, "-----BEGIN CERTIFICATE-----\n", "END CERTIFICATE");
	refused_pem(fx, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "nothing");
	refused_pem(fx, "-----BEGIN CERTIFICATE----- MIIB\n-----END CERTIFICATE-----\n",
	    "must end");
	refused_pem(fx, "-----BEGIN CERTIFICATE-----\nM I I B\n-----END CERTIFICATE-----\n",
	    "base64");
	refused_pem(fx, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    "not a certificate");
	snprintf(pem2, 2 * n + 1, "%s%s", fx->pem, fx->pem);
	refused_pem(fx, pem2, "more than one");
	snprintf(text, 2 * n + 64, "%strailing words\n", fx->pem);
	refused_pem(fx, text, "text after");
	snprintf(text, 2 * n + 64, "Certificate:\n%s", fx->pem);
	refused_pem(fx, text, "BEGIN CERTIFICATE");
	/* A private key is not a certificate. */
	refused_pem(fx, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    "BEGIN CERTIFICATE");
	/* Cut short: the last line of base64 gone. */
	{
		char *cut = strdup(fx->pem), *end = strstr(cut, "-----END");
		char *prev = end - 2;

		while (prev > cut && *prev != '\n')
			prev--;
		memmove(prev + 1, end, strlen(end) + 1);
		refused_pem(fx, cut, NULL);
		free(cut);
	}
	/* DER: one certificate and nothing after it. */
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(check_der(fx, longer, len + 1, &v), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "/der: there are 1 bytes after"));
	assert_int_equal(check_der(fx, der, len - 1, &v), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "/der: this is not a certificate"));
	refused(fx, "{\"der\":\"not base64!\"}", TSR_ERR_INVALID, "/der: ", "base64");
	refused(fx, "{\"der\":\"AAAA\"}", TSR_ERR_INVALID, "/der: ", "not a certificate");
	assert_int_equal(tsr_base64_encode(der, len, 64, &b64, &b64_len), 0);
	/* Line breaks are for PEM only. */
	{
		json_t *b = json_pack("{s:s}", "der", b64);
		char *t = json_dumps(b, JSON_COMPACT);

		refused(fx, t, TSR_ERR_INVALID, "/der", NULL);
		free(t);
		json_decref(b);
	}
	free(b64);
	free(text);
	free(pem2);
	free(longer);
	OPENSSL_free(der);
}

static void test_too_large(void **state)
{
	struct fx *fx = *state;
	size_t n = 65537;
	char *big = malloc(n + 32);

	memcpy(big, "{\"pem\":\"", 8);
	memset(big + 8, 'A', n);
	strcpy(big + 8 + n, "\"}");
	refused(fx, big, TSR_ERR_INVALID, "/pem", NULL);
	free(big);
}

/* Last: it changes alpha's status. */
static void test_revoked(void **state)
{
	struct fx *fx = *state;
	char path[128];
	json_t *v;

	assert_int_equal(tsr_ca_suspend(fx->ca, NULL, "test", fx->serial), 0);
	assert_int_equal(check_pem(fx, fx->pem, &v), 0);
	assert_false(truth(v, "good"));
	assert_true(truth(v, "issued_by_this_ca"));
	assert_string_equal(str(v, "status"), "suspended");
	assert_string_equal(str(v, "reason"), "certificateHold");
	assert_non_null(json_object_get(v, "revoked_at"));
	json_decref(v);
	assert_int_equal(tsr_ca_revoke(fx->ca, NULL, "test", fx->serial, "keyCompromise", 0), 0);
	assert_int_equal(check_pem(fx, fx->pem, &v), 0);
	only_public(v);
	assert_false(truth(v, "good"));
	assert_string_equal(str(v, "status"), "revoked");
	assert_string_equal(str(v, "reason"), "keyCompromise");
	assert_non_null(strstr(str(v, "status_detail"), "keyCompromise"));
	assert_string_equal(str(v, "chain"), "good");
	json_decref(v);
	snprintf(path, sizeof(path), "/api/v1/certificate-status/%s", fx->serial);
	assert_int_equal(call(fx, "GET", path, NULL, &v), 0);
	assert_false(truth(v, "good"));
	assert_string_equal(str(v, "status"), "revoked");
	assert_string_equal(str(v, "reason"), "keyCompromise");
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pem),
		cmocka_unit_test(test_good_der_and_serial),
		cmocka_unit_test(test_unknown_serial),
		cmocka_unit_test(test_bad_serials),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_ca_certificates_chain),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_revoked),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
