/*
 * cmd_db.c - `tessera db migrate|copy`: the CA's database itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "store/store.h"

const char cli_usage_db_migrate[] =
    "usage: tessera db migrate [--home DIR]\n"
    "\n"
    "Bring the database the home's config names (SQLite or PostgreSQL) to the\n"
    "schema this tessera knows, applying each pending migration once, in a\n"
    "transaction.  Several nodes starting at once migrate once.  Prints the schema\n"
    "version.  Every command does this when it opens the database; this one does\n"
    "only that, for a deployment step.  See docs/postgresql.md.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

const char cli_usage_db_copy[] =
    "usage: tessera db copy [--home DIR] --to URI|FILE\n"
    "\n"
    "Copy every row of the home's database into a new one: an empty PostgreSQL\n"
    "database (postgresql://...; a password goes in a passfile) or a new SQLite\n"
    "FILE.  The copy is read from one snapshot and written in one transaction, so\n"
    "it lands whole or not at all.  Then each table's rows are counted on both\n"
    "sides and the audit chain is verified on the target: the command fails unless\n"
    "everything matches.  Stop `tessera serve` first, or what it writes after the\n"
    "snapshot stays behind.  Then set `database` in tessera.conf to the target.\n"
    "\n"
    "options:\n"
    "  --home DIR     the CA home (or $TESSERA_HOME)\n"
    "  --to URI|FILE  the target database\n"
    "  --help         this text\n";

enum { OPT_HOME = 1, OPT_TO, OPT_HELP };

static const struct option db_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "to", required_argument, NULL, OPT_TO },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct db_args {
	const char *home, *to;
};

static int parse(int argc, char **argv, const char *usage, bool copy, struct db_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, db_options, OPT_HELP, NULL, usage)) > 0 &&
	    c != CLI_HELP) {
		if (c == OPT_HOME)
			a->home = optarg;
		else if (copy && c == OPT_TO)
			a->to = optarg;
		else
			return cli_bad_option(usage, argv);
	}
	if (c < 0 || c == CLI_HELP)
		return c;
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (copy && (a->to == NULL || a->to[0] == '\0'))
		return cli_usage_error(usage, "--to is required");
	return 0;
}

int cmd_db_migrate(int argc, char **argv)
{
	struct tsr_config cfg;
	struct tsr_store *st = NULL;
	struct db_args a;
	const char *home;
	int r, version = 0;

	if ((r = parse(argc, argv, cli_usage_db_migrate, false, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_config_load(home, &cfg)) != 0)
		return r;
	if ((r = tsr_store_open(cfg.ca.database, false, &st)) == 0 &&
	    (r = tsr_store_schema_version(st, &version)) == 0)
		printf("%s: schema version %d, up to date\n", cfg.ca.database, version);
	tsr_store_close(st);
	tsr_config_free(&cfg);
	return r;
}

/* Audit the copy on both sides: the source says where its data went, the
 * target (whose chain continues) where it came from. */
static void audit_copy(struct tsr_store *src, struct tsr_store *dst, const char *from,
    const char *to, const struct tsr_store_copy_report *rep)
{
	if (tsr_audit_append(dst, cli_actor(), "db.copy", to, TSR_AUDIT_SUCCESS,
	    "copied from %s: %lld rows", from, (long long)rep->rows) != 0 ||
	    tsr_audit_append(src, cli_actor(), "db.copy", from, TSR_AUDIT_SUCCESS,
	    "copied to %s: %lld rows", to, (long long)rep->rows) != 0)
		fprintf(stderr, "tessera: warning: cannot audit the copy: %s\n",
		    tsr_error_detail());
}

/* A failed copy into a new SQLite file removes the file (and its WAL), so
 * that the same command can run again; a PostgreSQL target is left with
 * its empty schema, which a new copy accepts (tsr_store_open_copy_target). */
static void remove_sqlite_target(const char *to)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	const char *path = strncmp(to, "sqlite:", 7) == 0 ? to + 7 : to;
	char *f = NULL;

	for (size_t i = 0; i < TSR_ARRAY_LEN(suffixes); i++) {
		if (asprintf(&f, "%s%s", path, suffixes[i]) < 0)
			return;
		if (unlink(f) != 0 && errno != ENOENT)
			fprintf(stderr, "tessera: warning: cannot remove %s: %s\n", f,
			    strerror(errno));
		free(f);
	}
}

static int copy(const char *from, const char *to)
{
	struct tsr_store_copy_report rep;
	struct tsr_audit_report audit;
	struct tsr_store *src = NULL, *dst = NULL;
	int r;

	/* Both may be printed and audited: the config refuses a password in a
	 * URI, and so does --to. */
	if (tsr_database_is_uri(to) && tsr_store_uri_check(to) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "--to");
	if ((r = tsr_store_open(from, false, &src)) != 0 ||
	    (r = tsr_store_open_copy_target(to, &dst)) != 0 ||
	    (r = tsr_store_copy(src, dst, &rep)) != 0)
		goto out;
	if ((r = tsr_audit_verify(dst, &audit)) != 0) {
		if (r == TSR_ERR_AUDIT)
			r = tsr_error(r, "the copied audit chain does not verify at record %lld: %s",
			    (long long)audit.first_bad_seq, audit.reason);
		goto out;
	}
	for (size_t i = 0; i < rep.n_tables; i++)
		printf("  %-16s %10lld rows\n", rep.tables[i].name, (long long)rep.tables[i].rows);
	printf("Copied %lld rows from %s to %s; every table counts the same on both sides and "
	    "the audit chain verifies there (%lld records, head %s).\n"
	    "Next: set `database = %s` in tessera.conf and restart the servers.\n",
	    (long long)rep.rows, from, to, (long long)audit.records,
	    audit.head_hash[0] ? audit.head_hash : "-", to);
	audit_copy(src, dst, from, to, &rep);
out:
	tsr_store_close(dst);
	tsr_store_close(src);
	if (r != 0 && dst != NULL && !tsr_database_is_uri(to))
		remove_sqlite_target(to);
	return r;
}

int cmd_db_copy(int argc, char **argv)
{
	struct tsr_config cfg;
	struct db_args a;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_db_copy, true, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_config_load(home, &cfg)) != 0)
		return r;
	r = copy(cfg.ca.database, a.to);
	tsr_config_free(&cfg);
	return r;
}
