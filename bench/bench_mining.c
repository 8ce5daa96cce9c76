/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    bench_mining - mining throughput and stop latency of the miner pool

        bench_mining mining [--seconds S] [--rounds R] [--json FILE] [--model NAME]
        bench_mining stop [--reps N] [--json FILE] [--model NAME]
        bench_mining inject -a HOST:PORT[,...] [--blocks N] [--interval-ms M] ...

    mining: hashes per second of the real miner pool actor (zc_miner_actor)
    for each SHA-256 kernel this machine runs (avx512, avx2, sha-ni,
    portable; the pool's config forces each in turn), with one thread and
    with every core, mining a job no one can meet (difficulty 64) over two
    preimages: a block of ~100 signed transactions (the "100-tx block")
    and the nearest larger block whose tail after its last whole 64-byte
    block leaves every nonce one compression (the "1-compression block").
    Beside them, measured in the same run: the raw SHA-256 compression
    rate of this machine (OpenSSL's SHA256_Transform over one 64-byte block
    in a loop, per thread, with 1 and with every thread), the bulk rate
    (SHA256_Update over 64 KiB) and a naive miner that takes SHA256 () of
    the whole preimage + nonce for every nonce.  The result states, for
    each block, the layout of every digit count in the pool's search order
    (zc_pow.c): how many compressions a nonce costs there and so where the
    pool looks first.  Every measurement runs in R interleaved rounds and
    the best counts (the machine may be shared).

    stop: with every pool thread mining (STATS busy == threads), sends
    STOP and polls STATS in a tight loop until busy == 0; the time from
    STOP to the first busy == 0, over N repetitions, p50 / p99 / max.
    That is what the validator does when a valid block arrives.

    inject: a helper of bench/propagation.sh, no figures of its own: mines
    a chain of one-transaction blocks and sends each to a node as new_block.

    Results are JSON on stdout, or in FILE with --json: the machine, and
    a "figures" list where each figure stands beside its reference.
    =========================================================================
*/

#include "../src/actors/zc_actors.h"
#include <openssl/sha.h>

//  OpenSSL 3 deprecates the low-level SHA256_* calls, but only they give
//  one compression from a kept midstate (SHA256_Transform): the warning
//  is silenced here, in the files that mine, and nowhere else.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define S_BLOCK_TXS     100         //  transactions in the realistic block
#define S_BATCH         4096        //  loop turns between looks at the clock
#define S_UNREACHABLE   64          //  a difficulty no hash meets
#define S_MAX_THREADS   64          //  threads of a raw or naive run, at most

//  What one measuring thread is told and what it reports
typedef struct {
    int mode;                   //  S_RAW or S_NAIVE
    const char *preimage;       //  naive: the preimage
    size_t length;              //  naive: its length
    double seconds;             //  how long to run
    pthread_barrier_t *start;   //  every thread starts together
    uint64_t count;             //  compressions or hashes done
    double elapsed;             //  seconds actually run
    pthread_t thread;           //  the thread
} s_runner_t;

#define S_RAW   0           //  SHA256_Transform of one block per call
#define S_NAIVE 1           //  SHA256 () of the whole preimage per nonce
#define S_BULK  2           //  SHA256_Update over 64 KiB: many blocks per call

//  Command-line options
typedef struct {
    const char *command;        //  "mining" or "stop"
    double seconds;             //  mining: seconds per measurement
    int rounds;                 //  mining: rounds, the best counts
    int reps;                   //  stop: repetitions
    const char *json;           //  output file, or NULL for stdout
    const char *model;          //  CPU model name, or NULL to read it
    const char *address;        //  inject: "host:port,host:port,..."
    int blocks;                 //  inject: blocks to send
    int interval_ms;            //  inject: pause between blocks
    int difficulty;             //  inject: the network's difficulty
    const char *tag;            //  inject: marks the transactions' data
} s_options_t;

//  ---------------------------------------------------------------------
//  Clocks, statistics and the machine

//  Monotonic seconds as a double.
static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

//  Sleeps for usecs microseconds.
static void
s_sleep_usecs (int64_t usecs)
{
    struct timespec pause = { (time_t) (usecs / 1000000), (long) (usecs % 1000000) * 1000 };
    while (nanosleep (&pause, &pause) == -1)
        ;
}

//  Orders doubles for qsort.
static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y? 1: 0;
}

