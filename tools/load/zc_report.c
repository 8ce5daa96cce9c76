/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_report - load-test statistics for zchain-load

    zchain-load feeds this class events (a request sent, a reply, a
    failure, a skipped send, a confirmation) stamped with microseconds
    since its clock started; the class keeps counters per action and per
    failure reason, every latency sample (percentiles are exact, nearest
    rank: the smallest sample with at least p% of samples at or below it),
    and a series of fixed-width time buckets.  It also holds the open-loop
    send schedule, so that the rate arithmetic is tested without sockets.

    Arithmetic follows Hyperledger Caliper: send rate = sent / (last send
    - first send); throughput = succeeded / (last reply - first send);
    confirmed rate = confirmed / (last confirmation - first send).

    The JSON report (zc_report_json) has these members:
        tool, version           "zchain-load", the zchain version
        config                  what the run was told (target, clients...)
        elapsed_s               clock start to the end of the drain
        target_rate             sends per second asked for; 0 closed loop
        rate_kept               false if sends were late or skipped
        late_threshold_ms       a send later than this counts as late
        send_lag_ms             stats of how late sends went out
        total                   a row (below) over every action
        actions                 one row per action, in first-seen order
        failures, skipped       {"reason": count, ...}
        notes                   [text, ...]: why the rate was not kept...
        series                  {"bucket_s", "rows": [{"t_s", "span_s",
                                "sent", "succeeded", "failed", "skipped",
                                "confirmed_first", "confirmed_all",
                                "ack_p50_ms", "ack_p99_ms", "ack_max_ms",
                                "confirm_p50_ms", "confirm_p99_ms"}, ...]}
                                span_s is the bucket's width, less for the
                                last one when the run ended inside it: a
                                rate is a count / span_s
        resources               {"source", "monitors": [{"name", "metric",
                                "unit", "count", "mean", "max", "last",
                                "samples": [[t_s, value], ...]}, ...]}:
                                the system under test, sampled each bucket
                                (CPU % and RSS of each zchaind process on
                                this host, or the nodes' get_status figures)
    A row is {"name", "sent", "succeeded", "failed", "skipped", "late",
    "send_rate", "throughput", "latency_ms", "confirmed_first",
    "confirmed_all", "confirm_rate_first", "confirm_rate_all",
    "confirm_first_ms", "confirm_all_ms"}, and each *_ms stats object is
    {"count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"} (null
    values when count is 0).  Latencies are milliseconds, rates per second.
    =========================================================================
*/

#include "zc_report.h"
#include <math.h>

#define S_MAX_ACTIONS   8               //  distinct actions kept apart
#define S_MAX_REASONS   32              //  distinct failure/skip reasons kept
#define S_MAX_REASON    120             //  bytes of one reason kept
#define S_MAX_NOTES     32              //  notes kept
#define S_MAX_MONITORS  64              //  resource series kept
#define S_MAX_BUCKETS   (1 << 20)       //  time buckets, at most
#define S_OTHER_REASON  "(other reasons)"
#define S_OTHER_ACTION  "(other)"

//  Latency samples: (time bucket << 32) | microseconds, so that sorting
//  the keys orders them by bucket, then by latency
typedef struct {
    uint64_t *keys;             //  samples, in arrival order until sorted
    size_t size;                //  samples held
    size_t capacity;            //  samples allocated
} s_samples_t;

//  Times of an action's first and last events, -1 until seen
typedef enum {
    S_FIRST_SEND = 0, S_LAST_SEND, S_LAST_REPLY, S_LAST_FIRST, S_LAST_ALL, S_TIMES
} s_time_t;

//  One kind of request
typedef struct {
    char *name;                 //  "health", "submit_transaction"...
    uint64_t counts [ZC_REPORT_COUNTERS];   //  by zc_report_counter_t
    s_samples_t samples [ZC_REPORT_METRICS];    //  by zc_report_metric_t
    int64_t times [S_TIMES];    //  by s_time_t
} s_action_t;

//  A failure or skip reason and how often it happened
typedef struct {
    char *reason;               //  bounded copy of the reason
    bool skipped;               //  a skipped send, not a failure
    uint64_t count;             //  occurrences
} s_reason_t;

//  Counters of one time bucket
typedef struct {
    uint64_t counts [ZC_REPORT_COUNTERS];   //  by zc_report_counter_t
} s_bucket_t;

//  A resource series: one figure of one process or node, over time
typedef struct {
    char *name;                 //  e.g. "zchaind[4242]", "n1 127.0.0.1:13246"
    char *metric;               //  e.g. "cpu", "rss"
    char *unit;                 //  e.g. "%", "MB"
    double *times;              //  usecs since the clock started
    double *values;             //  the figure at that time
    size_t count;               //  samples
    size_t alloc;               //  allocated
} s_monitor_t;

//  Summary of a set of latency samples, in microseconds
typedef struct {
    size_t count;               //  samples
    double mean;                //  arithmetic mean
    int64_t min, p50, p90, p99, p999, max;  //  nearest-rank percentiles
} s_stats_t;

struct _zc_report_t {
    int64_t bucket_usecs;       //  width of a time bucket
    s_action_t actions [S_MAX_ACTIONS];     //  actions seen
    size_t action_count;        //  how many
    s_reason_t reasons [S_MAX_REASONS];     //  failure and skip reasons
    size_t reason_count;        //  how many
    s_samples_t lag;            //  how late each send went out
    s_bucket_t *buckets;        //  time series
    size_t bucket_count;        //  buckets used (allocated: bucket_alloc)
    size_t bucket_alloc;        //  buckets allocated
    cJSON *config;              //  what the run was told
    char *notes [S_MAX_NOTES];  //  free-text notes
    size_t note_count;          //  how many
    double rate;                //  open-loop target per second, 0 closed
    int64_t late_usecs;         //  lateness that counts as late
    int64_t elapsed;            //  clock start to end of drain
    char *resource_source;      //  how resources were sampled, or NULL
    s_monitor_t monitors [S_MAX_MONITORS];  //  resource series
    size_t monitor_count;       //  how many
};

//  ---------------------------------------------------------------------
//  Samples

//  Appends a sample; grows geometrically.  A failed allocation drops the
//  sample rather than the run.
static void
s_samples_add (s_samples_t *self, uint32_t bucket, int64_t usecs)
{
    if (self->size == self->capacity) {
        size_t capacity = self->capacity? self->capacity * 2: 1024;
        uint64_t *keys = (uint64_t *) realloc (self->keys, capacity * sizeof (uint64_t));
        if (!keys)
            return;
        self->keys = keys;
        self->capacity = capacity;
    }
    if (usecs < 0)
        usecs = 0;
    if (usecs > UINT32_MAX)
        usecs = UINT32_MAX;
    self->keys [self->size++] = ((uint64_t) bucket << 32) | (uint64_t) usecs;
}

//  Frees a sample set's memory and empties it.
static void
s_samples_free (s_samples_t *self)
{
    free (self->keys);
    memset (self, 0, sizeof *self);
}

//  qsort order of sample keys: by bucket, then latency.
static int
s_compare_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y? -1: x > y? 1: 0;
}

//  qsort order of latencies.
static int
s_compare_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y? -1: x > y? 1: 0;
}

//  Collects the samples of one metric of one action (or of every action
//  if name is NULL) into a new array of keys; *size_p gets the count.
//  Percentiles over all actions need the samples merged in one place.
static uint64_t *
s_collect (zc_report_t *self, const char *name, zc_report_metric_t metric, size_t *size_p)
{
    size_t size = 0;
    for (size_t i = 0; i < self->action_count; i++)
        if (!name || streq (name, self->actions [i].name))
            size += self->actions [i].samples [metric].size;
    uint64_t *keys = (uint64_t *) malloc ((size + 1) * sizeof (uint64_t));
    size_t at = 0;
    for (size_t i = 0; keys && i < self->action_count; i++)
        if (!name || streq (name, self->actions [i].name)) {
            s_samples_t *samples = &self->actions [i].samples [metric];
            if (samples->size)
                memcpy (keys + at, samples->keys, samples->size * sizeof (uint64_t));
            at += samples->size;
        }
    *size_p = keys? size: 0;
    return keys;
}

