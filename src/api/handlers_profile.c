/*
 * handlers_profile.c - the profile: GET and PATCH /v1/account, and the
 * account picture (PUT, GET, DELETE /v1/account/picture).
 *
 * Invariants:
 *   - Bio, social accounts and the picture are stored sealed, bound to the
 *     account id; every optional field can be changed and removed (null).
 *   - A PATCH is all or nothing: every field is validated before anything is
 *     written, and the writes share one transaction.
 *   - Pictures are only ever stored after image_sanitize (re-encoded, no
 *     metadata, at most 512x512), and served only to their owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "base/seal.h"
#include "base/clock.h"
#include "store/db.h"
#include "base/err.h"
#include "api/handlers.h"
#include "api/pictures.h"
#include "api/input.h"
#include "base/policy.h"
#include "base/util.h"

static const char *const social_networks[] = {"github",  "instagram", "mastodon", "twitter",
                                              "youtube", "website",   NULL};

int h_account_get(struct req *rq)
{
    struct db *db = db_thread();
    json_t *a = db ? account_json(db, req_account(rq)) : NULL;

    if (!a)
        return db ? ERR_NOT_FOUND : ERR_UNAVAILABLE;
    return resp_json(rq, 200, a);
}

/* Characters in a bio: valid UTF-8 (jansson checked it); count code points. */
static size_t profile_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int profile_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int profile_social_value(struct req *rq, const char *net, json_t *v)
{
    const char *s = json_string_value(v);
    char field[32];

    snprintf(field, sizeof field, "social.%s", net);
    if (!json_is_string(v) && !json_is_null(v))
        return input_fail(rq, field, "%s must be a string or null", field);
    if (!s)
        return 0;
    if (json_string_length(v) == 0 || json_string_length(v) > LIMIT_SOCIAL_VALUE_MAX ||
        !profile_printable(s) || strchr(s, ' '))
        return input_fail(rq, field, "%s must be 1 to %d characters without spaces", field,
                          LIMIT_SOCIAL_VALUE_MAX);
    if (strcmp(net, "website") == 0 && strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
        return input_fail(rq, field, "%s must start with https:// or http://", field);
    return 0;
}

/* Merge the PATCH's social object into cur (a new object on success). */
static int profile_social_merge(struct req *rq, json_t *patch, json_t *cur)
{
    const char *net;
    json_t *v;
    int rc;

    if (!json_is_object(patch))
        return input_fail(rq, "social", "social must be an object or null");
    if ((rc = input_known_keys_at(rq, patch, social_networks, "social")))
        return rc;
    json_object_foreach(patch, net, v)
    {
        if ((rc = profile_social_value(rq, net, v)))
            return rc;
        if (json_is_null(v))
            json_object_del(cur, net);
        else
            json_object_set(cur, net, v);
    }
    return 0;
}

struct profile_patch {
    char username[POLICY_USERNAME_BUF];
    int has_username;
    const char *bio; /* NULL: remove */
    int has_bio;
    json_t *social; /* merged, NULL when untouched */
    int open_data, has_consent;
    const char *units; /* "mm", "cm", "in"; NULL when untouched */
};

static int profile_read_consent(struct req *rq, json_t *c, struct profile_patch *pp)
{
    static const char *const keys[] = {"open_data", NULL};
    int rc;

    if (!json_is_object(c))
        return input_fail(rq, "consent", "consent must be an object");
    if ((rc = input_known_keys_at(rq, c, keys, "consent")))
        return rc;
    json_t *v = json_object_get(c, "open_data");
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return input_fail(rq, "consent.open_data", "consent.open_data must be true or false");
    pp->open_data = json_is_true(v);
    pp->has_consent = 1;
    return 0;
}

static int profile_read_patch(struct req *rq, json_t *b, json_t *current, struct profile_patch *pp)
{
    static const char *const keys[] = {"username", "bio", "social", "consent", "units", NULL};
    json_t *v;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)))
        return rc;
    if ((v = json_object_get(b, "username"))) {
        if (!json_is_string(v) ||
            account_username_normalise(json_string_value(v), json_string_length(v), pp->username))
            return input_fail(rq, "username", "username must be %d to %d of a-z 0-9 _ . -",
                              LIMIT_USERNAME_MIN, LIMIT_USERNAME_MAX);
        pp->has_username = 1;
    }
    if ((v = json_object_get(b, "bio"))) {
        if (!json_is_string(v) && !json_is_null(v))
            return input_fail(rq, "bio", "bio must be a string or null");
        pp->bio = json_string_value(v);
        if (pp->bio && profile_chars(pp->bio) > LIMIT_BIO_MAX)
            return input_fail(rq, "bio", "bio must be at most %d characters", LIMIT_BIO_MAX);
        if ((rc = input_text(rq, "bio", pp->bio)))
            return rc;
        pp->has_bio = 1;
    }
    if ((v = json_object_get(b, "social"))) {
        pp->social =
            json_is_null(v) ? json_object() : json_deep_copy(json_object_get(current, "social"));
        if (!json_is_null(v) && (rc = profile_social_merge(rq, v, pp->social)))
            return rc;
    }
    if ((v = json_object_get(b, "units"))) {
        static const char *const units[] = {"mm", "cm", "in"};
        for (size_t i = 0; json_is_string(v) && i < 3; i++)
            if (strcmp(json_string_value(v), units[i]) == 0)
                pp->units = units[i];
        if (!pp->units)
            return input_fail(rq, "units", "units must be \"mm\", \"cm\" or \"in\"");
    }
    if ((v = json_object_get(b, "consent")))
        return profile_read_consent(rq, v, pp);
    return 0;
}

