/*
 * test_seal.c - sealing round trips and every way a sealed value must fail to
 * open (tampering, other associated data, other key), key loading from hex
 * and from the key file (creation with mode 0600, refusal of wide modes and
 * wrong sizes), keyed lookups, and the key ring of a rotation (a second key
 * loaded from a file: the new one seals, both open, lookups under both; the
 * old one forgotten; writes held), the registry check of seal_field, and
 * that nonces never repeat, within a thread or across threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/policy.h"
#include "base/seal.h"
#include "base/token.h"

static const char KEY_A[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char KEY_B[] = "F0E1D2C3B4A5968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF";

static char tmpdir[4096];

static int make_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("ATELIER_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(tmpdir, sizeof tmpdir, "%s/seal-XXXXXX", base);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static int remove_tmpdir(void **state)
{
    (void)state;
    static const char *names[] = {"new.key", "wide.key", "short.key", "long.key",
                                  "dir.key", "b.key",    "a.key"};
    char p[4200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_in_tmp(p, sizeof p, names[i]);
        unlink(p);
        rmdir(p);
    }
    rmdir(tmpdir);
    seal_shutdown();
    return 0;
}

static void write_file(const char *path, size_t n, mode_t mode)
{
    unsigned char buf[64];
    memset(buf, 0x5a, sizeof buf);
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_true(write(fd, buf, n) == (ssize_t)n);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void seal_text_fixture(const char *text, const char *ad, uint8_t **ct, size_t *ctn)
{
    assert_int_equal(seal_box(text, strlen(text), ad, strlen(ad), ct, ctn), 0);
    assert_int_equal(*ctn, strlen(text) + SEAL_OVERHEAD);
}

static int open_text(const uint8_t *ct, size_t ctn, const char *ad)
{
    uint8_t *pt = (uint8_t *)"untouched";
    size_t ptn = 99;
    int rc = seal_open(ct, ctn, ad, strlen(ad), &pt, &ptn);
    if (rc == 0) {
        seal_free(pt, ptn);
    } else {
        assert_null(pt);
        assert_int_equal(ptn, 0);
    }
    return rc;
}

static void test_roundtrip(void **state)
{
    (void)state;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    const char *ad = "accounts.email:42";
    uint8_t *ct;
    size_t ctn;
    seal_text_fixture("ada@example.org", ad, &ct, &ctn);
    assert_int_equal(ct[0], 1);
    uint32_t id = (uint32_t)ct[1] << 24 | (uint32_t)ct[2] << 16 | (uint32_t)ct[3] << 8 | ct[4];
    assert_true(id == seal_key_id());
    assert_null(memmem(ct, ctn, "ada@example.org", 15));

    uint8_t *pt;
    size_t ptn;
    assert_int_equal(seal_open(ct, ctn, ad, strlen(ad), &pt, &ptn), 0);
    assert_int_equal(ptn, 15);
    assert_string_equal((char *)pt, "ada@example.org"); /* NUL-terminated */
    seal_free(pt, ptn);

    /* Random nonces: sealing twice gives different bytes. */
    uint8_t *ct2;
    size_t ctn2;
    seal_text_fixture("ada@example.org", ad, &ct2, &ctn2);
    assert_true(ctn2 == ctn);
    assert_true(memcmp(ct, ct2, ctn) != 0);
    free(ct);
    free(ct2);

    /* Empty plaintext. */
    assert_int_equal(seal_box("", 0, ad, strlen(ad), &ct, &ctn), 0);
    assert_int_equal(ctn, SEAL_OVERHEAD);
    assert_int_equal(seal_open(ct, ctn, ad, strlen(ad), &pt, &ptn), 0);
    assert_int_equal(ptn, 0);
    assert_int_equal(pt[0], '\0');
    seal_free(pt, ptn);
    free(ct);
}

