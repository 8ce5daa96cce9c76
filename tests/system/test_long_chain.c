/*  =========================================================================
    test_long_chain.c - real zchaind nodes on chains longer than they hold

    A node holds only its last ZC_MAX_REORG_DEPTH + 1 blocks in memory and
    reads older ones from its ledger (issue 13).  Each test writes a chain
    longer than that straight into a node's ledger file with the library
    (blocks mined at the network's difficulty and signed, exactly as a
    node would have written them), then starts a real zchaind on it and
    talks to it over TCP: get_blocks and `zchain-cli block N` of blocks no
    longer in memory, a transaction confirmed long ago sent again, a
    restart, `zchaind --check-ledger` on a sound and a damaged file, a
    late node syncing the whole chain from the ledger of another, and two
    nodes on branches that fork exactly ZC_MAX_REORG_DEPTH blocks deep (the
    shorter reorganizes) and one block deeper (it refuses and keeps its own).
    =========================================================================
*/

#include "../harness.h"
#include <sqlite3.h>

#define S_START_MS      20000       //  a node must answer ping within this
#define S_SYNC_MS       60000       //  a late node must catch up within this
#define S_REPLY_MS      10000       //  one reply must arrive within this
#define S_DIFFICULTY    2
#define S_NETWORK       "difficulty = 2\nminers = 1\n"
#define S_BLOCKS        (3 * ZC_MAX_REORG_DEPTH)    //  well past what is held
#define S_BLOCK_TXS     3

//  The chain written into a ledger: each block's hash, and the first
//  transaction of block 1 as a NEW_TRANSACTION request
typedef struct {
    char hashes [S_BLOCKS + 1][ZC_HASH_HEX + 1];
    cJSON *old_request;
    char old_id [ZC_HASH_HEX + 1];
} s_chain_t;

//  Writes blocks 1..S_BLOCKS into a new ledger at node->db, in batches of
//  blocks per SQL transaction, as a node's ledger holds them.
static void
s_write_chain (harness_node_t *node, s_chain_t *chain)
{
    ck_assert_int_eq (zsys_dir_create ("%s", node->data), 0);
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (node->db, &error);
    ck_assert_msg (ledger, "%s", error? error: "?");
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *parent = zc_block_genesis ();
    snprintf (chain->hashes [0], sizeof chain->hashes [0], "%s", zc_block_hash (parent));
    zc_block_t *batch [16];
    size_t batched = 0;
    for (int64_t index = 1; index <= S_BLOCKS; index++) {
        zc_tx_t *txs [S_BLOCK_TXS];
        for (size_t i = 0; i < S_BLOCK_TXS; i++) {
            cJSON *data = cJSON_CreateObject ();
            cJSON_AddNumberToObject (data, "block", (double) index);
            cJSON_AddNumberToObject (data, "n", (double) i);
            txs [i] = zc_tx_new_signed (keys, data);
            cJSON_Delete (data);
            ck_assert_ptr_nonnull (txs [i]);
        }
        if (index == 1) {
            chain->old_request = zc_tx_to_json (txs [0]);
            cJSON_AddStringToObject (chain->old_request, "type", "NEW_TRANSACTION");
            snprintf (chain->old_id, sizeof chain->old_id, "%s", zc_tx_id (txs [0]));
        }
        char timestamp [ZC_TIMESTAMP_LEN + 1];
        zc_timestamp_now (timestamp);
        zc_block_t *below = batched? batch [batched - 1]: parent;
        zc_block_t *block = zc_block_new (index, zc_block_hash (below), timestamp,
                                          txs, S_BLOCK_TXS);
        testutil_mine (block, S_DIFFICULTY, keys);
        snprintf (chain->hashes [index], sizeof chain->hashes [index], "%s",
                  zc_block_hash (block));
        batch [batched++] = block;
        if (batched == 16 || index == S_BLOCKS) {
            ck_assert_int_eq (zc_ledger_replace (ledger, zc_block_index (batch [0]) - 1,
                                                 batch, batched), 0);
            //  The batch's last block is the next one's parent
            zc_block_destroy (&parent);
            parent = batch [batched - 1];
            for (size_t i = 0; i + 1 < batched; i++)
                zc_block_destroy (&batch [i]);
            batched = 0;
        }
    }
    ck_assert_int_eq (zc_ledger_height (ledger), S_BLOCKS);
    zc_block_destroy (&parent);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
}

