/*
 * app.c - the shared start-up sequence of app.h.
 *
 * Invariant: no command reads or writes personal data unless the loaded key
 * opens the key check stored in the database. The first start stores it;
 * every later start with another key refuses, before serving anything.
 *
 * Key rotation (cli/rekey.c): while meta holds a second key check
 * (key_check_next, sealed under the new key), a rotation is in progress.
 * Every command then also loads the new key from the next key file
 * (--next-key-file, default <key file>.next) and seals under it, and both
 * key checks must open; the key check itself moves to the new key last.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/app.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/sealed.h"
#include "base/util.h"
#include "cli/upgrade.h"

#define APP_KEY_CHECK "atelier key check v1"

static int app_mkdir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    log_error("app", "cannot create directory %s: %s", path, strerror(errno));
    return ERR_UNAVAILABLE;
}

int app_key_check_store(struct db *db, const char *name)
{
    uint8_t *box = NULL;
    size_t boxn = 0;
    int rc =
        seal_field(SEALED_KEY_CHECK_LABEL, name, APP_KEY_CHECK, strlen(APP_KEY_CHECK), &box, &boxn);

    if (rc)
        return rc;
    struct db_param p[] = {DB_TEXT(name), DB_BLOB(box, boxn)};
    rc = db_query(db, STMT_META_PUT, p, 2, NULL);
    free(box);
    return rc;
}

/* Read the key check row name: its key id into *id (0: no such row) and, when
 * opens is not NULL, whether it opens under a loaded key. */
static int app_key_check_read(struct db *db, const char *name, uint32_t *id, int *opens)
{
    struct db_param p[] = {DB_TEXT(name)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_META_GET, p, 1, &rows);

    *id = 0;
    if (opens)
        *opens = 0;
    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 1) {
        size_t n = 0;
        const uint8_t *box = db_col_blob(rows, 0, &n);
        uint8_t *pt = NULL;
        size_t ptn = 0;
        *id = seal_box_key_id(box, n);
        if (*id == 0)
            *id = 1; /* a row is there, malformed: it opens under no key */
        if (opens && seal_open_field(SEALED_KEY_CHECK_LABEL, name, box, n, &pt, &ptn) == 0) {
            *opens = ptn == strlen(APP_KEY_CHECK) && memcmp(pt, APP_KEY_CHECK, ptn) == 0;
            seal_free(pt, ptn);
        }
        rc = 0;
    }
    db_rows_free(rows);
    return rc;
}

int app_key_ids(struct db *db, uint32_t *check_id, uint32_t *next_id)
{
    int rc = app_key_check_read(db, APP_KEY_CHECK_NAME, check_id, NULL);

    return rc ? rc : app_key_check_read(db, APP_KEY_CHECK_NEXT_NAME, next_id, NULL);
}

int app_key_state(struct db *db, struct app_key_state *st)
{
    int rc;

    memset(st, 0, sizeof *st);
    if ((rc = app_key_check_read(db, APP_KEY_CHECK_NAME, &st->check_id, &st->check_opens)))
        return rc;
    return app_key_check_read(db, APP_KEY_CHECK_NEXT_NAME, &st->next_id, &st->next_opens);
}

/* The key check of a database that holds none yet is stored; one that holds
 * one must open under the loaded key. */
static int app_verify_key(struct db *db)
{
    struct app_key_state st;
    int rc = app_key_state(db, &st);

    if (rc)
        return rc;
    if (!st.check_id && !st.next_id)
        return app_key_check_store(db, APP_KEY_CHECK_NAME);
    if (st.check_opens)
        return 0;
    log_error("app",
              "the server key (id %08x) is not the key this database was sealed "
              "with; refusing to start",
              seal_key_id());
    return ERR_FORBIDDEN;
}

/* Explain why the loaded key does not open the database's key check: when
 * the next key file holds the database's key, a rotation has ended and that
 * file is the key now. */
