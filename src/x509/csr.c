/*
 * csr.c - the one place a PKCS#10 request from outside is read.
 *
 * A CSR tells us one thing we use: the public key, with a signature that
 * proves the sender holds the private half.  So the checks are about the
 * bytes being exactly one well-formed, DER-encoded request, and about the
 * key and the signature; the subject, attributes and extensions it asks
 * for are never used (the product and the approved application decide).
 *
 * PEM is parsed here rather than with PEM_read_bio_X509_REQ(), which skips
 * text before the block, ignores what follows it and accepts headers.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "x509/x509.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

static const char *const pem_labels[] = { "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST" };

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ------------------------------------------------------------------ PEM */
static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool has_prefix(const uint8_t *p, size_t n, size_t i, const char *s)
{
	size_t len = strlen(s);

	return n - i >= len && memcmp(p + i, s, len) == 0;
}

/* Accept "\n" or "\r\n" at p[*i]. */
static bool eat_line_end(const uint8_t *p, size_t n, size_t *i)
{
	if (*i < n && p[*i] == '\n') {
		*i += 1;
		return true;
	}
	if (n - *i >= 2 && p[*i] == '\r' && p[*i + 1] == '\n') {
		*i += 2;
		return true;
	}
	return false;
}

/* Read "LABEL-----" at p[*i] (after "-----BEGIN " or "-----END "). */
static int pem_label(const uint8_t *p, size_t n, size_t *i, const char *line, const char **label)
{
	size_t start = *i, end = *i;

	while (end < n && p[end] >= 0x20 && p[end] < 0x7f && !has_prefix(p, n, end, PEM_DASHES))
		end++;
	if (!has_prefix(p, n, end, PEM_DASHES))
		return tsr_error(TSR_ERR_PARSE, "malformed PEM %s line", line);
	for (size_t k = 0; k < TSR_ARRAY_LEN(pem_labels); k++) {
		if (strlen(pem_labels[k]) == end - start &&
		    memcmp(pem_labels[k], p + start, end - start) == 0) {
			*label = pem_labels[k];
			*i = end + strlen(PEM_DASHES);
			return 0;
		}
	}
	return tsr_error(TSR_ERR_PARSE, "PEM %s line is '%.*s', not CERTIFICATE REQUEST", line,
	    (int)(end - start > 40 ? 40 : end - start), (const char *)p + start);
}

static bool is_b64_char(uint8_t c)
{
	return c != '\0' && (strchr(b64_alphabet, c) != NULL || c == '=');
}

/* Collect the base64 lines between BEGIN and END into b64; *line counts lines. */
static int pem_body(const uint8_t *p, size_t n, size_t *i, int *line, struct tsr_buf *b64)
{
	size_t start, end;
	int rc;

	while (!has_prefix(p, n, *i, PEM_END)) {
		(*line)++;
		start = *i;
		while (*i < n && is_b64_char(p[*i]))
			(*i)++;
		end = *i;
		if (*i == n)
			return tsr_error(TSR_ERR_PARSE, "PEM block has no END line");
		if (!eat_line_end(p, n, i))
			return tsr_error(TSR_ERR_PARSE, "PEM line %d: 0x%02X is not base64 (headers "
			    "and spaces are not allowed)", *line, p[*i]);
		if (end == start)
			return tsr_error(TSR_ERR_PARSE, "PEM line %d is empty", *line);
		if ((rc = tsr_buf_append(b64, p + start, end - start)) != 0)
			return rc;
	}
	return 0;
}