//  The p-th percentile (0..100) of count sorted values, nearest rank.
static double
s_percentile (const double *sorted, size_t count, double p)
{
    if (count == 0)
        return 0;
    size_t rank = (size_t) ((p / 100.0) * (double) count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return sorted [rank - 1];
}

//  The CPU model: the option, else /proc/cpuinfo's model name.  Caller frees.
static char *
s_cpu_model (const char *option)
{
    if (option && *option)
        return strdup (option);
    FILE *file = fopen ("/proc/cpuinfo", "r");
    char line [512];
    char *model = NULL;
    while (file && !model && fgets (line, sizeof line, file)) {
        char *colon = strchr (line, ':');
        if (colon && strncmp (line, "model name", 10) == 0) {
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            value [strcspn (value, "\n")] = 0;
            model = strdup (value);
        }
    }
    if (file)
        fclose (file);
    return model? model: strdup ("unknown");
}

//  Number of online cores.
static int
s_cores (void)
{
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    return cores < 1? 1: cores > S_MAX_THREADS? S_MAX_THREADS: (int) cores;
}

//  A new result document: benchmark name and the machine.
static cJSON *
s_result_new (const char *name, s_options_t *options)
{
    cJSON *result = cJSON_CreateObject ();
    cJSON_AddStringToObject (result, "benchmark", name);
    cJSON *machine = cJSON_AddObjectToObject (result, "machine");
    char *model = s_cpu_model (options->model);
    cJSON_AddStringToObject (machine, "model", model);
    free (model);
    cJSON_AddNumberToObject (machine, "cores", s_cores ());
    double load [1] = { 0 };
    if (getloadavg (load, 1) == 1)
        cJSON_AddNumberToObject (machine, "load_average_at_start", load [0]);
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    cJSON_AddStringToObject (result, "started", now);
    cJSON_AddArrayToObject (result, "figures");
    return result;
}

//  Adds a figure beside its reference; ratio is value / reference.
//  target_ratio > 0 gives a target "ratio >= target_ratio", target_max
//  > 0 a target "value < target_max"; both 0: no target.
static void
s_figure (cJSON *result, const char *name, double value, const char *unit,
          const char *reference, double reference_value, double target_ratio,
          double target_max)
{
    cJSON *figure = cJSON_CreateObject ();
    cJSON_AddStringToObject (figure, "name", name);
    cJSON_AddNumberToObject (figure, "value", value);
    cJSON_AddStringToObject (figure, "unit", unit);
    if (reference) {
        cJSON_AddStringToObject (figure, "reference", reference);
        cJSON_AddNumberToObject (figure, "reference_value", reference_value);
        if (reference_value > 0)
            cJSON_AddNumberToObject (figure, "ratio", value / reference_value);
    }
    if (target_ratio > 0) {
        char target [64];
        snprintf (target, sizeof target, "ratio >= %g", target_ratio);
        cJSON_AddStringToObject (figure, "target", target);
        cJSON_AddBoolToObject (figure, "met", reference_value > 0
                               && value / reference_value >= target_ratio);
    }
    else
    if (target_max > 0) {
        char target [64];
        snprintf (target, sizeof target, "< %g %s", target_max, unit);
        cJSON_AddStringToObject (figure, "target", target);
        cJSON_AddBoolToObject (figure, "met", value < target_max);
    }
    cJSON_AddItemToArray (cJSON_GetObjectItem (result, "figures"), figure);
}

//  Writes the result to the file or stdout; returns 0 or -1.
static int
s_result_write (cJSON *result, s_options_t *options)
{
    char *text = cJSON_Print (result);
    FILE *file = options->json? fopen (options->json, "w"): stdout;
    if (!file) {
        fprintf (stderr, "bench_mining: cannot write %s\n", options->json);
        free (text);
        return -1;
    }
    fprintf (file, "%s\n", text);
    if (file != stdout)
        fclose (file);
    free (text);
    return 0;
}

//  ---------------------------------------------------------------------
//  The block and its preimage

//  A block at index 1 of count signed purchase-like transactions; returns
//  its preimage.  Caller frees.
static char *
s_preimage (size_t count)
{
    zc_keys_t *keys [4];
    for (int i = 0; i < 4; i++)
        keys [i] = zc_keys_new ();
    zc_tx_t **txs = (zc_tx_t **) malloc (count * sizeof (zc_tx_t *));
    for (size_t i = 0; i < count; i++) {
        char text [256];
        snprintf (text, sizeof text,
            "{\"tx_id\":\"purchase-%06zu\",\"buyer\":\"buyer-%zu\",\"seller\":\"seller-%zu\","
            "\"asset_id\":\"asset-%zu\",\"asset_name\":\"Painting number %zu\","
            "\"price\":%zu.5,\"timestamp\":\"2024-05-01T12:00:00Z\"}",
            i, i % 17, i % 5, i, i, 10 + i % 90);
        cJSON *data = cJSON_Parse (text);
        txs [i] = zc_tx_new_signed (keys [i % 4], data);
        cJSON_Delete (data);
    }
    zc_block_t *genesis = zc_block_genesis ();
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis), now, txs, count);
    char *preimage = zc_block_preimage (block);
    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
    free (txs);
    for (int i = 0; i < 4; i++)
        zc_keys_destroy (&keys [i]);
    return preimage;
}

