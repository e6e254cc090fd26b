/*
 * test_randombytes.c - see test_randombytes.h. Invariant: the same seed
 * gives the same byte stream on every machine (ChaCha20, IETF-free 64-bit
 * nonce variant, nonce 0, block counter from 0).
 */
#include <sodium.h>
#include <string.h>

#include "test_randombytes.h"

static unsigned char trb_key[crypto_stream_chacha20_KEYBYTES];
static unsigned char trb_pool[64];
static size_t trb_pos = sizeof trb_pool;
static uint64_t trb_block, trb_used;

void test_randombytes_seed(uint64_t seed)
{
    memset(trb_key, 0, sizeof trb_key);
    for (int i = 0; i < 8; i++)
        trb_key[i] = (unsigned char)(seed >> (8 * i));
    trb_block = 0;
    trb_used = 0;
    trb_pos = sizeof trb_pool;
}

uint64_t test_randombytes_used(void)
{
    return trb_used;
}

static void trb_buf(void *const buf, const size_t size)
{
    static const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
    unsigned char *out = buf;

    for (size_t i = 0; i < size; i++) {
        if (trb_pos == sizeof trb_pool) {
            memset(trb_pool, 0, sizeof trb_pool);
            crypto_stream_chacha20_xor_ic(trb_pool, trb_pool, sizeof trb_pool, nonce, trb_block++,
                                          trb_key);
            trb_pos = 0;
        }
        out[i] = trb_pool[trb_pos++];
    }
    trb_used += size;
}

static uint32_t trb_random(void)
{
    uint32_t v;

    trb_buf(&v, sizeof v);
    return v;
}

static const char *trb_name(void)
{
    return "atelier-test-chacha20";
}

static struct randombytes_implementation trb_impl = {
    .implementation_name = trb_name,
    .random = trb_random,
    .stir = NULL,
    .uniform = NULL,
    .buf = trb_buf,
    .close = NULL,
};

int test_randombytes_install(uint64_t seed)
{
    test_randombytes_seed(seed);
    return randombytes_set_implementation(&trb_impl) == 0 ? 0 : -1;
}