/* Strict base64: whole quanta, '=' only as final padding, zero pad bits. */
static int b64_decode(const struct tsr_buf *b64, uint8_t **der, size_t *der_len)
{
	const char *s = (const char *)b64->data;
	size_t len = b64->len, pads = 0;
	int got;

	if (len == 0)
		return tsr_error(TSR_ERR_PARSE, "empty PEM block");
	if (len % 4 != 0)
		return tsr_error(TSR_ERR_PARSE, "base64 length is not a multiple of 4 (truncated or "
		    "unpadded)");
	while (pads < 2 && s[len - 1 - pads] == '=')
		pads++;
	if (memchr(s, '=', len - pads) != NULL)
		return tsr_error(TSR_ERR_PARSE, "'=' inside the base64 (only as final padding)");
	if (pads > 0) {
		int v = (int)(strchr(b64_alphabet, s[len - 1 - pads]) - b64_alphabet);

		if ((pads == 2 && (v & 0x0f) != 0) || (pads == 1 && (v & 0x03) != 0))
			return tsr_error(TSR_ERR_PARSE, "non-canonical base64 padding");
	}
	if ((*der = OPENSSL_malloc(len / 4 * 3)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	got = EVP_DecodeBlock(*der, (const unsigned char *)s, (int)len);
	if (got < 0 || (size_t)got != len / 4 * 3) {
		OPENSSL_free(*der);
		*der = NULL;
		return tsr_error_openssl(TSR_ERR_PARSE, "invalid base64");
	}
	/* EVP_DecodeBlock() counts the padding as zero bytes. */
	*der_len = (size_t)got - pads;
	return 0;
}

/* After the END line: whitespace only, and certainly not a second block. */
static int pem_trailer(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && is_space(p[i]))
		i++;
	if (i == n)
		return 0;
	if (has_prefix(p, n, i, PEM_BEGIN))
		return tsr_error(TSR_ERR_PARSE, "more than one PEM block: send exactly one CSR");
	return tsr_error(TSR_ERR_PARSE, "unexpected data after the PEM END line");
}

/* The DER inside exactly one PEM CSR block (new buffer, OPENSSL_free()). */
static int pem_decode(const uint8_t *p, size_t n, uint8_t **der, size_t *der_len)
{
	const char *label = NULL, *end_label = NULL;
	struct tsr_buf b64;
	size_t i = 0;
	int line = 1, rc;

	tsr_buf_init(&b64, n);
	while (i < n && is_space(p[i]))
		line += p[i++] == '\n';
	if (!has_prefix(p, n, i, PEM_BEGIN)) {
		rc = tsr_error(TSR_ERR_PARSE, "not a CSR: expected DER or a PEM block starting "
		    "with '-----BEGIN CERTIFICATE REQUEST-----'");
		goto out;
	}
	i += strlen(PEM_BEGIN);
	if ((rc = pem_label(p, n, &i, "BEGIN", &label)) != 0)
		goto out;
	if (!eat_line_end(p, n, &i)) {
		rc = tsr_error(TSR_ERR_PARSE, "PEM line %d: junk after the BEGIN line", line);
		goto out;
	}
	if ((rc = pem_body(p, n, &i, &line, &b64)) != 0)
		goto out;
	i += strlen(PEM_END);
	if ((rc = pem_label(p, n, &i, "END", &end_label)) != 0)
		goto out;
	if (end_label != label) {
		rc = tsr_error(TSR_ERR_PARSE, "PEM END label does not match BEGIN %s", label);
		goto out;
	}
	if ((rc = pem_trailer(p, n, i)) != 0)
		goto out;
	rc = b64_decode(&b64, der, der_len);
out:
	tsr_buf_free(&b64);
	return rc;
}

/* ------------------------------------------------------------------ DER */
/* Deeper than any PKCS#10 request, shallow enough for the stack. */
#define DER_MAX_DEPTH 32

/* The header of the TLV at p[0..n): definite, minimal length, low tag number. */
static int der_header(const uint8_t *p, size_t n, size_t *hl, size_t *len)
{
	size_t k;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (bad ASN.1 header)");
	if (p[1] < 0x80) {
		*hl = 2;
		*len = p[1];
	} else {
		k = p[1] & 0x7f;
		if (k == 0)
			return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (indefinite "
			    "length)");
		/* Four bytes are plenty: the length is checked against n below. */
		if (k > 4 || n - 2 < k)
			return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (length out of "
			    "range)");
		*len = 0;
		for (size_t i = 0; i < k; i++)
			*len = *len << 8 | p[2 + i];
		if (p[2] == 0 || *len < 0x80)
			return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (non-minimal "
			    "length)");
		*hl = 2 + k;
	}
	if (*len > n - *hl)
		return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (length past the end)");
	return 0;
}

/*
 * Walk every TLV of p[0..n), including those inside attribute values that
 * OpenSSL keeps as opaque bytes and would re-encode verbatim: lengths must
 * be DER, and only SEQUENCE and SET may be constructed among universal tags.
 */
static int der_walk(const uint8_t *p, size_t n, int depth)
{
	size_t hl = 0, len = 0;
	int rc;

	while (n > 0) {
		if ((rc = der_header(p, n, &hl, &len)) != 0)
			return rc;
		if (p[0] & 0x20) {
			if ((p[0] & 0xc0) == 0 && p[0] != 0x30 && p[0] != 0x31)
				return tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded "
				    "(constructed string)");
			if (depth >= DER_MAX_DEPTH)
				return tsr_error(TSR_ERR_PARSE, "the CSR is nested too deeply");
			if ((rc = der_walk(p + hl, len, depth + 1)) != 0)
				return rc;
		}
		p += hl + len;
		n -= hl + len;
	}
	return 0;
}

