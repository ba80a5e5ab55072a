/*
 * voucher.c - prepaid vouchers: batches of random codes for a product,
 * redeemed once by an application, revocable by batch.
 *
 * A code exists in plaintext only in the memory of the call that made it
 * (handed once to the administrator) and of the call that redeems it; the
 * store keeps HMAC-SHA-256 under the code key (ra/secret.h), which a stolen
 * database alone cannot reverse.  Nothing here logs or audits a code or
 * its hash: records name the batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ra/admin.h"

/* Crockford's data symbols, as the codes use: no I, L, O or U. */
static const char batch_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define BATCH_TRIES 8
#define CODE_TRIES 4
#define TYPED_MAX 256



/* A batch id as typed (any case) into its stored form; refuses anything
 * that no batch can be, without echoing it. */
static int batch_normalise(const char *in, char out[TSR_VOUCHER_BATCH_MAX + 1])
{
	size_t n = in != NULL ? strnlen(in, TSR_VOUCHER_BATCH_MAX + 1) : 0;

	if (n == 0 || n > TSR_VOUCHER_BATCH_MAX)
		return tsr_error(TSR_ERR_NOT_FOUND, "no such voucher batch");
	for (size_t i = 0; i < n; i++) {
		char c = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];

		if (c == '\0' || strchr(batch_alphabet, c) == NULL)
			return tsr_error(TSR_ERR_NOT_FOUND, "no such voucher batch");
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ create */

static int stop_at_first(const struct tsr_voucher_record *v, void *ctx)
{
	(void)v;
	(void)ctx;
	return 1;
}

/* A random batch id no batch has yet (checked inside the transaction). */
static int new_batch(struct tsr_store *st, char out[TSR_VOUCHER_BATCH_LEN + 1])
{
	struct tsr_voucher_filter f = { out, NULL };
	uint8_t raw[TSR_VOUCHER_BATCH_LEN];
	int r;

	for (int t = 0; t < BATCH_TRIES; t++) {
		if ((r = tsr_random(raw, sizeof(raw))) != 0)
			return r;
		for (size_t i = 0; i < TSR_VOUCHER_BATCH_LEN; i++)
			out[i] = batch_alphabet[raw[i] & 31];  /* 256 = 8 * 32: uniform */
		out[TSR_VOUCHER_BATCH_LEN] = '\0';
		r = tsr_store_voucher_list(st, &f, stop_at_first, NULL);
		if (r == 0)
			return 0;
		if (r < 0)
			return r;
	}
	return tsr_error(TSR_ERR_INTERNAL, "no unused batch id after %d tries", BATCH_TRIES);
}

/* Make code i, store its hash; a new code on the (2^-75) chance that the
 * hash is taken. */
static int make_one(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    struct tsr_voucher_record *v, char *code)
{
	int r = TSR_ERR_EXISTS;

	for (int t = 0; t < CODE_TRIES && r == TSR_ERR_EXISTS; t++) {
		if ((r = tsr_code_new(TSR_VOUCHER_BITS, code, TSR_VOUCHER_CODE_LEN)) != 0 ||
		    (r = tsr_code_hash(key, TSR_CODE_VOUCHER, code, v->code_hash)) != 0)
			return r;
		r = tsr_store_voucher_insert(st, v);
	}
	return r;
}

static int check_create(const struct tsr_products *products, const char *product_name,
    long count, time_t expires_at, time_t now)
{
	const struct tsr_product *p;

	if (product_name == NULL || products == NULL ||
	    (p = tsr_product_find(products, product_name)) == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND, "no product called '%s' (see tessera product "
		    "list)", product_name != NULL ? product_name : "");
	if (p->payment != NULL && strcmp(p->payment, "free") == 0)
		return tsr_error(TSR_ERR_POLICY, "product %s is free: it takes no voucher",
		    product_name);
	if (count < 1 || count > TSR_VOUCHER_COUNT_MAX)
		return tsr_error(TSR_ERR_INVALID, "a batch has 1 to %d vouchers, not %ld",
		    TSR_VOUCHER_COUNT_MAX, count);
	if (expires_at != 0 && expires_at <= now)
		return tsr_error(TSR_ERR_INVALID, "the expiry time is not in the future");
	return 0;
}

/* Make the batch's codes in codes[0..count) and store their hashes, with
 * the audit record, in one transaction. */
static int store_batch(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    const char *actor, struct tsr_voucher_record *v, long count, char **codes)
{
	char object[sizeof("voucher-batch:") + TSR_VOUCHER_BATCH_MAX], expiry[21] = "never";
	int r;

	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = new_batch(st, v->batch)) != 0)
		goto out;
	for (long i = 0; i < count && r == 0; i++)
		r = make_one(st, key, v, codes[i]);
	if (r != 0)
		goto out;
	if (v->expires_at != 0)
		tsr_time_format((time_t)v->expires_at, expiry);
	snprintf(object, sizeof(object), "voucher-batch:%s", v->batch);
	if ((r = tsr_audit_append(st, actor, "voucher.create", object, TSR_AUDIT_SUCCESS,
	    "batch %s, product %s, %ld vouchers, expires %s", v->batch, v->product, count,
	    expiry)) == 0)
		r = tsr_store_commit(st);
