/*
 * routes.c - the route table: the single list of what the API serves.
 *
 * docs/openapi.json must describe every entry (tests/unit/test_openapi.c
 * fails otherwise); metrics and the access log name requests by the pattern,
 * never by the raw path. The HTTP layer receives this table at start
 * (http_start) and matches against it (http/route.c); it links no handler.
 * Each entry declares the query parameters its route takes (struct route:
 * none when it says nothing); the layer refuses any other with 422, so a
 * handler reads only declared names. tests/unit/test_openapi.c checks the
 * lists against the document's query parameters and the drafting options.
 */
#include "api/api.h"
#include "api/handlers.h"

/* What an authenticated route allows beyond a session of an unrestricted
 * account (http/http.h): ROUTE_KEY_OK any API key (a read key: GET only),
 * ROUTE_RESTRICTED_OK a session of a restricted account. A route with
 * neither, which is what a new entry gets unless it says otherwise, is for
 * sessions of unrestricted accounts only; the auth hook (auth.c) enforces
 * it before the handler. Keys never reach security routes (password,
 * email, 2FA, keys, restriction, deletion, logout); a restricted account
 * keeps reading, exporting, erasing (its account or parts of it), logging
 * out and lifting the restriction, and nothing else (no writes, no
 * drafting). ROUTE_AUTH_MODEL: the route's {id} is one of the caller's
 * models, which a session's check reads in the same statement (auth.c). */
/* The query of the routes that draft from a model: every drafting option
 * of the engine (atelier/draft.h: draft_options, the output option paper
 * on the PDF only); the handler refuses one that does not apply to the
 * design. */
#define QUERY_DRAFT                                                                                \
    "sa units chest_ease bust_ease hips_ease waist_ease seat_ease body_length sleeve_length "      \
    "armhole_depth leg_length leg_shape waistband skirt_length sleeve"
/* The site's pictures are fetched with ?v= to pass the browser's cache
 * after a change; the server ignores its value. */
#define QUERY_CACHE_BUSTER "v"

