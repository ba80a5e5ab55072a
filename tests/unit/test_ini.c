/*
 * test_ini.c - the strict config file parser: what it accepts, and that
 * every refusal names the right line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static int parse_str(const char *text, struct tsr_ini *ini)
{
	return tsr_ini_parse(text, strlen(text), ini);
}

static void test_good_file(void **state)
{
	static const char text[] =
	    "# Tessera configuration\n"
	    "; another comment style\n"
	    "\n"
	    "[ca]\n"
	    "name = Example CA\n"
	    "  home=/var/lib/tessera  \n"
	    "empty =\n"
	    "url = https://ca.example/x?a=b#frag\n"
	    "\t# an indented comment\n"
	    "[ product \t  epcs ]\n"
	    "title = EPCS prescriber – Zoë's Ärzte 日本\n"
	    "key.with-odd_chars9 = yes\n";
	struct tsr_ini ini;
	const struct tsr_ini_section *ca, *epcs;

	(void)state;
	assert_int_equal(parse_str(text, &ini), 0);
	assert_int_equal(ini.n_sections, 2);
	ca = tsr_ini_section(&ini, "ca");
	assert_non_null(ca);
	assert_int_equal(ca->line, 4);
	assert_int_equal(ca->n_entries, 4);
	assert_string_equal(tsr_ini_get(ca, "name"), "Example CA");
	assert_string_equal(tsr_ini_get(ca, "home"), "/var/lib/tessera");
	assert_string_equal(tsr_ini_get(ca, "empty"), "");
	assert_string_equal(tsr_ini_get(ca, "url"), "https://ca.example/x?a=b#frag");
	assert_int_equal(ca->entries[1].line, 6);
	assert_int_equal(ca->entries[3].line, 8);
	assert_null(tsr_ini_get(ca, "missing"));

	/* Runs of whitespace in a section name become one space. */
	epcs = tsr_ini_section(&ini, "product epcs");
	assert_non_null(epcs);
	assert_int_equal(epcs->line, 10);
	assert_string_equal(tsr_ini_get(epcs, "title"), "EPCS prescriber – Zoë's Ärzte 日本");
	assert_string_equal(tsr_ini_get(epcs, "key.with-odd_chars9"), "yes");
	assert_int_equal(epcs->entries[1].line, 12);

	assert_null(tsr_ini_section(&ini, "product"));
	assert_null(tsr_ini_get(tsr_ini_section(&ini, "nope"), "title"));
	tsr_ini_free(&ini);
	assert_null(ini.text);
	assert_int_equal(ini.n_sections, 0);
	tsr_ini_free(&ini); /* freeing twice is harmless */
}

static void test_crlf_bom_no_final_newline(void **state)
{
	static const char text[] = "\xef\xbb\xbf[a]\r\nk = v\r\n\r\n[b]\r\nx = 1";
	struct tsr_ini ini;

	(void)state;
	assert_int_equal(parse_str(text, &ini), 0);
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "a"), "k"), "v");
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "b"), "x"), "1");
	assert_int_equal(tsr_ini_section(&ini, "b")->line, 4);
	assert_int_equal(tsr_ini_section(&ini, "b")->entries[0].line, 5);
	tsr_ini_free(&ini);
}

static void test_empty_input(void **state)
{
	struct tsr_ini ini;

	(void)state;
	assert_int_equal(tsr_ini_parse("", 0, &ini), 0);
	assert_int_equal(ini.n_sections, 0);
	assert_null(tsr_ini_section(&ini, "ca"));
	tsr_ini_free(&ini);

	assert_int_equal(parse_str("\n# only a comment\n\n", &ini), 0);
	assert_int_equal(ini.n_sections, 0);
	tsr_ini_free(&ini);
}

/* The values that a user types are kept apart per section. */
static void test_same_key_in_two_sections(void **state)
{
	struct tsr_ini ini;

	(void)state;
	assert_int_equal(parse_str("[a]\nk = 1\n[b]\nk = 2\n[c]\n", &ini), 0);
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "a"), "k"), "1");
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "b"), "k"), "2");
	assert_int_equal(tsr_ini_section(&ini, "c")->n_entries, 0);
	tsr_ini_free(&ini);
}

