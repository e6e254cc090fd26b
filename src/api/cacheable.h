/*
 * cacheable.h - answers that HTTP caches may keep: public documents that
 * change only with a build of the server or a new open-data release. They
 * carry a strong ETag, answer a matching If-None-Match with 304, and are
 * sent gzip-compressed to a client that accepts it (api/cacheable.c).
 */
#ifndef ATELIER_CACHEABLE_H
#define ATELIER_CACHEABLE_H

#include <jansson.h>
#include <stddef.h>

#include "http/req.h"

struct cacheable {
    const char *type;          /* Content-Type */
    const char *cache_control; /* Cache-Control, e.g. CACHEABLE_REVALIDATE */
    const char *disposition;   /* Content-Disposition, or NULL */
    int gzip;                  /* may be sent compressed (Vary: Accept-Encoding) */
};

/* Public documents that change only with a build: kept by any cache, asked
 * again (a 304 when unchanged) each time. */
#define CACHEABLE_REVALIDATE "public, no-cache"

/* Answer with data[0..n) (copied) as c describes: 200 with ETag (and gzip
 * when the client accepts it and the body is at least LIMIT_GZIP_MIN_BYTES),
 * or 304 without a body when If-None-Match names the representation the
 * client would get. One resp_* call; returns its result. */
int cacheable_send(struct req *rq, const struct cacheable *c, const void *data, size_t n);

/* The same for a JSON document (stolen), serialised as resp_json does. */
int cacheable_json(struct req *rq, const struct cacheable *c, json_t *body);

#endif
