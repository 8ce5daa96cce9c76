/*  =========================================================================
    test_hostile.c - hostile input on real processes (issue 10)

    A whole deployment on loopback (three nodes, the gateway and the
    server in one zchaind) takes what the fuzzers and the JSON conformance
    suite found, over real TCP, and must answer each with an error reply
    that names the problem, store nothing it could not send back out, and
    keep working:
      - the poison block (miner_id or public_key_pem not UTF-8, or not of
        their form) offered to one node of three: refused; an honest copy
        of the block is taken once, a second copy differing only in fields
        the hash does not cover is ignored; every node syncs, and a later
        transaction is confirmed by all three at the server;
      - peer table: node_discovery with a bad host or port, an unsolicited
        node_list, a learnt peer that never answers (evicted);
      - unknown type or action, not UTF-8 or cut inside a character by the
        echo: a non-empty error reply;
      - huge numbers (port, from, block_index);
      - every file of tests/data/JSONTestSuite sent to a node, the gateway
        and the server: each n_ file answered "invalid JSON", no y_ file.
    Every wait polls a condition against a deadline.
    =========================================================================
*/

#include "../harness.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sqlite3.h>

#define S_NODES         3
#define S_START_MS      20000       //  an instance must answer within this
#define S_SYNC_MS       40000       //  nodes must agree within this
#define S_REPLY_MS      10000       //  one reply must arrive within this
#define S_EVICT_MS      60000       //  a silent learnt peer is gone within this
#define S_NETWORK       "difficulty = 2\nminers = 1\n"
#define S_MINER_A       "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define S_MINER_B       "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

typedef struct {
    harness_node_t nodes [S_NODES];
    char gateway [32];
    char server [32];
    char *gateway_data;
    char *server_data;
    char *config;
    pid_t pid;
} s_deploy_t;

//  True if address answers {"action":"health"} in that framing.
static bool
s_healthy (const char *address, zc_framing_t framing)
{
    cJSON *reply = harness_request (address, framing, "{\"action\":\"health\"}", 1000);
    const char *status = harness_string (reply, "status");
    bool ok = status && streq (status, "ok");
    cJSON_Delete (reply);
    return ok;
}

static void
s_deploy_start (s_deploy_t *deploy)
{
    memset (deploy, 0, sizeof *deploy);
    harness_nodes_init (deploy->nodes, S_NODES);
    snprintf (deploy->gateway, sizeof deploy->gateway, "127.0.0.1:%d", harness_free_port ());
    snprintf (deploy->server, sizeof deploy->server, "127.0.0.1:%d", harness_free_port ());
    deploy->gateway_data = harness_path ("gateway");
    deploy->server_data = harness_path ("server");
    deploy->config = harness_config_write ("zchain.conf", deploy->nodes, S_NODES, S_NETWORK);
    FILE *file = fopen (deploy->config, "a");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "gateway\n    host = 127.0.0.1\n    port = %s\n    data = %s\n"
             "server\n    host = 127.0.0.1\n    port = %s\n    data = %s\n",
             strchr (deploy->gateway, ':') + 1, deploy->gateway_data,
             strchr (deploy->server, ':') + 1, deploy->server_data);
    ck_assert_int_eq (fclose (file), 0);
    deploy->pid = harness_zchaind_start (deploy->config, "zchaind.log", NULL, 0);
    for (size_t i = 0; i < S_NODES; i++) {
        deploy->nodes [i].pid = deploy->pid;
        harness_node_wait_ready (&deploy->nodes [i], S_START_MS);
    }
    HARNESS_AWAIT (s_healthy (deploy->gateway, ZC_FRAMING_LENGTH), S_START_MS,
                   "gateway did not answer");
    HARNESS_AWAIT (s_healthy (deploy->server, ZC_FRAMING_LINE), S_START_MS,
                   "server did not answer");
}

