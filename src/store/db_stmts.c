/*
 * db_stmts.c - the SQL text of every prepared statement, once.
 *
 * Invariants:
 *  - The table is indexed by enum stmt (designated initialisers) and has
 *    exactly STMT__COUNT entries (checked at compile time); every entry has
 *    SQL (checked by tests/unit/test_db.c).
 *  - SQL is written with PostgreSQL's $1..$N placeholders. The SQLite driver
 *    rewrites them to ?1..?N, so a number may appear in any order or twice.
 *  - .pg is NULL when the common SQL is valid on both backends, the override
 *    otherwise, or PG_NONE for a statement that exists only on SQLite.
 *  - Only types both backends handle identically: 64-bit integers, UTF-8
 *    text, blobs. On PostgreSQL, casting results to bigint keeps db_col_int
 *    working (it decodes int2/int4/int8/bool only).
 *
 * To add a statement: name it in db_stmts.h, add its line here.
 */
#include <stddef.h>

#include "base/policy.h"
#include "store/driver.h"

/* Marker: this statement does not exist on PostgreSQL. */
static const char PG_NONE[] = "";

struct stmt_sql {
    const char *sql; /* common SQL (SQLite dialect when .pg is set) */
    const char *pg;  /* PostgreSQL override, NULL or PG_NONE */
};

