/*  =========================================================================
    zchain-cli - talks to a zchain node from a terminal or a script

        zchain-cli [-a HOST:PORT] [--json] [--length] COMMAND [ARGS]

    Every command sends one request and prints the reply: readable lines
    by default, the reply's JSON with --json.  Exit status: 0 on success,
    1 if the node answered an error or did not answer, 2 on bad usage.
    =========================================================================
*/

#include "../roles/zc_roles.h"

#define S_TIMEOUT_MS 10000              //  how long to wait for a reply

//  Options that apply to every command
typedef struct {
    const char *address;        //  node to talk to
    bool json;                  //  print raw JSON replies
    zc_framing_t framing;       //  framing of requests
} s_options_t;

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchain-cli [-a HOST:PORT] [--json] [--length] COMMAND [ARGS]\n"
        "commands:\n"
        "  ping                     liveness and node_id of the node\n"
        "  peers                    the node's peers (node_discovery)\n"
        "  status                   height, tip, mempool and peers of the node\n"
        "  block N                  the block at index N\n"
        "  submit [--key FILE] DATA sign DATA (JSON) and send it as NEW_TRANSACTION\n"
        "  keygen [--out FILE]      make an Ed25519 key (default: zchain.key)\n"
        "gateway commands (default -a 127.0.0.1:13300):\n"
        "  health                   is the gateway (or server) up?\n"
        "  tx [--key FILE] DATA     sign DATA and submit_transaction through the gateway\n"
        "  purchase --buyer B --seller S --asset-id A --asset-name N --price P\n"
        "           [--tx-id T] [--timestamp ISO8601]   submit_purchase\n"
        "server commands (default -a 127.0.0.1:13400):\n"
        "  confirmed TXID           is the ledger transaction TXID confirmed, by how many nodes?\n"
        "options:\n"
        "  -a HOST:PORT             node address (default 127.0.0.1:13246)\n"
        "  --json                   print the reply as JSON\n"
        "  --length                 send 2-byte length-prefixed frames, not lines\n");
}

//  Sends request to the node and returns its reply, or NULL after saying
//  why on stderr.
static cJSON *
s_request (s_options_t *options, cJSON *request)
{
    const char *error = NULL;
    zc_client_t *client = zc_client_new (options->address, options->framing, &error);
    if (!client) {
        fprintf (stderr, "zchain-cli: cannot connect to %s: %s\n", options->address,
                 error? error: "?");
        cJSON_Delete (request);
        return NULL;
    }
    cJSON *reply = zc_client_request (client, request, S_TIMEOUT_MS);
    zc_client_destroy (&client);
    cJSON_Delete (request);
    if (!reply)
        fprintf (stderr, "zchain-cli: no reply from %s\n", options->address);
    return reply;
}

//  A new request {"type": type}.
static cJSON *
s_message (const char *type)
{
    cJSON *message = cJSON_CreateObject ();
    cJSON_AddStringToObject (message, "type", type);
    return message;
}

//  String member or "" if absent.
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: "";
}

//  Number member or -1 if absent.
static double
s_number (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsNumber (item)? item->valuedouble: -1;
}

//  Prints a reply the way the options ask; returns the exit status.
static int
s_print (s_options_t *options, cJSON *reply, void (*human) (cJSON *reply))
{
    if (!reply)
        return 1;
    bool failed = streq (s_string (reply, "type"), "error")
               || streq (s_string (reply, "status"), "error");
    if (options->json) {
        char *text = zc_jcs_serialize (reply);
        printf ("%s\n", text? text: "null");
        free (text);
    }
    else
    if (failed) {
        const char *error = s_string (reply, "error");
        fprintf (stderr, "zchain-cli: error: %s\n", *error? error: s_string (reply, "message"));
    }
    else
        human (reply);
    cJSON_Delete (reply);
    return failed? 1: 0;
}

static void
s_print_pong (cJSON *reply)
{
    printf ("pong from node %s\n", s_string (reply, "node_id"));
}

static void
s_print_peers (cJSON *reply)
{
    const cJSON *node;
    cJSON_ArrayForEach (node, cJSON_GetObjectItemCaseSensitive (reply, "nodes")) {
        const char *node_id = s_string (node, "node_id");
        printf ("%-36s  %s:%.0f\n", *node_id? node_id: "(not yet known)",
                s_string (node, "host"), s_number (node, "port"));
    }
}

static void
s_print_status (cJSON *reply)
{
    printf ("node        %s\n", s_string (reply, "node_id"));
    printf ("height      %.0f\n", s_number (reply, "height"));
    printf ("tip         %s\n", s_string (reply, "tip_hash"));
    printf ("difficulty  %.0f\n", s_number (reply, "difficulty"));
    printf ("mempool     %.0f\n", s_number (reply, "mempool"));
    printf ("peers       %.0f\n", s_number (reply, "peers"));
}

