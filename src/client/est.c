/*
 * est.c - the EST client (RFC 7030, with the RFC 8951 clarifications):
 * cacerts, csrattrs, simpleenroll and simplereenroll under
 * <server>/.well-known/est/, bodies in base64 as the RFC says.  The wire
 * format, and the X-Tessera-Token-* headers that carry the token's
 * identity, are in docs/est.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

#define CT_PKCS7 "application/pkcs7-mime"
#define CT_CSRATTRS "application/csrattrs"
#define CT_PKCS10 "application/pkcs10"

/* Set up e for server ("https://host[:port]", one trailing '/' allowed). */
int tsr_est_init(struct tsr_est *e, const char *server, const char *ca_file)
{
	const char *host;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (server == NULL || strncmp(server, "https://", 8) != 0)
		return tsr_error(TSR_ERR_INVALID, "--server must be an https:// URL (the CA's web "
		    "address, as in your activation letter)");
	host = server + 8;
	n = strlen(host);
	if (n > 0 && host[n - 1] == '/')
		n--;
	if (n == 0 || n > 512 || memchr(host, '/', n) != NULL || memchr(host, '?', n) != NULL ||
	    memchr(host, '#', n) != NULL || memchr(host, '@', n) != NULL)
		return tsr_error(TSR_ERR_INVALID, "--server must be https://HOST[:PORT] without a "
		    "path");
	for (size_t i = 0; i < n; i++)
		if (host[i] <= 0x20 || host[i] >= 0x7f)
			return tsr_error(TSR_ERR_INVALID, "--server holds a space or a control "
			    "character");
	snprintf(e->base, sizeof(e->base), "https://%.*s/.well-known/est/", (int)n, host);
	snprintf(e->api, sizeof(e->api), "https://%.*s/api/v1/", (int)n, host);
	e->tls.ca_file = ca_file;
	return 0;
}

/* Check that r is a 200 with the media type want (else the server's error). */
static int expect(const struct tsr_client_response *r, const char *want, const char *what)
{
	if (r->status != 200)
		return tsr_client_http_error(r, what);
	if (strcmp(r->content_type, want) != 0)
		return tsr_error(TSR_ERR_PARSE, "%s: the server answered with Content-Type '%s', "
		    "not %s", what, r->content_type, want);
	return 0;
}

static int get(const struct tsr_est *e, const char *op, bool auth,
    struct tsr_client_response *r)
{
	char url[1100];
	struct tsr_client_request rq = { .method = "GET", .url = url, .tls = &e->tls };

	snprintf(url, sizeof(url), "%s%s", e->base, op);
	if (auth) {
		rq.user = e->user;
		rq.password = e->password;
	}
	return tsr_client_http(&rq, r);
}

/* GET cacerts (see client.h). */
int tsr_est_cacerts(const struct tsr_est *e, STACK_OF(X509) **out)
{
	struct tsr_client_response r;
	int rc;

	*out = NULL;
	if ((rc = get(e, "cacerts", false, &r)) != 0)
		return rc;
	if ((rc = expect(&r, CT_PKCS7, "EST cacerts")) == 0)
		rc = tsr_est_parse_certs(r.body.data, r.body.len, out);
	tsr_client_response_free(&r);
	return rc;
}

/* GET csrattrs (see client.h).  204 (or 404: not offered) is no attributes. */
int tsr_est_csrattrs(const struct tsr_est *e, struct tsr_est_csrattrs *out)
{
	struct tsr_client_response r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = get(e, "csrattrs", true, &r)) != 0)
		return rc;
	if (r.status == 204 || r.status == 404)
		rc = 0;
	else if ((rc = expect(&r, CT_CSRATTRS, "EST csrattrs")) == 0)
		rc = tsr_est_parse_csrattrs(r.body.data, r.body.len, out);
	tsr_client_response_free(&r);
	return rc;
}

/* "X-Tessera-Token-<name>: <value>" with value reduced to printable ASCII,
 * or nothing for an empty value. */
static void claim_header(char *out, size_t size, const char *name, const char *value)
{
	size_t used;

	out[0] = '\0';
	if (value == NULL || value[0] == '\0')
		return;
	used = (size_t)snprintf(out, size, "X-Tessera-Token-%s: ", name);
	for (size_t i = 0; value[i] != '\0' && used + 1 < size; i++)
		out[used++] = (value[i] >= 0x20 && value[i] < 0x7f) ? value[i] : '?';
	out[used] = '\0';
}

/* POST simpleenroll or simplereenroll (see client.h). */
int tsr_est_enroll(const struct tsr_est *e, bool reenroll, const uint8_t *csr, size_t csr_len,
    const struct tsr_p11_token_info *token, STACK_OF(X509) **out)
{
	const char *op = reenroll ? "simplereenroll" : "simpleenroll";
	char url[1100], maker[96], model[96], serial[96];
	const char *headers[4] = { NULL };
	struct tsr_client_request rq = { .method = "POST", .url = url, .tls = &e->tls,
		.content_type = CT_PKCS10, .headers = headers };
	struct tsr_client_response r;
	char *b64 = NULL, what[64];
	size_t n = 0, b64_len;
	int rc;

	*out = NULL;
	snprintf(url, sizeof(url), "%s%s", e->base, op);
	snprintf(what, sizeof(what), "EST %s", op);
	if ((rc = tsr_base64_encode(csr, csr_len, 64, &b64, &b64_len)) != 0)
		return rc;
	rq.body = (const uint8_t *)b64;
	rq.body_len = b64_len;
	if (!reenroll) {
		rq.user = e->user;
		rq.password = e->password;
	}
	if (token != NULL) {
		claim_header(maker, sizeof(maker), "Manufacturer", token->manufacturer);
		claim_header(model, sizeof(model), "Model", token->model);
		claim_header(serial, sizeof(serial), "Serial", token->serial);
		if (maker[0] != '\0')
			headers[n++] = maker;
		if (model[0] != '\0')
			headers[n++] = model;
		if (serial[0] != '\0')
			headers[n++] = serial;
	}
	rc = tsr_client_http(&rq, &r);
	free(b64);
	if (rc != 0)
		return rc;
	if (r.status == 202)
		rc = tsr_error(TSR_ERR_POLICY, "%s: the server has not issued the certificate yet; "
		    "try again later", what);
	else if ((rc = expect(&r, CT_PKCS7, what)) == 0)
		rc = tsr_est_parse_certs(r.body.data, r.body.len, out);
	tsr_client_response_free(&r);
	return rc;
}
