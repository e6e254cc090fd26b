/* Temporary: replaced by opendata.c once anon.c lands (same session). */
#include "err.h"
#include "opendata.h"
#include <stdio.h>
int opendata_build(struct db *db, unsigned k, unsigned min_stratum, int progress,
                   struct opendata_report *r, char *why, size_t whyn)
{
    (void)db, (void)k, (void)min_stratum, (void)progress, (void)r;
    snprintf(why, whyn, "not built yet");
    return ERR_INTERNAL;
}
