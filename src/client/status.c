/*
 * status.c - is a certificate revoked?  The relying party's side of OCSP
 * (RFC 6960, as profiled by RFC 5019) and of CRLs (RFC 5280), over libcurl.
 *
 * The certificate names where to ask: the OCSP responder in its AIA, the
 * CRL at its distribution point.  OCSP is asked first, with a fresh nonce;
 * if it gives no usable answer the CRL is fetched.  Nothing else is
 * contacted.  An answer counts only once it is verified against the
 * certificate's issuer: an OCSP response signed by the issuer or by a
 * responder the issuer authorised (id-kp-OCSPSigning), about this
 * certificate, echoing our nonce (or recent), current; a complete CRL
 * signed by the issuer, current.  Whatever fails is noted per source, so
 * that "unknown" always says why.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "client/client.h"

#define URLS_MAX 4          /* URLs of each kind that are tried */
#define URL_MAX 512

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* What one query learns on its way: the URLs, and why sources failed. */
struct urls {
	char v[URLS_MAX][URL_MAX];
	size_t n;
};

struct notes {
	char text[TSR_CMS_REASON_MAX];
	size_t used;
};

static void note(struct notes *n, const char *fmt, ...) TSR_PRINTF(2, 3);
static void note(struct notes *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (n->used + 3 >= sizeof(n->text))
		return;
	if (n->used > 0) {
		memcpy(n->text + n->used, "; ", 3);
		n->used += 2;
	}
	va_start(ap, fmt);
	w = vsnprintf(n->text + n->used, sizeof(n->text) - n->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		n->used += (size_t)w < sizeof(n->text) - n->used ? (size_t)w :
		    sizeof(n->text) - n->used - 1;
}

static int time_of(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* ------------------------------------------------------------------ URLs */

/* Keep gn if it is an http or https URL of printable ASCII; say why not
 * otherwise (kind: "OCSP" or "CRL"). */
static void add_url(struct urls *u, struct notes *n, const char *kind, const GENERAL_NAME *gn)
{
	const unsigned char *s;
	int len;

	if (gn->type != GEN_URI)
		return;
	s = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	for (int i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e) {
			note(n, "%s: a URL that is not printable ASCII is not fetched", kind);
			return;
		}
	if (len >= URL_MAX) {
		note(n, "%s: a URL of %d characters is not fetched", kind, len);
	} else if (!(len > 7 && memcmp(s, "http://", 7) == 0) &&
	    !(len > 8 && memcmp(s, "https://", 8) == 0)) {
		note(n, "%s %.*s: not fetched (http and https only)", kind, len, s);
	} else if (u->n < URLS_MAX) {
		memcpy(u->v[u->n], s, (size_t)len);
		u->v[u->n++][len] = '\0';
	}
}

/* The OCSP responders of the certificate's AIA. */
static void ocsp_urls(X509 *cert, struct urls *u, struct notes *n)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);

	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
			add_url(u, n, "OCSP", ad->location);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
}

/* The full names of the certificate's CRL distribution points.  A point
 * for some reasons only, or whose CRL another issuer signs, is skipped:
 * only a complete CRL signed by the issuer is understood here. */
static void crl_urls(X509 *cert, struct urls *u, struct notes *n)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);

	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *names;

		if (dp->reasons != NULL || dp->CRLissuer != NULL) {
			note(n, "CRL: a distribution point for some reasons or another issuer is "
			    "not used");
			continue;
		}
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		names = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(names); j++)
			add_url(u, n, "CRL", sk_GENERAL_NAME_value(names, j));
	}
	CRL_DIST_POINTS_free(dps);
}

/* ------------------------------------------------------------------ HTTP */

struct fetch {
	const char *url;
	const char *content_type;       /* POST body's; NULL: GET */
	const uint8_t *body;
	size_t body_len;
	long timeout;
	size_t max;                     /* bytes of the answer */
};

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct tsr_buf *b = arg;

	if (tsr_buf_append(b, p, size * n) != 0)
		return 0;   /* over the cap: libcurl stops with CURLE_WRITE_ERROR */
	return size * n;
}

/* Where the bytes may go: this URL, http or https, no redirect, no proxy,
 * bounded in time and size; TLS (https) checked against the system's
 * store: the answer is signed anyway, TLS only keeps it private. */
