/*
 * test_state.c - the application state table and its deadlines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ra/state.h"

#define DAY 86400

static enum tsr_app_state step(enum tsr_app_state from, enum tsr_app_event ev,
    enum tsr_app_actor actor)
{
	enum tsr_app_state to = TSR_APP_STATE_COUNT;

	if (tsr_app_transition(from, ev, actor, &to) != 0)
		fail_msg("%s", tsr_error_detail());
	return to;
}

static void expect_refused(enum tsr_app_state from, enum tsr_app_event ev,
    enum tsr_app_actor actor, const char *needle)
{
	enum tsr_app_state to = TSR_APP_STATE_COUNT;

	assert_int_equal(tsr_app_transition(from, ev, actor, &to), TSR_ERR_POLICY);
	assert_int_equal(to, TSR_APP_STATE_COUNT);   /* untouched */
	if (strstr(tsr_error_detail(), needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, tsr_error_detail());
}

/* The journey of PRODUCT.md, with dual control. */
static void test_happy_path(void **state)
{
	enum tsr_app_state s = TSR_APP_SUBMITTED;

	(void)state;
	s = step(s, TSR_EV_VERIFY_EMAIL, TSR_ACTOR_APPLICANT);
	assert_int_equal(s, TSR_APP_EMAIL_VERIFIED);
	s = step(s, TSR_EV_START_REVIEW, TSR_ACTOR_SYSTEM);
	assert_int_equal(s, TSR_APP_UNDER_REVIEW);
	s = step(s, TSR_EV_APPROVE, TSR_ACTOR_OFFICER);
	assert_int_equal(s, TSR_APP_UNDER_REVIEW);
	s = step(s, TSR_EV_APPROVE_FINAL, TSR_ACTOR_OFFICER);
	assert_int_equal(s, TSR_APP_APPROVED);
	s = step(s, TSR_EV_ISSUE_ACTIVATION, TSR_ACTOR_SYSTEM);
	assert_int_equal(s, TSR_APP_ACTIVATION_ISSUED);
	s = step(s, TSR_EV_RETRIEVE, TSR_ACTOR_APPLICANT);
	assert_int_equal(s, TSR_APP_CERTIFICATE_ISSUED);
}

static void test_final_states(void **state)
{
	const enum tsr_app_state finals[] = { TSR_APP_CERTIFICATE_ISSUED, TSR_APP_REJECTED,
		TSR_APP_LAPSED, TSR_APP_WITHDRAWN };

	(void)state;
	for (int s = 0; s < TSR_APP_STATE_COUNT; s++) {
		bool expected = false;

		for (size_t i = 0; i < TSR_ARRAY_LEN(finals); i++)
			expected |= finals[i] == (enum tsr_app_state)s;
		assert_int_equal(tsr_app_state_is_final((enum tsr_app_state)s), expected);
	}
	/* nothing leaves a final state, whoever asks */
	for (size_t i = 0; i < TSR_ARRAY_LEN(finals); i++)
		for (int ev = 0; ev < TSR_APP_EVENT_COUNT; ev++)
			for (int a = TSR_ACTOR_APPLICANT; a <= TSR_ACTOR_SYSTEM; a++)
				expect_refused(finals[i], (enum tsr_app_event)ev,
				    (enum tsr_app_actor)a, tsr_app_state_name(finals[i]));
}

static void test_refusals(void **state)
{
	(void)state;
	/* no approval before the email is verified and the review started */
	expect_refused(TSR_APP_SUBMITTED, TSR_EV_APPROVE_FINAL, TSR_ACTOR_OFFICER,
	    "'approve_final' is not possible for an application that is submitted");
	expect_refused(TSR_APP_EMAIL_VERIFIED, TSR_EV_APPROVE, TSR_ACTOR_OFFICER, "approve");
	/* no activation without approval, no retrieval without activation */
	expect_refused(TSR_APP_UNDER_REVIEW, TSR_EV_ISSUE_ACTIVATION, TSR_ACTOR_SYSTEM,
	    "under_review");
	expect_refused(TSR_APP_APPROVED, TSR_EV_RETRIEVE, TSR_ACTOR_APPLICANT, "approved");
	/* the right event by the wrong actor */
	expect_refused(TSR_APP_SUBMITTED, TSR_EV_VERIFY_EMAIL, TSR_ACTOR_OFFICER,
	    "an officer may not 'verify_email' an application that is submitted");
	expect_refused(TSR_APP_UNDER_REVIEW, TSR_EV_APPROVE_FINAL, TSR_ACTOR_APPLICANT,
	    "the applicant may not");
	expect_refused(TSR_APP_UNDER_REVIEW, TSR_EV_WITHDRAW, TSR_ACTOR_OFFICER, "withdraw");
	expect_refused(TSR_APP_UNDER_REVIEW, TSR_EV_LAPSE, TSR_ACTOR_SYSTEM, "lapse");
	/* the system never approves: dual control is people */
	expect_refused(TSR_APP_UNDER_REVIEW, TSR_EV_APPROVE, TSR_ACTOR_SYSTEM, "the system");
}

