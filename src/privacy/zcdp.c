/*
 * zcdp.c - STAND-IN for the accounting module (see zcdp.h), private to the
 * dpmech branch so that dpmech.c links and its tests run. The real zcdp.c
 * is written on the zcdp branch; when merging, take theirs and drop this
 * file. Only zcdp_plan and zcdp_plan_check are provided.
 *
 * Invariants (the design's section 3, steps 4-6): b2 = 2p; q = 32, c = 4;
 * sigma2 = ceil(delta2 * 100000 / (2 rho_milli pct)) in exact integers; the
 * moments' delta2 is the stated bound plus one unit of slack (it only adds
 * noise), which gives the design's published integers.
 */
#include "base/err.h"
#include "privacy/dgauss.h"
#include "privacy/zcdp.h"

typedef unsigned __int128 u128;

const unsigned zcdp_share_pct[ZCDP_Q__N] = {5, 10, 10, 65, 10};
const char *const zcdp_query_name[ZCDP_Q__N] = {"counts", "stage1", "sum", "second_moments",
                                                "histograms"};

int zcdp_plan(uint32_t rho_milli, size_t p, struct zcdp_plan *pl)
{
    if (!pl || p < 1 || p > 38 || rho_milli < 10 || rho_milli > 1000)
        return ERR_INVALID;
    uint64_t q2 = (uint64_t)ZCDP_Q * ZCDP_Q, cq = (uint64_t)ZCDP_C * ZCDP_Q;
    pl->rho_milli = rho_milli;
    pl->p = p;
    pl->b2 = 2 * (uint64_t)p;
    pl->delta2[ZCDP_Q_COUNTS] = 1;
    pl->delta2[ZCDP_Q_STAGE1] = 2 * pl->b2 * q2;
    pl->delta2[ZCDP_Q_SUM] = pl->b2 * q2;
    pl->delta2[ZCDP_Q_MOMENTS] = (pl->b2 * pl->b2 * q2 * q2 + cq * cq * pl->b2 * q2) / 2 + 1;
    pl->delta2[ZCDP_Q_HIST] = 4;
    for (int i = 0; i < ZCDP_Q__N; i++) {
        u128 num = (u128)pl->delta2[i] * 100000, den = (u128)2 * rho_milli * zcdp_share_pct[i];
        u128 s2 = (num + den - 1) / den;
        if (s2 > DGAUSS_SIGMA2_MAX)
            return ERR_INVALID;
        pl->sigma2[i] = (uint64_t)s2;
    }
    return 0;
}

int zcdp_plan_check(const struct zcdp_plan *pl)
{
    for (int i = 0; i < ZCDP_Q__N; i++)
        if ((u128)pl->delta2[i] * 100000 >
            (u128)2 * pl->sigma2[i] * pl->rho_milli * zcdp_share_pct[i])
            return 0;
    return 1;
}
