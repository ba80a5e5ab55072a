/*
 * fuzz_cms.c - tsr_cms_verify() on arbitrary bytes.  The certificates the
 * input carries (as OpenSSL alone reads them) also serve as its trust
 * anchors, so that the chain and validity checks run on fuzzed
 * certificates too; a detached signature is checked again with a fixed
 * document.  Invariants: success means every check is good, a refused
 * structure runs no other check, the report is well-formed, and OpenSSL's
 * error queue is left empty.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((time_t)1800000000)   /* 2027-01-15: after the seeds were signed */

static const uint8_t document[] = "Prescription: amoxicillin 500 mg, 21 capsules.\n";

/* The input's certificates, read by OpenSSL without our checks. */
static STACK_OF(X509) *carried(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)size);
	STACK_OF(X509) *certs = cms != NULL ? CMS_get1_certs(cms) : NULL;

	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return certs;
}

static void check_report(int r, const struct tsr_cms_report *rep)
{
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++) {
		if (rep->result[c] > TSR_CMS_NOT_CHECKED ||
		    memchr(rep->reason[c], '\0', TSR_CMS_REASON_MAX) == NULL)
			abort();
		if (r == 0 && rep->result[c] != TSR_CMS_GOOD &&
		    !(c == TSR_CMS_CHECK_STATUS && rep->result[c] == TSR_CMS_NOT_CHECKED))
			abort();
	}
	if (rep->result[TSR_CMS_CHECK_STRUCTURE] != TSR_CMS_GOOD) {
		if (r == 0 || rep->signer != NULL)
			abort();
		for (int c = 1; c < TSR_CMS_CHECK_COUNT; c++)
			if (rep->result[c] != TSR_CMS_NOT_RUN)
				abort();
	}
	if (ERR_peek_error() != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *roots = carried(data, size);
	struct tsr_cms_report rep;
	int r;

	r = tsr_cms_verify(data, size, NULL, 0, roots, NULL, NOW, &rep);
	check_report(r, &rep);
	if (rep.detached) {
		tsr_cms_report_clear(&rep);
		r = tsr_cms_verify(data, size, document, sizeof(document) - 1, roots, NULL, NOW,
		    &rep);
		check_report(r, &rep);
	}
	tsr_cms_report_clear(&rep);
	sk_X509_pop_free(roots, X509_free);
	return 0;
}
