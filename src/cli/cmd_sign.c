/*
 * cmd_sign.c - `tessera sign` and `tessera verify`: document signatures
 * (CMS SignedData) made with the key on the subscriber's token, and checked
 * against a trusted root.  The format and the checks are in src/x509/cms.c
 * and docs/sign.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "client/client.h"
#include "x509/x509.h"

const char cli_usage_sign[] =
    "usage: tessera sign --in FILE --out FILE.p7s [--detached] [--pem] [--module PATH]\n"
    "                    [--token URI] [--id HEX] [--passcode-file FILE]\n"
    "\n"
    "Sign a document with the key on your token: a CMS SignedData (RFC 5652) with\n"
    "the signed attributes content-type, message-digest, signing-time and\n"
    "signing-certificate-v2, your certificate and the CA certificates stored on\n"
    "the token.  The token passcode is asked for without echo.  See docs/sign.md.\n"
    "\n"
    "options:\n"
    "  --in FILE             the document (at most 64 MiB)\n"
    "  --out FILE            where the signature goes (replaced if it exists)\n"
    "  --detached            leave the document out of the signature: the verifier\n"
    "                        then needs it beside (tessera verify --content)\n"
    "  --pem                 write PEM (\"-----BEGIN CMS-----\") instead of DER\n"
    "  --module PATH         the PKCS#11 module (default: $TESSERA_PKCS11_MODULE, else\n"
    "                        OpenSC's)\n"
    "  --token URI           which token (a PKCS#11 URI, e.g. 'pkcs11:serial=1234');\n"
    "                        default: the only one present\n"
    "  --id HEX              the certificate (and key) with this CKA_ID; default: the\n"
    "                        one Tessera certificate on the token that is valid now\n"
    "  --passcode-file FILE  read the token passcode from the first line of FILE (only\n"
    "                        its owner may read it) instead of asking\n"
    "  --help                this text\n";

const char cli_usage_verify[] =
    "usage: tessera verify --in FILE.p7s [--content FILE] --ca-file ROOT\n"
    "                      [--untrusted CHAIN] [--no-status | --status-timeout SECONDS]\n"
    "                      [--json]\n"
    "\n"
    "Check a document signature (DER or PEM): its structure, that it names the\n"
    "signer's certificate, the content's digest, the signature, the chain to ROOT,\n"
    "the certificates' validity at the signing time, the key usage, and whether\n"
    "the signer's certificate was revoked: asked of the OCSP responder the\n"
    "certificate names, else of its CRL distribution point (nothing else is\n"
    "contacted).  Prints one line per check and exits 0 only if every check is\n"
    "good; 65 if one is bad, 74 if the revocation status could not be learnt.\n"
    "See docs/sign.md.\n"
    "\n"
    "options:\n"
    "  --in FILE          the signature\n"
    "  --content FILE     the signed document, for a detached signature\n"
    "  --ca-file ROOT     PEM file of the trusted root certificate(s)\n"
    "  --untrusted CHAIN  PEM file of intermediate CA certificates, if the signature\n"
    "                     does not carry them\n"
    "  --no-status        do not ask about revocation (status: not checked)\n"
    "  --status-timeout SECONDS\n"
    "                     for each OCSP or CRL request (default 10, at most 300)\n"
    "  --json             the report as JSON\n"
    "  --help             this text\n";

enum { OPT_IN = 1, OPT_OUT, OPT_DETACHED, OPT_PEM, OPT_MODULE, OPT_TOKEN, OPT_ID,
	OPT_PASSCODE_FILE, OPT_CONTENT, OPT_CA_FILE, OPT_UNTRUSTED, OPT_JSON, OPT_NO_STATUS,
	OPT_STATUS_TIMEOUT, OPT_HELP };

static const struct option sign_options[] = {
	{ "in", required_argument, NULL, OPT_IN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "detached", no_argument, NULL, OPT_DETACHED },
	{ "pem", no_argument, NULL, OPT_PEM },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "id", required_argument, NULL, OPT_ID },
	{ "passcode-file", required_argument, NULL, OPT_PASSCODE_FILE },
	{ "content", required_argument, NULL, OPT_CONTENT },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "untrusted", required_argument, NULL, OPT_UNTRUSTED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-status", no_argument, NULL, OPT_NO_STATUS },
	{ "status-timeout", required_argument, NULL, OPT_STATUS_TIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sign_args {
	const char *in, *out, *module, *token, *passcode_file, *content, *ca_file, *untrusted;
	uint8_t id[64];
	size_t id_len;
	long status_timeout;            /* 0: the default */
	bool detached, pem, json, no_status, status_timeout_given;
};

