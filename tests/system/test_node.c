/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_node.c - integration tests of zchaind: real nodes on loopback

    Every test starts real zchaind processes (see harness.h) on free
    loopback ports with a config written to a temporary folder, talks to
    them over TCP exactly as outside clients do (zc_client in both
    framings, and the zchain-cli program), and reads their SQLite ledgers
    to check what they agreed on.  Every wait polls a condition against a
    deadline.  Nodes mine at difficulty 2 with one hashing thread each, so
    a block takes milliseconds even under AddressSanitizer.
    =========================================================================
*/

#include "../harness.h"
#include <sqlite3.h>
#include <sys/resource.h>

#define S_START_MS      20000       //  a node must answer ping within this
#define S_CONVERGE_MS   40000       //  nodes must agree within this
#define S_REPLY_MS      10000       //  one reply must arrive within this
#define S_TX_COUNT      30          //  transactions of the convergence test
#define S_NETWORK       "difficulty = 2\nminers = 1\n"

//  ---------------------------------------------------------------------
//  Helpers: nodes

//  Starts the nodes, all in one zchaind or each in its own, and waits
//  until each answers ping.
static void
s_start_nodes (harness_node_t *nodes, size_t count, const char *config, bool separate)
{
    if (separate)
        for (size_t i = 0; i < count; i++) {
            char log [32];
            snprintf (log, sizeof log, "%s.log", nodes [i].name);
            const char *name = nodes [i].name;
            nodes [i].pid = harness_zchaind_start (config, log, &name, 1);
        }
    else {
        pid_t pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
        for (size_t i = 0; i < count; i++)
            nodes [i].pid = pid;
    }
    for (size_t i = 0; i < count; i++)
        harness_node_wait_ready (&nodes [i], S_START_MS);
}

//  Stops one zchaind with SIGTERM and checks it shut down cleanly (exit 0;
//  under AddressSanitizer that also means no leak was found).
static void
s_stop_process (pid_t pid, const char *what)
{
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0),
                   "zchaind running %s did not stop cleanly on SIGTERM: %s",
                   what, harness_status_text (status, text, sizeof text));
}

//  Stops every process running the nodes, each once.
static void
s_stop_nodes (harness_node_t *nodes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        pid_t pid = nodes [i].pid;
        for (size_t j = i; j < count; j++)
            if (nodes [j].pid == pid)
                nodes [j].pid = 0;
        if (pid)
            s_stop_process (pid, nodes [i].name);
    }
}

//  ---------------------------------------------------------------------
//  Helpers: transactions

//  A signed NEW_TRANSACTION request with unique data; *id_p gets the
//  transaction id (caller frees both).
static cJSON *
s_tx_request (zc_keys_t *keys, const char *tag, int number, char **id_p)
{
    char text [128];
    snprintf (text, sizeof text, "{\"test\":\"%s\",\"n\":%d,\"note\":\"caf\\u00e9\"}", tag, number);
    cJSON *data = cJSON_Parse (text);
    ck_assert_ptr_nonnull (data);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    ck_assert_ptr_nonnull (tx);
    cJSON_Delete (data);
    cJSON *request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    if (id_p)
        *id_p = strdup (zc_tx_id (tx));
    zc_tx_destroy (&tx);
    return request;
}

//  Checks that a reply acknowledges a transaction: MINING_STARTED by the
//  node it was sent to.
static void
s_expect_mining_started (cJSON *reply, harness_node_t *node)
{
    ck_assert_msg (reply, "%s did not answer NEW_TRANSACTION", node->name);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type && streq (type, "MINING_STARTED"),
                   "%s answered NEW_TRANSACTION with type %s (error: %s)", node->name,
                   type? type: "(none)", harness_string (reply, "error")?
                   harness_string (reply, "error"): "-");
    const char *miner = harness_string (reply, "miner");
    ck_assert_msg (miner && streq (miner, node->node_id),
                   "MINING_STARTED names miner %s, expected %s", miner? miner: "(none)",
                   node->node_id);
    ck_assert_ptr_nonnull (harness_string (reply, "message"));
}

//  Sends a request on an open client and checks it is acknowledged.
static void
s_submit (zc_client_t *client, cJSON *request, harness_node_t *node)
{
    cJSON *reply = zc_client_request (client, request, S_REPLY_MS);
    s_expect_mining_started (reply, node);
    cJSON_Delete (reply);
}

//  Submits data through the zchain-cli program (as a user would), checks
//  exit status 0 and the MINING_STARTED line, and returns the printed
//  transaction id (caller frees).
static char *
s_cli_submit (harness_node_t *node, bool length, const char *data, int number)
{
    char *out = harness_path ("cli_%d.out", number);
    char *err = harness_path ("cli_%d.err", number);
    const char *argv [8];
    size_t argc = 0;
    argv [argc++] = harness_program ("ZCHAIN_CLI");
    argv [argc++] = "-a";
    argv [argc++] = node->address;
    if (length)
        argv [argc++] = "--length";
    argv [argc++] = "submit";
    argv [argc++] = data;
    argv [argc] = NULL;
    int status = harness_run ((char *const *) argv, out, err, S_REPLY_MS + 5000);
    char *output = harness_read_file (out);
    char *errors = harness_read_file (err);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "zchain-cli submit: %s; stderr: %s",
                   harness_status_text (status, text, sizeof text), errors? errors: "");
    ck_assert_ptr_nonnull (output);
    char expected [128];
    snprintf (expected, sizeof expected, "MINING_STARTED by %s", node->node_id);
    ck_assert_msg (strstr (output, expected), "zchain-cli output lacks '%s': %s",
                   expected, output);
    char id [ZC_HASH_HEX + 1] = "";
    ck_assert_msg (sscanf (output, "transaction %64s", id) == 1 && zc_hash_valid (id),
                   "zchain-cli output lacks the transaction id: %s", output);
    free (output);
    free (errors);
    free (out);
    free (err);
    return strdup (id);
}

//  ---------------------------------------------------------------------
//  Helpers: status and convergence

//  What the last poll of the nodes saw, for the failure message
typedef struct {
    harness_node_t *nodes;
    size_t count;
    int64_t min_height;         //  agreement below this does not count
    int64_t height;             //  agreed height, once agreed
    char tip [ZC_HASH_HEX + 1]; //  agreed tip
    char seen [1024];           //  what each node said at the last poll
} s_converge_t;

