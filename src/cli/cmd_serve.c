/*
 * cmd_serve.c - `tessera serve`: the HTTPS server for applicants, officers
 * and relying parties, with the enrollment workflow behind it, and a
 * background sweep that lapses overdue applications and retries mail.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "http/http.h"
#include "ra/app.h"

#define SWEEP_SECONDS 60
#define SWEEP_ACTOR "system:serve"
/* How often the server follows status changes (OCSP answers, the CRL). */
#define STATUS_SECONDS 1
/* How often it checks whether the OCSP-signing certificate is due. */
#define ROTATE_SECONDS 600
/* Connections one address may hold on the plain-HTTP listener (of 256). */
#define PUBLIC_PER_IP 64

const char cli_usage_serve[] =
    "usage: tessera serve --home DIR [--listen HOST:PORT] [--public-listen HOST:PORT]\n"
    "                     [--access-log FILE] [--web-root DIR]\n"
    "\n"
    "Serve the web pages (/, /apply, ..., /ra/, with /assets/) from the web root,\n"
    "the JSON API, EST (RFC 7030) under /.well-known/est/, the OCSP responder\n"
    "(/ocsp), the CRLs (/crl/issuing.crl, /crl/root.crl) and the CA certificates\n"
    "(/ca/issuing.crt, /ca/root.crt) over HTTPS, and with --public-listen the last\n"
    "three also over plain HTTP, which is how relying parties fetch them: make\n"
    "[ca] public_url lead there.  The TLS certificate is issued by this\n"
    "CA to itself for [ca] server_names and renewed at start when it is missing,\n"
    "expiring within 30 days or renamed; clients trust it through DIR/certs/root.pem.\n"
    "Clients may present a certificate of this CA (DIR/certs/chain.pem), which EST\n"
    "renewal needs; no other endpoint asks for one.  SIGTERM or SIGINT stop the\n"
    "server after the requests in flight have finished.\n"
    "\n"
    "At start and then every minute the server lapses applications whose deadline\n"
    "passed (as `tessera ra lapse` does) and, when [mail] names a relay, resends the\n"
    "mail still waiting in the outbox.  Every second it follows certificate status\n"
    "changes, whichever process made them: the OCSP answers of a changed certificate\n"
    "are signed again and the issuing CA's CRL is published anew.  CRLs are also\n"
    "published when half of their validity has passed, and the OCSP-signing\n"
    "certificate is renewed when a third of its validity is left.\n"
    "\n"
    "options:\n"
    "  --home DIR          the CA home (or $TESSERA_HOME)\n"
    "  --listen HOST:PORT  address to listen on: an IPv4 address or [IPv6], and a port\n"
    "                      (default 127.0.0.1:8443; port 0 picks a free one)\n"
    "  --public-listen HOST:PORT  also serve OCSP, CRLs and CA certificates over\n"
    "                      plain HTTP here (default: not at all)\n"
    "  --access-log FILE   append the access log here (default: standard error)\n"
    "  --web-root DIR      serve the pages and their assets from DIR (default:\n"
    "                      " TSR_WEB_DIR ")\n"
    "  --help              this text\n";

enum { OPT_HOME = 1, OPT_LISTEN, OPT_PUBLIC_LISTEN, OPT_ACCESS_LOG, OPT_WEB_ROOT, OPT_HELP };

