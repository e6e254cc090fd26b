/*
 * ratelimit.h - in-memory failure counters for login throttling.
 *
 * Counters are keyed by a kind and a string (an account id, an IP address)
 * and live only in this process's memory: IP addresses are never written
 * anywhere by this module. A key is limited once it has `limit` failures
 * inside a sliding window of `window_s` seconds; the answer then says how
 * many seconds until the oldest failure leaves the window (Retry-After).
 * Memory is bounded: at most RATELIMIT_MAX_KEYS keys per kind; when full,
 * expired keys are evicted, then the least recently used.
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

/* Forget key's failures (e.g. after a successful login for the account). */
void ratelimit_reset(enum ratelimit_kind k, const char *key);

/* Drop every counter (tests, shutdown). */
void ratelimit_clear(void);

#endif
