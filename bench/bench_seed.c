/*
 * bench_seed.c - fill a CA home's review queue for bench/api: N EPCS
 * applications under review, written straight into the store with
 * tsr_store_app_create() in one transaction.
 *
 * usage: bench_seed --database PATH [--count N]
 *
 * Applying through the API costs four Argon2id hashes per application (a
 * quarter of a second or more on a small machine), so a queue of 1000
 * would take minutes; here it takes well under a second.  The store's own
 * interface is used rather than SQL against the schema, so the seed keeps
 * working when the schema changes (migrations apply on open).  Every row
 * looks like one that went through the workflow: applicant fields that
 * pass the checks, a real Argon2id password hash (one, shared), the
 * automatic checks' JSON.  What is skipped: the secret answers, the codes
 * and the audit records, which the endpoints measured do not read.
 *
 * Ids are AP-BNCH-0000-0001 ... in creation order (oldest first); prints
 * "first_id=... last_id=...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ra/secret.h"
#include "store/store.h"

#define CHECKS "{\"dea\":{\"detail\":\"the DEA number has a valid check digit and the " \
	"registrant's initial\",\"result\":\"pass\"},\"duplicates\":[],\"npi\":{\"detail\":" \
	"\"the NPI has a valid check digit\",\"result\":\"pass\"}}"

static void app_id(long i, char out[TSR_APP_ID_MAX + 1])
{
	snprintf(out, TSR_APP_ID_MAX + 1, "AP-BNCH-%04ld-%04ld", i / 10000 % 10000, i % 10000);
}

/* Application number i (1..count) of count, created count - i seconds
 * before now. */
static int seed_one(struct tsr_store *st, long i, long count, int64_t now, const char *hash)
{
	char email[64], identity[65], applicant[512];
	struct tsr_app_record a;

	memset(&a, 0, sizeof(a));
	app_id(i, a.id);
	snprintf(a.product, sizeof(a.product), "epcs");
	snprintf(a.storage, sizeof(a.storage), "new-token");
	snprintf(a.state, sizeof(a.state), "under_review");
	a.created_at = a.updated_at = a.state_since = now - (count - i);
	snprintf(email, sizeof(email), "applicant%ld@example.org", i);
	snprintf(identity, sizeof(identity), "%064lx", (unsigned long)i);
	snprintf(applicant, sizeof(applicant), "{\"address\":\"%ld Main Street\\nSpringfield, "
	    "IL 62701\",\"date_of_birth\":\"1980-02-29\",\"dea\":\"AT1234563\",\"email\":\"%s\","
	    "\"family_name\":\"Tester\",\"given_name\":\"Jane %ld\",\"npi\":\"1234567893\"}", i,
	    email, i);
	a.email = email;
	a.npi = (char *)"1234567893";
	a.dea = (char *)"AT1234563";
	a.identity = identity;
	a.applicant = applicant;
	a.agreement = (char *)"2026-11";
	a.password_hash = (char *)hash;
	a.checks = (char *)CHECKS;
	a.reason = (char *)"";
	return tsr_store_app_create(st, &a);
}

static int seed(const char *database, long count)
{
	char hash[TSR_SECRET_HASH_BYTES], first[TSR_APP_ID_MAX + 1], last[TSR_APP_ID_MAX + 1];
	struct tsr_store *st = NULL;
	int64_t now = (int64_t)tsr_now();
	int r;

	if ((r = tsr_secret_hash("bench applicant password 2026", hash)) != 0 ||
	    (r = tsr_store_open(database, false, &st)) != 0 || (r = tsr_store_begin(st)) != 0)
		goto out;
	for (long i = 1; i <= count; i++)
		if ((r = seed_one(st, i, count, now, hash)) != 0)
			goto out;
	if ((r = tsr_store_commit(st)) != 0)
		goto out;
	app_id(1, first);
	app_id(count, last);
	printf("first_id=%s last_id=%s\n", first, last);
out:
	if (st != NULL)
		tsr_store_rollback(st);
	tsr_store_close(st);
	return r;
}

int main(int argc, char **argv)
{
	const char *database = NULL;
	long count = 1000;
	bool bad = argc % 2 != 1;
	int r;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--database") == 0)
			database = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			count = strtol(argv[i + 1], NULL, 10);
		else
			bad = true;
	}
	if (bad || database == NULL || count < 1 || count > 99999999) {
		fprintf(stderr, "usage: bench_seed --database PATH [--count N]\n");
		return 64;
	}
	if ((r = seed(database, count)) != 0) {
		fprintf(stderr, "bench_seed: %s: %s\n", tsr_strerror(r), tsr_error_detail());
		return tsr_error_exit_status(r);
	}
	return 0;
}
