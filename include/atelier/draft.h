/*
 * atelier/draft.h - libatelier_draft, the drafting engine, for any program
 * that embeds it (the server, atelier-draft, the bench, the fuzzers, the
 * tests): return codes, the measurement vocabulary, the designs, drafting
 * a pattern from measurements and rendering it as SVG or PDF in true scale.
 * The geometry the parts are made of is in atelier/geom.h. Link with
 * libatelier_draft.a, libatelier_base.a, cairo and libm (docs/DRAFTING.md).
 *
 *   const struct design *d = draft_find("body");
 *   struct draft_input in = {...};        values in mm (shoulderSlope in deg)
 *   struct pattern *p;
 *   char msg[DRAFT_MSG_MAX];
 *   if (draft_run(d, &in, &p, msg, sizeof msg) == DRAFT_OK) {
 *       p->warning[0 .. p->nwarnings - 1]  odd but drawable input (codes)
 *       draft_svg(p, &svg, &n);            or draft_pdf(p, DRAFT_PAPER_A4, ...)
 *       draft_free(p);
 *   } else if (rc == DRAFT_ERR_INVALID) -> msg says why (every missing
 *                                          measurement is named in it)
 *
 * Only the measurements a design uses are read (a whole FreeSewing set is
 * fine); in.breasts alone decides the body. in.date (NULL: today) and
 * in.units only change what the titles and the scale box say. Fit options
 * (eases, lengths, the trouser's leg shape, ...: draft_options[] below)
 * are set with draft_option_apply / draft_option_apply_choice; the designs
 * are body, bodice, trouser (blocks), tshirt and skirt (garments).
 *
 * A part's outline is a chain of named edges (seams such as "side" or
 * "armhole", or a fold); the seam line is their concatenation and the
 * cutting line its offset by the seam allowance. Part coordinates are mm
 * with y pointing down; the layout places each part at part->offset.
 * The design registry and the vocabulary are static and read-only: every
 * function here is safe to call from several threads at once on different
 * patterns. Every symbol the library exports starts with draft_, geom_ or
 * measures_ (checked by tools/check_draft_symbols.sh).
 */
#ifndef ATELIER_DRAFT_H
#define ATELIER_DRAFT_H

#include <stddef.h>

#include <atelier/geom.h>

/* Return codes of every fallible function here: 0 or a negative
 * draft_rc. The numbers are the library's own and stable; a program maps
 * them to its own errors (the server: pattern_err in
 * src/api/handlers_patterns.c). */
enum draft_rc {
    DRAFT_OK = 0,
    DRAFT_ERR_INVALID = -1,  /* the input cannot be drafted; the message says why */
    DRAFT_ERR_NOMEM = -2,    /* out of memory */
    DRAFT_ERR_INTERNAL = -3, /* a null argument, or cairo failed */
};

/* Short English text for a return code ("invalid input", ...). */
const char *draft_strerror(int rc);

/* The engine's version, printed in every title block: bumped whenever the
 * same input would draft a different pattern. draft_version() is the
 * version of the library actually linked. */
#define DRAFT_VERSION "1.1.0"
const char *draft_version(void);

/* ---- the measurement vocabulary ----------------------------------------
 * The 38 names FreeSewing users know, their units, meanings, plausible
 * ranges, and which ones only apply to bodies with breasts. Values are
 * millimetres, except shoulderSlope in degrees. A model without breasts is
 * described by 30 measurements, one with breasts by all 38. */

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

extern const struct measure measures_table[MEASURES_COUNT];

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
 * without. Returns 0, or DRAFT_ERR_INVALID with the field ("measurements.<name>",
 * the name cut to 40 bytes at a character boundary) and a sentence in msg. */
int measures_check(const char *name, double value, int is_number, int breasts, char *field,
                   size_t fieldn, char *msg, size_t msgn);

/* ---- designs, drafting, rendering ------------------------------------- */

