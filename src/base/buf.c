/*
 * buf.c - bounded byte buffers and secret wiping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void tsr_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void tsr_free_secret(char *s)
{
	if (s == NULL)
		return;
	tsr_wipe(s, strlen(s));
	free(s);
}

bool tsr_equal_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a;
	const volatile uint8_t *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void tsr_buf_init(struct tsr_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void tsr_buf_init_secret(struct tsr_buf *b, size_t max)
{
	tsr_buf_init(b, max);
	b->secret = true;
}

/* Grow to hold need bytes plus a NUL, never past max + 1. */
static int buf_reserve(struct tsr_buf *b, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (need > b->max)
		return tsr_error(TSR_ERR_TOO_LARGE, "more than %zu bytes", b->max);
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = malloc(cap);
	if (p == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory (%zu bytes)", cap);
	if (b->len > 0)
		memcpy(p, b->data, b->len);
	if (b->secret)
		tsr_wipe(b->data, b->cap);
	free(b->data);
	b->data = p;
	b->cap = cap;
	return 0;
}

int tsr_buf_append(struct tsr_buf *b, const void *p, size_t n)
{
	int r;

	if (n > SIZE_MAX - b->len)
		return tsr_error(TSR_ERR_TOO_LARGE, "buffer length overflow");
	if ((r = buf_reserve(b, b->len + n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int tsr_buf_append_str(struct tsr_buf *b, const char *s)
{
	return tsr_buf_append(b, s, strlen(s));
}

int tsr_buf_vprintf(struct tsr_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n, r;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		va_end(again);
		return tsr_error(TSR_ERR_INTERNAL, "bad format string");
	}
	if ((r = buf_reserve(b, b->len + (size_t)n)) == 0) {
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return r;
}

int tsr_buf_printf(struct tsr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tsr_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int tsr_buf_cstr(struct tsr_buf *b, const char **out)
{
	int r;

	if ((r = buf_reserve(b, b->len)) != 0)
		return r;
	b->data[b->len] = '\0';
	*out = (const char *)b->data;
	return 0;
}

void tsr_buf_reset(struct tsr_buf *b)
{
	if (b->secret)
		tsr_wipe(b->data, b->cap);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void tsr_buf_free(struct tsr_buf *b)
{
	if (b->secret)
		tsr_wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
