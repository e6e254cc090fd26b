/*
 * mail.c - the mail queue and its delivery thread (see mail.h).
 *
 * Queue row: id, account_id (nullable, ON DELETE CASCADE), the sealed
 * envelope "recipient\n<RFC 5322 message>" (associated data
 * "mail_queue.message:<id>"), attempts, next_attempt_ms. A new message is
 * due at once (next_attempt_ms 0), whatever the clock of the process that
 * queued it says (`atelier sweep --now` runs with a clock set in the future).
 *
 * Invariants:
 *   - A message leaves the queue only after it was delivered: written and
 *     renamed into the outbox (fsync'd), or accepted by the SMTP server.
 *   - Retries back off exponentially from MAIL_RETRY_FIRST_MS up to
 *     MAIL_RETRY_MAX_MS; a message is never dropped for failing.
 *   - Recipients and bodies are never logged.
 *   - An account that restricts processing (restrict.h) gets no mail:
 *     mail_enqueue drops it (the caller's change still commits); only the
 *     confirmation of the restriction goes out, by mail_enqueue_exempt.
 *   - At most LIMIT_MAIL_QUEUE_PER_RCPT mails are queued for one
 *     address per LIMIT_MAIL_WINDOW_S, whatever the route: mail_enqueue
 *     counts the rows of mail_recipients (a keyed BLAKE2b of the lowercase
 *     address and a time, never the address) and drops the mail beyond the
 *     cap (counted as mail_capped), so the caller's change still commits.
 *     The delivery pass prunes rows older than the window.
 *   - An outbox file is named <ms>-<A>-<E>-<id>.eml: A and E are 8-byte
 *     keyed BLAKE2b tags (hex) of the owning account id and of the
 *     recipient address, so erasure finds an account's files without any
 *     address or id in clear (mail_outbox_erase); <ms> is the delivery time
 *     the sweeper prunes by (mail_outbox_prune, RETAIN_OUTBOX_DAYS).
 *   - A file whose queue row was erased while it was being written (the
 *     account went meanwhile) is removed again by the thread that wrote it.
 *   - During a key rotation (cli/rekey.c) the recipient cap counts the rows
 *     hashed under either key and erasure matches the tags of either key;
 *     mail_outbox_retag renames the files tagged under the old key. The cap's
 *     rows cannot be rehashed (they hold no address): once the old key is
 *     forgotten, the rows it hashed stop counting, at most one window early.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "base/log.h"
#include "account/mail.h"
#include "account/restrict.h"
#include "obs/metrics.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/util.h"

#define MAIL_BATCH          32
#define MAIL_CLAIM_MS       (5 * 60 * 1000) /* a claimed row is ours this long */
#define MAIL_RETRY_FIRST_MS 2000
#define MAIL_RETRY_MAX_MS   (60 * 60 * 1000)
#define MAIL_POLL_MS        5000
#define MAIL_TAG_HEX        16 /* hex digits of an outbox tag */
#define MAIL_PATH_BUF       (PATH_MAX + 128)

static pthread_t mail_thread;
static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mail_cond = PTHREAD_COND_INITIALIZER;
static int mail_running, mail_kicked;
static const struct config *mail_cfg;

/* ---- building messages ---- */

static void mail_new_id(char out[33])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof b);
    util_hex(b, sizeof b, out);
}

/* "Sun, 29 Nov 2026 20:41:27 +0000" */
static void mail_date(int64_t ms, char *out, size_t n)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Body text with every line ending turned into CRLF. */
static char *mail_crlf(const char *body)
{
    size_t n = strlen(body), lines = 1, need;

    for (size_t i = 0; i < n; i++)
        lines += body[i] == '\n';
    if (!size_add(n, lines, &need) || !size_add(need, 1, &need))
        return NULL;
    char *out = malloc(need), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (body[i] == '\r')
            continue;
        if (body[i] == '\n')
            *o++ = '\r';
        *o++ = body[i];
    }
    *o = 0;
    return out;
}

