/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_gateway.c - integration tests of the gateway and the marketplace
    server: a whole deployment on loopback

    Every test starts a real deployment, three nodes, the gateway and the
    server, from a config written to a temporary folder (see harness.h),
    either in one zchaind process or as five processes, one per instance.
    It talks to the gateway as the seed's clients do (length-prefixed
    JSON, and lines), follows each purchase or transaction to the nodes'
    SQLite ledgers and to the server's get_confirmation, and stops
    processes on purpose to check that a node down lowers nodes_reached
    without delaying the reply, and that confirmations queued while the
    server is down reach it once it is back.  Every wait polls a condition
    against a deadline.  Nodes mine at difficulty 2 with one hashing
    thread each, so a block takes milliseconds even under AddressSanitizer.
    =========================================================================
*/

#include "../harness.h"
#include <sqlite3.h>
#include <poll.h>

#define S_NODES         3           //  nodes of every deployment
#define S_ALL           0x7         //  mask of every node
#define S_START_MS      20000       //  an instance must answer within this
#define S_CONFIRM_MS    30000       //  a transaction must be confirmed within this
#define S_REPLY_MS      10000       //  one reply must arrive within this
#define S_PROMPT_MS     5000        //  a reply with a node down, at most
#define S_NETWORK       "difficulty = 2\nminers = 1\n"

//  A deployment: three nodes, a gateway and a server in one config file
typedef struct {
    harness_node_t nodes [S_NODES];
    char gateway [32];          //  gateway address, "127.0.0.1:PORT"
    char server [32];           //  server address
    char *gateway_data;         //  gateway data folder (gateway.key)
    char *server_data;          //  server data folder (market.sqlite3)
    char *config;               //  the config file
    pid_t gateway_pid;          //  zchaind running the gateway
    pid_t server_pid;           //  zchaind running the server
} s_deploy_t;

//  ---------------------------------------------------------------------
//  Helpers: the deployment

//  Gives every instance a free port and a data folder and writes the
//  config: the harness's network and node sections, then gateway and
//  server sections, which the harness does not know about.
static void
s_deploy_init (s_deploy_t *deploy)
{
    memset (deploy, 0, sizeof *deploy);
    harness_nodes_init (deploy->nodes, S_NODES);
    snprintf (deploy->gateway, sizeof deploy->gateway, "127.0.0.1:%d", harness_free_port ());
    snprintf (deploy->server, sizeof deploy->server, "127.0.0.1:%d", harness_free_port ());
    deploy->gateway_data = harness_path ("gateway");
    deploy->server_data = harness_path ("server");
    deploy->config = harness_config_write ("zchain.conf", deploy->nodes, S_NODES, S_NETWORK);
    FILE *file = fopen (deploy->config, "a");
    ck_assert_msg (file, "cannot append to %s: %s", deploy->config, strerror (errno));
    fprintf (file, "gateway\n    host = 127.0.0.1\n    port = %s\n    data = %s\n"
             "server\n    host = 127.0.0.1\n    port = %s\n    data = %s\n",
             strchr (deploy->gateway, ':') + 1, deploy->gateway_data,
             strchr (deploy->server, ':') + 1, deploy->server_data);
    ck_assert_int_eq (fclose (file), 0);
}

//  Frees what s_deploy_init allocated.
static void
s_deploy_free (s_deploy_t *deploy)
{
    harness_nodes_free (deploy->nodes, S_NODES);
    free (deploy->gateway_data);
    free (deploy->server_data);
    free (deploy->config);
}

//  True if address answers {"action":"health"} in that framing with
//  {"status":"ok","service":service}.
static bool
s_health_ok (const char *address, zc_framing_t framing, const char *service)
{
    cJSON *reply = harness_request (address, framing, "{\"action\":\"health\"}", 2000);
    const char *status = harness_string (reply, "status");
    const char *name = harness_string (reply, "service");
    bool ok = status && streq (status, "ok") && name && streq (name, service);
    cJSON_Delete (reply);
    return ok;
}

//  Waits until the gateway and the server answer health (they listen
//  once started, like nodes).
static void
s_wait_services (s_deploy_t *deploy)
{
    HARNESS_AWAIT (s_health_ok (deploy->gateway, ZC_FRAMING_LENGTH, "gateway_server"),
                   S_START_MS, "gateway %s did not answer health within %d ms",
                   deploy->gateway, S_START_MS);
    HARNESS_AWAIT (s_health_ok (deploy->server, ZC_FRAMING_LINE, "market_server"),
                   S_START_MS, "server %s did not answer health within %d ms",
                   deploy->server, S_START_MS);
}

//  Prints the tail of every running process's log and where the files
//  are: Check ends a failed test with _exit, so the harness's own exit
//  handler never gets to show them.
static void
s_print_logs (void)
{
    fprintf (stderr, "test_gateway: files of the failed test are in %s\n", harness_dir ());
    harness_print_logs ();
}

//  Starts the whole deployment in one zchaind (every instance of the file).
static void
s_deploy_start_one (s_deploy_t *deploy)
{
    pid_t pid = harness_zchaind_start (deploy->config, "zchaind.log", NULL, 0);
    for (size_t i = 0; i < S_NODES; i++)
        deploy->nodes [i].pid = pid;
    deploy->gateway_pid = deploy->server_pid = pid;
    for (size_t i = 0; i < S_NODES; i++)
        harness_node_wait_ready (&deploy->nodes [i], S_START_MS);
    s_wait_services (deploy);
}

