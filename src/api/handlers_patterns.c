/*
 * handlers_patterns.c - the designs and the patterns drafted from a model:
 * GET /v1/designs, GET /v1/models/{id}/patterns/{design}.svg, .pdf and
 * .json (what the SVG and PDF would be: size, parts, pages, warnings).
 *
 * Invariants: a pattern is drafted only from the caller's own model (other
 * people's models answer the 404 of a model that does not exist); a model
 * that lacks measurements gets a 422 listing every missing one; nothing the
 * client sends can make the engine produce non-finite geometry (draft_run
 * refuses it as invalid). The model's breasts flag decides the body; the
 * title date is today (base/clock, UTC). A pattern drafted with warnings
 * carries their codes in the Atelier-Warnings header (comma-separated, the
 * engine's codes only: never user text); the .json route has them in full.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "atelier/draft.h"
#include "base/err.h"
#include "base/policy.h"
#include "api/handlers.h"
#include "api/input.h"
#include "models/models.h"
#include "base/util.h"

#define PATTERN_SA_DEFAULT 10.0

static json_t *designs_names(const char *const *list)
{
    json_t *a = json_array();

    for (; list && *list; list++)
        json_array_append_new(a, json_string(*list));
    return a;
}

int h_designs(struct req *rq)
{
    json_t *list = json_array();

    for (int i = 0; i < draft_design_count(); i++) {
        const struct design *d = draft_design(i);
        const char *bodies = d->needs_breasts == 1   ? "with_breasts"
                             : d->needs_breasts == 0 ? "without_breasts"
                                                     : "any";
        json_array_append_new(list,
                              json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", d->name, "title", d->title,
                                        "bodies", bodies, "required", designs_names(d->required),
                                        "optional", designs_names(d->optional)));
    }
    return resp_json(rq, 200, json_pack("{s:o}", "designs", list));
}

/* The one place where the drafting library's return codes (atelier/draft.h)
 * become the server's errors, and so HTTP statuses. */
static int pattern_err(int draft_rc)
{
    switch (draft_rc) {
    case DRAFT_OK:
        return 0;
    case DRAFT_ERR_INVALID:
        return ERR_INVALID;
    case DRAFT_ERR_NOMEM:
        return ERR_NOMEM;
    default:
        return ERR_INTERNAL;
    }
}

/* ?units= metric (default) or imperial: the labels and the scale box. */
static int pattern_units(struct req *rq, enum draft_units *units)
{
    const char *s = req_query(rq, "units");

    *units = DRAFT_UNITS_METRIC;
    if (s && draft_units_parse(s, units))
        return input_fail(rq, "units", "units must be metric or imperial");
    return 0;
}

/* ?sa= in mm: a number in 0..LIMIT_SA_MAX, default 10. */
static int pattern_sa(struct req *rq, double *sa)
{
    const char *s = req_query(rq, "sa");
    char *end = NULL;

    *sa = PATTERN_SA_DEFAULT;
    if (!s)
        return 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0 || v > LIMIT_SA_MAX)
        return input_fail(rq, "sa", "sa must be a number of mm from 0 to %.0f", LIMIT_SA_MAX);
    *sa = v;
    return 0;
}

static void pattern_input(json_t *meas, int breasts, double sa, enum draft_units units,
                          const char *name, struct draft_input *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < MEASURES_COUNT; i++) {
        json_t *v = json_object_get(meas, measures_table[i].name);
        if (json_is_number(v)) {
            in->value[i] = json_number_value(v);
            in->have[i] = 1;
        }
    }
    in->breasts = breasts;
    in->sa = sa;
    in->units = units;
    in->model_name = name; /* in->date NULL: today, from the clock */
}

/* 422 naming every missing measurement, with the list as an array. */
static int pattern_missing(struct req *rq, const struct design *d, const struct draft_input *in)
{
    char list[1024];
    json_t *missing = json_array();

    if (draft_missing(d, in, list, sizeof list) == 0) {
        json_decref(missing);
        return 0;
    }
    for (const char *const *r = d->required; *r; r++) {
        int i = measures_find(*r);
        if (i >= 0 && !in->have[i])
            json_array_append_new(missing, json_string(*r));
    }
    json_t *body = json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", "missing_measurements",
                             "message", "", "field", "measurements", "missing", missing);
    char msg[1200];
    snprintf(msg, sizeof msg, "the model lacks measurements the %s needs: %s", d->name, list);
    json_object_set_new(json_object_get(body, "error"), "message", json_string(msg));
    return req_fail_json(rq, ERR_INVALID, body);
}

