/*
 * test_mail.c - the Maildir outbox and the SMTP relay.
 *
 * The relay tests run a real SMTP server: Debian's python3-aiosmtpd with its
 * Maildir handler, on a loopback port, stopped and started again to show
 * what happens when the relay is down.  They are skipped (with a message)
 * where aiosmtpd or the openssl program is not installed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/base.h"
#include "ra/mail.h"

#define FROM "ca@tessera.example"
#define TO "jane.doe@example.org"
#define RELAY_USER "relay"
#define RELAY_PASSWORD "s3cret-relay-pw"

/* aiosmtpd's own entry point, with its default-deny AUTH callback swapped
 * for one that accepts exactly one account, as a real relay would. */
static const char smtpd_script[] =
    "import sys, aiosmtpd.smtp as s\n"
    "s.login_always_fail = lambda m, l, p: (l, p) == (b'" RELAY_USER "', b'" RELAY_PASSWORD "')\n"
    "from aiosmtpd.main import main\n"
    "main(sys.argv[1:])\n";

static const char *python;
static bool have_smtpd, have_openssl;

struct smtpd {
	pid_t pid;
	int port;
	char maildir[256];
	char url[64];
};

struct fx {
	char dir[64];
	char outbox[128];
	char cert[128], key[128];
	struct smtpd srv;
};

/* ------------------------------------------------------------------ helpers */

static time_t fixed_clock(void *ctx)
{
	return *(const time_t *)ctx;
}

static char *path_of(const char *dir, const char *name)
{
	char *p = NULL;

	assert_int_equal(tsr_path_join(dir, name, &p), 0);
	return p;
}

/* Names in dir (not starting with '.'), or -1 if dir does not exist; the
 * first one goes into first (if not NULL). */
static int count_files(const char *dir, char *first, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, len, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static int count_sub(const char *maildir, const char *sub)
{
	char *p = path_of(maildir, sub);
	int n = count_files(p, NULL, 0);

	free(p);
	return n;
}

/* The path of the one file in maildir/sub (free()). */
static char *only_file(const char *maildir, const char *sub)
{
	char name[256], *d = path_of(maildir, sub), *p;

	assert_int_equal(count_files(d, name, sizeof(name)), 1);
	p = path_of(d, name);
	free(d);
	return p;
}

static char *slurp(const char *path)
{
	struct tsr_buf b;
	const char *s;
	char *copy;

	tsr_buf_init(&b, 1 << 20);
	assert_int_equal(tsr_file_read(path, 1 << 20, &b), 0);
	assert_int_equal(tsr_buf_cstr(&b, &s), 0);
	copy = strdup(s);
	tsr_buf_free(&b);
	assert_non_null(copy);
	return copy;
}

/* LF -> CRLF, for messages the server stored with Unix line ends. */
static char *to_crlf(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *q = out;

	assert_non_null(out);
	for (; *s; s++) {
		if (*s == '\n')
			*q++ = '\r';
		*q++ = *s;
	}
	*q = '\0';
	return out;
}

/* Text as the outbox holds it: every line, the last one too, ends in CRLF. */
static char *crlf_text(const char *s)
{
	char *out = malloc(2 * strlen(s) + 3), *q = out;

	assert_non_null(out);
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n')
			*q++ = '\r';
		*q++ = *s;
	}
	if (q > out && q[-1] != '\n') {
		*q++ = '\r';
		*q++ = '\n';
	}
	*q = '\0';
	return out;
}

/* The value of header name (folded lines joined, the CRLF dropped), or NULL. */
static char *header(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg, *eol;

	for (; *p != '\0' && strncmp(p, "\r\n", 2) != 0; p = eol + 2) {
		assert_non_null(eol = strstr(p, "\r\n"));
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			struct tsr_buf v;
			const char *q = p + nl + 1, *s;
			char *out;

			tsr_buf_init(&v, 4096);
			q += (*q == ' ');
			for (;;) {
				assert_int_equal(tsr_buf_append(&v, q, (size_t)(eol - q)), 0);
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				q = eol + 2;
				assert_non_null(eol = strstr(q, "\r\n"));
			}
			assert_int_equal(tsr_buf_cstr(&v, &s), 0);
			out = strdup(s);
			tsr_buf_free(&v);
			return out;
		}
	}
	return NULL;
}

static const char *body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

/* RFC 2047: a run of =?UTF-8?B?...?= words separated by white space. */
static char *decode_subject(const char *v)
{
	char *out = calloc(1, strlen(v) + 1), *q = out;

	assert_non_null(out);
	if (strstr(v, "=?") == NULL) {
		strcpy(out, v);
		return out;
	}
	while (*v != '\0') {
		const char *end;
		size_t n;
		int len;

		while (*v == ' ')
			v++;
		assert_int_equal(strncmp(v, "=?UTF-8?B?", 10), 0);
		v += 10;
		assert_non_null(end = strstr(v, "?="));
		n = (size_t)(end - v);
		assert_true(n % 4 == 0);
		len = EVP_DecodeBlock((unsigned char *)q, (const unsigned char *)v, (int)n);
		assert_true(len >= 0);
		len -= (n > 0 && v[n - 1] == '=') + (n > 1 && v[n - 2] == '=');
		q += len;
		v = end + 2;
	}
	*q = '\0';
	return out;
}