static void
s_print_block (cJSON *reply)
{
    const cJSON *block = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (reply, "blocks"), 0);
    if (!block) {
        printf ("no such block\n");
        return;
    }
    printf ("index       %.0f\n", s_number (block, "index"));
    printf ("hash        %s\n", s_string (block, "current_hash"));
    printf ("prev_hash   %s\n", s_string (block, "prev_hash"));
    printf ("timestamp   %s\n", s_string (block, "timestamp"));
    printf ("nonce       %.0f\n", s_number (block, "nonce"));
    printf ("miner       %s\n", s_string (block, "miner_id"));
    const cJSON *txs = cJSON_GetObjectItemCaseSensitive (block, "transactions");
    printf ("txs         %d\n", cJSON_GetArraySize (txs));
    const cJSON *tx;
    cJSON_ArrayForEach (tx, txs) {
        const char *error = NULL;
        zc_tx_t *parsed = zc_tx_from_json (tx, &error);
        if (parsed)
            printf ("  %s  %s\n", zc_tx_id (parsed), zc_tx_data (parsed));
        zc_tx_destroy (&parsed);
    }
}

static void
s_print_health (cJSON *reply)
{
    printf ("%s is %s\n", s_string (reply, "service"), s_string (reply, "status"));
}

static void
s_print_broadcast (cJSON *reply)
{
    printf ("%s: reached %.0f of %.0f nodes\n", s_string (reply, "status"),
            s_number (reply, "nodes_reached"), s_number (reply, "total_nodes"));
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive (reply, "transaction");
    printf ("transaction %s\n", tx? s_string (tx, "id"): s_string (reply, "tx_id"));
}

static void
s_print_confirmation (cJSON *reply)
{
    if (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (reply, "confirmed")))
        printf ("confirmed by %.0f node(s) in block %.0f (%s)\n", s_number (reply, "nodes"),
                s_number (reply, "block_index"), s_string (reply, "block_hash"));
    else
        printf ("not confirmed\n");
}

static void
s_print_ack (cJSON *reply)
{
    printf ("%s by %s: %s\n", s_string (reply, "type"), s_string (reply, "miner"),
            s_string (reply, "message"));
}

//  submit (to a node) and tx (through the gateway): signs DATA with a key
//  and sends it as NEW_TRANSACTION or submit_transaction.
static int
s_submit (s_options_t *options, int argc, char *argv [], bool gateway)
{
    const char *key_path = NULL, *data_text = NULL;
    for (int arg = 0; arg < argc; arg++) {
        if (streq (argv [arg], "--key") && arg + 1 < argc)
            key_path = argv [++arg];
        else
        if (!data_text)
            data_text = argv [arg];
        else {
            fprintf (stderr, "zchain-cli: submit takes one DATA argument\n");
            return 2;
        }
    }
    if (!data_text) {
        fprintf (stderr, "zchain-cli: submit needs DATA, e.g. '{\"item\":\"apple\"}'\n");
        return 2;
    }
    cJSON *data = zc_json_parse (data_text, strlen (data_text));
    if (!data) {
        fprintf (stderr, "zchain-cli: DATA is not JSON: %s\n", data_text);
        return 2;
    }
    zc_keys_t *keys = key_path? zc_keys_load_or_create (key_path): zc_keys_new ();
    if (!keys) {
        fprintf (stderr, "zchain-cli: cannot load or create key %s\n", key_path);
        cJSON_Delete (data);
        return 1;
    }
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    zc_keys_destroy (&keys);
    if (!tx) {
        fprintf (stderr, "zchain-cli: DATA cannot be signed (not canonical JSON)\n");
        return 1;
    }
    cJSON *request = zc_tx_to_json (tx);
    if (gateway) {
        cJSON *body = request;
        request = cJSON_CreateObject ();
        cJSON_AddStringToObject (request, "action", "submit_transaction");
        cJSON_AddItemToObject (request, "body", body);
    }
    else
        cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    if (!options->json && !gateway)
        printf ("transaction %s\n", zc_tx_id (tx));
    zc_tx_destroy (&tx);
    return s_print (options, s_request (options, request),
                    gateway? s_print_broadcast: s_print_ack);
}

//  purchase: a submit_purchase built from flags; the gateway signs it.
static int
s_purchase (s_options_t *options, int argc, char *argv [])
{
    static const char *flags [][2] = {
        { "--tx-id", "tx_id" }, { "--buyer", "buyer" }, { "--seller", "seller" },
        { "--asset-id", "asset_id" }, { "--asset-name", "asset_name" },
        { "--timestamp", "timestamp" }, { "--price", "price" } };
    const char *values [7] = { NULL };
    for (int arg = 0; arg < argc; arg++) {
        size_t flag = 0;
        while (flag < 7 && strcmp (argv [arg], flags [flag][0]) != 0)
            flag++;
        if (flag == 7 || arg + 1 >= argc) {
            fprintf (stderr, "zchain-cli: purchase: unknown flag or missing value: %s\n", argv [arg]);
            return 2;
        }
        values [flag] = argv [++arg];
    }
    char tx_id [40], now [ZC_TIMESTAMP_LEN + 1];
    zc_uuid_new (tx_id);
    zc_timestamp_now (now);
    cJSON *body = cJSON_CreateObject ();
    for (size_t flag = 0; flag < 6; flag++)
        cJSON_AddStringToObject (body, flags [flag][1], values [flag]? values [flag]:
                                 flag == 0? tx_id: flag == 5? now: "");
    char *end = NULL;
    double price = values [6]? strtod (values [6], &end): 0;
    if (!values [6] || *end) {
        fprintf (stderr, "zchain-cli: purchase needs --price NUMBER\n");
        cJSON_Delete (body);
        return 2;
    }
    cJSON_AddNumberToObject (body, "price", price);
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "action", "submit_purchase");
    cJSON_AddItemToObject (request, "body", body);
    return s_print (options, s_request (options, request), s_print_broadcast);
}