static CURLcode set_options(CURL *h, const struct fetch *f, char *errbuf,
    struct curl_slist *headers, struct tsr_buf *out)
{
	CURLcode cc = CURLE_OK;

#define SET(opt, v) if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, v)
	SET(CURLOPT_URL, f->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, f->timeout);
	SET(CURLOPT_TIMEOUT, f->timeout);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, out);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_USERAGENT, "tessera-verify/" "0.1");
	if (f->content_type != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, (const char *)f->body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->body_len);
		SET(CURLOPT_HTTPHEADER, headers);
	}
#undef SET
	return cc;
}

static int transfer_error(CURLcode cc, const char *errbuf, const struct fetch *f)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return tsr_error(TSR_ERR_IO, "cannot connect (%s)", why);
	case CURLE_OPERATION_TIMEDOUT:
		return tsr_error(TSR_ERR_IO, "no answer within %ld s", f->timeout);
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return tsr_error(TSR_ERR_TOO_LARGE, "the answer is over %zu bytes", f->max);
	default:
		return tsr_error(TSR_ERR_IO, "%s", why);
	}
}

/* One request; the body of a 200 answer into out (tsr_buf_free() it
 * whatever the result). */
static int fetch(const struct fetch *f, struct tsr_buf *out)
{
	char errbuf[CURL_ERROR_SIZE] = "", ct[96];
	struct curl_slist *headers = NULL, *l;
	CURL *h = NULL;
	CURLcode cc;
	long status = 0;
	int r = 0;

	tsr_buf_init(out, f->max);
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return tsr_error(TSR_ERR_IO, "curl_global_init: %s",
		    curl_easy_strerror(curl_init_rc));
	if (f->content_type != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", f->content_type);
		if ((headers = curl_slist_append(NULL, ct)) == NULL ||
		    (l = curl_slist_append(headers, "Expect:")) == NULL) {
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
		headers = l;
	}
	if ((h = curl_easy_init()) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "curl_easy_init failed");
		goto out;
	}
	if ((cc = set_options(h, f, errbuf, headers, out)) != CURLE_OK) {
		r = tsr_error(TSR_ERR_INTERNAL, "libcurl refuses an option: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_perform(h);
	ERR_clear_error();
	if (cc != CURLE_OK) {
		r = transfer_error(cc, errbuf, f);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		r = tsr_error(TSR_ERR_IO, "HTTP status %ld", status);
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	return r;
}

/* ------------------------------------------------------------------ times */

/* thisUpdate not ahead of now (beyond the skew), nextUpdate (required if
 * need_next) not behind it; *this_update the time of the answer. */
static int current(time_t now, const ASN1_TIME *this_update, const ASN1_TIME *next_update,
    bool need_next, time_t *tu)
{
	char a[21], b[21];
	time_t nu;

	tsr_time_format(now, b);
	if (time_of(this_update, tu) != 0)
		return tsr_error(TSR_ERR_PARSE, "thisUpdate cannot be read");
	tsr_time_format(*tu, a);
	if (*tu > now + TSR_STATUS_SKEW)
		return tsr_error(TSR_ERR_POLICY, "thisUpdate %s is in the future (now is %s)", a,
		    b);
	if (next_update == NULL)
		return need_next ? tsr_error(TSR_ERR_PARSE, "no nextUpdate: when it goes stale "
		    "is not said") : 0;
	if (time_of(next_update, &nu) != 0 || nu < *tu)
		return tsr_error(TSR_ERR_PARSE, "nextUpdate cannot be read or precedes thisUpdate");
	tsr_time_format(nu, a);
	if (now > nu + TSR_STATUS_SKEW)
		return tsr_error(TSR_ERR_POLICY, "stale: nextUpdate %s has passed (now is %s)", a,
		    b);
	return 0;
}

/* ------------------------------------------------------------------ OCSP */

/* One OCSP exchange. */
struct ocsp {
	const struct tsr_status_query *q;
	OCSP_CERTID *id;                /* the certificate asked about */
	OCSP_REQUEST *req;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	bool nonce_echoed;
};

static void ocsp_free(struct ocsp *o)
{
	OCSP_CERTID_free(o->id);
	OCSP_REQUEST_free(o->req);
	OCSP_RESPONSE_free(o->resp);
	OCSP_BASICRESP_free(o->bs);
	ERR_clear_error();
}

/* The DER request: one CertID and a fresh nonce.  The CertID's hashes are
 * SHA-1, which RFC 5019 has clients use and every responder understands;
 * they name the certificate and protect nothing. */
static int ocsp_request(struct ocsp *o, uint8_t **der, size_t *len)
{
	uint8_t nonce[TSR_STATUS_NONCE_LEN];
	OCSP_CERTID *id;
	unsigned char *p = NULL;
	int n, r;

	if ((o->req = OCSP_REQUEST_new()) == NULL ||
	    (o->id = OCSP_cert_to_id(EVP_sha1(), o->q->cert, o->q->issuer)) == NULL ||
	    (id = OCSP_CERTID_dup(o->id)) == NULL)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot build the OCSP request");
	if (OCSP_request_add0_id(o->req, id) == NULL) {
		OCSP_CERTID_free(id);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot build the OCSP request");
	}
	if ((r = tsr_random(nonce, sizeof(nonce))) != 0)
		return r;
	if (OCSP_request_add1_nonce(o->req, nonce, sizeof(nonce)) != 1 ||
	    (n = i2d_OCSP_REQUEST(o->req, &p)) <= 0)
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the OCSP request");
	*der = p;
	*len = (size_t)n;
	return 0;
}

/* A successful basic response, DER with nothing after it. */
static int ocsp_parse(struct ocsp *o, const struct tsr_buf *b)
{
	static const char *const errors[7] = { NULL, "malformedRequest", "internalError",
		"tryLater", NULL, "sigRequired", "unauthorized" };
	const unsigned char *p = b->data;
	int st;

	if (b->len == 0 || (o->resp = d2i_OCSP_RESPONSE(NULL, &p, (long)b->len)) == NULL ||
	    p != b->data + b->len)
		return tsr_error(TSR_ERR_PARSE, "the answer is not a DER OCSP response");
	st = OCSP_response_status(o->resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		return tsr_error(TSR_ERR_IO, "the responder answered %s", st >= 1 && st <= 6 &&
		    errors[st] != NULL ? errors[st] : "an unknown error status");
	if ((o->bs = OCSP_response_get1_basic(o->resp)) == NULL)
		return tsr_error(TSR_ERR_PARSE, "not a basic OCSP response");
	return 0;
}

/* OpenSSL's reasons with their details ("certificate verify error: Verify
 * error: unable to get local issuer certificate"), draining the queue. */
static const char *openssl_why(char *buf, size_t size)
{
	const char *data = NULL, *reason;
	size_t used = 0;
	unsigned long e;
	int flags = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		reason = ERR_reason_error_string(e);
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s%s%s",
			    used > 0 ? "; " : "", reason != NULL ? reason : "an OpenSSL error",
			    (flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' ? ": " : "",
			    (flags & ERR_TXT_STRING) && data != NULL ? data : "");
	}
	return buf;
}

/* The signer is the issuer, or a certificate the issuer gave
 * id-kp-OCSPSigning (RFC 6960 4.2.2.2), chaining to a trust anchor at now:
 * OCSP_basic_verify() with no flags checks exactly that. */
static int ocsp_signer(struct ocsp *o)
{
	X509_STORE *store = X509_STORE_new();
	X509_VERIFY_PARAM *param = X509_VERIFY_PARAM_new();
	STACK_OF(X509) *pool = sk_X509_new_null();
	int r = 0;

	if (store == NULL || param == NULL || pool == NULL ||
	    sk_X509_push(pool, o->q->issuer) <= 0) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(o->q->untrusted) && r == 0; i++)
		if (sk_X509_push(pool, sk_X509_value(o->q->untrusted, i)) <= 0)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (int i = 0; i < sk_X509_num(o->q->roots) && r == 0; i++)
		if (X509_STORE_add_cert(store, sk_X509_value(o->q->roots, i)) != 1)
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot load the trust anchors");
	if (r != 0)
		goto out;
	X509_VERIFY_PARAM_set_time(param, o->q->now);
	if (X509_STORE_set1_param(store, param) != 1) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (OCSP_basic_verify(o->bs, pool, store, 0) <= 0) {
		char why[200];

		r = tsr_error(TSR_ERR_SIGNATURE, "not signed by the issuer or by a responder it "
		    "authorised (%s)", openssl_why(why, sizeof(why)));
	}
out:
	sk_X509_free(pool);
	X509_VERIFY_PARAM_free(param);
	X509_STORE_free(store);
	return r;
}

/* A critical extension other than the one known (RFC 6960 4.4: refuse
 * what is critical and not understood). */
static bool unknown_critical(X509_EXTENSION *e, int known)
{
	return X509_EXTENSION_get_critical(e) && OBJ_obj2nid(X509_EXTENSION_get_object(e)) != known;
}

static int ocsp_extensions(OCSP_BASICRESP *bs, OCSP_SINGLERESP *single)
{
	for (int i = 0; i < OCSP_BASICRESP_get_ext_count(bs); i++)
		if (unknown_critical(OCSP_BASICRESP_get_ext(bs, i), NID_id_pkix_OCSP_Nonce))
			return tsr_error(TSR_ERR_PARSE, "the answer has a critical extension "
			    "that is not understood");
	for (int i = 0; i < OCSP_SINGLERESP_get_ext_count(single); i++)
		if (unknown_critical(OCSP_SINGLERESP_get_ext(single, i), NID_undef))
			return tsr_error(TSR_ERR_PARSE, "the answer about the certificate has a "
			    "critical extension");
	return 0;
}

/* Our nonce back (1), or none (-1: a pre-signed answer); another one (0)
 * is an answer to another request. */
static int ocsp_nonce(struct ocsp *o)
{
	switch (OCSP_check_nonce(o->req, o->bs)) {
	case 1:
		o->nonce_echoed = true;
		return 0;
	case -1:
		o->nonce_echoed = false;
		return 0;
	default:
		return tsr_error(TSR_ERR_SIGNATURE, "the answer carries another nonce: it answers "
		    "another request");
	}
}

/* The invalidity date of a revoked single response, 0 if none. */
static int ocsp_invalidity(OCSP_SINGLERESP *single, time_t *out)
{
	int crit = -1;
	ASN1_GENERALIZEDTIME *t = OCSP_SINGLERESP_get1_ext_d2i(single, NID_invalidity_date,
	    &crit, NULL);
	int r = 0;

	*out = 0;
	if (crit != -1 && (t == NULL || time_of(t, out) != 0))
		r = tsr_error(TSR_ERR_PARSE, "a malformed or repeated invalidity date");
	ASN1_GENERALIZEDTIME_free(t);
	return r;
}

/* The status of a current single response into *out. */
static int ocsp_status(OCSP_SINGLERESP *single, struct tsr_cms_status *out)
{
	ASN1_GENERALIZEDTIME *rev = NULL;
	int reason = CRL_REASON_NONE;

	switch (OCSP_single_get0_status(single, &reason, &rev, NULL, NULL)) {
	case V_OCSP_CERTSTATUS_GOOD:
		out->state = TSR_REVOCATION_GOOD;
		return 0;
	case V_OCSP_CERTSTATUS_REVOKED:
		if (time_of(rev, &out->revoked_at) != 0)
			return tsr_error(TSR_ERR_PARSE, "the revocation time cannot be read");
		out->reason = reason;
		out->state = TSR_REVOCATION_REVOKED;
		return ocsp_invalidity(single, &out->invalidity_date);
	default:
		/* A signed "unknown" from the issuer's own responder is final: a
		 * CRL cannot list what the CA says it never issued, so falling
		 * back to it would turn "never issued" into "good". */
		out->state = TSR_REVOCATION_UNKNOWN;
		return 0;
	}
}

/* What the verified response says about our certificate, into *out; what
 * the answer looked like (its time, the nonce) into why. */
static int ocsp_answer(struct ocsp *o, struct tsr_cms_status *out, char *why, size_t size)
{
	ASN1_GENERALIZEDTIME *tu = NULL, *nu = NULL;
	OCSP_SINGLERESP *single;
	int idx, r;
	time_t t;
	char a[21];

	if ((idx = OCSP_resp_find(o->bs, o->id, -1)) < 0 ||
	    (single = OCSP_resp_get0(o->bs, idx)) == NULL)
		return tsr_error(TSR_ERR_PARSE, "the answer is not about this certificate");
	if ((r = ocsp_extensions(o->bs, single)) != 0)
		return r;
	(void)OCSP_single_get0_status(single, NULL, NULL, &tu, &nu);
	if ((r = current(o->q->now, tu, nu, false, &t)) != 0)
		return r;
	tsr_time_format(t, a);
	if (!o->nonce_echoed && o->q->now - t > TSR_STATUS_NO_NONCE_AGE)
		return tsr_error(TSR_ERR_POLICY, "the nonce is not echoed and the answer is from "
		    "%s, over %d hours ago: it may be a replay", a, TSR_STATUS_NO_NONCE_AGE / 3600);
	snprintf(why, size, "thisUpdate %s, %s", a, o->nonce_echoed ? "nonce echoed" :
	    "no nonce echoed (a pre-signed answer)");
	if ((r = ocsp_status(single, out)) == 0 && out->state == TSR_REVOCATION_UNKNOWN)
		snprintf(why, size, "the responder answers \"unknown\" (thisUpdate %s): the CA "
		    "does not know this certificate; not looked up in a CRL", a);
	return r;
}

/* Ask one responder: 0 with *out GOOD, REVOKED or (a signed "unknown")
 * UNKNOWN, or why not. */
static int ask_ocsp(const struct tsr_status_query *q, const char *url,
    struct tsr_cms_status *out, char *why, size_t size)
{
	struct ocsp o = { .q = q };
	struct fetch f = { .url = url, .content_type = "application/ocsp-request",
		.timeout = q->timeout, .max = TSR_STATUS_OCSP_MAX };
	struct tsr_buf body;
	uint8_t *der = NULL;
	int r;

	tsr_buf_init(&body, 0);
	if ((r = ocsp_request(&o, &der, &f.body_len)) != 0)
		goto out;
	f.body = der;
	if ((r = fetch(&f, &body)) != 0 || (r = ocsp_parse(&o, &body)) != 0 ||
	    (r = ocsp_signer(&o)) != 0 || (r = ocsp_nonce(&o)) != 0)
		goto out;
	r = ocsp_answer(&o, out, why, size);
out:
	OPENSSL_free(der);
	tsr_buf_free(&body);
	ocsp_free(&o);
	return r;
}

/* ------------------------------------------------------------------ CRL */

/* The DER of one PEM "X509 CRL" block with only whitespace around it
 * (new buffer, OPENSSL_free()). */
static int crl_pem(const struct tsr_buf *b, unsigned char **der, long *len)
{
	char *name = NULL, *header = NULL;
	BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
	int r = 0;

	if (bio == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (PEM_read_bio(bio, &name, &header, der, len) != 1 || strcmp(name, "X509 CRL") != 0 ||
	    header[0] != '\0')
		r = tsr_error(TSR_ERR_PARSE, "not one PEM X509 CRL block");
	for (char c; r == 0 && BIO_read(bio, &c, 1) == 1;)
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			r = tsr_error(TSR_ERR_PARSE, "something follows the PEM block");
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return r;
}

/* The CRL in b: DER, or PEM; every byte of the DER consumed. */
static int crl_parse(const struct tsr_buf *b, X509_CRL **out)
{
	unsigned char *pem = NULL;
	const unsigned char *p = b->data, *end;
	long len = (long)b->len;
	size_t i = 0;
	int r = 0;

	*out = NULL;
	while (i < b->len && (b->data[i] == ' ' || b->data[i] == '\t' || b->data[i] == '\r' ||
	    b->data[i] == '\n'))
		i++;
	if (b->len - i >= 11 && memcmp(b->data + i, "-----BEGIN ", 11) == 0) {
		if ((r = crl_pem(b, &pem, &len)) != 0)
			return r;
		p = pem;
	}
	end = p + len;
	if (len <= 0 || (*out = d2i_X509_CRL(NULL, &p, len)) == NULL || p != end) {
		X509_CRL_free(*out);
		*out = NULL;
		r = tsr_error(TSR_ERR_PARSE, "the answer is not a CRL (DER or PEM)");
	}
	ERR_clear_error();
	OPENSSL_free(pem);
	return r;
}

/* Whether the issuing distribution point's full name is url. */
static bool idp_names(const ISSUING_DIST_POINT *idp, const char *url)
{
	GENERAL_NAMES *names;

	if (idp->distpoint == NULL)
		return true;
	if (idp->distpoint->type != 0)
		return false;
	names = idp->distpoint->name.fullname;
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI &&
		    (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier) == strlen(url) &&
		    memcmp(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier), url,
		    strlen(url)) == 0)
			return true;
	}
	return false;
}

