/*
 * parse.c - what an EST or Tessera server answers, parsed without trusting
 * it: certs-only PKCS#7, csrattrs, problem documents, the Test My
 * Certificate nonce and verdict.  Every parser caps sizes and counts and
 * consumes its whole input; tests/fuzz/fuzz_est_client.c fuzzes them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#include "client/client.h"

#define CSRATTRS_MAX 64    /* attributes and OIDs in one csrattrs answer */
#define VALUES_MAX 16      /* values of one attribute */

/* ------------------------------------------------------------------ base64 bodies */
static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A decoded body. */
struct der {
	uint8_t *data;
	size_t len;
};

/* Decode a base64 body (RFC 7030 bodies are base64 with line breaks;
 * whitespace around the text is allowed) into out->data (free()). */
static int body_decode(const uint8_t *body, size_t len, struct der *out)
{
	size_t start = 0, end = len, max;
	int r;

	out->data = NULL;
	out->len = 0;
	if (body == NULL)
		body = (const uint8_t *)"";   /* an empty answer */
	if (len > TSR_EST_BODY_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the server's answer is over %u bytes",
		    TSR_EST_BODY_MAX);
	while (start < end && is_space(body[start]))
		start++;
	while (end > start && is_space(body[end - 1]))
		end--;
	max = tsr_base64_decoded_max(end - start);
	if ((out->data = malloc(max ? max : 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	r = tsr_base64_decode((const char *)body + start, end - start, TSR_BASE64_LINES,
	    out->data, max, &out->len);
	if (r != 0) {
		free(out->data);
		out->data = NULL;
		return tsr_error_wrap(TSR_ERR_PARSE, "the server's answer is not base64");
	}
	return 0;
}

/* ------------------------------------------------------------------ certs-only */
static int certs_of(PKCS7 *p7, STACK_OF(X509) **out)
{
	STACK_OF(X509) *certs, *copy = NULL;
	int n;

	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return tsr_error(TSR_ERR_PARSE, "the server's answer is not a PKCS#7 SignedData");
	certs = p7->d.sign->cert;
	n = certs != NULL ? sk_X509_num(certs) : 0;
	if (n <= 0)
		return tsr_error(TSR_ERR_PARSE, "the server's certs-only answer holds no certificate");
	if (n > TSR_EST_CERTS_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the server's answer holds %d certificates "
		    "(at most %d)", n, TSR_EST_CERTS_MAX);
	if ((copy = X509_chain_up_ref(certs)) == NULL)
		return tsr_error_openssl(TSR_ERR_NOMEM, "out of memory");
	*out = copy;
	return 0;
}

/* Parse a certs-only PKCS#7 answer (see client.h). */
int tsr_est_parse_certs(const uint8_t *body, size_t len, STACK_OF(X509) **out)
{
	const unsigned char *p;
	struct der der;
	PKCS7 *p7 = NULL;
	int r;

	*out = NULL;
	if ((r = body_decode(body, len, &der)) != 0)
		return r;
	p = der.data;
	if (der.len == 0 || der.len > LONG_MAX ||
	    (p7 = d2i_PKCS7(NULL, &p, (long)der.len)) == NULL || p != der.data + der.len) {
		r = tsr_error_openssl(TSR_ERR_PARSE, "the server's answer is not one DER PKCS#7");
		goto out;
	}
	r = certs_of(p7, out);
out:
	ERR_clear_error();
	PKCS7_free(p7);
	free(der.data);
	return r;
}

/* ------------------------------------------------------------------ csrattrs */
/* The DER of a constructed ASN1_TYPE (SEQUENCE or SET), which OpenSSL keeps
 * whole, tag and length included. */
static const ASN1_STRING *constructed(const ASN1_TYPE *t, int type)
{
	if (t == NULL || ASN1_TYPE_get(t) != type)
		return NULL;
	return type == V_ASN1_SEQUENCE ? t->value.sequence : t->value.set;
}

/* Parse a SEQUENCE OF or SET OF ANY that is the whole of s. */
static STACK_OF(ASN1_TYPE) *parse_any(const ASN1_STRING *s, bool set)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	long n = ASN1_STRING_length(s);
	STACK_OF(ASN1_TYPE) *sk;

	sk = set ? d2i_ASN1_SET_ANY(NULL, &p, n) : d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
	if (sk != NULL && p != ASN1_STRING_get0_data(s) + n) {
		sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
		return NULL;
	}
	return sk;
}

/* The key type one value of an id-ecPublicKey or rsaEncryption attribute
 * names, TSR_KEY_NONE if none of ours. */
static enum tsr_key_type value_key_type(int attr_nid, const ASN1_TYPE *v)
{
	int64_t bits;

	if (attr_nid == NID_X9_62_id_ecPublicKey && ASN1_TYPE_get(v) == V_ASN1_OBJECT) {
		int curve = OBJ_obj2nid(v->value.object);

		return curve == NID_X9_62_prime256v1 ? TSR_KEY_EC_P256 :
		    curve == NID_secp384r1 ? TSR_KEY_EC_P384 : TSR_KEY_NONE;
	}
	if (attr_nid == NID_rsaEncryption && ASN1_TYPE_get(v) == V_ASN1_INTEGER) {
		if (ASN1_INTEGER_get_int64(&bits, v->value.integer) != 1)
			return TSR_KEY_NONE;
		return bits == 2048 ? TSR_KEY_RSA_2048 : bits == 3072 ? TSR_KEY_RSA_3072 :
		    bits == 4096 ? TSR_KEY_RSA_4096 : TSR_KEY_NONE;
	}
	return TSR_KEY_NONE;
}

static void add_type(struct tsr_est_csrattrs *out, enum tsr_key_type t)
{
	if (t == TSR_KEY_NONE)
		return;
	if (out->preferred == TSR_KEY_NONE)
		out->preferred = t;
	out->key_types |= 1u << t;
}

/* One Attribute ::= SEQUENCE { type OID, values SET OF ANY }. */
static int csr_attribute(const ASN1_STRING *der, struct tsr_est_csrattrs *out)
{
	STACK_OF(ASN1_TYPE) *attr = parse_any(der, false), *values = NULL;
	const ASN1_TYPE *type;
	const ASN1_STRING *set;
	int r = 0, nid;

	if (attr == NULL || sk_ASN1_TYPE_num(attr) != 2 ||
	    ASN1_TYPE_get(type = sk_ASN1_TYPE_value(attr, 0)) != V_ASN1_OBJECT ||
	    (set = constructed(sk_ASN1_TYPE_value(attr, 1), V_ASN1_SET)) == NULL ||
	    (values = parse_any(set, true)) == NULL) {
		r = tsr_error(TSR_ERR_PARSE, "a csrattrs attribute is not SEQUENCE { OID, SET }");
		goto out;
	}
	if (sk_ASN1_TYPE_num(values) > VALUES_MAX) {
		r = tsr_error(TSR_ERR_TOO_LARGE, "a csrattrs attribute has over %d values",
		    VALUES_MAX);
		goto out;
	}
	nid = OBJ_obj2nid(type->value.object);
	for (int i = 0; i < sk_ASN1_TYPE_num(values); i++)
		add_type(out, value_key_type(nid, sk_ASN1_TYPE_value(values, i)));
out:
	sk_ASN1_TYPE_pop_free(attr, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(values, ASN1_TYPE_free);
	return r;
}

/* Parse a csrattrs answer (see client.h). */
int tsr_est_parse_csrattrs(const uint8_t *body, size_t len, struct tsr_est_csrattrs *out)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const unsigned char *p;
	struct der der;
	int r, n;

	memset(out, 0, sizeof(*out));
	if ((r = body_decode(body, len, &der)) != 0)
		return r;
	if (der.len == 0)
		goto out;   /* no attributes: the server leaves the choice to us */
	p = der.data;
	seq = der.len <= LONG_MAX ? d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)der.len) : NULL;
	if (seq == NULL || p != der.data + der.len) {
		r = tsr_error_openssl(TSR_ERR_PARSE, "the csrattrs answer is not one DER SEQUENCE");
		goto out;
	}
	if ((n = sk_ASN1_TYPE_num(seq)) > CSRATTRS_MAX) {
		r = tsr_error(TSR_ERR_TOO_LARGE, "the csrattrs answer has over %d entries",
		    CSRATTRS_MAX);
		goto out;
	}
	for (int i = 0; i < n && r == 0; i++) {
		const ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);
		const ASN1_STRING *attr = constructed(t, V_ASN1_SEQUENCE);

		if (attr != NULL)
			r = csr_attribute(attr, out);
		else if (ASN1_TYPE_get(t) != V_ASN1_OBJECT)
			r = tsr_error(TSR_ERR_PARSE, "a csrattrs entry is neither an OID nor an "
			    "attribute");
		out->n_attrs++;
	}
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	ERR_clear_error();   /* what OpenSSL queued about entries we skipped or refused */
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	free(der.data);
	return r;
}

