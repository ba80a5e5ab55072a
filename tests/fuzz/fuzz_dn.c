/*
 * fuzz_dn.c - tsr_name_parse() on arbitrary bytes.  A name it accepts must
 * format, and the formatted string must parse back to the same DER: a
 * round trip that changes the name is a bug, so it aborts.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_der_or_abort(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_NAME(a, &da), lb = i2d_X509_NAME(b, &db);

	if (la <= 0 || la != lb || memcmp(da, db, (size_t)la) != 0)
		abort();
	OPENSSL_free(da);
	OPENSSL_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_NAME *name = NULL, *again = NULL;
	char *s, *text = NULL, *text2 = NULL;

	/* The parser takes a C string; stop at the first NUL as a caller would. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tsr_name_parse(s, &name) == 0) {
		if (tsr_name_format(name, &text) != 0 || tsr_name_parse(text, &again) != 0)
			abort();
		same_der_or_abort(name, again);
		/* Formatting is canonical: the second round gives the same text. */
		if (tsr_name_format(again, &text2) != 0 || strcmp(text, text2) != 0)
			abort();
	}
	free(text);
	free(text2);
	X509_NAME_free(name);
	X509_NAME_free(again);
	free(s);
	ERR_clear_error();
	return 0;
}
