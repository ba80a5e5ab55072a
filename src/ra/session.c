/*
 * session.c - bearer sessions of officers and applicants.
 *
 * A token is 256 random bits in base64url (43 characters); the store keeps
 * only its SHA-256, so a copy of the database logs nobody in.  Sessions end
 * after an idle time and an absolute time (SP 800-63B 7.2, AAL2: 30 minutes
 * idle and 12 hours for officers by default).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/ra_impl.h"

#define TOKEN_BYTES 32

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 32 bytes as 43 base64url characters (the last carries 4 bits). */
static void encode(const uint8_t in[TOKEN_BYTES], char out[TSR_SESSION_TOKEN_LEN])
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < TOKEN_BYTES; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

static bool token_shape(const char *token)
{
	size_t n = token != NULL ? strnlen(token, TSR_SESSION_TOKEN_LEN) : 0;

	if (n != TSR_SESSION_TOKEN_LEN - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(b64url, token[i]) == NULL || token[i] == '\0')
			return false;
	return true;
}

static void token_hash(const char *token, char out[65])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256((const uint8_t *)token, strlen(token), md);
	tsr_hex_encode(md, sizeof(md), out);
}

int ra_session_start(struct tsr_store *st, const char *subject, int hours,
    char token[TSR_SESSION_TOKEN_LEN], int64_t *expires_at)
{
	struct tsr_session_record s;
	uint8_t raw[TOKEN_BYTES];
	int r;

	memset(&s, 0, sizeof(s));
	if (tsr_random(raw, sizeof(raw)) != 0)
		return tsr_error(TSR_ERR_CRYPTO, "no random bytes for a session");
	encode(raw, token);
	tsr_wipe(raw, sizeof(raw));
	token_hash(token, s.token_hash);
	snprintf(s.subject, sizeof(s.subject), "%s", subject);
	s.created_at = s.last_seen = (int64_t)tsr_now();
	s.expires_at = s.created_at + (int64_t)hours * 3600;
	if ((r = tsr_store_session_insert(st, &s)) != 0) {
		tsr_wipe(token, TSR_SESSION_TOKEN_LEN);
		return r;
	}
	if (expires_at != NULL)
		*expires_at = s.expires_at;
	return 0;
}

/* Officer login and session (see app.h).  The session starts inside the
 * write lock after the account is read again: a lock or a disable that
 * lands between the password check and here wins. */
int tsr_ra_officer_login(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *name, const char *password, char token[TSR_SESSION_TOKEN_LEN],
    int64_t *expires_at)
{
	struct tsr_user_record u;
	char subject[TSR_SESSION_SUBJECT_MAX + 1];
	int r;

	memset(&u, 0, sizeof(u));
	token[0] = '\0';
	if ((r = tsr_ra_user_authenticate(st, actor, name, password, ra->cfg->ra.max_failures,
	    NULL)) != 0 || (r = tsr_store_begin(st)) != 0)
		return r;
	snprintf(subject, sizeof(subject), "%s%s", TSR_SESSION_PREFIX_OFFICER, name);
	if ((r = tsr_store_user_get(st, name, &u)) == 0) {
		if (u.locked || u.disabled)
			r = tsr_error(TSR_ERR_AUTH, "wrong user name or password");
		else if ((r = ra_session_start(st, subject, ra->cfg->ra.officer_session_hours, token,
		    expires_at)) == 0)
			r = tsr_store_commit(st);
	}
	if (r != 0)
		tsr_store_rollback(st);
	tsr_user_record_clear(&u);
	return r;
}

static int64_t idle_limit(const struct tsr_ra *ra, const char *subject)
{
	bool officer = strncmp(subject, TSR_SESSION_PREFIX_OFFICER,
	    strlen(TSR_SESSION_PREFIX_OFFICER)) == 0;

	return (int64_t)(officer ? ra->cfg->ra.officer_idle_minutes :
	    ra->cfg->ra.applicant_idle_minutes) * 60;
}

