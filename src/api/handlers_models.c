/*
 * handlers_models.c - the measurement vocabulary and the caller's models:
 * list, create, read, update (measurements merge; null removes one), delete,
 * the flat FreeSewing-style measurement import/export, and model avatars.
 *
 * Invariants:
 *   - Every query names the owner: another account's model, avatar or
 *     measurements answer exactly the 404 of a model that does not exist.
 *   - A stored model is always valid: known measurement names, numbers in
 *     their plausible range, and no breasts-only measurement on a body
 *     without breasts. A request that would break this changes nothing.
 *   - Name, notes, measurements and avatar are sealed, bound to the model id.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "base/clock.h"
#include "store/db.h"
#include "base/err.h"
#include "api/handlers.h"
#include "api/input.h"
#include "atelier/draft.h"
#include "models/models.h"
#include "api/pictures.h"
#include "base/strbuf.h"
#include "base/seal.h"
#include "base/policy.h"
#include "base/token.h"
#include "base/util.h"

struct model {
    char id[TOKEN_ID_LEN + 8];
    char *name;
    char *notes; /* NULL: none */
    int breasts;
    json_t *measurements; /* object: name -> number; NULL until model_meas() */
    char *mtext;          /* the stored canonical text, as decrypted (NULL: new) */
    int64_t created_at, updated_at;
    int has_avatar;
};

static void model_release(struct model *m)
{
    free(m->name);
    free(m->notes);
    json_decref(m->measurements);
    free(m->mtext);
    memset(m, 0, sizeof *m);
}

/* The measurements as a JSON object, parsed from the stored text on first
 * use: reads that only send a model never parse it (model_write). */
static json_t *model_meas(struct model *m)
{
    if (!m->measurements) {
        m->measurements = m->mtext ? json_loads(m->mtext, 0, NULL) : NULL;
        if (!json_is_object(m->measurements)) {
            json_decref(m->measurements);
            m->measurements = json_object();
        }
    }
    return m->measurements;
}

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
    return resp_json(rq, 200, json_pack("{s:o}", "measurements", list));
}

/* ---- validation ---- */

static size_t model_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int model_check_value(struct req *rq, const char *name, json_t *v, int breasts)
{
    char field[128], msg[256];

    if (measures_check(name, json_number_value(v), json_is_number(v), breasts, field, sizeof field,
                       msg, sizeof msg))
        return input_fail(rq, field, "%s", msg);
    return 0;
}

/* Merge patch (an object; null removes a name) into cur, checking every
 * given value. cur is changed only when everything is valid. */