/* Quoted-printable (RFC 2045 6.7) back to bytes. */
static char *decode_qp(const char *s)
{
	char *out = malloc(strlen(s) + 1), *q = out;

	assert_non_null(out);
	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=') {
			assert_true(tsr_hex_digit(s[1]) >= 0 && tsr_hex_digit(s[2]) >= 0);
			*q++ = (char)(tsr_hex_digit(s[1]) * 16 + tsr_hex_digit(s[2]));
			s += 3;
		} else {
			*q++ = *s++;
		}
	}
	*q = '\0';
	return out;
}

/* Every line ends in CRLF (no bare CR or LF) and holds at most max octets. */
static void assert_lines(const char *msg, size_t max)
{
	const char *p = msg;

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		assert_true((size_t)(eol - p) <= max);
		assert_null(memchr(p, '\n', (size_t)(eol - p)));
		assert_null(memchr(p, '\r', (size_t)(eol - p)));
		p = eol + 2;
	}
}

static struct tsr_mail_config config(const struct fx *f)
{
	struct tsr_mail_config c = {
		.outbox_dir = f->outbox,
		.from = FROM,
		.timeout_seconds = 10,
	};

	return c;
}

static struct tsr_mail_message message(void)
{
	struct tsr_mail_message m = {
		.to = TO,
		.subject = "Your Tessera verification code",
		.body = "Your code is ABCD-EFGH-2345.\nIt expires in 24 hours.\n",
		.kind = "verification",
		.application = "app-42",
	};

	return m;
}

