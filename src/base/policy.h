/*
 * policy.h - every limit, lifetime and retention period of atelier, in one place.
 *
 * docs/LIMITS.md mirrors this file; change both together. Values here are the
 * contract of SPEC sections 1 and 4: tests read them through the API, never
 * by copying the numbers.
 */
#ifndef ATELIER_POLICY_H
#define ATELIER_POLICY_H

/* HTTP request bodies */
#define LIMIT_JSON_BODY      (64u * 1024u)        /* bytes, JSON request bodies */
#define LIMIT_IMAGE_BODY     (8u * 1024u * 1024u) /* bytes, image uploads */
#define LIMIT_IMAGE_PIXELS   40000000ull          /* refused before decoding */
#define LIMIT_PICTURE_EDGE   512                  /* stored pictures at most this square */
#define LIMIT_HEADER_COUNT   64                   /* request header lines */
#define LIMIT_URL            8192u                /* path plus query arguments, bytes */
#define LIMIT_CONN_TIMEOUT_S 30u                  /* idle connection timeout */
#define LIMIT_CONN_MEMORY    (64u * 1024u)        /* MHD per-connection memory pool */
#define LIMIT_CONNECTIONS    1024u                /* total concurrent connections */
#define LIMIT_CONN_PER_IP    128u                 /* concurrent connections per client IP */
#define LIMIT_JSON_DEPTH     32                   /* nesting accepted in request bodies */

/* Accounts and sessions */
#define LIMIT_LOGIN_FAIL_ACCOUNT   10        /* failed logins per account per window */
#define LIMIT_LOGIN_FAIL_IP        30        /* failed logins per IP per window */
#define LIMIT_LOGIN_WINDOW_S       (15 * 60) /* the failure window */
#define LIMIT_SESSION_TTL_S        (30 * 86400)
#define LIMIT_SESSIONS_PER_ACCOUNT 20 /* the oldest is evicted beyond this */
#define LIMIT_CONFIRM_TTL_S        (24 * 3600)
#define LIMIT_RESET_TTL_S          (3600)
#define LIMIT_PASSWORD_MIN         8     /* bytes */
#define LIMIT_PASSWORD_MAX         1024  /* bytes */
#define LIMIT_PASSWORD_BITS        19.93 /* log2(10^6) guesses, zxcvbn */
#define LIMIT_EMAIL_MAX            254   /* bytes */
#define LIMIT_USERNAME_MIN         2
#define LIMIT_USERNAME_MAX         40
#define LIMIT_BIO_MAX              1000 /* characters */

/* Models */
#define LIMIT_MODELS_PER_ACCOUNT 100
#define LIMIT_MODEL_NAME_MAX     100   /* characters */
#define LIMIT_MODEL_NOTES_MAX    10000 /* characters */

/* Retention (SPEC section 1) */
#define RETAIN_ACCESS_LOG_DAYS  183 /* IP addresses in access logs */
#define RETAIN_INACTIVE_DAYS    365 /* since last login, then erased */
#define RETAIN_NOTICE_DAYS      30  /* warning mail before inactivity erasure */
#define RETAIN_UNCONFIRMED_DAYS 7   /* unconfirmed signups */

/* Output buffers (strbuf bounds; past one the output fails, it is never cut) */
#define LIMIT_STRBUF_DEFAULT (16u * 1024u * 1024u) /* a zero-initialised strbuf */
#define LIMIT_SVG_BYTES      (4u * 1024u * 1024u)  /* one drafted pattern as SVG */
#define LIMIT_PDF_BYTES      (64u * 1024u * 1024u) /* one drafted pattern as PDF */
#define LIMIT_METRICS_BYTES  (4u * 1024u * 1024u)  /* the GET /metrics page */

/* Internal queues */
#define LIMIT_ACCESSLOG_QUEUE                                                                      \
    16384 /* lines buffered before the writer; beyond: dropped and counted */

#endif
