/*
 * uri.c - PKCS#11 URIs (RFC 7512): the one parser for them, and the one
 * formatter.
 *
 * The parser follows the RFC's grammar closely and is stricter than it
 * needs to be where leniency would make a URI select something its author
 * did not mean:
 *  - an unknown path attribute is an error, not ignored: every path
 *    attribute narrows the selection, so dropping one we do not understand
 *    would widen it (RFC 7512 section 3.3 says such a URI matches nothing;
 *    an error naming the attribute is more useful than "no token found");
 *  - slot-description and slot-manufacturer are valid RFC attributes that
 *    we cannot honour (we select tokens, not slots), so they are refused for
 *    the same reason; the library-* attributes are accepted and ignored
 *    because the module is always named explicitly;
 *  - unknown query attributes (and module-name) are ignored, as the RFC
 *    asks, but must still be well formed;
 *  - every attribute may appear once, and pin-source and pin-value may not
 *    both be given (which PIN would win is not obvious).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkcs11/p11.h"

#define URI_MAX 4096
#define SCHEME "pkcs11:"

enum attr_kind {
	ATTR_STRING,      /* a NUL-free string stored at .offset */
	ATTR_SECRET,      /* the same, but wiped on free (pin-value) */
	ATTR_ID,          /* raw bytes into id[] */
	ATTR_SLOT_ID,     /* a decimal CK_SLOT_ID */
	ATTR_TYPE,        /* one of the RFC's object types */
	ATTR_PIN_SOURCE,  /* file: URI or path, reduced to the path */
	ATTR_IGNORE,      /* accepted and ignored */
	ATTR_REFUSE,      /* valid in RFC 7512, but we cannot honour it */
};

struct attr_def {
	const char *name;
	bool query;
	enum attr_kind kind;
	size_t offset;   /* of the char * field, for strings */
};

#define FIELD(f) offsetof(struct tsr_p11_uri, f)

static const struct attr_def attr_defs[] = {
	{ "token", false, ATTR_STRING, FIELD(token) },
	{ "manufacturer", false, ATTR_STRING, FIELD(manufacturer) },
	{ "model", false, ATTR_STRING, FIELD(model) },
	{ "serial", false, ATTR_STRING, FIELD(serial) },
	{ "slot-id", false, ATTR_SLOT_ID, 0 },
	{ "object", false, ATTR_STRING, FIELD(object) },
	{ "id", false, ATTR_ID, 0 },
	{ "type", false, ATTR_TYPE, FIELD(type) },
	{ "library-manufacturer", false, ATTR_IGNORE, 0 },
	{ "library-description", false, ATTR_IGNORE, 0 },
	{ "library-version", false, ATTR_IGNORE, 0 },
	{ "slot-description", false, ATTR_REFUSE, 0 },
	{ "slot-manufacturer", false, ATTR_REFUSE, 0 },
	{ "module-path", true, ATTR_STRING, FIELD(module_path) },
	{ "module-name", true, ATTR_IGNORE, 0 },
	{ "pin-source", true, ATTR_PIN_SOURCE, FIELD(pin_source) },
	{ "pin-value", true, ATTR_SECRET, FIELD(pin_value) },
};

/* parse_attr() remembers which attributes it has seen as bits of a uint32_t */
_Static_assert(TSR_ARRAY_LEN(attr_defs) <= 32, "too many attributes for the seen mask");

static const char *const object_types[] = { "public", "private", "cert", "secret-key", "data" };

/* A value being parsed: where it sits in the URI, for error details. */
struct value {
	const char *p;
	size_t n;
	size_t at;   /* offset of p within the URI */
	const struct attr_def *def;
};

/* ------------------------------------------------------------------ characters */
static bool is_unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* pk11-pchar / pk11-qchar without pct-encoded: what may appear literally. */
static bool is_value_char(char c, bool query)
{
	if (is_unreserved(c) || (c != '\0' && strchr(":[]@!$'()*+,=", c)))
		return true;
	if (query)
		return c == '/' || c == '?' || c == '|';
	return c == '&';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}


/* ------------------------------------------------------------------ values */
/*
 * Percent-decode v into out (at least v->n bytes).  NUL bytes are refused
 * unless allow_nul (CKA_ID is binary; every other value becomes a C string).
 */
