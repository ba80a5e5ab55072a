/*
 * fuzz_san.c - tsr_san_parse() on arbitrary bytes.  An accepted SAN is
 * canonical: parsing its formatted form again must give the same SAN.
 */
#include <stdlib.h>
#include <string.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_san san = { 0 }, again = { 0 };
	char *s, *text = NULL;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tsr_san_parse(s, &san) == 0) {
		if (tsr_sans_format(&san, 1, &text) != 0 || tsr_san_parse(text, &again) != 0)
			abort();
		if (again.type != san.type || strcmp(again.value, san.value) != 0)
			abort();
	}
	free(text);
	tsr_san_clear(&san);
	tsr_san_clear(&again);
	free(s);
	return 0;
}
