/*
 * app.c - the applicant's side of the workflow: applying, verifying the
 * email address, a new verification code, withdrawal, lapses, and the
 * read-only views the API and the CLI show.
 *
 * Slow work (Argon2id) is done before a transaction starts, so the write
 * lock is held only for the rows themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "audit/audit.h"
#include "ra/admin.h"
#include "ra/ra_impl.h"

#define TEXT_FIELD_MAX 200        /* names, organization: bytes */
#define EMAIL_MAX 254
#define RESEND_SECONDS 60         /* between two verification codes */

/* ------------------------------------------------------------------ fields */

/* A one-line printable UTF-8 text of 1..max bytes. */
static int text_check(const char *what, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1), i = 0;
	uint32_t cp;

	if (n == 0 || n > max)
		return tsr_error(TSR_ERR_INVALID, "%s must be 1 to %zu characters", what, max);
	while (i < n)
		if (tsr_utf8_next(s, n, &i, &cp) != 0 || tsr_utf8_is_control(cp))
			return tsr_error(TSR_ERR_INVALID, "%s holds a character that is not "
			    "printable text", what);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return tsr_error(TSR_ERR_INVALID, "%s starts or ends with a space", what);
	return 0;
}

/* A telephone number as people write it: an optional '+', then 7 to 20
 * digits with spaces, '-', '(' and ')' between them. */
static int phone_check(const char *s)
{
	size_t digits = 0, n = strnlen(s, 33);

	if (n == 0 || n > 32)
		return tsr_error(TSR_ERR_INVALID, "the phone number is 1 to 32 characters");
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (!(s[i] == '+' && i == 0) && strchr(" -()", s[i]) == NULL)
			return tsr_error(TSR_ERR_INVALID, "the phone number holds '%c'; use digits, "
			    "spaces, '-', '(', ')' and a leading '+'", s[i]);
	}
	if (digits < 7 || digits > 20)
		return tsr_error(TSR_ERR_INVALID, "the phone number has 7 to 20 digits");
	return 0;
}

/* A domain name as a certificate would carry it. */
static int domain_check(const char *s)
{
	struct tsr_san san;
	char buf[300];
	int r;

	if (strnlen(s, 254) > 253)
		return tsr_error(TSR_ERR_INVALID, "the domain is longer than 253 characters");
	snprintf(buf, sizeof(buf), "dns:%s", s);
	memset(&san, 0, sizeof(san));
	r = tsr_san_parse(buf, &san);
	tsr_san_clear(&san);
	return r == 0 ? 0 : tsr_error_wrap(TSR_ERR_INVALID, "the domain");
}

static const char *field_value(const struct tsr_ra_application *a, const char *name,
    const char **second)
{
	*second = NULL;
	if (strcmp(name, "name") == 0) {
		*second = a->family_name;
		return a->given_name;
	}
	if (strcmp(name, "email") == 0) return a->email;
	if (strcmp(name, "address") == 0) return a->address;
	if (strcmp(name, "date_of_birth") == 0) return a->date_of_birth;
	if (strcmp(name, "npi") == 0) return a->npi;
	if (strcmp(name, "dea") == 0) return a->dea;
	if (strcmp(name, "organization") == 0) return a->organization;
	if (strcmp(name, "phone") == 0) return a->phone;
	if (strcmp(name, "domain") == 0) return a->domain;
	return NULL;
}

static bool product_asks(const struct tsr_product *p, const char *field)
{
	for (size_t i = 0; i < p->n_applicant_fields; i++)
		if (strcmp(p->applicant_fields[i], field) == 0)
			return true;
	return false;
}

/* The value of one field the product asks for. */
static int field_check(const struct tsr_ra_application *a, const char *name)
{
	const char *second, *v = field_value(a, name, &second);

	if (v == NULL || (strcmp(name, "name") == 0 && second == NULL))
		return tsr_error(TSR_ERR_INVALID, "%s is required for this product",
		    strcmp(name, "name") == 0 ? "the given and family name" : name);
	if (strcmp(name, "name") == 0) {
		int r = text_check("the given name", v, TEXT_FIELD_MAX);
		return r != 0 ? r : text_check("the family name", second, TEXT_FIELD_MAX);
	}
	if (strcmp(name, "email") == 0)
		return strlen(v) > EMAIL_MAX ? tsr_error(TSR_ERR_INVALID, "the email address is "
		    "longer than %d characters", EMAIL_MAX) : tsr_email_check(v);
	if (strcmp(name, "address") == 0) return tsr_postal_address_check(v);
	if (strcmp(name, "date_of_birth") == 0) return tsr_date_of_birth_check(v, tsr_now());
	if (strcmp(name, "npi") == 0) return tsr_npi_check(v);
	if (strcmp(name, "dea") == 0)
		return tsr_dea_check(v, a->family_name ? a->family_name : "");
	if (strcmp(name, "organization") == 0)
		return text_check("the organization", v, TEXT_FIELD_MAX);
	if (strcmp(name, "phone") == 0) return phone_check(v);
	return domain_check(v);
}

