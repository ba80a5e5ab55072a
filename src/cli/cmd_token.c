/*
 * cmd_token.c - `tessera token check|passcode|retrieve|show|test|renew|revoke`: the
 * subscriber's commands for their PKCS#11 token.  The work is src/client's
 * (client/client.h); this file parses options, asks for passwords without
 * echo (or reads them from files), and prints.  docs/token.md has the
 * whole journey and the token conventions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "client/client.h"

#define CA_FILE_ENV "TESSERA_CA_FILE"

#define TOKEN_OPTIONS \
    "  --module PATH         the token's PKCS#11 module (default: $" TSR_CLIENT_MODULE_ENV ",\n" \
    "                        else OpenSC's " TSR_CLIENT_DEFAULT_MODULE ")\n" \
    "  --token URI           which token, as a PKCS#11 URI (e.g. 'pkcs11:serial=...');\n" \
    "                        default: the only one present\n"
#define SERVER_OPTIONS \
    "  --server URL          the CA, https://HOST[:PORT] (from your activation letter)\n" \
    "  --ca-file ROOT        the CA's root certificate (PEM; from your activation letter or\n" \
    "                        the CA's web page; or $" CA_FILE_ENV "): the only certificate\n" \
    "                        the server's TLS certificate may chain to\n"
#define PASSCODE_OPTION \
    "  --passcode-file FILE  read the token passcode from FILE (mode 0600) instead of\n" \
    "                        asking on the terminal\n"

const char cli_usage_token_check[] =
    "usage: tessera token check [--module PATH] [--token URI]\n"
    "\n"
    "Check that the token is ready: the module loads, a token is present, what it\n"
    "is (manufacturer, model, serial, free space), and whether its passcode is still\n"
    "the initial one.  Says what is missing and how to fix it.  Needs no passcode.\n"
    "Exit status 0 when the token is ready for `tessera token retrieve`.\n"
    "\n"
    "options:\n"
    TOKEN_OPTIONS
    "  --help                this text\n";

const char cli_usage_token_passcode[] =
    "usage: tessera token passcode [--module PATH] [--token URI] [--passcode-file FILE]\n"
    "                              [--new-passcode-file FILE]\n"
    "\n"
    "Change the token passcode: asks for the current one once and for the new one\n"
    "twice, without echo.  A token shipped by the CA must get a passcode of your own\n"
    "this way before the certificate can be retrieved.\n"
    "\n"
    "options:\n"
    TOKEN_OPTIONS
    "  --passcode-file FILE  read the current passcode from FILE (mode 0600)\n"
    "  --new-passcode-file FILE  read the new passcode from FILE (mode 0600)\n"
    "  --help                this text\n";

const char cli_usage_token_retrieve[] =
    "usage: tessera token retrieve --server URL --ca-file ROOT --activation-code CODE\n"
    "                              [--password-file FILE] [--passcode-file FILE]\n"
    "                              [--module PATH] [--token URI]\n"
    "\n"
    "Retrieve the approved certificate onto the token (EST simpleenroll): a key pair\n"
    "is generated on the token (sensitive, never extractable; its type is the\n"
    "product's), a request signed by it goes to the server with the activation code\n"
    "and the account password, and the certificate and its CA certificates are\n"
    "stored on the token beside the key.  Asks for the account password and the\n"
    "token passcode without echo.  An interrupted retrieval is safe to run again: the\n"
    "same key is used and the server returns the same certificate.\n"
    "\n"
    "options:\n"
    SERVER_OPTIONS
    "  --activation-code CODE  the code from your activation letter (asked for if\n"
    "                        not given)\n"
    "  --password-file FILE  read the account password from FILE (mode 0600)\n"
    PASSCODE_OPTION
    TOKEN_OPTIONS
    "  --help                this text\n";

const char cli_usage_token_show[] =
    "usage: tessera token show [--module PATH] [--token URI] [--ca-file ROOT]\n"
    "                          [--login] [--passcode-file FILE]\n"
    "\n"
    "List the token's certificates and keys: for each certificate its subject,\n"
    "issuer, serial, validity and whether it is valid now, whether its key is on the\n"
    "token, and with --ca-file whether it chains to that root.  Private keys are\n"
    "listed (with their protection) only after --login.\n"
    "\n"
    "options:\n"
    TOKEN_OPTIONS
    "  --ca-file ROOT        check each certificate's chain to this root (PEM)\n"
    "  --login               log in to list private keys too\n"
    PASSCODE_OPTION
    "  --help                this text\n";

const char cli_usage_token_test[] =
    "usage: tessera token test --server URL --ca-file ROOT [--passcode-file FILE]\n"
    "                          [--id HEX] [--module PATH] [--token URI]\n"
    "\n"
    "Test My Certificate: the server hands out a single-use nonce, the token signs\n"
    "\"" TSR_CLIENT_TEST_PREFIX "<nonce>\" after the passcode, and the\n"
    "server checks the signature, the chain, the validity and the status of the\n"
    "certificate.  Exit status 0 only if all four are good.\n"
    "\n"
    "options:\n"
    SERVER_OPTIONS
    PASSCODE_OPTION
    "  --id HEX              the certificate's CKA_ID (default: the valid one that\n"
    "                        expires last)\n"
    TOKEN_OPTIONS
    "  --help                this text\n";

const char cli_usage_token_renew[] =
    "usage: tessera token renew --server URL --ca-file ROOT [--passcode-file FILE]\n"
    "                           [--id HEX] [--keep-old] [--module PATH] [--token URI]\n"
    "\n"
    "Renew before expiry (EST simplereenroll): a new key pair on the token, a\n"
    "request signed by it, sent over TLS authenticated by the current certificate and\n"
    "its token key.  The new certificate is stored beside the new key; then the old\n"
    "key and certificate are removed (kept with --keep-old).  RSA keys renew over\n"
    "TLS 1.2 (docs/token.md says why).\n"
    "\n"
    "options:\n"
    SERVER_OPTIONS
    PASSCODE_OPTION
    "  --id HEX              the certificate to renew, by CKA_ID (default: the valid\n"
    "                        one that expires last)\n"
    "  --keep-old            keep the old key and certificate on the token\n"
    TOKEN_OPTIONS
    "  --help                this text\n";

enum { OPT_MODULE = 1, OPT_TOKEN, OPT_SERVER, OPT_CA_FILE, OPT_CODE, OPT_PWFILE, OPT_PCFILE,
	OPT_NEW_PCFILE, OPT_LOGIN, OPT_ID, OPT_KEEP_OLD, OPT_HELP };

static const struct option token_options[] = {
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "activation-code", required_argument, NULL, OPT_CODE },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "passcode-file", required_argument, NULL, OPT_PCFILE },
	{ "new-passcode-file", required_argument, NULL, OPT_NEW_PCFILE },
	{ "login", no_argument, NULL, OPT_LOGIN },
	{ "id", required_argument, NULL, OPT_ID },
	{ "keep-old", no_argument, NULL, OPT_KEEP_OLD },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct token_args {
	const char *module, *token, *server, *ca_file, *code, *pwfile, *pcfile, *new_pcfile;
	bool login, keep_old;
	uint8_t id[64];
	size_t id_len;
};

#define ALLOW_TOKEN CLI_ALLOW(OPT_MODULE), CLI_ALLOW(OPT_TOKEN)
#define ALLOW_SERVER CLI_ALLOW(OPT_SERVER), CLI_ALLOW(OPT_CA_FILE), CLI_ALLOW(OPT_PCFILE)

static int set_option(struct token_args *a, int c, const char *usage)
{
	switch (c) {
	case OPT_MODULE: a->module = optarg; break;
	case OPT_TOKEN: a->token = optarg; break;
	case OPT_SERVER: a->server = optarg; break;
	case OPT_CA_FILE: a->ca_file = optarg; break;
	case OPT_CODE: a->code = optarg; break;
	case OPT_PWFILE: a->pwfile = optarg; break;
	case OPT_PCFILE: a->pcfile = optarg; break;
	case OPT_NEW_PCFILE: a->new_pcfile = optarg; break;
	case OPT_LOGIN: a->login = true; break;
	case OPT_KEEP_OLD: a->keep_old = true; break;
	case OPT_ID:
		if (tsr_hex_decode(optarg, a->id, sizeof(a->id), &a->id_len) != 0 ||
		    a->id_len == 0)
			return cli_usage_error(usage, "--id: '%s' is not 1 to 64 bytes of hex",
			    optarg);
		break;
	default: break;
	}
	return 0;
}

/* One parser for every subcommand; allowed lists the options each takes. */
static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct token_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, token_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP)
		r = set_option(a, c, usage);
	if (c < 0 || c == CLI_HELP)
		return c;
	if (r != 0)
		return r;
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (strchr(allowed, CLI_ALLOW(OPT_SERVER)) != NULL) {
		if (a->server == NULL)
			return cli_usage_error(usage, "--server URL is required");
		if (a->ca_file == NULL)
			a->ca_file = getenv(CA_FILE_ENV);
		if (a->ca_file == NULL || a->ca_file[0] == '\0')
			return cli_usage_error(usage, "--ca-file ROOT is required: the CA's root "
			    "certificate, from your activation letter or the CA's web page");
	}
	return 0;
}

