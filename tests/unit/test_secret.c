/*
 * test_secret.c - passwords (SP 800-63B rules and the shipped list),
 * Argon2id hashing, secret answers, codes and their keyed hashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "ra/secret.h"

/* A small list so that each rule can be tested on its own. */
static const char tiny_list[] = "# test list\r\nPassword1\r\n\r\nletmein99\nhunter22\n";

static struct tsr_password_list *tiny(void)
{
	struct tsr_password_list *l = NULL;

	assert_int_equal(tsr_password_list_parse(tiny_list, strlen(tiny_list), &l), 0);
	return l;
}

static void assert_refused(const struct tsr_password_list *l, const char *pw, const char *why)
{
	int r = tsr_password_check(l, pw, NULL, 0);

	if (r != TSR_ERR_POLICY)
		fail_msg("'%s' was not refused (%d)", pw, r);
	assert_string_equal(tsr_error_detail(), why);
}

static void assert_accepted(const struct tsr_password_list *l, const char *pw)
{
	if (tsr_password_check(l, pw, NULL, 0) != 0)
		fail_msg("'%s' was refused: %s", pw, tsr_error_detail());
}

/* ------------------------------------------------------------------ passwords */
static void test_password_length(void **state)
{
	struct tsr_password_list *l = tiny();
	char big[TSR_SECRET_MAX_BYTES + 2];
	const char *phrase = "the quick brown fox jumps over a lazy dog ";

	(void)state;
	assert_refused(l, "Xq7#vLm", "the password is shorter than 8 characters");
	assert_accepted(l, "Xq7#vLm2");
	/* Characters are code points: 7 umlauts in 14 bytes are too short,
	 * 8 of them are enough. */
	assert_refused(l, "\xc3\x84\xc3\x96\xc3\x9c\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f",
	    "the password is shorter than 8 characters");
	assert_accepted(l, "\xc3\x84\xc3\x96\xc3\x9c\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa9");
	/* No composition rules: all lower case, no digits, spaces. */
	assert_accepted(l, "correct horse battery staple");
	/* 64 characters are accepted, and so is everything up to 256 bytes. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = phrase[i % strlen(phrase)];
	big[64] = '\0';
	assert_accepted(l, big);
	big[64] = phrase[64 % strlen(phrase)];
	big[TSR_SECRET_MAX_BYTES] = '\0';
	assert_accepted(l, big);
	big[TSR_SECRET_MAX_BYTES] = 'x';
	big[TSR_SECRET_MAX_BYTES + 1] = '\0';
	assert_refused(l, big, "the password is longer than 256 bytes");
	tsr_password_list_free(l);
}

static void test_password_text(void **state)
{
	struct tsr_password_list *l = tiny();
	static const char *const bad_utf8[] = {
		"abcd\xff" "efgh",         /* not UTF-8 at all */
		"abcd\xc0\xaf" "efgh",     /* overlong '/' */
		"abcd\xed\xa0\x80" "efgh", /* a surrogate */
		"abcd\xf4\x90\x80\x80" "efgh", /* above U+10FFFF */
		"abcdefgh\xc3",            /* truncated */
	};
	static const char *const control[] = {
		"pass\tword12345", "pass\nword12345", "password12345\x7f", "pass\xc2\x85word123",
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_utf8); i++)
		assert_refused(l, bad_utf8[i], "the password is not valid UTF-8 text");
	for (size_t i = 0; i < TSR_ARRAY_LEN(control); i++)
		assert_refused(l, control[i], "the password contains a control character");
	assert_int_equal(tsr_password_check(l, NULL, NULL, 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_password_check(NULL, "Xq7#vLm2", NULL, 0), TSR_ERR_INVALID);
	tsr_password_list_free(l);
}

static void test_password_repetitive(void **state)
{
	struct tsr_password_list *l = tiny();
	static const char *const weak[] = {
		"aaaaaaaa", "12345678", "abcdefgh", "qwertyui", "zyxwvuts", "98765432",
		"poiuytre", "1234abcd", "abcd1234", "abababab", "aaaabbbb", "asdfghjkl;",
		"passpass", "1qaz1qaz", "xyzxyzxyz", "ABCDEFGH", "!@#$%^&*", "aaaaaaa1",
	};
	static const char *const fine[] = {
		"abcd1234xyz!", "horse battery", "a1b2c3d4e5", "tr0ub4dor&3", "zebra-finch-7",
	};

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(weak); i++)
		assert_refused(l, weak[i], "the password is made of repeated or sequential "
		    "characters");
	for (size_t i = 0; i < TSR_ARRAY_LEN(fine); i++)
		assert_accepted(l, fine[i]);
	tsr_password_list_free(l);
}