/* An entry that gives no query list takes no query parameter: the field is
 * left out on purpose, so the compiler's check for it is off here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct route api_route_list[] = {
    {"GET", "/healthz", h_healthz, 0},
    {"GET", "/v1/openapi.json", h_openapi, 0},
    {"POST", "/v1/signup", h_signup, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/confirm", h_confirm, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/login", h_login, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/logout", h_logout,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_OPT_BODY | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/password/forgot", h_password_forgot, ROUTE_JSON_BODY},
    {"POST", "/v1/password/reset", h_password_reset, ROUTE_JSON_BODY | ROUTE_SLOW},
    {"GET", "/v1/account", h_account_get, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"PATCH", "/v1/account", h_account_patch, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK},
    /* the DELETEs that need a password take an empty body too, so that
     * one sent without it hears what is missing (a 422 naming password) */
    {"DELETE", "/v1/account", h_account_delete,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_OPT_BODY | ROUTE_SLOW | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/account/email", h_email_change, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/password", h_password_change, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/restrict", h_restrict_post,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW | ROUTE_RESTRICTED_OK},
    {"DELETE", "/v1/account/restrict", h_restrict_delete,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_OPT_BODY | ROUTE_SLOW | ROUTE_RESTRICTED_OK},
    {"PUT", "/v1/account/picture", h_picture_put,
     ROUTE_AUTH | ROUTE_IMAGE_BODY | ROUTE_SLOW | ROUTE_KEY_OK},
    {"GET", "/v1/account/picture", h_picture_get, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK,
     QUERY_CACHE_BUSTER},
    {"DELETE", "/v1/account/picture", h_picture_delete,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"GET", "/v1/account/export", h_account_export,
     ROUTE_AUTH | ROUTE_SLOW | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/apikeys", h_apikeys_create, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"GET", "/v1/apikeys", h_apikeys_list, ROUTE_AUTH | ROUTE_RESTRICTED_OK},
    {"DELETE", "/v1/apikeys/{id}", h_apikey_delete, ROUTE_AUTH | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/account/mfa/setup", h_mfa_setup, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/mfa/enable", h_mfa_enable, ROUTE_AUTH | ROUTE_JSON_BODY},
    {"DELETE", "/v1/account/mfa", h_mfa_disable, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"POST", "/v1/account/mfa/recovery", h_mfa_recovery, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_SLOW},
    {"GET", "/v1/measurements", h_measurements, 0, "breasts"},
    {"GET", "/v1/designs", h_designs, 0},
    {"GET", "/v1/models/{id}/patterns/{design}.svg", h_pattern_svg,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_AUTH_MODEL, QUERY_DRAFT},
    {"GET", "/v1/models/{id}/patterns/{design}.pdf", h_pattern_pdf,
     ROUTE_AUTH | ROUTE_SLOW | ROUTE_KEY_OK | ROUTE_AUTH_MODEL, "paper " QUERY_DRAFT},
    {"GET", "/v1/models/{id}/patterns/{design}.json", h_pattern_json,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_AUTH_MODEL, QUERY_DRAFT},
    {"GET", "/v1/opendata", h_opendata_meta, 0},
    {"GET", "/v1/opendata/measurements.csv", h_opendata_csv, 0},
    {"GET", "/v1/opendata/measurements.json", h_opendata_json, ROUTE_SLOW},
    {"GET", "/v1/models", h_models_list, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/models", h_models_create, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK},
    {"GET", "/v1/models/{id}", h_model_get,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK | ROUTE_AUTH_MODEL},
    {"PATCH", "/v1/models/{id}", h_model_patch,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK | ROUTE_AUTH_MODEL},
    {"DELETE", "/v1/models/{id}", h_model_delete, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"GET", "/v1/models/{id}/measurements", h_model_measurements_get,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK | ROUTE_AUTH_MODEL},
    {"PUT", "/v1/models/{id}/measurements", h_model_measurements_put,
     ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK | ROUTE_AUTH_MODEL},
    {"PUT", "/v1/models/{id}/avatar", h_avatar_put,
     ROUTE_AUTH | ROUTE_IMAGE_BODY | ROUTE_SLOW | ROUTE_KEY_OK},
    {"GET", "/v1/models/{id}/avatar", h_avatar_get, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK,
     QUERY_CACHE_BUSTER},
    {"DELETE", "/v1/models/{id}/avatar", h_avatar_delete,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    /* saved patterns (issue 14): reading and erasing stay open to a
     * restricted account; saving, changing, refreshing and drafting do not */
    {"GET", "/v1/patterns", h_saved_list, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/patterns", h_saved_create, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK},
    {"GET", "/v1/patterns/{id}", h_saved_get, ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"PATCH", "/v1/patterns/{id}", h_saved_patch, ROUTE_AUTH | ROUTE_JSON_BODY | ROUTE_KEY_OK},
    {"DELETE", "/v1/patterns/{id}", h_saved_delete,
     ROUTE_AUTH | ROUTE_KEY_OK | ROUTE_RESTRICTED_OK},
    {"POST", "/v1/patterns/{id}/refresh", h_saved_refresh, ROUTE_AUTH | ROUTE_KEY_OK},
    {"GET", "/v1/patterns/{id}.svg", h_saved_svg, ROUTE_AUTH | ROUTE_KEY_OK},
    {"GET", "/v1/patterns/{id}.pdf", h_saved_pdf, ROUTE_AUTH | ROUTE_SLOW | ROUTE_KEY_OK, "paper"},
    {"GET", "/v1/patterns/{id}.json", h_saved_json, ROUTE_AUTH | ROUTE_KEY_OK},
    /* the site (handlers_site.c): pages and their assets. They take any
     * query: links to them are written by others too (mail clients and
     * shared links add tracking parameters), their scripts read only the
     * names they know, and a JSON 422 instead of a page helps no one. */
    {"GET", "/", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/signup", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/confirm", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/login", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/forgot", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/reset", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/account", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/models", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/model", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/patterns", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/privacy", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/policy", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/opendata", h_site_page, 0, ROUTE_QUERY_ANY},
    {"GET", "/assets/{name}.js", h_site_asset, 0, ROUTE_QUERY_ANY},
    {"GET", "/assets/{name}.css", h_site_asset, 0, ROUTE_QUERY_ANY},
    {"GET", "/assets/{name}.svg", h_site_asset, 0, ROUTE_QUERY_ANY},
    {"GET", "/assets/m/{name}.svg", h_site_illustration, 0, ROUTE_QUERY_ANY},
};
#pragma GCC diagnostic pop

const struct route_table api_routes = {
    .routes = api_route_list,
    .n = sizeof api_route_list / sizeof api_route_list[0],
};
