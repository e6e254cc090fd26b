/*
 * policy.h - every limit, lifetime and retention period of atelier, in one place.
 *
 * docs/LIMITS.md mirrors this file; change both together (the limits_doc test
 * fails on any difference). Values here are the contract of SPEC sections 1
 * and 4: tests read them from `atelier limits` (POLICY_LIMITS below), never by
 * copying the numbers.
 *
 * Names: LIMIT_* and RETAIN_* are values a client or operator can observe,
 * each listed once in POLICY_LIMITS; POLICY_* are the time units and the
 * buffer sizes derived from the limits.
 */
#ifndef ATELIER_POLICY_H
#define ATELIER_POLICY_H

#include "base/token.h"

/* Time units */
#define POLICY_MINUTE_S 60
#define POLICY_HOUR_S   (60 * POLICY_MINUTE_S)
#define POLICY_DAY_S    (24 * POLICY_HOUR_S)
#define POLICY_DAY_MS   (1000LL * POLICY_DAY_S)

/* HTTP request bodies */
#define LIMIT_JSON_BODY    (64u * 1024u)        /* bytes, JSON request bodies */
#define LIMIT_IMAGE_BODY   (8u * 1024u * 1024u) /* bytes, image uploads */
#define LIMIT_IMAGE_PIXELS 40000000ull          /* refused before decoding */
#define LIMIT_PICTURE_EDGE 512                  /* stored pictures at most this square */
#define LIMIT_IMAGE_DECODE_BYTES                                                                   \
    (64u * 1024u * 1024u) /* decoded pixels x bytes per pixel of one image, after shrink-on-load   \
                           */
#define LIMIT_IMAGE_WORKERS    1     /* threads decoding images, apart from the slow-handler pool */
#define LIMIT_IMAGE_QUEUE      16    /* image uploads queued or running; beyond: 503 */
#define LIMIT_HEADER_COUNT     64    /* request header lines */
#define LIMIT_URL              8192u /* path plus query arguments, bytes */
#define LIMIT_CONN_TIMEOUT_S   30u   /* idle connection timeout */
#define LIMIT_CONN_MEMORY      (32u * 1024u) /* MHD per-connection memory pool */
#define LIMIT_CONNECTIONS      1024u         /* total concurrent connections */
#define LIMIT_CONN_PER_IP      128u          /* concurrent connections per client IP */
#define LIMIT_JSON_DEPTH       32            /* nesting accepted in request bodies */
#define LIMIT_DB_BATCH         32   /* statements one PostgreSQL pipeline carries (db_batch.c) */
#define LIMIT_DB_BATCH_QUEUE   1024 /* statements waiting for it; beyond, callers run their own */
#define LIMIT_DB_BATCH_THREADS 2    /* batcher threads, each with its own connection */
#define LIMIT_MODEL_LANES      64   /* models with writes in turn on a node (model_write.c) */
#define LIMIT_MODEL_DRAIN_MS   5000 /* at shutdown, the longest wait for those writes */

/* The metrics listener (--metrics-listen) */
#define LIMIT_METRICS_CONNECTIONS 8u    /* concurrent connections */
#define LIMIT_METRICS_REFRESH_MS  5000u /* storage gauges: one reading at most this often */

/* Accounts and sessions */
#define LIMIT_LOGIN_FAIL_ACCOUNT   10 /* failed logins per account and client per window */
#define LIMIT_LOGIN_FAIL_CEILING   60 /* failed logins per account, all clients together */
#define LIMIT_LOGIN_FAIL_IP        30 /* failed logins per IP per window */
#define LIMIT_LOGIN_WINDOW_S       (15 * POLICY_MINUTE_S) /* the failure window */
#define LIMIT_MAIL_PER_RECIPIENT   5  /* mailing requests naming one address per window */
#define LIMIT_MAIL_PER_CLIENT      60 /* mailing requests (signup, forgot, email) per IP */
#define LIMIT_MAIL_QUEUE_PER_RCPT  10 /* mails queued for one address per window, any route */
#define LIMIT_MAIL_WINDOW_S        POLICY_HOUR_S
#define LIMIT_SESSION_TTL_S        (30 * POLICY_DAY_S)
#define LIMIT_SESSIONS_PER_ACCOUNT 20 /* the oldest is evicted beyond this */
#define LIMIT_CONFIRM_TTL_S        (24 * POLICY_HOUR_S)
#define LIMIT_RESET_TTL_S          POLICY_HOUR_S
#define LIMIT_PASSWORD_MIN         8     /* bytes */
#define LIMIT_PASSWORD_MAX         1024  /* bytes */
#define LIMIT_PASSWORD_BITS        19.93 /* log2(10^6) guesses, zxcvbn */
#define LIMIT_EMAIL_MAX            254   /* bytes */
#define LIMIT_USERNAME_MIN         2
#define LIMIT_USERNAME_MAX         40
#define LIMIT_BIO_MAX              1000 /* characters */
#define LIMIT_SOCIAL_VALUE_MAX     200  /* bytes of one social handle or URL */

