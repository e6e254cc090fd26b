/*
 * err.h - the project's error codes and their single mapping to HTTP.
 *
 * Every fallible function returns 0 (ERR_OK) or a negative enum err. The HTTP
 * status and the snake_case code that clients see for each value are defined
 * once, in err.c; no other file chooses a status for an error.
 *
 * There is one error space: storage returns these values too (a unique or
 * foreign-key violation is ERR_CONFLICT, an unexpected failure ERR_INTERNAL),
 * so a caller passes a storage result on unchanged.
 */
#ifndef ATELIER_ERR_H
#define ATELIER_ERR_H

enum err {
    ERR_OK = 0,
    ERR_BAD_REQUEST = -1,      /* 400 malformed request or body */
    ERR_UNAUTHENTICATED = -2,  /* 401 */
    ERR_FORBIDDEN = -3,        /* 403 */
    ERR_NOT_FOUND = -4,        /* 404, also for other people's things */
    ERR_METHOD = -5,           /* 405 */
    ERR_CONFLICT = -6,         /* 409 */
    ERR_TOO_LARGE = -7,        /* 413 */
    ERR_MEDIA_TYPE = -8,       /* 415 */
    ERR_INVALID = -9,          /* 422 a field is invalid */
    ERR_RATE_LIMITED = -10,    /* 429 */
    ERR_HEADERS = -11,         /* 431 too many header lines */
    ERR_INTERNAL = -12,        /* 500: a bug or an unexpected library failure */
    ERR_UNAVAILABLE = -13,     /* 503: database down, read-only or full */
    ERR_NOT_IMPLEMENTED = -14, /* 501: e.g. an unsupported transfer coding */
    ERR_NOMEM = -15,           /* 503 */
    ERR_URI_TOO_LONG = -16,    /* 414 */
    /* Storage (src/store) reports its failures in this same space: */
    ERR_BUSY = -17,         /* 503: lock timeout or serialization failure; retry */
    ERR_READONLY = -18,     /* 503: database read-only or disk full */
    ERR_STORAGE_DOWN = -19, /* 503: connection lost or cannot be opened */
    ERR__MIN = -20
};

/* HTTP status code for an error (200 for ERR_OK). */
unsigned err_status(int e);

/* Default snake_case error code for an error, e.g. "not_found". */
const char *err_code(int e);

/* Short English text for an error, for CLI messages and defaults. */
const char *err_text(int e);

#endif
