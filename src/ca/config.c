/*
 * config.c - tessera.conf: the [ca], [ra] and [mail] sections and the
 * [verifier PRODUCT] sections here, the [product NAME] sections in
 * x509/product.c.  Unknown sections and keys are errors, so a typo never
 * silently falls back to a default.  [ra], [mail] and [verifier ...] are
 * optional; an absent key takes its default.  For strings and paths an empty
 * value is the same as leaving the key out; numbers and choices must be valid.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/ca_impl.h"

#define CONFIG_MAX (1024 * 1024)
#define URL_MAX 1024
#define AGREEMENT_MAX 32
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static const char *const ca_keys[] = {
	"organization", "country", "key_type", "pkcs11_module", "token", "pin_file",
	"softhsm_conf", "database", "public_url", "policy_arc", "ocsp_validity_days",
	"server_names", "crl_hours", "root_crl_days", "ocsp_response_hours", NULL,
};

static const char *const ra_keys[] = {
	"email_days", "verification_hours", "activation_days", "max_failures",
	"agreement_version", "password_list", "officer_idle_minutes", "officer_session_hours",
	"applicant_idle_minutes", "web_url", "agreement_file", NULL,
};

static const char *const mail_keys[] = {
	"outbox", "passcode_outbox", "from", "smtp_url", "smtp_user", "smtp_password_file",
	"smtp_ca_file", "smtp_starttls", "timeout", NULL,
};

static const char *const verifier_keys[] = { "url", "ca_file", "token_file", "timeout", NULL };

/* SP 800-63B 5.2.2: at most 100 consecutive failed attempts on one account. */
#define SP800_63B_LIMIT " (NIST SP 800-63B 5.2.2 allows at most 100 failed attempts before " \
	"the lock)"

/* The [ra] numbers: key, range, default, where it goes, why the range. */
static const struct ra_int {
	const char *key;
	int min, max, def;
	size_t offset;
	const char *why;
} ra_ints[] = {
	{ "email_days", 1, 365, 30, offsetof(struct tsr_ra_config, email_days), NULL },
	{ "verification_hours", 1, 720, 24,
	  offsetof(struct tsr_ra_config, verification_hours), NULL },
	{ "activation_days", 1, 365, 30, offsetof(struct tsr_ra_config, activation_days), NULL },
	{ "max_failures", 1, 100, 5, offsetof(struct tsr_ra_config, max_failures),
	  SP800_63B_LIMIT },
	{ "officer_idle_minutes", 1, 720, 30,
	  offsetof(struct tsr_ra_config, officer_idle_minutes), NULL },
	{ "officer_session_hours", 1, 24, 12,
	  offsetof(struct tsr_ra_config, officer_session_hours), NULL },
	{ "applicant_idle_minutes", 1, 720, 30,
	  offsetof(struct tsr_ra_config, applicant_idle_minutes), NULL },
};

static int check_keys(const struct tsr_ini_section *s, const char *const *keys)
{
	for (size_t i = 0; i < s->n_entries; i++) {
		size_t k = 0;

		while (keys[k] != NULL && strcmp(keys[k], s->entries[i].key) != 0)
			k++;
		if (keys[k] == NULL)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] unknown key '%s'",
			    s->entries[i].line, s->name, s->entries[i].key);
	}
	return 0;
}

static int entry_line(const struct tsr_ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return s->entries[i].line;
	return s->line;
}

