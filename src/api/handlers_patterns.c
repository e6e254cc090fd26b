/*
 * handlers_patterns.c - the designs, the patterns drafted from a model, and
 * saved patterns: GET /v1/designs, GET /v1/models/{id}/patterns/{design}.svg,
 * .pdf and .json, POST and GET /v1/patterns, GET, PATCH and DELETE
 * /v1/patterns/{id}, POST /v1/patterns/{id}/refresh, and GET
 * /v1/patterns/{id}.svg, .pdf and .json. The .json routes describe what the
 * SVG and PDF hold (size, parts, pages) with the engine's warnings in full.
 * Storage and sealing of saved patterns are the saved-pattern service's
 * (models/saved.c).
 *
 * Invariants:
 *   - A pattern is drafted only from the caller's own model or saved pattern
 *     (other people's answer the 404 of one that does not exist); a model
 *     that lacks measurements gets a 422 listing every missing one; nothing
 *     the client sends can make the engine produce non-finite geometry
 *     (draft_run refuses it as invalid).
 *   - Options (seam allowance, paper, fit options) are the engine's
 *     vocabulary (draft_options, atelier/draft.h): every one a client sends,
 *     in a query or in a body, passes draft_option_check against the row of
 *     its design (a fit option has its own range and default per design,
 *     draft_option_for); an option a client leaves out takes its default.
 *   - A saved pattern drafts: it is stored (created, refreshed, its options
 *     changed) only after its design was drafted for its snapshot and
 *     options; it drafts from the snapshot alone, exactly as its model
 *     drafted when the snapshot was taken (same bytes).
 *   - The design and the model of a saved pattern never change.
 *   - The body is the model's (or the snapshot's) breasts flag; only the
 *     measurements a design uses are read.
 *   - The titles' date is today (base/clock, UTC) for a model, and the day
 *     of the snapshot for a saved pattern, which so keeps its bytes.
 *   - A pattern drafted with warnings (odd but drawable measurements)
 *     answers its .svg and .pdf with the Atelier-Warnings header: the
 *     engine's codes, comma-separated, never user text.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "atelier/draft.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/policy.h"
#include "api/cacheable.h"
#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "models/models.h"
#include "models/saved.h"
#include "base/token.h"
#include "base/util.h"

_Static_assert((int)LIMIT_SA_MAX == (int)DRAFT_SA_MAX,
               "the policy's seam allowance is the engine's");

/* ---- options (the engine's vocabulary) ---- */

/* The default of option o as JSON: an integer when it is one. */
static json_t *option_default(const struct draft_option *o)
{
    if (o->kind == DRAFT_OPTION_CHOICE)
        return json_string(o->choices[0]);
    if (o->def == (double)(json_int_t)o->def)
        return json_integer((json_int_t)o->def);
    return json_real(o->def);
}

/* Every option of design d with its default (a new object). */
static json_t *options_defaults(const struct design *d)
{
    json_t *o = json_object();

    for (int i = 0; o && i < DRAFT_OPTIONS_COUNT; i++)
        if (draft_option_applies(&draft_options[i], d))
            json_object_set_new(o, draft_options[i].name, option_default(&draft_options[i]));
    return o;
}

/* The options a pattern is drafted with: the defaults of d, overlaid with
 * the values of given that are options of d (a new object). An option the
 * engine no longer has is ignored. */
static json_t *options_effective(const struct design *d, const json_t *given)
{
    json_t *o = options_defaults(d), *v;
    const char *name;

    json_object_foreach((json_t *)given, name, v) if (o && draft_option_for(d, name) >= 0)
        json_object_set(o, name, v);
    return o;
}

/* "<prefix>name", the name cut to 40 bytes at a character boundary. */
static void option_field(const char *prefix, const char *name, char *field, size_t n)
{
    size_t cut = util_utf8_prefix(name, 40);

    snprintf(field, n, "%s%.*s%s", prefix, (int)cut, name, name[cut] ? "..." : "");
}

/* The value to store for a checked option: the number as sent, or the
 * choice as the vocabulary writes it. */
