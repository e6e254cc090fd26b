/*
 * sealed.h - the registry of sealed columns: every column of the schema that
 * holds values sealed under the server key (base/seal.h), listed once.
 *
 * Who reads it:
 *   - store/db_stmts.c generates, for each entry, the three statements of key
 *     rotation (scan, count, reseal) from the names below (string literals
 *     only: no SQL is built at run time);
 *   - cli/rekey.c (`atelier rekey`) reseals every entry, in this order;
 *   - base/seal.c refuses to seal a field whose "table.column" label is not
 *     listed here (logged as a BUG), so a new sealed column cannot be
 *     forgotten by rotation;
 *   - tests/unit/test_sealed.c checks that the migrated schema's *_sealed
 *     columns are exactly the ones listed here, and tests/api/test_890_rekey*.py
 *     proves each of them resealed by reading the schema itself.
 *
 * Conventions every entry follows (checked by those tests):
 *   - the column is named <field>_sealed, and its values are sealed with
 *     seal_field/seal_text under the label "<table>.<field>" and the row id;
 *   - the row id is the value of the table's one-column primary key <key>:
 *     SEALED_KEY_TEXT for a TEXT key (used as is), SEALED_KEY_HEX for a BLOB
 *     key (lowercase hex, util_hex);
 *   - L entries also carry a keyed lookup: the column <lookup>_lookup holds
 *     seal_lookup("<lookup>", plaintext), and rotation recomputes it from the
 *     plaintext it opens.
 *
 * To register a new sealed column, add one line:
 *   X(NAME, "table", "key", SEALED_KEY_TEXT, "field")            sealed only
 *   L(NAME, "table", "key", SEALED_KEY_TEXT, "field", "lookup")  with a lookup
 * NAME is unique (it names the generated statements STMT_REKEY_*_NAME).
 * Nothing else is needed for `atelier rekey` to reseal it.
 *
 * Not listed, on purpose: meta.value (the key check, which rotation moves
 * itself, last: SEALED_KEY_CHECK_LABEL), and keyed hashes that have no
 * plaintext to recompute them from (mail_recipients.lookup, the outbox tags:
 * see docs/OPERATIONS.md, key rotation). Hashes that must outlive a rotation
 * are not keyed by the server key at all: session, link and API key hashes
 * are unkeyed (256-bit secrets), 2FA recovery codes are keyed by the
 * account's TOTP secret (account/mfa.c), which rotation reseals unchanged.
 */
#ifndef ATELIER_SEALED_H
#define ATELIER_SEALED_H

enum sealed_key {
    SEALED_KEY_TEXT, /* the row id is the TEXT primary key */
    SEALED_KEY_HEX   /* the row id is the BLOB primary key in lowercase hex */
};

/* The label of the key check rows of meta (cli/app.c, cli/rekey.c). */
#define SEALED_KEY_CHECK_LABEL "meta.value"

/* clang-format off */
#define SEALED_COLUMNS(X, L)                                                                      \
    L(ACCOUNTS_EMAIL,        "accounts",         "id",         SEALED_KEY_TEXT, "email", "email") \
    L(ACCOUNTS_USERNAME,     "accounts",         "id",         SEALED_KEY_TEXT, "username",       \
      "username")                                                                                 \
    X(ACCOUNTS_BIO,          "accounts",         "id",         SEALED_KEY_TEXT, "bio")            \
    X(ACCOUNTS_SOCIAL,       "accounts",         "id",         SEALED_KEY_TEXT, "social")         \
    L(SIGNUPS_EMAIL,         "signups",          "token_hash", SEALED_KEY_HEX,  "email", "email") \
    X(SIGNUPS_USERNAME,      "signups",          "token_hash", SEALED_KEY_HEX,  "username")       \
    X(TOKENS_PAYLOAD,        "tokens",           "token_hash", SEALED_KEY_HEX,  "payload")        \
    X(ACCOUNT_PICTURES_DATA, "account_pictures", "account_id", SEALED_KEY_TEXT, "data")           \
    X(MAIL_QUEUE_MESSAGE,    "mail_queue",       "id",         SEALED_KEY_TEXT, "message")        \
    X(MODELS_NAME,           "models",           "id",         SEALED_KEY_TEXT, "name")           \
    X(MODELS_NOTES,          "models",           "id",         SEALED_KEY_TEXT, "notes")          \
    X(MODELS_BREASTS,        "models",           "id",         SEALED_KEY_TEXT, "breasts")        \
    X(MODELS_MEASUREMENTS,   "models",           "id",         SEALED_KEY_TEXT, "measurements")   \
    X(MODEL_AVATARS_DATA,    "model_avatars",    "model_id",   SEALED_KEY_TEXT, "data")           \
    X(PATTERNS_DESIGN,       "patterns",         "id",         SEALED_KEY_TEXT, "design")         \
    X(PATTERNS_NAME,         "patterns",         "id",         SEALED_KEY_TEXT, "name")           \
    X(PATTERNS_NOTES,        "patterns",         "id",         SEALED_KEY_TEXT, "notes")          \
    X(PATTERNS_OPTIONS,      "patterns",         "id",         SEALED_KEY_TEXT, "options")        \
    X(PATTERNS_SNAPSHOT,     "patterns",         "id",         SEALED_KEY_TEXT, "snapshot")       \
    X(API_KEYS_NAME,         "api_keys",         "id",         SEALED_KEY_TEXT, "name")           \
    X(ACCOUNT_MFA_SECRET,    "account_mfa",      "account_id", SEALED_KEY_TEXT, "secret")
/* clang-format on */

#endif
