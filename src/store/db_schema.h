/*
 * db_schema.h - the schema migrations, internal to the storage layer
 * (db.c runs them; db_schema.c lists them).
 */
#ifndef ATELIER_DB_SCHEMA_H
#define ATELIER_DB_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include "store/db.h"

struct db_migration {
    int64_t version;        /* > 0, strictly increasing through the list */
    const char *sqlite_sql; /* one or more statements, no BEGIN/COMMIT */
    const char *pg_sql;
};

/* The migrations in ascending version order, and how many there are. */
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

/* The migration's SQL for backend b. */
const char *db_migration_sql(const struct db_migration *m, enum db_backend b);

/* DDL creating schema_migrations if missing, run by db_migrate first. */
const char *db_schema_bootstrap_sql(enum db_backend b);

#endif
