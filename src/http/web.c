/*
 * web.c - the pages and their assets, read from the web root
 * (app->web_root) for browsers; docs/web.md.
 *
 * Only names this file lists or allows are ever opened: a page is one of
 * the table below, an asset one segment of a few characters with one of a
 * few extensions.  Below the web root no symbolic link is followed (each
 * component is opened with O_NOFOLLOW, relative to its parent), so neither
 * a crafted path nor a link someone left in the tree can reach a file
 * outside it; and only regular files of at most TSR_HTTP_WEB_FILE_MAX
 * bytes are served.  The files are sent from their descriptors, HEAD
 * included (libmicrohttpd leaves the body out).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"

#define ASSET_NAME_MAX 64

/* The pages: a route's pattern and the file under the web root. */
static const struct {
	const char *pattern;
	const char *file;
} pages[] = {
	{ "/", "index.html" },
	{ "/apply", "apply.html" },
	{ "/verify-email", "verify-email.html" },
	{ "/application", "application.html" },
	{ "/retrieve", "retrieve.html" },
	{ "/verify", "verify.html" },
	{ "/test", "test.html" },
	{ "/ra/", "ra/index.html" },
	{ "/ra/queue", "ra/queue.html" },
	{ "/ra/application", "ra/application.html" },
	{ "/ra/certificates", "ra/certificates.html" },
	{ "/ra/audit", "ra/audit.html" },
};

static const struct {
	const char *ext;
	const char *type;
} asset_types[] = {
	{ ".css", "text/css; charset=utf-8" },
	/* RFC 9239: what ES modules must be served as. */
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/vnd.microsoft.icon" },
	{ ".woff2", "font/woff2" },
};

bool tsr_http_asset_name(const char *name, const char **type)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-";
	size_t n = strnlen(name, ASSET_NAME_MAX + 1);
	const char *dot;

	*type = NULL;
	/* No leading dot (hidden files, "..") or dash (option-like). */
	if (n == 0 || n > ASSET_NAME_MAX || strspn(name, allowed) != n || name[0] == '.' ||
	    name[0] == '-' || (dot = strrchr(name, '.')) == NULL)
		return false;
	for (size_t i = 0; i < TSR_ARRAY_LEN(asset_types); i++)
		if (strcmp(dot, asset_types[i].ext) == 0) {
			*type = asset_types[i].type;
			return true;
		}
	return false;
}

/* A missing file, a symbolic link, something not a directory where one is
 * needed: all "not found" to the client. */
static bool missing(int e)
{
	return e == ENOENT || e == ELOOP || e == ENOTDIR;
}

/* Open rel (our own names: components without "." or "..") under root,
 * following no symbolic link below root; a regular file of at most
 * TSR_HTTP_WEB_FILE_MAX bytes.  what names it in a 404's detail. */
static int open_file(const char *root, const char *rel, const char *what, int *fd_out,
    size_t *len)
{
	char part[ASSET_NAME_MAX + 1];
	const char *whole = rel;
	struct stat sb;
	int dir, fd = -1, e;

	*fd_out = -1;
	if ((dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return tsr_error(TSR_ERR_IO, "web root %s: %s", root, strerror(errno));
	for (;;) {
		size_t k = strcspn(rel, "/");
		bool last = rel[k] == '\0';

		if (k == 0 || k >= sizeof(part)) {
			close(dir);
			return tsr_error(TSR_ERR_INTERNAL, "web: bad file name");
		}
		memcpy(part, rel, k);
		part[k] = '\0';
		/* O_NONBLOCK: a FIFO planted in the tree must not hang us. */
		fd = openat(dir, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    (last ? O_NONBLOCK : O_DIRECTORY));
		e = errno;
		close(dir);
		if (fd < 0 && missing(e))
			return tsr_error(TSR_ERR_NOT_FOUND, "no such %s", what);
		if (fd < 0)
			return tsr_error(TSR_ERR_IO, "web root %s: %s: %s", root, whole,
			    strerror(e));
		if (last)
			break;
		dir = fd;
		rel += k + 1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return tsr_error(TSR_ERR_NOT_FOUND, "no such %s", what);
	}
	if (sb.st_size > TSR_HTTP_WEB_FILE_MAX) {
		close(fd);
		return tsr_error(TSR_ERR_CONFIG, "web root %s: %s is over %d bytes", root, whole,
		    TSR_HTTP_WEB_FILE_MAX);
	}
	*fd_out = fd;
	*len = (size_t)sb.st_size;
	return 0;
}

/* Serve file rel as type, with the headers every page and asset gets. */
static int serve(const struct tsr_http_request *req, struct tsr_http_response *res,
    const char *rel, const char *type, const char *what)
{
	int r;

	if (req->app->web_root == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "this server serves no pages");
	if ((r = open_file(req->app->web_root, rel, what, &res->body_fd, &res->body_fd_len)) != 0)
		return r;
	res->content_type = type;
	res->headers[0] = (struct tsr_http_header){ "Content-Security-Policy", TSR_HTTP_PAGE_CSP };
	res->headers[1] = (struct tsr_http_header){ "X-Frame-Options", "DENY" };
	res->n_headers = 2;
	return 0;
}

static int get_page(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(pages); i++)
		if (strcmp(pages[i].pattern, req->route->pattern) == 0)
			return serve(req, res, pages[i].file, "text/html; charset=utf-8", "page");
	return tsr_error(TSR_ERR_INTERNAL, "web: %s has no page", req->route->pattern);
}

static int get_asset(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const char *name = tsr_http_param(req, "file"), *type;
	char rel[sizeof("assets/") + ASSET_NAME_MAX];

	if (name == NULL || !tsr_http_asset_name(name, &type))
		return tsr_error(TSR_ERR_NOT_FOUND, "no such asset");
	memcpy(rel, "assets/", 7);
	memcpy(rel + 7, name, strlen(name) + 1);
	return serve(req, res, rel, type, "asset");
}

/* Pages may carry these in their query, for their scripts (the server
 * ignores them): an application's id, a certificate's serial. */
static const char *const page_query[] = { "id", "serial", NULL };

#define PAGE(p) { .method = "GET", .pattern = p, .handler = get_page, .query = page_query, \
	.produces = "text/html", .summary = "A page" }

static const struct tsr_http_route web_routes[] = {
	PAGE("/"), PAGE("/apply"), PAGE("/verify-email"), PAGE("/application"),
	PAGE("/retrieve"), PAGE("/verify"), PAGE("/test"), PAGE("/ra/"), PAGE("/ra/queue"),
	PAGE("/ra/application"), PAGE("/ra/certificates"), PAGE("/ra/audit"),
	{ .method = "GET", .pattern = "/assets/{file}", .handler = get_asset,
	    .summary = "A script, style sheet, image or font of the pages" },
};

_Static_assert(TSR_ARRAY_LEN(web_routes) == TSR_ARRAY_LEN(pages) + 1,
    "one route per page, and the assets");

const struct tsr_http_route *tsr_http_web_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(web_routes);
	return web_routes;
}