/* A complete CRL for every certificate of the issuer, or for end-entity
 * certificates, and for all reasons; if it names its distribution point,
 * that is the one fetched (else a CRL of another partition could stand
 * in for it). */
static int crl_scope(X509_CRL *crl, const char *url)
{
	ISSUING_DIST_POINT *idp;
	int crit = -1, r = 0;

	for (int i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		X509_EXTENSION *e = X509_CRL_get_ext(crl, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

		if (nid == NID_delta_crl)
			return tsr_error(TSR_ERR_POLICY, "a delta CRL, not a complete one");
		if (X509_EXTENSION_get_critical(e) && nid != NID_issuing_distribution_point)
			return tsr_error(TSR_ERR_PARSE, "a critical extension that is not "
			    "understood");
	}
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (crit == -1)
		return 0;
	if (idp == NULL)
		r = tsr_error(TSR_ERR_PARSE, "a malformed issuing distribution point");
	else if (idp->onlyCA || idp->onlyattr || idp->onlysomereasons != NULL || idp->indirectCRL)
		r = tsr_error(TSR_ERR_POLICY, "a CRL for part of the certificates or reasons only");
	else if (!idp_names(idp, url))
		r = tsr_error(TSR_ERR_POLICY, "a CRL for another distribution point");
	ISSUING_DIST_POINT_free(idp);
	return r;
}

/* The issuer's CRL, by name and signature, complete, current. */
static int crl_trust(const struct tsr_status_query *q, X509_CRL *crl, const char *url,
    time_t *this_update)
{
	int r;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(q->issuer)) != 0)
		return tsr_error(TSR_ERR_SIGNATURE, "the CRL's issuer is not the certificate's");
	if ((X509_get_key_usage(q->issuer) & KU_CRL_SIGN) == 0)
		return tsr_error(TSR_ERR_SIGNATURE, "the issuer's keyUsage does not allow cRLSign");
	if (X509_CRL_verify(crl, X509_get0_pubkey(q->issuer)) != 1) {
		ERR_clear_error();
		return tsr_error(TSR_ERR_SIGNATURE, "the CRL's signature is not the issuer's");
	}
	if ((r = crl_scope(crl, url)) != 0)
		return r;
	return current(q->now, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl), true,
	    this_update);
}

