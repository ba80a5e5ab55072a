/*
 * x509.h - what a certificate may contain and how it is made: names,
 * subject alternative names, CSRs, products, certificate construction,
 * pre-issuance lint and the signer interface.
 *
 * Nothing here knows where keys live: a signer is a public key plus a
 * function that makes a raw signature (see tsr_sign_fn).
 */
#ifndef TSR_X509_H
#define TSR_X509_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/base.h"

/* ------------------------------------------------------------------ names
 * Distinguished names in the RFC 4514 string form, "CN=Jane Doe,O=Acme,C=US"
 * (most specific first).  Supported attribute types: CN, O, OU, L, ST, C,
 * street, postalCode, serialNumber, emailAddress, GN (givenName), SN
 * (surname), title, DC, UID, pseudonym.  Escapes: \, \+ \" \\ \< \> \; \=
 * \# \<space> and \XX hex pairs (UTF-8).  Refused: unknown types, empty
 * values, multi-valued RDNs ("+"), values over the RFC 5280 upper bound
 * (counted in characters), C that is not two letters, invalid UTF-8,
 * control and bidirectional-control characters (even escaped), OID types
 * ("2.5.4.3=") and #hex values, strings over 4096 bytes.  Types are
 * case-insensitive; spaces after a ',' are skipped ("CN=Jane, O=Acme"),
 * spaces around '=' refused; C is upper-cased ("c=us" gives "US").
 * Encodings: C and serialNumber PrintableString, emailAddress and DC
 * IA5String, the rest UTF8String.
 */
#define TSR_DN_MAX 4096

int tsr_name_parse(const char *s, X509_NAME **out) TSR_MUST_CHECK;
/* RFC 4514 string of a name (most specific first), new string (free()). */
int tsr_name_format(const X509_NAME *name, char **out) TSR_MUST_CHECK;
/* The short name of an attribute NID as tsr_name_parse() accepts it
 * ("CN", "serialNumber"), or NULL if it is not one we support. */
const char *tsr_name_attr_name(int nid);
/* The NID of a short name above, or NID_undef. */
int tsr_name_attr_nid(const char *name);

/* ------------------------------------------------------------------ SANs */
enum tsr_san_type { TSR_SAN_DNS, TSR_SAN_EMAIL, TSR_SAN_IP, TSR_SAN_URI };
#define TSR_SAN_TYPE_COUNT 4
#define TSR_SAN_MAX 100       /* at most this many SANs in one certificate */

struct tsr_san {
	enum tsr_san_type type;
	char *value;              /* canonical text (DNS lower-case, IP normalised) */
};

/* Parse "dns:host.example", "email:user@example.com", "ip:192.0.2.1" or
 * "ip:2001:db8::1", "uri:https://example.com/x".  DNS names: LDH labels,
 * 1..63 bytes each, 253 in all, at least two labels, no wildcards, no
 * trailing dot.  Emails: one @, a valid local part (RFC 5321 dot-atom, ASCII)
 * and a DNS domain.  URIs: a scheme and no spaces or control characters.
 * The type is case-insensitive; over 1024 bytes is TSR_ERR_TOO_LARGE. */