static void test_password_context(void **state)
{
	struct tsr_password_list *l = tiny();
	const char *const ctx[] = { "jane.doe", NULL, "Jane Doe", "tessera" };

	(void)state;
	assert_int_equal(tsr_password_check(l, "myTESSERApass!", ctx, 4), TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "the password contains your name, your email "
	    "address or the name of this service");
	assert_int_equal(tsr_password_check(l, "xJANE2024zz!", ctx, 4), TSR_ERR_POLICY);
	assert_int_equal(tsr_password_check(l, "my jane.doe key", ctx, 4), TSR_ERR_POLICY);
	/* "doe" has only three characters: not refused for it. */
	assert_int_equal(tsr_password_check(l, "doe-ray-me-x9", ctx, 4), 0);
	/* "sera" is part of "tessera" but not the word itself. */
	assert_int_equal(tsr_password_check(l, "seraphic vortex", ctx, 4), 0);
	/* Without context the same passwords pass. */
	assert_int_equal(tsr_password_check(l, "myTESSERApass!", NULL, 0), 0);
	tsr_password_list_free(l);
}

static void test_password_tiny_list(void **state)
{
	struct tsr_password_list *l = tiny();

	(void)state;
	/* Comments, blank lines and CRs are not entries; case is folded. */
	assert_int_equal(tsr_password_list_count(l), 3);
	assert_refused(l, "password1", "the password is on a list of common passwords");
	assert_refused(l, "LetMeIn99", "the password is on a list of common passwords");
	assert_accepted(l, "password1x");
	tsr_password_list_free(l);
}

/* The shipped list, found from this file's path (meson compiles it with a
 * path relative to the build directory, where meson test runs). */
static char *shipped_list_path(void)
{
	const char *self = __FILE__, *tail = strstr(self, "tests/unit/test_secret.c");
	char *path = NULL;

	assert_non_null(tail);
	assert_true(asprintf(&path, "%.*sdata/common-passwords.txt", (int)(tail - self), self) > 0);
	return path;
}

static void test_password_shipped_list(void **state)
{
	static const char *const common[] = {
		"password", "password1", "PassWord1", "baseball", "sunshine", "football",
		"trustno1", "iloveyou", "princess", "superman", "starwars", "p@ssw0rd",
	};
	struct tsr_password_list *l = NULL, *builtin = NULL;
	char *path = shipped_list_path();

	(void)state;
	assert_int_equal(tsr_password_list_load(path, &l), 0);
	assert_true(tsr_password_list_count(l) >= 500);
	for (size_t i = 0; i < TSR_ARRAY_LEN(common); i++)
		assert_refused(l, common[i], "the password is on a list of common passwords");
	assert_accepted(l, "correct horse battery staple");
	/* the list compiled into the binary is the shipped file, entry for entry */
	assert_int_equal(tsr_password_list_builtin(&builtin), 0);
	assert_int_equal(tsr_password_list_count(builtin), tsr_password_list_count(l));
	for (size_t i = 0; i < TSR_ARRAY_LEN(common); i++)
		assert_refused(builtin, common[i], "the password is on a list of common passwords");
	tsr_password_list_free(builtin);
	tsr_password_list_free(l);
	free(path);
}

static void test_password_list_load_errors(void **state)
{
	char dir[] = "/tmp/test_secret_XXXXXX", *path = NULL;
	struct tsr_password_list *l = NULL;
	struct tsr_buf big;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsr_path_join(dir, "list.txt", &path), 0);
	assert_int_equal(tsr_password_list_load(path, &l), TSR_ERR_NOT_FOUND);
	assert_null(l);
	assert_int_equal(tsr_file_write(path, "abc\0def\n", 8, 0644), 0);
	assert_int_equal(tsr_password_list_load(path, &l), TSR_ERR_PARSE);
	assert_non_null(strstr(tsr_error_detail(), "NUL byte"));
	tsr_buf_init(&big, TSR_PASSWORD_LIST_MAX + 8);
	for (size_t i = 0; i <= TSR_PASSWORD_LIST_MAX / 8; i++)
		assert_int_equal(tsr_buf_append(&big, "abcdefg\n", 8), 0);
	assert_int_equal(tsr_file_write(path, big.data, big.len, 0644), 0);
	assert_int_equal(tsr_password_list_load(path, &l), TSR_ERR_TOO_LARGE);
	assert_null(l);
	tsr_buf_free(&big);
	/* An empty list loads and refuses nothing. */
	assert_int_equal(tsr_file_write(path, "", 0, 0644), 0);
	assert_int_equal(tsr_password_list_load(path, &l), 0);
	assert_int_equal(tsr_password_list_count(l), 0);
	assert_accepted(l, "password1");
	tsr_password_list_free(l);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(path);
}

