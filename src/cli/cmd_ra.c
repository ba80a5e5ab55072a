/*
 * cmd_ra.c - `tessera ra queue|show|approve|reject|assign-token|unlock|
 * reissue|lapse`: the RA officers' commands on the CA host.  The workflow
 * lives in src/ra (ra/app.h); this file parses options, authenticates the
 * officer who acts (their own password, so that dual control means two
 * people on the CLI too) and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "ra/admin.h"
#include "ra/app.h"

#define QUEUE_LIMIT_DEFAULT 100
#define VALUE_COLUMN 17           /* where `ra show` prints a field's value */

#define OFFICER_OPTIONS \
    "  --officer NAME        the officer who acts (a user with the ra-officer role)\n" \
    "  --password-file FILE  read the officer's password from FILE (mode 0600 or\n" \
    "                        stricter) instead of asking on the terminal\n"

const char cli_usage_ra_queue[] =
    "usage: tessera ra queue --home DIR [--state STATE] [--product NAME] [--limit N] [--json]\n"
    "\n"
    "List applications, oldest first: how long they have been in their state, product,\n"
    "storage, approvals given and required, and 'duplicate' when the automatic checks\n"
    "found another application for the same person or identifiers.\n"
    "\n"
    "options:\n"
    "  --home DIR      the CA home (or $TESSERA_HOME)\n"
    "  --state STATE   submitted, email_verified, under_review (default), approved,\n"
    "                  activation_issued, certificate_issued, rejected, lapsed,\n"
    "                  withdrawn, or all\n"
    "  --product NAME  only applications for this product\n"
    "  --limit N       at most N applications (default 100; 0: all)\n"
    "  --json          JSON array instead of a table\n"
    "  --help          this text\n";

const char cli_usage_ra_show[] =
    "usage: tessera ra show --home DIR ID [--json]\n"
    "\n"
    "Show one application: the applicant's fields, state, automatic checks, approvals,\n"
    "token serial, locks and the next step.  Never a password, a code or a hash.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  ID          the application number, AP-XXXX-XXXX-XXXX\n"
    "  --json      a JSON object instead of text\n"
    "  --help      this text\n";

const char cli_usage_ra_approve[] =
    "usage: tessera ra approve --home DIR ID --officer NAME [--password-file FILE]\n"
    "                          [--token-serial SERIAL] [--comment TEXT]\n"
    "\n"
    "Approve an application under review.  An officer approves an application once;\n"
    "the product's required number of approvals from distinct officers is final and\n"
    "issues the activation: the activation letter to the applicant's email and, for a\n"
    "new token, the initial passcode as a separate message.  A new-token application\n"
    "needs its token serial before the final approval.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  ID                    the application number\n"
    OFFICER_OPTIONS
    "  --token-serial SERIAL assign this hardware token first (as ra assign-token)\n"
    "  --comment TEXT        a note kept with the approval\n"
    "  --help                this text\n";

const char cli_usage_ra_reject[] =
    "usage: tessera ra reject --home DIR ID --officer NAME [--password-file FILE] --reason TEXT\n"
    "\n"
    "Reject an application whose email is verified and that is not yet approved\n"
    "(under review).  The reason is mailed to the applicant.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  ID                    the application number\n"
    OFFICER_OPTIONS
    "  --reason TEXT         why, for the applicant (1 to 1000 bytes; required)\n"
    "  --help                this text\n";

const char cli_usage_ra_assign_token[] =
    "usage: tessera ra assign-token --home DIR ID --officer NAME --serial SERIAL\n"
    "                               [--password-file FILE]\n"
    "\n"
    "Assign the serial of the hardware token that will be shipped (storage new-token\n"
    "or existing-token; before the final approval).  No other open application may\n"
    "hold the same serial.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  ID                    the application number\n"
    OFFICER_OPTIONS
    "  --serial SERIAL       1 to 64 printable characters without spaces\n"
    "  --help                this text\n";

