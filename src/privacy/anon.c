/*
 * anon.c - MDAV microaggregation of measurement tables and the figures and
 * gates a release is judged by (reference: measurements-anonymization
 * sections 4.2, 4.3, 4.8, 5 and 6.1).
 *
 * Purpose. anon_mdav turns n records of p numeric columns into a k-anonymous
 * table: records are grouped (groups of k..2k-1) by MDAV on z-standardised
 * values and every member's row is replaced by its group's mean of the
 * ORIGINAL values, rounded half away from zero. anon_measure computes what
 * the release publishes and gates on; anon_gates_pass applies SPEC 6.1.
 *
 * ANON_MDAV_PLAIN is the textbook algorithm of section 4.8, deterministic:
 *  - z_ij = (x_ij - mean_j) / sd_j (sample SD); columns with sd = 0 are left
 *    out of every distance; d(a,b) = sum_j (a_j - b_j)^2, no sqrt.
 *  - while |R| >= 3k: c = centroid of R, r = farthest from c, s = farthest
 *    from r (computed before anything is removed), group r with its k-1
 *    nearest, then s with its k-1 nearest among what is left; then one group
 *    around the record farthest from the centroid when 2k <= |R| < 3k; the
 *    remaining k..2k-1 records (or all n when n < 2k) form the last group.
 *  - every tie (farthest, nearest) goes to the lowest record index. If ties
 *    make s fall into r's group (only possible when all distances from r are
 *    equal), s is the farthest from r among the records not in that group.
 *  - the centroid is computed from running column sums of the ORIGINAL
 *    values, so for integer data it is exact and independent of the order in
 *    which records were removed (symmetric ties stay exact ties).
 *  - the remaining set is kept column-major and compacted by swap-remove, so
 *    each pass (distance to c, to r, to s: three per two groups) streams
 *    contiguous arrays; cost O(n^2 p / k).
 *
 * ANON_MDAV_FAST partitions first, then runs the same kernel per block:
 *  - blocks: recursive halving along the first principal component of the
 *    block's z-scores (covariance + Jacobi eigen-decomposition), sorting by
 *    projection (ties by index); the left half gets floor(q/2)*k records
 *    (q = size/k), so every block but one is a multiple of k and none has
 *    fewer than k records. Splitting stops at ANON_BLOCK_MAX records (or 8k
 *    when k is large). n <= ANON_BLOCK_MAX is one block: FAST == PLAIN.
 *  - the covariance of a block is estimated from an evenly strided sample of
 *    at most ANON_PCA_SAMPLE rows (the direction only steers the split).
 *  - blocks run on up to ANON_THREADS pthreads; each block writes only its
 *    own rows of y, so the output does not depend on scheduling.
 *  - cost O(n B p / k) for block size B (linear in n) plus O(n p log n) for
 *    the partition. Block boundaries cost a little IL: with the synthetic
 *    with-breasts population (section 5.1, p = 38, k = 5; bench/anon.sh,
 *    -O2, 2 cores, CPU seconds):
 *      n =   3,000  PLAIN IL 19.17 %            FAST 19.19 % (+0.02)
 *      n =  10,000  PLAIN IL 17.42 %, 0.19 s    FAST 17.52 % (+0.10), 0.04 s
 *      n = 100,000  PLAIN IL 14.73 %, 29 s      FAST 15.07 % (+0.34), 0.64 s
 *    and anon_measure at n = 100,000 (G = 20,000) takes about 3.3 CPU s
 *    (under 2 s wall on 2 idle cores), peak RSS of the whole run 87 MB.
 *    Block limits of 4096 / 8192 gain 0.1 / 0.2 pp at 100,000 records for
 *    1.0x / 1.5x the time; 2048 keeps a 3,000-record test on the blocked path.
 *
 * anon_measure:
 *  - released rows are deduplicated with a hash table (canonical bits, -0 ==
 *    +0) into G distinct rows with their run lengths; min_run is the
 *    k-anonymity check, max_risk = 1 / min_run.
 *  - IL = 100 SSE/SST with the released values standardised by the ORIGINAL
 *    mean and SD, over the columns with sd > 0; IL1s is the mean version
 *    (1/(n p)) sum |x - x'| / (sqrt(2) sd_j) over the same columns (p counts
 *    all columns; a zero-SD column contributes nothing).
 *  - DBRL: for record i with own released row o, m = min_t d(z_i, z'_t) and
 *    T = {t : d <= m + 1e-9}; hit = 1/|T| (|T| counted in released ROWS, so
 *    a group's identical rows split the hit and DBRL <= 100/min_run) when o
 *    is in T. Distances are taken against the G distinct rows only, through a
 *    k-d tree in the principal-component basis of the originals (an exact
 *    rotation): boxes bound the first ANON_TREE_DIMS components, and the norm
 *    of the remaining ones gives a second bound, | |a| - |b| |^2 <= |a - b|^2.
 *    Nodes and rows whose bound exceeds d(z_i, o) + 1e-9 (with a 1e-9
 *    relative slack for rounding in the rotated basis) are skipped, and the
 *    search stops at the first row strictly nearer than d(z_i, o) - 1e-9
 *    (hit = 0). Surviving rows are measured again exactly in z-space, so the
 *    result equals brute force (tests and bench/anon.sh check this). Records
 *    are spread over up to ANON_THREADS threads; per-record hits are summed in
 *    record order.
 *  - partial: the same with the attacker's view of 4 columns, each observed
 *    with independent N(0, 10 mm) error from rng.h's stream for seed
 *    (rng_normal, draws in record then column order).
 *  - SDID (c = 0.05, released SD), mean |r - r'| over column pairs with
 *    sd > 0 (r' = 0 when a released column is constant), max mean difference
 *    and per-column MAE.
 *
 * Invariants: no input is trusted (sizes checked with size_mul; NULL
 * pointers, impossible sizes, non-finite values and out-of-range partial
 * columns give ERR_INVALID, from anon_measure too); every function
 * frees what it allocated on every path; results are bit-for-bit
 * deterministic for a given input, method and seed, whatever the number of
 * CPUs.
 */
#include "privacy/anon.h"
#include "base/err.h"
#include "base/rng.h"
#include "base/util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANON_BLOCK_MAX  2048 /* FAST: largest block run through plain MDAV */
#define ANON_THREADS    8    /* upper bound on worker threads */
#define ANON_PCA_SAMPLE 4096 /* FAST: rows sampled for a split direction */
#define ANON_TIE_EPS    1e-9 /* DBRL tie tolerance on squared distances */
#define ANON_TAPE_SD    10.0 /* partial-knowledge attacker's tape error, mm */
#define ANON_SDID_C     0.05 /* interval disclosure width in released SDs */
#define ANON_LEAF       32   /* k-d tree bucket size */
#define ANON_TREE_DIMS  6    /* principal components the DBRL tree boxes bound */

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

/* malloc(a * b) with overflow check; never returns a zero-size block. */
static void *alloc_array(size_t a, size_t b)
{
    size_t total;
    if (!size_mul(a, b, &total))
        return NULL;
    return malloc(total ? total : 1);
}

static void *calloc_array(size_t a, size_t b)
{
    size_t total;
    if (!size_mul(a, b, &total))
        return NULL;
    return calloc(total ? a : 1, total ? b : 1);
}

static unsigned thread_count(size_t work)
{
    unsigned t = util_ncpu();
    if (t > ANON_THREADS)
        t = ANON_THREADS;
    if ((size_t)t > work)
        t = (unsigned)(work ? work : 1);
    return t ? t : 1;
}

