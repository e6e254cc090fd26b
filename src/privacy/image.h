/*
 * image.h - intake of untrusted pictures (account pictures, model avatars).
 *
 * An upload is accepted only when its bytes are a JPEG, PNG or WebP that
 * matches the declared media type, at most LIMIT_IMAGE_PIXELS pixels and
 * LIMIT_IMAGE_DECODE_BYTES of decoded raster (both checked from the header,
 * before any pixel is decoded), and decodes completely.
 * It is then shrunk to fit LIMIT_PICTURE_EDGE x LIMIT_PICTURE_EDGE, converted
 * to sRGB and re-encoded without any metadata (no EXIF, GPS, ICC, XMP,
 * comments, no pHYs): PNG when it has transparency, JPEG otherwise.
 */
#ifndef ATELIER_IMAGE_H
#define ATELIER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Once, from the main thread, before any other thread exists. */
int image_init(const char *argv0);
void image_shutdown(void);
/* Call at the end of every thread that called image_sanitize. */
void image_thread_done(void);

/* Sanitise in[0..n) declared as content_type ("image/jpeg", "image/png",
 * "image/webp"). On success returns 0, *out (malloc'd) and *outn hold the new
 * image, *out_type is "image/jpeg" or "image/png" (static), *w and *h its
 * size. Errors: ERR_MEDIA_TYPE (bytes are not the declared type),
 * ERR_TOO_LARGE (too many pixels), ERR_INVALID (truncated or undecodable);
 * msg receives a sentence for the client. */
int image_sanitize(const void *in, size_t n, const char *content_type, uint8_t **out, size_t *outn,
                   const char **out_type, int *w, int *h, char *msg, size_t msgn);

#endif
