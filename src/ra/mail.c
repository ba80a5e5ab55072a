/*
 * mail.c - one RFC 5322 message per call, written to a Maildir outbox and
 * relayed over SMTP through libcurl when a relay is configured.
 *
 * The bad input that matters here is header injection: a subject, an
 * address or an application id carrying CR/LF that would add a Bcc: or a
 * second body.  Every header value is checked before anything is built,
 * addresses go through the same addr-spec parser as certificate SANs, and
 * the body is quoted-printable, so no byte of user text ever starts a line
 * on its own terms.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ra/mail.h"
#include "ra/net.h"
#include "x509/x509.h"

#define ADDR_MAX 254             /* RFC 5321 path limit less the <> */
#define USER_MAX 256
#define URL_MAX 1024
#define PASSWORD_MAX 1024
/* Quoted-printable at worst triples the body and adds a soft break per 75
 * characters; headers are a few hundred bytes. */
#define MESSAGE_MAX (4 * TSR_MAIL_BODY_MAX)
#define NAME_MAX_LEN 128         /* a Maildir file name we make */
#define HOST_MAX 64              /* bytes of (escaped) host name in it */
#define QP_LINE 75               /* characters before a soft line break '=' */
/* RFC 2047: an encoded-word and the line holding it stay within 76
 * characters; "Subject: =?UTF-8?B?" + 52 base64 characters + "?=" is 73. */
#define EW_BYTES 39
#define EW_B64 52

static const char *const kinds[] = { "verification", "status", "activation", "passcode" };

/* ------------------------------------------------------------------ checks */

/* Length of the UTF-8 sequence at p (strict: no overlong forms, surrogates
 * or values past U+10FFFF), or 0 if it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	uint32_t cp;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/* s must be 1..max bytes of valid UTF-8 without control characters; a body
 * (multiline) may also hold TAB and line ends, LF or CRLF, but no lone CR.
 * CR and LF in a header value are what header injection is made of. */
static int check_text(const char *what, const char *s, size_t max, bool multiline)
{
	size_t n, k;

	if (s == NULL || (s[0] == '\0' && !multiline))
		return tsr_error(TSR_ERR_INVALID, "mail: no %s", what);
	if ((n = strnlen(s, max + 1)) > max)
		return tsr_error(TSR_ERR_TOO_LARGE, "mail: %s over %zu bytes", what, max);
	for (size_t i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		k = 1;
		if (multiline && (c == '\t' || c == '\n' || (c == '\r' && s[i + 1] == '\n')))
			continue;
		if (c < 0x20 || c == 0x7f)
			return tsr_error(TSR_ERR_INVALID, "mail: %s contains control "
			    "character 0x%02X", what, c);
		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return tsr_error(TSR_ERR_INVALID, "mail: %s is not valid UTF-8", what);
	}
	return 0;
}

/* addr must be exactly one RFC 5321 address ("a@b.example": no display
 * name, no list, no comment).  *out gets its canonical form (free()). */