//  True if every node answers get_status with the same height and tip,
//  an empty mempool and at least min_height blocks.
static bool
s_converged (void *arg)
{
    s_converge_t *state = (s_converge_t *) arg;
    bool agreed = true;
    state->seen [0] = 0;
    for (size_t i = 0; i < state->count; i++) {
        cJSON *status = harness_status (state->nodes [i].address, 2000);
        const char *tip = harness_string (status, "tip_hash");
        int64_t height = (int64_t) harness_number (status, "height");
        int64_t mempool = (int64_t) harness_number (status, "mempool");
        size_t used = strlen (state->seen);
        snprintf (state->seen + used, sizeof state->seen - used,
                  " %s: height %" PRId64 " tip %.12s mempool %" PRId64 ";",
                  state->nodes [i].name, height, tip? tip: "?", mempool);
        if (!tip || height < state->min_height || mempool != 0)
            agreed = false;
        else
        if (i == 0) {
            state->height = height;
            snprintf (state->tip, sizeof state->tip, "%s", tip);
        }
        else
        if (height != state->height || strcmp (tip, state->tip) != 0)
            agreed = false;
        cJSON_Delete (status);
    }
    return agreed;
}

//  Waits until all nodes report the same tip and height with empty
//  mempools; returns the agreed height and copies the tip.
static int64_t
s_wait_converged (harness_node_t *nodes, size_t count, int64_t min_height, char *tip)
{
    s_converge_t state = { nodes, count, min_height, -1, "", "" };
    bool agreed = harness_wait_until (s_converged, &state, S_CONVERGE_MS);
    ck_assert_msg (agreed, "nodes did not agree on one chain (height >= %" PRId64
                   ", empty mempools) within %d ms; last seen:%s",
                   min_height, S_CONVERGE_MS, state.seen);
    if (tip)
        strcpy (tip, state.tip);
    return state.height;
}

//  Height of a node by get_status, or -1 if it does not answer.
static int64_t
s_node_height (harness_node_t *node)
{
    cJSON *status = harness_status (node->address, 2000);
    int64_t height = status? (int64_t) harness_number (status, "height"): -1;
    cJSON_Delete (status);
    return height;
}

//  Waits until one node's height reaches min_height.
static void
s_wait_height (harness_node_t *node, int64_t min_height)
{
    int64_t height = -1;
    HARNESS_AWAIT ((height = s_node_height (node)) >= min_height, S_CONVERGE_MS,
                   "%s stayed at height %" PRId64 ", expected >= %" PRId64,
                   node->name, height, min_height);
}

//  ---------------------------------------------------------------------
//  Helpers: the SQLite ledger, read as any outside tool would

//  One block row of a ledger
typedef struct {
    int64_t index;
    char prev_hash [ZC_HASH_HEX + 1];
    char hash [ZC_HASH_HEX + 1];
} s_row_t;

//  Checks the file's integrity and its chain (indexes 0..height, each
//  prev_hash the hash below, genesis first, proof of work above it, every
//  transaction in one of its blocks); returns the rows (caller frees).
static s_row_t *
s_ledger_chain (sqlite3 *db, harness_node_t *node, size_t *count_p)
{
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    const char *verdict = (const char *) sqlite3_column_text (stmt, 0);
    ck_assert_msg (verdict && streq (verdict, "ok"), "%s: integrity_check: %s", node->db,
                   verdict? verdict: "(null)");
    sqlite3_finalize (stmt);

    size_t count = 0, capacity = 64;
    s_row_t *rows = (s_row_t *) malloc (capacity * sizeof (s_row_t));
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT \"index\", prev_hash, current_hash"
                      " FROM blocks ORDER BY \"index\"", -1, &stmt, NULL), SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        if (count == capacity)
            rows = (s_row_t *) realloc (rows, (capacity *= 2) * sizeof (s_row_t));
        s_row_t *row = &rows [count++];
        row->index = sqlite3_column_int64 (stmt, 0);
        snprintf (row->prev_hash, sizeof row->prev_hash, "%s", sqlite3_column_text (stmt, 1));
        snprintf (row->hash, sizeof row->hash, "%s", sqlite3_column_text (stmt, 2));
    }
    sqlite3_finalize (stmt);

    zc_block_t *genesis = zc_block_genesis ();
    ck_assert_uint_ge (count, 1);
    ck_assert_str_eq (rows [0].hash, zc_block_hash (genesis));
    zc_block_destroy (&genesis);
    for (size_t i = 0; i < count; i++) {
        ck_assert_msg (rows [i].index == (int64_t) i, "%s: block row %zu has index %" PRId64,
                       node->name, i, rows [i].index);
        ck_assert (zc_hash_valid (rows [i].hash));
        if (i > 0) {
            ck_assert_msg (streq (rows [i].prev_hash, rows [i - 1].hash),
                           "%s: block %zu does not link to block %zu", node->name, i, i - 1);
            ck_assert_msg (zc_hash_meets (rows [i].hash, 2),
                           "%s: block %zu lacks proof of work", node->name, i);
        }
    }
    int64_t strays = harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE block_hash"
                                   " NOT IN (SELECT current_hash FROM blocks)", NULL);
    ck_assert_msg (strays == 0, "%s: %" PRId64 " transactions outside the chain",
                   node->name, strays);
    *count_p = count;
    return rows;
}

//  Times a transaction id appears in a ledger.
static int64_t
s_ledger_tx (sqlite3 *db, const char *id)
{
    return harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE id = ?", id);
}

//  Checks that all nodes' ledgers hold the same chain, of height+1 blocks
//  ending at tip, and each id exactly once, and nothing else.
static void
s_check_ledgers (harness_node_t *nodes, size_t count, int64_t height, const char *tip,
                 char **ids, size_t id_count)
{
    s_row_t *first = NULL;
    size_t first_count = 0;
    for (size_t i = 0; i < count; i++) {
        sqlite3 *db = harness_ledger_open (&nodes [i]);
        size_t rows_count = 0;
        s_row_t *rows = s_ledger_chain (db, &nodes [i], &rows_count);
        ck_assert_msg ((int64_t) rows_count == height + 1, "%s: ledger holds %zu blocks, "
                       "status said height %" PRId64, nodes [i].name, rows_count, height);
        ck_assert_str_eq (rows [rows_count - 1].hash, tip);
        if (!first) {
            first = rows;
            first_count = rows_count;
        }
        else {
            ck_assert_uint_eq (rows_count, first_count);
            for (size_t j = 0; j < rows_count; j++)
                ck_assert_msg (streq (rows [j].hash, first [j].hash),
                               "%s and %s differ at block %zu", nodes [0].name,
                               nodes [i].name, j);
            free (rows);
        }
        for (size_t j = 0; j < id_count; j++)
            ck_assert_msg (s_ledger_tx (db, ids [j]) == 1,
                           "%s: transaction %.16s appears %" PRId64 " times, expected once",
                           nodes [i].name, ids [j], s_ledger_tx (db, ids [j]));
        int64_t total = harness_sql_int (db, "SELECT COUNT(*) FROM transactions", NULL);
        ck_assert_msg (total == (int64_t) id_count, "%s: %" PRId64 " transactions, "
                       "expected %zu", nodes [i].name, total, id_count);
        sqlite3_close (db);
    }
    free (first);
}

