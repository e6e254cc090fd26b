/*
 * migrate_copy.c - moving a site to another database: `atelier migrate
 * --from sqlite:PATH --to postgresql://...` copies every table listed in
 * store/copy_tables.h, in that (dependency) order, through the generated
 * prepared statements STMT_COPY_*.
 *
 * Invariants:
 *  - Values are copied as they are: sealed columns stay sealed under the
 *    same key, with the same row ids (their associated data), and meta (the
 *    key check) goes with them, so a server started on the target with the
 *    same key file opens everything and one with another key refuses to
 *    start. The key is never read here.
 *  - The source is only read, inside one read transaction (one snapshot:
 *    a server still writing cannot make the copy inconsistent); a missing
 *    source file is refused before SQLite could create it.
 *  - The target is written in ONE transaction: it commits only after every
 *    table's count on the target equals the source's, read in the same
 *    snapshot, so a failure leaves no row behind. The target must be empty
 *    (no table, or this program's schema with no row in any copied table)
 *    and its schema version equal to the source's, itself this program's:
 *    anything else is refused before a row is written.
 *  - URLs are never printed (they may carry a password).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/util.h"
#include "cli/migrate_copy.h"
#include "store/db.h"

#define COPY_MAX_COLS 32

struct copy_table {
    const char *name;
    enum stmt read, write, count;
    const char *types;
};

#define COPY_TABLE_X(NAME, table, cols, vals, types, sqlite_cols, sqlite_vals)                     \
    {table, STMT_COPY_READ_##NAME, STMT_COPY_WRITE_##NAME, STMT_COPY_COUNT_##NAME, types},
static const struct copy_table copy_tables[] = {COPY_TABLES(COPY_TABLE_X)};
#undef COPY_TABLE_X

#define COPY_NTABLES (sizeof copy_tables / sizeof copy_tables[0])

/* The source's database file from "sqlite:PATH": PATH itself, or
 * PATH/atelier.db when PATH is a directory; it must exist. */
static int copy_source_path(const char *from, char *url, size_t urlsz)
{
    const char *path;
    struct stat st;
    int n;

    if (strncmp(from, "sqlite:", 7) != 0 || from[7] == '\0') {
        fprintf(stderr, "atelier migrate: --from takes sqlite:PATH (the database file or the "
                        "data directory of a SQLite site)\n");
        return 2;
    }
    path = from + 7;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "atelier migrate: --from: %s does not exist\n", path);
        return 1;
    }
    if (S_ISDIR(st.st_mode))
        n = snprintf(url, urlsz, "sqlite:%s/atelier.db", path);
    else
        n = snprintf(url, urlsz, "sqlite:%s", path);
    if (n < 0 || (size_t)n >= urlsz) {
        fprintf(stderr, "atelier migrate: --from: path too long\n");
        return 2;
    }
    if (stat(url + 7, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "atelier migrate: --from: %s is not a database file\n", url + 7);
        return 1;
    }
    return 0;
}

/* The target's form; "sqlite:DIR" names DIR/atelier.db, like the source,
 * and a SQLite target must not be the source's file. */
static int copy_target_url(const char *src_url, const char *to, char *url, size_t urlsz)
{
    struct stat a, b;
    int n;

    if (strncmp(to, "postgresql://", 13) == 0 || strncmp(to, "postgres://", 11) == 0 ||
        strncmp(to, "host=", 5) == 0)
        return util_strlcpy(url, to, urlsz) == 0 ? 0 : 2;
    if (strncmp(to, "sqlite:", 7) != 0 || to[7] == '\0') {
        fprintf(stderr, "atelier migrate: --to takes postgresql://... (or sqlite:PATH)\n");
        return 2;
    }
    if (stat(to + 7, &b) == 0 && S_ISDIR(b.st_mode))
        n = snprintf(url, urlsz, "%s/atelier.db", to);
    else
        n = snprintf(url, urlsz, "%s", to);
    if (n < 0 || (size_t)n >= urlsz) {
        fprintf(stderr, "atelier migrate: --to: path too long\n");
        return 2;
    }
    if (stat(url + 7, &b) == 0 && stat(src_url + 7, &a) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
        fprintf(stderr, "atelier migrate: --to is the source itself\n");
        return 2;
    }
    return 0;
}

