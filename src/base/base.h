/*
 * base.h - the lowest layer of Tessera: errors, bounded buffers, files,
 * encodings, time, randomness, secret wiping, logging and key-type names.
 *
 * Everything above includes this header; it includes nothing of Tessera's.
 */
#ifndef TSR_BASE_H
#define TSR_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TSR_MUST_CHECK __attribute__((warn_unused_result))
#define TSR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TSR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ errors
 * Fallible functions return 0 on success or one of these negative codes.
 * The code says what kind of failure it was (and so which HTTP status and
 * exit code it becomes); the thread's error detail says what exactly failed,
 * in one line a user can act on.  The code table in error.c is the only
 * place that maps codes to messages and HTTP statuses.
 */
enum tsr_err {
	TSR_OK = 0,
	TSR_ERR_NOMEM = -1,        /* out of memory */
	TSR_ERR_INVALID = -2,      /* bad argument or option from the caller */
	TSR_ERR_PARSE = -3,        /* malformed input (DER, PEM, DN, config, URI) */
	TSR_ERR_TOO_LARGE = -4,    /* input over its size cap */
	TSR_ERR_NOT_FOUND = -5,    /* no such object (product, serial, token, key) */
	TSR_ERR_EXISTS = -6,       /* the object already exists */
	TSR_ERR_IO = -7,           /* file system or OS failure */
	TSR_ERR_CRYPTO = -8,       /* OpenSSL failure */
	TSR_ERR_PKCS11 = -9,       /* PKCS#11 module or token failure */
	TSR_ERR_PIN = -10,         /* wrong or locked token PIN */
	TSR_ERR_STORE = -11,       /* database failure */
	TSR_ERR_POLICY = -12,      /* refused by the product's policy */
	TSR_ERR_LINT = -13,        /* pre-issuance lint failed */
	TSR_ERR_SIGNATURE = -14,   /* a signature does not verify */
	TSR_ERR_KEY = -15,         /* key type or size not allowed */
	TSR_ERR_CONFIG = -16,      /* configuration file invalid */
	TSR_ERR_AUDIT = -17,       /* audit chain broken */
	TSR_ERR_INTERNAL = -18,    /* a bug: an invariant did not hold */
	TSR_ERR_AUTH = -19,        /* wrong or missing credentials of a person */
	TSR_ERR_FORBIDDEN = -20,   /* authenticated, but the role does not allow it */
	TSR_ERR_LAST = -21         /* not an error; keeps the table honest */
};

/* Record a one-line detail for the calling thread and return code. */
int tsr_error(int code, const char *fmt, ...) TSR_PRINTF(2, 3);
/* Like tsr_error(), and append OpenSSL's error queue (draining it). */
int tsr_error_openssl(int code, const char *fmt, ...) TSR_PRINTF(2, 3);
/* Keep the thread's detail under a new code, prefixed by "<fmt>: " when
 * fmt is not NULL ("tessera.conf: line 3: ..."). */
int tsr_error_wrap(int code, const char *fmt, ...) TSR_PRINTF(2, 3);
/* The calling thread's last detail ("" if none). */
const char *tsr_error_detail(void);
void tsr_error_clear(void);
/* Fixed, user-facing description of a code ("unknown error" if none). */
const char *tsr_strerror(int code);
/* Short stable name of a code, e.g. "parse" (used for problem types). */
const char *tsr_error_name(int code);
/* The HTTP status a code becomes at the API. */
int tsr_error_http_status(int code);
/* The process exit status a code becomes at the CLI (1..). */
int tsr_error_exit_status(int code);

/* ------------------------------------------------------------------ buffers
 * A growable byte buffer with a hard cap: appends past max fail with
 * TSR_ERR_TOO_LARGE and leave the buffer unchanged.  A buffer marked secret
 * is wiped whenever its memory is released or moved.
 */
struct tsr_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
	bool secret;
};

