/*
 * rekey.h - key rotation: `atelier rekey --new-key-file F`, and the thread of
 * `atelier serve` that follows a rotation while it runs (see rekey.c and
 * docs/OPERATIONS.md).
 */
#ifndef ATELIER_REKEY_H
#define ATELIER_REKEY_H

struct config;

/* The command: reseal every sealed value of base/sealed.h, the keyed lookups
 * and the outbox tags under the key of cfg->new_key_file, then move the key
 * check and replace the key file. Resumable: run it again after any crash.
 * Returns the exit status (0 done, 1 failed or refused). */
int rekey_command(const struct config *cfg);

/* In `atelier serve`: every LIMIT_REKEY_POLL_MS, look for a rotation's
 * announcement (load the next key and seal under it), and for its end
 * (forget the old key). Returns 0 or ERR_INTERNAL. */
int rekey_watch_start(const struct config *cfg);
void rekey_watch_stop(void);

#endif
