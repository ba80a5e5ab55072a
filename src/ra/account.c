/*
 * account.c - the applicant's account: the password check behind a
 * session, the secret questions, and the password reset through them.
 *
 * One failure counter per application covers wrong passwords and wrong
 * answers alike, so an attacker gets [ra] max_failures guesses in all
 * before an officer has to unlock the account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ra/ra_impl.h"

#define WRONG_LOGIN "wrong application number or password"

/* A reset checks no secret on a locked account, so saying why is no oracle. */
static int refuse_locked(const struct tsr_app_record *a)
{
	if (a->locked)
		return tsr_error(TSR_ERR_POLICY, "this account is locked after too many wrong "
		    "passwords or answers; a registration officer must unlock it");
	return 0;
}

/* Inside the caller's transaction: end the sessions of applicant id. */
static int end_sessions(struct tsr_store *st, const char *id, int64_t *ended)
{
	char subject[TSR_SESSION_SUBJECT_MAX + 1];

	snprintf(subject, sizeof(subject), "%s%s", TSR_SESSION_PREFIX_APPLICANT, id);
	return tsr_store_session_delete_subject(st, subject, ended);
}

/* Count one failure on application id (inside the write lock, so that
 * concurrent failures all count) and lock at max (ra_impl.h). */
int ra_count_failure(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *action, const char *what)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_record a;
	char object[RA_OBJECT_MAX];
	int max = ra->cfg->ra.max_failures, r;

	ra_object(id, object);
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) != 0)
		goto out;
	upd.failed_logins = a.failed_logins < max ? a.failed_logins + 1 : max;
	upd.locked = upd.failed_logins >= max ? 1 : -1;
	if ((r = tsr_store_app_update(st, id, &upd, (int64_t)tsr_now())) != 0 ||
	    (r = tsr_audit_append(st, actor, action, object, TSR_AUDIT_FAILURE,
	    "%s (failure %d of %d)", what, upd.failed_logins, max)) != 0)
		goto out;
	if (upd.locked == 1 && !a.locked &&
	    ((r = end_sessions(st, id, NULL)) != 0 ||
	    (r = tsr_audit_append(st, actor, "application.lock", object, TSR_AUDIT_SUCCESS,
	    "locked after %d failures", upd.failed_logins)) != 0))
		goto out;
	r = tsr_store_commit(st);
out:
	tsr_app_record_clear(&a);
	if (r != 0)
		tsr_store_rollback(st);
	return r;
}

/* A right password: inside the write lock, re-read the account (a lock
 * taken meanwhile by parallel wrong guesses wins), reset the counter, and
 * start the session if token is not NULL, all in one transaction. */
static int record_success(struct tsr_store *st, const char *actor, const char *id,
    char *token, int64_t *expires_at)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_record a;
	char object[RA_OBJECT_MAX], subject[TSR_SESSION_SUBJECT_MAX + 1];
	int r;

	ra_object(id, object);
	snprintf(subject, sizeof(subject), "%s%s", TSR_SESSION_PREFIX_APPLICANT, id);
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) != 0)
		goto out;
	if (a.locked) {
		r = TSR_ERR_AUTH;
		goto out;
	}
	upd.failed_logins = 0;
	if ((a.failed_logins == 0 || (r = tsr_store_app_update(st, id, &upd,
	    (int64_t)tsr_now())) == 0) &&
	    (token == NULL || (r = ra_session_start(st, subject, RA_APPLICANT_SESSION_HOURS, token,
	    expires_at)) == 0) &&
	    (r = tsr_audit_append(st, actor, "application.login", object, TSR_AUDIT_SUCCESS,
	    "state %s%s", a.state, token ? ", session started" : "")) == 0)
		r = tsr_store_commit(st);
out:
	if (r != 0)
		tsr_store_rollback(st);
	if (r == TSR_ERR_AUTH) {
		if (tsr_audit_append(st, actor, "application.login", object, TSR_AUDIT_REFUSED,
		    "the account was locked during the login") != 0)
			tsr_log(TSR_LOG_WARN, "cannot audit a login: %s", tsr_error_detail());
		r = tsr_error(TSR_ERR_AUTH, WRONG_LOGIN);
	}
	tsr_app_record_clear(&a);
	return r;
}