/* The envelope "to\n" + message, malloc'd. */
static char *mail_compose(const char *id, const char *to, const char *subject, const char *body)
{
    char date[64], *text = mail_crlf(body), *env = NULL;
    const char *from = mail_cfg->mail_from;
    size_t n;

    if (!text)
        return NULL;
    mail_date(clock_now_ms(), date, sizeof date);
    n = strlen(to) * 2 + strlen(subject) + strlen(text) + strlen(from) + 512;
    env = malloc(n);
    if (env)
        snprintf(env, n,
                 "%s\n"
                 "Date: %s\r\nFrom: %s\r\nTo: <%s>\r\nSubject: %s\r\n"
                 "Message-ID: <%s@atelier>\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
                 to, date, from, to, subject, id, text);
    sodium_memzero(text, strlen(text)); /* the body may carry a link */
    free(text);
    return env;
}

/* The recipient's keys for the cap: a keyed hash of its lowercase form
 * under each loaded key (two during a key rotation; the first is stored).
 * Returns how many. */
static int mail_rcpt_lookups(const char *to, uint8_t out[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES])
{
    char low[POLICY_EMAIL_BUF];
    size_t n = strnlen(to, LIMIT_EMAIL_MAX);

    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)to[i]);
    int k = seal_lookups("mail-rcpt", low, n, out);
    sodium_memzero(low, sizeof low);
    return k;
}

/* 1 when `to` may get one more mail now (and records it), 0 when the cap is
 * reached, or a negative err. */
static int mail_rcpt_admit(struct db *db, const char *to, int64_t now_ms)
{
    uint8_t lookup[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES];
    int64_t since = now_ms - (int64_t)LIMIT_MAIL_WINDOW_S * 1000;
    int64_t n = 0;
    int rc = 0, keys = mail_rcpt_lookups(to, lookup);

    for (int k = 0; k < keys; k++) { /* rows hashed under either key count */
        struct db_rows *rows = NULL;
        struct db_param q[] = {DB_BLOB(lookup[k], sizeof lookup[k]), DB_INT(since)};
        if ((rc = db_query(db, STMT_MAIL_RCPT_COUNT, q, 2, &rows)))
            return rc;
        if ((rc = db_next(rows)) == 1)
            n += db_col_int(rows, 0);
        db_rows_free(rows);
        if (rc < 0)
            return rc;
    }
    if (n >= LIMIT_MAIL_QUEUE_PER_RCPT)
        return 0;
    struct db_param ins[] = {DB_BLOB(lookup[0], sizeof lookup[0]), DB_INT(now_ms)};
    rc = db_query(db, STMT_MAIL_RCPT_INSERT, ins, 2, NULL);
    return rc ? rc : 1;
}

/* 1 when account_id (NULL: no account) restricts processing: then it gets
 * no mail but the confirmation of the restriction. */
static int mail_restricted(struct db *db, const char *account_id)
{
    int64_t since = 0;
    int rc;

    if (!account_id)
        return 0;
    rc = restrict_get(db, account_id, &since);
    if (rc == ERR_NOT_FOUND)
        return 0; /* the caller's own concern (the foreign key refuses the row) */
    return rc ? rc : since > 0;
}

static int mail_enqueue_as(struct db *db, const char *account_id, const char *to,
                           const char *subject, const char *body, int exempt)
{
    char id[33];
    uint8_t *box = NULL;
    size_t boxn = 0;
    int rc = exempt ? 0 : mail_restricted(db, account_id);

    if (rc > 0)
        return 0; /* dropped: the caller's change still commits */
    if (rc == 0)
        rc = mail_rcpt_admit(db, to, clock_now_ms());
    if (rc <= 0) {
        if (rc == 0)
            metrics_event(EV_MAIL_CAPPED, 1);
        return rc;
    }
    mail_new_id(id);
    char *env = mail_compose(id, to, subject, body);
    if (!env)
        return ERR_NOMEM;
    rc = seal_field("mail_queue.message", id, env, strlen(env), &box, &boxn);
    sodium_memzero(env, strlen(env));
    free(env);
    if (rc)
        return rc;
    int64_t now = clock_now_ms();
    struct db_param p[] = {DB_TEXT(id), account_id ? DB_TEXT(account_id) : DB_NULL,
                           DB_BLOB(box, boxn), DB_INT(now), DB_INT(0)};
    rc = db_query(db, STMT_MAIL_INSERT, p, 5, NULL);
    free(box);
    return rc;
}

int mail_enqueue(struct db *db, const char *account_id, const char *to, const char *subject,
                 const char *body)
{
    return mail_enqueue_as(db, account_id, to, subject, body, 0);
}