//  Starts one instance in its own zchaind, its log named after it.
static pid_t
s_start_instance (s_deploy_t *deploy, const char *name, const char *log)
{
    return harness_zchaind_start (deploy->config, log, &name, 1);
}

//  Starts the deployment as five processes, each instance named on its own
//  command line.  gateway_first: the gateway and server start before the
//  nodes, so the gateway must reach nodes that come up after it; else the
//  nodes are ready before the gateway starts (the fault tests).
static void
s_deploy_start_five (s_deploy_t *deploy, bool gateway_first)
{
    if (gateway_first) {
        deploy->gateway_pid = s_start_instance (deploy, "gateway", "gateway.log");
        deploy->server_pid = s_start_instance (deploy, "server", "server.log");
    }
    for (size_t i = 0; i < S_NODES; i++) {
        char log [32];
        snprintf (log, sizeof log, "%s.log", deploy->nodes [i].name);
        deploy->nodes [i].pid = s_start_instance (deploy, deploy->nodes [i].name, log);
    }
    for (size_t i = 0; i < S_NODES; i++)
        harness_node_wait_ready (&deploy->nodes [i], S_START_MS);
    if (!gateway_first) {
        deploy->gateway_pid = s_start_instance (deploy, "gateway", "gateway.log");
        deploy->server_pid = s_start_instance (deploy, "server", "server.log");
    }
    s_wait_services (deploy);
}

//  Stops one zchaind with SIGTERM and checks it shut down cleanly (exit 0;
//  under AddressSanitizer that also means no leak was found).
static void
s_stop_process (pid_t pid, const char *what)
{
    harness_proc_t *proc = harness_proc (pid);
    char *log = proc && proc->log? strdup (proc->log): NULL;
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    if (!harness_exited_with (status, 0))
        harness_print_tail (what, log);
    free (log);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0),
                   "zchaind running %s did not stop cleanly on SIGTERM: %s",
                   what, harness_status_text (status, text, sizeof text));
}

//  ---------------------------------------------------------------------
//  Helpers: requests to the gateway

//  A purchase body with fields (and price) unique to number.
static cJSON *
s_purchase_body (int number)
{
    double price = 10.5 + number;
    char text [64];
    cJSON *body = cJSON_CreateObject ();
    snprintf (text, sizeof text, "order-%d", number);
    cJSON_AddStringToObject (body, "tx_id", text);
    snprintf (text, sizeof text, "buyer-%d", number);
    cJSON_AddStringToObject (body, "buyer", text);
    snprintf (text, sizeof text, "seller-%d", number);
    cJSON_AddStringToObject (body, "seller", text);
    snprintf (text, sizeof text, "asset-%d", number);
    cJSON_AddStringToObject (body, "asset_id", text);
    snprintf (text, sizeof text, "Painting \xc3\xa9t\xc3\xa9 #%d", number);
    cJSON_AddStringToObject (body, "asset_name", text);
    cJSON_AddNumberToObject (body, "price", price);
    cJSON_AddStringToObject (body, "timestamp", "2024-05-01T12:30:00.250000Z");
    return body;
}

//  Wraps a body into {"action": action, "body": body}; takes the body.
static cJSON *
s_action (const char *action, cJSON *body)
{
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "action", action);
    if (body)
        cJSON_AddItemToObject (request, "body", body);
    return request;
}

//  Sends one request on a new length-framed connection, as the seed's
//  clients do, and returns the reply; *elapsed_p (if set) gets how long
//  the reply took.
static cJSON *
s_gateway_request (s_deploy_t *deploy, const cJSON *request, int64_t *elapsed_p)
{
    const char *error = NULL;
    zc_client_t *client = zc_client_new (deploy->gateway, ZC_FRAMING_LENGTH, &error);
    ck_assert_msg (client, "cannot connect to the gateway %s: %s", deploy->gateway,
                   error? error: "?");
    int64_t start = harness_now_ms ();
    cJSON *reply = zc_client_request (client, request, S_REPLY_MS);
    if (elapsed_p)
        *elapsed_p = harness_now_ms () - start;
    zc_client_destroy (&client);
    ck_assert_msg (reply, "the gateway did not answer within %d ms", S_REPLY_MS);
    return reply;
}

//  The public key (sender) of the gateway, read from its key file.
static char *
s_gateway_sender (s_deploy_t *deploy)
{
    char *path = zsys_sprintf ("%s/gateway.key", deploy->gateway_data);
    ck_assert_msg (access (path, R_OK) == 0, "the gateway has no key file %s", path);
    zc_keys_t *keys = zc_keys_load_or_create (path);
    ck_assert_msg (keys, "cannot load %s", path);
    char *sender = strdup (zc_keys_public_b64 (keys));
    zc_keys_destroy (&keys);
    zstr_free (&path);
    return sender;
}

//  Checks a gateway reply: status, nodes_reached of total_nodes 3, a
//  message and a 64-hex tx_id, which it returns (caller frees).
static char *
s_expect_accepted (const cJSON *reply, const char *status, int reached)
{
    char *text = zc_jcs_serialize (reply);
    const char *got = harness_string (reply, "status");
    ck_assert_msg (got && streq (got, status), "expected status %s: %s", status, text);
    ck_assert_msg (harness_number (reply, "nodes_reached") == reached,
                   "expected nodes_reached %d: %s", reached, text);
    ck_assert_msg (harness_number (reply, "total_nodes") == S_NODES,
                   "expected total_nodes %d: %s", S_NODES, text);
    const char *message = harness_string (reply, "message");
    ck_assert_msg (message && *message, "reply has no message: %s", text);
    const char *tx_id = harness_string (reply, "tx_id");
    ck_assert_msg (tx_id && zc_hash_valid (tx_id), "reply has no 64-hex tx_id: %s", text);
    free (text);
    return strdup (tx_id);
}

