/*
 * audit.c - the hash-chained audit log: appending records and checking the
 * chain.  Rows are kept by the store; this file decides what goes in them.
 *
 * The chain hash (format "tessera-audit-v1").  Anyone re-implementing the
 * check must hash exactly these bytes with SHA-256, in this order:
 *
 *   "tessera-audit-v1"        16 ASCII bytes, no length, no NUL
 *   seq                       8 bytes, big-endian
 *   time                      8 bytes, big-endian two's complement (Unix seconds)
 *   actor, action, object,    each: length as 4 bytes big-endian, then that
 *   outcome, detail           many bytes (UTF-8, no NUL terminator)
 *   prev_hash                 64 bytes: the previous record's hash as lower-case
 *                             hex ASCII, or 64 '0' characters for record 1
 *
 * The record's hash is the digest as 64 lower-case hex characters.  Length
 * prefixes keep field boundaries unambiguous ("ab"+"c" never hashes like
 * "a"+"bc"); the tag keeps these hashes from being confused with any other
 * SHA-256 use.
 *
 * The chain shows that records were changed, removed or reordered; it
 * cannot show that the newest records were cut off, because the remaining
 * prefix is still a valid chain.  Operators who need that compare the head
 * hash that verification reports with a copy kept elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit/audit.h"

#define HASH_TAG "tessera-audit-v1"
#define DETAIL_MAX 1024  /* bytes of detail kept; longer details end in "..." */
#define FIELD_MAX 1024   /* actor, action, object and outcome are refused above this */

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static bool is_hash(const char *s)
{
	for (size_t i = 0; i < 64; i++)
		if (s[i] == '\0' || strchr("0123456789abcdef", s[i]) == NULL)
			return false;
	return s[64] == '\0';
}

