/* RFM thresholds from the configuration to the database (segment_cfg.h). */
#include <stdio.h>
#include "segment_cfg.h"

void segment_cfg_params(const struct spaza_cfg *cfg, struct segment_cfg_params *p)
{
	const unsigned *r = cfg->crm_r_days, *f = cfg->crm_f_orders, *m = cfg->crm_m_rand;
	snprintf(p->r, sizeof(p->r), "{%u,%u,%u,%u}", r[0], r[1], r[2], r[3]);
	snprintf(p->f, sizeof(p->f), "{%u,%u,%u,%u}", f[0], f[1], f[2], f[3]);
	/* rand in the configuration, cents in the database */
	snprintf(p->m, sizeof(p->m), "{%llu,%llu,%llu,%llu}", m[0] * 100ULL, m[1] * 100ULL, m[2] * 100ULL, m[3] * 100ULL);
	snprintf(p->top, sizeof(p->top), "%u", cfg->crm_top_score);
	snprintf(p->fresh, sizeof(p->fresh), "%u", cfg->crm_new_days);
	snprintf(p->lapsed, sizeof(p->lapsed), "%u", cfg->crm_lapsed_days);
	p->v[0] = p->r, p->v[1] = p->f, p->v[2] = p->m, p->v[3] = p->top, p->v[4] = p->fresh, p->v[5] = p->lapsed;
}
