/*
 * measures.c - the measurement vocabulary (see atelier/draft.h).
 *
 * Written for atelier from the published meaning of each FreeSewing
 * measurement. Base values are FreeSewing's average bodies (neck 340 mm with
 * breasts, 380 mm without) and ratio is how strongly a measurement follows
 * neck size; together they predict a measurement from the neck, which is
 * how implausible values are spotted. Ranges are wide on purpose (0.4x the
 * smaller base to 2.2x the larger, rounded to 5 mm; 0-45 degrees for the
 * shoulder slope): they refuse typing mistakes and absurd values, not
 * unusual bodies.
 *
 * Invariant: names are sorted (measures_find relies on it; a unit test
 * checks it), exactly 8 are breasts-only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "atelier/draft.h"
#include "base/util.h"

const struct measure measures_table[MEASURES_COUNT] = {
    {"ankle", "mm", "girth just above the ankle", 0, 95, 540, 245, 235, 1.0},
    {"biceps", "mm", "girth at the fullest part of the upper arm", 0, 110, 770, 270, 350, 1.0},
    {"bustFront", "mm", "front part of the bust girth, side seam to side seam across the breasts",
     1, 190, 1230, 480, 560, 0.5},
    {"bustPointToUnderbust", "mm", "from the bust point down to where the breast meets the torso",
     1, 25, 220, 100, 60, 0.5},
    {"bustSpan", "mm", "straight horizontal distance between the two bust points", 1, 65, 420, 160,
     190, 0.5},
    {"chest", "mm", "horizontal girth at the fullest part of the chest or bust", 0, 370, 2200, 925,
     1000, 1.0},
    {"crossSeam", "mm",
     "from the centre front waist, between the legs, up to the centre back waist", 0, 295, 1915,
     740, 870, 0.6},
    {"crossSeamFront", "mm", "front part of the cross seam: centre front waist to the crotch", 0,
     150, 900, 370, 410, 0.6},
    {"crotchDepth", "mm", "seated: vertical distance from the waist to the seat surface", 0, 110,
     750, 270, 340, 0.65},
    {"head", "mm", "girth at forehead height", 0, 225, 1300, 565, 590, 0.35},
    {"heel", "mm", "girth around heel and instep with the foot stretched", 0, 125, 790, 315, 360,
     0.25},
    {"highBust", "mm", "chest girth right under the arms, above the bust", 1, 345, 2265, 865, 1030,
     1.0},
    {"highBustFront", "mm", "front part of the high bust girth, side to side", 1, 175, 1255, 440,
     570, 0.5},
    {"hips", "mm", "girth at the top of the hip bones, where trousers sit", 0, 335, 1980, 900, 840,
     1.0},
    {"hpsToBust", "mm", "from the high point of the shoulder straight down to the bust line", 0,
     110, 615, 275, 280, 0.65},
    {"hpsToWaistBack", "mm", "from the high point of the shoulder down the back to the waist", 0,
     160, 1035, 395, 470, 0.65},
    {"hpsToWaistFront", "mm",
     "from the high point of the shoulder down over the front to the waist", 1, 160, 1010, 400, 460,
     0.65},
    {"inseam", "mm", "from the crotch to the floor, vertically", 0, 305, 1715, 765, 780, 0.25},
    {"knee", "mm", "girth around the knee", 0, 150, 900, 380, 410, 0.65},
    {"neck", "mm", "girth where a shirt collar sits", 0, 135, 835, 340, 380, 1.0},
    {"seat", "mm", "horizontal girth at the fullest part of the buttocks", 0, 405, 2245, 1010, 1020,
     0.6},
    {"seatBack", "mm", "back part of the seat girth", 0, 210, 1230, 520, 560, 0.6},
    {"shoulderSlope", "deg", "angle by which the shoulder line drops below horizontal", 0, 0, 45,
     13, 13, 0.0},
    {"shoulderToElbow", "mm", "from the shoulder point down the arm to the elbow", 0, 135, 790, 340,
     360, 0.5},
    {"shoulderToShoulder", "mm", "across the back, from shoulder tip to shoulder tip", 0, 165, 990,
     415, 450, 0.65},
    {"shoulderToWrist", "mm", "from the shoulder point along a slightly bent arm to the wrist", 0,
     235, 1385, 590, 630, 0.3},
    {"underbust", "mm", "girth directly below the breasts", 1, 310, 2155, 780, 980, 1.0},
    {"upperLeg", "mm", "girth near the top of the leg, a little below the crotch", 0, 230, 1375,
     570, 625, 0.45},
    {"waist", "mm", "girth at the narrowest part of the waist", 0, 300, 1780, 750, 810, 0.85},
    {"waistBack", "mm", "back part of the waist girth, side to side across the back", 0, 150, 900,
     380, 410, 0.85},
    {"waistToArmpit", "mm", "at the side, vertically from the waist up to the armpit", 0, 70, 460,
     170, 210, 0.65},
    {"waistToFloor", "mm", "height of the waist above the floor, at the side", 0, 420, 2550, 1050,
     1160, 0.4},
    {"waistToHips", "mm", "at the side, vertically from the waist down to the top of the hip bone",
     0, 50, 285, 125, 130, 0.65},
    {"waistToKnee", "mm", "at the side, vertically from the waist down to the knee", 0, 240, 1410,
     600, 640, 0.65},
    {"waistToSeat", "mm",
     "at the side, vertically from the waist down to the fullest part of the seat", 0, 100, 595,
     250, 270, 0.65},
    {"waistToUnderbust", "mm", "at the side, vertically from the waist up to the underbust line", 1,
     20, 175, 80, 55, 0.65},
    {"waistToUpperLeg", "mm", "at the side, vertically from the waist down to the top of the leg",
     0, 115, 750, 285, 340, 0.65},
    {"wrist", "mm", "girth where the hand joins the arm", 0, 65, 385, 165, 175, 0.5},
};

static int measures_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct measure *)elem)->name);
}

int measures_find(const char *name)
{
    const struct measure *m =
        bsearch(name, measures_table, MEASURES_COUNT, sizeof measures_table[0], measures_cmp);

    return m ? (int)(m - measures_table) : -1;
}

double measures_predict(int i, int breasts, double neck)
{
    const struct measure *m = &measures_table[i];
    double base = breasts ? m->base_breasts : m->base_flat;
    double base_neck = breasts ? 340.0 : 380.0;

    return base * (1.0 + m->ratio * (neck - base_neck) / base_neck);
}

int measures_implausible(int i, int breasts, double neck, double value)
{
    double p = measures_predict(i, breasts, neck);

    if (measures_table[i].ratio == 0.0 || !(p > 0.0))
        return 0;
    return fabs(value - p) / p > MEASURES_IMPLAUSIBLE_RATIO;
}

int measures_check(const char *name, double value, int is_number, int breasts, char *field,
                   size_t fieldn, char *msg, size_t msgn)
{
    int i = measures_find(name);
    size_t cut = util_utf8_prefix(name, 40);

    snprintf(field, fieldn, "measurements.%.*s%s", (int)cut, name, name[cut] ? "..." : "");
    if (i < 0) {
        snprintf(msg, msgn, "%s is an unknown measurement (see GET /v1/measurements)", field);
        return DRAFT_ERR_INVALID;
    }
    const struct measure *m = &measures_table[i];
    if (!is_number) {
        snprintf(msg, msgn, "%s must be a number in %s", field, m->unit);
        return DRAFT_ERR_INVALID;
    }
    if (!isfinite(value) || value < m->min || value > m->max) {
        snprintf(msg, msgn, "%s must be between %.0f and %.0f %s", field, m->min, m->max, m->unit);
        return DRAFT_ERR_INVALID;
    }
    if (m->breasts_only && !breasts) {
        snprintf(msg, msgn, "%s applies only to bodies with breasts", field);
        return DRAFT_ERR_INVALID;
    }
    return 0;
}
