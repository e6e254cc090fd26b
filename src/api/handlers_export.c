/*
 * handlers_export.c - GET /v1/account/export: the caller's export
 * (privacy/export.c), sent as a download.
 */
#include "api/handlers.h"
#include "privacy/export.h"
#include "store/db.h"

int h_account_export(struct req *rq)
{
    json_t *doc = NULL;
    int rc = export_account(db_thread(), req_account(rq), req_session(rq), &doc);

    if (rc)
        return rc;
    resp_header(rq, "Content-Disposition", "attachment; filename=\"atelier-export.json\"");
    return resp_json(rq, 200, doc);
}
