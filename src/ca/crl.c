/*
 * crl.c - the CRLs the two CAs publish at HOME/crl/<ca>.crl.
 *
 * Publishing one CRL, without ever holding the store's write lock for
 * longer than a few statements, however many entries there are:
 *
 *   1. the CRL number: meta crl_number_<ca> + 1, in a write transaction;
 *      before it commits, a second connection takes its read snapshot.
 *      No writer can commit in between (this transaction holds the write
 *      lock), so the CRL numbers follow the order of the snapshots: a CRL
 *      with a higher number never knows less than one with a lower number.
 *   2. the entries, streamed from that snapshot into the CRL writer (one
 *      row in memory at a time); then the snapshot is let go.
 *   3. signing (x509/crl.c) into a staged file HOME/crl/.<ca>.crl.<number>;
 *      ca->lock, the token's, is held for the signature only, not while
 *      the file is hashed and written, so issuance waits for no more than
 *      one signature.
 *   4. in one write transaction: unless this home's file already has a
 *      higher number, the staged file is renamed into place, its record
 *      ("NUMBER THIS_UPDATE NEXT_UPDATE ENTRIES", as in meta) goes to
 *      HOME/crl/.<ca>.number, and the audit log gets crl.issue; meta
 *      crl_<ca> records it unless a higher number was published (by
 *      another node) meanwhile.  If a higher number won the race in this
 *      home, ours is dropped: the numbers a home serves must only grow
 *      (RFC 5280 5.2.3), and the newer CRL knows at least what ours did.
 *      Every node of a cluster (issue 7) has a home of its own and keeps
 *      its own file: a CRL another node published does not make this
 *      node's file current, so a node's own CRL is never dropped for a
 *      number published elsewhere.  The write lock serialises step 4 of
 *      all the processes of one home, which share its database.
 *
 * So HOME/crl/.<ca>.number, not meta crl_<ca> (the newest CRL published
 * anywhere), says what this home serves and when it is due: a node whose
 * CRL ages must republish it even while another node's is fresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "ca/ca_impl.h"

/* The CA's key on its token, used under ca->lock. */
struct locked_key {
	struct tsr_ca *ca;
	struct tsr_p11_key *key;
};

/* What one publication works with. */
struct job {
	struct tsr_ca *ca;
	struct tsr_store *st;       /* writes: the caller's connection */
	struct tsr_store *rd;       /* the snapshot: a connection of our own */
	const char *name;           /* "issuing" or "root" */
	const char *actor;
	char object[16];            /* "crl:issuing" */
	char meta_number[32];       /* "crl_number_issuing" */
	char meta_info[32];         /* "crl_issuing" */
	char *dir, *path, *staged;
	char *number_path;          /* HOME/crl/.<ca>.number: the file's record */
	struct locked_key key;
	struct tsr_signer *signer;  /* ours: signs with key under ca->lock */
	X509 *issuer;
	struct tsr_crl_info info;
};

static bool known_ca(const char *name)
{
	return name != NULL && (strcmp(name, "issuing") == 0 || strcmp(name, "root") == 0);
}

/* The path of ca_name's published CRL, or NULL (unknown CA, no memory). */
char *tsr_ca_crl_path(const struct tsr_ca *ca, const char *ca_name)
{
	char *p;

	if (!known_ca(ca_name) || asprintf(&p, "%s/crl/%s.crl", ca->home, ca_name) < 0)
		return NULL;
	return p;
}

/* A decimal number that fits an int64 and is >= 0, followed by a space
 * or the end; *s moves past it. */
static bool take_number(const char **s, int64_t *out)
{
	char *end;
	long long v;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	v = strtoll(*s, &end, 10);
	if (errno != 0 || v < 0 || (*end != ' ' && *end != '\0'))
		return false;
	*out = v;
	*s = *end == ' ' ? end + 1 : end;
	return true;
}

/* A CRL's record, in meta crl_<ca> and HOME/crl/.<ca>.number:
 * "NUMBER THIS_UPDATE NEXT_UPDATE ENTRIES". */
static bool parse_record(const char *s, struct tsr_crl_info *out)
{
	int64_t v[4];

	for (size_t i = 0; i < 4; i++)
		if (!take_number(&s, &v[i]) || (i < 3) == (*s == '\0'))
			return false;
	out->number = (uint64_t)v[0];
	out->this_update = v[1];
	out->next_update = v[2];
	out->entries = (size_t)v[3];
	return true;
}

static int parse_info(const char *key, const char *s, struct tsr_crl_info *out)
{
	if (!parse_record(s, out))
		return tsr_error(TSR_ERR_STORE, "meta %s is corrupt", key);
	return 0;
}

