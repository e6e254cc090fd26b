/*
 * handlers.h - every HTTP handler, by area. The route table (routes.c) is
 * the only caller. Handlers validate their input, call services and storage,
 * and answer with one resp_* call (http.h).
 */
#ifndef ATELIER_HANDLERS_H
#define ATELIER_HANDLERS_H

#include "http.h"

/* handlers_system.c */
int h_healthz(struct req *rq);
int h_metrics(struct req *rq);
int h_openapi(struct req *rq);

#endif
