/*
 * json.c - strict JSON in, through a schema; JSON out only through
 * jansson's encoder.
 *
 * A request body is untrusted: its depth is bounded before jansson builds
 * anything, jansson refuses duplicate keys and NUL characters, and then the
 * schema walk refuses anything the schema does not describe.  A handler
 * that receives a checked body can rely on every field having its type.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "ra/secret.h"   /* tsr_utf8_next() */

/* A JSON pointer (RFC 6901) to the value being checked, for details. */
struct jptr {
	char s[256];
	size_t len;
};

/* Append "/<segment>", escaping '~' and '/', showing only printable ASCII
 * (a key is client input echoed back; it may be anything).  Truncates. */
static size_t jptr_push(struct jptr *p, const char *seg)
{
	size_t old = p->len, shown = 0;

	if (p->len + 1 < sizeof(p->s))
		p->s[p->len++] = '/';
	for (const char *c = seg; *c != '\0' && shown < 64; c++, shown++) {
		const char *esc = *c == '~' ? "~0" : *c == '/' ? "~1" : NULL;
		char one[2] = { (*c >= 0x20 && *c < 0x7f) ? *c : '?', '\0' };
		const char *add = esc ? esc : one;
		size_t n = strlen(add);

		if (p->len + n >= sizeof(p->s))
			break;
		memcpy(p->s + p->len, add, n);
		p->len += n;
	}
	p->s[p->len] = '\0';
	return old;
}

static void jptr_pop(struct jptr *p, size_t old)
{
	p->len = old;
	p->s[old] = '\0';
}

static const char *jptr_str(const struct jptr *p)
{
	return p->len ? p->s : "/";
}

/*
 * Bound the nesting before jansson allocates anything (jansson's own limit
 * is 2048).  Brackets inside strings do not count; text that is not JSON is
 * left for jansson to refuse.
 */
static int check_depth(const char *p, size_t n)
{
	bool in_string = false, escaped = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > TSR_JSON_MAX_DEPTH)
				return tsr_error(TSR_ERR_INVALID, "JSON nested deeper than %d levels",
				    TSR_JSON_MAX_DEPTH);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

/* jansson's own message quotes the text near the error, which may be part
 * of a password: say what kind of error it was and where, nothing more. */
static int parse_error(const json_error_t *e)
{
	const char *what;

	switch (json_error_code(e)) {
	case json_error_duplicate_key: what = "duplicate key"; break;
	case json_error_null_character:
	case json_error_null_byte_in_key: what = "NUL character"; break;
	case json_error_invalid_utf8: what = "invalid UTF-8"; break;
	case json_error_premature_end_of_input: what = "unexpected end of input"; break;
	case json_error_end_of_input_expected: what = "data after the JSON value"; break;
	case json_error_numeric_overflow: what = "number out of range"; break;
	case json_error_out_of_memory: return tsr_error(TSR_ERR_NOMEM, "out of memory");
	default: what = "invalid syntax"; break;
	}
	return tsr_error(TSR_ERR_PARSE, "malformed JSON: %s at line %d, column %d", what,
	    e->line, e->column);
}

/*
 * Check a string's length in characters and its characters.  jansson has
 * already checked it is valid UTF-8, so lead bytes can be counted.  C0 and
 * C1 controls and DEL are refused: they have no business in a name or an
 * address and could split a log line or a mail header later.
 */
static int check_string(const json_t *v, const struct tsr_json_field *f, const struct jptr *p)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t n = json_string_length(v), chars = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];

		if ((c & 0xc0) != 0x80)
			chars++;
		if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			c = s[i + 1];   /* U+0080..U+009F */
		else if (c >= 0x80)
			continue;
		if ((f->flags & TSR_JSON_MULTILINE) && (c == '\n' || c == '\t'))
			continue;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return tsr_error(TSR_ERR_INVALID, "%s: control characters are not allowed",
			    jptr_str(p));
	}
	if (chars < f->min_len)
		return tsr_error(TSR_ERR_INVALID, "%s: must have at least %zu characters",
		    jptr_str(p), f->min_len);
	if (chars > f->max_len)
		return tsr_error(TSR_ERR_INVALID, "%s: must have at most %zu characters",
		    jptr_str(p), f->max_len);
	return 0;
}

