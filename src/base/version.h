/*
 * version.h - what this binary is, for `atelier --version` and the build
 * information of /metrics.
 *
 * version_string() is the project version of CMakeLists.txt, followed by
 * "+git.<git describe --tags --always --dirty>" when the tree was a git
 * checkout at build time: "0.1.0+git.0e3c71f", "0.1.0+git.0e3c71f-dirty",
 * or "0.1.0" alone. It holds only [A-Za-z0-9.+_-].
 */
#ifndef ATELIER_VERSION_H
#define ATELIER_VERSION_H

/* The version of this build (a static string). */
const char *version_string(void);

/* The project version alone: "0.1.0". */
const char *version_project(void);

/* 12 hex digits of the commit, "-dirty" appended when tracked files differed
 * from it at build time; "unknown" when built outside a git checkout. */
const char *version_commit(void);

#endif