static int check_addr(int code, const char *what, const char *addr, char **out)
{
	struct tsr_san san;
	char *spec = NULL;
	int rc;

	*out = NULL;
	if (addr == NULL || addr[0] == '\0')
		return tsr_error(code, "mail: no %s address", what);
	if (strnlen(addr, ADDR_MAX + 1) > ADDR_MAX)
		return tsr_error(code, "mail: %s address over %d bytes", what, ADDR_MAX);
	if (asprintf(&spec, "email:%s", addr) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	rc = tsr_san_parse(spec, &san);
	free(spec);
	if (rc != 0)
		return tsr_error_wrap(rc == TSR_ERR_NOMEM ? rc : code, "mail: %s address", what);
	*out = san.value;
	return 0;
}

static int check_kind(const char *kind)
{
	for (size_t i = 0; kind != NULL && i < TSR_ARRAY_LEN(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 0;
	return tsr_error(TSR_ERR_INVALID, "mail: kind must be verification, status, activation "
	    "or passcode");
}

static int check_application(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	if ((n = strnlen(id, TSR_MAIL_APPLICATION_MAX + 1)) == 0 || n > TSR_MAIL_APPLICATION_MAX)
		return tsr_error(TSR_ERR_INVALID, "mail: application id must be 1 to %d characters",
		    TSR_MAIL_APPLICATION_MAX);
	if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return tsr_error(TSR_ERR_INVALID, "mail: application id may hold only letters, "
		    "digits, '.', '_' and '-'");
	return 0;
}

/* Checks the message; *to gets the canonical recipient (free()). */
static int check_message(const struct tsr_mail_message *m, char **to)
{
	int rc;

	*to = NULL;
	if (m == NULL)
		return tsr_error(TSR_ERR_INVALID, "mail: no message");
	if ((rc = check_text("subject", m->subject, TSR_MAIL_SUBJECT_MAX, false)) != 0 ||
	    (rc = check_text("body", m->body, TSR_MAIL_BODY_MAX, true)) != 0 ||
	    (rc = check_kind(m->kind)) != 0 || (rc = check_application(m->application)) != 0)
		return rc;
	return check_addr(TSR_ERR_INVALID, "to", m->to, to);
}

/* The relay URL: smtp:// or smtps://, no spaces or control characters, and
 * no user:password@ (the URL appears in error details; secrets never do). */
static int check_url(const char *url)
{
	size_t n = strnlen(url, URL_MAX + 1), scheme;
	const char *auth;

	if (n > URL_MAX)
		return tsr_error(TSR_ERR_CONFIG, "mail: smtp_url over %d bytes", URL_MAX);
	if (strncasecmp(url, "smtp://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(url, "smtps://", 8) == 0)
		scheme = 8;
	else
		return tsr_error(TSR_ERR_CONFIG, "mail: smtp_url must start with smtp:// or "
		    "smtps://");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return tsr_error(TSR_ERR_CONFIG, "mail: smtp_url contains a space, control "
			    "or non-ASCII character");
	auth = url + scheme;
	if (memchr(auth, '@', strcspn(auth, "/?#")) != NULL)
		return tsr_error(TSR_ERR_CONFIG, "mail: smtp_url may not hold credentials; use "
		    "smtp_user and smtp_password_file");
	if (auth[0] == '\0' || auth[0] == '/' || auth[0] == ':')
		return tsr_error(TSR_ERR_CONFIG, "mail: smtp_url has no host");
	return 0;
}

static bool url_is_smtps(const char *url)
{
	return strncasecmp(url, "smtps://", 8) == 0;
}

static int check_relay(const struct tsr_mail_config *c)
{
	int rc;

	if ((rc = check_url(c->smtp_url)) != 0)
		return rc;
	if ((c->smtp_user == NULL) != (c->smtp_password_file == NULL))
		return tsr_error(TSR_ERR_CONFIG, "mail: set both smtp_user and smtp_password_file, "
		    "or neither");
	if (c->smtp_user == NULL)
		return 0;
	if (check_text("smtp_user", c->smtp_user, USER_MAX, false) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, NULL);
	/* Credentials over plaintext would give the relay account to anyone on
	 * the path; "no" is for a relay on loopback or a trusted network. */
	if (!url_is_smtps(c->smtp_url) && !c->smtp_starttls_required)
		return tsr_error(TSR_ERR_CONFIG, "mail: refusing to send the SMTP password without "
		    "TLS; use smtps:// or smtp_starttls = required");
	return 0;
}

/* Everything about c that can be checked without touching files; *from
 * gets the canonical sender (free()). */
static int check_config(const struct tsr_mail_config *c, char **from)
{
	int rc;

	*from = NULL;
	if (c == NULL || c->outbox_dir == NULL || c->outbox_dir[0] == '\0')
		return tsr_error(TSR_ERR_CONFIG, "mail: no outbox directory");
	if (c->timeout_seconds < 0 || c->timeout_seconds > TSR_MAIL_TIMEOUT_MAX)
		return tsr_error(TSR_ERR_CONFIG, "mail: timeout must be 0 to %d seconds",
		    TSR_MAIL_TIMEOUT_MAX);
	if (c->smtp_url != NULL && (rc = check_relay(c)) != 0)
		return rc;
	if ((rc = check_addr(TSR_ERR_CONFIG, "from", c->from, from)) != 0)
		return rc;
	return 0;
}

/* ------------------------------------------------------------------ message */

static int append_date(struct tsr_buf *b, time_t t)
{
	/* RFC 5322 names, not the locale's (strftime's %a would follow LC_TIME). */
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "mail: the clock is out of range");
	return tsr_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* Printable ASCII that fits on the Subject: line and cannot be mistaken for
 * an encoded-word goes as it is; anything else is encoded. */
static bool subject_is_plain(const char *s)
{
	size_t n = strlen(s);

	if (strlen("Subject: ") + n > 78 || strstr(s, "=?") != NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* RFC 2047 "B" encoded-words of at most EW_BYTES bytes each, never splitting
 * a UTF-8 character, one per folded line.  s is checked UTF-8. */
static int append_subject(struct tsr_buf *b, const char *s)
{
	unsigned char enc[EW_B64 + 1];
	size_t n = strlen(s), i = 0, k, len;
	int rc;

	if (subject_is_plain(s))
		return tsr_buf_printf(b, "Subject: %s\r\n", s);
	if ((rc = tsr_buf_append_str(b, "Subject:")) != 0)
		return rc;
	while (i < n) {
		for (k = 0; i + k < n; k += len) {
			len = utf8_len((const unsigned char *)s + i + k, n - i - k);
			if (len == 0)
				return tsr_error(TSR_ERR_INTERNAL, "mail: unchecked subject");
			if (k + len > EW_BYTES)
				break;
		}
		EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)k);
		if ((rc = tsr_buf_printf(b, "%s=?UTF-8?B?%s?=", i == 0 ? " " : "\r\n ",
		    (const char *)enc)) != 0)
			return rc;
		i += k;
	}
	return tsr_buf_append_str(b, "\r\n");
}

/* One byte of a quoted-printable line (RFC 2045 6.7).  Printable ASCII other
 * than '=' stays itself, so codes and URLs read as they are in the outbox;
 * space and TAB too, except at the end of a line where transports may strip
 * them; a '.' starting a line is encoded so no line is a lone SMTP ".". */
static int qp_byte(struct tsr_buf *b, size_t *col, unsigned char c, bool last)
{
	bool plain = (c > 0x20 && c < 0x7f && c != '=') || ((c == ' ' || c == '\t') && !last);
	int rc;

	if (*col + (plain ? 1 : 3) > QP_LINE) {
		if ((rc = tsr_buf_append(b, "=\r\n", 3)) != 0)
			return rc;
		*col = 0;
	}
	if (c == '.' && *col == 0)
		plain = false;
	*col += plain ? 1 : 3;
	if (plain)
		return tsr_buf_append(b, &c, 1);
	return tsr_buf_printf(b, "=%02X", c);
}

/* The body as quoted-printable lines ending in CRLF; LF or CRLF ends a
 * line of the input.  No encoded line is longer than 76 characters. */
static int append_body(struct tsr_buf *b, const char *body)
{
	const char *p = body;
	int rc;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n"), len = n, col = 0;

		if (len > 0 && p[len - 1] == '\r')
			len--;
		for (size_t i = 0; i < len; i++)
			if ((rc = qp_byte(b, &col, (unsigned char)p[i], i + 1 == len)) != 0)
				return rc;
		if ((rc = tsr_buf_append(b, "\r\n", 2)) != 0)
			return rc;
		p += n + (p[n] == '\n');
	}
	return 0;
}

/* "<32 hex digits@domain of from>": 128 random bits, unique without state. */
static int make_message_id(const char *from, char *out, size_t len)
{
	uint8_t r[16];
	char hex[2 * sizeof(r) + 1];
	int rc;

	if ((rc = tsr_random(r, sizeof(r))) != 0)
		return rc;
	tsr_hex_encode(r, sizeof(r), hex);
	snprintf(out, len, "<%s@%s>", hex, strchr(from, '@') + 1);
	return 0;
}

/* The whole message; all inputs are checked and canonical. */
static int build_message(const char *from, const char *to, const struct tsr_mail_message *m,
    const char *id, struct tsr_buf *b)
{
	int rc;

	if ((rc = append_date(b, tsr_now())) != 0 ||
	    (rc = tsr_buf_printf(b, "From: %s\r\nTo: %s\r\n", from, to)) != 0 ||
	    (rc = append_subject(b, m->subject)) != 0 ||
	    (rc = tsr_buf_printf(b, "Message-ID: %s\r\n", id)) != 0 ||
	    (rc = tsr_buf_append_str(b, "MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"Auto-Submitted: auto-generated\r\n")) != 0 ||
	    (rc = tsr_buf_printf(b, "X-Tessera-Kind: %s\r\n", m->kind)) != 0)
		return rc;
	if (m->application != NULL &&
	    (rc = tsr_buf_printf(b, "X-Tessera-Application: %s\r\n", m->application)) != 0)
		return rc;
	if ((rc = tsr_buf_append(b, "\r\n", 2)) != 0 || (rc = append_body(b, m->body)) != 0)
		return rc;
	return 0;
}

/* ------------------------------------------------------------------ outbox */

struct outbox {
	char *tmp, *new, *cur;
};

static void outbox_free(struct outbox *o)
{
	free(o->tmp);
	free(o->new);
	free(o->cur);
}

static int ensure_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return tsr_error(TSR_ERR_IO, "mail outbox %s: %s", path, strerror(errno));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return tsr_error(TSR_ERR_IO, "mail outbox %s is not a directory", path);
	return 0;
}

/* The outbox and its tmp/ new/ cur/, created 0700 when missing. */
static int outbox_open(const char *dir, struct outbox *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = ensure_dir(dir)) != 0 || (rc = tsr_path_join(dir, "tmp", &o->tmp)) != 0 ||
	    (rc = tsr_path_join(dir, "new", &o->new)) != 0 ||
	    (rc = tsr_path_join(dir, "cur", &o->cur)) != 0 || (rc = ensure_dir(o->tmp)) != 0 ||
	    (rc = ensure_dir(o->new)) != 0 || (rc = ensure_dir(o->cur)) != 0)
		outbox_free(o);
	return rc;
}

/* "<time>.R<64 random bits in hex>.<host>"; the Maildir spec asks for '/'
 * and ':' in the host name to be written as \057 and \072. */
static int unique_name(char *out, size_t len)
{
	char host[65] = "", safe[HOST_MAX + 4], hex[17];
	uint8_t r[8];
	size_t j = 0;
	int rc;

	if ((rc = tsr_random(r, sizeof(r))) != 0)
		return rc;
	tsr_hex_encode(r, sizeof(r), hex);
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		strcpy(host, "localhost");
	for (size_t i = 0; host[i] != '\0' && j < HOST_MAX; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c == '/' || c == ':') {
			memcpy(safe + j, c == '/' ? "\\057" : "\\072", 4);
			j += 4;
		} else {
			safe[j++] = (c > 0x20 && c < 0x7f) ? (char)c : '_';
		}
	}
	safe[j] = '\0';
	snprintf(out, len, "%lld.R%s.%s", (long long)tsr_now(), hex, safe);
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make a rename or link in dir durable. */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) != 0)
		r = tsr_error(TSR_ERR_IO, "mail outbox %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Write msg to tmp/NAME (0600, O_EXCL, fsync), lock it and link it into
 * new/NAME, as the Maildir spec delivers.  *fd_out is the open, locked file:
 * while it is held, tsr_mail_retry() in another thread or process skips the
 * message instead of relaying it twice.
 */
static int outbox_write(const struct outbox *o, const char *name, const struct tsr_buf *msg,
    int *fd_out)
{
	char *tmp = NULL, *dst = NULL;
	int fd = -1, r;

	*fd_out = -1;
	if ((r = tsr_path_join(o->tmp, name, &tmp)) != 0 ||
	    (r = tsr_path_join(o->new, name, &dst)) != 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = tsr_error(TSR_ERR_IO, "mail outbox %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, msg->data, msg->len) != 0 || fsync(fd) != 0 ||
	    flock(fd, LOCK_EX) != 0 || link(tmp, dst) != 0) {
		r = tsr_error(TSR_ERR_IO, "mail outbox %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	*fd_out = fd;
	fd = -1;
	r = fsync_dir(o->new);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dst);
	return r;
}

/* new/NAME -> cur/NAME:2,S: the relay has accepted it. */
static int outbox_mark_sent(const struct outbox *o, const char *name)
{
	char *src = NULL, *dst = NULL;
	int r = 0;

	if (asprintf(&dst, "%s/%s:2,S", o->cur, name) < 0) {
		dst = NULL;
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = tsr_path_join(o->new, name, &src)) != 0)
		goto out;
	if (rename(src, dst) != 0) {
		r = tsr_error(TSR_ERR_IO, "mail %s was relayed but not moved to cur/: %s", name,
		    strerror(errno));
		goto out;
	}
	if ((r = fsync_dir(o->cur)) == 0)
		r = fsync_dir(o->new);
out:
	free(src);
	free(dst);
	return r;
}

static int read_fd(int fd, const char *path, size_t max, struct tsr_buf *b)
{
	uint8_t chunk[4096];
	ssize_t n;
	int r = 0;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (tsr_buf_append(b, chunk, (size_t)n) != 0) {
			r = tsr_error(TSR_ERR_TOO_LARGE, "%s: over %zu bytes", path, max);
			break;
		}
	}
	tsr_wipe(chunk, sizeof(chunk));
	return r;
}

/* ------------------------------------------------------------------ relay */

struct relay {
	const struct tsr_mail_config *c;
	const char *from;        /* canonical sender */
	char *password;          /* secret; NULL without smtp_user */
};

/* The password: the first line of a regular file nobody but its owner may
 * read or write (0600 or stricter), since it opens the relay account. */
static int read_password(const char *path, char **out)
{
	struct tsr_buf b;
	size_t n;
	int r;

	*out = NULL;
	tsr_buf_init_secret(&b, PASSWORD_MAX + 2);
	if ((r = tsr_file_read_private(path, PASSWORD_MAX + 2, &b)) != 0) {
		r = tsr_error_wrap(TSR_ERR_CONFIG, "mail: smtp_password_file");
	} else {
		n = b.len;
		if (n > 0 && b.data[n - 1] == '\n')
			n--;
		if (n > 0 && b.data[n - 1] == '\r')
			n--;
		if (n == 0 || memchr(b.data, '\0', n) != NULL || memchr(b.data, '\n', n) != NULL)
			r = tsr_error(TSR_ERR_CONFIG, "mail: smtp_password_file %s must hold the "
			    "password on one line", path);
		else if ((*out = strndup((const char *)b.data, n)) == NULL)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	tsr_buf_free(&b);
	return r;
}

static int relay_open(const struct tsr_mail_config *c, const char *from, struct relay *rl)
{
	CURLcode cc = ra_curl_init();

	rl->c = c;
	rl->from = from;
	rl->password = NULL;
	if (cc != CURLE_OK)
		return tsr_error(TSR_ERR_IO, "mail: curl_global_init: %s", curl_easy_strerror(cc));
	if (c->smtp_password_file == NULL)
		return 0;
	return read_password(c->smtp_password_file, &rl->password);
}

static void relay_close(struct relay *rl)
{
	tsr_free_secret(rl->password);
	rl->password = NULL;
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct reader *rd = ud;
	size_t n = size * nmemb;

	if (n > rd->left)
		n = rd->left;
	memcpy(dst, rd->p, n);
	rd->p += n;
	rd->left -= n;
	return n;
}

/* Every option that decides where the bytes go and how they are protected;
 * a failure to set one stops the transfer. */
static CURLcode relay_setup(CURL *h, const struct relay *rl, const char *mail_from,
    struct curl_slist *rcpt, struct reader *rd, char *errbuf)
{
	const struct tsr_mail_config *c = rl->c;
	long timeout = c->timeout_seconds > 0 ? c->timeout_seconds : TSR_MAIL_TIMEOUT_DEFAULT;
	CURLcode cc = ra_curl_common(h, errbuf, c->smtp_url, "smtp,smtps", timeout,
	    c->smtp_ca_file);

	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_USE_SSL, c->smtp_starttls_required ?
		    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (cc == CURLE_OK && rl->password != NULL)
		cc = curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_user);
	if (cc == CURLE_OK && rl->password != NULL)
		cc = curl_easy_setopt(h, CURLOPT_PASSWORD, rl->password);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_READDATA, rd);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rd->left);
	return cc;
}

