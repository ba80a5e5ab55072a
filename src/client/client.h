/*
 * client.h - the subscriber's side of Tessera: the EST client (RFC 7030)
 * on libcurl, the subscriber's PKCS#11 token, and the flows that use both:
 * retrieval onto the token, renewal, and Test My Certificate.
 *
 * This module sits beside ca/ra/http, never on them: it knows the server
 * only by its wire format (docs/est.md, docs/api.md).  It uses base, pkcs11
 * and x509.  The token conventions (ids, labels, the initial-passcode
 * marker) are in docs/token.md.
 */
#ifndef TSR_CLIENT_H
#define TSR_CLIENT_H

#include <stdio.h>

#include <openssl/x509.h>

#include "base/base.h"
#include "pkcs11/p11.h"
#include "x509/x509.h"

/* ------------------------------------------------------------------ server answers (parse.c)
 * Parsers of what a server sends; they never trust it (fuzzed by
 * tests/fuzz/fuzz_est_client.c).
 */
#define TSR_EST_BODY_MAX (1u << 20)   /* the most we read of any answer */
#define TSR_EST_CERTS_MAX 16          /* certificates in one certs-only answer */

/* A certs-only PKCS#7 (RFC 7030 4.1.3, 4.2.3): base64 of a DER SignedData
 * holding 1..TSR_EST_CERTS_MAX certificates (line breaks allowed, and
 * whitespace around it).  *out is a new stack (sk_X509_pop_free(out,
 * X509_free)). */
int tsr_est_parse_certs(const uint8_t *body, size_t len, STACK_OF(X509) **out) TSR_MUST_CHECK;

/* What a csrattrs answer (RFC 7030 4.5.2) asks for. */
struct tsr_est_csrattrs {
	unsigned key_types;             /* bit (1u << enum tsr_key_type) per key type asked for */
	enum tsr_key_type preferred;    /* the first one, TSR_KEY_NONE if none */
	size_t n_attrs;                 /* attributes and OIDs in the answer */
};

/* Parse a csrattrs body: base64 of DER CsrAttrs.  Key types come from
 * Attribute{id-ecPublicKey, {namedCurve}} and Attribute{rsaEncryption,
 * {INTEGER bits}}; other attributes and bare OIDs are skipped.  An empty
 * body (a 204) is zero attributes.  TSR_ERR_PARSE if malformed. */
int tsr_est_parse_csrattrs(const uint8_t *body, size_t len, struct tsr_est_csrattrs *out)
    TSR_MUST_CHECK;

/* An application/problem+json body (RFC 9457): its detail (or title) as
 * printable ASCII (other bytes become '?', so that a server cannot send
 * terminal escapes), and the TSR_ERR_* its type names (by the last path
 * segment, e.g. ".../problems/policy"), or fallback if none does. */
int tsr_est_parse_problem(const uint8_t *body, size_t len, int fallback, char *detail,
    size_t size);

/* The answer to POST /api/v1/test-my-cert/nonce: checks that message is
 * exactly TSR_CLIENT_TEST_PREFIX followed by the nonce, and the nonce 16 to
 * 64 base64url characters, so that the token never signs anything else.
 * message is a new string (free()). */
#define TSR_CLIENT_TEST_PREFIX "Tessera test my certificate: "
int tsr_client_parse_nonce(const uint8_t *body, size_t len, char **message, char **nonce)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ HTTPS (http.c) */
struct tsr_client_tls {
	const char *ca_file;            /* PEM trust anchors for the server (required) */
	X509 *cert;                     /* TLS client certificate (NULL: none) */
	EVP_PKEY *key;                  /* its key, e.g. a signer shim's (borrowed) */
	STACK_OF(X509) *chain;          /* CA certificates sent with it (borrowed; roots skipped) */
};

