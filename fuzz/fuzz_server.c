/*  fuzz_server.c - the marketplace server's message handler
    (zc_server_handle), with its market.sqlite3 in a temporary folder

    Oracles: each message gets exactly one answer; no answer is empty or
    not JSON; a get_confirmation after each message still answers (what
    was stored can be read back out).  */

#include "fuzz_link.h"

#define S_NAME "fuzz-server"

static zc_service_config_t s_config;
static zsock_t *s_bridge = NULL;
static void *s_state = NULL;

static void
s_setup (void)
{
    fuzz_quiet ();
    char template [] = "/tmp/zchain-fuzz-server-XXXXXX";
    char *folder = mkdtemp (template);
    FUZZ_ASSERT (folder, "no temporary folder");
    s_config.name = (char *) S_NAME;
    s_config.host = (char *) "127.0.0.1";
    s_config.port = 13997;
    s_config.data = strdup (folder);
    s_config.max_message = ZC_MAX_MESSAGE;
    s_config.max_queue = 1000;
    s_bridge = fuzz_link_bind ("bridge", S_NAME);
    s_state = zc_server_state_new (&s_config);
    FUZZ_ASSERT (s_state, "server state cannot start in %s", folder);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_state)
        s_setup ();
    static uint32_t conn = 0;
    conn++;
    zc_server_handle (s_state, conn, "127.0.0.1:40000", (const char *) data, size);
    fuzz_outcome_t outcome = { 0 };
    fuzz_drain_bridge (s_bridge, conn, &outcome);
    FUZZ_ASSERT (outcome.answers == 1, "%d answers for one message", outcome.answers);
    //  Whatever was stored reads back out
    conn++;
    const char *ask = "{\"type\":\"get_confirmation\",\"tx_id\":"
                      "\"0000000000000000000000000000000000000000000000000000000000000000\"}";
    zc_server_handle (s_state, conn, "127.0.0.1:40001", ask, strlen (ask));
    memset (&outcome, 0, sizeof outcome);
    fuzz_drain_bridge (s_bridge, conn, &outcome);
    FUZZ_ASSERT (outcome.replies == 1 && streq (outcome.first, "confirmation"),
                 "get_confirmation not answered: %s", outcome.first);
    return 0;
}