static void test_tamper(void **state)
{
    (void)state;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    const char *ad = "accounts.email:42";
    uint8_t *ct;
    size_t ctn;
    seal_text_fixture("secret value", ad, &ct, &ctn);
    assert_int_equal(open_text(ct, ctn, ad), 0);
    for (size_t i = 0; i < ctn; i++) {
        ct[i] ^= 0x01;
        assert_int_equal(open_text(ct, ctn, ad), ERR_INTERNAL);
        ct[i] ^= 0x01;
    }
    assert_int_equal(open_text(ct, ctn - 1, ad), ERR_INTERNAL);
    assert_int_equal(open_text(ct, SEAL_OVERHEAD - 1, ad), ERR_INTERNAL);
    assert_int_equal(open_text(ct, 0, ad), ERR_INTERNAL);
    assert_int_equal(open_text(ct, ctn, ad), 0);
    free(ct);
}

static void test_wrong_ad(void **state)
{
    (void)state;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    char ad1[POLICY_AD_BUF], ad2[POLICY_AD_BUF], ad3[POLICY_AD_BUF];
    size_t n1 = seal_ad(ad1, sizeof ad1, "accounts.email", "42");
    assert_int_equal(n1, strlen("accounts.email:42"));
    assert_string_equal(ad1, "accounts.email:42");
    seal_ad(ad2, sizeof ad2, "accounts.email", "43");
    seal_ad(ad3, sizeof ad3, "accounts.name", "42");
    uint8_t *ct;
    size_t ctn;
    seal_text_fixture("x", ad1, &ct, &ctn);
    assert_int_equal(open_text(ct, ctn, ad1), 0);
    assert_int_equal(open_text(ct, ctn, ad2), ERR_INTERNAL);
    assert_int_equal(open_text(ct, ctn, ad3), ERR_INTERNAL);
    assert_int_equal(open_text(ct, ctn, ""), ERR_INTERNAL);
    free(ct);
}

static void test_wrong_key(void **state)
{
    (void)state;
    const char *ad = "t.c:1";
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    uint32_t id_a = seal_key_id();
    uint8_t *ct;
    size_t ctn;
    seal_text_fixture("under key A", ad, &ct, &ctn);
    assert_int_equal(seal_init(KEY_B, NULL, 0), 0);
    assert_true(seal_key_id() != id_a);
    assert_int_equal(open_text(ct, ctn, ad), ERR_INTERNAL);
    /* Same key id forged into the header: the tag still fails. */
    uint32_t id_b = seal_key_id();
    ct[1] = (uint8_t)(id_b >> 24);
    ct[2] = (uint8_t)(id_b >> 16);
    ct[3] = (uint8_t)(id_b >> 8);
    ct[4] = (uint8_t)id_b;
    assert_int_equal(open_text(ct, ctn, ad), ERR_INTERNAL);
    free(ct);
    /* Key ids are deterministic. */
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    assert_true(seal_key_id() == id_a);
}

static void test_hex_key_refused(void **state)
{
    (void)state;
    char buf[80];
    /* 63 and 65 characters */
    snprintf(buf, sizeof buf, "%.63s", KEY_A);
    assert_true(seal_init(buf, NULL, 0) < 0);
    snprintf(buf, sizeof buf, "%s0", KEY_A);
    assert_true(seal_init(buf, NULL, 0) < 0);
    /* 64 characters that are not all hex */
    snprintf(buf, sizeof buf, "%s", KEY_A);
    buf[10] = 'g';
    assert_true(seal_init(buf, NULL, 0) < 0);
    buf[10] = ' ';
    assert_true(seal_init(buf, NULL, 0) < 0);
    assert_true(seal_init("", "", 0) < 0);
    assert_true(seal_init(NULL, NULL, 0) < 0);
    /* Upper- and lowercase hex are both accepted. */
    assert_int_equal(seal_init(KEY_B, NULL, 0), 0);
}

