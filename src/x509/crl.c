/*
 * crl.c - a v2 CRL (RFC 5280 section 5) written as a stream.
 *
 * OpenSSL's X509_CRL keeps every entry as objects of its own, hundreds of
 * bytes each: a CRL of a million entries would take far more memory than
 * the CRL itself.  Here each entry is DER-encoded by hand (it is a small,
 * fixed shape) and appended to a temporary file beside the CRL as it comes,
 * so the writer holds one entry at a time.
 *
 * The lengths in the TBSCertList's header and in the entry list's header
 * depend on every entry, and they come first, so the TBS can only be
 * hashed once the last entry is in: tsr_crl_finish() hashes the fields
 * before the entries, the temporary file and the extensions, has the
 * signer sign that one digest, then writes the CRL (outer header, the TBS
 * with the entries copied from the temporary file, the signature algorithm
 * and the signature) while hashing the TBS again from what it writes, and
 * checks the signature against that second digest with the issuer's public
 * key: what was checked is what was written.  Then fsync and rename.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version v2, signature, issuer, thisUpdate, nextUpdate,
 *       revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate,
 *           crlEntryExtensions OPTIONAL } OPTIONAL,    -- absent when empty
 *       crlExtensions [0] EXPLICIT Extensions }
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

#define COPY_CHUNK (64 * 1024)
#define ENTRY_MAX 160         /* one encoded entry: 23 + 17 + 2 + 12 + 26 + headers */
#define HDR_MAX 10            /* tag and a length of up to 8 octets */
#define SKI_MAX 64

struct tsr_crl_writer {
	char *path;
	char *entries_path;       /* the entries, DER, one after the other */
	FILE *entries;
	uint64_t entries_len;
	size_t count;
	bool failed;              /* a write failed: the file is incomplete */
	X509 *issuer;             /* a reference */
	struct tsr_signer *signer;
	bool rsa;
	uint8_t *head;            /* version .. nextUpdate */
	size_t head_len;
	uint8_t exts[HDR_MAX * 4 + SKI_MAX + 40];   /* [0] crlExtensions */
	size_t exts_len;
};

/* ------------------------------------------------------------------ DER */

