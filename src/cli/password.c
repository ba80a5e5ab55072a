/*
 * password.c - reading a password for a command: from a file only its
 * owner may read, or typed on the terminal with echo off.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define PASSWORD_INPUT_MAX 1024   /* bytes read; the rules refuse more than 256 */

/* The first line of path, which only its owner may read (like a PIN file:
 * a password others can read is no longer a secret).  option names the
 * command-line option in errors ("--passcode-file"). */
int cli_password_file(const char *path, const char *option, char **out)
{
	struct tsr_buf b;
	const char *s;
	int r;

	*out = NULL;
	tsr_buf_init_secret(&b, PASSWORD_INPUT_MAX);
	if ((r = tsr_file_read_private(path, PASSWORD_INPUT_MAX, &b)) != 0) {
		r = tsr_error_wrap(r == TSR_ERR_POLICY ? TSR_ERR_INVALID : r, "%s", option);
		goto out;
	}
	if ((r = tsr_buf_cstr(&b, &s)) != 0)
		goto out;
	if (memchr(s, '\0', b.len) != NULL) {
		r = tsr_error(TSR_ERR_INVALID, "%s %s holds a NUL byte", option, path);
		goto out;
	}
	if ((*out = strndup(s, strcspn(s, "\r\n"))) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	tsr_buf_free(&b);
	return r;
}

/* The terminal settings to restore if a signal arrives while echo is off. */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void (*fn)(int))
{
	signal(SIGINT, fn);
	signal(SIGTERM, fn);
	signal(SIGHUP, fn);
}

/* Read one line from the terminal with echo off into buf (size bytes). */
static int read_hidden(const char *prompt, char *buf, size_t size)
{
	struct termios tio;
	size_t n;
	int r = 0;

	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return tsr_error(TSR_ERR_IO, "cannot read the terminal settings: %s",
		    strerror(errno));
	tio = saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tio.c_lflag |= ICANON;
	catch_signals(restore_echo);
	fputs(prompt, stderr);
	fflush(stderr);
	echo_off = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot switch off the terminal's echo: %s",
		    strerror(errno));
	else if (fgets(buf, (int)size, stdin) == NULL)
		r = tsr_error(TSR_ERR_INVALID, "no password given");
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	echo_off = 0;
	catch_signals(SIG_DFL);
	fputc('\n', stderr);
	if (r != 0)
		return r;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == size - 1)
		return tsr_error(TSR_ERR_TOO_LARGE, "the password is longer than %zu bytes",
		    size - 2);
	buf[n] = '\0';
	return 0;
}

/* Ask on the terminal (twice if again is not NULL); refuse when there is
 * no terminal to ask on. */
int cli_password_prompt(const char *prompt, const char *again, char **out)
{
	char *a = NULL, *b = NULL;
	int r;

	*out = NULL;
	if (!isatty(STDIN_FILENO))
		return tsr_error(TSR_ERR_INVALID, "standard input is not a terminal: give the "
		    "password with --password-file FILE");
	if ((a = calloc(1, PASSWORD_INPUT_MAX + 2)) == NULL ||
	    (b = calloc(1, PASSWORD_INPUT_MAX + 2)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = read_hidden(prompt, a, PASSWORD_INPUT_MAX + 2)) != 0 ||
	    (again != NULL && (r = read_hidden(again, b, PASSWORD_INPUT_MAX + 2)) != 0))
		goto out;
	if (again != NULL && strcmp(a, b) != 0) {
		r = tsr_error(TSR_ERR_INVALID, "the two passwords differ");
		goto out;
	}
	*out = a;
	a = NULL;
out:
	tsr_free_secret(a);
	tsr_free_secret(b);
	return r;
}