/* ------------------------------------------------------------------ hashing */
static void test_secret_hash_verify(void **state)
{
	char h1[TSR_SECRET_HASH_BYTES], h2[TSR_SECRET_HASH_BYTES];
	char big[TSR_SECRET_MAX_BYTES + 2];

	(void)state;
	assert_int_equal(tsr_secret_hash("correct horse", h1), 0);
	assert_int_equal(strncmp(h1, "$argon2id$v=19$", 15), 0);
	assert_int_equal(tsr_secret_verify(h1, "correct horse"), 0);
	assert_int_equal(tsr_secret_verify(h1, "correct horse "), TSR_ERR_SIGNATURE);
	assert_string_equal(tsr_error_detail(), "the secret does not match");
	assert_int_equal(tsr_secret_verify(h1, "Correct horse"), TSR_ERR_SIGNATURE);
	assert_int_equal(tsr_secret_verify(h1, ""), TSR_ERR_SIGNATURE);
	/* A fresh salt each time. */
	assert_int_equal(tsr_secret_hash("correct horse", h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(tsr_secret_verify(h2, "correct horse"), 0);
	/* Not an Argon2id string: a parse error, not a mismatch. */
	assert_int_equal(tsr_secret_verify("$2b$10$abcdefghijklmnopqrstuv", "x"), TSR_ERR_PARSE);
	assert_int_equal(tsr_secret_verify("", "x"), TSR_ERR_PARSE);
	/* A damaged Argon2id string never matches. */
	memcpy(h2 + strlen(h2) - 4, "AAAA", 4);
	assert_int_equal(tsr_secret_verify(h2, "correct horse"), TSR_ERR_SIGNATURE);
	/* Bounds of what is hashed. */
	assert_int_equal(tsr_secret_hash("", h2), TSR_ERR_INVALID);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tsr_secret_hash(big, h2), TSR_ERR_INVALID);
	assert_int_equal(tsr_secret_verify(h1, big), TSR_ERR_SIGNATURE);
	big[TSR_SECRET_MAX_BYTES] = '\0';
	assert_int_equal(tsr_secret_hash(big, h2), 0);
	assert_int_equal(tsr_secret_verify(h2, big), 0);
}

/* One hash at the production cost, to see its parameters in the string. */
static void test_secret_production_cost(void **state)
{
	char fast[TSR_SECRET_HASH_BYTES], slow[TSR_SECRET_HASH_BYTES];

	(void)state;
	assert_int_equal(tsr_secret_hash("battery staple", fast), 0);
	tsr_secret_set_cost(false);
	assert_int_equal(tsr_secret_hash("battery staple", slow), 0);
	assert_non_null(strstr(slow, "$m=65536,t=2,p=1$"));
	assert_int_equal(tsr_secret_verify(slow, "battery staple"), 0);
	assert_false(tsr_secret_needs_rehash(slow));
	/* A hash made at another cost still verifies, and asks to be redone. */
	assert_int_equal(tsr_secret_verify(fast, "battery staple"), 0);
	assert_true(tsr_secret_needs_rehash(fast));
	tsr_secret_set_cost(true);
	assert_false(tsr_secret_needs_rehash(fast));
	assert_true(tsr_secret_needs_rehash("not a hash"));
}

static void assert_normalised(const char *in, const char *want)
{
	char *out = NULL;

	if (tsr_answer_normalise(in, &out) != 0)
		fail_msg("'%s' refused: %s", in, tsr_error_detail());
	assert_string_equal(out, want);
	tsr_free_secret(out);
}

static void test_answer_normalise(void **state)
{
	char *out = (char *)1, big[1026];
	char h[TSR_SECRET_HASH_BYTES];

	(void)state;
	assert_normalised("  The   Blue\tDOG \r\n", "the blue dog");
	assert_normalised("Fluffy", "fluffy");
	/* Non-ASCII is kept as typed (no Unicode case folding). */
	assert_normalised("\xc3\x84rger  \xc3\x9c" "ber", "\xc3\x84rger \xc3\x9c" "ber");
	assert_int_equal(tsr_answer_normalise(" \t\n ", &out), TSR_ERR_POLICY);
	assert_null(out);
	assert_string_equal(tsr_error_detail(), "a secret answer must not be empty");
	assert_int_equal(tsr_answer_normalise("", &out), TSR_ERR_POLICY);
	assert_int_equal(tsr_answer_normalise("caf\xe9", &out), TSR_ERR_POLICY);
	assert_int_equal(tsr_answer_normalise("a\x01" "b", &out), TSR_ERR_POLICY);
	assert_int_equal(tsr_answer_normalise(NULL, &out), TSR_ERR_INVALID);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tsr_answer_normalise(big, &out), TSR_ERR_POLICY);
	big[TSR_SECRET_MAX_BYTES + 1] = '\0';
	assert_int_equal(tsr_answer_normalise(big, &out), TSR_ERR_POLICY);
	big[TSR_SECRET_MAX_BYTES] = '\0';
	assert_int_equal(tsr_answer_normalise(big, &out), 0);
	tsr_free_secret(out);
	/* The answer as typed later, spaced and cased differently, matches. */
	assert_int_equal(tsr_answer_normalise("Mrs  Smith", &out), 0);
	assert_int_equal(tsr_secret_hash(out, h), 0);
	tsr_free_secret(out);
	assert_int_equal(tsr_answer_normalise(" mrs SMITH ", &out), 0);
	assert_int_equal(tsr_secret_verify(h, out), 0);
	tsr_free_secret(out);
	assert_int_equal(tsr_answer_normalise("mrs smyth", &out), 0);
	assert_int_equal(tsr_secret_verify(h, out), TSR_ERR_SIGNATURE);
	tsr_free_secret(out);
}

