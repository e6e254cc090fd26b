/*
 * saved.c - the saved-pattern service: an account's saved patterns (a
 * design, its options, a name, notes, and a snapshot of the model it is
 * drafted for: the model's name, breasts flag and measurements as they were
 * when the pattern was saved or last refreshed), in storage and as the API
 * and the export show them.
 *
 * Invariants:
 *   - Every query names the owner: another account's pattern answers exactly
 *     the ERR_NOT_FOUND of a pattern that does not exist.
 *   - Design, name, notes, options and snapshot are sealed, bound to the
 *     pattern id (seal_text, "patterns.<column>:<id>"); the design too,
 *     since it tells the breasts flag. Only ids and times are clear.
 *   - A saved pattern drafts from its snapshot alone: a change of its model
 *     changes nothing here until saved_refresh stores a new snapshot.
 *   - An account holds at most LIMIT_PATTERNS_PER_ACCOUNT patterns: the count,
 *     the model's ownership and the insert run in one transaction under the
 *     account's row lock (saved_insert).
 *   - A pattern goes with its model and with its account (ON DELETE CASCADE
 *     from both, migration 12).
 *   - Validation of what a client sends (and the check that the pattern
 *     drafts) is the handlers' (api/handlers_patterns.c): this service
 *     stores what it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/util.h"
#include "models/models.h"
#include "models/saved.h"
#include "store/db.h"

void saved_release(struct saved_pattern *p)
{
    free(p->design);
    free(p->name);
    free(p->notes);
    json_decref(p->options);
    json_decref(p->snapshot);
    memset(p, 0, sizeof *p);
}

json_t *saved_snapshot_of(struct model *m)
{
    json_t *meas = json_deep_copy(models_measurements(m));

    if (!meas)
        return NULL;
    return json_pack("{s:b,s:o,s:s}", "breasts", m->breasts, "measurements", meas, "model_name",
                     m->name ? m->name : "");
}

/* ---- sealing ---- */

static int saved_seal_text(const char *column, const char *id, const char *text, uint8_t **box,
                           size_t *n)
{
    *box = NULL;
    *n = 0;
    return text ? seal_text(column, id, text, box, n) : 0;
}

/* A JSON value sealed as its canonical text (sorted keys, compact). */
static int saved_seal_json(const char *column, const char *id, const json_t *v, uint8_t **box,
                           size_t *n)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = text ? seal_text(column, id, text, box, n) : ERR_NOMEM;

    free(text);
    return rc;
}

static int saved_open_text(struct db_rows *rows, int col, const char *column, const char *id,
                           char **out)
{
    size_t n = 0;

    *out = NULL;
    if (db_col_null(rows, col))
        return 0;
    const void *box = db_col_blob(rows, col, &n);
    return seal_open_text(column, id, box, n, out);
}

/* Open a sealed JSON object; ERR_INTERNAL when it is not one. */
static int saved_open_json(struct db_rows *rows, int col, const char *column, const char *id,
                           json_t **out)
{
    char *text = NULL;
    int rc = saved_open_text(rows, col, column, id, &text);

    *out = NULL;
    if (rc == 0) {
        *out = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = ERR_INTERNAL;
        }
    }
    free(text);
    return rc;
}

/* A snapshot as saved_snapshot_of makes it, or ERR_INTERNAL. */
static int saved_snapshot_ok(const json_t *s)
{
    return json_is_boolean(json_object_get(s, "breasts")) &&
                   json_is_object(json_object_get(s, "measurements")) &&
                   json_is_string(json_object_get(s, "model_name"))
               ? 0
               : ERR_INTERNAL;
}

/* Read the current row (STMT_PATTERN_GET/EXPORT columns, or the LIST ones
 * when full is 0) into p. */
