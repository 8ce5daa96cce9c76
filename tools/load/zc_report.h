/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_report.h - zchain-load's statistics and report writers
    =========================================================================
*/

#ifndef ZC_REPORT_H_INCLUDED
#define ZC_REPORT_H_INCLUDED

#include "zchain.h"

//  =========================================================================
//  zc_report - load-test statistics
//  =========================================================================
//  What zchain-load measures, kept apart from its sockets so that it can
//  be unit-tested: counters by action and by failure reason, exact latency
//  percentiles, a time-bucketed series, the open-loop send schedule, and
//  the report as JSON, CSV and one self-contained HTML page.  Every time
//  is in microseconds since the run's clock started.

typedef struct _zc_report_t zc_report_t;

//  Latencies kept for every action
typedef enum {
    ZC_REPORT_ACK = 0,              //  request sent to its reply
    ZC_REPORT_CONFIRM_FIRST = 1,    //  sent to the first node's confirmation
    ZC_REPORT_CONFIRM_ALL = 2,      //  sent to the last node's confirmation
    ZC_REPORT_METRICS = 3           //  how many
} zc_report_metric_t;

//  Counters kept for every action
typedef enum {
    ZC_REPORT_SENT = 0,             //  requests sent
    ZC_REPORT_SUCCEEDED = 1,        //  replies that said yes
    ZC_REPORT_FAILED = 2,           //  error replies, timeouts, lost links
    ZC_REPORT_SKIPPED = 3,          //  scheduled sends not made
    ZC_REPORT_CONFIRMED_FIRST = 4,  //  transactions confirmed by one node
    ZC_REPORT_CONFIRMED_ALL = 5,    //  transactions confirmed by every node
    ZC_REPORT_LATE = 6,             //  sends later than the late threshold
    ZC_REPORT_COUNTERS = 7          //  how many
} zc_report_counter_t;

//  New report whose time series has buckets of bucket_usecs (0: 1 s).
zc_report_t *zc_report_new (int64_t bucket_usecs);
void zc_report_destroy (zc_report_t **self_p);

//  Describes the run (target, clients, rate...): the "config" of the report.
void zc_report_set_text (zc_report_t *self, const char *name, const char *value);
void zc_report_set_number (zc_report_t *self, const char *name, double value);

//  Adds a free-text note, e.g. why the target rate was not kept.
void zc_report_note (zc_report_t *self, const char *format, ...) CHECK_PRINTF (2);

//  The open-loop target (0: closed loop) and how late a send may be
//  before it counts as late.
void zc_report_set_target (zc_report_t *self, double rate, int64_t late_usecs);

//  How long the run took, clock start to the end of the drain.
void zc_report_set_elapsed (zc_report_t *self, int64_t usecs);

//  Resources of the system under test (Caliper's resource monitors):
//  where the figures come from, e.g. "CPU and RSS of the zchaind
//  processes on this host, from /proc", and one figure of one process or
//  node at time at (metric e.g. "CPU", unit "%").  Each (name, metric)
//  is a series; the report shows mean, max and last, and a chart.
void zc_report_set_resource_source (zc_report_t *self, const char *source);
void zc_report_resource (zc_report_t *self, const char *name, const char *metric,
                         const char *unit, int64_t at, double value);

//  Events.  action names the request kind ("health"...); lag is how long
//  after its scheduled time a send went out (0 in closed loop).
void zc_report_sent (zc_report_t *self, const char *action, int64_t at, int64_t lag);
void zc_report_succeeded (zc_report_t *self, const char *action, int64_t at,
                          int64_t latency);
void zc_report_failed (zc_report_t *self, const char *action, int64_t at,
                       const char *reason);
void zc_report_skipped (zc_report_t *self, const char *action, int64_t at,
                        const char *reason);
void zc_report_confirmed (zc_report_t *self, const char *action, int64_t at,
                          int64_t latency, bool all_nodes);

//  A counter for one action, or summed over all of them (action NULL).
uint64_t zc_report_count (zc_report_t *self, const char *action,
                          zc_report_counter_t counter);

//  Failures (or, with skipped, skips) recorded with exactly this reason.
uint64_t zc_report_reason_count (zc_report_t *self, const char *reason, bool skipped);

//  Nearest-rank percentile (0 to 100) of a latency, in usecs, for one
//  action or all (NULL); -1 if there is no sample.
int64_t zc_report_percentile (zc_report_t *self, const char *action,
                              zc_report_metric_t metric, double percent);

//  Nearest-rank percentile of send lag, in usecs; -1 if no send.
int64_t zc_report_lag_percentile (zc_report_t *self, double percent);

//  Caliper's arithmetic: sent / (last send - first send); succeeded /
//  (last reply - first send); confirmed by every node (or first, if
//  all_nodes is false) / (last such confirmation - first send).  Per
//  second; 0 when the span is empty.
double zc_report_send_rate (zc_report_t *self);
double zc_report_throughput (zc_report_t *self);
double zc_report_confirm_rate (zc_report_t *self, bool all_nodes);

//  True unless an open-loop run sent late or skipped sends.
bool zc_report_rate_kept (zc_report_t *self);

//  Open-loop schedule: when send k (from 0) is due, in usecs, for a total
//  rate per second reached by a linear ramp from 0 over ramp_usecs.
int64_t zc_report_schedule (double rate, int64_t ramp_usecs, uint64_t k);

//  How many sends are due by time at: every k below it has
//  zc_report_schedule (k) <= at.
uint64_t zc_report_due (double rate, int64_t ramp_usecs, int64_t at);

//  The whole report as JSON (fields in zc_report.c); caller owns it.
cJSON *zc_report_json (zc_report_t *self);

//  The summary table, as printed at the end of a run.  Caller frees.
char *zc_report_text (zc_report_t *self);

//  Writes the report to a file: JSON, CSV (one row per action and one
//  for all), or an HTML page with the tables and inline SVG charts.
int zc_report_write_json (zc_report_t *self, const char *path);
int zc_report_write_csv (zc_report_t *self, const char *path);
int zc_report_write_html (zc_report_t *self, const char *path);

#endif
