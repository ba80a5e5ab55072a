/*
 * cmd_serve.c - `tessera serve`: the HTTPS server for applicants, officers
 * and relying parties.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "http/http.h"

const char cli_usage_serve[] =
    "usage: tessera serve --home DIR [--listen HOST:PORT] [--access-log FILE]\n"
    "\n"
    "Serve the JSON API (and, as they arrive, the web pages, EST, OCSP and CRLs) over\n"
    "HTTPS.  The TLS certificate is issued by this CA to itself for [ca] server_names\n"
    "and renewed at start when it is missing, expiring within 30 days or renamed;\n"
    "clients trust it through DIR/certs/root.pem.  SIGTERM or SIGINT stop the server\n"
    "after the requests in flight have finished.\n"
    "\n"
    "options:\n"
    "  --home DIR          the CA home (or $TESSERA_HOME)\n"
    "  --listen HOST:PORT  address to listen on: an IPv4 address or [IPv6], and a port\n"
    "                      (default 127.0.0.1:8443; port 0 picks a free one)\n"
    "  --access-log FILE   append the access log here (default: standard error)\n"
    "  --help              this text\n";

enum { OPT_HOME = 1, OPT_LISTEN, OPT_ACCESS_LOG, OPT_HELP };

static const struct option serve_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse(int argc, char **argv, const char **home, struct tsr_http_config *hc)
{
	int c;

	*home = NULL;
	optind = 1;
	opterr = 0;   /* one error line, ours */
	while ((c = getopt_long(argc, argv, "", serve_options, NULL)) != -1) {
		switch (c) {
		case OPT_HOME: *home = optarg; break;
		case OPT_LISTEN: hc->listen = optarg; break;
		case OPT_ACCESS_LOG: hc->access_log_path = optarg; break;
		case OPT_HELP: fputs(cli_usage_serve, stdout); return CLI_HELP;
		default: return cli_bad_option(cli_usage_serve, argv);
		}
	}
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

int cmd_serve(int argc, char **argv)
{
	struct tsr_http_config hc;
	struct tsr_http_server *server = NULL;
	struct tsr_http_app app;
	struct tsr_ca *ca = NULL;
	char *cert = NULL, *key = NULL;
	const char *home;
	sigset_t stop;
	int r, sig = 0;

	tsr_http_config_default(&hc);
	if ((r = parse(argc, argv, &home, &hc)) != 0 || (r = cli_home(home, &home)) != 0)
		return r;
	if ((r = block_stop_signals(&stop)) != 0 || (r = tsr_ca_open(home, &ca)) != 0)
		goto out;
	if ((r = tsr_ca_server_cert(ca, cli_actor(), &cert, &key)) != 0)
		goto out;
	hc.cert_pem_path = cert;
	hc.key_pem_path = key;
	memset(&app, 0, sizeof(app));
	app.cfg = tsr_ca_config(ca);
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
	fflush(stdout);
	while (sigwait(&stop, &sig) != 0)
		;
	fprintf(stderr, "tessera: %s received, finishing the requests in flight\n",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	tsr_http_server_stop(server);
	server = NULL;
	tsr_ca_audit(ca, cli_actor(), "server.stop", hc.listen, TSR_AUDIT_SUCCESS, "on %s",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
out:
	tsr_http_server_stop(server);
	free(cert);
	free(key);
	tsr_ca_close(ca);
	return r;
}