//  Nearest rank in a sorted array: the smallest value with at least
//  percent of the values at or below it.  The epsilon keeps 99.9% of 1000
//  at rank 999 despite binary floating point.
static int64_t
s_rank (const uint32_t *values, size_t size, double percent)
{
    if (size == 0)
        return -1;
    double rank = ceil (percent * (double) size / 100.0 - 1e-9);
    size_t index = rank < 1? 0: (size_t) rank - 1;
    if (index >= size)
        index = size - 1;
    return values [index];
}

//  Summary of sample keys (their latency halves), sorted on the way.
static s_stats_t
s_stats (const uint64_t *keys, size_t size)
{
    s_stats_t stats;
    memset (&stats, 0, sizeof stats);
    stats.count = size;
    stats.min = stats.p50 = stats.p90 = stats.p99 = stats.p999 = stats.max = -1;
    if (size == 0)
        return stats;
    uint32_t *values = (uint32_t *) malloc (size * sizeof (uint32_t));
    if (!values) {
        stats.count = 0;
        return stats;
    }
    double sum = 0;
    for (size_t i = 0; i < size; i++) {
        values [i] = (uint32_t) (keys [i] & 0xFFFFFFFFu);
        sum += values [i];
    }
    qsort (values, size, sizeof (uint32_t), s_compare_u32);
    stats.mean = sum / (double) size;
    stats.min = values [0];
    stats.p50 = s_rank (values, size, 50);
    stats.p90 = s_rank (values, size, 90);
    stats.p99 = s_rank (values, size, 99);
    stats.p999 = s_rank (values, size, 99.9);
    stats.max = values [size - 1];
    free (values);
    return stats;
}

//  ---------------------------------------------------------------------
//  Construction

//  Creates an empty report; the bucket width sets the series' resolution.
zc_report_t *
zc_report_new (int64_t bucket_usecs)
{
    zc_report_t *self = (zc_report_t *) zmalloc (sizeof (zc_report_t));
    self->bucket_usecs = bucket_usecs > 0? bucket_usecs: 1000000;
    self->config = cJSON_CreateObject ();
    return self;
}

//  Frees the report and nulls the caller's pointer; safe twice.
void
zc_report_destroy (zc_report_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zc_report_t *self = *self_p;
        for (size_t i = 0; i < self->action_count; i++) {
            free (self->actions [i].name);
            for (size_t metric = 0; metric < ZC_REPORT_METRICS; metric++)
                s_samples_free (&self->actions [i].samples [metric]);
        }
        for (size_t i = 0; i < self->reason_count; i++)
            free (self->reasons [i].reason);
        for (size_t i = 0; i < self->note_count; i++)
            free (self->notes [i]);
        s_samples_free (&self->lag);
        free (self->buckets);
        for (size_t i = 0; i < self->monitor_count; i++) {
            free (self->monitors [i].name);
            free (self->monitors [i].metric);
            free (self->monitors [i].unit);
            free (self->monitors [i].times);
            free (self->monitors [i].values);
        }
        free (self->resource_source);
        cJSON_Delete (self->config);
        free (self);
        *self_p = NULL;
    }
}

//  Records a text setting of the run for the report's config object.
void
zc_report_set_text (zc_report_t *self, const char *name, const char *value)
{
    assert (self);
    cJSON_DeleteItemFromObjectCaseSensitive (self->config, name);
    cJSON_AddStringToObject (self->config, name, value? value: "");
}

//  Records a numeric setting of the run for the report's config object.
void
zc_report_set_number (zc_report_t *self, const char *name, double value)
{
    assert (self);
    cJSON_DeleteItemFromObjectCaseSensitive (self->config, name);
    cJSON_AddNumberToObject (self->config, name, value);
}

//  Keeps a note for every form of the report (the first S_MAX_NOTES).
void
zc_report_note (zc_report_t *self, const char *format, ...)
{
    assert (self);
    if (self->note_count >= S_MAX_NOTES)
        return;
    va_list args;
    va_start (args, format);
    char *note = zsys_vprintf (format, args);
    va_end (args);
    if (note)
        self->notes [self->note_count++] = note;
}

//  Sets the open-loop target, against which lateness is judged.
void
zc_report_set_target (zc_report_t *self, double rate, int64_t late_usecs)
{
    assert (self);
    self->rate = rate > 0? rate: 0;
    self->late_usecs = late_usecs > 0? late_usecs: 0;
}

//  Sets how long the run took, so the series covers all of it.
void
zc_report_set_elapsed (zc_report_t *self, int64_t usecs)
{
    assert (self);
    self->elapsed = usecs > 0? usecs: 0;
}

//  Says where the resource figures come from (shown with them).
void
zc_report_set_resource_source (zc_report_t *self, const char *source)
{
    assert (self);
    free (self->resource_source);
    self->resource_source = source? strdup (source): NULL;
}

//  Records one figure of the system under test at time at: a sample of
//  the series (name, metric), which is made on first sight.  Past
//  S_MAX_MONITORS series new ones are dropped; a failed allocation drops
//  the sample.
void
zc_report_resource (zc_report_t *self, const char *name, const char *metric,
                    const char *unit, int64_t at, double value)
{
    assert (self);
    assert (name && metric && unit);
    s_monitor_t *monitor = NULL;
    for (size_t i = 0; i < self->monitor_count && !monitor; i++)
        if (streq (self->monitors [i].name, name) && streq (self->monitors [i].metric, metric))
            monitor = &self->monitors [i];
    if (!monitor) {
        if (self->monitor_count == S_MAX_MONITORS)
            return;
        monitor = &self->monitors [self->monitor_count++];
        monitor->name = strdup (name);
        monitor->metric = strdup (metric);
        monitor->unit = strdup (unit);
    }
    if (monitor->count == monitor->alloc) {
        size_t alloc = monitor->alloc? monitor->alloc * 2: 64;
        double *times = (double *) realloc (monitor->times, alloc * sizeof (double));
        if (!times)
            return;
        monitor->times = times;
        double *values = (double *) realloc (monitor->values, alloc * sizeof (double));
        if (!values)
            return;
        monitor->values = values;
        monitor->alloc = alloc;
    }
    monitor->times [monitor->count] = (double) at;
    monitor->values [monitor->count++] = value;
}

//  ---------------------------------------------------------------------
//  Events

//  The action of that name, added on first sight; past S_MAX_ACTIONS
//  names every new one shares the last slot.
static s_action_t *
s_action (zc_report_t *self, const char *name)
{
    if (!name)
        name = "request";
    for (size_t i = 0; i < self->action_count; i++)
        if (streq (self->actions [i].name, name))
            return &self->actions [i];
    if (self->action_count == S_MAX_ACTIONS)
        return &self->actions [S_MAX_ACTIONS - 1];
    s_action_t *action = &self->actions [self->action_count++];
    action->name = strdup (self->action_count == S_MAX_ACTIONS? S_OTHER_ACTION: name);
    for (size_t i = 0; i < S_TIMES; i++)
        action->times [i] = -1;
    return action;
}

//  The bucket of a time, the series grown to hold it; NULL if memory
//  ran out.  Times past S_MAX_BUCKETS land in the last bucket.
static s_bucket_t *
s_bucket (zc_report_t *self, int64_t at, uint32_t *index_p)
{
    int64_t index = at > 0? at / self->bucket_usecs: 0;
    if (index >= S_MAX_BUCKETS)
        index = S_MAX_BUCKETS - 1;
    if ((size_t) index >= self->bucket_alloc) {
        size_t alloc = self->bucket_alloc? self->bucket_alloc: 64;
        while (alloc <= (size_t) index)
            alloc *= 2;
        s_bucket_t *buckets = (s_bucket_t *) realloc (self->buckets, alloc * sizeof (s_bucket_t));
        if (!buckets)
            return NULL;
        memset (buckets + self->bucket_alloc, 0,
                (alloc - self->bucket_alloc) * sizeof (s_bucket_t));
        self->buckets = buckets;
        self->bucket_alloc = alloc;
    }
    if ((size_t) index >= self->bucket_count)
        self->bucket_count = (size_t) index + 1;
    if (index_p)
        *index_p = (uint32_t) index;
    return &self->buckets [index];
}

//  Counts an event in its action and its time bucket.
static void
s_count (zc_report_t *self, s_action_t *action, zc_report_counter_t counter, int64_t at)
{
    action->counts [counter]++;
    s_bucket_t *bucket = s_bucket (self, at, NULL);
    if (bucket)
        bucket->counts [counter]++;
}