static void write_secret(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(tsr_file_write(path, text, strlen(text), 0600), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* ------------------------------------------------------------------ processes */

/* Run argv to completion with its output discarded; its exit status. */
static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

static void smtpd_stop(struct smtpd *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	if (waitpid(s->pid, &status, WNOHANG) == 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
	s->pid = 0;
}

static pid_t smtpd_spawn(const struct fx *f, const struct smtpd *s, bool tls)
{
	char listen[32], log[160];
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
	snprintf(log, sizeof(log), "%s/smtpd.log", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		const char *argv[16] = { python, "-c", smtpd_script, "-n", "-l", listen,
			"-c", "aiosmtpd.handlers.Mailbox" };
		int n = 8;

		if (tls) {
			argv[n++] = "--tlscert";
			argv[n++] = f->cert;
			argv[n++] = "--tlskey";
			argv[n++] = f->key;
		}
		argv[n++] = s->maildir;
		dup2(fd, 1);
		dup2(fd, 2);
		execv(python, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Start aiosmtpd storing into maildir (port 0: pick a free one) and wait,
 * with short polls and at most about 10 s, until it accepts connections. */
static void smtpd_start(struct fx *f, struct smtpd *s, const char *maildir, int port, bool tls)
{
	int status;

	snprintf(s->maildir, sizeof(s->maildir), "%s", maildir);
	for (int attempt = 0; attempt < 3; attempt++) {
		s->port = port != 0 ? port : free_port();
		snprintf(s->url, sizeof(s->url), "smtp://127.0.0.1:%d", s->port);
		s->pid = smtpd_spawn(f, s, tls);
		for (int i = 0; i < 500; i++) {
			if (port_open(s->port))
				return;
			if (waitpid(s->pid, &status, WNOHANG) == s->pid)
				break; /* it died (port taken?): try again */
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
		}
		smtpd_stop(s);
	}
	fail_msg("aiosmtpd did not start; see %s/smtpd.log", f->dir);
}

static void make_cert(struct fx *f)
{
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
		"-addext", "subjectAltName=IP:127.0.0.1", "-keyout", f->key, "-out", f->cert,
		NULL };

	assert_int_equal(run(argv), 0);
}

/* ------------------------------------------------------------------ fixture */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/tsr-mail-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->outbox, sizeof(f->outbox), "%s/outbox", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/relay.crt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/relay.key", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tsr_clock_set(NULL, NULL);
	smtpd_stop(&f->srv);
	if (tsr_dir_remove_tree(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

#define NEED_SMTPD()                                                                    \
	do {                                                                            \
		if (!have_smtpd) {                                                      \
			print_message("no aiosmtpd for %s: skipped\n", python);        \
			skip();                                                         \
		}                                                                       \
	} while (0)

/* ------------------------------------------------------------------ outbox */

static void test_outbox_message(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	static char body[8192];
	time_t t = 1700000000; /* Tue, 14 Nov 2023 22:13:20 UTC */
	char id[TSR_MAIL_ID_MAX], name[256], *p, *msg, *v, *want;
	struct stat st;

	tsr_clock_set(fixed_clock, &t);
	/* Accents, a line far over 998 octets, trailing space, a leading '.',
	 * '=', CRLF and LF line ends mixed. */
	strcpy(body, "Grüße, Jürgen — ваш код: ABCD-EFGH-2345 = ok \r\n.\n\tindented\n");
	memset(body + strlen(body), 'x', 3000);
	strcat(body, "é\nend");
	m.body = body;
	m.subject = "Ihr Bestätigungscode für Tessera — bitte innerhalb von 30 Tagen bestätigen ✓";
	assert_int_equal(tsr_mail_send(&c, &m, id, sizeof(id)), 0);

	/* One file in new/, nothing elsewhere; 0700 dirs, a 0600 file. */
	assert_int_equal(count_sub(f->outbox, "tmp"), 0);
	assert_int_equal(count_sub(f->outbox, "cur"), 0);
	p = path_of(f->outbox, "new");
	assert_int_equal(count_files(p, name, sizeof(name)), 1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(p);
	assert_int_equal(stat(f->outbox, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(strncmp(name, "1700000000.R", 12), 0);
	assert_int_equal(strspn(name + 12, "0123456789abcdef"), 16);
	assert_int_equal(name[28], '.');
	p = only_file(f->outbox, "new");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	msg = slurp(p);
	free(p);

	/* CRLF everywhere and short lines, even for the 3000-byte body line. */
	assert_lines(msg, 78);
	assert_string_equal(v = header(msg, "Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
	free(v);
	assert_string_equal(v = header(msg, "From"), FROM);
	free(v);
	assert_string_equal(v = header(msg, "To"), TO);
	free(v);
	assert_string_equal(v = header(msg, "Message-ID"), id);
	free(v);
	assert_int_equal(id[0], '<');
	assert_non_null(strstr(id, "@tessera.example>"));
	assert_int_equal(strlen(id), strlen("<@tessera.example>") + 32);
	assert_string_equal(v = header(msg, "MIME-Version"), "1.0");
	free(v);
	assert_string_equal(v = header(msg, "Content-Type"), "text/plain; charset=utf-8");
	free(v);
	assert_string_equal(v = header(msg, "Content-Transfer-Encoding"), "quoted-printable");
	free(v);
	assert_string_equal(v = header(msg, "X-Tessera-Kind"), "verification");
	free(v);
	assert_string_equal(v = header(msg, "X-Tessera-Application"), "app-42");
	free(v);

	/* The subject is encoded (ASCII only on the wire) and decodes back. */
	v = header(msg, "Subject");
	for (const char *q = v; *q; q++)
		assert_true((unsigned char)*q < 0x80);
	want = decode_subject(v);
	assert_string_equal(want, m.subject);
	free(want);
	free(v);

	/* The body decodes to the UTF-8 we gave, line ends as CRLF. */
	for (const char *q = body_of(msg); *q; q++)
		assert_true((unsigned char)*q < 0x80);
	v = decode_qp(body_of(msg));
	want = crlf_text(body);
	assert_string_equal(v, want);
	free(want);
	free(v);
	free(msg);
}

static void test_outbox_plain_subject(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char *p, *msg, *v;

	m.application = NULL;
	m.kind = "status";
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), 0);
	p = only_file(f->outbox, "new");
	msg = slurp(p);
	assert_lines(msg, 78);
	/* Short ASCII subjects go as they are; the code reads as it is. */
	assert_non_null(strstr(msg, "\r\nSubject: Your Tessera verification code\r\n"));
	assert_string_equal(body_of(msg),
	    "Your code is ABCD-EFGH-2345.\r\nIt expires in 24 hours.\r\n");
	assert_null(header(msg, "X-Tessera-Application"));
	assert_string_equal(v = header(msg, "X-Tessera-Kind"), "status");
	free(v);
	free(msg);
	free(p);
}

/* Nothing may reach the outbox when a header value tries to add a header. */
static void assert_refused(struct fx *f, const struct tsr_mail_config *c,
    const struct tsr_mail_message *m, int want)
{
	char id[TSR_MAIL_ID_MAX] = "junk";

	assert_int_equal(tsr_mail_send(c, m, id, sizeof(id)), want);
	assert_string_equal(id, "");
	assert_true(tsr_error_detail()[0] != '\0');
	assert_true(count_sub(f->outbox, "new") <= 0);
	assert_true(count_sub(f->outbox, "tmp") <= 0);
}

static void test_header_injection(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m;
	static const char *bad_to[] = {
		TO "\r\nBcc: evil@attacker.example",
		TO "\nBcc: evil@attacker.example",
		TO ", evil@attacker.example",
		TO " evil@attacker.example",
		"Jane Doe <" TO ">",
		"jane.doe@example.org>\r\n",
		"jane.doe",
		"",
	};
	static const char *bad_subject[] = {
		"Code\r\nBcc: evil@attacker.example",
		"Code\nBcc: evil@attacker.example",
		"Code\rX",
		"Code\tX",
		"Code \x1b[31m",
		"bad UTF-8 \xc3\x28",
		"overlong \xc0\xaf",
		"surrogate \xed\xa0\x80",
		"",
	};
	static const char *bad_application[] = { "app\r\nBcc: evil@attacker.example", "a b", "" };
	static char big[TSR_MAIL_BODY_MAX + 2];

	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_to); i++) {
		m = message();
		m.to = bad_to[i];
		assert_refused(f, &c, &m, TSR_ERR_INVALID);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_subject); i++) {
		m = message();
		m.subject = bad_subject[i];
		assert_refused(f, &c, &m, TSR_ERR_INVALID);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_application); i++) {
		m = message();
		m.application = bad_application[i];
		assert_refused(f, &c, &m, TSR_ERR_INVALID);
	}
	m = message();
	m.kind = "verification\r\nBcc: evil@attacker.example";
	assert_refused(f, &c, &m, TSR_ERR_INVALID);
	m.kind = "newsletter";
	assert_refused(f, &c, &m, TSR_ERR_INVALID);
	m.kind = NULL;
	assert_refused(f, &c, &m, TSR_ERR_INVALID);

	/* Bodies: lone CR and control characters refused; sizes capped. */
	m = message();
	m.body = "line\rBcc: evil@attacker.example\n";
	assert_refused(f, &c, &m, TSR_ERR_INVALID);
	m.body = "bell \a";
	assert_refused(f, &c, &m, TSR_ERR_INVALID);
	memset(big, 'a', TSR_MAIL_BODY_MAX + 1);
	m.body = big;
	assert_refused(f, &c, &m, TSR_ERR_TOO_LARGE);
	m = message();
	big[TSR_MAIL_SUBJECT_MAX + 1] = '\0';
	m.subject = big;
	assert_refused(f, &c, &m, TSR_ERR_TOO_LARGE);

	/* The sender is configuration. */
	m = message();
	c.from = FROM "\r\nBcc: evil@attacker.example";
	assert_refused(f, &c, &m, TSR_ERR_CONFIG);
	c.from = "Tessera CA <" FROM ">";
	assert_refused(f, &c, &m, TSR_ERR_CONFIG);
	c = config(f);

	/* A Message-ID buffer too small is refused before anything is written. */
	{
		char small[8];

		assert_int_equal(tsr_mail_send(&c, &m, small, sizeof(small)), TSR_ERR_INVALID);
		assert_true(count_sub(f->outbox, "new") <= 0);
	}
}

/* The API takes C strings: a NUL ends the value, so what follows it can
 * never reach the message. */
static void test_nul_ends_value(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	static const char to[] = TO "\0\r\nBcc: evil@attacker.example";
	static const char subject[] = "Code\0\r\nBcc: evil@attacker.example";
	char *p, *msg, *v;

	m.to = to;
	m.subject = subject;
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), 0);
	p = only_file(f->outbox, "new");
	msg = slurp(p);
	assert_null(strstr(msg, "Bcc"));
	assert_null(strstr(msg, "attacker"));
	assert_string_equal(v = header(msg, "To"), TO);
	free(v);
	assert_string_equal(v = header(msg, "Subject"), "Code");
	free(v);
	free(msg);
	free(p);
}

/* ------------------------------------------------------------------ config */

static void test_config_checks(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	char pw[160];

	snprintf(pw, sizeof(pw), "%s/smtp.pw", f->dir);
	assert_int_equal(tsr_mail_check_config(&c), 0);
	c.smtp_url = "ftp://relay.example";
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.smtp_url = "smtp://user:" RELAY_PASSWORD "@relay.example:587";
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	assert_null(strstr(tsr_error_detail(), RELAY_PASSWORD));
	c.smtp_url = "smtp://relay.example:25\r\n";
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.smtp_url = "smtp://";
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.smtp_url = "smtp://relay.example:587";
	assert_int_equal(tsr_mail_check_config(&c), 0);

	/* Credentials: both or neither, and never without TLS. */
	c.smtp_user = RELAY_USER;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	write_secret(pw, RELAY_PASSWORD "\n", 0600);
	c.smtp_password_file = pw;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	assert_non_null(strstr(tsr_error_detail(), "without TLS"));
	c.smtp_starttls_required = true;
	assert_int_equal(tsr_mail_check_config(&c), 0);
	c.smtp_starttls_required = false;
	c.smtp_url = "smtps://relay.example:465";
	assert_int_equal(tsr_mail_check_config(&c), 0);

	c.timeout_seconds = -1;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.timeout_seconds = TSR_MAIL_TIMEOUT_MAX + 1;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.timeout_seconds = 0;
	c.outbox_dir = NULL;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.outbox_dir = f->outbox;
	c.smtp_url = NULL;
	{
		int sent = -1, failed = -1;

		assert_int_equal(tsr_mail_retry(&c, &sent, &failed), TSR_ERR_CONFIG);
		assert_int_equal(sent, 0);
		assert_int_equal(failed, 0);
	}
}

/* A password file others can read is refused; the message stays queued. */
static void test_password_file_mode(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char pw[160], id[TSR_MAIL_ID_MAX];

	snprintf(pw, sizeof(pw), "%s/smtp.pw", f->dir);
	write_secret(pw, RELAY_PASSWORD "\n", 0644);
	/* Port 1 on loopback: were the password accepted, the send would fail
	 * with an I/O error instead. */
	c.smtp_url = "smtps://127.0.0.1:1";
	c.smtp_user = RELAY_USER;
	c.smtp_password_file = pw;
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	assert_non_null(strstr(tsr_error_detail(), "0644"));
	assert_null(strstr(tsr_error_detail(), RELAY_PASSWORD));
	assert_int_equal(tsr_mail_send(&c, &m, id, sizeof(id)), TSR_ERR_CONFIG);
	assert_non_null(strstr(tsr_error_detail(), "chmod 600"));
	assert_int_equal(id[0], '<');
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_int_equal(count_sub(f->outbox, "cur"), 0);

	assert_int_equal(chmod(pw, 0640), 0);
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	assert_int_equal(chmod(pw, 0400), 0);
	assert_int_equal(tsr_mail_check_config(&c), 0);
	write_secret(pw, "", 0600);
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	write_secret(pw, "two\nlines\n", 0600);
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
	c.smtp_password_file = "/nonexistent/smtp.pw";
	assert_int_equal(tsr_mail_check_config(&c), TSR_ERR_CONFIG);
}

/* A message someone else is relaying (its file locked) is left alone; a
 * file in new/ that is not a message counts as a failure. */
static void test_retry_skips_locked(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	static const char junk_text[] = "hello\r\n\r\nTo: x@y.example\r\n";
	int fd, sent = -1, failed = -1;
	char *p, *junk;

	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), 0);
	/* Port 1 on loopback: nobody listens, a relay attempt fails at once. */
	c.smtp_url = "smtp://127.0.0.1:1";
	p = only_file(f->outbox, "new");
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 0);
	close(fd);
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), TSR_ERR_IO);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	free(p);

	junk = path_of(f->outbox, "new/junk");
	assert_int_equal(tsr_file_write(junk, junk_text, strlen(junk_text), 0600), 0);
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), TSR_ERR_IO);
	assert_int_equal(failed, 2);
	free(junk);
}