/* Draft the design named by the path for the caller's model. */
static int pattern_draft(struct req *rq, struct pattern **out)
{
    const struct design *d = draft_find(req_param(rq, "design"));
    struct db *db = db_thread();
    struct draft_input in;
    json_t *meas = NULL;
    char *name = NULL, msg[512];
    int breasts, rc;
    double sa;
    enum draft_units units;

    if (!db)
        return ERR_UNAVAILABLE;
    if ((rc = models_get(db, req_param(rq, "id"), req_account(rq), &name, &breasts, &meas)))
        return rc;
    if (!d) {
        rc = req_fail(rq, ERR_NOT_FOUND, "unknown_design", "no such design (see GET /v1/designs)");
    } else if (!draft_design_fits(d, breasts)) {
        rc = req_fail(rq, ERR_INVALID, "design_not_for_body",
                      "the %s is drafted for bodies %s breasts", d->name,
                      d->needs_breasts ? "with" : "without");
    } else if ((rc = pattern_sa(rq, &sa)) == 0 && (rc = pattern_units(rq, &units)) == 0) {
        pattern_input(meas, breasts, sa, units, name, &in);
        if ((rc = pattern_missing(rq, d, &in)) == 0 &&
            (rc = pattern_err(draft_run(d, &in, out, msg, sizeof msg))) == ERR_INVALID)
            req_fail(rq, ERR_INVALID, "cannot_draft", "%s", msg);
    }
    free(name);
    json_decref(meas);
    return rc;
}

/* Atelier-Warnings: the distinct codes of p's warnings, comma-separated
 * (every code fits: DRAFT_WARN_CODES_MAX); no header when there are none. */
static int pattern_warnings_header(struct req *rq, const struct pattern *p)
{
    char list[DRAFT_WARN_CODES_MAX + 1];
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; i < p->nwarnings; i++) {
        const char *code = p->warning[i].code;
        int seen = 0;
        for (size_t k = 0; k < i; k++)
            seen |= strcmp(p->warning[k].code, code) == 0;
        size_t len = strlen(code);
        if (seen || used + len + 2 > sizeof list)
            continue;
        if (used) {
            memcpy(list + used, ", ", 2);
            used += 2;
        }
        memcpy(list + used, code, len + 1);
        used += len;
    }
    return used ? resp_header(rq, "Atelier-Warnings", list) : 0;
}

static json_t *pattern_warnings_json(const struct pattern *p)
{
    json_t *list = json_array();

    for (size_t i = 0; i < p->nwarnings; i++) {
        const struct draft_warning *w = &p->warning[i];
        json_t *names = json_array();
        for (size_t k = 0; k < DRAFT_WARN_NAMES && w->measurements[k]; k++)
            json_array_append_new(names, json_string(w->measurements[k]));
        json_array_append_new(list, json_pack("{s:s,s:o,s:s}", "code", w->code, "measurements",
                                              names, "message", w->message));
    }
    return list;
}

int h_pattern_svg(struct req *rq)
{
    struct pattern *p = NULL;
    char *svg = NULL;
    size_t n = 0;
    int rc = pattern_draft(rq, &p);

    if (rc)
        return rc;
    rc = pattern_err(draft_svg(p, &svg, &n));
    if (rc == 0)
        rc = pattern_warnings_header(rq, p);
    draft_free(p);
    if (rc) {
        free(svg);
        return rc;
    }
    return resp_take(rq, 200, "image/svg+xml; charset=utf-8", svg, n);
}

/* What the SVG and PDF of the same query would be, without drawing them:
 * the size of the layout, the parts, the tile pages per paper (without
 * the assembly page), and the warnings in full. */
int h_pattern_json(struct req *rq)
{
    struct pattern *p = NULL;
    json_t *parts, *pages, *body;
    int rc = pattern_draft(rq, &p);

    if (rc)
        return rc;
    parts = json_array();
    for (size_t i = 0; i < p->nparts; i++)
        json_array_append_new(parts, json_pack("{s:s,s:s,s:i,s:b}", "name", p->part[i].name,
                                               "title", p->part[i].title, "cut", p->part[i].cut,
                                               "on_fold", p->part[i].fold_edge >= 0));
    pages = json_object();
    for (int paper = DRAFT_PAPER_A4; paper <= DRAFT_PAPER_LETTER; paper++) {
        int cols, rows, n;
        draft_tiles(p, (enum draft_paper)paper, &cols, &rows, &n);
        json_object_set_new(pages, paper == DRAFT_PAPER_A4 ? "a4" : "letter", json_integer(n));
    }
    body = json_pack("{s:s,s:s,s:s,s:f,s:s,s:s,s:f,s:f,s:o,s:o,s:o}", "design", p->design->name,
                     "title", p->design->title, "units", draft_units_name(p->units), "sa", p->sa,
                     "date", p->date, "engine", draft_version(), "width_mm",
                     round(p->width * 100.0) / 100.0, "height_mm", round(p->height * 100.0) / 100.0,
                     "parts", parts, "pages", pages, "warnings", pattern_warnings_json(p));
    draft_free(p);
    if (!body)
        return ERR_NOMEM;
    return resp_json(rq, 200, body);
}

int h_pattern_pdf(struct req *rq)
{
    const char *paper_s = req_query(rq, "paper");
    enum draft_paper paper = DRAFT_PAPER_FULL;
    struct pattern *p = NULL;
    char *pdf = NULL;
    size_t n = 0;
    int rc;

    if (paper_s && draft_paper_parse(paper_s, &paper))
        return input_fail(rq, "paper", "paper must be a4, letter or full");
    if ((rc = pattern_draft(rq, &p)))
        return rc;
    rc = pattern_err(draft_pdf(p, paper, &pdf, &n));
    if (rc == 0)
        rc = pattern_warnings_header(rq, p);
    draft_free(p);
    if (rc) {
        free(pdf);
        return rc;
    }
    return resp_take(rq, 200, "application/pdf", pdf, n);
}
