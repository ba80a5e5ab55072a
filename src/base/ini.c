/*
 * ini.c - the strict parser of Tessera's configuration file format.
 *
 * The config file decides what the CA certifies, so a typo must stop the CA
 * instead of being guessed around: anything that is not plainly a comment, a
 * blank line, a section header or a key = value line is refused, naming its
 * line.  The parser keeps one owned copy of the text and cuts it into
 * NUL-terminated names, keys and values in place.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define INI_MAX_FILE (1024 * 1024)
#define INI_MAX_LINE 4096

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Keys and the words of section names: [A-Za-z0-9_.-]. */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/* Trim blanks from both ends of [s, e) in place; returns the new start. */
static char *trim(char *s, char *e)
{
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if it is invalid
 * (truncated, overlong, a surrogate or above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Values end up in certificates, web pages and JSON: refuse NUL and other
 * control characters (tab excepted) and anything that is not UTF-8. */
static int check_bytes(const char *s, size_t n, int line)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if (p[i] == '\0')
			return tsr_error(TSR_ERR_PARSE, "line %d: NUL byte", line);
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return tsr_error(TSR_ERR_PARSE, "line %d: control character 0x%02x", line,
			    p[i]);
		if ((len = utf8_len(p + i, n - i)) == 0)
			return tsr_error(TSR_ERR_PARSE, "line %d: invalid UTF-8", line);
		i += len;
	}
	return 0;
}

/*
 * Arrays grow by doubling.  Their capacity is implied by their length: the
 * storage is reallocated whenever the length reaches zero or a power of two.
 */
static int reserve(void **v, size_t n, size_t size)
{
	void *p;

	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	if ((p = realloc(*v, (n ? 2 * n : 1) * size)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	*v = p;
	return 0;
}

/* "[ product   epcs ]" -> "product epcs"; s is the trimmed line. */
static int parse_section(struct tsr_ini *ini, char *s, int line)
{
	struct tsr_ini_section *sec;
	char *close = strchr(s, ']'), *name, *in, *out;
	bool gap = false;
	int r;

	if (close == NULL)
		return tsr_error(TSR_ERR_PARSE, "line %d: section header without a closing ']'",
		    line);
	if (close[1] != '\0')
		return tsr_error(TSR_ERR_PARSE, "line %d: unexpected text after ']'", line);
	name = trim(s + 1, close);
	if (*name == '\0')
		return tsr_error(TSR_ERR_PARSE, "line %d: empty section name", line);
	for (in = out = name; *in != '\0'; in++) {
		if (is_blank(*in)) {
			gap = true;
			continue;
		}
		if (!is_name_char(*in))
			return tsr_error(TSR_ERR_PARSE, "line %d: a section name may contain only "
			    "letters, digits, '_', '.', '-' and spaces", line);
		if (gap)
			*out++ = ' ';
		gap = false;
		*out++ = *in;
	}
	*out = '\0';
	if ((r = reserve((void **)&ini->sections, ini->n_sections, sizeof(*sec))) != 0)
		return r;
	sec = &ini->sections[ini->n_sections++];
	memset(sec, 0, sizeof(*sec));
	sec->name = name;
	sec->line = line;
	return 0;
}

/* "key = value"; s is the trimmed line and eq its first '='. */
static int parse_entry(struct tsr_ini *ini, char *s, char *eq, int line)
{
	struct tsr_ini_section *sec;
	struct tsr_ini_entry *e;
	char *key = trim(s, eq), *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
	int r;

	if (*key == '\0')
		return tsr_error(TSR_ERR_PARSE, "line %d: empty key before '='", line);
	for (char *k = key; *k != '\0'; k++)
		if (!is_name_char(*k))
			return tsr_error(TSR_ERR_PARSE, "line %d: key '%s' may contain only "
			    "letters, digits, '_', '.' and '-'", line, key);
	if (ini->n_sections == 0)
		return tsr_error(TSR_ERR_PARSE, "line %d: key '%s' is outside any [section]",
		    line, key);
	sec = &ini->sections[ini->n_sections - 1];
	if ((r = reserve((void **)&sec->entries, sec->n_entries, sizeof(*e))) != 0)
		return r;
	e = &sec->entries[sec->n_entries++];
	e->key = key;
	e->value = value;
	e->line = line;
	return 0;
}

/* One line of n bytes (without its line ending), NUL-terminated at s[n]. */
static int parse_line(struct tsr_ini *ini, char *s, size_t n, int line)
{
	char *eq;
	int r;

	if (n > INI_MAX_LINE)
		return tsr_error(TSR_ERR_PARSE, "line %d: longer than %d bytes", line,
		    INI_MAX_LINE);
	if ((r = check_bytes(s, n, line)) != 0)
		return r;
	s = trim(s, s + n);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(ini, s, line);
	if ((eq = strchr(s, '=')) != NULL)
		return parse_entry(ini, s, eq, line);
	return tsr_error(TSR_ERR_PARSE, "line %d: expected '[section]', 'key = value' or a "
	    "comment", line);
}

struct named {
	const char *name;
	int line;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* The earliest line in v that repeats an earlier name: *dup is that line's
 * name and line, *first_line the line of the first occurrence.  Sorting
 * keeps this O(n log n) whatever the file looks like. */
static bool first_repeat(struct named *v, size_t n, struct named *dup, int *first_line)
{
	bool found = false;

	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i - 1].name, v[i].name) != 0)
			continue;
		if (!found || v[i].line < dup->line) {
			*dup = v[i];
			*first_line = v[i - 1].line;
			found = true;
		}
	}
	return found;
}

