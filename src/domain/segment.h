#pragma once
/* spazad's part of the segments (doc/crm.md): the thresholds copied into the database at start,
 * and the daily rebuild of every customer's RFM scores at `crm segments sweep-hour`, in batches
 * of `crm segments batch` customers, each one short statement on the daemon's connection that
 * waits while customers' hops have requests queued, so the sweep never holds the loop or a hop.
 * Between sweeps a paid order moves its customer's row by itself (a trigger). */
void segment_init(void *ctx);
void segment_shutdown(void);
/* Start a rebuild now (the VTY, tests); ignored while one runs. */
void segment_sweep_start(void);
