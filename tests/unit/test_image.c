/*
 * test_image.c - picture intake: good JPEG, PNG and WebP come out at most
 * LIMIT_PICTURE_EDGE square with no metadata left (raw byte search and a
 * re-load through vips); bombs, truncated, mislabelled, foreign and empty
 * inputs are refused with the documented errors; two threads at once work.
 *
 * Fixtures live in tests/fixtures/images (made once by make_images.py there).
 * The directory is $ATELIER_FIXTURES when set, else found from __FILE__.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "base/err.h"
#include "privacy/image.h"
#include "base/policy.h"

static char fixture_dir[PATH_MAX];

struct blob {
    uint8_t *p;
    size_t n;
};

struct result {
    int rc;
    uint8_t *out;
    size_t outn;
    const char *type;
    int w, h;
    char msg[256];
};

static const char *const markers[] = {
    "Exif",        "GPS",
    "SecretCity",  "SecretText",
    "SecretCam",   "SecretSoftware",
    "ICC_PROFILE", "http://ns.adobe.com/xap",
    "photoshop",   "Comment",
};

static void fixtures_locate(void)
{
    const char *env = getenv("ATELIER_FIXTURES");
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (env && *env)
        snprintf(fixture_dir, sizeof fixture_dir, "%s", env);
    else if (slash)
        snprintf(fixture_dir, sizeof fixture_dir, "%.*s/../fixtures/images", (int)(slash - file),
                 file);
    else
        snprintf(fixture_dir, sizeof fixture_dir, "../fixtures/images");
}

static struct blob load(const char *name)
{
    char path[PATH_MAX + 64];
    struct blob b = {NULL, 0};
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (set ATELIER_FIXTURES?)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    b.n = (size_t)len;
    b.p = malloc(b.n);
    assert_non_null(b.p);
    assert_int_equal(fread(b.p, 1, b.n, f), b.n);
    fclose(f);
    return b;
}

static void run(const void *p, size_t n, const char *type, struct result *r)
{
    memset(r, 0, sizeof *r);
    r->rc = image_sanitize(p, n, type, &r->out, &r->outn, &r->type, &r->w, &r->h, r->msg,
                           sizeof r->msg);
}

static void run_file(const char *name, const char *type, struct result *r)
{
    struct blob b = load(name);
    run(b.p, b.n, type, r);
    free(b.p);
}

static bool contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(p + i, needle, k) == 0)
            return true;
    return false;
}

static void *no_metadata_field(VipsImage *img, const char *name, GValue *value, void *a)
{
    static const char *const bad[] = {"exif",        "xmp",          "icc",         "iptc",
                                      "png-comment", "jpeg-comment", "gif-comment", "orientation"};
    (void)img;
    (void)value;
    (void)a;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strncmp(name, bad[i], strlen(bad[i])) == 0)
            fail_msg("output still has metadata field %s", name);
    return NULL;
}

/* Decode the output completely through vips and check it has no metadata. */
static void check_reload(const struct result *r, int bands)
{
    double avg = 0;
    VipsImage *img =
        vips_image_new_from_buffer(r->out, r->outn, "", "fail_on", VIPS_FAIL_ON_WARNING, NULL);
    assert_non_null(img);
    assert_int_equal(vips_avg(img, &avg, NULL), 0);
    assert_int_equal(vips_image_get_width(img), r->w);
    assert_int_equal(vips_image_get_height(img), r->h);
    assert_int_equal(vips_image_get_bands(img), bands);
    assert_int_equal(vips_image_get_format(img), VIPS_FORMAT_UCHAR);
    assert_int_equal(vips_image_get_typeof(img, VIPS_META_EXIF_NAME), 0);
    assert_int_equal(vips_image_get_typeof(img, VIPS_META_ICC_NAME), 0);
    assert_int_equal(vips_image_get_typeof(img, VIPS_META_XMP_NAME), 0);
    assert_int_equal(vips_image_get_typeof(img, VIPS_META_IPTC_NAME), 0);
    vips_image_map(img, no_metadata_field, NULL);
    g_object_unref(img);
    vips_error_clear();
}

