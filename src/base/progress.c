/*
 * progress.c - the single updating progress line of long commands
 * (progress.h).
 *
 * Invariants: nothing is written unless progress_enable(1) was called (the
 * commands call it only when stderr is a terminal); each update is one
 * write(2) of "\r" + text + "\033[K", so the line never grows past what the
 * terminal shows and never mixes with a half-written update; the state is
 * guarded by one mutex, since the server's modules may call in from any
 * thread (they print nothing: the server never enables the line).
 */
#include "base/progress.h"
#include "base/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_LINE_MAX 200

static pthread_mutex_t progress_mu = PTHREAD_MUTEX_INITIALIZER;
static int progress_on;
static int progress_shown;
static uint64_t progress_last_ns;

static void progress_write(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void progress_enable(int on)
{
    pthread_mutex_lock(&progress_mu);
    progress_on = on != 0;
    pthread_mutex_unlock(&progress_mu);
}

static void progress_show(int force, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void progress_show(int force, const char *fmt, va_list ap)
{
    char line[PROGRESS_LINE_MAX + 8];
    uint64_t now = clock_mono_ns();
    int saved = errno;

    pthread_mutex_lock(&progress_mu);
    if (!progress_on)
        goto out;
    if (!force && progress_shown && now - progress_last_ns < PROGRESS_EVERY_MS * 1000000ull)
        goto out;
    line[0] = '\r';
    int n = vsnprintf(line + 1, PROGRESS_LINE_MAX, fmt, ap);
    if (n < 0)
        goto out;
    size_t len = 1 + ((size_t)n < PROGRESS_LINE_MAX ? (size_t)n : PROGRESS_LINE_MAX - 1);
    for (size_t i = 1; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    memcpy(line + len, "\033[K", 3);
    progress_write(line, len + 3);
    progress_shown = 1;
    progress_last_ns = now;
out:
    pthread_mutex_unlock(&progress_mu);
    errno = saved;
}

void progress_update(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    progress_show(0, fmt, ap);
    va_end(ap);
}

void progress_step(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    progress_show(1, fmt, ap);
    va_end(ap);
}

void progress_end(void)
{
    pthread_mutex_lock(&progress_mu);
    if (progress_on && progress_shown)
        progress_write("\r\033[K", 4);
    progress_shown = 0;
    pthread_mutex_unlock(&progress_mu);
}

double progress_seconds(unsigned long long t0_ns)
{
    return (double)(clock_mono_ns() - t0_ns) / 1e9;
}
