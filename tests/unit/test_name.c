/*
 * test_name.c - distinguished names (RFC 4514 parse and format) and subject
 * alternative names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "x509/x509.h"

/* ------------------------------------------------------------------ helpers */
static X509_NAME *parse_ok(const char *s)
{
	X509_NAME *name = NULL;
	int rc = tsr_name_parse(s, &name);

	if (rc != 0)
		print_error("tsr_name_parse(\"%s\"): %d %s\n", s, rc, tsr_error_detail());
	assert_int_equal(rc, 0);
	assert_non_null(name);
	return name;
}

static void parse_fails(const char *s, int code, const char *detail)
{
	X509_NAME *name = (X509_NAME *)1;
	int rc = tsr_name_parse(s, &name);

	if (rc != code || strstr(tsr_error_detail(), detail) == NULL)
		print_error("tsr_name_parse(\"%s\"): %d \"%s\", wanted %d \"%s\"\n", s, rc,
		    tsr_error_detail(), code, detail);
	assert_int_equal(rc, code);
	assert_null(name);
	assert_non_null(strstr(tsr_error_detail(), detail));
	assert_int_equal(ERR_peek_error(), 0);
}

static char *format_ok(const X509_NAME *name)
{
	char *s = NULL;

	assert_int_equal(tsr_name_format(name, &s), 0);
	assert_non_null(s);
	return s;
}

static void assert_same_der(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_NAME(a, &da), lb = i2d_X509_NAME(b, &db);

	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, (size_t)la);
	OPENSSL_free(da);
	OPENSSL_free(db);
}

/* Entry i in X.509 order (0 = least specific) has this NID, type and value. */
static void assert_entry(const X509_NAME *name, int i, int nid, int type, const char *value)
{
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
	const ASN1_STRING *d;

	assert_non_null(e);
	d = X509_NAME_ENTRY_get_data(e);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), nid);
	assert_int_equal(ASN1_STRING_type(d), type);
	assert_int_equal(ASN1_STRING_length(d), (int)strlen(value));
	assert_memory_equal(ASN1_STRING_get0_data(d), value, strlen(value));
}

/* parse(s), format, parse again: same DER; and the format is canonical. */
static void round_trip(const char *s, const char *canonical)
{
	X509_NAME *a = parse_ok(s), *b;
	char *f = format_ok(a), *g;

	if (canonical != NULL && strcmp(f, canonical) != 0)
		print_error("format(parse(\"%s\")) = \"%s\", wanted \"%s\"\n", s, f, canonical);
	if (canonical != NULL)
		assert_string_equal(f, canonical);
	b = parse_ok(f);
	assert_same_der(a, b);
	g = format_ok(b);
	assert_string_equal(f, g);
	free(f);
	free(g);
	X509_NAME_free(a);
	X509_NAME_free(b);
}

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t len = strlen(prefix) + strlen(unit) * n + strlen(suffix) + 1;
	char *s = malloc(len);

	assert_non_null(s);
	strcpy(s, prefix);
	for (size_t i = 0; i < n; i++)
		strcat(s, unit);
	strcat(s, suffix);
	return s;
}

/* ------------------------------------------------------------------ names: good */
static void test_name_basic_order_and_types(void **state)
{
	X509_NAME *n = parse_ok("CN=Jane Doe,O=Acme,C=US");
	char *s;

	(void)state;
	assert_int_equal(X509_NAME_entry_count(n), 3);
	/* X.509 order: C first. */
	assert_entry(n, 0, NID_countryName, V_ASN1_PRINTABLESTRING, "US");
	assert_entry(n, 1, NID_organizationName, V_ASN1_UTF8STRING, "Acme");
	assert_entry(n, 2, NID_commonName, V_ASN1_UTF8STRING, "Jane Doe");
	s = format_ok(n);
	assert_string_equal(s, "CN=Jane Doe,O=Acme,C=US");
	free(s);
	X509_NAME_free(n);
}

static void test_name_spaces_after_comma(void **state)
{
	X509_NAME *a = parse_ok("CN=Jane Doe,O=Acme,C=US");
	X509_NAME *b = parse_ok("CN=Jane Doe, O=Acme,   C=US");
	X509_NAME *c = parse_ok("CN=Jane  Doe  Jr,O=A c m e");

	(void)state;
	assert_same_der(a, b);
	/* Spaces inside values are kept as they are. */
	assert_entry(c, 1, NID_commonName, V_ASN1_UTF8STRING, "Jane  Doe  Jr");
	assert_entry(c, 0, NID_organizationName, V_ASN1_UTF8STRING, "A c m e");
	X509_NAME_free(a);
	X509_NAME_free(b);
	X509_NAME_free(c);
}

