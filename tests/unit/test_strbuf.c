/*
 * test_strbuf.c - the one growable buffer: growth, the bound given at
 * creation, size overflow, sticky failure, reset and take, printf, fixed
 * decimals; and its escapers: JSON compared byte for byte with jansson's
 * json_dumps on valid UTF-8 (and round-tripped through jansson on random
 * bytes), the U+FFFD rule for ill-formed UTF-8 (maximal subparts, as
 * Python's decode('utf-8', 'replace') gives them), XML and Prometheus
 * label values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"

#define FFFD "\xef\xbf\xbd"

/* ASan aborts on an allocation it cannot serve instead of returning NULL. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* The text of b, checked for its invariants (p[len] == 0). */
static const char *text_of(const struct strbuf *b)
{
    if (!b->p) {
        assert_int_equal(b->len, 0);
        return "";
    }
    assert_true(b->len < b->cap);
    assert_int_equal(b->p[b->len], '\0');
    return b->p;
}

/* ---- the buffer ---- */

static void test_empty_take(void **state)
{
    struct strbuf b = STRBUF_INIT(16);
    char *out = NULL;
    size_t n = 99;
    (void)state;

    assert_int_equal(strbuf_take(&b, &out, &n), ERR_OK);
    assert_non_null(out);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    free(out);
    assert_null(b.p);
    assert_int_equal(b.max, 16); /* reusable with its bound */
    strbuf_puts(&b, "again");
    assert_int_equal(strbuf_take(&b, &out, NULL), ERR_OK);
    assert_string_equal(out, "again");
    free(out);
}

static void test_grow(void **state)
{
    struct strbuf b = STRBUF_INIT(100000);
    char chunk[37];
    char *out;
    size_t n;
    (void)state;

    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (int i = 0; i < 1000; i++) {
        strbuf_put(&b, chunk, sizeof chunk);
        strbuf_putc(&b, '|');
    }
    assert_int_equal(strbuf_err(&b), ERR_OK);
    assert_int_equal(strbuf_len(&b), 1000 * (sizeof chunk + 1));
    assert_int_equal(strlen(text_of(&b)), strbuf_len(&b));
    assert_true(b.cap <= b.max + 1);
    for (int i = 0; i < 1000; i++) {
        const char *p = b.p + (size_t)i * (sizeof chunk + 1);
        assert_memory_equal(p, chunk, sizeof chunk);
        assert_int_equal(p[sizeof chunk], '|');
    }
    assert_int_equal(strbuf_take(&b, &out, &n), ERR_OK);
    assert_int_equal(n, 1000 * (sizeof chunk + 1));
    free(out);
}

/* After strbuf_reserve(n), n bytes of appends never move the text. */
static void test_reserve_no_realloc(void **state)
{
    struct strbuf b = STRBUF_INIT(1 << 20);
    const char *p;
    (void)state;

    assert_int_equal(strbuf_reserve(&b, 5000), ERR_OK);
    p = b.p;
    for (int i = 0; i < 5000; i++)
        strbuf_putc(&b, 'x');
    assert_ptr_equal(b.p, p);
    strbuf_reset(&b);
    assert_int_equal(strbuf_len(&b), 0);
    assert_string_equal(text_of(&b), "");
    for (int i = 0; i < 2500; i++)
        strbuf_put(&b, "yz", 2);
    assert_ptr_equal(b.p, p); /* reset keeps the allocation */
    assert_int_equal(strbuf_len(&b), 5000);
    strbuf_release(&b);
    assert_null(b.p);
}

static void test_bound_exact(void **state)
{
    struct strbuf b = STRBUF_INIT(10);
    char *out = (char *)"untouched";
    (void)state;

    strbuf_puts(&b, "0123456789"); /* exactly the bound */
    assert_int_equal(strbuf_err(&b), ERR_OK);
    assert_string_equal(text_of(&b), "0123456789");
    assert_true(b.cap <= 11);
    strbuf_puts(&b, ""); /* nothing more: still fine */
    assert_int_equal(strbuf_err(&b), ERR_OK);
    strbuf_putc(&b, 'X'); /* one past */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    assert_null(b.p);
    assert_int_equal(strbuf_len(&b), 0);
    assert_int_equal(strbuf_take(&b, &out, NULL), ERR_TOO_LARGE);
    assert_string_equal(out, "untouched");
    /* take starts over */
    strbuf_puts(&b, "ok");
    assert_int_equal(strbuf_take(&b, &out, NULL), ERR_OK);
    assert_string_equal(out, "ok");
    free(out);
}

