/*
 * fuzz_validate.c - the RA's checks of applicant input on arbitrary bytes:
 * NPI, DEA (the text after the first newline is the last name), email,
 * date of birth, postal address, code normalisation, password rules (a tiny
 * in-memory list, and the input itself parsed as a list), answer
 * normalisation.  Refusal is the normal outcome; what must hold:
 *   - a normalised code is canonical: normalising it again changes nothing
 *     and it can be hashed;
 *   - a normalised answer is a fixed point of normalisation.
 */
#include <stdlib.h>
#include <string.h>

#include "ra/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tiny_list[] = "password1\nletmein99\nhunter22\n";
static struct tsr_password_list *list;

static void fuzz_code(const char *s)
{
	static const uint8_t key[TSR_CODE_KEY_BYTES];
	char out[128], again[128], hex[TSR_CODE_HASH_HEX];

	if (tsr_code_normalise(s, out, sizeof(out)) != 0)
		return;
	if (tsr_code_normalise(out, again, sizeof(again)) != 0 || strcmp(out, again) != 0)
		abort();
	if (tsr_code_hash(key, TSR_CODE_VERIFICATION, out, hex) != 0 || !tsr_code_equal(hex, hex))
		abort();
}

static void fuzz_answer(const char *s)
{
	char *out = NULL, *again = NULL;

	if (tsr_answer_normalise(s, &out) == 0) {
		if (tsr_answer_normalise(out, &again) != 0 || strcmp(out, again) != 0)
			abort();
	}
	tsr_free_secret(out);
	tsr_free_secret(again);
}

static void fuzz_passwords(const uint8_t *data, size_t size, const char *s)
{
	const char *const context[] = { "jane.doe", "Jane Doe", "tessera", s };
	struct tsr_password_list *own = NULL;

	(void)!tsr_password_check(list, s, context, 3);
	if (tsr_password_list_parse((const char *)data, size, &own) == 0) {
		(void)!tsr_password_check(own, "correct horse battery", context, 4);
		(void)!tsr_password_check(own, s, NULL, 0);
	}
	tsr_password_list_free(own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;

	if (list == NULL && tsr_password_list_parse(tiny_list, strlen(tiny_list), &list) != 0)
		abort();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)!tsr_npi_check(s);
	(void)!tsr_email_check(s);
	(void)!tsr_date_of_birth_check(s, 1781524800);
	(void)!tsr_postal_address_check(s);
	fuzz_code(s);
	fuzz_answer(s);
	fuzz_passwords(data, size, s);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		(void)!tsr_dea_check(s, nl + 1);
	} else {
		(void)!tsr_dea_check(s, NULL);
	}
	free(s);
	return 0;
}