/* Many sections and keys: duplicates are found without quadratic work. */
static void test_many_sections(void **state)
{
	struct tsr_buf b;
	struct tsr_ini ini;
	const char *text;

	(void)state;
	tsr_buf_init(&b, 1024 * 1024);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(tsr_buf_printf(&b, "[s%d]\nk%d = %d\nz = 0\n", i, i, i), 0);
	assert_int_equal(tsr_buf_cstr(&b, &text), 0);
	assert_int_equal(parse_str(text, &ini), 0);
	assert_int_equal(ini.n_sections, 5000);
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "s4321"), "k4321"), "4321");
	tsr_ini_free(&ini);

	assert_int_equal(tsr_buf_append_str(&b, "[s17]\n"), 0);
	assert_int_equal(tsr_buf_cstr(&b, &text), 0);
	assert_int_equal(parse_str(text, &ini), TSR_ERR_PARSE);
	assert_string_equal(tsr_error_detail(), "line 15001: duplicate section [s17] (first on "
	    "line 52)");
	tsr_buf_free(&b);
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int code;
	const char *detail;
};

static const struct bad_case bad_cases[] = {
	{ "name = x\n[ca]\n", 0, TSR_ERR_PARSE, "line 1: key 'name' is outside any [section]" },
	{ "# c\n\nk=v\n", 0, TSR_ERR_PARSE, "line 3: key 'k' is outside any [section]" },
	{ "[a]\nk = 1\nj = 2\nk = 3\n", 0, TSR_ERR_PARSE,
	    "line 4: duplicate key 'k' in [a] (first on line 2)" },
	{ "[a]\nk = 1\nk = 2\nk = 3\n", 0, TSR_ERR_PARSE,
	    "line 3: duplicate key 'k' in [a] (first on line 2)" },
	{ "[a]\n[b]\n[a]\n", 0, TSR_ERR_PARSE, "line 3: duplicate section [a] (first on line 1)" },
	{ "[product  epcs]\nk = v\n[product epcs]\n", 0, TSR_ERR_PARSE,
	    "line 3: duplicate section [product epcs] (first on line 1)" },
	/* The earliest problem in the file is reported, whichever kind it is. */
	{ "[a]\nk = 1\n[b]\nx = 1\n[b]\nk = 2\n", 0, TSR_ERR_PARSE,
	    "line 5: duplicate section [b] (first on line 3)" },
	{ "[a]\nk = 1\nk = 2\nnonsense\n", 0, TSR_ERR_PARSE,
	    "line 3: duplicate key 'k' in [a] (first on line 2)" },
	{ "[a]\nnonsense\nk = 1\nk = 2\n", 0, TSR_ERR_PARSE,
	    "line 2: expected '[section]', 'key = value' or a comment" },
	{ "[a]\nk = v\0w\n", 12, TSR_ERR_PARSE, "line 2: NUL byte" },
	{ "[a]\n\0", 5, TSR_ERR_PARSE, "line 2: NUL byte" },
	{ "[a]\nk = v\x01\n", 0, TSR_ERR_PARSE, "line 2: control character 0x01" },
	{ "[a]\nk = v\rw\n", 0, TSR_ERR_PARSE, "line 2: control character 0x0d" },
	{ "[a]\nk = v\x7f\n", 0, TSR_ERR_PARSE, "line 2: control character 0x7f" },
	{ "[a]\n\nk = \xff\n", 0, TSR_ERR_PARSE, "line 3: invalid UTF-8" },
	{ "[a]\nk = \xc0\xaf\n", 0, TSR_ERR_PARSE, "line 2: invalid UTF-8" },        /* overlong */
	{ "[a]\nk = \xed\xa0\x80\n", 0, TSR_ERR_PARSE, "line 2: invalid UTF-8" },    /* surrogate */
	{ "[a]\nk = \xf4\x90\x80\x80\n", 0, TSR_ERR_PARSE, "line 2: invalid UTF-8" }, /* > 10FFFF */
	{ "[a]\nk = \xc3\n", 0, TSR_ERR_PARSE, "line 2: invalid UTF-8" },            /* truncated */
	{ "[a]\nnot a key value line\n", 0, TSR_ERR_PARSE,
	    "line 2: expected '[section]', 'key = value' or a comment" },
	{ "[a]\nk = 1 # comment\nvalue\n", 0, TSR_ERR_PARSE,
	    "line 3: expected '[section]', 'key = value' or a comment" },
	{ "[a]\n = v\n", 0, TSR_ERR_PARSE, "line 2: empty key before '='" },
	{ "[a]\n=\n", 0, TSR_ERR_PARSE, "line 2: empty key before '='" },
	{ "[a]\nmy key = v\n", 0, TSR_ERR_PARSE,
	    "line 2: key 'my key' may contain only letters, digits, '_', '.' and '-'" },
	{ "[a]\nk/x = v\n", 0, TSR_ERR_PARSE,
	    "line 2: key 'k/x' may contain only letters, digits, '_', '.' and '-'" },
	{ "[a] x\n", 0, TSR_ERR_PARSE, "line 1: unexpected text after ']'" },
	{ "[a]]\n", 0, TSR_ERR_PARSE, "line 1: unexpected text after ']'" },
	{ "[a] # comment\n", 0, TSR_ERR_PARSE, "line 1: unexpected text after ']'" },
	{ "[a\n", 0, TSR_ERR_PARSE, "line 1: section header without a closing ']'" },
	{ "[ ]\n", 0, TSR_ERR_PARSE, "line 1: empty section name" },
	{ "[]\n", 0, TSR_ERR_PARSE, "line 1: empty section name" },
	{ "[a/b]\n", 0, TSR_ERR_PARSE,
	    "line 1: a section name may contain only letters, digits, '_', '.', '-' and spaces" },
	{ "[a[b]\n", 0, TSR_ERR_PARSE,
	    "line 1: a section name may contain only letters, digits, '_', '.', '-' and spaces" },
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct tsr_ini ini;
		size_t len = c->len ? c->len : strlen(c->text);

		print_message("case %zu\n", i);
		assert_int_equal(tsr_ini_parse(c->text, len, &ini), c->code);
		assert_string_equal(tsr_error_detail(), c->detail);
		/* A failed parse leaves nothing to free. */
		assert_null(ini.text);
		assert_null(ini.sections);
		assert_int_equal(ini.n_sections, 0);
		tsr_ini_free(&ini);
	}
}

