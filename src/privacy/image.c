/*
 * image.c - intake of untrusted pictures through libvips 8.14: sniff, check
 * the header, shrink, convert to sRGB and re-encode without metadata.
 *
 * Invariants:
 * - Only the JPEG, PNG and WebP *buffer* loaders can run: image_init blocks
 *   every other vips loader (vips_block_untrusted_set alone still lets TIFF
 *   and GIF through). image_sanitize also requires the magic bytes, the
 *   declared type and the loader vips picks to agree.
 * - The pixel count is read from the header alone (a lazy, sequential load)
 *   and checked against LIMIT_IMAGE_PIXELS before any pixel is decoded; so
 *   is the decode work (image_decode_bytes: pixels left after JPEG
 *   shrink-on-load x bands x bytes per band), against
 *   LIMIT_IMAGE_DECODE_BYTES. A small PNG that inflates to a huge 16-bit
 *   RGBA raster is refused before its first row is inflated.
 * - Every load uses fail_on=error: truncated or corrupt data is refused,
 *   never grey-filled.
 * - Pixels are converted to sRGB (export_profile) before the ICC profile is
 *   dropped; output is PNG or JPEG saved with strip, so no EXIF, GPS, ICC,
 *   XMP or text chunk survives; the pHYs chunk that 8.14's pngsave writes
 *   even with strip is cut out (image_png_strip). WebP is never written
 *   (8.14.1 webpsave ignores strip).
 * - No vips object outlives a call: the operation cache is off, every image
 *   is unref'd before returning (the caller's buffer is not copied by vips),
 *   and the output is copied into malloc'd memory before g_free.
 * - The vips error buffer is process-wide: every call clears it on exit, and
 *   its text goes only to the debug log, never to the client.
 */
#include "privacy/image.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vips/vips.h>

enum image_kind { KIND_NONE, KIND_JPEG, KIND_PNG, KIND_WEBP, KIND_COUNT };

/* Declared media type and the only vips loader class allowed for it. */
static const struct {
    const char *type;
    const char *loader;
} image_kinds[KIND_COUNT] = {
    [KIND_NONE] = {NULL, NULL},
    [KIND_JPEG] = {"image/jpeg", "VipsForeignLoadJpegBuffer"},
    [KIND_PNG] = {"image/png", "VipsForeignLoadPngBuffer"},
    [KIND_WEBP] = {"image/webp", "VipsForeignLoadWebpBuffer"},
};

/* Written once by image_init before other threads exist, then read-only. */
static bool image_ready;

/* vips warnings (libjpeg complaints about bad files) go to the debug log
 * instead of stderr. */
static void image_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message,
                              gpointer data)
{
    (void)domain;
    (void)level;
    (void)data;
    log_msg(LOG_DEBUG, "image", "vips: %s", message ? message : "");
}

static int image_allow_loaders(void)
{
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (int k = KIND_JPEG; k < KIND_COUNT; k++) {
        if (g_type_from_name(image_kinds[k].loader) == 0) {
            log_error("image", "vips has no loader class %s", image_kinds[k].loader);
            return ERR_INTERNAL;
        }
        vips_operation_block_set(image_kinds[k].loader, FALSE);
    }
    return 0;
}

int image_init(const char *argv0)
{
    int rc = 0;
    if (image_ready)
        goto out;
    /* vips loads its optional modules (HEIF, JXL, ImageMagick, OpenSlide,
     * poppler) from $VIPSHOME at start. atelier accepts none of their
     * formats, so point VIPSHOME where there are none: no foreign code is
     * mapped, and the server starts 6 MiB smaller. The JPEG, PNG and WebP
     * loaders are built into libvips itself. */
    setenv("VIPSHOME", "/nonexistent/atelier-no-vips-modules", 1);
    if (VIPS_INIT(argv0 ? argv0 : "atelier") != 0) {
        log_error("image", "vips_init failed: %s", vips_error_buffer());
        rc = ERR_INTERNAL;
        goto out;
    }
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, image_log_handler, NULL);
    rc = image_allow_loaders();
    if (rc != 0)
        goto out;
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    image_ready = true;
out:
    vips_error_clear();
    return rc;
}

void image_shutdown(void)
{
    if (!image_ready)
        return;
    image_ready = false;
    vips_shutdown();
}

void image_thread_done(void)
{
    if (image_ready)
        vips_thread_shutdown();
}

/* The format the bytes say they are, from their magic number. */
static enum image_kind image_sniff(const uint8_t *p, size_t n)
{
    static const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (n >= sizeof jpeg && memcmp(p, jpeg, sizeof jpeg) == 0)
        return KIND_JPEG;
    if (n >= sizeof png && memcmp(p, png, sizeof png) == 0)
        return KIND_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return KIND_WEBP;
    return KIND_NONE;
}

/* The format a Content-Type names: the media type, case-insensitive,
 * optionally followed by parameters. */
