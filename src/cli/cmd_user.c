/*
 * cmd_user.c - `tessera user add|list|show|passwd|roles|disable|enable|unlock`:
 * the officers who log in to the RA.  The rules live in src/ra/user.c; this
 * file parses options, reads passwords (a private file, or the terminal
 * without echo) and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "ra/admin.h"

#define ROLE_ARGS_MAX 8

const char cli_usage_user_add[] =
    "usage: tessera user add --home DIR NAME --role ROLE [--role ROLE]... [--display-name TEXT]\n"
    "                        [--email ADDR] [--password-file FILE]\n"
    "\n"
    "Add an officer who can log in to the RA.  The password is asked twice on the\n"
    "terminal (without echo), or read from the first line of a file only its owner\n"
    "can read.  It needs at least 8 characters, and must not be a common password,\n"
    "repetitive, or contain the name, display name, email or 'tessera'.  Only its\n"
    "Argon2id hash is stored.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  NAME                  login name: a lower-case letter, then 1 to 31 lower-case\n"
    "                        letters, digits, '.', '_' or '-'\n"
    "  --role ROLE           ra-officer (reviews applications), ca-admin (manages\n"
    "                        officers, vouchers and the CA) or auditor (reads the audit\n"
    "                        log); repeatable, or a comma list; at least one\n"
    "  --display-name TEXT   the officer's full name, as others see it\n"
    "  --email ADDR          the officer's email address\n"
    "  --password-file FILE  read the password from FILE (mode 0600 or stricter)\n"
    "                        instead of the terminal; for scripts\n"
    "  --help                this text\n"
    "\n"
    "environment: TESSERA_PASSWORD_LIST names a file of common passwords (one per\n"
    "line) to use instead of the list built into Tessera.\n";

const char cli_usage_user_list[] =
    "usage: tessera user list --home DIR [--json]\n"
    "\n"
    "List the officers: name, roles, state (active, locked, disabled) and display name.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      JSON array instead of a table\n"
    "  --help      this text\n";

const char cli_usage_user_show[] =
    "usage: tessera user show --home DIR NAME [--json]\n"
    "\n"
    "Show one officer: roles, state, failed logins since the last success, times.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      a JSON object instead of text\n"
    "  --help      this text\n";

const char cli_usage_user_passwd[] =
    "usage: tessera user passwd --home DIR NAME [--password-file FILE]\n"
    "\n"
    "Set a new password for an officer (the rules of tessera user add).  This does\n"
    "not unlock a locked account: see tessera user unlock.\n"
    "\n"
    "options:\n"
    "  --home DIR            the CA home (or $TESSERA_HOME)\n"
    "  --password-file FILE  read the password from FILE (mode 0600 or stricter)\n"
    "                        instead of the terminal\n"
    "  --help                this text\n"
    "\n"
    "environment: TESSERA_PASSWORD_LIST, as for tessera user add.\n";

const char cli_usage_user_roles[] =
    "usage: tessera user roles --home DIR NAME --role ROLE [--role ROLE]...\n"
    "\n"
    "Replace an officer's roles with the ones given.\n"
    "\n"
    "options:\n"
    "  --home DIR   the CA home (or $TESSERA_HOME)\n"
    "  --role ROLE  ra-officer, ca-admin or auditor; repeatable, or a comma list\n"
    "  --help       this text\n";

const char cli_usage_user_disable[] =
    "usage: tessera user disable --home DIR NAME\n"
    "\n"
    "Switch an officer's account off: every login is refused until it is enabled.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

const char cli_usage_user_enable[] =
    "usage: tessera user enable --home DIR NAME\n"
    "\n"
    "Switch a disabled account on again (a lock stays: see tessera user unlock).\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

const char cli_usage_user_unlock[] =
    "usage: tessera user unlock --home DIR NAME\n"
    "\n"
    "Unlock an account that too many failed logins locked, and clear its count.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_ROLE, OPT_DISPLAY, OPT_EMAIL, OPT_PWFILE, OPT_JSON, OPT_HELP };

static const struct option user_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "display-name", required_argument, NULL, OPT_DISPLAY },
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "password-file", required_argument, NULL, OPT_PWFILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct user_args {
	const char *home, *display, *email, *pwfile, *name;
	const char *roles[ROLE_ARGS_MAX];
	size_t n_roles;
	bool json;
};


/* One parser for every subcommand; allowed lists the options each takes.
 * Every subcommand but list takes one NAME. */