//  Moves a first-or-last time of an action.
static void
s_stamp (s_action_t *action, s_time_t which, int64_t at)
{
    if (which == S_FIRST_SEND) {
        if (action->times [which] < 0 || at < action->times [which])
            action->times [which] = at;
    }
    else
    if (at > action->times [which])
        action->times [which] = at;
}

//  Counts a reason, bounded in length (cut on a UTF-8 boundary) and in
//  number of distinct reasons, since reasons come from the far side.
static void
s_reason (zc_report_t *self, const char *reason, bool skipped)
{
    char text [S_MAX_REASON + 1];
    snprintf (text, sizeof text, "%s", reason && *reason? reason: "unknown");
    size_t length = strlen (text);
    if (length == S_MAX_REASON) {
        while (length > 0 && ((unsigned char) text [length] & 0xC0) == 0x80)
            length--;
        text [length] = 0;
    }
    for (size_t i = 0; i < self->reason_count; i++)
        if (self->reasons [i].skipped == skipped && streq (self->reasons [i].reason, text)) {
            self->reasons [i].count++;
            return;
        }
    if (self->reason_count < S_MAX_REASONS - 2) {
        s_reason_t *entry = &self->reasons [self->reason_count++];
        entry->reason = strdup (text);
        entry->skipped = skipped;
        entry->count = 1;
        return;
    }
    //  Too many distinct reasons: the last two slots pool the rest
    for (size_t i = S_MAX_REASONS - 2; i < self->reason_count; i++)
        if (self->reasons [i].skipped == skipped) {
            self->reasons [i].count++;
            return;
        }
    s_reason_t *entry = &self->reasons [self->reason_count++];
    entry->reason = strdup (S_OTHER_REASON);
    entry->skipped = skipped;
    entry->count = 1;
}

//  A request went out, lag after its scheduled time.
void
zc_report_sent (zc_report_t *self, const char *action_name, int64_t at, int64_t lag)
{
    assert (self);
    s_action_t *action = s_action (self, action_name);
    s_count (self, action, ZC_REPORT_SENT, at);
    s_stamp (action, S_FIRST_SEND, at);
    s_stamp (action, S_LAST_SEND, at);
    uint32_t bucket = 0;
    s_bucket (self, at, &bucket);
    s_samples_add (&self->lag, bucket, lag);
    if (self->late_usecs > 0 && lag > self->late_usecs)
        s_count (self, action, ZC_REPORT_LATE, at);
}

//  A request got a positive reply after latency.
void
zc_report_succeeded (zc_report_t *self, const char *action_name, int64_t at, int64_t latency)
{
    assert (self);
    s_action_t *action = s_action (self, action_name);
    s_count (self, action, ZC_REPORT_SUCCEEDED, at);
    s_stamp (action, S_LAST_REPLY, at);
    uint32_t bucket = 0;
    s_bucket (self, at, &bucket);
    s_samples_add (&action->samples [ZC_REPORT_ACK], bucket, latency);
}

//  A request failed: error reply, timeout, lost connection...
void
zc_report_failed (zc_report_t *self, const char *action_name, int64_t at, const char *reason)
{
    assert (self);
    s_action_t *action = s_action (self, action_name);
    s_count (self, action, ZC_REPORT_FAILED, at);
    s_reason (self, reason, false);
}

//  A scheduled send could not be made (open loop, every client busy...).
void
zc_report_skipped (zc_report_t *self, const char *action_name, int64_t at, const char *reason)
{
    assert (self);
    s_action_t *action = s_action (self, action_name);
    s_count (self, action, ZC_REPORT_SKIPPED, at);
    s_reason (self, reason, true);
}

//  A transaction was confirmed by its first node, or by every node.
void
zc_report_confirmed (zc_report_t *self, const char *action_name, int64_t at,
                     int64_t latency, bool all_nodes)
{
    assert (self);
    s_action_t *action = s_action (self, action_name);
    s_count (self, action, all_nodes? ZC_REPORT_CONFIRMED_ALL: ZC_REPORT_CONFIRMED_FIRST, at);
    s_stamp (action, all_nodes? S_LAST_ALL: S_LAST_FIRST, at);
    uint32_t bucket = 0;
    s_bucket (self, at, &bucket);
    s_samples_add (&action->samples [all_nodes? ZC_REPORT_CONFIRM_ALL: ZC_REPORT_CONFIRM_FIRST],
                   bucket, latency);
}

//  ---------------------------------------------------------------------
//  Queries

//  Sums a counter over the actions named (all if name is NULL).
uint64_t
zc_report_count (zc_report_t *self, const char *name, zc_report_counter_t counter)
{
    assert (self);
    assert (counter < ZC_REPORT_COUNTERS);
    uint64_t count = 0;
    for (size_t i = 0; i < self->action_count; i++)
        if (!name || streq (name, self->actions [i].name))
            count += self->actions [i].counts [counter];
    return count;
}

//  How often a failure (or skip) reason was recorded.
uint64_t
zc_report_reason_count (zc_report_t *self, const char *reason, bool skipped)
{
    assert (self);
    for (size_t i = 0; i < self->reason_count; i++)
        if (self->reasons [i].skipped == skipped && streq (self->reasons [i].reason, reason))
            return self->reasons [i].count;
    return 0;
}

//  One percentile of one metric, exact.
int64_t
zc_report_percentile (zc_report_t *self, const char *name, zc_report_metric_t metric,
                      double percent)
{
    assert (self);
    assert (metric < ZC_REPORT_METRICS);
    size_t size = 0;
    uint64_t *keys = s_collect (self, name, metric, &size);
    uint32_t *values = (uint32_t *) malloc ((size + 1) * sizeof (uint32_t));
    int64_t result = -1;
    if (keys && values) {
        for (size_t i = 0; i < size; i++)
            values [i] = (uint32_t) (keys [i] & 0xFFFFFFFFu);
        qsort (values, size, sizeof (uint32_t), s_compare_u32);
        result = s_rank (values, size, percent);
    }
    free (keys);
    free (values);
    return result;
}

//  One percentile of send lag.
int64_t
zc_report_lag_percentile (zc_report_t *self, double percent)
{
    assert (self);
    uint32_t *values = (uint32_t *) malloc ((self->lag.size + 1) * sizeof (uint32_t));
    if (!values)
        return -1;
    for (size_t i = 0; i < self->lag.size; i++)
        values [i] = (uint32_t) (self->lag.keys [i] & 0xFFFFFFFFu);
    qsort (values, self->lag.size, sizeof (uint32_t), s_compare_u32);
    int64_t result = s_rank (values, self->lag.size, percent);
    free (values);
    return result;
}

//  Earliest first-send or latest other time over the actions named.
static int64_t
s_time (zc_report_t *self, const char *name, s_time_t which)
{
    int64_t result = -1;
    for (size_t i = 0; i < self->action_count; i++) {
        int64_t at = self->actions [i].times [which];
        if ((name && !streq (name, self->actions [i].name)) || at < 0)
            continue;
        if (result < 0 || (which == S_FIRST_SEND? at < result: at > result))
            result = at;
    }
    return result;
}

//  count per second of the span from the first send to time `which`.
static double
s_rate (zc_report_t *self, const char *name, zc_report_counter_t counter, s_time_t which)
{
    int64_t first = s_time (self, name, S_FIRST_SEND);
    int64_t last = s_time (self, name, which);
    uint64_t count = zc_report_count (self, name, counter);
    if (first < 0 || last <= first || count == 0)
        return 0;
    return (double) count * 1e6 / (double) (last - first);
}

//  Sends per second over the span of the sends (Caliper's send rate).
double
zc_report_send_rate (zc_report_t *self)
{
    assert (self);
    return s_rate (self, NULL, ZC_REPORT_SENT, S_LAST_SEND);
}

//  Successes per second from the first send to the last reply.
double
zc_report_throughput (zc_report_t *self)
{
    assert (self);
    return s_rate (self, NULL, ZC_REPORT_SUCCEEDED, S_LAST_REPLY);
}

