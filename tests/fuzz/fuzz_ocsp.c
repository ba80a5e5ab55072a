/*
 * fuzz_ocsp.c - tsr_ocsp_request_parse() on arbitrary bytes, then the
 * issuer match of every CertID against a fixed CA (the seeds in
 * corpus/ocsp ask about it).  OpenSSL is the oracle for what is accepted:
 * a request we accept must decode with d2i_OCSP_REQUEST, re-encode to the
 * very same bytes, and hold the CertIDs, serials and nonce we reported.
 * The parts the parser checks only for their shape (requestorName, the
 * signature) are left out for that check; with them, OpenSSL may refuse
 * the request but must otherwise re-encode it the same.  The error queue
 * must be left empty by the parser.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The CA of the seeds (C=US, CN=Tessera Fuzz CA, P-256). */
static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBozCCAUmgAwIBAgIUf0vqgOWIkbDcd1kob+bxZPZJOWUwCgYIKoZIzj0EAwIw\n"
    "JzELMAkGA1UEBhMCVVMxGDAWBgNVBAMMD1Rlc3NlcmEgRnV6eiBDQTAeFw0yNjEx\n"
    "MjEwNTQ1NDNaFw00NjExMTYwNTQ1NDNaMCcxCzAJBgNVBAYTAlVTMRgwFgYDVQQD\n"
    "DA9UZXNzZXJhIEZ1enogQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASwj7q4\n"
    "whwrKTCPB1eFeZqjvpUyI0PDqk4C5Pxz496u4Tc1ZErSF5JI5Rfa1e6Jb4Hnxdjx\n"
    "LC4n4kth7isJCk8Co1MwUTAdBgNVHQ4EFgQUt3iI8H/f/6KO5rxTbE+6WG1xXnMw\n"
    "HwYDVR0jBBgwFoAUt3iI8H/f/6KO5rxTbE+6WG1xXnMwDwYDVR0TAQH/BAUwAwEB\n"
    "/zAKBggqhkjOPQQDAgNIADBFAiBI9nMEiNqIJ/7mI61RKE2ARQx9skQLEX8WJSQK\n"
    "I15iTQIhAKcr+7emlrN0OP8EZRidi1qobMMaZS4I8b2cTRVpcDNL\n"
    "-----END CERTIFICATE-----\n";

static const struct tsr_ocsp_issuer *issuer(void)
{
	static struct tsr_ocsp_issuer hashes;
	static bool done;
	BIO *bio;
	X509 *ca;

	if (!done) {
		bio = BIO_new_mem_buf(ca_pem, -1);
		ca = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		if (ca == NULL || tsr_ocsp_issuer_init(ca, &hashes) != 0)
			abort();
		X509_free(ca);
		BIO_free(bio);
		done = true;
	}
	return &hashes;
}

static size_t hash_len_of(int nid)
{
	switch (nid) {
	case NID_sha1: return 20;
	case NID_sha256: return 32;
	case NID_sha384: return 48;
	case NID_sha512: return 64;
	default: abort();
	}
}

/* The store's form of an INTEGER, or "" (what the parser must say). */
static void serial_of(const ASN1_INTEGER *sn, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	uint8_t bin[20];
	int n;

	out[0] = '\0';
	if (bn == NULL)
		abort();
	n = BN_num_bytes(bn);
	if (!BN_is_negative(bn) && !BN_is_zero(bn) && n <= 20) {
		if (BN_bn2bin(bn, bin) != n)
			abort();
		tsr_hex_encode(bin, (size_t)n, out);
	}
	BN_free(bn);
}

/* One CertID as we read it against OpenSSL's reading. */
static void check_id(const struct tsr_ocsp_certid *id, OCSP_CERTID *cid)
{
	ASN1_OCTET_STRING *name_hash, *key_hash;
	ASN1_OBJECT *md;
	ASN1_INTEGER *sn;
	unsigned char *der = NULL;
	char serial[41];
	int n = i2d_OCSP_CERTID(cid, &der);

	if (n <= 0 || (size_t)n != id->der_len || memcmp(der, id->der, id->der_len) != 0)
		abort();
	OPENSSL_free(der);
	if (OCSP_id_get0_info(&name_hash, &md, &key_hash, &sn, cid) != 1 ||
	    OBJ_obj2nid(md) != id->hash_nid || id->hash_len != hash_len_of(id->hash_nid) ||
	    (size_t)name_hash->length != id->hash_len ||
	    (size_t)key_hash->length != id->hash_len ||
	    memcmp(name_hash->data, id->name_hash, id->hash_len) != 0 ||
	    memcmp(key_hash->data, id->key_hash, id->hash_len) != 0)
		abort();
	serial_of(sn, serial);
	if (strcmp(serial, id->serial) != 0)
		abort();
	(void)tsr_ocsp_issuer_match(issuer(), id);
}

