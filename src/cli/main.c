/*
 * main.c - the atelier command line: one binary, one subcommand per job.
 *
 *   atelier serve     the HTTP API (plus, later, the sweeper thread)
 *   atelier migrate   bring the database schema up to date and exit
 *   atelier logs      read the access log for diagnosis
 *   atelier sweep     apply the retention rules once, as of --now
 *   atelier populate  create a synthetic population (demos, benchmarks)
 *   atelier opendata build   publish the differentially private open data release
 *   atelier draft     draft a design from a measurements file (draft_cli.c)
 *   atelier limits    print every LIMIT_* and RETAIN_* of policy.h as JSON
 *   atelier rekey     reseal everything under a new key (rekey.c), resumable
 *
 * Every command parses its settings with config_parse (flags and ATELIER_*
 * environment twins). Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account/account.h"
#include "api/api.h"
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
#include "obs/metrics.h"
#include "privacy/opendata.h"
#include "account/password.h"
#include "cli/populate.h"
#include "cli/rekey.h"
#include "privacy/erase.h"
#include "privacy/sweep.h"
#include "base/util.h"
#include "http/workers.h"

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
    metrics_set_db_statements(db_statements);
    if (db_maint_start()) /* first: the threads below open their connections after it */
        goto fail_maint;
    if (mail_start(cfg))
        goto fail_mail;
    if (sweep_start(cfg))
        goto fail_sweep;
    if (rekey_watch_start(cfg))
        goto fail_watch;
    http_set_auth(api_authenticate);
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
    db_maint_stop();
fail_maint:
    metrics_shutdown();
    accesslog_stop();
    return ERR_UNAVAILABLE;
}

static void serve_stop(void)
{
    http_stop();
    rekey_watch_stop();
    sweep_stop();
    mail_stop();
    db_maint_stop();
    accesslog_stop();
    metrics_shutdown();
}

static int cmd_serve(const struct config *cfg, const char *argv0)
{
    struct db *db = NULL;
    unsigned port = 0;
    sigset_t set;
    int sig = 0, rc;

    /* Signals go to sigwait below, never to the server's threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (cfg->clock_offset_ms)
        clock_set_offset_ms(cfg->clock_offset_ms);
    if ((rc = app_open(cfg, 1, &db)))
        return 1;
    db_close(db); /* request threads open their own */
    if (password_set_slots(cfg->hash_slots > util_ncpu() ? util_ncpu() : cfg->hash_slots)) {
        app_close(NULL);
        return 1;
    }
    if (image_init(argv0) || serve_start(cfg, &port)) {
        app_close(NULL);
        return 1;
    }
    printf("atelier: listening on http://%s%s%s:%u/\n", strchr(cfg->listen_host, ':') ? "[" : "",
           cfg->listen_host[0] ? cfg->listen_host : "0.0.0.0",
           strchr(cfg->listen_host, ':') ? "]" : "", port);
    if (cfg->metrics_on)
        printf("atelier: metrics on http://%s%s%s:%u/metrics\n",
               strchr(cfg->metrics_host, ':') ? "[" : "", cfg->metrics_host,
               strchr(cfg->metrics_host, ':') ? "]" : "", cfg->metrics_port);
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

    if (app_open(cfg, 1, &db))
        return 1;
    printf("atelier: schema at version %d\n", db_schema_version(db));
    app_close(db);
    return 0;
}

/* Deliver every due mail, batch after batch, until none is due: a failed
 * one is not due again before its backoff. Progress on a terminal. */
static void sweep_deliver_all(struct db *db, const struct config *cfg, int64_t now, int *sent,
                              int *failed)
{
    int tty = isatty(2), ok, bad;

    while (mail_deliver_due(db, cfg, now, &ok, &bad) > 0) {
        *sent += ok;
        *failed += bad;
        if (tty)
            fprintf(stderr, "\ratelier sweep: %d mails delivered, %d failed", *sent, *failed);
    }
    if (tty && (*sent || *failed))
        fputc('\n', stderr);
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
    int rc, sent = 0, failed = 0, left = 0;

    if (cfg->sweep_now[0] && clock_parse_rfc3339(cfg->sweep_now, &now)) {
        fprintf(stderr, "atelier sweep: --now takes an RFC 3339 time or a date\n");
        return 2;
    }
    clock_set_ms(now);
    mail_configure(cfg); /* notices carry --mail-from, like the server's mail */
    if (app_open(cfg, 0, &db))
        return 1;
    rc = sweep_run(db, cfg, now, cfg->dry_run, &r);
    if (rc == 0 && !cfg->dry_run) {
        sweep_deliver_all(db, cfg, now, &sent, &failed);
        left = sweep_remaining(db, cfg, failed);
        left = left < 0 ? 0 : left;
        if (erase_scrub(db))
            fprintf(stderr, "atelier sweep: a reader holds the WAL: erased pages stay in it "
                            "until a running server's checkpoint succeeds\n");
    }
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
    int rc;

    if (app_open(cfg, 1, &db))
        return 1;
    rc = populate_run(db, cfg->populate_models, cfg->populate_seed, cfg->populate_csv, isatty(2));
    if (rc)
        fprintf(stderr, "atelier populate: %s\n", err_text(rc));
    else
        printf("atelier: created %u accounts with one model each (seed %u)\n", cfg->populate_models,
               cfg->populate_seed);
    app_close(db);
    return rc ? 1 : 0;
}

static int cmd_opendata(const struct config *cfg)
{
    struct opendata_opts o = {.rho_milli = cfg->opendata_rho,
                              .cap_milli = cfg->opendata_rho_cap,
                              .min_stratum = cfg->opendata_min,
                              .ignore_cadence = cfg->opendata_ignore_cadence,
                              .progress = isatty(2)};
    struct opendata_report r;
    struct db *db = NULL;
    char why[512];
    int rc;

    if (o.rho_milli > o.cap_milli) {
        fprintf(stderr, "atelier opendata build: --rho must not exceed --rho-cap\n");
        return 2;
    }
    if (cfg->clock_offset_ms)
        clock_set_offset_ms(cfg->clock_offset_ms);
    if (app_open(cfg, 0, &db))
        return 1;
    rc = opendata_build(db, &o, &r, why, sizeof why);
    if (rc)
        fprintf(stderr, "atelier opendata build: nothing published: %s\n", why);
    else
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
    char logdir[PATH_MAX + 8];
    int64_t since = 0;

    if (cfg->filter_since[0] && clock_parse_rfc3339(cfg->filter_since, &since)) {
        fprintf(stderr, "atelier logs: --since takes an RFC 3339 time or a date\n");
        return 2;
    }
    snprintf(logdir, sizeof logdir, "%s/logs", cfg->data_dir);
    long n = accesslog_query(logdir, cfg->filter_ip, since, cfg->filter_request_id, stdout);
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
