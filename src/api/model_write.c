/*
 * model_write.c - storing a change to a model of the caller's (PATCH, PUT of
 * the measurements).
 *
 * A write is a compare-and-set: the UPDATE applies only if the model's
 * sealed name is still the one read (its stamp, models_update). A write that
 * lost the race reads the model again and reapplies its change, and its
 * last try locks the row in a transaction, which always gets through.
 *
 * On PostgreSQL the UPDATE waits in the storage batcher, the request
 * suspended meanwhile (req_wait), so the event thread serves others. There
 * the writes of one model on this node take turns in a lane: a write that
 * finds another of the same model in flight queues behind it instead of
 * racing it; when a turn ends, its model as written goes to the next write
 * in line, which applies its own change and the changes of every write
 * queued with it (its members) to that, and stores them all in one UPDATE.
 * So many writers of one model cost one statement a turn instead of a lost
 * race each (bench/run.sh, PATCH of a hot row).
 *
 * Invariants:
 *  - Every write is answered exactly once, by its own request on its own
 *    event thread: the turn's leader answers itself and wakes each member
 *    with the outcome (and the model as its own change left it, with the
 *    write's times) once it is set. A turn whose leader's request ended
 *    meanwhile (its client went away) is handed on (turn_abandon), so no
 *    write stays queued.
 *  - A change runs on a copy, so one that fails (a 422 through req_fail on
 *    its own request) leaves the model as it was; its request is answered
 *    with that failure and the others' changes are stored without it.
 *  - A lane is held from the moment a write takes it until the end of the
 *    last turn; LIMIT_MODEL_LANES models at once, a write to a further one
 *    goes without a turn (its compare-and-set still decides). Lanes exist
 *    only while the batcher runs; a write without it is done at once.
 *  - All writes in a lane name the same model {id}, whose owner each of
 *    their requests proved (the model was read with the session check), so
 *    a member's answer shows only its own account's model.
 *  - Changes are idempotent (PATCH and PUT set values): applying one again
 *    to a model that already carries it gives the same model.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/model_write.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "store/db.h"

/* Tries without a lock after a lost race, counting the first write; the
 * next one locks the model. */
#define MODEL_WRITE_TRIES 2

enum mw_phase {
    MW_WRITING,  /* the leader's UPDATE waits in the batcher */
    MW_TURN,     /* queued in a lane; woken when its turn comes */
    MW_ANSWERED, /* a member: woken with the outcome in rc and m */
};

struct lane;

/* One write, the wait state of its request (req_wait) once it waits. */
struct model_wait {
    struct model_wait *next; /* in its lane's queue, then among its leader's members */
    struct req *rq;
    struct model m;    /* as read and changed; the leader's: what its UPDATE writes */
    struct model snap; /* in a turn: the model as its own change left it, which
                          answers it (with the write's times): a later write in
                          the same turn does not show in its answer */
    struct models_sealed w;
    model_change_fn change;
    json_t *arg; /* change's, a reference of its own */
    model_answer_fn answer;
    struct lane *lane;          /* the leader's: the lane whose turn it holds */
    struct model_wait *members; /* the leader's: the writes its UPDATE carries */
    enum mw_phase phase;
    bool owned; /* the request holds it (req_wait); else its creator frees it */
    int own_rc; /* the leader's own change failed on the model of its turn */
    int rc;     /* MW_WRITING: the batcher's outcome; MW_ANSWERED: the write's */
    int64_t changes;
};

struct lane {
    char id[sizeof((struct model *)0)->id]; /* "": free */
    struct model_wait *queue, **tail;       /* writes waiting for the next turn */
};

static pthread_mutex_t lanes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lane lanes[LIMIT_MODEL_LANES]; /* under lanes_lock */
static int lanes_held;                       /* under lanes_lock */

static int model_wait_woken(struct req *rq, void *state);

static void turn_abandon(struct model_wait *mw);

static void model_wait_free(void *p)
{
    struct model_wait *mw = p;

    if (mw->lane || mw->members) /* its request ended before its turn did */
        turn_abandon(mw);
    models_release(&mw->m);
    models_release(&mw->snap);
    models_sealed_release(&mw->w);
    json_decref(mw->arg);
    free(mw);
}

