/*
 * name.c - distinguished names: a strict RFC 4514 parser that builds an
 * X509_NAME with the string types RFC 5280 asks for, and the formatter
 * whose output that parser reads back to the same name.
 *
 * We do not use OpenSSL's string-to-name helpers: they accept unknown
 * types, empty values, any string type and unescaped specials, and the
 * subject of a certificate is the one thing a relying party reads.
 *
 * Choices beyond RFC 4514, all documented in x509.h or here:
 *  - spaces after a ',' are skipped ("CN=Jane Doe, O=Acme"), because
 *    people type them; spaces around '=' are refused, spaces inside a
 *    value are kept, and a leading or trailing space must be escaped;
 *  - C is upper-cased ("c=us" gives C=US); ISO 3166 codes are upper-case;
 *  - control characters (C0, DEL, C1) and Unicode bidirectional controls
 *    are refused even when written as \XX escapes: a subject must read the
 *    same on every screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "x509/x509.h"

/* Formatting a foreign name (e.g. an issuer) may need \XX escapes; cap it. */
#define NAME_FORMAT_MAX (64 * 1024)

enum attr_kind {
	ATTR_UTF8,      /* UTF8String */
	ATTR_COUNTRY,   /* PrintableString, two letters */
	ATTR_PRINTABLE, /* PrintableString */
	ATTR_IA5,       /* IA5String */
	ATTR_LABEL,     /* IA5String, one DNS label (DC) */
};

struct attr {
	const char *name;  /* as parsed (case-insensitively) and formatted */
	int nid;
	size_t max_chars;  /* RFC 5280 Appendix A / X.520 upper bound, or ours */
	enum attr_kind kind;
};

static const struct attr attrs[] = {
	{ "CN", NID_commonName, 64, ATTR_UTF8 },
	{ "O", NID_organizationName, 64, ATTR_UTF8 },
	{ "OU", NID_organizationalUnitName, 64, ATTR_UTF8 },
	{ "L", NID_localityName, 128, ATTR_UTF8 },
	{ "ST", NID_stateOrProvinceName, 128, ATTR_UTF8 },
	{ "C", NID_countryName, 2, ATTR_COUNTRY },
	{ "street", NID_streetAddress, 128, ATTR_UTF8 },
	{ "postalCode", NID_postalCode, 40, ATTR_UTF8 },
	{ "serialNumber", NID_serialNumber, 64, ATTR_PRINTABLE },
	{ "emailAddress", NID_pkcs9_emailAddress, 255, ATTR_IA5 },
	/* ub-name is 32768; nobody's given name or surname needs more than 64. */
	{ "GN", NID_givenName, 64, ATTR_UTF8 },
	{ "SN", NID_surname, 64, ATTR_UTF8 },
	{ "title", NID_title, 64, ATTR_UTF8 },
	{ "DC", NID_domainComponent, 63, ATTR_LABEL },
	/* RFC 4519 sets no bound for these two; 64 and X.520's 128 are ours. */
	{ "UID", NID_userId, 64, ATTR_UTF8 },
	{ "pseudonym", NID_pseudonym, 128, ATTR_UTF8 },
};

/* Long names people also type; formatting always uses the short one. */
static const struct {
	const char *alias;
	int nid;
} attr_aliases[] = {
	{ "givenName", NID_givenName },
	{ "surname", NID_surname },
};

static const struct attr *attr_by_nid(int nid)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(attrs); i++)
		if (attrs[i].nid == nid)
			return &attrs[i];
	return NULL;
}

static const struct attr *attr_by_name(const char *s, size_t n)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(attrs); i++)
		if (strlen(attrs[i].name) == n && strncasecmp(attrs[i].name, s, n) == 0)
			return &attrs[i];
	for (size_t i = 0; i < TSR_ARRAY_LEN(attr_aliases); i++)
		if (strlen(attr_aliases[i].alias) == n &&
		    strncasecmp(attr_aliases[i].alias, s, n) == 0)
			return attr_by_nid(attr_aliases[i].nid);
	return NULL;
}

