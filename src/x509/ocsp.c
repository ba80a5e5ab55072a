/*
 * ocsp.c - OCSP (RFC 6960 with the RFC 5019 profile): the request parser,
 * the issuer hashes a CertID is matched against, signed responses and the
 * fixed error responses.
 *
 * The parser runs on every request a responder gets, so it reads the DER
 * in place, in the order of the schema, without allocating: a request is a
 * few hundred bytes of nested TLVs and we need only the CertIDs and the
 * nonce.  It checks DER as it goes (definite, minimal lengths; minimal
 * INTEGERs; BOOLEAN 00 or FF; valid OIDs; no constructed strings), which is
 * at least as strict as OpenSSL's decode-and-re-encode check, except that
 * a DEFAULT value written out (version v1, critical FALSE) is tolerated as
 * that check tolerates it.  The parts we ignore (requestorName, the
 * optional signature) are checked as DER and for their outer shape, but
 * not decoded: OpenSSL would spend on them a hundred times what the rest
 * of the request costs.  Responses are built with OpenSSL's OCSP API.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "x509/x509.h"

/* Identifier octets (universal class, or context class [n]). */
#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_NULL 0x05
#define TAG_OID 0x06
#define TAG_ENUMERATED 0x0a
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CONSTRUCTED 0x20
#define TAG_CTX0 0xa0              /* [0] EXPLICIT */
#define TAG_CTX1 0xa1
#define TAG_CTX2 0xa2

#define DER_DEPTH_MAX 32          /* nesting walked in the parts we ignore */

/* OID contents. */
static const uint8_t oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_sha384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
static const uint8_t oid_sha512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };
/* id-pkix-ocsp-nonce, -basic and -response (acceptable responses). */
static const uint8_t oid_nonce[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02 };
static const uint8_t oid_basic[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
static const uint8_t oid_acceptable[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x04 };

static const struct {
	const uint8_t *oid;
	size_t oid_len;
	int nid;
	size_t hash_len;
	const EVP_MD *(*md)(void);
} hashes[4] = {
	{ oid_sha1, sizeof(oid_sha1), NID_sha1, 20, EVP_sha1 },
	{ oid_sha256, sizeof(oid_sha256), NID_sha256, 32, EVP_sha256 },
	{ oid_sha384, sizeof(oid_sha384), NID_sha384, 48, EVP_sha384 },
	{ oid_sha512, sizeof(oid_sha512), NID_sha512, 64, EVP_sha512 },
};

/* ------------------------------------------------------------------ DER reading */

/* The bytes of a value not read yet. */
struct der {
	const uint8_t *p;
	size_t n;
};

/* Read one element: a low tag number and a definite length in its
 * shortest form (a request fits in 4096 bytes, so at most two length
 * octets).  *v gets the contents and d moves past the element. */
static bool der_next(struct der *d, uint8_t *tag, struct der *v)
{
	size_t len, hdr = 2;

	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return false;
	len = d->p[1];
	if (len == 0x81) {
		if (d->n < 3 || d->p[2] < 0x80)
			return false;
		len = d->p[2];
		hdr = 3;
	} else if (len == 0x82) {
		if (d->n < 4 || d->p[2] == 0)
			return false;
		len = (size_t)d->p[2] << 8 | d->p[3];
		hdr = 4;
	} else if (len >= 0x80) {
		return false;     /* indefinite (BER), or longer than any request */
	}
	if (len > d->n - hdr)
		return false;
	*tag = d->p[0];
	v->p = d->p + hdr;
	v->n = len;
	d->p += hdr + len;
	d->n -= hdr + len;
	return true;
}

/* Read one element that must have the identifier tag. */
static bool der_get(struct der *d, uint8_t tag, struct der *v)
{
	struct der rest = *d;
	uint8_t t;

	if (!der_next(&rest, &t, v) || t != tag)
		return false;
	*d = rest;
	return true;
}

static bool der_peek(const struct der *d, uint8_t tag)
{
	return d->n > 0 && d->p[0] == tag;
}

/* A two's complement integer in as few octets as possible. */
static bool der_integer_ok(struct der v)
{
	if (v.n == 0)
		return false;
	if (v.n > 1 && ((v.p[0] == 0x00 && v.p[1] < 0x80) || (v.p[0] == 0xff && v.p[1] >= 0x80)))
		return false;
	return true;
}

/* Subidentifiers in base 128, none starting with a padding 0x80, the last
 * one complete. */
static bool der_oid_ok(struct der v)
{
	if (v.n == 0 || (v.p[v.n - 1] & 0x80) != 0)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == 0x80 && (i == 0 || (v.p[i - 1] & 0x80) == 0))
			return false;
	return true;
}