/* The nonce OpenSSL finds, compared with ours. */
static void check_nonce(const struct tsr_ocsp_request *req, OCSP_REQUEST *o)
{
	int i = OCSP_REQUEST_get_ext_by_NID(o, NID_id_pkix_OCSP_Nonce, -1);
	const ASN1_OCTET_STRING *v;
	ASN1_OCTET_STRING *inner;
	const unsigned char *p;

	if (i < 0) {
		if (req->has_nonce)
			abort();
		return;
	}
	if (OCSP_REQUEST_get_ext_by_NID(o, NID_id_pkix_OCSP_Nonce, i) >= 0)
		abort();  /* two nonces were accepted */
	v = X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(o, i));
	p = v->data;
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, v->length);
	if (inner == NULL || p != v->data + v->length || inner->length < 1 ||
	    inner->length > TSR_OCSP_NONCE_REFUSE)
		abort();
	if (req->has_nonce != (inner->length <= TSR_OCSP_NONCE_MAX) ||
	    (req->has_nonce && ((size_t)inner->length != req->nonce_len ||
	    memcmp(inner->data, req->nonce, req->nonce_len) != 0)))
		abort();
	ASN1_OCTET_STRING_free(inner);
}

/* The header's length of a DER element, and its contents' in *len (the
 * parser accepted it, so lengths are definite). */
static size_t header(const uint8_t *p, size_t *len)
{
	size_t n = p[1] < 0x80 ? 0 : (size_t)(p[1] & 0x7f);

	*len = n == 0 ? p[1] : 0;
	for (size_t i = 0; i < n; i++)
		*len = *len << 8 | p[2 + i];
	return 2 + n;
}

static size_t put_header(uint8_t *out, uint8_t tag, size_t len)
{
	out[0] = tag;
	if (len < 0x80) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		out[1] = 0x81;
		out[2] = (uint8_t)len;
		return 3;
	}
	out[1] = 0x82;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	return 4;
}

/* The request without the parts the parser ignores (requestorName and
 * the signature), which it checks only for their shape. */
static size_t strip(const uint8_t *data, uint8_t out[TSR_OCSP_REQUEST_MAX])
{
	uint8_t body[TSR_OCSP_REQUEST_MAX];
	size_t len, n = 0, o;
	const uint8_t *tbs = data + header(data, &len), *q, *end;

	q = tbs + header(tbs, &len);
	for (end = q + len; q < end; q += o) {
		o = header(q, &len) + len;
		if (q[0] != 0xa1) {
			memcpy(body + n, q, o);
			n += o;
		}
	}
	o = put_header(out + 4, 0x30, n);
	memcpy(out + 4 + o, body, n);
	n += o;
	o = put_header(out, 0x30, n);
	memmove(out + o, out + 4, n);
	return o + n;
}

/* OpenSSL decodes what we accepted and re-encodes it to the same bytes. */
static OCSP_REQUEST *decode_same(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	OCSP_REQUEST *o = d2i_OCSP_REQUEST(NULL, &p, (long)size);
	unsigned char *der = NULL;
	int n;

	if (o == NULL || p != data + size)
		return NULL;
	n = i2d_OCSP_REQUEST(o, &der);
	if (n <= 0 || (size_t)n != size || memcmp(der, data, size) != 0)
		abort();
	OPENSSL_free(der);
	return o;
}

static void check_accepted(const uint8_t *data, size_t size, const struct tsr_ocsp_request *req)
{
	uint8_t bare[TSR_OCSP_REQUEST_MAX];
	size_t bare_len = strip(data, bare);
	OCSP_REQUEST *o = decode_same(bare, bare_len);

	if (o == NULL || req->n_ids < 1 || req->n_ids > TSR_OCSP_MAX_IDS ||
	    OCSP_request_onereq_count(o) != (int)req->n_ids)
		abort();
	for (size_t i = 0; i < req->n_ids; i++)
		check_id(&req->ids[i], OCSP_onereq_get0_id(OCSP_request_onereq_get0(o, (int)i)));
	check_nonce(req, o);
	OCSP_REQUEST_free(o);
	/* With the ignored parts, OpenSSL may find fault in what they hold,
	 * but what it reads must re-encode the same. */
	o = decode_same(data, size);
	if (o == NULL && bare_len == size)
		abort();
	OCSP_REQUEST_free(o);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_ocsp_request req;
	int r;

	(void)issuer();
	r = tsr_ocsp_request_parse(data, size, &req);
	if (ERR_peek_error() != 0)
		abort();
	if (r == 0)
		check_accepted(data, size, &req);
	else if (req.n_ids != 0 || req.has_nonce)
		abort();
	return 0;
}
