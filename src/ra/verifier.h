/*
 * verifier.h - the pluggable external identity verifier: an HTTP(S) webhook
 * configured per product ([verifier PRODUCT] in tessera.conf), called when an
 * application reaches review.  Its answer is shown to the officers as one of
 * the automatic checks; it never approves or rejects by itself.
 *
 * Request:  POST url, Content-Type: application/json,
 *           {"application": "AP-...", "product": "epcs", "applicant": {...}}
 *           (Authorization: Bearer <token> when token_file is set)
 * Answer:   200, application/json, {"result": "pass"|"fail", "evidence": "..."}
 *           (evidence optional, at most TSR_VERIFIER_EVIDENCE_MAX bytes)
 * docs/ra.md describes the protocol for whoever writes a verifier.
 */
#ifndef TSR_RA_VERIFIER_H
#define TSR_RA_VERIFIER_H

#include "base/base.h"
#include "ca/ca.h"

#define TSR_VERIFIER_EVIDENCE_MAX 1000
#define TSR_VERIFIER_RESPONSE_MAX 16384   /* bytes of answer read at most */

struct tsr_verifier_result {
	char outcome[8];     /* "pass", "fail", or "error": not reachable, timed out,
	                      * not 200, not the JSON above */
	char evidence[TSR_VERIFIER_EVIDENCE_MAX + 1];  /* what the verifier said, or
	                      * for "error" why its answer could not be used */
};

/* Call verifier v about an application (applicant_json: the JSON object text
 * of the applicant's fields).  Never fails: every problem is reported as
 * outcome "error" with a sentence in evidence, so that review goes on. */
void tsr_verifier_run(const struct tsr_verifier_config *v, const char *application,
    const char *product, const char *applicant_json, struct tsr_verifier_result *out);

#endif /* TSR_RA_VERIFIER_H */