static bool oid_is(struct der v, const uint8_t *oid, size_t len)
{
	return v.n == len && memcmp(v.p, oid, len) == 0;
}

static bool der_primitive_ok(uint8_t tag, struct der v)
{
	switch (tag) {
	case TAG_BOOLEAN:
		return v.n == 1 && (v.p[0] == 0x00 || v.p[0] == 0xff);
	case TAG_INTEGER:
	case TAG_ENUMERATED:
		return der_integer_ok(v);
	case TAG_NULL:
		return v.n == 0;
	case TAG_OID:
		return der_oid_ok(v);
	case TAG_BIT_STRING:
		/* The count of unused bits, which must be zero bits. */
		return v.n >= 1 && v.p[0] <= 7 && (v.n > 1 || v.p[0] == 0) &&
		    (v.p[v.n - 1] & ((1u << v.p[0]) - 1)) == 0;
	case TAG_SEQUENCE & ~TAG_CONSTRUCTED:
	case TAG_SET & ~TAG_CONSTRUCTED:
		return false;     /* SEQUENCE and SET are always constructed */
	default:
		return true;
	}
}

/* Every element of d, recursively, is DER as far as TLVs tell: used on
 * the parts of a request we do not interpret. */
static bool der_walk(struct der d, int depth)
{
	struct der v;
	uint8_t tag;

	while (d.n > 0) {
		if (!der_next(&d, &tag, &v))
			return false;
		if ((tag & TAG_CONSTRUCTED) == 0) {
			if (!der_primitive_ok(tag, v))
				return false;
			continue;
		}
		/* DER has no constructed strings: only SEQUENCE and SET are
		 * constructed in the universal class. */
		if ((tag & 0xc0) == 0 && tag != TAG_SEQUENCE && tag != TAG_SET)
			return false;
		if (depth >= DER_DEPTH_MAX || !der_walk(v, depth + 1))
			return false;
	}
	return true;
}

/* The dotted form of a valid OID for an error detail (cut if long). */
static void oid_text(struct der oid, char *buf, size_t size)
{
	unsigned long long v = 0;
	size_t o = 0;
	int w;

	buf[0] = '\0';
	for (size_t i = 0; i < oid.n && o < size; i++) {
		v = v << 7 | (oid.p[i] & 0x7f);
		if (oid.p[i] & 0x80) {
			if (v >> 56 != 0)
				return;
			continue;
		}
		if (o == 0)
			w = snprintf(buf, size, "%llu.%llu", v < 80 ? v / 40 : 2,
			    v < 80 ? v % 40 : v - 80);
		else
			w = snprintf(buf + o, size - o, ".%llu", v);
		if (w < 0)
			return;
		o += (size_t)w;
		v = 0;
	}
}

/* ------------------------------------------------------------------ request parts */

static int malformed(const char *what)
{
	return tsr_error(TSR_ERR_PARSE, "OCSP request: %s", what);
}

/* Parser state beyond what the caller gets. */
struct parse {
	struct tsr_ocsp_request *out;
	bool nonce_seen;
};

/* RFC 8954: extnValue holds an OCTET STRING of 1..32 bytes to echo;
 * 33..128 bytes are accepted and not echoed; anything else is refused. */
