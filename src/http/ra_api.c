/*
 * ra_api.c - the enrollment workflow over HTTP: applying, email
 * verification, sessions, status, withdrawal, password reset, the RA
 * officers' queue and decisions; and certificate status: officers revoke,
 * suspend and resume, subscribers revoke or suspend their own
 * (src/ra/subscriber.c holds who may).
 *
 * Each handler decides who may ask, takes a store connection from the
 * workflow's pool (app->ctx is the struct tsr_ra), calls the ra layer
 * (src/ra/app.h), which holds every rule and audits, and shapes the answer.
 *
 * Secrets in request bodies (passwords, answers, codes) go to the ra layer
 * straight from the parsed body and are never copied here; jansson's
 * blocks and the response bodies are wiped when freed (server.c).  The only
 * secret a response ever holds is a new session's token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/http.h"
#include "ra/admin.h"
#include "ra/app.h"
#include "ra/retrieve.h"
#include "ra/secret.h"

_Static_assert(TSR_SESSION_TOKEN_LEN == TSR_HTTP_BEARER_CHARS + 1,
    "the HTTP layer's bearer tokens are the ra layer's session tokens");

#define QUEUE_LIMIT_DEFAULT 100
#define QUEUE_LIMIT_MAX 1000
#define TEXT_MAX 1000            /* free text: reasons and comments (TSR_RA_REASON_MAX bytes) */
#define SECRET_MAX 256           /* passwords and answers (TSR_SECRET_MAX_BYTES bytes) */
#define CERT_PEM_MAX 16384       /* a PEM certificate (as Test My Certificate takes it) */
#define SIG_B64_MAX 1024         /* base64 of a signature (RSA-4096: 684 characters) */

/* ------------------------------------------------------------------ request schemas */

static const struct tsr_json_field applicant_fields[] = {
	{ .name = "given_name", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 64 },
	{ .name = "family_name", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 64 },
	{ .name = "email", .type = TSR_JSON_STRING, .min_len = 3, .max_len = 254 },
	{ .name = "address", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 300,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = "date_of_birth", .type = TSR_JSON_STRING, .min_len = 10, .max_len = 10 },
	{ .name = "npi", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 16 },
	{ .name = "dea", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 16 },
	{ .name = "organization", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 128 },
	{ .name = "phone", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 32 },
	{ .name = "domain", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 253 },
	{ .name = NULL },
};

static const struct tsr_json_field question_fields[] = {
	{ .name = "question", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TSR_QUESTION_MAX },
	{ .name = "answer", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = SECRET_MAX },
	{ .name = NULL },
};

static const struct tsr_json_field question_item = { .name = "question",
	.type = TSR_JSON_OBJECT, .fields = question_fields };

static const struct tsr_json_field application_body[] = {
	{ .name = "product", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 64 },
	{ .name = "storage", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 16 },
	{ .name = "agreement", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 64 },
	{ .name = "password", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = SECRET_MAX },
	{ .name = "voucher", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 64 },
	{ .name = "applicant", .type = TSR_JSON_OBJECT, .required = true,
	    .fields = applicant_fields },
	{ .name = "questions", .type = TSR_JSON_ARRAY, .required = true,
	    .min_len = TSR_RA_ANSWERS_MIN, .max_len = TSR_RA_ANSWERS_MAX, .item = &question_item },
	{ .name = NULL },
};

static const struct tsr_json_field code_body[] = {
	{ .name = "code", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 64 },
	{ .name = NULL },
};

/* The applicant's sign-in: a password, and for browsers "cookie": true
 * (docs/web.md). */
static const struct tsr_json_field password_body[] = {
	{ .name = "password", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = SECRET_MAX },
	{ .name = "cookie", .type = TSR_JSON_BOOL },
	{ .name = NULL },
};

static const struct tsr_json_field login_body[] = {
	{ .name = "user", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TSR_USER_NAME_MAX },
	{ .name = "password", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = SECRET_MAX },
	{ .name = "cookie", .type = TSR_JSON_BOOL },
	{ .name = NULL },
};

