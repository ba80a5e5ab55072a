/*
 * app.h - the enrollment workflow: an applicant applies, verifies the email
 * address, RA officers review and approve (N distinct officers), and the
 * final approval issues the activation code.  Both the HTTP API and the
 * `tessera ra` CLI call these functions; they only parse and print.
 *
 *   ra.c        the context: configuration, code key, password list, mail,
 *               a pool of store connections (one per concurrent request);
 *   app.c       applying, email verification, status, withdrawal, password
 *               reset, lapses;
 *   review.c    automatic checks, the external verifier, approvals,
 *               rejection, token assignment, activation, unlocks;
 *   session.c   bearer sessions of officers and applicants.
 *
 * Every state change goes through tsr_app_transition() (state.h) and is
 * audited with the application as object ("application:AP-..."); every
 * refusal that matters (a wrong code, a wrong password, an officer without
 * the role) is audited too.  Errors follow base.h; details are sentences
 * for the person who caused them and never hold a secret.  docs/ra.md
 * explains the rules.
 */
#ifndef TSR_RA_APP_H
#define TSR_RA_APP_H

#include "base/base.h"
#include "ca/ca.h"
#include "ra/mail.h"
#include "ra/secret.h"
#include "ra/state.h"
#include "store/store.h"

/* ------------------------------------------------------------------ context */
struct tsr_ra;

#define TSR_RA_POOL_MAX 32    /* store connections kept open at most */

/* Build the workflow's context for an open CA (borrowed: it must outlive
 * the context): load the code key (HOME/codes.key, created if missing),
 * the password list ([ra] password_list or the built-in one; the
 * TESSERA_PASSWORD_LIST environment variable overrides both), check the
 * mail configuration.  TSR_ERR_CONFIG naming the problem. */
int tsr_ra_open(struct tsr_ca *ca, struct tsr_ra **out) TSR_MUST_CHECK;
void tsr_ra_close(struct tsr_ra *ra);
const struct tsr_config *tsr_ra_config(const struct tsr_ra *ra);
/* The CA it was opened on (borrowed). */
struct tsr_ca *tsr_ra_ca(const struct tsr_ra *ra);
/* The applicant mail channel (outbox and relay) built from [mail]. */
const struct tsr_mail_config *tsr_ra_mail(const struct tsr_ra *ra);

/* A store connection for this thread's request: from the pool, or newly
 * opened (SQLite connections must not be shared between threads that run
 * at once).  Give it back with tsr_ra_store_release(); a connection with a
 * transaction left open is rolled back first. */
int tsr_ra_store_acquire(struct tsr_ra *ra, struct tsr_store **out) TSR_MUST_CHECK;
void tsr_ra_store_release(struct tsr_ra *ra, struct tsr_store *st);

/* ------------------------------------------------------------------ applying */
#define TSR_RA_ANSWERS_MIN 3
#define TSR_RA_ANSWERS_MAX 5
#define TSR_RA_REASON_MAX 1000     /* bytes of a rejection or withdrawal reason */

/* Storage choices.  A product's storage allows: hardware -> new-token,
 * existing-token; software -> software; either -> all three. */
#define TSR_CHOICE_NEW_TOKEN "new-token"
#define TSR_CHOICE_EXISTING_TOKEN "existing-token"
#define TSR_CHOICE_SOFTWARE "software"

struct tsr_ra_answer {
	const char *question;      /* 1..TSR_QUESTION_MAX bytes, printable */
	const char *answer;        /* normalised with tsr_answer_normalise() */
};

/* What an applicant submits.  Fields the product does not list in
 * applicant_fields must be NULL; the ones it lists are required. */
struct tsr_ra_application {
	const char *product;
	const char *storage;       /* TSR_STORAGE_* */
	const char *agreement;     /* must equal [ra] agreement_version */
	const char *password;
	const char *voucher;       /* required unless the product is free */
	const struct tsr_ra_answer *answers;
	size_t n_answers;          /* TSR_RA_ANSWERS_MIN..TSR_RA_ANSWERS_MAX, questions distinct */
	/* applicant fields (product applicant_fields) */
	const char *given_name;    /* "name": given and family name, both required */
	const char *family_name;
	const char *email;
	const char *address;
	const char *date_of_birth; /* YYYY-MM-DD */
	const char *npi;
	const char *dea;
	const char *organization;
	const char *phone;
	const char *domain;
};

/* The subscriber agreement's text ([ra] agreement_file, read at each
 * call): *text a new NUL-terminated string (free()) of UTF-8 without NUL
 * bytes, 1..TSR_RA_AGREEMENT_MAX bytes, and sha256 its hex SHA-256.
 * TSR_ERR_CONFIG if it is not configured, cannot be read, is empty, too
 * large or not UTF-8 (the detail names the file: for the log only). */
#define TSR_RA_AGREEMENT_MAX (256 * 1024)
int tsr_ra_agreement_text(const struct tsr_ra *ra, char **text, char sha256[65])
    TSR_MUST_CHECK;

