/*
 * test_verifier.c - the external verifier webhook against a real HTTP
 * server: tests/unit/verifier_fixture.py (python3 http.server) on a loopback
 * port, started once for the group.  The path of the URL chooses what the
 * fixture answers; it records each request it gets, so the tests can check
 * what Tessera sent as well as what it made of the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "base/base.h"
#include "ra/secret.h"
#include "ra/verifier.h"

#define TOKEN "t0ken-Abc.123_~+/="
#define APPLICANT "{\"name\": \"Zo\\u00eb Doe\", \"npi\": \"1234567893\", " \
	"\"dea\": \"AB1234563\", \"email\": \"zoe@example.org\"}"

struct fx {
	char dir[64];
	char token_file[128];
	char record[128];
	pid_t pid;
	int stdin_fd;        /* the fixture stops when this closes */
	int port;
};

/* ------------------------------------------------------------------ fixture */

static const char *fixture_script(char *buf, size_t len)
{
	const char *dir = getenv("TESSERA_UNIT_DIR");

	snprintf(buf, len, "%s/verifier_fixture.py", dir ? dir : "tests/unit");
	return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void spawn(struct fx *f)
{
	int in[2], out[2];
	char script[512], line[32] = "";
	size_t n = 0;
	ssize_t k;

	fixture_script(script, sizeof(script));
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
		execlp("python3", "python3", script, f->dir, TOKEN, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->stdin_fd = in[1];
	while (n + 1 < sizeof(line) && (k = read(out[0], line + n, 1)) == 1 && line[n] != '\n')
		n++;
	close(out[0]);
	line[n] = '\0';
	f->port = atoi(line);
	if (f->port <= 0)
		fail_msg("%s did not start (it printed '%s')", script, line);
}

/* The group teardown runs even when this fails half-way (no fixture
 * script, no python3): *state is set first and f says what was made. */
static int group_setup(void **state)
{
	char dir[] = "/tmp/tessera-test-verifier-XXXXXX";
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->stdin_fd = -1;
	*state = f;
	assert_non_null(mkdtemp(dir));
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->token_file, sizeof(f->token_file), "%s/verifier.token", f->dir);
	snprintf(f->record, sizeof(f->record), "%s/request.json", f->dir);
	write_file(f->token_file, TOKEN "\n", 0600);
	signal(SIGPIPE, SIG_IGN);
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
	if (f->dir[0] != '\0')
		assert_int_equal(tsr_dir_remove_tree(f->dir), 0);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

/* True if s is valid UTF-8 from start to end. */
static bool is_utf8(const char *s)
{
	size_t n = strlen(s), i = 0;
	uint32_t cp;

	while (i < n)
		if (tsr_utf8_next(s, n, &i, &cp) != 0)
			return false;
	return true;
}

/* Call the fixture's path with v's other fields as given; the token never
 * appears in what comes back, whatever the outcome. */
static void call(struct fx *f, const char *scheme, const char *path, const char *token_file,
    int timeout, const char *applicant, struct tsr_verifier_result *r)
{
	char url[128];
	struct tsr_verifier_config v = {
		.product = "epcs", .url = url, .token_file = (char *)token_file,
		.timeout_seconds = timeout,
	};

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, f->port, path);
	unlink(f->record);
	memset(r, 0x55, sizeof(*r));
	tsr_verifier_run(&v, "AP-0001", "epcs", applicant, r);
	assert_non_null(memchr(r->evidence, '\0', sizeof(r->evidence)));
	assert_null(strstr(r->evidence, TOKEN));
	if (!is_utf8(r->evidence))
		fail_msg("%s: the evidence is not valid UTF-8: \"%s\"", path, r->evidence);
}

static void expect(struct fx *f, const char *path, const char *outcome, const char *evidence)
{
	struct tsr_verifier_result r;

	call(f, "http", path, NULL, 5, APPLICANT, &r);
	if (strcmp(r.outcome, outcome) != 0 || strstr(r.evidence, evidence) == NULL)
		fail_msg("%s: got %s \"%s\", want %s \"...%s...\"", path, r.outcome, r.evidence,
		    outcome, evidence);
}

/* The request the fixture recorded last (NULL: none). */
static json_t *recorded(struct fx *f)
{
	json_error_t err;

	if (access(f->record, F_OK) != 0)
		return NULL;
	return json_load_file(f->record, 0, &err);
}

static const char *header(json_t *rec, const char *name)
{
	return json_string_value(json_object_get(json_object_get(rec, "headers"), name));
}

/* ------------------------------------------------------------------ tests */

static void test_pass_and_request(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;
	json_t *rec, *body, *want;
	json_error_t err;
	const char *raw;

	call(f, "http", "/pass", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "pass");
	assert_string_equal(r.evidence, "NPI 1234567893 matches the NPPES record of Jane Doe");
	/* what went over the wire */
	assert_non_null(rec = recorded(f));
	assert_string_equal(json_string_value(json_object_get(rec, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(rec, "path")), "/pass");
	assert_string_equal(header(rec, "content-type"), "application/json");
	assert_null(header(rec, "authorization"));
	raw = json_string_value(json_object_get(rec, "body"));
	assert_non_null(raw);
	for (const char *p = raw; *p != '\0'; p++)   /* JSON_ENSURE_ASCII */
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(raw, "Zo\\u00EB"));
	body = json_loads(raw, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(body);
	assert_int_equal(json_object_size(body), 3);
	assert_string_equal(json_string_value(json_object_get(body, "application")), "AP-0001");
	assert_string_equal(json_string_value(json_object_get(body, "product")), "epcs");
	want = json_loads(APPLICANT, 0, &err);
	assert_true(json_equal(json_object_get(body, "applicant"), want));
	json_decref(want);
	json_decref(body);
	json_decref(rec);
}

static void test_fail_and_bare(void **state)
{
	struct fx *f = *state;

	expect(f, "/fail", "fail", "DEA registration AB1234563 is retired");
	expect(f, "/bare", "pass", "");
	expect(f, "/evidence-max", "pass", "eeeeeeeeee");
}

static void test_token(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;
	char other[160];
	json_t *rec;

	call(f, "http", "/auth/pass", f->token_file, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "pass");
	assert_non_null(rec = recorded(f));
	assert_string_equal(header(rec, "authorization"), "Bearer " TOKEN);
	json_decref(rec);
	/* no token, or the wrong one: the verifier refuses, review goes on */
	call(f, "http", "/auth/pass", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_string_equal(r.evidence, "The verifier answered HTTP 401, not 200.");
	snprintf(other, sizeof(other), "%s/other.token", f->dir);
	write_file(other, "not-the-token\n", 0600);
	call(f, "http", "/auth/pass", other, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "HTTP 401"));
	/* a token file others can read, a second line, a missing file: nothing is sent */
	write_file(other, TOKEN "\n", 0644);
	call(f, "http", "/auth/pass", other, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "chmod 600"));
	assert_null(recorded(f));
	write_file(other, "abc\nX-Injected: 1\n", 0600);
	call(f, "http", "/auth/pass", other, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "on one line"));
	assert_null(recorded(f));
	unlink(other);
	call(f, "http", "/auth/pass", other, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_null(recorded(f));
}

/* Control characters in the evidence never reach a screen. */
static void test_evidence_sanitized(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;

	call(f, "http", "/control", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "fail");
	assert_string_equal(r.evidence, "red [31m bell  line next tab c1  bidi evil  ok");
}

/* Whatever bytes the verifier sends, the evidence an officer reads is valid
 * UTF-8 (review stores it as JSON text) and still says what happened;
 * valid non-ASCII text passes through as it came. */
static void test_evidence_utf8(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;
	char want[200] = "The verifier's answer has an unknown member \"a";

	call(f, "http", "/utf8", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "pass");
	assert_string_equal(r.evidence, "Zo\u00eb Doe \u2014 NPPES \u2713 \u78ba\u8a8d \U0001f600");
	/* a key of 61 bytes: 40 would end inside the 20th e-acute; 39 are quoted */
	for (int i = 0; i < 19; i++)
		strcat(want, "\u00e9");
	strcat(want, "\".");
	call(f, "http", "/extra-utf8", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_string_equal(r.evidence, want);
	/* a Content-Type with bytes that are not UTF-8, cut between characters */
	call(f, "http", "/odd-type", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_string_equal(r.evidence, "The verifier answered with Content-Type text/plain; q=??"
	    "\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac, "
	    "not application/json.");
	/* JSON text that is not UTF-8 is not JSON */
	call(f, "http", "/not-utf8", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_string_equal(r.evidence, "The verifier's answer is not valid JSON.");
}

static void test_bad_answers(void **state)
{
	static const struct { const char *path, *evidence; } cases[] = {
		{ "/bad-json", "The verifier's answer is not valid JSON." },
		{ "/trailing", "The verifier's answer is not valid JSON." },
		{ "/duplicate", "The verifier's answer repeats a member." },
		{ "/array", "The verifier's answer is not a JSON object." },
		{ "/extra", "The verifier's answer has an unknown member \"score\"." },
		{ "/wrong-result", "no \"result\" of \"pass\" or \"fail\"" },
		{ "/unknown-result", "no \"result\" of \"pass\" or \"fail\"" },
		{ "/no-result", "no \"result\" of \"pass\" or \"fail\"" },
		{ "/evidence-type", "The verifier's \"evidence\" is not a string." },
		{ "/evidence-long", "The verifier's \"evidence\" is over 1000 bytes." },
		{ "/text", "Content-Type text/plain, not application/json" },
		{ "/500", "The verifier answered HTTP 500, not 200." },
		{ "/redirect", "The verifier answered HTTP 302, not 200." },
		{ "/nowhere", "The verifier answered HTTP 404, not 200." },
		{ "/huge", "The verifier's answer is over 16384 bytes." },
		{ "/huge-stream", "The verifier's answer is over 16384 bytes." },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++)
		expect(f, cases[i].path, "error", cases[i].evidence);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The fixture sleeps 5 s on /slow; the 1 s limit ends the call first. */
static void test_timeout(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	call(f, "http", "/slow", NULL, 1, APPLICANT, &r);
	assert_true(seconds_since(&t0) < 4.0);
	assert_string_equal(r.outcome, "error");
	assert_string_equal(r.evidence, "The verifier did not answer within 1 s.");
}

/* Nothing listening, and https:// to a server that speaks plain HTTP: no
 * fallback to plaintext. */
static void test_unreachable(void **state)
{
	struct fx *f = *state, closed = *f;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct tsr_verifier_result r;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	closed.port = ntohs(sa.sin_port);
	close(s);
	call(&closed, "http", "/pass", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "The verifier could not be reached: "));
	call(f, "https", "/pass", NULL, 5, APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "could not be reached"));
}

/* Bad input from the caller is an "error" outcome, and nothing is sent. */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct tsr_verifier_result r;

	call(f, "http", "/pass", NULL, 5, "not json", &r);
	assert_string_equal(r.outcome, "error");
	assert_non_null(strstr(r.evidence, "not a JSON object"));
	call(f, "http", "/pass", NULL, 5, "[\"a\"]", &r);
	assert_string_equal(r.outcome, "error");
	assert_null(recorded(f));
	tsr_verifier_run(NULL, "AP-0001", "epcs", APPLICANT, &r);
	assert_string_equal(r.outcome, "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_and_request),
		cmocka_unit_test(test_fail_and_bare),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_evidence_sanitized),
		cmocka_unit_test(test_evidence_utf8),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
