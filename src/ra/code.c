/*
 * code.c - verification and activation codes: random symbols in Crockford's
 * base32 with his mod-37 check symbol, read back the way humans type them,
 * stored only as keyed hashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ra/secret.h"

/* Values 0..31 are data symbols; 32..36 exist only as check symbols. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
#define DATA_SYMBOLS 32
#define CHECK_MOD 37
#define MIN_DIGITS ((TSR_CODE_MIN_BITS + 4) / 5)
#define MAX_DIGITS ((TSR_CODE_MAX_BITS + 4) / 5)
#define TYPED_MAX 256

static size_t formatted_len(size_t symbols)
{
	return symbols + (symbols - 1) / 4 + 1;  /* hyphens between groups, NUL */
}

size_t tsr_code_len(size_t bits)
{
	return formatted_len((bits + 4) / 5 + 1);
}

/* The check symbol is the value of the whole number the digits spell, mod
 * 37.  Because 37 is prime and larger than 32, it catches every single
 * substitution and every transposition of adjacent symbols. */
static uint8_t check_value(const uint8_t *sym, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v * DATA_SYMBOLS + sym[i]) % CHECK_MOD;
	return (uint8_t)v;
}

/* Render n symbol values in groups of four into out (formatted_len(n)). */
static void format_symbols(const uint8_t *sym, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[sym[i]];
	}
	out[o] = '\0';
}

int tsr_code_new(size_t bits, char *out, size_t outlen)
{
	uint8_t sym[MAX_DIGITS + 1];
	size_t digits;

	if (bits < TSR_CODE_MIN_BITS || bits > TSR_CODE_MAX_BITS)
		return tsr_error(TSR_ERR_INVALID, "a code has %d to %d bits, not %zu",
		    TSR_CODE_MIN_BITS, TSR_CODE_MAX_BITS, bits);
	if (out == NULL || outlen < tsr_code_len(bits))
		return tsr_error(TSR_ERR_INVALID, "no room for a %zu-bit code", bits);
	if (sodium_init() < 0)
		return tsr_error(TSR_ERR_INTERNAL, "libsodium could not initialise");
	digits = (bits + 4) / 5;
	randombytes_buf(sym, digits);
	for (size_t i = 0; i < digits; i++)
		sym[i] &= DATA_SYMBOLS - 1;  /* 256 is a multiple of 32: still uniform */
	sym[digits] = check_value(sym, digits);
	format_symbols(sym, digits + 1, out);
	sodium_memzero(sym, sizeof(sym));
	return 0;
}

/* The value of a typed character, or -1.  Crockford: O reads as 0, I and L
 * as 1, either case; U is only a check symbol. */
static int symbol_value(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		return 0;
	if (c == 'I' || c == 'L')
		return 1;
	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

static bool separator(char c)
{
	return c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read typed into symbol values; *n counts them, the last is the check. */
static int read_symbols(const char *typed, uint8_t *sym, size_t *n)
{
	size_t len = strnlen(typed, TYPED_MAX + 1);

	*n = 0;
	if (len > TYPED_MAX)
		return tsr_error(TSR_ERR_PARSE, "the code is too long");
	for (size_t i = 0; i < len; i++) {
		int v;

		if (separator(typed[i]))
			continue;
		if ((v = symbol_value(typed[i])) < 0)
			return tsr_error(TSR_ERR_PARSE, "the code contains a character that codes "
			    "never use");
		if (*n == MAX_DIGITS + 1)
			return tsr_error(TSR_ERR_PARSE, "the code is too long");
		sym[(*n)++] = (uint8_t)v;
	}
	if (*n < MIN_DIGITS + 1)
		return tsr_error(TSR_ERR_PARSE, "the code is too short");
	return 0;
}

int tsr_code_normalise(const char *typed, char *out, size_t outlen)
{
	uint8_t sym[MAX_DIGITS + 1];
	size_t n = 0;
	int r;

	if (typed == NULL || out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no code given");
	if ((r = read_symbols(typed, sym, &n)) != 0)
		goto out;
	for (size_t i = 0; i + 1 < n; i++) {
		if (sym[i] >= DATA_SYMBOLS) {
			r = tsr_error(TSR_ERR_PARSE, "the code has a typo");
			goto out;
		}
	}
	if (check_value(sym, n - 1) != sym[n - 1]) {
		r = tsr_error(TSR_ERR_PARSE, "the code has a typo");
		goto out;
	}
	if (outlen < formatted_len(n)) {
		r = tsr_error(TSR_ERR_INVALID, "no room for the code");
		goto out;
	}
	format_symbols(sym, n, out);
out:
	sodium_memzero(sym, sizeof(sym));
	return r;
}

/*
 * Codes are random (Tessera's carry 35 or 115 bits, never fewer than 20)
 * and the workflow locks a code after at most 100 wrong tries, so a slow
 * password hash buys nothing: the only attack left is testing guesses
 * offline against a stolen database.  An HMAC under a key kept outside the
 * database (the key file) stops that, and is fast and deterministic, so the
 * store can look a code up by its hash.
 */
int tsr_code_hash(const uint8_t key[TSR_CODE_KEY_BYTES], const char *purpose,
    const char *canonical, char out_hex[TSR_CODE_HASH_HEX])
{
	crypto_auth_hmacsha256_state st;
	char check[TYPED_MAX + 1];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	size_t plen = purpose ? strnlen(purpose, 33) : 0;
	int r = 0;

	if (key == NULL || canonical == NULL || out_hex == NULL || plen == 0 || plen > 32)
		return tsr_error(TSR_ERR_INVALID, "no key, purpose or code to hash");
	if (tsr_code_normalise(canonical, check, sizeof(check)) != 0 ||
	    strcmp(check, canonical) != 0) {
		r = tsr_error(TSR_ERR_INVALID, "the code to hash is not in canonical form");
		goto out;
	}
	/* purpose, NUL, code: no purpose is a prefix of another's input */
	crypto_auth_hmacsha256_init(&st, key, TSR_CODE_KEY_BYTES);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)purpose, plen + 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)canonical, strlen(canonical));
	crypto_auth_hmacsha256_final(&st, mac);
	tsr_hex_encode(mac, sizeof(mac), out_hex);
out:
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(check, sizeof(check));
	sodium_memzero(mac, sizeof(mac));
	return r;
}