static json_t *option_value(const struct draft_option *o, json_t *v)
{
    if (o->kind == DRAFT_OPTION_CHOICE)
        return json_string(o->choices[draft_option_choice(o, json_string_value(v))]);
    return json_deep_copy(v);
}

/* Merge given (the "options" member of a body) into cur for design d: every
 * name must be an option of d with a value of its kind; null resets one to
 * its default. cur changes only when everything is valid; *changed says
 * whether anything was given. 422 naming options.<name>. */
static int options_merge(struct req *rq, const struct design *d, json_t *given, json_t *cur,
                         int *changed)
{
    const char *name;
    json_t *v;
    char field[64], msg[DRAFT_MSG_MAX];

    *changed = 0;
    if (!given)
        return 0;
    if (!json_is_object(given))
        return input_fail(rq, "options", "options must be an object of option name to value");
    json_object_foreach(given, name, v)
    {
        option_field("options.", name, field, sizeof field);
        if (json_is_null(v) && draft_option_for(d, name) >= 0)
            continue;
        if (draft_option_check(d, name, field, json_is_number(v), json_number_value(v),
                               json_string_value(v), msg, sizeof msg))
            return input_fail(rq, field, "%s", msg);
    }
    json_object_foreach(given, name, v)
    {
        const struct draft_option *o = &draft_options[draft_option_for(d, name)];
        json_object_set_new(cur, name, json_is_null(v) ? option_default(o) : option_value(o, v));
        *changed = 1;
    }
    return 0;
}

/* The options of the model route, from the query: ?sa= and the other
 * drafting options; output options (?paper=) only when output is set (the
 * PDF; the route table declares no output option on the others, so the
 * layer refused it already). An option that does not apply to the design
 * is refused like a bad value: 422 naming the argument. */
static int options_query(struct req *rq, const struct design *d, int output, json_t **out)
{
    json_t *o = options_defaults(d);
    char field[64], msg[DRAFT_MSG_MAX];

    *out = NULL;
    if (!o)
        return ERR_NOMEM;
    for (int i = 0; i < DRAFT_OPTIONS_COUNT; i++) {
        const struct draft_option *opt = &draft_options[i];
        const char *s = req_query(rq, opt->name);
        char *end = NULL;
        if (!s || (opt->output && !output))
            continue;
        int row = draft_option_for(d, opt->name);
        if (row >= 0 && row != i)
            continue; /* another row of this name is the design's */
        double v = strtod(s, &end);
        int is_number = opt->kind == DRAFT_OPTION_NUMBER && end != s && !*end;
        option_field("", opt->name, field, sizeof field);
        if (draft_option_check(d, opt->name, field, is_number, v, s, msg, sizeof msg)) {
            json_decref(o);
            return input_fail(rq, field, "%s", msg);
        }
        json_object_set_new(o, opt->name,
                            opt->kind == DRAFT_OPTION_CHOICE
                                ? json_string(opt->choices[draft_option_choice(opt, s)])
                                : json_real(v));
    }
    *out = o;
    return 0;
}

/* The paper of the PDF among options (full when none is given). */
static enum draft_paper options_paper(const json_t *options)
{
    enum draft_paper paper = DRAFT_PAPER_FULL;
    const char *s = json_string_value(json_object_get(options, "paper"));

    if (s && draft_paper_parse(s, &paper))
        paper = DRAFT_PAPER_FULL;
    return paper;
}

/* ---- the designs ---- */

static json_t *designs_names(const char *const *list)
{
    json_t *a = json_array();

    for (; list && *list; list++)
        json_array_append_new(a, json_string(*list));
    return a;
}

