/*  =========================================================================
    bench_scale - helper of bench/scale.sh: builds long chains, times reads

        bench_scale build LEDGER TXS [PER_BLOCK [DIFFICULTY]]
        bench_scale get-blocks HOST:PORT FROM LIMIT [TIMES]
        bench_scale has-tx LEDGER [TIMES]

    build writes a chain of TXS signed transactions, PER_BLOCK (default 200)
    to a block, each block mined at DIFFICULTY (default 2) and signed by a
    miner key, straight into a new ledger file with the library, 50 blocks
    per SQL transaction: what a node would have written, without the hours
    of mining and gossip.  Prints {"blocks", "txs", "seconds"}.

    get-blocks asks a running node TIMES times (default 20) for get_blocks
    FROM LIMIT on one connection and prints {"blocks", "bytes", "ms_p50",
    "ms_max"}: blocks per reply, bytes of one reply, reply times.

    has-tx times zc_ledger_tx_height on a ledger for TIMES (default 100000)
    ids that are not in it and for as many that are (read first), and
    prints {"miss_us", "hit_us"}: what answering "is this transaction
    already in the chain" from the ledger's index costs per lookup, the
    figure that decides whether an in-memory filter in front would pay.
    =========================================================================
*/

#include "zchain.h"
#include <inttypes.h>
#include <sys/stat.h>

#define S_BLOCKS_PER_COMMIT 50

//  Mines block at difficulty by brute force over the nonce, then seals it.
static void
s_mine (zc_block_t *block, int difficulty, zc_keys_t *keys)
{
    char *preimage = zc_block_preimage (block);
    assert (preimage);
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 24);
    assert (text);
    memcpy (text, preimage, length);
    char hash [ZC_HASH_HEX + 1];
    for (uint64_t nonce = 0; ; nonce++) {
        int digits = snprintf (text + length, 24, "%" PRIu64, nonce);
        zc_sha256_hex (text, length + (size_t) digits, hash);
        if (zc_hash_meets (hash, difficulty)) {
            int rc = zc_block_seal (block, nonce, hash, "bench-builder", keys);
            assert (rc == 0);
            break;
        }
    }
    free (text);
    free (preimage);
}

static int
s_build (const char *path, int64_t total, size_t per_block, int difficulty)
{
    struct stat info;
    if (stat (path, &info) == 0) {
        fprintf (stderr, "bench_scale: %s exists; build writes a new ledger\n", path);
        return 1;
    }
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (path, &error);
    if (!ledger) {
        fprintf (stderr, "bench_scale: %s\n", error);
        free (error);
        return 1;
    }
    int64_t started = zc_clock_usecs ();
    zc_keys_t *miner = zc_keys_new ();
    zc_keys_t *client = zc_keys_new ();
    zc_block_t *parent = zc_block_genesis ();
    zc_block_t *batch [S_BLOCKS_PER_COMMIT];
    size_t batched = 0;
    zc_tx_t **txs = (zc_tx_t **) malloc (per_block * sizeof (zc_tx_t *));
    int64_t made = 0, index = 0;
    int rc = 0;
    while (made < total && rc == 0) {
        size_t count = 0;
        for (; count < per_block && made < total; count++, made++) {
            cJSON *data = cJSON_CreateObject ();
            cJSON_AddNumberToObject (data, "n", (double) made);
            cJSON_AddStringToObject (data, "asset", "scale benchmark");
            txs [count] = zc_tx_new_signed (client, data);
            cJSON_Delete (data);
        }
        char now [ZC_TIMESTAMP_LEN + 1];
        zc_timestamp_now (now);
        zc_block_t *below = batched? batch [batched - 1]: parent;
        zc_block_t *block = zc_block_new (++index, zc_block_hash (below), now, txs, count);
        s_mine (block, difficulty, miner);
        batch [batched++] = block;
        if (batched == S_BLOCKS_PER_COMMIT || made == total) {
            rc = zc_ledger_replace (ledger, zc_block_index (batch [0]) - 1, batch, batched);
            zc_block_destroy (&parent);
            parent = batch [batched - 1];
            for (size_t i = 0; i + 1 < batched; i++)
                zc_block_destroy (&batch [i]);
            batched = 0;
        }
    }
    free (txs);
    zc_block_destroy (&parent);
    zc_keys_destroy (&miner);
    zc_keys_destroy (&client);
    int64_t height = zc_ledger_height (ledger);
    int64_t rows = zc_ledger_tx_count (ledger);
    zc_ledger_destroy (&ledger);
    if (rc != 0) {
        fprintf (stderr, "bench_scale: writing %s failed\n", path);
        return 1;
    }
    printf ("{\"blocks\": %" PRId64 ", \"txs\": %" PRId64 ", \"seconds\": %.1f}\n",
            height, rows, (zc_clock_usecs () - started) / 1e6);
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y? -1: x > y;
}