static void
s_deploy_stop (s_deploy_t *deploy)
{
    int status = harness_stop (deploy->pid, SIGTERM, HARNESS_STOP_MS);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "zchaind did not stop cleanly: %s",
                   harness_status_text (status, text, sizeof text));
    harness_nodes_free (deploy->nodes, S_NODES);
    free (deploy->gateway_data);
    free (deploy->server_data);
    free (deploy->config);
}

//  ---------------------------------------------------------------------
//  Raw requests: bytes exactly as given, in either framing

//  Sends size bytes as one message on client; false if they cannot be
//  framed that way.
static bool
s_send_raw (zc_client_t *client, zc_framing_t framing, const char *data, size_t size)
{
    if (framing == ZC_FRAMING_LINE) {
        if (size == 0 || data [0] != '{' || memchr (data, '\n', size))
            return false;
        char *line = (char *) malloc (size + 1);
        memcpy (line, data, size);
        line [size] = '\n';
        int rc = zc_client_send_raw (client, line, size + 1);
        free (line);
        ck_assert_int_eq (rc, 0);
        return true;
    }
    if (size == 0 || size > ZC_MAX_LENGTH_FRAME)
        return false;
    char *frame = (char *) malloc (size + 2);
    frame [0] = (char) (size >> 8);
    frame [1] = (char) (size & 0xFF);
    memcpy (frame + 2, data, size);
    int rc = zc_client_send_raw (client, frame, size + 2);
    free (frame);
    ck_assert_int_eq (rc, 0);
    return true;
}

//  The text of an error reply ("error" of a node or server, "message" of
//  the gateway), or NULL if reply is not an error.
static const char *
s_error_text (const cJSON *reply)
{
    const char *type = harness_string (reply, "type");
    const char *status = harness_string (reply, "status");
    if (type && streq (type, "error"))
        return harness_string (reply, "error");
    if (status && streq (status, "error"))
        return harness_string (reply, "message");
    return NULL;
}

//  Sends bytes on a new connection and returns the reply (the test fails
//  if there is none: no silence).
static cJSON *
s_ask_raw (const char *address, zc_framing_t framing, const char *data, size_t size)
{
    const char *error = NULL;
    zc_client_t *client = zc_client_new (address, framing, &error);
    ck_assert_msg (client, "cannot connect to %s: %s", address, error? error: "?");
    ck_assert (s_send_raw (client, framing, data, size));
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    zc_client_destroy (&client);
    ck_assert_msg (reply, "no reply from %s to %.*s", address, (int) size, data);
    return reply;
}

//  Asserts that bytes sent to address (in both framings, where they can
//  be framed so) get an error reply containing expect.
static void
s_expect_error (const char *address, const char *data, const char *expect)
{
    size_t size = strlen (data);
    zc_framing_t framings [] = { ZC_FRAMING_LINE, ZC_FRAMING_LENGTH };
    for (int i = 0; i < 2; i++) {
        if (framings [i] == ZC_FRAMING_LINE && (data [0] != '{' || strchr (data, '\n')))
            continue;
        cJSON *reply = s_ask_raw (address, framings [i], data, size);
        const char *text = s_error_text (reply);
        char *json = zc_jcs_serialize (reply);
        ck_assert_msg (text && strstr (text, expect),
                       "%s answered %s to %.120s; expected an error with \"%s\"",
                       address, json? json: "?", data, expect);
        free (json);
        cJSON_Delete (reply);
    }
}

//  ---------------------------------------------------------------------
//  Blocks

//  Block 1 on genesis with one signed transaction, mined at difficulty 2
//  and sealed by keys with miner_id.
static zc_block_t *
s_mined_block (zc_keys_t *keys, const char *miner_id)
{
    zc_block_t *genesis = zc_block_genesis ();
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "poison", "test");
    zc_tx_t *txs [1] = { zc_tx_new_signed (keys, data) };
    cJSON_Delete (data);
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis),
                                      "2024-06-01T00:00:00.000000Z", txs, 1);
    zc_block_destroy (&genesis);
    char *preimage = zc_block_preimage (block);
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 32);
    char hash [ZC_HASH_HEX + 1];
    uint64_t nonce = 0;
    for (; ; nonce++) {
        int size = snprintf (text, length + 32, "%s%" PRIu64, preimage, nonce);
        zc_sha256_hex (text, (size_t) size, hash);
        if (zc_hash_meets (hash, 2))
            break;
    }
    free (text);
    free (preimage);
    ck_assert_int_eq (zc_block_seal (block, nonce, hash, miner_id, keys), 0);
    return block;
}

