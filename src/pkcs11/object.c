/*
 * object.c - finding objects on a token, reading their attributes, and
 * storing certificates.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
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
	case CKA_CLASS:
		return "CKA_CLASS";
	case CKA_LABEL:
		return "CKA_LABEL";
	case CKA_VALUE:
		return "CKA_VALUE";
	case CKA_APPLICATION:
		return "CKA_APPLICATION";
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

/* Read one attribute of up to max bytes into out (initialized here). */
static int get_attr_max(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    size_t max, struct tsr_buf *out)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	uint8_t *p = NULL;
	CK_RV rv;
	int rc;

	tsr_buf_init(out, max);
	rv = s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv != CKR_OK)
		return attr_error(type, rv);
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return attr_error(type, CKR_ATTRIBUTE_TYPE_INVALID);
	if (a.ulValueLen > max)
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

/* Read one attribute of any length (up to P11_ATTR_MAX) into out. */
int tsr_p11_get_attr(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    struct tsr_buf *out)
{
	return get_attr_max(s, h, type, P11_ATTR_MAX, out);
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

/* The certificate object h as DER: CKA_VALUE must hold one whole X.509
 * certificate; *x (if not NULL) gets it parsed. */
static int cert_value(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, struct tsr_buf *der,
    X509 **x)
{
	const unsigned char *p;
	X509 *c;
	int rc;

	if ((rc = get_attr_max(s, h, CKA_VALUE, CERT_MAX, der)) < 0)
		return rc;
	p = der->data;
	c = der->len > 0 ? d2i_X509(NULL, &p, (long)der->len) : NULL;
	if (c == NULL || p != der->data + der->len) {
		X509_free(c);
		tsr_buf_free(der);
		return tsr_error_openssl(TSR_ERR_PARSE, "a certificate on the token is not one DER "
		    "X.509 certificate");
	}
	if (x != NULL)
		*x = c;
	else
		X509_free(c);
	return 0;
}

/* Of the certificates found, the index of the one with the latest notBefore
 * (the newest) in *best, its DER in best_der. */
static int newest_cert(struct tsr_p11_session *s, const CK_OBJECT_HANDLE *h, CK_ULONG n,
    struct tsr_buf *best_der)
{
	X509 *best = NULL, *x = NULL;
	struct tsr_buf der;
	int rc = 0;

	tsr_buf_init(best_der, CERT_MAX);
	for (CK_ULONG i = 0; i < n && rc == 0; i++) {
		if ((rc = cert_value(s, h[i], &der, &x)) < 0)
			break;
		if (best == NULL || ASN1_TIME_compare(X509_get0_notBefore(x),
		    X509_get0_notBefore(best)) > 0) {
			X509_free(best);
			best = x;
			tsr_buf_free(best_der);
			*best_der = der;
		} else {
			X509_free(x);
			tsr_buf_free(&der);
		}
		x = NULL;
	}
	X509_free(best);
	if (rc < 0)
		tsr_buf_free(best_der);
	return rc;
}

/*
 * Find the X.509 certificate stored with CKA_ID id (by convention, the
 * certificate of the key pair with that id).  *der is a new buffer
 * (free()).  TSR_ERR_NOT_FOUND if there is none; if several carry the id
 * (a certificate stored again by another program), the newest by
 * notBefore.  Certificates are public objects: no login needed.
 */
int tsr_p11_cert_find(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    uint8_t **der, size_t *der_len)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ctype = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE h[16];
	struct tsr_buf b;
	CK_ULONG n;
	int rc;

	*der = NULL;
	*der_len = 0;
	if (s == NULL || id == NULL || id_len == 0 || id_len > 64)
		return tsr_error(TSR_ERR_INVALID, "finding a certificate needs a CKA_ID of 1 to 64 "
		    "bytes");
	if ((rc = tsr_p11_find(s, tmpl, TSR_ARRAY_LEN(tmpl), h, TSR_ARRAY_LEN(h), &n)) < 0)
		return rc;
	if (n == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "no certificate with that id on the token");
	if ((rc = newest_cert(s, h, n, &b)) < 0)
		return rc;
	*der = b.data;   /* the buffer's memory is the caller's now */
	*der_len = b.len;
	return 0;
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

/* ------------------------------------------------------------------ listing */
#define OBJECTS_MAX 1024

static enum tsr_p11_class class_of(CK_OBJECT_CLASS c)
{
	switch (c) {
	case CKO_PRIVATE_KEY: return TSR_P11_PRIVATE_KEY;
	case CKO_PUBLIC_KEY: return TSR_P11_PUBLIC_KEY;
	case CKO_CERTIFICATE: return TSR_P11_CERTIFICATE;
	case CKO_DATA: return TSR_P11_DATA;
	default: return TSR_P11_OTHER;
	}
}

/* A string attribute (label, application) into out, truncated to fit;
 * "" if the object has none. */
static void string_attr(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    char *out, size_t size)
{
	struct tsr_buf b;
	size_t n;

	out[0] = '\0';
	if (get_attr_max(s, h, type, P11_ATTR_MAX, &b) < 0) {
		tsr_buf_free(&b);
		tsr_error_clear();
		return;
	}
	n = b.len < size - 1 ? b.len : size - 1;
	memcpy(out, b.data ? (const char *)b.data : "", n);
	out[n] = '\0';
	tsr_buf_free(&b);
}

/* Which of our key types a key object is (TSR_KEY_NONE for others). */
static enum tsr_key_type key_type_of_object(struct tsr_p11_session *s, CK_OBJECT_HANDLE h)
{
	const enum tsr_key_type ec[] = { TSR_KEY_EC_P256, TSR_KEY_EC_P384 };
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	enum tsr_key_type t = TSR_KEY_NONE;
	struct tsr_buf b;
	BIGNUM *n;
	int bits;

	tsr_buf_init(&b, 0);
	if (s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1) != CKR_OK)
		return TSR_KEY_NONE;
	if (kt == CKK_EC && tsr_p11_get_attr(s, h, CKA_EC_PARAMS, &b) == 0) {
		for (size_t i = 0; i < TSR_ARRAY_LEN(ec); i++) {
			const struct tsr_p11_curve *c = tsr_p11_curve_of_type(ec[i]);

			if (b.len == c->oid_len && memcmp(b.data, c->oid, b.len) == 0)
				t = c->type;
		}
	} else if (kt == CKK_RSA && tsr_p11_get_attr(s, h, CKA_MODULUS, &b) == 0) {
		n = BN_bin2bn(b.data, (int)b.len, NULL);
		bits = n != NULL ? BN_num_bits(n) : 0;
		BN_free(n);
		t = bits == 2048 ? TSR_KEY_RSA_2048 : bits == 3072 ? TSR_KEY_RSA_3072 :
		    bits == 4096 ? TSR_KEY_RSA_4096 : TSR_KEY_NONE;
	}
	tsr_buf_free(&b);
	tsr_error_clear();   /* a key we cannot classify is listed as "other" */
	return t;
}

