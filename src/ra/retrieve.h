/*
 * retrieve.h - the second half of the journey on the server: the approved
 * applicant retrieves the certificate with the activation code (EST
 * simpleenroll), renews it with the current one (EST simplereenroll), and
 * tests it ("Test My Certificate").  The HTTP layer (src/http/est.c) parses
 * the protocol and calls these; docs/est.md describes the wire format.
 *
 * Every refusal that matters is audited with the application as object;
 * details never hold a secret.
 */
#ifndef TSR_RA_RETRIEVE_H
#define TSR_RA_RETRIEVE_H

#include "ra/app.h"

/* How long after its first use the activation code still returns the same
 * certificate for the same public key (an interrupted retrieval). */
#define TSR_RA_RETRIEVE_WINDOW_SECONDS (24 * 3600)

/* What the client says about the token the key was generated on (from
 * CK_TOKEN_INFO).  A claim, not proof: docs/est.md explains, and where an
 * attestation will fit. */
struct tsr_ra_token_claim {
	const char *manufacturer;    /* NULL if not sent */
	const char *model;
	const char *serial;
};

/* The certificate a retrieval returns (the caller frees with
 * tsr_ra_issued_clear()). */
struct tsr_ra_issued {
	uint8_t *der;
	size_t der_len;
	char serial[TSR_SERIAL_HEX_MAX + 1];
	char application[TSR_APP_ID_MAX + 1];
	bool repeated;               /* the same certificate as an earlier retrieval */
};
void tsr_ra_issued_clear(struct tsr_ra_issued *c);

/*
 * Retrieve: typed_code is the activation code as typed (it finds the
 * application), password the account password, csr the PKCS#10 (DER, at
 * most 64 KiB) made on the token.  Checks, in order: the code exists
 * (TSR_ERR_AUTH otherwise, the same answer as a wrong password), the
 * password (TSR_ERR_AUTH, counted on the account as in app.c; a locked
 * account answers TSR_ERR_AUTH too), the code is not locked or expired
 * (TSR_ERR_POLICY), the application is activation_issued (or
 * certificate_issued for a repeat), the CSR (TSR_ERR_PARSE / SIGNATURE /
 * KEY: strict parse, proof of possession, a key type the product allows),
 * for storage new-token the token serial claimed equals the one assigned
 * (TSR_ERR_POLICY, audited).
 *
 * First use: issues the certificate through the CA's pipeline (lint, sign
 * in the CA token, store) with subject and SANs from the application and
 * its product, never from the CSR; in the same transaction the code is
 * marked used by this public key, the application moves to
 * certificate_issued and records the certificate's serial.
 *
 * Later use of the same code: the same public key within
 * TSR_RA_RETRIEVE_WINDOW_SECONDS returns the same certificate (repeated);
 * any other key, or after the window: TSR_ERR_POLICY, audited.
 */
int tsr_ra_retrieve(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *typed_code, const char *password, const uint8_t *csr, size_t csr_len,
    const struct tsr_ra_token_claim *claim, struct tsr_ra_issued *out) TSR_MUST_CHECK;

/*
 * The key types the product of the application behind typed_code wants
 * (for EST csrattrs), after the same code and password checks as
 * tsr_ra_retrieve() (a failure counts the same way): a bit mask of
 * (1u << enum tsr_key_type), and the preferred type.
 */
int tsr_ra_retrieve_key_types(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *typed_code, const char *password, unsigned *mask,
    enum tsr_key_type *preferred) TSR_MUST_CHECK;

/*
 * Renew: client_cert is the TLS client certificate (DER) the connection
 * was authenticated with (the TLS layer proved possession of its key).  It
 * must be a subscriber certificate this CA issued (found in the store,
 * byte for byte), valid now and with status valid, and belong to an
 * application in certificate_issued.  The CSR must carry a different key
 * of a type the product allows.  Issues a new certificate with the same
 * subject and SANs (from the application and product, as at retrieval);
 * the application records the new serial.  Audited as cert.renew.
 * TSR_ERR_AUTH for an unknown or foreign certificate, TSR_ERR_POLICY for
 * an expired or revoked one or the same key again.
 */
