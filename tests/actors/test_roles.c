/*  =========================================================================
    test_roles.c - a node, the gateway and the server, run in-process

    As malamute tests its server actor: the test starts a node's actors
    (zc_node_new: bridge, listener, validator with its miner pool and
    ledger writer, notifier) and the gateway and server services in its
    own process, on a temporary folder and free loopback ports, and talks
    to them as any client does, over TCP with zc_client.  Then it stops
    them, so ASan sees every actor's teardown.  The process-level tests
    (tests/system/) run the same things through a forked zchaind.
    =========================================================================
*/

#include "../harness.h"
#include "../../src/roles/zc_roles.h"

#define S_TIMEOUT_MS    20000       //  any awaited condition, at most

//  The deployment of one test: a config file and what runs from it
typedef struct {
    zc_config_t *config;
    zc_node_t *node;
    zc_service_t *gateway;
    zc_service_t *server;
    char node_address [32];
    char gateway_address [32];
    char server_address [32];
} s_deploy_t;

//  Writes a config of one node at difficulty 1, a gateway and a server,
//  loads it and starts what is asked.
static void
s_deploy_start (s_deploy_t *deploy, bool services)
{
    memset (deploy, 0, sizeof *deploy);
    int node_port = harness_free_port ();
    int gateway_port = harness_free_port ();
    int server_port = harness_free_port ();
    snprintf (deploy->node_address, sizeof deploy->node_address, "127.0.0.1:%d", node_port);
    snprintf (deploy->gateway_address, sizeof deploy->gateway_address, "127.0.0.1:%d",
              gateway_port);
    snprintf (deploy->server_address, sizeof deploy->server_address, "127.0.0.1:%d",
              server_port);
    char *text = zsys_sprintf (
        "network\n"
        "    difficulty = 1\n"
        "    miners = 1\n"
        "node\n"
        "    n1\n"
        "        host = 127.0.0.1\n"
        "        port = %d\n"
        "        data = %s/n1\n"
        "gateway\n"
        "    host = 127.0.0.1\n"
        "    port = %d\n"
        "    data = %s/gateway\n"
        "server\n"
        "    host = 127.0.0.1\n"
        "    port = %d\n"
        "    data = %s/server\n",
        node_port, harness_dir (), gateway_port, harness_dir (), server_port, harness_dir ());
    char *path = harness_path ("zchain.conf");
    harness_write_file (path, text);
    char *error = NULL;
    deploy->config = zc_config_load (path, &error);
    ck_assert_msg (deploy->config, "config: %s", error? error: "?");
    free (path);
    free (text);

    deploy->node = zc_node_new (zc_config_node (deploy->config, "n1"));
    ck_assert_ptr_nonnull (deploy->node);
    if (services) {
        deploy->server = zc_service_new (zc_config_service (deploy->config, "server"));
        ck_assert_ptr_nonnull (deploy->server);
        deploy->gateway = zc_service_new (zc_config_service (deploy->config, "gateway"));
        ck_assert_ptr_nonnull (deploy->gateway);
    }
}

//  Stops everything in the reverse order of its start.
static void
s_deploy_stop (s_deploy_t *deploy)
{
    zc_service_destroy (&deploy->gateway);
    zc_service_destroy (&deploy->server);
    zc_node_destroy (&deploy->node);
    ck_assert_ptr_null (deploy->node);
    zc_config_destroy (&deploy->config);
}

//  Sends a request and returns the reply (NULL if none in time).
static cJSON *
s_request (const char *address, cJSON *request)
{
    zc_client_t *client = zc_client_new (address, ZC_FRAMING_LINE, NULL);
    ck_assert_msg (client, "cannot connect to %s", address);
    cJSON *reply = zc_client_request (client, request, 5000);
    zc_client_destroy (&client);
    cJSON_Delete (request);
    return reply;
}

//  A signed transaction with a little data; its id into id.
static zc_tx_t *
s_tx (zc_keys_t *keys, int number, char *id)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "test", "roles");
    cJSON_AddNumberToObject (data, "n", number);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    strcpy (id, zc_tx_id (tx));
    return tx;
}

//  What a wait looks for: a transaction, by id and signature
typedef struct {
    const char *address;
    char tx_id [ZC_HASH_HEX + 1];
    const char *signature;
} s_watch_t;

//  True once a block the node serves holds the transaction (blocks carry
//  transactions in their wire form, without ids).

static bool
s_mined (void *arg)
{
    s_watch_t *watch = (s_watch_t *) arg;
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "type", "get_blocks");
    cJSON_AddNumberToObject (request, "from", 1);
    cJSON_AddNumberToObject (request, "limit", 10);
    cJSON *reply = s_request (watch->address, request);
    bool found = false;
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive (reply, "blocks"), *block, *tx;
    cJSON_ArrayForEach (block, blocks) {
        const cJSON *txs = cJSON_GetObjectItemCaseSensitive (block, "transactions");
        cJSON_ArrayForEach (tx, txs)
            if (harness_string (tx, "signature")
            &&  streq (harness_string (tx, "signature"), watch->signature))
                found = true;
    }
    cJSON_Delete (reply);
    return found;
}