/*
 * Check and store a new application, redeem its voucher, and mail the
 * email verification code, all or nothing (the mail is written after the
 * commit; a relay failure leaves it in the outbox and is not an error for
 * the applicant).  The new id goes into id_out ("AP-XXXX-XXXX-XXXX").
 * Refusals: TSR_ERR_INVALID (a field missing, malformed or not allowed by
 * the product; a bad NPI or DEA check digit; unknown product or storage),
 * TSR_ERR_POLICY (weak password, old agreement version, voucher used or for
 * another product), TSR_ERR_PARSE (a typo in the voucher), TSR_ERR_NOT_FOUND
 * (unknown voucher), TSR_ERR_CONFIG (the agreement's text cannot be read:
 * tsr_ra_agreement_text()).  Audited as application.submit, with the
 * SHA-256 of the agreement's text.
 */
int tsr_ra_apply(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const struct tsr_ra_application *a, char id_out[TSR_APP_ID_MAX + 1]) TSR_MUST_CHECK;

/*
 * The applicant typed code for application id.  On success the email is
 * verified and the application goes on to review at once: the automatic
 * checks and the product's external verifier run, and it enters the
 * officers' queue (under_review).  A wrong code counts a failure on the
 * code; at [ra] max_failures the code locks (an officer unlocks it, or the
 * applicant asks for a new one).  Refusals: TSR_ERR_PARSE (typo caught by
 * the check symbol: not counted), TSR_ERR_AUTH (wrong code), TSR_ERR_POLICY
 * (expired, used, locked, or the application is not waiting for one),
 * TSR_ERR_NOT_FOUND (no such application).
 */
int tsr_ra_verify_email(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *typed_code) TSR_MUST_CHECK;

/* Mail a new verification code (the old one stops working).  Only while the
 * application is submitted, and at most one a minute (TSR_ERR_POLICY).
 * Audited as application.code. */
int tsr_ra_resend_verification(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id) TSR_MUST_CHECK;

/*
 * Check the applicant's password for application id.  TSR_ERR_AUTH "wrong
 * application number or password" for an unknown id, a wrong password
 * (counted: the max_failures-th locks the account and ends its sessions)
 * and any password on a locked account: an unknown id and a locked account
 * are checked against a dummy hash, so the time and the answer are the
 * same and guessing past the lock learns nothing.  An officer unlocks.  A
 * success resets the count, inside the write lock after reading the
 * account again (a lock taken meanwhile wins).  Audited as
 * application.login with the truth.
 */
int tsr_ra_applicant_login(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *password) TSR_MUST_CHECK;

/* The questions of application id in order (for the reset form):
 * questions[i] are new strings, *n their count; free with
 * tsr_ra_questions_free().  TSR_ERR_NOT_FOUND if there is no such
 * application. */
int tsr_ra_questions(struct tsr_store *st, const char *id, char ***questions, size_t *n)
    TSR_MUST_CHECK;
void tsr_ra_questions_free(char **questions, size_t n);

/*
 * Reset the password with the answers to every secret question (answers[i]
 * answers question i; n must equal their number).  All answers must match;
 * a mismatch counts one failure on the account, like a wrong password.  A
 * locked account is refused (TSR_ERR_POLICY) before any answer is checked.
 * Success sets the new password (checked like at application), clears the
 * failure count, and ends the applicant's sessions.  Only while the
 * application is not final.
 * Audited as application.reset.
 */
int tsr_ra_reset_password(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *const *answers, size_t n, const char *new_password)
    TSR_MUST_CHECK;

/* The applicant withdraws (any state that is not final).  reason may be
 * NULL.  Audited; a status message is mailed. */
int tsr_ra_withdraw(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *reason) TSR_MUST_CHECK;

/*
 * Lapse every application whose deadline passed at now: submitted longer
 * than [ra] email_days, or activation_issued with an activation code that
 * expired unused.  Each lapse is its own transaction, audited and mailed;
 * *lapsed (if not NULL) gets how many.  The server runs this every minute;
 * `tessera ra lapse` runs it once.
 */
int tsr_ra_lapse_sweep(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    time_t now, int *lapsed) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ review
 * officer is a user name (store users); every call checks that the user
 * exists, is enabled, not locked and holds ra-officer (TSR_ERR_FORBIDDEN,
 * audited, otherwise).
 */

/* Approve application id (under_review).  An officer approves once
 * (TSR_ERR_POLICY "you have already approved this application", audited);
 * the product's ra_approvals-th distinct approval is final: it needs an
 * assigned token serial for storage new-token (TSR_ERR_POLICY otherwise,
 * nothing recorded), moves the application to approved and issues the
 * activation code (activation_issued) in the same transaction, then mails
 * the letters.  token_serial, if not NULL, is assigned
 * first (as tsr_ra_assign_token()).  comment may be NULL.  *final_out (if
 * not NULL) says whether this approval was the last one needed. */
int tsr_ra_approve(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *token_serial, const char *comment, bool *final_out)
    TSR_MUST_CHECK;

/* Reject application id (email_verified or under_review) with a
 * reason (1..TSR_RA_REASON_MAX bytes, required).  Mailed to the applicant. */
int tsr_ra_reject(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *reason) TSR_MUST_CHECK;