/*
 * The password check behind tsr_ra_applicant_login() and
 * tsr_ra_applicant_session().  A locked account, like an unknown number, is
 * checked against the dummy hash: the same work and the same answer
 * whatever the password, so guessing past the lock learns nothing.
 */
static int login(struct tsr_ra *ra, struct tsr_store *st, const char *actor, const char *id,
    const char *password, char *token, int64_t *expires_at)
{
	struct tsr_app_record a;
	const char *dummy = NULL;
	char object[RA_OBJECT_MAX];
	bool known, usable;
	int r, v;

	memset(&a, 0, sizeof(a));
	ra_object(id, object);
	if ((r = ra_dummy_hash(&dummy)) != 0)
		return r;
	r = ra_id_check(id) == 0 ? tsr_store_app_get(st, id, &a) : TSR_ERR_NOT_FOUND;
	if (r != 0 && r != TSR_ERR_NOT_FOUND)
		goto out;
	known = r == 0;
	usable = known && !a.locked;
	v = tsr_secret_verify(usable ? a.password_hash : dummy, password ? password : "");
	if (v != 0 && v != TSR_ERR_SIGNATURE) {
		r = v;
		goto out;
	}
	if (!usable) {
		if (tsr_audit_append(st, actor, "application.login", known ? object : "",
		    known ? TSR_AUDIT_REFUSED : TSR_AUDIT_FAILURE, "%s", known ?
		    "the account is locked" : "unknown application number") != 0)
			tsr_log(TSR_LOG_WARN, "cannot audit a login: %s", tsr_error_detail());
		r = tsr_error(TSR_ERR_AUTH, WRONG_LOGIN);
		goto out;
	}
	if (v != 0) {
		if ((r = ra_count_failure(ra, st, actor, id, "application.login",
		    "wrong password")) == 0)
			r = tsr_error(TSR_ERR_AUTH, WRONG_LOGIN);
		goto out;
	}
	r = record_success(st, actor, id, token, expires_at);
out:
	tsr_app_record_clear(&a);
	return r;
}

/* The password check (see app.h). */
int tsr_ra_applicant_login(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *password)
{
	return login(ra, st, actor, id, password, NULL, NULL);
}

/* The password check and a session (see app.h). */
int tsr_ra_applicant_session(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *password, char token[TSR_SESSION_TOKEN_LEN],
    int64_t *expires_at)
{
	token[0] = '\0';
	return login(ra, st, actor, id, password, token, expires_at);
}

/* ------------------------------------------------------------------ questions */

struct answers {
	struct tsr_answer_record *v;
	size_t n;
};

