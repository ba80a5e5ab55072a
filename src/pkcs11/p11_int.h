/*
 * p11_int.h - what the files of the pkcs11 module share with each other and
 * with nobody else: the structures behind p11.h's opaque types and a few
 * helpers around the Cryptoki calls.
 */
#ifndef TSR_P11_INT_H
#define TSR_P11_INT_H

#include <p11-kit/pkcs11.h>

#include "pkcs11/p11.h"

/* Attribute values we read are small; this caps what a module can make us allocate. */
#define P11_ATTR_MAX 16384

struct tsr_p11_module {
	void *dl;
	CK_FUNCTION_LIST *fn;
	char *path;
};

struct tsr_p11_session {
	struct tsr_p11_module *mod;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE h;
};

struct tsr_p11_key {
	struct tsr_p11_session *s;
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub;   /* CK_INVALID_HANDLE if the token has no public half */
	enum tsr_key_type type;
	uint8_t id[64];
	size_t id_len;
};

/* An EC curve we generate keys on. */
struct tsr_p11_curve {
	enum tsr_key_type type;
	const uint8_t *oid;   /* DER, as CKA_EC_PARAMS holds it */
	size_t oid_len;
	const char *group;    /* OpenSSL's name */
	size_t field_bytes;
};

/* key.c */
/* The curve of an EC key type, or NULL for other types. */
const struct tsr_p11_curve *tsr_p11_curve_of_type(enum tsr_key_type type);

/* rv.c */
const char *tsr_p11_rv_name(CK_RV rv, char buf[32]);
int tsr_p11_rv_error(const char *fn, CK_RV rv);

/* object.c */
/* Find up to max objects matching tmpl; *count says how many were found. */
int tsr_p11_find(struct tsr_p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count) TSR_MUST_CHECK;
/* Read one attribute of any length (up to P11_ATTR_MAX) into out (initialized here). */
int tsr_p11_get_attr(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    struct tsr_buf *out) TSR_MUST_CHECK;
/* Read one CK_BBOOL attribute. */
int tsr_p11_get_bool(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    bool *out) TSR_MUST_CHECK;

#endif /* TSR_P11_INT_H */