/* One extension of an entry, or none (*t NULL); refused when repeated or
 * malformed. */
static int entry_ext(X509_REVOKED *rev, int nid, void **t)
{
	int crit = -1;

	*t = X509_REVOKED_get_ext_d2i(rev, nid, &crit, NULL);
	if (crit != -1 && *t == NULL)
		return tsr_error(TSR_ERR_PARSE, "a malformed or repeated entry extension");
	return 0;
}

/* Whether the certificate is on the CRL; its entry into *out. */
static int crl_lookup(const struct tsr_status_query *q, X509_CRL *crl,
    struct tsr_cms_status *out)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	int found = X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(q->cert)), r;

	if (found == 0) {
		out->state = TSR_REVOCATION_GOOD;
		return 0;
	}
	if (found != 1)
		return tsr_error(TSR_ERR_PARSE, "the certificate's entry is removeFromCRL, which "
		    "only a delta CRL may carry");
	for (int i = 0; i < X509_REVOKED_get_ext_count(rev); i++) {
		X509_EXTENSION *e = X509_REVOKED_get_ext(rev, i);

		if (X509_EXTENSION_get_critical(e))
			return tsr_error(TSR_ERR_PARSE, "the certificate's entry has a critical "
			    "extension");
	}
	if ((r = entry_ext(rev, NID_crl_reason, (void **)&reason)) != 0 ||
	    (r = entry_ext(rev, NID_invalidity_date, (void **)&inv)) != 0)
		goto out;
	if (time_of(X509_REVOKED_get0_revocationDate(rev), &out->revoked_at) != 0 ||
	    (inv != NULL && time_of(inv, &out->invalidity_date) != 0)) {
		r = tsr_error(TSR_ERR_PARSE, "the entry's dates cannot be read");
		goto out;
	}
	out->reason = reason != NULL ? (int)ASN1_ENUMERATED_get(reason) : CRL_REASON_NONE;
	out->state = TSR_REVOCATION_REVOKED;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_GENERALIZEDTIME_free(inv);
	return r;
}