/* Refuse duplicate sections and duplicate keys within a section, naming the
 * earliest offending line. */
static int check_duplicates(const struct tsr_ini *ini)
{
	struct named *v, dup = { 0 }, d = { 0 };  /* set before use; gcc -O3 cannot tell */
	const char *in_section = NULL;
	size_t max = ini->n_sections;
	int first = 0, f, r = 0;
	bool found;

	for (size_t i = 0; i < ini->n_sections; i++)
		if (ini->sections[i].n_entries > max)
			max = ini->sections[i].n_entries;
	if ((v = calloc(max ? max : 1, sizeof(*v))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ini->n_sections; i++)
		v[i] = (struct named){ ini->sections[i].name, ini->sections[i].line };
	found = first_repeat(v, ini->n_sections, &dup, &first);
	for (size_t i = 0; i < ini->n_sections; i++) {
		const struct tsr_ini_section *sec = &ini->sections[i];

		for (size_t j = 0; j < sec->n_entries; j++)
			v[j] = (struct named){ sec->entries[j].key, sec->entries[j].line };
		if (first_repeat(v, sec->n_entries, &d, &f) && (!found || d.line < dup.line)) {
			dup = d, first = f, in_section = sec->name;
			found = true;
		}
	}
	if (found && in_section == NULL)
		r = tsr_error(TSR_ERR_PARSE, "line %d: duplicate section [%s] (first on line %d)",
		    dup.line, dup.name, first);
	else if (found)
		r = tsr_error(TSR_ERR_PARSE, "line %d: duplicate key '%s' in [%s] (first on "
		    "line %d)", dup.line, dup.name, in_section, first);
	free(v);
	return r;
}

/* Split the owned text into lines and parse each; stops at the first bad line. */
static int parse_lines(struct tsr_ini *ini, size_t len)
{
	char *p = ini->text, *end = ini->text + len, *nl, *e;
	int line = 0, r;

	/* Some editors start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl != NULL ? nl : end;
		if (e > p && e[-1] == '\r')
			e--;
		*e = '\0';
		if ((r = parse_line(ini, p, (size_t)(e - p), line)) != 0)
			return r;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

/*
 * Parse len bytes of config text into out (which the caller frees with
 * tsr_ini_free(), also after a failure).  TSR_ERR_PARSE names the first bad
 * line; TSR_ERR_TOO_LARGE if the text is over 1 MiB.
 */
int tsr_ini_parse(const char *text, size_t len, struct tsr_ini *out)
{
	int r, d;

	memset(out, 0, sizeof(*out));
	if (len > INI_MAX_FILE)
		return tsr_error(TSR_ERR_TOO_LARGE, "config file of %zu bytes is over the 1 MiB "
		    "limit", len);
	if ((out->text = malloc(len + 1)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (len > 0)
		memcpy(out->text, text, len);
	out->text[len] = '\0';
	r = parse_lines(out, len);
	/* A duplicate found in the lines read before a syntax error comes first
	 * in the file, so it is the error to report. */
	if (r == 0 || r == TSR_ERR_PARSE) {
		if ((d = check_duplicates(out)) != 0)
			r = d;
	}
	if (r != 0)
		tsr_ini_free(out);
	return r;
}

/* Free everything tsr_ini_parse() allocated; ini may be zeroed or freed already. */
void tsr_ini_free(struct tsr_ini *ini)
{
	if (ini == NULL)
		return;
	for (size_t i = 0; i < ini->n_sections; i++)
		free(ini->sections[i].entries);
	free(ini->sections);
	free(ini->text);
	memset(ini, 0, sizeof(*ini));
}

/* The section whose (normalised) name is name, or NULL. */
const struct tsr_ini_section *tsr_ini_section(const struct tsr_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n_sections; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

/* The value of key in s, or NULL (also when s is NULL, so that lookups can
 * be chained with tsr_ini_section()). */
const char *tsr_ini_get(const struct tsr_ini_section *s, const char *key)
{
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return s->entries[i].value;
	return NULL;
}
