/*
 * models.c - the model service: an account's models (named, sealed sets of
 * measurements with the body's breasts flag) and their avatars, in storage
 * and as the API and the export show them.
 *
 * Invariants:
 *   - Every query names the owner: another account's model, avatar or
 *     measurements answer exactly the ERR_NOT_FOUND of a model that does
 *     not exist.
 *   - Name, notes, breasts flag, measurements and avatar are sealed, bound
 *     to the model id (seal_text, "models.<column>:<id>").
 *   - An account holds at most LIMIT_MODELS_PER_ACCOUNT models: the count and
 *     the insert run under the account's row lock (models_insert).
 *   - Validation of what a client sends is the handlers' (api/handlers_models.c):
 *     this service stores what it is given.
 *   - The measurements' text is always what json_dumps(JSON_COMPACT |
 *     JSON_SORT_KEYS) writes of a flat object of numbers: a PATCH merges
 *     into it as text (models_mtext_merge) to exactly that, and a model
 *     whose text nobody parsed is stored with the text as it stands.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "atelier/draft.h"
#include "models/models.h"
#include "store/db.h"

void models_release(struct model *m)
{
    free(m->name);
    free(m->notes);
    json_decref(m->measurements);
    free(m->mtext);
    free(m->stamp);
    memset(m, 0, sizeof *m);
}

static int dup_opt(const char *s, char **out)
{
    *out = s ? strdup(s) : NULL;
    return s && !*out ? ERR_NOMEM : 0;
}

int models_copy(const struct model *src, struct model *dst)
{
    *dst = (struct model){.breasts = src->breasts,
                          .created_at = src->created_at,
                          .updated_at = src->updated_at,
                          .has_avatar = src->has_avatar};
    memcpy(dst->id, src->id, sizeof dst->id);
    if (dup_opt(src->name, &dst->name) || dup_opt(src->notes, &dst->notes) ||
        dup_opt(src->mtext, &dst->mtext) ||
        (src->measurements && !(dst->measurements = json_deep_copy(src->measurements))) ||
        (src->stamp && !(dst->stamp = malloc(src->stamp_n ? src->stamp_n : 1)))) {
        models_release(dst);
        return ERR_NOMEM;
    }
    if (src->stamp) {
        memcpy(dst->stamp, src->stamp, src->stamp_n);
        dst->stamp_n = src->stamp_n;
    }
    return 0;
}

/* The measurements as a JSON object, parsed from the stored text on first
 * use: reads that only send a model never parse it (models_write). */
json_t *models_measurements(struct model *m)
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

/* ---- the measurements' stored text, merged without parsing ---- */

/* One "name":value of a stored text, pointing into it. */
struct mtext_entry {
    const char *k, *v;
    size_t kn, vn;
};

/* Split the text that json_dumps(JSON_COMPACT | JSON_SORT_KEYS) wrote of a
 * flat object of numbers into its entries; -1 when it is anything else
 * (an escape in a name, a nested value, more than max entries). */