/* Fill o from the object h: class, label, id, and what its class adds. */
static int object_read(struct tsr_p11_session *s, CK_OBJECT_HANDLE h, struct tsr_p11_object *o)
{
	CK_OBJECT_CLASS cls = CKO_VENDOR_DEFINED;
	CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };
	struct tsr_buf b;
	CK_RV rv;
	int rc;

	memset(o, 0, sizeof(*o));
	rv = s->mod->fn->C_GetAttributeValue(s->h, h, &a, 1);
	if (rv != CKR_OK)
		return attr_error(CKA_CLASS, rv);
	o->cls = class_of(cls);
	string_attr(s, h, CKA_LABEL, o->label, sizeof(o->label));
	if (get_attr_max(s, h, CKA_ID, sizeof(o->id), &b) == 0 && b.len > 0) {
		memcpy(o->id, b.data, b.len);
		o->id_len = b.len;
	}
	tsr_buf_free(&b);
	tsr_error_clear();   /* an object without an id, or a longer one, is listed without */
	switch (o->cls) {
	case TSR_P11_CERTIFICATE:
		if ((rc = cert_value(s, h, &b, NULL)) == 0) {
			o->der = b.data;
			o->der_len = b.len;
		} else {
			tsr_error_clear();   /* not X.509: listed without a value */
		}
		break;
	case TSR_P11_PRIVATE_KEY:
		o->key_type = key_type_of_object(s, h);
		if (tsr_p11_get_bool(s, h, CKA_SENSITIVE, &o->sensitive) != 0 ||
		    tsr_p11_get_bool(s, h, CKA_NEVER_EXTRACTABLE, &o->never_extractable) != 0 ||
		    tsr_p11_get_bool(s, h, CKA_EXTRACTABLE, &o->extractable) != 0)
			tsr_error_clear();
		break;
	case TSR_P11_PUBLIC_KEY:
		o->key_type = key_type_of_object(s, h);
		break;
	case TSR_P11_DATA:
		string_attr(s, h, CKA_APPLICATION, o->application, sizeof(o->application));
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Every object on the token the session can see (private objects only
 * after login), in the token's order: class, label, id, and for a
 * certificate its DER, for a key its type, for a private key its
 * protection flags, for a data object its application.  At most 1024.
 */
int tsr_p11_objects(struct tsr_p11_session *s, struct tsr_p11_object **out, size_t *n)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct tsr_p11_object *objs = NULL;
	CK_ULONG count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "listing objects needs a session");
	if ((h = calloc(OBJECTS_MAX, sizeof(*h))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((rc = tsr_p11_find(s, NULL, 0, h, OBJECTS_MAX, &count)) < 0)
		goto out;
	if ((objs = calloc(count ? count : 1, sizeof(*objs))) == NULL) {
		rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (CK_ULONG i = 0; i < count; i++) {
		if ((rc = object_read(s, h[i], &objs[i])) < 0) {
			tsr_p11_objects_free(objs, i);
			objs = NULL;
			goto out;
		}
	}
	*out = objs;
	*n = count;
out:
	free(h);
	return rc;
}

void tsr_p11_objects_free(struct tsr_p11_object *objs, size_t n)
{
	if (objs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(objs[i].der);
	free(objs);
}

/* The CKA_ID of a key found or generated (*len 0 if it has none). */
const uint8_t *tsr_p11_key_id(const struct tsr_p11_key *k, size_t *len)
{
	*len = k != NULL ? k->id_len : 0;
	return k != NULL ? k->id : NULL;
}

/* ------------------------------------------------------------------ changing objects */
/*
 * Give every object whose CKA_ID is id (a key pair and its certificate)
 * the id new_id (NULL: unchanged) and the label new_label (NULL:
 * unchanged); *changed counts the objects.  Private keys need login.
 */
int tsr_p11_objects_rename(struct tsr_p11_session *s, const uint8_t *id, size_t id_len,
    const uint8_t *new_id, size_t new_id_len, const char *new_label, int *changed)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_ID, (void *)id, id_len } };
	CK_ATTRIBUTE set[2];
	CK_OBJECT_HANDLE found[64];
	CK_ULONG n = 0, nset = 0;
	CK_RV rv;
	int rc;

	*changed = 0;
	if (s == NULL || id == NULL || id_len == 0 || id_len > 64 ||
	    (new_id != NULL && (new_id_len == 0 || new_id_len > 64)) ||
	    (new_id == NULL && new_label == NULL))
		return tsr_error(TSR_ERR_INVALID, "renaming objects needs a CKA_ID of 1 to 64 bytes "
		    "and a new id or label");
	if (new_id != NULL)
		set[nset++] = (CK_ATTRIBUTE){ CKA_ID, (void *)new_id, new_id_len };
	if (new_label != NULL)
		set[nset++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)new_label, strlen(new_label) };
	/* found before any change: a new id would hide the objects from a second search */
	if ((rc = tsr_p11_find(s, tmpl, 1, found, TSR_ARRAY_LEN(found), &n)) < 0)
		return rc;
	for (CK_ULONG i = 0; i < n; i++) {
		rv = s->mod->fn->C_SetAttributeValue(s->h, found[i], set, nset);
		if (rv != CKR_OK)
			return tsr_p11_rv_error("C_SetAttributeValue", rv);
		(*changed)++;
	}
	return 0;
}

