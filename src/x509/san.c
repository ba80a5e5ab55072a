/*
 * san.c - subject alternative names as people type them ("dns:host.example")
 * turned into one canonical text per name, so that policy checks and
 * certificates compare like with like.
 *
 * Every SAN type lands in an IA5String, so everything here is ASCII; an
 * internationalised name must be given in its A-label (xn--) form.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "x509/x509.h"

/* Far above any real SAN (a DNS name is at most 253 bytes); a cap on input. */
#define SAN_INPUT_MAX 1024
#define SAN_FORMAT_MAX (TSR_SAN_MAX * (SAN_INPUT_MAX + 2))
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63
#define EMAIL_LOCAL_MAX 64
#define EMAIL_MAX 254

static const char *const san_type_names[TSR_SAN_TYPE_COUNT] = {
	[TSR_SAN_DNS] = "dns",
	[TSR_SAN_EMAIL] = "email",
	[TSR_SAN_IP] = "ip",
	[TSR_SAN_URI] = "uri",
};

const char *tsr_san_type_name(enum tsr_san_type t)
{
	if ((unsigned)t >= TSR_SAN_TYPE_COUNT)
		return "unknown";
	return san_type_names[t];
}

static bool is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ------------------------------------------------------------------ DNS */
static int check_label(const char *l, size_t n, const char *name)
{
	if (n == 0)
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s' has an empty label", name);
	if (n > DNS_LABEL_MAX)
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s' has a label over %d bytes", name,
		    DNS_LABEL_MAX);
	if (l[0] == '-' || l[n - 1] == '-')
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s' has a label that starts or ends "
		    "with '-'", name);
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(l[i]) && !is_digit(l[i]) && l[i] != '-')
			return tsr_error(TSR_ERR_PARSE, "DNS name '%s': '%c' is not allowed (letters, "
			    "digits, '-' and '.' only)", name, l[i]);
	return 0;
}

