/*
 * test_http.c - the HTTP layer: the strict JSON reader, the router, problem
 * documents, listen addresses, the OpenAPI document against the routing
 * table, and a real HTTPS server on 127.0.0.1 driven with libcurl.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http/http.h"

/* ================================================================ JSON in */

static const struct tsr_json_field address_schema[] = {
	{ .name = "street", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 100 },
	{ .name = "city", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = NULL },
};

static const struct tsr_json_field applicant_schema[] = {
	{ .name = "name", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = "date_of_birth", .type = TSR_JSON_STRING, .required = true, .min_len = 10,
	    .max_len = 10 },
	{ .name = "address", .type = TSR_JSON_OBJECT, .fields = address_schema },
	{ .name = NULL },
};

static const struct tsr_json_field qa_schema[] = {
	{ .name = "question", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 200 },
	{ .name = "answer", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 200 },
	{ .name = NULL },
};

static const struct tsr_json_field qa_item = { .name = "qa", .type = TSR_JSON_OBJECT,
	.fields = qa_schema };
static const struct tsr_json_field tag_item = { .name = "tag", .type = TSR_JSON_STRING,
	.min_len = 1, .max_len = 8 };

static const struct tsr_json_field application_schema[] = {
	{ .name = "applicant", .type = TSR_JSON_OBJECT, .required = true, .fields = applicant_schema },
	{ .name = "agree", .type = TSR_JSON_BOOL, .required = true },
	{ .name = "count", .type = TSR_JSON_INT, .min = 1, .max = 10 },
	{ .name = "questions", .type = TSR_JSON_ARRAY, .min_len = 3, .max_len = 5, .item = &qa_item },
	{ .name = "tags", .type = TSR_JSON_ARRAY, .max_len = 3, .item = &tag_item },
	{ .name = "note", .type = TSR_JSON_STRING, .max_len = 200, .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

#define GOOD_APPLICANT "\"applicant\":{\"name\":\"Jane Doe\",\"date_of_birth\":\"1980-02-29\"}"
#define GOOD_QUESTIONS "\"questions\":[{\"question\":\"q1\",\"answer\":\"a1\"}," \
	"{\"question\":\"q2\",\"answer\":\"a2\"},{\"question\":\"q3\",\"answer\":\"a3\"}]"

static int read_doc(const char *text, json_t **out)
{
	return tsr_json_read(text, strlen(text), application_schema, out);
}

static void test_json_good(void **state)
{
	const char *docs[] = {
		"{" GOOD_APPLICANT ",\"agree\":true}",
		"{\"agree\":false," GOOD_APPLICANT ",\"count\":10," GOOD_QUESTIONS
		    ",\"tags\":[\"a\",\"bb\"],\"note\":\"two\\nlines\\tand a tab\"}",
		"{" GOOD_APPLICANT ",\"agree\":true,\"tags\":[]}",
		" {\"applicant\":{\"name\":\"[[[[[[[[[[{{{{{{\",\"date_of_birth\":\"1980-01-01\","
		    "\"address\":{\"street\":\"1 Main St\",\"city\":\"Springfield\"}},\"agree\":true} ",
	};
	json_t *v = NULL;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(docs); i++) {
		assert_int_equal(read_doc(docs[i], &v), 0);
		assert_true(json_is_object(v));
		json_decref(v);
	}
	assert_int_equal(read_doc(docs[1], &v), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "applicant"),
	    "name")), "Jane Doe");
	assert_int_equal(json_integer_value(json_object_get(v, "count")), 10);
	json_decref(v);
}

/* 64 two-byte characters are 64 characters, not 128. */
static void test_json_counts_characters(void **state)
{
	char doc[1024], name[200];
	json_t *v = NULL;

	(void)state;
	name[0] = '\0';
	for (int i = 0; i < 64; i++)
		strcat(name, "\xc3\xa9");
	snprintf(doc, sizeof(doc), "{\"applicant\":{\"name\":\"%s\",\"date_of_birth\":"
	    "\"1980-01-01\"},\"agree\":true}", name);
	assert_int_equal(read_doc(doc, &v), 0);
	json_decref(v);
	strcat(name, "\xc3\xa9");
	snprintf(doc, sizeof(doc), "{\"applicant\":{\"name\":\"%s\",\"date_of_birth\":"
	    "\"1980-01-01\"},\"agree\":true}", name);
	assert_int_equal(read_doc(doc, &v), TSR_ERR_INVALID);
	assert_null(v);
	assert_string_equal(tsr_error_detail(), "/applicant/name: must have at most 64 characters");
}

static void test_json_refusals(void **state)
{
	static const struct {
		const char *doc;
		int code;
		const char *detail;   /* the whole detail, or its start when it ends in '*' */
	} cases[] = {
		{ "", TSR_ERR_PARSE, "malformed JSON: unexpected end of input*" },
		{ "{", TSR_ERR_PARSE, "malformed JSON: *" },
		{ "{\"agree\":true,}", TSR_ERR_PARSE, "malformed JSON: invalid syntax*" },
		{ "{} x", TSR_ERR_PARSE, "malformed JSON: data after the JSON value*" },
		{ "1", TSR_ERR_PARSE, "malformed JSON: *" },
		{ "\"a\"", TSR_ERR_PARSE, "malformed JSON: *" },
		{ "[]", TSR_ERR_INVALID, "/: expected an object" },
		{ "{\"agree\":true,\"agree\":false}", TSR_ERR_PARSE,
		    "malformed JSON: duplicate key at line 1, column *" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"x\":1}", TSR_ERR_INVALID, "/x: unknown field" },
		{ "{\"applicant\":{\"name\":\"J\",\"date_of_birth\":\"1980-01-01\",\"nick\":\"j\"},"
		    "\"agree\":true}", TSR_ERR_INVALID, "/applicant/nick: unknown field" },
		{ "{\"a/b~c\":1}", TSR_ERR_INVALID, "/a~1b~0c: unknown field" },
		{ "{\"applicant\":{\"name\":\"J\",\"date_of_birth\":19800101},\"agree\":true}",
		    TSR_ERR_INVALID, "/applicant/date_of_birth: expected a string" },
		{ "{\"applicant\":{\"name\":null,\"date_of_birth\":\"1980-01-01\"},\"agree\":true}",
		    TSR_ERR_INVALID, "/applicant/name: expected a string" },
		{ "{" GOOD_APPLICANT ",\"agree\":\"yes\"}", TSR_ERR_INVALID, "/agree: expected true or false" },
		{ "{\"applicant\":[],\"agree\":true}", TSR_ERR_INVALID, "/applicant: expected an object" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"questions\":{}}", TSR_ERR_INVALID,
		    "/questions: expected an array" },
		{ "{" GOOD_APPLICANT "}", TSR_ERR_INVALID, "/agree: required field missing" },
		{ "{\"applicant\":{\"name\":\"J\"},\"agree\":true}", TSR_ERR_INVALID,
		    "/applicant/date_of_birth: required field missing" },
		{ "{\"applicant\":{\"name\":\"\",\"date_of_birth\":\"1980-01-01\"},\"agree\":true}",
		    TSR_ERR_INVALID, "/applicant/name: must have at least 1 characters" },
		{ "{\"applicant\":{\"name\":\"J\",\"date_of_birth\":\"1980-01-011\"},\"agree\":true}",
		    TSR_ERR_INVALID, "/applicant/date_of_birth: must have at most 10 characters" },
		{ "{\"applicant\":{\"name\":\"J\\u0000D\",\"date_of_birth\":\"1980-01-01\"},"
		    "\"agree\":true}", TSR_ERR_PARSE, "malformed JSON: NUL character*" },
		{ "{\"applicant\":{\"name\":\"J\\nD\",\"date_of_birth\":\"1980-01-01\"},\"agree\":true}",
		    TSR_ERR_INVALID, "/applicant/name: control characters are not allowed" },
		{ "{\"applicant\":{\"name\":\"J\\u007fD\",\"date_of_birth\":\"1980-01-01\"},"
		    "\"agree\":true}", TSR_ERR_INVALID, "/applicant/name: control characters*" },
		{ "{\"applicant\":{\"name\":\"J\\u0085D\",\"date_of_birth\":\"1980-01-01\"},"
		    "\"agree\":true}", TSR_ERR_INVALID, "/applicant/name: control characters*" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"note\":\"a\\rb\"}", TSR_ERR_INVALID,
		    "/note: control characters are not allowed" },
		{ "{\"applicant\":{\"name\":\"\xff\",\"date_of_birth\":\"1980-01-01\"},\"agree\":true}",
		    TSR_ERR_PARSE, "malformed JSON: invalid UTF-8*" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":0}", TSR_ERR_INVALID,
		    "/count: must be between 1 and 10" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":11}", TSR_ERR_INVALID,
		    "/count: must be between 1 and 10" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":-9223372036854775808}", TSR_ERR_INVALID,
		    "/count: must be between 1 and 10" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":99999999999999999999}", TSR_ERR_PARSE,
		    "malformed JSON: number out of range*" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":2.0}", TSR_ERR_INVALID,
		    "/count: expected an integer" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"count\":1e1}", TSR_ERR_INVALID,
		    "/count: expected an integer" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"questions\":[{\"question\":\"q\",\"answer\":\"a\"}]}",
		    TSR_ERR_INVALID, "/questions: must have 3 to 5 items" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"questions\":[{\"question\":\"q\",\"answer\":\"a\"},"
		    "{\"question\":\"q\",\"answer\":7},{\"question\":\"q\",\"answer\":\"a\"}]}",
		    TSR_ERR_INVALID, "/questions/1/answer: expected a string" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"tags\":[\"a\",\"waytoolong\"]}",
		    TSR_ERR_INVALID, "/tags/1: must have at most 8 characters" },
		{ "{" GOOD_APPLICANT ",\"agree\":true,\"tags\":[\"a\",\"b\",\"c\",\"d\"]}",
		    TSR_ERR_INVALID, "/tags: must have 0 to 3 items" },
		{ "{\"a\":[[[[[[[[1]]]]]]]]}", TSR_ERR_INVALID, "JSON nested deeper than 8 levels" },
		{ "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}", TSR_ERR_INVALID,
		    "JSON nested deeper than 8 levels" },
		{ "\xef\xbb\xbf{" GOOD_APPLICANT ",\"agree\":true}", TSR_ERR_PARSE, "malformed JSON: *" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		const char *want = cases[i].detail;
		size_t wlen = strlen(want);
		json_t *v = (json_t *)1;

		tsr_error_clear();
		if (read_doc(cases[i].doc, &v) != cases[i].code)
			fail_msg("case %zu (%s): code %s, detail '%s'", i, cases[i].doc,
			    tsr_error_name(read_doc(cases[i].doc, &v)), tsr_error_detail());
		assert_null(v);
		if (want[wlen - 1] == '*' ? strncmp(tsr_error_detail(), want, wlen - 1) != 0 :
		    strcmp(tsr_error_detail(), want) != 0)
			fail_msg("case %zu: detail '%s', wanted '%s'", i, tsr_error_detail(), want);
	}
}

/* A syntax error must not quote the text near it: it may be a password. */
static void test_json_error_quotes_nothing(void **state)
{
	const char *doc = "{\"password\":\"hunter2-secret\" \"x\"}";
	json_t *v;

	(void)state;
	assert_int_equal(read_doc(doc, &v), TSR_ERR_PARSE);
	assert_null(strstr(tsr_error_detail(), "hunter2"));
}

static void test_json_depth_limit_is_exact(void **state)
{
	static const struct tsr_json_field leaf[] = {
		{ .name = "x", .type = TSR_JSON_INT, .min = 0, .max = 1 },
		{ .name = NULL },
	};
	static const struct tsr_json_field l7[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = leaf }, { .name = NULL } };
	static const struct tsr_json_field l6[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l7 }, { .name = NULL } };
	static const struct tsr_json_field l5[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l6 }, { .name = NULL } };
	static const struct tsr_json_field l4[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l5 }, { .name = NULL } };
	static const struct tsr_json_field l3[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l4 }, { .name = NULL } };
	static const struct tsr_json_field l2[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l3 }, { .name = NULL } };
	static const struct tsr_json_field l1[] = { { .name = "a", .type = TSR_JSON_OBJECT, .fields = l2 }, { .name = NULL } };
	const char *eight = "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"x\":1}}}}}}}}";
	json_t *v = NULL;

	(void)state;
	assert_int_equal(tsr_json_read(eight, strlen(eight), l1, &v), 0);
	json_decref(v);
}

static void test_json_schema_openapi(void **state)
{
	json_t *s = tsr_json_schema_openapi(application_schema), *props, *req;

	(void)state;
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
	assert_true(json_is_false(json_object_get(s, "additionalProperties")));
	req = json_object_get(s, "required");
	assert_int_equal(json_array_size(req), 2);
	assert_string_equal(json_string_value(json_array_get(req, 0)), "applicant");
	props = json_object_get(s, "properties");
	assert_int_equal(json_object_size(props), 6);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(props, "count"),
	    "maximum")), 10);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(props, "questions"), "items"), "properties") ?
	    json_object_get(json_object_get(json_object_get(json_object_get(props, "questions"),
	    "items"), "properties"), "answer") : NULL, "type")), "string");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
	    props, "applicant"), "properties") ? json_object_get(json_object_get(json_object_get(
	    props, "applicant"), "properties"), "name") : NULL, "maxLength")), 64);
	json_decref(s);
}

static void test_json_encode(void **state)
{
	json_t *v = json_pack("{s:s}", "name", "J\xc3\xa9r\xc3\xb4me </script>");
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tsr_json_encode(v, &text, &len), 0);
	assert_string_equal(text, "{\"name\":\"J\\u00E9r\\u00F4me </script>\"}");
	assert_int_equal(len, strlen(text));
	free(text);
	json_decref(v);
}

/* ================================================================ routing */

static int h_ok(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->json = json_object();
	return 0;
}

#define ROUTE(m, p, h, f, b, s, q, st) { .method = m, .pattern = p, .handler = h, .flags = f, \
	.body = b, .summary = s, .query = q, .status = st }

static const struct tsr_http_route test_routes[] = {
	ROUTE("GET", "/api/v1/products", h_ok, 0, NULL, "list", NULL, 0),
	ROUTE("GET", "/api/v1/products/{name}", h_ok, 0, NULL, "one", NULL, 0),
	ROUTE("POST", "/api/v1/applications", h_ok, 0, NULL, "apply", NULL, 201),
	ROUTE("GET", "/api/v1/applications/{id}/documents/{doc}", h_ok, 0, NULL, "doc", NULL, 0),
	ROUTE("DELETE", "/api/v1/applications/{id}/documents/{doc}", h_ok, 0, NULL, "drop", NULL,
	    0),
};

static int find(const char *method, const char *path, struct tsr_http_match *m)
{
	return tsr_http_route_find(test_routes, TSR_ARRAY_LEN(test_routes), method, path, m);
}

static void test_route_exact(void **state)
{
	const char *misses[] = {
		"/api/v1/products/", "/api/v1/Products", "/API/v1/products", "/api/v1//products",
		"//api/v1/products", "/api/v1/products/a/b", "/api/v1", "/", "", "api/v1/products",
		"/api/v1/products/%2Fetc", "/api/v1/products/a%00b", "/api/v1/products/a%zz",
		"/api/v1/products/a%4", "/api/v1/products/%0a", "/api/v1/%70roducts",
		"/api/v1/applications/1/documents/", "/api/v1/applications//documents/x",
		"/api/v1/products?x",
	};
	struct tsr_http_match m;

	(void)state;
	assert_int_equal(find("GET", "/api/v1/products", &m), 0);
	assert_ptr_equal(m.route, &test_routes[0]);
	assert_int_equal(m.n_params, 0);
	for (size_t i = 0; i < TSR_ARRAY_LEN(misses); i++) {
		if (find("GET", misses[i], &m) != TSR_ERR_NOT_FOUND)
			fail_msg("'%s' matched", misses[i]);
		assert_string_equal(m.allow, "");
	}
}

