/*
 * test_seal.c - sealing round trips and every way a sealed value must fail to
 * open (tampering, other associated data, other key), key loading from hex
 * and from the key file (creation with mode 0600, refusal of wide modes and
 * wrong sizes), and keyed lookups.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/policy.h"
#include "base/seal.h"

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
    static const char *names[] = {"new.key", "wide.key", "short.key", "long.key", "dir.key"};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_wrong_ad),         cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_hex_key_refused),  cmocka_unit_test(test_key_file_create),
        cmocka_unit_test(test_key_file_refused), cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_ad_truncation),    cmocka_unit_test(test_seal_text_binding),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
