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
	TSR_CMS_CHECK_STATUS,        /* revocation: tsr_cms_report_status() records it */
};
#define TSR_CMS_CHECK_COUNT 8

enum tsr_cms_result {
	TSR_CMS_NOT_RUN = 0,   /* an earlier failure left nothing to check */
	TSR_CMS_GOOD,
	TSR_CMS_BAD,
	TSR_CMS_NOT_CHECKED,   /* not asked (revocation status: tsr_cms_verify never asks) */
	TSR_CMS_UNKNOWN,       /* asked, and no source could answer (revocation status) */
};

#define TSR_CMS_REASON_MAX 512

/* The signer certificate's revocation status as a relying party learnt it
 * (src/client/status.c asks the OCSP responder, then the CRL, that the
 * certificate names). */
enum tsr_revocation {
	TSR_REVOCATION_UNKNOWN = 0,   /* no source gave a usable answer */
	TSR_REVOCATION_GOOD,          /* not revoked */
	TSR_REVOCATION_REVOKED,       /* revoked, or on hold (certificateHold) */
};

struct tsr_cms_status {
	enum tsr_revocation state;
	time_t revoked_at;            /* REVOKED: the revocation time */
	int reason;                   /* REVOKED: RFC 5280 CRLReason, or CRL_REASON_NONE (-1) */
	time_t invalidity_date;       /* REVOKED: since when the key is in doubt; 0: not given */
	char source[320];             /* GOOD, REVOKED: "OCSP <url>" or "CRL <url>" */
	char detail[TSR_CMS_REASON_MAX];  /* what the source said (its times), and why each
	                                   * source asked before gave no answer */
};

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
	STACK_OF(X509) *chain;     /* the verified chain, signer first, root last (owned);
	                            * NULL unless the chain check is good */
	bool status_recorded;      /* tsr_cms_report_status() filled status */
	struct tsr_cms_status status;
};

/* Short names: "structure", "signer-certificate", "content-digest",
 * "signature", "chain", "validity", "key-usage", "status"; and "good",
 * "bad", "not checked", "not run", "unknown". */
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

/*
 * Judge the signature of rep (a tsr_cms_verify() report whose chain is
 * good) by the revocation status st of its signer's certificate, and record
 * the verdict as the status check (and st as rep->status).  The rule
 * (docs/sign.md): good is good; unknown is TSR_CMS_UNKNOWN.  A certificate
 * revoked or put on hold at T makes the signature bad if its claimed
 * signing time is at or after T, or at or after the invalidity date, or if
 * the reason puts the key in doubt (keyCompromise, cACompromise,
 * aACompromise, unspecified, no reason); otherwise (affiliationChanged,
 * superseded, cessationOfOperation, privilegeWithdrawn, certificateHold)
 * it is good, with a note that the certificate was revoked later.  Returns
 * 0 for good, TSR_ERR_SIGNATURE for bad, TSR_ERR_IO for unknown, with the
 * detail "status: <reason>"; the other checks' results are left as they are.
 */
int tsr_cms_report_status(struct tsr_cms_report *rep, const struct tsr_cms_status *st);
/* The RFC 5280 name of a CRLReason code ("keyCompromise"), "no reason" for
 * CRL_REASON_NONE, "an unrecognised reason" for any other number. */
const char *tsr_cms_reason_name(int reason);

/* ------------------------------------------------------------------ CRLs
 * A v2 CRL (RFC 5280 section 5) written as a stream (crl.c): entries go to
 * a temporary file beside path as they are added (their total length comes
 * first in the DER, so nothing can be hashed before the last one);
 * tsr_crl_finish() hashes the TBSCertList from that file, signs the digest
 * once, then writes the final file while hashing the TBS again, checks the
 * signature against that second digest (what was checked is what was
 * written) and renames it into place (0644), so a CRL of a million entries
 * is never held in memory.  The CRL carries the extensions
 * authorityKeyIdentifier (the issuer's subjectKeyIdentifier) and cRLNumber;
 * an entry carries reasonCode (left out for "unspecified", as RFC 5280 and
 * the Baseline Requirements ask) and invalidityDate when known.  Times
 * before 2050 are UTCTime, later ones GeneralizedTime.  The signature
 * algorithm is the signer's (tsr_signer_md()).
 */