/* A prefix route (RFC 5019 OCSP GET): the pattern, '/', and anything. */
static void test_route_prefix(void **state)
{
	static const struct tsr_http_route routes[] = {
		{ .method = "POST", .pattern = "/ocsp", .handler = h_ok },
		{ .method = "GET", .pattern = "/ocsp", .handler = h_ok, .flags = TSR_HTTP_PREFIX },
	};
	const char *hits[] = { "/ocsp/MEow", "/ocsp/ME/ow+A==", "/ocsp/a%2Fb%3D", "/ocsp//x" };
	const char *misses[] = { "/ocsp/", "/ocspx/a", "/ocs/a", "/OCSP/a" };
	struct tsr_http_match m;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(hits); i++) {
		if (tsr_http_route_find(routes, 2, "GET", hits[i], &m) != 0)
			fail_msg("'%s' did not match", hits[i]);
		assert_ptr_equal(m.route, &routes[1]);
		assert_int_equal(m.n_params, 0);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(misses); i++)
		if (tsr_http_route_find(routes, 2, "GET", misses[i], &m) != TSR_ERR_NOT_FOUND)
			fail_msg("'%s' matched", misses[i]);
	/* The bare pattern is the POST route's: GET there is a 405. */
	assert_int_equal(tsr_http_route_find(routes, 2, "GET", "/ocsp", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(tsr_http_route_find(routes, 2, "POST", "/ocsp", &m), 0);
	assert_ptr_equal(m.route, &routes[0]);
}

static void test_route_captures(void **state)
{
	struct tsr_http_request req = { .n_params = 0 };
	struct tsr_http_match m;
	char longest[TSR_HTTP_PARAM_MAX + 32];

	(void)state;
	assert_int_equal(find("GET", "/api/v1/products/epcs", &m), 0);
	assert_ptr_equal(m.route, &test_routes[1]);
	assert_int_equal(m.n_params, 1);
	assert_string_equal(m.params[0].name, "name");
	assert_string_equal(m.params[0].value, "epcs");

	assert_int_equal(find("GET", "/api/v1/products/a%20b%C3%A9", &m), 0);
	assert_string_equal(m.params[0].value, "a b\xc3\xa9");

	assert_int_equal(find("DELETE", "/api/v1/applications/42/documents/id-card", &m), 0);
	assert_ptr_equal(m.route, &test_routes[4]);
	memcpy(req.params, m.params, sizeof(req.params));
	req.n_params = m.n_params;
	assert_string_equal(tsr_http_param(&req, "id"), "42");
	assert_string_equal(tsr_http_param(&req, "doc"), "id-card");
	assert_null(tsr_http_param(&req, "name"));

	memset(longest, 'a', sizeof(longest));
	memcpy(longest, "/api/v1/products/", 17);
	longest[17 + TSR_HTTP_PARAM_MAX] = '\0';
	assert_int_equal(find("GET", longest, &m), 0);
	longest[17 + TSR_HTTP_PARAM_MAX] = 'a';
	longest[17 + TSR_HTTP_PARAM_MAX + 1] = '\0';
	assert_int_equal(find("GET", longest, &m), TSR_ERR_NOT_FOUND);
}

static void test_route_methods(void **state)
{
	struct tsr_http_match m;

	(void)state;
	assert_int_equal(find("HEAD", "/api/v1/products", &m), 0);
	assert_ptr_equal(m.route, &test_routes[0]);
	assert_int_equal(find("POST", "/api/v1/products", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "GET, HEAD");
	assert_int_equal(find("get", "/api/v1/products", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "GET, HEAD");
	assert_int_equal(find("GET", "/api/v1/applications", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(find("PUT", "/api/v1/applications/1/documents/x", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "GET, HEAD, DELETE");
}

/* ================================================================ problems */

static void test_problem_from_error(void **state)
{
	json_t *doc;
	int status = 0;

	(void)state;
	doc = tsr_problem_from_error(TSR_ERR_NOT_FOUND, "no product named 'x'", "/api/v1/products/x",
	    &status);
	assert_int_equal(status, 404);
	assert_int_equal(json_object_size(doc), 5);
	assert_string_equal(json_string_value(json_object_get(doc, "type")),
	    "https://tessera.invalid/problems/not-found");
	assert_string_equal(json_string_value(json_object_get(doc, "title")), "not found");
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 404);
	assert_string_equal(json_string_value(json_object_get(doc, "detail")), "no product named 'x'");
	assert_string_equal(json_string_value(json_object_get(doc, "instance")), "/api/v1/products/x");
	json_decref(doc);

	doc = tsr_problem_from_error(TSR_ERR_TOO_LARGE, "", NULL, &status);
	assert_int_equal(status, 413);
	assert_string_equal(json_string_value(json_object_get(doc, "type")),
	    TSR_PROBLEM_TYPE_BASE "too-large");
	assert_null(json_object_get(doc, "detail"));
	assert_null(json_object_get(doc, "instance"));
	json_decref(doc);

	/* Server-side details stay in the server's log. */
	doc = tsr_problem_from_error(TSR_ERR_STORE, "/var/lib/tessera/tessera.db: disk I/O error",
	    "/x", &status);
	assert_int_equal(status, 503);
	assert_null(strstr(json_string_value(json_object_get(doc, "detail")), "/var/lib"));
	json_decref(doc);

	/* Unknown codes and "success" as an error are internal errors. */
	doc = tsr_problem_from_error(-1000, "x", "/x", &status);
	assert_int_equal(status, 500);
	assert_string_equal(json_string_value(json_object_get(doc, "type")),
	    TSR_PROBLEM_TYPE_BASE "internal");
	json_decref(doc);
	doc = tsr_problem_from_error(0, "x", "/x", &status);
	assert_int_equal(status, 500);
	json_decref(doc);

	/* A detail echoing bytes that are not UTF-8 still makes a document. */
	doc = tsr_problem_from_error(TSR_ERR_NOT_FOUND, "no product named '\xff\xfe'", "/\xff",
	    &status);
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
	    "no product named '\?\?'");
	assert_string_equal(json_string_value(json_object_get(doc, "instance")), "/?");
	json_decref(doc);
}

static void test_problem_from_refusal(void **state)
{
	static const struct {
		enum tsr_http_refusal r;
		int status;
		const char *name;
	} want[] = {
		{ TSR_HTTP_UNAUTHENTICATED, 401, "unauthenticated" },
		{ TSR_HTTP_METHOD_NOT_ALLOWED, 405, "method-not-allowed" },
		{ TSR_HTTP_LENGTH_REQUIRED, 411, "length-required" },
		{ TSR_HTTP_UNSUPPORTED_MEDIA, 415, "unsupported-media-type" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(want); i++) {
		char type[128];
		int status = 0;
		json_t *doc = tsr_problem_from_refusal(want[i].r, "d", "/p", &status);

		snprintf(type, sizeof(type), "%s%s", TSR_PROBLEM_TYPE_BASE, want[i].name);
		assert_int_equal(status, want[i].status);
		assert_string_equal(json_string_value(json_object_get(doc, "type")), type);
		assert_int_equal(json_integer_value(json_object_get(doc, "status")), want[i].status);
		assert_non_null(json_string_value(json_object_get(doc, "title")));
		json_decref(doc);
	}
}

/* ================================================================ queries */

static const char *const search_query[] = { "state", "product", "limit", NULL };

static void test_query_parse(void **state)
{
	struct tsr_http_param q[TSR_HTTP_MAX_QUERY];
	char long_value[TSR_HTTP_PARAM_MAX + 16];
	size_t n = 99;

	(void)state;
	assert_int_equal(tsr_http_query_parse(NULL, search_query, q, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tsr_http_query_parse("", NULL, q, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tsr_http_query_parse("state=under_review&limit=10", search_query, q, &n),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(q[0].name, "state");
	assert_string_equal(q[0].value, "under_review");
	assert_string_equal(q[1].name, "limit");
	assert_string_equal(q[1].value, "10");
	/* Values are percent-decoded; '+' stays a plus (RFC 3986, not forms). */
	assert_int_equal(tsr_http_query_parse("product=a%2Fb%20c+d", search_query, q, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(q[0].value, "a/b c+d");
	/* The longest value that fits. */
	memset(long_value, 'x', sizeof(long_value));
	memcpy(long_value, "limit=", 6);
	long_value[6 + TSR_HTTP_PARAM_MAX] = '\0';
	assert_int_equal(tsr_http_query_parse(long_value, search_query, q, &n), 0);
	assert_int_equal(strlen(q[0].value), TSR_HTTP_PARAM_MAX);
}

static void test_query_refusals(void **state)
{
	static const struct {
		const char *query;
		const char *detail;
	} cases[] = {
		{ "colour=red", "query: unknown parameter 'colour'" },
		{ "State=x", "query: unknown parameter 'State'" },
		{ "st%61te=x", "query: unknown parameter 'st%61te'" },
		{ "state=a&state=b", "query: parameter 'state' given twice" },
		{ "state", "query: 'state' is not name=value" },
		{ "=x", "query: '' is not name=value" },
		{ "state=x&", "query: '' is not name=value" },
		{ "state=x&&limit=1", "query: '' is not name=value" },
		{ "state=", "query: parameter 'state' must have a value*" },
		{ "state=%0a", "query: parameter 'state' must have a value*" },
		{ "state=%00", "query: parameter 'state' must have a value*" },
		{ "state=%zz", "query: parameter 'state' must have a value*" },
		{ "state=%4", "query: parameter 'state' must have a value*" },
		{ "limit=1&co\x01" "de=2", "query: unknown parameter 'co?de'" },
	};
	struct tsr_http_param q[TSR_HTTP_MAX_QUERY];
	char over[TSR_HTTP_PARAM_MAX + 16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		const char *want = cases[i].detail;
		size_t wlen = strlen(want);

		n = 99;
		if (tsr_http_query_parse(cases[i].query, search_query, q, &n) != TSR_ERR_INVALID)
			fail_msg("'%s' was accepted", cases[i].query);
		assert_int_equal(n, 0);
		if (want[wlen - 1] == '*' ? strncmp(tsr_error_detail(), want, wlen - 1) != 0 :
		    strcmp(tsr_error_detail(), want) != 0)
			fail_msg("'%s': detail '%s', wanted '%s'", cases[i].query, tsr_error_detail(),
			    want);
	}
	/* A route that lists no names takes no query. */
	assert_int_equal(tsr_http_query_parse("code=1", NULL, q, &n), TSR_ERR_INVALID);
	/* One byte over the cap, and the detail never holds the value. */
	memset(over, 'S', sizeof(over));
	memcpy(over, "state=", 6);
	over[6 + TSR_HTTP_PARAM_MAX + 1] = '\0';
	assert_int_equal(tsr_http_query_parse(over, search_query, q, &n), TSR_ERR_INVALID);
	assert_null(strstr(tsr_error_detail(), "SSS"));
	assert_int_equal(tsr_http_query_parse("limit=SECRET%0a", search_query, q, &n),
	    TSR_ERR_INVALID);
	assert_null(strstr(tsr_error_detail(), "SECRET"));
}

/* ================================================================ bearer tokens */

#define TOKEN43 "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"

static void test_bearer(void **state)
{
	static const char *const bad[] = {
		"", "Bearer", "Bearer ", "Basic " TOKEN43, "Bearer  " TOKEN43, "Bearer\t" TOKEN43,
		"Bearer " TOKEN43 " ", "Bearer " TOKEN43 "A", "Bearer " TOKEN43 "=",
		" Bearer " TOKEN43, "Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdE",
		"Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd",
		"Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbC=",
		"BearerX" TOKEN43, "Bearer good-token",
	};
	char token[TSR_HTTP_BEARER_CHARS + 1];

	(void)state;
	assert_int_equal(strlen(TOKEN43), TSR_HTTP_BEARER_CHARS);
	assert_int_equal(tsr_http_bearer("Bearer " TOKEN43, token), 0);
	assert_string_equal(token, TOKEN43);
	/* The scheme name is case-insensitive (RFC 9110 11.1). */
	assert_int_equal(tsr_http_bearer("bearer " TOKEN43, token), 0);
	assert_int_equal(tsr_http_bearer("BEARER " TOKEN43, token), 0);
	assert_int_equal(tsr_http_bearer(NULL, token), TSR_ERR_AUTH);
	assert_string_equal(token, "");
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		memset(token, 'x', sizeof(token));
		if (tsr_http_bearer(bad[i], token) != TSR_ERR_AUTH)
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(token, "");
		/* The detail never quotes the header. */
		assert_null(strstr(tsr_error_detail(), "AbCd"));
	}
}

/* ================================================================ listen */

static void test_listen_parse(void **state)
{
	const char *bad[] = {
		"", "localhost:8443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:+80",
		"127.0.0.1:-1", "127.0.0.1:123456", "::1:8443", "[::1]8443", "[::1]:", "[::1]",
		"[fe80::1%eth0]:80", "*:80", ":80", "1.2.3:80", " 127.0.0.1:80", "127.0.0.1:80 ",
		"127.0.0.1:0x50", "[127.0.0.1]:80", "0177.0.0.1:80", "http://127.0.0.1:80",
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char text[64];

	(void)state;
	assert_int_equal(tsr_http_listen_parse("127.0.0.1:8443", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(v4->sin_port), 8443);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000001);

	assert_int_equal(tsr_http_listen_parse("[::1]:443", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(v6->sin6_port), 443);
	assert_non_null(inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text)));
	assert_string_equal(text, "::1");

	assert_int_equal(tsr_http_listen_parse("0.0.0.0:0", &ss, &len), 0);
	assert_int_equal(tsr_http_listen_parse("[::]:65535", &ss, &len), 0);
	assert_int_equal(tsr_http_listen_parse("[2001:db8::7]:8443", &ss, &len), 0);
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		if (tsr_http_listen_parse(bad[i], &ss, &len) != TSR_ERR_INVALID)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(tsr_error_detail(), "IPv4:PORT"));
	}
	assert_int_equal(tsr_http_listen_parse(NULL, &ss, &len), TSR_ERR_INVALID);
}

/* ================================================================ OpenAPI */

static void lower(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* Resolve "#/components/schemas/X" in doc. */
static json_t *resolve(json_t *doc, const char *ref)
{
	char buf[256], *save = NULL, *tok;
	json_t *v = doc;

	if (strncmp(ref, "#/", 2) != 0 || strlen(ref) >= sizeof(buf))
		return NULL;
	strcpy(buf, ref + 2);
	for (tok = strtok_r(buf, "/", &save); v != NULL && tok != NULL;
	    tok = strtok_r(NULL, "/", &save))
		v = json_object_get(v, tok);
	return v;
}

static void check_refs(json_t *doc, json_t *v, size_t *n)
{
	const char *key;
	json_t *sub;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, sub) {
			if (strcmp(key, "$ref") == 0) {
				if (resolve(doc, json_string_value(sub)) == NULL)
					fail_msg("dangling $ref %s", json_string_value(sub));
				(*n)++;
			} else {
				check_refs(doc, sub, n);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, sub)
			check_refs(doc, sub, n);
	}
}

static void test_openapi_matches_routes(void **state)
{
	size_t n, ops = 0, refs = 0;
	const struct tsr_http_route *routes = tsr_http_api_routes(&n);
	json_t *doc = tsr_http_openapi(routes, n), *paths, *item, *op;
	const char *path, *method;
	char m[16];

	(void)state;
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	paths = json_object_get(doc, "paths");
	/* Every route is in the document, with its path parameters... */
	for (size_t i = 0; i < n; i++) {
		size_t braces = 0;

		lower(routes[i].method, m, sizeof(m));
		op = json_object_get(json_object_get(paths, routes[i].pattern), m);
		if (op == NULL)
			fail_msg("%s %s is not in the OpenAPI document", routes[i].method,
			    routes[i].pattern);
		char status[8];
		size_t queries = 0;

		for (const char *c = routes[i].pattern; *c; c++)
			braces += *c == '{';
		for (size_t k = 0; routes[i].query != NULL && routes[i].query[k] != NULL; k++)
			queries++;
		assert_int_equal(json_array_size(json_object_get(op, "parameters")),
		    braces + queries);
		for (size_t k = 0; k < queries; k++) {
			json_t *p = json_array_get(json_object_get(op, "parameters"), braces + k);

			assert_string_equal(json_string_value(json_object_get(p, "in")), "query");
			assert_string_equal(json_string_value(json_object_get(p, "name")),
			    routes[i].query[k]);
		}
		/* The success status is the route's: 201 for creations. */
		snprintf(status, sizeof(status), "%d", routes[i].status ? routes[i].status : 200);
		assert_int_equal(json_object_size(json_object_get(op, "responses")), 2);
		assert_non_null(json_object_get(json_object_get(op, "responses"), status));
		assert_non_null(json_object_get(json_object_get(op, "responses"), "default"));
		/* A body schema for every route that takes one, and security for
		 * every authenticated one (a session or Basic credentials). */
		assert_true((json_object_get(op, "requestBody") != NULL) ==
		    (routes[i].body != NULL || routes[i].media_type != NULL));
		assert_true((json_object_get(op, "security") != NULL) ==
		    ((routes[i].flags & (TSR_HTTP_AUTH | TSR_HTTP_BASIC)) != 0 ||
		    routes[i].challenge != NULL));
		/* Bodies that are not JSON are documented with their media type. */
		if (routes[i].media_type != NULL)
			assert_non_null(json_object_get(json_object_get(json_object_get(op,
			    "requestBody"), "content"), routes[i].media_type));
		if (routes[i].produces != NULL)
			assert_non_null(json_object_get(json_object_get(json_object_get(
			    json_object_get(op, "responses"), status), "content"), routes[i].produces));
	}
	/* ...and every operation in the document is a route. */
	json_object_foreach(paths, path, item) {
		json_object_foreach(item, method, op) {
			bool found = false;

			for (size_t i = 0; i < n; i++) {
				lower(routes[i].method, m, sizeof(m));
				found = found || (strcmp(routes[i].pattern, path) == 0 &&
				    strcmp(m, method) == 0);
			}
			if (!found)
				fail_msg("%s %s is documented but not routed", method, path);
			ops++;
		}
	}
	assert_int_equal(ops, n);
	/* One table: the API's own routes, every workflow route, every EST route. */
	{
		size_t n_ra, n_est, n_status;
		const struct tsr_http_route *ra = tsr_http_ra_routes(&n_ra);
		const struct tsr_http_route *est = tsr_http_est_routes(&n_est);
		const struct tsr_http_route *status = tsr_http_status_routes(&n_status);

		assert_true(n_ra >= 17);
		assert_int_equal(n_est, 6);
		assert_int_equal(n_status, 4);
		size_t n_pub, n_officer;

		(void)tsr_http_pub_routes(&n_pub);
		(void)tsr_http_officer_routes(&n_officer);
		assert_int_equal(n, 4 + n_ra + n_est + n_status + n_pub + n_officer);
		for (size_t i = 0; i < n_ra; i++)
			assert_ptr_equal(routes[4 + i].handler, ra[i].handler);
		for (size_t i = 0; i < n_est; i++)
			assert_ptr_equal(routes[4 + n_ra + i].handler, est[i].handler);
		for (size_t i = 0; i < n_status; i++)
			assert_ptr_equal(routes[4 + n_ra + n_est + i].handler, status[i].handler);
	}
	/* Both kinds of credentials are described. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(doc, "components"), "securitySchemes"), "basic"), "scheme")), "basic");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(doc, "components"), "securitySchemes"), "session"), "scheme")),
	    "bearer");
	check_refs(doc, doc, &refs);
	assert_true(refs >= 2 * n - 4);
	json_decref(doc);
}

/* ================================================================ a real server */

struct slow {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered, release;
};

struct fixture {
	char dir[64];
	char cert[96], key[96], other_key[96], log[96];
	/* A client CA, a client certificate of it, one of another CA, and an
	 * expired one of the client CA; their keys. */
	char ca[96], client[96], client_key[96], foreign[96], foreign_key[96];
	char expired[96], expired_key[96];
	struct tsr_config cfg;
	struct tsr_http_app app;
	struct tsr_http_server *srv;
	unsigned port;
	struct slow slow;
	char seen_actor[64];
};

static int h_echo(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	res->json = json_deep_copy(req->body);
	res->status = 201;
	return 0;
}

static int h_private(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct fixture *f = req->app->ctx;

	snprintf(f->seen_actor, sizeof(f->seen_actor), "%s", req->actor ? req->actor : "");
	res->json = json_pack("{s:s, s:i, s:s}", "actor", req->actor,
	    "bytes", (int)json_string_length(json_object_get(req->body, "text")),
	    "authorization", req->authorization ? req->authorization : "(none)");
	return 0;
}

/* What the server tells a handler about the request: the client, the
 * query, whether it is authenticated. */
static int h_whoami(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	json_t *q = json_object();

	for (size_t i = 0; i < req->n_query; i++)
		json_object_set_new(q, req->query[i].name, json_string(req->query[i].value));
	res->json = json_pack("{s:s, s:o, s:s?, s:s?, s:b}", "client", req->client, "query", q,
	    "state", tsr_http_query(req, "state"), "missing", tsr_http_query(req, "nope"),
	    "anonymous", req->actor == NULL && req->authorization == NULL);
	return 0;
}

/* A creation: the route says 201, the handler leaves the status alone. */
static int h_create(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	res->json = json_pack("{s:s}", "name", json_string_value(json_object_get(req->body,
	    "name")));
	return 0;
}

static int h_slow(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct fixture *f = req->app->ctx;

	pthread_mutex_lock(&f->slow.lock);
	f->slow.entered = true;
	pthread_cond_broadcast(&f->slow.cond);
	while (!f->slow.release)
		pthread_cond_wait(&f->slow.cond, &f->slow.lock);
	pthread_mutex_unlock(&f->slow.lock);
	res->json = json_pack("{s:s}", "slow", "done");
	return 0;
}

static int h_broken(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	(void)res;
	return tsr_error(TSR_ERR_STORE, "/secret/path/tessera.db: database is locked");
}

/* The raw body reversed, as application/x-echo, with headers of its own. */
static int h_raw(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	uint8_t *p = malloc(req->raw_len + 1);

	if (p == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < req->raw_len; i++)
		p[i] = req->raw[req->raw_len - 1 - i];
	res->raw = p;
	res->raw_len = req->raw_len;
	res->content_type = "application/x-echo";
	res->headers[0] = (struct tsr_http_header){ "Content-Transfer-Encoding", "base64" };
	res->headers[1] = (struct tsr_http_header){ "X-Echo", "reversed" };
	res->n_headers = 2;
	return 0;
}

static int h_nothing(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->status = 204;
	return 0;
}

/* Handler bugs: a 204 with a body, two bodies, a raw body without a type. */
static int h_bad_204(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->status = 204;
	res->json = json_object();
	return 0;
}

static int h_two_bodies(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->json = json_object();
	res->raw = (uint8_t *)strdup("x");
	res->raw_len = 1;
	res->content_type = "text/plain";
	return 0;
}

static int h_untyped(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	(void)req;
	res->raw = (uint8_t *)strdup("x");
	res->raw_len = 1;
	return 0;
}

/* What Basic credentials the handler got (never echo a password: its length). */
static int h_basic(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	char user[TSR_HTTP_BASIC_USER_MAX + 1], password[TSR_HTTP_BASIC_PASSWORD_MAX + 1];
	int r;

	if ((r = tsr_http_basic(req->authorization, user, password)) != 0)
		return r;
	res->json = json_pack("{s:s, s:i, s:i}", "user", user, "password_length",
	    (int)strlen(password), "body_length", (int)req->raw_len);
	tsr_wipe(password, sizeof(password));
	return 0;
}

/* Whether the handler got a client certificate, and its SHA-256. */
static int h_peer(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	uint8_t md[32];
	char hex[65] = "";

	if (req->client_cert != NULL) {
		EVP_Digest(req->client_cert, req->client_cert_len, md, NULL, EVP_sha256(), NULL);
		tsr_hex_encode(md, sizeof(md), hex);
	}
	res->json = json_pack("{s:b, s:s}", "cert", req->client_cert != NULL, "sha256", hex);
	return 0;
}

static int h_header(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const char *v = NULL;
	int r;

	if ((r = tsr_http_header(req, "X-Test", &v)) != 0)
		return r;
	res->json = json_pack("{s:s?}", "value", v);
	return 0;
}

static const struct tsr_json_field echo_schema[] = {
	{ .name = "name", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = "text", .type = TSR_JSON_STRING, .max_len = 1 << 20 },
	{ .name = NULL },
};

static const struct tsr_json_field private_schema[] = {
	{ .name = "text", .type = TSR_JSON_STRING, .required = true, .max_len = 1 << 20 },
	{ .name = NULL },
};

static const char *const whoami_query[] = { "state", "code", "lang", NULL };
static const char *const private_query[] = { "session", NULL };

static struct tsr_http_route served[64];
static size_t n_served;

static void build_routes(void)
{
	static const struct tsr_http_route extra[] = {
		ROUTE("POST", "/api/v1/echo", h_echo, 0, echo_schema, "echo", NULL, 0),
		ROUTE("POST", "/api/v1/private", h_private, TSR_HTTP_AUTH, private_schema, "private",
		    private_query, 0),
		ROUTE("GET", "/api/v1/slow", h_slow, 0, NULL, "slow", NULL, 0),
		ROUTE("GET", "/api/v1/broken", h_broken, 0, NULL, "broken", NULL, 0),
		ROUTE("GET", "/api/v1/whoami", h_whoami, 0, NULL, "who", whoami_query, 0),
		ROUTE("POST", "/api/v1/things", h_create, 0, echo_schema, "create", NULL, 201),
		{ .method = "POST", .pattern = "/api/v1/raw", .handler = h_raw,
		    .media_type = "application/x-test", .produces = "application/x-echo" },
		ROUTE("GET", "/api/v1/nothing", h_nothing, 0, NULL, "nothing", NULL, 0),
		ROUTE("GET", "/api/v1/bad-204", h_bad_204, 0, NULL, "bug", NULL, 0),
		ROUTE("GET", "/api/v1/two-bodies", h_two_bodies, 0, NULL, "bug", NULL, 0),
		ROUTE("GET", "/api/v1/untyped", h_untyped, 0, NULL, "bug", NULL, 0),
		{ .method = "POST", .pattern = "/api/v1/basic", .handler = h_basic,
		    .flags = TSR_HTTP_BASIC, .media_type = "application/x-test",
		    .challenge = "Basic realm=\"test\"" },
		ROUTE("GET", "/api/v1/peer", h_peer, 0, NULL, "peer", NULL, 0),
		ROUTE("GET", "/api/v1/header", h_header, 0, NULL, "header", NULL, 0),
	};
	size_t n;
	const struct tsr_http_route *api = tsr_http_api_routes(&n);

	assert_true(n + TSR_ARRAY_LEN(extra) <= TSR_ARRAY_LEN(served));
	memcpy(served, api, n * sizeof(*api));
	memcpy(served + n, extra, sizeof(extra));
	n_served = n + TSR_ARRAY_LEN(extra);
}

static int authenticate(struct tsr_http_app *app, const char *authorization, char *actor,
    size_t size)
{
	(void)app;
	if (authorization != NULL && strcmp(authorization, "Bearer store-down") == 0)
		return tsr_error(TSR_ERR_STORE, "/var/lib/tessera.db: database is locked");
	if (authorization == NULL || strcmp(authorization, "Bearer good-token") != 0)
		return tsr_error(TSR_ERR_AUTH, "bad credentials");
	snprintf(actor, size, "officer:alice");
	return 0;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *pk)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (x != NULL)
		assert_int_equal(PEM_write_X509(f, x), 1);
	else
		assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

/* A throw-away P-256 certificate for localhost, 127.0.0.1 and ::1. */
static void make_cert(struct fixture *f)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	assert_non_null(pk);
	assert_non_null(other);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
	    -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, pk);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	write_pem(f->cert, x, NULL);
	write_pem(f->key, NULL, pk);
	write_pem(f->other_key, NULL, other);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(other);
}

/* A certificate for key, named cn, issued by issuer (NULL: self-signed)
 * with issuer_key, valid from `from` to `to` seconds from now. */
static X509 *issue(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    long from, long to, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0xffffff) + 2);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
	    0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

/* The client side of mutual TLS: f->ca issues f->client and f->expired;
 * f->foreign is self-signed. */
static void make_client_certs(struct fixture *f)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *k1 = EVP_EC_gen("P-256");
	EVP_PKEY *k2 = EVP_EC_gen("P-256"), *k3 = EVP_EC_gen("P-256");
	X509 *ca = issue(ca_key, "Client CA", NULL, NULL, -3600, 86400, true);
	X509 *client = issue(k1, "client", ca, ca_key, -3600, 86400, false);
	X509 *foreign = issue(k2, "client", NULL, NULL, -3600, 86400, false);
	X509 *expired = issue(k3, "old client", ca, ca_key, -7200, -3600, false);

	write_pem(f->ca, ca, NULL);
	write_pem(f->client, client, NULL);
	write_pem(f->client_key, NULL, k1);
	write_pem(f->foreign, foreign, NULL);
	write_pem(f->foreign_key, NULL, k2);
	write_pem(f->expired, expired, NULL);
	write_pem(f->expired_key, NULL, k3);
	X509_free(ca);
	X509_free(client);
	X509_free(foreign);
	X509_free(expired);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void load_config(struct fixture *f)
{
	static const char ca[] = "[ca]\norganization = Test\ntoken = pkcs11:token=Test\n"
	    "public_url = http://localhost:8080\npolicy_arc = 2.25.1\n"
	    "pkcs11_module = /nonexistent/module.so\npin_file = pin\ndatabase = db\n"
	    "key_type = ec-p256\n";
	struct tsr_buf text;

	tsr_buf_init(&text, 1 << 20);
	assert_int_equal(tsr_buf_append_str(&text, ca), 0);
	assert_int_equal(tsr_products_default_config("2.25.1", &text), 0);
	if (tsr_config_parse((const char *)text.data, text.len, f->dir, &f->cfg) != 0)
		fail_msg("config: %s", tsr_error_detail());
	tsr_buf_free(&text);
}

static void config_for(struct fixture *f, struct tsr_http_config *c)
{
	tsr_http_config_default(c);
	c->listen = "127.0.0.1:0";
	c->cert_pem_path = f->cert;
	c->key_pem_path = f->key;
	c->access_log_path = f->log;
	c->timeout_seconds = 5;
}

static int server_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tsr_http_config c;

	strcpy(f->dir, "/tmp/tessera-test-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->other_key, sizeof(f->other_key), "%s/other.pem", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/access.log", f->dir);
	snprintf(f->ca, sizeof(f->ca), "%s/client-ca.pem", f->dir);
	snprintf(f->client, sizeof(f->client), "%s/client.pem", f->dir);
	snprintf(f->client_key, sizeof(f->client_key), "%s/client.key", f->dir);
	snprintf(f->foreign, sizeof(f->foreign), "%s/foreign.pem", f->dir);
	snprintf(f->foreign_key, sizeof(f->foreign_key), "%s/foreign.key", f->dir);
	snprintf(f->expired, sizeof(f->expired), "%s/expired.pem", f->dir);
	snprintf(f->expired_key, sizeof(f->expired_key), "%s/expired.key", f->dir);
	make_cert(f);
	make_client_certs(f);
	load_config(f);
	build_routes();
	pthread_mutex_init(&f->slow.lock, NULL);
	pthread_cond_init(&f->slow.cond, NULL);
	f->app.cfg = &f->cfg;
	f->app.ctx = f;
	f->app.authenticate = authenticate;
	f->app.routes = served;
	f->app.n_routes = n_served;
	config_for(f, &c);
	if (tsr_http_server_start(&c, &f->app, &f->srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	f->port = tsr_http_server_port(f->srv);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int server_teardown(void **state)
{
	struct fixture *f = *state;

	tsr_http_server_stop(f->srv);
	tsr_config_free(&f->cfg);
	assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	pthread_cond_destroy(&f->slow.cond);
	pthread_mutex_destroy(&f->slow.lock);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------- the client */

struct reply {
	long status;
	CURLcode rc;
	struct tsr_buf headers;
	struct tsr_buf body;
	json_t *json;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	return tsr_buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

struct call {
	const char *method;
	const char *path;
	const char *content_type;     /* NULL: none */
	const char *body;             /* NULL: none */
	size_t body_len;              /* 0: strlen(body) */
	const char *const *headers;   /* extra, NULL-terminated */
	long tls_version;             /* 0: default */
	const char *ciphers;
	const char *cert, *key;       /* a TLS client certificate (PEM files), or NULL */
	unsigned port;                /* 0: the fixture's server */
};

static void reply_free(struct reply *r)
{
	tsr_buf_free(&r->headers);
	tsr_buf_free(&r->body);
	json_decref(r->json);
}

static void request(const struct fixture *f, const struct call *c, struct reply *r)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[TSR_HTTP_PATH_MAX + 64];
	const char *text;

	memset(r, 0, sizeof(*r));
	tsr_buf_init(&r->headers, 1 << 20);
	tsr_buf_init(&r->body, 1 << 20);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", c->port ? c->port : f->port, c->path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CAINFO, f->cert);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
	if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (c->tls_version != 0)
		curl_easy_setopt(curl, CURLOPT_SSLVERSION, c->tls_version);
	if (c->ciphers != NULL)
		curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, c->ciphers);
	if (c->cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key);
	}
	if (c->body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(c->body_len ? c->body_len : strlen(c->body)));
	}
	if (c->content_type != NULL) {
		char h[128];

		snprintf(h, sizeof(h), "Content-Type: %s", c->content_type);
		hdrs = curl_slist_append(hdrs, h);
	} else {
		hdrs = curl_slist_append(hdrs, "Content-Type:");
	}
	for (size_t i = 0; c->headers != NULL && c->headers[i] != NULL; i++)
		hdrs = curl_slist_append(hdrs, c->headers[i]);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	r->rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	assert_int_equal(tsr_buf_cstr(&r->headers, &text), 0);
	assert_int_equal(tsr_buf_cstr(&r->body, &text), 0);
	if (r->body.len > 0)
		r->json = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
}

static void get(const struct fixture *f, const char *path, struct reply *r)
{
	struct call c = { .method = "GET", .path = path };

	request(f, &c, r);
	if (r->rc != CURLE_OK)
		fail_msg("GET %s: %s", path, curl_easy_strerror(r->rc));
}

/* The value of header name in r (case-insensitive name), or NULL. */
static const char *header(const struct reply *r, const char *name, char *out, size_t size)
{
	const char *h = (const char *)r->headers.data;
	size_t n = strlen(name);

	for (const char *line = h; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\r\n");

		if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1 + strspn(line + n + 1, " ");
			size_t vlen = (size_t)(line + len - v);

			snprintf(out, size, "%.*s", (int)vlen, v);
			return out;
		}
	}
	return NULL;
}

static void assert_header(const struct reply *r, const char *name, const char *want)
{
	char v[256];

	if (header(r, name, v, sizeof(v)) == NULL)
		fail_msg("no %s header in:\n%s", name, (const char *)r->headers.data);
	if (strcmp(v, want) != 0)
		fail_msg("%s: '%s', wanted '%s'", name, v, want);
}

static void assert_security_headers(const struct reply *r)
{
	assert_header(r, "Cache-Control", "no-store");
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Strict-Transport-Security", "max-age=31536000");
	assert_header(r, "Referrer-Policy", "no-referrer");
	assert_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
}

/* A problem document with this status and type name, for this path. */
static void assert_problem(const struct reply *r, long status, const char *name,
    const char *instance)
{
	char type[128];

	if (r->status != status)
		fail_msg("status %ld, wanted %ld: %s", r->status, status,
		    r->body.data ? (const char *)r->body.data : "");
	assert_header(r, "Content-Type", "application/problem+json");
	assert_security_headers(r);
	assert_non_null(r->json);
	snprintf(type, sizeof(type), "%s%s", TSR_PROBLEM_TYPE_BASE, name);
	assert_string_equal(json_string_value(json_object_get(r->json, "type")), type);
	assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
	assert_non_null(json_string_value(json_object_get(r->json, "title")));
	assert_string_equal(json_string_value(json_object_get(r->json, "instance")), instance);
}

/* ---------------------------------------------------------------- the endpoints */

static void test_serve_health(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	struct call head = { .method = "HEAD", .path = "/api/v1/health" };

	get(f, "/api/v1/health", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "application/json");
	assert_security_headers(&r);
	assert_string_equal((const char *)r.body.data, "{\"status\":\"ok\",\"database\":\"ok\"}");
	reply_free(&r);

	request(f, &head, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_header(&r, "Content-Length", "31");
	reply_free(&r);
}

static int database_down(struct tsr_http_app *app)
{
	(void)app;
	return tsr_error(TSR_ERR_STORE, "db.internal.example:5432: connection refused");
}

static int database_up(struct tsr_http_app *app)
{
	(void)app;
	return 0;
}

/* A load balancer learns from the status alone; the reason stays in the log. */
static void test_serve_health_database(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	f->app.check_health = database_down;
	get(f, "/api/v1/health", &r);
	f->app.check_health = NULL;
	assert_int_equal(r.status, 503);
	assert_header(&r, "Content-Type", "application/json");
	assert_string_equal((const char *)r.body.data,
	    "{\"status\":\"unavailable\",\"database\":\"unreachable\"}");
	assert_null(strstr((const char *)r.body.data, "example"));
	reply_free(&r);

	f->app.check_health = database_up;
	get(f, "/api/v1/health", &r);
	f->app.check_health = NULL;
	assert_int_equal(r.status, 200);
	assert_string_equal((const char *)r.body.data, "{\"status\":\"ok\",\"database\":\"ok\"}");
	reply_free(&r);
}

static void test_serve_products(void **state)
{
	static const char *const public_keys[] = {
		"name", "title", "description", "class", "storage", "validity_days", "key_types",
		"payment", "applicant_fields",
	};
	struct fixture *f = *state;
	json_t *list, *p;
	struct reply r;
	size_t i;

	/* The keys are those the OpenAPI document promises. */
	get(f, "/api/v1/openapi.json", &r);
	p = json_object_get(json_object_get(json_object_get(r.json, "components"), "schemas"),
	    "Product");
	assert_int_equal(json_array_size(json_object_get(p, "required")),
	    TSR_ARRAY_LEN(public_keys));
	assert_int_equal(json_object_size(json_object_get(p, "properties")),
	    TSR_ARRAY_LEN(public_keys));
	for (size_t k = 0; k < TSR_ARRAY_LEN(public_keys); k++)
		assert_non_null(json_object_get(json_object_get(p, "properties"), public_keys[k]));
	reply_free(&r);

	get(f, "/api/v1/products", &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	list = json_object_get(r.json, "products");
	assert_int_equal(json_array_size(list), f->cfg.products.n);
	assert_true(f->cfg.products.n >= 2);
	json_array_foreach(list, i, p) {
		const struct tsr_product *want = &f->cfg.products.items[i];

		/* Public fields only: no policy OIDs, subject rules or RA approvals. */
		assert_int_equal(json_object_size(p), TSR_ARRAY_LEN(public_keys));
		for (size_t k = 0; k < TSR_ARRAY_LEN(public_keys); k++)
			assert_non_null(json_object_get(p, public_keys[k]));
		assert_string_equal(json_string_value(json_object_get(p, "name")), want->name);
		assert_string_equal(json_string_value(json_object_get(p, "title")), want->title);
		assert_int_equal(json_integer_value(json_object_get(p, "validity_days")),
		    want->validity_days);
		assert_string_equal(json_string_value(json_object_get(p, "storage")),
		    tsr_storage_name(want->storage));
		assert_int_equal(json_array_size(json_object_get(p, "applicant_fields")),
		    want->n_applicant_fields);
	}
	reply_free(&r);
}

static void test_serve_one_product(void **state)
{
	struct fixture *f = *state;
	const struct tsr_product *epcs = tsr_product_find(&f->cfg.products, "epcs");
	struct reply r;

	assert_non_null(epcs);
	get(f, "/api/v1/products/epcs", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "epcs");
	assert_string_equal(json_string_value(json_object_get(r.json, "class")), "signing");
	assert_string_equal(json_string_value(json_object_get(r.json, "storage")), "hardware");
	assert_string_equal(json_string_value(json_object_get(r.json, "payment")), epcs->payment);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r.json,
	    "applicant_fields"), 4)), "npi");
	reply_free(&r);

	get(f, "/api/v1/products/nope", &r);
	assert_problem(&r, 404, "not-found", "/api/v1/products/nope");
	assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
	    "no product named 'nope'");
	reply_free(&r);

	/* A NUL or a slash smuggled in by percent-encoding finds nothing. */
	get(f, "/api/v1/products/epcs%00x", &r);
	assert_problem(&r, 404, "not-found", "/api/v1/products/epcs%00x");
	reply_free(&r);
	get(f, "/api/v1/products/epcs%2F..", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get(f, "/api/v1/products/epcs/", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get(f, "/api/v1/Products/epcs", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
}

static void test_serve_openapi(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f, "/api/v1/openapi.json", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "application/json");
	assert_string_equal(json_string_value(json_object_get(r.json, "openapi")), "3.0.3");
	/* It describes what this server routes: the test routes too. */
	/* One path per pattern (GET and POST /ocsp share one). */
	{
		size_t patterns = 0;

		for (size_t i = 0; i < n_served; i++) {
			bool seen = false;

			for (size_t j = 0; j < i; j++)
				seen = seen || strcmp(f->app.routes[i].pattern,
				    f->app.routes[j].pattern) == 0;
			patterns += !seen;
		}
		assert_int_equal(json_object_size(json_object_get(r.json, "paths")), patterns);
	}
	assert_non_null(json_object_get(json_object_get(json_object_get(r.json, "paths"),
	    "/api/v1/echo"), "post"));
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(r.json,
	    "paths"), "/api/v1/private"), "post"), "security"));
	reply_free(&r);
}

