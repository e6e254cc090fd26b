/*
 * mail.h - outgoing mail: a persistent queue and one delivery thread.
 *
 * mail_enqueue() stores the whole RFC 5322 message, sealed, in the database,
 * inside the caller's transaction: a mail exists exactly when the change that
 * caused it was committed, and erasing an account erases its unsent mail
 * (the row references the account). The delivery thread writes each message
 * as a .eml file into <data>/outbox/ (default) or sends it by SMTP through
 * libcurl (--smtp). A failed delivery is retried with backoff, never dropped
 * and never waited for by a request. Delivery is at least once: several
 * nodes claim a row with a compare-and-set on its next attempt time.
 */
#ifndef ATELIER_MAIL_H
#define ATELIER_MAIL_H

#include <stdint.h>

struct config;
struct db;

/* Queue a plain-text message to `to` (an address already validated: no
 * control characters). account_id (may be NULL) owns it for erasure.
 * Returns 0 or a negative err. Call mail_kick() after the commit. */
int mail_enqueue(struct db *db, const char *account_id, const char *to, const char *subject,
                 const char *body);
/* A mail of an account that restricts processing (restrict.h) is dropped
 * by mail_enqueue (it returns 0, nothing queued). This one is not: for the
 * confirmation of the restriction itself, and nothing else. */
int mail_enqueue_exempt(struct db *db, const char *account_id, const char *to, const char *subject,
                        const char *body);

/* The settings mail is composed and delivered with (From:, outbox or SMTP).
 * mail_start sets them; a command that queues mail without the delivery
 * thread (atelier sweep) calls it first. */
void mail_configure(const struct config *cfg);

/* Start and stop the delivery thread. */
int mail_start(const struct config *cfg);
void mail_stop(void);

/* Wake the delivery thread (after committing queued mail). */
void mail_kick(void);

/* One delivery pass over due messages as of now_ms; *sent and *failed
 * receive counts (may be NULL). Used by the thread; exposed for tests. */
int mail_deliver_due(struct db *db, const struct config *cfg, int64_t now_ms, int *sent,
                     int *failed);

/* Outbox mode: remove the outbox files of an account (tagged with its id)
 * and of its address (email may be NULL); *removed (may be NULL) receives
 * the count. Returns 0 or ERR_UNAVAILABLE (the directory does not open). */
int mail_outbox_erase(const char *account_id, const char *email, int *removed);

/* Remove outbox files delivered at least RETAIN_OUTBOX_DAYS before now_ms
 * (a dry run only counts them into *removed). */
int mail_outbox_prune(const char *data_dir, int64_t now_ms, int dry_run, int *removed);

/* Key rotation (cli/rekey.c), with the old and the new key loaded: rename
 * the files of <data_dir>/outbox whose tags were made under the old key to
 * their tags under the new one (the address from the file's To: header, the
 * account from the accounts of db), so that erasure still finds them.
 * Idempotent; *renamed receives the count. 0, ERR_UNAVAILABLE or ERR_NOMEM. */
int mail_outbox_retag(struct db *db, const char *data_dir, int *renamed);

/* How many mails the queue holds (due or not), or a negative err. */
int mail_queued(struct db *db);

/* The queue for /metrics: *n rows, *oldest_ms the creation time of the
 * oldest (-1 when the queue is empty). Returns 0 or an err. */
int mail_queue_stats(struct db *db, int64_t *n, int64_t *oldest_ms);

#endif
