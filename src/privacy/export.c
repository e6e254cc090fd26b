/*
 * export.c - the export of an account (GDPR access and portability):
 * everything stored about it, as one JSON document (schema in
 * docs/EXPORT.md), served by GET /v1/account/export.
 *
 * Invariant: the export reads the same tables erasure deletes (accounts,
 * account_pictures, models, model_avatars, patterns, sessions, tokens,
 * mail_queue, dp_ledger, api_keys, account_mfa, mfa_recovery_codes);
 * a table that holds account data and is missing here is a bug, which
 * tests/api/test_310_export.py checks against the database itself.
 * Secrets are never exported: no password hash, no session or link token
 * (only their ids and times), no API key or its hash (only its id, name,
 * scope and times), no mail bodies (they are copies of links), no 2FA
 * secret nor recovery code (only whether 2FA is on, its times and how many
 * recovery codes are left).
 */
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "account/apikey.h"
#include "base/seal.h"
#include "base/clock.h"
#include "store/db.h"
#include "base/err.h"
#include "privacy/export.h"
#include "models/models.h"
#include "models/saved.h"
#include "base/policy.h"
#include "base/util.h"

#define EXPORT_SCHEMA   "atelier-export/1"
#define EXPORT_INACTIVE POLICY_STR(RETAIN_INACTIVE_DAYS)
#define EXPORT_NOTICE   POLICY_STR(RETAIN_NOTICE_DAYS)
#define EXPORT_LOG_DAYS POLICY_STR(RETAIN_ACCESS_LOG_DAYS)

static json_t *export_time(int64_t s)
{
    char buf[25];

    return clock_format_rfc3339(s * 1000, buf) ? json_null() : json_string(buf);
}

/* Run a query with one text parameter and hand each row to fn. */
static int export_rows(struct db *db, enum stmt st, const char *key, json_t *out,
                       int (*fn)(struct db_rows *, json_t *, const char *), const char *ctx)
{
    struct db_param p[] = {DB_TEXT(key)};
    struct db_rows *rows = NULL;
    int rc = db_query(db, st, p, 1, &rows);

    if (rc)
        return rc;
    while ((rc = db_next(rows)) == 1 && (rc = fn(rows, out, ctx)) == 0)
        ;
    db_rows_free(rows);
    if (rc < 0)
        return rc;
    return 0;
}

static int export_picture_row(struct db_rows *rows, json_t *out, const char *id)
{
    size_t n = 0;
    const void *box = db_col_blob(rows, 1, &n);

    json_object_set_new(
        out, "picture",
        models_image_json("account_pictures.data", id, db_col_text(rows, 0, NULL), box, n));
    return 0;
}

static int export_session_row(struct db_rows *rows, json_t *out, const char *current)
{
    const char *id = db_col_text(rows, 0, NULL);

    json_array_append_new(out, json_pack("{s:s,s:o,s:o,s:b}", "id", id, "created_at",
                                         export_time(db_col_int(rows, 1) / 1000), "expires_at",
                                         export_time(db_col_int(rows, 2)), "current",
                                         current && strcmp(id, current) == 0));
    return 0;
}

/* A pending link: its kind and times; for an email change, the new address
 * it would set (stored sealed with the link). Never the link itself. */
static int export_token_row(struct db_rows *rows, json_t *out, const char *unused)
{
    const char *kind = db_col_text(rows, 0, NULL);
    json_t *link =
        json_pack("{s:s,s:o,s:o}", "kind", kind, "created_at", export_time(db_col_int(rows, 1)),
                  "expires_at", export_time(db_col_int(rows, 2)));

    (void)unused;
    if (!db_col_null(rows, 4)) {
        size_t hn = 0, n = 0;
        const uint8_t *hash = db_col_blob(rows, 3, &hn);
        const void *box = db_col_blob(rows, 4, &n);
        char hx[2 * 32 + 1], *payload = NULL;
        if (hn == 32) {
            util_hex(hash, hn, hx);
            if (seal_open_text("tokens.payload", hx, box, n, &payload) == 0)
                json_object_set_new(link, "new_email", json_string(payload));
            free(payload);
        }
    }
    json_array_append_new(out, link);
    return 0;
}

static int export_count_row(struct db_rows *rows, json_t *out, const char *unused)
{
    (void)unused;
    json_object_set_new(out, "mails_queued", json_integer(db_col_int(rows, 0)));
    return 0;
}

static int export_times_row(struct db_rows *rows, json_t *out, const char *unused)
{
    int64_t last = db_col_int(rows, 2);

    (void)unused;
    json_object_set_new(out, "updated_at", export_time(db_col_int(rows, 1)));
    json_object_set_new(
        out, "retention",
        json_pack("{s:o,s:o,s:o,s:i,s:s}", "last_login_at", export_time(last), "notice_on",
                  export_time(last + (RETAIN_INACTIVE_DAYS - RETAIN_NOTICE_DAYS) * POLICY_DAY_S),
                  "erased_on", export_time(last + RETAIN_INACTIVE_DAYS * POLICY_DAY_S),
                  "access_log_days", RETAIN_ACCESS_LOG_DAYS, "rule",
                  "an account is erased " EXPORT_INACTIVE " days after its last login; its owner "
                  "is mailed " EXPORT_NOTICE " days before"));
    json_object_set_new(out, "notice_sent_at",
                        db_col_null(rows, 3) ? json_null() : export_time(db_col_int(rows, 3)));
    return 0;
}

