/*
 * issue.c - `tessera cert issue`: a subscriber certificate from a CSR, a
 * product and an approved subject.
 *
 * The CSR proves possession of the key and supplies the public key; that is
 * all it supplies.  Subject, SANs and every extension come from the request
 * the administrator approved and from the product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

#define DAY 86400

struct parsed {
	const struct tsr_product *product;
	X509_REQ *csr;
	EVP_PKEY *pubkey;             /* borrowed from csr */
	enum tsr_key_type key_type;
	X509_NAME *subject;
	struct tsr_san sans[TSR_SAN_MAX];
	size_t n_sans;
};

static void parsed_free(struct parsed *p)
{
	X509_REQ_free(p->csr);
	X509_NAME_free(p->subject);
	for (size_t i = 0; i < p->n_sans; i++)
		tsr_san_clear(&p->sans[i]);
}

/*
 * A CSR proves possession of a key, not where the key lives.  Until the
 * retrieval flow generates the key on the token itself, a hardware product
 * needs a person to vouch for it, by name, in the audit log.
 */
static int check_storage(const struct tsr_product *product, const struct tsr_issue_request *req)
{
	const char *who = req->hardware_verified_by;

	if (product->storage != TSR_STORAGE_HARDWARE)
		return 0;
	if (who == NULL || who[0] == '\0')
		return tsr_error(TSR_ERR_POLICY, "product %s requires a key generated on a hardware "
		    "token, which a CSR alone does not show: verify it (attestation, witnessed key "
		    "generation) and name who did with --hardware-verified-by", product->name);
	if (strlen(who) > 128 || strpbrk(who, "\n\r\t") != NULL)
		return tsr_error(TSR_ERR_INVALID, "--hardware-verified-by: one line of at most 128 "
		    "characters");
	return 0;
}

/* Everything that can be refused is checked before the store is touched. */
static int check_request(struct tsr_ca *ca, const struct tsr_issue_request *req,
    struct parsed *p)
{
	int r;

	if (req->product == NULL || req->product[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "a product is required (see tessera product list)");
	if ((p->product = tsr_product_find(&ca->cfg.products, req->product)) == NULL)
		return tsr_error(TSR_ERR_NOT_FOUND,
		    "unknown product '%s' (see tessera product list)", req->product);
	if (req->csr_len > TSR_CSR_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "the CSR is %zu bytes, more than the %d allowed",
		    req->csr_len, TSR_CSR_MAX);
	if ((r = tsr_csr_parse(req->csr, req->csr_len, &p->csr)) != 0)
		return tsr_error_wrap(r, "CSR");
	if ((p->pubkey = X509_REQ_get0_pubkey(p->csr)) == NULL)
		return tsr_error_openssl(TSR_ERR_PARSE, "CSR: no public key");
	if ((r = tsr_pubkey_classify(p->pubkey, &p->key_type)) != 0)
		return tsr_error_wrap(r, "CSR key");
	if ((r = tsr_product_check_key(p->product, p->key_type)) != 0)
		return r;
	if (req->subject == NULL || req->subject[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "a subject is required, e.g. CN=Jane Doe,C=US");
	if ((r = tsr_name_parse(req->subject, &p->subject)) != 0)
		return tsr_error_wrap(r, "subject");
	if (req->n_sans > TSR_SAN_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "at most %d SANs", TSR_SAN_MAX);
	for (size_t i = 0; i < req->n_sans; i++) {
		if ((r = tsr_san_parse(req->sans[i], &p->sans[i])) != 0)
			return tsr_error_wrap(r, "SAN '%s'", req->sans[i]);
		p->n_sans++;
	}
	if ((r = tsr_product_check_subject(p->product, p->subject, p->sans, p->n_sans)) != 0)
		return r;
	return check_storage(p->product, req);
}

static int sign_and_store(struct tsr_ca *ca, const struct tsr_issue_request *req,
    const char *actor, struct parsed *p, struct tsr_cert_record *out)
{
	const char *url = ca->cfg.ca.public_url;
	char ocsp[512], issuers[512], crl[512];
	struct ca_job job;
	X509 *cert = NULL;
	time_t now = tsr_now();
	int r;

	snprintf(ocsp, sizeof(ocsp), "%s/ocsp", url);
	snprintf(issuers, sizeof(issuers), "%s/ca/issuing.crt", url);
	snprintf(crl, sizeof(crl), "%s/crl/issuing.crl", url);
	memset(&job, 0, sizeof(job));
	job.t.kind = TSR_CERT_SUBSCRIBER;
	job.t.product = p->product;
	job.t.subject = p->subject;
	job.t.sans = p->sans;
	job.t.n_sans = p->n_sans;
	job.t.pubkey = p->pubkey;
	job.t.not_before = now;
	/* Validity counts both ends (RFC 5280 4.1.2.5), hence the second less. */
	job.t.not_after = now + (time_t)p->product->validity_days * DAY - 1;
	job.t.issuer = ca->issuing;
	job.t.ocsp_url = ocsp;
	job.t.ca_issuers_url = issuers;
	job.t.crl_url = crl;
	job.signer = ca->signer;
	job.issuer_label = "issuing";
	job.role = "subscriber";
	job.actor = actor;
	job.in_transaction = req->in_transaction;
	job.ctx = req->ctx;
	r = ca_make_cert(req->store != NULL ? req->store : ca->store, &job, &cert, out);
	X509_free(cert);
	return r;
}

/* Audit in the store the request runs on (a server thread's own). */
static void audit(struct tsr_store *st, const char *actor, const char *action,
    const char *object, const char *outcome, const char *detail)
{
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	if (tsr_audit_append(st, actor, action, object, outcome, "%s", detail) != 0)
		tsr_log(TSR_LOG_WARN, "cannot write the audit log: %s", tsr_error_detail());
	tsr_error(0, "%s", saved);
}

int tsr_ca_issue(struct tsr_ca *ca, const char *actor, const struct tsr_issue_request *req,
    struct tsr_cert_record *out)
{
	struct tsr_store *st = req->store != NULL ? req->store : ca->store;
	struct parsed p;
	char object[96], detail[512];
	int r;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	snprintf(object, sizeof(object), "product:%s", req->product ? req->product : "");
	if ((r = check_request(ca, req, &p)) != 0) {
		audit(st, actor, "cert.issue", object, TSR_AUDIT_REFUSED, tsr_error_detail());
		goto out;
	}
	/* One thread at a time on the token: the login and the signature. */
	pthread_mutex_lock(&ca->lock);
	if ((r = tsr_ca_login(ca, actor)) != 0) {
		if (r != TSR_ERR_PIN)   /* a wrong PIN was audited as a login failure */
			audit(st, actor, "cert.issue", object, TSR_AUDIT_FAILURE, tsr_error_detail());
		pthread_mutex_unlock(&ca->lock);
		goto out;
	}
	r = sign_and_store(ca, req, actor, &p, out);
	pthread_mutex_unlock(&ca->lock);
	if (r == 0 && req->hardware_verified_by != NULL &&
	    p.product->storage == TSR_STORAGE_HARDWARE) {
		snprintf(detail, sizeof(detail), "hardware key generation for serial %s verified by "
		    "%s (not attested to Tessera)", out->serial, req->hardware_verified_by);
		audit(st, actor, "cert.hardware-key", out->serial, TSR_AUDIT_SUCCESS, detail);
	}
	if (r != 0)
		audit(st, actor, "cert.issue", object, r == TSR_ERR_LINT ? TSR_AUDIT_REFUSED :
		    TSR_AUDIT_FAILURE, tsr_error_detail());
out:
	parsed_free(&p);
	return r;
}
