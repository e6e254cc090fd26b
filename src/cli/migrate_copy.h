/*
 * migrate_copy.h - `atelier migrate --from sqlite:PATH --to URL`: copy a
 * whole site into an empty database (docs/DEPLOY.md).
 */
#ifndef ATELIER_MIGRATE_COPY_H
#define ATELIER_MIGRATE_COPY_H

#include <stdio.h>

/* Copy every table of store/copy_tables.h from the SQLite database `from`
 * ("sqlite:PATH", PATH the database file or a data directory holding
 * atelier.db) into `to` (a PostgreSQL URL or "sqlite:PATH"), which must be
 * empty: no table at all (its schema is then created), or this program's
 * schema with every copied table empty. One transaction on the target; the
 * counts are compared before it commits. A summary line goes to out,
 * reasons for a refusal to stderr. Returns 0, 1 (failed or refused: the
 * target is unchanged, apart from a schema created in a fresh one) or 2
 * (usage). */
int migrate_copy(const char *from, const char *to, FILE *out);

#endif
