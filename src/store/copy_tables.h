/*
 * copy_tables.h - the registry of tables that `atelier migrate --from --to`
 * copies from one database to another (cli/migrate_copy.c), listed once, in
 * dependency order (a table after every table it references).
 *
 * Who reads it:
 *   - store/db_stmts.c generates, for each entry, three statements from the
 *     names below (string literals only: no SQL is built at run time):
 *       STMT_COPY_READ_<NAME>   SELECT <columns> FROM <table>
 *       STMT_COPY_WRITE_<NAME>  INSERT INTO <table> (<columns>) VALUES (<values>)
 *       STMT_COPY_COUNT_<NAME>  SELECT count(*) FROM <table>
 *   - cli/migrate_copy.c copies every entry in this order, reading each
 *     column as its type letter says (I integer, T text, B blob; NULL kept);
 *   - tests/unit/test_copy_tables.c checks that the migrated schema's tables
 *     and columns are exactly the ones listed here (schema_migrations apart:
 *     each database keeps its own), on SQLite and, given a URL, PostgreSQL.
 *
 * Entry: X(NAME, "table", "columns", "values", "types", "sqlite columns",
 * "sqlite values"): columns and values are the comma-separated lists of the
 * INSERT, types one letter per column; the last two are appended on SQLite
 * only (accounts.retired_username, the clear column SQLite could not drop in
 * migration 8: it holds '#' and the id, nothing personal).
 *
 * A new table (or column) of the schema is one line (or a name and a letter)
 * here, and nothing else: the unit test fails until it is listed.
 */
#ifndef ATELIER_COPY_TABLES_H
#define ATELIER_COPY_TABLES_H

/* clang-format off */
#define COPY_TABLES(X)                                                                             \
    X(META, "meta", "key, value", "$1, $2", "TB", "", "")                                          \
    X(ACCOUNTS, "accounts",                                                                        \
      "id, email_lookup, email_sealed, password_hash, bio_sealed, social_sealed,"                  \
      " consent_open_data, created_at, updated_at, last_login_at, notice_sent_at,"                 \
      " username_lookup, username_sealed, restricted_at, units",                                   \
      "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15",                          \
      "TBBTBBIIIIIBBIT", ", retired_username", ", '#' || $1")                                      \
    X(SIGNUPS, "signups",                                                                          \
      "token_hash, email_lookup, email_sealed, password_hash, created_at, expires_at,"             \
      " username_sealed",                                                                          \
      "$1, $2, $3, $4, $5, $6, $7", "BBBTIIB", "", "")                                             \
    X(SESSIONS, "sessions", "id, account_id, token_hash, created_ms, expires_at",                  \
      "$1, $2, $3, $4, $5", "TTBII", "", "")                                                       \
    X(TOKENS, "tokens",                                                                            \
      "token_hash, account_id, kind, payload_sealed, created_at, expires_at, session_id",          \
      "$1, $2, $3, $4, $5, $6, $7", "BTTBIIT", "", "")                                             \
    X(ACCOUNT_PICTURES, "account_pictures", "account_id, content_type, data_sealed, updated_at",   \
      "$1, $2, $3, $4", "TTBI", "", "")                                                            \
    X(MAIL_QUEUE, "mail_queue",                                                                    \
      "id, account_id, message_sealed, attempts, created_ms, next_attempt_ms",                     \
      "$1, $2, $3, $4, $5, $6", "TTBIII", "", "")                                                  \
    X(MAIL_RECIPIENTS, "mail_recipients", "lookup, at_ms", "$1, $2", "BI", "", "")                 \
    X(MODELS, "models",                                                                            \
      "id, account_id, name_sealed, notes_sealed, measurements_sealed, created_at, updated_at,"    \
      " breasts_sealed",                                                                           \
      "$1, $2, $3, $4, $5, $6, $7, $8", "TTBBBIIB", "", "")                                        \
    X(MODEL_AVATARS, "model_avatars", "model_id, content_type, data_sealed, updated_at",           \
      "$1, $2, $3, $4", "TTBI", "", "")                                                            \
    X(PATTERNS, "patterns",                                                                        \
      "id, account_id, model_id, design_sealed, name_sealed, notes_sealed, options_sealed,"        \
      " snapshot_sealed, snapshot_at, created_at, updated_at",                                     \
      "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11", "TTTBBBBBIII", "", "")                       \
    X(OPENDATA_RELEASES, "opendata_releases", "id, created_at, meta, csv", "$1, $2, $3, $4",       \
      "TITB", "", "")                                                                              \
    X(OPENDATA_BUILDS, "opendata_builds",                                                          \
      "id, created_at, rho_milli, quarter, cadence_ignored, published",                            \
      "$1, $2, $3, $4, $5, $6", "TIIIII", "", "")                                                  \
    X(DP_LEDGER, "dp_ledger", "account_id, spent_milli, last_build", "$1, $2, $3", "TIT", "", "")  \
    X(ACCOUNT_MFA, "account_mfa", "account_id, secret_sealed, created_at, enabled_at, last_step",  \
      "$1, $2, $3, $4, $5", "TBIII", "", "")                                                       \
    X(MFA_RECOVERY_CODES, "mfa_recovery_codes", "account_id, code_hash, created_at",               \
      "$1, $2, $3", "TBI", "", "")                                                                 \
    X(API_KEYS, "api_keys",                                                                        \
      "id, account_id, key_hash, name_sealed, scope, created_ms, expires_ms, last_used_ms",        \
      "$1, $2, $3, $4, $5, $6, $7, $8", "TTBBTIII", "", "")                                      \
    X(THROTTLE, "throttle", "kind, key_hash, at, n, expires_at", "$1, $2, $3, $4, $5", "IBIII",    \
      "", "")                                                                                      \
    X(LEASES, "leases", "name, holder, until_ms", "$1, $2, $3", "TTI", "", "")
/* clang-format on */

#endif