static const char *const all_fields[] = {
	"name", "email", "address", "date_of_birth", "npi", "dea", "organization", "phone",
	"domain",
};

/* Every field the product asks for is there and valid; no other is given.
 * The email address is always needed: the verification code goes there. */
static int fields_check(const struct tsr_product *p, const struct tsr_ra_application *a)
{
	int r;

	for (size_t i = 0; i < TSR_ARRAY_LEN(all_fields); i++) {
		const char *second, *v = field_value(a, all_fields[i], &second);
		bool asked = product_asks(p, all_fields[i]) || strcmp(all_fields[i], "email") == 0;

		if (asked && (r = field_check(a, all_fields[i])) != 0)
			return r;
		if (!asked && (v != NULL || second != NULL))
			return tsr_error(TSR_ERR_INVALID, "the product %s does not ask for %s",
			    p->name, all_fields[i]);
	}
	return 0;
}

/* The storage choices a product's storage allows. */
static int storage_check(const struct tsr_product *p, const char *storage)
{
	bool hw, sw;

	if (storage == NULL)
		return tsr_error(TSR_ERR_INVALID, "the storage choice is required");
	hw = strcmp(storage, TSR_CHOICE_NEW_TOKEN) == 0 ||
	    strcmp(storage, TSR_CHOICE_EXISTING_TOKEN) == 0;
	sw = strcmp(storage, TSR_CHOICE_SOFTWARE) == 0;
	if (!hw && !sw)
		return tsr_error(TSR_ERR_INVALID, "'%.32s' is not a storage choice (use %s, %s or %s)",
		    storage, TSR_CHOICE_NEW_TOKEN, TSR_CHOICE_EXISTING_TOKEN, TSR_CHOICE_SOFTWARE);
	if ((hw && p->storage == TSR_STORAGE_SOFTWARE) || (sw && p->storage == TSR_STORAGE_HARDWARE))
		return tsr_error(TSR_ERR_INVALID, "the product %s keeps its key in %s storage; "
		    "'%s' is not possible", p->name, tsr_storage_name(p->storage), storage);
	return 0;
}

static int payment_check(const struct tsr_product *p, const char *voucher)
{
	bool needs = strcmp(p->payment, "voucher") == 0;

	if (needs && voucher == NULL)
		return tsr_error(TSR_ERR_INVALID, "the product %s needs a voucher code", p->name);
	if (!needs && voucher != NULL)
		return tsr_error(TSR_ERR_INVALID, "the product %s is paid by %s; leave the voucher "
		    "out", p->name, p->payment);
	return 0;
}

/* The questions: TSR_RA_ANSWERS_MIN..MAX, each printable and distinct. */
static int questions_check(const struct tsr_ra_application *a)
{
	int r;

	if (a->n_answers < TSR_RA_ANSWERS_MIN || a->n_answers > TSR_RA_ANSWERS_MAX)
		return tsr_error(TSR_ERR_INVALID, "give %d to %d secret questions with answers",
		    TSR_RA_ANSWERS_MIN, TSR_RA_ANSWERS_MAX);
	for (size_t i = 0; i < a->n_answers; i++) {
		if (a->answers[i].question == NULL || a->answers[i].answer == NULL)
			return tsr_error(TSR_ERR_INVALID, "secret question %zu needs a question and "
			    "an answer", i + 1);
		if ((r = text_check("a secret question", a->answers[i].question,
		    TSR_QUESTION_MAX)) != 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(a->answers[i].question, a->answers[j].question) == 0)
				return tsr_error(TSR_ERR_INVALID, "secret question %zu repeats question "
				    "%zu", i + 1, j + 1);
	}
	return 0;
}

/* Everything about a submission that needs no store and no hashing. */
static int application_check(struct tsr_ra *ra, const struct tsr_ra_application *a,
    const struct tsr_product **p)
{
	const char *context[4];
	int r;

	if (a->product == NULL || (*p = tsr_product_find(&ra->cfg->products, a->product)) == NULL)
		return tsr_error(TSR_ERR_INVALID, "there is no product '%.64s'",
		    a->product ? a->product : "");
	if ((r = storage_check(*p, a->storage)) != 0 || (r = fields_check(*p, a)) != 0 ||
	    (r = payment_check(*p, a->voucher)) != 0 || (r = questions_check(a)) != 0)
		return r;
	if (a->agreement == NULL || strcmp(a->agreement, ra->cfg->ra.agreement_version) != 0)
		return tsr_error(TSR_ERR_POLICY, "accept the current subscriber agreement "
		    "(version %s)", ra->cfg->ra.agreement_version);
	context[0] = a->given_name ? a->given_name : "";
	context[1] = a->family_name ? a->family_name : "";
	context[2] = a->email;
	context[3] = "tessera";
	if (a->password == NULL)
		return tsr_error(TSR_ERR_INVALID, "a password is required");
	return tsr_password_check(ra->passwords, a->password, context, TSR_ARRAY_LEN(context));
}

