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
#include <string.h>

#include "http/http.h"

/* ------------------------------------------------------------------ handlers */

static int get_health(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->json = json_pack("{s:s}", "status", "ok");
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

static int list_products(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const struct tsr_products *products = NULL;
	json_t *a;
	int r;

	if ((r = products_of(req, &products)) != 0)
		return r;
	if ((a = json_array()) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < products->n; i++)
		if (json_array_append_new(a, product_json(&products->items[i])) != 0) {
			json_decref(a);
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		}
	/* An object, not a bare array: room to add fields later. */
	res->json = json_pack("{s:o}", "products", a);
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static int get_product(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const struct tsr_products *products = NULL;
	const struct tsr_product *p;
	const char *name = tsr_http_param(req, "name");
	int r;

	if ((r = products_of(req, &products)) != 0)
		return r;
	if (name == NULL || (p = tsr_product_find(products, name)) == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "no product named '%s'", name ? name : "");
	res->json = product_json(p);
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
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

#define ROUTES_MAX 64

static struct tsr_http_route all_routes[ROUTES_MAX];
static size_t n_all_routes;
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

/* The one table: ours, then the workflow's, copied once (the parts are
 * constant, so every thread sees the same table). */
static void join_tables(void)
{
	size_t n_ra;
	const struct tsr_http_route *ra = tsr_http_ra_routes(&n_ra);

	if (TSR_ARRAY_LEN(api_routes) + n_ra > ROUTES_MAX)
		n_ra = ROUTES_MAX - TSR_ARRAY_LEN(api_routes);   /* a test catches this */
	memcpy(all_routes, api_routes, sizeof(api_routes));
	memcpy(all_routes + TSR_ARRAY_LEN(api_routes), ra, n_ra * sizeof(*ra));
	n_all_routes = TSR_ARRAY_LEN(api_routes) + n_ra;
}

const struct tsr_http_route *tsr_http_api_routes(size_t *n)
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
	return json_pack("{s:{s:{s:s, s:[s], s:{s:{s:s, s:[s]}}}, s:{s:s}, s:o,"
	    " s:{s:s, s:[s], s:{s:{s:s, s:{s:s}}}},"
	    " s:{s:s, s:[s,s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}},"
	    " s:{s:{s:s, s:{s:{s:{s:s}}}}}}",
	    "schemas",
	    "Health", "type", "object", "required", "status", "properties",
	    "status", "type", "string", "enum", "ok",
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

/* Ours and the workflow's schemas together. */
static json_t *components(void)
{
	json_t *c = base_components(), *ra = tsr_http_ra_schemas();

	if (c == NULL || ra == NULL ||
	    json_object_update(json_object_get(c, "schemas"), ra) != 0) {
		json_decref(c);
		c = NULL;
	}
	json_decref(ra);
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

static json_t *operation(const struct tsr_http_route *r)
{
	json_t *ok, *op;
	char ref[128], status[8];

	snprintf(ref, sizeof(ref), "#/components/schemas/%s", r->response ? r->response : "");
	snprintf(status, sizeof(status), "%d", r->status ? r->status : 200);
	ok = r->response ?
	    json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", r->status == 201 ? "Created" :
	    "OK", "content", "application/json", "schema", "$ref", ref) :
	    json_pack("{s:s}", "description", "OK");
	op = json_pack("{s:s, s:o, s:{s:o, s:{s:s}}}", "summary", r->summary ? r->summary : "",
	    "parameters", parameters(r->pattern, r->query), "responses", status, ok,
	    "default", "$ref", "#/components/responses/Problem");
	if (op != NULL && r->body != NULL &&
	    json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:o}}}", "required", 1,
	    "content", "application/json", "schema", tsr_json_schema_openapi(r->body))) != 0) {
		json_decref(op);
		return NULL;
	}
	if (op != NULL && (r->flags & TSR_HTTP_AUTH) &&
	    json_object_set_new(op, "security", json_pack("[{s:[]}]", "session")) != 0) {
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

json_t *tsr_http_openapi(const struct tsr_http_route *routes, size_t n)
{
	json_t *paths = json_object(), *doc;
	bool auth = false;

	if (paths == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		auth = auth || (routes[i].flags & TSR_HTTP_AUTH);
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
	if (doc != NULL && auth) {
		json_t *c = json_object_get(doc, "components");

		if (json_object_set_new(c, "securitySchemes", json_pack("{s:{s:s, s:s}}",
		    "session", "type", "http", "scheme", "bearer")) != 0) {
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}
