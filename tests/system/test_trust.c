/*  =========================================================================
    test_trust.c - signed, pinned, durable block notices (issue 9), with
    real zchaind processes on loopback

    1. pinned keys (made by zchaind --init): a purchase is confirmed by
       every node; every forgery is refused by the gateway and, sent
       straight to it, by the server; a node whose node.key is not the
       pinned one refuses to start.
    2. learned keys: the same purchase and forgeries; a node that changed
       its key is refused by both.
    3. durability: notices outlive SIGKILL of the nodes (gateway down) and
       of the gateway (server down); every notice recorded once; every
       SQLite file passes integrity_check.
    4. network/permissioned: a block by a key outside the file is refused
       by every node, and accepted with permissioned = no; a node whose
       key is not pinned takes transactions but does not mine.
    5. gateway/allow: a client at 127.0.0.2 is refused, one at 127.0.0.1
       served.
    =========================================================================
*/

#include "../harness.h"
#include <sqlite3.h>
#include <poll.h>

#define S_NODES         3
#define S_START_MS      20000
#define S_CONFIRM_MS    30000
#define S_REPLY_MS      10000

typedef struct {
    harness_node_t nodes [S_NODES];
    char keys [S_NODES][64];    //  pinned keys, or "" (learned)
    char gateway [32];
    char server [32];
    char *gateway_data;
    char *server_data;
    char *config;
    char network [256];         //  extra network lines, each "    k = v\n"
    char allow [64];            //  gateway/allow value, or ""
    pid_t gateway_pid;
    pid_t server_pid;
} s_deploy_t;

//  ---------------------------------------------------------------------
//  Deployment

static void
s_write_config (s_deploy_t *deploy)
{
    char text [8192];
    int used = snprintf (text, sizeof text, "network\n    difficulty = 2\n    miners = 1\n%s"
                         "node\n", deploy->network);
    for (size_t i = 0; i < S_NODES; i++) {
        harness_node_t *node = &deploy->nodes [i];
        used += snprintf (text + used, sizeof text - used, "    %s\n        host = 127.0.0.1\n"
                          "        port = %d\n        data = %s\n", node->name, node->port,
                          node->data);
        if (*deploy->keys [i])
            used += snprintf (text + used, sizeof text - used, "        key = \"%s\"\n",
                              deploy->keys [i]);
    }
    used += snprintf (text + used, sizeof text - used, "gateway\n    host = 127.0.0.1\n"
                      "    port = %s\n    data = %s\n", strchr (deploy->gateway, ':') + 1,
                      deploy->gateway_data);
    if (*deploy->allow)
        used += snprintf (text + used, sizeof text - used, "    allow = \"%s\"\n", deploy->allow);
    snprintf (text + used, sizeof text - used, "server\n    host = 127.0.0.1\n    port = %s\n"
              "    data = %s\n", strchr (deploy->server, ':') + 1, deploy->server_data);
    harness_write_file (deploy->config, text);
}

static void
s_deploy_init (s_deploy_t *deploy, const char *network)
{
    memset (deploy, 0, sizeof *deploy);
    harness_nodes_init (deploy->nodes, S_NODES);
    snprintf (deploy->gateway, sizeof deploy->gateway, "127.0.0.1:%d", harness_free_port ());
    snprintf (deploy->server, sizeof deploy->server, "127.0.0.1:%d", harness_free_port ());
    deploy->gateway_data = harness_path ("gateway");
    deploy->server_data = harness_path ("server");
    deploy->config = harness_path ("zchain.conf");
    snprintf (deploy->network, sizeof deploy->network, "%s", network? network: "");
    s_write_config (deploy);
}

static void
s_deploy_free (s_deploy_t *deploy)
{
    harness_nodes_free (deploy->nodes, S_NODES);
    free (deploy->gateway_data);
    free (deploy->server_data);
    free (deploy->config);
}

//  Runs zchaind --init and pins the keys it prints in the config.
static void
s_pin_keys (s_deploy_t *deploy)
{
    char *out = harness_path ("init.out");
    char *err = harness_path ("init.err");
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", deploy->config, "--init", NULL };
    int status = harness_run ((char *const *) argv, out, err, S_REPLY_MS);
    ck_assert_msg (harness_exited_with (status, 0), "zchaind --init failed");
    char *text = harness_read_file (out);
    ck_assert_ptr_nonnull (text);
    for (size_t i = 0; i < S_NODES; i++) {
        char label [32];
        snprintf (label, sizeof label, "node/%s:", deploy->nodes [i].name);
        const char *at = strstr (text, label);
        ck_assert_msg (at, "--init printed nothing for %s: %s", deploy->nodes [i].name, text);
        at = strstr (at, "key = ");
        ck_assert_msg (at, "--init printed no key line for %s", deploy->nodes [i].name);
        sscanf (at + 6, "%63s", deploy->keys [i]);
        //  It is the key of the node.key it made
        char *path = zsys_sprintf ("%s/node.key", deploy->nodes [i].data);
        zc_keys_t *keys = zc_keys_load (path);
        ck_assert_msg (keys, "--init made no %s", path);
        ck_assert_str_eq (deploy->keys [i], zc_keys_public_b64 (keys));
        zc_keys_destroy (&keys);
        free (path);
    }
    free (text);
    free (out);
    free (err);
    s_write_config (deploy);
}