//  Describes the search order's layouts for a preimage: per digit count,
//  in the order the pool takes them, the layout and its cost.
static cJSON *
s_layouts (const char *preimage)
{
    zc_pow_t *pow = zc_pow_new (ZC_POW_PORTABLE, preimage, strlen (preimage), 64);
    cJSON *list = cJSON_CreateArray ();
    int last_digits = 0;
    for (uint64_t chunk = 0; chunk < zc_pow_chunks (pow); ) {
        uint64_t from, to;
        zc_pow_chunk (pow, chunk, &from, &to);
        char text [24];
        int digits = snprintf (text, sizeof text, "%" PRIu64, from);
        if (digits != last_digits) {
            double cost = 0;
            const char *layout = zc_pow_layout (pow, from, &cost);
            cJSON *item = cJSON_CreateObject ();
            cJSON_AddNumberToObject (item, "digits", digits);
            cJSON_AddNumberToObject (item, "first_nonce", (double) from);
            cJSON_AddStringToObject (item, "layout", layout);
            cJSON_AddNumberToObject (item, "compressions_per_nonce", cost);
            cJSON_AddItemToArray (list, item);
            last_digits = digits;
        }
        //  Jump to the next digit count: chunks of 10^4 within one,
        //  the last digit count ending at 2^53
        uint64_t top = 10;
        while (top <= from && top < UINT64_MAX / 10)
            top *= 10;
        if (top > (1ULL << 53) + 1)
            top = (1ULL << 53) + 1;
        chunk += to - from < 10000? 1: (top - from + 9999) / 10000;
    }
    zc_pow_destroy (&pow);
    return list;
}

//  One line: the order's layouts, e.g. "1-6 digits: one block; 16: spill"
static void
s_layouts_text (cJSON *layouts, char *text, size_t size)
{
    text [0] = 0;
    size_t used = 0;
    cJSON *item = NULL;
    cJSON_ArrayForEach (item, layouts) {
        int digits = cJSON_GetObjectItem (item, "digits")->valueint;
        const char *layout = cJSON_GetObjectItem (item, "layout")->valuestring;
        double cost = cJSON_GetObjectItem (item, "compressions_per_nonce")->valuedouble;
        if (used < size)
            used += (size_t) snprintf (text + used, size - used, "%s%d: %s (%.1f)",
                                       used? ", ": "", digits, layout, cost);
    }
}

//  ---------------------------------------------------------------------
//  Raw compression and naive miner threads

//  A measuring thread: raw compressions or naive whole-preimage hashes.
static void *
s_runner_main (void *args)
{
    s_runner_t *self = (s_runner_t *) args;
    uint64_t count = 0;
    SHA256_CTX context;
    SHA256_Init (&context);
    unsigned char block [SHA256_CBLOCK];
    memset (block, 'a', sizeof block);
    unsigned char digest [SHA256_DIGEST_LENGTH];
    char *buffer = NULL;
    if (self->mode == S_NAIVE) {
        buffer = (char *) malloc (self->length + 24);
        memcpy (buffer, self->preimage, self->length);
    }
    else
    if (self->mode == S_BULK)
        buffer = (char *) zmalloc (S_BATCH * SHA256_CBLOCK / 4);
    uint64_t nonce = 0;
    pthread_barrier_wait (self->start);
    double start = s_now (), now = start;
    while (now - start < self->seconds) {
        if (self->mode == S_RAW)
            for (int i = 0; i < S_BATCH; i++) {
                block [0] = (unsigned char) i;
                SHA256_Transform (&context, block);
            }
        else
        if (self->mode == S_BULK)
            SHA256_Update (&context, buffer, S_BATCH * SHA256_CBLOCK / 4);
        else
            for (int i = 0; i < S_BATCH / 64; i++, nonce++) {
                int digits = snprintf (buffer + self->length, 24, "%" PRIu64, nonce);
                SHA256 ((unsigned char *) buffer, self->length + (size_t) digits, digest);
            }
        count += self->mode == S_RAW? S_BATCH: self->mode == S_BULK? S_BATCH / 4: S_BATCH / 64;
        now = s_now ();
    }
    self->elapsed = now - start;
    self->count = count;
    free (buffer);
    return NULL;
}

//  Runs threads runners in parallel; returns the total count per second.
static double
s_run_parallel (int mode, int threads, double seconds, const char *preimage)
{
    s_runner_t runners [S_MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init (&start, NULL, (unsigned) threads);
    for (int i = 0; i < threads; i++) {
        runners [i] = (s_runner_t) { .mode = mode, .preimage = preimage,
            .length = preimage? strlen (preimage): 0, .seconds = seconds, .start = &start };
        pthread_create (&runners [i].thread, NULL, s_runner_main, &runners [i]);
    }
    double rate = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join (runners [i].thread, NULL);
        rate += (double) runners [i].count / runners [i].elapsed;
    }
    pthread_barrier_destroy (&start);
    return rate;
}

//  ---------------------------------------------------------------------
//  The real miner pool

//  Asks the pool for its counters.
static void
s_stats (zactor_t *pool, uint64_t *hashes_p, int *busy_p)
{
    bool malformed = false;
    zc_mine_msg_send_stats (pool);
    zc_mine_msg_t *stats = zc_mine_msg_recv (pool, &malformed);
    *hashes_p = stats? zc_mine_msg_hashes (stats): 0;
    *busy_p = stats? zc_mine_msg_busy (stats): -1;
    zc_mine_msg_destroy (&stats);
}

//  Waits until busy == want threads (or 5 s pass); true if it happened.
static bool
s_await_busy (zactor_t *pool, int want)
{
    double deadline = s_now () + 5;
    uint64_t hashes;
    int busy = -1;
    while (s_now () < deadline) {
        s_stats (pool, &hashes, &busy);
        if (busy == want)
            return true;
        s_sleep_usecs (50);
    }
    return false;
}

