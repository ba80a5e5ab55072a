/*
 * ca.h - a CA home: its configuration, store, token and keys, and the
 * operations an administrator runs on it (init, issue).
 *
 * Layout of a home (see docs/operations.md):
 *   tessera.conf       the configuration, one section per product
 *   tessera.db         the SQLite store (0600)
 *   token.pin          the token's user PIN (0600), unless given otherwise
 *   softhsm2.conf, tokens/   the built-in SoftHSM2 token (when no HSM given)
 *   certs/root.pem, certs/issuing.pem, certs/ocsp.pem, certs/chain.pem
 */
#ifndef TSR_CA_H
#define TSR_CA_H

#include <openssl/x509.h>

#include "base/base.h"
#include "store/store.h"
#include "x509/x509.h"

/* Longest public_url: the URLs built from it must fit in certificates. */
#define TSR_PUBLIC_URL_MAX 200

/* The [ca] section of tessera.conf. */
struct tsr_ca_config {
	char *organization;
	char *country;            /* "" if none */
	enum tsr_key_type key_type;
	char *pkcs11_module;
	char *token_uri;          /* RFC 7512 */
	char *pin_file;           /* absolute */
	char *softhsm_conf;       /* absolute, or NULL for an external HSM */
	char *database;           /* absolute path of the SQLite file */
	char *public_url;         /* base of the OCSP, CRL and caIssuers URLs */
	char *policy_arc;         /* the CA's own OID arc */
	int ocsp_validity_days;   /* delegated OCSP certificate, <= 120 */
	int crl_hours;            /* the issuing CA's CRL: nextUpdate - thisUpdate
	                           * (1..240, default 24) */
	int root_crl_days;        /* the root's CRL (1..365, default 30) */
	int ocsp_response_hours;  /* an OCSP response's validity (8..240, default 24) */
	char *server_names;       /* names of `tessera serve`'s certificate */
};

/* The [ra] section: the enrollment workflow's deadlines and limits. */
struct tsr_ra_config {
	int email_days;           /* verify the email within (1..365, default 30) */
	int verification_hours;   /* a verification code's life (1..720, default 24) */
	int activation_days;      /* an activation code's life (1..365, default 30) */
	int max_failures;         /* wrong passwords/answers/codes before the lock
	                           * (1..100, default 5) */
	char *agreement_version;  /* current subscriber agreement ("2026-11") */
	char *password_list;      /* absolute path, or NULL: the built-in list */
	int officer_idle_minutes;    /* session idle limit (1..720, default 30) */
	int officer_session_hours;   /* absolute session limit (1..24, default 12) */
	int applicant_idle_minutes;  /* (1..720, default 30) */
	char *web_url;            /* the pages' base URL, for links in mail (no trailing '/';
	                           * default https://localhost:8443) */
	char *agreement_file;     /* absolute path of the agreement's text (default
	                           * HOME/agreement.txt; read at each request) */
};

/* The [mail] section (docs/mail.md); paths absolute, NULL when unset. */
struct tsr_mail_settings {
	char *outbox;             /* default HOME/outbox */
	char *passcode_outbox;    /* second channel, never relayed: HOME/passcodes */
	char *from;               /* default "noreply@tessera.invalid" */
	char *smtp_url;
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_ca_file;
	bool smtp_starttls_required;  /* smtp_starttls = required (default) | no */
	int timeout_seconds;      /* 0: the mail module's default */
};

/* A [verifier PRODUCT] section: an external identity check called when an
 * application of that product reaches review (docs/ra.md). */
struct tsr_verifier_config {
	char *product;            /* the section's name: an existing product */
	char *url;                /* https://..., or http:// to a loopback address */
	char *ca_file;            /* PEM trust anchors, or NULL: the system's */
	char *token_file;         /* bearer token sent to it (0600), or NULL */
	int timeout_seconds;      /* 1..60, default 10 */
};

struct tsr_config {
	struct tsr_ca_config ca;
	struct tsr_products products;
	struct tsr_ra_config ra;
	struct tsr_mail_settings mail;
	struct tsr_verifier_config *verifiers;
	size_t n_verifiers;
	char *home;               /* absolute */
	char *path;
};

