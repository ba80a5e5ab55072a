/*
 * init.c - `tessera init`: a new CA home with its keys in a PKCS#11 token.
 *
 * The home is built in a staging directory beside it and renamed into
 * place only when everything worked, so a failed init leaves nothing
 * behind.  Keys generated on an external HSM are destroyed on failure.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

#define DAY 86400
#define DEFAULT_SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN_LABEL "Tessera CA"

enum { KEY_ROOT, KEY_ISSUING, KEY_OCSP, KEY_COUNT };

static const char *const key_labels[KEY_COUNT] = {
	"tessera root CA", "tessera issuing CA", "tessera OCSP responder",
};

struct init {
	const struct tsr_init_options *o;
	const char *actor;
	char *staging;
	char *module;
	char *softhsm_conf;        /* staging copy (built-in token only) */
	char *token_uri;
	char *pin_file;                 /* external token: absolute path */
	char *policy_arc;
	struct tsr_store *store;
	struct tsr_p11_module *mod;
	struct tsr_p11_session *sess;
	struct tsr_p11_key *keys[KEY_COUNT];
	struct tsr_signer *signers[KEY_COUNT];
	uint8_t key_ids[KEY_COUNT][16];
	bool generated[KEY_COUNT];      /* objects with key_ids[k] exist on the token */
	time_t now;                     /* one instant for the whole hierarchy */
	X509 *certs[KEY_COUNT];
	char serials[KEY_COUNT][TSR_SERIAL_HEX_MAX + 1];
};

void tsr_init_options_default(struct tsr_init_options *o)
{
	memset(o, 0, sizeof(*o));
	o->organization = "Tessera Demo";
	o->key_type = TSR_KEY_EC_P384;
	o->public_url = "http://localhost:8080";
	o->root_days = 20 * 365;
	o->issuing_days = 10 * 365;
	o->ocsp_days = 90;
	o->softhsm_module = DEFAULT_SOFTHSM;
}