/*
 * Destroy the data objects (CKO_DATA) with this application and label;
 * *destroyed counts them.  Public ones need no login.
 */
int tsr_p11_data_destroy(struct tsr_p11_session *s, const char *application, const char *label,
    int *destroyed)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_APPLICATION, (void *)application, application ? strlen(application) : 0 },
		{ CKA_LABEL, (void *)label, label ? strlen(label) : 0 },
	};
	CK_OBJECT_HANDLE found[16];
	CK_ULONG n = 0;
	CK_RV rv;
	int rc;

	*destroyed = 0;
	if (s == NULL || application == NULL || label == NULL)
		return tsr_error(TSR_ERR_INVALID, "destroying data objects needs an application "
		    "and a label");
	do {
		if ((rc = tsr_p11_find(s, tmpl, TSR_ARRAY_LEN(tmpl), found, TSR_ARRAY_LEN(found),
		    &n)) < 0)
			return rc;
		for (CK_ULONG i = 0; i < n; i++) {
			rv = s->mod->fn->C_DestroyObject(s->h, found[i]);
			if (rv != CKR_OK)
				return tsr_p11_rv_error("C_DestroyObject (data)", rv);
			(*destroyed)++;
		}
	} while (n > 0 && *destroyed < 1024);
	return 0;
}
