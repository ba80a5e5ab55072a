/*
 * http.h - Tessera's HTTPS front: the server (libmicrohttpd over GnuTLS),
 * the routing table, limits, strict JSON in and out (jansson), problem
 * documents (RFC 9457, formerly RFC 7807), the /api/v1 handlers and EST
 * (RFC 7030) under /.well-known/est/.
 *
 * A handler sees a routed request (path parameters, a body already parsed
 * and checked against the route's schema, or the raw bytes of a route
 * with another media type; the TLS client certificate if one chains to the
 * configured CA) and fills a response (JSON, or bytes of another type);
 * it never touches sockets, TLS or SQL.  Every error a handler returns becomes an
 * application/problem+json document through the base error table.
 */
#ifndef TSR_HTTP_H
#define TSR_HTTP_H

#include <sys/socket.h>

#include <jansson.h>

#include "base/base.h"
#include "ca/ca.h"

/* ------------------------------------------------------------------ JSON in
 * A schema is an array of fields ended by an entry whose name is NULL.
 * tsr_json_read() refuses, with TSR_ERR_PARSE: text that is not JSON
 * (including duplicate keys, NUL characters and invalid UTF-8); with
 * TSR_ERR_INVALID and a detail starting with the field's JSON pointer
 * ("/applicant/date_of_birth: expected a string"): a top level that is not
 * an object, nesting deeper than TSR_JSON_MAX_DEPTH, unknown keys, wrong
 * types (null is never a value: leave optional fields out), missing
 * required fields, strings outside their length bounds or holding control
 * characters, integers outside their range, arrays outside their bounds.
 */
#define TSR_JSON_MAX_DEPTH 8

enum tsr_json_type {
	TSR_JSON_STRING,
	TSR_JSON_INT,
	TSR_JSON_BOOL,
	TSR_JSON_OBJECT,
	TSR_JSON_ARRAY,
};

/* Strings: also accept line feeds and tabs (free text such as a reason). */
#define TSR_JSON_MULTILINE 0x1u

struct tsr_json_field {
	const char *name;                      /* NULL ends a schema */
	enum tsr_json_type type;
	bool required;
	size_t min_len, max_len;               /* strings: characters; arrays: items */
	long long min, max;                    /* integers: inclusive range */
	const struct tsr_json_field *fields;   /* objects: their schema */
	const struct tsr_json_field *item;     /* arrays: what every element is */
	unsigned flags;
};

/* Parse text and check it against schema; on success *out is a new
 * reference to the top-level object (json_decref() it). */
int tsr_json_read(const void *text, size_t len, const struct tsr_json_field *schema,
    json_t **out) TSR_MUST_CHECK;
/* The OpenAPI 3.0 schema object describing schema (new reference, or NULL). */
json_t *tsr_json_schema_openapi(const struct tsr_json_field *schema);
/* Encode v (an object or array) compactly, ASCII only; *out is a new
 * string (free()) of *len bytes. */
int tsr_json_encode(const json_t *v, char **out, size_t *len) TSR_MUST_CHECK;

/* Answers' building blocks, shared by the API's handlers:
 * - tsr_utf8_repaired(): a copy of s in which each byte that is not part of
 *   a valid UTF-8 sequence is '?' (NULL when out of memory).  Text is
 *   validated before it is stored, but a row holding invalid UTF-8 anyway
 *   must not fail a whole answer (a listing);
 * - tsr_json_text(): stored text as a JSON string ("" for NULL, repaired if
 *   it is not UTF-8); NULL only when out of memory;
 * - tsr_json_time(): a Unix time as "YYYY-MM-DDTHH:MM:SSZ";
 * - tsr_json_set(): set key in obj to v, a new reference taken even on
 *   failure (v NULL: out of memory); TSR_ERR_NOMEM on failure. */
char *tsr_utf8_repaired(const char *s);
json_t *tsr_json_text(const char *s);
json_t *tsr_json_time(int64_t t);
int tsr_json_set(json_t *obj, const char *key, json_t *v);

/* ------------------------------------------------------------------ problems
 * type is TSR_PROBLEM_TYPE_BASE + a stable name: the error's tsr_error_name()
 * ("not-found", "too-large", ...) or one of the HTTP-layer refusals below.
 * The base is under .invalid (RFC 6761) so that it is absolute and the same
 * for every deployment, yet can never resolve to someone else's page;
 * docs/api.md lists the names.  Details of 5xx errors are replaced by a
 * generic sentence: they may name server paths or library internals, and
 * belong in the server's log instead.
 */
