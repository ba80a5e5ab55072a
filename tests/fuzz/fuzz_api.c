/*
 * fuzz_api.c - the request parsers of the workflow API, with the schemas
 * and query lists the server really uses: a first byte of 0xff picks the
 * query parser with the review queue's parameter names (the rest is the
 * query string), any other one of the routing table's routes that take a
 * JSON body (the rest of the input is the body).
 *
 * Rejection is the expected outcome for garbage.  A crash, a leak, an
 * accepted body that breaks its schema's promises or does not read back
 * the same once encoded, or an accepted query with an unknown, repeated,
 * empty, oversized or control-character parameter, is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_ROUTES_MAX 32

static const struct tsr_http_route *body_routes[BODY_ROUTES_MAX];
static size_t n_body_routes;
#define QUERY_SELECTOR 0xff
static const char *const *queue_query;

static void collect(void)
{
	size_t n;
	const struct tsr_http_route *r = tsr_http_api_routes(&n);

	for (size_t i = 0; i < n; i++) {
		if (r[i].body != NULL && n_body_routes < BODY_ROUTES_MAX)
			body_routes[n_body_routes++] = &r[i];
		if (r[i].query != NULL && strcmp(r[i].pattern, "/api/v1/ra/applications") == 0)
			queue_query = r[i].query;
	}
	if (n_body_routes == 0 || queue_query == NULL)
		__builtin_trap();
}

static void check_value(const json_t *v, const struct tsr_json_field *f);

/* Re-check what the reader promised, independently of it. */
static void check_object(const json_t *obj, const struct tsr_json_field *fields)
{
	const struct tsr_json_field *f;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		__builtin_trap();
	for (f = fields; f->name != NULL; f++)
		if (f->required && json_object_get(obj, f->name) == NULL)
			__builtin_trap();
	json_object_foreach((json_t *)obj, key, v) {
		for (f = fields; f->name != NULL && strcmp(f->name, key) != 0; f++)
			;
		if (f->name == NULL)
			__builtin_trap();
		check_value(v, f);
	}
}

static void check_value(const json_t *v, const struct tsr_json_field *f)
{
	size_t i;
	json_t *item;

	switch (f->type) {
	case TSR_JSON_OBJECT:
		check_object(v, f->fields);
		break;
	case TSR_JSON_ARRAY:
		if (!json_is_array(v) || json_array_size(v) < f->min_len ||
		    json_array_size(v) > f->max_len)
			__builtin_trap();
		json_array_foreach(v, i, item)
			check_value(item, f->item);
		break;
	case TSR_JSON_STRING:
		/* Characters, at most 4 bytes each; never a NUL or a line break
		 * outside free text. */
		if (!json_is_string(v) || json_string_length(v) > 4 * f->max_len ||
		    memchr(json_string_value(v), 0, json_string_length(v)) != NULL ||
		    (!(f->flags & TSR_JSON_MULTILINE) &&
		    strpbrk(json_string_value(v), "\r\n") != NULL))
			__builtin_trap();
		break;
	case TSR_JSON_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max)
			__builtin_trap();
		break;
	case TSR_JSON_BOOL:
		if (!json_is_boolean(v))
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

static void body(const struct tsr_json_field *schema, const uint8_t *data, size_t size)
{
	json_t *doc = NULL, *again = NULL;
	char *text = NULL;
	size_t len;

	if (tsr_json_read(data, size, schema, &doc) != 0) {
		if (doc != NULL)
			__builtin_trap();
		return;
	}
	check_object(doc, schema);
	/* What we accept, we can write, and read back as the same document. */
	if (tsr_json_encode(doc, &text, &len) != 0 ||
	    tsr_json_read(text, len, schema, &again) != 0 || !json_equal(doc, again))
		__builtin_trap();
	free(text);
	json_decref(again);
	json_decref(doc);
}

static bool listed(const char *name)
{
	for (size_t i = 0; queue_query[i] != NULL; i++)
		if (strcmp(queue_query[i], name) == 0)
			return true;
	return false;
}

static void query(const uint8_t *data, size_t size)
{
	struct tsr_http_param q[TSR_HTTP_MAX_QUERY];
	char *text = malloc(size + 1);
	size_t n = 0;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tsr_http_query_parse(text, queue_query, q, &n) != 0) {
		if (n != 0)
			__builtin_trap();
		free(text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(q[i].value);

		if (!listed(q[i].name) || len == 0 || len > TSR_HTTP_PARAM_MAX)
			__builtin_trap();
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)q[i].value[k] < 0x20 || q[i].value[k] == 0x7f)
				__builtin_trap();
		for (size_t k = 0; k < i; k++)
			if (strcmp(q[k].name, q[i].name) == 0)
				__builtin_trap();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pick;

	if (n_body_routes == 0)
		collect();
	if (size == 0)
		return 0;
	/* 0xff selects the query parser, any other first byte a body schema:
	 * a route added to the table never moves the query seeds. */
	if (data[0] == QUERY_SELECTOR) {
		query(data + 1, size - 1);
		return 0;
	}
	pick = data[0] % n_body_routes;
	body(body_routes[pick]->body, data + 1, size - 1);
	return 0;
}