//  Mines an unreachable job on a pool of threads for seconds; returns
//  hashes per second and sets *from_p / *to_p to the hash counter's span.
static double
s_pool_rate (int threads, int kernel, const char *preimage, double seconds,
             uint64_t *from_p, uint64_t *to_p)
{
    zc_node_config_t config = { .miner_threads = threads, .miner_kernel = kernel };
    zactor_t *pool = zactor_new (zc_miner_actor, &config);
    zc_mine_msg_send_job (pool, 1, S_UNREACHABLE, preimage);
    double rate = 0;
    if (s_await_busy (pool, threads)) {
        s_sleep_usecs (200000);         //  warm up
        uint64_t from, to;
        int busy;
        s_stats (pool, &from, &busy);
        double start = s_now ();
        s_sleep_usecs ((int64_t) (seconds * 1e6));
        s_stats (pool, &to, &busy);
        double elapsed = s_now () - start;
        rate = (double) (to - from) / elapsed;
        *from_p = from;
        *to_p = to;
    }
    else
        fprintf (stderr, "bench_mining: pool of %d never got busy\n", threads);
    zc_mine_msg_send_stop (pool);
    zactor_destroy (&pool);
    return rate;
}

//  ---------------------------------------------------------------------
//  Benchmarks

//  mining: every kernel's pool vs raw compression vs naive miner.
static int
s_bench_mining (s_options_t *options)
{
    int cores = s_cores ();
    double seconds = options->seconds;
    cJSON *result = s_result_new ("mining", options);

    //  The realistic block, and the nearest larger one whose tail leaves
    //  every nonce up to 2^53 in one block (tail + 16 digits + 9 <= 64)
    char *preimage = s_preimage (S_BLOCK_TXS);
    size_t tail = strlen (preimage) % 64;
    char *short_preimage = NULL;
    size_t short_count = S_BLOCK_TXS;
    for (size_t count = S_BLOCK_TXS + 1; count < S_BLOCK_TXS + 64 && !short_preimage; count++) {
        char *candidate = s_preimage (count);
        if (strlen (candidate) % 64 <= 64 - 16 - 9) {
            short_preimage = candidate;
            short_count = count;
        }
        else
            free (candidate);
    }
    if (!short_preimage) {
        fprintf (stderr, "bench_mining: no block of %d..%d transactions has a short tail\n",
                 S_BLOCK_TXS + 1, S_BLOCK_TXS + 63);
        free (preimage);
        cJSON_Delete (result);
        return -1;
    }
    size_t short_tail = strlen (short_preimage) % 64;
    cJSON *layouts = s_layouts (preimage);
    cJSON *short_layouts = s_layouts (short_preimage);
    char layouts_text [512], short_layouts_text [512];
    s_layouts_text (layouts, layouts_text, sizeof layouts_text);
    s_layouts_text (short_layouts, short_layouts_text, sizeof short_layouts_text);
    fprintf (stderr, "mining: %d-tx block %zu bytes, tail %zu: search order by digit count: %s\n",
             S_BLOCK_TXS, strlen (preimage), tail, layouts_text);
    fprintf (stderr, "mining: 1-compression block (%zu txs) %zu bytes, tail %zu: %s\n",
             short_count, strlen (short_preimage), short_tail, short_layouts_text);

    //  The kernels this machine runs, fastest first; the pool's default
    int kernels [ZC_POW_KERNELS];
    int kernel_count = 0;
    int best = zc_pow_kernel_best ();
    kernels [kernel_count++] = best;
    for (int kernel = ZC_POW_KERNELS - 1; kernel >= 0; kernel--)
        if (kernel != best && !zc_pow_kernel_unusable (kernel))
            kernels [kernel_count++] = kernel;

    //  Rounds of every measurement in turn; the best of each counts, as
    //  the one least disturbed by whatever else the machine runs
    double raw_1 = 0, raw_n = 0, bulk = 0, naive = 0;
    double pool [ZC_POW_KERNELS][2][2];     //  [kernel][100-tx, 1-compression][1, n threads]
    memset (pool, 0, sizeof pool);
    const char *blocks [2] = { preimage, short_preimage };
    for (int round = 0; round < options->rounds; round++) {
        double rate = s_run_parallel (S_RAW, 1, seconds, NULL);
        raw_1 = rate > raw_1? rate: raw_1;
        rate = s_run_parallel (S_RAW, cores, seconds, NULL);
        raw_n = rate > raw_n? rate: raw_n;
        rate = s_run_parallel (S_BULK, 1, seconds, NULL);
        bulk = rate > bulk? rate: bulk;
        rate = s_run_parallel (S_NAIVE, 1, seconds, preimage);
        naive = rate > naive? rate: naive;
        for (int k = 0; k < kernel_count; k++)
            for (int block = 0; block < 2; block++)
                for (int n = 0; n < 2; n++) {
                    uint64_t from, to;
                    rate = s_pool_rate (n? cores: 1, kernels [k], blocks [block], seconds,
                                        &from, &to);
                    double *kept = &pool [kernels [k]][block][n];
                    *kept = rate > *kept? rate: *kept;
                }
        fprintf (stderr, "mining: round %d: raw %.2fM/s (1), %.2fM/s (%d); bulk %.2fM/s;"
                 " naive %.0f/s\n", round + 1, raw_1 / 1e6, raw_n / 1e6, cores, bulk / 1e6, naive);
        for (int k = 0; k < kernel_count; k++) {
            double (*p) [2] = pool [kernels [k]];
            fprintf (stderr, "mining: round %d: %-8s 100-tx %.2fM/s (1), %.2fM/s (%d);"
                     " 1-compression %.2fM/s (1), %.2fM/s (%d)\n", round + 1,
                     zc_pow_kernel_name (kernels [k]), p [0][0] / 1e6, p [0][1] / 1e6, cores,
                     p [1][0] / 1e6, p [1][1] / 1e6, cores);
        }
    }

    char name [256], reference [160];
    snprintf (reference, sizeof reference, "raw SHA256_Transform/s per thread, %d threads", cores);
    cJSON *details = cJSON_AddObjectToObject (result, "details");
    cJSON *per_kernel = cJSON_AddObjectToObject (details, "kernels");
    for (int k = 0; k < kernel_count; k++) {
        int kernel = kernels [k];
        const char *kernel_name = zc_pow_kernel_name (kernel);
        bool is_best = kernel == best;
        double (*p) [2] = pool [kernel];
        const char *what [2] = { "100-tx block", "1-compression block" };
        char block_names [2][96];
        snprintf (block_names [0], sizeof block_names [0], "%d-tx block, tail %zu B",
                  S_BLOCK_TXS, tail);
        snprintf (block_names [1], sizeof block_names [1], "1-compression block: %zu txs, "
                  "tail %zu B", short_count, short_tail);
        //  Per thread against the raw compression rate, 1 and n threads
        for (int block = 1; block >= 0; block--) {
            snprintf (name, sizeof name, "%s%s: pool hashes/s, 1 thread (%s)", kernel_name,
                      is_best? " (the pool's choice)": "", block_names [block]);
            s_figure (result, name, p [block][0], "hashes/s", "raw SHA256_Transform/s, 1 thread",
                      raw_1, is_best && block == 1? 2.0: 0, 0);
            snprintf (name, sizeof name, "%s: pool hashes/s per thread, %d threads (%s)",
                      kernel_name, cores, block_names [block]);
            s_figure (result, name, p [block][1] / cores, "hashes/s", reference, raw_n / cores,
                      is_best && block == 1? 2.0: 0, 0);
        }
        //  The 100-tx block against the 1-compression block
        snprintf (name, sizeof name, "%s: pool hashes/s, 1 thread, %s", kernel_name, what [0]);
        snprintf (reference, sizeof reference, "%s: pool hashes/s, 1 thread, %s",
                  kernel_name, what [1]);
        s_figure (result, name, p [0][0], "hashes/s", reference, p [1][0], is_best? 0.9: 0, 0);
        snprintf (name, sizeof name, "%s: pool hashes/s, %d threads, %s", kernel_name, cores,
                  what [0]);
        snprintf (reference, sizeof reference, "%s: pool hashes/s, %d threads, %s",
                  kernel_name, cores, what [1]);
        s_figure (result, name, p [0][1], "hashes/s", reference, p [1][1], is_best? 0.9: 0, 0);
        //  Scaling: n threads against 1
        for (int block = 1; block >= 0; block--) {
            snprintf (name, sizeof name, "%s: pool hashes/s, %d threads (%s)", kernel_name,
                      cores, what [block]);
            snprintf (reference, sizeof reference, "%s: pool hashes/s, 1 thread", kernel_name);
            s_figure (result, name, p [block][1], "hashes/s", reference, p [block][0],
                      is_best && cores >= 2? 0.95 * cores: 0, 0);
        }
        snprintf (reference, sizeof reference, "raw SHA256_Transform/s per thread, %d threads",
                  cores);
        cJSON *entry = cJSON_AddObjectToObject (per_kernel, kernel_name);
        cJSON_AddNumberToObject (entry, "lanes", zc_pow_kernel_lanes (kernel));
        cJSON_AddBoolToObject (entry, "chosen_by_default", is_best);
        cJSON_AddNumberToObject (entry, "pool_100tx_1", p [0][0]);
        cJSON_AddNumberToObject (entry, "pool_100tx_n", p [0][1]);
        cJSON_AddNumberToObject (entry, "pool_1comp_1", p [1][0]);
        cJSON_AddNumberToObject (entry, "pool_1comp_n", p [1][1]);
        cJSON_AddNumberToObject (entry, "per_thread_over_raw_1", raw_1 > 0? p [1][0] / raw_1: 0);
        cJSON_AddNumberToObject (entry, "per_thread_over_raw_n",
                                 raw_n > 0? p [1][1] / raw_n: 0);
        cJSON_AddNumberToObject (entry, "scaling_1comp", p [1][0] > 0? p [1][1] / p [1][0]: 0);
        cJSON_AddNumberToObject (entry, "scaling_100tx", p [0][0] > 0? p [0][1] / p [0][0]: 0);
        cJSON_AddNumberToObject (entry, "100tx_over_1comp_1",
                                 p [1][0] > 0? p [0][0] / p [1][0]: 0);
    }
    snprintf (name, sizeof name, "raw SHA256_Transform/s, %d threads", cores);
    s_figure (result, name, raw_n, "compressions/s", "raw SHA256_Transform/s, 1 thread",
              raw_1, 0, 0);
    double naive_per_nonce = (double) ((strlen (preimage) + 8 + 1 + 8 + 63) / 64);
    snprintf (name, sizeof name, "naive miner hashes/s, 1 thread (SHA256 () of %zu B "
              "per nonce: %.0f compressions)", strlen (preimage), naive_per_nonce);
    s_figure (result, name, naive, "hashes/s", "raw SHA256_Transform/s, 1 thread", raw_1, 0, 0);
    s_figure (result, "bulk compressions/s, 1 thread (SHA256_Update over 64 KiB)", bulk,
              "compressions/s", "raw SHA256_Transform/s, 1 thread", raw_1, 0, 0);

    cJSON_AddNumberToObject (details, "seconds_per_measurement", seconds);
    cJSON_AddNumberToObject (details, "rounds", options->rounds);
    cJSON_AddNumberToObject (details, "threads_n", cores);
    cJSON_AddStringToObject (details, "default_kernel", zc_pow_kernel_name (best));
    cJSON_AddNumberToObject (details, "preimage_bytes", (double) strlen (preimage));
    cJSON_AddNumberToObject (details, "preimage_txs", S_BLOCK_TXS);
    cJSON_AddNumberToObject (details, "tail_bytes", (double) tail);
    cJSON_AddItemToObject (details, "search_order", layouts);
    cJSON_AddStringToObject (details, "search_order_text", layouts_text);
    cJSON_AddNumberToObject (details, "one_compression_block_txs", (double) short_count);
    cJSON_AddNumberToObject (details, "one_compression_block_bytes",
                             (double) strlen (short_preimage));
    cJSON_AddNumberToObject (details, "one_compression_tail_bytes", (double) short_tail);
    cJSON_AddItemToObject (details, "one_compression_search_order", short_layouts);
    cJSON_AddNumberToObject (details, "raw_1", raw_1);
    cJSON_AddNumberToObject (details, "raw_n", raw_n);
    cJSON_AddNumberToObject (details, "naive_1", naive);
    cJSON_AddNumberToObject (details, "bulk_1", bulk);
    cJSON_AddNumberToObject (details, "naive_compressions_per_nonce", naive_per_nonce);
    cJSON_AddNumberToObject (details, "scaling_raw", raw_1 > 0? raw_n / raw_1: 0);
    double load [1] = { 0 };
    if (getloadavg (load, 1) == 1)
        cJSON_AddNumberToObject (details, "load_average_at_end", load [0]);
    int rc = s_result_write (result, options);
    cJSON_Delete (result);
    free (preimage);
    free (short_preimage);
    return rc;
}

