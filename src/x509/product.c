/*
 * product.c - products: a certificate profile plus an enrollment policy,
 * read from the [product NAME] sections of the config file.
 *
 * What the config may choose is listed in product_keys[] below.  What it may
 * not choose is fixed here, because it comes from standards the CA has no
 * say over: the keyUsage of each class, the validity cap of each extended key
 * usage, the EKUs and policies a subscriber never gets, and the few rules that
 * tie EKUs to SANs, key storage and class.  docs/products.md explains both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "x509/x509.h"

#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define OID_CODE_SIGNING "1.3.6.1.5.5.7.3.3"
#define OID_EMAIL_PROTECTION "1.3.6.1.5.5.7.3.4"
#define OID_TIME_STAMPING "1.3.6.1.5.5.7.3.8"
#define OID_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"
#define OID_DOCUMENT_SIGNING "1.3.6.1.5.5.7.3.36" /* RFC 9336 */
#define OID_SMARTCARD_LOGON "1.3.6.1.4.1.311.20.2.2"
#define OID_ANY_EKU "2.5.29.37.0"
#define OID_ANY_POLICY "2.5.29.32.0"

#define OID_MAX_LEN 100
#define TITLE_MAX 200
#define DESCRIPTION_MAX 2000
#define PRODUCT_NAME_MAX 63

/* The names the config may use for extended key usages. */
static const struct {
	const char *name;
	const char *oid;
} eku_names[] = {
	{ "serverAuth", OID_SERVER_AUTH },
	{ "clientAuth", OID_CLIENT_AUTH },
	{ "codeSigning", OID_CODE_SIGNING },
	{ "emailProtection", OID_EMAIL_PROTECTION },
	{ "timeStamping", OID_TIME_STAMPING },
	{ "OCSPSigning", OID_OCSP_SIGNING },
	{ "documentSigning", OID_DOCUMENT_SIGNING },
	{ "smartcardLogon", OID_SMARTCARD_LOGON },
	{ "anyExtendedKeyUsage", OID_ANY_EKU },
};

/* Extended key usages no subscriber product may have, and why. */
static const struct {
	const char *oid;
	const char *why;
} eku_refused[] = {
	{ OID_ANY_EKU, "anyExtendedKeyUsage is refused: a certificate must say what it is for" },
	{ OID_OCSP_SIGNING, "OCSPSigning is refused: only the CA's own OCSP responder gets it" },
};

/*
 * Validity caps by extended key usage.  With several EKUs the smallest cap
 * applies; without any of these, Tessera's own 3-year limit does.
 */
struct validity_cap {
	const char *oid;
	const char *eku;
	int days;
	const char *why;
};

static const struct validity_cap validity_caps[] = {
	{ OID_SERVER_AUTH, "serverAuth", 200,
	    "CA/Browser Forum TLS Baseline Requirements, since 15 March 2026" },
	{ OID_CODE_SIGNING, "codeSigning", 460,
	    "CA/Browser Forum Code Signing Baseline Requirements" },
	{ OID_EMAIL_PROTECTION, "emailProtection", 825,
	    "CA/Browser Forum S/MIME Baseline Requirements" },
};

static const struct validity_cap default_cap = {
	NULL, "subscriber", 1095, "Tessera's limit of 3 years for any subscriber certificate"
};

static const char *const applicant_field_names[] = {
	"name", "address", "date_of_birth", "email", "npi", "dea", "organization", "phone",
	"domain",
};

/* ------------------------------------------------------------------ small helpers */

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

