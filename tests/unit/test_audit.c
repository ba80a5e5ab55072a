/*
 * test_audit.c - the hash-chained audit log on a real SQLite store:
 * appending and verifying, the hash format (known answer plus an
 * independent computation of the documented encoding), transactions, and
 * tampering done through raw SQL after dropping the append-only triggers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

struct fx {
	char dir[64];
	char path[128];
	struct tsr_store *st;
	time_t now;
};

static time_t fixed_clock(void *ctx)
{
	return *(const time_t *)ctx;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsr-audit-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/tessera.db", fx->dir);
	if (tsr_store_open(fx->path, true, &fx->st) != 0)
		return -1;
	fx->now = 1700000000;
	tsr_clock_set(fixed_clock, &fx->now);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tsr_clock_set(NULL, NULL);
	tsr_store_close(fx->st);
	if (tsr_dir_remove_tree(fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Tamper with the file as an attacker with write access would: drop the
 * append-only triggers, then change rows. */
static void tamper(const struct fx *fx, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;"
	    "DROP TRIGGER IF EXISTS audit_no_delete;", NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tampering failed: %s", err);
	sqlite3_free(err);
	sqlite3_close(db);
}

/* Append n records, one second apart. */
static void append_n(struct fx *fx, int n)
{
	for (int i = 0; i < n; i++) {
		fx->now++;
		assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "cert.issue", "serial:5f01",
		    TSR_AUDIT_SUCCESS, "certificate %d for product %s", i + 1, "epcs"), 0);
	}
}

static void last_hash(struct tsr_store *st, char out[65])
{
	struct tsr_audit_record last;

	assert_int_equal(tsr_store_audit_last(st, &last), 0);
	memcpy(out, last.hash, 65);
	tsr_audit_record_clear(&last);
}

/* Verify, expecting the chain to break at bad_seq with reason. */
static void expect_broken(struct fx *fx, int64_t records, int64_t bad_seq, const char *reason)
{
	struct tsr_audit_report rep;

	assert_int_equal(tsr_audit_verify(fx->st, &rep), TSR_ERR_AUDIT);
	assert_int_equal(rep.records, records);
	assert_int_equal(rep.first_bad_seq, bad_seq);
	assert_string_equal(rep.reason, reason);
	assert_string_equal(tsr_error_detail(), reason);
}

/* ------------------------------------------------------------------ the hash */

/* The documented encoding, written out independently of audit.c. */
static void reference_hash(const struct tsr_audit_record *r, char out[65])
{
	const char *fields[] = { r->actor, r->action, r->object, r->outcome, r->detail };
	uint8_t msg[4096], digest[32];
	unsigned int dlen = 0;
	size_t n = 0;

	memcpy(msg, "tessera-audit-v1", 16);
	n = 16;
	for (int i = 0; i < 8; i++)
		msg[n++] = (uint8_t)((uint64_t)r->seq >> (56 - 8 * i));
	for (int i = 0; i < 8; i++)
		msg[n++] = (uint8_t)((uint64_t)r->time >> (56 - 8 * i));
	for (size_t f = 0; f < 5; f++) {
		uint32_t len = (uint32_t)strlen(fields[f]);

		assert_true(n + 4 + len + 64 < sizeof(msg));
		msg[n++] = (uint8_t)(len >> 24);
		msg[n++] = (uint8_t)(len >> 16);
		msg[n++] = (uint8_t)(len >> 8);
		msg[n++] = (uint8_t)len;
		memcpy(msg + n, fields[f], len);
		n += len;
	}
	memcpy(msg + n, r->prev_hash, 64);
	n += 64;
	assert_int_equal(EVP_Digest(msg, n, digest, &dlen, EVP_sha256(), NULL), 1);
	assert_int_equal(dlen, 32);
	tsr_hex_encode(digest, 32, out);
}

#define KAT_HASH_1 "a06f55152ae304609237b633b9771c28e4e1e973d6c1f2b8ed38a1860dd57ab2"
#define KAT_HASH_2 "2de710daa760c31b04edaee21cd4801b1f1d1e91424bb3f5e40dd4fee8e3e490"