static void test_bound_reserve(void **state)
{
    struct strbuf b = STRBUF_INIT(64);
    (void)state;

    assert_int_equal(strbuf_reserve(&b, 64), ERR_OK);
    assert_true(b.cap == 65);
    assert_int_equal(strbuf_reserve(&b, 65), ERR_TOO_LARGE);
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_release(&b);
    assert_int_equal(strbuf_err(&b), ERR_OK);
}

/* Once failed, nothing is appended, whatever would fit, until reset. */
static void test_sticky(void **state)
{
    struct strbuf b = STRBUF_INIT(8);
    (void)state;

    strbuf_puts(&b, "abc");
    strbuf_puts(&b, "defghij"); /* 10 > 8 */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_putc(&b, 'k');
    strbuf_put(&b, "lm", 2);
    strbuf_printf(&b, "%d", 7);
    strbuf_fixed(&b, 1.5, 2);
    strbuf_number(&b, 3);
    strbuf_json_string(&b, "s");
    strbuf_xml(&b, "x");
    strbuf_prom_label(&b, "p");
    assert_int_equal(strbuf_len(&b), 0);
    assert_null(b.p);
    assert_int_equal(strbuf_reserve(&b, 1), ERR_TOO_LARGE);
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_reset(&b);
    assert_int_equal(strbuf_err(&b), ERR_OK);
    strbuf_puts(&b, "again");
    assert_string_equal(text_of(&b), "again");
    strbuf_release(&b);
}

/* Sizes that would wrap size_t fail cleanly; so does an allocation the
 * system refuses (glibc refuses more than PTRDIFF_MAX bytes). */
static void test_overflow(void **state)
{
    struct strbuf b = STRBUF_INIT(SIZE_MAX);
    char c = 'x';
    volatile size_t huge = SIZE_MAX; /* not a constant the compiler could check */
    (void)state;

    strbuf_puts(&b, "abc");
    strbuf_put(&b, &c, huge); /* never read: the size is refused */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_reset(&b);
    strbuf_puts(&b, "abc");
    strbuf_put(&b, &c, huge - 2); /* len + n + 1 wraps to 0 */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_reset(&b);
    assert_int_equal(strbuf_reserve(&b, SIZE_MAX / 2 + 1), ERR_TOO_LARGE);
#if !defined(UNDER_ASAN)
    strbuf_reset(&b);
    assert_int_equal(strbuf_reserve(&b, SIZE_MAX / 2), ERR_NOMEM);
    assert_null(b.p);
#endif
    strbuf_release(&b);
}

static void test_zero_init_default_bound(void **state)
{
    struct strbuf b = {0};
    (void)state;

    strbuf_puts(&b, "works");
    assert_string_equal(text_of(&b), "works");
    /* bounded all the same (LIMIT_STRBUF_DEFAULT), and refuses past it */
    assert_int_equal(strbuf_reserve(&b, SIZE_MAX / 4), ERR_TOO_LARGE);
    strbuf_release(&b);
}