static void check_good(const char *name, const char *declared, const char *want_type, int want_w,
                       int want_h, int bands)
{
    struct result r;
    run_file(name, declared, &r);
    assert_int_equal(r.rc, 0);
    assert_non_null(r.out);
    assert_string_equal(r.type, want_type);
    assert_int_equal(r.w, want_w);
    assert_int_equal(r.h, want_h);
    assert_true(r.w <= LIMIT_PICTURE_EDGE && r.h <= LIMIT_PICTURE_EDGE);
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (contains(r.out, r.outn, markers[i]))
            fail_msg("%s: output still contains \"%s\"", name, markers[i]);
    check_reload(&r, bands);
    free(r.out);
}

static void check_refused(const void *p, size_t n, const char *declared, int want)
{
    struct result r;
    run(p, n, declared, &r);
    assert_int_equal(r.rc, want);
    assert_null(r.out);
    assert_int_equal(r.outn, 0);
    assert_null(r.type);
    assert_true(strlen(r.msg) > 10);
    assert_null(strstr(r.msg, "Vips")); /* no library text for the client */
}

static void check_refused_file(const char *name, const char *declared, int want)
{
    struct blob b = load(name);
    check_refused(b.p, b.n, declared, want);
    free(b.p);
}

static void test_jpeg_with_metadata(void **state)
{
    (void)state;
    check_good("photo.jpg", "image/jpeg", "image/jpeg", 512, 384, 3);
}

static void test_png_alpha(void **state)
{
    (void)state;
    check_good("alpha.png", "image/png", "image/png", 512, 341, 4);
}

static void test_webp_with_metadata(void **state)
{
    (void)state;
    check_good("photo.webp", "image/webp", "image/jpeg", 512, 366, 3);
}

static void test_small_not_enlarged(void **state)
{
    (void)state;
    check_good("small.jpg", "image/jpeg", "image/jpeg", 100, 80, 3);
}

static void test_cmyk_becomes_srgb(void **state)
{
    (void)state;
    check_good("cmyk.jpg", "image/jpeg", "image/jpeg", 300, 200, 3);
}

static void test_gray16_becomes_8bit_srgb(void **state)
{
    (void)state;
    check_good("gray16.png", "image/png", "image/jpeg", 320, 240, 3);
}

static void test_content_type_forms(void **state)
{
    (void)state;
    check_good("small.jpg", "IMAGE/JPEG; q=1", "image/jpeg", 100, 80, 3);
    check_refused_file("small.jpg", "image/jpegx", ERR_MEDIA_TYPE);
    check_refused_file("small.jpg", "image/jpg", ERR_MEDIA_TYPE);
    check_refused_file("small.jpg", "", ERR_MEDIA_TYPE);
    check_refused_file("small.jpg", NULL, ERR_MEDIA_TYPE);
}

static void test_bomb(void **state)
{
    (void)state;
    check_refused_file("bomb.jpg", "image/jpeg", ERR_TOO_LARGE);
}

static uint32_t png_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A PNG of w x h with the given bit depth and colour type: signature, IHDR,
 * an IDAT holding an empty zlib stream, IEND. Only the header is valid. */
static size_t make_png_header(uint8_t *out, uint32_t w, uint32_t h, uint8_t depth, uint8_t ctype)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    static const uint8_t idat[] = {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    size_t o = 8;
    memcpy(out, sig, 8);
    uint8_t ihdr[17] = {'I', 'H', 'D', 'R'};
    put32(ihdr + 4, w);
    put32(ihdr + 8, h);
    ihdr[12] = depth;
    ihdr[13] = ctype;
    put32(out + o, 13);
    memcpy(out + o + 4, ihdr, 17);
    put32(out + o + 21, png_crc(ihdr, 17));
    o += 25;
    put32(out + o, sizeof idat);
    memcpy(out + o + 4, "IDAT", 4);
    memcpy(out + o + 8, idat, sizeof idat);
    put32(out + o + 8 + sizeof idat, png_crc(out + o + 4, 4 + sizeof idat));
    o += 12 + sizeof idat;
    put32(out + o, 0);
    memcpy(out + o + 4, "IEND", 4);
    put32(out + o + 8, png_crc((const uint8_t *)"IEND", 4));
    return o + 12;
}

