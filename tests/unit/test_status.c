/*
 * test_status.c - revocation status as a relying party learns it:
 * tsr_client_status() against servers that are not Tessera's (the openssl
 * ocsp responder behind python3's http.server, CRLs made with OpenSSL and
 * served by it: tests/unit/status_fixture.py), and the rule that judges a
 * signature by its certificate's status (tsr_cms_report_status()), alone
 * and after tsr_cms_verify().
 *
 * The fixture answers with the real clock (openssl ocsp stamps thisUpdate
 * with it), so the certificates here are valid around the real now; a
 * verifier's later clock is the query's now.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "client/client.h"
#include "x509/x509.h"
#include "soft_key.h"

#define DAY 86400
#define HOUR 3600

static const char doc[] = "Prescription: amoxicillin 500 mg, 21 capsules.\n";

static char *eku_doc[] = { "1.3.6.1.5.5.7.3.36" };
static char *eku_client[] = { "1.3.6.1.5.5.7.3.2" };
static char *policies[] = { "2.25.1234.1.1" };
static char *subj_req[] = { "CN", "C" };

static struct tsr_product docsign = {
	.name = "document-signing", .title = "test", .description = "",
	.class_ = TSR_CLASS_SIGNING, .eku = eku_doc, .n_eku = 1, .policies = policies,
	.n_policies = 1, .validity_days = 1095, .max_validity_days = 1095, .key_types = 0x3e,
	.subject_required = subj_req, .n_subject_required = 2, .subject_allowed = subj_req,
	.n_subject_allowed = 2, .storage = TSR_STORAGE_EITHER, .ra_approvals = 1,
	.payment = "free",
};

/* Signs with clientAuth only: issued by the CA, but no OCSP responder. */
static struct tsr_product identity = {
	.name = "identity", .title = "test", .description = "",
	.class_ = TSR_CLASS_AUTHENTICATION, .eku = eku_client, .n_eku = 1, .policies = policies,
	.n_policies = 1, .validity_days = 730, .max_validity_days = 1095, .key_types = 0x3e,
	.subject_required = subj_req, .n_subject_required = 2, .subject_allowed = subj_req,
	.n_subject_allowed = 2, .storage = TSR_STORAGE_EITHER, .ra_approvals = 1,
	.payment = "free",
};

/* A key, its certificate, the signer that uses the key. */
struct party {
	EVP_PKEY *key;
	X509 *cert;
	struct tsr_signer *signer;
};

struct fx {
	char dir[64];
	time_t now;                    /* the real clock at setup */
	int port;                      /* the fixture */
	int dead_port, dead_fd;        /* bound, never listening: connections are refused */
	pid_t pid;
	int stdin_fd;
	struct party root, issuing, ocsp, rogue_root, rogue, noeku, expired;
	STACK_OF(X509) *roots;
};

/* ================================================================== certificates */

static void party_key(struct party *p)
{
	memset(p, 0, sizeof(*p));
	p->key = make_key(TSR_KEY_EC_P256);
	assert_non_null(p->key);
	assert_int_equal(tsr_signer_new(p->key, soft_sign, p->key, &p->signer), 0);
}

static void party_free(struct party *p)
{
	tsr_signer_free(p->signer);
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	memset(p, 0, sizeof(*p));
}

/* A certificate of kind for p's key, signed by issuer (NULL: itself),
 * valid from nb for days; ocsp and crl URLs as given (NULL: none).  Built
 * and signed without lint, so that tests can make what the CA never would
 * (no URLs, an ldap URL). */
static void certify(struct party *p, enum tsr_cert_kind kind, const char *cn,
    const struct party *issuer, const struct tsr_product *prod, time_t nb, int days,
    const char *ocsp, const char *crl)
{
	struct tsr_cert_template t;
	X509_NAME *n = X509_NAME_new();
	const struct party *by = issuer ? issuer : p;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;

	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"US", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.product = prod;
	t.subject = n;
	t.pubkey = p->key;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = nb;
	t.not_after = nb + (time_t)days * DAY - 1;
	t.issuer = issuer ? issuer->cert : NULL;
	if (kind == TSR_CERT_ISSUING) {
		t.ca_issuers_url = "http://127.0.0.1:9/ca/root.crt";
		t.crl_url = "http://127.0.0.1:9/crl/root.crl";
	}
	t.ocsp_url = ocsp;
	t.crl_url = kind == TSR_CERT_ISSUING ? t.crl_url : crl;
	if (tsr_cert_build(&t, by->signer, &p->cert) != 0 ||
	    tsr_cert_tbs_der(p->cert, &tbs, &tbs_len) != 0 ||
	    tsr_cert_sign(p->cert, by->signer, issuer ? issuer->cert : NULL, tbs, tbs_len) != 0)
		fail_msg("certify %s: %s", cn, tsr_error_detail());
	OPENSSL_free(tbs);
	X509_NAME_free(n);
}

static void write_pem(struct fx *f, const char *name, const struct party *p)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.pem", f->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, p->cert), 1);
	assert_int_equal(fclose(fp), 0);
	snprintf(path, sizeof(path), "%s/%s.key", f->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, p->key, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(fp), 0);
}

/* "http://127.0.0.1:PORT" + path on the fixture; "dead" names the port
 * that refuses; NULL stays NULL. */
static const char *url(struct fx *f, const char *path, char *buf, size_t size)
{
	if (path == NULL)
		return NULL;
	if (strncmp(path, "dead", 4) == 0)
		snprintf(buf, size, "http://127.0.0.1:%d%s", f->dead_port, path + 4);
	else if (strstr(path, "://") != NULL)
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "http://127.0.0.1:%d%s", f->port, path);
	return buf;
}

