/*
 * db_stmts.h - names of every prepared statement. The SQL text is in
 * db_stmts.c, in the same order. Add a name here and its SQL there.
 */
#ifndef ATELIER_DB_STMTS_H
#define ATELIER_DB_STMTS_H

#include "base/sealed.h"
#include "store/copy_tables.h"

enum stmt {
    STMT_PING, /* SELECT 1 */
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SCHEMA_VERSION, /* -> version */
    STMT_SCHEMA_RECORD,  /* $1 version, $2 applied_at */
    STMT_META_GET,       /* $1 key -> value */
    STMT_META_PUT,       /* $1 key, $2 value (upsert) */
    STMT_MIGRATE_LOCK,   /* $1 key: PG pg_advisory_xact_lock; SQLite no-op */
    STMT_SCHEMA_LIST,    /* -> version, applied_at, ascending */
    STMT_SQLITE_PRAGMAS, /* SQLite only -> secure_delete, synchronous,
                            journal_mode, foreign_keys, busy_timeout, temp_store */
    /* accounts (issue 3) */
    STMT_ACCOUNT_INSERT,      /* $1 id, $2 email_lookup, $3 email_sealed, $4 username_lookup,
                                 $5 username_sealed, $6 hash, $7 now */
    STMT_ACCOUNT_BY_EMAIL,    /* $1 email_lookup -> id, password_hash */
    STMT_ACCOUNT_BY_USERNAME, /* $1 username_lookup -> id, password_hash */
    STMT_ACCOUNT_GET,   /* $1 id -> id, email_sealed, username_sealed, bio_sealed, social_sealed,
                                     consent, created_at, last_login_at, has_picture, password_hash */
    STMT_ACCOUNT_LOGIN, /* $1 id, $2 now */
    STMT_ACCOUNT_SET_PASSWORD, /* $1 id, $2 hash, $3 now */
    STMT_ACCOUNT_SET_USERNAME, /* $1 id, $2 username_lookup, $3 username_sealed, $4 now */
    STMT_ACCOUNT_SET_BIO,      /* $1 id, $2 sealed or NULL, $3 now */
    STMT_ACCOUNT_SET_SOCIAL,   /* $1 id, $2 sealed or NULL, $3 now */
    STMT_ACCOUNT_SET_CONSENT,  /* $1 id, $2 0/1, $3 now */
    STMT_ACCOUNT_SET_EMAIL,    /* $1 id, $2 lookup, $3 sealed, $4 now */
    STMT_ACCOUNT_DELETE,       /* $1 id (cascades to everything the account owns) */
    STMT_SIGNUP_INSERT,        /* $1 token_hash, $2 lookup, $3 sealed, $4 username_sealed, $5 hash,
                                  $6 created_at, $7 expires_at */
    STMT_SIGNUP_TAKE, /* $1 token_hash -> lookup, sealed, username_sealed, hash, expires_at */
    STMT_SIGNUP_DELETE_EMAIL,   /* $1 lookup */
    STMT_TOKEN_INSERT,          /* $1 hash, $2 account, $3 kind, $4 payload, $5 now, $6 expires */
    STMT_TOKEN_TAKE,            /* $1 hash, $2 kind -> account_id, payload_sealed, expires_at,
                                   session_id */
    STMT_TOKEN_PEEK,            /* $1 hash, $2 kind, $3 now -> account_id */
    STMT_TOKEN_DELETE,          /* $1 hash, $2 kind */
    STMT_TOKEN_DELETE_KIND,     /* $1 account, $2 kind */
    STMT_SESSION_INSERT,        /* $1 id, $2 account, $3 token_hash, $4 created_ms, $5 expires_at */
    STMT_SESSION_AUTH,          /* $1 token_hash, $2 now -> id, account_id, restricted_at */
    STMT_SESSION_DELETE,        /* $1 id */
    STMT_SESSION_DELETE_OTHERS, /* $1 account, $2 id kept */
    STMT_SESSION_DELETE_ALL,    /* $1 account */
    STMT_SESSION_EVICT,         /* $1 account, $2 how many newest to keep */
    STMT_PICTURE_PUT,           /* $1 account, $2 type, $3 sealed, $4 now */
    STMT_PICTURE_GET,           /* $1 account -> content_type, data_sealed */
    STMT_PICTURE_DELETE,        /* $1 account */
    STMT_MAIL_INSERT, /* $1 id, $2 account or NULL, $3 sealed, $4 created_ms, $5 next_ms */
    STMT_MAIL_DUE,    /* $1 now_ms, $2 limit -> id, sealed, attempts, next_attempt_ms */
    STMT_MAIL_CLAIM,  /* $1 id, $2 expected next_ms, $3 new next_ms */
    STMT_MAIL_DONE,   /* $1 id */
    STMT_MAIL_RETRY,  /* $1 id, $2 attempts, $3 next_ms */
    /* models (issue 4) */
    STMT_MODEL_INSERT,  /* $1 id, $2 account, $3 name, $4 notes, $5 breasts_sealed, $6 measurements,
                         * $7 now
                         */
    STMT_MODEL_GET,     /* $1 id, $2 account -> id, name, notes, breasts_sealed, measurements,
                           created_at, updated_at, has_avatar */
    STMT_MODEL_LIST,    /* $1 account -> the same columns, oldest first */
    STMT_MODEL_UPDATE,  /* $1 id, $2 account, $3 name, $4 notes, $5 breasts_sealed, $6 measurements,
                         * $7 now
                         */
    STMT_MODEL_DELETE,  /* $1 id, $2 account */
    STMT_MODEL_COUNT,   /* $1 account -> count */
    STMT_AVATAR_PUT,    /* $1 model, $2 type, $3 sealed, $4 now */
    STMT_AVATAR_GET,    /* $1 model, $2 account -> content_type, data_sealed */
    STMT_AVATAR_DELETE, /* $1 model, $2 account */
    /* privacy lifecycle (issue 5) */
    STMT_SWEEP_NOTICE_DUE,  /* $1 last login cutoff, $2 limit -> id, email_sealed (not
                               restricted accounts: they get no mail) */
    STMT_SWEEP_NOTICE_MARK, /* $1 id, $2 now */
    STMT_SWEEP_INACTIVE,    /* $1 last login cutoff, $2 limit -> id */
    STMT_SWEEP_SIGNUPS,     /* $1 created cutoff */
    STMT_SWEEP_SESSIONS,    /* $1 now */
    STMT_SWEEP_TOKENS,      /* $1 now */
    STMT_SESSION_LIST,      /* $1 account -> id, created_ms, expires_at */
    STMT_TOKEN_LIST,        /* $1 account -> kind, created_at, expires_at */
    STMT_MAIL_COUNT,        /* $1 account -> count */
    STMT_MAIL_QUEUED,       /* -> count of every queued mail */
    STMT_ACCOUNT_TIMES,     /* $1 id -> created_at, updated_at, last_login_at, notice_sent_at */
    STMT_SQLITE_CHECKPOINT, /* SQLite only */
    /* open data (issue 6) */
    STMT_OPENDATA_INSERT,      /* $1 id, $2 created_at, $3 meta, $4 csv */
    STMT_OPENDATA_PRUNE,       /* $1 id kept */
    STMT_OPENDATA_LATEST_META, /* -> meta */
    STMT_OPENDATA_LATEST_CSV,  /* -> csv */
    STMT_OPENDATA_LATEST_JSON, /* -> meta, csv (the JSON document is written from them) */
    STMT_ACCOUNT_LOCK,         /* $1 id: serialise an account's writers (PG: FOR UPDATE) */
    STMT_BEGIN_READ,           /* SQLite only: a deferred transaction for reads */
    /* account links (issue 12) */
    STMT_TOKEN_INSERT_SESSION, /* STMT_TOKEN_INSERT's $1..$6, $7 requesting session id */
    STMT_SIGNUP_PEEK,          /* $1 token_hash -> password_hash */
    /* the per-recipient mail cap (issue 12) */
    STMT_MAIL_RCPT_COUNT,  /* $1 lookup, $2 since_ms -> count */
    STMT_MAIL_RCPT_INSERT, /* $1 lookup, $2 at_ms */
    STMT_MAIL_RCPT_PRUNE,  /* $1 before_ms */
    /* the upgrade that seals clear columns (issue 12, cli/upgrade.c); valid
       only between migrations 7 and 8 */
    STMT_UPGRADE_ACCOUNTS,     /* $1 limit -> id, username (not yet sealed) */
    STMT_UPGRADE_ACCOUNT_SEAL, /* $1 id, $2 username_lookup, $3 username_sealed */
    STMT_UPGRADE_SIGNUPS,      /* $1 limit -> token_hash, username (not yet sealed) */
    STMT_UPGRADE_SIGNUP_SEAL,  /* $1 token_hash, $2 username_sealed */
    STMT_UPGRADE_MODELS,       /* $1 limit -> id, breasts (not yet sealed) */
    STMT_UPGRADE_MODEL_SEAL,   /* $1 id, $2 breasts_sealed */
    /* the differentially private open data (issue 13) */
    STMT_DP_LAST_BUILD,    /* -> the latest quarter with a build (NULL: none) */
    STMT_DP_BUILD_INSERT,  /* $1 id, $2 created_at, $3 rho_milli, $4 cadence_ignored,
                              $5 quarter */
    STMT_DP_BUILD_PUBLISH, /* $1 id */
    STMT_DP_CHARGE,        /* $1 rho_milli, $2 build id, $3 cap_milli: charge every opted-in,
                              not restricted account with a model that stays within the cap */
    STMT_DP_MEMBERS,       /* $1 build id -> account_id, model id, breasts_sealed,
                              measurements_sealed (charged accounts still opted in
                              and not restricted; newest model
                              of an account first: updated_at, then id, descending) */
    STMT_DP_LEDGER_GET,    /* $1 account -> spent_milli */
    /* API keys and restriction of processing (issue 14) */
    STMT_APIKEY_INSERT,       /* $1 id, $2 account, $3 key_hash, $4 name_sealed, $5 scope,
                                 $6 created_ms, $7 expires_ms */
    STMT_APIKEY_COUNT,        /* $1 account, $2 now_ms -> count of unexpired keys */
    STMT_APIKEY_AUTH,         /* $1 key_hash, $2 now_ms -> id, account_id, scope, last_used_ms,
                                 restricted_at (unexpired keys only) */
    STMT_APIKEY_TOUCH,        /* $1 id, $2 now_ms, $3 now_ms - touch interval */
    STMT_APIKEY_LIST,         /* $1 account -> id, name_sealed, scope, created_ms, expires_ms,
                                 last_used_ms (oldest first) */
    STMT_APIKEY_DELETE,       /* $1 id, $2 account */
    STMT_SWEEP_APIKEYS,       /* $1 now_ms: delete expired keys */
    STMT_ACCOUNT_RESTRICTION, /* $1 id -> restricted_at (NULL: not restricted) */
    STMT_ACCOUNT_RESTRICT,    /* $1 id, $2 now: restrict (when not already) */
    STMT_ACCOUNT_UNRESTRICT,  /* $1 id, $2 now: lift (when restricted) */
    /* saved patterns (issue 14) */
    STMT_PATTERN_INSERT,   /* $1 id, $2 account, $3 model, $4 design, $5 name, $6 notes or NULL,
                              $7 options, $8 snapshot, $9 now (all sealed but ids and now) */
    STMT_PATTERN_GET,      /* $1 id, $2 account -> id, model_id, design, name, notes, options,
                              snapshot, snapshot_at, created_at, updated_at */
    STMT_PATTERN_LIST,     /* $1 account -> id, model_id, design, name, options, snapshot_at,
                              created_at, updated_at; oldest first */
    STMT_PATTERN_EXPORT,   /* $1 account -> STMT_PATTERN_GET's columns, oldest first */
    STMT_PATTERN_UPDATE,   /* $1 id, $2 account, $3 name, $4 notes or NULL, $5 options, $6 now */
    STMT_PATTERN_SNAPSHOT, /* $1 id, $2 account, $3 snapshot, $4 now */
    STMT_PATTERN_DELETE,   /* $1 id, $2 account */
    STMT_PATTERN_COUNT,    /* $1 account -> count */
    /* the site (issue 16): the account's measurement units */
    STMT_ACCOUNT_UNITS_GET, /* $1 account -> units ('mm', 'cm' or 'in') */
    STMT_ACCOUNT_SET_UNITS, /* $1 account, $2 units, $3 updated_at */
    /* two-factor login (issue 14, src/account/mfa.c) */
    STMT_MFA_GET,          /* $1 account -> secret_sealed, created_at, enabled_at, last_step,
                              recovery codes left */
    STMT_MFA_SETUP,        /* $1 account, $2 secret_sealed, $3 now: a new pending setup, or
                              replace the pending one; nothing when 2FA is on */
    STMT_MFA_ENABLE,       /* $1 account, $2 now, $3 step used, $4 the pending secret_sealed */
    STMT_MFA_USE_STEP,     /* $1 account, $2 step: only a later step than the last used */
    STMT_MFA_DISABLE,      /* $1 account (its recovery codes cascade) */
    STMT_MFA_CODES_DELETE, /* $1 account */
    STMT_MFA_CODE_INSERT,  /* $1 account, $2 code_hash, $3 now */
    STMT_MFA_CODE_USE,     /* $1 account, $2 code_hash (deletes it) */
    STMT_MFA_EXPORT,       /* $1 account -> created_at, enabled_at, last_step, codes left */
    STMT_SWEEP_MFA_SETUPS, /* $1 created cutoff: pending setups never enabled */
    /* key rotation (issue 14, cli/rekey.c) */
    STMT_META_DELETE,       /* $1 key */
    STMT_REKEY_ACCOUNT_IDS, /* $1 after this id, $2 limit -> id, ascending (outbox tags) */
/* Three per sealed column of base/sealed.h:
 *   STMT_REKEY_SCAN_<NAME>   $1 after this key, $2 key id (4 bytes), $3 limit -> key, sealed:
 *                            the rows whose value is not sealed under that key id, by key
 *   STMT_REKEY_COUNT_<NAME>  $1 key id -> how many values are not sealed under it
 *   STMT_REKEY_PUT_<NAME>    $1 key, $2 new sealed, $3 old sealed [, $4 new lookup]: replaces
 *                            the value only if it is still the old one (a writer may have won) */
#define STMT_REKEY_ENUM_X(name, ...)                                                               \
    STMT_REKEY_SCAN_##name, STMT_REKEY_COUNT_##name, STMT_REKEY_PUT_##name,
    /* clang-format off */
    SEALED_COLUMNS(STMT_REKEY_ENUM_X, STMT_REKEY_ENUM_X)
#undef STMT_REKEY_ENUM_X
    /* open data speed (issue 13, item 8) */
    STMT_POPULATE_ACCOUNT, /* $1..$7 as STMT_ACCOUNT_INSERT: a confirmed account with open-data
                              consent, in one statement (cli/populate.c) */
    STMT_POPULATE_CACHE,   /* SQLite only: the page cache of populate's connection */
    STMT_OPENDATA_CACHE,   /* SQLite only: the page cache of the build's connection */
    /* moving a site to another database (issue 17, cli/migrate_copy.c) */
    STMT_COPY_BEGIN_READ,  /* a read-only transaction whose reads share one snapshot */
    STMT_COPY_TABLE_COUNT, /* -> how many tables the database has (0: a fresh one) */
/* Three per table of store/copy_tables.h:
 *   STMT_COPY_READ_<NAME>   -> the columns of every row, as listed
 *   STMT_COPY_WRITE_<NAME>  $1..$N the columns as listed: one row
 *   STMT_COPY_COUNT_<NAME>  -> count(*) */
#define STMT_COPY_ENUM_X(name, ...)                                                               \
    STMT_COPY_READ_##name, STMT_COPY_WRITE_##name, STMT_COPY_COUNT_##name,
    COPY_TABLES(STMT_COPY_ENUM_X)
#undef STMT_COPY_ENUM_X
    /* the storage gauges of /metrics (issue 18, item 8) */
    STMT_MAIL_QUEUE_STATS,  /* -> rows of the mail queue, oldest created_ms (NULL: empty) */
    STMT_OPENDATA_PUBLISHED, /* -> created_at of the current release (NULL: none) */
    /* several nodes (issue 17, item 3: account/ratelimit.c, privacy/sweep.c) */
    STMT_THROTTLE_RECENT, /* $1 kind, $2 key_hash, $3 window start (exclusive), $4 limit ->
                             at, n: the newest seconds with failures, newest first */
    STMT_THROTTLE_HIT,    /* $1 kind, $2 key_hash, $3 at (second), $4 expires_at: one failure */
    STMT_THROTTLE_RESET,  /* $1 kind, $2 key_hash */
    STMT_THROTTLE_GIVE_BACK, /* $1 kind, $2 key_hash, $3 at: one failure fewer (a row at 0
                                counts nothing and is swept with the others) */
    STMT_SWEEP_THROTTLE,  /* $1 now: rows outside every window */
    STMT_LEASE_TAKE,      /* $1 name, $2 holder, $3 until_ms, $4 now_ms: 1 row changed when
                             taken (free, or the last holder's lease ended), else 0 */
    STMT_LEASE_UNTIL,     /* $1 name -> until_ms */
    /* fewer round trips (issue 17) */
    STMT_SESSION_AUTH_MODEL, /* $1 token_hash, $2 now, $3 model id -> the columns of
                                STMT_SESSION_AUTH, then those of STMT_MODEL_GET (NULL when
                                the session's account has no such model) */
    STMT_MODEL_UPDATE_IF,    /* $1..$7 as STMT_MODEL_UPDATE, $8 the name_sealed read: only
                                if nobody wrote the model since */
    STMT_MODEL_GET_LOCK,     /* as STMT_MODEL_GET, in a transaction: PostgreSQL locks the row
                                (SQLite: BEGIN IMMEDIATE holds the database's write lock) */
    STMT__COUNT
    /* clang-format on */
};

#endif
