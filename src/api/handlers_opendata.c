/*
 * handlers_opendata.c - the published open data: GET /v1/opendata (the
 * latest release's metadata and figures) and its rows as CSV and JSON.
 * Public: a release holds no personal data (opendata.c guarantees it).
 * A release stores its metadata and CSV; the JSON document is written from
 * them on each request (opendata_json), on the worker pool.
 */
#include <string.h>

#include "store/db.h"
#include "base/err.h"
#include "api/handlers.h"
#include "privacy/opendata.h"

/* The stored blob of statement st as type; disposition (or NULL) goes on
 * that answer only, never on the 404 of a server without a release (a
 * browser would save the JSON error as the CSV file). */
static int opendata_serve(struct req *rq, enum stmt st, const char *type, const char *disposition)
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
        if (disposition)
            resp_header(rq, "Content-Disposition", disposition);
        rc = resp_bytes(rq, 200, type, data, n);
    } else {
        rc = req_fail(rq, ERR_NOT_FOUND, "no_release", "no release has been published yet");
    }
    db_rows_free(rows);
    return rc;
}

int h_opendata_meta(struct req *rq)
{
    return opendata_serve(rq, STMT_OPENDATA_LATEST_META, "application/json", NULL);
}

int h_opendata_csv(struct req *rq)
{
    return opendata_serve(rq, STMT_OPENDATA_LATEST_CSV, "text/csv; charset=utf-8",
                          "attachment; filename=\"atelier-measurements.csv\"");
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
    return resp_take(rq, 200, "application/json", doc, n);
}