static void test_serve_method_not_allowed(void **state)
{
	struct fixture *f = *state;
	struct call post = { .method = "POST", .path = "/api/v1/products",
		.content_type = "application/json", .body = "{}" };
	struct call del = { .method = "DELETE", .path = "/api/v1/products/epcs" };
	struct call get_echo = { .method = "GET", .path = "/api/v1/echo" };
	struct reply r;

	request(f, &post, &r);
	assert_problem(&r, 405, "method-not-allowed", "/api/v1/products");
	assert_header(&r, "Allow", "GET, HEAD");
	reply_free(&r);
	request(f, &del, &r);
	assert_problem(&r, 405, "method-not-allowed", "/api/v1/products/epcs");
	reply_free(&r);
	request(f, &get_echo, &r);
	assert_problem(&r, 405, "method-not-allowed", "/api/v1/echo");
	assert_header(&r, "Allow", "POST");
	reply_free(&r);
}

static void test_serve_json_body(void **state)
{
	struct fixture *f = *state;
	struct call ok = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json; charset=UTF-8", .body = "{\"name\":\"Jane\"}" };
	struct call unknown = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = "{\"name\":\"Jane\",\"admin\":true}" };
	struct call broken = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = "{\"name\":" };
	struct call empty = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = "", .body_len = 0 };
	struct reply r;

	request(f, &ok, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal((const char *)r.body.data, "{\"name\":\"Jane\"}");
	reply_free(&r);

	request(f, &unknown, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/echo");
	assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
	    "/admin: unknown field");
	reply_free(&r);

	request(f, &broken, &r);
	assert_problem(&r, 400, "parse", "/api/v1/echo");
	reply_free(&r);

	request(f, &empty, &r);
	assert_problem(&r, 400, "parse", "/api/v1/echo");
	reply_free(&r);
}

