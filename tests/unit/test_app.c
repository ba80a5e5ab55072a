/*
 * test_app.c - the enrollment workflow (src/ra/app.c, account.c, review.c,
 * session.c) on a real CA home: SoftHSM2 token, SQLite store, Maildir
 * outboxes.  Codes are read from the outbox files exactly as an applicant
 * reads them; the clock is injected for expiry and lapses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/app.h"
#include "ra/retrieve.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PW "violet tractor umbrella"
#define NEW_PW "copper meadow lighthouse"
#define OFFICER_PW "quiet harbour lantern 7"
#define DAY 86400

struct fx {
	char home[64];
	pid_t verifier;           /* tests/unit/verifier_fixture.py */
	int verifier_stdin;
	int verifier_port;
	struct tsr_ca *ca;
	struct tsr_ra *ra;
	struct tsr_store *st;
	time_t now;
	char vouchers[20][TSR_VOUCHER_CODE_LEN];
	int next_voucher;
	char tls_voucher[TSR_VOUCHER_CODE_LEN];
};

static time_t fixed_clock(void *ctx)
{
	return *(time_t *)ctx;
}

static int make_vouchers(struct fx *fx)
{
	const struct tsr_config *cfg = tsr_ca_config(fx->ca);
	char batch[TSR_VOUCHER_BATCH_LEN + 1], **codes = NULL, path[128];
	uint8_t key[TSR_CODE_KEY_BYTES];
	int r;

	snprintf(path, sizeof(path), "%s/codes.key", fx->home);
	if (tsr_code_key_load_or_create(path, key) != 0 ||
	    tsr_ra_voucher_create(fx->st, &cfg->products, key, "test", "epcs", 20, 0, batch,
	    &codes) != 0)
		return -1;
	for (int i = 0; i < 20; i++)
		snprintf(fx->vouchers[i], sizeof(fx->vouchers[i]), "%s", codes[i]);
	tsr_ra_voucher_codes_free(codes, 20);
	r = tsr_ra_voucher_create(fx->st, &cfg->products, key, "test", "smime", 1, 0, batch,
	    &codes);
	if (r == 0)
		snprintf(fx->tls_voucher, sizeof(fx->tls_voucher), "%s", codes[0]);
	tsr_ra_voucher_codes_free(codes, 1);
	return r;
}

static int setup_failed(const char *step)
{
	fprintf(stderr, "setup: %s: %s\n", step, tsr_error_detail());
	return -1;
}

/* Start the stand-in external verifier (a real HTTP server on 127.0.0.1)
 * and read its port. */
