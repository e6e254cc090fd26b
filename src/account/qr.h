/*
 * qr.h - a QR code as a self-contained SVG image (libqrencode), for the
 * otpauth:// URI of a two-factor setup: drawn here, so the secret never
 * goes to a third-party QR service and the image references nothing.
 */
#ifndef ATELIER_QR_H
#define ATELIER_QR_H

#include <stddef.h>

/* The QR code (error correction level M, 4-module quiet zone) of text as an
 * SVG document: one background rectangle and one path of dark modules, no
 * reference to anything outside it (no href, no script, no style sheet).
 * *svg is malloc'd (NUL-terminated, *n bytes); the caller wipes and frees
 * it (it holds the secret). 0, ERR_INVALID (text empty or too long for a
 * QR code), ERR_NOMEM or ERR_TOO_LARGE (LIMIT_QR_SVG_BYTES). */
int qr_svg(const char *text, char **svg, size_t *n);

#endif
