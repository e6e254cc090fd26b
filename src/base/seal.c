/*
 * seal.c - encryption at rest under the server key, and keyed lookup hashes.
 *
 * Key handling: the 32-byte master key comes from ATELIER_KEY (exactly 64 hex
 * characters) or from the key file (a regular file of exactly 32 bytes with
 * no group/other permission bits, created on first start with mode 0600).
 * Three subkeys are derived with crypto_kdf_derive_from_key under the context
 * "atelier1":
 *   id 1  sealing key (XChaCha20-Poly1305-IETF, 32 bytes)
 *   id 2  lookup key (keyed BLAKE2b, 32 bytes)
 *   id 3  key-id subkey (16 bytes); the key id is its first 4 bytes read as a
 *         big-endian integer. It identifies the key without revealing it.
 * The master key is wiped as soon as the subkeys exist; the subkeys are wiped
 * by seal_shutdown(), by seal_retire() and before a new key is loaded.
 *
 * Key rotation (`atelier rekey`, cli/rekey.c): at most SEAL_MAX_KEYS keys are
 * loaded. Slot 0 is the write key: seal_box seals under it and seal_lookup
 * hashes under it. During a rotation seal_load_next() puts the new key in
 * slot 0 and keeps the previous one in slot 1, which only opens values
 * (seal_open picks the slot by the value's key id) and gives the second
 * lookup of seal_lookups(); seal_retire() forgets it. seal_hold_writes()
 * makes seal_box refuse (ERR_UNAVAILABLE) while a rotation is announced that
 * this process cannot follow, so that nothing new is sealed under a key that
 * is going away.
 *
 * Sealed layout: 0x01 | key_id (4, BE) | nonce (24, token_unique) | ct | tag (16).
 * The caller's associated data ("table.column:rowid") is the AEAD associated
 * data. The header is not part of it, but it cannot be altered usefully: only
 * version 1 is accepted and the key id must equal the loaded key's id.
 *
 * Invariants: the key slots change only under seal_mu, and every user copies
 * the subkey it needs under seal_mu and wipes the copy after use, so every
 * function is thread-safe, also while a rotation loads or retires a key;
 * seal_lookup() before seal_init() aborts (a bug that would otherwise store
 * unkeyed hashes); plaintexts returned by seal_open() are wiped by seal_free();
 * failures never log any part of a value; seal_field() seals only fields
 * listed in base/sealed.h (anything else is a BUG: rotation would miss it).
 */
#include "base/seal.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/sealed.h"
#include "base/token.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define SEAL_VERSION     1
#define SEAL_CONTEXT     "atelier1"
#define SEAL_ID_SEAL     1
#define SEAL_ID_LOOKUP   2
#define SEAL_ID_KEYID    3
#define SEAL_HEADER      (1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define SEAL_KEYID_BYTES 16

/* One loaded key: its subkeys and its id. */
struct seal_key {
    bool loaded;
    uint32_t id;
    uint8_t seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    uint8_t lookup[crypto_generichash_KEYBYTES];
};

static pthread_mutex_t seal_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seal_key seal_keys[SEAL_MAX_KEYS]; /* [0] the write key */
static bool seal_held;                           /* seal_hold_writes */

_Static_assert(SEAL_OVERHEAD == SEAL_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "SEAL_OVERHEAD matches the layout");
_Static_assert(SEAL_KEY_BYTES == crypto_kdf_KEYBYTES, "master key size");
_Static_assert(SEAL_LOOKUP_BYTES <= crypto_generichash_BYTES_MAX, "lookup size");
_Static_assert(SEAL_MAX_KEYS == 2, "the write key and the one it replaces");

/* The labels seal_field accepts: base/sealed.h, and the key check. */
#define SEAL_LABEL_X(name, table, key, kind, field)         table "." field,
#define SEAL_LABEL_L(name, table, key, kind, field, lookup) table "." field,
static const char *const seal_labels[] = {SEALED_COLUMNS(SEAL_LABEL_X, SEAL_LABEL_L)
                                              SEALED_KEY_CHECK_LABEL};
#undef SEAL_LABEL_X
#undef SEAL_LABEL_L

static void seal_wipe_key(struct seal_key *k)
{
    sodium_memzero(k, sizeof *k);
}

/* Caller holds seal_mu. */
static void seal_wipe_state(void)
{
    for (size_t i = 0; i < SEAL_MAX_KEYS; i++)
        seal_wipe_key(&seal_keys[i]);
    seal_held = false;
}