static int check_options(const struct tsr_init_options *o)
{
	size_t n = o->organization ? strlen(o->organization) : 0;

	if (o->home == NULL || o->home[0] == '\0')
		return tsr_error(TSR_ERR_INVALID, "--home is required");
	/* "<org> OCSP Responder" must fit RFC 5280's 64-character CN bound. */
	if (n == 0 || n > 49)
		return tsr_error(TSR_ERR_INVALID, "the organization name must be 1 to 49 characters");
	if (o->key_type == TSR_KEY_RSA_2048 || o->key_type == TSR_KEY_NONE)
		return tsr_error(TSR_ERR_KEY, "CA keys must be ec-p256, ec-p384, rsa-3072 or rsa-4096");
	if (o->country != NULL && (strlen(o->country) != 2 || o->country[0] < 'A' ||
	    o->country[0] > 'Z' || o->country[1] < 'A' || o->country[1] > 'Z'))
		return tsr_error(TSR_ERR_INVALID, "--country must be two capital letters, e.g. US");
	if (o->root_days < 1 || o->root_days > 7305)
		return tsr_error(TSR_ERR_INVALID, "--root-days must be 1..7305 (20 years)");
	if (o->issuing_days < 1 || o->issuing_days > 3653 || o->issuing_days > o->root_days)
		return tsr_error(TSR_ERR_INVALID,
		    "--issuing-days must be 1..3653 (10 years) and not exceed --root-days");
	if (o->ocsp_days < 1 || o->ocsp_days > 120 || o->ocsp_days > o->issuing_days)
		return tsr_error(TSR_ERR_INVALID,
		    "--ocsp-days must be 1..120 and not exceed --issuing-days");
	if ((o->module_path == NULL) != (o->token_uri == NULL) ||
	    (o->module_path == NULL) != (o->pin_file == NULL))
		return tsr_error(TSR_ERR_INVALID,
		    "--pkcs11-module, --token and --pin-file go together");
	if (o->public_url == NULL || strlen(o->public_url) > TSR_PUBLIC_URL_MAX ||
	    (strncmp(o->public_url, "http://", 7) != 0 && strncmp(o->public_url, "https://", 8) != 0))
		return tsr_error(TSR_ERR_INVALID, "--public-url must start with http:// or https:// "
		    "and be at most %d characters", TSR_PUBLIC_URL_MAX);
	if (o->database != NULL && !tsr_database_is_uri(o->database))
		return tsr_error(TSR_ERR_INVALID, "--database must be a PostgreSQL URI "
		    "(postgresql://...); without it the home gets an SQLite database");
	if (o->database != NULL && tsr_store_uri_check(o->database) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "--database");
	if (o->token_uri != NULL && ca_check_token_uri(o->token_uri) != 0)
		return tsr_error_wrap(TSR_ERR_INVALID, "--token");
	return 0;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* An existing home is never touched, but a Tessera home records the attempt. */
static int refuse_existing(const struct tsr_init_options *o, const char *actor)
{
	struct tsr_store *st = NULL;
	struct tsr_config cfg;
	char *db = NULL;

	if (!tsr_file_exists(o->home) || dir_is_empty(o->home))
		return 0;
	/* The database the home's config names (SQLite or PostgreSQL), else
	 * a tessera.db left there. */
	if (tsr_config_load(o->home, &cfg) == 0) {
		db = strdup(cfg.ca.database);
		tsr_config_free(&cfg);
	} else if (tsr_path_join(o->home, "tessera.db", &db) != 0 || !tsr_file_exists(db)) {
		free(db);
		db = NULL;
	}
	if (db != NULL && tsr_store_open(db, false, &st) == 0) {
		if (tsr_audit_append(st, actor, "ca.init", o->home, TSR_AUDIT_REFUSED,
		    "refused: the home already exists") != 0)
			fprintf(stderr, "tessera: warning: cannot audit: %s\n", tsr_error_detail());
		tsr_store_close(st);
	}
	free(db);
	return tsr_error(TSR_ERR_EXISTS, "%s already exists: init never touches an existing home",
	    o->home);
}

static int mkdir_parents(const char *path)
{
	char *copy = strdup(path), *parent;
	int r = 0;

	if (copy == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	parent = dirname(copy);
	if (!tsr_file_exists(parent)) {
		r = mkdir_parents(parent);
		if (r == 0 && mkdir(parent, 0755) != 0 && errno != EEXIST)
			r = tsr_error(TSR_ERR_IO, "cannot create %s: %s", parent, strerror(errno));
	}
	free(copy);
	return r;
}

static int make_staging(struct init *in)
{
	int r;

	if ((r = mkdir_parents(in->o->home)) != 0)
		return r;
	if (asprintf(&in->staging, "%s.init-XXXXXX", in->o->home) < 0) {
		in->staging = NULL;
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	if (mkdtemp(in->staging) == NULL) {
		r = tsr_error(TSR_ERR_IO, "cannot create %s: %s", in->staging, strerror(errno));
		free(in->staging);
		in->staging = NULL;
		return r;
	}
	return 0;
}

static int write_in(const char *dir, const char *name, const char *text, unsigned mode)
{
	char *path = NULL;
	int r;

	if ((r = tsr_path_join(dir, name, &path)) != 0)
		return r;
	r = tsr_file_create(path, text, strlen(text), mode);
	free(path);
	return r;
}

/* A PIN of 24 letters and digits, drawn without modulo bias. */
static int random_pin(char out[25])
{
	static const char alphabet[] =
	    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	const size_t n = sizeof(alphabet) - 1;
	size_t i = 0;
	uint8_t b;
	int r;

	while (i < 24) {
		if ((r = tsr_random(&b, 1)) != 0)
			return r;
		if (b < 256 - 256 % n)
			out[i++] = alphabet[b % n];
	}
	out[24] = '\0';
	tsr_wipe(&b, 1);
	return 0;
}

static int softhsm_conf_text(const char *home, struct tsr_buf *out)
{
	return tsr_buf_printf(out,
	    "# SoftHSM2 configuration of this CA's built-in token (written by tessera init).\n"
	    "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n"
	    "slots.removable = false\n", home);
}

/* The built-in token: a SoftHSM2 token directory inside the home. */
static int builtin_token(struct init *in, char **pin)
{
	char user_pin[25], so_pin[25];
	char *tokens = NULL, *abs_staging = NULL;
	struct tsr_buf conf;
	int r;

	tsr_buf_init(&conf, 4096);
	*pin = NULL;
	if ((abs_staging = realpath(in->staging, NULL)) == NULL) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", in->staging, strerror(errno));
		goto out;
	}
	if ((r = tsr_path_join(abs_staging, "tokens", &tokens)) != 0)
		goto out;
	if (mkdir(tokens, 0700) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot create %s: %s", tokens, strerror(errno));
		goto out;
	}
	if ((r = softhsm_conf_text(abs_staging, &conf)) != 0 ||
	    (r = tsr_path_join(abs_staging, "softhsm2.conf", &in->softhsm_conf)) != 0 ||
	    (r = tsr_file_create(in->softhsm_conf, conf.data, conf.len, 0600)) != 0)
		goto out;
	if ((r = random_pin(user_pin)) != 0 || (r = random_pin(so_pin)) != 0)
		goto out;
	if ((r = write_in(in->staging, "token.pin", user_pin, 0600)) != 0 ||
	    (r = write_in(in->staging, "token.so-pin", so_pin, 0600)) != 0)
		goto out;
	if (setenv("SOFTHSM2_CONF", in->softhsm_conf, 1) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot set SOFTHSM2_CONF");
		goto out;
	}
	if ((r = tsr_p11_module_load(in->module, &in->mod)) != 0 ||
	    (r = tsr_p11_token_init(in->mod, TOKEN_LABEL, so_pin, user_pin)) != 0)
		goto out;
	tsr_p11_module_unload(in->mod);
	in->mod = NULL;
	if ((r = tsr_p11_uri_for_token(TOKEN_LABEL, &in->token_uri)) != 0)
		goto out;
	if ((*pin = strdup(user_pin)) == NULL)
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
out:
	tsr_wipe(user_pin, sizeof(user_pin));
	tsr_wipe(so_pin, sizeof(so_pin));
	tsr_buf_free(&conf);
	free(tokens);
	free(abs_staging);
	return r;
}

static int open_token(struct init *in)
{
	const struct tsr_init_options *o = in->o;
	char *pin = NULL;
	int r;

	if (o->module_path == NULL) {
		in->module = strdup(o->softhsm_module ? o->softhsm_module : DEFAULT_SOFTHSM);
		if (in->module == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		if ((r = builtin_token(in, &pin)) != 0)
			goto out;
	} else {
		/* The config resolves relative paths against the home, so keep
		 * absolute ones; a bare module name is left to dlopen's search. */
		in->module = strchr(o->module_path, '/') ? realpath(o->module_path, NULL) :
		    strdup(o->module_path);
		if (in->module == NULL)
			return tsr_error(TSR_ERR_NOT_FOUND, "--pkcs11-module %s: %s", o->module_path,
			    strerror(errno));
		if ((in->pin_file = realpath(o->pin_file, NULL)) == NULL)
			return tsr_error(TSR_ERR_NOT_FOUND, "--pin-file %s: %s", o->pin_file,
			    strerror(errno));
		if ((in->token_uri = strdup(o->token_uri)) == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		if ((r = ca_read_pin(in->pin_file, &pin)) != 0)
			goto out;
	}
	r = ca_token_open(in->module, in->softhsm_conf, in->token_uri, pin, &in->mod, &in->sess);
	if (r == TSR_ERR_PIN)
		r = tsr_error_wrap(r, "cannot log in to the CA token");
out:
	tsr_free_secret(pin);
	return r;
}

static int generate_keys(struct init *in)
{
	char idhex[33];
	int r;

	for (int k = 0; k < KEY_COUNT; k++) {
		if ((r = tsr_random(in->key_ids[k], sizeof(in->key_ids[k]))) != 0)
			return r;
		r = tsr_p11_keygen(in->sess, in->o->key_type, key_labels[k], in->key_ids[k],
		    sizeof(in->key_ids[k]), &in->keys[k]);
		tsr_hex_encode(in->key_ids[k], sizeof(in->key_ids[k]), idhex);
		if (r != 0)
			return r;
		in->generated[k] = true;
		if ((r = ca_check_key_protected(in->keys[k], key_labels[k])) != 0)
			return r;
		if ((r = tsr_audit_append(in->store, in->actor, "key.generate", key_labels[k],
		    TSR_AUDIT_SUCCESS, "type=%s id=%s on the token, sensitive, not extractable",
		    tsr_key_type_name(in->o->key_type), idhex)) != 0)
			return r;
		if ((r = ca_signer_for(in->keys[k], &in->signers[k])) != 0)
			return r;
	}
	return 0;
}

static int ca_name(const struct tsr_init_options *o, const char *what, X509_NAME **out)
{
	X509_NAME *n = X509_NAME_new();
	char cn[128];
	int ok;

	snprintf(cn, sizeof(cn), "%s %s", o->organization, what);
	ok = n != NULL;
	if (ok && o->country != NULL)
		ok = X509_NAME_add_entry_by_NID(n, NID_countryName, V_ASN1_PRINTABLESTRING,
		    (const unsigned char *)o->country, -1, -1, 0) == 1;
	if (ok)
		ok = X509_NAME_add_entry_by_NID(n, NID_organizationName, MBSTRING_UTF8,
		    (const unsigned char *)o->organization, -1, -1, 0) == 1 &&
		    X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0) == 1;
	if (!ok) {
		X509_NAME_free(n);
		return tsr_error_openssl(TSR_ERR_INVALID, "cannot make the CA name");
	}
	*out = n;
	return 0;
}

struct ca_cert_spec {
	int key;                   /* KEY_ROOT, ... : whose certificate */
	int issuer;                /* whose key signs it */
	enum tsr_cert_kind kind;
	const char *what;          /* "Root CA" */
	int days;
	const char *crl, *ca_issuers;  /* URL suffixes, or NULL */
};

static int make_ca_cert(struct init *in, const struct ca_cert_spec *sp)
{
	struct ca_job job;
	struct tsr_cert_record rec;
	X509_NAME *name = NULL;
	EVP_PKEY *pub = NULL;
	char crl[512], issuers[512];
	time_t now = in->now;
	int r;

	memset(&job, 0, sizeof(job));
	if ((r = ca_name(in->o, sp->what, &name)) != 0 ||
	    (r = tsr_p11_key_public(in->keys[sp->key], &pub)) != 0)
		goto out;
	/* check_options() capped public_url, so these cannot truncate. */
	snprintf(crl, sizeof(crl), "%s%s", in->o->public_url, sp->crl ? sp->crl : "");
	snprintf(issuers, sizeof(issuers), "%s%s", in->o->public_url,
	    sp->ca_issuers ? sp->ca_issuers : "");
	job.t.kind = sp->kind;
	job.t.subject = name;
	job.t.pubkey = pub;
	job.t.not_before = now;
	/* Validity counts both ends (RFC 5280 4.1.2.5), hence the second less. */
	job.t.not_after = now + (time_t)sp->days * DAY - 1;
	job.t.issuer = sp->kind == TSR_CERT_ROOT ? NULL : in->certs[sp->issuer];
	job.t.crl_url = sp->crl ? crl : NULL;
	job.t.ca_issuers_url = sp->ca_issuers ? issuers : NULL;
	job.signer = in->signers[sp->issuer];
	job.issuer_label = sp->issuer == KEY_ROOT ? "root" : "issuing";
	job.role = sp->kind == TSR_CERT_OCSP ? "ocsp" : "ca";
	job.actor = in->actor;
	if ((r = ca_make_cert(in->store, &job, &in->certs[sp->key], &rec)) != 0)
		goto out;
	snprintf(in->serials[sp->key], sizeof(in->serials[sp->key]), "%s", rec.serial);
	tsr_cert_record_clear(&rec);
out:
	X509_NAME_free(name);
	EVP_PKEY_free(pub);
	return r;
}

static int make_ca_certs(struct init *in)
{
	const struct ca_cert_spec specs[] = {
		{ KEY_ROOT, KEY_ROOT, TSR_CERT_ROOT, "Root CA", in->o->root_days, NULL, NULL },
		{ KEY_ISSUING, KEY_ROOT, TSR_CERT_ISSUING, "Issuing CA", in->o->issuing_days,
		    "/crl/root.crl", "/ca/root.crt" },
		{ KEY_OCSP, KEY_ISSUING, TSR_CERT_OCSP, "OCSP Responder", in->o->ocsp_days,
		    NULL, "/ca/issuing.crt" },
	};
	int r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(specs); i++)
		if ((r = make_ca_cert(in, &specs[i])) != 0)
			return r;
	return 0;
}

/* Keep the CA certificates on the token beside their keys, and in certs/. */
static int save_certs(struct init *in)
{
	static const char *const files[KEY_COUNT] = { "root.pem", "issuing.pem", "ocsp.pem" };
	char *dir = NULL, *path = NULL;
	struct tsr_buf pem, chain;
	int r;

	tsr_buf_init(&pem, 1 << 20);
	tsr_buf_init(&chain, 1 << 20);
	if ((r = tsr_path_join(in->staging, "certs", &dir)) != 0)
		goto out;
	if (mkdir(dir, 0755) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	for (int k = 0; k < KEY_COUNT; k++) {
		unsigned char *der = NULL;
		int n = i2d_X509(in->certs[k], &der);

		if (n <= 0) {
			r = tsr_error_openssl(TSR_ERR_CRYPTO, "cannot encode a CA certificate");
			goto out;
		}
		r = tsr_p11_cert_store(in->sess, key_labels[k], in->key_ids[k],
		    sizeof(in->key_ids[k]), der, (size_t)n);
		OPENSSL_free(der);
		tsr_buf_reset(&pem);
		if (r != 0 || (r = ca_pem(in->certs[k], &pem)) != 0)
			goto out;
		free(path);
		path = NULL;
		if ((r = tsr_path_join(dir, files[k], &path)) != 0 ||
		    (r = tsr_file_create(path, pem.data, pem.len, 0644)) != 0)
			goto out;
	}
	/* chain.pem: what a server sends after its own certificate. */
	if ((r = ca_pem(in->certs[KEY_ISSUING], &chain)) != 0 ||
	    (r = ca_pem(in->certs[KEY_ROOT], &chain)) != 0)
		goto out;
	free(path);
	path = NULL;
	if ((r = tsr_path_join(dir, "chain.pem", &path)) == 0)
		r = tsr_file_create(path, chain.data, chain.len, 0644);
out:
	tsr_buf_free(&pem);
	tsr_buf_free(&chain);
	free(dir);
	free(path);
	return r;
}

/* A UUID OID (ITU-T X.667): an arc of our own, without registration. */
static int make_policy_arc(char **out)
{
	uint8_t u[16];
	BIGNUM *bn;
	char *dec;
	int r;

	if ((r = tsr_random(u, sizeof(u))) != 0)
		return r;
	u[6] = (u[6] & 0x0f) | 0x40;   /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
	bn = BN_bin2bn(u, sizeof(u), NULL);
	dec = bn ? BN_bn2dec(bn) : NULL;
	BN_free(bn);
	if (dec == NULL || asprintf(out, "2.25.%s", dec) < 0) {
		OPENSSL_free(dec);
		*out = NULL;
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	OPENSSL_free(dec);
	return 0;
}

/* The workflow's sections as a new home shows them: every value the
 * default, so an administrator sees the knobs and the file still loads. */
static const char workflow_config[] =
    "# ---------------------------------------------------------------------------\n"
    "# The enrollment workflow.  Every value below is the default, and the whole\n"
    "# section may be left out.  docs/operations.md explains each key.\n"
    "[ra]\n"
    "# Days an applicant has to verify the email address before the application\n"
    "# lapses (1..365).\n"
    "email_days = 30\n"
    "# Hours an email verification code stays valid (1..720).\n"
    "verification_hours = 24\n"
    "# Days an activation code stays valid after the final approval (1..365).\n"
    "activation_days = 30\n"
    "# Wrong passwords, secret answers or codes in a row before the account or\n"
    "# the code locks and an officer must unlock it (1..100; NIST SP 800-63B\n"
    "# allows no more than 100).\n"
    "max_failures = 5\n"
    "# The version of the subscriber agreement that applicants accept now; each\n"
    "# application records the version its applicant accepted.\n"
    "agreement_version = 2026-11\n"
    "# The agreement's text, shown to applicants before they accept it (plain\n"
    "# UTF-8 text; lines starting with \"# \" are headings, \"- \" list items).\n"
    "# Change agreement_version whenever you change the text.\n"
    "agreement_file = agreement.txt\n"
    "# Where applicants reach the web pages (the HTTPS address of `tessera serve`),\n"
    "# for the links in the mail they get.\n"
    "web_url = https://localhost:8443\n"
    "# A file of common or breached passwords, one per line, that are refused as\n"
    "# passwords.  Unset: the list built into tessera.\n"
    "# password_list = /etc/tessera/breached-passwords.txt\n"
    "# An RA officer's session ends after this many minutes without a request\n"
    "# (1..720) and this many hours after the login (1..24); an applicant's after\n"
    "# this many idle minutes (1..720).\n"
    "officer_idle_minutes = 30\n"
    "officer_session_hours = 12\n"
    "applicant_idle_minutes = 30\n"
    "\n"
    "# ---------------------------------------------------------------------------\n"
    "# Mail to applicants (docs/mail.md).  Every message is written to a Maildir\n"
    "# outbox first; with smtp_url set it is also sent through that SMTP relay.\n"
    "# Every value below is the default, and the whole section may be left out.\n"
    "[mail]\n"
    "# Verification codes, status changes and activation letters.\n"
    "outbox = outbox\n"
    "# Initial token passcodes: the second channel (21 CFR 1311.105), never\n"
    "# relayed.  Print them and post them apart from the token.  A directory of\n"
    "# its own, apart from outbox.\n"
    "passcode_outbox = passcodes\n"
    "# The sender (From: and the SMTP envelope).  Set a real address before you\n"
    "# configure a relay.\n"
    "from = noreply@tessera.invalid\n"
    "# The relay, smtp://host:port (with STARTTLS) or smtps://host:port; SMTP AUTH\n"
    "# with a user and a file (mode 0600) holding the password; PEM trust anchors\n"
    "# for the relay's certificate (unset: the system's).  Unset smtp_url: the\n"
    "# outbox only.\n"
    "# smtp_url = smtps://mail.example.com:465\n"
    "# smtp_user = tessera\n"
    "# smtp_password_file = smtp.password\n"
    "# smtp_ca_file = relay-ca.pem\n"
    "# required: with smtp://, STARTTLS must succeed or nothing is sent.  no:\n"
    "# plaintext, for a relay on loopback or on a network you trust.\n"
    "smtp_starttls = required\n"
    "# Seconds for the connection and for the whole transfer (0..600; 0 means 30).\n"
    "timeout = 0\n"
    "\n";

static const char verifier_example[] =
    "\n"
    "# ---------------------------------------------------------------------------\n"
    "# External verifiers\n"
    "#\n"
    "# A [verifier PRODUCT] section names an HTTP webhook that checks the identity\n"
    "# of each applicant for that product when the application reaches review.\n"
    "# Tessera POSTs the application's fields as JSON and shows the answer (pass\n"
    "# or fail, and the evidence) to the officers as one of the automatic checks;\n"
    "# it never approves or rejects by itself.  At most one per product.\n"
    "#   url         https://...; plain http:// only to 127.0.0.1, [::1] or\n"
    "#               localhost (required)\n"
    "#   ca_file     PEM trust anchors for its certificate (unset: the system's)\n"
    "#   token_file  a file (mode 0600) holding the bearer token sent to it\n"
    "#   timeout     seconds to wait for its answer (1..60, default 10)\n"
    "#\n"
    "# [verifier epcs]\n"
    "# url = https://verifier.example.com/tessera\n"
    "# ca_file = verifier-ca.pem\n"
    "# token_file = verifier.token\n"
    "# timeout = 10\n";

/* A sample subscriber agreement for a new home: the operator replaces it. */
static const char sample_agreement[] =
    "# Subscriber agreement (sample)\n"
    "\n"
    "This is the sample agreement `tessera init` writes. Replace it with your own\n"
    "text, and change [ra] agreement_version in tessera.conf when you do.\n"
    "\n"
    "## What you agree to\n"
    "\n"
    "- The information in your application is true and complete.\n"
    "- You keep your private key and your token under your sole control.\n"
    "- You ask for revocation at once if your key may be compromised.\n"
    "- You use the certificate only for the purposes of its product.\n"
    "\n"
    "## What we do\n"
    "\n"
    "We check your identity before we issue a certificate, keep your data only\n"
    "for that purpose and for the records the law requires, and publish the\n"
    "status of your certificate so that others can rely on it.\n";

static int write_agreement(struct init *in)
{
	char *path = NULL;
	int r;

	if ((r = tsr_path_join(in->staging, "agreement.txt", &path)) == 0)
		r = tsr_file_create(path, sample_agreement, sizeof(sample_agreement) - 1, 0644);
	free(path);
	return r;
}

static int write_config(struct init *in)
{
	const struct tsr_init_options *o = in->o;
	struct tsr_buf b;
	char *path = NULL;
	char when[21];
	int r;

	tsr_buf_init(&b, 1 << 20);
	tsr_time_format(tsr_now(), when);
	r = tsr_buf_printf(&b,
	    "# Tessera configuration, written by `tessera init` on %s.\n"
	    "# A [ca] section, the workflow's [ra] and [mail] sections, one [product NAME]\n"
	    "# section per product and, optionally, [verifier PRODUCT] sections.  Unknown\n"
	    "# keys are errors, so a typo never falls back silently.  Relative paths are\n"
	    "# relative to this directory.  See docs/operations.md and docs/products.md.\n"
	    "\n[ca]\n"
	    "# The organization named in the CA certificates.\n"
	    "organization = %s\n"
	    "# Two-letter country code of the CA certificates (may be empty).\n"
	    "country = %s\n"
	    "# Type of the CA keys (they already exist on the token; changing this\n"
	    "# does not change them).\n"
	    "key_type = %s\n"
	    "# The PKCS#11 module and the token (an RFC 7512 URI) holding the CA keys.\n"
	    "pkcs11_module = %s\n"
	    "token = %s\n"
	    "# A file holding the token's user PIN (keep it mode 0600).\n"
	    "pin_file = %s\n"
	    "# SoftHSM2 configuration of the built-in token (empty for an external HSM).\n"
	    "softhsm_conf = %s\n"
	    "# The database: an SQLite file, or a PostgreSQL URI (see docs/postgresql.md).\n"
	    "database = %s\n"
	    "# Base URL written into every certificate: OCSP at <url>/ocsp, CRLs at\n"
	    "# <url>/crl/<ca>.crl, CA certificates at <url>/ca/<ca>.crt.  Relying parties\n"
	    "# must reach it over plain HTTP.  Changing it affects new certificates only.\n"
	    "public_url = %s\n"
	    "# This CA's own OID arc (a UUID OID, ITU-T X.667); product policy OIDs sit under it.\n"
	    "policy_arc = %s\n"
	    "# Validity of the delegated OCSP-signing certificate, in days (at most 120).\n"
	    "ocsp_validity_days = %d\n"
	    "# Hours from one CRL of the issuing CA to its nextUpdate (at most 240), days\n"
	    "# for the root's CRL (at most 365), hours an OCSP response is valid (8..240).\n"
	    "crl_hours = 24\n"
	    "root_crl_days = 30\n"
	    "ocsp_response_hours = 24\n"
	    "# Names (DNS first, then IP addresses) in the TLS certificate of `tessera serve`;\n"
	    "# the server renews that certificate itself when these change.\n"
	    "server_names = localhost, 127.0.0.1, ::1\n\n",
	    when, o->organization, o->country ? o->country : "", tsr_key_type_name(o->key_type),
	    in->module, in->token_uri, o->module_path ? in->pin_file : "token.pin",
	    o->module_path ? "" : "softhsm2.conf", o->database ? o->database : "tessera.db",
	    o->public_url, in->policy_arc, o->ocsp_days);
	if (r == 0)
		r = tsr_buf_append_str(&b, workflow_config);
	if (r == 0)
		r = tsr_products_default_config(in->policy_arc, &b);
	if (r == 0)
		r = tsr_buf_append_str(&b, verifier_example);
	if (r == 0)
		r = tsr_path_join(in->staging, "tessera.conf", &path);
	if (r == 0)
		r = tsr_file_create(path, b.data, b.len, 0644);
	free(path);
	tsr_buf_free(&b);
	return r;
}

static int record_meta(struct init *in)
{
	static const char *const serial_keys[KEY_COUNT] = {
		"root_serial", "issuing_serial", "ocsp_serial" };
	static const char *const id_keys[KEY_COUNT] = {
		"root_key_id", "issuing_key_id", "ocsp_key_id" };
	char hex[33];
	int r;

	for (int k = 0; k < KEY_COUNT; k++) {
		tsr_hex_encode(in->key_ids[k], sizeof(in->key_ids[k]), hex);
		if ((r = tsr_store_meta_set(in->store, serial_keys[k], in->serials[k])) != 0 ||
		    (r = tsr_store_meta_set(in->store, id_keys[k], hex)) != 0)
			return r;
	}
	if ((r = tsr_store_meta_set(in->store, "organization", in->o->organization)) != 0)
		return r;
	return tsr_store_meta_set(in->store, "policy_arc", in->policy_arc);
}

/* With --database, the home built in SQLite lands in PostgreSQL in one
 * transaction (tsr_store_copy()), the chain is verified there, and the
 * SQLite file leaves the staging directory.  A database that is not empty
 * is refused before anything is written to it. */
static int land_in_database(struct init *in)
{
	static const char *const files[] = { "tessera.db", "tessera.db-wal", "tessera.db-shm" };
	struct tsr_store_copy_report rep;
	struct tsr_audit_report audit;
	struct tsr_store *dst = NULL;
	char *path = NULL;
	int r;

	if ((r = tsr_store_open_copy_target(in->o->database, &dst)) != 0 ||
	    (r = tsr_store_copy(in->store, dst, &rep)) != 0)
		goto out;
	if ((r = tsr_audit_verify(dst, &audit)) != 0) {
		r = tsr_error_wrap(r, "the database now holds this CA's data (empty it before "
		    "trying again), but");
		goto out;
	}
	tsr_store_close(in->store);
	in->store = NULL;
	/* The home's config names the database: the SQLite file goes (a
	 * file left behind would only mislead, so that is not fatal). */
	for (size_t i = 0; i < TSR_ARRAY_LEN(files); i++) {
		if (tsr_path_join(in->staging, files[i], &path) == 0 && unlink(path) != 0 &&
		    errno != ENOENT)
			fprintf(stderr, "tessera: warning: cannot remove %s: %s\n", path,
			    strerror(errno));
		free(path);
		path = NULL;
	}
out:
	tsr_store_close(dst);
	return r;
}

static int build_home(struct init *in)
{
	char *db = NULL;
	struct tsr_config check;
	int r;

	if ((r = make_policy_arc(&in->policy_arc)) != 0 ||
	    (r = tsr_path_join(in->staging, "tessera.db", &db)) != 0 ||
	    (r = tsr_store_open(db, true, &in->store)) != 0)
		goto out;
	/* Failures from here on cannot be audited: the log is in the staging
	 * directory that a failure removes.  They are reported to the caller. */
	if ((r = open_token(in)) != 0)
		goto out;
	if ((r = generate_keys(in)) != 0 || (r = make_ca_certs(in)) != 0 ||
	    (r = save_certs(in)) != 0 || (r = record_meta(in)) != 0 ||
	    (r = write_config(in)) != 0 || (r = write_agreement(in)) != 0)
		goto out;
	/* The file we just wrote must load: init never leaves a home that the
	 * other commands would refuse. */
	if ((r = tsr_config_load(in->staging, &check)) != 0)
		goto out;
	tsr_config_free(&check);
	r = tsr_audit_append(in->store, in->actor, "ca.init", in->o->home, TSR_AUDIT_SUCCESS,
	    "organization=%s key=%s token=%s root=%s issuing=%s ocsp=%s", in->o->organization,
	    tsr_key_type_name(in->o->key_type), in->token_uri, in->serials[KEY_ROOT],
	    in->serials[KEY_ISSUING], in->serials[KEY_OCSP]);
out:
	free(db);
	return r;
}

/* The absolute path the home will have: realpath() of its parent, since the
 * home itself does not exist yet. */
static int final_path(const char *home, char **out)
{
	char *a = strdup(home), *b = strdup(home), *parent = NULL;
	int r = 0;

	*out = NULL;
	if (a == NULL || b == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((parent = realpath(dirname(a), NULL)) == NULL) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", home, strerror(errno));
		goto out;
	}
	r = tsr_path_join(parent, basename(b), out);
out:
	free(a);
	free(b);
	free(parent);
	return r;
}

/* Point the built-in token's SoftHSM configuration at where the home will
 * be, before the rename, so that the rename is the last step of init. */
static int point_softhsm_home(struct init *in)
{
	struct tsr_buf conf;
	char *home = NULL;
	int r;

	if (in->o->module_path != NULL)
		return 0;
	tsr_buf_init(&conf, 4096);
	if ((r = final_path(in->o->home, &home)) == 0 &&
	    (r = softhsm_conf_text(home, &conf)) == 0)
		r = tsr_file_write(in->softhsm_conf, conf.data, conf.len, 0600);
	tsr_buf_free(&conf);
	free(home);
	return r;
}

/* Destroy what init made on an external token: each key pair and the
 * certificate stored beside it share an id.  (The built-in token goes with
 * the staging directory.) */
static void undo_token(struct init *in)
{
	int n;

	if (in->o->module_path == NULL || in->sess == NULL)
		return;
	for (int k = 0; k < KEY_COUNT; k++)
		if (in->generated[k] && tsr_p11_destroy_by_id(in->sess, in->key_ids[k],
		    sizeof(in->key_ids[k]), &n) != 0)
			fprintf(stderr, "tessera: warning: could not remove '%s' from the token: %s\n",
			    key_labels[k], tsr_error_detail());
}

static void close_token(struct init *in)
{
	for (int k = 0; k < KEY_COUNT; k++) {
		tsr_signer_free(in->signers[k]);
		tsr_p11_key_free(in->keys[k]);
		in->signers[k] = NULL;
		in->keys[k] = NULL;
	}
	tsr_p11_close(in->sess);
	tsr_p11_module_unload(in->mod);
	in->sess = NULL;
	in->mod = NULL;
}

static void init_free(struct init *in)
{
	for (int k = 0; k < KEY_COUNT; k++) {
		tsr_signer_free(in->signers[k]);
		tsr_p11_key_free(in->keys[k]);
		X509_free(in->certs[k]);
	}
	tsr_p11_close(in->sess);
	tsr_p11_module_unload(in->mod);
	tsr_store_close(in->store);
	free(in->staging);
	free(in->module);
	free(in->softhsm_conf);
	free(in->token_uri);
	free(in->pin_file);
	free(in->policy_arc);
}

int tsr_ca_init(const struct tsr_init_options *o, const char *actor)
{
	struct init in;
	char saved[1024];
	int r;

	memset(&in, 0, sizeof(in));
	in.o = o;
	in.actor = actor;
	in.now = tsr_now();
	if ((r = check_options(o)) != 0 || (r = refuse_existing(o, actor)) != 0)
		return r;
	if ((r = make_staging(&in)) != 0 || (r = build_home(&in)) != 0)
		goto out;
	/* Nothing may write under the staging directory once it moves: close
	 * the built-in token whose files live there, and the store.  An
	 * external token stays open so that a failed rename can be undone. */
	if (o->module_path == NULL)
		close_token(&in);
	if ((r = point_softhsm_home(&in)) != 0)
		goto out;
	/* With --database, the data lands there last but for the rename, so
	 * that little can fail once the database holds it. */
	if (o->database != NULL && (r = land_in_database(&in)) != 0)
		goto out;
	tsr_store_close(in.store);
	in.store = NULL;
	if (rename(in.staging, o->home) != 0) {
		r = tsr_error(TSR_ERR_IO, "cannot move %s to %s: %s%s", in.staging, o->home,
		    strerror(errno), o->database != NULL ? " (the database now holds this "
		    "CA's data: empty it before trying again)" : "");
	}
out:
	if (r != 0) {
		snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
		undo_token(&in);
		if (in.staging != NULL && tsr_dir_remove_tree(in.staging) != 0)
			fprintf(stderr, "tessera: warning: %s\n", tsr_error_detail());
		tsr_error(r, "%s", saved);
	}
	close_token(&in);
	init_free(&in);
	return r;
}