/* A document-signing subscriber of the issuing CA, valid since two days,
 * whose AIA names ocsp and whose distribution point names crl. */
static void subscriber(struct fx *f, struct party *p, const char *ocsp, const char *crl)
{
	char o[160], c[160];

	party_key(p);
	certify(p, TSR_CERT_SUBSCRIBER, "Jane Doe", &f->issuing, &docsign, f->now - 2 * DAY, 30,
	    url(f, ocsp, o, sizeof(o)), url(f, crl, c, sizeof(c)));
}

/* ================================================================== the fixture */

static void spawn(struct fx *f)
{
	const char *dir = getenv("TESSERA_UNIT_DIR");
	char script[512], line[32] = "";
	int in[2], out[2];
	size_t n = 0;

	snprintf(script, sizeof(script), "%s/status_fixture.py", dir ? dir : "tests/unit");
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp("python3", "python3", script, f->dir, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->stdin_fd = in[1];
	while (n + 1 < sizeof(line) && read(out[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	close(out[0]);
	line[n] = '\0';
	if ((f->port = atoi(line)) <= 0)
		fail_msg("%s did not start (it printed '%s')", script, line);
}

/* A loopback port bound but not listening: connecting to it is refused,
 * and nothing else can take it while the test runs. */
static void dead_port(struct fx *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((f->dead_fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(f->dead_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(f->dead_fd, (struct sockaddr *)&a, &len), 0);
	f->dead_port = ntohs(a.sin_port);
}

/* Root, issuing CA, its delegated OCSP responder, and the responders that
 * must be refused: one of another CA, one of the issuing CA without
 * id-kp-OCSPSigning, one that has expired. */
static void make_pki(struct fx *f)
{
	party_key(&f->root);
	certify(&f->root, TSR_CERT_ROOT, "Status Root", NULL, NULL, f->now - 30 * DAY, 3000,
	    NULL, NULL);
	party_key(&f->issuing);
	certify(&f->issuing, TSR_CERT_ISSUING, "Status Issuing", &f->root, NULL,
	    f->now - 20 * DAY, 2000, NULL, NULL);
	party_key(&f->ocsp);
	certify(&f->ocsp, TSR_CERT_OCSP, "Status OCSP", &f->issuing, NULL, f->now - 10 * DAY,
	    90, NULL, NULL);
	party_key(&f->rogue_root);
	certify(&f->rogue_root, TSR_CERT_ROOT, "Rogue Root", NULL, NULL, f->now - 30 * DAY, 3000,
	    NULL, NULL);
	party_key(&f->rogue);
	certify(&f->rogue, TSR_CERT_OCSP, "Rogue OCSP", &f->rogue_root, NULL, f->now - 10 * DAY,
	    90, NULL, NULL);
	party_key(&f->noeku);
	certify(&f->noeku, TSR_CERT_SUBSCRIBER, "Not A Responder", &f->issuing, &identity,
	    f->now - 10 * DAY, 90, NULL, NULL);
	party_key(&f->expired);
	certify(&f->expired, TSR_CERT_OCSP, "Expired OCSP", &f->issuing, NULL, f->now - 10 * DAY,
	    5, NULL, NULL);
	write_pem(f, "issuing", &f->issuing);
	write_pem(f, "ocsp", &f->ocsp);
	write_pem(f, "rogue", &f->rogue);
	write_pem(f, "noeku", &f->noeku);
	write_pem(f, "expired", &f->expired);
	f->roots = sk_X509_new_null();
	assert_int_equal(sk_X509_push(f->roots, f->root.cert), 1);
}

static int group_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[160];
	FILE *fp;

	assert_non_null(f);
	f->stdin_fd = f->dead_fd = -1;
	*state = f;
	f->now = time(NULL);
	strcpy(f->dir, "/tmp/tsr-status-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	make_pki(f);
	snprintf(path, sizeof(path), "%s/index.txt", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	/* every test's subscriber is Jane Doe */
	snprintf(path, sizeof(path), "%s/index.txt.attr", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("unique_subject = no\n", fp);
	fclose(fp);
	signal(SIGPIPE, SIG_IGN);
	dead_port(f);
	spawn(f);
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	int status;

	if (f == NULL)
		return 0;
	if (f->stdin_fd >= 0)
		close(f->stdin_fd);
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, &status, 0);
	}
	if (f->dead_fd >= 0)
		close(f->dead_fd);
	sk_X509_free(f->roots);
	party_free(&f->root);
	party_free(&f->issuing);
	party_free(&f->ocsp);
	party_free(&f->rogue_root);
	party_free(&f->rogue);
	party_free(&f->noeku);
	party_free(&f->expired);
	if (f->dir[0] != '\0')
		assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	free(f);
	return 0;
}

/* ================================================================== what the servers know */

static void yymmdd(time_t t, char out[64])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A line of the openssl ca database for leaf: valid (revoked 0), or
 * revoked at revoked for reason (NULL: none). */
static void index_add(struct fx *f, X509 *leaf, time_t revoked, const char *reason)
{
	char path[160], exp[64], rev[96] = "";
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *hex = BN_bn2hex(bn);
	FILE *fp;

	snprintf(path, sizeof(path), "%s/index.txt", f->dir);
	yymmdd(f->now + 365 * DAY, exp);
	if (revoked != 0) {
		yymmdd(revoked, rev);
		if (reason != NULL)
			snprintf(rev + strlen(rev), sizeof(rev) - strlen(rev), ",%s", reason);
	}
	assert_non_null(fp = fopen(path, "a"));
	fprintf(fp, "%s\t%s\t%s\t%s\tunknown\t/CN=Jane Doe\n", revoked ? "R" : "V", exp, rev, hex);
	assert_int_equal(fclose(fp), 0);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* One CRL entry. */
struct entry {
	X509 *cert;
	time_t revoked;
	int reason;                    /* CRL_REASON_NONE: no reasonCode */
	time_t invalidity;             /* 0: none */
};

enum { CRL_PEM = 1, CRL_DELTA = 2, CRL_ONLY_CA = 4, CRL_OTHER_DP = 8, CRL_THIS_DP = 16 };

static void crl_entry(X509_CRL *crl, const struct entry *e)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, e->revoked);

	assert_int_equal(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(e->cert)), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
	if (e->reason != CRL_REASON_NONE) {
		ASN1_ENUMERATED *en = ASN1_ENUMERATED_new();

		ASN1_ENUMERATED_set(en, e->reason);
		assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, en, 0, 0), 1);
		ASN1_ENUMERATED_free(en);
	}
	if (e->invalidity != 0) {
		ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_set(NULL, e->invalidity);

		assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, g, 0, 0), 1);
		ASN1_GENERALIZEDTIME_free(g);
	}
	assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
	ASN1_TIME_free(t);
}

/* An issuing distribution point: only CA certificates, or naming dp. */
static void crl_idp(X509_CRL *crl, bool only_ca, const char *dp)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

	idp->onlyCA = only_ca;
	if (dp != NULL) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		ASN1_STRING_set(s, dp, -1);
		GENERAL_NAME_set0_value(gn, GEN_URI, s);
		idp->distpoint = DIST_POINT_NAME_new();
		idp->distpoint->type = 0;
		idp->distpoint->name.fullname = GENERAL_NAMES_new();
		sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn);
	}
	assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0), 1);
	ISSUING_DIST_POINT_free(idp);
}

