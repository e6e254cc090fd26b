/*
 * handlers_models.c - the measurement vocabulary and the caller's models
 * over HTTP: list, create, read, update (measurements merge; null removes
 * one), delete, the flat FreeSewing-style measurement import/export, and
 * model avatars. Storage, sealing and the JSON form are the model service's
 * (models/models.c).
 *
 * Invariants:
 *   - A stored model is always valid: known measurement names, numbers in
 *     their plausible range, and no breasts-only measurement on a body
 *     without breasts. Every change is validated here, in full, before the
 *     service stores it; a request that would break this changes nothing.
 *   - The owner is always the authenticated account (req_account): another
 *     account's model answers the 404 of one that does not exist.
 *   - A write of an existing model (PATCH, PUT of the measurements) goes
 *     through model_write (api/model_write.c): a compare-and-set on the
 *     model's stamp, on PostgreSQL through the storage batcher, with the
 *     writes of one model taking turns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "base/err.h"
#include "api/cacheable.h"
#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "api/model_write.h"
#include "atelier/draft.h"
#include "models/models.h"
#include "api/pictures.h"
#include "base/strbuf.h"
#include "base/policy.h"
#include "base/token.h"
#include "base/util.h"

/* ---- the vocabulary ---- */

int h_measurements(struct req *rq)
{
    const char *b = req_query(rq, "breasts");
    int filter = -1;
    json_t *list = json_array();

    if (b && strcmp(b, "true") == 0)
        filter = 1;
    else if (b && strcmp(b, "false") == 0)
        filter = 0;
    else if (b) {
        json_decref(list);
        return input_fail(rq, "breasts", "breasts must be true or false");
    }
    for (int i = 0; i < MEASURES_COUNT; i++) {
        const struct measure *m = &measures_table[i];
        if (filter == 0 && m->breasts_only)
            continue;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:b,s:{s:I,s:I}}", "name", m->name,
                                              "unit", m->unit, "description", m->description,
                                              "breasts_only", m->breasts_only, "range", "min",
                                              (json_int_t)m->min, "max", (json_int_t)m->max));
    }
    static const struct cacheable c = {"application/json", CACHEABLE_REVALIDATE, NULL, 1};
    return cacheable_json(rq, &c, json_pack("{s:o}", "measurements", list));
}

/* ---- validation ---- */

static int model_check_value(struct req *rq, const char *name, json_t *v, int breasts)
{
    char field[128], msg[256];

    if (measures_check(name, json_number_value(v), json_is_number(v), breasts, field, sizeof field,
                       msg, sizeof msg))
        return input_fail(rq, field, "%s", msg);
    return 0;
}

/* Merge patch (an object; null removes a name) into m's measurements,
 * checking every given value. m is changed only when everything is valid.
 * A stored text not yet parsed is merged as text (models_mtext_merge). */
static int model_merge_measurements(struct req *rq, json_t *patch, struct model *m)
{
    const char *name;
    json_t *v, *cur;
    char *text;
    int rc;

    if (!json_is_object(patch))
        return input_fail(rq, "measurements", "measurements must be an object of name to number");
    json_object_foreach(patch, name, v)
    {
        if (!json_is_null(v) && (rc = model_check_value(rq, name, v, m->breasts)))
            return rc;
        if (json_is_null(v) && measures_find(name) < 0)
            return model_check_value(rq, name, v, m->breasts);
    }
    if (!m->measurements && (rc = models_mtext_merge(m->mtext, patch, &text)) != ERR_INVALID) {
        if (rc == 0) {
            free(m->mtext);
            m->mtext = text;
        }
        return rc;
    }
    cur = models_measurements(m);
    json_object_foreach(patch, name, v)
    {
        if (json_is_null(v))
            json_object_del(cur, name);
        else
            json_object_set(cur, name, v);
    }
    return 0;
}

/* After a change of the flag: a body without breasts holds none of the
 * breasts-only measurements; the 422 lists every one that must go. */
