/*
 * progress.h - the progress line of long commands (sweep, populate,
 * opendata build, rekey, migrate) on a terminal.
 *
 * A command turns it on with progress_enable(isatty(2)); the server never
 * does, so modules shared with the server (sweep, opendata) may call
 * progress_update freely: it prints nothing there. On a terminal the line is
 * rewritten in place ("\r" text, erase to the end of the line), at most every
 * PROGRESS_EVERY_MS; progress_end erases it, so that the summary line every
 * command prints afterwards (whether or not on a terminal) stands alone.
 */
#ifndef ATELIER_PROGRESS_H
#define ATELIER_PROGRESS_H

#define PROGRESS_EVERY_MS 100

/* Show progress lines from now on (on: 1) or never (0, the default). */
void progress_enable(int on);

/* Replace the progress line with this text (one line; longer text is cut). */
void progress_update(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, whatever the time since the last update (a new step). */
void progress_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Erase the progress line, if one is shown. */
void progress_end(void);

/* Seconds since t0_ns (a clock_mono_ns() value), for summary lines. */
double progress_seconds(unsigned long long t0_ns);

#endif
