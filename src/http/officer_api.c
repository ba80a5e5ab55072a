/*
 * officer_api.c - what the officers' pages read besides the workflow's
 * routes: the certificate search, the audit trail and the audit chain's
 * verification (docs/api.md, "Officers: certificates and the audit trail").
 *
 * Read-only: nothing here changes the store or audits (the routes that
 * change a certificate's status are ra_api.c's).  Who may read: the
 * certificate search as GET /api/v1/certificates/{serial} (ra-officer,
 * ca-admin, auditor); the audit trail ca-admin and auditor only.
 *
 * The audit trail is walked whole for each request (tsr_store_audit_iter()
 * has no filter): the filters are applied here and at most AUDIT_LIMIT_MAX
 * records are kept, newest first, so memory stays bounded however long
 * the log is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit/audit.h"
#include "http/http.h"
#include "ra/admin.h"
#include "ra/app.h"
#include "ra/retrieve.h"

#define CERT_LIMIT_DEFAULT 100
#define CERT_LIMIT_MAX 500
#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 500

static const char *const cert_query[] = { "subject", "status", "product", "limit", NULL };
static const char *const audit_query[] = { "action", "actor", "object", "since", "limit",
	"before_seq", NULL };

/* ------------------------------------------------------------------ helpers */

static int nomem(void)
{
	return tsr_error(TSR_ERR_NOMEM, "out of memory");
}

/* A decimal query parameter in 1..max (absent: dflt). */
static int query_number(const struct tsr_http_request *req, const char *name, long long max,
    long long dflt, long long *out)
{
	const char *s = tsr_http_query(req, name);
	long long n = 0;

	*out = dflt;
	if (s == NULL)
		return 0;
	if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 18 ||
	    (n = strtoll(s, NULL, 10)) < 1 || n > max)
		return tsr_error(TSR_ERR_INVALID, "query: %s must be a number from 1 to %lld", name,
		    max);
	*out = n;
	return 0;
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" into *out. */
static int query_time(const struct tsr_http_request *req, const char *name, int64_t *out)
{
	const char *s = tsr_http_query(req, name), *end;
	struct tm tm;
	char back[21];
	time_t t;

	*out = 0;
	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, strlen(s) == 10 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	t = timegm(&tm);
	tsr_time_format(t, back);
	if (end == NULL || *end != '\0' || (strlen(s) != 10 && strlen(s) != 20) ||
	    strncmp(back, s, strlen(s)) != 0)
		return tsr_error(TSR_ERR_INVALID, "query: %s must be a date YYYY-MM-DD or a time "
		    "YYYY-MM-DDTHH:MM:SSZ (UTC)", name);
	*out = (int64_t)t;
	return 0;
}

/* An officer with auditor or ca-admin, on an account that is enabled and
 * unlocked. */
static int require_audit_reader(const struct tsr_http_request *req, struct tsr_store *st)
{
	const char *name;
	int r;

	if ((r = tsr_http_officer_name(req, &name)) != 0)
		return r;
	if ((r = tsr_ra_officer_check(st, name, TSR_ROLE_AUDITOR)) != TSR_ERR_FORBIDDEN)
		return r;
	if ((r = tsr_ra_officer_check(st, name, TSR_ROLE_CA_ADMIN)) != TSR_ERR_FORBIDDEN)
		return r;
	return tsr_error(TSR_ERR_FORBIDDEN, "reading the audit trail needs the auditor or "
	    "ca-admin role, on an account that is enabled and not locked");
}

/* ------------------------------------------------------------------ certificates */

struct cert_list {
	json_t *list;
	size_t limit;
	bool more;
	int r;
};

static int cert_item(const struct tsr_cert_record *rec, void *ctx)
{
	struct cert_list *c = ctx;
	json_t *v;

	if (json_array_size(c->list) == c->limit) {
		c->more = true;
		return 1;
	}
	v = json_pack("{s:o, s:o, s:o, s:o, s:o}", "serial", tsr_json_text(rec->serial), "subject",
	    tsr_json_text(rec->subject), "product", tsr_json_text(rec->product), "status",
	    tsr_json_text(rec->status), "not_after", tsr_json_time(rec->not_after));
	if (v != NULL && rec->revoked_at != 0 &&
	    (tsr_json_set(v, "revoked_at", tsr_json_time(rec->revoked_at)) != 0 ||
	    tsr_json_set(v, "reason", tsr_json_text(rec->revocation_reason)) != 0)) {
		json_decref(v);
		v = NULL;
	}
	if (v == NULL || json_array_append_new(c->list, v) != 0) {
		c->r = nomem();
		return 1;
	}
	return 0;
}