/* A one-row, one-integer statement. */
static int copy_int(struct db *db, enum stmt id, int64_t *out)
{
    struct db_rows *r = NULL;
    int rc = db_query(db, id, NULL, 0, &r);

    if (rc == ERR_OK) {
        rc = db_next(r);
        if (rc == 1) {
            *out = db_col_int(r, 0);
            rc = ERR_OK;
        } else if (rc == 0) {
            rc = ERR_INTERNAL;
        }
    }
    db_rows_free(r);
    return rc;
}

/* The target ready to receive: a fresh one gets this program's schema; one
 * with tables must have it already. Returns 0, or 1 after saying why. */
static int copy_target_schema(struct db *dst, int want)
{
    int64_t tables = 0;
    int applied = 0, v, rc;

    if ((rc = copy_int(dst, STMT_COPY_TABLE_COUNT, &tables)) != ERR_OK) {
        fprintf(stderr, "atelier migrate: cannot read the target's tables: %s\n", err_text(rc));
        return 1;
    }
    if (tables == 0 && (rc = db_migrate(dst, &applied)) != ERR_OK) {
        fprintf(stderr, "atelier migrate: cannot create the schema in the target: %s\n",
                err_text(rc));
        return 1;
    }
    v = db_schema_version(dst);
    if (v < 0) {
        fprintf(stderr, "atelier migrate: the target has tables but no atelier schema: give an "
                        "empty database\n");
        return 1;
    }
    if (v != want) {
        fprintf(stderr,
                "atelier migrate: the target's schema is at version %d, the source's at %d: "
                "give an empty database\n",
                v, want);
        return 1;
    }
    return 0;
}

/* Every copied table of the target empty (inside its transaction). */
static int copy_target_empty(struct db *dst)
{
    for (size_t t = 0; t < COPY_NTABLES; t++) {
        int64_t n = 0;
        int rc = copy_int(dst, copy_tables[t].count, &n);
        if (rc != ERR_OK) {
            fprintf(stderr, "atelier migrate: cannot count the target's %s: %s\n",
                    copy_tables[t].name, err_text(rc));
            return 1;
        }
        if (n != 0) {
            fprintf(stderr,
                    "atelier migrate: the target is not empty (%s holds %" PRId64
                    " rows): refused, nothing copied\n",
                    copy_tables[t].name, n);
            return 1;
        }
    }
    return 0;
}

/* One table, row by row; *copied receives the rows written. */
static int copy_table(struct db *src, struct db *dst, const struct copy_table *t, int64_t *copied)
{
    struct db_param p[COPY_MAX_COLS];
    struct db_rows *r = NULL;
    size_t ncols = strlen(t->types);
    int rc;

    *copied = 0;
    if (ncols == 0 || ncols > COPY_MAX_COLS)
        return ERR_INTERNAL;
    rc = db_query(src, t->read, NULL, 0, &r);
    if (rc != ERR_OK)
        goto out;
    while ((rc = db_next(r)) == 1) {
        for (size_t c = 0; c < ncols; c++) {
            size_t len = 0;
            const void *v;
            if (db_col_null(r, (int)c)) {
                p[c] = DB_NULL;
                continue;
            }
            switch (t->types[c]) {
            case 'I':
                p[c] = DB_INT(db_col_int(r, (int)c));
                break;
            case 'T':
                v = db_col_text(r, (int)c, &len);
                p[c] = DB_TEXTN(v, len);
                break;
            default:
                v = db_col_blob(r, (int)c, &len);
                p[c] = DB_BLOB(v, len);
                break;
            }
        }
        int64_t n = db_exec(dst, t->write, p, (int)ncols);
        if (n != 1) {
            rc = n < 0 ? (int)n : ERR_INTERNAL;
            goto out;
        }
        (*copied)++;
    }
    if (rc < 0)
        goto out;
    rc = ERR_OK;
out:
    db_rows_free(r);
    return rc;
}