/* ------------------------------------------------------------------ secrets */
/* A secret from --OPT FILE, else asked on the terminal (twice if again). */
static int secret(const char *opt, const char *file, const char *prompt, const char *again,
    char **out)
{
	if (file != NULL)
		return cli_password_file(file, opt, out);
	if (!isatty(STDIN_FILENO))
		return tsr_error(TSR_ERR_INVALID, "standard input is not a terminal to ask on: give "
		    "%s FILE", opt);
	return cli_password_prompt(prompt, again, out);
}

/* Log in with the passcode from --passcode-file or the terminal. */
static int login(struct tsr_client_token *t, const char *file)
{
	char *pin = NULL;
	int r;

	if (t->info.protected_auth_path)
		fprintf(stderr, "(this token has a PIN pad: enter the passcode there if it asks)\n");
	if ((r = secret("--passcode-file", file, "Token passcode: ", NULL, &pin)) == 0)
		r = tsr_client_login(t, pin);
	tsr_free_secret(pin);
	return r;
}

/* ------------------------------------------------------------------ printing */
static void print_time(const char *label, const ASN1_TIME *at)
{
	struct tm tm;
	char s[21];

	if (ASN1_TIME_to_tm(at, &tm) != 1) {
		printf("%s?", label);
		return;
	}
	tsr_time_format(timegm(&tm), s);
	printf("%s%s", label, s);
}