static void test_key_file_create(void **state)
{
    (void)state;
    char path[4200];
    struct stat st;
    path_in_tmp(path, sizeof path, "new.key");
    unlink(path);
    /* Missing and create == 0: refused, nothing created. */
    assert_true(seal_init(NULL, path, 0) < 0);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);

    assert_int_equal(seal_init(NULL, path, 1), 0);
    uint32_t id = seal_key_id();
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, SEAL_KEY_BYTES);

    uint8_t *ct;
    size_t ctn;
    seal_text_fixture("kept across restarts", "t.c:1", &ct, &ctn);
    /* Loading the same file again gives the same key. */
    seal_shutdown();
    assert_int_equal(seal_init("", path, 1), 0);
    assert_true(seal_key_id() == id);
    assert_int_equal(open_text(ct, ctn, "t.c:1"), 0);
    free(ct);

    /* A hex key wins over the file. */
    assert_int_equal(seal_init(KEY_A, path, 1), 0);
    assert_true(seal_key_id() != id);
}

static void test_key_file_refused(void **state)
{
    (void)state;
    char path[4200];
    path_in_tmp(path, sizeof path, "wide.key");
    write_file(path, 32, 0644);
    assert_true(seal_init(NULL, path, 1) < 0);
    write_file(path, 32, 0640);
    assert_true(seal_init(NULL, path, 1) < 0);
    write_file(path, 32, 0604);
    assert_true(seal_init(NULL, path, 1) < 0);
    write_file(path, 32, 0400);
    assert_int_equal(seal_init(NULL, path, 1), 0);

    path_in_tmp(path, sizeof path, "short.key");
    write_file(path, 31, 0600);
    assert_true(seal_init(NULL, path, 1) < 0);
    write_file(path, 0, 0600);
    assert_true(seal_init(NULL, path, 1) < 0);
    path_in_tmp(path, sizeof path, "long.key");
    write_file(path, 33, 0600);
    assert_true(seal_init(NULL, path, 1) < 0);

    path_in_tmp(path, sizeof path, "dir.key");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_true(seal_init(NULL, path, 1) < 0);
}

static void test_lookup(void **state)
{
    (void)state;
    uint8_t a[SEAL_LOOKUP_BYTES], b[SEAL_LOOKUP_BYTES], c[SEAL_LOOKUP_BYTES];
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    seal_lookup("email", "ada@example.org", 15, a);
    seal_lookup("email", "ada@example.org", 15, b);
    assert_memory_equal(a, b, sizeof a);
    /* Domain separation, including across the domain/data boundary. */
    seal_lookup("username", "ada@example.org", 15, c);
    assert_memory_not_equal(a, c, sizeof a);
    seal_lookup("ab", "c", 1, b);
    seal_lookup("a", "bc", 2, c);
    assert_memory_not_equal(b, c, sizeof b);
    seal_lookup("email", "ada@example.orG", 15, c);
    assert_memory_not_equal(a, c, sizeof a);
    /* Keyed: another server key gives another hash. */
    assert_int_equal(seal_init(KEY_B, NULL, 0), 0);
    seal_lookup("email", "ada@example.org", 15, c);
    assert_memory_not_equal(a, c, sizeof a);
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    seal_lookup("email", "ada@example.org", 15, c);
    assert_memory_equal(a, c, sizeof a);
}

static void test_ad_truncation(void **state)
{
    (void)state;
    char small[8];
    size_t n = seal_ad(small, sizeof small, "accounts.email", "42");
    assert_int_equal(n, 7);
    assert_int_equal(small[7], '\0');
}

/* seal_text binds the text to its table.column:row: it opens there only. */
static void test_seal_text_binding(void **state)
{
    uint8_t *box = NULL;
    size_t n = 0;
    char *out = NULL;

    (void)state;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    assert_int_equal(seal_text("models.name", "row1", "Ada's body", &box, &n), 0);
    assert_int_equal(seal_open_text("models.name", "row1", box, n, &out), 0);
    assert_string_equal(out, "Ada's body");
    free(out);
    out = NULL;
    assert_int_not_equal(seal_open_text("models.name", "row2", box, n, &out), 0);
    assert_null(out);
    assert_int_not_equal(seal_open_text("models.notes", "row1", box, n, &out), 0);
    assert_null(out);
    free(box);
    seal_shutdown();
}