#define TSR_PROBLEM_TYPE_BASE "https://tessera.invalid/problems/"

/* Refusals of the HTTP layer itself; they have no TSR_ERR_* code. */
enum tsr_http_refusal {
	TSR_HTTP_UNAUTHENTICATED,      /* 401 unauthenticated */
	TSR_HTTP_METHOD_NOT_ALLOWED,   /* 405 method-not-allowed */
	TSR_HTTP_LENGTH_REQUIRED,      /* 411 length-required */
	TSR_HTTP_UNSUPPORTED_MEDIA,    /* 415 unsupported-media-type */
	TSR_HTTP_CSRF,                 /* 403 csrf: a cookie session without the right token */
};

/* The problem document for an error code (a TSR_ERR_*; anything else counts
 * as TSR_ERR_INTERNAL).  instance is the request path (may be NULL).  Sets
 * *status; returns a new reference, or NULL when out of memory. */
json_t *tsr_problem_from_error(int code, const char *detail, const char *instance, int *status);
/* The same for an HTTP-layer refusal. */
json_t *tsr_problem_from_refusal(enum tsr_http_refusal r, const char *detail,
    const char *instance, int *status);

/* ------------------------------------------------------------------ routes
 * A route is a method and a path pattern whose segments are literals or
 * "{name}" captures.  Matching is exact: no trailing-slash, case or
 * percent-encoding equivalences on literal segments, no empty segments
 * (but a pattern without captures ending in '/', such as "/" or "/ra/",
 * matches exactly itself).
 * A capture matches one non-empty segment; it is percent-decoded and must
 * then hold no '/' and no control character and fit TSR_HTTP_PARAM_MAX
 * bytes.  HEAD is served by GET routes.
 *
 * The query string is checked before the handler runs: every parameter
 * must be "name=value" with a name the route lists (route->query) given
 * once, and a value that percent-decodes ('+' is a plus, not a space) to
 * 1..TSR_HTTP_PARAM_MAX bytes without control characters.  Anything else
 * is refused (400 invalid), on every route: a route that lists no names
 * takes no query at all.
 */
#define TSR_HTTP_MAX_PARAMS 4
#define TSR_HTTP_MAX_QUERY 8
#define TSR_HTTP_PARAM_MAX 128
#define TSR_HTTP_PATH_MAX 1024
/* "http:" and an IPv4 address, or "http:[IPv6]" */
#define TSR_HTTP_CLIENT_MAX 64

struct tsr_http_param {
	char name[32];
	char value[TSR_HTTP_PARAM_MAX + 1];
};

struct tsr_http_app;
struct tsr_http_route;

struct tsr_http_request {
	struct tsr_http_app *app;
	const struct tsr_http_route *route;
	const char *method;
	const char *path;                    /* as requested, without the query */
	struct tsr_http_param params[TSR_HTTP_MAX_PARAMS];
	size_t n_params;
	struct tsr_http_param query[TSR_HTTP_MAX_QUERY];   /* checked against route->query */
	size_t n_query;
	const json_t *body;                  /* checked against route->body, else NULL */
	const char *actor;                   /* authenticated routes: who; else NULL */
	/* Authenticated routes: the Authorization header as sent (a secret:
	 * never log, echo or keep it); else NULL. */
	const char *authorization;
	const char *client;                  /* "http:192.0.2.7", "http:[2001:db8::7]" */
	/* Routes with a media_type: the body as sent (possibly empty; a secret
	 * buffer, wiped when freed); else NULL and 0. */
	const uint8_t *raw;
	size_t raw_len;
	/* The TLS client certificate (DER of the leaf) when the client sent one
	 * that chains to the configured trust (tsr_http_config.trust_pem_path),
	 * the TLS handshake having proved possession of its key; else NULL.  Its
	 * validity period is not checked here: the caller judges it. */
	const uint8_t *client_cert;
	size_t client_cert_len;
	void *connection;                    /* the server's, for tsr_http_header() */
	/* Authenticated routes whose caller came with the tsr_session cookie
	 * (no Authorization header): its token (a secret: never log, echo or
	 * keep it); else NULL. */
	const char *session_cookie;
};

/* A response header besides the server's own: static strings, or text in
 * the response's own text[] buffer.  A handler's Cache-Control replaces the
 * server's default "no-store". */
