/*
 * cacheable.c - answers that HTTP caches (browsers, CDNs) may keep: the
 * open-data release and the public documents that change only with a build
 * (designs, measurements, the OpenAPI document). See cacheable.h.
 *
 * Invariants:
 *   - The ETag is strong and names the representation sent: the BLAKE2b-128
 *     of the identity bytes, with "-gz" appended for the gzip one. Equal
 *     bytes give equal ETags in every process and on every node, so a CDN
 *     in front of several nodes revalidates against any of them.
 *   - If-None-Match is compared weakly (RFC 9110 13.1.2: a W/ prefix is
 *     ignored; "*" matches) against the ETag of the representation this
 *     request would get; a match answers 304 with the same ETag,
 *     Cache-Control and Vary as the 200, and no body.
 *   - gzip is sent only when the client accepts it (Accept-Encoding: gzip
 *     or x-gzip or *, with q above 0) and the body has at least
 *     LIMIT_GZIP_MIN_BYTES (smaller ones gain less than the header costs);
 *     every answer of a compressible resource carries Vary:
 *     Accept-Encoding, so no cache hands gzip to a client that did not ask.
 *   - Compressed bodies are kept in a small cache keyed by the identity
 *     ETag (CACHEABLE_SLOTS entries, LIMIT_GZIP_CACHE_BYTES in all): a
 *     release is compressed once per process, not once per request.
 */
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "api/cacheable.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/util.h"

#define CACHEABLE_HASH_BYTES 16
#define CACHEABLE_ETAG_BUF   (2 * CACHEABLE_HASH_BYTES + 6) /* quotes, "-gz", NUL */
#define CACHEABLE_SLOTS      8

struct cacheable_slot {
    char etag[CACHEABLE_ETAG_BUF]; /* of the identity bytes; "" when free */
    unsigned char *gz;
    size_t n;
    uint64_t used; /* the clock of cacheable_tick at the last use */
};

static struct cacheable_slot cacheable_slots[CACHEABLE_SLOTS];
static size_t cacheable_bytes;
static uint64_t cacheable_tick;
static pthread_mutex_t cacheable_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- request headers ---- */

/* The length of the list item at s (up to a comma), without blanks around
 * it; *next is set past the comma. */
static size_t cacheable_item(const char **s, const char **next)
{
    const char *a = *s;
    size_t n;

    while (*a == ' ' || *a == '\t')
        a++;
    n = strcspn(a, ",");
    *next = a[n] ? a + n + 1 : a + n;
    while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
        n--;
    *s = a;
    return n;
}

/* The q of one Accept-Encoding item ("gzip;q=0.5"): 1 when none is given. */
static double cacheable_q(const char *item, size_t n)
{
    const char *semi = memchr(item, ';', n);
    char buf[16];

    while (semi) {
        const char *p = semi + 1;
        size_t rest = n - (size_t)(p - item);
        while (rest && (*p == ' ' || *p == '\t'))
            p++, rest--;
        if (rest > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            size_t len = strcspn(p + 2, ";, \t");
            if (len > rest - 2)
                len = rest - 2;
            if (len == 0 || len >= sizeof buf)
                return 0;
            memcpy(buf, p + 2, len);
            buf[len] = 0;
            char *end = NULL;
            double q = strtod(buf, &end);
            return end && *end == 0 && q > 0 ? q : 0;
        }
        semi = memchr(p, ';', rest);
    }
    return 1;
}

/* 1 when Accept-Encoding allows gzip: a gzip (or x-gzip) item with q > 0,
 * or else a * item with q > 0. */
static int cacheable_accepts_gzip(const char *ae)
{
    int named = -1, star = 0;

    while (ae && *ae) {
        const char *next;
        size_t n = cacheable_item(&ae, &next);
        size_t tok = 0;
        while (tok < n && ae[tok] != ';' && ae[tok] != ' ' && ae[tok] != '\t')
            tok++;
        int ok = cacheable_q(ae, n) > 0;
        if ((tok == 4 && strncasecmp(ae, "gzip", 4) == 0) ||
            (tok == 6 && strncasecmp(ae, "x-gzip", 6) == 0))
            named = named == 1 ? 1 : ok;
        else if (tok == 1 && ae[0] == '*')
            star = ok;
        ae = next;
    }
    return named >= 0 ? named : star;
}

/* 1 when the If-None-Match list names etag (or is "*"). */
static int cacheable_matches(const char *inm, const char *etag)
{
    size_t en = strlen(etag);

    while (inm && *inm) {
        const char *next;
        size_t n = cacheable_item(&inm, &next);
        if (n == 1 && inm[0] == '*')
            return 1;
        if (n > 2 && inm[0] == 'W' && inm[1] == '/')
            inm += 2, n -= 2;
        if (n == en && memcmp(inm, etag, n) == 0)
            return 1;
        inm = next;
    }
    return 0;
}

/* ---- gzip ---- */

/* data gzip-compressed into *out (malloc'd), or an error; ERR_INVALID when
 * it does not get smaller (then the identity is sent). */