static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct user_args *a)
{
	bool want_name = usage != cli_usage_user_list;
	int c;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, user_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_DISPLAY: a->display = optarg; break;
		case OPT_EMAIL: a->email = optarg; break;
		case OPT_PWFILE: a->pwfile = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_ROLE:
			if (a->n_roles == ROLE_ARGS_MAX)
				return cli_usage_error(usage, "at most %d --role", ROLE_ARGS_MAX);
			a->roles[a->n_roles++] = optarg;
			break;
		default:
			return cli_bad_option(usage, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (want_name && optind < argc)
		a->name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (want_name && a->name == NULL)
		return cli_usage_error(usage, "a user NAME is required");
	if (strchr(allowed, CLI_ALLOW(OPT_ROLE)) != NULL && a->n_roles == 0)
		return cli_usage_error(usage, "at least one --role is required");
	return 0;
}

/* The --role values as one comma list for tsr_ra_roles_parse(). */
static int join_roles(const struct user_args *a, char *out, size_t size)
{
	size_t o = 0;
	int n;

	out[0] = '\0';
	for (size_t i = 0; i < a->n_roles; i++) {
		n = snprintf(out + o, size - o, "%s%s", i > 0 ? "," : "", a->roles[i]);
		if (n < 0 || (size_t)n >= size - o)
			return tsr_error(TSR_ERR_INVALID, "the --role values are too long");
		o += (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------ passwords */

static int get_password(const char *file, char **out)
{
	return file != NULL ? cli_password_file(file, "--password-file", out) :
	    cli_password_prompt("New password: ", "New password again: ", out);
}

/* The list of common passwords: the one built into Tessera, or the
 * operator's own (a larger breach corpus) named by $TESSERA_PASSWORD_LIST. */
static int load_list(struct tsr_password_list **out)
{
	const char *path = getenv("TESSERA_PASSWORD_LIST");

	if (path == NULL || path[0] == '\0')
		return tsr_password_list_builtin(out);
	if (tsr_password_list_load(path, out) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, "TESSERA_PASSWORD_LIST (the list of common "
		    "passwords)");
	return 0;
}

/* ------------------------------------------------------------------ commands */

/* Open the home named by a->home or $TESSERA_HOME. */
static int open_home(const struct user_args *a, struct tsr_ca **ca)
{
	const char *home;
	int r;

	*ca = NULL;
	if ((r = cli_home(a->home, &home)) != 0)
		return r;
	return tsr_ca_open(home, ca);
}

int cmd_user_add(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_ROLE), CLI_ALLOW(OPT_DISPLAY), CLI_ALLOW(OPT_EMAIL),
		CLI_ALLOW(OPT_PWFILE), '\0' };
	struct tsr_password_list *list = NULL;
	char roles[256], *pw = NULL;
	struct user_args a;
	struct tsr_ca *ca = NULL;
	int r;

	if ((r = parse(argc, argv, cli_usage_user_add, allowed, &a)) != 0 ||
	    (r = join_roles(&a, roles, sizeof(roles))) != 0)
		return r;
	/* Everything that can fail without the password fails before it is asked. */
	if ((r = open_home(&a, &ca)) != 0 || (r = load_list(&list)) != 0 ||
	    (r = get_password(a.pwfile, &pw)) != 0)
		goto out;
	if ((r = tsr_ra_user_add(tsr_ca_store(ca), list, cli_actor(), a.name, a.display, a.email,
	    roles, pw)) == 0)
		fprintf(stderr, "added user %s\n", a.name);
out:
	tsr_free_secret(pw);
	tsr_password_list_free(list);
	tsr_ca_close(ca);
	return r;
}

int cmd_user_passwd(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_PWFILE), '\0' };
	struct tsr_password_list *list = NULL;
	struct tsr_user_record u;
	struct user_args a;
	struct tsr_ca *ca = NULL;
	char *pw = NULL;
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = parse(argc, argv, cli_usage_user_passwd, allowed, &a)) != 0)
		return r;
	if ((r = open_home(&a, &ca)) != 0 || (r = load_list(&list)) != 0 ||
	    (r = tsr_store_user_get(tsr_ca_store(ca), a.name, &u)) != 0 ||
	    (r = get_password(a.pwfile, &pw)) != 0)
		goto out;
	if ((r = tsr_ra_user_passwd(tsr_ca_store(ca), list, cli_actor(), a.name, pw)) == 0)
		fprintf(stderr, "changed the password of %s\n", a.name);
out:
	tsr_user_record_clear(&u);
	tsr_free_secret(pw);
	tsr_password_list_free(list);
	tsr_ca_close(ca);
	return r;
}

int cmd_user_roles(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_ROLE), '\0' };
	struct user_args a;
	struct tsr_ca *ca = NULL;
	char roles[256];
	int r;

	if ((r = parse(argc, argv, cli_usage_user_roles, allowed, &a)) != 0 ||
	    (r = join_roles(&a, roles, sizeof(roles))) != 0 || (r = open_home(&a, &ca)) != 0)
		return r;
	if ((r = tsr_ra_user_set_roles(tsr_ca_store(ca), cli_actor(), a.name, roles)) == 0)
		fprintf(stderr, "changed the roles of %s\n", a.name);
	tsr_ca_close(ca);
	return r;
}

typedef int (*flag_fn)(struct tsr_store *st, const char *actor, const char *name);

