/*
 * ratelimit.c - sliding-window failure counters (ratelimit.h): in memory,
 * and in the database's table `throttle` when shared (several nodes).
 *
 * Each kind owns a chained hash table of entries under one mutex. An entry
 * holds its key, a ring of its last `limit` failure times, the time of its
 * newest failure (last_used) and its place in a recency list. A key is
 * limited when it has `limit` failures and the oldest of them is still
 * inside the window; it may try again window_s seconds after that one.
 *
 * Invariants:
 *  1. At most RATELIMIT_MAX_KEYS entries per kind. Before one more is
 *     added to a full table, the entries whose newest failure has left the
 *     window are evicted from the old end of the recency list; if none has,
 *     the least recently failed entry is evicted.
 *  2. The recency list is ordered by the call order of the failures counted
 *     (ratelimit_fail, ratelimit_take when it lets the attempt pass), so
 *     with a monotonic clock it is ordered by last_used and its old end
 *     holds every expired entry.
 *  3. Keys up to RL_KEY_MAX bytes are stored as given; longer keys are
 *     stored as their BLAKE2b-256 hash (flagged, so they never equal a short
 *     key), so an entry has a fixed size whatever the caller passes.
 *  4. Buckets are chosen by SipHash under a random per-process key, so
 *     chosen keys cannot pile into one chain.
 *  5. An entry's ring has exactly the kind's `limit` slots; changing the
 *     configuration of a kind therefore drops that kind's entries.
 *  6. Keys (IP addresses among them) are never logged; a freed entry's key
 *     bytes are wiped. Only in shared mode do they reach storage, and then
 *     only as their keyed hash (seal_lookup, domain "throttle").
 *  7. Shared mode (ratelimit_share): every failure is counted in memory AND
 *     in the table `throttle` (one UPSERT: the row of (kind, hash, second)
 *     gains one), so the memory's counters are a subset of the table's and
 *     the wait is the larger of both answers. A storage error is logged (at
 *     most once a minute) and leaves the memory's answer. The statements
 *     run on a connection of this module's own per thread, in autocommit.
 *     The wait from the table is computed exactly as rl_wait computes it
 *     from a ring: the newest `limit` failures inside the window, and the
 *     time the oldest of them leaves it.
 *  8. ratelimit_take counts before it answers, so that attempts in flight
 *     together cannot all pass one check: in memory, the check and the
 *     count are one step under the kind's lock; in the table, a key at
 *     its limit is refused on one read that writes nothing, else the
 *     attempt is counted first (one UPSERT), then the count read back with
 *     it in; over the limit, it is given back and refused. Of attempts racing
 *     for the last places, no more pass than there are places (a few may
 *     be refused that a serial order would have let through: the safe
 *     side). ratelimit_give_back takes out one failure at the given
 *     second, the newest, in memory and in the table.
 */
#include "account/ratelimit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/util.h"
#include "store/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define RL_KEY_MAX   64
#define RL_LIMIT_MAX 64
#define RL_BUCKETS   65536u /* a power of two */

struct rl_key {
    unsigned char b[RL_KEY_MAX];
    uint8_t len;
    uint8_t hashed;
    uint64_t h;
};

struct rl_entry {
    struct rl_entry *next;  /* bucket chain */
    struct rl_entry *newer; /* recency list, towards kind->newest */
    struct rl_entry *older;
    int64_t last_used; /* newest failure */
    uint64_t h;
    uint8_t keylen;
    uint8_t hashed;
    uint8_t head;  /* ring index of the oldest failure */
    uint8_t count; /* failures in the ring, <= limit */
    unsigned char key[RL_KEY_MAX];
    int64_t fails[]; /* limit slots */
};

struct rl_kind {
    pthread_mutex_t lock;
    unsigned limit;
    unsigned window_s;
    struct rl_entry **buckets; /* RL_BUCKETS, allocated on first failure */
    struct rl_entry *newest;
    struct rl_entry *oldest;
    size_t count;
};