/* The options of design d as GET /v1/designs lists them. */
static json_t *designs_options(const struct design *d)
{
    json_t *a = json_array();

    for (int i = 0; i < DRAFT_OPTIONS_COUNT; i++) {
        const struct draft_option *o = &draft_options[i];
        if (!draft_option_applies(o, d))
            continue;
        json_t *e =
            json_pack("{s:s,s:s,s:s,s:o,s:b}", "name", o->name, "kind",
                      o->kind == DRAFT_OPTION_NUMBER ? "number" : "choice", "description",
                      o->description, "default", option_default(o), "output_only", o->output);
        if (o->kind == DRAFT_OPTION_NUMBER) {
            json_object_set_new(e, "unit", json_string(o->unit));
            json_object_set_new(e, "min", json_real(o->min));
            json_object_set_new(e, "max", json_real(o->max));
        } else {
            json_object_set_new(e, "choices", designs_names(o->choices));
        }
        json_array_append_new(a, e);
    }
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
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "name", d->name, "title", d->title,
                            "bodies", bodies, "required", designs_names(d->required), "optional",
                            designs_names(d->optional), "options", designs_options(d)));
    }
    static const struct cacheable c = {"application/json", CACHEABLE_REVALIDATE, NULL, 1};
    return cacheable_json(rq, &c, json_pack("{s:o}", "designs", list));
}

/* ---- drafting ---- */

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

/* A 422 with its own code that names a field. */
static int pattern_fail(struct req *rq, const char *code, const char *field, const char *msg)
{
    return req_fail_json(
        rq, ERR_INVALID,
        json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", msg, "field", field));
}

static void pattern_input(json_t *meas, int breasts, const char *name, const char *date,
                          const json_t *options, struct draft_input *in)
{
    const char *key;
    json_t *v;

    memset(in, 0, sizeof *in);
    for (int i = 0; i < MEASURES_COUNT; i++) {
        v = json_object_get(meas, measures_table[i].name);
        if (json_is_number(v)) {
            in->value[i] = json_number_value(v);
            in->have[i] = 1;
        }
    }
    in->breasts = breasts;
    in->sa = DRAFT_SA_DEFAULT;
    in->model_name = name;
    in->date = date; /* NULL: today */
    json_object_foreach((json_t *)options, key, v)
    {
        if (json_is_number(v))
            draft_option_apply(in, key, json_number_value(v));
        else if (json_is_string(v))
            draft_option_apply_choice(in, key, json_string_value(v));
    }
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

/* Draft design d for a body (its name for the titles, breasts flag and
 * measurements) with options (as options_effective or options_query give
 * them), titled with date (YYYY-MM-DD; NULL: today). The 422s:
 * design_not_for_body, missing_measurements, cannot_draft. */
static int pattern_make(struct req *rq, const struct design *d, const char *name, int breasts,
                        json_t *meas, const json_t *options, const char *date, struct pattern **out)
{
    struct draft_input in;
    char msg[DRAFT_MSG_MAX], text[DRAFT_MSG_MAX + 64];
    int rc;

    *out = NULL;
    if (!draft_design_fits(d, breasts)) {
        snprintf(text, sizeof text, "the %s is drafted for bodies %s breasts", d->name,
                 d->needs_breasts ? "with" : "without");
        return pattern_fail(rq, "design_not_for_body", "design", text);
    }
    pattern_input(meas, breasts, name, date, options, &in);
    if ((rc = pattern_missing(rq, d, &in)))
        return rc;
    if ((rc = pattern_err(draft_run(d, &in, out, msg, sizeof msg))) == ERR_INVALID)
        pattern_fail(rq, "cannot_draft", "measurements", msg);
    return rc;
}

enum pattern_form { FORM_SVG, FORM_PDF, FORM_JSON };

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

/* What the SVG and PDF of p hold, without drawing them: the layout's size,
 * the parts, the tile pages per paper (without the assembly page), the
 * warnings in full, and the options it was drafted with (every option of
 * its design but the output ones, given or at its default). */
static json_t *pattern_json(const struct pattern *p, const json_t *options)
{
    json_t *parts = json_array(), *pages = json_object(), *used = json_deep_copy(options);

    for (int i = 0; used && i < DRAFT_OPTIONS_COUNT; i++)
        if (draft_options[i].output)
            json_object_del(used, draft_options[i].name);

    for (size_t i = 0; i < p->nparts; i++)
        json_array_append_new(parts, json_pack("{s:s,s:s,s:i,s:b}", "name", p->part[i].name,
                                               "title", p->part[i].title, "cut", p->part[i].cut,
                                               "on_fold", p->part[i].fold_edge >= 0));
    for (int paper = DRAFT_PAPER_A4; paper <= DRAFT_PAPER_LETTER; paper++) {
        int cols, rows, n;
        draft_tiles(p, (enum draft_paper)paper, &cols, &rows, &n);
        json_object_set_new(pages, paper == DRAFT_PAPER_A4 ? "a4" : "letter", json_integer(n));
    }
    return json_pack("{s:s,s:s,s:s,s:f,s:s,s:s,s:f,s:f,s:o,s:o,s:o,s:o}", "design", p->design->name,
                     "title", p->design->title, "units", draft_units_name(p->units), "sa", p->sa,
                     "date", p->date, "engine", draft_version(), "width_mm",
                     round(p->width * 100.0) / 100.0, "height_mm", round(p->height * 100.0) / 100.0,
                     "parts", parts, "pages", pages, "warnings", pattern_warnings_json(p),
                     "options", used ? used : json_object());
}

/* Content-Disposition of a drawn pattern: attachment, named after the
 * design, the title date and (PDF) the paper: "atelier-tshirt-2026-12-07.svg",
 * "atelier-tshirt-2026-12-07-a4.pdf". Never the model's or the saved
 * pattern's name: those are people's text (personal data that proxies and
 * download histories would then keep, in any script); a page that wants
 * one names the file itself. Both parts are the engine's: [a-z0-9-]. */
static int pattern_disposition(struct req *rq, const struct pattern *p, enum pattern_form form,
                               const json_t *options)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    const char *paper = json_string_value(json_object_get(options, "paper"));
    const char *parts[] = {p->design->name, p->date, paper ? paper : "full"};
    char value[128];
    int n;

    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!parts[i][0] || strspn(parts[i], safe) != strlen(parts[i]))
            return ERR_INTERNAL;
    if (form == FORM_PDF)
        n = snprintf(value, sizeof value, "attachment; filename=\"atelier-%s-%s-%s.pdf\"", parts[0],
                     parts[1], parts[2]);
    else
        n = snprintf(value, sizeof value, "attachment; filename=\"atelier-%s-%s.svg\"", parts[0],
                     parts[1]);
    if (n < 0 || (size_t)n >= sizeof value)
        return ERR_INTERNAL;
    return resp_header(rq, "Content-Disposition", value);
}