static int saved_from_row(struct db_rows *rows, struct saved_pattern *p, int full)
{
    int rc, c = 2;

    memset(p, 0, sizeof *p);
    util_strlcpy(p->id, db_col_text(rows, 0, NULL), sizeof p->id);
    util_strlcpy(p->model_id, db_col_text(rows, 1, NULL), sizeof p->model_id);
    if ((rc = saved_open_text(rows, c++, "patterns.design", p->id, &p->design)) ||
        (rc = saved_open_text(rows, c++, "patterns.name", p->id, &p->name)) ||
        (full && (rc = saved_open_text(rows, c++, "patterns.notes", p->id, &p->notes))) ||
        (rc = saved_open_json(rows, c++, "patterns.options", p->id, &p->options)) ||
        (full && (rc = saved_open_json(rows, c++, "patterns.snapshot", p->id, &p->snapshot))) ||
        (full && (rc = saved_snapshot_ok(p->snapshot))))
        goto out;
    if (!p->design || !p->name) {
        rc = ERR_INTERNAL;
        goto out;
    }
    p->snapshot_at = db_col_int(rows, c++);
    p->created_at = db_col_int(rows, c++);
    p->updated_at = db_col_int(rows, c);
out:
    if (rc)
        saved_release(p);
    return rc;
}

int saved_load(struct db *db, const char *id, const char *owner, struct saved_pattern *p)
{
    struct db_param prm[] = {DB_TEXT(id), DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, STMT_PATTERN_GET, prm, 2, &rows);

    if (rc)
        return rc;
    rc = db_next(rows);
    rc = rc == 1 ? saved_from_row(rows, p, 1) : rc == 0 ? ERR_NOT_FOUND : rc;
    db_rows_free(rows);
    return rc;
}

/* ---- writes ---- */