void tsr_buf_init(struct tsr_buf *b, size_t max);
void tsr_buf_init_secret(struct tsr_buf *b, size_t max);
int tsr_buf_append(struct tsr_buf *b, const void *p, size_t n) TSR_MUST_CHECK;
int tsr_buf_append_str(struct tsr_buf *b, const char *s) TSR_MUST_CHECK;
int tsr_buf_printf(struct tsr_buf *b, const char *fmt, ...) TSR_PRINTF(2, 3) TSR_MUST_CHECK;
int tsr_buf_vprintf(struct tsr_buf *b, const char *fmt, va_list ap) TSR_MUST_CHECK;
/* Ensure data is NUL-terminated (not counted in len); returns data as char *. */
int tsr_buf_cstr(struct tsr_buf *b, const char **out) TSR_MUST_CHECK;
void tsr_buf_reset(struct tsr_buf *b);
void tsr_buf_free(struct tsr_buf *b);

/* Overwrite memory in a way the compiler may not elide. */
void tsr_wipe(void *p, size_t n);
/* Wipe and free a NUL-terminated secret string; NULL is fine. */
void tsr_free_secret(char *s);
/* Constant-time comparison of equal-length byte strings: true if equal. */
bool tsr_equal_ct(const void *a, const void *b, size_t n);

/* ------------------------------------------------------------------ files */
/* Read a whole file, refusing files over max bytes. */
int tsr_file_read(const char *path, size_t max, struct tsr_buf *out) TSR_MUST_CHECK;
/* Read a file that holds a secret (a PIN, a password): it must be a regular
 * file (links are not followed, FIFOs do not block) owned by this user with
 * no group or other permission bits.  These checks and the read use one
 * descriptor, so the file checked is the file read.  TSR_ERR_POLICY with a
 * sentence ("... can be read by others (mode 0644): chmod 600 it") if the
 * file is not private; out is a secret buffer (wiped when freed). */