/* One option parser for both commands; allowed lists what each takes. */
static int parse(int argc, char **argv, const char *usage, const char *allowed,
    struct sign_args *a)
{
	int c, r = 0;

	memset(a, 0, sizeof(*a));
	cli_options_begin();
	while (r == 0 && (c = cli_next_option(argc, argv, sign_options, OPT_HELP, allowed,
	    usage)) > 0 && c != CLI_HELP) {
		switch (c) {
		case OPT_IN: a->in = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_DETACHED: a->detached = true; break;
		case OPT_PEM: a->pem = true; break;
		case OPT_MODULE: a->module = optarg; break;
		case OPT_TOKEN: a->token = optarg; break;
		case OPT_PASSCODE_FILE: a->passcode_file = optarg; break;
		case OPT_CONTENT: a->content = optarg; break;
		case OPT_CA_FILE: a->ca_file = optarg; break;
		case OPT_UNTRUSTED: a->untrusted = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_NO_STATUS: a->no_status = true; break;
		case OPT_STATUS_TIMEOUT:
			a->status_timeout_given = true;
			if (cli_parse_uint("--status-timeout", optarg, TSR_STATUS_TIMEOUT_MAX,
			    &a->status_timeout) != 0 || a->status_timeout == 0)
				r = cli_usage_error(usage, "--status-timeout: '%s' is not 1 to %d "
				    "seconds", optarg, TSR_STATUS_TIMEOUT_MAX);
			break;
		case OPT_ID:
			if (tsr_hex_decode(optarg, a->id, sizeof(a->id), &a->id_len) != 0 ||
			    a->id_len == 0)
				r = cli_usage_error(usage, "--id: '%s' is not 1 to 64 bytes of hex",
				    optarg);
			break;
		default:
			return cli_bad_option(usage, argv);
		}
	}
	if (c < 0 || c == CLI_HELP)
		return c;   /* a usage error, or help was printed */
	if (r == 0 && optind < argc)
		r = cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return r;
}

/* ------------------------------------------------------------------ sign */

static bool valid_now(X509 *x, time_t now)
{
	return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(x), &now) > 0;
}

/* The one Tessera end-entity certificate with its key on the token that is
 * valid now; *idx its index in certs. */
static int pick_cert(const struct tsr_client_cert *certs, size_t n, time_t now, size_t *idx)
{
	char ids[256] = "", hex[129];
	size_t found = 0, used = 0;

	for (size_t i = 0; i < n; i++) {
		if (certs[i].is_ca || !certs[i].has_key || certs[i].id_len == 0 ||
		    strncmp(certs[i].label, TSR_CLIENT_LABEL_PREFIX,
		    strlen(TSR_CLIENT_LABEL_PREFIX)) != 0 || !valid_now(certs[i].x, now))
			continue;
		*idx = i;
		tsr_hex_encode(certs[i].id, certs[i].id_len, hex);
		if (used < sizeof(ids))
			used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%s '%s'",
			    found ? ", " : "", hex, certs[i].label);
		found++;
	}
	if (found == 0)
		return tsr_error(TSR_ERR_NOT_FOUND, "no Tessera certificate valid now with its key "
		    "on the token (tessera token show lists what is there)");
	if (found > 1)
		return tsr_error(TSR_ERR_INVALID, "%zu Tessera certificates on the token are valid "
		    "now: choose one with --id (%s)", found, ids);
	return 0;
}

/* CA certificates on the token that chain up from leaf, roots left out
 * (the verifier brings its own). */
