/*
 * util.c - checked size arithmetic, strict integer parsing, bounded copies,
 * aborting allocators for small internal objects, hex and UTF-8 checks.
 *
 * Invariants: nothing here reads past the lengths it is given; parsers accept
 * only the exact documented grammar; the x* allocators never return NULL (they
 * print a message and abort instead), so they must only be used for sizes the
 * program chooses, never for client-controlled sizes.
 */
#include "base/util.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool size_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}

bool size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return ERR_INVALID;
    int neg = 0;
    const char *p = s;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!*p)
        return ERR_INVALID;
    /* Accumulate as a negative number so INT64_MIN is representable. */
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return ERR_INVALID;
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10)
            return ERR_INVALID;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return ERR_INVALID;
        v = -v;
    }
    if (v < min || v > max)
        return ERR_INVALID;
    *out = v;
    return 0;
}

int util_strlcpy(char *dst, const char *src, size_t n)
{
    if (n == 0)
        return ERR_TOO_LARGE;
    size_t len = strlen(src);
    if (len < n) {
        memcpy(dst, src, len + 1);
        return 0;
    }
    memcpy(dst, src, n - 1);
    dst[n - 1] = '\0';
    return ERR_TOO_LARGE;
}

static void util_oom(size_t n)
{
    fprintf(stderr, "atelier: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        util_oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    size_t total;
    if (!size_mul(n, size, &total))
        util_oom(SIZE_MAX);
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        util_oom(total);
    return p;
}

char *xstrdup(const char *s)
{
    size_t len = strlen(s);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len + 1);
    return p;
}

void util_hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

bool util_utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        uint32_t min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false; /* continuation byte, 0xc0/0xc1 overlong lead, or > 0xf4 */
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            unsigned char cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

char *util_size_text(uint64_t bytes, char *out, size_t n)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB"};
    uint64_t scale = 1024;
    int u = 0;

    if (!out || n == 0)
        return out;
    if (bytes < 1024) {
        snprintf(out, n, "%llu byte%s", (unsigned long long)bytes, bytes == 1 ? "" : "s");
        return out;
    }
    while (u < 2 && bytes >= scale * 1024) {
        scale *= 1024;
        u++;
    }
    if (bytes % scale == 0)
        snprintf(out, n, "%llu %s", (unsigned long long)(bytes / scale), unit[u]);
    else
        snprintf(out, n, "%.1f %s", (double)bytes / (double)scale, unit[u]);
    return out;
}

unsigned util_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    if (n > 4096)
        return 4096;
    return (unsigned)n;
}

size_t util_utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);

    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues a character: cut before that character */
    return n;
}
