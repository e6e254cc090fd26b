/*
 * strbuf.h - the one growable byte buffer of atelier (responses, access log
 * lines, the metrics page, SVG and PDF output) and its escapers for JSON
 * strings, XML text and attributes, and Prometheus label values.
 *
 * A buffer is bounded when it is made: STRBUF_INIT(max) or strbuf_init()
 * give the most bytes of text it may ever hold; a zero-initialised buffer
 * ({0}) is bounded by LIMIT_STRBUF_DEFAULT. Failure is sticky: an append
 * that would pass the bound (ERR_TOO_LARGE) or cannot allocate (ERR_NOMEM)
 * empties the buffer and every later append is a no-op, so a caller checks
 * once, at strbuf_take or strbuf_err. strbuf_reset starts over.
 *
 * Invariants: len <= max; when p is allocated, p[len] == 0 and cap (the
 * bytes at p) is at most max + 1; a failed buffer has p == NULL, len == 0.
 *
 * One rule for text that is not UTF-8, in every escaper: each maximal
 * subpart of an ill-formed sequence (Unicode 15, section 3.9, "U+FFFD
 * substitution of maximal subparts") becomes one U+FFFD, written as UTF-8
 * (EF BF BD). Overlong forms, surrogates, code points above U+10FFFF and
 * sequences cut short are ill-formed. Well-formed non-ASCII text is copied
 * as it is.
 */
#ifndef ATELIER_STRBUF_H
#define ATELIER_STRBUF_H

#include <stddef.h>
#include <string.h>

struct strbuf {
    char *p;    /* NULL until the first append */
    size_t len; /* bytes of text, p[len] == 0 */
    size_t cap; /* bytes allocated at p */
    size_t max; /* bound on len; 0 means LIMIT_STRBUF_DEFAULT */
    int err;    /* 0, or the sticky ERR_TOO_LARGE / ERR_NOMEM / ERR_INTERNAL */
};

#define STRBUF_INIT(limit)                                                                         \
    {                                                                                              \
        NULL, 0, 0, (limit), 0                                                                     \
    }

void strbuf_init(struct strbuf *b, size_t max);
/* Room for n more bytes without another allocation: 0 or the error. */
int strbuf_reserve(struct strbuf *b, size_t n);

void strbuf_put_slow(struct strbuf *b, const void *s, size_t n);

/* Append n bytes of s. The common case (room left) is inline: no call. */
static inline void strbuf_put(struct strbuf *b, const void *s, size_t n)
{
    if (n < b->cap - b->len) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return;
    }
    strbuf_put_slow(b, s, n);
}

static inline void strbuf_puts(struct strbuf *b, const char *s)
{
    strbuf_put(b, s, strlen(s));
}

static inline void strbuf_putc(struct strbuf *b, char c)
{
    strbuf_put(b, &c, 1);
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* v with at most `decimals` (0 to 3) decimals, rounded half away from zero,
 * trailing zeros and a bare point dropped ("12.5", "-3", "0"); no locale,
 * no snprintf. Non-finite values and |v| > 1e15 are written as 0. */
void strbuf_fixed(struct strbuf *b, double v, unsigned decimals);
/* A JSON number: an integral double below 1e15 as digits, others as %.6g;
 * non-finite values as 0. */
void strbuf_number(struct strbuf *b, double v);

/* s as a JSON string literal, quotes included, byte for byte what
 * jansson's json_dumps writes for the same (valid UTF-8) string with
 * default flags: `"` and `\` escaped, \b \f \n \r \t short, other
 * characters below U+0020 as \u00XX (upper-case hex), `/`, DEL and
 * non-ASCII kept; ill-formed UTF-8 as U+FFFD (see above).
 * strbuf_json_stringn takes n bytes and writes NUL as \u0000. */
void strbuf_json_string(struct strbuf *b, const char *s);
void strbuf_json_stringn(struct strbuf *b, const char *s, size_t n);

/* s for XML 1.0 character data or a quoted attribute value: & < > " ' as
 * &amp; &lt; &gt; &quot; &#39;, tab, LF and CR as &#9; &#10; &#13; (so
 * attribute normalisation keeps them); what XML 1.0 cannot carry at all
 * (other C0 controls, U+FFFE, U+FFFF) and ill-formed UTF-8 as U+FFFD. */
void strbuf_xml(struct strbuf *b, const char *s);

/* s as a Prometheus text-format label value, quotes included: \ " and LF
 * as \\ \" \n; ill-formed UTF-8 as U+FFFD. */
void strbuf_prom_label(struct strbuf *b, const char *s);

static inline size_t strbuf_len(const struct strbuf *b)
{
    return b->len;
}

/* 0, or the error that made the buffer fail. */
static inline int strbuf_err(const struct strbuf *b)
{
    return b->err;
}

/* Empty the buffer and clear its error; the allocation and bound stay. */
void strbuf_reset(struct strbuf *b);
/* Hand the NUL-terminated text over (*out malloc'd, *n its length; n may be
 * NULL) and leave the buffer empty: 0, or the buffer's error (then the text
 * is freed and *out untouched). */
int strbuf_take(struct strbuf *b, char **out, size_t *n);
/* Free the text; the bound stays, so the buffer can be used again. */
void strbuf_release(struct strbuf *b);

#endif