/* A relay that accepts the connection and never speaks: the timeout ends
 * the attempt, and the copy waits in new/. */
static void test_relay_timeout(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char url[64];
	struct timespec t0, t1;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", ntohs(a.sin_port));
	c.smtp_url = url;
	c.timeout_seconds = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), TSR_ERR_IO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_non_null(strstr(tsr_error_detail(), "SMTP relay"));
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	close(s);
}

/* ------------------------------------------------------------------ list */

/* What tsr_mail_list() reported, copied (its strings live only during the
 * callback). */
struct seen {
	size_t n;
	int stop_after;      /* > 0: return TSR_ERR_INTERNAL from that call on */
	struct {
		char *name, *to, *kind, *application, *message_id;
		const char *problem;
		bool sent;
		time_t time;
	} e[16];
};

static char *dup_or_null(const char *s)
{
	char *p = s != NULL ? strdup(s) : NULL;

	assert_true(s == NULL || p != NULL);
	return p;
}

static int collect(const struct tsr_mail_entry *e, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < TSR_ARRAY_LEN(s->e));
	assert_non_null(e->name);
	if (e->problem != NULL)
		assert_true(e->to == NULL && e->kind == NULL && e->application == NULL &&
		    e->message_id == NULL);
	s->e[s->n].name = dup_or_null(e->name);
	s->e[s->n].to = dup_or_null(e->to);
	s->e[s->n].kind = dup_or_null(e->kind);
	s->e[s->n].application = dup_or_null(e->application);
	s->e[s->n].message_id = dup_or_null(e->message_id);
	s->e[s->n].problem = e->problem;
	s->e[s->n].sent = e->sent;
	s->e[s->n].time = e->time;
	s->n++;
	return s->stop_after > 0 && (int)s->n >= s->stop_after ? TSR_ERR_INTERNAL : 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].name);
		free(s->e[i].to);
		free(s->e[i].kind);
		free(s->e[i].application);
		free(s->e[i].message_id);
	}
	memset(s, 0, sizeof(*s));
}

