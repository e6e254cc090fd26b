/*
 * clock.h - the one source of wall-clock time.
 *
 * Everything that compares against retention periods or expiries asks
 * clock_now_ms(). Tests and `atelier sweep --now T` fix it with clock_set_ms();
 * the server may run with an offset (clock_set_offset_ms) for end-to-end
 * retention tests. Durations use clock_mono_ns(), which is never faked.
 */
#ifndef ATELIER_CLOCK_H
#define ATELIER_CLOCK_H

#include <stdint.h>
#include <stddef.h>

/* Milliseconds since the Unix epoch, UTC, as this process sees it. */
int64_t clock_now_ms(void);

/* The real time in ms since the epoch, never fixed or shifted: the time of
 * log lines, which must say when things happened. */
int64_t clock_wall_ms(void);

/* 1 when clock_now_ms() is fixed or shifted (tests, sweep --now,
 * --clock-offset), with its value in *now_ms; 0 when it is the real time. */
int clock_shifted(int64_t *now_ms);

/* Seconds since the epoch (clock_now_ms() / 1000). */
int64_t clock_now(void);

/* Fix the clock at ms (tests, sweep --now). */
void clock_set_ms(int64_t ms);

/* Run the real clock shifted by offset ms. */
void clock_set_offset_ms(int64_t offset_ms);

/* Back to the real clock. */
void clock_reset(void);

/* Monotonic nanoseconds, for durations only. */
uint64_t clock_mono_ns(void);

/* Format ms as RFC 3339 UTC with milliseconds ("2026-11-29T20:41:27.123Z").
 * out must hold 25 bytes. Returns 0, or ERR_INVALID when out of range. */
int clock_format_rfc3339(int64_t ms, char out[25]);

/* Format a UTC date "YYYY-MM-DD" (11 bytes). */
int clock_format_date(int64_t ms, char out[11]);

/* Parse RFC 3339 ("2026-11-29T20:41:27Z", optional fraction, Z or +hh:mm)
 * or a date "2026-11-29" (midnight UTC) into ms. Returns 0 or ERR_INVALID. */
int clock_parse_rfc3339(const char *s, int64_t *ms_out);

#endif
