/*
 * fuzz_config.c - tessera.conf as a whole: INI, the [ca] section and every
 * product section.  Rejection is the expected outcome for garbage; a crash,
 * a leak or an accepted config that violates the rules is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_config c;

	if (tsr_config_parse((const char *)data, size, "/nonexistent-home", &c) != 0)
		return 0;
	/* Whatever was accepted must honour the fixed rules. */
	if (c.ca.ocsp_validity_days < 1 || c.ca.ocsp_validity_days > 120)
		__builtin_trap();
	for (size_t i = 0; i < c.products.n; i++) {
		const struct tsr_product *p = &c.products.items[i];

		if (p->validity_days < 1 || p->validity_days > p->max_validity_days ||
		    p->max_validity_days > 1095 || p->n_eku == 0 || p->n_policies == 0)
			__builtin_trap();
	}
	tsr_config_free(&c);
	return 0;
}