static int model_merge_measurements(struct req *rq, json_t *patch, json_t *cur, int breasts)
{
    const char *name;
    json_t *v;
    int rc;

    if (!json_is_object(patch))
        return input_fail(rq, "measurements", "measurements must be an object of name to number");
    json_object_foreach(patch, name, v)
    {
        if (!json_is_null(v) && (rc = model_check_value(rq, name, v, breasts)))
            return rc;
        if (json_is_null(v) && measures_find(name) < 0)
            return model_check_value(rq, name, v, breasts);
    }
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
        if (!measures_table[i].breasts_only ||
            !json_object_get(model_meas(m), measures_table[i].name))
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

static int model_read_text(struct req *rq, json_t *b, const char *key, size_t max, int nullable,
                           char **out, int *present)
{
    json_t *v = json_object_get(b, key);
    const char *s;

    *present = v != NULL;
    if (!v)
        return 0;
    if (json_is_null(v) && nullable) {
        free(*out);
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return input_fail(rq, key, "%s must be a string%s", key, nullable ? " or null" : "");
    s = json_string_value(v);
    if ((!nullable && !*s) || model_chars(s) > max)
        return input_fail(rq, key, "%s must be %d to %zu characters", key, nullable ? 0 : 1, max);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            return input_fail(rq, key, "%s must not contain control characters", key);
    free(*out);
    *out = xstrdup(s);
    return 0;
}

/* Apply a create (all required) or update body to m. */
static int model_apply(struct req *rq, json_t *b, struct model *m, int create)
{
    static const char *const keys[] = {"name", "breasts", "measurements", "notes", NULL};
    int rc, present;
    json_t *meas = json_object_get(b, "measurements");

    if ((rc = input_known_keys(rq, b, keys)) ||
        (rc = model_read_text(rq, b, "name", LIMIT_MODEL_NAME_MAX, 0, &m->name, &present)))
        return rc;
    if (create && !present)
        return input_fail(rq, "name", "name is required");
    if ((rc = model_read_text(rq, b, "notes", LIMIT_MODEL_NOTES_MAX, 1, &m->notes, &present)) ||
        (rc = input_bool(rq, b, "breasts", create, &m->breasts, &present)))
        return rc;
    if (create && !meas)
        return input_fail(rq, "measurements", "measurements is required (an object, may be empty)");
    if (meas && !json_is_null(meas) &&
        (rc = model_merge_measurements(rq, meas, model_meas(m), m->breasts)))
        return rc;
    return model_check_flag(rq, m);
}

/* ---- storage ---- */

static int model_seal(const char *tc, const char *id, const char *text, uint8_t **box, size_t *boxn)
{
    *box = NULL;
    *boxn = 0;
    return text ? account_seal_text(tc, id, text, box, boxn) : 0;
}

static int model_store(struct db *db, const char *owner, struct model *m, enum stmt st)
{
    uint8_t *nb = NULL, *tb = NULL, *mb = NULL;
    size_t nn = 0, tn = 0, mn = 0;
    char *mtext = json_dumps(model_meas(m), JSON_COMPACT | JSON_SORT_KEYS);
    int rc = mtext ? 0 : ERR_NOMEM;

    if (!rc && !(rc = model_seal("models.name", m->id, m->name, &nb, &nn)) &&
        !(rc = model_seal("models.notes", m->id, m->notes, &tb, &tn)) &&
        !(rc = model_seal("models.measurements", m->id, mtext, &mb, &mn))) {
        struct db_param p[] = {
            DB_TEXT(m->id),     DB_TEXT(owner),  DB_BLOB(nb, nn),    tb ? DB_BLOB(tb, tn) : DB_NULL,
            DB_INT(m->breasts), DB_BLOB(mb, mn), DB_INT(clock_now())};
        rc = db_query(db, st, p, 7, NULL);
        rc = rc ? db_err_to_err(rc) : 0;
    }
    free(mtext);
    free(nb);
    free(tb);
    free(mb);
    return rc;
}

static int model_open_text(struct db_rows *rows, int col, const char *tc, const char *id,
                           char **out)
{
    size_t n = 0;

    *out = NULL;
    if (db_col_null(rows, col))
        return 0;
    const void *box = db_col_blob(rows, col, &n);
    return account_open_text(tc, id, box, n, out);
}

/* Read the current row of rows (STMT_MODEL_GET/LIST columns) into m. */
static int model_from_row(struct db_rows *rows, struct model *m)
{
    char *mtext = NULL;
    int rc;

    memset(m, 0, sizeof *m);
    util_strlcpy(m->id, db_col_text(rows, 0, NULL), sizeof m->id);
    if ((rc = model_open_text(rows, 1, "models.name", m->id, &m->name)) ||
        (rc = model_open_text(rows, 2, "models.notes", m->id, &m->notes)) ||
        (rc = model_open_text(rows, 4, "models.measurements", m->id, &mtext)))
        goto out;
    m->breasts = (int)db_col_int(rows, 3);
    m->mtext = mtext;
    mtext = NULL;
    if (!m->mtext || m->mtext[0] != '{')
        rc = ERR_INTERNAL;
    m->created_at = db_col_int(rows, 5);
    m->updated_at = db_col_int(rows, 6);
    m->has_avatar = db_col_int(rows, 7) > 0;
out:
    free(mtext);
    if (rc)
        model_release(m);
    return rc;
}

/* Load the caller's model `id`; ERR_NOT_FOUND for anyone else's. */
static int model_load(struct db *db, const char *id, const char *owner, struct model *m)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_MODEL_GET, p, 2, &rows);

    if (rc)
        return db_err_to_err(rc);
    rc = db_next(rows);
    rc = rc == 1 ? model_from_row(rows, m) : rc == 0 ? ERR_NOT_FOUND : db_err_to_err(rc);
    db_rows_free(rows);
    return rc;
}

/* ---- output ---- */

static void model_write_time(struct strbuf *b, int64_t s)
{
    char buf[25];

    if (clock_format_rfc3339(s * 1000, buf))
        strbuf_puts(b, "null");
    else
        strbuf_json_string(b, buf);
}

/* Values of a stored measurements text ({"name":number,...}, as json_dumps
 * wrote it) into value[]/have[]. Returns 0, or -1 when the text is not of
 * that form. */
