/*
 * cmd_mail.c - `tessera mail list|retry`: what waits in the Maildir outboxes
 * and whether it has gone out, and a retry by hand of what the SMTP relay
 * has not accepted yet (docs/mail.md).  Message bodies carry codes: nothing
 * here ever reads or prints one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "ra/app.h"
#include "ra/mail.h"

const char cli_usage_mail_list[] =
    "usage: tessera mail list --home DIR [--json]\n"
    "\n"
    "List the messages in the mail outbox ([mail] outbox) and in the passcode\n"
    "outbox ([mail] passcode_outbox), oldest first: the time, the outbox, the\n"
    "status, the kind (X-Tessera-Kind), the application and the recipient.  Only\n"
    "the header of each file is read; bodies (they carry codes) are never shown.\n"
    "\n"
    "status: unsent   in outbox/new/: not accepted by a relay (yet); with no\n"
    "                 relay configured every message stays unsent\n"
    "        sent     in outbox/cur/: the relay accepted it\n"
    "        to-post  in the passcode outbox's new/: still to be posted\n"
    "        posted   in the passcode outbox's cur/: moved there once posted\n"
    "A file that is not a regular file (a symbolic link, a FIFO) is listed with\n"
    "why it was not read.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      a JSON array instead of a table\n"
    "  --help      this text\n";

const char cli_usage_mail_retry[] =
    "usage: tessera mail retry --home DIR [--json]\n"
    "\n"
    "Hand every unsent message of the mail outbox to the SMTP relay ([mail]\n"
    "smtp_url) once, and print how many were sent and how many failed.  tessera\n"
    "serve does this every 60 seconds by itself; this is the same pass, by hand.\n"
    "The passcode outbox is never relayed.  Exit status 0 when nothing failed; 74\n"
    "when a message could not be relayed (it stays in the outbox); 78 when no\n"
    "relay is configured.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      {\"sent\": N, \"failed\": M} instead of a line of text\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_JSON, OPT_HELP };

static const struct option mail_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct mail_args {
	const char *home;
	bool json;
};

static int parse(int argc, char **argv, const char *usage, struct mail_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, mail_options, OPT_HELP, NULL, usage)) > 0 &&
	    c != CLI_HELP) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_JSON: a->json = true; break;
		default: return cli_bad_option(usage, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ------------------------------------------------------------------ list */

struct list_ctx {
	const char *outbox;    /* "mail" or "passcode" */
	json_t *array;         /* --json, else NULL */
};

static const char *status_of(const struct list_ctx *l, const struct tsr_mail_entry *e)
{
	if (strcmp(l->outbox, "passcode") == 0)
		return e->sent ? "posted" : "to-post";
	return e->sent ? "sent" : "unsent";
}

static int list_one(const struct tsr_mail_entry *e, void *ctx)
{
	struct list_ctx *l = ctx;
	char when[21], file[300];
	json_t *o;

	tsr_time_format(e->time, when);
	snprintf(file, sizeof(file), "%s/%s", e->sent ? "cur" : "new", e->name);
	if (l->array == NULL) {
		printf("%-20s  %-8s  %-7s  %-12s  %-17s  %s\n", when, l->outbox, status_of(l, e),
		    e->problem ? "?" : e->kind ? e->kind : "-",
		    e->application ? e->application : "-", e->problem ? file : e->to ? e->to : "-");
		if (e->problem != NULL)
			printf("%-20s  (%s)\n", "", e->problem);
		return 0;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "time", when,
	    "outbox", l->outbox, "status", status_of(l, e), "file", file, "kind", e->kind,
	    "application", e->application, "to", e->to, "message_id", e->message_id,
	    "problem", e->problem);
	if (o == NULL || json_array_append_new(l->array, o) != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

int cmd_mail_list(int argc, char **argv)
{
	struct list_ctx l = { NULL, NULL };
	const struct tsr_mail_settings *m;
	struct mail_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_mail_list, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	m = &tsr_ca_config(ca)->mail;
	if (a.json && (l.array = json_array()) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0 && !a.json)
		printf("%-20s  %-8s  %-7s  %-12s  %-17s  %s\n", "TIME", "OUTBOX", "STATUS", "KIND",
		    "APPLICATION", "TO");
	l.outbox = "mail";
	if (r == 0)
		r = tsr_mail_list(m->outbox, list_one, &l);
	l.outbox = "passcode";
	if (r == 0)
		r = tsr_mail_list(m->passcode_outbox, list_one, &l);
	if (r == 0 && l.array != NULL) {
		r = cli_json_print(l.array);
		l.array = NULL;
	}
	json_decref(l.array);
	tsr_ca_close(ca);
	return r;
}

/* ------------------------------------------------------------------ retry */

int cmd_mail_retry(int argc, char **argv)
{
	const struct tsr_mail_config *mail;
	struct mail_args a;
	struct tsr_ca *ca = NULL;
	struct tsr_ra *ra = NULL;
	const char *home;
	int r, sent = 0, failed = 0;

	if ((r = parse(argc, argv, cli_usage_mail_retry, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0)
		return r;
	if ((r = tsr_ca_open(home, &ca)) != 0 || (r = tsr_ra_open(ca, &ra)) != 0)
		goto out;
	mail = tsr_ra_mail(ra);
	if (mail->smtp_url == NULL) {
		r = tsr_error(TSR_ERR_CONFIG, "no SMTP relay is configured: set [mail] smtp_url in "
		    "%s/tessera.conf (without one, messages stay in %s/new for a local MTA or an "
		    "operator)", home, mail->outbox_dir);
		goto out;
	}
	if ((r = tsr_mail_retry(mail, &sent, &failed)) != 0) {
		r = tsr_error_wrap(r, "%d sent, %d failed (left in %s/new)", sent, failed,
		    mail->outbox_dir);
		goto out;
	}
	if (a.json)
		r = cli_json_print(json_pack("{s:i, s:i}", "sent", sent, "failed", failed));
	else
		printf("%d sent, %d failed\n", sent, failed);
out:
	tsr_ra_close(ra);
	tsr_ca_close(ca);
	return r;
}