static bool
s_health_ok (const char *address, const char *service)
{
    cJSON *reply = harness_request (address, ZC_FRAMING_LINE, "{\"action\":\"health\"}", 2000);
    const char *status = harness_string (reply, "status");
    const char *name = harness_string (reply, "service");
    bool ok = status && streq (status, "ok") && name && streq (name, service);
    cJSON_Delete (reply);
    return ok;
}

//  Starts one instance, verbose: the tests count the gateway's and the
//  server's per-notice lines, which are summed up under load otherwise.
static pid_t
s_start (s_deploy_t *deploy, const char *name)
{
    char log [64];
    snprintf (log, sizeof log, "%s.log", name);
    const char *args [] = { name, "-v" };
    return harness_zchaind_start (deploy->config, log, args, 2);
}

static void
s_start_nodes (s_deploy_t *deploy)
{
    for (size_t i = 0; i < S_NODES; i++)
        deploy->nodes [i].pid = s_start (deploy, deploy->nodes [i].name);
    for (size_t i = 0; i < S_NODES; i++)
        harness_node_wait_ready (&deploy->nodes [i], S_START_MS);
}

static void
s_start_gateway (s_deploy_t *deploy)
{
    deploy->gateway_pid = s_start (deploy, "gateway");
    HARNESS_AWAIT (s_health_ok (deploy->gateway, "gateway_server"), S_START_MS,
                   "the gateway did not answer health");
}

static void
s_start_server (s_deploy_t *deploy)
{
    deploy->server_pid = s_start (deploy, "server");
    HARNESS_AWAIT (s_health_ok (deploy->server, "market_server"), S_START_MS,
                   "the server did not answer health");
}

//  ---------------------------------------------------------------------
//  Transactions and confirmations

//  Submits a purchase through the gateway; its tx_id (caller frees).
static char *
s_purchase (s_deploy_t *deploy, int number)
{
    char text [512];
    snprintf (text, sizeof text, "{\"action\":\"submit_purchase\",\"body\":{\"tx_id\":\"o-%d\","
              "\"buyer\":\"b\",\"seller\":\"s\",\"asset_id\":\"a-%d\",\"asset_name\":\"n\","
              "\"price\":%d.5,\"timestamp\":\"2024-05-01T12:30:00Z\"}}", number, number, number);
    cJSON *reply = harness_request (deploy->gateway, ZC_FRAMING_LENGTH, text, S_REPLY_MS);
    const char *status = harness_string (reply, "status");
    const char *tx_id = harness_string (reply, "tx_id");
    ck_assert_msg (status && streq (status, "submitted") && tx_id, "purchase %d not submitted",
                   number);
    char *result = strdup (tx_id);
    cJSON_Delete (reply);
    return result;
}

//  Sends a client-signed transaction straight to a node; its id.
static char *
s_direct_tx (harness_node_t *node, zc_keys_t *keys, int number)
{
    char text [64];
    snprintf (text, sizeof text, "{\"direct\":%d}", number);
    cJSON *data = cJSON_Parse (text);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON *message = zc_tx_to_json (tx);
    cJSON_AddStringToObject (message, "type", "NEW_TRANSACTION");
    char *request = zc_jcs_serialize (message);
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LINE, request, S_REPLY_MS);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type && streq (type, "MINING_STARTED"), "%s did not take tx %d",
                   node->name, number);
    char *id = strdup (zc_tx_id (tx));
    cJSON_Delete (reply);
    free (request);
    cJSON_Delete (message);
    cJSON_Delete (data);
    zc_tx_destroy (&tx);
    return id;
}

//  The server's confirmation of a transaction (caller deletes).
static cJSON *
s_confirmation (s_deploy_t *deploy, const char *tx_id)
{
    char text [128];
    snprintf (text, sizeof text, "{\"type\":\"get_confirmation\",\"tx_id\":\"%s\"}", tx_id);
    return harness_request (deploy->server, ZC_FRAMING_LINE, text, 2000);
}

//  How many nodes the server says confirm tx_id (-1 if no answer).
static int
s_confirmed_by (s_deploy_t *deploy, const char *tx_id)
{
    cJSON *reply = s_confirmation (deploy, tx_id);
    int nodes = reply? (int) harness_number (reply, "nodes"): -1;
    cJSON_Delete (reply);
    return nodes;
}