static void test_name_types_case_insensitive(void **state)
{
	X509_NAME *a = parse_ok("cn=x,Ou=y,o=z,c=us");
	X509_NAME *b = parse_ok("CN=x,OU=y,O=z,C=US");
	X509_NAME *c = parse_ok("givenName=Jane,SURNAME=Doe,SERIALNUMBER=IDC-12345");
	char *s;

	(void)state;
	/* C is upper-cased: c=us and C=US are the same name. */
	assert_same_der(a, b);
	assert_entry(c, 2, NID_givenName, V_ASN1_UTF8STRING, "Jane");
	assert_entry(c, 1, NID_surname, V_ASN1_UTF8STRING, "Doe");
	assert_entry(c, 0, NID_serialNumber, V_ASN1_PRINTABLESTRING, "IDC-12345");
	s = format_ok(c);
	assert_string_equal(s, "GN=Jane,SN=Doe,serialNumber=IDC-12345");
	free(s);
	X509_NAME_free(a);
	X509_NAME_free(b);
	X509_NAME_free(c);
}

static void test_name_every_type_and_encoding(void **state)
{
	static const char *all = "CN=Jane Doe,O=Acme,OU=Labs,L=Springfield,ST=Oregon,C=US,"
	    "street=1 Main St,postalCode=97000,serialNumber=A1 (x)+,-./:=?,"
	    "emailAddress=jane@example.com,GN=Jane,SN=Doe,title=Dr,DC=example,UID=jdoe,"
	    "pseudonym=JD";
	static const struct {
		int nid, type;
		const char *value;
	} want[] = {
		{ NID_pseudonym, V_ASN1_UTF8STRING, "JD" },
		{ NID_userId, V_ASN1_UTF8STRING, "jdoe" },
		{ NID_domainComponent, V_ASN1_IA5STRING, "example" },
		{ NID_title, V_ASN1_UTF8STRING, "Dr" },
		{ NID_surname, V_ASN1_UTF8STRING, "Doe" },
		{ NID_givenName, V_ASN1_UTF8STRING, "Jane" },
		{ NID_pkcs9_emailAddress, V_ASN1_IA5STRING, "jane@example.com" },
		{ NID_serialNumber, V_ASN1_PRINTABLESTRING, "A1 (x)+,-./:=?" },
		{ NID_postalCode, V_ASN1_UTF8STRING, "97000" },
		{ NID_streetAddress, V_ASN1_UTF8STRING, "1 Main St" },
		{ NID_countryName, V_ASN1_PRINTABLESTRING, "US" },
		{ NID_stateOrProvinceName, V_ASN1_UTF8STRING, "Oregon" },
		{ NID_localityName, V_ASN1_UTF8STRING, "Springfield" },
		{ NID_organizationalUnitName, V_ASN1_UTF8STRING, "Labs" },
		{ NID_organizationName, V_ASN1_UTF8STRING, "Acme" },
		{ NID_commonName, V_ASN1_UTF8STRING, "Jane Doe" },
	};
	char *s = NULL;
	X509_NAME *n;

	(void)state;
	/* The unescaped '+' and ',' of the serialNumber must be refused... */
	parse_fails(all, TSR_ERR_PARSE, "multi-valued");
	/* ...and accepted escaped. */
	n = parse_ok("CN=Jane Doe,O=Acme,OU=Labs,L=Springfield,ST=Oregon,C=US,"
	    "street=1 Main St,postalCode=97000,serialNumber=A1 (x)\\+\\,-./:\\=?,"
	    "emailAddress=jane@example.com,GN=Jane,SN=Doe,title=Dr,DC=example,UID=jdoe,"
	    "pseudonym=JD");
	assert_int_equal(X509_NAME_entry_count(n), (int)TSR_ARRAY_LEN(want));
	for (size_t i = 0; i < TSR_ARRAY_LEN(want); i++)
		assert_entry(n, (int)i, want[i].nid, want[i].type, want[i].value);
	assert_int_equal(tsr_name_format(n, &s), 0);
	X509_NAME_free(n);
	n = parse_ok(s);
	free(s);
	X509_NAME_free(n);
}