//  Submits a purchase and checks the reply: status "submitted", reached
//  as expected, and a transaction signed by the gateway whose data is the
//  purchase and whose id is its ledger id.  Returns the id (caller frees).
static char *
s_submit_purchase (s_deploy_t *deploy, int number, int reached, int64_t *elapsed_p)
{
    cJSON *body = s_purchase_body (number);
    cJSON *request = s_action ("submit_purchase", cJSON_Duplicate (body, true));
    cJSON *reply = s_gateway_request (deploy, request, elapsed_p);
    char *tx_id = s_expect_accepted (reply, "submitted", reached);

    char *text = zc_jcs_serialize (reply);
    const cJSON *transaction = cJSON_GetObjectItemCaseSensitive (reply, "transaction");
    ck_assert_msg (cJSON_IsObject (transaction), "reply has no transaction: %s", text);
    const char *id = harness_string (transaction, "id");
    ck_assert_msg (id && streq (id, tx_id), "transaction.id is not tx_id: %s", text);
    const char *error = NULL;
    zc_tx_t *tx = zc_tx_from_json (transaction, &error);
    ck_assert_msg (tx, "reply's transaction is malformed (%s): %s", error, text);
    ck_assert_msg (streq (zc_tx_id (tx), id), "transaction.id %s is not the id of the "
                   "transaction (%s)", id, zc_tx_id (tx));
    ck_assert_msg (zc_tx_verify (tx), "transaction signature does not verify: %s", text);
    char *sender = s_gateway_sender (deploy);
    ck_assert_msg (streq (zc_tx_sender (tx), sender), "sender %s is not the gateway's key %s",
                   zc_tx_sender (tx), sender);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (transaction, "data");
    ck_assert_msg (cJSON_Compare (data, body, true), "transaction data is not the "
                   "purchase: %s", text);
    free (sender);
    zc_tx_destroy (&tx);
    free (text);
    cJSON_Delete (reply);
    cJSON_Delete (request);
    cJSON_Delete (body);
    return tx_id;
}

//  A transaction signed by a client key, with unique data; the caller
//  owns it.
static zc_tx_t *
s_client_tx (zc_keys_t *keys, int number)
{
    char text [96];
    snprintf (text, sizeof text, "{\"test\":\"gateway\",\"n\":%d,\"items\":[1,2.5,\"x\"]}", number);
    cJSON *data = cJSON_Parse (text);
    ck_assert_ptr_nonnull (data);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    ck_assert_ptr_nonnull (tx);
    cJSON_Delete (data);
    return tx;
}

//  ---------------------------------------------------------------------
//  Helpers: the nodes' ledgers, read as any outside tool would

//  How many rows of a node's ledger hold the transaction; *block_p and
//  *data_p (if set, caller frees) get the block hash and the data text
//  of the last.
static int
s_ledger_tx (harness_node_t *node, const char *tx_id, char **block_p, char **data_p)
{
    sqlite3 *db = harness_ledger_open (node);
    sqlite3_stmt *stmt = NULL;
    ck_assert_msg (sqlite3_prepare_v2 (db, "SELECT block_hash, data FROM transactions"
                                       " WHERE id = ?", -1, &stmt, NULL) == SQLITE_OK,
                   "%s: %s", node->db, sqlite3_errmsg (db));
    sqlite3_bind_text (stmt, 1, tx_id, -1, SQLITE_TRANSIENT);
    int count = 0, rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        count++;
        if (block_p) {
            free (*block_p);
            *block_p = strdup ((const char *) sqlite3_column_text (stmt, 0));
        }
        if (data_p) {
            free (*data_p);
            *data_p = strdup ((const char *) sqlite3_column_text (stmt, 1));
        }
    }
    ck_assert_msg (rc == SQLITE_DONE, "%s: %s", node->db, sqlite3_errmsg (db));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return count;
}

//  Total transaction rows of a node's ledger.
static int64_t
s_ledger_tx_total (harness_node_t *node)
{
    sqlite3 *db = harness_ledger_open (node);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT COUNT(*) FROM transactions",
                                          -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    int64_t total = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return total;
}

//  What a wait for ledgers or confirmations saw at its last poll
typedef struct {
    s_deploy_t *deploy;
    const char *tx_id;
    unsigned mask;              //  nodes that must hold or confirm it
    bool server;                //  also wait for the server's confirmation
    char seen [1024];           //  for the failure message
} s_watch_t;