/* Hand one message (CRLF lines, as written to the outbox) to the relay for
 * one recipient.  libcurl does the SMTP dot-stuffing. */
static int relay_send(const struct relay *rl, const char *to, const uint8_t *p, size_t n)
{
	char errbuf[CURL_ERROR_SIZE] = "", *mail_from = NULL, *rcpt_to = NULL;
	struct curl_slist *rcpt = NULL;
	struct reader rd = { p, n };
	CURL *h = NULL;
	CURLcode cc;
	long reply = 0;
	int r = 0;

	if (asprintf(&mail_from, "<%s>", rl->from) < 0)
		mail_from = NULL;
	if (asprintf(&rcpt_to, "<%s>", to) < 0)
		rcpt_to = NULL;
	if (mail_from == NULL || rcpt_to == NULL ||
	    (rcpt = curl_slist_append(NULL, rcpt_to)) == NULL || (h = curl_easy_init()) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((cc = relay_setup(h, rl, mail_from, rcpt, &rd, errbuf)) == CURLE_OK)
		cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
		r = tsr_error(TSR_ERR_IO, "SMTP relay %s: %s (reply %ld)", rl->c->smtp_url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc), reply);
	}
out:
	/* libcurl keeps its own copy of the password and frees it here. */
	curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	free(mail_from);
	free(rcpt_to);
	return r;
}

