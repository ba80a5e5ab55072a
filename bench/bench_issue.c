/*
 * bench_issue.c - how many certificates per second Tessera issues in
 * process: the whole pipeline (CSR parse and checks, product policy,
 * certificate build, lint, serial reservation, signature in the SoftHSM2
 * token, verification, store commit with its audit record) for one
 * pre-made CSR, repeated for a number of seconds or certificates.
 *
 * usage: bench_issue [--seconds N] [--count N] [--key-type TYPE]
 *                    [--product NAME --subject DN --san SAN] [--keep]
 *                    [--database URI | --home DIR] [--serials FILE]
 *                    [--start-at UNIX_TIME] [--count-locked]
 *
 * By default a new home is made in a temporary directory with its data in
 * SQLite; --database URI makes it with its data in that (empty) PostgreSQL
 * database instead; --home DIR uses an existing home as it is (its own
 * database, whichever backend; nothing is made or removed), so that two
 * processes can issue into one database as two nodes would.  --serials
 * FILE writes the serial of every certificate issued (the warm-up one
 * included), one per line, so that a caller can check them against the
 * database.  --start-at waits, after the warm-up, until that wall-clock
 * time (seconds since the epoch, fractions allowed) before the measured
 * loop, so that several processes measure the same window.  With
 * --count-locked, an issuance refused because the store's write lock could
 * not be had in time ("database is locked": another writer kept it past
 * the busy timeout) is counted, its first message shown, and the loop goes
 * on; without it, that ends the run like any other error.
 *
 * Prints one "tessera_issue_per_sec=X" line (plus a human line, and
 * "tessera_issued=N" with every certificate counted, the warm-up included)
 * so that bench/issue and bench/cluster can compare it with other figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/base.h"
#include "ca/ca.h"

struct bench_opts {
	double seconds;           /* stop after this long ... */
	long count;               /* ... or after this many certificates (0: no limit) */
	enum tsr_key_type key_type;
	const char *product;
	const char *subject;
	const char *san;
	bool keep;                /* keep the temporary home (for inspection) */
	const char *database;     /* NULL: SQLite; else a PostgreSQL URI for the new home */
	const char *home;         /* an existing home to use (nothing made or removed) */
	const char *serials;      /* write every serial issued here */
	double start_at;          /* wall-clock start of the measured loop (0: at once) */
	bool count_locked;        /* count lock timeouts instead of stopping */
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_issue [--seconds N] [--count N] [--key-type TYPE]\n"
	    "                   [--product NAME --subject DN --san TYPE:VALUE] [--keep]\n"
	    "                   [--database URI | --home DIR] [--serials FILE] [--start-at UNIX_TIME]\n"
	    "                   [--count-locked]\n");
	exit(64);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	o->seconds = 10;
	o->count = 0;
	o->key_type = TSR_KEY_EC_P384;
	o->product = "tls-server";
	o->subject = "CN=bench.example.com,O=Tessera Bench,C=US";
	o->san = "dns:bench.example.com";
	o->keep = false;
	o->database = NULL;
	o->home = NULL;
	o->serials = NULL;
	o->start_at = 0;
	o->count_locked = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
			continue;
		}
		if (strcmp(a, "--count-locked") == 0) {
			o->count_locked = true;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--seconds") == 0)
			o->seconds = strtod(v, NULL);
		else if (strcmp(a, "--count") == 0)
			o->count = strtol(v, NULL, 10);
		else if (strcmp(a, "--key-type") == 0) {
			if (tsr_key_type_parse(v, &o->key_type) != 0)
				return tsr_error_wrap(TSR_ERR_INVALID, "--key-type");
		} else if (strcmp(a, "--product") == 0)
			o->product = v;
		else if (strcmp(a, "--subject") == 0)
			o->subject = v;
		else if (strcmp(a, "--san") == 0)
			o->san = v;
		else if (strcmp(a, "--database") == 0)
			o->database = v;
		else if (strcmp(a, "--home") == 0)
			o->home = v;
		else if (strcmp(a, "--serials") == 0)
			o->serials = v;
		else if (strcmp(a, "--start-at") == 0)
			o->start_at = strtod(v, NULL);
		else
			usage();
	}
	if (o->seconds <= 0 && o->count <= 0)
		return tsr_error(TSR_ERR_INVALID, "give --seconds or --count above zero");
	if (o->database != NULL && o->home != NULL)
		return tsr_error(TSR_ERR_INVALID, "--database makes a new home, --home uses one: not both");
	return 0;
}

/* A P-256 key and a DER CSR signed by it (the subscriber's side; made once). */
static int make_csr(uint8_t **der, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	unsigned char *p = NULL;
	int n, r = TSR_ERR_CRYPTO;

	if (key == NULL || req == NULL || !X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_pubkey(req, key) || !X509_REQ_sign(req, key, EVP_sha256()) ||
	    (n = i2d_X509_REQ(req, &p)) <= 0) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "making the benchmark CSR");
		goto out;
	}
	*der = p;
	*len = (size_t)n;
	r = 0;
