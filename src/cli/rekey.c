/*
 * rekey.c - key rotation (SPEC section 5: `atelier rekey --new-key-file F`),
 * and the thread of `atelier serve` that follows a rotation.
 *
 * The command's steps, each of which a crash may cut; running the command
 * again reads where the database is and goes on from there:
 *   1. Check. F must be a regular file of 32 bytes, mode 0600 or narrower,
 *      another key than the current one; the current key must open the
 *      database's key check; no rotation to another key may be in progress.
 *   2. F is copied to the next key file N (--next-key-file, default
 *      <key file>.next), where every process of this node looks for it.
 *   3. Announce: meta.key_check_next is stored, sealed under the new key.
 *      From then on every command that starts (cli/app.c: app_keys) loads N
 *      and seals under it, and a running server does the same within
 *      LIMIT_REKEY_POLL_MS (rekey_watch), or refuses to seal (503) when it
 *      cannot load N. Both keys open values; lookups try both hashes.
 *   4. Settle: wait LIMIT_REKEY_SETTLE_MS, so that every polling server
 *      seals under the new key before resealing starts.
 *   5. Reseal every column of base/sealed.h, in batches of --batch values,
 *      one transaction each: a value whose key id is not the new key's is
 *      opened, sealed again under the new key and its lookup recomputed.
 *      The UPDATE replaces the value only if it is still the one read
 *      (compare-and-set): a server's concurrent write is never undone.
 *   6. Outbox: files tagged under the old key get their new tags
 *      (mail_outbox_retag), so erasure still finds them.
 *   7. Finish, in one transaction: when no value is left under another key,
 *      the key check is sealed under the new key and key_check_next goes
 *      (otherwise step 5 again). The key check moves last.
 *   8. Files: N replaces the key file (rename), and the old key's bytes are
 *      overwritten through a descriptor opened before the rename, when no
 *      other name links to them. With ATELIER_KEY, the operator replaces the
 *      variable (the command says how).
 *
 * Invariants:
 *   - Until step 7 commits the key file holds the old key and N the new one,
 *     and every value opens under one of them; after it, the key check and
 *     every value open under N's key. So a crash anywhere leaves a database
 *     that both keys serve, and the next run finishes the job.
 *   - Plaintexts are wiped after each value (seal_free), the key material by
 *     seal_shutdown and sodium_memzero; nothing of a value is logged.
 *   - One rotation at a time: a lock on the data directory (flock) and, on
 *     PostgreSQL, a session advisory lock ("atlrekey").
 *
 * Test hook (tests/api/test_890_rekey*.py): ATELIER_TEST_REKEY_CRASH =
 * "announce", "batch:N" or "final" kills the command with SIGKILL after the
 * announcement, after N committed batches, or after step 7's commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account/mail.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/sealed.h"
#include "base/util.h"
#include "cli/app.h"
#include "cli/rekey.h"
#include "store/db.h"

#define REKEY_KEY_MAX  128                         /* bytes of a row's primary key */
#define REKEY_LOCK_KEY INT64_C(0x61746c72656b6579) /* "atlrekey" */
#define REKEY_ROUNDS   5                           /* passes over the columns before giving up */
#define REKEY_RETRIES  20 /* a batch that meets a busy database is retried */

/* One sealed column of base/sealed.h and its generated statements. */
struct rekey_column {
    const char *label; /* "table.field": the associated data's column */
    enum sealed_key kind;
    const char *lookup; /* the lookup's domain (and column prefix), or NULL */
    enum stmt scan, count, put;
};