//  Measures STOP latency on a pool of threads over reps, polling STATS
//  with pause usecs between polls (0: a tight loop); fills the sorted
//  latencies (usecs) and returns how many were measured.  Also measures a
//  STATS round trip and the time of one 1024-nonce check interval.
static size_t
s_stop_latencies (int threads, const char *preimage, int reps, int pause,
                  double *latencies, double *round_trip_p, double *interval_p)
{
    zc_node_config_t config = { .miner_threads = threads, .miner_kernel = -1 };
    zactor_t *pool = zactor_new (zc_miner_actor, &config);
    size_t count = 0;
    unsigned seed = 5;
    //  What one STATS round trip costs, with the pool idle
    double trips [64];
    for (int i = 0; i < 64; i++) {
        uint64_t hashes;
        int busy;
        double start = s_now ();
        s_stats (pool, &hashes, &busy);
        trips [i] = (s_now () - start) * 1e6;
    }
    qsort (trips, 64, sizeof (double), s_compare);
    *round_trip_p = s_percentile (trips, 64, 50);
    //  How long one check interval (1024 nonces) lasts at this pool's rate
    zc_mine_msg_send_job (pool, 1, S_UNREACHABLE, preimage);
    *interval_p = 0;
    if (s_await_busy (pool, threads)) {
        uint64_t from, to;
        int busy;
        s_stats (pool, &from, &busy);
        double start = s_now ();
        s_sleep_usecs (300000);
        s_stats (pool, &to, &busy);
        double per_thread = (double) (to - from) / (s_now () - start) / threads;
        *interval_p = per_thread > 0? 1024 / per_thread * 1e6: 0;
    }

    for (int rep = 0; rep < reps; rep++) {
        zc_mine_msg_send_job (pool, (uint64_t) rep + 1, S_UNREACHABLE, preimage);
        if (!s_await_busy (pool, threads)) {
            fprintf (stderr, "bench_mining: pool of %d never got busy\n", threads);
            break;
        }
        //  Mine a little, so the stop lands anywhere in a check interval
        s_sleep_usecs (500 + rand_r (&seed) % 2000);
        double start = s_now ();
        zc_mine_msg_send_stop (pool);
        uint64_t hashes;
        int busy = threads;
        while (busy != 0 && s_now () - start < 5) {
            if (pause)
                s_sleep_usecs (pause);
            s_stats (pool, &hashes, &busy);
        }
        latencies [count++] = (s_now () - start) * 1e6;
    }
    zactor_destroy (&pool);
    qsort (latencies, count, sizeof (double), s_compare);
    return count;
}