//  True if the server lists node i among those confirming tx_id.
static bool
s_confirmed_by_node (s_deploy_t *deploy, const char *tx_id, size_t i)
{
    cJSON *reply = s_confirmation (deploy, tx_id);
    const cJSON *id;
    bool found = false;
    cJSON_ArrayForEach (id, cJSON_GetObjectItemCaseSensitive (reply, "node_ids"))
        found = found || (cJSON_IsString (id) && streq (id->valuestring, deploy->nodes [i].node_id));
    cJSON_Delete (reply);
    return found;
}

//  An integer from the server's market.sqlite3 (read-only).
static int64_t
s_market_int (s_deploy_t *deploy, const char *sql, const char *arg)
{
    char *path = zsys_sprintf ("%s/market.sqlite3", deploy->server_data);
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout (db, 5000);
    int64_t value = harness_sql_int (db, sql, arg);
    sqlite3_close (db);
    free (path);
    return value;
}

//  A genuine notice, as the server recorded it: n1's confirmation of the
//  block holding tx_id (caller frees).
static char *
s_genuine_notice (s_deploy_t *deploy, size_t node)
{
    char *path = zsys_sprintf ("%s/market.sqlite3", deploy->server_data);
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT body FROM notices WHERE node_id = ?"
                      " AND type = 'block_confirmation' ORDER BY id DESC LIMIT 1", -1, &stmt,
                      NULL), SQLITE_OK);
    sqlite3_bind_text (stmt, 1, deploy->nodes [node].node_id, -1, SQLITE_STATIC);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    char *body = strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    free (path);
    return body;
}

//  Notices a node still owes its gateway.
static int64_t
s_outbox (harness_node_t *node)
{
    sqlite3 *db = harness_ledger_open (node);
    int64_t count = harness_sql_int (db, "SELECT COUNT(*) FROM outbox", NULL);
    sqlite3_close (db);
    return count;
}

