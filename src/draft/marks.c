/*
 * marks.c - the notches every design gets beyond its own (the armhole
 * pitch, the sleeve cap, the knee): added from the drafted edges, before
 * the parts are finished, so the designs only describe their geometry.
 *
 *   - dart legs: every dart's two legs are notched where they meet the
 *     seam (bust and waist darts of the bodice, the trouser's back dart);
 *   - side seams: the body block's and the T-shirt's at the waist line;
 *     the bodice back's where the front's bust dart sits once sewn; the
 *     trouser outseams at the front's seat line (the back at the same
 *     distance from the hem); the skirt's at the seat line (its own);
 *   - crotch: each trouser leg's cross seam where its curve begins (the
 *     seat line);
 *   - waist: the trouser's crease at the waist (where the grainline meets
 *     the waist seam), the body block's waist on the side seams, and the
 *     waist darts' legs.
 * Dart tips are marked by the renderers (render_draw.c).
 *
 * Invariant: notches on two edges sewn together sit at the same distance
 * from the ends that meet (the same hem, the same waist), so they match
 * when the seam is pinned; a rule whose edge, level or partner is missing
 * adds nothing.
 */
#include <string.h>

#include "atelier/draft.h"
#include "draft/draft_impl.h"

#define END_TOL 1e-6 /* mm: a dart leg ends on an edge's end */

enum rule_kind {
    AT_LEVEL,      /* where the edge crosses the named level's line */
    MATCH_LENGTH,  /* at the length of the other part's edge */
    MATCH_NOTCH,   /* at the other part's last notch on the edge of that name */
    AT_GRAIN_LINE, /* where the grainline, extended, meets the edge */
};

struct rule {
    const char *design, *part, *edge;
    enum rule_kind kind;
    const char *arg, *arg2;
};

static const struct rule rules[] = {
    {"body", "front", "side", AT_LEVEL, "waist", NULL},
    {"body", "back", "side", AT_LEVEL, "waist", NULL},
    {"bodice", "back", "side", MATCH_LENGTH, "front", "side_lower"},
    {"trouser", "front", "cross", AT_LEVEL, "seat", NULL},
    {"trouser", "back", "cross", AT_LEVEL, "seat", NULL},
    {"trouser", "front", "outseam", AT_LEVEL, "seat", NULL},
    {"trouser", "back", "outseam", MATCH_NOTCH, "front", "outseam"},
    {"trouser", "front", "waist", AT_GRAIN_LINE, NULL, NULL},
    {"trouser", "back", "waist", AT_GRAIN_LINE, NULL, NULL},
    {"tshirt", "front", "side", AT_LEVEL, "waist", NULL},
    {"tshirt", "back", "side", AT_LEVEL, "waist", NULL},
};

static struct draft_part *part_named(struct pattern *p, const char *name)
{
    for (size_t i = 0; i < p->nparts; i++)
        if (strcmp(p->part[i].name, name) == 0)
            return &p->part[i];
    return NULL;
}

