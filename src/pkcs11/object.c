/*
 * object.c - finding objects on a token, reading their attributes, and
 * storing certificates.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "pkcs11/p11_int.h"

#define CERT_MAX 65536

/* Names for the attributes we read, so that errors say which one failed. */
static const char *attr_name(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_ID:
		return "CKA_ID";
	case CKA_KEY_TYPE:
		return "CKA_KEY_TYPE";
	case CKA_EC_PARAMS:
		return "CKA_EC_PARAMS";
	case CKA_EC_POINT:
		return "CKA_EC_POINT";
	case CKA_MODULUS:
		return "CKA_MODULUS";
	case CKA_PUBLIC_EXPONENT:
		return "CKA_PUBLIC_EXPONENT";
	case CKA_SENSITIVE:
		return "CKA_SENSITIVE";
	case CKA_ALWAYS_SENSITIVE:
		return "CKA_ALWAYS_SENSITIVE";
	case CKA_EXTRACTABLE:
		return "CKA_EXTRACTABLE";
	case CKA_NEVER_EXTRACTABLE:
		return "CKA_NEVER_EXTRACTABLE";
	case CKA_PRIVATE:
		return "CKA_PRIVATE";
	case CKA_TOKEN:
		return "CKA_TOKEN";
	default:
		return "attribute";
	}
}

static int attr_error(CK_ATTRIBUTE_TYPE type, CK_RV rv)
{
	char name[32];

	return tsr_error(TSR_ERR_PKCS11, "C_GetAttributeValue(%s): %s", attr_name(type),
	    tsr_p11_rv_name(rv, name));
}

/* Find up to max objects matching tmpl; *count says how many were found. */
int tsr_p11_find(struct tsr_p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count)
{
	CK_FUNCTION_LIST *fn = s->mod->fn;
	CK_RV rv, rv_final;

	*count = 0;
	rv = fn->C_FindObjectsInit(s->h, tmpl, n);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_FindObjectsInit", rv);
	rv = fn->C_FindObjects(s->h, out, max, count);
	/* always end the search, or the session refuses the next one */
	rv_final = fn->C_FindObjectsFinal(s->h);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_FindObjects", rv);
	if (rv_final != CKR_OK)
		return tsr_p11_rv_error("C_FindObjectsFinal", rv_final);
	if (*count > max)
		return tsr_error(TSR_ERR_PKCS11, "C_FindObjects returned more than asked for");
	return 0;
}

/* Read one attribute of any length (up to P11_ATTR_MAX) into out. */
int tsr_p11_get_attr(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    struct tsr_buf *out)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	uint8_t *p = NULL;
	CK_RV rv;
	int rc;

	tsr_buf_init(out, P11_ATTR_MAX);
	rv = s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv != CKR_OK)
		return attr_error(type, rv);
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return attr_error(type, CKR_ATTRIBUTE_TYPE_INVALID);
	if (a.ulValueLen > P11_ATTR_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "%s is %lu bytes long", attr_name(type),
		    a.ulValueLen);
	p = malloc(a.ulValueLen ? a.ulValueLen : 1);
	if (p == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	a.pValue = p;
	rv = s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv != CKR_OK)
		rc = attr_error(type, rv);
	else
		rc = tsr_buf_append(out, p, a.ulValueLen);
	free(p);
	return rc;
}

/* Read one CK_BBOOL attribute. */
int tsr_p11_get_bool(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    bool *out)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };
	CK_RV rv;

	rv = s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv != CKR_OK)
		return attr_error(type, rv);
	if (a.ulValueLen != sizeof(v))
		return tsr_error(TSR_ERR_PKCS11, "%s is not a CK_BBOOL", attr_name(type));
	*out = v != CK_FALSE;
	return 0;
}

/* The DER encodings of a certificate's subject, issuer and serial number. */
struct cert_fields {
	unsigned char *subject, *issuer, *serial;
	int subject_len, issuer_len, serial_len;
};

