/*
 * ocsp.c - the OCSP responder of the issuing CA (ca.h): status decisions,
 * the cache of signed answers, following status changes, export and the
 * rotation of the delegated OCSP-signing certificate.
 *
 * The cache maps a CertID, exactly as clients send it, to the signed
 * answer for it.  Entries of one serial share a bucket (the bucket is
 * chosen by the serial alone), so that a status change finds them without
 * a scan.  A reader copies an entry's bytes under the read lock; signing
 * happens outside every lock but its PKCS#11 session's (ca_impl.h: OCSP
 * signatures have sessions of their own, apart from issuance), and the new
 * bytes are put in under the write lock.  An entry older than half its validity
 * is never served: the request signs afresh, so that guarantee does not
 * depend on the background refresh, which only keeps the cache warm.
 *
 * Two rules keep a stale "good" out of the cache:
 *  - a generation counter: tsr_ocsp_sync() bumps it, under the write lock,
 *    after reading new status changes and while it takes the changed
 *    certificates' entries out; an answer decided before the bump is not
 *    kept.  (A request that reads the counter after the bump decides
 *    after the changes were committed, so it sees them.)
 *  - the OCSP certificate: answers are kept only if signed by the one the
 *    store names (meta ocsp_serial) as the cache's; a rotation, by this
 *    process or another, empties the cache.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"
#include "pkcs11/p11.h"

/* Bytes of kept answers at most (an entry costs its answer and about 400
 * bytes more); past this, answers for new CertIDs are signed per request. */
#define CACHE_BYTES ((size_t)256 << 20)
#define BUCKETS_MIN 1024u
/* Signatures a request may wait for at once, by kind; more are answered
 * tryLater, so that a flood cannot queue up for the token (which serves
 * CA_OCSP_LANES OCSP signatures at a time).  Cached answers cost none. */
#define LIVE_MAX 16       /* with a nonce, or about several certificates */
#define MISS_MAX 16       /* a certificate of ours not in the cache yet */
#define UNKNOWN_MAX 4     /* a serial the CA did not issue: never kept */
/* Kept answers signed again per sync pass as they age (status changes
 * come first and are not counted). */
#define REFRESH_MAX 256
#define HOUR 3600
#define DAY 86400
/* sign_one(): the budget is spent, answer tryLater. */
#define BUSY 1

struct entry {
	struct entry *next;
	char serial[TSR_SERIAL_HEX_MAX + 1];
	uint8_t certid[sizeof(((struct tsr_ocsp_certid *)0)->der)];
	size_t certid_len;
	uint8_t *der;                 /* the signed OCSPResponse */
	size_t len;
	int64_t this_update, next_update, produced_at;
	char etag[48];
};

struct tsr_ocsp_responder {
	struct tsr_ca *ca;
	struct tsr_ocsp_issuer issuing;
	int64_t validity;             /* seconds: [ca] ocsp_response_hours */
	pthread_rwlock_t lock;        /* the table and the fields up to seq */
	struct entry **buckets;
	size_t n_buckets;             /* a power of two */
	size_t count, bytes;
	uint64_t gen;                 /* see the top of the file */
	char ocsp_serial[TSR_SERIAL_HEX_MAX + 1];   /* the cache's OCSP certificate */
	int64_t seq;                  /* the last status change followed (sync only) */
	pthread_mutex_t budget_lock;
	unsigned live, miss, unknown; /* signatures waiting or under way, by kind */
};

/* ------------------------------------------------------------------ the table */