static bool list_contains(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Append a copy of s to the list; a repeat is a config error. */
static int list_add(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (list_contains(*v, *n, s))
		return tsr_error(TSR_ERR_CONFIG, "'%s' is listed twice", s);
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

static void list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append name to the sep-separated list in buf (truncating, never overflowing). */
static void join(char *buf, size_t size, const char *sep, const char *name)
{
	size_t used = strlen(buf);

	if (used + 1 < size)
		snprintf(buf + used, size - used, "%s%s", used > 0 ? sep : "", name);
}

/* The index of s in words[], or -1. */
static int word_index(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * A dotted OID: arcs of digits without leading zeros, separated by single
 * dots, at least two of them.  OBJ_txt2obj() alone is too lenient ("1..2"
 * becomes 1.0.2), so it runs after this syntax check, for its own checks of
 * the first two arcs (0..2, then below 40 under 0 and 1).
 */
static bool oid_valid(const char *s)
{
	ASN1_OBJECT *obj;
	size_t arcs = 1;

	if (*s == '\0' || strlen(s) > OID_MAX_LEN)
		return false;
	for (const char *c = s; *c != '\0'; c++) {
		bool arc_start = c == s || c[-1] == '.';

		if (*c == '.' && !arc_start && c[1] != '\0') {
			arcs++;
			continue;
		}
		if (*c < '0' || *c > '9' || (arc_start && *c == '0' && c[1] >= '0' && c[1] <= '9'))
			return false;
	}
	if (arcs < 2 || (obj = OBJ_txt2obj(s, 1)) == NULL) {
		ERR_clear_error();
		return false;
	}
	ASN1_OBJECT_free(obj);
	return true;
}

static bool has_eku(const struct tsr_product *p, const char *oid)
{
	return list_contains(p->eku, p->n_eku, oid);
}

/* ------------------------------------------------------------------ config values
 * Each parser below reads one key's value into the product.  It sets an
 * error detail about the value alone; the loader puts "line N: [product
 * NAME] key: " in front.
 */

typedef int (*item_fn)(struct tsr_product *p, const char *item);

/* Call fn for each item of a comma-separated list; "" is a list of none. */
static int for_each_item(struct tsr_product *p, const char *value, item_fn fn)
{
	char *copy, *s, *comma;
	int r = 0;

	if (*value == '\0')
		return 0;
	if ((copy = strdup(value)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (s = copy;; s = comma + 1) {
		if ((comma = strchr(s, ',')) != NULL)
			*comma = '\0';
		s = trim(s);
		if (*s == '\0') {
			r = tsr_error(TSR_ERR_CONFIG, "empty item in the list");
			break;
		}
		if ((r = fn(p, s)) != 0 || comma == NULL)
			break;
	}
	free(copy);
	return r;
}

static int parse_text(char **out, const char *value, size_t max, bool required)
{
	if (required && *value == '\0')
		return tsr_error(TSR_ERR_CONFIG, "must not be empty");
	if (strlen(value) > max)
		return tsr_error(TSR_ERR_CONFIG, "longer than %zu bytes", max);
	if ((*out = strdup(value)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

static int parse_title(struct tsr_product *p, const char *value)
{
	return parse_text(&p->title, value, TITLE_MAX, true);
}

static int parse_description(struct tsr_product *p, const char *value)
{
	return parse_text(&p->description, value, DESCRIPTION_MAX, false);
}

static int parse_class(struct tsr_product *p, const char *value)
{
	if (strcmp(value, "signing") == 0)
		p->class_ = TSR_CLASS_SIGNING;
	else if (strcmp(value, "authentication") == 0)
		p->class_ = TSR_CLASS_AUTHENTICATION;
	else
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a class (use signing or "
		    "authentication)", value);
	return 0;
}

static int eku_item(struct tsr_product *p, const char *item)
{
	const char *oid = NULL;

	for (size_t i = 0; i < TSR_ARRAY_LEN(eku_names); i++)
		if (strcasecmp(item, eku_names[i].name) == 0)
			oid = eku_names[i].oid;
	if (oid == NULL && oid_valid(item))
		oid = item;
	if (oid == NULL)
		return tsr_error(TSR_ERR_CONFIG, "unknown extended key usage '%s' (use serverAuth, "
		    "clientAuth, codeSigning, emailProtection, timeStamping, documentSigning, "
		    "smartcardLogon or a dotted OID)", item);
	for (size_t i = 0; i < TSR_ARRAY_LEN(eku_refused); i++)
		if (strcmp(oid, eku_refused[i].oid) == 0)
			return tsr_error(TSR_ERR_CONFIG, "%s", eku_refused[i].why);
	return list_add(&p->eku, &p->n_eku, oid);
}

static int parse_eku(struct tsr_product *p, const char *value)
{
	int r;

	if ((r = for_each_item(p, value, eku_item)) != 0)
		return r;
	if (p->n_eku == 0)
		return tsr_error(TSR_ERR_CONFIG, "at least one extended key usage is required");
	return 0;
}

static int policy_item(struct tsr_product *p, const char *item)
{
	if (!oid_valid(item))
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a dotted OID", item);
	if (strcmp(item, OID_ANY_POLICY) == 0)
		return tsr_error(TSR_ERR_CONFIG, "anyPolicy is refused for subscriber "
		    "certificates: name the policies the certificate is issued under");
	return list_add(&p->policies, &p->n_policies, item);
}

static int parse_policies(struct tsr_product *p, const char *value)
{
	int r;

	if ((r = for_each_item(p, value, policy_item)) != 0)
		return r;
	if (p->n_policies == 0)
		return tsr_error(TSR_ERR_CONFIG, "at least one policy OID is required");
	return 0;
}

/* Only the syntax here: the cap depends on the EKUs, checked once all are read. */
static int parse_validity(struct tsr_product *p, const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n > 5 || strspn(value, "0123456789") != n)
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a number of days", value);
	p->validity_days = atoi(value);
	if (p->validity_days < 1)
		return tsr_error(TSR_ERR_CONFIG, "must be at least 1 day");
	return 0;
}

static int key_type_item(struct tsr_product *p, const char *item)
{
	enum tsr_key_type t;
	int r;

	if ((r = tsr_key_type_parse(item, &t)) != 0)
		return r;
	if (p->key_types & (1u << t))
		return tsr_error(TSR_ERR_CONFIG, "'%s' is listed twice", item);
	p->key_types |= 1u << t;
	return 0;
}

static int parse_key_types(struct tsr_product *p, const char *value)
{
	int r;

	if ((r = for_each_item(p, value, key_type_item)) != 0)
		return r;
	if (p->key_types == 0)
		return tsr_error(TSR_ERR_CONFIG, "at least one key type is required");
	return 0;
}

/* Subject attributes are stored under their canonical short names ("CN"). */
static int subject_item(char ***v, size_t *n, const char *item)
{
	const char *name = tsr_name_attr_name(tsr_name_attr_nid(item));

	if (name == NULL)
		return tsr_error(TSR_ERR_CONFIG, "unknown subject attribute '%s' (see "
		    "docs/products.md for the supported ones)", item);
	return list_add(v, n, name);
}

static int required_item(struct tsr_product *p, const char *item)
{
	return subject_item(&p->subject_required, &p->n_subject_required, item);
}

static int allowed_item(struct tsr_product *p, const char *item)
{
	return subject_item(&p->subject_allowed, &p->n_subject_allowed, item);
}

static int parse_subject_required(struct tsr_product *p, const char *value)
{
	return for_each_item(p, value, required_item);
}

static int parse_subject_allowed(struct tsr_product *p, const char *value)
{
	return for_each_item(p, value, allowed_item);
}

static int san_item(struct tsr_product *p, const char *item)
{
	for (int t = 0; t < TSR_SAN_TYPE_COUNT; t++) {
		if (strcmp(item, tsr_san_type_name((enum tsr_san_type)t)) != 0)
			continue;
		if (p->san_allowed & (1u << t))
			return tsr_error(TSR_ERR_CONFIG, "'%s' is listed twice", item);
		p->san_allowed |= 1u << t;
		return 0;
	}
	return tsr_error(TSR_ERR_CONFIG, "unknown SAN type '%s' (use dns, ip, email or uri)",
	    item);
}

static int parse_san(struct tsr_product *p, const char *value)
{
	return for_each_item(p, value, san_item);
}

static int parse_san_required(struct tsr_product *p, const char *value)
{
	if (strcmp(value, "yes") == 0)
		p->san_required = true;
	else if (strcmp(value, "no") == 0)
		p->san_required = false;
	else
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not yes or no", value);
	return 0;
}

static int parse_storage(struct tsr_product *p, const char *value)
{
	static const char *const names[] = { "hardware", "software", "either" };
	static const enum tsr_storage values[] = {
		TSR_STORAGE_HARDWARE, TSR_STORAGE_SOFTWARE, TSR_STORAGE_EITHER
	};
	int i = word_index(value, names, TSR_ARRAY_LEN(names));

	if (i < 0)
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a storage (use hardware, software "
		    "or either)", value);
	p->storage = values[i];
	return 0;
}

static int parse_ra_approvals(struct tsr_product *p, const char *value)
{
	if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not 1 or 2", value);
	p->ra_approvals = value[0] - '0';
	return 0;
}

static int parse_payment(struct tsr_product *p, const char *value)
{
	static const char *const names[] = { "free", "voucher", "invoice" };

	if (word_index(value, names, TSR_ARRAY_LEN(names)) < 0)
		return tsr_error(TSR_ERR_CONFIG, "'%s' is not a payment (use free, voucher or "
		    "invoice)", value);
	return parse_text(&p->payment, value, 16, true);
}

static int applicant_field_item(struct tsr_product *p, const char *item)
{
	if (word_index(item, applicant_field_names, TSR_ARRAY_LEN(applicant_field_names)) < 0)
		return tsr_error(TSR_ERR_CONFIG, "unknown applicant field '%s' (use name, address, "
		    "date_of_birth, email, npi, dea, organization, phone or domain)", item);
	return list_add(&p->applicant_fields, &p->n_applicant_fields, item);
}

static int parse_applicant_fields(struct tsr_product *p, const char *value)
{
	int r;

	if ((r = for_each_item(p, value, applicant_field_item)) != 0)
		return r;
	if (p->n_applicant_fields == 0)
		return tsr_error(TSR_ERR_CONFIG, "at least one applicant field is required");
	return 0;
}

/* Every key a [product NAME] section may hold. */
static const struct product_key {
	const char *key;
	bool required;
	int (*parse)(struct tsr_product *p, const char *value);
} product_keys[] = {
	{ "title", true, parse_title },
	{ "description", false, parse_description },
	{ "class", true, parse_class },
	{ "extended_key_usage", true, parse_eku },
	{ "policies", true, parse_policies },
	{ "validity_days", true, parse_validity },
	{ "key_types", true, parse_key_types },
	{ "subject_required", false, parse_subject_required },
	{ "subject_allowed", false, parse_subject_allowed },
	{ "san", false, parse_san },
	{ "san_required", false, parse_san_required },
	{ "storage", true, parse_storage },
	{ "ra_approvals", true, parse_ra_approvals },
	{ "payment", true, parse_payment },
	{ "applicant_fields", true, parse_applicant_fields },
};

/* ------------------------------------------------------------------ loading */

/* Put "line N: [product NAME] key: " in front of the detail a parser or rule
 * set, and make it a config error (a parser may have passed on, say, the
 * TSR_ERR_KEY of tsr_key_type_parse()).  Out of memory stays what it is. */
static int config_error(int r, int line, const char *product, const char *key)
{
	char detail[768];

	if (r == TSR_ERR_NOMEM)
		return r;
	snprintf(detail, sizeof(detail), "%s", tsr_error_detail());
	return tsr_error(TSR_ERR_CONFIG, "line %d: [product %s] %s: %s", line, product, key,
	    detail);
}

/* The line of key in the section, or the section's own line if it is absent. */
static int key_line(const struct tsr_ini_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->n_entries; i++)
		if (strcmp(sec->entries[i].key, key) == 0)
			return sec->entries[i].line;
	return sec->line;
}

/* The smallest cap among the product's EKUs. */
static const struct validity_cap *product_cap(const struct tsr_product *p)
{
	const struct validity_cap *cap = &default_cap;

	for (size_t i = 0; i < TSR_ARRAY_LEN(validity_caps); i++)
		if (has_eku(p, validity_caps[i].oid) && validity_caps[i].days < cap->days)
			cap = &validity_caps[i];
	return cap;
}

/* Required attributes are implicitly allowed; a subject needs some attribute. */
static int rule_subject(struct tsr_product *p)
{
	int r;

	for (size_t i = 0; i < p->n_subject_required; i++) {
		const char *name = p->subject_required[i];

		if (!list_contains(p->subject_allowed, p->n_subject_allowed, name) &&
		    (r = list_add(&p->subject_allowed, &p->n_subject_allowed, name)) != 0)
			return r;
	}
	if (p->n_subject_allowed == 0)
		return tsr_error(TSR_ERR_CONFIG, "no subject attribute is allowed or required");
	return 0;
}

static int rule_validity(struct tsr_product *p)
{
	const struct validity_cap *cap = product_cap(p);

	p->max_validity_days = cap->days;
	if (p->validity_days > cap->days)
		return tsr_error(TSR_ERR_CONFIG, "%d exceeds the %d-day cap for %s certificates "
		    "(%s)", p->validity_days, cap->days, cap->eku, cap->why);
	return 0;
}

/* serverAuth and codeSigning certificates may carry digitalSignature only. */
static int rule_class(struct tsr_product *p)
{
	if (p->class_ != TSR_CLASS_SIGNING)
		return 0;
	if (has_eku(p, OID_SERVER_AUTH))
		return tsr_error(TSR_ERR_CONFIG, "serverAuth certificates may not have "
		    "nonRepudiation (CA/Browser Forum TLS Baseline Requirements): use "
		    "class = authentication");
	if (has_eku(p, OID_CODE_SIGNING))
		return tsr_error(TSR_ERR_CONFIG, "codeSigning certificates may have only "
		    "digitalSignature (CA/Browser Forum Code Signing Baseline Requirements): use "
		    "class = authentication");
	return 0;
}

/* TLS clients find a server's names in dns and ip SANs only, and the TLS
 * Baseline Requirements allow no other type; S/MIME needs the address. */
static int rule_san(struct tsr_product *p)
{
	unsigned dns_ip = 1u << TSR_SAN_DNS | 1u << TSR_SAN_IP;

	if (has_eku(p, OID_SERVER_AUTH) && (p->san_allowed & dns_ip) == 0)
		return tsr_error(TSR_ERR_CONFIG, "a serverAuth product must allow dns or ip SANs");
	if (has_eku(p, OID_SERVER_AUTH) && (p->san_allowed & ~dns_ip) != 0)
		return tsr_error(TSR_ERR_CONFIG, "a serverAuth product may allow only dns and ip "
		    "SANs (CA/Browser Forum TLS Baseline Requirements)");
	if (has_eku(p, OID_EMAIL_PROTECTION) && (p->san_allowed & 1u << TSR_SAN_EMAIL) == 0)
		return tsr_error(TSR_ERR_CONFIG, "an emailProtection product must allow email "
		    "SANs (CA/Browser Forum S/MIME Baseline Requirements)");
	return 0;
}

static int rule_san_required(struct tsr_product *p)
{
	if (has_eku(p, OID_SERVER_AUTH) && !p->san_required)
		return tsr_error(TSR_ERR_CONFIG, "a serverAuth product must require a SAN: set "
		    "san_required = yes");
	if (has_eku(p, OID_EMAIL_PROTECTION) && !p->san_required)
		return tsr_error(TSR_ERR_CONFIG, "an emailProtection product must require a SAN: "
		    "set san_required = yes");
	if (p->san_required && p->san_allowed == 0)
		return tsr_error(TSR_ERR_CONFIG, "a SAN is required but san allows no type");
	return 0;
}

static int rule_storage(struct tsr_product *p)
{
	if (has_eku(p, OID_CODE_SIGNING) && p->storage != TSR_STORAGE_HARDWARE)
		return tsr_error(TSR_ERR_CONFIG, "code-signing keys must be on hardware "
		    "(CA/Browser Forum Code Signing Baseline Requirements): set "
		    "storage = hardware");
	return 0;
}

/* Rules across keys, each reported at the line of the key that must change. */
static const struct product_rule {
	const char *key;
	int (*check)(struct tsr_product *p);
} product_rules[] = {
	{ "subject_allowed", rule_subject },
	{ "validity_days", rule_validity },
	{ "class", rule_class },
	{ "san", rule_san },
	{ "san_required", rule_san_required },
	{ "storage", rule_storage },
};

static const struct product_key *find_key(const char *key)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(product_keys); i++)
		if (strcmp(product_keys[i].key, key) == 0)
			return &product_keys[i];
	return NULL;
}

static int load_values(const struct tsr_ini_section *sec, struct tsr_product *p)
{
	int r;

	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct tsr_ini_entry *e = &sec->entries[i];
		const struct product_key *k = find_key(e->key);

		if (k == NULL)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [product %s] unknown key '%s'",
			    e->line, p->name, e->key);
		if ((r = k->parse(p, e->value)) != 0)
			return config_error(r, e->line, p->name, e->key);
	}
	for (size_t i = 0; i < TSR_ARRAY_LEN(product_keys); i++)
		if (product_keys[i].required && tsr_ini_get(sec, product_keys[i].key) == NULL)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [product %s] missing required "
			    "key '%s'", sec->line, p->name, product_keys[i].key);
	if (p->description == NULL && (p->description = strdup("")) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

static bool product_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= PRODUCT_NAME_MAX && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-") == n;
}

/* Build p from the section of product name (p is zeroed; the caller frees it). */
static int load_product(const struct tsr_ini_section *sec, const char *name,
    struct tsr_product *p)
{
	int r;

	if (!product_name_valid(name))
		return tsr_error(TSR_ERR_CONFIG, "line %d: [product %s] a product name is 1 to %d "
		    "characters of a-z, 0-9 and '-'", sec->line, name, PRODUCT_NAME_MAX);
	if ((p->name = strdup(name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = load_values(sec, p)) != 0)
		return r;
	for (size_t i = 0; i < TSR_ARRAY_LEN(product_rules); i++) {
		const struct product_rule *rule = &product_rules[i];

		if ((r = rule->check(p)) != 0)
			return config_error(r, key_line(sec, rule->key), p->name, rule->key);
	}
	return 0;
}

static void product_free(struct tsr_product *p)
{
	free(p->name);
	free(p->title);
	free(p->description);
	list_free(p->eku, p->n_eku);
	list_free(p->policies, p->n_policies);
	list_free(p->subject_required, p->n_subject_required);
	list_free(p->subject_allowed, p->n_subject_allowed);
	free(p->payment);
	list_free(p->applicant_fields, p->n_applicant_fields);
	memset(p, 0, sizeof(*p));
}

/*
 * Build every product from the [product NAME] sections of ini into out, to
 * be freed with tsr_products_free(); on failure out is left empty.  Other
 * sections are left to their own modules.  TSR_ERR_CONFIG names the line at
 * fault; the products copy what they keep, so ini may be freed afterwards.
 */
int tsr_products_load(const struct tsr_ini *ini, struct tsr_products *out)
{
	struct tsr_product *items;
	int r;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ini->n_sections; i++) {
		const struct tsr_ini_section *sec = &ini->sections[i];

		if (strcmp(sec->name, "product") == 0) {
			r = tsr_error(TSR_ERR_CONFIG, "line %d: [product] needs a name, as in "
			    "[product epcs]", sec->line);
			goto out;
		}
		if (strncmp(sec->name, "product ", 8) != 0)
			continue;
		if ((items = realloc(out->items, (out->n + 1) * sizeof(*items))) == NULL) {
			r = tsr_error(TSR_ERR_NOMEM, "out of memory");
			goto out;
		}
		out->items = items;
		memset(&items[out->n], 0, sizeof(*items));
		r = load_product(sec, sec->name + 8, &items[out->n++]);
		if (r != 0)
			goto out;
	}
	r = out->n > 0 ? 0 : tsr_error(TSR_ERR_CONFIG, "no [product NAME] section: the CA "
	    "needs at least one product");
out:
	if (r != 0)
		tsr_products_free(out);
	return r;
}

/* Free every product; p may be zeroed or freed already. */
void tsr_products_free(struct tsr_products *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		product_free(&p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

/* The product called name, or NULL. */
const struct tsr_product *tsr_product_find(const struct tsr_products *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return &p->items[i];
	return NULL;
}

/* keyEncipherment and keyAgreement are never given: certified keys only sign. */
unsigned tsr_product_key_usage(const struct tsr_product *p)
{
	switch (p->class_) {
	case TSR_CLASS_SIGNING:
		return KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
	case TSR_CLASS_AUTHENTICATION:
		return KU_DIGITAL_SIGNATURE;
	default:
		return 0;
	}
}

const char *tsr_product_class_name(enum tsr_product_class c)
{
	switch (c) {
	case TSR_CLASS_SIGNING:
		return "signing";
	case TSR_CLASS_AUTHENTICATION:
		return "authentication";
	default:
		return "unknown";
	}
}

const char *tsr_storage_name(enum tsr_storage s)
{
	switch (s) {
	case TSR_STORAGE_HARDWARE:
		return "hardware";
	case TSR_STORAGE_SOFTWARE:
		return "software";
	case TSR_STORAGE_EITHER:
		return "either";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------------------------ checking requests */

/* 0 if p allows key type t, else TSR_ERR_KEY naming the allowed types. */
int tsr_product_check_key(const struct tsr_product *p, enum tsr_key_type t)
{
	char allowed[128] = "";

	if (t > TSR_KEY_NONE && t < TSR_KEY_TYPE_COUNT && (p->key_types & (1u << t)) != 0)
		return 0;
	for (int i = TSR_KEY_NONE + 1; i < TSR_KEY_TYPE_COUNT; i++)
		if (p->key_types & (1u << i))
			join(allowed, sizeof(allowed), ", ",
			    tsr_key_type_name((enum tsr_key_type)i));
	return tsr_error(TSR_ERR_KEY, "key type %s is not allowed by product %s (allowed: %s)",
	    tsr_key_type_name(t), p->name, allowed);
}

static int attr_not_allowed(const struct tsr_product *p, const char *attr)
{
	char allowed[256] = "";

	for (size_t i = 0; i < p->n_subject_allowed; i++)
		join(allowed, sizeof(allowed), ", ", p->subject_allowed[i]);
	return tsr_error(TSR_ERR_POLICY, "subject attribute %s is not allowed by product %s "
	    "(allowed: %s)", attr, p->name, allowed);
}

/* One value per attribute, single-valued RDNs, nothing outside the allowed set. */
static int check_attributes(const struct tsr_product *p, const X509_NAME *subject)
{
	int n = X509_NAME_entry_count(subject);

	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subject, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		const char *name = tsr_name_attr_name(nid);
		char oid[OID_MAX_LEN + 1];

		if (i > 0 && X509_NAME_ENTRY_set(e) == X509_NAME_ENTRY_set(
		    X509_NAME_get_entry(subject, i - 1)))
			return tsr_error(TSR_ERR_POLICY, "multi-valued RDNs are not allowed");
		if (name == NULL) {
			OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 0);
			return attr_not_allowed(p, oid);
		}
		if (!list_contains(p->subject_allowed, p->n_subject_allowed, name))
			return attr_not_allowed(p, name);
		if (nid != NID_organizationalUnitName && nid != NID_domainComponent &&
		    X509_NAME_get_index_by_NID(subject, nid, i) >= 0)
			return tsr_error(TSR_ERR_POLICY, "subject attribute %s appears more than "
			    "once", name);
	}
	for (size_t i = 0; i < p->n_subject_required; i++) {
		const char *name = p->subject_required[i];

		if (X509_NAME_get_index_by_NID(subject, tsr_name_attr_nid(name), -1) < 0)
			return tsr_error(TSR_ERR_POLICY, "product %s requires subject attribute %s",
			    p->name, name);
	}
	return 0;
}

static void san_types_allowed(const struct tsr_product *p, char *buf, size_t size,
    const char *sep)
{
	buf[0] = '\0';
	for (int t = 0; t < TSR_SAN_TYPE_COUNT; t++)
		if (p->san_allowed & (1u << t))
			join(buf, size, sep, tsr_san_type_name((enum tsr_san_type)t));
}

static int check_sans(const struct tsr_product *p, const struct tsr_san *sans, size_t n)
{
	char types[64];

	san_types_allowed(p, types, sizeof(types), ", ");
	if (n > TSR_SAN_MAX)
		return tsr_error(TSR_ERR_POLICY, "%zu SANs are more than the %d allowed", n,
		    TSR_SAN_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned t = (unsigned)sans[i].type;

		if (t >= TSR_SAN_TYPE_COUNT || (p->san_allowed & (1u << t)) == 0)
			return tsr_error(TSR_ERR_POLICY, "SAN type %s is not allowed by product %s "
			    "(allowed: %s)", tsr_san_type_name(sans[i].type), p->name,
			    types[0] ? types : "none");
		for (size_t j = 0; j < i; j++)
			if (sans[j].type == sans[i].type &&
			    strcmp(sans[j].value, sans[i].value) == 0)
				return tsr_error(TSR_ERR_POLICY, "SAN %s:%s is given twice",
				    tsr_san_type_name(sans[i].type), sans[i].value);
	}
	if (n == 0 && p->san_required) {
		san_types_allowed(p, types, sizeof(types), " or ");
		return tsr_error(TSR_ERR_POLICY, "product %s requires a SAN of type %s", p->name,
		    types);
	}
	return 0;
}

static bool has_san_type(const struct tsr_san *sans, size_t n, enum tsr_san_type t)
{
	for (size_t i = 0; i < n; i++)
		if (sans[i].type == t)
			return true;
	return false;
}

/* BR 7.1.4.3: the CN is a byte-for-byte copy of a SAN, and SANs are
 * canonical (DNS names lower-case), so compare exactly, as lint does. */
static bool cn_in_sans(const char *cn, const struct tsr_san *sans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((sans[i].type == TSR_SAN_DNS || sans[i].type == TSR_SAN_IP) &&
		    strcmp(cn, sans[i].value) == 0)
			return true;
	return false;
}

/* TLS clients match names against the SANs only; a CN that names anything
 * else would be a name the CA never validated as a SAN. */
static int check_cn_matches(const struct tsr_product *p, const X509_NAME *subject,
    const struct tsr_san *sans, size_t n)
{
	int i = -1, len, r = 0;

	while ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subject, i);
		unsigned char *cn = NULL;

		if ((len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(e))) < 0)
			return tsr_error_openssl(TSR_ERR_POLICY, "subject CN is not a valid "
			    "string");
		if (strlen((char *)cn) != (size_t)len || !cn_in_sans((char *)cn, sans, n))
			r = tsr_error(TSR_ERR_POLICY, "subject CN '%.200s' is not a copy of one "
			    "of the dns or ip SANs (lower-case), as product %s (serverAuth) "
			    "requires", (char *)cn, p->name);
		OPENSSL_free(cn);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * 0 if subject and sans satisfy product p; TSR_ERR_POLICY naming the first
 * problem otherwise.  Called with the subject and SANs of an application,
 * before they are put into a certificate.
 */
int tsr_product_check_subject(const struct tsr_product *p, const X509_NAME *subject,
    const struct tsr_san *sans, size_t n_sans)
{
	int r;

	if ((r = check_attributes(p, subject)) != 0)
		return r;
	if ((r = check_sans(p, sans, n_sans)) != 0)
		return r;
	if (has_eku(p, OID_EMAIL_PROTECTION) && !has_san_type(sans, n_sans, TSR_SAN_EMAIL))
		return tsr_error(TSR_ERR_POLICY, "product %s (emailProtection) requires an email "
		    "SAN", p->name);
	if (has_eku(p, OID_SERVER_AUTH))
		return check_cn_matches(p, subject, sans, n_sans);
	return 0;
}

/* ------------------------------------------------------------------ the default products
 * The text "tessera init" writes into a new config file.  "@ARC@" stands for
 * the CA's policy arc.  The product names are part of the CLI: keep them.
 */

static const char default_intro[] =
    "# ---------------------------------------------------------------------------\n"
    "# Products\n"
    "#\n"
    "# Each [product NAME] section is one kind of certificate this CA issues: what\n"
    "# the certificate contains (its profile) and what an applicant goes through\n"
    "# to get it (its enrollment policy).  NAME is what the command line and the\n"
    "# web pages use; do not rename a product once it has issued certificates.\n"
    "# docs/products.md explains every key.\n"
    "#\n"
    "# Some rules are fixed in Tessera and cannot be configured away:\n"
    "#  - class = signing gives keyUsage digitalSignature + nonRepudiation,\n"
    "#    class = authentication gives digitalSignature only.  keyEncipherment and\n"
    "#    keyAgreement are never set: keys certified here sign, they do not decrypt.\n"
    "#  - validity_days has a cap that depends on extended_key_usage: serverAuth\n"
    "#    200 days (CA/Browser Forum TLS Baseline Requirements, since 15 March 2026),\n"
    "#    codeSigning 460 days (CA/Browser Forum Code Signing Baseline Requirements),\n"
    "#    emailProtection 825 days (CA/Browser Forum S/MIME Baseline Requirements),\n"
    "#    anything else 1095 days (3 years).  With several EKUs the smallest applies.\n"
    "#  - anyExtendedKeyUsage, OCSPSigning and anyPolicy are refused.\n"
    "#  - serverAuth: only dns and ip SANs, one of them required, every CN repeats\n"
    "#    a SAN, class = authentication.  emailProtection: an email SAN required.\n"
    "#    codeSigning: class = authentication and storage = hardware.\n"
    "#\n"
    "# The policy OIDs below are under this CA's own arc, @ARC@.\n"
    "# The real EPCS, DoD ECA and CA/Browser Forum policy OIDs belong to the bodies\n"
    "# that define them; add them to \"policies\" once this CA is accredited for them.\n"
    "# ---------------------------------------------------------------------------\n";

static const char *const default_products[] = {
	"# EPCS prescriber: a practitioner's certificate for Electronic Prescriptions\n"
	"# for Controlled Substances (US DEA, 21 CFR part 1311).  It signs\n"
	"# prescriptions (class signing, EKU documentSigning).  The key is generated on\n"
	"# the prescriber's hardware token, and two different RA officers must approve\n"
	"# the identity proofing.  The applicant gives NPI and DEA numbers for the RA\n"
	"# to check.\n"
	"[product epcs]\n"
	"title = EPCS prescriber certificate\n"
	"description = Signs e-prescriptions, including for controlled substances, with a key "
	"on your token.\n"
	"class = signing\n"
	"extended_key_usage = documentSigning\n"
	"policies = @ARC@.1.1\n"
	"validity_days = 730\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072\n"
	"subject_required = CN, C\n"
	"subject_allowed = CN, C, O, L, ST, serialNumber, emailAddress, GN, SN\n"
	"san = email\n"
	"san_required = no\n"
	"storage = hardware\n"
	"ra_approvals = 2\n"
	"payment = voucher\n"
	"applicant_fields = name, address, date_of_birth, email, npi, dea\n",

	"# Identity: says that this CA proofed the holder's identity, and nothing\n"
	"# more.  It logs the holder in to services that accept this CA (clientAuth).\n"
	"# The key may be kept in software, so one RA approval is enough.\n"
	"[product identity]\n"
	"title = Identity-proofed person\n"
	"description = Proves who you are when you log in to services that accept this CA.\n"
	"class = authentication\n"
	"extended_key_usage = clientAuth\n"
	"policies = @ARC@.1.2\n"
	"validity_days = 730\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096\n"
	"subject_required = CN, C\n"
	"subject_allowed = CN, C, GN, SN, serialNumber, emailAddress\n"
	"san = email\n"
	"san_required = no\n"
	"storage = software\n"
	"ra_approvals = 1\n"
	"payment = voucher\n"
	"applicant_fields = name, address, date_of_birth, email\n",

	"# ECA medium assurance: modelled on the DoD External Certification Authority\n"
	"# \"medium hardware\" identity certificate for people who work with the US\n"
	"# Department of Defense.  It logs in (clientAuth, smartcardLogon) and signs\n"
	"# e-mail (emailProtection, hence the 825-day cap and the required email SAN).\n"
	"# Key on a hardware token, two RA approvals, billed by invoice.\n"
	"[product eca-medium]\n"
	"title = ECA medium hardware assurance identity\n"
	"description = Log in and sign e-mail with US DoD partners, with a key on your hardware "
	"token.\n"
	"class = authentication\n"
	"extended_key_usage = clientAuth, emailProtection, smartcardLogon\n"
	"policies = @ARC@.1.3\n"
	"validity_days = 825\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072\n"
	"subject_required = CN, O, C\n"
	"subject_allowed = CN, O, OU, C\n"
	"san = email\n"
	"san_required = yes\n"
	"storage = hardware\n"
	"ra_approvals = 2\n"
	"payment = invoice\n"
	"applicant_fields = name, address, date_of_birth, email, organization, phone\n",

	"# TLS server: a certificate for a web or other TLS server (serverAuth).\n"
	"# Validity is capped at 200 days; 199 leaves a margin, because a validity\n"
	"# period counts its last second too.  Every name the server answers to goes\n"
	"# in a dns or ip SAN; a CN is optional and, if given, must repeat one of them.\n"
	"# O, L, ST and C make an organisation-validated certificate: the RA must\n"
	"# check them.  Without keyEncipherment, RSA keys work only with (EC)DHE key\n"
	"# exchange, as in all of TLS 1.3.  Browsers trust this CA only once it is in\n"
	"# their root programs.\n"
	"[product tls-server]\n"
	"title = TLS server certificate\n"
	"description = For a web or other TLS server; its names go in dns or ip SANs.\n"
	"class = authentication\n"
	"extended_key_usage = serverAuth\n"
	"policies = @ARC@.1.4\n"
	"validity_days = 199\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096\n"
	"subject_required =\n"
	"subject_allowed = CN, O, L, ST, C\n"
	"san = dns, ip\n"
	"san_required = yes\n"
	"storage = software\n"
	"ra_approvals = 1\n"
	"payment = invoice\n"
	"applicant_fields = name, email, organization, domain\n",

	"# S/MIME: signs e-mail (emailProtection) from the address in its email SAN,\n"
	"# for at most 825 days.  class signing adds nonRepudiation.  It cannot be\n"
	"# used to encrypt mail, because keyEncipherment and keyAgreement are never set.\n"
	"[product smime]\n"
	"title = S/MIME e-mail signing certificate\n"
	"description = Signs your e-mail so that recipients can check it came from you.\n"
	"class = signing\n"
	"extended_key_usage = emailProtection\n"
	"policies = @ARC@.1.5\n"
	"validity_days = 825\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096\n"
	"subject_required = CN\n"
	"subject_allowed = CN, GN, SN, emailAddress, O, C\n"
	"san = email\n"
	"san_required = yes\n"
	"storage = either\n"
	"ra_approvals = 1\n"
	"payment = voucher\n"
	"applicant_fields = name, email\n",

	"# Code signing: signs software published by an organisation (codeSigning).\n"
	"# The CA/Browser Forum Code Signing Baseline Requirements fix, and Tessera\n"
	"# enforces: at most 460 days, keyUsage digitalSignature only (hence class\n"
	"# authentication) and the key on a hardware token.  The same requirements\n"
	"# ask for RSA keys of at least 3072 bits, hence no rsa-2048.\n"
	"[product code-signing]\n"
	"title = Code signing certificate\n"
	"description = Signs software published by your organisation, with a key on a hardware "
	"token.\n"
	"class = authentication\n"
	"extended_key_usage = codeSigning\n"
	"policies = @ARC@.1.6\n"
	"validity_days = 460\n"
	"key_types = ec-p256, ec-p384, rsa-3072, rsa-4096\n"
	"subject_required = O, C\n"
	"subject_allowed = CN, O, L, ST, C\n"
	"san =\n"
	"san_required = no\n"
	"storage = hardware\n"
	"ra_approvals = 2\n"
	"payment = invoice\n"
	"applicant_fields = name, organization, address, email, phone\n",

	"# Document signing: signs PDFs and other documents (documentSigning, RFC 9336)\n"
	"# with nonRepudiation (class signing).  No CA/Browser Forum cap applies, so\n"
	"# Tessera's own limit of 1095 days (3 years) does.\n"
	"[product document-signing]\n"
	"title = Document signing certificate\n"
	"description = Signs PDFs and other documents in your name.\n"
	"class = signing\n"
	"extended_key_usage = documentSigning\n"
	"policies = @ARC@.1.7\n"
	"validity_days = 1095\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096\n"
	"subject_required = CN, C\n"
	"subject_allowed = CN, C, O, OU, GN, SN, serialNumber, emailAddress\n"
	"san = email\n"
	"san_required = no\n"
	"storage = either\n"
	"ra_approvals = 1\n"
	"payment = voucher\n"
	"applicant_fields = name, address, email\n",

	"# Device: identifies a machine as a TLS client and server at once (clientAuth\n"
	"# and serverAuth, e.g. mutual TLS between services).  serverAuth brings the\n"
	"# 200-day cap, hence 199 days, and its SAN rules: each name of the device is\n"
	"# a dns SAN and the CN repeats one of them.  Free, one RA approval.\n"
	"[product device]\n"
	"title = Device certificate\n"
	"description = Identifies a server or other device to the machines it talks to.\n"
	"class = authentication\n"
	"extended_key_usage = clientAuth, serverAuth\n"
	"policies = @ARC@.1.8\n"
	"validity_days = 199\n"
	"key_types = ec-p256, ec-p384, rsa-2048, rsa-3072\n"
	"subject_required = CN\n"
	"subject_allowed = CN, O, C\n"
	"san = dns\n"
	"san_required = yes\n"
	"storage = software\n"
	"ra_approvals = 1\n"
	"payment = free\n"
	"applicant_fields = name, email, organization, domain\n",
};

/* Append text to out with every "@ARC@" replaced by arc. */
static int append_with_arc(struct tsr_buf *out, const char *text, const char *arc)
{
	const char *at;
	int r;

	while ((at = strstr(text, "@ARC@")) != NULL) {
		if ((r = tsr_buf_append(out, text, (size_t)(at - text))) != 0 ||
		    (r = tsr_buf_append_str(out, arc)) != 0)
			return r;
		text = at + strlen("@ARC@");
	}
	return tsr_buf_append_str(out, text);
}

/*
 * Append the commented default products to out, their policy OIDs being
 * <policy_arc>.1.1 to <policy_arc>.1.8.  TSR_ERR_INVALID if policy_arc is
 * not a dotted OID.
 */
int tsr_products_default_config(const char *policy_arc, struct tsr_buf *out)
{
	int r;

	if (!oid_valid(policy_arc) || strlen(policy_arc) > OID_MAX_LEN - 4)
		return tsr_error(TSR_ERR_INVALID, "policy arc '%s' is not a dotted OID of at most "
		    "%d characters", policy_arc, OID_MAX_LEN - 4);
	if ((r = append_with_arc(out, default_intro, policy_arc)) != 0)
		return r;
	for (size_t i = 0; i < TSR_ARRAY_LEN(default_products); i++) {
		if ((r = tsr_buf_append_str(out, "\n")) != 0 ||
		    (r = append_with_arc(out, default_products[i], policy_arc)) != 0)
			return r;
	}
	return 0;
}
