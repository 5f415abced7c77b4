#pragma once
/* The daemon's own VTY commands (show sessions, show customer, show stats, menu reload) and the
 * guard on who may reach the VTY at all. */
#include <stddef.h>

/* Re-reads the menus for `menu reload`: 0, or -errno with the reasons logged. The daemon owns
 * the menus, so it hands this in rather than the VTY calling up into it. */
typedef int (*spaza_vty_reload_fn)(void);
void spaza_vty_init(spaza_vty_reload_fn reload_menus);
/* After the config is read: refuses (-EPERM, err says why and where) a VTY bound off loopback
 * without a vty-token in the secrets file, or a password in the config; with a token, the VTY
 * asks for it. */
int spaza_vty_guard(void *ctx, const char *cfg_file, char *err, size_t errlen);