static void test_printf(void **state)
{
    struct strbuf b = STRBUF_INIT(4096);
    char big[1001];
    size_t room;
    (void)state;

    strbuf_printf(&b, "%s=%d;%05.1f|%c", "k", -42, 3.5, 'z');
    assert_string_equal(text_of(&b), "k=-42;003.5|z");
    strbuf_reset(&b);

    /* exactly the room left, then one more: the retry path */
    assert_int_equal(strbuf_reserve(&b, 10), ERR_OK);
    room = b.cap - b.len - 1;
    memset(big, 'a', room);
    big[room] = 0;
    strbuf_printf(&b, "%s", big);
    assert_int_equal(strbuf_len(&b), room);
    strbuf_printf(&b, "%s", "bc");
    assert_int_equal(strbuf_len(&b), room + 2);
    assert_int_equal(b.p[room], 'b');
    assert_int_equal(b.p[room + 1], 'c');
    assert_int_equal(strlen(text_of(&b)), room + 2);
    strbuf_reset(&b);

    memset(big, 'q', 1000);
    big[1000] = 0;
    strbuf_puts(&b, "<");
    strbuf_printf(&b, "%s>%s", big, big);
    assert_int_equal(strbuf_len(&b), 2002);
    assert_int_equal(b.p[1001], '>');
    assert_int_equal(b.p[2001], 'q');
    strbuf_printf(&b, "%s%s%s", big, big, big); /* 5002 > 4096 */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_release(&b);
}

/* ---- numbers ---- */

static void check_fixed(double v, unsigned decimals, const char *want)
{
    struct strbuf b = STRBUF_INIT(64);

    strbuf_fixed(&b, v, decimals);
    assert_int_equal(strbuf_err(&b), ERR_OK);
    if (strcmp(text_of(&b), want) != 0)
        fail_msg("strbuf_fixed(%.17g, %u) = \"%s\", want \"%s\"", v, decimals, b.p, want);
    strbuf_release(&b);
}

static void test_fixed(void **state)
{
    (void)state;
    check_fixed(0.0, 2, "0");
    check_fixed(-0.0, 2, "0");
    check_fixed(12.5, 2, "12.5");
    check_fixed(-3.0, 2, "-3");
    check_fixed(0.125, 2, "0.13"); /* half away from zero */
    check_fixed(-0.125, 2, "-0.13");
    check_fixed(0.004, 2, "0");
    check_fixed(-0.004, 2, "0"); /* no "-0" */
    check_fixed(0.05, 2, "0.05");
    check_fixed(100.01, 2, "100.01");
    check_fixed(2.0625, 3, "2.063");
    check_fixed(2.5, 0, "3");
    check_fixed(-2.5, 0, "-3");
    check_fixed(1.23456, 7, "1.235"); /* at most 3 decimals */
    check_fixed(1e15, 2, "1000000000000000");
    check_fixed(-1e15, 3, "-1000000000000000");
    check_fixed(1e15 * 1.01, 2, "0");
    check_fixed(NAN, 2, "0");
    check_fixed(-INFINITY, 2, "0");
}

/* Every value of a grid, read back, is v rounded to 2 decimals, written
 * without trailing zeros. */
static void test_fixed_grid(void **state)
{
    struct strbuf b = STRBUF_INIT(64);
    (void)state;

    for (int i = -30000; i <= 30000; i++) {
        double v = i * 0.0370001;
        const char *s, *dot;
        double back;

        strbuf_reset(&b);
        strbuf_fixed(&b, v, 2);
        s = text_of(&b);
        back = strtod(s, NULL);
        assert_true(fabs(back - v) <= 0.005 + 1e-9);
        dot = strchr(s, '.');
        if (dot) {
            assert_in_range(strlen(dot + 1), 1, 2);
            assert_true(s[strlen(s) - 1] != '0');
        }
        assert_true(strcmp(s, "-0") != 0);
    }
    strbuf_release(&b);
}

static void test_number(void **state)
{
    struct strbuf b = STRBUF_INIT(256);
    (void)state;

    strbuf_number(&b, 3);
    strbuf_putc(&b, ' ');
    strbuf_number(&b, -2.5);
    strbuf_putc(&b, ' ');
    strbuf_number(&b, NAN);
    strbuf_putc(&b, ' ');
    strbuf_number(&b, 1e20);
    assert_string_equal(text_of(&b), "3 -2.5 0 1e+20");
    strbuf_release(&b);
}

/* ---- JSON ---- */

