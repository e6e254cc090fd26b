/*
 * db_stmts.c - the SQL text of every prepared statement, once.
 *
 * Invariants:
 *  - The table is indexed by enum stmt (designated initialisers) and has
 *    exactly STMT__COUNT entries (checked at compile time); every entry has
 *    SQL (checked by tests/unit/test_db.c).
 *  - SQL is written with PostgreSQL's $1..$N placeholders. The SQLite driver
 *    rewrites them to ?1..?N, so a number may appear in any order or twice.
 *  - .pg is NULL when the common SQL is valid on both backends, the override
 *    otherwise, or PG_NONE for a statement that exists only on SQLite.
 *  - Only types both backends handle identically: 64-bit integers, UTF-8
 *    text, blobs. On PostgreSQL, casting results to bigint keeps db_col_int
 *    working (it decodes int2/int4/int8/bool only).
 *
 * To add a statement: name it in db_stmts.h, add its line here.
 */
#include <stddef.h>

#include "db.h"

/* Marker: this statement does not exist on PostgreSQL. */
static const char PG_NONE[] = "";

struct stmt_sql {
    const char *sql; /* common SQL (SQLite dialect when .pg is set) */
    const char *pg;  /* PostgreSQL override, NULL or PG_NONE */
};

static const struct stmt_sql stmt_table[] = {
    [STMT_PING] = {"SELECT 1", NULL},
    [STMT_BEGIN] = {"BEGIN IMMEDIATE", "BEGIN"},
    [STMT_COMMIT] = {"COMMIT", NULL},
    [STMT_ROLLBACK] = {"ROLLBACK", NULL},
    [STMT_SCHEMA_VERSION] = {"SELECT coalesce(max(version), 0) FROM schema_migrations", NULL},
    [STMT_SCHEMA_RECORD] = {"INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                            NULL},
    [STMT_META_GET] = {"SELECT value FROM meta WHERE key = $1", NULL},
    [STMT_META_PUT] = {"INSERT INTO meta (key, value) VALUES ($1, $2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       NULL},
    /* BEGIN IMMEDIATE already serialises writers on SQLite. */
    [STMT_MIGRATE_LOCK] = {"SELECT $1", "SELECT pg_advisory_xact_lock($1)"},
    [STMT_SCHEMA_LIST] = {"SELECT version, applied_at FROM schema_migrations ORDER BY version",
                          NULL},
    [STMT_SQLITE_PRAGMAS] = {"SELECT (SELECT secure_delete FROM pragma_secure_delete),"
                             " (SELECT synchronous FROM pragma_synchronous),"
                             " (SELECT journal_mode FROM pragma_journal_mode),"
                             " (SELECT foreign_keys FROM pragma_foreign_keys),"
                             " (SELECT timeout FROM pragma_busy_timeout),"
                             " (SELECT temp_store FROM pragma_temp_store)",
                             PG_NONE},
};

_Static_assert(sizeof stmt_table / sizeof stmt_table[0] == STMT__COUNT,
               "stmt_table must have one entry per enum stmt");

/* SQL of statement id for backend b; NULL when id is out of range, has no
 * SQL, or does not exist on that backend. */
const char *db_stmt_sql(enum stmt id, enum db_backend b)
{
    const struct stmt_sql *s;

    if ((unsigned)id >= STMT__COUNT)
        return NULL;
    s = &stmt_table[id];
    if (b == DB_POSTGRES && s->pg != NULL)
        return s->pg == PG_NONE ? NULL : s->pg;
    return s->sql;
}
