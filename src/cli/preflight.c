/*
 * preflight.c - start-up checks of the configuration that base/config.c
 * cannot make (it links libc and libsodium only): the URLs, through
 * libcurl's parser (curl_url_set), the same parser that later uses them.
 *
 * Invariants: a check only reads the configuration; its messages name the
 * flag and the problem, never the value (an SMTP URL may carry a password).
 */
#include "cli/preflight.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

/* Parse url with libcurl; the scheme must be one of want[0..1]. Returns NULL
 * when the URL is fine, else what is wrong. */
static const char *preflight_url(const char *url, const char *const want[2], int is_base)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL;
    const char *why = NULL;

    if (!h)
        return "out of memory";
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) {
        why = "is not a URL libcurl can parse";
        goto out;
    }
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcasecmp(scheme, want[0]) != 0 && strcasecmp(scheme, want[1]) != 0)) {
        why =
            is_base ? "must start with http:// or https://" : "must start with smtp:// or smtps://";
        goto out;
    }
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        why = "has no host";
        goto out;
    }
    if (!is_base)
        goto out;
    if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(h, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        why = "must not have a query or a fragment (it is the base of links)";
        goto out;
    }
    if (url[strlen(url) - 1] == '/') {
        why = "must not end in '/' (links append \"/confirm?...\" to it)";
        goto out;
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(h);
    return why;
}

int preflight_urls(const struct config *cfg, const char *command)
{
    static const char *const smtp[2] = {"smtp", "smtps"}, *const web[2] = {"http", "https"};
    const char *why;

    if (cfg->smtp[0] && (why = preflight_url(cfg->smtp, smtp, 0))) {
        fprintf(stderr,
                "atelier %s: --smtp %s: give the mail relay as smtp://HOST:PORT (STARTTLS, see "
                "--smtp-tls) or smtps://HOST:PORT (TLS from the start)\n",
                command, why);
        return ERR_INVALID;
    }
    if (cfg->public_url[0] && (why = preflight_url(cfg->public_url, web, 1))) {
        fprintf(stderr,
                "atelier %s: --public-url %s: give the site's public address, such as "
                "https://atelier.example or https://example.org/atelier\n",
                command, why);
        return ERR_INVALID;
    }
    return 0;
}
