/*
 * api.c - the /api/v1 endpoints: the one routing table, its handlers and the
 * OpenAPI document generated from that table (so the document cannot list
 * a route the server lacks, or miss one it has).
 *
 * The handlers here read products from the app's configuration; the
 * workflow's handlers are in ra_api.c and join this table.  Only public
 * information leaves here: a product's profile details (policy OIDs,
 * subject rules, RA approvals) stay with the operator's CLI.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "http/http.h"

/* ------------------------------------------------------------------ handlers */

/* For load balancers: 200 while the database answers, 503 when it does
 * not (the reason goes to the log, never to the client). */
static int get_health(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_http_app *app = req->app;
	bool up = app->check_health == NULL || app->check_health(app) == 0;

	if (!up) {
		tsr_log(TSR_LOG_WARN, "health: the database does not answer: %s",
		    tsr_error_detail());
		res->status = 503;
	}
	res->json = json_pack("{s:s, s:s}", "status", up ? "ok" : "unavailable", "database",
	    up ? "ok" : "unreachable");
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static int get_openapi(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const struct tsr_http_route *routes = req->app->routes;
	size_t n = req->app->n_routes;

	if (routes == NULL)
		routes = tsr_http_api_routes(&n);
	res->json = tsr_http_openapi(routes, n);
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *key_types(unsigned mask)
{
	json_t *a = json_array();

	for (int t = 1; a != NULL && t < TSR_KEY_TYPE_COUNT; t++)
		if ((mask & (1u << t)) &&
		    json_array_append_new(a, json_string(tsr_key_type_name(t))) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* What an applicant needs to choose a product: public by nature. */
static json_t *product_json(const struct tsr_product *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:o}",
	    "name", p->name, "title", p->title, "description", p->description,
	    "class", tsr_product_class_name(p->class_), "storage", tsr_storage_name(p->storage),
	    "validity_days", p->validity_days, "key_types", key_types(p->key_types),
	    "payment", p->payment,
	    "applicant_fields", strings(p->applicant_fields, p->n_applicant_fields));
}

static int products_of(const struct tsr_http_request *req, const struct tsr_products **out)
{
	if (req->app->cfg == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server has no configuration");
	*out = &req->app->cfg->products;
	return 0;
}

/* {"products": [...]}: a new reference, or NULL when out of memory. */
static json_t *products_build(const struct tsr_products *products)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < products->n; i++)
		if (json_array_append_new(a, product_json(&products->items[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	/* An object, not a bare array: room to add fields later.  json_pack
	 * takes the array even when it fails. */
	return a != NULL ? json_pack("{s:o}", "products", a) : NULL;
}

/*
 * The products' JSON is built once and every request gets a reference to
 * the same document: the configuration does not change while a server
 * runs, and the server only encodes and releases what a handler gives it.
 * That takes reference counts that are atomic and encoding that does not
 * mark the values it walks: jansson has both from 2.11 on, when it says
 * JANSSON_THREAD_SAFE_REFCOUNT.  Otherwise each request builds its own.
 */
#if defined(JANSSON_THREAD_SAFE_REFCOUNT) && JANSSON_VERSION_HEX >= 0x020b00
#define SHARE_PRODUCTS true
#else
#define SHARE_PRODUCTS false
#endif

static pthread_mutex_t products_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const struct tsr_products *of;   /* the products it was built from */
	uint64_t print;                  /* ... and their products_print() */
	json_t *doc;
} products_cache;

/* FNV-1a over a string and its NUL, which separates fields. */
static uint64_t print_add(uint64_t h, const char *s)
{
	const unsigned char *c = (const unsigned char *)(s != NULL ? s : "");

	do
		h = (h ^ *c) * 1099511628211u;
	while (*c++ != '\0');
	return h;
}

/* ... and over the 8 bytes of a number. */
static uint64_t print_num(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 1099511628211u;
	return h;
}

/* A digest of everything product_json() shows.  One process may serve
 * several configurations in turn (tests do), and a new one can land at a
 * freed one's address: the digest tells them apart without building. */
static uint64_t products_print(const struct tsr_products *products)
{
	uint64_t h = print_num(14695981039346656037u, products->n);

	for (size_t i = 0; i < products->n; i++) {
		const struct tsr_product *p = &products->items[i];

		h = print_add(print_add(print_add(h, p->name), p->title), p->description);
		h = print_num(print_num(h, (uint64_t)p->class_), (uint64_t)p->storage);
		h = print_num(print_num(h, (uint64_t)p->validity_days), p->key_types);
		h = print_num(print_add(h, p->payment), p->n_applicant_fields);
		for (size_t j = 0; j < p->n_applicant_fields; j++)
			h = print_add(h, p->applicant_fields[j]);
	}
	return h;
}

/* The products' document (a new reference): the shared one, built if
 * missing or made from other products. */
static int products_doc(const struct tsr_products *products, json_t **out)
{
	uint64_t print;

	if (!SHARE_PRODUCTS) {
		*out = products_build(products);
		return *out != NULL ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	print = products_print(products);
	pthread_mutex_lock(&products_lock);
	if (products_cache.doc == NULL || products_cache.of != products ||
	    products_cache.print != print) {
		json_t *doc = products_build(products);

		if (doc != NULL) {
			/* Requests still sending the old one hold their own references. */
			json_decref(products_cache.doc);
			products_cache.doc = doc;
			products_cache.of = products;
			products_cache.print = print;
		}
		*out = json_incref(doc);
	} else {
		*out = json_incref(products_cache.doc);
	}
	pthread_mutex_unlock(&products_lock);
	return *out != NULL ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static int list_products(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const struct tsr_products *products = NULL;
	int r;

	if ((r = products_of(req, &products)) != 0)
		return r;
	return products_doc(products, &res->json);
}

static int get_product(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const struct tsr_products *products = NULL;
	const struct tsr_product *p;
	const char *name = tsr_http_param(req, "name");
	json_t *doc;
	int r;

	if ((r = products_of(req, &products)) != 0)
		return r;
	if (name == NULL || (p = tsr_product_find(products, name)) == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "no product named '%s'", name ? name : "");
	if ((r = products_doc(products, &doc)) != 0)
		return r;
	/* The element is product_json(p), kept alive by its own reference. */
	res->json = json_incref(json_array_get(json_object_get(doc, "products"),
	    (size_t)(p - products->items)));
	json_decref(doc);
	return res->json ? 0 : tsr_error(TSR_ERR_INTERNAL, "the products' JSON lacks '%s'", name);
}

/* ------------------------------------------------------------------ the table */

static const struct tsr_http_route api_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/health", .handler = get_health,
	    .summary = "Whether the server is up", .response = "Health" },
	{ .method = "GET", .pattern = "/api/v1/openapi.json", .handler = get_openapi,
	    .summary = "This API as an OpenAPI 3.0 document", .response = "OpenAPI" },
	{ .method = "GET", .pattern = "/api/v1/products", .handler = list_products,
	    .summary = "The products this CA offers", .response = "ProductList" },
	{ .method = "GET", .pattern = "/api/v1/products/{name}", .handler = get_product,
	    .summary = "One product", .response = "Product" },
};

#define ROUTES_MAX 96

static struct tsr_http_route all_routes[ROUTES_MAX];
static size_t n_all_routes;
static size_t n_api_routes;   /* the API's: the first part of all_routes */
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

/* Append n routes to the one table, as many as fit (a test catches a
 * table too small). */
static void join(const struct tsr_http_route *r, size_t n)
{
	if (n > ROUTES_MAX - n_all_routes)
		n = ROUTES_MAX - n_all_routes;
	if (n == 0)
		return;   /* r may be NULL then */
	memcpy(all_routes + n_all_routes, r, n * sizeof(*r));
	n_all_routes += n;
}

/* The one table: ours, then the workflow's, EST's and the status routes, copied once (the
 * parts are constant, so every thread sees the same table). */
static void join_tables(void)
{
	size_t n;
	const struct tsr_http_route *r;

	join(api_routes, TSR_ARRAY_LEN(api_routes));
	r = tsr_http_ra_routes(&n);
	join(r, n);
	r = tsr_http_est_routes(&n);
	join(r, n);
	r = tsr_http_status_routes(&n);
	join(r, n);
	r = tsr_http_pub_routes(&n);
	join(r, n);
	r = tsr_http_officer_routes(&n);
	join(r, n);
	n_api_routes = n_all_routes;
	r = tsr_http_web_routes(&n);
	join(r, n);
}

const struct tsr_http_route *tsr_http_api_routes(size_t *n)
{
	pthread_once(&all_once, join_tables);
	*n = n_api_routes;
	return all_routes;
}

const struct tsr_http_route *tsr_http_all_routes(size_t *n)
{
	pthread_once(&all_once, join_tables);
	*n = n_all_routes;
	return all_routes;
}

/* ------------------------------------------------------------------ OpenAPI */

static json_t *enum_string(const char *a, const char *b, const char *c)
{
	return json_pack("{s:s, s:[s,s,s*]}", "type", "string", "enum", a, b, c);
}

static json_t *product_schema(void)
{
	return json_pack("{s:s, s:[s,s,s,s,s,s,s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:o, s:o,"
	    " s:{s:s, s:i}, s:{s:s, s:o}, s:o, s:{s:s, s:{s:s}}}}",
	    "type", "object",
	    "required", "name", "title", "description", "class", "storage", "validity_days",
	    "key_types", "payment", "applicant_fields",
	    "properties",
	    "name", "type", "string",
	    "title", "type", "string",
	    "description", "type", "string",
	    "class", enum_string(tsr_product_class_name(TSR_CLASS_SIGNING),
	    tsr_product_class_name(TSR_CLASS_AUTHENTICATION), NULL),
	    "storage", enum_string(tsr_storage_name(TSR_STORAGE_HARDWARE),
	    tsr_storage_name(TSR_STORAGE_SOFTWARE), tsr_storage_name(TSR_STORAGE_EITHER)),
	    "validity_days", "type", "integer", "minimum", 1,
	    "key_types", "type", "array", "items",
	    json_pack("{s:s, s:o}", "type", "string", "enum", key_types(~0u)),
	    "payment", enum_string("free", "voucher", "invoice"),
	    "applicant_fields", "type", "array", "items", "type", "string");
}

static json_t *base_components(void)
{
	return json_pack("{s:{s:{s:s, s:[s,s], s:{s:{s:s, s:[s,s]}, s:{s:s, s:[s,s]}}}, s:{s:s}, s:o,"
	    " s:{s:s, s:[s], s:{s:{s:s, s:{s:s}}}},"
	    " s:{s:s, s:[s,s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}},"
	    " s:{s:{s:s, s:{s:{s:{s:s}}}}}}",
	    "schemas",
	    "Health", "type", "object", "required", "status", "database", "properties",
	    "status", "type", "string", "enum", "ok", "unavailable",
	    "database", "type", "string", "enum", "ok", "unreachable",
	    "OpenAPI", "type", "object",
	    "Product", product_schema(),
	    "ProductList", "type", "object", "required", "products", "properties",
	    "products", "type", "array", "items", "$ref", "#/components/schemas/Product",
	    "Problem", "type", "object", "required", "type", "title", "status", "properties",
	    "type", "type", "string", "format", "uri",
	    "title", "type", "string",
	    "status", "type", "integer",
	    "detail", "type", "string",
	    "instance", "type", "string",
	    "responses",
	    "Problem", "description", "A problem document (RFC 9457)", "content",
	    "application/problem+json", "schema", "$ref", "#/components/schemas/Problem");
}

/* Ours, the workflow's and EST's schemas together. */
static json_t *components(void)
{
	json_t *c = base_components(), *ra = tsr_http_ra_schemas(), *est = tsr_http_est_schemas();

	if (c == NULL || ra == NULL || est == NULL ||
	    json_object_update(json_object_get(c, "schemas"), ra) != 0 ||
	    json_object_update(json_object_get(c, "schemas"), est) != 0) {
		json_decref(c);
		c = NULL;
	}
	json_decref(ra);
	json_decref(est);
	if (c != NULL && json_object_update_new(json_object_get(c, "schemas"),
	    tsr_http_officer_schemas()) != 0) {
		json_decref(c);
		c = NULL;
	}
	return c;
}

/* One "in: path" parameter per {name} of the pattern, then one "in: query"
 * parameter per name the route accepts. */
static json_t *parameters(const char *pattern, const char *const *query)
{
	json_t *a = json_array();
	const char *p = pattern;

	while (a != NULL && (p = strchr(p, '{')) != NULL) {
		size_t n = strcspn(p + 1, "}");
		json_t *param = json_pack("{s:s%, s:s, s:b, s:{s:s, s:i}}", "name", p + 1, n,
		    "in", "path", "required", 1, "schema", "type", "string", "maxLength",
		    TSR_HTTP_PARAM_MAX);

		if (json_array_append_new(a, param) != 0)
			goto fail;
		p += n + 1;
	}
	for (size_t i = 0; a != NULL && query != NULL && query[i] != NULL; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:{s:s, s:i, s:i}}",
		    "name", query[i], "in", "query", "required", 0, "schema", "type", "string",
		    "minLength", 1, "maxLength", TSR_HTTP_PARAM_MAX)) != 0)
			goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* The success response of r. */
static json_t *success(const struct tsr_http_route *r)
{
	const char *what = r->status == 201 ? "Created" : "OK";
	char ref[128];

	snprintf(ref, sizeof(ref), "#/components/schemas/%s", r->response ? r->response : "");
	if (r->response != NULL)
		return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", what, "content",
		    "application/json", "schema", "$ref", ref);
	if (r->produces != NULL)   /* EST: base64 of DER */
		return json_pack("{s:s, s:{s:{s:{s:s, s:s}}}}", "description", what, "content",
		    r->produces, "schema", "type", "string", "format", "base64");
	return json_pack("{s:s}", "description", what);
}

/* The request body of r, or NULL if it takes none. */
static json_t *request_body(const struct tsr_http_route *r)
{
	if (r->media_type != NULL)
		return json_pack("{s:b, s:{s:{s:{s:s, s:s}}}}", "required", 1, "content",
		    r->media_type, "schema", "type", "string", "format", "base64");
	return json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", "application/json",
	    "schema", tsr_json_schema_openapi(r->body));
}