/* Fetch one CRL and look the certificate up: 0 with *out GOOD or REVOKED,
 * or why not. */
static int ask_crl(const struct tsr_status_query *q, const char *url,
    struct tsr_cms_status *out, char *why, size_t size)
{
	struct fetch f = { .url = url, .timeout = q->timeout, .max = q->crl_max };
	struct tsr_buf body;
	X509_CRL *crl = NULL;
	time_t tu;
	char a[21];
	int r;

	if ((r = fetch(&f, &body)) != 0 || (r = crl_parse(&body, &crl)) != 0 ||
	    (r = crl_trust(q, crl, url, &tu)) != 0 || (r = crl_lookup(q, crl, out)) != 0)
		goto out;
	tsr_time_format(tu, a);
	snprintf(why, size, "thisUpdate %s", a);
out:
	X509_CRL_free(crl);
	tsr_buf_free(&body);
	ERR_clear_error();
	return r;
}

/* ------------------------------------------------------------------ the question */

typedef int (*ask_fn)(const struct tsr_status_query *q, const char *url,
    struct tsr_cms_status *out, char *why, size_t size);

/* Ask each URL in turn until one answers; 1 if none did (each noted), 0
 * if one did, or TSR_ERR_NOMEM. */
static int ask_each(const struct tsr_status_query *q, const struct urls *u, const char *kind,
    ask_fn ask, struct tsr_cms_status *out, struct notes *n)
{
	char why[160];
	int r;

	for (size_t i = 0; i < u->n; i++) {
		why[0] = '\0';
		out->state = TSR_REVOCATION_UNKNOWN;
		out->reason = CRL_REASON_NONE;
		out->revoked_at = out->invalidity_date = 0;
		if ((r = ask(q, u->v[i], out, why, sizeof(why))) == 0) {
			snprintf(out->source, sizeof(out->source), "%s %s", kind, u->v[i]);
			snprintf(out->detail, sizeof(out->detail), "%s", why);
			return 0;
		}
		out->state = TSR_REVOCATION_UNKNOWN;
		if (r == TSR_ERR_NOMEM)
			return r;
		note(n, "%s %s: %s", kind, u->v[i], tsr_error_detail());
	}
	return 1;
}