int tsr_san_parse(const char *s, struct tsr_san *out) TSR_MUST_CHECK;
void tsr_san_clear(struct tsr_san *san);
/* "dns", "email", "ip", "uri". */
const char *tsr_san_type_name(enum tsr_san_type t);
/* "dns:a.example, email:x@y.example", new string (free()). */
int tsr_sans_format(const struct tsr_san *sans, size_t n, char **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ keys
 * Classify a public key as one of the key types Tessera allows: RSA with a
 * modulus of 2048, 3072 or 4096 bits and an odd public exponent >= 65537;
 * EC on P-256 or P-384 with a valid point.  Anything else is TSR_ERR_KEY
 * with a detail naming what was found ("RSA key of 1024 bits is too small",
 * "EC curve secp256k1 is not allowed", "Ed25519 keys are not allowed"). */
int tsr_pubkey_classify(EVP_PKEY *pk, enum tsr_key_type *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ CSRs */
#define TSR_CSR_MAX 65536

/* Parse a PKCS#10 request from PEM ("CERTIFICATE REQUEST" or "NEW
 * CERTIFICATE REQUEST", exactly one block, nothing but whitespace around
 * it) or DER (every byte consumed).  Checks the version is v1 and the
 * self-signature verifies (proof of possession).  The CSR's subject,
 * attributes and requested extensions are never used. */
int tsr_csr_parse(const uint8_t *p, size_t n, X509_REQ **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ products
 * A product is a certificate profile plus an enrollment policy, defined in
 * a [product NAME] section of the config file.  See docs/products.md.
 */
enum tsr_product_class {
	TSR_CLASS_SIGNING,        /* keyUsage digitalSignature + nonRepudiation */
	TSR_CLASS_AUTHENTICATION, /* keyUsage digitalSignature */
};

enum tsr_storage {
	TSR_STORAGE_HARDWARE,     /* key generated on a hardware token */
	TSR_STORAGE_SOFTWARE,     /* key may be in software */
	TSR_STORAGE_EITHER,       /* the applicant chooses */
};

struct tsr_product {
	char *name;               /* section name, e.g. "epcs" */
	char *title;              /* one line for people */
	char *description;        /* may be "" */
	enum tsr_product_class class_;
	char **eku;               /* dotted OIDs, at least one, never anyEKU */
	size_t n_eku;
	char **policies;          /* dotted certificate-policy OIDs, at least one */
	size_t n_policies;
	int validity_days;
	int max_validity_days;    /* the hard cap implied by the EKUs */
	unsigned key_types;       /* bit (1u << enum tsr_key_type) per allowed type */
	char **subject_required;  /* attribute short names (see names) */
	size_t n_subject_required;
	char **subject_allowed;   /* includes the required ones */
	size_t n_subject_allowed;
	unsigned san_allowed;     /* bit (1u << enum tsr_san_type) per allowed type */
	bool san_required;        /* at least one SAN must be given */
	enum tsr_storage storage;
	int ra_approvals;         /* 1 or 2 distinct officers */
	char *payment;            /* "free", "voucher" or "invoice" */
	char **applicant_fields;  /* "name", "address", "date_of_birth", "email", "npi", "dea", ... */
	size_t n_applicant_fields;
};

struct tsr_products {
	struct tsr_product *items;
	size_t n;
};

struct tsr_ini;

/* Build every product from the "product NAME" sections of a parsed config.
 * Strict: unknown keys, missing keys, bad values, a validity over the cap,
 * anyEKU, a signing product without nonRepudiation semantics, zero
 * products... are TSR_ERR_CONFIG with a detail "line N: ...". */
int tsr_products_load(const struct tsr_ini *ini, struct tsr_products *out) TSR_MUST_CHECK;
void tsr_products_free(struct tsr_products *p);
const struct tsr_product *tsr_product_find(const struct tsr_products *p, const char *name);
/* The keyUsage bits (KU_DIGITAL_SIGNATURE | ...) of a product's class. */
unsigned tsr_product_key_usage(const struct tsr_product *p);
/* Short names: "signing"/"authentication", "hardware"/"software"/"either". */
const char *tsr_product_class_name(enum tsr_product_class c);
const char *tsr_storage_name(enum tsr_storage s);
/* TSR_ERR_KEY unless the product allows key type t. */
int tsr_product_check_key(const struct tsr_product *p, enum tsr_key_type t) TSR_MUST_CHECK;
/* TSR_ERR_POLICY unless subject and SANs satisfy the product: every
 * required attribute present, none outside the allowed set, no attribute
 * twice, SAN types allowed, a SAN present where required, and for a
 * serverAuth product every CN equal to one of the DNS/IP SANs. */
int tsr_product_check_subject(const struct tsr_product *p, const X509_NAME *subject,
    const struct tsr_san *sans, size_t n_sans) TSR_MUST_CHECK;
/* Append the commented default product sections to out; policy OIDs are
 * placed under policy_arc (e.g. "2.25.123..."), one per product. */
int tsr_products_default_config(const char *policy_arc, struct tsr_buf *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ signer */
/* Make a raw signature: EC keys get a digest and return r||s; RSA keys get a
 * DER DigestInfo and return the PKCS#1 v1.5 signature.  *outlen holds the
 * size of out on entry. */
typedef int (*tsr_sign_fn)(void *ctx, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t *outlen);

struct tsr_signer;

/* A signer for the key whose public half is pub (a reference is taken). */
int tsr_signer_new(EVP_PKEY *pub, tsr_sign_fn fn, void *ctx, struct tsr_signer **out) TSR_MUST_CHECK;
void tsr_signer_free(struct tsr_signer *s);
enum tsr_key_type tsr_signer_key_type(const struct tsr_signer *s);
/* The digest paired with the key: SHA-256 for P-256 and RSA-2048/3072,
 * SHA-384 for P-384 and RSA-4096. */
const EVP_MD *tsr_signer_md(const struct tsr_signer *s);
/* An EVP_PKEY whose private-key operations call the signer (borrowed; lives
 * as long as the signer).  Used with X509_sign(), X509_CRL_sign(), ... */
EVP_PKEY *tsr_signer_pkey(struct tsr_signer *s);

/* ------------------------------------------------------------------ certificates */
enum tsr_cert_kind {
	TSR_CERT_ROOT,            /* self-signed root CA */
	TSR_CERT_ISSUING,         /* subordinate CA, pathLen 0 */
	TSR_CERT_OCSP,            /* delegated OCSP responder */
	TSR_CERT_SUBSCRIBER,      /* end entity, shaped by a product */
};

/* Everything a certificate is made of, already validated by the caller. */
struct tsr_cert_template {
	enum tsr_cert_kind kind;
	const struct tsr_product *product;  /* TSR_CERT_SUBSCRIBER only */
	const X509_NAME *subject;
	const struct tsr_san *sans;
	size_t n_sans;
	EVP_PKEY *pubkey;                   /* the subject's public key */
	uint8_t serial[20];                 /* big-endian, positive */
	size_t serial_len;
	time_t not_before;
	time_t not_after;
	const X509 *issuer;                 /* NULL for a root */
	const char *ocsp_url;               /* AIA OCSP; NULL to omit */
	const char *ca_issuers_url;         /* AIA caIssuers; NULL to omit */
	const char *crl_url;                /* CRL distribution point; NULL to omit */
	const char *const *ca_policies;     /* CA certs: policy OIDs (NULL: anyPolicy) */
	size_t n_ca_policies;
};

/* Make a fresh random serial: 16 CSPRNG bytes, positive, non-zero. */
int tsr_serial_random(uint8_t serial[20], size_t *len) TSR_MUST_CHECK;

/* Build the to-be-signed certificate from the template, with the signature
 * algorithm of signer already in place, so that tsr_lint_cert() sees
 * exactly the TBS bytes that tsr_cert_sign() will sign. */
int tsr_cert_build(const struct tsr_cert_template *t, const struct tsr_signer *signer,
    X509 **out) TSR_MUST_CHECK;

/* Sign cert in the signer's token, then check that the TBS bytes are those
 * that were linted (tbs_der) and that the signature verifies with the
 * issuer's public key (issuer NULL: the cert's own key). */
int tsr_cert_sign(X509 *cert, struct tsr_signer *signer, const X509 *issuer,
    const uint8_t *tbs_der, size_t tbs_len) TSR_MUST_CHECK;

struct tsr_lint_findings;

/* Build, lint and sign: the one way the CA makes a certificate, so that
 * nothing is signed that did not pass lint (issuer is t->issuer; now is the
 * time lint judges by).  On a lint failure, findings (if not NULL) lists
 * every finding. */
int tsr_cert_make(const struct tsr_cert_template *t, struct tsr_signer *signer, time_t now,
    struct tsr_lint_findings *findings, X509 **out) TSR_MUST_CHECK;

/* DER of the TBSCertificate (new buffer, OPENSSL_free()). */
int tsr_cert_tbs_der(X509 *cert, uint8_t **out, size_t *len) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ lint
 * Checks a certificate against RFC 5280 and, for subscriber certificates,
 * its product, before it is signed.  The certificate is re-parsed from its
 * DER first, so lint sees what relying parties will see.
 */
#define TSR_LINT_MAX_FINDINGS 32

struct tsr_lint_findings {
	size_t n;
	char msg[TSR_LINT_MAX_FINDINGS][160];
};

/* 0 if clean; TSR_ERR_LINT if any finding (all are listed in out, the first
 * is also the error detail).  issuer is NULL for a self-signed root; product
 * is required for TSR_CERT_SUBSCRIBER and ignored otherwise. */
int tsr_lint_cert(X509 *cert, enum tsr_cert_kind kind, const X509 *issuer,
    const struct tsr_product *product, time_t now, struct tsr_lint_findings *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ document signatures
 * CMS SignedData (RFC 5652) over a document, attached or detached, with
 * one signer and the signed attributes content-type (id-data),
 * message-digest, signing-time and signing-certificate-v2 (RFC 5035: the
 * SHA-256 hash of the signer's certificate).  See docs/sign.md.
 */
#define TSR_CMS_CONTENT_MAX (64u << 20)                 /* signed document: 64 MiB */
#define TSR_CMS_MAX (TSR_CMS_CONTENT_MAX + (1u << 20))  /* a .p7s: content + 1 MiB */
#define TSR_CMS_CERTS_MAX 16          /* certificates carried in one signature */
#define TSR_CMS_FUTURE_SKEW 300       /* a signing time this far ahead is still "now" */

/* Sign data (len bytes, at most TSR_CMS_CONTENT_MAX) with signer, whose
 * public key must be cert's, using tsr_signer_md(signer).  cert must be
 * valid at now (the signing time written), and its keyUsage must allow
 * digitalSignature.  chain (may be NULL) lists CA certificates to carry
 * beside cert.  detached leaves the content out.  The result is checked
 * with cert's public key before it is returned.  *out is DER (new buffer,
 * OPENSSL_free()). */
int tsr_cms_sign(struct tsr_signer *signer, X509 *cert, STACK_OF(X509) *chain,
    const uint8_t *data, size_t len, bool detached, time_t now,
    uint8_t **out, size_t *out_len) TSR_MUST_CHECK;

/* What tsr_cms_verify() checks, in the order it reports them. */
enum tsr_cms_check {
	TSR_CMS_CHECK_STRUCTURE,     /* strict DER, one signer, the four attributes */
	TSR_CMS_CHECK_SIGNER_CERT,   /* the signer's certificate is included, ESS hash matches */
	TSR_CMS_CHECK_DIGEST,        /* message-digest equals the content's digest */
	TSR_CMS_CHECK_SIGNATURE,     /* the signature over the signed attributes */
	TSR_CMS_CHECK_CHAIN,         /* the certificate chains to a trusted root */
	TSR_CMS_CHECK_VALIDITY,      /* every certificate valid at the signing time */
	TSR_CMS_CHECK_KEY_USAGE,     /* digitalSignature; an EKU for signing documents */
	TSR_CMS_CHECK_STATUS,        /* revocation: not checked yet */
};
#define TSR_CMS_CHECK_COUNT 8

enum tsr_cms_result {
	TSR_CMS_NOT_RUN = 0,   /* an earlier failure left nothing to check */
	TSR_CMS_GOOD,
	TSR_CMS_BAD,
	TSR_CMS_NOT_CHECKED,   /* no way to check yet (revocation status) */
};

#define TSR_CMS_REASON_MAX 320

struct tsr_cms_report {
	enum tsr_cms_result result[TSR_CMS_CHECK_COUNT];
	char reason[TSR_CMS_CHECK_COUNT][TSR_CMS_REASON_MAX];
	X509 *signer;              /* the signer's certificate, or NULL (owned) */
	char *subject, *issuer;    /* RFC 4514, or NULL */
	char serial[41];           /* hex, "" if unknown */
	bool has_signing_time;
	time_t signing_time;       /* the signer's claim (no timestamp authority) */
	bool detached;
	size_t content_len;
	const char *digest;        /* "SHA-256", "SHA-384", "SHA-512" or NULL */
	size_t chain_len;          /* certificates in the verified chain, root included */
	bool valid_now;            /* every chain certificate valid at the time of checking */
	char valid_now_reason[TSR_CMS_REASON_MAX];
	bool non_repudiation;      /* keyUsage nonRepudiation (reported, not required) */
};

/* Short names: "structure", "signer-certificate", "content-digest",
 * "signature", "chain", "validity", "key-usage", "status"; and "good",
 * "bad", "not checked", "not run". */
const char *tsr_cms_check_name(enum tsr_cms_check c);
const char *tsr_cms_result_name(enum tsr_cms_result r);

/* Verify a DER SignedData (at most TSR_CMS_MAX bytes).  content (NULL if
 * none) is the signed document of a detached signature; an attached one
 * carries its own and refuses a second.  roots are the trust anchors;
 * untrusted (may be NULL) are intermediate certificates besides those the
 * signature carries.  now is the time "valid now" is judged at.  Every check
 * that can run is reported in *rep (cleared first; free it with
 * tsr_cms_report_clear()).  Returns 0 if every check is good (status may be
 * "not checked"); TSR_ERR_PARSE or TSR_ERR_TOO_LARGE if the structure is
 * refused, TSR_ERR_INVALID for content given twice or missing,
 * TSR_ERR_SIGNATURE if any other check is bad; the detail names the first
 * bad check. */
int tsr_cms_verify(const uint8_t *p7s, size_t len, const uint8_t *content, size_t content_len,
    STACK_OF(X509) *roots, STACK_OF(X509) *untrusted, time_t now,
    struct tsr_cms_report *rep) TSR_MUST_CHECK;
void tsr_cms_report_clear(struct tsr_cms_report *rep);

#endif /* TSR_X509_H */
