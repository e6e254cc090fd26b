/*
 * db_stmts.h - names of every prepared statement. The SQL text is in
 * db_stmts.c, in the same order. Add a name here and its SQL there.
 */
#ifndef ATELIER_DB_STMTS_H
#define ATELIER_DB_STMTS_H

enum stmt {
    STMT_PING,            /* SELECT 1 */
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SCHEMA_VERSION,  /* -> version */
    STMT_SCHEMA_RECORD,   /* $1 version, $2 applied_at */
    STMT_META_GET,        /* $1 key -> value */
    STMT_META_PUT,        /* $1 key, $2 value (upsert) */
    STMT_MIGRATE_LOCK,    /* $1 key: PG pg_advisory_xact_lock; SQLite no-op */
    STMT_SCHEMA_LIST,     /* -> version, applied_at, ascending */
    STMT_SQLITE_PRAGMAS,  /* SQLite only -> secure_delete, synchronous,
                             journal_mode, foreign_keys, busy_timeout, temp_store */
    STMT__COUNT
};

#endif
