/*
 * main.c - the atelier command line: one binary, one subcommand per job.
 *
 *   atelier serve     the HTTP API (plus, later, the sweeper thread)
 *   atelier migrate   bring the database schema up to date and exit; with
 *                     --from sqlite:PATH --to URL, copy a site into an empty
 *                     database instead (migrate_copy.c)
 *   atelier logs      read the access log for diagnosis
 *   atelier sweep     apply the retention rules once, as of --now
 *   atelier populate  create a synthetic population (demos, benchmarks)
 *   atelier opendata build   publish the differentially private open data release
 *   atelier draft     draft a design from a measurements file (draft_cli.c)
 *   atelier limits    print every LIMIT_* and RETAIN_* of policy.h as JSON
 *   atelier rekey     reseal everything under a new key (rekey.c), resumable
 *   atelier help [command], atelier --version
 *
 * Every command parses its settings with config_parse (flags and ATELIER_*
 * environment twins). Exit status: 0 success, 1 failure, 2 usage error.
 *
 * Long commands (migrate, sweep, populate, opendata build, rekey) show a
 * progress line on a terminal (base/progress.h) and always end with one
 * summary line on stderr, "atelier CMD: ... in N.N s"; their stdout keeps its
 * result (JSON for sweep and rekey). `serve` binds its port before it creates
 * any file, and checks its URLs before that.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account/account.h"
#include "account/ratelimit.h"
#include "api/api.h"
#include "api/model_write.h"
#include "obs/accesslog.h"
#include "cli/app.h"
#include "base/clock.h"
#include "base/config.h"
#include "store/db.h"
#include "atelier/draft.h"
#include "cli/draft_cli.h"
#include "base/err.h"
#include "http/http.h"
#include "privacy/image.h"
#include "account/mail.h"
#include "base/policy.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/version.h"
#include "cli/preflight.h"
#include "obs/metrics.h"
#include "privacy/opendata.h"
#include "account/password.h"
#include "cli/migrate_copy.h"
#include "cli/populate.h"
#include "cli/rekey.h"
#include "privacy/erase.h"
#include "privacy/sweep.h"
#include "base/util.h"
#include "http/workers.h"

/* The storage gauges of /metrics (obs/metrics.h), read on the metrics
 * listener's thread through its own connection, never a request's. */
static int serve_storage_gauges(struct metrics_storage *out)
{
    struct db *db = db_thread();
    int64_t published = -1;
    int rc;

    if (!db)
        return ERR_STORAGE_DOWN;
    if ((rc = mail_queue_stats(db, &out->mail_queued, &out->mail_oldest_ms)) ||
        (rc = opendata_published(db, &published)))
        return rc;
    out->release_ms = published < 0 ? -1 : published * 1000;
    return 0;
}

/* Start everything that serves requests, in dependency order; on failure
 * stop what was started. */
static int serve_start(const struct config *cfg, unsigned *port)
{
    char logdir[PATH_MAX + 8];
    const char *methods[256], *patterns[256];

    snprintf(logdir, sizeof logdir, "%s/logs", cfg->data_dir);
    if (accesslog_start(logdir))
        return ERR_UNAVAILABLE;
    size_t nroutes = api_routes.n < 256 ? api_routes.n : 256;
    for (size_t i = 0; i < nroutes; i++) {
        methods[i] = api_routes.routes[i].method;
        patterns[i] = api_routes.routes[i].pattern;
    }
    metrics_init(nroutes, methods, patterns);
    metrics_set_storage(serve_storage_gauges);
    metrics_set_db_statements(db_statements);
    metrics_set_db_batches(db_batch_counts);
    if (db_maint_start()) /* first: the threads below open their connections after it */
        goto fail_maint;
    if (!cfg->no_db_batch && db_batch_start())
        goto fail_batch;
    if (mail_start(cfg))
        goto fail_mail;
    if (sweep_start(cfg))
        goto fail_sweep;
    if (rekey_watch_start(cfg))
        goto fail_watch;
    http_set_auth(api_authenticate);
    http_set_auth_async(api_auth_begin, api_auth_end);
    http_set_done(api_request_done);
    http_set_read_scope(db_read_begin, db_read_end);
    workers_set_thread_exit(image_thread_done);
    if (http_start(cfg, &api_routes, port))
        goto fail_http;
    return 0;
fail_http:
    rekey_watch_stop();
fail_watch:
    sweep_stop();
fail_sweep:
    mail_stop();
fail_mail:
    db_batch_stop();
fail_batch:
    db_maint_stop();
fail_maint:
    metrics_set_storage(NULL);
    metrics_shutdown();
    accesslog_stop();
    return ERR_UNAVAILABLE;
}

