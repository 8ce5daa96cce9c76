/*  =========================================================================
    test_intake.c - how a real node takes transactions and blocks in under
    load (issue 11): duplicates recognized before any work, a forged copy
    that arrives first never makes the genuine one refused, and intake
    past capacity refused at once as busy

    One real zchaind node on loopback; the test speaks to it as a client
    and as a relaying peer would (new_transactions with the relayer's
    tx_ids, new_block), and reads the node's log and replies.
    =========================================================================
*/

#include "../harness.h"

#define S_START_MS      20000
#define S_REPLY_MS      10000
#define S_LOG_MS        10000
#define S_NETWORK       "difficulty = 2\nminers = 1\n"

//  A signed transaction with unique data.
static zc_tx_t *
s_tx (zc_keys_t *keys, const char *tag)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "test", tag);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    return tx;
}

//  {"type":"new_transactions","transactions":[item],"tx_ids":[claimed]}
static cJSON *
s_relay (cJSON *item, const char *claimed)
{
    cJSON *relay = cJSON_CreateObject ();
    cJSON_AddStringToObject (relay, "type", "new_transactions");
    cJSON *txs = cJSON_AddArrayToObject (relay, "transactions");
    cJSON_AddItemToArray (txs, item);
    cJSON *ids = cJSON_AddArrayToObject (relay, "tx_ids");
    cJSON_AddItemToArray (ids, cJSON_CreateString (claimed));
    return relay;
}

//  Sends a message that gets no answer, then a ping on the same
//  connection: once pong is back, the listener has handled the first.
static void
s_send_then_ping (zc_client_t *client, cJSON *message)
{
    ck_assert_int_eq (zc_client_send (client, message), 0);
    cJSON *ping = cJSON_CreateObject ();
    cJSON_AddStringToObject (ping, "type", "ping");
    cJSON *pong = zc_client_request (client, ping, S_REPLY_MS);
    ck_assert_ptr_nonnull (pong);
    ck_assert_str_eq (harness_string (pong, "type"), "pong");
    cJSON_Delete (pong);
    cJSON_Delete (ping);
}

//  Submits tx as NEW_TRANSACTION; returns the reply's "message".
static char *
s_submit (zc_client_t *client, zc_tx_t *tx)
{
    cJSON *request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    cJSON *reply = zc_client_request (client, request, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type && streq (type, "MINING_STARTED"), "answered %s: %s",
                   type? type: "(none)", harness_string (reply, "error")?
                   harness_string (reply, "error"): "-");
    ck_assert_str_eq (harness_string (reply, "tx_id"), zc_tx_id (tx));
    char *message = strdup (harness_string (reply, "message"));
    cJSON_Delete (reply);
    cJSON_Delete (request);
    return message;
}

//  How many times text occurs in the node's log.
static int
s_log_count (const char *text)
{
    char *path = harness_path ("zchaind.log");
    char *log = harness_read_file (path);
    free (path);
    int count = 0;
    for (const char *at = log? strstr (log, text): NULL; at; at = strstr (at + 1, text))
        count++;
    free (log);
    return count;
}

static void
s_start (harness_node_t *node)
{
    harness_nodes_init (node, 1);
    char *config = harness_config_write ("zchain.conf", node, 1, S_NETWORK);
    node->pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
    harness_node_wait_ready (node, S_START_MS);
    free (config);
}

//  A forged copy (the genuine transaction's sender and data, another
//  signature) relayed first, claiming the genuine id, is refused for its
//  signature; the genuine transaction relayed next under the same id is
//  still taken.
START_TEST (test_forged_copy_first)
{
    harness_node_t node;
    s_start (&node);
    zc_keys_t *keys = zc_keys_new (), *other = zc_keys_new ();
    zc_tx_t *genuine = s_tx (keys, "forged-first");
    //  Same sender and data, signed by another key: a bad signature
    cJSON *forged = zc_tx_to_json (genuine);
    zc_tx_t *decoy = s_tx (other, "forged-first");
    cJSON *decoy_json = zc_tx_to_json (decoy);
    cJSON_ReplaceItemInObjectCaseSensitive (forged, "signature",
        cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (decoy_json, "signature"), 1));
    cJSON_Delete (decoy_json);
    zc_tx_destroy (&decoy);

    zc_client_t *client = zc_client_new (node.address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    int bad_before = s_log_count ("bad signature");
    cJSON *relay = s_relay (forged, zc_tx_id (genuine));
    s_send_then_ping (client, relay);
    cJSON_Delete (relay);
    //  The forged copy was built and checked (it was not held), and refused
    HARNESS_AWAIT (s_log_count ("bad signature") > bad_before, S_LOG_MS,
                  "the forged copy was not refused for its signature");

    //  The genuine one, relayed under the same id, is taken: a client
    //  that then submits it finds it known
    relay = s_relay (zc_tx_to_json (genuine), zc_tx_id (genuine));
    s_send_then_ping (client, relay);
    cJSON_Delete (relay);
    char *message = s_submit (client, genuine);
    ck_assert_str_eq (message, "Transaction already known");
    free (message);

    zc_client_destroy (&client);
    zc_tx_destroy (&genuine);
    zc_keys_destroy (&keys);
    zc_keys_destroy (&other);
    harness_nodes_free (&node, 1);
}
END_TEST