const char *tsr_name_attr_name(int nid)
{
	const struct attr *a = attr_by_nid(nid);

	return a ? a->name : NULL;
}

int tsr_name_attr_nid(const char *name)
{
	const struct attr *a = name ? attr_by_name(name, strlen(name)) : NULL;

	return a ? a->nid : NID_undef;
}

/* ------------------------------------------------------------------ characters */
static bool is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}


/* Characters that may follow a backslash as themselves (RFC 4514 "special"
 * plus space and '#'). */
static bool is_escapable(int c)
{
	return c != '\0' && strchr(" \"#+,;<=>\\", c) != NULL;
}

/* Code points a name must never hold: C0, DEL, C1 and the bidirectional
 * controls that make text display in another order than it is stored. */
static bool is_forbidden_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Decode one UTF-8 sequence at p[*i] (n bytes in all) into *cp and advance
 * *i.  Refuses overlong forms, surrogates and code points over U+10FFFF.
 */
static bool utf8_next(const uint8_t *p, size_t n, size_t *i, uint32_t *cp)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint8_t c = p[*i];
	size_t len;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return true;
	}
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		v = c & 0x07;
	} else {
		return false;
	}
	if (n - *i < len)
		return false;
	for (size_t k = 1; k < len; k++) {
		if ((p[*i + k] & 0xc0) != 0x80)
			return false;
		v = (v << 6) | (p[*i + k] & 0x3f);
	}
	if (v < min_cp[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*i += len;
	return true;
}

/* A printable description of byte c for error messages. */
static const char *char_desc(int c, char buf[8])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02X", (unsigned)(c & 0xff));
	return buf;
}

/* ------------------------------------------------------------------ parsing */
/* Read "TYPE=" at s[*pos]; on return *pos is just past the '='. */
static int parse_type(const char *s, size_t *pos, int rdn, const struct attr **out)
{
	size_t start = *pos, i = *pos;
	int shown;
	char cb[8];

	if (is_digit((unsigned char)s[i]))
		return tsr_error(TSR_ERR_PARSE, "RDN %d: OID attribute types such as '2.5.4.3=' are "
		    "not supported; use the short name (CN=...)", rdn);
	while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '-')
		i++;
	/* Quote at most 32 bytes of what was typed. */
	shown = (int)(i - start > 32 ? 32 : i - start);
	if (i == start)
		return tsr_error(TSR_ERR_PARSE, "RDN %d: expected an attribute type such as CN=, "
		    "found %s", rdn, s[i] ? char_desc((unsigned char)s[i], cb) : "the end");
	if (s[i] == ' ')
		return tsr_error(TSR_ERR_PARSE, "RDN %d: space after '%.*s': write TYPE=value with "
		    "no spaces around '='", rdn, shown, s + start);
	if (s[i] != '=')
		return tsr_error(TSR_ERR_PARSE, "RDN %d: expected '=' after '%.*s'", rdn, shown,
		    s + start);
	*out = attr_by_name(s + start, i - start);
	if (*out == NULL)
		return tsr_error(TSR_ERR_PARSE, "RDN %d: unknown attribute type '%.*s' (supported: "
		    "CN, O, OU, L, ST, C, street, postalCode, serialNumber, emailAddress, GN, SN, "
		    "title, DC, UID, pseudonym)", rdn, shown, s + start);
	*pos = i + 1;
	return 0;
}

/* Decode a backslash escape at s[*i] into *byte. */
static int parse_escape(const char *s, size_t *i, int rdn, const struct attr *a, uint8_t *byte)
{
	int c = (unsigned char)s[*i + 1], hi, lo;
	char cb[8];

	if (is_escapable(c)) {
		*byte = (uint8_t)c;
		*i += 2;
		return 0;
	}
	hi = tsr_hex_digit(c);
	lo = c ? tsr_hex_digit((unsigned char)s[*i + 2]) : -1;
	if (hi < 0 || lo < 0)
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): bad escape: '\\' must be followed by "
		    "one of ,+\"\\<>;=# space or two hex digits, not %s", rdn, a->name,
		    c ? char_desc(c, cb) : "the end");
	*byte = (uint8_t)(hi << 4 | lo);
	*i += 3;
	return 0;
}