//  Checks PRAGMA integrity_check of a SQLite file says ok.
static void
s_integrity (const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL),
                      SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    ck_assert_msg (streq ((const char *) sqlite3_column_text (stmt, 0), "ok"),
                   "%s: integrity_check: %s", path, sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

//  How many lines of a log file contain text.
static int
s_log_count (const char *log, const char *text)
{
    char *path = harness_path ("%s", log);
    char *content = harness_read_file (path);
    int count = 0;
    for (const char *at = content; at && (at = strstr (at, text)); at++)
        count++;
    free (content);
    free (path);
    return count;
}

//  ---------------------------------------------------------------------
//  Forgeries

//  Sends one line to the gateway; true if it refused it (an error reply,
//  then the close), false if it acknowledged it.
static bool
s_gateway_refuses (s_deploy_t *deploy, const char *line)
{
    zc_client_t *client = zc_client_new (deploy->gateway, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    char *framed = zsys_sprintf ("%s\n", line);
    ck_assert_int_eq (zc_client_send_raw (client, framed, strlen (framed)), 0);
    free (framed);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type, "the gateway did not answer a notice: %s", line);
    bool refused = streq (type, "error") && zc_client_closed (client, S_REPLY_MS);
    ck_assert_msg (refused || streq (type, "notice_ack"), "unexpected answer %s", type);
    cJSON_Delete (reply);
    zc_client_destroy (&client);
    return refused;
}

//  Sends one line straight to the server, then get_confirmation of tx_id
//  on the same connection (answered once the line is handled); the number
//  of nodes that confirm tx_id.
static int
s_server_after (s_deploy_t *deploy, const char *line, const char *tx_id)
{
    zc_client_t *client = zc_client_new (deploy->server, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    char *framed = zsys_sprintf ("%s\n{\"type\":\"get_confirmation\",\"tx_id\":\"%s\"}\n",
                                 line, tx_id);
    ck_assert_int_eq (zc_client_send_raw (client, framed, strlen (framed)), 0);
    free (framed);
    //  A notice that is not well formed and signed is answered with an
    //  error first; a judged one gets no answer
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    const char *type = harness_string (reply, "type");
    if (type && streq (type, "error")) {
        cJSON_Delete (reply);
        reply = zc_client_recv (client, S_REPLY_MS);
    }
    ck_assert_msg (reply, "the server did not answer get_confirmation after a notice");
    int nodes = (int) harness_number (reply, "nodes");
    cJSON_Delete (reply);
    zc_client_destroy (&client);
    return nodes;
}

//  A notice text from JSON (frees it).
static char *
s_text (cJSON *json)
{
    char *text = zc_jcs_serialize (json);
    cJSON_Delete (json);
    return text;
}

//  Runs every forgery against the gateway and the server.  tx_id is a
//  purchase confirmed by every node; n1's genuine notice is re-used.
static void
s_forgeries (s_deploy_t *deploy, const char *tx_id)
{
    char *genuine = s_genuine_notice (deploy, 0);
    const char *fake_tx = "abababababababababababababababababababababababababababababababab";
    cJSON *base = cJSON_Parse (genuine);
    //  Genuine notices may still arrive meanwhile (two nodes that mined at
    //  once end their fork with a rollback and a confirmation, and a node
    //  that re-applies a block confirms it again), so what is counted is
    //  what a forgery or a replay would have added: a row of its very text
    //  (the server keeps each notice's JCS text, as these are written)
    static const char *s_rows_of = "SELECT COUNT(*) FROM notices WHERE body = ?";
    ck_assert_int_eq (s_market_int (deploy, s_rows_of, genuine), 1);
    double seq = harness_number (base, "seq");
    ck_assert (seq > 0);

    char *forged [8];
    const char *what [8];
    int count = 0;
    //  No signature (and a transaction that exists nowhere)
    cJSON *json = cJSON_Duplicate (base, true);
    cJSON_DeleteItemFromObjectCaseSensitive (json, "signature");
    cJSON_ReplaceItemInObjectCaseSensitive (json, "tx_ids", cJSON_CreateStringArray (&fake_tx, 1));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1000));
    what [count] = "no signature";
    forged [count++] = s_text (json);
    //  Signed by a key no node has
    zc_keys_t *stranger = zc_keys_new ();
    json = cJSON_Duplicate (base, true);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "tx_ids", cJSON_CreateStringArray (&fake_tx, 1));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1001));
    ck_assert_int_eq (zc_notice_sign (json, stranger), 0);
    what [count] = "unknown key";
    forged [count++] = s_text (json);
    //  A genuine notice with tx_ids, block_hash or node_id changed
    json = cJSON_Duplicate (base, true);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "tx_ids", cJSON_CreateStringArray (&fake_tx, 1));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1002));
    what [count] = "tx_ids changed";
    forged [count++] = s_text (json);
    json = cJSON_Duplicate (base, true);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "block_hash", cJSON_CreateString (fake_tx));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1003));
    what [count] = "block_hash changed";
    forged [count++] = s_text (json);
    json = cJSON_Duplicate (base, true);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "node_id",
                                            cJSON_CreateString (deploy->nodes [1].node_id));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1004));
    what [count] = "node_id changed";
    forged [count++] = s_text (json);
    //  n1's own key, speaking as n2
    char *path = zsys_sprintf ("%s/node.key", deploy->nodes [0].data);
    zc_keys_t *n1 = zc_keys_load (path);
    free (path);
    ck_assert_ptr_nonnull (n1);
    json = cJSON_Duplicate (base, true);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "node_id",
                                            cJSON_CreateString (deploy->nodes [1].node_id));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "tx_ids", cJSON_CreateStringArray (&fake_tx, 1));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (seq + 1005));
    ck_assert_int_eq (zc_notice_sign (json, n1), 0);
    ck_assert_ptr_null (zc_notice_check (json));     //  a valid signature...
    what [count] = "n1's key with n2's node_id";
    forged [count++] = s_text (json);

    for (int i = 0; i < count; i++) {
        ck_assert_msg (s_gateway_refuses (deploy, forged [i]),
                       "the gateway acknowledged a forgery (%s)", what [i]);
        ck_assert_msg (s_server_after (deploy, forged [i], fake_tx) == 0,
                       "the server counts a forgery (%s)", what [i]);
        //  The genuine count may move meanwhile (a node that rolls back
        //  and re-applies the block), but only back to every node: a
        //  forgery taken would hold it down for good
        if (s_server_after (deploy, forged [i], tx_id) != S_NODES)
            HARNESS_AWAIT (s_confirmed_by (deploy, tx_id) == S_NODES, S_CONFIRM_MS,
                           "a forgery (%s) changed a genuine confirmation", what [i]);
    }
    //  Nothing forged was recorded, even sent straight to the server
    ck_assert_int_eq (s_market_int (deploy, "SELECT COUNT(*) FROM notices WHERE block_hash = ?",
                                    fake_tx), 0);
    ck_assert_int_eq (s_market_int (deploy, "SELECT COUNT(*) FROM tx_confirmations "
                                    "WHERE tx_id = ?", fake_tx), 0);
    ck_assert_int_eq (s_market_int (deploy, "SELECT COUNT(*) FROM sources", NULL), S_NODES);
    for (int i = 0; i < count; i++)
        ck_assert_msg (s_market_int (deploy, s_rows_of, forged [i]) == 0,
                       "the server recorded a forgery (%s)", what [i]);
    ck_assert_int_ge (s_log_count ("gateway.log", "refused a block notice from"), count);
    ck_assert_int_ge (s_log_count ("server.log", "refused a block_confirmation from"), count);

    //  A replay of the genuine notice: acknowledged by the gateway but not
    //  queued again, and counted once by the server
    char hash_line [128];
    cJSON *hash = cJSON_GetObjectItemCaseSensitive (base, "block_hash");
    snprintf (hash_line, sizeof hash_line, "(%.16s) from node n1", hash->valuestring);
    //  (once, or again if n1 rolled the block back and re-applied it)
    int queued = s_log_count ("gateway.log", hash_line);
    ck_assert_int_ge (queued, 1);
    ck_assert_msg (!s_gateway_refuses (deploy, genuine), "the gateway refused a genuine notice");
    ck_assert_int_eq (s_log_count ("gateway.log", hash_line), queued);
    ck_assert_int_eq (s_server_after (deploy, genuine, tx_id), S_NODES);
    ck_assert_int_eq (s_server_after (deploy, genuine, tx_id), S_NODES);
    ck_assert_int_eq (s_market_int (deploy, s_rows_of, genuine), 1);

    for (int i = 0; i < count; i++)
        free (forged [i]);
    zc_keys_destroy (&stranger);
    zc_keys_destroy (&n1);
    cJSON_Delete (base);
    free (genuine);
}

