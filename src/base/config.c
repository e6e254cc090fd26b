/*
 * config.c - run-time settings of every command: one option table, from
 * which defaults, environment twins, flag parsing and --help are all driven.
 *
 * Precedence: table default, then the ATELIER_* environment variable, then
 * the command-line flag (a later flag wins over an earlier one; list options
 * such as --trusted-proxy accumulate across flags, and the first flag
 * replaces whatever the environment set). Only options that apply to the
 * command are read from the environment or accepted as flags; an environment
 * variable set to the empty string counts as unset.
 *
 * argv convention: argv[0] is the command name ("serve") and the flags are
 * argv[1..argc); a vector that starts directly with a flag is accepted too.
 * Flags are "--name value" or "--name=value"; "-h"/"--help" prints the help
 * of the command to stdout and config_parse returns 1.
 *
 * Adding a command: a row in config_commands and the command's name in the
 * "commands" word list of each option row it uses (or "all"). Adding an
 * option: a field in struct config and one row in config_options; the kinds
 * and the check/set hooks below cover strings, numbers, lists and enums.
 *
 * Invariants: after config_parse returns 0 every field is valid (ports in
 * range, trusted proxies are normalised IP literals, key_hex is empty or 64
 * hex characters, key_file is non-empty); messages never echo option values,
 * since some (database URLs, ATELIER_KEY) carry secrets.
 */
#include "base/config.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/policy.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum opt_kind {
    OPT_STRING, /* char array at off, size bytes */
    OPT_UINT,   /* unsigned at off, in [min, max] */
    OPT_INT,    /* int64_t at off, input in [min, max] multiplied by scale */
    OPT_BOOL,   /* int at off; flag takes no value; env 1/0/true/false */
    OPT_LIST,   /* char [max][size] at off, count (unsigned) at count_off */
    OPT_CUSTOM, /* set() does everything */
};

struct opt {
    const char *name; /* flag without "--"; NULL for environment-only */
    const char *env;  /* ATELIER_* twin; NULL for flag-only */
    enum opt_kind kind;
    const char *commands; /* space-separated command names, or "all" */
    const char *metavar;  /* shown in help, e.g. "HOST:PORT" */
    const char *def;      /* default, parsed like any value */
    const char *shown;    /* the default as --help and the README say it, when def is not */
    const char *help;
    size_t off, size, count_off;
    int64_t min, max, scale;
    bool secret; /* never shown in help or messages */
    /* Validate and normalise one string (or list item) into out. */
    int (*check)(const char *in, char *out, size_t outsz, const char **why);
    /* OPT_CUSTOM: parse v into c. */
    int (*set)(struct config *c, const char *v, const char **why);
};

struct command {
    const char *name;
    const char *summary;
    const char *usage; /* the command line before [options], when not "atelier NAME" */
    bool no_options;   /* help, version: no option at all */
};

static const struct command config_commands[] = {
    {"serve", "run the HTTP server", NULL, false},
    {"migrate",
     "create or upgrade the database schema, then exit; with --from and --to, copy "
     "a site into an empty database",
     NULL, false},
    {"logs", "search the access log", NULL, false},
    {"sweep", "apply the retention rules once (the server also does it hourly)", NULL, false},
    {"populate", "create a synthetic population of opted-in accounts with models", NULL, false},
    {"opendata", "build the differentially private open data release: atelier opendata build",
     "atelier opendata build", false},
    {"draft", "draft a design from a measurements file: atelier draft <design> --measurements F",
     "atelier draft <design>", false},
    {"limits", "print every limit, lifetime and retention period as JSON", NULL, false},
    {"rekey",
     "reseal everything under a new key while servers serve: atelier rekey --new-key-file F", NULL,
     false},
    {"help", "the help of the program, or of one command: atelier help [command]",
     "atelier help [command]", true},
    {"version", "print the version of this build: atelier --version", "atelier --version", true},
};

/* --- value checks ------------------------------------------------------- */

static int config_check_nonempty(const char *in, char *out, size_t outsz, const char **why)
{
    if (!*in) {
        *why = "must not be empty";
        return -1;
    }
    if (util_strlcpy(out, in, outsz) != 0) {
        *why = "value too long";
        return -1;
    }
    return 0;
}

