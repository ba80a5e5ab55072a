/*
 * http.c - one HTTPS request to a Tessera server with libcurl (OpenSSL
 * backend).
 *
 * Trust: the server is trusted through the certificates of --ca-file
 * only.  libcurl loads its default CA bundle and path into the SSL_CTX
 * before our callback runs; the callback replaces that store with one
 * holding nothing but ca_file, so the system's CAs never vouch for a CA.
 *
 * TLS client authentication (EST simplereenroll) installs the certificate
 * and an EVP_PKEY whose private operations run on the token (the x509
 * signer shim).  The shim makes raw ECDSA and PKCS#1 v1.5 signatures only,
 * so the client's signature algorithms are limited to those: ECDSA with
 * SHA-256/384 (TLS 1.2 and 1.3), and for RSA keys PKCS#1 v1.5, which TLS
 * 1.3 forbids (it wants RSA-PSS): an RSA key renews over TLS 1.2.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "client/client.h"

#define CONNECT_TIMEOUT 10L
#define TOTAL_TIMEOUT 120L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ------------------------------------------------------------------ TLS setup */
/* The trust store: only the certificates of ca_file. */
static int trust_only(SSL_CTX *ctx, const char *ca_file)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_load_file(store, ca_file) != 1) {
		X509_STORE_free(store);
		return -1;
	}
	SSL_CTX_set_cert_store(ctx, store);   /* takes it, frees libcurl's */
	return 0;
}

/* The client certificate and the token key, with the signature algorithms
 * the token can make. */
static int client_auth(SSL_CTX *ctx, const struct tsr_client_tls *tls)
{
	bool rsa = EVP_PKEY_get_base_id(tls->key) == EVP_PKEY_RSA;

	if (SSL_CTX_use_certificate(ctx, tls->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, tls->key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return -1;
	/* the intermediates, so a server that trusts only the root can build the path */
	for (int i = 0; i < sk_X509_num(tls->chain); i++) {
		X509 *x = sk_X509_value(tls->chain, i);

		if (X509_check_issued(x, x) != X509_V_OK &&
		    SSL_CTX_add1_chain_cert(ctx, x) != 1)
			return -1;
	}
	if (rsa)
		return SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1 &&
		    SSL_CTX_set1_client_sigalgs_list(ctx, "RSA+SHA256:RSA+SHA384:RSA+SHA512") == 1 ?
		    0 : -1;
	return SSL_CTX_set1_client_sigalgs_list(ctx, "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512") ==
	    1 ? 0 : -1;
}

static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *arg)
{
	const struct tsr_client_tls *tls = arg;
	SSL_CTX *ctx = ssl_ctx;

	(void)curl;
	if (trust_only(ctx, tls->ca_file) != 0)
		return CURLE_SSL_CACERT_BADFILE;
	if (tls->cert != NULL && client_auth(ctx, tls) != 0)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

/* ------------------------------------------------------------------ the body */
static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct tsr_buf *b = arg;

	if (tsr_buf_append(b, p, size * n) != 0)
		return 0;   /* over the cap: libcurl stops with CURLE_WRITE_ERROR */
	return size * n;
}

/* ------------------------------------------------------------------ errors */
/* The error for a failed transfer, saying what the user can do. */
static int transfer_error(CURLcode cc, const char *errbuf, const struct tsr_client_request *rq,
    const struct tsr_client_response *r)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return tsr_error(TSR_ERR_AUTH, "the server's TLS certificate is not trusted (%s): "
		    "--ca-file must be the CA's root certificate, from your activation letter or "
		    "the CA's web page", why);
	case CURLE_SSL_CACERT_BADFILE:
		return tsr_error(TSR_ERR_INVALID, "--ca-file %s holds no PEM certificate",
		    rq->tls->ca_file);
	case CURLE_SSL_CERTPROBLEM:
		return tsr_error(TSR_ERR_CRYPTO, "cannot use the certificate and token key for TLS "
		    "client authentication");
	case CURLE_WRITE_ERROR:
		if (r->body.len + CURL_MAX_WRITE_SIZE > TSR_EST_BODY_MAX)
			return tsr_error(TSR_ERR_TOO_LARGE, "the server's answer is over %u bytes",
			    TSR_EST_BODY_MAX);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return tsr_error(TSR_ERR_IO, "cannot reach the server (%s): check --server", why);
	case CURLE_OPERATION_TIMEDOUT:
		return tsr_error(TSR_ERR_IO, "the server did not answer in time (%s)", why);
	default:
		break;
	}
	return tsr_error(TSR_ERR_IO, "%s %s: %s", rq->method, rq->url, why);
}