static int start_verifier(struct fx *fx)
{
	const char *dir = getenv("TESSERA_UNIT_DIR");
	char script[512], line[32] = "";
	int in[2], out[2];
	size_t n = 0;

	if (dir == NULL || pipe(in) != 0 || pipe(out) != 0)
		return -1;
	snprintf(script, sizeof(script), "%s/verifier_fixture.py", dir);
	if ((fx->verifier = fork()) < 0)
		return -1;
	if (fx->verifier == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, "/tmp", "unused-token", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fx->verifier_stdin = in[1];
	while (n + 1 < sizeof(line) && read(out[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	close(out[0]);
	line[n] = '\0';
	fx->verifier_port = atoi(line);
	return fx->verifier_port > 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct tsr_init_options o;
	struct tsr_password_list *list = NULL;
	struct fx *fx = calloc(1, sizeof(*fx));
	char conf[256];

	if (fx == NULL || getenv("SOFTHSM_MODULE") == NULL)
		return -1;
	tsr_secret_set_cost(true);
	snprintf(fx->home, sizeof(fx->home), "/tmp/tsr-app-XXXXXX");
	if (mkdtemp(fx->home) == NULL)
		return -1;
	strcat(fx->home, "/ca");
	tsr_init_options_default(&o);
	o.home = fx->home;
	o.key_type = TSR_KEY_EC_P256;
	o.country = "US";
	o.softhsm_module = getenv("SOFTHSM_MODULE");
	if (tsr_ca_init(&o, "test") != 0)
		return setup_failed("init");
	/* Three failures lock (the default is 5). */
	snprintf(conf, sizeof(conf), "sed -i 's/^max_failures = 5$/max_failures = 3/' "
	    "'%s/tessera.conf'", fx->home);
	if (system(conf) != 0)
		return setup_failed("config");
	/* EPCS has an external verifier that says pass, S/MIME one that says fail. */
	if (start_verifier(fx) != 0)
		return setup_failed("verifier fixture");
	snprintf(conf, sizeof(conf), "printf '\\n[verifier epcs]\\nurl = http://127.0.0.1:%d/pass\\n"
	    "\\n[verifier smime]\\nurl = http://127.0.0.1:%d/fail\\n' >> '%s/tessera.conf'",
	    fx->verifier_port, fx->verifier_port, fx->home);
	if (system(conf) != 0)
		return setup_failed("verifier config");
	fx->now = time(NULL);
	tsr_clock_set(fixed_clock, &fx->now);
	if (tsr_ca_open(fx->home, &fx->ca) != 0 || tsr_ra_open(fx->ca, &fx->ra) != 0 ||
	    tsr_ra_store_acquire(fx->ra, &fx->st) != 0 || tsr_password_list_builtin(&list) != 0)
		return setup_failed("open");
	if (tsr_ra_user_add(fx->st, list, "test", "alice", "Alice", NULL, "ra-officer",
	    OFFICER_PW) != 0 ||
	    tsr_ra_user_add(fx->st, list, "test", "bob", "Bob", NULL, "ra-officer",
	    OFFICER_PW) != 0 ||
	    tsr_ra_user_add(fx->st, list, "test", "carol", "Carol", NULL, "auditor",
	    OFFICER_PW) != 0 || make_vouchers(fx) != 0)
		return setup_failed("users and vouchers");
	tsr_password_list_free(list);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	if (fx == NULL)
		return 0;
	if (fx->verifier > 0) {
		int status;

		close(fx->verifier_stdin);
		kill(fx->verifier, SIGTERM);
		waitpid(fx->verifier, &status, 0);
	}

	tsr_ra_store_release(fx->ra, fx->st);
	tsr_ra_close(fx->ra);
	tsr_ca_close(fx->ca);
	tsr_clock_set(NULL, NULL);
	*strrchr(fx->home, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->home);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static const struct tsr_ra_answer answers[] = {
	{ "First pet's name?", "Rex  the Dog" },
	{ "Street you grew up on?", "Elm street" },
	{ "Favourite teacher?", "Mrs Smith" },
};

/* A valid EPCS application (NPI 1234567893 and DEA AB1234563 have valid
 * check digits; the DEA's second letter is the family name's initial). */
static struct tsr_ra_application epcs(struct fx *fx)
{
	struct tsr_ra_application a = {
		.product = "epcs", .storage = TSR_CHOICE_NEW_TOKEN, .agreement = "2026-11",
		.password = PW, .answers = answers, .n_answers = 3,
		.given_name = "Jane", .family_name = "Baker", .email = "jane@example.org",
		.address = "1 Main Street\nSpringfield", .date_of_birth = "1980-02-29",
		.npi = "1234567893", .dea = "AB1234563",
	};
	if (fx != NULL)
		a.voucher = fx->vouchers[fx->next_voucher++];
	return a;
}

/* Undo quoted-printable in place ("=3D" is '=', "=\r\n" a soft break):
 * a code's check symbol may be '='. */
static void qp_decode(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && s[1] && s[2] && tsr_hex_digit(s[1]) >= 0 &&
		    tsr_hex_digit(s[2]) >= 0) {
			*o++ = (char)(tsr_hex_digit(s[1]) * 16 + tsr_hex_digit(s[2]));
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

static char *file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65537);

	if (f == NULL || text == NULL) {
		if (f != NULL)
			fclose(f);
		free(text);
		return NULL;
	}
	(void)!fread(text, 1, 65536, f);
	fclose(f);
	qp_decode(text);
	return text;
}

/* How many messages of kind for id are in outbox dir (HOME/dir/new), and
 * the text after marker in the newest one (into out). */
static int find_mail(struct fx *fx, const char *dir, const char *id, const char *kind,
    const char *marker, char *out, size_t outlen)
{
	char path[512], want_app[128], want_kind[64];
	struct dirent *e;
	DIR *d;
	int count = 0;

	snprintf(path, sizeof(path), "%s/%s/new", fx->home, dir);
	snprintf(want_app, sizeof(want_app), "X-Tessera-Application: %s\r\n", id);
	snprintf(want_kind, sizeof(want_kind), "X-Tessera-Kind: %s\r\n", kind);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char file[1024], *text, *m;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if ((text = file_text(file)) == NULL)
			continue;
		if (strstr(text, want_app) && strstr(text, want_kind)) {
			count++;
			if (marker != NULL && (m = strstr(text, marker)) != NULL)
				snprintf(out, outlen, "%.*s", (int)strcspn(m + strlen(marker), "\r\n"),
				    m + strlen(marker));
		}
		free(text);
	}
	closedir(d);
	return count;
}

static void verification_code(struct fx *fx, const char *id, char code[64])
{
	code[0] = '\0';
	assert_true(find_mail(fx, "outbox", id, "verification", "Your verification code:  ",
	    code, 64) >= 1);
	assert_int_equal(strlen(code), 9);          /* "XXXX-XXXX": 35 bits and a check */
}

static void state_is(struct fx *fx, const char *id, const char *state)
{
	struct tsr_app_record a;

	assert_int_equal(tsr_ra_app_get(fx->st, id, &a), 0);
	assert_string_equal(a.state, state);
	assert_null(a.password_hash);
	tsr_app_record_clear(&a);
}

struct counter {
	const char *action, *outcome;
	int64_t n;
};

static int count_row(const struct tsr_audit_record *r, void *ctx)
{
	struct counter *c = ctx;

	if (strcmp(r->action, c->action) == 0 && strcmp(r->outcome, c->outcome) == 0)
		c->n++;
	return 0;
}

static int64_t audited(struct fx *fx, const char *action, const char *outcome)
{
	struct counter c = { action, outcome, 0 };

	assert_int_equal(tsr_store_audit_iter(fx->st, count_row, &c), 0);
	return c.n;
}

/* The failures counted on the current verification code of id. */
static int code_failures(struct fx *fx, const char *id)
{
	struct tsr_code_record c;

	assert_int_equal(tsr_store_code_current(fx->st, id, TSR_CODE_VERIFICATION, &c), 0);
	return c.failures;
}

/* Apply and verify: an application under review. */
static void reviewed_app(struct fx *fx, char id[TSR_APP_ID_MAX + 1])
{
	struct tsr_ra_application a = epcs(fx);
	char code[64];

	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "http:127.0.0.1", &a, id), 0);
	verification_code(fx, id, code);
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "http:127.0.0.1", id, code), 0);
	state_is(fx, id, "under_review");
}

/* ------------------------------------------------------------------ tests */

