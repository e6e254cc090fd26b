/*
 * password.c - the password policy (length, UTF-8, zxcvbn strength with the
 * user's own words) and argon2id hashing through libsodium.
 *
 * Policy: password_check tests, in this order, the length in bytes
 * (LIMIT_PASSWORD_MIN..LIMIT_PASSWORD_MAX), UTF-8 validity (no NUL), then
 * the zxcvbn estimate against LIMIT_PASSWORD_BITS (log2 of the guesses). The
 * caller passes the user's words (username, email); this module derives the
 * rest of the user dictionary itself, because libzxcvbn only matches whole
 * dictionary tokens: the local part and the domain of an email, every part
 * of at least PW_PART_MIN bytes after splitting on . _ - + @, and the ASCII
 * lowercase form of each. The dictionary is capped (PW_DICT_MAX entries,
 * PW_DICT_BYTES bytes); words beyond the cap are dropped, never an error.
 *
 * Hashing: argon2id PHC strings from crypto_pwhash_str_alg at the current
 * cost (default and floor t=2, m=19 MiB). Every hash and verification,
 * including the dummy one, holds one slot of a counting semaphore of
 * util_ncpu() slots, so concurrent logins cannot take more than the cores.
 * The dummy hash (a random password) is computed on first use and again
 * whenever the cost has changed since, so a dummy verification always costs
 * what a real one at the current cost does.
 *
 * Every verification that runs argon2id (password_verify, and so
 * password_dummy_verify) counts once in the metric password_verifications,
 * so tests can prove that every failed login does the same work.
 *
 * Invariants: the only copy of a password this module makes (the
 * NUL-terminated buffer zxcvbn needs) is wiped before returning; passwords,
 * user words and hashes are never logged.
 */
#include "account/password.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/util.h"
#include "obs/metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <zxcvbn.h>

#define PW_MIB             (1024u * 1024u)
#define PW_DEFAULT_T       2ull
#define PW_DEFAULT_MEM     ((size_t)19 * PW_MIB)
#define PW_USER_WORDS_MAX  8    /* caller's words considered */
#define PW_WORD_MAX        256  /* longer derived words are skipped */
#define PW_PART_MIN        3    /* shorter split parts match too much */
#define PW_DICT_MAX        64   /* user dictionary entries */
#define PW_DICT_BYTES      4096 /* user dictionary text */
#define PW_ARGON2ID_PREFIX "$argon2id$"

/* The user dictionary handed to zxcvbn: NUL-terminated copies in one arena. */
struct pw_dict {
    const char *words[PW_DICT_MAX + 1];
    size_t n;
    char text[PW_DICT_BYTES];
    size_t used;
};

static pthread_once_t pw_once = PTHREAD_ONCE_INIT;
static sem_t pw_sem;
static bool pw_ready;

/* Guards the cost and the dummy hash. */
static pthread_mutex_t pw_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long pw_t = PW_DEFAULT_T;
static size_t pw_mem = PW_DEFAULT_MEM;
static char pw_dummy[PASSWORD_HASH_MAX];
static unsigned pw_slots; /* 0: one per core */

static void pw_init(void)
{
    if (sodium_init() < 0) {
        log_error("password", "libsodium initialisation failed");
        return;
    }
    if (sem_init(&pw_sem, 0, pw_slots ? pw_slots : util_ncpu()) != 0) {
        log_error("password", "cannot create the hashing semaphore: %s", strerror(errno));
        return;
    }
    pw_ready = true;
}

static bool pw_acquire(void)
{
    pthread_once(&pw_once, pw_init);
    if (!pw_ready)
        return false;
    while (sem_wait(&pw_sem) != 0) {
        if (errno != EINTR)
            return false;
    }
    return true;
}

static void pw_release(void)
{
    sem_post(&pw_sem);
}

static void pw_cost(unsigned long long *t, size_t *mem)
{
    pthread_mutex_lock(&pw_lock);
    *t = pw_t;
    *mem = pw_mem;
    pthread_mutex_unlock(&pw_lock);
}

int password_set_slots(unsigned n)
{
    if (n > util_ncpu())
        return ERR_INVALID;
    pw_slots = n;
    return 0;
}

int password_set_cost(unsigned long long t, size_t mem)
{
    if (t < PW_DEFAULT_T || t > crypto_pwhash_OPSLIMIT_MAX)
        return ERR_INVALID;
    if (mem < PW_DEFAULT_MEM || mem > crypto_pwhash_MEMLIMIT_MAX)
        return ERR_INVALID;
    pthread_mutex_lock(&pw_lock);
    pw_t = t;
    pw_mem = mem;
    pthread_mutex_unlock(&pw_lock);
    return 0;
}