//  The text of a new_block message for block, with member name of its
//  data replaced by raw (already JSON-encoded, any bytes).  Caller frees.
static char *
s_new_block_text (zc_block_t *block, const char *name, const char *raw)
{
    cJSON *message = cJSON_CreateObject ();
    cJSON_AddStringToObject (message, "type", "new_block");
    cJSON_AddStringToObject (message, "node_id", S_MINER_A);
    cJSON *data = zc_block_to_json (block);
    if (name)
        cJSON_ReplaceItemInObject (data, name, cJSON_CreateString ("@@RAW@@"));
    cJSON_AddItemToObject (message, "data", data);
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    ck_assert_ptr_nonnull (text);
    if (!name)
        return text;
    char *at = strstr (text, "\"@@RAW@@\"");
    ck_assert_ptr_nonnull (at);
    *at = 0;
    char *result = zsys_sprintf ("%s%s%s", text, raw, at + 9);
    free (text);
    return result;
}

//  Height, tip and block 1's miner_id of a node's ledger.
static int64_t
s_height (harness_node_t *node)
{
    sqlite3 *db = harness_ledger_open (node);
    int64_t height = harness_sql_int (db, "SELECT MAX(\"index\") FROM blocks", NULL);
    sqlite3_close (db);
    return height;
}

static int64_t
s_blocks_by (harness_node_t *node, const char *miner_id)
{
    sqlite3 *db = harness_ledger_open (node);
    int64_t count = harness_sql_int (db, "SELECT COUNT(*) FROM blocks WHERE miner_id = ?", miner_id);
    sqlite3_close (db);
    return count;
}

//  Number of nodes the server says confirmed tx_id.
static int
s_confirmed_by (s_deploy_t *deploy, const char *tx_id)
{
    char text [160];
    snprintf (text, sizeof text, "{\"type\":\"get_confirmation\",\"tx_id\":\"%s\"}", tx_id);
    cJSON *reply = harness_request (deploy->server, ZC_FRAMING_LINE, text, 2000);
    int nodes = reply? (int) harness_number (reply, "nodes"): -1;
    cJSON_Delete (reply);
    return nodes;
}