static int parse_nonce(struct parse *ps, struct der value)
{
	struct der nonce;

	if (ps->nonce_seen)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: two nonces");
	ps->nonce_seen = true;
	if (!der_get(&value, TAG_OCTET_STRING, &nonce) || value.n != 0)
		return tsr_error(TSR_ERR_INVALID,
		    "OCSP request: the nonce is not an OCTET STRING (RFC 8954)");
	if (nonce.n == 0 || nonce.n > TSR_OCSP_NONCE_REFUSE)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: a nonce of %zu bytes (1 to %d)",
		    nonce.n, TSR_OCSP_NONCE_REFUSE);
	if (nonce.n <= TSR_OCSP_NONCE_MAX) {
		memcpy(ps->out->nonce, nonce.p, nonce.n);
		ps->out->nonce_len = nonce.n;
		ps->out->has_nonce = true;
	}
	return 0;
}

/* A critical AcceptableResponses (RFC 6960 4.4.3) we can honour: it must
 * list id-pkix-ocsp-basic, the only type we answer with. */
static int check_acceptable(struct der value)
{
	struct der list, oid;
	bool basic = false;

	if (!der_get(&value, TAG_SEQUENCE, &list) || value.n != 0)
		return malformed("acceptable responses are not DER");
	while (list.n > 0) {
		if (!der_get(&list, TAG_OID, &oid) || !der_oid_ok(oid))
			return malformed("acceptable responses are not DER");
		basic |= oid_is(oid, oid_basic, sizeof(oid_basic));
	}
	if (!basic)
		return tsr_error(TSR_ERR_INVALID,
		    "OCSP request: the client accepts no basic OCSP response");
	return 0;
}

/* One Extension; request tells a requestExtension from a
 * singleRequestExtension. */
static int parse_extension(struct parse *ps, struct der *list, bool request)
{
	struct der ext, oid, crit, value;
	bool critical = false;
	char name[64];

	if (!der_get(list, TAG_SEQUENCE, &ext) || !der_get(&ext, TAG_OID, &oid) ||
	    !der_oid_ok(oid))
		return malformed("an extension is not DER");
	if (der_peek(&ext, TAG_BOOLEAN)) {
		if (!der_get(&ext, TAG_BOOLEAN, &crit) || !der_primitive_ok(TAG_BOOLEAN, crit))
			return malformed("an extension's critical flag is not DER");
		critical = crit.p[0] == 0xff;
	}
	if (!der_get(&ext, TAG_OCTET_STRING, &value) || ext.n != 0)
		return malformed("an extension is not DER");
	if (request && oid_is(oid, oid_nonce, sizeof(oid_nonce)))
		return parse_nonce(ps, value);
	if (!critical)
		return 0;
	if (request && oid_is(oid, oid_acceptable, sizeof(oid_acceptable)))
		return check_acceptable(value);
	oid_text(oid, name, sizeof(name));
	return tsr_error(TSR_ERR_INVALID, "OCSP request: unknown critical extension %s", name);
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, in [tag] EXPLICIT
 * if present. */
static int parse_extensions(struct parse *ps, struct der *parent, uint8_t tag, bool request)
{
	struct der wrap, list;
	int r;

	if (!der_peek(parent, tag))
		return 0;
	if (!der_get(parent, tag, &wrap) || !der_get(&wrap, TAG_SEQUENCE, &list) ||
	    wrap.n != 0 || list.n == 0)
		return malformed("extensions are not DER");
	while (list.n > 0)
		if ((r = parse_extension(ps, &list, request)) != 0)
			return r;
	return 0;
}

/* The serial as the store keeps it: lower-case hex of the value's octets
 * without leading zero octets; "" if no certificate can have it. */
static void serial_of(struct der sn, char out[41])
{
	out[0] = '\0';
	if (sn.p[0] & 0x80)
		return;           /* negative */
	if (sn.p[0] == 0x00) {
		sn.p++;
		sn.n--;
	}
	if (sn.n == 0 || sn.n > 20)
		return;           /* zero, or longer than RFC 5280 allows */
	tsr_hex_encode(sn.p, sn.n, out);
}

/* AlgorithmIdentifier: one of the four hashes, parameters absent or NULL. */
static int parse_hash_alg(struct der alg, struct tsr_ocsp_certid *id)
{
	struct der oid, params;
	uint8_t tag;
	char name[64];

	if (!der_get(&alg, TAG_OID, &oid) || !der_oid_ok(oid))
		return malformed("a CertID's hash algorithm is not DER");
	if (alg.n > 0) {
		if (!der_next(&alg, &tag, &params) || alg.n != 0 ||
		    ((tag & TAG_CONSTRUCTED) == 0 && !der_primitive_ok(tag, params)))
			return malformed("a CertID's hash algorithm is not DER");
		if (tag != TAG_NULL)
			return tsr_error(TSR_ERR_INVALID,
			    "OCSP request: hash algorithm parameters other than NULL");
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(hashes); i++)
		if (oid_is(oid, hashes[i].oid, hashes[i].oid_len)) {
			id->hash_nid = hashes[i].nid;
			id->hash_len = hashes[i].hash_len;
			return 0;
		}
	oid_text(oid, name, sizeof(name));
	return tsr_error(TSR_ERR_INVALID, "OCSP request: CertID hash %s is not SHA-1, SHA-256, "
	    "SHA-384 or SHA-512", name);
}

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
 * serialNumber }, kept as sent for the response to echo. */
