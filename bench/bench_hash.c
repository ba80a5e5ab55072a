/*
 * bench_hash.c - the raw Argon2id rate of this machine, as Tessera hashes:
 * tsr_secret_hash() (libsodium's INTERACTIVE cost, 64 MiB and 2 passes, and
 * ra/secret.c's limit of two hashes at a time per core) called in a loop by
 * N threads for S seconds.  bench/api compares the rate of applications
 * over HTTPS with it: each application hashes the password and three
 * answers, so no server can accept more than hashes/s / 4 applications/s.
 *
 * usage: bench_hash [--threads N] [--seconds S]
 *
 * Measured as bench_load measures requests: the threads start together and
 * never pause; the window opens once as many hashes have completed as
 * there are threads (and no sooner than a second after the start), so that
 * it opens on the steady state, and stays open S seconds; the hashes
 * completed inside it count.
 * Prints a human line and "hashes_per_sec=X".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "ra/secret.h"

#define MAX_THREADS 256

#define WARMUP_SECONDS 1.0

struct shared {
	double seconds;
	int threads;
	pthread_mutex_t lock;
	int done;                 /* hashes completed before the window */
	double start;             /* when the threads were started */
	double open, close;       /* the window; 0 until known */
};

struct worker {
	struct shared *sh;
	pthread_t thread;
	double *done;             /* completion times after the first hash */
	size_t n, cap;
	int r;                    /* first error, 0 if none */
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A hash completed (or a thread failed: that counts too); the threads-th
 * one opens the window. */
static void completed(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->close == 0 && ++sh->done == sh->threads) {
		double t = now_seconds();

		sh->open = t > sh->start + WARMUP_SECONDS ? t : sh->start + WARMUP_SECONDS;
		sh->close = sh->open + sh->seconds;
	}
	pthread_mutex_unlock(&sh->lock);
}

static double window_close(struct shared *sh)
{
	double t;

	pthread_mutex_lock(&sh->lock);
	t = sh->close;
	pthread_mutex_unlock(&sh->lock);
	return t;
}

static int hash_once(struct worker *w)
{
	char out[TSR_SECRET_HASH_BYTES];

	if ((w->r = tsr_secret_hash("correct horse battery staple", out)) != 0)
		/* The detail is per thread: print it here. */
		fprintf(stderr, "bench_hash: %s: %s\n", tsr_strerror(w->r), tsr_error_detail());
	return w->r;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	for (;;) {
		double close = window_close(sh);

		if (close > 0 && now_seconds() >= close)
			break;
		if (hash_once(w) != 0) {
			completed(sh);
			break;
		}
		if (close == 0)
			completed(sh);
		if (w->n == w->cap) {
			size_t cap = w->cap ? 2 * w->cap : 64;
			double *p = realloc(w->done, cap * sizeof(*p));

			if (p == NULL) {
				w->r = TSR_ERR_NOMEM;
				fprintf(stderr, "bench_hash: out of memory\n");
				break;
			}
			w->done = p;
			w->cap = cap;
		}
		w->done[w->n++] = now_seconds();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct shared sh = { .seconds = 10, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct worker *w;
	int threads = 8, r = 0;
	bool bad = argc % 2 != 1;
	long total = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			sh.seconds = strtod(argv[i + 1], NULL);
		else
			bad = true;
	}
	if (bad || threads < 1 || threads > MAX_THREADS || sh.seconds <= 0) {
		fprintf(stderr, "usage: bench_hash [--threads N] [--seconds S]\n");
		return 64;
	}
	if ((w = calloc((size_t)threads, sizeof(*w))) == NULL)
		return 1;
	sh.threads = threads;
	sh.start = now_seconds();
	for (int i = 0; i < threads; i++) {
		w[i].sh = &sh;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "bench_hash: cannot start threads\n");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		for (size_t j = 0; j < w[i].n; j++)
			total += w[i].done[j] >= sh.open && w[i].done[j] <= sh.close;
		free(w[i].done);
		if (r == 0)
			r = w[i].r;
	}
	if (r == 0) {
		printf("%ld Argon2id hashes in %.1f s (after %.1f s of warm-up) by %d threads "
		    "(at most %ld at a time)\n", total, sh.seconds, sh.open - sh.start, threads,
		    2 * sysconf(_SC_NPROCESSORS_ONLN));
		printf("hashes_per_sec=%.2f\n", (double)total / sh.seconds);
	}
	free(w);
	return r == 0 ? 0 : tsr_error_exit_status(r);
}