/* An IPv4 or IPv6 literal, stored in the canonical inet_ntop form. */
static int config_check_ip(const char *in, char *out, size_t outsz, const char **why)
{
    unsigned char addr[16];
    char buf[INET6_ADDRSTRLEN];
    int af = strchr(in, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, in, addr) != 1 || !inet_ntop(af, addr, buf, sizeof buf)) {
        *why = "expected an IPv4 or IPv6 address";
        return -1;
    }
    if (util_strlcpy(out, buf, outsz) != 0) {
        *why = "value too long";
        return -1;
    }
    return 0;
}

static int config_check_ip_or_empty(const char *in, char *out, size_t outsz, const char **why)
{
    if (!*in) {
        out[0] = '\0';
        return 0;
    }
    return config_check_ip(in, out, outsz, why);
}

static int config_check_time(const char *in, char *out, size_t outsz, const char **why)
{
    int64_t ms;
    if (*in && clock_parse_rfc3339(in, &ms) != 0) {
        *why = "expected an RFC 3339 time or a date YYYY-MM-DD";
        return -1;
    }
    if (util_strlcpy(out, in, outsz) != 0) {
        *why = "value too long";
        return -1;
    }
    return 0;
}

static int config_check_url(const char *in, char *out, size_t outsz, const char **why)
{
    if (*in && strncmp(in, "http://", 7) != 0 && strncmp(in, "https://", 8) != 0) {
        *why = "expected an http:// or https:// URL";
        return -1;
    }
    if (util_strlcpy(out, in, outsz) != 0) {
        *why = "value too long";
        return -1;
    }
    return 0;
}

static int config_check_key(const char *in, char *out, size_t outsz, const char **why)
{
    size_t n = strlen(in);
    if (n != 0 && n != 64) {
        *why = "expected exactly 64 hex characters";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) {
            *why = "expected exactly 64 hex characters";
            return -1;
        }
    }
    if (util_strlcpy(out, in, outsz) != 0) {
        *why = "value too long";
        return -1;
    }
    return 0;
}

/* --- custom setters ----------------------------------------------------- */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces, 0.0.0.0). The host is
 * an IP literal and is stored without brackets. */
static int config_parse_listen(const char *v, char host_out[64], unsigned *port_out,
                               const char **why)
{
    char host[64];
    const char *port_s;
    *why = "expected HOST:PORT, [IPV6]:PORT or :PORT with an IP address and a port 0-65535";
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':')
            return -1;
        size_t hl = (size_t)(close - v - 1);
        if (hl == 0 || hl >= sizeof host)
            return -1;
        memcpy(host, v + 1, hl);
        host[hl] = '\0';
        if (!strchr(host, ':'))
            return -1; /* brackets are for IPv6 only */
        port_s = close + 2;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon || memchr(v, ':', (size_t)(colon - v)))
            return -1; /* no port, or an unbracketed IPv6 address */
        size_t hl = (size_t)(colon - v);
        if (hl >= sizeof host)
            return -1;
        memcpy(host, v, hl);
        host[hl] = '\0';
        if (hl == 0)
            memcpy(host, "0.0.0.0", sizeof "0.0.0.0");
        port_s = colon + 1;
    }
    int64_t port;
    if (util_parse_i64(port_s, 0, 65535, &port) != 0)
        return -1;
    char norm[64];
    if (config_check_ip(host, norm, sizeof norm, why) != 0) {
        *why = "expected HOST:PORT, [IPV6]:PORT or :PORT with an IP address and a port 0-65535";
        return -1;
    }
    memcpy(host_out, norm, sizeof norm);
    *port_out = (unsigned)port;
    return 0;
}

static int config_set_listen(struct config *c, const char *v, const char **why)
{
    return config_parse_listen(v, c->listen_host, &c->port, why);
}

/* --metrics-listen: empty (the default) keeps the metrics listener off. */
static int config_set_metrics_listen(struct config *c, const char *v, const char **why)
{
    c->metrics_on = 0;
    if (v[0] == '\0')
        return 0;
    if (config_parse_listen(v, c->metrics_host, &c->metrics_port, why))
        return -1;
    c->metrics_on = 1;
    return 0;
}

static int config_set_log_level(struct config *c, const char *v, const char **why)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        {"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(v, levels[i].name) == 0) {
            c->log_level = levels[i].level;
            return 0;
        }
    }
    *why = "expected debug, info, warn or error";
    return -1;
}

/* SMTP TLS policy; the values are libcurl's CURLUSESSL_NONE/TRY/ALL. */
static int config_set_smtp_tls(struct config *c, const char *v, const char **why)
{
    if (strcmp(v, "off") == 0)
        c->smtp_tls = 0;
    else if (strcmp(v, "opportunistic") == 0)
        c->smtp_tls = 1;
    else if (strcmp(v, "required") == 0)
        c->smtp_tls = 3;
    else {
        *why = "expected required, opportunistic or off";
        return -1;
    }
    return 0;
}

