/*
 * version.h - what this binary is: the project's version (CMakeLists.txt,
 * project(... VERSION)) and the git commit it was built from
 * (cmake/version.cmake, refreshed at every build).
 */
#ifndef ATELIER_VERSION_H
#define ATELIER_VERSION_H

/* "0.1.0" */
const char *version_string(void);

/* 12 hex digits of the commit, "-dirty" appended when tracked files differed
 * from it at build time; "unknown" when built outside a git checkout. */
const char *version_commit(void);

#endif
