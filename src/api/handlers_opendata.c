/*
 * handlers_opendata.c - the published open data: GET /v1/opendata (the
 * latest release's metadata and figures) and its rows as CSV and JSON.
 * Public: a release holds no personal data (opendata.c guarantees it).
 * A release stores its metadata and CSV; the JSON document is written from
 * them on each request (opendata_json), on the worker pool.
 *
 * Invariant: the three answers are cacheable by anyone (api/cacheable.c): a
 * strong ETag of their bytes, a 304 on If-None-Match, gzip on request, and
 * Cache-Control public for LIMIT_OPENDATA_MAX_AGE_S, then served stale up to
 * LIMIT_OPENDATA_STALE_S while revalidated: a release changes only with a
 * build. No release yet is a 404 that nothing keeps (no-store).
 */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "base/err.h"
#include "base/policy.h"
#include "api/cacheable.h"
#include "api/handlers.h"
#include "privacy/opendata.h"

#define OPENDATA_STR2(x) #x
#define OPENDATA_STR(x)  OPENDATA_STR2(x)
#define OPENDATA_CACHE                                                                             \
    "public, max-age=" OPENDATA_STR(                                                               \
        LIMIT_OPENDATA_MAX_AGE_S) ", stale-while-revalidate=" OPENDATA_STR(LIMIT_OPENDATA_STALE_S)

static int opendata_serve(struct req *rq, enum stmt st, const struct cacheable *c)
{
    struct db *db = db_thread();
    struct db_rows *rows = NULL;
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, st, NULL, 0, &rows)))
        return rc;
    if (db_next(rows) == 1) {
        size_t n = 0;
        const void *data = db_col_blob(rows, 0, &n);
        rc = cacheable_send(rq, c, data, n);
    } else {
        rc = req_fail(rq, ERR_NOT_FOUND, "no_release", "no release has been published yet");
    }
    db_rows_free(rows);
    return rc;
}

int h_opendata_meta(struct req *rq)
{
    static const struct cacheable c = {"application/json", OPENDATA_CACHE, NULL, 1};

    return opendata_serve(rq, STMT_OPENDATA_LATEST_META, &c);
}

int h_opendata_csv(struct req *rq)
{
    static const struct cacheable c = {"text/csv; charset=utf-8", OPENDATA_CACHE,
                                       "attachment; filename=\"atelier-measurements.csv\"", 1};

    return opendata_serve(rq, STMT_OPENDATA_LATEST_CSV, &c);
}

int h_opendata_json(struct req *rq)
{
    struct db *db = db_thread();
    struct db_rows *rows = NULL;
    char *doc = NULL;
    size_t n = 0;
    int rc;

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = db_query(db, STMT_OPENDATA_LATEST_JSON, NULL, 0, &rows)))
        return rc;
    if ((rc = db_next(rows)) == 1) {
        size_t metan = 0, csvn = 0;
        const char *meta = db_col_text(rows, 0, &metan);
        const char *csv = db_col_blob(rows, 1, &csvn);
        rc = opendata_json(meta, metan, csv, csvn, &doc, &n);
    } else if (rc == 0) {
        rc = req_fail(rq, ERR_NOT_FOUND, "no_release", "no release has been published yet");
    }
    db_rows_free(rows);
    if (rc)
        return rc;
    static const struct cacheable c = {"application/json", OPENDATA_CACHE,
                                       "attachment; filename=\"atelier-measurements.json\"", 1};
    rc = cacheable_send(rq, &c, doc, n);
    free(doc);
    return rc;
}