/* A rho such as "0.25" or "1" into integer milli-units, exactly (at most 3
 * decimals). */
static int config_parse_milli(const char *v, unsigned *out, const char **why)
{
    unsigned whole = 0, frac = 0, digits = 0;
    const char *p = v;

    if (!*p)
        goto bad;
    while (*p >= '0' && *p <= '9' && whole <= 1000)
        whole = whole * 10 + (unsigned)(*p++ - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits < 3; digits++)
            frac = frac * 10 + (unsigned)(*p++ - '0');
        for (unsigned d = digits; d < 3; d++)
            frac *= 10;
        if (digits == 0)
            goto bad;
    }
    if (*p || p == v || whole > 1000)
        goto bad;
    *out = whole * 1000 + frac;
    return 0;
bad:
    *why = "expected a decimal number with at most 3 decimals, such as 0.25";
    return -1;
}

_Static_assert(LIMIT_OPENDATA_RHO_MIN == 10 && LIMIT_OPENDATA_RHO_CAP == 1000,
               "update the messages of --rho and --rho-cap");

static int config_set_rho(struct config *c, const char *v, const char **why)
{
    unsigned m;

    if (config_parse_milli(v, &m, why))
        return -1;
    if (m < LIMIT_OPENDATA_RHO_MIN || m > LIMIT_OPENDATA_RHO_CAP) {
        *why = "rho must be between 0.01 and 1";
        return -1;
    }
    c->opendata_rho = m;
    return 0;
}

static int config_set_rho_cap(struct config *c, const char *v, const char **why)
{
    unsigned m;

    if (config_parse_milli(v, &m, why))
        return -1;
    if (m < LIMIT_OPENDATA_RHO_MIN || m > LIMIT_OPENDATA_RHO_CAP) {
        *why = "the cap must be between 0.01 and 1";
        return -1;
    }
    c->opendata_rho_cap = m;
    return 0;
}

/* atelier logs --format: -1 auto, 0 JSON lines, 1 table. */
static int config_set_logs_format(struct config *c, const char *v, const char **why)
{
    if (strcmp(v, "auto") == 0)
        c->logs_format = -1;
    else if (strcmp(v, "json") == 0)
        c->logs_format = 0;
    else if (strcmp(v, "table") == 0)
        c->logs_format = 1;
    else {
        *why = "expected auto, table or json";
        return -1;
    }
    return 0;
}

/* --- the table ---------------------------------------------------------- */

#define F(field)  offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define DB_CMDS   "serve migrate sweep opendata populate rekey"
#define KEY_CMDS  "serve migrate sweep opendata populate rekey"
#define ALL_CMDS  "all"
#define LIST_ITEM sizeof(((struct config *)0)->trusted_proxies[0])