/* Relay what tsr_mail_send() just wrote to new/NAME and move it to cur/. */
static int relay_new(const struct tsr_mail_config *c, const struct outbox *o, const char *name,
    const char *from, const char *to, const struct tsr_buf *msg)
{
	struct relay rl;
	int r;

	if ((r = relay_open(c, from, &rl)) == 0 && (r = relay_send(&rl, to, msg->data,
	    msg->len)) == 0)
		r = outbox_mark_sent(o, name);
	relay_close(&rl);
	return r;
}

/* ------------------------------------------------------------------ send */

/* See mail.h: the static checks, then the password file's mode and form. */
int tsr_mail_check_config(const struct tsr_mail_config *c)
{
	char *from = NULL, *password = NULL;
	int r;

	if ((r = check_config(c, &from)) == 0 && c->smtp_url != NULL &&
	    c->smtp_password_file != NULL)
		r = read_password(c->smtp_password_file, &password);
	tsr_free_secret(password);
	free(from);
	return r;
}

/*
 * See mail.h.  Everything is checked and the message built in memory before
 * the outbox is touched; after the outbox copy exists, only the relay can
 * fail, and then the copy stays in new/ for tsr_mail_retry().
 */
int tsr_mail_send(const struct tsr_mail_config *c, const struct tsr_mail_message *m,
    char *message_id_out, size_t len)
{
	char *from = NULL, *to = NULL, id[TSR_MAIL_ID_MAX], name[NAME_MAX_LEN];
	struct outbox o = { 0 };
	struct tsr_buf msg;
	int fd = -1, r;

	tsr_buf_init_secret(&msg, MESSAGE_MAX);
	if (message_id_out != NULL && len > 0)
		message_id_out[0] = '\0';
	if ((r = check_config(c, &from)) != 0 || (r = check_message(m, &to)) != 0 ||
	    (r = make_message_id(from, id, sizeof(id))) != 0)
		goto out;
	if (message_id_out != NULL && strlen(id) >= len) {
		r = tsr_error(TSR_ERR_INVALID, "mail: message id buffer of %zu bytes is too small",
		    len);
		goto out;
	}
	if ((r = build_message(from, to, m, id, &msg)) != 0 ||
	    (r = outbox_open(c->outbox_dir, &o)) != 0 ||
	    (r = unique_name(name, sizeof(name))) != 0 ||
	    (r = outbox_write(&o, name, &msg, &fd)) != 0)
		goto out;
	if (message_id_out != NULL)
		snprintf(message_id_out, len, "%s", id);
	if (c->smtp_url != NULL)
		r = relay_new(c, &o, name, from, to, &msg);
out:
	if (fd >= 0)
		close(fd);
	outbox_free(&o);
	tsr_buf_free(&msg);
	free(from);
	free(to);
	return r;
}