//  stop: STOP to busy == 0, with every core and with one thread.
static int
s_bench_stop (s_options_t *options)
{
    int cores = s_cores ();
    cJSON *result = s_result_new ("stop_latency", options);
    char *preimage = s_preimage (S_BLOCK_TXS);
    double *latencies = (double *) malloc ((size_t) options->reps * sizeof (double));
    cJSON *details = cJSON_AddObjectToObject (result, "details");
    cJSON_AddNumberToObject (details, "repetitions", options->reps);
    //  Every core and one thread; polls in a tight loop (as asked), then
    //  with 50 us pauses, which leave the cores to the miner threads
    int runs [4][2] = { { cores, 0 }, { 1, 0 }, { cores, 50 }, { 1, 50 } };
    for (int run = 0; run < 4; run++) {
        int threads = runs [run][0];
        int pause = runs [run][1];
        if (run % 2 == 1 && cores == 1)
            continue;
        double round_trip = 0, interval = 0;
        size_t count = s_stop_latencies (threads, preimage, options->reps, pause,
                                         latencies, &round_trip, &interval);
        double p50 = s_percentile (latencies, count, 50);
        double p99 = s_percentile (latencies, count, 99);
        double max = count? latencies [count - 1]: 0;
        char how [64];
        snprintf (how, sizeof how, "%d thread%s, %s", threads, threads == 1? "": "s",
                  pause? "polls 50 us apart": "tight polling");
        fprintf (stderr, "stop: %s: p50 %.0f us, p99 %.0f us, max %.0f us "
                 "(STATS round trip %.1f us, check interval %.0f us)\n", how, p50, p99, max,
                 round_trip, interval);
        char name [128];
        snprintf (name, sizeof name, "stop latency p50 (%s)", how);
        s_figure (result, name, p50, "us", "one check interval: 1024 nonces at the pool's rate",
                  interval, 0, 0);
        snprintf (name, sizeof name, "stop latency p99 (%s)", how);
        s_figure (result, name, p99, "us", "one check interval: 1024 nonces at the pool's rate",
                  interval, 0, 1000);
        char key [64];
        snprintf (key, sizeof key, "threads_%d_%s", threads, pause? "paced": "tight");
        cJSON *run_json = cJSON_AddObjectToObject (details, key);
        cJSON_AddNumberToObject (run_json, "measured", (double) count);
        cJSON_AddNumberToObject (run_json, "poll_pause_us", pause);
        cJSON_AddNumberToObject (run_json, "p50_us", p50);
        cJSON_AddNumberToObject (run_json, "p90_us", s_percentile (latencies, count, 90));
        cJSON_AddNumberToObject (run_json, "p99_us", p99);
        cJSON_AddNumberToObject (run_json, "max_us", max);
        cJSON_AddNumberToObject (run_json, "stats_round_trip_us", round_trip);
        cJSON_AddNumberToObject (run_json, "check_interval_us", interval);
    }
    double load [1] = { 0 };
    if (getloadavg (load, 1) == 1)
        cJSON_AddNumberToObject (details, "load_average_at_end", load [0]);
    int rc = s_result_write (result, options);
    cJSON_Delete (result);
    free (latencies);
    free (preimage);
    return rc;
}

