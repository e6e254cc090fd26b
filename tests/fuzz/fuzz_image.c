/*
 * fuzz_image.c - libFuzzer harness for image_sanitize.
 *
 * The declared type comes from the first byte (data[0] % 3: 0 jpeg, 1 webp,
 * 2 png), so the seed corpus lands on the right type: 0xFF % 3 == 0,
 * 'R' % 3 == 1, 0x89 % 3 == 2, while mutations also exercise mismatches.
 * Every outcome is fine except a crash, a leak or a sanitizer report; a
 * success must give a non-empty picture no larger than LIMIT_PICTURE_EDGE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "privacy/image.h"
#include "base/policy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    if (image_init(argv && *argv ? (*argv)[0] : "fuzz_image") != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[3] = {"image/jpeg", "image/webp", "image/png"};
    const char *type = types[size > 0 ? data[0] % 3 : 0];
    uint8_t *out = NULL;
    size_t outn = 0;
    const char *out_type = NULL;
    int w = 0, h = 0;
    char msg[256];
    int rc = image_sanitize(data, size, type, &out, &outn, &out_type, &w, &h, msg, sizeof msg);
    if (rc == 0 && (!out || outn == 0 || !out_type || w < 1 || h < 1 || w > LIMIT_PICTURE_EDGE ||
                    h > LIMIT_PICTURE_EDGE))
        __builtin_trap();
    free(out);
    return 0;
}