/* ------------------------------------------------------------------ retry */

/* The recipient of a message we wrote: its "To: " header, checked again. */
static int find_rcpt(const struct tsr_buf *msg, const char *path, char **to)
{
	const char *p = (const char *)msg->data, *end = p + msg->len, *eol;
	char addr[ADDR_MAX + 1];

	*to = NULL;
	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL || eol == p)
			break; /* the end of the header */
		if (eol - p > 4 && memcmp(p, "To: ", 4) == 0 && eol - p - 4 <= ADDR_MAX) {
			memcpy(addr, p + 4, (size_t)(eol - p - 4));
			addr[eol - p - 4] = '\0';
			return check_addr(TSR_ERR_PARSE, path, addr, to);
		}
	}
	return tsr_error(TSR_ERR_PARSE, "mail: %s has no To: header", path);
}

/* Relay new/NAME unless someone else holds it; 1 means skipped. */
static int retry_one(const struct relay *rl, const struct outbox *o, const char *name)
{
	struct stat st, now;
	struct tsr_buf msg;
	char *path = NULL, *to = NULL;
	int fd = -1, r;

	tsr_buf_init_secret(&msg, MESSAGE_MAX);
	if ((r = tsr_path_join(o->new, name, &path)) != 0)
		goto out;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? 1 : tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Held by a sender or another retry, or moved to cur/ since readdir:
	 * theirs to finish. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
	    stat(path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		r = 1;
		goto out;
	}
	if ((r = read_fd(fd, path, MESSAGE_MAX, &msg)) != 0 ||
	    (r = find_rcpt(&msg, path, &to)) != 0 ||
	    (r = relay_send(rl, to, msg.data, msg.len)) != 0)
		goto out;
	r = outbox_mark_sent(o, name);
out:
	if (fd >= 0)
		close(fd);
	tsr_buf_free(&msg);
	free(path);
	free(to);
	return r;
}

