/*
 * test_base.c - errors, buffers, files, hex, base64, clock, random, key types.
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

#include <openssl/evp.h>

#include "base/base.h"

static void test_error_table(void **state)
{
	(void)state;
	/* Every code has its own name, message and a 4xx/5xx status. */
	for (int code = TSR_ERR_NOMEM; code > TSR_ERR_LAST; code--) {
		assert_string_not_equal(tsr_error_name(code), "unknown");
		assert_string_not_equal(tsr_strerror(code), "unknown error");
		assert_true(tsr_error_http_status(code) >= 400);
		assert_true(tsr_error_exit_status(code) > 0);
		for (int other = code - 1; other > TSR_ERR_LAST; other--)
			assert_string_not_equal(tsr_error_name(code), tsr_error_name(other));
	}
	assert_int_equal(tsr_error_exit_status(TSR_OK), 0);
	assert_string_equal(tsr_error_name(-999), "unknown");
	assert_int_equal(tsr_error_http_status(TSR_ERR_NOT_FOUND), 404);
}

static void test_error_detail_and_wrap(void **state)
{
	(void)state;
	assert_int_equal(tsr_error(TSR_ERR_PARSE, "line %d: bad", 7), TSR_ERR_PARSE);
	assert_string_equal(tsr_error_detail(), "line 7: bad");
	assert_int_equal(tsr_error_wrap(TSR_ERR_CONFIG, "%s", "tessera.conf"), TSR_ERR_CONFIG);
	assert_string_equal(tsr_error_detail(), "tessera.conf: line 7: bad");
	assert_int_equal(tsr_error_wrap(TSR_ERR_IO, NULL), TSR_ERR_IO);
	assert_string_equal(tsr_error_detail(), "tessera.conf: line 7: bad");
	tsr_error_clear();
	assert_string_equal(tsr_error_detail(), "");
}

static void test_buf_cap(void **state)
{
	struct tsr_buf b;
	const char *s;

	(void)state;
	tsr_buf_init(&b, 10);
	assert_int_equal(tsr_buf_append(&b, "12345", 5), 0);
	assert_int_equal(tsr_buf_printf(&b, "%d", 678), 0);
	assert_int_equal(tsr_buf_append(&b, "9ab", 3), TSR_ERR_TOO_LARGE);
	/* a refused append leaves the buffer as it was */
	assert_int_equal(b.len, 8);
	assert_int_equal(tsr_buf_cstr(&b, &s), 0);
	assert_string_equal(s, "12345678");
	assert_int_equal(tsr_buf_append_str(&b, "90"), 0);
	assert_int_equal(b.len, 10);
	tsr_buf_reset(&b);
	assert_int_equal(b.len, 0);
	tsr_buf_free(&b);

	tsr_buf_init_secret(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(tsr_buf_append(&b, "secret", 6), 0);
	assert_int_equal(b.len, 6000);
	tsr_buf_free(&b);
}

static void test_equal_ct_and_wipe(void **state)
{
	char s[] = "hunter2";

	(void)state;
	assert_true(tsr_equal_ct("abcd", "abcd", 4));
	assert_false(tsr_equal_ct("abcd", "abce", 4));
	assert_true(tsr_equal_ct("", "", 0));
	tsr_wipe(s, sizeof(s));
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(s[i], 0);
}

static void test_hex(void **state)
{
	uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff }, out[8];
	char hex[9];
	size_t n;

	(void)state;
	tsr_hex_encode(in, sizeof(in), hex);
	assert_string_equal(hex, "007fabff");
	assert_int_equal(tsr_hex_decode("007FabFF", out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, in, 4);
	assert_int_equal(tsr_hex_decode("abc", out, sizeof(out), &n), TSR_ERR_PARSE);
	assert_int_equal(tsr_hex_decode("zz", out, sizeof(out), &n), TSR_ERR_PARSE);
	assert_int_equal(tsr_hex_decode("000000000000000000", out, sizeof(out), &n),
	    TSR_ERR_TOO_LARGE);
}

/* ---------------------------------------------------------------- base64 */

static int b64(const char *s, unsigned flags, uint8_t *out, size_t max, size_t *n)
{
	return tsr_base64_decode(s, strlen(s), flags, out, max, n);
}

/* RFC 4648 section 10, both ways. */
static void test_base64_vectors(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t out[16];
	size_t n, len;
	char *e;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(v); i++) {
		assert_int_equal(tsr_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), 0, &e,
		    &len), 0);
		assert_string_equal(e, v[i][1]);
		assert_int_equal(len, strlen(v[i][1]));
		free(e);
		memset(out, 0xee, sizeof(out));
		assert_int_equal(b64(v[i][1], 0, out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(out, v[i][0], n);
	}
}

