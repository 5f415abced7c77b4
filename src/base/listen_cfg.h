#pragma once
/* The three HTTP listeners and their configuration: where each listens, who may connect, TLS,
 * and the limits that keep slow or greedy clients from holding every connection. The commands
 * live in listen_cfg.c, apart from cfg.c, so that a listener is configured in one place. */
#include <stdbool.h>
#include <stdint.h>
#include "cfg.h"

enum listen_kind {
	LISTEN_FRONT,	/* the customer fronts: the aggregators' /ussd/at, Kannel's /kannel/mo and dlr */
	LISTEN_TILL,	/* the retailers' till API, /api/v1/... */
	LISTEN_ADMIN,	/* the back office: health and metrics for now */
	LISTEN_N
};

struct listen_cfg {
	char *addr;		/* front: NULL, its address is g_cfg->http_addr (see listen_addr()) */
	uint16_t port;
	struct cfg_netlist allow;	/* empty: any address */
	char *cert, *key;	/* PEM files; both set: TLS */
	bool insecure;		/* the operator accepts this listener off loopback without its protection */
	unsigned per_ip;	/* connections one address may hold at a time */
	unsigned timeout_s;	/* a request (headers and body) must arrive within this */
};

extern struct listen_cfg g_listen[LISTEN_N];
extern const char *const listen_names[LISTEN_N];

const char *listen_addr(enum listen_kind k);
uint16_t listen_port(enum listen_kind k);
bool listen_tls(enum listen_kind k);
bool listen_loopback(enum listen_kind k);
/* What the listener lacks off loopback (an allow-list for the front, TLS for the others), or
 * NULL when it is protected, on loopback, or the lack is accepted by `insecure`. */
const char *listen_unprotected(enum listen_kind k);
/* Every listener protected or explicitly insecure, certificate and key readable: 0, or -EPERM
 * after printing "file:line: reason" to stderr. */
int listen_cfg_check(const char *file);

void listen_cfg_init(void *ctx);
void listen_cfg_vty_init(void);
void listen_cfg_write(struct vty *vty);