static const struct tsr_json_field withdrawal_body[] = {
	{ .name = "reason", .type = TSR_JSON_STRING, .min_len = 1, .max_len = TEXT_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

static const struct tsr_json_field answer_item = { .name = "answer", .type = TSR_JSON_STRING,
	.min_len = 1, .max_len = SECRET_MAX };

static const struct tsr_json_field reset_body[] = {
	{ .name = "answers", .type = TSR_JSON_ARRAY, .required = true,
	    .min_len = TSR_RA_ANSWERS_MIN, .max_len = TSR_RA_ANSWERS_MAX, .item = &answer_item },
	{ .name = "new_password", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = SECRET_MAX },
	{ .name = NULL },
};

static const struct tsr_json_field approval_body[] = {
	{ .name = "token_serial", .type = TSR_JSON_STRING, .min_len = 1,
	    .max_len = TSR_TOKEN_SERIAL_MAX },
	{ .name = "comment", .type = TSR_JSON_STRING, .min_len = 1, .max_len = TEXT_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

static const struct tsr_json_field rejection_body[] = {
	{ .name = "reason", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TEXT_MAX, .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

static const struct tsr_json_field token_body[] = {
	{ .name = "serial", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = TSR_TOKEN_SERIAL_MAX },
	{ .name = NULL },
};

static const struct tsr_json_field unlock_body[] = {
	{ .name = "what", .type = TSR_JSON_STRING, .required = true, .min_len = 1, .max_len = 16 },
	{ .name = NULL },
};

/* Certificate status: officers. */
static const struct tsr_json_field cert_revoke_body[] = {
	{ .name = "reason", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 32 },
	{ .name = "invalidity_date", .type = TSR_JSON_STRING, .min_len = 10, .max_len = 20 },
	{ .name = "comment", .type = TSR_JSON_STRING, .min_len = 1, .max_len = TEXT_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

static const struct tsr_json_field cert_hold_body[] = {
	{ .name = "comment", .type = TSR_JSON_STRING, .min_len = 1, .max_len = TEXT_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = NULL },
};

/* Certificate status: subscribers. */
static const struct tsr_json_field revocation_nonce_body[] = {
	{ .name = "action", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 16 },
	{ .name = "reason", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 32 },
	{ .name = NULL },
};

static const struct tsr_json_field subscriber_revocation_body[] = {
	{ .name = "action", .type = TSR_JSON_STRING, .required = true, .min_len = 1,
	    .max_len = 16 },
	{ .name = "reason", .type = TSR_JSON_STRING, .min_len = 1, .max_len = 32 },
	/* the account's secrets */
	{ .name = "application", .type = TSR_JSON_STRING, .min_len = 1,
	    .max_len = TSR_APP_ID_MAX },
	{ .name = "password", .type = TSR_JSON_STRING, .min_len = 1, .max_len = SECRET_MAX },
	{ .name = "question", .type = TSR_JSON_INT, .min = 1, .max = TSR_RA_ANSWERS_MAX },
	{ .name = "answer", .type = TSR_JSON_STRING, .min_len = 1, .max_len = SECRET_MAX },
	/* or a signature with the certificate's key */
	{ .name = "nonce", .type = TSR_JSON_STRING, .min_len = 1, .max_len = TSR_NONCE_MAX },
	{ .name = "certificate", .type = TSR_JSON_STRING, .min_len = 1, .max_len = CERT_PEM_MAX,
	    .flags = TSR_JSON_MULTILINE },
	{ .name = "signature", .type = TSR_JSON_STRING, .min_len = 1, .max_len = SIG_B64_MAX },
	{ .name = NULL },
};

static const char *const queue_query[] = { "state", "product", "q", "limit", NULL };

#define QUEUE_TEXT_MAX 64        /* characters of the queue's text search */

/* ------------------------------------------------------------------ helpers */

static int nomem(void)
{
	return tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static const char *body_str(const struct tsr_http_request *req, const char *key)
{
	return json_string_value(json_object_get(req->body, key));
}

/* The id of the first application listed (ctx: TSR_APP_ID_MAX + 1 bytes). */
static int first_app_id(const struct tsr_app_record *a, void *ctx)
{
	snprintf(ctx, TSR_APP_ID_MAX + 1, "%s", a->id);
	return 1;
}

/* The next step of a as the applicant reads it. */
static const char *next_of(const struct tsr_app_record *a)
{
	enum tsr_app_state s;

	if (tsr_app_state_parse(a->state, &s) != 0)
		return "Contact the registration authority.";
	return tsr_ra_next_step(s, a->storage);
}

/* See http.h. */
int tsr_http_with_store(const struct tsr_http_request *req, struct tsr_http_response *res,
    tsr_http_store_fn fn)
{
	struct tsr_ra *ra = req->app->ctx;
	struct tsr_store *st = NULL;
	int r;

	if (ra == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	if ((r = tsr_ra_store_acquire(ra, &st)) != 0)
		return r;
	r = fn(req, ra, st, res);
	tsr_ra_store_release(ra, st);
	return r;
}

/* The part of the session's subject after prefix, or NULL. */
static const char *subject_of(const struct tsr_http_request *req, const char *prefix)
{
	size_t n = strlen(prefix);

	if (req->actor == NULL || strncmp(req->actor, prefix, n) != 0 || req->actor[n] == '\0')
		return NULL;
	return req->actor + n;
}

/* The applicant of id and nobody else.  Another applicant is told what a
 * missing id would tell (ra.c's words), so that sessions do not probe ids. */
static int require_applicant(const struct tsr_http_request *req, const char *id)
{
	const char *own = subject_of(req, TSR_SESSION_PREFIX_APPLICANT);

	if (own != NULL && strcmp(own, id) == 0)
		return 0;
	if (own != NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "there is no application %s", id);
	return tsr_error(TSR_ERR_FORBIDDEN, "only the applicant can do this, with a session "
	    "of this application");
}

/* An officer's session; the ra layer checks the officer's account and role. */
static int require_officer(const struct tsr_http_request *req, const char **name)
{
	if ((*name = subject_of(req, TSR_SESSION_PREFIX_OFFICER)) == NULL)
		return tsr_error(TSR_ERR_FORBIDDEN, "this needs a registration officer's session");
	return 0;
}

int tsr_http_officer_name(const struct tsr_http_request *req, const char **name)
{
	return require_officer(req, name);
}

/* {id, state, next} of application id as it is now. */
static int status_of(struct tsr_store *st, const char *id, json_t **out)
{
	struct tsr_app_record a;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = tsr_ra_app_get(st, id, &a)) != 0)
		return r;
	*out = json_pack("{s:o, s:o, s:s}", "id", tsr_json_text(a.id), "state", tsr_json_text(a.state),
	    "next", next_of(&a));
	tsr_app_record_clear(&a);
	return *out != NULL ? 0 : nomem();
}

/* ------------------------------------------------------------------ application views */

/* Stored JSON text (written by the ra layer) as a value into *out, or NULL
 * if it is not JSON even once repaired as tsr_json_text() repairs text; 0, or
 * TSR_ERR_NOMEM. */
static int load_repaired(const char *text, json_t **out)
{
	char *copy;

	*out = NULL;
	if (text == NULL || (*out = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) != NULL)
		return 0;
	if ((copy = tsr_utf8_repaired(text)) == NULL)
		return nomem();
	*out = json_loads(copy, JSON_REJECT_DUPLICATES, NULL);
	free(copy);
	return 0;
}

static int stored_json(const char *id, const char *what, const char *text, json_t **out)
{
	int r;

	if ((r = load_repaired(text, out)) != 0)
		return r;
	if (*out == NULL)
		return tsr_error(TSR_ERR_STORE, "application %s holds malformed %s", id, what);
	return 0;
}

static int approvals_json(struct tsr_store *st, const char *id, json_t **out, size_t *count)
{
	struct tsr_approval_record *v = NULL;
	size_t n = 0;
	int r;

	*out = NULL;
	if ((r = tsr_ra_approvals(st, id, &v, &n)) != 0)
		return r;
	if ((*out = json_array()) == NULL)
		r = nomem();
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *one = json_pack("{s:o, s:o}", "officer", tsr_json_text(v[i].officer), "at",
		    tsr_json_time(v[i].at));

		if (one == NULL)
			r = nomem();
		else if (v[i].comment != NULL && v[i].comment[0] != '\0')
			r = tsr_json_set(one, "comment", tsr_json_text(v[i].comment));
		if (r != 0)
			json_decref(one);
		else if (json_array_append_new(*out, one) != 0)
			r = nomem();
	}
	tsr_ra_approvals_free(v, n);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	*count = n;
	return r;
}

/* What only officers see: the applicant's data, checks and approvals. */
static int officer_fields(struct tsr_ra *ra, struct tsr_store *st,
    const struct tsr_app_record *a, json_t *v)
{
	const struct tsr_product *p = tsr_product_find(&tsr_ra_config(ra)->products, a->product);
	json_t *applicant = NULL, *checks = NULL, *approvals = NULL;
	size_t n;
	int r;

	if ((r = stored_json(a->id, "applicant data", a->applicant, &applicant)) != 0 ||
	    (r = tsr_json_set(v, "applicant", applicant)) != 0)
		return r;
	if (a->checks != NULL && a->checks[0] != '\0' &&
	    ((r = stored_json(a->id, "checks", a->checks, &checks)) != 0 ||
	    (r = tsr_json_set(v, "checks", checks)) != 0))
		return r;
	if ((r = approvals_json(st, a->id, &approvals, &n)) != 0 ||
	    (r = tsr_json_set(v, "approvals", approvals)) != 0)
		return r;
	if ((r = tsr_json_set(v, "email", tsr_json_text(a->email))) != 0 ||
	    (r = tsr_json_set(v, "agreement", tsr_json_text(a->agreement))) != 0 ||
	    (r = tsr_json_set(v, "updated_at", tsr_json_time(a->updated_at))) != 0 ||
	    (r = tsr_json_set(v, "approvals_required", json_integer(p ? p->ra_approvals : 0))) != 0 ||
	    (r = tsr_json_set(v, "locked", json_boolean(a->locked))) != 0 ||
	    (r = tsr_json_set(v, "failed_logins", json_integer(a->failed_logins))) != 0)
		return r;
	return tsr_json_set(v, "code_locked", json_boolean(
	    tsr_ra_code_locked(st, a->id, TSR_CODE_VERIFICATION) ||
	    tsr_ra_code_locked(st, a->id, TSR_CODE_ACTIVATION)));
}

/* Application id as its applicant (officer false) or an officer sees it. */
static int app_view(struct tsr_ra *ra, struct tsr_store *st, const char *id, bool officer,
    json_t **out)
{
	struct tsr_app_record a;
	json_t *v = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	*out = NULL;
	if ((r = tsr_ra_app_get(st, id, &a)) != 0)
		return r;
	v = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "id", tsr_json_text(a.id), "product",
	    tsr_json_text(a.product), "storage", tsr_json_text(a.storage), "state", tsr_json_text(a.state),
	    "state_since", tsr_json_time(a.state_since), "created_at", tsr_json_time(a.created_at),
	    "next", next_of(&a));
	if (v == NULL)
		r = nomem();
	if (r == 0 && a.reason != NULL && a.reason[0] != '\0')
		r = tsr_json_set(v, "reason", tsr_json_text(a.reason));
	if (r == 0 && a.token_serial[0] != '\0')
		r = tsr_json_set(v, "token_serial", tsr_json_text(a.token_serial));
	if (r == 0 && a.cert_serial[0] != '\0')
		r = tsr_json_set(v, "certificate_serial", tsr_json_text(a.cert_serial));
	/* The last "test my certificate" of its newest certificate (testcert.c
	 * keeps it for the Test My Certificate page). */
	if (r == 0 && a.last_test != NULL && a.last_test[0] != '\0') {
		json_t *t = NULL;

		if ((r = stored_json(a.id, "test result", a.last_test, &t)) == 0)
			r = tsr_json_set(v, "last_test", t);
	}
	if (r == 0 && officer)
		r = officer_fields(ra, st, &a, v);
	tsr_app_record_clear(&a);
	if (r != 0) {
		json_decref(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ applying */

static void fill_applicant(const json_t *o, struct tsr_ra_application *a)
{
#define FIELD(name) a->name = json_string_value(json_object_get(o, #name))
	FIELD(given_name);
	FIELD(family_name);
	FIELD(email);
	FIELD(address);
	FIELD(date_of_birth);
	FIELD(npi);
	FIELD(dea);
	FIELD(organization);
	FIELD(phone);
	FIELD(domain);
#undef FIELD
}

/* What happens next to a new application, added to its answer v: when its
 * verification code expires and the days it has to verify the address
 * before it lapses.  Best effort: the application stands anyway. */
static void deadlines(struct tsr_ra *ra, struct tsr_store *st, const char *id, json_t *v)
{
	const struct tsr_config *cfg = tsr_ra_config(ra);
	struct tsr_code_record c;
	struct tsr_app_record a;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	if (tsr_store_code_current(st, id, TSR_CODE_VERIFICATION, &c) == 0)
		(void)tsr_json_set(v, "code_expires_at", tsr_json_time(c.expires_at));
	tsr_wipe(&c, sizeof(c));
	(void)tsr_json_set(v, "email_days", json_integer(cfg->ra.email_days));
	if (tsr_ra_app_get(st, id, &a) == 0)
		(void)tsr_json_set(v, "lapses_at", tsr_json_time(a.created_at +
		    (int64_t)cfg->ra.email_days * 86400));
	tsr_app_record_clear(&a);
	tsr_error_clear();
}

static int do_apply(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	struct tsr_ra_answer answers[TSR_RA_ANSWERS_MAX];
	struct tsr_ra_application a;
	const json_t *questions = json_object_get(req->body, "questions"), *q;
	char id[TSR_APP_ID_MAX + 1];
	size_t i;
	int r;

	memset(&a, 0, sizeof(a));
	a.product = body_str(req, "product");
	a.storage = body_str(req, "storage");
	a.agreement = body_str(req, "agreement");
	a.password = body_str(req, "password");
	a.voucher = body_str(req, "voucher");
	fill_applicant(json_object_get(req->body, "applicant"), &a);
	json_array_foreach(questions, i, q) {
		if (i == TSR_RA_ANSWERS_MAX)
			break;
		answers[i].question = json_string_value(json_object_get(q, "question"));
		answers[i].answer = json_string_value(json_object_get(q, "answer"));
		a.n_answers = i + 1;
	}
	a.answers = answers;
	if ((r = tsr_ra_apply(ra, st, req->client, &a, id)) != 0)
		return r;
	/* Stored and mailed: the answer must not fail now, or the applicant
	 * would apply again (and spend another voucher). */
	res->json = json_pack("{s:s, s:s, s:s}", "id", id, "state",
	    tsr_app_state_name(TSR_APP_SUBMITTED), "next",
	    tsr_ra_next_step(TSR_APP_SUBMITTED, a.storage));
	if (res->json == NULL)
		return nomem();
	deadlines(ra, st, id, res->json);
	return 0;
}

static int post_application(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_apply);
}

static int get_agreement(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	const char *v = req->app->cfg ? req->app->cfg->ra.agreement_version : NULL;
	char *text = NULL, sha256[65];
	int r;

	if (v == NULL)
		return tsr_error(TSR_ERR_CONFIG, "no subscriber agreement version is configured");
	if (req->app->ctx == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the server runs without the workflow");
	if ((r = tsr_ra_agreement_text(req->app->ctx, &text, sha256)) != 0)
		return r;
	res->json = json_pack("{s:s, s:s, s:s}", "version", v, "text", text, "sha256", sha256);
	free(text);
	return res->json ? 0 : nomem();
}

static int do_verify_email(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id");
	int r;

	if ((r = tsr_ra_verify_email(ra, st, req->client, id, body_str(req, "code"))) != 0)
		return r;
	return status_of(st, id, &res->json);
}

static int post_email_verification(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_verify_email);
}

static int do_resend(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id");
	int r;

	if ((r = require_applicant(req, id)) != 0 ||
	    (r = tsr_ra_resend_verification(ra, st, req->actor, id)) != 0)
		return r;
	return status_of(st, id, &res->json);
}

static int post_verification_code(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_resend);
}

static int do_withdraw(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id");
	int r;

	if ((r = require_applicant(req, id)) != 0 ||
	    (r = tsr_ra_withdraw(ra, st, req->actor, id, body_str(req, "reason"))) != 0)
		return r;
	return status_of(st, id, &res->json);
}

static int post_withdrawal(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_withdraw);
}

/* ------------------------------------------------------------------ reading */

/* Its applicant, or an officer who may review; *officer says which. */
static int may_read(const struct tsr_http_request *req, struct tsr_store *st, const char *id,
    bool *officer)
{
	const char *name = subject_of(req, TSR_SESSION_PREFIX_OFFICER);

	*officer = name != NULL;
	if (name != NULL)
		return tsr_ra_officer_check(st, name, TSR_ROLE_RA_OFFICER);
	return require_applicant(req, id);
}

static int do_get_application(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id");
	bool officer = false;
	int r;

	if ((r = may_read(req, st, id, &officer)) != 0)
		return r;
	return app_view(ra, st, id, officer, &res->json);
}

static int get_application(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_get_application);
}

/* ------------------------------------------------------------------ password reset */

static int do_questions(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char **q = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	(void)ra;
	if ((r = tsr_ra_questions(st, tsr_http_param(req, "id"), &q, &n)) != 0)
		return r;
	if ((a = json_array()) == NULL)
		r = nomem();
	for (size_t i = 0; r == 0 && i < n; i++)
		if (json_array_append_new(a, tsr_json_text(q[i])) != 0)
			r = nomem();
	tsr_ra_questions_free(q, n);
	if (r == 0 && (res->json = json_pack("{s:o}", "questions", a)) == NULL)
		return nomem();
	if (r != 0)
		json_decref(a);
	return r;
}

static int get_questions(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_questions);
}

static int do_reset(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const json_t *list = json_object_get(req->body, "answers"), *v;
	const char *answers[TSR_RA_ANSWERS_MAX];
	const char *id = tsr_http_param(req, "id");
	size_t i, n = 0;
	int r;

	json_array_foreach(list, i, v) {
		if (i == TSR_RA_ANSWERS_MAX)
			break;
		answers[i] = json_string_value(v);
		n = i + 1;
	}
	if ((r = tsr_ra_reset_password(ra, st, req->client, id, answers, n,
	    body_str(req, "new_password"))) != 0)
		return r;
	return status_of(st, id, &res->json);
}

static int post_password_reset(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_reset);
}

/* ------------------------------------------------------------------ sessions */

/* Cookie attributes (docs/web.md): the session's is out of scripts' reach;
 * the CSRF value is for the page's script to send back in a header. */
#define SESSION_COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Strict"
#define CSRF_COOKIE_ATTRS "; Path=/; Secure; SameSite=Strict"

/* A browser's session: both cookies set, and {csrf, expires_at}. */
static int session_cookies(const struct tsr_http_request *req, const char *token,
    int64_t expires_at, struct tsr_http_response *res)
{
	char csrf[TSR_SESSION_TOKEN_LEN];
	int n, m, r;

	if ((r = tsr_ra_session_csrf(req->app->ctx, token, csrf)) != 0)
		return r;
	n = snprintf(res->text, sizeof(res->text), TSR_HTTP_SESSION_COOKIE "=%s"
	    SESSION_COOKIE_ATTRS, token);
	m = snprintf(res->text + n + 1, sizeof(res->text) - (size_t)n - 1,
	    TSR_HTTP_CSRF_COOKIE "=%s" CSRF_COOKIE_ATTRS, csrf);
	if (n < 0 || m < 0 || (size_t)n + 1 + (size_t)m >= sizeof(res->text)) {
		tsr_wipe(csrf, sizeof(csrf));
		return tsr_error(TSR_ERR_INTERNAL, "the session cookies do not fit");
	}
	res->headers[0] = (struct tsr_http_header){ "Set-Cookie", res->text };
	res->headers[1] = (struct tsr_http_header){ "Set-Cookie", res->text + n + 1 };
	res->n_headers = 2;
	res->json = json_pack("{s:s, s:o}", "csrf", csrf, "expires_at", tsr_json_time(expires_at));
	tsr_wipe(csrf, sizeof(csrf));
	return res->json != NULL ? 0 : nomem();
}

/* {token, expires_at}, or with "cookie": true the cookies and {csrf,
 * expires_at}; the token is wiped from our memory once copied. */
static int session_answer(const struct tsr_http_request *req, char token[TSR_SESSION_TOKEN_LEN],
    int64_t expires_at, struct tsr_http_response *res)
{
	int r = 0;

	if (json_is_true(json_object_get(req->body, "cookie")))
		r = session_cookies(req, token, expires_at, res);
	else if ((res->json = json_pack("{s:s, s:o}", "token", token, "expires_at",
	    tsr_json_time(expires_at))) == NULL)
		r = nomem();
	tsr_wipe(token, TSR_SESSION_TOKEN_LEN);
	return r;
}

static int do_applicant_session(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char token[TSR_SESSION_TOKEN_LEN];
	int64_t expires_at = 0;
	int r;

	if ((r = tsr_ra_applicant_session(ra, st, req->client, tsr_http_param(req, "id"),
	    body_str(req, "password"), token, &expires_at)) != 0)
		return r;
	return session_answer(req, token, expires_at, res);
}

static int post_applicant_session(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_applicant_session);
}

static int do_officer_session(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char token[TSR_SESSION_TOKEN_LEN];
	int64_t expires_at = 0;
	int r;

	if ((r = tsr_ra_officer_login(ra, st, req->client, body_str(req, "user"),
	    body_str(req, "password"), token, &expires_at)) != 0)
		return r;
	return session_answer(req, token, expires_at, res);
}

static int post_officer_session(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_officer_session);
}

static int do_end_session(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char token[TSR_HTTP_BEARER_CHARS + 1];
	int r;

	if (req->session_cookie != NULL)
		r = tsr_ra_session_end(ra, st, req->session_cookie);
	else if ((r = tsr_http_bearer(req->authorization, token)) == 0)
		r = tsr_ra_session_end(ra, st, token);
	tsr_wipe(token, sizeof(token));
	if (r != 0)
		return r;
	/* A browser forgets both cookies (harmless for other clients). */
	res->headers[0] = (struct tsr_http_header){ "Set-Cookie", TSR_HTTP_SESSION_COOKIE "=; "
	    "Max-Age=0" SESSION_COOKIE_ATTRS };
	res->headers[1] = (struct tsr_http_header){ "Set-Cookie", TSR_HTTP_CSRF_COOKIE "=; "
	    "Max-Age=0" CSRF_COOKIE_ATTRS };
	res->n_headers = 2;
	res->json = json_pack("{s:b}", "ended", 1);
	return res->json ? 0 : nomem();
}

static int delete_session(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_end_session);
}

