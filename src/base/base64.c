/*
 * base64.c - strict base64 (RFC 4648 section 4: the standard alphabet with
 * padding), for what clients send us: EST bodies, HTTP Basic credentials,
 * signatures in JSON.
 *
 * Strict means one encoding per byte string: padding required and only at
 * the end, the unused bits of the last character zero, nothing outside
 * the alphabet (no spaces, no base64url, no stray '=').  OpenSSL's
 * EVP_DecodeBlock() is not used: it skips leading and trailing whitespace,
 * decodes padding as zero bytes the caller must strip, and accepts
 * non-zero unused bits.
 *
 * Decoding avoids table lookups and data-dependent branches per character
 * (a Basic header holds a password), apart from the error exits.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* The value 0..63 of a base64 character, or -1, without a table: each
 * range test is a mask. */
static int b64_value(unsigned char c)
{
	int v = -1;

	v += ((('A' - 1 - c) & (c - ('Z' + 1))) >> 8 & 0xff & (c - 'A' + 1)) & 0xff;
	v += ((('a' - 1 - c) & (c - ('z' + 1))) >> 8 & 0xff & (c - 'a' + 27)) & 0xff;
	v += ((('0' - 1 - c) & (c - ('9' + 1))) >> 8 & 0xff & (c - '0' + 53)) & 0xff;
	v += ((('+' - 1 - c) & (c - ('+' + 1))) >> 8 & 0xff & 63) & 0xff;
	v += ((('/' - 1 - c) & (c - ('/' + 1))) >> 8 & 0xff & 64) & 0xff;
	return v;
}

static char b64_char(unsigned v)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	return alphabet[v & 63];
}

/* Skip a line break at s[*i] (LF or CRLF) when lines are allowed: true if
 * one was there.  An empty line, or one at the very start, is not. */
static bool line_break(const char *s, size_t n, size_t *i, bool lines)
{
	size_t k = *i;

	if (!lines || k == 0)
		return false;
	if (s[k] == '\r' && k + 1 < n && s[k + 1] == '\n')
		k++;
	if (s[k] != '\n')
		return false;
	k++;
	if (k < n && (s[k] == '\n' || s[k] == '\r'))
		return false;
	*i = k;
	return true;
}

/* Collect the next 4 characters (skipping allowed line breaks) into q;
 * *got says how many there were before the end. */
static int quad(const char *s, size_t n, size_t *i, bool lines, char q[4], size_t *got)
{
	*got = 0;
	while (*got < 4 && *i < n) {
		if (line_break(s, n, i, lines))
			continue;
		if (s[*i] != '=' && b64_value((unsigned char)s[*i]) < 0)
			return tsr_error(TSR_ERR_PARSE, "base64: character %zu is not in the base64 "
			    "alphabet", *i + 1);
		q[(*got)++] = s[(*i)++];
	}
	return 0;
}

/* Decode one group of four characters into out (1..3 bytes in *len);
 * *last if it was padded. */
static int group(const char q[4], size_t at, uint8_t out[3], size_t *len, bool *last)
{
	int v[4];
	size_t pad = q[3] == '=' ? (q[2] == '=' ? 2 : 1) : 0;

	for (size_t k = 0; k < 4 - pad; k++)
		if ((v[k] = b64_value((unsigned char)q[k])) < 0)
			return tsr_error(TSR_ERR_PARSE, "base64: padding '=' before the end "
			    "(group at character %zu)", at);
	for (size_t k = 4 - pad; k < 4; k++)
		v[k] = 0;
	if (pad == 2 && (v[1] & 0x0f) != 0)
		return tsr_error(TSR_ERR_PARSE, "base64: the last character before the padding "
		    "has bits that must be zero");
	if (pad == 1 && (v[2] & 0x03) != 0)
		return tsr_error(TSR_ERR_PARSE, "base64: the last character before the padding "
		    "has bits that must be zero");
	out[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	out[1] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
	out[2] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
	*len = 3 - pad;
	*last = pad > 0;
	return 0;
}

int tsr_base64_decode(const char *s, size_t n, unsigned flags, uint8_t *out, size_t max,
    size_t *outlen)
{
	bool lines = (flags & TSR_BASE64_LINES) != 0, last = false;
	size_t i = 0, o = 0, got = 0, len = 0, at;
	uint8_t b[3];
	char q[4];
	int r;

	*outlen = 0;
	while (i < n) {
		if (last && line_break(s, n, &i, lines) && i == n)
			break;
		if (last) {
			r = tsr_error(TSR_ERR_PARSE, "base64: data after the padding (character %zu)",
			    i + 1);
			goto out;
		}
		at = i + 1;
		if ((r = quad(s, n, &i, lines, q, &got)) != 0)
			goto out;
		if (got == 0)
			break;           /* only a final line break was left */
		if (got < 4) {
			r = tsr_error(TSR_ERR_PARSE, "base64: the length is not a multiple of 4 "
			    "(padding missing?)");
			goto out;
		}
		if ((r = group(q, at, b, &len, &last)) != 0)
			goto out;
		if (len > max - o) {
			r = tsr_error(TSR_ERR_TOO_LARGE, "base64: more than %zu bytes", max);
			goto out;
		}
		memcpy(out + o, b, len);
		o += len;
	}
	*outlen = o;
	r = 0;
out:
	tsr_wipe(b, sizeof(b));
	tsr_wipe(q, sizeof(q));
	if (r != 0 && o > 0)
		tsr_wipe(out, o);
	return r;
}

size_t tsr_base64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

int tsr_base64_encode(const uint8_t *p, size_t n, size_t line_len, char **out, size_t *outlen)
{
	size_t chars = (n + 2) / 3 * 4, size, o = 0, col = 0;
	char *s;

	*out = NULL;
	*outlen = 0;
	if (line_len % 4 != 0)
		return tsr_error(TSR_ERR_INVALID, "base64: lines must be a multiple of 4 long");
	if (n > (SIZE_MAX / 2 - 16) / 4 * 3)
		return tsr_error(TSR_ERR_TOO_LARGE, "base64: %zu bytes are too many", n);
	size = chars + (line_len ? chars / line_len + 1 : 0) + 1;
	if ((s = malloc(size)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		s[o++] = b64_char(v >> 18);
		s[o++] = b64_char(v >> 12);
		s[o++] = i + 1 < n ? b64_char(v >> 6) : '=';
		s[o++] = i + 2 < n ? b64_char(v) : '=';
		if (line_len && (col += 4) == line_len) {
			s[o++] = '\n';
			col = 0;
		}
	}
	if (line_len && col > 0)
		s[o++] = '\n';
	s[o] = '\0';
	*out = s;
	*outlen = o;
	return 0;
}