//  Asks a node for blocks [from, from + limit) and checks their hashes
//  against the chain written.
static void
s_expect_blocks (harness_node_t *node, s_chain_t *chain, int64_t from, int64_t limit)
{
    char text [128];
    snprintf (text, sizeof text, "{\"type\":\"get_blocks\",\"from\":%" PRId64
              ",\"limit\":%" PRId64 "}", from, limit);
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LINE, text, S_REPLY_MS);
    ck_assert_msg (reply, "%s did not answer get_blocks", node->name);
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive (reply, "blocks");
    ck_assert_int_eq (cJSON_GetArraySize (blocks), (int) limit);
    for (int64_t i = 0; i < limit; i++) {
        const cJSON *block = cJSON_GetArrayItem (blocks, (int) i);
        ck_assert_int_eq ((int64_t) harness_number (block, "index"), from + i);
        const char *hash = harness_string (block, "current_hash");
        ck_assert_ptr_nonnull (hash);
        ck_assert_str_eq (hash, chain->hashes [from + i]);
        ck_assert_int_eq (cJSON_GetArraySize (
            cJSON_GetObjectItemCaseSensitive (block, "transactions")), S_BLOCK_TXS);
    }
    cJSON_Delete (reply);
}

//  Runs zchain-cli block N against a node and checks it prints the hash.
static void
s_expect_cli_block (harness_node_t *node, s_chain_t *chain, int64_t index)
{
    char *out = harness_path ("cli_block_%" PRId64 ".out", index);
    char *err = harness_path ("cli_block_%" PRId64 ".err", index);
    char number [24];
    snprintf (number, sizeof number, "%" PRId64, index);
    const char *argv [] = { harness_program ("ZCHAIN_CLI"), "-a", node->address,
                            "block", number, NULL };
    int status = harness_run ((char *const *) argv, out, err, S_REPLY_MS + 5000);
    char *output = harness_read_file (out);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "zchain-cli block %s: %s", number,
                   harness_status_text (status, text, sizeof text));
    ck_assert_msg (output && strstr (output, chain->hashes [index]),
                   "zchain-cli block %s does not print hash %s: %s", number,
                   chain->hashes [index], output? output: "(nothing)");
    free (output);
    free (out);
    free (err);
}

//  Runs zchaind --check-ledger on config; returns its exit status and
//  what it printed (stdout then stderr; caller frees).
static int
s_check_ledger (const char *config, char **output_p)
{
    char *out = harness_path ("check.out");
    char *err = harness_path ("check.err");
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", config, "--check-ledger",
                            NULL };
    int status = harness_run ((char *const *) argv, out, err, S_START_MS);
    char *stdout_text = harness_read_file (out);
    char *stderr_text = harness_read_file (err);
    *output_p = zsys_sprintf ("%s%s", stdout_text? stdout_text: "",
                              stderr_text? stderr_text: "");
    free (stdout_text);
    free (stderr_text);
    free (out);
    free (err);
    return status;
}