static int parse_certid(struct der *req, struct tsr_ocsp_certid *id)
{
	const uint8_t *start = req->p;
	struct der cid, alg, name_hash, key_hash, sn;
	int r;

	if (!der_get(req, TAG_SEQUENCE, &cid) || !der_get(&cid, TAG_SEQUENCE, &alg) ||
	    !der_get(&cid, TAG_OCTET_STRING, &name_hash) ||
	    !der_get(&cid, TAG_OCTET_STRING, &key_hash) || !der_get(&cid, TAG_INTEGER, &sn) ||
	    cid.n != 0 || !der_integer_ok(sn))
		return malformed("a CertID is not DER");
	if ((r = parse_hash_alg(alg, id)) != 0)
		return r;
	if (name_hash.n != id->hash_len || key_hash.n != id->hash_len)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: CertID hashes of %zu and %zu "
		    "bytes, %zu expected", name_hash.n, key_hash.n, id->hash_len);
	id->der_len = (size_t)(req->p - start);
	if (id->der_len > sizeof(id->der))
		return tsr_error(TSR_ERR_INVALID, "OCSP request: a CertID of %zu bytes (at most %zu)",
		    id->der_len, sizeof(id->der));
	memcpy(id->der, start, id->der_len);
	memcpy(id->name_hash, name_hash.p, id->hash_len);
	memcpy(id->key_hash, key_hash.p, id->hash_len);
	serial_of(sn, id->serial);
	return 0;
}

/* Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0]
 * EXPLICIT Extensions OPTIONAL } */
static int parse_single(struct parse *ps, struct der *list)
{
	struct tsr_ocsp_request *out = ps->out;
	struct der req;
	int r;

	if (out->n_ids == TSR_OCSP_MAX_IDS)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: more than %d certificates",
		    TSR_OCSP_MAX_IDS);
	if (!der_get(list, TAG_SEQUENCE, &req))
		return malformed("a Request is not DER");
	if ((r = parse_certid(&req, &out->ids[out->n_ids])) != 0 ||
	    (r = parse_extensions(ps, &req, TAG_CTX0, false)) != 0)
		return r;
	if (req.n != 0)
		return malformed("unexpected data in a Request");
	out->n_ids++;
	return 0;
}

/* version [0] EXPLICIT Version DEFAULT v1 */
static int parse_version(struct der *tbs)
{
	struct der wrap, v;

	if (!der_peek(tbs, TAG_CTX0))
		return 0;
	if (!der_get(tbs, TAG_CTX0, &wrap) || !der_get(&wrap, TAG_INTEGER, &v) || wrap.n != 0 ||
	    !der_integer_ok(v))
		return malformed("the version is not DER");
	if (v.n != 1 || v.p[0] != 0)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: a version other than v1");
	return 0;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName, each a non-empty SET
 * OF AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }. */