int mail_enqueue_exempt(struct db *db, const char *account_id, const char *to, const char *subject,
                        const char *body)
{
    return mail_enqueue_as(db, account_id, to, subject, body, 1);
}

/* ---- delivery ---- */

static int mail_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The hex tags of an outbox name: 8 bytes of a keyed BLAKE2b under each
 * loaded key (the write key's first; two during a key rotation); an empty or
 * NULL value (mail of no account) is all zeros. Addresses are lower-cased.
 * Returns how many. */
static int mail_outbox_tags(const char *domain, const char *value,
                            char out[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1])
{
    uint8_t h[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES];
    char low[POLICY_EMAIL_BUF];
    size_t i;
    int k;

    if (!value || !value[0]) {
        memset(out[0], '0', MAIL_TAG_HEX);
        out[0][MAIL_TAG_HEX] = 0;
        return 1;
    }
    for (i = 0; value[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)value[i]);
    low[i] = 0;
    k = seal_lookups(domain, low, i, h);
    for (int j = 0; j < k; j++)
        util_hex(h[j], MAIL_TAG_HEX / 2, out[j]);
    sodium_memzero(low, sizeof low);
    return k;
}

/* Atomic write of the message into <data>/outbox/<ms>-<A>-<E>-<id>.eml;
 * the final path goes to path. */
static int mail_to_outbox(const char *id, const char *account, const char *to, const char *msg,
                          size_t n, char path[MAIL_PATH_BUF])
{
    char dir[PATH_MAX + 16], tmp[MAIL_PATH_BUF];
    char a[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1], e[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1];
    int fd = -1, rc = ERR_UNAVAILABLE;

    snprintf(dir, sizeof dir, "%s/outbox", mail_cfg->data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        goto out;
    mail_outbox_tags("outbox.account", account, a);
    mail_outbox_tags("outbox.address", to, e);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, id);
    snprintf(path, MAIL_PATH_BUF, "%s/%lld-%s-%s-%s.eml", dir, (long long)clock_now_ms(), a[0],
             e[0], id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || mail_write_all(fd, msg, n) || fsync(fd))
        goto out;
    close(fd);
    fd = -1;
    if (rename(tmp, path))
        goto out;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    return rc;
}

struct mail_reader {
    const char *p;
    size_t left;
};

static size_t mail_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct mail_reader *r = arg;
    size_t n = size * nitems;

    if (n > r->left)
        n = r->left;
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

/* The address inside "Name <addr>", or the whole string. */
static void mail_addr_of(const char *from, char *out, size_t n)
{
    const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt && (size_t)(gt - lt) < n) {
        memcpy(out, lt + 1, (size_t)(gt - lt - 1));
        out[gt - lt - 1] = 0;
    } else {
        util_strlcpy(out, from, n);
    }
}