static int token_chain(const struct tsr_client_cert *certs, size_t n, X509 *leaf,
    STACK_OF(X509) **out)
{
	X509 *cur = leaf;

	if ((*out = sk_X509_new_null()) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (int depth = 0; depth < TSR_CMS_CERTS_MAX - 1; depth++) {
		X509 *up = NULL;

		for (size_t i = 0; i < n && up == NULL; i++)
			if (certs[i].is_ca && X509_check_issued(certs[i].x, cur) == X509_V_OK &&
			    X509_check_issued(certs[i].x, certs[i].x) != X509_V_OK)
				up = certs[i].x;
		if (up == NULL)
			break;
		if (sk_X509_push(*out, up) <= 0)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		cur = up;
	}
	return 0;
}

/* The token passcode from --passcode-file or the terminal. */
static int passcode(const char *file, char **out)
{
	if (file != NULL)
		return cli_password_file(file, "--passcode-file", out);
	if (!isatty(STDIN_FILENO))
		return tsr_error(TSR_ERR_INVALID, "standard input is not a terminal: give the "
		    "token passcode with --passcode-file FILE");
	return cli_password_prompt("Token passcode: ", NULL, out);
}

/* The certificate to sign with: the one with --id, else pick_cert's. */
static int signing_cert(struct tsr_client_token *t, const struct sign_args *a,
    const struct tsr_client_cert *certs, size_t n, X509 **cert, uint8_t *id, size_t *id_len)
{
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0, i = 0;
	int r;

	if (a->id_len == 0) {
		if ((r = pick_cert(certs, n, tsr_now(), &i)) != 0)
			return r;
		memcpy(id, certs[i].id, certs[i].id_len);
		*id_len = certs[i].id_len;
		if (X509_up_ref(certs[i].x) != 1)
			return tsr_error(TSR_ERR_CRYPTO, "X509_up_ref");
		*cert = certs[i].x;
		return 0;
	}
	if ((r = tsr_p11_cert_find(t->s, a->id, a->id_len, &der, &len)) != 0)
		return r == TSR_ERR_NOT_FOUND ? tsr_error(r, "no certificate with --id on the "
		    "token") : r;
	p = der;
	*cert = d2i_X509(NULL, &p, (long)len);
	free(der);
	if (*cert == NULL)
		return tsr_error_openssl(TSR_ERR_PARSE, "the certificate with --id is not X.509");
	memcpy(id, a->id, a->id_len);
	*id_len = a->id_len;
	return 0;
}

static int write_signature(const char *path, const uint8_t *der, size_t len, bool pem)
{
	BIO *b = NULL;
	BUF_MEM *mem = NULL;
	int r;

	if (!pem)
		return tsr_file_write(path, der, len, 0644);
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(b, "CMS", "", der, (long)len) <= 0) {
		BIO_free(b);
		return tsr_error_openssl(TSR_ERR_CRYPTO, "cannot write PEM");
	}
	BIO_get_mem_ptr(b, &mem);
	r = tsr_file_write(path, mem->data, mem->length, 0644);
	BIO_free(b);
	return r;
}

/* --out must not be --in: the document would be lost. */
static int check_paths(const char *in, const char *out)
{
	struct stat si, so;

	if (stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev &&
	    si.st_ino == so.st_ino)
		return tsr_error(TSR_ERR_INVALID, "--out is the document itself (--in)");
	return 0;
}

/* Sign data with the token's key and certificate; *der is the signature. */
static int sign_on_token(const struct sign_args *a, const struct tsr_buf *data, uint8_t **der,
    size_t *der_len, X509 **signer)
{
	struct tsr_client_token t;
	struct tsr_client_cert *certs = NULL;
	struct tsr_client_key key;
	STACK_OF(X509) *chain = NULL;
	uint8_t id[64];
	size_t n = 0, id_len = 0;
	char *pin = NULL;
	int r;

	memset(&key, 0, sizeof(key));
	if ((r = tsr_client_token_open(tsr_client_module_path(a->module), a->token, &t)) != 0)
		return r;
	if ((r = passcode(a->passcode_file, &pin)) != 0 || (r = tsr_client_login(&t, pin)) != 0)
		goto out;
	if ((r = tsr_client_certs(&t, &certs, &n)) != 0 ||
	    (r = signing_cert(&t, a, certs, n, signer, id, &id_len)) != 0 ||
	    (r = tsr_client_key_by_id(&t, id, id_len, &key)) != 0 ||
	    (r = token_chain(certs, n, *signer, &chain)) != 0)
		goto out;
	r = tsr_cms_sign(key.signer, *signer, chain, data->data, data->len, a->detached,
	    tsr_now(), der, der_len);
out:
	sk_X509_free(chain);
	tsr_client_key_free(&key);
	tsr_client_certs_free(certs, n);
	tsr_free_secret(pin);
	tsr_client_token_close(&t);
	return r;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_args a;
	struct tsr_buf data;
	uint8_t *der = NULL;
	size_t der_len = 0;
	X509 *signer = NULL;
	char *subject = NULL;
	const char allowed[] = { CLI_ALLOW(OPT_IN), CLI_ALLOW(OPT_OUT), CLI_ALLOW(OPT_DETACHED),
		CLI_ALLOW(OPT_PEM), CLI_ALLOW(OPT_MODULE), CLI_ALLOW(OPT_TOKEN), CLI_ALLOW(OPT_ID),
		CLI_ALLOW(OPT_PASSCODE_FILE), '\0' };
	int r;

	if ((r = parse(argc, argv, cli_usage_sign, allowed, &a)) != 0)
		return r;
	if (a.in == NULL || a.out == NULL)
		return cli_usage_error(cli_usage_sign, "--in and --out are required");
	if ((r = check_paths(a.in, a.out)) != 0)
		return r;
	tsr_buf_init(&data, TSR_CMS_CONTENT_MAX);
	if ((r = tsr_file_read(a.in, TSR_CMS_CONTENT_MAX, &data)) != 0) {
		r = tsr_error_wrap(r, "--in %s", a.in);
		goto out;
	}
	if ((r = sign_on_token(&a, &data, &der, &der_len, &signer)) != 0 ||
	    (r = write_signature(a.out, der, der_len, a.pem)) != 0)
		goto out;
	if (tsr_name_format(X509_get_subject_name(signer), &subject) != 0)
		tsr_error_clear();
	printf("signed %s (%zu bytes) as %s; %s signature in %s\n", a.in, data.len,
	    subject ? subject : "?", a.detached ? "detached" : "attached", a.out);
out:
	free(subject);
	X509_free(signer);
	OPENSSL_free(der);
	tsr_buf_free(&data);
	return r;
}

