/*
 * server.c - the TLS certificate `tessera serve` presents.
 *
 * The CA issues it to itself through the same pipeline as every other
 * certificate (template, lint, token signature, store, audit), from a
 * built-in profile rather than a configured product, so that editing the
 * products can never take the server down.  Its key is a software key in
 * home/tls/server.key (0600): libmicrohttpd hands GnuTLS the key from
 * memory.  The certificate is short-lived and renewed when the server starts
 * and finds it missing, expiring within 30 days, or naming other hosts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

#define DAY 86400
#define SERVER_DAYS 90
#define RENEW_DAYS 30

static char *server_eku[] = { "1.3.6.1.5.5.7.3.1" };
static char *server_subject[] = { "CN" };

/* The built-in profile: a TLS server certificate for the CA's own names. */
static void server_product(struct tsr_product *p, char **policy)
{
	memset(p, 0, sizeof(*p));
	p->name = "tessera-server";
	p->title = "Tessera's own TLS server certificate";
	p->description = "";
	p->class_ = TSR_CLASS_AUTHENTICATION;
	p->eku = server_eku;
	p->n_eku = 1;
	p->policies = policy;
	p->n_policies = 1;
	p->validity_days = SERVER_DAYS;
	p->max_validity_days = 200;
	p->key_types = 1u << TSR_KEY_EC_P256;
	p->subject_required = server_subject;
	p->n_subject_required = 1;
	p->subject_allowed = server_subject;
	p->n_subject_allowed = 1;
	p->san_allowed = (1u << TSR_SAN_DNS) | (1u << TSR_SAN_IP);
	p->san_required = true;
	p->storage = TSR_STORAGE_SOFTWARE;
	p->ra_approvals = 0;
	p->payment = "free";
}

struct names {
	struct tsr_san sans[16];
	size_t n;
};

static void names_clear(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		tsr_san_clear(&n->sans[i]);
	n->n = 0;
}

/* Subscriber SANs need two labels; the server may be plain "localhost" or
 * another single LDH label of a private network. */