static void test_name_utf8(void **state)
{
	X509_NAME *n = parse_ok("CN=Zo\xc3\xab,O=\xe6\x97\xa5\xe6\x9c\xac,L=\xf0\x9f\x8f\xa0");
	char *s = format_ok(n);

	(void)state;
	assert_entry(n, 2, NID_commonName, V_ASN1_UTF8STRING, "Zo\xc3\xab");
	assert_entry(n, 1, NID_organizationName, V_ASN1_UTF8STRING, "\xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(s, "CN=Zo\xc3\xab,O=\xe6\x97\xa5\xe6\x9c\xac,L=\xf0\x9f\x8f\xa0");
	free(s);
	X509_NAME_free(n);
	/* UTF-8 written as \XX escapes, either case. */
	n = parse_ok("CN=Zo\\C3\\ab");
	assert_entry(n, 0, NID_commonName, V_ASN1_UTF8STRING, "Zo\xc3\xab");
	X509_NAME_free(n);
}

static void test_name_escapes_parse(void **state)
{
	static const struct {
		const char *in, *value;
	} cases[] = {
		{ "CN=a\\,b", "a,b" },
		{ "CN=\\+\\\"\\\\\\<\\>\\;\\=", "+\"\\<>;=" },
		{ "CN=\\#x", "#x" },
		{ "CN=x#", "x#" },
		{ "CN=\\ x\\ ", " x " },
		{ "CN=\\ ", " " },
		{ "CN=a\\2Cb", "a,b" },
		{ "CN=a=b", "a=b" },
		{ "CN=a \\ b", "a  b" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		X509_NAME *n = parse_ok(cases[i].in);

		assert_int_equal(X509_NAME_entry_count(n), 1);
		assert_entry(n, 0, NID_commonName, V_ASN1_UTF8STRING, cases[i].value);
		X509_NAME_free(n);
	}
}

/* A name made directly with OpenSSL formats with the right escapes. */
static void test_name_format_escapes(void **state)
{
	static const struct {
		const char *value, *out;
	} cases[] = {
		{ "a,b", "CN=a\\,b" },
		{ "+\"\\<>;=", "CN=\\+\\\"\\\\\\<\\>\\;=" },
		{ "#lead", "CN=\\#lead" },
		{ "mid#dle", "CN=mid#dle" },
		{ " lead", "CN=\\ lead" },
		{ "trail ", "CN=trail\\ " },
		{ " ", "CN=\\ " },
		{ "in side", "CN=in side" },
		{ "Zo\xc3\xab", "CN=Zo\xc3\xab" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
		X509_NAME *n = X509_NAME_new(), *back;
		char *s;

		assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName, V_ASN1_UTF8STRING,
		    (const unsigned char *)cases[i].value, -1, -1, 0));
		s = format_ok(n);
		assert_string_equal(s, cases[i].out);
		back = parse_ok(s);
		assert_same_der(n, back);
		free(s);
		X509_NAME_free(n);
		X509_NAME_free(back);
	}
}

static void test_name_round_trip(void **state)
{
	(void)state;
	round_trip("CN=Jane Doe,O=Acme,C=US", "CN=Jane Doe,O=Acme,C=US");
	round_trip("cn=Jane Doe, o=Acme, c=us", "CN=Jane Doe,O=Acme,C=US");
	round_trip("CN=Doe\\, Jane,O=Acme \\+ Sons\\; Ltd", "CN=Doe\\, Jane,O=Acme \\+ Sons\\; Ltd");
	round_trip("CN=\\#1 \\\"best\\\" \\<x\\>,OU=a\\=b", "CN=\\#1 \\\"best\\\" \\<x\\>,OU=a=b");
	round_trip("CN=a=b", "CN=a=b");
	round_trip("CN=\\ padded\\ ", "CN=\\ padded\\ ");
	round_trip("CN=back\\\\slash", "CN=back\\\\slash");
	round_trip("CN=caf\\c3\\a9", "CN=caf\xc3\xa9");
	round_trip("GN=Zo\xc3\xab,SN=M\xc3\xbcller,serialNumber=PNODE-1234,C=de",
	    "GN=Zo\xc3\xab,SN=M\xc3\xbcller,serialNumber=PNODE-1234,C=DE");
	round_trip("emailAddress=a\\+b@example.com,DC=example,DC=com",
	    "emailAddress=a\\+b@example.com,DC=example,DC=com");
	round_trip("UID=jdoe,pseudonym=J,title=Dr,street=1 Main,postalCode=1,L=l,ST=s",
	    "UID=jdoe,pseudonym=J,title=Dr,street=1 Main,postalCode=1,L=l,ST=s");
}

/* Formatting never makes a parsed name longer: one at the size cap, full
 * of characters that could be escaped, still parses back (found by fuzzing). */
static void test_name_round_trip_at_cap(void **state)
{
	char *s = malloc(TSR_DN_MAX + 1), *eq = repeat("", "=", 64, "");
	X509_NAME *a, *b;
	char *f;

	(void)state;
	assert_non_null(s);
	strcpy(s, "emailAddress=a");
	while (strlen(s) + 4 + 64 <= TSR_DN_MAX) {
		strcat(s, ",OU=");
		strcat(s, eq);
	}
	a = parse_ok(s);
	f = format_ok(a);
	assert_true(strlen(f) <= strlen(s));
	b = parse_ok(f);
	assert_same_der(a, b);
	free(f);
	free(eq);
	free(s);
	X509_NAME_free(a);
	X509_NAME_free(b);
}

static void test_name_lengths(void **state)
{
	static const struct {
		const char *type;
		size_t max;
	} bounds[] = {
		{ "CN", 64 }, { "O", 64 }, { "OU", 64 }, { "L", 128 }, { "ST", 128 },
		{ "street", 128 }, { "postalCode", 40 }, { "serialNumber", 64 },
		{ "emailAddress", 255 }, { "GN", 64 }, { "SN", 64 }, { "title", 64 },
		{ "DC", 63 }, { "UID", 64 }, { "pseudonym", 128 },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bounds); i++) {
		char prefix[32];
		char *ok, *over;

		snprintf(prefix, sizeof(prefix), "%s=", bounds[i].type);
		ok = repeat(prefix, "a", bounds[i].max, "");
		over = repeat(prefix, "a", bounds[i].max + 1, "");
		X509_NAME_free(parse_ok(ok));
		parse_fails(over, TSR_ERR_PARSE, "more than the");
		free(ok);
		free(over);
	}
}