/* ------------------------------------------------------------------ verify */

/* The signature as DER: the file as it is, or its one PEM block ("CMS" or
 * "PKCS7") with nothing but whitespace around. */
static int read_signature(const char *path, struct tsr_buf *out)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len = 0;
	size_t i = 0;
	BIO *b;
	int r;

	tsr_buf_init(out, TSR_CMS_MAX);
	if ((r = tsr_file_read(path, TSR_CMS_MAX, out)) != 0)
		return tsr_error_wrap(r, "--in %s", path);
	/* PEM if the first thing after whitespace is a BEGIN line; else DER,
	 * which the parser judges. */
	while (i < out->len && out->data[i] != '\0' && strchr(" \t\r\n", out->data[i]) != NULL)
		i++;
	if (out->len - i < 11 || memcmp(out->data + i, "-----BEGIN ", 11) != 0)
		return 0;
	if ((b = BIO_new_mem_buf(out->data, (int)out->len)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (PEM_read_bio(b, &name, &header, &data, &len) != 1 ||
	    (strcmp(name, "CMS") != 0 && strcmp(name, "PKCS7") != 0) || header[0] != '\0') {
		r = tsr_error(TSR_ERR_PARSE, "--in %s: not one PEM CMS or PKCS7 block", path);
		goto out;
	}
	for (char c; BIO_read(b, &c, 1) == 1;)
		if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			r = tsr_error(TSR_ERR_PARSE, "--in %s: something follows the PEM block", path);
			goto out;
		}
	tsr_buf_reset(out);
	r = tsr_buf_append(out, data, (size_t)len);
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(b);
	return r;
}

static void print_report(const struct tsr_cms_report *rep)
{
	char t[21];

	if (rep->signer != NULL) {
		printf("signer        %s\nissuer        %s\nserial        %s\n",
		    rep->subject ? rep->subject : "?", rep->issuer ? rep->issuer : "?",
		    rep->serial[0] ? rep->serial : "?");
	}
	if (rep->has_signing_time) {
		tsr_time_format(rep->signing_time, t);
		printf("signing time  %s (the signer's clock; no timestamp authority)\n", t);
	}
	if (rep->digest != NULL)
		printf("content       %zu bytes, %s, %s\n", rep->content_len,
		    rep->detached ? "detached" : "attached", rep->digest);
	printf("\n");
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++) {
		char label[32];

		snprintf(label, sizeof(label), "%s:", tsr_cms_check_name(c));
		if (rep->result[c] == TSR_CMS_NOT_CHECKED)
			printf("%-20s%s\n", label, rep->reason[c]);
		else
			printf("%-20s%s (%s)\n", label, tsr_cms_result_name(rep->result[c]),
			    rep->reason[c]);
	}
	if (rep->result[TSR_CMS_CHECK_VALIDITY] != TSR_CMS_NOT_RUN)
		printf("%-20s%s (%s)\n", "valid now:", rep->valid_now ? "yes" : "no",
		    rep->valid_now_reason);
	if (rep->result[TSR_CMS_CHECK_KEY_USAGE] == TSR_CMS_GOOD)
		printf("%-20s%s\n", "non-repudiation:", rep->non_repudiation ?
		    "yes (keyUsage nonRepudiation)" : "no (keyUsage lacks nonRepudiation)");
}