//  Confirmed transactions per second from the first send to the last
//  confirmation, by the first node or by every node.
double
zc_report_confirm_rate (zc_report_t *self, bool all_nodes)
{
    assert (self);
    return all_nodes? s_rate (self, NULL, ZC_REPORT_CONFIRMED_ALL, S_LAST_ALL)
                    : s_rate (self, NULL, ZC_REPORT_CONFIRMED_FIRST, S_LAST_FIRST);
}

//  An open-loop run kept its rate if no send was late or skipped.
bool
zc_report_rate_kept (zc_report_t *self)
{
    assert (self);
    if (self->rate <= 0)
        return true;
    return zc_report_count (self, NULL, ZC_REPORT_LATE) == 0
        && zc_report_count (self, NULL, ZC_REPORT_SKIPPED) == 0;
}

//  ---------------------------------------------------------------------
//  Open-loop schedule.  The rate climbs linearly from 0 to `rate` over the
//  ramp, so sends due by time t number rate t^2 / 2T during the ramp and
//  rate (t - T/2) after it; send k is due when that reaches k.

//  When send k is due: inverts the count of sends due by time t.
int64_t
zc_report_schedule (double rate, int64_t ramp_usecs, uint64_t k)
{
    if (rate <= 0)
        return 0;
    double ramp = ramp_usecs > 0? (double) ramp_usecs / 1e6: 0;
    double sends = (double) k;
    double seconds;
    if (ramp > 0 && sends < rate * ramp / 2)
        seconds = sqrt (2 * sends * ramp / rate);
    else
        seconds = ramp / 2 + sends / rate;
    double usecs = seconds * 1e6;
    return usecs >= (double) INT64_MAX / 2? INT64_MAX / 2: (int64_t) round (usecs);
}

//  How many sends are due by `at`: the count formula, settled against
//  the rounded schedule so the two always agree.
uint64_t
zc_report_due (double rate, int64_t ramp_usecs, int64_t at)
{
    if (rate <= 0 || at < 0)
        return 0;
    double ramp = ramp_usecs > 0? (double) ramp_usecs / 1e6: 0;
    double seconds = (double) at / 1e6;
    double sends = ramp > 0 && seconds < ramp? rate * seconds * seconds / (2 * ramp)
                                             : rate * (seconds - ramp / 2);
    uint64_t due = sends < 0? 0: (uint64_t) sends + 1;
    //  The schedule rounds to microseconds: settle on its exact answer
    while (due > 0 && zc_report_schedule (rate, ramp_usecs, due - 1) > at)
        due--;
    while (zc_report_schedule (rate, ramp_usecs, due) <= at)
        due++;
    return due;
}

//  ---------------------------------------------------------------------
//  Report forms

//  Microseconds as milliseconds with three decimals, or null if < 0.
static void
s_add_ms (cJSON *object, const char *name, double usecs)
{
    if (usecs < 0)
        cJSON_AddNullToObject (object, name);
    else
        cJSON_AddNumberToObject (object, name, round (usecs) / 1000.0);
}

//  A rounded rate, so the JSON does not carry float noise.
static void
s_add_rate (cJSON *object, const char *name, double rate)
{
    cJSON_AddNumberToObject (object, name, round (rate * 1000) / 1000);
}

//  Stats object {"count", "min", "mean", "p50"...}, values in ms.
static cJSON *
s_stats_json (s_stats_t *stats)
{
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddNumberToObject (json, "count", (double) stats->count);
    s_add_ms (json, "min", (double) stats->min);
    s_add_ms (json, "mean", stats->count? stats->mean: -1);
    s_add_ms (json, "p50", (double) stats->p50);
    s_add_ms (json, "p90", (double) stats->p90);
    s_add_ms (json, "p99", (double) stats->p99);
    s_add_ms (json, "p99_9", (double) stats->p999);
    s_add_ms (json, "max", (double) stats->max);
    return json;
}

//  Stats of one metric for one action (or all, name NULL).
static s_stats_t
s_metric_stats (zc_report_t *self, const char *name, zc_report_metric_t metric)
{
    size_t size = 0;
    uint64_t *keys = s_collect (self, name, metric, &size);
    s_stats_t stats = s_stats (keys, size);
    free (keys);
    return stats;
}

//  One row of the report: an action, or every action (name NULL).
static cJSON *
s_row_json (zc_report_t *self, const char *name)
{
    cJSON *row = cJSON_CreateObject ();
    cJSON_AddStringToObject (row, "name", name? name: "all");
    static const char *counters [] = {
        "sent", "succeeded", "failed", "skipped", "confirmed_first", "confirmed_all", "late" };
    for (size_t counter = 0; counter < ZC_REPORT_COUNTERS; counter++)
        if (counter != ZC_REPORT_CONFIRMED_FIRST && counter != ZC_REPORT_CONFIRMED_ALL)
            cJSON_AddNumberToObject (row, counters [counter],
                (double) zc_report_count (self, name, (zc_report_counter_t) counter));
    s_add_rate (row, "send_rate", s_rate (self, name, ZC_REPORT_SENT, S_LAST_SEND));
    s_add_rate (row, "throughput", s_rate (self, name, ZC_REPORT_SUCCEEDED, S_LAST_REPLY));
    s_stats_t stats = s_metric_stats (self, name, ZC_REPORT_ACK);
    cJSON_AddItemToObject (row, "latency_ms", s_stats_json (&stats));
    cJSON_AddNumberToObject (row, "confirmed_first",
        (double) zc_report_count (self, name, ZC_REPORT_CONFIRMED_FIRST));
    cJSON_AddNumberToObject (row, "confirmed_all",
        (double) zc_report_count (self, name, ZC_REPORT_CONFIRMED_ALL));
    s_add_rate (row, "confirm_rate_first",
                s_rate (self, name, ZC_REPORT_CONFIRMED_FIRST, S_LAST_FIRST));
    s_add_rate (row, "confirm_rate_all",
                s_rate (self, name, ZC_REPORT_CONFIRMED_ALL, S_LAST_ALL));
    stats = s_metric_stats (self, name, ZC_REPORT_CONFIRM_FIRST);
    cJSON_AddItemToObject (row, "confirm_first_ms", s_stats_json (&stats));
    stats = s_metric_stats (self, name, ZC_REPORT_CONFIRM_ALL);
    cJSON_AddItemToObject (row, "confirm_all_ms", s_stats_json (&stats));
    return row;
}

//  Per-bucket stats of one metric over every action: walks the keys
//  sorted by bucket then latency.  Fills p50, p99, max (usecs, -1 for
//  none) for each of count buckets.
static void
s_bucket_stats (zc_report_t *self, zc_report_metric_t metric, size_t count,
                double *p50, double *p99, double *max)
{
    for (size_t i = 0; i < count; i++)
        p50 [i] = p99 [i] = max [i] = -1;
    size_t size = 0;
    uint64_t *keys = s_collect (self, NULL, metric, &size);
    uint32_t *values = (uint32_t *) malloc ((size + 1) * sizeof (uint32_t));
    if (keys && values) {
        qsort (keys, size, sizeof (uint64_t), s_compare_u64);
        size_t start = 0;
        while (start < size) {
            uint32_t bucket = (uint32_t) (keys [start] >> 32);
            size_t end = start;
            while (end < size && (uint32_t) (keys [end] >> 32) == bucket) {
                values [end - start] = (uint32_t) (keys [end] & 0xFFFFFFFFu);
                end++;
            }
            if (bucket < count) {
                p50 [bucket] = (double) s_rank (values, end - start, 50);
                p99 [bucket] = (double) s_rank (values, end - start, 99);
                max [bucket] = (double) values [end - start - 1];
            }
            start = end;
        }
    }
    free (keys);
    free (values);
}

//  Buckets the series shows: every one used, and as many as the run took.
static size_t
s_series_length (zc_report_t *self)
{
    size_t count = self->bucket_count;
    if (self->elapsed > 0) {
        int64_t span = (self->elapsed + self->bucket_usecs - 1) / self->bucket_usecs;
        if (span > S_MAX_BUCKETS)
            span = S_MAX_BUCKETS;
        if ((size_t) span > count)
            count = (size_t) span;
    }
    return count;
}

