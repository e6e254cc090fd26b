/*
 * synth.h - the reference population: synthetic bodies for `atelier
 * populate`, the anonymization unit tests and bench/anon_bench.c (one model,
 * so that tests, benchmarks and demos measure the same people).
 *
 * Three latent factors (size z, girth w, height h) plus 3.5 % individual
 * noise e_m per measurement, around the average bodies of measures.c:
 *
 *   neck = N0 (1 + 0.07 z)
 *   x_m  = predict_m(neck) (1 + 0.035 e_m + 0.06 w [girth] + 0.04 h [vertical])
 *   shoulderSlope = 13 + 3 e_m degrees
 *
 * with z, w, h, e_m standard normal from rng.h, drawn z, w, h, then one e_m
 * per name of measures_table[] in order (also for names that do not apply); values
 * rounded to whole mm and kept in the plausible ranges. A body without
 * breasts has no breasts-only values. The draws are fixed: `atelier populate
 * --seed S` gives the same bodies across versions (the open-data tests rely
 * on it; tests/unit/test_synth.c pins them).
 */
#ifndef ATELIER_SYNTH_H
#define ATELIER_SYNTH_H

#include <stddef.h>

#include "base/rng.h"
#include "atelier/draft.h"

/* One complete body into value[] (have[i] = 1 for every applicable i). */
void synth_body(struct rng *r, int breasts, double value[MEASURES_COUNT],
                unsigned char have[MEASURES_COUNT]);

/* Make a complete body sparse the way real users are: drop 2 to 12 random
 * measurements (never the neck). */
void synth_sparsify(struct rng *r, unsigned char have[MEASURES_COUNT]);

/* One person of `atelier populate`'s population: *breasts at even odds
 * (rng_below(r, 2) == 1), a synth_body of that stratum, then sparse
 * (synth_sparsify) when rng_below(r, 100) < 15. */
void synth_person(struct rng *r, int *breasts, double value[MEASURES_COUNT],
                  unsigned char have[MEASURES_COUNT]);

/* Columns of synth_table for a stratum: MEASURES_COUNT with breasts, the
 * MEASURES_COUNT - 8 that apply without. */
size_t synth_columns(int breasts);

/* n complete bodies of one stratum as a row-major n x synth_columns(breasts)
 * table, columns in measures_table[] order (the bodies synth_body draws). */
void synth_table(struct rng *r, int breasts, size_t n, double *x);

#endif