/* Every byte string has one encoding: each of these is refused. */
static void test_base64_strict(void **state)
{
	static const char *const bad[] = {
		"Zg", "Zg=", "Zm9", "Z", "Zh==", "Zm9=", "Z===", "====", "=Zm9", "Zm=v",
		"Zg==Zg==", "Zg==Zm9v", "Zm9v=", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\t", "Zm-_",
		"Zm9v\n", "\nZm9v", "Zm\n9v", "Zm9v\r\n", "Zg==\n", "Zm9v\x80", "Zm9v%",
	};
	static const char *const bad_lines[] = {
		"\nZm9v", "Zm9v\n\n", "Zm\n\n9v", "Zm9v\r", "Zm\r9v", "Zm9v\n\r\n", "\r\nZm9v",
		"Zm9v\n ", "Zg==\nZg==", "Zg\n", "Zm9v\nZ",
	};
	uint8_t out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		if (b64(bad[i], 0, out, sizeof(out), &n) != TSR_ERR_PARSE)
			fail_msg("'%s' was accepted", bad[i]);
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_lines); i++)
		if (b64(bad_lines[i], TSR_BASE64_LINES, out, sizeof(out), &n) != TSR_ERR_PARSE)
			fail_msg("'%s' was accepted with line breaks allowed", bad_lines[i]);
	/* An embedded NUL is a character like any other. */
	assert_int_equal(tsr_base64_decode("Zm9v\0Zm9v", 9, TSR_BASE64_LINES, out, sizeof(out),
	    &n), TSR_ERR_PARSE);
	/* The detail names a position, never the text. */
	assert_int_equal(b64("Zm9v*secret", 0, out, sizeof(out), &n), TSR_ERR_PARSE);
	assert_non_null(strstr(tsr_error_detail(), "character 5"));
	assert_null(strstr(tsr_error_detail(), "secret"));
}