//  ---------------------------------------------------------------------
//  1. Three nodes converge on one chain holding every transaction once,
//  whether they run in one zchaind or each in its own.

static void
s_converge (bool separate)
{
    harness_node_t nodes [3];
    harness_nodes_init (nodes, 3);
    char *config = harness_config_write ("zchain.conf", nodes, 3, S_NETWORK);
    s_start_nodes (nodes, 3, config, separate);

    char *ids [S_TX_COUNT];
    size_t id_count = 0;
    //  Three through the CLI, one per node, one of them length-framed
    for (int n = 0; n < 3; n++) {
        char data [64];
        snprintf (data, sizeof data, "{\"test\":\"cli\",\"n\":%d,\"separate\":%s}", n,
                  separate? "true": "false");
        ids [id_count++] = s_cli_submit (&nodes [n], n == 1, data, n);
    }
    zc_keys_t *keys = zc_keys_new ();
    int number = 0;
    for (int n = 0; n < 3; n++) {
        //  Line framing: three requests, each awaiting its reply, on one
        //  connection
        zc_client_t *client = zc_client_new (nodes [n].address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        for (int k = 0; k < 3; k++) {
            cJSON *request = s_tx_request (keys, "line", number++, &ids [id_count++]);
            s_submit (client, request, &nodes [n]);
            cJSON_Delete (request);
        }
        zc_client_destroy (&client);

        //  Length framing: three requests pipelined, then three replies
        client = zc_client_new (nodes [n].address, ZC_FRAMING_LENGTH, NULL);
        ck_assert_ptr_nonnull (client);
        for (int k = 0; k < 3; k++) {
            cJSON *request = s_tx_request (keys, "length", number++, &ids [id_count++]);
            ck_assert_int_eq (zc_client_send (client, request), 0);
            cJSON_Delete (request);
        }
        for (int k = 0; k < 3; k++) {
            cJSON *reply = zc_client_recv (client, S_REPLY_MS);
            s_expect_mining_started (reply, &nodes [n]);
            cJSON_Delete (reply);
        }
        zc_client_destroy (&client);

        //  One connection per request, framings alternating
        for (int k = 0; k < 3; k++) {
            zc_framing_t framing = k % 2? ZC_FRAMING_LENGTH: ZC_FRAMING_LINE;
            client = zc_client_new (nodes [n].address, framing, NULL);
            ck_assert_ptr_nonnull (client);
            cJSON *request = s_tx_request (keys, "fresh", number++, &ids [id_count++]);
            s_submit (client, request, &nodes [n]);
            cJSON_Delete (request);
            zc_client_destroy (&client);
        }
    }
    ck_assert_uint_eq (id_count, S_TX_COUNT);

    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_converged (nodes, 3, 1, tip);
    s_check_ledgers (nodes, 3, height, tip, ids, id_count);
    s_stop_nodes (nodes, 3);

    for (size_t i = 0; i < id_count; i++)
        free (ids [i]);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 3);
}

START_TEST (test_three_nodes_converge_one_process)
{
    s_converge (false);
}
END_TEST

START_TEST (test_three_nodes_converge_own_processes)
{
    s_converge (true);
}
END_TEST

//  ---------------------------------------------------------------------
//  2. The same transaction sent twice to one node, to a second node, and
//  again once it is confirmed, is acknowledged each time and confirmed
//  once; a confirmed transaction sent again makes no new block.

