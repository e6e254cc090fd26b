/*
 * config.h - run-time settings of every command.
 *
 * Each setting is a command-line flag with an ATELIER_* environment twin
 * (flag wins over environment, environment over default). The option table in
 * config.c is the single list; `--help` is generated from it.
 */
#ifndef ATELIER_CONFIG_H
#define ATELIER_CONFIG_H

#include <limits.h>
#include <stdint.h>

#define CONFIG_MAX_PROXIES 16

struct config {
    char listen_host[64];    /* --listen host part */
    unsigned port;           /* --listen port part; 0 = pick a free port */
    char metrics_host[64];   /* --metrics-listen host part */
    unsigned metrics_port;   /* --metrics-listen port part */
    int metrics_on;          /* --metrics-listen given: serve /metrics there only */
    char data_dir[PATH_MAX]; /* --data */
    char database[1024];     /* --database; "" = SQLite in data_dir */
    char key_file[PATH_MAX]; /* --key-file; "" = <data>/secret.key */
    char key_hex[65];        /* ATELIER_KEY (64 hex chars), wins over the file */
    unsigned threads;        /* --threads; 0 = number of cores */
    unsigned hash_slots;     /* --hash-slots: argon2id hashes at once */
    int no_db_batch;         /* --no-db-batch: no storage batcher (PostgreSQL) */
    char trusted_proxies[CONFIG_MAX_PROXIES][46]; /* --trusted-proxy, repeatable or comma list */
    unsigned n_trusted_proxies;
    char smtp[512];          /* --smtp smtp://host:port; "" = outbox directory */
    int smtp_tls;            /* --smtp-tls: 0 off, 1 opportunistic, 3 required (CURLUSESSL_*) */
    char mail_from[256];     /* --mail-from */
    char public_url[512];    /* --public-url, base of links in mails */
    int log_level;           /* --log-level */
    int64_t clock_offset_ms; /* --clock-offset (testing): shift the server's clock */
    unsigned idle_timeout_s; /* --idle-timeout: drop a connection silent this long */
    unsigned sweep_delay_s;  /* --sweep-delay: first hourly sweep this long after start */
    /* sweep command */
    char sweep_now[64];
    int dry_run;
    /* populate and opendata commands */
    unsigned populate_models;
    unsigned populate_seed;
    char populate_csv[4096];     /* --csv */
    unsigned opendata_rho;       /* --rho, milli-units */
    unsigned opendata_rho_cap;   /* --rho-cap, milli-units */
    int opendata_ignore_cadence; /* --ignore-cadence */
    unsigned opendata_min;

    /* key rotation: every command with a key, and the rekey command */
    char next_key_file[PATH_MAX]; /* --next-key-file; "" = <key file>.next */
    char new_key_file[PATH_MAX];  /* rekey --new-key-file */
    unsigned rekey_batch;         /* rekey --batch: values resealed per transaction */

    /* migrate --from --to: copy a site into an empty database */
    char migrate_from[PATH_MAX + 16]; /* --from sqlite:PATH */
    char migrate_to[1024];            /* --to postgresql://... or sqlite:PATH */

    /* logs command */
    char filter_ip[64];
    char filter_since[64];
    char filter_request_id[64];
    char filter_until[64];
    char filter_status[128]; /* --status 404,4xx,500-599 (parsed by accesslog_status_parse) */
    char filter_route[256];
    int logs_format; /* --format: -1 auto (a table on a terminal), 0 JSON lines, 1 table */
};

/* Fill defaults, then ATELIER_* environment, then argv[first..argc) flags of
 * the named command. Returns 0, 1 when --help was printed, or ERR_INVALID
 * after printing a message naming the bad flag. */
int config_parse(struct config *c, const char *command, int argc, char **argv);

/* Print the help of one command (or of the program when command is NULL). */
void config_usage(const char *command);

#endif
