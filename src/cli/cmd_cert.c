/*
 * cmd_cert.c - `tessera cert issue|show|list|revoke|suspend|resume`.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_cert_issue[] =
    "usage: tessera cert issue --home DIR --product NAME --csr FILE --subject DN\n"
    "                          [--san TYPE:VALUE]... [--hardware-verified-by WHO] [--out FILE]\n"
    "\n"
    "Issue a subscriber certificate.  The CSR (PEM or DER, at most 64 KiB) proves\n"
    "possession of the key and supplies the public key; its subject and extensions\n"
    "are ignored.  Subject, SANs and extensions come from these options and the\n"
    "product.  The certificate is linted, signed in the CA token and stored before\n"
    "it is written out.\n"
    "\n"
    "options:\n"
    "  --home DIR        the CA home (or $TESSERA_HOME)\n"
    "  --product NAME    the product (see tessera product list)\n"
    "  --csr FILE        the PKCS#10 request\n"
    "  --subject DN      RFC 4514 subject, most specific first: 'CN=Jane Doe,O=Acme,C=US'\n"
    "  --san TYPE:VALUE  subject alternative name: dns:NAME, email:ADDR, ip:ADDR, uri:URI\n"
    "                    (repeatable)\n"
    "  --hardware-verified-by WHO\n"
    "                    required for products with storage = hardware: who verified\n"
    "                    that the key was generated on a hardware token (a CSR cannot\n"
    "                    show it); recorded in the audit log\n"
    "  --out FILE        write the PEM certificate here (default: standard output)\n"
    "  --help            this text\n";

const char cli_usage_cert_show[] =
    "usage: tessera cert show --home DIR SERIAL [--pem | --json]\n"
    "\n"
    "Show one certificate by serial number (hex, any case).\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --pem       print the certificate in PEM\n"
    "  --json      print the stored record as JSON\n"
    "  --help      this text\n";

const char cli_usage_cert_list[] =
    "usage: tessera cert list --home DIR [filters] [--json]\n"
    "\n"
    "List certificates, newest first.\n"
    "\n"
    "options:\n"
    "  --home DIR              the CA home (or $TESSERA_HOME)\n"
    "  --product NAME          only this product\n"
    "  --role ROLE             only ca, ocsp, server (tessera serve's own) or subscriber\n"
    "                          certificates\n"
    "  --subject TEXT          subject contains TEXT (case-insensitive)\n"
    "  --expires-before DATE   not after earlier than DATE (YYYY-MM-DD)\n"
    "  --limit N               at most N certificates\n"
    "  --json                  JSON array instead of a table\n"
    "  --help                  this text\n";

const char cli_usage_cert_revoke[] =
    "usage: tessera cert revoke SERIAL --reason REASON [--invalidity-date YYYY-MM-DD]\n"
    "                           --home DIR\n"
    "\n"
    "Revoke a subscriber certificate for good (valid or suspended).  A revoked\n"
    "certificate cannot be un-revoked.  The revocation time is now (for a suspended\n"
    "certificate: the time of its suspension), recorded once.\n"
    "\n"
    "options:\n"
    "  --home DIR        the CA home (or $TESSERA_HOME)\n"
    "  --reason REASON   RFC 5280: unspecified, keyCompromise, cACompromise,\n"
    "                    affiliationChanged, superseded, cessationOfOperation,\n"
    "                    privilegeWithdrawn, aACompromise (certificateHold: use\n"
    "                    tessera cert suspend)\n"
    "  --invalidity-date YYYY-MM-DD\n"
    "                    since when the key is known or suspected to be compromised\n"
    "                    (00:00 UTC that day; not in the future, not before the\n"
    "                    certificate's validity began)\n"
    "  --help            this text\n";

const char cli_usage_cert_suspend[] =
    "usage: tessera cert suspend SERIAL --home DIR\n"
    "\n"
    "Put a valid subscriber certificate on hold (reason certificateHold).  Lift the\n"
    "hold with tessera cert resume, or revoke it for good with tessera cert revoke.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

const char cli_usage_cert_resume[] =
    "usage: tessera cert resume SERIAL --home DIR\n"
    "\n"
    "Lift the hold on a suspended certificate: it is valid again.  A revoked\n"
    "certificate cannot be resumed.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_PRODUCT, OPT_CSR, OPT_SUBJECT, OPT_SAN, OPT_OUT, OPT_PEM, OPT_JSON,
	OPT_ROLE, OPT_EXPIRES, OPT_LIMIT, OPT_HARDWARE, OPT_REASON, OPT_INVALIDITY, OPT_HELP };

static const struct option cert_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "product", required_argument, NULL, OPT_PRODUCT },
	{ "csr", required_argument, NULL, OPT_CSR },
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "san", required_argument, NULL, OPT_SAN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "pem", no_argument, NULL, OPT_PEM },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "expires-before", required_argument, NULL, OPT_EXPIRES },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "hardware-verified-by", required_argument, NULL, OPT_HARDWARE },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "invalidity-date", required_argument, NULL, OPT_INVALIDITY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct cert_args {
	const char *home, *product, *csr, *subject, *out, *role, *hardware, *reason;
	const char *sans[TSR_SAN_MAX];
	size_t n_sans;
	bool pem, json;
	time_t expires_before, invalidity;
	long limit;
	const char *serial;
};

/* One option parser for the three subcommands; allowed lists what each takes. */
static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct cert_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, cert_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_PRODUCT: a->product = optarg; break;
		case OPT_CSR: a->csr = optarg; break;
		case OPT_SUBJECT: a->subject = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_PEM: a->pem = true; break;
		case OPT_JSON: a->json = true; break;
		case OPT_ROLE: a->role = optarg; break;
		case OPT_HARDWARE: a->hardware = optarg; break;
		case OPT_REASON: a->reason = optarg; break;
		case OPT_INVALIDITY: r = cli_parse_date("--invalidity-date", optarg, &a->invalidity); break;
		case OPT_EXPIRES: r = cli_parse_date("--expires-before", optarg, &a->expires_before); break;
		case OPT_LIMIT: r = cli_parse_uint("--limit", optarg, 1000000, &a->limit); break;
		case OPT_SAN:
			if (a->n_sans == TSR_SAN_MAX)
				return tsr_error(TSR_ERR_TOO_LARGE, "at most %d --san", TSR_SAN_MAX);
			a->sans[a->n_sans++] = optarg;
			break;
		default:
			return cli_bad_option(usage, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (r == 0 && optind < argc && strchr(allowed, 'S') != NULL)
		a->serial = argv[optind++];
	if (r == 0 && optind < argc)
		r = cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return r;
}


