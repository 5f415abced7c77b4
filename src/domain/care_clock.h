#pragma once
/* The care tickets' first-response and resolution clocks, swept in the loop (care_clock.c). */
void care_clock_init(void);
/* At shutdown, before the database closes: no new sweep starts. */
void care_clock_stop(void);