/* ---- user dictionary ---- */

static bool pw_dict_has(const struct pw_dict *d, const char *s, size_t len)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strlen(d->words[i]) == len && memcmp(d->words[i], s, len) == 0)
            return true;
    }
    return false;
}

/* Add s[0..len) and, when it differs, its ASCII lowercase form. Silently
 * stops when the dictionary is full: a capped list is still a useful one. */
static void pw_dict_add(struct pw_dict *d, const char *s, size_t len)
{
    char lower[PW_WORD_MAX];

    if (len == 0 || len > PW_WORD_MAX)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    const char *forms[2] = {s, lower};
    for (size_t f = 0; f < 2; f++) {
        if (pw_dict_has(d, forms[f], len))
            continue;
        if (d->n >= PW_DICT_MAX || PW_DICT_BYTES - d->used < len + 1)
            return;
        char *dst = d->text + d->used;
        memcpy(dst, forms[f], len);
        dst[len] = '\0';
        d->words[d->n++] = dst;
        d->used += len + 1;
    }
}

static bool pw_is_separator(char c)
{
    return c == '.' || c == '_' || c == '-' || c == '+' || c == '@';
}

/* The local part and the domain of an email-like word. */
static void pw_dict_add_email_parts(struct pw_dict *d, const char *w)
{
    const char *at = strrchr(w, '@');

    if (!at)
        return;
    pw_dict_add(d, w, (size_t)(at - w));
    pw_dict_add(d, at + 1, strlen(at + 1));
}