/*
 * X509_NAME keeps the bytes it was decoded from and i2d returns them, so a
 * BER subject would survive a re-encoding of the request: rebuild the name
 * entry by entry and compare.
 */
static int check_name_der(const X509_NAME *name)
{
	X509_NAME *copy = X509_NAME_new();
	uint8_t *a = NULL, *b = NULL;
	int alen, blen, rc, prev_set = -1;

	if (copy == NULL)
		return tsr_error_openssl(TSR_ERR_NOMEM, "out of memory");
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int set = X509_NAME_ENTRY_set(e);

		if (!X509_NAME_add_entry(copy, e, -1, set == prev_set ? -1 : 0)) {
			rc = tsr_error_openssl(TSR_ERR_PARSE, "cannot copy the CSR's subject");
			goto out;
		}
		prev_set = set;
	}
	alen = i2d_X509_NAME(name, &a);
	blen = i2d_X509_NAME(copy, &b);
	if (alen <= 0 || blen <= 0) {
		rc = tsr_error_openssl(TSR_ERR_PARSE, "cannot encode the CSR's subject");
		goto out;
	}
	if (alen != blen || memcmp(a, b, (size_t)alen) != 0) {
		rc = tsr_error(TSR_ERR_PARSE, "the CSR's subject is not DER-encoded");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_NAME_free(copy);
	return rc;
}

/* Require that encoding req afresh gives back exactly p[0..n). */
static int check_der(X509_REQ *req, const uint8_t *p, size_t n)
{
	uint8_t *der = NULL;
	int len, rc;

	/* Without this, i2d returns the signed part's bytes as they came in. */
	if (i2d_re_X509_REQ_tbs(req, NULL) <= 0 || (len = i2d_X509_REQ(req, &der)) <= 0)
		return tsr_error_openssl(TSR_ERR_PARSE, "cannot re-encode the CSR");
	if ((size_t)len != n || memcmp(der, p, n) != 0)
		rc = tsr_error(TSR_ERR_PARSE, "the CSR is not DER-encoded (BER or non-canonical "
		    "encoding)");
	else
		rc = check_name_der(X509_REQ_get_subject_name(req));
	OPENSSL_free(der);
	return rc;
}

/*
 * The proof of possession must use a signature algorithm we would accept
 * anywhere else: SHA-2 with RSA PKCS#1 v1.5 or with ECDSA.  SHA-1 and MD5
 * are refused even here, so no client keeps relying on them.  RSA-PSS is
 * refused too: its hash hides in parameters (SHA-1 by default), and no
 * client we serve needs it for a CSR.
 */