static int check_object(const json_t *obj, const struct tsr_json_field *schema, struct jptr *p);

static int check_array(const json_t *v, const struct tsr_json_field *f, struct jptr *p);

static int check_value(const json_t *v, const struct tsr_json_field *f, struct jptr *p)
{
	static const char *const expected[] = {
		[TSR_JSON_STRING] = "a string", [TSR_JSON_INT] = "an integer",
		[TSR_JSON_BOOL] = "true or false", [TSR_JSON_OBJECT] = "an object",
		[TSR_JSON_ARRAY] = "an array",
	};
	bool ok;

	if ((f->type == TSR_JSON_OBJECT && f->fields == NULL) ||
	    (f->type == TSR_JSON_ARRAY && f->item == NULL))
		return tsr_error(TSR_ERR_INTERNAL, "%s: schema without members", jptr_str(p));
	switch (f->type) {
	case TSR_JSON_STRING: ok = json_is_string(v); break;
	case TSR_JSON_INT: ok = json_is_integer(v); break;
	case TSR_JSON_BOOL: ok = json_is_boolean(v); break;
	case TSR_JSON_OBJECT: ok = json_is_object(v); break;
	case TSR_JSON_ARRAY: ok = json_is_array(v); break;
	default: return tsr_error(TSR_ERR_INTERNAL, "%s: bad schema type", jptr_str(p));
	}
	if (!ok)
		return tsr_error(TSR_ERR_INVALID, "%s: expected %s", jptr_str(p), expected[f->type]);
	switch (f->type) {
	case TSR_JSON_STRING:
		return check_string(v, f, p);
	case TSR_JSON_INT:
		if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
			return tsr_error(TSR_ERR_INVALID, "%s: must be between %lld and %lld",
			    jptr_str(p), f->min, f->max);
		return 0;
	case TSR_JSON_OBJECT:
		return check_object(v, f->fields, p);
	case TSR_JSON_ARRAY:
		return check_array(v, f, p);
	default:
		return 0;
	}
}

static int check_array(const json_t *v, const struct tsr_json_field *f, struct jptr *p)
{
	size_t n = json_array_size(v);
	int r;

	if (n < f->min_len || n > f->max_len)
		return tsr_error(TSR_ERR_INVALID, "%s: must have %zu to %zu items", jptr_str(p),
		    f->min_len, f->max_len);
	for (size_t i = 0; i < n; i++) {
		char idx[24];
		size_t old;

		snprintf(idx, sizeof(idx), "%zu", i);
		old = jptr_push(p, idx);
		r = check_value(json_array_get(v, i), f->item, p);
		if (r != 0)
			return r;
		jptr_pop(p, old);
	}
	return 0;
}

