/*
 * cli.h - the `tessera` command: its command table and shared helpers.
 * One file per command group (cmd_*.c); main.c holds the table.
 */
#ifndef TSR_CLI_H
#define TSR_CLI_H

#include <getopt.h>
#include <jansson.h>

#include "base/base.h"

struct cli_command {
	const char *group;     /* "cert" */
	const char *name;      /* "issue", or NULL for a command without subcommands */
	const char *summary;   /* one line for `tessera --help` */
	const char *usage;     /* the full `--help` text */
	int (*run)(int argc, char **argv);
};

/* Exit statuses besides those of tsr_error_exit_status(). */
#define CLI_HELP 1000          /* run() printed help: exit 0 */

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_cert_issue(int argc, char **argv);
int cmd_cert_show(int argc, char **argv);
int cmd_cert_list(int argc, char **argv);
int cmd_cert_revoke(int argc, char **argv);
int cmd_cert_suspend(int argc, char **argv);
int cmd_cert_resume(int argc, char **argv);
extern const char cli_usage_cert_revoke[], cli_usage_cert_suspend[], cli_usage_cert_resume[];
int cmd_product_list(int argc, char **argv);
int cmd_product_show(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);
int cmd_audit_list(int argc, char **argv);

extern const char cli_usage_serve[];
extern const char cli_usage_init[], cli_usage_cert_issue[], cli_usage_cert_show[],
    cli_usage_cert_list[], cli_usage_product_list[], cli_usage_product_show[],
    cli_usage_audit_verify[], cli_usage_audit_list[];

/* cmd_user.c, cmd_voucher.c: officers and voucher batches. */
int cmd_user_add(int argc, char **argv);
int cmd_user_list(int argc, char **argv);
int cmd_user_show(int argc, char **argv);
int cmd_user_passwd(int argc, char **argv);
int cmd_user_roles(int argc, char **argv);
int cmd_user_disable(int argc, char **argv);
int cmd_user_enable(int argc, char **argv);
int cmd_user_unlock(int argc, char **argv);
int cmd_voucher_create(int argc, char **argv);
int cmd_voucher_list(int argc, char **argv);
int cmd_voucher_revoke(int argc, char **argv);

extern const char cli_usage_user_add[], cli_usage_user_list[], cli_usage_user_show[],
    cli_usage_user_passwd[], cli_usage_user_roles[], cli_usage_user_disable[],
    cli_usage_user_enable[], cli_usage_user_unlock[], cli_usage_voucher_create[],
    cli_usage_voucher_list[], cli_usage_voucher_revoke[];

/* cmd_ra.c: the RA officers' review commands. */
int cmd_ra_queue(int argc, char **argv);
int cmd_ra_show(int argc, char **argv);
int cmd_ra_approve(int argc, char **argv);
int cmd_ra_reject(int argc, char **argv);
int cmd_ra_assign_token(int argc, char **argv);
int cmd_ra_unlock(int argc, char **argv);
int cmd_ra_reissue(int argc, char **argv);
int cmd_ra_lapse(int argc, char **argv);

extern const char cli_usage_ra_queue[], cli_usage_ra_show[], cli_usage_ra_approve[],
    cli_usage_ra_reject[], cli_usage_ra_assign_token[], cli_usage_ra_unlock[],
    cli_usage_ra_reissue[], cli_usage_ra_lapse[];

/* cmd_mail.c: the mail outboxes. */
int cmd_mail_list(int argc, char **argv);
int cmd_mail_retry(int argc, char **argv);
extern const char cli_usage_mail_list[], cli_usage_mail_retry[];

/* cmd_sign.c: document signatures. */
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
extern const char cli_usage_sign[], cli_usage_verify[];

/* cmd_token.c: the subscriber's token. */
int cmd_token_check(int argc, char **argv);
int cmd_token_passcode(int argc, char **argv);
int cmd_token_retrieve(int argc, char **argv);
int cmd_token_show(int argc, char **argv);
int cmd_token_test(int argc, char **argv);
int cmd_token_renew(int argc, char **argv);
extern const char cli_usage_token_check[], cli_usage_token_passcode[],
    cli_usage_token_retrieve[], cli_usage_token_show[], cli_usage_token_test[],
    cli_usage_token_renew[];
int cmd_token_revoke(int argc, char **argv);
extern const char cli_usage_token_revoke[];

/* cmd_crl.c: `tessera crl`. */
int cmd_crl(int argc, char **argv);
extern const char cli_usage_crl[];

/* cmd_db.c: the database itself. */
int cmd_db_migrate(int argc, char **argv);
int cmd_db_copy(int argc, char **argv);
extern const char cli_usage_db_migrate[], cli_usage_db_copy[];

/* cmd_ocsp.c: `tessera ocsp export|rotate`. */
int cmd_ocsp_export(int argc, char **argv);
int cmd_ocsp_rotate(int argc, char **argv);
extern const char cli_usage_ocsp_export[], cli_usage_ocsp_rotate[];

/* "cli:<login name>": who is acting, for the audit log. */
const char *cli_actor(void);
/* --home, else $TESSERA_HOME, else an error. */
int cli_home(const char *opt, const char **out) TSR_MUST_CHECK;
/* A usage mistake: TSR_ERR_INVALID, detail "<what> (usage: <synopsis>)". */
int cli_usage_error(const char *usage, const char *fmt, ...) TSR_PRINTF(2, 3);
/* The option getopt_long() just refused, as a usage mistake. */
int cli_bad_option(const char *usage, char **argv);

/* Subcommands that share an option table say which options each takes: a
 * string of CLI_ALLOW(option) characters (option values are small
 * positive numbers, OPT_HELP the largest). */
#define CLI_ALLOW(opt) ((char)('a' + (opt)))

/* Start parsing argv (resets getopt, which prints nothing of its own). */
void cli_options_begin(void);
/* The next option: > 0 an allowed option (its value in optarg), 0 at the
 * end, CLI_HELP once usage was printed for --help, or a usage error for an
 * unknown, malformed or not-allowed option (allowed NULL: all allowed). */
int cli_next_option(int argc, char **argv, const struct option *opts, int help_opt,
    const char *allowed, const char *usage);
/* Parse a non-negative decimal integer option. */
int cli_parse_uint(const char *opt, const char *s, long max, long *out) TSR_MUST_CHECK;
/* Parse YYYY-MM-DD (UTC midnight). */
int cli_parse_date(const char *opt, const char *s, time_t *out) TSR_MUST_CHECK;
/* Print a JSON value to stdout with a newline, and free it. */
int cli_json_print(json_t *v) TSR_MUST_CHECK;

/* password.c: the first line of a file only its owner may read (option
 * names the command-line option in errors; *out is
 * the caller's: tsr_free_secret()), or typed on the terminal with echo off,
 * twice when again is not NULL. */
int cli_password_file(const char *path, const char *option, char **out) TSR_MUST_CHECK;
int cli_password_prompt(const char *prompt, const char *again, char **out) TSR_MUST_CHECK;

#endif /* TSR_CLI_H */