static bool name_shape_ok(struct der name)
{
	struct der rdns, rdn, atv, oid, value;
	uint8_t tag;

	if (!der_get(&name, TAG_SEQUENCE, &rdns) || name.n != 0)
		return false;
	while (rdns.n > 0) {
		if (!der_get(&rdns, TAG_SET, &rdn) || rdn.n == 0)
			return false;
		while (rdn.n > 0)
			if (!der_get(&rdn, TAG_SEQUENCE, &atv) || !der_get(&atv, TAG_OID, &oid) ||
			    !der_next(&atv, &tag, &value) || atv.n != 0)
				return false;
	}
	return true;
}

/* requestorName [1] EXPLICIT GeneralName: ignored, but it must be DER and
 * one of the GeneralName choices.  It is not decoded with OpenSSL: a
 * 4 KB directoryName would cost as much as a thousand requests. */
static int check_requestor(struct der wrap)
{
	struct der gn;
	uint8_t tag;

	if (!der_walk(wrap, 0) || !der_next(&wrap, &tag, &gn) || wrap.n != 0)
		return malformed("the requestorName is not DER");
	switch (tag) {
	case 0xa0:        /* otherName */
	case 0x81:        /* rfc822Name */
	case 0x82:        /* dNSName */
	case 0xa3:        /* x400Address */
	case 0xa5:        /* ediPartyName */
	case 0x86:        /* uniformResourceIdentifier */
	case 0x87:        /* iPAddress */
		return 0;
	case 0x88:        /* registeredID */
		return der_oid_ok(gn) ? 0 : malformed("the requestorName is not DER");
	case 0xa4:        /* directoryName */
		return name_shape_ok(gn) ? 0 : malformed("the requestorName is not a Name");
	default:
		return malformed("the requestorName is not a GeneralName");
	}
}

/* Signature ::= SEQUENCE { signatureAlgorithm AlgorithmIdentifier,
 * signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate
 * OPTIONAL }: ignored, but it must have this shape, in DER. */
static int check_signature_shape(struct der wrap)
{
	struct der sig, alg, oid, bits, certs, list, cert;

	if (!der_walk(wrap, 0) || !der_get(&wrap, TAG_SEQUENCE, &sig) || wrap.n != 0 ||
	    !der_get(&sig, TAG_SEQUENCE, &alg) || !der_get(&alg, TAG_OID, &oid) ||
	    !der_get(&sig, TAG_BIT_STRING, &bits))
		return malformed("the signature is not DER");
	if (der_peek(&sig, TAG_CTX0)) {
		if (!der_get(&sig, TAG_CTX0, &certs) || !der_get(&certs, TAG_SEQUENCE, &list) ||
		    certs.n != 0)
			return malformed("the signature's certificates are not DER");
		while (list.n > 0)
			if (!der_get(&list, TAG_SEQUENCE, &cert))
				return malformed("the signature's certificates are not DER");
	}
	if (sig.n != 0)
		return malformed("unexpected data in the signature");
	return 0;
}

/* TBSRequest ::= SEQUENCE { version, requestorName [1] EXPLICIT
 * GeneralName OPTIONAL, requestList SEQUENCE OF Request,
 * requestExtensions [2] EXPLICIT Extensions OPTIONAL } */
static int parse_tbs(struct parse *ps, struct der tbs)
{
	struct der wrap, list;
	int r;

	if ((r = parse_version(&tbs)) != 0)
		return r;
	if (der_peek(&tbs, TAG_CTX1)) {
		if (!der_get(&tbs, TAG_CTX1, &wrap))
			return malformed("the requestorName is not DER");
		if ((r = check_requestor(wrap)) != 0)
			return r;
	}
	if (!der_get(&tbs, TAG_SEQUENCE, &list))
		return malformed("the request list is not DER");
	while (list.n > 0)
		if ((r = parse_single(ps, &list)) != 0)
			return r;
	if (ps->out->n_ids == 0)
		return tsr_error(TSR_ERR_INVALID, "OCSP request: no certificate asked about");
	if ((r = parse_extensions(ps, &tbs, TAG_CTX2, true)) != 0)
		return r;
	if (tbs.n != 0)
		return malformed("unexpected data in the TBSRequest");
	return 0;
}

/* OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature
 * [0] EXPLICIT Signature OPTIONAL } */
