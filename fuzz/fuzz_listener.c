/*  fuzz_listener.c - a node's message handler (zc_listener_handle)

    Every message goes through the listener's own handler with its own
    peer table; what it sends the bridge and the validator is read back.
    Oracles: each message gets exactly one answer, either to the client at
    once or through the validator (which always answers what it is
    passed); no answer has an empty or non-JSON body; and after each
    message, a node_discovery is still answered with a node_list zchain
    can send (the peer table holds only what can go back out).
    Messages of odd length come from the configured peer, the others from
    a client; a status round runs after each.  */

#include "fuzz_link.h"

#define S_NAME "fuzz-listener"
#define S_PEER "127.0.0.1:13999"

static zc_node_config_t s_config;
static zsock_t *s_bridge = NULL;
static zsock_t *s_validator = NULL;
static void *s_state = NULL;

static void
s_setup (void)
{
    fuzz_quiet ();
    static char *peers [] = { (char *) S_PEER };
    s_config.name = (char *) S_NAME;
    s_config.host = (char *) "127.0.0.1";
    s_config.port = 13998;
    s_config.data = (char *) "/nonexistent";
    s_config.difficulty = 1;
    s_config.max_block_txs = 100;
    s_config.max_message = ZC_MAX_MESSAGE;
    s_config.max_mempool = 1000;
    s_config.peers = peers;
    s_config.peer_count = 1;
    snprintf (s_config.node_id, sizeof s_config.node_id, "%s",
              "22222222-2222-4222-8222-222222222222");
    s_bridge = fuzz_link_bind ("bridge", S_NAME);
    s_state = zc_listener_state_new (&s_config);
    s_validator = fuzz_link_connect ("listener", S_NAME);
}

//  Reads what went to the validator (typed zc_msg commands); frees the
//  objects passed to it.
static void
s_drain_validator (uint32_t conn, fuzz_outcome_t *outcome)
{
    zc_msg_t *msg;
    bool malformed = false;
    while ((msg = zc_msg_recv (s_validator, &malformed))) {
        zc_msg_id_t id = zc_msg_id (msg);
        if (id == ZC_MSG_TX) {
            zc_tx_t *tx = zc_msg_take_tx (msg);
            FUZZ_ASSERT (tx, "no transaction");
            cJSON *json = zc_tx_to_json (tx);
            fuzz_assert_roundtrip (json, "transaction passed on");
            cJSON_Delete (json);
            zc_tx_destroy (&tx);
        }
        else
        if (id == ZC_MSG_BLOCK) {
            zc_block_t *block = zc_msg_take_block (msg);
            FUZZ_ASSERT (block, "no block");
            cJSON *json = zc_block_to_json (block);
            fuzz_assert_roundtrip (json, "block passed on");
            cJSON_Delete (json);
            zc_block_destroy (&block);
        }
        if ((id == ZC_MSG_TX || id == ZC_MSG_BLOCK || id == ZC_MSG_STATUS
        ||   id == ZC_MSG_GET_BLOCKS) && conn && zc_msg_conn (msg) == conn)
            outcome->forwarded++;
        zc_msg_destroy (&msg);
    }
    FUZZ_ASSERT (!malformed, "malformed validator command");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_state)
        s_setup ();
    static uint32_t conn = 0;
    conn++;
    const char *address = size % 2? S_PEER: "127.0.0.1:40000";
    zc_listener_handle (s_state, conn, address, (const char *) data, size);
    fuzz_outcome_t outcome = { 0 };
    fuzz_drain_bridge (s_bridge, conn, &outcome);
    s_drain_validator (conn, &outcome);
    //  new_transactions and blocks are answered DONE; a TX/BLOCK from a
    //  client is answered by the validator
    FUZZ_ASSERT (outcome.answers + outcome.forwarded == 1,
                 "%d answers and %d passed on for one message", outcome.answers,
                 outcome.forwarded);
    //  The table is always sendable
    conn++;
    const char *discovery = "{\"type\":\"node_discovery\"}";
    zc_listener_handle (s_state, conn, "127.0.0.1:40001", discovery, strlen (discovery));
    memset (&outcome, 0, sizeof outcome);
    fuzz_drain_bridge (s_bridge, conn, &outcome);
    FUZZ_ASSERT (outcome.replies == 1 && streq (outcome.first, "node_list"),
                 "node_discovery not answered with a node_list: %s", outcome.first);
    FUZZ_ASSERT (outcome.first_size <= ZC_MAX_LENGTH_FRAME,
                 "node_list of %zu bytes does not fit a length frame", outcome.first_size);
    zc_listener_tick (s_state);
    memset (&outcome, 0, sizeof outcome);
    fuzz_drain_bridge (s_bridge, 0, &outcome);
    return 0;
}