/* Suspend mw's request, which then holds mw: 0, or -1 when it cannot wait. */
static int wait_on(struct model_wait *mw)
{
    if (req_wait(mw->rq, model_wait_woken, mw, model_wait_free))
        return -1;
    mw->owned = true;
    return 0;
}

/* ---- lanes ---- */

/* Take the lane of mw's model (0: mw holds the turn, or goes without one
 * when every lane is held), or queue behind the write that holds it (1: mw's
 * request now waits for its turn). */
static int lane_enter(struct model_wait *mw)
{
    struct lane *lane = NULL, *spare = NULL;
    int queued = 0;

    pthread_mutex_lock(&lanes_lock);
    for (int i = 0; i < LIMIT_MODEL_LANES && !lane; i++) {
        if (!lanes[i].id[0])
            spare = spare ? spare : &lanes[i];
        else if (strcmp(lanes[i].id, mw->m.id) == 0)
            lane = &lanes[i];
    }
    if (lane && wait_on(mw) == 0) {
        mw->phase = MW_TURN;
        *lane->tail = mw;
        lane->tail = &mw->next;
        queued = 1;
    } else if (!lane && spare) {
        memcpy(spare->id, mw->m.id, sizeof spare->id);
        spare->queue = NULL;
        spare->tail = &spare->queue;
        lanes_held++;
        mw->lane = spare;
    }
    pthread_mutex_unlock(&lanes_lock);
    return queued;
}

/* The end of mw's turn (rc 0: mw->m is what is stored): the writes queued
 * meanwhile become the next turn, led by the first, which gets a copy of
 * the model as stored; or the lane is free again. */
static void lane_pass(struct model_wait *mw, int rc)
{
    struct lane *lane = mw->lane;
    struct model_wait *next;
    struct model copy;

    if (!lane)
        return;
    mw->lane = NULL;
    pthread_mutex_lock(&lanes_lock);
    next = lane->queue;
    lane->queue = NULL;
    lane->tail = &lane->queue;
    if (!next) {
        lane->id[0] = '\0';
        lanes_held--;
    }
    pthread_mutex_unlock(&lanes_lock);
    if (!next)
        return;
    next->lane = lane;
    next->members = next->next;
    next->next = NULL;
    if (rc == 0 && models_copy(&mw->m, &copy) == 0) { /* else its own read, stale */
        models_release(&next->m);
        next->m = copy;
    }
    req_wake(next->rq);
}

void model_write_drain(void)
{
    for (int ms = 0;; ms++) {
        pthread_mutex_lock(&lanes_lock);
        int held = lanes_held;
        pthread_mutex_unlock(&lanes_lock);
        if (held == 0)
            return;
        if (ms >= LIMIT_MODEL_DRAIN_MS) {
            log_error("api", "%d model write lanes still held at shutdown", held);
            return;
        }
        usleep(1000);
    }
}

/* ---- a turn's changes ---- */

/* Apply g's change to a copy of *m, which becomes *m if it succeeds. */
static int change_one(struct model_wait *g, struct model *m)
{
    struct model copy;
    int rc = models_copy(m, &copy);

    if (rc || (rc = g->change(g->rq, &copy, g->arg))) {
        models_release(&copy);
        return rc;
    }
    models_release(m);
    *m = copy;
    return 0;
}

/* g->snap becomes m as it stands, its measurements in their stored text
 * form (what an answer reads); on failure g has none, and is answered with
 * the turn's model. */
static void snap_take(struct model_wait *g, const struct model *m)
{
    char *text;

    models_release(&g->snap);
    if (models_copy(m, &g->snap))
        return;
    if (g->snap.measurements) {
        if (!(text = models_mtext_dump(&g->snap))) {
            models_release(&g->snap);
            return;
        }
        free(g->snap.mtext);
        g->snap.mtext = text;
        json_decref(g->snap.measurements);
        g->snap.measurements = NULL;
    }
}

/* What answers g once its turn stored stored (taken from g->snap when it
 * has one, with the write's times; else a copy of stored): into *out. */
static int answer_model(struct model_wait *g, const struct model *stored, struct model *out)
{
    if (!g->snap.id[0])
        return models_copy(stored, out);
    *out = g->snap;
    memset(&g->snap, 0, sizeof g->snap);
    out->created_at = stored->created_at;
    out->updated_at = stored->updated_at;
    out->has_avatar = stored->has_avatar;
    return 0;
}