/* "Who am I": the route is not TSR_HTTP_AUTH, because the server's check
 * moves the session's idle limit and this must not (a page polling it would
 * keep a session alive for ever).  So the credentials are read here, in the
 * server's order (the Authorization header, else the tsr_session cookie),
 * and looked at with tsr_ra_session_info(), which moves nothing.  Refusals
 * are the server's own 401 unauthenticated. */
static int unauthenticated(const struct tsr_http_request *req, struct tsr_http_response *res,
    const char *detail)
{
	json_t *doc = tsr_problem_from_refusal(TSR_HTTP_UNAUTHENTICATED, detail, req->path,
	    &res->status);
	char *text = NULL;
	size_t len = 0;
	int r;

	if (doc == NULL)
		return nomem();
	r = tsr_json_encode(doc, &text, &len);
	json_decref(doc);
	if (r != 0)
		return r;
	res->raw = (uint8_t *)text;
	res->raw_len = len;
	res->content_type = "application/problem+json";
	return 0;
}

/* The officer's name, display name and roles into v; TSR_ERR_AUTH if the
 * account cannot act (gone, disabled, locked: its sessions are ending). */
static int officer_json(struct tsr_store *st, const char *name, json_t *v)
{
	struct tsr_user_record u;
	json_t *roles = NULL;
	char *list, *p, *save = NULL;
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = tsr_store_user_get(st, name, &u)) == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_AUTH, "no such officer");
	if (r != 0)
		return r;
	if (u.disabled || u.locked) {
		r = tsr_error(TSR_ERR_AUTH, "the account is %s", u.disabled ? "disabled" :
		    "locked");
		tsr_user_record_clear(&u);
		return r;
	}
	if ((roles = json_array()) == NULL || (list = strdup(u.roles)) == NULL) {
		json_decref(roles);
		tsr_user_record_clear(&u);
		return nomem();
	}
	for (p = strtok_r(list, ",", &save); r == 0 && p != NULL; p = strtok_r(NULL, ",", &save))
		if (json_array_append_new(roles, json_string(p)) != 0)
			r = nomem();
	free(list);
	if (r != 0)
		json_decref(roles);
	else if ((r = tsr_json_set(v, "roles", roles)) == 0 && u.display_name != NULL &&
	    u.display_name[0] != '\0')
		r = tsr_json_set(v, "display_name", tsr_json_text(u.display_name));
	tsr_user_record_clear(&u);
	return r;
}