START_TEST (test_duplicate_transaction)
{
    harness_node_t nodes [2];
    harness_nodes_init (nodes, 2);
    char *config = harness_config_write ("zchain.conf", nodes, 2, S_NETWORK);
    s_start_nodes (nodes, 2, config, false);

    zc_keys_t *keys = zc_keys_new ();
    char *id = NULL;
    cJSON *request = s_tx_request (keys, "duplicate", 1, &id);
    zc_client_t *client = zc_client_new (nodes [0].address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    s_submit (client, request, &nodes [0]);
    s_submit (client, request, &nodes [0]);
    zc_client_destroy (&client);
    client = zc_client_new (nodes [1].address, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);
    s_submit (client, request, &nodes [1]);
    zc_client_destroy (&client);

    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_converged (nodes, 2, 1, tip);
    s_check_ledgers (nodes, 2, height, tip, &id, 1);

    //  Once confirmed, sending it again is acknowledged and changes nothing
    for (size_t n = 0; n < 2; n++) {
        client = zc_client_new (nodes [n].address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        s_submit (client, request, &nodes [n]);
        zc_client_destroy (&client);
    }
    char tip_after [ZC_HASH_HEX + 1];
    ck_assert_int_eq (s_wait_converged (nodes, 2, 1, tip_after), height);
    ck_assert_str_eq (tip_after, tip);
    s_check_ledgers (nodes, 2, height, tip, &id, 1);
    s_stop_nodes (nodes, 2);

    cJSON_Delete (request);
    free (id);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  ---------------------------------------------------------------------
//  3. A node stopped with SIGTERM and started again on its data folder
//  carries on: same height, tip and node_id, and it follows new blocks.

START_TEST (test_restart)
{
    harness_node_t nodes [2];
    harness_nodes_init (nodes, 2);
    char *config = harness_config_write ("zchain.conf", nodes, 2, S_NETWORK);
    s_start_nodes (nodes, 2, config, true);

    zc_keys_t *keys = zc_keys_new ();
    char *ids [4];
    for (int k = 0; k < 3; k++) {
        cJSON *request = s_tx_request (keys, "restart", k, &ids [k]);
        zc_client_t *client = zc_client_new (nodes [0].address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        s_submit (client, request, &nodes [0]);
        zc_client_destroy (&client);
        cJSON_Delete (request);
    }
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_converged (nodes, 2, 1, tip);
    char node_id [64];
    strcpy (node_id, nodes [0].node_id);

    s_stop_process (nodes [0].pid, nodes [0].name);
    const char *name = nodes [0].name;
    nodes [0].pid = harness_zchaind_start (config, "n1.log", &name, 1);
    harness_node_wait_ready (&nodes [0], S_START_MS);
    ck_assert_str_eq (nodes [0].node_id, node_id);
    char tip_after [ZC_HASH_HEX + 1];
    ck_assert_int_eq (harness_node_tip (&nodes [0], tip_after), height);
    ck_assert_str_eq (tip_after, tip);

    //  The restarted node still takes part: a block mined elsewhere reaches it
    cJSON *request = s_tx_request (keys, "restart", 3, &ids [3]);
    zc_client_t *client = zc_client_new (nodes [1].address, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);
    s_submit (client, request, &nodes [1]);
    zc_client_destroy (&client);
    cJSON_Delete (request);
    int64_t height_after = s_wait_converged (nodes, 2, height + 1, tip_after);
    s_check_ledgers (nodes, 2, height_after, tip_after, ids, 4);
    s_stop_nodes (nodes, 2);

    for (int k = 0; k < 4; k++)
        free (ids [k]);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  ---------------------------------------------------------------------
//  Helpers: bad input

//  Checks that a reply is {"type":"error","error":"<reason>"}; returns
//  the reason (borrowed from reply).
static const char *
s_expect_error (cJSON *reply, const char *what)
{
    ck_assert_msg (reply, "%s: no reply (an error reply was expected)", what);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type && streq (type, "error"), "%s: reply type %s, expected error",
                   what, type? type: "(none)");
    const char *reason = harness_string (reply, "error");
    ck_assert_msg (reason && *reason, "%s: error reply without a reason", what);
    return reason;
}

//  Checks that the node answers ping on a new connection.
static void
s_expect_alive (harness_node_t *node, const char *after)
{
    char *node_id = harness_ping (node->address, S_REPLY_MS);
    ck_assert_msg (node_id, "%s does not answer ping after %s", node->name, after);
    ck_assert_str_eq (node_id, node->node_id);
    free (node_id);
}

//  Sends raw bytes on a new connection whose replies come in framing,
//  expects an error reply (containing `expect` if not NULL), then checks
//  the node still answers ping.
static void
s_bad_raw (harness_node_t *node, zc_framing_t framing, const void *data, size_t size,
           const char *what, const char *expect)
{
    zc_client_t *client = zc_client_new (node->address, framing, NULL);
    ck_assert_ptr_nonnull (client);
    ck_assert_int_eq (zc_client_send_raw (client, data, size), 0);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    const char *reason = s_expect_error (reply, what);
    if (expect)
        ck_assert_msg (strstr (reason, expect), "%s: error '%s' does not mention '%s'",
                       what, reason, expect);
    cJSON_Delete (reply);
    zc_client_destroy (&client);
    s_expect_alive (node, what);
}

//  A bad message as a newline-ended line.
static void
s_bad_line (harness_node_t *node, const char *text, const char *expect)
{
    char *line = zsys_sprintf ("%s\n", text);
    s_bad_raw (node, ZC_FRAMING_LINE, line, strlen (line), text, expect);
    free (line);
}

//  A bad message as one 2-byte length-prefixed frame.
static void
s_bad_frame (harness_node_t *node, const char *text, const char *expect)
{
    size_t size = strlen (text);
    ck_assert_uint_le (size, ZC_MAX_LENGTH_FRAME);
    char *frame = (char *) malloc (size + 2);
    frame [0] = (char) (size >> 8);
    frame [1] = (char) (size & 0xff);
    memcpy (frame + 2, text, size);
    s_bad_raw (node, ZC_FRAMING_LENGTH, frame, size + 2, text, expect);
    free (frame);
}

//  A bad message sent as canonical JSON, in both framings.
static void
s_bad_json (harness_node_t *node, const cJSON *message, const char *expect)
{
    char *text = zc_jcs_serialize (message);
    ck_assert_ptr_nonnull (text);
    s_bad_line (node, text, expect);
    s_bad_frame (node, text, expect);
    free (text);
}

//  A block over genesis holding one signed transaction, unsealed.
static zc_block_t *
s_block_draft (zc_keys_t *keys, const char *tag)
{
    zc_block_t *genesis = zc_block_genesis ();
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "forged", tag);
    zc_tx_t *txs [1] = { zc_tx_new_signed (keys, data) };
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (txs [0]);
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis), now, txs, 1);
    zc_block_destroy (&genesis);
    return block;
}

//  First nonce from 0 whose true hash does (meets) or does not meet
//  difficulty 2; its hash goes to out.
static uint64_t
s_find_nonce (zc_block_t *block, bool meets, char *out)
{
    char *preimage = zc_block_preimage (block);
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 32);
    uint64_t nonce = 0;
    for (; ; nonce++) {
        int size = snprintf (text, length + 32, "%s%" PRIu64, preimage, nonce);
        zc_sha256_hex (text, (size_t) size, out);
        if (zc_hash_meets (out, 2) == meets)
            break;
    }
    free (text);
    free (preimage);
    return nonce;
}

//  A new_block message carrying block, as a miner would send it.
static cJSON *
s_new_block (zc_block_t *block)
{
    cJSON *message = cJSON_CreateObject ();
    cJSON_AddStringToObject (message, "type", "new_block");
    cJSON_AddStringToObject (message, "node_id", "00000000-0000-4000-8000-000000000000");
    cJSON_AddItemToObject (message, "data", zc_block_to_json (block));
    return message;
}

//  ---------------------------------------------------------------------
//  4. Bad input gets an error reply where one can be sent, never reaches
//  the ledger, and never stops the node from answering.