static int mail_to_smtp(const char *to, const char *msg, size_t n)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    struct mail_reader r = {msg, n};
    char from[256], rcpt_addr[300];
    CURLcode cc;

    if (!c)
        return ERR_NOMEM;
    mail_addr_of(mail_cfg->mail_from, from, sizeof from);
    snprintf(rcpt_addr, sizeof rcpt_addr, "<%s>", to);
    rcpt = curl_slist_append(NULL, rcpt_addr);
    curl_easy_setopt(c, CURLOPT_URL, mail_cfg->smtp);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)mail_cfg->smtp_tls);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        log_warn("mail", "SMTP delivery failed: %s", curl_easy_strerror(cc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? 0 : ERR_UNAVAILABLE;
}

/* Deliver one sealed envelope; an outbox file's path goes to path
 * (empty when it went by SMTP). */
static int mail_deliver_one(const char *id, const char *account, const uint8_t *box, size_t boxn,
                            char path[MAIL_PATH_BUF])
{
    size_t n = 0;
    uint8_t *env = NULL;
    int rc = seal_open_field("mail_queue.message", id, box, boxn, &env, &n);

    if (rc)
        return rc;
    char *nl = memchr(env, '\n', n);
    if (!nl) {
        rc = ERR_INTERNAL;
        goto out;
    }
    *nl = 0;
    const char *msg = nl + 1;
    size_t msgn = n - (size_t)(nl + 1 - (char *)env);
    path[0] = 0;
    rc = mail_cfg->smtp[0] ? mail_to_smtp((const char *)env, msg, msgn)
                           : mail_to_outbox(id, account, (const char *)env, msg, msgn, path);
out:
    seal_free(env, n);
    return rc;
}

static int64_t mail_backoff(int64_t attempts)
{
    int64_t d = MAIL_RETRY_FIRST_MS;

    while (attempts-- > 1 && d < MAIL_RETRY_MAX_MS)
        d *= 2;
    return d < MAIL_RETRY_MAX_MS ? d : MAIL_RETRY_MAX_MS;
}

/* Claim a due row for this node: only one claimant's compare-and-set wins. */
static int mail_claim(struct db *db, const char *id, int64_t old_next, int64_t now)
{
    struct db_param p[] = {DB_TEXT(id), DB_INT(old_next), DB_INT(now + MAIL_CLAIM_MS)};
    return db_exec(db, STMT_MAIL_CLAIM, p, 3) == 1;
}

static void mail_finish(struct db *db, const char *id, int ok, int64_t attempts, int64_t now,
                        const char *path)
{
    if (ok) {
        struct db_param p[] = {DB_TEXT(id)};
        if (db_exec(db, STMT_MAIL_DONE, p, 1) == 0 && path[0])
            unlink(path); /* erased while we wrote it: the file goes too */
        metrics_event(EV_MAIL_SENT, 1);
        return;
    }
    struct db_param p[] = {DB_TEXT(id), DB_INT(attempts + 1),
                           DB_INT(now + mail_backoff(attempts + 1))};
    db_exec(db, STMT_MAIL_RETRY, p, 3);
    metrics_event(EV_MAIL_FAILED, 1);
}

struct mail_due {
    char id[40], account[40];
    int64_t attempts, next;
    uint8_t *box;
    size_t boxn;
};

/* Read up to MAIL_BATCH due rows into due[]; returns how many. */
static int mail_fetch_due(struct db *db, int64_t now, struct mail_due *due)
{
    struct db_param p[] = {DB_INT(now), DB_INT(MAIL_BATCH)};
    struct db_rows *rows = NULL;
    int n = 0;

    if (db_query(db, STMT_MAIL_DUE, p, 2, &rows))
        return 0;
    while (n < MAIL_BATCH && db_next(rows) == 1) {
        size_t len = 0;
        const char *id = db_col_text(rows, 0, &len);
        const void *box = db_col_blob(rows, 1, &due[n].boxn);
        const char *acct = db_col_text(rows, 4, NULL);
        util_strlcpy(due[n].id, id ? id : "", sizeof due[n].id);
        util_strlcpy(due[n].account, acct ? acct : "", sizeof due[n].account);
        due[n].attempts = db_col_int(rows, 2);
        due[n].next = db_col_int(rows, 3);
        due[n].box = malloc(due[n].boxn ? due[n].boxn : 1);
        if (!due[n].box)
            break;
        memcpy(due[n].box, box, due[n].boxn);
        n++;
    }
    db_rows_free(rows);
    return n;
}

int mail_deliver_due(struct db *db, const struct config *cfg, int64_t now_ms, int *sent,
                     int *failed)
{
    struct mail_due due[MAIL_BATCH];
    int n, ok = 0, bad = 0;

    mail_cfg = cfg;
    struct db_param prune[] = {DB_INT(now_ms - (int64_t)LIMIT_MAIL_WINDOW_S * 1000)};
    db_exec(db, STMT_MAIL_RCPT_PRUNE, prune, 1); /* best effort: counts ignore old rows */
    n = mail_fetch_due(db, now_ms, due);
    for (int i = 0; i < n; i++) {
        if (mail_claim(db, due[i].id, due[i].next, now_ms)) {
            char path[MAIL_PATH_BUF];
            int rc = mail_deliver_one(due[i].id, due[i].account, due[i].box, due[i].boxn, path);
            mail_finish(db, due[i].id, rc == 0, due[i].attempts, now_ms, path);
            rc == 0 ? ok++ : bad++;
        }
        free(due[i].box);
    }
    if (sent)
        *sent = ok;
    if (failed)
        *failed = bad;
    return n;
}

static void *mail_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&mail_lock);
    while (mail_running) {
        mail_kicked = 0;
        pthread_mutex_unlock(&mail_lock);
        struct db *db = db_thread();
        int n = db ? mail_deliver_due(db, mail_cfg, clock_now_ms(), NULL, NULL) : 0;
        pthread_mutex_lock(&mail_lock);
        if (n == MAIL_BATCH || mail_kicked || !mail_running)
            continue; /* more may be due */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += MAIL_POLL_MS / 1000;
        pthread_cond_timedwait(&mail_cond, &mail_lock, &ts);
    }
    pthread_mutex_unlock(&mail_lock);
    db_thread_close();
    return NULL;
}

