#pragma once
/* Kannel's native box front end: spazad connects to bearerbox's smsbox-port as a box (as
 * kannel-sqlbox does) when the config says `kannel box connect A.B.C.D PORT`. */

/* Start connecting (in the background, retrying while bearerbox is away); nothing when the
 * box front end is not configured. Installs `show kannel box` either way. */
void front_box_init(void *ctx);
/* Close the connection at shutdown; replies that come later are dropped. */
void front_box_close(void);
/* The connection to bearerbox ("connected", "connecting", ...), NULL when not configured. */
const char *front_box_state(void);
