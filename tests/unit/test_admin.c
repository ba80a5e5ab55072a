/*
 * test_admin.c - officers and vouchers (src/ra/user.c, voucher.c) against a
 * real SQLite store in a temporary directory: the rules for adding users,
 * logins with lockout, the audit trail (complete, chained, free of
 * secrets), and vouchers from creation to redemption, with every refusal
 * leaving the store as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit/audit.h"
#include "ra/admin.h"

#define NOW 1800000000
#define ADMIN "cli:root"
#define GOOD_PW "violet tractor umbrella"
#define OTHER_PW "quiet harbour lantern 7"

static const char common_passwords[] =
    "# a few of the most common passwords\n"
    "password\n"
    "password123\n"
    "qwertyuiop\n"
    "letmein123\n";

struct fx {
	char dir[64];
	char path[128];
	struct tsr_store *st;
	struct tsr_password_list *list;
	uint8_t key[TSR_CODE_KEY_BYTES];
	struct tsr_products products;
	struct tsr_product items[3];
	time_t now;
};

static time_t fixed_clock(void *ctx)
{
	return *(time_t *)ctx;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	tsr_secret_set_cost(true);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsr-admin-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/tessera.db", fx->dir);
	fx->now = NOW;
	tsr_clock_set(fixed_clock, &fx->now);
	if (tsr_store_open(fx->path, true, &fx->st) != 0 ||
	    tsr_password_list_parse(common_passwords, sizeof(common_passwords) - 1,
	    &fx->list) != 0 || tsr_random(fx->key, sizeof(fx->key)) != 0)
		return -1;
	fx->items[0] = (struct tsr_product){ .name = (char *)"epcs", .payment = (char *)"voucher" };
	fx->items[1] = (struct tsr_product){ .name = (char *)"code-signing",
		.payment = (char *)"invoice" };
	fx->items[2] = (struct tsr_product){ .name = (char *)"tls-free", .payment = (char *)"free" };
	fx->products.items = fx->items;
	fx->products.n = 3;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tsr_clock_set(NULL, NULL);
	tsr_store_close(fx->st);
	tsr_password_list_free(fx->list);
	if (tsr_dir_remove_tree(fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

/* One integer from the database file, read behind the store's back. */
static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static int64_t users(struct fx *fx)
{
	return raw_int(fx->path, "SELECT count(*) FROM users");
}

static int64_t vouchers_used(struct fx *fx)
{
	return raw_int(fx->path, "SELECT count(*) FROM vouchers WHERE used_at IS NOT NULL");
}

/* ------------------------------------------------------------------ audit helpers */

struct audit_find {
	const char *action, *outcome, *detail_part;
	int64_t found;
	char last_object[64];
};

static int find_audit(const struct tsr_audit_record *r, void *ctx)
{
	struct audit_find *f = ctx;

	if (strcmp(r->action, f->action) == 0 &&
	    (f->outcome == NULL || strcmp(r->outcome, f->outcome) == 0) &&
	    (f->detail_part == NULL || strstr(r->detail, f->detail_part) != NULL)) {
		f->found++;
		snprintf(f->last_object, sizeof(f->last_object), "%s", r->object);
	}
	return 0;
}

/* How many audit records have action, outcome (NULL: any) and a detail
 * containing detail_part (NULL: any). */
static int64_t audited(struct fx *fx, const char *action, const char *outcome,
    const char *detail_part)
{
	struct audit_find f = { action, outcome, detail_part, 0, "" };

	assert_int_equal(tsr_store_audit_iter(fx->st, find_audit, &f), 0);
	return f.found;
}

struct secret_scan {
	const char *const *secrets;
	size_t n;
	int64_t hits;
};

static int scan_audit(const struct tsr_audit_record *r, void *ctx)
{
	struct secret_scan *s = ctx;
	const char *fields[] = { r->actor, r->action, r->object, r->outcome, r->detail };

	for (size_t f = 0; f < TSR_ARRAY_LEN(fields); f++) {
		if (strstr(fields[f], "$argon2") != NULL)
			s->hits++;
		for (size_t i = 0; i < s->n; i++)
			if (strstr(fields[f], s->secrets[i]) != NULL)
				s->hits++;
	}
	return 0;
}