/* Copy every table, then compare each one's counts on both sides. */
static int copy_all(struct db *src, struct db *dst, int64_t counts[], int64_t *total)
{
    int tty = isatty(2);

    *total = 0;
    for (size_t t = 0; t < COPY_NTABLES; t++) {
        int64_t n = 0, on_src = -1, on_dst = -1;
        int rc = copy_table(src, dst, &copy_tables[t], &n);
        if (rc != ERR_OK) {
            fprintf(stderr, "atelier migrate: copying %s failed after %" PRId64 " rows: %s\n",
                    copy_tables[t].name, n, err_text(rc));
            return 1;
        }
        if (copy_int(src, copy_tables[t].count, &on_src) != ERR_OK ||
            copy_int(dst, copy_tables[t].count, &on_dst) != ERR_OK || on_src != n || on_dst != n) {
            fprintf(stderr,
                    "atelier migrate: %s: %" PRId64 " rows copied, but the source counts %" PRId64
                    " and the target %" PRId64 "\n",
                    copy_tables[t].name, n, on_src, on_dst);
            return 1;
        }
        counts[t] = n;
        *total += n;
        if (tty)
            fprintf(stderr, "atelier migrate: %-20s %" PRId64 " rows\n", copy_tables[t].name, n);
    }
    return 0;
}

int migrate_copy(const char *from, const char *to, FILE *out)
{
    char src_url[PATH_MAX + 32], dst_url[PATH_MAX + 1024];
    struct db *src = NULL, *dst = NULL;
    int64_t counts[COPY_NTABLES], total = 0;
    uint64_t t0 = clock_mono_ns();
    int rc, want, src_tx = 0, dst_tx = 0;

    if ((rc = copy_source_path(from, src_url, sizeof src_url)) != 0 ||
        (rc = copy_target_url(src_url, to, dst_url, sizeof dst_url)) != 0)
        goto out;
    rc = 1;
    if (db_open_url(src_url, &src) != ERR_OK) {
        fprintf(stderr, "atelier migrate: cannot open the source\n");
        goto out;
    }
    if (db_exec(src, STMT_COPY_BEGIN_READ, NULL, 0) < 0) {
        fprintf(stderr, "atelier migrate: cannot read the source\n");
        goto out;
    }
    src_tx = 1;
    want = db_schema_version(src);
    if (want < 0) {
        fprintf(stderr, "atelier migrate: the source is not an atelier database\n");
        goto out;
    }
    if (want != db_schema_latest()) {
        fprintf(stderr,
                "atelier migrate: the source's schema is at version %d, this program's at %d: %s\n",
                want, db_schema_latest(),
                want < db_schema_latest() ? "run `atelier migrate` on the source first"
                                          : "use the program that wrote it");
        goto out;
    }
    if (db_open_url(dst_url, &dst) != ERR_OK) {
        fprintf(stderr, "atelier migrate: cannot open the target\n");
        goto out;
    }
    if (copy_target_schema(dst, want))
        goto out;
    if (db_begin(dst) != ERR_OK) {
        fprintf(stderr, "atelier migrate: cannot begin a transaction on the target\n");
        goto out;
    }
    dst_tx = 1;
    if (copy_target_empty(dst) || copy_all(src, dst, counts, &total))
        goto out;
    if (db_commit(dst) != ERR_OK) {
        fprintf(stderr, "atelier migrate: the target's transaction did not commit\n");
        goto out;
    }
    dst_tx = 0;
    fprintf(out,
            "atelier: migrated %" PRId64 " rows in %zu tables to %s (schema version %d, "
            "%.1f s):",
            total, COPY_NTABLES, strncmp(to, "sqlite:", 7) == 0 ? "SQLite" : "PostgreSQL", want,
            (double)(clock_mono_ns() - t0) / 1e9);
    for (size_t t = 0; t < COPY_NTABLES; t++)
        fprintf(out, " %s %" PRId64 "%s", copy_tables[t].name, counts[t],
                t + 1 < COPY_NTABLES ? "," : "\n");
    fflush(out);
    rc = 0;
out:
    if (dst_tx)
        (void)db_rollback(dst);
    if (src_tx)
        (void)db_rollback(src);
    db_close(dst);
    db_close(src);
    return rc;
}