static const struct opt config_options[] = {
    {.name = "listen",
     .env = "ATELIER_LISTEN",
     .kind = OPT_CUSTOM,
     .commands = "serve",
     .metavar = "HOST:PORT",
     .def = "127.0.0.1:8080",
     .help = "address and port to listen on; \":PORT\" for all interfaces, port 0 for any free "
             "port",
     .set = config_set_listen},
    {.name = "metrics-listen",
     .env = "ATELIER_METRICS_LISTEN",
     .kind = OPT_CUSTOM,
     .commands = "serve",
     .metavar = "HOST:PORT",
     .def = "",
     .shown = "off",
     .help = "serve GET /metrics on this address only (its own listener; loopback advised); "
             "empty: no metrics listener",
     .set = config_set_metrics_listen},
    {.name = "data",
     .env = "ATELIER_DATA",
     .kind = OPT_STRING,
     .commands = ALL_CMDS,
     .metavar = "DIR",
     .def = "./data",
     .help = "data directory (SQLite database, key file, outbox, access log)",
     F(data_dir),
     .check = config_check_nonempty},
    {.name = "database",
     .env = "ATELIER_DATABASE",
     .kind = OPT_STRING,
     .commands = DB_CMDS,
     .metavar = "URL",
     .def = "",
     .shown = "SQLite in the data directory",
     .help = "PostgreSQL URL (postgresql://...); empty for SQLite in the data directory",
     F(database)},
    {.name = "key-file",
     .env = "ATELIER_KEY_FILE",
     .kind = OPT_STRING,
     .commands = KEY_CMDS,
     .metavar = "PATH",
     .def = "",
     .shown = "<data>/secret.key",
     .help = "server key file (32 bytes, mode 0600, created when missing); empty for "
             "<data>/secret.key",
     F(key_file)},
    {.name = NULL,
     .env = "ATELIER_KEY",
     .kind = OPT_STRING,
     .commands = KEY_CMDS,
     .metavar = "HEX",
     .def = "",
     .secret = true,
     .help = "server key as 64 hex characters; wins over the key file",
     F(key_hex),
     .check = config_check_key},
    {.name = "next-key-file",
     .env = "ATELIER_NEXT_KEY_FILE",
     .kind = OPT_STRING,
     .commands = KEY_CMDS,
     .metavar = "PATH",
     .def = "",
     .shown = "<key file>.next",
     .help = "where the new key of a key rotation is read from (atelier rekey writes it there; "
             "every node needs it, mode 0600); empty for <key file>.next",
     F(next_key_file)},
    {.name = "new-key-file",
     .env = "ATELIER_NEW_KEY_FILE",
     .kind = OPT_STRING,
     .commands = "rekey",
     .metavar = "PATH",
     .def = "",
     .help = "the new server key (32 random bytes, mode 0600): every sealed value is resealed "
             "under it",
     F(new_key_file)},
    {.name = "batch",
     .env = "ATELIER_REKEY_BATCH",
     .kind = OPT_UINT,
     .commands = "rekey",
     .metavar = "N",
     .def = POLICY_STR(LIMIT_REKEY_BATCH),
     .help = "values resealed per transaction (each batch also stops at "
             "LIMIT_REKEY_BATCH_BYTES of sealed data)",
     F(rekey_batch),
     .min = 1,
     .max = LIMIT_REKEY_BATCH_MAX},
    {.name = "threads",
     .env = "ATELIER_THREADS",
     .kind = OPT_UINT,
     .commands = "serve",
     .metavar = "N",
     .def = "0",
     .shown = "the number of cores",
     .help = "HTTP event threads (libmicrohttpd's pool); 0 for the number of cores",
     F(threads),
     .min = 0,
     .max = 1024},
    {.name = "no-db-batch",
     .env = "ATELIER_NO_DB_BATCH",
     .kind = OPT_BOOL,
     .commands = "serve",
     .metavar = "",
     .def = "0",
     .shown = "off",
     .help = "on PostgreSQL, run each session check of a model route and each model write on "
             "its own event thread, one round trip each, instead of in the storage batcher's "
             "pipelines (for comparison)",
     F(no_db_batch)},
    {.name = "hash-slots",
     .env = "ATELIER_HASH_SLOTS",
     .kind = OPT_UINT,
     .commands = "serve",
     .metavar = "N",
     .def = "1",
     .help = "argon2id hashes run at once (each holds 19 MiB): 1 keeps the server under 64 MiB "
             "during a login flood; up to the number of cores doubles login throughput on 2",
     F(hash_slots),
     .min = 1,
     .max = 1024},
    {.name = "trusted-proxy",
     .env = "ATELIER_TRUSTED_PROXY",
     .kind = OPT_LIST,
     .commands = "serve",
     .metavar = "ADDR",
     .def = "",
     .shown = "none",
     .help = "reverse proxy whose X-Forwarded-For is believed; repeat the flag or separate "
             "addresses with commas (at most 16)",
     .off = offsetof(struct config, trusted_proxies),
     .size = LIST_ITEM,
     .count_off = offsetof(struct config, n_trusted_proxies),
     .max = CONFIG_MAX_PROXIES,
     .check = config_check_ip},
    {.name = "smtp",
     .env = "ATELIER_SMTP",
     .kind = OPT_STRING,
     .commands = "serve sweep",
     .metavar = "URL",
     .def = "",
     .shown = "<data>/outbox",
     .help = "mail relay smtp://host:port or smtps://host:port; empty to write mails to "
             "<data>/outbox (checked at start)",
     F(smtp)},
    {.name = "smtp-tls",
     .env = "ATELIER_SMTP_TLS",
     .kind = OPT_CUSTOM,
     .commands = "serve sweep",
     .metavar = "MODE",
     .def = "required",
     .help = "STARTTLS with the mail relay: required, opportunistic or off (loopback test "
             "relays only)",
     .set = config_set_smtp_tls},
    {.name = "mail-from",
     .env = "ATELIER_MAIL_FROM",
     .kind = OPT_STRING,
     .commands = "serve sweep",
     .metavar = "ADDR",
     .def = "atelier <no-reply@atelier.invalid>",
     .help = "From: address of outgoing mail",
     F(mail_from),
     .check = config_check_nonempty},
    {.name = "public-url",
     .env = "ATELIER_PUBLIC_URL",
     .kind = OPT_STRING,
     .commands = "serve sweep",
     .metavar = "URL",
     .def = "",
     .shown = "http://<listen address>",
     .help = "public base URL (http:// or https://, with a host) of links in mails and of the "
             "site's origin check; checked at start",
     F(public_url),
     .check = config_check_url},
    {.name = "log-level",
     .env = "ATELIER_LOG_LEVEL",
     .kind = OPT_CUSTOM,
     .commands = ALL_CMDS,
     .metavar = "LEVEL",
     .def = "info",
     .help = "least severe diagnostic shown: debug, info, "
             "warn or error",
     .set = config_set_log_level},
    {.name = "clock-offset",
     .env = "ATELIER_CLOCK_OFFSET",
     .kind = OPT_INT,
     .commands = "serve opendata",
     .metavar = "SECONDS",
     .def = "0",
     .help = "testing only: shift the clock (serve: the server's; opendata: the build's "
             "date and cadence)",
     F(clock_offset_ms),
     .min = -10000000000LL,
     .max = 10000000000LL,
     .scale = 1000},
    {.name = "idle-timeout",
     .env = "ATELIER_IDLE_TIMEOUT",
     .kind = OPT_UINT,
     .commands = "serve",
     .metavar = "SECONDS",
     .def = "30", /* LIMIT_CONN_TIMEOUT_S, checked below */
     .help = "close a connection that sends nothing for this long (SPEC: 30); shorter for tests",
     F(idle_timeout_s),
     .min = 1,
     .max = 3600},
    {.name = "sweep-delay",
     .env = "ATELIER_SWEEP_DELAY",
     .kind = OPT_UINT,
     .commands = "serve",
     .metavar = "SECONDS",
     .def = "10",
     .help = "the hourly retention sweep first runs this long after start; shorter for tests",
     F(sweep_delay_s),
     .min = 0,
     .max = 3600},
    {.name = "ip",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "ADDR",
     .def = "",
     .help = "only lines from this client IP address",
     F(filter_ip),
     .check = config_check_ip_or_empty},
    {.name = "since",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "TIME",
     .def = "",
     .help = "only lines at or after this RFC 3339 time or date",
     F(filter_since),
     .check = config_check_time},
    {.name = "now",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "sweep",
     .metavar = "TIME",
     .def = "",
     .help = "sweep as of this RFC 3339 time or date instead of the real time",
     F(sweep_now),
     .check = config_check_time},
    {.name = "dry-run",
     .env = NULL,
     .kind = OPT_BOOL,
     .commands = "sweep",
     .metavar = "",
     .def = "0",
     .help = "report what would be deleted or mailed, change nothing",
     F(dry_run)},
    {.name = "models",
     .env = NULL,
     .kind = OPT_UINT,
     .commands = "populate",
     .metavar = "N",
     .def = "1000",
     .help = "how many accounts, each with one model, to create",
     F(populate_models),
     .min = 1,
     .max = 10000000},
    {.name = "seed",
     .env = NULL,
     .kind = OPT_UINT,
     .commands = "populate",
     .metavar = "S",
     .def = "1",
     .help = "seed of the synthetic bodies (the same seed gives the same bodies)",
     F(populate_seed),
     .min = 0,
     .max = 4294967295LL},
    {.name = "csv",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "populate",
     .metavar = "FILE",
     .def = "",
     .help = "also write the generated bodies to FILE as CSV (the release's layout), for "
             "comparing a release with its population",
     F(populate_csv)},
    {.name = "rho",
     .env = "ATELIER_OPENDATA_RHO",
     .kind = OPT_CUSTOM,
     .commands = "opendata",
     .metavar = "RHO",
     .def = "0.25",
     .help = "privacy budget of this release per person (zCDP rho, 0.01 to the cap, at most "
             "3 decimals)",
     .set = config_set_rho},
    {.name = "rho-cap",
     .env = "ATELIER_OPENDATA_RHO_CAP",
     .kind = OPT_CUSTOM,
     .commands = "opendata",
     .metavar = "RHO",
     .def = "1",
     .help = "lifetime budget per account (at most 1): an account that would pass it is left out",
     .set = config_set_rho_cap},
    {.name = "ignore-cadence",
     .env = NULL,
     .kind = OPT_BOOL,
     .commands = "opendata",
     .metavar = "",
     .def = "0",
     .help = "build even if a release was built this quarter (tests and demos; the ledger still "
             "applies and the release says so)",
     F(opendata_ignore_cadence)},
    {.name = "min-stratum",
     .env = "ATELIER_OPENDATA_MIN_STRATUM",
     .kind = OPT_UINT,
     .commands = "opendata",
     .metavar = "N",
     .def = POLICY_STR(LIMIT_OPENDATA_STRATUM_DEFAULT),
     .help = "publish a stratum (with or without breasts) only when its noisy count of "
             "eligible persons is at least N; lower it for tests and demos only",
     F(opendata_min),
     .min = LIMIT_OPENDATA_MIN_STRATUM,
     .max = 100000000},
    {.name = "until",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "TIME",
     .def = "",
     .help = "only lines before this RFC 3339 time or date",
     F(filter_until),
     .check = config_check_time},
    {.name = "status",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "LIST",
     .def = "",
     .help = "only these statuses: comma-separated codes (404), classes (4xx) or ranges "
             "(500-599)",
     F(filter_status)},
    {.name = "route",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "PATTERN",
     .def = "",
     .help = "only this route, as the log writes it (/v1/models/{id}, (unmatched)); a final * "
             "matches any route that starts with the rest",
     F(filter_route)},
    {.name = "format",
     .env = NULL,
     .kind = OPT_CUSTOM,
     .commands = "logs",
     .metavar = "FORMAT",
     .def = "auto",
     .help = "table, json (the log's own lines) or auto: a table on a terminal, json otherwise",
     .set = config_set_logs_format},
    {.name = "request-id",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "logs",
     .metavar = "ID",
     .def = "",
     .help = "only the line of this request id",
     F(filter_request_id)},
    /* moving a site to another database (issue 17, cli/migrate_copy.c) */
    {.name = "from",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "migrate",
     .metavar = "sqlite:PATH",
     .def = "",
     .help = "copy the site of this SQLite database (the file, or a data directory) into --to, "
             "then exit; the server key is not needed (sealed values are copied as they are)",
     F(migrate_from)},
    {.name = "to",
     .env = NULL,
     .kind = OPT_STRING,
     .commands = "migrate",
     .metavar = "URL",
     .def = "",
     .secret = true,
     .help = "with --from: the empty database to copy into, postgresql://... (or sqlite:PATH)",
     F(migrate_to)},
};