static const struct stmt_sql stmt_table[] = {
    [STMT_PING] = {"SELECT 1", NULL},
    [STMT_BEGIN] = {"BEGIN IMMEDIATE", "BEGIN"},
    [STMT_COMMIT] = {"COMMIT", NULL},
    [STMT_ROLLBACK] = {"ROLLBACK", NULL},
    [STMT_SCHEMA_VERSION] = {"SELECT coalesce(max(version), 0) FROM schema_migrations", NULL},
    [STMT_SCHEMA_RECORD] = {"INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                            NULL},
    [STMT_META_GET] = {"SELECT value FROM meta WHERE key = $1", NULL},
    [STMT_META_PUT] = {"INSERT INTO meta (key, value) VALUES ($1, $2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       NULL},
    /* BEGIN IMMEDIATE already serialises writers on SQLite. */
    [STMT_MIGRATE_LOCK] = {"SELECT $1", "SELECT pg_advisory_xact_lock($1)"},
    [STMT_SCHEMA_LIST] = {"SELECT version, applied_at FROM schema_migrations ORDER BY version",
                          NULL},
    [STMT_SQLITE_PRAGMAS] = {"SELECT (SELECT secure_delete FROM pragma_secure_delete),"
                             " (SELECT synchronous FROM pragma_synchronous),"
                             " (SELECT journal_mode FROM pragma_journal_mode),"
                             " (SELECT foreign_keys FROM pragma_foreign_keys),"
                             " (SELECT timeout FROM pragma_busy_timeout),"
                             " (SELECT temp_store FROM pragma_temp_store)",
                             PG_NONE},
    /* accounts (issue 3) */
    /* SQLite keeps the renamed clear column (migration 7): '#' || id. */
    [STMT_ACCOUNT_INSERT] =
        {"INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup,"
         " username_sealed, password_hash, created_at, updated_at,"
         " last_login_at, retired_username)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, '#' || $1)",
         "INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup,"
         " username_sealed, password_hash, created_at, updated_at,"
         " last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)"},
    [STMT_ACCOUNT_BY_EMAIL] = {"SELECT id, password_hash FROM accounts WHERE email_lookup = $1",
                               NULL},
    [STMT_ACCOUNT_BY_USERNAME] =
        {"SELECT id, password_hash FROM accounts WHERE username_lookup = $1", NULL},
    [STMT_ACCOUNT_GET] = {"SELECT id, email_sealed, username_sealed, bio_sealed, social_sealed,"
                          " consent_open_data, created_at, last_login_at,"
                          " (SELECT count(*) FROM account_pictures p WHERE p.account_id = a.id),"
                          " password_hash FROM accounts a WHERE id = $1",
                          NULL},
    [STMT_ACCOUNT_LOGIN] = {"UPDATE accounts SET last_login_at = $2, notice_sent_at = NULL"
                            " WHERE id = $1",
                            NULL},
    [STMT_ACCOUNT_SET_PASSWORD] = {"UPDATE accounts SET password_hash = $2, updated_at = $3"
                                   " WHERE id = $1",
                                   NULL},
    [STMT_ACCOUNT_SET_USERNAME] = {"UPDATE accounts SET username_lookup = $2, username_sealed = $3,"
                                   " updated_at = $4"
                                   " WHERE id = $1",
                                   NULL},
    [STMT_ACCOUNT_SET_BIO] = {"UPDATE accounts SET bio_sealed = $2, updated_at = $3 WHERE id = $1",
                              NULL},
    [STMT_ACCOUNT_SET_SOCIAL] = {"UPDATE accounts SET social_sealed = $2, updated_at = $3"
                                 " WHERE id = $1",
                                 NULL},
    [STMT_ACCOUNT_SET_CONSENT] = {"UPDATE accounts SET consent_open_data = $2, updated_at = $3"
                                  " WHERE id = $1",
                                  NULL},
    [STMT_ACCOUNT_SET_EMAIL] = {"UPDATE accounts SET email_lookup = $2, email_sealed = $3,"
                                " updated_at = $4 WHERE id = $1",
                                NULL},
    [STMT_ACCOUNT_DELETE] = {"DELETE FROM accounts WHERE id = $1", NULL},
    [STMT_SIGNUP_INSERT] = {"INSERT INTO signups (token_hash, email_lookup, email_sealed,"
                            " username_sealed,"
                            " password_hash, created_at, expires_at)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            NULL},
    [STMT_SIGNUP_TAKE] = {"DELETE FROM signups WHERE token_hash = $1"
                          " RETURNING email_lookup, email_sealed, username_sealed, password_hash,"
                          " expires_at",
                          NULL},
    [STMT_SIGNUP_DELETE_EMAIL] = {"DELETE FROM signups WHERE email_lookup = $1", NULL},
    [STMT_TOKEN_INSERT] = {"INSERT INTO tokens (token_hash, account_id, kind, payload_sealed,"
                           " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           NULL},
    [STMT_TOKEN_TAKE] = {"DELETE FROM tokens WHERE token_hash = $1 AND kind = $2"
                         " RETURNING account_id, payload_sealed, expires_at, session_id",
                         NULL},
    [STMT_TOKEN_PEEK] = {"SELECT account_id FROM tokens"
                         " WHERE token_hash = $1 AND kind = $2 AND expires_at > $3",
                         NULL},
    [STMT_TOKEN_DELETE] = {"DELETE FROM tokens WHERE token_hash = $1 AND kind = $2", NULL},
    [STMT_TOKEN_DELETE_KIND] = {"DELETE FROM tokens WHERE account_id = $1 AND kind = $2", NULL},
    [STMT_SESSION_INSERT] = {"INSERT INTO sessions (id, account_id, token_hash, created_ms,"
                             " expires_at) VALUES ($1, $2, $3, $4, $5)",
                             NULL},
    [STMT_SESSION_AUTH] = {"SELECT s.id, s.account_id, a.restricted_at"
                           " FROM sessions s JOIN accounts a ON a.id = s.account_id"
                           " WHERE s.token_hash = $1 AND s.expires_at > $2",
                           NULL},
    [STMT_SESSION_DELETE] = {"DELETE FROM sessions WHERE id = $1", NULL},
    [STMT_SESSION_DELETE_OTHERS] = {"DELETE FROM sessions WHERE account_id = $1 AND id <> $2",
                                    NULL},
    [STMT_SESSION_DELETE_ALL] = {"DELETE FROM sessions WHERE account_id = $1", NULL},
    [STMT_SESSION_EVICT] = {"DELETE FROM sessions WHERE account_id = $1 AND id NOT IN"
                            " (SELECT id FROM sessions WHERE account_id = $1"
                            " ORDER BY created_ms DESC, id DESC LIMIT $2)",
                            NULL},
    [STMT_PICTURE_PUT] = {"INSERT INTO account_pictures (account_id, content_type, data_sealed,"
                          " updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE"
                          " SET content_type = excluded.content_type,"
                          " data_sealed = excluded.data_sealed, updated_at = excluded.updated_at",
                          NULL},
    [STMT_PICTURE_GET] = {"SELECT content_type, data_sealed FROM account_pictures"
                          " WHERE account_id = $1",
                          NULL},
    [STMT_PICTURE_DELETE] = {"DELETE FROM account_pictures WHERE account_id = $1", NULL},
    [STMT_MAIL_INSERT] = {"INSERT INTO mail_queue (id, account_id, message_sealed, created_ms,"
                          " next_attempt_ms) VALUES ($1, $2, $3, $4, $5)",
                          NULL},
    [STMT_MAIL_DUE] = {"SELECT id, message_sealed, attempts, next_attempt_ms, account_id"
                       " FROM mail_queue"
                       " WHERE next_attempt_ms <= $1 ORDER BY next_attempt_ms LIMIT $2",
                       NULL},
    [STMT_MAIL_CLAIM] = {"UPDATE mail_queue SET next_attempt_ms = $3"
                         " WHERE id = $1 AND next_attempt_ms = $2",
                         NULL},
    [STMT_MAIL_DONE] = {"DELETE FROM mail_queue WHERE id = $1", NULL},
    [STMT_MAIL_RETRY] = {"UPDATE mail_queue SET attempts = $2, next_attempt_ms = $3 WHERE id = $1",
                         NULL},
    /* models (issue 4) */
    [STMT_MODEL_INSERT] = {"INSERT INTO models (id, account_id, name_sealed, notes_sealed,"
                           " breasts_sealed, measurements_sealed, created_at, updated_at)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                           NULL},
    [STMT_MODEL_GET] = {"SELECT m.id, m.name_sealed, m.notes_sealed, m.breasts_sealed, "
                        "m.measurements_sealed, m.created_at, m.updated_at, (SELECT count(*) FROM "
                        "model_avatars v WHERE v.model_id = m.id)"
                        " FROM models m WHERE m.id = $1 AND m.account_id = $2",
                        NULL},
    [STMT_MODEL_LIST] = {"SELECT m.id, m.name_sealed, m.notes_sealed, m.breasts_sealed, "
                         "m.measurements_sealed, m.created_at, m.updated_at, (SELECT count(*) FROM "
                         "model_avatars v WHERE v.model_id = m.id)"
                         " FROM models m WHERE m.account_id = $1 ORDER BY m.created_at, m.id",
                         NULL},
    [STMT_MODEL_UPDATE] = {"UPDATE models SET name_sealed = $3, notes_sealed = $4,"
                           " breasts_sealed = $5,"
                           " measurements_sealed = $6, updated_at = $7"
                           " WHERE id = $1 AND account_id = $2",
                           NULL},
    [STMT_MODEL_DELETE] = {"DELETE FROM models WHERE id = $1 AND account_id = $2", NULL},
    [STMT_MODEL_COUNT] = {"SELECT count(*) FROM models WHERE account_id = $1", NULL},
    [STMT_AVATAR_PUT] = {"INSERT INTO model_avatars (model_id, content_type, data_sealed,"
                         " updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (model_id) DO UPDATE"
                         " SET content_type = excluded.content_type,"
                         " data_sealed = excluded.data_sealed, updated_at = excluded.updated_at",
                         NULL},
    [STMT_AVATAR_GET] = {"SELECT v.content_type, v.data_sealed FROM model_avatars v"
                         " JOIN models m ON m.id = v.model_id"
                         " WHERE v.model_id = $1 AND m.account_id = $2",
                         NULL},
    [STMT_AVATAR_DELETE] = {"DELETE FROM model_avatars WHERE model_id = $1 AND model_id IN"
                            " (SELECT id FROM models WHERE account_id = $2)",
                            NULL},
    /* privacy lifecycle (issue 5) */
    [STMT_SWEEP_NOTICE_DUE] = {"SELECT id, email_sealed FROM accounts WHERE last_login_at <= $1"
                               " AND notice_sent_at IS NULL AND restricted_at IS NULL"
                               " ORDER BY last_login_at LIMIT $2",
                               NULL},
    [STMT_SWEEP_NOTICE_MARK] = {"UPDATE accounts SET notice_sent_at = $2 WHERE id = $1", NULL},
    [STMT_SWEEP_INACTIVE] = {"SELECT id FROM accounts WHERE last_login_at <= $1"
                             " ORDER BY last_login_at LIMIT $2",
                             NULL},
    [STMT_SWEEP_SIGNUPS] = {"DELETE FROM signups WHERE created_at <= $1", NULL},
    [STMT_SWEEP_SESSIONS] = {"DELETE FROM sessions WHERE expires_at <= $1", NULL},
    [STMT_SWEEP_TOKENS] = {"DELETE FROM tokens WHERE expires_at <= $1", NULL},
    [STMT_SESSION_LIST] = {"SELECT id, created_ms, expires_at FROM sessions WHERE account_id = $1"
                           " ORDER BY created_ms, id",
                           NULL},
    [STMT_TOKEN_LIST] = {"SELECT kind, created_at, expires_at, token_hash, payload_sealed"
                         " FROM tokens WHERE account_id = $1 ORDER BY created_at",
                         NULL},
    [STMT_MAIL_COUNT] = {"SELECT count(*) FROM mail_queue WHERE account_id = $1", NULL},
    [STMT_MAIL_QUEUED] = {"SELECT count(*) FROM mail_queue", NULL},
    [STMT_ACCOUNT_TIMES] = {"SELECT created_at, updated_at, last_login_at, notice_sent_at"
                            " FROM accounts WHERE id = $1",
                            NULL},
    [STMT_SQLITE_CHECKPOINT] = {"PRAGMA wal_checkpoint(TRUNCATE)", PG_NONE},
    /* open data (issue 6) */
    [STMT_OPENDATA_INSERT] = {"INSERT INTO opendata_releases (id, created_at, meta, csv)"
                              " VALUES ($1, $2, $3, $4)",
                              NULL},
    [STMT_OPENDATA_PRUNE] = {"DELETE FROM opendata_releases WHERE id <> $1", NULL},
    [STMT_OPENDATA_LATEST_META] = {"SELECT meta FROM opendata_releases"
                                   " ORDER BY created_at DESC, id LIMIT 1",
                                   NULL},
    [STMT_OPENDATA_LATEST_CSV] = {"SELECT csv FROM opendata_releases"
                                  " ORDER BY created_at DESC, id LIMIT 1",
                                  NULL},
    [STMT_OPENDATA_LATEST_JSON] = {"SELECT meta, csv FROM opendata_releases"
                                   " ORDER BY created_at DESC, id LIMIT 1",
                                   NULL},
    /* the differentially private open data (issue 13) */
    [STMT_DP_LAST_BUILD] = {"SELECT max(quarter) FROM opendata_builds", NULL},
    [STMT_DP_BUILD_INSERT] = {"INSERT INTO opendata_builds (id, created_at, rho_milli,"
                              " cadence_ignored, quarter, published)"
                              " VALUES ($1, $2, $3, $4, $5, 0)",
                              NULL},
    [STMT_DP_BUILD_PUBLISH] = {"UPDATE opendata_builds SET published = 1 WHERE id = $1", NULL},
    /* The WHERE true keeps SQLite from reading ON CONFLICT as a join clause. */
    /* The WHERE keeps SQLite from reading ON CONFLICT as a join clause; the
     * casts give PostgreSQL the parameters' types. */
    [STMT_DP_CHARGE] = {"INSERT INTO dp_ledger (account_id, spent_milli, last_build)"
                        " SELECT a.id, CAST($1 AS BIGINT), CAST($2 AS TEXT) FROM accounts a"
                        " WHERE a.consent_open_data = 1 AND a.restricted_at IS NULL"
                        " AND EXISTS (SELECT 1 FROM models m WHERE m.account_id = a.id)"
                        " AND CAST($1 AS BIGINT) <= CAST($3 AS BIGINT)"
                        " ORDER BY a.id"
                        " ON CONFLICT (account_id) DO UPDATE"
                        " SET spent_milli = dp_ledger.spent_milli + CAST($1 AS BIGINT),"
                        " last_build = CAST($2 AS TEXT)"
                        " WHERE dp_ledger.spent_milli + CAST($1 AS BIGINT) <= CAST($3 AS BIGINT)",
                        NULL},
    [STMT_DP_MEMBERS] = {"SELECT m.account_id, m.id, m.breasts_sealed, m.measurements_sealed"
                         " FROM models m CROSS JOIN dp_ledger l CROSS JOIN accounts a"
                         " WHERE l.last_build = $1 AND a.consent_open_data = 1"
                         " AND a.restricted_at IS NULL"
                         " AND l.account_id = m.account_id AND a.id = m.account_id"
                         " ORDER BY m.account_id, m.updated_at DESC, m.id DESC",
                         NULL},
    [STMT_DP_LEDGER_GET] = {"SELECT spent_milli FROM dp_ledger WHERE account_id = $1", NULL},
    /* key rotation (issue 14). The per-column statements are generated from
     * base/sealed.h: names only, joined at compile time. substr() of a BLOB
     * (SQLite) or bytea (PostgreSQL) counts bytes, so substr(v, 2, 4) is the
     * key id of a sealed value (base/seal.h). */
    [STMT_META_DELETE] = {"DELETE FROM meta WHERE key = $1", NULL},
    [STMT_REKEY_ACCOUNT_IDS] = {"SELECT id FROM accounts WHERE id > $1 ORDER BY id LIMIT $2", NULL},
#define REKEY_SQL_COMMON(name, table, key, field)                                                  \
    [STMT_REKEY_SCAN_##name] = {"SELECT " key ", " field "_sealed FROM " table " WHERE " key       \
                                " > $1 AND " field "_sealed IS NOT NULL"                           \
                                " AND substr(" field "_sealed, 2, 4) <> $2"                        \
                                " ORDER BY " key " LIMIT $3",                                      \
                                NULL},                                                             \
    [STMT_REKEY_COUNT_##name] = {"SELECT count(*) FROM " table " WHERE " field                     \
                                 "_sealed IS NOT NULL AND substr(" field "_sealed, 2, 4) <> $1",   \
                                 NULL},
#define REKEY_SQL_X(name, table, key, kind, field)                                                 \
    REKEY_SQL_COMMON(name, table, key, field)                                                      \
    [STMT_REKEY_PUT_##name] = {"UPDATE " table " SET " field "_sealed = $2 WHERE " key             \
                               " = $1 AND " field "_sealed = $3",                                  \
                               NULL},
#define REKEY_SQL_L(name, table, key, kind, field, lookup)                                         \
    REKEY_SQL_COMMON(name, table, key, field)                                                      \
    [STMT_REKEY_PUT_##name] = {"UPDATE " table " SET " field "_sealed = $2, " lookup               \
                               "_lookup = $4 WHERE " key " = $1 AND " field "_sealed = $3",        \
                               NULL},
    SEALED_COLUMNS(REKEY_SQL_X, REKEY_SQL_L)
#undef REKEY_SQL_X
#undef REKEY_SQL_L
#undef REKEY_SQL_COMMON
        /* BEGIN IMMEDIATE already serialises SQLite's writers. */
        [STMT_ACCOUNT_LOCK] = {"SELECT id FROM accounts WHERE id = $1",
                               "SELECT id FROM accounts WHERE id = $1 FOR UPDATE"},
    [STMT_BEGIN_READ] = {"BEGIN DEFERRED", PG_NONE},
    /* account links (issue 12) */
    [STMT_TOKEN_INSERT_SESSION] = {"INSERT INTO tokens (token_hash, account_id, kind,"
                                   " payload_sealed, created_at, expires_at, session_id)"
                                   " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                   NULL},
    [STMT_SIGNUP_PEEK] = {"SELECT password_hash FROM signups WHERE token_hash = $1", NULL},
    /* the per-recipient mail cap (issue 12) */
    [STMT_MAIL_RCPT_COUNT] = {"SELECT count(*) FROM mail_recipients WHERE lookup = $1"
                              " AND at_ms >= $2",
                              NULL},
    [STMT_MAIL_RCPT_INSERT] = {"INSERT INTO mail_recipients (lookup, at_ms) VALUES ($1, $2)", NULL},
    [STMT_MAIL_RCPT_PRUNE] = {"DELETE FROM mail_recipients WHERE at_ms < $1", NULL},
    /* issue 12: the upgrade that seals clear columns (between migrations 7 and 8) */
    [STMT_UPGRADE_ACCOUNTS] = {"SELECT id, username FROM accounts WHERE username_sealed IS NULL"
                               " ORDER BY id LIMIT $1",
                               NULL},
    [STMT_UPGRADE_ACCOUNT_SEAL] = {"UPDATE accounts SET username_lookup = $2, username_sealed = $3"
                                   " WHERE id = $1",
                                   NULL},
    [STMT_UPGRADE_SIGNUPS] = {"SELECT token_hash, username FROM signups"
                              " WHERE username_sealed IS NULL ORDER BY token_hash LIMIT $1",
                              NULL},
    [STMT_UPGRADE_SIGNUP_SEAL] = {"UPDATE signups SET username_sealed = $2 WHERE token_hash = $1",
                                  NULL},
    [STMT_UPGRADE_MODELS] = {"SELECT id, breasts FROM models WHERE breasts_sealed IS NULL"
                             " ORDER BY id LIMIT $1",
                             NULL},
    [STMT_UPGRADE_MODEL_SEAL] = {"UPDATE models SET breasts_sealed = $2 WHERE id = $1", NULL},
    /* API keys and restriction of processing (issue 14) */
    [STMT_APIKEY_INSERT] = {"INSERT INTO api_keys (id, account_id, key_hash, name_sealed, scope,"
                            " created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            NULL},
    [STMT_APIKEY_COUNT] = {"SELECT count(*) FROM api_keys WHERE account_id = $1"
                           " AND expires_ms > $2",
                           NULL},
    [STMT_APIKEY_AUTH] = {"SELECT k.id, k.account_id, k.scope, k.last_used_ms, a.restricted_at"
                          " FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                          " WHERE k.key_hash = $1 AND k.expires_ms > $2",
                          NULL},
    [STMT_APIKEY_TOUCH] = {"UPDATE api_keys SET last_used_ms = $2 WHERE id = $1"
                           " AND (last_used_ms IS NULL OR last_used_ms <= $3)",
                           NULL},
    [STMT_APIKEY_LIST] = {"SELECT id, name_sealed, scope, created_ms, expires_ms, last_used_ms"
                          " FROM api_keys WHERE account_id = $1 ORDER BY created_ms, id",
                          NULL},
    [STMT_APIKEY_DELETE] = {"DELETE FROM api_keys WHERE id = $1 AND account_id = $2", NULL},
    [STMT_SWEEP_APIKEYS] = {"DELETE FROM api_keys WHERE expires_ms <= $1", NULL},
    [STMT_ACCOUNT_RESTRICTION] = {"SELECT restricted_at FROM accounts WHERE id = $1", NULL},
    [STMT_ACCOUNT_RESTRICT] = {"UPDATE accounts SET restricted_at = $2, updated_at = $2"
                               " WHERE id = $1 AND restricted_at IS NULL",
                               NULL},
    [STMT_ACCOUNT_UNRESTRICT] = {"UPDATE accounts SET restricted_at = NULL, updated_at = $2"
                                 " WHERE id = $1 AND restricted_at IS NOT NULL",
                                 NULL},
    /* saved patterns (issue 14): every statement names the owner */
    [STMT_PATTERN_INSERT] = {"INSERT INTO patterns (id, account_id, model_id, design_sealed,"
                             " name_sealed, notes_sealed, options_sealed, snapshot_sealed,"
                             " snapshot_at, created_at, updated_at)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)",
                             NULL},
    [STMT_PATTERN_GET] = {"SELECT id, model_id, design_sealed, name_sealed, notes_sealed,"
                          " options_sealed, snapshot_sealed, snapshot_at, created_at, updated_at"
                          " FROM patterns WHERE id = $1 AND account_id = $2",
                          NULL},
    [STMT_PATTERN_LIST] = {"SELECT id, model_id, design_sealed, name_sealed, options_sealed,"
                           " snapshot_at, created_at, updated_at"
                           " FROM patterns WHERE account_id = $1 ORDER BY created_at, id",
                           NULL},
    [STMT_PATTERN_EXPORT] = {"SELECT id, model_id, design_sealed, name_sealed, notes_sealed,"
                             " options_sealed, snapshot_sealed, snapshot_at, created_at,"
                             " updated_at FROM patterns WHERE account_id = $1"
                             " ORDER BY created_at, id",
                             NULL},
    [STMT_PATTERN_UPDATE] = {"UPDATE patterns SET name_sealed = $3, notes_sealed = $4,"
                             " options_sealed = $5, updated_at = $6"
                             " WHERE id = $1 AND account_id = $2",
                             NULL},
    [STMT_PATTERN_SNAPSHOT] = {"UPDATE patterns SET snapshot_sealed = $3, snapshot_at = $4,"
                               " updated_at = $4 WHERE id = $1 AND account_id = $2",
                               NULL},
    [STMT_PATTERN_DELETE] = {"DELETE FROM patterns WHERE id = $1 AND account_id = $2", NULL},
    [STMT_PATTERN_COUNT] = {"SELECT count(*) FROM patterns WHERE account_id = $1", NULL},
    /* the site (issue 16): the account's measurement units */
    [STMT_ACCOUNT_UNITS_GET] = {"SELECT units FROM accounts WHERE id = $1", NULL},
    [STMT_ACCOUNT_SET_UNITS] = {"UPDATE accounts SET units = $2, updated_at = $3 WHERE id = $1",
                                NULL},
    /* two-factor login (issue 14) */
    [STMT_MFA_GET] = {"SELECT m.secret_sealed, m.created_at, m.enabled_at, m.last_step,"
                      " (SELECT count(*) FROM mfa_recovery_codes r"
                      " WHERE r.account_id = m.account_id)"
                      " FROM account_mfa m WHERE m.account_id = $1",
                      NULL},
    [STMT_MFA_SETUP] = {"INSERT INTO account_mfa (account_id, secret_sealed, created_at,"
                        " enabled_at, last_step) VALUES ($1, $2, $3, NULL, -1)"
                        " ON CONFLICT (account_id) DO UPDATE"
                        " SET secret_sealed = excluded.secret_sealed,"
                        " created_at = excluded.created_at, last_step = -1"
                        " WHERE account_mfa.enabled_at IS NULL",
                        NULL},
    [STMT_MFA_ENABLE] = {"UPDATE account_mfa SET enabled_at = $2, last_step = $3"
                         " WHERE account_id = $1 AND enabled_at IS NULL AND secret_sealed = $4",
                         NULL},
    [STMT_MFA_USE_STEP] = {"UPDATE account_mfa SET last_step = $2"
                           " WHERE account_id = $1 AND enabled_at IS NOT NULL AND last_step < $2",
                           NULL},
    [STMT_MFA_DISABLE] = {"DELETE FROM account_mfa WHERE account_id = $1", NULL},
    [STMT_MFA_CODES_DELETE] = {"DELETE FROM mfa_recovery_codes WHERE account_id = $1", NULL},
    [STMT_MFA_CODE_INSERT] = {"INSERT INTO mfa_recovery_codes (account_id, code_hash, created_at)"
                              " VALUES ($1, $2, $3)",
                              NULL},
    [STMT_MFA_CODE_USE] = {"DELETE FROM mfa_recovery_codes WHERE account_id = $1"
                           " AND code_hash = $2",
                           NULL},
    [STMT_MFA_EXPORT] = {"SELECT m.created_at, m.enabled_at, m.last_step,"
                         " (SELECT count(*) FROM mfa_recovery_codes r"
                         " WHERE r.account_id = m.account_id)"
                         " FROM account_mfa m WHERE m.account_id = $1",
                         NULL},
    [STMT_SWEEP_MFA_SETUPS] = {"DELETE FROM account_mfa WHERE enabled_at IS NULL"
                               " AND created_at <= $1",
                               NULL},
    /* open data speed (issue 13, item 8). The row STMT_ACCOUNT_INSERT then
     * STMT_ACCOUNT_SET_CONSENT (1, same time) would leave, in one statement. */
    [STMT_POPULATE_ACCOUNT] =
        {"INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup,"
         " username_sealed, password_hash, created_at, updated_at,"
         " last_login_at, retired_username, consent_open_data)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, '#' || $1, 1)",
         "INSERT INTO accounts (id, email_lookup, email_sealed, username_lookup,"
         " username_sealed, password_hash, created_at, updated_at,"
         " last_login_at, consent_open_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, 1)"},
    [STMT_POPULATE_CACHE] = {"PRAGMA cache_size=-" POLICY_STR(LIMIT_POPULATE_CACHE_KIB), PG_NONE},
    [STMT_OPENDATA_CACHE] = {"PRAGMA cache_size=-" POLICY_STR(LIMIT_OPENDATA_CACHE_KIB), PG_NONE},
    /* moving a site to another database (issue 17). The per-table statements
     * are generated from store/copy_tables.h; SQLite's accounts keep the
     * retired clear column (migration 8). */
    [STMT_COPY_BEGIN_READ] = {"BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
    [STMT_COPY_TABLE_COUNT] = {"SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite%'",
                               "SELECT count(*) FROM information_schema.tables"
                               " WHERE table_schema = current_schema()"},
#define COPY_SQL_X(name, table, cols, vals, types, sqlite_cols, sqlite_vals)                       \
    [STMT_COPY_READ_##name] = {"SELECT " cols " FROM " table, NULL},                               \
    [STMT_COPY_WRITE_##name] = {"INSERT INTO " table " (" cols sqlite_cols                         \
                                ") VALUES (" vals sqlite_vals ")",                                 \
                                "INSERT INTO " table " (" cols ") VALUES (" vals ")"},             \
    [STMT_COPY_COUNT_##name] = {"SELECT count(*) FROM " table, NULL},
    COPY_TABLES(COPY_SQL_X)
#undef COPY_SQL_X
        /* the storage gauges of /metrics (issue 18, item 8): aggregates over a
         * queue that delivery keeps short and a table of one release */
        [STMT_MAIL_QUEUE_STATS] = {"SELECT count(*), min(created_ms) FROM mail_queue", NULL},
    [STMT_OPENDATA_PUBLISHED] = {"SELECT max(created_at) FROM opendata_releases", NULL},
    /* several nodes (issue 17, item 3) */
    [STMT_THROTTLE_RECENT] = {"SELECT at, n FROM throttle WHERE kind = $1 AND key_hash = $2"
                              " AND at > $3 AND n > 0 ORDER BY at DESC LIMIT $4",
                              NULL},
    [STMT_THROTTLE_HIT] = {"INSERT INTO throttle (kind, key_hash, at, n, expires_at)"
                           " VALUES ($1, $2, $3, 1, $4)"
                           " ON CONFLICT (kind, key_hash, at) DO UPDATE SET n = throttle.n + 1,"
                           " expires_at = excluded.expires_at",
                           NULL},
    [STMT_THROTTLE_RESET] = {"DELETE FROM throttle WHERE kind = $1 AND key_hash = $2", NULL},
    [STMT_THROTTLE_GIVE_BACK] = {"UPDATE throttle SET n = n - 1 WHERE kind = $1 AND key_hash = $2"
                                 " AND at = $3 AND n > 0",
                                 NULL},
    [STMT_SWEEP_THROTTLE] = {"DELETE FROM throttle WHERE expires_at <= $1", NULL},
    [STMT_LEASE_TAKE] = {"INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3)"
                         " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                         " until_ms = excluded.until_ms WHERE leases.until_ms <= $4",
                         NULL},
    [STMT_LEASE_UNTIL] = {"SELECT until_ms FROM leases WHERE name = $1", NULL},
    /* fewer round trips (issue 17): the session check joined to the model a
     * route names, so an authenticated model read is one statement */
    [STMT_SESSION_AUTH_MODEL] = {"SELECT s.id, s.account_id, a.restricted_at,"
                                 " m.id, m.name_sealed, m.notes_sealed, m.breasts_sealed,"
                                 " m.measurements_sealed, m.created_at, m.updated_at,"
                                 " (SELECT count(*) FROM model_avatars v WHERE v.model_id = m.id)"
                                 " FROM sessions s JOIN accounts a ON a.id = s.account_id"
                                 " LEFT JOIN models m ON m.id = $3 AND m.account_id = s.account_id"
                                 " WHERE s.token_hash = $1 AND s.expires_at > $2",
                                 NULL},
    [STMT_MODEL_UPDATE_IF] = {"UPDATE models SET name_sealed = $3, notes_sealed = $4,"
                              " breasts_sealed = $5,"
                              " measurements_sealed = $6, updated_at = $7"
                              " WHERE id = $1 AND account_id = $2 AND name_sealed = $8",
                              NULL},
    [STMT_MODEL_GET_LOCK] =
        {"SELECT m.id, m.name_sealed, m.notes_sealed, m.breasts_sealed, "
         "m.measurements_sealed, m.created_at, m.updated_at, (SELECT count(*) "
         "FROM model_avatars v WHERE v.model_id = m.id)"
         " FROM models m WHERE m.id = $1 AND m.account_id = $2",
         "SELECT m.id, m.name_sealed, m.notes_sealed, m.breasts_sealed, "
         "m.measurements_sealed, m.created_at, m.updated_at, (SELECT count(*) "
         "FROM model_avatars v WHERE v.model_id = m.id)"
         " FROM models m WHERE m.id = $1 AND m.account_id = $2 FOR UPDATE OF m"},
};

_Static_assert(sizeof stmt_table / sizeof stmt_table[0] == STMT__COUNT,
               "stmt_table must have one entry per enum stmt");

/* SQL of statement id for backend b; NULL when id is out of range, has no
 * SQL, or does not exist on that backend. */
bool db_stmt_reads(enum stmt id, enum db_backend b)
{
    const char *sql = db_stmt_sql(id, b);

    return sql != NULL && strncmp(sql, "SELECT", 6) == 0;
}

const char *db_stmt_sql(enum stmt id, enum db_backend b)
{
    const struct stmt_sql *s;

    if ((unsigned)id >= STMT__COUNT)
        return NULL;
    s = &stmt_table[id];
    if (b == DB_POSTGRES && s->pg != NULL)
        return s->pg == PG_NONE ? NULL : s->pg;
    return s->sql;
}