static int parse_request(struct parse *ps, const uint8_t *der, size_t len)
{
	struct der all = { der, len }, req, tbs, sig;
	int r;

	if (!der_get(&all, TAG_SEQUENCE, &req))
		return malformed("not a DER OCSPRequest, or truncated");
	if (all.n != 0)
		return tsr_error(TSR_ERR_PARSE, "OCSP request: %zu bytes after the request", all.n);
	if (!der_get(&req, TAG_SEQUENCE, &tbs))
		return malformed("the TBSRequest is not DER");
	if ((r = parse_tbs(ps, tbs)) != 0)
		return r;
	if (der_peek(&req, TAG_CTX0)) {
		if (!der_get(&req, TAG_CTX0, &sig))
			return malformed("the signature is not DER");
		if ((r = check_signature_shape(sig)) != 0)
			return r;
	}
	if (req.n != 0)
		return malformed("unexpected data after the TBSRequest");
	return 0;
}

/* Parse a request (x509.h has the rules); out holds no id on failure. */
int tsr_ocsp_request_parse(const uint8_t *der, size_t len, struct tsr_ocsp_request *out)
{
	struct parse ps = { .out = out };
	int r;

	out->n_ids = 0;
	out->has_nonce = false;
	out->nonce_len = 0;
	if (len > TSR_OCSP_REQUEST_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "OCSP request of %zu bytes (at most %d)", len,
		    TSR_OCSP_REQUEST_MAX);
	if (der == NULL)
		return malformed("empty");
	if ((r = parse_request(&ps, der, len)) != 0) {
		out->n_ids = 0;
		out->has_nonce = false;
		out->nonce_len = 0;
	}
	return r;
}

/* ------------------------------------------------------------------ issuers */

/* Hash ca's subject name (DER) and public key (the BIT STRING's contents,
 * RFC 6960 4.1.1) with each of the four algorithms. */
int tsr_ocsp_issuer_init(const X509 *ca, struct tsr_ocsp_issuer *out)
{
	const ASN1_BIT_STRING *key;
	unsigned char *name = NULL;
	int name_len, r = 0;

	memset(out, 0, sizeof(*out));
	if (ca == NULL || (key = X509_get0_pubkey_bitstr(ca)) == NULL)
		return tsr_error(TSR_ERR_INVALID, "OCSP: no issuer certificate or key");
	if ((name_len = i2d_X509_NAME(X509_get_subject_name(ca), &name)) <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot encode the issuer's name");
	for (size_t i = 0; i < TSR_ARRAY_LEN(hashes); i++) {
		const EVP_MD *md = hashes[i].md();

		if (EVP_Digest(name, (size_t)name_len, out->name_hash[i], NULL, md, NULL) != 1 ||
		    EVP_Digest(key->data, (size_t)key->length, out->key_hash[i], NULL, md,
		    NULL) != 1) {
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot hash the issuer");
			memset(out, 0, sizeof(*out));
			goto out;
		}
		out->nids[i] = hashes[i].nid;
	}
out:
	OPENSSL_free(name);
	return r;
}

/* True if id names ca with one of the four hashes. */
bool tsr_ocsp_issuer_match(const struct tsr_ocsp_issuer *ca, const struct tsr_ocsp_certid *id)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(hashes); i++) {
		if (ca->nids[i] == NID_undef || ca->nids[i] != id->hash_nid)
			continue;
		return id->hash_len == hashes[i].hash_len &&
		    memcmp(ca->name_hash[i], id->name_hash, id->hash_len) == 0 &&
		    memcmp(ca->key_hash[i], id->key_hash, id->hash_len) == 0;
	}
	return false;
}

/* ------------------------------------------------------------------ responses */

/* The CRLReason code of an RFC 5280 name; "unspecified" and NULL give no
 * reason at all (RFC 5280 asks to leave it out); removeFromCRL has no
 * meaning in an answer about one certificate. */