/* Who may call r: a session (a bearer token, or a browser's cookie with
 * its CSRF header: docs/web.md), Basic credentials, or Basic optionally. */
static json_t *security(const struct tsr_http_route *r)
{
	if (r->flags & TSR_HTTP_AUTH)
		return json_pack("[{s:[]}, {s:[]}]", "session", "cookie");
	if (r->flags & TSR_HTTP_BASIC)
		return json_pack("[{s:[]}]", "basic");
	return json_pack("[{s:[]}, {}]", "basic");
}

static bool has_security(const struct tsr_http_route *r)
{
	return (r->flags & (TSR_HTTP_AUTH | TSR_HTTP_BASIC)) != 0 || r->challenge != NULL;
}

static json_t *operation(const struct tsr_http_route *r)
{
	json_t *op;
	char status[8];

	snprintf(status, sizeof(status), "%d", r->status ? r->status : 200);
	op = json_pack("{s:s, s:o, s:{s:o, s:{s:s}}}", "summary", r->summary ? r->summary : "",
	    "parameters", parameters(r->pattern, r->query), "responses", status, success(r),
	    "default", "$ref", "#/components/responses/Problem");
	if (op != NULL && (r->body != NULL || r->media_type != NULL) &&
	    json_object_set_new(op, "requestBody", request_body(r)) != 0) {
		json_decref(op);
		return NULL;
	}
	if (op != NULL && has_security(r) &&
	    json_object_set_new(op, "security", security(r)) != 0) {
		json_decref(op);
		return NULL;
	}
	return op;
}

