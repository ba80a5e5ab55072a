/*
 * pub_api.c - public certificate lookups for relying parties and the
 * "verify a certificate" page: what a certificate holds, whether it chains
 * to this CA, and what the store says of its status.  Anonymous: the
 * answers hold only what the certificate itself shows plus its status
 * (no application, no applicant data).  docs/api.md#certificate-check.
 *
 * A certificate counts as this CA's only when its serial is in the store
 * and the stored DER is byte for byte the one given; anything else is
 * "unknown", never "valid" (a forged certificate may copy a real serial).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http/http.h"
#include "ra/app.h"

#define CERT_TEXT_MAX 65536      /* characters of "pem" or "der" */
#define CERT_DER_MAX 65536       /* bytes of one certificate */
#define LIST_MAX 64              /* SANs, EKUs, policies shown */

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

static int nomem(void)
{
	return tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* A JSON string of s; bytes that are not valid UTF-8 (a foreign
 * certificate may hold anything) become '?'. */
static json_t *text_json(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	char *copy;

	if (v != NULL)
		return v;
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
	copy[n] = '\0';
	v = json_stringn(copy, n);
	free(copy);
	return v;
}

/* ------------------------------------------------------------------ parsing */

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One DER certificate, nothing after it. */
static int parse_der(const uint8_t *der, size_t len, X509 **out)
{
	const uint8_t *p = der;

	*out = NULL;
	if (len == 0)
		return tsr_error(TSR_ERR_INVALID, "the certificate is empty");
	if (len > CERT_DER_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the certificate is over 64 KiB");
	if ((*out = d2i_X509(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return tsr_error(TSR_ERR_INVALID, "this is not a certificate (X.509 in DER)");
	}
	if (p != der + len) {
		X509_free(*out);
		*out = NULL;
		return tsr_error(TSR_ERR_INVALID, "there are %zu bytes after the certificate: "
		    "give one certificate and nothing else", (size_t)(der + len - p));
	}
	return 0;
}

/* Whether s[0..n) starts with the literal lit. */
static bool starts(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(s, lit, k) == 0;
}

/* One PEM certificate ("-----BEGIN CERTIFICATE-----", strict base64 in
 * lines, "-----END CERTIFICATE-----"), with only white space around it,
 * into *der (a new buffer, free()). */
static int parse_pem(const char *s, size_t n, uint8_t **der, size_t *der_len)
{
	size_t i = 0, body, end, max;
	int r;

	*der = NULL;
	*der_len = 0;
	while (i < n && is_space((unsigned char)s[i]))
		i++;
	if (i == n)
		return tsr_error(TSR_ERR_INVALID, "/pem: the certificate is empty");
	if (!starts(s + i, n - i, pem_begin))
		return tsr_error(TSR_ERR_INVALID, "/pem: a PEM certificate starts with the line "
		    "%s", pem_begin);
	i += strlen(pem_begin);
	if (starts(s + i, n - i, "\r\n"))
		i += 2;
	else if (starts(s + i, n - i, "\n"))
		i++;
	else
		return tsr_error(TSR_ERR_INVALID, "/pem: the line %s must end there", pem_begin);
	body = i;
	for (end = body; end < n && !starts(s + end, n - end, "-----"); end++)
		;
	if (end == n || !starts(s + end, n - end, pem_end))
		return tsr_error(TSR_ERR_INVALID, "/pem: the certificate has no line %s; is it "
		    "cut short?", pem_end);
	for (i = end + strlen(pem_end); i < n; i++) {
		if (starts(s + i, n - i, "-----BEGIN"))
			return tsr_error(TSR_ERR_INVALID, "/pem: this holds more than one PEM block; "
			    "give only one certificate");
		if (!is_space((unsigned char)s[i]))
			return tsr_error(TSR_ERR_INVALID, "/pem: there is text after the line %s",
			    pem_end);
	}
	max = tsr_base64_decoded_max(end - body);
	if (end == body)
		return tsr_error(TSR_ERR_INVALID, "/pem: there is nothing between the BEGIN and "
		    "END lines");
	if ((*der = malloc(max > 0 ? max : 1)) == NULL)
		return nomem();
	r = tsr_base64_decode(s + body, end - body, TSR_BASE64_LINES, *der, max, der_len);
	if (r != 0) {
		free(*der);
		*der = NULL;
		tsr_error_clear();
		return tsr_error(TSR_ERR_INVALID, "/pem: the lines between BEGIN and END are not "
		    "base64 (a line of 64 characters at most, nothing else on it)");
	}
	return 0;
}

/* The certificate of a check's body: "pem" or "der", exactly one. */
static int body_cert(const json_t *body, uint8_t **der, size_t *der_len, X509 **x)
{
	const char *pem = json_string_value(json_object_get(body, "pem"));
	const char *b64 = json_string_value(json_object_get(body, "der"));
	int r;

	*x = NULL;
	*der = NULL;
	*der_len = 0;
	if ((pem == NULL) == (b64 == NULL))
		return tsr_error(TSR_ERR_INVALID, "give the certificate as either \"pem\" or "
		    "\"der\" (base64), not both or neither");
	if (pem != NULL) {
		if ((r = parse_pem(pem, json_string_length(json_object_get(body, "pem")), der,
		    der_len)) != 0)
			return r;
	} else {
		size_t n = json_string_length(json_object_get(body, "der"));
		size_t max = tsr_base64_decoded_max(n);

		if ((*der = malloc(max > 0 ? max : 1)) == NULL)
			return nomem();
		if (tsr_base64_decode(b64, n, 0, *der, max, der_len) != 0) {
			tsr_error_clear();
			r = tsr_error(TSR_ERR_INVALID, "/der: this is not base64 (the standard "
			    "alphabet with padding, on one line)");
			goto fail;
		}
	}
	if ((r = parse_der(*der, *der_len, x)) == 0)
		return 0;
	if (pem != NULL) {
		/* Name the field for the page. */
		char detail[256];

		snprintf(detail, sizeof(detail), "%s", tsr_error_detail());
		r = tsr_error(r, "/pem: %s", detail);
	} else {
		char detail[256];

		snprintf(detail, sizeof(detail), "%s", tsr_error_detail());
		r = tsr_error(r, "/der: %s", detail);
	}
fail:
	free(*der);
	*der = NULL;
	*der_len = 0;
	return r;
}

/* ------------------------------------------------------------------ describing */

/* A name in RFC 4514 form, UTF-8. */
static json_t *name_json(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	json_t *v = NULL;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) >= 0)
		v = text_json(p != NULL ? p : "", (size_t)n);
	BIO_free(b);
	return v;
}

static bool time_of(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* "dns:a.example", "email:x@y", "uri:...", "ip:192.0.2.1", or "other". */
static json_t *san_json(const GENERAL_NAME *g)
{
	const char *kind = NULL;
	const ASN1_STRING *s = NULL;
	char buf[300];

	switch (g->type) {
	case GEN_DNS: kind = "dns"; s = g->d.dNSName; break;
	case GEN_EMAIL: kind = "email"; s = g->d.rfc822Name; break;
	case GEN_URI: kind = "uri"; s = g->d.uniformResourceIdentifier; break;
	case GEN_IPADD: {
		const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
		int len = ASN1_STRING_length(g->d.iPAddress);

		if (len == 4) {
			snprintf(buf, sizeof(buf), "ip:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		} else if (len == 16) {
			size_t o = (size_t)snprintf(buf, sizeof(buf), "ip:");
			for (int i = 0; i < 16; i += 2)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%x", i ? ":" : "",
				    (unsigned)(a[i] << 8 | a[i + 1]));
		} else {
			snprintf(buf, sizeof(buf), "ip:?");
		}
		return json_string(buf);
	}
	case GEN_DIRNAME: {
		json_t *n = name_json(g->d.directoryName);
		json_t *v;

		if (n == NULL)
			return NULL;
		v = json_sprintf("dirname:%s", json_string_value(n));
		json_decref(n);
		return v;
	}
	default:
		return json_string("other");
	}
	snprintf(buf, sizeof(buf), "%s:", kind);
	{
		size_t k = strlen(buf), n = (size_t)ASN1_STRING_length(s);
		const unsigned char *d = ASN1_STRING_get0_data(s);

		if (n > sizeof(buf) - k - 1)
			n = sizeof(buf) - k - 1;
		memcpy(buf + k, d, n);
		return text_json(buf, k + n);
	}
}

/* An OID's short name when OpenSSL knows one, else its dotted form. */
static json_t *oid_json(const ASN1_OBJECT *o)
{
	char buf[128];

	if (OBJ_obj2nid(o) == NID_undef && OBJ_obj2txt(buf, sizeof(buf), o, 1) > 0)
		return json_string(buf);
	if (OBJ_obj2nid(o) != NID_undef)
		return json_string(OBJ_nid2ln(OBJ_obj2nid(o)));
	return json_string("?");
}

static json_t *key_json(X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	enum tsr_key_type t = TSR_KEY_NONE;
	char buf[64];

	if (pk == NULL) {
		ERR_clear_error();
		return json_string("unreadable");
	}
	if (tsr_pubkey_classify(pk, &t) == 0)
		return json_string(tsr_key_type_name(t));
	tsr_error_clear();
	ERR_clear_error();
	snprintf(buf, sizeof(buf), "%s, %d bits", OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) ?
	    OBJ_nid2sn(EVP_PKEY_get_base_id(pk)) : "unknown", EVP_PKEY_get_bits(pk));
	return json_string(buf);
}

/* The serial's octets in lower-case hex (the store's form); "-" first for
 * a negative one (never ours). */
static char *serial_hex(X509 *x)
{
	const ASN1_INTEGER *i = X509_get0_serialNumber(x);
	size_t n = (size_t)ASN1_STRING_length(i);
	char *s = malloc(2 * n + 2);

	if (s == NULL)
		return NULL;
	s[0] = '\0';
	if (ASN1_STRING_type(i) == V_ASN1_NEG_INTEGER)
		strcpy(s, "-");
	tsr_hex_encode(ASN1_STRING_get0_data(i), n, s + strlen(s));
	if (s[0] == '\0')
		strcpy(s, "0");
	return s;
}

/* What x holds, as an object. */
static int contents(X509 *x, const uint8_t *der, size_t der_len, json_t **out)
{
	json_t *v = json_object(), *sans = json_array(), *ekus = json_array(),
	    *pols = json_array();
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char fp[2 * EVP_MAX_MD_SIZE + 1], *serial = serial_hex(x);
	int64_t nb = 0, na = 0;
	int r = 0;

	if (v == NULL || sans == NULL || ekus == NULL || pols == NULL || serial == NULL ||
	    EVP_Digest(der, der_len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		r = nomem();
		goto out;
	}
	tsr_hex_encode(md, mdlen, fp);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && i < LIST_MAX; i++)
		if (json_array_append_new(sans, san_json(sk_GENERAL_NAME_value(gens, i))) != 0)
			r = nomem();
	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku) && i < LIST_MAX; i++)
		if (json_array_append_new(ekus, oid_json(sk_ASN1_OBJECT_value(eku, i))) != 0)
			r = nomem();
	for (int i = 0; cp != NULL && i < sk_POLICYINFO_num(cp) && i < LIST_MAX; i++) {
		char buf[128];

		if (OBJ_obj2txt(buf, sizeof(buf), sk_POLICYINFO_value(cp, i)->policyid, 1) <= 0)
			snprintf(buf, sizeof(buf), "?");
		if (json_array_append_new(pols, json_string(buf)) != 0)
			r = nomem();
	}
	(void)time_of(X509_get0_notBefore(x), &nb);
	(void)time_of(X509_get0_notAfter(x), &na);
	if (r != 0 ||
	    (r = tsr_json_set(v, "serial", json_string(serial))) != 0 ||
	    (r = tsr_json_set(v, "subject", name_json(X509_get_subject_name(x)))) != 0 ||
	    (r = tsr_json_set(v, "issuer", name_json(X509_get_issuer_name(x)))) != 0 ||
	    (r = tsr_json_set(v, "not_before", tsr_json_time(nb))) != 0 ||
	    (r = tsr_json_set(v, "not_after", tsr_json_time(na))) != 0 ||
	    (r = tsr_json_set(v, "key", key_json(x))) != 0 ||
	    (r = tsr_json_set(v, "sha256", json_string(fp))) != 0 ||
	    (r = tsr_json_set(v, "ca", json_boolean(X509_check_ca(x) != 0))) != 0)
		goto out;
	r = tsr_json_set(v, "sans", sans);
	sans = NULL;
	if (r == 0)
		r = tsr_json_set(v, "eku", ekus);
	ekus = NULL;
	if (r == 0)
		r = tsr_json_set(v, "policies", pols);
	pols = NULL;
out:
	json_decref(sans);
	json_decref(ekus);
	json_decref(pols);
	GENERAL_NAMES_free(gens);
	EXTENDED_KEY_USAGE_free(eku);
	CERTIFICATEPOLICIES_free(cp);
	free(serial);
	ERR_clear_error();
	if (r != 0) {
		json_decref(v);
		return r;
	}
	*out = v;
	return 0;
}