static int read_info(struct tsr_store *st, const char *ca_name, const char *key,
    struct tsr_crl_info *out)
{
	char *s = NULL;
	int r;

	if ((r = tsr_store_meta_get(st, key, &s)) == TSR_ERR_NOT_FOUND)
		return tsr_error(r, "no CRL of the %s CA has been published yet", ca_name);
	if (r == 0)
		r = parse_info(key, s, out);
	free(s);
	return r;
}

/* HOME/crl/.<ca>.number, the record of the CRL in this home: 0 and *out;
 * TSR_ERR_NOT_FOUND if there is none; TSR_ERR_INVALID if it is corrupt.
 * *full is false for a record of a home written by an earlier version,
 * which held the number only (out->number; the rest 0). */
static int read_home(const char *path, struct tsr_crl_info *out, bool *full)
{
	char text[96] = "";
	const char *p = text;
	int64_t n = 0;
	FILE *f = fopen(path, "re");
	bool missing = f == NULL && errno == ENOENT;

	memset(out, 0, sizeof(*out));
	*full = false;
	if (f == NULL)
		return missing ? TSR_ERR_NOT_FOUND : TSR_ERR_INVALID;
	if (fgets(text, sizeof(text), f) == NULL)
		text[0] = '\0';
	fclose(f);
	text[strcspn(text, "\n")] = '\0';
	if (parse_record(text, out)) {
		*full = true;
		return 0;
	}
	if (!take_number(&p, &n) || *p != '\0')
		return TSR_ERR_INVALID;
	out->number = (uint64_t)n;
	return 0;
}

/* HOME/crl/.<ca>.number (new string), or NULL (no memory). */
static char *home_record_path(const struct tsr_ca *ca, const char *ca_name)
{
	char *p;

	return asprintf(&p, "%s/crl/.%s.number", ca->home, ca_name) < 0 ? NULL : p;
}

/* This home's record of its CRL, given that the CRL file is in place. */
static int home_info(struct tsr_ca *ca, struct tsr_store *st, const char *ca_name,
    struct tsr_crl_info *out)
{
	struct tsr_crl_info meta;
	char key[32], *path = home_record_path(ca, ca_name);
	bool full;
	int r;