/* ------------------------------------------------------------------ the record */

static int json_add(json_t *o, const char *key, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, key, json_string(v));
}

/* The applicant's fields as a JSON object text (keys sorted). */
static int applicant_json(const struct tsr_ra_application *a, char **out)
{
	json_t *o = json_object();
	int bad = o == NULL;

	bad = bad || json_add(o, "given_name", a->given_name) ||
	    json_add(o, "family_name", a->family_name) || json_add(o, "email", a->email) ||
	    json_add(o, "address", a->address) || json_add(o, "date_of_birth", a->date_of_birth) ||
	    json_add(o, "npi", a->npi) || json_add(o, "dea", a->dea) ||
	    json_add(o, "organization", a->organization) || json_add(o, "phone", a->phone) ||
	    json_add(o, "domain", a->domain);
	*out = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	return *out != NULL ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}

static void lower_into(struct tsr_buf *b, const char *s, int *bad)
{
	for (; *bad == 0 && s != NULL && *s; s++) {
		char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;

		*bad = tsr_buf_append(b, &c, 1);
	}
}

/* The duplicate key: SHA-256 of the case-folded name and the date of birth
 * ("" when the product asks for neither). */
static int identity_of(const struct tsr_ra_application *a, char out[65])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	struct tsr_buf b;
	int bad = 0;

	out[0] = '\0';
	if (a->given_name == NULL && a->date_of_birth == NULL)
		return 0;
	tsr_buf_init(&b, 4096);
	lower_into(&b, a->given_name, &bad);
	bad = bad || tsr_buf_append(&b, "\n", 1);
	lower_into(&b, a->family_name, &bad);
	bad = bad || tsr_buf_append(&b, "\n", 1);
	lower_into(&b, a->date_of_birth, &bad);
	if (bad == 0)
		SHA256(b.data, b.len, md);
	tsr_buf_free(&b);
	if (bad != 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	tsr_hex_encode(md, sizeof(md), out);
	return 0;
}

/* "AP-XXXX-XXXX-XXXX": 60 random bits in Crockford base32; not a secret. */
static int new_id(char out[TSR_APP_ID_MAX + 1])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint8_t raw[12];
	size_t o = 0;

	if (tsr_random(raw, sizeof(raw)) != 0)
		return tsr_error(TSR_ERR_CRYPTO, "no random bytes for an application number");
	o += (size_t)snprintf(out, TSR_APP_ID_MAX + 1, "AP");
	for (size_t i = 0; i < sizeof(raw); i++) {
		if (i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[raw[i] & 31];
	}
	out[o] = '\0';
	return 0;
}

/* The hashes of the password and the answers (slow: before any lock). */
struct hashes {
	char password[TSR_SECRET_HASH_BYTES];
	char answers[TSR_RA_ANSWERS_MAX][TSR_SECRET_HASH_BYTES];
};

static int hash_secrets(const struct tsr_ra_application *a, struct hashes *h)
{
	char *norm[TSR_RA_ANSWERS_MAX] = { NULL };
	int r = 0;

	/* Every answer is normalised before any slow hashing starts, so a bad
	 * one is refused at once. */
	for (size_t i = 0; r == 0 && i < a->n_answers; i++)
		if ((r = tsr_answer_normalise(a->answers[i].answer, &norm[i])) != 0)
			r = tsr_error_wrap(r, "the answer to secret question %zu", i + 1);
	if (r == 0)
		r = tsr_secret_hash(a->password, h->password);
	for (size_t i = 0; r == 0 && i < a->n_answers; i++)
		r = tsr_secret_hash(norm[i], h->answers[i]);
	for (size_t i = 0; i < a->n_answers; i++)
		tsr_free_secret(norm[i]);
	return r;
}

static int fill_record(struct tsr_ra *ra, const struct tsr_ra_application *a,
    const struct hashes *h, struct tsr_app_record *rec, char identity[65])
{
	int64_t now = (int64_t)tsr_now();
	int r;

	memset(rec, 0, sizeof(*rec));
	if ((r = new_id(rec->id)) != 0 || (r = identity_of(a, identity)) != 0 ||
	    (r = applicant_json(a, &rec->applicant)) != 0)
		return r;
	snprintf(rec->product, sizeof(rec->product), "%s", a->product);
	snprintf(rec->storage, sizeof(rec->storage), "%s", a->storage);
	snprintf(rec->state, sizeof(rec->state), "%s", tsr_app_state_name(TSR_APP_SUBMITTED));
	rec->state_since = rec->created_at = rec->updated_at = now;
	rec->email = (char *)a->email;
	rec->npi = (char *)(a->npi ? a->npi : "");
	rec->dea = (char *)(a->dea ? a->dea : "");
	rec->identity = identity;
	rec->agreement = ra->cfg->ra.agreement_version;
	rec->password_hash = (char *)h->password;
	rec->checks = rec->reason = (char *)"";
	return 0;
}

