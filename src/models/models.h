/*
 * models.h - what other modules need of the models (handlers_models.c):
 * the export of an account's models, and the export form of a sealed image.
 */
#ifndef ATELIER_MODELS_H
#define ATELIER_MODELS_H

#include <jansson.h>
#include <stddef.h>

struct db;

/* Append every model of owner, as the API shows it plus "avatar" ({content_type,
 * data_base64} or null), to the array out. Returns 0 or a negative err. */
int models_export(struct db *db, const char *owner, json_t *out);

/* {content_type, data_base64} of a sealed image bound to table_column:row,
 * or JSON null when it does not open. */
json_t *models_image_json(const char *table_column, const char *row, const char *type,
                          const void *box, size_t n);

/* The owner's model id as drafting input: its name (malloc'd, caller frees),
 * breasts flag and measurements. Returns 0, ERR_NOT_FOUND (also for other
 * people's models) or another err. */
int models_get(struct db *db, const char *id, const char *owner, char **name, int *breasts,
               json_t **measurements);

#endif
