/*
 * server.c - the HTTPS server: listening, TLS, limits, routing, the life of
 * a request, security headers and the access log.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION).
 * Handlers block - Argon2id, SQLite, PKCS#11 signing, mail and webhook
 * calls are coming - and in a thread pool's event loop a blocked handler
 * stalls every other connection of its worker.  With a thread per
 * connection it stalls only its own, and max_connections bounds the
 * threads.  Each thread also keeps its own tsr_error() detail.
 *
 * A request's record is made when its request line arrives (the URI log
 * callback, which also gives us the target exactly as sent) and freed when
 * libmicrohttpd reports it complete; the records in between are the
 * requests in flight that tsr_http_server_stop() waits for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "http/http.h"

/* GnuTLS priorities: TLS 1.3 and 1.2 only; for 1.2 only ECDHE with AEAD
 * ciphers (forward secrecy, no CBC); no SHA-1 signatures. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:" \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:" \
	"+ECDHE-ECDSA:+ECDHE-RSA:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:%SERVER_PRECEDENCE"

/* Per-connection memory: the request line and headers must fit in it
 * (with room for libmicrohttpd's buffers), so it is the header-size cap.
 * Bodies do not count: they are read in pieces into our own buffer. */
#define CONNECTION_MEMORY (16 * 1024)
#define PEM_MAX (64 * 1024)
#define LISTEN_BACKLOG 128
/* The largest body of a refused request read (and dropped) before the
 * refusal is sent; see answer(). */
#define DRAIN_MAX (1024 * 1024)
/* Client certificate chains longer than this are not looked at. */
#define PEER_CHAIN_MAX 8
/* Client certificates chain to the trust, whatever the time: the handler
 * judges validity with tsr_now() (the injectable clock), and can say that
 * a certificate expired rather than that there was none. */
#define PEER_VERIFY_FLAGS (GNUTLS_VERIFY_DISABLE_TIME_CHECKS | \
	GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

struct tsr_http_server {
	struct MHD_Daemon *mhd;
	struct tsr_http_app *app;
	const struct tsr_http_route *routes;
	size_t n_routes;
	size_t max_body_anonymous;
	size_t max_body_authenticated;
	unsigned drain_seconds;
	uint16_t port;
	FILE *log;
	gnutls_x509_trust_list_t trust;   /* client certificates' CAs, or NULL */
	struct tsr_buf trust_pem;         /* ... as PEM: libmicrohttpd keeps a pointer */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned in_flight;
	bool draining;
	bool plain;                       /* HTTP without TLS */
};

struct request {
	struct tsr_http_server *srv;
	bool close;                    /* framing we refuse: close after answering */
	struct timespec start;
	char ip[INET6_ADDRSTRLEN];
	char client[TSR_HTTP_CLIENT_MAX];   /* "http:" + ip, for audit actors */
	char method[16];
	char *target;                  /* the request target as sent */
	char *path;                    /* its path: the target up to '?' */
	bool begun, answered, too_large;
	bool defer;                    /* refusals wait until the body is drained */
	json_t *deferred;              /* such a refusal, and how to send it */
	int deferred_status;
	const char *deferred_type;
	bool deferred_allow;
	struct tsr_http_match match;
	struct tsr_http_param query[TSR_HTTP_MAX_QUERY];
	size_t n_query;
	char actor[128];
	/* The tsr_session cookie's token when it authenticated the request (a
	 * secret, wiped when the request ends). */
	char cookie[TSR_HTTP_BEARER_CHARS + 1];
	bool by_cookie;
	struct tsr_buf body;
	int status;
	size_t bytes;
};

/* ------------------------------------------------------------------ routing */

