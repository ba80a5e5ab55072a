/*
 * test_crl.c - the streaming CRL writer (x509/crl.c), through the signer
 * shim driven by software keys (as in test_cert and test_cms).  Every CRL
 * it writes is read back with OpenSSL (d2i_X509_CRL, every byte consumed)
 * and its signature checked with X509_CRL_verify() and the issuer's key;
 * the fields and extensions are checked one by one, and where OpenSSL's
 * accessors would hide the encoding (UTCTime or GeneralizedTime, the
 * signature algorithm's parameters, an absent entry list) the DER itself.
 *
 * Then the CA's side (ca/crl.c) on a real home with its SoftHSM2 token:
 * what goes on the CRL from the store, the numbers, the meta and audit
 * records, and several threads publishing at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "store/store.h"
#include "x509/x509.h"
#include "soft_key.h"

#define DAY 86400
#define T0 ((time_t)1790000000)    /* 2026-09-21 */

struct ca {
	EVP_PKEY *key;
	struct tsr_signer *signer;
	X509 *cert;
};

struct fx {
	char dir[64];
	char path[128];
	struct ca root, issuing;
};

/* ------------------------------------------------------------------ fixtures */

static X509 *ca_cert(enum tsr_cert_kind kind, const char *cn, EVP_PKEY *pub,
    const struct ca *issuer, struct tsr_signer *signer)
{
	struct tsr_cert_template t;
	X509_NAME *n = NULL;
	X509 *cert = NULL;
	char dn[96];

	snprintf(dn, sizeof(dn), "CN=%s,O=Tessera Test,C=US", cn);
	assert_int_equal(tsr_name_parse(dn, &n), 0);
	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.subject = n;
	t.pubkey = pub;
	assert_int_equal(tsr_serial_random(t.serial, &t.serial_len), 0);
	t.not_before = T0 - DAY;
	t.not_after = T0 + 3000 * (time_t)DAY;
	t.issuer = issuer != NULL ? issuer->cert : NULL;
	if (kind != TSR_CERT_ROOT) {
		t.ca_issuers_url = "http://localhost:8080/ca/root.crt";
		t.crl_url = "http://localhost:8080/crl/root.crl";
	}
	if (tsr_cert_make(&t, signer, T0, NULL, &cert) != 0)
		fail_msg("tsr_cert_make: %s", tsr_error_detail());
	X509_NAME_free(n);
	return cert;
}

static void ca_new(struct ca *c, enum tsr_key_type type)
{
	memset(c, 0, sizeof(*c));
	c->key = make_key(type);
	assert_non_null(c->key);
	assert_int_equal(tsr_signer_new(c->key, soft_sign, c->key, &c->signer), 0);
}

static void ca_free(struct ca *c)
{
	tsr_signer_free(c->signer);
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

/* A root and an issuing CA with keys of type t. */
static void pki(struct fx *fx, enum tsr_key_type t)
{
	ca_new(&fx->root, t);
	ca_new(&fx->issuing, t);
	fx->root.cert = ca_cert(TSR_CERT_ROOT, "Test Root", fx->root.key, NULL, fx->root.signer);
	fx->issuing.cert = ca_cert(TSR_CERT_ISSUING, "Test Issuing", fx->issuing.key, &fx->root,
	    fx->root.signer);
}

static int setup_type(void **state, enum tsr_key_type t)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tsr-crl-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/issuing.crl", fx->dir);
	pki(fx, t);
	*state = fx;
	return 0;
}

static int setup_p384(void **state) { return setup_type(state, TSR_KEY_EC_P384); }
static int setup_p256(void **state) { return setup_type(state, TSR_KEY_EC_P256); }
static int setup_rsa(void **state) { return setup_type(state, TSR_KEY_RSA_2048); }