//  Stops a process with SIGTERM and checks it exited 0.
static void
s_stop (pid_t pid, const char *what)
{
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "%s did not stop cleanly: %s", what,
                   harness_status_text (status, text, sizeof text));
}

//  ---------------------------------------------------------------------
//  1. Pinned keys

START_TEST (test_pinned)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy, NULL);
    s_pin_keys (&deploy);
    s_start_nodes (&deploy);
    s_start_server (&deploy);
    s_start_gateway (&deploy);

    char *tx_id = s_purchase (&deploy, 1);
    HARNESS_AWAIT (s_confirmed_by (&deploy, tx_id) == S_NODES, S_CONFIRM_MS,
                   "purchase %s not confirmed by every node", tx_id);
    s_forgeries (&deploy, tx_id);

    //  The server sees keys, not node_id strings: a new key speaking as
    //  n3 is refused too
    zc_keys_t *other = zc_keys_new ();
    char *notice = s_genuine_notice (&deploy, 2);
    cJSON *json = cJSON_Parse (notice);
    free (notice);
    ck_assert_ptr_nonnull (json);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (9e15));
    zc_notice_sign (json, other);
    char *line = s_text (json);
    ck_assert (s_gateway_refuses (&deploy, line));
    ck_assert_int_eq (s_server_after (&deploy, line, tx_id), S_NODES);
    free (line);
    zc_keys_destroy (&other);

    //  n3 with another node.key than the one pinned refuses to start,
    //  naming file, instance and both keys
    s_stop (deploy.nodes [2].pid, "n3");
    char *path = zsys_sprintf ("%s/node.key", deploy.nodes [2].data);
    zc_keys_t *fresh = zc_keys_new ();
    ck_assert_int_eq (zc_keys_save (fresh, path), 0);
    char *out = harness_path ("n3-again.out");
    char *err = harness_path ("n3-again.err");
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", deploy.config, "n3", NULL };
    int status = harness_run ((char *const *) argv, out, err, S_START_MS);
    ck_assert_msg (!harness_exited_with (status, 0), "n3 started with a key not pinned");
    char *log = harness_read_file (err);
    ck_assert_msg (log && strstr (log, deploy.config) && strstr (log, "node/n3/key")
                   && strstr (log, deploy.keys [2]) && strstr (log, zc_keys_public_b64 (fresh)),
                   "n3's refusal does not name file, instance and both keys: %s", log);
    free (log);
    free (out);
    free (err);
    free (path);
    zc_keys_destroy (&fresh);
    free (tx_id);
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  2. Learned keys, and a node that changed its key

