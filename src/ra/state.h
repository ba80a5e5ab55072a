/*
 * state.h - the states of an application and the one table of transitions
 * between them.  Every change of state goes through tsr_app_transition();
 * anything the table does not list is refused.
 */
#ifndef TSR_RA_STATE_H
#define TSR_RA_STATE_H

#include "base/base.h"

enum tsr_app_state {
	TSR_APP_SUBMITTED,           /* waiting for the email verification code */
	TSR_APP_EMAIL_VERIFIED,      /* automatic checks running */
	TSR_APP_UNDER_REVIEW,        /* waiting for RA officers' approvals */
	TSR_APP_APPROVED,            /* all approvals given */
	TSR_APP_ACTIVATION_ISSUED,   /* activation code sent, retrieval pending */
	TSR_APP_CERTIFICATE_ISSUED,  /* retrieved onto the token (final) */
	TSR_APP_REJECTED,            /* refused by an officer (final) */
	TSR_APP_LAPSED,              /* a deadline passed (final) */
	TSR_APP_WITHDRAWN,           /* withdrawn by the applicant (final) */
};
#define TSR_APP_STATE_COUNT 9

enum tsr_app_event {
	TSR_EV_VERIFY_EMAIL,         /* the applicant entered the emailed code */
	TSR_EV_START_REVIEW,         /* automatic checks done: to the officers' queue */
	TSR_EV_APPROVE,              /* one officer's approval, more are needed */
	TSR_EV_APPROVE_FINAL,        /* the approval that completes the required number */
	TSR_EV_REJECT,               /* an officer refuses, with a reason */
	TSR_EV_ISSUE_ACTIVATION,     /* activation code (and token passcode) sent */
	TSR_EV_RETRIEVE,             /* the certificate was retrieved with the code */
	TSR_EV_LAPSE,                /* a deadline passed */
	TSR_EV_WITHDRAW,             /* the applicant withdraws */
};
#define TSR_APP_EVENT_COUNT 9

/* Who may cause an event. */
enum tsr_app_actor {
	TSR_ACTOR_APPLICANT,
	TSR_ACTOR_OFFICER,
	TSR_ACTOR_SYSTEM,
};

/* The state that event ev by actor leads to from state from, in *to.
 * TSR_ERR_POLICY, with a sentence naming state and event, if the table has
 * no such transition or that actor may not cause it. */
int tsr_app_transition(enum tsr_app_state from, enum tsr_app_event ev,
    enum tsr_app_actor actor, enum tsr_app_state *to) TSR_MUST_CHECK;

/* Stable names ("under_review", "approve_final") used in the store, the
 * API and the audit log. */
const char *tsr_app_state_name(enum tsr_app_state s);
const char *tsr_app_event_name(enum tsr_app_event e);
int tsr_app_state_parse(const char *name, enum tsr_app_state *out) TSR_MUST_CHECK;
/* No transition leaves a final state. */
bool tsr_app_state_is_final(enum tsr_app_state s);

/* Deadlines, in days, from the configuration. */
struct tsr_app_deadlines {
	int email_days;              /* verify the email within this (default 30) */
	int activation_days;         /* use the activation code within this (default 30) */
};

/* Whether an application in state s, which entered it at entered_at, has
 * passed its deadline at now (and must lapse).  Only submitted and
 * activation_issued applications have deadlines. */
bool tsr_app_lapse_due(enum tsr_app_state s, time_t entered_at, time_t now,
    const struct tsr_app_deadlines *d);

#endif /* TSR_RA_STATE_H */
