/*
 * cmd_ocsp.c - `tessera ocsp export` (signed answers as files, for a CDN
 * or a web server) and `tessera ocsp rotate` (a new OCSP-signing key and
 * certificate now).  docs/ocsp.md.
 */
#include <stdio.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_ocsp_export[] =
    "usage: tessera ocsp export [--home DIR] --out DIR\n"
    "\n"
    "Sign an OCSP answer (RFC 5019 profile: SHA-1 CertID, no nonce) for every\n"
    "certificate of the issuing CA that has not expired, and write each to\n"
    "DIR/<SERIAL>.der (upper-case hex), for a CDN or a web server to serve.  The\n"
    "answers are valid for [ca] ocsp_response_hours: export again well before that\n"
    "(every quarter of it, say) and after every revocation.\n"
    "\n"
    "options:\n"
    "  --home DIR   the CA home (or $TESSERA_HOME)\n"
    "  --out DIR    where the answers go (created if missing)\n";

const char cli_usage_ocsp_rotate[] =
    "usage: tessera ocsp rotate [--home DIR] [--force]\n"
    "\n"
    "Renew the delegated OCSP-signing certificate: a new key on the token, certified\n"
    "by the issuing CA for [ca] ocsp_validity_days.  Without --force only when less\n"
    "than a third of the current certificate's validity is left (`tessera serve`\n"
    "checks this itself every 10 minutes).  A running server signs with the new key\n"
    "within a second.\n"
    "\n"
    "options:\n"
    "  --home DIR   the CA home (or $TESSERA_HOME)\n"
    "  --force      renew now, whatever is left\n";

enum { OPT_HOME = 1, OPT_OUT, OPT_FORCE, OPT_HELP };

static const struct option ocsp_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct ocsp_args {
	const char *home, *out;
	bool force;
};

static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct ocsp_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, ocsp_options, OPT_HELP, allowed, usage)) > 0) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_FORCE: a->force = true; break;
		case CLI_HELP: return CLI_HELP;
		default: return cli_bad_option(usage, argv);
		}
	}
	if (c < 0)
		return c;
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return 0;
}

int cmd_ocsp_export(int argc, char **argv)
{
	const char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_OUT), '\0' };
	struct ocsp_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	size_t count = 0;
	int r;

	if ((r = parse(argc, argv, cli_usage_ocsp_export, allowed, &a)) != 0)
		return r;
	if (a.out == NULL || a.out[0] == '\0')
		return cli_usage_error(cli_usage_ocsp_export, "--out DIR is required");
	if ((r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	r = tsr_ocsp_export(ca, cli_actor(), a.out, &count);
	if (r == 0)
		printf("exported %zu OCSP response%s to %s\n", count, count == 1 ? "" : "s", a.out);
	tsr_ca_close(ca);
	return r;
}

int cmd_ocsp_rotate(int argc, char **argv)
{
	const char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_FORCE), '\0' };
	struct ocsp_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	bool rotated = false;
	int r;

	if ((r = parse(argc, argv, cli_usage_ocsp_rotate, allowed, &a)) != 0)
		return r;
	if ((r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	r = tsr_ca_ocsp_rotate(ca, cli_actor(), a.force, &rotated);
	if (r == 0)
		printf("%s\n", rotated ? "renewed the OCSP-signing certificate" :
		    "the OCSP-signing certificate is not due yet (use --force to renew it now)");
	tsr_ca_close(ca);
	return r;
}