static struct rl_kind rl_kinds[RL__COUNT] = {
    [RL_LOGIN_ACCOUNT] = {PTHREAD_MUTEX_INITIALIZER, LIMIT_LOGIN_FAIL_ACCOUNT, LIMIT_LOGIN_WINDOW_S,
                          NULL, NULL, NULL, 0},
    [RL_LOGIN_IP] = {PTHREAD_MUTEX_INITIALIZER, LIMIT_LOGIN_FAIL_IP, LIMIT_LOGIN_WINDOW_S, NULL,
                     NULL, NULL, 0},
    [RL_MAIL_RECIPIENT] = {PTHREAD_MUTEX_INITIALIZER, LIMIT_MAIL_PER_RECIPIENT, LIMIT_MAIL_WINDOW_S,
                           NULL, NULL, NULL, 0},
    [RL_LOGIN_ACCOUNT_ALL] = {PTHREAD_MUTEX_INITIALIZER, LIMIT_LOGIN_FAIL_CEILING,
                              LIMIT_LOGIN_WINDOW_S, NULL, NULL, NULL, 0},
    [RL_MAIL_CLIENT] = {PTHREAD_MUTEX_INITIALIZER, LIMIT_MAIL_PER_CLIENT, LIMIT_MAIL_WINDOW_S, NULL,
                        NULL, NULL, 0},
};

static pthread_once_t rl_once = PTHREAD_ONCE_INIT;
static unsigned char rl_sipkey[crypto_shorthash_KEYBYTES];

static void rl_init(void)
{
    /* sodium_init only selects implementations here; hashing and the
     * random key work either way, so a failure is not fatal. */
    if (sodium_init() < 0)
        log_warn("ratelimit", "libsodium initialisation failed");
    randombytes_buf(rl_sipkey, sizeof rl_sipkey);
}

static void rl_key_make(const char *s, struct rl_key *k)
{
    size_t len = strnlen(s, RL_KEY_MAX + 1);
    unsigned char h[crypto_shorthash_BYTES];

    pthread_once(&rl_once, rl_init);
    memset(k, 0, sizeof *k);
    if (len <= RL_KEY_MAX) {
        memcpy(k->b, s, len);
        k->len = (uint8_t)len;
    } else {
        crypto_generichash(k->b, crypto_generichash_BYTES, (const unsigned char *)s, strlen(s),
                           NULL, 0);
        k->len = crypto_generichash_BYTES;
        k->hashed = 1;
    }
    crypto_shorthash(h, k->b, k->len, rl_sipkey);
    memcpy(&k->h, h, sizeof k->h);
    k->h ^= k->hashed;
}

static struct rl_entry **rl_slot(struct rl_kind *kd, const struct rl_key *k)
{
    struct rl_entry **p = &kd->buckets[k->h & (RL_BUCKETS - 1)];

    for (; *p; p = &(*p)->next) {
        struct rl_entry *e = *p;
        if (e->h == k->h && e->keylen == k->len && e->hashed == k->hashed &&
            memcmp(e->key, k->b, k->len) == 0)
            break;
    }
    return p;
}

static struct rl_entry *rl_find(struct rl_kind *kd, const struct rl_key *k)
{
    return kd->buckets ? *rl_slot(kd, k) : NULL;
}

/* True when a failure at t still counts at now. */
static bool rl_inside(int64_t t, int64_t now, unsigned window_s)
{
    return t > now || (uint64_t)now - (uint64_t)t < window_s;
}

static bool rl_expired(const struct rl_kind *kd, const struct rl_entry *e, int64_t now)
{
    return e->count == 0 || !rl_inside(e->last_used, now, kd->window_s);
}

