/*
 * fuzz_json.c - the strict JSON reader against a nested schema shaped like
 * an application: objects in objects, an array of objects, an array of
 * strings, integers with a range, booleans, free text.
 *
 * Rejection is the expected outcome for garbage.  A crash, a leak, or an
 * accepted document that breaks the schema's promises is a bug; so is an
 * accepted document that, encoded by us, reads back differently.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tsr_json_field address[] = {
	{ .name = "street", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 100 },
	{ .name = "city", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = "country", .type = TSR_JSON_STRING, .min_len = 2, .max_len = 2 },
	{ .name = NULL },
};

static const struct tsr_json_field applicant[] = {
	{ .name = "name", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = "date_of_birth", .type = TSR_JSON_STRING, .required = true, .min_len = 10,
	    .max_len = 10 },
	{ .name = "email", .type = TSR_JSON_STRING, .required = true, .min_len = 3, .max_len = 254 },
	{ .name = "address", .type = TSR_JSON_OBJECT, .fields = address },
	{ .name = NULL },
};

static const struct tsr_json_field qa[] = {
	{ .name = "question", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 200 },
	{ .name = "answer", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 200 },
	{ .name = NULL },
};

static const struct tsr_json_field qa_item = { .name = "qa", .type = TSR_JSON_OBJECT,
	.fields = qa };
static const struct tsr_json_field tag_item = { .name = "tag", .type = TSR_JSON_STRING,
	.min_len = 1, .max_len = 16 };

static const struct tsr_json_field schema[] = {
	{ .name = "product", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = "applicant", .type = TSR_JSON_OBJECT, .required = true, .fields = applicant },
	{ .name = "questions", .type = TSR_JSON_ARRAY, .required = true, .min_len = 3, .max_len = 5,
	    .item = &qa_item },
	{ .name = "agree", .type = TSR_JSON_BOOL, .required = true },
	{ .name = "years", .type = TSR_JSON_INT, .min = 0, .max = 120 },
	{ .name = "tags", .type = TSR_JSON_ARRAY, .max_len = 4, .item = &tag_item },
	{ .name = "note", .type = TSR_JSON_STRING, .max_len = 500, .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

/* Re-check what the reader promised, independently of it. */
static void check(const json_t *obj, const struct tsr_json_field *fields)
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
		if (f->type == TSR_JSON_OBJECT)
			check(v, f->fields);
		else if (f->type == TSR_JSON_INT &&
		    (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max))
			__builtin_trap();
		else if (f->type == TSR_JSON_STRING &&
		    (!json_is_string(v) || json_string_length(v) > 4 * f->max_len ||
		    memchr(json_string_value(v), 0, json_string_length(v)) != NULL))
			__builtin_trap();
		else if (f->type == TSR_JSON_ARRAY && (!json_is_array(v) ||
		    json_array_size(v) < f->min_len || json_array_size(v) > f->max_len))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL, *again = NULL;
	char *text = NULL;
	size_t len;

	if (tsr_json_read(data, size, schema, &doc) != 0) {
		if (doc != NULL)
			__builtin_trap();
		return 0;
	}
	check(doc, schema);
	/* What we accept, we can write, and read back as the same document. */
	if (tsr_json_encode(doc, &text, &len) != 0 ||
	    tsr_json_read(text, len, schema, &again) != 0 || !json_equal(doc, again))
		__builtin_trap();
	free(text);
	json_decref(again);
	json_decref(doc);
	return 0;
}
