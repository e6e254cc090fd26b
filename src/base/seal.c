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
 * by seal_shutdown() and before a new key is loaded.
 *
 * Sealed layout: 0x01 | key_id (4, BE) | nonce (24, random) | ct | tag (16).
 * The caller's associated data ("table.column:rowid") is the AEAD associated
 * data. The header is not part of it, but it cannot be altered usefully: only
 * version 1 is accepted and the key id must equal the loaded key's id.
 *
 * Invariants: after seal_init() the key state is only read, so every function
 * is thread-safe; seal_lookup() before seal_init() aborts (a bug that would
 * otherwise store unkeyed hashes); plaintexts returned by seal_open() are wiped by seal_free();
 * failures never log any part of a value.
 */
#include "base/seal.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
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

static bool seal_loaded;
static uint8_t seal_key_seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static uint8_t seal_key_lookup[crypto_generichash_KEYBYTES];
static uint32_t seal_id;

_Static_assert(SEAL_OVERHEAD == SEAL_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "SEAL_OVERHEAD matches the layout");
_Static_assert(SEAL_KEY_BYTES == crypto_kdf_KEYBYTES, "master key size");
_Static_assert(SEAL_LOOKUP_BYTES <= crypto_generichash_BYTES_MAX, "lookup size");

static void seal_wipe_state(void)
{
    sodium_memzero(seal_key_seal, sizeof seal_key_seal);
    sodium_memzero(seal_key_lookup, sizeof seal_key_lookup);
    seal_id = 0;
    seal_loaded = false;
}

static int seal_derive(const uint8_t master[SEAL_KEY_BYTES])
{
    uint8_t idkey[SEAL_KEYID_BYTES];
    int rc = ERR_INTERNAL;
    if (crypto_kdf_derive_from_key(seal_key_seal, sizeof seal_key_seal, SEAL_ID_SEAL, SEAL_CONTEXT,
                                   master) != 0 ||
        crypto_kdf_derive_from_key(seal_key_lookup, sizeof seal_key_lookup, SEAL_ID_LOOKUP,
                                   SEAL_CONTEXT, master) != 0 ||
        crypto_kdf_derive_from_key(idkey, sizeof idkey, SEAL_ID_KEYID, SEAL_CONTEXT, master) != 0) {
        log_error("seal", "key derivation failed");
        seal_wipe_state();
        goto out;
    }
    seal_id = (uint32_t)idkey[0] << 24 | (uint32_t)idkey[1] << 16 | (uint32_t)idkey[2] << 8 |
              (uint32_t)idkey[3];
    seal_loaded = true;
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

int seal_init(const char *key_hex, const char *key_file, int create)
{
    uint8_t master[SEAL_KEY_BYTES];
    int rc = ERR_INTERNAL;
    seal_wipe_state();
    if (sodium_init() < 0) {
        log_error("seal", "libsodium failed to initialise");
        return ERR_INTERNAL;
    }
    if (key_hex && *key_hex) {
        rc = seal_key_from_hex(key_hex, master);
        if (rc != 0)
            goto out;
    } else {
        if (!key_file || !*key_file) {
            log_error("seal", "no key: neither ATELIER_KEY nor a key file is set");
            rc = ERR_INVALID;
            goto out;
        }
        bool missing = false;
        rc = seal_read_file(key_file, master, &missing);
        if (rc != 0 && missing) {
            if (!create) {
                log_error("seal", "key file %s does not exist", key_file);
                rc = ERR_NOT_FOUND;
                goto out;
            }
            bool exists = false;
            rc = seal_create_file(key_file, master, &exists);
            if (rc == 0 && exists) /* another process won the race */
                rc = seal_read_file(key_file, master, &missing);
        }
        if (rc != 0)
            goto out;
    }
    rc = seal_derive(master);
out:
    sodium_memzero(master, sizeof master);
    return rc;
}

void seal_shutdown(void)
{
    seal_wipe_state();
}

uint32_t seal_key_id(void)
{
    return seal_id;
}

int seal_box(const void *pt, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn)
{
    size_t total;
    *out = NULL;
    *outn = 0;
    if (!seal_loaded) {
        log_error("seal", "seal_box called before seal_init");
        return ERR_INTERNAL;
    }
    if (n > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        !size_add(n, SEAL_OVERHEAD, &total))
        return ERR_TOO_LARGE;
    uint8_t *buf = malloc(total);
    if (!buf)
        return ERR_NOMEM;
    buf[0] = SEAL_VERSION;
    buf[1] = (uint8_t)(seal_id >> 24);
    buf[2] = (uint8_t)(seal_id >> 16);
    buf[3] = (uint8_t)(seal_id >> 8);
    buf[4] = (uint8_t)seal_id;
    uint8_t *nonce = buf + 5;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_HEADER, &clen, pt, n, ad, adn, NULL,
                                               nonce, seal_key_seal);
    *out = buf;
    *outn = total;
    return 0;
}

int seal_open(const uint8_t *ct, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn)
{
    *out = NULL;
    *outn = 0;
    if (!seal_loaded) {
        log_error("seal", "seal_open called before seal_init");
        return ERR_INTERNAL;
    }
    if (!ct || n < SEAL_OVERHEAD || ct[0] != SEAL_VERSION) {
        log_warn("seal", "sealed value does not open (malformed)");
        return ERR_INTERNAL;
    }
    uint32_t id =
        (uint32_t)ct[1] << 24 | (uint32_t)ct[2] << 16 | (uint32_t)ct[3] << 8 | (uint32_t)ct[4];
    if (id != seal_id) {
        log_warn("seal", "sealed value does not open (key id %08x, loaded %08x)", (unsigned)id,
                 (unsigned)seal_id);
        return ERR_INTERNAL;
    }
    size_t ptn = n - SEAL_OVERHEAD;
    uint8_t *buf = malloc(ptn + 1); /* ptn < n, so ptn + 1 cannot overflow */
    if (!buf)
        return ERR_NOMEM;
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &plen, NULL, ct + SEAL_HEADER,
                                                   n - SEAL_HEADER, ad, adn, ct + 5,
                                                   seal_key_seal) != 0) {
        sodium_memzero(buf, ptn + 1);
        free(buf);
        log_warn("seal", "sealed value does not open");
        return ERR_INTERNAL;
    }
    buf[ptn] = '\0';
    *out = buf;
    *outn = ptn;
    return 0;
}

void seal_free(uint8_t *p, size_t n)
{
    if (!p)
        return;
    sodium_memzero(p, n);
    free(p);
}

void seal_lookup(const char *domain, const void *data, size_t n, uint8_t out[SEAL_LOOKUP_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t sep = 0;
    const char *d = domain ? domain : "";
    if (!seal_loaded) {
        /* A programming error: an unkeyed hash must never reach storage. */
        log_error("seal", "seal_lookup called before seal_init");
        abort();
    }
    crypto_generichash_init(&st, seal_key_lookup, sizeof seal_key_lookup, SEAL_LOOKUP_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)d, strlen(d));
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, data, n);
    crypto_generichash_final(&st, out, SEAL_LOOKUP_BYTES);
    sodium_memzero(&st, sizeof st);
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

int seal_field(const char *table_column, const char *row, const void *pt, size_t n, uint8_t **out,
               size_t *outn)
{
    char ad[POLICY_AD_BUF];
    size_t adn = seal_ad(ad, sizeof ad, table_column, row);

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