static int model_check_flag(struct req *rq, struct model *m)
{
    char list[512] = "";
    size_t used = 0;

    if (m->breasts)
        return 0;
    for (int i = 0; i < MEASURES_COUNT; i++) {
        if (!measures_table[i].breasts_only || !models_has_measurement(m, measures_table[i].name))
            continue;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                 measures_table[i].name);
    }
    if (!used)
        return 0;
    return input_fail(rq, "breasts",
                      "a body without breasts cannot hold %s; set them to null in the same "
                      "request",
                      list);
}

/* Apply a create (all required) or update body to m. */
static int model_apply(struct req *rq, json_t *b, struct model *m, int create)
{
    static const char *const keys[] = {"name", "breasts", "measurements", "notes", NULL};
    int rc, present;
    json_t *meas = json_object_get(b, "measurements");

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = input_text_field(rq, b, "name", LIMIT_MODEL_NAME_MAX, 0, &m->name, &present)))
        return rc;
    if (create && !present)
        return input_fail(rq, "name", "name is required");
    if ((rc = input_text_field(rq, b, "notes", LIMIT_MODEL_NOTES_MAX, 1, &m->notes, &present)) ||
        (rc = input_bool(rq, b, "breasts", create, &m->breasts, &present)))
        return rc;
    if (create && !meas)
        return input_fail(rq, "measurements", "measurements is required (an object, may be empty)");
    if (meas && !json_is_null(meas) && (rc = model_merge_measurements(rq, meas, m)))
        return rc;
    return model_check_flag(rq, m);
}

static int model_respond(struct req *rq, unsigned status, const struct model *m)
{
    struct strbuf b = STRBUF_INIT(LIMIT_MODELS_BYTES);
    char *text;
    size_t n;

    models_write(&b, m);
    if (strbuf_take(&b, &text, &n))
        return ERR_NOMEM;
    return resp_take(rq, status, "application/json", text, n);
}

/* ---- handlers ---- */

/* The storage of this thread; and the 404 every route with a model {id}
 * may end in (the id names no model of this account), described ahead
 * (routes without an id never end in a 404). */
static int model_db(struct req *rq, struct db **db)
{
    req_fail(rq, ERR_NOT_FOUND, NULL, "no model with this id");
    *db = db_thread();
    return *db ? 0 : ERR_UNAVAILABLE;
}

/* The caller's model {id}: read by the auth hook with the session check on
 * ROUTE_AUTH_MODEL routes (api_model_take), else loaded now. */
static int model_of_request(struct req *rq, struct db *db, struct model *m)
{
    int rc;

    if (api_model_take(rq, m, &rc))
        return rc;
    return models_load(db, req_param(rq, "id"), req_account(rq), m);
}

int h_models_list(struct req *rq)
{
    struct strbuf b = STRBUF_INIT(LIMIT_MODELS_BYTES);
    struct db *db;
    char *text;
    size_t n;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = models_list_write(db, req_account(rq), &b))) {
        strbuf_release(&b);
        return rc;
    }
    if (strbuf_take(&b, &text, &n))
        return ERR_NOMEM;
    return resp_take(rq, 200, "application/json", text, n);
}

int h_models_create(struct req *rq)
{
    struct model m = {0};
    char id[TOKEN_ID_LEN + 1];
    struct db *db;
    int rc;

    token_id(id);
    util_strlcpy(m.id, id, sizeof m.id);
    m.measurements = json_object();
    if ((rc = model_db(rq, &db)) || (rc = model_apply(rq, req_json(rq), &m, 1)))
        goto out;
    if ((rc = models_insert(db, req_account(rq), &m)) == ERR_CONFLICT) {
        rc = req_fail(rq, ERR_CONFLICT, "limit_reached",
                      "an account holds at most %d models; delete one first",
                      LIMIT_MODELS_PER_ACCOUNT);
        goto out;
    }
    if (rc)
        goto out;
    /* m is what was stored (models_insert): it answers, without a read */
    char where[sizeof "/v1/models/" + POLICY_ID_BUF];
    snprintf(where, sizeof where, "/v1/models/%s", id);
    if ((rc = resp_header(rq, "Location", where)) == 0)
        rc = model_respond(rq, 201, &m);
out:
    models_release(&m);
    return rc;
}