static enum image_kind image_declared(const char *ct)
{
    if (!ct)
        return KIND_NONE;
    for (int k = KIND_JPEG; k < KIND_COUNT; k++) {
        size_t len = strlen(image_kinds[k].type);
        if (strncasecmp(ct, image_kinds[k].type, len) != 0)
            continue;
        if (ct[len] == '\0' || ct[len] == ';' || ct[len] == ' ')
            return (enum image_kind)k;
    }
    return KIND_NONE;
}

/* The factor libjpeg shrinks by on load, as vips_thumbnail 8.14 picks it:
 * it leaves at least 2x of the shrink to its own resampler. */
static uint64_t image_jpeg_shrink(int w, int h)
{
    int s = (w > h ? w : h) / LIMIT_PICTURE_EDGE;
    return s >= 16 ? 8 : s >= 8 ? 4 : s >= 4 ? 2 : 1;
}

/* Bytes of pixels the decoder produces for hdr: pixels (after JPEG
 * shrink-on-load) x bands x bytes per band. PNG and WebP decode every pixel
 * at full size, so their whole raster counts. */
static uint64_t image_decode_bytes(VipsImage *hdr, enum image_kind k)
{
    int w = vips_image_get_width(hdr), h = vips_image_get_height(hdr);
    uint64_t s = k == KIND_JPEG ? image_jpeg_shrink(w, h) : 1;
    uint64_t px = ((uint64_t)w + s - 1) / s * (((uint64_t)h + s - 1) / s);
    uint64_t band = vips_format_sizeof(vips_image_get_format(hdr));
    return px * (uint64_t)vips_image_get_bands(hdr) * (band ? band : 1);
}

/* Header only: the loader vips picks must be the expected one, and the
 * declared size must stay under the pixel limit. Nothing is decoded. */
static int image_check_header(const void *in, size_t n, enum image_kind k)
{
    int rc = ERR_INVALID;
    VipsImage *hdr = NULL;
    const char *loader = vips_foreign_find_load_buffer(in, n);
    if (!loader || strcmp(loader, image_kinds[k].loader) != 0) {
        rc = ERR_MEDIA_TYPE;
        goto out;
    }
    hdr = vips_image_new_from_buffer(in, n, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                     VIPS_FAIL_ON_ERROR, NULL);
    if (!hdr)
        goto out;
    uint64_t pixels = (uint64_t)vips_image_get_width(hdr) * (uint64_t)vips_image_get_height(hdr);
    rc = pixels > LIMIT_IMAGE_PIXELS || image_decode_bytes(hdr, k) > LIMIT_IMAGE_DECODE_BYTES
             ? ERR_TOO_LARGE
             : 0;
out:
    if (hdr)
        g_object_unref(hdr);
    return rc;
}

/* Shrink-on-load thumbnail in sRGB, decoded completely into memory so a
 * truncated or corrupt file fails here rather than in the saver. */
static int image_thumbnail(const void *in, size_t n, VipsImage **mem)
{
    int rc = ERR_INVALID;
    VipsImage *th = NULL;
    if (vips_thumbnail_buffer((void *)in, n, &th, LIMIT_PICTURE_EDGE, "height", LIMIT_PICTURE_EDGE,
                              "size", VIPS_SIZE_DOWN, "option_string", "fail_on=error",
                              "export_profile", "srgb", NULL) != 0)
        goto out;
    *mem = vips_image_copy_memory(th);
    if (*mem)
        rc = 0;
out:
    if (th)
        g_object_unref(th);
    return rc;
}

/* 16-bit pixels (e.g. from a 16-bit PNG) become 8-bit sRGB or grey. */
static int image_to_8bit(VipsImage **img)
{
    int rc = 0;
    VipsImage *t = NULL, *m = NULL;
    if (vips_image_get_format(*img) == VIPS_FORMAT_UCHAR)
        goto out;
    VipsInterpretation to =
        vips_image_get_bands(*img) < 3 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    if (vips_colourspace(*img, &t, to, NULL) != 0 || !(m = vips_image_copy_memory(t))) {
        rc = ERR_INTERNAL;
        goto out;
    }
    g_object_unref(*img);
    *img = m;
out:
    if (t)
        g_object_unref(t);
    return rc;
}

/* PNG when there is an alpha band, JPEG otherwise; both without metadata. */
static int image_encode(VipsImage *img, void **buf, size_t *len, const char **type)
{
    int r;
    if (vips_image_hasalpha(img)) {
        *type = "image/png";
        r = vips_pngsave_buffer(img, buf, len, "strip", TRUE, "compression", 6, NULL);
    } else {
        *type = "image/jpeg";
        r = vips_jpegsave_buffer(img, buf, len, "strip", TRUE, "Q", 85, "optimize_coding", TRUE,
                                 NULL);
    }
    return r == 0 && *buf && *len > 0 ? 0 : ERR_INTERNAL;
}