/* The answer about the signer's certificate, or null if none was asked. */
static json_t *revocation_json(const struct tsr_cms_report *rep)
{
	static const char *const states[] = { "unknown", "good", "revoked" };
	const struct tsr_cms_status *st = &rep->status;
	json_t *o;
	char t[21];

	if (!rep->status_recorded)
		return json_null();
	o = json_pack("{s:s, s:s, s:s}", "state", states[st->state], "source", st->source,
	    "detail", st->detail);
	if (st->state == TSR_REVOCATION_REVOKED) {
		tsr_time_format(st->revoked_at, t);
		json_object_set_new(o, "revoked_at", json_string(t));
		json_object_set_new(o, "reason", json_string(tsr_cms_reason_name(st->reason)));
		tsr_time_format(st->invalidity_date, t);
		json_object_set_new(o, "invalidity_date", st->invalidity_date != 0 ?
		    json_string(t) : json_null());
	}
	return o;
}

static json_t *report_json(const struct tsr_cms_report *rep, bool verified)
{
	json_t *o = json_object(), *checks = json_object(), *signer = json_null();
	char t[21];

	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++)
		json_object_set_new(checks, tsr_cms_check_name(c), json_pack("{s:s, s:s}",
		    "result", tsr_cms_result_name(rep->result[c]), "reason", rep->reason[c]));
	if (rep->signer != NULL)
		signer = json_pack("{s:s, s:s, s:s}", "subject", rep->subject ? rep->subject : "",
		    "issuer", rep->issuer ? rep->issuer : "", "serial", rep->serial);
	json_object_set_new(o, "verified", json_boolean(verified));
	json_object_set_new(o, "signer", signer);
	tsr_time_format(rep->signing_time, t);
	json_object_set_new(o, "signing_time", rep->has_signing_time ? json_string(t) :
	    json_null());
	json_object_set_new(o, "detached", json_boolean(rep->detached));
	json_object_set_new(o, "content_length", json_integer((json_int_t)rep->content_len));
	json_object_set_new(o, "digest", rep->digest ? json_string(rep->digest) : json_null());
	json_object_set_new(o, "chain_length", json_integer((json_int_t)rep->chain_len));
	json_object_set_new(o, "valid_now", rep->result[TSR_CMS_CHECK_VALIDITY] ==
	    TSR_CMS_NOT_RUN ? json_null() : json_boolean(rep->valid_now));
	json_object_set_new(o, "valid_now_reason", json_string(rep->valid_now_reason));
	json_object_set_new(o, "non_repudiation", json_boolean(rep->non_repudiation));
	json_object_set_new(o, "revocation", revocation_json(rep));
	json_object_set_new(o, "checks", checks);
	return o;
}

/* The files verify reads: signature, content, roots, intermediates. */
struct verify_input {
	struct tsr_buf p7s, content;
	STACK_OF(X509) *roots, *untrusted;
};

static int load_inputs(const struct sign_args *a, struct verify_input *in)
{
	int r;

	tsr_buf_init(&in->content, TSR_CMS_CONTENT_MAX);
	if ((r = read_signature(a->in, &in->p7s)) != 0)
		return r;
	if (a->content != NULL &&
	    (r = tsr_file_read(a->content, TSR_CMS_CONTENT_MAX, &in->content)) != 0)
		return tsr_error_wrap(r, "--content %s", a->content);
	if ((r = tsr_client_load_pem(a->ca_file, &in->roots)) != 0)
		return tsr_error_wrap(r, "--ca-file %s", a->ca_file);
	if (a->untrusted != NULL && (r = tsr_client_load_pem(a->untrusted, &in->untrusted)) != 0)
		return tsr_error_wrap(r, "--untrusted %s", a->untrusted);
	return 0;
}

/* Ask about the signer's revocation status once the chain is verified
 * (before, there is no trusted issuer to ask about); r is the verdict so
 * far, whose detail is kept if it is a failure. */
