#pragma once
/* A USSD dialogue's own id, drawn by spazad, never the network's session id (networks recycle
 * those): every idempotency key a dialogue writes carries it (sql/009_dialogues.sql says how it
 * survives a restart). */
#include <stdbool.h>
#include <stddef.h>

#define DIALOGUE_ID_LEN 16	/* hex digits of 64 random bits */

/* priv below is a talloc object that stays allocated until its callback came (the call hangs
 * under it). id: DIALOGUE_ID_LEN + 1 bytes. */
void dialogue_new_id(char *id);
/* Writes the dialogue's row; cb(priv, err) after commit (cb may be NULL). Not lazy: queued
 * before any later write of the caller, so it commits with or before the dialogue's first order.
 * Lazy: on db_write_lazy()'s connection, off the customers' (a dialogue's first hop writes its
 * row there; doc/reliability.md says why a row that committed there before the first order is
 * as safe). */
void dialogue_store(const char *channel, const char *ref, const char *msisdn, const char *id, bool lazy,
		    void (*cb)(void *priv, int err), void *priv);
/* The newest dialogue of channel, ref and msisdn: cb(priv, id or NULL when there is none, err). */
void dialogue_find(const char *channel, const char *ref, const char *msisdn,
		   void (*cb)(void *priv, const char *id, int err), void *priv);
