/*
 * est.c - EST (RFC 7030) under /.well-known/est/ and Test My Certificate.
 *
 *   GET  cacerts          the issuing CA and root, anonymous
 *   GET  csrattrs         the key type the product wants (Basic: the
 *                         activation code and the account password; none:
 *                         204)
 *   POST simpleenroll     retrieval: a PKCS#10 made on the token, with Basic
 *   POST simplereenroll   renewal, authenticated by the TLS client
 *                         certificate being renewed
 *   POST /api/v1/test-my-cert/nonce, /api/v1/test-my-cert   (JSON)
 *
 * EST bodies are base64 of DER both ways (RFC 7030 4.1.3, 4.2.1, 4.2.3,
 * 4.5.2); answers carry "Content-Transfer-Encoding: base64" as the RFC
 * shows, though RFC 8951 lets clients ignore it.  Every rule (codes,
 * passwords, keys, tokens, windows) is the ra layer's (src/ra/retrieve.h);
 * this file parses and shapes.  docs/est.md describes the wire format.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "http/http.h"
#include "ra/app.h"
#include "ra/retrieve.h"

#define EST "/.well-known/est"
#define CHALLENGE "Basic realm=\"tessera\", charset=\"UTF-8\""
#define B64_LINE 64                   /* characters per line of base64 answers */
#define CLAIM_MAX 64                  /* characters of a token claim header */
#define TEST_CERT_MAX 16384           /* a PEM certificate in a test */
#define TEST_SIG_B64_MAX 1024         /* base64 of a signature (RSA-4096: 684) */

/* ------------------------------------------------------------------ parsing */

int tsr_http_est_csr(const uint8_t *body, size_t len, uint8_t **der, size_t *der_len)
{
	size_t max = tsr_base64_decoded_max(len);
	X509_REQ *req = NULL;
	uint8_t *p;
	int r;

	*der = NULL;
	*der_len = 0;
	if (len == 0)
		return tsr_error(TSR_ERR_PARSE, "the body is empty: send base64 of a DER PKCS#10");
	if (max > TSR_CSR_MAX)
		max = TSR_CSR_MAX;
	if ((p = malloc(max)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = tsr_base64_decode((const char *)body, len, TSR_BASE64_LINES, p, max,
	    der_len)) != 0)
		r = tsr_error_wrap(r, "the body must be base64 of a DER PKCS#10");
	else if (*der_len == 0 || p[0] != 0x30)
		r = tsr_error(TSR_ERR_PARSE, "the body must be base64 of a DER PKCS#10 (it does not "
		    "decode to a DER SEQUENCE)");
	else
		r = tsr_csr_parse(p, *der_len, &req);
	X509_REQ_free(req);
	if (r != 0) {
		free(p);
		*der_len = 0;
		return r;
	}
	*der = p;
	return 0;
}

int tsr_http_est_claim_check(const char *header, const char *v)
{
	size_t n;

	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n == 0 || n > CLAIM_MAX)
		return tsr_error(TSR_ERR_INVALID, "%s must have 1 to %d characters", header,
		    CLAIM_MAX);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return tsr_error(TSR_ERR_INVALID, "%s must be printable ASCII", header);
	return 0;
}

/* The token claim headers of req into c. */
static int claim_of(const struct tsr_http_request *req, struct tsr_ra_token_claim *c)
{
	static const char *const names[] = { "X-Tessera-Token-Manufacturer",
		"X-Tessera-Token-Model", "X-Tessera-Token-Serial" };
	const char *v[3];
	int r;

	for (size_t i = 0; i < 3; i++)
		if ((r = tsr_http_header(req, names[i], &v[i])) != 0 ||
		    (r = tsr_http_est_claim_check(names[i], v[i])) != 0)
			return r;
	c->manufacturer = v[0];
	c->model = v[1];
	c->serial = v[2];
	return 0;
}

/* ------------------------------------------------------------------ DER */