static int verify_status(const struct sign_args *a, const struct verify_input *in, time_t now,
    struct tsr_cms_report *rep, int r)
{
	struct tsr_status_query q;
	struct tsr_cms_status st;
	char detail[1024];
	int rs;

	if (rep->result[TSR_CMS_CHECK_STATUS] != TSR_CMS_NOT_CHECKED || rep->chain == NULL)
		return r;
	if (a->no_status) {
		snprintf(rep->reason[TSR_CMS_CHECK_STATUS], TSR_CMS_REASON_MAX,
		    "not checked (--no-status)");
		return r;
	}
	if (sk_X509_num(rep->chain) < 2) {
		snprintf(rep->reason[TSR_CMS_CHECK_STATUS], TSR_CMS_REASON_MAX,
		    "not checked (the signer's certificate is itself a trust anchor)");
		return r;
	}
	memset(&q, 0, sizeof(q));
	q.cert = rep->signer;
	q.issuer = sk_X509_value(rep->chain, 1);
	q.roots = in->roots;
	q.untrusted = rep->chain;
	q.now = now;
	q.timeout = a->status_timeout;
	snprintf(detail, sizeof(detail), "%s", tsr_error_detail());
	if ((rs = tsr_client_status(&q, &st)) == 0)
		rs = tsr_cms_report_status(rep, &st);
	if (r == 0)
		return rs;
	tsr_error(r, "%s", detail);
	return r;
}

/* The last line of the text report. */
static const char *verdict(const struct tsr_cms_report *rep, int r)
{
	if (r == 0)
		return rep->result[TSR_CMS_CHECK_STATUS] == TSR_CMS_GOOD ?
		    "verified: every check is good" :
		    "verified: every check is good; the revocation status was not checked";
	for (int c = 0; c < TSR_CMS_CHECK_COUNT; c++)
		if (rep->result[c] == TSR_CMS_BAD)
			return "NOT VERIFIED: see the bad check above";
	if (rep->result[TSR_CMS_CHECK_STATUS] == TSR_CMS_UNKNOWN)
		return "NOT VERIFIED: the revocation status is unknown (see status above; "
		    "--no-status verifies without it)";
	return "NOT VERIFIED: see the check above";
}

int cmd_verify(int argc, char **argv)
{
	struct sign_args a;
	struct verify_input in;
	struct tsr_cms_report rep;
	time_t now = tsr_now();
	const char allowed[] = { CLI_ALLOW(OPT_IN), CLI_ALLOW(OPT_CONTENT), CLI_ALLOW(OPT_CA_FILE),
		CLI_ALLOW(OPT_UNTRUSTED), CLI_ALLOW(OPT_JSON), CLI_ALLOW(OPT_NO_STATUS),
		CLI_ALLOW(OPT_STATUS_TIMEOUT), '\0' };
	int r, pr;

	memset(&in, 0, sizeof(in));
	memset(&rep, 0, sizeof(rep));
	tsr_buf_init(&in.p7s, 0);
	if ((r = parse(argc, argv, cli_usage_verify, allowed, &a)) != 0)
		return r;
	if (a.in == NULL || a.ca_file == NULL)
		return cli_usage_error(cli_usage_verify, "--in and --ca-file are required");
	if (a.no_status && a.status_timeout_given)
		return cli_usage_error(cli_usage_verify, "--no-status and --status-timeout exclude "
		    "each other");
	if ((r = load_inputs(&a, &in)) != 0)
		goto out;
	r = tsr_cms_verify(in.p7s.data, in.p7s.len, a.content ? in.content.data : NULL,
	    in.content.len, in.roots, in.untrusted, now, &rep);
	r = verify_status(&a, &in, now, &rep, r);
	/* Keep the detail that names the first bad check while printing. */
	if (a.json) {
		char detail[1024];

		snprintf(detail, sizeof(detail), "%s", tsr_error_detail());
		pr = cli_json_print(report_json(&rep, r == 0));
		tsr_error(r, "%s", detail);
	} else {
		print_report(&rep);
		printf("\n%s\n", verdict(&rep, r));
		pr = 0;
	}
	if (r == 0)
		r = pr;
out:
	tsr_cms_report_clear(&rep);
	tsr_buf_free(&in.p7s);
	tsr_buf_free(&in.content);
	sk_X509_pop_free(in.roots, X509_free);
	sk_X509_pop_free(in.untrusted, X509_free);
	return r;
}