static void serve_stop(void)
{
    db_batch_stop();     /* answers the statements it holds: no connection stays suspended */
    model_write_drain(); /* nor one whose write waits for its turn */
    http_stop();
    rekey_watch_stop();
    sweep_stop();
    mail_stop();
    db_maint_stop();
    accesslog_stop();
    metrics_set_storage(NULL);
    metrics_shutdown();
}

/* --hash-slots above the cores is clamped: say so, with both values. */
static unsigned serve_hash_slots(const struct config *cfg)
{
    unsigned ncpu = util_ncpu();

    if (cfg->hash_slots <= ncpu)
        return cfg->hash_slots;
    log_warn("main", "--hash-slots %u is more than the %u cores of this machine: using %u",
             cfg->hash_slots, ncpu, ncpu);
    return ncpu;
}

/* SQLite serves one node: a second `atelier serve` on the same data
 * directory is told so (its login and mail throttles would count apart from
 * the first's, so the limits would double). It is not refused: a server
 * started next to a running one during a key rotation, or to hand over a
 * restart, is legitimate for a while. The lock lasts as long as the
 * process. */
static void serve_lock(const struct config *cfg)
{
    int fd = app_lock_file(cfg->data_dir, "serve.lock");

    if (fd == -1)
        log_warn("main",
                 "another atelier serve is running on %s: with SQLite each server counts the "
                 "login and mail throttles alone, so two of them double every limit; run one "
                 "(several nodes need PostgreSQL: docs/OPERATIONS.md, \"Several nodes\")",
                 cfg->data_dir);
    else if (fd < 0)
        log_warn("main", "cannot lock %s/serve.lock: %s", cfg->data_dir, strerror(errno));
}

static int cmd_serve(const struct config *cfg, const char *argv0)
{
    struct db *db = NULL;
    unsigned port = 0, metrics_port = 0;
    sigset_t set;
    int sig = 0, rc;

    /* Signals go to sigwait below, never to the server's threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (cfg->clock_offset_ms)
        clock_set_offset_ms(cfg->clock_offset_ms);
    if (preflight_urls(cfg, "serve"))
        return 1;
    /* The port first: when it is taken, nothing has been created yet. */
    if (http_bind(cfg, &port, &metrics_port))
        return 1;
    if ((rc = app_open(cfg, 1, &db))) {
        http_unbind();
        return 1;
    }
    db_close(db); /* request threads open their own */
    if (db_backend() == DB_SQLITE)
        serve_lock(cfg);
    /* Several nodes share one PostgreSQL database: their throttles too. */
    ratelimit_share(db_backend() == DB_POSTGRES);
    if (password_set_slots(serve_hash_slots(cfg))) {
        http_unbind();
        app_close(NULL);
        return 1;
    }
    if (image_init(argv0) || serve_start(cfg, &port)) {
        http_unbind();
        app_close(NULL);
        return 1;
    }
    printf("atelier: listening on http://%s%s%s:%u/\n", strchr(cfg->listen_host, ':') ? "[" : "",
           cfg->listen_host[0] ? cfg->listen_host : "0.0.0.0",
           strchr(cfg->listen_host, ':') ? "]" : "", port);
    if (cfg->metrics_on)
        printf("atelier: metrics on http://%s%s%s:%u/metrics\n",
               strchr(cfg->metrics_host, ':') ? "[" : "", cfg->metrics_host,
               strchr(cfg->metrics_host, ':') ? "]" : "", metrics_port);
    fflush(stdout);
    sigwait(&set, &sig);
    log_info("main", "signal %d: shutting down", sig);
    serve_stop();
    draft_shutdown();
    image_shutdown();
    db_thread_close();
    app_close(NULL);
    return 0;
}

