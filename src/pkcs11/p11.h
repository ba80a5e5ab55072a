/*
 * p11.h - PKCS#11 tokens: the CA's HSM and, later, the subscriber's token.
 *
 * Tessera talks to the module directly through the standard Cryptoki API
 * (header from p11-kit; the module is dlopen()ed).  Keys are generated on
 * the token as sensitive and non-extractable; the only operation on a
 * private key is a raw signature (CKM_ECDSA over a digest, or CKM_RSA_PKCS
 * over a DigestInfo), so the hashing and the encoding stay in one place.
 */
#ifndef TSR_P11_H
#define TSR_P11_H

#include <openssl/evp.h>

#include "base/base.h"

/* A PKCS#11 URI (RFC 7512).  Unset strings are NULL; id_len 0 means no id. */
struct tsr_p11_uri {
	/* path attributes that select a token */
	char *token;          /* CKA label of the token ("token=") */
	char *manufacturer;
	char *model;
	char *serial;
	long slot_id;         /* -1 if not given */
	/* path attributes that select an object */
	char *object;         /* CKA_LABEL */
	uint8_t id[64];       /* CKA_ID */
	size_t id_len;
	char *type;           /* "private", "public", "cert", ... */
	/* query attributes */
	char *module_path;
	char *pin_source;     /* a file path (file: URIs are reduced to the path) */
	char *pin_value;      /* wiped on free */
};

/* Parse an RFC 7512 URI ("pkcs11:token=Tessera%20CA;object=root?pin-source=..").
 * Percent-decodes values, refuses unknown path attributes, duplicate
 * attributes, bad escapes, values with NUL, and URIs over 4096 bytes. */
int tsr_p11_uri_parse(const char *s, struct tsr_p11_uri *out) TSR_MUST_CHECK;
void tsr_p11_uri_free(struct tsr_p11_uri *uri);
/* Format "pkcs11:token=<label>" with percent-encoding, into a new string. */
int tsr_p11_uri_for_token(const char *label, char **out) TSR_MUST_CHECK;

struct tsr_p11_module;   /* a loaded and initialized module */
struct tsr_p11_session;  /* a read-write session on one token */
struct tsr_p11_key;      /* a private key (and its public half) on a token */

/* dlopen() a module and C_Initialize it. */
int tsr_p11_module_load(const char *path, struct tsr_p11_module **out) TSR_MUST_CHECK;
/* C_Finalize and dlclose.  All sessions must be closed first.  NULL is fine. */
void tsr_p11_module_unload(struct tsr_p11_module *mod);

/* Initialize the first token that is present but not initialized (SoftHSM's
 * free slot) with label, SO PIN and user PIN.  TSR_ERR_EXISTS if a token
 * with that label is already initialized (tokens are found by label). */
int tsr_p11_token_init(struct tsr_p11_module *mod, const char *label,
    const char *so_pin, const char *user_pin) TSR_MUST_CHECK;

/* Open a read-write session on the one token that matches uri's token
 * attributes (token, manufacturer, model, serial, slot-id); TSR_ERR_NOT_FOUND
 * if none does, TSR_ERR_INVALID if several do. */
int tsr_p11_open(struct tsr_p11_module *mod, const struct tsr_p11_uri *uri,
    struct tsr_p11_session **out) TSR_MUST_CHECK;
void tsr_p11_close(struct tsr_p11_session *s);

/* Log in as the user.  TSR_ERR_PIN on a wrong PIN (detail says how) or a
 * locked PIN; already logged in is success. */
int tsr_p11_login(struct tsr_p11_session *s, const char *pin) TSR_MUST_CHECK;

/* Change the user PIN from old_pin to new_pin (C_SetPIN; no login
 * needed).  TSR_ERR_PIN if old_pin is wrong or the PIN is locked, or the
 * token refuses new_pin (its length or characters): the detail says which. */
int tsr_p11_set_pin(struct tsr_p11_session *s, const char *old_pin, const char *new_pin)
    TSR_MUST_CHECK;

struct tsr_p11_token_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	bool initialized;
	bool user_pin_initialized;
	bool user_pin_to_be_changed;   /* CKF_USER_PIN_TO_BE_CHANGED */
	bool user_pin_locked;
	unsigned long free_public_memory;   /* ~0UL if unavailable */
	unsigned long free_private_memory;  /* ~0UL if unavailable */
	unsigned long min_pin_len, max_pin_len;
	bool protected_auth_path;      /* a PIN pad: the PIN is entered on the reader */
	bool user_pin_count_low, user_pin_final_try;
};
int tsr_p11_token_info(struct tsr_p11_session *s, struct tsr_p11_token_info *out) TSR_MUST_CHECK;

/* Generate a key pair on the token: private key CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, !CKA_EXTRACTABLE, CKA_SIGN only; public key CKA_VERIFY.
 * Both halves get label and id.  TSR_ERR_EXISTS if a private key with that
 * id is already there.  Requires login. */