/* Bounds count characters, not bytes. */
static void test_name_length_counts_characters(void **state)
{
	char *ok = repeat("CN=", "\xc3\xab", 64, "");         /* 64 chars, 128 bytes */
	char *over = repeat("CN=", "\xc3\xab", 65, "");
	char *emoji = repeat("CN=", "\xf0\x9f\x8f\xa0", 64, ""); /* 64 chars, 256 bytes */
	char *esc = repeat("CN=", "\\C3\\AB", 64, "");        /* escaped, 64 chars */

	(void)state;
	X509_NAME_free(parse_ok(ok));
	X509_NAME_free(parse_ok(emoji));
	X509_NAME_free(parse_ok(esc));
	parse_fails(over, TSR_ERR_PARSE, "65 characters, more than the 64 allowed");
	free(ok);
	free(over);
	free(emoji);
	free(esc);
}

static void test_name_size_cap(void **state)
{
	char *big = repeat("CN=", "a", TSR_DN_MAX - 2, "");    /* TSR_DN_MAX + 1 bytes */
	char *at = repeat("CN=", "a", TSR_DN_MAX - 3, "");     /* exactly TSR_DN_MAX */
	X509_NAME *n = (X509_NAME *)1;

	(void)state;
	parse_fails(big, TSR_ERR_TOO_LARGE, "longer than 4096");
	/* At the cap the string is read, and refused for the CN's length. */
	parse_fails(at, TSR_ERR_PARSE, "more than the 64");
	assert_int_equal(tsr_name_parse(NULL, &n), TSR_ERR_INVALID);
	assert_null(n);
	free(big);
	free(at);
}