START_TEST (test_bad_input)
{
    harness_node_t nodes [1];
    harness_nodes_init (nodes, 1);
    char *config = harness_config_write ("zchain.conf", nodes, 1,
                                         S_NETWORK "max_message = 65536\ntx_policy = verify\n");
    s_start_nodes (nodes, 1, config, false);
    harness_node_t *node = &nodes [0];
    char genesis_tip [ZC_HASH_HEX + 1];
    ck_assert_int_eq (harness_node_tip (node, genesis_tip), 0);

    //  Not JSON, in both framings (a line must start with '{')
    s_bad_line (node, "{this is not json", NULL);
    s_bad_frame (node, "not json at all", NULL);
    //  JSON that is not an object
    s_bad_frame (node, "[1,2,3]", NULL);
    s_bad_frame (node, "\"ping\"", NULL);
    s_bad_frame (node, "42", NULL);
    {   //  ...also after a good message on a line connection
        zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        const char *input = "{\"type\":\"ping\"}\n[1,2,3]\n";
        ck_assert_int_eq (zc_client_send_raw (client, input, strlen (input)), 0);
        cJSON *reply = zc_client_recv (client, S_REPLY_MS);
        ck_assert_str_eq (harness_string (reply, "type"), "pong");
        cJSON_Delete (reply);
        reply = zc_client_recv (client, S_REPLY_MS);
        s_expect_error (reply, "[1,2,3] after ping");
        cJSON_Delete (reply);
        zc_client_destroy (&client);
    }
    //  No type, a type that is not a string, an unknown type
    s_bad_line (node, "{\"hello\":1}", NULL);
    s_bad_line (node, "{\"type\":7}", NULL);
    s_bad_line (node, "{\"type\":\"bogus\"}", NULL);
    s_bad_frame (node, "{\"type\":\"bogus\"}", NULL);

    //  NEW_TRANSACTION with missing or wrong-typed fields
    zc_keys_t *keys = zc_keys_new ();
    cJSON *good = s_tx_request (keys, "bad-input", 1, NULL);
    cJSON *message = cJSON_Duplicate (good, 1);
    cJSON_DeleteItemFromObject (message, "sender");
    s_bad_json (node, message, "sender");
    cJSON_Delete (message);
    message = cJSON_Duplicate (good, 1);
    cJSON_ReplaceItemInObject (message, "sender", cJSON_CreateString (""));
    s_bad_json (node, message, "sender");
    cJSON_Delete (message);
    message = cJSON_Duplicate (good, 1);
    cJSON_DeleteItemFromObject (message, "data");
    s_bad_json (node, message, "data");
    cJSON_Delete (message);
    message = cJSON_Duplicate (good, 1);
    cJSON_ReplaceItemInObject (message, "signature", cJSON_CreateNumber (12345));
    s_bad_json (node, message, "signature");
    cJSON_Delete (message);

    //  Well-formed transactions whose signature does not verify: another
    //  transaction's signature, and data changed after signing
    cJSON *other = s_tx_request (keys, "bad-input", 2, NULL);
    message = cJSON_Duplicate (good, 1);
    cJSON_ReplaceItemInObject (message, "signature", cJSON_Duplicate (
        cJSON_GetObjectItemCaseSensitive (other, "signature"), 1));
    s_bad_json (node, message, "signature");
    cJSON_Delete (message);
    message = cJSON_Duplicate (good, 1);
    cJSON_ReplaceItemInObject (message, "data", cJSON_Parse ("{\"test\":\"tampered\"}"));
    s_bad_json (node, message, "signature");
    cJSON_Delete (message);
    cJSON_Delete (other);

    //  new_block with garbage payloads
    s_bad_line (node, "{\"type\":\"new_block\",\"data\":\"garbage\"}", NULL);
    s_bad_line (node, "{\"type\":\"new_block\"}", NULL);
    s_bad_line (node, "{\"type\":\"new_block\",\"data\":{}}", NULL);
    s_bad_line (node, "{\"type\":\"new_block\",\"data\":{\"index\":-1}}", NULL);

    //  new_block of valid shape: a hash that meets the difficulty but is not
    //  the block's, a true hash without the proof of work, and a mined
    //  block whose miner signature is not over its hash
    const char *miner = "00000000-0000-4000-8000-000000000000";
    zc_block_t *block = s_block_draft (keys, "fake hash");
    char fake [ZC_HASH_HEX + 1];
    memset (fake, 'a', ZC_HASH_HEX);
    fake [0] = fake [1] = '0';
    fake [ZC_HASH_HEX] = 0;
    ck_assert_int_eq (zc_block_seal (block, 7, fake, miner, keys), 0);
    ck_assert_ptr_nonnull (zc_block_check (block, 2, 1000, true, NULL, NULL));
    message = s_new_block (block);
    s_bad_json (node, message, "hash");
    cJSON_Delete (message);
    zc_block_destroy (&block);

    char hash [ZC_HASH_HEX + 1];
    block = s_block_draft (keys, "no work");
    uint64_t nonce = s_find_nonce (block, false, hash);
    ck_assert_int_eq (zc_block_seal (block, nonce, hash, miner, keys), 0);
    char recomputed [ZC_HASH_HEX + 1];
    zc_block_compute_hash (block, recomputed);
    ck_assert_str_eq (recomputed, hash);            //  the test's own hashing is right
    ck_assert_ptr_nonnull (zc_block_check (block, 2, 1000, true, NULL, NULL));
    message = s_new_block (block);
    s_bad_json (node, message, "proof of work");
    cJSON_Delete (message);
    zc_block_destroy (&block);

    block = s_block_draft (keys, "bad signature");
    nonce = s_find_nonce (block, true, hash);
    ck_assert_int_eq (zc_block_seal (block, nonce, hash, miner, keys), 0);
    ck_assert_ptr_null (zc_block_check (block, 2, 1000, true, NULL, NULL));
    message = s_new_block (block);
    char *wrong = zc_keys_sign (keys, "something else", 14);
    cJSON_ReplaceItemInObject (cJSON_GetObjectItemCaseSensitive (message, "data"),
                               "signature", cJSON_CreateString (wrong));
    free (wrong);
    s_bad_json (node, message, "signature");
    cJSON_Delete (message);
    zc_block_destroy (&block);

    char tip [ZC_HASH_HEX + 1];
    ck_assert_int_eq (harness_node_tip (node, tip), 0);
    ck_assert_str_eq (tip, genesis_tip);

    //  get_blocks with a negative, fractional or string "from", or no limit
    s_bad_line (node, "{\"type\":\"get_blocks\",\"from\":-1,\"limit\":5}", "from");
    s_bad_line (node, "{\"type\":\"get_blocks\",\"from\":0.5,\"limit\":5}", "from");
    s_bad_line (node, "{\"type\":\"get_blocks\",\"from\":\"0\",\"limit\":5}", "from");
    s_bad_line (node, "{\"type\":\"get_blocks\",\"from\":0,\"limit\":0}", "limit");

    //  A line longer than max_message (65536): an error, then the node
    //  hangs up, since the rest of the stream cannot be trusted
    {
        size_t size = 70000;
        char *big = (char *) malloc (size);
        memset (big, 'x', size);
        big [0] = '{';
        zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        zc_client_send_raw (client, big, size);     //  may fail: the node hangs up
        cJSON *reply = zc_client_recv (client, S_REPLY_MS);
        s_expect_error (reply, "70000-byte line");
        cJSON_Delete (reply);
        ck_assert_msg (zc_client_closed (client, S_REPLY_MS),
                       "the node kept the connection open after an oversized line");
        zc_client_destroy (&client);
        free (big);
        s_expect_alive (node, "an oversized line");
    }
    //  A length frame of length 0: an error, then the node hangs up
    {
        zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LENGTH, NULL);
        ck_assert_ptr_nonnull (client);
        ck_assert_int_eq (zc_client_send_raw (client, "\0\0", 2), 0);
        cJSON *reply = zc_client_recv (client, S_REPLY_MS);
        s_expect_error (reply, "zero-length frame");
        cJSON_Delete (reply);
        ck_assert_msg (zc_client_closed (client, S_REPLY_MS),
                       "the node kept the connection open after a zero-length frame");
        zc_client_destroy (&client);
        s_expect_alive (node, "a zero-length frame");
    }
    //  Messages cut short by a close, in both framings
    {
        zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        ck_assert_int_eq (zc_client_send_raw (client, "{\"type\":\"pi", 11), 0);
        zc_client_destroy (&client);
        s_expect_alive (node, "a line cut short");
        client = zc_client_new (node->address, ZC_FRAMING_LENGTH, NULL);
        ck_assert_ptr_nonnull (client);
        ck_assert_int_eq (zc_client_send_raw (client, "\0\x64{\"type\":\"p", 12), 0);
        zc_client_destroy (&client);
        s_expect_alive (node, "a frame cut short");
        client = zc_client_new (node->address, ZC_FRAMING_LENGTH, NULL);
        ck_assert_ptr_nonnull (client);
        ck_assert_int_eq (zc_client_send_raw (client, "\0", 1), 0);
        zc_client_destroy (&client);
        s_expect_alive (node, "half a length prefix");
    }

    //  Nothing of it reached the chain or the ledger
    ck_assert_int_eq (harness_node_tip (node, tip), 0);
    ck_assert_str_eq (tip, genesis_tip);
    sqlite3 *db = harness_ledger_open (node);
    size_t rows_count = 0;
    s_row_t *rows = s_ledger_chain (db, node, &rows_count);
    ck_assert_uint_eq (rows_count, 1);
    ck_assert_int_eq (harness_sql_int (db, "SELECT COUNT(*) FROM transactions", NULL), 0);
    free (rows);
    sqlite3_close (db);
    s_stop_nodes (nodes, 1);

    cJSON_Delete (good);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 1);
}
END_TEST