//  inject: mines a chain of one-transaction blocks on genesis and sends
//  each as new_block to the nodes in turn, interval_ms apart.  The nodes
//  never saw the transactions, so they are not mining: each block's
//  commits measure propagation alone.  Prints errors the nodes answer.
static int
s_bench_inject (s_options_t *options)
{
    char *addresses = strdup (options->address);
    zc_client_t *clients [64];
    int client_count = 0;
    char *cursor = NULL;
    for (char *address = strtok_r (addresses, ",", &cursor); address && client_count < 64;
         address = strtok_r (NULL, ",", &cursor)) {
        const char *error = NULL;
        clients [client_count] = zc_client_new (address, ZC_FRAMING_LINE, &error);
        if (!clients [client_count]) {
            fprintf (stderr, "bench_mining: cannot connect to %s: %s\n", address,
                     error? error: "?");
            break;
        }
        client_count++;
    }
    free (addresses);
    int rc = client_count > 0? 0: 1;
    zc_keys_t *keys = zc_keys_new ();
    //  A miner_id is a UUID (doc/PROTOCOL.md): a block with another one is
    //  refused, so the injector is one, made for the run
    char injector [40];
    zc_uuid_new (injector);
    zc_block_t *genesis = zc_block_genesis ();
    char prev_hash [ZC_HASH_HEX + 1];
    snprintf (prev_hash, sizeof prev_hash, "%s", zc_block_hash (genesis));
    zc_block_destroy (&genesis);
    for (int index = 1; rc == 0 && index <= options->blocks; index++) {
        char text [160];
        snprintf (text, sizeof text, "{\"bench\":\"propagation\",\"mode\":\"%s\",\"n\":%d}",
                  options->tag, index);
        cJSON *data = cJSON_Parse (text);
        zc_tx_t *txs [1] = { zc_tx_new_signed (keys, data) };
        cJSON_Delete (data);
        char now [ZC_TIMESTAMP_LEN + 1];
        zc_timestamp_now (now);
        zc_block_t *block = zc_block_new (index, prev_hash, now, txs, 1);
        //  Mine it the plain way: the difficulty is low
        char *preimage = zc_block_preimage (block);
        size_t length = strlen (preimage);
        char *buffer = (char *) malloc (length + 24);
        memcpy (buffer, preimage, length);
        char hash [ZC_HASH_HEX + 1];
        uint64_t nonce = 0;
        while (true) {
            int digits = snprintf (buffer + length, 24, "%" PRIu64, nonce);
            zc_sha256_hex (buffer, length + (size_t) digits, hash);
            if (zc_hash_meets (hash, options->difficulty))
                break;
            nonce++;
        }
        free (buffer);
        free (preimage);
        if (zc_block_seal (block, nonce, hash, injector, keys) != 0) {
            fprintf (stderr, "bench_mining: block %d cannot be sealed\n", index);
            rc = 1;
        }
        snprintf (prev_hash, sizeof prev_hash, "%s", hash);
        cJSON *message = cJSON_CreateObject ();
        cJSON_AddStringToObject (message, "type", "new_block");
        cJSON_AddStringToObject (message, "node_id", injector);
        cJSON_AddItemToObject (message, "data", zc_block_to_json (block));
        zc_client_t *client = clients [index % client_count];
        if (zc_client_send (client, message) != 0) {
            fprintf (stderr, "bench_mining: cannot send block %d\n", index);
            rc = 1;
        }
        cJSON_Delete (message);
        zc_block_destroy (&block);
        s_sleep_usecs ((int64_t) options->interval_ms * 1000);
        cJSON *reply = zc_client_recv (client, 0);
        if (reply) {
            char *reply_text = cJSON_PrintUnformatted (reply);
            fprintf (stderr, "bench_mining: block %d: node answered %s\n", index, reply_text);
            free (reply_text);
            cJSON_Delete (reply);
        }
    }
    for (int i = 0; i < client_count; i++)
        zc_client_destroy (&clients [i]);
    zc_keys_destroy (&keys);
    return rc;
}