static int session_view(struct tsr_store *st, const struct tsr_ra_session_info *s,
    json_t **out)
{
	const char *officer = NULL, *app = NULL;
	size_t no = strlen(TSR_SESSION_PREFIX_OFFICER), na = strlen(TSR_SESSION_PREFIX_APPLICANT);
	json_t *v;
	int r;

	if (strncmp(s->subject, TSR_SESSION_PREFIX_OFFICER, no) == 0)
		officer = s->subject + no;
	else if (strncmp(s->subject, TSR_SESSION_PREFIX_APPLICANT, na) == 0)
		app = s->subject + na;
	else
		return tsr_error(TSR_ERR_AUTH, "a session of an unknown kind");
	v = json_pack("{s:s, s:o, s:o}", "kind", officer ? "officer" : "applicant",
	    "expires_at", tsr_json_time(s->expires_at), "idle_expires_at",
	    tsr_json_time(s->idle_expires_at));
	if (v == NULL)
		return nomem();
	if (officer != NULL && (r = tsr_json_set(v, "name", tsr_json_text(officer))) == 0)
		r = officer_json(st, officer, v);
	else if (officer == NULL)
		r = tsr_json_set(v, "application", tsr_json_text(app));
	if (r != 0) {
		json_decref(v);
		return r;
	}
	*out = v;
	return 0;
}