#define DRAFT_SA_MAX        50.0 /* mm: the largest seam allowance accepted (LIMIT_SA_MAX) */
#define DRAFT_SA_DEFAULT    10.0
#define DRAFT_MSG_MAX       512 /* a buffer this size holds every message in full */
#define DRAFT_NAME_MAX      80  /* bytes of the model's name kept for titles */
#define DRAFT_MAX_PARTS     4
#define DRAFT_MAX_EDGES     14
#define DRAFT_MAX_NOTCHES   16
#define DRAFT_MAX_DARTS     3
#define DRAFT_MAX_LEVELS    4
#define DRAFT_SCALEBOX_W    100.0 /* mm: inside of the scale box frame (metric) */
#define DRAFT_SCALEBOX_H    50.0
#define DRAFT_SCALEBOX_IN_W 101.6 /* mm: 4 x 2 inches (imperial) */
#define DRAFT_SCALEBOX_IN_H 50.8
#define DRAFT_MITRE_LIMIT   2.0 /* allowance corners: mitre up to 2 x sa, then bevel */

/* Ease of each design, as fractions of the measurement. Where a fit option
 * sets an ease (chest_ease, bust_ease, hips_ease, waist_ease, seat_ease:
 * options.c), the constant is its default, in per cent there. Tests compute
 * the targets from these and from the option values they give, never from
 * the drafting code. */
#define DRAFT_BODY_CHEST_EASE    0.12 /* 4 x quarter width at the chest line */
#define DRAFT_BODY_HIPS_EASE     0.08 /* the hem widens only if hips need it */
#define DRAFT_BODY_NECK_EASE     0.05 /* 2 x (front + back neckline) */
#define DRAFT_BODICE_BUST_EASE   0.10 /* 2 x (front + back width at bust line) */
#define DRAFT_BODICE_WAIST_EASE  0.06 /* 2 x waist seam, darts excluded */
#define DRAFT_BODICE_NECK_EASE   0.03
#define DRAFT_SLEEVE_BICEPS_EASE 0.18 /* sleeve width at the biceps line */
#define DRAFT_SLEEVE_CAP_EASE    0.03 /* cap = (front + back armhole) x (1 + ease) */
#define DRAFT_TROUSER_SEAT_EASE  0.05 /* 2 x (front + back width at seat line) */
#define DRAFT_TROUSER_WAIST_EASE 0.02 /* 2 x (front + back waist seam), darts excluded */
#define DRAFT_TROUSER_KNEE_EASE  0.15 /* front + back width at the knee line */
#define DRAFT_TROUSER_HEM_FACTOR 3.0  /* hem allowance = 3 x sa */
/* The T-shirt (knit): chest (full bust) and hips ease are options; these
 * are fixed. The sleeve cap is not eased into a knit armhole. */
#define DRAFT_TSHIRT_NECK_EASE    0.25 /* neckline = neck x (1 + ease): over the head */
#define DRAFT_TSHIRT_BAND_RATIO   0.85 /* neckband edge = neckline x ratio, stretched on */
#define DRAFT_TSHIRT_BAND_WIDTH   20.0 /* mm, the neckband finished (cut twice as wide) */
#define DRAFT_TSHIRT_BICEPS_EASE  0.20 /* sleeve width at the biceps line */
#define DRAFT_TSHIRT_CAP_EASE     0.0  /* cap = front + back armhole */
#define DRAFT_TSHIRT_SHORT_SLEEVE 0.20 /* short sleeve: underarm seam, x shoulderToWrist */
#define DRAFT_TSHIRT_HEM_FACTOR   2.0  /* hems (body and sleeve) = 2 x sa */
/* A waistband (trouser, skirt): a straight band folded lengthwise, its
 * edge the waist seam plus an overlap for the fastening. */
#define DRAFT_WAISTBAND_OVERLAP 30.0 /* mm */
/* The straight skirt's back vent: from the hem up this share of the hem's
 * height below the seat line, this wide. */
