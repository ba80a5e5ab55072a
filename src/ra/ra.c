/*
 * ra.c - the workflow's context (configuration, code key, password list,
 * mail channels, a pool of store connections) and the steps app.c,
 * review.c and session.c share: transitions, codes, mail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ra/ra_impl.h"

/* ------------------------------------------------------------------ context */

static int load_passwords(const struct tsr_config *cfg, struct tsr_password_list **out)
{
	const char *path = getenv("TESSERA_PASSWORD_LIST");

	if (path == NULL || *path == '\0')
		path = cfg->ra.password_list;
	if (path == NULL)
		return tsr_password_list_builtin(out);
	if (tsr_password_list_load(path, out) != 0)
		return tsr_error_wrap(TSR_ERR_CONFIG, "the list of common passwords");
	return 0;
}

static void mail_channel(const struct tsr_mail_settings *m, const char *outbox, bool relay,
    struct tsr_mail_config *out)
{
	memset(out, 0, sizeof(*out));
	out->outbox_dir = outbox;
	out->from = m->from;
	out->timeout_seconds = m->timeout_seconds;
	if (!relay)
		return;
	out->smtp_url = m->smtp_url;
	out->smtp_user = m->smtp_user;
	out->smtp_password_file = m->smtp_password_file;
	out->smtp_ca_file = m->smtp_ca_file;
	out->smtp_starttls_required = m->smtp_starttls_required;
}