/* No audit field holds any of secrets or any Argon2 hash; the chain holds. */
static void assert_audit_clean(struct fx *fx, const char *const *secrets, size_t n)
{
	struct secret_scan s = { secrets, n, 0 };
	struct tsr_audit_report rep;

	assert_int_equal(tsr_store_audit_iter(fx->st, scan_audit, &s), 0);
	assert_int_equal(s.hits, 0);
	assert_int_equal(tsr_audit_verify(fx->st, &rep), 0);
	assert_int_equal(rep.first_bad_seq, 0);
	assert_true(rep.records > 0);
}

static void add_alice(struct fx *fx)
{
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", "Alice Example",
	    "alice.w@example.org", "ra-officer", GOOD_PW), 0);
}

/* ------------------------------------------------------------------ users */

static void test_user_names_and_roles(void **state)
{
	static const char *const bad[] = {
		"", "a", "A", "Alice", "1abc", "-abc", "al ice", "al@ice", "alice\n", "ab/c",
		"abcdefghijklmnopqrstuvwxyz0123456", /* 33 characters */
	};
	char roles[TSR_USER_ROLES_MAX + 1];

	(void)state;
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad); i++)
		assert_int_equal(tsr_ra_user_name_check(bad[i]), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_name_check(NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_name_check("al"), 0);
	assert_int_equal(tsr_ra_user_name_check("j.doe_2-x"), 0);
	assert_int_equal(tsr_ra_user_name_check("abcdefghijklmnopqrstuvwxyz012345"), 0);

	assert_int_equal(tsr_ra_roles_parse("auditor, ra-officer,auditor", roles), 0);
	assert_string_equal(roles, "ra-officer,auditor");
	assert_int_equal(tsr_ra_roles_parse("ca-admin", roles), 0);
	assert_string_equal(roles, "ca-admin");
	assert_int_equal(tsr_ra_roles_parse("", roles), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_roles_parse(" , ", roles), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_roles_parse("root", roles), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "unknown role 'root'"));
	assert_int_equal(tsr_ra_roles_parse("ra-officer,admin", roles), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_roles_parse("RA-OFFICER", roles), TSR_ERR_INVALID);
}

static void test_user_add_rules(void **state)
{
	struct fx *fx = *state;
	struct tsr_user_record u;
	static const char *const weak[] = {
		"x7!k2",                   /* fewer than 8 characters */
		"password123",             /* on the list */
		"PassWord123",             /* on the list, whatever the case */
		"aaaaaaaaaaaa",            /* repetitive */
		"123456789012",            /* sequential */
		"alice in chains 99",      /* the user name */
		"my example password 7",   /* the display name */
		"tessera is great 42",     /* the service */
	};

	/* Refusals: nothing stored, each audited. */
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "Alice", NULL, NULL,
	    "ra-officer", GOOD_PW), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", NULL, NULL, "",
	    GOOD_PW), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", NULL, NULL, "admin",
	    GOOD_PW), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", NULL, "not an email",
	    "ra-officer", GOOD_PW), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", "Alice\x01", NULL,
	    "ra-officer", GOOD_PW), TSR_ERR_INVALID);
	for (size_t i = 0; i < TSR_ARRAY_LEN(weak); i++) {
		assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", "Alice Example",
		    "alice.w@example.org", "ra-officer", weak[i]), TSR_ERR_POLICY);
		/* The reason names the rule, never the password. */
		assert_null(strstr(tsr_error_detail(), weak[i]));
	}
	assert_int_equal(users(fx), 0);
	assert_int_equal(audited(fx, "user.add", TSR_AUDIT_REFUSED, NULL),
	    5 + (int64_t)TSR_ARRAY_LEN(weak));

	/* The email's domain is not a context word: only its local part is. */
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", "Alice Example",
	    "alice.w@example.org", "auditor,ra-officer", "organic tractor umbrella"), 0);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &u), 0);
	assert_string_equal(u.roles, "ra-officer,auditor");
	assert_string_equal(u.display_name, "Alice Example");
	assert_string_equal(u.email, "alice.w@example.org");
	assert_non_null(strstr(u.password_hash, "$argon2id$"));
	assert_null(strstr(u.password_hash, "organic"));
	assert_true(tsr_ra_user_has_role(&u, TSR_ROLE_RA_OFFICER));
	assert_true(tsr_ra_user_has_role(&u, TSR_ROLE_AUDITOR));
	assert_false(tsr_ra_user_has_role(&u, TSR_ROLE_CA_ADMIN));
	assert_false(tsr_ra_user_has_role(&u, "officer"));
	tsr_user_record_clear(&u);
	assert_int_equal(audited(fx, "user.add", TSR_AUDIT_SUCCESS, "ra-officer,auditor"), 1);

	/* A name is taken once. */
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "alice", NULL, NULL,
	    "ca-admin", OTHER_PW), TSR_ERR_EXISTS);
	assert_int_equal(users(fx), 1);
	assert_int_equal(audited(fx, "user.add", TSR_AUDIT_REFUSED, "already exists"), 1);
	/* Display name and email are optional. */
	assert_int_equal(tsr_ra_user_add(fx->st, fx->list, ADMIN, "bob", NULL, "", "ca-admin",
	    OTHER_PW), 0);
	assert_int_equal(users(fx), 2);
	{
		const char *secrets[] = { GOOD_PW, OTHER_PW, "organic tractor", "password123",
			"alice in chains", "tessera is great" };

		assert_audit_clean(fx, secrets, TSR_ARRAY_LEN(secrets));
	}
}