#define DRAFT_SKIRT_VENT_SHARE 0.6
#define DRAFT_SKIRT_VENT_WIDTH 40.0 /* mm */
#define DRAFT_SKIRT_HEM_FACTOR 3.0
/* A dart opening wider than this (degrees) is more than one dart takes
 * flat: the bodice warns bust_dart_too_large. */
#define DRAFT_DART_MAX_DEG 30.0

enum draft_notch_kind { DRAFT_NOTCH_FRONT = 1, DRAFT_NOTCH_BACK = 2 };

/* Units of the printed labels (seam allowance, scale box: 100 x 50 mm or
 * 4 x 2 in). Geometry is always in mm, and so are SVG user units. */
enum draft_units { DRAFT_UNITS_METRIC = 0, DRAFT_UNITS_IMPERIAL = 1 };

/* "metric" or "imperial" (case-insensitive); 0 or DRAFT_ERR_INVALID. */
int draft_units_parse(const char *s, enum draft_units *out);
const char *draft_units_name(enum draft_units u);

struct draft_edge {
    const char *name; /* static: "side", "armhole", "cf", ... */
    struct path path; /* starts where the previous edge ended */
    double sa_factor; /* allowance = sa_factor x pattern sa */
    int fold;         /* 1: the part is cut on fold along this edge (no allowance) */
};

struct draft_notch {
    struct vec at, dir; /* on the seam line; dir is the unit outward normal */
    int kind;           /* DRAFT_NOTCH_FRONT: one tick, DRAFT_NOTCH_BACK: two */
    int edge;           /* index of the edge it sits on */
    double along;       /* mm from the start of that edge */
};

struct draft_dart {
    struct vec tip, a, b; /* legs tip-a and tip-b have equal length */
};

struct draft_level {
    const char *name; /* "chest", "bust", "waist", "seat", "knee", ... */
    double y;         /* the horizontal line where that girth is measured */
};

struct draft_part {
    const char *name;  /* "front", "back", "sleeve" */
    const char *title; /* "Front" */
    int cut;           /* pieces to cut: 1 on fold, or 2 as a mirrored pair */
    struct draft_edge edge[DRAFT_MAX_EDGES];
    size_t nedges;
    int fold_edge;                   /* index of the fold edge, or -1 */
    struct path seam;                /* closed seam line: the edges in order */
    struct path sa;                  /* closed cutting line (empty when sa is 0); segment tags:
                                      * >= 0 offset of that seam segment (counted from the edge
                                      * after the fold), -1 corner join, -2 the fold line */
    struct vec grain_from, grain_to; /* grainline, or the fold bracket's ends */
    struct draft_notch notch[DRAFT_MAX_NOTCHES];
    size_t nnotches;
    struct draft_dart dart[DRAFT_MAX_DARTS];
    size_t ndarts;
    struct draft_level level[DRAFT_MAX_LEVELS];
    size_t nlevels;
    struct vec title_at;   /* centre of the title block */
    struct bbox title_box; /* the title block's text: kept inside the seam line, off the
                            * grainline (or fold bracket), the girth lines and the darts
                            * wherever the part has room (docs/DRAFTING.md) */
    struct bbox box;       /* everything drawn, part coordinates */
    struct vec offset;     /* layout position = part coordinates + offset */
};

struct design;

/* Something odd about the input that the pattern was drafted with anyway
 * (contradictory or extreme measurements): a stable code, the
 * measurements involved and one English sentence (ASCII, no user text).
 * The codes and when each is given are in docs/DRAFTING.md. */
#define DRAFT_MAX_WARNINGS   8
#define DRAFT_WARN_NAMES     4   /* measurement names kept per warning */
#define DRAFT_WARNING_MAX    240 /* bytes of a message, NUL included */
#define DRAFT_WARN_CODES_MAX 255 /* every code, comma-separated, fits (a header line) */