/* The number of patterns of owner is below the limit (ERR_CONFLICT if not). */
static int saved_count_ok(struct db *db, const char *owner)
{
    struct db_param prm[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int64_t n = 0;
    int rc = db_query(db, STMT_PATTERN_COUNT, prm, 1, &rows);

    if (rc)
        return rc;
    if (db_next(rows) == 1)
        n = db_col_int(rows, 0);
    db_rows_free(rows);
    return n >= LIMIT_PATTERNS_PER_ACCOUNT ? ERR_CONFLICT : 0;
}

/* The model is still owner's (the pattern's snapshot was taken from it). */
static int saved_model_ok(struct db *db, const char *model_id, const char *owner)
{
    struct model m;
    int rc = models_load(db, model_id, owner, &m);

    if (rc == 0)
        models_release(&m);
    return rc;
}

static int saved_insert_row(struct db *db, const char *owner, struct saved_pattern *p)
{
    uint8_t *db_ = NULL, *nb = NULL, *tb = NULL, *ob = NULL, *sb = NULL;
    size_t dn = 0, nn = 0, tn = 0, on = 0, sn = 0;
    int rc;

    if (!(rc = saved_seal_text("patterns.design", p->id, p->design, &db_, &dn)) &&
        !(rc = saved_seal_text("patterns.name", p->id, p->name, &nb, &nn)) &&
        !(rc = saved_seal_text("patterns.notes", p->id, p->notes, &tb, &tn)) &&
        !(rc = saved_seal_json("patterns.options", p->id, p->options, &ob, &on)) &&
        !(rc = saved_seal_json("patterns.snapshot", p->id, p->snapshot, &sb, &sn))) {
        struct db_param prm[] = {DB_TEXT(p->id),   DB_TEXT(owner),  DB_TEXT(p->model_id),
                                 DB_BLOB(db_, dn), DB_BLOB(nb, nn), tb ? DB_BLOB(tb, tn) : DB_NULL,
                                 DB_BLOB(ob, on),  DB_BLOB(sb, sn), DB_INT(clock_now())};
        rc = db_query(db, STMT_PATTERN_INSERT, prm, 9, NULL);
        /* a foreign-key refusal: the model went meanwhile (PostgreSQL) */
        if (rc == ERR_CONFLICT)
            rc = ERR_NOT_FOUND;
    }
    free(db_);
    free(nb);
    free(tb);
    free(ob);
    free(sb);
    return rc;
}

int saved_insert(struct db *db, const char *owner, struct saved_pattern *p)
{
    /* count and insert under the account's lock: concurrent saves cannot
     * pass the limit together */
    struct db_param lock[] = {DB_TEXT(owner)};
    int rc;

    if ((rc = db_begin(db)))
        return rc;
    if ((rc = db_query(db, STMT_ACCOUNT_LOCK, lock, 1, NULL)) || (rc = saved_count_ok(db, owner)) ||
        (rc = saved_model_ok(db, p->model_id, owner)) || (rc = saved_insert_row(db, owner, p))) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

/* 0 when the statement changed a row, ERR_NOT_FOUND when none. */
static int saved_exec(struct db *db, enum stmt st, const struct db_param *prm, int n)
{
    int64_t changed = db_exec(db, st, prm, n);

    if (changed < 0)
        return (int)changed;
    return changed ? 0 : ERR_NOT_FOUND;
}

int saved_update(struct db *db, const char *owner, struct saved_pattern *p)
{
    uint8_t *nb = NULL, *tb = NULL, *ob = NULL;
    size_t nn = 0, tn = 0, on = 0;
    int rc;

    if (!(rc = saved_seal_text("patterns.name", p->id, p->name, &nb, &nn)) &&
        !(rc = saved_seal_text("patterns.notes", p->id, p->notes, &tb, &tn)) &&
        !(rc = saved_seal_json("patterns.options", p->id, p->options, &ob, &on))) {
        struct db_param prm[] = {DB_TEXT(p->id),  DB_TEXT(owner),
                                 DB_BLOB(nb, nn), tb ? DB_BLOB(tb, tn) : DB_NULL,
                                 DB_BLOB(ob, on), DB_INT(clock_now())};
        rc = saved_exec(db, STMT_PATTERN_UPDATE, prm, 6);
    }
    free(nb);
    free(tb);
    free(ob);
    return rc;
}

int saved_refresh(struct db *db, const char *owner, struct saved_pattern *p)
{
    uint8_t *sb = NULL;
    size_t sn = 0;
    int rc = saved_seal_json("patterns.snapshot", p->id, p->snapshot, &sb, &sn);

    if (rc == 0) {
        struct db_param prm[] = {DB_TEXT(p->id), DB_TEXT(owner), DB_BLOB(sb, sn),
                                 DB_INT(clock_now())};
        rc = saved_exec(db, STMT_PATTERN_SNAPSHOT, prm, 4);
    }
    free(sb);
    return rc;
}

int saved_delete(struct db *db, const char *id, const char *owner)
{
    struct db_param prm[] = {DB_TEXT(id), DB_TEXT(owner)};

    return saved_exec(db, STMT_PATTERN_DELETE, prm, 2);
}

/* ---- output ---- */

static json_t *saved_time(int64_t s)
{
    char buf[25];

    return clock_format_rfc3339(s * 1000, buf) ? json_null() : json_string(buf);
}

json_t *saved_json(const struct saved_pattern *p, int full)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:O,s:o,s:o,s:o}", "id", p->id, "model_id", p->model_id,
                          "design", p->design, "name", p->name, "options", p->options,
                          "measured_at", saved_time(p->snapshot_at), "created_at",
                          saved_time(p->created_at), "updated_at", saved_time(p->updated_at));

    if (o && full &&
        (json_object_set_new(o, "notes", p->notes ? json_string(p->notes) : json_null()) ||
         json_object_set(o, "snapshot", p->snapshot))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Every row of st for owner, as saved_json(full), appended to out. */
static int saved_rows(struct db *db, enum stmt st, const char *owner, int full, json_t *out)
{
    struct db_param prm[] = {DB_TEXT(owner)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, prm, 1, &rows);

    if (rc)
        return rc;
    while ((rc = db_next(rows)) == 1) {
        struct saved_pattern p;
        if ((rc = saved_from_row(rows, &p, full)))
            break;
        json_t *j = saved_json(&p, full);
        saved_release(&p);
        if (!j || json_array_append_new(out, j)) { /* never a silent gap */
            rc = ERR_NOMEM;
            break;
        }
    }
    db_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int saved_list(struct db *db, const char *owner, json_t *out)
{
    return saved_rows(db, STMT_PATTERN_LIST, owner, 0, out);
}

int saved_export(struct db *db, const char *owner, json_t *out)
{
    return saved_rows(db, STMT_PATTERN_EXPORT, owner, 1, out);
}