static void test_serve_media_type(void **state)
{
	static const char *const bad[] = {
		"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
		"application/json; charset=latin1", "application/json-patch+json",
		"multipart/form-data; boundary=x",
	};
	struct fixture *f = *state;
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		struct call c = { .method = "POST", .path = "/api/v1/echo", .content_type = bad[i],
			.body = "{\"name\":\"Jane\"}" };

		request(f, &c, &r);
		assert_problem(&r, 415, "unsupported-media-type", "/api/v1/echo");
		reply_free(&r);
	}
	{
		struct call none = { .method = "POST", .path = "/api/v1/echo",
			.body = "{\"name\":\"Jane\"}" };

		request(f, &none, &r);
		assert_problem(&r, 415, "unsupported-media-type", "/api/v1/echo");
		reply_free(&r);
	}
}

static char *big_body(size_t n)
{
	char *b = malloc(n + 1);

	assert_non_null(b);
	memset(b, 'a', n);
	memcpy(b, "{\"name\":\"x\",\"text\":\"", 20);
	memcpy(b + n - 2, "\"}", 2);
	b[n] = '\0';
	return b;
}

static void test_serve_body_limits(void **state)
{
	struct fixture *f = *state;
	char *body = big_body(64 * 1024 + 1), *fits = big_body(64 * 1024);
	const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };
	struct call over = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = body };
	struct call at = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = fits };
	struct call get_body = { .method = "GET", .path = "/api/v1/products",
		.content_type = "application/json", .body = "{}" };
	struct call chunks = { .method = "POST", .path = "/api/v1/echo",
		.content_type = "application/json", .body = "{\"name\":\"x\"}", .headers = chunked };
	struct reply r;

	request(f, &over, &r);
	assert_problem(&r, 413, "too-large", "/api/v1/echo");
	assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
	    "the request body has 65537 bytes; the limit is 65536");
	reply_free(&r);

	request(f, &at, &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);

	request(f, &get_body, &r);
	assert_problem(&r, 413, "too-large", "/api/v1/products");
	assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
	    "GET /api/v1/products takes no request body");
	reply_free(&r);

	request(f, &chunks, &r);
	assert_problem(&r, 411, "length-required", "/api/v1/echo");
	reply_free(&r);
	free(body);
	free(fits);
}

static void test_serve_authentication(void **state)
{
	struct fixture *f = *state;
	char *body = big_body(200 * 1024);
	const char *const good[] = { "Authorization: Bearer good-token", NULL };
	const char *const bad[] = { "Authorization: Bearer bad-token", NULL };
	struct call anon = { .method = "POST", .path = "/api/v1/private",
		.content_type = "application/json", .body = "{\"text\":\"hi\"}" };
	struct call wrong = anon, authed = anon, large = anon, large_anon;
	struct reply r;

	wrong.headers = bad;
	authed.headers = good;
	large.headers = good;
	large.body = body + 11;   /* {"text":"aaa..."} */
	memcpy(body + 11, "{", 1);
	large_anon = large;
	large_anon.path = "/api/v1/echo";
	large_anon.headers = NULL;

	request(f, &anon, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/private");
	reply_free(&r);
	request(f, &wrong, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/private");
	reply_free(&r);

	request(f, &authed, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "actor")), "officer:alice");
	assert_string_equal(f->seen_actor, "officer:alice");
	reply_free(&r);

	/* The larger cap holds only once the caller is known. */
	request(f, &large, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "bytes")), 200 * 1024 - 22);
	reply_free(&r);
	request(f, &large_anon, &r);
	assert_problem(&r, 413, "too-large", "/api/v1/echo");
	reply_free(&r);
	free(body);
}

/* The handler sees the Authorization header only on authenticated routes;
 * a failure to check credentials is the failure's problem, not a 401. */
static void test_serve_authentication_details(void **state)
{
	struct fixture *f = *state;
	const char *const good[] = { "Authorization: Bearer good-token", NULL };
	const char *const down[] = { "Authorization: Bearer store-down", NULL };
	struct call authed = { .method = "POST", .path = "/api/v1/private",
		.content_type = "application/json", .body = "{\"text\":\"hi\"}", .headers = good };
	struct call broken = authed;
	struct call who = { .method = "GET", .path = "/api/v1/whoami", .headers = good };
	struct reply r;

	request(f, &authed, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "authorization")),
	    "Bearer good-token");
	reply_free(&r);

	broken.headers = down;
	request(f, &broken, &r);
	assert_problem(&r, 503, "store", "/api/v1/private");
	assert_null(strstr((const char *)r.body.data, "tessera.db"));
	reply_free(&r);

	/* An anonymous route gets neither actor nor header, whatever is sent. */
	request(f, &who, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "anonymous")));
	reply_free(&r);
}