const char cli_usage_ra_unlock[] =
    "usage: tessera ra unlock --home DIR ID --officer NAME --account|--code\n"
    "                         [--password-file FILE]\n"
    "\n"
    "Unlock what too many failed attempts locked: the applicant's account (wrong\n"
    "passwords or secret answers), or the current verification or activation code.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  ID                    the application number\n"
    OFFICER_OPTIONS
    "  --account             unlock the account and clear its failure count\n"
    "  --code                unlock the current code\n"
    "  --help                this text\n";

const char cli_usage_ra_reissue[] =
    "usage: tessera ra reissue --home DIR ID --officer NAME [--password-file FILE]\n"
    "\n"
    "Issue the activation again (a new code; the old one stops working; a new\n"
    "passcode letter for a new token), for a letter that never arrived.  Only while\n"
    "the application is activation_issued.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  ID                    the application number\n"
    OFFICER_OPTIONS
    "  --help                this text\n";

const char cli_usage_ra_lapse[] =
    "usage: tessera ra lapse --home DIR [--json]\n"
    "\n"
    "Lapse every application whose deadline has passed (email not verified in time,\n"
    "activation code expired unused) and say how many.  `tessera serve` does this\n"
    "every minute; run this from cron when the server is not running.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      {\"lapsed\": N} on standard output\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_STATE, OPT_PRODUCT, OPT_LIMIT, OPT_JSON, OPT_OFFICER, OPT_PWFILE,
	OPT_TOKEN_SERIAL, OPT_COMMENT, OPT_REASON, OPT_SERIAL, OPT_ACCOUNT, OPT_CODE, OPT_HELP };

static const struct option ra_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "product", required_argument, NULL, OPT_PRODUCT },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "officer", required_argument, NULL, OPT_OFFICER },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "token-serial", required_argument, NULL, OPT_TOKEN_SERIAL },
	{ "comment", required_argument, NULL, OPT_COMMENT },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "account", no_argument, NULL, OPT_ACCOUNT },
	{ "code", no_argument, NULL, OPT_CODE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct ra_args {
	const char *home, *state, *product, *officer, *pwfile, *token_serial, *comment, *reason,
	    *serial, *id;
	long limit;
	bool json, account, code;
};

/* Options every officer action takes. */
#define ALLOW_OFFICER CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_OFFICER), CLI_ALLOW(OPT_PWFILE)

static void set_option(struct ra_args *a, int c)
{
	switch (c) {
	case OPT_HOME: a->home = optarg; break;
	case OPT_STATE: a->state = optarg; break;
	case OPT_PRODUCT: a->product = optarg; break;
	case OPT_JSON: a->json = true; break;
	case OPT_OFFICER: a->officer = optarg; break;
	case OPT_PWFILE: a->pwfile = optarg; break;
	case OPT_TOKEN_SERIAL: a->token_serial = optarg; break;
	case OPT_COMMENT: a->comment = optarg; break;
	case OPT_REASON: a->reason = optarg; break;
	case OPT_SERIAL: a->serial = optarg; break;
	case OPT_ACCOUNT: a->account = true; break;
	case OPT_CODE: a->code = true; break;
	default: break;   /* OPT_LIMIT is parsed by the caller */
	}
}

/* One parser for every subcommand; allowed lists the options each takes.
 * Every subcommand but queue and lapse takes one application ID, and those
 * that take --officer require it. */
static int parse(int argc, char **argv, const char *usage, const char *allowed, bool want_id,
    struct ra_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	a->limit = QUEUE_LIMIT_DEFAULT;
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, ra_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP) {
		if (c == OPT_LIMIT)
			r = cli_parse_uint("--limit", optarg, 100000000, &a->limit);
		else
			set_option(a, c);
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (r != 0)
		return r;
	if (want_id && optind < argc)
		a->id = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (want_id && a->id == NULL)
		return cli_usage_error(usage, "an application ID is required");
	if (strchr(allowed, CLI_ALLOW(OPT_OFFICER)) != NULL && a->officer == NULL)
		return cli_usage_error(usage, "--officer NAME is required (the officer who acts)");
	return 0;
}

/* ------------------------------------------------------------------ passwords */

/* The officer's password: from file, else asked once on the terminal. */
static int get_password(const char *file, const char *officer, char **out)
{
	char prompt[TSR_USER_NAME_MAX + 32];

	if (file != NULL)
		return cli_password_file(file, "--password-file", out);
	snprintf(prompt, sizeof(prompt), "Password of %.32s: ", officer);
	return cli_password_prompt(prompt, NULL, out);
}

/* ------------------------------------------------------------------ context */

struct ra_ctx {
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_store *st;
};

/* Open the home, the workflow's context and a store connection (what is
 * open on failure is ctx_close()'s to close). */
static int ctx_open(const struct ra_args *a, struct ra_ctx *c)
{
	const char *home;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = cli_home(a->home, &home)) != 0 || (r = tsr_ca_open(home, &c->ca)) != 0 ||
	    (r = tsr_ra_open(c->ca, &c->ra)) != 0)
		return r;
	return tsr_ra_store_acquire(c->ra, &c->st);
}