static void test_apply_and_verify(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a = epcs(fx);
	struct tsr_app_record rec;
	char id[TSR_APP_ID_MAX + 1], code[64], wrong[64];
	int64_t submits = audited(fx, "application.submit", "success");

	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "http:127.0.0.1", &a, id), 0);
	assert_int_equal(strlen(id), 17);
	assert_memory_equal(id, "AP-", 3);
	state_is(fx, id, "submitted");
	assert_int_equal(audited(fx, "application.submit", "success"), submits + 1);
	verification_code(fx, id, code);

	/* A typo the check symbol catches is not a guess: not counted. */
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[3] = wrong[3] == 'A' ? 'B' : 'A';
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, wrong), TSR_ERR_PARSE);
	state_is(fx, id, "submitted");
	assert_int_equal(code_failures(fx, id), 0);

	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), 0);
	state_is(fx, id, "under_review");
	/* The code works once. */
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), TSR_ERR_POLICY);

	assert_int_equal(tsr_ra_app_get(fx->st, id, &rec), 0);
	assert_non_null(strstr(rec.checks, "\"npi\":{\"detail\""));
	assert_non_null(strstr(rec.checks, "\"result\":\"pass\""));
	/* The external verifier was asked and its answer is kept for the officer. */
	assert_non_null(strstr(rec.checks, "\"verifier\":{\"evidence\":\"NPI 1234567893 matches"));
	assert_non_null(strstr(rec.checks, "\"result\":\"pass\",\"url\""));
	assert_string_equal(rec.agreement, "2026-11");
	assert_string_equal(rec.npi, "1234567893");
	assert_non_null(strstr(rec.applicant, "\"family_name\":\"Baker\""));
	assert_null(strstr(rec.applicant, PW));
	tsr_app_record_clear(&rec);
}

static void test_apply_refusals(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a;
	struct tsr_ra_answer two_same[3] = {
		{ "Pet?", "a" }, { "pet?", "b" }, { "Town?", "c" },
	};
	char id[TSR_APP_ID_MAX + 1];
	int64_t before = audited(fx, "application.submit", "refused");
	int n = 0;

#define REFUSED(field, value, err) do { \
		a = epcs(NULL); \
		a.voucher = fx->vouchers[19]; \
		a.field = value; \
		assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), err); \
		assert_string_equal(id, ""); \
		n++; \
	} while (0)

	REFUSED(product, "nope", TSR_ERR_INVALID);
	REFUSED(storage, TSR_CHOICE_SOFTWARE, TSR_ERR_INVALID);
	REFUSED(storage, "cloud", TSR_ERR_INVALID);
	REFUSED(npi, NULL, TSR_ERR_INVALID);
	REFUSED(npi, "1234567890", TSR_ERR_INVALID);        /* check digit */
	REFUSED(dea, "AB1234564", TSR_ERR_INVALID);         /* check digit */
	REFUSED(dea, "AX1234563", TSR_ERR_INVALID);         /* not Baker's initial */
	REFUSED(domain, "example.org", TSR_ERR_INVALID);    /* epcs does not ask */
	REFUSED(email, "not an address", TSR_ERR_INVALID);
	REFUSED(date_of_birth, "1980-02-30", TSR_ERR_INVALID);
	REFUSED(password, "password", TSR_ERR_POLICY);      /* on the list */
	REFUSED(password, "short", TSR_ERR_POLICY);
	REFUSED(password, "jane bakers secret", TSR_ERR_POLICY);  /* context word */
	REFUSED(agreement, "2025-01", TSR_ERR_POLICY);
	REFUSED(voucher, NULL, TSR_ERR_INVALID);
	REFUSED(voucher, fx->tls_voucher, TSR_ERR_POLICY);  /* another product's */
	REFUSED(n_answers, 2, TSR_ERR_INVALID);
	REFUSED(answers, two_same, TSR_ERR_INVALID);
	assert_int_equal(audited(fx, "application.submit", "refused"), before + n);
	/* None of them used the voucher: it still works. */
	a = epcs(NULL);
	a.voucher = fx->vouchers[19];
	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), 0);
	/* ... once. */
	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), TSR_ERR_POLICY);
	assert_string_equal(id, "");
#undef REFUSED
}

/* A verifier's "fail" is shown to the officers; it decides nothing. */
static void test_verifier_fail(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a = {
		.product = "smime", .storage = TSR_CHOICE_SOFTWARE, .agreement = "2026-11",
		.password = PW, .answers = answers, .n_answers = 3, .voucher = fx->tls_voucher,
		.given_name = "Jane", .family_name = "Baker", .email = "jane@example.org",
	};
	struct tsr_app_record rec;
	char id[TSR_APP_ID_MAX + 1], code[64];

	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), 0);
	verification_code(fx, id, code);
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), 0);
	assert_int_equal(tsr_ra_app_get(fx->st, id, &rec), 0);
	assert_string_equal(rec.state, "under_review");
	assert_non_null(strstr(rec.checks, "\"evidence\":\"DEA registration AB1234563 is retired\""));
	assert_non_null(strstr(rec.checks, "\"result\":\"fail\""));
	/* The same email as the EPCS applications: a duplicate by email. */
	assert_non_null(strstr(rec.checks, "\"field\":\"email\""));
	tsr_app_record_clear(&rec);
}

static void test_code_lock_and_expiry(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a = epcs(fx);
	char id[TSR_APP_ID_MAX + 1], code[64], other[64], fresh[64];
	time_t saved = fx->now;

	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), 0);
	verification_code(fx, id, code);
	/* Wrong but well-formed codes: counted, the third locks (max_failures 3). */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tsr_code_new(TSR_CODE_VERIFICATION_BITS, other, sizeof(other)), 0);
		if (strcmp(other, code) == 0)
			continue;
		assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, other), TSR_ERR_AUTH);
	}
	assert_true(tsr_ra_code_locked(fx->st, id, TSR_CODE_VERIFICATION));
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), TSR_ERR_POLICY);
	/* Only an officer unlocks; an auditor may not. */
	assert_int_equal(tsr_ra_unlock(fx->ra, fx->st, "carol", id, TSR_RA_UNLOCK_CODE),
	    TSR_ERR_FORBIDDEN);
	assert_int_equal(tsr_ra_unlock(fx->ra, fx->st, "alice", id, TSR_RA_UNLOCK_CODE), 0);
	assert_false(tsr_ra_code_locked(fx->st, id, TSR_CODE_VERIFICATION));

	/* A day later the code has expired; a new one replaces it. */
	fx->now += DAY;
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_resend_verification(fx->ra, fx->st, "t", id), 0);
	assert_int_equal(find_mail(fx, "outbox", id, "verification", NULL, NULL, 0), 2);
	/* One new code a minute at most. */
	assert_int_equal(tsr_ra_resend_verification(fx->ra, fx->st, "t", id), TSR_ERR_POLICY);
	assert_int_equal(find_mail(fx, "outbox", id, "verification", NULL, NULL, 0), 2);
	fresh[0] = '\0';
	/* The newest file is not necessarily the last listed: try both codes. */
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, code), TSR_ERR_POLICY);
	{
		char path[512];
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "%s/outbox/new", fx->home);
		d = opendir(path);
		assert_non_null(d);
		while ((e = readdir(d)) != NULL && fresh[0] == '\0') {
			char file[1024], *text, *m;

			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			if (e->d_name[0] == '.' || (text = file_text(file)) == NULL)
				continue;
			if (strstr(text, id) && (m = strstr(text, "Your verification code:  ")) &&
			    strncmp(m + 25, code, strlen(code)) != 0)
				snprintf(fresh, sizeof(fresh), "%.9s", m + 25);
			free(text);
		}
		closedir(d);
	}
	assert_int_equal(strlen(fresh), 9);
	assert_int_equal(tsr_ra_verify_email(fx->ra, fx->st, "t", id, fresh), 0);
	state_is(fx, id, "under_review");
	fx->now = saved;
}