static void test_serve_query(void **state)
{
	static const struct {
		const char *path;
		const char *detail;
	} refused[] = {
		{ "/api/v1/whoami?colour=red", "query: unknown parameter 'colour'" },
		{ "/api/v1/whoami?state=a&state=b", "query: parameter 'state' given twice" },
		{ "/api/v1/whoami?state", "query: 'state' is not name=value" },
		{ "/api/v1/whoami?state=%0d%0a", NULL },
		{ "/api/v1/whoami?state=", NULL },
		{ "/api/v1/health?code=1", "query: unknown parameter 'code'" },
		{ "/api/v1/products/epcs?lang=en", "query: unknown parameter 'lang'" },
	};
	struct fixture *f = *state;
	char path[512];
	struct reply r;

	get(f, "/api/v1/whoami?state=under_review&lang=en%2Dus", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "state")), "under_review");
	assert_true(json_is_null(json_object_get(r.json, "missing")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "query"),
	    "lang")), "en-us");
	assert_int_equal(json_object_size(json_object_get(r.json, "query")), 2);
	/* The client address, as audit records name it. */
	assert_string_equal(json_string_value(json_object_get(r.json, "client")),
	    "http:127.0.0.1");
	reply_free(&r);
	get(f, "/api/v1/whoami", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_object_size(json_object_get(r.json, "query")), 0);
	reply_free(&r);
	get(f, "/api/v1/whoami?", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	for (size_t i = 0; i < TSR_ARRAY_LEN(refused); i++) {
		char instance[128];

		snprintf(instance, sizeof(instance), "%.*s", (int)strcspn(refused[i].path, "?"),
		    refused[i].path);
		get(f, refused[i].path, &r);
		assert_problem(&r, 400, "invalid", instance);
		if (refused[i].detail != NULL)
			assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
			    refused[i].detail);
		reply_free(&r);
	}
	/* A value over the cap. */
	snprintf(path, sizeof(path), "/api/v1/whoami?state=%0*d", TSR_HTTP_PARAM_MAX + 1, 7);
	get(f, path, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/whoami");
	reply_free(&r);
	snprintf(path, sizeof(path), "/api/v1/whoami?state=%0*d", TSR_HTTP_PARAM_MAX, 7);
	get(f, path, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* An authenticated route checks the caller before the query: an unknown
 * caller learns nothing about what the query should hold. */
static void test_serve_query_after_authentication(void **state)
{
	struct fixture *f = *state;
	const char *const good[] = { "Authorization: Bearer good-token", NULL };
	struct call anon = { .method = "POST", .path = "/api/v1/private?nope=1",
		.content_type = "application/json", .body = "{\"text\":\"hi\"}" };
	struct call authed = anon;
	struct reply r;

	request(f, &anon, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/private");
	reply_free(&r);
	authed.headers = good;
	request(f, &authed, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/private");
	reply_free(&r);
	authed.path = "/api/v1/private?session=x";
	request(f, &authed, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_serve_created(void **state)
{
	struct fixture *f = *state;
	struct call create = { .method = "POST", .path = "/api/v1/things",
		.content_type = "application/json", .body = "{\"name\":\"x\"}" };
	struct call bad = { .method = "POST", .path = "/api/v1/things",
		.content_type = "application/json", .body = "{\"name\":7}" };
	struct reply r;

	request(f, &create, &r);
	assert_int_equal(r.status, 201);
	assert_header(&r, "Content-Type", "application/json");
	assert_security_headers(&r);
	assert_string_equal((const char *)r.body.data, "{\"name\":\"x\"}");
	reply_free(&r);
	/* Refusals keep their own status. */
	request(f, &bad, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/things");
	reply_free(&r);
	get(f, "/api/v1/openapi.json", &r);
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(r.json, "paths"), "/api/v1/things"), "post"), "responses"), "201"));
	reply_free(&r);
}

/* Refusals answered on the headers keep the connection for the next request. */
static void test_serve_keep_alive(void **state)
{
	struct fixture *f = *state;
	const char *paths[] = { "/api/v1/products/nope", "/api/v1/echo", "/api/v1/health" };
	CURL *curl = curl_easy_init();
	char url[128];

	curl_easy_setopt(curl, CURLOPT_CAINFO, f->cert);
	curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	for (size_t i = 0; i < TSR_ARRAY_LEN(paths); i++) {
		long status = 0, connects = -1;

		snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", f->port, paths[i]);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		assert_int_equal(curl_easy_perform(curl), CURLE_OK);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
		assert_int_equal(status, i == 0 ? 404 : i == 1 ? 405 : 200);
		assert_int_equal(connects, i == 0 ? 1 : 0);
	}
	curl_easy_cleanup(curl);
}

static void test_serve_server_errors_hide_detail(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f, "/api/v1/broken", &r);
	assert_problem(&r, 503, "store", "/api/v1/broken");
	assert_null(strstr((const char *)r.body.data, "/secret/path"));
	reply_free(&r);
}

static void test_serve_header_limit(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(20 * 1024 + 16);
	const char *hdrs[] = { big, NULL };
	struct call c = { .method = "GET", .path = "/api/v1/health", .headers = hdrs };
	struct reply r;

	assert_non_null(big);
	strcpy(big, "X-Big: ");
	memset(big + 7, 'a', 20 * 1024);
	big[7 + 20 * 1024] = '\0';
	request(f, &c, &r);
	/* libmicrohttpd refuses it itself (its own HTML page, see docs/api.md). */
	assert_int_equal(r.status, 431);
	reply_free(&r);
	/* 8 KiB of headers (cookies, long tokens) still fit. */
	big[7 + 8 * 1024] = '\0';
	request(f, &c, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	free(big);
	/* And the server is still there. */
	get(f, "/api/v1/health", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_serve_tls_versions(void **state)
{
	struct fixture *f = *state;
	struct call tls12 = { .method = "GET", .path = "/api/v1/health",
		.tls_version = CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2 };
	struct call tls13 = { .method = "GET", .path = "/api/v1/health",
		.tls_version = CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3 };
	/* Security level 0 so that this client offers TLS 1.1 at all. */
	struct call tls11 = { .method = "GET", .path = "/api/v1/health",
		.tls_version = CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1,
		.ciphers = "DEFAULT:@SECLEVEL=0" };
	struct call cbc = { .method = "GET", .path = "/api/v1/health",
		.tls_version = CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2,
		.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384" };
	struct call gcm = cbc;
	struct reply r;

	gcm.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	request(f, &tls12, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	request(f, &tls13, &r);
	assert_int_equal(r.rc, CURLE_OK);
	reply_free(&r);
	request(f, &gcm, &r);
	assert_int_equal(r.rc, CURLE_OK);
	reply_free(&r);
	request(f, &tls11, &r);
	assert_int_equal(r.rc, CURLE_SSL_CONNECT_ERROR);
	reply_free(&r);
	request(f, &cbc, &r);
	assert_int_equal(r.rc, CURLE_SSL_CONNECT_ERROR);
	reply_free(&r);
}

static char *read_log(const struct fixture *f)
{
	struct tsr_buf b;
	const char *s;
	char *copy;

	tsr_buf_init(&b, 1 << 20);
	assert_int_equal(tsr_file_read(f->log, 1 << 20, &b), 0);
	assert_int_equal(tsr_buf_cstr(&b, &s), 0);
	copy = strdup(s);
	tsr_buf_free(&b);
	return copy;
}

static void test_serve_access_log(void **state)
{
	struct fixture *f = *state;
	const char *const auth[] = { "Authorization: Bearer good-token", NULL };
	struct call priv = { .method = "POST", .path = "/api/v1/private?session=s3cr3t",
		.content_type = "application/json", .body = "{\"text\":\"my-password-123\"}",
		.headers = auth };
	struct reply r;
	char *log, *line;

	get(f, "/api/v1/whoami?code=ABCD-EFGH&lang=en", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get(f, "/api/v1/health?code=WXYZ-EFGH", &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	get(f, "/api/v1/products/%0a%22evil", &r);
	reply_free(&r);
	request(f, &priv, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* A request is logged when libmicrohttpd reports it complete, which
	 * can be just after the client has its answer: stop first. */
	tsr_http_server_stop(f->srv);
	f->srv = NULL;

	log = read_log(f);
	/* A line per request, with the query's names but not its values. */
	line = strstr(log, "path=/api/v1/whoami?code&lang ");
	assert_non_null(line);
	assert_true(strncmp(line - strlen("ip=127.0.0.1 method=GET "), "ip=127.0.0.1 method=GET ",
	    24) == 0);
	assert_non_null(strstr(line, "status=200 bytes="));
	assert_non_null(strstr(log, "path=/api/v1/health?code status=400"));
	assert_null(strstr(log, "WXYZ"));
	assert_non_null(strstr(log, "method=GET path=/api/v1/products/%0a%22evil status=404"));
	assert_non_null(strstr(log, "method=POST path=/api/v1/private?session status=200"));
	assert_null(strstr(log, "ABCD"));
	assert_null(strstr(log, "s3cr3t"));
	assert_null(strstr(log, "good-token"));
	assert_null(strstr(log, "my-password"));
	/* Every line starts with an RFC 3339 time. */
	for (line = log; *line != '\0'; line = strchr(line, '\n') + 1) {
		assert_true(strncmp(line, "time=20", 7) == 0);
		assert_int_equal(line[9], '-');
		assert_int_equal(line[15], 'T');
		assert_int_equal(line[24], 'Z');
		assert_non_null(strchr(line, '\n'));
	}
	free(log);
}

/* ---------------------------------------------------------------- start and stop */

static void *slow_request(void *arg)
{
	struct fixture *f = arg;
	struct reply *r = calloc(1, sizeof(*r));

	get(f, "/api/v1/slow", r);
	return r;
}

static void *stop_server(void *arg)
{
	struct fixture *f = arg;

	tsr_http_server_stop(f->srv);
	f->srv = NULL;
	return NULL;
}

static bool can_connect(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(0x7f000001);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Stopping refuses new connections at once but lets a request in flight
 * finish and answer. */
static void test_stop_drains(void **state)
{
	struct fixture *f = *state;
	pthread_t client, stopper;
	struct reply *r;

	assert_int_equal(pthread_create(&client, NULL, slow_request, f), 0);
	pthread_mutex_lock(&f->slow.lock);
	while (!f->slow.entered)
		pthread_cond_wait(&f->slow.cond, &f->slow.lock);
	pthread_mutex_unlock(&f->slow.lock);

	assert_int_equal(pthread_create(&stopper, NULL, stop_server, f), 0);
	/* The stopper closes the listening socket first. */
	for (int i = 0; i < 1000 && can_connect(f->port); i++)
		usleep(1000);
	assert_false(can_connect(f->port));

	pthread_mutex_lock(&f->slow.lock);
	f->slow.release = true;
	pthread_cond_broadcast(&f->slow.cond);
	pthread_mutex_unlock(&f->slow.lock);
	assert_int_equal(pthread_join(client, (void **)&r), 0);
	assert_int_equal(pthread_join(stopper, NULL), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal((const char *)r->body.data, "{\"slow\":\"done\"}");
	assert_header(r, "Connection", "close");
	reply_free(r);
	free(r);
	assert_null(f->srv);
}

static void test_start_refusals(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	char busy[32], missing[128];

	config_for(f, &c);
	c.key_pem_path = f->other_key;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_CRYPTO);
	assert_non_null(strstr(tsr_error_detail(), "is not the key of the certificate"));
	assert_null(srv);

	config_for(f, &c);
	c.key_pem_path = f->cert;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_CRYPTO);
	assert_non_null(strstr(tsr_error_detail(), "no unencrypted PEM private key"));

	config_for(f, &c);
	snprintf(missing, sizeof(missing), "%s/none.pem", f->dir);
	c.cert_pem_path = missing;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_NOT_FOUND);

	config_for(f, &c);
	snprintf(busy, sizeof(busy), "127.0.0.1:%u", f->port);
	c.listen = busy;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_IO);
	assert_non_null(strstr(tsr_error_detail(), "cannot listen on 127.0.0.1:"));

	config_for(f, &c);
	c.listen = "localhost:8443";
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_INVALID);

	config_for(f, &c);
	c.max_body_authenticated = c.max_body_anonymous - 1;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_INVALID);

	config_for(f, &c);
	c.per_ip_connections = c.max_connections + 1;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_INVALID);
	assert_null(srv);
}

/* The API's own table, over IPv6, with the default routes and no auth hook. */
static void test_serve_ipv6_default_routes(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_app app = { .cfg = &f->cfg };
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	char url[128];
	long status = 0;
	CURL *curl;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 probe = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&probe, sizeof(probe)) == 0;

	if (fd >= 0)
		close(fd);
	if (!have_v6)
		skip();
	config_for(f, &c);
	c.listen = "[::1]:0";
	c.access_log_path = NULL;
	if (tsr_http_server_start(&c, &app, &srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	snprintf(url, sizeof(url), "https://[::1]:%u/api/v1/products/epcs",
	    tsr_http_server_port(srv));
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CAINFO, f->cert);
	curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_easy_setopt(curl, CURLOPT_URL, strcat(url, "/x"));
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 404);
	curl_easy_cleanup(curl);
	tsr_http_server_stop(srv);
}

/* Once a server has started, jansson frees through a wiping free (request
 * bodies hold passwords), still on malloc's blocks. */
static void test_serve_jansson_wipes(void **state)
{
	json_malloc_t m = NULL;
	json_free_t fr = NULL;
	json_t *v;

	(void)state;
	json_get_alloc_funcs(&m, &fr);
	assert_ptr_equal(m, malloc);
	assert_non_null(fr);
	assert_ptr_not_equal(fr, free);
	/* Blocks of either side can be freed by the other. */
	v = json_string("correct horse battery staple");
	free(json_dumps(v, JSON_ENCODE_ANY));
	json_decref(v);
}

/* Over IPv6 the client address is bracketed, as in a URL. */
static void test_serve_ipv6_client(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_app app = { .cfg = &f->cfg, .routes = served, .n_routes = 0 };
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	struct tsr_buf body;
	const char *text;
	char url[128];
	json_t *v;
	CURL *curl;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 probe = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&probe, sizeof(probe)) == 0;

	if (fd >= 0)
		close(fd);
	if (!have_v6)
		skip();
	app.n_routes = n_served;
	config_for(f, &c);
	c.listen = "[::1]:0";
	c.access_log_path = NULL;
	if (tsr_http_server_start(&c, &app, &srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	snprintf(url, sizeof(url), "https://[::1]:%u/api/v1/whoami", tsr_http_server_port(srv));
	tsr_buf_init(&body, 1 << 16);
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CAINFO, f->cert);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_cleanup(curl);
	tsr_http_server_stop(srv);
	assert_int_equal(tsr_buf_cstr(&body, &text), 0);
	v = json_loads(text, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(v, "client")), "http:[::1]");
	json_decref(v);
	tsr_buf_free(&body);
}

/* ================================================================ bodies that are not JSON */

static bool has_header(const struct reply *r, const char *name)
{
	char v[256];

	return header(r, name, v, sizeof(v)) != NULL;
}

static void test_serve_raw_body(void **state)
{
	static const char body[] = { 0x00, 0x01, 'a', 'b', 'c', (char)0xff };
	struct fixture *f = *state;
	struct call c = { .method = "POST", .path = "/api/v1/raw",
		.content_type = "application/x-test", .body = body, .body_len = sizeof(body) };
	struct call upper = c, empty = c;
	struct reply r;

	request(f, &c, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "application/x-echo");
	assert_header(&r, "Content-Transfer-Encoding", "base64");
	assert_header(&r, "X-Echo", "reversed");
	assert_security_headers(&r);
	/* The bytes as sent, NUL and all, reversed by the handler. */
	assert_int_equal(r.body.len, sizeof(body));
	for (size_t i = 0; i < sizeof(body); i++)
		assert_int_equal(r.body.data[i], (uint8_t)body[sizeof(body) - 1 - i]);
	reply_free(&r);

	/* Media types are case-insensitive; trailing spaces are not a parameter. */
	upper.content_type = "Application/X-Test ";
	request(f, &upper, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	empty.body = "";
	empty.body_len = 0;
	request(f, &empty, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	reply_free(&r);
}

static void test_serve_raw_refusals(void **state)
{
	static const char *const bad[] = {
		"application/json", "application/x-test; charset=utf-8", "application/x-testing",
		"text/plain", "application/x-test;", "application/pkcs10",
	};
	struct fixture *f = *state;
	char *big = malloc(64 * 1024 + 1);
	const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };
	struct call c = { .method = "POST", .path = "/api/v1/raw", .body = "abc" };
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		c.content_type = bad[i];
		request(f, &c, &r);
		assert_problem(&r, 415, "unsupported-media-type", "/api/v1/raw");
		assert_string_equal(json_string_value(json_object_get(r.json, "detail")),
		    "the body must be application/x-test");
		reply_free(&r);
	}
	c.content_type = NULL;
	request(f, &c, &r);
	assert_problem(&r, 415, "unsupported-media-type", "/api/v1/raw");
	reply_free(&r);

	/* The same caps as JSON bodies. */
	assert_non_null(big);
	memset(big, 'A', 64 * 1024 + 1);
	c.content_type = "application/x-test";
	c.body = big;
	c.body_len = 64 * 1024 + 1;
	request(f, &c, &r);
	assert_problem(&r, 413, "too-large", "/api/v1/raw");
	reply_free(&r);
	c.body_len = 64 * 1024;
	request(f, &c, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 64 * 1024);
	reply_free(&r);
	free(big);

	c.body = "abc";
	c.body_len = 0;
	c.headers = chunked;
	request(f, &c, &r);
	assert_problem(&r, 411, "length-required", "/api/v1/raw");
	reply_free(&r);
}

static void test_serve_no_content(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f, "/api/v1/nothing", &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body.len, 0);
	assert_false(has_header(&r, "Content-Type"));
	assert_false(has_header(&r, "Content-Length"));    /* RFC 9110 8.6 */
	assert_security_headers(&r);
	reply_free(&r);
}

/* A handler that breaks the response contract is a 500, not a half answer. */
static void test_serve_handler_bugs(void **state)
{
	static const char *const paths[] = {
		"/api/v1/bad-204", "/api/v1/two-bodies", "/api/v1/untyped",
	};
	struct fixture *f = *state;
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(paths); i++) {
		get(f, paths[i], &r);
		assert_problem(&r, 500, "internal", paths[i]);
		reply_free(&r);
	}
}

/* ================================================================ Basic credentials */

/* "Basic " + base64 of plain, into out. */
static void basic_of(const char *plain, char *out, size_t size)
{
	char *b = NULL;
	size_t n;

	assert_int_equal(tsr_base64_encode((const uint8_t *)plain, strlen(plain), 0, &b, &n), 0);
	snprintf(out, size, "Basic %s", b);
	free(b);
}

static void test_basic_parse(void **state)
{
	static const char *const refused[] = {
		"nocolon", ":password", "user:", ":", "us\x01er:pw", "user:pw\x7f", "user:p\tw",
	};
	char user[TSR_HTTP_BASIC_USER_MAX + 1], pw[TSR_HTTP_BASIC_PASSWORD_MAX + 1];
	char h[1024], long_user[TSR_HTTP_BASIC_USER_MAX + 8], long_pw[TSR_HTTP_BASIC_PASSWORD_MAX + 8];

	(void)state;
	basic_of("AB12-CD34:correct horse: battery", h, sizeof(h));
	assert_int_equal(tsr_http_basic(h, user, pw), 0);
	assert_string_equal(user, "AB12-CD34");
	assert_string_equal(pw, "correct horse: battery");   /* split at the first colon */
	/* The scheme in any case; UTF-8 passwords pass through. */
	basic_of("code:p\xc3\xa4ssw\xc3\xb6rd", h, sizeof(h));
	memcpy(h, "bAsIc", 5);
	assert_int_equal(tsr_http_basic(h, user, pw), 0);
	assert_string_equal(pw, "p\xc3\xa4ssw\xc3\xb6rd");

	for (size_t i = 0; i < TSR_ARRAY_LEN(refused); i++) {
		basic_of(refused[i], h, sizeof(h));
		if (tsr_http_basic(h, user, pw) != TSR_ERR_AUTH)
			fail_msg("'%s' was accepted", refused[i]);
		assert_string_equal(user, "");
		assert_string_equal(pw, "");
	}
	assert_int_equal(tsr_http_basic(NULL, user, pw), TSR_ERR_AUTH);
	assert_int_equal(tsr_http_basic("Bearer abc", user, pw), TSR_ERR_AUTH);
	assert_int_equal(tsr_http_basic("Basic", user, pw), TSR_ERR_AUTH);
	assert_int_equal(tsr_http_basic("Basic  dTpw", user, pw), TSR_ERR_AUTH);    /* two spaces */
	assert_int_equal(tsr_http_basic("Basic dTpw=", user, pw), TSR_ERR_AUTH);    /* padding */
	assert_int_equal(tsr_http_basic("Basic dTp3", user, pw), 0);                /* "u:w" */
	assert_int_equal(tsr_http_basic("Basic dTp3 ", user, pw), TSR_ERR_AUTH);
	assert_int_equal(tsr_http_basic("Basic dTp-", user, pw), TSR_ERR_AUTH);     /* base64url */
	/* The detail never quotes the credentials. */
	basic_of("AB12-CD34:hunter2", h, sizeof(h));
	h[strlen(h) - 1] = '!';
	assert_int_equal(tsr_http_basic(h, user, pw), TSR_ERR_AUTH);
	assert_null(strstr(tsr_error_detail(), h + 6));
	/* Limits: 128 bytes of user-id, 256 of password. */
	memset(long_user, 'u', TSR_HTTP_BASIC_USER_MAX);
	snprintf(long_user + TSR_HTTP_BASIC_USER_MAX, 8, ":pw");
	basic_of(long_user, h, sizeof(h));
	assert_int_equal(tsr_http_basic(h, user, pw), 0);
	memset(long_user, 'u', TSR_HTTP_BASIC_USER_MAX + 1);
	snprintf(long_user + TSR_HTTP_BASIC_USER_MAX + 1, 7, ":pw");
	basic_of(long_user, h, sizeof(h));
	assert_int_equal(tsr_http_basic(h, user, pw), TSR_ERR_AUTH);
	long_pw[0] = 'u';
	long_pw[1] = ':';
	memset(long_pw + 2, 'p', TSR_HTTP_BASIC_PASSWORD_MAX + 1);
	long_pw[TSR_HTTP_BASIC_PASSWORD_MAX + 3] = '\0';
	basic_of(long_pw, h, sizeof(h));
	assert_int_equal(tsr_http_basic(h, user, pw), TSR_ERR_AUTH);
	long_pw[TSR_HTTP_BASIC_PASSWORD_MAX + 2] = '\0';
	basic_of(long_pw, h, sizeof(h));
	assert_int_equal(tsr_http_basic(h, user, pw), 0);
	assert_int_equal(strlen(pw), TSR_HTTP_BASIC_PASSWORD_MAX);
}

