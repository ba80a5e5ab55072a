/*
 * test_validate.c - the applicant's fields: NPI, DEA number, email, date of
 * birth, postal address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ra/secret.h"

static void expect_invalid(int r, const char *detail)
{
	assert_int_equal(r, TSR_ERR_INVALID);
	if (detail != NULL)
		assert_string_equal(tsr_error_detail(), detail);
}

/* ------------------------------------------------------------------ NPI */
/*
 * Known answers.  1234567893 is CMS's own example.  1000000004 by hand: the
 * Luhn digits of 80840 100000000 from the right double 0,0,0,0,1 (the 1 is
 * the ninth digit, doubled to 2) and the prefix contributes 8 + 8 + 2*4 = 24;
 * 24 + 2 = 26, so the check digit is 10 - 6 = 4.
 */
static void test_npi(void **state)
{
	static const char *const good[] = {
		"1234567893", "1000000004", "1999999992", "9876543213",
	};
	char bad[11];

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(good); i++)
		if (tsr_npi_check(good[i]) != 0)
			fail_msg("%s: %s", good[i], tsr_error_detail());
	expect_invalid(tsr_npi_check("1234567890"), "the NPI's check digit is wrong");
	expect_invalid(tsr_npi_check("123456789"), "the NPI must be exactly 10 digits");
	expect_invalid(tsr_npi_check("12345678931"), "the NPI must be exactly 10 digits");
	expect_invalid(tsr_npi_check("12345a7893"), "the NPI must be exactly 10 digits");
	expect_invalid(tsr_npi_check(" 1234567893"), NULL);
	expect_invalid(tsr_npi_check(""), NULL);
	expect_invalid(tsr_npi_check(NULL), NULL);
	/* Luhn catches every single-digit error. */
	for (size_t i = 0; i < 10; i++) {
		for (char d = '0'; d <= '9'; d++) {
			if (d == good[0][i])
				continue;
			strcpy(bad, good[0]);
			bad[i] = d;
			expect_invalid(tsr_npi_check(bad), "the NPI's check digit is wrong");
		}
	}
}

/* ------------------------------------------------------------------ DEA */
/*
 * Known answers, by hand: AB1234563 has (1+3+5) + 2*(2+4+6) = 9 + 24 = 33,
 * check digit 3.  BJ6125341 has (6+2+3) + 2*(1+5+4) = 11 + 20 = 31, check 1.
 */
static void test_dea(void **state)
{
	(void)state;
	assert_int_equal(tsr_dea_check("AB1234563", "Brown"), 0);
	assert_int_equal(tsr_dea_check("BJ6125341", "jones"), 0);
	assert_int_equal(tsr_dea_check("BJ6125341", "  Jones"), 0);
	assert_int_equal(tsr_dea_check("AB1234563", NULL), 0);
	assert_int_equal(tsr_dea_check("AB1234563", ""), 0);
	/* '9' for a business name: any last name. */
	assert_int_equal(tsr_dea_check("A91234563", "Smith"), 0);
	/* A last name starting with a non-ASCII letter cannot be compared. */
	assert_int_equal(tsr_dea_check("MO1234563", "\xc3\x98" "degaard"), 0);
	expect_invalid(tsr_dea_check("AB1234563", "Smith"),
	    "the DEA number's second letter is not the initial of the last name");
	expect_invalid(tsr_dea_check("AB1234564", "Brown"),
	    "the DEA number's check digit is wrong");
	expect_invalid(tsr_dea_check("BJ6125314", "Jones"), NULL);
	expect_invalid(tsr_dea_check("IB1234563", "Brown"),
	    "the DEA number's first letter is not a DEA registrant type");
	expect_invalid(tsr_dea_check("NB1234563", "Brown"), NULL);
	expect_invalid(tsr_dea_check("ab1234563", "Brown"),
	    "the DEA number must be two capital letters and seven digits, like AB1234563");
	expect_invalid(tsr_dea_check("AB123456", "Brown"), NULL);
	expect_invalid(tsr_dea_check("AB12345630", "Brown"), NULL);
	expect_invalid(tsr_dea_check("A81234563", "Brown"), NULL);
	expect_invalid(tsr_dea_check("AB12E4563", "Brown"), NULL);
	expect_invalid(tsr_dea_check("", NULL), NULL);
	expect_invalid(tsr_dea_check(NULL, NULL), NULL);
	/* Every registrant type the DEA issues, with a matching check digit. */
	for (const char *t = "ABCDEFGHJKLMPRSTUX"; *t; t++) {
		char dea[10];

		snprintf(dea, sizeof(dea), "%cB1234563", *t);
		assert_int_equal(tsr_dea_check(dea, "Brown"), 0);
	}
}

/* ------------------------------------------------------------------ email */
static void test_email(void **state)
{
	char big[300];

	(void)state;
	assert_int_equal(tsr_email_check("jane.doe@example.com"), 0);
	assert_int_equal(tsr_email_check("j+tessera@Mail.Example.ORG"), 0);
	expect_invalid(tsr_email_check("jane..doe@example.com"), NULL);
	assert_non_null(strstr(tsr_error_detail(), "the email address is not valid: "));
	expect_invalid(tsr_email_check("jane"), NULL);
	expect_invalid(tsr_email_check("jane@localhost"), NULL);
	expect_invalid(tsr_email_check("a@b@example.com"), NULL);
	expect_invalid(tsr_email_check(" jane@example.com"), NULL);
	expect_invalid(tsr_email_check("jane@example.com\n"), NULL);
	expect_invalid(tsr_email_check("j\xc3\xa4ne@example.com"), NULL);
	expect_invalid(tsr_email_check(""), "the email address is missing");
	expect_invalid(tsr_email_check(NULL), "the email address is missing");
	memset(big, 'a', sizeof(big));
	memcpy(big + 250, "@example.com", 13);
	expect_invalid(tsr_email_check(big), "the email address is longer than 254 characters");
}

