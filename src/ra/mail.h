/*
 * mail.h - the mail Tessera sends to applicants: one RFC 5322 message per
 * call, always written to a Maildir outbox first, then handed to an SMTP
 * relay (libcurl) when one is configured.
 *
 * Outbox convention (docs/mail.md):
 *   OUTBOX/tmp/NAME        being written; never a finished message
 *   OUTBOX/new/NAME        finished and not (yet) accepted by a relay; with
 *                          no relay configured every message stays here
 *   OUTBOX/cur/NAME:2,S    accepted by the relay (Maildir "seen" flag)
 * NAME is "<time>.R<random>.<hostname>" (the Maildir spec's unique name).
 * Files are 0600 and the directories 0700: messages carry codes.
 *
 * Process-wide: the first relayed message calls curl_global_init() (once,
 * through pthread_once); nothing here ever calls curl_global_cleanup().
 */
#ifndef TSR_RA_MAIL_H
#define TSR_RA_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/base.h"

#define TSR_MAIL_SUBJECT_MAX 200      /* bytes of UTF-8 */
#define TSR_MAIL_BODY_MAX 65536       /* bytes of UTF-8, before encoding */
#define TSR_MAIL_APPLICATION_MAX 64   /* letters, digits, '.', '_', '-' */
#define TSR_MAIL_ID_MAX 300           /* a Message-ID with its <> and NUL fits */
#define TSR_MAIL_TIMEOUT_DEFAULT 30   /* seconds, when timeout_seconds is 0 */
#define TSR_MAIL_TIMEOUT_MAX 600

struct tsr_mail_config {
	const char *outbox_dir;         /* created 0700 with tmp/ new/ cur/ if missing */
	const char *from;               /* one addr-spec: envelope sender and From: */
	const char *smtp_url;           /* NULL: outbox only; "smtp://host:port" or
	                                 * "smtps://host:port"; no user:password@ in it */
	const char *smtp_user;          /* NULL: no SMTP AUTH */
	const char *smtp_password_file; /* with smtp_user; mode 0600 or stricter */
	const char *smtp_ca_file;       /* PEM trust anchors for the relay; NULL: the
	                                 * system's store */
	bool smtp_starttls_required;    /* smtp://: CURLUSESSL_ALL (else plaintext) */
	long timeout_seconds;           /* connect and whole-transfer limit; 0: default */
};

struct tsr_mail_message {
	const char *to;          /* one addr-spec, no display name, no list */
	const char *subject;     /* UTF-8, 1..TSR_MAIL_SUBJECT_MAX bytes, one line */
	const char *body;        /* UTF-8 text, lines end in LF or CRLF */
	const char *kind;        /* "verification", "status", "activation" or "passcode":
	                          * the X-Tessera-Kind header */
	const char *application; /* application id for X-Tessera-Application, or NULL */
};

/*
 * Check a mail configuration without sending anything: the from address,
 * the relay URL (smtp:// or smtps://, no credentials in it), the timeout,
 * smtp_user and smtp_password_file given together, credentials only over
 * TLS (smtps:// or starttls required), and the password file's mode.
 * TSR_ERR_CONFIG naming the problem; meant for start-up.
 */
int tsr_mail_check_config(const struct tsr_mail_config *c) TSR_MUST_CHECK;

/*
 * Build one RFC 5322 message from m (see docs/mail.md for its exact shape),
 * write it to c->outbox_dir/new/, then, if c->smtp_url is set, relay it and
 * move it to cur/ with the ":2,S" suffix.
 *
 * Refused before anything is written: CR, LF or other control characters in
 * a header value, to/from that is not exactly one address, a subject over
 * TSR_MAIL_SUBJECT_MAX or a body over TSR_MAIL_BODY_MAX bytes
 * (TSR_ERR_TOO_LARGE), invalid UTF-8, an unknown kind (TSR_ERR_INVALID), an
 * invalid configuration (TSR_ERR_CONFIG), message_id_out shorter than the id.
 * Strings are C strings: a NUL ends a value, nothing after it is used.
 *
 * Once the outbox copy exists, message_id_out (if not NULL) holds its
 * Message-ID ("<hex@from-domain>"), even when relaying then fails: that
 * returns TSR_ERR_IO (or TSR_ERR_CONFIG for an unusable password file) with
 * a detail naming the relay and curl's error, never a secret, and the
 * message stays in new/ for tsr_mail_retry().
 */
int tsr_mail_send(const struct tsr_mail_config *c, const struct tsr_mail_message *m,
    char *message_id_out, size_t len) TSR_MUST_CHECK;

/*
 * Relay every message in c->outbox_dir/new/ through c->smtp_url, moving each
 * one the relay accepts to cur/ with ":2,S".  A message another thread or
 * process is relaying at the same moment is left alone (each is locked with
 * flock while it is being relayed).  *sent and *failed count this pass.
 * Returns 0 when nothing failed, TSR_ERR_IO with the last failure's detail
 * when some message could not be relayed, TSR_ERR_CONFIG when no relay is
 * configured or the configuration is unusable (then nothing is tried).
 */
int tsr_mail_retry(const struct tsr_mail_config *c, int *sent, int *failed) TSR_MUST_CHECK;

/* ------------------------------------------------------------------ listing */
#define TSR_MAIL_LIST_HEADER_MAX 16384  /* bytes of a file read, at most, to list it */

/* What tsr_mail_list() found about one file of an outbox.  Header values are
 * the first line of the first such header, with anything but printable
 * ASCII shown as '?', and cut to a bounded length; NULL when absent. */
struct tsr_mail_entry {
	const char *name;        /* the file name in new/ or cur/ */
	bool sent;               /* in cur/ (the relay accepted it, or it was moved
	                          * there by hand); false: in new/ */
	time_t time;             /* its Date: header; the file's mtime without one */
	const char *to;          /* To: */
	const char *kind;        /* X-Tessera-Kind */
	const char *application; /* X-Tessera-Application */
	const char *message_id;  /* Message-ID */
	const char *problem;     /* NULL, or why the file was not read ("a symbolic
	                          * link", "not a regular file", ...); then the
	                          * header values are NULL */
};

typedef int (*tsr_mail_list_fn)(const struct tsr_mail_entry *e, void *ctx);

/*
 * Call fn once for each message in outbox_dir/new/ and outbox_dir/cur/,
 * oldest first (by time, then the file's mtime, then name), with what its
 * header says: never the body, which carries codes.  At most
 * TSR_MAIL_LIST_HEADER_MAX bytes of each file are read, bytes read past the
 * header are wiped unparsed, and only regular files are opened (O_NOFOLLOW):
 * a symbolic link, FIFO, device or directory is reported with e->problem set
 * instead, and new/ or cur/ as a symbolic link is TSR_ERR_IO.  Names
 * starting with '.' are skipped, as tsr_mail_retry() does.  Nothing is
 * created: a missing outbox, new/ or cur/ lists nothing.  The entry's
 * strings live until fn returns.  Returns 0, TSR_ERR_IO when a directory
 * cannot be read, or fn's first non-zero result (then the listing stops).
 */
int tsr_mail_list(const char *outbox_dir, tsr_mail_list_fn fn, void *ctx) TSR_MUST_CHECK;

#endif /* TSR_RA_MAIL_H */