static void test_hash_known_answer(void **state)
{
	struct tsr_audit_record r = {
		.seq = 1, .time = 1700000000, .actor = (char *)"cli:alice",
		.action = (char *)"cert.issue", .object = (char *)"serial:5f01",
		.outcome = (char *)"success", .detail = (char *)"product epcs",
	};
	char h[65], ref[65];

	(void)state;
	memset(r.prev_hash, '0', 64);
	memset(r.hash, 'x', 64);   /* ignored */
	assert_int_equal(tsr_audit_hash(&r, h), 0);
	assert_string_equal(h, KAT_HASH_1);
	reference_hash(&r, ref);
	assert_string_equal(h, ref);

	/* Negative time (two's complement), an empty field, a real prev hash. */
	r = (struct tsr_audit_record){
		.seq = 2, .time = -1, .actor = (char *)"cli:bob", .action = (char *)"audit.verify",
		.object = (char *)"", .outcome = (char *)"failure", .detail = (char *)"x",
	};
	memcpy(r.prev_hash, KAT_HASH_1, 65);
	assert_int_equal(tsr_audit_hash(&r, h), 0);
	assert_string_equal(h, KAT_HASH_2);
	reference_hash(&r, ref);
	assert_string_equal(h, ref);

	/* Field boundaries matter: moving a byte between fields changes the hash. */
	r.action = (char *)"audit.verif";
	r.object = (char *)"y";
	assert_int_equal(tsr_audit_hash(&r, ref), 0);
	assert_string_not_equal(h, ref);

	/* The previous hash must be 64 lower-case hex digits. */
	memcpy(r.prev_hash, "ABCD", 5);
	assert_int_equal(tsr_audit_hash(&r, h), TSR_ERR_INVALID);
	memset(r.prev_hash, 'A', 64);
	assert_int_equal(tsr_audit_hash(&r, h), TSR_ERR_INVALID);
}

static void test_append_matches_known_answer(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_record last;

	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "cert.issue", "serial:5f01",
	    TSR_AUDIT_SUCCESS, "product %s", "epcs"), 0);
	assert_false(tsr_store_in_transaction(fx->st));
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(last.seq, 1);
	assert_int_equal(last.time, 1700000000);
	assert_string_equal(last.detail, "product epcs");
	assert_string_equal(last.prev_hash,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_string_equal(last.hash, KAT_HASH_1);
	tsr_audit_record_clear(&last);
}

/* ------------------------------------------------------------------ append and verify */

static void test_empty_log_verifies(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;

	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 0);
	assert_int_equal(rep.first_bad_seq, 0);
	assert_string_equal(rep.head_hash, "");
}

static void test_append_and_verify(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;
	struct tsr_audit_record last;
	char head[65];

	append_n(fx, 20);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 20);
	assert_int_equal(rep.first_bad_seq, 0);
	assert_string_equal(rep.reason, "");
	last_hash(fx->st, head);
	assert_string_equal(rep.head_hash, head);

	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(last.seq, 20);
	assert_int_equal(last.time, 1700000020);
	assert_string_equal(last.actor, "cli:alice");
	assert_string_equal(last.action, "cert.issue");
	assert_string_equal(last.object, "serial:5f01");
	assert_string_equal(last.outcome, "success");
	assert_string_equal(last.detail, "certificate 20 for product epcs");
	tsr_audit_record_clear(&last);
}

static void test_append_refuses_bad_fields(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_record last;
	char big[1100];

	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", "", "maybe", "d"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_audit_append(fx->st, "", "x.y", "", TSR_AUDIT_SUCCESS, "d"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", NULL, "", TSR_AUDIT_SUCCESS, "d"),
	    TSR_ERR_INVALID);
	memset(big, 'o', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", big, TSR_AUDIT_SUCCESS,
	    "d"), TSR_ERR_INVALID);
	/* Nothing was written, and no transaction was left open. */
	assert_int_equal(tsr_store_audit_last(fx->st, &last), TSR_ERR_NOT_FOUND);
	assert_false(tsr_store_in_transaction(fx->st));

	/* NULL object is the empty object. */
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", NULL, TSR_AUDIT_REFUSED,
	    "d"), 0);
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(last.seq, 1);
	assert_string_equal(last.object, "");
	assert_string_equal(last.outcome, "refused");
	tsr_audit_record_clear(&last);
}

static void test_details_are_one_line(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;
	struct tsr_audit_record last;
	char big[3000];

	assert_int_equal(tsr_audit_append(fx->st, "cli:al\nice", "cert.issue", "subject:CN=x\r\n",
	    TSR_AUDIT_FAILURE, "line one\nline two\ttab\r%s\x7f", "\n"), 0);
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_string_equal(last.actor, "cli:al ice");
	assert_string_equal(last.object, "subject:CN=x  ");
	assert_string_equal(last.detail, "line one line two tab   ");
	tsr_audit_record_clear(&last);

	/* Capped at 1024 bytes, marked, and never cut inside a UTF-8 character.
	 * With 1020 ASCII bytes before the "é"s the cut (at 1021, leaving room
	 * for "...") would split an "é": the whole character goes. */
	memset(big, 'a', 1020);
	big[1020] = '\0';
	for (size_t n = 1020; n + 2 < sizeof(big); n += 2)
		memcpy(big + n, "\xc3\xa9", 3);
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", "", TSR_AUDIT_SUCCESS,
	    "%s", big), 0);
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(strlen(last.detail), 1023);
	assert_string_equal(last.detail + 1019, "a...");
	tsr_audit_record_clear(&last);

	/* One byte earlier and the "é" fits whole: exactly 1024 bytes. */
	memmove(big + 1019, big + 1020, strlen(big + 1020) + 1);
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", "", TSR_AUDIT_SUCCESS,
	    "%s", big), 0);
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(strlen(last.detail), 1024);
	assert_string_equal(last.detail + 1018, "a\xc3\xa9...");
	tsr_audit_record_clear(&last);

	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 3);
}