static void test_dual_control(void **state)
{
	struct fx *fx = *state;
	struct tsr_approval_record *ap = NULL;
	char id[TSR_APP_ID_MAX + 1], code[64] = "", other[TSR_APP_ID_MAX + 1];
	size_t n = 0;
	bool final = true;

	reviewed_app(fx, id);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "carol", id, NULL, NULL, NULL),
	    TSR_ERR_FORBIDDEN);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "mallory", id, NULL, NULL, NULL),
	    TSR_ERR_FORBIDDEN);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "alice", id, NULL, "looks right", &final), 0);
	assert_false(final);
	state_is(fx, id, "under_review");
	/* Alice cannot give the second approval too. */
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "alice", id, NULL, NULL, NULL),
	    TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "already approved"));
	/* The final approval of a new-token application needs the token. */
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", id, NULL, NULL, NULL),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_approvals(fx->st, id, &ap, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ap[0].officer, "alice");
	assert_string_equal(ap[0].comment, "looks right");
	tsr_ra_approvals_free(ap, n);
	/* A serial another open application holds is refused. */
	reviewed_app(fx, other);
	assert_int_equal(tsr_ra_assign_token(fx->ra, fx->st, "alice", other, "YK-5551234"), 0);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", id, "YK-5551234", NULL, NULL),
	    TSR_ERR_EXISTS);
	assert_int_equal(tsr_ra_assign_token(fx->ra, fx->st, "alice", id, "bad serial"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", id, "YK-5550001", NULL, &final), 0);
	assert_true(final);
	state_is(fx, id, "activation_issued");

	/* Two messages in two outboxes: the code by email, the passcode apart. */
	assert_int_equal(find_mail(fx, "outbox", id, "activation", "Your activation code: ",
	    code, sizeof(code)), 1);
	assert_int_equal(strlen(code), 29);         /* 115 bits and a check, in groups */
	assert_int_equal(find_mail(fx, "outbox", id, "passcode", NULL, NULL, 0), 0);
	assert_int_equal(find_mail(fx, "passcodes", id, "passcode", "Initial token passcode: ",
	    other, sizeof(other)), 1);
	assert_int_equal(strlen(other), 8);
	assert_int_equal(find_mail(fx, "passcodes", id, "activation", NULL, NULL, 0), 0);
	/* Too late to reject, and the token cannot change now. */
	assert_int_equal(tsr_ra_reject(fx->ra, fx->st, "alice", id, "changed my mind"),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_assign_token(fx->ra, fx->st, "alice", id, "YK-1"), TSR_ERR_POLICY);
	/* A reissue replaces the letters. */
	assert_int_equal(tsr_ra_reissue_activation(fx->ra, fx->st, "bob", id), 0);
	assert_int_equal(find_mail(fx, "outbox", id, "activation", NULL, NULL, 0), 2);
	assert_int_equal(find_mail(fx, "passcodes", id, "passcode", NULL, NULL, 0), 2);
}

/* ------------------------------------------------------------------ retrieval */

/* A software key and its CSR (DER), as a token would make them. */
static EVP_PKEY *new_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static void csr_of(EVP_PKEY *k, uint8_t **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	int l;

	assert_non_null(req);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const uint8_t *)"whatever the CSR says", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	*der = NULL;
	l = i2d_X509_REQ(req, der);
	assert_true(l > 0);
	*len = (size_t)l;
	X509_NAME_free(n);
	X509_REQ_free(req);
}

/* An application with its activation issued for token serial, and its code. */
static void activated(struct fx *fx, const char *serial, char id[TSR_APP_ID_MAX + 1],
    char code[64])
{
	reviewed_app(fx, id);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "alice", id, serial, NULL, NULL), 0);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", id, NULL, NULL, NULL), 0);
	code[0] = '\0';
	assert_int_equal(find_mail(fx, "outbox", id, "activation", "Your activation code: ", code,
	    64), 1);
}

static int failed_logins(struct fx *fx, const char *id)
{
	struct tsr_app_record a;
	int n;

	assert_int_equal(tsr_store_app_get(fx->st, id, &a), 0);
	n = a.failed_logins;
	tsr_app_record_clear(&a);
	return n;
}