/* ------------------------------------------------------------------ the agreement */

/* Read the agreement's text (see app.h). */
int tsr_ra_agreement_text(const struct tsr_ra *ra, char **text, char sha256[65])
{
	const char *path = ra->cfg->ra.agreement_file;
	uint8_t md[SHA256_DIGEST_LENGTH];
	struct tsr_buf b;
	size_t i = 0;
	uint32_t cp = 0;
	bool ok = true;
	int r;

	*text = NULL;
	sha256[0] = '\0';
	if (path == NULL)
		return tsr_error(TSR_ERR_CONFIG, "no subscriber agreement file is configured "
		    "([ra] agreement_file)");
	tsr_buf_init(&b, TSR_RA_AGREEMENT_MAX);
	if ((r = tsr_file_read(path, TSR_RA_AGREEMENT_MAX, &b)) != 0) {
		r = tsr_error_wrap(TSR_ERR_CONFIG, "the subscriber agreement ([ra] agreement_file) "
		    "cannot be read");
		goto out;
	}
	if (b.len == 0) {
		r = tsr_error(TSR_ERR_CONFIG, "the subscriber agreement %s is empty", path);
		goto out;
	}
	while (ok && i < b.len)
		ok = tsr_utf8_next((const char *)b.data, b.len, &i, &cp) == 0 && cp != 0;
	if (!ok) {
		r = tsr_error(TSR_ERR_CONFIG, "the subscriber agreement %s is not UTF-8 text",
		    path);
		goto out;
	}
	SHA256(b.data, b.len, md);
	tsr_hex_encode(md, sizeof(md), sha256);
	if ((*text = malloc(b.len + 1)) == NULL) {
		r = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*text, b.data, b.len);
	(*text)[b.len] = '\0';
out:
	tsr_buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ apply */

static int verification_mail(struct tsr_ra *ra, struct tsr_store *st,
    const struct tsr_app_record *a, const char *code, int64_t expires)
{
	char subject[TSR_MAIL_SUBJECT_MAX], until[21];

	tsr_time_format((time_t)expires, until);
	snprintf(subject, sizeof(subject), "Your verification code for application %s", a->id);
	return ra_mailf(ra, st, &ra->mail, a, "verification", subject,
	    "Thank you for your application for: %s.\n\n"
	    "Your application number: %s\nYour verification code:  %s\n\n"
	    "To confirm this email address, enter the code on this page:\n\n"
	    "  %s/verify-email?id=%s\n\n"
	    "The code works once, until %s.\n"
	    "If you did not apply, ignore this message: the application lapses by itself.\n",
	    ra_product_title(ra, a), a->id, code,
	    ra->cfg->ra.web_url ? ra->cfg->ra.web_url : "https://localhost:8443", a->id, until);
}

/* Store the application, its answers, the voucher and the first code. */
static int store_application(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const struct tsr_ra_application *a, const struct hashes *h, struct tsr_app_record *rec,
    const char *agreement_sha256, char *code, size_t codelen, int64_t *expires)
{
	char object[RA_OBJECT_MAX];
	int r;

	ra_object(rec->id, object);
	*expires = (int64_t)tsr_now() + (int64_t)ra->cfg->ra.verification_hours * 3600;
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = tsr_store_app_create(st, rec)) != 0)
		goto out;
	for (size_t i = 0; i < a->n_answers; i++) {
		struct tsr_answer_record ans = {
			.idx = (int)i, .question = (char *)a->answers[i].question,
			.answer_hash = (char *)h->answers[i],
		};
		if ((r = tsr_store_answer_add(st, rec->id, &ans)) != 0)
			goto out;
	}
	if (a->voucher != NULL && (r = tsr_ra_voucher_redeem(st, ra->code_key, actor,
	    a->voucher, a->product, rec->id, tsr_now())) != 0)
		goto out;
	if ((r = ra_code_issue(ra, st, rec->id, TSR_CODE_VERIFICATION,
	    TSR_CODE_VERIFICATION_BITS, *expires, code, codelen)) != 0 ||
	    (r = tsr_audit_append(st, actor, "application.submit", object, TSR_AUDIT_SUCCESS,
	    "product %s, storage %s, agreement %s (text sha256 %s)%s", rec->product,
	    rec->storage, rec->agreement, agreement_sha256,
	    a->voucher ? ", voucher redeemed" : "")) != 0)
		goto out;
	r = tsr_store_commit(st);