static void test_authenticate(void **state)
{
	struct fx *fx = *state;
	struct tsr_user_record u;
	char hash_before[TSR_SECRET_HASH_BYTES];

	add_alice(fx);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    &u), 0);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.roles, "ra-officer");
	snprintf(hash_before, sizeof(hash_before), "%s", u.password_hash);
	tsr_user_record_clear(&u);
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_SUCCESS, NULL), 1);

	/* Unknown and invalid names read exactly like a wrong password. */
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "mallory", GOOD_PW, 3,
	    &u), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "x'; DROP TABLE",
	    GOOD_PW, 3, NULL), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_FAILURE, "unknown user name"), 2);
	{
		struct audit_find f = { "user.login", TSR_AUDIT_FAILURE, "unknown", 0, "" };

		assert_int_equal(tsr_store_audit_iter(fx->st, find_audit, &f), 0);
		assert_string_equal(f.last_object, "user:(invalid name)");
	}

	/* Two wrong passwords, then the right one: the count resets. */
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", "wrong one",
	    3, NULL), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", "", 3,
	    NULL), TSR_ERR_AUTH);
	assert_int_equal(raw_int(fx->path, "SELECT failed_logins FROM users"), 2);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    NULL), 0);
	assert_int_equal(raw_int(fx->path, "SELECT failed_logins FROM users"), 0);

	/* Three in a row lock the account, even against the right password. */
	for (int i = 1; i <= 3; i++)
		assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice",
		    "wrong one", 3, NULL), TSR_ERR_AUTH);
	assert_int_equal(raw_int(fx->path, "SELECT locked FROM users"), 1);
	assert_int_equal(audited(fx, "user.lock", TSR_AUDIT_SUCCESS, "3 failed logins"), 1);
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_FAILURE, "failure 3 of 3"), 1);
	/* Locked, even the right password gets the answer of a wrong one: a
	 * guesser cannot go on guessing past the lock and spot the right guess. */
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    &u), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_string_equal(u.name, "");
	/* and so does a wrong one */
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", "wrong one",
	    3, NULL), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(raw_int(fx->path, "SELECT failed_logins FROM users"), 3);
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_REFUSED, "locked"), 2);

	/* Unlock: the count is cleared and the password works again. */
	assert_int_equal(tsr_ra_user_unlock(fx->st, ADMIN, "alice"), 0);
	assert_int_equal(raw_int(fx->path, "SELECT locked + failed_logins FROM users"), 0);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    NULL), 0);
	assert_int_equal(audited(fx, "user.unlock", TSR_AUDIT_SUCCESS, NULL), 1);
	assert_int_equal(tsr_ra_user_unlock(fx->st, ADMIN, "nobody"), TSR_ERR_NOT_FOUND);

	/* Disabled: refused, like a wrong password; enabled: fine again. */
	assert_int_equal(tsr_ra_user_disable(fx->st, ADMIN, "alice"), 0);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    NULL), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_REFUSED, "disabled"), 1);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", "wrong one",
	    3, NULL), TSR_ERR_AUTH);
	assert_string_equal(tsr_error_detail(), "wrong user name or password");
	assert_int_equal(audited(fx, "user.login", TSR_AUDIT_REFUSED, "disabled"), 2);
	assert_int_equal(tsr_ra_user_enable(fx->st, ADMIN, "alice"), 0);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    NULL), 0);

	/* The limit is 1..100. */
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 0,
	    NULL), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 101,
	    NULL), TSR_ERR_INVALID);

	/* A hash made at another cost is replaced on the next good login. */
	tsr_secret_set_cost(false);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    &u), 0);
	tsr_user_record_clear(&u);
	tsr_secret_set_cost(true);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &u), 0);
	assert_string_not_equal(u.password_hash, hash_before);
	assert_non_null(strstr(u.password_hash, "m=65536"));
	tsr_user_record_clear(&u);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "http:192.0.2.7", "alice", GOOD_PW, 3,
	    NULL), 0);
	{
		const char *secrets[] = { GOOD_PW, "wrong one", hash_before };

		assert_audit_clean(fx, secrets, TSR_ARRAY_LEN(secrets));
	}
}

