/*
 * app.c - the shared start-up sequence of app.h.
 *
 * Invariant: no command reads or writes personal data unless the loaded key
 * opens the key check stored in the database. The first start stores it;
 * every later start with another key refuses, before serving anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/app.h"
#include "base/config.h"
#include "store/db.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/util.h"
#include "cli/upgrade.h"

#define APP_KEY_CHECK      "atelier key check v1"
#define APP_KEY_CHECK_NAME "key_check"

static int app_mkdir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    log_error("app", "cannot create directory %s: %s", path, strerror(errno));
    return ERR_UNAVAILABLE;
}

static int app_store_key_check(struct db *db)
{
    uint8_t *box = NULL;
    size_t boxn = 0;
    int rc = seal_field("meta.value", APP_KEY_CHECK_NAME, APP_KEY_CHECK, strlen(APP_KEY_CHECK),
                        &box, &boxn);

    if (rc)
        return rc;
    struct db_param p[] = {DB_TEXT(APP_KEY_CHECK_NAME), DB_BLOB(box, boxn)};
    rc = db_query(db, STMT_META_PUT, p, 2, NULL);
    free(box);
    return rc;
}

/* Open the stored key check with the loaded key; store it on first start. */
static int app_verify_key(struct db *db)
{
    struct db_param p[] = {DB_TEXT(APP_KEY_CHECK_NAME)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_META_GET, p, 1, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    if (rc == 0) {
        db_rows_free(rows);
        return app_store_key_check(db);
    }
    if (rc < 0) {
        db_rows_free(rows);
        return rc;
    }
    size_t n = 0;
    const uint8_t *box = db_col_blob(rows, 0, &n);
    uint8_t *pt = NULL;
    size_t ptn = 0;
    rc = seal_open_field("meta.value", APP_KEY_CHECK_NAME, box, n, &pt, &ptn);
    db_rows_free(rows);
    if (rc) {
        log_error("app",
                  "the server key (id %08x) is not the key this database was sealed "
                  "with; refusing to start",
                  seal_key_id());
        return ERR_FORBIDDEN;
    }
    seal_free(pt, ptn);
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

int app_open(const struct config *cfg, int create_key, struct db **out)
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
    if ((rc = app_verify_key(db)))
        goto fail;
    *out = db;
    return 0;
fail:
    if (db)
        db_close(db);
    seal_shutdown();
    return rc ? rc : ERR_INTERNAL;
}

void app_close(struct db *db)
{
    if (db)
        db_close(db);
    seal_shutdown();
}