/* ------------------------------------------------------------------ names: bad */
static void test_name_refusals(void **state)
{
	static const struct {
		const char *in, *detail;
	} cases[] = {
		{ "", "empty name" },
		{ "CN=", "empty value" },
		{ "CN=a,O=", "RDN 2 (O): empty value" },
		{ "XX=a", "unknown attribute type 'XX'" },
		{ "CN=a,businessCategory=b", "unknown attribute type 'businessCategory'" },
		{ "CN=a+O=b", "multi-valued RDNs ('+') are not supported" },
		{ "CN=a,", "trailing ','" },
		{ "CN=a, ", "trailing ','" },
		{ "CN=a,,O=b", "two ','" },
		{ "CN=a, ,O=b", "two ','" },
		{ ",CN=a", "expected an attribute type" },
		{ " CN=a", "expected an attribute type" },
		{ "CN", "expected '=' after 'CN'" },
		{ "=a", "expected an attribute type" },
		{ "2.5.4.3=a", "OID attribute types" },
		{ "CN=a,0.9.2342.19200300.100.1.25=b", "RDN 2: OID attribute types" },
		{ "CN=#0C0161", "#hex (BER) values are not supported" },
		{ "CN =a", "space after 'CN'" },
		{ "CN= a", "space after '='" },
		{ "CN=a ,O=b", "ends with a space" },
		{ "CN=a ", "ends with a space" },
		{ "CN=a\"b", "'\"' must be escaped" },
		{ "CN=a;O=b", "';' must be escaped" },
		{ "CN=a<b", "'<' must be escaped" },
		{ "CN=a>b", "'>' must be escaped" },
		{ "CN=a\\", "bad escape" },
		{ "CN=a\\q", "bad escape" },
		{ "CN=a\\4", "bad escape" },
		{ "CN=a\\4g", "bad escape" },
		{ "CN=\xff", "not valid UTF-8" },
		{ "CN=a\xc3", "not valid UTF-8" },
		{ "CN=\xc0\xaf", "not valid UTF-8" },              /* overlong '/' */
		{ "CN=\xed\xa0\x80", "not valid UTF-8" },          /* surrogate */
		{ "CN=\xf4\x90\x80\x80", "not valid UTF-8" },      /* over U+10FFFF */
		{ "CN=\\FF", "not valid UTF-8" },
		{ "CN=a\tb", "control character" },
		{ "CN=a\nb", "control character" },
		{ "CN=a\x7f", "control character" },
		{ "CN=a\\0Ab", "control character U+000A" },
		{ "CN=a\\00b", "control character U+0000" },
		{ "CN=\xc2\x85", "control character U+0085" },     /* NEL */
		{ "CN=abc\xe2\x80\xae", "control character U+202E" }, /* RIGHT-TO-LEFT OVERRIDE */
		{ "C=USA", "two-letter" },
		{ "C=U", "two-letter" },
		{ "C=U1", "two-letter" },
		{ "C=\xc3\x89S", "two-letter" },
		{ "serialNumber=ab_c", "only A-Z" },
		{ "serialNumber=a@b", "only A-Z" },
		{ "serialNumber=a*b", "only A-Z" },
		{ "serialNumber=\xc3\xa9", "only A-Z" },
		{ "emailAddress=zo\xc3\xab@example.com", "only ASCII" },
		{ "DC=-a", "one DNS label" },
		{ "DC=a-", "one DNS label" },
		{ "DC=a.b", "one DNS label" },
		{ "DC=a_b", "one DNS label" },
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++)
		parse_fails(cases[i].in, TSR_ERR_PARSE, cases[i].detail);
}

/* ------------------------------------------------------------------ formatting others' names */
static void test_name_format_foreign(void **state)
{
	X509_NAME *n = X509_NAME_new();
	char *s;
	static const unsigned char bmp[] = { 0x00, 'Z', 0x00, 'o', 0x00, 0xeb };

	(void)state;
	/* Least specific first, as X.509 stores it. */
	assert_true(X509_NAME_add_entry_by_NID(n, NID_countryName, V_ASN1_PRINTABLESTRING,
	    (const unsigned char *)"US", -1, -1, 0));
	/* A multi-valued RDN: CN + UID. */
	assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName, V_ASN1_BMPSTRING, bmp,
	    sizeof(bmp), -1, 0));
	assert_true(X509_NAME_add_entry_by_NID(n, NID_userId, V_ASN1_UTF8STRING,
	    (const unsigned char *)"u1", -1, -1, -1));
	/* An attribute Tessera does not know, and a control character. */
	assert_true(X509_NAME_add_entry_by_NID(n, NID_businessCategory, V_ASN1_UTF8STRING,
	    (const unsigned char *)"ab", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_NID(n, NID_organizationName, V_ASN1_UTF8STRING,
	    (const unsigned char *)"a\nb\xe2\x80\xae", -1, -1, 0));
	s = format_ok(n);
	assert_string_equal(s, "O=a\\0Ab\\E2\\80\\AE,2.5.4.15=#0C026162,UID=u1+CN=Zo\xc3\xab,C=US");
	/* The parser refuses what it does not support, with a reason. */
	parse_fails(s, TSR_ERR_PARSE, "control character");
	free(s);
	X509_NAME_free(n);

	n = X509_NAME_new();
	s = format_ok(n);
	assert_string_equal(s, "");
	free(s);
	X509_NAME_free(n);
}