//  True if every node in the mask holds the transaction exactly once, all
//  in one block, and (if asked) the server confirms it by exactly those
//  nodes in that block.  A ledger holding it twice fails the test at once.
static bool
s_settled (void *arg)
{
    s_watch_t *watch = (s_watch_t *) arg;
    s_deploy_t *deploy = watch->deploy;
    bool settled = true;
    char block [ZC_HASH_HEX + 1] = "";
    watch->seen [0] = 0;
    for (size_t i = 0; i < S_NODES; i++) {
        if (!(watch->mask & (1u << i)))
            continue;
        char *hash = NULL;
        int count = s_ledger_tx (&deploy->nodes [i], watch->tx_id, &hash, NULL);
        ck_assert_msg (count <= 1, "%s: ledger holds transaction %s %d times",
                       deploy->nodes [i].name, watch->tx_id, count);
        size_t used = strlen (watch->seen);
        snprintf (watch->seen + used, sizeof watch->seen - used, " %s: %s;",
                  deploy->nodes [i].name, count? hash: "absent");
        if (count == 0)
            settled = false;
        else
        if (!*block)
            snprintf (block, sizeof block, "%s", hash);
        else
        if (!streq (block, hash))
            settled = false;
        free (hash);
    }
    if (watch->server) {
        char text [128];
        snprintf (text, sizeof text, "{\"type\":\"get_confirmation\",\"tx_id\":\"%s\"}",
                  watch->tx_id);
        cJSON *reply = harness_request (deploy->server, ZC_FRAMING_LINE, text, 2000);
        char *json = reply? zc_jcs_serialize (reply): NULL;
        size_t used = strlen (watch->seen);
        snprintf (watch->seen + used, sizeof watch->seen - used, " server: %s",
                  json? json: "(no reply)");
        free (json);
        const cJSON *node_ids = cJSON_GetObjectItemCaseSensitive (reply, "node_ids");
        const char *type = harness_string (reply, "type");
        const char *tx_id = harness_string (reply, "tx_id");
        const char *hash = harness_string (reply, "block_hash");
        unsigned confirmed = 0;
        const cJSON *node_id;
        cJSON_ArrayForEach (node_id, node_ids)
            for (size_t i = 0; i < S_NODES; i++)
                if (cJSON_IsString (node_id)
                &&  streq (node_id->valuestring, deploy->nodes [i].node_id))
                    confirmed |= 1u << i;
        int nodes = 0;
        for (size_t i = 0; i < S_NODES; i++)
            nodes += (watch->mask >> i) & 1;
        if (!(type && streq (type, "confirmation") && tx_id && streq (tx_id, watch->tx_id)
          && cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (reply, "confirmed"))
          && harness_number (reply, "nodes") == nodes
          && cJSON_GetArraySize (node_ids) == nodes && confirmed == watch->mask
          && hash && streq (hash, block) && harness_number (reply, "block_index") >= 1))
            settled = false;
        cJSON_Delete (reply);
    }
    return settled;
}

//  Waits until the nodes of the mask hold the transaction once, in one
//  block, and (if server) the server confirms it by exactly those nodes.
static void
s_wait_settled (s_deploy_t *deploy, const char *tx_id, unsigned mask, bool server)
{
    s_watch_t watch = { deploy, tx_id, mask, server, "" };
    bool settled = harness_wait_until (s_settled, &watch, S_CONFIRM_MS);
    if (!settled)
        s_print_logs ();
    ck_assert_msg (settled, "transaction %s was not %s by nodes 0x%x within %d ms; "
                   "last seen:%s", tx_id, server? "confirmed at the server": "mined",
                   mask, S_CONFIRM_MS, watch.seen);
}

//  Checks that every node of the mask stores data as the transaction's
//  data: canonical text, every field as sent.
static void
s_check_ledger_data (s_deploy_t *deploy, const char *tx_id, unsigned mask,
                     const cJSON *expected)
{
    char *canonical = zc_jcs_serialize (expected);
    for (size_t i = 0; i < S_NODES; i++) {
        if (!(mask & (1u << i)))
            continue;
        char *data = NULL;
        ck_assert_int_eq (s_ledger_tx (&deploy->nodes [i], tx_id, NULL, &data), 1);
        cJSON *stored = cJSON_Parse (data);
        ck_assert_msg (cJSON_Compare (stored, expected, true), "%s: ledger data %s, "
                       "expected %s", deploy->nodes [i].name, data, canonical);
        ck_assert_msg (streq (data, canonical), "%s: ledger data is not canonical: %s",
                       deploy->nodes [i].name, data);
        cJSON_Delete (stored);
        free (data);
    }
    free (canonical);
}

//  True if `zchain-cli confirmed` says the transaction is confirmed by
//  nodes nodes (a user's view of the same answer).
static bool
s_cli_confirmed (s_deploy_t *deploy, const char *tx_id, int nodes)
{
    char *out = harness_path ("confirmed.out");
    char *err = harness_path ("confirmed.err");
    unlink (out);
    unlink (err);
    const char *argv [] = { harness_program ("ZCHAIN_CLI"), "-a", deploy->server,
                            "confirmed", tx_id, NULL };
    int status = harness_run ((char *const *) argv, out, err, S_REPLY_MS + 5000);
    char *output = harness_read_file (out);
    char expected [64];
    snprintf (expected, sizeof expected, "confirmed by %d node(s) in block", nodes);
    bool ok = harness_exited_with (status, 0) && output && strstr (output, expected);
    free (output);
    free (out);
    free (err);
    return ok;
}

//  The purchase flow: a purchase reaches every node, is mined once on
//  each ledger with the purchase as its data, and the server confirms it
//  by all three nodes.  Returns the id (caller frees).
static char *
s_purchase_flow (s_deploy_t *deploy, int number)
{
    char *tx_id = s_submit_purchase (deploy, number, S_NODES, NULL);
    s_wait_settled (deploy, tx_id, S_ALL, true);
    cJSON *body = s_purchase_body (number);
    s_check_ledger_data (deploy, tx_id, S_ALL, body);
    cJSON_Delete (body);
    return tx_id;
}