static int do_current_session(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char token[512] = "";      /* room for a malformed cookie, refused as 401 */
	struct tsr_ra_session_info s;
	const char *auth = NULL, *cookie = NULL;
	int r;

	if ((r = tsr_http_header(req, "Authorization", &auth)) != 0)
		return r;
	if (auth != NULL) {
		r = tsr_http_bearer(auth, token);
	} else {
		if ((r = tsr_http_header(req, "Cookie", &cookie)) != 0)
			return r;
		r = tsr_http_cookie(cookie, TSR_HTTP_SESSION_COOKIE, token, sizeof(token));
	}
	if (r == 0)
		r = tsr_ra_session_info(ra, st, token, &s);
	tsr_wipe(token, sizeof(token));
	if (r == 0)
		r = session_view(st, &s, &res->json);
	if (r == TSR_ERR_AUTH || r == TSR_ERR_NOT_FOUND) {
		json_decref(res->json);
		res->json = NULL;
		tsr_error_clear();
		return unauthenticated(req, res, "missing or invalid credentials");
	}
	return r;
}

static int get_current_session(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_current_session);
}

/* ------------------------------------------------------------------ the queue */

struct queue {
	json_t *list;
	int r;
	const char *text;         /* the text search (q), or NULL */
	unsigned limit;           /* stop after this many matches when searching */
	unsigned n;
};

/* Whether hay contains needle, ASCII letters in any case. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay != NULL && *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* Whether queue entry v matches the text search. */
static bool queue_match(const json_t *v, const char *text)
{
	static const char *const keys[] = { "id", "name", "email", "token_serial" };

	for (size_t i = 0; i < TSR_ARRAY_LEN(keys); i++)
		if (contains_ci(json_string_value(json_object_get(v, keys[i])), text))
			return true;
	return false;
}

/* "Given Family" from the stored applicant fields ("" if there are none), as
 * a JSON string whole however long the names are; NULL when out of memory. */
static json_t *applicant_name(const char *text)
{
	const char *given, *family;
	json_t *v = NULL, *name = NULL;
	char *s = NULL;

	if (load_repaired(text, &v) != 0)
		return NULL;
	given = json_string_value(json_object_get(v, "given_name"));
	family = json_string_value(json_object_get(v, "family_name"));
	if (asprintf(&s, "%s%s%s", given ? given : "", given && family ? " " : "",
	    family ? family : "") >= 0) {
		name = tsr_json_text(s);
		free(s);
	}
	json_decref(v);
	return name;
}

static int queue_item(const struct tsr_app_record *a, void *ctx)
{
	struct queue *q = ctx;
	json_t *v;

	/* "o" takes every reference, even when json_pack fails: only memory can
	 * make it fail, as every value is a JSON value already. */
	v = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "id", tsr_json_text(a->id),
	    "product", tsr_json_text(a->product), "storage", tsr_json_text(a->storage), "state",
	    tsr_json_text(a->state), "state_since", tsr_json_time(a->state_since), "created_at",
	    tsr_json_time(a->created_at), "name", applicant_name(a->applicant), "email",
	    tsr_json_text(a->email), "locked", a->locked);
	if (v != NULL && a->token_serial[0] != '\0' &&
	    json_object_set_new(v, "token_serial", tsr_json_text(a->token_serial)) != 0) {
		json_decref(v);
		v = NULL;
	}
	if (v != NULL && q->text != NULL && !queue_match(v, q->text)) {
		json_decref(v);
		return 0;
	}
	if (v == NULL || json_array_append_new(q->list, v) != 0) {
		q->r = nomem();
		return 1;
	}
	/* Searching lists without the store's limit: stop at the limit here. */
	return q->text != NULL && ++q->n >= q->limit ? 1 : 0;
}

/* The text search q: 1..QUEUE_TEXT_MAX characters of UTF-8. */
static int queue_text(const char *q)
{
	size_t n = strlen(q), i = 0, chars = 0;
	uint32_t cp;

	while (i < n) {
		if (tsr_utf8_next(q, n, &i, &cp) != 0)
			return tsr_error(TSR_ERR_INVALID, "query: q must be UTF-8 text");
		chars++;
	}
	if (chars > QUEUE_TEXT_MAX)
		return tsr_error(TSR_ERR_INVALID, "query: q must have at most %d characters",
		    QUEUE_TEXT_MAX);
	return 0;
}

/* The queue's filter from the query: state (a state name or "all",
 * default under_review), product (a configured product), limit. */
static int queue_filter(const struct tsr_http_request *req, const struct tsr_config *cfg,
    struct tsr_app_filter *f)
{
	const char *state = tsr_http_query(req, "state"), *product = tsr_http_query(req, "product");
	const char *limit = tsr_http_query(req, "limit");
	enum tsr_app_state s;

	memset(f, 0, sizeof(*f));
	f->state = tsr_app_state_name(TSR_APP_UNDER_REVIEW);
	f->limit = QUEUE_LIMIT_DEFAULT;
	if (state != NULL && strcmp(state, "all") == 0)
		f->state = NULL;
	else if (state != NULL && tsr_app_state_parse(state, &s) != 0)
		return tsr_error(TSR_ERR_INVALID, "query: state must be a state name or 'all'");
	else if (state != NULL)
		f->state = tsr_app_state_name(s);
	if (product != NULL && tsr_product_find(&cfg->products, product) == NULL)
		return tsr_error(TSR_ERR_INVALID, "query: no product named '%s'", product);
	f->product = product;
	if (limit != NULL) {
		char *end = NULL;
		long n = strspn(limit, "0123456789") == strlen(limit) && strlen(limit) <= 4 ?
		    strtol(limit, &end, 10) : 0;

		if (n < 1 || n > QUEUE_LIMIT_MAX)
			return tsr_error(TSR_ERR_INVALID, "query: limit must be 1 to %d",
			    QUEUE_LIMIT_MAX);
		f->limit = (unsigned)n;
	}
	return 0;
}

static int do_queue(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	struct tsr_app_filter f;
	struct queue q = { .r = 0, .text = tsr_http_query(req, "q") };
	const char *officer;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_officer_check(st, officer, TSR_ROLE_RA_OFFICER)) != 0 ||
	    (r = queue_filter(req, tsr_ra_config(ra), &f)) != 0 ||
	    (q.text != NULL && (r = queue_text(q.text)) != 0))
		return r;
	/* The name is inside the stored applicant data: the search runs here,
	 * over every application the other filters select. */
	if (q.text != NULL) {
		q.limit = f.limit;
		f.limit = 0;
	}
	if ((q.list = json_array()) == NULL)
		return nomem();
	if ((r = tsr_store_app_list(st, &f, queue_item, &q)) == 1)
		r = 0;
	if (q.r != 0)
		r = q.r;
	if (r != 0) {
		json_decref(q.list);
		return r;
	}
	/* json_pack takes the list even when it fails. */
	res->json = json_pack("{s:o}", "applications", q.list);
	return res->json ? 0 : nomem();
}

