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

static const struct tsr_http_route test_routes[] = {
	{ "GET", "/api/v1/products", h_ok, 0, NULL, "list", NULL, NULL, 0 },
	{ "GET", "/api/v1/products/{name}", h_ok, 0, NULL, "one", NULL, NULL, 0 },
	{ "POST", "/api/v1/applications", h_ok, 0, NULL, "apply", NULL, NULL, 201 },
	{ "GET", "/api/v1/applications/{id}/documents/{doc}", h_ok, 0, NULL, "doc", NULL, NULL, 0 },
	{ "DELETE", "/api/v1/applications/{id}/documents/{doc}", h_ok, 0, NULL, "drop", NULL,
	    NULL, 0 },
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
		 * every authenticated one. */
		assert_true((json_object_get(op, "requestBody") != NULL) == (routes[i].body != NULL));
		assert_true((json_object_get(op, "security") != NULL) ==
		    ((routes[i].flags & TSR_HTTP_AUTH) != 0));
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
	/* One table: the API's own routes and every workflow route. */
	{
		size_t n_ra;
		const struct tsr_http_route *ra = tsr_http_ra_routes(&n_ra);

		assert_true(n_ra >= 17);
		assert_int_equal(n, 4 + n_ra);
		for (size_t i = 0; i < n_ra; i++)
			assert_ptr_equal(routes[4 + i].handler, ra[i].handler);
	}
	check_refs(doc, doc, &refs);
	assert_true(refs >= 2 * n);
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
		{ "POST", "/api/v1/echo", h_echo, 0, echo_schema, "echo", NULL, NULL, 0 },
		{ "POST", "/api/v1/private", h_private, TSR_HTTP_AUTH, private_schema, "private",
		    NULL, private_query, 0 },
		{ "GET", "/api/v1/slow", h_slow, 0, NULL, "slow", NULL, NULL, 0 },
		{ "GET", "/api/v1/broken", h_broken, 0, NULL, "broken", NULL, NULL, 0 },
		{ "GET", "/api/v1/whoami", h_whoami, 0, NULL, "who", NULL, whoami_query, 0 },
		{ "POST", "/api/v1/things", h_create, 0, echo_schema, "create", NULL, NULL, 201 },
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
	make_cert(f);
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
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", f->port, c->path);
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
	assert_string_equal((const char *)r.body.data, "{\"status\":\"ok\"}");
	reply_free(&r);

	request(f, &head, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_header(&r, "Content-Length", "15");
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
	assert_int_equal(json_object_size(json_object_get(r.json, "paths")), n_served);
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
		cmocka_unit_test(test_route_methods),
		cmocka_unit_test(test_problem_from_error),
		cmocka_unit_test(test_problem_from_refusal),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_refusals),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_openapi_matches_routes),
		cmocka_unit_test_setup_teardown(test_serve_health, server_setup, server_teardown),
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
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
