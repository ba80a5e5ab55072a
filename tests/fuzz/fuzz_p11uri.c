/*
 * fuzz_p11uri.c - the PKCS#11 URI parser, and the round trip of a parsed
 * token label through tsr_p11_uri_for_token().  Refusal is the expected
 * outcome for most inputs; a crash, a leak, an undefined operation or a
 * label that does not survive the round trip is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/p11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formatting a label and parsing it again must give the label back. */
static void round_trip(const char *label)
{
	struct tsr_p11_uri again;
	char *s;

	if (tsr_p11_uri_for_token(label, &s) != 0)
		return;   /* too long once encoded */
	if (tsr_p11_uri_parse(s, &again) != 0 || strcmp(again.token, label) != 0)
		abort();
	tsr_p11_uri_free(&again);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_p11_uri uri;
	char *s;

	/* the parser takes a C string: bytes after a NUL are never seen */
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tsr_p11_uri_parse(s, &uri) == 0) {
		if (uri.token != NULL)
			round_trip(uri.token);
		tsr_p11_uri_free(&uri);
	}
	free(s);
	return 0;
}