out:
	if (r != 0)
		tsr_store_rollback(st);
	return r;
}

/* Make a batch of vouchers (see admin.h). */
int tsr_ra_voucher_create(struct tsr_store *st, const struct tsr_products *products,
    const uint8_t key[TSR_CODE_KEY_BYTES], const char *actor, const char *product_name,
    long count, time_t expires_at, char batch_out[TSR_VOUCHER_BATCH_LEN + 1],
    char ***codes_out)
{
	struct tsr_voucher_record v;
	char **codes = NULL;
	time_t now = tsr_now();
	int r;

	*codes_out = NULL;
	batch_out[0] = '\0';
	memset(&v, 0, sizeof(v));
	if ((r = check_create(products, product_name, count, expires_at, now)) != 0)
		goto out;
	if ((codes = calloc((size_t)count, sizeof(*codes))) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (long i = 0; i < count; i++)
		if ((codes[i] = calloc(1, TSR_VOUCHER_CODE_LEN)) == NULL) {
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
	snprintf(v.product, sizeof(v.product), "%s", product_name);
	v.created_at = (int64_t)now;
	v.expires_at = (int64_t)expires_at;
	if ((r = store_batch(st, key, actor, &v, count, codes)) != 0)
		goto out;
	memcpy(batch_out, v.batch, TSR_VOUCHER_BATCH_LEN + 1);
	*codes_out = codes;
	codes = NULL;
out:
	if (codes != NULL)
		tsr_ra_voucher_codes_free(codes, count);
	if (r != 0)
		r = tsr_audit_error(st, actor, "voucher.create", "", r);
	return r;
}

/* Wipe and free codes[0..count) and the array. */
void tsr_ra_voucher_codes_free(char **codes, long count)
{
	if (codes == NULL)
		return;
	for (long i = 0; i < count; i++)
		tsr_free_secret(codes[i]);
	free(codes);
}

/* ------------------------------------------------------------------ redeem */

/* What a human typed into the code's hash; a typo is caught by the check
 * symbol before anything is looked up. */
static int typed_hash(const uint8_t key[TSR_CODE_KEY_BYTES], const char *typed,
    char hash[TSR_CODE_HASH_HEX])
{
	char canonical[TYPED_MAX + 1];
	int r;

	if ((r = tsr_code_normalise(typed, canonical, sizeof(canonical))) != 0)
		goto out;
	if (strlen(canonical) != TSR_VOUCHER_CODE_LEN - 1) {
		r = tsr_error(TSR_ERR_PARSE, "this is not a voucher code (a voucher code has "
		    "four groups of four characters)");
		goto out;
	}
	r = tsr_code_hash(key, TSR_CODE_VOUCHER, canonical, hash);
out:
	tsr_wipe(canonical, sizeof(canonical));
	return r;
}

/* Application ids go into audit records: letters, digits, '.', '_', '-'. */
static int check_application(const char *id)
{
	size_t n = id != NULL ? strnlen(id, TSR_VOUCHER_USED_BY_MAX + 1) : 0;

	if (n == 0 || n > TSR_VOUCHER_USED_BY_MAX)
		return tsr_error(TSR_ERR_INVALID, "an application id has 1 to %d characters",
		    TSR_VOUCHER_USED_BY_MAX);
	for (size_t i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		    id[i]) == NULL)
			return tsr_error(TSR_ERR_INVALID, "an application id has only letters, "
			    "digits, '.', '_' and '-'");
	return 0;
}

/* "voucher-batch:B" for the voucher with this hash, or "" if unknown. */
static void object_of(struct tsr_store *st, const char *hash, char *out, size_t n)
{
	struct tsr_voucher_record v;
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	out[0] = '\0';
	if (hash[0] != '\0' && tsr_store_voucher_get(st, hash, &v) == 0)
		snprintf(out, n, "voucher-batch:%s", v.batch);
	tsr_error(0, "%s", saved);
}

/* Redeem a typed code (see admin.h). */
int tsr_ra_voucher_redeem(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    const char *actor, const char *typed_code, const char *product,
    const char *application_id, time_t now)
{
	char hash[TSR_CODE_HASH_HEX] = "", object[64] = "";
	bool own = !tsr_store_in_transaction(st);
	int r;

	if ((r = check_application(application_id)) != 0 ||
	    (r = typed_hash(key, typed_code, hash)) != 0)
		goto out;
	if (own && (r = tsr_store_begin(st)) != 0)
		goto out;
	if ((r = tsr_store_voucher_consume(st, hash, product, application_id, (int64_t)now)) == 0) {
		object_of(st, hash, object, sizeof(object));
		r = tsr_audit_append(st, actor, "voucher.redeem", object, TSR_AUDIT_SUCCESS,
		    "product %s, application %s", product, application_id);
	}
	if (own && r == 0)
		r = tsr_store_commit(st);
	else if (own)
		tsr_store_rollback(st);
out:
	if (r != 0 && own) {
		object_of(st, hash, object, sizeof(object));
		r = tsr_audit_error(st, actor, "voucher.redeem", object, r);
	}
	tsr_wipe(hash, sizeof(hash));
	return r;
}

/* Whether typed_code could pay for product now, without using it (see
 * admin.h). */
int tsr_ra_voucher_check(struct tsr_store *st, const uint8_t key[TSR_CODE_KEY_BYTES],
    const char *typed_code, const char *product, time_t now)
{
	struct tsr_voucher_record v;
	char hash[TSR_CODE_HASH_HEX] = "";
	int r;

	if ((r = typed_hash(key, typed_code, hash)) == 0 &&
	    (r = tsr_store_voucher_get(st, hash, &v)) == 0)
		r = tsr_voucher_unusable(&v, product, (int64_t)now);
	else if (r == TSR_ERR_NOT_FOUND)
		r = tsr_error(r, "there is no such voucher code");
	tsr_wipe(hash, sizeof(hash));
	return r;
}

/* ------------------------------------------------------------------ revoke and list */

/* Revoke the unused vouchers of batch (see admin.h). */
int tsr_ra_voucher_revoke_batch(struct tsr_store *st, const char *actor, const char *batch,
    int64_t *revoked)
{
	char norm[TSR_VOUCHER_BATCH_MAX + 1] = "", object[64] = "";
	int64_t n = 0;
	int r;

	if ((r = batch_normalise(batch, norm)) != 0)
		goto out;
	snprintf(object, sizeof(object), "voucher-batch:%s", norm);
	if ((r = tsr_store_begin(st)) != 0)
		goto out;
	if ((r = tsr_store_voucher_revoke_batch(st, norm, (int64_t)tsr_now(), &n)) == 0 &&
	    (r = tsr_audit_append(st, actor, "voucher.revoke", object, TSR_AUDIT_SUCCESS,
	    "%lld unused vouchers revoked", (long long)n)) == 0)
		r = tsr_store_commit(st);
	else
		tsr_store_rollback(st);
out:
	if (r != 0)
		r = tsr_audit_error(st, actor, "voucher.revoke", object, r);
	else if (revoked != NULL)
		*revoked = n;
	return r;
}

struct batch_ctx {
	struct tsr_voucher_batch cur;
	bool have;
	time_t now;
	tsr_voucher_batch_fn fn;
	void *ctx;
};

static void count_row(struct tsr_voucher_batch *b, const struct tsr_voucher_record *v,
    time_t now)
{
	b->total++;
	if (v->used_at != 0)
		b->used++;
	else if (v->revoked_at != 0)
		b->revoked++;
	else if (v->expires_at != 0 && v->expires_at <= (int64_t)now)
		b->expired++;
	else
		b->unused++;
}

/* Rows arrive batch by batch; a new batch id hands the last one on. */
static int batch_row(const struct tsr_voucher_record *v, void *ctx)
{
	struct batch_ctx *c = ctx;
	int r;

	if (c->have && strcmp(c->cur.batch, v->batch) != 0) {
		if ((r = c->fn(&c->cur, c->ctx)) != 0)
			return r;
		c->have = false;
	}
	if (!c->have) {
		memset(&c->cur, 0, sizeof(c->cur));
		snprintf(c->cur.batch, sizeof(c->cur.batch), "%s", v->batch);
		snprintf(c->cur.product, sizeof(c->cur.product), "%s", v->product);
		c->cur.created_at = v->created_at;
		c->cur.expires_at = v->expires_at;
		c->have = true;
	}
	count_row(&c->cur, v, c->now);
	return 0;
}

/* List batches with their counts (see admin.h). */
int tsr_ra_voucher_batches(struct tsr_store *st, const struct tsr_voucher_filter *f,
    time_t now, tsr_voucher_batch_fn fn, void *ctx)
{
	struct batch_ctx c = { .now = now, .fn = fn, .ctx = ctx };
	struct tsr_voucher_filter nf = { NULL, NULL };
	char norm[TSR_VOUCHER_BATCH_MAX + 1];
	int r;

	if (fn == NULL)
		return tsr_error(TSR_ERR_INVALID, "batch listing without a callback");
	if (f != NULL) {
		nf = *f;
		/* A batch id no batch can have simply matches nothing. */
		if (f->batch != NULL && batch_normalise(f->batch, norm) != 0)
			return 0;
		if (f->batch != NULL)
			nf.batch = norm;
	}
	if ((r = tsr_store_voucher_list(st, &nf, batch_row, &c)) != 0)
		return r;
	return c.have ? fn(&c.cur, ctx) : 0;
}