static void ctx_close(struct ra_ctx *c)
{
	if (c->st != NULL)
		tsr_ra_store_release(c->ra, c->st);
	tsr_ra_close(c->ra);
	tsr_ca_close(c->ca);
	memset(c, 0, sizeof(*c));
}

/* Check the acting officer's own password (counted like a login: the
 * configured max_failures locks the account). */
static int officer_login(struct ra_ctx *c, const struct ra_args *a)
{
	char *pw = NULL;
	int r;

	if ((r = get_password(a->pwfile, a->officer, &pw)) != 0)
		return r;
	r = tsr_ra_user_authenticate(c->st, cli_actor(), a->officer, pw,
	    tsr_ra_config(c->ra)->ra.max_failures, NULL);
	tsr_free_secret(pw);
	return r;
}

/* Open the context and authenticate the officer a names: what every
 * officer action does once its options are checked. */
static int officer_begin(const struct ra_args *a, struct ra_ctx *c)
{
	int r;

	if ((r = ctx_open(a, c)) != 0 || (r = officer_login(c, a)) != 0)
		ctx_close(c);
	return r;
}

/* ------------------------------------------------------------------ views */

/* "3d 4h", "5h 12m", "7m": a duration of s seconds. */
static void format_age(long long s, char *out, size_t size)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, size, "%lldm", s / 60);
}

/* Parse a stored JSON text (applicant fields, checks); JSON null if it is
 * empty (no checks before review) or not JSON, so that a damaged row
 * still shows. */
static json_t *parse_stored(const char *text)
{
	json_t *v = NULL;

	if (text != NULL && text[0] != '\0')
		v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	return v != NULL ? v : json_null();
}

/* Whether the automatic checks found other open applications with the
 * same email, NPI, DEA number or name and date of birth: checks.duplicates
 * lists them, one entry per identifier. */
static bool has_duplicates(const json_t *checks)
{
	return json_array_size(json_object_get(checks, "duplicates")) > 0;
}

/* The product's required approvals, 0 if the product is no longer configured. */
static int required_approvals(struct ra_ctx *c, const char *product)
{
	const struct tsr_product *p = tsr_product_find(&tsr_ra_config(c->ra)->products, product);

	return p != NULL ? p->ra_approvals : 0;
}

static int count_approvals(struct ra_ctx *c, const char *id, size_t *n)
{
	struct tsr_approval_record *ap = NULL;
	int r;

	if ((r = tsr_ra_approvals(c->st, id, &ap, n)) == 0)
		tsr_ra_approvals_free(ap, *n);
	return r;
}

static json_t *time_json(int64_t t)
{
	char s[21];

	if (t == 0)
		return json_null();
	tsr_time_format((time_t)t, s);
	return json_string(s);
}

/* ------------------------------------------------------------------ queue */

struct queue_ctx {
	json_t *rows;
	time_t now;
};

/* One queue row from a record (approvals are added after the listing, so
 * that no query runs inside another). */