/* DIR/name.crl: issuer's CRL signed by key, thisUpdate tu, nextUpdate nu,
 * with n entries. */
static void make_crl(struct fx *f, const char *name, const struct party *issuer,
    const struct party *key, time_t tu, time_t nu, const struct entry *e, size_t n,
    unsigned flags)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, tu), *t2 = ASN1_TIME_set(NULL, nu);
	char path[160], dp[160];
	FILE *fp;

	assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->cert)), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t1), 1);
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t2), 1);
	for (size_t i = 0; i < n; i++)
		crl_entry(crl, &e[i]);
	if (flags & CRL_DELTA) {
		ASN1_INTEGER *base = ASN1_INTEGER_new();

		ASN1_INTEGER_set(base, 1);
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, 0), 1);
		ASN1_INTEGER_free(base);
	}
	snprintf(dp, sizeof(dp), "http://127.0.0.1:%d/%s.crl", f->port,
	    flags & CRL_OTHER_DP ? "other" : name);
	if (flags & (CRL_ONLY_CA | CRL_OTHER_DP | CRL_THIS_DP))
		crl_idp(crl, (flags & CRL_ONLY_CA) != 0,
		    flags & (CRL_OTHER_DP | CRL_THIS_DP) ? dp : NULL);
	assert_int_equal(X509_CRL_sort(crl), 1);
	assert_true(X509_CRL_sign(crl, key->key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/%s.crl", f->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	if (flags & CRL_PEM)
		assert_int_equal(PEM_write_X509_CRL(fp, crl), 1);
	else
		assert_int_equal(i2d_X509_CRL_fp(fp, crl), 1);
	assert_int_equal(fclose(fp), 0);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
}

/* The issuing CA's current CRL as DIR/name.crl. */
static void crl_now(struct fx *f, const char *name, const struct entry *e, size_t n)
{
	make_crl(f, name, &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, e, n, 0);
}

static void sh(const char *fmt, ...) TSR_PRINTF(1, 2);
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/* DIR/name.der: a response about leaf made now by the delegated
 * responder, valid for days, to a request with a nonce of its own (nonce)
 * or without one. */
static void canned(struct fx *f, const char *name, X509 *leaf, bool nonce, int days)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s-leaf.pem", f->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, leaf), 1);
	assert_int_equal(fclose(fp), 0);
	sh("cd %s && openssl ocsp -issuer issuing.pem -cert %s-leaf.pem %s -reqout %s-req.der "
	    ">/dev/null 2>&1", f->dir, name, nonce ? "-nonce" : "-no_nonce", name);
	sh("cd %s && openssl ocsp -index index.txt -CA issuing.pem -rsigner ocsp.pem "
	    "-rkey ocsp.key -ndays %d -reqin %s-req.der -respout %s.der >/dev/null 2>&1", f->dir,
	    days, name, name);
}

/* ================================================================== asking */

static void log_reset(struct fx *f)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/requests.log", f->dir);
	unlink(path);
}

/* What the fixture was asked since log_reset, "METHOD PATH TYPE" lines. */
static const char *log_text(struct fx *f)
{
	static char text[2048];
	char path[160];
	FILE *fp;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/requests.log", f->dir);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, fp);
		fclose(fp);
	}
	text[n] = '\0';
	return text;
}

static void ask_at(struct fx *f, X509 *leaf, time_t now, long timeout,
    struct tsr_cms_status *st)
{
	struct tsr_status_query q = {
		.cert = leaf, .issuer = f->issuing.cert, .roots = f->roots, .now = now,
		.timeout = timeout,
	};
	int r;