static void test_joins_callers_transaction(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;
	struct tsr_audit_record last;
	char head[65];
	int64_t n = -1;

	append_n(fx, 3);
	last_hash(fx->st, head);

	/* Rolled back with the work it describes. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "5f01", "issuing"), 0);
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "cert.issue", "serial:5f01",
	    TSR_AUDIT_SUCCESS, "issued"), 0);
	assert_true(tsr_store_in_transaction(fx->st));   /* joined, did not commit */
	tsr_store_rollback(fx->st);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 3);
	assert_string_equal(rep.head_hash, head);
	assert_int_equal(tsr_store_cert_count(fx->st, &n), 0);
	assert_int_equal(n, 0);

	/* Committed with it. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_store_serial_reserve(fx->st, "5f01", "issuing"), 0);
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "cert.issue", "serial:5f01",
	    TSR_AUDIT_SUCCESS, "issued"), 0);
	assert_int_equal(tsr_store_commit(fx->st), 0);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 4);
	assert_int_equal(tsr_store_audit_last(fx->st, &last), 0);
	assert_int_equal(last.seq, 4);
	assert_string_equal(last.prev_hash, head);
	tsr_audit_record_clear(&last);
}

/* Two handles on one file (two processes in production) share one chain. */
static void test_two_handles_share_the_chain(void **state)
{
	struct fx *fx = *state;
	struct tsr_store *other = NULL;
	struct tsr_audit_report rep;

	assert_int_equal(tsr_store_open(fx->path, false, &other), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(tsr_audit_append(fx->st, "cli:a", "x.y", "", TSR_AUDIT_SUCCESS,
		    "from a"), 0);
		assert_int_equal(tsr_audit_append(other, "cli:b", "x.y", "", TSR_AUDIT_SUCCESS,
		    "from b"), 0);
	}
	tsr_store_close(other);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.records, 10);
}

/* ------------------------------------------------------------------ tampering */

static void test_altered_record(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_report rep;
	char head[65];

	append_n(fx, 6);
	last_hash(fx->st, head);
	tamper(fx, "UPDATE audit SET actor = 'cli:mallory' WHERE seq = 3");
	expect_broken(fx, 6, 3, "record 3 was altered: its hash does not match its contents");
	/* The report still counts every record and names the head. */
	assert_int_equal(tsr_audit_verify(fx->st, &rep), TSR_ERR_AUDIT);
	assert_string_equal(rep.head_hash, head);
}

static void test_altered_time(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 4);
	tamper(fx, "UPDATE audit SET time = time - 86400 WHERE seq = 2");
	expect_broken(fx, 4, 2, "record 2 was altered: its hash does not match its contents");
}

/* A deleted record is named by its own number (3), not by record 4. */
static void test_deleted_record(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 6);
	tamper(fx, "DELETE FROM audit WHERE seq = 3");
	expect_broken(fx, 5, 3, "record 3 is missing: record 4 follows record 2");
}

static void test_deleted_records(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 6);
	tamper(fx, "DELETE FROM audit WHERE seq IN (3, 4)");
	expect_broken(fx, 4, 3, "records 3 to 4 are missing: record 5 follows record 2");
}

static void test_deleted_first_record(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 3);
	tamper(fx, "DELETE FROM audit WHERE seq = 1");
	expect_broken(fx, 2, 1, "record 1 is missing: the log starts at record 2");
}

/* Renumbering after a delete does not help: the chain still breaks there. */
static void test_deleted_and_renumbered(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 5);
	tamper(fx, "DELETE FROM audit WHERE seq = 3;"
	    "UPDATE audit SET seq = seq - 1 WHERE seq > 3");
	expect_broken(fx, 4, 3, "record 3 does not follow record 2: its previous-hash does not "
	    "match (records reordered or replaced)");
}

static void test_swapped_records(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 6);
	/* Swap everything but seq between records 2 and 4. */
	tamper(fx, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (2, 4);"
	    "UPDATE audit SET (time, actor, action, object, outcome, detail, prev_hash, hash) ="
	    " (SELECT time, actor, action, object, outcome, detail, prev_hash, hash FROM t"
	    "  WHERE t.seq = 6 - audit.seq) WHERE seq IN (2, 4)");
	expect_broken(fx, 6, 2, "record 2 does not follow record 1: its previous-hash does not "
	    "match (records reordered or replaced)");
}