static int teardown(void **state)
{
	struct fx *fx = *state;

	ca_free(&fx->root);
	ca_free(&fx->issuing);
	if (tsr_dir_remove_tree(fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

static struct tsr_crl_params params(struct ca *c, time_t this_update, uint64_t number)
{
	struct tsr_crl_params p = { .issuer = c->cert, .signer = c->signer,
		.this_update = this_update, .next_update = this_update + DAY, .number = number };

	return p;
}

static struct tsr_crl_writer *begin(struct fx *fx, const struct tsr_crl_params *p)
{
	struct tsr_crl_writer *w = NULL;

	if (tsr_crl_begin(p, fx->path, &w) != 0)
		fail_msg("tsr_crl_begin: %s", tsr_error_detail());
	return w;
}

static void add_ok(struct tsr_crl_writer *w, const char *serial, time_t at, const char *reason,
    time_t inv)
{
	if (tsr_crl_add(w, serial, at, reason, inv) != 0)
		fail_msg("tsr_crl_add %s: %s", serial, tsr_error_detail());
}

static size_t finish_ok(struct tsr_crl_writer *w)
{
	size_t n = (size_t)-1;

	if (tsr_crl_finish(w, &n) != 0)
		fail_msg("tsr_crl_finish: %s", tsr_error_detail());
	assert_int_equal(ERR_peek_error(), 0);
	return n;
}

/* The number of entries in fx->dir (the CRL, and anything left beside it). */
static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ reading back */

struct der {
	uint8_t *p;
	long len;
};

static struct der read_der(const char *path)
{
	struct tsr_buf b;
	struct der d;

	tsr_buf_init(&b, 256u << 20);
	assert_int_equal(tsr_file_read(path, 256u << 20, &b), 0);
	d.p = b.data;
	d.len = (long)b.len;
	return d;
}

/* Parse the CRL file: every byte must belong to the CRL, and it must be
 * signed by issuer's key. */
static X509_CRL *load(const char *path, const X509 *issuer, struct der *der)
{
	const unsigned char *p;
	X509_CRL *crl;

	*der = read_der(path);
	p = der->p;
	crl = d2i_X509_CRL(NULL, &p, der->len);
	if (crl == NULL)
		fail_msg("d2i_X509_CRL failed");
	assert_ptr_equal(p, der->p + der->len);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
	return crl;
}

/* The children of the TBSCertList: their offsets in der and lengths
 * (header included); returns how many. */
static int tbs_children(const struct der *der, long off[8], long len[8])
{
	const unsigned char *p = der->p, *tbs_end;
	long l;
	int tag, cls, n = 0;

	assert_int_equal(ASN1_get_object(&p, &l, &tag, &cls, der->len) & 0x80, 0);
	assert_int_equal(tag, V_ASN1_SEQUENCE);
	assert_int_equal(ASN1_get_object(&p, &l, &tag, &cls, der->len) & 0x80, 0);
	tbs_end = p + l;
	while (p < tbs_end && n < 8) {
		const unsigned char *start = p;

		assert_int_equal(ASN1_get_object(&p, &l, &tag, &cls, tbs_end - p) & 0x80, 0);
		p += l;
		off[n] = (long)(start - der->p);
		len[n] = (long)(p - start);
		n++;
	}
	return n;
}

static X509_REVOKED *find_entry(X509_CRL *crl, const char *hex)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	BIGNUM *want = NULL, *got;
	X509_REVOKED *hit = NULL;

	assert_true(BN_hex2bn(&want, hex) > 0);
	for (int i = 0; i < sk_X509_REVOKED_num(revs) && hit == NULL; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);

		got = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		if (BN_cmp(got, want) == 0)
			hit = r;
		BN_free(got);
	}
	BN_free(want);
	if (hit == NULL)
		fail_msg("no CRL entry for serial %s", hex);
	return hit;
}

static void assert_time(const ASN1_TIME *t, time_t want, int type)
{
	assert_non_null(t);
	assert_int_equal(ASN1_STRING_type(t), type);
	assert_int_equal(ASN1_TIME_cmp_time_t(t, want), 0);
}

/* The entry's reasonCode (-1 if absent), checked not critical. */
static long entry_reason(X509_REVOKED *r)
{
	int crit = -1;
	ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	long v;

	if (e == NULL) {
		assert_int_equal(crit, -1);   /* absent, not malformed */
		return -1;
	}
	assert_int_equal(crit, 0);
	v = ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	return v;
}

/* The entry's invalidityDate (0 if absent): a GeneralizedTime, not critical. */
static time_t entry_invalidity(X509_REVOKED *r)
{
	int crit = -1;
	ASN1_GENERALIZEDTIME *g = X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, &crit, NULL);
	struct tm tm;
	time_t t;

	if (g == NULL) {
		assert_int_equal(crit, -1);
		return 0;
	}
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_STRING_type(g), V_ASN1_GENERALIZEDTIME);
	assert_int_equal(ASN1_TIME_to_tm(g, &tm), 1);
	t = timegm(&tm);
	ASN1_GENERALIZEDTIME_free(g);
	return t;
}

/* The CRL's own extensions: exactly AKI (the issuer's SKI, nothing else)
 * and cRLNumber, neither critical. */
static void assert_crl_extensions(X509_CRL *crl, X509 *issuer, uint64_t number)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	AUTHORITY_KEYID *aki;
	ASN1_INTEGER *num;
	uint64_t got = 0;
	int crit = -1;

	assert_int_equal(X509_CRL_get_ext_count(crl), 2);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
	assert_non_null(aki);
	assert_int_equal(crit, 0);
	assert_non_null(aki->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, ski), 0);
	assert_null(aki->issuer);
	assert_null(aki->serial);
	AUTHORITY_KEYID_free(aki);
	crit = -1;
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	assert_non_null(num);
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_INTEGER_get_uint64(&got, num), 1);
	assert_true(got == number);
	ASN1_INTEGER_free(num);
}

/* The signature algorithm, inside the TBS and outside, byte for byte what
 * X509_sign() wrote into the issuer's certificate for the same kind of key
 * (root and issuing keys are of one type here), and its expected DER. */
static void assert_sig_alg(const struct der *der, X509_CRL *crl, X509 *issuer,
    const uint8_t *want, size_t want_len)
{
	const X509_ALGOR *outer = NULL, *cert_alg = NULL;
	unsigned char *a = NULL, *b = NULL;
	long off[8], len[8];
	int alen, blen;

	assert_true(tbs_children(der, off, len) >= 5);
	assert_int_equal(len[1], (long)want_len);
	assert_memory_equal(der->p + off[1], want, want_len);
	X509_CRL_get0_signature(crl, NULL, &outer);
	alen = i2d_X509_ALGOR(outer, &a);
	X509_get0_signature(NULL, &cert_alg, issuer);
	blen = i2d_X509_ALGOR(cert_alg, &b);
	assert_int_equal(alen, (int)want_len);
	assert_memory_equal(a, want, want_len);
	assert_int_equal(blen, (int)want_len);
	assert_memory_equal(b, want, want_len);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

static const uint8_t ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x03 };
static const uint8_t ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x02 };
static const uint8_t rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x0b, 0x05, 0x00 };

/* ------------------------------------------------------------------ tests */