static int cert_fields(const uint8_t *der, size_t der_len, struct cert_fields *f)
{
	const unsigned char *p = der;
	X509 *x;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	x = d2i_X509(NULL, &p, (long)der_len);
	if (x == NULL || p != der + der_len) {
		rc = tsr_error_openssl(TSR_ERR_PARSE, "certificate to store is not one DER "
		    "certificate");
		goto out;
	}
	f->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &f->subject);
	f->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &f->issuer);
	f->serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &f->serial);
	if (f->subject_len <= 0 || f->issuer_len <= 0 || f->serial_len <= 0)
		rc = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the certificate's names");
out:
	X509_free(x);
	return rc;
}

static void cert_fields_free(struct cert_fields *f)
{
	OPENSSL_free(f->subject);
	OPENSSL_free(f->issuer);
	OPENSSL_free(f->serial);
}

/* Create the certificate object from its parts. */
static int create_cert(struct tsr_p11_session *s, const char *label, const uint8_t *id,
    size_t id_len, const uint8_t *der, size_t der_len, const struct cert_fields *f)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ctype = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE h;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_SUBJECT, f->subject, (CK_ULONG)f->subject_len },
		{ CKA_ISSUER, f->issuer, (CK_ULONG)f->issuer_len },
		{ CKA_SERIAL_NUMBER, f->serial, (CK_ULONG)f->serial_len },
		{ CKA_VALUE, (void *)der, der_len },
		{ CKA_ID, (void *)id, id_len },   /* last, so that it can be left out */
	};
	CK_RV rv;

	rv = s->mod->fn->C_CreateObject(s->h, tmpl, TSR_ARRAY_LEN(tmpl) - (id_len == 0 ? 1 : 0),
	    &h);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_CreateObject (certificate)", rv);
	return 0;
}

/*
 * Store a DER certificate as a public token object with label and id (the
 * id of the key it belongs to, by convention; id_len 0 leaves it out).
 * Subject, issuer and serial number are filled in from the certificate, as
 * other PKCS#11 software searches by them.
 */
int tsr_p11_cert_store(struct tsr_p11_session *s, const char *label, const uint8_t *id,
    size_t id_len, const uint8_t *der, size_t der_len)
{
	struct cert_fields f;
	int rc;

	if (s == NULL || label == NULL || der == NULL || (id == NULL && id_len > 0))
		return tsr_error(TSR_ERR_INVALID,
		    "certificate store needs a label and a certificate");
	if (id_len > 64)
		return tsr_error(TSR_ERR_INVALID, "CKA_ID longer than 64 bytes");
	if (der_len == 0 || der_len > CERT_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "certificate must be 1 to %d bytes", CERT_MAX);
	rc = cert_fields(der, der_len, &f);
	if (rc == 0)
		rc = create_cert(s, label, id, id_len, der, der_len, &f);
	cert_fields_free(&f);
	return rc;
}

/*
 * Destroy every object with this CKA_ID: a key pair and the certificates
 * stored beside it.  Used to undo an init that failed after it had created
 * objects on an external token.  *destroyed says how many went.
 */
int tsr_p11_destroy_by_id(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    int *destroyed)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_ID, (void *)id, id_len } };
	CK_OBJECT_HANDLE found[16];
	CK_ULONG n = 0;
	CK_RV rv;
	int rc;

	*destroyed = 0;
	if (s == NULL || id == NULL || id_len == 0 || id_len > 64)
		return tsr_error(TSR_ERR_INVALID, "destroying objects needs a CKA_ID of 1 to 64 bytes");
	/* Search again after each batch: destroying invalidates nothing we
	 * still hold, and a token may return fewer objects than exist. */
	do {
		if ((rc = tsr_p11_find(s, tmpl, 1, found, TSR_ARRAY_LEN(found), &n)) != 0)
			return rc;
		for (CK_ULONG i = 0; i < n; i++) {
			rv = s->mod->fn->C_DestroyObject(s->h, found[i]);
			if (rv != CKR_OK)
				return tsr_p11_rv_error("C_DestroyObject", rv);
			(*destroyed)++;
		}
	} while (n > 0 && *destroyed < 1024);
	return 0;
}
