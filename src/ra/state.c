/*
 * state.c - the application state table.
 *
 * The table is the whole workflow: reading it answers "who can do what,
 * when".  Keep it sorted by the state a row leaves.
 */
#include <string.h>

#include "ra/state.h"

#define DAY 86400

struct transition {
	enum tsr_app_state from;
	enum tsr_app_event ev;
	enum tsr_app_actor actor;
	enum tsr_app_state to;
};

static const struct transition table[] = {
	{ TSR_APP_SUBMITTED, TSR_EV_VERIFY_EMAIL, TSR_ACTOR_APPLICANT, TSR_APP_EMAIL_VERIFIED },
	{ TSR_APP_SUBMITTED, TSR_EV_LAPSE, TSR_ACTOR_SYSTEM, TSR_APP_LAPSED },
	{ TSR_APP_SUBMITTED, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT, TSR_APP_WITHDRAWN },

	{ TSR_APP_EMAIL_VERIFIED, TSR_EV_START_REVIEW, TSR_ACTOR_SYSTEM, TSR_APP_UNDER_REVIEW },
	{ TSR_APP_EMAIL_VERIFIED, TSR_EV_REJECT, TSR_ACTOR_OFFICER, TSR_APP_REJECTED },
	{ TSR_APP_EMAIL_VERIFIED, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT, TSR_APP_WITHDRAWN },

	/* Dual control: each approval but the last keeps the application in
	 * review; the caller counts distinct officers against the product. */
	{ TSR_APP_UNDER_REVIEW, TSR_EV_APPROVE, TSR_ACTOR_OFFICER, TSR_APP_UNDER_REVIEW },
	{ TSR_APP_UNDER_REVIEW, TSR_EV_APPROVE_FINAL, TSR_ACTOR_OFFICER, TSR_APP_APPROVED },
	{ TSR_APP_UNDER_REVIEW, TSR_EV_REJECT, TSR_ACTOR_OFFICER, TSR_APP_REJECTED },
	{ TSR_APP_UNDER_REVIEW, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT, TSR_APP_WITHDRAWN },

	{ TSR_APP_APPROVED, TSR_EV_ISSUE_ACTIVATION, TSR_ACTOR_SYSTEM, TSR_APP_ACTIVATION_ISSUED },
	{ TSR_APP_APPROVED, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT, TSR_APP_WITHDRAWN },

	{ TSR_APP_ACTIVATION_ISSUED, TSR_EV_RETRIEVE, TSR_ACTOR_APPLICANT,
	    TSR_APP_CERTIFICATE_ISSUED },
	{ TSR_APP_ACTIVATION_ISSUED, TSR_EV_LAPSE, TSR_ACTOR_SYSTEM, TSR_APP_LAPSED },
	{ TSR_APP_ACTIVATION_ISSUED, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT, TSR_APP_WITHDRAWN },
};

static const char *const state_names[TSR_APP_STATE_COUNT] = {
	"submitted", "email_verified", "under_review", "approved", "activation_issued",
	"certificate_issued", "rejected", "lapsed", "withdrawn",
};

static const char *const event_names[TSR_APP_EVENT_COUNT] = {
	"verify_email", "start_review", "approve", "approve_final", "reject",
	"issue_activation", "retrieve", "lapse", "withdraw",
};

static const char *const actor_names[] = { "the applicant", "an officer", "the system" };

const char *tsr_app_state_name(enum tsr_app_state s)
{
	return (unsigned)s < TSR_APP_STATE_COUNT ? state_names[s] : "unknown";
}

const char *tsr_app_event_name(enum tsr_app_event e)
{
	return (unsigned)e < TSR_APP_EVENT_COUNT ? event_names[e] : "unknown";
}

int tsr_app_state_parse(const char *name, enum tsr_app_state *out)
{
	for (int s = 0; s < TSR_APP_STATE_COUNT; s++) {
		if (strcmp(state_names[s], name) == 0) {
			*out = (enum tsr_app_state)s;
			return 0;
		}
	}
	return tsr_error(TSR_ERR_INVALID, "'%s' is not an application state", name);
}

bool tsr_app_state_is_final(enum tsr_app_state s)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(table); i++)
		if (table[i].from == s)
			return false;
	return true;
}

int tsr_app_transition(enum tsr_app_state from, enum tsr_app_event ev,
    enum tsr_app_actor actor, enum tsr_app_state *to)
{
	bool event_allowed = false;

	for (size_t i = 0; i < TSR_ARRAY_LEN(table); i++) {
		if (table[i].from != from || table[i].ev != ev)
			continue;
		event_allowed = true;
		if (table[i].actor == actor) {
			*to = table[i].to;
			return 0;
		}
	}
	if (event_allowed)
		return tsr_error(TSR_ERR_POLICY, "%s may not '%s' an application that is %s",
		    (unsigned)actor < TSR_ARRAY_LEN(actor_names) ? actor_names[actor] : "nobody",
		    tsr_app_event_name(ev), tsr_app_state_name(from));
	return tsr_error(TSR_ERR_POLICY, "'%s' is not possible for an application that is %s",
	    tsr_app_event_name(ev), tsr_app_state_name(from));
}

bool tsr_app_lapse_due(enum tsr_app_state s, time_t entered_at, time_t now,
    const struct tsr_app_deadlines *d)
{
	int days;

	switch (s) {
	case TSR_APP_SUBMITTED:
		days = d->email_days;
		break;
	case TSR_APP_ACTIVATION_ISSUED:
		days = d->activation_days;
		break;
	case TSR_APP_EMAIL_VERIFIED:
	case TSR_APP_UNDER_REVIEW:
	case TSR_APP_APPROVED:
	case TSR_APP_CERTIFICATE_ISSUED:
	case TSR_APP_REJECTED:
	case TSR_APP_LAPSED:
	case TSR_APP_WITHDRAWN:
	default:
		return false;
	}
	return days > 0 && now - entered_at >= (time_t)days * DAY;
}