//  Prints usage to the given stream.
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: bench_mining mining [--seconds S] [--rounds R] [--json FILE] [--model NAME]\n"
        "       bench_mining stop [--reps N] [--json FILE] [--model NAME]\n"
        "       bench_mining inject -a HOST:PORT[,...] [--blocks N] [--interval-ms M]\n"
        "                    [--difficulty D] [--tag TEXT]\n"
        "  mining      pool hashes/s per kernel vs raw SHA-256 compressions vs a naive miner\n"
        "  stop        STOP to every miner thread idle, p50/p99 over N repetitions\n"
        "  --seconds S seconds per mining measurement (default 1)\n"
        "  --rounds R  rounds of every mining measurement; the best counts (default 3)\n"
        "  --reps N    stop repetitions (default 200)\n"
        "  inject      mine one-transaction blocks on genesis and send each as\n"
        "              new_block to the nodes in turn (for bench/propagation.sh)\n"
        "  --blocks N, --interval-ms M, --difficulty D, --tag TEXT  (100, 50, 2, inject)\n"
        "  --json FILE write the result there (default: stdout)\n"
        "  --model NAME CPU model to record (default: /proc/cpuinfo model name)\n");
}

int
main (int argc, char *argv [])
{
    s_options_t options = { .seconds = 1, .rounds = 3, .reps = 200, .blocks = 100,
                            .interval_ms = 50, .difficulty = 2, .tag = "inject" };
    for (int arg = 1; arg < argc; arg++) {
        const char *value = arg + 1 < argc? argv [arg + 1]: NULL;
        if (streq (argv [arg], "--help") || streq (argv [arg], "-h")) {
            s_usage (stdout);
            return 0;
        }
        else
        if (streq (argv [arg], "--seconds") && value) {
            options.seconds = atof (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--rounds") && value) {
            options.rounds = atoi (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--reps") && value) {
            options.reps = atoi (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--json") && value) {
            options.json = value;
            arg++;
        }
        else
        if (streq (argv [arg], "-a") && value) {
            options.address = value;
            arg++;
        }
        else
        if (streq (argv [arg], "--blocks") && value) {
            options.blocks = atoi (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--interval-ms") && value) {
            options.interval_ms = atoi (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--difficulty") && value) {
            options.difficulty = atoi (value);
            arg++;
        }
        else
        if (streq (argv [arg], "--tag") && value) {
            options.tag = value;
            arg++;
        }
        else
        if (streq (argv [arg], "--model") && value) {
            options.model = value;
            arg++;
        }
        else
        if (!options.command && argv [arg][0] != '-')
            options.command = argv [arg];
        else {
            fprintf (stderr, "bench_mining: bad argument %s\n", argv [arg]);
            s_usage (stderr);
            return 2;
        }
    }
    if (!options.command || options.seconds <= 0 || options.rounds <= 0
    ||  options.reps <= 0) {
        s_usage (stderr);
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    if (streq (options.command, "mining"))
        return s_bench_mining (&options) == 0? 0: 1;
    if (streq (options.command, "stop"))
        return s_bench_stop (&options) == 0? 0: 1;
    if (streq (options.command, "inject") && options.address)
        return s_bench_inject (&options);
    fprintf (stderr, "bench_mining: unknown benchmark %s\n", options.command);
    s_usage (stderr);
    return 2;
}