/* The verifier configured for product, or NULL. */
const struct tsr_verifier_config *tsr_config_verifier(const struct tsr_config *c,
    const char *product);

/* Read and validate home/tessera.conf (relative paths are made absolute). */
int tsr_config_load(const char *home, struct tsr_config *out) TSR_MUST_CHECK;
/* Is this database setting a PostgreSQL URI (postgresql:// or postgres://)?
 * (tsr_store_uri_check() says whether it may stand in a file or on a
 * command line.) */
bool tsr_database_is_uri(const char *v);
/* Validate config text (for the fuzz harness; home is for relative paths). */
int tsr_config_parse(const char *text, size_t len, const char *home,
    struct tsr_config *out) TSR_MUST_CHECK;
void tsr_config_free(struct tsr_config *c);

struct tsr_init_options {
	const char *home;
	const char *organization;     /* default "Tessera Demo" */
	const char *country;          /* NULL or two letters */
	enum tsr_key_type key_type;   /* default TSR_KEY_EC_P384 */
	const char *module_path;      /* NULL: built-in SoftHSM2 token */
	const char *token_uri;        /* with module_path */
	const char *pin_file;         /* with module_path: file holding the user PIN */
	const char *public_url;       /* default "http://localhost:8080" */
	int root_days;                /* default 20 years */
	int issuing_days;             /* default 10 years (3650), at most 3653 */
	int ocsp_days;                /* default 90 */
	const char *softhsm_module;   /* default: the Debian path */
	const char *database;         /* NULL: SQLite, HOME/tessera.db; else a
	                               * PostgreSQL URI of an empty database */
};

void tsr_init_options_default(struct tsr_init_options *o);

/* Create a new CA home.  Refuses an existing non-empty home (and records
 * the refusal in its audit log if it is a Tessera home).  On any failure
 * nothing is left behind: the home is built in a staging directory and
 * renamed into place at the end; keys made on an external HSM are destroyed. */
int tsr_ca_init(const struct tsr_init_options *o, const char *actor) TSR_MUST_CHECK;

struct tsr_ca;

/* Open a home: read its config and open its store (no token access yet). */
int tsr_ca_open(const char *home, struct tsr_ca **out) TSR_MUST_CHECK;
void tsr_ca_close(struct tsr_ca *ca);
const struct tsr_config *tsr_ca_config(const struct tsr_ca *ca);
struct tsr_store *tsr_ca_store(struct tsr_ca *ca);
/* Audit an event in this CA's log (errors are reported on stderr). */
void tsr_ca_audit(struct tsr_ca *ca, const char *actor, const char *action,
    const char *object, const char *outcome, const char *fmt, ...) TSR_PRINTF(6, 7);

/* Load the module, log in to the token (a wrong PIN is audited) and find
 * the issuing CA key.  Called by operations that sign. */
int tsr_ca_login(struct tsr_ca *ca, const char *actor) TSR_MUST_CHECK;

struct tsr_issue_request {
	const char *product;          /* product name */
	const uint8_t *csr;           /* PEM or DER */
	size_t csr_len;
	const char *subject;          /* RFC 4514 */
	const char *const *sans;      /* "dns:..." strings */
	size_t n_sans;
	/* Who verified, outside Tessera, that the key was generated on a
	 * hardware token (attestation checked, key generation witnessed).
	 * Required for products with storage = hardware, since a CSR alone
	 * does not show where its key lives; recorded in the audit log. */
	const char *hardware_verified_by;
	/* A server thread's own store connection (SQLite connections are not
	 * shared between threads), or NULL: the CA's. */
	struct tsr_store *store;
	/* Optional: runs inside the issuing transaction once the certificate
	 * is stored; its failure rolls everything back. */
	int (*in_transaction)(struct tsr_store *st, const struct tsr_cert_record *rec, void *ctx);
	void *ctx;
};