static void print_name(const char *label, const X509_NAME *name)
{
	char *s = NULL;

	if (tsr_name_format(name, &s) != 0) {
		tsr_error_clear();
		printf("%s(a name Tessera does not print)\n", label);
		return;
	}
	printf("%s%s\n", label, s);
	free(s);
}

/* The serial in lower-case hex of its bytes, as `tessera cert list`, `token
 * test` and `tessera verify` print it, so that one can be found in another. */
static void print_serial(const char *label, X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t bytes[20];
	char hex[41] = "?";
	int n;

	if (bn != NULL && (n = BN_num_bytes(bn)) > 0 && n <= (int)sizeof(bytes) &&
	    BN_bn2bin(bn, bytes) == n)
		tsr_hex_encode(bytes, (size_t)n, hex);
	printf("%s%s\n", label, hex);
	BN_free(bn);
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
	char hex[129];

	tsr_hex_encode(p, n < 64 ? n : 64, hex);
	printf("%s%s\n", label, n > 0 ? hex : "(none)");
}

/* "valid now", "expired", "not yet valid". */
static const char *validity_word(X509 *x, time_t now)
{
	if (X509_cmp_time(X509_get0_notBefore(x), &now) >= 0)
		return "not yet valid";
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0)
		return "expired";
	return "valid now";
}

static void print_cert(X509 *x, const char *indent)
{
	char label[32];

	snprintf(label, sizeof(label), "%ssubject:  ", indent);
	print_name(label, X509_get_subject_name(x));
	snprintf(label, sizeof(label), "%sissuer:   ", indent);
	print_name(label, X509_get_issuer_name(x));
	snprintf(label, sizeof(label), "%sserial:   ", indent);
	print_serial(label, x);
	snprintf(label, sizeof(label), "%svalid:    ", indent);
	print_time(label, X509_get0_notBefore(x));
	print_time(" to ", X509_get0_notAfter(x));
	printf(" (%s)\n", validity_word(x, tsr_now()));
}

static void print_token(const struct tsr_client_token *t)
{
	printf("Token:      \"%s\", %s %s, serial %s\n", t->info.label, t->info.manufacturer,
	    t->info.model, t->info.serial);
}

/* ------------------------------------------------------------------ check */
static void print_memory(const struct tsr_p11_token_info *i)
{
	printf("Free space: ");
	if (i->free_public_memory == ~0UL && i->free_private_memory == ~0UL)
		printf("not reported by the token\n");
	else
		printf("%lu bytes public, %lu bytes private\n", i->free_public_memory,
		    i->free_private_memory);
}

static void count_objects(struct tsr_client_token *t)
{
	struct tsr_p11_object *o;
	size_t n, certs = 0, keys = 0;

	if (tsr_p11_objects(t->s, &o, &n) != 0) {
		printf("Objects:    cannot be listed: %s\n", tsr_error_detail());
		tsr_error_clear();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		certs += o[i].cls == TSR_P11_CERTIFICATE;
		keys += o[i].cls == TSR_P11_PUBLIC_KEY;
	}
	tsr_p11_objects_free(o, n);
	printf("Objects:    %zu certificate%s, %zu public key%s (`tessera token show` lists "
	    "them)\n", certs, certs == 1 ? "" : "s", keys, keys == 1 ? "" : "s");
}

/* The passcode's state; an error (with the fix) if the token is not ready. */
static int check_passcode(const struct tsr_client_token *t)
{
	const char *why;

	if (!t->info.user_pin_initialized) {
		printf("Passcode:   none set\n");
		return tsr_error(TSR_ERR_PIN, "the token has no user passcode: it was not prepared "
		    "(the CA, or the token's security officer, must set one)");
	}
	if (t->info.user_pin_locked) {
		printf("Passcode:   locked\n");
		return tsr_error(TSR_ERR_PIN, "the passcode is locked after too many wrong tries: "
		    "the token's security officer (the CA, for a token it shipped) must unlock it");
	}
	if (tsr_client_initial_passcode(t, &why)) {
		printf("Passcode:   still the initial one: %s\n", why);
		return tsr_error(TSR_ERR_POLICY, "the token still has its initial passcode: change "
		    "it with `tessera token passcode` before retrieving a certificate");
	}
	printf("Passcode:   not the initial one (the token does not ask for a change, and the "
	    "CA's marker is absent)%s\n", t->info.user_pin_final_try ? "; ONE try left" :
	    t->info.user_pin_count_low ? "; few tries left" : "");
	return 0;
}

