/*
 * user.c - RA officers and administrators: adding them, their roles and
 * passwords, switching them off, and logging them in with a lockout after
 * repeated failures.
 *
 * Each change runs in one store transaction with its audit record, so the
 * log never shows a change that did not happen or misses one that did.  A
 * refusal is audited after the rollback.  Passwords live only in the
 * caller's memory for the duration of a call; the store gets the Argon2id
 * hash; the audit log gets neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/ra_impl.h"

#define OBJECT_MAX (sizeof("user:") + TSR_USER_NAME_MAX)

static const char *const role_names[] = {
	TSR_ROLE_RA_OFFICER, TSR_ROLE_CA_ADMIN, TSR_ROLE_AUDITOR,
};

/* ------------------------------------------------------------------ names and roles */

/* The name rule keeps names safe to print in logs, audit records and URLs. */
int tsr_ra_user_name_check(const char *name)
{
	size_t n = name != NULL ? strnlen(name, TSR_USER_NAME_MAX + 1) : 0;
	bool ok = n >= 2 && n <= TSR_USER_NAME_MAX && name[0] >= 'a' && name[0] <= 'z';

	for (size_t i = 1; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok)
		return tsr_error(TSR_ERR_INVALID, "a user name has 2 to %d characters: a lower-case "
		    "letter, then lower-case letters, digits, '.', '_' or '-'", TSR_USER_NAME_MAX);
	return 0;
}

/* The bit of role names[i] for the word s[0..n), or 0 if unknown. */
static unsigned role_bit(const char *s, size_t n)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(role_names); i++)
		if (strlen(role_names[i]) == n && strncmp(role_names[i], s, n) == 0)
			return 1u << i;
	return 0;
}

/* Parse a comma list into its canonical form in out. */
int tsr_ra_roles_parse(const char *roles, char out[TSR_USER_ROLES_MAX + 1])
{
	const char *p = roles, *end;
	unsigned bits = 0, bit;
	size_t n;

	if (roles == NULL || strnlen(roles, 1024) == 1024)
		return tsr_error(TSR_ERR_INVALID, "no roles given");
	for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			continue;
		if ((bit = role_bit(p, n)) == 0)
			return tsr_error(TSR_ERR_INVALID, "unknown role '%.*s' (roles: %s, %s, %s)",
			    (int)(n > 32 ? 32 : n), p, role_names[0], role_names[1], role_names[2]);
		bits |= bit;
	}
	if (bits == 0)
		return tsr_error(TSR_ERR_INVALID, "a user needs at least one role (%s, %s, %s)",
		    role_names[0], role_names[1], role_names[2]);
	out[0] = '\0';
	for (size_t i = 0; i < TSR_ARRAY_LEN(role_names); i++) {
		if ((bits & (1u << i)) == 0)
			continue;
		if (out[0] != '\0')
			strcat(out, ",");
		strcat(out, role_names[i]);
	}
	return 0;
}