/* Answer with the pattern p as SVG, as PDF on the paper of options, or as
 * its description; p is freed. */
static int pattern_send(struct req *rq, struct pattern *p, enum pattern_form form,
                        const json_t *options)
{
    char *out = NULL;
    size_t n = 0;
    int rc;

    if (form == FORM_JSON) {
        json_t *j = pattern_json(p, options);
        draft_free(p);
        return j ? resp_json(rq, 200, j) : ERR_NOMEM;
    }
    rc = form == FORM_PDF ? pattern_err(draft_pdf(p, options_paper(options), &out, &n))
                          : pattern_err(draft_svg(p, &out, &n));
    if (rc == 0)
        rc = pattern_warnings_header(rq, p);
    if (rc == 0)
        rc = pattern_disposition(rq, p, form, options);
    draft_free(p);
    if (rc) {
        free(out);
        return rc;
    }
    return resp_take(rq, 200, form == FORM_PDF ? "application/pdf" : "image/svg+xml; charset=utf-8",
                     out, n);
}

/* ---- drafting from a model: GET /v1/models/{id}/patterns/{design}.svg|.pdf|.json ---- */

/* The caller's model {id}, as read with the session check (api_model_take)
 * or loaded now: its name, flag and measurements (the caller frees them). */
static int pattern_model(struct req *rq, struct db *db, char **name, int *breasts, json_t **meas)
{
    struct model m;
    int rc;

    if (!api_model_take(rq, &m, &rc))
        return models_get(db, req_param(rq, "id"), req_account(rq), name, breasts, meas);
    if (rc == 0) {
        *name = m.name;
        *breasts = m.breasts;
        *meas = json_incref(models_measurements(&m));
        m.name = NULL;
    }
    models_release(&m);
    return rc;
}

