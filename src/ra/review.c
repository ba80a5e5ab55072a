/*
 * review.c - the officers' side of the workflow: automatic checks and the
 * external verifier when review starts, approvals by N distinct officers,
 * rejection, token assignment, the activation (code, letter and the
 * initial token passcode by a second channel), and unlocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/ra_impl.h"
#include "ra/verifier.h"

#define PASSCODE_DIGITS 8         /* a token PIN every PKCS#11 token accepts */
#define DUPLICATES_MAX 20         /* listed per check; more are counted */
#define ALREADY_APPROVED "you have already approved this application; another officer " \
	"must give the next approval"

/* ------------------------------------------------------------------ officers */

int tsr_ra_officer_check(struct tsr_store *st, const char *officer, const char *role)
{
	struct tsr_user_record u;
	int r;

	if (officer == NULL || tsr_ra_user_name_check(officer) != 0)
		return tsr_error(TSR_ERR_FORBIDDEN, "no such officer");
	r = tsr_store_user_get(st, officer, &u);
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_FORBIDDEN, "no such officer '%s'", officer);
	if (r != 0)
		return r;
	if (u.disabled || u.locked)
		r = tsr_error(TSR_ERR_FORBIDDEN, "the account of %s is %s", officer,
		    u.disabled ? "disabled" : "locked");
	else if (!tsr_ra_user_has_role(&u, role))
		r = tsr_error(TSR_ERR_FORBIDDEN, "%s does not hold the %s role", officer, role);
	tsr_user_record_clear(&u);
	return r;
}

/* One officer's change to an application: who acts, what the step needs,
 * and the application as read inside the transaction. */
struct op {
	struct tsr_ra *ra;
	struct tsr_store *st;
	const char *officer;
	char actor[TSR_SESSION_SUBJECT_MAX + 1];   /* "officer:NAME" */
	const char *serial, *text;                 /* the step's arguments */
	enum tsr_ra_unlock what;
	bool final;                                /* approve: the last approval */
	char code[64];                             /* a new activation code (wiped) */
	int64_t expires;
	struct tsr_app_record a;
};

/*
 * Run step in one transaction: check that the officer may review, read
 * application id inside the write lock, run the step, commit.  A refusal
 * or failure rolls everything back and is audited as action.  op->a is
 * the caller's to clear.
 */
static int officer_act(struct op *op, const char *id, const char *action,
    int (*step)(struct op *op))
{
	char object[RA_OBJECT_MAX];
	int r;

	memset(&op->a, 0, sizeof(op->a));
	snprintf(op->actor, sizeof(op->actor), "%s%s", TSR_SESSION_PREFIX_OFFICER,
	    op->officer ? op->officer : "");
	ra_object(id, object);
	/* The officer's account is read inside the write lock too: a disable
	 * that commits first wins. */
	if ((r = tsr_store_begin(op->st)) != 0)
		goto out;
	if ((r = tsr_ra_officer_check(op->st, op->officer, TSR_ROLE_RA_OFFICER)) == 0 &&
	    (r = ra_app_read(op->st, id, &op->a)) == 0 && (r = step(op)) == 0)
		r = tsr_store_commit(op->st);
	if (r != 0)
		tsr_store_rollback(op->st);
out:
	return r != 0 ? tsr_audit_error(op->st, op->actor, action, object, r) : 0;
}

/* ------------------------------------------------------------------ start review */

struct dup_scan {
	const char *self;
	json_t *ids;
	long count;
};

