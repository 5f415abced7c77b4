/* The check of `crm quiet-hours` (base/cfg_keys.def): both times are HHMM, so 0860 or 2400 is
 * refused with a reason rather than read as some other time. */
#include <stdlib.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include "cfg.h"

int crm_cfg_check_quiet(struct vty *vty, char *const vals[])
{
	for (int i = 0; i < 2; i++) {
		unsigned long v = strtoul(vals[i], NULL, 10);
		if (v % 100 > 59 || v / 100 > 23) {
			vty_out(vty, "%% quiet hours are HHMM, 24-hour: %s is no time of day%s", vals[i], VTY_NEWLINE);
			return CMD_WARNING;
		}
	}
	return CMD_SUCCESS;
}