static int do_cert_search(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	const char *status = tsr_http_query(req, "status"), *officer;
	struct tsr_cert_filter f = { .role = "subscriber" };
	struct cert_list c = { .r = 0 };
	long long limit;
	int r;

	(void)ra;
	if ((r = tsr_http_officer_name(req, &officer)) != 0 ||
	    (r = tsr_ra_cert_reader_check(st, officer)) != 0 ||
	    (r = query_number(req, "limit", CERT_LIMIT_MAX, CERT_LIMIT_DEFAULT, &limit)) != 0)
		return r;
	if (status != NULL && strcmp(status, "valid") != 0 && strcmp(status, "revoked") != 0 &&
	    strcmp(status, "suspended") != 0)
		return tsr_error(TSR_ERR_INVALID, "query: status must be valid, suspended or "
		    "revoked");
	f.status = status;
	f.product = tsr_http_query(req, "product");
	f.subject_like = tsr_http_query(req, "subject");
	/* One more than asked: whether there are more. */
	f.limit = (unsigned)limit + 1;
	c.limit = (size_t)limit;
	if ((c.list = json_array()) == NULL)
		return nomem();
	r = tsr_store_cert_list(st, &f, cert_item, &c);
	if (r == 1)
		r = 0;
	if (c.r != 0)
		r = c.r;
	if (r != 0) {
		json_decref(c.list);
		return r;
	}
	res->json = json_pack("{s:o, s:b}", "certificates", c.list, "more", c.more);
	return res->json ? 0 : nomem();
}

static int get_certificates(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_cert_search);
}

/* ------------------------------------------------------------------ the audit trail */

struct audit_page {
	/* filters */
	const char *action, *actor, *object;
	int64_t since, before_seq;
	/* the newest limit + 1 matches so far, a ring of JSON records */
	json_t **ring;
	size_t size, count, next;
	int r;
};

/* Whether s holds needle, ignoring ASCII case. */
static bool has_text(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return n == 0;
}

/* The action matches exactly, or by prefix when the filter ends in '.'
 * ("cert." is every cert.* action). */
static bool action_matches(const char *action, const char *want)
{
	size_t n = strlen(want);

	if (action == NULL)
		return false;
	if (n > 0 && want[n - 1] == '.')
		return strncmp(action, want, n) == 0;
	return strcmp(action, want) == 0;
}

static json_t *audit_json(const struct tsr_audit_record *rec)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "seq", (json_int_t)rec->seq,
	    "time", tsr_json_time(rec->time), "actor", tsr_json_text(rec->actor), "action",
	    tsr_json_text(rec->action), "object", tsr_json_text(rec->object), "outcome",
	    tsr_json_text(rec->outcome), "detail", tsr_json_text(rec->detail));
}

static int audit_item(const struct tsr_audit_record *rec, void *ctx)
{
	struct audit_page *p = ctx;
	json_t *v;

	/* In seq order: nothing after before_seq can match. */
	if (p->before_seq != 0 && rec->seq >= p->before_seq)
		return 1;
	if ((p->since != 0 && rec->time < p->since) ||
	    (p->action != NULL && !action_matches(rec->action, p->action)) ||
	    (p->actor != NULL && !has_text(rec->actor, p->actor)) ||
	    (p->object != NULL && !has_text(rec->object, p->object)))
		return 0;
	if ((v = audit_json(rec)) == NULL) {
		p->r = nomem();
		return 1;
	}
	json_decref(p->ring[p->next]);
	p->ring[p->next] = v;
	p->next = (p->next + 1) % p->size;
	if (p->count < p->size)
		p->count++;
	return 0;
}

static int do_audit(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	struct audit_page p = { .r = 0 };
	long long limit, before = 0;
	json_t *list = NULL;
	size_t shown;
	int r;

	(void)ra;
	if ((r = require_audit_reader(req, st)) != 0 ||
	    (r = query_number(req, "limit", AUDIT_LIMIT_MAX, AUDIT_LIMIT_DEFAULT, &limit)) != 0 ||
	    (r = query_number(req, "before_seq", (long long)1 << 62, 0, &before)) != 0 ||
	    (r = query_time(req, "since", &p.since)) != 0)
		return r;
	p.action = tsr_http_query(req, "action");
	p.actor = tsr_http_query(req, "actor");
	p.object = tsr_http_query(req, "object");
	p.before_seq = before;
	p.size = (size_t)limit + 1;
	if ((p.ring = calloc(p.size, sizeof(*p.ring))) == NULL)
		return nomem();
	r = tsr_store_audit_iter(st, audit_item, &p);
	if (r == 1)
		r = 0;
	if (p.r != 0)
		r = p.r;
	if (r == 0 && (list = json_array()) == NULL)
		r = nomem();
	/* Newest first; the oldest of limit + 1 only says there are more. */
	shown = p.count < (size_t)limit ? p.count : (size_t)limit;
	for (size_t i = 0; r == 0 && i < shown; i++) {
		size_t at = (p.next + p.size - 1 - i) % p.size;

		if (json_array_append(list, p.ring[at]) != 0)
			r = nomem();
	}
	if (r == 0) {
		res->json = json_pack("{s:o, s:b}", "records", list, "more", p.count > shown);
		list = NULL;
		if (res->json == NULL)
			r = nomem();
	}
	for (size_t i = 0; i < p.size; i++)
		json_decref(p.ring[i]);
	free(p.ring);
	json_decref(list);
	return r;
}