START_TEST (test_learned)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy, NULL);
    s_start_nodes (&deploy);
    s_start_server (&deploy);
    s_start_gateway (&deploy);

    char *tx_id = s_purchase (&deploy, 1);
    HARNESS_AWAIT (s_confirmed_by (&deploy, tx_id) == S_NODES, S_CONFIRM_MS,
                   "purchase %s not confirmed by every node", tx_id);
    //  What they learned is kept in their data folders
    char *known = zsys_sprintf ("%s/known_nodes", deploy.gateway_data);
    char *text = harness_read_file (known);
    for (size_t i = 0; i < S_NODES; i++)
        ck_assert_msg (text && strstr (text, deploy.nodes [i].node_id), "%s lacks %s", known,
                       deploy.nodes [i].name);
    free (text);
    free (known);
    s_forgeries (&deploy, tx_id);

    //  A flood of forged notices, at the server and at the gateway, while
    //  a purchase goes through: every port keeps answering, the purchase is
    //  confirmed by every node
    zc_keys_t *stranger = zc_keys_new ();
    char *notice = s_genuine_notice (&deploy, 0);
    cJSON *json = cJSON_Parse (notice);
    free (notice);
    zc_notice_sign (json, stranger);
    char *forged = s_text (json);
    size_t length = strlen (forged) + 1;
    char *flood = (char *) malloc (length * 1000 + 1);
    for (size_t i = 0; i < 1000; i++)
        sprintf (flood + i * length, "%s\n", forged);
    char *third = s_purchase (&deploy, 3);
    zc_client_t *client = zc_client_new (deploy.server, ZC_FRAMING_LINE, NULL);
    ck_assert_int_eq (zc_client_send_raw (client, flood, length * 1000), 0);
    zc_client_destroy (&client);
    for (int i = 0; i < 100; i++)
        ck_assert (s_gateway_refuses (&deploy, forged));
    ck_assert (s_health_ok (deploy.gateway, "gateway_server"));
    ck_assert (s_health_ok (deploy.server, "market_server"));
    HARNESS_AWAIT (s_confirmed_by (&deploy, third) == S_NODES, S_CONFIRM_MS,
                   "purchase %s not confirmed by every node during a flood", third);
    free (third);
    free (flood);
    free (forged);
    zc_keys_destroy (&stranger);

    //  n3 comes back with another key: refused, loudly, by both
    s_stop (deploy.nodes [2].pid, "n3");
    char *path = zsys_sprintf ("%s/node.key", deploy.nodes [2].data);
    zc_keys_t *fresh = zc_keys_new ();
    ck_assert_int_eq (zc_keys_save (fresh, path), 0);
    free (path);
    deploy.nodes [2].pid = s_start (&deploy, "n3");
    harness_node_wait_ready (&deploy.nodes [2], S_START_MS);
    char *second = s_purchase (&deploy, 2);
    HARNESS_AWAIT (s_confirmed_by_node (&deploy, second, 0)
                   && s_confirmed_by_node (&deploy, second, 1), S_CONFIRM_MS,
                   "purchase %s not confirmed by n1 and n2", second);
    HARNESS_AWAIT (s_log_count ("gateway.log", "is not the key of a node of the file") > 0,
                   S_CONFIRM_MS, "the gateway did not refuse n3's new key");
    //  n1 and n2 may still fork and settle (a rollback, then the winning
    //  block's confirmation): wait for the count of two, never three
    ck_assert (!s_confirmed_by_node (&deploy, second, 2));
    HARNESS_AWAIT (s_confirmed_by (&deploy, second) == 2, S_CONFIRM_MS,
                   "purchase %s: expected n1 and n2 only", second);
    //  Straight to the server: refused as well
    notice = s_genuine_notice (&deploy, 2);
    json = cJSON_Parse (notice);
    free (notice);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "tx_ids",
                                            cJSON_CreateStringArray ((const char **) &second, 1));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "seq", cJSON_CreateNumber (9e15));
    zc_notice_sign (json, fresh);
    char *line = s_text (json);
    ck_assert_int_le (s_server_after (&deploy, line, second), 2);
    ck_assert (!s_confirmed_by_node (&deploy, second, 2));
    free (line);
    zc_keys_destroy (&fresh);
    free (second);
    free (tx_id);
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  3. Durability: SIGKILL of nodes, then of the gateway

//  True if every transaction is confirmed by every node at the server.
static bool
s_all_confirmed (s_deploy_t *deploy, char **ids, int count)
{
    for (int i = 0; i < count; i++)
        if (s_confirmed_by (deploy, ids [i]) != S_NODES)
            return false;
    return true;
}

static bool
s_all_mined (s_deploy_t *deploy, char **ids, int count)
{
    for (size_t n = 0; n < S_NODES; n++) {
        sqlite3 *db = harness_ledger_open (&deploy->nodes [n]);
        for (int i = 0; i < count; i++)
            if (harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE id = ?", ids [i]) != 1) {
                sqlite3_close (db);
                return false;
            }
        sqlite3_close (db);
    }
    return true;
}