/* Every field and extension of a CRL with entries of each shape. */
static void check_full_crl(struct fx *fx, const uint8_t *alg, size_t alg_len)
{
	struct tsr_crl_params p = params(&fx->issuing, T0, 7);
	struct tsr_crl_writer *w = begin(fx, &p);
	static const char max_serial[] = "ffffffffffffffffffffffffffffffffffffffff";
	X509_CRL *crl;
	X509_REVOKED *r;
	struct der der;
	struct stat sb;

	add_ok(w, "1a2b3c4d5e6f708192a3b4c5d6e7f801", T0 - 3600, "keyCompromise", T0 - 2 * DAY);
	add_ok(w, "ff01", T0 - 7200, NULL, 0);                 /* high bit: a leading zero */
	add_ok(w, "abc", T0 - 60, "unspecified", 0);            /* odd digits; no reasonCode */
	add_ok(w, "00DEADBEEF", T0 - 120, "certificateHold", 0); /* upper case, leading zeros */
	add_ok(w, "7e", T0 - 180, "unspecified", T0 - DAY);      /* only an invalidity date */
	add_ok(w, max_serial, T0 - 240, "aACompromise", 0);     /* 20 octets */
	assert_int_equal(finish_ok(w), 6);
	assert_int_equal(files_in(fx->dir), 1);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);

	crl = load(fx->path, fx->issuing.cert, &der);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(fx->issuing.cert)), 0);
	assert_time(X509_CRL_get0_lastUpdate(crl), T0, V_ASN1_UTCTIME);
	assert_time(X509_CRL_get0_nextUpdate(crl), T0 + DAY, V_ASN1_UTCTIME);
	assert_sig_alg(&der, crl, fx->issuing.cert, alg, alg_len);
	assert_crl_extensions(crl, fx->issuing.cert, 7);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 6);

	r = find_entry(crl, "1a2b3c4d5e6f708192a3b4c5d6e7f801");
	assert_time(X509_REVOKED_get0_revocationDate(r), T0 - 3600, V_ASN1_UTCTIME);
	assert_int_equal(entry_reason(r), 1);
	assert_true(entry_invalidity(r) == T0 - 2 * DAY);
	assert_int_equal(X509_REVOKED_get_ext_count(r), 2);
	r = find_entry(crl, "ff01");
	assert_int_equal(ASN1_STRING_length(X509_REVOKED_get0_serialNumber(r)), 2);
	assert_int_equal(X509_REVOKED_get_ext_count(r), 0);   /* no crlEntryExtensions */
	r = find_entry(crl, "0abc");
	assert_time(X509_REVOKED_get0_revocationDate(r), T0 - 60, V_ASN1_UTCTIME);
	assert_int_equal(X509_REVOKED_get_ext_count(r), 0);
	r = find_entry(crl, "deadbeef");
	assert_int_equal(entry_reason(r), 6);
	assert_true(entry_invalidity(r) == 0);
	r = find_entry(crl, "7e");
	assert_int_equal(entry_reason(r), -1);
	assert_true(entry_invalidity(r) == T0 - DAY);
	r = find_entry(crl, max_serial);
	assert_int_equal(entry_reason(r), 10);
	X509_CRL_free(crl);
	free(der.p);
}

static void test_full_crl_p384(void **state)
{
	check_full_crl(*state, ecdsa_sha384, sizeof(ecdsa_sha384));
}

static void test_full_crl_p256(void **state)
{
	check_full_crl(*state, ecdsa_sha256, sizeof(ecdsa_sha256));
}

static void test_full_crl_rsa(void **state)
{
	check_full_crl(*state, rsa_sha256, sizeof(rsa_sha256));
}

/* RFC 5280 5.1.2.6: no revoked certificates, no revokedCertificates. */
static void test_no_entries(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->root, T0, 1);
	struct tsr_crl_writer *w = NULL;
	long off[8], len[8];
	X509_CRL *crl;
	struct der der;

	assert_int_equal(tsr_crl_begin(&p, fx->path, &w), 0);
	assert_int_equal(finish_ok(w), 0);
	crl = load(fx->path, fx->root.cert, &der);
	assert_null(X509_CRL_get_REVOKED(crl));
	assert_crl_extensions(crl, fx->root.cert, 1);
	/* version, signature, issuer, thisUpdate, nextUpdate, [0] extensions */
	assert_int_equal(tbs_children(&der, off, len), 6);
	assert_int_equal(der.p[off[5]], 0xa0);
	assert_int_equal(files_in(fx->dir), 1);
	X509_CRL_free(crl);
	free(der.p);
}

/* UTCTime through 2049, GeneralizedTime from 2050; invalidityDate always
 * GeneralizedTime. */
static void test_times_after_2049(void **state)
{
	struct fx *fx = *state;
	const time_t end_2049 = 2524607999;   /* 2049-12-31T23:59:59Z */
	struct tsr_crl_params p = params(&fx->issuing, end_2049 - 3600, 2);
	struct tsr_crl_writer *w;
	X509_CRL *crl;
	X509_REVOKED *r;
	struct der der;

	p.next_update = end_2049 + 1 + 365 * (time_t)DAY;
	w = begin(fx, &p);
	add_ok(w, "01", end_2049, "superseded", end_2049 - DAY);
	add_ok(w, "02", end_2049 + 1, "superseded", 0);
	add_ok(w, "03", (time_t)253402300799, "superseded", 0);   /* 9999-12-31T23:59:59Z */
	assert_int_equal(finish_ok(w), 3);
	crl = load(fx->path, fx->issuing.cert, &der);
	assert_time(X509_CRL_get0_lastUpdate(crl), end_2049 - 3600, V_ASN1_UTCTIME);
	assert_time(X509_CRL_get0_nextUpdate(crl), p.next_update, V_ASN1_GENERALIZEDTIME);
	r = find_entry(crl, "01");
	assert_time(X509_REVOKED_get0_revocationDate(r), end_2049, V_ASN1_UTCTIME);
	assert_true(entry_invalidity(r) == end_2049 - DAY);
	r = find_entry(crl, "02");
	assert_time(X509_REVOKED_get0_revocationDate(r), end_2049 + 1, V_ASN1_GENERALIZEDTIME);
	assert_int_equal(entry_reason(r), 4);
	r = find_entry(crl, "03");
	assert_time(X509_REVOKED_get0_revocationDate(r), (time_t)253402300799,
	    V_ASN1_GENERALIZEDTIME);
	X509_CRL_free(crl);
	free(der.p);
}

