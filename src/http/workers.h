/*
 * workers.h - a fixed pool of threads for CPU-heavy request work (argon2id,
 * image decoding, drafting), so that the HTTP event threads never block.
 * Jobs run in submission order; the queue is bounded and refuses when full.
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
/* Run every queued job, then stop and join the threads. */
void workers_stop(void);

#endif