struct key {
    double v;
    size_t id;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *ka = a, *kb = b;
    if (ka->v < kb->v)
        return -1;
    if (ka->v > kb->v)
        return 1;
    return (ka->id > kb->id) - (ka->id < kb->id);
}

/* ------------------------------------------------------------------------ */
/* Standardisation                                                           */

struct stdz {
    double *mean; /* p */
    double *sd;   /* p: sample SD, 0 when constant or n < 2 */
    size_t *col;  /* q columns with sd > 0 */
    size_t q;
};

static void stdz_free(struct stdz *s)
{
    free(s->mean);
    free(s->sd);
    free(s->col);
    memset(s, 0, sizeof(*s));
}

static int stdz_init(struct stdz *s, const double *x, size_t n, size_t p)
{
    memset(s, 0, sizeof(*s));
    s->mean = calloc_array(p, sizeof(double));
    s->sd = calloc_array(p, sizeof(double));
    s->col = alloc_array(p, sizeof(size_t));
    if (!s->mean || !s->sd || !s->col) {
        stdz_free(s);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            s->mean[j] += x[i * p + j];
    for (size_t j = 0; j < p; j++)
        s->mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) {
            double t = x[i * p + j] - s->mean[j];
            s->sd[j] += t * t;
        }
    for (size_t j = 0; j < p; j++) {
        double sd = n > 1 ? sqrt(s->sd[j] / (double)(n - 1)) : 0.0;
        if (!(sd > 1e-12 * (fabs(s->mean[j]) + 1.0)))
            sd = 0.0;
        s->sd[j] = sd;
        if (sd > 0.0)
            s->col[s->q++] = j;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Symmetric eigen-decomposition (cyclic Jacobi), for principal components. */

/* a (q*q, row-major, destroyed) = V diag(ev) V^T; vec receives the
 * eigenvectors as rows, sorted by decreasing eigenvalue (ties by index),
 * each with a non-negative component sum. */
static int eig_sym(double *a, size_t q, double *vec, double *ev)
{
    size_t qsq;
    double *v = NULL;
    size_t *ord = NULL;
    int rc = ERR_NOMEM;
    if (!size_mul(q, q, &qsq))
        goto out;
    v = alloc_array(qsq, sizeof(double));
    ord = alloc_array(q, sizeof(size_t));
    if (!v || !ord)
        goto out;
    for (size_t r = 0; r < q; r++)
        for (size_t c = 0; c < q; c++)
            v[r * q + c] = r == c ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (size_t r = 0; r < q; r++) {
            diag += a[r * q + r] * a[r * q + r];
            for (size_t c = r + 1; c < q; c++)
                off += a[r * q + c] * a[r * q + c];
        }
        if (off == 0.0 || off <= 1e-30 * diag)
            break;
        for (size_t pp = 0; pp < q; pp++) {
            for (size_t qq = pp + 1; qq < q; qq++) {
                double apq = a[pp * q + qq];
                if (apq == 0.0)
                    continue;
                double theta = (a[qq * q + qq] - a[pp * q + pp]) / (2.0 * apq);
                double t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
                if (theta < 0.0)
                    t = -t;
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (size_t kk = 0; kk < q; kk++) {
                    double akp = a[kk * q + pp], akq = a[kk * q + qq];
                    a[kk * q + pp] = c * akp - s * akq;
                    a[kk * q + qq] = s * akp + c * akq;
                }
                for (size_t kk = 0; kk < q; kk++) {
                    double apk = a[pp * q + kk], aqk = a[qq * q + kk];
                    a[pp * q + kk] = c * apk - s * aqk;
                    a[qq * q + kk] = s * apk + c * aqk;
                }
                for (size_t kk = 0; kk < q; kk++) {
                    double vkp = v[kk * q + pp], vkq = v[kk * q + qq];
                    v[kk * q + pp] = c * vkp - s * vkq;
                    v[kk * q + qq] = s * vkp + c * vkq;
                }
            }
        }
    }
    /* order by decreasing eigenvalue, ties by index (insertion sort, q small) */
    for (size_t r = 0; r < q; r++) {
        size_t m = r;
        while (m > 0 && a[ord[m - 1] * q + ord[m - 1]] < a[r * q + r]) {
            ord[m] = ord[m - 1];
            m--;
        }
        ord[m] = r;
    }
    for (size_t r = 0; r < q; r++) {
        size_t c0 = ord[r];
        double sum = 0.0;
        for (size_t kk = 0; kk < q; kk++)
            sum += v[kk * q + c0];
        double sign = sum < 0.0 ? -1.0 : 1.0;
        for (size_t kk = 0; kk < q; kk++)
            vec[r * q + kk] = sign * v[kk * q + c0];
        ev[r] = a[c0 * q + c0];
    }
    rc = 0;
out:
    free(v);
    free(ord);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The MDAV kernel                                                           */

struct mdav_ctx {
    const double *x;
    size_t n, p, k;
    const struct stdz *sz;
    double *y;
};

/* Per-thread scratch for blocks of up to cap records. */
struct mdav_work {
    size_t cap;
    double *zc;  /* q * cap: column-major z of the remaining records */
    size_t *id;  /* cap: record index at each position */
    double *d;   /* cap: distances of the current pass */
    double *sum; /* q: sums of the original values over the remaining records */
    double *c;   /* q: centroid */
    double *pv;  /* q: the current pivot (r or s) */
    size_t *sel; /* k: positions of the group being formed */
    size_t *gid; /* k: record indices of the group being emitted */
    size_t ld;   /* leading dimension of zc for the current block */
    size_t nr;   /* remaining records */
};

static void mdav_work_free(struct mdav_work *w)
{
    free(w->zc);
    free(w->id);
    free(w->d);
    free(w->sum);
    free(w->c);
    free(w->pv);
    free(w->sel);
    free(w->gid);
    memset(w, 0, sizeof(*w));
}

static int mdav_work_init(struct mdav_work *w, size_t cap, size_t q, size_t k)
{
    memset(w, 0, sizeof(*w));
    size_t zn;
    if (!size_mul(cap, q, &zn))
        return ERR_NOMEM;
    w->cap = cap;
    w->zc = alloc_array(zn, sizeof(double));
    w->id = alloc_array(cap, sizeof(size_t));
    w->d = alloc_array(cap, sizeof(double));
    w->sum = alloc_array(q, sizeof(double));
    w->c = alloc_array(q, sizeof(double));
    w->pv = alloc_array(q, sizeof(double));
    w->sel = alloc_array(k, sizeof(size_t));
    w->gid = alloc_array(k, sizeof(size_t));
    if (!w->zc || !w->id || !w->d || !w->sum || !w->c || !w->pv || !w->sel || !w->gid) {
        mdav_work_free(w);
        return ERR_NOMEM;
    }
    return 0;
}

/* d[pos] = squared distance of remaining record pos to v. */
static void mdav_dist(struct mdav_work *w, size_t q, const double *v)
{
    size_t nr = w->nr, ld = w->ld;
    double *restrict d = w->d;
    if (q == 0) {
        memset(d, 0, nr * sizeof(double));
        return;
    }
    const double *restrict z0 = w->zc;
    double v0 = v[0];
    for (size_t pos = 0; pos < nr; pos++) {
        double t = z0[pos] - v0;
        d[pos] = t * t;
    }
    for (size_t jj = 1; jj < q; jj++) {
        const double *restrict zj = w->zc + jj * ld;
        double vj = v[jj];
        for (size_t pos = 0; pos < nr; pos++) {
            double t = zj[pos] - vj;
            d[pos] += t * t;
        }
    }
}

static void mdav_centroid(struct mdav_work *w, const struct stdz *sz)
{
    for (size_t jj = 0; jj < sz->q; jj++) {
        size_t j = sz->col[jj];
        w->c[jj] = (w->sum[jj] / (double)w->nr - sz->mean[j]) / sz->sd[j];
    }
}

static int in_list(const size_t *list, size_t m, size_t v)
{
    for (size_t i = 0; i < m; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

/* Position of the largest distance, ties to the lowest record index,
 * skipping the m positions in excl. */
static size_t mdav_farthest(const struct mdav_work *w, const size_t *excl, size_t m)
{
    size_t best = SIZE_MAX;
    for (size_t pos = 0; pos < w->nr; pos++) {
        if (m && in_list(excl, m, pos))
            continue;
        if (best == SIZE_MAX || w->d[pos] > w->d[best] ||
            (w->d[pos] == w->d[best] && w->id[pos] < w->id[best]))
            best = pos;
    }
    return best;
}

/* sel[0] = piv; sel[1..m] = the m nearest other positions by (d, index). */
static void mdav_nearest(struct mdav_work *w, size_t piv, size_t m)
{
    size_t *sel = w->sel + 1;
    const double *d = w->d;
    const size_t *id = w->id;
    size_t cnt = 0;
    w->sel[0] = piv;
    for (size_t pos = 0; pos < w->nr; pos++) {
        if (pos == piv)
            continue;
        double dp = d[pos];
        if (cnt == m) {
            size_t wpos = sel[m - 1];
            if (dp > d[wpos] || (dp == d[wpos] && id[pos] > id[wpos]))
                continue;
            cnt--;
        }
        size_t at = cnt;
        while (at > 0) {
            size_t o = sel[at - 1];
            if (d[o] < dp || (d[o] == dp && id[o] < id[pos]))
                break;
            sel[at] = o;
            at--;
        }
        sel[at] = pos;
        cnt++;
    }
}

/* Replace every member's row of y by the rounded group mean of x. */
static void mdav_emit(const struct mdav_ctx *ctx, const size_t *ids, size_t m)
{
    const double *x = ctx->x;
    size_t p = ctx->p;
    for (size_t j = 0; j < p; j++) {
        double acc = 0.0;
        for (size_t i = 0; i < m; i++)
            acc += x[ids[i] * p + j];
        double v = round(acc / (double)m) + 0.0; /* half away from zero; no -0 */
        for (size_t i = 0; i < m; i++)
            ctx->y[ids[i] * p + j] = v;
    }
}

/* Emit the group at positions sel[0..m) and remove it from the remaining set. */
static void mdav_take(const struct mdav_ctx *ctx, struct mdav_work *w, size_t m)
{
    const struct stdz *sz = ctx->sz;
    size_t q = sz->q, p = ctx->p, ld = w->ld;
    for (size_t i = 0; i < m; i++)
        w->gid[i] = w->id[w->sel[i]];
    mdav_emit(ctx, w->gid, m);
    /* remove positions in decreasing order so swap-remove never moves a
     * position that is still to be removed */
    for (size_t i = 1; i < m; i++) {
        size_t v = w->sel[i], at = i;
        while (at > 0 && w->sel[at - 1] < v) {
            w->sel[at] = w->sel[at - 1];
            at--;
        }
        w->sel[at] = v;
    }
    for (size_t i = 0; i < m; i++) {
        size_t pos = w->sel[i], last = w->nr - 1;
        const double *xr = ctx->x + w->id[pos] * p;
        for (size_t jj = 0; jj < q; jj++)
            w->sum[jj] -= xr[sz->col[jj]];
        if (pos != last) {
            w->id[pos] = w->id[last];
            for (size_t jj = 0; jj < q; jj++)
                w->zc[jj * ld + pos] = w->zc[jj * ld + last];
        }
        w->nr--;
    }
}

static void mdav_copy_pivot(struct mdav_work *w, size_t q, size_t pos)
{
    for (size_t jj = 0; jj < q; jj++)
        w->pv[jj] = w->zc[jj * w->ld + pos];
}

/* Plain MDAV over the nb >= k records ids[]; writes their rows of y. */
static size_t mdav_block(const struct mdav_ctx *ctx, struct mdav_work *w, const size_t *ids,
                         size_t nb)
{
    const struct stdz *sz = ctx->sz;
    size_t q = sz->q, p = ctx->p, k = ctx->k, groups = 0;

    w->ld = nb;
    w->nr = nb;
    for (size_t jj = 0; jj < q; jj++)
        w->sum[jj] = 0.0;
    for (size_t pos = 0; pos < nb; pos++) {
        const double *xr = ctx->x + ids[pos] * p;
        w->id[pos] = ids[pos];
        for (size_t jj = 0; jj < q; jj++) {
            size_t j = sz->col[jj];
            w->zc[jj * nb + pos] = (xr[j] - sz->mean[j]) / sz->sd[j];
            w->sum[jj] += xr[j];
        }
    }

    while (w->nr / 3 >= k) { /* |R| >= 3k without overflow */
        mdav_centroid(w, sz);
        mdav_dist(w, q, w->c);
        size_t r = mdav_farthest(w, NULL, 0);
        mdav_copy_pivot(w, q, r);
        mdav_dist(w, q, w->pv);
        mdav_nearest(w, r, k - 1);
        size_t s = mdav_farthest(w, &r, 1);
        if (in_list(w->sel, k, s))
            s = mdav_farthest(w, w->sel, k);
        size_t s_id = w->id[s];
        mdav_copy_pivot(w, q, s);
        mdav_take(ctx, w, k);
        groups++;

        size_t spos = 0;
        while (w->id[spos] != s_id)
            spos++;
        mdav_dist(w, q, w->pv);
        mdav_nearest(w, spos, k - 1);
        mdav_take(ctx, w, k);
        groups++;
    }
    if (w->nr / 2 >= k) {
        mdav_centroid(w, sz);
        mdav_dist(w, q, w->c);
        size_t r = mdav_farthest(w, NULL, 0);
        mdav_copy_pivot(w, q, r);
        mdav_dist(w, q, w->pv);
        mdav_nearest(w, r, k - 1);
        mdav_take(ctx, w, k);
        groups++;
    }
    if (w->nr > 0) {
        mdav_emit(ctx, w->id, w->nr);
        w->nr = 0;
        groups++;
    }
    return groups;
}

/* ------------------------------------------------------------------------ */
/* FAST: principal-component partition, blocks on threads                    */

struct block {
    size_t off, len;
};

struct part {
    const double *x;
    size_t p, k, bmax;
    const struct stdz *sz;
    size_t *ids;
    struct key *keys; /* n */
    double *zr;       /* q */
    double *mu;       /* q */
    double *cov;      /* q*q */
    double *vec;      /* q*q */
    double *ev;       /* q */
    struct block *blocks;
    size_t nblocks;
};

static int part_split(struct part *pt, size_t off, size_t len)
{
    const struct stdz *sz = pt->sz;
    size_t q = sz->q, p = pt->p, k = pt->k;
    size_t *ids = pt->ids + off;

    if (len <= pt->bmax || len / k < 2) {
        pt->blocks[pt->nblocks].off = off;
        pt->blocks[pt->nblocks].len = len;
        pt->nblocks++;
        return 0;
    }
    /* the direction only steers the split, so estimate the covariance from
     * an evenly strided sample of at most ANON_PCA_SAMPLE rows */
    size_t stride = (len + ANON_PCA_SAMPLE - 1) / ANON_PCA_SAMPLE, ns = 0;
    for (size_t a = 0; a < q; a++)
        pt->mu[a] = 0.0;
    for (size_t i = 0; i < len; i += stride, ns++) {
        const double *xr = pt->x + ids[i] * p;
        for (size_t a = 0; a < q; a++) {
            size_t j = sz->col[a];
            pt->mu[a] += (xr[j] - sz->mean[j]) / sz->sd[j];
        }
    }
    for (size_t a = 0; a < q; a++)
        pt->mu[a] /= (double)ns;
    for (size_t a = 0; a < q * q; a++)
        pt->cov[a] = 0.0;
    for (size_t i = 0; i < len; i += stride) {
        const double *xr = pt->x + ids[i] * p;
        for (size_t a = 0; a < q; a++) {
            size_t j = sz->col[a];
            pt->zr[a] = (xr[j] - sz->mean[j]) / sz->sd[j] - pt->mu[a];
        }
        for (size_t a = 0; a < q; a++) {
            double za = pt->zr[a];
            double *row = pt->cov + a * q;
            for (size_t b = a; b < q; b++)
                row[b] += za * pt->zr[b];
        }
    }
    for (size_t a = 0; a < q; a++)
        for (size_t b = 0; b < a; b++)
            pt->cov[a * q + b] = pt->cov[b * q + a];
    if (q > 0) {
        int rc = eig_sym(pt->cov, q, pt->vec, pt->ev);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < len; i++) {
        const double *xr = pt->x + ids[i] * p;
        double proj = 0.0;
        for (size_t a = 0; a < q; a++) {
            size_t j = sz->col[a];
            proj += ((xr[j] - sz->mean[j]) / sz->sd[j] - pt->mu[a]) * pt->vec[a];
        }
        pt->keys[i].v = proj;
        pt->keys[i].id = ids[i];
    }
    qsort(pt->keys, len, sizeof(struct key), key_cmp);
    for (size_t i = 0; i < len; i++)
        ids[i] = pt->keys[i].id;
    size_t left = (len / k / 2) * k;
    int rc = part_split(pt, off, left);
    if (rc)
        return rc;
    return part_split(pt, off + left, len - left);
}

struct fast_shared {
    const struct mdav_ctx *ctx;
    const size_t *ids;
    const struct block *blocks;
    size_t nblocks, cap;
    size_t *groups; /* per block */
    size_t next;
    pthread_mutex_t lock;
};

struct fast_thread {
    struct fast_shared *sh;
    int rc;
};

static void *fast_worker(void *arg)
{
    struct fast_thread *t = arg;
    struct fast_shared *sh = t->sh;
    struct mdav_work w;
    t->rc = mdav_work_init(&w, sh->cap, sh->ctx->sz->q, sh->ctx->k);
    if (t->rc)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        size_t b = sh->next++;
        pthread_mutex_unlock(&sh->lock);
        if (b >= sh->nblocks)
            break;
        const struct block *bl = &sh->blocks[b];
        sh->groups[b] = mdav_block(sh->ctx, &w, sh->ids + bl->off, bl->len);
    }
    mdav_work_free(&w);
    return NULL;
}

static int mdav_fast(const struct mdav_ctx *ctx, size_t *groups)
{
    size_t n = ctx->n, q = ctx->sz->q, k = ctx->k, qq;
    struct part pt;
    struct fast_shared sh;
    struct fast_thread th[ANON_THREADS];
    pthread_t tid[ANON_THREADS];
    int rc = ERR_NOMEM, lock_ok = 0;

    memset(&pt, 0, sizeof(pt));
    memset(&sh, 0, sizeof(sh));
    pt.x = ctx->x;
    pt.p = ctx->p;
    pt.k = k;
    pt.sz = ctx->sz;
    pt.bmax = ANON_BLOCK_MAX;
    if (k <= SIZE_MAX / 8 && pt.bmax < 8 * k)
        pt.bmax = 8 * k;
    if (!size_mul(q, q, &qq))
        goto out;
    pt.ids = alloc_array(n, sizeof(size_t));
    pt.keys = alloc_array(n, sizeof(struct key));
    pt.zr = alloc_array(q, sizeof(double));
    pt.mu = alloc_array(q, sizeof(double));
    pt.cov = alloc_array(qq, sizeof(double));
    pt.vec = alloc_array(qq, sizeof(double));
    pt.ev = alloc_array(q, sizeof(double));
    pt.blocks = alloc_array(n / k + 1, sizeof(struct block));
    sh.groups = calloc_array(n / k + 1, sizeof(size_t));
    if (!pt.ids || !pt.keys || !pt.zr || !pt.mu || !pt.cov || !pt.vec || !pt.ev || !pt.blocks ||
        !sh.groups)
        goto out;
    for (size_t i = 0; i < n; i++)
        pt.ids[i] = i;
    rc = part_split(&pt, 0, n);
    if (rc)
        goto out;
    free(pt.keys);
    pt.keys = NULL;

    sh.ctx = ctx;
    sh.ids = pt.ids;
    sh.blocks = pt.blocks;
    sh.nblocks = pt.nblocks;
    for (size_t b = 0; b < pt.nblocks; b++)
        if (pt.blocks[b].len > sh.cap)
            sh.cap = pt.blocks[b].len;
    if (pthread_mutex_init(&sh.lock, NULL) != 0) {
        rc = ERR_INTERNAL;
        goto out;
    }
    lock_ok = 1;
    unsigned nt = thread_count(pt.nblocks), started = 0;
    for (unsigned t = 0; t < nt; t++) {
        th[t].sh = &sh;
        th[t].rc = 0;
        if (t > 0) {
            if (pthread_create(&tid[t], NULL, fast_worker, &th[t]) != 0)
                break;
            started++;
        }
    }
    fast_worker(&th[0]); /* the calling thread works too */
    rc = th[0].rc;
    for (unsigned t = 1; t <= started; t++) {
        pthread_join(tid[t], NULL);
        if (!rc)
            rc = th[t].rc;
    }
    /* a worker that could not get its scratch memory took no block: the
     * result is complete exactly when every block was taken */
    if (sh.next >= sh.nblocks)
        rc = 0;
    else if (!rc)
        rc = ERR_INTERNAL;
    if (rc)
        goto out;
    *groups = 0;
    for (size_t b = 0; b < pt.nblocks; b++)
        *groups += sh.groups[b];
out:
    if (lock_ok)
        pthread_mutex_destroy(&sh.lock);
    free(pt.ids);
    free(pt.keys);
    free(pt.zr);
    free(pt.mu);
    free(pt.cov);
    free(pt.vec);
    free(pt.ev);
    free(pt.blocks);
    free(sh.groups);
    return rc;
}

int anon_mdav(const double *x, size_t n, size_t p, size_t k, enum anon_method method, double *y,
              size_t *groups)
{
    size_t np;
    if (!x || !y || !groups || k < 2 || n < k || p == 0 || !size_mul(n, p, &np))
        return ERR_INVALID;
    if (method != ANON_MDAV_PLAIN && method != ANON_MDAV_FAST)
        return ERR_INVALID;
    for (size_t i = 0; i < np; i++)
        if (!isfinite(x[i]))
            return ERR_INVALID;

    struct stdz sz;
    struct mdav_work w;
    int rc = stdz_init(&sz, x, n, p);
    if (rc)
        return rc;
    memset(&w, 0, sizeof(w));
    struct mdav_ctx ctx = {.x = x, .n = n, .p = p, .k = k, .sz = &sz, .y = y};
    size_t *ids = NULL;
    if (method == ANON_MDAV_FAST && n > ANON_BLOCK_MAX) {
        rc = mdav_fast(&ctx, groups);
        goto out;
    }
    rc = ERR_NOMEM;
    ids = alloc_array(n, sizeof(size_t));
    if (!ids || mdav_work_init(&w, n, sz.q, k) != 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        ids[i] = i;
    *groups = mdav_block(&ctx, &w, ids, n);
    rc = 0;
out:
    free(ids);
    mdav_work_free(&w);
    stdz_free(&sz);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Deduplication of released rows                                            */

static uint64_t canon_bits(double v)
{
    uint64_t b;
    if (v == 0.0)
        return 0;
    if (isnan(v))
        return 0x7ff8000000000000ULL;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static uint64_t row_hash(const double *r, size_t p)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t j = 0; j < p; j++) {
        uint64_t st = h ^ canon_bits(r[j]);
        h = rng_splitmix(&st);
    }
    return h;
}

static int row_equal(const double *a, const double *b, size_t p)
{
    for (size_t j = 0; j < p; j++)
        if (canon_bits(a[j]) != canon_bits(b[j]))
            return 0;
    return 1;
}

struct distinct {
    size_t g;    /* distinct rows */
    size_t *of;  /* n: distinct row of each record */
    size_t *rep; /* g: first record with that row */
    size_t *cnt; /* g: its run length */
};

static void distinct_free(struct distinct *ds)
{
    free(ds->of);
    free(ds->rep);
    free(ds->cnt);
    memset(ds, 0, sizeof(*ds));
}

static int distinct_build(struct distinct *ds, const double *y, size_t n, size_t p)
{
    size_t cap = 16, *slot = NULL;
    int rc = ERR_NOMEM;
    memset(ds, 0, sizeof(*ds));
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 4)
            return ERR_NOMEM;
        cap *= 2;
    }
    slot = calloc_array(cap, sizeof(size_t));
    ds->of = alloc_array(n, sizeof(size_t));
    ds->rep = alloc_array(n, sizeof(size_t));
    ds->cnt = calloc_array(n, sizeof(size_t));
    if (!slot || !ds->of || !ds->rep || !ds->cnt)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const double *r = y + i * p;
        size_t h = (size_t)row_hash(r, p) & (cap - 1);
        for (;;) {
            if (slot[h] == 0) {
                slot[h] = ds->g + 1;
                ds->rep[ds->g] = i;
                ds->cnt[ds->g] = 1;
                ds->of[i] = ds->g++;
                break;
            }
            size_t g = slot[h] - 1;
            if (row_equal(y + ds->rep[g] * p, r, p)) {
                ds->cnt[g]++;
                ds->of[i] = g;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
    }
    rc = 0;
out:
    free(slot);
    if (rc)
        distinct_free(ds);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* k-d tree over the distinct released rows, for DBRL and partial linkage    */

struct kdnode {
    size_t lo, hi;      /* point range in tree order */
    size_t left, right; /* children, SIZE_MAX for a leaf */
};

struct kdt {
    size_t dim;  /* leading tree coordinates the boxes bound */
    size_t tdim; /* tree coordinates (pruning) */
    size_t edim; /* exact coordinates (distances) */
    size_t npts;
    double *tc;     /* npts*tdim, tree order */
    double *ec;     /* npts*edim, tree order */
    double *w;      /* npts: released rows it stands for */
    size_t *pos_of; /* distinct row id -> tree position */
    double *rad;    /* npts: norm of the tree coordinates beyond dim */
    double *nrad;   /* nodes * 2: smallest and largest rad in the node */
    struct kdnode *nodes;
    double *box; /* nodes * 2 * dim: lo[dim] then hi[dim] */
    size_t nn;
};

static void kdt_free(struct kdt *t)
{
    free(t->tc);
    free(t->ec);
    free(t->w);
    free(t->pos_of);
    free(t->rad);
    free(t->nrad);
    free(t->nodes);
    free(t->box);
    memset(t, 0, sizeof(*t));
}

struct kdt_build {
    struct kdt *t;
    const double *tc0; /* npts*tdim in distinct-row order */
    double *rad0;      /* npts: norm beyond dim, distinct-row order */
    size_t *perm;      /* tree position -> distinct row */
    struct key *keys;
};

static size_t kdt_node(struct kdt_build *b, size_t lo, size_t hi)
{
    struct kdt *t = b->t;
    size_t dim = t->dim, tdim = t->tdim, me = t->nn++;
    double *blo = t->box + me * 2 * dim, *bhi = blo + dim;
    t->nodes[me].lo = lo;
    t->nodes[me].hi = hi;
    t->nodes[me].left = t->nodes[me].right = SIZE_MAX;
    for (size_t a = 0; a < dim; a++) {
        blo[a] = INFINITY;
        bhi[a] = -INFINITY;
    }
    t->nrad[2 * me] = INFINITY;
    t->nrad[2 * me + 1] = -INFINITY;
    for (size_t i = lo; i < hi; i++) {
        double r = b->rad0[b->perm[i]];
        if (r < t->nrad[2 * me])
            t->nrad[2 * me] = r;
        if (r > t->nrad[2 * me + 1])
            t->nrad[2 * me + 1] = r;
    }
    for (size_t i = lo; i < hi; i++) {
        const double *c = b->tc0 + b->perm[i] * tdim;
        for (size_t a = 0; a < dim; a++) {
            if (c[a] < blo[a])
                blo[a] = c[a];
            if (c[a] > bhi[a])
                bhi[a] = c[a];
        }
    }
    if (hi - lo <= ANON_LEAF || dim == 0)
        return me;
    size_t sd = 0;
    for (size_t a = 1; a < dim; a++)
        if (bhi[a] - blo[a] > bhi[sd] - blo[sd])
            sd = a;
    if (!(bhi[sd] > blo[sd]))
        return me; /* all points coincide: keep them in one bucket */
    for (size_t i = lo; i < hi; i++) {
        b->keys[i - lo].v = b->tc0[b->perm[i] * tdim + sd];
        b->keys[i - lo].id = b->perm[i];
    }
    qsort(b->keys, hi - lo, sizeof(struct key), key_cmp);
    for (size_t i = lo; i < hi; i++)
        b->perm[i] = b->keys[i - lo].id;
    size_t mid = lo + (hi - lo) / 2;
    size_t l = kdt_node(b, lo, mid);
    size_t r = kdt_node(b, mid, hi);
    t->nodes[me].left = l;
    t->nodes[me].right = r;
    return me;
}

/* Build over npts points: tc0 (npts*tdim, an orthonormal transform of the
 * exact coordinates, the first dim of them bounded by the boxes) prunes,
 * ec0 (npts*edim) measures, w0 the weight of each point. */
static int kdt_init(struct kdt *t, const double *tc0, size_t tdim, size_t dim, const double *ec0,
                    size_t edim, const size_t *w0, size_t npts)
{
    struct kdt_build b = {.t = t, .tc0 = tc0};
    size_t nodes, tn, en, bn;
    int rc = ERR_NOMEM;
    memset(t, 0, sizeof(*t));
    t->dim = dim;
    t->tdim = tdim;
    t->edim = edim;
    t->npts = npts;
    if (!size_mul(npts, 2, &nodes) || !size_add(nodes, 1, &nodes) || !size_mul(npts, tdim, &tn) ||
        !size_mul(npts, edim, &en) || !size_mul(nodes, dim, &bn) || !size_mul(bn, 2, &bn))
        goto out;
    t->tc = alloc_array(tn, sizeof(double));
    t->ec = alloc_array(en, sizeof(double));
    t->w = alloc_array(npts, sizeof(double));
    t->pos_of = alloc_array(npts, sizeof(size_t));
    t->rad = alloc_array(npts, sizeof(double));
    t->nrad = alloc_array(nodes, 2 * sizeof(double));
    b.rad0 = alloc_array(npts, sizeof(double));
    t->nodes = alloc_array(nodes, sizeof(struct kdnode));
    t->box = alloc_array(bn, sizeof(double));
    b.perm = alloc_array(npts, sizeof(size_t));
    b.keys = alloc_array(npts, sizeof(struct key));
    if (!t->tc || !t->ec || !t->w || !t->pos_of || !t->rad || !t->nrad || !t->nodes || !t->box ||
        !b.perm || !b.keys || !b.rad0)
        goto out;
    for (size_t i = 0; i < npts; i++) {
        double r = 0.0;
        for (size_t a = dim; a < tdim; a++)
            r += tc0[i * tdim + a] * tc0[i * tdim + a];
        b.rad0[i] = sqrt(r);
        b.perm[i] = i;
    }
    if (npts > 0)
        kdt_node(&b, 0, npts);
    for (size_t i = 0; i < npts; i++) {
        size_t g = b.perm[i];
        memcpy(t->tc + i * tdim, tc0 + g * tdim, tdim * sizeof(double));
        memcpy(t->ec + i * edim, ec0 + g * edim, edim * sizeof(double));
        t->w[i] = (double)w0[g];
        t->pos_of[g] = i;
        t->rad[i] = b.rad0[g];
    }
    rc = 0;
out:
    free(b.perm);
    free(b.keys);
    free(b.rad0);
    if (rc)
        kdt_free(t);
    return rc;
}

struct kdq {
    const struct kdt *t;
    const double *qt; /* query in tree coordinates */
    const double *qe; /* query in exact coordinates */
    size_t own;       /* tree position of the record's own row */
    double qrad;      /* norm of qt beyond the boxed coordinates */
    double d_own, bound, prune;
    int nearer;      /* found a row strictly nearer than own */
    double *cd, *cw; /* candidates within bound: distance, weight */
    size_t nc, capc;
};

/* Squared distance from qt to the node's box; stops early (returning
 * something > limit) once the partial sum exceeds limit. */
static double node_lb(const struct kdt *t, size_t node, const double *qt, double qrad, double limit)
{
    size_t dim = t->dim;
    const double *lo = t->box + node * 2 * dim, *hi = lo + dim;
    double lb = 0.0;
    /* |a - b| >= | |a| - |b| | on the coordinates beyond dim */
    if (qrad < t->nrad[2 * node])
        lb = (t->nrad[2 * node] - qrad) * (t->nrad[2 * node] - qrad);
    else if (qrad > t->nrad[2 * node + 1])
        lb = (qrad - t->nrad[2 * node + 1]) * (qrad - t->nrad[2 * node + 1]);
    for (size_t a = 0; a < dim; a++) {
        double g = 0.0;
        if (qt[a] < lo[a])
            g = lo[a] - qt[a];
        else if (qt[a] > hi[a])
            g = qt[a] - hi[a];
        lb += g * g;
        if (lb > limit)
            return lb;
    }
    return lb;
}

/* Squared distance of tree point i to the query in tree coordinates
 * (largest components first); stops early (returning something > limit)
 * once the partial sum exceeds limit. */
static double kd_tree_dist(const struct kdt *t, size_t i, const double *qt, double qrad,
                           double limit)
{
    const double *c = t->tc + i * t->tdim;
    double s = 0.0;
    for (size_t a = 0; a < t->dim; a++) {
        double v = c[a] - qt[a];
        s += v * v;
    }
    double r = qrad - t->rad[i];
    if (s + r * r > limit)
        return s + r * r;
    for (size_t a = t->dim; a < t->tdim; a++) {
        double v = c[a] - qt[a];
        s += v * v;
        if (s > limit)
            return s;
    }
    return s;
}

/* Squared distance of tree point i to the query in exact coordinates. */
static double kd_exact(const struct kdt *t, size_t i, const double *qe)
{
    const double *c = t->ec + i * t->edim;
    double s = 0.0;
    for (size_t a = 0; a < t->edim; a++) {
        double v = c[a] - qe[a];
        s += v * v;
    }
    return s;
}

static int kd_search(struct kdq *q, size_t node)
{
    const struct kdt *t = q->t;
    const struct kdnode *nd = &t->nodes[node];
    if (nd->left == SIZE_MAX) {
        for (size_t i = nd->lo; i < nd->hi; i++) {
            if (i == q->own)
                continue;
            if (kd_tree_dist(t, i, q->qt, q->qrad, q->prune) > q->prune)
                continue;
            double d = kd_exact(t, i, q->qe);
            if (d > q->bound)
                continue;
            if (d < q->d_own - ANON_TIE_EPS) {
                q->nearer = 1;
                return 0;
            }
            if (q->nc == q->capc) {
                size_t nc2 = q->capc ? q->capc * 2 : 16;
                double *a = realloc(q->cd, nc2 * sizeof(double));
                if (!a)
                    return ERR_NOMEM;
                q->cd = a;
                double *b2 = realloc(q->cw, nc2 * sizeof(double));
                if (!b2)
                    return ERR_NOMEM;
                q->cw = b2;
                q->capc = nc2;
            }
            q->cd[q->nc] = d;
            q->cw[q->nc] = t->w[i];
            q->nc++;
        }
        return 0;
    }
    double ll = node_lb(t, nd->left, q->qt, q->qrad, q->prune);
    double lr = node_lb(t, nd->right, q->qt, q->qrad, q->prune);
    size_t first = nd->left, second = nd->right;
    if (lr < ll) {
        first = nd->right;
        second = nd->left;
        double tmp = ll;
        ll = lr;
        lr = tmp;
    }
    if (ll <= q->prune) {
        int rc = kd_search(q, first);
        if (rc || q->nearer)
            return rc;
    }
    if (lr <= q->prune)
        return kd_search(q, second);
    return 0;
}

/* The linkage hit of one record: 1/|T| (|T| in released rows) when its own
 * row is among the nearest, else 0. */
static int kd_hit(struct kdq *q, size_t own_pos, double *hit)
{
    const struct kdt *t = q->t;
    q->own = own_pos;
    q->qrad = 0.0;
    for (size_t a = t->dim; a < t->tdim; a++)
        q->qrad += q->qt[a] * q->qt[a];
    q->qrad = sqrt(q->qrad);
    q->d_own = kd_exact(t, own_pos, q->qe);
    q->bound = q->d_own + ANON_TIE_EPS;
    q->prune = q->bound * (1.0 + 1e-9) + 1e-12; /* slack for the rotated basis */
    q->nearer = 0;
    q->nc = 0;
    int rc = t->nn ? kd_search(q, 0) : 0;
    if (rc)
        return rc;
    if (q->nearer) {
        *hit = 0.0;
        return 0;
    }
    double m = q->d_own;
    for (size_t c = 0; c < q->nc; c++)
        if (q->cd[c] < m)
            m = q->cd[c];
    double wsum = t->w[own_pos];
    for (size_t c = 0; c < q->nc; c++)
        if (q->cd[c] <= m + ANON_TIE_EPS)
            wsum += q->cw[c];
    *hit = 1.0 / wsum;
    return 0;
}

/* Linkage over all records, on threads. Full DBRL: query = z on the q
 * columns, tree coordinates = all q principal components (rot). Partial:
 * query = z of the noisy observation on the attacker's columns, tree
 * coordinates = those same values (rot NULL). */
struct link_job {
    const struct kdt *t;
    const double *x;
    size_t n, p;
    const struct stdz *sz;
    const struct distinct *ds;
    const size_t *ecol;  /* edim original columns of the exact space */
    const double *rot;   /* DBRL: tdim x edim rotation (rows = components) */
    const double *noise; /* partial: n x edim tape errors, mm */
    double *hit;         /* n */
    size_t next;
    pthread_mutex_t lock;
};

struct link_thread {
    struct link_job *job;
    int rc;
};

#define LINK_CHUNK 256

static void *link_worker(void *arg)
{
    struct link_thread *lt = arg;
    struct link_job *jb = lt->job;
    const struct kdt *t = jb->t;
    size_t edim = t->edim;
    struct kdq q;
    memset(&q, 0, sizeof(q));
    double *qe = alloc_array(edim, sizeof(double));
    double *qt = jb->rot ? alloc_array(t->tdim, sizeof(double)) : NULL;
    lt->rc = ERR_NOMEM;
    if (!qe || (jb->rot && !qt))
        goto out;
    lt->rc = 0;
    q.t = t;
    q.qe = qe;
    q.qt = jb->rot ? qt : qe;
    for (;;) {
        pthread_mutex_lock(&jb->lock);
        size_t i0 = jb->next;
        jb->next = i0 + LINK_CHUNK < jb->n ? i0 + LINK_CHUNK : jb->n;
        size_t i1 = jb->next;
        pthread_mutex_unlock(&jb->lock);
        if (i0 >= i1)
            break;
        for (size_t i = i0; i < i1; i++) {
            const double *xr = jb->x + i * jb->p;
            for (size_t a = 0; a < edim; a++) {
                size_t j = jb->ecol[a];
                double v = xr[j];
                if (jb->noise)
                    v += jb->noise[i * edim + a];
                qe[a] = (v - jb->sz->mean[j]) / jb->sz->sd[j];
            }
            if (jb->rot)
                for (size_t b = 0; b < t->tdim; b++) {
                    const double *rv = jb->rot + b * edim;
                    double s = 0.0;
                    for (size_t a = 0; a < edim; a++)
                        s += rv[a] * qe[a];
                    qt[b] = s;
                }
            lt->rc = kd_hit(&q, t->pos_of[jb->ds->of[i]], &jb->hit[i]);
            if (lt->rc)
                goto out;
        }
    }
out:
    free(qe);
    free(qt);
    free(q.cd);
    free(q.cw);
    return NULL;
}

/* 100 * mean hit over the n records. */
static int link_run(struct link_job *jb, double *pct)
{
    struct link_thread th[ANON_THREADS];
    pthread_t tid[ANON_THREADS];
    unsigned nt = thread_count(jb->n / LINK_CHUNK + 1), started = 0;
    int rc;
    if (pthread_mutex_init(&jb->lock, NULL) != 0)
        return ERR_INTERNAL;
    jb->next = 0;
    for (unsigned t = 0; t < nt; t++) {
        th[t].job = jb;
        th[t].rc = 0;
        if (t > 0) {
            if (pthread_create(&tid[t], NULL, link_worker, &th[t]) != 0)
                break;
            started++;
        }
    }
    link_worker(&th[0]);
    rc = th[0].rc;
    for (unsigned t = 1; t <= started; t++) {
        pthread_join(tid[t], NULL);
        if (!rc)
            rc = th[t].rc;
    }
    pthread_mutex_destroy(&jb->lock);
    if (rc)
        return rc;
    double s = 0.0;
    for (size_t i = 0; i < jb->n; i++)
        s += jb->hit[i];
    *pct = jb->n ? 100.0 * s / (double)jb->n : 0.0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* anon_measure                                                              */

/* Pearson correlations of the q columns col[] of m (n x p), into r (q x q);
 * a constant column correlates 0 with everything. */
static int corr_matrix(const double *m, size_t n, size_t p, const size_t *col, size_t q, double *r)
{
    double *mu = calloc_array(q, sizeof(double)), *zr = alloc_array(q, sizeof(double));
    int rc = ERR_NOMEM;
    if (!mu || !zr)
        goto out;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < q; a++)
            mu[a] += m[i * p + col[a]];
    for (size_t a = 0; a < q; a++)
        mu[a] /= (double)n;
    for (size_t a = 0; a < q * q; a++)
        r[a] = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < q; a++)
            zr[a] = m[i * p + col[a]] - mu[a];
        for (size_t a = 0; a < q; a++) {
            double za = zr[a];
            double *row = r + a * q;
            for (size_t b = a; b < q; b++)
                row[b] += za * zr[b];
        }
    }
    for (size_t a = 0; a < q; a++)
        mu[a] = r[a * q + a] > 0.0 ? sqrt(r[a * q + a]) : 0.0; /* reuse as norms */
    for (size_t a = 0; a < q; a++)
        for (size_t b = a; b < q; b++) {
            double den = mu[a] * mu[b];
            double v = den > 0.0 ? r[a * q + b] / den : 0.0;
            if (a == b)
                v = mu[a] > 0.0 ? 1.0 : 0.0;
            r[a * q + b] = r[b * q + a] = v;
        }
    rc = 0;
out:
    free(mu);
    free(zr);
    return rc;
}

void anon_figures_free(struct anon_figures *f)
{
    if (!f)
        return;
    free(f->mae);
    f->mae = NULL;
}

int anon_measure(const double *x, const double *y, size_t n, size_t p, size_t k,
                 const int partial_cols[4], uint64_t seed, struct anon_figures *f)
{
    struct stdz sz;
    struct distinct ds;
    struct kdt tree;
    double *my = NULL, *sdy = NULL, *r0 = NULL, *r1 = NULL, *vec = NULL, *ev = NULL;
    double *cz = NULL, *ct = NULL, *cp = NULL, *hit = NULL, *noise = NULL;
    size_t np, qq, pc[4], npc = 0;
    int rc;

    if (!f)
        return ERR_INVALID;
    memset(f, 0, sizeof(*f));
    if (!x || !y || n == 0 || p == 0 || !size_mul(n, p, &np) || !size_mul(p, p, &qq))
        return ERR_INVALID;
    for (size_t i = 0; i < np; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return ERR_INVALID;
    if (partial_cols) {
        int skip = 0;
        for (int a = 0; a < 4; a++) {
            if (partial_cols[a] < 0)
                skip = 1;
            else if ((size_t)partial_cols[a] >= p)
                return ERR_INVALID;
        }
        if (!skip)
            npc = 4;
    }
    f->n = n;
    f->p = p;
    f->k = k;
    memset(&ds, 0, sizeof(ds));
    memset(&tree, 0, sizeof(tree));
    rc = stdz_init(&sz, x, n, p);
    if (rc)
        return rc;
    rc = ERR_NOMEM;
    size_t q = sz.q;
    f->mae = calloc_array(p, sizeof(double));
    my = calloc_array(p, sizeof(double));
    sdy = calloc_array(p, sizeof(double));
    r0 = alloc_array(qq, sizeof(double));
    r1 = alloc_array(qq, sizeof(double));
    vec = alloc_array(qq, sizeof(double));
    ev = alloc_array(p, sizeof(double));
    hit = alloc_array(n, sizeof(double));
    if (!f->mae || !my || !sdy || !r0 || !r1 || !vec || !ev || !hit)
        goto out;

    /* k-anonymity: runs of identical released rows */
    rc = distinct_build(&ds, y, n, p);
    if (rc)
        goto out;
    f->groups = ds.g;
    f->min_run = SIZE_MAX;
    for (size_t g = 0; g < ds.g; g++)
        if (ds.cnt[g] < f->min_run)
            f->min_run = ds.cnt[g];
    f->max_risk = 1.0 / (double)f->min_run;

    /* released means and SDs; MAE; mean differences */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) {
            my[j] += y[i * p + j];
            f->mae[j] += fabs(x[i * p + j] - y[i * p + j]);
        }
    for (size_t j = 0; j < p; j++) {
        my[j] /= (double)n;
        f->mae[j] /= (double)n;
        double dm = fabs(my[j] - sz.mean[j]);
        if (dm > f->max_mean_diff || isnan(dm))
            f->max_mean_diff = dm;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) {
            double t = y[i * p + j] - my[j];
            sdy[j] += t * t;
        }
    for (size_t j = 0; j < p; j++)
        sdy[j] = n > 1 ? sqrt(sdy[j] / (double)(n - 1)) : 0.0;

    /* IL, IL1s, SDID */
    double sse = 0.0, sst = 0.0, il1 = 0.0;
    size_t risky = 0;
    for (size_t i = 0; i < n; i++) {
        int at_risk = 1;
        for (size_t j = 0; j < p; j++) {
            double dx = x[i * p + j] - y[i * p + j];
            if (!(fabs(dx) <= ANON_SDID_C * sdy[j]))
                at_risk = 0;
        }
        risky += (size_t)at_risk;
        for (size_t a = 0; a < q; a++) {
            size_t j = sz.col[a];
            double z = (x[i * p + j] - sz.mean[j]) / sz.sd[j];
            double zy = (y[i * p + j] - sz.mean[j]) / sz.sd[j];
            sse += (z - zy) * (z - zy);
            sst += z * z;
            il1 += fabs(x[i * p + j] - y[i * p + j]) / (sqrt(2.0) * sz.sd[j]);
        }
    }
    f->il = sst > 0.0 ? 100.0 * sse / sst : 0.0;
    f->il1s = il1 / ((double)n * (double)p);
    f->sdid = 100.0 * (double)risky / (double)n;

    /* correlation change over column pairs with sd > 0 */
    rc = corr_matrix(x, n, p, sz.col, q, r0);
    if (rc == 0)
        rc = corr_matrix(y, n, p, sz.col, q, r1);
    if (rc)
        goto out;
    if (q >= 2) {
        double s = 0.0;
        for (size_t a = 0; a < q; a++)
            for (size_t b = a + 1; b < q; b++)
                s += fabs(r0[a * q + b] - r1[a * q + b]);
        f->corr_change = s / ((double)q * (double)(q - 1) / 2.0);
    }

    /* DBRL: k-d tree on the principal components of the originals */
    size_t dim = q < ANON_TREE_DIMS ? q : ANON_TREE_DIMS, gq;
    if (!size_mul(ds.g, q, &gq)) {
        rc = ERR_NOMEM;
        goto out;
    }
    if (q > 0) {
        rc = eig_sym(r0, q, vec, ev); /* r0 is the covariance of z */
        if (rc)
            goto out;
    }
    rc = ERR_NOMEM;
    cz = alloc_array(gq, sizeof(double));
    ct = alloc_array(gq, sizeof(double));
    if (!cz || !ct)
        goto out;
    for (size_t g = 0; g < ds.g; g++) {
        const double *yr = y + ds.rep[g] * p;
        for (size_t a = 0; a < q; a++) {
            size_t j = sz.col[a];
            cz[g * q + a] = (yr[j] - sz.mean[j]) / sz.sd[j];
        }
        for (size_t b = 0; b < q; b++) {
            double s = 0.0;
            for (size_t a = 0; a < q; a++)
                s += vec[b * q + a] * cz[g * q + a];
            ct[g * q + b] = s;
        }
    }
    rc = kdt_init(&tree, ct, q, dim, cz, q, ds.cnt, ds.g);
    if (rc)
        goto out;
    struct link_job jb = {.t = &tree,
                          .x = x,
                          .n = n,
                          .p = p,
                          .sz = &sz,
                          .ds = &ds,
                          .ecol = sz.col,
                          .rot = vec,
                          .hit = hit};
    rc = link_run(&jb, &f->dbrl);
    if (rc)
        goto out;
    kdt_free(&tree);

    /* partial knowledge: 4 columns with tape error */
    if (npc) {
        struct rng g;
        size_t nq = 0;
        for (int a = 0; a < 4; a++)
            if (sz.sd[partial_cols[a]] > 0.0)
                pc[nq++] = (size_t)partial_cols[a];
        rc = ERR_NOMEM;
        noise = alloc_array(n, 4 * sizeof(double));
        cp = alloc_array(ds.g, 4 * sizeof(double));
        if (!noise || !cp)
            goto out;
        rng_seed(&g, seed);
        for (size_t i = 0; i < n; i++) {
            size_t c = 0;
            for (int a = 0; a < 4; a++) {
                double e = ANON_TAPE_SD * rng_normal(&g);
                if (sz.sd[partial_cols[a]] > 0.0)
                    noise[i * nq + c++] = e;
            }
        }
        if (nq == 0) {
            /* nothing distinguishes any row: every released row ties */
            f->partial = 100.0 / (double)n;
        } else {
            for (size_t gg = 0; gg < ds.g; gg++) {
                const double *yr = y + ds.rep[gg] * p;
                for (size_t a = 0; a < nq; a++)
                    cp[gg * nq + a] = (yr[pc[a]] - sz.mean[pc[a]]) / sz.sd[pc[a]];
            }
            rc = kdt_init(&tree, cp, nq, nq, cp, nq, ds.cnt, ds.g);
            if (rc)
                goto out;
            struct link_job jp = {.t = &tree,
                                  .x = x,
                                  .n = n,
                                  .p = p,
                                  .sz = &sz,
                                  .ds = &ds,
                                  .ecol = pc,
                                  .noise = noise,
                                  .hit = hit};
            rc = link_run(&jp, &f->partial);
            if (rc)
                goto out;
        }
    }
    rc = 0;
out:
    kdt_free(&tree);
    distinct_free(&ds);
    stdz_free(&sz);
    free(my);
    free(sdy);
    free(r0);
    free(r1);
    free(vec);
    free(ev);
    free(cz);
    free(ct);
    free(cp);
    free(hit);
    free(noise);
    if (rc)
        anon_figures_free(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Gates (SPEC 6.1)                                                          */

int anon_gates_pass(const struct anon_figures *f, char *why, size_t whyn)
{
    char buf[160];
    int ok = 0;
    if (!f) {
        snprintf(buf, sizeof(buf), "no figures");
        goto out;
    }
    if (f->k < 2) {
        snprintf(buf, sizeof(buf), "k-anonymity: k=%zu < 2", f->k);
        goto out;
    }
    if (f->n == 0 || f->min_run < f->k) {
        snprintf(buf, sizeof(buf), "k-anonymity: smallest group %zu < k=%zu", f->min_run, f->k);
        goto out;
    }
    double dbrl_max = 100.0 / (double)f->k + 1.0;
    if (!(f->dbrl <= dbrl_max)) {
        snprintf(buf, sizeof(buf), "record linkage %.1f%% > %.1f%%", f->dbrl, dbrl_max);
        goto out;
    }
    if (!(f->partial <= 5.0)) {
        snprintf(buf, sizeof(buf), "partial-knowledge linkage %.1f%% > 5.0%%", f->partial);
        goto out;
    }
    if (!(f->sdid <= 1.0)) {
        snprintf(buf, sizeof(buf), "interval disclosure %.1f%% > 1.0%%", f->sdid);
        goto out;
    }
    if (!(f->max_mean_diff <= 0.5 + 1e-9)) {
        snprintf(buf, sizeof(buf), "mean difference %.2f mm > 0.50 mm", f->max_mean_diff);
        goto out;
    }
    if (!(f->il <= 25.0)) {
        snprintf(buf, sizeof(buf), "information loss %.1f%% > 25.0%%", f->il);
        goto out;
    }
    if (!(f->corr_change <= 0.12)) {
        snprintf(buf, sizeof(buf), "correlation change %.3f > 0.120", f->corr_change);
        goto out;
    }
    buf[0] = '\0';
    ok = 1;
out:
    if (why && whyn)
        snprintf(why, whyn, "%s", buf);
    return ok;
}
