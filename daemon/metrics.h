/* metrics: the Prometheus text-format file (metrics_file: in peakq.yaml)
 * the daemon rewrites atomically (temporary file, fsync, rename) so that a
 * node_exporter textfile collector or any scraper never reads half of it.
 * Totals come from the store; IMAP reconnects from the daemon. */
#ifndef PEAKQ_METRICS_H
#define PEAKQ_METRICS_H

#include <stddef.h>

#include "conf.h"
#include "store.h"
#include "xerr.h"

/* reconnects[i]: connections of account i that followed a failure. */
int metrics_write(const char *path, struct store *st, const struct conf *conf,
		  const unsigned long *reconnects,
		  struct xerr *err) WARN_UNUSED;

#endif
