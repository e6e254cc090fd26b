/*
 * workers.h - fixed pools of threads for CPU-heavy request work, so that the
 * HTTP event threads never block: one pool (a thread per core) for slow
 * handlers (argon2id, drafting, export), and a separate, smaller one
 * (LIMIT_IMAGE_WORKERS threads, LIMIT_IMAGE_QUEUE jobs) for image uploads,
 * so that uploads never hold every slow-handler thread and starve login.
 * Jobs run in submission order; the queues are bounded and refuse when full.
 */
#ifndef ATELIER_WORKERS_H
#define ATELIER_WORKERS_H

typedef void (*worker_fn)(void *arg);

/* Start n threads. Returns 0 or ERR_INTERNAL. */
int workers_start(unsigned n);
/* Run fn in each worker thread just before it exits (e.g. to release
 * per-thread library state). Set before workers_start. */
void workers_set_thread_exit(void (*fn)(void));

/* Queue a job. Returns 0, or ERR_UNAVAILABLE when the queue is full or the
 * pool is stopping. */
int workers_submit(worker_fn fn, void *arg);
/* Queue an image job: fn(arg), then done(arg) (may be NULL) once the key is
 * free again. key (e.g. an account id, may be NULL) admits one job per key
 * at a time. Returns 0, ERR_RATE_LIMITED when a job with the same
 * key is queued or running, ERR_UNAVAILABLE when LIMIT_IMAGE_QUEUE jobs are
 * queued or running or the pool is stopping. */
int workers_submit_image(worker_fn fn, worker_fn done, void *arg, const char *key);
/* Run every queued job, then stop and join the threads. */
void workers_stop(void);

#endif