static int
s_get_blocks (const char *address, int64_t from, int64_t limit, int times)
{
    const char *error = NULL;
    zc_client_t *client = zc_client_new (address, ZC_FRAMING_LINE, &error);
    if (!client) {
        fprintf (stderr, "bench_scale: %s: %s\n", address, error);
        return 1;
    }
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "type", "get_blocks");
    cJSON_AddNumberToObject (request, "from", (double) from);
    cJSON_AddNumberToObject (request, "limit", (double) limit);
    int64_t *usecs = (int64_t *) calloc ((size_t) times, sizeof (int64_t));
    int blocks = -1;
    size_t bytes = 0;
    int rc = 0;
    for (int i = 0; i < times && rc == 0; i++) {
        int64_t started = zc_clock_usecs ();
        cJSON *reply = zc_client_request (client, request, 30000);
        usecs [i] = zc_clock_usecs () - started;
        cJSON *list = cJSON_GetObjectItemCaseSensitive (reply, "blocks");
        if (!cJSON_IsArray (list)) {
            fprintf (stderr, "bench_scale: no blocks in the reply\n");
            rc = 1;
        }
        else {
            blocks = cJSON_GetArraySize (list);
            char *text = cJSON_PrintUnformatted (reply);
            bytes = text? strlen (text): 0;
            free (text);
        }
        cJSON_Delete (reply);
    }
    if (rc == 0) {
        qsort (usecs, (size_t) times, sizeof (int64_t), s_compare);
        printf ("{\"blocks\": %d, \"bytes\": %zu, \"ms_p50\": %.2f, \"ms_max\": %.2f}\n",
                blocks, bytes, usecs [times / 2] / 1000.0, usecs [times - 1] / 1000.0);
    }
    free (usecs);
    cJSON_Delete (request);
    zc_client_destroy (&client);
    return rc;
}

static int
s_has_tx (const char *path, int times)
{
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (path, &error);
    if (!ledger) {
        fprintf (stderr, "bench_scale: %s\n", error);
        free (error);
        return 1;
    }
    //  Ids that are in it: those of blocks spread over the chain
    int64_t height = zc_ledger_height (ledger);
    char (*known) [ZC_HASH_HEX + 1] = calloc ((size_t) times, ZC_HASH_HEX + 1);
    int have = 0;
    for (int64_t index = 1; index <= height && have < times;
         index += height / 64 + 1) {
        zc_block_t *block = zc_ledger_block (ledger, index);
        for (size_t i = 0; block && i < zc_block_tx_count (block) && have < times; i++)
            snprintf (known [have++], ZC_HASH_HEX + 1, "%s", zc_tx_id (zc_block_tx (block, i)));
        zc_block_destroy (&block);
    }
    int64_t found = 0;
    int64_t started = zc_clock_usecs ();
    for (int i = 0; i < times; i++) {
        char id [ZC_HASH_HEX + 1];
        char seed [32];
        snprintf (seed, sizeof seed, "missing %d", i);
        zc_sha256_hex (seed, strlen (seed), id);
        found += zc_ledger_tx_height (ledger, id) >= 0;
    }
    double miss = (double) (zc_clock_usecs () - started) / times;
    started = zc_clock_usecs ();
    for (int i = 0; i < times; i++)
        found += zc_ledger_tx_height (ledger, known [i % (have? have: 1)]) >= 0;
    double hit = (double) (zc_clock_usecs () - started) / times;
    printf ("{\"miss_us\": %.2f, \"hit_us\": %.2f, \"found\": %" PRId64 "}\n", miss, hit, found);
    free (known);
    zc_ledger_destroy (&ledger);
    return 0;
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    if (argc >= 4 && streq (argv [1], "build"))
        return s_build (argv [2], atoll (argv [3]),
                        argc > 4? (size_t) atoll (argv [4]): 200,
                        argc > 5? atoi (argv [5]): 2);
    if (argc >= 5 && streq (argv [1], "get-blocks"))
        return s_get_blocks (argv [2], atoll (argv [3]), atoll (argv [4]),
                             argc > 5? atoi (argv [5]): 20);
    if (argc >= 3 && streq (argv [1], "has-tx"))
        return s_has_tx (argv [2], argc > 3? atoi (argv [3]): 100000);
    fprintf (stderr, "usage: bench_scale build LEDGER TXS [PER_BLOCK [DIFFICULTY]]\n"
                     "       bench_scale get-blocks HOST:PORT FROM LIMIT [TIMES]\n"
                     "       bench_scale has-tx LEDGER [TIMES]\n");
    return 2;
}