	log_reset(f);
	r = tsr_client_status(&q, st);
	if (r != 0)
		fail_msg("tsr_client_status: %d %s", r, tsr_error_detail());
	assert_int_equal(ERR_peek_error(), 0);
}

static void ask(struct fx *f, X509 *leaf, struct tsr_cms_status *st)
{
	ask_at(f, leaf, f->now, 5, st);
}

static void has(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("'%s' lacks '%s'", text, part);
}

static void lacks(const char *text, const char *part)
{
	if (strstr(text, part) != NULL)
		fail_msg("'%s' has '%s'", text, part);
}

static void want_state(const struct tsr_cms_status *st, enum tsr_revocation state)
{
	static const char *const names[] = { "unknown", "good", "revoked" };

	if (st->state != state)
		fail_msg("status %s, expected %s (%s; %s)", names[st->state], names[state],
		    st->source, st->detail);
}

static void is_source(struct fx *f, const struct tsr_cms_status *st, const char *kind,
    const char *path)
{
	char want[160];

	snprintf(want, sizeof(want), "%s http://127.0.0.1:%d%s", kind, f->port, path);
	assert_string_equal(st->source, want);
}

/* ================================================================== OCSP */

static void test_ocsp_good(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;
	char want[160];

	subscriber(f, &jane, "/ocsp/sign/ocsp", "/issuing.crl");
	index_add(f, jane.cert, 0, NULL);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	is_source(f, &st, "OCSP", "/ocsp/sign/ocsp");
	has(st.detail, "nonce echoed");
	has(st.detail, "thisUpdate 20");
	lacks(st.detail, "before that");
	/* one POST of an OCSP request to the AIA URL, and no CRL fetched */
	snprintf(want, sizeof(want), "POST /ocsp/sign/ocsp application/ocsp-request\n");
	assert_string_equal(log_text(f), want);
	party_free(&jane);
}

/* The issuing CA may sign its answers itself. */
static void test_ocsp_signed_by_issuer(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;

	subscriber(f, &jane, "/ocsp/sign/issuing", "dead/issuing.crl");
	index_add(f, jane.cert, 0, NULL);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	is_source(f, &st, "OCSP", "/ocsp/sign/issuing");
	party_free(&jane);
}

static void revoked_by_ocsp(struct fx *f, const char *reason, int code)
{
	struct party jane;
	struct tsr_cms_status st;
	time_t at = f->now - 3 * HOUR;

	subscriber(f, &jane, "/ocsp/sign/ocsp", "/issuing.crl");
	index_add(f, jane.cert, at, reason);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_REVOKED);
	assert_int_equal(st.revoked_at, at);
	assert_int_equal(st.reason, code);
	assert_int_equal(st.invalidity_date, 0);
	is_source(f, &st, "OCSP", "/ocsp/sign/ocsp");
	lacks(log_text(f), ".crl");
	party_free(&jane);
}

static void test_ocsp_revoked(void **state)
{
	struct fx *f = *state;

	revoked_by_ocsp(f, "keyCompromise", CRL_REASON_KEY_COMPROMISE);
	revoked_by_ocsp(f, "affiliationChanged", CRL_REASON_AFFILIATION_CHANGED);
	revoked_by_ocsp(f, "superseded", CRL_REASON_SUPERSEDED);
	revoked_by_ocsp(f, "certificateHold", CRL_REASON_CERTIFICATE_HOLD);
	revoked_by_ocsp(f, NULL, CRL_REASON_NONE);
}

/* A signed "unknown" from the issuer's responder is final: the CA does not
 * know the certificate, and no CRL is asked (it cannot list what was never
 * issued: falling back to it would make such a certificate good). */
static void test_ocsp_unknown_is_final(void **state)
{
	struct fx *f = *state;
	struct party jane, pem;
	struct tsr_cms_status st;
	struct entry e;
	time_t at = f->now - 5 * HOUR, inv = f->now - 2 * DAY;

	subscriber(f, &jane, "/ocsp/sign/ocsp", "/unknown.crl");   /* not in the index */
	crl_now(f, "unknown", NULL, 0);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	is_source(f, &st, "OCSP", "/ocsp/sign/ocsp");
	has(st.detail, "does not know this certificate");
	if (strstr(log_text(f), "GET /unknown.crl") != NULL)
		fail_msg("the CRL was fetched after a signed unknown: %s", log_text(f));

	/* A PEM CRL, with the certificate on it, when the responder is down */
	subscriber(f, &pem, "dead/ocsp", "/unknown.crl");
	e = (struct entry){ pem.cert, at, CRL_REASON_SUPERSEDED, inv };
	make_crl(f, "unknown", &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, &e, 1,
	    CRL_PEM);
	ask(f, pem.cert, &st);
	want_state(&st, TSR_REVOCATION_REVOKED);
	assert_int_equal(st.revoked_at, at);
	assert_int_equal(st.reason, CRL_REASON_SUPERSEDED);
	assert_int_equal(st.invalidity_date, inv);
	is_source(f, &st, "CRL", "/unknown.crl");
	party_free(&jane);
	party_free(&pem);
}