static void print_revocation(const struct tsr_cert_record *rec, FILE *f)
{
	char at[21], inv[21];

	if (rec->revoked_at == 0)
		return;
	tsr_time_format(rec->revoked_at, at);
	fprintf(f, "%-12s %s\n" "reason       %s\n",
	    strcmp(rec->status, "suspended") == 0 ? "suspended" : "revoked", at,
	    rec->revocation_reason);
	if (rec->invalidity_date != 0) {
		tsr_time_format(rec->invalidity_date, inv);
		fprintf(f, "invalid      since %s\n", inv);
	}
}

static void print_summary(const struct tsr_cert_record *rec, FILE *f)
{
	char nb[21], na[21];

	tsr_time_format(rec->not_before, nb);
	tsr_time_format(rec->not_after, na);
	fprintf(f, "serial       %s\n"
	    "subject      %s\n"
	    "SANs         %s\n"
	    "product      %s\n"
	    "role         %s\n"
	    "issuer       %s CA\n"
	    "status       %s\n"
	    "key          %s\n"
	    "valid        %s .. %s\n"
	    "sha256       %s\n",
	    rec->serial, rec->subject, rec->sans[0] ? rec->sans : "-",
	    rec->product[0] ? rec->product : "-", rec->role, rec->issuer, rec->status,
	    rec->key_type, nb, na, rec->fingerprint);
	print_revocation(rec, f);
}