out:
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return r;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until the wall-clock time t (seconds since the epoch). */
static void wait_until(double t)
{
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (t <= now) {
		fprintf(stderr, "bench_issue: --start-at passed %.2f s ago: starting now\n", now - t);
		return;
	}
	ts.tv_sec = (time_t)(t - now);
	ts.tv_nsec = (long)((t - now - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One serial per line into f (if any); a failed write fails the run. */
static int note_serial(FILE *f, const struct tsr_cert_record *rec)
{
	if (f != NULL && fprintf(f, "%s\n", rec->serial) < 0)
		return tsr_error(TSR_ERR_IO, "writing the serials: %s", strerror(errno));
	return 0;
}

/* Issue until the time or count runs out; *issued and *elapsed say how far. */
static int issue_loop(struct tsr_ca *ca, const struct bench_opts *o,
    const struct tsr_issue_request *req, FILE *serials, long *issued, long *locked,
    double *elapsed)
{
	double start = now_seconds(), t = start;
	int r;

	*issued = 0;
	*locked = 0;
	while ((o->count <= 0 || *issued < o->count) && (o->seconds <= 0 || t - start < o->seconds)) {
		struct tsr_cert_record rec;

		if ((r = tsr_ca_issue(ca, "bench", req, &rec)) != 0) {
			if (!o->count_locked || r != TSR_ERR_STORE ||
			    strstr(tsr_error_detail(), "database is locked") == NULL)
				return r;
			if ((*locked)++ == 0)
				fprintf(stderr, "bench_issue: at %.2f s: %s\n", now_seconds() - start,
				    tsr_error_detail());
			t = now_seconds();
			continue;
		}
		r = note_serial(serials, &rec);
		tsr_cert_record_clear(&rec);
		if (r != 0)
			return r;
		(*issued)++;
		t = now_seconds();
	}
	*elapsed = t - start;
	return 0;
}

static int run(const struct bench_opts *o, const char *home)
{
	struct tsr_init_options io;
	struct tsr_ca *ca = NULL;
	struct tsr_cert_record rec;
	struct tsr_issue_request req;
	uint8_t *csr = NULL;
	size_t csr_len = 0;
	const char *sans[1] = { o->san };
	long issued = 0, locked = 0;
	double elapsed = 0;
	const char *module = getenv("SOFTHSM_MODULE");
	const char *backend;
	FILE *serials = NULL;
	int r;

	tsr_init_options_default(&io);
	io.home = home;
	io.key_type = o->key_type;
	io.database = o->database;
	if (module != NULL && *module != '\0')
		io.softhsm_module = module;
	if (o->home == NULL && (r = tsr_ca_init(&io, "bench")) != 0)
		goto out;
	if ((r = tsr_ca_open(home, &ca)) != 0 || (r = tsr_ca_login(ca, "bench")) != 0 ||
	    (r = make_csr(&csr, &csr_len)) != 0)
		goto out;
	backend = tsr_database_is_uri(tsr_ca_config(ca)->ca.database) ? "PostgreSQL" : "SQLite";
	if (o->serials != NULL && (serials = fopen(o->serials, "w")) == NULL) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", o->serials, strerror(errno));
		goto out;
	}

	memset(&req, 0, sizeof(req));
	req.product = o->product;
	req.csr = csr;
	req.csr_len = csr_len;
	req.subject = o->subject;
	req.sans = sans;
	req.n_sans = o->san[0] != '\0' ? 1 : 0;
	/* One issuance first, so that the loop measures the steady state
	 * (module loaded, statements prepared, pages cached). */
	if ((r = tsr_ca_issue(ca, "bench", &req, &rec)) != 0)
		goto out;
	r = note_serial(serials, &rec);
	tsr_cert_record_clear(&rec);
	if (r != 0)
		goto out;
	if (o->start_at > 0)
		wait_until(o->start_at);
	if ((r = issue_loop(ca, o, &req, serials, &issued, &locked, &elapsed)) != 0)
		goto out;
	if (serials != NULL) {
		r = fclose(serials);
		serials = NULL;
		if (r != 0) {
			r = tsr_error(TSR_ERR_IO, "%s: %s", o->serials, strerror(errno));
			goto out;
		}
	}
	printf("tessera: %ld certificates in %.2f s (CA key %s in SoftHSM2, product %s, "
	    "each committed to %s)\n", issued, elapsed, tsr_key_type_name(o->key_type),
	    o->product, backend);
	printf("tessera_issue_per_sec=%.1f\n", elapsed > 0 ? (double)issued / elapsed : 0.0);
	printf("tessera_issued=%ld\n", issued + 1);
	if (o->count_locked)
		printf("tessera_locked=%ld\n", locked);
out:
	if (serials != NULL)
		fclose(serials);
	OPENSSL_free(csr);
	tsr_ca_close(ca);
	return r;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	char tmpl[] = "/tmp/tessera-bench.XXXXXX", *parent, *home = NULL;
	int r;

	if ((r = parse_args(argc, argv, &o)) != 0) {
		fprintf(stderr, "bench_issue: %s\n", tsr_error_detail());
		return 64;
	}
	if (o.home != NULL) {
		/* An existing home: used as it is, never removed. */
		r = run(&o, o.home);
		if (r != 0)
			fprintf(stderr, "bench_issue: %s: %s\n", tsr_strerror(r), tsr_error_detail());
		return r == 0 ? 0 : tsr_error_exit_status(r);
	}
	if ((parent = mkdtemp(tmpl)) == NULL) {
		fprintf(stderr, "bench_issue: mkdtemp: %s\n", strerror(errno));
		return 74;
	}
	if ((r = tsr_path_join(parent, "home", &home)) == 0)
		r = run(&o, home);
	if (r != 0)
		fprintf(stderr, "bench_issue: %s: %s\n", tsr_strerror(r), tsr_error_detail());
	if (o.keep)
		fprintf(stderr, "bench_issue: home kept in %s\n", home ? home : parent);
	else if (tsr_dir_remove_tree(parent) != 0)
		fprintf(stderr, "bench_issue: cannot remove %s: %s\n", parent, tsr_error_detail());
	free(home);
	return r == 0 ? 0 : tsr_error_exit_status(r);
}
