/*
 * config.c - tessera.conf: the [ca] section here, the [product NAME]
 * sections in x509/product.c.  Unknown sections and keys are errors, so a
 * typo never silently falls back to a default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca_impl.h"

#define CONFIG_MAX (1024 * 1024)

static const char *const ca_keys[] = {
	"organization", "country", "key_type", "pkcs11_module", "token", "pin_file",
	"softhsm_conf", "database", "public_url", "policy_arc", "ocsp_validity_days",
	"server_names",
};

static bool known_ca_key(const char *key)
{
	for (size_t i = 0; i < TSR_ARRAY_LEN(ca_keys); i++)
		if (strcmp(ca_keys[i], key) == 0)
			return true;
	return false;
}

/* Copy a required value, or fail naming the key. */
static int take(const struct tsr_ini_section *s, const char *key, bool required, char **out)
{
	const char *v = tsr_ini_get(s, key);

	if (v == NULL || v[0] == '\0') {
		if (required)
			return tsr_error(TSR_ERR_CONFIG, "line %d: [ca] %s is required", s->line, key);
		v = "";
	}
	if ((*out = strdup(v)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* Resolve a path value relative to the home; "" stays NULL. */
static int take_path(const struct tsr_ini_section *s, const char *key, bool required,
    const char *home, char **out)
{
	const char *v = tsr_ini_get(s, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return required ? tsr_error(TSR_ERR_CONFIG, "line %d: [ca] %s is required",
		    s->line, key) : 0;
	return tsr_path_join(home, v, out);
}

static int entry_line(const struct tsr_ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return s->entries[i].line;
	return s->line;
}

static int check_ca_values(const struct tsr_ini_section *s, struct tsr_ca_config *c)
{
	const char *kt = tsr_ini_get(s, "key_type");
	const char *days = tsr_ini_get(s, "ocsp_validity_days");
	char *end = NULL;
	long n;

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
	c->ocsp_validity_days = 90;
	if (days != NULL) {
		n = strtol(days, &end, 10);
		if (end == days || *end != '\0' || n < 1 || n > 120)
			return tsr_error(TSR_ERR_CONFIG,
			    "line %d: [ca] ocsp_validity_days must be 1..120",
			    entry_line(s, "ocsp_validity_days"));
		c->ocsp_validity_days = (int)n;
	}
	return 0;
}

static int parse_ca(const struct tsr_ini_section *s, const char *home, struct tsr_ca_config *c)
{
	int r;

	for (size_t i = 0; i < s->n_entries; i++)
		if (!known_ca_key(s->entries[i].key))
			return tsr_error(TSR_ERR_CONFIG, "line %d: [ca] unknown key '%s'",
			    s->entries[i].line, s->entries[i].key);
	if ((r = take(s, "organization", true, &c->organization)) != 0 ||
	    (r = take(s, "country", false, &c->country)) != 0 ||
	    (r = take(s, "token", true, &c->token_uri)) != 0 ||
	    (r = take(s, "public_url", true, &c->public_url)) != 0 ||
	    (r = take(s, "policy_arc", true, &c->policy_arc)) != 0 ||
	    (r = take(s, "server_names", false, &c->server_names)) != 0 ||
	    (r = take_path(s, "pkcs11_module", true, home, &c->pkcs11_module)) != 0 ||
	    (r = take_path(s, "pin_file", true, home, &c->pin_file)) != 0 ||
	    (r = take_path(s, "softhsm_conf", false, home, &c->softhsm_conf)) != 0 ||
	    (r = take_path(s, "database", true, home, &c->database)) != 0)
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

int tsr_config_parse(const char *text, size_t len, const char *home, struct tsr_config *out)
{
	struct tsr_ini ini;
	const struct tsr_ini_section *ca;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = tsr_ini_parse(text, len, &ini)) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, NULL);
	for (size_t i = 0; i < ini.n_sections; i++) {
		const char *name = ini.sections[i].name;

		if (strcmp(name, "ca") != 0 && strncmp(name, "product ", 8) != 0) {
			r = tsr_error(TSR_ERR_CONFIG, "line %d: unknown section [%s]",
			    ini.sections[i].line, name);
			goto out;
		}
	}
	if ((ca = tsr_ini_section(&ini, "ca")) == NULL) {
		r = tsr_error(TSR_ERR_CONFIG, "the [ca] section is missing");
		goto out;
	}
	if ((r = parse_ca(ca, home, &out->ca)) != 0)
		goto out;
	if ((r = tsr_products_load(&ini, &out->products)) != 0)
		r = tsr_error_wrap(TSR_ERR_CONFIG, NULL);
out:
	tsr_ini_free(&ini);
	if (r != 0)
		tsr_config_free(out);
	return r;
}

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
	free(c->path);
	memset(c, 0, sizeof(*c));
}