static void test_responder_down_crl_answers(void **state)
{
	struct fx *f = *state;
	struct party jane, other;
	struct tsr_cms_status st;
	struct entry e[2];

	subscriber(f, &jane, "dead/ocsp", "/down.crl");
	subscriber(f, &other, "dead/ocsp", "/down.crl");
	e[0] = (struct entry){ other.cert, f->now - DAY, CRL_REASON_KEY_COMPROMISE, 0 };
	crl_now(f, "down", e, 1);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	is_source(f, &st, "CRL", "/down.crl");
	has(st.detail, "cannot connect");
	has(st.detail, "OCSP http://127.0.0.1:");
	ask(f, other.cert, &st);
	want_state(&st, TSR_REVOCATION_REVOKED);
	assert_int_equal(st.reason, CRL_REASON_KEY_COMPROMISE);
	assert_int_equal(st.revoked_at, f->now - DAY);
	/* an entry without a reason code */
	e[1] = (struct entry){ jane.cert, f->now - HOUR, CRL_REASON_NONE, 0 };
	crl_now(f, "down", e, 2);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_REVOKED);
	assert_int_equal(st.reason, CRL_REASON_NONE);
	party_free(&jane);
	party_free(&other);
}

static void test_both_down_unknown(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;
	char want[160];

	subscriber(f, &jane, "dead/ocsp", "dead/issuing.crl");
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	assert_string_equal(st.source, "");
	snprintf(want, sizeof(want), "OCSP http://127.0.0.1:%d/ocsp: cannot connect", f->dead_port);
	has(st.detail, want);
	snprintf(want, sizeof(want), "CRL http://127.0.0.1:%d/issuing.crl: cannot connect",
	    f->dead_port);
	has(st.detail, want);
	party_free(&jane);

	/* the responder errs, the CRL is not there */
	subscriber(f, &jane, "/ocsp/http500", "/missing.crl");
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "/ocsp/http500: HTTP status 500");
	has(st.detail, "/missing.crl: HTTP status 404");
	party_free(&jane);
}

/* A response that is not the issuer's (or its responder's) is refused;
 * the CRL answers. */
static void refused_responder(struct fx *f, const char *signer, const char *why)
{
	struct party jane;
	struct tsr_cms_status st;
	char path[64], detail[200];

	snprintf(path, sizeof(path), "/ocsp/sign/%s", signer);
	subscriber(f, &jane, path, "/refused.crl");
	index_add(f, jane.cert, 0, NULL);
	crl_now(f, "refused", NULL, 0);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	is_source(f, &st, "CRL", "/refused.crl");
	snprintf(detail, sizeof(detail), "%s: not signed by the issuer or by a responder it "
	    "authorised", path);
	has(st.detail, detail);
	has(st.detail, why);
	party_free(&jane);
}

static void test_ocsp_wrong_signer(void **state)
{
	struct fx *f = *state;

	refused_responder(f, "rogue", "unable to get local issuer certificate");
	refused_responder(f, "noeku", "missing ocspsigning usage");
	refused_responder(f, "expired", "certificate has expired");
}

/* Error statuses and broken answers fall back to the CRL. */
static void responder_fails(struct fx *f, const char *path, long timeout, const char *why)
{
	struct party jane;
	struct tsr_cms_status st;
	char want[200];

	subscriber(f, &jane, path, "/fails.crl");
	index_add(f, jane.cert, 0, NULL);
	crl_now(f, "fails", NULL, 0);
	ask_at(f, jane.cert, f->now, timeout, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	is_source(f, &st, "CRL", "/fails.crl");
	snprintf(want, sizeof(want), "OCSP http://127.0.0.1:%d%s: %s", f->port, path, why);
	has(st.detail, want);
	party_free(&jane);
}

static void test_ocsp_errors(void **state)
{
	struct fx *f = *state;

	responder_fails(f, "/ocsp/trylater", 5, "the responder answered tryLater");
	responder_fails(f, "/ocsp/garbage", 5, "the answer is not a DER OCSP response");
	responder_fails(f, "/ocsp/redirect", 5, "HTTP status 302");
	responder_fails(f, "/ocsp/slow", 1, "no answer within 1 s");
	/* the redirect was not followed */
	lacks(log_text(f), "/ocsp/sign/");
}

/* The nonce: a pre-signed answer without it is taken while recent; one
 * with another nonce never. */
static void test_ocsp_nonce(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;

	subscriber(f, &jane, "/ocsp/canned/nonce", "dead/issuing.crl");
	index_add(f, jane.cert, 0, NULL);
	canned(f, "nonce", jane.cert, true, 3);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "/ocsp/canned/nonce: the answer carries another nonce");
	party_free(&jane);

	subscriber(f, &jane, "/ocsp/canned/nononce", "dead/issuing.crl");
	index_add(f, jane.cert, 0, NULL);
	canned(f, "nononce", jane.cert, false, 3);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	has(st.detail, "no nonce echoed (a pre-signed answer)");
	/* the same answer read two days later: still before its nextUpdate,
	 * but too old to be taken without the nonce */
	ask_at(f, jane.cert, f->now + 2 * DAY, 5, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "the nonce is not echoed and the answer is from");
	has(st.detail, "it may be a replay");
	party_free(&jane);
}

/* Answers judged at a later clock: past nextUpdate they are stale; and one
 * from the future is refused too. */
static void test_ocsp_times(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;

	subscriber(f, &jane, "/ocsp/sign/ocsp", "dead/issuing.crl");
	index_add(f, jane.cert, 0, NULL);
	ask_at(f, jane.cert, f->now + DAY + HOUR, 5, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "stale: nextUpdate");
	ask_at(f, jane.cert, f->now - HOUR, 5, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "is in the future");
	party_free(&jane);
}

/* ================================================================== CRLs */

