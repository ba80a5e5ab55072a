/*
 * bench_crl_seed.c - fill a CA home's store with revoked certificates for
 * bench/crl: COUNT subscriber certificates of the issuing CA, numbered
 * from FIRST, each revoked (or suspended) at once, written with the
 * store's own calls (tsr_store_serial_reserve, tsr_store_cert_put,
 * tsr_store_cert_set_status) in transactions of 50,000.
 *
 * usage: bench_crl_seed --database PATH --count N [--first K]
 *
 * The rows are what the CRL reads (serial, issuer, not_after, status,
 * revocation time, reason, invalidity date) on top of certificates that
 * were never signed: their DER is a fake five bytes, the subject and
 * fingerprint placeholders.  Issuing a million real certificates through
 * the token would take over an hour and change nothing in what the CRL
 * build does.  Serials are 16 octets that look random (a fixed mix of the
 * row number), positive; reasons cycle through keyCompromise (with an
 * invalidity date), superseded, cessationOfOperation, affiliationChanged,
 * unspecified and certificateHold (suspended); revocation times spread
 * over the last 300 days; every certificate expires a year from now.
 *
 * Prints "seeded=N seconds=S".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "store/store.h"

#define BATCH 50000
#define DAY 86400

static const uint8_t fake_der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* 32 hex digits, the first 1..7: a positive 16-octet serial. */
static void serial_of(uint64_t i, char out[TSR_SERIAL_HEX_MAX + 1])
{
	uint64_t hi = mix(i), lo = mix(i ^ 0x5bd1e995ull);

	snprintf(out, TSR_SERIAL_HEX_MAX + 1, "%" PRIx64 "%015" PRIx64 "%016" PRIx64,
	    (uint64_t)(1 + hi % 7), (uint64_t)((hi >> 4) & 0xfffffffffffffull), lo);
}

static int seed_one(struct tsr_store *st, uint64_t i, int64_t now)
{
	static const char *const reasons[] = { "keyCompromise", "superseded",
		"cessationOfOperation", "affiliationChanged", "unspecified", "certificateHold" };
	const char *reason = reasons[i % TSR_ARRAY_LEN(reasons)];
	struct tsr_cert_record rec;
	char subject[48];
	int64_t at = now - (int64_t)(i % 300) * DAY - (int64_t)(i % 86400);
	bool hold = strcmp(reason, "certificateHold") == 0;
	int r;

	memset(&rec, 0, sizeof(rec));
	serial_of(i, rec.serial);
	snprintf(rec.issuer, sizeof(rec.issuer), "issuing");
	snprintf(rec.role, sizeof(rec.role), "subscriber");
	snprintf(rec.product, sizeof(rec.product), "device");
	snprintf(rec.key_type, sizeof(rec.key_type), "ec-p256");
	snprintf(rec.status, sizeof(rec.status), "valid");
	memset(rec.fingerprint, '0', 64);
	rec.not_before = now - 330 * (int64_t)DAY;
	rec.not_after = now + 365 * (int64_t)DAY;
	rec.issued_at = rec.not_before;
	snprintf(subject, sizeof(subject), "CN=bench-%" PRIu64, i);
	rec.subject = subject;
	rec.sans = (char *)"";
	rec.der = (uint8_t *)fake_der;
	rec.der_len = sizeof(fake_der);
	if ((r = tsr_store_serial_reserve(st, rec.serial, "issuing")) != 0 ||
	    (r = tsr_store_cert_put(st, &rec)) != 0)
		return r;
	return tsr_store_cert_set_status(st, rec.serial, "valid", hold ? "suspended" : "revoked",
	    at, reason, i % 6 == 0 ? at - DAY : 0);
}

static int seed(const char *database, uint64_t first, uint64_t count)
{
	struct tsr_store *st = NULL;
	int64_t now = (int64_t)tsr_now();
	struct timespec t0, t1;
	uint64_t done = 0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((r = tsr_store_open(database, false, &st)) != 0)
		goto out;
	while (done < count) {
		if ((r = tsr_store_begin(st)) != 0)
			goto out;
		for (uint64_t k = 0; k < BATCH && done < count; k++, done++)
			if ((r = seed_one(st, first + done, now)) != 0)
				goto out;
		if ((r = tsr_store_commit(st)) != 0)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("seeded=%" PRIu64 " seconds=%.1f\n", count, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	if (st != NULL)
		tsr_store_rollback(st);
	tsr_store_close(st);
	return r;
}

int main(int argc, char **argv)
{
	const char *database = NULL;
	long long count = 0, first = 1;
	bool bad = argc % 2 != 1;
	int r;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--database") == 0)
			database = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			count = strtoll(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--first") == 0)
			first = strtoll(argv[i + 1], NULL, 10);
		else
			bad = true;
	}
	if (bad || database == NULL || count < 1 || count > 100000000 || first < 1) {
		fprintf(stderr, "usage: bench_crl_seed --database PATH --count N [--first K]\n");
		return 64;
	}
	if ((r = seed(database, (uint64_t)first, (uint64_t)count)) != 0) {
		fprintf(stderr, "bench_crl_seed: %s: %s\n", tsr_strerror(r), tsr_error_detail());
		return tsr_error_exit_status(r);
	}
	return 0;
}
