/*
 * test_accesslog.c - unit tests of the visitor log (SPEC section 1): the
 * exact line format and key set, one file per UTC day with mode 0600, the
 * operator's query filters, retention pruning at the 183-day boundary, the
 * bounded queue dropping instead of blocking, and recovery after write errors.
 * Every test works in its own directory under $ATELIER_TEST_TMP (or /tmp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "obs/accesslog.h"
#include "obs/accesslog_internal.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RID_A "0123456789abcdef0123456789abcdef"
#define RID_B "fedcba9876543210fedcba9876543210"
#define RID_C "cccccccccccccccccccccccccccccccc"

/* ---- helpers ---- */

static void tmpdir_make(char *out, size_t n)
{
    const char *base = getenv("ATELIER_TEST_TMP");

    if (!base || !*base)
        base = "/tmp";
    if (mkdir(base, 0700) != 0)
        assert_int_equal(errno, EEXIST);
    assert_true((size_t)snprintf(out, n, "%s/accesslog-XXXXXX", base) < n);
    assert_non_null(mkdtemp(out));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmpdir_remove(const char *dir)
{
    assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void path_join(char *out, size_t n, const char *dir, const char *name)
{
    assert_true((size_t)snprintf(out, n, "%s/%s", dir, name) < n);
}

static char *file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = 0;
    fclose(f);
    return buf;
}

static void file_write(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    path_join(path, sizeof path, dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static bool file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    path_join(path, sizeof path, dir, name);
    return lstat(path, &st) == 0;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int64_t ms_of(const char *rfc3339)
{
    int64_t ms = 0;

    assert_int_equal(clock_parse_rfc3339(rfc3339, &ms), ERR_OK);
    return ms;
}

static void log_name(int64_t ms, char name[32])
{
    char day[11];

    assert_int_equal(clock_format_date(ms, day), ERR_OK);
    snprintf(name, 32, "access-%s.jsonl", day);
}

static struct accesslog_entry entry(int64_t ms, const char *ip, const char *method,
                                    const char *route, unsigned status, double dur, const char *rid)
{
    struct accesslog_entry e;

    memset(&e, 0, sizeof e);
    e.time_ms = ms;
    snprintf(e.ip, sizeof e.ip, "%s", ip);
    snprintf(e.method, sizeof e.method, "%s", method);
    e.route = route;
    e.status = status;
    e.duration_ms = dur;
    snprintf(e.request_id, sizeof e.request_id, "%s", rid);
    return e;
}

/* Every line of text is a JSON object with exactly the seven keys. */
static void check_key_set(const char *text)
{
    static const char *const keys[] = {"time",   "ip",          "method",    "route",
                                       "status", "duration_ms", "request_id"};
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        json_error_t jerr;
        json_t *o;

        assert_non_null(nl);
        o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &jerr);
        assert_non_null(o);
        assert_true(json_is_object(o));
        assert_int_equal(json_object_size(o), 7);
        for (size_t i = 0; i < 7; i++)
            assert_non_null(json_object_get(o, keys[i]));
        assert_true(json_is_string(json_object_get(o, "time")));
        assert_true(json_is_integer(json_object_get(o, "status")));
        assert_true(json_is_real(json_object_get(o, "duration_ms")));
        json_decref(o);
        p = nl + 1;
    }
}

static void check_mode(const char *path, mode_t mode)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, mode);
}

/* Run a query into a string; returns the count, *text the output. */
static long query(const char *dir, const char *ip, int64_t since, const char *rid, char **text)
{
    size_t size = 0;
    FILE *f = open_memstream(text, &size);
    long n;

    assert_non_null(f);
    n = accesslog_query(dir, ip, since, rid, f);
    assert_int_equal(fclose(f), 0);
    return n;
}

/* ---- tests ---- */