struct tsr_http_header {
	const char *name;
	const char *value;
};

#define TSR_HTTP_MAX_HEADERS 4

/* A handler fills json (application/json), or raw and content_type (any
 * other type), or neither with status 204 (No Content). */
struct tsr_http_response {
	int status;                          /* 0 means the route's status */
	json_t *json;                        /* the body; the server takes the reference */
	const char *content_type;            /* raw bodies: their type (a static string) */
	uint8_t *raw;                        /* malloc()ed; the server frees it (wiped), also
	                                      * when the handler fails */
	size_t raw_len;
	struct tsr_http_header headers[TSR_HTTP_MAX_HEADERS];   /* sent with a success */
	size_t n_headers;
	char text[320];                      /* room for header values */
	/* A body read from a file instead of raw: an open descriptor (the
	 * server closes it) of body_fd_len bytes, sent without copying; with
	 * content_type.  -1 (the server sets it before the handler) for none. */
	int body_fd;
	size_t body_fd_len;
};

/* Fill res, or return a TSR_ERR_* (with a detail) to answer with a problem. */
typedef int (*tsr_http_handler)(const struct tsr_http_request *req,
    struct tsr_http_response *res);

struct tsr_ra;
struct tsr_store;
/* A handler's work with a store connection of the workflow's pool:
 * tsr_http_with_store() takes one (req->app->ctx is the struct tsr_ra),
 * runs fn and gives it back. */
typedef int (*tsr_http_store_fn)(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res);
int tsr_http_with_store(const struct tsr_http_request *req, struct tsr_http_response *res,
    tsr_http_store_fn fn);

/* Route flags. */
#define TSR_HTTP_AUTH 0x1u                /* needs app->authenticate to accept the caller */
/* Needs "Authorization: Basic ..." (RFC 7617), which the handler checks
 * (req->authorization): without one the request is refused (401
 * unauthenticated, with the route's challenge) before its body is read. */
#define TSR_HTTP_BASIC 0x2u
/* The pattern is a prefix: it matches itself followed by '/' and one or
 * more characters of any kind; the handler reads the rest from req->path
 * (still percent-encoded).  For RFC 5019 OCSP GET, whose base64 holds '/'. */
#define TSR_HTTP_PREFIX 0x4u

struct tsr_http_route {
	const char *method;                  /* "GET", "POST", ... */
	const char *pattern;                 /* "/api/v1/products/{name}" */
	tsr_http_handler handler;
	unsigned flags;
	const struct tsr_json_field *body;   /* the JSON body's schema; NULL: no body */
	const char *summary;                 /* one line, for the OpenAPI document */
	const char *response;                /* component schema of the success body, or NULL */
	const char *const *query;            /* query names accepted, NULL-terminated; NULL: none */
	int status;                          /* success status: 0 means 200 (201 for creations) */
	/* A body that is not JSON: its media type ("application/pkcs10"; the
	 * request's Content-Type must be exactly that, in any case, without
	 * parameters, else 415), handed over raw (req->raw) under the same size
	 * caps as JSON bodies.  NULL: JSON as body says, or no body. */
	const char *media_type;
	const char *produces;                /* the success body's type if not JSON (OpenAPI) */
	const char *challenge;               /* WWW-Authenticate of every 401 it answers, or NULL */
};

struct tsr_http_match {
	const struct tsr_http_route *route;
	struct tsr_http_param params[TSR_HTTP_MAX_PARAMS];
	size_t n_params;
	char allow[64];                      /* on a miss: methods the path has ("GET, HEAD") */
};

/* Find the route for method and path (the raw, still percent-encoded path
 * without its query).  0 on a match; TSR_ERR_NOT_FOUND otherwise, with
 * out->allow non-empty when the path exists under other methods (a 405). */
int tsr_http_route_find(const struct tsr_http_route *routes, size_t n, const char *method,
    const char *path, struct tsr_http_match *out) TSR_MUST_CHECK;
/* The value of capture name in req, or NULL. */
const char *tsr_http_param(const struct tsr_http_request *req, const char *name);

/* Check the raw query string (after the '?', NULL or "" for none) against
 * the NULL-terminated list allowed (NULL: no names) by the rules above, and
 * put the decoded parameters into out[0..*n).  TSR_ERR_INVALID with a
 * detail naming the parameter (printable ASCII of its name only; never its
 * value, which could be a code). */