static int get_queue(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_queue);
}

/* ------------------------------------------------------------------ decisions */

static int do_approve(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id"), *officer;
	struct tsr_approval_record *v = NULL;
	const struct tsr_product *p;
	struct tsr_app_record a;
	bool final = false;
	size_t n = 0;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_approve(ra, st, officer, id, body_str(req, "token_serial"),
	    body_str(req, "comment"), &final)) != 0)
		return r;
	memset(&a, 0, sizeof(a));
	if ((r = tsr_ra_app_get(st, id, &a)) != 0 || (r = tsr_ra_approvals(st, id, &v, &n)) != 0)
		goto out;
	tsr_ra_approvals_free(v, n);
	p = tsr_product_find(&tsr_ra_config(ra)->products, a.product);
	res->json = json_pack("{s:o, s:o, s:b, s:I, s:i}", "id", tsr_json_text(a.id), "state",
	    tsr_json_text(a.state), "final", final, "approvals", (json_int_t)n,
	    "approvals_required", p ? p->ra_approvals : 0);
	if (res->json == NULL)
		r = nomem();
out:
	tsr_app_record_clear(&a);
	return r;
}

static int post_approval(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_approve);
}

static int do_reject(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id"), *officer;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_reject(ra, st, officer, id, body_str(req, "reason"))) != 0)
		return r;
	return app_view(ra, st, id, true, &res->json);
}

static int post_rejection(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_reject);
}

static int do_assign_token(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id"), *officer;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_assign_token(ra, st, officer, id, body_str(req, "serial"))) != 0)
		return r;
	return app_view(ra, st, id, true, &res->json);
}

static int put_token(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_assign_token);
}

static int do_unlock(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id"), *officer, *what = body_str(req, "what");
	enum tsr_ra_unlock u;
	int r;

	if ((r = require_officer(req, &officer)) != 0)
		return r;
	if (strcmp(what, "account") == 0)
		u = TSR_RA_UNLOCK_ACCOUNT;
	else if (strcmp(what, "code") == 0)
		u = TSR_RA_UNLOCK_CODE;
	else
		return tsr_error(TSR_ERR_INVALID, "/what: must be \"account\" or \"code\"");
	if ((r = tsr_ra_unlock(ra, st, officer, id, u)) != 0)
		return r;
	return app_view(ra, st, id, true, &res->json);
}

static int post_unlock(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_unlock);
}

static int do_reissue(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *id = tsr_http_param(req, "id"), *officer;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_reissue_activation(ra, st, officer, id)) != 0)
		return r;
	return app_view(ra, st, id, true, &res->json);
}

static int post_activation(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_reissue);
}

/* ------------------------------------------------------------------ certificate status */

/* A certificate as officers see it (full) or as a subscriber's answer
 * shows it (serial, status and the revocation only). */
static int cert_view(struct tsr_store *st, const char *serial, bool full, json_t **out)
{
	struct tsr_app_filter f = { .limit = 1 };
	struct tsr_cert_record rec;
	char app[TSR_APP_ID_MAX + 1] = "";
	json_t *v;
	int r;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	if ((r = tsr_store_cert_get(st, serial, &rec)) != 0)
		return r;
	v = json_pack("{s:o, s:o}", "serial", tsr_json_text(rec.serial), "status",
	    tsr_json_text(rec.status));
	if (v == NULL)
		r = nomem();
	if (r == 0 && rec.revoked_at != 0 &&
	    ((r = tsr_json_set(v, "revoked_at", tsr_json_time(rec.revoked_at))) != 0 ||
	    (r = tsr_json_set(v, "reason", tsr_json_text(rec.revocation_reason))) != 0))
		goto out;
	if (r == 0 && rec.invalidity_date != 0 && full)
		r = tsr_json_set(v, "invalidity_date", tsr_json_time(rec.invalidity_date));
	if (r != 0 || !full)
		goto out;
	if ((r = tsr_json_set(v, "subject", tsr_json_text(rec.subject))) != 0 ||
	    (r = tsr_json_set(v, "sans", tsr_json_text(rec.sans))) != 0 ||
	    (r = tsr_json_set(v, "product", tsr_json_text(rec.product))) != 0 ||
	    (r = tsr_json_set(v, "role", tsr_json_text(rec.role))) != 0 ||
	    (r = tsr_json_set(v, "issuer", tsr_json_text(rec.issuer))) != 0 ||
	    (r = tsr_json_set(v, "key_type", tsr_json_text(rec.key_type))) != 0 ||
	    (r = tsr_json_set(v, "not_before", tsr_json_time(rec.not_before))) != 0 ||
	    (r = tsr_json_set(v, "not_after", tsr_json_time(rec.not_after))) != 0 ||
	    (r = tsr_json_set(v, "issued_at", tsr_json_time(rec.issued_at))) != 0 ||
	    (r = tsr_json_set(v, "sha256", tsr_json_text(rec.fingerprint))) != 0)
		goto out;
	f.cert_serial = rec.serial;
	if ((r = tsr_store_app_list(st, &f, first_app_id, app)) == 1)
		r = 0;
	if (r == 0 && app[0] != '\0')
		r = tsr_json_set(v, "application", tsr_json_text(app));
out:
	tsr_cert_record_clear(&rec);
	if (r != 0)
		json_decref(v);
	else
		*out = v;
	return r;
}

/* An invalidity date: "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ". */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;
	char back[21];
	time_t t;

	*out = 0;
	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, strlen(s) == 10 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	t = timegm(&tm);
	tsr_time_format(t, back);
	if (end == NULL || *end != '\0' || strncmp(back, s, strlen(s)) != 0)
		return tsr_error(TSR_ERR_INVALID, "/invalidity_date: a date YYYY-MM-DD or a time "
		    "YYYY-MM-DDTHH:MM:SSZ (UTC)");
	*out = (int64_t)t;
	return 0;
}

static int do_get_certificate(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *officer;
	int r;

	(void)ra;
	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_cert_reader_check(st, officer)) != 0)
		return r;
	return cert_view(st, tsr_http_param(req, "serial"), true, &res->json);
}

static int get_certificate(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_get_certificate);
}

/* An officer's revoke, suspend or resume (the route's last segment). */
static int do_officer_change(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *serial = tsr_http_param(req, "serial"), *officer;
	const char *verb = strrchr(req->route->pattern, '/') + 1;
	enum tsr_ra_cert_action action;
	int64_t inv = 0;
	int r;

	if ((r = require_officer(req, &officer)) != 0 ||
	    (r = tsr_ra_cert_action_parse(verb, &action)) != 0 ||
	    (r = parse_time(body_str(req, "invalidity_date"), &inv)) != 0 ||
	    (r = tsr_ra_cert_officer_change(ra, st, officer, serial, action,
	    body_str(req, "reason"), inv, body_str(req, "comment"))) != 0)
		return r;
	return cert_view(st, serial, true, &res->json);
}

static int post_officer_change(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_officer_change);
}

static int do_revocation_nonce(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	char nonce[TSR_RA_NONCE_LEN], message[TSR_RA_REVOKE_MESSAGE_MAX];
	enum tsr_ra_cert_action action;
	int64_t expires_at = 0;
	int r;

	if ((r = tsr_ra_cert_action_parse(body_str(req, "action"), &action)) != 0 ||
	    (r = tsr_ra_revoke_nonce(ra, st, tsr_http_param(req, "serial"), action,
	    body_str(req, "reason"), nonce, &expires_at, message)) != 0)
		return r;
	res->json = json_pack("{s:s, s:o, s:s}", "nonce", nonce, "expires_at",
	    tsr_json_time(expires_at), "message", message);
	return res->json ? 0 : nomem();
}