static const struct option serve_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "public-listen", required_argument, NULL, OPT_PUBLIC_LISTEN },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "web-root", required_argument, NULL, OPT_WEB_ROOT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse(int argc, char **argv, const char **home, struct tsr_http_config *hc,
    const char **public_listen, const char **web_root)
{
	int c;

	*home = NULL;
	*public_listen = NULL;
	*web_root = TSR_WEB_DIR;
	cli_options_begin();
	while ((c = cli_next_option(argc, argv, serve_options, OPT_HELP, NULL,
	    cli_usage_serve)) > 0) {
		switch (c) {
		case OPT_HOME: *home = optarg; break;
		case OPT_LISTEN: hc->listen = optarg; break;
		case OPT_PUBLIC_LISTEN: *public_listen = optarg; break;
		case OPT_ACCESS_LOG: hc->access_log_path = optarg; break;
		case OPT_WEB_ROOT: *web_root = optarg; break;
		case CLI_HELP: return CLI_HELP;
		default: return cli_bad_option(cli_usage_serve, argv);
		}
	}
	if (c < 0)
		return c;
	if (optind < argc)
		return cli_usage_error(cli_usage_serve, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* Block the stop signals in every thread (the server's threads inherit the
 * mask), so that only sigwait() below receives them. */
static int block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
		return tsr_error(TSR_ERR_INTERNAL, "cannot block SIGTERM/SIGINT");
	/* A client that goes away must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ------------------------------------------------------------------ sessions */

/* The server's check of a bearer token: the session's subject becomes the
 * actor ("officer:alice", "applicant:AP-..."). */
static int authenticate(struct tsr_http_app *app, const char *authorization, char *actor,
    size_t size)
{
	char token[TSR_HTTP_BEARER_CHARS + 1];
	struct tsr_ra *ra = app->ctx;
	struct tsr_store *st = NULL;
	int r;

	if ((r = tsr_http_bearer(authorization, token)) != 0)
		return r;
	if ((r = tsr_ra_store_acquire(ra, &st)) == 0) {
		r = tsr_ra_session_check(ra, st, token, actor, size);
		tsr_ra_store_release(ra, st);
	}
	tsr_wipe(token, sizeof(token));
	return r;
}

/* GET /api/v1/health: the database answers a read on a pooled connection,
 * the kind the node's requests use (a broken one is reconnected by it). */
static int check_health(struct tsr_http_app *app)
{
	struct tsr_ra *ra = app->ctx;
	struct tsr_store *st = NULL;
	char *v = NULL;
	int r;

	if ((r = tsr_ra_store_acquire(ra, &st)) == 0) {
		r = tsr_store_meta_get(st, "root_serial", &v);
		free(v);
		tsr_ra_store_release(ra, st);
	}
	return r;
}

/* The same for a browser's tsr_session cookie, with its CSRF value. */
static int authenticate_cookie(struct tsr_http_app *app, const char *token, char *actor,
    size_t size, char csrf[TSR_HTTP_CSRF_CHARS + 1])
{
	struct tsr_ra *ra = app->ctx;
	struct tsr_store *st = NULL;
	int r;

	if ((r = tsr_ra_store_acquire(ra, &st)) != 0)
		return r;
	r = tsr_ra_session_check(ra, st, token, actor, size);
	tsr_ra_store_release(ra, st);
	if (r == 0)
		r = tsr_ra_session_csrf(ra, token, csrf);
	return r;
}

/* ------------------------------------------------------------------ the sweep */

/* A background thread running pass(arg) at once and then every period
 * seconds until stopped. */
struct sweeper {
	void (*pass)(void *arg);
	void *arg;
	int period;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool running;
};

/* Lapse what is overdue, then resend waiting mail if there is a relay.
 * Failures are logged and tried again on the next pass. */
static void sweep_once(void *arg)
{
	struct tsr_ra *ra = arg;
	const struct tsr_mail_config *mail = tsr_ra_mail(ra);
	struct tsr_store *st = NULL;
	int lapsed = 0, sent = 0, failed = 0;

	if (tsr_ra_store_acquire(ra, &st) != 0) {
		tsr_log(TSR_LOG_WARN, "lapse sweep: %s", tsr_error_detail());
	} else {
		if (tsr_ra_lapse_sweep(ra, st, SWEEP_ACTOR, tsr_now(), &lapsed) != 0)
			tsr_log(TSR_LOG_WARN, "lapse sweep: %s", tsr_error_detail());
		else if (lapsed > 0)
			tsr_log(TSR_LOG_INFO, "lapse sweep: %d application%s lapsed", lapsed,
			    lapsed == 1 ? "" : "s");
		tsr_ra_store_release(ra, st);
	}
	if (mail->smtp_url == NULL)
		return;
	if (tsr_mail_retry(mail, &sent, &failed) != 0)
		tsr_log(TSR_LOG_WARN, "mail retry: %d sent, %d failed: %s", sent, failed,
		    tsr_error_detail());
	else if (sent > 0)
		tsr_log(TSR_LOG_INFO, "mail retry: %d sent", sent);
}

/* A pass at once, then one every period seconds until told to stop; the
 * wait is on a condition variable, so a stop does not wait for it. */
static void *sweep_loop(void *arg)
{
	struct sweeper *s = arg;
	struct timespec deadline;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		pthread_mutex_unlock(&s->lock);
		s->pass(s->arg);
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += s->period;
		pthread_mutex_lock(&s->lock);
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &deadline) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int sweeper_start(struct sweeper *s, void (*pass)(void *), void *arg, int period)
{
	pthread_condattr_t attr;

	memset(s, 0, sizeof(*s));
	s->pass = pass;
	s->arg = arg;
	s->period = period;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&s->thread, NULL, sweep_loop, s) != 0)
		return tsr_error(TSR_ERR_INTERNAL, "cannot start a background thread");
	s->running = true;
	return 0;
}

