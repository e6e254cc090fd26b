/*
 * synth.h - synthetic bodies for demos, tests and benchmarks.
 *
 * Three latent factors (size, girth, height) plus 3.5 % individual noise per
 * measurement, around the average bodies of measures.c:
 *
 *   neck = N0 (1 + 0.07 z)
 *   x_m  = B[m] (1 + ratio[m] (neck - N0) / N0) (1 + 0.035 e_m + 0.06 w [girth] + 0.04 h
 * [vertical]) shoulderSlope = 13 + 3 N(0,1) degrees
 *
 * with z, w, h, e_m standard normal; values rounded to whole mm and kept in
 * the plausible ranges. A body without breasts has no breasts-only values.
 */
#ifndef ATELIER_SYNTH_H
#define ATELIER_SYNTH_H

#include "atelier/draft.h"
#include "base/rng.h"

/* One complete body into value[] (have[i] = 1 for every applicable i). */
void synth_body(struct rng *r, int breasts, double value[MEASURES_COUNT],
                unsigned char have[MEASURES_COUNT]);

/* Make a complete body sparse the way real users are: drop 2 to 12 random
 * measurements (never the neck). */
void synth_sparsify(struct rng *r, unsigned char have[MEASURES_COUNT]);

#endif