int tsr_ra_reenroll(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const uint8_t *client_cert, size_t client_cert_len, const uint8_t *csr, size_t csr_len,
    struct tsr_ra_issued *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ test my certificate
 * The client asks for a nonce, signs TSR_RA_TEST_PREFIX followed by the
 * nonce (the exact ASCII bytes) on the token, and sends the signature with
 * its certificate.  Digest: SHA-256 for P-256, RSA-2048 and RSA-3072,
 * SHA-384 for P-384 and RSA-4096; ECDSA signatures DER-encoded, RSA
 * PKCS#1 v1.5.
 */
#define TSR_RA_TEST_PREFIX "Tessera test my certificate: "
#define TSR_RA_NONCE_LEN 23              /* 128 bits base64url, and the NUL */
#define TSR_RA_NONCE_SECONDS 300         /* a nonce's life */

/* A new single-use nonce valid for TSR_RA_NONCE_SECONDS. */
int tsr_ra_test_nonce(struct tsr_ra *ra, struct tsr_store *st, char nonce[TSR_RA_NONCE_LEN],
    int64_t *expires_at) TSR_MUST_CHECK;

enum tsr_ra_check { TSR_RA_CHECK_GOOD, TSR_RA_CHECK_BAD, TSR_RA_CHECK_UNKNOWN };

struct tsr_ra_test_result {
	enum tsr_ra_check signature, chain, validity, status;
	char signature_detail[160], chain_detail[160], validity_detail[160], status_detail[160];
	char serial[TSR_SERIAL_HEX_MAX + 1];      /* "" if the certificate is not ours */
	char subject[256];
	char application[TSR_APP_ID_MAX + 1];     /* "" if not found */
	bool good;                                /* all four good */
};

/* Check a test: the nonce is known, unused and not expired (else
 * TSR_ERR_POLICY: nothing else is checked), then used up; cert (PEM or
 * DER) and signature are checked and every outcome reported in out (a bad
 * signature is a result, not an error).  The result is kept with the
 * application (for the web page) and audited as cert.test. */
int tsr_ra_test_check(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *nonce, const uint8_t *cert, size_t cert_len, const uint8_t *sig,
    size_t sig_len, struct tsr_ra_test_result *out) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ certificate status
 * (subscriber.c) Who may revoke, suspend or resume a subscriber
 * certificate, on top of the CA's rules (tsr_ca_revoke() and its kin in
 * ca.h, which check the transition, change the status in one transaction
 * and audit the change or its refusal as cert.revoke, cert.suspend,
 * cert.resume):
 *
 *   officers (users holding ra-officer or ca-admin) revoke, suspend and
 *     resume any subscriber certificate; they, and auditors, read any;
 *   subscribers revoke or suspend the current certificate of their own
 *     application (its cert_serial), authenticated by the account password
 *     and the answer to one secret question; or any certificate the CA
 *     issued them, authenticated by a signature with the certificate's own
 *     key over a single-use nonce.  Never resume: that needs an officer.
 *
 * The subscriber of the certificate (the application whose current
 * certificate it is) is mailed after every change.  Refusals made here
 * (a role, resume by a subscriber, someone else's certificate, wrong
 * credentials) are audited under the same actions; nothing changes.
 */
enum tsr_ra_cert_action { TSR_RA_CERT_REVOKE, TSR_RA_CERT_SUSPEND, TSR_RA_CERT_RESUME };

/* "revoke", "suspend", "resume"; TSR_ERR_INVALID for anything else. */
int tsr_ra_cert_action_parse(const char *s, enum tsr_ra_cert_action *out) TSR_MUST_CHECK;
const char *tsr_ra_cert_action_name(enum tsr_ra_cert_action a);

/* The RFC 5280 reasons a subscriber may give when revoking. */
#define TSR_RA_SUBSCRIBER_REASONS \
	"unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation"
bool tsr_ra_subscriber_reason_ok(const char *reason);

/* Whether user name may read certificates: exists, enabled, not locked,
 * and holds ra-officer, ca-admin or auditor.  0 or TSR_ERR_FORBIDDEN; not
 * audited. */
int tsr_ra_cert_reader_check(struct tsr_store *st, const char *name) TSR_MUST_CHECK;

/*
 * An officer (user name) changes the status of certificate serial: the
 * user must exist, be enabled, unlocked and hold ra-officer or ca-admin
 * (TSR_ERR_FORBIDDEN, audited), then the CA's change runs with actor
 * "officer:NAME".  reason and invalidity_date (0: none) are for
 * TSR_RA_CERT_REVOKE only (TSR_ERR_INVALID otherwise).  comment (NULL or
 * 1..TSR_RA_REASON_MAX bytes of text) is audited as cert.comment after a
 * change.  The CA's errors otherwise (ca.h).
 */
int tsr_ra_cert_officer_change(struct tsr_ra *ra, struct tsr_store *st, const char *officer,
    const char *serial, enum tsr_ra_cert_action action, const char *reason,
    int64_t invalidity_date, const char *comment) TSR_MUST_CHECK;