static int model_scan(const char *t, double value[MEASURES_COUNT],
                      unsigned char have[MEASURES_COUNT])
{
    memset(have, 0, MEASURES_COUNT);
    if (*t++ != '{')
        return -1;
    if (*t == '}')
        return 0;
    for (;;) {
        char key[48], *end;
        const char *k = t + 1, *q = *t == '"' ? strchr(k, '"') : NULL;
        if (!q || (size_t)(q - k) >= sizeof key || q[1] != ':')
            return -1;
        memcpy(key, k, (size_t)(q - k));
        key[q - k] = 0;
        double v = strtod(q + 2, &end);
        if (end == q + 2)
            return -1;
        int i = measures_find(key);
        if (i >= 0) {
            value[i] = v;
            have[i] = 1;
        }
        t = end;
        if (*t == '}')
            return 0;
        if (*t++ != ',')
            return -1;
    }
}

/* Measurements far from what the model's neck predicts, as warnings. */
static void model_write_warnings(struct strbuf *b, const struct model *m, const char *text)
{
    double value[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];
    int neck = measures_find("neck"), first = 1;

    strbuf_put(b, "[", 1);
    if (model_scan(text, value, have) == 0 && have[neck]) {
        for (int i = 0; i < MEASURES_COUNT; i++) {
            if (!have[i] || !measures_implausible(i, m->breasts, value[neck], value[i]))
                continue;
            strbuf_puts(b, first ? "{\"measurement\":" : ",{\"measurement\":");
            strbuf_json_string(b, measures_table[i].name);
            strbuf_puts(b, ",\"expected_about\":");
            strbuf_number(b, (double)lround(measures_predict(i, m->breasts, value[neck])));
            strbuf_puts(b, ",\"message\":\"far from what the neck size predicts; please check "
                           "it\"}");
            first = 0;
        }
    }
    strbuf_put(b, "]", 1);
}

/* The model as the API shows it, written as text: the stored measurements
 * go out as they are, without a parse and a re-serialisation. */
static void model_write(struct strbuf *b, const struct model *m)
{
    char *dumped =
        m->measurements ? json_dumps(m->measurements, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *text = dumped ? dumped : m->mtext ? m->mtext : "{}";

    strbuf_puts(b, "{\"id\":");
    strbuf_json_string(b, m->id);
    strbuf_puts(b, ",\"name\":");
    strbuf_json_string(b, m->name ? m->name : "");
    strbuf_puts(b, m->breasts ? ",\"breasts\":true" : ",\"breasts\":false");
    strbuf_puts(b, ",\"measurements\":");
    strbuf_puts(b, text);
    strbuf_puts(b, ",\"notes\":");
    if (m->notes)
        strbuf_json_string(b, m->notes);
    else
        strbuf_puts(b, "null");
    strbuf_puts(b, m->has_avatar ? ",\"has_avatar\":true" : ",\"has_avatar\":false");
    strbuf_puts(b, ",\"warnings\":");
    model_write_warnings(b, m, text);
    strbuf_puts(b, ",\"created_at\":");
    model_write_time(b, m->created_at);
    strbuf_puts(b, ",\"updated_at\":");
    model_write_time(b, m->updated_at);
    strbuf_puts(b, "}");
    free(dumped);
}

static int model_respond(struct req *rq, unsigned status, const struct model *m)
{
    struct strbuf b = {0};
    char *text;
    size_t n;

    model_write(&b, m);
    if (strbuf_take(&b, &text, &n))
        return ERR_NOMEM;
    return resp_take(rq, status, "application/json", text, n);
}

/* The same as a jansson value (the export embeds models in its document). */
static json_t *model_json(const struct model *m)
{
    struct strbuf b = {0};
    char *text;
    size_t n;

    model_write(&b, m);
    if (strbuf_take(&b, &text, &n))
        return NULL;
    json_t *o = json_loadb(text, n, 0, NULL);
    free(text);
    return o;
}

/* ---- handlers ---- */

static int model_db(struct db **db)
{
    *db = db_thread();
    return *db ? 0 : ERR_UNAVAILABLE;
}

int h_models_list(struct req *rq)
{
    struct db_param p[] = {DB_TEXT(req_account(rq))};
    struct db_rows *rows = NULL;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)) || (rc = db_query(db, STMT_MODEL_LIST, p, 1, &rows)))
        return rc <= DB_ERROR ? db_err_to_err(rc) : rc;
    struct strbuf b = {0};
    strbuf_puts(&b, "{\"models\":[");
    for (int first = 1; (rc = db_next(rows)) == 1; first = 0) {
        struct model m;
        if ((rc = model_from_row(rows, &m)))
            break;
        if (!first)
            strbuf_put(&b, ",", 1);
        model_write(&b, &m);
        model_release(&m);
    }
    db_rows_free(rows);
    strbuf_puts(&b, "]}");
    char *text;
    size_t n;
    if (rc) {
        strbuf_release(&b);
        return rc <= DB_ERROR ? db_err_to_err(rc) : rc;
    }
    if (strbuf_take(&b, &text, &n))
        return ERR_NOMEM;
    return resp_take(rq, 200, "application/json", text, n);
}