static const struct tsr_json_field *field_of(const struct tsr_json_field *schema,
    const char *name)
{
	for (const struct tsr_json_field *f = schema; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Keys first (in document order, which jansson keeps), then what is missing. */
static int check_object(const json_t *obj, const struct tsr_json_field *schema, struct jptr *p)
{
	const char *key;
	json_t *v;
	size_t old;
	int r;

	json_object_foreach((json_t *)obj, key, v) {
		const struct tsr_json_field *f = field_of(schema, key);

		old = jptr_push(p, key);
		if (f == NULL)
			return tsr_error(TSR_ERR_INVALID, "%s: unknown field", jptr_str(p));
		if ((r = check_value(v, f, p)) != 0)
			return r;
		jptr_pop(p, old);
	}
	for (const struct tsr_json_field *f = schema; f->name != NULL; f++) {
		if (!f->required || json_object_get(obj, f->name) != NULL)
			continue;
		jptr_push(p, f->name);
		return tsr_error(TSR_ERR_INVALID, "%s: required field missing", jptr_str(p));
	}
	return 0;
}

int tsr_json_read(const void *text, size_t len, const struct tsr_json_field *schema,
    json_t **out)
{
	struct jptr p = { .len = 0 };
	json_error_t e;
	json_t *root;
	int r;

	*out = NULL;
	if ((r = check_depth(text, len)) != 0)
		return r;
	/* No JSON_DECODE_ANY: a bare scalar is a parse error.  No
	 * JSON_ALLOW_NUL: "\u0000" in a string is refused. */
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return parse_error(&e);
	if (!json_is_object(root)) {
		json_decref(root);
		return tsr_error(TSR_ERR_INVALID, "/: expected an object");
	}
	if ((r = check_object(root, schema, &p)) != 0) {
		json_decref(root);
		return r;
	}
	*out = root;
	return 0;
}

/* ------------------------------------------------------------------ OpenAPI */

static json_t *field_openapi(const struct tsr_json_field *f)
{
	switch (f->type) {
	case TSR_JSON_STRING:
		return json_pack("{s:s, s:I, s:I}", "type", "string", "minLength",
		    (json_int_t)f->min_len, "maxLength", (json_int_t)f->max_len);
	case TSR_JSON_INT:
		return json_pack("{s:s, s:s, s:I, s:I}", "type", "integer", "format", "int64",
		    "minimum", (json_int_t)f->min, "maximum", (json_int_t)f->max);
	case TSR_JSON_BOOL:
		return json_pack("{s:s}", "type", "boolean");
	case TSR_JSON_OBJECT:
		return tsr_json_schema_openapi(f->fields);
	case TSR_JSON_ARRAY:
		if (f->item == NULL)
			return NULL;
		return json_pack("{s:s, s:I, s:I, s:o}", "type", "array", "minItems",
		    (json_int_t)f->min_len, "maxItems", (json_int_t)f->max_len, "items",
		    field_openapi(f->item));
	default:
		return NULL;
	}
}

json_t *tsr_json_schema_openapi(const struct tsr_json_field *schema)
{
	json_t *props = json_object(), *required = json_array();

	if (schema == NULL || props == NULL || required == NULL)
		goto fail;
	for (const struct tsr_json_field *f = schema; f->name != NULL; f++) {
		json_t *sub = field_openapi(f);

		if (sub == NULL || json_object_set_new(props, f->name, sub) != 0)
			goto fail;
		if (f->required && json_array_append_new(required, json_string(f->name)) != 0)
			goto fail;
	}
	/* OpenAPI 3.0 refuses an empty "required" array. */
	if (json_array_size(required) == 0) {
		json_decref(required);
		required = NULL;
	}
	return json_pack("{s:s, s:b, s:o, s:o*}", "type", "object", "additionalProperties", 0,
	    "properties", props, "required", required);
fail:
	json_decref(props);
	json_decref(required);
	return NULL;
}

/* ------------------------------------------------------------------ JSON out */

int tsr_json_encode(const json_t *v, char **out, size_t *len)
{
	/* ASCII only: the bytes mean the same whatever charset a client
	 * assumes. */
	*out = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (*out == NULL)
		return tsr_error(json_is_object(v) || json_is_array(v) ? TSR_ERR_NOMEM :
		    TSR_ERR_INTERNAL, "cannot encode JSON");
	*len = strlen(*out);
	return 0;
}

/* ------------------------------------------------------------------ answers */

char *tsr_utf8_repaired(const char *s)
{
	size_t n = strlen(s), i = 0, at;
	char *copy = strdup(s);
	uint32_t cp;

	while (copy != NULL && i < n) {
		at = i;
		if (tsr_utf8_next(copy, n, &i, &cp) != 0) {
			copy[at] = '?';
			i = at + 1;
		}
	}
	return copy;
}

json_t *tsr_json_text(const char *s)
{
	json_t *v;
	char *copy;

	if (s == NULL)
		return json_string("");
	if ((v = json_string(s)) != NULL || (copy = tsr_utf8_repaired(s)) == NULL)
		return v;
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *tsr_json_time(int64_t t)
{
	char s[21];

	tsr_time_format((time_t)t, s);
	return json_string(s);
}

int tsr_json_set(json_t *obj, const char *key, json_t *v)
{
	if (v != NULL && json_object_set_new(obj, key, v) == 0)
		return 0;
	return tsr_error(TSR_ERR_NOMEM, "out of memory");
}
