/*
 * audit.h - the append-only, hash-chained audit log.
 *
 * Each record's hash is SHA-256 over a length-prefixed encoding of its seq,
 * time, actor, action, object, outcome, detail and the previous record's
 * hash (64 zeros for the first).  Changing, removing or reordering any
 * record breaks the chain at that record, and tsr_audit_verify() names it.
 */
#ifndef TSR_AUDIT_H
#define TSR_AUDIT_H

#include "base/base.h"
#include "store/store.h"

/* Outcomes used by every caller, so the log is searchable. */
#define TSR_AUDIT_SUCCESS "success"
#define TSR_AUDIT_FAILURE "failure"
#define TSR_AUDIT_REFUSED "refused"

/* Append one record.  Joins the caller's open transaction if there is one
 * (so the record commits or rolls back with the work it describes);
 * otherwise runs in a transaction of its own.  detail is printf-style and
 * must never contain a secret. */
int tsr_audit_append(struct tsr_store *st, const char *actor, const char *action,
    const char *object, const char *outcome, const char *fmt, ...)
    TSR_PRINTF(6, 7) TSR_MUST_CHECK;

/* Record that action on object failed with error r, outside any
 * transaction of the caller's (call it after rolling back).  The outcome
 * follows the error table: a client's error (4xx) is "refused", anything
 * else "failure"; the detail is the thread's error detail, which names
 * rules, never secrets.  Returns r with that detail untouched, so callers
 * can write `return tsr_audit_error(...)`. */
int tsr_audit_error(struct tsr_store *st, const char *actor, const char *action,
    const char *object, int r);

/* Compute the chain hash of r (its hash field is ignored) into out. */
int tsr_audit_hash(const struct tsr_audit_record *r, char out[65]) TSR_MUST_CHECK;

struct tsr_audit_report {
	int64_t records;          /* records checked */
	int64_t first_bad_seq;    /* 0 if the chain is intact */
	char reason[256];         /* what is wrong with that record */
	char head_hash[65];       /* hash of the last record ("" if none) */
};

/* Walk the whole chain.  0 if intact; TSR_ERR_AUDIT with the report naming
 * the first record that was altered, removed or reordered. */
int tsr_audit_verify(struct tsr_store *st, struct tsr_audit_report *out) TSR_MUST_CHECK;

#endif /* TSR_AUDIT_H */