/* Write the 64-hex-character key hex as a 32-byte key file, mode 0600. */
static void write_key(const char *path, const char *hex)
{
    unsigned char raw[SEAL_KEY_BYTES];
    for (size_t i = 0; i < sizeof raw; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        raw[i] = (unsigned char)v;
    }
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_true(write(fd, raw, sizeof raw) == (ssize_t)sizeof raw);
    close(fd);
}

static uint32_t header_id(const uint8_t *ct)
{
    return (uint32_t)ct[1] << 24 | (uint32_t)ct[2] << 16 | (uint32_t)ct[3] << 8 | ct[4];
}

/* A rotation's key ring: the next key seals, both open, lookups under both;
 * retiring forgets the old key. */
static void test_rotation_ring(void **state)
{
    (void)state;
    char bpath[4200], apath[4200];
    const char *ad = "accounts.email:42";
    uint8_t *va, *vb, *pt, la[SEAL_LOOKUP_BYTES], lb[SEAL_LOOKUP_BYTES];
    uint8_t both[SEAL_MAX_KEYS][SEAL_LOOKUP_BYTES];
    size_t na, nb, ptn;
    uint32_t ids[SEAL_MAX_KEYS], id_a, id_b = 0, id;

    path_in_tmp(bpath, sizeof bpath, "b.key");
    path_in_tmp(apath, sizeof apath, "a.key");
    write_key(bpath, KEY_B);
    write_key(apath, KEY_A);
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    id_a = seal_key_id();
    assert_int_equal(seal_key_ids(ids), 1);
    seal_text_fixture("under A", ad, &va, &na);
    seal_lookup("email", "ada@example.org", 15, la);
    assert_int_equal(seal_lookups("email", "ada@example.org", 15, both), 1);
    assert_memory_equal(both[0], la, sizeof la);

    /* The file's id without loading it. */
    assert_int_equal(seal_key_file_id(bpath, &id), 0);
    assert_true(id != id_a);
    assert_true(seal_key_id() == id_a);
    /* A file that holds another key than expected: refused, nothing changes. */
    assert_int_equal(seal_load_next(bpath, id_a, &id_b), ERR_CONFLICT);
    assert_true(seal_key_id() == id_a);
    assert_int_equal(seal_key_ids(ids), 1);
    /* The write key's own file: nothing changes. */
    assert_int_equal(seal_load_next(apath, 0, NULL), 1);
    assert_int_equal(seal_key_ids(ids), 1);

    assert_int_equal(seal_load_next(bpath, id, &id_b), 0);
    assert_true(id_b == id);
    assert_true(seal_key_id() == id_b);
    assert_int_equal(seal_key_ids(ids), 2);
    assert_true(ids[0] == id_b && ids[1] == id_a);
    seal_text_fixture("under B", ad, &vb, &nb);
    assert_true(header_id(vb) == id_b && header_id(va) == id_a);
    assert_true(seal_box_key_id(vb, nb) == id_b);
    assert_int_equal(open_text(va, na, ad), 0);
    assert_int_equal(open_text(vb, nb, ad), 0);
    assert_int_equal(seal_open(va, na, ad, strlen(ad), &pt, &ptn), 0);
    assert_string_equal((char *)pt, "under A");
    seal_free(pt, ptn);
    /* Lookups: the new key's first, the old key's second. */
    seal_lookup("email", "ada@example.org", 15, lb);
    assert_memory_not_equal(la, lb, sizeof la);
    assert_int_equal(seal_lookups("email", "ada@example.org", 15, both), 2);
    assert_memory_equal(both[0], lb, sizeof lb);
    assert_memory_equal(both[1], la, sizeof la);

    /* Held writes: sealing refused, opening goes on; loading clears it. */
    seal_hold_writes(1);
    uint8_t *x = (uint8_t *)"untouched";
    size_t xn = 1;
    assert_int_equal(seal_box("x", 1, ad, strlen(ad), &x, &xn), ERR_UNAVAILABLE);
    assert_null(x);
    assert_int_equal(open_text(va, na, ad), 0);
    seal_hold_writes(0);

    /* Retired: the old key opens nothing any more. */
    seal_retire();
    assert_int_equal(seal_key_ids(ids), 1);
    assert_int_equal(open_text(va, na, ad), ERR_INTERNAL);
    assert_int_equal(open_text(vb, nb, ad), 0);
    assert_int_equal(seal_lookups("email", "ada@example.org", 15, both), 1);
    assert_memory_equal(both[0], lb, sizeof lb);
    free(va);
    free(vb);

    /* Missing and malformed files. */
    char missing[4200];
    path_in_tmp(missing, sizeof missing, "absent.key");
    assert_int_equal(seal_key_file_id(missing, &id), ERR_NOT_FOUND);
    assert_int_equal(seal_load_next(missing, 0, NULL), ERR_NOT_FOUND);
    path_in_tmp(missing, sizeof missing, "short.key");
    write_file(missing, 31, 0600);
    assert_true(seal_key_file_id(missing, &id) < 0);
    assert_true(seal_load_next(missing, 0, NULL) < 0);
    assert_int_equal(seal_key_ids(ids), 1);
    seal_shutdown();
    assert_int_equal(seal_key_id(), 0);
}