/* Issue a subscriber certificate: validate the request against the product,
 * then in one transaction reserve the serial, build, lint, sign in the
 * token, verify, store and audit.  Every refusal is audited and leaves no row behind.
 * On success *out holds the stored record (tsr_cert_record_clear() it).
 * Safe to call from several threads, each with its own req->store: the
 * token is used by one at a time.  The caller holds no transaction. */
int tsr_ca_issue(struct tsr_ca *ca, const char *actor, const struct tsr_issue_request *req,
    struct tsr_cert_record *out) TSR_MUST_CHECK;

/*
 * Certificate status (src/ca/revoke.c).  Only subscriber certificates;
 * st is a server thread's own store connection, or NULL: the CA's.  Each
 * runs its own transaction (the caller holds none) and audits the change
 * or the refusal (cert.revoke, cert.suspend, cert.resume).
 * TSR_ERR_NOT_FOUND for an unknown serial, TSR_ERR_INVALID for a bad reason
 * or date, TSR_ERR_POLICY for a change the rules forbid.
 */
/* Revoke for good, valid or suspended: reason an RFC 5280 name other than
 * certificateHold and removeFromCRL; invalidity_date 0 or a time between
 * the certificate's not_before and now.  A suspended certificate keeps the
 * time of its hold as its revocation time. */
int tsr_ca_revoke(struct tsr_ca *ca, struct tsr_store *st, const char *actor,
    const char *serial, const char *reason, int64_t invalidity_date) TSR_MUST_CHECK;
/* valid -> suspended (reason certificateHold, revoked at now). */
int tsr_ca_suspend(struct tsr_ca *ca, struct tsr_store *st, const char *actor,
    const char *serial) TSR_MUST_CHECK;
/* suspended -> valid; the revocation columns are cleared. */
int tsr_ca_resume(struct tsr_ca *ca, struct tsr_store *st, const char *actor,
    const char *serial) TSR_MUST_CHECK;

/*
 * CRLs (src/ca/crl.c).  Each CA publishes one at HOME/crl/<ca>.crl
 * ("issuing.crl", "root.crl"), the file the CRL distribution point names.
 * CRL numbers count up per CA in the store (meta "crl_number_<ca>"), taken
 * in a transaction, so that no two CRLs of one CA share a number.  The
 * record of a CRL is "NUMBER THIS_UPDATE NEXT_UPDATE ENTRIES": the one in
 * this home's file is kept in HOME/crl/.<ca>.number, the newest published
 * by any node sharing the store in meta "crl_<ca>".
 */
struct tsr_crl_info {
	uint64_t number;
	int64_t this_update, next_update;
	size_t entries;
};
/* The path of a CA's published CRL: HOME/crl/<ca>.crl (new string). */
char *tsr_ca_crl_path(const struct tsr_ca *ca, const char *ca_name);
/* Build, sign (in the token: the issuing key, or the root key for
 * "root"), check and publish the CRL of ca_name ("issuing" or "root"):
 * every revoked or suspended certificate that CA issued whose not_after is
 * later than thisUpdate minus one CRL period (RFC 5280 5.1.2.6: an entry
 * stays on one scheduled CRL after its certificate expires), thisUpdate
 * now, nextUpdate now + [ca] crl_hours (issuing) or root_crl_days (root).
 * Streams the store's rows (a read snapshot taken after the number) into
 * the file, one row in memory at a time.  Audited as crl.issue (number,
 * entries).  If a CRL with a higher number was published in this home
 * meanwhile, this one is dropped (audited) and *info describes the one in
 * place.
 * st: a thread's own connection, or NULL: the CA's.  Logs in to the token
 * if needed.  *info (may be NULL) describes the published CRL. */
int tsr_ca_crl_publish(struct tsr_ca *ca, struct tsr_store *st, const char *ca_name,
    const char *actor, struct tsr_crl_info *info) TSR_MUST_CHECK;
/* The record of the CRL of ca_name this home serves (HOME/crl/.<ca>.number;
 * for a home made before that file, meta "crl_<ca>"), whatever other nodes
 * published: TSR_ERR_NOT_FOUND if HOME/crl/<ca>.crl is not there or its
 * record cannot be read, so that a new one is due. */