/* ------------------------------------------------------------------ the request */
static int set_headers(CURL *h, const struct tsr_client_request *rq, struct curl_slist **list)
{
	char ct[160];
	struct curl_slist *l = NULL, *n;

	/* libcurl adds "Expect: 100-continue" to large POSTs; the server
	 * answers without waiting for it anyway */
	if ((l = curl_slist_append(l, "Expect:")) == NULL)
		goto nomem;
	if (rq->content_type != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", rq->content_type);
		if ((n = curl_slist_append(l, ct)) == NULL)
			goto nomem;
		l = n;
	}
	for (size_t i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
		if ((n = curl_slist_append(l, rq->headers[i])) == NULL)
			goto nomem;
		l = n;
	}
	*list = l;
	return curl_easy_setopt(h, CURLOPT_HTTPHEADER, l) == CURLE_OK ? 0 :
	    tsr_error(TSR_ERR_INTERNAL, "cannot set request headers");
nomem:
	curl_slist_free_all(l);
	return tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* Every option of one request; 0 or an error. */
static int set_options(CURL *h, const struct tsr_client_request *rq, char *errbuf,
    struct tsr_client_response *out)
{
	CURLcode cc = CURLE_OK;

#define SET(opt, v) if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, v)
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, TOTAL_TIMEOUT);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, &out->body);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_CAINFO, rq->tls->ca_file);
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	SET(CURLOPT_SSL_CTX_DATA, (void *)rq->tls);
	SET(CURLOPT_USERAGENT, "tessera-token/" "0.1");
	if (strcmp(rq->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (rq->user != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, rq->user);
		SET(CURLOPT_PASSWORD, rq->password ? rq->password : "");
	}
#undef SET
	if (cc != CURLE_OK)
		return tsr_error(TSR_ERR_INTERNAL, "libcurl refuses an option: %s",
		    curl_easy_strerror(cc));
	return 0;
}

/* The media type of a Content-Type value: lower-case, without parameters. */
static void media_type(const char *ct, char *out, size_t size)
{
	size_t i = 0;

	for (; ct != NULL && ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' && i + 1 < size; i++)
		out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
	out[i] = '\0';
}

/* One HTTPS request (see client.h). */
int tsr_client_http(const struct tsr_client_request *rq, struct tsr_client_response *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	char *ct = NULL;
	CURLcode cc;
	CURL *h = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	tsr_buf_init(&out->body, TSR_EST_BODY_MAX);
	if (rq->tls == NULL || rq->tls->ca_file == NULL)
		return tsr_error(TSR_ERR_INVALID, "--ca-file is required: the CA's root certificate "
		    "that the server's TLS certificate must chain to");
	if (strncmp(rq->url, "https://", 8) != 0)
		return tsr_error(TSR_ERR_INVALID, "only https:// servers are used");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return tsr_error(TSR_ERR_IO, "curl_global_init: %s", curl_easy_strerror(curl_init_rc));
	if ((h = curl_easy_init()) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "curl_easy_init failed");
		goto out;
	}
	if ((r = set_options(h, rq, errbuf, out)) != 0 || (r = set_headers(h, rq, &headers)) != 0)
		goto out;
	cc = curl_easy_perform(h);
	ERR_clear_error();
	if (cc != CURLE_OK) {
		r = transfer_error(cc, errbuf, rq, out);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
		media_type(ct, out->content_type, sizeof(out->content_type));
	r = 0;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	if (r != 0)
		tsr_client_response_free(out);
	return r;
}

void tsr_client_response_free(struct tsr_client_response *r)
{
	tsr_buf_free(&r->body);
}

/* The error for an unexpected status (see client.h). */
int tsr_client_http_error(const struct tsr_client_response *r, const char *what)
{
	char detail[512];
	int fallback = r->status == 401 ? TSR_ERR_AUTH : r->status == 403 ? TSR_ERR_FORBIDDEN :
	    r->status == 404 ? TSR_ERR_NOT_FOUND : r->status == 413 ? TSR_ERR_TOO_LARGE :
	    r->status == 422 ? TSR_ERR_POLICY : r->status >= 500 ? TSR_ERR_IO : TSR_ERR_INVALID;
	int named = 0, code;

	detail[0] = '\0';
	if (strcmp(r->content_type, "application/problem+json") == 0)
		named = tsr_est_parse_problem(r->body.data, r->body.len, 0, detail, sizeof(detail));
	code = named < 0 ? named : fallback;
	if (r->status == 401)
		code = TSR_ERR_AUTH;   /* whatever the type says, it is the credentials */
	/* The server's own failure: the type names its kind (a Tessera server
	 * keeps the reason for its log), and the user can only report it; the
	 * exit status stays the transport's, never the client's "config". */
	if (r->status >= 500)
		return tsr_error(fallback, "%s: the server failed (HTTP %ld, %s)%s%s: tell the CA",
		    what, r->status,
		    named < 0 ? tsr_strerror(named) : "no reason given",
		    detail[0] != '\0' ? ": " : "", detail);
	if (detail[0] == '\0')
		return tsr_error(code, "%s: the server answered HTTP %ld", what, r->status);
	return tsr_error(code, "%s: %s (HTTP %ld)", what, detail, r->status);
}