/*
 * Read and unescape the value at s[*pos] up to an unescaped ',' or the end
 * into val (at least strlen(s) + 1 bytes); *pos is left on the ',' or NUL.
 */
static int parse_value(const char *s, size_t *pos, int rdn, const struct attr *a, uint8_t *val,
    size_t *vlen)
{
	size_t i = *pos, n = 0;
	bool last_escaped = false;
	char cb[8];
	int rc;

	if (s[i] == ' ')
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): space after '=' (write '\\ ' if the "
		    "value really starts with a space)", rdn, a->name);
	if (s[i] == '#')
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): #hex (BER) values are not supported; "
		    "write the value as text, or '\\#' for a leading '#'", rdn, a->name);
	while (s[i] != '\0' && s[i] != ',') {
		int c = (unsigned char)s[i];

		if (c == '\\') {
			if ((rc = parse_escape(s, &i, rdn, a, &val[n++])) != 0)
				return rc;
			last_escaped = true;
			continue;
		}
		if (c == '+')
			return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): multi-valued RDNs ('+') are not "
			    "supported; separate attributes with ',' (or write '\\+' for a plus "
			    "sign)", rdn, a->name);
		if (c == '"' || c == ';' || c == '<' || c == '>')
			return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): '%c' must be escaped as '\\%c'",
			    rdn, a->name, c, c);
		if (c < 0x20 || c == 0x7f)
			return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): control character %s", rdn,
			    a->name, char_desc(c, cb));
		val[n++] = (uint8_t)c;
		last_escaped = false;
		i++;
	}
	if (n > 0 && val[n - 1] == ' ' && !last_escaped)
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): the value ends with a space (remove "
		    "it, or write '\\ ' to keep it)", rdn, a->name);
	*pos = i;
	*vlen = n;
	return 0;
}

/* UTF-8 validity, no forbidden code points; the number of characters. */
static int check_utf8(const uint8_t *v, size_t n, int rdn, const struct attr *a, size_t *chars)
{
	size_t i = 0, count = 0;
	uint32_t cp;

	while (i < n) {
		if (!utf8_next(v, n, &i, &cp))
			return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): the value is not valid UTF-8",
			    rdn, a->name);
		if (is_forbidden_cp(cp))
			return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): control character U+%04X in "
			    "the value", rdn, a->name, (unsigned)cp);
		count++;
	}
	*chars = count;
	return 0;
}

static bool is_printable_string_char(int c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr(" '()+,-./:=?", c) != NULL);
}

/* The rules of each kind of attribute; upper-cases C in place. */
static int check_kind(uint8_t *v, size_t n, int rdn, const struct attr *a)
{
	switch (a->kind) {
	case ATTR_UTF8:
		return 0;
	case ATTR_COUNTRY:
		if (n != 2 || !is_alpha(v[0]) || !is_alpha(v[1]))
			return tsr_error(TSR_ERR_PARSE, "RDN %d (C): the country must be a two-letter "
			    "ISO 3166 code such as US", rdn);
		for (size_t i = 0; i < 2; i++)
			if (v[i] >= 'a' && v[i] <= 'z')
				v[i] = (uint8_t)(v[i] - 'a' + 'A');
		return 0;
	case ATTR_PRINTABLE:
		for (size_t i = 0; i < n; i++)
			if (!is_printable_string_char(v[i]))
				return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): only A-Z a-z 0-9 space "
				    "and '()+,-./:=? are allowed", rdn, a->name);
		return 0;
	case ATTR_IA5:
		for (size_t i = 0; i < n; i++)
			if (v[i] >= 0x80)
				return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): only ASCII is allowed",
				    rdn, a->name);
		return 0;
	case ATTR_LABEL:
		for (size_t i = 0; i < n; i++)
			if (!is_alpha(v[i]) && !is_digit(v[i]) &&
			    (v[i] != '-' || i == 0 || i == n - 1))
				return tsr_error(TSR_ERR_PARSE, "RDN %d (DC): a domain component is one "
				    "DNS label: letters, digits and inner '-'", rdn);
		return 0;
	default:
		return tsr_error(TSR_ERR_INTERNAL, "attribute %s has no kind", a->name);
	}
}

