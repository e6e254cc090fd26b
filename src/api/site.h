/*
 * site.h - the web site's files, compiled into the binary from web/ by
 * cmake/embed_site.cmake (a generated site_blob.c), and the rules that
 * serve them (handlers_site.c).
 */
#ifndef ATELIER_API_SITE_H
#define ATELIER_API_SITE_H

struct site_file {
    const char *name; /* path under web/: "login.html", "assets/app.js" */
    const unsigned char *data;
    unsigned long len;
    const char *version; /* assets: the first 12 hex digits of the SHA-256 of
                            data, which the pages' links carry as ?v=; "" for
                            pages (cmake/embed_site.cmake) */
};

extern const struct site_file site_files[];
extern const unsigned long site_files_count;

/* The file called name, or NULL. */
const struct site_file *site_find(const char *name);

/* The Content-Security-Policy of every page: scripts, styles, images and
 * requests from the server itself only, no inline script or style, no
 * framing. */
#define SITE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "        \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

#endif
