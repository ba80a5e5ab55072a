/*
 * secret.h - the RA's secrets and identifier checks (NIST SP 800-63B):
 *
 *   secret.c    passwords (rules + common-password list), Argon2id hashing of
 *               passwords and secret answers, answer normalisation;
 *   code.c      verification and activation codes: CSPRNG, Crockford base32
 *               with a check symbol, keyed hashes (HMAC-SHA-256), the key file;
 *   validate.c  applicant fields: NPI, DEA number, email, date of birth,
 *               postal address.
 *
 * Every fallible function returns 0 or a negative TSR_ERR_* code and sets a
 * one-line detail (tsr_error_detail()) that can be shown to the applicant: it
 * names the rule, never the secret.  docs/secrets.md explains the choices.
 */
#ifndef TSR_RA_SECRET_H
#define TSR_RA_SECRET_H

#include <sodium.h>

#include "base/base.h"

/* ------------------------------------------------------------------ passwords
 * SP 800-63B 5.1.1.2: at least 8 characters, at least 64 accepted, no
 * composition rules, refuse known, repetitive or context-specific choices.
 */
#define TSR_PASSWORD_MIN_CHARS 8          /* Unicode code points */
#define TSR_SECRET_MAX_BYTES 256          /* bounds the Argon2 input */
#define TSR_PASSWORD_LIST_MAX (4u << 20)  /* size cap of the list file */
#define TSR_CONTEXT_WORD_MIN 4            /* shorter context words are ignored */

/* A loaded list of common/breached passwords (lower-case, sorted). */
struct tsr_password_list;

/* Load the list at path: one password per line, '#' starts a comment line,
 * blank lines ignored, entries folded to ASCII lower case.  Files over
 * TSR_PASSWORD_LIST_MAX are TSR_ERR_TOO_LARGE, NUL bytes TSR_ERR_PARSE.
 * *out is the caller's (tsr_password_list_free()). */
int tsr_password_list_load(const char *path, struct tsr_password_list **out) TSR_MUST_CHECK;
/* The same from text in memory (len bytes, need not be NUL-terminated). */
int tsr_password_list_parse(const char *text, size_t len,
    struct tsr_password_list **out) TSR_MUST_CHECK;
void tsr_password_list_free(struct tsr_password_list *list);
/* Number of entries (duplicates included). */
size_t tsr_password_list_count(const struct tsr_password_list *list);
/* The list shipped with Tessera (data/common-passwords.txt), compiled into
 * the binary so that every build checks against the same list wherever it
 * runs.  An operator's larger list can be loaded with
 * tsr_password_list_load(). */
int tsr_password_list_builtin(struct tsr_password_list **out) TSR_MUST_CHECK;

/* Check a new password pw against SP 800-63B.  context holds n_context words
 * tied to this account (the applicant's name, email local part, "tessera");
 * each is split at ASCII punctuation and spaces, and a password containing
 * a piece of at least TSR_CONTEXT_WORD_MIN characters (case-insensitive) is
 * refused.  list is required.  Every refusal is TSR_ERR_POLICY with a
 * sentence ("the password is on a list of common passwords"); NULL pw or
 * list is TSR_ERR_INVALID.  pw is not copied anywhere that outlives the call. */
int tsr_password_check(const struct tsr_password_list *list, const char *pw,
    const char *const *context, size_t n_context) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ hashing
 * Passwords and normalised secret answers are stored only as Argon2id
 * strings ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash", salt per call).
 */
#define TSR_SECRET_HASH_BYTES crypto_pwhash_STRBYTES   /* incl. the NUL */

/* fast = true selects Argon2id's minimum cost so that unit tests stay fast;
 * false (the default) is libsodium's INTERACTIVE cost (64 MiB, 2 passes).
 * Production code never calls this.  Not thread-safe: call before threads. */
void tsr_secret_set_cost(bool fast);
/* Hash secret (1..TSR_SECRET_MAX_BYTES bytes) into out, a NUL-terminated
 * Argon2id string.  TSR_ERR_INVALID for an empty or oversized secret,
 * TSR_ERR_NOMEM if Argon2 cannot get its memory. */
int tsr_secret_hash(const char *secret, char out[TSR_SECRET_HASH_BYTES]) TSR_MUST_CHECK;
/* 0 if secret matches hash; TSR_ERR_SIGNATURE ("does not match") if not;
 * TSR_ERR_PARSE if hash is not an Argon2id string. */
int tsr_secret_verify(const char *hash, const char *secret) TSR_MUST_CHECK;
/* True if hash was made with other parameters than the current cost, so
 * the caller should rehash the secret after a successful verify. */
bool tsr_secret_needs_rehash(const char *hash);

/* Normalise a secret answer as it is hashed and compared: ASCII letters
 * folded to lower case, runs of ASCII whitespace collapsed to one space,
 * leading and trailing whitespace removed.  Non-ASCII text is kept as typed
 * (no Unicode case folding or NFC: out of scope).  Refused (TSR_ERR_POLICY):
 * invalid UTF-8, control characters, input over 1024 bytes, a result that is
 * empty or over TSR_SECRET_MAX_BYTES.  *out is the caller's: free it with
 * tsr_free_secret(). */