/* API keys for scripts (issue 14) */
#define LIMIT_APIKEYS_PER_ACCOUNT 20                   /* beyond: 409 limit_reached */
#define LIMIT_APIKEY_NAME_MAX     100                  /* characters */
#define LIMIT_APIKEY_TTL_MAX_S    (365 * POLICY_DAY_S) /* expires_at at most this far ahead */
#define LIMIT_APIKEY_TOUCH_S      POLICY_MINUTE_S      /* last use recorded at most this often */

/* Two-factor login (TOTP, RFC 6238; src/account/totp.c, mfa.c) */
#define LIMIT_MFA_SECRET_BYTES   20 /* the shared secret (160 bits, RFC 4226 section 4) */
#define LIMIT_MFA_STEP_S         30 /* one time step */
#define LIMIT_MFA_DIGITS         6  /* digits of a code */
#define LIMIT_MFA_DRIFT_STEPS    1  /* steps accepted either side of the server's */
#define LIMIT_MFA_RECOVERY_CODES 10 /* recovery codes made at once, each usable once */
#define LIMIT_MFA_SETUP_TTL_S    (15 * POLICY_MINUTE_S) /* a pending secret, not yet enabled */

/* Models and patterns */
#define LIMIT_MODELS_PER_ACCOUNT 100
#define LIMIT_MODEL_NAME_MAX     100   /* characters */
#define LIMIT_MODEL_NOTES_MAX    10000 /* characters */
#define LIMIT_SA_MAX             50.0  /* mm: the largest seam allowance accepted */

/* Saved patterns (issue 14): names and notes are bounded as models' are */
#define LIMIT_PATTERNS_PER_ACCOUNT 500

/* Open data (atelier opendata build; docs/OPENDATA.md). rho in milli-units:
 * 250 is rho = 0.25 zCDP per person per release. */
#define LIMIT_OPENDATA_RHO_DEFAULT     250  /* --rho, per release */
#define LIMIT_OPENDATA_RHO_MIN         10   /* smallest --rho (keeps every sigma^2 <= 2^40) */
#define LIMIT_OPENDATA_RHO_CAP         1000 /* --rho-cap default and largest: lifetime per account */
#define LIMIT_OPENDATA_CADENCE_MONTHS  3    /* at most one build per calendar quarter */
#define LIMIT_OPENDATA_MIN_STRATUM     300  /* smallest --min-stratum accepted (tests, demos) */
#define LIMIT_OPENDATA_STRATUM_DEFAULT 1000  /* publish a stratum from this noisy count on */
#define LIMIT_OPENDATA_CACHE_KIB       32768 /* the build's SQLite page cache, KiB */

/* Retention (SPEC section 1) */
#define RETAIN_ACCESS_LOG_DAYS  183 /* IP addresses in access logs */
#define RETAIN_INACTIVE_DAYS    365 /* since last login, then erased */
#define RETAIN_NOTICE_DAYS      30  /* warning mail before inactivity erasure */
#define RETAIN_UNCONFIRMED_DAYS 7   /* unconfirmed signups */
#define RETAIN_OUTBOX_DAYS      7   /* mail files in DATA/outbox (no --smtp) */

/* Erasure: a WAL checkpoint that a reader blocks is retried this often */
#define LIMIT_SCRUB_RETRY_S 2

/* Storage upkeep of the server (store/db_maint.c, store/db_sqlite.c): the
 * database is checked this often and /healthz answers from the last check;
 * SQLite's WAL wakes the checkpoint thread at this many pages, which then
 * holds the writers and waits this long at most for readers while it
 * copies the WAL and has it start again; and a WAL file this big is
 * truncated once the server is idle. */
