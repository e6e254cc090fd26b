/*
 * log.h - the server's diagnostic log on stderr (not the access log).
 *
 * Lines are "time level module: message". Callers never pass personal data
 * (emails, IPs, tokens, bodies) to it; those belong nowhere or, for IPs, only
 * in the access log.
 */
#ifndef ATELIER_LOG_H
#define ATELIER_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(m, ...)  log_msg(LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...)  log_msg(LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) log_msg(LOG_ERROR, m, __VA_ARGS__)

#endif
