/*
 * log.c - the diagnostic log on stderr.
 *
 * Each line is "YYYY-MM-DDThh:mm:ss.mmmZ LEVEL module: message\n", built in a
 * local buffer and emitted with a single write(2), so lines from different
 * threads never interleave. Over-long messages are truncated and end in
 * "...". The level threshold is an atomic (default INFO), readable from any
 * thread. The time is the real time (clock_wall_ms), so a line says when it
 * was written; when the process's clock is fixed or shifted (sweep --now,
 * --clock-offset) the line also carries that time as a field after it:
 * "2026-12-07T10:00:00.000Z now=2027-06-01T10:00:00.000Z INFO sweep: ...".
 * A progress line on the terminal (progress.h) is erased first.
 */
#include "base/log.h"
#include "base/clock.h"
#include "base/progress.h"

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
    char ts[25], nts[25], now[32] = "";
    int64_t now_ms;
    if (clock_format_rfc3339(clock_wall_ms(), ts) != 0)
        memcpy(ts, "0000-00-00T00:00:00.000Z", sizeof ts);
    if (clock_shifted(&now_ms)) {
        if (clock_format_rfc3339(now_ms, nts) != 0)
            memcpy(nts, "out-of-range", sizeof "out-of-range");
        snprintf(now, sizeof now, "now=%s ", nts);
    }
    int hn = snprintf(line, sizeof line, "%s %s%s %s: ", ts, now, log_level_name(l),
                      module ? module : "-");
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
    progress_end();
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