static uint32_t image_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Copy a PNG written by vips without its pHYs chunk (the resolution vips
 * writes even with strip). Every other chunk is copied as it is; a chunk
 * that runs past the end (never from vips) is an internal error. */
static size_t image_png_strip(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 8, i = 8;
    memcpy(out, in, 8);
    while (i + 12 <= n) {
        uint32_t len = image_be32(in + i);
        if (len > n - i - 12)
            return 0;
        if (memcmp(in + i + 4, "pHYs", 4) != 0) {
            memcpy(out + o, in + i, (size_t)len + 12);
            o += (size_t)len + 12;
        }
        i += (size_t)len + 12;
    }
    return i == n ? o : 0;
}

static int image_copy_out(const void *buf, size_t len, const char *type, uint8_t **out,
                          size_t *outn)
{
    uint8_t *p = malloc(len);
    size_t n = len;
    if (!p)
        return ERR_NOMEM;
    if (strcmp(type, "image/png") == 0)
        n = image_png_strip(buf, len, p);
    else
        memcpy(p, buf, len);
    if (n == 0) {
        free(p);
        return ERR_INTERNAL;
    }
    *out = p;
    *outn = n;
    return 0;
}

/* The client's message for rc, in the voice of docs/API.md ("How errors
 * read"): limits in units people read, nothing of the library. */
_Static_assert(LIMIT_IMAGE_PIXELS % 1000000 == 0, "the image message says whole megapixels");

static void image_message(int rc, char *msg, size_t msgn)
{
    char file[32], decoded[32];

    if (!msg || msgn == 0)
        return;
    switch (rc) {
    case ERR_MEDIA_TYPE:
        snprintf(msg, msgn, "the file is not a JPEG, PNG or WebP image of the declared type");
        break;
    case ERR_TOO_LARGE:
        snprintf(msg, msgn,
                 "the image is too large: at most %llu megapixels, a file of %s and %s of "
                 "decoded pixels are accepted; send a smaller image",
                 (unsigned long long)(LIMIT_IMAGE_PIXELS / 1000000),
                 util_size_text(LIMIT_IMAGE_BODY, file, sizeof file),
                 util_size_text(LIMIT_IMAGE_DECODE_BYTES, decoded, sizeof decoded));
        break;
    case ERR_INVALID:
        snprintf(msg, msgn, "the image is truncated or corrupt");
        break;
    case ERR_NOMEM:
        snprintf(msg, msgn, "the server is short of memory; try again later");
        break;
    default:
        snprintf(msg, msgn, "the image could not be processed");
        break;
    }
}

static void image_log_failure(int rc)
{
    char *text = vips_error_buffer_copy(); /* takes the lock, clears the buffer */
    enum log_level l = rc == ERR_INTERNAL ? LOG_ERROR : LOG_DEBUG;
    log_msg(l, "image", "sanitise failed (%d): %s", rc, text && *text ? text : "no vips error");
    g_free(text);
}

static int image_check_args(const void *in, size_t n, uint8_t **out, size_t *outn,
                            const char **out_type, int *w, int *h)
{
    if (!out || !outn || !out_type || !w || !h || (!in && n > 0))
        return ERR_INTERNAL;
    *out = NULL;
    *outn = 0;
    *out_type = NULL;
    *w = 0;
    *h = 0;
    if (!image_ready)
        return ERR_INTERNAL;
    return n > LIMIT_IMAGE_BODY ? ERR_TOO_LARGE : 0;
}

int image_sanitize(const void *in, size_t n, const char *content_type, uint8_t **out, size_t *outn,
                   const char **out_type, int *w, int *h, char *msg, size_t msgn)
{
    VipsImage *mem = NULL;
    void *buf = NULL;
    size_t len = 0;
    const char *type = NULL;
    int rc = image_check_args(in, n, out, outn, out_type, w, h);
    if (rc != 0)
        goto out;
    enum image_kind k = image_sniff(in, n);
    if (k == KIND_NONE || k != image_declared(content_type)) {
        rc = ERR_MEDIA_TYPE;
        goto out;
    }
    if ((rc = image_check_header(in, n, k)) != 0 || (rc = image_thumbnail(in, n, &mem)) != 0 ||
        (rc = image_to_8bit(&mem)) != 0 || (rc = image_encode(mem, &buf, &len, &type)) != 0 ||
        (rc = image_copy_out(buf, len, type, out, outn)) != 0)
        goto out;
    *out_type = type;
    *w = vips_image_get_width(mem);
    *h = vips_image_get_height(mem);
out:
    g_free(buf);
    if (mem)
        g_object_unref(mem);
    if (rc != 0) {
        image_log_failure(rc);
        image_message(rc, msg, msgn);
    }
    vips_error_clear();
    return rc;
}
