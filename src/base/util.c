/*
 * util.c - hex encoding, the injectable clock, randomness, logging and the
 * names of key types.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/base.h"

/* ------------------------------------------------------------------ hex */
void tsr_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int tsr_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tsr_hex_decode(const char *s, uint8_t *out, size_t max, size_t *outlen)
{
	size_t n = strlen(s);

	if (n % 2 != 0)
		return tsr_error(TSR_ERR_PARSE, "hex string has an odd number of digits");
	if (n / 2 > max)
		return tsr_error(TSR_ERR_TOO_LARGE, "hex string longer than %zu bytes", max);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = tsr_hex_digit(s[2 * i]), lo = tsr_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return tsr_error(TSR_ERR_PARSE, "not a hex digit at position %zu",
			    hi < 0 ? 2 * i + 1 : 2 * i + 2);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

/* ------------------------------------------------------------------ clock */
static tsr_clock_fn clock_fn;
static void *clock_ctx;

time_t tsr_now(void)
{
	return clock_fn ? clock_fn(clock_ctx) : time(NULL);
}

void tsr_clock_set(tsr_clock_fn fn, void *ctx)
{
	clock_fn = fn;
	clock_ctx = ctx;
}

void tsr_time_format(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------ random */
int tsr_random(void *p, size_t n)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t got = getrandom(q, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return tsr_error(TSR_ERR_IO, "getrandom: %s", strerror(errno));
		}
		q += got;
		n -= (size_t)got;
	}
	return 0;
}

/* ------------------------------------------------------------------ logging */
static enum tsr_log_level log_level = TSR_LOG_WARN;

void tsr_log_set_level(enum tsr_log_level level)
{
	log_level = level;
}

void tsr_log(enum tsr_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	/* One line at a time: the server logs from many threads. */
	flockfile(stderr);
	fprintf(stderr, "tessera: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* ------------------------------------------------------------------ key types */
static const struct {
	enum tsr_key_type type;
	const char *name;
	int bits;
} key_types[] = {
	{ TSR_KEY_EC_P256, "ec-p256", 256 },
	{ TSR_KEY_EC_P384, "ec-p384", 384 },
	{ TSR_KEY_RSA_2048, "rsa-2048", 2048 },
	{ TSR_KEY_RSA_3072, "rsa-3072", 3072 },
	{ TSR_KEY_RSA_4096, "rsa-4096", 4096 },
};

const char *tsr_key_type_name(enum tsr_key_type t)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(key_types); i++)
		if (key_types[i].type == t)
			return key_types[i].name;
	return "none";
}

int tsr_key_type_parse(const char *s, enum tsr_key_type *out)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(key_types); i++) {
		if (strcmp(key_types[i].name, s) == 0) {
			*out = key_types[i].type;
			return 0;
		}
	}
	return tsr_error(TSR_ERR_KEY,
	    "unknown key type '%s' (use ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096)", s);
}

bool tsr_key_type_is_rsa(enum tsr_key_type t)
{
	return t == TSR_KEY_RSA_2048 || t == TSR_KEY_RSA_3072 || t == TSR_KEY_RSA_4096;
}

int tsr_key_type_bits(enum tsr_key_type t)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(key_types); i++)
		if (key_types[i].type == t)
			return key_types[i].bits;
	return 0;
}