//  Starts a node and has it take tx (so it holds it); the client that
//  sent it, on a line-framed connection.
static zc_client_t *
s_start_holding (harness_node_t *node, zc_tx_t *tx)
{
    s_start (node);
    zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    char *message = s_submit (client, tx);
    ck_assert_str_eq (message, "Mining started");
    free (message);
    return client;
}

//  The node's status once it has mined a block (caller deletes).
static cJSON *
s_status_mined (harness_node_t *node)
{
    int64_t deadline = harness_now_ms () + S_LOG_MS;
    while (harness_now_ms () < deadline) {
        cJSON *status = harness_status (node->address, S_REPLY_MS);
        if (status && harness_number (status, "height") >= 1)
            return status;
        cJSON_Delete (status);
        harness_nap (HARNESS_POLL_MS);
    }
    ck_abort_msg ("the node mined no block");
    return NULL;
}

//  A relayed copy of a transaction the node holds is dropped before it is
//  built: an item that is not even a transaction, relayed under a held id,
//  leaves no "bad relayed transaction" warning; under an id not held it
//  does.  A new_block under the hash of a held block is done at once.
START_TEST (test_duplicates_dropped_unparsed)
{
    harness_node_t node;
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_tx (keys, "held");
    zc_client_t *client = s_start_holding (&node, tx);

    const char *warning = "bad relayed transaction";
    ck_assert_int_eq (s_log_count (warning), 0);
    cJSON *relay = s_relay (cJSON_CreateNumber (1), zc_tx_id (tx));
    s_send_then_ping (client, relay);
    cJSON_Delete (relay);
    char unknown [ZC_HASH_HEX + 1];
    zc_sha256_hex ("not held", 8, unknown);
    relay = s_relay (cJSON_CreateNumber (2), unknown);
    s_send_then_ping (client, relay);
    cJSON_Delete (relay);
    //  Handled in order on one connection: the second was built and
    //  refused, so the first was handled before it, without a warning
    HARNESS_AWAIT (s_log_count (warning) == 1, S_LOG_MS, "the unheld item was not looked at");
    ck_assert_int_eq (s_log_count (warning), 1);

    //  Blocks: the node mines the transaction; a new_block claiming that
    //  block's hash with contents that are not a block is answered with
    //  nothing (done), where an unheld hash gets the block's error
    cJSON *status = s_status_mined (&node);
    char tip [ZC_HASH_HEX + 1];
    snprintf (tip, sizeof tip, "%s", harness_string (status, "tip_hash"));
    cJSON_Delete (status);

    cJSON *block = cJSON_CreateObject ();
    cJSON_AddStringToObject (block, "type", "new_block");
    cJSON *data = cJSON_AddObjectToObject (block, "data");
    cJSON_AddStringToObject (data, "current_hash", tip);
    //  Were it built, its error would come before the pong
    ck_assert_int_eq (zc_client_send (client, block), 0);
    cJSON *ping = cJSON_CreateObject ();
    cJSON_AddStringToObject (ping, "type", "ping");
    cJSON *reply = zc_client_request (client, ping, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_msg (streq (harness_string (reply, "type"), "pong"),
                   "a held block's copy was answered, so it was built");
    cJSON_Delete (reply);
    cJSON_Delete (ping);
    //  An unheld hash: built, and refused with an error
    cJSON_ReplaceItemInObjectCaseSensitive (data, "current_hash", cJSON_CreateString (unknown));
    reply = zc_client_request (client, block, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "type"), "error");
    cJSON_Delete (reply);
    cJSON_Delete (block);

    zc_client_destroy (&client);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    harness_nodes_free (&node, 1);
}
END_TEST

//  The node's mempool size, or -1 if it does not answer.
static int64_t
s_mempool (const char *address)
{
    cJSON *status = harness_status (address, S_REPLY_MS);
    int64_t size = status? (int64_t) harness_number (status, "mempool"): -1;
    cJSON_Delete (status);
    return size;
}