int tsr_p11_keygen(struct tsr_p11_session *s, enum tsr_key_type type,
    const char *label, const uint8_t *id, size_t id_len,
    struct tsr_p11_key **out) TSR_MUST_CHECK;

/* Find the private key with this label (NULL: any label) and id (if
 * id_len > 0); at least one of the two must be given. */
int tsr_p11_key_find(struct tsr_p11_session *s, const char *label,
    const uint8_t *id, size_t id_len, struct tsr_p11_key **out) TSR_MUST_CHECK;
void tsr_p11_key_free(struct tsr_p11_key *k);

enum tsr_key_type tsr_p11_key_type(const struct tsr_p11_key *k);
/* The key's CKA_ID (borrowed; *len 0 if it has none). */
const uint8_t *tsr_p11_key_id(const struct tsr_p11_key *k, size_t *len);
/* The public key as an OpenSSL object (new reference; EVP_PKEY_free it). */
int tsr_p11_key_public(const struct tsr_p11_key *k, EVP_PKEY **out) TSR_MUST_CHECK;

struct tsr_p11_key_attrs {
	bool sensitive, always_sensitive, extractable, never_extractable, private_, token;
};
int tsr_p11_key_attrs(const struct tsr_p11_key *k, struct tsr_p11_key_attrs *out) TSR_MUST_CHECK;

/* Raw signature with the private key.  EC: in is a digest, out is r||s
 * (2 * field bytes).  RSA: in is a DER DigestInfo, out is the PKCS#1 v1.5
 * signature (modulus bytes).  *outlen holds out's size on entry. */
int tsr_p11_key_sign(struct tsr_p11_key *k, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t *outlen) TSR_MUST_CHECK;

/* Destroy both halves of a key (used to undo a failed init). */
int tsr_p11_key_destroy(struct tsr_p11_key *k) TSR_MUST_CHECK;

/* Destroy every object (keys, certificates) whose CKA_ID is id; *destroyed
 * counts them.  Used to undo a failed init on an external token. */
int tsr_p11_destroy_by_id(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    int *destroyed) TSR_MUST_CHECK;

/* Store a DER certificate on the token as a CKO_CERTIFICATE with label/id. */
int tsr_p11_cert_store(struct tsr_p11_session *s, const char *label,
    const uint8_t *id, size_t id_len, const uint8_t *der, size_t der_len) TSR_MUST_CHECK;

/* The DER certificate stored with CKA_ID id (1..64 bytes), in a new buffer
 * (free()).  TSR_ERR_NOT_FOUND if there is none; of several, the newest by
 * notBefore.  Certificates are public objects: no login needed. */
int tsr_p11_cert_find(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    uint8_t **der, size_t *der_len) TSR_MUST_CHECK;

/* An object on a token, as tsr_p11_objects() lists it. */
enum tsr_p11_class {
	TSR_P11_OTHER, TSR_P11_DATA, TSR_P11_CERTIFICATE, TSR_P11_PUBLIC_KEY, TSR_P11_PRIVATE_KEY
};
struct tsr_p11_object {
	enum tsr_p11_class cls;
	char label[129];               /* CKA_LABEL ("" if none; truncated) */
	uint8_t id[64];                /* CKA_ID (id_len 0 if none or longer) */
	size_t id_len;
	uint8_t *der;                  /* certificates: the X.509 DER (NULL if not X.509) */
	size_t der_len;
	enum tsr_key_type key_type;    /* keys: one of ours, else TSR_KEY_NONE */
	bool sensitive, extractable, never_extractable;   /* private keys */
	char application[65];          /* data objects: CKA_APPLICATION */
};

/* Every object the session sees (private ones only after login), at most
 * 1024; free with tsr_p11_objects_free(). */
int tsr_p11_objects(struct tsr_p11_session *s, struct tsr_p11_object **out, size_t *n)
    TSR_MUST_CHECK;
void tsr_p11_objects_free(struct tsr_p11_object *objs, size_t n);

/* Set CKA_ID to new_id (NULL: keep) and CKA_LABEL to new_label (NULL: keep)
 * on every object whose CKA_ID is id; *changed counts them.  A token may
 * refuse (CKA_ID fixed by the card): TSR_ERR_PKCS11. */
int tsr_p11_objects_rename(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    const uint8_t *new_id, size_t new_id_len, const char *new_label, int *changed)
    TSR_MUST_CHECK;

/* Destroy the data objects with this CKA_APPLICATION and CKA_LABEL;
 * *destroyed counts them. */
int tsr_p11_data_destroy(struct tsr_p11_session *s, const char *application, const char *label,
    int *destroyed) TSR_MUST_CHECK;

#endif /* TSR_P11_H */
