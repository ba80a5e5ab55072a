/*
 * status.c - what relying parties fetch, at the URLs every certificate
 * carries: the OCSP responder (RFC 6960, RFC 5019 profile), the CRLs at
 * the CRL distribution points and the CA certificates at the caIssuers
 * URLs.  All public; served on the HTTPS listener with the rest of the
 * API, and alone on the plain-HTTP listener (`tessera serve
 * --public-listen`).  docs/ocsp.md describes the caching rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "http/http.h"
#include "ra/app.h"

/* Longest an HTTP cache keeps an answer before asking again: a revocation
 * reaches caches that honour the headers within this many seconds. */
#define MAX_AGE 300
#define CA_MAX_AGE 86400
/* The base64 of a request of TSR_OCSP_REQUEST_MAX bytes, percent-encoded. */
#define GET_MAX (TSR_HTTP_PATH_MAX)

/* ------------------------------------------------------------------ headers */

/* An HTTP-date (RFC 9110 5.6.7) of t. */
static void http_date(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };

	gmtime_r(&tt, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Add header name: value, the value copied into res->text. */
static void add_header(struct tsr_http_response *res, size_t *used, const char *name,
    const char *value)
{
	size_t n = strlen(value) + 1;

	if (res->n_headers == TSR_HTTP_MAX_HEADERS || n > sizeof(res->text) - *used)
		return;
	memcpy(res->text + *used, value, n);
	res->headers[res->n_headers].name = name;
	res->headers[res->n_headers].value = res->text + *used;
	res->n_headers++;
	*used += n;
}

/* RFC 5019 section 6: caches may keep the answer until its refresh point
 * (half its validity), and at most MAX_AGE seconds. */
static void ocsp_cache_headers(const struct tsr_ocsp_answer *a, struct tsr_http_response *res)
{
	int64_t now = (int64_t)tsr_now();
	int64_t age = a->this_update + (a->next_update - a->this_update) / 2 - now;
	char v[96];
	size_t used = 0;

	if (age > MAX_AGE)
		age = MAX_AGE;
	if (age < 0)
		age = 0;
	snprintf(v, sizeof(v), "max-age=%lld, public, no-transform, must-revalidate",
	    (long long)age);
	add_header(res, &used, "Cache-Control", v);
	http_date(a->produced_at, v, sizeof(v));
	add_header(res, &used, "Last-Modified", v);
	http_date(now + age, v, sizeof(v));
	add_header(res, &used, "Expires", v);
	add_header(res, &used, "ETag", a->etag);
}

/* ------------------------------------------------------------------ OCSP */

static int answer_ocsp(const struct tsr_http_request *req, const uint8_t *der, size_t len,
    bool get, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	struct tsr_store *st = NULL;
	struct tsr_ocsp_answer a;
	int r;

	if (req->app->ocsp == NULL || ra == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "this server runs without an OCSP responder");
	if ((r = tsr_ra_store_acquire(ra, &st)) != 0)
		return r;
	r = tsr_ocsp_respond(req->app->ocsp, st, der, len, &a);
	tsr_ra_store_release(ra, st);
	if (r != 0)
		return r;
	res->raw = a.der;
	res->raw_len = a.len;
	res->content_type = "application/ocsp-response";
	a.der = NULL;
	if (get && a.cacheable)
		ocsp_cache_headers(&a, res);
	tsr_ocsp_answer_clear(&a);
	return 0;
}

static int post_ocsp(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return answer_ocsp(req, req->raw, req->raw_len, false, res);
}

/* Percent-decode s (slashes allowed) into out. */
static bool unescape(const char *s, char *out, size_t size, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = tsr_hex_digit(s[i + 1]), lo = hi < 0 ? -1 : tsr_hex_digit(s[i + 2]);

			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*len = o;
	return true;
}

/* GET {url}/{url-encoding of base64 of the DER request} (RFC 5019 5). */
static int get_ocsp(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	static const uint8_t empty[1];
	const char *rest = req->path + strlen("/ocsp/");
	char b64[GET_MAX + 1];
	uint8_t der[TSR_OCSP_REQUEST_MAX];
	size_t b64_len, der_len = 0;

	/* Anything that is not base64 of a request is a malformed request,
	 * answered as OCSP answers it, not with an HTTP error. */
	if (!unescape(rest, b64, sizeof(b64), &b64_len) ||
	    tsr_base64_decode(b64, b64_len, 0, der, sizeof(der), &der_len) != 0)
		return answer_ocsp(req, empty, 0, true, res);
	return answer_ocsp(req, der, der_len, true, res);
}

/* ------------------------------------------------------------------ CRLs, CA certificates */

/* "issuing" or "root" from "<ca>.<ext>", or NULL. */
static const char *ca_of(const char *file, const char *ext)
{
	static const char *const names[] = { "issuing", "root" };

	for (size_t i = 0; i < TSR_ARRAY_LEN(names); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(file, names[i], n) == 0 && strcmp(file + n, ext) == 0)
			return names[i];
	}
	return NULL;
}