/* The entry named name (it must be listed once). */
static size_t seen_find(const struct seen *s, const char *name)
{
	size_t at = s->n;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0) {
			assert_int_equal(at, s->n);
			at = i;
		}
	if (at == s->n)
		fail_msg("%s is not listed", name);
	return at;
}

static void put_file(const char *outbox, const char *rel, const char *text)
{
	char *p = path_of(outbox, rel);

	assert_int_equal(tsr_file_write(p, text, strlen(text), 0600), 0);
	free(p);
}

/* A missing outbox lists nothing and is not created. */
static void test_list_empty(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	struct stat st;

	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(stat(f->outbox, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(tsr_mail_list(NULL, collect, &s), TSR_ERR_INVALID);
	assert_int_equal(tsr_mail_list(f->outbox, NULL, NULL), TSR_ERR_INVALID);
}

/* Messages as tsr_mail_send() wrote them, one moved to cur/ as a relay
 * would: oldest first, the header's values, never the body's. */
static void test_list_messages(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char id1[TSR_MAIL_ID_MAX], id2[TSR_MAIL_ID_MAX], name[256], *from, *to;
	struct seen s = { 0 };
	time_t t1 = 1700000000, t2 = 1700000000 - 3600;

	tsr_clock_set(fixed_clock, &t1);
	assert_int_equal(tsr_mail_send(&c, &m, id1, sizeof(id1)), 0);
	/* Move it to cur/ as a relay that accepted it would. */
	from = only_file(f->outbox, "new");
	snprintf(name, sizeof(name), "%s", strrchr(from, '/') + 1);
	assert_true(asprintf(&to, "%s/cur/%s:2,S", f->outbox, name) > 0);
	assert_int_equal(rename(from, to), 0);
	/* An older message, still waiting, without an application. */
	tsr_clock_set(fixed_clock, &t2);
	m.kind = "status";
	m.application = NULL;
	m.to = "john.roe@example.net";
	assert_int_equal(tsr_mail_send(&c, &m, id2, sizeof(id2)), 0);
	tsr_clock_set(NULL, NULL);

	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_false(s.e[0].sent);
	assert_int_equal(s.e[0].time, t2);
	assert_string_equal(s.e[0].to, "john.roe@example.net");
	assert_string_equal(s.e[0].kind, "status");
	assert_null(s.e[0].application);
	assert_string_equal(s.e[0].message_id, id2);
	assert_null(s.e[0].problem);
	assert_true(s.e[1].sent);
	assert_int_equal(s.e[1].time, t1);
	assert_string_equal(s.e[1].name, strrchr(to, '/') + 1);
	assert_string_equal(s.e[1].to, TO);
	assert_string_equal(s.e[1].kind, "verification");
	assert_string_equal(s.e[1].application, "app-42");
	assert_string_equal(s.e[1].message_id, id1);
	/* Nothing of the body (the code) in what is reported. */
	for (size_t i = 0; i < s.n; i++) {
		const char *v[] = { s.e[i].name, s.e[i].to, s.e[i].kind, s.e[i].application,
			s.e[i].message_id };

		for (size_t k = 0; k < TSR_ARRAY_LEN(v); k++)
			assert_true(v[k] == NULL || strstr(v[k], "ABCD") == NULL);
	}

	/* Listing changed nothing: the message is still where it was. */
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_int_equal(count_sub(f->outbox, "cur"), 1);
	seen_free(&s);

	/* A callback's error stops the listing and is returned. */
	s.stop_after = 1;
	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), TSR_ERR_INTERNAL);
	assert_int_equal(s.n, 1);
	seen_free(&s);
	free(from);
	free(to);
}

