/*
 * version.c - the build's version string (version.h).
 *
 * Invariant: the string comes from the header that cmake/version.cmake
 * writes at every build (version_gen.h in the build directory), so it is the
 * version of the sources this binary was built from, never a stale one.
 */
#include "base/version.h"

#include "version_gen.h"

const char *version_string(void)
{
    return ATELIER_VERSION_STRING;
}
