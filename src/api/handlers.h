/*
 * handlers.h - every HTTP handler, by area. The route table (routes.c) is
 * the only caller. Handlers validate their input, call services and storage,
 * and answer with one resp_* call (http.h).
 */
#ifndef ATELIER_HANDLERS_H
#define ATELIER_HANDLERS_H

#include "http/req.h"

/* handlers_system.c */
int h_healthz(struct req *rq);
int h_openapi(struct req *rq);

/* handlers_account.c */
int h_signup(struct req *rq);
int h_confirm(struct req *rq);
int h_login(struct req *rq);
int h_logout(struct req *rq);
int h_password_forgot(struct req *rq);
int h_password_reset(struct req *rq);
int h_password_change(struct req *rq);
int h_email_change(struct req *rq);
int h_account_delete(struct req *rq);
/* Not a handler: the password check of a sensitive change (403
 * wrong_password, counted against the login throttle: 429), for the
 * authenticated account. 0, or the err the handler returns. */
struct db;
int h_check_password(struct req *rq, struct db *db, const char *pw, size_t n, const char *field);
/* The member "password" of body b (NULL when the body is empty), which
 * confirms an action: absent, a 422 that says how to send it, "to" naming
 * the action ("to delete the account"). */
int h_password_member(struct req *rq, json_t *b, const char *to, const char **pw, size_t *n);

/* Shared by the account handlers (handlers_account.c, handlers_mfa.c). */
struct db;
/* The password of the logged-in account id before a sensitive change: 0,
 * or an err after describing 403 wrong_password or 429 (failures count
 * toward the login throttle). field names the password's field. */
int h_verify_current(struct req *rq, struct db *db, const char *id, const char *pw, size_t n,
                     const char *field);
/* The optional (or required) "code" field of b: *code NULL when absent;
 * 422 naming it unless it is LIMIT_MFA_DIGITS digits or (not totp_only) a
 * recovery code. */
int h_mfa_code_field(struct req *rq, json_t *b, int required, int totp_only, const char **code);
/* The login throttle for a request about account id (with_ip: the
 * client's own limit too), before its code is checked: 0 with the attempt's
 * places taken (they stay, as its failures, if the code is wrong), or an
 * err after describing 429. */
int h_throttle_take(struct req *rq, const char *id, int with_ip, int64_t now);
/* Give back the places of an attempt that did not fail (h_throttle_take). */
void h_throttle_give_back(struct req *rq, const char *id, int with_ip, int64_t now);
/* The second factor of account id before a login-equivalent change: 0 when
 * it has no 2FA or code is good (and is now used up); else an err after
 * describing 401 mfa_required (no code), 429, or 403 wrong_code (counted
 * toward the login throttle). */
int h_mfa_gate(struct req *rq, struct db *db, const char *id, const char *code, int with_ip);

/* handlers_mfa.c */
int h_mfa_setup(struct req *rq);
int h_mfa_enable(struct req *rq);
int h_mfa_disable(struct req *rq);
int h_mfa_recovery(struct req *rq);

/* handlers_profile.c */
int h_account_get(struct req *rq);
int h_account_patch(struct req *rq);
int h_picture_put(struct req *rq);
int h_picture_get(struct req *rq);
int h_picture_delete(struct req *rq);

/* handlers_models.c */
int h_measurements(struct req *rq);
int h_models_list(struct req *rq);
int h_models_create(struct req *rq);
int h_model_get(struct req *rq);
int h_model_patch(struct req *rq);
int h_model_delete(struct req *rq);
int h_model_measurements_get(struct req *rq);
int h_model_measurements_put(struct req *rq);
int h_avatar_put(struct req *rq);
int h_avatar_get(struct req *rq);
int h_avatar_delete(struct req *rq);

/* handlers_apikeys.c */
int h_apikeys_create(struct req *rq);
int h_apikeys_list(struct req *rq);
int h_apikey_delete(struct req *rq);

/* handlers_restrict.c */
int h_restrict_post(struct req *rq);
int h_restrict_delete(struct req *rq);

/* handlers_export.c */
int h_account_export(struct req *rq);

/* handlers_opendata.c */
int h_opendata_meta(struct req *rq);
int h_opendata_csv(struct req *rq);
int h_opendata_json(struct req *rq);

/* handlers_patterns.c */
int h_designs(struct req *rq);
int h_pattern_svg(struct req *rq);
int h_pattern_pdf(struct req *rq);
int h_pattern_json(struct req *rq);
int h_saved_create(struct req *rq);
int h_saved_list(struct req *rq);
int h_saved_get(struct req *rq);
int h_saved_patch(struct req *rq);
int h_saved_delete(struct req *rq);
int h_saved_refresh(struct req *rq);
int h_saved_svg(struct req *rq);
int h_saved_pdf(struct req *rq);
int h_saved_json(struct req *rq);

/* handlers_site.c */
int h_site_page(struct req *rq);
int h_site_asset(struct req *rq);
int h_site_illustration(struct req *rq);

#endif