/* seal_field seals only the columns base/sealed.h registers. */
static void test_registered_labels(void **state)
{
    (void)state;
    uint8_t *box = (uint8_t *)"untouched";
    size_t n = 1;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    assert_true(seal_registered("accounts.email"));
    assert_true(seal_registered("model_avatars.data"));
    assert_true(seal_registered("meta.value"));
    assert_false(seal_registered("accounts.email_sealed"));
    assert_false(seal_registered("t.c"));
    assert_false(seal_registered(NULL));
    assert_int_equal(seal_text("nosuch.column", "1", "x", &box, &n), ERR_INTERNAL);
    assert_null(box);
    assert_int_equal(n, 0);
    assert_int_equal(seal_text("accounts.bio", "1", "x", &box, &n), 0);
    free(box);
    seal_shutdown();
}

/* Nonces come from a per-thread stream (token_unique): none repeats, within
 * one thread's draws or between two threads' (each seeds its own). */
#define NONCE_DRAWS 4000
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define NONCE_AT    5 /* after the version (1) and the key id (4): seal.h's layout */

static uint8_t nonces[2 * NONCE_DRAWS][NONCE_BYTES];

static void *nonce_thread(void *arg)
{
    uint8_t(*out)[NONCE_BYTES] = arg;
    const char *ad = "models.name:7";

    for (int i = 0; i < NONCE_DRAWS; i++) {
        uint8_t *ct = NULL;
        size_t ctn = 0;
        if (seal_box("x", 1, ad, strlen(ad), &ct, &ctn) != 0 || ctn != SEAL_OVERHEAD + 1)
            return NULL;
        memcpy(out[i], ct + NONCE_AT, NONCE_BYTES);
        free(ct);
    }
    return out;
}

static int nonce_cmp(const void *a, const void *b)
{
    return memcmp(a, b, NONCE_BYTES);
}

static void test_nonces_never_repeat(void **state)
{
    pthread_t t[2];
    void *ret[2];
    uint8_t first[16], second[16];

    (void)state;
    assert_int_equal(seal_init(KEY_A, NULL, 0), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, nonce_thread, nonces[i * NONCE_DRAWS]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], &ret[i]), 0);
        assert_non_null(ret[i]);
    }
    qsort(nonces, 2 * NONCE_DRAWS, NONCE_BYTES, nonce_cmp);
    for (int i = 1; i < 2 * NONCE_DRAWS; i++)
        assert_true(memcmp(nonces[i - 1], nonces[i], NONCE_BYTES) != 0);
    /* consecutive draws of the caller's thread differ too */
    token_unique(first, sizeof first);
    token_unique(second, sizeof second);
    assert_memory_not_equal(first, second, sizeof first);
    seal_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_wrong_ad),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_hex_key_refused),
        cmocka_unit_test(test_key_file_create),
        cmocka_unit_test(test_key_file_refused),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_ad_truncation),
        cmocka_unit_test(test_seal_text_binding),
        cmocka_unit_test(test_rotation_ring),
        cmocka_unit_test(test_registered_labels),
        cmocka_unit_test(test_nonces_never_repeat),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