/* With the responder down, a CRL the client must refuse leaves the status
 * unknown, saying why. */
static void crl_refused(struct fx *f, const char *name, long timeout, const char *why)
{
	struct party jane;
	struct tsr_cms_status st;
	char path[64];

	snprintf(path, sizeof(path), "/%s.crl", name);
	subscriber(f, &jane, "dead/ocsp", path);
	ask_at(f, jane.cert, f->now, timeout, &st);
	if (st.state != TSR_REVOCATION_UNKNOWN)
		fail_msg("%s: accepted (%s)", name, st.detail);
	has(st.detail, path);
	has(st.detail, why);
	party_free(&jane);
}

static void test_crl_refused(void **state)
{
	struct fx *f = *state;
	char path[160];
	FILE *fp;

	make_crl(f, "stale", &f->issuing, &f->issuing, f->now - 2 * DAY, f->now - HOUR, NULL, 0,
	    0);
	crl_refused(f, "stale", 5, "stale: nextUpdate");
	make_crl(f, "future", &f->issuing, &f->issuing, f->now + HOUR, f->now + DAY, NULL, 0, 0);
	crl_refused(f, "future", 5, "is in the future");
	make_crl(f, "forged", &f->issuing, &f->rogue, f->now - HOUR, f->now + DAY, NULL, 0, 0);
	crl_refused(f, "forged", 5, "the CRL's signature is not the issuer's");
	make_crl(f, "another", &f->rogue, &f->rogue, f->now - HOUR, f->now + DAY, NULL, 0, 0);
	crl_refused(f, "another", 5, "the CRL's issuer is not the certificate's");
	make_crl(f, "delta", &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, NULL, 0,
	    CRL_DELTA);
	crl_refused(f, "delta", 5, "a delta CRL");
	make_crl(f, "onlyca", &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, NULL, 0,
	    CRL_ONLY_CA);
	crl_refused(f, "onlyca", 5, "part of the certificates");
	make_crl(f, "partition", &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, NULL, 0,
	    CRL_OTHER_DP);
	crl_refused(f, "partition", 5, "a CRL for another distribution point");
	snprintf(path, sizeof(path), "%s/garbage.crl", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n", fp);
	fclose(fp);
	crl_refused(f, "garbage", 5, "not a CRL");
	crl_refused(f, "slow", 1, "no answer within 1 s");
}

/* A CRL naming its own distribution point is fine; one over the size cap
 * is not read. */
static void test_crl_scope_and_size(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;
	struct tsr_status_query q;

	make_crl(f, "named", &f->issuing, &f->issuing, f->now - HOUR, f->now + DAY, NULL, 0,
	    CRL_THIS_DP);
	subscriber(f, &jane, "dead/ocsp", "/named.crl");
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_GOOD);
	q = (struct tsr_status_query){ .cert = jane.cert, .issuer = f->issuing.cert,
		.roots = f->roots, .now = f->now, .timeout = 5, .crl_max = 100 };
	assert_int_equal(tsr_client_status(&q, &st), 0);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "/named.crl: the answer is over 100 bytes");
	party_free(&jane);
}

/* ================================================================== what is asked */

static void test_no_urls(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_status st;

	subscriber(f, &jane, NULL, NULL);
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	assert_string_equal(st.detail, "OCSP: the certificate names no responder that can be "
	    "asked; CRL: the certificate names no distribution point that can be fetched");
	assert_string_equal(log_text(f), "");
	party_free(&jane);

	/* an ldap URL is not fetched, and said so */
	subscriber(f, &jane, NULL,
	    "ldap://127.0.0.1/cn=Status%20Issuing?certificateRevocationList");
	ask(f, jane.cert, &st);
	want_state(&st, TSR_REVOCATION_UNKNOWN);
	has(st.detail, "CRL ldap://127.0.0.1/cn=Status%20Issuing?certificateRevocationList: not "
	    "fetched (http and https only); CRL: the certificate names no distribution point");
	party_free(&jane);
}

static void test_bad_query(void **state)
{
	struct fx *f = *state;
	struct tsr_cms_status st;
	struct tsr_status_query q = { .cert = f->ocsp.cert, .issuer = NULL, .now = f->now };

	assert_int_equal(tsr_client_status(&q, &st), TSR_ERR_INVALID);
	q.issuer = f->issuing.cert;
	q.timeout = TSR_STATUS_TIMEOUT_MAX + 1;
	assert_int_equal(tsr_client_status(&q, &st), TSR_ERR_INVALID);
}

/* ================================================================== the rule */

struct rule_case {
	int reason;
	time_t signed_offset;          /* signing time - revocation time */
	time_t invalidity_offset;      /* invalidity date - revocation time; 0: none */
	enum tsr_cms_result want;
	const char *says;
};

#define BEFORE (-HOUR)