//  True if a gateway answers health.
static bool
s_answers_health (const char *address)
{
    cJSON *reply = harness_request (address, ZC_FRAMING_LENGTH, "{\"action\":\"health\"}", 2000);
    bool ok = reply != NULL;
    cJSON_Delete (reply);
    return ok;
}

//  Past capacity a client's transaction is refused at once as busy: a node
//  that cannot mine (difficulty 30) holds 1000 waiting transactions, as
//  many as it confirms soon with max_block_txs 1 (never fewer than 1000);
//  the next is answered busy, with its tx_id, and not taken, while a
//  peer's relay still is; the gateway passes the nodes' busy on as its own.
START_TEST (test_busy_refused_at_once)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = harness_config_write ("zchain.conf", &node, 1,
                                         "difficulty = 30\nminers = 1\nmax_block_txs = 1\n");
    char gateway [32];
    snprintf (gateway, sizeof gateway, "127.0.0.1:%d", harness_free_port ());
    char *gateway_data = harness_path ("gateway");
    FILE *file = fopen (config, "a");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "gateway\n    host = 127.0.0.1\n    port = %s\n    data = %s\n",
             strchr (gateway, ':') + 1, gateway_data);
    ck_assert_int_eq (fclose (file), 0);
    node.pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
    harness_node_wait_ready (&node, S_START_MS);

    zc_keys_t *keys = zc_keys_new ();
    zc_client_t *client = zc_client_new (node.address, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);
    for (int n = 0; n < 1000; n++) {
        char tag [32];
        snprintf (tag, sizeof tag, "fill-%d", n);
        zc_tx_t *tx = s_tx (keys, tag);
        char *message = s_submit (client, tx);
        ck_assert_str_eq (message, "Mining started");
        free (message);
        zc_tx_destroy (&tx);
    }
    zc_tx_t *over = s_tx (keys, "one too many");
    cJSON *request = zc_tx_to_json (over);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    cJSON *reply = zc_client_request (client, request, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "type"), "error");
    ck_assert_str_eq (harness_string (reply, "error"), ZC_BUSY_REASON);
    ck_assert_str_eq (harness_string (reply, "tx_id"), zc_tx_id (over));
    cJSON_Delete (reply);
    ck_assert_int_eq (s_mempool (node.address), 1000);

    //  A relay is always taken: what the gateway acknowledged must reach
    //  every node
    cJSON *relay = s_relay (zc_tx_to_json (over), zc_tx_id (over));
    s_send_then_ping (client, relay);
    cJSON_Delete (relay);
    HARNESS_AWAIT (s_mempool (node.address) == 1001, S_LOG_MS,
                   "the relayed transaction was not taken");

    //  Through the gateway: the node's busy is the client's
    HARNESS_AWAIT (s_answers_health (gateway), S_START_MS,
                   "the gateway never answered health");
    zc_tx_t *more = s_tx (keys, "through the gateway");
    cJSON *submit = cJSON_CreateObject ();
    cJSON_AddStringToObject (submit, "action", "submit_transaction");
    cJSON_AddItemToObject (submit, "body", zc_tx_to_json (more));
    char *text = cJSON_PrintUnformatted (submit);
    reply = harness_request (gateway, ZC_FRAMING_LENGTH, text, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "status"), "error");
    ck_assert_str_eq (harness_string (reply, "message"), ZC_BUSY_REASON);
    ck_assert_int_eq (harness_number (reply, "nodes_reached"), 0);
    cJSON_Delete (reply);
    free (text);
    cJSON_Delete (submit);
    zc_tx_destroy (&more);

    cJSON_Delete (request);
    zc_tx_destroy (&over);
    zc_client_destroy (&client);
    zc_keys_destroy (&keys);
    free (gateway_data);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  The block interval (network/block_interval): a transaction that comes
//  after a quiet spell is mined at once; those that come within the
//  interval after a block wait for it to pass (here a minute, far beyond
//  the test's deadlines), together, instead of each starting a race.
typedef struct {
    sqlite3 *db;
    const char *tx_id;
} s_confirmed_t;

static bool
s_confirmed (void *arg)
{
    s_confirmed_t *query = (s_confirmed_t *) arg;
    return harness_sql_int (query->db, "SELECT COUNT(*) FROM transactions WHERE id = ?",
                            query->tx_id) == 1;
}