static bool method_matches(const char *route, const char *method)
{
	return strcmp(route, method) == 0 ||
	    (strcmp(route, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* Percent-decode n bytes of s into out; false if they are malformed, empty,
 * too long, or decode to a control character (or to '/', unless slash_ok):
 * nothing a path parameter or a query value of ours ever holds. */
static bool decode(const char *s, size_t n, bool slash_ok, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return false;
			hi = tsr_hex_digit(s[i + 1]);
			lo = tsr_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi << 4 | lo;
			i += 2;
		}
		if ((c == '/' && !slash_ok) || c < 0x20 || c == 0x7f || o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o > 0;
}

static bool capture(const char *pseg, size_t plen, const char *qseg, size_t qlen,
    struct tsr_http_match *m)
{
	struct tsr_http_param *p;

	if (m->n_params == TSR_HTTP_MAX_PARAMS || plen - 2 >= sizeof(p->name))
		return false;
	p = &m->params[m->n_params];
	memcpy(p->name, pseg + 1, plen - 2);
	p->name[plen - 2] = '\0';
	if (!decode(qseg, qlen, false, p->value, sizeof(p->value)))
		return false;
	m->n_params++;
	return true;
}

/* Walk pattern and path segment by segment (both start with '/'). */
static bool path_matches(const char *pattern, const char *path, struct tsr_http_match *m)
{
	const char *p = pattern + 1, *q = path + 1;

	m->n_params = 0;
	for (;;) {
		size_t plen = strcspn(p, "/"), qlen = strcspn(q, "/");

		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (!capture(p, plen, q, qlen, m))
				return false;
		} else if (plen != qlen || memcmp(p, q, plen) != 0 || plen == 0) {
			return false;
		}
		if (p[plen] == '\0' || q[qlen] == '\0')
			return p[plen] == q[qlen];
		p += plen + 1;
		q += qlen + 1;
	}
}

/* A pattern without captures ending in '/' ("/", "/ra/"): itself only. */
static bool slash_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	return n > 0 && pattern[n - 1] == '/' && strchr(pattern, '{') == NULL &&
	    strcmp(pattern, path) == 0;
}

/* pattern, then '/' and at least one more character. */
static bool prefix_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	return strncmp(path, pattern, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

static void allow_add(char *allow, size_t size, const char *method)
{
	size_t used = strlen(allow);

	snprintf(allow + used, size - used, "%s%s", used ? ", " : "", method);
}

int tsr_http_route_find(const struct tsr_http_route *routes, size_t n, const char *method,
    const char *path, struct tsr_http_match *out)
{
	memset(out, 0, sizeof(*out));
	if (path[0] != '/' || strlen(path) > TSR_HTTP_PATH_MAX)
		return tsr_error(TSR_ERR_NOT_FOUND, "no such resource");
	for (size_t i = 0; i < n; i++) {
		struct tsr_http_match m = { .route = &routes[i] };

		if (!((routes[i].flags & TSR_HTTP_PREFIX) ? prefix_matches(routes[i].pattern, path) :
		    slash_matches(routes[i].pattern, path) ||
		    path_matches(routes[i].pattern, path, &m)))
			continue;
		if (method_matches(routes[i].method, method)) {
			*out = m;
			out->allow[0] = '\0';
			return 0;
		}
		allow_add(out->allow, sizeof(out->allow), routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(out->allow, sizeof(out->allow), "HEAD");
	}
	return tsr_error(TSR_ERR_NOT_FOUND, "no such resource");
}

const char *tsr_http_param(const struct tsr_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ queries */

/* The printable ASCII of a parameter name (client input) for a detail. */
static void show_name(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[o] = '\0';
}

static bool name_allowed(const char *name, size_t len, const char *const *allowed)
{
	for (size_t i = 0; allowed != NULL && allowed[i] != NULL; i++)
		if (strlen(allowed[i]) == len && memcmp(allowed[i], name, len) == 0)
			return true;
	return false;
}

/* One "name=value" piece of len bytes into out[*n]. */
static int query_one(const char *p, size_t len, const char *const *allowed,
    struct tsr_http_param *out, size_t *n)
{
	const char *eq = memchr(p, '=', len);
	size_t nlen = eq ? (size_t)(eq - p) : len;
	char shown[40];

	show_name(p, nlen, shown, sizeof(shown));
	if (eq == NULL || nlen == 0)
		return tsr_error(TSR_ERR_INVALID, "query: '%s' is not name=value", shown);
	if (!name_allowed(p, nlen, allowed) || nlen >= sizeof(out[0].name))
		return tsr_error(TSR_ERR_INVALID, "query: unknown parameter '%s'", shown);
	for (size_t i = 0; i < *n; i++)
		if (strlen(out[i].name) == nlen && memcmp(out[i].name, p, nlen) == 0)
			return tsr_error(TSR_ERR_INVALID, "query: parameter '%s' given twice", shown);
	if (*n == TSR_HTTP_MAX_QUERY)
		return tsr_error(TSR_ERR_INVALID, "query: too many parameters");
	if (!decode(eq + 1, len - nlen - 1, true, out[*n].value, sizeof(out[*n].value)))
		return tsr_error(TSR_ERR_INVALID, "query: parameter '%s' must have a value of 1 to "
		    "%d bytes, percent-encoded correctly, without control characters", shown,
		    TSR_HTTP_PARAM_MAX);
	memcpy(out[*n].name, p, nlen);
	out[*n].name[nlen] = '\0';
	(*n)++;
	return 0;
}

int tsr_http_query_parse(const char *query, const char *const *allowed,
    struct tsr_http_param out[TSR_HTTP_MAX_QUERY], size_t *n)
{
	const char *p = query;
	int r;

	*n = 0;
	if (p == NULL || *p == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, "&");

		if ((r = query_one(p, len, allowed, out, n)) != 0) {
			*n = 0;
			return r;
		}
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

const char *tsr_http_query(const struct tsr_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_query; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ bearer tokens */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "0123456789-_";

int tsr_http_bearer(const char *authorization, char token[TSR_HTTP_BEARER_CHARS + 1])
{
	const char *t;

	token[0] = '\0';
	if (authorization == NULL)
		return tsr_error(TSR_ERR_AUTH, "no Authorization header");
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return tsr_error(TSR_ERR_AUTH, "the Authorization header must be 'Bearer TOKEN'");
	t = authorization + 7;
	if (strlen(t) != TSR_HTTP_BEARER_CHARS || strspn(t, b64url) != TSR_HTTP_BEARER_CHARS)
		return tsr_error(TSR_ERR_AUTH, "the bearer token is malformed");
	memcpy(token, t, TSR_HTTP_BEARER_CHARS + 1);
	return 0;
}

/* ------------------------------------------------------------------ cookies */

/*
 * RFC 6265 5.4: "name=value" pairs separated by "; ".  Only the pair named
 * name is looked at: the others may be any site's on the same host (cookies
 * ignore ports), so their syntax is not ours to judge.  A name given twice
 * is refused: a browser sends two when another path or a sibling domain set
 * one too, and which of them we would read is then the attacker's choice.
 */
int tsr_http_cookie(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	bool found = false;
	const char *p = header;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, ";");
		if (len > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vlen = len - nlen - 1;

			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (found) {
				tsr_wipe(out, size);
				return tsr_error(TSR_ERR_INVALID, "the cookie %s is given more "
				    "than once", name);
			}
			if (vlen >= size)
				return tsr_error(TSR_ERR_TOO_LARGE, "the cookie %s is too long",
				    name);
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			found = true;
		}
		p += len;
		if (*p == ';')
			p++;
	}
	return found ? 0 : tsr_error(TSR_ERR_NOT_FOUND, "no cookie %s", name);
}

/* ------------------------------------------------------------------ basic credentials */

static bool has_control(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
	return false;
}

/* Split "user-id:password" (n bytes) into the two outputs. */
static int basic_split(const uint8_t *p, size_t n, char *user, char *password)
{
	const uint8_t *colon = memchr(p, ':', n);
	size_t ulen = colon ? (size_t)(colon - p) : 0, plen = colon ? n - ulen - 1 : 0;

	if (colon == NULL || ulen == 0 || plen == 0)
		return tsr_error(TSR_ERR_AUTH, "the Basic credentials must be user-id:password, "
		    "both non-empty");
	if (ulen > TSR_HTTP_BASIC_USER_MAX || plen > TSR_HTTP_BASIC_PASSWORD_MAX)
		return tsr_error(TSR_ERR_AUTH, "the Basic credentials are too long");
	if (has_control(p, n))
		return tsr_error(TSR_ERR_AUTH, "the Basic credentials hold a control character");
	memcpy(user, p, ulen);
	user[ulen] = '\0';
	memcpy(password, colon + 1, plen);
	password[plen] = '\0';
	return 0;
}

int tsr_http_basic(const char *authorization, char user[TSR_HTTP_BASIC_USER_MAX + 1],
    char password[TSR_HTTP_BASIC_PASSWORD_MAX + 1])
{
	/* user-id, colon, password: base64 of at most this many bytes. */
	uint8_t plain[TSR_HTTP_BASIC_USER_MAX + 1 + TSR_HTTP_BASIC_PASSWORD_MAX + 3];
	size_t n = 0, len;
	int r;

	user[0] = '\0';
	password[0] = '\0';
	if (authorization == NULL)
		return tsr_error(TSR_ERR_AUTH, "no Authorization header");
	if (strncasecmp(authorization, "Basic ", 6) != 0)
		return tsr_error(TSR_ERR_AUTH, "the Authorization header must be 'Basic CREDENTIALS'");
	len = strlen(authorization + 6);
	if (len > (sizeof(plain) - 3) / 3 * 4 + 4)
		return tsr_error(TSR_ERR_AUTH, "the Basic credentials are too long");
	if (tsr_base64_decode(authorization + 6, len, 0, plain, sizeof(plain), &n) != 0)
		r = tsr_error(TSR_ERR_AUTH, "the Basic credentials are not strict base64");
	else
		r = basic_split(plain, n, user, password);
	tsr_wipe(plain, sizeof(plain));
	if (r != 0) {
		tsr_wipe(user, TSR_HTTP_BASIC_USER_MAX + 1);
		tsr_wipe(password, TSR_HTTP_BASIC_PASSWORD_MAX + 1);
	}
	return r;
}

/* ------------------------------------------------------------------ headers */

struct header_count {
	const char *name;
	unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct header_count *c = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

/* How many times the request has header name. */
static unsigned header_count(struct MHD_Connection *con, const char *name)
{
	struct header_count c = { .name = name, .n = 0 };

	MHD_get_connection_values(con, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

int tsr_http_header(const struct tsr_http_request *req, const char *name, const char **value)
{
	struct MHD_Connection *con = req->connection;
	unsigned n;

	*value = NULL;
	if (con == NULL)
		return 0;
	if ((n = header_count(con, name)) > 1)
		return tsr_error(TSR_ERR_INVALID, "the header %s is given %u times", name, n);
	*value = MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
	return 0;
}

/* ------------------------------------------------------------------ text for logs */

/* Copy a path (or a query key) into out for a log line or a problem's
 * instance: RFC 3986 path characters stay, anything else is %XX, so the
 * result holds no space, quote or control character whatever was sent. */
static void escape(const char *s, size_t n, char *out, size_t size)
{
	static const char safe[] = "-._~!$&'()*+,;=:@/%";
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 4 >= size) {
			snprintf(out + o, size - o, "...");
			return;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(safe, c) != NULL))
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
	}
	out[o] = '\0';
}

/* The path plus the names (never the values) of the query's parameters:
 * values could be codes. */
static void log_target(const struct request *rq, char *out, size_t size)
{
	const char *q = strchr(rq->target, '?');
	char sep = '?';
	size_t used;

	escape(rq->path, strlen(rq->path), out, size);
	while (q != NULL && (used = strlen(out)) + 2 < size) {
		q++;
		out[used++] = sep;
		escape(q, strcspn(q, "=&"), out + used, size - used);
		sep = '&';
		q = strchr(q, '&');
	}
}

static const char *termination(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client-abort";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "read-error";
	default: return "error";
	}
}

/* One line per request; never a body, a header value or a query value. */
static void log_request(const struct request *rq, enum MHD_RequestTerminationCode toe)
{
	char when[21], target[512], status[16];
	const char *end = termination(toe);
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - rq->start.tv_sec) * 1000 + (now.tv_nsec - rq->start.tv_nsec) / 1000000;
	tsr_time_format(tsr_now(), when);
	log_target(rq, target, sizeof(target));
	if (rq->status > 0)
		snprintf(status, sizeof(status), "%d", rq->status);
	else
		snprintf(status, sizeof(status), "-");
	/* One fprintf: stdio locks the stream, so lines never interleave. */
	fprintf(rq->srv->log, "time=%s ip=%s method=%s path=%s status=%s bytes=%zu ms=%ld%s%s\n",
	    when, rq->ip, rq->method[0] ? rq->method : "-", target, status, rq->bytes, ms,
	    end ? " end=" : "", end ? end : "");
}

/* ------------------------------------------------------------------ responses */

/* Response bodies may hold a session token: wiped when libmicrohttpd is
 * done with them.  jansson's own blocks go the same way (see
 * tsr_http_server_start()). */
static int close_fd(int fd)
{
	return fd >= 0 ? close(fd) : 0;
}

static void wiping_free(void *p)
{
	if (p != NULL) {
		tsr_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static const char nomem_problem[] = "{\"type\":\"" TSR_PROBLEM_TYPE_BASE "nomem\","
	"\"title\":\"out of memory\",\"status\":503}";

/* What goes with a response besides its body and the fixed headers. */
struct extra {
	const char *allow;                       /* Allow, or NULL */
	const struct tsr_http_header *headers;   /* a handler's */
	size_t n_headers;
};

static bool has_header(const struct extra *x, const char *name)
{
	for (size_t i = 0; i < x->n_headers; i++)
		if (strcasecmp(x->headers[i].name, name) == 0)
			return true;
	return false;
}

static bool add_headers(struct MHD_Response *resp, const char *content_type,
    const char *challenge, const struct extra *x, bool close, bool plain)
{
	static const char *const fixed[][2] = {
		{ "Cache-Control", "no-store" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Strict-Transport-Security", "max-age=31536000" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
	};
	bool ok = content_type == NULL ||
	    MHD_add_response_header(resp, "Content-Type", content_type) == MHD_YES;

	for (size_t i = 0; i < TSR_ARRAY_LEN(fixed); i++) {
		/* A handler's caching rule and content policy (pages) replace
		 * ours; HSTS means nothing over plain HTTP (RFC 6797 8.1). */
		if (((i == 0 || i == 4) && has_header(x, fixed[i][0])) || (i == 2 && plain))
			continue;
		ok = ok && MHD_add_response_header(resp, fixed[i][0], fixed[i][1]) == MHD_YES;
	}
	if (x->allow != NULL && x->allow[0] != '\0')
		ok = ok && MHD_add_response_header(resp, "Allow", x->allow) == MHD_YES;
	if (challenge != NULL)
		ok = ok && MHD_add_response_header(resp, "WWW-Authenticate", challenge) == MHD_YES;
	for (size_t i = 0; i < x->n_headers; i++)
		ok = ok && MHD_add_response_header(resp, x->headers[i].name, x->headers[i].value) ==
		    MHD_YES;
	if (close)
		ok = ok && MHD_add_response_header(resp, "Connection", "close") == MHD_YES;
	return ok;
}

/* Add the headers to resp (len bytes of body) and queue it, now; resp is
 * destroyed (libmicrohttpd keeps its own reference while sending). */
static enum MHD_Result queue_response(struct request *rq, struct MHD_Connection *con,
    struct MHD_Response *resp, int status, size_t len, const char *content_type,
    const char *challenge, const struct extra *x)
{
	enum MHD_Result ret = MHD_NO;
	bool close;

	pthread_mutex_lock(&rq->srv->lock);
	close = rq->srv->draining || rq->close;
	pthread_mutex_unlock(&rq->srv->lock);
	/* A header we cannot add is a response we must not send. */
	if (add_headers(resp, content_type, challenge, x, close, rq->srv->plain))
		ret = MHD_queue_response(con, (unsigned)status, resp);
	MHD_destroy_response(resp);
	rq->answered = true;
	if (ret == MHD_YES) {
		rq->status = status;
		rq->bytes = len;
	}
	return ret;
}

/* Queue body (len bytes, malloc()ed: taken) as the response, now; NULL
 * with status 204 is no body, NULL otherwise means we ran out of memory
 * making it.  A 401 carries the route's challenge. */
static enum MHD_Result send_body(struct request *rq, struct MHD_Connection *con, int status,
    char *body, size_t len, const char *content_type, const struct extra *x)
{
	const struct tsr_http_route *route = rq->match.route;
	const struct extra none = { .allow = NULL };
	struct MHD_Response *resp = NULL;

	if (body != NULL) {
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, wiping_free);
		if (resp == NULL)
			wiping_free(body);
	} else if (status == 204) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		content_type = NULL;
		len = 0;
	}
	if (resp == NULL) {
		status = 503;
		content_type = "application/problem+json";
		x = &none;
		len = strlen(nomem_problem);
		resp = MHD_create_response_from_buffer(len, (void *)nomem_problem,
		    MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
	}
	return queue_response(rq, con, resp, status, len, content_type,
	    status == 401 && route != NULL ? route->challenge : NULL, x);
}

/* Queue the open file fd (len bytes, taken) as the response body. */
static enum MHD_Result send_fd(struct request *rq, struct MHD_Connection *con, int status,
    int fd, size_t len, const char *content_type, const struct extra *x)
{
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)len, fd);

	if (resp == NULL) {
		(void)close_fd(fd);
		return send_body(rq, con, 503, NULL, 0, NULL, x);
	}
	return queue_response(rq, con, resp, status, len, content_type, NULL, x);
}

/* Queue doc (a reference we take) as the response, now. */
static enum MHD_Result queue(struct request *rq, struct MHD_Connection *con, int status,
    json_t *doc, const char *content_type, const struct extra *x)
{
	char *text = NULL;
	size_t len = 0;

	if (doc == NULL || tsr_json_encode(doc, &text, &len) != 0)
		text = NULL;
	json_decref(doc);
	return send_body(rq, con, status, text, len, content_type, x);
}

/*
 * Answer a request.  A refusal made on the headers alone while the client
 * is already sending a body is held until that body has been read and
 * dropped: closing a connection with unread data makes the kernel send a
 * reset, which can destroy the answer before the client reads it.  begin()
 * holds refusals for requests without a body and for modest bodies sent
 * without "Expect: 100-continue"; for the others (which wait for our
 * answer, are chunked, or are too big to drain) the answer goes at once.
 */
static enum MHD_Result answer(struct request *rq, struct MHD_Connection *con, int status,
    json_t *doc, const char *content_type, const char *allow)
{
	if (!rq->defer) {
		struct extra x = { .allow = allow };

		return queue(rq, con, status, doc, content_type, &x);
	}
	rq->deferred = doc;
	rq->deferred_status = status;
	rq->deferred_type = content_type;
	rq->deferred_allow = allow != NULL;
	return MHD_YES;
}

static enum MHD_Result fail(struct request *rq, struct MHD_Connection *con, int code)
{
	char instance[TSR_HTTP_PATH_MAX / 4];
	json_t *doc;
	int status;

	escape(rq->path, strlen(rq->path), instance, sizeof(instance));
	doc = tsr_problem_from_error(code, tsr_error_detail(), instance, &status);
	/* The client gets a generic detail for these; the operator the real one. */
	if (status >= 500)
		tsr_log(TSR_LOG_ERROR, "%s %s: %s: %s", rq->method, instance, tsr_strerror(code),
		    tsr_error_detail());
	return answer(rq, con, status, doc, "application/problem+json", NULL);
}

static enum MHD_Result refuse(struct request *rq, struct MHD_Connection *con,
    enum tsr_http_refusal r, const char *detail)
{
	char instance[TSR_HTTP_PATH_MAX / 4];
	json_t *doc;
	int status;

	escape(rq->path, strlen(rq->path), instance, sizeof(instance));
	doc = tsr_problem_from_refusal(r, detail, instance, &status);
	return answer(rq, con, status, doc, "application/problem+json",
	    r == TSR_HTTP_METHOD_NOT_ALLOWED ? rq->match.allow : NULL);
}

/* ------------------------------------------------------------------ requests */

/* application/json, optionally with charset=utf-8 (any case), nothing else. */
static bool is_json_type(const char *v)
{
	if (v == NULL || strncasecmp(v, "application/json", 16) != 0)
		return false;
	v += 16;
	v += strspn(v, " \t");
	if (*v == '\0')
		return true;
	if (*v++ != ';')
		return false;
	v += strspn(v, " \t");
	return strncasecmp(v, "charset=utf-8", 13) == 0 && v[13 + strspn(v + 13, " \t")] == '\0';
}

/* Exactly type (any case), with nothing after it but spaces and tabs. */
static bool is_media_type(const char *v, const char *type)
{
	size_t n = strlen(type);

	if (v == NULL || strncasecmp(v, type, n) != 0)
		return false;
	return v[n + strspn(v + n, " \t")] == '\0';
}

/* The declared body length; -1 if the header is absent, -2 if malformed. */
static long long content_length(struct MHD_Connection *con)
{
	const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
	long long n = 0;

	if (v == NULL)
		return -1;
	if (*v == '\0' || strlen(v) > 15 || strspn(v, "0123456789") != strlen(v))
		return -2;
	for (; *v != '\0'; v++)
		n = n * 10 + (*v - '0');
	return n;
}

/*
 * Request smuggling needs two parties to frame a request differently: a
 * proxy in front of us and we.  So we accept exactly one framing — at most
 * one Content-Length, and never Transfer-Encoding (RFC 9112 6.1) — and
 * close the connection after refusing anything else, so nothing that
 * follows on it is read as a request.
 */
static bool ambiguous_framing(struct request *rq, struct MHD_Connection *con)
{
	if (header_count(con, "Content-Length") <= 1 &&
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Transfer-Encoding") == NULL)
		return false;
	rq->close = true;
	rq->defer = false;
	return true;
}

/* The tsr_session cookie's token into rq->cookie: 0; TSR_ERR_NOT_FOUND
 * without one; TSR_ERR_INVALID for two Cookie headers or two such cookies;
 * TSR_ERR_AUTH for a malformed one. */
static int cookie_token(struct request *rq, struct MHD_Connection *con)
{
	const char *h;
	int r;

	if (header_count(con, "Cookie") > 1)
		return tsr_error(TSR_ERR_INVALID, "the Cookie header is given more than once");
	h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Cookie");
	r = tsr_http_cookie(h, TSR_HTTP_SESSION_COOKIE, rq->cookie, sizeof(rq->cookie));
	if (r == 0 && (strlen(rq->cookie) != TSR_HTTP_BEARER_CHARS ||
	    strspn(rq->cookie, b64url) != TSR_HTTP_BEARER_CHARS))
		r = TSR_ERR_TOO_LARGE;
	if (r == TSR_ERR_TOO_LARGE)
		r = tsr_error(TSR_ERR_AUTH, "the session cookie is malformed");
	if (r != 0)
		tsr_wipe(rq->cookie, sizeof(rq->cookie));
	return r;
}

/* Whether the request carries X-CSRF-Token once, equal to want. */
static bool csrf_ok(struct MHD_Connection *con, const char *want)
{
	const char *got;

	if (header_count(con, TSR_HTTP_CSRF_HEADER) != 1 ||
	    (got = MHD_lookup_connection_value(con, MHD_HEADER_KIND, TSR_HTTP_CSRF_HEADER)) == NULL)
		return false;
	return strlen(got) == TSR_HTTP_CSRF_CHARS && strlen(want) == TSR_HTTP_CSRF_CHARS &&
	    CRYPTO_memcmp(got, want, TSR_HTTP_CSRF_CHARS) == 0;
}

/* A browser's request: the session of its cookie, and for anything but
 * GET and HEAD the CSRF header (*csrf_bad when it is missing or wrong). */
static int authenticate_cookie(struct request *rq, struct MHD_Connection *con, bool *csrf_bad)
{
	struct tsr_http_app *app = rq->srv->app;
	char csrf[TSR_HTTP_CSRF_CHARS + 1] = "";
	int r;

	if ((r = cookie_token(rq, con)) != 0)
		return r;
	r = app->authenticate_cookie(app, rq->cookie, rq->actor, sizeof(rq->actor), csrf);
	if (r == 0 && rq->actor[0] == '\0')
		r = TSR_ERR_AUTH;
	if (r == 0 && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0 &&
	    !csrf_ok(con, csrf))
		*csrf_bad = true;
	tsr_wipe(csrf, sizeof(csrf));
	if (r != 0 || *csrf_bad)
		tsr_wipe(rq->cookie, sizeof(rq->cookie));
	else
		rq->by_cookie = true;
	return r;
}

/* Runs for authenticated routes before a byte of the body is read: 0, or
 * TSR_ERR_AUTH (401), or the error that kept the credentials from being
 * checked; *csrf_bad for a cookie session without the right CSRF token. */
static int authenticate(struct request *rq, struct MHD_Connection *con, bool *csrf_bad)
{
	struct tsr_http_app *app = rq->srv->app;
	const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
	int r = TSR_ERR_NOT_FOUND;

	rq->actor[0] = '\0';
	*csrf_bad = false;
	/* The Authorization header first: a script can set it only for its
	 * own origin, so it needs no CSRF token; the cookie comes by itself. */
	if (auth == NULL && app->authenticate_cookie != NULL)
		r = authenticate_cookie(rq, con, csrf_bad);
	if (r == TSR_ERR_NOT_FOUND) {
		if (app->authenticate == NULL)
			return TSR_ERR_AUTH;
		r = app->authenticate(app, auth, rq->actor, sizeof(rq->actor));
		if (r == 0 && rq->actor[0] == '\0')
			r = TSR_ERR_AUTH;
	}
	if (r != 0 || *csrf_bad)
		rq->actor[0] = '\0';
	return r;
}

/* The query string of the request target ("" if none). */
static const char *query_of(const struct request *rq)
{
	const char *q = strchr(rq->target, '?');

	return q != NULL ? q + 1 : "";
}

/* The body cap of a route: 0 if it takes no body. */
static size_t body_cap(const struct tsr_http_server *srv, const struct tsr_http_route *route,
    bool authed)
{
	if (route->body == NULL && route->media_type == NULL)
		return 0;
	return authed ? srv->max_body_authenticated : srv->max_body_anonymous;
}

/* Whether the media type and framing of a body fit its route; if not, the
 * refusal is queued (or deferred) and *ret is what to return. */
static bool body_acceptable(struct request *rq, struct MHD_Connection *con,
    const struct tsr_http_route *route, long long length, enum MHD_Result *ret)
{
	const char *type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
	const char *want = route->media_type ? route->media_type : "application/json";
	char detail[128];

	if (route->media_type ? !is_media_type(type, want) : !is_json_type(type)) {
		snprintf(detail, sizeof(detail), "the body must be %s", want);
		*ret = refuse(rq, con, TSR_HTTP_UNSUPPORTED_MEDIA, detail);
		return false;
	}
	if (length < 0) {
		*ret = refuse(rq, con, TSR_HTTP_LENGTH_REQUIRED, "send the body with a "
		    "Content-Length");
		return false;
	}
	return true;
}

/* Whether a TSR_HTTP_BASIC route got Basic credentials (checked later). */
static bool has_basic(struct MHD_Connection *con)
{
	const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");

	return v != NULL && strncasecmp(v, "Basic ", 6) == 0;
}

/* The first call for a request: headers are in, the body is not.  Every
 * refusal that needs no body happens here, so an oversized or unwanted
 * body is never stored (at most drained; see answer()). */
static enum MHD_Result begin(struct request *rq, struct MHD_Connection *con)
{
	struct tsr_http_server *srv = rq->srv;
	const struct tsr_http_route *route;
	long long length = content_length(con);
	const char *expect = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Expect");
	bool chunked = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Transfer-Encoding");
	bool authed = false;
	enum MHD_Result ret;
	size_t cap;
	int r;

	/* Without a body the final call follows at once, and answering there
	 * keeps the connection alive; see answer() for the bodies. */
	rq->defer = (length == -1 && !chunked) ||
	    (length >= 0 && length <= DRAIN_MAX && expect == NULL);
	if (ambiguous_framing(rq, con))
		return chunked ? refuse(rq, con, TSR_HTTP_LENGTH_REQUIRED, "send the body with one "
		    "Content-Length, not Transfer-Encoding") :
		    fail(rq, con, tsr_error(TSR_ERR_PARSE, "more than one Content-Length"));
	/* One type, one set of credentials: which of two would count is a
	 * disagreement waiting to happen. */
	if (header_count(con, "Content-Type") > 1 || header_count(con, "Authorization") > 1)
		return fail(rq, con, tsr_error(TSR_ERR_PARSE, "a Content-Type or Authorization header "
		    "given more than once"));
	if (tsr_http_route_find(srv->routes, srv->n_routes, rq->method, rq->path,
	    &rq->match) != 0) {
		if (rq->match.allow[0] != '\0')
			return refuse(rq, con, TSR_HTTP_METHOD_NOT_ALLOWED, "this resource allows "
			    "only the methods in the Allow header");
		return fail(rq, con, TSR_ERR_NOT_FOUND);
	}
	route = rq->match.route;
	if (chunked)
		return refuse(rq, con, TSR_HTTP_LENGTH_REQUIRED,
		    "send the body with a Content-Length, not chunked");
	if (route->flags & TSR_HTTP_AUTH) {
		bool csrf_bad = false;

		if ((r = authenticate(rq, con, &csrf_bad)) == TSR_ERR_AUTH)
			return refuse(rq, con, TSR_HTTP_UNAUTHENTICATED,
			    "missing or invalid credentials");
		if (r != 0)
			return fail(rq, con, r);
		if (csrf_bad)
			return refuse(rq, con, TSR_HTTP_CSRF, "a request signed in by the "
			    "session cookie must carry the header " TSR_HTTP_CSRF_HEADER " with "
			    "the value of the " TSR_HTTP_CSRF_COOKIE " cookie");
		authed = true;
	}
	if ((route->flags & TSR_HTTP_BASIC) && !has_basic(con))
		return refuse(rq, con, TSR_HTTP_UNAUTHENTICATED, "this needs HTTP Basic credentials");
	if ((r = tsr_http_query_parse(query_of(rq), route->query, rq->query, &rq->n_query)) != 0)
		return fail(rq, con, r);
	if ((cap = body_cap(srv, route, authed)) == 0 && length > 0)
		return fail(rq, con, tsr_error(TSR_ERR_TOO_LARGE, "%s %s takes no request body",
		    rq->method, route->pattern));
	if (length == -2)
		return fail(rq, con, tsr_error(TSR_ERR_PARSE, "malformed Content-Length"));
	if (length > (long long)cap)
		return fail(rq, con, tsr_error(TSR_ERR_TOO_LARGE, "the request body has %lld "
		    "bytes; the limit is %zu", length, cap));
	if (cap > 0 && !body_acceptable(rq, con, route, length, &ret))
		return ret;
	rq->defer = false;
	/* Bodies will carry passwords, answers and codes: wiped when freed. */
	tsr_buf_init_secret(&rq->body, cap);
	return MHD_YES;
}

/* The client's certificate (DER of the leaf, a new buffer) if it sent one
 * and it chains to the trust; else *out stays NULL.  The TLS handshake has
 * already checked the client's signature with its key. */
static int peer_cert(const struct tsr_http_server *srv, struct MHD_Connection *con,
    uint8_t **out, size_t *len)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers = NULL;
	gnutls_x509_crt_t chain[PEER_CHAIN_MAX];
	unsigned n = 0, made = 0, status = 1;
	int r = 0;

	*out = NULL;
	*len = 0;
	if (srv->trust == NULL ||
	    (ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_GNUTLS_SESSION)) == NULL ||
	    ci->tls_session == NULL ||
	    (peers = gnutls_certificate_get_peers(ci->tls_session, &n)) == NULL || n == 0 ||
	    n > PEER_CHAIN_MAX)
		return 0;
	for (; made < n; made++) {
		if (gnutls_x509_crt_init(&chain[made]) < 0) {
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (gnutls_x509_crt_import(chain[made], &peers[made], GNUTLS_X509_FMT_DER) < 0) {
			made++;
			goto out;
		}
	}
	if (gnutls_x509_trust_list_verify_crt2(srv->trust, chain, n, NULL, 0, PEER_VERIFY_FLAGS,
	    &status, NULL) < 0 || status != 0)
		goto out;
	if ((*out = malloc(peers[0].size)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, peers[0].data, peers[0].size);
	*len = peers[0].size;
out:
	for (unsigned i = 0; i < made; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return r;
}

/* Answer with what the handler returned (r, res; both are ours now). */
static enum MHD_Result respond(struct request *rq, struct MHD_Connection *con, int r,
    struct tsr_http_response *res)
{
	const struct tsr_http_route *route = rq->match.route;
	bool json = res->json != NULL, raw = res->raw != NULL, file = res->body_fd >= 0;
	struct extra x = { .headers = res->headers, .n_headers = res->n_headers };

	if (r == 0 && file && (json || raw || res->content_type == NULL))
		r = tsr_error(TSR_ERR_INTERNAL, "%s: the handler gave a malformed response",
		    route->pattern);
	if (r == 0 && file) {
		if (res->status == 0)
			res->status = route->status ? route->status : 200;
		return send_fd(rq, con, res->status, res->body_fd, res->body_fd_len,
		    res->content_type, &x);
	}
	if (file)
		(void)close_fd(res->body_fd);
	if (r == 0 && (json && raw))
		r = tsr_error(TSR_ERR_INTERNAL, "%s: the handler gave two bodies", route->pattern);
	else if (r == 0 && (json || raw) == (res->status == 204))
		r = tsr_error(TSR_ERR_INTERNAL, "%s: the handler gave %s body", route->pattern,
		    res->status == 204 ? "a 204 with a" : "no");
	else if (r == 0 && ((raw && res->content_type == NULL) ||
	    res->n_headers > TSR_HTTP_MAX_HEADERS))
		r = tsr_error(TSR_ERR_INTERNAL, "%s: the handler gave a malformed response",
		    route->pattern);
	if (r != 0) {
		json_decref(res->json);
		wiping_free(res->raw);
		return fail(rq, con, r);
	}
	if (res->status == 0)
		res->status = route->status ? route->status : 200;
	if (raw)
		return send_body(rq, con, res->status, (char *)res->raw, res->raw_len,
		    res->content_type, &x);
	if (json)
		return queue(rq, con, res->status, res->json, "application/json", &x);
	return send_body(rq, con, 204, NULL, 0, NULL, &x);
}

/* The last call: the whole body is in.  Check it, run the handler, answer. */
static enum MHD_Result finish(struct request *rq, struct MHD_Connection *con)
{
	const struct tsr_http_route *route = rq->match.route;
	struct tsr_http_request req = {
		.app = rq->srv->app, .route = route, .method = rq->method, .path = rq->path,
		.n_params = rq->match.n_params, .n_query = rq->n_query,
		.actor = rq->actor[0] ? rq->actor : NULL, .client = rq->client, .connection = con,
		.session_cookie = rq->by_cookie ? rq->cookie : NULL,
	};
	struct tsr_http_response res = { .status = 0, .body_fd = -1 };
	json_t *body = NULL;
	uint8_t *cert = NULL;
	int r;

	if (rq->too_large)
		return fail(rq, con, tsr_error(TSR_ERR_TOO_LARGE, "the request body is too large"));
	memcpy(req.params, rq->match.params, sizeof(req.params));
	memcpy(req.query, rq->query, sizeof(req.query));
	if (req.actor != NULL || (route->flags & TSR_HTTP_BASIC))
		req.authorization = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		    "Authorization");
	if (route->media_type != NULL) {
		req.raw = rq->body.len ? rq->body.data : (const uint8_t *)"";
		req.raw_len = rq->body.len;
	} else if (route->body != NULL) {
		if ((r = tsr_json_read(rq->body.len ? (const char *)rq->body.data : "",
		    rq->body.len, route->body, &body)) != 0)
			return fail(rq, con, r);
		req.body = body;
	}
	if ((r = peer_cert(rq->srv, con, &cert, &req.client_cert_len)) != 0) {
		json_decref(body);
		return fail(rq, con, r);
	}
	req.client_cert = cert;
	tsr_error_clear();
	r = route->handler(&req, &res);
	json_decref(body);
	free(cert);
	return respond(rq, con, r, &res);
}

static void copy_method(const char *method, char *out, size_t size)
{
	size_t i;

	for (i = 0; method[i] != '\0' && i + 1 < size; i++)
		out[i] = (method[i] >= 'A' && method[i] <= 'Z') ? method[i] : '?';
	out[i] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)url;        /* already unescaped by libmicrohttpd: we route on rq->path */
	(void)version;
	if (rq == NULL || rq->path == NULL)
		return MHD_NO;
	if (!rq->begun) {
		rq->begun = true;
		copy_method(method, rq->method, sizeof(rq->method));
		return begin(rq, con);
	}
	if (*upload_data_size > 0) {
		/* Content-Length was checked against the cap, so this cannot
		 * overflow; if it does anyway, the body is dropped.  The body of
		 * a refused request is dropped as it comes. */
		if (!rq->answered && rq->deferred == NULL && !rq->too_large &&
		    tsr_buf_append(&rq->body, upload_data, *upload_data_size) != 0)
			rq->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->deferred != NULL) {
		json_t *doc = rq->deferred;
		struct extra x = { .allow = rq->deferred_allow ? rq->match.allow : NULL };

		rq->deferred = NULL;
		return queue(rq, con, rq->deferred_status, doc, rq->deferred_type, &x);
	}
	if (rq->answered)
		return MHD_YES;
	return finish(rq, con);
}

static void client_ip(struct MHD_Connection *con, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, size, "-");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		    (socklen_t)size);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)size);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct tsr_http_server *srv = cls;
	struct request *rq = calloc(1, sizeof(*rq));

	if (rq == NULL)
		return NULL;
	rq->srv = srv;
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	client_ip(con, rq->ip, sizeof(rq->ip));
	snprintf(rq->client, sizeof(rq->client), strchr(rq->ip, ':') ? "http:[%s]" : "http:%s",
	    rq->ip);
	if ((rq->target = strdup(uri)) != NULL)
		rq->path = strndup(uri, strcspn(uri, "?#"));
	tsr_buf_init(&rq->body, 0);
	pthread_mutex_lock(&srv->lock);
	srv->in_flight++;
	pthread_mutex_unlock(&srv->lock);
	return rq;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct tsr_http_server *srv = cls;
	struct request *rq = *con_cls;

	(void)con;
	if (rq == NULL)
		return;
	*con_cls = NULL;
	if (rq->path != NULL)
		log_request(rq, toe);
	json_decref(rq->deferred);
	tsr_wipe(rq->cookie, sizeof(rq->cookie));
	tsr_buf_free(&rq->body);
	free(rq->target);
	free(rq->path);
	free(rq);
	pthread_mutex_lock(&srv->lock);
	if (--srv->in_flight == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

/* libmicrohttpd's messages are warnings, except a failed TLS handshake,
 * which it reports in the same words whatever the cause.  That is the
 * client's doing (it went away, refused our certificate, or, as Chromium
 * does once when asked for an optional client certificate it does not have,
 * dropped the connection to ask again), so it is logged at the level nginx
 * uses for the same thing: info. */
static void on_mhd_message(void *cls, const char *fmt, va_list ap)
{
	static const char handshake[] = "Error: received handshake message out of context";
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (strncmp(msg, handshake, sizeof(handshake) - 1) == 0)
		tsr_log(TSR_LOG_INFO, "https: a client's TLS handshake failed");
	else
		tsr_log(TSR_LOG_WARN, "https: %s", msg);
}

/* ------------------------------------------------------------------ listening */

void tsr_http_config_default(struct tsr_http_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = TSR_HTTP_DEFAULT_LISTEN;
	c->max_body_anonymous = 64 * 1024;
	c->max_body_authenticated = 1024 * 1024;
	c->max_connections = 256;
	c->per_ip_connections = 16;
	c->timeout_seconds = 30;
}

static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long n = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5 || strspn(s, "0123456789") != len)
		return false;
	for (; *s != '\0'; s++)
		n = n * 10 + (unsigned long)(*s - '0');
	if (n > 65535)
		return false;
	*port = (uint16_t)n;
	return true;
}