static void test_name_attr_names(void **state)
{
	(void)state;
	assert_string_equal(tsr_name_attr_name(NID_commonName), "CN");
	assert_string_equal(tsr_name_attr_name(NID_serialNumber), "serialNumber");
	assert_string_equal(tsr_name_attr_name(NID_givenName), "GN");
	assert_null(tsr_name_attr_name(NID_businessCategory));
	assert_int_equal(tsr_name_attr_nid("CN"), NID_commonName);
	assert_int_equal(tsr_name_attr_nid("cn"), NID_commonName);
	assert_int_equal(tsr_name_attr_nid("emailAddress"), NID_pkcs9_emailAddress);
	assert_int_equal(tsr_name_attr_nid("givenName"), NID_givenName);
	assert_int_equal(tsr_name_attr_nid("SN"), NID_surname);
	assert_int_equal(tsr_name_attr_nid("bogus"), NID_undef);
	assert_int_equal(tsr_name_attr_nid(""), NID_undef);
	assert_int_equal(tsr_name_attr_nid(NULL), NID_undef);
}

/* ------------------------------------------------------------------ SANs */
static void san_ok(const char *in, enum tsr_san_type type, const char *value)
{
	struct tsr_san san;
	int rc = tsr_san_parse(in, &san);

	if (rc != 0)
		print_error("tsr_san_parse(\"%s\"): %d %s\n", in, rc, tsr_error_detail());
	assert_int_equal(rc, 0);
	assert_int_equal(san.type, type);
	assert_string_equal(san.value, value);
	tsr_san_clear(&san);
	assert_null(san.value);
}

static void san_fails(const char *in, int code, const char *detail)
{
	struct tsr_san san;
	int rc = tsr_san_parse(in, &san);

	if (rc != code || strstr(tsr_error_detail(), detail) == NULL)
		print_error("tsr_san_parse(\"%s\"): %d \"%s\", wanted %d \"%s\"\n", in, rc,
		    tsr_error_detail(), code, detail);
	assert_int_equal(rc, code);
	assert_null(san.value);
	assert_non_null(strstr(tsr_error_detail(), detail));
}

static void test_san_dns(void **state)
{
	char *label63 = repeat("dns:", "a", 63, ".example");
	char *label64 = repeat("dns:", "a", 64, ".example");
	char *l63 = repeat("", "a", 63, "");
	char name253[300], name254[300];

	(void)state;
	/* Three labels of 63, one of 61 or 62, and three dots: 253 and 254 bytes. */
	snprintf(name253, sizeof(name253), "dns:%s.%s.%s.%.61s", l63, l63, l63, l63);
	snprintf(name254, sizeof(name254), "dns:%s.%s.%s.%.62s", l63, l63, l63, l63);
	san_ok("dns:WWW.Example.COM", TSR_SAN_DNS, "www.example.com");
	san_ok("DNS:a-b.c-d.example", TSR_SAN_DNS, "a-b.c-d.example");
	san_ok("dns:xn--bcher-kva.example", TSR_SAN_DNS, "xn--bcher-kva.example");
	san_ok("dns:1.example", TSR_SAN_DNS, "1.example");
	san_ok(label63, TSR_SAN_DNS, label63 + 4);
	assert_int_equal(strlen(name253), 4 + 253);
	san_ok(name253, TSR_SAN_DNS, name253 + 4);
	san_fails(label64, TSR_ERR_PARSE, "label over 63");
	san_fails(name254, TSR_ERR_PARSE, "over 253");
	san_fails("dns:", TSR_ERR_PARSE, "empty dns SAN");
	san_fails("dns:*.example.com", TSR_ERR_PARSE, "wildcards");
	san_fails("dns:example.com.", TSR_ERR_PARSE, "trailing dot");
	san_fails("dns:localhost", TSR_ERR_PARSE, "at least two labels");
	san_fails("dns:a..example", TSR_ERR_PARSE, "empty label");
	san_fails("dns:.example", TSR_ERR_PARSE, "empty label");
	san_fails("dns:-a.example", TSR_ERR_PARSE, "'-'");
	san_fails("dns:a-.example", TSR_ERR_PARSE, "'-'");
	san_fails("dns:a_b.example", TSR_ERR_PARSE, "'_' is not allowed");
	san_fails("dns:exa mple.com", TSR_ERR_PARSE, "' ' is not allowed");
	san_fails("dns:192.0.2.1", TSR_ERR_PARSE, "use ip:");
	san_fails("dns:b\xc3\xbc" "cher.example", TSR_ERR_PARSE, "non-ASCII");
	san_fails("dns:a.example\n", TSR_ERR_PARSE, "control character");
	san_fails("dns:a.exa\x01mple", TSR_ERR_PARSE, "control character 0x01");
	free(label63);
	free(label64);
	free(l63);
}