static int cmd_migrate(const struct config *cfg)
{
    struct db *db = NULL;
    uint64_t t0 = clock_mono_ns();

    if (cfg->migrate_from[0] || cfg->migrate_to[0]) {
        if (!cfg->migrate_from[0] || !cfg->migrate_to[0]) {
            fprintf(stderr, "atelier migrate: --from and --to go together: atelier migrate "
                            "--from sqlite:PATH --to postgresql://...\n");
            return 2;
        }
        return migrate_copy(cfg->migrate_from, cfg->migrate_to, stdout);
    }
    progress_step("atelier migrate: opening the database and applying migrations");
    if (app_open(cfg, 1, &db)) {
        progress_end();
        fprintf(stderr, "atelier migrate: failed after %.1f s (see the lines above)\n",
                progress_seconds(t0));
        return 1;
    }
    progress_end();
    printf("atelier: schema at version %d\n", db_schema_version(db));
    fprintf(stderr, "atelier migrate: schema at version %d in %.1f s\n", db_schema_version(db),
            progress_seconds(t0));
    app_close(db);
    return 0;
}

/* Deliver every due mail, batch after batch, until none is due: a failed
 * one is not due again before its backoff. Progress on a terminal. */
static void sweep_deliver_all(struct db *db, const struct config *cfg, int64_t now, int *sent,
                              int *failed)
{
    int ok, bad;

    progress_step("atelier sweep: delivering mail");
    while (mail_deliver_due(db, cfg, now, &ok, &bad) > 0) {
        *sent += ok;
        *failed += bad;
        progress_update("atelier sweep: %d mails delivered, %d failed", *sent, *failed);
    }
    progress_end();
}

/* Say how many mails the queue still holds and why. */
static int sweep_remaining(struct db *db, const struct config *cfg, int failed)
{
    int left = mail_queued(db);

    if (left < 0) {
        fprintf(stderr, "atelier sweep: cannot count the mail queue: %s\n", err_text(left));
        return left;
    }
    if (left > 0)
        fprintf(stderr,
                "atelier sweep: %d mails remain queued: %d failed delivery here (%s) and wait "
                "for their retry, %d are not due yet or are being delivered by a server; a "
                "running `atelier serve` delivers them\n",
                left, failed < left ? failed : left,
                cfg->smtp[0] ? "the SMTP server refused or did not answer" : "the outbox",
                left - (failed < left ? failed : left));
    return left;
}

/* One sweep as of --now (default: the real time); then deliver all the mail
 * it queued, so that the command works without a running server. */