/* Wake the sweep and wait for it to finish (a pass under way completes). */
static void sweeper_stop(struct sweeper *s)
{
	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->running = false;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
}

/* ------------------------------------------------------------------ certificate status */

struct status_keeper {
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_ocsp_responder *ocsp;
	int64_t last_rotate_check;
	/* The newest status change the issuing CA's published CRL covers
	 * (-1: none yet in this process, so the first pass publishes). */
	int64_t crl_seq;
};

/* Publish the CRL of ca_name if this home has none in place, if force, or
 * if half of the validity of this home's CRL has passed: what counts is the
 * file this node serves, not a fresher one another node of the cluster
 * published into its own home.  False if a publication was due and failed. */
static bool crl_keep(struct status_keeper *k, struct tsr_store *st, const char *ca_name,
    bool force)
{
	struct tsr_crl_info info;
	int64_t now = (int64_t)tsr_now();
	int r = tsr_ca_crl_info(k->ca, st, ca_name, &info);

	if (r != 0 && r != TSR_ERR_NOT_FOUND) {
		tsr_log(TSR_LOG_WARN, "CRL of the %s CA: %s", ca_name, tsr_error_detail());
		return false;
	}
	if (r == 0 && !force && now < info.this_update + (info.next_update - info.this_update) / 2)
		return true;
	if (tsr_ca_crl_publish(k->ca, st, ca_name, SWEEP_ACTOR, &info) != 0) {
		tsr_log(TSR_LOG_ERROR, "cannot publish the CRL of the %s CA: %s", ca_name,
		    tsr_error_detail());
		return false;
	}
	tsr_log(TSR_LOG_INFO, "published CRL %llu of the %s CA (%zu entries)",
	    (unsigned long long)info.number, ca_name, info.entries);
	return true;
}

/* Follow status changes: OCSP answers and the issuing CA's CRL; keep the
 * CRLs fresh; now and then, see whether the OCSP certificate is due. */
static void status_once(void *arg)
{
	struct status_keeper *k = arg;
	struct tsr_store *st = NULL;
	int64_t now = (int64_t)tsr_now(), seq = 0;
	size_t changed = 0;

	if (tsr_ra_store_acquire(k->ra, &st) != 0) {
		tsr_log(TSR_LOG_WARN, "status: %s", tsr_error_detail());
		return;
	}
	if (now - k->last_rotate_check >= ROTATE_SECONDS) {
		bool rotated = false;

		k->last_rotate_check = now;
		if (tsr_ca_ocsp_rotate(k->ca, SWEEP_ACTOR, false, &rotated) != 0)
			tsr_log(TSR_LOG_ERROR, "cannot renew the OCSP-signing certificate: %s",
			    tsr_error_detail());
		else if (rotated)
			tsr_log(TSR_LOG_INFO, "renewed the OCSP-signing certificate");
	}
	if (tsr_ocsp_sync(k->ocsp, st, &changed) != 0)
		tsr_log(TSR_LOG_WARN, "OCSP: %s", tsr_error_detail());
	/* The CRL follows the store's log on its own: a change the OCSP side
	 * could not follow, or a publication that failed, is tried again on
	 * the next pass.  The seq is read before publishing, whose snapshot
	 * comes later and so covers it. */
	if (tsr_store_status_seq(st, &seq) != 0) {
		tsr_log(TSR_LOG_WARN, "status: %s", tsr_error_detail());
	} else if (crl_keep(k, st, "issuing", seq != k->crl_seq)) {
		k->crl_seq = seq;
	}
	(void)crl_keep(k, st, "root", false);
	tsr_ra_store_release(k->ra, st);
}

/* ------------------------------------------------------------------ the command */