static int check_signature_algorithm(const X509_REQ *req)
{
	static const int allowed[] = {
		NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption,
		NID_sha512WithRSAEncryption, NID_ecdsa_with_SHA256,
		NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512,
	};
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	char name[80];
	int nid;

	X509_REQ_get0_signature(req, NULL, &alg);
	if (alg != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	for (size_t i = 0; i < TSR_ARRAY_LEN(allowed); i++)
		if (nid == allowed[i])
			return 0;
	if (obj == NULL || OBJ_obj2txt(name, sizeof(name), obj, 0) <= 0)
		snprintf(name, sizeof(name), "unknown");
	return tsr_error(TSR_ERR_SIGNATURE, "the CSR is signed with %s; use SHA-256 or stronger "
	    "with RSA or ECDSA", name);
}

/* Key before signature: refusing a 16384-bit RSA key is cheaper than verifying it. */
static int check_key_and_signature(X509_REQ *req)
{
	EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
	enum tsr_key_type type;
	int rc;

	if (pk == NULL)
		return tsr_error_openssl(TSR_ERR_KEY, "the CSR's public key is of an unknown type "
		    "or cannot be decoded");
	if ((rc = tsr_pubkey_classify(pk, &type)) != 0)
		return rc;
	if ((rc = check_signature_algorithm(req)) != 0)
		return rc;
	if (X509_REQ_verify(req, pk) != 1)
		return tsr_error_openssl(TSR_ERR_SIGNATURE, "the CSR's signature does not verify "
		    "(no proof of possession)");
	return 0;
}

static int csr_from_der(const uint8_t *p, size_t n, X509_REQ **out)
{
	const unsigned char *q = p;
	X509_REQ *req;
	long version;
	int rc;

	if ((req = d2i_X509_REQ(NULL, &q, (long)n)) == NULL)
		return tsr_error_openssl(TSR_ERR_PARSE, "not a PKCS#10 certificate request");
	if (q != p + n) {
		rc = tsr_error_openssl(TSR_ERR_PARSE, "%zu trailing bytes after the CSR",
		    (size_t)(p + n - q));
		goto out;
	}
	if ((rc = der_walk(p, n, 0)) != 0 || (rc = check_der(req, p, n)) != 0)
		goto out;
	if ((version = X509_REQ_get_version(req)) != X509_REQ_VERSION_1) {
		rc = tsr_error_openssl(TSR_ERR_PARSE, "CSR version field is %ld, not 0 (v1)",
		    version);
		goto out;
	}
	if ((rc = check_key_and_signature(req)) != 0)
		goto out;
	*out = req;
	req = NULL;
out:
	X509_REQ_free(req);
	return rc;
}

/*
 * Parse a PKCS#10 request from p[0..n), PEM or DER (see x509.h), into a new
 * X509_REQ (X509_REQ_free()).  TSR_ERR_TOO_LARGE over TSR_CSR_MAX bytes,
 * TSR_ERR_PARSE for bad encodings, TSR_ERR_KEY for a key type Tessera does
 * not allow, TSR_ERR_SIGNATURE if the self-signature does not verify.
 * OpenSSL's error queue is empty when this returns.
 */
int tsr_csr_parse(const uint8_t *p, size_t n, X509_REQ **out)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	*out = NULL;
	if (p == NULL && n > 0)
		return tsr_error(TSR_ERR_INVALID, "no CSR given");
	if (n > TSR_CSR_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "CSR of %zu bytes is over the %d-byte limit", n,
		    TSR_CSR_MAX);
	if (n == 0)
		return tsr_error(TSR_ERR_PARSE, "empty CSR");
	/* DER starts with a SEQUENCE tag; anything else must be PEM text. */
	if (p[0] == 0x30)
		return csr_from_der(p, n, out);
	if ((rc = pem_decode(p, n, &der, &der_len)) == 0)
		rc = csr_from_der(der, der_len, out);
	OPENSSL_free(der);
	return rc;
}