//  1. The poison block, offered to one node of three.
START_TEST (test_poison_block)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy);
    harness_node_t *n1 = &deploy.nodes [0];
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_mined_block (keys, S_MINER_A);

    //  Not UTF-8 where neither hash nor signature looks: refused by the
    //  reader, before any check of the block
    char *pem_junk = zsys_sprintf ("\"\xff\xfe junk\\n%s\"", "-----BEGIN PUBLIC KEY-----");
    struct { const char *name; const char *raw; const char *expect; } poisons [] = {
        { "miner_id", "\"\xff\xfe\xfd\"", "not valid UTF-8" },
        { "miner_id", "\"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaa\xc3\"", "not valid UTF-8" },
        { "miner_id", "\"\\udc00\"", "lone low surrogate" },
        { "miner_id", "\"evil miner\"", "miner_id must be a UUID" },
        { "public_key_pem", pem_junk, "not valid UTF-8" },
        { "signature", "\"AAAA\xff\"", "not valid UTF-8" },
    };
    for (size_t i = 0; i < sizeof poisons / sizeof poisons [0]; i++) {
        char *text = s_new_block_text (block, poisons [i].name, poisons [i].raw);
        s_expect_error (n1->address, text, poisons [i].expect);
        free (text);
    }
    free (pem_junk);
    //  Valid UTF-8 junk around the key OpenSSL would read past
    cJSON *pem = cJSON_CreateString (zc_block_public_key_pem (block));
    char *quoted = zc_jcs_serialize (pem);
    cJSON_Delete (pem);
    char *junk = zsys_sprintf ("\"junk\\n%s", quoted + 1);
    char *text = s_new_block_text (block, "public_key_pem", junk);
    s_expect_error (n1->address, text, "public_key_pem must be a PEM public key");
    free (text);
    free (junk);
    free (quoted);
    //  No node stored anything
    for (size_t i = 0; i < S_NODES; i++)
        ck_assert_int_eq (s_height (&deploy.nodes [i]), 0);

    //  The honest block with miner_id A, then a copy differing only in
    //  miner_id (not hashed, not signed): the first is kept, the copy is
    //  the same block and changes nothing
    text = s_new_block_text (block, NULL, NULL);
    char hash [ZC_HASH_HEX + 1];
    snprintf (hash, sizeof hash, "%s", zc_block_hash (block));
    ck_assert_int_eq (zc_block_seal (block, zc_block_nonce (block), hash, S_MINER_B, keys), 0);
    char *copy = s_new_block_text (block, NULL, NULL);
    const char *error = NULL;
    zc_client_t *client = zc_client_new (n1->address, ZC_FRAMING_LINE, &error);
    ck_assert_ptr_nonnull (client);
    ck_assert (s_send_raw (client, ZC_FRAMING_LINE, text, strlen (text)));
    HARNESS_AWAIT (s_height (n1) == 1, S_SYNC_MS, "n1 did not take the honest block");
    ck_assert (s_send_raw (client, ZC_FRAMING_LINE, copy, strlen (copy)));
    //  The connection still answers, in order, after the copy
    ck_assert_int_eq (zc_client_send_raw (client, "{\"type\":\"ping\"}\n", 16), 0);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (harness_string (reply, "type"), "pong");
    cJSON_Delete (reply);
    zc_client_destroy (&client);
    free (text);
    free (copy);

    //  Every node syncs to it, with the copy n1 kept
    for (size_t i = 0; i < S_NODES; i++) {
        harness_node_t *node = &deploy.nodes [i];
        HARNESS_AWAIT (s_height (node) >= 1 && s_blocks_by (node, S_MINER_A) == 1,
                       S_SYNC_MS, "%s did not sync block 1 by %s", node->name, S_MINER_A);
        ck_assert_int_eq (s_blocks_by (node, S_MINER_B), 0);
    }

    //  ...and keeps working: a transaction through the gateway is
    //  confirmed by all three nodes at the server
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "after", "poison");
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "action", "submit_transaction");
    cJSON_AddItemToObject (request, "body", zc_tx_to_json (tx));
    char *request_text = zc_jcs_serialize (request);
    cJSON_Delete (request);
    reply = s_ask_raw (deploy.gateway, ZC_FRAMING_LENGTH, request_text, strlen (request_text));
    free (request_text);
    ck_assert_str_eq (harness_string (reply, "status"), "broadcast");
    cJSON_Delete (reply);
    HARNESS_AWAIT (s_confirmed_by (&deploy, zc_tx_id (tx)) == S_NODES, S_SYNC_MS,
                   "transaction %s not confirmed by all nodes", zc_tx_id (tx));
    zc_tx_destroy (&tx);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
    s_deploy_stop (&deploy);
}
END_TEST

//  True if a node's node_list lists host:port.
static bool
s_lists (harness_node_t *node, const char *host, int port)
{
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LINE,
                                    "{\"type\":\"node_discovery\"}", 2000);
    ck_assert_msg (reply, "node_discovery not answered");
    ck_assert_str_eq (harness_string (reply, "type"), "node_list");
    bool found = false;
    const cJSON *entry;
    cJSON_ArrayForEach (entry, cJSON_GetObjectItemCaseSensitive (reply, "nodes")) {
        const char *listed = harness_string (entry, "host");
        if (listed && streq (listed, host) && harness_number (entry, "port") == port)
            found = true;
    }
    cJSON_Delete (reply);
    return found;
}