static void rl_list_unlink(struct rl_kind *kd, struct rl_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        kd->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        kd->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void rl_list_push_newest(struct rl_kind *kd, struct rl_entry *e)
{
    e->older = kd->newest;
    e->newer = NULL;
    if (kd->newest)
        kd->newest->newer = e;
    kd->newest = e;
    if (!kd->oldest)
        kd->oldest = e;
}

static void rl_entry_free(struct rl_entry *e)
{
    sodium_memzero(e->key, sizeof e->key);
    free(e);
}

/* Remove e, found at *slot in its chain. */
static void rl_remove_at(struct rl_kind *kd, struct rl_entry **slot)
{
    struct rl_entry *e = *slot;

    *slot = e->next;
    rl_list_unlink(kd, e);
    kd->count--;
    rl_entry_free(e);
}

static void rl_remove(struct rl_kind *kd, struct rl_entry *e)
{
    struct rl_entry **p = &kd->buckets[e->h & (RL_BUCKETS - 1)];

    while (*p != e)
        p = &(*p)->next;
    rl_remove_at(kd, p);
}

/* Invariant 1: make room for one more entry in a full table. */
static void rl_make_room(struct rl_kind *kd, int64_t now)
{
    bool evicted = false;

    while (kd->oldest && rl_expired(kd, kd->oldest, now)) {
        rl_remove(kd, kd->oldest);
        evicted = true;
    }
    if (!evicted && kd->oldest)
        rl_remove(kd, kd->oldest);
}

/* Free every entry; the bucket array too when free_buckets. */
static void rl_drop_all(struct rl_kind *kd, bool free_buckets)
{
    struct rl_entry *e = kd->newest;

    while (e) {
        struct rl_entry *older = e->older;
        rl_entry_free(e);
        e = older;
    }
    kd->newest = kd->oldest = NULL;
    kd->count = 0;
    if (free_buckets) {
        free(kd->buckets);
        kd->buckets = NULL;
    } else if (kd->buckets) {
        memset(kd->buckets, 0, RL_BUCKETS * sizeof *kd->buckets);
    }
}

void ratelimit_configure(enum ratelimit_kind k, unsigned limit, unsigned window_s)
{
    if ((unsigned)k >= RL__COUNT)
        return;
    struct rl_kind *kd = &rl_kinds[k];
    if (limit < 1)
        limit = 1;
    if (limit > RL_LIMIT_MAX)
        limit = RL_LIMIT_MAX;
    if (window_s < 1)
        window_s = 1;
    pthread_mutex_lock(&kd->lock);
    rl_drop_all(kd, false);
    kd->limit = limit;
    kd->window_s = window_s;
    pthread_mutex_unlock(&kd->lock);
}

/* Seconds until the entry is below its limit again, 0 when it already is. */
static unsigned rl_wait(const struct rl_kind *kd, const struct rl_entry *e, int64_t now)
{
    if (e->count < kd->limit)
        return 0;
    /* With a clock that went backwards the ring is not sorted: take the min. */
    int64_t oldest = e->fails[e->head];
    for (unsigned i = 0; i < e->count; i++) {
        if (e->fails[i] < oldest)
            oldest = e->fails[i];
    }
    if (!rl_inside(oldest, now, kd->window_s))
        return 0;
    if (oldest > now)
        return kd->window_s;
    return kd->window_s - (unsigned)((uint64_t)now - (uint64_t)oldest);
}

/* ---- shared mode (invariant 7) ---- */

static atomic_int rl_shared;
static pthread_once_t rl_conn_once = PTHREAD_ONCE_INIT;
static pthread_key_t rl_conn_key;
static int rl_conn_key_ok;
static _Atomic int64_t rl_complained_ms;

static void rl_conn_close(void *db)
{
    db_close(db);
}

static void rl_conn_init(void)
{
    rl_conn_key_ok = pthread_key_create(&rl_conn_key, rl_conn_close) == 0;
}

/* This thread's connection for the shared counters; NULL when none opens. */
static struct db *rl_conn(void)
{
    struct db *db;

    pthread_once(&rl_conn_once, rl_conn_init);
    if (!rl_conn_key_ok)
        return NULL;
    if ((db = pthread_getspecific(rl_conn_key)))
        return db;
    if (db_open(&db))
        return NULL;
    if (pthread_setspecific(rl_conn_key, db)) {
        db_close(db);
        return NULL;
    }
    return db;
}

/* Forget this thread's connection after an error: the next call opens one. */
static void rl_conn_drop(void)
{
    struct db *db = rl_conn_key_ok ? pthread_getspecific(rl_conn_key) : NULL;

    if (db) {
        pthread_setspecific(rl_conn_key, NULL);
        db_close(db);
    }
}

static void rl_complain(int rc)
{
    int64_t now = (int64_t)(clock_mono_ns() / 1000000u), last = atomic_load(&rl_complained_ms);

    if (last && now - last < 60000)
        return;
    atomic_store(&rl_complained_ms, now);
    log_warn("ratelimit",
             "the shared throttle table is out of reach (%s): this node counts alone meanwhile",
             err_text(rc));
    if (rc == ERR_STORAGE_DOWN)
        rl_conn_drop();
}

void ratelimit_share(int on)
{
    atomic_store(&rl_shared, on ? 1 : 0);
}

static void rl_hash(const char *key, uint8_t h[SEAL_LOOKUP_BYTES])
{
    seal_lookup("throttle", key, strlen(key), h);
}

/* Shared mode: true, with key's keyed hash in h. Off: false. */
static bool rl_shared_key(const char *key, uint8_t h[SEAL_LOOKUP_BYTES])
{
    if (!atomic_load(&rl_shared))
        return false;
    rl_hash(key, h);
    return true;
}

/* The wait the table gives key (invariant 7); 0 on a storage error. */
static unsigned rl_shared_wait(enum ratelimit_kind k, const uint8_t h[SEAL_LOOKUP_BYTES],
                               unsigned limit, unsigned window_s, int64_t now)
{
    struct db *db = rl_conn();
    struct db_param p[] = {DB_INT(k), DB_BLOB(h, SEAL_LOOKUP_BYTES),
                           DB_INT(now - (int64_t)window_s), DB_INT(limit)};
    struct db_rows *rows = NULL;
    int64_t sum = 0, oldest = 0;
    unsigned wait = 0;
    int rc;

    if (!db) {
        rl_complain(ERR_STORAGE_DOWN);
        return 0;
    }
    if ((rc = db_query(db, STMT_THROTTLE_RECENT, p, 4, &rows))) {
        rl_complain(rc);
        return 0;
    }
    while (sum < limit && (rc = db_next(rows)) == 1) {
        sum += db_col_int(rows, 1);
        oldest = db_col_int(rows, 0);
    }
    db_rows_free(rows);
    if (rc < 0) {
        rl_complain(rc);
        return 0;
    }
    if (sum < limit)
        return 0;
    if (oldest > now) /* a clock that went backwards */
        wait = window_s;
    else
        wait = window_s - (unsigned)(now - oldest); /* oldest > now - window_s: >= 1 */
    return wait;
}

/* One failure in the table; 0, or the storage error (logged). */
static int rl_shared_fail(enum ratelimit_kind k, const uint8_t h[SEAL_LOOKUP_BYTES],
                          unsigned window_s, int64_t now)
{
    struct db *db = rl_conn();
    struct db_param p[] = {DB_INT(k), DB_BLOB(h, SEAL_LOOKUP_BYTES), DB_INT(now),
                           DB_INT(now + (int64_t)window_s)};
    int rc = db ? db_query(db, STMT_THROTTLE_HIT, p, 4, NULL) : ERR_STORAGE_DOWN;

    if (rc)
        rl_complain(rc);
    return rc;
}

static void rl_shared_give_back(enum ratelimit_kind k, const uint8_t h[SEAL_LOOKUP_BYTES],
                                int64_t at)
{
    struct db *db = rl_conn();
    struct db_param p[] = {DB_INT(k), DB_BLOB(h, SEAL_LOOKUP_BYTES), DB_INT(at)};
    int rc = db ? db_query(db, STMT_THROTTLE_GIVE_BACK, p, 3, NULL) : ERR_STORAGE_DOWN;

    if (rc)
        rl_complain(rc);
}

/* The table's half of ratelimit_take (invariant 8): a key already at its
 * limit is refused on one read, writing nothing (a throttled flood costs
 * the table no writes); otherwise count first, then read the count with
 * this attempt in it, and over the limit (others took the last places
 * meanwhile) give it back. */
static unsigned rl_shared_take(enum ratelimit_kind k, const uint8_t h[SEAL_LOOKUP_BYTES],
                               unsigned limit, unsigned window_s, int64_t now)
{
    unsigned wait;

    if ((wait = rl_shared_wait(k, h, limit, window_s, now)))
        return wait;
    if (rl_shared_fail(k, h, window_s, now))
        return 0; /* out of reach: the memory's answer stands */
    if (!rl_shared_wait(k, h, limit + 1, window_s, now))
        return 0;
    rl_shared_give_back(k, h, now);
    wait = rl_shared_wait(k, h, limit, window_s, now);
    return wait ? wait : 1; /* the places were given back meanwhile: try again soon */
}

static void rl_shared_reset(enum ratelimit_kind k, const uint8_t h[SEAL_LOOKUP_BYTES])
{
    struct db *db = rl_conn();
    struct db_param p[] = {DB_INT(k), DB_BLOB(h, SEAL_LOOKUP_BYTES)};
    int rc = db ? db_query(db, STMT_THROTTLE_RESET, p, 2, NULL) : ERR_STORAGE_DOWN;

    if (rc)
        rl_complain(rc);
}

/* ---- the interface ---- */

unsigned ratelimit_check(enum ratelimit_kind k, const char *key, int64_t now)
{
    uint8_t h[SEAL_LOOKUP_BYTES];
    struct rl_key rk;
    unsigned wait = 0, limit, window_s;

    if ((unsigned)k >= RL__COUNT || !key)
        return 0;
    rl_key_make(key, &rk);
    struct rl_kind *kd = &rl_kinds[k];
    pthread_mutex_lock(&kd->lock);
    limit = kd->limit;
    window_s = kd->window_s;
    struct rl_entry *e = rl_find(kd, &rk);
    if (!e)
        goto out;
    if (rl_expired(kd, e, now)) {
        rl_remove(kd, e);
        goto out;
    }
    wait = rl_wait(kd, e, now);
out:
    pthread_mutex_unlock(&kd->lock);
    sodium_memzero(&rk, sizeof rk);
    if (rl_shared_key(key, h)) {
        unsigned w = rl_shared_wait(k, h, limit, window_s, now);
        wait = w > wait ? w : wait;
    }
    return wait;
}

static struct rl_entry *rl_insert(struct rl_kind *kd, struct rl_entry **slot,
                                  const struct rl_key *k, int64_t now)
{
    if (kd->count >= RATELIMIT_MAX_KEYS) {
        rl_make_room(kd, now);
        slot = rl_slot(kd, k); /* eviction may have changed this chain */
    }
    struct rl_entry *e = xcalloc(1, sizeof *e + (size_t)kd->limit * sizeof e->fails[0]);
    e->h = k->h;
    e->keylen = k->len;
    e->hashed = k->hashed;
    memcpy(e->key, k->b, k->len);
    e->next = *slot;
    *slot = e;
    rl_list_push_newest(kd, e);
    kd->count++;
    return e;
}

/* The entry of k, made when missing, emptied when expired, moved to the
 * new end of the recency list (invariant 2). kd->lock held. */
static struct rl_entry *rl_touch(struct rl_kind *kd, const struct rl_key *rk, int64_t now)
{
    if (!kd->buckets)
        kd->buckets = xcalloc(RL_BUCKETS, sizeof *kd->buckets);
    struct rl_entry **slot = rl_slot(kd, rk);
    struct rl_entry *e = *slot;
    if (!e)
        return rl_insert(kd, slot, rk, now);
    if (rl_expired(kd, e, now))
        e->count = e->head = 0;
    rl_list_unlink(kd, e);
    rl_list_push_newest(kd, e);
    return e;
}

/* One failure at now in e's ring (the oldest leaves a full ring). */
static void rl_record(const struct rl_kind *kd, struct rl_entry *e, int64_t now)
{
    if (e->count < kd->limit) {
        e->fails[(e->head + e->count) % kd->limit] = now;
        e->count++;
    } else {
        e->fails[e->head] = now;
        e->head = (uint8_t)((e->head + 1) % kd->limit);
    }
    if (e->count == 1 || now > e->last_used)
        e->last_used = now;
}

/* Take the newest failure at t out of e's ring, if there is one. */
static void rl_unrecord(const struct rl_kind *kd, struct rl_entry *e, int64_t t)
{
    int64_t keep[RL_LIMIT_MAX];
    unsigned n = 0, i, drop = e->count;

    for (i = e->count; i-- > 0 && drop == e->count;) {
        if (e->fails[(e->head + i) % kd->limit] == t)
            drop = i;
    }
    if (drop == e->count)
        return;
    for (i = 0; i < e->count; i++) {
        if (i != drop)
            keep[n++] = e->fails[(e->head + i) % kd->limit];
    }
    memcpy(e->fails, keep, n * sizeof keep[0]);
    e->head = 0;
    e->count = (uint8_t)n;
}

void ratelimit_fail(enum ratelimit_kind k, const char *key, int64_t now)
{
    uint8_t h[SEAL_LOOKUP_BYTES];
    struct rl_key rk;

    if ((unsigned)k >= RL__COUNT || !key)
        return;
    rl_key_make(key, &rk);
    struct rl_kind *kd = &rl_kinds[k];
    pthread_mutex_lock(&kd->lock);
    rl_record(kd, rl_touch(kd, &rk, now), now);
    unsigned window_s = kd->window_s;
    pthread_mutex_unlock(&kd->lock);
    sodium_memzero(&rk, sizeof rk);
    if (rl_shared_key(key, h))
        (void)rl_shared_fail(k, h, window_s, now);
}

/* Memory's half of ratelimit_take: check and count under one lock. */
static unsigned rl_local_take(enum ratelimit_kind k, const char *key, int64_t now, unsigned *limit,
                              unsigned *window_s)
{
    struct rl_key rk;
    struct rl_kind *kd = &rl_kinds[k];
    unsigned wait;

    rl_key_make(key, &rk);
    pthread_mutex_lock(&kd->lock);
    struct rl_entry *e = rl_find(kd, &rk);
    wait = e && !rl_expired(kd, e, now) ? rl_wait(kd, e, now) : 0;
    if (!wait) /* a refusal leaves the recency list alone (invariant 2) */
        rl_record(kd, rl_touch(kd, &rk, now), now);
    *limit = kd->limit;
    *window_s = kd->window_s;
    pthread_mutex_unlock(&kd->lock);
    sodium_memzero(&rk, sizeof rk);
    return wait;
}

static void rl_local_give_back(enum ratelimit_kind k, const char *key, int64_t at)
{
    struct rl_key rk;
    struct rl_kind *kd = &rl_kinds[k];

    rl_key_make(key, &rk);
    pthread_mutex_lock(&kd->lock);
    struct rl_entry *e = rl_find(kd, &rk);
    if (e)
        rl_unrecord(kd, e, at); /* no entry: reset, evicted or reconfigured */
    pthread_mutex_unlock(&kd->lock);
    sodium_memzero(&rk, sizeof rk);
}

unsigned ratelimit_take(enum ratelimit_kind k, const char *key, int64_t now)
{
    uint8_t h[SEAL_LOOKUP_BYTES];
    unsigned wait, limit, window_s;

    if ((unsigned)k >= RL__COUNT || !key)
        return 0;
    if ((wait = rl_local_take(k, key, now, &limit, &window_s)) || !rl_shared_key(key, h))
        return wait;
    if ((wait = rl_shared_take(k, h, limit, window_s, now)))
        rl_local_give_back(k, key, now);
    return wait;
}

void ratelimit_give_back(enum ratelimit_kind k, const char *key, int64_t at)
{
    uint8_t h[SEAL_LOOKUP_BYTES];

    if ((unsigned)k >= RL__COUNT || !key)
        return;
    rl_local_give_back(k, key, at);
    if (rl_shared_key(key, h))
        rl_shared_give_back(k, h, at);
}

void ratelimit_reset(enum ratelimit_kind k, const char *key)
{
    uint8_t h[SEAL_LOOKUP_BYTES];
    struct rl_key rk;

    if ((unsigned)k >= RL__COUNT || !key)
        return;
    rl_key_make(key, &rk);
    struct rl_kind *kd = &rl_kinds[k];
    pthread_mutex_lock(&kd->lock);
    if (kd->buckets) {
        struct rl_entry **slot = rl_slot(kd, &rk);
        if (*slot)
            rl_remove_at(kd, slot);
    }
    pthread_mutex_unlock(&kd->lock);
    sodium_memzero(&rk, sizeof rk);
    if (rl_shared_key(key, h))
        rl_shared_reset(k, h);
}

void ratelimit_clear(void)
{
    for (size_t i = 0; i < RL__COUNT; i++) {
        pthread_mutex_lock(&rl_kinds[i].lock);
        rl_drop_all(&rl_kinds[i], true);
        pthread_mutex_unlock(&rl_kinds[i].lock);
    }
}