static void test_serve_basic_route(void **state)
{
	struct fixture *f = *state;
	char good[256], bad[] = "Authorization: Basic !!!!";
	const char *const with_good[] = { good, NULL };
	const char *const with_bad[] = { bad, NULL };
	const char *const with_bearer[] = { "Authorization: Bearer good-token", NULL };
	struct call c = { .method = "POST", .path = "/api/v1/basic",
		.content_type = "application/x-test", .body = "csr" };
	struct call bearer_route = { .method = "POST", .path = "/api/v1/private",
		.content_type = "application/json", .body = "{\"text\":\"hi\"}" };
	struct reply r;

	/* No credentials: refused on the headers, with the route's challenge. */
	request(f, &c, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/basic");
	assert_header(&r, "WWW-Authenticate", "Basic realm=\"test\"");
	reply_free(&r);
	c.headers = with_bearer;
	request(f, &c, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/basic");
	assert_header(&r, "WWW-Authenticate", "Basic realm=\"test\"");
	reply_free(&r);

	basic_of("AB12-CD34:correct horse", good + 15, sizeof(good) - 15);
	memcpy(good, "Authorization: ", 15);
	c.headers = with_good;
	request(f, &c, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "user")), "AB12-CD34");
	assert_int_equal(json_integer_value(json_object_get(r.json, "password_length")), 13);
	assert_int_equal(json_integer_value(json_object_get(r.json, "body_length")), 3);
	assert_false(has_header(&r, "WWW-Authenticate"));
	reply_free(&r);

	/* The handler's own refusal of the credentials carries the challenge too. */
	c.headers = with_bad;
	request(f, &c, &r);
	assert_problem(&r, 401, "auth", "/api/v1/basic");
	assert_header(&r, "WWW-Authenticate", "Basic realm=\"test\"");
	reply_free(&r);

	/* A route without a challenge sends none. */
	request(f, &bearer_route, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/private");
	assert_false(has_header(&r, "WWW-Authenticate"));
	reply_free(&r);
}

static void test_serve_header_once(void **state)
{
	struct fixture *f = *state;
	const char *const once[] = { "X-Test: one", NULL };
	const char *const twice[] = { "X-Test: one", "x-test: two", NULL };
	struct call c = { .method = "GET", .path = "/api/v1/header" };
	struct reply r;

	request(f, &c, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_null(json_object_get(r.json, "value")));
	reply_free(&r);
	c.headers = once;
	request(f, &c, &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "value")), "one");
	reply_free(&r);
	c.headers = twice;
	request(f, &c, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/header");
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "X-Test"));
	reply_free(&r);
}

/* Two Content-Types or two Authorization headers: which one counts would
 * be a guess, so neither does. */
static void test_serve_duplicate_headers(void **state)
{
	struct fixture *f = *state;
	const char *const types[] = { "Content-Type: application/json", NULL };
	const char *const auths[] = { "Authorization: Bearer good-token",
		"Authorization: Bearer other", NULL };
	struct call two_types = { .method = "POST", .path = "/api/v1/raw",
		.content_type = "application/x-test", .body = "abc", .headers = types };
	struct call two_auths = { .method = "POST", .path = "/api/v1/private",
		.content_type = "application/json", .body = "{\"text\":\"hi\"}", .headers = auths };
	struct reply r;

	request(f, &two_types, &r);
	assert_problem(&r, 400, "parse", "/api/v1/raw");
	reply_free(&r);
	request(f, &two_auths, &r);
	assert_problem(&r, 400, "parse", "/api/v1/private");
	reply_free(&r);
}

/* ================================================================ client certificates */

/* The SHA-256 (hex) of the DER of the certificate in a PEM file. */
static void cert_sha256(const char *path, char hex[65])
{
	FILE *fp = fopen(path, "r");
	X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32];
	int n = x ? i2d_X509(x, &der) : -1;

	assert_true(n > 0);
	EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
	tsr_hex_encode(md, sizeof(md), hex);
	OPENSSL_free(der);
	X509_free(x);
	fclose(fp);
}

/* GET /api/v1/peer on port with the given client certificate: what the
 * handler saw. */
static void peer(const struct fixture *f, unsigned port, const char *cert, const char *key,
    bool *seen, char hex[65])
{
	struct call c = { .method = "GET", .path = "/api/v1/peer", .cert = cert, .key = key,
		.port = port };
	struct reply r;

	request(f, &c, &r);
	if (r.rc != CURLE_OK)
		fail_msg("GET /api/v1/peer with %s: %s", cert ? cert : "no certificate",
		    curl_easy_strerror(r.rc));
	assert_int_equal(r.status, 200);
	*seen = json_is_true(json_object_get(r.json, "cert"));
	snprintf(hex, 65, "%s", json_string_value(json_object_get(r.json, "sha256")));
	reply_free(&r);
}