/* Times all over the calendar (leap days, centuries, the ends of the
 * ranges) come back as OpenSSL reads them, in the right encoding. */
static void test_times_calendar(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 4);
	struct tsr_crl_writer *w = begin(fx, &p);
	static const time_t fixed[] = { 1, 951782400, 951868799, 4107542400, 4107628799,
		2524607999, 2524608000, 1735689599, 253402300799 };
	STACK_OF(X509_REVOKED) *revs;
	enum { N = 3000 };
	time_t t[N];
	uint64_t x = 42;
	X509_CRL *crl;
	struct der der;
	char s[16];

	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		t[i] = i < (int)TSR_ARRAY_LEN(fixed) ? fixed[i] :
		    (time_t)(1 + (x >> 11) % 253402300799ull);
		snprintf(s, sizeof(s), "%x", i + 1);
		add_ok(w, s, t[i], NULL, t[i]);
	}
	assert_int_equal(finish_ok(w), N);
	crl = load(fx->path, fx->issuing.cert, &der);
	revs = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(revs), N);
	for (int k = 0; k < N; k++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, k);
		long i = ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(r)) - 1;
		struct tm tm;

		assert_true(i >= 0 && i < N);
		assert_non_null(gmtime_r(&t[i], &tm));
		assert_time(X509_REVOKED_get0_revocationDate(r), t[i],
		    tm.tm_year >= 50 && tm.tm_year < 150 ? V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME);
		assert_true(entry_invalidity(r) == t[i]);
	}
	X509_CRL_free(crl);
	free(der.p);
}

/* Refused entries change nothing: the writer goes on and the CRL holds
 * only the good ones. */
static void test_bad_entries_refused(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 3);
	struct tsr_crl_writer *w = begin(fx, &p);
	static const char *const bad_serials[] = { "", "0", "0000", "xyz", "12g4", "-1", "1 2",
		"0x12", "1ffffffffffffffffffffffffffffffffffffffff", "12\n" };
	static const char *const bad_reasons[] = { "removeFromCRL", "KeyCompromise", "stolen",
		"", "certificatehold" };
	X509_CRL *crl;
	struct der der;

	add_ok(w, "0100", T0 - 10, "superseded", 0);
	assert_int_equal(tsr_crl_add(w, NULL, T0, "superseded", 0), TSR_ERR_INVALID);
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_serials); i++) {
		if (tsr_crl_add(w, bad_serials[i], T0, "superseded", 0) != TSR_ERR_INVALID)
			fail_msg("serial '%s' was accepted", bad_serials[i]);
		assert_non_null(strstr(tsr_error_detail(), "serial"));
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(bad_reasons); i++) {
		if (tsr_crl_add(w, "0200", T0, bad_reasons[i], 0) != TSR_ERR_INVALID)
			fail_msg("reason '%s' was accepted", bad_reasons[i]);
		assert_non_null(strstr(tsr_error_detail(), "reason"));
	}
	assert_int_equal(tsr_crl_add(w, "0200", 0, "superseded", 0), TSR_ERR_INVALID);
	assert_int_equal(tsr_crl_add(w, "0200", T0, "superseded", -5), TSR_ERR_INVALID);
	assert_int_equal(tsr_crl_add(w, "0200", (time_t)253402300800, "superseded", 0),
	    TSR_ERR_INVALID);   /* year 10000 */
	add_ok(w, "0300", T0 - 20, "privilegeWithdrawn", 0);
	assert_int_equal(finish_ok(w), 2);
	crl = load(fx->path, fx->issuing.cert, &der);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	assert_int_equal(entry_reason(find_entry(crl, "0100")), 4);
	assert_int_equal(entry_reason(find_entry(crl, "0300")), 9);
	X509_CRL_free(crl);
	free(der.p);
}

/* An issuer certificate without extensions (no subjectKeyIdentifier). */
static X509 *bare_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = NULL;

	assert_int_equal(tsr_name_parse("CN=Bare", &n), 0);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 5), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), T0));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), T0 + DAY));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

/* What begin refuses, before any file is made. */
static void test_bad_params(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 1);
	struct tsr_crl_writer *w = (struct tsr_crl_writer *)&p;
	X509 *bare = bare_cert(fx->issuing.key);
	char missing[160];

	p.next_update = T0;
	assert_int_equal(tsr_crl_begin(&p, fx->path, &w), TSR_ERR_INVALID);
	assert_null(w);
	p = params(&fx->issuing, T0, 1);
	p.signer = fx->root.signer;            /* not the issuer's key */
	assert_int_equal(tsr_crl_begin(&p, fx->path, &w), TSR_ERR_KEY);
	p = params(&fx->issuing, T0, 1);
	p.issuer = bare;
	assert_int_equal(tsr_crl_begin(&p, fx->path, &w), TSR_ERR_INVALID);
	assert_non_null(strstr(tsr_error_detail(), "subjectKeyIdentifier"));
	p = params(&fx->issuing, T0, 1);
	assert_int_equal(tsr_crl_begin(&p, "", &w), TSR_ERR_INVALID);
	assert_int_equal(tsr_crl_begin(NULL, fx->path, &w), TSR_ERR_INVALID);
	snprintf(missing, sizeof(missing), "%s/no/such/dir/x.crl", fx->dir);
	assert_int_equal(tsr_crl_begin(&p, missing, &w), TSR_ERR_IO);
	assert_null(w);
	assert_int_equal(files_in(fx->dir), 0);
	X509_free(bare);
}