out:
	if (r != 0)
		tsr_store_rollback(st);
	return r;
}

/* Apply (see app.h). */
int tsr_ra_apply(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const struct tsr_ra_application *a, char id_out[TSR_APP_ID_MAX + 1])
{
	const struct tsr_product *p = NULL;
	struct tsr_app_record rec;
	struct hashes *h = NULL;
	char identity[65] = "", code[64] = "", object[64], agreement_sha256[65] = "";
	char *agreement_text = NULL;
	int64_t expires = 0;
	int r;

	memset(&rec, 0, sizeof(rec));
	id_out[0] = '\0';
	snprintf(object, sizeof(object), "product:%.40s", a->product ? a->product : "");
	/* Cheap refusals first: the hashing below costs 64 MiB and tens of
	 * milliseconds per secret. */
	if ((r = application_check(ra, a, &p)) != 0 || (a->voucher != NULL &&
	    (r = tsr_ra_voucher_check(st, ra->code_key, a->voucher, a->product, tsr_now())) != 0))
		return tsr_audit_error(st, actor, "application.submit", object, r);
	/* Nobody applies under an agreement whose text cannot be shown; the
	 * record ties the version accepted to the exact text served. */
	if ((r = tsr_ra_agreement_text(ra, &agreement_text, agreement_sha256)) != 0)
		return tsr_audit_error(st, actor, "application.submit", object, r);
	free(agreement_text);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = hash_secrets(a, h)) != 0 || (r = fill_record(ra, a, h, &rec, identity)) != 0)
		goto out;
	if ((r = store_application(ra, st, actor, a, h, &rec, agreement_sha256, code,
	    sizeof(code), &expires)) != 0)
		goto out;
	snprintf(id_out, TSR_APP_ID_MAX + 1, "%s", rec.id);
	/* The application stands without its message: ra_mail logged and
	 * audited why, and the applicant can ask for a new code. */
	if (verification_mail(ra, st, &rec, code, expires) != 0)
		tsr_log(TSR_LOG_ERROR, "no verification message for %s: %s", rec.id,
		    tsr_error_detail());
out:
	if (r != 0 && id_out[0] == '\0')
		r = tsr_audit_error(st, actor, "application.submit", object, r);
	free(rec.applicant);
	tsr_wipe(h, sizeof(*h));
	free(h);
	tsr_wipe(code, sizeof(code));
	return r;
}

/* ------------------------------------------------------------------ verify email */

/* A wrong code: count it on the code (inside the write lock) and lock at max. */
static int code_failure(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *purpose, const char *action)
{
	struct tsr_code_record c;
	char object[RA_OBJECT_MAX];
	int max = ra->cfg->ra.max_failures, n, r;

	ra_object(id, object);
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = tsr_store_code_current(st, id, purpose, &c)) != 0)
		goto out;
	n = c.failures < max ? c.failures + 1 : max;
	if ((r = tsr_store_code_set_failures(st, c.code_hash, n, n >= max)) != 0 ||
	    (r = tsr_audit_append(st, actor, action, object, TSR_AUDIT_FAILURE,
	    "wrong %s code (failure %d of %d%s)", purpose, n, max,
	    n >= max ? "; the code is now locked" : "")) != 0)
		goto out;
	r = tsr_store_commit(st);
out:
	tsr_wipe(&c, sizeof(c));
	if (r != 0) {
		tsr_store_rollback(st);
		return r;
	}
	return tsr_error(TSR_ERR_AUTH, "that is not the code we sent%s",
	    n >= max ? "; the code is now locked: ask for a new one" : "");
}

/* Why the current code c cannot be used now, or 0. */
static int code_usable(const struct tsr_code_record *c, int64_t now)
{
	if (c->locked)
		return tsr_error(TSR_ERR_POLICY, "the code is locked after too many wrong tries; "
		    "ask for a new one");
	if (c->used_at != 0)
		return tsr_error(TSR_ERR_POLICY, "the code was already used");
	if (c->expires_at <= now)
		return tsr_error(TSR_ERR_POLICY, "the code has expired; ask for a new one");
	return 0;
}

/* Whether hash is an earlier code of application id that a newer one
 * replaced: an applicant reading an old message, not a guess. */
static bool replaced(struct tsr_store *st, const char *id, const char *hash)
{
	struct tsr_code_record c;
	bool old;

	if (tsr_store_code_get(st, hash, &c) != 0)
		return false;
	old = strcmp(c.application, id) == 0 && c.superseded_at != 0;
	tsr_wipe(&c, sizeof(c));
	return old;
}

/* Check typed against the current code of purpose: 0 if it matches (not
 * yet used up), TSR_ERR_AUTH (counted) if not. */
