/*
 * fuzz_pub.c - the public certificate check (src/http/pub_api.c) on
 * arbitrary input, through the routing table as the server runs it but
 * without a workflow, so that the handler parses and describes the
 * certificate and then stops (500 internal).  The first byte picks the
 * form: 0 the rest as DER ({"der": base64}), 1 the rest as the base64
 * lines of a PEM block, 2 the rest as a serial for
 * /api/v1/certificate-status/{serial}, anything else the whole input as
 * the JSON body.
 *
 * Rejection (400 invalid or too-large) is the expected outcome for
 * garbage, and the only other one is the internal error after a
 * successful parse; an answer without a workflow, a crash, a leak or an
 * error left on OpenSSL's queue is a bug.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tsr_http_route *route(const char *method, const char *path,
    struct tsr_http_match *m)
{
	size_t n;
	const struct tsr_http_route *routes = tsr_http_pub_routes(&n);

	if (tsr_http_route_find(routes, n, method, path, m) != 0)
		__builtin_trap();
	return m->route;
}

static void run(const char *method, const char *path, const char *body, size_t len)
{
	struct tsr_http_app app;
	struct tsr_http_match m;
	struct tsr_http_request req;
	struct tsr_http_response res;
	const struct tsr_http_route *r = route(method, path, &m);
	json_t *b = NULL;
	int rc;

	memset(&app, 0, sizeof(app));
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	res.body_fd = -1;
	req.app = &app;
	req.route = r;
	req.method = method;
	req.path = path;
	memcpy(req.params, m.params, sizeof(m.params));
	req.n_params = m.n_params;
	if (r->body != NULL) {
		if (tsr_json_read(body, len, r->body, &b) != 0)
			return;
		req.body = b;
	}
	rc = r->handler(&req, &res);
	if (rc == 0 || res.json != NULL || res.raw != NULL)
		__builtin_trap();
	if (rc != TSR_ERR_INVALID && rc != TSR_ERR_TOO_LARGE && rc != TSR_ERR_INTERNAL &&
	    rc != TSR_ERR_NOMEM)
		__builtin_trap();
	if (ERR_peek_error() != 0)
		__builtin_trap();
	json_decref(b);
}

/* body = {"<key>": value} */
static void run_member(const char *key, const char *value)
{
	json_t *o = json_pack("{s:s}", key, value);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text != NULL)
		run("POST", "/api/v1/certificate-check", text, strlen(text));
	free(text);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b64 = NULL, *pem, path[64 + 3 * TSR_HTTP_PARAM_MAX];
	size_t n;

	if (size == 0)
		return 0;
	switch (data[0]) {
	case 0:
	case 1:
		if (tsr_base64_encode(data + 1, size - 1, data[0] == 1 ? 64 : 0, &b64, &n) != 0)
			return 0;
		if (data[0] == 0) {
			run_member("der", b64);
		} else if ((pem = malloc(n + 64)) != NULL) {
			strcpy(pem, "-----BEGIN CERTIFICATE-----\n");
			strcat(pem, b64);
			strcat(pem, "-----END CERTIFICATE-----\n");
			run_member("pem", pem);
			free(pem);
		}
		free(b64);
		break;
	case 2: {
		/* A capture as the router hands it over: one segment without '/',
		 * '%' or control characters (percent-decoding is the router's). */
		size_t o = strlen("/api/v1/certificate-status/");

		if (size - 1 > TSR_HTTP_PARAM_MAX)
			return 0;
		memcpy(path, "/api/v1/certificate-status/", o);
		for (size_t i = 1; i < size; i++) {
			if (data[i] < 0x21 || data[i] > 0x7e || data[i] == '/' || data[i] == '%' ||
			    data[i] == '?')
				return 0;
			path[o++] = (char)data[i];
		}
		path[o] = '\0';
		if (size == 1)
			return 0;
		run("GET", path, NULL, 0);
		break;
	}
	default:
		run("POST", "/api/v1/certificate-check", (const char *)data, size);
		break;
	}
	ERR_clear_error();
	tsr_error_clear();
	return 0;
}
