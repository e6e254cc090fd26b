/*
 * atelier_draft.c - `atelier-draft`, the drafting command as a small
 * executable of its own: the same code as `atelier draft` (draft_cli.c), but
 * linked only against what drafting needs (cairo, jansson), so that a cold
 * process does not pay for loading the server's hundred shared libraries
 * (libvips, glib, libpq, libcurl...). Usage: atelier-draft <design> ...
 */
#include "atelier/draft.h"
#include "cli/draft_cli.h"

int main(int argc, char **argv)
{
    int rc = draft_cli(argc, argv);

    draft_shutdown();
    return rc;
}