#define N_OPTIONS (sizeof config_options / sizeof config_options[0])

/* The default of --idle-timeout above is the policy's idle timeout. */
_Static_assert(LIMIT_CONN_TIMEOUT_S == 30, "update the default of --idle-timeout");

/* --- helpers ------------------------------------------------------------ */

static const struct command *config_find_command(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof config_commands / sizeof config_commands[0]; i++) {
        if (strcmp(config_commands[i].name, name) == 0)
            return &config_commands[i];
    }
    return NULL;
}

static bool config_applies(const struct opt *o, const char *command)
{
    size_t cl = strlen(command);
    const char *p = o->commands;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t wl = strcspn(p, " ");
        if (wl == 3 && strncmp(p, "all", 3) == 0)
            return true;
        if (wl == cl && strncmp(p, command, cl) == 0)
            return true;
        p += wl;
    }
    return false;
}

/* Appends the comma-separated items of v to a list option, skipping blanks
 * around items and duplicates. An entirely empty v adds nothing. */
static int config_list_add(struct config *c, const struct opt *o, const char *v, const char **why)
{
    char *base = (char *)c + o->off;
    unsigned *count = (unsigned *)(void *)((char *)c + o->count_off);
    const char *p = v;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        char item[256];
        char norm[256];
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",");
        size_t tl = len;
        while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
            tl--;
        if (tl == 0) {
            *why = "empty item in list";
            return -1;
        }
        if (tl >= sizeof item || o->size > sizeof norm) {
            *why = "value too long";
            return -1;
        }
        memcpy(item, p, tl);
        item[tl] = '\0';
        if (o->check) {
            if (o->check(item, norm, o->size, why) != 0)
                return -1;
        } else if (util_strlcpy(norm, item, o->size) != 0) {
            *why = "value too long";
            return -1;
        }
        bool dup = false;
        for (unsigned i = 0; i < *count; i++) {
            if (strcmp(base + (size_t)i * o->size, norm) == 0)
                dup = true;
        }
        if (!dup) {
            if (*count >= (unsigned)o->max) {
                *why = "too many items";
                return -1;
            }
            memcpy(base + (size_t)*count * o->size, norm, strlen(norm) + 1);
            (*count)++;
        }
        p += len;
        if (*p != ',')
            break;
        p++;
    }
    return 0;
}