static int seal_derive(const uint8_t master[SEAL_KEY_BYTES], struct seal_key *k)
{
    uint8_t idkey[SEAL_KEYID_BYTES];
    int rc = ERR_INTERNAL;
    if (crypto_kdf_derive_from_key(k->seal, sizeof k->seal, SEAL_ID_SEAL, SEAL_CONTEXT, master) !=
            0 ||
        crypto_kdf_derive_from_key(k->lookup, sizeof k->lookup, SEAL_ID_LOOKUP, SEAL_CONTEXT,
                                   master) != 0 ||
        crypto_kdf_derive_from_key(idkey, sizeof idkey, SEAL_ID_KEYID, SEAL_CONTEXT, master) != 0) {
        log_error("seal", "key derivation failed");
        seal_wipe_key(k);
        goto out;
    }
    k->id = (uint32_t)idkey[0] << 24 | (uint32_t)idkey[1] << 16 | (uint32_t)idkey[2] << 8 |
            (uint32_t)idkey[3];
    k->loaded = true;
    rc = 0;
out:
    sodium_memzero(idkey, sizeof idkey);
    return rc;
}

static int seal_key_from_hex(const char *hex, uint8_t master[SEAL_KEY_BYTES])
{
    size_t len = strlen(hex);
    size_t binlen = 0;
    const char *end = NULL;
    if (len != 2 * SEAL_KEY_BYTES) {
        log_error("seal", "ATELIER_KEY has %zu characters; expected %d hex characters", len,
                  2 * SEAL_KEY_BYTES);
        return ERR_INVALID;
    }
    if (sodium_hex2bin(master, SEAL_KEY_BYTES, hex, len, NULL, &binlen, &end) != 0 ||
        binlen != SEAL_KEY_BYTES || end != hex + len) {
        sodium_memzero(master, SEAL_KEY_BYTES);
        log_error("seal", "ATELIER_KEY is not %d hex characters", 2 * SEAL_KEY_BYTES);
        return ERR_INVALID;
    }
    return 0;
}