struct tsr_client_request {
	const char *method;             /* "GET" or "POST" */
	const char *url;                /* https only */
	const char *content_type;       /* of body; NULL when there is none */
	const uint8_t *body;
	size_t body_len;
	const char *user, *password;    /* HTTP Basic, or NULL */
	const char *const *headers;     /* extra "Name: value" lines, NULL-terminated, or NULL */
	const struct tsr_client_tls *tls;
};

struct tsr_client_response {
	long status;
	char content_type[128];         /* media type, lower-case, without parameters */
	struct tsr_buf body;            /* at most TSR_EST_BODY_MAX */
};

/* One HTTPS request with libcurl: the server is trusted only through
 * tls->ca_file (never the system store), no redirects, 10 s to connect and
 * 120 s in all.  A transport failure is TSR_ERR_IO, a server certificate
 * that does not verify TSR_ERR_AUTH (the detail says to check --ca-file).
 * Any HTTP status is a response (free it with tsr_client_response_free). */
int tsr_client_http(const struct tsr_client_request *rq, struct tsr_client_response *out)
    TSR_MUST_CHECK;
void tsr_client_response_free(struct tsr_client_response *r);
/* Turn a response that is not the expected status into an error: the
 * server's problem detail with the code its type names (401: TSR_ERR_AUTH). */
int tsr_client_http_error(const struct tsr_client_response *r, const char *what);

/* ------------------------------------------------------------------ EST (est.c) */
struct tsr_est {
	char base[1024];                /* "https://host:port/.well-known/est/" */
	char api[1024];                 /* "https://host:port/api/v1/" */
	struct tsr_client_tls tls;
	const char *user, *password;    /* HTTP Basic for enroll and csrattrs (borrowed) */
};

/* server is "https://host[:port]" (a trailing '/' or path is refused). */
int tsr_est_init(struct tsr_est *e, const char *server, const char *ca_file) TSR_MUST_CHECK;
/* GET cacerts: the CA certificates. */
int tsr_est_cacerts(const struct tsr_est *e, STACK_OF(X509) **out) TSR_MUST_CHECK;
/* GET csrattrs with Basic credentials. */
int tsr_est_csrattrs(const struct tsr_est *e, struct tsr_est_csrattrs *out) TSR_MUST_CHECK;
/* POST simpleenroll (Basic) or simplereenroll (TLS client certificate)
 * with a DER CSR; token's manufacturer, model and serial go along as
 * X-Tessera-Token-* headers (token NULL: none).  *out: the certificates. */