/* True if the comma list in u->roles names role. */
bool tsr_ra_user_has_role(const struct tsr_user_record *u, const char *role)
{
	size_t n = role != NULL ? strlen(role) : 0;
	const char *p;

	if (u == NULL || n == 0)
		return false;
	for (p = u->roles; (p = strstr(p, role)) != NULL; p += n)
		if ((p == u->roles || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* ------------------------------------------------------------------ auditing */

/* "user:NAME", or a placeholder for a name that breaks the rule (it may
 * come from anyone who reaches the login form). */
static void object_of(const char *name, char out[OBJECT_MAX])
{
	char saved[512];

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	if (tsr_ra_user_name_check(name) == 0)
		snprintf(out, OBJECT_MAX, "user:%s", name);
	else
		snprintf(out, OBJECT_MAX, "user:(invalid name)");
	tsr_error(0, "%s", saved);
}



/* Inside the caller's transaction: end every session of officer name (a
 * new password, fewer roles, a disabled or locked account must not leave
 * an old bearer token working).  *ended gets how many. */
static int end_sessions(struct tsr_store *st, const char *name, int64_t *ended)
{
	char subject[TSR_SESSION_SUBJECT_MAX + 1];

	snprintf(subject, sizeof(subject), "officer:%s", name);
	return tsr_store_session_delete_subject(st, subject, ended);
}

/* Whether u takes away something a session relies on. */
static bool ends_sessions(const struct tsr_user_update *u)
{
	return u->password_hash != NULL || u->roles != NULL || u->disabled == 1 || u->locked == 1;
}

/* Apply u to user name and record action with detail, in one transaction. */
static int apply(struct tsr_store *st, const char *actor, const char *action,
    const char *name, const struct tsr_user_update *u, const char *detail)
{
	char object[OBJECT_MAX], sessions[48] = "";
	int64_t ended = 0;
	int r;

	object_of(name, object);
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = tsr_store_user_update(st, name, u)) == 0 &&
	    (!ends_sessions(u) || (r = end_sessions(st, name, &ended)) == 0)) {
		if (ended > 0)
			snprintf(sessions, sizeof(sessions), "; %lld session(s) ended",
			    (long long)ended);
		r = tsr_audit_append(st, actor, action, object, TSR_AUDIT_SUCCESS, "%s%s", detail,
		    sessions);
	}
	if (r == 0)
		return tsr_store_commit(st);
	tsr_store_rollback(st);
	return r;
}

/* ------------------------------------------------------------------ account data */

/* Optional free text (display name): at most TSR_USER_TEXT_MAX bytes of
 * UTF-8 without control characters, so it prints safely. */
static int check_text(const char *what, const char *s)
{
	size_t n = s != NULL ? strnlen(s, TSR_USER_TEXT_MAX + 1) : 0, i = 0;
	uint32_t cp;

	if (n > TSR_USER_TEXT_MAX)
		return tsr_error(TSR_ERR_INVALID, "the %s has more than %d bytes", what,
		    TSR_USER_TEXT_MAX);
	while (i < n)
		if (tsr_utf8_next(s, n, &i, &cp) != 0 || tsr_utf8_is_control(cp))
			return tsr_error(TSR_ERR_INVALID, "the %s is not printable UTF-8", what);
	return 0;
}

/* Check pw against SP 800-63B with the account's own words as context,
 * then hash it into out. */
static int new_password(const struct tsr_password_list *list, const char *name,
    const char *display_name, const char *email, const char *pw,
    char out[TSR_SECRET_HASH_BYTES])
{
	char local[TSR_USER_TEXT_MAX + 1];
	const char *context[4];
	size_t n = 0;
	int r;

	snprintf(local, sizeof(local), "%s", email != NULL ? email : "");
	local[strcspn(local, "@")] = '\0';
	context[n++] = name;
	if (display_name != NULL && display_name[0] != '\0')
		context[n++] = display_name;
	if (local[0] != '\0')
		context[n++] = local;
	context[n++] = "tessera";
	if (list == NULL)
		return tsr_error(TSR_ERR_INVALID, "no list of common passwords loaded");
	if ((r = tsr_password_check(list, pw, context, n)) != 0)
		return r;
	return tsr_secret_hash(pw, out);
}

static int check_new_user(const char *name, const char *display_name, const char *email,
    const char *roles, char canonical[TSR_USER_ROLES_MAX + 1])
{
	int r;

	if ((r = tsr_ra_user_name_check(name)) != 0 ||
	    (r = tsr_ra_roles_parse(roles, canonical)) != 0 ||
	    (r = check_text("display name", display_name)) != 0)
		return r;
	if (email != NULL && email[0] != '\0') {
		if (strnlen(email, TSR_USER_TEXT_MAX + 1) > TSR_USER_TEXT_MAX)
			return tsr_error(TSR_ERR_INVALID, "the email address is too long");
		if ((r = tsr_email_check(email)) != 0)
			return r;
	}
	return 0;
}

/* Add an officer (see admin.h). */
int tsr_ra_user_add(struct tsr_store *st, const struct tsr_password_list *list,
    const char *actor, const char *name, const char *display_name, const char *email,
    const char *roles, const char *password)
{
	struct tsr_user_record u;
	char object[OBJECT_MAX], hash[TSR_SECRET_HASH_BYTES];
	int r;

	memset(&u, 0, sizeof(u));
	object_of(name, object);
	if ((r = check_new_user(name, display_name, email, roles, u.roles)) != 0 ||
	    (r = new_password(list, name, display_name, email, password, hash)) != 0)
		goto out;
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.display_name = (char *)(display_name != NULL ? display_name : "");
	u.email = (char *)(email != NULL ? email : "");
	u.password_hash = hash;
	if ((r = tsr_store_begin(st)) != 0)
		goto out;
	if ((r = tsr_store_user_create(st, &u)) == 0)
		r = tsr_audit_append(st, actor, "user.add", object, TSR_AUDIT_SUCCESS,
		    "roles %s", u.roles);
	if (r == 0)
		r = tsr_store_commit(st);
	else
		tsr_store_rollback(st);
out:
	tsr_wipe(hash, sizeof(hash));
	if (r != 0)
		r = tsr_audit_error(st, actor, "user.add", object, r);
	return r;
}

/* Set a new password for name (see admin.h). */
int tsr_ra_user_passwd(struct tsr_store *st, const struct tsr_password_list *list,
    const char *actor, const char *name, const char *password)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;
	struct tsr_user_record u;
	char object[OBJECT_MAX], hash[TSR_SECRET_HASH_BYTES];
	int r;

	object_of(name, object);
	if ((r = tsr_store_user_get(st, name, &u)) == 0 &&
	    (r = new_password(list, u.name, u.display_name, u.email, password, hash)) == 0) {
		upd.password_hash = hash;
		r = apply(st, actor, "user.passwd", name, &upd, "password changed");
	}
	tsr_user_record_clear(&u);
	tsr_wipe(hash, sizeof(hash));
	if (r != 0)
		r = tsr_audit_error(st, actor, "user.passwd", object, r);
	return r;
}