static int get_audit(const struct tsr_http_request *req, struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_audit);
}

static int do_audit_verification(const struct tsr_http_request *req, struct tsr_ra *ra,
    struct tsr_store *st, struct tsr_http_response *res)
{
	struct tsr_audit_report rep;
	int r;

	(void)ra;
	if ((r = require_audit_reader(req, st)) != 0)
		return r;
	r = tsr_audit_verify(st, &rep);
	if (r != 0 && r != TSR_ERR_AUDIT)
		return r;
	if (r == 0)
		res->json = json_pack("{s:b, s:I, s:s}", "ok", 1, "records",
		    (json_int_t)rep.records, "head_hash", rep.head_hash);
	else
		res->json = json_pack("{s:b, s:I, s:I, s:o}", "ok", 0, "records",
		    (json_int_t)rep.records, "first_bad_seq", (json_int_t)rep.first_bad_seq,
		    "reason", tsr_json_text(rep.reason));
	return res->json ? 0 : nomem();
}

static int get_audit_verification(const struct tsr_http_request *req,
    struct tsr_http_response *res)
{
	return tsr_http_with_store(req, res, do_audit_verification);
}

/* ------------------------------------------------------------------ the routes */

static const struct tsr_http_route officer_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/certificates", .handler = get_certificates,
	    .flags = TSR_HTTP_AUTH, .query = cert_query, .response = "CertificateList",
	    .summary = "Search subscriber certificates, newest first (ra-officer, ca-admin or "
	    "auditor)" },
	{ .method = "GET", .pattern = "/api/v1/audit", .handler = get_audit,
	    .flags = TSR_HTTP_AUTH, .query = audit_query, .response = "AuditPage",
	    .summary = "The audit trail, newest first, filtered and paged (ca-admin or auditor)" },
	{ .method = "GET", .pattern = "/api/v1/audit/verification",
	    .handler = get_audit_verification, .flags = TSR_HTTP_AUTH,
	    .response = "AuditVerification",
	    .summary = "Verify the audit chain: ok, or the first broken record (ca-admin or "
	    "auditor)" },
};

const struct tsr_http_route *tsr_http_officer_routes(size_t *n)
{
	*n = TSR_ARRAY_LEN(officer_routes);
	return officer_routes;
}

/* ------------------------------------------------------------------ response schemas */

static json_t *str(void)
{
	return json_pack("{s:s}", "type", "string");
}

static json_t *date_time(void)
{
	return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
}

static json_t *integer(void)
{
	return json_pack("{s:s}", "type", "integer");
}

static json_t *boolean(void)
{
	return json_pack("{s:s}", "type", "boolean");
}

json_t *tsr_http_officer_schemas(void)
{
	return json_pack("{"
	    "s:{s:s, s:[s,s,s,s,s], s:{s:o, s:o, s:o, s:{s:s, s:[s,s,s]}, s:o, s:o, s:o}},"
	    "s:{s:s, s:[s,s], s:{s:{s:s, s:{s:s}}, s:o}},"
	    "s:{s:s, s:[s,s,s,s,s,s,s], s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o}},"
	    "s:{s:s, s:[s,s], s:{s:{s:s, s:{s:s}}, s:o}},"
	    "s:{s:s, s:[s,s], s:{s:o, s:o, s:o, s:o, s:o}}}",
	    "CertificateSummary", "type", "object", "required", "serial", "subject", "product",
	    "status", "not_after", "properties", "serial", str(), "subject", str(), "product",
	    str(), "status", "type", "string", "enum", "valid", "suspended", "revoked",
	    "not_after", date_time(), "revoked_at", date_time(), "reason", str(),
	    "CertificateList", "type", "object", "required", "certificates", "more",
	    "properties", "certificates", "type", "array", "items",
	    "$ref", "#/components/schemas/CertificateSummary", "more", boolean(),
	    "AuditRecord", "type", "object", "required", "seq", "time", "actor", "action",
	    "object", "outcome", "detail", "properties", "seq", integer(), "time", date_time(),
	    "actor", str(), "action", str(), "object", str(), "outcome", str(), "detail", str(),
	    "AuditPage", "type", "object", "required", "records", "more", "properties",
	    "records", "type", "array", "items", "$ref", "#/components/schemas/AuditRecord",
	    "more", boolean(),
	    "AuditVerification", "type", "object", "required", "ok", "records", "properties",
	    "ok", boolean(), "records", integer(), "head_hash", str(), "first_bad_seq",
	    integer(), "reason", str());
}