/* A member is answered (rc, and m when 0) and woken; the caller must not
 * touch it after. */
static void member_answer(struct model_wait *x, int rc, const struct model *m)
{
    models_release(&x->m);
    if (rc == 0 && answer_model(x, m, &x->m))
        rc = ERR_NOMEM;
    x->rc = rc;
    x->phase = MW_ANSWERED;
    req_wake(x->rq);
}

/* mw->m becomes base (taken) with the changes of mw (unless its own
 * already failed) and of its members applied in order; a member whose
 * change fails is answered with its failure and leaves the turn. */
static void turn_apply(struct model_wait *mw, struct model *base)
{
    struct model_wait **link = &mw->members;

    models_release(&mw->m);
    mw->m = *base;
    memset(base, 0, sizeof *base);
    if (!mw->own_rc && !(mw->own_rc = change_one(mw, &mw->m)))
        snap_take(mw, &mw->m);
    while (*link) {
        struct model_wait *x = *link;
        int rc = change_one(x, &mw->m);
        if (rc == 0) {
            snap_take(x, &mw->m);
            link = &x->next;
            continue;
        }
        *link = x->next;
        member_answer(x, rc, NULL);
    }
}

/* Nothing left for the turn to write: its leader's own change failed on
 * the turn's model and no member's stands (mw->m is as stored). */
static bool turn_empty(const struct model_wait *mw)
{
    return mw->own_rc && !mw->members;
}

/* After the turn's write lost the race: read the model again and apply
 * the turn's changes to that, as often as MODEL_WRITE_TRIES allows, then
 * in a transaction that locks it. A refused change writes nothing (a 422
 * leaves even updated_at as it was). */
static int turn_again(struct req *rq, struct db *db, struct model_wait *mw, int tried)
{
    const char *id = req_param(rq, "id"), *owner = req_account(rq);
    struct model base;
    int rc;

    for (int tries = tried; tries < MODEL_WRITE_TRIES; tries++) {
        if ((rc = models_load(db, id, owner, &base)))
            return rc; /* gone: 404 */
        turn_apply(mw, &base);
        if (turn_empty(mw))
            return 0;
        if ((rc = models_update(db, owner, &mw->m)) != ERR_NOT_FOUND)
            return rc;
    }
    if ((rc = db_begin(db)))
        return rc;
    if (!(rc = models_load_locked(db, id, owner, &base))) {
        turn_apply(mw, &base);
        if (!turn_empty(mw))
            rc = models_update(db, owner, &mw->m);
        if (!rc)
            rc = db_commit(db);
    }
    if (rc)
        (void)db_rollback(db);
    return rc;
}

/* The write ended (rc; 0: mw->m is stored): the lane passes on, every
 * member gets the outcome, and the leader answers. */
static int turn_done(struct req *rq, struct model_wait *mw, int rc)
{
    lane_pass(mw, rc);
    for (struct model_wait *x = mw->members, *next; x; x = next) {
        next = x->next;
        member_answer(x, rc, &mw->m);
    }
    mw->members = NULL;
    if (mw->own_rc)
        return mw->own_rc;
    if (rc == 0 && mw->snap.id[0]) {
        struct model own;
        if (answer_model(mw, &mw->m, &own) == 0) {
            models_release(&mw->m);
            mw->m = own;
        }
    }
    return rc ? rc : mw->answer(rq, &mw->m);
}

/* The request of the turn's leader ended before its continuation ran (its
 * client went away while it waited; libmicrohttpd then ends it without
 * calling the handler again). The turn still ends for everyone else: a
 * write the batcher stored answers the members and passes the lane on; else
 * the first member leads the turn in its place (its own read: the
 * compare-and-set decides). Runs on the leader's event thread, waits for
 * nothing. */
