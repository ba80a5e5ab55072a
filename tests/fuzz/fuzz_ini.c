/*
 * fuzz_ini.c - the config file parser and, when a file parses, the product
 * loader that reads it.  Refusal is the expected outcome for most inputs;
 * what must never happen is a crash, a leak or an undefined operation.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_ini ini;
	struct tsr_products products;

	if (tsr_ini_parse((const char *)data, size, &ini) != 0)
		return 0;
	if (tsr_products_load(&ini, &products) == 0)
		tsr_products_free(&products);
	tsr_ini_free(&ini);
	return 0;
}