void mail_configure(const struct config *cfg)
{
    mail_cfg = cfg;
}

int mail_start(const struct config *cfg)
{
    mail_configure(cfg);
    if (!cfg->smtp[0])
        log_warn("mail",
                 "no --smtp: every mail (addresses, usernames, links) is written as a file into "
                 "%s/outbox/ for pickup; the sweeper deletes files older than %d days",
                 cfg->data_dir, RETAIN_OUTBOX_DAYS);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ERR_INTERNAL;
    mail_running = 1;
    if (pthread_create(&mail_thread, NULL, mail_main, NULL) != 0) {
        mail_running = 0;
        return ERR_INTERNAL;
    }
    return 0;
}

void mail_kick(void)
{
    pthread_mutex_lock(&mail_lock);
    mail_kicked = 1;
    pthread_cond_signal(&mail_cond);
    pthread_mutex_unlock(&mail_lock);
}

void mail_stop(void)
{
    pthread_mutex_lock(&mail_lock);
    if (!mail_running) {
        pthread_mutex_unlock(&mail_lock);
        return;
    }
    mail_running = 0;
    pthread_cond_signal(&mail_cond);
    pthread_mutex_unlock(&mail_lock);
    pthread_join(mail_thread, NULL);
    curl_global_cleanup();
}

/* ---- the outbox: erasure and retention ---- */

/* The delivery time of an outbox name "<ms>-...", or -1. */
static int64_t mail_outbox_ms(const char *name)
{
    int64_t ms = 0;
    int i;

    for (i = 0; name[i] >= '0' && name[i] <= '9' && i < 18; i++)
        ms = ms * 10 + (name[i] - '0');
    return i > 0 && name[i] == '-' ? ms : -1;
}

/* Does the name carry tag a (account) or e (address) in its slots? */
static int mail_outbox_match(const char *name, const char *a, const char *e)
{
    const char *p = strchr(name, '-');

    if (mail_outbox_ms(name) < 0 || !p || strlen(p) < 2 * (MAIL_TAG_HEX + 1))
        return 0;
    if (a && strncmp(p + 1, a, MAIL_TAG_HEX) == 0 && p[MAIL_TAG_HEX + 1] == '-')
        return 1;
    p += MAIL_TAG_HEX + 1;
    return e && p[0] == '-' && strncmp(p + 1, e, MAIL_TAG_HEX) == 0;
}

/* Remove every entry of <data>/outbox that drop() picks; counts them. */
static int mail_outbox_scan(const char *data_dir, int (*drop)(const char *, const void *),
                            const void *arg, int dry_run, int *removed)
{
    char dir[PATH_MAX + 16];
    struct dirent *de;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/outbox", data_dir);
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : ERR_UNAVAILABLE;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !drop(de->d_name, arg))
            continue;
        if (dry_run || unlinkat(dirfd(d), de->d_name, 0) == 0)
            (*removed)++;
    }
    closedir(d);
    return 0;
}

struct mail_tags {
    char a[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1], e[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1];
    int na, ne; /* tags under each loaded key; ne 0: no address */
};

static int mail_drop_tagged(const char *name, const void *arg)
{
    const struct mail_tags *t = arg;
    for (int k = 0; k < t->na || k < t->ne; k++)
        if (mail_outbox_match(name, k < t->na ? t->a[k] : NULL, k < t->ne ? t->e[k] : NULL))
            return 1;
    return 0;
}