static int check_value(uint8_t *v, size_t n, int rdn, const struct attr *a)
{
	size_t chars = 0;
	int rc;

	if (n == 0)
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): empty value", rdn, a->name);
	if ((rc = check_utf8(v, n, rdn, a, &chars)) != 0)
		return rc;
	if ((rc = check_kind(v, n, rdn, a)) != 0)
		return rc;
	if (chars > a->max_chars)
		return tsr_error(TSR_ERR_PARSE, "RDN %d (%s): the value has %zu characters, more "
		    "than the %zu allowed", rdn, a->name, chars, a->max_chars);
	return 0;
}

static int string_type(const struct attr *a)
{
	switch (a->kind) {
	case ATTR_COUNTRY:
	case ATTR_PRINTABLE:
		return V_ASN1_PRINTABLESTRING;
	case ATTR_IA5:
	case ATTR_LABEL:
		return V_ASN1_IA5STRING;
	case ATTR_UTF8:
	default:
		return V_ASN1_UTF8STRING;
	}
}

/* After a ',': skip the spaces we tolerate, refuse an empty RDN. */
static int skip_separator(const char *s, size_t *pos, int rdn)
{
	size_t i = *pos + 1;

	while (s[i] == ' ')
		i++;
	if (s[i] == '\0')
		return tsr_error(TSR_ERR_PARSE, "trailing ',' after RDN %d", rdn);
	if (s[i] == ',')
		return tsr_error(TSR_ERR_PARSE, "empty RDN (two ',' in a row) after RDN %d", rdn);
	*pos = i;
	return 0;
}

/*
 * Parse an RFC 4514 string (most specific RDN first) into a new X509_NAME
 * (X509_NAME_free()) whose RDNs are in X.509 order (the last RDN of the
 * string first).  TSR_ERR_TOO_LARGE over TSR_DN_MAX bytes, TSR_ERR_PARSE
 * with a detail naming the RDN for anything else the header refuses.
 */
int tsr_name_parse(const char *s, X509_NAME **out)
{
	uint8_t val[TSR_DN_MAX + 1];
	X509_NAME *name = NULL;
	const struct attr *a = NULL;
	size_t pos = 0, vlen = 0;
	int rdn = 1, rc;

	*out = NULL;
	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "no name given");
	if (strnlen(s, TSR_DN_MAX + 1) > TSR_DN_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "name longer than %d bytes", TSR_DN_MAX);
	if (s[0] == '\0')
		return tsr_error(TSR_ERR_PARSE, "empty name");
	if ((name = X509_NAME_new()) == NULL)
		return tsr_error_openssl(TSR_ERR_NOMEM, "cannot allocate a name");
	for (;;) {
		if ((rc = parse_type(s, &pos, rdn, &a)) != 0 ||
		    (rc = parse_value(s, &pos, rdn, a, val, &vlen)) != 0 ||
		    (rc = check_value(val, vlen, rdn, a)) != 0)
			goto out;
		/* Inserting each RDN in front reverses the string's order. */
		if (!X509_NAME_add_entry_by_NID(name, a->nid, string_type(a), val, (int)vlen, 0, 0)) {
			rc = tsr_error_openssl(TSR_ERR_NOMEM, "cannot add %s to a name", a->name);
			goto out;
		}
		if (s[pos] == '\0')
			break;
		if ((rc = skip_separator(s, &pos, rdn)) != 0)
			goto out;
		rdn++;
	}
	*out = name;
	name = NULL;
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

/* ------------------------------------------------------------------ formatting */
static int append_hex_bytes(struct tsr_buf *b, const uint8_t *p, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = tsr_buf_printf(b, "\\%02X", p[i]);
	return rc;
}