/* Copy a value; missing or empty is an error if required, else "". */
static int take(const struct tsr_ini_section *s, const char *key, bool required, char **out)
{
	const char *v = tsr_ini_get(s, key);

	if (v == NULL || v[0] == '\0') {
		if (required)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] %s is required", s->line,
			    s->name, key);
		v = "";
	}
	if ((*out = strdup(v)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Copy a value, or def when it is missing or empty (def NULL: stays NULL). */
static int take_or(const struct tsr_ini_section *s, const char *key, const char *def,
    char **out)
{
	const char *v = tsr_ini_get(s, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		v = def;
	if (v != NULL && (*out = strdup(v)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Resolve a path value relative to the home; missing or empty gives
 * home/def, or NULL when def is NULL (an error if required). */
static int take_path_or(const struct tsr_ini_section *s, const char *key, bool required,
    const char *home, const char *def, char **out)
{
	const char *v = tsr_ini_get(s, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0') {
		if (required)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] %s is required", s->line,
			    s->name, key);
		if ((v = def) == NULL)
			return 0;
	}
	return tsr_path_join(home, v, out);
}

static int take_path(const struct tsr_ini_section *s, const char *key, bool required,
    const char *home, char **out)
{
	return take_path_or(s, key, required, home, NULL, out);
}

bool tsr_database_is_uri(const char *v)
{
	return strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0;
}

/* The database: a PostgreSQL URI as it is (libpq reads it; a password
 * belongs in its passfile, not here), else an SQLite path under the home. */
static int take_database(const struct tsr_ini_section *s, const char *home, char **out)
{
	const char *v = tsr_ini_get(s, "database");

	if (v != NULL && tsr_database_is_uri(v)) {
		/* tessera.conf is readable by all: no password in it. */
		if (tsr_store_uri_check(v) != 0)
			return tsr_error_wrap(TSR_ERR_CONFIG, "line %d: [ca] database",
			    entry_line(s, "database"));
		if ((*out = strdup(v)) == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		return 0;
	}
	return take_path(s, "database", true, home, out);
}

/* A whole number in min..max, or def when the key is missing. */
static int take_int(const struct tsr_ini_section *s, const char *key, int min, int max,
    int def, const char *why, int *out)
{
	const char *v = tsr_ini_get(s, key);
	char *end = NULL;
	long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || n < min || n > max)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] %s must be a whole number from "
		    "%d to %d%s", entry_line(s, key), s->name, key, min, max, why ? why : "");
	*out = (int)n;
	return 0;
}

/* ------------------------------------------------------------------ [ca] */

static int check_ca_values(const struct tsr_ini_section *s, struct tsr_ca_config *c)
{
	const char *kt = tsr_ini_get(s, "key_type");

	if (kt == NULL || tsr_key_type_parse(kt, &c->key_type) != 0)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [ca] key_type: '%s' is not a key type",
		    entry_line(s, "key_type"), kt ? kt : "");
	if (c->country[0] != '\0' && (strlen(c->country) != 2 || c->country[0] < 'A' ||
	    c->country[0] > 'Z' || c->country[1] < 'A' || c->country[1] > 'Z'))
		return tsr_error(TSR_ERR_CONFIG, "line %d: [ca] country must be two capital letters",
		    entry_line(s, "country"));
	if ((strncmp(c->public_url, "http://", 7) != 0 && strncmp(c->public_url, "https://", 8) != 0) ||
	    strlen(c->public_url) > TSR_PUBLIC_URL_MAX)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [ca] public_url must start with http:// "
		    "or https:// and be at most %d characters", entry_line(s, "public_url"),
		    TSR_PUBLIC_URL_MAX);
	if (ca_check_token_uri(c->token_uri) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, "line %d: [ca] token", entry_line(s, "token"));
	/* The Baseline Requirements bound a subordinate CA's CRL to 10 days, a
	 * root's to 12 months, and an OCSP response to 8 hours .. 10 days. */
	int r;

	if ((r = take_int(s, "ocsp_validity_days", 1, 120, 90, NULL,
	    &c->ocsp_validity_days)) != 0 ||
	    (r = take_int(s, "crl_hours", 1, 240, 24, NULL, &c->crl_hours)) != 0 ||
	    (r = take_int(s, "root_crl_days", 1, 365, 30, NULL, &c->root_crl_days)) != 0)
		return r;
	return take_int(s, "ocsp_response_hours", 8, 240, 24, NULL, &c->ocsp_response_hours);
}