static uint64_t hash_serial(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static struct entry **bucket_of(struct tsr_ocsp_responder *r, const char *serial)
{
	return &r->buckets[hash_serial(serial) & (r->n_buckets - 1)];
}

/* The link that points at id's entry (or at NULL: the end of its chain). */
static struct entry **link_of(struct tsr_ocsp_responder *r, const struct tsr_ocsp_certid *id)
{
	struct entry **l = bucket_of(r, id->serial);

	for (; *l != NULL; l = &(*l)->next)
		if ((*l)->certid_len == id->der_len &&
		    memcmp((*l)->certid, id->der, id->der_len) == 0)
			break;
	return l;
}

static size_t entry_cost(const struct entry *e)
{
	return sizeof(*e) + e->len;
}

static void entry_free(struct entry *e)
{
	if (e != NULL) {
		free(e->der);
		free(e);
	}
}

/* Unlink and free the entry at l (write lock held). */
static void drop(struct tsr_ocsp_responder *r, struct entry **l)
{
	struct entry *e = *l;

	*l = e->next;
	r->count--;
	r->bytes -= entry_cost(e);
	entry_free(e);
}

/* Double the buckets when the table is full (write lock held); a failure
 * only leaves the chains longer. */
static void grow(struct tsr_ocsp_responder *r)
{
	size_t n = r->n_buckets * 2;
	struct entry **b;

	if (r->count < r->n_buckets || (b = calloc(n, sizeof(*b))) == NULL)
		return;
	for (size_t i = 0; i < r->n_buckets; i++) {
		struct entry *e = r->buckets[i], *next;

		for (; e != NULL; e = next) {
			struct entry **to = &b[hash_serial(e->serial) & (n - 1)];

			next = e->next;
			e->next = *to;
			*to = e;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->n_buckets = n;
}

static void clear_table(struct tsr_ocsp_responder *r)
{
	for (size_t i = 0; i < r->n_buckets; i++)
		while (r->buckets[i] != NULL)
			drop(r, &r->buckets[i]);
}

/* ------------------------------------------------------------------ answers */

/* Unix time of t, or 0 if it cannot be read. */
static int64_t unix_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The serial of x as the store writes it (see ca_impl.h). */
void ca_serial_hex(const X509 *x, char out[TSR_SERIAL_HEX_MAX + 1])
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	int n = ASN1_STRING_length(sn);

	out[0] = '\0';
	if (n > 0 && n <= TSR_SERIAL_HEX_MAX / 2)
		tsr_hex_encode(ASN1_STRING_get0_data(sn), (size_t)n, out);
}

static void set_etag(const uint8_t *der, size_t len, char etag[48])
{
	uint8_t md[32];
	char hex[41];

	SHA256(der, len, md);
	tsr_hex_encode(md, 20, hex);
	snprintf(etag, 48, "\"%s\"", hex);
}

void tsr_ocsp_answer_clear(struct tsr_ocsp_answer *a)
{
	if (a != NULL) {
		free(a->der);
		memset(a, 0, sizeof(*a));
	}
}

/* An unsigned error answer. */
static int answer_error(enum tsr_ocsp_error e, struct tsr_ocsp_answer *out)
{
	size_t len;
	const uint8_t *der = tsr_ocsp_response_error(e, &len);

	memset(out, 0, sizeof(*out));
	if ((out->der = malloc(len)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	memcpy(out->der, der, len);
	out->len = len;
	return 0;
}

/* What the store says about id (issued by the issuing CA: its hashes were
 * matched).  A serial the issuing CA did not issue is unknown, never good;
 * store trouble is an error (the caller answers tryLater). */
static int decide(struct tsr_store *st, const struct tsr_ocsp_certid *id,
    struct tsr_ocsp_single *s, char reason[24])
{
	struct tsr_cert_record rec;
	int r;

	s->id = id;
	s->status = TSR_OCSP_UNKNOWN;
	s->reason = NULL;
	s->revoked_at = 0;
	if (id->serial[0] == '\0')
		return 0;
	memset(&rec, 0, sizeof(rec));
	r = tsr_store_cert_get(st, id->serial, &rec);
	if (r == TSR_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if (strcmp(rec.issuer, "issuing") != 0) {
		s->status = TSR_OCSP_UNKNOWN;
	} else if (strcmp(rec.status, "valid") == 0) {
		s->status = TSR_OCSP_GOOD;
	} else {
		s->status = TSR_OCSP_REVOKED;
		s->revoked_at = (time_t)rec.revoked_at;
		snprintf(reason, 24, "%s", rec.revocation_reason);
		s->reason = reason;
	}
	tsr_cert_record_clear(&rec);
	return 0;
}

/* Sign the n singles (times set here) in the token, on an OCSP lane of
 * its own (ca_impl.h); out->der is malloc()ed.  signer_serial (may be
 * NULL) gets the serial of the OCSP certificate used. */
static int sign(struct tsr_ocsp_responder *r, struct tsr_ocsp_single *s, size_t n,
    const uint8_t *nonce, size_t nonce_len, struct tsr_ocsp_answer *out,
    char signer_serial[TSR_SERIAL_HEX_MAX + 1])
{
	struct ca_lane *lane;
	uint8_t *der = NULL;
	size_t len = 0;
	int64_t now = (int64_t)tsr_now(), next = now + r->validity, limit;
	int rc;

	if ((rc = ca_ocsp_lane_get(r->ca, &lane)) != 0)
		return rc;
	/* No answer outlives the certificate that signs it. */
	limit = unix_time(X509_get0_notAfter(lane->cert));
	if (limit > 0 && next > limit)
		next = limit;
	for (size_t i = 0; i < n; i++) {
		s[i].this_update = (time_t)now;
		s[i].next_update = (time_t)next;
	}
	rc = tsr_ocsp_response_sign(lane->signer, lane->cert, s, n, nonce, nonce_len, (time_t)now,
	    &der, &len);
	if (rc == 0 && signer_serial != NULL)
		ca_serial_hex(lane->cert, signer_serial);
	ca_ocsp_lane_put(lane);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->der = malloc(len);
	if (out->der == NULL) {
		OPENSSL_free(der);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	memcpy(out->der, der, len);
	OPENSSL_free(der);
	out->len = len;
	out->this_update = now;
	out->next_update = next;
	out->produced_at = now;
	return 0;
}

/* Keep a copy of a's bytes as the answer for id, unless the status may
 * have changed since it was decided (gen) or it was signed by another
 * OCSP certificate than the cache's: then the old entry goes too.  Losing
 * an answer costs a signature later, never correctness. */
static void keep(struct tsr_ocsp_responder *r, const struct tsr_ocsp_certid *id,
    const struct tsr_ocsp_answer *a, const char *signer_serial, uint64_t gen)
{
	struct entry *fresh = calloc(1, sizeof(*fresh)), **l, *e;
	uint8_t *der = malloc(a->len);
	bool ok = fresh != NULL && der != NULL;

	if (ok)
		memcpy(der, a->der, a->len);
	pthread_rwlock_wrlock(&r->lock);
	l = link_of(r, id);
	if (!ok || gen != r->gen || strcmp(signer_serial, r->ocsp_serial) != 0) {
		if (*l != NULL)
			drop(r, l);
	} else if ((e = *l) != NULL) {
		r->bytes -= entry_cost(e);
		free(e->der);
		e->der = der;
		e->len = a->len;
		der = NULL;
	} else if (r->bytes + sizeof(*fresh) + a->len <= CACHE_BYTES) {
		e = fresh;
		fresh = NULL;
		snprintf(e->serial, sizeof(e->serial), "%s", id->serial);
		memcpy(e->certid, id->der, id->der_len);
		e->certid_len = id->der_len;
		e->der = der;
		e->len = a->len;
		der = NULL;
		e->next = *l;
		*l = e;
		r->count++;
		grow(r);
	}
	if (ok && der == NULL) {
		e = *link_of(r, id);
		e->this_update = a->this_update;
		e->next_update = a->next_update;
		e->produced_at = a->produced_at;
		memcpy(e->etag, a->etag, sizeof(e->etag));
		r->bytes += entry_cost(e);
	}
	pthread_rwlock_unlock(&r->lock);
	free(fresh);
	free(der);
}

/* The kept answer for id if it is younger than half its validity. */
static bool cached(struct tsr_ocsp_responder *r, const struct tsr_ocsp_certid *id,
    struct tsr_ocsp_answer *out, int *rc)
{
	int64_t now = (int64_t)tsr_now();
	struct entry *e;
	bool hit = false;

	*rc = 0;
	pthread_rwlock_rdlock(&r->lock);
	e = *link_of(r, id);
	if (e != NULL && now >= e->this_update &&
	    now < e->this_update + (e->next_update - e->this_update) / 2) {
		hit = true;
		memset(out, 0, sizeof(*out));
		if ((out->der = malloc(e->len)) == NULL) {
			*rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
		} else {
			memcpy(out->der, e->der, e->len);
			out->len = e->len;
			out->cacheable = true;
			out->this_update = e->this_update;
			out->next_update = e->next_update;
			out->produced_at = e->produced_at;
			memcpy(out->etag, e->etag, sizeof(out->etag));
		}
	}
	pthread_rwlock_unlock(&r->lock);
	return hit;
}

static uint64_t generation(struct tsr_ocsp_responder *r)
{
	uint64_t g;

	pthread_rwlock_rdlock(&r->lock);
	g = r->gen;
	pthread_rwlock_unlock(&r->lock);
	return g;
}

/* Take one unit of *used if fewer than max are taken. */
static bool admit(struct tsr_ocsp_responder *r, unsigned *used, unsigned max)
{
	bool ok;

	pthread_mutex_lock(&r->budget_lock);
	if ((ok = *used < max))
		(*used)++;
	pthread_mutex_unlock(&r->budget_lock);
	return ok;
}

static void release(struct tsr_ocsp_responder *r, unsigned *used)
{
	pthread_mutex_lock(&r->budget_lock);
	(*used)--;
	pthread_mutex_unlock(&r->budget_lock);
}

/* Sign a fresh answer about one certificate, without a nonce, and (with
 * keep_it) keep it.  With budget, the signature waits only if the budget
 * of its kind allows (else BUSY); the background work has none. */
static int sign_one(struct tsr_ocsp_responder *r, struct tsr_store *st,
    const struct tsr_ocsp_certid *id, bool keep_it, bool budget, struct tsr_ocsp_answer *out)
{
	struct tsr_ocsp_single s;
	char reason[24], used[TSR_SERIAL_HEX_MAX + 1] = "";
	uint64_t gen = generation(r);
	unsigned *kind;
	int rc;

	if ((rc = decide(st, id, &s, reason)) != 0)
		return rc;
	kind = s.status == TSR_OCSP_UNKNOWN ? &r->unknown : &r->miss;
	if (budget && !admit(r, kind, kind == &r->unknown ? UNKNOWN_MAX : MISS_MAX))
		return BUSY;
	rc = sign(r, &s, 1, NULL, 0, out, used);
	if (budget)
		release(r, kind);
	if (rc != 0)
		return rc;
	out->cacheable = true;
	set_etag(out->der, out->len, out->etag);
	/* Unknown serials are not kept: anyone can ask about any number. */
	if (keep_it && s.status != TSR_OCSP_UNKNOWN)
		keep(r, id, out, used, gen);
	return 0;
}

/* Sign live: a nonce to echo, or several certificates. */
static int sign_live(struct tsr_ocsp_responder *r, struct tsr_store *st,
    const struct tsr_ocsp_request *req, struct tsr_ocsp_answer *out)
{
	struct tsr_ocsp_single singles[TSR_OCSP_MAX_IDS];
	char reasons[TSR_OCSP_MAX_IDS][24];
	int rc = 0;

	if (!admit(r, &r->live, LIVE_MAX))
		return BUSY;
	for (size_t i = 0; i < req->n_ids && rc == 0; i++)
		rc = decide(st, &req->ids[i], &singles[i], reasons[i]);
	if (rc == 0)
		rc = sign(r, singles, req->n_ids, req->has_nonce ? req->nonce : NULL,
		    req->nonce_len, out, NULL);
	release(r, &r->live);
	return rc;
}

int tsr_ocsp_respond(struct tsr_ocsp_responder *r, struct tsr_store *st, const uint8_t *der,
    size_t len, struct tsr_ocsp_answer *out)
{
	struct tsr_ocsp_request req;
	int rc;

	memset(out, 0, sizeof(*out));
	if (tsr_ocsp_request_parse(der, len, &req) != 0)
		return answer_error(TSR_OCSP_MALFORMED, out);
	for (size_t i = 0; i < req.n_ids; i++)
		if (!tsr_ocsp_issuer_match(&r->issuing, &req.ids[i]))
			return answer_error(TSR_OCSP_UNAUTHORIZED, out);
	if (req.n_ids == 1 && !req.has_nonce) {
		if (cached(r, &req.ids[0], out, &rc))
			return rc;
		rc = sign_one(r, st, &req.ids[0], true, true, out);
	} else {
		rc = sign_live(r, st, &req, out);
	}
	if (rc == TSR_ERR_NOMEM)
		return rc;
	if (rc == BUSY)
		return answer_error(TSR_OCSP_TRY_LATER, out);
	if (rc != 0) {
		tsr_log(TSR_LOG_ERROR, "OCSP: cannot answer: %s", tsr_error_detail());
		return answer_error(rc == TSR_ERR_STORE ? TSR_OCSP_TRY_LATER : TSR_OCSP_INTERNAL,
		    out);
	}
	return 0;
}

/* ------------------------------------------------------------------ life */

int tsr_ocsp_responder_new(struct tsr_ca *ca, struct tsr_ocsp_responder **out)
{
	struct tsr_ocsp_responder *r = calloc(1, sizeof(*r));
	pthread_rwlockattr_t attr;
	char *serial = NULL;
	int rc;

	*out = NULL;
	if (r == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	r->ca = ca;
	r->validity = (int64_t)ca->cfg.ca.ocsp_response_hours * HOUR;
	r->n_buckets = BUCKETS_MIN;
	if ((r->buckets = calloc(r->n_buckets, sizeof(*r->buckets))) == NULL) {
		free(r);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	/* Writers (keep, sync) must not wait behind a steady stream of GETs. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&r->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&r->budget_lock, NULL);
	pthread_mutex_lock(&ca->lock);
	if ((rc = tsr_ocsp_issuer_init(ca->issuing, &r->issuing)) == 0 &&
	    (rc = tsr_ca_login(ca, "ocsp")) == 0 &&
	    (rc = tsr_store_status_seq(ca->store, &r->seq)) == 0 &&
	    (rc = tsr_store_meta_get(ca->store, "ocsp_serial", &serial)) == 0)
		snprintf(r->ocsp_serial, sizeof(r->ocsp_serial), "%s", serial);
	pthread_mutex_unlock(&ca->lock);
	free(serial);
	if (rc != 0) {
		tsr_ocsp_responder_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void tsr_ocsp_responder_free(struct tsr_ocsp_responder *r)
{
	if (r == NULL)
		return;
	clear_table(r);
	free(r->buckets);
	pthread_rwlock_destroy(&r->lock);
	pthread_mutex_destroy(&r->budget_lock);
	free(r);
}

/* ------------------------------------------------------------------ following the store */

struct serials {
	char (*v)[TSR_SERIAL_HEX_MAX + 1];
	size_t n, cap;
	int64_t last;
};

static int on_change(int64_t seq, const char *serial, int64_t at, void *ctx)
{
	struct serials *s = ctx;

	(void)at;
	s->last = seq;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *v = realloc(s->v, cap * sizeof(*s->v));

		if (v == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], sizeof(*s->v), "%s", serial);
	return 0;
}

/* CertIDs to sign again, copied out of the table. */
struct ids {
	struct tsr_ocsp_certid *v;
	size_t n, cap;
};

static int add_id(struct ids *ids, const struct entry *e)
{
	struct tsr_ocsp_certid *id;

	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 16;
		void *v = realloc(ids->v, cap * sizeof(*ids->v));

		if (v == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		ids->v = v;
		ids->cap = cap;
	}
	id = &ids->v[ids->n++];
	memset(id, 0, sizeof(*id));
	snprintf(id->serial, sizeof(id->serial), "%s", e->serial);
	memcpy(id->der, e->certid, e->certid_len);
	id->der_len = e->certid_len;
	return 0;
}

/* Under the write lock: a new generation, and the entries of the changed
 * serials taken out (their CertIDs into ids, to be signed again).  With
 * the entries gone, a failure later cannot leave an old answer served. */
static int take_changed(struct tsr_ocsp_responder *r, const struct serials *s,
    struct ids *ids)
{
	int rc = 0;

	pthread_rwlock_wrlock(&r->lock);
	r->gen++;
	for (size_t i = 0; i < s->n; i++) {
		struct entry **l = bucket_of(r, s->v[i]);

		while (*l != NULL)
			if (strcmp((*l)->serial, s->v[i]) == 0) {
				if (rc == 0)
					rc = add_id(ids, *l);
				drop(r, l);
			} else {
				l = &(*l)->next;
			}
	}
	pthread_rwlock_unlock(&r->lock);
	return rc;
}

/* Up to REFRESH_MAX kept CertIDs past 2/5 of their life: signed again
 * well before the half-life after which they are no longer served. */
static int collect_aged(struct tsr_ocsp_responder *r, int64_t now, struct ids *ids)
{
	size_t found = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&r->lock);
	for (size_t i = 0; i < r->n_buckets && rc == 0 && found < REFRESH_MAX; i++)
		for (struct entry *e = r->buckets[i]; e != NULL && rc == 0 &&
		    found < REFRESH_MAX; e = e->next)
			if (now >= e->this_update + (e->next_update - e->this_update) * 2 / 5) {
				rc = add_id(ids, e);
				found++;
			}
	pthread_rwlock_unlock(&r->lock);
	return rc;
}

/* Sign again every CertID in ids (their status read now) and keep them. */
static int resign(struct tsr_ocsp_responder *r, struct tsr_store *st, struct ids *ids)
{
	int rc = 0;

	for (size_t i = 0; i < ids->n && rc == 0; i++) {
		struct tsr_ocsp_answer a;

		if ((rc = sign_one(r, st, &ids->v[i], true, false, &a)) == 0)
			tsr_ocsp_answer_clear(&a);
	}
	return rc;
}

/* Does the store name another OCSP certificate than the cache's (a
 * rotation here or in another process)?  Then empty the cache and let the
 * token's signer be found again. */
static int follow_rotation(struct tsr_ocsp_responder *r, struct tsr_store *st)
{
	struct tsr_ca *ca = r->ca;
	char *serial = NULL, loaded[TSR_SERIAL_HEX_MAX + 1] = "";
	bool changed;
	int rc;

	if ((rc = tsr_store_meta_get(st, "ocsp_serial", &serial)) != 0)
		return rc;
	pthread_rwlock_wrlock(&r->lock);
	if ((changed = strcmp(serial, r->ocsp_serial) != 0)) {
		clear_table(r);
		r->gen++;
		snprintf(r->ocsp_serial, sizeof(r->ocsp_serial), "%s", serial);
	}
	pthread_rwlock_unlock(&r->lock);
	pthread_mutex_lock(&ca->lock);
	if (ca->ocsp_cert != NULL) {
		ca_serial_hex(ca->ocsp_cert, loaded);
		if (strcmp(loaded, serial) != 0)
			ca_ocsp_forget(ca);
	}
	pthread_mutex_unlock(&ca->lock);
	if (changed)
		tsr_log(TSR_LOG_INFO, "OCSP: the OCSP-signing certificate is now %s", serial);
	free(serial);
	return 0;
}

int tsr_ocsp_sync(struct tsr_ocsp_responder *r, struct tsr_store *st, size_t *changed)
{
	struct serials s = { .last = r->seq };
	struct ids ids = { 0 };
	int rc;

	if (changed != NULL)
		*changed = 0;
	if ((rc = follow_rotation(r, st)) != 0 ||
	    (rc = tsr_store_status_changes(st, r->seq, on_change, &s)) != 0)
		goto out;
	/* The changes first: taken out and followed even if the refresh
	 * below fails. */
	if (s.n > 0 && (rc = take_changed(r, &s, &ids)) != 0)
		goto out;
	r->seq = s.last;
	if (changed != NULL)
		*changed = s.n;
	if ((rc = resign(r, st, &ids)) != 0)
		goto out;
	ids.n = 0;
	if ((rc = collect_aged(r, (int64_t)tsr_now(), &ids)) == 0)
		rc = resign(r, st, &ids);
out:
	free(s.v);
	free(ids.v);
	return rc;
}

/* ------------------------------------------------------------------ export */

/* The RFC 5019 CertID (SHA-1) of serial under the issuing CA, parsed as a
 * request would be. */
static int certid_for(X509 *issuer, const char *serial, struct tsr_ocsp_certid *out)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	ASN1_INTEGER *sn = NULL;
	OCSP_CERTID *id = NULL;
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	struct tsr_ocsp_request parsed;
	int n, rc = 0;

	if (req == NULL || BN_hex2bn(&bn, serial) <= 0 ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), sn)) == NULL ||
	    OCSP_request_add0_id(req, id) == NULL) {
		OCSP_CERTID_free(id);
		rc = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot make the CertID of %s", serial);
		goto out;
	}
	if ((n = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		rc = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode a request");
		goto out;
	}
	if ((rc = tsr_ocsp_request_parse(der, (size_t)n, &parsed)) == 0)
		*out = parsed.ids[0];
out:
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return rc;
}

struct export {
	struct tsr_ocsp_responder *r;
	struct tsr_store *st;
	const char *dir;
	size_t count;
};

static int export_one(const struct tsr_cert_record *rec, void *ctx)
{
	struct export *x = ctx;
	struct tsr_ocsp_certid id;
	struct tsr_ocsp_answer a;
	char name[TSR_SERIAL_HEX_MAX + 8], *path = NULL;
	int rc;

	if ((rc = certid_for(x->r->ca->issuing, rec->serial, &id)) != 0 ||
	    (rc = sign_one(x->r, x->st, &id, false, false, &a)) != 0)
		return rc;
	snprintf(name, sizeof(name), "%s.der", rec->serial);
	for (char *p = name; *p != '.'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if ((rc = tsr_path_join(x->dir, name, &path)) == 0)
		rc = tsr_file_write(path, a.der, a.len, 0644);
	free(path);
	tsr_ocsp_answer_clear(&a);
	if (rc == 0)
		x->count++;
	return rc;
}

int tsr_ocsp_export(struct tsr_ca *ca, const char *actor, const char *dir, size_t *count)
{
	struct tsr_cert_filter f = { .issuer = "issuing", .expires_after = (int64_t)tsr_now() };
	struct tsr_ocsp_responder *r = NULL;
	struct export x = { .dir = dir };
	int rc;

	*count = 0;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return tsr_error(TSR_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	if ((rc = tsr_ocsp_responder_new(ca, &r)) != 0)
		return rc;
	x.r = r;
	x.st = ca->store;
	rc = tsr_store_cert_list(ca->store, &f, export_one, &x);
	*count = x.count;
	tsr_ca_audit(ca, actor, "ocsp.export", dir, rc == 0 ? TSR_AUDIT_SUCCESS :
	    TSR_AUDIT_FAILURE, "responses=%zu", x.count);
	tsr_ocsp_responder_free(r);
	return rc;
}

/* ------------------------------------------------------------------ rotation */

/* Inside the certificate's transaction: the store names the new key. */
static int name_new_key(struct tsr_store *st, const struct tsr_cert_record *rec, void *ctx)
{
	const char *key_id = ctx;
	int rc;

	if ((rc = tsr_store_meta_set(st, "ocsp_serial", rec->serial)) != 0)
		return rc;
	return tsr_store_meta_set(st, "ocsp_key_id", key_id);
}

/* Does the OCSP certificate cert need replacing at now? */
static bool due(X509 *cert, int64_t now)
{
	int64_t from = unix_time(X509_get0_notBefore(cert));
	int64_t to = unix_time(X509_get0_notAfter(cert));

	return to - now < (to - from) / 3;
}

/* A new key on the token and its certificate from the issuing CA; ca->lock
 * held, logged in. */
static int rotate_locked(struct tsr_ca *ca, const char *actor, X509 *old, char *serial,
    size_t serial_size)
{
	uint8_t id[16];
	char id_hex[33], issuers[512], *path = NULL;
	struct tsr_p11_key *key = NULL;
	struct tsr_cert_record rec;
	struct tsr_buf pem;
	struct ca_job job;
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int64_t now = (int64_t)tsr_now();
	int n, rc, destroyed = 0;

	memset(&job, 0, sizeof(job));
	memset(&rec, 0, sizeof(rec));
	tsr_buf_init(&pem, 1 << 16);
	if ((rc = tsr_random(id, sizeof(id))) != 0)
		goto out;
	tsr_hex_encode(id, sizeof(id), id_hex);
	if ((rc = tsr_p11_keygen(ca->sess, ca->cfg.ca.key_type, "tessera OCSP responder", id,
	    sizeof(id), &key)) != 0 ||
	    (rc = ca_check_key_protected(key, "OCSP responder")) != 0 ||
	    (rc = tsr_p11_key_public(key, &pub)) != 0)
		goto out;
	snprintf(issuers, sizeof(issuers), "%s/ca/issuing.crt", ca->cfg.ca.public_url);
	job.t.kind = TSR_CERT_OCSP;
	job.t.subject = X509_get_subject_name(old);
	job.t.pubkey = pub;
	job.t.not_before = (time_t)now;
	job.t.not_after = (time_t)(now + (int64_t)ca->cfg.ca.ocsp_validity_days * DAY - 1);
	job.t.issuer = ca->issuing;
	job.t.ca_issuers_url = issuers;
	job.signer = ca->signer;
	job.issuer_label = "issuing";
	job.role = "ocsp";
	job.actor = actor;
	job.in_transaction = name_new_key;
	job.ctx = id_hex;
	if ((rc = ca_make_cert(ca->store, &job, &cert, &rec)) != 0)
		goto out;
	snprintf(serial, serial_size, "%s", rec.serial);
	/* The certificate beside its key on the token, and in certs/ for
	 * people; the store already names both, so failures here are only
	 * warnings. */
	if ((n = i2d_X509(cert, &der)) <= 0 ||
	    tsr_p11_cert_store(ca->sess, "tessera OCSP responder", id, sizeof(id), der,
	    (size_t)n) != 0)
		tsr_log(TSR_LOG_WARN, "cannot keep the new OCSP certificate on the token: %s",
		    tsr_error_detail());
	if (ca_pem(cert, &pem) != 0 || tsr_path_join(ca->home, "certs/ocsp.pem", &path) != 0 ||
	    tsr_file_write(path, pem.data, pem.len, 0644) != 0)
		tsr_log(TSR_LOG_WARN, "cannot write certs/ocsp.pem: %s", tsr_error_detail());
	ca_ocsp_forget(ca);
out:
	if (rc != 0 && key != NULL &&
	    tsr_p11_destroy_by_id(ca->sess, id, sizeof(id), &destroyed) != 0)
		tsr_log(TSR_LOG_WARN, "cannot remove the unused OCSP key: %s", tsr_error_detail());
	OPENSSL_free(der);
	tsr_p11_key_free(key);
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&pem);
	EVP_PKEY_free(pub);
	X509_free(cert);
	free(path);
	return rc;
}

int tsr_ca_ocsp_rotate(struct tsr_ca *ca, const char *actor, bool force, bool *rotated)
{
	struct tsr_signer *signer;
	char serial[TSR_SERIAL_HEX_MAX + 1] = "", old_serial[TSR_SERIAL_HEX_MAX + 1] = "";
	X509 *old = NULL;
	int rc;

	if (rotated != NULL)
		*rotated = false;
	/* Everything, the audit records included, under the token's lock:
	 * they use the CA's own store connection, which serves one thread at
	 * a time (request threads reload the signer through it). */
	pthread_mutex_lock(&ca->lock);
	if ((rc = tsr_ca_login(ca, actor)) != 0 ||
	    (rc = ca_ocsp_signer(ca, &signer, &old)) != 0) {
		tsr_ca_audit(ca, actor, "ocsp.rotate", "ocsp", TSR_AUDIT_FAILURE, "%s",
		    tsr_error_detail());
		goto out;
	}
	if (!force && !due(old, (int64_t)tsr_now()))
		goto out;
	ca_serial_hex(old, old_serial);
	X509_up_ref(old);
	rc = rotate_locked(ca, actor, old, serial, sizeof(serial));
	X509_free(old);
	if (rc != 0) {
		tsr_ca_audit(ca, actor, "ocsp.rotate", "ocsp", TSR_AUDIT_FAILURE, "%s",
		    tsr_error_detail());
		goto out;
	}
	tsr_ca_audit(ca, actor, "ocsp.rotate", serial, TSR_AUDIT_SUCCESS,
	    "new OCSP-signing certificate %s replaces %s%s", serial, old_serial,
	    force ? " (forced)" : "");
	if (rotated != NULL)
		*rotated = true;
out:
	pthread_mutex_unlock(&ca->lock);
	return rc;
}