//  ---------------------------------------------------------------------
//  5. get_blocks serves verifiable blocks and honours its limit;
//  node_discovery lists the other nodes; get_status has its fields.

//  get_blocks from..limit on a node; returns the "blocks" array's reply.
static cJSON *
s_get_blocks (harness_node_t *node, int64_t from, int64_t limit)
{
    char text [128];
    snprintf (text, sizeof text, "{\"type\":\"get_blocks\",\"from\":%" PRId64
              ",\"limit\":%" PRId64 "}", from, limit);
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LENGTH, text, S_REPLY_MS);
    ck_assert_msg (reply, "%s did not answer %s", node->name, text);
    ck_assert_str_eq (harness_string (reply, "type"), "blocks");
    ck_assert (cJSON_IsArray (cJSON_GetObjectItemCaseSensitive (reply, "blocks")));
    return reply;
}

//  Context for waiting on a node_list that names every peer's node_id
typedef struct {
    harness_node_t *asked;
    harness_node_t *others;
    size_t count;
    char seen [512];
} s_discovery_t;

//  True if node_discovery of `asked` lists exactly the others, each with
//  its host, port and node_id.
static bool
s_discovered (void *arg)
{
    s_discovery_t *state = (s_discovery_t *) arg;
    cJSON *reply = harness_request (state->asked->address, ZC_FRAMING_LINE,
                                    "{\"type\":\"node_discovery\"}", 2000);
    char *text = reply? cJSON_PrintUnformatted (reply): NULL;
    snprintf (state->seen, sizeof state->seen, "%s", text? text: "(no reply)");
    free (text);
    const char *type = harness_string (reply, "type");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive (reply, "nodes");
    bool complete = type && streq (type, "node_list") && cJSON_IsArray (list)
                 && (size_t) cJSON_GetArraySize (list) == state->count;
    for (size_t i = 0; complete && i < state->count; i++) {
        complete = harness_node_listed (list, &state->others [i]);
    }
    cJSON_Delete (reply);
    return complete;
}

