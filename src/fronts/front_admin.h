#pragma once
/* The admin listener's pages (the back office: office.h) and each listener's /health. */
void front_admin_init(void);