static void test_write_two_days(void **state)
{
    char tmp[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
    char *text, *out = NULL;
    struct accesslog_entry e;
    (void)state;

    tmpdir_make(tmp, sizeof tmp);
    path_join(dir, sizeof dir, tmp, "logs"); /* missing: created 0700 */
    assert_int_equal(accesslog_start(dir), ERR_OK);
    check_mode(dir, 0700);

    clock_set_ms(ms_of("2026-11-29T23:59:59.500Z"));
    e = entry(clock_now_ms(), "127.0.0.1", "GET", "/v1/models/{id}", 200, 0.214, RID_A);
    accesslog_write(&e);
    e = entry(clock_now_ms() + 499, "::1", "POST", "/v1/login", 401, 12.3456, RID_B);
    accesslog_write(&e);
    clock_set_ms(ms_of("2026-11-30T00:00:00.001Z"));
    e = entry(clock_now_ms(), "2001:db8::1", "DELETE", NULL, 404, 0, RID_C);
    accesslog_write(&e);
    accesslog_stop();
    clock_reset();
    assert_int_equal(accesslog_dropped(), 0);
    assert_int_equal(accesslog_write_errors(), 0);

    path_join(path, sizeof path, dir, "access-2026-11-29.jsonl");
    check_mode(path, 0600);
    text = file_read(path);
    assert_string_equal(
        text, "{\"time\":\"2026-11-29T23:59:59.500Z\",\"ip\":\"127.0.0.1\",\"method\":\"GET\","
              "\"route\":\"/v1/models/{id}\",\"status\":200,\"duration_ms\":0.214,"
              "\"request_id\":\"" RID_A "\"}\n"
              "{\"time\":\"2026-11-29T23:59:59.999Z\",\"ip\":\"::1\",\"method\":\"POST\","
              "\"route\":\"/v1/login\",\"status\":401,\"duration_ms\":12.346,"
              "\"request_id\":\"" RID_B "\"}\n");
    check_key_set(text);
    free(text);

    path_join(path, sizeof path, dir, "access-2026-11-30.jsonl");
    check_mode(path, 0600);
    text = file_read(path);
    assert_string_equal(
        text, "{\"time\":\"2026-11-30T00:00:00.001Z\",\"ip\":\"2001:db8::1\",\"method\":\"DELETE\","
              "\"route\":\"(unmatched)\",\"status\":404,\"duration_ms\":0.000,"
              "\"request_id\":\"" RID_C "\"}\n");
    check_key_set(text);

    /* The operator finds the line by its request id. */
    assert_int_equal(query(dir, NULL, 0, RID_C, &out), 1);
    assert_string_equal(out, text);
    free(out);
    free(text);
    tmpdir_remove(tmp);
}

static void test_append_and_escape(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], name[32];
    const char *route = "/odd\"q\\b\n\x01";
    int64_t t = ms_of("2026-06-01T12:00:00Z");
    struct accesslog_entry e;
    char want[128];
    char *text;
    json_t *o;
    (void)state;

    tmpdir_make(dir, sizeof dir);
    log_name(t, name);
    file_write(dir, name, "{\"earlier\":true}\n");

    assert_int_equal(accesslog_start(dir), ERR_OK);
    e = entry(t,
              "\xff"
              "1.2.3.4",
              "GET", route, 200, 1.0, RID_A);
    accesslog_write(&e);
    /* Unterminated arrays are cut, never over-read. */
    e = entry(t, "", "GET", "/", 200, -5.0, RID_A);
    memset(e.ip, '9', sizeof e.ip);
    memset(e.method, 'M', sizeof e.method);
    memset(e.request_id, 'f', sizeof e.request_id);
    accesslog_write(&e);
    accesslog_stop();

    path_join(path, sizeof path, dir, name);
    text = file_read(path);
    assert_int_equal(count_lines(text), 3);
    assert_memory_equal(text, "{\"earlier\":true}\n", 17); /* appended, not truncated */
    check_key_set(strchr(text, '\n') + 1);

    o = json_loads(strchr(text, '\n') + 1, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "route")), route);
    assert_string_equal(json_string_value(json_object_get(o, "ip")), "\xef\xbf\xbd"
                                                                     "1.2.3.4");
    json_decref(o);
    memset(want, 0, sizeof want);
    memcpy(want, "\"ip\":\"", 6);
    memset(want + 6, '9', sizeof e.ip - 1);
    want[6 + sizeof e.ip - 1] = '"';
    assert_non_null(strstr(text, want));
    memset(want, 0, sizeof want);
    memcpy(want, "\"method\":\"", 10);
    memset(want + 10, 'M', sizeof e.method - 1);
    want[10 + sizeof e.method - 1] = '"';
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "\"duration_ms\":0.000"));
    free(text);
    tmpdir_remove(dir);
}

