/*
 * verifier.c - the external identity verifier: one HTTP(S) POST per call
 * through libcurl, its answer read into a capped buffer and parsed strictly.
 *
 * The verifier is a third party: whatever it answers is untrusted text that
 * an officer will read.  So the answer is capped while it arrives, must be
 * exactly the JSON object verifier.h describes, and its evidence has every
 * control character and every byte that is not UTF-8 replaced before it
 * is shown (error sentences quote the verifier's headers and keys), so that
 * it is always valid UTF-8.  The bearer token is a secret: read from its
 * file for one transfer, wiped after, and never part of an evidence
 * sentence.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ra/net.h"
#include "ra/secret.h"
#include "ra/verifier.h"

#define TOKEN_MAX 4096            /* bytes of bearer token */
#define TIMEOUT_DEFAULT 10        /* seconds, when the config says 0 */
#define KEY_SHOWN 40              /* bytes of an unknown key quoted back */
#define TYPE_SHOWN 60             /* bytes of a wrong Content-Type quoted back */
/* RFC 6750 b64token: what may follow "Bearer " on the header line. */
#define TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

static void set_result(struct tsr_verifier_result *out, const char *outcome, const char *fmt,
    ...) TSR_PRINTF(3, 4);

static void set_result(struct tsr_verifier_result *out, const char *outcome, const char *fmt,
    ...)
{
	va_list ap;

	snprintf(out->outcome, sizeof(out->outcome), "%s", outcome);
	va_start(ap, fmt);
	vsnprintf(out->evidence, sizeof(out->evidence), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ display */

/* True for a character that must not reach a screen as it is besides the
 * controls: line and paragraph separators, and bidirectional controls that
 * reorder what follows. */
static bool hidden_char(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Make s fit to show, in place: every byte that is not part of a valid
 * UTF-8 sequence becomes '?', every control or hidden character a space.
 * s may hold any bytes (a header quoted back, a cut sentence); afterwards
 * it is valid UTF-8. */
static void sanitize(char *s)
{
	size_t n = strlen(s), o = 0, i = 0, at;
	uint32_t cp;

	while (i < n) {
		at = i;
		if (tsr_utf8_next(s, n, &i, &cp) != 0) {
			s[o++] = '?';
			i = at + 1;
		} else if (tsr_utf8_is_control(cp) || hidden_char(cp)) {
			s[o++] = ' ';
		} else {
			memmove(s + o, s + at, i - at);
			o += i - at;
		}
	}
	s[o] = '\0';
}

/* How many bytes of s to quote so that at most max are and no UTF-8
 * character is cut in half (a byte that is not UTF-8 counts as one). */
static int quoted_len(const char *s, size_t max)
{
	size_t n = strlen(s), i = 0, at;
	uint32_t cp;

	while (i < n) {
		at = i;
		if (tsr_utf8_next(s, n, &i, &cp) != 0)
			i = at + 1;
		if (i > max)
			return (int)at;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ request */

/* {"application": ..., "product": ..., "applicant": {...}}, compact ASCII. */
static int build_request(const char *application, const char *product,
    const char *applicant_json, char **out)
{
	json_error_t err;
	json_t *applicant, *req = NULL;

	*out = NULL;
	applicant = json_loads(applicant_json, JSON_REJECT_DUPLICATES, &err);
	if (applicant == NULL || !json_is_object(applicant)) {
		json_decref(applicant);
		return tsr_error(TSR_ERR_INVALID, "the applicant's fields are not a JSON object");
	}
	/* "o" takes over the reference to applicant, even on failure. */
	req = json_pack("{s:s, s:s, s:o}", "application", application, "product", product,
	    "applicant", applicant);
	if (req != NULL)
		*out = json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(req);
	if (*out == NULL)
		return tsr_error(TSR_ERR_INVALID, "the application id or product is not UTF-8 text");
	return 0;
}

/* The bearer token: the first line of a file only its owner may read,
 * made of RFC 6750 token characters (so it cannot add a header). */
static int read_token(const char *path, char **out)
{
	struct tsr_buf b;
	size_t n;
	int r;

	*out = NULL;
	tsr_buf_init_secret(&b, TOKEN_MAX + 2);
	if ((r = tsr_file_read_private(path, TOKEN_MAX + 2, &b)) == 0) {
		n = b.len;
		if (n > 0 && b.data[n - 1] == '\n')
			n--;
		if (n > 0 && b.data[n - 1] == '\r')
			n--;
		if (n == 0 || n > TOKEN_MAX || strspn((const char *)b.data, TOKEN_CHARS) < n)
			r = tsr_error(TSR_ERR_CONFIG, "%s must hold the token on one line, in "
			    "letters, digits and -._~+/=", path);
		else if ((*out = strndup((const char *)b.data, n)) == NULL)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	tsr_buf_free(&b);
	return r;
}

/* Wipe and free a header list that may hold the token. */
static void headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		tsr_wipe(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* The request headers; with a token_file, its Authorization line. */
static int make_headers(const struct tsr_verifier_config *v, struct curl_slist **out)
{
	static const char *const fixed[] = { "Content-Type: application/json",
		"Accept: application/json", "Expect:" };
	struct curl_slist *h = NULL, *next;
	char *token = NULL, *line = NULL;
	int r = 0;

	for (size_t i = 0; i < TSR_ARRAY_LEN(fixed) && r == 0; i++)
		if ((next = curl_slist_append(h, fixed[i])) == NULL)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		else
			h = next;
	if (r == 0 && v->token_file != NULL && (r = read_token(v->token_file, &token)) == 0) {
		if (asprintf(&line, "Authorization: Bearer %s", token) < 0)
			line = NULL;
		if (line == NULL || (next = curl_slist_append(h, line)) == NULL)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		else
			h = next;
	}
	tsr_free_secret(token);
	tsr_free_secret(line);
	if (r != 0) {
		headers_free(h);
		h = NULL;
	}
	*out = h;
	return r;
}

/* ------------------------------------------------------------------ transfer */

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct tsr_buf *b = ud;

	/* Fewer bytes than offered aborts the transfer (CURLE_WRITE_ERROR). */
	if (tsr_buf_append(b, p, size * nmemb) != 0)
		return 0;
	return size * nmemb;
}

/* Every option that decides where the bytes go and how they are protected;
 * a failure to set one stops the transfer. */
static CURLcode setup(CURL *h, const struct tsr_verifier_config *v, const char *body,
    struct curl_slist *headers, struct tsr_buf *answer, char *errbuf)
{
	long timeout = v->timeout_seconds > 0 ? v->timeout_seconds : TIMEOUT_DEFAULT;
	CURLcode cc = ra_curl_common(h, errbuf, v->url, "http,https", timeout, v->ca_file);

	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_USERAGENT, "Tessera");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)TSR_VERIFIER_RESPONSE_MAX);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
	return cc;
}

/* A sentence for a transfer that failed. */
static void transfer_failed(const struct tsr_verifier_config *v, CURLcode cc,
    const char *errbuf, struct tsr_verifier_result *out)
{
	if (cc == CURLE_OPERATION_TIMEDOUT)
		set_result(out, "error", "The verifier did not answer within %d s.",
		    v->timeout_seconds > 0 ? v->timeout_seconds : TIMEOUT_DEFAULT);
	else if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED)
		set_result(out, "error", "The verifier's answer is over %d bytes.",
		    TSR_VERIFIER_RESPONSE_MAX);
	else
		set_result(out, "error", "The verifier could not be reached: %s.",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
}

/* True if the answer says it is JSON: "application/json", parameters allowed. */
static bool is_json_type(const char *type)
{
	size_t n = strlen("application/json");

	return type != NULL && strncasecmp(type, "application/json", n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* POST body to v; on a 200 JSON answer *answer holds it and 0 is returned,
 * else out says why and -1 is returned. */
static int post(const struct tsr_verifier_config *v, const char *body,
    struct curl_slist *headers, struct tsr_buf *answer, struct tsr_verifier_result *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *type = NULL;
	long status = 0;
	CURLcode cc;
	CURL *h;
	int r = -1;

	if ((h = curl_easy_init()) == NULL) {
		set_result(out, "error", "The verifier could not be called: out of memory.");
		return -1;
	}
	if ((cc = setup(h, v, body, headers, answer, errbuf)) == CURLE_OK)
		cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		transfer_failed(v, cc, errbuf, out);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
	if (status != 200)
		set_result(out, "error", "The verifier answered HTTP %ld, not 200.", status);
	else if (!is_json_type(type))
		set_result(out, "error", "The verifier answered with Content-Type %.*s, not "
		    "application/json.", quoted_len(type ? type : "(none)", TYPE_SHOWN),
		    type ? type : "(none)");
	else
		r = 0;
out:
	curl_easy_cleanup(h);
	return r;
}

/* ------------------------------------------------------------------ answer */

/* The parsed answer's members: only "result" and "evidence", right types. */
static int check_members(json_t *root, struct tsr_verifier_result *out)
{
	const char *key, *result;
	json_t *val, *ev;

	json_object_foreach(root, key, val) {
		if (strcmp(key, "result") != 0 && strcmp(key, "evidence") != 0) {
			set_result(out, "error", "The verifier's answer has an unknown member "
			    "\"%.*s\".", quoted_len(key, KEY_SHOWN), key);
			return -1;
		}
	}
	result = json_string_value(json_object_get(root, "result"));
	if (result == NULL || (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0)) {
		set_result(out, "error", "The verifier's answer has no \"result\" of \"pass\" or "
		    "\"fail\".");
		return -1;
	}
	if ((ev = json_object_get(root, "evidence")) != NULL && !json_is_string(ev)) {
		set_result(out, "error", "The verifier's \"evidence\" is not a string.");
		return -1;
	}
	if (ev != NULL && json_string_length(ev) > TSR_VERIFIER_EVIDENCE_MAX) {
		set_result(out, "error", "The verifier's \"evidence\" is over %d bytes.",
		    TSR_VERIFIER_EVIDENCE_MAX);
		return -1;
	}
	return 0;
}

/* {"result": "pass"|"fail", "evidence"?: "..."} and nothing else. */
static void parse_answer(const struct tsr_buf *answer, struct tsr_verifier_result *out)
{
	json_error_t err;
	json_t *root, *ev;

	root = json_loadb((const char *)answer->data, answer->len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		set_result(out, "error", json_error_code(&err) == json_error_duplicate_key ?
		    "The verifier's answer repeats a member." :
		    "The verifier's answer is not valid JSON.");
		return;
	}
	if (!json_is_object(root))
		set_result(out, "error", "The verifier's answer is not a JSON object.");
	else if (check_members(root, out) == 0) {
		ev = json_object_get(root, "evidence");
		set_result(out, json_string_value(json_object_get(root, "result")), "%s",
		    ev != NULL ? json_string_value(ev) : "");
	}
	json_decref(root);
}

/* ------------------------------------------------------------------ run */

/* See verifier.h. */
void tsr_verifier_run(const struct tsr_verifier_config *v, const char *application,
    const char *product, const char *applicant_json, struct tsr_verifier_result *out)
{
	struct curl_slist *headers = NULL;
	struct tsr_buf answer;
	char *body = NULL;
	CURLcode cc;

	tsr_buf_init(&answer, TSR_VERIFIER_RESPONSE_MAX);
	set_result(out, "error", "The verifier was not called.");
	if (v == NULL || v->url == NULL || application == NULL || product == NULL ||
	    applicant_json == NULL) {
		set_result(out, "error", "The verifier was called without a configuration or "
		    "an application.");
		goto out;
	}
	if ((cc = ra_curl_init()) != CURLE_OK) {
		set_result(out, "error", "The verifier could not be called: curl_global_init: %s.",
		    curl_easy_strerror(cc));
		goto out;
	}
	if (build_request(application, product, applicant_json, &body) != 0 ||
	    make_headers(v, &headers) != 0) {
		/* Details name files and fields, never the token. */
		set_result(out, "error", "The verifier could not be called: %s.",
		    tsr_error_detail());
		goto out;
	}
	if (post(v, body, headers, &answer, out) == 0)
		parse_answer(&answer, out);
out:
	sanitize(out->evidence);
	headers_free(headers);
	free(body);
	tsr_buf_free(&answer);
}