#define LIMIT_HEALTH_POLL_MS       1000
#define LIMIT_WAL_CHECKPOINT_PAGES 1000
#define LIMIT_WAL_RESTART_WAIT_MS  50
#define LIMIT_WAL_TRUNCATE_BYTES   (16u * 1024u * 1024u)

/* Key rotation (`atelier rekey`, cli/rekey.c) */
#define LIMIT_REKEY_BATCH       256                  /* values per transaction (--batch default) */
#define LIMIT_REKEY_BATCH_MAX   10000                /* the largest --batch */
#define LIMIT_REKEY_BATCH_BYTES (8u * 1024u * 1024u) /* sealed bytes one batch reads at most */
#define LIMIT_REKEY_POLL_MS     1000 /* a server looks for a rotation's announcement this often */
#define LIMIT_REKEY_SETTLE_MS   3000 /* rekey waits this long after announcing, then reseals */

/* Synthetic populations (`atelier populate`, cli/populate.c) */
#define LIMIT_POPULATE_BATCH     250000 /* accounts per transaction */
#define LIMIT_POPULATE_CACHE_KIB 262144 /* its SQLite page cache, KiB */

/* Output buffers (strbuf bounds; past one the output fails, it is never cut) */
#define LIMIT_STRBUF_DEFAULT (16u * 1024u * 1024u) /* a zero-initialised strbuf */
#define LIMIT_SVG_BYTES      (4u * 1024u * 1024u)  /* one drafted pattern as SVG */
#define LIMIT_PDF_BYTES      (64u * 1024u * 1024u) /* one drafted pattern as PDF */
#define LIMIT_METRICS_BYTES  (4u * 1024u * 1024u)  /* the GET /metrics page */
#define LIMIT_MODELS_BYTES   (8u * 1024u * 1024u)  /* models as JSON (100 at ~45 KiB at most) */
#define LIMIT_QR_SVG_BYTES   (256u * 1024u)        /* the QR code of a 2FA setup as SVG */

/* The site (api/handlers_site.c): an asset requested with its content's
 * version (?v=, which the embedded pages' links carry) never changes, so
 * the browser keeps it this long without asking again */
#define LIMIT_SITE_ASSET_MAX_AGE_S 31536000 /* a year: the longest HTTP caches honour */

/* Cacheable answers (api/cacheable.c). The open-data release changes only
 * when `atelier opendata build` publishes one (at most once a quarter): a
 * CDN or browser serves it this long without asking, then keeps serving
 * it up to LIMIT_OPENDATA_STALE_S more while it revalidates (a 304 when
 * unchanged), so a new release is seen within the hour. */
#define LIMIT_OPENDATA_MAX_AGE_S 3600                  /* an hour */
#define LIMIT_OPENDATA_STALE_S   86400                 /* a day */
#define LIMIT_GZIP_MIN_BYTES     1024u                 /* smaller bodies are sent as they are */
#define LIMIT_GZIP_CACHE_BYTES   (32u * 1024u * 1024u) /* compressed bodies kept in memory */

/* Internal queues */
#define LIMIT_ACCESSLOG_QUEUE                                                                      \
    16384 /* lines buffered before the writer; beyond: dropped and counted */