/* Messages of the same second are listed in the order they were written
 * (their files' mtime), not in the random order of their names. */
static void test_list_same_second(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char id[2][TSR_MAIL_ID_MAX], *dir, *p;
	struct seen s = { 0 };
	time_t t = 1700000000;
	struct dirent *de;
	DIR *d;

	tsr_clock_set(fixed_clock, &t);
	assert_int_equal(tsr_mail_send(&c, &m, id[0], sizeof(id[0])), 0);
	m.kind = "status";
	assert_int_equal(tsr_mail_send(&c, &m, id[1], sizeof(id[1])), 0);
	tsr_clock_set(NULL, NULL);
	/* Written 1 s apart, as far as mtime knows: the verification first. */
	dir = path_of(f->outbox, "new");
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
		char *msg;

		if (de->d_name[0] == '.')
			continue;
		p = path_of(dir, de->d_name);
		msg = slurp(p);
		ts[1].tv_sec = strstr(msg, "X-Tessera-Kind: status") != NULL ? 1000 : 999;
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
		free(msg);
		free(p);
	}
	closedir(d);
	free(dir);
	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.e[0].time, t);
	assert_int_equal(s.e[1].time, t);
	assert_string_equal(s.e[0].message_id, id[0]);
	assert_string_equal(s.e[1].message_id, id[1]);
	seen_free(&s);
}

/* Files Tessera did not write: only the header is read, LF line ends and
 * other zones are understood, odd values are made printable and cut, and
 * what is not a regular file is named, not opened. */
static void test_list_foreign_files(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	char *p, *q, longval[600], *big;
	size_t i, n = TSR_MAIL_LIST_HEADER_MAX + 4096;

	assert_int_equal(tsr_mail_send(&(struct tsr_mail_config){ .outbox_dir = f->outbox,
	    .from = FROM }, &(struct tsr_mail_message){ .to = TO, .subject = "s", .body = "b",
	    .kind = "status" }, NULL, 0), 0);
	p = only_file(f->outbox, "new");
	assert_int_equal(unlink(p), 0);
	free(p);

	/* The body says it is a passcode: the body is not the header. */
	put_file(f->outbox, "new/body",
	    "Date: Wed, 15 Nov 2023 00:13:20 +0200\n"
	    "To: x@example.org\n"
	    "\n"
	    "X-Tessera-Kind: passcode\nTo: evil@example.org\nYour code is ABCD-EFGH-2345\n");
	/* CR, ESC and non-ASCII in values; an over-long Message-ID. */
	memset(longval, 'm', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	assert_true(asprintf(&q, "To: a\x1b[31m@b\xc3\xa9.example \r\nX-Tessera-Kind:\tstatus\r\n"
	    "Message-ID: <%s>\r\n\r\nbody\r\n", longval) > 0);
	put_file(f->outbox, "cur/odd:2,S", q);
	free(q);
	/* No header at all, and a file starting with an empty line. */
	put_file(f->outbox, "new/junk", "hello, no colon here\n");
	put_file(f->outbox, "new/baddate", "Date: yesterday\r\nTo: y@example.org\r\n\r\n");
	put_file(f->outbox, "new/blank", "\r\nTo: body@example.org\r\n");
	/* A header longer than the limit: a To: past it is not read. */
	assert_non_null(big = malloc(n + 64));
	strcpy(big, "X-Tessera-Kind: status\r\nX-Pad: ");
	for (i = strlen(big); i < n; i++)
		big[i] = 'p';
	strcpy(big + n, "\r\nTo: late@example.org\r\n\r\nbody\r\n");
	put_file(f->outbox, "new/huge", big);
	free(big);
	/* Hidden files are skipped, like retry does. */
	put_file(f->outbox, "new/.hidden", "To: hidden@example.org\r\n\r\n");

	/* A symbolic link to a message, a FIFO (opening it would block), a
	 * directory. */
	put_file(f->dir, "elsewhere", "To: secret@example.org\r\n\r\nsecret\r\n");
	p = path_of(f->dir, "elsewhere");
	q = path_of(f->outbox, "new/link");
	assert_int_equal(symlink(p, q), 0);
	free(p);
	free(q);
	p = path_of(f->outbox, "new/fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = path_of(f->outbox, "cur/dir");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);

	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), 0);
	assert_int_equal(s.n, 9);

	i = seen_find(&s, "body");
	assert_int_equal(s.e[i].time, 1700000000);
	assert_string_equal(s.e[i].to, "x@example.org");
	assert_null(s.e[i].kind);
	assert_null(s.e[i].problem);
	assert_false(s.e[i].sent);

	i = seen_find(&s, "odd:2,S");
	assert_true(s.e[i].sent);
	assert_string_equal(s.e[i].to, "a?[31m@b??.example");
	assert_string_equal(s.e[i].kind, "status");
	assert_int_equal(strlen(s.e[i].message_id), TSR_MAIL_ID_MAX - 1);
	assert_int_equal(strncmp(s.e[i].message_id, "<mmm", 4), 0);

	i = seen_find(&s, "junk");
	assert_null(s.e[i].to);
	assert_null(s.e[i].kind);
	assert_null(s.e[i].problem);
	assert_true(s.e[i].time > 1700000000);   /* the file's mtime: now */
	i = seen_find(&s, "blank");
	assert_null(s.e[i].to);
	i = seen_find(&s, "baddate");
	assert_string_equal(s.e[i].to, "y@example.org");
	assert_true(s.e[i].time > 1700000000);   /* a Date: not understood: the mtime */

	i = seen_find(&s, "huge");
	assert_string_equal(s.e[i].kind, "status");
	assert_null(s.e[i].to);

	i = seen_find(&s, "link");
	assert_non_null(strstr(s.e[i].problem, "symbolic link"));
	assert_null(s.e[i].to);
	i = seen_find(&s, "fifo");
	assert_non_null(strstr(s.e[i].problem, "not a regular file"));
	i = seen_find(&s, "dir");
	assert_non_null(strstr(s.e[i].problem, "not a regular file"));
	assert_true(s.e[i].sent);
	for (i = 0; i < s.n; i++)
		assert_string_not_equal(s.e[i].name, ".hidden");
	seen_free(&s);

	/* new/ itself a symbolic link: refused, nothing listed. */
	p = path_of(f->outbox, "new");
	q = path_of(f->dir, "new-elsewhere");
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(tsr_mail_list(f->outbox, collect, &s), TSR_ERR_IO);
	assert_non_null(strstr(tsr_error_detail(), "symbolic link"));
	assert_int_equal(s.n, 0);
	free(p);
	free(q);
}