/* cRLNumber is an INTEGER of any size: 0 and 2^64 - 1 (nine octets, a
 * leading zero). */
static void test_crl_numbers(void **state)
{
	struct fx *fx = *state;
	const uint64_t numbers[] = { 0, 127, 128, 255, 65536, UINT64_MAX };
	struct tsr_crl_params p;
	X509_CRL *crl;
	struct der der;

	for (size_t i = 0; i < TSR_ARRAY_LEN(numbers); i++) {
		p = params(&fx->issuing, T0, numbers[i]);
		assert_int_equal(finish_ok(begin(fx, &p)), 0);
		crl = load(fx->path, fx->issuing.cert, &der);
		assert_crl_extensions(crl, fx->issuing.cert, numbers[i]);
		X509_CRL_free(crl);
		free(der.p);
	}
}

/* Abort leaves nothing; a previous CRL at path stays as it was. */
static void test_abort(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 1);
	struct tsr_crl_writer *w = begin(fx, &p);
	struct der before, after;

	add_ok(w, "01", T0, "superseded", 0);
	assert_int_equal(files_in(fx->dir), 1);   /* the entries, beside path */
	tsr_crl_abort(w);
	assert_int_equal(files_in(fx->dir), 0);
	tsr_crl_abort(NULL);

	assert_int_equal(finish_ok(begin(fx, &p)), 0);
	before = read_der(fx->path);
	w = begin(fx, &p);
	for (int i = 1; i < 100; i++) {
		char s[8];

		snprintf(s, sizeof(s), "%x", i);
		add_ok(w, s, T0, "superseded", 0);
	}
	tsr_crl_abort(w);
	after = read_der(fx->path);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.p, after.p, (size_t)before.len);
	assert_int_equal(files_in(fx->dir), 1);
	free(before.p);
	free(after.p);
}

static int failing_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	(void)ctx;
	(void)in;
	(void)inlen;
	(void)out;
	(void)outlen;
	return TSR_ERR_PKCS11;
}

/* A token that fails, or signs with another key than the issuer's: the
 * CRL is not published, nothing is left beside path, and the CRL that
 * was there stays. */
static void test_bad_signature_not_published(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 1);
	struct tsr_signer *broken = NULL, *wrong = NULL;
	struct tsr_crl_writer *w;
	struct der before, after;

	assert_int_equal(finish_ok(begin(fx, &p)), 0);
	before = read_der(fx->path);
	assert_int_equal(tsr_signer_new(fx->issuing.key, failing_sign, NULL, &broken), 0);
	/* The issuer's public key, the root's private key. */
	assert_int_equal(tsr_signer_new(fx->issuing.key, soft_sign, fx->root.key, &wrong), 0);

	p.signer = broken;
	p.number = 2;
	w = begin(fx, &p);
	add_ok(w, "01", T0, "superseded", 0);
	assert_int_equal(tsr_crl_finish(w, NULL), TSR_ERR_PKCS11);
	ERR_clear_error();
	p.signer = wrong;
	w = begin(fx, &p);
	add_ok(w, "01", T0, "superseded", 0);
	assert_int_equal(tsr_crl_finish(w, NULL), TSR_ERR_PKCS11);
	assert_non_null(strstr(tsr_error_detail(), "does not verify"));
	ERR_clear_error();

	after = read_der(fx->path);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.p, after.p, (size_t)before.len);
	assert_int_equal(files_in(fx->dir), 1);
	free(before.p);
	free(after.p);
	tsr_signer_free(broken);
	tsr_signer_free(wrong);
}

/* Enough entries that the lengths take three octets and the copy runs
 * over many chunks: every entry comes back. */
static void test_many_entries(void **state)
{
	struct fx *fx = *state;
	struct tsr_crl_params p = params(&fx->issuing, T0, 9);
	struct tsr_crl_writer *w = begin(fx, &p);
	STACK_OF(X509_REVOKED) *revs;
	const int n = 20000;
	X509_CRL *crl;
	struct der der;
	char s[40];

	for (int i = 1; i <= n; i++) {
		snprintf(s, sizeof(s), "1%07x%024x", (unsigned)i, (unsigned)i * 2654435761u);
		add_ok(w, s, T0 - i, i % 3 == 0 ? "keyCompromise" : NULL, i % 5 == 0 ? T0 - DAY : 0);
	}
	assert_int_equal(finish_ok(w), (size_t)n);
	crl = load(fx->path, fx->issuing.cert, &der);
	assert_true(der.len > 8 * 65536);   /* many chunks of the copy */
	revs = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(revs), n);
	for (int i = 0; i < n; i += 997) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = BN_bn2hex(bn);
		unsigned id = 0;

		/* OpenSSL sorts entries by serial: find i from the serial itself. */
		assert_int_equal(sscanf(hex + 1, "%7x", &id), 1);
		assert_time(X509_REVOKED_get0_revocationDate(r), T0 - (time_t)id, V_ASN1_UTCTIME);
		assert_int_equal(entry_reason(r), id % 3 == 0 ? 1 : -1);
		assert_true(entry_invalidity(r) == (id % 5 == 0 ? T0 - DAY : 0));
		OPENSSL_free(hex);
		BN_free(bn);
	}
	X509_CRL_free(crl);
	free(der.p);
}

/* ------------------------------------------------------------------ the CA's CRLs */

struct home {
	char dir[64];
	char home[96];
	struct tsr_ca *ca;
};