static void test_base64_lines(void **state)
{
	static const char *const good[] = {
		"Zm9v\nYmFy", "Zm9v\r\nYmFy", "Zm9vYmFy\n", "Zm9vYmFy\r\n", "Zm\n9v\nYm\nFy\n",
		"Zm9vYmFy",
	};
	uint8_t out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(good); i++) {
		if (b64(good[i], TSR_BASE64_LINES, out, sizeof(out), &n) != 0)
			fail_msg("'%s': %s", good[i], tsr_error_detail());
		assert_int_equal(n, 6);
		assert_memory_equal(out, "foobar", 6);
	}
	assert_int_equal(b64("Zm8=\n", TSR_BASE64_LINES, out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b64("", TSR_BASE64_LINES, out, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_base64_limits(void **state)
{
	uint8_t out[6];
	size_t n = 99;
	char *e;

	(void)state;
	assert_int_equal(b64("Zm9vYmFy", 0, out, 5, &n), TSR_ERR_TOO_LARGE);
	assert_int_equal(n, 0);
	/* What was decoded before the refusal is wiped. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(b64("Zm9vYmFy!", 0, out, sizeof(out), &n), TSR_ERR_PARSE);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(b64("Zm9vYmFy", 0, out, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_true(tsr_base64_decoded_max(8) >= 6);
	assert_int_equal(tsr_base64_encode(out, 6, 10, &e, &n), TSR_ERR_INVALID);
	assert_null(e);
}

/* Against OpenSSL's encoder, every length up to 300 bytes, in one line and
 * in lines of 64 and 76 characters; and back. */
static void test_base64_round_trip(void **state)
{
	static const size_t lines[] = { 0, 64, 76 };
	uint8_t in[300], back[300];
	unsigned char ref[404];

	(void)state;
	assert_int_equal(tsr_random(in, sizeof(in)), 0);
	for (size_t len = 0; len <= sizeof(in); len++) {
		int rlen = EVP_EncodeBlock(ref, in, (int)len);

		for (size_t k = 0; k < TSR_ARRAY_LEN(lines); k++) {
			size_t line = lines[k], n, o = 0, pos = 0;
			char *e;

			assert_int_equal(tsr_base64_encode(in, len, line, &e, &n), 0);
			assert_int_equal(n, strlen(e));
			/* The same characters as OpenSSL's, a line feed after every
			 * line of `line` characters and after the last. */
			for (size_t i = 0; i < n; i++) {
				if (e[i] == '\n') {
					assert_true(line > 0);
					assert_true(pos == line || (i + 1 == n && pos > 0));
					pos = 0;
					continue;
				}
				assert_true(o < (size_t)rlen);
				assert_int_equal(e[i], ref[o++]);
				pos++;
			}
			assert_int_equal(o, (size_t)rlen);
			assert_true(line == 0 || len == 0 || e[n - 1] == '\n');
			assert_int_equal(tsr_base64_decode(e, n, line ? TSR_BASE64_LINES : 0, back,
			    sizeof(back), &o), 0);
			assert_int_equal(o, len);
			assert_memory_equal(back, in, len);
			free(e);
		}
	}
}

/* The alphabet is exactly RFC 4648's: every other byte value is refused. */
static void test_base64_alphabet(void **state)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t out[3];
	size_t n;

	(void)state;
	for (int c = 0; c < 256; c++) {
		char s[5] = { (char)c, 'A', 'A', 'A', '\0' };
		const char *at = c ? strchr(alphabet, c) : NULL;
		int r = tsr_base64_decode(s, 4, 0, out, sizeof(out), &n);

		if (at != NULL) {
			assert_int_equal(r, 0);
			assert_int_equal(out[0] >> 2, (int)(at - alphabet));
		} else {
			assert_int_not_equal(r, 0);
		}
	}
}

static char *temp_dir(void)
{
	char *d = strdup("/tmp/tessera-test-base-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void test_files(void **state)
{
	struct tsr_buf b;
	struct stat st;
	char *dir = temp_dir(), *path = NULL, *sub = NULL;

	(void)state;
	tsr_buf_init(&b, 16);
	assert_int_equal(tsr_path_join(dir, "f", &path), 0);
	assert_int_equal(tsr_file_read(path, 16, &b), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_file_create(path, "hello", 5, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tsr_file_create(path, "again", 5, 0600), TSR_ERR_EXISTS);
	assert_int_equal(tsr_file_read(path, 16, &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	/* over the cap: refused, not truncated */
	assert_int_equal(tsr_file_write(path, "0123456789abcdefXYZ", 19, 0644), 0);
	assert_int_equal(tsr_file_read(path, 16, &b), TSR_ERR_TOO_LARGE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_true(tsr_file_exists(path));
	assert_int_equal(tsr_path_join(dir, "/abs", &sub), 0);
	assert_string_equal(sub, "/abs");
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	assert_false(tsr_file_exists(dir));
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	tsr_buf_free(&b);
	free(dir);
	free(path);
	free(sub);
}

/* A link planted where a temporary file might go is never written through. */
static void test_file_write_ignores_planted_links(void **state)
{
	char *dir = temp_dir(), *victim = NULL, *out = NULL, link[512];
	struct tsr_buf b;
	struct stat st;

	(void)state;
	tsr_buf_init(&b, 64);
	assert_int_equal(tsr_path_join(dir, "victim", &victim), 0);
	assert_int_equal(tsr_path_join(dir, "out.pem", &out), 0);
	assert_int_equal(tsr_file_create(victim, "secret", 6, 0600), 0);
	/* the old scheme's predictable names, and the target itself */
	snprintf(link, sizeof(link), "%s.tmp-%ld", out, (long)getpid());
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(tsr_file_write(out, "cert", 4, 0644), 0);
	assert_int_equal(tsr_file_read(victim, 64, &b), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "secret", 6);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tsr_file_read(out, 64, &b), 0);
	assert_memory_equal(b.data, "cert", 4);
	/* tsr_file_create refuses a link in its place */
	unlink(out);
	assert_int_equal(symlink(victim, out), 0);
	assert_int_equal(tsr_file_create(out, "x", 1, 0600), TSR_ERR_EXISTS);
	assert_int_equal(tsr_file_read(victim, 64, &b), 0);
	assert_memory_equal(b.data, "secret", 6);
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	tsr_buf_free(&b);
	free(victim);
	free(out);
	free(dir);
}

static void test_file_read_private(void **state)
{
	char *dir = temp_dir(), *pin = NULL, *link = NULL, *fifo = NULL;
	struct tsr_buf b;

	(void)state;
	tsr_buf_init(&b, 64);
	assert_int_equal(tsr_path_join(dir, "pin", &pin), 0);
	assert_int_equal(tsr_path_join(dir, "link", &link), 0);
	assert_int_equal(tsr_path_join(dir, "fifo", &fifo), 0);
	assert_int_equal(tsr_file_read_private(pin, 64, &b), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_file_create(pin, "1234\n", 5, 0600), 0);
	assert_int_equal(tsr_file_read_private(pin, 64, &b), 0);
	assert_true(b.secret);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "1234\n", 5);
	assert_int_equal(tsr_file_read_private(pin, 4, &b), TSR_ERR_TOO_LARGE);
	assert_int_equal(chmod(pin, 0640), 0);
	assert_int_equal(tsr_file_read_private(pin, 64, &b), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "chmod 600"));
	assert_int_equal(b.len, 0);
	assert_int_equal(chmod(pin, 0600), 0);
	/* a link is refused even to a private file: name the file itself */
	assert_int_equal(symlink(pin, link), 0);
	assert_int_equal(tsr_file_read_private(link, 64, &b), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "symbolic link"));
	/* a FIFO is refused at once instead of blocking the reader */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(tsr_file_read_private(fifo, 64, &b), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "not a regular file"));
	assert_int_equal(tsr_dir_remove_tree(dir), 0);
	tsr_buf_free(&b);
	free(pin);
	free(link);
	free(fifo);
	free(dir);
}

static time_t fixed_clock(void *ctx)
{
	return *(time_t *)ctx;
}

static void test_clock(void **state)
{
	time_t t = 1767225600;   /* 2026-01-01T00:00:00Z */
	char out[21];

	(void)state;
	tsr_clock_set(fixed_clock, &t);
	assert_int_equal(tsr_now(), t);
	tsr_time_format(tsr_now(), out);
	assert_string_equal(out, "2026-01-01T00:00:00Z");
	tsr_clock_set(NULL, NULL);
	assert_true(tsr_now() > t);
}

static void test_random(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(tsr_random(a, sizeof(a)), 0);
	assert_int_equal(tsr_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_key_types(void **state)
{
	enum tsr_key_type t;

	(void)state;
	assert_int_equal(tsr_key_type_parse("ec-p384", &t), 0);
	assert_int_equal(t, TSR_KEY_EC_P384);
	assert_int_equal(tsr_key_type_bits(t), 384);
	assert_false(tsr_key_type_is_rsa(t));
	assert_int_equal(tsr_key_type_parse("rsa-3072", &t), 0);
	assert_true(tsr_key_type_is_rsa(t));
	assert_string_equal(tsr_key_type_name(TSR_KEY_RSA_4096), "rsa-4096");
	assert_int_equal(tsr_key_type_parse("rsa-1024", &t), TSR_ERR_KEY);
	assert_non_null(strstr(tsr_error_detail(), "rsa-1024"));
	assert_int_equal(tsr_key_type_parse("ed25519", &t), TSR_ERR_KEY);
	assert_int_equal(tsr_key_type_parse("", &t), TSR_ERR_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_error_detail_and_wrap),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_equal_ct_and_wipe),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_base64_lines),
		cmocka_unit_test(test_base64_limits),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_alphabet),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_file_write_ignores_planted_links),
		cmocka_unit_test(test_file_read_private),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_key_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
