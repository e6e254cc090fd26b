/*
 * test_sealed.c - the registry of sealed columns (base/sealed.h) against the
 * schema the migrations build (SQLite, in a fresh temporary directory):
 *   - every column named *_sealed is registered, and every registered column
 *     exists (so `atelier rekey` reseals exactly what the schema seals);
 *   - each entry's key is its table's one-column primary key, of the type its
 *     kind says (TEXT, or BLOB shown in hex), and each lookup column exists;
 *   - each label fits the associated data (POLICY_AD_COLUMN) and seal_field
 *     accepts it.
 * The generated statements themselves run in tests/api/test_890_rekey*.py on
 * both backends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/err.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/sealed.h"
#include "store/db.h"

struct entry {
    const char *table, *key, *column, *label, *lookup;
    enum sealed_key kind;
};

#define ENTRY_X(name, table, key, kind, field)                                                     \
    {table, key, field "_sealed", table "." field, NULL, kind},
#define ENTRY_L(name, table, key, kind, field, lookup)                                             \
    {table, key, field "_sealed", table "." field, lookup "_lookup", kind},
static const struct entry entries[] = {SEALED_COLUMNS(ENTRY_X, ENTRY_L)};
#define NENTRIES (sizeof entries / sizeof entries[0])

static char dir[PATH_MAX];
static sqlite3 *con;

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("ATELIER_TEST_TMP");
    char path[PATH_MAX + 16];
    struct db *db = NULL;
    int applied = 0;

    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(dir, sizeof dir, "%s/sealed-XXXXXX", base);
    if (!mkdtemp(dir) || db_configure("", dir) || db_open(&db) || db_migrate(db, &applied))
        return -1;
    db_close(db);
    snprintf(path, sizeof path, "%s/atelier.db", dir);
    return sqlite3_open_v2(path, &con, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"atelier.db", "atelier.db-wal", "atelier.db-shm"};
    char path[PATH_MAX + 32];

    sqlite3_close(con);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static const struct entry *registered(const char *table, const char *column)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(entries[i].table, table) == 0 && strcmp(entries[i].column, column) == 0)
            return &entries[i];
    return NULL;
}

/* Every *_sealed column of the schema is registered, and the other way. */
static void test_schema_matches_registry(void **state)
{
    (void)state;
    sqlite3_stmt *tables = NULL;
    int seen[NENTRIES] = {0}, missing = 0;

    assert_int_equal(sqlite3_prepare_v2(con,
                                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                                        " AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(tables, 0);
        char sql[256];
        sqlite3_stmt *cols = NULL;
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", t);
        assert_int_equal(sqlite3_prepare_v2(con, sql, -1, &cols, NULL), SQLITE_OK);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(cols, 0);
            size_t n = strlen(c);
            if (n < 7 || strcmp(c + n - 7, "_sealed") != 0)
                continue;
            const struct entry *e = registered(t, c);
            if (!e) {
                fprintf(stderr, "%s.%s is sealed but not in base/sealed.h\n", t, c);
                missing++;
                continue;
            }
            seen[e - entries] = 1;
        }
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(tables);
    assert_int_equal(missing, 0);
    for (size_t i = 0; i < NENTRIES; i++) {
        if (!seen[i])
            fprintf(stderr, "%s.%s is registered but not in the schema\n", entries[i].table,
                    entries[i].column);
        assert_true(seen[i]);
    }
}

/* Each entry's key is the primary key, of its kind's type; lookups exist. */
static void test_keys_and_lookups(void **state)
{
    (void)state;
    for (size_t i = 0; i < NENTRIES; i++) {
        const struct entry *e = &entries[i];
        char sql[256];
        sqlite3_stmt *cols = NULL;
        int pks = 0, key_ok = 0, lookup_ok = e->lookup == NULL;
        snprintf(sql, sizeof sql, "SELECT name, type, pk FROM pragma_table_info('%s')", e->table);
        assert_int_equal(sqlite3_prepare_v2(con, sql, -1, &cols, NULL), SQLITE_OK);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(cols, 0);
            const char *type = (const char *)sqlite3_column_text(cols, 1);
            if (sqlite3_column_int(cols, 2) > 0) {
                pks++;
                key_ok = strcmp(c, e->key) == 0 &&
                         strcmp(type, e->kind == SEALED_KEY_HEX ? "BLOB" : "TEXT") == 0;
            }
            if (e->lookup && strcmp(c, e->lookup) == 0)
                lookup_ok = 1;
        }
        sqlite3_finalize(cols);
        if (pks != 1 || !key_ok || !lookup_ok)
            fprintf(stderr, "%s: key %s (%d primary key columns), lookup %s\n", e->label, e->key,
                    pks, e->lookup ? e->lookup : "-");
        assert_int_equal(pks, 1);
        assert_true(key_ok);
        assert_true(lookup_ok);
        assert_true(strlen(e->label) < POLICY_AD_COLUMN);
        assert_true(seal_registered(e->label));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_matches_registry),
        cmocka_unit_test(test_keys_and_lookups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