/* Replace the roles of name (see admin.h). */
int tsr_ra_user_set_roles(struct tsr_store *st, const char *actor, const char *name,
    const char *roles)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;
	struct tsr_user_record u;
	char object[OBJECT_MAX], canonical[TSR_USER_ROLES_MAX + 1], detail[160];
	int r;

	object_of(name, object);
	if ((r = tsr_ra_roles_parse(roles, canonical)) == 0 &&
	    (r = tsr_store_user_get(st, name, &u)) == 0) {
		snprintf(detail, sizeof(detail), "roles %s (were %s)", canonical, u.roles);
		upd.roles = canonical;
		r = apply(st, actor, "user.roles", name, &upd, detail);
		tsr_user_record_clear(&u);
	}
	if (r != 0)
		r = tsr_audit_error(st, actor, "user.roles", object, r);
	return r;
}

/* One flag change: disable, enable or unlock. */
static int set_flags(struct tsr_store *st, const char *actor, const char *action,
    const char *name, const struct tsr_user_update *upd, const char *detail)
{
	char object[OBJECT_MAX];
	int r;

	object_of(name, object);
	if ((r = tsr_ra_user_name_check(name)) == 0)
		r = apply(st, actor, action, name, upd, detail);
	if (r != 0)
		r = tsr_audit_error(st, actor, action, object, r);
	return r;
}

/* Switch the account off (see admin.h). */
int tsr_ra_user_disable(struct tsr_store *st, const char *actor, const char *name)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;

	upd.disabled = 1;
	return set_flags(st, actor, "user.disable", name, &upd, "account disabled");
}