static void config_list_clear(struct config *c, const struct opt *o)
{
    unsigned *count = (unsigned *)(void *)((char *)c + o->count_off);
    memset((char *)c + o->off, 0, (size_t)o->max * o->size);
    *count = 0;
}

/* Parses v into the option's field. Returns 0 or -1 with *why set. */
static int config_apply(struct config *c, const struct opt *o, const char *v, const char **why)
{
    char *field = (char *)c + o->off;
    int64_t n;
    switch (o->kind) {
    case OPT_STRING:
        if (o->check)
            return o->check(v, field, o->size, why);
        if (util_strlcpy(field, v, o->size) != 0) {
            *why = "value too long";
            return -1;
        }
        return 0;
    case OPT_UINT:
        if (util_parse_i64(v, o->min, o->max, &n) != 0) {
            static _Thread_local char range[96];
            snprintf(range, sizeof range, "expected a whole number from %lld to %lld",
                     (long long)o->min, (long long)o->max);
            *why = range;
            return -1;
        }
        *(unsigned *)(void *)field = (unsigned)n;
        return 0;
    case OPT_INT:
        if (util_parse_i64(v, o->min, o->max, &n) != 0) {
            static _Thread_local char range[96];
            snprintf(range, sizeof range, "expected a whole number from %lld to %lld",
                     (long long)o->min, (long long)o->max);
            *why = range;
            return -1;
        }
        *(int64_t *)(void *)field = n * (o->scale ? o->scale : 1);
        return 0;
    case OPT_BOOL:
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
            *(int *)(void *)field = 1;
        } else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || !*v) {
            *(int *)(void *)field = 0;
        } else {
            *why = "expected 1, 0, true or false";
            return -1;
        }
        return 0;
    case OPT_LIST:
        return config_list_add(c, o, v, why);
    case OPT_CUSTOM:
        return o->set(c, v, why);
    }
    *why = "internal error";
    return -1;
}

