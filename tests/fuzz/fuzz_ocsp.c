/* fuzz_ocsp.c - (being written) */
#include <stddef.h>
#include <stdint.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsr_ocsp_request req;

	(void)tsr_ocsp_request_parse(data, size, &req);
	return 0;
}