/* Switch the account on again (see admin.h). */
int tsr_ra_user_enable(struct tsr_store *st, const char *actor, const char *name)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;

	upd.disabled = 0;
	return set_flags(st, actor, "user.enable", name, &upd, "account enabled");
}

/* Clear the failure count and the lock (see admin.h). */
int tsr_ra_user_unlock(struct tsr_store *st, const char *actor, const char *name)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;

	upd.locked = 0;
	upd.failed_logins = 0;
	return set_flags(st, actor, "user.unlock", name, &upd,
	    "account unlocked, failure count cleared");
}

/* ------------------------------------------------------------------ login */

/* A wrong password: count it on the row as it is now (inside the write
 * lock, so concurrent failures all count) and lock at max. */
static int count_failure(struct tsr_store *st, const char *actor, const char *name,
    const char *object, int max)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;
	struct tsr_user_record u;
	int r;

	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = tsr_store_user_get(st, name, &u)) != 0)
		goto out;
	upd.failed_logins = u.failed_logins < max ? u.failed_logins + 1 : max;
	if (upd.failed_logins >= max)
		upd.locked = 1;
	if ((r = tsr_store_user_update(st, name, &upd)) != 0 ||
	    (r = tsr_audit_append(st, actor, "user.login", object, TSR_AUDIT_FAILURE,
	    "wrong password (failure %d of %d)", upd.failed_logins, max)) != 0)
		goto out;
	if (upd.locked == 1 && !u.locked &&
	    ((r = end_sessions(st, name, NULL)) != 0 ||
	    (r = tsr_audit_append(st, actor, "user.lock", object, TSR_AUDIT_SUCCESS,
	    "locked after %d failed logins", upd.failed_logins)) != 0))
		goto out;
	r = tsr_store_commit(st);
out:
	tsr_user_record_clear(&u);
	if (r != 0)
		tsr_store_rollback(st);
	return r;
}

/* Audit a login attempt whose outcome is already decided. */
static void audit_login(struct tsr_store *st, const char *actor, const char *object,
    const char *outcome, const char *detail)
{
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	if (tsr_audit_append(st, actor, "user.login", object, outcome, "%s", detail) != 0)
		tsr_log(TSR_LOG_WARN, "cannot audit a login of %s: %s", object,
		    tsr_error_detail());
	tsr_error(0, "%s", saved);
}

/* A right password: re-read the row inside the write lock (it may have been
 * locked or disabled meanwhile: then the login is refused like any other
 * on such an account, and *audited set), reset the count, store a fresher
 * hash. */
static int record_success(struct tsr_store *st, const char *actor, const char *name,
    const char *object, const char *new_hash, struct tsr_user_record *out, bool *audited)
{
	struct tsr_user_update upd = TSR_USER_UPDATE_NONE;
	bool refused = false;
	int r;

	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = tsr_store_user_get(st, name, out)) != 0)
		goto out;
	if (out->locked || out->disabled) {
		refused = true;
		r = TSR_ERR_AUTH;
		goto out;
	}
	upd.failed_logins = 0;
	upd.password_hash = new_hash;
	if ((r = tsr_store_user_update(st, name, &upd)) == 0 &&
	    (r = tsr_audit_append(st, actor, "user.login", object, TSR_AUDIT_SUCCESS,
	    "roles %s", out->roles)) == 0)
		r = tsr_store_commit(st);
out:
	if (r != 0)
		tsr_store_rollback(st);
	if (refused) {
		audit_login(st, actor, object, TSR_AUDIT_REFUSED, "the account was locked or "
		    "disabled during the login");
		*audited = true;
		r = tsr_error(TSR_ERR_AUTH, "wrong user name or password");
	}
	return r;
}

/* The Argon2id work of a login: verify pw against hash (the user's, or the
 * dummy one when there is no such user).  *match tells the outcome; any
 * error is a real failure (a corrupted hash, no memory). */