static void test_withdraw_from_every_open_state(void **state)
{
	(void)state;
	for (int s = 0; s < TSR_APP_STATE_COUNT; s++) {
		enum tsr_app_state to;
		int r = tsr_app_transition((enum tsr_app_state)s, TSR_EV_WITHDRAW,
		    TSR_ACTOR_APPLICANT, &to);

		if (tsr_app_state_is_final((enum tsr_app_state)s)) {
			assert_int_equal(r, TSR_ERR_POLICY);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(to, TSR_APP_WITHDRAWN);
		}
	}
}

/* Every state can be reached from submitted: the table has no dead rows. */
static void test_every_state_reachable(void **state)
{
	bool seen[TSR_APP_STATE_COUNT] = { [TSR_APP_SUBMITTED] = true };
	bool grew = true;

	(void)state;
	while (grew) {
		grew = false;
		for (int s = 0; s < TSR_APP_STATE_COUNT; s++)
			for (int ev = 0; ev < TSR_APP_EVENT_COUNT && seen[s]; ev++)
				for (int a = TSR_ACTOR_APPLICANT; a <= TSR_ACTOR_SYSTEM; a++) {
					enum tsr_app_state to;

					if (tsr_app_transition((enum tsr_app_state)s,
					    (enum tsr_app_event)ev, (enum tsr_app_actor)a,
					    &to) == 0 && !seen[to]) {
						seen[to] = true;
						grew = true;
					}
				}
	}
	for (int s = 0; s < TSR_APP_STATE_COUNT; s++)
		if (!seen[s])
			fail_msg("state %s cannot be reached", tsr_app_state_name(s));
}

static void test_names(void **state)
{
	enum tsr_app_state s;

	(void)state;
	for (int i = 0; i < TSR_APP_STATE_COUNT; i++) {
		assert_int_equal(tsr_app_state_parse(tsr_app_state_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(tsr_app_state_name(TSR_APP_UNDER_REVIEW), "under_review");
	assert_string_equal(tsr_app_event_name(TSR_EV_APPROVE_FINAL), "approve_final");
	assert_int_equal(tsr_app_state_parse("Under_Review", &s), TSR_ERR_INVALID);
	assert_int_equal(tsr_app_state_parse("", &s), TSR_ERR_INVALID);
	assert_string_equal(tsr_app_state_name((enum tsr_app_state)99), "unknown");
}

/* Deadlines are judged against a given "now": no sleeping. */
static void test_lapse(void **state)
{
	const struct tsr_app_deadlines d = { 30, 14 };
	const time_t t0 = 1790000000;

	(void)state;
	assert_false(tsr_app_lapse_due(TSR_APP_SUBMITTED, t0, t0 + 30 * DAY - 1, &d));
	assert_true(tsr_app_lapse_due(TSR_APP_SUBMITTED, t0, t0 + 30 * DAY, &d));
	assert_false(tsr_app_lapse_due(TSR_APP_ACTIVATION_ISSUED, t0, t0 + 14 * DAY - 1, &d));
	assert_true(tsr_app_lapse_due(TSR_APP_ACTIVATION_ISSUED, t0, t0 + 14 * DAY, &d));
	/* waiting for an officer never lapses, nor does anything final */
	for (int s = 0; s < TSR_APP_STATE_COUNT; s++)
		if (s != TSR_APP_SUBMITTED && s != TSR_APP_ACTIVATION_ISSUED)
			assert_false(tsr_app_lapse_due((enum tsr_app_state)s, t0, t0 + 3650L * DAY,
			    &d));
	/* and a lapse that is due is a transition the table allows */
	{
		enum tsr_app_state to;

		assert_int_equal(tsr_app_transition(TSR_APP_SUBMITTED, TSR_EV_LAPSE,
		    TSR_ACTOR_SYSTEM, &to), 0);
		assert_int_equal(to, TSR_APP_LAPSED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_withdraw_from_every_open_state),
		cmocka_unit_test(test_every_state_reachable),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lapse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