static int post_revocation_nonce(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_revocation_nonce);
}

/* Which credentials the body carries: all of one kind, nothing of the
 * other.  *signed_by_key says which. */
static int subscriber_credentials(const json_t *body, bool *signed_by_key)
{
	static const char *const secret[] = { "application", "password", "question", "answer" };
	static const char *const key[] = { "nonce", "certificate", "signature" };
	size_t ns = 0, nk = 0;

	for (size_t i = 0; i < TSR_ARRAY_LEN(secret); i++)
		ns += json_object_get(body, secret[i]) != NULL;
	for (size_t i = 0; i < TSR_ARRAY_LEN(key); i++)
		nk += json_object_get(body, key[i]) != NULL;
	*signed_by_key = nk > 0;
	if ((ns == TSR_ARRAY_LEN(secret) && nk == 0) || (nk == TSR_ARRAY_LEN(key) && ns == 0))
		return 0;
	return tsr_error(TSR_ERR_INVALID, "give either application, password, question and "
	    "answer, or nonce, certificate and signature");
}

static int signed_change(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, enum tsr_ra_cert_action action)
{
	const char *cert = body_str(req, "certificate"), *sig64 = body_str(req, "signature");
	uint8_t sig[SIG_B64_MAX / 4 * 3];
	size_t sig_len = 0;

	if (tsr_base64_decode(sig64, strlen(sig64), 0, sig, sizeof(sig), &sig_len) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "/signature: must be base64 (RFC 4648, "
		    "padded, no line breaks)");
	return tsr_ra_subscriber_change_signed(ra, st, req->client, tsr_http_param(req, "serial"),
	    action, body_str(req, "reason"), body_str(req, "nonce"), (const uint8_t *)cert,
	    strlen(cert), sig, sig_len);
}

static int do_subscriber_revocation(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *serial = tsr_http_param(req, "serial");
	struct tsr_ra_subscriber_secret secret;
	enum tsr_ra_cert_action action;
	bool by_key = false;
	int r;

	if ((r = tsr_ra_cert_action_parse(body_str(req, "action"), &action)) != 0 ||
	    (r = subscriber_credentials(req->body, &by_key)) != 0)
		return r;
	if (by_key) {
		r = signed_change(req, ra, st, action);
	} else {
		secret.application = body_str(req, "application");
		secret.password = body_str(req, "password");
		secret.question = (int)json_integer_value(json_object_get(req->body, "question"));
		secret.answer = body_str(req, "answer");
		r = tsr_ra_subscriber_change_password(ra, st, req->client, serial, action,
		    body_str(req, "reason"), &secret);
	}
	if (r != 0)
		return r;
	return cert_view(st, serial, false, &res->json);
}

static int post_subscriber_revocation(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_subscriber_revocation);
}

/* ------------------------------------------------------------------ the routes */

#define APP "/api/v1/applications/{id}"
#define RA_APP "/api/v1/ra/applications/{id}"
#define CERT "/api/v1/certificates/{serial}"

static const struct tsr_http_route ra_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/agreement", .handler = get_agreement,
	    .summary = "The subscriber agreement version applicants accept",
	    .response = "Agreement" },
	{ .method = "POST", .pattern = "/api/v1/applications", .handler = post_application,
	    .body = application_body, .status = 201, .response = "ApplicationStatus",
	    .summary = "Apply for a certificate; the verification code is mailed" },
	{ .method = "GET", .pattern = APP, .handler = get_application, .flags = TSR_HTTP_AUTH,
	    .response = "Application",
	    .summary = "An application, as its applicant or an RA officer sees it" },
	{ .method = "POST", .pattern = APP "/email-verification",
	    .handler = post_email_verification, .body = code_body,
	    .response = "ApplicationStatus",
	    .summary = "Verify the email address with the mailed code" },
	{ .method = "POST", .pattern = APP "/verification-code",
	    .handler = post_verification_code, .flags = TSR_HTTP_AUTH,
	    .response = "ApplicationStatus",
	    .summary = "Mail a new verification code (the old one stops working)" },
	{ .method = "POST", .pattern = APP "/withdrawal", .handler = post_withdrawal,
	    .flags = TSR_HTTP_AUTH, .body = withdrawal_body, .response = "ApplicationStatus",
	    .summary = "Withdraw the application" },
	{ .method = "POST", .pattern = APP "/session", .handler = post_applicant_session,
	    .body = password_body, .status = 201, .response = "Session",
	    .summary = "Log in as the applicant with the application's password" },
	{ .method = "GET", .pattern = APP "/questions", .handler = get_questions,
	    .response = "Questions",
	    .summary = "The secret questions, for a password reset" },
	{ .method = "POST", .pattern = APP "/password-reset", .handler = post_password_reset,
	    .body = reset_body, .response = "ApplicationStatus",
	    .summary = "Set a new password with the answers to the secret questions" },
	{ .method = "POST", .pattern = "/api/v1/sessions", .handler = post_officer_session,
	    .body = login_body, .status = 201, .response = "Session",
	    .summary = "Log in as an RA officer" },
	{ .method = "GET", .pattern = "/api/v1/sessions/current", .handler = get_current_session,
	    .response = "CurrentSession",
	    .summary = "Who the session is (bearer token or cookie; officers' roles), without "
	    "moving its idle limit" },
	{ .method = "DELETE", .pattern = "/api/v1/sessions/current", .handler = delete_session,
	    .flags = TSR_HTTP_AUTH, .response = "SessionEnded",
	    .summary = "Log out: end the session of the bearer token" },
	{ .method = "GET", .pattern = "/api/v1/ra/applications", .handler = get_queue,
	    .flags = TSR_HTTP_AUTH, .query = queue_query, .response = "Queue",
	    .summary = "The review queue, oldest first (RA officers)" },
	{ .method = "POST", .pattern = RA_APP "/approval", .handler = post_approval,
	    .flags = TSR_HTTP_AUTH, .body = approval_body, .response = "ApprovalResult",
	    .summary = "Approve (once per officer; the last approval issues the activation)" },
	{ .method = "POST", .pattern = RA_APP "/rejection", .handler = post_rejection,
	    .flags = TSR_HTTP_AUTH, .body = rejection_body, .response = "Application",
	    .summary = "Reject, with a reason for the applicant" },
	{ .method = "PUT", .pattern = RA_APP "/token", .handler = put_token,
	    .flags = TSR_HTTP_AUTH, .body = token_body, .response = "Application",
	    .summary = "Assign the serial of the hardware token to ship" },
	{ .method = "POST", .pattern = RA_APP "/unlock", .handler = post_unlock,
	    .flags = TSR_HTTP_AUTH, .body = unlock_body, .response = "Application",
	    .summary = "Unlock the applicant's account or current code" },
	{ .method = "POST", .pattern = RA_APP "/activation", .handler = post_activation,
	    .flags = TSR_HTTP_AUTH, .response = "Application",
	    .summary = "Reissue the activation letter (a new code; the old one stops working)" },
	{ .method = "GET", .pattern = CERT, .handler = get_certificate, .flags = TSR_HTTP_AUTH,
	    .response = "Certificate",
	    .summary = "A certificate and its status (officers and auditors)" },
	{ .method = "POST", .pattern = CERT "/revoke", .handler = post_officer_change,
	    .flags = TSR_HTTP_AUTH, .body = cert_revoke_body, .response = "Certificate",
	    .summary = "Revoke a subscriber certificate for good (ra-officer or ca-admin)" },
	{ .method = "POST", .pattern = CERT "/suspend", .handler = post_officer_change,
	    .flags = TSR_HTTP_AUTH, .body = cert_hold_body, .response = "Certificate",
	    .summary = "Suspend a subscriber certificate: certificateHold (ra-officer or "
	    "ca-admin)" },
	{ .method = "POST", .pattern = CERT "/resume", .handler = post_officer_change,
	    .flags = TSR_HTTP_AUTH, .body = cert_hold_body, .response = "Certificate",
	    .summary = "Lift a suspension (ra-officer or ca-admin)" },
	{ .method = "POST", .pattern = CERT "/subscriber-revocation/nonce",
	    .handler = post_revocation_nonce, .body = revocation_nonce_body, .status = 201,
	    .response = "RevocationNonce",
	    .summary = "A single-use nonce and the message the certificate's key signs to "
	    "revoke or suspend it" },
	{ .method = "POST", .pattern = CERT "/subscriber-revocation",
	    .handler = post_subscriber_revocation, .body = subscriber_revocation_body,
	    .response = "CertificateStatus",
	    .summary = "The subscriber revokes or suspends their certificate (account password "
	    "and a secret answer, or a signature by the certificate's key)" },
};

