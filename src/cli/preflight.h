/*
 * preflight.h - checks a command makes before it creates or changes
 * anything: the URLs of the configuration, parsed by libcurl's URL parser.
 */
#ifndef ATELIER_PREFLIGHT_H
#define ATELIER_PREFLIGHT_H

#include "base/config.h"

/* --smtp (when set) must be an smtp:// or smtps:// URL with a host, and
 * --public-url (when set) an http:// or https:// URL with a host and neither
 * a query, a fragment nor a final '/'. On failure prints a message naming
 * the flag and what is wrong (never the value: it may hold a password) and
 * returns ERR_INVALID. */
int preflight_urls(const struct config *cfg, const char *command);

#endif