START_TEST (test_queries)
{
    harness_node_t nodes [3];
    harness_nodes_init (nodes, 3);
    char *config = harness_config_write ("zchain.conf", nodes, 3, S_NETWORK);
    s_start_nodes (nodes, 3, config, false);

    //  Three blocks at least: one transaction at a time, each mined first
    zc_keys_t *keys = zc_keys_new ();
    char *ids [3];
    for (int k = 0; k < 3; k++) {
        char tip [ZC_HASH_HEX + 1];
        int64_t before = harness_node_tip (&nodes [0], tip);
        cJSON *request = s_tx_request (keys, "queries", k, &ids [k]);
        zc_client_t *client = zc_client_new (nodes [0].address, ZC_FRAMING_LINE, NULL);
        ck_assert_ptr_nonnull (client);
        s_submit (client, request, &nodes [0]);
        zc_client_destroy (&client);
        cJSON_Delete (request);
        s_wait_height (&nodes [0], before + 1);
    }
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_converged (nodes, 3, 3, tip);
    s_check_ledgers (nodes, 3, height, tip, ids, 3);

    //  The whole chain from the second node: verifiable blocks that link
    cJSON *reply = s_get_blocks (&nodes [1], 0, 1000);
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive (reply, "blocks");
    ck_assert_int_eq (cJSON_GetArraySize (blocks), height + 1);
    zc_block_t *genesis = zc_block_genesis ();
    char previous [ZC_HASH_HEX + 1] = "";
    size_t tx_total = 0;
    for (int index = 0; index <= height; index++) {
        const char *error = NULL;
        zc_block_t *block = zc_block_from_json (cJSON_GetArrayItem (blocks, index), &error);
        ck_assert_msg (block, "block %d of get_blocks does not parse: %s", index, error);
        ck_assert_int_eq (zc_block_index (block), index);
        char hash [ZC_HASH_HEX + 1];
        zc_block_compute_hash (block, hash);
        ck_assert_msg (streq (hash, zc_block_hash (block)),
                       "block %d: recomputed hash %s differs from current_hash %s",
                       index, hash, zc_block_hash (block));
        if (index == 0)
            ck_assert_str_eq (zc_block_hash (block), zc_block_hash (genesis));
        else {
            ck_assert_str_eq (zc_block_prev_hash (block), previous);
            const char *problem = zc_block_check (block, 2, 1000, true, NULL, NULL);
            ck_assert_msg (!problem, "block %d fails zc_block_check: %s", index, problem);
            //  Transactions are relayed, so any of the three may mine
            const char *miner = zc_block_miner_id (block);
            ck_assert_msg (streq (miner, nodes [0].node_id) || streq (miner, nodes [1].node_id)
                        || streq (miner, nodes [2].node_id),
                           "block %d mined by %s, not one of the nodes", index, miner);
        }
        tx_total += zc_block_tx_count (block);
        strcpy (previous, zc_block_hash (block));
        zc_block_destroy (&block);
    }
    ck_assert_str_eq (previous, tip);
    ck_assert_uint_eq (tx_total, 3);
    cJSON_Delete (reply);
    zc_block_destroy (&genesis);

    //  The limit is honoured, from any start; past the tip there is nothing
    reply = s_get_blocks (&nodes [2], 0, 2);
    blocks = cJSON_GetObjectItemCaseSensitive (reply, "blocks");
    ck_assert_int_eq (cJSON_GetArraySize (blocks), 2);
    ck_assert_int_eq ((int) harness_number (cJSON_GetArrayItem (blocks, 1), "index"), 1);
    cJSON_Delete (reply);
    reply = s_get_blocks (&nodes [2], 1, 1);
    blocks = cJSON_GetObjectItemCaseSensitive (reply, "blocks");
    ck_assert_int_eq (cJSON_GetArraySize (blocks), 1);
    ck_assert_int_eq ((int) harness_number (cJSON_GetArrayItem (blocks, 0), "index"), 1);
    cJSON_Delete (reply);
    reply = s_get_blocks (&nodes [2], height + 1, 10);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItemCaseSensitive (reply, "blocks")), 0);
    cJSON_Delete (reply);

    //  node_discovery: each node lists the two others (not itself), and
    //  learns their node_ids from their pongs
    for (size_t n = 0; n < 3; n++) {
        harness_node_t others [2];
        for (size_t i = 0, j = 0; i < 3; i++)
            if (i != n)
                others [j++] = nodes [i];
        s_discovery_t state = { &nodes [n], others, 2, "" };
        bool listed = harness_wait_until (s_discovered, &state, S_CONVERGE_MS);
        ck_assert_msg (listed, "%s's node_list never named both other nodes; last: %s",
                       nodes [n].name, state.seen);
    }

    //  get_status has the documented fields, with values that fit
    cJSON *status = harness_status (nodes [1].address, S_REPLY_MS);
    ck_assert_ptr_nonnull (status);
    ck_assert_str_eq (harness_string (status, "type"), "status");
    ck_assert_ptr_nonnull (harness_string (status, "node_id"));
    ck_assert_str_eq (harness_string (status, "node_id"), nodes [1].node_id);
    ck_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (status, "height")));
    ck_assert_int_eq ((int64_t) harness_number (status, "height"), height);
    ck_assert_ptr_nonnull (harness_string (status, "tip_hash"));
    ck_assert_str_eq (harness_string (status, "tip_hash"), tip);
    ck_assert_int_eq ((int) harness_number (status, "difficulty"), 2);
    ck_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (status, "mempool")));
    ck_assert_int_eq ((int) harness_number (status, "mempool"), 0);
    ck_assert_int_eq ((int) harness_number (status, "peers"), 2);
    cJSON_Delete (status);
    s_stop_nodes (nodes, 3);

    for (int k = 0; k < 3; k++)
        free (ids [k]);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 3);
}
END_TEST

//  ---------------------------------------------------------------------
//  6. A bad config stops zchaind at once, non-zero, saying file and key.

//  Runs zchaind on a config text (written to `file`) and optional instance
//  names; checks it exits non-zero and its stderr names each of `expect`
//  (NULL-ended) and the file.
static void
s_bad_start (const char *file, const char *text, const char *instance, const char **expect)
{
    char *path = harness_path ("%s", file);
    if (text)
        harness_write_file (path, text);
    char *err = harness_path ("%s.err", file);
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", path, instance, NULL };
    int status = harness_run ((char *const *) argv, NULL, err, S_START_MS);
    char *errors = harness_read_file (err);
    char what [64];
    ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) != 0,
                   "zchaind with %s: %s, expected a non-zero exit", file,
                   harness_status_text (status, what, sizeof what));
    ck_assert_msg (errors && strstr (errors, path), "zchaind with %s: stderr does not name "
                   "the file: %s", file, errors? errors: "");
    for (const char **key = expect; *key; key++)
        ck_assert_msg (strstr (errors, *key), "zchaind with %s: stderr does not name '%s': %s",
                       file, *key, errors);
    free (errors);
    free (err);
    free (path);
}