static void test_retrieve(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_token_claim mine = { "SoftHSM project", "SoftHSM v2", "TOKEN-0001      " };
	struct tsr_ra_token_claim other = { "SoftHSM project", "SoftHSM v2", "TOKEN-0002" };
	struct tsr_ra_issued got, again;
	struct tsr_app_record rec;
	char id[TSR_APP_ID_MAX + 1], code[64], wrong[64], *subject = NULL;
	EVP_PKEY *k = new_key("P-256"), *k2 = new_key("P-256");
	uint8_t *csr = NULL, *csr2 = NULL;
	size_t csr_len, csr2_len;
	const uint8_t *p;
	X509 *x;
	unsigned mask = 0;
	enum tsr_key_type pref = TSR_KEY_NONE;

	csr_of(k, &csr, &csr_len);
	csr_of(k2, &csr2, &csr2_len);
	/* An activation code past its 30 days: refused, nothing issued. */
	activated(fx, "TOKEN-0009", id, code);
	fx->now += 30 * DAY;
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len,
	    &(struct tsr_ra_token_claim){ NULL, NULL, "TOKEN-0009" }, &got), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "expired"));
	assert_null(got.der);
	fx->now -= 30 * DAY;
	state_is(fx, id, "activation_issued");

	activated(fx, "TOKEN-0001", id, code);
	/* csrattrs: the product's key types after the same checks. */
	assert_int_equal(tsr_ra_retrieve_key_types(fx->ra, fx->st, "t", code, PW, &mask, &pref), 0);
	assert_int_equal(pref, TSR_KEY_EC_P256);
	assert_true(mask & (1u << TSR_KEY_EC_P384));
	/* Wrong password: counted on the account; an unknown code: the same answer. */
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, "not the password", csr,
	    csr_len, &mine, &got), TSR_ERR_AUTH);
	assert_int_equal(failed_logins(fx, id), 1);
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, wrong, sizeof(wrong)), 0);
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", wrong, PW, csr, csr_len, &mine,
	    &got), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong activation code or password");
	/* Another token, or none said: refused, nothing issued. */
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len, &other,
	    &got), TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len, NULL,
	    &got), TSR_ERR_POLICY);
	/* A CSR that is not one. */
	assert_int_not_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, (const uint8_t *)
	    "garbage", 7, &mine, &got), 0);
	state_is(fx, id, "activation_issued");

	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len, &mine,
	    &got), 0);
	assert_false(got.repeated);
	state_is(fx, id, "certificate_issued");
	p = got.der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)got.der_len));
	/* The subject is the application's, the key the CSR's. */
	assert_int_equal(tsr_name_format(X509_get_subject_name(x), &subject), 0);
	assert_string_equal(subject, "CN=Jane Baker,GN=Jane,SN=Baker,C=US");
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	assert_int_equal(tsr_store_app_get(fx->st, id, &rec), 0);
	assert_string_equal(rec.cert_serial, got.serial);
	assert_int_equal(rec.failed_logins, 0);
	tsr_app_record_clear(&rec);

	/* Interrupted retrieval: the same key gets the same certificate. */
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len, &mine,
	    &again), 0);
	assert_true(again.repeated);
	assert_string_equal(again.serial, got.serial);
	tsr_ra_issued_clear(&again);
	/* Another key with the used code: refused and audited. */
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr2, csr2_len, &mine,
	    &again), TSR_ERR_POLICY);
	/* A day and a bit later, not even the same key. */
	fx->now += TSR_RA_RETRIEVE_WINDOW_SECONDS + 1;
	assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len, &mine,
	    &again), TSR_ERR_POLICY);
	fx->now -= TSR_RA_RETRIEVE_WINDOW_SECONDS + 1;

	/* Renewal with the current certificate: a new key, the same subject. */
	assert_int_equal(tsr_ra_reenroll(fx->ra, fx->st, "t", got.der, got.der_len, csr, csr_len,
	    &again), TSR_ERR_POLICY);   /* the same key again */
	assert_int_equal(tsr_ra_reenroll(fx->ra, fx->st, "t", got.der, got.der_len, csr2,
	    csr2_len, &again), 0);
	assert_string_not_equal(again.serial, got.serial);
	assert_int_equal(tsr_store_app_get(fx->st, id, &rec), 0);
	assert_string_equal(rec.cert_serial, again.serial);
	tsr_app_record_clear(&rec);
	/* The old certificate is no longer the application's newest. */
	{
		struct tsr_ra_issued none;

		/* Nor does the code give it, or the renewed one, again. */
		assert_int_equal(tsr_ra_retrieve(fx->ra, fx->st, "t", code, PW, csr, csr_len,
		    &mine, &none), TSR_ERR_POLICY);
		assert_non_null(strstr(tsr_error_detail(), "renewed or revoked since"));
		assert_null(none.der);

		assert_int_equal(tsr_ra_reenroll(fx->ra, fx->st, "t", got.der, got.der_len, csr2,
		    csr2_len, &none), TSR_ERR_AUTH);
		assert_null(none.der);
		assert_int_equal(tsr_ra_reenroll(fx->ra, fx->st, "t", (const uint8_t *)"x", 1, csr2,
		    csr2_len, &none), TSR_ERR_AUTH);
	}

	/* Test my certificate with the renewed one. */
	{
		struct tsr_ra_test_result res;
		char nonce[TSR_RA_NONCE_LEN], message[128];
		int64_t expires = 0;
		uint8_t sig[256];
		size_t sig_len = sizeof(sig);
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		assert_int_equal(tsr_ra_test_nonce(fx->ra, fx->st, nonce, &expires), 0);
		assert_int_equal(strlen(nonce), 22);
		snprintf(message, sizeof(message), "%s%s", TSR_RA_TEST_PREFIX, nonce);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k2), 1);
		assert_int_equal(EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)message,
		    strlen(message)), 1);
		EVP_MD_CTX_free(md);
		assert_int_equal(tsr_ra_test_check(fx->ra, fx->st, "t", nonce, again.der,
		    again.der_len, sig, sig_len, &res), 0);
		assert_true(res.good);
		assert_string_equal(res.application, id);
		/* A nonce works once. */
		assert_int_equal(tsr_ra_test_check(fx->ra, fx->st, "t", nonce, again.der,
		    again.der_len, sig, sig_len, &res), TSR_ERR_POLICY);
		/* A signature by another key: a result, not an error. */
		assert_int_equal(tsr_ra_test_nonce(fx->ra, fx->st, nonce, &expires), 0);
		assert_int_equal(tsr_ra_test_check(fx->ra, fx->st, "t", nonce, again.der,
		    again.der_len, sig, sig_len, &res), 0);
		assert_false(res.good);
		assert_int_equal(res.signature, TSR_RA_CHECK_BAD);
		assert_int_equal(res.chain, TSR_RA_CHECK_GOOD);
		assert_int_equal(res.status, TSR_RA_CHECK_GOOD);
		/* Anyone may post a public certificate: without the key, the
		 * subscriber's kept result stays as it was. */
		assert_int_equal(tsr_store_app_get(fx->st, id, &rec), 0);
		assert_non_null(strstr(rec.last_test, "\"good\":true"));
		tsr_app_record_clear(&rec);
		/* Expired nonce. */
		assert_int_equal(tsr_ra_test_nonce(fx->ra, fx->st, nonce, &expires), 0);
		fx->now += TSR_RA_NONCE_SECONDS;
		assert_int_equal(tsr_ra_test_check(fx->ra, fx->st, "t", nonce, again.der,
		    again.der_len, sig, sig_len, &res), TSR_ERR_POLICY);
		fx->now -= TSR_RA_NONCE_SECONDS;
	}
	tsr_ra_issued_clear(&got);
	tsr_ra_issued_clear(&again);
	free(subject);
	X509_free(x);
	OPENSSL_free(csr);
	OPENSSL_free(csr2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void test_reject_withdraw(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record rec;
	char id[TSR_APP_ID_MAX + 1], id2[TSR_APP_ID_MAX + 1];

	reviewed_app(fx, id);
	assert_int_equal(tsr_ra_reject(fx->ra, fx->st, "alice", id, ""), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_reject(fx->ra, fx->st, "alice", id, NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_reject(fx->ra, fx->st, "carol", id, "no"), TSR_ERR_FORBIDDEN);
	assert_int_equal(tsr_ra_reject(fx->ra, fx->st, "alice", id, "the DEA registration has "
	    "expired"), 0);
	assert_int_equal(tsr_ra_app_get(fx->st, id, &rec), 0);
	assert_string_equal(rec.state, "rejected");
	assert_string_equal(rec.reason, "the DEA registration has expired");
	tsr_app_record_clear(&rec);
	assert_true(find_mail(fx, "outbox", id, "status", NULL, NULL, 0) >= 1);
	/* Final: nothing moves it any more. */
	assert_int_equal(tsr_ra_withdraw(fx->ra, fx->st, "t", id, NULL), TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", id, NULL, NULL, NULL),
	    TSR_ERR_POLICY);

	reviewed_app(fx, id2);
	assert_int_equal(tsr_ra_withdraw(fx->ra, fx->st, "t", id2, "found another CA"), 0);
	state_is(fx, id2, "withdrawn");
	assert_int_equal(tsr_ra_withdraw(fx->ra, fx->st, "t", id2, NULL), TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_withdraw(fx->ra, fx->st, "t", "AP-NONE-NONE-NONE", NULL),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_withdraw(fx->ra, fx->st, "t", "../etc", NULL), TSR_ERR_INVALID);
}

static void test_login_lock_reset(void **state)
{
	struct fx *fx = *state;
	const char *right[3] = { "rex the dog", "ELM   Street", " mrs smith " };
	const char *wrong[3] = { "rex", "elm street", "mrs smith" };
	char id[TSR_APP_ID_MAX + 1], token[TSR_SESSION_TOKEN_LEN], subject[80];
	char **q = NULL;
	size_t nq = 0;

	reviewed_app(fx, id);
	assert_int_equal(tsr_ra_applicant_session(fx->ra, fx->st, "t", id, PW, token, NULL), 0);
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)), 0);
	assert_memory_equal(subject, "applicant:", 10);
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", "AP-NONE-NONE-NONE", PW),
	    TSR_ERR_AUTH);

	assert_int_equal(tsr_ra_questions(fx->st, id, &q, &nq), 0);
	assert_int_equal(nq, 3);
	assert_string_equal(q[1], "Street you grew up on?");
	tsr_ra_questions_free(q, nq);

	/* Wrong answers count like wrong passwords. */
	assert_int_equal(tsr_ra_reset_password(fx->ra, fx->st, "t", id, wrong, 3, NEW_PW),
	    TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, "not it at all"),
	    TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, "still not it"),
	    TSR_ERR_AUTH);
	/* Locked: the right password gets the answer of a wrong one, so a
	 * guesser can neither go on nor spot the right guess. */
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, PW), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number or password");
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, "guess"), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong application number or password");
	assert_int_equal(tsr_ra_applicant_session(fx->ra, fx->st, "t", id, PW, token, NULL),
	    TSR_ERR_AUTH);
	assert_string_equal(token, "");
	assert_int_equal(tsr_ra_reset_password(fx->ra, fx->st, "t", id, right, 3, NEW_PW),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_unlock(fx->ra, fx->st, "alice", id, TSR_RA_UNLOCK_ACCOUNT), 0);
	assert_int_equal(tsr_ra_unlock(fx->ra, fx->st, "alice", id, TSR_RA_UNLOCK_ACCOUNT),
	    TSR_ERR_POLICY);

	/* A weak new password is refused before the answers count. */
	assert_int_equal(tsr_ra_reset_password(fx->ra, fx->st, "t", id, right, 3, "password"),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_reset_password(fx->ra, fx->st, "t", id, right, 2, NEW_PW),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_reset_password(fx->ra, fx->st, "t", id, right, 3, NEW_PW), 0);
	/* The reset ended the session and replaced the password. */
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)),
	    TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, PW), TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_applicant_login(fx->ra, fx->st, "t", id, NEW_PW), 0);
	assert_true(audited(fx, "application.lock", "success") >= 1);
	assert_true(audited(fx, "application.reset", "success") >= 1);
}