static int reason_code(const char *reason, int *out)
{
	static const struct {
		const char *name;
		int code;
	} reasons[] = {
		{ "keyCompromise", OCSP_REVOKED_STATUS_KEYCOMPROMISE },
		{ "cACompromise", OCSP_REVOKED_STATUS_CACOMPROMISE },
		{ "affiliationChanged", OCSP_REVOKED_STATUS_AFFILIATIONCHANGED },
		{ "superseded", OCSP_REVOKED_STATUS_SUPERSEDED },
		{ "cessationOfOperation", OCSP_REVOKED_STATUS_CESSATIONOFOPERATION },
		{ "certificateHold", OCSP_REVOKED_STATUS_CERTIFICATEHOLD },
		{ "privilegeWithdrawn", 9 },
		{ "aACompromise", 10 },
	};

	*out = OCSP_REVOKED_STATUS_NOSTATUS;
	if (reason == NULL || strcmp(reason, "unspecified") == 0)
		return 0;
	for (size_t i = 0; i < TSR_ARRAY_LEN(reasons); i++)
		if (strcmp(reason, reasons[i].name) == 0) {
			*out = reasons[i].code;
			return 0;
		}
	return tsr_error(TSR_ERR_INVALID, "OCSP: unknown revocation reason '%s'", reason);
}

/* The certStatus of s in OpenSSL's terms. */
static int status_of(const struct tsr_ocsp_single *s, int *status, int *reason)
{
	*reason = OCSP_REVOKED_STATUS_NOSTATUS;
	switch (s->status) {
	case TSR_OCSP_GOOD:
		*status = V_OCSP_CERTSTATUS_GOOD;
		return 0;
	case TSR_OCSP_UNKNOWN:
		*status = V_OCSP_CERTSTATUS_UNKNOWN;
		return 0;
	case TSR_OCSP_REVOKED:
		*status = V_OCSP_CERTSTATUS_REVOKED;
		if (s->revoked_at <= 0)
			return tsr_error(TSR_ERR_INVALID, "OCSP: a revocation without a time");
		return reason_code(s->reason, reason);
	default:
		return tsr_error(TSR_ERR_INVALID, "OCSP: unknown status %d", (int)s->status);
	}
}

/* Add one SingleResponse, echoing the CertID as the request sent it. */
static int add_single(OCSP_BASICRESP *bs, const struct tsr_ocsp_single *s)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *this_upd = NULL, *next_upd = NULL;
	OCSP_CERTID *cid = NULL;
	const unsigned char *p;
	int status, reason, r;

	if (s->id == NULL || s->id->der_len == 0 || s->id->der_len > sizeof(s->id->der))
		return tsr_error(TSR_ERR_INVALID, "OCSP: a response without its CertID");
	if ((r = status_of(s, &status, &reason)) != 0)
		return r;
	if (s->this_update <= 0 || s->next_update <= s->this_update)
		return tsr_error(TSR_ERR_INVALID, "OCSP: nextUpdate must come after thisUpdate");
	p = s->id->der;
	cid = d2i_OCSP_CERTID(NULL, &p, (long)s->id->der_len);
	if (cid == NULL || p != s->id->der + s->id->der_len) {
		r = tsr_error_openssl(TSR_ERR_INVALID, "OCSP: the CertID cannot be read");
		goto out;
	}
	if ((this_upd = ASN1_GENERALIZEDTIME_set(NULL, s->this_update)) == NULL ||
	    (next_upd = ASN1_GENERALIZEDTIME_set(NULL, s->next_update)) == NULL ||
	    (status == V_OCSP_CERTSTATUS_REVOKED &&
	    (rev = ASN1_GENERALIZEDTIME_set(NULL, s->revoked_at)) == NULL) ||
	    OCSP_basic_add1_status(bs, cid, status, reason, rev, this_upd, next_upd) == NULL)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot add a single response");
out:
	OCSP_CERTID_free(cid);
	ASN1_GENERALIZEDTIME_free(rev);
	ASN1_GENERALIZEDTIME_free(this_upd);
	ASN1_GENERALIZEDTIME_free(next_upd);
	return r;
}

/* Check the token's work as a relying party would, with the responder's
 * key found through the responderID: a faulty token or a wrong key must
 * never produce an answer we send. */
