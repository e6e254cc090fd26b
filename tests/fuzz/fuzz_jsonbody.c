/*
 * fuzz_jsonbody.c - libFuzzer harness for jsonbody_parse (src/http/jsonbody.h).
 *
 * Besides "no crash, no leak, no UB", it checks the parser's contract:
 *   - failure: ERR_BAD_REQUEST, *out NULL, a NUL-terminated non-empty message;
 *   - success: *out is an object no deeper than LIMIT_JSON_DEPTH, and its
 *     compact serialisation parses again through jsonbody_parse to an equal
 *     value (what the server accepts, it can also produce and re-read).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "http/jsonbody.h"
#include "base/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_jsonbody: invariant failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Nesting depth of a value: scalars 0, containers 1 + deepest child. */
static int depth_of(json_t *v)
{
    int deepest = 0;

    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            int d = depth_of(child);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            int d = depth_of(child);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

static void check_message(const char *msg, size_t size)
{
    const char *end = memchr(msg, '\0', size);
    CHECK(end != NULL);
    CHECK(end > msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = (json_t *)&out; /* poison: must be reset by the parser */
    char msg[256];

    memset(msg, 'x', sizeof msg);
    int rc = jsonbody_parse(data, size, &out, msg, sizeof msg);
    if (rc != 0) {
        CHECK(rc == ERR_BAD_REQUEST);
        CHECK(out == NULL);
        check_message(msg, sizeof msg);
        return 0;
    }

    CHECK(out != NULL);
    CHECK(json_is_object(out));
    CHECK(depth_of(out) <= LIMIT_JSON_DEPTH);

    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(text != NULL);

    json_t *again = (json_t *)&again;
    char msg2[256];
    int rc2 = jsonbody_parse(text, strlen(text), &again, msg2, sizeof msg2);
    if (rc2 != 0)
        fprintf(stderr, "fuzz_jsonbody: re-parse of %s failed: %s\n", text, msg2);
    CHECK(rc2 == 0);
    CHECK(again != NULL);
    CHECK(json_equal(out, again));

    /* The serialisation is a fixed point. */
    char *text2 = json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(text2 != NULL);
    CHECK(strcmp(text, text2) == 0);

    free(text2);
    free(text);
    json_decref(again);
    json_decref(out);
    return 0;
}
