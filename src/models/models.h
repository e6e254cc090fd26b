/*
 * models.h - the model service (models.c): an account's models and their
 * avatars, for the handlers, the export and drafting.
 */
#ifndef ATELIER_MODELS_H
#define ATELIER_MODELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "atelier/draft.h"
#include "base/token.h"
#include "store/db.h"

struct db;
struct db_rows;
struct strbuf;

struct model {
    char id[TOKEN_ID_LEN + 8];
    char *name;
    char *notes; /* NULL: none */
    int breasts;
    json_t *measurements; /* object: name -> number; NULL until model_meas() */
    char *mtext;          /* the stored canonical text, as decrypted (NULL: new) */
    int64_t created_at, updated_at;
    int has_avatar;
    /* The sealed name as read (NULL: not read): every write seals it anew
     * under a fresh nonce, so it tells whether the stored model is still
     * the one read (models_update). */
    uint8_t *stamp;
    size_t stamp_n;
};

/* Free what m holds and zero it. */
void models_release(struct model *m);

/* dst becomes a copy of src, sharing nothing with it: 0 or ERR_NOMEM (dst
 * then empty). */
int models_copy(const struct model *src, struct model *dst);

/* m's measurements in the text form they are stored in (malloc'd; NULL when
 * out of memory): what a write stores, and what an answer shows. */
char *models_mtext_dump(struct model *m);

/* The measurements as a JSON object (borrowed), parsed from the stored text
 * on first use. */
json_t *models_measurements(struct model *m);

/* The stored measurements text (json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * of a flat object of numbers) with patch (name -> number, or null to
 * remove; names of letters and digits) merged in, byte for byte as that
 * json_dumps of the merged object would write it, without parsing the
 * text: values not patched are copied as they stand. 0 with *out (malloc'd),
 * ERR_INVALID for a text or patch of any other shape (parse and merge with
 * jansson then), ERR_NOMEM. */
int models_mtext_merge(const char *text, json_t *patch, char **out);

/* Whether m holds measurement name, from its text when it was not parsed. */
int models_has_measurement(struct model *m, const char *name);

/* Load owner's model id into m. 0, ERR_NOT_FOUND (also for other people's
 * models) or another err. */
int models_load(struct db *db, const char *id, const char *owner, struct model *m);

/* The same inside the caller's transaction (db_begin), locking the model
 * until it ends: no other writer can come in between until the commit. */
int models_load_locked(struct db *db, const char *id, const char *owner, struct model *m);

/* Read into m the model in the columns col.. of the current row of rows,
 * laid out as STMT_MODEL_GET's (a query joined to the session check:
 * STMT_SESSION_AUTH_MODEL). ERR_NOT_FOUND when its id column is NULL. */
int models_from_row(struct db_rows *rows, int col, struct model *m);

/* Create m (m->id set by the caller) for owner in one transaction.
 * ERR_CONFLICT when owner already holds LIMIT_MODELS_PER_ACCOUNT models.
 * Once created, m is what was stored (times, stamp, measurements' text):
 * it answers without being read again. */
int models_insert(struct db *db, const char *owner, struct model *m);

/* Store name, notes, flag and measurements of an existing model, if it is
 * still the one read into m (its stamp): 0 when stored, ERR_NOT_FOUND when
 * the model is gone or was written by someone else since m was read (load
 * it again to tell). A model without a stamp is stored whatever is there. */
int models_update(struct db *db, const char *owner, struct model *m);

/* The same write of m through the storage batcher (store/db.h), for a
 * caller that must not wait for it: w receives what was sealed, done(arg,
 * rc, rows, changes) is called once when it ran (on the batch thread: free
 * rows, keep rc and changes, wake the caller), and then
 * models_update_finish(m, w, rc, changes) gives what models_update would
 * have and releases w. ERR_UNAVAILABLE: the batcher did not take it (not
 * running, queue full), call models_update instead; any other error is
 * the write's (nothing was queued). Release w in every case but ERR_OK. */
struct models_sealed {
    uint8_t *nb, *tb, *mb, *bb; /* sealed name (the new stamp), notes, measurements, flag */
    size_t nn, tn, mn, bn;
    char *mtext; /* the measurements text written, when m's were parsed */
    int parsed;
    int64_t now;
};
int models_update_submit(const char *owner, struct model *m, struct models_sealed *w,
                         db_batch_done_fn done, void *arg);
int models_update_finish(struct model *m, struct models_sealed *w, int rc, int64_t changed);
void models_sealed_release(struct models_sealed *w);

/* Delete owner's model id (and its avatar). 0 or ERR_NOT_FOUND. */
int models_delete(struct db *db, const char *id, const char *owner);

/* The model as the API shows it, as JSON text appended to b. */
void models_write(struct strbuf *b, const struct model *m);

/* {"models":[...]} of owner appended to b. */
int models_list_write(struct db *db, const char *owner, struct strbuf *b);

/* Store the sealed avatar of owner's model id. ERR_NOT_FOUND for a model
 * that is not the owner's (or was deleted meanwhile). */
int models_avatar_put(struct db *db, const char *id, const char *owner, const char *type,
                      const uint8_t *box, size_t boxn);

/* The sealed avatar of owner's model id: *type and *box malloc'd (caller
 * frees). 0 or ERR_NOT_FOUND. */
int models_avatar_get(struct db *db, const char *id, const char *owner, char **type, uint8_t **box,
                      size_t *boxn);

/* Remove the avatar of owner's model id. 0 or ERR_NOT_FOUND. */
int models_avatar_delete(struct db *db, const char *id, const char *owner);

/* Append every model of owner, as the API shows it plus "avatar" ({content_type,
 * data_base64} or null), to the array out. Returns 0 or a negative err. */
int models_export(struct db *db, const char *owner, json_t *out);

/* {content_type, data_base64} of a sealed image bound to table_column:row,
 * or JSON null when it does not open. */
json_t *models_image_json(const char *table_column, const char *row, const char *type,
                          const void *box, size_t n);

/* The breasts flag of model id sealed to models.breasts:id (*box malloc'd),
 * and opened again (*breasts 0 or 1; ERR_INTERNAL when it does not open).
 * Every writer of models uses these: the flag is never stored in clear. */
int models_breasts_seal(const char *id, int breasts, uint8_t **box, size_t *boxn);
int models_breasts_open(const char *id, const void *box, size_t n, int *breasts);

/* Values of a stored measurements text ({"name":number,...}, as json_dumps
 * wrote it: no blanks, no escapes) into value[]/have[], without a JSON
 * parse; names outside the vocabulary are skipped. Returns 0, or -1 when
 * the text is not of that form. */
int models_scan(const char *text, double value[MEASURES_COUNT], unsigned char have[MEASURES_COUNT]);

/* The owner's model id as drafting input: its name (malloc'd, caller frees),
 * breasts flag and measurements. Returns 0, ERR_NOT_FOUND (also for other
 * people's models) or another err. */
int models_get(struct db *db, const char *id, const char *owner, char **name, int *breasts,
               json_t **measurements);

#endif
