/*
 * test_officer_api.c - the officers' read routes (src/http/officer_api.c)
 * over a real HTTPS server, a real CA home and real sessions: the
 * certificate search (roles, filters, limit), the audit trail (roles,
 * filters, paging newest first) and the chain's verification, intact and
 * after a row is tampered with in SQLite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "ca/ca.h"
#include "http/http.h"
#include "ra/admin.h"
#include "ra/app.h"
#include "ra/secret.h"

#define PW "quiet harbour lantern 7"
/* A bearer token this test's authenticate takes for an applicant's session. */
#define APPLICANT_TOKEN "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

struct fx {
	char dir[64];
	char home[96], cert[96], key[96], log[96];
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_http_app app;
	struct tsr_http_server *srv;
	unsigned port;
	char serials[3][TSR_SERIAL_HEX_MAX + 1];   /* alpha, beta, gamma */
	char olive[96], rita[96], aud[96];         /* "Authorization: Bearer ..." */
};

/* cmd_serve.c's check of a bearer token, and one fixed applicant token. */
static int authenticate(struct tsr_http_app *app, const char *authorization, char *actor,
    size_t size)
{
	char token[TSR_HTTP_BEARER_CHARS + 1];
	struct tsr_store *st = NULL;
	int r;

	if ((r = tsr_http_bearer(authorization, token)) != 0)
		return r;
	if (strcmp(token, APPLICANT_TOKEN) == 0) {
		snprintf(actor, size, "applicant:AP-TEST-0000-0000");
		return 0;
	}
	if ((r = tsr_ra_store_acquire(app->ctx, &st)) == 0) {
		r = tsr_ra_session_check(app->ctx, st, token, actor, size);
		tsr_ra_store_release(app->ctx, st);
	}
	tsr_wipe(token, sizeof(token));
	return r;
}

/* A self-signed server certificate for 127.0.0.1 (curl does not check it). */
static void make_server_cert(struct fx *fx)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	FILE *fp;

	assert_non_null(k);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(fx->cert, "w"));
	PEM_write_X509(fp, x);
	fclose(fp);
	assert_non_null(fp = fopen(fx->key, "w"));
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void issue(struct fx *fx, const char *name, char serial[TSR_SERIAL_HEX_MAX + 1])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	char subject[64], san[64];
	const char *sans[1] = { san };
	struct tsr_cert_record rec;
	int n;

	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_true((n = i2d_X509_REQ(req, &der)) > 0);
	snprintf(subject, sizeof(subject), "CN=%s.example.org", name);
	snprintf(san, sizeof(san), "dns:%s.example.org", name);
	struct tsr_issue_request ir = { .product = "device", .csr = der, .csr_len = (size_t)n,
		.subject = subject, .sans = sans, .n_sans = 1 };

	memset(&rec, 0, sizeof(rec));
	if (tsr_ca_issue(fx->ca, "test", &ir, &rec) != 0)
		fail_msg("issue %s: %s", name, tsr_error_detail());
	snprintf(serial, TSR_SERIAL_HEX_MAX + 1, "%s", rec.serial);
	tsr_cert_record_clear(&rec);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

/* ------------------------------------------------------------------ the client */

struct reply {
	long status;
	struct tsr_buf body;
	json_t *json;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	return tsr_buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

/* METHOD path with the header auth (NULL: none) and body (NULL: none). */
static long call(const struct fx *fx, const char *method, const char *path, const char *auth,
    const char *body, struct reply *r)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[1200];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	tsr_buf_init(&r->body, 1 << 22);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", fx->port, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (auth != NULL)
		hdrs = curl_slist_append(hdrs, auth);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	if (r->body.len > 0)
		r->json = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
	return r->status;
}

static void reply_free(struct reply *r)
{
	tsr_buf_free(&r->body);
	json_decref(r->json);
}

/* GET path as auth: the status (the reply freed). */
static long status_of(const struct fx *fx, const char *path, const char *auth)
{
	struct reply r;
	long s = call(fx, "GET", path, auth, NULL, &r);

	reply_free(&r);
	return s;
}

/* GET path as auth, expecting 200: the array member of the answer
 * (a new reference); *more gets the answer's "more". */