static int code_check(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *purpose, const char *typed, const char *action,
    char hash[TSR_CODE_HASH_HEX])
{
	struct tsr_code_record c;
	char canonical[64];
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = tsr_code_normalise(typed, canonical, sizeof(canonical))) != 0 ||
	    (r = tsr_code_hash(ra->code_key, purpose, canonical, hash)) != 0)
		goto out;
	r = tsr_store_code_current(st, id, purpose, &c);
	if (r == TSR_ERR_NOT_FOUND)
		r = tsr_error(TSR_ERR_POLICY, "no %s code was sent for this application", purpose);
	if (r != 0 || (r = code_usable(&c, (int64_t)tsr_now())) != 0)
		goto out;
	if (!tsr_code_equal(hash, c.code_hash))
		r = replaced(st, id, hash) ? tsr_error(TSR_ERR_POLICY, "that code was replaced by "
		    "a newer one: use the code from the latest message") :
		    code_failure(ra, st, actor, id, purpose, action);
out:
	tsr_wipe(canonical, sizeof(canonical));
	tsr_wipe(&c, sizeof(c));
	return r;
}

/* Use the code and move to email_verified, in one transaction. */
static int mark_verified(struct tsr_store *st, const char *actor, const char *id,
    const char *hash)
{
	struct tsr_app_record a;
	int r;

	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) == 0 &&
	    (r = tsr_store_code_use(st, hash, (int64_t)tsr_now())) == 0 &&
	    (r = ra_transition(st, actor, &a, TSR_EV_VERIFY_EMAIL, TSR_ACTOR_APPLICANT, NULL,
	    "email address confirmed")) == 0)
		r = tsr_store_commit(st);
	if (r != 0)
		tsr_store_rollback(st);
	tsr_app_record_clear(&a);
	return r;
}

/* Verify the email address (see app.h). */
int tsr_ra_verify_email(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *typed_code)
{
	struct tsr_app_record a;
	char hash[TSR_CODE_HASH_HEX] = "", object[RA_OBJECT_MAX];
	bool audited = false;
	int r;

	ra_object(id, object);
	if ((r = ra_app_read(st, id, &a)) != 0)
		goto out;
	if (strcmp(a.state, tsr_app_state_name(TSR_APP_SUBMITTED)) != 0) {
		r = tsr_error(TSR_ERR_POLICY, "this application is %s, not waiting for an email "
		    "verification code", a.state);
		goto out;
	}
	r = code_check(ra, st, actor, id, TSR_CODE_VERIFICATION, typed_code ? typed_code : "",
	    "application.verify_email", hash);
	audited = r == TSR_ERR_AUTH;
	if (r == 0 && (r = mark_verified(st, actor, id, hash)) == 0 &&
	    ra_start_review(ra, st, "system", id) != 0)
		/* The address is verified whatever happens next; the sweep
		 * (tsr_ra_lapse_sweep) starts the review again. */
		tsr_log(TSR_LOG_WARN, "the review of %s will start later: %s", id,
		    tsr_error_detail());
out:
	tsr_app_record_clear(&a);
	tsr_wipe(hash, sizeof(hash));
	if (r != 0 && !audited)
		r = tsr_audit_error(st, actor, "application.verify_email", object, r);
	return r;
}

/* At most one new code a minute per application: the applicant's own
 * session asks, but nobody should be able to flood a mailbox with them. */
static int resend_allowed(struct tsr_store *st, const char *id)
{
	struct tsr_code_record c;
	int r = tsr_store_code_current(st, id, TSR_CODE_VERIFICATION, &c);

	if (r == TSR_ERR_NOT_FOUND)
		return 0;
	if (r == 0 && c.created_at > (int64_t)tsr_now() - RESEND_SECONDS)
		r = tsr_error(TSR_ERR_POLICY, "a new code was sent less than a minute ago; "
		    "wait for it, or try again in a minute");
	tsr_wipe(&c, sizeof(c));
	return r;
}

/* A new verification code (see app.h). */
int tsr_ra_resend_verification(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id)
{
	struct tsr_app_record a;
	char code[64] = "", object[RA_OBJECT_MAX];
	int64_t expires = (int64_t)tsr_now() + (int64_t)ra->cfg->ra.verification_hours * 3600;
	int r;

	ra_object(id, object);
	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) != 0)
		goto out;
	if (strcmp(a.state, tsr_app_state_name(TSR_APP_SUBMITTED)) != 0) {
		r = tsr_error(TSR_ERR_POLICY, "this application is %s: its email address needs "
		    "no code", a.state);
		goto out;
	}
	if ((r = resend_allowed(st, id)) != 0 || (r = ra_code_issue(ra, st, id, TSR_CODE_VERIFICATION, TSR_CODE_VERIFICATION_BITS,
	    expires, code, sizeof(code))) != 0 ||
	    (r = tsr_audit_append(st, actor, "application.code", object, TSR_AUDIT_SUCCESS,
	    "new verification code; the previous one no longer works")) != 0 ||
	    (r = tsr_store_commit(st)) != 0)
		goto out;
	r = verification_mail(ra, st, &a, code, expires);