/* A line may hold 4096 bytes, line ending not counted; one more is refused. */
static void test_line_length(void **state)
{
	char *text = malloc(8200);
	struct tsr_ini ini;
	size_t n;

	(void)state;
	assert_non_null(text);
	memcpy(text, "[a]\nk = ", 8);
	memset(text + 8, 'x', 4096 - 4);
	n = 8 + 4092;
	memcpy(text + n, "\r\n", 2);
	assert_int_equal(tsr_ini_parse(text, n + 2, &ini), 0);
	assert_int_equal(strlen(tsr_ini_get(tsr_ini_section(&ini, "a"), "k")), 4092);
	tsr_ini_free(&ini);

	text[n] = 'x';
	assert_int_equal(tsr_ini_parse(text, n + 1, &ini), TSR_ERR_PARSE);
	assert_string_equal(tsr_error_detail(), "line 2: longer than 4096 bytes");
	free(text);
}

/* 1 MiB is the limit for the whole file. */
static void test_file_size(void **state)
{
	size_t max = 1024 * 1024;
	char *text = malloc(max + 1);
	struct tsr_ini ini;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', max + 1);
	memcpy(text, "[a]\nk = v\n", 10);
	assert_int_equal(tsr_ini_parse(text, max, &ini), 0);
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "a"), "k"), "v");
	tsr_ini_free(&ini);

	assert_int_equal(tsr_ini_parse(text, max + 1, &ini), TSR_ERR_TOO_LARGE);
	assert_non_null(strstr(tsr_error_detail(), "over the 1 MiB limit"));
	assert_null(ini.text);
	free(text);
}

/* The parser works on its own copy: the caller's text may go away. */
static void test_owned_copy(void **state)
{
	char *text = strdup("[a]\nk = v\n");
	struct tsr_ini ini;

	(void)state;
	assert_non_null(text);
	assert_int_equal(parse_str(text, &ini), 0);
	memset(text, 'X', strlen(text));
	free(text);
	assert_string_equal(tsr_ini_get(tsr_ini_section(&ini, "a"), "k"), "v");
	tsr_ini_free(&ini);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_crlf_bom_no_final_newline),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_same_key_in_two_sections),
		cmocka_unit_test(test_many_sections),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_file_size),
		cmocka_unit_test(test_owned_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