struct draft_warning {
    const char *code;                           /* static: "waist_wider_than_block", ... */
    const char *measurements[DRAFT_WARN_NAMES]; /* static names, NULL after the last */
    char message[DRAFT_WARNING_MAX];
};

/* Every warning code the engine can give, NULL-terminated (for documents
 * and tests). */
extern const char *const draft_warning_codes[];

struct pattern {
    const struct design *design;
    char model[DRAFT_NAME_MAX + 1]; /* valid UTF-8, no control characters */
    char date[11];                  /* "YYYY-MM-DD", printed in the titles */
    enum draft_units units;
    double sa;
    struct draft_part part[DRAFT_MAX_PARTS];
    size_t nparts;
    struct vec scalebox;           /* top-left corner of the inside of the scale box */
    double scalebox_w, scalebox_h; /* its inside, mm (100 x 50, or 4 x 2 in) */
    double width, height;          /* layout size in mm; the layout starts at (0, 0) */
    struct draft_warning warning[DRAFT_MAX_WARNINGS];
    size_t nwarnings;
};

/* Rows of the pattern options table (draft_options[], below). */
#define DRAFT_OPTIONS_COUNT 23

/* Zero is the default of every field but the measurements and sa. */
struct draft_input {
    double value[MEASURES_COUNT];       /* indexed as measures_table[] */
    unsigned char have[MEASURES_COUNT]; /* 1 where value is given; names the design does not
                                         * use are ignored, whatever their value */
    int breasts;                        /* the model's has-breasts flag: decides the body */
    double sa;                          /* seam allowance, mm, 0..DRAFT_SA_MAX */
    const char *model_name;             /* for titles; may be NULL */
    const char *date;                   /* "YYYY-MM-DD" for titles; NULL: today (UTC, from
                                         * base/clock), so pass one for reproducible bytes */
    enum draft_units units;             /* labels; DRAFT_UNITS_METRIC by default */
    /* Fit options, indexed as draft_options[] (set them with
     * draft_option_apply / draft_option_apply_choice): opt[i] where
     * opt_set[i], else the row's default; a choice is its index. Rows of
     * other designs are ignored, so zero (nothing set) drafts the
     * defaults. */
    double opt[DRAFT_OPTIONS_COUNT];
    unsigned char opt_set[DRAFT_OPTIONS_COUNT];
};

struct design {
    const char *name;            /* "body", "bodice", "trouser" */
    const char *title;           /* "Body block" */
    const char *const *required; /* NULL-terminated measurement names */
    const char *const *optional; /* NULL-terminated */
    int needs_breasts;           /* 1: only bodies with breasts; 0: only without; -1: any */
    /* Fills p's parts from validated values (see draft_run). Returns 0, or
     * DRAFT_ERR_INVALID with a sentence in msg when the measurements contradict
     * each other so that no pattern can be drafted. */
    int (*draft)(struct pattern *p, const struct draft_input *in, char *msg, size_t msgn);
};

/* The registry: designs in a fixed order, and lookup by name (NULL when
 * unknown). */
int draft_design_count(void);
const struct design *draft_design(int i);
const struct design *draft_find(const char *name);

/* 1 when d may be drafted for a body with (breasts = 1) or without breasts. */
int draft_design_fits(const struct design *d, int breasts);

/* Names of the required measurements that in lacks, comma-separated
 * ("biceps, chest") into buf (truncated with "..." only if n is too small
 * for all 38 names). Returns how many are missing. */
int draft_missing(const struct design *d, const struct draft_input *in, char *buf, size_t n);