int h_model_get(struct req *rq)
{
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = model_of_request(rq, db, &m)))
        return rc;
    rc = model_respond(rq, 200, &m);
    models_release(&m);
    return rc;
}

static int model_patch_change(struct req *rq, struct model *m, json_t *arg)
{
    (void)arg;
    return model_apply(rq, req_json(rq), m, 0);
}

static int model_patch_answer(struct req *rq, struct model *m)
{
    return model_respond(rq, 200, m);
}

/* Read (with the session check), change, write only if nobody wrote in
 * between, and answer from what was written: two statements. */
int h_model_patch(struct req *rq)
{
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = model_of_request(rq, db, &m)))
        return rc;
    rc = model_write(rq, db, &m, model_patch_change, NULL, model_patch_answer);
    models_release(&m);
    return rc;
}

int h_model_delete(struct req *rq)
{
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = models_delete(db, req_param(rq, "id"), req_account(rq))))
        return rc;
    return resp_empty(rq, 204);
}

/* GET .../measurements: the flat FreeSewing form, name -> number. */
int h_model_measurements_get(struct req *rq)
{
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = model_of_request(rq, db, &m)))
        return rc;
    rc = resp_bytes(rq, 200, "application/json", m.mtext, strlen(m.mtext));
    models_release(&m);
    return rc;
}

static int model_replace_change(struct req *rq, struct model *m, json_t *flat)
{
    json_object_clear(models_measurements(m));
    return model_merge_measurements(rq, flat, m);
}

/* The measurements as stored. */
static int model_measurements_answer(struct req *rq, struct model *m)
{
    return resp_bytes(rq, 200, "application/json", m->mtext, strlen(m->mtext));
}

/* PUT .../measurements: replace every measurement with a flat object. */
int h_model_measurements_put(struct req *rq)
{
    json_t *body = req_json(rq), *flat = json_object();
    const char *name;
    json_t *v;
    struct model m;
    struct db *db;
    int rc;

    json_object_foreach(body, name, v) /* import: a null means "not measured" */
        if (!json_is_null(v)) json_object_set(flat, name, v);
    if ((rc = model_db(rq, &db)) || (rc = model_of_request(rq, db, &m))) {
        json_decref(flat);
        return rc;
    }
    rc = model_write(rq, db, &m, model_replace_change, flat, model_measurements_answer);
    json_decref(flat);
    models_release(&m);
    return rc;
}

/* ---- avatars ---- */

int h_avatar_put(struct req *rq)
{
    const char *id = req_param(rq, "id"), *type = NULL;
    struct model m;
    uint8_t *box = NULL;
    size_t boxn = 0;
    struct db *db;
    int w, h, rc;

    /* the owner's model is checked before the image is worked on */
    if ((rc = model_db(rq, &db)) || (rc = models_load(db, id, req_account(rq), &m)))
        return rc;
    models_release(&m);
    if ((rc = pictures_accept(rq, "model_avatars.data", id, &box, &boxn, &type, &w, &h)))
        return rc;
    rc = models_avatar_put(db, id, req_account(rq), type, box, boxn);
    free(box);
    return rc ? rc : pictures_stored(rq, type, w, h);
}

int h_avatar_get(struct req *rq)
{
    const char *id = req_param(rq, "id");
    char *type = NULL;
    uint8_t *box = NULL;
    size_t n = 0;
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) || (rc = models_load(db, id, req_account(rq), &m)))
        return rc;
    models_release(&m);
    rc = models_avatar_get(db, id, req_account(rq), &type, &box, &n);
    if (rc == ERR_NOT_FOUND)
        return req_fail(rq, ERR_NOT_FOUND, NULL, "no avatar is set for this model");
    if (rc)
        return rc;
    rc = pictures_send(rq, "model_avatars.data", id, type, box, n);
    free(type);
    free(box);
    return rc;
}

int h_avatar_delete(struct req *rq)
{
    struct db *db;
    int rc;

    if ((rc = model_db(rq, &db)) ||
        (rc = models_avatar_delete(db, req_param(rq, "id"), req_account(rq))))
        return rc;
    return resp_empty(rq, 204);
}