/* ------------------------------------------------------------------ codes */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void test_code_new(void **state)
{
	char v[32], a[64], other[64];

	(void)state;
	assert_int_equal(tsr_code_len(TSR_CODE_VERIFICATION_BITS), 10);
	assert_int_equal(tsr_code_new(TSR_CODE_VERIFICATION_BITS, v, sizeof(v)), 0);
	assert_int_equal(strlen(v), 9);  /* "XXXX-XXXC": 7 symbols of 5 bits + check */
	assert_int_equal(v[4], '-');
	/* 23 symbols carry 115 >= 112 bits; with the check, 6 groups of 4. */
	assert_int_equal(tsr_code_len(TSR_CODE_ACTIVATION_BITS), 30);
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, a, sizeof(a)), 0);
	assert_int_equal(strlen(a), 29);
	for (size_t i = 0; i < strlen(a); i++) {
		if (i % 5 == 4)
			assert_int_equal(a[i], '-');
		else if (i < 28)
			assert_non_null(strchr(alphabet, a[i]));
	}
	/* New codes are already canonical. */
	assert_int_equal(tsr_code_normalise(a, other, sizeof(other)), 0);
	assert_string_equal(other, a);
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, other, sizeof(other)), 0);
	assert_string_not_equal(other, a);
	/* Bounds. */
	assert_int_equal(tsr_code_new(19, a, sizeof(a)), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_new(TSR_CODE_MAX_BITS + 1, a, sizeof(a)), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, a, 29), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, NULL, 64), TSR_ERR_INVALID);
}

/*
 * Crockford's check symbol is the value of the digits mod 37.  Worked by
 * hand with 32 = -5 (mod 37):
 *   "0000" = 0                         -> 0 -> '0'
 *   "0010" = 32                        -> 32 -> '*'   (first extra symbol)
 *   "0011".."0014" = 33..36            -> '~' '$' '=' 'U'
 *   "0015" = 37                        -> 0 -> '0'
 *   "0020" = 64 = 37 + 27              -> 27 -> 'V'   (values 27..31: V W X Y Z)
 *   "1000" = 32^3 = (-5)^3 = -125 = -125 + 4*37 = 23 -> 'Q' (A=10 .. H=17, J K M N P Q)
 *   "ZZZZ" = 32^4 - 1 = 625 - 1 = 624 = 16*37 + 32    -> '*'
 */
