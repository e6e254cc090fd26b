/*
 * export.h - the export of an account (export.c, docs/EXPORT.md).
 */
#ifndef ATELIER_PRIVACY_EXPORT_H
#define ATELIER_PRIVACY_EXPORT_H

#include <jansson.h>

struct db;

/* Everything stored about account id as one JSON document (*out, owned by
 * the caller); current_session marks the session that asked. 0,
 * ERR_NOT_FOUND, ERR_UNAVAILABLE (db NULL) or a storage error. */
int export_account(struct db *db, const char *id, const char *current_session, json_t **out);

#endif
