#pragma once
/* Things the daemon's main module offers the rest of spazad. */
int spazad_reload_menus(void);
void spaza_vty_init(void);
