/*
 * seal.h - encryption at rest under the server key, and keyed lookup hashes.
 *
 * The server key is 32 random bytes (<data>/secret.key, mode 0600, created on
 * first start, or --key-file / ATELIER_KEY). Two subkeys are derived from it
 * with crypto_kdf: one for XChaCha20-Poly1305 sealing, one for keyed BLAKE2b
 * lookups. A sealed value is
 *
 *     version(1) = 1 | key_id(4, big endian) | nonce(24) | ciphertext | tag(16)
 *
 * and is bound to its place by associated data (table, column, row id), so a
 * sealed value copied to another row or column does not open. The key id is
 * derived from the key, so a value sealed under another key is recognised as
 * such (its key id differs) rather than as corruption; that is what rotation
 * (`atelier rekey`, cli/rekey.c) builds on: during a rotation two keys are
 * loaded, the new one seals and both open.
 *
 * Thread safety: after seal_init() every function is safe from any thread,
 * including seal_load_next and seal_retire while others seal and open.
 */
#ifndef ATELIER_SEAL_H
#define ATELIER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES    32
#define SEAL_LOOKUP_BYTES 32
#define SEAL_OVERHEAD     (1 + 4 + 24 + 16)
#define SEAL_MAX_KEYS     2 /* the write key, and the key it replaces during a rotation */

/* Load the key: from hex (64 chars) when key_hex is non-empty, else from
 * key_file; when the file does not exist and create is non-zero, create it
 * with 32 random bytes, mode 0600. A file with the wrong size or mode wider
 * than 0600 is refused. Returns 0 or a negative err with a message logged. */
int seal_init(const char *key_hex, const char *key_file, int create);

/* Forget every key (wiped). */
void seal_shutdown(void);

/* Key rotation: load the key of key_file (32 bytes, mode 0600 or narrower,
 * never created) as the new write key; the current write key stays loaded
 * to open values (and for seal_lookups) until seal_retire(). expect_id, when
 * not 0, is the key id the file must hold (else ERR_CONFLICT, nothing
 * loaded). *id (may be NULL) receives the file's key id. Returns 0, 1 when
 * the file holds the current write key (nothing changes), ERR_NOT_FOUND when
 * the file does not exist, or another negative err after logging why. */
int seal_load_next(const char *key_file, uint32_t expect_id, uint32_t *id);

/* The key id of a key file (checked as seal_load_next does), without
 * loading it. 0, ERR_NOT_FOUND, or another negative err after logging why. */
int seal_key_file_id(const char *key_file, uint32_t *id);

/* Forget (wipe) the key seal_load_next replaced. */
void seal_retire(void);

/* While hold is set, seal_box refuses (ERR_UNAVAILABLE): a rotation was
 * announced whose key this process cannot load. seal_load_next clears it. */
void seal_hold_writes(int hold);

/* Key id of the write key (0 before seal_init). */
uint32_t seal_key_id(void);

/* The ids of the loaded keys, the write key's first; returns how many. */
int seal_key_ids(uint32_t ids[SEAL_MAX_KEYS]);

/* The key id in a sealed value's header, or 0 when it is not one. */
uint32_t seal_box_key_id(const uint8_t *box, size_t n);

/* Seal plaintext pt[0..n) with associated data ad[0..adn). *out is malloc'd,
 * *outn = n + SEAL_OVERHEAD. Returns 0, ERR_NOMEM or ERR_TOO_LARGE. */
int seal_box(const void *pt, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn);

/* Open a sealed value. *out is malloc'd with one extra NUL byte after the
 * plaintext (so text can be used as a C string); free it with seal_free().
 * Returns 0, or ERR_INTERNAL when the value is not authentic (corrupt,
 * moved, or sealed under another key). */
int seal_open(const uint8_t *ct, size_t n, const void *ad, size_t adn, uint8_t **out, size_t *outn);

/* Wipe and free a plaintext returned by seal_open. */
void seal_free(uint8_t *p, size_t n);

/* Keyed BLAKE2b-256 of data under the write key, separated by domain (e.g.
 * "email"): what is stored. */
void seal_lookup(const char *domain, const void *data, size_t n, uint8_t out[SEAL_LOOKUP_BYTES]);

/* The same hash under every loaded key, the write key's first (out[0] is
 * seal_lookup's); returns how many (2 only during a rotation). A lookup
 * must try each: a row not yet resealed still holds the old key's hash. */
int seal_lookups(const char *domain, const void *data, size_t n,
                 uint8_t out[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES]);

/* Build associated data "table.column:rowid" into buf (POLICY_AD_BUF bytes, base/policy.h).
 * Returns its length. */
size_t seal_ad(char *buf, size_t size, const char *table_column, const char *row_id);

/* 1 when table_column is a sealed column of base/sealed.h (or the key check
 * label), else 0. */
int seal_registered(const char *table_column);

/* Seal / open the value of a field bound to table.column:rowid (seal_box /
 * seal_open with seal_ad): a value opens only in the field it was sealed for.
 * seal_field refuses (ERR_INTERNAL, a BUG logged) a table_column that
 * base/sealed.h does not list, since `atelier rekey` would not reseal it. */
int seal_field(const char *table_column, const char *row, const void *pt, size_t n, uint8_t **out,
               size_t *outn);
int seal_open_field(const char *table_column, const char *row, const void *box, size_t n,
                    uint8_t **out, size_t *outn);

/* Seal a text field bound to table.column:rowid. */
int seal_text(const char *table_column, const char *row, const char *text, uint8_t **out,
              size_t *outn);

/* Open a field sealed by seal_text into a malloc'd C string (caller frees
 * with free()). Fails (seal_open's error) when it does not open. */
int seal_open_text(const char *table_column, const char *row, const void *box, size_t n,
                   char **out);

#endif