int tsr_answer_normalise(const char *in, char **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ codes
 * Codes shown to humans: Crockford base32 symbols (0-9 A-Z without I L O U,
 * 5 bits each, from the CSPRNG) and a final Crockford check symbol (value mod
 * 37, alphabet extended with * ~ $ = U), in groups of four joined by '-':
 *   verification (35 bits):  "7K3M-Q9XN"
 *   activation (115 bits):   "XXXX-XXXX-XXXX-XXXX-XXXX-XXXC"
 */
#define TSR_CODE_VERIFICATION_BITS 35
#define TSR_CODE_ACTIVATION_BITS 115  /* SP 800-63B / the issue: at least 112 */
#define TSR_CODE_MIN_BITS 20          /* SP 800-63B: 6 decimal digits ~ 20 bits */
#define TSR_CODE_MAX_BITS 320
#define TSR_CODE_KEY_BYTES 32
#define TSR_CODE_HASH_HEX 65          /* 64 hex digits and the NUL */

/* Length of the canonical form of a bits-bit code, including the NUL. */
size_t tsr_code_len(size_t bits);
/* A new random code of at least bits bits (rounded up to whole symbols) into
 * out (outlen >= tsr_code_len(bits)).  TSR_ERR_INVALID if bits is outside
 * TSR_CODE_MIN_BITS..TSR_CODE_MAX_BITS or out is too small. */
int tsr_code_new(size_t bits, char *out, size_t outlen) TSR_MUST_CHECK;
/* Turn what a human typed into the canonical form: case-insensitive,
 * hyphens and whitespace ignored, O read as 0, I and L as 1.  TSR_ERR_PARSE
 * ("the code has a typo") if the check symbol does not match, or a character
 * codes never use; TSR_ERR_INVALID if out is too small. */
int tsr_code_normalise(const char *typed, char *out, size_t outlen) TSR_MUST_CHECK;
/* What a code is for.  The purpose is hashed with the code, so one key
 * serves every kind while a code of one kind never matches another's hash. */
#define TSR_CODE_VOUCHER "voucher"
#define TSR_CODE_VERIFICATION "verification"
#define TSR_CODE_ACTIVATION "activation"

/* HMAC-SHA-256 under key of purpose, a NUL byte and the canonical code, as
 * lower-case hex in out_hex.  TSR_ERR_INVALID if canonical is not in
 * canonical form or purpose is empty or longer than 32 bytes. */
int tsr_code_hash(const uint8_t key[TSR_CODE_KEY_BYTES], const char *purpose,
    const char *canonical, char out_hex[TSR_CODE_HASH_HEX]) TSR_MUST_CHECK;
/* Constant-time comparison of two hashes from tsr_code_hash(); false if
 * either is not 64 characters long. */
bool tsr_code_equal(const char *hex_a, const char *hex_b);
/* Load the 32-byte code key from path, or create it (random, mode 0600,
 * O_EXCL) if path does not exist.  TSR_ERR_CONFIG if the file is not a
 * regular file of 32 bytes, is not owned by this user, or group or others
 * have any access to it. */
int tsr_code_key_load_or_create(const char *path, uint8_t key[TSR_CODE_KEY_BYTES]) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ validators
 * Applicant fields.  0 if valid, else TSR_ERR_INVALID with a sentence naming
 * the field and the problem ("the NPI's check digit is wrong").
 */
/* US National Provider Identifier: 10 digits, Luhn check digit over the
 * prefix 80840 and the first 9 digits (CMS). */
int tsr_npi_check(const char *s) TSR_MUST_CHECK;
/* DEA registration number: a registrant-type letter (A-H, J-M, P, R-U, X),
 * the initial of last_name (or 9), 7 digits of which the last is the check
 * digit ((d1+d3+d5) + 2(d2+d4+d6)) mod 10.  Capital letters only.  The
 * initial is compared when last_name starts with an ASCII letter. */
int tsr_dea_check(const char *s, const char *last_name) TSR_MUST_CHECK;
/* An email address as certificates accept it (tsr_san_parse "email:"). */
int tsr_email_check(const char *s) TSR_MUST_CHECK;
/* "YYYY-MM-DD": a calendar date, not after now (UTC), age 16 to 130. */
int tsr_date_of_birth_check(const char *yyyy_mm_dd, time_t now) TSR_MUST_CHECK;
/* Non-blank, at most 300 characters of printable UTF-8, at most 6 lines
 * (LF or CRLF; one trailing line break allowed). */
int tsr_postal_address_check(const char *s) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ UTF-8
 * Shared by the files above (a candidate for base/).  Decode the code point
 * at s[*i] (n bytes in all) into *cp and advance *i; -1 for invalid UTF-8
 * (overlong forms, surrogates, > U+10FFFF, truncated sequences). */
int tsr_utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp);
/* True for C0 and C1 control characters and DEL. */
bool tsr_utf8_is_control(uint32_t cp);

#endif /* TSR_RA_SECRET_H */