static int check_signature(OCSP_BASICRESP *bs, X509 *responder)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	int ok;

	if (certs == NULL || sk_X509_push(certs, responder) <= 0) {
		sk_X509_free(certs);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	ok = OCSP_basic_verify(bs, certs, NULL, OCSP_NOINTERN | OCSP_NOVERIFY);
	sk_X509_free(certs);
	if (ok != 1)
		return tsr_error_openssl(TSR_ERR_PKCS11,
		    "the OCSP response's signature does not verify with the responder's key");
	return 0;
}

/* Fill in everything but the signature. */
static int build_basic(OCSP_BASICRESP *bs, const struct tsr_ocsp_single *s, size_t n,
    const uint8_t *nonce, size_t nonce_len, time_t produced_at)
{
	ASN1_GENERALIZEDTIME *produced;
	int r;

	for (size_t i = 0; i < n; i++)
		if ((r = add_single(bs, &s[i])) != 0)
			return r;
	if (nonce != NULL && OCSP_basic_add1_nonce(bs, (unsigned char *)nonce, (int)nonce_len) != 1)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot add the nonce");
	/* OCSP_basic_sign() would stamp the wall clock; the caller's time (the
	 * injectable clock) is written here and OCSP_NOTIME keeps it.  OpenSSL
	 * has no setter, only this accessor to the field it allocated. */
	produced = (ASN1_GENERALIZEDTIME *)OCSP_resp_get0_produced_at(bs);
	if (produced == NULL || ASN1_GENERALIZEDTIME_set(produced, produced_at) == NULL)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot set producedAt");
	return 0;
}

/* Sign a successful response (x509.h has the contract). */
int tsr_ocsp_response_sign(struct tsr_signer *signer, X509 *responder,
    const struct tsr_ocsp_single *s, size_t n, const uint8_t *nonce, size_t nonce_len,
    time_t produced_at, uint8_t **out, size_t *out_len)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	int len, r;

	*out = NULL;
	*out_len = 0;
	if (signer == NULL || responder == NULL || s == NULL || n == 0 || n > TSR_OCSP_MAX_IDS ||
	    produced_at <= 0)
		return tsr_error(TSR_ERR_INVALID, "OCSP: nothing to sign");
	if (nonce != NULL && (nonce_len == 0 || nonce_len > TSR_OCSP_NONCE_MAX))
		return tsr_error(TSR_ERR_INVALID, "OCSP: a nonce of %zu bytes (1 to %d)", nonce_len,
		    TSR_OCSP_NONCE_MAX);
	if ((bs = OCSP_BASICRESP_new()) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = build_basic(bs, s, n, nonce, nonce_len, produced_at)) != 0)
		goto out;
	if (OCSP_basic_sign(bs, responder, tsr_signer_pkey(signer), tsr_signer_md(signer), NULL,
	    OCSP_RESPID_KEY | OCSP_NOTIME) != 1) {
		r = tsr_error_openssl(TSR_ERR_PKCS11, "signing the OCSP response in the token failed");
		goto out;
	}
	if ((r = check_signature(bs, responder)) != 0)
		goto out;
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL ||
	    (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "OCSP: cannot encode the response");
		goto out;
	}
	*out = der;
	*out_len = (size_t)len;
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	return r;
}

/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
static const uint8_t resp_malformed[] = { 0x30, 0x03, 0x0a, 0x01, 0x01 };
static const uint8_t resp_internal[] = { 0x30, 0x03, 0x0a, 0x01, 0x02 };
static const uint8_t resp_try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
static const uint8_t resp_unauthorized[] = { 0x30, 0x03, 0x0a, 0x01, 0x06 };

/* The unsigned answer for e (internalError for a value not in the enum). */
const uint8_t *tsr_ocsp_response_error(enum tsr_ocsp_error e, size_t *len)
{
	const uint8_t *p;

	switch (e) {
	case TSR_OCSP_MALFORMED:
		p = resp_malformed;
		break;
	case TSR_OCSP_TRY_LATER:
		p = resp_try_later;
		break;
	case TSR_OCSP_UNAUTHORIZED:
		p = resp_unauthorized;
		break;
	case TSR_OCSP_INTERNAL:
	default:
		p = resp_internal;
		break;
	}
	*len = sizeof(resp_internal);
	return p;
}