//  How long bucket i lasted, in usecs: its width, or for the bucket the
//  run ended in, the part of it before the end.  Counts over a partial
//  bucket divided by the full width would show a drop that never was.
static double
s_bucket_span (zc_report_t *self, size_t i)
{
    double start = (double) i * (double) self->bucket_usecs;
    double span = (double) self->bucket_usecs;
    if (self->elapsed > 0 && start + span > (double) self->elapsed)
        span = (double) self->elapsed - start;
    //  An event stamped at the very end still makes a bucket: a floor of
    //  1 ms keeps its rate finite
    return span > 1000? span: 1000;
}

//  The resources as a JSON object, or NULL if nothing was sampled.
static cJSON *
s_resources_json (zc_report_t *self)
{
    if (self->monitor_count == 0 && !self->resource_source)
        return NULL;
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddStringToObject (json, "source", self->resource_source? self->resource_source: "");
    cJSON *monitors = cJSON_AddArrayToObject (json, "monitors");
    for (size_t i = 0; i < self->monitor_count; i++) {
        s_monitor_t *monitor = &self->monitors [i];
        cJSON *item = cJSON_CreateObject ();
        cJSON_AddStringToObject (item, "name", monitor->name);
        cJSON_AddStringToObject (item, "metric", monitor->metric);
        cJSON_AddStringToObject (item, "unit", monitor->unit);
        cJSON_AddNumberToObject (item, "count", (double) monitor->count);
        double sum = 0, max = 0;
        for (size_t k = 0; k < monitor->count; k++) {
            sum += monitor->values [k];
            if (k == 0 || monitor->values [k] > max)
                max = monitor->values [k];
        }
        if (monitor->count) {
            cJSON_AddNumberToObject (item, "mean", round (sum / (double) monitor->count * 10) / 10);
            cJSON_AddNumberToObject (item, "max", round (max * 10) / 10);
            cJSON_AddNumberToObject (item, "last",
                                     round (monitor->values [monitor->count - 1] * 10) / 10);
        }
        cJSON *samples = cJSON_AddArrayToObject (item, "samples");
        for (size_t k = 0; k < monitor->count; k++) {
            cJSON *pair = cJSON_CreateArray ();
            cJSON_AddItemToArray (pair, cJSON_CreateNumber (round (monitor->times [k] / 1e3) / 1e3));
            cJSON_AddItemToArray (pair, cJSON_CreateNumber (round (monitor->values [k] * 10) / 10));
            cJSON_AddItemToArray (samples, pair);
        }
        cJSON_AddItemToArray (monitors, item);
    }
    return json;
}

//  The time series as a JSON object.
static cJSON *
s_series_json (zc_report_t *self)
{
    cJSON *series = cJSON_CreateObject ();
    cJSON_AddNumberToObject (series, "bucket_s", (double) self->bucket_usecs / 1e6);
    cJSON *rows = cJSON_AddArrayToObject (series, "rows");
    size_t count = s_series_length (self);
    double *stats = (double *) malloc ((count + 1) * 6 * sizeof (double));
    if (!stats)
        return series;
    double *ack50 = stats, *ack99 = stats + count, *ackmax = stats + 2 * count;
    double *conf50 = stats + 3 * count, *conf99 = stats + 4 * count;
    double *confmax = stats + 5 * count;
    s_bucket_stats (self, ZC_REPORT_ACK, count, ack50, ack99, ackmax);
    s_bucket_stats (self, ZC_REPORT_CONFIRM_FIRST, count, conf50, conf99, confmax);
    static const char *counters [] = {
        "sent", "succeeded", "failed", "skipped", "confirmed_first", "confirmed_all" };
    for (size_t i = 0; i < count; i++) {
        cJSON *row = cJSON_CreateObject ();
        cJSON_AddNumberToObject (row, "t_s", (double) i * (double) self->bucket_usecs / 1e6);
        cJSON_AddNumberToObject (row, "span_s", s_bucket_span (self, i) / 1e6);
        for (size_t counter = 0; counter < 6; counter++)
            cJSON_AddNumberToObject (row, counters [counter], i < self->bucket_count
                                     ? (double) self->buckets [i].counts [counter]: 0);
        s_add_ms (row, "ack_p50_ms", ack50 [i]);
        s_add_ms (row, "ack_p99_ms", ack99 [i]);
        s_add_ms (row, "ack_max_ms", ackmax [i]);
        s_add_ms (row, "confirm_p50_ms", conf50 [i]);
        s_add_ms (row, "confirm_p99_ms", conf99 [i]);
        cJSON_AddItemToArray (rows, row);
    }
    free (stats);
    return series;
}

//  The notes, with one the report makes itself when an open-loop run did
//  not keep its rate, saying how and what it suggests.  Caller destroys.
static zlistx_t *
s_notes (zc_report_t *self)
{
    zlistx_t *notes = zlistx_new ();
    zlistx_set_destructor (notes, (czmq_destructor *) zstr_free);
    if (!zc_report_rate_kept (self)) {
        uint64_t late = zc_report_count (self, NULL, ZC_REPORT_LATE);
        uint64_t skipped = zc_report_count (self, NULL, ZC_REPORT_SKIPPED);
        char *note = zsys_sprintf (
            "the client did not keep the target rate of %.0f/s: %" PRIu64
            " send(s) late by more than %.1f ms (send lag p99 %.1f ms, max %.1f ms)"
            "%s, %" PRIu64 " send(s) skipped%s",
            self->rate, late, (double) self->late_usecs / 1000.0,
            (double) zc_report_lag_percentile (self, 99) / 1000.0,
            (double) zc_report_lag_percentile (self, 100) / 1000.0,
            late? ": the client's event loop fell behind (CPU-bound or blocked)": "",
            skipped, skipped? " (see \"skipped\" for why)": "");
        zlistx_add_end (notes, note);
    }
    for (size_t i = 0; i < self->note_count; i++)
        zlistx_add_end (notes, strdup (self->notes [i]));
    return notes;
}

//  Builds the whole JSON report.
cJSON *
zc_report_json (zc_report_t *self)
{
    assert (self);
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddStringToObject (json, "tool", "zchain-load");
    cJSON_AddStringToObject (json, "version", ZCHAIN_VERSION);
    cJSON_AddItemToObject (json, "config", cJSON_Duplicate (self->config, true));
    cJSON_AddNumberToObject (json, "elapsed_s", round ((double) self->elapsed / 1e3) / 1e3);
    cJSON_AddNumberToObject (json, "target_rate", self->rate);
    cJSON_AddBoolToObject (json, "rate_kept", zc_report_rate_kept (self));
    s_add_ms (json, "late_threshold_ms", (double) self->late_usecs);
    s_stats_t lag = s_stats (self->lag.keys, self->lag.size);
    cJSON_AddItemToObject (json, "send_lag_ms", s_stats_json (&lag));
    cJSON_AddItemToObject (json, "total", s_row_json (self, NULL));
    cJSON *actions = cJSON_AddArrayToObject (json, "actions");
    for (size_t i = 0; i < self->action_count; i++)
        cJSON_AddItemToArray (actions, s_row_json (self, self->actions [i].name));
    cJSON *failures = cJSON_AddObjectToObject (json, "failures");
    cJSON *skipped = cJSON_AddObjectToObject (json, "skipped");
    for (size_t i = 0; i < self->reason_count; i++)
        cJSON_AddNumberToObject (self->reasons [i].skipped? skipped: failures,
                                 self->reasons [i].reason, (double) self->reasons [i].count);
    cJSON *notes_json = cJSON_AddArrayToObject (json, "notes");
    zlistx_t *notes = s_notes (self);
    for (char *note = (char *) zlistx_first (notes); note; note = (char *) zlistx_next (notes))
        cJSON_AddItemToArray (notes_json, cJSON_CreateString (note));
    zlistx_destroy (&notes);
    cJSON_AddItemToObject (json, "series", s_series_json (self));
    cJSON *resources = s_resources_json (self);
    if (resources)
        cJSON_AddItemToObject (json, "resources", resources);
    return json;
}

//  Number member of a JSON object (-1 if null or absent).
static double
s_number (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsNumber (item)? item->valuedouble: -1;
}

//  String member of a JSON object, or "".
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: "";
}

//  A latency for a table: "12.345" or "-".
static const char *
s_ms_text (const cJSON *stats, const char *name, char *buffer, size_t size)
{
    double value = s_number (stats, name);
    if (value < 0)
        snprintf (buffer, size, "-");
    else
        snprintf (buffer, size, "%.3f", value);
    return buffer;
}