/* `tessera token check` */
int cmd_token_check(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, '\0' };
	struct tsr_client_token t;
	struct token_args a;
	int r;

	if ((r = parse(argc, argv, cli_usage_token_check, allowed, &a)) != 0)
		return r;
	if ((r = tsr_client_token_open(a.module, a.token, &t)) != 0)
		return r;   /* the error says what is missing and how to fix it */
	printf("Module:     %s (loaded)\n", t.module);
	print_token(&t);
	print_memory(&t.info);
	count_objects(&t);
	r = check_passcode(&t);
	printf("Status:     %s\n", r == 0 ? "ready for `tessera token retrieve`" : "not ready");
	tsr_client_token_close(&t);
	return r;
}

/* ------------------------------------------------------------------ passcode */
/* `tessera token passcode` */
int cmd_token_passcode(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, CLI_ALLOW(OPT_PCFILE), CLI_ALLOW(OPT_NEW_PCFILE), '\0' };
	char *old_pin = NULL, *new_pin = NULL;
	struct tsr_client_token t;
	struct token_args a;
	int r;

	if ((r = parse(argc, argv, cli_usage_token_passcode, allowed, &a)) != 0)
		return r;
	if ((r = tsr_client_token_open(a.module, a.token, &t)) != 0)
		return r;
	if ((r = secret("--passcode-file", a.pcfile, "Current token passcode: ", NULL,
	    &old_pin)) != 0 || (r = secret("--new-passcode-file", a.new_pcfile,
	    "New token passcode: ", "New token passcode again: ", &new_pin)) != 0)
		goto out;
	if (t.info.min_pin_len > 0 && strlen(new_pin) < t.info.min_pin_len) {
		r = tsr_error(TSR_ERR_INVALID, "the new passcode is too short: this token wants at "
		    "least %lu characters", t.info.min_pin_len);
		goto out;
	}
	if ((r = tsr_client_change_passcode(&t, old_pin, new_pin)) == 0)
		printf("The passcode of token %s (serial %s) is changed.\n", t.info.label,
		    t.info.serial);
out:
	tsr_free_secret(old_pin);
	tsr_free_secret(new_pin);
	tsr_client_token_close(&t);
	return r;
}

/* ------------------------------------------------------------------ retrieve */
static void print_key(struct tsr_client_token *t, const uint8_t *id, size_t id_len, bool reused)
{
	struct tsr_client_key key;
	struct tsr_p11_key_attrs at;

	if (tsr_client_key_by_id(t, id, id_len, &key) != 0 ||
	    tsr_p11_key_attrs(key.k, &at) != 0) {
		printf("  key:      cannot be read back: %s\n", tsr_error_detail());
		tsr_error_clear();
		tsr_client_key_free(&key);
		return;
	}
	printf("  key:      %s, generated on the token%s; %s, %s\n",
	    tsr_key_type_name(tsr_p11_key_type(key.k)),
	    reused ? " by the interrupted attempt" : "",
	    at.sensitive && at.always_sensitive ? "sensitive" : "NOT sensitive",
	    at.never_extractable && !at.extractable ? "never extractable" : "EXTRACTABLE");
	print_hex("  id:       ", id, id_len);
	tsr_client_key_free(&key);
}

static void print_issued(struct tsr_client_token *t, const struct tsr_client_issued *r,
    const char *what)
{
	printf("%s on token \"%s\" (serial %s)%s:\n", what, t->info.label, t->info.serial,
	    r->already_stored ? " (it was there already)" : "");
	print_cert(r->cert, "  ");
	print_key(t, r->id, r->id_len, r->key_reused);
	printf("  CA certificates: %d stored, %d already there\n", r->ca_stored,
	    sk_X509_num(r->chain) - r->ca_stored);
	if (r->old_removed > 0)
		printf("  old key and certificate removed (%d objects)\n", r->old_removed);
	printf("Time: %.3f s (key %.3f s, request %.3f s, EST %.3f s, storing %.3f s)\n",
	    r->t.total, r->t.keygen, r->t.csr, r->t.est, r->t.store);
}