static int queue_one(const struct tsr_app_record *ap, void *ctx)
{
	struct queue_ctx *q = ctx;
	json_t *checks = parse_stored(ap->checks);
	json_t *row;

	row = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:b}", "id", ap->id,
	    "product", ap->product, "storage", ap->storage, "state", ap->state,
	    "state_since", time_json(ap->state_since),
	    "age_seconds", (json_int_t)(q->now > ap->state_since ? q->now - ap->state_since : 0),
	    "created_at", time_json(ap->created_at), "duplicate", has_duplicates(checks));
	json_decref(checks);
	if (row == NULL || json_array_append_new(q->rows, row) != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

static int queue_add_approvals(struct ra_ctx *c, json_t *rows)
{
	size_t i, n;
	json_t *row;
	int r;

	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *product = json_string_value(json_object_get(row, "product"));

		if ((r = count_approvals(c, id, &n)) != 0)
			return r;
		if (json_object_set_new(row, "approvals", json_integer((json_int_t)n)) != 0 ||
		    json_object_set_new(row, "approvals_required",
		    json_integer(required_approvals(c, product))) != 0)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static void queue_print(const json_t *rows)
{
	size_t i;
	json_t *row;

	printf("%-20s %-9s %-18s %-14s %-17s %-9s %s\n", "ID", "AGE", "STATE", "PRODUCT",
	    "STORAGE", "APPROVALS", "FLAGS");
	json_array_foreach(rows, i, row) {
		char age[32], appr[32];
		format_age((long long)json_integer_value(json_object_get(row, "age_seconds")), age,
		    sizeof(age));
		snprintf(appr, sizeof(appr), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(row, "approvals")),
		    (long long)json_integer_value(json_object_get(row, "approvals_required")));
		printf("%-20s %-9s %-18s %-14s %-17s %-9s %s\n",
		    json_string_value(json_object_get(row, "id")), age,
		    json_string_value(json_object_get(row, "state")),
		    json_string_value(json_object_get(row, "product")),
		    json_string_value(json_object_get(row, "storage")), appr,
		    json_is_true(json_object_get(row, "duplicate")) ? "duplicate" : "-");
	}
}

static int queue_filter(const struct ra_args *a, struct tsr_app_filter *f)
{
	enum tsr_app_state s;

	memset(f, 0, sizeof(*f));
	f->product = a->product;
	f->limit = (unsigned)a->limit;
	f->state = a->state != NULL ? a->state : tsr_app_state_name(TSR_APP_UNDER_REVIEW);
	if (strcmp(f->state, "all") == 0)
		f->state = NULL;
	else if (tsr_app_state_parse(f->state, &s) != 0)
		return cli_usage_error(cli_usage_ra_queue, "--state: '%s' is not an application "
		    "state", f->state);
	return 0;
}

/* `tessera ra queue`: applications oldest first. */
int cmd_ra_queue(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_STATE), CLI_ALLOW(OPT_PRODUCT),
		CLI_ALLOW(OPT_LIMIT), CLI_ALLOW(OPT_JSON), '\0' };
	struct queue_ctx q = { NULL, 0 };
	struct tsr_app_filter f;
	struct ra_args a;
	struct ra_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = parse(argc, argv, cli_usage_ra_queue, allowed, false, &a)) != 0 ||
	    (r = queue_filter(&a, &f)) != 0)
		return r;
	q.now = tsr_now();
	if ((q.rows = json_array()) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ctx_open(&a, &c)) != 0 || (r = tsr_store_app_list(c.st, &f, queue_one, &q)) != 0 ||
	    (r = queue_add_approvals(&c, q.rows)) != 0)
		goto out;
	if (a.json) {
		r = cli_json_print(q.rows);
		q.rows = NULL;
		goto out;
	}
	queue_print(q.rows);
	if (json_array_size(q.rows) == 0)
		fprintf(stderr, "(no applications %s%s%s)\n", f.state ? f.state : "at all",
		    f.product ? " for product " : "", f.product ? f.product : "");
	else if (a.limit > 0 && json_array_size(q.rows) == (size_t)a.limit)
		fprintf(stderr, "(the first %ld shown: --limit 0 shows all)\n", a.limit);
out:
	json_decref(q.rows);
	ctx_close(&c);
	return r;
}

/* ------------------------------------------------------------------ show */

static json_t *approvals_json(const struct tsr_approval_record *ap, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:o, s:s}", "officer",
		    ap[i].officer, "at", time_json(ap[i].at), "comment",
		    ap[i].comment ? ap[i].comment : "")) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* Everything an officer sees about application ap: never the identity
 * hash or any other hash. */