//  2. The peer table: what a node is told of others.
START_TEST (test_peer_table)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy);
    harness_node_t *n1 = &deploy.nodes [0];

    //  Bad hosts and ports get an error naming them, and are not kept
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"\xff\xfe\",\"port\":1}",
                    "not valid UTF-8");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"bad host\",\"port\":1}",
                    "\"host\" must be");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"\",\"port\":1}",
                    "\"host\" must be");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"127.0.0.1\",\"port\":1e300}",
                    "\"port\" must be");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"127.0.0.1\",\"port\":-1e300}",
                    "\"port\" must be");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"127.0.0.1\",\"port\":70000}",
                    "\"port\" must be");
    s_expect_error (n1->address, "{\"type\":\"node_discovery\",\"host\":\"127.0.0.1\",\"port\":13.5}",
                    "\"port\" must be");
    //  A node_list nobody asked for is refused and changes nothing
    s_expect_error (n1->address, "{\"type\":\"node_list\",\"nodes\":[{\"host\":\"10.9.8.7\","
                    "\"port\":4242,\"node_id\":null}]}", "only as the answer to our node_discovery");
    ck_assert (!s_lists (n1, "10.9.8.7", 4242));

    //  A peer that says where it listens is learnt; it never answers (no
    //  one listens there), so it is dropped after its silent rounds
    int dead = harness_free_port ();
    char text [160];
    snprintf (text, sizeof text, "{\"type\":\"node_discovery\",\"host\":\"127.0.0.1\",\"port\":%d}", dead);
    cJSON *reply = harness_request (n1->address, ZC_FRAMING_LINE, text, S_REPLY_MS);
    ck_assert_str_eq (harness_string (reply, "type"), "node_list");
    cJSON_Delete (reply);
    ck_assert (s_lists (n1, "127.0.0.1", dead));
    HARNESS_AWAIT (!s_lists (n1, "127.0.0.1", dead), S_EVICT_MS,
                   "silent peer 127.0.0.1:%d still listed", dead);
    //  The peers of the config file stay, silent or not
    ck_assert (s_lists (n1, "127.0.0.1", deploy.nodes [1].port));
    ck_assert (s_lists (n1, "127.0.0.1", deploy.nodes [2].port));
    s_deploy_stop (&deploy);
}
END_TEST