static const struct rule_case rule_cases[] = {
	/* signed before the revocation: the reason decides */
	{ CRL_REASON_KEY_COMPROMISE, BEFORE, 0, TSR_CMS_BAD, "may have been in other hands" },
	{ CRL_REASON_CA_COMPROMISE, BEFORE, 0, TSR_CMS_BAD, "may have been in other hands" },
	{ CRL_REASON_AA_COMPROMISE, BEFORE, 0, TSR_CMS_BAD, "may have been in other hands" },
	{ CRL_REASON_UNSPECIFIED, BEFORE, 0, TSR_CMS_BAD, "may have been in other hands" },
	{ CRL_REASON_NONE, BEFORE, 0, TSR_CMS_BAD, "(no reason), says" },
	{ 42, BEFORE, 0, TSR_CMS_BAD, "(an unrecognised reason)" },
	{ CRL_REASON_AFFILIATION_CHANGED, BEFORE, 0, TSR_CMS_GOOD,
	  "before the certificate was revoked at" },
	{ CRL_REASON_SUPERSEDED, BEFORE, 0, TSR_CMS_GOOD, "superseded does not put the key" },
	{ CRL_REASON_CESSATION_OF_OPERATION, BEFORE, 0, TSR_CMS_GOOD, "(cessationOfOperation)" },
	{ CRL_REASON_PRIVILEGE_WITHDRAWN, BEFORE, 0, TSR_CMS_GOOD, "(privilegeWithdrawn)" },
	/* a hold: the token is missing, whoever has it can write any time */
	{ CRL_REASON_CERTIFICATE_HOLD, BEFORE, 0, TSR_CMS_BAD, "may have been in other hands" },
	/* at or after it: bad whatever the reason */
	{ CRL_REASON_AFFILIATION_CHANGED, 0, 0, TSR_CMS_BAD, "is not before it" },
	{ CRL_REASON_SUPERSEDED, 1, 0, TSR_CMS_BAD, "is not before it" },
	{ CRL_REASON_CERTIFICATE_HOLD, DAY, 0, TSR_CMS_BAD, "put on hold at" },
	{ CRL_REASON_KEY_COMPROMISE, DAY, 0, TSR_CMS_BAD, "is not before it" },
	/* an invalidity date at or before the signing time: bad */
	{ CRL_REASON_SUPERSEDED, BEFORE, -2 * HOUR, TSR_CMS_BAD, "before the key was in doubt" },
	{ CRL_REASON_AFFILIATION_CHANGED, BEFORE, BEFORE, TSR_CMS_BAD,
	  "before the key was in doubt" },
	/* one after it changes nothing */
	{ CRL_REASON_SUPERSEDED, BEFORE, -HOUR / 2, TSR_CMS_GOOD, "key in doubt since" },
};

static void test_rule(void **state)
{
	const time_t at = 1790000000;
	char src[] = "OCSP http://ocsp.example/";

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(rule_cases); i++) {
		const struct rule_case *c = &rule_cases[i];
		struct tsr_cms_report rep;
		struct tsr_cms_status st = { .state = TSR_REVOCATION_REVOKED, .revoked_at = at,
			.reason = c->reason };
		int r;

		memset(&rep, 0, sizeof(rep));
		rep.has_signing_time = true;
		rep.signing_time = at + c->signed_offset;
		st.invalidity_date = c->invalidity_offset != 0 ? at + c->invalidity_offset : 0;
		snprintf(st.source, sizeof(st.source), "%s", src);
		snprintf(st.detail, sizeof(st.detail), "thisUpdate 2026-09-21T14:00:00Z");
		r = tsr_cms_report_status(&rep, &st);
		if (rep.result[TSR_CMS_CHECK_STATUS] != c->want)
			fail_msg("case %zu (%s, %+ld s): %s (%s)", i,
			    tsr_cms_reason_name(c->reason), (long)c->signed_offset,
			    tsr_cms_result_name(rep.result[TSR_CMS_CHECK_STATUS]),
			    rep.reason[TSR_CMS_CHECK_STATUS]);
		assert_int_equal(r, c->want == TSR_CMS_GOOD ? 0 : TSR_ERR_SIGNATURE);
		has(rep.reason[TSR_CMS_CHECK_STATUS], c->says);
		has(rep.reason[TSR_CMS_CHECK_STATUS], src);
		has(rep.reason[TSR_CMS_CHECK_STATUS], "thisUpdate 2026-09-21T14:00:00Z");
		has(rep.reason[TSR_CMS_CHECK_STATUS], "2026-09-21T");   /* the times */
		if (r != 0)
			assert_memory_equal(tsr_error_detail(), "status: ", 8);
		assert_true(rep.status_recorded);
		assert_int_equal(rep.status.reason, c->reason);
	}
}

static void test_rule_good_unknown(void **state)
{
	struct tsr_cms_report rep;
	struct tsr_cms_status st = { .state = TSR_REVOCATION_GOOD, .reason = CRL_REASON_NONE };

	(void)state;
	memset(&rep, 0, sizeof(rep));
	rep.has_signing_time = true;
	rep.signing_time = 1790000000;
	snprintf(st.source, sizeof(st.source), "CRL http://crl.example/x.crl");
	assert_int_equal(tsr_cms_report_status(&rep, &st), 0);
	assert_int_equal(rep.result[TSR_CMS_CHECK_STATUS], TSR_CMS_GOOD);
	assert_string_equal(rep.reason[TSR_CMS_CHECK_STATUS],
	    "not revoked, says CRL http://crl.example/x.crl");

	st = (struct tsr_cms_status){ .state = TSR_REVOCATION_UNKNOWN };
	snprintf(st.detail, sizeof(st.detail), "OCSP http://o.example/: cannot connect");
	assert_int_equal(tsr_cms_report_status(&rep, &st), TSR_ERR_IO);
	assert_int_equal(rep.result[TSR_CMS_CHECK_STATUS], TSR_CMS_UNKNOWN);
	assert_string_equal(tsr_cms_result_name(TSR_CMS_UNKNOWN), "unknown");
	assert_string_equal(tsr_error_detail(), "status: OCSP http://o.example/: cannot connect");

	/* revoked, and no signing time to compare: bad */
	rep.has_signing_time = false;
	st = (struct tsr_cms_status){ .state = TSR_REVOCATION_REVOKED, .revoked_at = 1790000000,
		.reason = CRL_REASON_SUPERSEDED };
	assert_int_equal(tsr_cms_report_status(&rep, &st), TSR_ERR_SIGNATURE);
	has(rep.reason[TSR_CMS_CHECK_STATUS], "no signing time");

	assert_string_equal(tsr_cms_reason_name(CRL_REASON_KEY_COMPROMISE), "keyCompromise");
	assert_string_equal(tsr_cms_reason_name(CRL_REASON_AA_COMPROMISE), "aACompromise");
	assert_string_equal(tsr_cms_reason_name(7), "an unrecognised reason");
	assert_string_equal(tsr_cms_reason_name(-2), "an unrecognised reason");
}