out:
	if (tsr_store_in_transaction(st))
		tsr_store_rollback(st);
	tsr_app_record_clear(&a);
	tsr_wipe(code, sizeof(code));
	if (r != 0)
		r = tsr_audit_error(st, actor, "application.code", object, r);
	return r;
}

/* ------------------------------------------------------------------ withdraw, lapse */

/* Move id by event ev in a transaction of its own and tell the applicant. */
static int move(struct tsr_ra *ra, struct tsr_store *st, const char *actor, const char *id,
    enum tsr_app_event ev, enum tsr_app_actor who, const char *reason, const char *what)
{
	struct tsr_app_record a;
	int r;

	if ((r = tsr_store_begin(st)) != 0)
		return r;
	if ((r = ra_app_read(st, id, &a)) == 0 &&
	    (r = ra_transition(st, actor, &a, ev, who, reason, reason)) == 0)
		r = tsr_store_commit(st);
	if (r != 0)
		tsr_store_rollback(st);
	else
		ra_mail_status(ra, st, &a, what);
	tsr_app_record_clear(&a);
	return r;
}

/* Withdraw (see app.h). */
int tsr_ra_withdraw(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *reason)
{
	char object[RA_OBJECT_MAX];
	int r = 0;

	ra_object(id, object);
	if (reason != NULL && strnlen(reason, TSR_RA_REASON_MAX + 1) > TSR_RA_REASON_MAX)
		r = tsr_error(TSR_ERR_INVALID, "the reason is longer than %d bytes",
		    TSR_RA_REASON_MAX);
	if (r == 0)
		r = move(ra, st, actor, id, TSR_EV_WITHDRAW, TSR_ACTOR_APPLICANT,
		    reason ? reason : "withdrawn by the applicant", "was withdrawn at your request");
	return r != 0 ? tsr_audit_error(st, actor, "application.withdraw", object, r) : 0;
}

struct due {
	char (*ids)[TSR_APP_ID_MAX + 1];
	size_t n, cap;
	struct tsr_store *st;
	int64_t now;
	bool check_code;          /* activation_issued: due only if the code expired */
	const struct tsr_app_deadlines *deadlines;  /* submitted: the one rule in state.c */
};