static int model_pattern(struct req *rq, enum pattern_form form)
{
    const struct design *d = draft_find(req_param(rq, "design"));
    struct db *db = db_thread();
    struct pattern *p = NULL;
    json_t *meas = NULL, *options = NULL;
    char *name = NULL;
    int breasts, rc;

    if (!db)
        return ERR_UNAVAILABLE;
    req_fail(rq, ERR_NOT_FOUND, NULL, "no model with this id");
    if ((rc = pattern_model(rq, db, &name, &breasts, &meas)))
        return rc;
    if (!d)
        rc = req_fail(rq, ERR_NOT_FOUND, "unknown_design",
                      "no design with this name (see GET /v1/designs)");
    else if ((rc = options_query(rq, d, form == FORM_PDF, &options)) == 0 &&
             (rc = pattern_make(rq, d, name, breasts, meas, options, NULL, &p)) == 0)
        rc = pattern_send(rq, p, form, options);
    free(name);
    json_decref(meas);
    json_decref(options);
    return rc;
}

int h_pattern_svg(struct req *rq)
{
    return model_pattern(rq, FORM_SVG);
}

int h_pattern_pdf(struct req *rq)
{
    return model_pattern(rq, FORM_PDF);
}

int h_pattern_json(struct req *rq)
{
    return model_pattern(rq, FORM_JSON);
}

/* ---- saved patterns ---- */

/* The storage of this thread; and the 404 every route with a saved
 * pattern {id} may end in, described ahead (routes without an id never end
 * in a 404). */
static int saved_db(struct req *rq, struct db **db)
{
    req_fail(rq, ERR_NOT_FOUND, NULL, "no saved pattern with this id");
    *db = db_thread();
    return *db ? 0 : ERR_UNAVAILABLE;
}

static int saved_respond(struct req *rq, unsigned status, const struct saved_pattern *p)
{
    json_t *j = saved_json(p, 1);

    return j ? resp_json(rq, status, j) : ERR_NOMEM;
}

/* Draft saved pattern p from its snapshot with options, titled with the
 * snapshot's day (today for one not stored yet); the 422s of pattern_make. */
static int saved_make(struct req *rq, const struct saved_pattern *p, const json_t *options,
                      struct pattern **out)
{
    const struct design *d = draft_find(p->design);
    json_t *s = p->snapshot;
    char date[11];

    *out = NULL;
    if (!d)
        return req_fail(rq, ERR_INVALID, "unknown_design",
                        "the design %s of this pattern is no longer drafted", p->design);
    if (p->snapshot_at <= 0 || clock_format_date(p->snapshot_at * 1000, date)) /* s -> ms */
        date[0] = '\0';
    return pattern_make(rq, d, json_string_value(json_object_get(s, "model_name")),
                        json_is_true(json_object_get(s, "breasts")),
                        json_object_get(s, "measurements"), options, date[0] ? date : NULL, out);
}

/* Check that p drafts (from its snapshot, with its options). */
static int saved_drafts(struct req *rq, const struct saved_pattern *p)
{
    struct pattern *pat = NULL;
    json_t *options = options_effective(draft_find(p->design), p->options);
    int rc = options ? saved_make(rq, p, options, &pat) : ERR_NOMEM;

    draft_free(pat);
    json_decref(options);
    return rc;
}

/* model_id of a body: an id of the form the server gives. */
static int saved_model_id(struct req *rq, json_t *b, const char **out)
{
    size_t n = 0;
    int rc = input_string(rq, b, "model_id", 1, out, &n);

    if (rc)
        return rc;
    if (n == 0 || n > TOKEN_ID_LEN || strlen(*out) != n ||
        strspn(*out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "abcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") != n)
        return input_fail(rq, "model_id", "model_id must be the id of one of your models");
    return 0;
}