static int single_label(const char *name, struct tsr_san *out)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n ||
	    strspn(name, "0123456789") == n)
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a host name", name);
	out->type = TSR_SAN_DNS;
	if ((out->value = strdup(name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* "localhost, 127.0.0.1, ::1" into DNS and IP SANs. */
static int parse_names(const char *list, struct names *out)
{
	char *copy = strdup(list), *save = NULL, *tok;
	char buf[300];
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (copy == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (tok = strtok_r(copy, ", ", &save); tok != NULL && r == 0;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (out->n == TSR_ARRAY_LEN(out->sans)) {
			r = tsr_error(TSR_ERR_CONFIG, "server_names: at most 16 names");
			break;
		}
		snprintf(buf, sizeof(buf), "%s:%s", strchr(tok, ':') || strspn(tok, "0123456789.") ==
		    strlen(tok) ? "ip" : "dns", tok);
		if ((r = tsr_san_parse(buf, &out->sans[out->n])) == 0 ||
		    (r = single_label(tok, &out->sans[out->n])) == 0)
			out->n++;
		else
			r = tsr_error_wrap(TSR_ERR_CONFIG, "server_names '%s'", tok);
	}
	free(copy);
	if (r == 0 && (out->n == 0 || out->sans[0].type != TSR_SAN_DNS))
		r = tsr_error(TSR_ERR_CONFIG, "server_names must start with a DNS name, "
		    "e.g. localhost");
	if (r != 0)
		names_clear(out);
	return r;
}

static X509 *read_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return k;
}

/*
 * The certificate in the files is still good: the store has it, as a
 * valid server certificate, it names exactly these hosts, it has more than
 * RENEW_DAYS left, and the key file holds its key.  Several nodes on one
 * database (docs/postgresql.md) each keep a certificate of their own, so
 * the one meta server_serial names (the newest) is not asked for.
 */
static bool still_good(struct tsr_ca *ca, const char *cert_path, const char *key_path,
    const struct names *want)
{
	struct tsr_cert_record rec;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char fp[65], serial[TSR_SERIAL_HEX_MAX + 1], *wanted = NULL;
	struct stat st;
	X509 *x = read_cert(cert_path);
	EVP_PKEY *k = read_key(key_path);
	bool good = false;

	memset(&rec, 0, sizeof(rec));
	/* A key others could read has to be replaced, not reused. */
	if (stat(key_path, &st) != 0 || (st.st_mode & 077) != 0 || st.st_uid != geteuid())
		goto out;
	if (x == NULL || k == NULL || X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		goto out;
	ca_serial_hex(x, serial);
	if (serial[0] == '\0' || tsr_store_cert_get(ca->store, serial, &rec) != 0 ||
	    strcmp(rec.role, "server") != 0 || strcmp(rec.status, "valid") != 0 ||
	    tsr_sans_format(want->sans, want->n, &wanted) != 0)
		goto out;
	tsr_hex_encode(md, mdlen, fp);
	good = strcmp(fp, rec.fingerprint) == 0 && strcmp(rec.sans, wanted) == 0 &&
	    rec.not_after - tsr_now() > (int64_t)RENEW_DAYS * DAY &&
	    EVP_PKEY_eq(k, X509_get0_pubkey(x)) == 1;
out:
	tsr_error_clear();
	tsr_cert_record_clear(&rec);
	free(wanted);
	X509_free(x);
	EVP_PKEY_free(k);
	return good;
}

static int write_key(const char *path, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode the server key");
	}
	n = BIO_get_mem_data(bio, &p);
	r = tsr_file_write(path, p, (size_t)n, 0600);
	OPENSSL_cleanse(p, (size_t)n);
	BIO_free(bio);
	return r;
}

/* Issue a new certificate for a new key and write both files. */
static int renew(struct tsr_ca *ca, const char *actor, const struct names *names,
    const char *cert_path, const char *key_path)
{
	const char *url = ca->cfg.ca.public_url;
	char policy[300], ocsp[512], issuers[512], crl[512];
	char *policies[1] = { policy };
	struct tsr_product product;
	struct tsr_cert_record rec;
	struct tsr_buf chain;
	struct ca_job job;
	X509_NAME *subject = X509_NAME_new();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = NULL;
	time_t now = tsr_now();
	int r;

	memset(&rec, 0, sizeof(rec));
	tsr_buf_init(&chain, 1 << 16);
	if (subject == NULL || key == NULL || X509_NAME_add_entry_by_NID(subject, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)names->sans[0].value, -1, -1, 0) != 1) {
		r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot make the server key or name");
		goto out;
	}
	snprintf(policy, sizeof(policy), "%s.2.1", ca->cfg.ca.policy_arc);
	server_product(&product, policies);
	snprintf(ocsp, sizeof(ocsp), "%s/ocsp", url);
	snprintf(issuers, sizeof(issuers), "%s/ca/issuing.crt", url);
	snprintf(crl, sizeof(crl), "%s/crl/issuing.crl", url);
	memset(&job, 0, sizeof(job));
	job.t.kind = TSR_CERT_SUBSCRIBER;
	job.t.product = &product;
	job.t.subject = subject;
	job.t.sans = names->sans;
	job.t.n_sans = names->n;
	job.t.pubkey = key;
	job.t.not_before = now;
	job.t.not_after = now + (time_t)SERVER_DAYS * DAY - 1;
	job.t.issuer = ca->issuing;
	job.t.ocsp_url = ocsp;
	job.t.ca_issuers_url = issuers;
	job.t.crl_url = crl;
	job.signer = ca->signer;
	job.issuer_label = "issuing";
	job.role = "server";
	job.actor = actor;
	if ((r = ca_make_cert(ca->store, &job, &cert, &rec)) != 0 ||
	    (r = tsr_store_meta_set(ca->store, "server_serial", rec.serial)) != 0)
		goto out;
	/* The leaf and the issuing CA: what a TLS client needs besides the root. */
	if ((r = ca_pem(cert, &chain)) != 0 || (r = ca_pem(ca->issuing, &chain)) != 0 ||
	    (r = write_key(key_path, key)) != 0 ||
	    (r = tsr_file_write(cert_path, chain.data, chain.len, 0644)) != 0)
		goto out;
out:
	tsr_cert_record_clear(&rec);
	tsr_buf_free(&chain);
	X509_NAME_free(subject);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

int tsr_ca_server_cert(struct tsr_ca *ca, const char *actor, char **cert_path, char **key_path)
{
	struct names names;
	char *dir = NULL;
	int r;

	*cert_path = *key_path = NULL;
	if ((r = parse_names(ca->cfg.ca.server_names, &names)) != 0)
		return r;
	if ((r = tsr_path_join(ca->home, "tls", &dir)) != 0 ||
	    (r = tsr_path_join(dir, "server.pem", cert_path)) != 0 ||
	    (r = tsr_path_join(dir, "server.key", key_path)) != 0)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = tsr_error(TSR_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (still_good(ca, *cert_path, *key_path, &names))
		goto out;
	if ((r = tsr_ca_login(ca, actor)) == 0)
		r = renew(ca, actor, &names, *cert_path, *key_path);
out:
	if (r != 0) {
		free(*cert_path);
		free(*key_path);
		*cert_path = *key_path = NULL;
	}
	names_clear(&names);
	free(dir);
	return r;
}
