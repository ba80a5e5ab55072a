/*
 * soft_key.h - software keys for the unit tests that sign (soft_key.c).
 */
#ifndef TSR_TEST_SOFT_KEY_H
#define TSR_TEST_SOFT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/base.h"

/* A tsr_sign_fn for a software key (ctx is the EVP_PKEY): EC gets a digest
 * and returns r||s, RSA gets a DigestInfo and returns PKCS#1 v1.5. */
int soft_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen);
/* A new key of type t, or NULL. */
EVP_PKEY *make_key(enum tsr_key_type t);

#endif /* TSR_TEST_SOFT_KEY_H */