int tsr_http_query_parse(const char *query, const char *const *allowed,
    struct tsr_http_param out[TSR_HTTP_MAX_QUERY], size_t *n) TSR_MUST_CHECK;
/* The decoded value of query parameter name in req, or NULL if absent. */
const char *tsr_http_query(const struct tsr_http_request *req, const char *name);

/* Bearer tokens (RFC 6750) as Tessera makes them: 256 random bits in
 * base64url without padding. */
#define TSR_HTTP_BEARER_CHARS 43

/* Take the token out of an Authorization header value: exactly "Bearer"
 * (the scheme name in any case, RFC 9110 11.1), one space and
 * TSR_HTTP_BEARER_CHARS base64url characters, nothing else.  token gets it
 * NUL-terminated (wipe it after use).  TSR_ERR_AUTH for a missing or
 * malformed header; the detail never quotes it. */
int tsr_http_bearer(const char *authorization, char token[TSR_HTTP_BEARER_CHARS + 1])
    TSR_MUST_CHECK;

/* HTTP Basic credentials (RFC 7617) as EST sends them. */
#define TSR_HTTP_BASIC_USER_MAX 128      /* bytes of the user-id */
#define TSR_HTTP_BASIC_PASSWORD_MAX 256  /* bytes of the password */

/* Take user-id and password out of an Authorization header value: exactly
 * "Basic" (any case), one space, and strict base64 (see
 * tsr_base64_decode()) of "user-id:password", split at the first colon;
 * both parts non-empty, within the limits above, without control
 * characters (UTF-8 is the caller's to judge).  user and password get them
 * NUL-terminated (wipe both after use).  TSR_ERR_AUTH for a missing or
 * malformed header; the detail never quotes it. */
int tsr_http_basic(const char *authorization, char user[TSR_HTTP_BASIC_USER_MAX + 1],
    char password[TSR_HTTP_BASIC_PASSWORD_MAX + 1]) TSR_MUST_CHECK;

/* The value of request header name in *value (NULL if absent).
 * TSR_ERR_INVALID if the request has it more than once, naming it. */
int tsr_http_header(const struct tsr_http_request *req, const char *name, const char **value)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ the API */
/* The routes the server serves unless the app names others: one table
 * (api.c's own routes, then the workflow's from ra_api.c) that drives both
 * routing and the OpenAPI document. */
const struct tsr_http_route *tsr_http_api_routes(size_t *n);
/* The OpenAPI 3.0 document describing routes (new reference, or NULL). */
json_t *tsr_http_openapi(const struct tsr_http_route *routes, size_t n);

/* The enrollment workflow's routes (ra_api.c; app->ctx is the struct
 * tsr_ra), part of tsr_http_api_routes(). */
const struct tsr_http_route *tsr_http_ra_routes(size_t *n);
/* The component schemas of their responses, as an object of name ->
 * OpenAPI schema (new reference, or NULL). */
json_t *tsr_http_ra_schemas(void);

/* EST (RFC 7030) under /.well-known/est/ and Test My Certificate (est.c;
 * app->ctx is the struct tsr_ra), part of tsr_http_api_routes(). */
const struct tsr_http_route *tsr_http_est_routes(size_t *n);
json_t *tsr_http_est_schemas(void);

/* What the EST layer parses, for its tests and fuzzing: a simpleenroll or
 * simplereenroll body (base64 of a DER PKCS#10, line breaks allowed) into
 * *der (a new buffer of *der_len bytes, free()) after checking it is one
 * well-formed request whose signature verifies (tsr_csr_parse()).
 * TSR_ERR_PARSE (not base64, not DER), TSR_ERR_TOO_LARGE, TSR_ERR_SIGNATURE. */
int tsr_http_est_csr(const uint8_t *body, size_t len, uint8_t **der, size_t *der_len)
    TSR_MUST_CHECK;
/* The token claim header value v (NULL: absent, fine): 1..64 printable
 * ASCII characters; TSR_ERR_INVALID naming the header otherwise. */
int tsr_http_est_claim_check(const char *header, const char *v) TSR_MUST_CHECK;
/* The DER CsrAttrs (RFC 7030 4.5.2) asking for key type t: the key
 * algorithm and its parameter as an attribute, and the signature
 * algorithm's OID.  *out is a new buffer (free()). */