static int retry_all(const struct relay *rl, const struct outbox *o, int *sent, int *failed)
{
	struct dirent *de;
	DIR *d;
	int r;

	if ((d = opendir(o->new)) == NULL)
		return tsr_error(TSR_ERR_IO, "mail outbox %s: %s", o->new, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((r = retry_one(rl, o, de->d_name)) == 0)
			(*sent)++;
		else if (r < 0)
			(*failed)++;
	}
	closedir(d);
	if (*failed > 0)
		return tsr_error_wrap(TSR_ERR_IO, "mail: %d message(s) not relayed, the last",
		    *failed);
	return 0;
}

/* See mail.h: one pass over new/ with the password read once. */
int tsr_mail_retry(const struct tsr_mail_config *c, int *sent, int *failed)
{
	struct outbox o = { 0 };
	struct relay rl = { 0 };
	char *from = NULL;
	int r;

	*sent = *failed = 0;
	if ((r = check_config(c, &from)) != 0)
		goto out;
	if (c->smtp_url == NULL) {
		r = tsr_error(TSR_ERR_CONFIG, "mail: no SMTP relay configured (smtp_url)");
		goto out;
	}
	if ((r = outbox_open(c->outbox_dir, &o)) == 0 && (r = relay_open(c, from, &rl)) == 0)
		r = retry_all(&rl, &o, sent, failed);
out:
	relay_close(&rl);
	outbox_free(&o);
	free(from);
	return r;
}