//  The mempool is bounded: past network/max_mempool a transaction gets
//  "mempool is full" (and is not acknowledged), the node stays up, and a
//  transaction it already holds is still acknowledged.  Difficulty 30 keeps
//  anything from being mined meanwhile.
START_TEST (test_mempool_full)
{
    harness_node_t nodes [1];
    harness_nodes_init (nodes, 1);
    char *config = harness_config_write ("zchain.conf", nodes, 1,
                                         "difficulty = 30\nminers = 1\nmax_mempool = 2\n");
    s_start_nodes (nodes, 1, config, true);
    zc_keys_t *keys = zc_keys_new ();
    zc_client_t *client = zc_client_new (nodes [0].address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    cJSON *held = NULL;
    for (int k = 0; k < 2; k++) {
        cJSON *request = s_tx_request (keys, "full", k, NULL);
        s_submit (client, request, &nodes [0]);
        if (k == 0)
            held = request;
        else
            cJSON_Delete (request);
    }
    cJSON *request = s_tx_request (keys, "full", 2, NULL);
    cJSON *reply = zc_client_request (client, request, S_REPLY_MS);
    const char *reason = s_expect_error (reply, "a third transaction past max_mempool 2");
    ck_assert_msg (strstr (reason, "mempool is full"), "unexpected reason: %s", reason);
    cJSON_Delete (reply);
    cJSON_Delete (request);
    s_submit (client, held, &nodes [0]);        //  already held: acknowledged
    cJSON_Delete (held);
    cJSON *status = harness_status (nodes [0].address, S_REPLY_MS);
    ck_assert_ptr_nonnull (status);
    ck_assert_int_eq ((int) harness_number (status, "mempool"), 2);
    cJSON_Delete (status);
    s_expect_alive (&nodes [0], "a full mempool");
    zc_client_destroy (&client);
    zc_keys_destroy (&keys);
    s_stop_nodes (nodes, 1);
    harness_nodes_free (nodes, 1);
    free (config);
}
END_TEST

//  zchaind raises its own open-file limit: started with a soft limit of
//  64, it still answers ping while 300 idle connections are open.
START_TEST (test_open_file_limit)
{
    struct rlimit saved;
    ck_assert_int_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 1024) {
        fprintf (stderr, "test_node: open_file_limit SKIPPED: hard limit %lu\n",
                 (unsigned long) saved.rlim_max);
        return;
    }
    harness_node_t nodes [1];
    harness_nodes_init (nodes, 1);
    char *config = harness_config_write ("zchain.conf", nodes, 1, S_NETWORK);
    //  The child inherits a low soft limit; ours is put back at once
    struct rlimit low = { 64, saved.rlim_max };
    ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &low), 0);
    const char *name = nodes [0].name;
    nodes [0].pid = harness_zchaind_start (config, "n1.log", &name, 1);
    ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &saved), 0);
    harness_node_wait_ready (&nodes [0], S_START_MS);

    zc_client_t *idle [300];
    for (int i = 0; i < 300; i++) {
        idle [i] = zc_client_new (nodes [0].address, ZC_FRAMING_LINE, NULL);
        ck_assert_msg (idle [i], "connection %d refused", i);
    }
    //  The last of them is served too, not only a new one
    cJSON *ping = cJSON_CreateObject ();
    cJSON_AddStringToObject (ping, "type", "ping");
    cJSON *reply = zc_client_request (idle [299], ping, S_REPLY_MS);
    ck_assert_msg (reply, "the 300th connection got no pong");
    ck_assert_str_eq (harness_string (reply, "type"), "pong");
    cJSON_Delete (reply);
    cJSON_Delete (ping);
    s_expect_alive (&nodes [0], "300 idle connections");
    for (int i = 0; i < 300; i++)
        zc_client_destroy (&idle [i]);
    s_stop_nodes (nodes, 1);
    harness_nodes_free (nodes, 1);
    free (config);
}
END_TEST

START_TEST (test_bad_config)
{
    int port = harness_free_port ();
    char *data = harness_path ("n1");
    char node [256];
    snprintf (node, sizeof node, "node\n    n1\n        host = 127.0.0.1\n"
              "        port = %d\n        data = %s\n", port, data);
    char text [1024];

    snprintf (text, sizeof text, "network\n    difficulty = abc\n%s", node);
    s_bad_start ("difficulty.conf", text, NULL,
                 (const char *[]) { "network/difficulty", "abc", NULL });

    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = 127.0.0.1\n        data = %s\n", data);
    s_bad_start ("noport.conf", text, NULL, (const char *[]) { "node/n1/port", NULL });

    snprintf (text, sizeof text, "network\n    difficulty = 2\n%s        colour = red\n", node);
    s_bad_start ("unknown.conf", text, NULL, (const char *[]) { "node/n1/colour", NULL });

    snprintf (text, sizeof text, "network\n    difficulty = 2\n    speed = 9\n%s", node);
    s_bad_start ("network.conf", text, NULL, (const char *[]) { "network/speed", NULL });

    snprintf (text, sizeof text, "network\n    tx_policy = maybe\n%s", node);
    s_bad_start ("policy.conf", text, NULL, (const char *[]) { "network/tx_policy", NULL });

    snprintf (text, sizeof text, "network\n    block_interval = -5\n%s", node);
    s_bad_start ("interval.conf", text, NULL,
                 (const char *[]) { "network/block_interval", "-5", NULL });

    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = 127.0.0.1\n        port = 70000\n        data = %s\n", data);
    s_bad_start ("bigport.conf", text, NULL, (const char *[]) { "node/n1/port", "70000", NULL });

    s_bad_start ("missing.conf", NULL, NULL, (const char *[]) { NULL });

    //  A good file, but an instance it does not describe
    snprintf (text, sizeof text, "network\n    difficulty = 2\n%s", node);
    s_bad_start ("good.conf", text, "n9", (const char *[]) { "n9", NULL });

    //  A good file whose port is taken: the node cannot start
    int busy_port = 0;
    int busy = harness_occupy_port (&busy_port);
    char address [32];
    snprintf (address, sizeof address, "127.0.0.1:%d", busy_port);
    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = 127.0.0.1\n        port = %d\n        data = %s\n",
              busy_port, data);
    char *path = harness_path ("busy.conf");
    harness_write_file (path, text);
    char *err = harness_path ("busy.err");
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", path, NULL };
    int status = harness_run ((char *const *) argv, NULL, err, S_START_MS);
    char *errors = harness_read_file (err);
    ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) != 0,
                   "zchaind started on a busy port");
    ck_assert_msg (errors && strstr (errors, address), "stderr does not name %s: %s",
                   address, errors? errors: "");
    close (busy);
    free (errors);
    free (err);
    free (path);
    free (data);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("node");
    //  One case per test: its own folder, timeout and cleanup, and
    //  CK_RUN_CASE=restart runs one alone
    tcase_add_test (harness_tcase (suite, "converge_one_process", 60),
                    test_three_nodes_converge_one_process);
    tcase_add_test (harness_tcase (suite, "converge_own_processes", 60),
                    test_three_nodes_converge_own_processes);
    tcase_add_test (harness_tcase (suite, "duplicate", 60), test_duplicate_transaction);
    tcase_add_test (harness_tcase (suite, "restart", 60), test_restart);
    tcase_add_test (harness_tcase (suite, "bad_input", 60), test_bad_input);
    tcase_add_test (harness_tcase (suite, "queries", 60), test_queries);
    tcase_add_test (harness_tcase (suite, "bad_config", 60), test_bad_config);
    tcase_add_test (harness_tcase (suite, "mempool_full", 60), test_mempool_full);
    tcase_add_test (harness_tcase (suite, "open_file_limit", 60), test_open_file_limit);
    return testutil_run (suite);
}