static int edge_named(const struct draft_part *pt, const char *name)
{
    for (size_t i = 0; i < pt->nedges; i++)
        if (strcmp(pt->edge[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Arc length along path to its first crossing of the line through o in
 * direction d (x = const when d is vertical, y = const when horizontal). */
static int along_to_line(const struct path *path, int vertical, double v, double *along)
{
    double acc = 0.0, t[3];

    for (size_t i = 0; i < path->n; i++) {
        const struct seg *s = &path->seg[i];
        int k = vertical ? geom_seg_cross_x(s, v, t) : geom_seg_cross_y(s, v, t);
        if (k > 0) {
            *along = acc + geom_seg_length_to(s, t[0]);
            return 0;
        }
        if (fabs((vertical ? s->p[3].x : s->p[3].y) - v) < END_TOL) {
            *along = acc + geom_seg_length(s);
            return 0;
        }
        acc += geom_seg_length(s);
    }
    return -1;
}

static void notch_at(struct draft_part *pt, int e, double along, int kind)
{
    if (pt->nnotches >= DRAFT_MAX_NOTCHES)
        return;
    pt->notch[pt->nnotches].edge = e;
    pt->notch[pt->nnotches].along = along;
    pt->notch[pt->nnotches].kind = kind;
    pt->nnotches++;
}

/* Each dart leg's end: on the edge that ends there (or starts there) and
 * does not run across the dart to the other leg. */
static void dart_legs(struct draft_part *pt)
{
    for (size_t d = 0; d < pt->ndarts; d++) {
        struct vec leg[2] = {pt->dart[d].a, pt->dart[d].b};
        for (int k = 0; k < 2; k++) {
            struct vec other = leg[1 - k];
            for (size_t i = 0; i < pt->nedges; i++) {
                const struct path *e = &pt->edge[i].path;
                if (pt->edge[i].fold || !e->n)
                    continue;
                struct vec s = geom_path_start(e), f = geom_path_end(e);
                if (vec_dist(f, leg[k]) < END_TOL && vec_dist(s, other) > END_TOL) {
                    notch_at(pt, (int)i, geom_path_length(e), DRAFT_NOTCH_FRONT);
                    break;
                }
                if (vec_dist(s, leg[k]) < END_TOL && vec_dist(f, other) > END_TOL) {
                    notch_at(pt, (int)i, 0.0, DRAFT_NOTCH_FRONT);
                    break;
                }
            }
        }
    }
}

static double level_y(const struct draft_part *pt, const char *name, int *ok)
{
    for (size_t i = 0; i < pt->nlevels; i++)
        if (strcmp(pt->level[i].name, name) == 0) {
            *ok = 1;
            return pt->level[i].y;
        }
    *ok = 0;
    return 0.0;
}

/* The waist seam's pieces are "waist", or "waist_side" / "waist_centre"
 * around a dart ("waist_dart" itself is never notched). */
static int waist_piece(const char *rule_edge, const char *edge)
{
    size_t n = strlen(rule_edge);
    return strncmp(edge, rule_edge, n) == 0 && (edge[n] == '\0' || edge[n] == '_') &&
           strcmp(edge + n, "_dart") != 0;
}

static void apply(struct pattern *p, const struct rule *r)
{
    struct draft_part *pt = part_named(p, r->part), *other;
    int kind = strcmp(r->part, "front") == 0 ? DRAFT_NOTCH_FRONT : DRAFT_NOTCH_BACK, e, ok;
    double along, y;

    if (!pt)
        return;
    if (r->kind == AT_GRAIN_LINE) {
        struct vec d = vec_sub(pt->grain_to, pt->grain_from);
        if (pt->fold_edge >= 0 || fabs(d.x) > 1e-9) /* a vertical grainline only */
            return;
        for (size_t i = 0; i < pt->nedges; i++)
            if (waist_piece(r->edge, pt->edge[i].name) &&
                along_to_line(&pt->edge[i].path, 1, pt->grain_from.x, &along) == 0) {
                notch_at(pt, (int)i, along, kind);
                return;
            }
        return;
    }
    if ((e = edge_named(pt, r->edge)) < 0)
        return;
    switch (r->kind) {
    case AT_LEVEL:
        y = level_y(pt, r->arg, &ok);
        if (ok && along_to_line(&pt->edge[e].path, 0, y, &along) == 0)
            notch_at(pt, e, along, kind);
        break;
    case MATCH_LENGTH:
        other = part_named(p, r->arg);
        if (other && edge_named(other, r->arg2) >= 0)
            notch_at(pt, e, geom_path_length(&other->edge[edge_named(other, r->arg2)].path), kind);
        break;
    case MATCH_NOTCH:
        other = part_named(p, r->arg);
        if (!other || (ok = edge_named(other, r->arg2)) < 0)
            break;
        for (size_t i = other->nnotches; i-- > 0;)
            if (other->notch[i].edge == ok) {
                notch_at(pt, e, other->notch[i].along, kind);
                break;
            }
        break;
    default:
        break;
    }
}

void draft_marks(struct pattern *p)
{
    for (size_t i = 0; i < p->nparts; i++)
        dart_legs(&p->part[i]);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].design, p->design->name) == 0)
            apply(p, &rules[i]);
}