static int verify(const char *hash, const char *pw, bool *match)
{
	int r;

	*match = false;
	r = tsr_secret_verify(hash, pw != NULL ? pw : "");
	if (r == TSR_ERR_SIGNATURE)
		return 0;
	*match = r == 0;
	return r;
}

/* The hash to store after a successful login: a new one when the stored
 * one was made at another cost, else NULL. */
static int maybe_rehash(const struct tsr_user_record *u, const char *pw,
    char out[TSR_SECRET_HASH_BYTES], const char **use)
{
	*use = NULL;
	if (!tsr_secret_needs_rehash(u->password_hash))
		return 0;
	*use = out;
	return tsr_secret_hash(pw, out);
}

/* The login itself; *audited tells whether the outcome is already in the
 * audit log (failures are counted and audited in one transaction). */
static int check_login(struct tsr_store *st, const char *actor, const char *name,
    const char *pw, int max, const char *object, struct tsr_user_record *out, bool *audited)
{
	struct tsr_user_record u;
	char fresh[TSR_SECRET_HASH_BYTES];
	const char *new_hash = NULL, *dummy = NULL;
	bool known = false, match = false;
	int r;

	memset(&u, 0, sizeof(u));
	*audited = false;
	/* The first login of the process makes the dummy hash whatever the
	 * name, so that even that one does not tell names apart. */
	if ((r = ra_dummy_hash(&dummy)) != 0)
		return r;
	if (tsr_ra_user_name_check(name) == 0) {
		r = tsr_store_user_get(st, name, &u);
		if (r != 0 && r != TSR_ERR_NOT_FOUND)
			goto out;
		known = r == 0;
	}
	/* A locked or disabled account is checked against the dummy hash: the
	 * same work and the same answer whatever the password, so a guesser
	 * cannot go on guessing past the lock and learn which guess was
	 * right.  The audit log has the truth. */
	if ((r = verify(known && !u.locked && !u.disabled ? u.password_hash : dummy, pw,
	    &match)) != 0)
		goto out;
	if (!known || u.locked || u.disabled) {
		audit_login(st, actor, object, known ? TSR_AUDIT_REFUSED : TSR_AUDIT_FAILURE,
		    !known ? "unknown user name" : u.disabled ? "the account is disabled" :
		    "the account is locked");
		*audited = true;
		r = tsr_error(TSR_ERR_AUTH, "wrong user name or password");
		goto out;
	}
	if (!match) {
		if ((r = count_failure(st, actor, name, object, max)) == 0) {
			*audited = true;
			r = tsr_error(TSR_ERR_AUTH, "wrong user name or password");
		}
		goto out;
	}
	if ((r = maybe_rehash(&u, pw, fresh, &new_hash)) == 0)
		r = record_success(st, actor, name, object, new_hash, out, audited);
out:
	tsr_user_record_clear(&u);
	tsr_wipe(fresh, sizeof(fresh));
	return r;
}

/* Log in name with password (see admin.h). */
int tsr_ra_user_authenticate(struct tsr_store *st, const char *actor, const char *name,
    const char *password, int max_failures, struct tsr_user_record *out)
{
	struct tsr_user_record u;
	char object[OBJECT_MAX];
	bool audited = false;
	int r;

	memset(&u, 0, sizeof(u));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (max_failures < 1 || max_failures > TSR_USER_MAX_FAILURES_LIMIT)
		return tsr_error(TSR_ERR_INVALID, "the failed-login limit is 1 to %d, not %d",
		    TSR_USER_MAX_FAILURES_LIMIT, max_failures);
	object_of(name, object);
	r = check_login(st, actor, name, password, max_failures, object, &u, &audited);
	if (r != 0 && !audited)
		r = tsr_audit_error(st, actor, "user.login", object, r);
	if (r == 0 && out != NULL)
		*out = u;
	else
		tsr_user_record_clear(&u);
	return r;
}