/* ------------------------------------------------------------------ date of birth */
static void test_date_of_birth(void **state)
{
	const time_t now = 1781524800;  /* 2026-06-15T12:00:00Z */

	(void)state;
	assert_int_equal(tsr_date_of_birth_check("1980-01-31", now), 0);
	assert_int_equal(tsr_date_of_birth_check("2000-02-29", now), 0);   /* 2000 is leap */
	expect_invalid(tsr_date_of_birth_check("2001-02-29", now),
	    "the date of birth is not a calendar date");
	expect_invalid(tsr_date_of_birth_check("1900-02-29", now), NULL);   /* 1900 is not */
	expect_invalid(tsr_date_of_birth_check("2000-13-01", now), NULL);
	expect_invalid(tsr_date_of_birth_check("2000-00-10", now), NULL);
	expect_invalid(tsr_date_of_birth_check("2000-04-31", now), NULL);
	expect_invalid(tsr_date_of_birth_check("2000-04-00", now), NULL);
	expect_invalid(tsr_date_of_birth_check("2000/01/01", now),
	    "the date of birth must be written YYYY-MM-DD");
	expect_invalid(tsr_date_of_birth_check("2000-1-01", now), NULL);
	expect_invalid(tsr_date_of_birth_check("02000-01-01", now), NULL);
	expect_invalid(tsr_date_of_birth_check("2000-01-01 ", now), NULL);
	expect_invalid(tsr_date_of_birth_check("+200-01-01", now), NULL);
	expect_invalid(tsr_date_of_birth_check(NULL, now), NULL);
	/* Future dates, down to tomorrow. */
	expect_invalid(tsr_date_of_birth_check("2026-06-16", now),
	    "the date of birth is in the future");
	expect_invalid(tsr_date_of_birth_check("2027-01-01", now), NULL);
	/* Today: a date, but a newborn. */
	expect_invalid(tsr_date_of_birth_check("2026-06-15", now),
	    "the date of birth makes the applicant younger than 16");
	/* 16 today is old enough; 16 tomorrow is not. */
	assert_int_equal(tsr_date_of_birth_check("2010-06-15", now), 0);
	expect_invalid(tsr_date_of_birth_check("2010-06-16", now), NULL);
	/* 129 and 130 are fine; 131 today is too old. */
	assert_int_equal(tsr_date_of_birth_check("1896-06-16", now), 0);
	assert_int_equal(tsr_date_of_birth_check("1895-06-16", now), 0);
	expect_invalid(tsr_date_of_birth_check("1895-06-15", now),
	    "the date of birth makes the applicant older than 130");
}

/* ------------------------------------------------------------------ postal address */
static void test_postal_address(void **state)
{
	char big[700];

	(void)state;
	assert_int_equal(tsr_postal_address_check("1 Main St\nSpringfield, IL 62701"), 0);
	assert_int_equal(tsr_postal_address_check("1 Main St\r\nSpringfield, IL 62701\r\n"), 0);
	assert_int_equal(tsr_postal_address_check("Stra\xc3\x9f" "e 1\n10115 Berlin"), 0);
	assert_int_equal(tsr_postal_address_check("a\nb\nc\nd\ne\nf\n"), 0);
	expect_invalid(tsr_postal_address_check("a\nb\nc\nd\ne\nf\ng"),
	    "the postal address has more than 6 lines");
	expect_invalid(tsr_postal_address_check(""), "the postal address is empty");
	expect_invalid(tsr_postal_address_check("  \n \r\n"), "the postal address is empty");
	expect_invalid(tsr_postal_address_check(NULL), "the postal address is missing");
	expect_invalid(tsr_postal_address_check("1 Main St\tApt 2"),
	    "the postal address contains a control character");
	expect_invalid(tsr_postal_address_check("1 Main St\rSpringfield"), NULL);
	expect_invalid(tsr_postal_address_check("1 Main St\xc2\x85"), NULL);
	expect_invalid(tsr_postal_address_check("1 Main St \xff"),
	    "the postal address is not valid UTF-8 text");
	/* 300 characters, counted as characters, not bytes. */
	memset(big, 'x', 300);
	big[300] = '\0';
	assert_int_equal(tsr_postal_address_check(big), 0);
	big[300] = 'x';
	big[301] = '\0';
	expect_invalid(tsr_postal_address_check(big),
	    "the postal address is longer than 300 characters");
	for (size_t i = 0; i < 300; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	big[600] = '\0';
	assert_int_equal(tsr_postal_address_check(big), 0);
	memcpy(big + 600, "\xc3\xa9", 3);
	expect_invalid(tsr_postal_address_check(big), NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_npi),
		cmocka_unit_test(test_dea),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_date_of_birth),
		cmocka_unit_test(test_postal_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
