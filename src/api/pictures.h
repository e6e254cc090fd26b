/*
 * pictures.h - the request side of stored images (account pictures, model
 * avatars): sanitise an upload and seal it, or open a stored one and send it.
 * Both answer the request themselves on failure.
 */
#ifndef ATELIER_PICTURES_H
#define ATELIER_PICTURES_H

#include <stddef.h>
#include <stdint.h>

#include "http/req.h"

/* Sanitise the request body (image_sanitize) and seal the result bound to
 * table_column:row. On success *box (malloc'd) and *boxn hold the sealed
 * image, *type its media type, *w and *h its size. Returns 0, or an err after
 * answering (413/415/422). */
int pictures_accept(struct req *rq, const char *table_column, const char *row, uint8_t **box,
                    size_t *boxn, const char **type, int *w, int *h);

/* Open a sealed image and answer 200 with it. */
int pictures_send(struct req *rq, const char *table_column, const char *row, const char *type,
                  const void *box, size_t n);

/* Answer 200 {content_type, width, height} after a store. */
int pictures_stored(struct req *rq, const char *type, int w, int h);

#endif
