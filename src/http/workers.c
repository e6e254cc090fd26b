/*
 * workers.c - the worker pools of workers.h: one for slow handlers and one,
 * smaller, for image uploads.
 *
 * Invariants: each pool's queue holds at most its capacity of jobs (queued
 * plus running for the image pool); every job accepted by a submit runs
 * exactly once, also when stopping (callers rely on it to resume suspended
 * connections); in the image pool no two jobs queued or running share a
 * key, and a key is free again once its job has returned; threads own their
 * database connection (db_thread), closed by its thread-exit destructor.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "http/workers.h"

#define WORKERS_QUEUE 1024
#define WORKERS_MAX   64
#define WORKERS_KEY   POLICY_ID_BUF

struct job {
    worker_fn fn;
    worker_fn done; /* after the key is free again; may be NULL */
    void *arg;
    char key[WORKERS_KEY]; /* "" for none */
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job queue[WORKERS_QUEUE];
    unsigned head, len, cap;
    unsigned running;                    /* jobs taken off the queue, not yet returned */
    char busy[WORKERS_MAX][WORKERS_KEY]; /* keys of running jobs, by thread slot */
    int stopping;
    pthread_t threads[WORKERS_MAX];
    unsigned n;
};

static struct pool workers_slow = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                   .cond = PTHREAD_COND_INITIALIZER};
static struct pool workers_image = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                    .cond = PTHREAD_COND_INITIALIZER};
static void (*workers_on_exit)(void);

struct worker_arg {
    struct pool *p;
    unsigned slot;
};
static struct worker_arg workers_args[2][WORKERS_MAX];

void workers_set_thread_exit(void (*fn)(void))
{
    workers_on_exit = fn;
}

static void *workers_main(void *argp)
{
    struct worker_arg *wa = argp;
    struct pool *p = wa->p;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->len == 0 && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->len == 0)
            break; /* stopping and drained */
        struct job j = p->queue[p->head];
        p->head = (p->head + 1) % WORKERS_QUEUE;
        p->len--;
        p->running++;
        memcpy(p->busy[wa->slot], j.key, WORKERS_KEY);
        pthread_mutex_unlock(&p->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&p->lock);
        p->busy[wa->slot][0] = '\0';
        p->running--;
        if (j.done) {
            /* the answer goes out only now, so a client that sends its next
             * upload on receiving it never finds its own key still busy */
            pthread_mutex_unlock(&p->lock);
            j.done(j.arg);
            pthread_mutex_lock(&p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (workers_on_exit)
        workers_on_exit();
    return NULL;
}

static void workers_pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    p->n = 0;
}

static int workers_pool_start(struct pool *p, struct worker_arg *args, unsigned n, unsigned cap)
{
    p->stopping = 0;
    p->cap = cap;
    for (p->n = 0; p->n < n; p->n++) {
        args[p->n] = (struct worker_arg){p, p->n};
        p->busy[p->n][0] = '\0';
        if (pthread_create(&p->threads[p->n], NULL, workers_main, &args[p->n]) != 0) {
            log_error("workers", "cannot start worker thread");
            return ERR_INTERNAL;
        }
    }
    return 0;
}

int workers_start(unsigned n)
{
    if (n == 0)
        n = 1;
    if (n > WORKERS_MAX)
        n = WORKERS_MAX;
    if (workers_pool_start(&workers_slow, workers_args[0], n, WORKERS_QUEUE) ||
        workers_pool_start(&workers_image, workers_args[1], LIMIT_IMAGE_WORKERS,
                           LIMIT_IMAGE_QUEUE)) {
        workers_stop();
        return ERR_INTERNAL;
    }
    return 0;
}

/* 1 when a job with this key is queued or running in p (lock held). */
static int workers_key_busy(const struct pool *p, const char *key)
{
    for (unsigned i = 0; i < p->n; i++)
        if (strcmp(p->busy[i], key) == 0)
            return 1;
    for (unsigned i = 0; i < p->len; i++)
        if (strcmp(p->queue[(p->head + i) % WORKERS_QUEUE].key, key) == 0)
            return 1;
    return 0;
}

static int workers_pool_submit(struct pool *p, worker_fn fn, worker_fn done, void *arg,
                               const char *key)
{
    int rc = 0;
    struct job j = {fn, done, arg, {0}};

    if (key && strlen(key) >= WORKERS_KEY)
        return ERR_INTERNAL;
    if (key)
        memcpy(j.key, key, strlen(key) + 1);
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->len + p->running >= p->cap || p->n == 0) {
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    if (j.key[0] && workers_key_busy(p, j.key)) {
        rc = ERR_RATE_LIMITED;
        goto out;
    }
    p->queue[(p->head + p->len) % WORKERS_QUEUE] = j;
    p->len++;
    pthread_cond_signal(&p->cond);
out:
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int workers_submit(worker_fn fn, void *arg)
{
    return workers_pool_submit(&workers_slow, fn, NULL, arg, NULL);
}

int workers_submit_image(worker_fn fn, worker_fn done, void *arg, const char *key)
{
    return workers_pool_submit(&workers_image, fn, done, arg, key);
}

void workers_stop(void)
{
    workers_pool_stop(&workers_image);
    workers_pool_stop(&workers_slow);
}