/* Every LIMIT_* and RETAIN_* above, for `atelier limits` and its tests. */
#define POLICY_LIMITS(X)                                                                           \
    X(LIMIT_JSON_BODY)                                                                             \
    X(LIMIT_IMAGE_BODY)                                                                            \
    X(LIMIT_IMAGE_PIXELS)                                                                          \
    X(LIMIT_PICTURE_EDGE)                                                                          \
    X(LIMIT_IMAGE_DECODE_BYTES)                                                                    \
    X(LIMIT_IMAGE_WORKERS)                                                                         \
    X(LIMIT_IMAGE_QUEUE)                                                                           \
    X(LIMIT_HEADER_COUNT)                                                                          \
    X(LIMIT_URL)                                                                                   \
    X(LIMIT_CONN_TIMEOUT_S)                                                                        \
    X(LIMIT_CONN_MEMORY)                                                                           \
    X(LIMIT_CONNECTIONS)                                                                           \
    X(LIMIT_CONN_PER_IP)                                                                           \
    X(LIMIT_METRICS_CONNECTIONS)                                                                   \
    X(LIMIT_METRICS_REFRESH_MS)                                                                    \
    X(LIMIT_JSON_DEPTH)                                                                            \
    X(LIMIT_DB_BATCH)                                                                              \
    X(LIMIT_DB_BATCH_QUEUE)                                                                        \
    X(LIMIT_DB_BATCH_THREADS)                                                                      \
    X(LIMIT_MODEL_LANES)                                                                           \
    X(LIMIT_MODEL_DRAIN_MS)                                                                        \
    X(LIMIT_LOGIN_FAIL_ACCOUNT)                                                                    \
    X(LIMIT_LOGIN_FAIL_CEILING)                                                                    \
    X(LIMIT_LOGIN_FAIL_IP)                                                                         \
    X(LIMIT_LOGIN_WINDOW_S)                                                                        \
    X(LIMIT_MAIL_PER_RECIPIENT)                                                                    \
    X(LIMIT_MAIL_PER_CLIENT)                                                                       \
    X(LIMIT_MAIL_QUEUE_PER_RCPT)                                                                   \
    X(LIMIT_MAIL_WINDOW_S)                                                                         \
    X(LIMIT_SESSION_TTL_S)                                                                         \
    X(LIMIT_SESSIONS_PER_ACCOUNT)                                                                  \
    X(LIMIT_CONFIRM_TTL_S)                                                                         \
    X(LIMIT_RESET_TTL_S)                                                                           \
    X(LIMIT_PASSWORD_MIN)                                                                          \
    X(LIMIT_PASSWORD_MAX)                                                                          \
    X(LIMIT_PASSWORD_BITS)                                                                         \
    X(LIMIT_EMAIL_MAX)                                                                             \
    X(LIMIT_USERNAME_MIN)                                                                          \
    X(LIMIT_USERNAME_MAX)                                                                          \
    X(LIMIT_BIO_MAX)                                                                               \
    X(LIMIT_SOCIAL_VALUE_MAX)                                                                      \
    X(LIMIT_APIKEYS_PER_ACCOUNT)                                                                   \
    X(LIMIT_APIKEY_NAME_MAX)                                                                       \
    X(LIMIT_APIKEY_TTL_MAX_S)                                                                      \
    X(LIMIT_APIKEY_TOUCH_S)                                                                        \
    X(LIMIT_MFA_SECRET_BYTES)                                                                      \
    X(LIMIT_MFA_STEP_S)                                                                            \
    X(LIMIT_MFA_DIGITS)                                                                            \
    X(LIMIT_MFA_DRIFT_STEPS)                                                                       \
    X(LIMIT_MFA_RECOVERY_CODES)                                                                    \
    X(LIMIT_MFA_SETUP_TTL_S)                                                                       \
    X(LIMIT_MODELS_PER_ACCOUNT)                                                                    \
    X(LIMIT_MODEL_NAME_MAX)                                                                        \
    X(LIMIT_MODEL_NOTES_MAX)                                                                       \
    X(LIMIT_SA_MAX)                                                                                \
    X(LIMIT_PATTERNS_PER_ACCOUNT)                                                                  \
    X(LIMIT_OPENDATA_RHO_DEFAULT)                                                                  \
    X(LIMIT_OPENDATA_RHO_MIN)                                                                      \
    X(LIMIT_OPENDATA_RHO_CAP)                                                                      \
    X(LIMIT_OPENDATA_CADENCE_MONTHS)                                                               \
    X(LIMIT_OPENDATA_MIN_STRATUM)                                                                  \
    X(LIMIT_OPENDATA_STRATUM_DEFAULT)                                                              \
    X(LIMIT_OPENDATA_CACHE_KIB)                                                                    \
    X(RETAIN_ACCESS_LOG_DAYS)                                                                      \
    X(RETAIN_INACTIVE_DAYS)                                                                        \
    X(RETAIN_NOTICE_DAYS)                                                                          \
    X(RETAIN_UNCONFIRMED_DAYS)                                                                     \
    X(RETAIN_OUTBOX_DAYS)                                                                          \
    X(LIMIT_SCRUB_RETRY_S)                                                                         \
    X(LIMIT_HEALTH_POLL_MS)                                                                        \
    X(LIMIT_WAL_CHECKPOINT_PAGES)                                                                  \
    X(LIMIT_WAL_RESTART_WAIT_MS)                                                                   \
    X(LIMIT_WAL_TRUNCATE_BYTES)                                                                    \
    X(LIMIT_REKEY_BATCH)                                                                           \
    X(LIMIT_REKEY_BATCH_MAX)                                                                       \
    X(LIMIT_REKEY_BATCH_BYTES)                                                                     \
    X(LIMIT_REKEY_POLL_MS)                                                                         \
    X(LIMIT_REKEY_SETTLE_MS)                                                                       \
    X(LIMIT_POPULATE_BATCH)                                                                        \
    X(LIMIT_POPULATE_CACHE_KIB)                                                                    \
    X(LIMIT_ACCESSLOG_QUEUE)                                                                       \
    X(LIMIT_STRBUF_DEFAULT)                                                                        \
    X(LIMIT_SVG_BYTES)                                                                             \
    X(LIMIT_PDF_BYTES)                                                                             \
    X(LIMIT_METRICS_BYTES)                                                                         \
    X(LIMIT_MODELS_BYTES)                                                                          \
    X(LIMIT_QR_SVG_BYTES)                                                                          \
    X(LIMIT_SITE_ASSET_MAX_AGE_S)                                                                  \
    X(LIMIT_OPENDATA_MAX_AGE_S)                                                                    \
    X(LIMIT_OPENDATA_STALE_S)                                                                      \
    X(LIMIT_GZIP_MIN_BYTES)                                                                        \
    X(LIMIT_GZIP_CACHE_BYTES)