/* ------------------------------------------------------------------ relay */

/* The message the server stored is the outbox copy: same subject, same
 * Message-ID, same body bytes, envelope from the config and to m.to. */
static void assert_delivered(const struct smtpd *s, const char *outbox_copy)
{
	char *p = only_file(s->maildir, "new"), *raw = slurp(p), *got = to_crlf(raw);
	const char *names[] = { "Subject", "Message-ID", "From", "To", "X-Tessera-Kind" };
	char *a, *b;

	for (size_t i = 0; i < TSR_ARRAY_LEN(names); i++) {
		assert_non_null(a = header(got, names[i]));
		assert_non_null(b = header(outbox_copy, names[i]));
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	assert_string_equal(a = header(got, "X-MailFrom"), FROM);
	free(a);
	assert_string_equal(a = header(got, "X-RcptTo"), TO);
	free(a);
	assert_string_equal(body_of(got), body_of(outbox_copy));
	free(got);
	free(raw);
	free(p);
}

/* The outbox copy of a relayed message: cur/NAME:2,S, mode 0600. */
static char *sent_copy(const char *outbox)
{
	char *p = only_file(outbox, "cur"), *msg;
	struct stat st;
	size_t n = strlen(p);

	assert_int_equal(count_sub(outbox, "new"), 0);
	assert_true(n > 4);
	assert_string_equal(p + n - 4, ":2,S");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	msg = slurp(p);
	free(p);
	return msg;
}

static void test_relay_delivers(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char maildir[160], id[TSR_MAIL_ID_MAX], *copy, *v;

	NEED_SMTPD();
	snprintf(maildir, sizeof(maildir), "%s/server", f->dir);
	smtpd_start(f, &f->srv, maildir, 0, false);
	c.smtp_url = f->srv.url;
	m.subject = "Bestätigen Sie Ihre Adresse";
	m.body = "Grüße!\n.\nYour code is ABCD-EFGH-2345.\n";
	assert_int_equal(tsr_mail_send(&c, &m, id, sizeof(id)), 0);
	copy = sent_copy(f->outbox);
	assert_string_equal(v = header(copy, "Message-ID"), id);
	free(v);
	assert_delivered(&f->srv, copy);
	free(copy);
}

static void test_relay_down_then_retry(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char maildir[160], id[TSR_MAIL_ID_MAX], *copy, *v;
	int port, sent = -1, failed = -1;
	struct seen seen = { 0 };

	NEED_SMTPD();
	snprintf(maildir, sizeof(maildir), "%s/server", f->dir);
	smtpd_start(f, &f->srv, maildir, 0, false);
	port = f->srv.port;
	c.smtp_url = f->srv.url;
	smtpd_stop(&f->srv);

	/* The relay is down: an I/O error naming it; the copy waits in new/. */
	assert_int_equal(tsr_mail_send(&c, &m, id, sizeof(id)), TSR_ERR_IO);
	assert_non_null(strstr(tsr_error_detail(), "SMTP relay smtp://127.0.0.1:"));
	assert_int_equal(id[0], '<');
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_int_equal(count_sub(f->outbox, "cur"), 0);
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), TSR_ERR_IO);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_int_equal(tsr_mail_list(f->outbox, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_false(seen.e[0].sent);
	assert_string_equal(seen.e[0].message_id, id);
	seen_free(&seen);

	/* Back up (on the same port if it is still free): the retry relays it. */
	smtpd_start(f, &f->srv, maildir, port, false);
	c.smtp_url = f->srv.url;
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(failed, 0);
	copy = sent_copy(f->outbox);
	assert_string_equal(v = header(copy, "Message-ID"), id);
	free(v);
	assert_delivered(&f->srv, copy);
	free(copy);
	assert_int_equal(tsr_mail_list(f->outbox, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_true(seen.e[0].sent);
	assert_string_equal(seen.e[0].message_id, id);
	assert_string_equal(seen.e[0].to, TO);
	seen_free(&seen);

	/* Nothing left: a second pass sends nothing again. */
	assert_int_equal(tsr_mail_retry(&c, &sent, &failed), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 0);
	assert_int_equal(count_sub(maildir, "new"), 1);
}

static void test_relay_starttls(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char maildir[160], *copy;

	NEED_SMTPD();
	if (!have_openssl) {
		print_message("openssl not found; STARTTLS test skipped\n");
		skip();
	}
	make_cert(f);
	snprintf(maildir, sizeof(maildir), "%s/server", f->dir);

	/* A relay that offers no STARTTLS: with TLS required, nothing is sent. */
	smtpd_start(f, &f->srv, maildir, 0, false);
	c.smtp_url = f->srv.url;
	c.smtp_starttls_required = true;
	c.smtp_ca_file = f->cert;
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), TSR_ERR_IO);
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_true(count_sub(maildir, "new") <= 0);
	smtpd_stop(&f->srv);

	/* A relay with STARTTLS whose certificate we do not trust. */
	smtpd_start(f, &f->srv, maildir, 0, true);
	c.smtp_url = f->srv.url;
	c.smtp_ca_file = NULL;
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), TSR_ERR_IO);
	assert_int_equal(count_sub(f->outbox, "new"), 2);
	assert_true(count_sub(maildir, "new") <= 0);

	/* Trusted: both queued messages go out over TLS. */
	c.smtp_ca_file = f->cert;
	{
		int sent = -1, failed = -1;

		assert_int_equal(tsr_mail_retry(&c, &sent, &failed), 0);
		assert_int_equal(sent, 2);
		assert_int_equal(failed, 0);
	}
	assert_int_equal(count_sub(f->outbox, "new"), 0);
	assert_int_equal(count_sub(f->outbox, "cur"), 2);
	assert_int_equal(count_sub(maildir, "new"), 2);
	assert_int_equal(tsr_dir_remove_tree(f->outbox), 0);
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), 0);
	copy = sent_copy(f->outbox);
	free(copy);
}