/* Draft d for in. Returns 0 with *out set (free it with draft_free), or
 * DRAFT_ERR_INVALID with a sentence in msg: "missing measurements: a, b" naming
 * every missing one, a value outside its plausible range, a body the design
 * is not for, a seam allowance outside 0..50 mm, a date that is not
 * YYYY-MM-DD, unknown units, or measurements that contradict each other
 * so that nothing can be drawn. Measurements that are odd but drawable
 * give a pattern with (*out)->warning[] filled in. Only the measurements
 * the design uses (required and optional) are read; in->breasts alone
 * decides the body. Never yields a non-finite coordinate: a draft
 * whose geometry is not finite is refused as invalid. DRAFT_ERR_NOMEM when out of
 * memory, DRAFT_ERR_INTERNAL on a null argument. */
int draft_run(const struct design *d, const struct draft_input *in, struct pattern **out, char *msg,
              size_t msgn);
void draft_free(struct pattern *p);

/* Lookups for handlers, tests and benchmarks (NULL or 0 when absent). */
const struct draft_part *draft_part_find(const struct pattern *p, const char *name);
const struct draft_edge *draft_edge_find(const struct draft_part *part, const char *name);
double draft_edge_length(const struct draft_part *part, const char *name);
/* Width of the part's seam outline on the horizontal line at y (largest x
 * minus smallest x of its crossings). Returns 0, or -1 when it has fewer
 * than two crossings there. */
int draft_width_at(const struct draft_part *part, double y, double *width);
/* The title block of part i, one line per element of lines (at most max):
 * part, design, model, how to cut, seam allowance, date and engine version;
 * the same text in every output format. Returns the number of lines. */
#define DRAFT_TITLE_LINES 6
size_t draft_title_lines(const struct pattern *p, size_t i, char lines[][128], size_t max);
/* Font sizes (mm) and line pitch of the title block, as every renderer
 * draws it: line k's baseline is at title_box.y0 + draft_title_baseline(k). */
#define DRAFT_TITLE_SIZE 6.0
#define DRAFT_TEXT_SIZE  4.0
#define DRAFT_NOTE_SIZE  3.0
double draft_title_baseline(size_t k);
/* Font size (mm) of title line k; line 0 is bold. */
double draft_title_font(size_t k);
/* Advance width in mm of UTF-8 text s at font size mm, bold or not: DejaVu
 * Sans metrics (what cairo draws the PDF with), 1.1 em for anything beyond
 * ASCII, so never narrower than the PDF's text. */
double draft_text_width(const char *s, double size, int bold);

/* SVG, 1 user unit = 1 mm, width/height in mm. *out is malloc'd and
 * NUL-terminated, *n its length. Returns 0 or DRAFT_ERR_NOMEM. */
int draft_svg(const struct pattern *p, char **out, size_t *n);

enum draft_paper { DRAFT_PAPER_FULL = 0, DRAFT_PAPER_A4 = 1, DRAFT_PAPER_LETTER = 2 };

#define DRAFT_TILE_MARGIN  10.0 /* mm of unprinted border on each tiled page */
#define DRAFT_TILE_OVERLAP 10.0 /* mm printed on both neighbouring pages */
#define DRAFT_FULL_MARGIN  10.0 /* mm around the layout on a full-size page */

/* "full", "a4" or "letter" (case-insensitive); 0 or DRAFT_ERR_INVALID. */
int draft_paper_parse(const char *s, enum draft_paper *out);
/* Page size in mm of a paper for pattern p (full: the layout + margins). */
void draft_paper_size(const struct pattern *p, enum draft_paper paper, double *w, double *h);
/* Tiling of p on paper: columns, rows, and tile pages actually printed:
 * a tile is printed only when its window shows some of the pattern (a cut
 * or seam line, the inside of a part, a notch, a title, the scale box)
 * beyond 1 mm from an edge it shares with a neighbour (which prints that
 * sliver), never for alignment marks alone. Full is 1 x 1. */