static void app_wrong_key(const struct config *cfg, const struct app_key_state *st)
{
    uint32_t next = 0;

    if (seal_load_next(cfg->next_key_file, st->check_id, &next) == 0 && next == st->check_id) {
        log_error("app",
                  "the database was rotated to key %08x (atelier rekey), which is in %s, but "
                  "the server key is %08x: make %s the key file (atelier rekey --new-key-file %s "
                  "does it) or set ATELIER_KEY to it; refusing to start",
                  (unsigned)st->check_id, cfg->next_key_file, (unsigned)seal_key_id(),
                  cfg->next_key_file, cfg->next_key_file);
        return;
    }
    log_error("app",
              "the server key (id %08x) is not the key this database was sealed "
              "with (%08x); refusing to start",
              (unsigned)seal_key_id(), (unsigned)st->check_id);
}

int app_keys(struct db *db, const struct config *cfg)
{
    struct app_key_state st;
    int rc = app_key_state(db, &st);

    if (rc)
        return rc;
    if (!st.check_id && !st.next_id)
        return app_key_check_store(db, APP_KEY_CHECK_NAME);
    if (st.next_id && !st.next_opens) {
        /* A rotation is in progress: its new key seals from now on. */
        rc = seal_load_next(cfg->next_key_file, st.next_id, NULL);
        if (rc == 1)
            log_error("app",
                      "a key rotation to key %08x is in progress (atelier rekey) and the server "
                      "key is already that key: the old key is needed until the rotation ends; "
                      "start with the old key and the new one in %s",
                      (unsigned)st.next_id, cfg->next_key_file);
        else if (rc)
            log_error("app",
                      "a key rotation to key %08x is in progress (atelier rekey): that key must "
                      "be in %s (--next-key-file), mode 0600; refusing to start",
                      (unsigned)st.next_id, cfg->next_key_file);
        if (rc)
            return ERR_FORBIDDEN;
        if ((rc = app_key_state(db, &st)))
            return rc;
        if (!st.next_opens) {
            log_error("app", "the key in %s does not open the rotation's key check",
                      cfg->next_key_file);
            return ERR_FORBIDDEN;
        }
        log_info("app",
                 "key rotation to %08x in progress: sealing under it, opening under %08x too",
                 (unsigned)st.next_id, (unsigned)st.check_id);
    }
    if (!st.check_opens) {
        app_wrong_key(cfg, &st);
        return ERR_FORBIDDEN;
    }
    return 0;
}

/* The migration runner's hook (db_set_upgrade): before the migration that
 * drops the clear columns, prove the key (a value sealed under the wrong
 * key would never open again), then seal what is still clear. */
static int app_upgrade(struct db *db, int64_t version)
{
    int rc;

    if (version != UPGRADE_SEAL_VERSION)
        return 0;
    if ((rc = app_verify_key(db)))
        return rc;
    return upgrade_seal_clear(db);
}

int app_prepare(const struct config *cfg, int create_key, struct db **out)
{
    char key_path[PATH_MAX + 16];
    struct db *db = NULL;
    int rc, applied = 0;

    *out = NULL;
    if ((rc = app_mkdir(cfg->data_dir)))
        return rc;
    if (cfg->key_file[0])
        util_strlcpy(key_path, cfg->key_file, sizeof key_path);
    else
        snprintf(key_path, sizeof key_path, "%s/secret.key", cfg->data_dir);
    if ((rc = seal_init(cfg->key_hex, key_path, create_key)))
        return rc;
    if ((rc = db_configure(cfg->database, cfg->data_dir)))
        goto fail;
    db_set_upgrade(app_upgrade);
    if ((rc = db_open(&db)) || (rc = db_migrate(db, &applied))) {
        log_error("app", "cannot open or migrate the database");
        goto fail;
    }
    if (applied)
        log_info("app", "applied %d migration(s); schema version %d", applied,
                 db_schema_version(db));
    *out = db;
    return 0;
fail:
    if (db)
        db_close(db);
    seal_shutdown();
    return rc ? rc : ERR_INTERNAL;
}

int app_open(const struct config *cfg, int create_key, struct db **out)
{
    int rc = app_prepare(cfg, create_key, out);

    if (rc == 0 && (rc = app_keys(*out, cfg))) {
        app_close(*out);
        *out = NULL;
    }
    return rc;
}

void app_close(struct db *db)
{
    if (db)
        db_close(db);
    seal_shutdown();
}

int app_lock_file(const char *data_dir, const char *name)
{
    char path[PATH_MAX];
    int fd;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", data_dir, name) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -2;
    }
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return e == EWOULDBLOCK ? -1 : -2;
    }
    return fd;
}
