/*
 * synth.c - the synthetic body generator (see synth.h). Deterministic for a
 * given rng state; the order and number of draws is part of the contract.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "privacy/synth.h"

static const char *const synth_girth[] = {
    "ankle",     "biceps", "bustFront", "chest",          "heel",      "highBust", "highBustFront",
    "hips",      "knee",   "seat",      "seatBack",       "underbust", "upperLeg", "waist",
    "waistBack", "wrist",  "crossSeam", "crossSeamFront", NULL};
static const char *const synth_vertical[] = {
    "crotchDepth",      "hpsToBust",       "hpsToWaistBack",     "hpsToWaistFront",
    "inseam",           "shoulderToElbow", "shoulderToWrist",    "waistToArmpit",
    "waistToFloor",     "waistToHips",     "waistToKnee",        "waistToSeat",
    "waistToUnderbust", "waistToUpperLeg", "shoulderToShoulder", NULL};

static int synth_in(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* Per column, once: 1 when in synth_girth / synth_vertical (synth_in by
 * name for every body and column put strcmp at 3 to 7 % of the DP tests'
 * profiles). */
static unsigned char synth_is_girth[MEASURES_COUNT], synth_is_vertical[MEASURES_COUNT];
static int synth_slope = -1;
static pthread_once_t synth_once = PTHREAD_ONCE_INIT;

static void synth_classify(void)
{
    for (int i = 0; i < MEASURES_COUNT; i++) {
        synth_is_girth[i] = (unsigned char)synth_in(synth_girth, measures_table[i].name);
        synth_is_vertical[i] = (unsigned char)synth_in(synth_vertical, measures_table[i].name);
    }
    synth_slope = measures_find("shoulderSlope");
}

static double synth_clamp(int i, double v)
{
    v = round(v);
    if (v < measures_table[i].min)
        return measures_table[i].min;
    return v > measures_table[i].max ? measures_table[i].max : v;
}

void synth_body(struct rng *r, int breasts, double value[MEASURES_COUNT],
                unsigned char have[MEASURES_COUNT])
{
    double n0 = breasts ? 340.0 : 380.0;
    double z = rng_normal(r), w = rng_normal(r), h = rng_normal(r);
    double neck = n0 * (1.0 + 0.07 * z);

    pthread_once(&synth_once, synth_classify);
    for (int i = 0; i < MEASURES_COUNT; i++) {
        const struct measure *m = &measures_table[i];
        double e = rng_normal(r); /* drawn for every name: same stream for both strata */
        have[i] = breasts || !m->breasts_only;
        if (i == synth_slope) {
            value[i] = synth_clamp(i, 13.0 + 3.0 * e);
            continue;
        }
        double f = 1.0 + 0.035 * e + 0.06 * w * synth_is_girth[i] + 0.04 * h * synth_is_vertical[i];
        value[i] = have[i] ? synth_clamp(i, measures_predict(i, breasts, neck) * f) : 0.0;
    }
}

void synth_sparsify(struct rng *r, unsigned char have[MEASURES_COUNT])
{
    int drop = 2 + (int)rng_below(r, 11), neck = measures_find("neck");

    for (int k = 0; k < drop; k++) {
        int i = (int)rng_below(r, MEASURES_COUNT);
        if (i != neck)
            have[i] = 0;
    }
}

void synth_person(struct rng *r, int *breasts, double value[MEASURES_COUNT],
                  unsigned char have[MEASURES_COUNT])
{
    *breasts = rng_below(r, 2) == 1;
    synth_body(r, *breasts, value, have);
    if (rng_below(r, 100) < 15)
        synth_sparsify(r, have);
}

size_t synth_columns(int breasts)
{
    size_t p = 0;

    for (int i = 0; i < MEASURES_COUNT; i++)
        p += breasts || !measures_table[i].breasts_only;
    return p;
}

void synth_table(struct rng *r, int breasts, size_t n, double *x)
{
    double v[MEASURES_COUNT];
    unsigned char have[MEASURES_COUNT];

    for (size_t row = 0; row < n; row++) {
        synth_body(r, breasts, v, have);
        for (int i = 0; i < MEASURES_COUNT; i++)
            if (have[i])
                *x++ = v[i];
    }
}