/* Every run between separators of at least PW_PART_MIN bytes. */
static void pw_dict_add_split_parts(struct pw_dict *d, const char *w)
{
    const char *start = w;

    for (const char *p = w;; p++) {
        if (*p == '\0' || pw_is_separator(*p)) {
            size_t len = (size_t)(p - start);
            if (len >= PW_PART_MIN)
                pw_dict_add(d, start, len);
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
}

/* Whole words first, then email halves, then split parts: zxcvbn ranks
 * earlier entries as more likely, and the whole words are the likeliest. */
static void pw_dict_build(struct pw_dict *d, const char *const *user_words)
{
    size_t nw = 0;

    d->n = 0;
    d->used = 0;
    if (user_words) {
        while (nw < PW_USER_WORDS_MAX && user_words[nw])
            nw++;
    }
    for (size_t i = 0; i < nw; i++)
        pw_dict_add(d, user_words[i], strlen(user_words[i]));
    for (size_t i = 0; i < nw; i++)
        pw_dict_add_email_parts(d, user_words[i]);
    for (size_t i = 0; i < nw; i++)
        pw_dict_add_split_parts(d, user_words[i]);
    d->words[d->n] = NULL;
}

/* ---- strength ---- */

/* Why zxcvbn found the password weak: the user's words win, otherwise the
 * kind of the longest recognised (non brute-force) part. */
static const char *pw_weakness(const ZxcMatch_t *info)
{
    int best_len = 0;
    int best_type = NON_MATCH;

    for (const ZxcMatch_t *m = info; m; m = m->Next) {
        int type = (int)m->Type & ~(int)MULTIPLE_MATCH;
        if (type == USER_MATCH || type == USER_LEET_MATCH)
            return "it contains your username or email";
        if (type != BRUTE_MATCH && type != NON_MATCH && m->Length > best_len) {
            best_len = m->Length;
            best_type = type;
        }
    }
    switch (best_type) {
    case DICTIONARY_MATCH:
    case DICT_LEET_MATCH:
        return "it contains a common word or password";
    case SPATIAL_MATCH:
        return "it contains a keyboard pattern";
    case REPEATS_MATCH:
        return "it repeats the same characters";
    case SEQUENCE_MATCH:
        return "it contains a sequence such as abcd or 1234";
    case DATE_MATCH:
    case YEAR_MATCH:
        return "it contains a date or a year";
    default:
        return "it contains a common word or a pattern";
    }
}

__attribute__((format(printf, 3, 4))) static void pw_why(char *why, size_t whyn, const char *fmt,
                                                         ...)
{
    va_list ap;

    if (!why || !whyn)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whyn, fmt, ap);
    va_end(ap);
}

int password_check(const char *pw, size_t n, const char *const *user_words, char *why, size_t whyn)
{
    char buf[LIMIT_PASSWORD_MAX + 1];
    struct pw_dict dict;
    ZxcMatch_t *info = NULL;
    int rc = ERR_INVALID;

    pw_why(why, whyn, "%s", "");
    if (!pw || n < LIMIT_PASSWORD_MIN) {
        pw_why(why, whyn, "is too short: it needs at least %d bytes", LIMIT_PASSWORD_MIN);
        return ERR_INVALID;
    }
    if (n > LIMIT_PASSWORD_MAX) {
        pw_why(why, whyn, "is too long: it may have at most %d bytes", LIMIT_PASSWORD_MAX);
        return ERR_INVALID;
    }
    if (!util_utf8_valid(pw, n)) {
        pw_why(why, whyn, "%s", "is not valid UTF-8 text");
        return ERR_INVALID;
    }
    memcpy(buf, pw, n);
    buf[n] = '\0';
    pw_dict_build(&dict, user_words);
    double bits = ZxcvbnMatch(buf, dict.words, &info);
    if (bits < LIMIT_PASSWORD_BITS) {
        pw_why(why, whyn, "is too easy to guess: %s (about 10^%.0f guesses)", pw_weakness(info),
               bits * log10(2.0));
        goto out;
    }
    rc = 0;
out:
    ZxcvbnFreeInfo(info);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(&dict, sizeof dict);
    return rc;
}

/* ---- hashing ---- */

static int pw_hash_at(const char *pw, size_t n, unsigned long long t, size_t mem,
                      char out[PASSWORD_HASH_MAX])
{
    int rc = ERR_NOMEM;

    if (!pw && n)
        return ERR_NOMEM;
    if (!pw_acquire())
        return ERR_NOMEM;
    if (crypto_pwhash_str_alg(out, pw ? pw : "", n, t, mem, crypto_pwhash_ALG_ARGON2ID13) == 0)
        rc = 0;
    pw_release();
    return rc;
}

int password_hash(const char *pw, size_t n, char out[PASSWORD_HASH_MAX])
{
    unsigned long long t;
    size_t mem;

    pw_cost(&t, &mem);
    return pw_hash_at(pw, n, t, mem, out);
}

int password_verify(const char *hash, const char *pw, size_t n)
{
    int rc = ERR_UNAUTHENTICATED;

    if (!hash || (!pw && n))
        return ERR_UNAUTHENTICATED;
    if (strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
        return ERR_UNAUTHENTICATED;
    if (!pw_acquire())
        return ERR_UNAUTHENTICATED;
    metrics_event(EV_PASSWORD_VERIFICATIONS, 1);
    if (crypto_pwhash_str_verify(hash, pw ? pw : "", n) == 0)
        rc = 0;
    pw_release();
    return rc;
}

int password_needs_rehash(const char *hash)
{
    unsigned long long t;
    size_t mem;

    if (!hash || strncmp(hash, PW_ARGON2ID_PREFIX, strlen(PW_ARGON2ID_PREFIX)) != 0)
        return 1;
    pw_cost(&t, &mem);
    return crypto_pwhash_str_needs_rehash(hash, t, mem) == 0 ? 0 : 1;
}

/* Copy the dummy hash for the current cost into out, (re)computing it when
 * it is missing or was made at another cost. Returns false on failure. */
static bool pw_dummy_hash(char out[PASSWORD_HASH_MAX])
{
    unsigned char secret[32];
    bool ok = false;

    pthread_mutex_lock(&pw_lock);
    if (pw_dummy[0] && crypto_pwhash_str_needs_rehash(pw_dummy, pw_t, pw_mem) == 0) {
        ok = true;
        goto out;
    }
    /* Hashing while holding pw_lock happens once per cost; it only delays
     * other dummy verifications and cost readers for one hash. */
    pthread_once(&pw_once, pw_init);
    if (!pw_ready)
        goto out;
    randombytes_buf(secret, sizeof secret);
    if (pw_hash_at((const char *)secret, sizeof secret, pw_t, pw_mem, pw_dummy) != 0) {
        pw_dummy[0] = '\0';
        goto out;
    }
    ok = true;
out:
    if (ok)
        memcpy(out, pw_dummy, PASSWORD_HASH_MAX);
    pthread_mutex_unlock(&pw_lock);
    sodium_memzero(secret, sizeof secret);
    return ok;
}

void password_dummy_verify(const char *pw, size_t n)
{
    char hash[PASSWORD_HASH_MAX];

    if (!pw_dummy_hash(hash))
        return;
    (void)password_verify(hash, pw, n);
}