struct guess {
	struct fx *fx;
	const char *id, *password;
	char token[TSR_SESSION_TOKEN_LEN];
	int r;
};

/* One login attempt on a store connection of its own, as a server thread
 * makes it. */
static void *guess(void *arg)
{
	struct guess *g = arg;
	struct tsr_store *st = NULL;

	g->r = tsr_ra_store_acquire(g->fx->ra, &st);
	if (g->r == 0)
		g->r = tsr_ra_applicant_session(g->fx->ra, st, "http:192.0.2.9", g->id, g->password,
		    g->token, NULL);
	tsr_ra_store_release(g->fx->ra, st);
	return NULL;
}

static void test_parallel_guesses(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record rec;
	struct guess g[7];
	pthread_t t[7];
	char id[TSR_APP_ID_MAX + 1], subject[80];

	reviewed_app(fx, id);
	/* Six wrong guesses and the right password at once: every failure
	 * counts, whatever the order, so the account ends locked; a session
	 * the right one may have got is ended by the lock. */
	for (int i = 0; i < 7; i++) {
		g[i] = (struct guess){ .fx = fx, .id = id, .password = i == 3 ? PW : "a wrong guess" };
		assert_int_equal(pthread_create(&t[i], NULL, guess, &g[i]), 0);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 7; i++)
		if (i != 3)
			assert_int_equal(g[i].r, TSR_ERR_AUTH);
	assert_true(g[3].r == 0 || g[3].r == TSR_ERR_AUTH);
	assert_int_equal(tsr_store_app_get(fx->st, id, &rec), 0);
	assert_true(rec.locked);
	assert_int_equal(rec.failed_logins, 3);
	tsr_app_record_clear(&rec);
	if (g[3].r == 0)
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, g[3].token, subject,
		    sizeof(subject)), TSR_ERR_AUTH);
}