static void test_code_check_known_answers(void **state)
{
	static const char *const known[] = {
		"0000-0", "0010-*", "0011-~", "0012-$", "0013-=", "0014-U", "0015-0",
		"0020-V", "1000-Q", "ZZZZ-*", "7K3M-Q9XN",
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(known); i++) {
		if (tsr_code_normalise(known[i], out, sizeof(out)) != 0)
			fail_msg("%s: %s", known[i], tsr_error_detail());
		assert_string_equal(out, known[i]);
	}
	assert_int_equal(tsr_code_normalise("0010-~", out, sizeof(out)), TSR_ERR_PARSE);
	assert_string_equal(tsr_error_detail(), "the code has a typo");
	assert_int_equal(tsr_code_normalise("1000-0", out, sizeof(out)), TSR_ERR_PARSE);
	/* A check-only symbol where a data symbol belongs. */
	assert_int_equal(tsr_code_normalise("00*0-0", out, sizeof(out)), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_normalise("00U0-0", out, sizeof(out)), TSR_ERR_PARSE);
	/* Too short, too long, foreign characters, no room. */
	assert_int_equal(tsr_code_normalise("000-0", out, sizeof(out)), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_normalise("---", out, sizeof(out)), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_normalise("0000-#", out, sizeof(out)), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_normalise("0000_0", out, sizeof(out)), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_normalise("0000-0", out, 6), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_normalise(NULL, out, sizeof(out)), TSR_ERR_INVALID);
}

/* What people type: lower case, no hyphens, spaces, O for 0, I or L for 1. */
static void test_code_typing(void **state)
{
	char code[64], typed[128], out[64];

	(void)state;
	for (int round = 0; round < 50; round++) {
		size_t o = 0;

		assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, code, sizeof(code)), 0);
		for (size_t i = 0; code[i]; i++) {
			char c = code[i];

			if (c == '-') {
				if (round % 2)
					typed[o++] = ' ';
				continue;
			}
			if (c == '0')
				c = (round % 3) ? 'o' : 'O';
			else if (c == '1')
				c = (round % 3) ? 'l' : 'I';
			else if (c >= 'A' && c <= 'Z' && i % 2)
				c = (char)(c - 'A' + 'a');
			typed[o++] = c;
			if (i % 7 == 3)
				typed[o++] = ' ';
		}
		typed[o] = '\0';
		assert_int_equal(tsr_code_normalise(typed, out, sizeof(out)), 0);
		assert_string_equal(out, code);
	}
}

/* The value of a symbol as the normaliser reads it, for the test below. */
static int value_of(char c)
{
	static const char all[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

	if (c == 'O')
		return 0;
	if (c == 'I' || c == 'L')
		return 1;
	return (int)(strchr(all, c) - all);
}

/* Every single-symbol substitution, anywhere (check symbol included), and
 * every swap of two adjacent different data symbols is caught. */
static void test_code_typo_detected(void **state)
{
	static const char typeable[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=UOIL";
	char code[64], bad[64], out[64];
	size_t tried = 0;

	(void)state;
	assert_int_equal(tsr_code_new(TSR_CODE_ACTIVATION_BITS, code, sizeof(code)), 0);
	for (size_t i = 0; code[i]; i++) {
		if (code[i] == '-')
			continue;
		for (size_t k = 0; typeable[k]; k++) {
			if (value_of(typeable[k]) == value_of(code[i]))
				continue;
			strcpy(bad, code);
			bad[i] = typeable[k];
			if (tsr_code_normalise(bad, out, sizeof(out)) != TSR_ERR_PARSE)
				fail_msg("typo %s of %s not caught", bad, code);
			tried++;
		}
	}
	assert_true(tried >= 24 * 36);
	for (size_t i = 0; code[i + 1] && i + 2 < strlen(code); i++) {
		size_t j = code[i + 1] == '-' ? i + 2 : i + 1;

		if (code[i] == '-' || code[i] == code[j] || code[j + 1] == '\0')
			continue;
		strcpy(bad, code);
		bad[i] = code[j];
		bad[j] = code[i];
		assert_int_equal(tsr_code_normalise(bad, out, sizeof(out)), TSR_ERR_PARSE);
	}
}

static void test_code_hash(void **state)
{
	uint8_t k1[TSR_CODE_KEY_BYTES], k2[TSR_CODE_KEY_BYTES];
	char code[64], h1[TSR_CODE_HASH_HEX], h2[TSR_CODE_HASH_HEX], h3[TSR_CODE_HASH_HEX];

	(void)state;
	assert_int_equal(tsr_random(k1, sizeof(k1)), 0);
	assert_int_equal(tsr_random(k2, sizeof(k2)), 0);
	assert_int_equal(tsr_code_new(TSR_CODE_VERIFICATION_BITS, code, sizeof(code)), 0);
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_VERIFICATION, code, h1), 0);
	assert_int_equal(strlen(h1), 64);
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_VERIFICATION, code, h2), 0);
	assert_string_equal(h1, h2);
	assert_true(tsr_code_equal(h1, h2));
	assert_int_equal(tsr_code_hash(k2, TSR_CODE_VERIFICATION, code, h3), 0);
	assert_string_not_equal(h1, h3);
	assert_false(tsr_code_equal(h1, h3));
	assert_false(tsr_code_equal(h1, "abcd"));
	assert_false(tsr_code_equal(h1, NULL));
	/* Only canonical codes are hashed, so a typed one cannot silently miss. */
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_VERIFICATION, "0010*", h3), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_VERIFICATION, "0010-~", h3), TSR_ERR_INVALID);
	/* The same code hashed for another purpose does not match. */
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_ACTIVATION, code, h3), 0);
	assert_false(tsr_code_equal(h1, h3));
	assert_int_equal(tsr_code_hash(k1, "", code, h3), TSR_ERR_INVALID);
	assert_int_equal(tsr_code_hash(k1, NULL, code, h3), TSR_ERR_INVALID);
	/* Known answer: HMAC-SHA-256 with an all-zero key over "voucher", NUL,
	 * "0000-0", from `{ printf voucher; printf '\0'; printf 0000-0; } |
	 * openssl dgst -sha256 -mac HMAC -macopt hexkey:00...00`. */
	memset(k1, 0, sizeof(k1));
	assert_int_equal(tsr_code_hash(k1, TSR_CODE_VOUCHER, "0000-0", h1), 0);
	assert_string_equal(h1, "693a061f3c922fa3b1f6f36e19a229a8"
	    "46ea355725b3dbf9284877a7832612c5");
}

