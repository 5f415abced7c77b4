#pragma once
/* The aggregator front end: POST /ussd/at in the Africa's Talking convention. */
struct http_req;
void front_at_init(void);