//  Prints the table rows (total last) the text form shows.
static void
s_text_rows (FILE *out, cJSON *json, bool confirmations)
{
    cJSON *rows = cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (json, "actions"), true);
    cJSON_AddItemToArray (rows, cJSON_Duplicate (
        cJSON_GetObjectItemCaseSensitive (json, "total"), true));
    const char *stats_name = confirmations? "confirm_first_ms": "latency_ms";
    if (confirmations)
        fprintf (out, "%-20s %9s %9s %10s %10s %9s %9s %9s %9s %9s %9s %9s\n", "confirmation",
                 "first", "all", "first/s", "all/s",
                 "min ms", "mean ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
    else
        fprintf (out, "%-20s %9s %9s %9s %9s %10s %10s %9s %9s %9s %9s %9s %9s %9s\n", "action",
                 "sent", "succ", "fail", "skip", "send/s", "tput/s",
                 "min ms", "mean ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
    const cJSON *row;
    cJSON_ArrayForEach (row, rows) {
        const cJSON *stats = cJSON_GetObjectItemCaseSensitive (row, stats_name);
        char cells [7][32];
        static const char *names [] = { "min", "mean", "p50", "p90", "p99", "p99_9", "max" };
        for (size_t i = 0; i < 7; i++)
            s_ms_text (stats, names [i], cells [i], sizeof cells [i]);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive (row, "name");
        if (confirmations) {
            if (s_number (row, "confirmed_first") <= 0 && !streq (name->valuestring, "all"))
                continue;
            fprintf (out, "%-20.20s %9.0f %9.0f %10.1f %10.1f %9s %9s %9s %9s %9s %9s %9s\n",
                     name->valuestring, s_number (row, "confirmed_first"),
                     s_number (row, "confirmed_all"), s_number (row, "confirm_rate_first"),
                     s_number (row, "confirm_rate_all"),
                     cells [0], cells [1], cells [2], cells [3], cells [4], cells [5], cells [6]);
        }
        else
            fprintf (out, "%-20.20s %9.0f %9.0f %9.0f %9.0f %10.1f %10.1f %9s %9s %9s %9s %9s %9s %9s\n",
                     name->valuestring, s_number (row, "sent"), s_number (row, "succeeded"),
                     s_number (row, "failed"), s_number (row, "skipped"),
                     s_number (row, "send_rate"), s_number (row, "throughput"),
                     cells [0], cells [1], cells [2], cells [3], cells [4], cells [5], cells [6]);
    }
    cJSON_Delete (rows);
}

//  The summary as text: the Caliper-like table, confirmations, failures
//  by reason, notes.
char *
zc_report_text (zc_report_t *self)
{
    assert (self);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    cJSON *json = zc_report_json (self);
    fprintf (out, "zchain-load %s: %.3f s, %s\n", ZCHAIN_VERSION, s_number (json, "elapsed_s"),
             self->rate > 0? "open loop": "closed loop");
    s_text_rows (out, json, false);
    if (zc_report_count (self, NULL, ZC_REPORT_CONFIRMED_FIRST) > 0
    ||  cJSON_GetObjectItemCaseSensitive (self->config, "notify_listen"))
        s_text_rows (out, json, true);
    const char *titles [] = { "failures", "skipped" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *reasons = cJSON_GetObjectItemCaseSensitive (json, titles [i]);
        if (cJSON_GetArraySize (reasons) > 0)
            fprintf (out, "%s by reason:\n", titles [i]);
        const cJSON *reason;
        cJSON_ArrayForEach (reason, reasons)
            fprintf (out, "  %9.0f  %s\n", reason->valuedouble, reason->string);
    }
    const cJSON *lag = cJSON_GetObjectItemCaseSensitive (json, "send_lag_ms");
    if (self->rate > 0 && s_number (lag, "count") > 0)
        fprintf (out, "send lag: p50 %.3f ms, p99 %.3f ms, max %.3f ms; rate %s\n",
                 s_number (lag, "p50"), s_number (lag, "p99"), s_number (lag, "max"),
                 zc_report_rate_kept (self)? "kept": "NOT kept");
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive (json, "resources");
    if (resources) {
        fprintf (out, "resources (%s):\n", s_string (resources, "source"));
        fprintf (out, "  %-36s %-10s %10s %10s %10s\n", "process or node", "figure", "mean",
                 "max", "last");
        const cJSON *monitor;
        cJSON_ArrayForEach (monitor, cJSON_GetObjectItemCaseSensitive (resources, "monitors")) {
            char figure [64];
            snprintf (figure, sizeof figure, "%s %s", s_string (monitor, "metric"),
                      s_string (monitor, "unit"));
            fprintf (out, "  %-36.36s %-10.10s %10.1f %10.1f %10.1f\n", s_string (monitor, "name"),
                     figure, s_number (monitor, "mean"), s_number (monitor, "max"),
                     s_number (monitor, "last"));
        }
    }
    const cJSON *note;
    cJSON_ArrayForEach (note, cJSON_GetObjectItemCaseSensitive (json, "notes"))
        fprintf (out, "note: %s\n", note->valuestring);
    cJSON_Delete (json);
    fclose (out);
    return text;
}

//  Writes text to a file, replacing it.
static int
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    bool ok = fputs (text, file) >= 0;
    ok = fclose (file) == 0 && ok;
    return ok? 0: -1;
}

//  The JSON report, indented, to a file.
int
zc_report_write_json (zc_report_t *self, const char *path)
{
    assert (self);
    cJSON *json = zc_report_json (self);
    char *text = cJSON_Print (json);
    cJSON_Delete (json);
    if (!text)
        return -1;
    char *line = zsys_sprintf ("%s\n", text);
    free (text);
    int rc = line? s_write_file (path, line): -1;
    zstr_free (&line);
    return rc;
}

//  A CSV field: quoted, with quotes doubled, if it needs to be.
static void
s_csv_field (FILE *out, const char *text)
{
    if (strpbrk (text, ",\"\r\n")) {
        fputc ('"', out);
        for (const char *c = text; *c; c++) {
            if (*c == '"')
                fputc ('"', out);
            fputc (*c, out);
        }
        fputc ('"', out);
    }
    else
        fputs (text, out);
}

//  The CSV header: a row's counters, rates and latency stats.
#define S_CSV_HEADER "name,sent,succeeded,failed,skipped,late,send_rate,throughput," \
    "latency_min_ms,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms," \
    "latency_p99_9_ms,latency_max_ms,confirmed_first,confirmed_all," \
    "confirm_rate_first,confirm_rate_all,confirm_first_p50_ms,confirm_first_p99_ms," \
    "confirm_first_max_ms,confirm_all_p50_ms,confirm_all_p99_ms,confirm_all_max_ms"

//  Writes one CSV row from a JSON row; empty cells for missing values.
static void
s_csv_row (FILE *out, const cJSON *row)
{
    s_csv_field (out, cJSON_GetObjectItemCaseSensitive (row, "name")->valuestring);
    static const char *numbers [] = {
        "sent", "succeeded", "failed", "skipped", "late", "send_rate", "throughput", NULL };
    for (const char **name = numbers; *name; name++)
        fprintf (out, ",%.15g", s_number (row, *name));
    static const char *stats [] = { "min", "mean", "p50", "p90", "p99", "p99_9", "max", NULL };
    const cJSON *latency = cJSON_GetObjectItemCaseSensitive (row, "latency_ms");
    for (const char **name = stats; *name; name++) {
        double value = s_number (latency, *name);
        value < 0? fprintf (out, ","): fprintf (out, ",%.3f", value);
    }
    static const char *confirms [] = {
        "confirmed_first", "confirmed_all", "confirm_rate_first", "confirm_rate_all", NULL };
    for (const char **name = confirms; *name; name++)
        fprintf (out, ",%.15g", s_number (row, *name));
    static const char *groups [] = { "confirm_first_ms", "confirm_all_ms" };
    static const char *picks [] = { "p50", "p99", "max" };
    for (size_t group = 0; group < 2; group++) {
        const cJSON *object = cJSON_GetObjectItemCaseSensitive (row, groups [group]);
        for (size_t pick = 0; pick < 3; pick++) {
            double value = s_number (object, picks [pick]);
            value < 0? fprintf (out, ","): fprintf (out, ",%.3f", value);
        }
    }
    fputs ("\n", out);
}