/* s[0..n) escaped by strbuf (malloc'd). */
static char *json_ours(const char *s, size_t n)
{
    struct strbuf b = STRBUF_INIT(1 << 20);
    char *out = NULL;

    strbuf_json_stringn(&b, s, n);
    assert_int_equal(strbuf_take(&b, &out, NULL), ERR_OK);
    return out;
}

/* s[0..n) as jansson writes it, or NULL when jansson refuses it. */
static char *json_jansson(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *out;

    if (!j)
        return NULL;
    out = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(out);
    return out;
}

static void check_same_as_jansson(const char *s, size_t n)
{
    char *ours = json_ours(s, n), *theirs = json_jansson(s, n);

    assert_non_null(theirs);
    if (strcmp(ours, theirs) != 0)
        fail_msg("strbuf %s, jansson %s", ours, theirs);
    free(ours);
    free(theirs);
}

static void test_json_as_jansson(void **state)
{
    static const char *const cases[] = {
        "",
        "plain text",
        "quote\" backslash\\ slash/ </script>",
        "\b\f\n\r\t",
        "\x7f",
        "caf\xc3\xa9",                                /* 2 bytes */
        "\xe2\x82\xac 10",                            /* 3 bytes */
        "\xf0\x9f\x98\x80",                           /* 4 bytes */
        "\xef\xbf\xbd \xef\xbf\xbe \xef\xbf\xbf",     /* U+FFFD, U+FFFE, U+FFFF */
        "\xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80", /* U+10FFFF, U+D7FF, U+E000 */
        "\xc2\x80\xc2\x9f",                           /* C1 controls stay */
        "mixed \"\xc3\xa9\"\n\x01/\\",
    };
    char controls[32];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_same_as_jansson(cases[i], strlen(cases[i]));
    for (int c = 1; c < 32; c++)
        controls[c - 1] = (char)c;
    check_same_as_jansson(controls, 31);
    check_same_as_jansson("a\0b", 3); /* NUL, through the n-byte form */
    check_same_as_jansson("\0", 1);
}

/* Each maximal ill-formed subpart is one U+FFFD (expected values from
 * Python's bytes.decode('utf-8', 'replace')). */
static void test_json_invalid_utf8(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\xff", "\"" FFFD "\""},
        {"a\x80"
         "b",
         "\"a" FFFD "b\""},
        {"\xc0\xaf", "\"" FFFD FFFD "\""},                   /* overlong / */
        {"\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\""},          /* overlong, 3 bytes */
        {"\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\""}, /* overlong, 4 bytes */
        {"\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""},          /* surrogate D800 */
        {"\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""}, /* above U+10FFFF */
        {"\xf5\x80", "\"" FFFD FFFD "\""},
        {"\xc3", "\"" FFFD "\""}, /* cut at the end */
        {"\xe2\x82", "\"" FFFD "\""},
        {"\xe0\xa0", "\"" FFFD "\""},
        {"\xf0\x9f\x98", "\"" FFFD "\""},
        {"\xe2\x82"
         "A",
         "\"" FFFD "A\""}, /* cut in the middle */
        {"\xf0\x9f\x98"
         "A\n",
         "\"" FFFD "A\\n\""},
        {"ok\xc3\xa9\xff\xc3\xa9", "\"ok\xc3\xa9" FFFD "\xc3\xa9\""},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *ours = json_ours(cases[i].in, strlen(cases[i].in));
        char *theirs = json_jansson(cases[i].in, strlen(cases[i].in));
        if (strcmp(ours, cases[i].want) != 0)
            fail_msg("case %zu: got %s", i, ours);
        assert_null(theirs); /* jansson refuses these strings */
        free(ours);
    }
}

/* Random bytes: where jansson accepts the string, the same text; always
 * a JSON string jansson parses and writes back unchanged. */
