/*
 * secret.c - passwords (NIST SP 800-63B 5.1.1.2), Argon2id hashing of
 * passwords and secret answers, answer normalisation, a UTF-8 decoder.
 */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "ra/secret.h"

#define ANSWER_MAX_INPUT 1024

struct tsr_password_list {
	char *text;         /* owned, lower-cased copy; entries point into it */
	char **entries;     /* sorted with strcmp() for bsearch() */
	size_t n;
};

/* ------------------------------------------------------------------ UTF-8 */
int tsr_utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp)
{
	const uint8_t *p;
	size_t len, left;
	uint32_t c, min;

	if (*i >= n)
		return -1;
	p = (const uint8_t *)s + *i;
	left = n - *i;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		*i += 1;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return -1;  /* continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
	}
	if (left < len)
		return -1;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*i += len;
	return 0;
}

bool tsr_utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ------------------------------------------------------------------ the list */
static int cmp_entry(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split l->text (NUL-terminated, len bytes) into entries in place. */
static void split_lines(struct tsr_password_list *l, size_t len)
{
	char *line = l->text, *end = l->text + len;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *stop = nl ? nl : end;

		*stop = '\0';
		if (stop > line && stop[-1] == '\r')
			stop[-1] = '\0';
		if (line[0] != '\0' && line[0] != '#') {
			for (char *c = line; *c; c++)
				*c = ascii_lower(*c);
			l->entries[l->n++] = line;
		}
		line = stop + 1;
	}
}

int tsr_password_list_parse(const char *text, size_t len, struct tsr_password_list **out)
{
	struct tsr_password_list *l;
	size_t lines = 1;

	*out = NULL;
	if (len > TSR_PASSWORD_LIST_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the password list is over %u bytes",
		    TSR_PASSWORD_LIST_MAX);
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return tsr_error(TSR_ERR_PARSE, "the password list contains a NUL byte");
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	l->text = malloc(len + 1);
	l->entries = calloc(lines, sizeof(*l->entries));
	if (l->text == NULL || l->entries == NULL) {
		tsr_password_list_free(l);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	if (len > 0)
		memcpy(l->text, text, len);
	l->text[len] = '\0';
	split_lines(l, len);
	qsort(l->entries, l->n, sizeof(*l->entries), cmp_entry);
	*out = l;
	return 0;
}

int tsr_password_list_load(const char *path, struct tsr_password_list **out)
{
	struct tsr_buf b;
	int r;

	*out = NULL;
	tsr_buf_init(&b, TSR_PASSWORD_LIST_MAX);
	if ((r = tsr_file_read(path, TSR_PASSWORD_LIST_MAX, &b)) == 0 &&
	    (r = tsr_password_list_parse((const char *)b.data, b.len, out)) != 0)
		r = tsr_error_wrap(r, "%s", path);
	tsr_buf_free(&b);
	return r;
}

void tsr_password_list_free(struct tsr_password_list *list)
{
	if (list == NULL)
		return;
	free(list->entries);
	free(list->text);
	free(list);
}

size_t tsr_password_list_count(const struct tsr_password_list *list)
{
	return list ? list->n : 0;
}

/* The shipped list, compiled in from data/common-passwords.txt. */
extern const char tsr_password_list_builtin_text[];
extern const size_t tsr_password_list_builtin_text_len;

int tsr_password_list_builtin(struct tsr_password_list **out)
{
	return tsr_password_list_parse(tsr_password_list_builtin_text,
	    tsr_password_list_builtin_text_len, out);
}

/* ------------------------------------------------------------------ password rules */
/* Decode pw into code points with ASCII letters folded to lower case. */
static int decode_password(const char *pw, size_t n, uint32_t *cps, size_t *ncp)
{
	size_t i = 0;

	*ncp = 0;
	while (i < n) {
		uint32_t c;

		if (tsr_utf8_next(pw, n, &i, &c) != 0)
			return tsr_error(TSR_ERR_POLICY, "the password is not valid UTF-8 text");
		if (tsr_utf8_is_control(c))
			return tsr_error(TSR_ERR_POLICY, "the password contains a control "
			    "character");
		cps[(*ncp)++] = (c < 0x80) ? (uint32_t)ascii_lower((char)c) : c;
	}
	return 0;
}

static bool on_list(const struct tsr_password_list *list, const char *low)
{
	return bsearch(&low, list->entries, list->n, sizeof(*list->entries), cmp_entry) != NULL;
}

/* Rows of a US keyboard, unshifted and shifted (letters already folded). */
static const char *const keyboard_rows[] = {
	"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
	"~!@#$%^&*()_+", "qwertyuiop{}|", "asdfghjkl:\"", "zxcvbnm<>?",
};

static bool keyboard_adjacent(uint32_t a, uint32_t b)
{
	if (a == 0 || a >= 0x80 || b >= 0x80)
		return false;
	for (size_t r = 0; r < TSR_ARRAY_LEN(keyboard_rows); r++) {
		const char *row = keyboard_rows[r], *p = strchr(row, (int)a);

		if (p != NULL && ((p[1] != '\0' && (uint32_t)p[1] == b) ||
		    (p > row && (uint32_t)p[-1] == b)))
			return true;
	}
	return false;
}

/* A step a guesser walks for free: the same character again, the next or
 * previous one in code-point order, or a neighbour on a keyboard row. */
static bool predictable_step(uint32_t a, uint32_t b)
{
	return a == b || a + 1 == b || b + 1 == a || keyboard_adjacent(a, b);
}

/*
 * SP 800-63B names "repetitive or sequential characters (e.g. 'aaaaaa',
 * '1234abcd')".  Refused: a password that splits into at most two runs of
 * predictable steps ("aaaaaaaa", "12345678", "qwertyui", "1234abcd",
 * "abababab") or that repeats a unit of at most four characters
 * ("passpass", "1qaz1qaz").
 */
static bool is_repetitive(const uint32_t *cps, size_t n)
{
	size_t runs = 1;

	for (size_t i = 1; i < n; i++)
		runs += !predictable_step(cps[i - 1], cps[i]);
	if (runs <= 2)
		return true;
	for (size_t p = 1; p <= 4 && 2 * p <= n; p++) {
		size_t i = p;

		while (i < n && cps[i] == cps[i - p])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

static size_t count_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((uint8_t)s[i] & 0xc0) != 0x80;
	return k;
}

/* Does low (the folded password, n bytes) contain word (len bytes), folded,
 * when word has at least TSR_CONTEXT_WORD_MIN characters? */
static bool contains_word(const char *low, size_t n, const char *word, size_t len)
{
	char folded[TSR_SECRET_MAX_BYTES];

	if (len > n || count_chars(word, len) < TSR_CONTEXT_WORD_MIN)
		return false;
	for (size_t i = 0; i < len; i++)
		folded[i] = ascii_lower(word[i]);
	return memmem(low, n, folded, len) != NULL;
}

static bool word_separator(char c)
{
	return (uint8_t)c < 0x80 && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
	    !(c >= '0' && c <= '9');
}

/* Each context string is tried whole and in pieces split at ASCII
 * punctuation and spaces: "jane.doe" gives "jane.doe" and "jane". */
static bool has_context_word(const char *low, size_t n, const char *const *context,
    size_t n_context)
{
	for (size_t c = 0; c < n_context; c++) {
		const char *w = context[c];
		size_t wl, start = 0;

		if (w == NULL)
			continue;
		wl = strlen(w);
		if (contains_word(low, n, w, wl))
			return true;
		for (size_t k = 0; k <= wl; k++) {
			if (k < wl && !word_separator(w[k]))
				continue;
			if (contains_word(low, n, w + start, k - start))
				return true;
			start = k + 1;
		}
	}
	return false;
}

int tsr_password_check(const struct tsr_password_list *list, const char *pw,
    const char *const *context, size_t n_context)
{
	uint32_t cps[TSR_SECRET_MAX_BYTES];
	char low[TSR_SECRET_MAX_BYTES + 1];
	size_t n, ncp = 0;
	int r;

	if (list == NULL || pw == NULL)
		return tsr_error(TSR_ERR_INVALID, "no password or no common-password list given");
	n = strnlen(pw, TSR_SECRET_MAX_BYTES + 1);
	if (n > TSR_SECRET_MAX_BYTES)
		return tsr_error(TSR_ERR_POLICY, "the password is longer than %d bytes",
		    TSR_SECRET_MAX_BYTES);
	if ((r = decode_password(pw, n, cps, &ncp)) != 0)
		goto out;
	if (ncp < TSR_PASSWORD_MIN_CHARS) {
		r = tsr_error(TSR_ERR_POLICY, "the password is shorter than %d characters",
		    TSR_PASSWORD_MIN_CHARS);
		goto out;
	}
	for (size_t i = 0; i <= n; i++)
		low[i] = ascii_lower(pw[i]);
	if (on_list(list, low))
		r = tsr_error(TSR_ERR_POLICY, "the password is on a list of common passwords");
	else if (is_repetitive(cps, ncp))
		r = tsr_error(TSR_ERR_POLICY, "the password is made of repeated or sequential "
		    "characters");
	else if (context != NULL && has_context_word(low, n, context, n_context))
		r = tsr_error(TSR_ERR_POLICY, "the password contains your name, your email "
		    "address or the name of this service");
out:
	tsr_wipe(cps, sizeof(cps));
	tsr_wipe(low, sizeof(low));
	return r;
}

/* ------------------------------------------------------------------ Argon2id */
static bool fast_cost;

static unsigned long long opslimit(void)
{
	return fast_cost ? crypto_pwhash_argon2id_OPSLIMIT_MIN :
	    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

static size_t memlimit(void)
{
	return fast_cost ? crypto_pwhash_argon2id_MEMLIMIT_MIN :
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

void tsr_secret_set_cost(bool fast)
{
	fast_cost = fast;
}

static int sodium_ready(void)
{
	/* sodium_init() is idempotent and thread-safe; 1 means "already done". */
	if (sodium_init() < 0)
		return tsr_error(TSR_ERR_INTERNAL, "libsodium could not initialise");
	return 0;
}

/*
 * Argon2id is memory-hard on purpose: 64 MiB a call.  Without a bound, a
 * burst of logins on the server's many threads would need gigabytes; with
 * it, extra callers wait their turn.  Two per core keeps the cores busy.
 * Turns are taken in order of arrival (a ticket each), so no caller waits
 * while later ones go ahead.
 */
static pthread_mutex_t argon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t argon_free = PTHREAD_COND_INITIALIZER;
static unsigned long argon_tickets;   /* handed out */
static unsigned long argon_done;      /* finished */

static unsigned long argon_max(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 2 : 2 * (unsigned long)n;
}

static void argon_enter(void)
{
	unsigned long ticket;

	pthread_mutex_lock(&argon_lock);
	ticket = argon_tickets++;
	/* Ticket t runs once fewer than max of the ones before it are running:
	 * t - done counts the callers ahead of it that have not finished. */
	while (ticket - argon_done >= argon_max())
		pthread_cond_wait(&argon_free, &argon_lock);
	pthread_mutex_unlock(&argon_lock);
}

static void argon_leave(void)
{
	pthread_mutex_lock(&argon_lock);
	argon_done++;
	pthread_cond_broadcast(&argon_free);
	pthread_mutex_unlock(&argon_lock);
}

/* crypto_pwhash_argon2id_str rather than crypto_pwhash_str so that the
 * algorithm is Argon2id whatever libsodium's default becomes. */
int tsr_secret_hash(const char *secret, char out[TSR_SECRET_HASH_BYTES])
{
	size_t n;
	int r;

	if (secret == NULL || out == NULL)
		return tsr_error(TSR_ERR_INVALID, "no secret to hash");
	n = strnlen(secret, TSR_SECRET_MAX_BYTES + 1);
	if (n == 0 || n > TSR_SECRET_MAX_BYTES)
		return tsr_error(TSR_ERR_INVALID, "a secret must be 1 to %d bytes long",
		    TSR_SECRET_MAX_BYTES);
	if ((r = sodium_ready()) != 0)
		return r;
	argon_enter();
	r = crypto_pwhash_argon2id_str(out, secret, n, opslimit(), memlimit());
	argon_leave();
	if (r != 0)
		return tsr_error(TSR_ERR_NOMEM, "Argon2id could not get its memory");
	return 0;
}

static bool is_argon2id(const char *hash)
{
	const char *prefix = crypto_pwhash_argon2id_STRPREFIX;

	return strnlen(hash, TSR_SECRET_HASH_BYTES) < TSR_SECRET_HASH_BYTES &&
	    strncmp(hash, prefix, strlen(prefix)) == 0;
}

int tsr_secret_verify(const char *hash, const char *secret)
{
	size_t n;
	int r;

	if (hash == NULL || secret == NULL)
		return tsr_error(TSR_ERR_INVALID, "no hash or no secret to verify");
	if (!is_argon2id(hash))
		return tsr_error(TSR_ERR_PARSE, "the stored secret hash is not an Argon2id string");
	if ((r = sodium_ready()) != 0)
		return r;
	/* Nothing outside 1..TSR_SECRET_MAX_BYTES was ever hashed. */
	n = strnlen(secret, TSR_SECRET_MAX_BYTES + 1);
	if (n == 0 || n > TSR_SECRET_MAX_BYTES)
		return tsr_error(TSR_ERR_SIGNATURE, "the secret does not match");
	argon_enter();
	r = crypto_pwhash_argon2id_str_verify(hash, secret, n);
	argon_leave();
	if (r != 0)
		return tsr_error(TSR_ERR_SIGNATURE, "the secret does not match");
	return 0;
}

bool tsr_secret_needs_rehash(const char *hash)
{
	if (hash == NULL || !is_argon2id(hash) || sodium_ready() != 0)
		return true;
	return crypto_pwhash_argon2id_str_needs_rehash(hash, opslimit(), memlimit()) != 0;
}

/* ------------------------------------------------------------------ answers */
/* Copy one decoded character of in[start..end) to buf at *o, folding ASCII. */
static void put_char(char *buf, size_t *o, const char *in, size_t start, size_t end)
{
	if (end - start == 1) {
		buf[(*o)++] = ascii_lower(in[start]);
	} else {
		memcpy(buf + *o, in + start, end - start);
		*o += end - start;
	}
}

int tsr_answer_normalise(const char *in, char **out)
{
	size_t n, i = 0, o = 0;
	bool pending_space = false;
	char *buf = NULL;
	int r = 0;

	*out = NULL;
	if (in == NULL)
		return tsr_error(TSR_ERR_INVALID, "no secret answer given");
	n = strnlen(in, ANSWER_MAX_INPUT + 1);
	if (n > ANSWER_MAX_INPUT)
		return tsr_error(TSR_ERR_POLICY, "a secret answer is longer than %d bytes",
		    ANSWER_MAX_INPUT);
	if ((buf = malloc(n + 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	while (i < n) {
		size_t start = i;
		uint32_t c;

		if (tsr_utf8_next(in, n, &i, &c) != 0) {
			r = tsr_error(TSR_ERR_POLICY, "a secret answer is not valid UTF-8 text");
			goto out;
		}
		if (ascii_space(c)) {
			pending_space = o > 0;  /* leading space is dropped */
			continue;
		}
		if (tsr_utf8_is_control(c)) {
			r = tsr_error(TSR_ERR_POLICY, "a secret answer contains a control "
			    "character");
			goto out;
		}
		if (pending_space)
			buf[o++] = ' ';
		pending_space = false;
		put_char(buf, &o, in, start, i);
	}
	buf[o] = '\0';
	if (o == 0)
		r = tsr_error(TSR_ERR_POLICY, "a secret answer must not be empty");
	else if (o > TSR_SECRET_MAX_BYTES)
		r = tsr_error(TSR_ERR_POLICY, "a secret answer is longer than %d bytes",
		    TSR_SECRET_MAX_BYTES);
out:
	if (r == 0) {
		*out = buf;
	} else {
		tsr_wipe(buf, n + 1);
		free(buf);
	}
	return r;
}