//  CSV: a header, one row per action, then the row for all of them.
int
zc_report_write_csv (zc_report_t *self, const char *path)
{
    assert (self);
    FILE *out = fopen (path, "w");
    if (!out)
        return -1;
    cJSON *json = zc_report_json (self);
    fputs (S_CSV_HEADER "\n", out);
    const cJSON *row;
    cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive (json, "actions"))
        s_csv_row (out, row);
    s_csv_row (out, cJSON_GetObjectItemCaseSensitive (json, "total"));
    cJSON_Delete (json);
    return fclose (out) == 0? 0: -1;
}

//  ---------------------------------------------------------------------
//  HTML with inline SVG charts: no scripts, no fonts, no links

//  Writes text with the HTML special characters escaped.
static void
s_html_text (FILE *out, const char *text)
{
    for (const char *c = text; *c; c++)
        switch (*c) {
            case '<': fputs ("&lt;", out); break;
            case '>': fputs ("&gt;", out); break;
            case '&': fputs ("&amp;", out); break;
            case '"': fputs ("&quot;", out); break;
            default:  fputc (*c, out);
        }
}

//  A round step near range / 5 for axis ticks: 1, 2 or 5 times a power
//  of ten.
static double
s_nice_step (double range)
{
    if (range <= 0)
        return 1;
    double rough = range / 5;
    double power = 1;
    while (power > rough)
        power /= 10;
    while (power * 10 <= rough)
        power *= 10;
    double fraction = rough / power;
    return (fraction <= 1? 1: fraction <= 2? 2: fraction <= 5? 5: 10) * power;
}

#define S_CHART_W   760             //  chart width, px
#define S_CHART_H   260             //  chart height, px
#define S_CHART_L   64              //  left margin: y labels
#define S_CHART_R   16              //  right margin
#define S_CHART_T   28              //  top margin: legend
#define S_CHART_B   48              //  bottom margin: x labels and title

//  Colours no two series of the page share (the tableau palette, then
//  darker tones for the resource monitors)
static const char *s_palette [] = {
    "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39",
    "#7b4173", "#3182bd", "#31a354", "#756bb1", "#636363", "#e6550d" };
#define S_PALETTE (sizeof s_palette / sizeof s_palette [0])

//  One line of a chart: count points (x in seconds; a negative y is no
//  value and breaks the line)
typedef struct {
    const char *name;           //  legend
    const char *color;          //  stroke
    const double *xs;           //  seconds since the clock started
    const double *ys;           //  values
    size_t count;               //  points
} s_line_t;

//  One line chart: polylines with dots on axes of seconds (titled) and
//  unit, x from 0 to xmax.
static void
s_html_chart (FILE *out, const char *title, const char *unit, double xmax,
              const s_line_t *lines, size_t line_count)
{
    double ymax = 0;
    for (size_t line = 0; line < line_count; line++)
        for (size_t i = 0; i < lines [line].count; i++)
            if (lines [line].ys [i] > ymax)
                ymax = lines [line].ys [i];
    double ystep = s_nice_step (ymax > 0? ymax: 1);
    double ytop = ceil ((ymax > 0? ymax: 1) / ystep) * ystep;
    if (xmax <= 0)
        xmax = 1;
    double xstep = s_nice_step (xmax);
    double plot_w = S_CHART_W - S_CHART_L - S_CHART_R;
    double plot_h = S_CHART_H - S_CHART_T - S_CHART_B;

    fprintf (out, "<h2>");
    s_html_text (out, title);
    fprintf (out, "</h2>\n<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
             "role=\"img\">\n", S_CHART_W, S_CHART_H, S_CHART_W, S_CHART_H);
    fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
             "stroke=\"#999\"/>\n", S_CHART_L, S_CHART_T, plot_w, plot_h);
    for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
        double py = S_CHART_T + plot_h - y / ytop * plot_h;
        fprintf (out, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                 "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
                 S_CHART_L, S_CHART_L + plot_w, py, py, S_CHART_L - 4, py + 4, y);
    }
    for (double x = 0; x <= xmax + xstep / 100; x += xstep) {
        double px = S_CHART_L + x / xmax * plot_w;
        fprintf (out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">"
                 "%g</text>\n", px, S_CHART_T + plot_h + 16, x);
    }
    fprintf (out, "<text class=\"xtitle\" x=\"%.0f\" y=\"%d\" text-anchor=\"middle\" "
             "font-size=\"12\">time since the clock started (s)</text>\n",
             S_CHART_L + plot_w / 2, S_CHART_H - 6);
    fprintf (out, "<text x=\"4\" y=\"16\" font-size=\"11\">");
    s_html_text (out, unit);
    fprintf (out, "</text>\n");
    double legend_x = S_CHART_L + 8;
    for (size_t line = 0; line < line_count; line++) {
        const s_line_t *item = &lines [line];
        fprintf (out, "<text x=\"%.0f\" y=\"16\" font-size=\"12\" fill=\"%s\">&#9632; ",
                 legend_x, item->color);
        s_html_text (out, item->name);
        fprintf (out, "</text>\n");
        legend_x += 24 + 7.0 * (double) strlen (item->name);
        //  A polyline per run of values; a missing value breaks the line
        bool open = false;
        for (size_t i = 0; i <= item->count; i++) {
            bool has = i < item->count && item->ys [i] >= 0;
            if (has && !open) {
                fprintf (out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                         "points=\"", item->color);
                open = true;
            }
            if (has)
                fprintf (out, "%.1f,%.1f ", S_CHART_L + item->xs [i] / xmax * plot_w,
                         S_CHART_T + plot_h - item->ys [i] / ytop * plot_h);
            if (!has && open) {
                fprintf (out, "\"/>\n");
                open = false;
            }
        }
        for (size_t i = 0; i < item->count; i++)
            if (item->ys [i] >= 0)
                fprintf (out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"/>",
                         S_CHART_L + item->xs [i] / xmax * plot_w,
                         S_CHART_T + plot_h - item->ys [i] / ytop * plot_h, item->color);
        fprintf (out, "\n");
    }
    fprintf (out, "</svg>\n");
}

//  Writes one HTML table row of a report row.
static void
s_html_row (FILE *out, const cJSON *row, bool confirmations)
{
    fprintf (out, "<tr><td>");
    s_html_text (out, cJSON_GetObjectItemCaseSensitive (row, "name")->valuestring);
    fprintf (out, "</td>");
    static const char *plain [] = { "sent", "succeeded", "failed", "skipped", "send_rate",
                                    "throughput", NULL };
    static const char *confirm [] = { "confirmed_first", "confirmed_all",
                                      "confirm_rate_first", "confirm_rate_all", NULL };
    for (const char **name = confirmations? confirm: plain; *name; name++)
        fprintf (out, "<td>%g</td>", s_number (row, *name));
    static const char *stats [] = { "min", "mean", "p50", "p90", "p99", "p99_9", "max", NULL };
    const cJSON *latency = cJSON_GetObjectItemCaseSensitive (row,
        confirmations? "confirm_first_ms": "latency_ms");
    for (const char **name = stats; *name; name++) {
        char cell [32];
        fprintf (out, "<td>%s</td>", s_ms_text (latency, *name, cell, sizeof cell));
    }
    fprintf (out, "</tr>\n");
}

//  The place of a process or node among the distinct names, in order of
//  first appearance: its colour in every resource chart.
static size_t
s_name_rank (zc_report_t *self, const char *name)
{
    size_t rank = 0;
    for (size_t k = 0; k < self->monitor_count; k++) {
        bool first = true;
        for (size_t j = 0; j < k && first; j++)
            first = !streq (self->monitors [j].name, self->monitors [k].name);
        if (streq (self->monitors [k].name, name))
            return rank;
        rank += first;
    }
    return rank;
}