//  A node started on a long chain serves blocks it no longer holds, knows
//  a transaction confirmed long ago, restarts on the long chain, and its
//  whole file is checked on demand.
START_TEST (test_long_chain)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    s_chain_t *chain = (s_chain_t *) zmalloc (sizeof (s_chain_t));
    s_write_chain (&node, chain);
    char *config = harness_config_write ("zchain.conf", &node, 1, S_NETWORK);
    node.pid = harness_zchaind_start (config, "n1.log", NULL, 0);
    harness_node_wait_ready (&node, S_START_MS);
    char tip [ZC_HASH_HEX + 1];
    ck_assert_int_eq (harness_node_tip (&node, tip), S_BLOCKS);
    ck_assert_str_eq (tip, chain->hashes [S_BLOCKS]);

    //  Blocks far below the ones held, and a range across the boundary
    s_expect_blocks (&node, chain, 1, 3);
    s_expect_blocks (&node, chain, S_BLOCKS - ZC_MAX_REORG_DEPTH - 3, 6);
    s_expect_cli_block (&node, chain, 2);

    //  The transaction of block 1 again: known, not added, never mined
    //  again; a fresh one after it is mined alone
    zc_client_t *client = zc_client_new (node.address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    cJSON *reply = zc_client_request (client, chain->old_request, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "message"), "Transaction already known");
    ck_assert_str_eq (harness_string (reply, "tx_id"), chain->old_id);
    cJSON_Delete (reply);
    zc_keys_t *keys = zc_keys_new ();
    cJSON *data = cJSON_CreateString ("fresh");
    zc_tx_t *fresh = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    cJSON *request = zc_tx_to_json (fresh);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    reply = zc_client_request (client, request, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "message"), "Mining started");
    cJSON_Delete (reply);
    cJSON_Delete (request);
    zc_client_destroy (&client);
    int64_t height = 0;
    HARNESS_AWAIT ((height = harness_node_tip (&node, tip)) > S_BLOCKS, S_START_MS,
                   "the fresh transaction was not mined");
    ck_assert_int_eq (height, S_BLOCKS + 1);
    sqlite3 *db = harness_ledger_open (&node);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE id = ?",
                                       chain->old_id), 1);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions t JOIN blocks b"
                                       " ON b.current_hash = t.block_hash WHERE t.id = ?"
                                       " AND b.\"index\" = 1", chain->old_id), 1);
    char *top = zsys_sprintf ("%d", S_BLOCKS + 1);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions t JOIN blocks b"
                                       " ON b.current_hash = t.block_hash"
                                       " WHERE b.\"index\" = CAST (? AS INTEGER)", top), 1);
    free (top);
    sqlite3_close (db);

    //  Restart on the long chain: same tip, old blocks still served
    int status = harness_stop (node.pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert (harness_exited_with (status, 0));
    node.pid = harness_zchaind_start (config, "n1-again.log", NULL, 0);
    harness_node_wait_ready (&node, S_START_MS);
    char again [ZC_HASH_HEX + 1];
    ck_assert_int_eq (harness_node_tip (&node, again), S_BLOCKS + 1);
    ck_assert_str_eq (again, tip);
    s_expect_blocks (&node, chain, 5, 2);
    status = harness_stop (node.pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert (harness_exited_with (status, 0));
    node.pid = 0;

    //  The whole file on demand: sound, then damaged far below the tip
    char *output = NULL;
    status = s_check_ledger (config, &output);
    ck_assert_msg (harness_exited_with (status, 0), "--check-ledger failed: %s", output);
    char *expected = zsys_sprintf ("sound, %d blocks", S_BLOCKS + 2);
    ck_assert_msg (strstr (output, expected), "--check-ledger said: %s", output);
    free (expected);
    free (output);
    sqlite3 *raw = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (node.db, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_exec (raw, "UPDATE transactions SET data = '\"forged\"'"
                                    " WHERE block_hash = (SELECT current_hash FROM blocks"
                                    " WHERE \"index\" = 7) AND position = 1",
                                    NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (raw);
    status = s_check_ledger (config, &output);
    ck_assert_msg (harness_exited_with (status, 1), "--check-ledger passed a damaged file");
    ck_assert_msg (strstr (output, "block 7: current_hash does not match"),
                   "--check-ledger said: %s", output);
    free (output);

    zc_tx_destroy (&fresh);
    zc_keys_destroy (&keys);
    cJSON_Delete (chain->old_request);
    free (chain);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  A late node syncs a chain longer than either node holds in memory: the
//  serving node reads it from its ledger, the late one writes it to its
//  own, batch by batch.
START_TEST (test_late_node_sync)
{
    harness_node_t nodes [2];
    harness_nodes_init (nodes, 2);
    s_chain_t *chain = (s_chain_t *) zmalloc (sizeof (s_chain_t));
    s_write_chain (&nodes [0], chain);
    char *config = harness_config_write ("zchain.conf", nodes, 2, S_NETWORK);
    pid_t pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
    nodes [0].pid = nodes [1].pid = pid;
    harness_node_wait_ready (&nodes [0], S_START_MS);
    harness_node_wait_ready (&nodes [1], S_START_MS);
    char tip [ZC_HASH_HEX + 1] = "";
    int64_t height = -1;
    HARNESS_AWAIT ((height = harness_node_tip (&nodes [1], tip)) == S_BLOCKS
                   && streq (tip, chain->hashes [S_BLOCKS]), S_SYNC_MS,
                   "the late node reached height %" PRId64 " only", height);
    s_expect_blocks (&nodes [1], chain, 1, 3);
    sqlite3 *db = harness_ledger_open (&nodes [1]);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM blocks", NULL), S_BLOCKS + 1);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions", NULL),
                      S_BLOCKS * S_BLOCK_TXS);
    sqlite3_close (db);
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert (harness_exited_with (status, 0));

    cJSON_Delete (chain->old_request);
    free (chain);
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  Appends count blocks to the chain in the ledger at path (made if
//  missing), each with S_BLOCK_TXS transactions tagged with tag, so that
//  two ledgers extended from one copy diverge; copies the new tip's hash.
static void
s_extend (const char *path, int64_t count, const char *tag, char *tip)
{
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (path, &error);
    ck_assert_msg (ledger, "%s", error? error: "?");
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *parent = zc_ledger_block (ledger, zc_ledger_height (ledger));
    ck_assert_ptr_nonnull (parent);
    for (int64_t made = 0; made < count; made++) {
        zc_tx_t *txs [S_BLOCK_TXS];
        for (size_t i = 0; i < S_BLOCK_TXS; i++) {
            cJSON *data = cJSON_CreateObject ();
            cJSON_AddStringToObject (data, "tag", tag);
            cJSON_AddNumberToObject (data, "block", (double) zc_block_index (parent) + 1);
            cJSON_AddNumberToObject (data, "n", (double) i);
            txs [i] = zc_tx_new_signed (keys, data);
            cJSON_Delete (data);
        }
        char timestamp [ZC_TIMESTAMP_LEN + 1];
        zc_timestamp_now (timestamp);
        zc_block_t *block = zc_block_new (zc_block_index (parent) + 1, zc_block_hash (parent),
                                          timestamp, txs, S_BLOCK_TXS);
        testutil_mine (block, S_DIFFICULTY, keys);
        ck_assert_int_eq (zc_ledger_replace (ledger, zc_block_index (parent), &block, 1), 0);
        zc_block_destroy (&parent);
        parent = block;
    }
    strcpy (tip, zc_block_hash (parent));
    zc_block_destroy (&parent);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
}

//  Two nodes whose ledgers share 100 blocks, then n1 has mine blocks of
//  its own and n2 theirs (one more); both started in one zchaind.  Copies
//  the tips of both branches.
static pid_t
s_start_forked (harness_node_t *nodes, int64_t mine, char *tip_mine, char *tip_theirs,
                char **config_p)
{
    harness_nodes_init (nodes, 2);
    ck_assert_int_eq (zsys_dir_create ("%s", nodes [0].data), 0);
    ck_assert_int_eq (zsys_dir_create ("%s", nodes [1].data), 0);
    char shared [ZC_HASH_HEX + 1];
    s_extend (nodes [0].db, 100, "shared", shared);
    zfile_t *file = zfile_new (NULL, nodes [0].db);
    ck_assert_ptr_nonnull (file);
    ck_assert_int_eq (zfile_input (file), 0);
    zchunk_t *bytes = zfile_read (file, zfile_cursize (file), 0);
    ck_assert_ptr_nonnull (bytes);
    zfile_destroy (&file);
    file = zfile_new (NULL, nodes [1].db);
    ck_assert_int_eq (zfile_output (file), 0);
    ck_assert_int_eq (zfile_write (file, bytes, 0), 0);
    zfile_destroy (&file);
    zchunk_destroy (&bytes);
    s_extend (nodes [0].db, mine, "mine", tip_mine);
    s_extend (nodes [1].db, mine + 1, "theirs", tip_theirs);
    *config_p = harness_config_write ("zchain.conf", nodes, 2, S_NETWORK);
    pid_t pid = harness_zchaind_start (*config_p, "zchaind.log", NULL, 0);
    nodes [0].pid = nodes [1].pid = pid;
    harness_node_wait_ready (&nodes [0], S_START_MS);
    harness_node_wait_ready (&nodes [1], S_START_MS);
    return pid;
}

//  rejected_blocks of a node by get_status.
static int64_t
s_rejected (harness_node_t *node)
{
    cJSON *status = harness_status (node->address, S_REPLY_MS);
    int64_t rejected = status? (int64_t) harness_number (status, "rejected_blocks"): -1;
    cJSON_Delete (status);
    return rejected;
}

//  True if a node's main block at index (by get_blocks) has that hash.
static bool
s_holds_at (harness_node_t *node, int64_t index, const char *hash)
{
    char text [96];
    snprintf (text, sizeof text, "{\"type\":\"get_blocks\",\"from\":%" PRId64
              ",\"limit\":1}", index);
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LINE, text, S_REPLY_MS);
    const cJSON *block = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (reply, "blocks"), 0);
    const char *held = harness_string (block, "current_hash");
    bool holds = held && streq (held, hash);
    cJSON_Delete (reply);
    return holds;
}

//  A reorganization exactly ZC_MAX_REORG_DEPTH blocks deep between real
//  nodes: n1 rolls back all its own blocks (the blocks below them left its
//  memory long ago) and takes n2's longer branch, found through sync.
START_TEST (test_reorg_max_depth)
{
    harness_node_t nodes [2];
    char tip_mine [ZC_HASH_HEX + 1], tip_theirs [ZC_HASH_HEX + 1];
    char *config = NULL;
    pid_t pid = s_start_forked (nodes, ZC_MAX_REORG_DEPTH, tip_mine, tip_theirs, &config);
    //  n1 mines its rolled-back transactions again on top: look at the
    //  height of n2's tip, not at n1's tip
    int64_t top = 100 + ZC_MAX_REORG_DEPTH + 1;
    HARNESS_AWAIT (s_holds_at (&nodes [0], top, tip_theirs), S_SYNC_MS,
                   "n1 did not reorganize onto n2's branch");
    ck_assert_int_eq (s_rejected (&nodes [0]), 0);
    sqlite3 *db = harness_ledger_open (&nodes [0]);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions t JOIN blocks b"
                                       " ON b.current_hash = t.block_hash"
                                       " WHERE t.data LIKE '%\"theirs\"%'", NULL),
                      (ZC_MAX_REORG_DEPTH + 1) * S_BLOCK_TXS);
    //  None of n1's own transactions is left below n2's tip: each went
    //  back to the mempool, or into a block n1 mined since
    char *sql = zsys_sprintf ("SELECT COUNT(*) FROM transactions t JOIN blocks b"
                              " ON b.current_hash = t.block_hash WHERE t.data LIKE"
                              " '%%\"mine\"%%' AND b.\"index\" <= %" PRId64, top);
    ck_assert_int_eq (harness_sql_int (db, sql, NULL), 0);
    free (sql);
    sqlite3_close (db);
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert (harness_exited_with (status, 0));
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  One block deeper than the bound: n1 refuses n2's branch (counted in
//  rejected_blocks) and keeps its own chain.
START_TEST (test_reorg_too_deep)
{
    harness_node_t nodes [2];
    char tip_mine [ZC_HASH_HEX + 1], tip_theirs [ZC_HASH_HEX + 1], tip [ZC_HASH_HEX + 1];
    char *config = NULL;
    pid_t pid = s_start_forked (nodes, ZC_MAX_REORG_DEPTH + 1, tip_mine, tip_theirs,
                                &config);
    int64_t rejected = -1;
    HARNESS_AWAIT ((rejected = s_rejected (&nodes [0])) > 0, S_SYNC_MS,
                   "n1 never refused n2's branch");
    ck_assert_int_eq (harness_node_tip (&nodes [0], tip), 100 + ZC_MAX_REORG_DEPTH + 1);
    ck_assert_str_eq (tip, tip_mine);
    ck_assert_int_eq (harness_node_tip (&nodes [1], tip), 100 + ZC_MAX_REORG_DEPTH + 2);
    ck_assert_str_eq (tip, tip_theirs);
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert (harness_exited_with (status, 0));
    char *log = harness_path ("zchaind.log");
    char *text = harness_read_file (log);
    ck_assert_msg (text && strstr (text, "fork deeper than the maximum reorganization depth"),
                   "the log does not say why the branch was refused");
    free (text);
    free (log);
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("long_chain");
    tcase_add_test (harness_tcase (suite, "long_chain", 120), test_long_chain);
    tcase_add_test (harness_tcase (suite, "late_node_sync", 120), test_late_node_sync);
    tcase_add_test (harness_tcase (suite, "reorg_max_depth", 120), test_reorg_max_depth);
    tcase_add_test (harness_tcase (suite, "reorg_too_deep", 120), test_reorg_too_deep);
    return testutil_run (suite);
}