int tsr_file_read_private(const char *path, size_t max, struct tsr_buf *out) TSR_MUST_CHECK;
/* Write a file atomically (temp file + fsync + rename) with the given mode. */
int tsr_file_write(const char *path, const void *p, size_t n, unsigned mode) TSR_MUST_CHECK;
/* Create a new file exclusively (O_EXCL) with mode; TSR_ERR_EXISTS if present. */
int tsr_file_create(const char *path, const void *p, size_t n, unsigned mode) TSR_MUST_CHECK;
bool tsr_file_exists(const char *path);
/* Remove a directory tree (used to clean up a failed init); missing is fine. */
int tsr_dir_remove_tree(const char *path) TSR_MUST_CHECK;
/* join dir and name into a newly allocated path (free()). */
int tsr_path_join(const char *dir, const char *name, char **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ encodings */
/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void tsr_hex_encode(const uint8_t *p, size_t n, char *out);
/* The value of one hex digit (either case), or -1. */
int tsr_hex_digit(int c);
/* Decode hex (either case, no separators) into out (at most max bytes). */
int tsr_hex_decode(const char *s, uint8_t *out, size_t max, size_t *outlen) TSR_MUST_CHECK;

/* Base64 (RFC 4648 section 4: the standard alphabet, with padding). */
#define TSR_BASE64_LINES 0x1u    /* decoding: line breaks (LF or CRLF) allowed */

/* Decode n characters of s strictly (base64.c): only the alphabet, '='
 * padding to a multiple of 4 characters and only at the end, the unused
 * bits of the last character zero, so that every byte string has exactly
 * one encoding.  With TSR_BASE64_LINES, line breaks may come between
 * characters and once after the last, but not first or twice in a row;
 * without it, none.  No spaces, no base64url, no missing padding.  "" is
 * zero bytes.  At most max bytes into out (TSR_ERR_TOO_LARGE; out holds at
 * most tsr_base64_decoded_max(n)); TSR_ERR_PARSE naming the position of
 * the first bad character, never the text.  Out is wiped on failure. */
int tsr_base64_decode(const char *s, size_t n, unsigned flags, uint8_t *out, size_t max,
    size_t *outlen) TSR_MUST_CHECK;
/* The most bytes n characters of base64 decode to. */
size_t tsr_base64_decoded_max(size_t n);
/* Encode n bytes as a new NUL-terminated string (free()) of *outlen
 * characters; line_len > 0 (a multiple of 4) ends every line_len
 * characters and the last line with a line feed, 0 gives one line without
 * one. */
int tsr_base64_encode(const uint8_t *p, size_t n, size_t line_len, char **out, size_t *outlen)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ time
 * All policy decisions read the time through tsr_now() so that tests can
 * inject a clock.  The CLI also honours faketime(1), which changes time(2).
 */
typedef time_t (*tsr_clock_fn)(void *ctx);
time_t tsr_now(void);
/* Install a clock (NULL restores the system clock). */
void tsr_clock_set(tsr_clock_fn fn, void *ctx);
/* Format t as RFC 3339 UTC ("2026-11-21T00:21:11Z") into out[21]. */
void tsr_time_format(time_t t, char out[21]);

/* ------------------------------------------------------------------ random */
/* Fill p with n bytes from the kernel CSPRNG (getrandom). */
int tsr_random(void *p, size_t n) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ logging */
enum tsr_log_level { TSR_LOG_ERROR, TSR_LOG_WARN, TSR_LOG_INFO, TSR_LOG_DEBUG };
void tsr_log_set_level(enum tsr_log_level level);
void tsr_log(enum tsr_log_level level, const char *fmt, ...) TSR_PRINTF(2, 3);

/* ------------------------------------------------------------------ key types
 * The key types Tessera generates, accepts and names in its config files.
 */
enum tsr_key_type {
	TSR_KEY_NONE = 0,
	TSR_KEY_EC_P256,
	TSR_KEY_EC_P384,
	TSR_KEY_RSA_2048,
	TSR_KEY_RSA_3072,
	TSR_KEY_RSA_4096,
};
#define TSR_KEY_TYPE_COUNT 6

/* "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096". */
const char *tsr_key_type_name(enum tsr_key_type t);
/* Parse a name above; TSR_ERR_KEY (with a detail) if unknown. */
int tsr_key_type_parse(const char *s, enum tsr_key_type *out) TSR_MUST_CHECK;
bool tsr_key_type_is_rsa(enum tsr_key_type t);
/* RSA modulus bits, or EC field bits (256, 384). */
int tsr_key_type_bits(enum tsr_key_type t);

/* ------------------------------------------------------------------ INI files
 * A strict parser for Tessera's configuration format:
 *   # or ; comments on their own line, [section] or [section name] headers,
 *   key = value lines (value trimmed; no quoting, no continuation lines).
 * It refuses keys outside a section, duplicate keys in a section, duplicate
 * sections, lines over 4096 bytes, NUL bytes and files over 1 MiB, naming
 * the line.  Interpretation of keys is left to the caller.
 */
struct tsr_ini_entry {
	const char *key;
	const char *value;
	int line;
};

struct tsr_ini_section {
	const char *name;   /* e.g. "ca" or "product epcs" */
	int line;
	struct tsr_ini_entry *entries;
	size_t n_entries;
};

struct tsr_ini {
	struct tsr_ini_section *sections;
	size_t n_sections;
	char *text;         /* owned copy the pointers above point into */
};

int tsr_ini_parse(const char *text, size_t len, struct tsr_ini *out) TSR_MUST_CHECK;
void tsr_ini_free(struct tsr_ini *ini);
const struct tsr_ini_section *tsr_ini_section(const struct tsr_ini *ini, const char *name);
/* The value of key in section s, or NULL. */
const char *tsr_ini_get(const struct tsr_ini_section *s, const char *key);

#endif /* TSR_BASE_H */