const struct tsr_http_route *tsr_http_ra_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(ra_routes);
	return ra_routes;
}

/* ------------------------------------------------------------------ response schemas */

/* A property of a response object.  type: "string", "date-time", "state",
 * "integer", "boolean", "object", "string[]", or a component's name,
 * optionally with "[]" for an array of it. */
struct prop {
	const char *name;
	const char *type;
	bool required;
};

static json_t *state_schema(void)
{
	json_t *names = json_array();

	for (int s = 0; names != NULL && s < TSR_APP_STATE_COUNT; s++)
		if (json_array_append_new(names, json_string(tsr_app_state_name(s))) != 0) {
			json_decref(names);
			return NULL;
		}
	return json_pack("{s:s, s:o}", "type", "string", "enum", names);
}

static json_t *type_schema(const char *type)
{
	size_t n = strlen(type);
	char ref[96];

	if (n > 2 && strcmp(type + n - 2, "[]") == 0) {
		char item[64];

		snprintf(item, sizeof(item), "%.*s", (int)(n - 2), type);
		return json_pack("{s:s, s:o}", "type", "array", "items", type_schema(item));
	}
	if (strcmp(type, "date-time") == 0)
		return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
	if (strcmp(type, "state") == 0)
		return state_schema();
	if (strcmp(type, "string") == 0 || strcmp(type, "integer") == 0 ||
	    strcmp(type, "boolean") == 0 || strcmp(type, "object") == 0)
		return json_pack("{s:s}", "type", type);
	snprintf(ref, sizeof(ref), "#/components/schemas/%s", type);
	return json_pack("{s:s}", "$ref", ref);
}

static json_t *object_schema(const struct prop *props, size_t n)
{
	json_t *p = json_object(), *req = json_array();

	for (size_t i = 0; p != NULL && req != NULL && i < n; i++) {
		if (json_object_set_new(p, props[i].name, type_schema(props[i].type)) != 0 ||
		    (props[i].required &&
		    json_array_append_new(req, json_string(props[i].name)) != 0)) {
			json_decref(p);
			p = NULL;
		}
	}
	return json_pack("{s:s, s:o, s:o}", "type", "object", "required", req, "properties", p);
}

#define OBJECT(props) object_schema(props, TSR_ARRAY_LEN(props))

static const struct prop status_props[] = {
	{ "id", "string", true }, { "state", "state", true }, { "next", "string", true },
	/* a new application's answer only */
	{ "code_expires_at", "date-time", false }, { "email_days", "integer", false },
	{ "lapses_at", "date-time", false },
};

static const struct prop agreement_props[] = {
	{ "version", "string", true }, { "text", "string", true }, { "sha256", "string", true },
};

static const struct prop session_props[] = {
	{ "token", "string", false }, { "csrf", "string", false },
	{ "expires_at", "date-time", true },
};

static const struct prop ended_props[] = { { "ended", "boolean", true } };

static const struct prop current_session_props[] = {
	{ "kind", "string", true }, { "expires_at", "date-time", true },
	{ "idle_expires_at", "date-time", true }, { "name", "string", false },
	{ "display_name", "string", false }, { "roles", "string[]", false },
	{ "application", "string", false },
};

static const struct prop questions_props[] = { { "questions", "string[]", true } };

static const struct prop approval_props[] = {
	{ "officer", "string", true }, { "at", "date-time", true }, { "comment", "string", false },
};

static const struct prop application_props[] = {
	{ "id", "string", true }, { "product", "string", true }, { "storage", "string", true },
	{ "state", "state", true }, { "state_since", "date-time", true },
	{ "created_at", "date-time", true }, { "next", "string", true },
	{ "reason", "string", false }, { "token_serial", "string", false },
	{ "certificate_serial", "string", false }, { "last_test", "object", false },
	/* officers only */
	{ "applicant", "object", false }, { "email", "string", false },
	{ "agreement", "string", false }, { "updated_at", "date-time", false },
	{ "checks", "object", false }, { "approvals", "Approval[]", false },
	{ "approvals_required", "integer", false }, { "locked", "boolean", false },
	{ "failed_logins", "integer", false }, { "code_locked", "boolean", false },
};

static const struct prop queue_item_props[] = {
	{ "id", "string", true }, { "product", "string", true }, { "storage", "string", true },
	{ "state", "state", true }, { "state_since", "date-time", true },
	{ "created_at", "date-time", true }, { "name", "string", true },
	{ "email", "string", true }, { "locked", "boolean", true },
	{ "token_serial", "string", false },
};

static const struct prop queue_props[] = { { "applications", "QueueItem[]", true } };

static const struct prop approval_result_props[] = {
	{ "id", "string", true }, { "state", "state", true }, { "final", "boolean", true },
	{ "approvals", "integer", true }, { "approvals_required", "integer", true },
};

static const struct prop cert_status_props[] = {
	{ "serial", "string", true }, { "status", "string", true },
	{ "revoked_at", "date-time", false }, { "reason", "string", false },
};

static const struct prop certificate_props[] = {
	{ "serial", "string", true }, { "status", "string", true },
	{ "revoked_at", "date-time", false }, { "reason", "string", false },
	{ "invalidity_date", "date-time", false }, { "subject", "string", true },
	{ "sans", "string", true }, { "product", "string", true }, { "role", "string", true },
	{ "issuer", "string", true }, { "key_type", "string", true },
	{ "not_before", "date-time", true }, { "not_after", "date-time", true },
	{ "issued_at", "date-time", true }, { "sha256", "string", true },
	{ "application", "string", false },
};

static const struct prop revocation_nonce_props[] = {
	{ "nonce", "string", true }, { "expires_at", "date-time", true },
	{ "message", "string", true },
};

json_t *tsr_http_ra_schemas(void)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "ApplicationStatus", OBJECT(status_props),
	    "CurrentSession", OBJECT(current_session_props),
	    "Agreement", OBJECT(agreement_props),
	    "Session", OBJECT(session_props),
	    "SessionEnded", OBJECT(ended_props),
	    "Questions", OBJECT(questions_props),
	    "Approval", OBJECT(approval_props),
	    "Application", OBJECT(application_props),
	    "QueueItem", OBJECT(queue_item_props),
	    "Queue", OBJECT(queue_props),
	    "ApprovalResult", OBJECT(approval_result_props),
	    "CertificateStatus", OBJECT(cert_status_props),
	    "Certificate", OBJECT(certificate_props),
	    "RevocationNonce", OBJECT(revocation_nonce_props));
}