//  3 and 4. Echoes that would not be UTF-8, and huge numbers.
START_TEST (test_echo_and_numbers)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy);
    harness_node_t *n1 = &deploy.nodes [0];
    //  An unknown type that is not UTF-8: named as such
    s_expect_error (n1->address, "{\"type\":\"\xff\xfe\xfd\"}", "not valid UTF-8");
    s_expect_error (deploy.gateway, "{\"action\":\"\xff\xfe\xfd\"}", "not valid UTF-8");
    s_expect_error (deploy.server, "{\"type\":\"\xff\"}", "not valid UTF-8");
    //  An unknown type of 2-byte characters whose 64-byte cut would fall
    //  inside one: echoed whole characters only, as valid JSON
    char type [200] = "x";
    for (int i = 0; i < 40; i++)
        strcat (type, "\xc3\xa9");
    char *message = zsys_sprintf ("{\"type\":\"%s\"}", type);
    char *expect = zsys_sprintf ("unknown message type \"%.63s\"", type);
    s_expect_error (n1->address, message, expect);
    zstr_free (&message);
    zstr_free (&expect);
    message = zsys_sprintf ("{\"action\":\"%s\"}", type);
    expect = zsys_sprintf ("unknown action \"%.63s\"", type);
    s_expect_error (deploy.gateway, message, expect);
    zstr_free (&message);
    zstr_free (&expect);
    //  Huge numbers, checked before any cast
    s_expect_error (n1->address, "{\"type\":\"get_blocks\",\"from\":1e300,\"limit\":1}", "\"from\"");
    s_expect_error (n1->address, "{\"type\":\"get_blocks\",\"from\":0,\"limit\":-1e300}", "\"limit\"");
    s_expect_error (deploy.server, "{\"type\":\"block_confirmation\",\"block_index\":1e300,"
                    "\"block_hash\":\"0af0ad5df75257be430a80ae3120e5e0094fe8eeedadfca7f07d6d3d9fdce0cd\","
                    "\"node_id\":\"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa\",\"tx_ids\":[]}",
                    "integer block_index");
    s_expect_error (deploy.server, "{\"type\":\"block_confirmation\",\"block_index\":1,"
                    "\"block_hash\":\"0af0ad5df75257be430a80ae3120e5e0094fe8eeedadfca7f07d6d3d9fdce0cd\","
                    "\"node_id\":\"not a uuid\",\"tx_ids\":[]}", "UUID node_id");
    //  The signed ["ab"] and a wire form with a suffix behind \uqqqq are
    //  not one transaction: the second is not JSON
    zc_keys_t *keys = zc_keys_new ();
    cJSON *data = cJSON_CreateArray ();
    cJSON_AddItemToArray (data, cJSON_CreateString ("ab"));
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    cJSON *request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    char *text = zc_jcs_serialize (request);
    cJSON_Delete (request);
    char *at = strstr (text, "[\"ab\"]");
    ck_assert_ptr_nonnull (at);
    *at = 0;
    char *forged = zsys_sprintf ("%s[\"ab\\uqqqqSECRET\"]%s", text, at + 6);
    s_expect_error (n1->address, forged, "four hex digits");
    zstr_free (&forged);
    free (text);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
    //  Lenient numbers and whitespace
    s_expect_error (n1->address, "{\"type\":\"get_blocks\",\"from\":012,\"limit\":1}", "leading zero");
    s_expect_error (n1->address, "{\"type\":\"get_blocks\",\"from\":1.,\"limit\":1}", "point");
    s_expect_error (n1->address, "{\"type\":\"ping\",\f\"x\":1}", "member name");
    s_expect_error (n1->address, "{\"type\":\"ping\",\"x\":\"a\tb\"}", "control character");
    //  Still answering
    char *node_id = harness_ping (n1->address, S_REPLY_MS);
    ck_assert_ptr_nonnull (node_id);
    free (node_id);
    s_deploy_stop (&deploy);
}
END_TEST

//  Reads a whole file; caller frees.
static char *
s_read_file (const char *path, size_t *size_p)
{
    FILE *file = fopen (path, "rb");
    ck_assert_ptr_nonnull (file);
    struct stat info;
    ck_assert_int_eq (fstat (fileno (file), &info), 0);
    char *data = (char *) malloc ((size_t) info.st_size + 1);
    size_t size = fread (data, 1, (size_t) info.st_size, file);
    fclose (file);
    *size_p = size;
    return data;
}

//  Sends one file on a connection kept open (reopened if the port closed
//  it) and checks the reply against what its name promises.
static int
s_conformance_one (const char *address, zc_client_t **client_p, zc_framing_t framing,
                   const char *name, const char *data, size_t size)
{
    if (!*client_p) {
        const char *error = NULL;
        *client_p = zc_client_new (address, framing, &error);
        ck_assert_msg (*client_p, "cannot connect to %s: %s", address, error? error: "?");
    }
    if (!s_send_raw (*client_p, framing, data, size))
        return 0;
    cJSON *reply = zc_client_recv (*client_p, S_REPLY_MS);
    if (!reply) {
        fprintf (stderr, "%s: no reply to %s\n", address, name);
        zc_client_destroy (client_p);
        return 1;
    }
    const char *error = s_error_text (reply);
    bool invalid = error && strstr (error, "invalid JSON");
    int failures = 0;
    if (name [0] == 'n' && !invalid) {
        fprintf (stderr, "%s took %s: %s\n", address, name, error? error: "no error");
        failures++;
    }
    //  The one documented exception: U+0000 is grammatical, but a C
    //  string cannot hold it (doc/PROTOCOL.md, "Strict JSON")
    if (name [0] == 'y' && invalid && !strstr (error, "U+0000")) {
        fprintf (stderr, "%s refused %s: %s\n", address, name, error);
        failures++;
    }
    cJSON_Delete (reply);
    return failures;
}