/* The activation code: --activation-code, else asked. */
static int activation_code(const char *opt, char **out)
{
	if (opt != NULL) {
		*out = strdup(opt);
		return *out ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	if (!isatty(STDIN_FILENO))
		return cli_usage_error(cli_usage_token_retrieve, "--activation-code CODE is required "
		    "(standard input is not a terminal to ask on)");
	return cli_password_prompt("Activation code: ", NULL, out);
}

/* Open and log in to the token, refusing one with its initial passcode
 * before asking for anything. */
static int token_ready(const struct token_args *a, struct tsr_client_token *t)
{
	const char *why;
	int r;

	if ((r = tsr_client_token_open(a->module, a->token, t)) != 0)
		return r;
	if (tsr_client_initial_passcode(t, &why))
		r = tsr_error(TSR_ERR_POLICY, "the token still has its initial passcode (%s): change "
		    "it first with `tessera token passcode`", why);
	else
		r = login(t, a->pcfile);
	if (r != 0)
		tsr_client_token_close(t);
	return r;
}

/* `tessera token retrieve` */
int cmd_token_retrieve(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, ALLOW_SERVER, CLI_ALLOW(OPT_CODE), CLI_ALLOW(OPT_PWFILE),
		'\0' };
	struct tsr_client_issued res;
	struct tsr_client_token t;
	struct token_args a;
	struct tsr_est est;
	char *code = NULL, *password = NULL;
	int r;

	memset(&res, 0, sizeof(res));
	if ((r = parse(argc, argv, cli_usage_token_retrieve, allowed, &a)) != 0 ||
	    (r = tsr_est_init(&est, a.server, a.ca_file)) != 0)
		return r;
	if ((r = token_ready(&a, &t)) != 0)
		return r;
	if ((r = activation_code(a.code, &code)) != 0 ||
	    (r = secret("--password-file", a.pwfile, "Account password: ", NULL,
	    &password)) != 0)
		goto out;
	if (strchr(code, ':') != NULL) {
		r = tsr_error(TSR_ERR_INVALID, "an activation code has no ':' in it");
		goto out;
	}
	est.user = code;
	est.password = password;
	if ((r = tsr_client_retrieve(&t, &est, &res)) == 0)
		print_issued(&t, &res, "Certificate stored");
out:
	tsr_client_issued_clear(&res);
	tsr_free_secret(code);
	tsr_free_secret(password);
	tsr_client_token_close(&t);
	return r;
}

/* ------------------------------------------------------------------ renew */
/* `tessera token renew` */
int cmd_token_renew(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, ALLOW_SERVER, CLI_ALLOW(OPT_ID), CLI_ALLOW(OPT_KEEP_OLD),
		'\0' };
	struct tsr_client_issued res;
	struct tsr_client_token t;
	struct token_args a;
	struct tsr_est est;
	int r;

	memset(&res, 0, sizeof(res));
	if ((r = parse(argc, argv, cli_usage_token_renew, allowed, &a)) != 0 ||
	    (r = tsr_est_init(&est, a.server, a.ca_file)) != 0)
		return r;
	if ((r = token_ready(&a, &t)) != 0)
		return r;
	if ((r = tsr_client_renew(&t, &est, a.id, a.id_len, a.keep_old, &res)) == 0)
		print_issued(&t, &res, "Renewed certificate stored");
	tsr_client_issued_clear(&res);
	tsr_client_token_close(&t);
	return r;
}

/* ------------------------------------------------------------------ test */
/* `tessera token test` */
int cmd_token_test(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, ALLOW_SERVER, CLI_ALLOW(OPT_ID), '\0' };
	struct tsr_client_test_result res;
	struct tsr_client_token t;
	struct token_args a;
	struct tsr_est est;
	int r;

	if ((r = parse(argc, argv, cli_usage_token_test, allowed, &a)) != 0 ||
	    (r = tsr_est_init(&est, a.server, a.ca_file)) != 0)
		return r;
	if ((r = token_ready(&a, &t)) != 0)
		return r;
	r = tsr_client_test(&t, &est, a.id, a.id_len, &res);
	tsr_client_token_close(&t);
	if (r != 0)
		return r;
	printf("Certificate %s\n  subject:   %s\n", res.serial[0] ? res.serial : "(unknown to "
	    "this CA)", res.subject[0] ? res.subject : "?");
	for (size_t i = 0; i < TSR_ARRAY_LEN(res.checks); i++)
		printf("  %-10s %-7s %s\n", tsr_client_test_checks[i], res.checks[i].result,
		    res.checks[i].detail);
	printf("Result: %s\n", res.good ? "GOOD" : "BAD");
	if (!res.good)
		return tsr_error(TSR_ERR_SIGNATURE, "the test failed: see the checks above");
	return 0;
}

/* ------------------------------------------------------------------ show */
/* The CA certificates on the token, as intermediates for chain checks. */
static STACK_OF(X509) *ca_certs(const struct tsr_client_cert *c, size_t n)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	for (size_t i = 0; sk != NULL && i < n; i++)
		if (c[i].is_ca && X509_up_ref(c[i].x) == 1 && sk_X509_push(sk, c[i].x) <= 0)
			X509_free(c[i].x);
	return sk;
}

static void show_cert(const struct tsr_client_cert *c, STACK_OF(X509) *cas, const char *ca_file)
{
	printf("%s \"%s\"\n", c->is_ca ? "CA certificate" : "Certificate", c->label);
	print_hex("  id:       ", c->id, c->id_len);
	print_cert(c->x, "  ");
	if (!c->is_ca)
		printf("  key:      %s\n", c->has_key ? "on the token, beside it" :
		    "NOT on the token (no key with this id)");
	if (ca_file == NULL)
		return;
	if (tsr_client_verify_chain(c->x, cas, ca_file, tsr_now()) == 0)
		printf("  chain:    chains to %s\n", ca_file);
	else
		printf("  chain:    %s\n", tsr_error_detail());
	tsr_error_clear();
}

