/*
 * model_write.h - storing a change to a model of the caller's (PATCH, PUT
 * of the measurements): a compare-and-set on the model's stamp, retried on
 * a lost race; on PostgreSQL through the storage batcher, with the writes
 * of one model on this node taken in turn and combined (model_write.c).
 */
#ifndef ATELIER_API_MODEL_WRITE_H
#define ATELIER_API_MODEL_WRITE_H

#include <jansson.h>

#include "http/req.h"
#include "models/models.h"

/* A change to a model (0, or an err it answered, e.g. 422 through
 * req_fail); it may run more than once, each time on a fresh copy of the
 * stored model, and on another request's thread while its own request
 * waits. The answer to a request once the changed model is stored. */
typedef int (*model_change_fn)(struct req *rq, struct model *m, json_t *arg);
typedef int (*model_answer_fn)(struct req *rq, struct model *m);

/* Apply change(rq, m, arg) to m (the caller's model {id} as read) and
 * store it, then answer(rq, stored). Returns what a handler returns; 0
 * with no answer set means the request waits (req_wait) and is answered
 * when woken. m is taken in that case (zeroed); release it either way. */
int model_write(struct req *rq, struct db *db, struct model *m, model_change_fn change, json_t *arg,
                model_answer_fn answer);

/* At shutdown, after the storage batcher stopped (db_batch_stop) and before
 * the HTTP daemon does: wait (at most LIMIT_DRAIN_MS) until no write waits
 * for its turn, so no connection stays suspended. */
void model_write_drain(void);

#endif