/* Seal text (NULL stays NULL) and run a SET statement for the account. */
static int profile_set_sealed(struct db *db, enum stmt st, const char *column, const char *id,
                              const char *text)
{
    uint8_t *box = NULL;
    size_t boxn = 0;
    int rc = text ? seal_text(column, id, text, &box, &boxn) : 0;

    if (rc)
        return rc;
    struct db_param p[] = {DB_TEXT(id), box ? DB_BLOB(box, boxn) : DB_NULL, DB_INT(clock_now())};
    rc = db_query(db, st, p, 3, NULL);
    free(box);
    return rc;
}

static int profile_write(struct db *db, const char *id, struct profile_patch *pp)
{
    int rc = 0;

    if (pp->has_username) {
        uint8_t lookup[SEAL_LOOKUP_BYTES], *box = NULL;
        size_t boxn = 0;
        if ((rc = account_taken_elsewhere(db, pp->username, id)) ||
            (rc = account_username_seal(id, pp->username, lookup, &box, &boxn)))
            return rc;
        struct db_param p[] = {DB_TEXT(id), DB_BLOB(lookup, sizeof lookup), DB_BLOB(box, boxn),
                               DB_INT(clock_now())};
        rc = db_query(db, STMT_ACCOUNT_SET_USERNAME, p, 4, NULL);
        free(box);
    }
    if (!rc && pp->has_bio)
        rc = profile_set_sealed(db, STMT_ACCOUNT_SET_BIO, "accounts.bio", id, pp->bio);
    if (!rc && pp->social) {
        char *text = json_object_size(pp->social) ? json_dumps(pp->social, JSON_COMPACT) : NULL;
        rc = profile_set_sealed(db, STMT_ACCOUNT_SET_SOCIAL, "accounts.social", id, text);
        free(text);
    }
    if (!rc && pp->has_consent) {
        struct db_param p[] = {DB_TEXT(id), DB_INT(pp->open_data), DB_INT(clock_now())};
        rc = db_query(db, STMT_ACCOUNT_SET_CONSENT, p, 3, NULL);
    }
    if (!rc && pp->units) {
        struct db_param p[] = {DB_TEXT(id), DB_TEXT(pp->units), DB_INT(clock_now())};
        rc = db_query(db, STMT_ACCOUNT_SET_UNITS, p, 3, NULL);
    }
    return rc;
}

int h_account_patch(struct req *rq)
{
    struct profile_patch pp = {0};
    const char *id = req_account(rq);
    struct db *db = db_thread();
    json_t *current = db ? account_json(db, id) : NULL;
    int rc;

    if (!current)
        return db ? ERR_NOT_FOUND : ERR_UNAVAILABLE;
    rc = profile_read_patch(rq, req_json(rq), current, &pp);
    json_decref(current);
    if (rc == 0 && (rc = db_begin(db)) == 0) {
        rc = profile_write(db, id, &pp);
        rc = rc ? (db_rollback(db), rc) : db_commit(db);
        if (rc == ERR_CONFLICT)
            rc = req_fail(rq, ERR_CONFLICT, "username_taken", "this username is taken");
    }
    json_decref(pp.social);
    if (rc)
        return rc;
    return resp_json(rq, 200, account_json(db, id));
}

/* ---- picture ---- */

int h_picture_put(struct req *rq)
{
    const char *id = req_account(rq), *type = NULL;
    uint8_t *box = NULL;
    size_t boxn = 0;
    int w, h, rc;
    struct db *db = db_thread();

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = pictures_accept(rq, "account_pictures.data", id, &box, &boxn, &type, &w, &h)))
        return rc;
    struct db_param p[] = {DB_TEXT(id), DB_TEXT(type), DB_BLOB(box, boxn), DB_INT(clock_now())};
    rc = db_query(db, STMT_PICTURE_PUT, p, 4, NULL);
    free(box);
    if (rc)
        return rc;
    return pictures_stored(rq, type, w, h);
}

int h_picture_get(struct req *rq)
{
    const char *id = req_account(rq);
    struct db *db = db_thread();
    struct db_rows *rows = NULL;
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    struct db_param p[] = {DB_TEXT(id)};
    if ((rc = db_query(db, STMT_PICTURE_GET, p, 1, &rows)))
        return rc;
    if (db_next(rows) == 1) {
        size_t n = 0;
        const void *box = db_col_blob(rows, 1, &n);
        rc = pictures_send(rq, "account_pictures.data", id, db_col_text(rows, 0, NULL), box, n);
    } else {
        rc = req_fail(rq, ERR_NOT_FOUND, NULL, "no picture is set for this account");
    }
    db_rows_free(rows);
    return rc;
}

int h_picture_delete(struct req *rq)
{
    struct db *db = db_thread();
    struct db_param p[] = {DB_TEXT(req_account(rq))};
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, STMT_PICTURE_DELETE, p, 1, NULL)))
        return rc;
    return resp_empty(rq, 204);
}
