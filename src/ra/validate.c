/*
 * validate.c - checks of the applicant's fields: NPI and DEA numbers with
 * their check digits, email address, date of birth, postal address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ra/secret.h"
#include "x509/x509.h"

#define ADDRESS_MAX_CHARS 300
#define ADDRESS_MAX_LINES 6
/* Every character in 4 bytes of UTF-8, every line ended by CRLF. */
#define ADDRESS_MAX_BYTES (ADDRESS_MAX_CHARS * 4 + ADDRESS_MAX_LINES * 2)
#define EMAIL_MAX 254
#define AGE_MIN 16
#define AGE_MAX 130

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------ NPI */
/* The Luhn check digit of n decimal digits: from the right, every second
 * digit (starting with the rightmost) is doubled and its digits summed. */
static int luhn_check_digit(const char *digits, size_t n)
{
	unsigned sum = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned d = (unsigned)(digits[n - 1 - k] - '0');

		if (k % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (int)((10 - sum % 10) % 10);
}

/* CMS computes the NPI check digit as the Luhn digit of the 9 first digits
 * behind the prefix 80840 (the NPI's ISO 7812 issuer identifier). */
int tsr_npi_check(const char *s)
{
	char payload[5 + 9 + 1] = "80840";

	if (s == NULL || strnlen(s, 11) != 10 || !all_digits(s, 10))
		return tsr_error(TSR_ERR_INVALID, "the NPI must be exactly 10 digits");
	memcpy(payload + 5, s, 9);
	payload[14] = '\0';
	if (luhn_check_digit(payload, 14) != s[9] - '0')
		return tsr_error(TSR_ERR_INVALID, "the NPI's check digit is wrong");
	return 0;
}

/* ------------------------------------------------------------------ DEA */
/* First letters of DEA registrations (registrant types). */
static const char dea_types[] = "ABCDEFGHJKLMPRSTUX";

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* The initial of a last name as DEA uses it, or 0 if it is not an ASCII
 * letter (then it cannot be compared). */
static char initial_of(const char *last_name)
{
	while (*last_name == ' ')
		last_name++;
	if (*last_name >= 'a' && *last_name <= 'z')
		return (char)(*last_name - 'a' + 'A');
	return is_upper(*last_name) ? *last_name : 0;
}

static bool dea_check_digit_ok(const char *d)
{
	int sum = (d[0] - '0') + (d[2] - '0') + (d[4] - '0') +
	    2 * ((d[1] - '0') + (d[3] - '0') + (d[5] - '0'));

	return sum % 10 == d[6] - '0';
}

int tsr_dea_check(const char *s, const char *last_name)
{
	char initial;

	if (s == NULL || strnlen(s, 10) != 9 || !is_upper(s[0]) ||
	    !(is_upper(s[1]) || s[1] == '9') || !all_digits(s + 2, 7))
		return tsr_error(TSR_ERR_INVALID, "the DEA number must be two capital letters and "
		    "seven digits, like AB1234563");
	if (strchr(dea_types, s[0]) == NULL)
		return tsr_error(TSR_ERR_INVALID, "the DEA number's first letter is not a DEA "
		    "registrant type");
	/* '9' stands for registrants with a business name instead of a person's. */
	if (s[1] != '9' && last_name != NULL && (initial = initial_of(last_name)) != 0 &&
	    initial != s[1])
		return tsr_error(TSR_ERR_INVALID, "the DEA number's second letter is not the "
		    "initial of the last name");
	if (!dea_check_digit_ok(s + 2))
		return tsr_error(TSR_ERR_INVALID, "the DEA number's check digit is wrong");
	return 0;
}

/* ------------------------------------------------------------------ email */
/* One email syntax for the whole CA: the one certificates accept. */
int tsr_email_check(const char *s)
{
	struct tsr_san san;
	char *tagged = NULL;
	int r;

	if (s == NULL || s[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "the email address is missing");
	if (strnlen(s, EMAIL_MAX + 1) > EMAIL_MAX)
		return tsr_error(TSR_ERR_INVALID, "the email address is longer than %d characters",
		    EMAIL_MAX);
	if (asprintf(&tagged, "email:%s", s) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	r = tsr_san_parse(tagged, &san);
	free(tagged);
	if (r == TSR_ERR_NOMEM)
		return r;
	if (r != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "the email address is not valid");
	tsr_san_clear(&san);
	return 0;
}

/* ------------------------------------------------------------------ date of birth */
static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return (m == 2 && leap_year(y)) ? 29 : days[m - 1];
}

static int number(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int tsr_date_of_birth_check(const char *s, time_t now)
{
	struct tm t;
	int y, m, d, age;

	if (s == NULL || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-' ||
	    !all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
		return tsr_error(TSR_ERR_INVALID, "the date of birth must be written YYYY-MM-DD");
	y = number(s, 4), m = number(s + 5, 2), d = number(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return tsr_error(TSR_ERR_INVALID, "the date of birth is not a calendar date");
	if (gmtime_r(&now, &t) == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "the clock is out of range");
	t.tm_year += 1900, t.tm_mon += 1;
	if (y > t.tm_year || (y == t.tm_year && (m > t.tm_mon || (m == t.tm_mon && d > t.tm_mday))))
		return tsr_error(TSR_ERR_INVALID, "the date of birth is in the future");
	/* Age in whole years: one less until this year's birthday. */
	age = t.tm_year - y - ((t.tm_mon < m || (t.tm_mon == m && t.tm_mday < d)) ? 1 : 0);
	if (age < AGE_MIN)
		return tsr_error(TSR_ERR_INVALID, "the date of birth makes the applicant younger "
		    "than %d", AGE_MIN);
	if (age > AGE_MAX)
		return tsr_error(TSR_ERR_INVALID, "the date of birth makes the applicant older "
		    "than %d", AGE_MAX);
	return 0;
}

/* ------------------------------------------------------------------ postal address */
/* Line breaks (LF or CRLF) separate lines and are not counted as characters. */
int tsr_postal_address_check(const char *s)
{
	size_t n, i = 0, chars = 0, lines = 1;
	bool blank = true;

	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "the postal address is missing");
	n = strnlen(s, ADDRESS_MAX_BYTES + 1);
	if (n > ADDRESS_MAX_BYTES)
		return tsr_error(TSR_ERR_INVALID, "the postal address is longer than %d characters",
		    ADDRESS_MAX_CHARS);
	while (i < n) {
		uint32_t c;

		if (tsr_utf8_next(s, n, &i, &c) != 0)
			return tsr_error(TSR_ERR_INVALID, "the postal address is not valid "
			    "UTF-8 text");
		if (c == '\r' && i < n && s[i] == '\n')
			continue;
		if (c == '\n') {
			lines += i < n;  /* one trailing line break is not a line */
			continue;
		}
		if (tsr_utf8_is_control(c))
			return tsr_error(TSR_ERR_INVALID, "the postal address contains a control "
			    "character");
		chars++;
		blank = blank && c == ' ';
	}
	if (blank)
		return tsr_error(TSR_ERR_INVALID, "the postal address is empty");
	if (chars > ADDRESS_MAX_CHARS)
		return tsr_error(TSR_ERR_INVALID, "the postal address is longer than %d characters",
		    ADDRESS_MAX_CHARS);
	if (lines > ADDRESS_MAX_LINES)
		return tsr_error(TSR_ERR_INVALID, "the postal address has more than %d lines",
		    ADDRESS_MAX_LINES);
	return 0;
}