static json_t *list_of(const struct fx *fx, const char *path, const char *auth,
    const char *member, bool *more)
{
	struct reply r;
	json_t *v;

	if (call(fx, "GET", path, auth, NULL, &r) != 200)
		fail_msg("GET %s: %ld %s", path, r.status, (const char *)r.body.data);
	v = json_incref(json_object_get(r.json, member));
	assert_true(json_is_array(v));
	if (more != NULL)
		*more = json_is_true(json_object_get(r.json, "more"));
	reply_free(&r);
	return v;
}

static void login(struct fx *fx, const char *user, char *out, size_t size)
{
	char body[128];
	struct reply r;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW "\"}", user);
	if (call(fx, "POST", "/api/v1/sessions", NULL, body, &r) != 201)
		fail_msg("login %s: %ld %s", user, r.status, (const char *)r.body.data);
	snprintf(out, size, "Authorization: Bearer %s",
	    json_string_value(json_object_get(r.json, "token")));
	reply_free(&r);
}

/* ------------------------------------------------------------------ fixture */

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct tsr_init_options o;
	struct tsr_password_list *list = NULL;
	struct tsr_store *st = NULL;
	struct tsr_http_config c;

	if (fx == NULL || getenv("SOFTHSM_MODULE") == NULL)
		return -1;
	tsr_secret_set_cost(true);
	strcpy(fx->dir, "/tmp/tessera-test-officer-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->home, sizeof(fx->home), "%s/ca", fx->dir);
	snprintf(fx->cert, sizeof(fx->cert), "%s/cert.pem", fx->dir);
	snprintf(fx->key, sizeof(fx->key), "%s/key.pem", fx->dir);
	snprintf(fx->log, sizeof(fx->log), "%s/access.log", fx->dir);
	make_server_cert(fx);
	tsr_init_options_default(&o);
	o.home = fx->home;
	o.key_type = TSR_KEY_EC_P256;
	o.softhsm_module = getenv("SOFTHSM_MODULE");
	if (tsr_ca_init(&o, "test") != 0 || tsr_ca_open(fx->home, &fx->ca) != 0 ||
	    tsr_ra_open(fx->ca, &fx->ra) != 0 || tsr_ra_store_acquire(fx->ra, &st) != 0 ||
	    tsr_password_list_builtin(&list) != 0 ||
	    tsr_ra_user_add(st, list, "test", "olive", NULL, NULL, "ra-officer,ca-admin",
	    PW) != 0 ||
	    tsr_ra_user_add(st, list, "test", "rita", NULL, NULL, "ra-officer", PW) != 0 ||
	    tsr_ra_user_add(st, list, "test", "aud", NULL, NULL, "auditor", PW) != 0)
		fail_msg("setup: %s", tsr_error_detail());
	tsr_password_list_free(list);
	tsr_ra_store_release(fx->ra, st);
	issue(fx, "alpha", fx->serials[0]);
	issue(fx, "beta", fx->serials[1]);
	issue(fx, "gamma", fx->serials[2]);
	fx->app.cfg = tsr_ca_config(fx->ca);
	fx->app.ctx = fx->ra;
	fx->app.authenticate = authenticate;
	tsr_http_config_default(&c);
	c.listen = "127.0.0.1:0";
	c.cert_pem_path = fx->cert;
	c.key_pem_path = fx->key;
	c.access_log_path = fx->log;
	c.timeout_seconds = 5;
	if (tsr_http_server_start(&c, &fx->app, &fx->srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	fx->port = tsr_http_server_port(fx->srv);
	login(fx, "olive", fx->olive, sizeof(fx->olive));
	login(fx, "rita", fx->rita, sizeof(fx->rita));
	login(fx, "aud", fx->aud, sizeof(fx->aud));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tsr_http_server_stop(fx->srv);
	tsr_ra_close(fx->ra);
	tsr_ca_close(fx->ca);
	assert_int_equal(tsr_dir_remove_tree(fx->dir), 0);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ tests */

static const char *const paths[] = { "/api/v1/certificates", "/api/v1/audit",
	"/api/v1/audit/verification" };

static void test_roles(void **state)
{
	struct fx *fx = *state;
	const char *applicant = "Authorization: Bearer " APPLICANT_TOKEN;

	for (size_t i = 0; i < TSR_ARRAY_LEN(paths); i++) {
		assert_int_equal(status_of(fx, paths[i], NULL), 401);
		assert_int_equal(status_of(fx, paths[i], applicant), 403);
		assert_int_equal(status_of(fx, paths[i], fx->olive), 200);
		assert_int_equal(status_of(fx, paths[i], fx->aud), 200);
	}
	/* An ra-officer searches certificates, but the audit trail is not theirs. */
	assert_int_equal(status_of(fx, paths[0], fx->rita), 200);
	assert_int_equal(status_of(fx, paths[1], fx->rita), 403);
	assert_int_equal(status_of(fx, paths[2], fx->rita), 403);
	/* Read-only routes. */
	assert_int_equal(status_of(fx, "/api/v1/audit?limit=1", fx->olive), 200);
	{
		struct reply r;

		assert_int_equal(call(fx, "POST", "/api/v1/audit", fx->olive, "{}", &r), 405);
		reply_free(&r);
	}
}

/* GET /api/v1/sessions/current: who the session is, read without moving
 * the idle limit; bearer or cookie; refusals are 401 unauthenticated. */
static void test_current_session(void **state)
{
	struct fx *fx = *state;
	const char *me = "/api/v1/sessions/current";
	char cookie[128], twice[200];
	struct reply r;
	json_t *roles;
	const char *idle;
	char idle_before[32];

	assert_int_equal(call(fx, "GET", me, fx->olive, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "kind")), "officer");
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "olive");
	roles = json_object_get(r.json, "roles");
	assert_int_equal(json_array_size(roles), 2);
	assert_string_equal(json_string_value(json_array_get(roles, 0)), "ra-officer");
	assert_string_equal(json_string_value(json_array_get(roles, 1)), "ca-admin");
	assert_non_null(json_string_value(json_object_get(r.json, "expires_at")));
	assert_non_null(idle = json_string_value(json_object_get(r.json, "idle_expires_at")));
	snprintf(idle_before, sizeof(idle_before), "%s", idle);
	reply_free(&r);
	/* A second later, asking again leaves the idle end where it was. */
	sleep(1);
	assert_int_equal(call(fx, "GET", me, fx->olive, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "idle_expires_at")),
	    idle_before);
	reply_free(&r);
	/* Any authenticated request moves it. */
	assert_int_equal(status_of(fx, "/api/v1/certificates?limit=1", fx->olive), 200);
	assert_int_equal(call(fx, "GET", me, fx->olive, NULL, &r), 200);
	assert_true(strcmp(json_string_value(json_object_get(r.json, "idle_expires_at")),
	    idle_before) > 0);
	reply_free(&r);
	/* The auditor's roles; the same session by its cookie. */
	assert_int_equal(call(fx, "GET", me, fx->aud, NULL, &r), 200);
	roles = json_object_get(r.json, "roles");
	assert_int_equal(json_array_size(roles), 1);
	assert_string_equal(json_string_value(json_array_get(roles, 0)), "auditor");
	reply_free(&r);
	snprintf(cookie, sizeof(cookie), "Cookie: other=1; tsr_session=%s",
	    fx->aud + strlen("Authorization: Bearer "));
	assert_int_equal(call(fx, "GET", me, cookie, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "aud");
	reply_free(&r);
	snprintf(twice, sizeof(twice), "%s; tsr_session=%s", cookie,
	    fx->olive + strlen("Authorization: Bearer "));
	assert_int_equal(status_of(fx, me, twice), 400);
	/* No session, a malformed or unknown one: the server's own 401. */
	assert_int_equal(call(fx, "GET", me, NULL, NULL, &r), 401);
	assert_string_equal(json_string_value(json_object_get(r.json, "type")),
	    TSR_PROBLEM_TYPE_BASE "unauthenticated");
	reply_free(&r);
	assert_int_equal(status_of(fx, me, "Authorization: Bearer nope"), 401);
	assert_int_equal(status_of(fx, me, "Cookie: tsr_session=nope"), 401);
	assert_int_equal(status_of(fx, me, "Authorization: Bearer " APPLICANT_TOKEN), 401);
	assert_int_equal(status_of(fx, me, "Authorization: Basic YTpi"), 401);
	/* Signed out: nobody. */
	assert_int_equal(call(fx, "DELETE", me, fx->rita, NULL, &r), 200);
	reply_free(&r);
	assert_int_equal(status_of(fx, me, fx->rita), 401);
	assert_int_equal(status_of(fx, "/api/v1/certificates", fx->rita), 401);
}

static size_t count(const struct fx *fx, const char *path, const char *auth, bool *more)
{
	json_t *v = list_of(fx, path, auth, "certificates", more);
	size_t n = json_array_size(v);

	json_decref(v);
	return n;
}

static void test_cert_search(void **state)
{
	struct fx *fx = *state;
	char path[256];
	bool more = false;
	json_t *v, *one;

	/* Newest first, subscriber certificates only (not the CA's own). */
	v = list_of(fx, "/api/v1/certificates", fx->rita, "certificates", &more);
	assert_int_equal(json_array_size(v), 3);
	assert_false(more);
	one = json_array_get(v, 0);
	assert_string_equal(json_string_value(json_object_get(one, "serial")), fx->serials[2]);
	assert_string_equal(json_string_value(json_object_get(one, "subject")),
	    "CN=gamma.example.org");
	assert_string_equal(json_string_value(json_object_get(one, "product")), "device");
	assert_string_equal(json_string_value(json_object_get(one, "status")), "valid");
	assert_non_null(json_string_value(json_object_get(one, "not_after")));
	assert_null(json_object_get(one, "revoked_at"));
	json_decref(v);

	/* Subject text in any case; status; product. */
	assert_int_equal(count(fx, "/api/v1/certificates?subject=ALPHA", fx->aud, NULL), 1);
	assert_int_equal(count(fx, "/api/v1/certificates?subject=example.org", fx->aud, NULL), 3);
	assert_int_equal(count(fx, "/api/v1/certificates?subject=nobody", fx->aud, NULL), 0);
	assert_int_equal(count(fx, "/api/v1/certificates?product=device", fx->aud, NULL), 3);
	assert_int_equal(count(fx, "/api/v1/certificates?product=smime", fx->aud, NULL), 0);
	assert_int_equal(count(fx, "/api/v1/certificates?status=revoked", fx->aud, NULL), 0);
	assert_int_equal(tsr_ca_revoke(fx->ca, NULL, "test", fx->serials[1], "keyCompromise", 0),
	    0);
	v = list_of(fx, "/api/v1/certificates?status=revoked", fx->aud, "certificates", NULL);
	assert_int_equal(json_array_size(v), 1);
	one = json_array_get(v, 0);
	assert_string_equal(json_string_value(json_object_get(one, "serial")), fx->serials[1]);
	assert_string_equal(json_string_value(json_object_get(one, "reason")), "keyCompromise");
	assert_non_null(json_string_value(json_object_get(one, "revoked_at")));
	json_decref(v);
	assert_int_equal(count(fx, "/api/v1/certificates?status=valid&subject=beta", fx->aud,
	    NULL), 0);
	/* The limit, and whether there are more. */
	assert_int_equal(count(fx, "/api/v1/certificates?limit=2", fx->aud, &more), 2);
	assert_true(more);
	assert_int_equal(count(fx, "/api/v1/certificates?limit=3", fx->aud, &more), 3);
	assert_false(more);
	assert_int_equal(count(fx, "/api/v1/certificates?limit=500", fx->aud, &more), 3);
	/* Refusals. */
	assert_int_equal(status_of(fx, "/api/v1/certificates?limit=501", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/certificates?limit=0", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/certificates?limit=x", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/certificates?status=expired", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/certificates?issuer=root", fx->aud), 400);
	snprintf(path, sizeof(path), "/api/v1/certificates?subject=a&subject=b");
	assert_int_equal(status_of(fx, path, fx->aud), 400);
}

/* The seqs of an audit answer, and checks that they go down. */
static size_t seqs(json_t *records, long long *out, size_t max)
{
	size_t n = json_array_size(records);

	for (size_t i = 0; i < n && i < max; i++) {
		out[i] = json_integer_value(json_object_get(json_array_get(records, i), "seq"));
		if (i > 0)
			assert_true(out[i] < out[i - 1]);
	}
	return n;
}

static void test_audit_trail(void **state)
{
	struct fx *fx = *state;
	long long all[512], page[8];
	char path[256];
	size_t n, k;
	bool more = false;
	json_t *v, *one;

	assert_int_equal(tsr_ca_revoke(fx->ca, NULL, "officer:olive", fx->serials[0],
	    "superseded", 0), 0);
	v = list_of(fx, "/api/v1/audit?limit=500", fx->aud, "records", &more);
	n = seqs(v, all, TSR_ARRAY_LEN(all));
	assert_false(more);
	assert_true(n > 10);
	/* Newest first, down to 1. */
	assert_int_equal(all[n - 1], 1);
	one = json_array_get(v, 0);
	assert_string_equal(json_string_value(json_object_get(one, "action")), "cert.revoke");
	assert_string_equal(json_string_value(json_object_get(one, "actor")), "officer:olive");
	assert_string_equal(json_string_value(json_object_get(one, "outcome")), "success");
	assert_non_null(strstr(json_string_value(json_object_get(one, "object")),
	    fx->serials[0]));
	assert_non_null(json_string_value(json_object_get(one, "time")));
	assert_non_null(json_string_value(json_object_get(one, "detail")));
	json_decref(v);

	/* Paging: limit 3, then before_seq the last seq shown, to the end. */
	k = 0;
	snprintf(path, sizeof(path), "/api/v1/audit?limit=3");
	for (;;) {
		size_t got;

		v = list_of(fx, path, fx->olive, "records", &more);
		got = seqs(v, page, TSR_ARRAY_LEN(page));
		json_decref(v);
		assert_true(got <= 3);
		for (size_t i = 0; i < got; i++)
			assert_int_equal(page[i], all[k + i]);
		k += got;
		if (!more)
			break;
		assert_int_equal(got, 3);
		snprintf(path, sizeof(path), "/api/v1/audit?limit=3&before_seq=%lld", page[2]);
	}
	assert_int_equal(k, n);

	/* Filters: action exact or by prefix, actor and object by text. */
	v = list_of(fx, "/api/v1/audit?action=cert.revoke", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?action=cert.", fx->aud, "records", NULL);
	assert_true(json_array_size(v) >= 7);   /* CA, OCSP, server, 3 device, revoke */
	for (size_t i = 0; i < json_array_size(v); i++)
		assert_true(strncmp(json_string_value(json_object_get(json_array_get(v, i),
		    "action")), "cert.", 5) == 0);
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?action=cert", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?actor=OLIVE", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
	snprintf(path, sizeof(path), "/api/v1/audit?object=%s", fx->serials[2]);
	v = list_of(fx, path, fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 1);   /* gamma's issue */
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "action")),
	    "cert.issue");
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?object=user:&action=user.login", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 3);   /* the three sign-ins */
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?since=2000-01-01", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), n < 100 ? n : 100);
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?since=2999-01-01T00:00:00Z", fx->aud, "records", NULL);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	v = list_of(fx, "/api/v1/audit?before_seq=1", fx->aud, "records", &more);
	assert_int_equal(json_array_size(v), 0);
	assert_false(more);
	json_decref(v);

	/* Refusals. */
	assert_int_equal(status_of(fx, "/api/v1/audit?limit=501", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/audit?limit=0", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/audit?before_seq=-1", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/audit?since=yesterday", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/audit?since=2026-02-30", fx->aud), 400);
	assert_int_equal(status_of(fx, "/api/v1/audit?outcome=success", fx->aud), 400);
}