#define REKEY_COL_X(name, table, key, kind, field)                                                 \
    {table "." field,      kind, NULL, STMT_REKEY_SCAN_##name, STMT_REKEY_COUNT_##name,            \
     STMT_REKEY_PUT_##name},
#define REKEY_COL_L(name, table, key, kind, field, lookup)                                         \
    {table "." field,      kind, lookup, STMT_REKEY_SCAN_##name, STMT_REKEY_COUNT_##name,          \
     STMT_REKEY_PUT_##name},
static const struct rekey_column rekey_columns[] = {SEALED_COLUMNS(REKEY_COL_X, REKEY_COL_L)};
#undef REKEY_COL_X
#undef REKEY_COL_L

#define REKEY_NCOLUMNS (sizeof rekey_columns / sizeof rekey_columns[0])

/* One value read by a scan: its row's key and its sealed bytes. */
struct rekey_value {
    uint8_t key[REKEY_KEY_MAX];
    size_t keyn;
    uint8_t *box;
    size_t boxn;
};

struct rekey_ctx {
    const struct config *cfg;
    struct db *db;
    uint32_t new_id, old_id;
    uint8_t id_bytes[4]; /* new_id, big endian, as in a sealed value */
    struct rekey_value *batch;
    long batches, crash_batches; /* crash_batches: the test hook, -1 none */
    int64_t total, resealed, lookups, skipped;
};

/* ---- the test hook ---- */

static void rekey_crash(const char *point)
{
    const char *want = getenv("ATELIER_TEST_REKEY_CRASH");

    if (want && strcmp(want, point) == 0) {
        fprintf(stderr, "atelier rekey: test hook: killed at %s\n", point);
        raise(SIGKILL);
    }
}

static long rekey_crash_batches(void)
{
    const char *want = getenv("ATELIER_TEST_REKEY_CRASH");
    int64_t n = 0;

    if (want && strncmp(want, "batch:", 6) == 0 && util_parse_i64(want + 6, 1, 1000000000, &n) == 0)
        return (long)n;
    return -1;
}

/* ---- key files ---- */

/* Copy the 32-byte key file src to dst (mode 0600) by a temporary file and
 * a rename, both fsync'd. The bytes are wiped. */
static int rekey_copy_key(const char *src, const char *dst)
{
    uint8_t key[SEAL_KEY_BYTES];
    char tmp[PATH_MAX + 16], dir[PATH_MAX];
    int in = -1, out = -1, rc = ERR_UNAVAILABLE;
    ssize_t n = 0;

    if (snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= (int)sizeof tmp ||
        util_strlcpy(dir, dst, sizeof dir))
        return ERR_INVALID;
    if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        goto out;
    while (n < (ssize_t)sizeof key) {
        ssize_t r = read(in, key + n, sizeof key - (size_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        n += r;
    }
    unlink(tmp);
    if ((out = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        goto out;
    if (write(out, key, sizeof key) != (ssize_t)sizeof key || fsync(out) != 0)
        goto out;
    close(out);
    out = -1;
    if (rename(tmp, dst) != 0)
        goto out;
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (rc)
        log_error("rekey", "cannot copy the key %s to %s: %s", src, dst, strerror(errno));
    if (out >= 0) {
        close(out);
        unlink(tmp);
    }
    if (in >= 0)
        close(in);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Step 8: the next key file becomes the key file. The old key's bytes are
 * overwritten through a descriptor opened before the rename, when no other
 * name links to them. */
static int rekey_swap_files(const struct config *cfg)
{
    static const uint8_t zero[SEAL_KEY_BYTES];
    char dir[PATH_MAX];
    struct stat st;
    int old = -1, rc = 0;

    if (cfg->key_hex[0]) {
        fprintf(stderr,
                "atelier rekey: the server key comes from ATELIER_KEY, which this command "
                "cannot change: set ATELIER_KEY to the new key on every node (its 64 hex "
                "characters: od -An -tx1 %s | tr -d ' \\n'), restart, then delete %s\n",
                cfg->next_key_file, cfg->next_key_file);
        return 0;
    }
    if (lstat(cfg->key_file, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
        old = open(cfg->key_file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (rename(cfg->next_key_file, cfg->key_file) != 0) {
        if (errno != EXDEV || (rc = rekey_copy_key(cfg->next_key_file, cfg->key_file)) ||
            unlink(cfg->next_key_file) != 0) {
            log_error("rekey", "cannot move %s to %s: %s", cfg->next_key_file, cfg->key_file,
                      strerror(errno));
            if (old >= 0)
                close(old);
            return rc ? rc : ERR_UNAVAILABLE;
        }
    }
    if (util_strlcpy(dir, cfg->key_file, sizeof dir) == 0) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (old >= 0) { /* best effort: the file system may keep copies (journal, COW) */
        if (pwrite(old, zero, sizeof zero, 0) != (ssize_t)sizeof zero || fsync(old) != 0)
            log_warn("rekey", "could not overwrite the old key's bytes: %s", strerror(errno));
        close(old);
    }
    return 0;
}

/* ---- resealing ---- */

static struct db_param rekey_key_param(const struct rekey_column *col, const uint8_t *key, size_t n)
{
    return col->kind == SEALED_KEY_HEX ? DB_BLOB(key, n) : DB_TEXTN((const char *)key, n);
}

/* Read one batch of col's values not under the new key, after cursor. */
static int rekey_scan(struct rekey_ctx *c, const struct rekey_column *col, const uint8_t *cursor,
                      size_t cursorn, size_t *n)
{
    struct db_param p[] = {rekey_key_param(col, cursor, cursorn),
                           DB_BLOB(c->id_bytes, sizeof c->id_bytes), DB_INT(c->cfg->rekey_batch)};
    struct db_rows *rows = NULL;
    size_t bytes = 0;
    int rc = db_query(c->db, col->scan, p, 3, &rows);

    *n = 0;
    while (rc == 0 && *n < c->cfg->rekey_batch && bytes < LIMIT_REKEY_BATCH_BYTES &&
           (rc = db_next(rows)) == 1) {
        struct rekey_value *v = &c->batch[*n];
        size_t kn = 0, bn = 0;
        const void *k = col->kind == SEALED_KEY_HEX ? db_col_blob(rows, 0, &kn)
                                                    : (const void *)db_col_text(rows, 0, &kn);
        const void *box = db_col_blob(rows, 1, &bn);
        if (!k || kn == 0 || kn > sizeof v->key || !box) {
            log_error("rekey", "%s: a row key of %zu bytes (at most %d)", col->label, kn,
                      REKEY_KEY_MAX);
            rc = ERR_INTERNAL;
            break;
        }
        if (!(v->box = malloc(bn ? bn : 1))) {
            rc = ERR_NOMEM;
            break;
        }
        memcpy(v->key, k, kn);
        v->keyn = kn;
        memcpy(v->box, box, bn);
        v->boxn = bn;
        bytes += bn;
        (*n)++;
        rc = 0;
    }
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

/* Reseal one value under the new key, with its lookup. */
static int rekey_value(struct rekey_ctx *c, const struct rekey_column *col,
                       const struct rekey_value *v)
{
    char row[2 * REKEY_KEY_MAX + 1];
    uint8_t *pt = NULL, *box = NULL, lookup[SEAL_LOOKUP_BYTES] = {0};
    size_t ptn = 0, boxn = 0;
    int rc;

    if (col->kind == SEALED_KEY_HEX) {
        util_hex(v->key, v->keyn, row);
    } else {
        memcpy(row, v->key, v->keyn);
        row[v->keyn] = 0;
    }
    if (seal_open_field(col->label, row, v->box, v->boxn, &pt, &ptn)) {
        log_error("rekey",
                  "the %s of row %s opens under neither key (%08x, %08x): it is damaged or "
                  "sealed under a third key; repair or delete it, then run atelier rekey again",
                  col->label, row, (unsigned)c->new_id, (unsigned)c->old_id);
        return ERR_INTERNAL;
    }
    rc = seal_field(col->label, row, pt, ptn, &box, &boxn);
    if (rc == 0) {
        if (col->lookup)
            seal_lookup(col->lookup, pt, ptn, lookup);
        struct db_param p[] = {rekey_key_param(col, v->key, v->keyn), DB_BLOB(box, boxn),
                               DB_BLOB(v->box, v->boxn), DB_BLOB(lookup, sizeof lookup)};
        int64_t changed = db_exec(c->db, col->put, p, col->lookup ? 4 : 3);
        if (changed == ERR_CONFLICT)
            log_error("rekey",
                      "the %s of row %s, resealed, collides with another row's (%s_lookup is "
                      "unique): two rows hold the same value, one written under each key by a "
                      "process that did not follow the rotation; resolve it, then run atelier "
                      "rekey again",
                      col->label, row, col->lookup ? col->lookup : "?");
        if (changed < 0) {
            rc = (int)changed;
        } else if (changed == 1) {
            c->resealed++;
            c->lookups += col->lookup != NULL;
        } else {
            c->skipped++; /* a writer replaced it meanwhile, under the new key */
        }
    }
    sodium_memzero(lookup, sizeof lookup);
    seal_free(pt, ptn);
    free(box);
    return rc;
}

/* The progress line on a terminal (base/progress.h; main enables it). */
static void rekey_progress(struct rekey_ctx *c, int last)
{
    if (last)
        progress_step("atelier rekey: %lld of %lld values resealed", (long long)c->resealed,
                      (long long)c->total);
    else
        progress_update("atelier rekey: %lld of %lld values resealed", (long long)c->resealed,
                        (long long)c->total);
}

static void rekey_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One batch of col in one transaction; *n values were read (0: col done).
 * The cursor moves past the last one. */
static int rekey_batch(struct rekey_ctx *c, const struct rekey_column *col, uint8_t *cursor,
                       size_t *cursorn, size_t *n)
{
    int rc = 0;

    for (int attempt = 0; attempt <= REKEY_RETRIES; attempt++) {
        *n = 0;
        if ((rc = db_begin(c->db)) == 0) {
            rc = rekey_scan(c, col, cursor, *cursorn, n);
            int64_t resealed = c->resealed, lookups = c->lookups, skipped = c->skipped;
            for (size_t i = 0; rc == 0 && i < *n; i++)
                rc = rekey_value(c, col, &c->batch[i]);
            if (rc == 0)
                rc = db_commit(c->db);
            if (rc) {
                db_rollback(c->db);
                c->resealed = resealed; /* nothing of this batch stays */
                c->lookups = lookups;
                c->skipped = skipped;
            }
        }
        for (size_t i = 0; i < *n; i++) {
            if (rc == 0 && i + 1 == *n) {
                memcpy(cursor, c->batch[i].key, c->batch[i].keyn);
                *cursorn = c->batch[i].keyn;
            }
            free(c->batch[i].box);
            c->batch[i].box = NULL;
        }
        if (rc != ERR_BUSY)
            break;
        rekey_sleep_ms(50 * (attempt + 1)); /* a server holds the write lock */
    }
    if (rc == 0 && *n > 0) {
        c->batches++;
        rekey_progress(c, 0);
        if (c->crash_batches > 0 && c->batches >= c->crash_batches) {
            fprintf(stderr, "atelier rekey: test hook: killed after %ld batches\n", c->batches);
            raise(SIGKILL);
        }
    }
    return rc;
}

/* Step 5: every column, batch after batch. */
static int rekey_pass(struct rekey_ctx *c)
{
    uint8_t cursor[REKEY_KEY_MAX];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < REKEY_NCOLUMNS; i++) {
        size_t cursorn = 0, n = 0;
        memset(cursor, 0, sizeof cursor); /* an empty key sorts before every key */
        do
            rc = rekey_batch(c, &rekey_columns[i], cursor, &cursorn, &n);
        while (rc == 0 && n > 0);
    }
    return rc;
}

/* How many values are not sealed under the new key, over every column. */
static int rekey_left(struct rekey_ctx *c, int64_t *left)
{
    struct db_param p[] = {DB_BLOB(c->id_bytes, sizeof c->id_bytes)};
    int rc = 0;

    *left = 0;
    for (size_t i = 0; rc == 0 && i < REKEY_NCOLUMNS; i++) {
        struct db_rows *rows = NULL;
        if ((rc = db_query(c->db, rekey_columns[i].count, p, 1, &rows)))
            break;
        if ((rc = db_next(rows)) == 1) {
            *left += db_col_int(rows, 0);
            rc = 0;
        } else if (rc == 0) {
            rc = ERR_INTERNAL;
        }
        db_rows_free(rows);
    }
    return rc;
}

/* Step 7: in one transaction, when nothing is left under another key, the
 * key check moves to the new key. *done tells whether it did. */
static int rekey_finish(struct rekey_ctx *c, int *done)
{
    struct db_param next[] = {DB_TEXT(APP_KEY_CHECK_NEXT_NAME)};
    int64_t left = 0;
    int rc;

    *done = 0;
    if ((rc = db_begin(c->db)))
        return rc;
    if ((rc = rekey_left(c, &left)) == 0 && left == 0) {
        if ((rc = app_key_check_store(c->db, APP_KEY_CHECK_NAME)) == 0)
            rc = db_query(c->db, STMT_META_DELETE, next, 1, NULL);
        *done = rc == 0;
    }
    if (rc == 0)
        rc = db_commit(c->db);
    if (rc) {
        db_rollback(c->db);
        *done = 0;
    }
    return rc;
}

/* Steps 4 to 7, from an announced rotation. */
static int rekey_reseal(struct rekey_ctx *c)
{
    int rc, done = 0, renamed = 0;

    fprintf(stderr,
            "atelier rekey: rotation to key %08x announced; waiting %d ms for running servers "
            "to seal under it\n",
            (unsigned)c->new_id, LIMIT_REKEY_SETTLE_MS);
    rekey_sleep_ms(LIMIT_REKEY_SETTLE_MS);
    if ((rc = rekey_left(c, &c->total)))
        return rc;
    for (int round = 0; rc == 0 && !done; round++) {
        if (round == REKEY_ROUNDS) {
            log_error("rekey",
                      "values keep appearing under the old key after %d passes: a "
                      "process does not follow the rotation (see docs/OPERATIONS.md)",
                      REKEY_ROUNDS);
            return ERR_UNAVAILABLE;
        }
        if ((rc = rekey_pass(c)))
            break;
        rekey_progress(c, 1);
        if ((rc = mail_outbox_retag(c->db, c->cfg->data_dir, &renamed)))
            log_error("rekey", "cannot retag the outbox files: %s", err_text(rc));
        else if (renamed)
            log_info("rekey", "outbox: %d files retagged", renamed);
        for (int attempt = 0; rc == 0; attempt++) {
            rc = rekey_finish(c, &done);
            if (rc != ERR_BUSY || attempt == REKEY_RETRIES)
                break;
            rc = 0;
            rekey_sleep_ms(50 * (attempt + 1)); /* a server holds the write lock */
        }
    }
    return rc;
}

/* ---- the command ---- */

/* Lock the data directory against a second rotation on this node. */
static int rekey_lock_dir(const char *data_dir)
{
    int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Make the next key file hold the new key (idF): copy F there unless it
 * already does. */
static int rekey_place_next(const struct config *cfg, uint32_t idF)
{
    uint32_t idN = 0;
    int rc = seal_key_file_id(cfg->next_key_file, &idN);

    if (rc == 0 && idN == idF)
        return 0;
    if (rc != 0 && rc != ERR_NOT_FOUND)
        log_warn("rekey", "%s is not a usable key file; replacing it", cfg->next_key_file);
    return rekey_copy_key(cfg->new_key_file, cfg->next_key_file);
}

/* The judgement of step 1 and the announcement (steps 2 and 3). Returns 0
 * with *finished set when the database already is under the new key (only
 * the files are left), 0 when the rotation is announced, or an err after
 * printing why. */
static int rekey_begin(struct rekey_ctx *c, uint32_t idF, int *finished)
{
    const struct config *cfg = c->cfg;
    struct app_key_state st;
    uint32_t idK = seal_key_id();
    int rc;

    *finished = 0;
    if ((rc = app_key_state(c->db, &st)))
        return rc;
    if (idF == idK) {
        fprintf(stderr, "atelier rekey: the new key (%08x) is the current key: nothing to do\n",
                (unsigned)idF);
        return ERR_CONFLICT;
    }
    if (st.next_id && st.next_id != idF) {
        fprintf(stderr,
                "atelier rekey: a rotation to key %08x is in progress; finish it first "
                "(atelier rekey --new-key-file with that key: it is in %s)\n",
                (unsigned)st.next_id, cfg->next_key_file);
        return ERR_CONFLICT;
    }
    if (!st.next_id && st.check_id == idF) { /* step 7 done, step 8 not */
        if ((rc = rekey_place_next(cfg, idF)))
            return rc;
        if ((rc = seal_load_next(cfg->new_key_file, idF, NULL)) ||
            (rc = app_key_state(c->db, &st)) || !st.check_opens) {
            fprintf(stderr, "atelier rekey: the new key does not open the key check\n");
            return rc ? rc : ERR_FORBIDDEN;
        }
        *finished = 1;
        return 0;
    }
    if (!st.check_id && !st.next_id) {
        if ((rc = app_key_check_store(c->db, APP_KEY_CHECK_NAME)))
            return rc;
        st.check_id = idK;
        st.check_opens = 1;
    }
    if (!st.check_opens) {
        fprintf(stderr,
                "atelier rekey: the current key (%08x) does not open this database's key "
                "check (%08x): start from the key the database is sealed with\n",
                (unsigned)idK, (unsigned)st.check_id);
        return ERR_FORBIDDEN;
    }
    if ((rc = rekey_place_next(cfg, idF)))
        return rc;
    if ((rc = seal_load_next(cfg->next_key_file, idF, NULL)))
        return rc < 0 ? rc : ERR_CONFLICT;
    if (st.next_id) {
        if ((rc = app_key_state(c->db, &st)) || !st.next_opens) {
            fprintf(stderr, "atelier rekey: the new key does not open the rotation's key check\n");
            return rc ? rc : ERR_FORBIDDEN;
        }
        fprintf(stderr, "atelier rekey: resuming the rotation to key %08x\n", (unsigned)idF);
        return 0;
    }
    if ((rc = db_begin(c->db)) == 0) {
        rc = app_key_check_store(c->db, APP_KEY_CHECK_NEXT_NAME);
        rc = rc ? (db_rollback(c->db), rc) : db_commit(c->db);
    }
    if (rc == 0)
        rekey_crash("announce");
    return rc;
}

static int rekey_run(struct rekey_ctx *c, uint32_t idF)
{
    int rc, finished = 0;

    if ((rc = rekey_begin(c, idF, &finished)))
        return rc;
    c->new_id = idF;
    uint32_t ids[SEAL_MAX_KEYS];
    c->old_id = seal_key_ids(ids) == 2 ? ids[1] : 0;
    for (int i = 0; i < 4; i++)
        c->id_bytes[i] = (uint8_t)(idF >> (24 - 8 * i));
    if (!finished) {
        if ((rc = rekey_reseal(c)))
            return rc;
        rekey_crash("final");
    }
    seal_retire();
    return rekey_swap_files(c->cfg);
}

int rekey_command(const struct config *cfg)
{
    struct rekey_ctx c = {.cfg = cfg, .crash_batches = rekey_crash_batches()};
    uint64_t t0 = clock_mono_ns();
    uint32_t idF = 0;
    int rc, lockfd;

    if (!cfg->new_key_file[0]) {
        fprintf(stderr, "atelier rekey: --new-key-file is required\n");
        return 2;
    }
    if ((rc = seal_key_file_id(cfg->new_key_file, &idF))) {
        fprintf(stderr, "atelier rekey: the new key file %s %s\n", cfg->new_key_file,
                rc == ERR_NOT_FOUND ? "does not exist"
                                    : "cannot be used (see above): it must be a regular file "
                                      "of exactly 32 bytes, mode 0600 or narrower");
        return 1;
    }
    mkdir(cfg->data_dir, 0700);
    if ((lockfd = rekey_lock_dir(cfg->data_dir)) < 0) {
        fprintf(stderr, "atelier rekey: another atelier rekey is running on %s\n", cfg->data_dir);
        return 1;
    }
    mail_configure(cfg);
    if ((rc = app_prepare(cfg, 0, &c.db))) {
        close(lockfd);
        return 1;
    }
    if (db_try_lock(c.db, REKEY_LOCK_KEY) != 1) {
        fprintf(stderr, "atelier rekey: another atelier rekey holds the database's lock\n");
        rc = ERR_CONFLICT;
    } else if (!(c.batch = calloc(cfg->rekey_batch, sizeof *c.batch))) {
        rc = ERR_NOMEM;
    } else {
        rc = rekey_run(&c, idF);
    }
    progress_end();
    if (rc == 0)
        fprintf(
            stderr, "atelier rekey: %lld values resealed under key %08x, %lld lookups, in %.1f s\n",
            (long long)c.resealed, (unsigned)c.new_id, (long long)c.lookups, progress_seconds(t0));
    if (rc == 0)
        printf("{\"key_id\":\"%08x\",\"old_key_id\":\"%08x\",\"resealed\":%lld,\"lookups\":%lld,"
               "\"skipped\":%lld,\"batches\":%ld,\"ms\":%.1f}\n",
               (unsigned)c.new_id, (unsigned)c.old_id, (long long)c.resealed, (long long)c.lookups,
               (long long)c.skipped, c.batches, (double)(clock_mono_ns() - t0) / 1e6);
    else if (rc != ERR_CONFLICT && rc != ERR_FORBIDDEN)
        fprintf(stderr,
                "atelier rekey: stopped (%s); the database serves under both keys: run "
                "the command again to finish\n",
                err_text(rc));
    free(c.batch);
    app_close(c.db);
    close(lockfd);
    return rc ? 1 : 0;
}

/* ---- the server's watch ---- */

static pthread_t watch_thread;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static int watch_running;
static const struct config *watch_cfg;
static int64_t watch_complained_ms; /* the last error logged, once a minute */

/* Log why this server refuses writes, at most once a minute: the announced
 * key cannot be loaded (ended 0), or the rotation ended without it (1). */
static void rekey_watch_complain(int ended, uint32_t id)
{
    int64_t now = (int64_t)(clock_mono_ns() / 1000000u);

    if (watch_complained_ms && now - watch_complained_ms < 60000)
        return;
    watch_complained_ms = now;
    if (ended)
        log_error("rekey",
                  "the database is now sealed under key %08x, which this server does not have: "
                  "restart it with that key (see %s); writes are refused meanwhile",
                  (unsigned)id, watch_cfg->next_key_file);
    else
        log_error("rekey",
                  "key rotation to %08x announced, but its key is not in %s (mode 0600): this "
                  "server refuses writes (503) until it is",
                  (unsigned)id, watch_cfg->next_key_file);
}

/* One look at the database's key checks. */
static void rekey_watch_once(struct db *db)
{
    uint32_t check = 0, next = 0, ids[SEAL_MAX_KEYS];
    int nk = seal_key_ids(ids);

    if (app_key_ids(db, &check, &next))
        return; /* storage down: the requests say so */
    if (next && next != ids[0]) {
        int rc = seal_load_next(watch_cfg->next_key_file, next, NULL);
        if (rc == 0) {
            log_info("rekey", "key rotation to %08x: sealing under it now, opening under %08x too",
                     (unsigned)next, (unsigned)ids[0]);
            watch_complained_ms = 0;
        } else {
            seal_hold_writes(1);
            rekey_watch_complain(0, next);
        }
    } else if (!next && check == ids[0] && nk == 2) {
        seal_retire();
        log_info("rekey", "key rotation to %08x finished: the old key %08x is forgotten",
                 (unsigned)ids[0], (unsigned)ids[1]);
    } else if (!next && check && check != ids[0] && !(nk == 2 && check == ids[1])) {
        seal_hold_writes(1);
        rekey_watch_complain(1, check);
    }
}

static void *rekey_watch_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&watch_lock);
    while (watch_running) {
        pthread_mutex_unlock(&watch_lock);
        struct db *db = db_thread();
        if (db)
            rekey_watch_once(db);
        pthread_mutex_lock(&watch_lock);
        if (!watch_running)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(LIMIT_REKEY_POLL_MS % 1000) * 1000000L;
        ts.tv_sec += LIMIT_REKEY_POLL_MS / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&watch_cond, &watch_lock, &ts);
    }
    pthread_mutex_unlock(&watch_lock);
    db_thread_close();
    return NULL;
}

int rekey_watch_start(const struct config *cfg)
{
    watch_cfg = cfg;
    watch_running = 1;
    if (pthread_create(&watch_thread, NULL, rekey_watch_main, NULL) != 0) {
        watch_running = 0;
        return ERR_INTERNAL;
    }
    return 0;
}

void rekey_watch_stop(void)
{
    pthread_mutex_lock(&watch_lock);
    if (!watch_running) {
        pthread_mutex_unlock(&watch_lock);
        return;
    }
    watch_running = 0;
    pthread_cond_signal(&watch_cond);
    pthread_mutex_unlock(&watch_lock);
    pthread_join(watch_thread, NULL);
}