static void test_sessions(void **state)
{
	struct fx *fx = *state;
	char token[TSR_SESSION_TOKEN_LEN], subject[80];
	int64_t expires = 0;
	time_t saved = fx->now;

	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "alice", "wrong password x",
	    token, NULL), TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "alice", OFFICER_PW, token,
	    &expires), 0);
	assert_int_equal(strlen(token), 43);
	assert_int_equal(expires, (int64_t)fx->now + 12 * 3600);
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)), 0);
	assert_string_equal(subject, "officer:alice");
	/* Activity keeps it alive: 29 minutes at a time, up to 12 hours. */
	for (int i = 0; i < 24; i++) {
		fx->now += 29 * 60;
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject,
		    sizeof(subject)), 0);
	}
	fx->now = saved + 12 * 3600;
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)),
	    TSR_ERR_AUTH);
	/* Idle for 30 minutes ends a session. */
	fx->now = saved;
	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "bob", OFFICER_PW, token, NULL),
	    0);
	fx->now += 30 * 60;
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)),
	    TSR_ERR_AUTH);
	/* A new password, a disable, a lock end the officer's sessions. */
	fx->now = saved;
	{
		struct tsr_password_list *list = NULL;

		assert_int_equal(tsr_password_list_builtin(&list), 0);
		assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "bob", OFFICER_PW, token,
		    NULL), 0);
		assert_int_equal(tsr_ra_user_passwd(fx->st, list, "test", "bob", OFFICER_PW), 0);
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject,
		    sizeof(subject)), TSR_ERR_AUTH);
		assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "bob", OFFICER_PW, token,
		    NULL), 0);
		assert_int_equal(tsr_ra_user_disable(fx->st, "test", "bob"), 0);
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject,
		    sizeof(subject)), TSR_ERR_AUTH);
		assert_int_equal(tsr_ra_user_enable(fx->st, "test", "bob"), 0);
		/* Enabling again does not bring the old session back. */
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject,
		    sizeof(subject)), TSR_ERR_AUTH);
		tsr_password_list_free(list);
	}
	/* Log out. */
	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "bob", OFFICER_PW, token, NULL),
	    0);
	assert_int_equal(tsr_ra_session_end(fx->ra, fx->st, token), 0);
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)),
	    TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, "not-a-token", subject,
	    sizeof(subject)), TSR_ERR_AUTH);
	fx->now = saved;
}

/* A session described without moving its idle limit. */
static void test_session_info(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_session_info s;
	char token[TSR_SESSION_TOKEN_LEN], subject[80];
	time_t saved = fx->now;

	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "alice", OFFICER_PW, token,
	    NULL), 0);
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), 0);
	assert_string_equal(s.subject, "officer:alice");
	assert_int_equal(s.expires_at, (int64_t)saved + 12 * 3600);
	assert_int_equal(s.idle_expires_at, (int64_t)saved + 30 * 60);
	/* Asking does not keep it alive: still the first idle end, then gone. */
	fx->now += 29 * 60;
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), 0);
	assert_int_equal(s.idle_expires_at, (int64_t)saved + 30 * 60);
	fx->now += 60;
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)),
	    TSR_ERR_AUTH);
	/* A request does: the idle end moves with it. */
	fx->now = saved;
	assert_int_equal(tsr_ra_officer_login(fx->ra, fx->st, "t", "alice", OFFICER_PW, token,
	    NULL), 0);
	fx->now += 20 * 60;
	assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject, sizeof(subject)), 0);
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), 0);
	assert_int_equal(s.idle_expires_at, (int64_t)fx->now + 30 * 60);
	/* The idle end never passes the absolute end. */
	for (int i = 0; i < 24 && fx->now + 29 * 60 < saved + 12 * 3600; i++) {
		fx->now += 29 * 60;
		assert_int_equal(tsr_ra_session_check(fx->ra, fx->st, token, subject,
		    sizeof(subject)), 0);
	}
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), 0);
	assert_true(s.idle_expires_at <= s.expires_at);
	assert_int_equal(tsr_ra_session_end(fx->ra, fx->st, token), 0);
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, token, &s), TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_session_info(fx->ra, fx->st, "not-a-token", &s), TSR_ERR_AUTH);
	fx->now = saved;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

