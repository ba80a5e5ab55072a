/*
 * cmd_audit.c - `tessera audit verify|list`.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_audit_verify[] =
    "usage: tessera audit verify --home DIR\n"
    "\n"
    "Walk the hash chain of the audit log.  Exits 0 if it is intact; otherwise names\n"
    "the first record that was altered, removed or reordered and exits non-zero.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

const char cli_usage_audit_list[] =
    "usage: tessera audit list --home DIR [--limit N] [--json]\n"
    "\n"
    "Print the audit records, oldest first (with --limit, the last N).\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --limit N   only the last N records\n"
    "  --json      JSON array instead of lines\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_LIMIT, OPT_JSON, OPT_HELP };

static const struct option audit_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct audit_args {
	const char *home;
	long limit;
	bool json;
};

static int parse(int argc, char **argv, const char *usage, bool list, struct audit_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;   /* one error line, ours */
	while (r == 0 && (c = getopt_long(argc, argv, "", audit_options, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage, stdout);
			return CLI_HELP;
		}
		if (c == OPT_HOME)
			a->home = optarg;
		else if (list && c == OPT_LIMIT)
			r = cli_parse_uint("--limit", optarg, 100000000, &a->limit);
		else if (list && c == OPT_JSON)
			a->json = true;
		else
			return cli_bad_option(usage, argv);
	}
	if (r == 0 && optind < argc)
		r = cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return r;
}

int cmd_audit_verify(int argc, char **argv)
{
	struct tsr_audit_report rep;
	struct audit_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_audit_verify, false, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	r = tsr_audit_verify(tsr_ca_store(ca), &rep);
	if (r == 0)
		printf("audit chain intact: %lld records, head %s\n", (long long)rep.records,
		    rep.head_hash[0] ? rep.head_hash : "-");
	else if (r == TSR_ERR_AUDIT)
		r = tsr_error(TSR_ERR_AUDIT, "audit chain broken at record %lld: %s",
		    (long long)rep.first_bad_seq, rep.reason);
	tsr_ca_close(ca);
	return r;
}

struct list_ctx {
	json_t *array;
	int64_t skip;
};

static int list_one(const struct tsr_audit_record *rec, void *ctx)
{
	struct list_ctx *l = ctx;
	char when[21];

	if (l->skip > 0) {
		l->skip--;
		return 0;
	}
	tsr_time_format(rec->time, when);
	if (l->array != NULL)
		return json_array_append_new(l->array, json_pack(
		    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)rec->seq,
		    "time", when, "actor", rec->actor, "action", rec->action, "object",
		    rec->object, "outcome", rec->outcome, "detail", rec->detail,
		    "prev_hash", rec->prev_hash, "hash", rec->hash)) == 0 ? 0 :
		    tsr_error(TSR_ERR_NOMEM, "out of memory");
	printf("%6lld %s %-14s %-14s %-8s %s %s\n", (long long)rec->seq, when, rec->actor,
	    rec->action, rec->outcome, rec->object, rec->detail);
	return 0;
}

int cmd_audit_list(int argc, char **argv)
{
	struct tsr_audit_record last;
	struct list_ctx l = { NULL, 0 };
	struct audit_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_audit_list, true, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	memset(&last, 0, sizeof(last));
	if (a.limit > 0 && tsr_store_audit_last(tsr_ca_store(ca), &last) == 0 && last.seq > a.limit)
		l.skip = last.seq - a.limit;
	tsr_audit_record_clear(&last);
	if (a.json && (l.array = json_array()) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0)
		r = tsr_store_audit_iter(tsr_ca_store(ca), list_one, &l);
	if (r == 0 && l.array != NULL) {
		r = cli_json_print(l.array);
		l.array = NULL;
	}
	json_decref(l.array);
	tsr_ca_close(ca);
	return r;
}