bool tsr_code_equal(const char *hex_a, const char *hex_b)
{
	const size_t n = TSR_CODE_HASH_HEX - 1;

	if (hex_a == NULL || hex_b == NULL || strnlen(hex_a, n + 1) != n ||
	    strnlen(hex_b, n + 1) != n)
		return false;
	return sodium_memcmp(hex_a, hex_b, n) == 0;
}

/* ------------------------------------------------------------------ the key file */
static int read_key(const char *path, int fd, uint8_t key[TSR_CODE_KEY_BYTES])
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) != 0)
		return tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return tsr_error(TSR_ERR_CONFIG, "%s: the code key is not a regular file", path);
	if (st.st_uid != geteuid())
		return tsr_error(TSR_ERR_CONFIG, "%s: the code key file belongs to another user",
		    path);
	if ((st.st_mode & 077) != 0)
		return tsr_error(TSR_ERR_CONFIG, "%s: group or others may access the code key "
		    "file (chmod 600 it)", path);
	if (st.st_size != TSR_CODE_KEY_BYTES)
		return tsr_error(TSR_ERR_CONFIG, "%s: the code key file has %lld bytes, not %d",
		    path, (long long)st.st_size, TSR_CODE_KEY_BYTES);
	while (got < TSR_CODE_KEY_BYTES) {
		ssize_t n = read(fd, key + got, TSR_CODE_KEY_BYTES - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return tsr_error(TSR_ERR_IO, "%s: %s", path,
			    n < 0 ? strerror(errno) : "file shrank while reading");
		got += (size_t)n;
	}
	return 0;
}

/* Write the new key to a private temporary file and link() it into place:
 * the key appears whole or not at all, so a process starting at the same
 * moment never reads a half-written one.  TSR_ERR_EXISTS if another process
 * linked its key first (the caller then reads that one). */
static int create_key(const char *path, uint8_t key[TSR_CODE_KEY_BYTES])
{
	char *tmp = NULL;
	int fd, r = 0;

	if (sodium_init() < 0)
		return tsr_error(TSR_ERR_INTERNAL, "libsodium could not initialise");
	randombytes_buf(key, TSR_CODE_KEY_BYTES);
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((fd = mkstemp(tmp)) < 0) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, key, TSR_CODE_KEY_BYTES) != TSR_CODE_KEY_BYTES ||
	    fsync(fd) != 0)
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	close(fd);
	if (r == 0 && link(tmp, path) != 0)
		r = errno == EEXIST ? TSR_ERR_EXISTS :
		    tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	return r;
}

int tsr_code_key_load_or_create(const char *path, uint8_t key[TSR_CODE_KEY_BYTES])
{
	int r = TSR_ERR_EXISTS;

	/* Two rounds: if another process creates the file between our open()
	 * and our O_EXCL create, read the key it wrote. */
	for (int round = 0; round < 2 && r == TSR_ERR_EXISTS; round++) {
		/* O_NONBLOCK: a FIFO planted at path must not hang us. */
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0) {
			r = read_key(path, fd, key);
			close(fd);
		} else if (errno == ENOENT) {
			r = create_key(path, key);
		} else {
			r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		}
	}
	if (r != 0)
		sodium_memzero(key, TSR_CODE_KEY_BYTES);
	return r;
}