static int mtext_scan(const char *t, struct mtext_entry *e, size_t max, size_t *n)
{
    const char *p = t;

    *n = 0;
    if (*p++ != '{')
        return -1;
    if (*p == '}')
        return p[1] == '\0' ? 0 : -1;
    for (;;) {
        if (*n == max || *p++ != '"')
            return -1;
        e[*n].k = p;
        p += strcspn(p, "\"\\");
        if (*p != '"' || p[1] != ':')
            return -1;
        e[*n].kn = (size_t)(p - e[*n].k);
        e[*n].v = p += 2;
        p += strcspn(p, ",}\"[{");
        if ((*p != ',' && *p != '}') || p == e[*n].v)
            return -1;
        e[*n].vn = (size_t)(p - e[*n].v);
        (*n)++;
        if (*p == '}')
            return p[1] == '\0' ? 0 : -1;
        p++;
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* strcmp of entry e's name with k. */
static int entry_cmp(const struct mtext_entry *e, const char *k)
{
    size_t kn = strlen(k);
    int c = memcmp(e->k, k, e->kn < kn ? e->kn : kn);

    return c ? c : e->kn < kn ? -1 : e->kn > kn;
}

/* A name that JSON writes as it stands (so no escapes to match). */
static int plain_name(const char *k)
{
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9')))
            return 0;
    return 1;
}

/* "k":text to b, after a comma unless it is the first entry. */
static void put_entry(struct strbuf *b, const char *k, size_t kn, const char *v, size_t vn)
{
    if (strbuf_len(b) > 1)
        strbuf_putc(b, ',');
    strbuf_putc(b, '"');
    strbuf_put(b, k, kn);
    strbuf_put(b, "\":", 2);
    strbuf_put(b, v, vn);
}

int models_mtext_merge(const char *text, json_t *patch, char **out)
{
    struct mtext_entry e[MEASURES_COUNT];
    const char *keys[MEASURES_COUNT];
    struct strbuf b = STRBUF_INIT(LIMIT_JSON_BODY);
    size_t n, pn = 0, i = 0, j = 0;
    const char *k;
    json_t *v;
    int rc = 0;

    *out = NULL;
    if (!text || !json_is_object(patch) || json_object_size(patch) > MEASURES_COUNT ||
        mtext_scan(text, e, MEASURES_COUNT, &n))
        return ERR_INVALID;
    json_object_foreach(patch, k, v)
    {
        if (!plain_name(k) || !(json_is_null(v) || json_is_number(v)))
            return ERR_INVALID;
        keys[pn++] = k;
    }
    qsort(keys, pn, sizeof *keys, key_cmp);
    strbuf_putc(&b, '{');
    while (!rc && (i < n || j < pn)) {
        int c = i == n ? 1 : j == pn ? -1 : entry_cmp(&e[i], keys[j]);

        if (c < 0) { /* not patched: as it stands */
            put_entry(&b, e[i].k, e[i].kn, e[i].v, e[i].vn);
            i++;
            continue;
        }
        if (!json_is_null(v = json_object_get(patch, keys[j]))) { /* null removes */
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

            if (t)
                put_entry(&b, keys[j], strlen(keys[j]), t, strlen(t));
            rc = t ? 0 : ERR_NOMEM;
            free(t);
        }
        i += c == 0;
        j++;
    }
    strbuf_putc(&b, '}');
    if (rc || (rc = strbuf_take(&b, out, NULL)))
        strbuf_release(&b);
    return rc;
}

int models_has_measurement(struct model *m, const char *name)
{
    char pat[64];

    /* In the stored text a name is always "name": (values hold no quotes). */
    if (m->measurements || !m->mtext || strlen(name) + 4 > sizeof pat)
        return json_object_get(models_measurements(m), name) != NULL;
    snprintf(pat, sizeof pat, "\"%s\":", name);
    return strstr(m->mtext, pat) != NULL;
}

/* ---- storage ---- */

static int model_seal(const char *tc, const char *id, const char *text, uint8_t **box, size_t *boxn)
{
    *box = NULL;
    *boxn = 0;
    return text ? seal_text(tc, id, text, box, boxn) : 0;
}

int models_breasts_seal(const char *id, int breasts, uint8_t **box, size_t *boxn)
{
    return seal_text("models.breasts", id, breasts ? "1" : "0", box, boxn);
}

int models_breasts_open(const char *id, const void *box, size_t n, int *breasts)
{
    char *text = NULL;
    int rc = seal_open_text("models.breasts", id, box, n, &text);

    if (rc == 0 && (strcmp(text, "0") && strcmp(text, "1")))
        rc = ERR_INTERNAL;
    if (rc == 0)
        *breasts = text[0] == '1';
    free(text);
    return rc;
}

char *models_mtext_dump(struct model *m)
{
    return json_dumps(models_measurements(m), JSON_COMPACT | JSON_SORT_KEYS);
}

/* Seal what a write of m stores (w, which the caller releases). */
static int model_seal_write(struct model *m, struct models_sealed *w)
{
    /* written anew only when parsed; else the text as it stands
     * (models_mtext_merge) */
    w->parsed = m->measurements || !m->mtext;
    if (w->parsed && !(w->mtext = models_mtext_dump(m)))
        return ERR_NOMEM;
    w->now = clock_now();
    int rc;
    if ((rc = model_seal("models.name", m->id, m->name, &w->nb, &w->nn)) ||
        (rc = model_seal("models.notes", m->id, m->notes, &w->tb, &w->tn)) ||
        (rc = model_seal("models.measurements", m->id, w->parsed ? w->mtext : m->mtext, &w->mb,
                         &w->mn)))
        return rc;
    return models_breasts_seal(m->id, m->breasts, &w->bb, &w->bn);
}

/* The parameters of st (STMT_MODEL_INSERT, _UPDATE, _UPDATE_IF) for w; how
 * many. */
static int model_write_params(const char *owner, const struct model *m,
                              const struct models_sealed *w, enum stmt st, struct db_param p[8])
{
    p[0] = DB_TEXT(m->id);
    p[1] = DB_TEXT(owner);
    p[2] = DB_BLOB(w->nb, w->nn);
    p[3] = w->tb ? DB_BLOB(w->tb, w->tn) : DB_NULL;
    p[4] = DB_BLOB(w->bb, w->bn);
    p[5] = DB_BLOB(w->mb, w->mn);
    p[6] = DB_INT(w->now);
    p[7] = DB_BLOB(m->stamp, m->stamp_n);
    return st == STMT_MODEL_UPDATE_IF ? 8 : 7;
}

/* The outcome of w's statement st (rc, rows changed); once stored, m is
 * what is stored, and its text answers (models_write). */
static int model_written(struct model *m, struct models_sealed *w, enum stmt st, int rc,
                         int64_t changed)
{
    if (!rc && st != STMT_MODEL_INSERT && changed == 0)
        rc = ERR_NOT_FOUND;
    if (rc)
        return rc;
    if (st == STMT_MODEL_INSERT)
        m->created_at = w->now;
    m->updated_at = w->now;
    free(m->stamp);
    m->stamp = w->nb;
    m->stamp_n = w->nn;
    w->nb = NULL;
    if (w->parsed) {
        free(m->mtext);
        m->mtext = w->mtext;
        w->mtext = NULL;
    }
    json_decref(m->measurements);
    m->measurements = NULL;
    return 0;
}

void models_sealed_release(struct models_sealed *w)
{
    free(w->bb);
    free(w->mtext);
    free(w->nb);
    free(w->tb);
    free(w->mb);
    memset(w, 0, sizeof *w);
}

static int model_store(struct db *db, const char *owner, struct model *m, enum stmt st)
{
    struct models_sealed w = {0};
    struct db_param p[8];
    int rc = model_seal_write(m, &w);

    if (!rc) {
        int64_t changed = db_exec(db, st, p, model_write_params(owner, m, &w, st, p));
        rc = model_written(m, &w, st, changed < 0 ? (int)changed : 0, changed);
    }
    models_sealed_release(&w);
    return rc;
}

static enum stmt model_update_stmt(const struct model *m)
{
    return m->stamp ? STMT_MODEL_UPDATE_IF : STMT_MODEL_UPDATE;
}

int models_update_submit(const char *owner, struct model *m, struct models_sealed *w,
                         db_batch_done_fn done, void *arg)
{
    struct db_param p[8];
    enum stmt st = model_update_stmt(m);
    int rc = model_seal_write(m, w);

    if (rc)
        return rc;
    if (db_batch_submit(st, p, model_write_params(owner, m, w, st, p), done, arg) != ERR_OK)
        return ERR_UNAVAILABLE; /* the caller runs it itself */
    return ERR_OK;
}

int models_update_finish(struct model *m, struct models_sealed *w, int rc, int64_t changed)
{
    rc = model_written(m, w, model_update_stmt(m), rc, changed);
    models_sealed_release(w);
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
    return seal_open_text(tc, id, box, n, out);
}

int models_from_row(struct db_rows *rows, int c, struct model *m)
{
    char *mtext = NULL;
    size_t sn = 0;
    const void *stamp;
    int rc;

    memset(m, 0, sizeof *m);
    if (db_col_null(rows, c))
        return ERR_NOT_FOUND;
    util_strlcpy(m->id, db_col_text(rows, c, NULL), sizeof m->id);
    if ((rc = model_open_text(rows, c + 1, "models.name", m->id, &m->name)) ||
        (rc = model_open_text(rows, c + 2, "models.notes", m->id, &m->notes)) ||
        (rc = model_open_text(rows, c + 4, "models.measurements", m->id, &mtext)))
        goto out;
    size_t bn = 0;
    const void *bb = db_col_blob(rows, c + 3, &bn);
    if ((rc = models_breasts_open(m->id, bb, bn, &m->breasts)))
        goto out;
    m->mtext = mtext;
    mtext = NULL;
    if (!m->mtext || m->mtext[0] != '{')
        rc = ERR_INTERNAL;
    m->created_at = db_col_int(rows, c + 5);
    m->updated_at = db_col_int(rows, c + 6);
    m->has_avatar = db_col_int(rows, c + 7) > 0;
    stamp = db_col_blob(rows, c + 1, &sn);
    if (!rc && stamp && sn > 0) {
        if (!(m->stamp = malloc(sn)))
            rc = ERR_NOMEM;
        else
            memcpy(m->stamp, stamp, m->stamp_n = sn);
    }
out:
    free(mtext);
    if (rc)
        models_release(m);
    return rc;
}

static int model_load_with(struct db *db, enum stmt st, const char *id, const char *owner,
                           struct model *m)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, p, 2, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    rc = rc == 1 ? models_from_row(rows, 0, m) : rc == 0 ? ERR_NOT_FOUND : rc;
    db_rows_free(rows);
    return rc;
}

/* Load the caller's model `id`; ERR_NOT_FOUND for anyone else's. */
int models_load(struct db *db, const char *id, const char *owner, struct model *m)
{
    return model_load_with(db, STMT_MODEL_GET, id, owner, m);
}

int models_load_locked(struct db *db, const char *id, const char *owner, struct model *m)
{
    return model_load_with(db, STMT_MODEL_GET_LOCK, id, owner, m);
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

int models_scan(const char *t, double value[MEASURES_COUNT], unsigned char have[MEASURES_COUNT])
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
    if (models_scan(text, value, have) == 0 && have[neck]) {
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
void models_write(struct strbuf *b, const struct model *m)
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

/* The same as a jansson value (the export embeds models in its document). */
static json_t *models_json(const struct model *m)
{
    struct strbuf b = STRBUF_INIT(LIMIT_MODELS_BYTES);
    char *text;
    size_t n;

    models_write(&b, m);
    if (strbuf_take(&b, &text, &n))
        return NULL;
    json_t *o = json_loadb(text, n, 0, NULL);
    free(text);
    return o;
}

int models_update(struct db *db, const char *owner, struct model *m)
{
    return model_store(db, owner, m, model_update_stmt(m));
}

/* The number of models of owner is below the limit (ERR_CONFLICT if not). */
static int model_count_ok(struct db *db, const char *owner)
{
    struct db_param p[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int64_t n = 0;
    int rc = db_query(db, STMT_MODEL_COUNT, p, 1, &rows);

    if (rc)
        return rc;
    if (db_next(rows) == 1)
        n = db_col_int(rows, 0);
    db_rows_free(rows);
    return n >= LIMIT_MODELS_PER_ACCOUNT ? ERR_CONFLICT : 0;
}

int models_insert(struct db *db, const char *owner, struct model *m)
{
    /* count and insert under the account's lock: concurrent creates cannot
     * pass the limit together */
    struct db_param lock[] = {DB_TEXT(owner)};
    int rc;

    if ((rc = db_begin(db)))
        return rc;
    if ((rc = db_query(db, STMT_ACCOUNT_LOCK, lock, 1, NULL)) || (rc = model_count_ok(db, owner)) ||
        (rc = model_store(db, owner, m, STMT_MODEL_INSERT))) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

int models_delete(struct db *db, const char *id, const char *owner)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    int64_t n = db_exec(db, STMT_MODEL_DELETE, p, 2);

    if (n < 0)
        return (int)n;
    return n ? 0 : ERR_NOT_FOUND;
}

int models_list_write(struct db *db, const char *owner, struct strbuf *b)
{
    struct db_param p[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_MODEL_LIST, p, 1, &rows);

    if (rc)
        return rc;
    strbuf_puts(b, "{\"models\":[");
    for (int first = 1; (rc = db_next(rows)) == 1; first = 0) {
        struct model m;
        if ((rc = models_from_row(rows, 0, &m)))
            break;
        if (!first)
            strbuf_put(b, ",", 1);
        models_write(b, &m);
        models_release(&m);
    }
    db_rows_free(rows);
    strbuf_puts(b, "]}");
    return rc;
}

/* ---- avatars ---- */

int models_avatar_put(struct db *db, const char *id, const char *owner, const char *type,
                      const uint8_t *box, size_t boxn)
{
    struct model m;
    int rc = models_load(db, id, owner, &m);

    if (rc)
        return rc;
    models_release(&m);
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(type), DB_BLOB(box, boxn), DB_INT(clock_now())};
    rc = db_query(db, STMT_AVATAR_PUT, p, 4, NULL);
    return rc == ERR_CONFLICT ? ERR_NOT_FOUND : rc; /* the model was deleted meanwhile */
}

int models_avatar_get(struct db *db, const char *id, const char *owner, char **type, uint8_t **box,
                      size_t *boxn)
{
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_AVATAR_GET, p, 2, &rows);

    *type = NULL;
    *box = NULL;
    *boxn = 0;
    if (rc)
        return rc;
    if ((rc = db_next(rows)) == 1) {
        const void *data = db_col_blob(rows, 1, boxn);
        *type = xstrdup(db_col_text(rows, 0, NULL));
        *box = xmalloc(*boxn ? *boxn : 1);
        memcpy(*box, data, *boxn);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOT_FOUND;
    }
    db_rows_free(rows);
    return rc;
}

int models_avatar_delete(struct db *db, const char *id, const char *owner)
{
    struct model m;
    int rc = models_load(db, id, owner, &m);

    if (rc)
        return rc;
    models_release(&m);
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(owner)};
    return db_query(db, STMT_AVATAR_DELETE, p, 2, NULL);
}

/* ---- export (handlers_export.c) ---- */

json_t *models_image_json(const char *table_column, const char *row, const char *type,
                          const void *box, size_t n)
{
    size_t ptn = 0;
    uint8_t *pt = NULL;
    json_t *o = NULL;

    if (seal_open_field(table_column, row, box, n, &pt, &ptn))
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

/* The model's avatar ({content_type, data_base64}, or null) into its export. */
static int models_export_avatar(struct db *db, const char *owner, json_t *model)
{
    const char *id = json_string_value(json_object_get(model, "id"));
    char *type = NULL;
    uint8_t *box = NULL;
    size_t n = 0;
    int rc = models_avatar_get(db, id, owner, &type, &box, &n);

    if (rc == 0)
        json_object_set_new(model, "avatar",
                            models_image_json("model_avatars.data", id, type, box, n));
    else if (rc == ERR_NOT_FOUND)
        json_object_set_new(model, "avatar", json_null());
    free(type);
    free(box);
    return rc == ERR_NOT_FOUND ? 0 : rc;
}

int models_export(struct db *db, const char *owner, json_t *out)
{
    struct db_param p[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    size_t i;
    json_t *m;
    int rc = db_query(db, STMT_MODEL_LIST, p, 1, &rows);

    if (rc)
        return rc;
    while ((rc = db_next(rows)) == 1) {
        struct model mod;
        if ((rc = models_from_row(rows, 0, &mod)))
            break;
        json_t *j = models_json(&mod);
        models_release(&mod);
        if (!j || json_array_append_new(out, j)) { /* never a silent gap in an export */
            rc = ERR_NOMEM;
            break;
        }
    }
    db_rows_free(rows);
    if (rc)
        return rc;
    json_array_foreach(out, i, m) /* one result open at a time: avatars after */
        if ((rc = models_export_avatar(db, owner, m))) return rc;
    return 0;
}

int models_get(struct db *db, const char *id, const char *owner, char **name, int *breasts,
               json_t **measurements)
{
    struct model m;
    int rc = models_load(db, id, owner, &m);

    if (rc)
        return rc;
    *name = m.name;
    *breasts = m.breasts;
    *measurements = models_measurements(&m); /* ownership passes to the caller */
    m.name = NULL;
    m.measurements = NULL;
    models_release(&m);
    return 0;
}
