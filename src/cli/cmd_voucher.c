/*
 * cmd_voucher.c - `tessera voucher create|list|revoke`: batches of prepaid
 * codes for products that are not free.  The codes are printed (or written
 * to a private file) once, when they are made; nothing can show them again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "ra/admin.h"

#define DAY 86400

const char cli_usage_voucher_create[] =
    "usage: tessera voucher create --home DIR --product NAME --count N [--expires DATE]\n"
    "                              [--out FILE]\n"
    "\n"
    "Make a batch of voucher codes for a product that is not free.  The codes are\n"
    "printed once, one per line, and the batch id goes to standard error; Tessera\n"
    "keeps only a keyed hash of each code (the key is HOME/codes.key), so a lost\n"
    "code cannot be shown again: revoke the batch and make a new one.\n"
    "\n"
    "options:\n"
    "  --home DIR       the CA home (or $TESSERA_HOME)\n"
    "  --product NAME   the product the codes pay for (see tessera product list)\n"
    "  --count N        how many codes, 1 to 10000\n"
    "  --expires DATE   the codes are good through DATE (YYYY-MM-DD, until 24:00\n"
    "                   UTC); default: they never expire\n"
    "  --out FILE       write the codes to FILE, a new file of mode 0600, instead of\n"
    "                   standard output\n"
    "  --help           this text\n";

const char cli_usage_voucher_list[] =
    "usage: tessera voucher list --home DIR [--batch ID] [--product NAME] [--json]\n"
    "\n"
    "List voucher batches, oldest first: product, creation and expiry, and how many\n"
    "codes are unused, used, revoked and expired.  Codes are never shown.\n"
    "\n"
    "options:\n"
    "  --home DIR      the CA home (or $TESSERA_HOME)\n"
    "  --batch ID      only this batch\n"
    "  --product NAME  only batches for this product\n"
    "  --json          JSON array instead of a table\n"
    "  --help          this text\n";

const char cli_usage_voucher_revoke[] =
    "usage: tessera voucher revoke --home DIR --batch ID\n"
    "\n"
    "Revoke every unused code of a batch (codes already used stay used).\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --batch ID  the batch, as voucher create or voucher list named it\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_PRODUCT, OPT_COUNT, OPT_EXPIRES, OPT_OUT, OPT_BATCH, OPT_JSON,
	OPT_HELP };

static const struct option voucher_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "product", required_argument, NULL, OPT_PRODUCT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct voucher_args {
	const char *home, *product, *out, *batch;
	long count;
	bool have_count, json;
	time_t expires;
};


static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct voucher_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, voucher_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_PRODUCT: a->product = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_BATCH: a->batch = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_COUNT:
			/* Parsed wide, so that the range check can say what a batch holds. */
			r = cli_parse_uint("--count", optarg, 1000000000, &a->count);
			a->have_count = true;
			break;
		case OPT_EXPIRES:
			/* Good through the day named: until the next UTC midnight. */
			if ((r = cli_parse_date("--expires", optarg, &a->expires)) == 0)
				a->expires += DAY;
			break;
		default:
			return cli_bad_option(usage, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (r == 0 && optind < argc)
		r = cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return r;
}

/* ------------------------------------------------------------------ create */

/* Create --out now, empty and private, so that a path that cannot be
 * written fails before any code exists. */
static int open_out(const char *path, int *fd)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return tsr_error(errno == EEXIST ? TSR_ERR_EXISTS : TSR_ERR_IO, "--out %s: %s", path,
		    errno == EEXIST ? "the file exists (codes are never written over a file)" :
		    strerror(errno));
	/* The umask may have taken bits away, never added any; make it exact. */
	if (fchmod(*fd, 0600) != 0) {
		int r = tsr_error(TSR_ERR_IO, "--out %s: %s", path, strerror(errno));

		close(*fd);
		*fd = -1;
		unlink(path);
		return r;
	}
	return 0;
}