/*
 * Append a UTF-8 value with RFC 4514 escaping: ,+"\<>; always, '#' and
 * space at the start, space at the end; code points a name may not hold
 * (and bytes that are not UTF-8) as \XX so that nothing hides on screen.
 * '=' may stay bare (RFC 4514 2.4) and does: then every character is
 * written no longer than tsr_name_parse() had to read it, so the output of
 * a parsed name always fits TSR_DN_MAX and parses back.
 */
static int append_escaped(struct tsr_buf *b, const uint8_t *v, size_t n)
{
	size_t i = 0, start;
	uint32_t cp;
	int rc = 0;

	while (i < n && rc == 0) {
		start = i;
		if (!utf8_next(v, n, &i, &cp)) {
			rc = append_hex_bytes(b, &v[start], 1);
			i = start + 1;
		} else if (is_forbidden_cp(cp)) {
			rc = append_hex_bytes(b, &v[start], i - start);
		} else if ((cp < 0x80 && strchr(",+\"\\<>;", (int)cp) != NULL) ||
		    (start == 0 && (cp == ' ' || cp == '#')) || (i == n && cp == ' ')) {
			rc = tsr_buf_printf(b, "\\%c", (int)cp);
		} else {
			rc = tsr_buf_append(b, &v[start], i - start);
		}
	}
	return rc;
}

/* An attribute we do not know: dotted OID and #hex of its DER (RFC 4514 2.4). */
static int append_unknown(struct tsr_buf *b, const ASN1_OBJECT *obj, const ASN1_STRING *data)
{
	char oid[128];
	uint8_t *der = NULL;
	int len, rc;

	if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0 ||
	    (len = i2d_ASN1_PRINTABLE((ASN1_STRING *)data, &der)) <= 0)
		return tsr_error_openssl(TSR_ERR_PARSE, "cannot encode a name attribute");
	if ((rc = tsr_buf_printf(b, "%s=#", oid)) == 0)
		for (int i = 0; i < len && rc == 0; i++)
			rc = tsr_buf_printf(b, "%02X", der[i]);
	OPENSSL_free(der);
	return rc;
}

static int append_entry(struct tsr_buf *b, const X509_NAME_ENTRY *e)
{
	const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
	const ASN1_STRING *data = X509_NAME_ENTRY_get_data(e);
	const struct attr *a = attr_by_nid(OBJ_obj2nid(obj));
	unsigned char *utf8 = NULL;
	int len, rc;

	if (a == NULL)
		return append_unknown(b, obj, data);
	len = ASN1_STRING_to_UTF8(&utf8, data);
	if (len < 0) {
		/* Not convertible text: the hex form says exactly what is there. */
		ERR_clear_error();
		return append_unknown(b, obj, data);
	}
	if ((rc = tsr_buf_printf(b, "%s=", a->name)) == 0)
		rc = append_escaped(b, utf8, (size_t)len);
	OPENSSL_free(utf8);
	return rc;
}

/*
 * Format name as RFC 4514 (most specific RDN first; multi-valued RDNs
 * joined by '+'), into a new string (free()).  For names tsr_name_parse()
 * made, tsr_name_parse() of the result gives the same DER.
 */
int tsr_name_format(const X509_NAME *name, char **out)
{
	struct tsr_buf b;
	const char *str;
	int count, prev_set = -1, rc = 0;

	*out = NULL;
	if (name == NULL)
		return tsr_error(TSR_ERR_INVALID, "no name given");
	tsr_buf_init(&b, NAME_FORMAT_MAX);
	count = X509_NAME_entry_count(name);
	for (int i = count - 1; i >= 0 && rc == 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int set = X509_NAME_ENTRY_set(e);

		if (i != count - 1)
			rc = tsr_buf_append_str(&b, set == prev_set ? "+" : ",");
		if (rc == 0)
			rc = append_entry(&b, e);
		prev_set = set;
	}
	if (rc == 0)
		rc = tsr_buf_cstr(&b, &str);
	if (rc == 0 && (*out = strdup(str)) == NULL)
		rc = tsr_error(TSR_ERR_NOMEM, "cannot copy a name");
	tsr_buf_free(&b);
	return rc;
}