/* Keys, and the marker. */
static void show_keys(struct tsr_client_token *t)
{
	struct tsr_p11_object *o;
	size_t n;

	if (tsr_p11_objects(t->s, &o, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (o[i].cls == TSR_P11_PRIVATE_KEY) {
			printf("Private key \"%s\" (%s)%s: %s, %s\n", o[i].label,
			    o[i].key_type ? tsr_key_type_name(o[i].key_type) : "other",
			    strcmp(o[i].label, TSR_CLIENT_PENDING_LABEL) == 0 ?
			    " from an interrupted retrieval or renewal: run it again" : "",
			    o[i].sensitive ? "sensitive" : "NOT sensitive",
			    o[i].never_extractable && !o[i].extractable ? "never extractable" :
			    "EXTRACTABLE");
			print_hex("  id:       ", o[i].id, o[i].id_len);
		} else if (o[i].cls == TSR_P11_PUBLIC_KEY) {
			printf("Public key \"%s\" (%s)\n", o[i].label,
			    o[i].key_type ? tsr_key_type_name(o[i].key_type) : "other");
			print_hex("  id:       ", o[i].id, o[i].id_len);
		} else if (o[i].cls == TSR_P11_DATA && strcmp(o[i].application,
		    TSR_CLIENT_MARKER_APP) == 0) {
			printf("Marker \"%s\": the passcode is the initial one; `tessera token "
			    "passcode` changes it\n", o[i].label);
		}
	}
	tsr_p11_objects_free(o, n);
}

/* `tessera token show` */
int cmd_token_show(int argc, char **argv)
{
	char allowed[] = { ALLOW_TOKEN, CLI_ALLOW(OPT_CA_FILE), CLI_ALLOW(OPT_LOGIN),
		CLI_ALLOW(OPT_PCFILE), '\0' };
	struct tsr_client_cert *c = NULL;
	STACK_OF(X509) *cas = NULL;
	struct tsr_client_token t;
	struct token_args a;
	size_t n = 0;
	int r;

	if ((r = parse(argc, argv, cli_usage_token_show, allowed, &a)) != 0)
		return r;
	if ((r = tsr_client_token_open(a.module, a.token, &t)) != 0)
		return r;
	if ((a.login || a.pcfile != NULL) && (r = login(&t, a.pcfile)) != 0)
		goto out;
	if ((r = tsr_client_certs(&t, &c, &n)) != 0)
		goto out;
	print_token(&t);
	if ((cas = ca_certs(c, n)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("\n");
		show_cert(&c[i], cas, a.ca_file);
	}
	printf("\n");
	show_keys(&t);
	if (n == 0)
		printf("(no certificates on the token)\n");
out:
	sk_X509_pop_free(cas, X509_free);
	tsr_client_certs_free(c, n);
	tsr_client_token_close(&t);
	return r;
}

/* ------------------------------------------------------------------ revoke */

const char cli_usage_token_revoke[] =
    "usage: tessera token revoke --server URL --ca-file ROOT (--reason REASON | --suspend)\n"
    "                            [--passcode-file FILE] [--id HEX] [--yes]\n"
    "                            [--module PATH] [--token URI]\n"
    "       tessera token revoke --server URL --ca-file ROOT (--reason REASON | --suspend)\n"
    "                            --application ID --serial HEX --question N\n"
    "                            [--password-file FILE] [--answer-file FILE] [--yes]\n"
    "\n"
    "Revoke your certificate for good, or suspend it (a registration officer can lift\n"
    "a suspension; you cannot).  With the token: the server hands out a single-use\n"
    "nonce, the token signs \"" TSR_CLIENT_REVOKE_PREFIX "SERIAL ACTION REASON NONCE\"\n"
    "after the passcode, and the server checks the signature with the certificate.\n"
    "Without the token (lost or stolen): the application number, the certificate's\n"
    "serial, the account password and the answer to one of your secret questions\n"
    "(shown when the answer is asked for; wrong answers count toward the account's\n"
    "lock).  Asks for confirmation unless --yes.\n"
    "\n"
    "options:\n"
    SERVER_OPTIONS
    "  --reason REASON       revoke for good: keyCompromise (the key may be in other\n"
    "                        hands: a lost or stolen token), affiliationChanged,\n"
    "                        superseded, cessationOfOperation or unspecified\n"
    "  --suspend             suspend instead (certificateHold)\n"
    "  --yes                 do not ask for confirmation\n"
    "with the token:\n"
    PASSCODE_OPTION
    "  --id HEX              the certificate's CKA_ID (default: the valid one that\n"
    "                        expires last)\n"
    TOKEN_OPTIONS
    "without it:\n"
    "  --application ID      your application number (AP-XXXX-XXXX-XXXX)\n"
    "  --serial HEX          the certificate's serial (`tessera token show`, or\n"
    "                        certificate_serial of your application)\n"
    "  --question N          which secret question you answer (1, 2, ...)\n"
    "  --password-file FILE  read the account password from FILE (mode 0600)\n"
    "  --answer-file FILE    read the answer from FILE (mode 0600)\n"
    "  --help                this text\n";

enum { R_MODULE = 1, R_TOKEN, R_SERVER, R_CA_FILE, R_PCFILE, R_ID, R_REASON, R_SUSPEND, R_YES,
	R_APPLICATION, R_SERIAL, R_QUESTION, R_PWFILE, R_ANSWER_FILE, R_HELP };

static const struct option revoke_options[] = {
	{ "module", required_argument, NULL, R_MODULE },
	{ "token", required_argument, NULL, R_TOKEN },
	{ "server", required_argument, NULL, R_SERVER },
	{ "ca-file", required_argument, NULL, R_CA_FILE },
	{ "passcode-file", required_argument, NULL, R_PCFILE },
	{ "id", required_argument, NULL, R_ID },
	{ "reason", required_argument, NULL, R_REASON },
	{ "suspend", no_argument, NULL, R_SUSPEND },
	{ "yes", no_argument, NULL, R_YES },
	{ "application", required_argument, NULL, R_APPLICATION },
	{ "serial", required_argument, NULL, R_SERIAL },
	{ "question", required_argument, NULL, R_QUESTION },
	{ "password-file", required_argument, NULL, R_PWFILE },
	{ "answer-file", required_argument, NULL, R_ANSWER_FILE },
	{ "help", no_argument, NULL, R_HELP },
	{ NULL, 0, NULL, 0 },
};

struct revoke_args {
	struct token_args t;          /* module, token, server, ca_file, pcfile, id */
	const char *reason, *application, *serial, *pwfile, *answer_file;
	bool suspend, yes;
	long question;
};

static int revoke_option(struct revoke_args *a, int c)
{
	switch (c) {
	case R_MODULE: a->t.module = optarg; break;
	case R_TOKEN: a->t.token = optarg; break;
	case R_SERVER: a->t.server = optarg; break;
	case R_CA_FILE: a->t.ca_file = optarg; break;
	case R_PCFILE: a->t.pcfile = optarg; break;
	case R_REASON: a->reason = optarg; break;
	case R_SUSPEND: a->suspend = true; break;
	case R_YES: a->yes = true; break;
	case R_APPLICATION: a->application = optarg; break;
	case R_SERIAL: a->serial = optarg; break;
	case R_PWFILE: a->pwfile = optarg; break;
	case R_ANSWER_FILE: a->answer_file = optarg; break;
	case R_QUESTION:
		if (cli_parse_uint("--question", optarg, 5, &a->question) != 0 || a->question < 1)
			return cli_usage_error(cli_usage_token_revoke, "--question: a number "
			    "from 1 to 5");
		break;
	case R_ID:
		if (tsr_hex_decode(optarg, a->t.id, sizeof(a->t.id), &a->t.id_len) != 0 ||
		    a->t.id_len == 0)
			return cli_usage_error(cli_usage_token_revoke, "--id: '%s' is not 1 to 64 "
			    "bytes of hex", optarg);
		break;
	default: break;
	}
	return 0;
}

/* The two forms do not mix: token options or account options. */
static int revoke_form(const struct revoke_args *a)
{
	const char *u = cli_usage_token_revoke;
	bool account = a->application || a->serial || a->question || a->pwfile || a->answer_file;
	bool token = a->t.module || a->t.token || a->t.pcfile || a->t.id_len;

	if (a->t.server == NULL)
		return cli_usage_error(u, "--server URL is required");
	if (a->t.ca_file == NULL || a->t.ca_file[0] == '\0')
		return cli_usage_error(u, "--ca-file ROOT is required: the CA's root certificate, "
		    "from your activation letter or the CA's web page");
	if ((a->reason != NULL) == a->suspend)
		return cli_usage_error(u, "give either --reason REASON (revoke for good) or "
		    "--suspend");
	if (account && token)
		return cli_usage_error(u, "the token's options and --application/--serial/"
		    "--question/--password-file/--answer-file do not mix: with the token, or "
		    "without it");
	if (account && (a->application == NULL || a->serial == NULL || a->question == 0))
		return cli_usage_error(u, "without the token, --application ID, --serial HEX and "
		    "--question N are all required");
	if (!a->yes && !isatty(STDIN_FILENO))
		return cli_usage_error(u, "standard input is not a terminal to confirm on: give "
		    "--yes to act without asking");
	return 0;
}

static int revoke_parse(int argc, char **argv, struct revoke_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, revoke_options, R_HELP, NULL,
	    cli_usage_token_revoke)) > 0 && c != CLI_HELP)
		r = revoke_option(a, c);
	if (c < 0 || c == CLI_HELP)
		return c;
	if (r != 0)
		return r;
	if (optind < argc)
		return cli_usage_error(cli_usage_token_revoke, "unexpected argument '%s'",
		    argv[optind]);
	if (a->t.ca_file == NULL)
		a->t.ca_file = getenv(CA_FILE_ENV);
	return revoke_form(a);
}