struct submit_hash {
	const char *id;
	char want[100];
	bool found;
};

static int submit_has_hash(const struct tsr_audit_record *r, void *ctx)
{
	struct submit_hash *h = ctx;

	h->found |= strcmp(r->action, "application.submit") == 0 &&
	    strstr(r->object, h->id) != NULL && strstr(r->detail, h->want) != NULL;
	return 0;
}

/* The agreement's text: tessera init's sample, its hash in the audit
 * record of an application; no file, an empty or a non-text file: no text
 * and no application. */
static void test_agreement(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a = epcs(fx);
	char *text = NULL, sha[65], path[160], away[170], id[TSR_APP_ID_MAX + 1], code[64];
	char link[160];
	static const char *const bad[] = { "", "a\0b", "caf\xe9" };
	static const size_t bad_len[] = { 0, 3, 4 };

	snprintf(path, sizeof(path), "%s/agreement.txt", fx->home);
	snprintf(away, sizeof(away), "%s.away", path);
	assert_int_equal(tsr_ra_agreement_text(fx->ra, &text, sha), 0);
	assert_non_null(strstr(text, "sole control"));
	assert_int_equal(strlen(sha), 64);
	free(text);
	/* The application records the text's hash; its mail links to the page. */
	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), 0);
	{
		struct submit_hash h = { .id = id };

		snprintf(h.want, sizeof(h.want), "text sha256 %s", sha);
		assert_int_equal(tsr_store_audit_iter(fx->st, submit_has_hash, &h), 0);
		assert_true(h.found);
	}
	verification_code(fx, id, code);
	assert_int_equal(find_mail(fx, "outbox", id, "verification", "  https://", link,
	    sizeof(link)), 1);
	{
		char want[100];

		snprintf(want, sizeof(want), "localhost:8443/verify-email?id=%s", id);
		assert_string_equal(link, want);
	}
	/* No text, no application. */
	assert_int_equal(rename(path, away), 0);
	assert_int_equal(tsr_ra_agreement_text(fx->ra, &text, sha), TSR_ERR_CONFIG);
	assert_null(text);
	a = epcs(fx);
	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), TSR_ERR_CONFIG);
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++) {
		write_file(path, bad[i], bad_len[i]);
		assert_int_equal(tsr_ra_agreement_text(fx->ra, &text, sha), TSR_ERR_CONFIG);
		assert_null(text);
	}
	assert_int_equal(rename(away, path), 0);
}

static void test_lapse(void **state)
{
	struct fx *fx = *state;
	struct tsr_ra_application a = epcs(fx);
	char id[TSR_APP_ID_MAX + 1], act[TSR_APP_ID_MAX + 1];
	time_t saved = fx->now;
	int lapsed = -1;

	assert_int_equal(tsr_ra_apply(fx->ra, fx->st, "t", &a, id), 0);
	reviewed_app(fx, act);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "alice", act, "YK-LAPSE-1", NULL, NULL), 0);
	assert_int_equal(tsr_ra_approve(fx->ra, fx->st, "bob", act, NULL, NULL, NULL), 0);
	state_is(fx, act, "activation_issued");

	/* One second short of 30 days: nothing lapses. */
	fx->now = saved + 30 * DAY - 1;
	assert_int_equal(tsr_ra_lapse_sweep(fx->ra, fx->st, "system", fx->now, &lapsed), 0);
	assert_int_equal(lapsed, 0);
	state_is(fx, id, "submitted");
	/* At 30 days the unverified one and the unused activation lapse, once. */
	fx->now = saved + 30 * DAY;
	assert_int_equal(tsr_ra_lapse_sweep(fx->ra, fx->st, "system", fx->now, &lapsed), 0);
	assert_true(lapsed >= 2);
	state_is(fx, id, "lapsed");
	state_is(fx, act, "lapsed");
	assert_int_equal(tsr_ra_lapse_sweep(fx->ra, fx->st, "system", fx->now, &lapsed), 0);
	assert_int_equal(lapsed, 0);
	fx->now = saved;
}

static void test_duplicates(void **state)
{
	struct fx *fx = *state;
	struct tsr_app_record rec;
	char first[TSR_APP_ID_MAX + 1], second[TSR_APP_ID_MAX + 1];

	reviewed_app(fx, first);
	reviewed_app(fx, second);
	assert_int_equal(tsr_ra_app_get(fx->st, second, &rec), 0);
	assert_non_null(strstr(rec.checks, "\"duplicates\":[{"));
	assert_non_null(strstr(rec.checks, first));
	assert_non_null(strstr(rec.checks, "\"field\":\"npi\""));
	assert_non_null(strstr(rec.checks, "\"field\":\"identity\""));
	tsr_app_record_clear(&rec);
}

/* No password, answer or hash ever reaches the audit log. */
static int no_secret(const struct tsr_audit_record *r, void *ctx)
{
	const char *secrets[] = { PW, NEW_PW, OFFICER_PW, "Rex", "rex the dog", "$argon2id" };

	(void)ctx;
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_null(strstr(r->detail, secrets[i]));
		assert_null(strstr(r->object, secrets[i]));
	}
	return 0;
}

static void test_audit_clean(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;

	/* Everything above left an intact chain. */
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_true(rep.records > 50);
	assert_int_equal(tsr_store_audit_iter(fx->st, no_secret, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_and_verify),
		cmocka_unit_test(test_apply_refusals),
		cmocka_unit_test(test_verifier_fail),
		cmocka_unit_test(test_code_lock_and_expiry),
		cmocka_unit_test(test_dual_control),
		cmocka_unit_test(test_retrieve),
		cmocka_unit_test(test_reject_withdraw),
		cmocka_unit_test(test_login_lock_reset),
		cmocka_unit_test(test_parallel_guesses),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_session_info),
		cmocka_unit_test(test_agreement),
		cmocka_unit_test(test_lapse),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_audit_clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