static int model_count_ok(struct req *rq, struct db *db)
{
    struct db_param p[] = {DB_TEXT(req_account(rq))};
    struct db_rows *rows = NULL;
    int64_t n = 0;
    int rc = db_query(db, STMT_MODEL_COUNT, p, 1, &rows);

    if (rc)
        return db_err_to_err(rc);
    if (db_next(rows) == 1)
        n = db_col_int(rows, 0);
    db_rows_free(rows);
    if (n >= LIMIT_MODELS_PER_ACCOUNT)
        return resp_error(rq, ERR_CONFLICT, "limit_reached", "an account holds at most %d models",
                          LIMIT_MODELS_PER_ACCOUNT),
               ERR_CONFLICT;
    return 0;
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
    if ((rc = model_db(&db)) || (rc = model_apply(rq, req_json(rq), &m, 1)))
        goto out;
    /* count and insert under the account's lock: concurrent creates cannot
     * pass the limit together */
    struct db_param lock[] = {DB_TEXT(req_account(rq))};
    if ((rc = db_begin(db)) || (rc = db_query(db, STMT_ACCOUNT_LOCK, lock, 1, NULL))) {
        db_rollback(db);
        rc = db_err_to_err(rc);
        goto out;
    }
    if ((rc = model_count_ok(rq, db)) ||
        (rc = model_store(db, req_account(rq), &m, STMT_MODEL_INSERT))) {
        db_rollback(db);
        goto out;
    }
    if ((rc = db_commit(db))) {
        rc = db_err_to_err(rc);
        goto out;
    }
    model_release(&m);
    if ((rc = model_load(db, id, req_account(rq), &m)) == 0)
        rc = model_respond(rq, 201, &m);
out:
    model_release(&m);
    return rc;
}

int h_model_get(struct req *rq)
{
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)) || (rc = model_load(db, req_param(rq, "id"), req_account(rq), &m)))
        return rc;
    rc = model_respond(rq, 200, &m);
    model_release(&m);
    return rc;
}

int h_model_patch(struct req *rq)
{
    const char *id = req_param(rq, "id"), *owner = req_account(rq);
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)) || (rc = model_load(db, id, owner, &m)))
        return rc;
    if ((rc = model_apply(rq, req_json(rq), &m, 0)) == 0 &&
        (rc = model_store(db, owner, &m, STMT_MODEL_UPDATE)) == 0) {
        model_release(&m);
        if ((rc = model_load(db, id, owner, &m)) == 0)
            rc = model_respond(rq, 200, &m);
    }
    model_release(&m);
    return rc;
}

int h_model_delete(struct req *rq)
{
    struct db_param p[] = {DB_TEXT(req_param(rq, "id")), DB_TEXT(req_account(rq))};
    struct db *db;
    int rc;
    int64_t n;

    if ((rc = model_db(&db)))
        return rc;
    n = db_exec(db, STMT_MODEL_DELETE, p, 2);
    if (n < 0)
        return db_err_to_err((int)n);
    return n ? resp_empty(rq, 204) : ERR_NOT_FOUND;
}

/* GET .../measurements: the flat FreeSewing form, name -> number. */
int h_model_measurements_get(struct req *rq)
{
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)) || (rc = model_load(db, req_param(rq, "id"), req_account(rq), &m)))
        return rc;
    rc = resp_bytes(rq, 200, "application/json", m.mtext, strlen(m.mtext));
    model_release(&m);
    return rc;
}

/* PUT .../measurements: replace every measurement with a flat object. */
int h_model_measurements_put(struct req *rq)
{
    const char *id = req_param(rq, "id"), *owner = req_account(rq);
    json_t *body = req_json(rq), *flat = json_object();
    const char *name;
    json_t *v;
    struct model m;
    struct db *db;
    int rc;

    json_object_foreach(body, name, v) /* import: a null means "not measured" */
        if (!json_is_null(v)) json_object_set(flat, name, v);
    if ((rc = model_db(&db)) || (rc = model_load(db, id, owner, &m))) {
        json_decref(flat);
        return rc;
    }
    json_object_clear(model_meas(&m));
    if ((rc = model_merge_measurements(rq, flat, m.measurements, m.breasts)) == 0 &&
        (rc = model_store(db, owner, &m, STMT_MODEL_UPDATE)) == 0)
        rc = resp_json(rq, 200, json_incref(m.measurements));
    json_decref(flat);
    model_release(&m);
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

    if ((rc = model_db(&db)) || (rc = model_load(db, id, req_account(rq), &m)))
        return rc;
    model_release(&m);
    if ((rc = pictures_accept(rq, "model_avatars.data", id, &box, &boxn, &type, &w, &h)))
        return rc;
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(type), DB_BLOB(box, boxn), DB_INT(clock_now())};
    rc = db_query(db, STMT_AVATAR_PUT, p, 4, NULL);
    free(box);
    if (rc == DB_CONSTRAINT) /* the model was deleted meanwhile */
        return ERR_NOT_FOUND;
    if (rc)
        return db_err_to_err(rc);
    return pictures_stored(rq, type, w, h);
}

