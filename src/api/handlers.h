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
int h_saved_create(struct req *rq);
int h_saved_list(struct req *rq);
int h_saved_get(struct req *rq);
int h_saved_patch(struct req *rq);
int h_saved_delete(struct req *rq);
int h_saved_refresh(struct req *rq);
int h_saved_svg(struct req *rq);
int h_saved_pdf(struct req *rq);

/* handlers_site.c */
int h_site_page(struct req *rq);
int h_site_asset(struct req *rq);
int h_site_illustration(struct req *rq);

#endif
