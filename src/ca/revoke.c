/*
 * revoke.c - `tessera cert revoke|suspend|resume`: the status of a
 * subscriber certificate.
 *
 *   valid     -> revoked    (revoke, any reason but certificateHold)
 *   valid     -> suspended  (suspend: certificateHold)
 *   suspended -> revoked    (a held certificate revoked for good)
 *   suspended -> valid      (resume)
 *   revoked   -> nothing, ever.
 *
 * The revocation time is recorded once: a held certificate revoked for good
 * keeps the time of its hold, since it has been out of service since then.
 * Each change is one compare-and-set in the store with its audit record in
 * the same transaction; every refusal is audited too.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

enum change { CHANGE_REVOKE, CHANGE_SUSPEND, CHANGE_RESUME };

static const char *const actions[] = { "cert.revoke", "cert.suspend", "cert.resume" };

/* What a change asks for, checked before the store is touched. */
static int check_reason(enum change c, const char *reason)
{
	if (c != CHANGE_REVOKE)
		return 0;
	if (reason == NULL || reason[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "a revocation reason is required (keyCompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, ...)");
	if (strcmp(reason, "certificateHold") == 0)
		return tsr_error(TSR_ERR_INVALID, "certificateHold is a suspension: use "
		    "tessera cert suspend");
	if (strcmp(reason, "removeFromCRL") == 0)
		return tsr_error(TSR_ERR_INVALID, "removeFromCRL is not a reason to revoke; lift a "
		    "suspension with tessera cert resume");
	if (!tsr_revocation_reason_known(reason))
		return tsr_error(TSR_ERR_INVALID, "unknown revocation reason '%.40s' (RFC 5280: "
		    "unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
		    "cessationOfOperation, privilegeWithdrawn, aACompromise)", reason);
	return 0;
}

/* May certificate rec go through change c (with invalidity date inv)? */
static int check_transition(enum change c, const struct tsr_cert_record *rec, int64_t inv,
    int64_t now)
{
	const char *s = rec->status;

	if (strcmp(rec->role, "subscriber") != 0)
		return tsr_error(TSR_ERR_POLICY, "certificate %s is the CA's own %s certificate; "
		    "only subscriber certificates can be revoked or suspended", rec->serial,
		    rec->role);
	if (strcmp(s, "revoked") == 0)
		return tsr_error(TSR_ERR_POLICY, "certificate %s is revoked (%s): a revoked "
		    "certificate cannot be un-revoked or changed", rec->serial,
		    rec->revocation_reason);
	if (c == CHANGE_SUSPEND && strcmp(s, "valid") != 0)
		return tsr_error(TSR_ERR_POLICY, "certificate %s is already suspended", rec->serial);
	if (c == CHANGE_RESUME && strcmp(s, "suspended") != 0)
		return tsr_error(TSR_ERR_POLICY, "certificate %s is not suspended (it is %s)",
		    rec->serial, s);
	if (inv > now)
		return tsr_error(TSR_ERR_INVALID, "the invalidity date is in the future");
	if (inv != 0 && inv < rec->not_before)
		return tsr_error(TSR_ERR_INVALID, "the invalidity date is before the certificate "
		    "was valid");
	return 0;
}

/* Inside the open transaction: read, check, change, audit. */
static int change_in(struct tsr_store *st, const char *actor, enum change c,
    const char *serial, const char *reason, int64_t inv, char *object, size_t object_size)
{
	struct tsr_cert_record rec;
	int64_t now = (int64_t)tsr_now(), at = now;
	const char *to = c == CHANGE_REVOKE ? "revoked" : c == CHANGE_SUSPEND ? "suspended" :
	    "valid";
	char was[16], at_text[21], inv_text[21];
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = tsr_store_cert_get(st, serial, &rec)) != 0)
		goto out;
	snprintf(object, object_size, "%s", rec.serial);
	if ((r = check_transition(c, &rec, inv, now)) != 0)
		goto out;
	if (c == CHANGE_SUSPEND)
		reason = "certificateHold";
	if (strcmp(rec.status, "suspended") == 0 && c == CHANGE_REVOKE)
		at = rec.revoked_at;   /* out of service since the hold */
	snprintf(was, sizeof(was), "%s", rec.status);
	if ((r = tsr_store_cert_set_status(st, rec.serial, was, to, at, reason, inv)) != 0)
		goto out;
	if (c == CHANGE_RESUME) {
		r = tsr_audit_append(st, actor, actions[c], object, TSR_AUDIT_SUCCESS,
		    "suspended -> valid (hold lifted)");
	} else {
		tsr_time_format((time_t)at, at_text);
		tsr_time_format((time_t)inv, inv_text);
		r = tsr_audit_append(st, actor, actions[c], object, TSR_AUDIT_SUCCESS,
		    "%s -> %s, reason %s, revoked at %s%s%s", was, to, reason, at_text,
		    inv != 0 ? ", invalidity date " : "", inv != 0 ? inv_text : "");
	}
out:
	tsr_cert_record_clear(&rec);
	return r;
}

/* One status change, audited whether it happens or is refused. */
static int change(struct tsr_ca *ca, struct tsr_store *st, const char *actor, enum change c,
    const char *serial, const char *reason, int64_t inv)
{
	char object[TSR_SERIAL_HEX_MAX + 8];
	int r;

	if (st == NULL)
		st = ca->store;
	snprintf(object, sizeof(object), "%.*s", TSR_SERIAL_HEX_MAX,
	    serial != NULL ? serial : "");
	if ((r = check_reason(c, reason)) != 0)
		return tsr_audit_error(st, actor, actions[c], object, r);
	if ((r = tsr_store_begin(st)) != 0)
		return tsr_audit_error(st, actor, actions[c], object, r);
	if ((r = change_in(st, actor, c, serial, reason, inv, object, sizeof(object))) == 0 &&
	    (r = tsr_store_commit(st)) == 0)
		return 0;
	tsr_store_rollback(st);
	return tsr_audit_error(st, actor, actions[c], object, r);
}

/* Revoke the subscriber certificate serial for good. */
int tsr_ca_revoke(struct tsr_ca *ca, struct tsr_store *st, const char *actor, const char *serial,
    const char *reason, int64_t invalidity_date)
{
	return change(ca, st, actor, CHANGE_REVOKE, serial, reason, invalidity_date);
}

/* Put the subscriber certificate serial on hold (certificateHold). */
int tsr_ca_suspend(struct tsr_ca *ca, struct tsr_store *st, const char *actor,
    const char *serial)
{
	return change(ca, st, actor, CHANGE_SUSPEND, serial, NULL, 0);
}

/* Lift the hold on the subscriber certificate serial. */
int tsr_ca_resume(struct tsr_ca *ca, struct tsr_store *st, const char *actor,
    const char *serial)
{
	return change(ca, st, actor, CHANGE_RESUME, serial, NULL, 0);
}