static json_t *app_json(struct ra_ctx *c, const struct tsr_app_record *ap,
    const struct tsr_approval_record *appr, size_t n_appr)
{
	enum tsr_app_state s;
	json_t *o;

	if (tsr_app_state_parse(ap->state, &s) != 0)
		s = TSR_APP_STATE_COUNT;
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s?, s:s?, s:o, s:s, s:s?}",
	    "id", ap->id, "product", ap->product, "storage", ap->storage, "state", ap->state,
	    "state_since", time_json(ap->state_since), "created_at", time_json(ap->created_at),
	    "updated_at", time_json(ap->updated_at), "email", ap->email,
	    "npi", ap->npi[0] ? ap->npi : NULL, "dea", ap->dea[0] ? ap->dea : NULL,
	    "applicant", parse_stored(ap->applicant), "agreement", ap->agreement,
	    "token_serial", ap->token_serial[0] ? ap->token_serial : NULL);
	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "checks", parse_stored(ap->checks)) != 0 ||
	    json_object_set_new(o, "approvals", approvals_json(appr, n_appr)) != 0 ||
	    json_object_set_new(o, "approvals_required",
	    json_integer(required_approvals(c, ap->product))) != 0 ||
	    json_object_set_new(o, "failed_logins", json_integer(ap->failed_logins)) != 0 ||
	    json_object_set_new(o, "locks", json_pack("{s:b, s:b, s:b}", "account", ap->locked,
	    "verification_code", tsr_ra_code_locked(c->st, ap->id, TSR_CODE_VERIFICATION),
	    "activation_code", tsr_ra_code_locked(c->st, ap->id, TSR_CODE_ACTIVATION))) != 0 ||
	    json_object_set_new(o, "reason", ap->reason[0] ? json_string(ap->reason) :
	    json_null()) != 0 ||
	    json_object_set_new(o, "next_step", json_string(s < TSR_APP_STATE_COUNT ?
	    tsr_ra_next_step(s, ap->storage) : "")) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Text from applicants, officers or a verifier, for a terminal: a line
 * feed continues on a line indented by indent; any other control
 * character (C0, DEL, or a UTF-8 encoded C1 such as CSI) is shown as '?',
 * so that no escape sequence reaches the officer's terminal. */
static void print_text(const char *s, int indent)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; p != NULL && *p != '\0'; p++) {
		if (*p == '\n')
			printf("\n%*s", indent, "");
		else if (*p < 0x20 || *p == 0x7f)
			putchar('?');
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			putchar('?');
			p++;
		} else
			putchar(*p);
	}
}

/* A JSON value, then a newline: strings as print_text() shows them, the
 * rest as compact ASCII JSON. */
static void print_value(const json_t *v, int indent)
{
	char *s;

	if (json_is_string(v)) {
		print_text(json_string_value(v), indent);
		putchar('\n');
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	printf("%s\n", s ? s : "?");
	free(s);
}

/* Applicant fields in the order a person reads them; others follow. */
static const char *const applicant_order[] = {
	"given_name", "family_name", "date_of_birth", "email", "address", "phone",
	"organization", "domain", "npi", "dea",
};

static bool in_applicant_order(const char *k)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(applicant_order); i++)
		if (strcmp(k, applicant_order[i]) == 0)
			return true;
	return false;
}

static void print_applicant(const json_t *fields)
{
	const char *k;
	json_t *v;

	printf("applicant\n");
	if (json_object_size(fields) == 0) {
		printf("  -\n");
		return;
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(applicant_order); i++)
		if ((v = json_object_get(fields, applicant_order[i])) != NULL) {
			printf("  %-14s ", applicant_order[i]);
			print_value(v, VALUE_COLUMN);
		}
	json_object_foreach((json_t *)fields, k, v)
		if (!in_applicant_order(k)) {
			printf("  %-14s ", k);
			print_value(v, VALUE_COLUMN);
		}
}

/* The duplicates check: per identifier shared with other open
 * applications, "email  AP-..., AP-...". */
