/*
 * version.c - the build's version (version.h).
 *
 * Invariant: the strings come from the header that cmake/version.cmake
 * writes at every build (version_gen.h in the build directory), so they
 * describe the sources this binary was built from, never stale ones.
 */
#include "base/version.h"

#include "version_gen.h"

const char *version_string(void)
{
    return ATELIER_VERSION_STRING;
}

const char *version_project(void)
{
    return ATELIER_VERSION;
}

const char *version_commit(void)
{
    return ATELIER_COMMIT;
}