//  A node in-process: answers ping with its node_id, acknowledges a
//  transaction once durable, mines it into block 1 and serves that block
//  to get_blocks; a bad request gets an error and the node goes on.
START_TEST (test_node)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy, false);
    const char *node_id = zc_config_node (deploy.config, "n1")->node_id;
    ck_assert_uint_eq (strlen (node_id), 36);

    cJSON *ping = cJSON_CreateObject ();
    cJSON_AddStringToObject (ping, "type", "ping");
    cJSON *reply = s_request (deploy.node_address, ping);
    ck_assert_str_eq (harness_string (reply, "type"), "pong");
    ck_assert_str_eq (harness_string (reply, "node_id"), node_id);
    cJSON_Delete (reply);

    zc_keys_t *keys = zc_keys_new ();
    s_watch_t watch = { deploy.node_address, "", NULL };
    zc_tx_t *tx = s_tx (keys, 1, watch.tx_id);
    watch.signature = zc_tx_signature (tx);
    cJSON *request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    reply = s_request (deploy.node_address, request);
    ck_assert_str_eq (harness_string (reply, "type"), "MINING_STARTED");
    ck_assert_str_eq (harness_string (reply, "tx_id"), watch.tx_id);
    cJSON_Delete (reply);
    ck_assert_msg (harness_wait_until (s_mined, &watch, S_TIMEOUT_MS),
                   "transaction %s was not mined into a block", watch.tx_id);

    //  The same transaction again is acknowledged as known, not added
    request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    reply = s_request (deploy.node_address, request);
    ck_assert_str_eq (harness_string (reply, "type"), "MINING_STARTED");
    ck_assert_str_eq (harness_string (reply, "message"), "Transaction already known");
    cJSON_Delete (reply);

    request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "type", "no_such_message");
    reply = s_request (deploy.node_address, request);
    ck_assert_str_eq (harness_string (reply, "type"), "error");
    cJSON_Delete (reply);

    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    s_deploy_stop (&deploy);
}
END_TEST

//  What the server says of a transaction
static bool
s_confirmed (void *arg)
{
    s_watch_t *watch = (s_watch_t *) arg;
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "type", "get_confirmation");
    cJSON_AddStringToObject (request, "tx_id", watch->tx_id);
    cJSON *reply = s_request (watch->address, request);
    bool confirmed = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (reply, "confirmed"))
                  && harness_number (reply, "nodes") == 1;
    cJSON_Delete (reply);
    return confirmed;
}

//  The gateway and the server in-process beside a node: health, a
//  purchase through the gateway, its confirmation at the server.
START_TEST (test_services)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy, true);

    cJSON *health = cJSON_CreateObject ();
    cJSON_AddStringToObject (health, "action", "health");
    cJSON *reply = s_request (deploy.gateway_address, health);
    ck_assert_msg (reply && harness_string (reply, "status"), "gateway did not answer health");
    cJSON_Delete (reply);

    cJSON *purchase = cJSON_CreateObject ();
    cJSON_AddStringToObject (purchase, "action", "submit_purchase");
    cJSON *body = cJSON_AddObjectToObject (purchase, "body");
    cJSON_AddStringToObject (body, "tx_id", "purchase-1");
    cJSON_AddStringToObject (body, "buyer", "alice");
    cJSON_AddStringToObject (body, "seller", "bob");
    cJSON_AddStringToObject (body, "asset_id", "lamp-1");
    cJSON_AddStringToObject (body, "asset_name", "Desk lamp");
    cJSON_AddNumberToObject (body, "price", 12.34);
    cJSON_AddStringToObject (body, "timestamp", "2026-12-01T10:00:00Z");
    reply = s_request (deploy.gateway_address, purchase);
    const char *tx_id = harness_string (reply, "tx_id");
    ck_assert_msg (tx_id && zc_hash_valid (tx_id), "no tx_id in the gateway's answer");
    s_watch_t watch = { deploy.server_address, "", NULL };
    snprintf (watch.tx_id, sizeof watch.tx_id, "%s", tx_id);
    cJSON_Delete (reply);
    ck_assert_msg (harness_wait_until (s_confirmed, &watch, S_TIMEOUT_MS),
                   "the server never saw %s confirmed by the node", watch.tx_id);
    s_deploy_stop (&deploy);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("roles");
    tcase_add_test (harness_tcase (suite, "node", 60), test_node);
    tcase_add_test (harness_tcase (suite, "services", 60), test_services);
    return testutil_run (suite);
}