/* The account secrets a subscriber proves it with. */
struct tsr_ra_subscriber_secret {
	const char *application;     /* "AP-XXXX-XXXX-XXXX" */
	const char *password;        /* the account password */
	int question;                /* 1..n: which secret question, as listed in order */
	const char *answer;          /* its answer (compared as at the password reset) */
};

/*
 * A subscriber revokes (reason one of TSR_RA_SUBSCRIBER_REASONS) or
 * suspends (reason NULL) certificate serial with the account's secrets;
 * actor is where the request came from ("http:192.0.2.7").  Checks, in
 * order: the action (resume: TSR_ERR_FORBIDDEN, audited) and reason
 * (TSR_ERR_INVALID), the serial's form (TSR_ERR_INVALID), then the
 * password and the answer, both always verified (Argon2id; an unknown
 * application, a missing question and a locked account against the dummy
 * hash), so that neither the answer nor the time tells which was wrong:
 * TSR_ERR_AUTH "wrong application number, password or answer" for any
 * mismatch, counted on the account like a wrong password (the [ra]
 * max_failures-th locks it and ends its sessions), and for any secrets on
 * a locked account.  A question number beyond the application's questions
 * is TSR_ERR_INVALID.  Then, as "applicant:ID": an unknown serial
 * (TSR_ERR_NOT_FOUND), a certificate that is not the application's current
 * one (TSR_ERR_FORBIDDEN), and the CA's change.  Success clears the
 * account's failure count.
 */
int tsr_ra_subscriber_change_password(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason,
    const struct tsr_ra_subscriber_secret *secret) TSR_MUST_CHECK;

/*
 * The message a subscriber signs with the certificate's key: exactly the
 * ASCII text
 *     TSR_RA_REVOKE_PREFIX SERIAL " " ACTION " " REASON " " NONCE
 * with SERIAL the certificate's serial as the store keeps it (lower-case
 * hex of the serial's octets, no leading "00" pair), ACTION "revoke" or
 * "suspend", REASON the RFC 5280 name (certificateHold for "suspend") and
 * NONCE from tsr_ra_revoke_nonce(); e.g.
 *   "Tessera revoke certificate: 5f0c... revoke keyCompromise q3dS1f9JtmM0bQe8W2wZtA".
 * Signed as Test My Certificate signs (SHA-256 for P-256, RSA-2048 and
 * RSA-3072, SHA-384 for P-384 and RSA-4096; ECDSA in DER, RSA PKCS#1 v1.5).
 */
#define TSR_RA_REVOKE_PREFIX "Tessera revoke certificate: "
#define TSR_RA_REVOKE_MESSAGE_MAX \
	(sizeof(TSR_RA_REVOKE_PREFIX) + TSR_SERIAL_HEX_MAX + 8 + 24 + TSR_NONCE_MAX + 4)
/* The message for serial (canonical), action (revoke or suspend), reason
 * (ignored for suspend) and nonce into out.  TSR_ERR_INVALID if a part
 * does not fit or holds a space. */
int tsr_ra_revoke_message(const char *serial, enum tsr_ra_cert_action action,
    const char *reason, const char *nonce, char out[TSR_RA_REVOKE_MESSAGE_MAX]) TSR_MUST_CHECK;

/* A single-use nonce (the Test My Certificate nonces: TSR_RA_NONCE_SECONDS)
 * for a signed change of certificate serial: action and reason are checked
 * as the change will check them, and serial must name a subscriber
 * certificate this CA issued (TSR_ERR_NOT_FOUND).  message gets the exact
 * text to sign (tsr_ra_revoke_message()). */
int tsr_ra_revoke_nonce(struct tsr_ra *ra, struct tsr_store *st, const char *serial,
    enum tsr_ra_cert_action action, const char *reason, char nonce[TSR_RA_NONCE_LEN],
    int64_t *expires_at, char message[TSR_RA_REVOKE_MESSAGE_MAX]) TSR_MUST_CHECK;

/*
 * A subscriber revokes or suspends certificate serial with a signature by
 * its key: cert (PEM or DER) must be certificate serial (TSR_ERR_INVALID
 * otherwise), the nonce is used up (unknown, used or expired:
 * TSR_ERR_POLICY), cert must be, byte for byte, a subscriber certificate
 * this CA issued, and sig must verify over tsr_ra_revoke_message() with
 * its key (TSR_ERR_AUTH for either).  The change runs as "keyholder:SERIAL".
 * actor is where the request came from, for refusals.
 */
int tsr_ra_subscriber_change_signed(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *serial, enum tsr_ra_cert_action action, const char *reason, const char *nonce,
    const uint8_t *cert, size_t cert_len, const uint8_t *sig, size_t sig_len) TSR_MUST_CHECK;

#endif /* TSR_RA_RETRIEVE_H */
