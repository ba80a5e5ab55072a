/*
 * cmd_init.c - `tessera init`.
 */
#include <stdio.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_init[] =
    "usage: tessera init --home DIR [options]\n"
    "\n"
    "Create a new CA home in DIR (which must not exist, or be empty): the config file,\n"
    "the SQLite database, a root CA and an issuing CA whose private keys are generated\n"
    "inside a PKCS#11 token (sensitive, never extractable), and a delegated\n"
    "OCSP-signing certificate.  Without --pkcs11-module, a SoftHSM2 token is created\n"
    "inside DIR with its own configuration and a random PIN in DIR/token.pin (0600).\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home to create (or $TESSERA_HOME)\n"
    "  --org NAME            organization named in the CA certificates (default \"Tessera Demo\")\n"
    "  --country CC          two-letter country code for the CA certificates\n"
    "  --key-type TYPE       CA key type: ec-p256, ec-p384 (default), rsa-3072, rsa-4096\n"
    "  --public-url URL      base of the OCSP, CRL and CA-certificate URLs written into\n"
    "                        certificates (default http://localhost:8080)\n"
    "  --root-days N         root CA validity in days (default 7300, at most 7305)\n"
    "  --issuing-days N      issuing CA validity in days (default 3650, at most 3653)\n"
    "  --ocsp-days N         OCSP-signing certificate validity in days (default 90, at most 120)\n"
    "  --pkcs11-module PATH  use an existing PKCS#11 token through this module...\n"
    "  --token URI           ...the token, as an RFC 7512 URI, e.g. 'pkcs11:token=My%20HSM'\n"
    "  --pin-file FILE       ...and a file holding its user PIN (referenced, not copied)\n"
    "  --softhsm-module PATH SoftHSM2 module for the built-in token\n"
    "                        (default /usr/lib/softhsm/libsofthsm2.so)\n"
    "  --database URI        keep the CA's data in this empty PostgreSQL database\n"
    "                        (postgresql://...; a password goes in a passfile) instead\n"
    "                        of DIR/tessera.db; see docs/postgresql.md\n"
    "  --help                this text\n";

enum { OPT_HOME = 1, OPT_ORG, OPT_COUNTRY, OPT_KEY_TYPE, OPT_PUBLIC_URL, OPT_ROOT_DAYS,
	OPT_ISSUING_DAYS, OPT_OCSP_DAYS, OPT_MODULE, OPT_TOKEN, OPT_PIN_FILE, OPT_SOFTHSM,
	OPT_DATABASE, OPT_HELP };

static const struct option init_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "org", required_argument, NULL, OPT_ORG },
	{ "country", required_argument, NULL, OPT_COUNTRY },
	{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
	{ "public-url", required_argument, NULL, OPT_PUBLIC_URL },
	{ "root-days", required_argument, NULL, OPT_ROOT_DAYS },
	{ "issuing-days", required_argument, NULL, OPT_ISSUING_DAYS },
	{ "ocsp-days", required_argument, NULL, OPT_OCSP_DAYS },
	{ "pkcs11-module", required_argument, NULL, OPT_MODULE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "pin-file", required_argument, NULL, OPT_PIN_FILE },
	{ "softhsm-module", required_argument, NULL, OPT_SOFTHSM },
	{ "database", required_argument, NULL, OPT_DATABASE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int set_days(const char *opt, const char *arg, int *out)
{
	long v;
	int r = cli_parse_uint(opt, arg, 100000, &v);

	if (r == 0)
		*out = (int)v;
	return r;
}

static int parse(int argc, char **argv, struct tsr_init_options *o, const char **home)
{
	int c, r = 0;

	*home = NULL;
	optind = 1;
	opterr = 0;   /* one error line, ours */
	while (r == 0 && (c = getopt_long(argc, argv, "", init_options, NULL)) != -1) {
		switch (c) {
		case OPT_HOME: *home = optarg; break;
		case OPT_ORG: o->organization = optarg; break;
		case OPT_COUNTRY: o->country = optarg; break;
		case OPT_KEY_TYPE: r = tsr_key_type_parse(optarg, &o->key_type); break;
		case OPT_PUBLIC_URL: o->public_url = optarg; break;
		case OPT_ROOT_DAYS: r = set_days("--root-days", optarg, &o->root_days); break;
		case OPT_ISSUING_DAYS: r = set_days("--issuing-days", optarg, &o->issuing_days); break;
		case OPT_OCSP_DAYS: r = set_days("--ocsp-days", optarg, &o->ocsp_days); break;
		case OPT_MODULE: o->module_path = optarg; break;
		case OPT_TOKEN: o->token_uri = optarg; break;
		case OPT_PIN_FILE: o->pin_file = optarg; break;
		case OPT_SOFTHSM: o->softhsm_module = optarg; break;
		case OPT_DATABASE: o->database = optarg; break;
		case OPT_HELP: fputs(cli_usage_init, stdout); return CLI_HELP;
		default: return cli_bad_option(cli_usage_init, argv);
		}
	}
	if (r == 0 && optind < argc)
		r = cli_usage_error(cli_usage_init, "unexpected argument '%s'", argv[optind]);
	return r;
}

int cmd_init(int argc, char **argv)
{
	struct tsr_init_options o;
	const char *home;
	int r;

	tsr_init_options_default(&o);
	if ((r = parse(argc, argv, &o, &home)) != 0)
		return r;
	if ((r = cli_home(home, &o.home)) != 0)
		return r;
	if ((r = tsr_ca_init(&o, cli_actor())) != 0)
		return r;
	printf("Created the CA home %s\n"
	    "  config         %s/tessera.conf\n"
	    "  database       %s%s\n"
	    "  token          %s\n"
	    "  token PIN      %s%s\n"
	    "  root CA        %s/certs/root.pem\n"
	    "  issuing CA     %s/certs/issuing.pem\n"
	    "  OCSP signer    %s/certs/ocsp.pem\n"
	    "  chain          %s/certs/chain.pem\n"
	    "Next: tessera product list --home %s\n",
	    o.home, o.home, o.database ? o.database : o.home, o.database ? "" : "/tessera.db",
	    o.module_path ? o.token_uri : "built-in SoftHSM2 token in tokens/",
	    o.module_path ? "" : o.home, o.module_path ? o.pin_file : "/token.pin (mode 0600)", o.home, o.home, o.home, o.home,
	    o.home);
	return 0;
}