static int cmd_sweep(const struct config *cfg)
{
    struct sweep_report r;
    struct db *db = NULL;
    int64_t now = clock_now_ms();
    uint64_t t0 = clock_mono_ns();
    int rc, sent = 0, failed = 0, left = 0;

    if (cfg->sweep_now[0] && clock_parse_rfc3339(cfg->sweep_now, &now)) {
        fprintf(stderr, "atelier sweep: --now takes an RFC 3339 time or a date\n");
        return 2;
    }
    if (preflight_urls(cfg, "sweep"))
        return 1;
    if (cfg->sweep_now[0])
        clock_set_ms(now); /* log lines then carry it as now=... */
    mail_configure(cfg);   /* notices carry --mail-from, like the server's mail */
    progress_step("atelier sweep: opening the database");
    if (app_open(cfg, 0, &db)) {
        progress_end();
        return 1;
    }
    rc = sweep_run(db, cfg, now, cfg->dry_run, &r);
    if (rc == 0 && !cfg->dry_run) {
        sweep_deliver_all(db, cfg, now, &sent, &failed);
        left = sweep_remaining(db, cfg, failed);
        left = left < 0 ? 0 : left;
        progress_step("atelier sweep: checkpointing the database");
        if (erase_scrub(db)) {
            progress_end();
            fprintf(stderr, "atelier sweep: a reader holds the WAL: erased pages stay in it "
                            "until a running server's checkpoint succeeds\n");
        }
    }
    progress_end();
    if (rc)
        fprintf(stderr, "atelier sweep: failed (%s) after %.1f s\n", err_text(rc),
                progress_seconds(t0));
    else
        fprintf(stderr,
                "atelier sweep: %s%d accounts erased, %d notices, %d unconfirmed signups erased, "
                "%d sessions and keys expired, %d links expired, %d 2FA setups expired, %d log "
                "files and %d outbox files deleted, %d mails sent (%d failed, %d queued)%s in "
                "%.1f s\n",
                cfg->dry_run ? "dry run, would be: " : "", r.accounts_erased, r.notices,
                r.signups_erased, r.sessions_deleted, r.tokens_deleted, r.mfa_setups_deleted,
                r.logs_deleted, r.outbox_deleted, sent, failed, left,
                r.locked_elsewhere ? " (database part done by another node)" : "",
                progress_seconds(t0));
    printf("{\"dry_run\":%s,\"locked_elsewhere\":%s,\"logs_deleted\":%d,\"notices\":%d,"
           "\"accounts_erased\":%d,\"signups_erased\":%d,\"sessions_deleted\":%d,"
           "\"tokens_deleted\":%d,\"mfa_setups_deleted\":%d,\"outbox_deleted\":%d,"
           "\"mails_sent\":%d,\"mails_failed\":%d,\"mails_remaining\":%d,\"ms\":%.1f}\n",
           cfg->dry_run ? "true" : "false", r.locked_elsewhere ? "true" : "false", r.logs_deleted,
           r.notices, r.accounts_erased, r.signups_erased, r.sessions_deleted, r.tokens_deleted,
           r.mfa_setups_deleted, r.outbox_deleted, sent, failed, left, r.ms);
    app_close(db);
    return rc ? 1 : 0;
}

static int cmd_populate(const struct config *cfg)
{
    struct db *db = NULL;
    uint64_t t0 = clock_mono_ns();
    int rc;

    progress_step("atelier populate: opening the database");
    if (app_open(cfg, 1, &db)) {
        progress_end();
        return 1;
    }
    rc = populate_run(db, cfg->populate_models, cfg->populate_seed, cfg->populate_csv, 1);
    progress_end();
    if (rc)
        fprintf(stderr, "atelier populate: %s after %.1f s\n", err_text(rc), progress_seconds(t0));
    else {
        double sec = progress_seconds(t0);
        printf("atelier: created %u accounts with one model each (seed %u)\n", cfg->populate_models,
               cfg->populate_seed);
        fprintf(stderr, "atelier populate: %u accounts created in %.1f s (%.0f a second)\n",
                cfg->populate_models, sec, sec > 0 ? cfg->populate_models / sec : 0.0);
    }
    app_close(db);
    return rc ? 1 : 0;
}