static int cacheable_deflate(const void *data, size_t n, unsigned char **out, size_t *outn)
{
    z_stream z;
    unsigned char *buf;
    uLong bound;
    int rc;

    *out = NULL;
    *outn = 0;
    if (n > UINT_MAX)
        return ERR_INVALID;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ERR_NOMEM;
    bound = deflateBound(&z, (uLong)n);
    if (bound > UINT_MAX || !(buf = malloc(bound))) {
        deflateEnd(&z);
        return ERR_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    *outn = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *outn >= n) {
        free(buf);
        *outn = 0;
        return rc == Z_STREAM_END ? ERR_INVALID : ERR_INTERNAL;
    }
    *out = buf;
    return 0;
}

/* A copy of the gzip body of the identity etag from the cache, or NULL. */
static unsigned char *cacheable_lookup(const char *etag, size_t *n)
{
    unsigned char *copy = NULL;

    pthread_mutex_lock(&cacheable_lock);
    for (int i = 0; i < CACHEABLE_SLOTS; i++) {
        struct cacheable_slot *s = &cacheable_slots[i];
        if (strcmp(s->etag, etag) != 0)
            continue;
        if ((copy = malloc(s->n))) {
            memcpy(copy, s->gz, s->n);
            *n = s->n;
            s->used = ++cacheable_tick;
        }
        break;
    }
    pthread_mutex_unlock(&cacheable_lock);
    return copy;
}

static void cacheable_drop(struct cacheable_slot *s)
{
    cacheable_bytes -= s->n;
    free(s->gz);
    memset(s, 0, sizeof *s);
}

/* Keep a copy of gz[0..n) for the identity etag, evicting the least
 * recently used entries to stay within the slots and the byte budget. */
static void cacheable_store(const char *etag, const unsigned char *gz, size_t n)
{
    unsigned char *copy;

    if (n > LIMIT_GZIP_CACHE_BYTES || !(copy = malloc(n)))
        return;
    memcpy(copy, gz, n);
    pthread_mutex_lock(&cacheable_lock);
    for (;;) {
        struct cacheable_slot *lru = NULL, *free_slot = NULL;
        for (int i = 0; i < CACHEABLE_SLOTS; i++) {
            struct cacheable_slot *s = &cacheable_slots[i];
            if (strcmp(s->etag, etag) == 0) { /* stored meanwhile */
                pthread_mutex_unlock(&cacheable_lock);
                free(copy);
                return;
            }
            if (!s->etag[0])
                free_slot = free_slot ? free_slot : s;
            else if (!lru || s->used < lru->used)
                lru = s;
        }
        if (free_slot && cacheable_bytes + n <= LIMIT_GZIP_CACHE_BYTES) {
            util_strlcpy(free_slot->etag, etag, sizeof free_slot->etag);
            free_slot->gz = copy;
            free_slot->n = n;
            free_slot->used = ++cacheable_tick;
            cacheable_bytes += n;
            break;
        }
        if (!lru) { /* nothing left to evict: cannot happen within the budget */
            free(copy);
            break;
        }
        cacheable_drop(lru);
    }
    pthread_mutex_unlock(&cacheable_lock);
}

/* ---- the answer ---- */

int cacheable_send(struct req *rq, const struct cacheable *c, const void *data, size_t n)
{
    unsigned char h[CACHEABLE_HASH_BYTES], *gz = NULL;
    char hx[2 * CACHEABLE_HASH_BYTES + 1], etag[CACHEABLE_ETAG_BUF], gz_etag[CACHEABLE_ETAG_BUF];
    size_t gzn = 0;
    int rc;

    crypto_generichash(h, sizeof h, data, n, NULL, 0);
    util_hex(h, sizeof h, hx);
    snprintf(etag, sizeof etag, "\"%s\"", hx);
    snprintf(gz_etag, sizeof gz_etag, "\"%s-gz\"", hx);
    if (c->gzip && n >= LIMIT_GZIP_MIN_BYTES &&
        cacheable_accepts_gzip(req_header(rq, "Accept-Encoding"))) {
        if (!(gz = cacheable_lookup(etag, &gzn)) && cacheable_deflate(data, n, &gz, &gzn) == 0)
            cacheable_store(etag, gz, gzn);
    }
    if ((rc = resp_header(rq, "ETag", gz ? gz_etag : etag)) ||
        (rc = resp_header(rq, "Cache-Control", c->cache_control)) ||
        (c->gzip && (rc = resp_header(rq, "Vary", "Accept-Encoding"))))
        goto out;
    if (cacheable_matches(req_header(rq, "If-None-Match"), gz ? gz_etag : etag)) {
        rc = resp_empty(rq, 304);
        goto out;
    }
    if ((c->disposition && (rc = resp_header(rq, "Content-Disposition", c->disposition))) ||
        (gz && (rc = resp_header(rq, "Content-Encoding", "gzip"))))
        goto out;
    if (gz) {
        rc = resp_take(rq, 200, c->type, gz, gzn);
        gz = NULL;
    } else {
        rc = resp_bytes(rq, 200, c->type, data, n);
    }
out:
    free(gz);
    return rc;
}

int cacheable_json(struct req *rq, const struct cacheable *c, json_t *body)
{
    char *text = resp_json_text(body);
    int rc;

    if (!text)
        return ERR_NOMEM;
    rc = cacheable_send(rq, c, text, strlen(text));
    free(text);
    return rc;
}
