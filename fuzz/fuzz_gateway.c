/*  fuzz_gateway.c - the gateway's message handler (zc_gateway_handle)

    One node is configured (its answers are messages from its address:
    those of even length), and the server is absent, so notices queue.
    Oracles: at most one answer per message, none empty or not JSON;
    every message sent on to a node is JSON.  A transaction waits for the
    node's answer, so a client's answer may come later: not counted.  */

#include "fuzz_link.h"

#define S_NAME "fuzz-gateway"
#define S_NODE "127.0.0.1:13999"

static zc_service_config_t s_config;
static zsock_t *s_bridge = NULL;
static void *s_state = NULL;

static void
s_setup (void)
{
    fuzz_quiet ();
    char template [] = "/tmp/zchain-fuzz-gateway-XXXXXX";
    char *folder = mkdtemp (template);
    FUZZ_ASSERT (folder, "no temporary folder");
    static char *nodes [] = { (char *) S_NODE };
    s_config.name = (char *) S_NAME;
    s_config.host = (char *) "127.0.0.1";
    s_config.port = 13996;
    s_config.data = strdup (folder);
    s_config.nodes = nodes;
    s_config.node_count = 1;
    s_config.server = (char *) "127.0.0.1:13995";
    s_config.verify_txs = false;        //  reach past the signature check
    s_config.max_message = ZC_MAX_MESSAGE;
    s_config.max_queue = 1000;
    s_bridge = fuzz_link_bind ("bridge", S_NAME);
    s_state = zc_gateway_state_new (&s_config);
    FUZZ_ASSERT (s_state, "gateway state cannot start in %s", folder);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_state)
        s_setup ();
    static uint32_t conn = 0;
    conn++;
    const char *address = size % 2? "127.0.0.1:40000": S_NODE;
    zc_gateway_handle (s_state, conn, address, (const char *) data, size);
    fuzz_outcome_t outcome = { 0 };
    fuzz_drain_bridge (s_bridge, conn, &outcome);
    FUZZ_ASSERT (outcome.answers <= 1, "%d answers for one message", outcome.answers);
    return 0;
}