int h_saved_create(struct req *rq)
{
    static const char *const keys[] = {"model_id", "design", "name", "notes", "options", NULL};
    json_t *b = req_json(rq);
    const char *owner = req_account(rq), *design = NULL, *model_id = NULL;
    const struct design *d = NULL;
    struct saved_pattern p = {0};
    struct model m = {0};
    int rc, present, changed;
    struct db *db;

    if ((rc = saved_db(rq, &db)) || (rc = input_known_keys(rq, b, keys)) ||
        (rc = input_text_field(rq, b, "name", LIMIT_MODEL_NAME_MAX, 0, &p.name, &present)))
        goto out;
    if (!present) {
        rc = input_fail(rq, "name", "name is required");
        goto out;
    }
    if ((rc = input_text_field(rq, b, "notes", LIMIT_MODEL_NOTES_MAX, 1, &p.notes, &present)) ||
        (rc = input_string(rq, b, "design", 1, &design, NULL)))
        goto out;
    if (!(d = draft_find(design))) {
        rc = input_fail(rq, "design", "design must be the name of a design (see GET /v1/designs)");
        goto out;
    }
    if ((rc = saved_model_id(rq, b, &model_id)))
        goto out;
    if ((rc = models_load(db, model_id, owner, &m)) == ERR_NOT_FOUND) {
        rc = input_fail(rq, "model_id", "model_id must be the id of one of your models");
        goto out;
    }
    if (rc)
        goto out;
    if (!(p.options = options_defaults(d))) {
        rc = ERR_NOMEM;
        goto out;
    }
    json_t *given = json_object_get(b, "options");
    if (!json_is_null(given) && (rc = options_merge(rq, d, given, p.options, &changed)))
        goto out;
    token_id(p.id);
    util_strlcpy(p.model_id, m.id, sizeof p.model_id);
    p.design = xstrdup(d->name);
    if (!(p.snapshot = saved_snapshot_of(&m))) {
        rc = ERR_NOMEM;
        goto out;
    }
    if ((rc = saved_drafts(rq, &p)))
        goto out;
    if ((rc = saved_insert(db, owner, &p)) == ERR_CONFLICT)
        rc = req_fail(rq, ERR_CONFLICT, "limit_reached",
                      "an account holds at most %d saved patterns; delete one first",
                      LIMIT_PATTERNS_PER_ACCOUNT);
    else if (rc == ERR_NOT_FOUND) /* the model was deleted meanwhile */
        rc = input_fail(rq, "model_id", "model_id must be the id of one of your models");
    if (rc)
        goto out;
    char id[POLICY_ID_BUF], where[sizeof "/v1/patterns/" + POLICY_ID_BUF];
    util_strlcpy(id, p.id, sizeof id);
    snprintf(where, sizeof where, "/v1/patterns/%s", id);
    saved_release(&p);
    if ((rc = saved_load(db, id, owner, &p)) == 0 && (rc = resp_header(rq, "Location", where)) == 0)
        rc = saved_respond(rq, 201, &p);
out:
    saved_release(&p);
    models_release(&m);
    return rc;
}

int h_saved_list(struct req *rq)
{
    json_t *list = json_array();
    struct db *db;
    int rc;

    if (!list)
        return ERR_NOMEM;
    if ((rc = saved_db(rq, &db)) || (rc = saved_list(db, req_account(rq), list))) {
        json_decref(list);
        return rc;
    }
    return resp_json(rq, 200, json_pack("{s:o}", "patterns", list));
}

int h_saved_get(struct req *rq)
{
    struct saved_pattern p;
    struct db *db;
    int rc;

    if ((rc = saved_db(rq, &db)) || (rc = saved_load(db, req_param(rq, "id"), req_account(rq), &p)))
        return rc;
    rc = saved_respond(rq, 200, &p);
    saved_release(&p);
    return rc;
}

int h_saved_patch(struct req *rq)
{
    static const char *const keys[] = {"name", "notes", "options", "design", "model_id", NULL};
    static const char *const fixed[] = {"design", "model_id", NULL};
    const char *id = req_param(rq, "id"), *owner = req_account(rq);
    json_t *b = req_json(rq);
    struct saved_pattern p;
    struct db *db;
    int rc, present, changed = 0;

    if ((rc = saved_db(rq, &db)) || (rc = saved_load(db, id, owner, &p)))
        return rc;
    if ((rc = input_known_keys(rq, b, keys)))
        goto out;
    for (const char *const *k = fixed; *k; k++)
        if (json_object_get(b, *k)) {
            rc = input_fail(rq, *k, "%s of a saved pattern cannot change; save a new pattern", *k);
            goto out;
        }
    if ((rc = input_text_field(rq, b, "name", LIMIT_MODEL_NAME_MAX, 0, &p.name, &present)) ||
        (rc = input_text_field(rq, b, "notes", LIMIT_MODEL_NOTES_MAX, 1, &p.notes, &present)))
        goto out;
    const struct design *d = draft_find(p.design);
    json_t *given = json_object_get(b, "options");
    if (given && !d) {
        rc = req_fail(rq, ERR_INVALID, "unknown_design",
                      "the design %s of this pattern is no longer drafted", p.design);
        goto out;
    }
    if (given && (rc = options_merge(rq, d, given, p.options, &changed)))
        goto out;
    if ((changed && (rc = saved_drafts(rq, &p))) || (rc = saved_update(db, owner, &p)))
        goto out;
    saved_release(&p);
    if ((rc = saved_load(db, id, owner, &p)) == 0)
        rc = saved_respond(rq, 200, &p);
out:
    saved_release(&p);
    return rc;
}