static void test_json_random(void **state)
{
    static const unsigned char pool[] = {0x00, 0x01, 0x0a, 0x1f, ' ',  '"',  '\\', '/',  'a',
                                         0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xc3, 0xdf,
                                         0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t same = 0;
    (void)state;

    for (int round = 0; round < 20000; round++) {
        char s[12];
        size_t n;

        x = x * 6364136223846793005ull + 1442695040888963407ull;
        n = (size_t)(x >> 60) % sizeof s;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            s[i] = (char)pool[(x >> 33) % sizeof pool];
        }
        char *ours = json_ours(s, n), *theirs = json_jansson(s, n);
        if (theirs) {
            assert_string_equal(ours, theirs);
            same++;
        }
        json_t *back = json_loads(ours, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_non_null(back);
        char *again = json_dumps(back, JSON_ENCODE_ANY);
        assert_string_equal(again, ours);
        free(again);
        json_decref(back);
        free(ours);
        free(theirs);
    }
    assert_true(same > 1000); /* both kinds of input were seen */
    assert_true(same < 19000);
}

static void test_json_bounded(void **state)
{
    struct strbuf b = STRBUF_INIT(8);
    (void)state;

    strbuf_json_string(&b, "\x01\x02"); /* 14 bytes escaped */
    assert_int_equal(strbuf_err(&b), ERR_TOO_LARGE);
    strbuf_reset(&b);
    strbuf_json_string(&b, "\x01"); /* "\u0001" is 8 */
    assert_int_equal(strbuf_err(&b), ERR_OK);
    assert_string_equal(text_of(&b), "\"\\u0001\"");
    strbuf_release(&b);
}

/* ---- XML and Prometheus ---- */

static void check_escape(void (*esc)(struct strbuf *, const char *), const char *in,
                         const char *want)
{
    struct strbuf b = STRBUF_INIT(1024);

    esc(&b, in);
    assert_int_equal(strbuf_err(&b), ERR_OK);
    if (strcmp(text_of(&b), want) != 0)
        fail_msg("escaping \"%s\": got \"%s\", want \"%s\"", in, b.p, want);
    strbuf_release(&b);
}

static void test_xml(void **state)
{
    (void)state;
    check_escape(strbuf_xml, "", "");
    check_escape(strbuf_xml, "plain", "plain");
    check_escape(strbuf_xml, "<a href=\"x\">Ann's & Bob's</a>",
                 "&lt;a href=&quot;x&quot;&gt;Ann&#39;s &amp; Bob&#39;s&lt;/a&gt;");
    check_escape(strbuf_xml, "a\tb\nc\rd", "a&#9;b&#10;c&#13;d");
    check_escape(strbuf_xml, "\x01\x08\x0b\x0c\x0e\x1f|", FFFD FFFD FFFD FFFD FFFD FFFD "|");
    check_escape(strbuf_xml, "\x7f", "\x7f");
    check_escape(strbuf_xml, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check_escape(strbuf_xml, "\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd", FFFD FFFD FFFD);
    check_escape(strbuf_xml, "\xff<", FFFD "&lt;");
    check_escape(strbuf_xml, "\xed\xa0\x80", FFFD FFFD FFFD);
    check_escape(strbuf_xml, "end\xe2\x82", "end" FFFD);
}

static void test_prom_label(void **state)
{
    (void)state;
    check_escape(strbuf_prom_label, "", "\"\"");
    check_escape(strbuf_prom_label, "/v1/models/{id}", "\"/v1/models/{id}\"");
    check_escape(strbuf_prom_label, "a\\b\"c\nd", "\"a\\\\b\\\"c\\nd\"");
    check_escape(strbuf_prom_label, "\\\\", "\"\\\\\\\\\"");
    check_escape(strbuf_prom_label, "tab\there\r", "\"tab\there\r\"");
    check_escape(strbuf_prom_label, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
    check_escape(strbuf_prom_label, "\xc3\n\xf0\x9f\x98", "\"" FFFD "\\n" FFFD "\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_take),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_reserve_no_realloc),
        cmocka_unit_test(test_bound_exact),
        cmocka_unit_test(test_bound_reserve),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_zero_init_default_bound),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_fixed_grid),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_json_as_jansson),
        cmocka_unit_test(test_json_invalid_utf8),
        cmocka_unit_test(test_json_random),
        cmocka_unit_test(test_json_bounded),
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_prom_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