/* Write a tag and a definite length; returns the bytes written. */
static size_t der_header(uint8_t *out, uint8_t tag, uint64_t len)
{
	size_t n = 0;

	out[0] = tag;
	if (len < 0x80) {
		out[1] = (uint8_t)len;
		return 2;
	}
	for (uint64_t v = len; v != 0; v >>= 8)
		n++;
	out[1] = (uint8_t)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		out[2 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return 2 + n;
}

static size_t der_header_size(uint64_t len)
{
	uint8_t tmp[HDR_MAX];

	return der_header(tmp, 0, len);
}

/* The UTC calendar date and time of t >= 0 (H. Hinnant's civil_from_days):
 * gmtime_r() would do, but takes the time zone lock and is a tenth of the
 * time spent on a million entries. */
static void utc(time_t t, int64_t *year, int f[5])
{
	int64_t days = (int64_t)t / 86400 + 719468, secs = (int64_t)t % 86400;
	int64_t era = days / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	f[0] = (int)(mp < 10 ? mp + 3 : mp - 9);              /* month */
	f[1] = (int)(doy - (153 * mp + 2) / 5 + 1);            /* day */
	f[2] = (int)(secs / 3600);
	f[3] = (int)(secs / 60 % 60);
	f[4] = (int)(secs % 60);
	*year = (int64_t)yoe + era * 400 + (f[0] <= 2);
}

static uint8_t *digits2(uint8_t *p, int v)
{
	p[0] = (uint8_t)('0' + v / 10);
	p[1] = (uint8_t)('0' + v % 10);
	return p + 2;
}

/* UTCTime for 1950-2049 (RFC 5280 5.1.2.4), else GeneralizedTime; always
 * GeneralizedTime when generalized (invalidityDate).  Returns the bytes
 * written (at most 17), 0 for a time before 1970 or after 9999. */
static size_t der_time(uint8_t *out, time_t t, bool generalized)
{
	uint8_t *p = out + 2;
	int64_t year;
	int f[5];

	if (t < 0)
		return 0;
	utc(t, &year, f);
	if (year > 9999)
		return 0;
	if (!generalized && year >= 1950 && year <= 2049) {
		out[0] = V_ASN1_UTCTIME;
	} else {
		out[0] = V_ASN1_GENERALIZEDTIME;
		p = digits2(p, (int)(year / 100));
	}
	p = digits2(p, (int)(year % 100));
	for (int i = 0; i < 5; i++)
		p = digits2(p, f[i]);
	*p++ = 'Z';
	out[1] = (uint8_t)(p - out - 2);
	return (size_t)(p - out);
}

/* One Extension, not critical: SEQUENCE { OID 2.5.29.<arc>, OCTET STRING { value } }. */
static size_t der_extension(uint8_t *out, uint8_t arc, const uint8_t *value, size_t len)
{
	size_t n = der_header(out, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, 5 + der_header_size(len) +
	    len);

	memcpy(out + n, (const uint8_t[]){ 0x06, 0x03, 0x55, 0x1d, arc }, 5);
	n += 5;
	n += der_header(out + n, V_ASN1_OCTET_STRING, len);
	memcpy(out + n, value, len);
	return n + len;
}

/* ------------------------------------------------------------------ entry fields */

/* The DER INTEGER content of a serial given in hex: positive, non-zero,
 * at most 20 octets of value.  Returns the length, 0 if refused. */
static size_t serial_content(const char *hex, uint8_t out[21])
{
	size_t n, len, odd;
	int d;

	if (hex == NULL)
		return 0;
	while (*hex == '0')
		hex++;
	n = strlen(hex);
	if (n == 0 || n > 40)
		return 0;
	len = (n + 1) / 2;
	odd = n & 1;            /* an odd count puts the first digit alone in octet 1 */
	memset(out, 0, 21);
	for (size_t i = 0; i < n; i++) {
		if ((d = tsr_hex_digit((unsigned char)hex[i])) < 0)
			return 0;
		if ((i + odd) & 1)
			out[1 + (i + odd) / 2] |= (uint8_t)d;
		else
			out[1 + (i + odd) / 2] = (uint8_t)(d << 4);
	}
	/* Octet 0 stays a leading zero only if the top bit is set (else the
	 * INTEGER would read as negative). */
	if ((out[1] & 0x80) != 0)
		return len + 1;
	memmove(out, out + 1, len);
	return len;
}

/* RFC 5280 5.3.1 CRLReason codes; -1 for no reasonCode (none or
 * unspecified), -2 for a name refused. */
static int reason_code(const char *reason)
{
	static const struct { const char *name; int code; } reasons[] = {
		{ "keyCompromise", 1 }, { "cACompromise", 2 }, { "affiliationChanged", 3 },
		{ "superseded", 4 }, { "cessationOfOperation", 5 }, { "certificateHold", 6 },
		{ "privilegeWithdrawn", 9 }, { "aACompromise", 10 },
	};

	if (reason == NULL || strcmp(reason, "unspecified") == 0)
		return -1;
	for (size_t i = 0; i < TSR_ARRAY_LEN(reasons); i++)
		if (strcmp(reason, reasons[i].name) == 0)
			return reasons[i].code;
	return -2;
}

/* crlEntryExtensions: reasonCode and invalidityDate, either or both
 * (reason < 0 and inv == 0: none, returns 0). */
static size_t entry_extensions(uint8_t *out, int reason, time_t inv)
{
	uint8_t exts[64], when[20];
	size_t n = 0, tlen;

	if (reason >= 0)
		n += der_extension(exts + n, 0x15, (const uint8_t[]){ V_ASN1_ENUMERATED, 1,
		    (uint8_t)reason }, 3);
	if (inv != 0) {
		tlen = der_time(when, inv, true);
		n += der_extension(exts + n, 0x18, when, tlen);
	}
	if (n == 0)
		return 0;
	tlen = der_header(out, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, n);
	memcpy(out + tlen, exts, n);
	return tlen + n;
}

/* ------------------------------------------------------------------ begin */

/* Every argument is there, the times are in order, and the signer's key is
 * the issuer certificate's. */
static int check_params(const struct tsr_crl_params *p, const char *path)
{
	unsigned char *a = NULL, *b = NULL;
	int alen, blen, r = 0;

	if (p == NULL || p->issuer == NULL || p->signer == NULL || path == NULL || path[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "a CRL needs an issuer, a signer and a path");
	if (p->this_update <= 0 || p->next_update <= p->this_update)
		return tsr_error(TSR_ERR_INVALID, "a CRL's nextUpdate must come after its thisUpdate");
	if (tsr_signer_md(p->signer) == NULL)
		return tsr_error(TSR_ERR_INVALID, "the CRL signer has no digest");
	alen = i2d_PUBKEY(X509_get0_pubkey(p->issuer), &a);
	blen = i2d_PUBKEY(tsr_signer_pkey(p->signer), &b);
	if (alen <= 0 || blen <= 0)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the public keys to compare");
	else if (alen != blen || memcmp(a, b, (size_t)alen) != 0)
		r = tsr_error(TSR_ERR_KEY, "the CRL signer's key is not the issuer certificate's");
	OPENSSL_free(a);
	OPENSSL_free(b);
	return r;
}

/* The signature AlgorithmIdentifier, as X509_sign() writes it for this
 * signer: RFC 5754 NULL parameters for RSA, none for ECDSA. */
static int sig_alg_der(const struct tsr_signer *s, bool rsa, uint8_t **out, int *len)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	int nid, r = 0;

	*out = NULL;
	if (alg == NULL || OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(tsr_signer_md(s)),
	    rsa ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey) != 1 ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(nid), rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1 ||
	    (*len = i2d_X509_ALGOR(alg, out)) <= 0)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the signature algorithm");
	X509_ALGOR_free(alg);
	return r;
}