int mail_outbox_erase(const char *account_id, const char *email, int *removed)
{
    struct mail_tags t;
    int n = 0, rc;

    if (!mail_cfg || !account_id || !account_id[0])
        return 0;
    t.na = mail_outbox_tags("outbox.account", account_id, t.a);
    t.ne = email && email[0] ? mail_outbox_tags("outbox.address", email, t.e) : 0;
    rc = mail_outbox_scan(mail_cfg->data_dir, mail_drop_tagged, &t, 0, &n);
    if (removed)
        *removed = n;
    return rc;
}

static int mail_drop_old(const char *name, const void *arg)
{
    int64_t ms = mail_outbox_ms(name);
    return ms >= 0 && ms <= *(const int64_t *)arg;
}

int mail_outbox_prune(const char *data_dir, int64_t now_ms, int dry_run, int *removed)
{
    int64_t cutoff = now_ms - (int64_t)RETAIN_OUTBOX_DAYS * POLICY_DAY_S * 1000;

    return mail_outbox_scan(data_dir, mail_drop_old, &cutoff, dry_run, removed);
}

int mail_queued(struct db *db)
{
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_MAIL_QUEUED, NULL, 0, &rows);

    if (rc)
        return rc;
    rc = db_next(rows) == 1 ? (int)db_col_int(rows, 0) : ERR_INTERNAL;
    db_rows_free(rows);
    return rc;
}

int mail_queue_stats(struct db *db, int64_t *n, int64_t *oldest_ms)
{
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_MAIL_QUEUE_STATS, NULL, 0, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        *n = db_col_int(rows, 0);
        *oldest_ms = db_col_null(rows, 1) ? -1 : db_col_int(rows, 1);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_INTERNAL; /* an aggregate always has a row */
    }
    db_rows_free(rows);
    return rc;
}

/* ---- the outbox after a key rotation ---- */

/* One outbox file being retagged: its name and its tags, old and new. */
struct mail_retag {
    char *name;
    char a[MAIL_TAG_HEX + 1], e[MAIL_TAG_HEX + 1];         /* in the name */
    char new_a[MAIL_TAG_HEX + 1], new_e[MAIL_TAG_HEX + 1]; /* under the write key */
};

/* Split "<ms>-<A>-<E>-<rest>" into its tags; 0 when the name is one. */
static int mail_retag_parse(const char *name, struct mail_retag *r)
{
    const char *p = strchr(name, '-');

    if (mail_outbox_ms(name) < 0 || !p || strlen(p) < 2 * (MAIL_TAG_HEX + 1) + 1 ||
        p[MAIL_TAG_HEX + 1] != '-' || p[2 * (MAIL_TAG_HEX + 1)] != '-')
        return -1;
    memcpy(r->a, p + 1, MAIL_TAG_HEX);
    memcpy(r->e, p + MAIL_TAG_HEX + 2, MAIL_TAG_HEX);
    r->a[MAIL_TAG_HEX] = r->e[MAIL_TAG_HEX] = 0;
    memcpy(r->new_a, r->a, sizeof r->a);
    memcpy(r->new_e, r->e, sizeof r->e);
    return 0;
}

/* The recipient of an outbox file: its "To: <address>" header line, into
 * to (POLICY_EMAIL_BUF bytes). 0, or -1 when there is none. */