//  The resource section: a table of every series (mean, max, last) and a
//  chart per figure with a line per process or node, like Caliper's
//  resource monitors.
static void
s_html_resources (FILE *out, zc_report_t *self, cJSON *json, double xmax)
{
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive (json, "resources");
    if (!resources)
        return;
    fprintf (out, "<h2 id=\"resources\">Resources of the system under test</h2>\n<p>");
    s_html_text (out, s_string (resources, "source"));
    fprintf (out, "</p>\n<table><tr><th>process or node</th><th>figure</th><th>samples</th>"
             "<th>mean</th><th>max</th><th>last</th></tr>\n");
    const cJSON *monitor;
    cJSON_ArrayForEach (monitor, cJSON_GetObjectItemCaseSensitive (resources, "monitors")) {
        fprintf (out, "<tr><td>");
        s_html_text (out, s_string (monitor, "name"));
        fprintf (out, "</td><td>");
        s_html_text (out, s_string (monitor, "metric"));
        fprintf (out, " (");
        s_html_text (out, s_string (monitor, "unit"));
        fprintf (out, ")</td><td>%.0f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td></tr>\n",
                 s_number (monitor, "count"), s_number (monitor, "mean"),
                 s_number (monitor, "max"), s_number (monitor, "last"));
    }
    fprintf (out, "</table>\n");
    //  A chart per figure, in order of first appearance; a process keeps
    //  its colour across charts
    for (size_t first = 0; first < self->monitor_count; first++) {
        s_monitor_t *head = &self->monitors [first];
        bool seen = false;
        for (size_t k = 0; k < first && !seen; k++)
            seen = streq (self->monitors [k].metric, head->metric);
        if (seen)
            continue;
        s_line_t lines [S_MAX_MONITORS];
        double *xs [S_MAX_MONITORS];
        size_t line_count = 0;
        for (size_t k = 0; k < self->monitor_count; k++) {
            s_monitor_t *monitor = &self->monitors [k];
            if (!streq (monitor->metric, head->metric))
                continue;
            xs [line_count] = (double *) malloc ((monitor->count + 1) * sizeof (double));
            if (!xs [line_count])
                continue;
            for (size_t i = 0; i < monitor->count; i++)
                xs [line_count][i] = monitor->times [i] / 1e6;
            lines [line_count].name = monitor->name;
            lines [line_count].color = s_palette [(8 + s_name_rank (self, monitor->name))
                                                  % S_PALETTE];
            lines [line_count].xs = xs [line_count];
            lines [line_count].ys = monitor->values;
            lines [line_count].count = monitor->count;
            line_count++;
        }
        char title [128];
        snprintf (title, sizeof title, "%s over time", head->metric);
        s_html_chart (out, title, head->unit, xmax, lines, line_count);
        for (size_t k = 0; k < line_count; k++)
            free (xs [k]);
    }
}

//  The HTML page: config, summary table, confirmations, failures, notes,
//  and charts of throughput and latency over time.
int
zc_report_write_html (zc_report_t *self, const char *path)
{
    assert (self);
    FILE *out = fopen (path, "w");
    if (!out)
        return -1;
    cJSON *json = zc_report_json (self);
    fprintf (out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
             "<title>zchain-load report</title>\n<style>\n"
             "body{font-family:sans-serif;margin:2em;color:#222}\n"
             "table{border-collapse:collapse;margin:1em 0}\n"
             "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\n"
             "td:first-child,th:first-child{text-align:left}\n"
             "th{background:#eee}\n.note{color:#a40}\n</style></head><body>\n"
             "<h1>zchain-load report</h1>\n<p class=\"version\">zchain-load %s</p>\n"
             "<p>elapsed %.3f s; %s</p>\n", ZCHAIN_VERSION,
             s_number (json, "elapsed_s"), self->rate > 0? "open loop": "closed loop");

    //  What the run was told
    fprintf (out, "<table><tr><th>setting</th><th>value</th></tr>\n");
    const cJSON *item;
    cJSON_ArrayForEach (item, self->config) {
        fprintf (out, "<tr><td>");
        s_html_text (out, item->string);
        fprintf (out, "</td><td>");
        if (cJSON_IsString (item))
            s_html_text (out, item->valuestring);
        else
            fprintf (out, "%g", item->valuedouble);
        fprintf (out, "</td></tr>\n");
    }
    fprintf (out, "</table>\n");

    //  The summary, then confirmations
    for (int pass = 0; pass < 2; pass++) {
        bool confirmations = pass == 1;
        if (confirmations && zc_report_count (self, NULL, ZC_REPORT_CONFIRMED_FIRST) == 0)
            break;
        fprintf (out, "<h2>%s</h2>\n<table><tr><th>%s</th>", confirmations
                 ? "Confirmations (latency: submission to the first node)": "Requests",
                 confirmations? "action": "action");
        if (confirmations)
            fprintf (out, "<th>confirmed (first)</th><th>confirmed (all)</th>"
                     "<th>first/s</th><th>all/s</th>");
        else
            fprintf (out, "<th>sent</th><th>succeeded</th><th>failed</th><th>skipped</th>"
                     "<th>send rate/s</th><th>throughput/s</th>");
        fprintf (out, "<th>min ms</th><th>mean ms</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
                 "<th>p99.9 ms</th><th>max ms</th></tr>\n");
        const cJSON *row;
        cJSON_ArrayForEach (row, cJSON_GetObjectItemCaseSensitive (json, "actions"))
            s_html_row (out, row, confirmations);
        s_html_row (out, cJSON_GetObjectItemCaseSensitive (json, "total"), confirmations);
        fprintf (out, "</table>\n");
    }
    const char *titles [] = { "failures", "skipped" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *reasons = cJSON_GetObjectItemCaseSensitive (json, titles [i]);
        if (cJSON_GetArraySize (reasons) == 0)
            continue;
        fprintf (out, "<h2>%s by reason</h2>\n<table><tr><th>reason</th><th>count</th></tr>\n",
                 titles [i]);
        const cJSON *reason;
        cJSON_ArrayForEach (reason, reasons) {
            fprintf (out, "<tr><td>");
            s_html_text (out, reason->string);
            fprintf (out, "</td><td>%.0f</td></tr>\n", reason->valuedouble);
        }
        fprintf (out, "</table>\n");
    }
    const cJSON *note;
    cJSON_ArrayForEach (note, cJSON_GetObjectItemCaseSensitive (json, "notes")) {
        fprintf (out, "<p class=\"note\">");
        s_html_text (out, note->valuestring);
        fprintf (out, "</p>\n");
    }

    //  Charts over the series: each point at the middle of its bucket,
    //  rates over the bucket's span (the last may be partial)
    const cJSON *series = cJSON_GetObjectItemCaseSensitive (json, "series");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive (series, "rows");
    size_t count = (size_t) cJSON_GetArraySize (rows);
    double xmax = s_number (json, "elapsed_s");
    double *values = (double *) calloc ((count + 1) * 9, sizeof (double));
    if (values && count > 0) {
        static const char *fields [] = { "sent", "succeeded", "failed", "confirmed_first",
                                         "ack_p50_ms", "ack_p99_ms", "confirm_p50_ms",
                                         "confirm_p99_ms" };
        static const char *names [] = { "sent/s", "succeeded/s", "failed/s", "confirmed/s",
                                        "ack p50", "ack p99", "confirm p50", "confirm p99" };
        double *xs = values + 8 * count;
        s_line_t lines [8];
        for (size_t field = 0; field < 8; field++) {
            lines [field].name = names [field];
            lines [field].color = s_palette [field];
            lines [field].xs = xs;
            lines [field].ys = values + field * count;
            lines [field].count = count;
        }
        size_t i = 0;
        const cJSON *row;
        cJSON_ArrayForEach (row, rows) {
            double span = s_number (row, "span_s");
            xs [i] = s_number (row, "t_s") + span / 2;
            if (xs [i] + span / 2 > xmax)
                xmax = xs [i] + span / 2;
            for (size_t field = 0; field < 8; field++) {
                double value = s_number (row, fields [field]);
                values [field * count + i] = field < 4 && value >= 0 && span > 0? value / span: value;
            }
            i++;
        }
        s_html_chart (out, "Throughput over time", "per second", xmax, lines, 4);
        s_html_chart (out, "Acknowledgement latency over time", "ms", xmax, lines + 4, 2);
        if (zc_report_count (self, NULL, ZC_REPORT_CONFIRMED_FIRST) > 0)
            s_html_chart (out, "Confirmation latency over time (first node)", "ms", xmax,
                          lines + 6, 2);
    }
    free (values);
    s_html_resources (out, self, json, xmax);
    fprintf (out, "</body></html>\n");
    cJSON_Delete (json);
    return fclose (out) == 0? 0: -1;
}