static int parse_ca(const struct tsr_ini_section *s, const char *home, struct tsr_ca_config *c)
{
	int r;

	if ((r = check_keys(s, ca_keys)) != 0 ||
	    (r = take(s, "organization", true, &c->organization)) != 0 ||
	    (r = take(s, "country", false, &c->country)) != 0 ||
	    (r = take(s, "token", true, &c->token_uri)) != 0 ||
	    (r = take(s, "public_url", true, &c->public_url)) != 0 ||
	    (r = take(s, "policy_arc", true, &c->policy_arc)) != 0 ||
	    (r = take(s, "server_names", false, &c->server_names)) != 0 ||
	    (r = take_path(s, "pkcs11_module", true, home, &c->pkcs11_module)) != 0 ||
	    (r = take_path(s, "pin_file", true, home, &c->pin_file)) != 0 ||
	    (r = take_path(s, "softhsm_conf", false, home, &c->softhsm_conf)) != 0 ||
	    (r = take_database(s, home, &c->database)) != 0)
		return r;
	if (c->server_names[0] == '\0') {
		free(c->server_names);
		if ((c->server_names = strdup("localhost, 127.0.0.1, ::1")) == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	/* URLs get paths appended; a trailing slash would double it. */
	for (size_t n = strlen(c->public_url); n > 0 && c->public_url[n - 1] == '/'; n--)
		c->public_url[n - 1] = '\0';
	return check_ca_values(s, c);
}

/* ------------------------------------------------------------------ [ra] */

static int parse_ra(const struct tsr_ini_section *s, const char *home, struct tsr_ra_config *c)
{
	const char *v;
	size_t n;
	int r;

	if ((r = check_keys(s, ra_keys)) != 0)
		return r;
	for (size_t i = 0; i < TSR_ARRAY_LEN(ra_ints); i++) {
		const struct ra_int *k = &ra_ints[i];

		if ((r = take_int(s, k->key, k->min, k->max, k->def, k->why,
		    (int *)((char *)c + k->offset))) != 0)
			return r;
	}
	if ((r = take_or(s, "agreement_version", "2026-11", &c->agreement_version)) != 0 ||
	    (r = take_path(s, "password_list", false, home, &c->password_list)) != 0 ||
	    (r = take_or(s, "web_url", "https://localhost:8443", &c->web_url)) != 0 ||
	    (r = take_path_or(s, "agreement_file", false, home, "agreement.txt",
	    &c->agreement_file)) != 0)
		return r;
	if (strncmp(c->web_url, "https://", 8) != 0 || strlen(c->web_url) > URL_MAX ||
	    strpbrk(c->web_url, " \t\"<>?#") != NULL)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [ra] web_url must start with https:// "
		    "and be at most %d characters, without spaces, quotes, '?' or '#'",
		    entry_line(s, "web_url"), URL_MAX);
	for (n = strlen(c->web_url); n > 8 && c->web_url[n - 1] == '/'; n--)
		c->web_url[n - 1] = '\0';
	v = c->agreement_version;
	if ((n = strlen(v)) > AGREEMENT_MAX || strspn(v, NAME_CHARS) != n)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [ra] agreement_version must be 1 to %d "
		    "letters, digits, '.', '_' or '-'", entry_line(s, "agreement_version"),
		    AGREEMENT_MAX);
	return 0;
}

/* ------------------------------------------------------------------ [mail] */

/* An absolute p made lexical: no "//", "." or "x/.." components and no
 * trailing '/'.  Enough to tell two spellings of one directory apart;
 * symbolic links are not followed (the directories may not exist yet).
 * A relative p (a relative home) is only copied. */