/* ------------------------------------------------------------------ list */

#define LIST_CHUNK 512           /* bytes read at a time: little of a body is read */
#define LIST_VALUE_MAX TSR_MAIL_ID_MAX   /* bytes of a header value kept, NUL included */

struct list_item {
	struct tsr_mail_entry e;     /* its strings point at the ones below */
	char *name, *to, *kind, *application, *message_id;
	struct timespec mtime;       /* orders messages of the same second */
};

struct list {
	struct list_item *items;
	size_t n, cap;
};

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct list_item *it = &l->items[i];

		free(it->name);
		free(it->to);
		free(it->kind);
		free(it->application);
		free(it->message_id);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* A new, zeroed item at the end of l. */
static int list_add(struct list *l, struct list_item **out)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct list_item *p = reallocarray(l->items, cap, sizeof(*p));

		if (p == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		l->items = p;
		l->cap = cap;
	}
	*out = &l->items[l->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* The offset of the empty line that ends the header in p[0..n), or n. */
static size_t header_end(const uint8_t *p, size_t n)
{
	if (n > 0 && (p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n')))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '\n' ||
		    (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')))
			return i + 1;
	return n;
}

/* Read fd into buf in small chunks until the header has ended or max bytes
 * are in; *len is what was read (the caller wipes it), *hlen the header's
 * length within it. */
static int read_header(int fd, uint8_t *buf, size_t max, size_t *len, size_t *hlen)
{
	ssize_t k;

	*len = *hlen = 0;
	while (*len < max) {
		size_t want = max - *len < LIST_CHUNK ? max - *len : LIST_CHUNK;

		if ((k = read(fd, buf + *len, want)) < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		*len += (size_t)k;
		if ((*hlen = header_end(buf, *len)) < *len)
			return 0;
	}
	*hlen = header_end(buf, *len);
	return 0;
}

/* If line (n bytes, no line end) is header name, *out gets its value (first
 * one only): blanks around it trimmed, anything but printable ASCII as '?',
 * at most LIST_VALUE_MAX - 1 bytes. */
static int header_field(const char *line, size_t n, const char *name, char **out)
{
	size_t nl = strlen(name), i, j, k;
	char *v;

	if (*out != NULL || n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	for (i = nl + 1; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	while (n > i && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n - i > LIST_VALUE_MAX - 1)
		n = i + LIST_VALUE_MAX - 1;
	if ((v = malloc(n - i + 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (j = i, k = 0; j < n; j++, k++)
		v[k] = (line[j] >= 0x20 && line[j] < 0x7f) ? line[j] : '?';
	v[k] = '\0';
	*out = v;
	return 0;
}

/* "Tue, 14 Nov 2023 22:13:20 +0000" (the day name optional, any +-HHMM
 * zone) as seconds since the epoch. */
static bool parse_date(const char *v, time_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm = { 0 };
	char mon[4] = "", sign = 0;
	int d, y, h, m, s, zone;
	const char *p;

	if (strlen(v) > 4 && v[3] == ',')
		v += 4;
	if (sscanf(v, " %2d %3s %4d %2d:%2d:%2d %c%4d", &d, mon, &y, &h, &m, &s, &sign,
	    &zone) != 8 || strlen(mon) != 3 || (p = strstr(months, mon)) == NULL ||
	    (p - months) % 3 != 0 || d < 1 || d > 31 || y < 1970 || h > 23 || m > 59 ||
	    s > 60 || h < 0 || m < 0 || s < 0 || (sign != '+' && sign != '-') || zone < 0 ||
	    zone % 100 > 59 || zone / 100 > 14)
		return false;
	tm.tm_mday = d;
	tm.tm_mon = (int)((p - months) / 3);
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	*out = timegm(&tm) - (sign == '-' ? -1 : 1) * ((zone / 100) * 3600 + (zone % 100) * 60);
	return true;
}

/* The fields listed, from the header h (n bytes; folded lines ignored). */
static int parse_header(const char *h, size_t n, struct list_item *it)
{
	const char *p = h, *end = h + n, *eol;
	char *date = NULL;
	int r = 0;

	while (r == 0 && p < end) {
		size_t len;

		eol = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((eol != NULL ? eol : end) - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if ((r = header_field(p, len, "To", &it->to)) != 0 ||
		    (r = header_field(p, len, "X-Tessera-Kind", &it->kind)) != 0 ||
		    (r = header_field(p, len, "X-Tessera-Application", &it->application)) != 0 ||
		    (r = header_field(p, len, "Message-ID", &it->message_id)) != 0 ||
		    (r = header_field(p, len, "Date", &date)) != 0)
			break;
		p = eol != NULL ? eol + 1 : end;
	}
	/* Without a Date: it understands, a message keeps its file's mtime. */
	if (r == 0 && date != NULL)
		(void)parse_date(date, &it->e.time);
	free(date);
	return r;
}

/* Read the header of dir's file name, opened as dfd sees it, into it; what
 * keeps it from being read goes to it->e.problem.  1: the file is gone
 * (moved to cur/ since readdir). */
static int list_read(int dfd, const char *name, struct list_item *it)
{
	uint8_t buf[TSR_MAIL_LIST_HEADER_MAX];
	struct stat st;
	size_t len = 0, hlen = 0;
	int fd, r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 1;
		it->e.problem = "cannot be examined";
		return 0;
	}
	it->e.time = st.st_mtime;
	it->mtime = st.st_mtim;
	if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
		it->e.problem = S_ISLNK(st.st_mode) ? "a symbolic link: not read" :
		    "not a regular file: not read";
		return 0;
	}
	/* O_NONBLOCK: should it have become a FIFO since fstatat, do not wait. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		it->e.problem = errno == ELOOP ? "a symbolic link: not read" : "cannot be opened";
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		it->e.problem = "not a regular file: not read";
	else if (read_header(fd, buf, sizeof(buf), &len, &hlen) != 0)
		it->e.problem = "cannot be read";
	else
		r = parse_header((const char *)buf, hlen, it);
	/* What was read past the header may be the start of a code. */
	tsr_wipe(buf, len);
	close(fd);
	return r;
}

/* Why dir could not be opened as a directory (errno set by the attempt):
 * 0 if it does not exist. */
static int open_dir_error(const char *dir)
{
	int e = errno;
	struct stat st;

	if (e == ENOENT)
		return 0;
	/* O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a link to a directory. */
	if ((e == ELOOP || e == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		return tsr_error(TSR_ERR_IO, "mail outbox %s is a symbolic link: not read", dir);
	return tsr_error(TSR_ERR_IO, "mail outbox %s: %s", dir, strerror(e));
}

/* Every file of outbox/sub into l; a missing sub lists nothing. */
static int list_dir(struct list *l, const char *outbox, const char *sub, bool sent)
{
	struct list_item *it = NULL;
	struct dirent *de;
	char *dir = NULL;
	DIR *d = NULL;
	int dfd, r;

	if ((r = tsr_path_join(outbox, sub, &dir)) != 0)
		return r;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dfd)) == NULL) {
		r = open_dir_error(dir);
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (r = list_add(l, &it)) != 0)
			continue;
		it->e.sent = sent;
		if ((it->name = strdup(de->d_name)) == NULL)
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		else if ((r = list_read(dirfd(d), de->d_name, it)) == 1) {
			r = 0;   /* gone since readdir: not listed */
			free(it->name);
			l->n--;
		}
	}
out:
	if (d != NULL)
		closedir(d);
	free(dir);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;
	int c;

	if (x->e.time != y->e.time)
		return x->e.time < y->e.time ? -1 : 1;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return (int)x->e.sent - (int)y->e.sent;
}

/* See mail.h: new/ before cur/, so that a message a retry moves meanwhile
 * is listed twice rather than not at all. */
int tsr_mail_list(const char *outbox_dir, tsr_mail_list_fn fn, void *ctx)
{
	struct list l = { 0 };
	int r;

	if (outbox_dir == NULL || outbox_dir[0] == '\0' || fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "mail: no outbox directory");
	if ((r = list_dir(&l, outbox_dir, "new", false)) == 0 &&
	    (r = list_dir(&l, outbox_dir, "cur", true)) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			struct list_item *it = &l.items[i];

			it->e.name = it->name;
			it->e.to = it->to;
			it->e.kind = it->kind;
			it->e.application = it->application;
			it->e.message_id = it->message_id;
		}
		if (l.n > 1)
			qsort(l.items, l.n, sizeof(*l.items), entry_cmp);
		for (size_t i = 0; r == 0 && i < l.n; i++)
			r = fn(&l.items[i].e, ctx);
	}
	list_free(&l);
	return r;
}