static int flag_command(int argc, char **argv, const char *usage, flag_fn fn, const char *done)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), '\0' };
	struct user_args a;
	struct tsr_ca *ca = NULL;
	int r;

	if ((r = parse(argc, argv, usage, allowed, &a)) != 0 || (r = open_home(&a, &ca)) != 0)
		return r;
	if ((r = fn(tsr_ca_store(ca), cli_actor(), a.name)) == 0)
		fprintf(stderr, "%s %s\n", done, a.name);
	tsr_ca_close(ca);
	return r;
}

int cmd_user_disable(int argc, char **argv)
{
	return flag_command(argc, argv, cli_usage_user_disable, tsr_ra_user_disable, "disabled");
}

int cmd_user_enable(int argc, char **argv)
{
	return flag_command(argc, argv, cli_usage_user_enable, tsr_ra_user_enable, "enabled");
}

int cmd_user_unlock(int argc, char **argv)
{
	return flag_command(argc, argv, cli_usage_user_unlock, tsr_ra_user_unlock, "unlocked");
}

/* ------------------------------------------------------------------ list and show */

static const char *state_of(const struct tsr_user_record *u)
{
	if (u->disabled && u->locked)
		return "disabled,locked";
	if (u->disabled)
		return "disabled";
	return u->locked ? "locked" : "active";
}

/* The roles as a JSON array of strings. */
static json_t *roles_json(const char *roles)
{
	json_t *a = json_array();
	const char *p = roles;
	size_t n;

	while (a != NULL && *p != '\0') {
		n = strcspn(p, ",");
		if (json_array_append_new(a, json_stringn(p, n)) != 0) {
			json_decref(a);
			return NULL;
		}
		p += n + (p[n] == ',');
	}
	return a;
}

/* Everything about a user except the password hash. */
static json_t *user_json(const struct tsr_user_record *u)
{
	char ca[21], ua[21];

	tsr_time_format((time_t)u->created_at, ca);
	tsr_time_format((time_t)u->updated_at, ua);
	return json_pack("{s:s, s:s, s:s, s:o*, s:s, s:b, s:b, s:i, s:s, s:s}",
	    "name", u->name, "display_name", u->display_name, "email", u->email,
	    "roles", roles_json(u->roles), "state", state_of(u), "locked", u->locked,
	    "disabled", u->disabled, "failed_logins", u->failed_logins, "created_at", ca,
	    "updated_at", ua);
}

struct list_ctx {
	json_t *array;
};

static int list_one(const struct tsr_user_record *u, void *ctx)
{
	struct list_ctx *l = ctx;

	if (l->array != NULL)
		return json_array_append_new(l->array, user_json(u)) == 0 ? 0 :
		    tsr_error(TSR_ERR_NOMEM, "out of memory");
	printf("%-32s %-28s %-16s %s\n", u->name, u->roles, state_of(u), u->display_name);
	return 0;
}

int cmd_user_list(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_JSON), '\0' };
	struct list_ctx l = { NULL };
	struct user_args a;
	struct tsr_ca *ca = NULL;
	int r;

	if ((r = parse(argc, argv, cli_usage_user_list, allowed, &a)) != 0 ||
	    (r = open_home(&a, &ca)) != 0)
		return r;
	if (a.json && (l.array = json_array()) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0 && !a.json)
		printf("%-32s %-28s %-16s %s\n", "NAME", "ROLES", "STATE", "DISPLAY NAME");
	if (r == 0)
		r = tsr_store_user_list(tsr_ca_store(ca), list_one, &l);
	if (r == 0 && l.array != NULL) {
		r = cli_json_print(l.array);
		l.array = NULL;
	}
	json_decref(l.array);
	tsr_ca_close(ca);
	return r;
}

int cmd_user_show(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_JSON), '\0' };
	struct tsr_user_record u;
	struct user_args a;
	struct tsr_ca *ca = NULL;
	char ca_t[21], ua_t[21];
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = parse(argc, argv, cli_usage_user_show, allowed, &a)) != 0 ||
	    (r = open_home(&a, &ca)) != 0)
		return r;
	if ((r = tsr_store_user_get(tsr_ca_store(ca), a.name, &u)) != 0)
		goto out;
	if (a.json) {
		r = cli_json_print(user_json(&u));
		goto out;
	}
	tsr_time_format((time_t)u.created_at, ca_t);
	tsr_time_format((time_t)u.updated_at, ua_t);
	printf("name           %s\n"
	    "display name   %s\n"
	    "email          %s\n"
	    "roles          %s\n"
	    "state          %s\n"
	    "failed logins  %d\n"
	    "created        %s\n"
	    "updated        %s\n",
	    u.name, u.display_name[0] ? u.display_name : "-", u.email[0] ? u.email : "-",
	    u.roles, state_of(&u), u.failed_logins, ca_t, ua_t);
out:
	tsr_user_record_clear(&u);
	tsr_ca_close(ca);
	return r;
}