static int add_operation(json_t *paths, const struct tsr_http_route *r)
{
	json_t *item = json_object_get(paths, r->pattern), *op = operation(r);
	char method[16];
	size_t i;

	for (i = 0; r->method[i] != '\0' && i + 1 < sizeof(method); i++)
		method[i] = (char)tolower((unsigned char)r->method[i]);
	method[i] = '\0';
	if (op == NULL)
		return TSR_ERR_NOMEM;
	if (item == NULL) {
		if ((item = json_object()) == NULL || json_object_set_new(paths, r->pattern, item)) {
			json_decref(op);
			return TSR_ERR_NOMEM;
		}
	}
	return json_object_set_new(item, method, op) == 0 ? 0 : TSR_ERR_NOMEM;
}

/* components/securitySchemes: bearer sessions, browser sessions, Basic (EST). */
static int security_schemes(json_t *doc, bool session, bool basic)
{
	json_t *schemes = json_object();

	if (schemes == NULL ||
	    (session && json_object_set_new(schemes, "session", json_pack("{s:s, s:s}", "type",
	    "http", "scheme", "bearer")) != 0) ||
	    (session && json_object_set_new(schemes, "cookie", json_pack("{s:s, s:s, s:s, s:s}",
	    "type", "apiKey", "in", "cookie", "name", TSR_HTTP_SESSION_COOKIE, "description",
	    "A browser's session; methods other than GET and HEAD also need the header "
	    TSR_HTTP_CSRF_HEADER " (docs/web.md)")) != 0) ||
	    (basic && json_object_set_new(schemes, "basic", json_pack("{s:s, s:s}", "type",
	    "http", "scheme", "basic")) != 0)) {
		json_decref(schemes);
		return TSR_ERR_NOMEM;
	}
	return json_object_set_new(json_object_get(doc, "components"), "securitySchemes",
	    schemes) == 0 ? 0 : TSR_ERR_NOMEM;
}

json_t *tsr_http_openapi(const struct tsr_http_route *routes, size_t n)
{
	json_t *paths = json_object(), *doc;
	bool auth = false, basic = false;

	if (paths == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		auth = auth || (routes[i].flags & TSR_HTTP_AUTH);
		basic = basic || (has_security(&routes[i]) && !(routes[i].flags & TSR_HTTP_AUTH));
		if (add_operation(paths, &routes[i]) != 0) {
			json_decref(paths);
			return NULL;
		}
	}
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o}", "openapi", "3.0.3",
	    "info", "title", "Tessera API", "version", "1",
	    "description", "Errors are application/problem+json documents whose type is "
	    TSR_PROBLEM_TYPE_BASE "<name>; docs/api.md lists the names.",
	    "paths", paths, "components", components());
	if (doc != NULL && (auth || basic) && security_schemes(doc, auth, basic) != 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