static int cmd_opendata(const struct config *cfg)
{
    struct opendata_opts o = {.rho_milli = cfg->opendata_rho,
                              .cap_milli = cfg->opendata_rho_cap,
                              .min_stratum = cfg->opendata_min,
                              .ignore_cadence = cfg->opendata_ignore_cadence,
                              .progress = 1};
    struct opendata_report r;
    struct db *db = NULL;
    uint64_t t0 = clock_mono_ns();
    char why[512];
    int rc, lockfd;

    if (o.rho_milli > o.cap_milli) {
        fprintf(stderr, "atelier opendata build: --rho must not exceed --rho-cap\n");
        return 2;
    }
    if (cfg->clock_offset_ms)
        clock_set_offset_ms(cfg->clock_offset_ms);
    progress_step("atelier opendata build: opening the database");
    if (app_open(cfg, 0, &db)) {
        progress_end();
        return 1;
    }
    /* One build at a time: this lock on the node (SQLite's one), the
     * database's advisory lock across nodes (in opendata_build). */
    if ((lockfd = app_lock_file(cfg->data_dir, "opendata.lock")) < 0) {
        progress_end();
        if (lockfd == -1)
            fprintf(stderr,
                    "atelier opendata build: another atelier opendata build is running on "
                    "%s; this one charged nothing: run it again when that one ended\n",
                    cfg->data_dir);
        else
            fprintf(stderr, "atelier opendata build: cannot lock %s/opendata.lock: %s\n",
                    cfg->data_dir, strerror(errno));
        app_close(db);
        return 1;
    }
    rc = opendata_build(db, &o, &r, why, sizeof why);
    close(lockfd);
    progress_end();
    if (rc)
        fprintf(stderr, "atelier opendata build: nothing published: %s\n", why);
    fprintf(stderr, "atelier opendata build: %s%s in %.1f s\n", rc ? "failed" : "published ",
            rc ? "" : r.id, progress_seconds(t0));
    if (!rc)
        printf("atelier: published release %s: %zu rows with breasts, %zu without; noisy "
               "counts: %lld eligible with breasts, %lld without, %lld incomplete, %lld "
               "implausible (rho %u.%03u per person)\n",
               r.id, r.rows[0], r.rows[1], (long long)r.noisy[OPENDATA_WITH_BREASTS],
               (long long)r.noisy[OPENDATA_WITHOUT_BREASTS],
               (long long)r.noisy[OPENDATA_INCOMPLETE], (long long)r.noisy[OPENDATA_IMPLAUSIBLE],
               o.rho_milli / 1000, o.rho_milli % 1000);
    app_close(db);
    return rc ? 1 : 0;
}

static int cmd_logs(const struct config *cfg)
{
    struct accesslog_filter f = {.ip = cfg->filter_ip,
                                 .request_id = cfg->filter_request_id,
                                 .route = cfg->filter_route,
                                 .table = cfg->logs_format < 0 ? isatty(1) : cfg->logs_format};
    char logdir[PATH_MAX + 8];

    if (cfg->filter_since[0] && clock_parse_rfc3339(cfg->filter_since, &f.since_ms)) {
        fprintf(stderr, "atelier logs: --since takes an RFC 3339 time or a date\n");
        return 2;
    }
    if (cfg->filter_until[0] && clock_parse_rfc3339(cfg->filter_until, &f.until_ms)) {
        fprintf(stderr, "atelier logs: --until takes an RFC 3339 time or a date\n");
        return 2;
    }
    if (accesslog_status_parse(cfg->filter_status, &f)) {
        fprintf(stderr, "atelier logs: --status takes statuses (404), classes (4xx) or ranges "
                        "(500-599) from 100 to 599, separated by commas (at most 16)\n");
        return 2;
    }
    snprintf(logdir, sizeof logdir, "%s/logs", cfg->data_dir);
    long n = accesslog_search(logdir, &f, stdout);
    if (n < 0) {
        fprintf(stderr, "atelier logs: cannot read %s\n", logdir);
        return 1;
    }
    return 0;
}

/* atelier limits: {"LIMIT_JSON_BODY": 65536, ...} from POLICY_LIMITS, in
 * policy.h order; whole values as integers. Tests read their limits here. */
static int cmd_limits(int argc, char **argv)
{
    json_t *o = json_object();
    int rc = 1;

    if (argc > 2) {
        int help = strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0;
        fprintf(help ? stdout : stderr, "usage: atelier limits (no options): every limit, "
                                        "lifetime and retention period as JSON\n");
        json_decref(o);
        return help ? 0 : 2;
    }
#define LIMIT_PUT(name)                                                                            \
    {                                                                                              \
        double v = (double)(name);                                                                 \
        json_object_set_new(o, #name, v == floor(v) ? json_integer((json_int_t)v) : json_real(v)); \
    }
    POLICY_LIMITS(LIMIT_PUT)
#undef LIMIT_PUT
    if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) ==
            0 &&
        fputc('\n', stdout) != EOF && fflush(stdout) == 0)
        rc = 0;
    json_decref(o);
    return rc;
}

