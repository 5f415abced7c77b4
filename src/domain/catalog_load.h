#pragma once
/* Keeps g_catalog in step with the database: loaded after every (re)connect and on every
 * NOTIFY spaza_catalog (sent by `spazactl catalog import`). */
#include <stdbool.h>
void catalog_load_init(void *ctx);
bool catalog_loaded(void);
