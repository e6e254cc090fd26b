/*
 * log.c - the diagnostic log on stderr.
 *
 * Each line is "YYYY-MM-DDThh:mm:ss.mmmZ LEVEL module: message\n", built in a
 * local buffer and emitted with a single write(2), so lines from different
 * threads never interleave. Over-long messages are truncated and end in
 * "...". The level threshold is an atomic (default INFO), readable from any
 * thread. Time comes from clock.h so a fixed test clock shows in the log.
 */
#include "base/log.h"
#include "base/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int log_threshold = LOG_INFO;

void log_set_level(enum log_level l)
{
    if ((int)l < LOG_DEBUG)
        l = LOG_DEBUG;
    if ((int)l > LOG_ERROR)
        l = LOG_ERROR;
    atomic_store(&log_threshold, (int)l);
}

static const char *log_level_name(enum log_level l)
{
    switch (l) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO";
    case LOG_WARN:
        return "WARN";
    case LOG_ERROR:
        return "ERROR";
    }
    return "ERROR";
}

void log_msg(enum log_level l, const char *module, const char *fmt, ...)
{
    if ((int)l < atomic_load(&log_threshold))
        return;
    int saved_errno = errno;
    char line[LOG_LINE_MAX];
    char ts[25];
    if (clock_format_rfc3339(clock_now_ms(), ts) != 0)
        memcpy(ts, "0000-00-00T00:00:00.000Z", sizeof ts);
    int hn =
        snprintf(line, sizeof line, "%s %s %s: ", ts, log_level_name(l), module ? module : "-");
    if (hn < 0)
        goto out;
    size_t len = (size_t)hn;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    va_list ap;
    va_start(ap, fmt);
    int mn = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
    va_end(ap);
    if (mn < 0)
        goto out;
    if ((size_t)mn >= sizeof line - len - 1) {
        len = sizeof line - 2; /* truncated: vsnprintf filled up to here */
        memcpy(line + len - 3, "...", 3);
    } else {
        len += (size_t)mn;
    }
    /* Keep one line per message: a newline inside the message would let a
     * caller forge a log line, so it is shown as a space. */
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    line[len++] = '\n';
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
out:
    errno = saved_errno;
}