static void test_san_email(void **state)
{
	char *local64 = repeat("email:", "a", 64, "@example.com");
	char *local65 = repeat("email:", "a", 65, "@example.com");

	(void)state;
	/* The domain is lower-cased, the local part kept. */
	san_ok("email:Jane.Doe@Example.COM", TSR_SAN_EMAIL, "Jane.Doe@example.com");
	san_ok("EMAIL:a+tag@x.example", TSR_SAN_EMAIL, "a+tag@x.example");
	san_ok("email:!#$%&'*+-/=?^_`{|}~@x.example", TSR_SAN_EMAIL,
	    "!#$%&'*+-/=?^_`{|}~@x.example");
	san_ok(local64, TSR_SAN_EMAIL, local64 + 6);
	san_fails(local65, TSR_ERR_PARSE, "1 to 64");
	san_fails("email:noat.example", TSR_ERR_PARSE, "exactly one '@'");
	san_fails("email:a@b@c.example", TSR_ERR_PARSE, "exactly one '@'");
	san_fails("email:@x.example", TSR_ERR_PARSE, "local part");
	san_fails("email:a@", TSR_ERR_PARSE, "empty DNS name");
	san_fails("email:.a@x.example", TSR_ERR_PARSE, "start or end with '.'");
	san_fails("email:a.@x.example", TSR_ERR_PARSE, "start or end with '.'");
	san_fails("email:a..b@x.example", TSR_ERR_PARSE, "'..'");
	san_fails("email:a b@x.example", TSR_ERR_PARSE, "' ' is not allowed");
	san_fails("email:\"a\"@x.example", TSR_ERR_PARSE, "quoted");
	san_fails("email:a@x", TSR_ERR_PARSE, "two labels");
	san_fails("email:a@x_y.example", TSR_ERR_PARSE, "'_'");
	san_fails("email:zo\xc3\xab@x.example", TSR_ERR_PARSE, "non-ASCII");
	free(local64);
	free(local65);
}