static void test_relay_auth(void **state)
{
	struct fx *f = *state;
	struct tsr_mail_config c = config(f);
	struct tsr_mail_message m = message();
	char maildir[160], pw[160], *copy;

	NEED_SMTPD();
	if (!have_openssl) {
		print_message("openssl not found; AUTH test skipped\n");
		skip();
	}
	make_cert(f);
	snprintf(maildir, sizeof(maildir), "%s/server", f->dir);
	snprintf(pw, sizeof(pw), "%s/smtp.pw", f->dir);
	smtpd_start(f, &f->srv, maildir, 0, true);
	c.smtp_url = f->srv.url;
	c.smtp_starttls_required = true;
	c.smtp_ca_file = f->cert;
	c.smtp_user = RELAY_USER;
	c.smtp_password_file = pw;

	/* A wrong password: refused by the relay, and not in the error. */
	write_secret(pw, "wrong-password\n", 0600);
	assert_int_equal(tsr_mail_send(&c, &m, NULL, 0), TSR_ERR_IO);
	assert_null(strstr(tsr_error_detail(), "wrong-password"));
	assert_int_equal(count_sub(f->outbox, "new"), 1);
	assert_true(count_sub(maildir, "new") <= 0);

	write_secret(pw, RELAY_PASSWORD "\r\n", 0600);
	{
		int sent = -1, failed = -1;

		assert_int_equal(tsr_mail_retry(&c, &sent, &failed), 0);
		assert_int_equal(sent, 1);
		assert_int_equal(failed, 0);
	}
	copy = sent_copy(f->outbox);
	assert_delivered(&f->srv, copy);
	free(copy);
}

/* ------------------------------------------------------------------ main */

static bool probe(char *const argv[])
{
	return run(argv) == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outbox_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_plain_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_injection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_ends_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_skips_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_same_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_foreign_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_delivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_down_then_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_auth, setup, teardown),
	};
	char *smtpd_probe[] = { NULL, "-c", "import aiosmtpd.main", NULL };
	char *openssl_probe[] = { "openssl", "version", NULL };

	/* Debian's python3 carries python3-aiosmtpd; another python3 earlier in
	 * PATH (pyenv, a venv) may not. */
	python = getenv("TSR_TEST_PYTHON") != NULL ? getenv("TSR_TEST_PYTHON") : "/usr/bin/python3";
	smtpd_probe[0] = (char *)python;
	have_smtpd = probe(smtpd_probe);
	have_openssl = probe(openssl_probe);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