//  keygen: a new key saved to a file, its public key printed.
static int
s_keygen (s_options_t *options, int argc, char *argv [])
{
    const char *path = "zchain.key";
    if (argc == 2 && streq (argv [0], "--out"))
        path = argv [1];
    else
    if (argc != 0) {
        fprintf (stderr, "zchain-cli: usage: keygen [--out FILE]\n");
        return 2;
    }
    if (zsys_file_exists (path)) {
        fprintf (stderr, "zchain-cli: %s exists; not overwriting it\n", path);
        return 1;
    }
    zc_keys_t *keys = zc_keys_new ();
    int rc = zc_keys_save (keys, path);
    if (rc == 0) {
        if (options->json)
            printf ("{\"path\":\"%s\",\"sender\":\"%s\"}\n", path, zc_keys_public_b64 (keys));
        else
            printf ("key saved to %s\nsender %s\n", path, zc_keys_public_b64 (keys));
    }
    else
        fprintf (stderr, "zchain-cli: cannot write %s\n", path);
    zc_keys_destroy (&keys);
    return rc == 0? 0: 1;
}

int
main (int argc, char *argv [])
{
    s_options_t options = { NULL, false, ZC_FRAMING_LINE };
    int arg = 1;
    for (; arg < argc && argv [arg][0] == '-'; arg++) {
        if (streq (argv [arg], "-a") && arg + 1 < argc)
            options.address = argv [++arg];
        else
        if (streq (argv [arg], "--json"))
            options.json = true;
        else
        if (streq (argv [arg], "--length"))
            options.framing = ZC_FRAMING_LENGTH;
        else
        if (streq (argv [arg], "-h") || streq (argv [arg], "--help")) {
            s_usage (stdout);
            return 0;
        }
        else {
            fprintf (stderr, "zchain-cli: unknown option %s\n", argv [arg]);
            s_usage (stderr);
            return 2;
        }
    }
    if (arg >= argc) {
        s_usage (stderr);
        return 2;
    }
    zsys_handler_set (NULL);
    const char *command = argv [arg++];
    int rest = argc - arg;
    //  Each command has the default address of the instance it talks to
    if (!options.address)
        options.address = streq (command, "health") || streq (command, "tx")
                       || streq (command, "purchase")? "127.0.0.1:13300":
                          streq (command, "confirmed")? "127.0.0.1:13400": "127.0.0.1:13246";
    if (streq (command, "ping") && rest == 0)
        return s_print (&options, s_request (&options, s_message ("ping")), s_print_pong);
    if (streq (command, "peers") && rest == 0)
        return s_print (&options, s_request (&options, s_message ("node_discovery")), s_print_peers);
    if (streq (command, "status") && rest == 0)
        return s_print (&options, s_request (&options, s_message ("get_status")), s_print_status);
    if (streq (command, "block") && rest == 1) {
        char *end = NULL;
        long long index = strtoll (argv [arg], &end, 10);
        if (*end || index < 0) {
            fprintf (stderr, "zchain-cli: block needs an index >= 0\n");
            return 2;
        }
        cJSON *request = s_message ("get_blocks");
        cJSON_AddNumberToObject (request, "from", (double) index);
        cJSON_AddNumberToObject (request, "limit", 1);
        return s_print (&options, s_request (&options, request), s_print_block);
    }
    if (streq (command, "submit"))
        return s_submit (&options, rest, argv + arg, false);
    if (streq (command, "tx"))
        return s_submit (&options, rest, argv + arg, true);
    if (streq (command, "purchase"))
        return s_purchase (&options, rest, argv + arg);
    if (streq (command, "health") && rest == 0) {
        cJSON *request = cJSON_CreateObject ();
        cJSON_AddStringToObject (request, "action", "health");
        return s_print (&options, s_request (&options, request), s_print_health);
    }
    if (streq (command, "confirmed") && rest == 1) {
        cJSON *request = s_message ("get_confirmation");
        cJSON_AddStringToObject (request, "tx_id", argv [arg]);
        return s_print (&options, s_request (&options, request), s_print_confirmation);
    }
    if (streq (command, "keygen"))
        return s_keygen (&options, rest, argv + arg);
    fprintf (stderr, "zchain-cli: unknown command or wrong arguments: %s\n", command);
    s_usage (stderr);
    return 2;
}