static int mail_retag_recipient(int dfd, const char *name, char to[POLICY_EMAIL_BUF])
{
    char head[4096];
    ssize_t n = 0;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;

    if (fd < 0)
        return -1;
    while (n < (ssize_t)sizeof head - 1) {
        ssize_t r = read(fd, head + n, sizeof head - 1 - (size_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += r;
    }
    close(fd);
    head[n] = 0;
    const char *p = strstr(head, "\r\nTo: <"), *end = p ? strchr(p + 7, '>') : NULL;
    if (end && (size_t)(end - (p + 7)) < POLICY_EMAIL_BUF) {
        memcpy(to, p + 7, (size_t)(end - (p + 7)));
        to[end - (p + 7)] = 0;
        rc = 0;
    }
    sodium_memzero(head, sizeof head);
    return rc;
}

static int mail_retag_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The account tags still under the old key: for every account of the
 * database whose old-key tag some file carries, that file's new_a. */
static int mail_retag_accounts(struct db *db, struct mail_retag *f, size_t nf)
{
    char after[POLICY_ID_BUF] = "", ids[256][POLICY_ID_BUF];
    char **olds = calloc(nf ? nf : 1, sizeof *olds);
    size_t nold = 0;
    int rc = olds ? 0 : ERR_NOMEM;

    for (size_t i = 0; rc == 0 && i < nf; i++)
        if (strspn(f[i].a, "0") != MAIL_TAG_HEX)
            olds[nold++] = f[i].a;
    if (rc || nold == 0)
        goto out;
    qsort(olds, nold, sizeof *olds, mail_retag_cmp);
    for (;;) { /* pages of account ids, no cursor open while hashing */
        struct db_param p[] = {DB_TEXT(after), DB_INT(256)};
        struct db_rows *rows = NULL;
        size_t n = 0;
        if ((rc = db_query(db, STMT_REKEY_ACCOUNT_IDS, p, 2, &rows)))
            goto out;
        while (n < 256 && (rc = db_next(rows)) == 1)
            util_strlcpy(ids[n++], db_col_text(rows, 0, NULL), sizeof ids[0]);
        db_rows_free(rows);
        if (rc < 0)
            goto out;
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            char t[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1], *key = t[1];
            if (mail_outbox_tags("outbox.account", ids[i], t) < 2)
                continue;
            if (!bsearch(&key, olds, nold, sizeof *olds, mail_retag_cmp))
                continue;
            for (size_t j = 0; j < nf; j++)
                if (strcmp(f[j].a, t[1]) == 0)
                    memcpy(f[j].new_a, t[0], sizeof t[0]);
        }
        if (n < 256)
            break;
        util_strlcpy(after, ids[n - 1], sizeof after);
    }
out:
    free(olds);
    return rc;
}

int mail_outbox_retag(struct db *db, const char *data_dir, int *renamed)
{
    char dir[PATH_MAX + 16], to[POLICY_EMAIL_BUF];
    struct mail_retag *f = NULL;
    size_t nf = 0, cap = 0;
    struct dirent *de;
    uint32_t ids[SEAL_MAX_KEYS];
    int rc = 0;
    DIR *d;

    *renamed = 0;
    if (seal_key_ids(ids) < 2)
        return 0; /* nothing to map from */
    snprintf(dir, sizeof dir, "%s/outbox", data_dir);
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : ERR_UNAVAILABLE;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        struct mail_retag r;
        if (de->d_name[0] == '.' || mail_retag_parse(de->d_name, &r))
            continue;
        if (mail_retag_recipient(dirfd(d), de->d_name, to) == 0) {
            char t[SEAL_MAX_KEYS][MAIL_TAG_HEX + 1];
            if (mail_outbox_tags("outbox.address", to, t) == 2 && strcmp(r.e, t[1]) == 0)
                memcpy(r.new_e, t[0], sizeof t[0]);
            sodium_memzero(to, sizeof to);
        }
        if (nf == cap) {
            size_t ncap = 0, bytes = 0;
            struct mail_retag *g = NULL;
            if (size_mul(cap ? cap : 32, 2, &ncap) && size_mul(ncap, sizeof *f, &bytes))
                g = realloc(f, bytes);
            if (!g) {
                rc = ERR_NOMEM;
                break;
            }
            f = g;
            cap = ncap;
        }
        if (!(r.name = strdup(de->d_name))) {
            rc = ERR_NOMEM;
            break;
        }
        f[nf++] = r;
    }
    if (rc == 0)
        rc = mail_retag_accounts(db, f, nf);
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        if (strcmp(f[i].a, f[i].new_a) == 0 && strcmp(f[i].e, f[i].new_e) == 0)
            continue;
        char name[NAME_MAX + 1];
        const char *rest = strchr(f[i].name, '-') + 2 * (MAIL_TAG_HEX + 1);
        snprintf(name, sizeof name, "%lld-%s-%s%s", (long long)mail_outbox_ms(f[i].name),
                 f[i].new_a, f[i].new_e, rest);
        if (renameat(dirfd(d), f[i].name, dirfd(d), name) == 0)
            (*renamed)++;
        else if (errno != ENOENT) /* ENOENT: erased or pruned meanwhile */
            rc = ERR_UNAVAILABLE;
    }
    if (rc == 0 && *renamed)
        fsync(dirfd(d));
    for (size_t i = 0; i < nf; i++)
        free(f[i].name);
    free(f);
    closedir(d);
    return rc;
}