/* Issue 12 item 7: 6300 x 6300 16-bit RGBA is under LIMIT_IMAGE_PIXELS but
 * decodes to 317 MB; it is refused from its header, before any inflation.
 * The same size in 8-bit grey (40 MB of raster) is under the budget, so the
 * refusal is the decode budget, not the pixel count. */
static void test_decode_budget(void **state)
{
    (void)state;
    uint8_t png[128];
    size_t n = make_png_header(png, 6300, 6300, 16, 6);
    _Static_assert(6300ull * 6300ull <= LIMIT_IMAGE_PIXELS, "under the pixel limit");
    _Static_assert(6300ull * 6300ull * 8ull > LIMIT_IMAGE_DECODE_BYTES, "over the budget");
    _Static_assert(6300ull * 6300ull <= LIMIT_IMAGE_DECODE_BYTES, "grey is under the budget");
    check_refused(png, n, "image/png", ERR_TOO_LARGE);
    n = make_png_header(png, 6300, 6300, 8, 0);
    struct result r;
    run(png, n, "image/png", &r);
    assert_int_equal(r.rc, ERR_INVALID); /* passed the header checks, no pixel data */
}

/* Issue 12 item 16: every chunk of a re-encoded PNG, walked by length; none
 * is pHYs (8.14's pngsave writes it even with strip) or any ancillary
 * metadata chunk. */
static void test_png_chunks(void **state)
{
    (void)state;
    static const char *const allowed[] = {"IHDR", "PLTE", "tRNS", "IDAT", "IEND"};
    struct result r;
    run_file("alpha.png", "image/png", &r);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.type, "image/png");
    size_t i = 8, seen_end = 0;
    while (i + 12 <= r.outn) {
        uint32_t len = (uint32_t)r.out[i] << 24 | (uint32_t)r.out[i + 1] << 16 |
                       (uint32_t)r.out[i + 2] << 8 | r.out[i + 3];
        char type[5] = {0};
        memcpy(type, r.out + i + 4, 4);
        bool ok = false;
        for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
            ok |= strcmp(type, allowed[k]) == 0;
        if (!ok)
            fail_msg("re-encoded PNG has a %s chunk", type);
        assert_int_equal(png_crc(r.out + i + 4, len + 4),
                         (uint32_t)r.out[i + 8 + len] << 24 | (uint32_t)r.out[i + 9 + len] << 16 |
                             (uint32_t)r.out[i + 10 + len] << 8 | r.out[i + 11 + len]);
        seen_end = strcmp(type, "IEND") == 0;
        i += (size_t)len + 12;
    }
    assert_int_equal(i, r.outn);
    assert_true(seen_end);
    free(r.out);
}

static void test_body_over_limit(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, (size_t)LIMIT_IMAGE_BODY + 1);
    assert_non_null(big);
    memcpy(big, "\xFF\xD8\xFF\xE0", 4);
    check_refused(big, (size_t)LIMIT_IMAGE_BODY + 1, "image/jpeg", ERR_TOO_LARGE);
    free(big);
}

static void test_truncated(void **state)
{
    (void)state;
    check_refused_file("truncated.jpg", "image/jpeg", ERR_INVALID);
}

static void test_mislabelled(void **state)
{
    (void)state;
    check_refused_file("photo.jpg", "image/png", ERR_MEDIA_TYPE);
    check_refused_file("photo.jpg", "image/webp", ERR_MEDIA_TYPE);
    check_refused_file("alpha.png", "image/jpeg", ERR_MEDIA_TYPE);
    check_refused_file("photo.webp", "image/png", ERR_MEDIA_TYPE);
}

