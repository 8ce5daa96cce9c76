/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zchain-cli - talks to a zchain node from a terminal or a script

        zchain-cli [-a HOST:PORT] [--json] [--length] [--timeout S] [--wait[=S]]
                   COMMAND [ARGS]

    Every command sends one request and prints the reply: readable lines
    by default, the reply's JSON with --json.  Options may come before or
    after the command (getopt_long permutes); the flags of one command
    (--key, --buyer...) are refused with another.  Exit status:

        0   success
        1   the node answered an error, did not answer, or could not be
            reached (the reason, with the system's, is on stderr)
        2   bad usage
        3   block N: no such block
        4   confirmed TXID: not confirmed (yet)

    The same text is in zchain-cli(1) (doc/zchain-cli.1).
    =========================================================================
*/

#include "../roles/zc_roles.h"
#include <getopt.h>
#include <time.h>

#define S_EXIT_OK            0
#define S_EXIT_FAILED        1
#define S_EXIT_USAGE         2
#define S_EXIT_NO_BLOCK      3
#define S_EXIT_UNCONFIRMED   4

//  The purchase flags and the body field each fills
static const char *s_purchase_flags [][2] = {
    { "tx-id", "tx_id" }, { "buyer", "buyer" }, { "seller", "seller" },
    { "asset-id", "asset_id" }, { "asset-name", "asset_name" },
    { "timestamp", "timestamp" }, { "price", "price" } };
#define S_PURCHASE_FLAGS 7

//  Options, for every command and for some
typedef struct {
    const char *address;        //  -a: node to talk to
    bool json;                  //  --json: print raw JSON replies
    zc_framing_t framing;       //  --length: framing of requests
    int timeout_ms;             //  --timeout: reply deadline
    bool wait;                  //  --wait: retry connecting until up
    int wait_ms;                //  --wait=S: for at most this; 0 no limit
    const char *key_path;       //  --key (submit, tx)
    const char *out_path;       //  --out (keygen)
    const char *purchase [S_PURCHASE_FLAGS];    //  --buyer... (purchase)
} s_options_t;

//  The --help text.  doc/zchain-cli.1 lists the same flags
//  (tests/system/test_manpages.sh checks it).
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchain-cli [-a HOST:PORT] [--json] [--length] [--timeout S] [--wait[=S]]\n"
        "                  COMMAND [ARGS]\n"
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
        "options (before or after the command):\n"
        "  -a, --address HOST:PORT  node address (default 127.0.0.1:13246)\n"
        "  -j, --json               print the reply as JSON\n"
        "  --length                 send 2-byte length-prefixed frames, not lines\n"
        "  -t, --timeout S          wait S seconds at most for the reply (default 10)\n"
        "  -w, --wait[=S]           until the instance accepts connections, retry\n"
        "                           (at most S seconds; without S, without limit)\n"
        "  -h, --help               print this help and exit\n"
        "  -V, --version            print the version and exit\n"
        "exit status: 0 success; 1 error reply, no reply or cannot connect; 2 bad usage;\n"
        "  3 no such block (block N); 4 not confirmed (confirmed TXID)\n");
}