static int setup_home(void **state)
{
	struct home *h = calloc(1, sizeof(*h));
	struct tsr_init_options o;
	const char *m = getenv("SOFTHSM_MODULE");

	if (h == NULL)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/tsr-crl-ca-XXXXXX");
	if (mkdtemp(h->dir) == NULL)
		return -1;
	snprintf(h->home, sizeof(h->home), "%s/home", h->dir);
	tsr_init_options_default(&o);
	o.home = h->home;
	o.key_type = TSR_KEY_EC_P256;
	o.softhsm_module = m != NULL ? m : "/usr/lib/softhsm/libsofthsm2.so";
	if (tsr_ca_init(&o, "test") != 0 || tsr_ca_open(h->home, &h->ca) != 0)
		return -1;
	*state = h;
	return 0;
}

static int teardown_home(void **state)
{
	struct home *h = *state;

	tsr_ca_close(h->ca);
	if (tsr_dir_remove_tree(h->dir) != 0)
		return -1;
	free(h);
	return 0;
}

static const uint8_t fake_der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

/* A stored subscriber certificate of issuer (fake DER: the CRL reads only
 * the columns), revoked with reason at revoked_at unless reason is NULL. */
static void stored_cert(struct tsr_store *st, const char *serial, const char *issuer,
    int64_t not_after, const char *reason, int64_t revoked_at, int64_t inv)
{
	struct tsr_cert_record rec;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.serial, sizeof(rec.serial), "%s", serial);
	snprintf(rec.issuer, sizeof(rec.issuer), "%s", issuer);
	snprintf(rec.role, sizeof(rec.role), "subscriber");
	snprintf(rec.product, sizeof(rec.product), "device");
	snprintf(rec.key_type, sizeof(rec.key_type), "ec-p256");
	snprintf(rec.status, sizeof(rec.status), "valid");
	memset(rec.fingerprint, 'a', 64);
	rec.not_before = not_after - 100 * DAY;
	rec.not_after = not_after;
	rec.issued_at = rec.not_before;
	rec.subject = (char *)"CN=seeded";
	rec.sans = (char *)"";
	rec.der = (uint8_t *)fake_der;
	rec.der_len = sizeof(fake_der);
	assert_int_equal(tsr_store_begin(st), 0);
	assert_int_equal(tsr_store_serial_reserve(st, serial, issuer), 0);
	assert_int_equal(tsr_store_cert_put(st, &rec), 0);
	assert_int_equal(tsr_store_commit(st), 0);
	if (reason != NULL)
		assert_int_equal(tsr_store_cert_set_status(st, serial, "valid",
		    strcmp(reason, "certificateHold") == 0 ? "suspended" : "revoked", revoked_at,
		    reason, inv), 0);
}

struct audit_count {
	const char *action, *outcome, *detail;
	int n;
};

static int count_audit(const struct tsr_audit_record *r, void *ctx)
{
	struct audit_count *c = ctx;

	if (strcmp(r->action, c->action) == 0 && strcmp(r->outcome, c->outcome) == 0 &&
	    (c->detail == NULL || strstr(r->detail, c->detail) != NULL))
		c->n++;
	return 0;
}

static int audited(struct tsr_ca *ca, const char *action, const char *outcome,
    const char *detail)
{
	struct audit_count c = { action, outcome, detail, 0 };

	assert_int_equal(tsr_store_audit_iter(tsr_ca_store(ca), count_audit, &c), 0);
	return c.n;
}

static uint64_t file_crl_number(const char *path, const X509 *issuer, int *entries)
{
	struct der der;
	X509_CRL *crl = load(path, issuer, &der);
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	uint64_t n = 0;

	assert_non_null(num);
	assert_int_equal(ASN1_INTEGER_get_uint64(&n, num), 1);
	if (entries != NULL)
		*entries = X509_CRL_get_REVOKED(crl) == NULL ? 0 :
		    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	free(der.p);
	return n;
}

/* What the store holds goes on the CRL of the CA that issued it: revoked
 * and suspended, not valid; expired ones for one more period (RFC 5280
 * 5.1.2.6), then no more. */
static void test_ca_publish(void **state)
{
	struct home *h = *state;
	struct tsr_store *st = tsr_ca_store(h->ca);
	struct tsr_crl_info info, got;
	time_t now = time(NULL);
	char *path = tsr_ca_crl_path(h->ca, "issuing"), *root_path;
	X509 *issuing = (X509 *)tsr_ca_issuing_cert(h->ca), *root = (X509 *)tsr_ca_root_cert(h->ca);
	X509_CRL *crl;
	struct der der;
	struct stat sb;
	int n;

	assert_non_null(path);
	assert_null(tsr_ca_crl_path(h->ca, "ocsp"));
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &got), TSR_ERR_NOT_FOUND);
	stored_cert(st, "1001", "issuing", now + 90 * DAY, "keyCompromise", now - 3600,
	    now - DAY);
	stored_cert(st, "1002", "issuing", now + 90 * DAY, "certificateHold", now - 60, 0);
	stored_cert(st, "1003", "issuing", now + 90 * DAY, NULL, 0, 0);
	stored_cert(st, "1004", "issuing", now - 12 * 3600, "superseded", now - 5 * DAY, 0);
	stored_cert(st, "1005", "issuing", now - 25 * 3600, "superseded", now - 5 * DAY, 0);
	stored_cert(st, "1006", "root", now + 90 * DAY, "cACompromise", now - 60, 0);

	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 1);
	assert_int_equal(info.entries, 3);
	assert_true(info.next_update - info.this_update == 24 * 3600);
	assert_true(info.this_update >= now && info.this_update <= now + 60);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	crl = load(path, issuing, &der);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	assert_int_equal(entry_reason(find_entry(crl, "1001")), 1);
	assert_true(entry_invalidity(find_entry(crl, "1001")) == now - DAY);
	assert_int_equal(entry_reason(find_entry(crl, "1002")), 6);
	assert_int_equal(entry_reason(find_entry(crl, "1004")), 4);
	assert_crl_extensions(crl, issuing, 1);
	X509_CRL_free(crl);
	free(der.p);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &got), 0);
	assert_memory_equal(&got, &info, sizeof(got));
	assert_int_equal(audited(h->ca, "crl.issue", "success", "number=1 entries=3"), 1);

	/* A lifted hold leaves; numbers go on. */
	assert_int_equal(tsr_ca_resume(h->ca, NULL, "test", "1002"), 0);
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 2);
	assert_int_equal(info.entries, 2);
	assert_true(file_crl_number(path, issuing, &n) == 2);
	assert_int_equal(n, 2);

	/* The root's CRL: its own numbers, its key, 30 days. */
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "root", "test", &info), 0);
	assert_true(info.number == 1);
	assert_int_equal(info.entries, 1);
	assert_true(info.next_update - info.this_update == 30 * DAY);
	root_path = tsr_ca_crl_path(h->ca, "root");
	assert_true(file_crl_number(root_path, root, &n) == 1);
	assert_int_equal(n, 1);

	/* An unknown CA is refused, and the refusal audited. */
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "ocsp", "test", &info), TSR_ERR_INVALID);
	assert_int_equal(audited(h->ca, "crl.issue", "refused", NULL), 1);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "ocsp", &got), TSR_ERR_INVALID);
	free(path);
	free(root_path);
}