static void test_passwd_and_roles(void **state)
{
	struct fx *fx = *state;
	struct tsr_user_record u;

	add_alice(fx);
	/* A new password meets the same rules, with the stored context. */
	assert_int_equal(tsr_ra_user_passwd(fx->st, fx->list, ADMIN, "alice", "letmein123"),
	    TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_user_passwd(fx->st, fx->list, ADMIN, "alice",
	    "example of a password"), TSR_ERR_POLICY);
	assert_int_equal(tsr_ra_user_passwd(fx->st, fx->list, ADMIN, "nobody", OTHER_PW),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "t", "alice", GOOD_PW, 5, NULL), 0);
	assert_int_equal(tsr_ra_user_passwd(fx->st, fx->list, ADMIN, "alice", OTHER_PW), 0);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "t", "alice", GOOD_PW, 5, NULL),
	    TSR_ERR_AUTH);
	assert_int_equal(tsr_ra_user_authenticate(fx->st, "t", "alice", OTHER_PW, 5, NULL), 0);
	assert_int_equal(audited(fx, "user.passwd", TSR_AUDIT_SUCCESS, NULL), 1);
	assert_int_equal(audited(fx, "user.passwd", TSR_AUDIT_REFUSED, NULL), 3);

	assert_int_equal(tsr_ra_user_set_roles(fx->st, ADMIN, "alice", "ca-admin, auditor"), 0);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &u), 0);
	assert_string_equal(u.roles, "ca-admin,auditor");
	tsr_user_record_clear(&u);
	assert_int_equal(audited(fx, "user.roles", TSR_AUDIT_SUCCESS,
	    "roles ca-admin,auditor (were ra-officer)"), 1);
	assert_int_equal(tsr_ra_user_set_roles(fx->st, ADMIN, "alice", "superuser"),
	    TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_set_roles(fx->st, ADMIN, "alice", ""), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_user_set_roles(fx->st, ADMIN, "nobody", "auditor"),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_user_get(fx->st, "alice", &u), 0);
	assert_string_equal(u.roles, "ca-admin,auditor");
	tsr_user_record_clear(&u);
	assert_int_equal(tsr_ra_user_disable(fx->st, ADMIN, "nobody"), TSR_ERR_NOT_FOUND);
	assert_int_equal(audited(fx, "user.disable", TSR_AUDIT_REFUSED, NULL), 1);
	{
		const char *secrets[] = { GOOD_PW, OTHER_PW, "letmein123", "example of a" };

		assert_audit_clean(fx, secrets, TSR_ARRAY_LEN(secrets));
	}
}

/* ------------------------------------------------------------------ vouchers */

/* True if the bytes of file path contain s. */
static bool file_contains(const char *path, const char *s)
{
	struct tsr_buf b;
	bool found = false;

	tsr_buf_init(&b, 64u << 20);
	if (tsr_file_read(path, 64u << 20, &b) == 0)
		found = memmem(b.data, b.len, s, strlen(s)) != NULL;
	tsr_buf_free(&b);
	return found;
}

/* The code without hyphens, as someone might store it. */
static void strip(const char *code, char *out)
{
	for (; *code != '\0'; code++)
		if (*code != '-')
			*out++ = *code;
	*out = '\0';
}

static void create(struct fx *fx, const char *product, long n, time_t expires, char *batch,
    char ***codes)
{
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, product, n,
	    expires, batch, codes), 0);
}

