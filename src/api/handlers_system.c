/*
 * handlers_system.c - operational endpoints: health and the API's OpenAPI
 * document. None of them needs authentication and none reveals anything
 * about accounts. The OpenAPI document is cacheable (api/cacheable.c: ETag,
 * revalidated, gzip). Metrics are not here: they have their own listener
 * (--metrics-listen, http/http.c), never the public port.
 */
#include <stdlib.h>

#include "store/db.h"
#include "base/err.h"
#include "api/cacheable.h"
#include "api/handlers.h"

extern const unsigned char openapi_json[];
extern const unsigned long openapi_json_len;

/* From the maintenance thread's last check (store/db_maint.c, every
 * LIMIT_HEALTH_POLL_MS): no storage work per request. */
int h_healthz(struct req *rq)
{
    if (db_health() != ERR_OK)
        return req_fail(rq, ERR_UNAVAILABLE, "database_unavailable",
                        "the database does not answer");
    return resp_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}

int h_openapi(struct req *rq)
{
    static const struct cacheable c = {"application/json", CACHEABLE_REVALIDATE, NULL, 1};

    return cacheable_send(rq, &c, openapi_json, openapi_json_len);
}