/* The number of the CRL in this home, as HOME/crl/.issuing.number says
 * (its record "NUMBER THIS_UPDATE NEXT_UPDATE ENTRIES" begins with it). */
static long home_number(const struct home *h)
{
	char path[160];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/crl/.issuing.number", h->home);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

static void set_home_number(const struct home *h, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/crl/.issuing.number", h->home);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int unlink_home_number(const struct home *h)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/crl/.issuing.number", h->home);
	return unlink(path);
}

/* A higher number published in this home meanwhile wins: ours is dropped,
 * not put over it, and the caller learns which CRL is published. */
static void test_ca_superseded(void **state)
{
	struct home *h = *state;
	struct tsr_store *st = tsr_ca_store(h->ca);
	X509 *issuing = (X509 *)tsr_ca_issuing_cert(h->ca);
	char *path = tsr_ca_crl_path(h->ca, "issuing"), dir[128];
	struct tsr_crl_info info;

	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 1);
	assert_int_equal(home_number(h), 1);
	/* This home's record names 50; meta, the newest anywhere, names 60
	 * (another node's): the caller learns what is in place here. */
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", "60 1800000100 1800086500 9"), 0);
	set_home_number(h, "50 1800000000 1800086400 7\n");
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 50);
	assert_true(info.this_update == 1800000000);
	assert_true(info.next_update == 1800086400);
	assert_int_equal(info.entries, 7);
	assert_true(file_crl_number(path, issuing, NULL) == 1);   /* not replaced by 2 */
	assert_int_equal(home_number(h), 50);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 50 && info.this_update == 1800000000);
	snprintf(dir, sizeof(dir), "%s/crl", h->home);
	assert_int_equal(files_in(dir), 2);   /* the CRL and its record: nothing staged */
	assert_int_equal(audited(h->ca, "crl.issue", "success",
	    "number=2 not published: number=50 was published meanwhile"), 1);
	/* A record written by an earlier version holds the number only: its
	 * times are meta's when meta names that number. */
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", "70 1800000000 1800086400 3"), 0);
	set_home_number(h, "70\n");
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 70);
	assert_true(info.this_update == 1800000000);
	assert_int_equal(info.entries, 3);
	assert_int_equal(home_number(h), 70);
	/* A corrupt record is an error, audited. */
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", "50 x"), 0);
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info),
	    TSR_ERR_STORE);
	assert_int_equal(audited(h->ca, "crl.issue", "failure", "corrupt"), 1);
	assert_int_equal(files_in(dir), 2);
	free(path);
}

/* Another node (a home of its own on the same database) published a higher
 * number: that does not make this home's file current, so ours goes in
 * place, while the store keeps naming the higher number as the newest. */
static void test_ca_other_node(void **state)
{
	struct home *h = *state;
	struct tsr_store *st = tsr_ca_store(h->ca);
	X509 *issuing = (X509 *)tsr_ca_issuing_cert(h->ca);
	char *path = tsr_ca_crl_path(h->ca, "issuing"), *meta = NULL;
	struct tsr_crl_info info;

	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 1);
	assert_int_equal(tsr_store_meta_set(st, "crl_number_issuing", "50"), 0);
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", "60 1800000000 1800086400 7"), 0);
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(info.number == 51);
	assert_true(file_crl_number(path, issuing, NULL) == 51);
	assert_int_equal(home_number(h), 51);
	/* This home serves 51; the store keeps naming 60 as the newest. */
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 51);
	assert_int_equal(tsr_store_meta_get(st, "crl_issuing", &meta), 0);
	assert_string_equal(meta, "60 1800000000 1800086400 7");
	free(meta);
	assert_int_equal(audited(h->ca, "crl.issue", "success", "number=51 entries="), 1);
	/* A corrupt or missing record of this home's number: the CRL goes in. */
	set_home_number(h, "garbage");
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &info), 0);
	assert_true(file_crl_number(path, issuing, NULL) == 52);
	assert_int_equal(home_number(h), 52);
	free(path);
}

/* Whether this home's CRL is due (tessera serve's keeper republishes at
 * half its life, or when there is none) goes by this home's record, not by
 * meta: another node's fresh CRL must not keep this node's from ageing
 * past its nextUpdate. */