static void test_voucher_create(void **state)
{
	struct fx *fx = *state;
	char batch[TSR_VOUCHER_BATCH_LEN + 1], batch2[TSR_VOUCHER_BATCH_LEN + 1];
	char hash[TSR_CODE_HASH_HEX], canonical[64], bare[32], wal[160];
	struct tsr_voucher_record v;
	char **codes = NULL, **none = NULL;
	const long n = 200;

	create(fx, "epcs", n, 0, batch, &codes);
	assert_int_equal(strlen(batch), TSR_VOUCHER_BATCH_LEN);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM vouchers"), n);
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	for (long i = 0; i < n; i++) {
		/* XXXX-XXXX-XXXX-XXXX, already canonical. */
		assert_int_equal(strlen(codes[i]), 19);
		assert_true(codes[i][4] == '-' && codes[i][9] == '-' && codes[i][14] == '-');
		assert_int_equal(tsr_code_normalise(codes[i], canonical, sizeof(canonical)), 0);
		assert_string_equal(canonical, codes[i]);
		for (long j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
		/* Stored as its keyed hash, in this batch, for this product. */
		assert_int_equal(tsr_code_hash(fx->key, TSR_CODE_VOUCHER, codes[i], hash), 0);
		assert_int_equal(tsr_store_voucher_get(fx->st, hash, &v), 0);
		assert_string_equal(v.batch, batch);
		assert_string_equal(v.product, "epcs");
		assert_int_equal(v.created_at, NOW);
		assert_int_equal(v.expires_at, 0);
		assert_int_equal(v.used_at, 0);
		/* ...and nowhere in plaintext: not in the database file, not in its WAL. */
		strip(codes[i], bare);
		assert_false(file_contains(fx->path, codes[i]));
		assert_false(file_contains(fx->path, bare));
		assert_false(file_contains(wal, codes[i]));
		assert_false(file_contains(wal, bare));
	}
	assert_true(file_contains(wal, batch) || file_contains(fx->path, batch));
	assert_int_equal(audited(fx, "voucher.create", TSR_AUDIT_SUCCESS,
	    "product epcs, 200 vouchers, expires never"), 1);
	{
		const char *secrets[] = { codes[0], codes[1], codes[n - 1] };

		assert_audit_clean(fx, secrets, TSR_ARRAY_LEN(secrets));
	}

	/* A second batch has another id. */
	create(fx, "code-signing", 1, NOW + 86400, batch2, &none);
	assert_string_not_equal(batch, batch2);
	tsr_ra_voucher_codes_free(none, 1);
	none = NULL;

	/* Refusals store nothing and are audited. */
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, "tls-free",
	    5, 0, batch2, &none), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "free"));
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, "nope",
	    5, 0, batch2, &none), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, "epcs",
	    0, 0, batch2, &none), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, "epcs",
	    TSR_VOUCHER_COUNT_MAX + 1, 0, batch2, &none), TSR_ERR_INVALID);
	assert_int_equal(tsr_ra_voucher_create(fx->st, &fx->products, fx->key, ADMIN, "epcs",
	    5, NOW, batch2, &none), TSR_ERR_INVALID);
	assert_null(none);
	assert_string_equal(batch2, "");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM vouchers"), n + 1);
	assert_int_equal(audited(fx, "voucher.create", TSR_AUDIT_REFUSED, NULL), 5);
	tsr_ra_voucher_codes_free(codes, n);
}

static void test_voucher_create_max(void **state)
{
	struct fx *fx = *state;
	char batch[TSR_VOUCHER_BATCH_LEN + 1];
	char **codes = NULL;

	create(fx, "epcs", TSR_VOUCHER_COUNT_MAX, 0, batch, &codes);
	assert_int_equal(raw_int(fx->path, "SELECT count(DISTINCT code_hash) FROM vouchers"),
	    TSR_VOUCHER_COUNT_MAX);
	tsr_ra_voucher_codes_free(codes, TSR_VOUCHER_COUNT_MAX);
}

/* Mess up one character of a code in a way that stays inside the alphabet. */
static void typo(const char *code, char *out)
{
	strcpy(out, code);
	out[2] = out[2] == '7' ? '8' : '7';
}

