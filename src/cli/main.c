/*
 * main.c - `tessera`: the command table and dispatch.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.1.0"
#endif

static const struct cli_command commands[] = {
	{ "init", NULL, "create a CA home: keys on a PKCS#11 token, CA certificates, config",
	    cli_usage_init, cmd_init },
	{ "serve", NULL, "serve the HTTPS API (TLS certificate issued by this CA to itself)",
	    cli_usage_serve, cmd_serve },
	{ "cert", "issue", "issue a subscriber certificate for a product from a CSR",
	    cli_usage_cert_issue, cmd_cert_issue },
	{ "cert", "show", "show one certificate", cli_usage_cert_show, cmd_cert_show },
	{ "cert", "list", "list certificates, newest first", cli_usage_cert_list, cmd_cert_list },
	{ "cert", "revoke", "revoke a subscriber certificate for good, with a reason",
	    cli_usage_cert_revoke, cmd_cert_revoke },
	{ "cert", "suspend", "put a subscriber certificate on hold (certificateHold)",
	    cli_usage_cert_suspend, cmd_cert_suspend },
	{ "cert", "resume", "lift the hold on a suspended certificate",
	    cli_usage_cert_resume, cmd_cert_resume },
	{ "product", "list", "list the products this CA offers",
	    cli_usage_product_list, cmd_product_list },
	{ "product", "show", "show one product's profile and enrollment policy",
	    cli_usage_product_show, cmd_product_show },
	{ "audit", "verify", "verify the hash chain of the audit log",
	    cli_usage_audit_verify, cmd_audit_verify },
	{ "audit", "list", "list audit records", cli_usage_audit_list, cmd_audit_list },
	{ "user", "add", "add an officer who logs in to the RA", cli_usage_user_add, cmd_user_add },
	{ "user", "list", "list the officers", cli_usage_user_list, cmd_user_list },
	{ "user", "show", "show one officer", cli_usage_user_show, cmd_user_show },
	{ "user", "passwd", "set an officer's password", cli_usage_user_passwd, cmd_user_passwd },
	{ "user", "roles", "replace an officer's roles", cli_usage_user_roles, cmd_user_roles },
	{ "user", "disable", "switch an officer's account off", cli_usage_user_disable,
	    cmd_user_disable },
	{ "user", "enable", "switch an officer's account on again", cli_usage_user_enable,
	    cmd_user_enable },
	{ "user", "unlock", "unlock an account locked by failed logins", cli_usage_user_unlock,
	    cmd_user_unlock },
	{ "voucher", "create", "make a batch of voucher codes for a product",
	    cli_usage_voucher_create, cmd_voucher_create },
	{ "voucher", "list", "list voucher batches and their counts (never codes)",
	    cli_usage_voucher_list, cmd_voucher_list },
	{ "voucher", "revoke", "revoke the unused codes of a batch", cli_usage_voucher_revoke,
	    cmd_voucher_revoke },
	{ "ra", "queue", "list applications waiting for review, oldest first",
	    cli_usage_ra_queue, cmd_ra_queue },
	{ "ra", "show", "show one application to an officer", cli_usage_ra_show, cmd_ra_show },
	{ "ra", "approve", "approve an application (the officer's password is checked)",
	    cli_usage_ra_approve, cmd_ra_approve },
	{ "ra", "reject", "reject an application with a reason", cli_usage_ra_reject,
	    cmd_ra_reject },
	{ "ra", "assign-token", "assign the hardware token to ship", cli_usage_ra_assign_token,
	    cmd_ra_assign_token },
	{ "ra", "unlock", "unlock an applicant's account or code", cli_usage_ra_unlock,
	    cmd_ra_unlock },
	{ "ra", "reissue", "issue an activation again (a lost letter)", cli_usage_ra_reissue,
	    cmd_ra_reissue },
	{ "ra", "lapse", "lapse the applications whose deadline passed", cli_usage_ra_lapse,
	    cmd_ra_lapse },
	{ "mail", "list", "list the outboxes' messages (never their bodies)",
	    cli_usage_mail_list, cmd_mail_list },
	{ "mail", "retry", "relay the unsent mail now", cli_usage_mail_retry, cmd_mail_retry },
	{ "token", "check", "is the token ready: module, token, passcode (subscribers)",
	    cli_usage_token_check, cmd_token_check },
	{ "token", "passcode", "change the token passcode", cli_usage_token_passcode,
	    cmd_token_passcode },
	{ "token", "retrieve", "retrieve the approved certificate onto the token (EST)",
	    cli_usage_token_retrieve, cmd_token_retrieve },
	{ "token", "show", "list the token's certificates and keys", cli_usage_token_show,
	    cmd_token_show },
	{ "token", "test", "Test My Certificate: sign a server nonce, get the verdict",
	    cli_usage_token_test, cmd_token_test },
	{ "token", "renew", "renew the certificate with a new key on the token (EST)",
	    cli_usage_token_renew, cmd_token_renew },
	{ "token", "revoke", "revoke or suspend your certificate (lost or compromised token)",
	    cli_usage_token_revoke, cmd_token_revoke },
	{ "crl", NULL, "publish a CA's CRL now, and copy it to a file",
	    cli_usage_crl, cmd_crl },
	{ "ocsp", "export", "write a signed OCSP response for every certificate (CDN, nginx)",
	    cli_usage_ocsp_export, cmd_ocsp_export },
	{ "ocsp", "rotate", "renew the OCSP-signing certificate and key now",
	    cli_usage_ocsp_rotate, cmd_ocsp_rotate },
	{ "db", "migrate", "bring the database to this version's schema",
	    cli_usage_db_migrate, cmd_db_migrate },
	{ "db", "copy", "copy the whole database to an empty one (SQLite to PostgreSQL), verified",
	    cli_usage_db_copy, cmd_db_copy },
	{ "sign", NULL, "sign a document with the key on your token (CMS)", cli_usage_sign, cmd_sign },
	{ "verify", NULL, "check a document signature, its chain and validity", cli_usage_verify,
	    cmd_verify },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tessera <command> [<subcommand>] [options]\n\n"
	    "Tessera is an identity-proofing certificate authority.\n\ncommands:\n");
	for (size_t i = 0; i < TSR_ARRAY_LEN(commands); i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s %s", commands[i].group,
		    commands[i].name ? commands[i].name : "");
		fprintf(f, "  %-16s %s\n", name, commands[i].summary);
	}
	fprintf(f, "\n`tessera <command> --help` describes each command's options.\n"
	    "Environment: TESSERA_HOME stands for --home DIR.\n");
}

static void group_usage(const char *group)
{
	fprintf(stdout, "usage: tessera %s <subcommand> [options]\n\nsubcommands:\n", group);
	for (size_t i = 0; i < TSR_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].group, group) == 0)
			fprintf(stdout, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

static const struct cli_command *find(int argc, char **argv, bool *group_only)
{
	*group_only = false;
	for (size_t i = 0; i < TSR_ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].group, argv[1]) != 0)
			continue;
		if (commands[i].name == NULL)
			return &commands[i];
		*group_only = true;
		if (argc > 2 && strcmp(commands[i].name, argv[2]) == 0)
			return &commands[i];
	}
	return NULL;
}

static int run(const struct cli_command *c, int argc, char **argv)
{
	int skip = c->name ? 2 : 1;
	int r;

	tsr_error_clear();
	r = c->run(argc - skip, argv + skip);
	if (r == CLI_HELP)
		return 0;
	if (r != 0) {
		const char *detail = tsr_error_detail();

		fprintf(stderr, "tessera: error: %s\n", detail[0] ? detail : tsr_strerror(r));
		return tsr_error_exit_status(r);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	bool group_only;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 64 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tessera %s (%s)\n", TESSERA_VERSION, OpenSSL_version(OPENSSL_VERSION));
		return 0;
	}
	if ((c = find(argc, argv, &group_only)) != NULL)
		return run(c, argc, argv);
	if (group_only) {
		if (argc > 2 && strcmp(argv[2], "--help") != 0 && strcmp(argv[2], "-h") != 0) {
			fprintf(stderr, "tessera: error: unknown command '%s %s'\n", argv[1], argv[2]);
			group_usage(argv[1]);
			return 64;
		}
		group_usage(argv[1]);
		return argc > 2 ? 0 : 64;
	}
	fprintf(stderr, "tessera: error: unknown command '%s' (see tessera --help)\n", argv[1]);
	return 64;
}