static int der_to_pem(const struct tsr_cert_record *rec, struct tsr_buf *out)
{
	const unsigned char *p = rec->der;
	X509 *x = d2i_X509(NULL, &p, (long)rec->der_len);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int r = 0;

	if (x == NULL || bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot write PEM");
	if (r == 0) {
		n = BIO_get_mem_data(bio, &data);
		r = tsr_buf_append(out, data, (size_t)n);
	}
	X509_free(x);
	BIO_free(bio);
	return r;
}

/* The directory of path must exist and be writable (the file is replaced
 * atomically through a temporary file beside it). */
static int check_writable(const char *path)
{
	char *copy = strdup(path);
	const char *dir;
	int r = 0;

	if (copy == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0)
		r = tsr_error(TSR_ERR_IO, "--out %s: cannot write in %s: %s", path, dir,
		    strerror(errno));
	free(copy);
	return r;
}

int cmd_cert_issue(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_PRODUCT), CLI_ALLOW(OPT_CSR), CLI_ALLOW(OPT_SUBJECT),
		CLI_ALLOW(OPT_SAN), CLI_ALLOW(OPT_OUT), CLI_ALLOW(OPT_HARDWARE), '\0' };
	struct tsr_issue_request req;
	struct tsr_cert_record rec;
	struct cert_args a;
	struct tsr_ca *ca = NULL;
	struct tsr_buf csr, pem;
	const char *home;
	int r;

	memset(&rec, 0, sizeof(rec));
	tsr_buf_init(&csr, TSR_CSR_MAX);
	tsr_buf_init(&pem, 1 << 20);
	if ((r = parse(argc, argv, cli_usage_cert_issue, allowed, &a)) != 0)
		goto out;
	if ((r = cli_home(a.home, &home)) != 0)
		goto out;
	if (a.csr == NULL) {
		r = cli_usage_error(cli_usage_cert_issue, "--csr FILE is required");
		goto out;
	}
	/* Find out now, not after the certificate was issued, that it cannot
	 * be written where it was asked for. */
	if (a.out != NULL && (r = check_writable(a.out)) != 0)
		goto out;
	if ((r = tsr_ca_open(home, &ca)) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.product = a.product;
	req.subject = a.subject;
	req.sans = a.sans;
	req.n_sans = a.n_sans;
	req.hardware_verified_by = a.hardware;
	if ((r = tsr_file_read(a.csr, TSR_CSR_MAX, &csr)) != 0) {
		/* An unreadable or oversized CSR is a refusal like any other. */
		tsr_ca_audit(ca, cli_actor(), "cert.issue", "", TSR_AUDIT_REFUSED, "CSR %s",
		    tsr_error_detail());
		goto out;
	}
	req.csr = csr.data;
	req.csr_len = csr.len;
	if ((r = tsr_ca_issue(ca, cli_actor(), &req, &rec)) != 0 ||
	    (r = der_to_pem(&rec, &pem)) != 0)
		goto out;
	if (a.out != NULL)
		r = tsr_file_write(a.out, pem.data, pem.len, 0644);
	else if (fwrite(pem.data, 1, pem.len, stdout) != pem.len || fflush(stdout) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write to standard output");
	if (r != 0)
		r = tsr_error_wrap(r, "certificate %s was issued and stored, but not written "
		    "(get it with: tessera cert show --pem %s)", rec.serial, rec.serial);
	else
		fprintf(stderr, "issued %s for product %s: %s\n", rec.serial, rec.product,
		    rec.subject);
out:
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&csr);
	tsr_buf_free(&pem);
	tsr_ca_close(ca);
	return r;
}

/* A time as RFC 3339 text, or JSON null for 0 ("none"). */
static json_t *time_or_null(int64_t t)
{
	char text[21];

	if (t == 0)
		return json_null();
	tsr_time_format((time_t)t, text);
	return json_string(text);
}

static json_t *record_json(const struct tsr_cert_record *rec)
{
	char nb[21], na[21], ia[21];

	tsr_time_format(rec->not_before, nb);
	tsr_time_format(rec->not_after, na);
	tsr_time_format(rec->issued_at, ia);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o,"
	    " s:o}",
	    "serial", rec->serial, "subject", rec->subject, "sans", rec->sans,
	    "product", rec->product, "role", rec->role, "issuer", rec->issuer,
	    "status", rec->status, "key_type", rec->key_type, "not_before", nb,
	    "not_after", na, "issued_at", ia, "sha256", rec->fingerprint,
	    "revoked_at", time_or_null(rec->revoked_at),
	    "revocation_reason", rec->revocation_reason[0] ? json_string(rec->revocation_reason) :
	    json_null(),
	    "invalidity_date", time_or_null(rec->invalidity_date));
}

int cmd_cert_show(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_PEM), CLI_ALLOW(OPT_JSON), 'S', '\0' };
	struct tsr_cert_record rec;
	struct cert_args a;
	struct tsr_ca *ca = NULL;
	struct tsr_buf pem;
	const char *home;
	int r;

	memset(&rec, 0, sizeof(rec));
	tsr_buf_init(&pem, 1 << 20);
	if ((r = parse(argc, argv, cli_usage_cert_show, allowed, &a)) != 0)
		goto out;
	if ((r = cli_home(a.home, &home)) != 0)
		goto out;
	if (a.serial == NULL) {
		r = cli_usage_error(cli_usage_cert_show, "a SERIAL is required");
		goto out;
	}
	if ((r = tsr_ca_open(home, &ca)) != 0)
		goto out;
	if ((r = tsr_store_cert_get(tsr_ca_store(ca), a.serial, &rec)) != 0)
		goto out;
	if (a.pem) {
		if ((r = der_to_pem(&rec, &pem)) == 0 &&
		    (fwrite(pem.data, 1, pem.len, stdout) != pem.len || fflush(stdout) != 0))
			r = tsr_error(TSR_ERR_IO, "cannot write to standard output");
	} else if (a.json) {
		r = cli_json_print(record_json(&rec));
	} else {
		print_summary(&rec, stdout);
	}