/* Check a lower-cased DNS name (LDH labels, see x509.h). */
static int check_dns(const char *name)
{
	size_t len = strlen(name), labels = 0;
	const char *l = name, *dot, *last = name;
	int rc;

	if (len == 0)
		return tsr_error(TSR_ERR_PARSE, "empty DNS name");
	if (strchr(name, '*') != NULL)
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s': wildcards are not allowed", name);
	if (len > DNS_NAME_MAX)
		return tsr_error(TSR_ERR_PARSE, "DNS name over %d bytes", DNS_NAME_MAX);
	if (name[len - 1] == '.')
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s': remove the trailing dot", name);
	for (;;) {
		dot = strchr(l, '.');
		if ((rc = check_label(l, dot ? (size_t)(dot - l) : strlen(l), name)) != 0)
			return rc;
		labels++;
		last = l;
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	if (labels < 2)
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s' needs at least two labels", name);
	if (strspn(last, "0123456789") == strlen(last))
		return tsr_error(TSR_ERR_PARSE, "DNS name '%s' ends in a numeric label; for an IP "
		    "address use ip:", name);
	return 0;
}

static int parse_dns(const char *v, char **out)
{
	char *s = strdup(v);
	int rc;

	if (s == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	lower_ascii(s);
	if ((rc = check_dns(s)) != 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ email */
static bool is_atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5321 dot-atom: atext runs separated by single dots. */
static int check_local_part(const char *l, size_t n)
{
	if (n == 0 || n > EMAIL_LOCAL_MAX)
		return tsr_error(TSR_ERR_PARSE, "email local part must be 1 to %d characters",
		    EMAIL_LOCAL_MAX);
	if (l[0] == '.' || l[n - 1] == '.')
		return tsr_error(TSR_ERR_PARSE, "email local part may not start or end with '.'");
	for (size_t i = 0; i < n; i++) {
		if (l[i] == '.' && l[i + 1] == '.')
			return tsr_error(TSR_ERR_PARSE, "email local part has '..'");
		if (l[i] != '.' && !is_atext(l[i]))
			return tsr_error(TSR_ERR_PARSE, "email local part: '%c' is not allowed "
			    "(quoted local parts are not supported)", l[i]);
	}
	return 0;
}

static int parse_email(const char *v, char **out)
{
	const char *at = strchr(v, '@');
	char *s;
	int rc;

	if (at == NULL || strchr(at + 1, '@') != NULL)
		return tsr_error(TSR_ERR_PARSE, "an email address has exactly one '@'");
	if (strlen(v) > EMAIL_MAX)
		return tsr_error(TSR_ERR_PARSE, "email address over %d characters", EMAIL_MAX);
	if ((rc = check_local_part(v, (size_t)(at - v))) != 0)
		return rc;
	if ((s = strdup(v)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	/* The domain is case-insensitive; the local part belongs to its host. */
	lower_ascii(s + (at - v) + 1);
	if ((rc = check_dns(s + (at - v) + 1)) != 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ IP */
static int parse_ip(const char *v, char **out)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	int af = strchr(v, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(af, v, addr) != 1)
		return tsr_error(TSR_ERR_PARSE, "'%s' is not an %s address", v,
		    af == AF_INET6 ? "IPv6" : "IPv4 (dotted-quad)");
	if (inet_ntop(af, addr, text, sizeof(text)) == NULL)
		return tsr_error(TSR_ERR_INTERNAL, "cannot format an IP address");
	if ((*out = strdup(text)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	return 0;
}

/* ------------------------------------------------------------------ URI */
static bool is_uri_char(int c)
{
	/* RFC 3986 unreserved, gen-delims and sub-delims; '%' is checked apart. */
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=", c));
}

/* An absolute URI with a host where it has an authority (RFC 5280 4.2.1.6). */
static int check_uri(const char *v)
{
	size_t i = 0, auth_end;
	const char *host;

	if (!is_alpha(v[0]))
		return tsr_error(TSR_ERR_PARSE, "a URI starts with a scheme such as https:");
	while (is_alpha(v[i]) || is_digit(v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.')
		i++;
	if (v[i] != ':' || v[i + 1] == '\0')
		return tsr_error(TSR_ERR_PARSE, "a URI is SCHEME:REST, e.g. https://example.com/");
	for (size_t k = i + 1; v[k]; k++) {
		if (v[k] == '%' && is_hex(v[k + 1]) && is_hex(v[k + 2]))
			k += 2;
		else if (!is_uri_char(v[k]))
			return tsr_error(TSR_ERR_PARSE, "'%c' is not allowed in a URI; "
			    "percent-encode it", v[k]);
	}
	if (strncmp(v + i + 1, "//", 2) == 0) {
		auth_end = i + 3 + strcspn(v + i + 3, "/?#");
		host = v + i + 3;
		for (const char *p = host; p < v + auth_end; p++)
			if (*p == '@')
				host = p + 1;
		if (host == v + auth_end || *host == ':')
			return tsr_error(TSR_ERR_PARSE, "the URI has an empty host");
	}
	return 0;
}

static int parse_uri(const char *v, char **out)
{
	size_t scheme_len;
	int rc;

	if ((rc = check_uri(v)) != 0)
		return rc;
	if ((*out = strdup(v)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	/* Schemes are case-insensitive (RFC 3986 3.1); the rest may not be. */
	scheme_len = strcspn(*out, ":");
	for (size_t i = 0; i < scheme_len; i++)
		if ((*out)[i] >= 'A' && (*out)[i] <= 'Z')
			(*out)[i] = (char)((*out)[i] - 'A' + 'a');
	return 0;
}

/* ------------------------------------------------------------------ SANs */
static int san_type_of(const char *s, size_t n, enum tsr_san_type *t)
{
	for (size_t i = 0; i < TSR_SAN_TYPE_COUNT; i++) {
		if (strlen(san_type_names[i]) == n && strncasecmp(san_type_names[i], s, n) == 0) {
			*t = (enum tsr_san_type)i;
			return 0;
		}
	}
	return tsr_error(TSR_ERR_PARSE, "unknown SAN type '%.*s' (dns, email, ip or uri)",
	    (int)(n > 16 ? 16 : n), s);
}

/* Refuse control characters and non-ASCII anywhere. */
static int check_ascii(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return tsr_error(TSR_ERR_PARSE, "SAN contains control character 0x%02X", c);
		if (c >= 0x80)
			return tsr_error(TSR_ERR_PARSE, "SAN contains a non-ASCII character (use the "
			    "xn-- form of an internationalised domain, percent-encode a URI)");
	}
	return 0;
}

/*
 * Parse "TYPE:VALUE" (type case-insensitive) into out, whose value is a new
 * canonical string (tsr_san_clear()).  TSR_ERR_TOO_LARGE over 1024 bytes,
 * TSR_ERR_PARSE for anything x509.h refuses; out is left clear on failure.
 */
int tsr_san_parse(const char *s, struct tsr_san *out)
{
	const char *colon, *v;
	char *value = NULL;
	enum tsr_san_type t = TSR_SAN_DNS;
	int rc;

	out->type = TSR_SAN_DNS;
	out->value = NULL;
	if (s == NULL)
		return tsr_error(TSR_ERR_INVALID, "no SAN given");
	if (strnlen(s, SAN_INPUT_MAX + 1) > SAN_INPUT_MAX)
		return tsr_error(TSR_ERR_TOO_LARGE, "SAN longer than %d bytes", SAN_INPUT_MAX);
	if ((rc = check_ascii(s)) != 0)
		return rc;
	if ((colon = strchr(s, ':')) == NULL)
		return tsr_error(TSR_ERR_PARSE, "a SAN is TYPE:VALUE, e.g. dns:www.example.com");
	if ((rc = san_type_of(s, (size_t)(colon - s), &t)) != 0)
		return rc;
	if (*(v = colon + 1) == '\0')
		return tsr_error(TSR_ERR_PARSE, "empty %s SAN", san_type_names[t]);
	switch (t) {
	case TSR_SAN_DNS:
		rc = parse_dns(v, &value);
		break;
	case TSR_SAN_EMAIL:
		rc = parse_email(v, &value);
		break;
	case TSR_SAN_IP:
		rc = parse_ip(v, &value);
		break;
	case TSR_SAN_URI:
		rc = parse_uri(v, &value);
		break;
	default:
		rc = tsr_error(TSR_ERR_INTERNAL, "SAN type %d has no parser", (int)t);
		break;
	}
	if (rc != 0)
		return rc;
	out->type = t;
	out->value = value;
	return 0;
}

void tsr_san_clear(struct tsr_san *san)
{
	if (san == NULL)
		return;
	free(san->value);
	san->value = NULL;
}

/* "dns:a.example, email:x@y.example" for n SANs, new string (free()). */
int tsr_sans_format(const struct tsr_san *sans, size_t n, char **out)
{
	struct tsr_buf b;
	const char *str;
	int rc = 0;

	*out = NULL;
	tsr_buf_init(&b, SAN_FORMAT_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (sans[i].value == NULL || (unsigned)sans[i].type >= TSR_SAN_TYPE_COUNT)
			rc = tsr_error(TSR_ERR_INVALID, "SAN %zu is empty or of no known type", i + 1);
		else
			rc = tsr_buf_printf(&b, "%s%s:%s", i ? ", " : "",
			    san_type_names[sans[i].type], sans[i].value);
	}
	if (rc == 0)
		rc = tsr_buf_cstr(&b, &str);
	if (rc == 0 && (*out = strdup(str)) == NULL)
		rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
	tsr_buf_free(&b);
	return rc;
}