static void tamper(const struct fx *fx, const char *sql)
{
	char path[160], *err = NULL;
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/tessera.db", fx->home);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;", NULL, NULL, &err) !=
	    SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tampering failed: %s", err);
	sqlite3_free(err);
	sqlite3_close(db);
}

static void test_verification(void **state)
{
	struct fx *fx = *state;
	struct reply r;
	json_int_t records;

	assert_int_equal(call(fx, "GET", "/api/v1/audit/verification", fx->aud, NULL, &r), 200);
	assert_true(json_is_true(json_object_get(r.json, "ok")));
	records = json_integer_value(json_object_get(r.json, "records"));
	assert_true(records > 10);
	assert_int_equal(strlen(json_string_value(json_object_get(r.json, "head_hash"))), 64);
	assert_null(json_object_get(r.json, "first_bad_seq"));
	reply_free(&r);

	tamper(fx, "UPDATE audit SET detail = 'nothing happened' WHERE seq = 5;");
	assert_int_equal(call(fx, "GET", "/api/v1/audit/verification", fx->olive, NULL, &r),
	    200);
	assert_false(json_is_true(json_object_get(r.json, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r.json, "first_bad_seq")), 5);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "reason")), "5"));
	reply_free(&r);
	/* The trail still lists the record as it is stored now. */
	{
		json_t *v = list_of(fx, "/api/v1/audit?before_seq=6&limit=1", fx->aud, "records",
		    NULL);

		assert_int_equal(json_array_size(v), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0),
		    "detail")), "nothing happened");
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_trail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verification, setup, teardown),
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