/* ================================================================== signatures end to end */

/* Sign at when, verify at now, ask the fixture, judge. */
static int sign_and_judge(struct fx *f, struct party *jane, time_t when,
    struct tsr_cms_report *rep)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct tsr_status_query q;
	struct tsr_cms_status st;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	assert_int_equal(sk_X509_push(chain, f->issuing.cert), 1);
	if (tsr_cms_sign(jane->signer, jane->cert, chain, (const uint8_t *)doc, strlen(doc), false,
	    when, &der, &len) != 0)
		fail_msg("tsr_cms_sign: %s", tsr_error_detail());
	r = tsr_cms_verify(der, len, NULL, 0, f->roots, NULL, f->now, rep);
	if (r != 0)
		fail_msg("tsr_cms_verify: %s", tsr_error_detail());
	/* verify never asks: the status waits for the caller */
	assert_int_equal(rep->result[TSR_CMS_CHECK_STATUS], TSR_CMS_NOT_CHECKED);
	assert_string_equal(rep->reason[TSR_CMS_CHECK_STATUS],
	    "not checked (revocation status was not asked for)");
	assert_int_equal(sk_X509_num(rep->chain), 3);
	assert_int_equal(X509_cmp(sk_X509_value(rep->chain, 1), f->issuing.cert), 0);
	q = (struct tsr_status_query){ .cert = rep->signer, .issuer = sk_X509_value(rep->chain, 1),
		.roots = f->roots, .untrusted = rep->chain, .now = f->now, .timeout = 5 };
	assert_int_equal(tsr_client_status(&q, &st), 0);
	r = tsr_cms_report_status(rep, &st);
	OPENSSL_free(der);
	sk_X509_free(chain);
	return r;
}

static void test_signatures_before_and_after(void **state)
{
	struct fx *f = *state;
	struct party jane;
	struct tsr_cms_report rep;
	time_t at = f->now - HOUR;

	subscriber(f, &jane, "/ocsp/sign/ocsp", "/issuing.crl");
	index_add(f, jane.cert, at, "affiliationChanged");
	/* made two hours ago, before the revocation: good, with a note */
	assert_int_equal(sign_and_judge(f, &jane, f->now - 2 * HOUR, &rep), 0);
	assert_int_equal(rep.result[TSR_CMS_CHECK_STATUS], TSR_CMS_GOOD);
	has(rep.reason[TSR_CMS_CHECK_STATUS], "(the signer's claim), before the certificate was "
	    "revoked at");
	has(rep.reason[TSR_CMS_CHECK_STATUS], "(affiliationChanged), says OCSP http://127.0.0.1:");
	tsr_cms_report_clear(&rep);
	/* made now, after it: bad */
	assert_int_equal(sign_and_judge(f, &jane, f->now, &rep), TSR_ERR_SIGNATURE);
	assert_int_equal(rep.result[TSR_CMS_CHECK_STATUS], TSR_CMS_BAD);
	has(rep.reason[TSR_CMS_CHECK_STATUS], "is not before it");
	for (int c = 0; c < TSR_CMS_CHECK_STATUS; c++)
		assert_int_equal(rep.result[c], TSR_CMS_GOOD);
	tsr_cms_report_clear(&rep);
	party_free(&jane);

	/* a compromised key: the earlier signature is bad too */
	subscriber(f, &jane, "/ocsp/sign/ocsp", "/issuing.crl");
	index_add(f, jane.cert, at, "keyCompromise");
	assert_int_equal(sign_and_judge(f, &jane, f->now - 2 * HOUR, &rep), TSR_ERR_SIGNATURE);
	has(rep.reason[TSR_CMS_CHECK_STATUS], "(keyCompromise)");
	has(rep.reason[TSR_CMS_CHECK_STATUS], "may have been in other hands");
	tsr_cms_report_clear(&rep);
	party_free(&jane);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_rule_good_unknown),
		cmocka_unit_test(test_ocsp_good),
		cmocka_unit_test(test_ocsp_signed_by_issuer),
		cmocka_unit_test(test_ocsp_revoked),
		cmocka_unit_test(test_ocsp_unknown_is_final),
		cmocka_unit_test(test_responder_down_crl_answers),
		cmocka_unit_test(test_both_down_unknown),
		cmocka_unit_test(test_ocsp_wrong_signer),
		cmocka_unit_test(test_ocsp_errors),
		cmocka_unit_test(test_ocsp_nonce),
		cmocka_unit_test(test_ocsp_times),
		cmocka_unit_test(test_crl_refused),
		cmocka_unit_test(test_crl_scope_and_size),
		cmocka_unit_test(test_no_urls),
		cmocka_unit_test(test_bad_query),
		cmocka_unit_test(test_signatures_before_and_after),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