int tsr_est_enroll(const struct tsr_est *e, bool reenroll, const uint8_t *csr, size_t csr_len,
    const struct tsr_p11_token_info *token, STACK_OF(X509) **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ the token (token.c) */
#define TSR_CLIENT_DEFAULT_MODULE "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
#define TSR_CLIENT_MODULE_ENV "TESSERA_PKCS11_MODULE"
#define TSR_CLIENT_PENDING_LABEL "Tessera pending"   /* a key without its certificate yet */
#define TSR_CLIENT_LABEL_PREFIX "Tessera "           /* "Tessera <CN>" once it has one */
#define TSR_CLIENT_CA_LABEL "Tessera CA"             /* the CA certificates stored beside */
#define TSR_CLIENT_MARKER_APP "Tessera"              /* the initial-passcode marker: a */
#define TSR_CLIENT_MARKER_LABEL "initial passcode"   /* public CKO_DATA object */

struct tsr_client_token {
	struct tsr_p11_module *mod;
	struct tsr_p11_session *s;
	struct tsr_p11_token_info info;
	char module[4096];
	bool marker;                    /* the initial-passcode marker is on the token */
};

/* The module to load: opt, else $TESSERA_PKCS11_MODULE, else OpenSC's. */
const char *tsr_client_module_path(const char *opt);

/* Load the module and open the one initialized token matching uri (a
 * PKCS#11 URI; NULL: the only one there).  Errors say what is missing and
 * how to fix it: a module that does not load, no token, several tokens. */
int tsr_client_token_open(const char *module, const char *uri, struct tsr_client_token *t)
    TSR_MUST_CHECK;
void tsr_client_token_close(struct tsr_client_token *t);

/* Whether the token's passcode is still the one it was shipped with:
 * CKF_USER_PIN_TO_BE_CHANGED, or the CA's marker object (docs/token.md).
 * *why says which (for messages). */
bool tsr_client_initial_passcode(const struct tsr_client_token *t, const char **why);

/* Log in with the passcode.  TSR_ERR_PIN with advice on a wrong one. */
int tsr_client_login(struct tsr_client_token *t, const char *passcode) TSR_MUST_CHECK;

/* Change the passcode (C_SetPIN), then remove the initial-passcode marker. */
int tsr_client_change_passcode(struct tsr_client_token *t, const char *old_pin,
    const char *new_pin) TSR_MUST_CHECK;

/* The key id of a public key: SHA-1 of its subjectPublicKey bits (RFC 5280
 * 4.2.1.2 method 1, the subject key identifier of Tessera's certificates). */
int tsr_client_key_id(EVP_PKEY *pub, uint8_t id[20]) TSR_MUST_CHECK;

/* A key on the token and a signer for it (for OpenSSL: CSRs, TLS, tests). */
struct tsr_client_key {
	struct tsr_p11_key *k;
	EVP_PKEY *pub;
	struct tsr_signer *signer;
	uint8_t id[64];
	size_t id_len;
	bool reused;                    /* left by an interrupted attempt */
};
void tsr_client_key_free(struct tsr_client_key *key);
/* The key with this id (after login). */
int tsr_client_key_by_id(struct tsr_client_token *t, const uint8_t *id, size_t id_len,
    struct tsr_client_key *out) TSR_MUST_CHECK;
/* The pending key of an interrupted attempt if there is one whose type is
 * in types (one of another type is destroyed: it has no certificate and
 * can have none), else a new key of type preferred generated on the token
 * (sensitive, never extractable), labelled TSR_CLIENT_PENDING_LABEL, its
 * CKA_ID set to its key id.  After login. */
int tsr_client_key_pending(struct tsr_client_token *t, unsigned types,
    enum tsr_key_type preferred, struct tsr_client_key *out) TSR_MUST_CHECK;

/* A PKCS#10 request signed by key (DER, OPENSSL_free()); the subject is a
 * placeholder: the CA takes names from the approved application. */
int tsr_client_csr(struct tsr_client_key *key, uint8_t **der, size_t *len) TSR_MUST_CHECK;

/* Sign msg on the token as Test My Certificate wants: the key type's digest
 * (tsr_signer_md), ECDSA as DER, RSA PKCS#1 v1.5.  *sig: OPENSSL_free(). */
int tsr_client_sign(struct tsr_client_key *key, const uint8_t *msg, size_t len,
    uint8_t **sig, size_t *sig_len) TSR_MUST_CHECK;

/* A certificate on the token with what tells it apart. */
struct tsr_client_cert {
	X509 *x;
	uint8_t id[64];
	size_t id_len;
	char label[129];
	bool has_key;                   /* a key with the same id is on the token */
	bool is_ca;                     /* basicConstraints cA */
};
/* Every X.509 certificate on the token (public objects; private keys are
 * matched when logged in, public keys otherwise). */
int tsr_client_certs(struct tsr_client_token *t, struct tsr_client_cert **out, size_t *n)
    TSR_MUST_CHECK;
void tsr_client_certs_free(struct tsr_client_cert *c, size_t n);
/* The subscriber certificate to use: with id if id_len > 0; else of the
 * end-entity certificates with a key beside them and valid now, the one
 * that expires last.  *out is a new reference. */
int tsr_client_current(struct tsr_client_token *t, const uint8_t *id, size_t id_len,
    X509 **out) TSR_MUST_CHECK;

/* Check cert against the trust anchors in ca_file with chain as
 * intermediates, at now: 0, or TSR_ERR_SIGNATURE with the reason. */
int tsr_client_verify_chain(X509 *cert, STACK_OF(X509) *chain, const char *ca_file, time_t now)
    TSR_MUST_CHECK;
/* Load every certificate of a PEM file (1..TSR_EST_CERTS_MAX). */
int tsr_client_load_pem(const char *path, STACK_OF(X509) **out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ flows (flow.c) */
/* How long each step of a retrieval or renewal took, in seconds. */
struct tsr_client_timing {
	double keygen, csr, est, store, total;
};

struct tsr_client_issued {
	X509 *cert;                     /* the certificate now on the token */
	STACK_OF(X509) *chain;          /* the CA certificates (cacerts) */
	uint8_t id[64];                 /* its CKA_ID, the key's */
	size_t id_len;
	bool key_reused;                /* the key of an interrupted attempt */
	bool already_stored;            /* it was on the token already */
	int ca_stored;                  /* CA certificates newly stored */
	int old_removed;                /* renewal: objects of the old key removed */
	struct tsr_client_timing t;
};
void tsr_client_issued_clear(struct tsr_client_issued *r);

/*
 * Retrieval: t is open and logged in; est has the Basic credentials.
 * Refuses a token with its initial passcode; asks csrattrs for the key
 * type; takes the pending key or generates one; simpleenroll; checks that
 * the certificate is for the token key and chains to the trusted root;
 * stores it (and the CA certificates) on the token with the key's id;
 * reads it back and compares; then labels the key pair as done.  Nothing
 * is stored before every check passed.
 */
int tsr_client_retrieve(struct tsr_client_token *t, const struct tsr_est *est,
    struct tsr_client_issued *out) TSR_MUST_CHECK;

/*
 * Renewal: a new key (of the current key's type) on the token, a CSR,
 * simplereenroll over TLS authenticated by the current certificate (id_len
 * 0: tsr_client_current's choice) and its token key; the new certificate is
 * checked and stored as at retrieval; then, unless keep_old, the old key
 * pair and certificate are removed (only after the new one is stored).
 */
int tsr_client_renew(struct tsr_client_token *t, struct tsr_est *est, const uint8_t *id,
    size_t id_len, bool keep_old, struct tsr_client_issued *out) TSR_MUST_CHECK;

/* The server's answer to Test My Certificate. */
struct tsr_client_test_result {
	bool good;
	char serial[48], subject[256];
	struct {
		char result[16];            /* "good", "bad", "unknown" */
		char detail[256];
	} checks[4];                    /* signature, chain, validity, status */
};
extern const char *const tsr_client_test_checks[4];

/* Test My Certificate with the current certificate (or the one with id):
 * a nonce from the server, the message signed on the token (logged in),
 * and the server's verdict in *out.  A "bad" verdict is a result, not an
 * error. */
int tsr_client_test(struct tsr_client_token *t, const struct tsr_est *est, const uint8_t *id,
    size_t id_len, struct tsr_client_test_result *out) TSR_MUST_CHECK;
/* Parse the verdict's JSON (also used by the fuzzer). */
int tsr_client_parse_test_result(const uint8_t *body, size_t len,
    struct tsr_client_test_result *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ revocation status (status.c)
 * A relying party's question: is this certificate revoked?  Asked of the
 * OCSP responder in the certificate's AIA (RFC 6960, POST, a fresh nonce),
 * then, if that gives no usable answer, of the CRL at its distribution
 * point (RFC 5280); nowhere else.  Every answer is verified against the
 * issuer before it counts.  docs/sign.md says what is accepted.
 */
#define TSR_STATUS_TIMEOUT 10          /* default seconds for each request */
#define TSR_STATUS_TIMEOUT_MAX 300
#define TSR_STATUS_OCSP_MAX (64u << 10)    /* bytes of an OCSP response */
#define TSR_STATUS_CRL_MAX (64u << 20)     /* bytes of a CRL */
#define TSR_STATUS_SKEW 300            /* seconds of clock difference allowed */
#define TSR_STATUS_NONCE_LEN 16
#define TSR_STATUS_NO_NONCE_AGE 86400  /* an answer without our nonce: at most this old */

struct tsr_status_query {
	X509 *cert;                     /* the certificate asked about */
	X509 *issuer;                   /* its issuer, from a verified chain */
	STACK_OF(X509) *roots;          /* trust anchors (a delegated responder chains to one) */
	STACK_OF(X509) *untrusted;      /* intermediates for the responder's chain (may be NULL) */
	time_t now;                     /* the time answers are judged at */
	long timeout;                   /* seconds per request (..TSR_STATUS_TIMEOUT_MAX); 0: default */
	size_t crl_max;                 /* bytes of a CRL; 0: TSR_STATUS_CRL_MAX */
};

/*
 * The revocation status of q->cert into *out: GOOD or REVOKED (time,
 * reason, invalidity date) with the source that said so, or UNKNOWN with,
 * for each source tried, why it gave no answer (no URL, the network, an
 * HTTP or OCSP error status, a signature that is not the issuer's or its
 * delegated responder's, a nonce not echoed on an old answer, a stale or
 * future answer, "unknown").  Only http:// and https:// URLs from the
 * certificate are fetched, without redirects or proxies.  An answer that
 * could not be had is a result, not an error: the return is 0, or
 * TSR_ERR_INVALID / TSR_ERR_NOMEM for the caller's mistakes and memory.
 */
int tsr_client_status(const struct tsr_status_query *q, struct tsr_cms_status *out)
    TSR_MUST_CHECK;

/* ------------------------------------------------------------------ revocation (flow.c)
 * The subscriber revokes or suspends their own certificate (docs/api.md,
 * "Certificate status"): with a signature by its key on the token, or,
 * for a lost token, with the account password and one secret answer.
 */
#define TSR_CLIENT_REVOKE_PREFIX "Tessera revoke certificate: "

/* What to do: action "revoke" with an RFC 5280 reason, or "suspend"
 * (reason NULL). */
struct tsr_client_revocation {
	const char *action;
	const char *reason;
};

/* The server's answer: the certificate's status now (printable ASCII). */
struct tsr_client_cert_status {
	char serial[48];
	char status[16];                /* "valid", "suspended", "revoked" */
	char reason[32];                /* "" while valid */
	char revoked_at[24];            /* RFC 3339, "" while valid */
};

/* The serial of x as the CA keeps it: lower-case hex of its octets. */
int tsr_client_cert_serial(X509 *x, char out[41]) TSR_MUST_CHECK;

/* Revoke or suspend cert (a certificate on t, logged in, with its key
 * beside it): a nonce from the server, the message TSR_CLIENT_REVOKE_PREFIX
 * "SERIAL ACTION REASON NONCE" built here and compared with the server's
 * (the token signs nothing else), signed on the token, sent with cert. */
int tsr_client_revoke_signed(struct tsr_client_token *t, const struct tsr_est *est, X509 *cert,
    const struct tsr_client_revocation *rv, struct tsr_client_cert_status *out) TSR_MUST_CHECK;

/* Revoke or suspend certificate serial (hex) of application with the
 * account password and the answer to question (1..n).  The request body
 * holding the secrets is wiped after sending; so that jansson's copies are
 * too, this makes jansson wipe every block it frees, process-wide (as
 * `tessera serve` does). */
int tsr_client_revoke_password(const struct tsr_est *est, const char *serial,
    const struct tsr_client_revocation *rv, const char *application, const char *password,
    int question, const char *answer, struct tsr_client_cert_status *out) TSR_MUST_CHECK;

/* The secret questions of application, in order (anonymous GET):
 * questions[i] are new strings of printable text; free with
 * tsr_client_questions_free(). */
int tsr_client_questions(const struct tsr_est *est, const char *application, char ***questions,
    size_t *n) TSR_MUST_CHECK;
void tsr_client_questions_free(char **questions, size_t n);

#endif /* TSR_CLIENT_H */