static int seal_write_all(int fd, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Creates path with 32 fresh random bytes; EEXIST is reported to the caller
 * through *exists so it can read the file a concurrent process created. */
static int seal_create_file(const char *path, uint8_t master[SEAL_KEY_BYTES], bool *exists)
{
    int rc = ERR_INTERNAL;
    *exists = false;
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            *exists = true;
            return 0;
        }
        log_error("seal", "cannot create key file %s: %s", path, strerror(errno));
        return ERR_UNAVAILABLE;
    }
    randombytes_buf(master, SEAL_KEY_BYTES);
    if (seal_write_all(fd, master, SEAL_KEY_BYTES) != 0 || fsync(fd) != 0) {
        log_error("seal", "cannot write key file %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        sodium_memzero(master, SEAL_KEY_BYTES);
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    if (close(fd) != 0) {
        log_error("seal", "cannot write key file %s: %s", path, strerror(errno));
        unlink(path);
        sodium_memzero(master, SEAL_KEY_BYTES);
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    log_info("seal", "created new key file %s", path);
    rc = 0;
out:
    return rc;
}

static int seal_read_file(const char *path, uint8_t master[SEAL_KEY_BYTES], bool *missing)
{
    int rc = ERR_INVALID;
    struct stat st;
    *missing = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return ERR_NOT_FOUND;
        }
        log_error("seal", "cannot open key file %s: %s", path, strerror(errno));
        return ERR_UNAVAILABLE;
    }
    if (fstat(fd, &st) != 0) {
        log_error("seal", "cannot stat key file %s: %s", path, strerror(errno));
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        log_error("seal", "key file %s is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        log_error("seal", "key file %s has mode %04o; expected 0600", path,
                  (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (st.st_size != SEAL_KEY_BYTES) {
        log_error("seal", "key file %s has %lld bytes; expected %d", path, (long long)st.st_size,
                  SEAL_KEY_BYTES);
        goto out;
    }
    size_t off = 0;
    while (off < SEAL_KEY_BYTES) {
        ssize_t r = read(fd, master + off, SEAL_KEY_BYTES - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            log_error("seal", "cannot read key file %s", path);
            sodium_memzero(master, SEAL_KEY_BYTES);
            rc = ERR_UNAVAILABLE;
            goto out;
        }
        off += (size_t)r;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Read the master key of key_hex or key_file (created when missing and
 * create is set) into master. */
static int seal_read_master(const char *key_hex, const char *key_file, int create,
                            uint8_t master[SEAL_KEY_BYTES])
{
    int rc;

    if (key_hex && *key_hex)
        return seal_key_from_hex(key_hex, master);
    if (!key_file || !*key_file) {
        log_error("seal", "no key: neither ATELIER_KEY nor a key file is set");
        return ERR_INVALID;
    }
    bool missing = false;
    rc = seal_read_file(key_file, master, &missing);
    if (rc != 0 && missing) {
        if (!create) {
            log_error("seal", "key file %s does not exist", key_file);
            return ERR_NOT_FOUND;
        }
        bool exists = false;
        rc = seal_create_file(key_file, master, &exists);
        if (rc == 0 && exists) /* another process won the race */
            rc = seal_read_file(key_file, master, &missing);
    }
    return rc;
}

int seal_init(const char *key_hex, const char *key_file, int create)
{
    uint8_t master[SEAL_KEY_BYTES];
    struct seal_key k;
    int rc;

    memset(&k, 0, sizeof k);
    pthread_mutex_lock(&seal_mu);
    seal_wipe_state();
    pthread_mutex_unlock(&seal_mu);
    if (sodium_init() < 0) {
        log_error("seal", "libsodium failed to initialise");
        return ERR_INTERNAL;
    }
    rc = seal_read_master(key_hex, key_file, create, master);
    if (rc == 0)
        rc = seal_derive(master, &k);
    if (rc == 0) {
        pthread_mutex_lock(&seal_mu);
        seal_keys[0] = k;
        pthread_mutex_unlock(&seal_mu);
    }
    sodium_memzero(master, sizeof master);
    seal_wipe_key(&k);
    return rc;
}

/* The key of an existing key file into *k (wiped by the caller). */
static int seal_key_from_file(const char *key_file, struct seal_key *k)
{
    uint8_t master[SEAL_KEY_BYTES];
    bool missing = false;
    int rc;

    memset(k, 0, sizeof *k);
    if (!key_file || !*key_file)
        return ERR_INVALID;
    rc = seal_read_file(key_file, master, &missing);
    if (rc == 0)
        rc = seal_derive(master, k);
    sodium_memzero(master, sizeof master);
    return rc;
}

int seal_load_next(const char *key_file, uint32_t expect_id, uint32_t *id)
{
    struct seal_key k;
    int rc;

    if (id)
        *id = 0;
    if ((rc = seal_key_from_file(key_file, &k)))
        goto out;
    if (id)
        *id = k.id;
    if (expect_id && k.id != expect_id) {
        log_error("seal", "key file %s holds key %08x, not the expected %08x", key_file,
                  (unsigned)k.id, (unsigned)expect_id);
        rc = ERR_CONFLICT;
        goto out;
    }
    pthread_mutex_lock(&seal_mu);
    if (!seal_keys[0].loaded) {
        rc = ERR_INTERNAL;
    } else if (seal_keys[0].id == k.id) {
        rc = 1; /* the write key itself: nothing changes */
    } else {
        if (seal_keys[1].loaded && seal_keys[1].id != k.id)
            log_warn("seal", "forgetting key %08x to load %08x", (unsigned)seal_keys[1].id,
                     (unsigned)k.id);
        seal_keys[1] = seal_keys[0];
        seal_keys[0] = k;
        seal_held = false;
    }
    pthread_mutex_unlock(&seal_mu);
out:
    seal_wipe_key(&k);
    return rc;
}

int seal_key_file_id(const char *key_file, uint32_t *id)
{
    struct seal_key k;
    int rc = seal_key_from_file(key_file, &k);

    *id = rc == 0 ? k.id : 0;
    seal_wipe_key(&k);
    return rc;
}

void seal_retire(void)
{
    pthread_mutex_lock(&seal_mu);
    seal_wipe_key(&seal_keys[1]);
    pthread_mutex_unlock(&seal_mu);
}

void seal_hold_writes(int hold)
{
    pthread_mutex_lock(&seal_mu);
    seal_held = hold != 0;
    pthread_mutex_unlock(&seal_mu);
}

void seal_shutdown(void)
{
    pthread_mutex_lock(&seal_mu);
    seal_wipe_state();
    pthread_mutex_unlock(&seal_mu);
}

uint32_t seal_key_id(void)
{
    pthread_mutex_lock(&seal_mu);
    uint32_t id = seal_keys[0].loaded ? seal_keys[0].id : 0;
    pthread_mutex_unlock(&seal_mu);
    return id;
}

int seal_key_ids(uint32_t ids[SEAL_MAX_KEYS])
{
    int n = 0;

    pthread_mutex_lock(&seal_mu);
    for (size_t i = 0; i < SEAL_MAX_KEYS; i++)
        if (seal_keys[i].loaded)
            ids[n++] = seal_keys[i].id;
    pthread_mutex_unlock(&seal_mu);
    return n;
}

int seal_box(const void *pt, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn)
{
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    uint32_t id;
    bool loaded, held;
    size_t total;

    *out = NULL;
    *outn = 0;
    pthread_mutex_lock(&seal_mu);
    loaded = seal_keys[0].loaded;
    held = seal_held;
    id = seal_keys[0].id;
    memcpy(key, seal_keys[0].seal, sizeof key);
    pthread_mutex_unlock(&seal_mu);
    int rc = 0;
    if (!loaded) {
        log_error("seal", "seal_box called before seal_init");
        rc = ERR_INTERNAL;
        goto out;
    }
    if (held) {
        log_error("seal", "not sealing: a key rotation is announced whose key this process "
                          "does not have (see docs/OPERATIONS.md, key rotation)");
        rc = ERR_UNAVAILABLE;
        goto out;
    }
    if (n > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        !size_add(n, SEAL_OVERHEAD, &total)) {
        rc = ERR_TOO_LARGE;
        goto out;
    }
    uint8_t *buf = malloc(total);
    if (!buf) {
        rc = ERR_NOMEM;
        goto out;
    }
    buf[0] = SEAL_VERSION;
    buf[1] = (uint8_t)(id >> 24);
    buf[2] = (uint8_t)(id >> 16);
    buf[3] = (uint8_t)(id >> 8);
    buf[4] = (uint8_t)id;
    uint8_t *nonce = buf + 5;
    token_unique(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_HEADER, &clen, pt, n, ad, adn, NULL,
                                               nonce, key);
    *out = buf;
    *outn = total;
out:
    sodium_memzero(key, sizeof key);
    return rc;
}

uint32_t seal_box_key_id(const uint8_t *box, size_t n)
{
    if (!box || n < SEAL_OVERHEAD || box[0] != SEAL_VERSION)
        return 0;
    return (uint32_t)box[1] << 24 | (uint32_t)box[2] << 16 | (uint32_t)box[3] << 8 |
           (uint32_t)box[4];
}

int seal_open(const uint8_t *ct, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn)
{
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    bool loaded = false, found = false;
    uint32_t write_id;
    int rc = ERR_INTERNAL;

    *out = NULL;
    *outn = 0;
    uint32_t id = seal_box_key_id(ct, n);
    pthread_mutex_lock(&seal_mu);
    loaded = seal_keys[0].loaded;
    write_id = seal_keys[0].id;
    for (size_t i = 0; i < SEAL_MAX_KEYS && id && !found; i++) {
        if (seal_keys[i].loaded && seal_keys[i].id == id) {
            memcpy(key, seal_keys[i].seal, sizeof key);
            found = true;
        }
    }
    pthread_mutex_unlock(&seal_mu);
    if (!loaded) {
        log_error("seal", "seal_open called before seal_init");
        return ERR_INTERNAL;
    }
    if (!id) {
        log_warn("seal", "sealed value does not open (malformed)");
        return ERR_INTERNAL;
    }
    if (!found) {
        log_warn("seal", "sealed value does not open (key id %08x, loaded %08x)", (unsigned)id,
                 (unsigned)write_id);
        return ERR_INTERNAL;
    }
    size_t ptn = n - SEAL_OVERHEAD;
    uint8_t *buf = malloc(ptn + 1); /* ptn < n, so ptn + 1 cannot overflow */
    if (!buf) {
        rc = ERR_NOMEM;
        goto out;
    }
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &plen, NULL, ct + SEAL_HEADER,
                                                   n - SEAL_HEADER, ad, adn, ct + 5, key) != 0) {
        sodium_memzero(buf, ptn + 1);
        free(buf);
        log_warn("seal", "sealed value does not open");
        rc = ERR_INTERNAL;
        goto out;
    }
    buf[ptn] = '\0';
    *out = buf;
    *outn = ptn;
    rc = 0;
out:
    sodium_memzero(key, sizeof key);
    return rc;
}

void seal_free(uint8_t *p, size_t n)
{
    if (!p)
        return;
    sodium_memzero(p, n);
    free(p);
}

static void seal_hash(const uint8_t key[crypto_generichash_KEYBYTES], const char *domain,
                      const void *data, size_t n, uint8_t out[SEAL_LOOKUP_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t sep = 0;
    const char *d = domain ? domain : "";

    crypto_generichash_init(&st, key, crypto_generichash_KEYBYTES, SEAL_LOOKUP_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)d, strlen(d));
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, data, n);
    crypto_generichash_final(&st, out, SEAL_LOOKUP_BYTES);
    sodium_memzero(&st, sizeof st);
}

int seal_lookups(const char *domain, const void *data, size_t n,
                 uint8_t out[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES])
{
    uint8_t keys[SEAL_MAX_KEYS][crypto_generichash_KEYBYTES];
    int count = 0;

    pthread_mutex_lock(&seal_mu);
    for (size_t i = 0; i < SEAL_MAX_KEYS; i++)
        if (seal_keys[i].loaded)
            memcpy(keys[count++], seal_keys[i].lookup, sizeof keys[0]);
    pthread_mutex_unlock(&seal_mu);
    if (count == 0) {
        /* A programming error: an unkeyed hash must never reach storage. */
        log_error("seal", "seal_lookup called before seal_init");
        abort();
    }
    for (int i = 0; i < count; i++)
        seal_hash(keys[i], domain, data, n, out[i]);
    sodium_memzero(keys, sizeof keys);
    return count;
}

void seal_lookup(const char *domain, const void *data, size_t n, uint8_t out[SEAL_LOOKUP_BYTES])
{
    uint8_t key[crypto_generichash_KEYBYTES];
    bool loaded;

    pthread_mutex_lock(&seal_mu);
    loaded = seal_keys[0].loaded;
    memcpy(key, seal_keys[0].lookup, sizeof key);
    pthread_mutex_unlock(&seal_mu);
    if (!loaded) {
        /* A programming error: an unkeyed hash must never reach storage. */
        log_error("seal", "seal_lookup called before seal_init");
        abort();
    }
    seal_hash(key, domain, data, n, out);
    sodium_memzero(key, sizeof key);
}

size_t seal_ad(char *buf, size_t size, const char *table_column, const char *row_id)
{
    if (!buf || size == 0)
        return 0;
    int w = snprintf(buf, size, "%s:%s", table_column ? table_column : "", row_id ? row_id : "");
    if (w < 0) {
        buf[0] = '\0';
        return 0;
    }
    if ((size_t)w >= size) {
        log_error("seal", "associated data truncated to %zu bytes", size - 1);
        return size - 1;
    }
    return (size_t)w;
}

int seal_registered(const char *table_column)
{
    for (size_t i = 0; table_column && i < sizeof seal_labels / sizeof seal_labels[0]; i++)
        if (strcmp(seal_labels[i], table_column) == 0)
            return 1;
    return 0;
}

int seal_field(const char *table_column, const char *row, const void *pt, size_t n, uint8_t **out,
               size_t *outn)
{
    char ad[POLICY_AD_BUF];
    size_t adn = seal_ad(ad, sizeof ad, table_column, row);

    if (!seal_registered(table_column)) {
        *out = NULL;
        *outn = 0;
        log_error("seal",
                  "BUG: %s is not a sealed column of base/sealed.h (SEALED_COLUMNS): "
                  "`atelier rekey` would never reseal it; register it there",
                  table_column ? table_column : "(null)");
        return ERR_INTERNAL;
    }
    return seal_box(pt, n, ad, adn, out, outn);
}

int seal_open_field(const char *table_column, const char *row, const void *box, size_t n,
                    uint8_t **out, size_t *outn)
{
    char ad[POLICY_AD_BUF];
    size_t adn = seal_ad(ad, sizeof ad, table_column, row);

    return seal_open(box, n, ad, adn, out, outn);
}

int seal_text(const char *table_column, const char *row, const char *text, uint8_t **out,
              size_t *outn)
{
    return seal_field(table_column, row, text, strlen(text), out, outn);
}

int seal_open_text(const char *table_column, const char *row, const void *box, size_t n, char **out)
{
    uint8_t *pt = NULL;
    size_t ptn = 0;
    int rc = seal_open_field(table_column, row, box, n, &pt, &ptn);

    *out = NULL;
    if (rc)
        return rc;
    *out = malloc(ptn + 1);
    if (*out) {
        memcpy(*out, pt, ptn + 1); /* seal_open terminates with NUL */
    }
    seal_free(pt, ptn);
    return *out ? 0 : ERR_NOMEM;
}