/* Is q->cert revoked?  (client.h) */
int tsr_client_status(const struct tsr_status_query *q, struct tsr_cms_status *out)
{
	struct tsr_status_query qq = *q;
	struct urls ocsp = { .n = 0 }, crl = { .n = 0 };
	struct notes n = { .used = 0 };
	int r;

	memset(out, 0, sizeof(*out));
	out->reason = CRL_REASON_NONE;
	if (q->cert == NULL || q->issuer == NULL)
		return tsr_error(TSR_ERR_INVALID, "a status query needs the certificate and its "
		    "issuer");
	if (q->timeout < 0 || q->timeout > TSR_STATUS_TIMEOUT_MAX)
		return tsr_error(TSR_ERR_INVALID, "the timeout must be 1 to %d seconds",
		    TSR_STATUS_TIMEOUT_MAX);
	qq.timeout = q->timeout > 0 ? q->timeout : TSR_STATUS_TIMEOUT;
	qq.crl_max = q->crl_max > 0 ? q->crl_max : TSR_STATUS_CRL_MAX;
	ocsp_urls(q->cert, &ocsp, &n);
	if (ocsp.n == 0)
		note(&n, "OCSP: the certificate names no responder that can be asked");
	if ((r = ask_each(&qq, &ocsp, "OCSP", ask_ocsp, out, &n)) == 1) {
		crl_urls(q->cert, &crl, &n);
		if (crl.n == 0)
			note(&n, "CRL: the certificate names no distribution point that can be "
			    "fetched");
		r = ask_each(&qq, &crl, "CRL", ask_crl, out, &n);
	}
	if (r < 0)
		return r;
	tsr_error_clear();
	if (r == 1) {
		memset(out, 0, sizeof(*out));
		out->reason = CRL_REASON_NONE;
		snprintf(out->detail, sizeof(out->detail), "%s", n.text);
		return 0;
	}
	/* an answer after failures: say what failed first */
	if (n.used > 0)
		snprintf(out->detail + strlen(out->detail), sizeof(out->detail) -
		    strlen(out->detail), "; before that, %s", n.text);
	return 0;
}