static void turn_abandon(struct model_wait *mw)
{
    struct model_wait *first = mw->members;
    int rc = ERR_UNAVAILABLE;

    if (mw->phase == MW_WRITING)
        rc = models_update_finish(&mw->m, &mw->w, mw->rc, mw->changes);
    if (rc == 0 || !first) {
        lane_pass(mw, rc);
        for (struct model_wait *x = mw->members, *next; x; x = next) {
            next = x->next;
            member_answer(x, rc, &mw->m);
        }
        mw->members = NULL;
        return;
    }
    first->members = first->next;
    first->next = NULL;
    if (mw->phase == MW_TURN) { /* the model as the last turn stored it */
        models_release(&first->m);
        first->m = mw->m;
        memset(&mw->m, 0, sizeof mw->m);
    }
    first->lane = mw->lane;
    first->phase = MW_TURN;
    mw->lane = NULL;
    mw->members = NULL;
    req_wake(first->rq);
}

/* Store mw->m now, on this thread (db: its connection, NULL when none). */
static int turn_write_now(struct req *rq, struct db *db, struct model_wait *mw)
{
    int rc = db ? models_update(db, req_account(rq), &mw->m) : ERR_UNAVAILABLE;

    if (rc == ERR_NOT_FOUND)
        rc = turn_again(rq, db, mw, 1);
    return turn_done(rq, mw, rc);
}

/* On the batch thread: keep the outcome, wake the request. */
static void model_wait_answered(void *arg, int rc, struct db_rows *rows, int64_t changes)
{
    struct model_wait *mw = arg;

    if (rows)
        db_rows_free(rows);
    mw->rc = rc;
    mw->changes = changes;
    req_wake(mw->rq);
}

/* Hand mw->m's UPDATE to the batcher: 0 while it waits there, else what
 * storing it now gave. */
static int turn_write(struct req *rq, struct model_wait *mw)
{
    int rc;

    if (wait_on(mw) != 0)
        return turn_write_now(rq, db_thread(), mw);
    mw->phase = MW_WRITING;
    rc = models_update_submit(req_account(rq), &mw->m, &mw->w, model_wait_answered, mw);
    if (rc == ERR_OK)
        return 0;
    models_sealed_release(&mw->w);
    req_wait_cancel(rq);
    return rc == ERR_UNAVAILABLE ? turn_write_now(rq, db_thread(), mw) : turn_done(rq, mw, rc);
}

/* Back on the request's event thread. */
static int model_wait_woken(struct req *rq, void *state)
{
    struct model_wait *mw = state;
    struct db *db;
    int rc;

    switch (mw->phase) {
    case MW_WRITING:
        rc = models_update_finish(&mw->m, &mw->w, mw->rc, mw->changes);
        if (rc == ERR_NOT_FOUND)
            rc = (db = db_thread()) ? turn_again(rq, db, mw, 1) : ERR_UNAVAILABLE;
        return turn_done(rq, mw, rc);
    case MW_TURN: { /* mw->m: the model as the last turn stored it */
        struct model base = mw->m;
        memset(&mw->m, 0, sizeof mw->m);
        turn_apply(mw, &base);
        if (turn_empty(mw))
            return turn_done(rq, mw, 0);
        return turn_write(rq, mw);
    }
    case MW_ANSWERED:
        return mw->rc ? mw->rc : mw->answer(rq, &mw->m);
    }
    return ERR_INTERNAL;
}

int model_write(struct req *rq, struct db *db, struct model *m, model_change_fn change, json_t *arg,
                model_answer_fn answer)
{
    struct model_wait *mw, now = {.rq = rq, .change = change, .arg = arg, .answer = answer};
    int rc;

    if ((rc = change(rq, m, arg))) /* on the model as read: a 422 costs no storage */
        return rc;
    if (!db_batch_running() || !(mw = calloc(1, sizeof *mw))) {
        now.m = *m; /* at once, on this thread, without a lane */
        memset(m, 0, sizeof *m);
        rc = turn_write_now(rq, db, &now);
        models_release(&now.m);
        models_release(&now.snap); /* a retry's, when it did not answer */
        return rc;
    }
    *mw = (struct model_wait){
        .rq = rq, .m = *m, .change = change, .arg = json_incref(arg), .answer = answer};
    memset(m, 0, sizeof *m);
    if (lane_enter(mw))
        return 0; /* its turn wakes it (MW_TURN) */
    rc = turn_write(rq, mw);
    if (!mw->owned)
        model_wait_free(mw);
    return rc;
}
