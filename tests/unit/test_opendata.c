/*
 * test_opendata.c - what issue 13's speed work (item 8) changed in how a
 * release and a population are stored:
 *   - a release keeps its metadata and CSV only; opendata_json writes the
 *     document GET /v1/opendata/measurements.json serves from them, byte for
 *     byte in the form the build used to store ({"breasts":...} then the
 *     non-empty cells in column order), and refuses anything that is not a
 *     release's CSV;
 *   - `atelier populate` writes its rows directly (one account statement
 *     with the consent, measurements text without jansson, two threads):
 *     the rows must still be what the API would store.
 * The API tests (tests/api/test_400_opendata.py and the two after it) check
 * the routes and the build end to end on both databases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"
#include "base/seal.h"
#include "cli/populate.h"
#include "privacy/opendata.h"
#include "store/db.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* ---- the JSON document ---- */

static char *render(const char *meta, const char *csv, int *rc)
{
    char *out = NULL;
    size_t n = 0;

    *rc = opendata_json(meta, strlen(meta), csv, strlen(csv), &out, &n);
    if (*rc == 0) {
        assert_non_null(out);
        assert_int_equal(strlen(out), n);
    } else {
        assert_null(out);
    }
    return out;
}

static void test_json_document(void **state)
{
    (void)state;
    int rc;
    char *doc = render("{\"id\":\"r1\",\"rows\":3}",
                       "breasts,ankle,bustFront,chest\n"
                       "true,245,480,925\n"
                       "false,235,,1000\n"
                       "true,-3,0,\n",
                       &rc);

    assert_int_equal(rc, 0);
    assert_string_equal(doc, "{\"release\":{\"id\":\"r1\",\"rows\":3},\"rows\":["
                             "{\"breasts\":true,\"ankle\":245,\"bustFront\":480,\"chest\":925},"
                             "{\"breasts\":false,\"ankle\":235,\"chest\":1000},"
                             "{\"breasts\":true,\"ankle\":-3,\"bustFront\":0}]}");
    /* valid JSON whose rows are the CSV's */
    json_t *j = json_loads(doc, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 3);
    json_decref(j);
    free(doc);

    /* no rows (header only, with or without its newline) */
    doc = render("{}", "breasts,ankle\n", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(doc, "{\"release\":{},\"rows\":[]}");
    free(doc);
    doc = render("{}", "breasts,ankle", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(doc, "{\"release\":{},\"rows\":[]}");
    free(doc);

    /* the last line without its newline */
    doc = render("{}", "breasts,ankle\nfalse,7", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(doc, "{\"release\":{},\"rows\":[{\"breasts\":false,\"ankle\":7}]}");
    free(doc);
}

static void test_json_refuses_what_is_not_a_release(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                   /* no header */
        "breasts,,chest\ntrue,1,2\n",         /* an empty column name */
        "breasts,an\"kle\ntrue,1\n",          /* a name that would need escaping */
        "breasts,ankle\ntrue\n",              /* a short row */
        "breasts,ankle\ntrue,1,2\n",          /* a long row */
        "breasts,ankle\nyes,1\n",             /* not a flag */
        "breasts,ankle\n,1\n",                /* no flag */
        "breasts,ankle\ntrue,1.5\n",          /* not an integer */
        "breasts,ankle\ntrue,-\n",            /* a lone sign */
        "breasts,ankle\ntrue,\"1\"\n",        /* quoted */
        "breasts,ankle\ntrue,1\n\nfalse,2\n", /* an empty line */
    };
    int rc;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *doc = render("{}", bad[i], &rc);
        if (rc != ERR_INTERNAL)
            fail_msg("case %zu accepted: %s", i, doc ? doc : "(null)");
    }
}

/* ---- populate ---- */

static char dir[PATH_MAX];
static struct db *db;

static int setup_db(void **state)
{
    (void)state;
    const char *base = getenv("ATELIER_TEST_TMP");
    int applied = 0;

    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(dir, sizeof dir, "%s/opendata-XXXXXX", base);
    if (!mkdtemp(dir))
        return -1;
    if (seal_init(KEY_HEX, "", 0) || db_configure("", dir) || db_open(&db) ||
        db_migrate(db, &applied))
        return -1;
    return 0;
}

static int teardown_db(void **state)
{
    char cmd[PATH_MAX + 16];
    (void)state;
    db_close(db);
    seal_shutdown();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The account's one model: its measurements text, opened (malloc'd). */
static char *model_text(const char *account)
{
    struct db_param p[] = {DB_TEXT(account)};
    struct db_rows *r = NULL;
    char *text = NULL, id[64];
    size_t n = 0;

    assert_int_equal(db_query(db, STMT_MODEL_LIST, p, 1, &r), 0);
    assert_int_equal(db_next(r), 1);
    snprintf(id, sizeof id, "%s", db_col_text(r, 0, NULL));
    const void *box = db_col_blob(r, 4, &n);
    assert_int_equal(seal_open_text("models.measurements", id, box, n, &text), 0);
    assert_int_equal(db_next(r), 0);
    db_rows_free(r);
    return text;
}

static void test_populate_stores_what_the_api_would(void **state)
{
    (void)state;
    enum { N = 300 };
    char after[64] = "";
    unsigned seen = 0, sparse = 0;

    assert_int_equal(populate_run(db, N, 7, NULL, 0), 0);
    for (;;) {
        struct db_param p[] = {DB_TEXT(after), DB_INT(50)};
        struct db_rows *r = NULL;
        char ids[50][64];
        int k = 0;
        assert_int_equal(db_query(db, STMT_REKEY_ACCOUNT_IDS, p, 2, &r), 0);
        while (db_next(r) == 1)
            snprintf(ids[k++], sizeof ids[0], "%s", db_col_text(r, 0, NULL));
        db_rows_free(r);
        if (!k)
            break;
        snprintf(after, sizeof after, "%s", ids[k - 1]);
        for (int i = 0; i < k; i++, seen++) {
            struct db_param a[] = {DB_TEXT(ids[i])};
            /* signup + confirmation + the consent PATCH at one time */
            assert_int_equal(db_query(db, STMT_ACCOUNT_TIMES, a, 1, &r), 0);
            assert_int_equal(db_next(r), 1);
            int64_t created = db_col_int(r, 0);
            assert_int_equal(db_col_int(r, 1), created);
            assert_int_equal(db_col_int(r, 2), created);
            assert_true(db_col_null(r, 3));
            db_rows_free(r);
            assert_int_equal(db_query(db, STMT_ACCOUNT_GET, a, 1, &r), 0);
            assert_int_equal(db_next(r), 1);
            assert_int_equal(db_col_int(r, 5), 1); /* consent_open_data */
            db_rows_free(r);
            /* the measurements text in jansson's canonical form, as
             * models.c stores it (json_dumps, compact, sorted keys) */
            char *text = model_text(ids[i]);
            json_t *j = json_loads(text, 0, NULL);
            assert_true(json_is_object(j));
            char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            assert_string_equal(text, canon);
            if (json_object_size(j) != 30 && json_object_size(j) != 38)
                sparse++; /* neither stratum's complete set */
            free(canon);
            json_decref(j);
            free(text);
        }
    }
    assert_int_equal(seen, N);
    assert_true(sparse > 0 && sparse < N / 3); /* about 15 % are sparse */
}

int main(void)
{
    const struct CMUnitTest json_tests[] = {
        cmocka_unit_test(test_json_document),
        cmocka_unit_test(test_json_refuses_what_is_not_a_release),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test(test_populate_stores_what_the_api_would),
    };
    int failed = cmocka_run_group_tests_name("opendata_json", json_tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("populate", db_tests, setup_db, teardown_db);
}