/* Build the context (see app.h). */
int tsr_ra_open(struct tsr_ca *ca, struct tsr_ra **out)
{
	const struct tsr_config *cfg = tsr_ca_config(ca);
	struct tsr_ra *ra;
	char *key_path = NULL;
	int r;

	*out = NULL;
	if ((ra = calloc(1, sizeof(*ra))) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	ra->ca = ca;
	ra->cfg = cfg;
	pthread_mutex_init(&ra->pool_lock, NULL);
	mail_channel(&cfg->mail, cfg->mail.outbox, true, &ra->mail);
	mail_channel(&cfg->mail, cfg->mail.passcode_outbox, false, &ra->passcode_mail);
	if ((r = tsr_path_join(cfg->home, "codes.key", &key_path)) != 0 ||
	    (r = tsr_code_key_load_or_create(key_path, ra->code_key)) != 0 ||
	    (r = load_passwords(cfg, &ra->passwords)) != 0)
		goto out;
	if ((r = tsr_mail_check_config(&ra->mail)) != 0 ||
	    (r = tsr_mail_check_config(&ra->passcode_mail)) != 0)
		r = tsr_error_wrap(TSR_ERR_CONFIG, "[mail]");
out:
	free(key_path);
	if (r != 0)
		tsr_ra_close(ra);
	else
		*out = ra;
	return r;
}

void tsr_ra_close(struct tsr_ra *ra)
{
	if (ra == NULL)
		return;
	for (size_t i = 0; i < ra->n_pool; i++)
		tsr_store_close(ra->pool[i]);
	pthread_mutex_destroy(&ra->pool_lock);
	tsr_password_list_free(ra->passwords);
	tsr_wipe(ra->code_key, sizeof(ra->code_key));
	free(ra);
}

const struct tsr_config *tsr_ra_config(const struct tsr_ra *ra)
{
	return ra->cfg;
}

struct tsr_ca *tsr_ra_ca(const struct tsr_ra *ra)
{
	return ra->ca;
}

const struct tsr_mail_config *tsr_ra_mail(const struct tsr_ra *ra)
{
	return &ra->mail;
}

/* A connection from the pool, or a new one (see app.h). */
int tsr_ra_store_acquire(struct tsr_ra *ra, struct tsr_store **out)
{
	*out = NULL;
	pthread_mutex_lock(&ra->pool_lock);
	if (ra->n_pool > 0)
		*out = ra->pool[--ra->n_pool];
	pthread_mutex_unlock(&ra->pool_lock);
	if (*out != NULL)
		return 0;
	return tsr_store_open(ra->cfg->ca.database, false, out);
}

void tsr_ra_store_release(struct tsr_ra *ra, struct tsr_store *st)
{
	if (st == NULL)
		return;
	if (tsr_store_in_transaction(st))
		tsr_store_rollback(st);
	pthread_mutex_lock(&ra->pool_lock);
	if (ra->n_pool < TSR_RA_POOL_MAX) {
		ra->pool[ra->n_pool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&ra->pool_lock);
	tsr_store_close(st);
}

/* ------------------------------------------------------------------ shared steps */

void ra_object(const char *id, char out[RA_OBJECT_MAX])
{
	snprintf(out, RA_OBJECT_MAX, "application:%.*s", TSR_APP_ID_MAX, id ? id : "");
}

int ra_id_check(const char *id)
{
	size_t n = id != NULL ? strnlen(id, TSR_APP_ID_MAX + 1) : 0;

	if (n == 0 || n > TSR_APP_ID_MAX)
		return tsr_error(TSR_ERR_INVALID, "an application number looks like "
		    "AP-XXXX-XXXX-XXXX");
	for (size_t i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", id[i]) == NULL)
			return tsr_error(TSR_ERR_INVALID, "an application number has only capital "
			    "letters, digits and '-'");
	return 0;
}

int ra_app_read(struct tsr_store *st, const char *id, struct tsr_app_record *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = ra_id_check(id)) != 0)
		return r;
	r = tsr_store_app_get(st, id, out);
	if (r == TSR_ERR_NOT_FOUND)
		return tsr_error(r, "there is no application %s", id);
	return r;
}

int ra_state_of(const struct tsr_app_record *a, enum tsr_app_state *out)
{
	if (tsr_app_state_parse(a->state, out) != 0)
		return tsr_error(TSR_ERR_STORE, "application %s has an unknown state '%s'",
		    a->id, a->state);
	return 0;
}

int ra_product(struct tsr_ra *ra, const struct tsr_app_record *a,
    const struct tsr_product **out)
{
	if ((*out = tsr_product_find(&ra->cfg->products, a->product)) == NULL)
		return tsr_error(TSR_ERR_CONFIG, "application %s is for product '%s', which is no "
		    "longer configured", a->id, a->product);
	return 0;
}

const char *ra_product_title(const struct tsr_ra *ra, const struct tsr_app_record *a)
{
	const struct tsr_product *p = tsr_product_find(&ra->cfg->products, a->product);

	return p != NULL && p->title[0] != '\0' ? p->title : a->product;
}

int ra_transition(struct tsr_store *st, const char *actor, const struct tsr_app_record *a,
    enum tsr_app_event ev, enum tsr_app_actor who, const char *reason, const char *detail)
{
	struct tsr_app_update upd = TSR_APP_UPDATE_NONE;
	enum tsr_app_state from, to;
	char object[RA_OBJECT_MAX], action[48];
	int r;

	if ((r = ra_state_of(a, &from)) != 0 || (r = tsr_app_transition(from, ev, who, &to)) != 0)
		return r;
	upd.expect_state = a->state;
	upd.state = tsr_app_state_name(to);
	upd.reason = reason;
	if ((r = tsr_store_app_update(st, a->id, &upd, (int64_t)tsr_now())) != 0)
		return r;
	ra_object(a->id, object);
	snprintf(action, sizeof(action), "application.%s", tsr_app_event_name(ev));
	return tsr_audit_append(st, actor, action, object, TSR_AUDIT_SUCCESS, "%s -> %s%s%s",
	    tsr_app_state_name(from), tsr_app_state_name(to), detail ? "; " : "",
	    detail ? detail : "");
}

int ra_code_issue(struct tsr_ra *ra, struct tsr_store *st, const char *id,
    const char *purpose, size_t bits, int64_t expires_at, char *out, size_t outlen)
{
	struct tsr_code_record c;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = tsr_code_new(bits, out, outlen)) != 0 ||
	    (r = tsr_code_hash(ra->code_key, purpose, out, c.code_hash)) != 0)
		goto out;
	snprintf(c.application, sizeof(c.application), "%s", id);
	snprintf(c.purpose, sizeof(c.purpose), "%s", purpose);
	c.created_at = (int64_t)tsr_now();
	c.expires_at = expires_at;
	r = tsr_store_code_insert(st, &c);