int tsr_http_est_csrattrs(enum tsr_key_type t, uint8_t **out, size_t *len) TSR_MUST_CHECK;

/* What relying parties fetch (status.c): OCSP (POST /ocsp, GET /ocsp/...),
 * the CRLs (/crl/issuing.crl, /crl/root.crl) and the CA certificates
 * (/ca/issuing.crt, /ca/root.crt), all public; part of
 * tsr_http_api_routes(), and on their own the routes of the plain-HTTP
 * listener (app->ctx is the struct tsr_ra, app->ocsp the responder). */
const struct tsr_http_route *tsr_http_status_routes(size_t *n);

/* Public certificate lookups for the "verify a certificate" and retrieval
 * pages (pub_api.c; app->ctx is the struct tsr_ra), part of
 * tsr_http_api_routes(). */
const struct tsr_http_route *tsr_http_pub_routes(size_t *n);
/* Officers' certificate search and the audit trail (officer_api.c; app->ctx
 * is the struct tsr_ra), part of tsr_http_api_routes(). */
const struct tsr_http_route *tsr_http_officer_routes(size_t *n);
/* Their responses' component schemas, as tsr_http_ra_schemas(). */
json_t *tsr_http_officer_schemas(void);
/* The officer's user name of req's session into *name (ra_api.c); an
 * applicant's session or none is TSR_ERR_FORBIDDEN.  The role is the
 * caller's to check (tsr_ra_officer_check()). */
int tsr_http_officer_name(const struct tsr_http_request *req, const char **name)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ browsers
 * Pages and assets (web.c) and browser sessions (server.c); docs/web.md.
 *
 * A TSR_HTTP_AUTH request without an Authorization header is authenticated
 * by the tsr_session cookie if it has one (app->authenticate_cookie); such a
 * request with a method other than GET or HEAD must then carry the header
 * X-CSRF-Token equal to the session's CSRF value (compared in constant
 * time), else 403 csrf.  The Cookie header is read strictly enough: at most
 * one Cookie header, pairs separated by ';' and spaces, tsr_session at most
 * once (twice is 400 invalid: which one counts would be a guess); other
 * cookies are skipped unread, whatever their syntax.
 */
#define TSR_HTTP_SESSION_COOKIE "tsr_session"
#define TSR_HTTP_CSRF_COOKIE "tsr_csrf"
#define TSR_HTTP_CSRF_HEADER "X-CSRF-Token"
/* base64url of an HMAC-SHA-256 without padding. */
#define TSR_HTTP_CSRF_CHARS 43
/* Headers of every page and asset (besides the server's own). */
#define TSR_HTTP_PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"
/* The largest page or asset served. */
#define TSR_HTTP_WEB_FILE_MAX (1024 * 1024)

/* The value of cookie name in a Cookie header value (NULL: none) into out
 * (size bytes): 0 found; TSR_ERR_NOT_FOUND absent; TSR_ERR_INVALID given
 * twice, or too long for out (the detail names the cookie, never a value). */
int tsr_http_cookie(const char *header, const char *name, char *out, size_t size)
    TSR_MUST_CHECK;

/* The pages ("/", "/apply", ..., "/ra/") and "/assets/{file}", read from
 * app->web_root (GET and HEAD).  Not part of tsr_http_api_routes() (the
 * API and its OpenAPI document); tsr_http_all_routes() has both. */
const struct tsr_http_route *tsr_http_web_routes(size_t *n);
/* The API's routes followed by the web routes: what `tessera serve` serves
 * (app->routes NULL means this table). */
const struct tsr_http_route *tsr_http_all_routes(size_t *n);
/* Whether name may be an asset's file name: 1..64 of [A-Za-z0-9._-], not
 * starting with '.' or '-', with one of the extensions served; *type gets
 * its Content-Type. */
bool tsr_http_asset_name(const char *name, const char **type);

/* ------------------------------------------------------------------ server */
#define TSR_HTTP_DEFAULT_LISTEN "127.0.0.1:8443"