static int collect_answer(const struct tsr_answer_record *a, void *ctx)
{
	struct answers *l = ctx;
	struct tsr_answer_record *slot;

	if (l->n == TSR_RA_ANSWERS_MAX)
		return tsr_error(TSR_ERR_STORE, "more secret questions than an application has");
	slot = &l->v[l->n++];     /* counted first: answers_free() frees what is set */
	memset(slot, 0, sizeof(*slot));
	slot->idx = a->idx;
	if ((slot->question = strdup(a->question)) == NULL ||
	    (slot->answer_hash = strdup(a->answer_hash)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

static void answers_free(struct answers *l)
{
	for (size_t i = 0; i < l->n; i++)
		tsr_answer_record_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int answers_read(struct tsr_store *st, const char *id, struct answers *l)
{
	int r;

	l->n = 0;
	if ((l->v = calloc(TSR_RA_ANSWERS_MAX, sizeof(*l->v))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = tsr_store_answer_list(st, id, collect_answer, l)) != 0)
		answers_free(l);
	return r;
}

/* The questions (see app.h). */
int tsr_ra_questions(struct tsr_store *st, const char *id, char ***questions, size_t *n)
{
	struct tsr_app_record a;
	struct answers l = { 0 };
	int r;

	*questions = NULL;
	*n = 0;
	if ((r = ra_app_read(st, id, &a)) != 0 || (r = answers_read(st, id, &l)) != 0)
		goto out;
	if ((*questions = calloc(l.n + 1, sizeof(char *))) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		(*questions)[i] = l.v[i].question;
		l.v[i].question = NULL;
	}
	*n = l.n;
out:
	answers_free(&l);
	tsr_app_record_clear(&a);
	return r;
}

void tsr_ra_questions_free(char **questions, size_t n)
{
	for (size_t i = 0; questions != NULL && i < n; i++)
		free(questions[i]);
	free(questions);
}

/* ------------------------------------------------------------------ reset */

/* Check every answer (all of them, whatever the first mismatch, so the
 * time does not tell which was wrong).  *match says the outcome. */
static int answers_match(const struct answers *l, const char *const *given, bool *match)
{
	char *norm = NULL;
	int r = 0, v;

	*match = true;
	for (size_t i = 0; i < l->n; i++) {
		if (given[i] == NULL || tsr_answer_normalise(given[i], &norm) != 0) {
			*match = false;
			continue;
		}
		v = tsr_secret_verify(l->v[i].answer_hash, norm);
		tsr_free_secret(norm);
		norm = NULL;
		if (v != 0 && v != TSR_ERR_SIGNATURE)
			r = v;
		if (v != 0)
			*match = false;
	}
	return r;
}

/* Store the new password, clear the counter, end the sessions, unless a
 * lock was taken meanwhile (re-read inside the write lock). */
static int set_password(struct tsr_store *st, const char *actor, const char *id,
    const char *hash)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	struct tsr_app_record a;
	char object[RA_OBJECT_MAX];
	int64_t ended = 0;
	int r;

	ra_object(id, object);
	upd.password_hash = hash;
	upd.failed_logins = 0;
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) == 0 && (r = refuse_locked(&a)) == 0 &&
	    (r = tsr_store_app_update(st, id, &upd, (int64_t)tsr_now())) == 0 &&
	    (r = end_sessions(st, id, &ended)) == 0 &&
	    (r = tsr_audit_append(st, actor, "application.reset", object, TSR_AUDIT_SUCCESS,
	    "password reset with the secret answers; %lld session(s) ended",
	    (long long)ended)) == 0)
		r = tsr_store_commit(st);
	if (r != 0)
		tsr_store_rollback(st);
	tsr_app_record_clear(&a);
	return r;
}

static int reset_checks(struct tsr_ra *ra, const struct tsr_app_record *a,
    const struct answers *l, size_t n, const char *new_password)
{
	const char *context[3] = { a->email, "tessera", a->id };
	enum tsr_app_state s;
	int r;

	if ((r = ra_state_of(a, &s)) != 0)
		return r;
	if (tsr_app_state_is_final(s))
		return tsr_error(TSR_ERR_POLICY, "this application is %s; its password cannot be "
		    "reset", a->state);
	if ((r = refuse_locked(a)) != 0)
		return r;
	if (n != l->n)
		return tsr_error(TSR_ERR_INVALID, "answer all %zu secret questions", l->n);
	if (new_password == NULL)
		return tsr_error(TSR_ERR_INVALID, "a new password is required");
	return tsr_password_check(ra->passwords, new_password, context, TSR_ARRAY_LEN(context));
}

/* Reset the password (see app.h). */
int tsr_ra_reset_password(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *const *answers, size_t n, const char *new_password)
{
	struct tsr_app_record a;
	struct answers l = { 0 };
	char hash[TSR_SECRET_HASH_BYTES], object[RA_OBJECT_MAX];
	bool match = false, audited = false;
	int r;

	ra_object(id, object);
	memset(hash, 0, sizeof(hash));
	if ((r = ra_app_read(st, id, &a)) != 0 || (r = answers_read(st, id, &l)) != 0 ||
	    (r = reset_checks(ra, &a, &l, n, new_password)) != 0 ||
	    (r = answers_match(&l, answers, &match)) != 0)
		goto out;
	if (!match) {
		r = ra_count_failure(ra, st, actor, id, "application.reset", "wrong answers");
		audited = r == 0;
		if (r == 0)
			r = tsr_error(TSR_ERR_AUTH, "at least one answer does not match");
		goto out;
	}
	if ((r = tsr_secret_hash(new_password, hash)) == 0 &&
	    (r = set_password(st, actor, id, hash)) == 0)
		ra_mail_status(ra, st, &a, "has a new password: if you did not reset it, contact "
		    "the registration authority now");
	audited = r == 0;
out:
	answers_free(&l);
	tsr_app_record_clear(&a);
	tsr_wipe(hash, sizeof(hash));
	if (r != 0 && !audited)
		r = tsr_audit_error(st, actor, "application.reset", object, r);
	return r;
}