static void test_ca_info_per_home(void **state)
{
	struct home *h = *state;
	struct tsr_store *st = tsr_ca_store(h->ca);
	char *path = tsr_ca_crl_path(h->ca, "issuing"), text[96], *meta = NULL;
	struct tsr_crl_info mine, info;
	time_t now = time(NULL);

	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &mine), 0);
	/* Another node publishes a fresh, higher number into its own home. */
	snprintf(text, sizeof(text), "%d %lld %lld 0", 99, (long long)now + 60,
	    (long long)now + 60 + DAY);
	assert_int_equal(tsr_store_meta_set(st, "crl_number_issuing", "99"), 0);
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", text), 0);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_memory_equal(&info, &mine, sizeof(info));
	/* Time passes here: this home's CRL is past half its life, so the
	 * keeper, which reads it, finds it due although meta's is fresh. */
	set_home_number(h, "1 1000 2000 0\n");
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 1 && info.this_update == 1000 && info.next_update == 2000);
	/* Republishing puts a CRL in this home; meta keeps the newest. */
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "issuing", "test", &mine), 0);
	assert_true(mine.number == 100);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_memory_equal(&info, &mine, sizeof(info));
	assert_int_equal(tsr_store_meta_get(st, "crl_issuing", &meta), 0);
	snprintf(text, sizeof(text), "100 %lld %lld 0", (long long)mine.this_update,
	    (long long)mine.next_update);
	assert_string_equal(meta, text);
	free(meta);
	/* A record of an earlier version (the number only) that meta does not
	 * describe: no times, so due at once. */
	assert_int_equal(tsr_store_meta_set(st, "crl_issuing", "120 1800000000 1800086400 0"), 0);
	set_home_number(h, "100\n");
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 100 && info.this_update == 0 && info.next_update == 0);
	/* An unreadable record: due. */
	set_home_number(h, "garbage");
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), TSR_ERR_NOT_FOUND);
	/* A home made before the record: meta, which was this home's alone. */
	assert_int_equal(unlink_home_number(h), 0);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 120 && info.this_update == 1800000000);
	/* No CRL file in this home: due, whatever meta says. */
	set_home_number(h, "100 1800000000 1800086400 0\n");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), TSR_ERR_NOT_FOUND);
	/* The root's CRL is kept per home the same way. */
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "root", &info), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_store_meta_set(st, "crl_root", "5 1800000000 1800086400 0"), 0);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "root", &info), TSR_ERR_NOT_FOUND);
	assert_int_equal(tsr_ca_crl_publish(h->ca, NULL, "root", "test", &mine), 0);
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "root", &info), 0);
	assert_memory_equal(&info, &mine, sizeof(info));
	free(path);
}

struct worker {
	struct tsr_ca *ca;
	const char *database;
	uint64_t seen[8];
	int rounds;
	int r;
};

static void *publish_rounds(void *arg)
{
	struct worker *w = arg;
	struct tsr_store *st = NULL;
	struct tsr_crl_info info;

	if ((w->r = tsr_store_open(w->database, false, &st)) != 0)
		return NULL;
	for (int i = 0; i < w->rounds && w->r == 0; i++) {
		w->r = tsr_ca_crl_publish(w->ca, st, "issuing", "test", &info);
		w->seen[i] = info.number;
	}
	tsr_store_close(st);
	return NULL;
}

/* Threads of a server, each with its own store connection, publish at
 * once: every number is taken once, what each sees only grows, and the
 * file and the store end with the highest. */
static void test_ca_publish_threads(void **state)
{
	struct home *h = *state;
	struct worker w[4];
	pthread_t t[4];
	struct tsr_crl_info info;
	char *path = tsr_ca_crl_path(h->ca, "issuing"), *num = NULL, dir[128];

	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].ca = h->ca;
		w[i].database = tsr_ca_config(h->ca)->ca.database;
		w[i].rounds = 5;
		assert_int_equal(pthread_create(&t[i], NULL, publish_rounds, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (w[i].r != 0)
			fail_msg("thread %d: %s", i, tsr_error_detail());
		for (int k = 1; k < 5; k++)
			assert_true(w[i].seen[k] > w[i].seen[k - 1]);
	}
	assert_int_equal(tsr_store_meta_get(tsr_ca_store(h->ca), "crl_number_issuing", &num), 0);
	assert_string_equal(num, "20");
	assert_int_equal(tsr_ca_crl_info(h->ca, NULL, "issuing", &info), 0);
	assert_true(info.number == 20);
	assert_true(file_crl_number(path, tsr_ca_issuing_cert(h->ca), NULL) == 20);
	assert_int_equal(audited(h->ca, "crl.issue", "success", "number="), 20);
	assert_int_equal(home_number(h), 20);
	snprintf(dir, sizeof(dir), "%s/crl", h->home);
	assert_int_equal(files_in(dir), 2);
	free(num);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_crl_p384, setup_p384, teardown),
		cmocka_unit_test_setup_teardown(test_full_crl_p256, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_full_crl_rsa, setup_rsa, teardown),
		cmocka_unit_test_setup_teardown(test_no_entries, setup_p384, teardown),
		cmocka_unit_test_setup_teardown(test_times_after_2049, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_times_calendar, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries_refused, setup_p384, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_crl_numbers, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature_not_published, setup_rsa,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_entries, setup_p256, teardown),
		cmocka_unit_test_setup_teardown(test_ca_publish, setup_home, teardown_home),
		cmocka_unit_test_setup_teardown(test_ca_superseded, setup_home, teardown_home),
		cmocka_unit_test_setup_teardown(test_ca_other_node, setup_home, teardown_home),
		cmocka_unit_test_setup_teardown(test_ca_info_per_home, setup_home, teardown_home),
		cmocka_unit_test_setup_teardown(test_ca_publish_threads, setup_home,
		    teardown_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