static int normal_path(const char *p, char **out)
{
	size_t n = strlen(p), o = 1;
	char *q;

	if (p[0] != '/')
		return (*out = strdup(p)) ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((*out = q = malloc(n + 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	q[0] = '/';
	for (size_t i = 0; i < n;) {
		size_t len = strcspn(p + i, "/");

		if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
			while (o > 1 && q[o - 1] != '/')
				o--;
			if (o > 1)
				o--;      /* the '/' before the dropped component */
		} else if (len > 0 && !(len == 1 && p[i] == '.')) {
			if (q[o - 1] != '/')
				q[o++] = '/';
			memcpy(q + o, p + i, len);
			o += len;
		}
		i += len + (p[i + len] == '/');
	}
	q[o] = '\0';
	return 0;
}

/* True if a and b (normal paths) are one directory or one holds the other. */
static bool paths_overlap(const char *a, const char *b)
{
	const char *shorter = strlen(a) <= strlen(b) ? a : b, *longer = shorter == a ? b : a;
	size_t n = strlen(shorter);

	if (strncmp(shorter, longer, n) != 0)
		return false;
	/* "/x/out" and "/x/outbox" share a prefix but not a directory. */
	return longer[n] == '\0' || longer[n] == '/' || (n > 0 && shorter[n - 1] == '/');
}

/* The passcodes are the second channel (21 CFR 1311.105): a passcode
 * outbox that is, holds or lies inside the relayed outbox would let a
 * retry of the relay mail them with the activation letters. */
static int check_outboxes(const struct tsr_ini_section *s, const struct tsr_mail_settings *c)
{
	char *a = NULL, *b = NULL;
	int r;

	if ((r = normal_path(c->outbox, &a)) == 0 && (r = normal_path(c->passcode_outbox, &b)) == 0 &&
	    paths_overlap(a, b))
		r = tsr_error(TSR_ERR_CONFIG, "line %d: [mail] passcode_outbox must be a directory "
		    "of its own, apart from outbox (%s): passcodes go by a second channel and are "
		    "never relayed", entry_line(s, tsr_ini_get(s, "passcode_outbox") ?
		    "passcode_outbox" : "outbox"), c->outbox);
	free(a);
	free(b);
	return r;
}

static int check_from(const struct tsr_ini_section *s, const char *from)
{
	struct tsr_san san;
	char *spec = NULL;
	int r;

	if (asprintf(&spec, "email:%s", from) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	r = tsr_san_parse(spec, &san);
	free(spec);
	if (r == 0) {
		tsr_san_clear(&san);
		return 0;
	}
	return tsr_error_wrap(r == TSR_ERR_NOMEM ? r : TSR_ERR_CONFIG,
	    "line %d: [mail] from must be one address like ca@example.com", entry_line(s, "from"));
}

/* The relay URL's scheme and form; tsr_mail_check_config() checks the rest
 * of the relay settings when the server starts. */
static int check_smtp_url(const struct tsr_ini_section *s, const char *url)
{
	size_t n = strlen(url), scheme;

	if (strncasecmp(url, "smtp://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(url, "smtps://", 8) == 0)
		scheme = 8;
	else
		scheme = 0;
	if (scheme == 0 || n > URL_MAX || strcspn(url, " \t") != n ||
	    memchr(url + scheme, '@', strcspn(url + scheme, "/?#")) != NULL)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [mail] smtp_url must be smtp://host:port "
		    "or smtps://host:port, at most %d characters, with no user or password in it",
		    entry_line(s, "smtp_url"), URL_MAX);
	return 0;
}

static int parse_mail_values(const struct tsr_ini_section *s, struct tsr_mail_settings *c)
{
	const char *tls = tsr_ini_get(s, "smtp_starttls");
	int r;

	if (tls == NULL || strcmp(tls, "required") == 0)
		c->smtp_starttls_required = true;
	else if (strcmp(tls, "no") == 0)
		c->smtp_starttls_required = false;
	else
		return tsr_error(TSR_ERR_CONFIG, "line %d: [mail] smtp_starttls must be required "
		    "or no", entry_line(s, "smtp_starttls"));
	if ((r = take_int(s, "timeout", 0, 600, 0, " (0: the default, 30)",
	    &c->timeout_seconds)) != 0 || (r = check_from(s, c->from)) != 0 ||
	    (c->smtp_url != NULL && (r = check_smtp_url(s, c->smtp_url)) != 0))
		return r;
	return check_outboxes(s, c);
}

static int parse_mail(const struct tsr_ini_section *s, const char *home,
    struct tsr_mail_settings *c)
{
	int r;

	if ((r = check_keys(s, mail_keys)) != 0 ||
	    (r = take_path_or(s, "outbox", false, home, "outbox", &c->outbox)) != 0 ||
	    (r = take_path_or(s, "passcode_outbox", false, home, "passcodes",
	    &c->passcode_outbox)) != 0 ||
	    (r = take_or(s, "from", "noreply@tessera.invalid", &c->from)) != 0 ||
	    (r = take_or(s, "smtp_url", NULL, &c->smtp_url)) != 0 ||
	    (r = take_or(s, "smtp_user", NULL, &c->smtp_user)) != 0 ||
	    (r = take_path(s, "smtp_password_file", false, home, &c->smtp_password_file)) != 0 ||
	    (r = take_path(s, "smtp_ca_file", false, home, &c->smtp_ca_file)) != 0)
		return r;
	return parse_mail_values(s, c);
}

/* ------------------------------------------------------------------ [verifier PRODUCT] */

static bool loopback_host(const char *host, size_t len)
{
	static const char *const names[] = { "127.0.0.1", "[::1]", "localhost" };

	for (size_t i = 0; i < TSR_ARRAY_LEN(names); i++)
		if (strlen(names[i]) == len && strncasecmp(host, names[i], len) == 0)
			return true;
	return false;
}

/* https://HOST[:PORT][/PATH], or http:// to a loopback address only: the
 * request carries applicant data and the bearer token, which cross a
 * network only inside TLS.  No user:password@: the token has its own file. */
static int check_verifier_url(const struct tsr_ini_section *s, const char *url)
{
	size_t n = strlen(url), scheme = 0, auth, host;
	int line = entry_line(s, "url");
	const char *a;

	if (strncasecmp(url, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		scheme = 7;
	if (scheme == 0 || n > URL_MAX)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] url must start with https:// and be "
		    "at most %d characters", line, s->name, URL_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '\\')
			return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] url contains a space, '\\', "
			    "control or non-ASCII character", line, s->name);
	a = url + scheme;
	auth = strcspn(a, "/?#");
	if (memchr(a, '@', auth) != NULL)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] url may not hold a user or password; "
		    "put a bearer token in token_file", line, s->name);
	host = a[0] == '[' ? strcspn(a, "]") + 1 : strcspn(a, ":/?#");
	if (host <= (a[0] == '[' ? 2u : 0u) || host > auth || (host < auth && (a[host] != ':' ||
	    auth == host + 1 || strspn(a + host + 1, "0123456789") != auth - host - 1)))
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] url must name a host and at most a "
		    "numeric port, as in https://verifier.example:8443/check", line, s->name);
	if (scheme == 7 && !loopback_host(a, host))
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s] url: http:// is allowed only to "
		    "127.0.0.1, [::1] or localhost; a verifier elsewhere needs https://", line,
		    s->name);
	return 0;
}