out:
	tsr_wipe(&c, sizeof(c));
	if (r != 0)
		tsr_wipe(out, outlen);
	return r;
}

int ra_mail(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_mail_config *ch,
    const struct tsr_app_record *a, const char *kind, const char *subject, const char *body)
{
	(void)ra;   /* the channel is ra's; kept for symmetry with the callers */
	struct tsr_mail_message m = {
		.to = a->email, .subject = subject, .body = body, .kind = kind,
		.application = a->id,
	};
	char id[TSR_MAIL_ID_MAX] = "", object[RA_OBJECT_MAX];
	int r;

	ra_object(a->id, object);
	r = tsr_mail_send(ch, &m, id, sizeof(id));
	if (r != 0 && id[0] == '\0') {
		/* Not even the outbox copy exists: the applicant gets nothing. */
		tsr_log(TSR_LOG_ERROR, "cannot write the %s message of %s: %s", kind, a->id,
		    tsr_error_detail());
		return tsr_audit_error(st, "system", "mail.send", object, r);
	}
	if (r != 0)
		tsr_log(TSR_LOG_WARN, "the %s message of %s stays in the outbox: %s", kind, a->id,
		    tsr_error_detail());
	if (tsr_audit_append(st, "system", "mail.send", object,
	    r == 0 ? TSR_AUDIT_SUCCESS : TSR_AUDIT_FAILURE, "%s message %s%s", kind, id,
	    r == 0 ? (ch->smtp_url ? ", relayed" : ", in the outbox") :
	    ", relay failed: left in the outbox for the retry") != 0)
		tsr_log(TSR_LOG_WARN, "cannot audit a message of %s: %s", a->id, tsr_error_detail());
	return 0;
}

int ra_mailf(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_mail_config *ch,
    const struct tsr_app_record *a, const char *kind, const char *subject,
    const char *fmt, ...)
{
	struct tsr_buf body;
	const char *text = NULL;
	va_list ap;
	int r;

	tsr_buf_init_secret(&body, TSR_MAIL_BODY_MAX);
	va_start(ap, fmt);
	r = tsr_buf_vprintf(&body, fmt, ap);
	va_end(ap);
	if (r == 0 && (r = tsr_buf_cstr(&body, &text)) == 0)
		r = ra_mail(ra, st, ch, a, kind, subject, text);
	tsr_buf_free(&body);
	return r;
}

void ra_mail_status(struct tsr_ra *ra, struct tsr_store *st, const struct tsr_app_record *a,
    const char *what)
{
	char subject[TSR_MAIL_SUBJECT_MAX];

	snprintf(subject, sizeof(subject), "Your certificate application %s", a->id);
	if (ra_mailf(ra, st, &ra->mail, a, "status", subject, "Your application %s for %s %s.\n\n"
	    "You can check its status at %s with your application number and password.\n",
	    a->id, ra_product_title(ra, a), what, ra->cfg->ca.public_url) != 0)
		tsr_log(TSR_LOG_WARN, "no status message for %s: %s", a->id, tsr_error_detail());
}

/*
 * The hash an unknown application or user is checked against: made once
 * per process at the current cost from random bytes, so the Argon2id work
 * is the same whether or not the name exists, and nothing can match it.
 */
static char dummy_hash[TSR_SECRET_HASH_BYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	uint8_t raw[16];
	char secret[33];

	if (tsr_random(raw, sizeof(raw)) != 0)
		return;
	tsr_hex_encode(raw, sizeof(raw), secret);
	if (tsr_secret_hash(secret, dummy_hash) != 0)
		dummy_hash[0] = '\0';
	tsr_wipe(raw, sizeof(raw));
	tsr_wipe(secret, sizeof(secret));
}

int ra_dummy_hash(const char **out)
{
	pthread_once(&dummy_once, make_dummy_hash);
	if (dummy_hash[0] == '\0')
		return tsr_error(TSR_ERR_INTERNAL, "cannot prepare the password check");
	*out = dummy_hash;
	return 0;
}
