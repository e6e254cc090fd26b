/*
 * pictures.c - sanitise-and-seal for uploads, open-and-send for downloads.
 *
 * Invariant: the only bytes ever sealed into storage as a picture are the
 * output of image_sanitize (re-encoded, metadata-free, at most 512x512).
 */
#include <stdlib.h>

#include "base/err.h"
#include "privacy/image.h"
#include "api/pictures.h"
#include "base/policy.h"
#include "base/seal.h"

int pictures_accept(struct req *rq, const char *table_column, const char *row, uint8_t **box,
                    size_t *boxn, const char **type, int *w, int *h)
{
    const uint8_t *body;
    uint8_t *out = NULL;
    size_t n, outn = 0;
    char msg[256];
    int rc;

    body = req_body(rq, &n);
    rc = image_sanitize(body, n, req_header(rq, "Content-Type"), &out, &outn, type, w, h, msg,
                        sizeof msg);
    if (rc) {
        req_fail(rq, rc, rc == ERR_INVALID ? "invalid_image" : NULL, "%s", msg);
        return rc;
    }
    rc = seal_field(table_column, row, out, outn, box, boxn);
    free(out);
    return rc;
}

int pictures_send(struct req *rq, const char *table_column, const char *row, const char *type,
                  const void *box, size_t n)
{
    size_t ptn = 0;
    uint8_t *pt = NULL;
    int rc = seal_open_field(table_column, row, box, n, &pt, &ptn);

    if (rc)
        return rc;
    rc = resp_bytes(rq, 200, type, pt, ptn);
    seal_free(pt, ptn);
    return rc;
}

int pictures_stored(struct req *rq, const char *type, int w, int h)
{
    return resp_json(rq, 200,
                     json_pack("{s:s,s:i,s:i}", "content_type", type, "width", w, "height", h));
}