/* version, signature, issuer, thisUpdate, nextUpdate. */
static int make_head(struct tsr_crl_writer *w, const struct tsr_crl_params *p)
{
	uint8_t *alg = NULL, *name = NULL, times[40];
	int alen = 0, nlen, r;
	size_t tlen, ulen;

	if ((r = sig_alg_der(p->signer, w->rsa, &alg, &alen)) != 0)
		return r;
	if ((nlen = i2d_X509_NAME(X509_get_subject_name(p->issuer), &name)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the issuer name");
		goto out;
	}
	tlen = der_time(times, p->this_update, false);
	ulen = tlen == 0 ? 0 : der_time(times + tlen, p->next_update, false);
	if (ulen == 0) {
		r = tsr_error(TSR_ERR_INVALID, "a CRL's times must fall in years 1970-9999");
		goto out;
	}
	w->head_len = 3 + (size_t)alen + (size_t)nlen + tlen + ulen;
	if ((w->head = malloc(w->head_len)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(w->head, (const uint8_t[]){ V_ASN1_INTEGER, 1, 1 }, 3);   /* v2 */
	memcpy(w->head + 3, alg, (size_t)alen);
	memcpy(w->head + 3 + alen, name, (size_t)nlen);
	memcpy(w->head + 3 + alen + nlen, times, tlen + ulen);
out:
	OPENSSL_free(alg);
	OPENSSL_free(name);
	return r;
}

/* [0] { authorityKeyIdentifier (the issuer's SKI), cRLNumber }. */
static int make_extensions(struct tsr_crl_writer *w, X509 *issuer, uint64_t number)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	uint8_t aki[SKI_MAX + 2 * HDR_MAX], num[12], exts[sizeof(w->exts)];
	size_t alen, nlen = 0, n, skilen;

	if (ski == NULL || ASN1_STRING_length(ski) <= 0 || ASN1_STRING_length(ski) > SKI_MAX)
		return tsr_error(TSR_ERR_INVALID, "the CRL issuer's certificate has no usable "
		    "subjectKeyIdentifier");
	skilen = (size_t)ASN1_STRING_length(ski);
	/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } */
	alen = der_header(aki, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, der_header_size(skilen) +
	    skilen);
	alen += der_header(aki + alen, V_ASN1_CONTEXT_SPECIFIC | 0, skilen);
	memcpy(aki + alen, ASN1_STRING_get0_data(ski), skilen);
	alen += skilen;
	/* CRLNumber ::= INTEGER (0..MAX): big-endian, a leading zero if the top bit is set. */
	num[2] = 0;
	for (int shift = 56; shift >= 0; shift -= 8) {
		uint8_t byte = (uint8_t)(number >> shift);

		if (nlen == 0 && byte == 0 && shift != 0)
			continue;
		if (nlen == 0 && (byte & 0x80) != 0)
			num[2 + nlen++] = 0;
		num[2 + nlen++] = byte;
	}
	num[0] = V_ASN1_INTEGER;
	num[1] = (uint8_t)nlen;
	n = der_extension(exts, 0x23, aki, alen);
	n += der_extension(exts + n, 0x14, num, nlen + 2);
	w->exts_len = der_header(w->exts, V_ASN1_CONTEXT_SPECIFIC | V_ASN1_CONSTRUCTED | 0,
	    der_header_size(n) + n);
	w->exts_len += der_header(w->exts + w->exts_len, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, n);
	memcpy(w->exts + w->exts_len, exts, n);
	w->exts_len += n;
	return 0;
}

/* A temporary file beside path: "<path>.<what>-XXXXXX", open for writing
 * and reading back. */
static int temp_beside(const char *path, const char *what, char **name, FILE **f)
{
	int fd;

	*f = NULL;
	if (asprintf(name, "%s.%s-XXXXXX", path, what) < 0) {
		*name = NULL;
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	if ((fd = mkstemp(*name)) < 0) {
		int r = tsr_error(TSR_ERR_IO, "cannot create a file beside %s: %s", path,
		    strerror(errno));

		free(*name);
		*name = NULL;
		return r;
	}
	if ((*f = fdopen(fd, "w+")) == NULL) {
		close(fd);
		unlink(*name);
		free(*name);
		*name = NULL;
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Start a CRL that will be written to path. */
int tsr_crl_begin(const struct tsr_crl_params *p, const char *path,
    struct tsr_crl_writer **out)
{
	struct tsr_crl_writer *w;
	int r;

	*out = NULL;
	if ((r = check_params(p, path)) != 0)
		return r;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	w->signer = p->signer;
	w->rsa = tsr_key_type_is_rsa(tsr_signer_key_type(p->signer));
	if (X509_up_ref(p->issuer) != 1) {
		free(w);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "X509_up_ref");
	}
	w->issuer = p->issuer;
	if ((w->path = strdup(path)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = make_head(w, p)) != 0 || (r = make_extensions(w, p->issuer, p->number)) != 0 ||
	    (r = temp_beside(path, "entries", &w->entries_path, &w->entries)) != 0)
		goto out;
	*out = w;
	w = NULL;
out:
	tsr_crl_abort(w);
	return r;
}

/* ------------------------------------------------------------------ entries */

/* Add one revoked certificate; refused arguments leave the writer as it was. */
int tsr_crl_add(struct tsr_crl_writer *w, const char *serial, time_t revoked_at,
    const char *reason, time_t invalidity_date)
{
	uint8_t body[ENTRY_MAX], entry[ENTRY_MAX + HDR_MAX], integer[21];
	size_t slen, tlen, n = 0, elen;
	int code;

	if (w->failed)
		return tsr_error(TSR_ERR_IO, "%s: an earlier write failed", w->path);
	if ((slen = serial_content(serial, integer)) == 0)
		return tsr_error(TSR_ERR_INVALID, "bad serial number '%.48s' for a CRL entry "
		    "(hex, non-zero, at most 20 octets)", serial != NULL ? serial : "");
	if ((code = reason_code(reason)) == -2)
		return tsr_error(TSR_ERR_INVALID, "'%.40s' is not a CRL entry reason", reason);
	if (revoked_at <= 0)
		return tsr_error(TSR_ERR_INVALID, "a CRL entry needs its revocation time");
	if (invalidity_date < 0)
		return tsr_error(TSR_ERR_INVALID, "a CRL entry's invalidity date is before 1970");
	n = der_header(body, V_ASN1_INTEGER, slen);
	memcpy(body + n, integer, slen);
	n += slen;
	if ((tlen = der_time(body + n, revoked_at, false)) == 0 ||
	    (invalidity_date != 0 && der_time(entry, invalidity_date, true) == 0))
		return tsr_error(TSR_ERR_INVALID, "a CRL entry's times must fall in years "
		    "1970-9999");
	n += tlen;
	n += entry_extensions(body + n, code, invalidity_date);
	elen = der_header(entry, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, n);
	memcpy(entry + elen, body, n);
	elen += n;
	if (fwrite(entry, 1, elen, w->entries) != elen) {
		w->failed = true;
		return tsr_error(TSR_ERR_IO, "%s: %s", w->entries_path, strerror(errno));
	}
	w->entries_len += elen;
	w->count++;
	return 0;
}

/* ------------------------------------------------------------------ finish */

/* Where the bytes of the TBS go: a digest, and a file (or none). */
struct sink {
	EVP_MD_CTX *md;
	FILE *f;
};

static int sink_put(struct sink *s, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (s->md != NULL && EVP_DigestUpdate(s->md, p, n) != 1)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot hash the CRL");
	if (s->f != NULL && fwrite(p, 1, n, s->f) != n)
		return tsr_error(TSR_ERR_IO, "cannot write the CRL: %s", strerror(errno));
	return 0;
}

/* The length of the TBSCertList's content. */
static uint64_t tbs_content_len(const struct tsr_crl_writer *w)
{
	uint64_t n = w->head_len + w->exts_len;

	if (w->count > 0)
		n += der_header_size(w->entries_len) + w->entries_len;
	return n;
}

/* Feed the whole TBSCertList to s, the entries read back from their file. */
static int put_tbs(struct tsr_crl_writer *w, struct sink *s, uint8_t *chunk)
{
	uint8_t hdr[HDR_MAX];
	uint64_t left = w->entries_len;
	size_t n;
	int r;

	if ((r = sink_put(s, hdr, der_header(hdr, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED,
	    tbs_content_len(w)))) != 0 || (r = sink_put(s, w->head, w->head_len)) != 0)
		return r;
	if (w->count > 0 && (r = sink_put(s, hdr, der_header(hdr, V_ASN1_SEQUENCE |
	    V_ASN1_CONSTRUCTED, w->entries_len))) != 0)
		return r;
	if (fseek(w->entries, 0, SEEK_SET) != 0)
		return tsr_error(TSR_ERR_IO, "%s: %s", w->entries_path, strerror(errno));
	while (left > 0) {
		n = fread(chunk, 1, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK, w->entries);
		if (n == 0)
			return tsr_error(TSR_ERR_IO, "%s: %s", w->entries_path,
			    ferror(w->entries) ? strerror(errno) : "shorter than written");
		if ((r = sink_put(s, chunk, n)) != 0)
			return r;
		left -= n;
	}
	return sink_put(s, w->exts, w->exts_len);
}

/* The digest of the TBS, as it goes to s (s->md is set up here). */
static int digest_tbs(struct tsr_crl_writer *w, struct sink *s, uint8_t *chunk,
    uint8_t *md, unsigned int *mdlen)
{
	int r;

	if ((s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->md, tsr_signer_md(w->signer), NULL) != 1)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot hash the CRL");
	else if ((r = put_tbs(w, s, chunk)) == 0 && EVP_DigestFinal_ex(s->md, md, mdlen) != 1)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot hash the CRL");
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	return r;
}

/* A signing or verifying context for a digest made with the signer's md. */
static EVP_PKEY_CTX *pkey_ctx(struct tsr_crl_writer *w, EVP_PKEY *key, bool sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

	if (ctx == NULL || (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    (w->rsa && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(ctx, tsr_signer_md(w->signer)) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Sign the digest in the signer's token; *sig is new (OPENSSL_free()). */
static int sign_digest(struct tsr_crl_writer *w, const uint8_t *md, size_t mdlen,
    uint8_t **sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx = pkey_ctx(w, tsr_signer_pkey(w->signer), true);
	int r = 0;

	*sig = NULL;
	if (ctx == NULL || EVP_PKEY_sign(ctx, NULL, siglen, md, mdlen) != 1 ||
	    (*sig = OPENSSL_malloc(*siglen)) == NULL ||
	    EVP_PKEY_sign(ctx, *sig, siglen, md, mdlen) != 1) {
		r = tsr_error_openssl(TSR_ERR_PKCS11, "signing the CRL in the token failed");
		OPENSSL_free(*sig);
		*sig = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* The signature must verify, with the issuer's public key, over the
 * digest of the TBS as written. */
static int check_signature(struct tsr_crl_writer *w, const uint8_t *sig, size_t siglen,
    const uint8_t *md, size_t mdlen)
{
	EVP_PKEY_CTX *ctx = pkey_ctx(w, X509_get0_pubkey(w->issuer), false);
	int ok = ctx != NULL && EVP_PKEY_verify(ctx, sig, siglen, md, mdlen) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : tsr_error_openssl(TSR_ERR_PKCS11, "the token's CRL signature does not "
	    "verify with the issuer's key");
}

/* Write the CertificateList to f, the TBS hashed again into md2. */
static int write_crl(struct tsr_crl_writer *w, FILE *f, uint8_t *chunk, const uint8_t *sig,
    size_t siglen, uint8_t *md2, unsigned int *md2len)
{
	struct sink s = { NULL, f };
	uint8_t *alg = NULL, hdr[HDR_MAX];
	uint64_t tbs = tbs_content_len(w), bits = 1 + (uint64_t)siglen, total;
	int alen = 0, r;

	if ((r = sig_alg_der(w->signer, w->rsa, &alg, &alen)) != 0)
		return r;
	total = der_header_size(tbs) + tbs + (uint64_t)alen + der_header_size(bits) + bits;
	if ((r = sink_put(&s, hdr, der_header(hdr, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED,
	    total))) != 0 || (r = digest_tbs(w, &s, chunk, md2, md2len)) != 0 ||
	    (r = sink_put(&s, alg, (size_t)alen)) != 0 ||
	    (r = sink_put(&s, hdr, der_header(hdr, V_ASN1_BIT_STRING, bits))) != 0 ||
	    (r = sink_put(&s, (const uint8_t[]){ 0 }, 1)) != 0 ||   /* no unused bits */
	    (r = sink_put(&s, sig, siglen)) != 0)
		goto out;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fchmod(fileno(f), 0644) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write the CRL: %s", strerror(errno));
out:
	OPENSSL_free(alg);
	return r;
}

/* Make the rename durable. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Sign, check, write beside path and rename into place. */
static int finish(struct tsr_crl_writer *w, uint8_t *chunk)
{
	uint8_t md[EVP_MAX_MD_SIZE], md2[EVP_MAX_MD_SIZE], *sig = NULL;
	unsigned int mdlen = 0, md2len = 0;
	struct sink s = { NULL, NULL };
	size_t siglen = 0;
	char *tmp = NULL;
	FILE *f = NULL;
	int r;

	if (w->failed || fflush(w->entries) != 0)
		return tsr_error(TSR_ERR_IO, "%s: cannot write the CRL entries: %s",
		    w->entries_path, strerror(errno));
	if ((r = digest_tbs(w, &s, chunk, md, &mdlen)) != 0 ||
	    (r = sign_digest(w, md, mdlen, &sig, &siglen)) != 0 ||
	    (r = temp_beside(w->path, "new", &tmp, &f)) != 0)
		goto out;
	if ((r = write_crl(w, f, chunk, sig, siglen, md2, &md2len)) != 0 ||
	    (r = md2len == mdlen ? check_signature(w, sig, siglen, md2, md2len) :
	    tsr_error(TSR_ERR_INTERNAL, "the CRL digest changed length")) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		r = tsr_error(TSR_ERR_IO, "cannot write the CRL: %s", strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, w->path) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot put the CRL in place at %s: %s", w->path,
		    strerror(errno));
		goto out;
	}
	sync_dir(w->path);
out:
	if (f != NULL)
		fclose(f);
	if (r != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	OPENSSL_free(sig);
	return r;
}

/* Sign, check and publish; w is freed whatever happens. */
int tsr_crl_finish(struct tsr_crl_writer *w, size_t *entries)
{
	uint8_t *chunk = malloc(COPY_CHUNK);
	int r;

	if (chunk == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	else
		r = finish(w, chunk);
	if (r == 0 && entries != NULL)
		*entries = w->count;
	free(chunk);
	tsr_crl_abort(w);
	return r;
}

/* Remove the entries file and free w. */
void tsr_crl_abort(struct tsr_crl_writer *w)
{
	if (w == NULL)
		return;
	if (w->entries != NULL)
		fclose(w->entries);
	if (w->entries_path != NULL)
		unlink(w->entries_path);
	free(w->entries_path);
	free(w->path);
	free(w->head);
	X509_free(w->issuer);
	free(w);
}