/* Append a DER tag, length and n content bytes to b. */
static int der_tlv(struct tsr_buf *b, uint8_t tag, const uint8_t *p, size_t n)
{
	uint8_t head[4] = { tag };
	size_t h = 1;

	if (n < 0x80) {
		head[h++] = (uint8_t)n;
	} else if (n < 0x100) {
		head[h++] = 0x81;
		head[h++] = (uint8_t)n;
	} else if (n < 0x10000) {
		head[h++] = 0x82;
		head[h++] = (uint8_t)(n >> 8);
		head[h++] = (uint8_t)n;
	} else {
		return tsr_error(TSR_ERR_INTERNAL, "a DER value of %zu bytes in CsrAttrs", n);
	}
	if (tsr_buf_append(b, head, h) != 0 || tsr_buf_append(b, p, n) != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Append the DER of the OBJECT IDENTIFIER of nid. */
static int der_oid(struct tsr_buf *b, int nid)
{
	const ASN1_OBJECT *o = OBJ_nid2obj(nid);
	size_t n = o ? (size_t)OBJ_length(o) : 0;

	if (n == 0)
		return tsr_error(TSR_ERR_INTERNAL, "no OID for NID %d", nid);
	return der_tlv(b, 0x06, OBJ_get0_data(o), n);
}

/* Append the DER INTEGER v (0 < v < 2^23). */
static int der_int(struct tsr_buf *b, unsigned v)
{
	uint8_t p[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	size_t skip = 0;

	while (skip < 2 && p[skip] == 0 && !(p[skip + 1] & 0x80))
		skip++;
	return der_tlv(b, 0x02, p + skip, 3 - skip);
}

/* The key algorithm, its parameter and the signature algorithm of t. */
static int key_nids(enum tsr_key_type t, int *alg, int *curve, int *sig)
{
	*curve = NID_undef;
	switch (t) {
	case TSR_KEY_EC_P256:
		*alg = NID_X9_62_id_ecPublicKey, *curve = NID_X9_62_prime256v1;
		*sig = NID_ecdsa_with_SHA256;
		return 0;
	case TSR_KEY_EC_P384:
		*alg = NID_X9_62_id_ecPublicKey, *curve = NID_secp384r1;
		*sig = NID_ecdsa_with_SHA384;
		return 0;
	case TSR_KEY_RSA_2048:
	case TSR_KEY_RSA_3072:
	case TSR_KEY_RSA_4096:
		*alg = NID_rsaEncryption;
		*sig = t == TSR_KEY_RSA_4096 ? NID_sha384WithRSAEncryption :
		    NID_sha256WithRSAEncryption;
		return 0;
	default:
		return tsr_error(TSR_ERR_INTERNAL, "no CSR attributes for key type %d", (int)t);
	}
}

int tsr_http_est_csrattrs(enum tsr_key_type t, uint8_t **out, size_t *len)
{
	struct tsr_buf param, attr, body, all;
	int alg = NID_undef, curve = NID_undef, sig = NID_undef, r;

	*out = NULL;
	*len = 0;
	if ((r = key_nids(t, &alg, &curve, &sig)) != 0)
		return r;
	tsr_buf_init(&param, 256);
	tsr_buf_init(&attr, 256);
	tsr_buf_init(&body, 256);
	tsr_buf_init(&all, 256);
	/* Attribute { type, SET { value } }, then the signature algorithm. */
	if ((r = curve != NID_undef ? der_oid(&param, curve) :
	    der_int(&param, (unsigned)tsr_key_type_bits(t))) != 0 ||
	    (r = der_oid(&attr, alg)) != 0 ||
	    (r = der_tlv(&attr, 0x31, param.data, param.len)) != 0 ||
	    (r = der_tlv(&body, 0x30, attr.data, attr.len)) != 0 ||
	    (r = der_oid(&body, sig)) != 0 ||
	    (r = der_tlv(&all, 0x30, body.data, body.len)) != 0)
		goto out;
	*out = all.data;
	*len = all.len;
	all.data = NULL;
out:
	tsr_buf_free(&param);
	tsr_buf_free(&attr);
	tsr_buf_free(&body);
	tsr_buf_free(&all);
	return r;
}

/* ------------------------------------------------------------------ answers */

/* A degenerate SignedData holding certs (n of them, copied): no content,
 * no signers, as RFC 5272 4.1's Simple PKI Response; DER, OPENSSL_free(). */
static int certs_only(const X509 *const *certs, size_t n, uint8_t **der, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	PKCS7_SIGNED *s = PKCS7_SIGNED_new();
	unsigned char *p = NULL;
	int r = 0, l = 0;

	if (p7 == NULL || s == NULL || (s->cert = sk_X509_new_null()) == NULL) {
		PKCS7_SIGNED_free(s);
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	p7->type = OBJ_nid2obj(NID_pkcs7_signed);
	p7->d.sign = s;
	s->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (size_t i = 0; r == 0 && i < n; i++) {
		X509 *x = X509_dup(certs[i]);

		if (x == NULL || !sk_X509_push(s->cert, x)) {
			X509_free(x);
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		}
	}
	if (r == 0 && (!ASN1_INTEGER_set(s->version, 1) || (l = i2d_PKCS7(p7, &p)) <= 0))
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the certificates");
	if (r == 0) {
		*der = p;
		*len = (size_t)l;
	}
out:
	PKCS7_free(p7);
	return r;
}

/* Answer with certs as base64 of a certs-only SignedData of type type. */
static int certs_answer(const X509 *const *certs, size_t n, const char *type,
    struct tsr_http_response *res)
{
	uint8_t *der = NULL;
	size_t len = 0, b64_len = 0;
	char *b64 = NULL;
	int r;

	if ((r = certs_only(certs, n, &der, &len)) != 0)
		return r;
	r = tsr_base64_encode(der, len, B64_LINE, &b64, &b64_len);
	OPENSSL_free(der);
	if (r != 0)
		return r;
	res->raw = (uint8_t *)b64;
	res->raw_len = b64_len;
	res->content_type = type;
	res->headers[0] = (struct tsr_http_header){ "Content-Transfer-Encoding", "base64" };
	res->n_headers = 1;
	return 0;
}

/* Answer with the certificate of a retrieval or a renewal. */
static int issued_answer(const struct tsr_ra_issued *c, struct tsr_http_response *res)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	const X509 *list[1] = { x };
	int r;

	if (x == NULL)
		return tsr_error_openssl(TSR_ERR_INTERNAL, "the issued certificate does not parse");
	r = certs_answer(list, 1, "application/pkcs7-mime; smime-type=certs-only", res);
	X509_free(x);
	return r;
}

/* ------------------------------------------------------------------ handlers */

/* The workflow and a store connection of its pool (give it back with
 * tsr_ra_store_release()); acquired once a request has passed the checks
 * that need neither. */
static int store_of(const struct tsr_http_request *req, struct tsr_ra **ra,
    struct tsr_store **st)
{
	*st = NULL;
	if ((*ra = req->app->ctx) == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	return tsr_ra_store_acquire(*ra, st);
}

static int get_cacerts(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra *ra = req->app->ctx;
	const X509 *list[2];

	if (ra == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	list[0] = tsr_ca_issuing_cert(tsr_ra_ca(ra));
	list[1] = tsr_ca_root_cert(tsr_ra_ca(ra));
	if (list[0] == NULL || list[1] == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the CA's certificates are not loaded");
	return certs_answer(list, 2, "application/pkcs7-mime", res);
}

/* The Basic credentials, wiped after use. */
struct basic {
	char code[TSR_HTTP_BASIC_USER_MAX + 1];
	char password[TSR_HTTP_BASIC_PASSWORD_MAX + 1];
};

/* The key type of the application behind the credentials in b. */
static int key_type_of(const struct tsr_http_request *req, const struct basic *b,
    enum tsr_key_type *preferred)
{
	struct tsr_store *st = NULL;
	struct tsr_ra *ra;
	unsigned mask = 0;
	int r;

	if ((r = store_of(req, &ra, &st)) != 0)
		return r;
	r = tsr_ra_retrieve_key_types(ra, st, req->client, b->code, b->password, &mask,
	    preferred);
	tsr_ra_store_release(ra, st);
	return r;
}

static int get_csrattrs(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	enum tsr_key_type preferred = TSR_KEY_NONE;
	const char *authorization = NULL;
	uint8_t *der = NULL;
	size_t len = 0, b64_len = 0;
	char *b64 = NULL;
	struct basic b;
	int r;

	if ((r = tsr_http_header(req, "Authorization", &authorization)) != 0)
		return r;
	if (authorization == NULL) {
		res->status = 204;     /* RFC 7030 4.5.2: nothing to ask of anyone */
		return 0;
	}
	if ((r = tsr_http_basic(authorization, b.code, b.password)) == 0)
		r = key_type_of(req, &b, &preferred);
	tsr_wipe(&b, sizeof(b));
	if (r != 0 || (r = tsr_http_est_csrattrs(preferred, &der, &len)) != 0)
		return r;
	r = tsr_base64_encode(der, len, B64_LINE, &b64, &b64_len);
	free(der);
	if (r != 0)
		return r;
	res->raw = (uint8_t *)b64;
	res->raw_len = b64_len;
	res->content_type = "application/csrattrs";
	res->headers[0] = (struct tsr_http_header){ "Content-Transfer-Encoding", "base64" };
	res->n_headers = 1;
	return 0;
}

static int post_simpleenroll(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	struct tsr_ra_token_claim claim;
	struct tsr_ra_issued issued;
	struct tsr_store *st = NULL;
	struct tsr_ra *ra = NULL;
	uint8_t *csr = NULL;
	size_t csr_len = 0;
	struct basic b;
	int r;

	memset(&issued, 0, sizeof(issued));
	/* The cheap refusals first: no Argon2id for a request that cannot pass. */
	if ((r = tsr_http_basic(req->authorization, b.code, b.password)) != 0 ||
	    (r = claim_of(req, &claim)) != 0 ||
	    (r = tsr_http_est_csr(req->raw, req->raw_len, &csr, &csr_len)) != 0 ||
	    (r = store_of(req, &ra, &st)) != 0)
		goto out;
	r = tsr_ra_retrieve(ra, st, req->client, b.code, b.password, csr, csr_len, &claim,
	    &issued);
	tsr_ra_store_release(ra, st);
	if (r == 0)
		r = issued_answer(&issued, res);
out:
	tsr_wipe(&b, sizeof(b));
	free(csr);
	tsr_ra_issued_clear(&issued);
	return r;
}

static int post_simplereenroll(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	struct tsr_ra_issued issued;
	struct tsr_store *st = NULL;
	struct tsr_ra *ra = NULL;
	uint8_t *csr = NULL;
	size_t csr_len = 0;
	int r;

	memset(&issued, 0, sizeof(issued));
	if (req->client_cert == NULL)
		return tsr_error(TSR_ERR_AUTH, "renewal needs the current certificate, issued by "
		    "this CA, as the TLS client certificate");
	if ((r = tsr_http_est_csr(req->raw, req->raw_len, &csr, &csr_len)) != 0 ||
	    (r = store_of(req, &ra, &st)) != 0)
		goto out;
	r = tsr_ra_reenroll(ra, st, req->client, req->client_cert, req->client_cert_len, csr,
	    csr_len, &issued);
	tsr_ra_store_release(ra, st);
	if (r == 0)
		r = issued_answer(&issued, res);
out:
	free(csr);
	tsr_ra_issued_clear(&issued);
	return r;
}

/* ------------------------------------------------------------------ test my certificate */

static const struct tsr_json_field test_body[] = {
	{ .name = "nonce", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 64 },
	{ .name = "certificate", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TEST_CERT_MAX, .flags = TSR_JSON_MULTILINE },
	{ .name = "signature", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TEST_SIG_B64_MAX },
	{ .name = NULL },
};

static int post_nonce(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	char nonce[TSR_RA_NONCE_LEN], when[21];
	char message[sizeof(TSR_RA_TEST_PREFIX) + TSR_RA_NONCE_LEN];
	struct tsr_store *st = NULL;
	struct tsr_ra *ra = NULL;
	int64_t expires_at = 0;
	int r;

	if ((r = store_of(req, &ra, &st)) != 0)
		return r;
	r = tsr_ra_test_nonce(ra, st, nonce, &expires_at);
	tsr_ra_store_release(ra, st);
	if (r != 0)
		return r;
	tsr_time_format((time_t)expires_at, when);
	snprintf(message, sizeof(message), "%s%s", TSR_RA_TEST_PREFIX, nonce);
	res->json = json_pack("{s:s, s:s, s:s}", "nonce", nonce, "expires_at", when,
	    "message", message);
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static const char *check_name(enum tsr_ra_check c)
{
	return c == TSR_RA_CHECK_GOOD ? "good" : c == TSR_RA_CHECK_BAD ? "bad" : "unknown";
}

static json_t *text_json(const char *s);

static json_t *check_json(enum tsr_ra_check c, const char *detail)
{
	return json_pack("{s:s, s:o}", "result", check_name(c), "detail", text_json(detail));
}

/* Text from a certificate as a JSON string: jansson takes only UTF-8, so
 * should it be anything else, its bytes outside printable ASCII become "?". */
static json_t *text_json(const char *s)
{
	char clean[sizeof(((struct tsr_ra_test_result *)0)->subject)];
	json_t *v = json_string(s);
	size_t i;

	if (v != NULL)
		return v;
	for (i = 0; s[i] != '\0' && i + 1 < sizeof(clean); i++)
		clean[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	clean[i] = '\0';
	return json_string(clean);
}

/* The answer to a test. */
static json_t *test_json(const struct tsr_ra_test_result *t)
{
	json_t *v = json_pack("{s:b, s:s, s:o, s:{s:o, s:o, s:o, s:o}}", "good", t->good,
	    "serial", t->serial, "subject", text_json(t->subject),
	    "checks",
	    "signature", check_json(t->signature, t->signature_detail),
	    "chain", check_json(t->chain, t->chain_detail),
	    "validity", check_json(t->validity, t->validity_detail),
	    "status", check_json(t->status, t->status_detail));

	if (v != NULL && t->application[0] != '\0' &&
	    json_object_set_new(v, "application", text_json(t->application)) != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static int post_test(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const char *cert = json_string_value(json_object_get(req->body, "certificate"));
	const char *sig64 = json_string_value(json_object_get(req->body, "signature"));
	const char *nonce = json_string_value(json_object_get(req->body, "nonce"));
	uint8_t sig[TEST_SIG_B64_MAX / 4 * 3];
	struct tsr_ra_test_result t;
	struct tsr_store *st = NULL;
	struct tsr_ra *ra = NULL;
	size_t sig_len = 0;
	int r;

	memset(&t, 0, sizeof(t));
	if (tsr_base64_decode(sig64, strlen(sig64), 0, sig, sizeof(sig), &sig_len) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "/signature: must be base64 (RFC 4648, "
		    "padded, no line breaks)");
	if ((r = store_of(req, &ra, &st)) != 0)
		return r;
	r = tsr_ra_test_check(ra, st, req->client, nonce, (const uint8_t *)cert, strlen(cert),
	    sig, sig_len, &t);
	tsr_ra_store_release(ra, st);
	if (r != 0)
		return r;
	res->json = test_json(&t);
	return res->json ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ routes */

static const struct tsr_http_route est_routes[] = {
	{ .method = "GET", .pattern = EST "/cacerts", .handler = get_cacerts,
	    .produces = "application/pkcs7-mime",
	    .summary = "EST: the issuing CA and root certificates (base64 certs-only CMS)" },
	{ .method = "GET", .pattern = EST "/csrattrs", .handler = get_csrattrs,
	    .produces = "application/csrattrs", .challenge = CHALLENGE,
	    .summary = "EST: the key type the product wants (Basic: activation code and "
	    "password; without credentials 204)" },
	{ .method = "POST", .pattern = EST "/simpleenroll", .handler = post_simpleenroll,
	    .flags = TSR_HTTP_BASIC, .media_type = "application/pkcs10",
	    .produces = "application/pkcs7-mime; smime-type=certs-only", .challenge = CHALLENGE,
	    .summary = "EST: retrieve the certificate (Basic: activation code and password; "
	    "base64 PKCS#10)" },
	{ .method = "POST", .pattern = EST "/simplereenroll", .handler = post_simplereenroll,
	    .media_type = "application/pkcs10",
	    .produces = "application/pkcs7-mime; smime-type=certs-only",
	    .summary = "EST: renew, authenticated by the current certificate as TLS client "
	    "certificate" },
	{ .method = "POST", .pattern = "/api/v1/test-my-cert/nonce", .handler = post_nonce,
	    .status = 201, .response = "TestNonce",
	    .summary = "Test My Certificate: a single-use nonce and the message to sign" },
	{ .method = "POST", .pattern = "/api/v1/test-my-cert", .handler = post_test,
	    .body = test_body, .response = "TestResult",
	    .summary = "Test My Certificate: check a signature over the message, the "
	    "certificate's chain, validity and status" },
};

const struct tsr_http_route *tsr_http_est_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(est_routes);
	return est_routes;
}

static json_t *check_schema(void)
{
	return json_pack("{s:s, s:[s,s], s:{s:{s:s, s:[s,s,s]}, s:{s:s}}}", "type", "object",
	    "required", "result", "detail", "properties",
	    "result", "type", "string", "enum", "good", "bad", "unknown",
	    "detail", "type", "string");
}

json_t *tsr_http_est_schemas(void)
{
	return json_pack("{s:{s:s, s:[s,s,s], s:{s:{s:s}, s:{s:s, s:s}, s:{s:s}}},"
	    " s:o,"
	    " s:{s:s, s:[s,s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:[s,s,s,s],"
	    " s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}}}",
	    "TestNonce", "type", "object", "required", "nonce", "expires_at", "message",
	    "properties", "nonce", "type", "string",
	    "expires_at", "type", "string", "format", "date-time",
	    "message", "type", "string",
	    "TestCheck", check_schema(),
	    "TestResult", "type", "object", "required", "good", "serial", "subject", "checks",
	    "properties", "good", "type", "boolean", "serial", "type", "string",
	    "subject", "type", "string", "application", "type", "string",
	    "checks", "type", "object", "required", "signature", "chain", "validity", "status",
	    "properties", "signature", "$ref", "#/components/schemas/TestCheck",
	    "chain", "$ref", "#/components/schemas/TestCheck",
	    "validity", "$ref", "#/components/schemas/TestCheck",
	    "status", "$ref", "#/components/schemas/TestCheck");
}