/* Whether x chains to this CA's root (through the issuing CA when needed):
 * signatures and the CA constraints, not the validity dates (reported on
 * their own). */
static bool chains(struct tsr_ra *ra, X509 *x, char *detail, size_t size)
{
	const X509 *root = tsr_ca_root_cert(tsr_ra_ca(ra));
	const X509 *issuing = tsr_ca_issuing_cert(tsr_ra_ca(ra));
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	bool good = false;

	snprintf(detail, size, "the chain could not be checked");
	if (store == NULL || ctx == NULL || untrusted == NULL || root == NULL ||
	    X509_STORE_add_cert(store, (X509 *)root) != 1 ||
	    (issuing != NULL && sk_X509_push(untrusted, (X509 *)issuing) <= 0))
		goto out;
	X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_STORE_CTX_init(ctx, store, x, untrusted) != 1)
		goto out;
	if (X509_verify_cert(ctx) == 1) {
		good = true;
		snprintf(detail, size, "signed by this CA: it chains to its root certificate");
	} else {
		snprintf(detail, size, "it does not chain to this CA's root: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return good;
}

/* The answer about certificate x (DER der): contents, chain, status.  The
 * status is the store's only when the stored certificate is this one. */
static int answer(struct tsr_ra *ra, struct tsr_store *st, X509 *x, const uint8_t *der,
    size_t der_len, json_t **out)
{
	struct tsr_cert_record rec;
	json_t *v = NULL, *c = NULL;
	char chain_detail[200], *serial = serial_hex(x), detail[160];
	const char *status = "unknown", *validity = "current";
	bool chained, ours = false;
	int64_t nb = 0, na = 0, now = (int64_t)tsr_now();
	int r;

	memset(&rec, 0, sizeof(rec));
	*out = NULL;
	if (serial == NULL)
		return nomem();
	if ((r = contents(x, der, der_len, &c)) != 0)
		goto out;
	chained = chains(ra, x, chain_detail, sizeof(chain_detail));
	if (serial[0] != '-' && strlen(serial) <= TSR_SERIAL_HEX_MAX) {
		r = tsr_store_cert_get(st, serial, &rec);
		if (r == TSR_ERR_NOT_FOUND) {
			tsr_error_clear();
			r = 0;
		} else if (r != 0) {
			goto out;
		} else {
			ours = rec.der != NULL && rec.der_len == der_len &&
			    memcmp(rec.der, der, der_len) == 0;
		}
	}
	if (!time_of(X509_get0_notBefore(x), &nb) || !time_of(X509_get0_notAfter(x), &na))
		validity = "unreadable";
	else if (now < nb)
		validity = "not-yet-valid";
	else if (now > na)
		validity = "expired";
	if (ours)
		status = rec.status;
	if (!ours)
		snprintf(detail, sizeof(detail), "not issued by this CA");
	else if (strcmp(status, "valid") == 0)
		snprintf(detail, sizeof(detail), "not revoked or suspended");
	else {
		char at[21];

		tsr_time_format((time_t)rec.revoked_at, at);
		snprintf(detail, sizeof(detail), "%s since %s (%s)", strcmp(status, "suspended") ==
		    0 ? "suspended (on hold)" : "revoked", at, rec.revocation_reason);
	}
	v = json_pack("{s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "good", ours && chained && strcmp(status, "valid") == 0 &&
	    strcmp(validity, "current") == 0,
	    "issued_by_this_ca", ours, "serial", serial, "status", status, "status_detail", detail,
	    "validity", validity, "chain", chained ? "good" : "bad", "certificate", c);
	c = NULL;
	if (v == NULL) {
		r = nomem();
		goto out;
	}
	if ((r = tsr_json_set(v, "chain_detail", json_string(chain_detail))) != 0)
		goto out;
	if (ours && rec.revoked_at != 0 &&
	    ((r = tsr_json_set(v, "revoked_at", tsr_json_time(rec.revoked_at))) != 0 ||
	    (r = tsr_json_set(v, "reason", json_string(rec.revocation_reason))) != 0))
		goto out;
	if (ours && rec.product[0] != '\0')
		r = tsr_json_set(v, "product", json_string(rec.product));
out:
	tsr_cert_record_clear(&rec);
	free(serial);
	json_decref(c);
	if (r != 0) {
		json_decref(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ handlers */

static int post_check(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	struct tsr_store *st = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	X509 *x = NULL;
	int r;

	/* The input is parsed and described before the workflow is needed:
	 * tests/fuzz/fuzz_pub.c runs the handler without one. */
	if ((r = body_cert(req->body, &der, &der_len, &x)) != 0)
		return r;
	if (ra == NULL) {
		json_t *c = NULL;

		if ((r = contents(x, der, der_len, &c)) == 0)
			r = tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
		json_decref(c);
		goto out;
	}
	if ((r = tsr_ra_store_acquire(ra, &st)) != 0)
		goto out;
	r = answer(ra, st, x, der, der_len, &res->json);
	tsr_ra_store_release(ra, st);
out:
	X509_free(x);
	free(der);
	return r;
}

/* A serial as people copy it: hex digits, maybe with colons or spaces
 * between octets, maybe "0x" first; into lower-case hex without leading
 * zeros (one "0" for zero). */
static int serial_param(const char *s, char out[TSR_SERIAL_HEX_MAX + 1])
{
	size_t o = 0, digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (tsr_hex_digit((unsigned char)*s) < 0)
			return tsr_error(TSR_ERR_INVALID, "a serial number is hexadecimal digits "
			    "(0-9, a-f), optionally with colons between octets");
		digits++;
		if (o == 0 && *s == '0')
			continue;
		if (o == TSR_SERIAL_HEX_MAX)
			return tsr_error(TSR_ERR_INVALID, "a serial number has at most 40 hexadecimal "
			    "digits (20 octets)");
		out[o++] = (char)tolower((unsigned char)*s);
	}
	if (digits == 0)
		return tsr_error(TSR_ERR_INVALID, "a serial number needs at least one hexadecimal "
		    "digit");
	if (o == 0)
		out[o++] = '0';
	out[o] = '\0';
	return 0;
}

static int get_status(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	struct tsr_store *st = NULL;
	struct tsr_cert_record rec;
	char serial[TSR_SERIAL_HEX_MAX + 1];
	X509 *x = NULL;
	int r;

	if ((r = serial_param(tsr_http_param(req, "serial"), serial)) != 0)
		return r;
	if (ra == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	if ((r = tsr_ra_store_acquire(ra, &st)) != 0)
		return r;
	memset(&rec, 0, sizeof(rec));
	r = tsr_store_cert_get(st, serial, &rec);
	if (r == TSR_ERR_NOT_FOUND || (r == 0 && (rec.der == NULL || rec.der_len == 0))) {
		tsr_error_clear();
		res->json = json_pack("{s:b, s:b, s:s, s:s, s:s}", "good", 0, "issued_by_this_ca",
		    0, "serial", serial, "status", "unknown", "status_detail",
		    "not issued by this CA");
		r = res->json != NULL ? 0 : nomem();
	} else if (r == 0) {
		if (parse_der(rec.der, rec.der_len, &x) != 0)
			r = tsr_error(TSR_ERR_INTERNAL, "the stored certificate %s cannot be read",
			    rec.serial);
		else
			r = answer(ra, st, x, rec.der, rec.der_len, &res->json);
	}
	tsr_ra_store_release(ra, st);
	tsr_cert_record_clear(&rec);
	X509_free(x);
	return r;
}

/* ------------------------------------------------------------------ routes */

static const struct tsr_json_field check_body[] = {
	{ .name = "pem", .type = TSR_JSON_STRING, .min_len = 1, .max_len = CERT_TEXT_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = "der", .type = TSR_JSON_STRING, .min_len = 1, .max_len = CERT_TEXT_MAX },
	{ .name = NULL },
};

static const struct tsr_http_route pub_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/certificate-check", .handler = post_check,
	    .body = check_body, .status = 200,
	    .summary = "What a certificate (PEM or base64 DER) holds, whether it chains to "
	    "this CA, and its status; anonymous" },
	{ .method = "GET", .pattern = "/api/v1/certificate-status/{serial}",
	    .handler = get_status,
	    .summary = "The status and contents of the certificate this CA issued with a "
	    "serial number (hex); \"unknown\" if none; anonymous" },
};

const struct tsr_http_route *tsr_http_pub_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(pub_routes);
	return pub_routes;
}
