/*
 * measures.h - the measurement vocabulary: the 38 names FreeSewing users
 * know, their units, meanings, plausible ranges, and which ones only apply
 * to bodies with breasts.
 *
 * Values are millimetres, except shoulderSlope in degrees. A model without
 * breasts is described by 30 measurements, one with breasts by all 38.
 */
#ifndef ATELIER_MEASURES_H
#define ATELIER_MEASURES_H

#include <stddef.h>

#define MEASURES_COUNT 38

struct measure {
    const char *name;        /* camelCase, as FreeSewing names it */
    const char *unit;        /* "mm" or "deg" */
    const char *description; /* how it is taken */
    int breasts_only;        /* shown only for bodies with breasts */
    double min, max;         /* plausible range, inclusive */
    double base_breasts;     /* average body with breasts (neck 340 mm) */
    double base_flat;        /* average body without (neck 380 mm) */
    double ratio;            /* how it scales with neck size (0: not at all) */
};

extern const struct measure measures[MEASURES_COUNT];

/* Index of a name, or -1. */
int measures_find(const char *name);

/* What neck size predicts for measure i on such a body. */
double measures_predict(int i, int breasts, double neck);

/* 1 when value is far from what the neck predicts (more than
 * MEASURES_IMPLAUSIBLE_RATIO away relative to the prediction). */
#define MEASURES_IMPLAUSIBLE_RATIO 0.35
int measures_implausible(int i, int breasts, double neck, double value);

/* Check one value given for name on a body with or without breasts: known
 * name, a finite number within the range, not breasts-only on a body
 * without. Returns 0, or ERR_INVALID with the field ("measurements.<name>",
 * the name cut to 40 bytes at a character boundary) and a sentence in msg. */
int measures_check(const char *name, double value, int is_number, int breasts, char *field,
                   size_t fieldn, char *msg, size_t msgn);

#endif