static void test_query_filters(void **state)
{
    char dir[PATH_MAX];
    char *out = NULL;
    const char *a =
        "{\"time\":\"2026-11-28T10:00:00.000Z\",\"ip\":\"10.0.0.1\",\"method\":\"GET\","
        "\"route\":\"/\",\"status\":200,\"duration_ms\":1.000,\"request_id\":\"" RID_A "\"}\n";
    const char *b =
        "{\"time\":\"2026-11-29T08:00:00.000Z\",\"ip\":\"10.0.0.2\",\"method\":\"GET\","
        "\"route\":\"/\",\"status\":200,\"duration_ms\":1.000,\"request_id\":\"" RID_B "\"}\n";
    const char *c =
        "{\"time\":\"2026-11-29T09:00:00.000Z\",\"ip\":\"10.0.0.1\",\"method\":\"GET\","
        "\"route\":\"/\",\"status\":200,\"duration_ms\":1.000,\"request_id\":\"" RID_C "\"}\n";
    /* The last line of a file may lack its newline (a cut write). */
    const char *d = "{\"time\":\"2026-11-29T10:00:00.000Z\",\"ip\":\"2001:db8::1\",\"method\":"
                    "\"GET\",\"route\":\"/\",\"status\":200,\"duration_ms\":1.000,"
                    "\"request_id\":\"" RID_A "\"}";
    char buf[2048];
    (void)state;

    tmpdir_make(dir, sizeof dir);
    snprintf(buf, sizeof buf, "%snot json at all\n\n{\"time\":\"x\"}\n", a);
    file_write(dir, "access-2026-11-28.jsonl", buf);
    snprintf(buf, sizeof buf, "%s%s%s", b, c, d);
    file_write(dir, "access-2026-11-29.jsonl", buf);
    file_write(dir, "access-2026-11-27.jsonl.bak", a); /* not a log file */
    file_write(dir, "notes.txt", a);

    snprintf(buf, sizeof buf, "%s%s%s%s\n", a, b, c, d);
    assert_int_equal(query(dir, NULL, 0, NULL, &out), 4);
    assert_string_equal(out, buf);
    free(out);
    assert_int_equal(query(dir, "", 0, "", &out), 4);
    free(out);

    snprintf(buf, sizeof buf, "%s%s", a, c);
    assert_int_equal(query(dir, "10.0.0.1", 0, NULL, &out), 2);
    assert_string_equal(out, buf);
    free(out);

    /* Another spelling of the same IPv6 address. */
    snprintf(buf, sizeof buf, "%s\n", d);
    assert_int_equal(query(dir, "2001:DB8:0::1", 0, NULL, &out), 1);
    assert_string_equal(out, buf);
    free(out);

    snprintf(buf, sizeof buf, "%s%s\n", c, d);
    assert_int_equal(query(dir, NULL, ms_of("2026-11-29T08:30:00Z"), NULL, &out), 2);
    assert_string_equal(out, buf);
    free(out);

    /* since is inclusive, to the millisecond */
    snprintf(buf, sizeof buf, "%s%s%s\n", b, c, d);
    assert_int_equal(query(dir, NULL, ms_of("2026-11-29T08:00:00Z"), NULL, &out), 3);
    assert_string_equal(out, buf);
    free(out);
    assert_int_equal(query(dir, NULL, ms_of("2026-11-29T08:00:00.001Z"), NULL, &out), 2);
    free(out);

    assert_int_equal(query(dir, "10.0.0.1", ms_of("2026-11-29"), NULL, &out), 1);
    assert_string_equal(out, c);
    free(out);

    assert_int_equal(query(dir, NULL, 0, RID_B, &out), 1);
    assert_string_equal(out, b);
    free(out);

    snprintf(buf, sizeof buf, "%s%s\n", a, d);
    assert_int_equal(query(dir, NULL, 0, RID_A, &out), 2);
    assert_string_equal(out, buf);
    free(out);

    assert_int_equal(query(dir, "10.0.0.9", 0, NULL, &out), 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(query(dir, NULL, ms_of("2026-12-01"), NULL, &out), 0);
    free(out);

    tmpdir_remove(dir);
    assert_true(query(dir, NULL, 0, NULL, &out) < 0); /* no such directory */
    free(out);
}

static void test_prune_boundary(void **state)
{
    static const int back[] = {0,
                               1,
                               RETAIN_ACCESS_LOG_DAYS - 1,
                               RETAIN_ACCESS_LOG_DAYS,
                               RETAIN_ACCESS_LOG_DAYS + 1,
                               RETAIN_ACCESS_LOG_DAYS + 2,
                               400};
    static const char *const foreign[] = {"access-2020-01-01.jsonl.bak",
                                          "access-2020-1-01.jsonl",
                                          "access-2020-13-01.jsonl",
                                          "access-2021-02-29.jsonl",
                                          "Access-2020-01-01.jsonl",
                                          "access-2020-01-01.json",
                                          "other.txt"};
    char dir[PATH_MAX], path[PATH_MAX], names[7][32];
    int64_t now = ms_of("2026-11-29T12:00:00Z");
    int64_t day_start = ms_of("2026-11-29T00:00:00Z");
    int64_t day_end = ms_of("2026-11-29T23:59:59.999Z");
    int deleted = -1;
    (void)state;

    tmpdir_make(dir, sizeof dir);
    for (size_t i = 0; i < 7; i++) {
        log_name(now - back[i] * POLICY_DAY_MS, names[i]);
        file_write(dir, names[i], "{}\n");
    }
    for (size_t i = 0; i < 7; i++)
        file_write(dir, foreign[i], "{}\n");
    path_join(path, sizeof path, dir, "access-2000-01-01.jsonl");
    assert_int_equal(mkdir(path, 0700), 0); /* a directory with a log name stays */

    /* Dry runs count the three files past the retention, whatever the hour of today. */
    assert_int_equal(accesslog_prune(dir, now, RETAIN_ACCESS_LOG_DAYS, 1, &deleted), ERR_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(accesslog_prune(dir, day_start, RETAIN_ACCESS_LOG_DAYS, 1, &deleted), ERR_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(accesslog_prune(dir, day_end, RETAIN_ACCESS_LOG_DAYS, 1, &deleted), ERR_OK);
    assert_int_equal(deleted, 3);
    for (size_t i = 0; i < 7; i++)
        assert_true(file_exists(dir, names[i]));

    assert_int_equal(accesslog_prune(dir, now, RETAIN_ACCESS_LOG_DAYS, 0, &deleted), ERR_OK);
    assert_int_equal(deleted, 3);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(file_exists(dir, names[i]), back[i] <= RETAIN_ACCESS_LOG_DAYS);
    for (size_t i = 0; i < 7; i++)
        assert_true(file_exists(dir, foreign[i]));
    assert_true(file_exists(dir, "access-2000-01-01.jsonl"));

    assert_int_equal(accesslog_prune(dir, now, RETAIN_ACCESS_LOG_DAYS, 0, &deleted), ERR_OK);
    assert_int_equal(deleted, 0);
    /* One day later the 183-day file goes too. */
    assert_int_equal(accesslog_prune(dir, now + POLICY_DAY_MS, RETAIN_ACCESS_LOG_DAYS, 0, &deleted),
                     ERR_OK);
    assert_int_equal(deleted, 1);
    assert_false(file_exists(dir, names[3]));
    assert_true(file_exists(dir, names[2]));

    assert_int_equal(accesslog_prune(dir, now, -1, 0, &deleted), ERR_INVALID);
    tmpdir_remove(dir);
    /* A node that never wrote a log has nothing to prune. */
    assert_int_equal(accesslog_prune(dir, now, RETAIN_ACCESS_LOG_DAYS, 0, &deleted), ERR_OK);
    assert_int_equal(deleted, 0);
}

static void test_queue_overflow_drops(void **state)
{
    const size_t extra = 100;
    const size_t total = LIMIT_ACCESSLOG_QUEUE + extra;
    int64_t t = ms_of("2026-03-01T10:00:00Z");
    char dir[PATH_MAX], path[PATH_MAX], name[32];
    struct accesslog_entry e = entry(t, "192.0.2.1", "GET", "/v1/health", 200, 0.5, RID_A);
    char *text;
    (void)state;

    tmpdir_make(dir, sizeof dir);
    assert_int_equal(accesslog_start(dir), ERR_OK);
    accesslog_test_pause(1); /* the writer takes nothing: the queue fills up */
    for (size_t i = 0; i < total; i++)
        accesslog_write(&e);
    assert_int_equal(accesslog_dropped(), extra);
    accesslog_test_pause(0);
    accesslog_stop();
    accesslog_write(&e); /* after stop: dropped too */
    assert_int_equal(accesslog_dropped(), extra + 1);
    assert_int_equal(accesslog_write_errors(), 0);

    log_name(t, name);
    path_join(path, sizeof path, dir, name);
    text = file_read(path);
    assert_int_equal(count_lines(text), LIMIT_ACCESSLOG_QUEUE);
    assert_int_equal(count_lines(text) + accesslog_dropped(), total + 1);
    free(text);
    tmpdir_remove(dir);
}

static void test_queue_concurrent_accounting(void **state)
{
    const size_t total = 3 * LIMIT_ACCESSLOG_QUEUE;
    int64_t t = ms_of("2026-03-02T10:00:00Z");
    char dir[PATH_MAX], path[PATH_MAX], name[32];
    struct accesslog_entry e = entry(t, "192.0.2.1", "GET", "/v1/health", 200, 0.5, RID_A);
    char *text;
    (void)state;

    /* The writer runs freely: whatever it cannot keep up with is counted. */
    tmpdir_make(dir, sizeof dir);
    assert_int_equal(accesslog_start(dir), ERR_OK);
    for (size_t i = 0; i < total; i++)
        accesslog_write(&e);
    accesslog_stop();
    log_name(t, name);
    path_join(path, sizeof path, dir, name);
    text = file_read(path);
    assert_int_equal(count_lines(text) + accesslog_dropped(), total);
    free(text);
    tmpdir_remove(dir);
}

static void test_write_error_recovery(void **state)
{
    int64_t t = ms_of("2026-04-01T10:00:00Z");
    char dir[PATH_MAX], path[PATH_MAX], name[32];
    struct accesslog_entry e1 = entry(t, "192.0.2.1", "GET", "/a", 200, 0.5, RID_A);
    struct accesslog_entry e2 = entry(t + 1, "192.0.2.2", "GET", "/b", 200, 0.5, RID_B);
    struct timespec pause_ts = {0, 1000000};
    char *text;
    int fd;
    (void)state;

    tmpdir_make(dir, sizeof dir);
    assert_int_equal(accesslog_start(dir), ERR_OK);
    /* Replace the directory by a file: opening the log fails. */
    assert_int_equal(rmdir(dir), 0);
    fd = open(dir, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    accesslog_write(&e1);
    for (int i = 0; i < 5000 && accesslog_write_errors() == 0; i++)
        nanosleep(&pause_ts, NULL);
    assert_int_equal(accesslog_write_errors(), 1);

    /* The disk works again: the next line is written. */
    assert_int_equal(unlink(dir), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
    accesslog_write(&e2);
    accesslog_stop();
    assert_int_equal(accesslog_write_errors(), 1);
    assert_int_equal(accesslog_dropped(), 0);

    log_name(t, name);
    path_join(path, sizeof path, dir, name);
    text = file_read(path);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, RID_B));
    free(text);
    tmpdir_remove(dir);
}

static void test_start_arguments(void **state)
{
    char dir[PATH_MAX], file[PATH_MAX];
    (void)state;

    assert_int_equal(accesslog_start(NULL), ERR_INVALID);
    assert_int_equal(accesslog_start(""), ERR_INVALID);
    tmpdir_make(dir, sizeof dir);
    file_write(dir, "plain", "x");
    path_join(file, sizeof file, dir, "plain");
    assert_true(accesslog_start(file) < 0); /* not a directory */
    assert_int_equal(accesslog_start(dir), ERR_OK);
    assert_int_equal(accesslog_start(dir), ERR_CONFLICT); /* already running */
    accesslog_stop();
    accesslog_stop(); /* harmless twice */
    assert_int_equal(accesslog_query(dir, NULL, 0, NULL, NULL), ERR_INVALID);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_two_days),
        cmocka_unit_test(test_append_and_escape),
        cmocka_unit_test(test_query_filters),
        cmocka_unit_test(test_prune_boundary),
        cmocka_unit_test(test_queue_overflow_drops),
        cmocka_unit_test(test_queue_concurrent_accounting),
        cmocka_unit_test(test_write_error_recovery),
        cmocka_unit_test(test_start_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
