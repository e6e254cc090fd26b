/*
 * test_copy_tables.c - the registry of copied tables (store/copy_tables.h)
 * against the schema the migrations build (SQLite, in a fresh temporary
 * directory), so that `atelier migrate --from --to` copies everything:
 *   - every table but schema_migrations is listed, and every listed table
 *     exists;
 *   - each entry's columns are exactly its table's (accounts.retired_username
 *     apart, SQLite's own: the entry's SQLite extra), each with the type its
 *     letter says, and as many $N values as columns;
 *   - a table is listed after every table it references;
 *   - migrate_copy of that (empty) site into a fresh SQLite file succeeds
 *     and a copy into a target holding a row is refused.
 * The copy of a real site, into PostgreSQL too, is tests/api/test_952_*.py.
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

#include <sqlite3.h>

#include "cli/migrate_copy.h"
#include "store/copy_tables.h"
#include "store/db.h"
#include "support/test_store.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

struct entry {
    const char *table, *cols, *vals, *types, *sqlite_cols;
};

#define ENTRY_X(name, table, cols, vals, types, sqlite_cols, sqlite_vals)                          \
    {table, cols, vals, types, sqlite_cols},
static const struct entry entries[] = {COPY_TABLES(ENTRY_X)};
#define NENTRIES (sizeof entries / sizeof entries[0])

static char dir[PATH_MAX];
static struct db *store;
static sqlite3 *con;

static int setup(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];

    if (test_store_open("copy", KEY_HEX, dir, &store))
        return -1;
    snprintf(path, sizeof path, "%s/atelier.db", dir);
    return sqlite3_open_v2(path, &con, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sqlite3_close(con);
    return test_store_close(store, dir);
}

static int entry_index(const char *table)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(entries[i].table, table) == 0)
            return (int)i;
    return -1;
}

/* Is name one of the comma-separated names of list, and at which place? */
static int list_index(const char *list, const char *name)
{
    size_t n = strlen(name);
    int i = 0;

    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
            return i;
        i++;
        p = e;
    }
    return -1;
}

static int list_count(const char *list)
{
    int n = 0;

    for (const char *p = list; *p; p++)
        n += *p == ',';
    return *list ? n + 1 : 0;
}

static char type_letter(const char *type)
{
    return strcmp(type, "INTEGER") == 0 ? 'I'
           : strcmp(type, "TEXT") == 0  ? 'T'
           : strcmp(type, "BLOB") == 0  ? 'B'
                                        : '?';
}

/* Every table listed, columns and types exactly. */
static void test_schema_matches_registry(void **state)
{
    (void)state;
    sqlite3_stmt *tables = NULL;
    int seen[NENTRIES] = {0}, bad = 0;

    assert_int_equal(sqlite3_prepare_v2(con,
                                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                                        " AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(tables, 0);
        char sql[256];
        sqlite3_stmt *cols = NULL;
        int e = entry_index(t), ncols = 0;
        if (strcmp(t, "schema_migrations") == 0)
            continue;
        if (e < 0) {
            fprintf(stderr, "table %s is not in store/copy_tables.h\n", t);
            bad++;
            continue;
        }
        seen[e] = 1;
        snprintf(sql, sizeof sql, "SELECT name, type FROM pragma_table_info('%s')", t);
        assert_int_equal(sqlite3_prepare_v2(con, sql, -1, &cols, NULL), SQLITE_OK);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(cols, 0);
            const char *type = (const char *)sqlite3_column_text(cols, 1);
            int at = list_index(entries[e].cols, c);
            if (at < 0 && list_index(entries[e].sqlite_cols, c) >= 0)
                continue;
            if (at < 0 || entries[e].types[at] != type_letter(type)) {
                fprintf(stderr, "%s.%s (%s) is not listed with its type\n", t, c, type);
                bad++;
                continue;
            }
            ncols++;
        }
        sqlite3_finalize(cols);
        if (ncols != list_count(entries[e].cols) || (size_t)ncols != strlen(entries[e].types) ||
            ncols != list_count(entries[e].vals)) {
            fprintf(stderr, "%s: %d columns, %d listed, %zu types, %d values\n", t, ncols,
                    list_count(entries[e].cols), strlen(entries[e].types),
                    list_count(entries[e].vals));
            bad++;
        }
    }
    sqlite3_finalize(tables);
    for (size_t i = 0; i < NENTRIES; i++)
        if (!seen[i]) {
            fprintf(stderr, "%s is listed but not in the schema\n", entries[i].table);
            bad++;
        }
    assert_int_equal(bad, 0);
}

/* Each table after the tables it references (foreign keys). */
static void test_dependency_order(void **state)
{
    (void)state;
    int bad = 0;

    for (size_t i = 0; i < NENTRIES; i++) {
        char sql[256];
        sqlite3_stmt *fks = NULL;
        snprintf(sql, sizeof sql, "SELECT \"table\" FROM pragma_foreign_key_list('%s')",
                 entries[i].table);
        assert_int_equal(sqlite3_prepare_v2(con, sql, -1, &fks, NULL), SQLITE_OK);
        while (sqlite3_step(fks) == SQLITE_ROW) {
            const char *ref = (const char *)sqlite3_column_text(fks, 0);
            int at = entry_index(ref);
            if (at < 0 || (size_t)at >= i) {
                fprintf(stderr, "%s references %s, listed after it\n", entries[i].table, ref);
                bad++;
            }
        }
        sqlite3_finalize(fks);
    }
    assert_int_equal(bad, 0);
}

/* The copier on an empty site: a fresh target works, a target with a row
 * is refused (and keeps its one row). */
static void test_copy_refuses_non_empty(void **state)
{
    (void)state;
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    FILE *out = tmpfile();
    struct db *db = NULL;
    struct db_param p[2];
    struct db_rows *r = NULL;

    assert_non_null(out);
    snprintf(from, sizeof from, "sqlite:%s", dir);
    snprintf(to, sizeof to, "sqlite:%s/t.db", dir);
    assert_int_equal(migrate_copy(from, to, out), 0);
    assert_int_equal(migrate_copy(from, from, out), 2); /* the source itself */
    assert_int_equal(db_open_url(to, &db), ERR_OK);
    p[0] = DB_TEXT("copy-test");
    p[1] = DB_BLOB("x", 1);
    assert_int_equal(db_exec(db, STMT_META_PUT, p, 2), 1);
    assert_int_equal(migrate_copy(from, to, out), 1);
    assert_int_equal(db_query(db, STMT_COPY_COUNT_META, NULL, 0, &r), ERR_OK);
    assert_int_equal(db_next(r), 1);
    assert_int_equal(db_col_int(r, 0), 1);
    db_rows_free(r);
    db_close(db);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_matches_registry),
        cmocka_unit_test(test_dependency_order),
        cmocka_unit_test(test_copy_refuses_non_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
