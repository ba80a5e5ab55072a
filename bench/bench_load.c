/*
 * bench_load.c - a small HTTP load client for bench/api: N threads, each
 * with one libcurl easy handle, so each keeps one keep-alive TLS connection
 * and sends one request after another on it (closed loop, no think time).
 *
 * usage: bench_load --url URL [--cacert FILE] [--clients N] [--seconds S]
 *                   [--warmup S] [--header "Name: value"]... [--body FILE]
 *                   [--expect STATUS]
 *
 * The clients start together and never pause.  The measured window opens
 * once as many requests have completed as there are clients (a first
 * round: connections, TLS handshakes, caches), and no sooner than --warmup
 * seconds (default 1) after the start, so that it opens on the steady
 * state: requests already in flight then, and still in flight when it
 * closes, balance out.  (Counting requests rather than waiting for every
 * client's first answer keeps the warm-up short when the server does not
 * serve its clients in turn, as the Argon2id limit does not.)  It stays
 * open S seconds; the requests that complete inside it count, each with its
 * latency measured around curl_easy_perform().  Any answer with another
 * status than --expect (default 200 for GET, 201 with --body) or any
 * transport error fails the run (exit 1): a benchmark of errors measures
 * nothing.
 *
 * Prints a human line and one machine line:
 *   result rps=X p50_ms=X p99_ms=X requests=N reconnects=N
 * reconnects counts the connections opened by requests inside the window,
 * other than a client's first: 0 means every request went over a
 * kept-alive connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define MAX_CLIENTS 256
#define MAX_HEADERS 8
#define MAX_BODY (64 * 1024)

struct options {
	const char *url;
	const char *cacert;
	int clients;
	double seconds;
	double warmup;
	const char *headers[MAX_HEADERS];
	int n_headers;
	char *body;               /* NULL: GET */
	size_t body_len;
	long expect;
};

/* What the clients share: the window, known after the first round. */
struct shared {
	const struct options *o;
	pthread_mutex_t lock;
	int done;                 /* requests completed before the window */
	double start;             /* when the clients were started */
	double open, close;       /* the window; 0 until known */
};

/* One request: when it completed and how long it took. */
struct sample {
	double done;
	double latency;
	long connects;            /* connections it opened (0: kept alive or
	                           * the client's first request) */
};

struct client {
	struct shared *sh;
	pthread_t thread;
	struct sample *s;
	size_t n, cap;
	char error[256];          /* first failure, "" if none */
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_load --url URL [--cacert FILE] [--clients N] [--seconds S]\n"
	    "                  [--warmup S] [--header \"Name: value\"]... [--body FILE]\n"
	    "                  [--expect STATUS]\n");
	exit(64);
}

static int read_body(const char *path, struct options *o)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "bench_load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	o->body = malloc(MAX_BODY);
	n = o->body ? fread(o->body, 1, MAX_BODY, f) : 0;
	fclose(f);
	if (o->body == NULL || n == 0 || n == MAX_BODY) {
		fprintf(stderr, "bench_load: %s: empty, unreadable or over %d bytes\n", path,
		    MAX_BODY);
		return -1;
	}
	o->body_len = n;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->clients = 8;
	o->seconds = 10;
	o->warmup = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--url") == 0)
			o->url = v;
		else if (strcmp(a, "--cacert") == 0)
			o->cacert = v;
		else if (strcmp(a, "--clients") == 0)
			o->clients = atoi(v);
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = strtod(v, NULL);
		else if (strcmp(a, "--warmup") == 0)
			o->warmup = strtod(v, NULL);
		else if (strcmp(a, "--expect") == 0)
			o->expect = strtol(v, NULL, 10);
		else if (strcmp(a, "--header") == 0 && o->n_headers < MAX_HEADERS)
			o->headers[o->n_headers++] = v;
		else if (strcmp(a, "--body") == 0) {
			if (read_body(v, o) != 0)
				return -1;
		} else
			usage();
	}
	if (o->url == NULL || o->clients < 1 || o->clients > MAX_CLIENTS || o->seconds <= 0 ||
	    o->warmup < 0)
		usage();
	if (o->expect == 0)
		o->expect = o->body != NULL ? 201 : 200;
	return 0;
}

/* Drop the body. */
static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * n;
}

