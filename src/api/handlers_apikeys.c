/*
 * handlers_apikeys.c - API keys for scripts: POST /v1/apikeys (the key is
 * answered once), GET /v1/apikeys (never the key), DELETE /v1/apikeys/{id}.
 * Storage and hashing are the account service's (account/apikey.c).
 *
 * Invariants:
 *   - These routes need a session: their entries in routes.c do not carry
 *     ROUTE_KEY_OK, so a key cannot make, see or delete keys (auth.c).
 *   - A new key has a name (1 to LIMIT_APIKEY_NAME_MAX characters, no
 *     control or format characters), a scope ("read" or "write") and an
 *     expiry: an RFC 3339 time after now and at most LIMIT_APIKEY_TTL_MAX_S
 *     ahead; anything else is 422 naming the field.
 *   - The owner is always the authenticated account: another account's key
 *     id answers the 404 of one that does not exist.
 *   - The key is wiped from memory once the answer holds it.
 */
#include <sodium.h>
#include <string.h>

#include "account/apikey.h"
#include "api/handlers.h"
#include "api/input.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "store/db.h"

/* Characters (code points) of valid UTF-8. */
static size_t apikeys_chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int apikeys_name(struct req *rq, json_t *b, const char **name)
{
    size_t n;
    int rc = input_string(rq, b, "name", 1, name, &n);

    if (rc)
        return rc;
    if (n == 0 || apikeys_chars(*name, n) > LIMIT_APIKEY_NAME_MAX)
        return input_fail(rq, "name", "name must be 1 to %d characters", LIMIT_APIKEY_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)(*name)[i] < 0x20 || (*name)[i] == 0x7f)
            return input_fail(rq, "name", "name must not contain control characters");
    return input_text(rq, "name", *name);
}

static int apikeys_scope(struct req *rq, json_t *b, enum apikey_scope *scope)
{
    const char *s;
    int rc = input_string(rq, b, "scope", 1, &s, NULL);

    if (rc)
        return rc;
    if (!(*scope = apikey_scope_parse(s)))
        return input_fail(rq, "scope", "scope must be \"read\" or \"write\"");
    return 0;
}

static int apikeys_expiry(struct req *rq, json_t *b, int64_t *expires_ms)
{
    const char *s;
    size_t n;
    int64_t now = clock_now_ms();
    int rc = input_string(rq, b, "expires_at", 1, &s, &n);

    if (rc)
        return rc;
    /* a time, not a date: "2027-01-31T12:00:00Z" (offsets and fractions too) */
    if (n > 64 || !memchr(s, 'T', n) || clock_parse_rfc3339(s, expires_ms))
        return input_fail(rq, "expires_at",
                          "expires_at must be an RFC 3339 time such as 2027-01-31T12:00:00Z");
    if (*expires_ms <= now)
        return input_fail(rq, "expires_at", "expires_at must be in the future");
    if (*expires_ms - now > (int64_t)LIMIT_APIKEY_TTL_MAX_S * 1000)
        return input_fail(rq, "expires_at", "expires_at must be at most %d days ahead",
                          LIMIT_APIKEY_TTL_MAX_S / POLICY_DAY_S);
    return 0;
}

static json_t *apikeys_time(int64_t ms)
{
    char buf[25];

    return clock_format_rfc3339(ms, buf) ? json_null() : json_string(buf);
}

int h_apikeys_create(struct req *rq)
{
    static const char *const keys[] = {"name", "scope", "expires_at", NULL};
    json_t *b = req_json(rq);
    char id[POLICY_ID_BUF], key[APIKEY_LEN + 1];
    const char *name;
    enum apikey_scope scope;
    int64_t expires_ms, created_ms;
    int rc;

    if ((rc = input_known_keys(rq, b, keys)) || (rc = apikeys_name(rq, b, &name)) ||
        (rc = apikeys_scope(rq, b, &scope)) || (rc = apikeys_expiry(rq, b, &expires_ms)))
        return rc;
    rc = apikey_create(db_thread(), req_account(rq), name, scope, expires_ms, id, key, &created_ms);
    if (rc == ERR_CONFLICT)
        return req_fail(rq, ERR_CONFLICT, "limit_reached",
                        "an account holds at most %d API keys; delete one first",
                        LIMIT_APIKEYS_PER_ACCOUNT);
    if (rc)
        return rc;
    char where[sizeof "/v1/apikeys/" + POLICY_ID_BUF];
    snprintf(where, sizeof where, "/v1/apikeys/%s", id);
    if ((rc = resp_header(rq, "Location", where))) {
        sodium_memzero(key, sizeof key);
        return rc;
    }
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:n}", "id", id, "name", name, "scope",
                  apikey_scope_name(scope), "key", key, "created_at", apikeys_time(created_ms),
                  "expires_at", apikeys_time(expires_ms), "last_used_at");
    sodium_memzero(key, sizeof key);
    return resp_json(rq, 201, o); /* the serialised copy is the layer's (freed with the answer) */
}

int h_apikeys_list(struct req *rq)
{
    json_t *list = json_array();
    int rc = list ? apikey_list(db_thread(), req_account(rq), list) : ERR_NOMEM;

    if (rc) {
        json_decref(list);
        return rc;
    }
    return resp_json(rq, 200, json_pack("{s:o}", "api_keys", list));
}

int h_apikey_delete(struct req *rq)
{
    int rc = apikey_delete(db_thread(), req_account(rq), req_param(rq, "id"));

    if (rc == ERR_NOT_FOUND)
        return req_fail(rq, ERR_NOT_FOUND, NULL, "no API key with this id");
    if (rc)
        return rc;
    return resp_empty(rq, 204);
}