static void be64(uint64_t v, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static int hash_field(EVP_MD_CTX *md, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	uint8_t len[4] = {
		(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n,
	};

	if (n > UINT32_MAX)
		return 0;
	return EVP_DigestUpdate(md, len, sizeof(len)) &&
	    EVP_DigestUpdate(md, s != NULL ? s : "", n);
}

/* Compute the chain hash of r (see the top of this file) into out.  NULL
 * strings hash as empty; prev_hash must be 64 lower-case hex digits. */
int tsr_audit_hash(const struct tsr_audit_record *r, char out[65])
{
	const char *fields[] = { r->actor, r->action, r->object, r->outcome, r->detail };
	uint8_t seq[8], when[8], digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	EVP_MD_CTX *md;
	int ok, rc = 0;

	out[0] = '\0';
	if (!is_hash(r->prev_hash))
		return tsr_error(TSR_ERR_INVALID,
		    "audit record %lld: the previous-hash is not 64 lower-case hex digits",
		    (long long)r->seq);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return tsr_error_openssl(TSR_ERR_NOMEM, "out of memory");
	be64((uint64_t)r->seq, seq);
	be64((uint64_t)r->time, when);
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, HASH_TAG, strlen(HASH_TAG)) &&
	    EVP_DigestUpdate(md, seq, sizeof(seq)) && EVP_DigestUpdate(md, when, sizeof(when));
	for (size_t i = 0; ok && i < TSR_ARRAY_LEN(fields); i++)
		ok = hash_field(md, fields[i]);
	ok = ok && EVP_DigestUpdate(md, r->prev_hash, 64) &&
	    EVP_DigestFinal_ex(md, digest, &digest_len) && digest_len == 32;
	if (ok)
		tsr_hex_encode(digest, 32, out);
	else
		rc = tsr_error_openssl(TSR_ERR_CRYPTO, "hashing audit record %lld",
		    (long long)r->seq);
	EVP_MD_CTX_free(md);
	return rc;
}

/* ------------------------------------------------------------------ append */

/* A record is one line of text: control characters become spaces. */
static void flatten(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max)
{
	size_t i = max;

	if (strlen(s) <= max)
		return;
	/* If the cut falls inside a character (s[max] continues it), step back
	 * to that character's first byte and drop the character whole. */
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	s[i] = '\0';
}

/* printf the detail into a new string of at most DETAIL_MAX bytes. */
static int format_detail(char **out, const char *fmt, va_list ap)
{
	char buf[DETAIL_MAX + 1];
	int n;

	if (fmt == NULL)
		fmt = "";
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return tsr_error(TSR_ERR_INVALID, "audit detail: bad format");
	if ((size_t)n > DETAIL_MAX) {
		cut_utf8(buf, DETAIL_MAX - 3);
		strcat(buf, "...");
	}
	flatten(buf);
	if ((*out = strdup(buf)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Copy a caller's field for the record, flattened to one line. */
static int copy_field(const char *name, const char *in, bool may_be_empty, char **out)
{
	if (in == NULL)
		in = "";
	if (!may_be_empty && *in == '\0')
		return tsr_error(TSR_ERR_INVALID, "audit record without %s", name);
	if (strlen(in) > FIELD_MAX)
		return tsr_error(TSR_ERR_INVALID, "audit %s longer than %d bytes", name, FIELD_MAX);
	if ((*out = strdup(in)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	flatten(*out);
	return 0;
}

static int fill_fields(struct tsr_audit_record *rec, const char *actor, const char *action,
    const char *object, const char *outcome)
{
	int r;

	if (outcome == NULL || (strcmp(outcome, TSR_AUDIT_SUCCESS) != 0 &&
	    strcmp(outcome, TSR_AUDIT_FAILURE) != 0 && strcmp(outcome, TSR_AUDIT_REFUSED) != 0))
		return tsr_error(TSR_ERR_INVALID,
		    "audit outcome must be success, failure or refused");
	if ((r = copy_field("actor", actor, false, &rec->actor)) != 0 ||
	    (r = copy_field("action", action, false, &rec->action)) != 0 ||
	    (r = copy_field("object", object, true, &rec->object)) != 0 ||
	    (r = copy_field("outcome", outcome, false, &rec->outcome)) != 0)
		return r;
	return 0;
}

/* Chain rec after the last record and insert it (a transaction is open). */
static int chain_and_insert(struct tsr_store *st, struct tsr_audit_record *rec)
{
	struct tsr_audit_record last;
	int r;

	r = tsr_store_audit_last(st, &last);
	if (r == TSR_ERR_NOT_FOUND) {
		rec->seq = 1;
		memcpy(rec->prev_hash, zero_hash, sizeof(zero_hash));
		r = 0;
	} else if (r == 0 && !is_hash(last.hash)) {
		r = tsr_error(TSR_ERR_AUDIT,
		    "audit record %lld has a malformed hash; the log needs verifying",
		    (long long)last.seq);
	} else if (r == 0) {
		rec->seq = last.seq + 1;
		memcpy(rec->prev_hash, last.hash, sizeof(last.hash));
	}
	tsr_audit_record_clear(&last);
	if (r != 0 || (r = tsr_audit_hash(rec, rec->hash)) != 0)
		return r;
	return tsr_store_audit_insert(st, rec);
}

/* Append one record, in the caller's transaction or in one of its own. */
int tsr_audit_append(struct tsr_store *st, const char *actor, const char *action,
    const char *object, const char *outcome, const char *fmt, ...)
{
	struct tsr_audit_record rec = { 0 };
	bool own_tx = false;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = format_detail(&rec.detail, fmt, ap);
	va_end(ap);
	if (r != 0 || (r = fill_fields(&rec, actor, action, object, outcome)) != 0)
		goto out;
	rec.time = (int64_t)tsr_now();
	if (!tsr_store_in_transaction(st)) {
		if ((r = tsr_store_begin(st)) != 0)
			goto out;
		own_tx = true;
	}
	if ((r = chain_and_insert(st, &rec)) != 0)
		goto out;
	if (own_tx) {
		own_tx = false;   /* a failed commit has already rolled back */
		r = tsr_store_commit(st);
	}
out:
	if (own_tx)
		tsr_store_rollback(st);
	tsr_audit_record_clear(&rec);
	return r;
}

/* ------------------------------------------------------------------ verify */

struct verify_ctx {
	struct tsr_audit_report *rep;
	int64_t expected;          /* the seq the next record must have */
	char prev[65];             /* the hash the next record must chain to */
};

static void report(struct verify_ctx *c, int64_t seq, const char *fmt, ...) TSR_PRINTF(3, 4);

static void report(struct verify_ctx *c, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	c->rep->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(c->rep->reason, sizeof(c->rep->reason), fmt, ap);
	va_end(ap);
}

/* A record's seq is not the expected one.  Rows come in seq order, so a
 * larger seq means rows were removed; the first missing one is reported. */
static void report_gap(struct verify_ctx *c, int64_t seq)
{
	long long want = (long long)c->expected, got = (long long)seq;

	if (seq < c->expected)
		report(c, c->expected, "record %lld is out of place: a record numbered %lld comes "
		    "before it", want, got);
	else if (c->expected == 1 && seq == 2)
		report(c, 1, "record 1 is missing: the log starts at record 2");
	else if (c->expected == 1)
		report(c, 1, "records 1 to %lld are missing: the log starts at record %lld",
		    got - 1, got);
	else if (seq == c->expected + 1)
		report(c, c->expected, "record %lld is missing: record %lld follows record %lld",
		    want, got, want - 1);
	else
		report(c, c->expected, "records %lld to %lld are missing: record %lld follows "
		    "record %lld", want, got - 1, got, want - 1);
}

static int verify_one(const struct tsr_audit_record *rec, void *ctx)
{
	struct verify_ctx *c = ctx;
	char computed[65];
	int r;

	c->rep->records++;
	snprintf(c->rep->head_hash, sizeof(c->rep->head_hash), "%s", rec->hash);
	if (c->rep->first_bad_seq != 0)
		return 0;   /* already broken: only count the rest */
	if (rec->seq != c->expected) {
		report_gap(c, rec->seq);
	} else if (strcmp(rec->prev_hash, c->prev) != 0) {
		if (rec->seq == 1)
			report(c, 1, "record 1 does not start the log: its previous-hash is not "
			    "all zeros (records removed or replaced)");
		else
			report(c, rec->seq, "record %lld does not follow record %lld: its "
			    "previous-hash does not match (records reordered or replaced)",
			    (long long)rec->seq, (long long)rec->seq - 1);
	} else {
		if ((r = tsr_audit_hash(rec, computed)) != 0)
			return r;
		if (strcmp(computed, rec->hash) != 0)
			report(c, rec->seq, "record %lld was altered: its hash does not match "
			    "its contents", (long long)rec->seq);
	}
	c->expected = rec->seq + 1;
	memcpy(c->prev, rec->hash, sizeof(c->prev));
	return 0;
}

/*
 * Walk the whole chain.  The report counts every record and gives the last
 * record's hash even when the chain is broken; first_bad_seq names the first
 * record that is wrong.  A removed record is named by its own number (the
 * first missing one), not by the record that now follows the gap.
 */
int tsr_audit_verify(struct tsr_store *st, struct tsr_audit_report *out)
{
	struct verify_ctx c = { .rep = out, .expected = 1 };
	int r;

	memset(out, 0, sizeof(*out));
	memcpy(c.prev, zero_hash, sizeof(zero_hash));
	if ((r = tsr_store_audit_iter(st, verify_one, &c)) != 0)
		return r;
	if (out->first_bad_seq != 0)
		return tsr_error(TSR_ERR_AUDIT, "%s", out->reason);
	return 0;
}

int tsr_audit_error(struct tsr_store *st, const char *actor, const char *action,
    const char *object, int r)
{
	char saved[1024];
	int status = tsr_error_http_status(r);

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	if (tsr_audit_append(st, actor, action, object,
	    status >= 400 && status < 500 ? TSR_AUDIT_REFUSED : TSR_AUDIT_FAILURE, "%s",
	    saved[0] != '\0' ? saved : tsr_strerror(r)) != 0)
		tsr_log(TSR_LOG_WARN, "cannot audit %s of %s: %s", action, object,
		    tsr_error_detail());
	return tsr_error(r, "%s", saved);
}
