/*
 * test_store.c - see test_store.h. Invariant: the directory made by
 * test_store_open is the only one test_store_close removes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/seal.h"
#include "store/db.h"
#include "test_store.h"

int test_store_open(const char *tag, const char *key_hex, char dir[PATH_MAX], struct db **db)
{
    const char *base = getenv("ATELIER_TEST_TMP");
    int applied = 0;

    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(dir, PATH_MAX, "%s/%s-XXXXXX", base, tag);
    if (!mkdtemp(dir))
        return -1;
    if (seal_init(key_hex, "", 0) || db_configure("", dir) || db_open(db) ||
        db_migrate(*db, &applied))
        return -1;
    return 0;
}

int test_store_close(struct db *db, const char *dir)
{
    char cmd[PATH_MAX + 16];

    db_close(db);
    seal_shutdown();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}
