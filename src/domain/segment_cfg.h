#pragma once
/* The configuration's RFM thresholds as CRM_SETTINGS_SET's parameters (sql/015_crm.sql's
 * crm_settings): spazad copies them in at start and before each nightly rebuild, spazactl before
 * it scores, so the trigger that scores one customer per paid order uses the same numbers. */
#include "cfg.h"

struct segment_cfg_params {
	char r[64], f[64], m[96], top[12], fresh[12], lapsed[12];
	const char *v[6];
};
void segment_cfg_params(const struct spaza_cfg *cfg, struct segment_cfg_params *p);