//  Sends request to the node and returns its reply, or NULL after saying
//  why on stderr.
static cJSON *
s_request (s_options_t *options, cJSON *request)
{
    const char *error = NULL;
    int64_t deadline = zclock_mono () + options->wait_ms;
    zc_client_t *client = zc_client_new (options->address, options->framing, &error);
    //  --wait: an instance that is starting refuses connections until its
    //  ledger is loaded; try again every 100 ms
    while (!client && options->wait && (options->wait_ms == 0 || zclock_mono () < deadline)) {
        zclock_sleep (100);
        client = zc_client_new (options->address, options->framing, &error);
    }
    if (!client) {
        fprintf (stderr, "zchain-cli: cannot connect to %s: %s\n", options->address,
                 error? error: "?");
        cJSON_Delete (request);
        return NULL;
    }
    errno = 0;
    cJSON *reply = zc_client_request (client, request, options->timeout_ms);
    int reason = errno;
    bool closed = !reply && zc_client_closed (client, 0);
    zc_client_destroy (&client);
    cJSON_Delete (request);
    if (!reply) {
        if (closed)
            fprintf (stderr, "zchain-cli: %s closed the connection without a reply\n",
                     options->address);
        else
        if (reason && reason != EAGAIN && reason != ETIMEDOUT)
            fprintf (stderr, "zchain-cli: no reply from %s: %s\n", options->address,
                     strerror (reason));
        else
            fprintf (stderr, "zchain-cli: no reply from %s within %.3g s\n", options->address,
                     options->timeout_ms / 1000.0);
    }
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

static void s_print_block (cJSON *reply);
static void s_print_confirmation (cJSON *reply);

//  Prints a reply the way the options ask; returns the exit status.
static int
s_print (s_options_t *options, cJSON *reply, void (*human) (cJSON *reply))
{
    if (!reply)
        return S_EXIT_FAILED;
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
    int rc = failed? S_EXIT_FAILED: S_EXIT_OK;
    //  An answer that says "no" is not an error, but scripts must see it
    if (!failed && human == s_print_block
    &&  !cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (reply, "blocks"), 0))
        rc = S_EXIT_NO_BLOCK;
    if (!failed && human == s_print_confirmation
    &&  !cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (reply, "confirmed")))
        rc = S_EXIT_UNCONFIRMED;
    cJSON_Delete (reply);
    return rc;
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
    const char *key_path = options->key_path, *data_text = argc > 0? argv [0]: NULL;
    if (argc > 1) {
        fprintf (stderr, "zchain-cli: %s takes one DATA argument\n", gateway? "tx": "submit");
        return S_EXIT_USAGE;
    }
    if (!data_text) {
        fprintf (stderr, "zchain-cli: %s needs DATA, e.g. '{\"item\":\"apple\"}'\n",
                 gateway? "tx": "submit");
        return S_EXIT_USAGE;
    }
    cJSON *data = zc_json_parse (data_text, strlen (data_text));
    if (!data) {
        fprintf (stderr, "zchain-cli: DATA is not JSON: %s\n", data_text);
        return S_EXIT_USAGE;
    }
    zc_keys_t *keys = key_path? zc_keys_load_or_create (key_path): zc_keys_new ();
    if (!keys) {
        fprintf (stderr, "zchain-cli: cannot load or create key %s\n", key_path);
        cJSON_Delete (data);
        return S_EXIT_FAILED;
    }
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    zc_keys_destroy (&keys);
    if (!tx) {
        fprintf (stderr, "zchain-cli: DATA cannot be signed (not canonical JSON)\n");
        return S_EXIT_FAILED;
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
    if (argc > 0) {
        fprintf (stderr, "zchain-cli: purchase takes flags only, not %s\n", argv [0]);
        return S_EXIT_USAGE;
    }
    const char **values = options->purchase;
    char tx_id [40], now [ZC_TIMESTAMP_LEN + 1];
    zc_uuid_new (tx_id);
    zc_timestamp_now (now);
    cJSON *body = cJSON_CreateObject ();
    for (size_t flag = 0; flag < 6; flag++)
        cJSON_AddStringToObject (body, s_purchase_flags [flag][1], values [flag]? values [flag]:
                                 flag == 0? tx_id: flag == 5? now: "");
    char *end = NULL;
    double price = values [6]? strtod (values [6], &end): 0;
    if (!values [6] || *end) {
        fprintf (stderr, "zchain-cli: purchase needs --price NUMBER\n");
        cJSON_Delete (body);
        return S_EXIT_USAGE;
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
    const char *path = options->out_path? options->out_path: "zchain.key";
    if (argc != 0) {
        fprintf (stderr, "zchain-cli: usage: keygen [--out FILE]\n");
        return S_EXIT_USAGE;
    }
    if (zsys_file_exists (path)) {
        fprintf (stderr, "zchain-cli: %s exists; not overwriting it\n", path);
        return S_EXIT_FAILED;
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

//  Parses a number of seconds in (0, max]; false if text is not one.
static bool
s_seconds (const char *text, double max, int *ms_p)
{
    char *end = NULL;
    errno = 0;
    double value = text && *text? strtod (text, &end): -1;
    if (!end || *end || errno || !(value > 0 && value <= max))
        return false;
    *ms_p = (int) (value * 1000 + 0.5);
    return true;
}

//  Says what is wrong with the command line; returns the usage status.
static int
s_bad_usage (const char *message, const char *what)
{
    fprintf (stderr, "zchain-cli: %s%s\nrun zchain-cli --help for the commands and options\n",
             message, what? what: "");
    return S_EXIT_USAGE;
}

int
main (int argc, char *argv [])
{
    enum { S_OPT_LENGTH = 256, S_OPT_KEY, S_OPT_OUT, S_OPT_PURCHASE };
    static const struct option longopts [] = {
        { "address",    required_argument, NULL, 'a' },
        { "json",       no_argument,       NULL, 'j' },
        { "length",     no_argument,       NULL, S_OPT_LENGTH },
        { "timeout",    required_argument, NULL, 't' },
        { "wait",       optional_argument, NULL, 'w' },
        { "help",       no_argument,       NULL, 'h' },
        { "version",    no_argument,       NULL, 'V' },
        { "key",        required_argument, NULL, S_OPT_KEY },
        { "out",        required_argument, NULL, S_OPT_OUT },
        { "tx-id",      required_argument, NULL, S_OPT_PURCHASE + 0 },
        { "buyer",      required_argument, NULL, S_OPT_PURCHASE + 1 },
        { "seller",     required_argument, NULL, S_OPT_PURCHASE + 2 },
        { "asset-id",   required_argument, NULL, S_OPT_PURCHASE + 3 },
        { "asset-name", required_argument, NULL, S_OPT_PURCHASE + 4 },
        { "timestamp",  required_argument, NULL, S_OPT_PURCHASE + 5 },
        { "price",      required_argument, NULL, S_OPT_PURCHASE + 6 },
        { NULL, 0, NULL, 0 }
    };
    s_options_t options;
    memset (&options, 0, sizeof options);
    options.framing = ZC_FRAMING_LINE;
    options.timeout_ms = 10000;
    bool purchase_flags = false;
    opterr = 0;
    int option;
    while ((option = getopt_long (argc, argv, ":a:jt:w::hV", longopts, NULL)) != -1) {
        switch (option) {
            case 'a': options.address = optarg; break;
            case 'j': options.json = true; break;
            case S_OPT_LENGTH: options.framing = ZC_FRAMING_LENGTH; break;
            case 't':
                if (!s_seconds (optarg, 3600, &options.timeout_ms))
                    return s_bad_usage ("--timeout needs a number of seconds above 0 and "
                                        "at most 3600, not ", optarg);
                break;
            case 'w':
                options.wait = true;
                if (optarg && !s_seconds (optarg, 86400, &options.wait_ms))
                    return s_bad_usage ("--wait=S needs a number of seconds above 0, not ",
                                        optarg);
                break;
            case 'h': s_usage (stdout); return S_EXIT_OK;
            case 'V': printf ("zchain-cli %s\n", ZCHAIN_VERSION); return S_EXIT_OK;
            case S_OPT_KEY: options.key_path = optarg; break;
            case S_OPT_OUT: options.out_path = optarg; break;
            case ':': return s_bad_usage ("this option needs a value: ", argv [optind - 1]);
            case '?': return s_bad_usage ("unknown option ", argv [optind - 1]);
            default:
                options.purchase [option - S_OPT_PURCHASE] = optarg;
                purchase_flags = true;
                break;
        }
    }
    if (optind >= argc) {
        s_usage (stderr);
        return S_EXIT_USAGE;
    }
    int arg = optind;
    zsys_handler_set (NULL);
    const char *command = argv [arg++];
    int rest = argc - arg;
    //  A command's own flags are refused with another command
    bool keyed = streq (command, "submit") || streq (command, "tx");
    if (options.key_path && !keyed)
        return s_bad_usage ("--key goes with submit or tx, not ", command);
    if (options.out_path && !streq (command, "keygen"))
        return s_bad_usage ("--out goes with keygen, not ", command);
    if (purchase_flags && !streq (command, "purchase"))
        return s_bad_usage ("--buyer, --seller, --asset-id, --asset-name, --price, --tx-id "
                            "and --timestamp go with purchase, not ", command);
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
            return S_EXIT_USAGE;
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
    return S_EXIT_USAGE;
}