static void print_duplicates(const json_t *dups)
{
	const char *field;
	size_t i, j;
	json_t *d, *id;

	printf("  %-14s %s\n", "duplicates", json_array_size(dups) == 0 ? "none" :
	    "other open applications have the same");
	json_array_foreach(dups, i, d) {
		field = json_string_value(json_object_get(d, "field"));
		printf("    %-12s", field ? field : "?");
		json_array_foreach(json_object_get(d, "applications"), j, id)
			printf("%s %s", j > 0 ? "," : "", json_string_value(id));
		if ((json_int_t)json_array_size(json_object_get(d, "applications")) <
		    json_integer_value(json_object_get(d, "count")))
			printf(" (%lld in all)", (long long)json_integer_value(json_object_get(d,
			    "count")));
		putchar('\n');
	}
}

/* One line per automatic check: "npi  pass: the NPI has a valid check
 * digit"; the verifier's evidence likewise. */
static void print_checks(const json_t *checks)
{
	const char *k, *why;
	json_t *v;

	printf("checks\n");
	if (!json_is_object(checks)) {
		printf("  none yet: they run when the email address is verified\n");
		return;
	}
	json_object_foreach((json_t *)checks, k, v) {
		if (strcmp(k, "duplicates") == 0 && json_is_array(v)) {
			print_duplicates(v);
			continue;
		}
		if (!json_is_string(json_object_get(v, "result"))) {
			printf("  %-14s ", k);
			print_value(v, VALUE_COLUMN);
			continue;
		}
		why = json_string_value(json_object_get(v, "detail"));
		if (why == NULL)
			why = json_string_value(json_object_get(v, "evidence"));
		printf("  %-14s ", k);
		print_text(json_string_value(json_object_get(v, "result")), VALUE_COLUMN);
		if (why != NULL && why[0] != '\0') {
			fputs(": ", stdout);
			print_text(why, VALUE_COLUMN);
		}
		putchar('\n');
	}
}

/* Under review: what the officers still have to do. */
static void print_todo(const json_t *o)
{
	const char *state = json_string_value(json_object_get(o, "state"));
	const char *storage = json_string_value(json_object_get(o, "storage"));
	long long need = (long long)json_integer_value(json_object_get(o, "approvals_required")) -
	    (long long)json_array_size(json_object_get(o, "approvals"));

	if (state == NULL || strcmp(state, tsr_app_state_name(TSR_APP_UNDER_REVIEW)) != 0 ||
	    need < 1)
		return;
	printf("officers        %lld more approval%s, each from an officer who has not "
	    "approved%s\n", need, need == 1 ? "" : "s", storage != NULL &&
	    strcmp(storage, TSR_CHOICE_NEW_TOKEN) == 0 &&
	    !json_is_string(json_object_get(o, "token_serial")) ?
	    "; assign the token serial before the last" : "");
}

static const char *lock_word(const json_t *locks, const char *key)
{
	return json_is_true(json_object_get(locks, key)) ? "LOCKED" : "unlocked";
}

/* The text form of app_json()'s object; since is when the state began. */
static void show_print(const json_t *o, time_t since, time_t now)
{
	const json_t *appr = json_object_get(o, "approvals"), *locks = json_object_get(o, "locks");
	char age[32];
	size_t i;
	json_t *v;

#define S(key) (json_string_value(json_object_get(o, key)) ? \
    json_string_value(json_object_get(o, key)) : "-")
	format_age((long long)(now - since), age, sizeof(age));
	printf("application     %s\nproduct         %s\nstorage         %s\n"
	    "state           %s since %s (%s)\ncreated         %s\nagreement       %s\n"
	    "token serial    %s\n", S("id"), S("product"), S("storage"), S("state"),
	    S("state_since"), age, S("created_at"), S("agreement"), S("token_serial"));
	print_applicant(json_object_get(o, "applicant"));
	print_checks(json_object_get(o, "checks"));
	printf("approvals       %zu of %lld\n", json_array_size(appr),
	    (long long)json_integer_value(json_object_get(o, "approvals_required")));
	json_array_foreach(appr, i, v) {
		printf("  %-14s %s", json_string_value(json_object_get(v, "officer")),
		    json_string_value(json_object_get(v, "at")));
		if (json_string_length(json_object_get(v, "comment")) > 0) {
			fputs("  ", stdout);
			print_text(json_string_value(json_object_get(v, "comment")), VALUE_COLUMN);
		}
		putchar('\n');
	}
	print_todo(o);
	printf("locks           account %s (%lld failed), verification code %s, "
	    "activation code %s\n", lock_word(locks, "account"),
	    (long long)json_integer_value(json_object_get(o, "failed_logins")),
	    lock_word(locks, "verification_code"), lock_word(locks, "activation_code"));
	if (json_is_string(json_object_get(o, "reason"))) {
		fputs("reason          ", stdout);
		print_value(json_object_get(o, "reason"), 16);
	}
	printf("next step       %s\n", S("next_step"));
