#pragma once
#include <stddef.h>
/* Things the daemon's main module offers the rest of spazad. */
int spazad_reload_menus(void);
void spaza_vty_init(void);
/* After the config is read: refuses (-EPERM, err says why and where) a VTY bound off loopback
 * without a vty-token in the secrets file, or a password in the config; with a token, the VTY
 * asks for it. */
int spaza_vty_guard(void *ctx, const char *cfg_file, char *err, size_t errlen);
