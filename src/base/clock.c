/*
 * clock.c - the process's one wall clock, optionally fixed or shifted for
 * tests, plus RFC 3339 formatting and strict parsing.
 *
 * Invariants: the clock mode and its value are published together through a
 * sequence counter in C11 atomics, so any thread may call clock_now_ms() while
 * another changes the mode and never sees a mode paired with the wrong value.
 * Calendar arithmetic is done here (proleptic Gregorian, UTC, no time zones,
 * no leap seconds) without gmtime/localtime. Formatting covers years 0000 to
 * 9999; parsing accepts only the grammar documented at clock_parse_rfc3339.
 */
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

enum clock_mode { CLOCK_MODE_REAL = 0, CLOCK_MODE_FIXED = 1, CLOCK_MODE_OFFSET = 2 };

static atomic_uint clock_seq;    /* odd while a writer is updating */
static atomic_int clock_mode;    /* enum clock_mode */
static atomic_llong clock_value; /* fixed ms or offset ms */

static int64_t clock_real_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void clock_publish(int mode, int64_t value)
{
    unsigned s = atomic_load(&clock_seq);
    /* Take the writer slot: move from an even value to the next odd one. */
    for (;;) {
        if ((s & 1u) == 0 && atomic_compare_exchange_weak(&clock_seq, &s, s + 1))
            break;
        s = atomic_load(&clock_seq);
    }
    atomic_store(&clock_mode, mode);
    atomic_store(&clock_value, (long long)value);
    atomic_store(&clock_seq, s + 2);
}

/* The mode and its value, read together (see the invariant above). */
static void clock_read(int *mode, int64_t *value)
{
    for (;;) {
        unsigned s1 = atomic_load(&clock_seq);
        if (s1 & 1u)
            continue;
        *mode = atomic_load(&clock_mode);
        *value = (int64_t)atomic_load(&clock_value);
        if (atomic_load(&clock_seq) == s1)
            break;
    }
}

static int64_t clock_of(int mode, int64_t value)
{
    switch (mode) {
    case CLOCK_MODE_FIXED:
        return value;
    case CLOCK_MODE_OFFSET:
        return clock_real_ms() + value;
    default:
        return clock_real_ms();
    }
}

int64_t clock_now_ms(void)
{
    int mode;
    int64_t value;

    clock_read(&mode, &value);
    return clock_of(mode, value);
}

int64_t clock_wall_ms(void)
{
    return clock_real_ms();
}

int clock_shifted(int64_t *now_ms)
{
    int mode;
    int64_t value;

    clock_read(&mode, &value);
    if (mode == CLOCK_MODE_REAL)
        return 0;
    *now_ms = clock_of(mode, value);
    return 1;
}

int64_t clock_now(void)
{
    int64_t ms = clock_now_ms();
    /* Floor division so times before 1970 round down like the ms value. */
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

void clock_set_ms(int64_t ms)
{
    clock_publish(CLOCK_MODE_FIXED, ms);
}

void clock_set_offset_ms(int64_t offset_ms)
{
    clock_publish(CLOCK_MODE_OFFSET, offset_ms);
}

void clock_reset(void)
{
    clock_publish(CLOCK_MODE_REAL, 0);
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- calendar arithmetic ------------------------------------------------ */

static bool clock_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int clock_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && clock_is_leap(y))
        return 29;
    return days[m - 1];
}

/* floor(a / b) for b > 0. */
static int64_t clock_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return q;
}

/*
 * Days since 1970-01-01 of a civil date. Years are counted from March so that
 * the leap day is the last day of the counted year; a 400-year era has 146097
 * days, and within an era the day count follows from the year of era and the
 * day of that March-based year.
 */
static int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2)
        y -= 1;
    int64_t era = clock_floor_div(y, 400);
    int64_t yoe = y - era * 400;                         /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;                  /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (d - 1);          /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468;                  /* 719468: 0000-03-01 to 1970-01-01 */
}

/* Inverse of clock_days_from_civil. */
static void clock_civil_from_days(int64_t z, int64_t *y_out, int *m_out, int *d_out)
{
    z += 719468;
    int64_t era = clock_floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11 */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    *y_out = y;
    *m_out = m;
    *d_out = d;
}

