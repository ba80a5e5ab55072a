/*
 * fuzz_est.c - what the EST endpoints parse before the ra layer sees a
 * request: the first byte picks the parser, the rest is its input.
 *
 *   0  a simpleenroll body: base64 (lines allowed) of a DER PKCS#10
 *   1  strict base64 in one line      2  strict base64 with line breaks
 *   3  an Authorization header value (Basic credentials)
 *   4  a token claim header value     5  a Test My Certificate JSON body
 *
 * Rejection is the expected outcome for garbage.  A crash, a leak, or an
 * acceptance that breaks a promise is a bug: base64 has one encoding per
 * byte string (what decodes re-encodes to the input, line breaks aside);
 * accepted credentials are non-empty, within their limits, without
 * control characters and with no colon in the user-id; an accepted CSR is
 * DER that tsr_csr_parse() accepts again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define B64_MAX 8192

static void csr(const uint8_t *p, size_t n)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509_REQ *req = NULL;

	if (tsr_http_est_csr(p, n, &der, &len) != 0) {
		if (der != NULL || len != 0)
			__builtin_trap();
	} else {
		if (der == NULL || len == 0 || der[0] != 0x30 || tsr_csr_parse(der, len, &req) != 0)
			__builtin_trap();
		X509_REQ_free(req);
	}
	free(der);
	ERR_clear_error();
}

/* What decodes must re-encode to the input without its line breaks. */
static void base64(const uint8_t *p, size_t n, unsigned flags)
{
	static uint8_t out[B64_MAX];
	char *back = NULL, *plain;
	size_t len = 0, blen = 0, k = 0;

	if (n > B64_MAX)
		return;
	if (tsr_base64_decode((const char *)p, n, flags, out, sizeof(out), &len) != 0)
		return;
	if ((plain = malloc(n + 1)) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			plain[k++] = (char)p[i];
		else if (!(flags & TSR_BASE64_LINES))
			__builtin_trap();
	if (tsr_base64_encode(out, len, 0, &back, &blen) != 0 || blen != k ||
	    memcmp(back, plain, k) != 0)
		__builtin_trap();
	free(back);
	free(plain);
}

static bool clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void basic(const char *header)
{
	char user[TSR_HTTP_BASIC_USER_MAX + 1], pw[TSR_HTTP_BASIC_PASSWORD_MAX + 1];
	char plain[TSR_HTTP_BASIC_USER_MAX + TSR_HTTP_BASIC_PASSWORD_MAX + 2], *b64 = NULL;
	size_t n = 0;

	if (tsr_http_basic(header, user, pw) != 0) {
		if (user[0] != '\0' || pw[0] != '\0')
			__builtin_trap();
		return;
	}
	if (user[0] == '\0' || pw[0] == '\0' || strchr(user, ':') != NULL ||
	    strlen(user) > TSR_HTTP_BASIC_USER_MAX || strlen(pw) > TSR_HTTP_BASIC_PASSWORD_MAX ||
	    !clean(user) || !clean(pw) || strncasecmp(header, "Basic ", 6) != 0)
		__builtin_trap();
	/* The header held exactly base64("user:password"). */
	snprintf(plain, sizeof(plain), "%s:%s", user, pw);
	if (tsr_base64_encode((const uint8_t *)plain, strlen(plain), 0, &b64, &n) != 0 ||
	    strcmp(b64, header + 6) != 0)
		__builtin_trap();
	free(b64);
}

static void claim(const char *v)
{
	if (tsr_http_est_claim_check("X-Tessera-Token-Serial", v) == 0 &&
	    (strlen(v) == 0 || strlen(v) > 64 || !clean(v)))
		__builtin_trap();
}

static void test_body(const uint8_t *p, size_t n)
{
	static const struct tsr_json_field *schema;
	json_t *v = NULL;

	if (schema == NULL) {
		size_t count;
		const struct tsr_http_route *r = tsr_http_est_routes(&count);

		for (size_t i = 0; i < count; i++)
			if (r[i].body != NULL)
				schema = r[i].body;
		if (schema == NULL)
			__builtin_trap();
	}
	if (tsr_json_read(p, n, schema, &v) == 0 &&
	    (json_string_value(json_object_get(v, "nonce")) == NULL ||
	    json_string_value(json_object_get(v, "certificate")) == NULL ||
	    json_string_value(json_object_get(v, "signature")) == NULL))
		__builtin_trap();
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0: csr(data + 1, size - 1); return 0;
	case 1: base64(data + 1, size - 1, 0); return 0;
	case 2: base64(data + 1, size - 1, TSR_BASE64_LINES); return 0;
	case 5: test_body(data + 1, size - 1); return 0;
	default: break;
	}
	/* Header values are NUL-terminated strings. */
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] % 6 == 3)
		basic(text);
	else
		claim(text);
	free(text);
	return 0;
}