static int collect_dup(const struct tsr_app_record *a, void *ctx)
{
	struct dup_scan *d = ctx;
	enum tsr_app_state s;

	if (strcmp(a->id, d->self) == 0 || tsr_app_state_parse(a->state, &s) != 0)
		return 0;
	/* Closed applications are history, not duplicates; issued ones are. */
	if (s == TSR_APP_REJECTED || s == TSR_APP_LAPSED || s == TSR_APP_WITHDRAWN)
		return 0;
	if (++d->count <= DUPLICATES_MAX &&
	    json_array_append_new(d->ids, json_string(a->id)) != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Other open applications with the same value of one identifier. */
static int duplicates_of(struct tsr_store *st, const struct tsr_app_record *a,
    const char *what, const char *value, json_t *out)
{
	struct tsr_app_filter f = { 0 };
	struct dup_scan d = { .self = a->id };
	int r;

	if (value == NULL || value[0] == '\0')
		return 0;
	if (strcmp(what, "email") == 0) f.email = value;
	else if (strcmp(what, "npi") == 0) f.npi = value;
	else if (strcmp(what, "dea") == 0) f.dea = value;
	else f.identity = value;
	if ((d.ids = json_array()) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = tsr_store_app_list(st, &f, collect_dup, &d)) == 0 && d.count > 0 &&
	    json_array_append_new(out, json_pack("{s:s, s:I, s:O}", "field", what,
	    "count", (json_int_t)d.count, "applications", d.ids)) != 0)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	json_decref(d.ids);
	return r;
}

/* One identifier check as the officer sees it: result and why. */
static int add_check(json_t *checks, const char *key, int r, const char *pass)
{
	json_t *item = json_pack("{s:s, s:s}", "result", r == 0 ? "pass" : "fail",
	    "detail", r == 0 ? pass : tsr_error_detail());

	return json_object_set_new(checks, key, item) == 0 ? 0 :
	    tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* The identifier checks, run again on the stored values (submission
 * already refused bad ones; this records for the officer what was checked,
 * and catches a row changed behind Tessera's back). */
static int identifier_checks(const struct tsr_app_record *a, json_t *checks)
{
	json_t *fields = json_loads(a->applicant, JSON_REJECT_DUPLICATES, NULL);
	const char *family = json_string_value(json_object_get(fields, "family_name"));
	int r = 0;

	if (a->npi[0] != '\0')
		r = add_check(checks, "npi", tsr_npi_check(a->npi),
		    "the NPI has a valid check digit");
	if (r == 0 && a->dea[0] != '\0')
		r = add_check(checks, "dea", tsr_dea_check(a->dea, family ? family : ""),
		    "the DEA number has a valid check digit and the registrant's initial");
	json_decref(fields);
	return r;
}

static int verifier_check(struct tsr_ra *ra, const struct tsr_app_record *a, json_t *checks)
{
	const struct tsr_verifier_config *v = tsr_config_verifier(ra->cfg, a->product);
	struct tsr_verifier_result res;

	if (v == NULL)
		return 0;
	json_t *item;

	tsr_verifier_run(v, a->id, a->product, a->applicant, &res);
	item = json_pack("{s:s, s:s, s:s}", "result", res.outcome, "evidence", res.evidence,
	    "url", v->url);
	/* An answer that cannot be recorded must not hold the review up. */
	if (item == NULL)
		item = json_pack("{s:s, s:s, s:s}", "result", "error", "evidence", "the verifier's "
		    "answer could not be recorded", "url", v->url);
	if (json_object_set_new(checks, "verifier", item) != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Every automatic check as one JSON object text in *out (free()). */
static int run_checks(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_app_record *a,
    char **out)
{
	json_t *checks = json_object(), *dups = json_array();
	int r = checks && dups ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");

	*out = NULL;
	if (r == 0 && ((r = identifier_checks(a, checks)) != 0 ||
	    (r = duplicates_of(st, a, "email", a->email, dups)) != 0 ||
	    (r = duplicates_of(st, a, "npi", a->npi, dups)) != 0 ||
	    (r = duplicates_of(st, a, "dea", a->dea, dups)) != 0 ||
	    (r = duplicates_of(st, a, "identity", a->identity, dups)) != 0 ||
	    (r = verifier_check(ra, a, checks)) != 0))
		goto out;
	if (r == 0 && json_object_set(checks, "duplicates", dups) != 0)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (r == 0 && (*out = json_dumps(checks, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	json_decref(dups);
	json_decref(checks);
	return r;
}

int ra_start_review(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_record a;
	char *checks = NULL;
	int r;

	/* The checks (maybe a webhook) run outside the write lock. */
	if ((r = ra_app_read(st, id, &a)) != 0 || (r = run_checks(ra, st, &a, &checks)) != 0)
		goto out;
	if ((r = tsr_store_begin(st)) != 0)
		goto out;
	tsr_app_record_clear(&a);
	upd.checks = checks;
	if ((r = ra_app_read(st, id, &a)) == 0 &&
	    (r = tsr_store_app_update(st, id, &upd, (int64_t)tsr_now())) == 0 &&
	    (r = ra_transition(st, actor, &a, TSR_EV_START_REVIEW, TSR_ACTOR_SYSTEM, NULL,
	    "automatic checks recorded")) == 0)
		r = tsr_store_commit(st);
	if (r != 0)
		tsr_store_rollback(st);
	else
		ra_mail_status(ra, st, &a, "has its email address confirmed and is now with our "
		    "registration officers for review");
out:
	free(checks);
	tsr_app_record_clear(&a);
	return r;
}

/* ------------------------------------------------------------------ tokens */

static int serial_check(const char *serial)
{
	size_t n = serial != NULL ? strnlen(serial, TSR_TOKEN_SERIAL_MAX + 1) : 0;

	if (n == 0 || n > TSR_TOKEN_SERIAL_MAX)
		return tsr_error(TSR_ERR_INVALID, "a token serial has 1 to %d characters",
		    TSR_TOKEN_SERIAL_MAX);
	for (size_t i = 0; i < n; i++)
		if (serial[i] <= ' ' || serial[i] > '~')
			return tsr_error(TSR_ERR_INVALID, "a token serial is printable ASCII "
			    "without spaces");
	return 0;
}

struct serial_scan {
	const char *self;
	char holder[TSR_APP_ID_MAX + 1];
};

/* An application other than self that holds the serial and is not closed. */
static int find_holder(const struct tsr_app_record *a, void *ctx)
{
	struct serial_scan *s = ctx;
	enum tsr_app_state state;

	if (strcmp(a->id, s->self) == 0 || tsr_app_state_parse(a->state, &state) != 0)
		return 0;
	/* A closed application gave its token back; an issued one keeps it. */
	if (state == TSR_APP_REJECTED || state == TSR_APP_LAPSED || state == TSR_APP_WITHDRAWN)
		return 0;
	snprintf(s->holder, sizeof(s->holder), "%s", a->id);
	return 1;
}

/* TSR_ERR_EXISTS if another application that is not closed holds serial. */
static int serial_free(struct tsr_store *st, const char *self, const char *serial)
{
	struct tsr_app_filter f = { .token_serial = serial };
	struct serial_scan s = { .self = self };
	int r = tsr_store_app_list(st, &f, find_holder, &s);

	if (r > 0)
		return tsr_error(TSR_ERR_EXISTS, "token %s is already assigned to application %s",
		    serial, s.holder);
	return r;
}

/* Inside the caller's transaction: assign serial to a (as read in it). */
static int assign(struct tsr_store *st, const char *actor, const struct tsr_app_record *a,
    const char *serial)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	enum tsr_app_state s;
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(a->id, object);
	if ((r = serial_check(serial)) != 0 || (r = ra_state_of(a, &s)) != 0)
		return r;
	if (strcmp(a->storage, TSR_CHOICE_SOFTWARE) == 0)
		return tsr_error(TSR_ERR_POLICY, "this application keeps its key in software; "
		    "it gets no token");
	if (s != TSR_APP_SUBMITTED && s != TSR_APP_EMAIL_VERIFIED && s != TSR_APP_UNDER_REVIEW)
		return tsr_error(TSR_ERR_POLICY, "this application is %s; its token can no "
		    "longer change", a->state);
	if ((r = serial_free(st, a->id, serial)) != 0)
		return r;
	upd.expect_state = a->state;
	upd.token_serial = serial;
	if ((r = tsr_store_app_update(st, a->id, &upd, (int64_t)tsr_now())) != 0)
		return r;
	return tsr_audit_append(st, actor, "application.token", object, TSR_AUDIT_SUCCESS,
	    "token serial %s%s%s", serial, a->token_serial[0] ? ", was " : "", a->token_serial);
}

static int assign_step(struct op *op)
{
	return assign(op->st, op->actor, &op->a, op->serial);
}

/* Assign a token (see app.h). */
int tsr_ra_assign_token(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *serial)
{
	struct op op = { .ra = ra, .st = st, .officer = officer, .serial = serial };
	int r = officer_act(&op, id, "application.token", assign_step);

	tsr_app_record_clear(&op.a);
	return r;
}

/* ------------------------------------------------------------------ activation */

/* PASSCODE_DIGITS decimal digits, uniform (rejection sampling). */
static int new_passcode(char out[PASSCODE_DIGITS + 1])
{
	uint8_t b;

	for (size_t i = 0; i < PASSCODE_DIGITS; i++) {
		do {
			if (tsr_random(&b, 1) != 0)
				return tsr_error(TSR_ERR_CRYPTO, "no random bytes for a passcode");
		} while (b >= 250);
		out[i] = (char)('0' + b % 10);
	}
	out[PASSCODE_DIGITS] = '\0';
	b = 0;
	return 0;
}

static int activation_letter(struct tsr_ra *ra, struct tsr_store *st,
    const struct tsr_app_record *a, const char *code, int64_t expires)
{
	char subject[TSR_MAIL_SUBJECT_MAX], until[21], token[TSR_TOKEN_SERIAL_MAX + 32] = "";
	bool new_token = strcmp(a->storage, TSR_CHOICE_NEW_TOKEN) == 0;

	tsr_time_format((time_t)expires, until);
	snprintf(subject, sizeof(subject), "Your activation code for application %s", a->id);
	if (new_token)
		snprintf(token, sizeof(token), "Token serial: %s\n", a->token_serial);
	return ra_mailf(ra, st, &ra->mail, a, "activation", subject,
	    "Your application %s for %s is approved.\n\n"
	    "Your activation code: %s\n\nIt works once, until %s. %s\n\n"
	    "Retrieve your certificate with:\n"
	    "  tessera token retrieve --server %s --ca-file root.pem\n"
	    "It asks for this code, your password and the token passcode (type the code rather\n"
	    "than putting it on the command line, where other users of the computer can see it).\n"
	    "Keep this code secret: with your password it puts your certificate on a token.\n%s",
	    a->id, ra_product_title(ra, a), code, until, new_token ?
	    "Your token (serial below) and its initial passcode reach you separately; change "
	    "the passcode before you retrieve." : "", ra->cfg->ca.public_url, token);
}

/* The second channel (21 CFR 1311.105): never in the same message or
 * outbox as the activation code. */
static int passcode_letter(struct tsr_ra *ra, struct tsr_store *st,
    const struct tsr_app_record *a)
{
	char subject[TSR_MAIL_SUBJECT_MAX], passcode[PASSCODE_DIGITS + 1];
	int r;

	snprintf(subject, sizeof(subject), "Initial passcode of token %s", a->token_serial);
	if ((r = new_passcode(passcode)) == 0)
		r = ra_mailf(ra, st, &ra->passcode_mail, a, "passcode", subject,
		    "Application: %s\nToken serial: %s\nInitial token passcode: %s\n\n"
		    "Set this passcode on the token before it is shipped. The subscriber must "
		    "change it (tessera token passcode) before retrieving the certificate.\n",
		    a->id, a->token_serial, passcode);
	tsr_wipe(passcode, sizeof(passcode));
	return r;
}

/* Inside the caller's transaction: a new activation code for application
 * id (the old one stops working), into code; first: also the
 * issue_activation transition, else a reissue record. */
static int activation_issue(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, bool first, char *code, size_t codelen, int64_t *expires)
{
	struct tsr_app_record a;
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(id, object);
	*expires = (int64_t)tsr_now() + (int64_t)ra->cfg->ra.activation_days * 86400;
	if ((r = ra_app_read(st, id, &a)) == 0 &&
	    (r = ra_code_issue(ra, st, id, TSR_CODE_ACTIVATION, TSR_CODE_ACTIVATION_BITS, *expires,
	    code, codelen)) == 0)
		r = first ? ra_transition(st, actor, &a, TSR_EV_ISSUE_ACTIVATION, TSR_ACTOR_SYSTEM,
		    NULL, "activation code issued") :
		    tsr_audit_append(st, actor, "application.reissue", object, TSR_AUDIT_SUCCESS,
		    "new activation code; the previous one no longer works");
	tsr_app_record_clear(&a);
	return r;
}

/* After the commit: the activation letter, and for a new token the
 * passcode letter.  A letter that cannot be written is logged and
 * audited (ra_mail); an officer reissues. */
static void activation_letters(struct tsr_ra *ra, struct tsr_store *st,
    const struct tsr_app_record *a, const char *code, int64_t expires)
{
	if (activation_letter(ra, st, a, code, expires) != 0 ||
	    (strcmp(a->storage, TSR_CHOICE_NEW_TOKEN) == 0 && passcode_letter(ra, st, a) != 0))
		tsr_log(TSR_LOG_ERROR, "the activation letters of %s were not all written: %s; "
		    "reissue the activation", a->id, tsr_error_detail());
}

/* ------------------------------------------------------------------ approve, reject */

struct approval_count {
	const char *officer;
	int n;
	bool mine;
};

static int count_approval(const struct tsr_approval_record *a, void *ctx)
{
	struct approval_count *c = ctx;

	c->n++;
	c->mine = c->mine || strcmp(a->officer, c->officer) == 0;
	return 0;
}

/* Inside the transaction: record officer's approval of a; *final says
 * whether it completed the product's number. */
static int record_approval(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *actor, const struct tsr_app_record *a, const char *comment, bool *final)
{
	struct tsr_approval_record rec = { .at = (int64_t)tsr_now(), .comment = (char *)"" };
	struct approval_count count = { .officer = officer };
	const struct tsr_product *p;
	int r;

	if ((r = ra_product(ra, a, &p)) != 0 ||
	    (r = tsr_store_approval_list(st, a->id, count_approval, &count)) != 0)
		return r;
	/* Said first: whatever else is missing, this officer is done. */
	if (count.mine)
		return tsr_error(TSR_ERR_POLICY, ALREADY_APPROVED);
	*final = count.n + 1 >= p->ra_approvals;
	if (*final && strcmp(a->storage, TSR_CHOICE_NEW_TOKEN) == 0 && a->token_serial[0] == '\0')
		return tsr_error(TSR_ERR_POLICY, "assign the serial of the token to ship before "
		    "the final approval");
	snprintf(rec.application, sizeof(rec.application), "%s", a->id);
	snprintf(rec.officer, sizeof(rec.officer), "%s", officer);
	if (comment != NULL)
		rec.comment = (char *)comment;
	r = tsr_store_approval_add(st, &rec);
	if (r == TSR_ERR_EXISTS)   /* the same officer racing: the constraint decides */
		return tsr_error(TSR_ERR_POLICY, ALREADY_APPROVED);
	if (r != 0)
		return r;
	return ra_transition(st, actor, a, *final ? TSR_EV_APPROVE_FINAL : TSR_EV_APPROVE,
	    TSR_ACTOR_OFFICER, NULL, NULL);
}

static int text_limit(const char *what, const char *s, bool required)
{
	size_t n = s != NULL ? strnlen(s, TSR_RA_REASON_MAX + 1) : 0;

	if (required && n == 0)
		return tsr_error(TSR_ERR_INVALID, "a %s is required", what);
	if (n > TSR_RA_REASON_MAX)
		return tsr_error(TSR_ERR_INVALID, "the %s is longer than %d bytes", what,
		    TSR_RA_REASON_MAX);
	return 0;
}

static int approve_step(struct op *op)
{
	int r;

	if ((r = text_limit("comment", op->text, false)) != 0)
		return r;
	if (op->serial != NULL) {
		/* Assigned and approved together, or neither. */
		char id[TSR_APP_ID_MAX + 1];

		snprintf(id, sizeof(id), "%s", op->a.id);
		if ((r = assign(op->st, op->actor, &op->a, op->serial)) != 0)
			return r;
		tsr_app_record_clear(&op->a);
		if ((r = ra_app_read(op->st, id, &op->a)) != 0)
			return r;
	}
	if ((r = record_approval(op->ra, op->st, op->officer, op->actor, &op->a, op->text,
	    &op->final)) != 0 || !op->final)
		return r;
	/* The final approval and the activation commit together: an
	 * application never stays approved without its code. */
	return activation_issue(op->ra, op->st, "system", op->a.id, true, op->code,
	    sizeof(op->code), &op->expires);
}

/* Approve (see app.h). */
int tsr_ra_approve(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *token_serial, const char *comment, bool *final_out)
{
	struct op op = { .ra = ra, .st = st, .officer = officer, .serial = token_serial,
		.text = comment };
	int r = officer_act(&op, id, "application.approve", approve_step);

	if (r == 0 && op.final)
		activation_letters(ra, st, &op.a, op.code, op.expires);
	if (r == 0 && final_out != NULL)
		*final_out = op.final;
	tsr_app_record_clear(&op.a);
	tsr_wipe(op.code, sizeof(op.code));
	return r;
}

static int reject_step(struct op *op)
{
	int r = text_limit("reason", op->text, true);

	return r != 0 ? r : ra_transition(op->st, op->actor, &op->a, TSR_EV_REJECT,
	    TSR_ACTOR_OFFICER, op->text, op->text);
}

/* Reject (see app.h). */
int tsr_ra_reject(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *reason)
{
	struct op op = { .ra = ra, .st = st, .officer = officer, .text = reason };
	int r = officer_act(&op, id, "application.reject", reject_step);

	if (r == 0) {
		char what[TSR_RA_REASON_MAX + 32];

		snprintf(what, sizeof(what), "was rejected: %s", reason);
		ra_mail_status(ra, st, &op.a, what);
	}
	tsr_app_record_clear(&op.a);
	return r;
}

/* ------------------------------------------------------------------ unlock, reissue */

static int unlock_code(struct tsr_store *st, const struct tsr_app_record *a)
{
	struct tsr_code_record c;
	const char *purpose = strcmp(a->state, tsr_app_state_name(TSR_APP_ACTIVATION_ISSUED)) == 0 ?
	    TSR_CODE_ACTIVATION : TSR_CODE_VERIFICATION;
	int r = tsr_store_code_current(st, a->id, purpose, &c);

	if (r == TSR_ERR_NOT_FOUND || (r == 0 && !c.locked))
		r = tsr_error(TSR_ERR_POLICY, "the %s code of this application is not locked",
		    purpose);
	if (r == 0)
		r = tsr_store_code_set_failures(st, c.code_hash, 0, false);
	tsr_wipe(&c, sizeof(c));
	return r;
}

static int unlock_account(struct tsr_store *st, const struct tsr_app_record *a)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;

	if (!a->locked)
		return tsr_error(TSR_ERR_POLICY, "the account of this application is not locked");
	upd.failed_logins = 0;
	upd.locked = 0;
	return tsr_store_app_update(st, a->id, &upd, (int64_t)tsr_now());
}

static int unlock_step(struct op *op)
{
	int r = op->what == TSR_RA_UNLOCK_CODE ? unlock_code(op->st, &op->a) :
	    unlock_account(op->st, &op->a);
	char object[RA_OBJECT_MAX];

	ra_object(op->a.id, object);
	return r != 0 ? r : tsr_audit_append(op->st, op->actor, "application.unlock",
	    object, TSR_AUDIT_SUCCESS, "%s unlocked", op->what == TSR_RA_UNLOCK_CODE ? "code" :
	    "account");
}

/* Unlock (see app.h). */
int tsr_ra_unlock(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, enum tsr_ra_unlock what)
{
	struct op op = { .ra = ra, .st = st, .officer = officer, .what = what };
	int r = officer_act(&op, id, "application.unlock", unlock_step);

	tsr_app_record_clear(&op.a);
	return r;
}

static int reissue_step(struct op *op)
{
	if (strcmp(op->a.state, tsr_app_state_name(TSR_APP_ACTIVATION_ISSUED)) != 0)
		return tsr_error(TSR_ERR_POLICY, "this application is %s; only an issued "
		    "activation can be issued again", op->a.state);
	return activation_issue(op->ra, op->st, op->actor, op->a.id, false, op->code,
	    sizeof(op->code), &op->expires);
}

/* Reissue the activation (see app.h). */
int tsr_ra_reissue_activation(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id)
{
	struct op op = { .ra = ra, .st = st, .officer = officer };
	int r = officer_act(&op, id, "application.reissue", reissue_step);

	if (r == 0)
		activation_letters(ra, st, &op.a, op.code, op.expires);
	tsr_app_record_clear(&op.a);
	tsr_wipe(op.code, sizeof(op.code));
	return r;
}
