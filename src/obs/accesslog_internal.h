/*
 * accesslog_internal.h - test-only hooks of accesslog.c. Nothing in the
 * server includes this file; unit tests use it to make queue behaviour
 * deterministic.
 */
#ifndef ATELIER_ACCESSLOG_INTERNAL_H
#define ATELIER_ACCESSLOG_INTERNAL_H

/* With paused non-zero the writer thread takes no new batch from the queue
 * (entries keep queueing up, then are dropped when it is full); zero lets it
 * run again. accesslog_stop() drains the queue even while paused. */
void accesslog_test_pause(int paused);

#endif