int h_saved_delete(struct req *rq)
{
    struct db *db;
    int rc;

    if ((rc = saved_db(rq, &db)) || (rc = saved_delete(db, req_param(rq, "id"), req_account(rq))))
        return rc;
    return resp_empty(rq, 204);
}

int h_saved_refresh(struct req *rq)
{
    const char *id = req_param(rq, "id"), *owner = req_account(rq);
    struct saved_pattern p;
    struct model m;
    struct db *db;
    json_t *snap;
    int rc;

    if ((rc = saved_db(rq, &db)) || (rc = saved_load(db, id, owner, &p)))
        return rc;
    if ((rc = models_load(db, p.model_id, owner, &m)) == ERR_NOT_FOUND) {
        rc = req_fail(rq, ERR_NOT_FOUND, "model_not_found",
                      "no model for this pattern: its model was deleted, so it cannot be "
                      "refreshed (it still drafts from its snapshot)");
        goto out;
    }
    if (rc)
        goto out;
    snap = saved_snapshot_of(&m);
    models_release(&m);
    if (!snap) {
        rc = ERR_NOMEM;
        goto out;
    }
    json_decref(p.snapshot);
    p.snapshot = snap;
    if ((rc = saved_drafts(rq, &p)) || (rc = saved_refresh(db, owner, &p)))
        goto out;
    saved_release(&p);
    if ((rc = saved_load(db, id, owner, &p)) == 0)
        rc = saved_respond(rq, 200, &p);
out:
    saved_release(&p);
    return rc;
}

/* GET /v1/patterns/{id}.svg|.pdf|.json: the pattern from its snapshot and
 * its options; ?paper= chooses another paper for this PDF only. */
static int saved_pattern(struct req *rq, enum pattern_form form)
{
    struct saved_pattern p;
    struct pattern *pat = NULL;
    const struct design *d;
    json_t *options = NULL;
    struct db *db;
    int rc;

    if ((rc = saved_db(rq, &db)) || (rc = saved_load(db, req_param(rq, "id"), req_account(rq), &p)))
        return rc;
    if ((d = draft_find(p.design)) && !(options = options_effective(d, p.options))) {
        rc = ERR_NOMEM;
        goto out;
    }
    const char *paper = form == FORM_PDF ? req_query(rq, "paper") : NULL;
    int i = draft_option_find("paper");
    char msg[DRAFT_MSG_MAX];
    if (paper && d && i >= 0) {
        if (draft_option_check(d, "paper", "paper", 0, 0, paper, msg, sizeof msg)) {
            rc = input_fail(rq, "paper", "%s", msg);
            goto out;
        }
        json_object_set_new(
            options, "paper",
            json_string(draft_options[i].choices[draft_option_choice(&draft_options[i], paper)]));
    }
    if ((rc = saved_make(rq, &p, options, &pat)) == 0)
        rc = pattern_send(rq, pat, form, options);
out:
    json_decref(options);
    saved_release(&p);
    return rc;
}

int h_saved_svg(struct req *rq)
{
    return saved_pattern(rq, FORM_SVG);
}

int h_saved_pdf(struct req *rq)
{
    return saved_pattern(rq, FORM_PDF);
}

int h_saved_json(struct req *rq)
{
    return saved_pattern(rq, FORM_JSON);
}