/* Name of an option for messages: "--name" or its environment variable. */
static void config_label(const struct opt *o, char *buf, size_t size)
{
    if (o->name)
        snprintf(buf, size, "--%s", o->name);
    else
        snprintf(buf, size, "%s", o->env ? o->env : "?");
}

static const struct opt *config_find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct opt *o = &config_options[i];
        if (o->name && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* --- public ------------------------------------------------------------- */

int config_parse(struct config *c, const char *command, int argc, char **argv)
{
    const char *why = "";
    bool from_flag[N_OPTIONS];
    int rc = ERR_INVALID;

    memset(c, 0, sizeof *c);
    memset(from_flag, 0, sizeof from_flag);
    if (!config_find_command(command)) {
        fprintf(stderr, "atelier: unknown command '%s'\n", command ? command : "");
        return ERR_INVALID;
    }

    /* 1. defaults, for every option, so unused fields are still sane */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct opt *o = &config_options[i];
        if (config_apply(c, o, o->def, &why) != 0) {
            fprintf(stderr, "atelier %s: bad built-in default of %s\n", command,
                    o->name ? o->name : o->env);
            rc = ERR_INTERNAL;
            goto out;
        }
    }

    /* 2. environment, only for options of this command */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct opt *o = &config_options[i];
        if (!o->env || !config_applies(o, command))
            continue;
        const char *v = getenv(o->env);
        if (!v || !*v)
            continue;
        if (o->kind == OPT_LIST)
            config_list_clear(c, o);
        if (config_apply(c, o, v, &why) != 0) {
            fprintf(stderr, "atelier %s: %s: %s\n", command, o->env, why);
            goto out;
        }
    }

    /* 3. flags */
    int i = 0;
    if (argc > 0 && argv[0] && argv[0][0] != '-') {
        if (strcmp(argv[0], command) != 0) {
            fprintf(stderr, "atelier %s: unexpected argument '%s'\n", command, argv[0]);
            goto out;
        }
        i = 1;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            config_usage(command);
            rc = 1;
            goto out;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            fprintf(stderr, "atelier %s: %s '%s'\n", command,
                    a[0] == '-' ? "unknown flag" : "unexpected argument", a);
            goto out;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = config_find_flag(name, nlen);
        if (!o) {
            fprintf(stderr, "atelier %s: unknown flag --%.*s\n", command, (int)nlen, name);
            goto out;
        }
        if (!config_applies(o, command)) {
            fprintf(stderr, "atelier %s: --%s is not an option of %s\n", command, o->name, command);
            goto out;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (o->kind == OPT_BOOL) {
            v = "1";
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "atelier %s: --%s needs a value\n", command, o->name);
            goto out;
        }
        size_t idx = (size_t)(o - config_options);
        if (o->kind == OPT_LIST && !from_flag[idx])
            config_list_clear(c, o);
        from_flag[idx] = true;
        if (config_apply(c, o, v, &why) != 0) {
            char label[64];
            config_label(o, label, sizeof label);
            fprintf(stderr, "atelier %s: %s: %s\n", command, label, why);
            goto out;
        }
    }

    /* 4. derived defaults */
    if (!c->key_file[0]) {
        int w = snprintf(c->key_file, sizeof c->key_file, "%s/secret.key", c->data_dir);
        if (w < 0 || (size_t)w >= sizeof c->key_file) {
            fprintf(stderr, "atelier %s: --data: path too long\n", command);
            goto out;
        }
    }
    if (!c->next_key_file[0]) {
        int w = snprintf(c->next_key_file, sizeof c->next_key_file, "%s.next", c->key_file);
        if (w < 0 || (size_t)w >= sizeof c->next_key_file) {
            fprintf(stderr, "atelier %s: --key-file: path too long\n", command);
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        sodium_memzero(c->key_hex, sizeof c->key_hex);
    return rc;
}

/* Prints "  LEFT  text" with text wrapped at word boundaries to fit 80
 * columns, continuation lines indented under the text. */
static void config_print_wrapped(const char *left, const char *text)
{
    const int width = 80 - 27;
    const char *p = text;
    bool first = true;
    while (*p) {
        int len = (int)strlen(p);
        int cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (int)strcspn(p, " ");
        }
        printf("  %-24s %.*s\n", first ? left : "", cut, p);
        first = false;
        p += cut;
        while (*p == ' ')
            p++;
    }
    if (first)
        printf("  %s\n", left);
}

