#pragma once
/* The admin listener's pages (the back office comes later) and each listener's /health. */
void front_admin_init(void);