static int get_crl(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	const char *name = ca_of(tsr_http_param(req, "file"), ".crl");
	char *path = NULL, v[96];
	struct stat sb;
	size_t used = 0;
	int fd;

	if (name == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "no such CRL: the CRLs are issuing.crl and "
		    "root.crl");
	if (ra == NULL || (path = tsr_ca_crl_path(tsr_ra_ca(ra), name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? tsr_error(TSR_ERR_NOT_FOUND, "the %s CA's CRL is not "
		    "published yet", name) : tsr_error(TSR_ERR_IO, "cannot open the %s CRL: %s",
		    name, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return tsr_error(TSR_ERR_IO, "the %s CRL is not a regular file", name);
	}
	res->body_fd = fd;
	res->body_fd_len = (size_t)sb.st_size;
	res->content_type = "application/pkix-crl";
	/* Published CRLs are replaced by a rename: the mtime is when this one
	 * was made. */
	snprintf(v, sizeof(v), "max-age=%d, public, no-transform", MAX_AGE);
	add_header(res, &used, "Cache-Control", v);
	http_date((int64_t)sb.st_mtime, v, sizeof(v));
	add_header(res, &used, "Last-Modified", v);
	snprintf(v, sizeof(v), "\"%llx-%llx\"", (unsigned long long)sb.st_mtime,
	    (unsigned long long)sb.st_size);
	add_header(res, &used, "ETag", v);
	return 0;
}

static int get_ca_cert(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	const char *name = ca_of(tsr_http_param(req, "file"), ".crt");
	const X509 *cert;
	unsigned char *der = NULL;
	char v[64];
	size_t used = 0;
	int n;

	if (name == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "no such certificate: the CA certificates are "
		    "issuing.crt and root.crt");
	if (ra == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	cert = strcmp(name, "root") == 0 ? tsr_ca_root_cert(tsr_ra_ca(ra)) :
	    tsr_ca_issuing_cert(tsr_ra_ca(ra));
	if (cert == NULL || (n = i2d_X509(cert, &der)) <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the %s CA certificate",
		    name);
	if ((res->raw = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	memcpy(res->raw, der, (size_t)n);
	OPENSSL_free(der);
	res->raw_len = (size_t)n;
	res->content_type = "application/pkix-cert";
	snprintf(v, sizeof(v), "max-age=%d, public", CA_MAX_AGE);
	add_header(res, &used, "Cache-Control", v);
	return 0;
}

/* ------------------------------------------------------------------ routes */

static const struct tsr_http_route status_routes[] = {
	{ .method = "POST", .pattern = "/ocsp", .handler = post_ocsp,
	    .media_type = "application/ocsp-request", .produces = "application/ocsp-response",
	    .summary = "OCSP (RFC 6960): the status of certificates of the issuing CA" },
	{ .method = "GET", .pattern = "/ocsp", .handler = get_ocsp, .flags = TSR_HTTP_PREFIX,
	    .produces = "application/ocsp-response",
	    .summary = "OCSP over GET (RFC 5019): /ocsp/{percent-encoded base64 of the "
	    "request}; cacheable" },
	{ .method = "GET", .pattern = "/crl/{file}", .handler = get_crl,
	    .produces = "application/pkix-crl",
	    .summary = "A CA's CRL: issuing.crl or root.crl (DER)" },
	{ .method = "GET", .pattern = "/ca/{file}", .handler = get_ca_cert,
	    .produces = "application/pkix-cert",
	    .summary = "A CA certificate: issuing.crt or root.crt (DER), the caIssuers URL" },
};

const struct tsr_http_route *tsr_http_status_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(status_routes);
	return status_routes;
}