static void test_voucher_redeem(void **state)
{
	struct fx *fx = *state;
	char batch[TSR_VOUCHER_BATCH_LEN + 1], batch2[TSR_VOUCHER_BATCH_LEN + 1];
	char typed[64], other_kind[64], hash[TSR_CODE_HASH_HEX];
	struct tsr_voucher_record v;
	uint8_t wrong_key[TSR_CODE_KEY_BYTES];
	char **codes = NULL, **late = NULL;
	int64_t revoked = -1;

	create(fx, "epcs", 6, 0, batch, &codes);

	/* Redeemed once; the second time it is used. */
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "http:192.0.2.9", codes[0], "epcs",
	    "app-1", NOW), 0);
	assert_int_equal(tsr_code_hash(fx->key, TSR_CODE_VOUCHER, codes[0], hash), 0);
	assert_int_equal(tsr_store_voucher_get(fx->st, hash, &v), 0);
	assert_int_equal(v.used_at, NOW);
	assert_string_equal(v.used_by, "app-1");
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "http:192.0.2.9", codes[0], "epcs",
	    "app-2", NOW + 1), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "already used"));
	assert_int_equal(tsr_store_voucher_get(fx->st, hash, &v), 0);
	assert_string_equal(v.used_by, "app-1");
	assert_int_equal(audited(fx, "voucher.redeem", TSR_AUDIT_SUCCESS, "application app-1"), 1);
	{
		struct audit_find f = { "voucher.redeem", TSR_AUDIT_REFUSED, "already used", 0, "" };
		char object[64];

		snprintf(object, sizeof(object), "voucher-batch:%s", batch);
		assert_int_equal(tsr_store_audit_iter(fx->st, find_audit, &f), 0);
		assert_int_equal(f.found, 1);
		assert_string_equal(f.last_object, object);
	}

	/* Typed as humans type: lower case, spaces, O for 0, I/L for 1. */
	strip(codes[1], typed);
	for (char *p = typed; *p != '\0'; p++) {
		if (*p == '0')
			*p = 'o';
		else if (*p == '1')
			*p = 'l';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", typed, "epcs", "app-3", NOW),
	    0);
	assert_int_equal(vouchers_used(fx), 2);

	/* Refusals change nothing. */
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", codes[2], "code-signing",
	    "app-4", NOW), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "for product epcs"));
	typo(codes[2], typed);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", typed, "epcs", "app-4", NOW),
	    TSR_ERR_PARSE);
	assert_non_null(strstr(tsr_error_detail(), "typo"));
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", "hello world", "epcs",
	    "app-4", NOW), TSR_ERR_PARSE);
	assert_int_equal(tsr_code_new(TSR_CODE_VERIFICATION_BITS, other_kind,
	    sizeof(other_kind)), 0);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", other_kind, "epcs", "app-4",
	    NOW), TSR_ERR_PARSE);
	assert_non_null(strstr(tsr_error_detail(), "not a voucher code"));
	assert_int_equal(tsr_random(wrong_key, sizeof(wrong_key)), 0);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, wrong_key, "t", codes[2], "epcs", "app-4",
	    NOW), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", codes[2], "epcs",
	    "app 4; rm", NOW), TSR_ERR_INVALID);
	assert_int_equal(vouchers_used(fx), 2);
	assert_int_equal(audited(fx, "voucher.redeem", TSR_AUDIT_REFUSED, NULL), 7);

	/* Inside the caller's transaction, a rollback undoes the redemption. */
	assert_int_equal(tsr_store_begin(fx->st), 0);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", codes[2], "epcs", "app-5",
	    NOW), 0);
	tsr_store_rollback(fx->st);
	assert_int_equal(vouchers_used(fx), 2);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", codes[2], "epcs", "app-5",
	    NOW), 0);

	/* Expiry: good until the instant it names. */
	create(fx, "epcs", 2, NOW + 1000, batch2, &late);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", late[0], "epcs", "app-6",
	    NOW + 1000), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "expired"));
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", late[0], "epcs", "app-6",
	    NOW + 999), 0);

	/* Revoking the batch stops the unused codes, not the used ones. */
	assert_int_equal(tsr_ra_voucher_revoke_batch(fx->st, ADMIN, batch, &revoked), 0);
	assert_int_equal(revoked, 3);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", codes[4], "epcs", "app-7",
	    NOW), TSR_ERR_POLICY);
	assert_non_null(strstr(tsr_error_detail(), "revoked"));
	assert_int_equal(audited(fx, "voucher.revoke", TSR_AUDIT_SUCCESS, "3 unused"), 1);
	/* Batch ids are read in any case; unknown ones are refused and audited. */
	for (char *p = batch2; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_int_equal(tsr_ra_voucher_revoke_batch(fx->st, ADMIN, batch2, &revoked), 0);
	assert_int_equal(revoked, 1);
	assert_int_equal(tsr_ra_voucher_revoke_batch(fx->st, ADMIN, "ZZZZZZZZ", NULL),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ra_voucher_revoke_batch(fx->st, ADMIN, "bad batch!", NULL),
	    TSR_ERR_NOT_FOUND);
	assert_int_equal(audited(fx, "voucher.revoke", TSR_AUDIT_REFUSED, NULL), 2);
	assert_int_equal(vouchers_used(fx), 4);
	{
		const char *secrets[] = { codes[0], codes[1], codes[2], codes[4], late[0], typed,
			hash };

		assert_audit_clean(fx, secrets, TSR_ARRAY_LEN(secrets));
	}
	tsr_ra_voucher_codes_free(codes, 6);
	tsr_ra_voucher_codes_free(late, 2);
}

