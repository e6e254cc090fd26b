/*
 * saved.h - the saved-pattern service (saved.c): an account's saved
 * patterns (a design, its options and a sealed snapshot of the model it was
 * drafted for), in storage and as the API and the export show them.
 */
#ifndef ATELIER_SAVED_H
#define ATELIER_SAVED_H

#include <jansson.h>
#include <stdint.h>

#include "base/policy.h"

struct db;
struct model;

struct saved_pattern {
    char id[POLICY_ID_BUF];
    char model_id[POLICY_ID_BUF];
    char *design;     /* a design name (atelier/draft.h) */
    char *name;       /* 1..LIMIT_MODEL_NAME_MAX characters */
    char *notes;      /* NULL: none */
    json_t *options;  /* object: option name -> number or choice (atelier/draft.h) */
    json_t *snapshot; /* {"breasts":bool,"measurements":{...},"model_name":"..."}; NULL
                         when loaded for a list */
    int64_t snapshot_at, created_at, updated_at;
};

/* Free what p holds and zero it. */
void saved_release(struct saved_pattern *p);

/* The snapshot of model m as it is now: its name, breasts flag and
 * measurements (a new object; NULL when out of memory). */
json_t *saved_snapshot_of(struct model *m);

/* Load owner's saved pattern id into p. 0, ERR_NOT_FOUND (also for other
 * people's patterns) or another err. */
int saved_load(struct db *db, const char *id, const char *owner, struct saved_pattern *p);

/* Store the new pattern p (p->id set by the caller; its snapshot taken by the
 * caller from owner's model p->model_id) in one transaction under the
 * account's lock. ERR_CONFLICT when owner already holds
 * LIMIT_PATTERNS_PER_ACCOUNT patterns; ERR_NOT_FOUND when the model is no
 * longer owner's (deleted meanwhile). */
int saved_insert(struct db *db, const char *owner, struct saved_pattern *p);

/* Store name, notes and options of owner's pattern p. 0 or ERR_NOT_FOUND. */
int saved_update(struct db *db, const char *owner, struct saved_pattern *p);

/* Store p->snapshot (taken now) for owner's pattern p. 0 or ERR_NOT_FOUND. */
int saved_refresh(struct db *db, const char *owner, struct saved_pattern *p);

/* Delete owner's pattern id. 0 or ERR_NOT_FOUND. */
int saved_delete(struct db *db, const char *id, const char *owner);

/* The pattern as the API shows it: full (notes and snapshot too), or the
 * list's summary. NULL when out of memory. */
json_t *saved_json(const struct saved_pattern *p, int full);

/* Append the summary of every pattern of owner, oldest first, to the array
 * out. 0 or a negative err. */
int saved_list(struct db *db, const char *owner, json_t *out);

/* Append every pattern of owner, in full, oldest first, to the array out
 * (the export). 0 or a negative err. */
int saved_export(struct db *db, const char *owner, json_t *out);

#endif
