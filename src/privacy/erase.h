/*
 * erase.h - erasure of an account (erase.c).
 */
#ifndef ATELIER_PRIVACY_ERASE_H
#define ATELIER_PRIVACY_ERASE_H

struct db;

/* Erase the account and everything it owns in one transaction, remove its
 * outbox files, then try to truncate the WAL (erase_scrub). Returns 0,
 * ERR_UNAVAILABLE (db NULL) or a storage error. */
int erase_account(struct db *db, const char *account_id);

/* n more erasures whose pages may still be in the SQLite WAL. */
void erase_scrub_note(int n);

/* If scrubs are pending, try a checkpoint that truncates the WAL (never
 * waits); on success none is pending. Returns 0 or ERR_BUSY. */
int erase_scrub(struct db *db);

/* Erasures whose pages may still be in the WAL. */
int erase_scrubs_pending(void);

#endif