/* Ask before acting (unless --yes; revoke_form() made sure there is a
 * terminal to ask on): the answer must be "yes". */
static int confirm(const struct revoke_args *a, const char *what)
{
	char line[16];

	if (a->yes)
		return 0;
	fprintf(stderr, "%s%s? Type yes to go on: ", what, a->suspend ? "" :
	    " (this cannot be undone)");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL || strcmp(line, "yes\n") != 0)
		return tsr_error(TSR_ERR_POLICY, "not confirmed: nothing was changed");
	return 0;
}

static void print_status(const struct tsr_client_cert_status *s, const char *subject)
{
	printf("Certificate %s%s%s%s is %s", s->serial, subject ? " (" : "", subject ? subject : "",
	    subject ? ")" : "", s->status);
	if (s->reason[0] != '\0' && strcmp(s->status, "revoked") == 0)
		printf(" (%s)", s->reason);
	if (s->revoked_at[0] != '\0')
		printf(" since %s", s->revoked_at);
	printf(".\n");
	if (strcmp(s->status, "suspended") == 0)
		printf("A registration officer can lift the suspension; revoke it for good with "
		    "--reason.\n");
}

/* With the token: the certificate on it, signed by its key.  *subject
 * gets its subject (free()). */
static int revoke_with_token(struct revoke_args *a, struct tsr_est *est,
    const struct tsr_client_revocation *rv, struct tsr_client_cert_status *st, char **subject)
{
	struct tsr_client_token t;
	char what[600], serial[41];
	X509 *cert = NULL;
	int r;

	if ((r = token_ready(&a->t, &t)) != 0)
		return r;
	if ((r = tsr_client_current(&t, a->t.id, a->t.id_len, &cert)) != 0 ||
	    (r = tsr_client_cert_serial(cert, serial)) != 0 ||
	    (r = tsr_name_format(X509_get_subject_name(cert), subject)) != 0)
		goto out;
	snprintf(what, sizeof(what), "%s certificate %s (%.300s)%s%s", a->suspend ? "Suspend" :
	    "Revoke", serial, *subject, a->suspend ? "" : " for good, reason ",
	    a->suspend ? "" : a->reason);
	if ((r = confirm(a, what)) == 0)
		r = tsr_client_revoke_signed(&t, est, cert, rv, st);
out:
	X509_free(cert);
	tsr_client_token_close(&t);
	return r;
}