static void test_random(void **state)
{
    (void)state;
    check_refused_file("random.bin", "image/jpeg", ERR_MEDIA_TYPE);
    check_refused_file("random.bin", "image/png", ERR_MEDIA_TYPE);
}

static void test_gif(void **state)
{
    (void)state;
    check_refused_file("anim.gif", "image/gif", ERR_MEDIA_TYPE);
    check_refused_file("anim.gif", "image/png", ERR_MEDIA_TYPE);
    check_refused_file("anim.gif", "image/jpeg", ERR_MEDIA_TYPE);
}

static void test_empty(void **state)
{
    (void)state;
    static const uint8_t none[1] = {0};
    check_refused(none, 0, "image/jpeg", ERR_MEDIA_TYPE);
    check_refused(NULL, 0, "image/png", ERR_MEDIA_TYPE);
    check_refused("\xFF\xD8", 2, "image/jpeg", ERR_MEDIA_TYPE);
}

static void test_magic_then_garbage(void **state)
{
    (void)state;
    uint8_t buf[512];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37u + 11u);
    memcpy(buf, "\xFF\xD8\xFF\xE0", 4);
    check_refused(buf, sizeof buf, "image/jpeg", ERR_INVALID);
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    check_refused(buf, sizeof buf, "image/png", ERR_INVALID);
    memcpy(buf, "RIFF\x00\x01\x00\x00WEBPVP8 ", 16);
    check_refused(buf, sizeof buf, "image/webp", ERR_INVALID);
}

/* image_init leaves only the JPEG, PNG and WebP buffer loaders usable. */
static void test_other_loaders_blocked(void **state)
{
    (void)state;
    char path[PATH_MAX + 64];
    struct blob gif = load("anim.gif");
    VipsImage *img = vips_image_new_from_buffer(gif.p, gif.n, "", NULL);
    assert_null(img);
    snprintf(path, sizeof path, "%s/%s", fixture_dir, "photo.jpg");
    img = vips_image_new_from_file(path, NULL);
    assert_null(img);
    vips_error_clear();
    free(gif.p);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    size_t outn = 0;
    const char *type = NULL;
    int w = 0, h = 0;
    assert_int_equal(image_sanitize(NULL, 10, "image/jpeg", NULL, &outn, &type, &w, &h, NULL, 0),
                     ERR_INTERNAL);
}

struct worker {
    const struct blob *in;
    const char *type;
    int failures;
    int w, h;
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    for (int i = 0; i < 5; i++) {
        struct result r;
        run(wk->in->p, wk->in->n, wk->type, &r);
        if (r.rc != 0 || r.w != wk->w || r.h != wk->h)
            wk->failures++;
        free(r.out);
    }
    image_thread_done();
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    struct blob jpg = load("photo.jpg"), png = load("alpha.png");
    struct worker wk[2] = {{&jpg, "image/jpeg", 0, 512, 384}, {&png, "image/png", 0, 512, 341}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &wk[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(wk[0].failures, 0);
    assert_int_equal(wk[1].failures, 0);
    free(jpg.p);
    free(png.p);
}

int main(int argc, char **argv)
{
    (void)argc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_with_metadata),
        cmocka_unit_test(test_png_alpha),
        cmocka_unit_test(test_webp_with_metadata),
        cmocka_unit_test(test_small_not_enlarged),
        cmocka_unit_test(test_cmyk_becomes_srgb),
        cmocka_unit_test(test_gray16_becomes_8bit_srgb),
        cmocka_unit_test(test_content_type_forms),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_body_over_limit),
        cmocka_unit_test(test_decode_budget),
        cmocka_unit_test(test_png_chunks),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_mislabelled),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_gif),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_magic_then_garbage),
        cmocka_unit_test(test_other_loaders_blocked),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_two_threads),
    };
    fixtures_locate();
    if (image_init(argv[0]) != 0) {
        fprintf(stderr, "test_image: image_init failed\n");
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    image_shutdown();
    return rc;
}