/* The open-data ledger: how much of its lifetime privacy budget the
 * account has spent (docs/OPENDATA.md). */
static int export_ledger_row(struct db_rows *rows, json_t *out, const char *unused)
{
    (void)unused;
    json_object_set_new(out, "rho_spent", json_real((double)db_col_int(rows, 0) / 1000.0));
    return 0;
}

/* Two-factor login: its state, never the secret nor the recovery codes. */
static int export_mfa_row(struct db_rows *rows, json_t *out, const char *unused)
{
    int64_t created = db_col_int(rows, 0), step = db_col_int(rows, 2);
    int on = !db_col_null(rows, 1);

    (void)unused;
    json_object_set_new(out, "enabled", json_boolean(on));
    json_object_set_new(out, "enabled_at", on ? export_time(db_col_int(rows, 1)) : json_null());
    json_object_set_new(out, "setup_started_at", on ? json_null() : export_time(created));
    json_object_set_new(out, "last_code_at",
                        step >= 0 ? export_time(step * LIMIT_MFA_STEP_S) : json_null());
    json_object_set_new(out, "recovery_codes_left", json_integer(db_col_int(rows, 3)));
    return 0;
}

static int export_models(struct db *db, const char *owner, json_t *doc)
{
    json_t *models = json_array();
    int rc = models_export(db, owner, models);

    if (rc) {
        json_decref(models);
        return rc;
    }
    json_object_set_new(doc, "models", models);
    return 0;
}

/* The account's API keys (account/apikey.c): never the key itself. */
static int export_apikeys(struct db *db, const char *owner, json_t *doc)
{
    json_t *keys = json_array();
    int rc = keys ? apikey_list(db, owner, keys) : ERR_NOMEM;

    if (rc) {
        json_decref(keys);
        return rc;
    }
    json_object_set_new(doc, "api_keys", keys);
    return 0;
}

/* Saved patterns, in full: their snapshots are copies of model data. */
static int export_patterns(struct db *db, const char *owner, json_t *doc)
{
    json_t *patterns = json_array();
    int rc = patterns ? saved_export(db, owner, patterns) : ERR_NOMEM;

    if (rc) {
        json_decref(patterns);
        return rc;
    }
    json_object_set_new(doc, "patterns", patterns);
    return 0;
}

int export_account(struct db *db, const char *id, const char *current_session, json_t **out)
{
    json_t *doc, *sessions, *links, *account, *ledger, *mfa;
    char now[25];
    int rc;

    *out = NULL;
    if (!db)
        return ERR_UNAVAILABLE;
    if (!(account = account_json(db, id)))
        return ERR_NOT_FOUND;
    clock_format_rfc3339(clock_now_ms(), now);
    sessions = json_array();
    links = json_array();
    ledger = json_pack("{s:f,s:f,s:s}", "rho_spent", 0.0, "rho_cap",
                       LIMIT_OPENDATA_RHO_CAP / 1000.0, "rule",
                       "each open data release that includes this account spends its rho; an "
                       "account that would pass the cap is left out of later releases");
    mfa = json_pack("{s:b,s:n,s:n,s:n,s:i}", "enabled", 0, "enabled_at", "setup_started_at",
                    "last_code_at", "recovery_codes_left", 0);
    doc = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "schema", EXPORT_SCHEMA, "exported_at",
                    now, "account", account, "picture", json_null(), "sessions", sessions, "links",
                    links, "open_data_budget", ledger, "two_factor", mfa, "note",
                    json_string("The access log records client IP addresses per request "
                                "without the account, so it holds nothing that can be "
                                "exported per account; it is deleted after " EXPORT_LOG_DAYS
                                " days."));
    if ((rc = export_rows(db, STMT_ACCOUNT_TIMES, id, account, export_times_row, NULL)) ||
        (rc = export_rows(db, STMT_PICTURE_GET, id, doc, export_picture_row, id)) ||
        (rc = export_rows(db, STMT_SESSION_LIST, id, sessions, export_session_row,
                          current_session)) ||
        (rc = export_rows(db, STMT_TOKEN_LIST, id, links, export_token_row, NULL)) ||
        (rc = export_rows(db, STMT_MAIL_COUNT, id, doc, export_count_row, NULL)) ||
        (rc = export_rows(db, STMT_DP_LEDGER_GET, id, ledger, export_ledger_row, NULL)) ||
        (rc = export_rows(db, STMT_MFA_EXPORT, id, mfa, export_mfa_row, NULL)) ||
        (rc = export_apikeys(db, id, doc)) || (rc = export_models(db, id, doc)) ||
        (rc = export_patterns(db, id, doc))) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}