static int decode(const struct value *v, bool allow_nul, uint8_t *out, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < v->n; i++) {
		char c = v->p[i];

		if (c != '%') {
			if (!is_value_char(c, v->def->query))
				return tsr_error(TSR_ERR_PARSE,
				    "PKCS#11 URI: character at offset %zu in the %s value must be "
				    "percent-encoded", v->at + i, v->def->name);
			out[o++] = (uint8_t)c;
			continue;
		}
		int hi = i + 2 < v->n ? tsr_hex_digit(v->p[i + 1]) : -1;
		int lo = hi >= 0 ? tsr_hex_digit(v->p[i + 2]) : -1;

		if (hi < 0 || lo < 0)
			return tsr_error(TSR_ERR_PARSE,
			    "PKCS#11 URI: bad percent-escape at offset %zu in the %s value (want "
			    "%%XX with two hex digits)", v->at + i, v->def->name);
		if (hi == 0 && lo == 0 && !allow_nul)
			return tsr_error(TSR_ERR_PARSE,
			    "PKCS#11 URI: the %s value contains a NUL byte (%%00)", v->def->name);
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*outlen = o;
	return 0;
}

/* Decode v into a new C string; a pin-value's scratch copy is wiped. */
static int decode_string(const struct value *v, char **out)
{
	size_t len;
	char *s = malloc(v->n + 1);
	int rc;

	if (s == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	rc = decode(v, false, (uint8_t *)s, &len);
	if (rc < 0) {
		tsr_wipe(s, v->n + 1);
		free(s);
		return rc;
	}
	s[len] = '\0';
	*out = s;
	return 0;
}

static int parse_id(const struct value *v, struct tsr_p11_uri *uri)
{
	uint8_t *tmp = malloc(v->n + 1);
	size_t len;
	int rc;

	if (tmp == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	rc = decode(v, true, tmp, &len);
	if (rc < 0)
		goto out;
	if (len > sizeof(uri->id)) {
		rc = tsr_error(TSR_ERR_TOO_LARGE,
		    "PKCS#11 URI: id is %zu bytes, at most %zu allowed", len, sizeof(uri->id));
		goto out;
	}
	memcpy(uri->id, tmp, len);
	uri->id_len = len;
out:
	free(tmp);
	return rc;
}

/* slot-id is 1*DIGIT (RFC 7512); we also refuse what a long cannot hold. */
static int parse_slot_id(const struct value *v, struct tsr_p11_uri *uri)
{
	long id = 0;

	if (v->n == 0)
		return tsr_error(TSR_ERR_PARSE, "PKCS#11 URI: slot-id is empty");
	for (size_t i = 0; i < v->n; i++) {
		char c = v->p[i];

		if (c < '0' || c > '9')
			return tsr_error(TSR_ERR_PARSE,
			    "PKCS#11 URI: slot-id must be a decimal number (offset %zu)",
			    v->at + i);
		if (id > (LONG_MAX - (c - '0')) / 10)
			return tsr_error(TSR_ERR_PARSE, "PKCS#11 URI: slot-id is too large");
		id = id * 10 + (c - '0');
	}
	uri->slot_id = id;
	return 0;
}

static int check_type(const char *type)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(object_types); i++)
		if (strcmp(type, object_types[i]) == 0)
			return 0;
	return tsr_error(TSR_ERR_PARSE,
	    "PKCS#11 URI: type must be public, private, cert, secret-key or data");
}

/*
 * pin-source names where the PIN is kept.  We only read files: "file:" URIs
 * (file:/p, file:///p, file://localhost/p) are reduced to their path, a value
 * without a scheme is taken as a path, and anything else (a command after
 * "|", another scheme) is refused rather than run or fetched.
 */
static int reduce_pin_source(char *src)
{
	static const char *const prefixes[] = { "file://localhost/", "file:///", "file:/" };
	size_t slash = strcspn(src, "/");

	if (src[0] == '\0')
		return tsr_error(TSR_ERR_PARSE, "PKCS#11 URI: pin-source is empty");
	for (size_t i = 0; i < TSR_ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncasecmp(src, prefixes[i], n) == 0 && src[n] != '/') {
			/* keep the path's leading slash */
			memmove(src, src + n - 1, strlen(src + n - 1) + 1);
			return 0;
		}
	}
	if (src[0] == '|' || memchr(src, ':', slash) != NULL)
		return tsr_error(TSR_ERR_PARSE,
		    "PKCS#11 URI: pin-source must be a file: URI or a file path");
	return 0;
}