/* ------------------------------------------------------------------ JSON answers */
/* Copy s as printable ASCII into out (size > 0). */
static void printable(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

static json_t *json_body(const uint8_t *body, size_t len)
{
	if (body == NULL || len > TSR_EST_BODY_MAX)
		return NULL;
	return json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
}

/* The TSR_ERR_* named by a problem type's last path segment, or 0. */
static int code_of_type(const char *type)
{
	const char *name = type ? strrchr(type, '/') : NULL;

	if (name == NULL)
		return 0;
	if (strcmp(name + 1, "unauthenticated") == 0)
		return TSR_ERR_AUTH;
	for (int c = TSR_ERR_NOMEM; c > TSR_ERR_LAST; c--)
		if (strcmp(name + 1, tsr_error_name(c)) == 0)
			return c;
	return 0;
}

/* A problem document's detail and code (see client.h). */
int tsr_est_parse_problem(const uint8_t *body, size_t len, int fallback, char *detail,
    size_t size)
{
	json_t *doc = json_body(body, len);
	const char *text;
	int code;

	detail[0] = '\0';
	if (!json_is_object(doc)) {
		json_decref(doc);
		return fallback;
	}
	text = json_string_value(json_object_get(doc, "detail"));
	if (text == NULL)
		text = json_string_value(json_object_get(doc, "title"));
	printable(text, detail, size);
	code = code_of_type(json_string_value(json_object_get(doc, "type")));
	json_decref(doc);
	return code != 0 ? code : fallback;
}

static bool base64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/* The nonce answer (see client.h). */
int tsr_client_parse_nonce(const uint8_t *body, size_t len, char **message, char **nonce)
{
	json_t *doc = json_body(body, len);
	const char *n, *m;
	size_t nlen;
	int r = 0;

	*message = *nonce = NULL;
	n = json_string_value(json_object_get(doc, "nonce"));
	m = json_string_value(json_object_get(doc, "message"));
	if (n == NULL || m == NULL) {
		r = tsr_error(TSR_ERR_PARSE, "the server's nonce answer lacks nonce or message");
		goto out;
	}
	nlen = strlen(n);
	for (size_t i = 0; i < nlen; i++)
		if (!base64url_char(n[i]))
			nlen = 0;
	if (nlen < 16 || nlen > 64) {
		r = tsr_error(TSR_ERR_PARSE, "the server's nonce is not 16 to 64 base64url "
		    "characters");
		goto out;
	}
	/* the token signs this message only: never text a server chose freely */
	if (strncmp(m, TSR_CLIENT_TEST_PREFIX, strlen(TSR_CLIENT_TEST_PREFIX)) != 0 ||
	    strcmp(m + strlen(TSR_CLIENT_TEST_PREFIX), n) != 0) {
		r = tsr_error(TSR_ERR_PARSE, "the server asks to sign a message other than \"%s\" "
		    "and its nonce: refused", TSR_CLIENT_TEST_PREFIX);
		goto out;
	}
	if ((*message = strdup(m)) == NULL || (*nonce = strdup(n)) == NULL) {
		free(*message);
		*message = NULL;
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
out:
	json_decref(doc);
	return r;
}

const char *const tsr_client_test_checks[4] = { "signature", "chain", "validity", "status" };

/* The verdict of Test My Certificate (see client.h). */
int tsr_client_parse_test_result(const uint8_t *body, size_t len,
    struct tsr_client_test_result *out)
{
	json_t *doc = json_body(body, len), *checks, *good;
	int r = 0;

	memset(out, 0, sizeof(*out));
	good = json_object_get(doc, "good");
	checks = json_object_get(doc, "checks");
	if (!json_is_boolean(good) || !json_is_object(checks)) {
		r = tsr_error(TSR_ERR_PARSE, "the server's test answer lacks good or checks");
		goto out;
	}
	out->good = json_is_true(good);
	printable(json_string_value(json_object_get(doc, "serial")), out->serial,
	    sizeof(out->serial));
	printable(json_string_value(json_object_get(doc, "subject")), out->subject,
	    sizeof(out->subject));
	for (size_t i = 0; i < TSR_ARRAY_LEN(out->checks); i++) {
		json_t *c = json_object_get(checks, tsr_client_test_checks[i]);
		const char *res = json_string_value(json_object_get(c, "result"));

		printable(res ? res : "unknown", out->checks[i].result,
		    sizeof(out->checks[i].result));
		printable(json_string_value(json_object_get(c, "detail")), out->checks[i].detail,
		    sizeof(out->checks[i].detail));
		/* "good" overall must agree with the checks, or it is not believed */
		if (strcmp(out->checks[i].result, "good") != 0)
			out->good = false;
	}
out:
	json_decref(doc);
	return r;
}