int cmd_serve(int argc, char **argv)
{
	struct tsr_http_config hc;
	struct tsr_http_config pc;
	struct tsr_http_server *server = NULL, *public = NULL;
	struct tsr_http_app app, public_app;
	struct status_keeper keeper = { .ca = NULL };
	struct sweeper status = { .running = false };
	const char *public_listen, *web_root;
	struct tsr_ca *ca = NULL;
	struct tsr_ra *ra = NULL;
	struct sweeper sweep = { .running = false };
	char *cert = NULL, *key = NULL, *trust = NULL;
	const char *home;
	sigset_t stop;
	int r, sig = 0;

	tsr_http_config_default(&hc);
	if ((r = parse(argc, argv, &home, &hc, &public_listen, &web_root)) != 0 ||
	    (r = cli_home(home, &home)) != 0)
		return r;
	if ((r = block_stop_signals(&stop)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		goto out;
	if ((r = tsr_ra_open(ca, &ra)) != 0 ||
	    (r = tsr_ca_server_cert(ca, cli_actor(), &cert, &key)) != 0 ||
	    (r = tsr_path_join(home, "certs/chain.pem", &trust)) != 0)
		goto out;
	/* Status first: the CRLs exist and the OCSP certificate is current
	 * before anyone can ask. */
	keeper.ca = ca;
	keeper.ra = ra;
	keeper.last_rotate_check = (int64_t)tsr_now();
	keeper.crl_seq = -1;
	if ((r = tsr_ca_ocsp_rotate(ca, SWEEP_ACTOR, false, NULL)) != 0 ||
	    (r = tsr_ocsp_responder_new(ca, &keeper.ocsp)) != 0)
		goto out;
	status_once(&keeper);
	hc.cert_pem_path = cert;
	hc.key_pem_path = key;
	/* Client certificates (EST renewal) chain to the issuing CA and root. */
	hc.trust_pem_path = trust;
	memset(&app, 0, sizeof(app));
	app.cfg = tsr_ca_config(ca);
	app.ctx = ra;
	app.authenticate = authenticate;
	app.check_health = check_health;
	app.authenticate_cookie = authenticate_cookie;
	app.web_root = web_root;
	app.ocsp = keeper.ocsp;
	if ((r = tsr_http_server_start(&hc, &app, &server)) != 0) {
		tsr_ca_audit(ca, cli_actor(), "server.start", hc.listen, TSR_AUDIT_FAILURE, "%s",
		    tsr_error_detail());
		goto out;
	}
	tsr_ca_audit(ca, cli_actor(), "server.start", hc.listen, TSR_AUDIT_SUCCESS,
	    "listening on port %u", (unsigned)tsr_http_server_port(server));
	/* The host part of --listen (IPv6 keeps its brackets) and the real port. */
	printf("tessera: serving https://%.*s:%u/ ; clients trust %s/certs/root.pem\n",
	    (int)(strrchr(hc.listen, ':') - hc.listen), hc.listen,
	    (unsigned)tsr_http_server_port(server), home);
	if (public_listen != NULL) {
		tsr_http_config_default(&pc);
		pc.listen = public_listen;
		pc.plain = true;
		pc.access_log_path = hc.access_log_path;
		/* Relying parties often come through one cache or proxy, but no
		 * one address may hold every connection. */
		pc.per_ip_connections = PUBLIC_PER_IP;
		public_app = app;
		public_app.authenticate = NULL;
		public_app.authenticate_cookie = NULL;
		public_app.routes = tsr_http_status_routes(&public_app.n_routes);
		if ((r = tsr_http_server_start(&pc, &public_app, &public)) != 0) {
			tsr_ca_audit(ca, cli_actor(), "server.start", public_listen,
			    TSR_AUDIT_FAILURE, "%s", tsr_error_detail());
			goto out;
		}
		tsr_ca_audit(ca, cli_actor(), "server.start", public_listen, TSR_AUDIT_SUCCESS,
		    "plain HTTP for OCSP, CRLs and CA certificates on port %u",
		    (unsigned)tsr_http_server_port(public));
		printf("tessera: serving OCSP, CRLs and CA certificates at http://%.*s:%u/\n",
		    (int)(strrchr(public_listen, ':') - public_listen), public_listen,
		    (unsigned)tsr_http_server_port(public));
	}
	fflush(stdout);
	if ((r = sweeper_start(&sweep, sweep_once, ra, SWEEP_SECONDS)) != 0 ||
	    (r = sweeper_start(&status, status_once, &keeper, STATUS_SECONDS)) != 0)
		goto out;
	while (sigwait(&stop, &sig) != 0)
		;
	fprintf(stderr, "tessera: %s received, finishing the requests in flight\n",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	tsr_http_server_stop(server);
	tsr_http_server_stop(public);
	server = NULL;
	public = NULL;
	sweeper_stop(&sweep);
	sweeper_stop(&status);
	tsr_ca_audit(ca, cli_actor(), "server.stop", hc.listen, TSR_AUDIT_SUCCESS, "on %s",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
out:
	tsr_http_server_stop(server);
	tsr_http_server_stop(public);
	sweeper_stop(&sweep);
	sweeper_stop(&status);
	tsr_ocsp_responder_free(keeper.ocsp);
	free(cert);
	free(key);
	free(trust);
	tsr_ra_close(ra);
	tsr_ca_close(ca);
	return r;
}
