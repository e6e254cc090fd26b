/*
 * erase.h - erasure of an account (erase.c).
 */
#ifndef ATELIER_PRIVACY_ERASE_H
#define ATELIER_PRIVACY_ERASE_H

struct db;

/* Erase the account and everything it owns in one transaction, then
 * checkpoint. Returns 0, ERR_UNAVAILABLE (db NULL) or a storage error. */
int erase_account(struct db *db, const char *account_id);

#endif