/* Write the codes, one per line, to fd (closed here) or standard output. */
static int write_codes(int fd, char **codes, long count)
{
	FILE *f = fd >= 0 ? fdopen(fd, "w") : stdout;
	int r = 0;

	if (f == NULL) {
		close(fd);
		return tsr_error(TSR_ERR_IO, "cannot write the codes: %s", strerror(errno));
	}
	for (long i = 0; i < count && r == 0; i++)
		if (fprintf(f, "%s\n", codes[i]) < 0)
			r = tsr_error(TSR_ERR_IO, "cannot write the codes: %s", strerror(errno));
	if (r == 0 && fflush(f) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write the codes: %s", strerror(errno));
	if (r == 0 && fd >= 0 && fsync(fd) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write the codes: %s", strerror(errno));
	if (fd >= 0 && fclose(f) != 0 && r == 0)
		r = tsr_error(TSR_ERR_IO, "cannot write the codes: %s", strerror(errno));
	return r;
}

/* The code key of home (made on first use). */
static int code_key(const char *home, uint8_t key[TSR_CODE_KEY_BYTES])
{
	char *path = NULL;
	int r;

	if ((r = tsr_path_join(home, "codes.key", &path)) == 0)
		r = tsr_code_key_load_or_create(path, key);
	free(path);
	return r;
}

static int check_create_args(const struct voucher_args *a)
{
	if (a->product == NULL)
		return cli_usage_error(cli_usage_voucher_create, "--product NAME is required");
	if (!a->have_count)
		return cli_usage_error(cli_usage_voucher_create, "--count N is required");
	if (a->count < 1 || a->count > TSR_VOUCHER_COUNT_MAX)
		return tsr_error(TSR_ERR_INVALID, "--count: a batch has 1 to %d vouchers, not %ld",
		    TSR_VOUCHER_COUNT_MAX, a->count);
	return 0;
}

int cmd_voucher_create(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_PRODUCT), CLI_ALLOW(OPT_COUNT),
		CLI_ALLOW(OPT_EXPIRES), CLI_ALLOW(OPT_OUT), '\0' };
	uint8_t key[TSR_CODE_KEY_BYTES];
	char batch[TSR_VOUCHER_BATCH_LEN + 1] = "", expiry[21] = "never";
	struct voucher_args a;
	struct tsr_ca *ca = NULL;
	char **codes = NULL;
	const char *home;
	int r, fd = -1;

	if ((r = parse(argc, argv, cli_usage_voucher_create, allowed, &a)) != 0 ||
	    (r = check_create_args(&a)) != 0 || (r = cli_home(a.home, &home)) != 0)
		return r;
	if ((r = tsr_ca_open(home, &ca)) != 0 || (r = code_key(home, key)) != 0 ||
	    (a.out != NULL && (r = open_out(a.out, &fd)) != 0))
		goto out;
	if ((r = tsr_ra_voucher_create(tsr_ca_store(ca), &tsr_ca_config(ca)->products, key,
	    cli_actor(), a.product, a.count, a.expires, batch, &codes)) != 0) {
		if (fd >= 0) {
			close(fd);
			unlink(a.out);
		}
		goto out;
	}
	r = write_codes(fd, codes, a.count);
	if (r != 0) {
		r = tsr_error_wrap(r, "batch %s was made but its codes were not all written "
		    "(revoke it: tessera voucher revoke --batch %s)", batch, batch);
		goto out;
	}
	if (a.expires != 0)
		tsr_time_format(a.expires, expiry);
	fprintf(stderr, "batch %s: %ld vouchers for product %s, expire %s%s%s\n", batch, a.count,
	    a.product, expiry, a.out != NULL ? ", written to " : "", a.out != NULL ? a.out : "");
out:
	tsr_ra_voucher_codes_free(codes, a.count);
	tsr_wipe(key, sizeof(key));
	tsr_ca_close(ca);
	return r;
}

/* ------------------------------------------------------------------ list */

static json_t *batch_json(const struct tsr_voucher_batch *b)
{
	char created[21], expires[21];

	tsr_time_format((time_t)b->created_at, created);
	if (b->expires_at != 0)
		tsr_time_format((time_t)b->expires_at, expires);
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I}",
	    "batch", b->batch, "product", b->product, "created_at", created,
	    "expires_at", b->expires_at != 0 ? expires : NULL,
	    "total", (json_int_t)b->total, "unused", (json_int_t)b->unused,
	    "used", (json_int_t)b->used, "revoked", (json_int_t)b->revoked,
	    "expired", (json_int_t)b->expired);
}

struct list_ctx {
	json_t *array;
};

static int list_one(const struct tsr_voucher_batch *b, void *ctx)
{
	struct list_ctx *l = ctx;
	char created[21], expires[21] = "never";

	if (l->array != NULL)
		return json_array_append_new(l->array, batch_json(b)) == 0 ? 0 :
		    tsr_error(TSR_ERR_NOMEM, "out of memory");
	tsr_time_format((time_t)b->created_at, created);
	if (b->expires_at != 0)
		tsr_time_format((time_t)b->expires_at, expires);
	printf("%-8s %-16s %-20s %-20s %6ld %6ld %6ld %7ld %7ld\n", b->batch, b->product, created,
	    expires, b->total, b->unused, b->used, b->revoked, b->expired);
	return 0;
}

int cmd_voucher_list(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_BATCH), CLI_ALLOW(OPT_PRODUCT), CLI_ALLOW(OPT_JSON),
		'\0' };
	struct tsr_voucher_filter f;
	struct list_ctx l = { NULL };
	struct voucher_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int r;

	if ((r = parse(argc, argv, cli_usage_voucher_list, allowed, &a)) != 0 ||
	    (r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	f.batch = a.batch;
	f.product = a.product;
	if (a.json && (l.array = json_array()) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0 && !a.json)
		printf("%-8s %-16s %-20s %-20s %6s %6s %6s %7s %7s\n", "BATCH", "PRODUCT", "CREATED",
		    "EXPIRES", "TOTAL", "UNUSED", "USED", "REVOKED", "EXPIRED");
	if (r == 0)
		r = tsr_ra_voucher_batches(tsr_ca_store(ca), &f, tsr_now(), list_one, &l);
	if (r == 0 && l.array != NULL) {
		r = cli_json_print(l.array);
		l.array = NULL;
	}
	json_decref(l.array);
	tsr_ca_close(ca);
	return r;
}

/* ------------------------------------------------------------------ revoke */

int cmd_voucher_revoke(int argc, char **argv)
{
	char allowed[] = { CLI_ALLOW(OPT_HOME), CLI_ALLOW(OPT_BATCH), '\0' };
	struct voucher_args a;
	struct tsr_ca *ca = NULL;
	const char *home;
	int64_t n = 0;
	int r;

	if ((r = parse(argc, argv, cli_usage_voucher_revoke, allowed, &a)) != 0)
		return r;
	if (a.batch == NULL)
		return cli_usage_error(cli_usage_voucher_revoke, "--batch ID is required");
	if ((r = cli_home(a.home, &home)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		return r;
	if ((r = tsr_ra_voucher_revoke_batch(tsr_ca_store(ca), cli_actor(), a.batch, &n)) == 0)
		fprintf(stderr, "batch %s: %lld unused vouchers revoked\n", a.batch, (long long)n);
	tsr_ca_close(ca);
	return r;
}