/* Store one decoded string attribute, validating it by kind. */
static int set_string(const struct value *v, struct tsr_p11_uri *uri)
{
	char **field = (char **)((char *)uri + v->def->offset);
	int rc = decode_string(v, field);

	if (rc < 0)
		return rc;
	switch (v->def->kind) {
	case ATTR_TYPE:
		return check_type(*field);
	case ATTR_PIN_SOURCE:
		return reduce_pin_source(*field);
	default:
		return 0;
	}
}

/* An ignored value is still checked, so a malformed URI is never half-accepted. */
static int check_only(const struct value *v)
{
	uint8_t *tmp = malloc(v->n + 1);
	size_t len;
	int rc;

	if (tmp == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	rc = decode(v, true, tmp, &len);
	free(tmp);
	return rc;
}

static int set_value(const struct value *v, struct tsr_p11_uri *uri)
{
	switch (v->def->kind) {
	case ATTR_STRING:
	case ATTR_SECRET:
	case ATTR_TYPE:
	case ATTR_PIN_SOURCE:
		return set_string(v, uri);
	case ATTR_ID:
		return parse_id(v, uri);
	case ATTR_SLOT_ID:
		return parse_slot_id(v, uri);
	case ATTR_IGNORE:
		return check_only(v);
	case ATTR_REFUSE:
		return tsr_error(TSR_ERR_PARSE,
		    "PKCS#11 URI: %s is not supported; select the token by token, serial or "
		    "slot-id", v->def->name);
	default:
		return tsr_error(TSR_ERR_INTERNAL, "PKCS#11 URI: unhandled attribute kind");
	}
}

/* ------------------------------------------------------------------ attributes */
static const struct attr_def *find_def(const char *name, size_t n, bool query, size_t *index)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(attr_defs); i++) {
		if (attr_defs[i].query == query && strlen(attr_defs[i].name) == n &&
		    memcmp(attr_defs[i].name, name, n) == 0) {
			*index = i;
			return &attr_defs[i];
		}
	}
	return NULL;
}

/* An unknown query attribute: ignored, but its value must be well formed. */
static const struct attr_def unknown_query = { "unknown query attribute", true, ATTR_IGNORE, 0 };

/*
 * Parse one "name=value" of the path (query false) or query (query true);
 * seen is the set of attributes already given, as bits of attr_defs.
 */
static int parse_attr(const char *uri_start, const char *p, size_t n, bool query,
    uint32_t *seen, struct tsr_p11_uri *uri)
{
	const char *eq = memchr(p, '=', n);
	size_t at = (size_t)(p - uri_start), name_len, index = 0;
	struct value v;

	if (n == 0)
		return tsr_error(TSR_ERR_PARSE, "PKCS#11 URI: empty attribute at offset %zu", at);
	if (eq == NULL)
		return tsr_error(TSR_ERR_PARSE,
		    "PKCS#11 URI: attribute at offset %zu has no '=' and value", at);
	name_len = (size_t)(eq - p);
	for (size_t i = 0; i < name_len; i++)
		if (!is_name_char(p[i]))
			return tsr_error(TSR_ERR_PARSE,
			    "PKCS#11 URI: bad character in attribute name at offset %zu", at + i);
	if (name_len == 0)
		return tsr_error(TSR_ERR_PARSE,
		    "PKCS#11 URI: attribute without a name at offset %zu", at);

	v.p = eq + 1;
	v.n = n - name_len - 1;
	v.at = at + name_len + 1;
	v.def = find_def(p, name_len, query, &index);
	if (v.def == NULL) {
		if (!query)
			return tsr_error(TSR_ERR_PARSE,
			    "PKCS#11 URI: unknown path attribute '%.*s'", (int)name_len, p);
		v.def = &unknown_query;
		return set_value(&v, uri);
	}
	if (*seen & (UINT32_C(1) << index))
		return tsr_error(TSR_ERR_PARSE, "PKCS#11 URI: attribute '%s' given twice",
		    v.def->name);
	*seen |= UINT32_C(1) << index;
	return set_value(&v, uri);
}