struct tsr_http_config {
	const char *listen;              /* "127.0.0.1:8443", "[::1]:8443"; port 0 picks one */
	const char *cert_pem_path;       /* server certificate, then its chain (PEM) */
	const char *key_pem_path;        /* its private key (PEM, unencrypted) */
	size_t max_body_anonymous;       /* request body cap before authentication */
	size_t max_body_authenticated;   /* ... and after */
	unsigned max_connections;
	unsigned per_ip_connections;
	unsigned timeout_seconds;        /* idle connections; also the drain limit at stop */
	const char *access_log_path;     /* NULL: stderr */
	/* CA certificates (PEM) that client certificates must chain to: the
	 * server then asks every client for one (without requiring it) and
	 * hands the handler those that chain (req->client_cert).  NULL: no
	 * client certificates are asked for. */
	const char *trust_pem_path;
	/* Plain HTTP, without TLS (the certificate and key are not needed):
	 * for the public status routes only, which RFC 5280 and RFC 6960
	 * relying parties fetch over http:// to avoid a circular check. */
	bool plain;
};

/* Defaults: 127.0.0.1:8443, 64 KiB / 1 MiB bodies, 256 connections, 16 per
 * IP, 30 s; cert, key and log paths NULL. */
void tsr_http_config_default(struct tsr_http_config *c);

/* What the handlers need.  The server borrows it until stopped. */
struct tsr_http_app {
	const struct tsr_config *cfg;    /* products etc. */
	void *ctx;                       /* the workflow (struct tsr_ra) for ra_api.c */
	/* Accept or refuse the Authorization header (NULL if absent) of a
	 * TSR_HTTP_AUTH route, writing who it is into actor.  Called before any
	 * of the body is read.  0 accepts; TSR_ERR_AUTH refuses (401
	 * unauthenticated); any other error means the credentials could not be
	 * checked and is answered as that error (e.g. 503 store).  NULL refuses
	 * every such route (401). */
	int (*authenticate)(struct tsr_http_app *app, const char *authorization, char *actor,
	    size_t actor_size);
	/* The routing table; NULL: tsr_http_api_routes(). */
	const struct tsr_http_route *routes;
	size_t n_routes;
	/* The OCSP responder for /ocsp, or NULL: those routes answer 503. */
	struct tsr_ocsp_responder *ocsp;
	/* Browser sessions (docs/web.md): accept or refuse the token of a
	 * tsr_session cookie (TSR_HTTP_BEARER_CHARS base64url characters) as
	 * authenticate does a bearer token, and on success also write the
	 * session's CSRF value into csrf.  Asked only when a TSR_HTTP_AUTH
	 * request has no Authorization header.  NULL: cookies are ignored. */
	int (*authenticate_cookie)(struct tsr_http_app *app, const char *token, char *actor,
	    size_t actor_size, char csrf[TSR_HTTP_CSRF_CHARS + 1]);
	/* The directory the pages and assets are read from (web.c), or NULL:
	 * those routes answer 404. */
	const char *web_root;
	/* GET /api/v1/health: 0 if the database answers, else an error (with
	 * its detail for the log; the client learns only "unreachable").
	 * NULL: nothing to check. */
	int (*check_health)(struct tsr_http_app *app);
};

/* Parse "IPv4:PORT" or "[IPv6]:PORT" (numeric addresses only: no host
 * names, zones or wildcards without an address).  TSR_ERR_INVALID. */
int tsr_http_listen_parse(const char *s, struct sockaddr_storage *out, socklen_t *len)
    TSR_MUST_CHECK;

struct tsr_http_server;

/* Listen on c->listen and serve HTTPS (TLS 1.2 and 1.3 only; plain HTTP
 * with c->plain) in threads of
 * the server's own until tsr_http_server_stop().  Reads the certificate
 * and key files (the key is wiped from our memory once TLS holds it) and
 * opens the access log (0640, appended).  The first start also makes
 * jansson wipe every block it frees, process-wide (request bodies carry
 * passwords and codes); call it before other threads use jansson.  Errors: TSR_ERR_INVALID (config),
 * TSR_ERR_IO (listen, files), TSR_ERR_NOT_FOUND (files), TSR_ERR_CRYPTO
 * (TLS setup, e.g. a key that does not match the certificate). */
int tsr_http_server_start(const struct tsr_http_config *c, struct tsr_http_app *app,
    struct tsr_http_server **out) TSR_MUST_CHECK;
/* The port listened on (useful with port 0). */
uint16_t tsr_http_server_port(const struct tsr_http_server *s);
/* Stop accepting connections, let requests in flight finish (for at most
 * timeout_seconds), then close everything and free s.  NULL is fine. */
void tsr_http_server_stop(struct tsr_http_server *s);

#endif /* TSR_HTTP_H */