out:
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&pem);
	tsr_ca_close(ca);
	return r;
}

struct list_ctx {
	json_t *array;
	size_t n;
};

static int list_one(const struct tsr_cert_record *rec, void *ctx)
{
	struct list_ctx *l = ctx;
	char na[21], at[21];

	l->n++;
	if (l->array != NULL)
		return json_array_append_new(l->array, record_json(rec)) == 0 ? 0 :
		    tsr_error(TSR_ERR_NOMEM, "out of memory");
	tsr_time_format(rec->not_after, na);
	if (rec->revoked_at != 0)
		tsr_time_format(rec->revoked_at, at);
	printf("%-34s %-16s %-10s %-9s %-20s %-20s %-20s %s\n", rec->serial,
	    rec->product[0] ? rec->product : "-", rec->role, rec->status, na,
	    rec->revoked_at != 0 ? at : "-",
	    rec->revocation_reason[0] ? rec->revocation_reason : "-", rec->subject);
	return 0;
}

int cmd_cert_list(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_PRODUCT), CLI_ALLOW(OPT_ROLE),
		CLI_ALLOW(OPT_SUBJECT), CLI_ALLOW(OPT_EXPIRES), CLI_ALLOW(OPT_LIMIT), CLI_ALLOW(OPT_JSON), '\0' };
	struct tsr_cert_filter f;
	struct list_ctx l = { NULL, 0 };
	struct cert_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_cert_list, allowed, &a)) != 0)
		return r;
	if (a.role != NULL && strcmp(a.role, "ca") != 0 && strcmp(a.role, "ocsp") != 0 &&
	    strcmp(a.role, "subscriber") != 0 && strcmp(a.role, "server") != 0)
		return cli_usage_error(cli_usage_cert_list,
		    "--role must be ca, ocsp, server or subscriber, not '%s'", a.role);
	if ((r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	memset(&f, 0, sizeof(f));
	f.product = a.product;
	f.role = a.role;
	f.subject_like = a.subject;
	f.expires_before = a.expires_before;
	f.limit = (unsigned)a.limit;
	if (a.json && (l.array = json_array()) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0 && !a.json)
		printf("%-34s %-16s %-10s %-9s %-20s %-20s %-20s %s\n", "SERIAL", "PRODUCT", "ROLE",
		    "STATUS", "NOT AFTER", "REVOKED", "REASON", "SUBJECT");
	if (r == 0)
		r = tsr_store_cert_list(tsr_ca_store(ca), &f, list_one, &l);
	if (r == 0 && l.array != NULL) {
		r = cli_json_print(l.array);
		l.array = NULL;
	}
	json_decref(l.array);
	tsr_ca_close(ca);
	return r;
}

enum status_cmd { STATUS_REVOKE, STATUS_SUSPEND, STATUS_RESUME };

/* revoke, suspend and resume: the same shape, one service call each. */
static int status_command(int argc, char **argv, enum status_cmd which)
{
	static const char *const usages[] = { cli_usage_cert_revoke, cli_usage_cert_suspend,
		cli_usage_cert_resume };
	static const char *const done[] = { "revoked", "suspended", "resumed" };
	char allowed[] = { CLI_ALLOW(OPT_HOME), 'S', '\0', '\0', '\0' };
	struct cert_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if (which == STATUS_REVOKE) {
		allowed[2] = CLI_ALLOW(OPT_REASON);
		allowed[3] = CLI_ALLOW(OPT_INVALIDITY);
	}
	if ((r = parse(argc, argv, usages[which], allowed, &a)) != 0)
		return r;
	if (a.serial == NULL)
		return cli_usage_error(usages[which], "a SERIAL is required");
	if (which == STATUS_REVOKE && a.reason == NULL)
		return cli_usage_error(usages[which], "--reason REASON is required");
	if ((r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	if (which == STATUS_REVOKE)
		r = tsr_ca_revoke(ca, NULL, cli_actor(), a.serial, a.reason, (int64_t)a.invalidity);
	else if (which == STATUS_SUSPEND)
		r = tsr_ca_suspend(ca, NULL, cli_actor(), a.serial);
	else
		r = tsr_ca_resume(ca, NULL, cli_actor(), a.serial);
	if (r == 0)
		fprintf(stderr, "%s %s\n", done[which], a.serial);
	tsr_ca_close(ca);
	return r;
}

int cmd_cert_revoke(int argc, char **argv)
{
	return status_command(argc, argv, STATUS_REVOKE);
}

int cmd_cert_suspend(int argc, char **argv)
{
	return status_command(argc, argv, STATUS_SUSPEND);
}

int cmd_cert_resume(int argc, char **argv)
{
	return status_command(argc, argv, STATUS_RESUME);
}