/* Split [p, p + n) at sep and parse each attribute. */
static int parse_part(const char *uri_start, const char *p, size_t n, char sep, bool query,
    uint32_t *seen, struct tsr_p11_uri *uri)
{
	const char *end = p + n;
	int rc;

	if (n == 0)
		return 0;   /* "pkcs11:" and "pkcs11:?..." are valid */
	for (;;) {
		const char *next = memchr(p, sep, (size_t)(end - p));
		size_t len = (size_t)((next ? next : end) - p);

		rc = parse_attr(uri_start, p, len, query, seen, uri);
		if (rc < 0 || next == NULL)
			return rc;
		p = next + 1;
	}
}

/* Parse an RFC 7512 URI; see p11.h.  On failure *out is left empty. */
int tsr_p11_uri_parse(const char *s, struct tsr_p11_uri *out)
{
	const char *path, *query;
	size_t len;
	uint32_t seen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->slot_id = -1;
	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "no PKCS#11 URI given");
	len = strnlen(s, URI_MAX + 1);
	if (len > URI_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "PKCS#11 URI longer than %d bytes", URI_MAX);
	/* URI schemes are case-insensitive (RFC 3986 section 3.1) */
	if (strncasecmp(s, SCHEME, strlen(SCHEME)) != 0)
		return tsr_error(TSR_ERR_PARSE,
		    "not a PKCS#11 URI: it must start with \"pkcs11:\"");
	path = s + strlen(SCHEME);
	query = memchr(path, '?', len - strlen(SCHEME));
	rc = parse_part(s, path, (size_t)((query ? query : s + len) - path), ';', false, &seen,
	    out);
	if (rc == 0 && query != NULL)
		rc = parse_part(s, query + 1, (size_t)(s + len - query - 1), '&', true, &seen, out);
	if (rc == 0 && out->pin_source != NULL && out->pin_value != NULL)
		rc = tsr_error(TSR_ERR_PARSE,
		    "PKCS#11 URI: give either pin-source or pin-value, not both");
	if (rc < 0)
		tsr_p11_uri_free(out);
	return rc;
}

/* Free what tsr_p11_uri_parse() allocated and reset uri to empty. */
void tsr_p11_uri_free(struct tsr_p11_uri *uri)
{
	if (uri == NULL)
		return;
	free(uri->token);
	free(uri->manufacturer);
	free(uri->model);
	free(uri->serial);
	free(uri->object);
	free(uri->type);
	free(uri->module_path);
	free(uri->pin_source);
	tsr_free_secret(uri->pin_value);
	tsr_wipe(uri, sizeof(*uri));
	uri->slot_id = -1;
}

/*
 * Format "pkcs11:token=<label>".  Everything but RFC 3986's unreserved
 * characters is percent-encoded, which every RFC 7512 parser accepts.
 */
int tsr_p11_uri_for_token(const char *label, char **out)
{
	static const char hex[] = "0123456789ABCDEF";
	struct tsr_buf b;
	const char *s;
	int rc;

	*out = NULL;
	if (label == NULL)
		return tsr_error(TSR_ERR_INVALID, "no token label given");
	tsr_buf_init(&b, URI_MAX);   /* so that the result parses again */
	rc = tsr_buf_append_str(&b, SCHEME "token=");
	for (const char *p = label; rc == 0 && *p != '\0'; p++) {
		char esc[3] = { '%', hex[(uint8_t)*p >> 4], hex[(uint8_t)*p & 0xf] };

		if (is_unreserved(*p))
			rc = tsr_buf_append(&b, p, 1);
		else
			rc = tsr_buf_append(&b, esc, sizeof(esc));
	}
	if (rc == 0)
		rc = tsr_buf_cstr(&b, &s);
	if (rc < 0) {
		tsr_buf_free(&b);
		return rc == TSR_ERR_TOO_LARGE ?
		    tsr_error(rc, "token label too long for a PKCS#11 URI") : rc;
	}
	*out = (char *)b.data;   /* the buffer's memory is a plain malloc()ed string */
	return 0;
}