static void test_san_ip(void **state)
{
	(void)state;
	san_ok("ip:192.0.2.1", TSR_SAN_IP, "192.0.2.1");
	san_ok("IP:0.0.0.0", TSR_SAN_IP, "0.0.0.0");
	san_ok("ip:2001:DB8:0:0:0:0:0:1", TSR_SAN_IP, "2001:db8::1");
	san_ok("ip:2001:0db8::0001", TSR_SAN_IP, "2001:db8::1");
	san_ok("ip:::1", TSR_SAN_IP, "::1");
	san_ok("ip:::ffff:192.0.2.1", TSR_SAN_IP, "::ffff:192.0.2.1");
	san_fails("ip:192.0.2", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip:192.0.2.256", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip:192.0.2.1/24", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip: 192.0.2.1", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip:0x7f.0.0.1", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip:example.com", TSR_ERR_PARSE, "not an IPv4");
	san_fails("ip:2001:db8::1%eth0", TSR_ERR_PARSE, "not an IPv6");
	san_fails("ip:1::2::3", TSR_ERR_PARSE, "not an IPv6");
	san_fails("ip:[::1]", TSR_ERR_PARSE, "not an IPv6");
}

static void test_san_uri(void **state)
{
	char *huge = repeat("uri:https://a.example/", "a", 1010, "");

	(void)state;
	san_ok("uri:HTTPS://Example.com/Path?q=1#f", TSR_SAN_URI, "https://Example.com/Path?q=1#f");
	san_ok("URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", TSR_SAN_URI,
	    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
	san_ok("uri:https://a.example/%41%2f", TSR_SAN_URI, "https://a.example/%41%2f");
	san_ok("uri:https://user@[2001:db8::1]:8443/x", TSR_SAN_URI,
	    "https://user@[2001:db8::1]:8443/x");
	san_ok("uri:mailto:a@b.example", TSR_SAN_URI, "mailto:a@b.example");
	san_fails("uri:example.com", TSR_ERR_PARSE, "SCHEME:REST");
	san_fails("uri:/relative/path", TSR_ERR_PARSE, "scheme");
	san_fails("uri:1http://x.example", TSR_ERR_PARSE, "scheme");
	san_fails("uri:http:", TSR_ERR_PARSE, "SCHEME:REST");
	san_fails("uri:https://", TSR_ERR_PARSE, "empty host");
	san_fails("uri:https:///path", TSR_ERR_PARSE, "empty host");
	san_fails("uri:https://user@:80/", TSR_ERR_PARSE, "empty host");
	san_fails("uri:https://exa mple.com", TSR_ERR_PARSE, "' ' is not allowed");
	san_fails("uri:https://a.example/<x>", TSR_ERR_PARSE, "'<'");
	san_fails("uri:https://a.example/\"", TSR_ERR_PARSE, "'\"'");
	san_fails("uri:https://a.example/%zz", TSR_ERR_PARSE, "'%'");
	san_fails("uri:https://a.example/%4", TSR_ERR_PARSE, "'%'");
	san_fails("uri:https://a.example/\x7f", TSR_ERR_PARSE, "control character");
	san_fails("uri:https://b\xc3\xbc" "cher.example/", TSR_ERR_PARSE, "non-ASCII");
	san_fails(huge, TSR_ERR_TOO_LARGE, "longer than 1024");
	free(huge);
}

static void test_san_syntax(void **state)
{
	struct tsr_san san;

	(void)state;
	san_fails("www.example.com", TSR_ERR_PARSE, "TYPE:VALUE");
	san_fails("", TSR_ERR_PARSE, "TYPE:VALUE");
	san_fails("foo:bar", TSR_ERR_PARSE, "unknown SAN type 'foo'");
	san_fails(":x.example", TSR_ERR_PARSE, "unknown SAN type");
	san_fails("dns :x.example", TSR_ERR_PARSE, "unknown SAN type");
	san_fails("dirName:CN=x", TSR_ERR_PARSE, "unknown SAN type");
	assert_int_equal(tsr_san_parse(NULL, &san), TSR_ERR_INVALID);
	assert_null(san.value);
	tsr_san_clear(NULL);
}

static void test_san_format(void **state)
{
	static const char *in[] = { "dns:A.Example", "email:x@Y.example", "ip:2001:db8::0:1",
		"uri:https://a.example/" };
	struct tsr_san sans[4];
	char *s = NULL;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(tsr_san_parse(in[i], &sans[i]), 0);
	assert_int_equal(tsr_sans_format(sans, 4, &s), 0);
	assert_string_equal(s, "dns:a.example, email:x@y.example, ip:2001:db8::1, "
	    "uri:https://a.example/");
	free(s);
	assert_int_equal(tsr_sans_format(sans, 0, &s), 0);
	assert_string_equal(s, "");
	free(s);
	for (size_t i = 0; i < 4; i++)
		tsr_san_clear(&sans[i]);
	assert_int_equal(tsr_sans_format(sans, 1, &s), TSR_ERR_INVALID);
	assert_null(s);
	assert_string_equal(tsr_san_type_name(TSR_SAN_DNS), "dns");
	assert_string_equal(tsr_san_type_name(TSR_SAN_EMAIL), "email");
	assert_string_equal(tsr_san_type_name(TSR_SAN_IP), "ip");
	assert_string_equal(tsr_san_type_name(TSR_SAN_URI), "uri");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_basic_order_and_types),
		cmocka_unit_test(test_name_spaces_after_comma),
		cmocka_unit_test(test_name_types_case_insensitive),
		cmocka_unit_test(test_name_every_type_and_encoding),
		cmocka_unit_test(test_name_utf8),
		cmocka_unit_test(test_name_escapes_parse),
		cmocka_unit_test(test_name_format_escapes),
		cmocka_unit_test(test_name_round_trip),
		cmocka_unit_test(test_name_round_trip_at_cap),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_name_length_counts_characters),
		cmocka_unit_test(test_name_size_cap),
		cmocka_unit_test(test_name_refusals),
		cmocka_unit_test(test_name_format_foreign),
		cmocka_unit_test(test_name_attr_names),
		cmocka_unit_test(test_san_dns),
		cmocka_unit_test(test_san_email),
		cmocka_unit_test(test_san_ip),
		cmocka_unit_test(test_san_uri),
		cmocka_unit_test(test_san_syntax),
		cmocka_unit_test(test_san_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