static void test_swapped_contents_keep_hashes(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 6);
	/* Swap only the contents; the hash columns stay where they were. */
	tamper(fx, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (2, 4);"
	    "UPDATE audit SET (time, detail) ="
	    " (SELECT time, detail FROM t WHERE t.seq = 6 - audit.seq) WHERE seq IN (2, 4)");
	expect_broken(fx, 6, 2, "record 2 was altered: its hash does not match its contents");
}

/* An attacker can recompute the hash of the record they changed (the chain
 * has no key), but then the next record no longer follows it. */
static void test_altered_and_rehashed(void **state)
{
	struct fx *fx = *state;
	struct tsr_audit_record r = { .seq = 3 };
	char h[65], sql[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;

	append_n(fx, 5);
	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT time, prev_hash FROM audit WHERE seq = 3",
	    -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	r.time = sqlite3_column_int64(stmt, 0);
	snprintf(r.prev_hash, sizeof(r.prev_hash), "%s", sqlite3_column_text(stmt, 1));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	r.actor = (char *)"cli:mallory";
	r.action = (char *)"cert.issue";
	r.object = (char *)"serial:5f01";
	r.outcome = (char *)"success";
	r.detail = (char *)"certificate 3 for product epcs";
	assert_int_equal(tsr_audit_hash(&r, h), 0);
	snprintf(sql, sizeof(sql), "UPDATE audit SET actor = 'cli:mallory', hash = '%s' "
	    "WHERE seq = 3", h);
	tamper(fx, sql);
	expect_broken(fx, 5, 4, "record 4 does not follow record 3: its previous-hash does not "
	    "match (records reordered or replaced)");
}

static void test_replaced_first_record(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 2);
	tamper(fx, "UPDATE audit SET prev_hash = hash WHERE seq = 1");
	expect_broken(fx, 2, 1, "record 1 does not start the log: its previous-hash is not all "
	    "zeros (records removed or replaced)");
}

/* A head whose hash was mangled stops further appends instead of chaining
 * onto garbage. */
static void test_append_after_mangled_head(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 2);
	tamper(fx, "UPDATE audit SET hash = 'not a hash' WHERE seq = 2");
	assert_int_equal(tsr_audit_append(fx->st, "cli:alice", "x.y", "", TSR_AUDIT_SUCCESS, "d"),
	    TSR_ERR_AUDIT);
	assert_false(tsr_store_in_transaction(fx->st));
	expect_broken(fx, 2, 2, "record 2 was altered: its hash does not match its contents");
}

/* tsr_audit_error: the outcome follows the error table, the detail and the
 * code come back untouched. */
static int last_outcome(const struct tsr_audit_record *rec, void *ctx)
{
	snprintf(ctx, 256, "%s|%s", rec->outcome, rec->detail);
	return 0;
}

static void test_audit_error(void **state)
{
	struct fx *fx = *state;
	char got[256];

	tsr_error(TSR_ERR_POLICY, "product x does not allow OU");
	assert_int_equal(tsr_audit_error(fx->st, "t", "cert.issue", "product:x", TSR_ERR_POLICY),
	    TSR_ERR_POLICY);
	assert_string_equal(tsr_error_detail(), "product x does not allow OU");
	assert_int_equal(tsr_store_audit_iter(fx->st, last_outcome, got), 0);
	assert_string_equal(got, "refused|product x does not allow OU");
	tsr_error(TSR_ERR_STORE, "database is locked");
	assert_int_equal(tsr_audit_error(fx->st, "t", "user.add", "user:a", TSR_ERR_STORE),
	    TSR_ERR_STORE);
	assert_int_equal(tsr_store_audit_iter(fx->st, last_outcome, got), 0);
	assert_string_equal(got, "failure|database is locked");
	/* a token PIN failure is the server's, not the client's */
	tsr_error(TSR_ERR_PIN, "C_Login: CKR_PIN_INCORRECT");
	assert_int_equal(tsr_audit_error(fx->st, "t", "token.login", "", TSR_ERR_PIN), TSR_ERR_PIN);
	assert_int_equal(tsr_store_audit_iter(fx->st, last_outcome, got), 0);
	assert_string_equal(got, "failure|C_Login: CKR_PIN_INCORRECT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known_answer),
		cmocka_unit_test_setup_teardown(test_append_matches_known_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_log_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_refuses_bad_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_details_are_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joins_callers_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles_share_the_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_altered_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_altered_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_first_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_and_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_contents_keep_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_altered_and_rehashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_first_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_after_mangled_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
