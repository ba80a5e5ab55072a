/*
 * problem.c - every error at the HTTP interface as an application/problem+json
 * document (RFC 9457): type, title, status, detail, instance.
 *
 * Errors from below map through the base error table (tsr_error_name() for
 * the type, tsr_strerror() for the title, tsr_error_http_status() for the
 * status); the HTTP layer's own refusals have the small table here.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"

static const struct {
	enum tsr_http_refusal refusal;
	int status;
	const char *name;
	const char *title;
} refusals[] = {
	{ TSR_HTTP_UNAUTHENTICATED, 401, "unauthenticated", "authentication required" },
	{ TSR_HTTP_METHOD_NOT_ALLOWED, 405, "method-not-allowed", "method not allowed" },
	{ TSR_HTTP_LENGTH_REQUIRED, 411, "length-required", "Content-Length required" },
	{ TSR_HTTP_UNSUPPORTED_MEDIA, 415, "unsupported-media-type",
	    "unsupported media type" },
	{ TSR_HTTP_CSRF, 403, "csrf", "CSRF token missing or wrong" },
};

/* A JSON string of s, which may echo client bytes that are not UTF-8:
 * then only its printable ASCII is kept. */
static json_t *text(const char *s)
{
	char clean[1024];
	json_t *v;
	size_t i;

	if ((v = json_string(s)) != NULL)
		return v;
	for (i = 0; s[i] != '\0' && i + 1 < sizeof(clean); i++)
		clean[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	clean[i] = '\0';
	return json_string(clean);
}

static json_t *problem(int status, const char *name, const char *title, const char *detail,
    const char *instance)
{
	char type[128];
	json_t *doc;

	snprintf(type, sizeof(type), "%s%s", TSR_PROBLEM_TYPE_BASE, name);
	doc = json_pack("{s:s, s:s, s:i}", "type", type, "title", title, "status", status);
	if (doc == NULL)
		return NULL;
	if ((detail != NULL && detail[0] != '\0' &&
	    json_object_set_new(doc, "detail", text(detail)) != 0) ||
	    (instance != NULL && json_object_set_new(doc, "instance", text(instance)) != 0)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *tsr_problem_from_error(int code, const char *detail, const char *instance, int *status)
{
	/* An unknown code, or success reported as an error, is a bug. */
	if (code >= 0 || code <= TSR_ERR_LAST)
		code = TSR_ERR_INTERNAL;
	*status = tsr_error_http_status(code);
	if (*status >= 500)
		detail = "the server could not complete this request; its log has the reason";
	return problem(*status, tsr_error_name(code), tsr_strerror(code), detail, instance);
}

json_t *tsr_problem_from_refusal(enum tsr_http_refusal r, const char *detail,
    const char *instance, int *status)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(refusals); i++) {
		if (refusals[i].refusal != r)
			continue;
		*status = refusals[i].status;
		return problem(*status, refusals[i].name, refusals[i].title, detail, instance);
	}
	return tsr_problem_from_error(TSR_ERR_INTERNAL, NULL, instance, status);
}