/* Buffer sizes, each with its terminating NUL */
#define POLICY_ID_BUF       (TOKEN_ID_LEN + 1)       /* account, session and model ids */
#define POLICY_USERNAME_BUF (LIMIT_USERNAME_MAX + 1) /* a normalised username */
#define POLICY_EMAIL_BUF    (LIMIT_EMAIL_MAX + 1)    /* a normalised address */
#define POLICY_AD_COLUMN    32                       /* "table.column" of sealed values */
#define POLICY_AD_ROW       (2 * TOKEN_HASH_BYTES)   /* the longest row key: a token hash in hex */
#define POLICY_AD_BUF       128                      /* associated data "table.column:row" */

#define POLICY_STR_(x) #x
#define POLICY_STR(x)  POLICY_STR_(x) /* a plain literal limit as a string */

/* Bounds and relations */
_Static_assert(LIMIT_SESSIONS_PER_ACCOUNT > 0, "at least one session per account");
_Static_assert(LIMIT_SESSION_TTL_S > LIMIT_CONFIRM_TTL_S, "sessions outlive confirmation links");
_Static_assert(LIMIT_CONFIRM_TTL_S > LIMIT_RESET_TTL_S, "reset links are the shortest-lived");
_Static_assert(LIMIT_LOGIN_FAIL_ACCOUNT > 0 && LIMIT_LOGIN_FAIL_IP >= LIMIT_LOGIN_FAIL_ACCOUNT,
               "an IP may fail at least as often as one account");
_Static_assert(LIMIT_LOGIN_FAIL_CEILING > LIMIT_LOGIN_FAIL_IP,
               "one client alone can never reach an account's ceiling");
_Static_assert(LIMIT_LOGIN_FAIL_CEILING <= 64 && LIMIT_MAIL_PER_CLIENT <= 64,
               "ratelimit.c keeps at most 64 failure times per key");
_Static_assert(LIMIT_MAIL_PER_RECIPIENT > 0 && LIMIT_MAIL_PER_CLIENT >= LIMIT_MAIL_PER_RECIPIENT &&
                   LIMIT_MAIL_WINDOW_S > 0,
               "mail rate limits");
_Static_assert(LIMIT_MAIL_QUEUE_PER_RCPT > LIMIT_MAIL_PER_RECIPIENT,
               "the queue cap is the backstop behind the per-route limits");
_Static_assert(LIMIT_APIKEYS_PER_ACCOUNT > 0 && LIMIT_APIKEY_NAME_MAX > 0 &&
                   LIMIT_APIKEY_TOUCH_S > 0 && LIMIT_APIKEY_TTL_MAX_S > LIMIT_APIKEY_TOUCH_S,
               "API keys");
_Static_assert(LIMIT_PASSWORD_MIN > 0 && LIMIT_PASSWORD_MIN <= LIMIT_PASSWORD_MAX, "password");
_Static_assert(LIMIT_USERNAME_MIN > 0 && LIMIT_USERNAME_MIN <= LIMIT_USERNAME_MAX, "username");
_Static_assert(LIMIT_MFA_SECRET_BYTES >= 16 && LIMIT_MFA_SECRET_BYTES % 5 == 0,
               "at least 128 bits (RFC 4226), and base32 without padding");