static int parse_verifier(const struct tsr_ini_section *s, const char *home,
    const struct tsr_products *products, struct tsr_verifier_config *v)
{
	const char *product = s->name + strlen("verifier ");
	int r;

	if ((r = check_keys(s, verifier_keys)) != 0)
		return r;
	if (tsr_product_find(products, product) == NULL)
		return tsr_error(TSR_ERR_CONFIG, "line %d: [%s]: there is no [product %s] section",
		    s->line, s->name, product);
	if ((v->product = strdup(product)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = take(s, "url", true, &v->url)) != 0 ||
	    (r = take_path(s, "ca_file", false, home, &v->ca_file)) != 0 ||
	    (r = take_path(s, "token_file", false, home, &v->token_file)) != 0 ||
	    (r = take_int(s, "timeout", 1, 60, 10, NULL, &v->timeout_seconds)) != 0)
		return r;
	return check_verifier_url(s, v->url);
}

static int parse_verifiers(const struct tsr_ini *ini, const char *home, struct tsr_config *c)
{
	struct tsr_verifier_config *v;

	for (size_t i = 0; i < ini->n_sections; i++) {
		const struct tsr_ini_section *s = &ini->sections[i];
		int r;

		if (strcmp(s->name, "verifier") == 0)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [verifier] needs a product name, "
			    "as in [verifier epcs]", s->line);
		if (strncmp(s->name, "verifier ", 9) != 0)
			continue;
		if (tsr_config_verifier(c, s->name + 9) != NULL)
			return tsr_error(TSR_ERR_CONFIG, "line %d: a second [%s] section: a product "
			    "has at most one verifier", s->line, s->name);
		if ((v = realloc(c->verifiers, (c->n_verifiers + 1) * sizeof(*v))) == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		c->verifiers = v;
		memset(&v[c->n_verifiers], 0, sizeof(*v));
		if ((r = parse_verifier(s, home, &c->products, &v[c->n_verifiers++])) != 0)
			return r;
	}
	return 0;
}

/* See ca.h. */
const struct tsr_verifier_config *tsr_config_verifier(const struct tsr_config *c,
    const char *product)
{
	for (size_t i = 0; i < c->n_verifiers; i++)
		if (c->verifiers[i].product != NULL && strcmp(c->verifiers[i].product, product) == 0)
			return &c->verifiers[i];
	return NULL;
}

/* ------------------------------------------------------------------ the file */

static bool known_section(const char *name)
{
	return strcmp(name, "ca") == 0 || strcmp(name, "ra") == 0 || strcmp(name, "mail") == 0 ||
	    strncmp(name, "product ", 8) == 0 || strcmp(name, "verifier") == 0 ||
	    strncmp(name, "verifier ", 9) == 0;
}

/* Section name of ini, or *empty named so: every key takes its default. */
static const struct tsr_ini_section *optional_section(const struct tsr_ini *ini,
    const char *name, struct tsr_ini_section *empty)
{
	const struct tsr_ini_section *s = tsr_ini_section(ini, name);

	if (s != NULL)
		return s;
	memset(empty, 0, sizeof(*empty));
	empty->name = name;
	return empty;
}