static void test_code_key_file(void **state)
{
	char dir[] = "/tmp/test_secret_XXXXXX", *path = NULL, *link = NULL;
	uint8_t k1[TSR_CODE_KEY_BYTES], k2[TSR_CODE_KEY_BYTES], zero[TSR_CODE_KEY_BYTES] = { 0 };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsr_path_join(dir, "code.key", &path), 0);
	assert_int_equal(tsr_path_join(dir, "link.key", &link), 0);
	assert_int_equal(tsr_code_key_load_or_create(path, k1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_memory_not_equal(k1, zero, sizeof(k1));
	assert_int_equal(tsr_code_key_load_or_create(path, k2), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
	/* Readable by others: refused, and the key is not handed out. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(tsr_code_key_load_or_create(path, k2), TSR_ERR_CONFIG);
	assert_non_null(strstr(tsr_error_detail(), "chmod 600"));
	assert_memory_equal(k2, zero, sizeof(k2));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(tsr_code_key_load_or_create(path, k2), TSR_ERR_CONFIG);
	/* Wrong size. */
	assert_int_equal(tsr_file_write(path, k1, 31, 0600), 0);
	assert_int_equal(tsr_code_key_load_or_create(path, k2), TSR_ERR_CONFIG);
	assert_non_null(strstr(tsr_error_detail(), "31 bytes"));
	/* A symbolic link is not followed. */
	assert_int_equal(tsr_file_write(path, k1, 32, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(tsr_code_key_load_or_create(link, k2), TSR_ERR_IO);
	/* A directory is not a key. */
	assert_int_equal(tsr_code_key_load_or_create(dir, k2), TSR_ERR_CONFIG);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	free(path);
	free(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_length),
		cmocka_unit_test(test_password_text),
		cmocka_unit_test(test_password_repetitive),
		cmocka_unit_test(test_password_context),
		cmocka_unit_test(test_password_tiny_list),
		cmocka_unit_test(test_password_shipped_list),
		cmocka_unit_test(test_password_list_load_errors),
		cmocka_unit_test(test_secret_hash_verify),
		cmocka_unit_test(test_secret_production_cost),
		cmocka_unit_test(test_answer_normalise),
		cmocka_unit_test(test_code_new),
		cmocka_unit_test(test_code_check_known_answers),
		cmocka_unit_test(test_code_typing),
		cmocka_unit_test(test_code_typo_detected),
		cmocka_unit_test(test_code_hash),
		cmocka_unit_test(test_code_key_file),
	};

	tsr_secret_set_cost(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