struct batches {
	struct tsr_voucher_batch b[4];
	int n;
};

static int collect_batch(const struct tsr_voucher_batch *b, void *ctx)
{
	struct batches *bs = ctx;

	if (bs->n < 4)
		bs->b[bs->n] = *b;
	bs->n++;
	return 0;
}

static void test_voucher_batches(void **state)
{
	struct fx *fx = *state;
	char b1[TSR_VOUCHER_BATCH_LEN + 1], b2[TSR_VOUCHER_BATCH_LEN + 1];
	struct tsr_voucher_filter f = { NULL, NULL };
	struct batches bs;
	char **c1 = NULL, **c2 = NULL;

	create(fx, "epcs", 5, 0, b1, &c1);
	fx->now = NOW + 10;
	create(fx, "code-signing", 3, NOW + 100, b2, &c2);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", c1[0], "epcs", "a1", NOW),
	    0);
	assert_int_equal(tsr_ra_voucher_redeem(fx->st, fx->key, "t", c2[0], "code-signing", "a2",
	    NOW), 0);
	assert_int_equal(tsr_ra_voucher_revoke_batch(fx->st, ADMIN, b1, NULL), 0);

	memset(&bs, 0, sizeof(bs));
	assert_int_equal(tsr_ra_voucher_batches(fx->st, NULL, NOW + 200, collect_batch, &bs), 0);
	assert_int_equal(bs.n, 2);
	assert_string_equal(bs.b[0].batch, b1);
	assert_string_equal(bs.b[0].product, "epcs");
	assert_int_equal(bs.b[0].total, 5);
	assert_int_equal(bs.b[0].used, 1);
	assert_int_equal(bs.b[0].revoked, 4);
	assert_int_equal(bs.b[0].unused, 0);
	assert_string_equal(bs.b[1].batch, b2);
	assert_int_equal(bs.b[1].expires_at, NOW + 100);
	assert_int_equal(bs.b[1].used, 1);
	assert_int_equal(bs.b[1].expired, 2);
	assert_int_equal(bs.b[1].unused, 0);

	/* Before its expiry the same codes count as unused. */
	f.product = "code-signing";
	memset(&bs, 0, sizeof(bs));
	assert_int_equal(tsr_ra_voucher_batches(fx->st, &f, NOW + 50, collect_batch, &bs), 0);
	assert_int_equal(bs.n, 1);
	assert_int_equal(bs.b[0].unused, 2);
	assert_int_equal(bs.b[0].expired, 0);

	f.product = NULL;
	f.batch = b1;
	memset(&bs, 0, sizeof(bs));
	assert_int_equal(tsr_ra_voucher_batches(fx->st, &f, NOW, collect_batch, &bs), 0);
	assert_int_equal(bs.n, 1);
	f.batch = "no such!";
	memset(&bs, 0, sizeof(bs));
	assert_int_equal(tsr_ra_voucher_batches(fx->st, &f, NOW, collect_batch, &bs), 0);
	assert_int_equal(bs.n, 0);
	tsr_ra_voucher_codes_free(c1, 5);
	tsr_ra_voucher_codes_free(c2, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_names_and_roles),
		cmocka_unit_test_setup_teardown(test_user_add_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwd_and_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_create_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_redeem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voucher_batches, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