static CURL *make_handle(struct client *c, struct curl_slist **hdrs)
{
	const struct options *o = c->sh->o;
	CURL *h = curl_easy_init();

	*hdrs = NULL;
	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, o->url);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (o->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	for (int i = 0; i < o->n_headers; i++)
		*hdrs = curl_slist_append(*hdrs, o->headers[i]);
	if (o->body != NULL) {
		*hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
		/* No "Expect: 100-continue" round trip. */
		*hdrs = curl_slist_append(*hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)o->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	return h;
}

/* One request; 0 if it was answered with the expected status. */
static int one_request(struct client *c, CURL *h, long *connects)
{
	long status = 0;
	CURLcode rc = curl_easy_perform(h);

	*connects = 0;
	if (rc != CURLE_OK) {
		snprintf(c->error, sizeof(c->error), "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, connects);
	if (status != c->sh->o->expect) {
		snprintf(c->error, sizeof(c->error), "status %ld, expected %ld", status,
		    c->sh->o->expect);
		return -1;
	}
	return 0;
}

static int record(struct client *c, double done, double latency, long connects)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4096;
		struct sample *p = realloc(c->s, cap * sizeof(*p));

		if (p == NULL) {
			snprintf(c->error, sizeof(c->error), "out of memory");
			return -1;
		}
		c->s = p;
		c->cap = cap;
	}
	c->s[c->n++] = (struct sample){ done, latency, connects };
	return 0;
}

/* A request completed (or a client failed: that counts too, so that the
 * window still opens for the others); the clients-th one opens the window. */
static void completed(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->close == 0 && ++sh->done == sh->o->clients) {
		double t = now_seconds();

		sh->open = t > sh->start + sh->o->warmup ? t : sh->start + sh->o->warmup;
		sh->close = sh->open + sh->o->seconds;
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

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct shared *sh = c->sh;
	struct curl_slist *hdrs = NULL;
	CURL *h = make_handle(c, &hdrs);
	long connects = 0;

	if (h == NULL)
		snprintf(c->error, sizeof(c->error), "curl_easy_init failed");
	while (h != NULL) {
		double t0 = now_seconds(), t1, close = window_close(sh);

		if (close > 0 && t0 >= close)
			break;
		if (one_request(c, h, &connects) != 0)
			break;
		t1 = now_seconds();
		if (close == 0)
			completed(sh);
		/* A client's first connection is no reconnection. */
		if (record(c, t1, t1 - t0, c->n == 0 ? 0 : connects) != 0)
			break;
	}
	if (c->error[0] != '\0')
		completed(sh);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0..100) of n sorted values. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (n == 0)
		return 0;
	return v[k < 1 ? 0 : (k > n ? n - 1 : k - 1)];
}

/* The latencies of the requests that completed inside the window. */
static int report(const struct shared *sh, struct client *cl)
{
	const struct options *o = sh->o;
	size_t n = 0, total = 0;
	long reconnects = 0;
	double *all, p50, p99, rps;

	for (int i = 0; i < o->clients; i++) {
		if (cl[i].error[0] != '\0') {
			fprintf(stderr, "bench_load: %s: %s\n", o->url, cl[i].error);
			return 1;
		}
		total += cl[i].n;
	}
	if ((all = malloc((total ? total : 1) * sizeof(*all))) == NULL)
		return 1;
	for (int i = 0; i < o->clients; i++)
		for (size_t j = 0; j < cl[i].n; j++) {
			const struct sample *s = &cl[i].s[j];

			if (s->done < sh->open || s->done > sh->close)
				continue;
			all[n++] = s->latency;
			reconnects += s->connects;
		}
	qsort(all, n, sizeof(*all), cmp_double);
	rps = (double)n / o->seconds;
	p50 = percentile(all, n, 50) * 1e3;
	p99 = percentile(all, n, 99) * 1e3;
	printf("%zu requests in %.1f s (after %.1f s of warm-up) by %d clients: %.1f requests/s, "
	    "p50 %.2f ms, p99 %.2f ms, %ld new connections in the window\n", n, o->seconds,
	    sh->open - sh->start, o->clients, rps, p50, p99, reconnects);
	printf("result rps=%.2f p50_ms=%.2f p99_ms=%.2f requests=%zu reconnects=%ld\n", rps, p50,
	    p99, n, reconnects);
	free(all);
	if (n == 0)
		fprintf(stderr, "bench_load: %s: no request completed inside the %.1f s window; "
		    "give it more seconds\n", o->url, o->seconds);
	return n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct shared sh;
	struct client *cl;
	int r;

	if (parse_args(argc, argv, &o) != 0)
		return 64;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (cl = calloc((size_t)o.clients, sizeof(*cl))) == NULL)
		return 1;
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	pthread_mutex_init(&sh.lock, NULL);
	sh.start = now_seconds();
	for (int i = 0; i < o.clients; i++) {
		cl[i].sh = &sh;
		if (pthread_create(&cl[i].thread, NULL, client_main, &cl[i]) != 0) {
			fprintf(stderr, "bench_load: cannot start client threads\n");
			return 1;
		}
	}
	for (int i = 0; i < o.clients; i++)
		pthread_join(cl[i].thread, NULL);
	r = report(&sh, cl);
	for (int i = 0; i < o.clients; i++)
		free(cl[i].s);
	free(cl);
	free(o.body);
	pthread_mutex_destroy(&sh.lock);
	curl_global_cleanup();
	return r;
}
