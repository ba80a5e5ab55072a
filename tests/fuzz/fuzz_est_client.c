/*
 * fuzz_est_client.c - the client's parsers of what a server answers
 * (src/client/parse.c) on arbitrary bytes.  The first byte chooses the
 * parser: 0 certs-only PKCS#7, 1 csrattrs, 2 a problem document, 3 the Test
 * My Certificate nonce, 4 its verdict; the rest is the body.  Rejection is
 * the expected outcome; what is accepted must hold what the contract
 * promises, and OpenSSL's error queue must be empty either way.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "client/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void certs(const uint8_t *p, size_t n)
{
	STACK_OF(X509) *sk = NULL;

	if (tsr_est_parse_certs(p, n, &sk) == 0) {
		if (sk == NULL || sk_X509_num(sk) < 1 || sk_X509_num(sk) > TSR_EST_CERTS_MAX)
			abort();
		for (int i = 0; i < sk_X509_num(sk); i++)
			if (i2d_X509(sk_X509_value(sk, i), NULL) <= 0)
				abort();
	} else if (sk != NULL) {
		abort();
	}
	sk_X509_pop_free(sk, X509_free);
}

static void csrattrs(const uint8_t *p, size_t n)
{
	struct tsr_est_csrattrs a;

	if (tsr_est_parse_csrattrs(p, n, &a) == 0) {
		if ((a.preferred == TSR_KEY_NONE) != (a.key_types == 0) ||
		    (a.preferred != TSR_KEY_NONE && !(a.key_types & (1u << a.preferred))) ||
		    (a.key_types & ~0x3eu) != 0)
			abort();
	} else if (a.key_types != 0 || a.n_attrs != 0) {
		abort();
	}
}

static void problem(const uint8_t *p, size_t n)
{
	char detail[64];
	int code = tsr_est_parse_problem(p, n, TSR_ERR_IO, detail, sizeof(detail));

	if (code >= 0 || code <= TSR_ERR_LAST || strlen(detail) >= sizeof(detail))
		abort();
	for (size_t i = 0; detail[i] != '\0'; i++)
		if (detail[i] < 0x20 || detail[i] >= 0x7f)
			abort();   /* never a terminal escape */
}

static void nonce(const uint8_t *p, size_t n)
{
	char *m = NULL, *nc = NULL;

	if (tsr_client_parse_nonce(p, n, &m, &nc) == 0) {
		if (m == NULL || nc == NULL || strncmp(m, TSR_CLIENT_TEST_PREFIX,
		    strlen(TSR_CLIENT_TEST_PREFIX)) != 0 ||
		    strcmp(m + strlen(TSR_CLIENT_TEST_PREFIX), nc) != 0)
			abort();
	} else if (m != NULL || nc != NULL) {
		abort();
	}
	free(m);
	free(nc);
}

static void verdict(const uint8_t *p, size_t n)
{
	struct tsr_client_test_result r;

	if (tsr_client_parse_test_result(p, n, &r) == 0 && r.good)
		for (size_t i = 0; i < TSR_ARRAY_LEN(r.checks); i++)
			if (strcmp(r.checks[i].result, "good") != 0)
				abort();   /* "good" only when every check is */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0: certs(data + 1, size - 1); break;
	case 1: csrattrs(data + 1, size - 1); break;
	case 2: problem(data + 1, size - 1); break;
	case 3: nonce(data + 1, size - 1); break;
	default: verdict(data + 1, size - 1); break;
	}
	if (ERR_peek_error() != 0)
		abort();
	tsr_error_clear();
	return 0;
}