//  Sends a request on an open connection and checks the gateway answers
//  {"status":"error","message":...} naming hint; then checks that the
//  same connection still answers health.
static void
s_expect_error (zc_client_t *client, const char *what, const cJSON *request,
                const char *raw, const char *hint)
{
    cJSON *reply = NULL;
    if (raw) {
        ck_assert_int_eq (zc_client_send_raw (client, raw, strlen (raw)), 0);
        reply = zc_client_recv (client, S_REPLY_MS);
    }
    else
        reply = zc_client_request (client, request, S_REPLY_MS);
    ck_assert_msg (reply, "%s: no reply within %d ms", what, S_REPLY_MS);
    char *text = zc_jcs_serialize (reply);
    const char *status = harness_string (reply, "status");
    const char *message = harness_string (reply, "message");
    ck_assert_msg (status && streq (status, "error"), "%s: expected status error: %s",
                   what, text);
    ck_assert_msg (message && *message, "%s: error without a message: %s", what, text);
    ck_assert_msg (strstr (message, hint), "%s: message does not name '%s': %s",
                   what, hint, text);
    ck_assert_msg (cJSON_GetObjectItemCaseSensitive (reply, "nodes_reached") == NULL,
                   "%s: an error reply counts nodes: %s", what, text);
    free (text);
    cJSON_Delete (reply);

    cJSON *health = cJSON_Parse ("{\"action\":\"health\"}");
    reply = zc_client_request (client, health, S_REPLY_MS);
    const char *ok = harness_string (reply, "status");
    ck_assert_msg (ok && streq (ok, "ok"), "%s: the connection no longer answers health", what);
    cJSON_Delete (reply);
    cJSON_Delete (health);
}

//  A purchase with one field changed (value NULL: removed), as a request.
static cJSON *
s_bad_purchase (const char *field, cJSON *value)
{
    cJSON *body = s_purchase_body (99);
    if (value)
        cJSON_ReplaceItemInObjectCaseSensitive (body, field, value);
    else
        cJSON_DeleteItemFromObjectCaseSensitive (body, field);
    return s_action ("submit_purchase", body);
}

//  ---------------------------------------------------------------------
//  1. One process runs the whole deployment: health in both framings, a
//  purchase confirmed end to end, a client-signed transaction mined on
//  every ledger.

START_TEST (test_one_process)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_deploy_start_one (&deploy);

    //  Health in both framings, also from the zchain-cli user's side
    ck_assert (s_health_ok (deploy.gateway, ZC_FRAMING_LENGTH, "gateway_server"));
    ck_assert (s_health_ok (deploy.gateway, ZC_FRAMING_LINE, "gateway_server"));
    cJSON *reply = harness_request (deploy.gateway, ZC_FRAMING_LINE,
                                    "{\"action\":\"health\"}", S_REPLY_MS);
    char *text = zc_jcs_serialize (reply);
    ck_assert_str_eq (text, "{\"service\":\"gateway_server\",\"status\":\"ok\"}");
    free (text);
    cJSON_Delete (reply);

    //  A purchase: submitted to 3 of 3, mined once on each ledger, and
    //  confirmed at the server by all three nodes, also as the CLI shows
    char *purchase = s_purchase_flow (&deploy, 1);
    HARNESS_AWAIT (s_cli_confirmed (&deploy, purchase, S_NODES), S_CONFIRM_MS,
                   "zchain-cli confirmed %s does not say 3 nodes", purchase);

    //  A client-signed transaction: broadcast to 3 of 3 and mined everywhere
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_client_tx (keys, 1);
    cJSON *request = s_action ("submit_transaction", zc_tx_to_json (tx));
    reply = s_gateway_request (&deploy, request, NULL);
    char *tx_id = s_expect_accepted (reply, "broadcast", S_NODES);
    ck_assert_str_eq (tx_id, zc_tx_id (tx));
    ck_assert_ptr_null (cJSON_GetObjectItemCaseSensitive (reply, "transaction"));
    s_wait_settled (&deploy, tx_id, S_ALL, true);
    cJSON *data = cJSON_Parse (zc_tx_data (tx));
    s_check_ledger_data (&deploy, tx_id, S_ALL, data);
    for (size_t i = 0; i < S_NODES; i++)
        ck_assert_int_eq (s_ledger_tx_total (&deploy.nodes [i]), 2);

    cJSON_Delete (data);
    cJSON_Delete (reply);
    cJSON_Delete (request);
    free (tx_id);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    free (purchase);
    s_stop_process (deploy.gateway_pid, "the deployment");
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  2. The same deployment as five processes, the gateway started before
//  the nodes: once every instance answers, a purchase reaches all three
//  nodes and confirms on each and at the server.

START_TEST (test_five_processes)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_deploy_start_five (&deploy, true);
    ck_assert (s_health_ok (deploy.gateway, ZC_FRAMING_LINE, "gateway_server"));

    char *first = s_purchase_flow (&deploy, 1);
    char *second = s_purchase_flow (&deploy, 2);
    for (size_t i = 0; i < S_NODES; i++)
        ck_assert_int_eq (s_ledger_tx_total (&deploy.nodes [i]), 2);

    free (first);
    free (second);
    for (size_t i = 0; i < S_NODES; i++)
        s_stop_process (deploy.nodes [i].pid, deploy.nodes [i].name);
    s_stop_process (deploy.gateway_pid, "gateway");
    s_stop_process (deploy.server_pid, "server");
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  3. Bad requests each get {"status":"error","message"} and leave the
//  connection usable; none of them reaches a ledger.

