/*
 * db_schema.c - the database schema as a list of versioned migrations.
 *
 * Invariants:
 *  - Versions are positive and strictly increasing; a migration, once
 *    released, is never edited: change the schema by appending a new one.
 *  - db_migrate applies each pending migration in its own transaction, so a
 *    migration must not contain BEGIN/COMMIT or statements PostgreSQL refuses
 *    inside a transaction (CREATE INDEX CONCURRENTLY, VACUUM).
 *  - Column types are only INTEGER/TEXT/BLOB on SQLite (tables are STRICT)
 *    and BIGINT/TEXT/BYTEA on PostgreSQL, so both backends store the same
 *    values: 64-bit integers (booleans 0/1, times Unix seconds), UTF-8 text,
 *    blobs.
 *  - schema_migrations itself is not a migration: db_migrate creates it
 *    (IF NOT EXISTS) before reading the current version.
 */
#include "store/db_schema.h"

const struct db_migration db_migrations[] = {
    {
        .version = 1,
        .sqlite_sql = "CREATE TABLE meta (\n"
                      "  key TEXT PRIMARY KEY,\n"
                      "  value BLOB NOT NULL\n"
                      ") STRICT;\n",
        .pg_sql = "CREATE TABLE meta (\n"
                  "  key TEXT PRIMARY KEY,\n"
                  "  value BYTEA NOT NULL\n"
                  ");\n",
    },
    {
        /* Accounts (issue 3). Personal fields are sealed (seal.h); emails are
         * found by a keyed hash. Times are Unix seconds. */
        .version = 2,
        .sqlite_sql = "CREATE TABLE accounts (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  email_lookup BLOB NOT NULL UNIQUE,\n"
                      "  email_sealed BLOB NOT NULL,\n"
                      "  username TEXT NOT NULL UNIQUE,\n"
                      "  password_hash TEXT NOT NULL,\n"
                      "  bio_sealed BLOB,\n"
                      "  social_sealed BLOB,\n"
                      "  consent_open_data INTEGER NOT NULL DEFAULT 0,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  updated_at INTEGER NOT NULL,\n"
                      "  last_login_at INTEGER NOT NULL,\n"
                      "  notice_sent_at INTEGER\n"
                      ") STRICT;\n"
                      "CREATE INDEX accounts_last_login ON accounts (last_login_at);\n"
                      "CREATE TABLE signups (\n"
                      "  token_hash BLOB PRIMARY KEY,\n"
                      "  email_lookup BLOB NOT NULL,\n"
                      "  email_sealed BLOB NOT NULL,\n"
                      "  username TEXT NOT NULL,\n"
                      "  password_hash TEXT NOT NULL,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  expires_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX signups_email ON signups (email_lookup);\n"
                      "CREATE INDEX signups_created ON signups (created_at);\n"
                      "CREATE TABLE sessions (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  token_hash BLOB NOT NULL UNIQUE,\n"
                      "  created_ms INTEGER NOT NULL,\n"
                      "  expires_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX sessions_account ON sessions (account_id, created_ms);\n"
                      "CREATE INDEX sessions_expiry ON sessions (expires_at);\n"
                      "CREATE TABLE tokens (\n"
                      "  token_hash BLOB PRIMARY KEY,\n"
                      "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  kind TEXT NOT NULL,\n"
                      "  payload_sealed BLOB,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  expires_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX tokens_account ON tokens (account_id);\n"
                      "CREATE INDEX tokens_expiry ON tokens (expires_at);\n"
                      "CREATE TABLE account_pictures (\n"
                      "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  content_type TEXT NOT NULL,\n"
                      "  data_sealed BLOB NOT NULL,\n"
                      "  updated_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE TABLE mail_queue (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  message_sealed BLOB NOT NULL,\n"
                      "  attempts INTEGER NOT NULL DEFAULT 0,\n"
                      "  created_ms INTEGER NOT NULL,\n"
                      "  next_attempt_ms INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX mail_queue_due ON mail_queue (next_attempt_ms);\n"
                      "CREATE INDEX mail_queue_account ON mail_queue (account_id);\n",
        .pg_sql = "CREATE TABLE accounts (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  email_lookup BYTEA NOT NULL UNIQUE,\n"
                  "  email_sealed BYTEA NOT NULL,\n"
                  "  username TEXT NOT NULL UNIQUE,\n"
                  "  password_hash TEXT NOT NULL,\n"
                  "  bio_sealed BYTEA,\n"
                  "  social_sealed BYTEA,\n"
                  "  consent_open_data BIGINT NOT NULL DEFAULT 0,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  updated_at BIGINT NOT NULL,\n"
                  "  last_login_at BIGINT NOT NULL,\n"
                  "  notice_sent_at BIGINT\n"
                  ");\n"
                  "CREATE INDEX accounts_last_login ON accounts (last_login_at);\n"
                  "CREATE TABLE signups (\n"
                  "  token_hash BYTEA PRIMARY KEY,\n"
                  "  email_lookup BYTEA NOT NULL,\n"
                  "  email_sealed BYTEA NOT NULL,\n"
                  "  username TEXT NOT NULL,\n"
                  "  password_hash TEXT NOT NULL,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  expires_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX signups_email ON signups (email_lookup);\n"
                  "CREATE INDEX signups_created ON signups (created_at);\n"
                  "CREATE TABLE sessions (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  token_hash BYTEA NOT NULL UNIQUE,\n"
                  "  created_ms BIGINT NOT NULL,\n"
                  "  expires_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX sessions_account ON sessions (account_id, created_ms);\n"
                  "CREATE INDEX sessions_expiry ON sessions (expires_at);\n"
                  "CREATE TABLE tokens (\n"
                  "  token_hash BYTEA PRIMARY KEY,\n"
                  "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  kind TEXT NOT NULL,\n"
                  "  payload_sealed BYTEA,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  expires_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX tokens_account ON tokens (account_id);\n"
                  "CREATE INDEX tokens_expiry ON tokens (expires_at);\n"
                  "CREATE TABLE account_pictures (\n"
                  "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  content_type TEXT NOT NULL,\n"
                  "  data_sealed BYTEA NOT NULL,\n"
                  "  updated_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE TABLE mail_queue (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  message_sealed BYTEA NOT NULL,\n"
                  "  attempts BIGINT NOT NULL DEFAULT 0,\n"
                  "  created_ms BIGINT NOT NULL,\n"
                  "  next_attempt_ms BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX mail_queue_due ON mail_queue (next_attempt_ms);\n"
                  "CREATE INDEX mail_queue_account ON mail_queue (account_id);\n",
    },
    {
        /* Models and their avatars (issue 4): name, notes, measurements and
         * avatar are sealed, bound to the model id. */
        .version = 3,
        .sqlite_sql = "CREATE TABLE models (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  name_sealed BLOB NOT NULL,\n"
                      "  notes_sealed BLOB,\n"
                      "  breasts INTEGER NOT NULL,\n"
                      "  measurements_sealed BLOB NOT NULL,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  updated_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX models_account ON models (account_id, created_at);\n"
                      "CREATE TABLE model_avatars (\n"
                      "  model_id TEXT PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,\n"
                      "  content_type TEXT NOT NULL,\n"
                      "  data_sealed BLOB NOT NULL,\n"
                      "  updated_at INTEGER NOT NULL\n"
                      ") STRICT;\n",
        .pg_sql = "CREATE TABLE models (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  name_sealed BYTEA NOT NULL,\n"
                  "  notes_sealed BYTEA,\n"
                  "  breasts BIGINT NOT NULL,\n"
                  "  measurements_sealed BYTEA NOT NULL,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  updated_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX models_account ON models (account_id, created_at);\n"
                  "CREATE TABLE model_avatars (\n"
                  "  model_id TEXT PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,\n"
                  "  content_type TEXT NOT NULL,\n"
                  "  data_sealed BYTEA NOT NULL,\n"
                  "  updated_at BIGINT NOT NULL\n"
                  ");\n",
    },
    {
        /* Open data releases (issue 6): anonymized, so stored in clear. */
        .version = 4,
        .sqlite_sql = "CREATE TABLE opendata_releases (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  meta TEXT NOT NULL,\n"
                      "  csv BLOB NOT NULL,\n"
                      "  json BLOB NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX accounts_consent ON accounts (consent_open_data);\n",
        .pg_sql = "CREATE TABLE opendata_releases (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  meta TEXT NOT NULL,\n"
                  "  csv BYTEA NOT NULL,\n"
                  "  json BYTEA NOT NULL\n"
                  ");\n"
                  "CREATE INDEX accounts_consent ON accounts (consent_open_data);\n",
    },
    {
        /* Issue 12: an email-change link remembers the session that asked for
         * it; confirming the change revokes every other session. A plain id,
         * no reference: a session gone meanwhile just keeps none. */
        .version = 5,
        .sqlite_sql = "ALTER TABLE tokens ADD COLUMN session_id TEXT;\n",
        .pg_sql = "ALTER TABLE tokens ADD COLUMN session_id TEXT;\n",
    },
    {
        /* The per-recipient mail cap (issue 12): when a mail was queued for
         * an address, by a keyed hash of the address only; rows older than
         * the window are pruned by the mail thread. */
        .version = 6,
        .sqlite_sql = "CREATE TABLE mail_recipients (\n"
                      "  lookup BLOB NOT NULL,\n"
                      "  at_ms INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX mail_recipients_lookup ON mail_recipients (lookup, at_ms);\n"
                      "CREATE INDEX mail_recipients_at ON mail_recipients (at_ms);\n",
        .pg_sql = "CREATE TABLE mail_recipients (\n"
                  "  lookup BYTEA NOT NULL,\n"
                  "  at_ms BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX mail_recipients_lookup ON mail_recipients (lookup, at_ms);\n"
                  "CREATE INDEX mail_recipients_at ON mail_recipients (at_ms);\n",
    },
    {
        /* Issue 12: the username and the breasts flag are sealed. This step
         * adds the sealed columns and the keyed username lookup (UNIQUE);
         * the program's upgrade hook (db_set_upgrade, cli/upgrade.c) fills
         * them from the clear columns before migration 8 removes those. */
        .version = 7,
        .sqlite_sql =
            "ALTER TABLE accounts ADD COLUMN username_lookup BLOB;\n"
            "ALTER TABLE accounts ADD COLUMN username_sealed BLOB;\n"
            "CREATE UNIQUE INDEX accounts_username_lookup ON accounts (username_lookup);\n"
            "ALTER TABLE signups ADD COLUMN username_sealed BLOB;\n"
            "ALTER TABLE models ADD COLUMN breasts_sealed BLOB;\n",
        .pg_sql = "ALTER TABLE accounts ADD COLUMN username_lookup BYTEA;\n"
                  "ALTER TABLE accounts ADD COLUMN username_sealed BYTEA;\n"
                  "CREATE UNIQUE INDEX accounts_username_lookup ON accounts (username_lookup);\n"
                  "ALTER TABLE signups ADD COLUMN username_sealed BYTEA;\n"
                  "ALTER TABLE models ADD COLUMN breasts_sealed BYTEA;\n",
    },
    {
        /* Issue 12: the clear columns go. Every row must be sealed by now
         * (the upgrade hook runs in this migration's transaction, before
         * this SQL); a row that is not makes the migration fail. SQLite
         * cannot drop a UNIQUE column without rebuilding accounts, which
         * five tables reference with ON DELETE CASCADE: there the column is
         * renamed and holds '#' and the account id, nothing personal. */
        .version = 8,
        .sqlite_sql = "CREATE TEMP TABLE upgrade_check (unsealed INTEGER CHECK (unsealed = 0));\n"
                      "INSERT INTO upgrade_check SELECT count(*) FROM accounts"
                      " WHERE username_lookup IS NULL OR username_sealed IS NULL;\n"
                      "INSERT INTO upgrade_check SELECT count(*) FROM signups"
                      " WHERE username_sealed IS NULL;\n"
                      "INSERT INTO upgrade_check SELECT count(*) FROM models"
                      " WHERE breasts_sealed IS NULL;\n"
                      "DROP TABLE upgrade_check;\n"
                      "UPDATE accounts SET username = '#' || id;\n"
                      "ALTER TABLE accounts RENAME COLUMN username TO retired_username;\n"
                      "ALTER TABLE signups DROP COLUMN username;\n"
                      "ALTER TABLE models DROP COLUMN breasts;\n",
        .pg_sql = "ALTER TABLE accounts ALTER COLUMN username_lookup SET NOT NULL,"
                  " ALTER COLUMN username_sealed SET NOT NULL, DROP COLUMN username;\n"
                  "ALTER TABLE signups ALTER COLUMN username_sealed SET NOT NULL,"
                  " DROP COLUMN username;\n"
                  "ALTER TABLE models ALTER COLUMN breasts_sealed SET NOT NULL,"
                  " DROP COLUMN breasts;\n",
    },
    {
        /* Issue 13: the differentially private release. dp_ledger is each
         * account's spent privacy budget (rho in milli-units), charged when
         * a build draws its noise and erased with the account; last_build
         * names the build that charged it last (that build's members).
         * opendata_builds keeps every build that drew noise, published or
         * not, for the cadence (quarter = year * 4 + quarter - 1; one build
         * per quarter unless the cadence was ignored). The MDAV release is withdrawn: it was shown
         * attackable, and nothing of it is served again. */
        .version = 9,
        .sqlite_sql = "CREATE TABLE dp_ledger (\n"
                      "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  spent_milli INTEGER NOT NULL CHECK (spent_milli BETWEEN 0 AND 1000),\n"
                      "  last_build TEXT NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX dp_ledger_build ON dp_ledger (last_build);\n"
                      "CREATE TABLE opendata_builds (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  rho_milli INTEGER NOT NULL,\n"
                      "  quarter INTEGER NOT NULL,\n"
                      "  cadence_ignored INTEGER NOT NULL,\n"
                      "  published INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE UNIQUE INDEX opendata_builds_quarter ON opendata_builds (quarter)"
                      " WHERE cadence_ignored = 0;\n"
                      "DELETE FROM opendata_releases;\n",
        .pg_sql = "CREATE TABLE dp_ledger (\n"
                  "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  spent_milli BIGINT NOT NULL CHECK (spent_milli BETWEEN 0 AND 1000),\n"
                  "  last_build TEXT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX dp_ledger_build ON dp_ledger (last_build);\n"
                  "CREATE TABLE opendata_builds (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  rho_milli BIGINT NOT NULL,\n"
                  "  quarter BIGINT NOT NULL,\n"
                  "  cadence_ignored BIGINT NOT NULL,\n"
                  "  published BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE UNIQUE INDEX opendata_builds_quarter ON opendata_builds (quarter)"
                  " WHERE cadence_ignored = 0;\n"
                  "DELETE FROM opendata_releases;\n",
    },
    {
        /* Two-factor login (issue 14). account_mfa holds an account's TOTP
         * secret, sealed to account_mfa.secret:<account id>; enabled_at is
         * NULL while the setup waits for its first code (the sweeper deletes
         * it LIMIT_MFA_SETUP_TTL_S later); last_step is the last time step
         * whose code was accepted (-1: none), so a code is used once.
         * mfa_recovery_codes holds keyed BLAKE2b hashes of the recovery
         * codes (keyed by the secret: account/mfa.c, mfa_recovery_hash); a
         * used one is deleted. Both go with the account (and the codes with
         * the secret). */
        .version = 10,
        .sqlite_sql = "CREATE TABLE account_mfa (\n"
                      "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  secret_sealed BLOB NOT NULL,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  enabled_at INTEGER,\n"
                      "  last_step INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX account_mfa_pending ON account_mfa (created_at)"
                      " WHERE enabled_at IS NULL;\n"
                      "CREATE TABLE mfa_recovery_codes (\n"
                      "  account_id TEXT NOT NULL REFERENCES account_mfa (account_id)"
                      " ON DELETE CASCADE,\n"
                      "  code_hash BLOB NOT NULL,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  PRIMARY KEY (account_id, code_hash)\n"
                      ") STRICT;\n",
        .pg_sql = "CREATE TABLE account_mfa (\n"
                  "  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  secret_sealed BYTEA NOT NULL,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  enabled_at BIGINT,\n"
                  "  last_step BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX account_mfa_pending ON account_mfa (created_at)"
                  " WHERE enabled_at IS NULL;\n"
                  "CREATE TABLE mfa_recovery_codes (\n"
                  "  account_id TEXT NOT NULL REFERENCES account_mfa (account_id)"
                  " ON DELETE CASCADE,\n"
                  "  code_hash BYTEA NOT NULL,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  PRIMARY KEY (account_id, code_hash)\n"
                  ");\n",
    },
    {
        /* Issue 14: API keys and restriction of processing. A key is found
         * by the BLAKE2b hash of its secret (like a session), its name is
         * sealed (api_keys.name:<id>); times in ms. restricted_at (Unix
         * seconds) is set while the owner restricts processing (GDPR art.
         * 18), NULL otherwise. */
        .version = 11,
        .sqlite_sql = "ALTER TABLE accounts ADD COLUMN restricted_at INTEGER;\n"
                      "CREATE TABLE api_keys (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  key_hash BLOB NOT NULL UNIQUE,\n"
                      "  name_sealed BLOB NOT NULL,\n"
                      "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),\n"
                      "  created_ms INTEGER NOT NULL,\n"
                      "  expires_ms INTEGER NOT NULL,\n"
                      "  last_used_ms INTEGER\n"
                      ") STRICT;\n"
                      "CREATE INDEX api_keys_account ON api_keys (account_id, created_ms);\n"
                      "CREATE INDEX api_keys_expiry ON api_keys (expires_ms);\n",
        .pg_sql = "ALTER TABLE accounts ADD COLUMN restricted_at BIGINT;\n"
                  "CREATE TABLE api_keys (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  key_hash BYTEA NOT NULL UNIQUE,\n"
                  "  name_sealed BYTEA NOT NULL,\n"
                  "  scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),\n"
                  "  created_ms BIGINT NOT NULL,\n"
                  "  expires_ms BIGINT NOT NULL,\n"
                  "  last_used_ms BIGINT\n"
                  ");\n"
                  "CREATE INDEX api_keys_account ON api_keys (account_id, created_ms);\n"
                  "CREATE INDEX api_keys_expiry ON api_keys (expires_ms);\n",
    },
    {
        /* Issue 14: saved patterns. Design, name, notes, options and the
         * snapshot of the model (its name, breasts flag and measurements as
         * they were when saved or refreshed) are sealed, bound to the
         * pattern id; the design is sealed too, since it tells the breasts
         * flag. A saved pattern is erased with its account and with its
         * model (ON DELETE CASCADE from both). */
        .version = 12,
        .sqlite_sql = "CREATE TABLE patterns (\n"
                      "  id TEXT PRIMARY KEY,\n"
                      "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                      "  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,\n"
                      "  design_sealed BLOB NOT NULL,\n"
                      "  name_sealed BLOB NOT NULL,\n"
                      "  notes_sealed BLOB,\n"
                      "  options_sealed BLOB NOT NULL,\n"
                      "  snapshot_sealed BLOB NOT NULL,\n"
                      "  snapshot_at INTEGER NOT NULL,\n"
                      "  created_at INTEGER NOT NULL,\n"
                      "  updated_at INTEGER NOT NULL\n"
                      ") STRICT;\n"
                      "CREATE INDEX patterns_account ON patterns (account_id, created_at);\n"
                      "CREATE INDEX patterns_model ON patterns (model_id);\n",
        .pg_sql = "CREATE TABLE patterns (\n"
                  "  id TEXT PRIMARY KEY,\n"
                  "  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
                  "  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,\n"
                  "  design_sealed BYTEA NOT NULL,\n"
                  "  name_sealed BYTEA NOT NULL,\n"
                  "  notes_sealed BYTEA,\n"
                  "  options_sealed BYTEA NOT NULL,\n"
                  "  snapshot_sealed BYTEA NOT NULL,\n"
                  "  snapshot_at BIGINT NOT NULL,\n"
                  "  created_at BIGINT NOT NULL,\n"
                  "  updated_at BIGINT NOT NULL\n"
                  ");\n"
                  "CREATE INDEX patterns_account ON patterns (account_id, created_at);\n"
                  "CREATE INDEX patterns_model ON patterns (model_id);\n",
    },
    {
        /* The site (issue 16): the units an account's pages show measurements
         * in (the API stays in mm). A preference, not personal data: kept
         * in clear, exported, erased with the account. */
        .version = 14,
        .sqlite_sql = "ALTER TABLE accounts ADD COLUMN units TEXT NOT NULL DEFAULT 'cm'"
                      " CHECK (units IN ('mm', 'cm', 'in'));\n",
        .pg_sql = "ALTER TABLE accounts ADD COLUMN units TEXT NOT NULL DEFAULT 'cm'"
                  " CHECK (units IN ('mm', 'cm', 'in'));\n",
    },
    {
        /* Issue 13, item 8 (the build's speed and memory). The build reads
         * each account's models newest first: an index in that order lets
         * it read them without sorting the sealed rows (it replaces
         * models_account, whose leading column it shares). A release keeps
         * its metadata and its rows as CSV only: the JSON document is
         * written from them on request. */
        .version = 15,
        .sqlite_sql = "DROP INDEX models_account;\n"
                      "CREATE INDEX models_account_updated"
                      " ON models (account_id, updated_at DESC, id DESC);\n"
                      "ALTER TABLE opendata_releases DROP COLUMN json;\n",
        .pg_sql = "DROP INDEX models_account;\n"
                  "CREATE INDEX models_account_updated"
                  " ON models (account_id, updated_at DESC, id DESC);\n"
                  "ALTER TABLE opendata_releases DROP COLUMN json;\n",
    },
    {
        /* Several nodes on one PostgreSQL database (issue 17, item 3).
         * throttle: the login and mail throttles' failure counters, one row
         * per kind, keyed hash of the key (an IP, an account, a hashed
         * address: never in clear) and second; expires_at is when the row
         * leaves every window (the sweeper deletes it then). leases: a
         * named job that one node took until until_ms (the sweeper's
         * period). Neither holds account data. */
        .version = 16,
        .sqlite_sql = "CREATE TABLE throttle (\n"
                      "  kind INTEGER NOT NULL,\n"
                      "  key_hash BLOB NOT NULL,\n"
                      "  at INTEGER NOT NULL,\n"
                      "  n INTEGER NOT NULL,\n"
                      "  expires_at INTEGER NOT NULL,\n"
                      "  PRIMARY KEY (kind, key_hash, at)\n"
                      ") STRICT;\n"
                      "CREATE INDEX throttle_expires ON throttle (expires_at);\n"
                      "CREATE TABLE leases (\n"
                      "  name TEXT PRIMARY KEY,\n"
                      "  holder TEXT NOT NULL,\n"
                      "  until_ms INTEGER NOT NULL\n"
                      ") STRICT;\n",
        .pg_sql = "CREATE TABLE throttle (\n"
                  "  kind BIGINT NOT NULL,\n"
                  "  key_hash BYTEA NOT NULL,\n"
                  "  at BIGINT NOT NULL,\n"
                  "  n BIGINT NOT NULL,\n"
                  "  expires_at BIGINT NOT NULL,\n"
                  "  PRIMARY KEY (kind, key_hash, at)\n"
                  ");\n"
                  "CREATE INDEX throttle_expires ON throttle (expires_at);\n"
                  "CREATE TABLE leases (\n"
                  "  name TEXT PRIMARY KEY,\n"
                  "  holder TEXT NOT NULL,\n"
                  "  until_ms BIGINT NOT NULL\n"
                  ");\n",
    },
};

const size_t db_migrations_count = sizeof db_migrations / sizeof db_migrations[0];

const char *db_migration_sql(const struct db_migration *m, enum db_backend b)
{
    return b == DB_POSTGRES ? m->pg_sql : m->sqlite_sql;
}

const char *db_schema_bootstrap_sql(enum db_backend b)
{
    if (b == DB_POSTGRES)
        return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
               "  version BIGINT PRIMARY KEY,\n"
               "  applied_at BIGINT NOT NULL\n"
               ");\n";
    return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
           "  version INTEGER PRIMARY KEY,\n"
           "  applied_at INTEGER NOT NULL\n"
           ") STRICT;\n";
}