//  Every file of the conformance suite, on every port, in every framing
//  it can travel in.
START_TEST (test_conformance_every_port)
{
    s_deploy_t deploy;
    s_deploy_start (&deploy);
    const char *srcdir = getenv ("ZCHAIN_SRCDIR");
    char folder [1024];
    snprintf (folder, sizeof folder, "%s/tests/data/JSONTestSuite/test_parsing",
              srcdir? srcdir: ".");
    const char *ports [] = { deploy.nodes [0].address, deploy.gateway, deploy.server };
    zc_client_t *clients [3][2] = { { NULL } };
    zc_framing_t framings [2] = { ZC_FRAMING_LENGTH, ZC_FRAMING_LINE };
    DIR *dir = opendir (folder);
    ck_assert_msg (dir != NULL, "no %s", folder);
    int failures = 0, files = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        const char *name = entry->d_name;
        if (strlen (name) < 3 || name [1] != '_' || (name [0] != 'y' && name [0] != 'n'))
            continue;
        char path [2048];
        snprintf (path, sizeof path, "%s/%s", folder, name);
        size_t size = 0;
        char *data = s_read_file (path, &size);
        files++;
        for (int port = 0; port < 3; port++)
            for (int framing = 0; framing < 2; framing++)
                failures += s_conformance_one (ports [port], &clients [port][framing],
                                               framings [framing], name, data, size);
        free (data);
    }
    closedir (dir);
    for (int port = 0; port < 3; port++)
        for (int framing = 0; framing < 2; framing++)
            zc_client_destroy (&clients [port][framing]);
    ck_assert_int_ge (files, 283);
    ck_assert_int_eq (failures, 0);
    //  Every port still answers
    ck_assert (s_healthy (deploy.gateway, ZC_FRAMING_LENGTH));
    ck_assert (s_healthy (deploy.server, ZC_FRAMING_LINE));
    char *node_id = harness_ping (deploy.nodes [0].address, S_REPLY_MS);
    ck_assert_ptr_nonnull (node_id);
    free (node_id);
    s_deploy_stop (&deploy);
}
END_TEST

//  Config values that are hosts: zchaind refuses to start, naming the key.
static void
s_bad_config (const char *file, const char *text, const char *expect)
{
    char *path = harness_path ("%s", file);
    harness_write_file (path, text);
    char *err = harness_path ("%s.err", file);
    const char *argv [] = { harness_program ("ZCHAIND"), "-c", path, NULL };
    int status = harness_run ((char *const *) argv, NULL, err, S_START_MS);
    char *errors = harness_read_file (err);
    ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) != 0,
                   "zchaind started with %s", file);
    ck_assert_msg (errors && strstr (errors, expect), "stderr does not name %s: %s",
                   expect, errors? errors: "");
    free (errors);
    free (err);
    free (path);
}

START_TEST (test_config_hosts)
{
    char *data = harness_path ("n1");
    char text [1024];
    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = bad host\n        port = 13000\n        data = %s\n", data);
    s_bad_config ("space.conf", text, "node/n1/host");
    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = \xff\xfe\n        port = 13000\n        data = %s\n", data);
    s_bad_config ("utf8.conf", text, "node/n1/host");
    snprintf (text, sizeof text, "network\n    difficulty = 2\nnode\n    n1\n"
              "        host = 127.0.0.1\n        port = 13000\n        data = %s\n"
              "        peers = \"127.0.0.1:13001,bad\xffhost:13002\"\n", data);
    s_bad_config ("peers.conf", text, "node/n1/peers");
    free (data);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("hostile");
    tcase_add_test (harness_tcase (suite, "poison_block", 120), test_poison_block);
    tcase_add_test (harness_tcase (suite, "peer_table", 120), test_peer_table);
    tcase_add_test (harness_tcase (suite, "echo_and_numbers", 90), test_echo_and_numbers);
    tcase_add_test (harness_tcase (suite, "conformance_every_port", 120),
                    test_conformance_every_port);
    tcase_add_test (harness_tcase (suite, "config_hosts", 60), test_config_hosts);
    return testutil_run (suite);
}