_Static_assert(LIMIT_MFA_DIGITS == 6 && LIMIT_MFA_STEP_S == 30,
               "what authenticator apps assume whatever the URI says");
_Static_assert(LIMIT_MFA_DRIFT_STEPS >= 0 && LIMIT_MFA_DRIFT_STEPS <= 2, "2FA drift");
_Static_assert(LIMIT_MFA_RECOVERY_CODES > 0 && LIMIT_MFA_RECOVERY_CODES <= 32, "recovery codes");
_Static_assert(LIMIT_MFA_SETUP_TTL_S > LIMIT_MFA_STEP_S, "a setup outlives a step");
_Static_assert(LIMIT_IMAGE_BODY > LIMIT_JSON_BODY, "images are the larger bodies");
_Static_assert(LIMIT_IMAGE_DECODE_BYTES >= 4u * LIMIT_PICTURE_EDGE * LIMIT_PICTURE_EDGE,
               "a stored picture's worth of RGBA pixels can be decoded");
_Static_assert(LIMIT_IMAGE_WORKERS > 0 && LIMIT_IMAGE_QUEUE >= LIMIT_IMAGE_WORKERS, "image pool");
_Static_assert(LIMIT_CONN_PER_IP <= LIMIT_CONNECTIONS, "per-IP connections within the total");
_Static_assert(LIMIT_POPULATE_BATCH > 0 && LIMIT_POPULATE_CACHE_KIB >= 2000 &&
                   LIMIT_OPENDATA_CACHE_KIB >= 2000,
               "populate batches; page caches at least SQLite's default");
_Static_assert((int)LIMIT_SA_MAX > 0, "a seam allowance is accepted");
_Static_assert(LIMIT_PATTERNS_PER_ACCOUNT > 0, "an account can save a pattern");
_Static_assert(LIMIT_OPENDATA_RHO_MIN <= LIMIT_OPENDATA_RHO_DEFAULT &&
                   LIMIT_OPENDATA_RHO_DEFAULT <= LIMIT_OPENDATA_RHO_CAP,
               "the default rho is accepted and fits the lifetime cap");
_Static_assert(LIMIT_OPENDATA_RHO_CAP <= 1000, "the policy's lifetime promise: rho <= 1");
_Static_assert(LIMIT_OPENDATA_MIN_STRATUM >= 1, "a published stratum has rows");
_Static_assert(LIMIT_OPENDATA_MIN_STRATUM <= LIMIT_OPENDATA_STRATUM_DEFAULT,
               "the default stratum size is accepted");
_Static_assert(RETAIN_NOTICE_DAYS > 0 && RETAIN_NOTICE_DAYS < RETAIN_INACTIVE_DAYS,
               "the inactivity notice comes before the erasure");
_Static_assert(RETAIN_UNCONFIRMED_DAYS > 0 && RETAIN_UNCONFIRMED_DAYS < RETAIN_ACCESS_LOG_DAYS &&
                   RETAIN_ACCESS_LOG_DAYS < RETAIN_INACTIVE_DAYS,
               "SPEC section 1: signups 7 days < access logs 183 days < inactivity 365 days");
_Static_assert(LIMIT_CONFIRM_TTL_S < RETAIN_UNCONFIRMED_DAYS * POLICY_DAY_S,
               "a signup outlives its confirmation link");
_Static_assert(POLICY_ID_BUF > TOKEN_ID_LEN, "ids fit their buffers");
_Static_assert(POLICY_USERNAME_BUF > LIMIT_USERNAME_MAX, "usernames fit their buffers");
_Static_assert(POLICY_EMAIL_BUF > LIMIT_EMAIL_MAX, "addresses fit their buffers");
_Static_assert(POLICY_AD_BUF >= POLICY_AD_COLUMN + 1 + POLICY_AD_ROW + 1,
               "associated data is never truncated");
_Static_assert(LIMIT_JSON_DEPTH > 0 && LIMIT_HEADER_COUNT > 0 && LIMIT_URL > 0, "HTTP limits");
_Static_assert(LIMIT_REKEY_BATCH >= 1 && LIMIT_REKEY_BATCH <= LIMIT_REKEY_BATCH_MAX,
               "the default batch is accepted");
_Static_assert(LIMIT_REKEY_SETTLE_MS >= 2 * LIMIT_REKEY_POLL_MS,
               "every polling server sees a rotation's announcement before resealing starts");

#endif