void config_usage(const char *command)
{
    const struct command *cmd = config_find_command(command);
    if (!cmd) {
        if (command)
            fprintf(stderr, "atelier: unknown command '%s'\n", command);
        printf("usage: atelier <command> [options]\n\ncommands:\n");
        for (size_t i = 0; i < sizeof config_commands / sizeof config_commands[0]; i++)
            printf("  %-10s %s\n", config_commands[i].name, config_commands[i].summary);
        printf("\nEvery option is a flag with an ATELIER_* environment twin (--data DIR is\n"
               "ATELIER_DATA, --database URL is ATELIER_DATABASE, and so on); the server key\n"
               "may also be given as ATELIER_KEY (64 hex characters).\n"
               "Run 'atelier help <command>' (or 'atelier <command> --help') for the options\n"
               "of a command, 'atelier --version' for the version of this build.\n");
        return;
    }
    if (cmd->no_options) {
        printf("usage: %s\n\n%s\n", cmd->usage, cmd->summary);
        return;
    }
    if (cmd->usage)
        printf("usage: %s [options]\n\n%s\n\n", cmd->usage, cmd->summary);
    else
        printf("usage: atelier %s [options]\n\n%s\n\n", cmd->name, cmd->summary);
    printf("options (flag over environment over default):\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct opt *o = &config_options[i];
        char left[64];
        if (!config_applies(o, cmd->name))
            continue;
        if (o->name) {
            if (o->kind == OPT_BOOL)
                snprintf(left, sizeof left, "--%s", o->name);
            else
                snprintf(left, sizeof left, "--%s %s", o->name, o->metavar);
        } else {
            snprintf(left, sizeof left, "%s=%s", o->env, o->metavar);
        }
        config_print_wrapped(left, o->help);
        char more[512];
        const char *origin = !o->name ? "environment only"
                             : o->env ? "env "
                                      : "no environment variable";
        snprintf(more, sizeof more, "(%s%s%s%s)", origin, o->name && o->env ? o->env : "",
                 o->secret ? "" : "; default ",
                 o->secret   ? ""
                 : o->shown  ? o->shown
                 : o->def[0] ? o->def
                             : "empty");
        config_print_wrapped("", more);
    }
    printf("  %-24s %s\n", "-h, --help", "print this help");
}