/* Everything after [ca] and the products, which the verifiers refer to. */
static int parse_workflow(const struct tsr_ini *ini, const char *home, struct tsr_config *out)
{
	struct tsr_ini_section none;
	int r;

	if ((out->home = strdup(home)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = parse_ra(optional_section(ini, "ra", &none), home, &out->ra)) != 0 ||
	    (r = parse_mail(optional_section(ini, "mail", &none), home, &out->mail)) != 0)
		return r;
	return parse_verifiers(ini, home, out);
}

/* See ca.h: strict; out is zeroed on failure. */
int tsr_config_parse(const char *text, size_t len, const char *home, struct tsr_config *out)
{
	struct tsr_ini ini;
	const struct tsr_ini_section *ca;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = tsr_ini_parse(text, len, &ini)) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, NULL);
	for (size_t i = 0; i < ini.n_sections; i++) {
		if (!known_section(ini.sections[i].name)) {
			r = tsr_error(TSR_ERR_CONFIG, "line %d: unknown section [%s]",
			    ini.sections[i].line, ini.sections[i].name);
			goto out;
		}
	}
	if ((ca = tsr_ini_section(&ini, "ca")) == NULL) {
		r = tsr_error(TSR_ERR_CONFIG, "the [ca] section is missing");
		goto out;
	}
	if ((r = parse_ca(ca, home, &out->ca)) != 0)
		goto out;
	if ((r = tsr_products_load(&ini, &out->products)) != 0) {
		r = tsr_error_wrap(TSR_ERR_CONFIG, NULL);
		goto out;
	}
	r = parse_workflow(&ini, home, out);
out:
	tsr_ini_free(&ini);
	if (r != 0)
		tsr_config_free(out);
	return r;
}

/* See ca.h: home/tessera.conf, relative paths resolved against the real path
 * of home. */
int tsr_config_load(const char *home, struct tsr_config *out)
{
	struct tsr_buf text;
	char *path = NULL, *abs_home = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	tsr_buf_init(&text, CONFIG_MAX);
	/* Relative paths in the config are relative to the home, wherever the
	 * command runs from: resolve the home first. */
	if ((abs_home = realpath(home, NULL)) == NULL) {
		r = tsr_error(errno == ENOENT ? TSR_ERR_NOT_FOUND : TSR_ERR_IO,
		    "%s is not a Tessera home: %s", home, strerror(errno));
		goto out;
	}
	if ((r = tsr_path_join(abs_home, "tessera.conf", &path)) != 0)
		goto out;
	if ((r = tsr_file_read(path, CONFIG_MAX, &text)) != 0) {
		if (r == TSR_ERR_NOT_FOUND)
			r = tsr_error(TSR_ERR_NOT_FOUND, "%s is not a Tessera home (no tessera.conf)",
			    home);
		goto out;
	}
	if ((r = tsr_config_parse((const char *)text.data, text.len, abs_home, out)) != 0) {
		r = tsr_error_wrap(r, "%s", path);
		goto out;
	}
	out->path = path;
	path = NULL;
out:
	free(path);
	free(abs_home);
	tsr_buf_free(&text);
	return r;
}

static void mail_free(struct tsr_mail_settings *m)
{
	free(m->outbox);
	free(m->passcode_outbox);
	free(m->from);
	free(m->smtp_url);
	free(m->smtp_user);
	free(m->smtp_password_file);
	free(m->smtp_ca_file);
}

static void verifiers_free(struct tsr_verifier_config *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].product);
		free(v[i].url);
		free(v[i].ca_file);
		free(v[i].token_file);
	}
	free(v);
}

/* Free everything c holds; c may be zeroed or freed already. */
void tsr_config_free(struct tsr_config *c)
{
	struct tsr_ca_config *ca = &c->ca;

	free(ca->organization);
	free(ca->country);
	free(ca->pkcs11_module);
	free(ca->token_uri);
	free(ca->pin_file);
	free(ca->softhsm_conf);
	free(ca->database);
	free(ca->public_url);
	free(ca->policy_arc);
	free(ca->server_names);
	tsr_products_free(&c->products);
	free(c->ra.agreement_version);
	free(c->ra.password_list);
	free(c->ra.web_url);
	free(c->ra.agreement_file);
	mail_free(&c->mail);
	verifiers_free(c->verifiers, c->n_verifiers);
	free(c->home);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
