/*
 * version.c - the build's version and commit (see version.h).
 *
 * Invariants: both strings are compile-time constants from the generated
 * version_gen.h (build directory), never read at run time; the commit is
 * never empty ("unknown" without git).
 */
#include "base/version.h"

#include "version_gen.h"

const char *version_string(void)
{
    return ATELIER_VERSION;
}

const char *version_commit(void)
{
    return ATELIER_COMMIT[0] ? ATELIER_COMMIT : "unknown";
}
