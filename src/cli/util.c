/*
 * util.c - helpers shared by the command files.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

const char *cli_actor(void)
{
	static char actor[64];
	struct passwd *pw;

	if (actor[0] == '\0') {
		pw = getpwuid(geteuid());
		snprintf(actor, sizeof(actor), "cli:%s", pw ? pw->pw_name : "unknown");
	}
	return actor;
}

int cli_home(const char *opt, const char **out)
{
	const char *env = getenv("TESSERA_HOME");

	*out = opt ? opt : env;
	if (*out == NULL || (*out)[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "--home DIR is required (or set TESSERA_HOME)");
	return 0;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[512];
	const char *synopsis = usage + strlen("usage: ");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line: what is wrong, then the command's synopsis. */
	return tsr_error(TSR_ERR_INVALID, "%s (usage: %.*s)", msg, (int)strcspn(synopsis, "\n"),
	    synopsis);
}

int cli_bad_option(const char *usage, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (optopt != 0 && strncmp(opt, "--", 2) == 0 && strchr(opt, '=') == NULL)
		return cli_usage_error(usage, "option %s needs a value", opt);
	return cli_usage_error(usage, "unknown option %s", opt);
}

void cli_options_begin(void)
{
	optind = 1;
	opterr = 0;   /* one error line, ours */
}

int cli_next_option(int argc, char **argv, const struct option *opts, int help_opt,
    const char *allowed, const char *usage)
{
	int c = getopt_long(argc, argv, "", opts, NULL);

	if (c == -1)
		return 0;
	if (c == help_opt) {
		fputs(usage, stdout);
		return CLI_HELP;
	}
	if (c <= 0 || c > help_opt)
		return cli_bad_option(usage, argv);
	if (allowed != NULL && strchr(allowed, CLI_ALLOW(c)) == NULL) {
		/* A real option of a sibling command: name it, not its value. */
		for (const struct option *o = opts; o->name != NULL; o++)
			if (o->val == c)
				return cli_usage_error(usage, "this command does not take --%s",
				    o->name);
		return cli_bad_option(usage, argv);
	}
	return c;
}

int cli_parse_uint(const char *opt, const char *s, long max, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return tsr_error(TSR_ERR_INVALID, "%s: '%s' is not a number from 0 to %ld", opt, s, max);
	*out = v;
	return 0;
}

int cli_parse_date(const char *opt, const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return tsr_error(TSR_ERR_INVALID, "%s: '%s' is not a date YYYY-MM-DD", opt, s);
	*out = timegm(&tm);
	return 0;
}

int cli_json_print(json_t *v)
{
	int r = 0;

	if (v == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write JSON");
	fputc('\n', stdout);
	json_decref(v);
	return r;
}