int tsr_http_listen_parse(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon;
	uint16_t port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s == NULL || s[0] == '\0')
		goto bad;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		const char *close = strstr(s, "]:");

		if (close == NULL || (hlen = (size_t)(close - s - 1)) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1 || !parse_port(close + 2, &port))
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
		return 0;
	}
	if ((colon = strchr(s, ':')) == NULL || (hlen = (size_t)(colon - s)) >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	{
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1 || !parse_port(colon + 1, &port))
			goto bad;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
bad:
	return tsr_error(TSR_ERR_INVALID, "listen address '%s' must be IPv4:PORT "
	    "(127.0.0.1:8443) or [IPv6]:PORT ([::1]:8443)", s ? s : "");
}

/* Our own listening socket: errors name the address and errno, and the
 * port is known at once (port 0 picks a free one). */
static int open_listener(const char *listen_at, int *fd_out, uint16_t *port)
{
	struct sockaddr_storage ss, bound;
	socklen_t len, blen = sizeof(bound);
	int fd, one = 1, r;

	*fd_out = -1;
	if ((r = tsr_http_listen_parse(listen_at, &ss, &len)) != 0)
		return r;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tsr_error(TSR_ERR_IO, "socket: %s", strerror(errno));
	/* [::]:port means IPv6 only; IPv4 clients need their own address. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot listen on %s: %s", listen_at, strerror(errno));
		close(fd);
		return r;
	}
	*port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port :
	    ((struct sockaddr_in6 *)&bound)->sin6_port);
	*fd_out = fd;
	return 0;
}

static int open_log(const char *path, FILE **out)
{
	int fd;

	*out = stderr;
	if (path == NULL)
		return 0;
	/* Client addresses are personal data: not world-readable. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return tsr_error(TSR_ERR_IO, "cannot open access log %s: %s", path, strerror(errno));
	if ((*out = fdopen(fd, "a")) == NULL) {
		close(fd);
		*out = stderr;
		return tsr_error(TSR_ERR_IO, "cannot open access log %s: %s", path, strerror(errno));
	}
	setvbuf(*out, NULL, _IOLBF, 0);
	return 0;
}

/* ------------------------------------------------------------------ TLS material */

/* Read the PEM files and check that the key belongs to the certificate, so
 * that a mistake gets a sentence rather than an anonymous TLS failure. */
static int read_tls(const struct tsr_http_config *c, struct tsr_buf *cert, struct tsr_buf *key)
{
	const char *cert_pem, *key_pem;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	BIO *bio;
	int r;

	if ((r = tsr_file_read(c->cert_pem_path, PEM_MAX, cert)) != 0 ||
	    (r = tsr_buf_cstr(cert, &cert_pem)) != 0 ||
	    (r = tsr_file_read(c->key_pem_path, PEM_MAX, key)) != 0 ||
	    (r = tsr_buf_cstr(key, &key_pem)) != 0)
		return r;
	if ((bio = BIO_new_mem_buf(cert_pem, -1)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(key_pem, -1)) != NULL)
		pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "%s: no PEM certificate", c->cert_pem_path);
	else if (pk == NULL)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "%s: no unencrypted PEM private key",
		    c->key_pem_path);
	else if (X509_check_private_key(x, pk) != 1)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "%s is not the key of the certificate in %s",
		    c->key_pem_path, c->cert_pem_path);
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