static void test_serve_client_certificates(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	char want[65], got[65];
	unsigned port;
	bool seen;
	struct reply r;

	config_for(f, &c);
	c.trust_pem_path = f->ca;
	if (tsr_http_server_start(&c, &f->app, &srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	port = tsr_http_server_port(srv);

	/* Asked for, never required: clients without one are served as before. */
	peer(f, port, NULL, NULL, &seen, got);
	assert_false(seen);
	assert_string_equal(got, "");
	{
		struct call health = { .method = "GET", .path = "/api/v1/health", .port = port };

		request(f, &health, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	/* One of the trusted CA's reaches the handler, exactly. */
	cert_sha256(f->client, want);
	peer(f, port, f->client, f->client_key, &seen, got);
	assert_true(seen);
	assert_string_equal(got, want);
	/* One of another CA does not (the connection still works). */
	peer(f, port, f->foreign, f->foreign_key, &seen, got);
	assert_false(seen);
	/* An expired one of the trusted CA does: its validity is the handler's to
	 * judge (the ra layer says "expired" rather than "no certificate"). */
	cert_sha256(f->expired, want);
	peer(f, port, f->expired, f->expired_key, &seen, got);
	assert_true(seen);
	assert_string_equal(got, want);
	tsr_http_server_stop(srv);

	/* A server without trust asks for none and hands over none. */
	peer(f, f->port, f->client, f->client_key, &seen, got);
	assert_false(seen);
}

static void test_start_trust_refusals(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	char missing[128];

	config_for(f, &c);
	snprintf(missing, sizeof(missing), "%s/no-such-ca.pem", f->dir);
	c.trust_pem_path = missing;
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_NOT_FOUND);
	assert_null(srv);
	c.trust_pem_path = f->key;          /* a key, not a certificate */
	assert_int_equal(tsr_http_server_start(&c, &f->app, &srv), TSR_ERR_CRYPTO);
	assert_non_null(strstr(tsr_error_detail(), "no PEM CA certificate"));
	assert_null(srv);
}

/* ================================================================ EST parsing */

/* A DER PKCS#10 for a new P-256 key (new buffer, OPENSSL_free()). */
static uint8_t *csr_der(size_t *len)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int n;

	X509_REQ_set_version(req, 0);
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
	    (const unsigned char *)"Not Used", -1, -1, 0);
	X509_REQ_set_pubkey(req, pk);
	assert_true(X509_REQ_sign(req, pk, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return der;
}

static int est_csr_of(const char *text, size_t n, uint8_t **der, size_t *len)
{
	return tsr_http_est_csr((const uint8_t *)text, n, der, len);
}

static void test_est_csr(void **state)
{
	static const size_t lines[] = { 0, 64, 76 };
	size_t len, b64_len, got_len;
	uint8_t *der = csr_der(&len), *got = NULL;
	char *b64 = NULL, *pem_b64 = NULL, *big;

	(void)state;
	/* base64 in lines (as `openssl base64` and `base64` write it) or in one. */
	for (size_t i = 0; i < TSR_ARRAY_LEN(lines); i++) {
		assert_int_equal(tsr_base64_encode(der, len, lines[i], &b64, &b64_len), 0);
		if (est_csr_of(b64, b64_len, &got, &got_len) != 0)
			fail_msg("lines of %zu: %s", lines[i], tsr_error_detail());
		assert_int_equal(got_len, len);
		assert_memory_equal(got, der, len);
		free(got);
		free(b64);
	}
	assert_int_equal(est_csr_of("", 0, &got, &got_len), TSR_ERR_PARSE);
	assert_int_equal(est_csr_of("MIIB!", 5, &got, &got_len), TSR_ERR_PARSE);
	assert_int_equal(est_csr_of("aGVsbG8=", 8, &got, &got_len), TSR_ERR_PARSE);
	assert_null(got);
	/* PEM, or base64 of PEM, is not what EST sends. */
	assert_int_equal(tsr_base64_encode((const uint8_t *)"-----BEGIN CERTIFICATE REQUEST-----\n",
	    36, 0, &pem_b64, &b64_len), 0);
	assert_int_equal(est_csr_of(pem_b64, b64_len, &got, &got_len), TSR_ERR_PARSE);
	free(pem_b64);
	/* A signature that does not verify: proof of possession fails. */
	der[len - 1] ^= 0x01;
	assert_int_equal(tsr_base64_encode(der, len, 64, &b64, &b64_len), 0);
	assert_int_not_equal(est_csr_of(b64, b64_len, &got, &got_len), 0);
	assert_null(got);
	free(b64);
	/* Over the CSR cap. */
	big = malloc(TSR_CSR_MAX / 3 * 4 + 8);
	assert_non_null(big);
	memset(big, 'A', TSR_CSR_MAX / 3 * 4 + 8);
	big[0] = 'M';
	assert_int_equal(est_csr_of(big, TSR_CSR_MAX / 3 * 4 + 8, &got, &got_len),
	    TSR_ERR_TOO_LARGE);
	free(big);
	OPENSSL_free(der);
}

static void test_est_csrattrs(void **state)
{
	static const struct {
		enum tsr_key_type t;
		const char *hex;
	} want[] = {
		/* SEQUENCE { SEQUENCE { id-ecPublicKey, SET { prime256v1 } },
		 * ecdsa-with-SHA256 } */
		{ TSR_KEY_EC_P256, "30213015" "06072a8648ce3d0201" "310a" "06082a8648ce3d030107"
		    "06082a8648ce3d040302" },
		{ TSR_KEY_EC_P384, "301e3012" "06072a8648ce3d0201" "3107" "06052b81040022"
		    "06082a8648ce3d040303" },
		/* SEQUENCE { SEQUENCE { rsaEncryption, SET { INTEGER 2048 } },
		 * sha256WithRSAEncryption } */
		{ TSR_KEY_RSA_2048, "301e3011" "06092a864886f70d010101" "3104" "02020800"
		    "06092a864886f70d01010b" },
		{ TSR_KEY_RSA_3072, "301e3011" "06092a864886f70d010101" "3104" "02020c00"
		    "06092a864886f70d01010b" },
		{ TSR_KEY_RSA_4096, "301e3011" "06092a864886f70d010101" "3104" "02021000"
		    "06092a864886f70d01010c" },
	};
	uint8_t *der = NULL;
	size_t len = 0;
	char hex[128];

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(want); i++) {
		assert_int_equal(tsr_http_est_csrattrs(want[i].t, &der, &len), 0);
		assert_true(2 * len < sizeof(hex));
		tsr_hex_encode(der, len, hex);
		assert_string_equal(hex, want[i].hex);
		free(der);
	}
	assert_int_equal(tsr_http_est_csrattrs(TSR_KEY_NONE, &der, &len), TSR_ERR_INTERNAL);
	assert_null(der);
}

static void test_est_claims(void **state)
{
	char v[70];

	(void)state;
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", NULL), 0);
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", "YK-0001"), 0);
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Model", "SoftHSM v2"), 0);
	memset(v, 'a', 64);
	v[64] = '\0';
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", v), 0);
	v[64] = 'a';
	v[65] = '\0';
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", v), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "X-Tessera-Token-Serial"));
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", ""), TSR_ERR_INVALID);
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", "YK\x7f"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_http_est_claim_check("X-Tessera-Token-Serial", "Y\xc3\xa9"),
	    TSR_ERR_INVALID);
}

/* The EST routes in the default table, on a server without the workflow:
 * every refusal that needs no store answers as it would with one. */
static void test_serve_est_refusals(void **state)
{
	struct fixture *f = *state;
	struct tsr_http_app app = { .cfg = &f->cfg };
	struct tsr_http_server *srv = NULL;
	struct tsr_http_config c;
	char auth[256], long_serial[128], *b64 = NULL;
	uint8_t *der;
	size_t len, b64_len;
	const char *const basic[] = { auth, NULL };
	const char *const serial[] = { auth, long_serial, NULL };
	struct call enroll = { .method = "POST", .path = "/.well-known/est/simpleenroll",
		.content_type = "application/pkcs10", .body = "MIIB" };
	struct call reenroll = enroll, attrs = { .method = "GET",
		.path = "/.well-known/est/csrattrs" };
	struct call test = { .method = "POST", .path = "/api/v1/test-my-cert",
		.content_type = "application/json" };
	struct reply r;

	config_for(f, &c);
	c.access_log_path = NULL;
	if (tsr_http_server_start(&c, &app, &srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	enroll.port = reenroll.port = attrs.port = test.port = tsr_http_server_port(srv);
	memcpy(auth, "Authorization: ", 15);
	basic_of("AB12-CD34-EF56-GH78-IJ90:correct horse", auth + 15, sizeof(auth) - 15);

	request(f, &attrs, &r);
	assert_int_equal(r.status, 204);        /* no credentials, nothing to ask */
	assert_int_equal(r.body.len, 0);
	reply_free(&r);

	request(f, &enroll, &r);
	assert_problem(&r, 401, "unauthenticated", "/.well-known/est/simpleenroll");
	assert_header(&r, "WWW-Authenticate", "Basic realm=\"tessera\", charset=\"UTF-8\"");
	reply_free(&r);
	enroll.headers = basic;
	enroll.content_type = "application/json";
	request(f, &enroll, &r);
	assert_problem(&r, 415, "unsupported-media-type", "/.well-known/est/simpleenroll");
	reply_free(&r);
	enroll.content_type = "application/pkcs10";
	request(f, &enroll, &r);
	assert_problem(&r, 400, "parse", "/.well-known/est/simpleenroll");
	reply_free(&r);
	/* A well-formed request with a claim over 64 characters. */
	der = csr_der(&len);
	assert_int_equal(tsr_base64_encode(der, len, 64, &b64, &b64_len), 0);
	snprintf(long_serial, sizeof(long_serial), "X-Tessera-Token-Serial: %065d", 7);
	enroll.body = b64;
	enroll.headers = serial;
	request(f, &enroll, &r);
	assert_problem(&r, 400, "invalid", "/.well-known/est/simpleenroll");
	reply_free(&r);

	/* Renewal needs a client certificate; it has no Basic challenge. */
	reenroll.path = "/.well-known/est/simplereenroll";
	reenroll.body = b64;
	request(f, &reenroll, &r);
	assert_problem(&r, 401, "auth", "/.well-known/est/simplereenroll");
	assert_false(has_header(&r, "WWW-Authenticate"));
	reply_free(&r);

	test.body = "{\"nonce\":\"abc\",\"certificate\":\"x\",\"signature\":\"not base64!\"}";
	request(f, &test, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/test-my-cert");
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")),
	    "/signature"));
	reply_free(&r);
	test.body = "{\"nonce\":\"abc\",\"certificate\":\"x\"}";
	request(f, &test, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/test-my-cert");
	reply_free(&r);
	tsr_http_server_stop(srv);
	free(b64);
	OPENSSL_free(der);
}

/* ================================================================ pages and browser sessions */

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/hmac.h>

#include "ra/admin.h"
#include "ra/app.h"

static void test_cookie_parse(void **state)
{
	char v[16];

	(void)state;
	assert_int_equal(tsr_http_cookie(NULL, "tsr_session", v, sizeof(v)), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_cookie("tsr_session=abc", "tsr_session", v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(tsr_http_cookie("a=1; tsr_session=def; b=2", "tsr_session", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "def");
	/* Other cookies' syntax is not ours to judge. */
	assert_int_equal(tsr_http_cookie("junk; =; \"x\"=y;;tsr_session=ghi ;", "tsr_session", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "ghi");
	assert_int_equal(tsr_http_cookie("tsr_session=", "tsr_session", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	/* Names match exactly, case included. */
	assert_int_equal(tsr_http_cookie("xtsr_session=1; tsr_session_x=2; TSR_SESSION=3; "
	    "tsr_session =4", "tsr_session", v, sizeof(v)), TSR_ERR_NOT_FOUND);
	/* Twice is refused, naming the cookie and never a value. */
	assert_int_equal(tsr_http_cookie("tsr_session=secret1; tsr_session=secret2",
	    "tsr_session", v, sizeof(v)), TSR_ERR_INVALID);
	assert_string_equal(v, "");
	assert_non_null(strstr(tsr_error_detail(), "tsr_session"));
	assert_null(strstr(tsr_error_detail(), "secret"));
	assert_int_equal(tsr_http_cookie("tsr_session=0123456789abcdef", "tsr_session", v,
	    sizeof(v)), TSR_ERR_TOO_LARGE);
	assert_null(strstr(tsr_error_detail(), "0123"));
	/* The refusal of a cookie session without its CSRF token. */
	{
		int status = 0;
		json_t *doc = tsr_problem_from_refusal(TSR_HTTP_CSRF, "d", "/p", &status);

		assert_int_equal(status, 403);
		assert_string_equal(json_string_value(json_object_get(doc, "type")),
		    TSR_PROBLEM_TYPE_BASE "csrf");
		json_decref(doc);
	}
}

static void test_asset_names(void **state)
{
	static const struct {
		const char *name, *type;
	} good[] = {
		{ "app.js", "text/javascript; charset=utf-8" },
		{ "site.css", "text/css; charset=utf-8" },
		{ "logo.svg", "image/svg+xml" },
		{ "icon-2_x.png", "image/png" },
		{ "favicon.ico", "image/vnd.microsoft.icon" },
		{ "Inter.v4.woff2", "font/woff2" },
	};
	static const char *const bad[] = {
		"", ".", "..", ".hidden.js", "-rf.js", "a/b.js", "a\\b.js", "a b.js", "app.JS",
		"app.html", "app.exe", "app", "app.js.map", "app.js%00", "x\n.js",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.js",
	};
	const char *type;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(good); i++) {
		assert_true(tsr_http_asset_name(good[i].name, &type));
		assert_string_equal(type, good[i].type);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		if (tsr_http_asset_name(bad[i], &type))
			fail_msg("asset name '%s' accepted", bad[i]);
}

static void test_web_routes(void **state)
{
	size_t n, n_api, n_all;
	const struct tsr_http_route *web = tsr_http_web_routes(&n);
	const struct tsr_http_route *all = tsr_http_all_routes(&n_all);
	struct tsr_http_match m;

	(void)state;
	(void)tsr_http_api_routes(&n_api);
	/* The API's table, then the pages: the OpenAPI document stays the API's. */
	assert_int_equal(n_all, n_api + n);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(all[n_api + i].handler, web[i].handler);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/", &m), 0);
	assert_string_equal(m.route->pattern, "/");
	assert_int_equal(tsr_http_route_find(web, n, "HEAD", "/ra/", &m), 0);
	assert_string_equal(m.route->pattern, "/ra/");
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/assets/app.js", &m), 0);
	assert_string_equal(m.params[0].value, "app.js");
	/* No trailing-slash or empty-segment equivalences. */
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/ra", &m), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "//", &m), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/apply/", &m), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/ra//", &m), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/index.html", &m), TSR_ERR_NOT_FOUND);
	/* A '/' in an asset's name, however encoded, is no asset. */
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/assets/..%2f..%2fetc%2fpasswd", &m),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "GET", "/assets/a/b.js", &m),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_http_route_find(web, n, "POST", "/", &m), TSR_ERR_NOT_FOUND);
	assert_string_equal(m.allow, "GET, HEAD");
	/* The OpenAPI document describes the browser's session too, and no page. */
	{
		json_t *doc = tsr_http_openapi(all, n_api);
		json_t *cookie = json_object_get(json_object_get(json_object_get(doc,
		    "components"), "securitySchemes"), "cookie");

		assert_string_equal(json_string_value(json_object_get(cookie, "in")), "cookie");
		assert_string_equal(json_string_value(json_object_get(cookie, "name")),
		    "tsr_session");
		assert_null(json_object_get(json_object_get(doc, "paths"), "/"));
		assert_null(json_object_get(json_object_get(doc, "paths"), "/assets/{file}"));
		json_decref(doc);
	}
}

/* A session token and its CSRF value as the test's cookie check knows them. */
#define WEB_TOKEN "tokentokentokentokentokentokentokentoken-_1"
#define WEB_TOKEN_DOWN "downdowndowndowndowndowndowndowndowndown-_1"
#define WEB_CSRF "csrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrf-_1"
#define WEB_CSRF_WRONG "csrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrfcsrf-_2"

static int web_cookie(struct tsr_http_app *app, const char *token, char *actor, size_t size,
    char csrf[TSR_HTTP_CSRF_CHARS + 1])
{
	(void)app;
	if (strcmp(token, WEB_TOKEN_DOWN) == 0)
		return tsr_error(TSR_ERR_STORE, "database is locked");
	if (strcmp(token, WEB_TOKEN) != 0)
		return tsr_error(TSR_ERR_AUTH, "no such session");
	snprintf(actor, size, "applicant:AP-1");
	snprintf(csrf, TSR_HTTP_CSRF_CHARS + 1, "%s", WEB_CSRF);
	return 0;
}

/* Who asked, and whether by the cookie (with its token handed over). */
static int h_me(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	res->json = json_pack("{s:s, s:b, s:b}", "actor", req->actor ? req->actor : "",
	    "cookie", req->session_cookie != NULL && strcmp(req->session_cookie, WEB_TOKEN) == 0,
	    "authorization", req->authorization != NULL);
	return res->json ? 0 : TSR_ERR_NOMEM;
}

static const struct tsr_json_field me_schema[] = {
	{ .name = "x", .type = TSR_JSON_STRING, .max_len = 8 },
	{ .name = NULL },
};

static struct tsr_http_route web_served[128];
static size_t n_web_served;

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	fclose(fp);
}

static void make_web_root(const struct fixture *f)
{
	char web[128], path[256], target[256];
	FILE *fp;

	snprintf(web, sizeof(web), "%s/web", f->dir);
	snprintf(path, sizeof(path), "%s/outside", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(path, "secret.html", "outside secret");
	write_file(path, "index.html", "outside index");
	assert_int_equal(mkdir(web, 0700), 0);
	snprintf(path, sizeof(path), "%s/assets", web);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/ra", web);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(web, "index.html", "<!doctype html><title>Tessera</title>");
	write_file(web, "apply.html", "<!doctype html><title>Apply</title>");
	write_file(web, "ra/index.html", "<!doctype html><title>RA</title>");
	write_file(web, "assets/app.js", "export const x = 1;\n");
	write_file(web, "assets/site.css", "body { margin: 0; }\n");
	write_file(web, "assets/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
	write_file(web, "assets/icon.png", "\x89PNG\r\n");
	write_file(web, "assets/.hidden.js", "hidden");
	/* Links out of the web root, to a file and to a directory's file. */
	snprintf(target, sizeof(target), "%s/outside/secret.html", f->dir);
	snprintf(path, sizeof(path), "%s/verify.html", web);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/assets/link.js", web);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/assets/passwd.css", web);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	/* Not regular files: a directory and a FIFO (which must not hang us). */
	snprintf(path, sizeof(path), "%s/assets/dir.css", web);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/test.html", web);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* One byte over the limit. */
	snprintf(path, sizeof(path), "%s/assets/big.js", web);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i <= TSR_HTTP_WEB_FILE_MAX; i++)
		fputc('/', fp);
	fclose(fp);
}

static int web_teardown(void **state)
{
	struct fixture *f = *state;

	tsr_http_server_stop(f->srv);
	assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	free(f);
	return 0;
}

static int web_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static const struct tsr_http_route extra[] = {
		ROUTE("GET", "/api/v1/me", h_me, TSR_HTTP_AUTH, NULL, "me", NULL, 0),
		ROUTE("POST", "/api/v1/me", h_me, TSR_HTTP_AUTH, me_schema, "me", NULL, 0),
		ROUTE("DELETE", "/api/v1/me", h_me, TSR_HTTP_AUTH, NULL, "me", NULL, 0),
	};
	static char web[128];
	struct tsr_http_config c;
	size_t n;
	const struct tsr_http_route *all = tsr_http_all_routes(&n);

	strcpy(f->dir, "/tmp/tessera-test-web-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->other_key, sizeof(f->other_key), "%s/other.pem", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/access.log", f->dir);
	make_cert(f);
	make_web_root(f);
	snprintf(web, sizeof(web), "%s/web", f->dir);
	assert_true(n + TSR_ARRAY_LEN(extra) <= TSR_ARRAY_LEN(web_served));
	memcpy(web_served, all, n * sizeof(*all));
	memcpy(web_served + n, extra, sizeof(extra));
	n_web_served = n + TSR_ARRAY_LEN(extra);
	f->app.authenticate = authenticate;
	f->app.authenticate_cookie = web_cookie;
	f->app.web_root = web;
	f->app.routes = web_served;
	f->app.n_routes = n_web_served;
	config_for(f, &c);
	if (tsr_http_server_start(&c, &f->app, &f->srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	f->port = tsr_http_server_port(f->srv);
	*state = f;
	return 0;
}

/* The value of the k-th header name in r (0 first), or NULL. */
static const char *nth_header(const struct reply *r, const char *name, int k, char *out,
    size_t size)
{
	const char *h = (const char *)r->headers.data;
	size_t n = strlen(name);

	for (const char *line = h; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\r\n");

		if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':' && k-- == 0) {
			const char *v = line + n + 1 + strspn(line + n + 1, " ");

			snprintf(out, size, "%.*s", (int)(line + len - v), v);
			return out;
		}
	}
	return NULL;
}

static void assert_page_headers(const struct reply *r, const char *type)
{
	char v[512];

	assert_header(r, "Content-Type", type);
	assert_header(r, "Content-Security-Policy", "default-src 'none'; script-src 'self'; "
	    "style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	/* One policy, not the API's as well (browsers would apply both). */
	assert_null(nth_header(r, "Content-Security-Policy", 1, v, sizeof(v)));
	assert_header(r, "X-Frame-Options", "DENY");
	assert_header(r, "Strict-Transport-Security", "max-age=31536000");
	assert_header(r, "Referrer-Policy", "no-referrer");
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Cache-Control", "no-store");
}

static void test_web_pages(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *path, *body;
	} pages[] = {
		{ "/", "<!doctype html><title>Tessera</title>" },
		{ "/apply", "<!doctype html><title>Apply</title>" },
		{ "/ra/", "<!doctype html><title>RA</title>" },
		{ "/apply?id=AP-7", "<!doctype html><title>Apply</title>" },
	};
	struct call head = { .method = "HEAD", .path = "/apply" };
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(pages); i++) {
		get(f, pages[i].path, &r);
		if (r.status != 200)
			fail_msg("%s: %ld", pages[i].path, r.status);
		assert_page_headers(&r, "text/html; charset=utf-8");
		assert_string_equal((const char *)r.body.data, pages[i].body);
		reply_free(&r);
	}
	/* HEAD: the headers and the length, no body. */
	request(f, &head, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_page_headers(&r, "text/html; charset=utf-8");
	{
		char len[16];

		snprintf(len, sizeof(len), "%zu", strlen(pages[1].body));
		assert_header(&r, "Content-Length", len);
	}
	assert_int_equal(r.body.len, 0);
	reply_free(&r);
	/* The API keeps its own headers. */
	get(f, "/api/v1/health", &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_false(has_header(&r, "X-Frame-Options"));
	reply_free(&r);
}

static void test_web_assets(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *path, *type, *body;
	} assets[] = {
		{ "/assets/app.js", "text/javascript; charset=utf-8", "export const x = 1;\n" },
		{ "/assets/site.css", "text/css; charset=utf-8", "body { margin: 0; }\n" },
		{ "/assets/logo.svg", "image/svg+xml",
		    "<svg xmlns=\"http://www.w3.org/2000/svg\"/>" },
		{ "/assets/icon.png", "image/png", "\x89PNG\r\n" },
	};
	struct call head = { .method = "HEAD", .path = "/assets/app.js" };
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(assets); i++) {
		get(f, assets[i].path, &r);
		if (r.status != 200)
			fail_msg("%s: %ld", assets[i].path, r.status);
		assert_page_headers(&r, assets[i].type);
		assert_string_equal((const char *)r.body.data, assets[i].body);
		reply_free(&r);
	}
	request(f, &head, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Length", "20");
	assert_int_equal(r.body.len, 0);
	reply_free(&r);
}

static void test_web_refusals(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *path;
		long status;
		const char *name;
	} cases[] = {
		/* Traversal, however spelled, and hidden files. */
		{ "/assets/..%2f..%2fetc%2fpasswd", 404, "not-found" },
		{ "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd", 404, "not-found" },
		{ "/assets/%2e%2e", 404, "not-found" },
		{ "/assets/.hidden.js", 404, "not-found" },
		{ "/assets/%2ehidden.js", 404, "not-found" },
		{ "/assets/app.js%00.css", 404, "not-found" },
		{ "/assets/app.js/", 404, "not-found" },
		{ "/assets/", 404, "not-found" },
		{ "/web/index.html", 404, "not-found" },
		{ "/index.html", 404, "not-found" },
		{ "/ra", 404, "not-found" },
		/* Symbolic links out of the web root. */
		{ "/assets/link.js", 404, "not-found" },
		{ "/assets/passwd.css", 404, "not-found" },
		{ "/verify", 404, "not-found" },
		/* Not regular files, missing files, types we do not serve. */
		{ "/assets/dir.css", 404, "not-found" },
		{ "/test", 404, "not-found" },
		{ "/retrieve", 404, "not-found" },
		{ "/assets/none.js", 404, "not-found" },
		{ "/assets/app.exe", 404, "not-found" },
		/* Too big: the operator's problem, logged. */
		{ "/assets/big.js", 500, "config" },
		/* Query names a page does not take. */
		{ "/apply?code=123456", 400, "invalid" },
	};
	struct call post = { .method = "POST", .path = "/", .content_type = "application/json",
		.body = "{}" };
	char instance[128];
	struct reply r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		get(f, cases[i].path, &r);
		snprintf(instance, sizeof(instance), "%.*s", (int)strcspn(cases[i].path, "?"),
		    cases[i].path);
		if (r.status != cases[i].status)
			fail_msg("%s: %ld, wanted %ld", cases[i].path, r.status, cases[i].status);
		assert_problem(&r, cases[i].status, cases[i].name, instance);
		assert_null(strstr((const char *)r.body.data, "secret"));
		assert_null(strstr((const char *)r.body.data, "root:"));
		assert_null(strstr((const char *)r.body.data, f->dir));
		reply_free(&r);
	}
	request(f, &post, &r);
	assert_problem(&r, 405, "method-not-allowed", "/");
	assert_header(&r, "Allow", "GET, HEAD");
	reply_free(&r);
}

/* A web root that is a link to another, or whose directory below is one. */
static void test_web_root_links(void **state)
{
	struct fixture *f = *state;
	char ra[256], moved[256], outside[256], link_root[256];
	const char *saved = f->app.web_root;
	struct reply r;

	snprintf(ra, sizeof(ra), "%s/web/ra", f->dir);
	snprintf(moved, sizeof(moved), "%s/web/ra-real", f->dir);
	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	assert_int_equal(rename(ra, moved), 0);
	assert_int_equal(symlink(outside, ra), 0);
	get(f, "/ra/", &r);
	assert_problem(&r, 404, "not-found", "/ra/");
	assert_null(strstr((const char *)r.body.data, "outside index"));
	reply_free(&r);
	assert_int_equal(unlink(ra), 0);
	assert_int_equal(rename(moved, ra), 0);
	/* The root itself is the operator's to choose: a link there is followed. */
	snprintf(link_root, sizeof(link_root), "%s/web-link", f->dir);
	snprintf(moved, sizeof(moved), "%s/web", f->dir);
	assert_int_equal(symlink(moved, link_root), 0);
	f->app.web_root = link_root;
	get(f, "/", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* No web root: no pages. */
	f->app.web_root = NULL;
	get(f, "/", &r);
	assert_problem(&r, 404, "not-found", "/");
	reply_free(&r);
	/* A root that does not exist: the operator's problem, logged. */
	f->app.web_root = "/nonexistent/tessera-web";
	get(f, "/", &r);
	assert_problem(&r, 500, "io", "/");
	assert_null(strstr((const char *)r.body.data, "nonexistent"));
	reply_free(&r);
	f->app.web_root = saved;
}

/* A call with extra headers; returns the reply's status. */
static long web_call(const struct fixture *f, const char *method, const char *path,
    const char *const *headers, struct reply *r)
{
	struct call c = { .method = method, .path = path, .headers = headers };

	if (strcmp(method, "POST") == 0) {
		c.content_type = "application/json";
		c.body = "{\"x\":\"y\"}";
	}
	request(f, &c, r);
	if (r->rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(r->rc));
	return r->status;
}

static void assert_me(const struct reply *r, bool cookie, bool authorization)
{
	if (r->status != 200)
		fail_msg("status %ld: %s", r->status, (const char *)r->body.data);
	assert_non_null(r->json);
	assert_string_equal(json_string_value(json_object_get(r->json, "actor")),
	    cookie ? "applicant:AP-1" : "officer:alice");
	assert_true(json_is_true(json_object_get(r->json, "cookie")) == cookie);
	assert_true(json_is_true(json_object_get(r->json, "authorization")) == authorization);
}

static void test_web_cookie_session(void **state)
{
	struct fixture *f = *state;
	const char *const good[] = { "Cookie: tsr_session=" WEB_TOKEN, NULL };
	const char *const among[] = { "Cookie: theme=dark; tsr_csrf=" WEB_CSRF "; tsr_session="
	    WEB_TOKEN "; other=\"quoted\"", NULL };
	const char *const unknown[] = { "Cookie: tsr_session=" WEB_CSRF, NULL };
	const char *const shorter[] = { "Cookie: tsr_session=abc", NULL };
	const char *const quoted[] = { "Cookie: tsr_session=\"" WEB_TOKEN "\"", NULL };
	const char *const twice[] = { "Cookie: tsr_session=" WEB_TOKEN "; tsr_session="
	    WEB_CSRF, NULL };
	const char *const two_headers[] = { "Cookie: tsr_session=" WEB_TOKEN, "Cookie: a=b",
		NULL };
	const char *const down[] = { "Cookie: tsr_session=" WEB_TOKEN_DOWN, NULL };
	const char *const other_name[] = { "Cookie: session=" WEB_TOKEN, NULL };
	struct reply r;

	/* GET and HEAD need no CSRF token. */
	web_call(f, "GET", "/api/v1/me", good, &r);
	assert_me(&r, true, false);
	reply_free(&r);
	assert_int_equal(web_call(f, "HEAD", "/api/v1/me", good, &r), 200);
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", among, &r);
	assert_me(&r, true, false);
	reply_free(&r);
	/* Unknown, malformed or no session: 401. */
	web_call(f, "GET", "/api/v1/me", unknown, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/me");
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", shorter, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/me");
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", quoted, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/me");
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", other_name, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/me");
	reply_free(&r);
	/* Which of two would count is not guessed. */
	web_call(f, "GET", "/api/v1/me", twice, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/me");
	assert_null(strstr((const char *)r.body.data, WEB_TOKEN));
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", two_headers, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/me");
	reply_free(&r);
	/* A session that cannot be checked is that error, not a 401. */
	web_call(f, "GET", "/api/v1/me", down, &r);
	assert_problem(&r, 503, "store", "/api/v1/me");
	reply_free(&r);
	/* Pages need no session, and ignore a bad cookie. */
	web_call(f, "GET", "/", twice, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_web_csrf(void **state)
{
	struct fixture *f = *state;
	const char *const none[] = { "Cookie: tsr_session=" WEB_TOKEN, NULL };
	const char *const wrong[] = { "Cookie: tsr_session=" WEB_TOKEN,
		"X-CSRF-Token: " WEB_CSRF_WRONG, NULL };
	const char *const shorter[] = { "Cookie: tsr_session=" WEB_TOKEN,
		"X-CSRF-Token: csrfcsrf", NULL };
	const char *const longer[] = { "Cookie: tsr_session=" WEB_TOKEN,
		"X-CSRF-Token: " WEB_CSRF "x", NULL };
	const char *const empty[] = { "Cookie: tsr_session=" WEB_TOKEN, "X-CSRF-Token;", NULL };
	const char *const twice[] = { "Cookie: tsr_session=" WEB_TOKEN,
		"X-CSRF-Token: " WEB_CSRF, "X-CSRF-Token: " WEB_CSRF, NULL };
	/* The CSRF cookie is no substitute for the header. */
	const char *const as_cookie[] = { "Cookie: tsr_session=" WEB_TOKEN "; tsr_csrf=" WEB_CSRF,
		NULL };
	const char *const right[] = { "Cookie: tsr_session=" WEB_TOKEN,
		"X-CSRF-Token: " WEB_CSRF, NULL };
	const char *const *refused[] = { none, wrong, shorter, longer, empty, twice, as_cookie };
	const char *const methods[] = { "POST", "DELETE" };
	struct reply r;

	for (size_t m = 0; m < TSR_ARRAY_LEN(methods); m++) {
		for (size_t i = 0; i < TSR_ARRAY_LEN(refused); i++) {
			web_call(f, methods[m], "/api/v1/me", refused[i], &r);
			if (r.status != 403)
				fail_msg("%s case %zu: %ld", methods[m], i, r.status);
			assert_problem(&r, 403, "csrf", "/api/v1/me");
			assert_null(strstr((const char *)r.body.data, WEB_CSRF));
			reply_free(&r);
		}
		web_call(f, methods[m], "/api/v1/me", right, &r);
		assert_me(&r, true, false);
		reply_free(&r);
	}
}

static void test_web_bearer_unchanged(void **state)
{
	struct fixture *f = *state;
	const char *const bearer[] = { "Authorization: Bearer good-token", NULL };
	/* The Authorization header counts, not the cookie (and needs no CSRF). */
	const char *const both[] = { "Authorization: Bearer good-token",
		"Cookie: tsr_session=" WEB_CSRF "; tsr_session=" WEB_TOKEN, NULL };
	const char *const bad_bearer[] = { "Authorization: Bearer bad-token",
		"Cookie: tsr_session=" WEB_TOKEN, "X-CSRF-Token: " WEB_CSRF, NULL };
	struct reply r;
	char *log;

	web_call(f, "POST", "/api/v1/me", bearer, &r);
	assert_me(&r, false, true);
	reply_free(&r);
	web_call(f, "DELETE", "/api/v1/me", both, &r);
	assert_me(&r, false, true);
	reply_free(&r);
	web_call(f, "GET", "/api/v1/me", bad_bearer, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/me");
	reply_free(&r);
	/* Neither cookies nor CSRF values reach the access log. */
	log = read_log(f);
	assert_non_null(strstr(log, "path=/api/v1/me"));
	assert_null(strstr(log, WEB_TOKEN));
	assert_null(strstr(log, WEB_CSRF));
	assert_null(strstr(log, "tokentoken"));
	free(log);
}

/* ---------------------------------------------------------------- with the real workflow */

#define WEB_OFFICER_PW "quiet harbour lantern 7"

struct web_ra {
	struct fixture f;
	char home[96];
	struct tsr_ca *ca;
	struct tsr_ra *ra;
};

/* cmd_serve.c's checks of a bearer token and of a session cookie. */
static int ra_bearer(struct tsr_http_app *app, const char *authorization, char *actor,
    size_t size)
{
	char token[TSR_HTTP_BEARER_CHARS + 1];
	struct tsr_store *st = NULL;
	int r;

	if ((r = tsr_http_bearer(authorization, token)) != 0)
		return r;
	if ((r = tsr_ra_store_acquire(app->ctx, &st)) == 0) {
		r = tsr_ra_session_check(app->ctx, st, token, actor, size);
		tsr_ra_store_release(app->ctx, st);
	}
	tsr_wipe(token, sizeof(token));
	return r;
}

static int ra_cookie(struct tsr_http_app *app, const char *token, char *actor, size_t size,
    char csrf[TSR_HTTP_CSRF_CHARS + 1])
{
	struct tsr_store *st = NULL;
	int r;

	if ((r = tsr_ra_store_acquire(app->ctx, &st)) != 0)
		return r;
	r = tsr_ra_session_check(app->ctx, st, token, actor, size);
	tsr_ra_store_release(app->ctx, st);
	return r == 0 ? tsr_ra_session_csrf(app->ctx, token, csrf) : r;
}

static int web_ra_setup(void **state)
{
	struct web_ra *w = calloc(1, sizeof(*w));
	struct fixture *f = &w->f;
	struct tsr_init_options o;
	struct tsr_password_list *list = NULL;
	struct tsr_store *st = NULL;
	struct tsr_http_config c;

	if (w == NULL || getenv("SOFTHSM_MODULE") == NULL)
		return -1;
	tsr_secret_set_cost(true);
	strcpy(f->dir, "/tmp/tessera-test-webra-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->other_key, sizeof(f->other_key), "%s/other.pem", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/access.log", f->dir);
	snprintf(w->home, sizeof(w->home), "%s/ca", f->dir);
	make_cert(f);
	tsr_init_options_default(&o);
	o.home = w->home;
	o.key_type = TSR_KEY_EC_P256;
	o.softhsm_module = getenv("SOFTHSM_MODULE");
	if (tsr_ca_init(&o, "test") != 0 || tsr_ca_open(w->home, &w->ca) != 0 ||
	    tsr_ra_open(w->ca, &w->ra) != 0 || tsr_ra_store_acquire(w->ra, &st) != 0 ||
	    tsr_password_list_builtin(&list) != 0 ||
	    tsr_ra_user_add(st, list, "test", "alice", "Alice", NULL, "ra-officer",
	    WEB_OFFICER_PW) != 0)
		fail_msg("setup: %s", tsr_error_detail());
	tsr_password_list_free(list);
	tsr_ra_store_release(w->ra, st);
	f->app.cfg = tsr_ca_config(w->ca);
	f->app.ctx = w->ra;
	f->app.authenticate = ra_bearer;
	f->app.authenticate_cookie = ra_cookie;
	config_for(f, &c);
	if (tsr_http_server_start(&c, &f->app, &f->srv) != 0)
		fail_msg("start: %s", tsr_error_detail());
	f->port = tsr_http_server_port(f->srv);
	*state = w;
	return 0;
}

static int web_ra_teardown(void **state)
{
	struct web_ra *w = *state;

	tsr_http_server_stop(w->f.srv);
	tsr_ra_close(w->ra);
	tsr_ca_close(w->ca);
	assert_int_equal(tsr_dir_remove_tree(w->f.dir), 0);
	free(w);
	return 0;
}

/* base64url without padding of HMAC-SHA-256(home's code key, "csrf:" token),
 * computed here on its own. */
static void expected_csrf(const char *home, const char *token, char out[64])
{
	char path[160], msg[64], b64[64];
	uint8_t key[32], mac[32];
	unsigned mac_len = 0;
	size_t o = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/codes.key", home);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(key, 1, sizeof(key), fp), sizeof(key));
	fclose(fp);
	snprintf(msg, sizeof(msg), "csrf:%s", token);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), (const uint8_t *)msg, strlen(msg),
	    mac, &mac_len));
	assert_int_equal(mac_len, 32);
	EVP_EncodeBlock((unsigned char *)b64, mac, 32);
	for (size_t i = 0; b64[i] != '\0' && b64[i] != '='; i++)
		out[o++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[o] = '\0';
}

/* The value of cookie name set by r's k-th Set-Cookie, and its attributes. */
static void set_cookie(const struct reply *r, int k, const char *name, char *value,
    size_t size, char *attrs, size_t asize)
{
	char v[512];
	size_t n = strlen(name), vlen;

	if (nth_header(r, "Set-Cookie", k, v, sizeof(v)) == NULL)
		fail_msg("no Set-Cookie %d in:\n%s", k, (const char *)r->headers.data);
	assert_true(strncmp(v, name, n) == 0 && v[n] == '=');
	vlen = strcspn(v + n + 1, ";");
	snprintf(value, size, "%.*s", (int)vlen, v + n + 1);
	snprintf(attrs, asize, "%s", v + n + 1 + vlen);
}

static void test_web_sessions_real(void **state)
{
	struct web_ra *w = *state;
	struct fixture *f = &w->f;
	struct call login = { .method = "POST", .path = "/api/v1/sessions",
		.content_type = "application/json",
		.body = "{\"user\":\"alice\",\"password\":\"" WEB_OFFICER_PW
		    "\",\"cookie\":true}" };
	char token[64], csrf[64], want[64], attrs[128], v[512];
	char cookie[128], csrf_header[128], wrong_header[128];
	const char *hdrs[4] = { cookie, NULL, NULL, NULL };
	struct reply r;

	/* Sign in for a browser: the cookies, and the CSRF value in the body. */
	request(f, &login, &r);
	if (r.status != 201)
		fail_msg("sign-in: %ld %s", r.status, (const char *)r.body.data);
	set_cookie(&r, 0, "tsr_session", token, sizeof(token), attrs, sizeof(attrs));
	assert_int_equal(strlen(token), 43);
	assert_string_equal(attrs, "; Path=/; Secure; HttpOnly; SameSite=Strict");
	set_cookie(&r, 1, "tsr_csrf", csrf, sizeof(csrf), attrs, sizeof(attrs));
	assert_string_equal(attrs, "; Path=/; Secure; SameSite=Strict");
	assert_null(nth_header(&r, "Set-Cookie", 2, v, sizeof(v)));
	expected_csrf(w->home, token, want);
	assert_string_equal(csrf, want);
	assert_string_equal(json_string_value(json_object_get(r.json, "csrf")), csrf);
	assert_null(json_object_get(r.json, "token"));
	assert_non_null(json_string_value(json_object_get(r.json, "expires_at")));
	assert_null(strstr((const char *)r.body.data, token));
	reply_free(&r);
	snprintf(cookie, sizeof(cookie), "Cookie: tsr_session=%s; tsr_csrf=%s", token, csrf);
	snprintf(csrf_header, sizeof(csrf_header), "X-CSRF-Token: %s", csrf);
	snprintf(wrong_header, sizeof(wrong_header), "X-CSRF-Token: %s", token);

	/* The cookie signs GETs in. */
	assert_int_equal(web_call(f, "GET", "/api/v1/ra/applications", hdrs, &r), 200);
	reply_free(&r);
	/* Sign-out is a DELETE: without the CSRF header, or with a wrong one, 403
	 * and the session lives on. */
	web_call(f, "DELETE", "/api/v1/sessions/current", hdrs, &r);
	assert_problem(&r, 403, "csrf", "/api/v1/sessions/current");
	assert_false(has_header(&r, "Set-Cookie"));
	reply_free(&r);
	hdrs[1] = wrong_header;
	web_call(f, "DELETE", "/api/v1/sessions/current", hdrs, &r);
	assert_problem(&r, 403, "csrf", "/api/v1/sessions/current");
	reply_free(&r);
	hdrs[1] = NULL;
	assert_int_equal(web_call(f, "GET", "/api/v1/ra/applications", hdrs, &r), 200);
	reply_free(&r);
	/* With it: the session ends and both cookies are cleared. */
	hdrs[1] = csrf_header;
	assert_int_equal(web_call(f, "DELETE", "/api/v1/sessions/current", hdrs, &r), 200);
	assert_true(json_is_true(json_object_get(r.json, "ended")));
	assert_non_null(nth_header(&r, "Set-Cookie", 0, v, sizeof(v)));
	assert_string_equal(v, "tsr_session=; Max-Age=0; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict");
	assert_non_null(nth_header(&r, "Set-Cookie", 1, v, sizeof(v)));
	assert_string_equal(v, "tsr_csrf=; Max-Age=0; Path=/; Secure; SameSite=Strict");
	reply_free(&r);
	hdrs[1] = NULL;
	web_call(f, "GET", "/api/v1/ra/applications", hdrs, &r);
	assert_problem(&r, 401, "unauthenticated", "/api/v1/ra/applications");
	reply_free(&r);

	/* Bearer clients as before: a token in the body, no cookies. */
	login.body = "{\"user\":\"alice\",\"password\":\"" WEB_OFFICER_PW "\"}";
	request(f, &login, &r);
	assert_int_equal(r.status, 201);
	assert_false(has_header(&r, "Set-Cookie"));
	assert_null(json_object_get(r.json, "csrf"));
	snprintf(cookie, sizeof(cookie), "Authorization: Bearer %s",
	    json_string_value(json_object_get(r.json, "token")));
	reply_free(&r);
	assert_int_equal(web_call(f, "GET", "/api/v1/ra/applications", hdrs, &r), 200);
	reply_free(&r);
	assert_int_equal(web_call(f, "DELETE", "/api/v1/sessions/current", hdrs, &r), 200);
	reply_free(&r);
	assert_int_equal(web_call(f, "GET", "/api/v1/ra/applications", hdrs, &r), 401);
	reply_free(&r);
	login.body = "{\"user\":\"alice\",\"password\":\"" WEB_OFFICER_PW "\",\"cookie\":\"yes\"}";
	request(f, &login, &r);
	assert_problem(&r, 400, "invalid", "/api/v1/sessions");
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_good),
		cmocka_unit_test(test_json_counts_characters),
		cmocka_unit_test(test_json_refusals),
		cmocka_unit_test(test_json_error_quotes_nothing),
		cmocka_unit_test(test_json_depth_limit_is_exact),
		cmocka_unit_test(test_json_schema_openapi),
		cmocka_unit_test(test_json_encode),
		cmocka_unit_test(test_route_exact),
		cmocka_unit_test(test_route_captures),
		cmocka_unit_test(test_route_prefix),
		cmocka_unit_test(test_route_methods),
		cmocka_unit_test(test_problem_from_error),
		cmocka_unit_test(test_problem_from_refusal),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_refusals),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_openapi_matches_routes),
		cmocka_unit_test_setup_teardown(test_serve_health, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_health_database, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_products, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_one_product, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_openapi, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_method_not_allowed, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_json_body, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_media_type, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_body_limits, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_authentication, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_authentication_details, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_query, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_query_after_authentication, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_created, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_keep_alive, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_server_errors_hide_detail, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_header_limit, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_tls_versions, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_access_log, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_stop_drains, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_start_refusals, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_jansson_wipes, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_ipv6_client, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_ipv6_default_routes, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_raw_body, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_raw_refusals, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_no_content, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_handler_bugs, server_setup,
		    server_teardown),
		cmocka_unit_test(test_basic_parse),
		cmocka_unit_test_setup_teardown(test_serve_basic_route, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_header_once, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_duplicate_headers, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_serve_client_certificates, server_setup,
		    server_teardown),
		cmocka_unit_test_setup_teardown(test_start_trust_refusals, server_setup,
		    server_teardown),
		cmocka_unit_test(test_est_csr),
		cmocka_unit_test(test_est_csrattrs),
		cmocka_unit_test(test_est_claims),
		cmocka_unit_test_setup_teardown(test_serve_est_refusals, server_setup,
		    server_teardown),
		cmocka_unit_test(test_cookie_parse),
		cmocka_unit_test(test_asset_names),
		cmocka_unit_test(test_web_routes),
		cmocka_unit_test_setup_teardown(test_web_pages, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_assets, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_refusals, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_root_links, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_cookie_session, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_csrf, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_bearer_unchanged, web_setup, web_teardown),
		cmocka_unit_test_setup_teardown(test_web_sessions_real, web_ra_setup,
		    web_ra_teardown),
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