static int collect_due(const struct tsr_app_record *a, void *ctx)
{
	struct due *d = ctx;
	struct tsr_code_record c;

	if (!d->check_code && d->deadlines != NULL) {
		enum tsr_app_state s;

		if (tsr_app_state_parse(a->state, &s) != 0 ||
		    !tsr_app_lapse_due(s, (time_t)a->state_since, (time_t)d->now, d->deadlines))
			return 0;
	}
	if (d->check_code) {
		if (tsr_store_code_current(d->st, a->id, TSR_CODE_ACTIVATION, &c) != 0)
			return 0;
		if (c.used_at != 0 || c.expires_at > d->now)
			return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(d->ids, cap * sizeof(*d->ids));

		if (p == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		d->ids = p;
		d->cap = cap;
	}
	snprintf(d->ids[d->n++], TSR_APP_ID_MAX + 1, "%s", a->id);
	return 0;
}

/* The ids in state whose deadline passed (collected first: the listing
 * must not run while rows change). */
static int due_in(struct tsr_store *st, enum tsr_app_state s, int64_t before, int64_t now,
    struct due *d)
{
	struct tsr_app_filter f = { .state = tsr_app_state_name(s), .state_before = before };

	d->st = st;
	d->now = now;
	d->check_code = s == TSR_APP_ACTIVATION_ISSUED;
	return tsr_store_app_list(st, &f, collect_due, d);
}

static void lapse_one(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    const char *id, const char *why, int *lapsed)
{
	if (move(ra, st, actor, id, TSR_EV_LAPSE, TSR_ACTOR_SYSTEM, why, "has lapsed") == 0)
		(*lapsed)++;
	else
		tsr_log(TSR_LOG_WARN, "cannot lapse %s: %s", id, tsr_error_detail());
}

/* Lapse what is due (see app.h).  Also retries the review of applications
 * left email_verified by an interruption. */
int tsr_ra_lapse_sweep(struct tsr_ra *ra, struct tsr_store *st, const char *actor,
    time_t now, int *lapsed)
{
	struct due d = { 0 };
	int64_t email_before = (int64_t)now - (int64_t)ra->cfg->ra.email_days * 86400;
	struct tsr_app_deadlines deadlines = {
		.email_days = ra->cfg->ra.email_days, .activation_days = ra->cfg->ra.activation_days,
	};
	size_t n_submitted;
	int count = 0, r;

	d.deadlines = &deadlines;
	if ((r = due_in(st, TSR_APP_SUBMITTED, email_before + 1, now, &d)) != 0)
		goto out;
	n_submitted = d.n;
	if ((r = due_in(st, TSR_APP_ACTIVATION_ISSUED, 0, now, &d)) != 0)
		goto out;
	for (size_t i = 0; i < d.n; i++)
		lapse_one(ra, st, actor, d.ids[i], i < n_submitted ?
		    "the email address was not verified in time" :
		    "the activation code was not used in time", &count);
	d.n = 0;
	d.deadlines = NULL;
	if ((r = due_in(st, TSR_APP_EMAIL_VERIFIED, 0, now, &d)) != 0)
		goto out;
	for (size_t i = 0; i < d.n; i++)
		if (ra_start_review(ra, st, actor, d.ids[i]) != 0)
			tsr_log(TSR_LOG_WARN, "cannot start the review of %s: %s", d.ids[i],
			    tsr_error_detail());
	/* Ended sessions go too (each is also refused when it is next used). */
	if (tsr_store_session_purge(st, (int64_t)now, (int64_t)now - (int64_t)60 *
	    (ra->cfg->ra.officer_idle_minutes > ra->cfg->ra.applicant_idle_minutes ?
	    ra->cfg->ra.officer_idle_minutes : ra->cfg->ra.applicant_idle_minutes), NULL) != 0)
		tsr_log(TSR_LOG_WARN, "cannot purge ended sessions: %s", tsr_error_detail());
out:
	free(d.ids);
	if (lapsed != NULL)
		*lapsed = count;
	return r;
}

/* ------------------------------------------------------------------ views */

int tsr_ra_app_get(struct tsr_store *st, const char *id, struct tsr_app_record *out)
{
	int r = ra_app_read(st, id, out);

	if (r == 0 && out->password_hash != NULL) {
		tsr_free_secret(out->password_hash);
		out->password_hash = NULL;
	}
	return r;
}

struct approvals {
	struct tsr_approval_record *v;
	size_t n, cap;
};

static int collect_approval(const struct tsr_approval_record *a, void *ctx)
{
	struct approvals *l = ctx;
	struct tsr_approval_record *slot;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (p == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		l->v = p;
		l->cap = cap;
	}
	slot = &l->v[l->n];
	*slot = *a;
	if ((slot->comment = strdup(a->comment ? a->comment : "")) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	l->n++;
	return 0;
}

int tsr_ra_approvals(struct tsr_store *st, const char *id, struct tsr_approval_record **out,
    size_t *n)
{
	struct approvals l = { 0 };
	int r;

	*out = NULL;
	*n = 0;
	if ((r = ra_id_check(id)) != 0)
		return r;
	if ((r = tsr_store_approval_list(st, id, collect_approval, &l)) != 0) {
		tsr_ra_approvals_free(l.v, l.n);
		return r;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

void tsr_ra_approvals_free(struct tsr_approval_record *a, size_t n)
{
	for (size_t i = 0; a != NULL && i < n; i++)
		tsr_approval_record_clear(&a[i]);
	free(a);
}

bool tsr_ra_code_locked(struct tsr_store *st, const char *id, const char *purpose)
{
	struct tsr_code_record c;
	char saved[1024];
	bool locked;

	snprintf(saved, sizeof(saved), "%s", tsr_error_detail());
	locked = ra_id_check(id) == 0 && tsr_store_code_current(st, id, purpose, &c) == 0 &&
	    c.locked && c.used_at == 0;
	tsr_error(0, "%s", saved);
	return locked;
}

const char *tsr_ra_next_step(enum tsr_app_state s, const char *storage)
{
	bool new_token = storage != NULL && strcmp(storage, TSR_CHOICE_NEW_TOKEN) == 0;

	switch (s) {
	case TSR_APP_SUBMITTED:
		return "Enter the verification code we sent to your email address.";
	case TSR_APP_EMAIL_VERIFIED:
	case TSR_APP_UNDER_REVIEW:
		return "Wait: registration officers are reviewing your identity.";
	case TSR_APP_APPROVED:
		return "Wait: your activation letter is on its way.";
	case TSR_APP_ACTIVATION_ISSUED:
		return new_token ? "Retrieve your certificate onto the token we send you, with the "
		    "activation code from your letter and the passcode that comes separately." :
		    "Retrieve your certificate with the activation code from your letter.";
	case TSR_APP_CERTIFICATE_ISSUED:
		return "Nothing: your certificate is issued.";
	case TSR_APP_REJECTED:
	case TSR_APP_LAPSED:
	case TSR_APP_WITHDRAWN:
		return "Nothing: this application is closed; you may apply again.";
	default:
		return "Contact the registration authority.";
	}
}