	if (path == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((r = read_home(path, out, &full)) == TSR_ERR_INVALID) {
		/* Not known, so due: publishing writes it anew. */
		r = tsr_error(TSR_ERR_NOT_FOUND, "%s cannot be read: a CRL of the %s CA "
		    "is due", path, ca_name);
		free(path);
		return r;
	}
	free(path);
	if (r == 0 && full)
		return 0;
	/* A home made before the record (no file: meta was this home's) or
	 * when it held the number only (meta's times, if they are of it). */
	snprintf(key, sizeof(key), "crl_%s", ca_name);
	if (r == TSR_ERR_NOT_FOUND)
		return read_info(st, ca_name, key, out);
	if (read_info(st, ca_name, key, &meta) == 0 && meta.number == out->number)
		*out = meta;   /* else no times: due */
	return 0;
}

/* What this home says about the CRL of ca_name it serves. */
int tsr_ca_crl_info(struct tsr_ca *ca, struct tsr_store *st, const char *ca_name,
    struct tsr_crl_info *out)
{
	struct stat sb;
	char *path;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!known_ca(ca_name))
		return tsr_error(TSR_ERR_INVALID, "unknown CA '%.20s' (issuing or root)",
		    ca_name != NULL ? ca_name : "");
	if ((path = tsr_ca_crl_path(ca, ca_name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (stat(path, &sb) != 0)
		r = errno == ENOENT ? tsr_error(TSR_ERR_NOT_FOUND, "no CRL of the %s CA at %s",
		    ca_name, path) : tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	free(path);
	if (r != 0)
		return r;
	return home_info(ca, st != NULL ? st : ca->store, ca_name, out);
}

/* ------------------------------------------------------------------ steps */

static int locked_sign(void *ctx, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	struct locked_key *k = ctx;
	int r;

	pthread_mutex_lock(&k->ca->lock);
	r = tsr_p11_key_sign(k->key, in, inlen, out, outlen);
	pthread_mutex_unlock(&k->ca->lock);
	return r;
}

/* The key and certificate that sign ca_name's CRL (logs in if needed). */
static int find_signer(struct job *j)
{
	struct tsr_signer *root;
	int r;

	j->issuer = strcmp(j->name, "root") == 0 ? j->ca->root : j->ca->issuing;
	j->key.ca = j->ca;
	pthread_mutex_lock(&j->ca->lock);
	if ((r = tsr_ca_login(j->ca, j->actor)) == 0) {
		if (strcmp(j->name, "root") != 0)
			j->key.key = j->ca->issuing_key;
		else if ((r = ca_root_signer(j->ca, &root)) == 0)
			j->key.key = j->ca->root_key;
	}
	pthread_mutex_unlock(&j->ca->lock);
	if (r != 0)
		return r;
	return tsr_signer_new(X509_get0_pubkey(j->issuer), locked_sign, &j->key, &j->signer);
}

/* HOME/crl (0755), the final and the staged path. */
static int make_paths(struct job *j)
{
	if (asprintf(&j->dir, "%s/crl", j->ca->home) < 0) {
		j->dir = NULL;
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	if ((j->path = tsr_ca_crl_path(j->ca, j->name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if ((j->number_path = home_record_path(j->ca, j->name)) == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	if (mkdir(j->dir, 0755) == 0) {
		if (chmod(j->dir, 0755) != 0)   /* whatever the umask took away */
			return tsr_error(TSR_ERR_IO, "%s: %s", j->dir, strerror(errno));
	} else if (errno != EEXIST) {
		return tsr_error(TSR_ERR_IO, "cannot create %s: %s", j->dir, strerror(errno));
	}
	return 0;
}

/* Step 1: the next CRL number, and the snapshot of the store it describes. */
static int take_crl_number(struct job *j)
{
	char *s = NULL, text[24];
	const char *p;
	int64_t n = 0;
	int r;

	if ((r = tsr_store_begin(j->st)) != 0)
		return r;
	r = tsr_store_meta_get(j->st, j->meta_number, &s);
	if (r == TSR_ERR_NOT_FOUND) {
		r = 0;
	} else if (r == 0) {
		p = s;
		if (!take_number(&p, &n) || *p != '\0' || n == INT64_MAX)
			r = tsr_error(TSR_ERR_STORE, "meta %s is corrupt", j->meta_number);
	}
	free(s);
	j->info.number = (uint64_t)n + 1;
	snprintf(text, sizeof(text), "%" PRIu64, j->info.number);
	if (r == 0 && (r = tsr_store_meta_set(j->st, j->meta_number, text)) == 0 &&
	    (r = tsr_store_begin_read(j->rd)) == 0 && (r = tsr_store_commit(j->st)) != 0)
		tsr_store_rollback(j->rd);
	tsr_store_rollback(j->st);
	return r;
}

static int add_entry(const struct tsr_revoked_entry *e, void *ctx)
{
	return tsr_crl_add(ctx, e->serial, (time_t)e->revoked_at, e->reason,
	    (time_t)e->invalidity_date);
}

/* Steps 2 and 3: the entries from the snapshot, then the signature. */
static int build(struct job *j)
{
	const struct tsr_ca_config *c = &j->ca->cfg.ca;
	struct tsr_crl_params p;
	struct tsr_crl_writer *w = NULL;
	int64_t period;
	int r;

	if (asprintf(&j->staged, "%s/.%s.crl.%" PRIu64, j->dir, j->name, j->info.number) < 0) {
		j->staged = NULL;
		tsr_store_rollback(j->rd);
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	}
	period = strcmp(j->name, "root") == 0 ? (int64_t)c->root_crl_days * 86400 :
	    (int64_t)c->crl_hours * 3600;
	memset(&p, 0, sizeof(p));
	p.issuer = j->issuer;
	p.signer = j->signer;
	p.this_update = tsr_now();
	p.next_update = p.this_update + (time_t)period;
	p.number = j->info.number;
	j->info.this_update = p.this_update;
	j->info.next_update = p.next_update;
	/* RFC 5280 5.1.2.6: an entry stays until it has been on one regularly
	 * scheduled CRL issued after the certificate expired; CRLs come at
	 * least once a period, so it stays for one period past its expiry. */
	if ((r = tsr_crl_begin(&p, j->staged, &w)) == 0)
		r = tsr_store_revoked_list(j->rd, j->name, p.this_update - period, add_entry, w);
	tsr_store_rollback(j->rd);   /* a read: nothing to commit */
	if (r != 0) {
		tsr_crl_abort(w);
		return r;
	}
	return tsr_crl_finish(w, &j->info.entries);
}

/* Record this home's file as ours (written beside, renamed); record is
 * "NUMBER THIS_UPDATE NEXT_UPDATE ENTRIES". */
static int set_home_record(const struct job *j, const char *record)
{
	char text[100], *tmp = NULL;
	int r = 0;

	snprintf(text, sizeof(text), "%s\n", record);
	if (asprintf(&tmp, "%s.tmp", j->number_path) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	unlink(tmp);
	if ((r = tsr_file_create(tmp, text, strlen(text), 0644)) == 0 &&
	    rename(tmp, j->number_path) != 0)
		r = tsr_error(TSR_ERR_IO, "%s: %s", j->number_path, strerror(errno));
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

/* Step 4, inside the write transaction: publish unless superseded. */
static int record_in(struct job *j, bool *superseded)
{
	struct tsr_crl_info newest, here;
	char text[96], at[21], next[21];
	bool full;
	int r;

	/* No record, or a corrupt one: nothing known in place, ours goes in. */
	if (read_home(j->number_path, &here, &full) != 0)
		here.number = 0;
	memset(&newest, 0, sizeof(newest));
	r = read_info(j->st, j->name, j->meta_info, &newest);
	if (r != 0 && r != TSR_ERR_NOT_FOUND)
		return r;
	if (here.number >= j->info.number) {
		*superseded = true;
		r = tsr_audit_append(j->st, j->actor, "crl.issue", j->object, TSR_AUDIT_SUCCESS,
		    "number=%" PRIu64 " not published: number=%" PRIu64 " was published "
		    "meanwhile", j->info.number, here.number);
		/* The caller learns what is in place here, not what meta names;
		 * a number-only record takes meta's times if meta names it. */
		j->info = full || newest.number != here.number ? here : newest;
		return r;
	}
	snprintf(text, sizeof(text), "%" PRIu64 " %" PRId64 " %" PRId64 " %zu", j->info.number,
	    j->info.this_update, j->info.next_update, j->info.entries);
	tsr_time_format((time_t)j->info.this_update, at);
	tsr_time_format((time_t)j->info.next_update, next);
	/* Another node's higher number stays the store's newest. */
	if ((r == TSR_ERR_NOT_FOUND || newest.number < j->info.number) &&
	    (r = tsr_store_meta_set(j->st, j->meta_info, text)) != 0)
		return r;
	if ((r = tsr_audit_append(j->st, j->actor, "crl.issue", j->object, TSR_AUDIT_SUCCESS,
	    "number=%" PRIu64 " entries=%zu thisUpdate=%s nextUpdate=%s", j->info.number,
	    j->info.entries, at, next)) != 0 || (r = set_home_record(j, text)) != 0)
		return r;
	/* Last, so that nothing can fail between the file and the commit but
	 * the commit itself.  (Should the rename fail after the record was
	 * written, the next CRL's higher number still goes in.) */
	if (rename(j->staged, j->path) != 0)
		return tsr_error(TSR_ERR_IO, "cannot put the CRL in place at %s: %s", j->path,
		    strerror(errno));
	return 0;
}

static int record(struct job *j)
{
	bool superseded = false;
	int fd, r;

	if ((r = tsr_store_begin(j->st)) != 0)
		return r;
	if ((r = record_in(j, &superseded)) != 0 || (r = tsr_store_commit(j->st)) != 0) {
		tsr_store_rollback(j->st);
		return r;
	}
	if (superseded)
		return 0;
	/* The rename is durable once the directory is. */
	if ((fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------------ publish */

static int publish(struct job *j)
{
	int r;

	if ((r = find_signer(j)) != 0 || (r = make_paths(j)) != 0 ||
	    (r = tsr_store_open(j->ca->cfg.ca.database, false, &j->rd)) != 0 ||
	    (r = take_crl_number(j)) != 0 || (r = build(j)) != 0)
		return r;
	return record(j);
}

/* Build, sign, check and publish the CRL of ca_name; audited as crl.issue. */
int tsr_ca_crl_publish(struct tsr_ca *ca, struct tsr_store *st, const char *ca_name,
    const char *actor, struct tsr_crl_info *info)
{
	struct job j;
	int r;

	memset(&j, 0, sizeof(j));
	j.ca = ca;
	j.st = st != NULL ? st : ca->store;
	j.name = ca_name;
	j.actor = actor;
	snprintf(j.object, sizeof(j.object), "crl:%.11s", ca_name != NULL ? ca_name : "");
	if (!known_ca(ca_name)) {
		r = tsr_error(TSR_ERR_INVALID, "unknown CA '%.20s': a CRL is published for "
		    "issuing or root", ca_name != NULL ? ca_name : "");
		return tsr_audit_error(j.st, actor, "crl.issue", j.object, r);
	}
	snprintf(j.meta_number, sizeof(j.meta_number), "crl_number_%s", ca_name);
	snprintf(j.meta_info, sizeof(j.meta_info), "crl_%s", ca_name);
	r = publish(&j);
	if (j.staged != NULL)
		unlink(j.staged);      /* left only if not published */
	tsr_store_close(j.rd);
	tsr_signer_free(j.signer);
	free(j.dir);
	free(j.path);
	free(j.staged);
	free(j.number_path);
	if (r != 0 && r != TSR_ERR_PIN)   /* a wrong PIN was audited as token.login */
		return tsr_audit_error(j.st, actor, "crl.issue", j.object, r);
	if (r == 0 && info != NULL)
		*info = j.info;
	return r;
}