START_TEST (test_durable)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy, NULL);
    s_start_nodes (&deploy);
    //  The gateway is down: transactions go straight to the nodes
    zc_keys_t *keys = zc_keys_new ();
    char *ids [6];
    for (int i = 0; i < 3; i++) {
        ids [i] = s_direct_tx (&deploy.nodes [i % S_NODES], keys, i);
        HARNESS_AWAIT (s_all_mined (&deploy, ids, i + 1), S_CONFIRM_MS, "tx %d not mined", i);
    }
    for (size_t i = 0; i < S_NODES; i++) {
        harness_stop (deploy.nodes [i].pid, SIGKILL, 1000);
        s_integrity (deploy.nodes [i].db);
        ck_assert_int_gt (s_outbox (&deploy.nodes [i]), 0);
    }
    s_start_nodes (&deploy);
    s_start_server (&deploy);
    s_start_gateway (&deploy);
    HARNESS_AWAIT (s_all_confirmed (&deploy, ids, 3), S_CONFIRM_MS,
                   "not every notice reached the server after the nodes were killed");

    //  The server is down and the gateway is killed after it took notices
    s_stop (deploy.server_pid, "server");
    for (int i = 3; i < 6; i++)
        ids [i] = s_purchase (&deploy, i);
    HARNESS_AWAIT (s_all_mined (&deploy, ids, 6), S_CONFIRM_MS, "purchases not mined");
    //  Every node's outbox is empty: the gateway holds what it owes
    for (size_t i = 0; i < S_NODES; i++) {
        harness_node_t *node = &deploy.nodes [i];
        HARNESS_AWAIT (s_outbox (node) == 0, S_CONFIRM_MS, "%s's outbox not emptied",
                       node->name);
    }
    harness_stop (deploy.gateway_pid, SIGKILL, 1000);
    char *spool = zsys_sprintf ("%s/gateway.sqlite3", deploy.gateway_data);
    s_integrity (spool);
    s_start_gateway (&deploy);
    s_start_server (&deploy);
    HARNESS_AWAIT (s_all_confirmed (&deploy, ids, 6), S_CONFIRM_MS,
                   "not every notice reached the server after the gateway was killed");

    //  Each notice recorded once
    ck_assert_int_eq (s_market_int (&deploy, "SELECT COUNT(*) FROM (SELECT body FROM notices"
                                    " GROUP BY body HAVING COUNT(*) > 1)", NULL), 0);
    for (size_t i = 0; i < S_NODES; i++)
        s_integrity (deploy.nodes [i].db);
    s_integrity (spool);
    char *market = zsys_sprintf ("%s/market.sqlite3", deploy.server_data);
    s_integrity (market);
    free (market);
    free (spool);
    for (int i = 0; i < 6; i++)
        free (ids [i]);
    zc_keys_destroy (&keys);
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  4. Permissioned mining

//  A valid block 1 on genesis with one transaction, mined at difficulty 2
//  and signed by keys; as a new_block message (caller frees).
static char *
s_outsider_block (zc_keys_t *keys)
{
    cJSON *data = cJSON_Parse ("{\"outsider\":true}");
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis), "2024-06-01T00:00:00.000000Z",
                                      &tx, 1);
    char hash [ZC_HASH_HEX + 1];
    uint64_t nonce = 0;
    char *preimage = zc_block_preimage (block);
    for (;; nonce++) {
        char *text = zsys_sprintf ("%s%" PRIu64, preimage, nonce);
        zc_sha256_hex (text, strlen (text), hash);
        free (text);
        if (zc_hash_meets (hash, 2))
            break;
    }
    free (preimage);
    char uuid [37];
    zc_uuid_new (uuid);
    ck_assert_int_eq (zc_block_seal (block, nonce, hash, uuid, keys), 0);
    cJSON *message = cJSON_CreateObject ();
    cJSON_AddStringToObject (message, "type", "new_block");
    cJSON_AddStringToObject (message, "node_id", uuid);
    cJSON_AddItemToObject (message, "data", zc_block_to_json (block));
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
    return text;
}

static int64_t
s_height (harness_node_t *node)
{
    cJSON *status = harness_status (node->address, 2000);
    int64_t height = status? (int64_t) harness_number (status, "height"): -1;
    cJSON_Delete (status);
    return height;
}

START_TEST (test_permissioned)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy, "    permissioned = yes\n");
    s_pin_keys (&deploy);
    deploy.keys [2][0] = 0;             //  n3's key is not allowed to mine
    s_write_config (&deploy);
    s_start_nodes (&deploy);
    zc_keys_t *outsider = zc_keys_new ();
    char *block = s_outsider_block (outsider);
    for (size_t i = 0; i < S_NODES; i++) {
        cJSON *reply = harness_request (deploy.nodes [i].address, ZC_FRAMING_LINE, block,
                                        S_REPLY_MS);
        const char *error = harness_string (reply, "error");
        ck_assert_msg (error && strstr (error, "permissioned"), "%s took an outsider's block",
                       deploy.nodes [i].name);
        cJSON_Delete (reply);
        ck_assert_int_eq (s_height (&deploy.nodes [i]), 0);
    }
    //  n3, whose key is not allowed, takes a transaction but does not mine
    s_stop (deploy.nodes [0].pid, "n1");
    s_stop (deploy.nodes [1].pid, "n2");
    char *tx_id = s_direct_tx (&deploy.nodes [2], outsider, 1);
    cJSON *status = harness_status (deploy.nodes [2].address, S_REPLY_MS);
    ck_assert_msg (status && harness_number (status, "mempool") == 1
                   && cJSON_IsFalse (cJSON_GetObjectItemCaseSensitive (status, "mining")),
                   "n3 mines with a key that is not allowed");
    cJSON_Delete (status);
    free (tx_id);
    s_stop (deploy.nodes [2].pid, "n3");

    //  permissioned = no: the same block is accepted
    snprintf (deploy.network, sizeof deploy.network, "    permissioned = no\n");
    s_write_config (&deploy);
    s_start_nodes (&deploy);
    cJSON *reply = harness_request (deploy.nodes [0].address, ZC_FRAMING_LINE, block, 2000);
    ck_assert_ptr_null (harness_string (reply, "error"));
    cJSON_Delete (reply);
    for (size_t i = 0; i < S_NODES; i++)
        HARNESS_AWAIT (s_height (&deploy.nodes [i]) >= 1, S_CONFIRM_MS,
                       "%s did not take the block with permissioned = no",
                       deploy.nodes [i].name);
    free (block);
    zc_keys_destroy (&outsider);
    s_deploy_free (&deploy);
}
END_TEST