#undef S
}

/* `tessera ra show ID`. */
int cmd_ra_show(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_JSON), '\0' };
	struct tsr_approval_record *appr = NULL;
	struct tsr_app_record ap;
	struct ra_args a;
	struct ra_ctx c;
	json_t *o = NULL;
	size_t n_appr = 0;
	int r;

	memset(&ap, 0, sizeof(ap));
	memset(&c, 0, sizeof(c));
	if ((r = parse(argc, argv, cli_usage_ra_show, allowed, true, &a)) != 0)
		return r;
	if ((r = ctx_open(&a, &c)) != 0 || (r = tsr_ra_app_get(c.st, a.id, &ap)) != 0 ||
	    (r = tsr_ra_approvals(c.st, a.id, &appr, &n_appr)) != 0)
		goto out;
	if ((o = app_json(&c, &ap, appr, n_appr)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (a.json) {
		r = cli_json_print(o);
		o = NULL;
		goto out;
	}
	show_print(o, (time_t)ap.state_since, tsr_now());
out:
	json_decref(o);
	tsr_ra_approvals_free(appr, n_appr);
	tsr_app_record_clear(&ap);
	ctx_close(&c);
	return r;
}

/* ------------------------------------------------------------------ officer actions */

/* "AP-...: approved by alice; now under_review (1 of 2 approvals)" on stderr. */
static void report(struct ra_ctx *c, const char *id, const char *done, const char *officer)
{
	struct tsr_app_record ap;
	size_t n = 0;

	memset(&ap, 0, sizeof(ap));
	if (tsr_ra_app_get(c->st, id, &ap) != 0) {
		fprintf(stderr, "%s: %s by %s\n", id, done, officer);
		return;
	}
	if (strcmp(ap.state, tsr_app_state_name(TSR_APP_UNDER_REVIEW)) == 0 &&
	    count_approvals(c, id, &n) == 0)
		fprintf(stderr, "%s: %s by %s; now %s (%zu of %d approvals)\n", id, done, officer,
		    ap.state, n, required_approvals(c, ap.product));
	else
		fprintf(stderr, "%s: %s by %s; now %s\n", id, done, officer, ap.state);
	tsr_app_record_clear(&ap);
}

/* `tessera ra approve ID --officer NAME [--token-serial S] [--comment TEXT]`. */
int cmd_ra_approve(int argc, char **argv)
{
	char allowed[] = { ALLOW_OFFICER, CLI_ALLOW(OPT_TOKEN_SERIAL), CLI_ALLOW(OPT_COMMENT),
		'\0' };
	struct ra_args a;
	struct ra_ctx c;
	bool final = false;
	int r;

	if ((r = parse(argc, argv, cli_usage_ra_approve, allowed, true, &a)) != 0 ||
	    (r = officer_begin(&a, &c)) != 0)
		return r;
	if ((r = tsr_ra_approve(c.ra, c.st, a.officer, a.id, a.token_serial, a.comment,
	    &final)) == 0)
		report(&c, a.id, final ? "final approval" : "approved", a.officer);
	ctx_close(&c);
	return r;
}

/* `tessera ra reject ID --officer NAME --reason TEXT`. */
int cmd_ra_reject(int argc, char **argv)
{
	char allowed[] = { ALLOW_OFFICER, CLI_ALLOW(OPT_REASON), '\0' };
	struct ra_args a;
	struct ra_ctx c;
	int r;

	/* A missing reason is a usage error, found before the password is asked. */
	if ((r = parse(argc, argv, cli_usage_ra_reject, allowed, true, &a)) != 0)
		return r;
	if (a.reason == NULL)
		return cli_usage_error(cli_usage_ra_reject, "--reason TEXT is required (it is "
		    "mailed to the applicant)");
	if ((r = officer_begin(&a, &c)) != 0)
		return r;
	if ((r = tsr_ra_reject(c.ra, c.st, a.officer, a.id, a.reason)) == 0)
		report(&c, a.id, "rejected", a.officer);
	ctx_close(&c);
	return r;
}

/* `tessera ra assign-token ID --officer NAME --serial S`. */
int cmd_ra_assign_token(int argc, char **argv)
{
	char allowed[] = { ALLOW_OFFICER, CLI_ALLOW(OPT_SERIAL), '\0' };
	struct ra_args a;
	struct ra_ctx c;
	int r;

	if ((r = parse(argc, argv, cli_usage_ra_assign_token, allowed, true, &a)) != 0)
		return r;
	if (a.serial == NULL)
		return cli_usage_error(cli_usage_ra_assign_token, "--serial SERIAL is required");
	if ((r = officer_begin(&a, &c)) != 0)
		return r;
	if ((r = tsr_ra_assign_token(c.ra, c.st, a.officer, a.id, a.serial)) == 0)
		report(&c, a.id, "token serial assigned", a.officer);
	ctx_close(&c);
	return r;
}

/* `tessera ra unlock ID --officer NAME --account|--code`. */
int cmd_ra_unlock(int argc, char **argv)
{
	char allowed[] = { ALLOW_OFFICER, CLI_ALLOW(OPT_ACCOUNT), CLI_ALLOW(OPT_CODE), '\0' };
	struct ra_args a;
	struct ra_ctx c;
	int r;

	if ((r = parse(argc, argv, cli_usage_ra_unlock, allowed, true, &a)) != 0)
		return r;
	if (a.account == a.code)
		return cli_usage_error(cli_usage_ra_unlock, "give one of --account and --code");
	if ((r = officer_begin(&a, &c)) != 0)
		return r;
	if ((r = tsr_ra_unlock(c.ra, c.st, a.officer, a.id, a.account ? TSR_RA_UNLOCK_ACCOUNT :
	    TSR_RA_UNLOCK_CODE)) == 0)
		report(&c, a.id, a.account ? "account unlocked" : "code unlocked", a.officer);
	ctx_close(&c);
	return r;
}

/* `tessera ra reissue ID --officer NAME`. */
int cmd_ra_reissue(int argc, char **argv)
{
	char allowed[] = { ALLOW_OFFICER, '\0' };
	struct ra_args a;
	struct ra_ctx c;
	int r;

	if ((r = parse(argc, argv, cli_usage_ra_reissue, allowed, true, &a)) != 0 ||
	    (r = officer_begin(&a, &c)) != 0)
		return r;
	if ((r = tsr_ra_reissue_activation(c.ra, c.st, a.officer, a.id)) == 0)
		report(&c, a.id, "activation reissued", a.officer);
	ctx_close(&c);
	return r;
}

/* ------------------------------------------------------------------ lapse */

/* `tessera ra lapse`: one sweep at the current time. */
int cmd_ra_lapse(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_JSON), '\0' };
	struct ra_args a;
	struct ra_ctx c;
	int r, lapsed = 0;

	memset(&c, 0, sizeof(c));
	if ((r = parse(argc, argv, cli_usage_ra_lapse, allowed, false, &a)) != 0)
		return r;
	if ((r = ctx_open(&a, &c)) != 0)
		goto out;
	r = tsr_ra_lapse_sweep(c.ra, c.st, cli_actor(), tsr_now(), &lapsed);
	/* Applications that lapsed before a failure stay lapsed: say how many. */
	if (r != 0 && lapsed > 0)
		r = tsr_error_wrap(r, "%d application%s lapsed, then", lapsed,
		    lapsed == 1 ? "" : "s");
	if (r != 0)
		goto out;
	if (a.json)
		r = cli_json_print(json_pack("{s:i}", "lapsed", lapsed));
	else
		fprintf(stderr, "%d application%s lapsed\n", lapsed, lapsed == 1 ? "" : "s");
out:
	ctx_close(&c);
	return r;
}