START_TEST (test_bad_requests)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_deploy_start_one (&deploy);

    zc_client_t *client = zc_client_new (deploy.gateway, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);

    //  Not JSON, and JSON that is no object, as length frames
    const char *garbage = "not json {";
    unsigned char frame [32] = { 0, (unsigned char) strlen (garbage) };
    memcpy (frame + 2, garbage, strlen (garbage));
    ck_assert_int_eq (zc_client_send_raw (client, frame, 2 + strlen (garbage)), 0);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    ck_assert_msg (reply, "no reply to a frame that is not JSON");
    ck_assert_str_eq (harness_string (reply, "status"), "error");
    ck_assert_ptr_nonnull (harness_string (reply, "message"));
    cJSON_Delete (reply);
    cJSON *array = cJSON_Parse ("[\"health\"]");
    s_expect_error (client, "array", array, NULL, "object");
    cJSON_Delete (array);

    //  Unknown or missing action, missing body
    cJSON *request = cJSON_Parse ("{\"action\":\"fly_to_the_moon\"}");
    s_expect_error (client, "unknown action", request, NULL, "fly_to_the_moon");
    cJSON_Delete (request);
    request = cJSON_Parse ("{\"body\":{}}");
    s_expect_error (client, "no action", request, NULL, "action");
    cJSON_Delete (request);
    request = s_action ("submit_transaction", NULL);
    s_expect_error (client, "submit_transaction without body", request, NULL, "body");
    cJSON_Delete (request);
    request = s_action ("submit_purchase", NULL);
    s_expect_error (client, "submit_purchase without body", request, NULL, "body");
    cJSON_Delete (request);

    //  submit_transaction: a signature over other data, and data missing
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_client_tx (keys, 1);
    cJSON *body = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (body, "data", cJSON_Parse ("{\"test\":\"forged\"}"));
    request = s_action ("submit_transaction", body);
    s_expect_error (client, "bad signature", request, NULL, "signature");
    cJSON_Delete (request);
    body = zc_tx_to_json (tx);
    cJSON_DeleteItemFromObjectCaseSensitive (body, "data");
    request = s_action ("submit_transaction", body);
    s_expect_error (client, "data missing", request, NULL, "data");
    cJSON_Delete (request);

    //  submit_purchase: each bad field in turn
    request = s_bad_purchase ("buyer", cJSON_CreateString (""));
    s_expect_error (client, "buyer empty", request, NULL, "buyer");
    cJSON_Delete (request);
    request = s_bad_purchase ("price", cJSON_CreateNumber (0));
    s_expect_error (client, "price 0", request, NULL, "price");
    cJSON_Delete (request);
    request = s_bad_purchase ("price", cJSON_CreateNumber (-12.5));
    s_expect_error (client, "price negative", request, NULL, "price");
    cJSON_Delete (request);
    request = s_bad_purchase ("price", cJSON_CreateString ("10"));
    s_expect_error (client, "price a string", request, NULL, "price");
    cJSON_Delete (request);
    request = s_bad_purchase ("timestamp", cJSON_CreateString ("yesterday"));
    s_expect_error (client, "timestamp yesterday", request, NULL, "timestamp");
    cJSON_Delete (request);
    request = s_bad_purchase ("asset_id", NULL);
    s_expect_error (client, "asset_id missing", request, NULL, "asset_id");
    cJSON_Delete (request);

    //  Line framing: garbage after a good line is answered, and the
    //  connection goes on
    zc_client_t *lines = zc_client_new (deploy.gateway, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (lines);
    cJSON *health = cJSON_Parse ("{\"action\":\"health\"}");
    reply = zc_client_request (lines, health, S_REPLY_MS);
    ck_assert_str_eq (harness_string (reply, "status"), "ok");
    cJSON_Delete (reply);
    cJSON_Delete (health);
    s_expect_error (lines, "line not JSON", NULL, "this is not json\n", "JSON");
    request = s_bad_purchase ("price", cJSON_CreateNumber (0));
    s_expect_error (lines, "line price 0", request, NULL, "price");
    cJSON_Delete (request);
    zc_client_destroy (&lines);

    //  The first connection still submits a good transaction; once it is
    //  mined, each ledger holds that one only: no bad request got through
    zc_tx_t *good = s_client_tx (keys, 2);
    request = s_action ("submit_transaction", zc_tx_to_json (good));
    reply = zc_client_request (client, request, S_REPLY_MS);
    ck_assert_msg (reply, "no reply to a good transaction after bad ones");
    char *tx_id = s_expect_accepted (reply, "broadcast", S_NODES);
    ck_assert_str_eq (tx_id, zc_tx_id (good));
    s_wait_settled (&deploy, tx_id, S_ALL, false);
    for (size_t i = 0; i < S_NODES; i++)
        ck_assert_int_eq (s_ledger_tx_total (&deploy.nodes [i]), 1);

    free (tx_id);
    cJSON_Delete (reply);
    cJSON_Delete (request);
    zc_tx_destroy (&good);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    zc_client_destroy (&client);
    s_stop_process (deploy.gateway_pid, "the deployment");
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  4. A node stopped: purchases reach the two others promptly, and those
//  two confirm them at the server.

START_TEST (test_node_down)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_deploy_start_five (&deploy, false);

    //  First with every node up, so the gateway holds a connection to each
    char *first = s_purchase_flow (&deploy, 1);
    s_stop_process (deploy.nodes [2].pid, deploy.nodes [2].name);
    deploy.nodes [2].pid = 0;

    //  Right after the stop (the gateway learns of it from this send) and
    //  once more (the node is known to be down)
    char *ids [2];
    for (int n = 0; n < 2; n++) {
        int64_t elapsed = 0;
        ids [n] = s_submit_purchase (&deploy, 2 + n, S_NODES - 1, &elapsed);
        ck_assert_msg (elapsed < S_PROMPT_MS, "purchase %d with a node down took %" PRId64
                       " ms, expected under %d ms", 2 + n, elapsed, S_PROMPT_MS);
    }
    for (int n = 0; n < 2; n++) {
        s_wait_settled (&deploy, ids [n], 0x3, true);
        ck_assert_int_eq (s_ledger_tx (&deploy.nodes [2], ids [n], NULL, NULL), 0);
        cJSON *body = s_purchase_body (2 + n);
        s_check_ledger_data (&deploy, ids [n], 0x3, body);
        cJSON_Delete (body);
    }
    //  The first purchase stays confirmed by all three
    s_wait_settled (&deploy, first, S_ALL, true);

    free (ids [0]);
    free (ids [1]);
    free (first);
    s_stop_process (deploy.gateway_pid, "gateway");
    s_stop_process (deploy.server_pid, "server");
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  5. The server stopped: purchases are mined meanwhile, and once it is
//  started again on the same data it receives every queued confirmation.

START_TEST (test_server_down)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_deploy_start_five (&deploy, false);

    char *ids [4];
    ids [0] = s_purchase_flow (&deploy, 1);
    s_stop_process (deploy.server_pid, "server");
    deploy.server_pid = 0;
    ck_assert (!s_health_ok (deploy.server, ZC_FRAMING_LINE, "market_server"));

    for (int n = 1; n < 4; n++)
        ids [n] = s_submit_purchase (&deploy, 1 + n, S_NODES, NULL);
    for (int n = 1; n < 4; n++)
        s_wait_settled (&deploy, ids [n], S_ALL, false);

    deploy.server_pid = s_start_instance (&deploy, "server", "server-again.log");
    HARNESS_AWAIT (s_health_ok (deploy.server, ZC_FRAMING_LINE, "market_server"),
                   S_START_MS, "server did not answer health after its restart");
    for (int n = 0; n < 4; n++)
        s_wait_settled (&deploy, ids [n], S_ALL, true);

    for (int n = 0; n < 4; n++)
        free (ids [n]);
    for (size_t i = 0; i < S_NODES; i++)
        s_stop_process (deploy.nodes [i].pid, deploy.nodes [i].name);
    s_stop_process (deploy.gateway_pid, "gateway");
    s_stop_process (deploy.server_pid, "server");
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  The gateway's posts to the server (issue 11): one at a time per node,
//  in that node's seq order, different nodes' side by side.  The test is
//  the server: it holds the first post it gets open, and checks that other
//  nodes' notices keep coming while no second one of that node does; then
//  it resets that connection, and the held notice, which the gateway cannot
//  know was read, must be posted again, and the node's next ones follow.

#define S_POSTS_MAX     256         //  posts this server follows at once

typedef struct {
    int fd;                         //  accepted connection, -1 when done
    char line [16384];              //  what it sent so far
    size_t size;
} s_post_t;

typedef struct {
    int listen_fd;
    s_post_t posts [S_POSTS_MAX];
    size_t count;
    int held;                       //  the fd held open, or -1
    char held_key [64];             //  its notice's public_key
    int64_t held_seq;
    char keys [8][64];              //  every key seen, and its last seq
    int64_t last_seq [8];
    size_t key_count;
    int others;                     //  notices of other keys while held
    int64_t others_index;           //  highest block_index among those
    int after;                      //  notices of the held key after release
    int64_t after_index;            //  highest block_index among those
    bool reposted;                  //  the held notice came again after the reset
} s_server_t;

//  A whole notice from a post: checks that its key's seqs only grow, and
//  holds the very first post; false if it breaks the per-node rule.
static bool
s_server_notice (s_server_t *server, s_post_t *post)
{
    cJSON *notice = zc_json_parse (post->line, post->size);
    ck_assert_msg (notice, "the gateway posted something that is not JSON: %.*s",
                   (int) post->size, post->line);
    const char *key = harness_string (notice, "public_key");
    int64_t seq = (int64_t) harness_number (notice, "seq");
    int64_t index = (int64_t) harness_number (notice, "block_index");
    ck_assert_ptr_nonnull (key);
    size_t k = 0;
    while (k < server->key_count && strcmp (server->keys [k], key) != 0)
        k++;
    ck_assert_uint_lt (k, 8);
    if (k == server->key_count) {
        snprintf (server->keys [k], sizeof server->keys [k], "%s", key);
        server->key_count++;
    }
    else
    if (*server->held_key && streq (key, server->held_key) && server->held < 0
    &&  seq == server->held_seq && !server->reposted)
        server->reposted = true;        //  the reset one, again
    else
        ck_assert_msg (seq > server->last_seq [k], "a node's notices came out of seq order");
    server->last_seq [k] = seq;
    bool keep = false;
    if (!*server->held_key) {
        snprintf (server->held_key, sizeof server->held_key, "%s", key);
        server->held_seq = seq;
        keep = true;
    }
    else
    if (streq (key, server->held_key)) {
        ck_assert_msg (server->held < 0,
                       "a node's next notice was posted before the server closed its last");
        server->after++;
        server->after_index = index > server->after_index? index: server->after_index;
    }
    else
    if (server->held >= 0) {
        server->others++;
        server->others_index = index > server->others_index? index: server->others_index;
    }
    cJSON_Delete (notice);
    return keep;
}

//  Accepts and reads what is ready for up to msecs; whole notices are
//  judged, then their connection closed unless held.
static void
s_server_pump (s_server_t *server, int msecs)
{
    struct pollfd items [S_POSTS_MAX + 1];
    size_t which [S_POSTS_MAX + 1];
    size_t count = 0;
    items [count++] = (struct pollfd) { .fd = server->listen_fd, .events = POLLIN };
    for (size_t i = 0; i < server->count; i++)
        if (server->posts [i].fd >= 0 && server->posts [i].fd != server->held) {
            which [count] = i;
            items [count++] = (struct pollfd) { .fd = server->posts [i].fd, .events = POLLIN };
        }
    if (poll (items, count, msecs) <= 0)
        return;
    if (items [0].revents) {
        char address [ZC_NET_ADDRESS_MAX];
        int fd;
        while ((fd = zc_net_accept (server->listen_fd, address, sizeof address)) >= 0) {
            size_t slot = 0;
            while (slot < server->count && server->posts [slot].fd >= 0)
                slot++;
            ck_assert_uint_lt (slot, S_POSTS_MAX);
            if (slot == server->count)
                server->count++;
            server->posts [slot].fd = fd;
            server->posts [slot].size = 0;
        }
    }
    for (size_t i = 1; i < count; i++) {
        if (!items [i].revents)
            continue;
        s_post_t *post = &server->posts [which [i]];
        ssize_t got = recv (post->fd, post->line + post->size,
                            sizeof post->line - post->size - 1, 0);
        if (got > 0)
            post->size += (size_t) got;
        char *newline = memchr (post->line, '\n', post->size);
        if (got == 0 || newline) {
            if (newline)
                post->size = (size_t) (newline - post->line);
            bool keep = post->size > 0 && s_server_notice (server, post);
            if (keep)
                server->held = post->fd;
            else
                close (post->fd);
            post->fd = -1;
        }
    }
}

//  Sends a fresh client transaction through the gateway.
static void
s_send_tx (s_deploy_t *deploy, zc_keys_t *keys, int number)
{
    zc_tx_t *tx = s_client_tx (keys, number);
    cJSON *request = s_action ("submit_transaction", zc_tx_to_json (tx));
    cJSON *reply = s_gateway_request (deploy, request, NULL);
    free (s_expect_accepted (reply, "broadcast", S_NODES));
    cJSON_Delete (reply);
    cJSON_Delete (request);
    zc_tx_destroy (&tx);
}

START_TEST (test_posts_per_node)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy);
    s_server_t *server = (s_server_t *) zmalloc (sizeof (s_server_t));
    server->held = -1;
    char host [64];
    int port = 0;
    ck_assert_int_eq (zc_net_split (deploy.server, host, sizeof host, &port), 0);
    server->listen_fd = zc_net_listen (host, port, 64);
    ck_assert_int_ge (server->listen_fd, 0);
    //  The nodes and the gateway; the server is this test
    const char *names [] = { "n1", "n2", "n3", "gateway" };
    pid_t pid = harness_zchaind_start (deploy.config, "zchaind.log", names, 4);
    for (size_t i = 0; i < S_NODES; i++) {
        deploy.nodes [i].pid = pid;
        harness_node_wait_ready (&deploy.nodes [i], S_START_MS);
    }
    HARNESS_AWAIT (s_health_ok (deploy.gateway, ZC_FRAMING_LENGTH, "gateway_server"),
                   S_START_MS, "the gateway did not answer health");
    zc_keys_t *keys = zc_keys_new ();
    s_send_tx (&deploy, keys, 1);

    //  The first post is held; the other nodes' notices of that block come
    int64_t deadline = harness_now_ms () + S_CONFIRM_MS;
    while (server->others < 1 && harness_now_ms () < deadline)
        s_server_pump (server, 100);
    ck_assert_msg (server->held >= 0 && server->others >= 1,
                   "with one node's post held open, no other node's notice came");
    //  More blocks: every node has notices queued, the held one too, and
    //  only the others' come through
    s_send_tx (&deploy, keys, 2);
    deadline = harness_now_ms () + S_CONFIRM_MS;
    while (server->others_index < 2 && harness_now_ms () < deadline)
        s_server_pump (server, 100);
    ck_assert_msg (server->others_index >= 2, "no notice of block 2 came from the other nodes");
    int64_t quiet = harness_now_ms () + 300;
    while (harness_now_ms () < quiet)
        s_server_pump (server, 50);
    ck_assert_int_eq (server->after, 0);

    //  Reset (not closed): the held notice is posted again, then the
    //  node's next notices follow, in its seq order
    struct linger reset = { .l_onoff = 1, .l_linger = 0 };
    ck_assert_int_eq (setsockopt (server->held, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
    close (server->held);
    server->held = -1;
    deadline = harness_now_ms () + S_CONFIRM_MS;
    while ((server->after_index < 2 || !server->reposted) && harness_now_ms () < deadline)
        s_server_pump (server, 100);
    ck_assert_msg (server->reposted, "a post the server reset was never posted again");
    ck_assert_msg (server->after_index >= 2,
                   "the held node's later notices never came once its post was reset");

    for (size_t i = 0; i < server->count; i++)
        if (server->posts [i].fd >= 0)
            close (server->posts [i].fd);
    close (server->listen_fd);
    free (server);
    zc_keys_destroy (&keys);
    s_deploy_free (&deploy);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gateway");
    //  One case per test, so that a failed one is cleaned up (processes
    //  stopped, logs shown, folder kept) before the next starts
    tcase_add_test (harness_tcase (suite, "one_process", 90), test_one_process);
    tcase_add_test (harness_tcase (suite, "five_processes", 90), test_five_processes);
    tcase_add_test (harness_tcase (suite, "bad_requests", 90), test_bad_requests);
    tcase_add_test (harness_tcase (suite, "node_down", 90), test_node_down);
    tcase_add_test (harness_tcase (suite, "server_down", 90), test_server_down);
    tcase_add_test (harness_tcase (suite, "posts_per_node", 90), test_posts_per_node);
    return testutil_run (suite);
}
