/*
 * cmd_crl.c - `tessera crl`: publish a CA's CRL now, and copy it to a file.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_crl[] =
    "usage: tessera crl [--home DIR] [--ca issuing|root] [--out FILE [--pem]]\n"
    "\n"
    "Publish a new CRL of a CA now: every revoked or suspended certificate it\n"
    "issued, signed in the token with the CA's key, with the next CRL number.  It\n"
    "goes to HOME/crl/<ca>.crl, the file the CRL distribution point names, and,\n"
    "with --out, is copied to FILE as well.  Prints the CRL's number, entries,\n"
    "thisUpdate and nextUpdate.  See docs/crl.md.\n"
    "\n"
    "options:\n"
    "  --home DIR          the CA home (or $TESSERA_HOME)\n"
    "  --ca issuing|root   whose CRL (default issuing)\n"
    "  --out FILE          copy the CRL here too (DER)\n"
    "  --pem               with --out: write PEM (\"X509 CRL\") instead of DER\n"
    "  --help              this text\n";

enum { OPT_HOME = 1, OPT_CA, OPT_OUT, OPT_PEM, OPT_HELP };

static const struct option crl_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "pem", no_argument, NULL, OPT_PEM },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct crl_args {
	const char *home, *ca, *out;
	bool pem;
};

static int parse(int argc, char **argv, struct crl_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->ca = "issuing";
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, crl_options, OPT_HELP, NULL, cli_usage_crl)) > 0 &&
	    c != CLI_HELP) {
		switch (c) {
		case OPT_HOME: a->home = optarg; break;
		case OPT_CA: a->ca = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_PEM: a->pem = true; break;
		default: return cli_bad_option(cli_usage_crl, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;
	if (optind < argc)
		return cli_usage_error(cli_usage_crl, "unexpected argument '%s'", argv[optind]);
	if (strcmp(a->ca, "issuing") != 0 && strcmp(a->ca, "root") != 0)
		return cli_usage_error(cli_usage_crl, "--ca must be issuing or root, not '%.20s'",
		    a->ca);
	if (a->pem && a->out == NULL)
		return cli_usage_error(cli_usage_crl, "--pem goes with --out FILE");
	return 0;
}

/* The directory of path must exist and be writable: the copy is made
 * beside it and renamed into place. */
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

/* Copy in to out, as is or as PEM; a chunk of 48 KiB is 1024 lines of base64. */
static int copy_stream(FILE *in, FILE *out, bool pem)
{
	static const char begin[] = "-----BEGIN X509 CRL-----\n", end[] = "-----END X509 CRL-----\n";
	uint8_t *chunk = malloc(48 * 1024);
	char *b64 = NULL;
	size_t n, blen;
	int r = 0;

	if (chunk == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (pem && fputs(begin, out) == EOF)
		r = TSR_ERR_IO;
	while (r == 0 && (n = fread(chunk, 1, 48 * 1024, in)) > 0) {
		if (!pem) {
			r = fwrite(chunk, 1, n, out) == n ? 0 : TSR_ERR_IO;
			continue;
		}
		if ((r = tsr_base64_encode(chunk, n, 64, &b64, &blen)) == 0 &&
		    fwrite(b64, 1, blen, out) != blen)
			r = TSR_ERR_IO;
		free(b64);
		b64 = NULL;
	}
	if (r == 0 && ferror(in))
		r = tsr_error(TSR_ERR_IO, "cannot read the published CRL: %s", strerror(errno));
	if (r == 0 && pem && fputs(end, out) == EOF)
		r = TSR_ERR_IO;
	if (r == TSR_ERR_IO && !ferror(in))
		r = tsr_error(TSR_ERR_IO, "cannot write the CRL: %s", strerror(errno));
	free(chunk);
	return r;
}

/* Copy the published CRL at from to path, atomically (0644). */
static int copy_out(const char *from, const char *path, bool pem)
{
	FILE *in = NULL, *out = NULL;
	char *tmp = NULL;
	int fd = -1, r;

	if ((in = fopen(from, "rb")) == NULL)
		return tsr_error(TSR_ERR_IO, "%s: %s", from, strerror(errno));
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
		tmp = NULL;
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 || (out = fdopen(fd, "wb")) == NULL) {
		r = tsr_error(TSR_ERR_IO, "--out %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if ((r = copy_stream(in, out, pem)) != 0)
		goto out;
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		r = tsr_error(TSR_ERR_IO, "--out %s: %s", path, strerror(errno));
		goto out;
	}
	r = fclose(out) == 0 ? 0 : tsr_error(TSR_ERR_IO, "--out %s: %s", path, strerror(errno));
	out = NULL;
	if (r == 0 && rename(tmp, path) != 0)
		r = tsr_error(TSR_ERR_IO, "--out %s: %s", path, strerror(errno));
out:
	if (out != NULL)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (r != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	fclose(in);
	return r;
}

static void print_info(const char *ca, const char *path, const struct tsr_crl_info *i)
{
	char at[21], next[21];

	tsr_time_format((time_t)i->this_update, at);
	tsr_time_format((time_t)i->next_update, next);
	printf("ca           %s\n"
	    "published    %s\n"
	    "number       %llu\n"
	    "entries      %zu\n"
	    "thisUpdate   %s\n"
	    "nextUpdate   %s\n", ca, path, (unsigned long long)i->number, i->entries, at, next);
}

/* tessera crl: publish now, then copy. */
int cmd_crl(int argc, char **argv)
{
	struct crl_args a;
	struct tsr_crl_info info;
	struct tsr_ca *ca = NULL;
	const char *home;
	char *path = NULL;
	int r;

	if ((r = parse(argc, argv, &a)) != 0 || (r = cli_home(a.home, &home)) != 0)
		return r;
	/* Find out before publishing that the copy cannot be written. */
	if (a.out != NULL && (r = check_writable(a.out)) != 0)
		return r;
	if ((r = tsr_ca_open(home, &ca)) != 0)
		return r;
	if ((r = tsr_ca_crl_publish(ca, NULL, a.ca, cli_actor(), &info)) != 0)
		goto out;
	if ((path = tsr_ca_crl_path(ca, a.ca)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (a.out != NULL && (r = copy_out(path, a.out, a.pem)) != 0) {
		r = tsr_error_wrap(r, "CRL %llu was published at %s, but not copied",
		    (unsigned long long)info.number, path);
		goto out;
	}
	print_info(a.ca, path, &info);
	if (fflush(stdout) != 0)
		r = tsr_error(TSR_ERR_IO, "cannot write to standard output");
out:
	free(path);
	tsr_ca_close(ca);
	return r;
}