START_TEST (test_block_interval)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = harness_config_write ("zchain.conf", &node, 1,
                                         "difficulty = 1\nminers = 1\nblock_interval = 60000\n");
    node.pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
    harness_node_wait_ready (&node, S_START_MS);
    sqlite3 *db = harness_ledger_open (&node);
    zc_keys_t *keys = zc_keys_new ();
    zc_client_t *client = zc_client_new (node.address, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);

    //  Alone after a quiet spell: mined without waiting the interval
    zc_tx_t *first = s_tx (keys, "first");
    free (s_submit (client, first));
    s_confirmed_t query = { db, zc_tx_id (first) };
    ck_assert_msg (harness_wait_until (s_confirmed, &query, S_LOG_MS),
                   "a transaction after a quiet spell waited for the block interval");

    //  Right after that block: acknowledged, waiting, not mined yet
    zc_tx_t *second = s_tx (keys, "second");
    zc_tx_t *third = s_tx (keys, "third");
    char *message = s_submit (client, second);
    ck_assert_str_eq (message, "Mining started");
    free (message);
    free (s_submit (client, third));
    cJSON *status = harness_status (node.address, S_REPLY_MS);
    ck_assert_ptr_nonnull (status);
    ck_assert_int_eq (harness_number (status, "mempool"), 2);
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItemCaseSensitive (status, "mining")));
    ck_assert_int_eq (harness_number (status, "height"), 1);
    cJSON_Delete (status);

    zc_tx_destroy (&first);
    zc_tx_destroy (&second);
    zc_tx_destroy (&third);
    zc_client_destroy (&client);
    zc_keys_destroy (&keys);
    sqlite3_close (db);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  A relay in our nodes' own (JCS) form whose every claimed id is held is
//  dropped before it is even read: with the rest of it not JSON at all it
//  gets no error (the ping after it is the first answer), where the same
//  bytes under an id not held are read, and refused as not JSON.  The same
//  for a new_block under a held hash.
static cJSON *
s_raw_then_ping (zc_client_t *client, const char *text)
{
    char *line = zsys_sprintf ("%s\n{\"type\":\"ping\"}\n", text);
    ck_assert_int_eq (zc_client_send_raw (client, line, strlen (line)), 0);
    free (line);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    return reply;
}

static void
s_expect_first (zc_client_t *client, const char *text, const char *type)
{
    cJSON *reply = s_raw_then_ping (client, text);
    ck_assert_msg (streq (harness_string (reply, "type"), type),
                   "expected %s first after %.60s..., got %s", type, text,
                   harness_string (reply, "type"));
    if (streq (type, "error")) {            //  then the pong
        cJSON_Delete (reply);
        reply = zc_client_recv (client, S_REPLY_MS);
        ck_assert_ptr_nonnull (reply);
        ck_assert_str_eq (harness_string (reply, "type"), "pong");
    }
    cJSON_Delete (reply);
}

START_TEST (test_relays_dropped_unread)
{
    harness_node_t node;
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_tx (keys, "held, unread");
    zc_client_t *client = s_start_holding (&node, tx);
    char unknown [ZC_HASH_HEX + 1];
    zc_sha256_hex ("not held", 8, unknown);

    const char *form = "{\"transactions\":[not JSON at all],\"tx_ids\":[\"%s\"],"
                       "\"type\":\"new_transactions\"}";
    char *held = zsys_sprintf (form, zc_tx_id (tx));
    char *unheld = zsys_sprintf (form, unknown);
    s_expect_first (client, held, "pong");
    s_expect_first (client, unheld, "error");
    //  Every id must be held: one held and one not is read
    char *mixed = zsys_sprintf ("{\"transactions\":[not JSON],\"tx_ids\":[\"%s\",\"%s\"],"
                                "\"type\":\"new_transactions\"}", zc_tx_id (tx), unknown);
    s_expect_first (client, mixed, "error");

    //  Blocks: once the node has mined the transaction, its hash is held
    cJSON *status = s_status_mined (&node);
    const char *block_form = "{\"data\":{\"current_hash\":\"%s\",garbage},\"node_id\":\"x\","
                             "\"type\":\"new_block\"}";
    char *block_held = zsys_sprintf (block_form, harness_string (status, "tip_hash"));
    char *block_unheld = zsys_sprintf (block_form, unknown);
    cJSON_Delete (status);
    s_expect_first (client, block_held, "pong");
    s_expect_first (client, block_unheld, "error");

    free (held);
    free (unheld);
    free (mixed);
    free (block_held);
    free (block_unheld);
    zc_client_destroy (&client);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    harness_nodes_free (&node, 1);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("intake");
    TCase *tcase = harness_tcase (suite, "duplicates", 120);
    tcase_add_test (tcase, test_forged_copy_first);
    tcase_add_test (tcase, test_duplicates_dropped_unparsed);
    tcase_add_test (tcase, test_relays_dropped_unread);
    tcase = harness_tcase (suite, "capacity", 300);
    tcase_add_test (tcase, test_busy_refused_at_once);
    tcase = harness_tcase (suite, "mining", 120);
    tcase_add_test (tcase, test_block_interval);
    return testutil_run (suite);
}