/* The CA certificates client certificates must chain to: their PEM into
 * pem (for libmicrohttpd, which then asks clients for a certificate) and a
 * trust list of them into *out (which we check chains with). */
static int read_trust(const char *path, struct tsr_buf *pem, gnutls_x509_trust_list_t *out)
{
	gnutls_datum_t d;
	const char *text;
	int r, n;

	*out = NULL;
	if ((r = tsr_file_read(path, PEM_MAX, pem)) != 0 || (r = tsr_buf_cstr(pem, &text)) != 0)
		return r;
	if (gnutls_x509_trust_list_init(out, 0) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	d.data = (unsigned char *)pem->data;
	d.size = (unsigned)pem->len;
	if ((n = gnutls_x509_trust_list_add_trust_mem(*out, &d, NULL, GNUTLS_X509_FMT_PEM, 0,
	    0)) <= 0) {
		gnutls_x509_trust_list_deinit(*out, 1);
		*out = NULL;
		return tsr_error(TSR_ERR_CRYPTO, "%s: no PEM CA certificate%s%s", path,
		    n < 0 ? ": " : "", n < 0 ? gnutls_strerror(n) : "");
	}
	return 0;
}

/* ------------------------------------------------------------------ start, stop */

static pthread_once_t jansson_once = PTHREAD_ONCE_INIT;

/* jansson keeps copies of every string it parses (passwords, answers,
 * codes) and of every document it encodes (a session token) and frees
 * them without wiping.  Its allocator hooks take no size, but blocks
 * still come from malloc(), so the size is malloc_usable_size(); blocks
 * allocated before the switch are plain malloc() blocks too, so freeing
 * them here is just as right. */
static void jansson_wipes(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

static int check_config(const struct tsr_http_config *c, const struct tsr_http_app *app)
{
	if (app == NULL || (!c->plain && (c->cert_pem_path == NULL || c->key_pem_path == NULL)))
		return tsr_error(TSR_ERR_INVALID, "the HTTPS server needs a certificate and a key");
	if (c->plain && c->trust_pem_path != NULL)
		return tsr_error(TSR_ERR_INVALID, "client certificates need TLS");
	if (c->max_body_anonymous == 0 || c->max_body_authenticated < c->max_body_anonymous)
		return tsr_error(TSR_ERR_INVALID, "body limits must be positive, and no tighter "
		    "after authentication than before");
	if (c->max_connections == 0 || c->per_ip_connections == 0 ||
	    c->per_ip_connections > c->max_connections || c->timeout_seconds == 0)
		return tsr_error(TSR_ERR_INVALID, "connection limits and the timeout must be "
		    "positive, and the per-address limit at most the total");
	if (!c->plain && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return tsr_error(TSR_ERR_INTERNAL, "libmicrohttpd was built without TLS");
	return 0;
}

static int server_new(const struct tsr_http_config *c, struct tsr_http_app *app,
    struct tsr_http_server **out)
{
	struct tsr_http_server *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	if (s == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	s->app = app;
	s->routes = app->routes;
	s->n_routes = app->n_routes;
	if (s->routes == NULL)
		s->routes = tsr_http_all_routes(&s->n_routes);
	s->max_body_anonymous = c->max_body_anonymous;
	s->max_body_authenticated = c->max_body_authenticated;
	s->drain_seconds = c->timeout_seconds;
	s->plain = c->plain;
	s->log = stderr;
	tsr_buf_init(&s->trust_pem, PEM_MAX);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &attr);
	pthread_condattr_destroy(&attr);
	*out = s;
	return 0;
}

static void server_free(struct tsr_http_server *s)
{
	if (s->trust != NULL)
		gnutls_x509_trust_list_deinit(s->trust, 1);
	tsr_buf_free(&s->trust_pem);
	if (s->log != NULL && s->log != stderr)
		fclose(s->log);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* With trust (PEM), libmicrohttpd asks every client for a certificate
 * without requiring one (GNUTLS_CERT_REQUEST) and leaves checking it to us
 * (peer_cert()); a client that sends none is served as before. */
static struct MHD_Daemon *daemon_start(struct tsr_http_server *s,
    const struct tsr_http_config *c, int fd, const char *cert, const char *key,
    const char *trust)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls_options[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ trust != NULL ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, (void *)trust },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_OptionItem no_options[] = { { MHD_OPTION_END, 0, NULL } };

	if (!s->plain)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_message, s,
	    MHD_OPTION_ARRAY, s->plain ? no_options : tls_options,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, c->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_seconds,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    /* No leniency in parsing what clients send (bare LF, space before
	     * the colon, ...): leniency is where framing disagreements hide. */
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
}

int tsr_http_server_start(const struct tsr_http_config *c, struct tsr_http_app *app,
    struct tsr_http_server **out)
{
	struct tsr_http_server *s = NULL;
	struct tsr_buf cert, key;
	const char *cert_pem, *key_pem;
	int fd = -1, r;

	*out = NULL;
	tsr_buf_init(&cert, PEM_MAX);
	tsr_buf_init_secret(&key, PEM_MAX);
	if ((r = check_config(c, app)) != 0 ||
	    (!c->plain && (r = read_tls(c, &cert, &key)) != 0) ||
	    (r = tsr_buf_cstr(&cert, &cert_pem)) != 0 || (r = tsr_buf_cstr(&key, &key_pem)) != 0 ||
	    (r = server_new(c, app, &s)) != 0 ||
	    (c->trust_pem_path != NULL && (r = read_trust(c->trust_pem_path, &s->trust_pem,
	    &s->trust)) != 0) ||
	    (r = open_log(c->access_log_path, &s->log)) != 0 ||
	    (r = open_listener(c->listen, &fd, &s->port)) != 0)
		goto out;
	/* Seed jansson's hash function before there are threads to race for it. */
	json_object_seed(0);
	pthread_once(&jansson_once, jansson_wipes);
	if ((s->mhd = daemon_start(s, c, fd, cert_pem, key_pem,
	    s->trust != NULL ? (const char *)s->trust_pem.data : NULL)) == NULL) {
		r = tsr_error(TSR_ERR_CRYPTO, "cannot start the HTTP%s server on %s (see the "
		    "messages above)", c->plain ? "" : "S", c->listen);
		goto out;
	}
	fd = -1;   /* libmicrohttpd's now */
	*out = s;
	s = NULL;
out:
	/* GnuTLS has its own copy of the key by now. */
	tsr_buf_free(&key);
	tsr_buf_free(&cert);
	if (fd >= 0)
		close(fd);
	if (s != NULL)
		server_free(s);
	return r;
}

uint16_t tsr_http_server_port(const struct tsr_http_server *s)
{
	return s->port;
}

void tsr_http_server_stop(struct tsr_http_server *s)
{
	struct timespec deadline;
	MHD_socket listener;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->draining = true;   /* answers from now on say Connection: close */
	pthread_mutex_unlock(&s->lock);
	listener = MHD_quiesce_daemon(s->mhd);
	/* A quiesced socket still completes TCP handshakes into its backlog,
	 * leaving clients waiting for nothing; shut down, it refuses them.  It
	 * is closed only after MHD_stop_daemon(), as libmicrohttpd asks. */
	if (listener != MHD_INVALID_SOCKET)
		shutdown(listener, SHUT_RDWR);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->drain_seconds;
	pthread_mutex_lock(&s->lock);
	while (s->in_flight > 0 &&
	    pthread_cond_timedwait(&s->idle, &s->lock, &deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->lock);
	/* Closes idle keep-alive connections and joins every connection thread,
	 * so no handler runs after this returns. */
	MHD_stop_daemon(s->mhd);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	server_free(s);
}