/* The live session of token into *s; the last_seen of the store moved to
 * now when touch.  An idle or expired session is deleted. */
static int session_lookup(struct tsr_ra *ra, struct tsr_store *st, const char *token,
    bool touch, struct tsr_session_record *s)
{
	char hash[65];
	int64_t now = (int64_t)tsr_now();
	int r;

	if (!token_shape(token))
		return tsr_error(TSR_ERR_AUTH, "not a session token");
	token_hash(token, hash);
	r = tsr_store_session_get(st, hash, s);
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(TSR_ERR_AUTH, "no such session: log in again");
	if (r != 0)
		return r;
	if (s->expires_at <= now || s->last_seen + idle_limit(ra, s->subject) <= now) {
		if (tsr_store_session_delete(st, hash) != 0)
			tsr_log(TSR_LOG_WARN, "cannot delete an ended session: %s",
			    tsr_error_detail());
		return tsr_error(TSR_ERR_AUTH, "the session has ended: log in again");
	}
	return touch ? tsr_store_session_touch(st, hash, now) : 0;
}

/* Check a token (see app.h). */
int tsr_ra_session_check(struct tsr_ra *ra, struct tsr_store *st, const char *token,
    char *subject, size_t size)
{
	struct tsr_session_record s;
	int r;

	if (size > 0)
		subject[0] = '\0';
	memset(&s, 0, sizeof(s));
	if ((r = session_lookup(ra, st, token, true, &s)) != 0)
		return r;
	if (strlen(s.subject) >= size)
		return tsr_error(TSR_ERR_INTERNAL, "no room for the session's subject");
	snprintf(subject, size, "%s", s.subject);
	return 0;
}

/* Describe a session without moving its idle limit (see app.h). */
int tsr_ra_session_info(struct tsr_ra *ra, struct tsr_store *st, const char *token,
    struct tsr_ra_session_info *out)
{
	struct tsr_session_record s;
	int64_t idle_end;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	if ((r = session_lookup(ra, st, token, false, &s)) != 0)
		return r;
	snprintf(out->subject, sizeof(out->subject), "%s", s.subject);
	out->expires_at = s.expires_at;
	idle_end = s.last_seen + idle_limit(ra, s.subject);
	out->idle_expires_at = idle_end < s.expires_at ? idle_end : s.expires_at;
	return 0;
}

/* Log out (see app.h). */
int tsr_ra_session_end(struct tsr_ra *ra, struct tsr_store *st, const char *token)
{
	char hash[65];
	int r;

	(void)ra;
	if (!token_shape(token))
		return tsr_error(TSR_ERR_AUTH, "not a session token");
	token_hash(token, hash);
	r = tsr_store_session_delete(st, hash);
	return r == TSR_ERR_NOT_FOUND ? tsr_error(TSR_ERR_AUTH, "no such session") : r;
}

int tsr_ra_session_csrf(const struct tsr_ra *ra, const char *token,
    char csrf[TSR_SESSION_TOKEN_LEN])
{
	uint8_t msg[5 + TSR_SESSION_TOKEN_LEN], mac[TOKEN_BYTES];
	unsigned mac_len = 0;
	bool ok;

	csrf[0] = '\0';
	if (!token_shape(token))
		return tsr_error(TSR_ERR_INVALID, "malformed session token");
	memcpy(msg, "csrf:", 5);
	memcpy(msg + 5, token, TSR_SESSION_TOKEN_LEN - 1);
	ok = HMAC(EVP_sha256(), ra->code_key, sizeof(ra->code_key), msg,
	    5 + TSR_SESSION_TOKEN_LEN - 1, mac, &mac_len) != NULL && mac_len == sizeof(mac);
	if (ok)
		encode(mac, csrf);
	tsr_wipe(msg, sizeof(msg));
	tsr_wipe(mac, sizeof(mac));
	return ok ? 0 : tsr_error_openssl(TSR_ERR_CRYPTO, "HMAC-SHA-256");
}
