/*
 * ratelimit.h - failure counters for the login and mail throttles.
 *
 * Counters are keyed by a kind and a string (an account id, an IP address).
 * A key is limited once it has `limit` failures inside a sliding window of
 * `window_s` seconds; the answer then says how many seconds until the
 * oldest failure that keeps it limited leaves the window (Retry-After).
 *
 * Two places hold them, behind this one interface:
 *   - this process's memory, always: bounded to RATELIMIT_MAX_KEYS keys per
 *     kind; when full, expired keys are evicted, then the least recently
 *     used. Enough for one node (SQLite: one node by design);
 *   - the database, once ratelimit_share(1) was called (`atelier serve` on
 *     PostgreSQL): every node counts into the table `throttle`, one row per
 *     kind, keyed hash of the key (seal_lookup under the server key, never
 *     the key in clear) and second, written by an atomic UPSERT; so N nodes
 *     lock a key at the same count as one. The sweeper deletes rows that
 *     left their window. A node that cannot reach the table (storage down)
 *     goes on with its memory's counters, which hold a subset of the same
 *     failures.
 */
#ifndef ATELIER_RATELIMIT_H
#define ATELIER_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_MAX_KEYS 65536

/* RL_LOGIN_ACCOUNT: one account (or unknown login name) from one client;
 * RL_LOGIN_ACCOUNT_ALL: one account from every client (the higher ceiling);
 * RL_LOGIN_IP: one client; RL_MAIL_RECIPIENT, RL_MAIL_CLIENT: requests
 * that send mail, per recipient address (a keyed hash) and per client. */
enum ratelimit_kind {
    RL_LOGIN_ACCOUNT,
    RL_LOGIN_IP,
    RL_MAIL_RECIPIENT,
    RL_LOGIN_ACCOUNT_ALL,
    RL_MAIL_CLIENT,
    RL__COUNT
};

/* Configure a kind (defaults from policy.h for the login kinds). */
void ratelimit_configure(enum ratelimit_kind k, unsigned limit, unsigned window_s);

/* 0 when key may try now, else the seconds to wait (>= 1). now in seconds. */
unsigned ratelimit_check(enum ratelimit_kind k, const char *key, int64_t now);

/* Record one failure for key at now. */
void ratelimit_fail(enum ratelimit_kind k, const char *key, int64_t now);

/* Check and count as one step: 0 when key may try now, and the attempt
 * then counts as a failure at now until it is given back; else the seconds
 * to wait (>= 1), and nothing is counted. Attempts in flight together pass
 * at most as many as places are left, across nodes too when shared. */
unsigned ratelimit_take(enum ratelimit_kind k, const char *key, int64_t now);

/* Give back the place an attempt took at `at` (it succeeded, or ended
 * before it was tried). */
void ratelimit_give_back(enum ratelimit_kind k, const char *key, int64_t at);

/* Forget key's failures (e.g. after a successful login for the account). */
void ratelimit_reset(enum ratelimit_kind k, const char *key);

/* Drop every counter of this process's memory (tests, shutdown). */
void ratelimit_clear(void);

/* Count in the database too (on) or in memory only (off, the default). Set
 * before the threads that throttle start. The database's counters are read
 * and written on a connection of the calling thread's own, outside any
 * transaction of the request (a failure counts even when the request's
 * transaction rolls back). */
void ratelimit_share(int on);

#endif
