/*
 * error.c - the one table that maps error codes to messages, HTTP statuses
 * and exit statuses, and the per-thread error detail.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "base/base.h"

struct err_row {
	int code;
	const char *name;
	const char *message;
	int http_status;
	int exit_status;
};

static const struct err_row err_table[] = {
	{ TSR_OK, "ok", "success", 200, 0 },
	{ TSR_ERR_NOMEM, "nomem", "out of memory", 503, 70 },
	{ TSR_ERR_INVALID, "invalid", "invalid argument", 400, 64 },
	{ TSR_ERR_PARSE, "parse", "malformed input", 400, 65 },
	{ TSR_ERR_TOO_LARGE, "too-large", "input too large", 413, 65 },
	{ TSR_ERR_NOT_FOUND, "not-found", "not found", 404, 66 },
	{ TSR_ERR_EXISTS, "exists", "already exists", 409, 73 },
	{ TSR_ERR_IO, "io", "input/output error", 500, 74 },
	{ TSR_ERR_CRYPTO, "crypto", "cryptographic operation failed", 500, 70 },
	{ TSR_ERR_PKCS11, "pkcs11", "PKCS#11 token failure", 503, 69 },
	/* A token PIN is the operator's (the CA's token) or the subscriber's
	 * local matter; at the API it is never the client's fault. */
	{ TSR_ERR_PIN, "pin", "wrong or locked token PIN", 503, 77 },
	{ TSR_ERR_STORE, "store", "database failure", 503, 74 },
	{ TSR_ERR_POLICY, "policy", "refused by the product policy", 422, 65 },
	{ TSR_ERR_LINT, "lint", "certificate failed pre-issuance lint", 500, 70 },
	{ TSR_ERR_SIGNATURE, "signature", "signature does not verify", 400, 65 },
	{ TSR_ERR_KEY, "key", "key type not allowed", 422, 65 },
	{ TSR_ERR_CONFIG, "config", "invalid configuration", 500, 78 },
	{ TSR_ERR_AUDIT, "audit", "audit chain broken", 500, 70 },
	{ TSR_ERR_INTERNAL, "internal", "internal error", 500, 70 },
	{ TSR_ERR_AUTH, "auth", "wrong or missing credentials", 401, 77 },
	{ TSR_ERR_FORBIDDEN, "forbidden", "not allowed for this role", 403, 77 },
};

static _Thread_local char err_detail[1024];

static const struct err_row *err_row_of(int code)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(err_table); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

static void detail_vset(const char *fmt, va_list ap)
{
	vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
}

int tsr_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	detail_vset(fmt, ap);
	va_end(ap);
	return code;
}

/*
 * OpenSSL keeps a queue of errors per thread.  Where we cross into OpenSSL
 * we drain it into the detail so the user sees the innermost reason, and the
 * next caller does not inherit stale errors.
 */
int tsr_error_openssl(int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t used;

	va_start(ap, fmt);
	detail_vset(fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0) {
		char reason[256];

		ERR_error_string_n(e, reason, sizeof(reason));
		used = strlen(err_detail);
		if (used + 4 < sizeof(err_detail))
			snprintf(err_detail + used, sizeof(err_detail) - used, " (%s)", reason);
	}
	return code;
}

int tsr_error_wrap(int code, const char *fmt, ...)
{
	char old[sizeof(err_detail)];
	char prefix[sizeof(err_detail)];
	va_list ap;

	if (fmt == NULL)
		return code;
	memcpy(old, err_detail, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Truncation is fine: a detail is one line for a person. */
	{
		size_t p = strnlen(prefix, sizeof(err_detail) - 3);
		size_t o = strnlen(old, sizeof(err_detail) - 3 - p);

		memcpy(err_detail, prefix, p);
		memcpy(err_detail + p, ": ", 2);
		memcpy(err_detail + p + 2, old, o);
		err_detail[p + 2 + o] = '\0';
	}
	return code;
}

const char *tsr_error_detail(void)
{
	return err_detail;
}

void tsr_error_clear(void)
{
	err_detail[0] = '\0';
}

const char *tsr_strerror(int code)
{
	const struct err_row *r = err_row_of(code);

	return r ? r->message : "unknown error";
}

const char *tsr_error_name(int code)
{
	const struct err_row *r = err_row_of(code);

	return r ? r->name : "unknown";
}

int tsr_error_http_status(int code)
{
	const struct err_row *r = err_row_of(code);

	return r ? r->http_status : 500;
}

int tsr_error_exit_status(int code)
{
	const struct err_row *r = err_row_of(code);

	return r ? r->exit_status : 70;
}