struct tsr_crl_params {
	X509 *issuer;                 /* the CA's certificate: issuer name, SKI */
	struct tsr_signer *signer;    /* the CA's key (its public half must be issuer's) */
	time_t this_update;
	time_t next_update;           /* after this_update */
	uint64_t number;              /* cRLNumber */
};

struct tsr_crl_writer;

/* Start a CRL that will be written to path. */
int tsr_crl_begin(const struct tsr_crl_params *p, const char *path,
    struct tsr_crl_writer **out) TSR_MUST_CHECK;
/* Add one entry: serial (hex, as the store keeps it), revocation time,
 * reason (an RFC 5280 CRLReason name other than removeFromCRL; NULL or
 * "unspecified" for none) and invalidity date (0 for none).
 * TSR_ERR_INVALID for a bad serial or reason; the writer stays usable. */
int tsr_crl_add(struct tsr_crl_writer *w, const char *serial, time_t revoked_at,
    const char *reason, time_t invalidity_date) TSR_MUST_CHECK;
/* Sign, check the signature with the issuer's public key, write and
 * rename into place; *entries (may be NULL) gets the count.  w is freed
 * whatever the result; on failure nothing is left at path or beside it. */
int tsr_crl_finish(struct tsr_crl_writer *w, size_t *entries) TSR_MUST_CHECK;
/* Give up: remove the temporary files, free w (NULL is fine). */
void tsr_crl_abort(struct tsr_crl_writer *w);

/* ------------------------------------------------------------------ OCSP
 * RFC 6960 with the RFC 5019 profile (ocsp.c): what the responder parses
 * and signs.  Deciding a status is the CA's (src/ca/ocsp.c).
 */
#define TSR_OCSP_REQUEST_MAX 4096     /* bytes of DER in one request */
#define TSR_OCSP_MAX_IDS 8            /* certificates asked about in one request */
#define TSR_OCSP_NONCE_MAX 32         /* RFC 8954: nonces of 1..32 bytes are echoed */
#define TSR_OCSP_NONCE_REFUSE 128     /* RFC 8954: longer ones are malformedRequest */
#define TSR_OCSP_HASH_MAX 64          /* SHA-512 */

/* The unsigned answers (OCSPResponseStatus). */
enum tsr_ocsp_error {
	TSR_OCSP_MALFORMED = 1,       /* malformedRequest */
	TSR_OCSP_INTERNAL = 2,        /* internalError */
	TSR_OCSP_TRY_LATER = 3,       /* tryLater */
	TSR_OCSP_UNAUTHORIZED = 6,    /* unauthorized: not a CA this responder serves */
};

/* One CertID of a request. */
struct tsr_ocsp_certid {
	int hash_nid;                 /* NID_sha1, NID_sha256, NID_sha384 or NID_sha512 */
	uint8_t name_hash[TSR_OCSP_HASH_MAX];
	uint8_t key_hash[TSR_OCSP_HASH_MAX];
	size_t hash_len;              /* the digest's length; both hashes have it */
	/* The serial as the store keeps it: lower-case hex of the value's
	 * octets without leading zero octets ("0a", "80"), or "" when no
	 * certificate can have it (negative, zero, or longer than 20 octets):
	 * such a serial is answered "unknown". */
	char serial[41];
	uint8_t der[256];             /* the CertID as sent, echoed in the response */
	size_t der_len;
};