int h_avatar_get(struct req *rq)
{
    const char *id = req_param(rq, "id");
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(req_account(rq))};
    struct db_rows *rows = NULL;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)))
        return rc;
    if ((rc = db_query(db, STMT_AVATAR_GET, p, 2, &rows)))
        return db_err_to_err(rc);
    if (db_next(rows) == 1) {
        size_t n = 0;
        const void *box = db_col_blob(rows, 1, &n);
        rc = pictures_send(rq, "model_avatars.data", id, db_col_text(rows, 0, NULL), box, n);
    } else {
        rc = ERR_NOT_FOUND;
    }
    db_rows_free(rows);
    return rc;
}

int h_avatar_delete(struct req *rq)
{
    const char *id = req_param(rq, "id");
    struct model m;
    struct db *db;
    int rc;

    if ((rc = model_db(&db)) || (rc = model_load(db, id, req_account(rq), &m)))
        return rc;
    model_release(&m);
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(req_account(rq))};
    if ((rc = db_query(db, STMT_AVATAR_DELETE, p, 2, NULL)))
        return db_err_to_err(rc);
    return resp_empty(rq, 204);
}

/* ---- export (handlers_export.c) ---- */

json_t *models_image_json(const char *table_column, const char *row, const char *type,
                          const void *box, size_t n)
{
    char ad[160];
    size_t adn = seal_ad(ad, sizeof ad, table_column, row), ptn = 0;
    uint8_t *pt = NULL;
    json_t *o = NULL;

    if (seal_open(box, n, ad, adn, &pt, &ptn))
        return json_null();
    size_t b64n = sodium_base64_ENCODED_LEN(ptn, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64n);
    if (b64) {
        sodium_bin2base64(b64, b64n, pt, ptn, sodium_base64_VARIANT_ORIGINAL);
        o = json_pack("{s:s,s:s}", "content_type", type, "data_base64", b64);
        free(b64);
    }
    seal_free(pt, ptn);
    return o ? o : json_null();
}

static int models_export_avatar(struct db *db, const char *owner, json_t *model)
{
    const char *id = json_string_value(json_object_get(model, "id"));
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    json_t *avatar = json_null();
    int rc = db_query(db, STMT_AVATAR_GET, p, 2, &rows);

    if (rc)
        return db_err_to_err(rc);
    if (db_next(rows) == 1) {
        size_t n = 0;
        const void *box = db_col_blob(rows, 1, &n);
        json_decref(avatar);
        avatar = models_image_json("model_avatars.data", id, db_col_text(rows, 0, NULL), box, n);
    }
    db_rows_free(rows);
    json_object_set_new(model, "avatar", avatar);
    return 0;
}

int models_export(struct db *db, const char *owner, json_t *out)
{
    struct db_param p[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    size_t i;
    json_t *m;
    int rc = db_query(db, STMT_MODEL_LIST, p, 1, &rows);

    if (rc)
        return db_err_to_err(rc);
    while ((rc = db_next(rows)) == 1) {
        struct model mod;
        if ((rc = model_from_row(rows, &mod)))
            break;
        json_array_append_new(out, model_json(&mod));
        model_release(&mod);
    }
    db_rows_free(rows);
    if (rc)
        return rc <= DB_ERROR ? db_err_to_err(rc) : rc;
    json_array_foreach(out, i, m) /* one result open at a time: avatars after */
        if ((rc = models_export_avatar(db, owner, m))) return rc;
    return 0;
}

int models_get(struct db *db, const char *id, const char *owner, char **name, int *breasts,
               json_t **measurements)
{
    struct model m;
    int rc = model_load(db, id, owner, &m);

    if (rc)
        return rc;
    *name = m.name;
    *breasts = m.breasts;
    *measurements = model_meas(&m); /* ownership passes to the caller */
    m.name = NULL;
    m.measurements = NULL;
    model_release(&m);
    return 0;
}