/* Assign the serial of the hardware token that will be shipped (storage
 * new-token or existing-token; before approval is final).  The serial is
 * 1..TSR_TOKEN_SERIAL_MAX printable ASCII characters without spaces, and
 * no other application holds it unless that one was rejected, lapsed or
 * withdrawn (TSR_ERR_EXISTS). */
int tsr_ra_assign_token(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, const char *serial) TSR_MUST_CHECK;

/* What an officer unlocks. */
enum tsr_ra_unlock {
	TSR_RA_UNLOCK_ACCOUNT,       /* the applicant's password/answers lock */
	TSR_RA_UNLOCK_CODE,          /* the current verification or activation code */
};
int tsr_ra_unlock(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id, enum tsr_ra_unlock what) TSR_MUST_CHECK;

/* Reissue the activation (a new code, the old one stops working; a new
 * passcode letter for new-token) while activation_issued: for a letter
 * that never arrived.  Audited. */
int tsr_ra_reissue_activation(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *id) TSR_MUST_CHECK;

/* Whether officer may review (exists, enabled, unlocked, ra-officer).  0 or
 * TSR_ERR_FORBIDDEN; not audited (callers that act audit). */
int tsr_ra_officer_check(struct tsr_store *st, const char *officer, const char *role)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ sessions
 * Bearer tokens: 256 random bits, base64url without padding (43 chars);
 * only their SHA-256 is stored.  Subjects are "officer:NAME" and
 * "applicant:ID".  Officers' sessions end after [ra] officer_idle_minutes
 * without a request and officer_session_hours in all (SP 800-63B AAL2);
 * applicants' after applicant_idle_minutes idle and 12 hours in all.
 */
#define TSR_SESSION_TOKEN_LEN 44     /* 43 characters and the NUL */
#define TSR_SESSION_PREFIX_OFFICER "officer:"
#define TSR_SESSION_PREFIX_APPLICANT "applicant:"

/* Log an officer in (tsr_ra_user_authenticate() with [ra] max_failures)
 * and start a session.  expires_at (if not NULL) gets its absolute end. */
int tsr_ra_officer_login(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *name, const char *password, char token[TSR_SESSION_TOKEN_LEN],
    int64_t *expires_at) TSR_MUST_CHECK;
/* tsr_ra_applicant_login() and a session for the applicant, started in
 * the same transaction as the success. */
int tsr_ra_applicant_session(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *password, char token[TSR_SESSION_TOKEN_LEN],
    int64_t *expires_at) TSR_MUST_CHECK;
/* Check a token at now: on success subject (size bytes) gets the subject
 * and the session's last_seen is moved to now.  TSR_ERR_AUTH for an
 * unknown, idle or expired session (the last two are deleted). */
int tsr_ra_session_check(struct tsr_ra *ra, struct tsr_store *st, const char *token,
    char *subject, size_t size) TSR_MUST_CHECK;
/* A live session as tsr_ra_session_info() describes it. */
struct tsr_ra_session_info {
	char subject[TSR_SESSION_SUBJECT_MAX + 1];
	int64_t expires_at;          /* the absolute end */
	int64_t idle_expires_at;     /* the end if no request moves the idle limit first
	                              * (never after expires_at) */
};
/* Describe the session of token without moving its idle limit (a page that
 * polls it must not keep a session alive).  TSR_ERR_AUTH as
 * tsr_ra_session_check(), which this does not replace. */
int tsr_ra_session_info(struct tsr_ra *ra, struct tsr_store *st, const char *token,
    struct tsr_ra_session_info *out) TSR_MUST_CHECK;
/* End the session of token (log out).  TSR_ERR_AUTH if there is none. */
int tsr_ra_session_end(struct tsr_ra *ra, struct tsr_store *st, const char *token)
    TSR_MUST_CHECK;
/* The CSRF value of a browser session (docs/web.md): base64url without
 * padding of HMAC-SHA-256 under the code key of "csrf:" and token, 43
 * characters; nothing is stored.  TSR_ERR_INVALID for a malformed token. */
int tsr_ra_session_csrf(const struct tsr_ra *ra, const char *token,
    char csrf[TSR_SESSION_TOKEN_LEN]) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ views
 * For the API and the CLI.  None returns a hash or a code. */

/* Read application id for display (tsr_app_record_clear() it; its
 * password_hash is already wiped and NULL). */
int tsr_ra_app_get(struct tsr_store *st, const char *id, struct tsr_app_record *out)
    TSR_MUST_CHECK;
/* The approvals of id (oldest first): *out is an array of *n records the
 * caller frees with tsr_ra_approvals_free(). */
int tsr_ra_approvals(struct tsr_store *st, const char *id, struct tsr_approval_record **out,
    size_t *n) TSR_MUST_CHECK;
void tsr_ra_approvals_free(struct tsr_approval_record *a, size_t n);
/* Whether the current code of purpose is locked (false if none). */
bool tsr_ra_code_locked(struct tsr_store *st, const char *id, const char *purpose);
/* What the applicant must do next, one sentence, for state s. */
const char *tsr_ra_next_step(enum tsr_app_state s, const char *storage);

#endif /* TSR_RA_APP_H */