struct tsr_ocsp_request {
	struct tsr_ocsp_certid ids[TSR_OCSP_MAX_IDS];
	size_t n_ids;                 /* 1..TSR_OCSP_MAX_IDS */
	bool has_nonce;               /* a nonce of 1..32 bytes to echo */
	uint8_t nonce[TSR_OCSP_NONCE_MAX];
	size_t nonce_len;
};

/*
 * Parse a DER OCSPRequest of at most TSR_OCSP_REQUEST_MAX bytes.  Refused
 * (answer malformedRequest): not DER or trailing bytes (TSR_ERR_PARSE),
 * too long (TSR_ERR_TOO_LARGE), a version other than v1, no request or
 * more than TSR_OCSP_MAX_IDS, a hash algorithm other than the four above
 * or hashes of the wrong length, a CertID longer than der[], a critical
 * extension we do not know (request or single request), a nonce of 0 or
 * more than TSR_OCSP_NONCE_REFUSE bytes or not an OCTET STRING, two nonces
 * (TSR_ERR_INVALID).  A nonce of 33..128 bytes is accepted but not echoed
 * (has_nonce false).  A request signature and requestorName, if any, must
 * be DER of the right shape and are otherwise ignored.  A critical
 * acceptable-responses extension is accepted when it lists
 * id-pkix-ocsp-basic; DEFAULT values written out (explicit v1, critical
 * FALSE) are tolerated, as OpenSSL tolerates them.
 */
int tsr_ocsp_request_parse(const uint8_t *der, size_t len, struct tsr_ocsp_request *out)
    TSR_MUST_CHECK;

/* The hashes of one CA, to recognise CertIDs that name it. */
struct tsr_ocsp_issuer {
	int nids[4];
	uint8_t name_hash[4][TSR_OCSP_HASH_MAX];
	uint8_t key_hash[4][TSR_OCSP_HASH_MAX];
};
int tsr_ocsp_issuer_init(const X509 *ca, struct tsr_ocsp_issuer *out) TSR_MUST_CHECK;
/* True if id's issuer name and key hashes are ca's (constant time is not needed: public). */
bool tsr_ocsp_issuer_match(const struct tsr_ocsp_issuer *ca, const struct tsr_ocsp_certid *id);

enum tsr_ocsp_status { TSR_OCSP_GOOD, TSR_OCSP_REVOKED, TSR_OCSP_UNKNOWN };

/* One SingleResponse. */
struct tsr_ocsp_single {
	const struct tsr_ocsp_certid *id;
	enum tsr_ocsp_status status;
	time_t revoked_at;            /* REVOKED: the revocation time */
	const char *reason;           /* REVOKED: RFC 5280 name; NULL or "unspecified": none */
	time_t this_update, next_update;
};

/*
 * Sign a successful response: a BasicOCSPResponse with responderID byKey
 * (the SHA-1 of responder's public key), producedAt = produced_at, the n
 * single responses in order, the nonce extension when nonce is not NULL,
 * and responder (the delegated OCSP-signing certificate) in certs; the
 * signature by signer (whose public key must be responder's) with
 * tsr_signer_md().  *out is DER (OPENSSL_free()).  TSR_ERR_INVALID for n of
 * 0 or more than TSR_OCSP_MAX_IDS, a nextUpdate not after thisUpdate, a
 * revoked status without a time, an unknown reason, a nonce of other than
 * 1..TSR_OCSP_NONCE_MAX bytes.
 */
int tsr_ocsp_response_sign(struct tsr_signer *signer, X509 *responder,
    const struct tsr_ocsp_single *s, size_t n, const uint8_t *nonce, size_t nonce_len,
    time_t produced_at, uint8_t **out, size_t *out_len) TSR_MUST_CHECK;
/* The DER of an unsigned error response (OCSPResponse with only the
 * status): a static buffer of *len bytes. */
const uint8_t *tsr_ocsp_response_error(enum tsr_ocsp_error e, size_t *len);

#endif /* TSR_X509_H */