void draft_tiles(const struct pattern *p, enum draft_paper paper, int *cols, int *rows, int *pages);
/* 1 when tile (col, row) of p on paper is printed (see draft_tiles). */
int draft_tile_printed(const struct pattern *p, enum draft_paper paper, int col, int row);
/* PDF through cairo; *out is malloc'd, *n its length. Tiled papers start
 * with an assembly page (the grid of pages over the pieces drawn small)
 * when there is more than one tile page, so the document has pages + 1
 * pages. Returns 0, DRAFT_ERR_NOMEM, or DRAFT_ERR_INTERNAL when cairo
 * fails. Output is byte-reproducible: the same pattern (same date) gives
 * the same bytes. */
int draft_pdf(const struct pattern *p, enum draft_paper paper, char **out, size_t *n);

/* ---- pattern options ---------------------------------------------------
 * What a pattern is drafted with besides the measurements: the seam
 * allowance, the paper of the PDF, and the designs' fit options. A
 * vocabulary like the measurements': a program keeps a pattern's options as
 * name -> value (a number, or the name of a choice), checks each pair with
 * draft_option_check, and gives the values to draft_option_apply (or, for an
 * output option, to the renderer); an option added to the table needs no
 * change of how a program stores options. An option that a pattern does not
 * give takes its default. */

enum draft_option_kind {
    DRAFT_OPTION_NUMBER = 1, /* a finite number in min..max */
    DRAFT_OPTION_CHOICE = 2, /* one of choices[], exactly as written there */
};

struct draft_option {
    const char *name;           /* "sa", "paper" */
    int kind;                   /* enum draft_option_kind */
    const char *unit;           /* numbers: "mm", "deg", "%"; choices: "" */
    const char *description;    /* what it changes */
    double min, max, def;       /* numbers: the range (inclusive) and the default */
    const char *const *choices; /* choices: NULL-terminated; choices[0] is the default */
    const char *const *designs; /* NULL: every design; else the names of those it applies to */
    int output;                 /* 1: changes only the rendering (paper), not the pattern */
};

/* Rows may share a name when no design has two of them: a fit option
 * such as waist_ease has its own range and default in each design
 * (GET /v1/designs lists each design's rows). */
extern const struct draft_option draft_options[DRAFT_OPTIONS_COUNT];

/* Index of the first row of that name, or -1 (unknown to every design). */
int draft_option_find(const char *name);

/* Index of the row of that name that applies to design d, or -1. */
int draft_option_for(const struct design *d, const char *name);

/* 1 when option o applies to design d. */
int draft_option_applies(const struct draft_option *o, const struct design *d);

/* Index in o->choices of text (exactly: "a4", not "A4"), or -1 (also for a number
 * option or a NULL text). */
int draft_option_choice(const struct draft_option *o, const char *text);

/* Check one option given for design d: a known name that applies to d, with
 * a value of its kind: a finite number in its range (is_number, value), or
 * the name of one of its choices (text; NULL when what was given is not a
 * string). field is how the caller names the option to its user
 * ("options.sa", "sa"). Returns 0, or DRAFT_ERR_INVALID with a sentence
 * naming field in msg. */
int draft_option_check(const struct design *d, const char *name, const char *field, int is_number,
                       double value, const char *text, char *msg, size_t msgn);

/* Set a checked number option on in (sa: in->sa; a fit option: every row
 * of that name in in->opt). Output options (paper) and choices leave in as
 * it is. Returns 0 or DRAFT_ERR_INVALID for a name that is not an option.
 * draft_run refuses a set value outside its design's range. */
int draft_option_apply(struct draft_input *in, const char *name, double value);

/* Set a checked choice option on in (units: in->units; a fit option: the
 * choice's index in every row of that name that has it). Output options
 * (paper) leave in as it is. Returns 0, or DRAFT_ERR_INVALID for a name
 * that is not a choice option or a text that is none of its choices. */
int draft_option_apply_choice(struct draft_input *in, const char *name, const char *text);

/* Release cairo's and fontconfig's process-lifetime font caches, once no
 * thread draws any more (at exit), so leak checkers see only real leaks. */
void draft_shutdown(void);

#endif
