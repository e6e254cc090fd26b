/*
 * workers.c - the worker pool of workers.h.
 *
 * Invariants: the queue holds at most WORKERS_QUEUE jobs; every job accepted
 * by workers_submit runs exactly once, also when stopping (callers rely on it
 * to resume suspended connections); threads own their database connection
 * (db_thread), closed by its thread-exit destructor.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "http/workers.h"

#define WORKERS_QUEUE 1024
#define WORKERS_MAX   64

struct job {
    worker_fn fn;
    void *arg;
};

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_cond = PTHREAD_COND_INITIALIZER;
static struct job workers_queue[WORKERS_QUEUE];
static unsigned workers_head, workers_len;
static int workers_stopping;
static pthread_t workers_threads[WORKERS_MAX];
static unsigned workers_n;
static void (*workers_on_exit)(void);

void workers_set_thread_exit(void (*fn)(void))
{
    workers_on_exit = fn;
}

static void *workers_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&workers_lock);
    for (;;) {
        while (workers_len == 0 && !workers_stopping)
            pthread_cond_wait(&workers_cond, &workers_lock);
        if (workers_len == 0)
            break; /* stopping and drained */
        struct job j = workers_queue[workers_head];
        workers_head = (workers_head + 1) % WORKERS_QUEUE;
        workers_len--;
        pthread_mutex_unlock(&workers_lock);
        j.fn(j.arg);
        pthread_mutex_lock(&workers_lock);
    }
    pthread_mutex_unlock(&workers_lock);
    if (workers_on_exit)
        workers_on_exit();
    return NULL;
}

int workers_start(unsigned n)
{
    if (n == 0)
        n = 1;
    if (n > WORKERS_MAX)
        n = WORKERS_MAX;
    workers_stopping = 0;
    for (workers_n = 0; workers_n < n; workers_n++) {
        if (pthread_create(&workers_threads[workers_n], NULL, workers_main, NULL) != 0) {
            log_error("workers", "cannot start worker thread");
            workers_stop();
            return ERR_INTERNAL;
        }
    }
    return 0;
}

int workers_submit(worker_fn fn, void *arg)
{
    int rc = 0;

    pthread_mutex_lock(&workers_lock);
    if (workers_stopping || workers_len == WORKERS_QUEUE || workers_n == 0) {
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    workers_queue[(workers_head + workers_len) % WORKERS_QUEUE] = (struct job){fn, arg};
    workers_len++;
    pthread_cond_signal(&workers_cond);
out:
    pthread_mutex_unlock(&workers_lock);
    return rc;
}

void workers_stop(void)
{
    pthread_mutex_lock(&workers_lock);
    workers_stopping = 1;
    pthread_cond_broadcast(&workers_cond);
    pthread_mutex_unlock(&workers_lock);
    for (unsigned i = 0; i < workers_n; i++)
        pthread_join(workers_threads[i], NULL);
    workers_n = 0;
}