/* Without it: the account password and one secret answer. */
static int revoke_with_account(struct revoke_args *a, const struct tsr_est *est,
    const struct tsr_client_revocation *rv, struct tsr_client_cert_status *st)
{
	char **q = NULL, *password = NULL, *answer = NULL, what[160], prompt[300];
	size_t n = 0;
	int r;

	if ((r = tsr_client_questions(est, a->application, &q, &n)) != 0)
		return r;
	if ((size_t)a->question > n) {
		r = tsr_error(TSR_ERR_INVALID, "application %s has %zu secret questions: "
		    "--question 1 to %zu", a->application, n, n);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Question %ld: %s\nAnswer: ", a->question,
	    q[a->question - 1]);
	if ((r = secret("--password-file", a->pwfile, "Account password: ", NULL,
	    &password)) != 0 ||
	    (r = secret("--answer-file", a->answer_file, prompt, NULL, &answer)) != 0)
		goto out;
	snprintf(what, sizeof(what), "%s certificate %s of %s%s%s", a->suspend ? "Suspend" :
	    "Revoke", a->serial, a->application, a->suspend ? "" : " for good, reason ",
	    a->suspend ? "" : a->reason);
	if ((r = confirm(a, what)) == 0)
		r = tsr_client_revoke_password(est, a->serial, rv, a->application, password,
		    (int)a->question, answer, st);
out:
	tsr_free_secret(password);
	tsr_free_secret(answer);
	tsr_client_questions_free(q, n);
	return r;
}

/* `tessera token revoke` */
int cmd_token_revoke(int argc, char **argv)
{
	struct tsr_client_cert_status st;
	struct tsr_client_revocation rv;
	struct revoke_args a;
	struct tsr_est est;
	char *subject = NULL;
	int r;

	if ((r = revoke_parse(argc, argv, &a)) != 0 ||
	    (r = tsr_est_init(&est, a.t.server, a.t.ca_file)) != 0)
		return r;
	rv.action = a.suspend ? "suspend" : "revoke";
	rv.reason = a.suspend ? NULL : a.reason;
	r = a.application != NULL ? revoke_with_account(&a, &est, &rv, &st) :
	    revoke_with_token(&a, &est, &rv, &st, &subject);
	if (r == 0)
		print_status(&st, subject);
	free(subject);
	return r;
}