/* atelier help [command]: the same as atelier [command] --help. */
static int cmd_help(int argc, char **argv)
{
    static char help_flag[] = "--help";
    char *args[4] = {argv[0], NULL, help_flag, NULL};

    if (argc > 3) {
        fprintf(stderr, "atelier help: usage: atelier help [command]\n");
        return 2;
    }
    if (argc < 3) {
        config_usage(NULL);
        return 0;
    }
    if (strcmp(argv[2], "help") == 0 || strcmp(argv[2], "version") == 0) {
        config_usage(argv[2]);
        return 0;
    }
    args[1] = argv[2];
    if (strcmp(argv[2], "draft") == 0) {
        int rc = draft_cli(2, args + 1);
        draft_shutdown();
        return rc;
    }
    if (strcmp(argv[2], "limits") == 0)
        return cmd_limits(3, args);
    if (strcmp(argv[2], "opendata") == 0) {
        config_usage("opendata");
        return 0;
    }
    struct config cfg;
    int rc = config_parse(&cfg, argv[2], 2, args + 1);
    if (rc == 1)
        return 0;
    return 2; /* an unknown command: config_parse said so */
}

int main(int argc, char **argv)
{
    struct config cfg;
    const char *cmd;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        config_usage(NULL);
        return argc < 2 ? 2 : 0;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            config_usage("version");
            return 0;
        }
        if (argc > 2) {
            fprintf(stderr, "atelier: --version takes no argument\n");
            return 2;
        }
        printf("atelier %s\n", version_string());
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return cmd_help(argc, argv);
    if (strcmp(cmd, "draft") == 0) { /* its own options: see draft_cli.h */
        rc = draft_cli(argc - 1, argv + 1);
        draft_shutdown();
        return rc;
    }
    if (strcmp(cmd, "limits") == 0)
        return cmd_limits(argc, argv);
    if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "logs") &&
        strcmp(cmd, "sweep") && strcmp(cmd, "populate") && strcmp(cmd, "opendata") &&
        strcmp(cmd, "rekey")) {
        fprintf(stderr, "atelier: unknown command '%s' (see atelier --help)\n", cmd);
        return 2;
    }
    int first = 2;
    if (strcmp(cmd, "opendata") == 0) {
        /* the one subcommand: atelier opendata build [options] */
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            config_usage(cmd);
            return 0;
        }
        if (argc < 3 || strcmp(argv[2], "build") != 0) {
            fprintf(stderr, "atelier opendata: usage: atelier opendata build [--rho RHO] "
                            "[--rho-cap RHO] [--ignore-cadence] [--min-stratum N]\n");
            return 2;
        }
        first = 3;
    }
    rc = config_parse(&cfg, cmd, argc - first, argv + first);
    if (rc == 1)
        return 0;
    if (rc)
        return 2;
    log_set_level((enum log_level)cfg.log_level);
    if (strcmp(cmd, "serve") != 0)
        progress_enable(isatty(2)); /* the server never shows a progress line */
    if (sodium_init() < 0) {
        fprintf(stderr, "atelier: libsodium failed to initialise\n");
        return 1;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(&cfg, argv[0]);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(&cfg);
    if (strcmp(cmd, "sweep") == 0)
        return cmd_sweep(&cfg);
    if (strcmp(cmd, "populate") == 0)
        return cmd_populate(&cfg);
    if (strcmp(cmd, "opendata") == 0)
        return cmd_opendata(&cfg);
    if (strcmp(cmd, "rekey") == 0)
        return rekey_command(&cfg);
    return cmd_logs(&cfg);
}