//  ---------------------------------------------------------------------
//  5. gateway/allow

//  Sends health from a client socket bound to host; the reply text, or
//  NULL (caller frees).  *closed_p: the gateway closed the connection.
static char *
s_health_from (s_deploy_t *deploy, const char *host, bool *closed_p)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in local = { .sin_family = AF_INET };
    inet_pton (AF_INET, host, &local.sin_addr);
    ck_assert_msg (bind (fd, (struct sockaddr *) &local, sizeof local) == 0, "bind %s: %s",
                   host, strerror (errno));
    struct sockaddr_in remote = { .sin_family = AF_INET };
    inet_pton (AF_INET, "127.0.0.1", &remote.sin_addr);
    remote.sin_port = htons ((uint16_t) atoi (strchr (deploy->gateway, ':') + 1));
    ck_assert_int_eq (connect (fd, (struct sockaddr *) &remote, sizeof remote), 0);
    const char *request = "{\"action\":\"health\"}\n";
    ck_assert_int_eq (send (fd, request, strlen (request), MSG_NOSIGNAL), (ssize_t) strlen (request));
    char buffer [1024];
    size_t used = 0;
    *closed_p = false;
    int64_t deadline = harness_now_ms () + S_REPLY_MS;
    while (harness_now_ms () < deadline && used < sizeof buffer - 1) {
        struct pollfd item = { fd, POLLIN, 0 };
        if (poll (&item, 1, 100) <= 0)
            continue;
        ssize_t size = recv (fd, buffer + used, sizeof buffer - 1 - used, 0);
        if (size <= 0) {
            *closed_p = true;
            break;
        }
        used += (size_t) size;
        buffer [used] = 0;
        if (strchr (buffer, '\n') && strstr (buffer, "\"ok\""))
            break;                      //  served: the connection stays open
    }
    close (fd);
    buffer [used] = 0;
    return used? strdup (buffer): NULL;
}

START_TEST (test_allow)
{
    s_deploy_t deploy;
    s_deploy_init (&deploy, NULL);
    snprintf (deploy.allow, sizeof deploy.allow, "127.0.0.1/32");
    s_write_config (&deploy);
    s_start_gateway (&deploy);
    bool closed = false;
    char *reply = s_health_from (&deploy, "127.0.0.2", &closed);
    ck_assert_msg (reply && strstr (reply, "\"status\":\"error\"") && strstr (reply, "allow"),
                   "127.0.0.2 was not refused: %s", reply? reply: "(nothing)");
    ck_assert_msg (closed, "the gateway did not close a refused client's connection");
    free (reply);
    reply = s_health_from (&deploy, "127.0.0.1", &closed);
    ck_assert_msg (reply && strstr (reply, "\"status\":\"ok\""), "127.0.0.1 was not served: %s",
                   reply? reply: "(nothing)");
    free (reply);
    //  The default (127.0.0.0/8, ::1) serves 127.0.0.2
    s_stop (deploy.gateway_pid, "gateway");
    deploy.allow [0] = 0;
    s_write_config (&deploy);
    s_start_gateway (&deploy);
    reply = s_health_from (&deploy, "127.0.0.2", &closed);
    ck_assert_msg (reply && strstr (reply, "\"status\":\"ok\""), "127.0.0.2 not served by"
                   " default: %s", reply? reply: "(nothing)");
    free (reply);
    s_deploy_free (&deploy);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("trust");
    tcase_add_test (harness_tcase (suite, "pinned", 120), test_pinned);
    tcase_add_test (harness_tcase (suite, "learned", 120), test_learned);
    tcase_add_test (harness_tcase (suite, "durable", 180), test_durable);
    tcase_add_test (harness_tcase (suite, "permissioned", 120), test_permissioned);
    tcase_add_test (harness_tcase (suite, "allow", 60), test_allow);
    return testutil_run (suite);
}
