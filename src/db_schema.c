/*
 * db_schema.c - the database schema as a list of versioned migrations.
 *
 * Invariants:
 *  - Versions are positive and strictly increasing; a migration, once
 *    released, is never edited: change the schema by appending a new one.
 *  - db_migrate applies each pending migration in its own transaction, so a
 *    migration must not contain BEGIN/COMMIT or statements PostgreSQL refuses
 *    inside a transaction (CREATE INDEX CONCURRENTLY, VACUUM).
 *  - Column types are only INTEGER/TEXT/BLOB on SQLite (tables are STRICT)
 *    and BIGINT/TEXT/BYTEA on PostgreSQL, so both backends store the same
 *    values: 64-bit integers (booleans 0/1, times Unix seconds), UTF-8 text,
 *    blobs.
 *  - schema_migrations itself is not a migration: db_migrate creates it
 *    (IF NOT EXISTS) before reading the current version.
 */
#include "db_schema.h"

const struct db_migration db_migrations[] = {
    {
        .version = 1,
        .sqlite_sql = "CREATE TABLE meta (\n"
                      "  key TEXT PRIMARY KEY,\n"
                      "  value BLOB NOT NULL\n"
                      ") STRICT;\n",
        .pg_sql = "CREATE TABLE meta (\n"
                  "  key TEXT PRIMARY KEY,\n"
                  "  value BYTEA NOT NULL\n"
                  ");\n",
    },
};

const size_t db_migrations_count = sizeof db_migrations / sizeof db_migrations[0];

const char *db_migration_sql(const struct db_migration *m, enum db_backend b)
{
    return b == DB_POSTGRES ? m->pg_sql : m->sqlite_sql;
}

const char *db_schema_bootstrap_sql(enum db_backend b)
{
    if (b == DB_POSTGRES)
        return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
               "  version BIGINT PRIMARY KEY,\n"
               "  applied_at BIGINT NOT NULL\n"
               ");\n";
    return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
           "  version INTEGER PRIMARY KEY,\n"
           "  applied_at INTEGER NOT NULL\n"
           ") STRICT;\n";
}
