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
 * (`atelier rekey`) builds on.
 *
 * Thread safety: after seal_init() every function is safe from any thread.
 */
#ifndef ATELIER_SEAL_H
#define ATELIER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES    32
#define SEAL_LOOKUP_BYTES 32
#define SEAL_OVERHEAD     (1 + 4 + 24 + 16)

/* Load the key: from hex (64 chars) when key_hex is non-empty, else from
 * key_file; when the file does not exist and create is non-zero, create it
 * with 32 random bytes, mode 0600. A file with the wrong size or mode wider
 * than 0600 is refused. Returns 0 or a negative err with a message logged. */
int seal_init(const char *key_hex, const char *key_file, int create);

/* Forget the key (wiped). */
void seal_shutdown(void);

/* Key id of the loaded key. */
uint32_t seal_key_id(void);

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

/* Keyed BLAKE2b-256 of data, separated by domain (e.g. "email"). */
void seal_lookup(const char *domain, const void *data, size_t n, uint8_t out[SEAL_LOOKUP_BYTES]);

/* Build associated data "table.column:rowid" into buf (POLICY_AD_BUF bytes, base/policy.h).
 * Returns its length. */
size_t seal_ad(char *buf, size_t size, const char *table_column, const char *row_id);

/* Seal / open the value of a field bound to table.column:rowid (seal_box /
 * seal_open with seal_ad): a value opens only in the field it was sealed for. */
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
