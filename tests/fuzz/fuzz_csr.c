/*
 * fuzz_csr.c - tsr_csr_parse() on arbitrary bytes, DER or PEM.  Rejection
 * is the expected outcome; an accepted request must re-encode, and the
 * parser must leave OpenSSL's error queue empty either way.
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL;

	if (tsr_csr_parse(data, size, &req) == 0) {
		if (req == NULL || i2d_X509_REQ(req, &der) <= 0)
			abort();
		OPENSSL_free(der);
	} else if (req != NULL) {
		abort();
	}
	if (ERR_peek_error() != 0)
		abort();
	X509_REQ_free(req);
	return 0;
}