int tsr_ca_crl_info(struct tsr_ca *ca, struct tsr_store *st, const char *ca_name,
    struct tsr_crl_info *out) TSR_MUST_CHECK;

/*
 * The OCSP responder (src/ca/ocsp.c): answers about the certificates of
 * the issuing CA, signed by the delegated OCSP-signing certificate.
 * Answers for one certificate without a nonce are signed ahead and kept in
 * memory; they are signed again when half of their validity ([ca]
 * ocsp_response_hours) has passed and at once when the certificate's
 * status changes (tsr_ocsp_sync() follows the store's status changes,
 * whichever process made them).  A request with a nonce, or about several
 * certificates, is signed live.  A serial the CA never issued is
 * "unknown", never "good".
 */
struct tsr_ocsp_responder;

/* Start a responder for ca (logs in to the token). */
int tsr_ocsp_responder_new(struct tsr_ca *ca, struct tsr_ocsp_responder **out) TSR_MUST_CHECK;
void tsr_ocsp_responder_free(struct tsr_ocsp_responder *r);

/* One answer, ready to send. */
struct tsr_ocsp_answer {
	uint8_t *der;                 /* the OCSPResponse (free()) */
	size_t len;
	bool cacheable;               /* a signed answer without a nonce: send
	                               * the HTTP caching headers */
	int64_t this_update, next_update, produced_at;
	char etag[48];                /* "\"<hex of the first 20 bytes of SHA-256>\"" */
};

/* Answer the DER OCSPRequest req.  Malformed requests get malformedRequest,
 * requests naming another CA unauthorized, a store that cannot be read
 * tryLater (all unsigned, not cacheable): these are answers, not errors.
 * Returns an error only when there is nothing to send (out of memory).
 * st: the calling thread's store connection. */
int tsr_ocsp_respond(struct tsr_ocsp_responder *r, struct tsr_store *st, const uint8_t *req,
    size_t len, struct tsr_ocsp_answer *out) TSR_MUST_CHECK;
void tsr_ocsp_answer_clear(struct tsr_ocsp_answer *a);

/* Follow the store: sign again the kept answers of certificates whose
 * status changed since the last call, and those past half their validity.
 * *changed (may be NULL) gets the number of status changes seen.  Meant to
 * run every second or so from one thread. */
int tsr_ocsp_sync(struct tsr_ocsp_responder *r, struct tsr_store *st, size_t *changed)
    TSR_MUST_CHECK;

/* Write a signed answer (RFC 5019 profile: SHA-1 CertID, no nonce) for
 * every unexpired certificate the issuing CA issued to dir/<SERIAL>.der
 * (upper-case hex), for a CDN or a web server to serve; *count gets the
 * number written; audited as ocsp.export. */
int tsr_ocsp_export(struct tsr_ca *ca, const char *actor, const char *dir, size_t *count)
    TSR_MUST_CHECK;

/* Make sure the delegated OCSP-signing certificate stays valid: when less
 * than a third of its validity is left (or force), make a new key on the
 * token, have the issuing CA certify it for [ca] ocsp_validity_days, make
 * it the responder's (store meta ocsp_serial, ocsp_key_id; certs/ocsp.pem)
 * and audit ocsp.rotate.  *rotated (may be NULL) tells whether it did. */
int tsr_ca_ocsp_rotate(struct tsr_ca *ca, const char *actor, bool force, bool *rotated)
    TSR_MUST_CHECK;

/* Make sure home/tls/server.pem (leaf + issuing CA) and server.key hold a
 * certificate for the configured server_names that is valid for more than
 * 30 days; otherwise issue a new one (logs in to the token).  The paths are
 * new strings (free()). */
int tsr_ca_server_cert(struct tsr_ca *ca, const char *actor, char **cert_path,
    char **key_path) TSR_MUST_CHECK;

/* The issuing CA's and root's certificates (borrowed). */
const X509 *tsr_ca_issuing_cert(const struct tsr_ca *ca);
const X509 *tsr_ca_root_cert(const struct tsr_ca *ca);

#endif /* TSR_CA_H */
