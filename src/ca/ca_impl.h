/*
 * ca_impl.h - what the files of src/ca share and nobody else sees.
 */
#ifndef TSR_CA_IMPL_H
#define TSR_CA_IMPL_H

#include <pthread.h>

#include "ca/ca.h"
#include "pkcs11/p11.h"

#define CA_PIN_MAX 256
/* PKCS#11 sessions of their own for OCSP signatures, so that answering
 * relying parties neither waits for nor holds up issuance (ca->lock), and
 * two signatures can be under way at once. */
#define CA_OCSP_LANES 2

struct ca_lane {
	pthread_mutex_t lock;        /* one signature at a time on this session */
	struct tsr_p11_session *sess;
	struct tsr_p11_key *key;     /* the OCSP key, found in sess */
	struct tsr_signer *signer;
	X509 *cert;                  /* the OCSP certificate the key is for */
};

struct tsr_ca {
	/* Serialises the token: login and signing (a PKCS#11 session serves
	 * one thread at a time).  Never taken while holding a transaction. */
	pthread_mutex_t lock;
	char *home;
	struct tsr_config cfg;
	struct tsr_store *store;
	X509 *root;
	X509 *issuing;
	struct tsr_p11_module *mod;
	struct tsr_p11_session *sess;
	struct tsr_p11_key *issuing_key;
	struct tsr_signer *signer;
	/* Found on first use, after tsr_ca_login(), under lock. */
	struct tsr_p11_key *root_key;
	struct tsr_signer *root_signer;
	struct tsr_p11_key *ocsp_key;
	struct tsr_signer *ocsp_signer;
	X509 *ocsp_cert;             /* the delegated OCSP-signing certificate */
	struct ca_lane lanes[CA_OCSP_LANES];
	unsigned next_lane;
};

/* The root key's signer (checked against the root certificate).  After
 * tsr_ca_login(); the caller holds ca->lock. */
int ca_root_signer(struct tsr_ca *ca, struct tsr_signer **out) TSR_MUST_CHECK;
/* The current OCSP-signing key's signer and certificate (store meta
 * ocsp_serial and ocsp_key_id), both borrowed until the next rotation.
 * After tsr_ca_login(); the caller holds ca->lock. */
int ca_ocsp_signer(struct tsr_ca *ca, struct tsr_signer **signer, X509 **cert) TSR_MUST_CHECK;
/* Forget the OCSP key and certificate (after a rotation); ca->lock held. */
void ca_ocsp_forget(struct tsr_ca *ca);
/* A lane for one OCSP signature, locked, with the current OCSP key and
 * certificate (found again after a rotation).  After tsr_ca_login(); the
 * caller holds no lock.  Give it back with ca_ocsp_lane_put(). */
int ca_ocsp_lane_get(struct tsr_ca *ca, struct ca_lane **out) TSR_MUST_CHECK;
void ca_ocsp_lane_put(struct ca_lane *lane);

/* Read a PIN file: the first line, without its newline; wiped on free. */
int ca_read_pin(const char *path, char **out) TSR_MUST_CHECK;

/* Check a token URI for the config: it parses, and it carries no PIN
 * (pin-value, pin-source), since the URI is written to tessera.conf and
 * to the audit log.  PINs come from the pin file. */
int ca_check_token_uri(const char *uri) TSR_MUST_CHECK;

/* Load module (after pointing SoftHSM at softhsm_conf, if given), open the
 * token named by token_uri and log in with pin. */
int ca_token_open(const char *module, const char *softhsm_conf, const char *token_uri,
    const char *pin, struct tsr_p11_module **mod, struct tsr_p11_session **sess) TSR_MUST_CHECK;

/* TSR_ERR_PKCS11 unless the token reports key as sensitive, always
 * sensitive, not extractable, never extractable, private and a token object. */
int ca_check_key_protected(struct tsr_p11_key *key, const char *label) TSR_MUST_CHECK;

/* A signer whose signatures are made by key on its token. */
int ca_signer_for(struct tsr_p11_key *key, struct tsr_signer **out) TSR_MUST_CHECK;

/* One certificate through the whole pipeline. */
struct ca_job {
	struct tsr_cert_template t;   /* serial is chosen inside */
	struct tsr_signer *signer;    /* the issuer's key */
	const char *issuer_label;     /* "root" or "issuing" */
	const char *role;             /* "ca", "ocsp" or "subscriber" */
	const char *actor;
	/* Optional: runs inside the transaction once the certificate is
	 * stored, so that the caller's rows commit or roll back with it. */
	int (*in_transaction)(struct tsr_store *st, const struct tsr_cert_record *rec, void *ctx);
	void *ctx;
};

/* The serial of x as the store writes it: lower-case hex of its octets
 * ("" if it has none or more than 20). */
void ca_serial_hex(const X509 *x, char out[TSR_SERIAL_HEX_MAX + 1]);

/* Reserve a serial, build, lint, sign in the token, verify, store and
 * audit, in one transaction; on failure nothing is left in the store.
 * The caller audits a failure.  *cert and *rec are the caller's. */
int ca_make_cert(struct tsr_store *st, struct ca_job *job, X509 **cert,
    struct tsr_cert_record *rec) TSR_MUST_CHECK;

/* PEM of one certificate appended to out. */
int ca_pem(X509 *x, struct tsr_buf *out) TSR_MUST_CHECK;

#endif /* TSR_CA_IMPL_H */