static void clock_put_digits(char *out, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Splits ms into civil fields; ERR_INVALID outside years 0000..9999. */
static int clock_split(int64_t ms, int64_t *y, int *mo, int *d, int64_t *ms_of_day)
{
    /* Bound ms before arithmetic so extreme values cannot overflow. */
    if (ms < -62167219200000LL || ms > 253402300799999LL)
        return ERR_INVALID;
    int64_t days = clock_floor_div(ms, POLICY_DAY_MS);
    *ms_of_day = ms - days * POLICY_DAY_MS;
    clock_civil_from_days(days, y, mo, d);
    if (*y < 0 || *y > 9999)
        return ERR_INVALID;
    return 0;
}

int clock_format_rfc3339(int64_t ms, char out[25])
{
    int64_t y, rem;
    int mo, d;
    if (clock_split(ms, &y, &mo, &d, &rem) != 0) {
        out[0] = '\0';
        return ERR_INVALID;
    }
    clock_put_digits(out, y, 4);
    out[4] = '-';
    clock_put_digits(out + 5, mo, 2);
    out[7] = '-';
    clock_put_digits(out + 8, d, 2);
    out[10] = 'T';
    clock_put_digits(out + 11, rem / 3600000, 2);
    out[13] = ':';
    clock_put_digits(out + 14, rem / 60000 % 60, 2);
    out[16] = ':';
    clock_put_digits(out + 17, rem / 1000 % 60, 2);
    out[19] = '.';
    clock_put_digits(out + 20, rem % 1000, 3);
    out[23] = 'Z';
    out[24] = '\0';
    return 0;
}

int clock_format_date(int64_t ms, char out[11])
{
    int64_t y, rem;
    int mo, d;
    if (clock_split(ms, &y, &mo, &d, &rem) != 0) {
        out[0] = '\0';
        return ERR_INVALID;
    }
    clock_put_digits(out, y, 4);
    out[4] = '-';
    clock_put_digits(out + 5, mo, 2);
    out[7] = '-';
    clock_put_digits(out + 8, d, 2);
    out[10] = '\0';
    return 0;
}

/* Reads exactly n decimal digits at *p; advances *p. */
static bool clock_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool clock_expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/*
 * Grammar (uppercase T and Z only; no spaces; nothing after the end):
 *   date      = YYYY "-" MM "-" DD
 *   date-time = date "T" hh ":" mm ":" ss [ "." 1*9DIGIT ] ( "Z" / ("+" / "-") hh ":" mm )
 * Seconds are 00..59 (no leap seconds); fractions beyond milliseconds are
 * truncated.
 */
int clock_parse_rfc3339(const char *s, int64_t *ms_out)
{
    if (!s)
        return ERR_INVALID;
    const char *p = s;
    int y, mo, d, hh = 0, mi = 0, ss = 0, frac_ms = 0;
    if (!clock_digits(&p, 4, &y) || !clock_expect(&p, '-') || !clock_digits(&p, 2, &mo) ||
        !clock_expect(&p, '-') || !clock_digits(&p, 2, &d))
        return ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > clock_month_days(y, mo))
        return ERR_INVALID;
    int64_t offset_min = 0;
    if (*p != '\0') {
        if (!clock_expect(&p, 'T') || !clock_digits(&p, 2, &hh) || !clock_expect(&p, ':') ||
            !clock_digits(&p, 2, &mi) || !clock_expect(&p, ':') || !clock_digits(&p, 2, &ss))
            return ERR_INVALID;
        if (hh > 23 || mi > 59 || ss > 59)
            return ERR_INVALID;
        if (*p == '.') {
            p++;
            int ndig = 0;
            while (*p >= '0' && *p <= '9') {
                if (ndig < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
                ndig++;
                p++;
            }
            if (ndig == 0 || ndig > 9)
                return ERR_INVALID;
            for (int k = ndig; k < 3; k++)
                frac_ms *= 10;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1;
            int oh, om;
            p++;
            if (!clock_digits(&p, 2, &oh) || !clock_expect(&p, ':') || !clock_digits(&p, 2, &om))
                return ERR_INVALID;
            if (oh > 23 || om > 59)
                return ERR_INVALID;
            offset_min = sign * (oh * 60 + om);
        } else {
            return ERR_INVALID;
        }
        if (*p != '\0')
            return ERR_INVALID;
    }
    int64_t days = clock_days_from_civil(y, mo, d);
    int64_t ms = days * POLICY_DAY_MS + (int64_t)hh * 3600000 + (int64_t)mi * 60000 +
                 (int64_t)ss * 1000 + frac_ms - offset_min * 60000;
    *ms_out = ms;
    return 0;
}
