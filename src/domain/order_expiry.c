/* Unpaid orders expire: every ORDER_EXPIRY_PERIOD_S a batch of ORDER_EXPIRY_BATCH, and while a
 * batch comes back full the next one follows on the next loop turn (a backlog after downtime
 * drains without one statement locking thousands of orders, and without holding up hops). */
#include <osmocom/core/timer.h>
#include "order_expiry.h"
#include "cfg.h"
#include "logging.h"
#include "orders.h"
#include "stats.h"

#define ORDER_EXPIRY_PERIOD_S 60
#define ORDER_EXPIRY_BATCH 200

static struct osmo_timer_list order_expiry_timer;

static void order_expiry_done(void *priv, unsigned n, int err)
{
	(void)priv;
	if (n) {
		STAT_ADD(ORDERS_EXPIRED, n);
		LOGP(DCAT, LOGL_INFO, "%u unpaid order(s) expired\n", n);
	}
	osmo_timer_schedule(&order_expiry_timer, !err && n == ORDER_EXPIRY_BATCH ? 0 : ORDER_EXPIRY_PERIOD_S, 0);
}

static void order_expiry_run(void *data)
{
	(void)data;
	/* the key is read each time: the VTY may change it or set it to 0 while spazad runs */
	if (!g_cfg->order_expiry_h) {
		osmo_timer_schedule(&order_expiry_timer, ORDER_EXPIRY_PERIOD_S, 0);
		return;
	}
	/* the timer is scheduled again only when this batch has answered: one batch at a time */
	orders_expire(g_cfg->order_expiry_h * 3600, ORDER_EXPIRY_BATCH, order_expiry_done, NULL);
}

void order_expiry_init(void *ctx)
{
	(void)ctx;
	osmo_timer_setup(&order_expiry_timer, order_expiry_run, NULL);
	osmo_timer_schedule(&order_expiry_timer, 1, 0);
}
