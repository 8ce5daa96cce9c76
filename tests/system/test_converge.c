/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_converge.c - integration tests of issue 4: a network of zchaind
    nodes converges on one chain whatever fails

    Every test starts real zchaind processes (see harness.h), one per
    instance, on free ports with a config written to a temporary folder,
    talks to them over TCP as outside clients do, and reads their SQLite
    ledgers to check what they agreed on.  Every wait polls a condition
    against a deadline.

      1. mining race: five nodes at difficulty 1, a gateway and a server;
         2,000 client-signed transactions through the gateway from twenty
         connections at once; one tip, each transaction once everywhere;
      2. kill -9: two of five nodes killed during a load and restarted;
         and every node killed right after acknowledging transactions
         (durable mempool): nothing acknowledged is lost or doubled;
      3. partition: nodes in two network namespaces joined by a veth pair
         mine apart, the link heals, the most-work chain wins and the
         losing side's transactions are mined again (skipped, saying why,
         where namespaces cannot be made);
      4. late node: a node whose config names one peer syncs 1,000 blocks
         and learns every peer;
      5. deep reorg: two nodes that were never peers mine 5 and 3 blocks
         apart; once connected the shorter side rolls back 3, applies 5,
         and mines its 3 blocks' transactions again;
      6. bogus branch: a fake peer sends an endless stream of orphans and
         invalid blocks; the node stays up, bounded, on its chain, and
         drops the connection that sent an invalid block.

    Under AddressSanitizer (detected at compile time) or with ZCHAIN_SLOW
    set in the environment, loads are smaller and deadlines longer.
    =========================================================================
*/

#define _GNU_SOURCE
#include "../harness.h"
#include <sqlite3.h>
#include <poll.h>
#include <sched.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>

#define S_START_MS      20000       //  a node must answer ping within this
#define S_REPLY_MS      10000       //  one reply must arrive within this
#define S_GENESIS_HASH  "0af0ad5df75257be430a80ae3120e5e0094fe8eeedadfca7f07d6d3d9fdce0cd"
#define S_MAX_NODES     8           //  nodes of one test, at most
#define S_FAKE_ID       "00000000-0000-4000-8000-00000000fa4e"

#if defined (__SANITIZE_ADDRESS__)
#   define S_SANITIZED  true
#else
#   define S_SANITIZED  false
#endif

//  ---------------------------------------------------------------------
//  Helpers: pace

//  True when the build is sanitized or ZCHAIN_SLOW is set: tests then use
//  smaller loads and longer deadlines, since everything runs 2-3x slower.
static bool
s_slow (void)
{
    return S_SANITIZED || getenv ("ZCHAIN_SLOW") != NULL;
}

//  How long nodes may take to agree after the last acknowledgement.
static int
s_converge_ms (void)
{
    return s_slow ()? 120000: 60000;
}

//  ---------------------------------------------------------------------
//  Helpers: network namespaces (test 3).  A node of the partition test
//  lives in a namespace; requests to it are made from inside it.

static char s_ns_a [32];            //  namespace of side A, "" if none
static char s_ns_b [32];            //  namespace of side B
static char s_dev_a [16];           //  veth end in side A
static char s_dev_b [16];           //  veth end in side B

//  The namespace each node port lives in, for requests from the test
static struct {
    int port;
    const char *ns;
} s_ns_map [S_MAX_NODES];
static size_t s_ns_map_count;

//  Namespace of a node, or NULL if it runs in ours.
static const char *
s_ns_of (const harness_node_t *node)
{
    for (size_t i = 0; i < s_ns_map_count; i++)
        if (s_ns_map [i].port == node->port)
            return s_ns_map [i].ns;
    return NULL;
}

//  Moves the test process into a namespace (NULL: stays); returns a
//  handle on the namespace it left, for s_ns_leave.  Sockets made inside
//  keep working there after we leave.
static int
s_ns_enter (const char *ns)
{
    if (!ns)
        return -1;
    int self_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ck_assert_msg (self_fd >= 0, "cannot open /proc/self/ns/net: %s", strerror (errno));
    char path [128];
    snprintf (path, sizeof path, "/var/run/netns/%s", ns);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg (fd >= 0, "cannot open %s: %s", path, strerror (errno));
    ck_assert_msg (setns (fd, CLONE_NEWNET) == 0, "setns %s: %s", ns, strerror (errno));
    close (fd);
    return self_fd;
}

//  Returns to the namespace s_ns_enter left.
static void
s_ns_leave (int self_fd)
{
    if (self_fd < 0)
        return;
    ck_assert_msg (setns (self_fd, CLONE_NEWNET) == 0, "setns back: %s", strerror (errno));
    close (self_fd);
}

//  Runs a shell command quietly; true if it exited 0.
static bool
s_shell (const char *format, ...)
{
    char command [512];
    va_list args;
    va_start (args, format);
    vsnprintf (command, sizeof command, format, args);
    va_end (args);
    char quiet [600];
    snprintf (quiet, sizeof quiet, "%s >/dev/null 2>&1", command);
    int rc = system (quiet);
    return rc != -1 && WIFEXITED (rc) && WEXITSTATUS (rc) == 0;
}

//  Unchecked fixture (in the runner): names the namespaces after the
//  runner's pid, so parallel runs never collide, and removes them after
//  the case whatever happened to the test (veths die with them).
static void
s_netns_case_setup (void)
{
    snprintf (s_ns_a, sizeof s_ns_a, "zcns%da", (int) getpid ());
    snprintf (s_ns_b, sizeof s_ns_b, "zcns%db", (int) getpid ());
    snprintf (s_dev_a, sizeof s_dev_a, "zcv%da", (int) getpid () % 10000000);
    snprintf (s_dev_b, sizeof s_dev_b, "zcv%db", (int) getpid () % 10000000);
}

static void
s_netns_case_teardown (void)
{
    if (geteuid () != 0)
        return;
    s_shell ("ip netns del %s", s_ns_a);
    s_shell ("ip netns del %s", s_ns_b);
    s_shell ("ip link del %s", s_dev_a);
}

//  ---------------------------------------------------------------------
//  Helpers: configs and processes

//  Writes a config: the network lines (one "key = value" per line), the
//  nodes (host from hosts [i] or 127.0.0.1; a `peers` key from peers [i]
//  when that is not NULL, "" meaning none) and extra text appended as it
//  is (gateway and server sections).  Returns its path (caller frees).
static char *
s_config_write (const char *file, harness_node_t *nodes, size_t count, const char *network,
                const char **hosts, const char **peers, const char *extra)
{
    size_t size = 1024 + strlen (network) * 2 + count * 2048 + (extra? strlen (extra): 0);
    char *text = (char *) calloc (1, size);
    ck_assert_ptr_nonnull (text);
    strcat (text, "#   written by test_converge\n");
    harness_network_section (text, network);
    strcat (text, "node\n");
    for (size_t i = 0; i < count; i++) {
        snprintf (text + strlen (text), size - strlen (text),
                  "    %s\n        host = %s\n        port = %d\n        data = %s\n",
                  nodes [i].name, hosts && hosts [i]? hosts [i]: "127.0.0.1",
                  nodes [i].port, nodes [i].data);
        if (peers && peers [i])
            snprintf (text + strlen (text), size - strlen (text),
                      "        peers = \"%s\"\n", peers [i]);
    }
    if (extra)
        strcat (text, extra);
    char *path = harness_path ("%s", file);
    harness_write_file (path, text);
    free (text);
    return path;
}

//  Starts one node in its own zchaind, stderr appended to NAME.log (so a
//  restarted node keeps one log); inside a namespace if it has one.
static void
s_node_start (harness_node_t *node, const char *config)
{
    char log [32];
    snprintf (log, sizeof log, "%s.log", node->name);
    const char *ns = s_ns_of (node);
    if (!ns) {
        const char *name = node->name;
        node->pid = harness_zchaind_start (config, log, &name, 1);
        return;
    }
    const char *ip = access ("/usr/sbin/ip", X_OK) == 0? "/usr/sbin/ip": "/sbin/ip";
    const char *argv [] = { ip, "netns", "exec", ns, harness_program ("ZCHAIND"),
                            "-c", config, node->name, NULL };
    char *log_path = harness_path ("%s", log);
    node->pid = harness_spawn (log, (char *const *) argv, NULL, log_path);
    free (log_path);
}

//  One request to a node on a new connection (from inside its namespace);
//  the reply, or NULL if none came within timeout_ms.
static cJSON *
s_node_request (harness_node_t *node, const char *text, int timeout_ms)
{
    int saved = s_ns_enter (s_ns_of (node));
    cJSON *reply = harness_request (node->address, ZC_FRAMING_LINE, text, timeout_ms);
    s_ns_leave (saved);
    return reply;
}

//  get_status of a node, or NULL.
static cJSON *
s_node_status (harness_node_t *node, int timeout_ms)
{
    cJSON *reply = s_node_request (node, "{\"type\":\"get_status\"}", timeout_ms);
    const char *type = harness_string (reply, "type");
    if (!type || !streq (type, "status")) {
        cJSON_Delete (reply);
        reply = NULL;
    }
    return reply;
}

//  Waits until a node answers ping and records its node_id; fails at
//  once if its process exits first.
static void
s_node_wait_ready (harness_node_t *node)
{
    int64_t deadline = harness_now_ms () + S_START_MS;
    while (true) {
        bool past = harness_now_ms () >= deadline;
        cJSON *reply = s_node_request (node, "{\"type\":\"ping\"}", 1000);
        const char *type = harness_string (reply, "type");
        const char *node_id = harness_string (reply, "node_id");
        bool ready = type && streq (type, "pong") && node_id;
        if (ready)
            snprintf (node->node_id, sizeof node->node_id, "%s", node_id);
        cJSON_Delete (reply);
        if (ready)
            return;
        int status = 0;
        if (node->pid && harness_wait_exit (node->pid, 0, &status)) {
            char text [64];
            node->pid = 0;
            ck_abort_msg ("zchaind for %s exited before answering ping: %s", node->name,
                          harness_status_text (status, text, sizeof text));
        }
        ck_assert_msg (!past, "%s (%s) did not answer ping within %d ms",
                       node->name, node->address, S_START_MS);
        harness_nap (HARNESS_POLL_MS);
    }
}

//  Starts nodes, each in its own zchaind, and waits until all answer.
static void
s_nodes_start (harness_node_t *nodes, size_t count, const char *config)
{
    for (size_t i = 0; i < count; i++)
        s_node_start (&nodes [i], config);
    for (size_t i = 0; i < count; i++)
        s_node_wait_ready (&nodes [i]);
}

//  SIGKILLs a node's process group and reaps it: a crash at any point.
static void
s_node_kill9 (harness_node_t *node)
{
    ck_assert_int_ne (node->pid, 0);
    kill (-node->pid, SIGKILL);
    ck_assert_msg (harness_wait_exit (node->pid, 10000, NULL),
                   "%s did not die of SIGKILL", node->name);
    node->pid = 0;
}

//  Stops a node with SIGTERM and checks it shut down cleanly (exit 0;
//  under AddressSanitizer that also means no leak was found).
static void
s_node_stop (harness_node_t *node)
{
    int status = harness_stop (node->pid, SIGTERM, HARNESS_STOP_MS);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "%s did not stop cleanly on SIGTERM: %s",
                   node->name, harness_status_text (status, text, sizeof text));
    node->pid = 0;
}

//  Stops every node still running, cleanly.
static void
s_nodes_stop (harness_node_t *nodes, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (nodes [i].pid)
            kill (-nodes [i].pid, SIGTERM);     //  all at once, in parallel
    for (size_t i = 0; i < count; i++)
        if (nodes [i].pid)
            s_node_stop (&nodes [i]);
}

//  ---------------------------------------------------------------------
//  Helpers: transactions

//  A client-signed transaction with data unique to tag and number.
static zc_tx_t *
s_tx_new (zc_keys_t *keys, const char *tag, int number)
{
    char text [160];
    snprintf (text, sizeof text, "{\"test\":\"converge\",\"tag\":\"%s\",\"n\":%d,"
              "\"note\":\"caf\\u00e9\"}", tag, number);
    cJSON *data = cJSON_Parse (text);
    ck_assert_ptr_nonnull (data);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    ck_assert_ptr_nonnull (tx);
    cJSON_Delete (data);
    return tx;
}

//  A set of transactions as requests: ids [i] and texts [i] (canonical
//  JSON of a gateway submit_transaction, or of a node's NEW_TRANSACTION).
//  Signed by `key_count` keys in turn.
typedef struct {
    size_t count;
    char **ids;
    char **texts;
} s_txs_t;

static s_txs_t *
s_txs_new (const char *tag, size_t count, size_t key_count, bool gateway)
{
    s_txs_t *self = (s_txs_t *) zmalloc (sizeof (s_txs_t));
    self->count = count;
    self->ids = (char **) zmalloc (count * sizeof (char *));
    self->texts = (char **) zmalloc (count * sizeof (char *));
    zc_keys_t *keys [8];
    ck_assert_uint_le (key_count, 8);
    for (size_t k = 0; k < key_count; k++)
        keys [k] = zc_keys_new ();
    for (size_t i = 0; i < count; i++) {
        zc_tx_t *tx = s_tx_new (keys [i % key_count], tag, (int) i);
        self->ids [i] = strdup (zc_tx_id (tx));
        cJSON *request = NULL;
        if (gateway) {
            request = cJSON_CreateObject ();
            cJSON_AddStringToObject (request, "action", "submit_transaction");
            cJSON_AddItemToObject (request, "body", zc_tx_to_json (tx));
        }
        else {
            request = zc_tx_to_json (tx);
            cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
        }
        self->texts [i] = zc_jcs_serialize (request);
        ck_assert_ptr_nonnull (self->texts [i]);
        cJSON_Delete (request);
        zc_tx_destroy (&tx);
    }
    for (size_t k = 0; k < key_count; k++)
        zc_keys_destroy (&keys [k]);
    return self;
}

static void
s_txs_destroy (s_txs_t **self_p)
{
    s_txs_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        free (self->ids [i]);
        free (self->texts [i]);
    }
    free (self->ids);
    free (self->texts);
    free (self);
    *self_p = NULL;
}

//  Sends one NEW_TRANSACTION to a node and checks MINING_STARTED by it.
//  Returns the id (caller frees).
static char *
s_node_submit (harness_node_t *node, zc_keys_t *keys, const char *tag, int number)
{
    zc_tx_t *tx = s_tx_new (keys, tag, number);
    cJSON *request = zc_tx_to_json (tx);
    cJSON_AddStringToObject (request, "type", "NEW_TRANSACTION");
    char *text = zc_jcs_serialize (request);
    cJSON *reply = s_node_request (node, text, S_REPLY_MS);
    ck_assert_msg (reply, "%s did not answer NEW_TRANSACTION", node->name);
    const char *type = harness_string (reply, "type");
    const char *miner = harness_string (reply, "miner");
    const char *tx_id = harness_string (reply, "tx_id");
    ck_assert_msg (type && streq (type, "MINING_STARTED") && miner
                   && streq (miner, node->node_id) && tx_id && streq (tx_id, zc_tx_id (tx)),
                   "%s did not acknowledge %s as expected: %s", node->name,
                   zc_tx_id (tx), type? type: "(no type)");
    char *id = strdup (zc_tx_id (tx));
    cJSON_Delete (reply);
    free (text);
    cJSON_Delete (request);
    zc_tx_destroy (&tx);
    return id;
}

//  ---------------------------------------------------------------------
//  Helpers: a load from many connections at once.  Non-blocking sockets
//  and poll(): each connection keeps up to `window` requests in flight,
//  2-byte length-prefixed, and matches replies to requests by tx_id.

//  Called after each acknowledgement with how many there are so far
typedef void (s_hook_fn) (void *arg, size_t acked);

//  One connection of the load
typedef struct {
    int fd;
    zc_codec_t *codec;          //  reassembles replies
    char *out;                  //  framed requests not yet written
    size_t out_size, out_sent, out_limit;
    size_t next;                //  next request this connection sends
    size_t inflight;            //  requests awaiting their reply
} s_conn_t;

//  A load: what to send, where, and what came back
typedef struct {
    s_txs_t *txs;               //  requests and their ids
    const char **addresses;     //  where connection c goes: [c % count]
    size_t address_count;
    bool gateway;               //  replies are the gateway's (else nodes')
    size_t conns;               //  connections; request i goes on i % conns
    size_t window;              //  requests in flight per connection
    s_hook_fn *hook;            //  or NULL
    void *hook_arg;
    bool *acked;                //  out: acked [i] if request i was
    size_t acked_count;         //  out: how many
    int64_t elapsed_ms;         //  out: how long it took
    int64_t *sent_at;           //  when request i was queued
    int64_t slowest_ms;         //  out: longest wait for one reply
    size_t partial;             //  out: gateway replies that reached
                                //  fewer than every node
    int total_nodes;            //  out: total_nodes of the last reply
} s_load_t;

//  Connects to a loopback "host:port", then makes the socket non-blocking.
static int
s_load_connect (const char *address)
{
    char host [64];
    snprintf (host, sizeof host, "%s", address);
    char *colon = strrchr (host, ':');
    ck_assert_ptr_nonnull (colon);
    *colon = 0;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) atoi (colon + 1));
    ck_assert_int_eq (inet_pton (AF_INET, host, &addr.sin_addr), 1);
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge (fd, 0);
    ck_assert_msg (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0,
                   "cannot connect to %s: %s", address, strerror (errno));
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

//  Checks one reply of the load and records its acknowledgement.
static void
s_load_reply (s_load_t *load, zhashx_t *index, const char *data, size_t size)
{
    cJSON *reply = zc_json_parse (data, size);
    ck_assert_msg (reply, "load: a reply is not JSON: %.*s", (int) size, data);
    const char *tx_id = harness_string (reply, "tx_id");
    bool good = false;
    if (load->gateway) {
        const char *status = harness_string (reply, "status");
        good = status && streq (status, "broadcast")
            && harness_number (reply, "nodes_reached") >= 1;
        load->total_nodes = (int) harness_number (reply, "total_nodes");
        if (harness_number (reply, "nodes_reached") < load->total_nodes)
            load->partial++;
    }
    else {
        const char *type = harness_string (reply, "type");
        good = type && streq (type, "MINING_STARTED");
    }
    ck_assert_msg (good, "load: expected %s, got %.*s", load->gateway?
                   "status broadcast": "MINING_STARTED", (int) size, data);
    uintptr_t slot = tx_id? (uintptr_t) zhashx_lookup (index, tx_id): 0;
    ck_assert_msg (slot, "load: reply names a transaction never sent: %.*s", (int) size, data);
    ck_assert_msg (!load->acked [slot - 1], "load: transaction %s acknowledged twice", tx_id);
    load->acked [slot - 1] = true;
    load->acked_count++;
    int64_t waited = harness_now_ms () - load->sent_at [slot - 1];
    if (waited > load->slowest_ms)
        load->slowest_ms = waited;
    cJSON_Delete (reply);
    if (load->hook)
        load->hook (load->hook_arg, load->acked_count);
}

//  Runs the load until every request is answered; fails the test on a bad
//  reply, a closed connection or after timeout_ms.
static void
s_load_run (s_load_t *load, int timeout_ms)
{
    size_t count = load->txs->count;
    load->acked = (bool *) zmalloc (count * sizeof (bool));
    load->acked_count = 0;
    load->sent_at = (int64_t *) zmalloc (count * sizeof (int64_t));
    zhashx_t *index = zhashx_new ();
    for (size_t i = 0; i < count; i++)
        zhashx_insert (index, load->txs->ids [i], (void *) (uintptr_t) (i + 1));
    s_conn_t *conns = (s_conn_t *) zmalloc (load->conns * sizeof (s_conn_t));
    struct pollfd *fds = (struct pollfd *) zmalloc (load->conns * sizeof (struct pollfd));
    for (size_t c = 0; c < load->conns; c++) {
        conns [c].fd = s_load_connect (load->addresses [c % load->address_count]);
        conns [c].codec = zc_codec_new (ZC_MAX_MESSAGE);
        zc_codec_set_framing (conns [c].codec, ZC_FRAMING_LENGTH);
        conns [c].out_limit = 64 * 1024;
        conns [c].out = (char *) malloc (conns [c].out_limit);
        conns [c].next = c;
    }
    int64_t start = harness_now_ms ();
    int64_t deadline = start + timeout_ms;
    char buffer [65536];
    while (load->acked_count < count) {
        ck_assert_msg (harness_now_ms () < deadline, "load: only %zu of %zu requests "
                       "answered within %d ms", load->acked_count, count, timeout_ms);
        for (size_t c = 0; c < load->conns; c++) {
            s_conn_t *conn = &conns [c];
            //  Queue requests up to the window
            while (conn->inflight < load->window && conn->next < count) {
                const char *text = load->txs->texts [conn->next];
                size_t length = strlen (text);
                ck_assert_uint_le (length, ZC_MAX_LENGTH_FRAME);
                if (conn->out_size + length + 2 > conn->out_limit) {
                    conn->out_limit = 2 * (conn->out_size + length + 2);
                    conn->out = (char *) realloc (conn->out, conn->out_limit);
                }
                conn->out [conn->out_size++] = (char) (length >> 8);
                conn->out [conn->out_size++] = (char) (length & 0xff);
                memcpy (conn->out + conn->out_size, text, length);
                conn->out_size += length;
                load->sent_at [conn->next] = harness_now_ms ();
                conn->inflight++;
                conn->next += load->conns;
            }
            fds [c].fd = conn->fd;
            fds [c].events = POLLIN | (conn->out_sent < conn->out_size? POLLOUT: 0);
            fds [c].revents = 0;
        }
        int rc = poll (fds, load->conns, 200);
        ck_assert_msg (rc >= 0 || errno == EINTR, "poll: %s", strerror (errno));
        for (size_t c = 0; c < load->conns && rc > 0; c++) {
            s_conn_t *conn = &conns [c];
            if (fds [c].revents & POLLOUT) {
                ssize_t sent = send (conn->fd, conn->out + conn->out_sent,
                                     conn->out_size - conn->out_sent, MSG_NOSIGNAL);
                if (sent > 0)
                    conn->out_sent += (size_t) sent;
                if (conn->out_sent == conn->out_size)
                    conn->out_sent = conn->out_size = 0;
            }
            if (fds [c].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t size = recv (conn->fd, buffer, sizeof buffer, 0);
                if (size < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                ck_assert_msg (size > 0, "load: %s closed connection %zu with %zu requests "
                               "in flight", load->addresses [c % load->address_count],
                               c, conn->inflight);
                ck_assert_int_eq (zc_codec_feed (conn->codec, buffer, (size_t) size), 0);
                const char *data;
                size_t length;
                int next;
                while ((next = zc_codec_next (conn->codec, &data, &length)) == 1) {
                    ck_assert_uint_gt (conn->inflight, 0);
                    conn->inflight--;
                    s_load_reply (load, index, data, length);
                }
                ck_assert_msg (next == 0, "load: bad framing in replies: %s",
                               zc_codec_error (conn->codec));
            }
        }
    }
    load->elapsed_ms = harness_now_ms () - start;
    free (load->sent_at);
    load->sent_at = NULL;
    fprintf (stderr, "test_converge: load: %zu requests on %zu connections answered in %"
             PRId64 " ms; slowest reply %" PRId64 " ms%s\n", count, load->conns,
             load->elapsed_ms, load->slowest_ms, load->partial? "; some reached only "
             "part of the nodes": "");
    if (load->partial)
        fprintf (stderr, "test_converge: load: %zu of %zu replies reached fewer than %d "
                 "nodes\n", load->partial, count, load->total_nodes);
    for (size_t c = 0; c < load->conns; c++) {
        close (conns [c].fd);
        zc_codec_destroy (&conns [c].codec);
        free (conns [c].out);
    }
    free (conns);
    free (fds);
    zhashx_destroy (&index);
}

//  ---------------------------------------------------------------------
//  Helpers: agreement, by get_status

//  What the last poll of the nodes saw
typedef struct {
    harness_node_t *nodes;
    size_t count;
    int64_t min_height;         //  agreement below this does not count
    int64_t height;             //  agreed height, once agreed
    char tip [ZC_HASH_HEX + 1]; //  agreed tip
    char seen [2048];           //  what each node said, for messages
} s_agree_t;

//  True if every node answers get_status with the same height and tip, at
//  least min_height, and an empty mempool.
static bool
s_agreed (void *arg)
{
    s_agree_t *state = (s_agree_t *) arg;
    bool agreed = true;
    state->seen [0] = 0;
    for (size_t i = 0; i < state->count; i++) {
        cJSON *status = s_node_status (&state->nodes [i], 2000);
        const char *tip = harness_string (status, "tip_hash");
        int64_t height = (int64_t) harness_number (status, "height");
        int64_t mempool = (int64_t) harness_number (status, "mempool");
        size_t used = strlen (state->seen);
        snprintf (state->seen + used, sizeof state->seen - used,
                  " %s: height %" PRId64 " tip %.12s mempool %" PRId64
                  " mining %s peers %d;",
                  state->nodes [i].name, height, tip? tip: "?", mempool,
                  cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (status, "mining"))?
                  "yes": "no", (int) harness_number (status, "peers"));
        if (!tip || height < state->min_height || mempool != 0)
            agreed = false;
        else
        if (i == 0) {
            state->height = height;
            snprintf (state->tip, sizeof state->tip, "%s", tip);
        }
        else
        if (height != state->height || strcmp (tip, state->tip) != 0)
            agreed = false;
        cJSON_Delete (status);
    }
    return agreed;
}

//  Waits until the nodes agree; returns the height, copies the tip.
static int64_t
s_wait_agreed (harness_node_t *nodes, size_t count, int64_t min_height, int timeout_ms,
               char *tip)
{
    s_agree_t state = { nodes, count, min_height, -1, "", "" };
    int64_t start = harness_now_ms ();
    bool agreed = harness_wait_until (s_agreed, &state, timeout_ms);
    ck_assert_msg (agreed, "nodes did not agree on one chain (height >= %" PRId64
                   ", empty mempools) within %d ms; last seen:%s",
                   min_height, timeout_ms, state.seen);
    fprintf (stderr, "test_converge: %zu nodes agreed at height %" PRId64 " after %" PRId64
             " ms\n", count, state.height, harness_now_ms () - start);
    if (tip)
        strcpy (tip, state.tip);
    return state.height;
}

//  Height of a node by get_status (tip copied if asked); -1 if silent.
static int64_t
s_node_height (harness_node_t *node, char *tip)
{
    cJSON *status = s_node_status (node, 2000);
    int64_t height = status? (int64_t) harness_number (status, "height"): -1;
    if (tip && status)
        snprintf (tip, ZC_HASH_HEX + 1, "%s", harness_string (status, "tip_hash"));
    cJSON_Delete (status);
    return height;
}

//  Waits until a node's height reaches min_height.
static void
s_wait_height (harness_node_t *node, int64_t min_height)
{
    int64_t height = -1;
    HARNESS_AWAIT ((height = s_node_height (node, NULL)) >= min_height, s_converge_ms (),
                   "%s stayed at height %" PRId64 ", expected >= %" PRId64,
                   node->name, height, min_height);
}

//  ---------------------------------------------------------------------
//  Helpers: the SQLite ledgers, read as any outside tool would

//  Runs SQL that yields no rows.
static void
s_sql_exec (sqlite3 *db, const char *sql)
{
    char *message = NULL;
    ck_assert_msg (sqlite3_exec (db, sql, NULL, NULL, &message) == SQLITE_OK,
                   "%s: %s", sql, message? message: "?");
}

//  PRAGMA integrity_check of an open ledger must say ok.
static void
s_ledger_integrity (sqlite3 *db, harness_node_t *node)
{
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL),
                      SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    const char *verdict = (const char *) sqlite3_column_text (stmt, 0);
    ck_assert_msg (verdict && streq (verdict, "ok"), "%s: integrity_check: %s", node->db,
                   verdict? verdict: "(null)");
    sqlite3_finalize (stmt);
}

//  Loads ids into a temporary table `acked` of an open ledger (a read-only
//  connection still has its own temp schema).
static void
s_ledger_load_ids (sqlite3 *db, char **ids, size_t count)
{
    s_sql_exec (db, "CREATE TEMP TABLE IF NOT EXISTS acked (id TEXT PRIMARY KEY)");
    s_sql_exec (db, "DELETE FROM temp.acked");
    s_sql_exec (db, "BEGIN");
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "INSERT INTO temp.acked VALUES (?)", -1,
                                          &stmt, NULL), SQLITE_OK);
    for (size_t i = 0; i < count; i++) {
        sqlite3_reset (stmt);
        sqlite3_bind_text (stmt, 1, ids [i], -1, SQLITE_STATIC);
        ck_assert_int_eq (sqlite3_step (stmt), SQLITE_DONE);
    }
    sqlite3_finalize (stmt);
    s_sql_exec (db, "COMMIT");
}

//  Checks one node's ledger after the nodes agreed: integrity ok; one
//  chain from genesis, each block linked to the one below with proof of
//  work at difficulty, ending at height / tip; every transaction row in
//  a block of it; no id twice; every id of ids there; with `only`, nothing
//  else; the durable mempool empty.  Returns the block hashes, index
//  order (caller frees the array with s_hashes_free).
static char **
s_ledger_verify (harness_node_t *node, int difficulty, int64_t height, const char *tip,
                 char **ids, size_t id_count, bool only)
{
    sqlite3 *db = harness_ledger_open (node);
    s_ledger_integrity (db, node);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT \"index\", prev_hash, current_hash"
                      " FROM blocks ORDER BY \"index\"", -1, &stmt, NULL), SQLITE_OK);
    size_t count = 0;
    char **hashes = (char **) zmalloc ((size_t) (height + 2) * sizeof (char *));
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        ck_assert_msg ((int64_t) count <= height, "%s: ledger holds more than %" PRId64
                       " blocks", node->name, height + 1);
        int64_t index = sqlite3_column_int64 (stmt, 0);
        const char *prev = (const char *) sqlite3_column_text (stmt, 1);
        const char *hash = (const char *) sqlite3_column_text (stmt, 2);
        ck_assert_msg (index == (int64_t) count, "%s: block row %zu has index %" PRId64,
                       node->name, count, index);
        ck_assert_msg (hash && zc_hash_valid (hash), "%s: block %zu: bad hash", node->name, count);
        if (count == 0)
            ck_assert_str_eq (hash, S_GENESIS_HASH);
        else {
            ck_assert_msg (prev && streq (prev, hashes [count - 1]),
                           "%s: block %zu does not link to block %zu", node->name,
                           count, count - 1);
            ck_assert_msg (zc_hash_meets (hash, difficulty), "%s: block %zu lacks proof "
                           "of work", node->name, count);
        }
        hashes [count++] = strdup (hash);
    }
    sqlite3_finalize (stmt);
    ck_assert_msg ((int64_t) count == height + 1, "%s: ledger holds %zu blocks, get_status "
                   "said height %" PRId64, node->name, count, height);
    if (tip)
        ck_assert_msg (streq (hashes [count - 1], tip), "%s: ledger tip %.16s, get_status "
                       "said %.16s", node->name, hashes [count - 1], tip);
    int64_t strays = harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE block_hash"
                                " NOT IN (SELECT current_hash FROM blocks)", NULL);
    ck_assert_msg (strays == 0, "%s: %" PRId64 " transactions outside the chain",
                   node->name, strays);

    //  Each id once: one query for the totals, one for the acknowledged set
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT COUNT(*), COUNT(DISTINCT id)"
                      " FROM transactions", -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    int64_t total = sqlite3_column_int64 (stmt, 0);
    int64_t distinct = sqlite3_column_int64 (stmt, 1);
    sqlite3_finalize (stmt);
    ck_assert_msg (total == distinct, "%s: %" PRId64 " transaction rows but %" PRId64
                   " distinct ids", node->name, total, distinct);
    s_ledger_load_ids (db, ids, id_count);
    int64_t missing = harness_sql_int (db, "SELECT COUNT(*) FROM temp.acked WHERE id NOT IN"
                                 " (SELECT id FROM transactions)", NULL);
    if (missing > 0) {
        ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT id FROM temp.acked WHERE id NOT IN"
                          " (SELECT id FROM transactions) LIMIT 1", -1, &stmt, NULL), SQLITE_OK);
        ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
        char example [ZC_HASH_HEX + 1];
        snprintf (example, sizeof example, "%s", sqlite3_column_text (stmt, 0));
        sqlite3_finalize (stmt);
        ck_abort_msg ("%s: %" PRId64 " of %zu acknowledged transactions are not in the "
                      "ledger (e.g. %s)", node->name, missing, id_count, example);
    }
    if (only)
        ck_assert_msg (total == (int64_t) id_count, "%s: %" PRId64 " transactions in the "
                       "ledger, expected exactly the %zu acknowledged", node->name, total,
                       id_count);
    int64_t waiting = harness_sql_int (db, "SELECT COUNT(*) FROM mempool", NULL);
    ck_assert_msg (waiting == 0, "%s: %" PRId64 " transactions left in the mempool table "
                   "though get_status says mempool 0", node->name, waiting);
    sqlite3_close (db);
    return hashes;
}

//  Frees hashes from s_ledger_verify.
static void
s_hashes_free (char **hashes)
{
    for (size_t i = 0; hashes && hashes [i]; i++)
        free (hashes [i]);
    free (hashes);
}

//  Verifies every node's ledger against the agreed tip; all must hold
//  the same chain.
static void
s_ledgers_verify (harness_node_t *nodes, size_t count, int difficulty, int64_t height,
                  const char *tip, char **ids, size_t id_count, bool only)
{
    for (size_t i = 0; i < count; i++) {
        char **hashes = s_ledger_verify (&nodes [i], difficulty, height, tip, ids,
                                         id_count, only);
        s_hashes_free (hashes);
    }
}

//  ---------------------------------------------------------------------
//  Helpers: a deployment of five nodes, a gateway and a server

#define S_DEPLOY_NODES  5

typedef struct {
    harness_node_t nodes [S_DEPLOY_NODES];
    char gateway [32];          //  "127.0.0.1:PORT"
    char server [32];
    char *config;
    pid_t gateway_pid;
    pid_t server_pid;
} s_deploy_t;

//  Writes the config and starts every instance in its own zchaind.
static void
s_deploy_start (s_deploy_t *deploy, const char *network)
{
    memset (deploy, 0, sizeof *deploy);
    harness_nodes_init (deploy->nodes, S_DEPLOY_NODES);
    int gateway_port = harness_free_port ();
    int server_port = harness_free_port ();
    snprintf (deploy->gateway, sizeof deploy->gateway, "127.0.0.1:%d", gateway_port);
    snprintf (deploy->server, sizeof deploy->server, "127.0.0.1:%d", server_port);
    char *gateway_data = harness_path ("gateway");
    char *server_data = harness_path ("server");
    char extra [2048];
    snprintf (extra, sizeof extra, "gateway\n    host = 127.0.0.1\n    port = %d\n"
              "    data = %s\nserver\n    host = 127.0.0.1\n    port = %d\n    data = %s\n",
              gateway_port, gateway_data, server_port, server_data);
    free (gateway_data);
    free (server_data);
    deploy->config = s_config_write ("zchain.conf", deploy->nodes, S_DEPLOY_NODES,
                                     network, NULL, NULL, extra);
    const char *name = "server";
    deploy->server_pid = harness_zchaind_start (deploy->config, "server.log", &name, 1);
    name = "gateway";
    deploy->gateway_pid = harness_zchaind_start (deploy->config, "gateway.log", &name, 1);
    s_nodes_start (deploy->nodes, S_DEPLOY_NODES, deploy->config);
    //  The gateway answers health once it listens
    bool up = false;
    int64_t deadline = harness_now_ms () + S_START_MS;
    while (!up && harness_now_ms () < deadline) {
        cJSON *reply = harness_request (deploy->gateway, ZC_FRAMING_LENGTH,
                                        "{\"action\":\"health\"}", 1000);
        const char *status = harness_string (reply, "status");
        up = status && streq (status, "ok");
        cJSON_Delete (reply);
        if (!up)
            harness_nap (HARNESS_POLL_MS);
    }
    ck_assert_msg (up, "the gateway %s did not answer health", deploy->gateway);
}

//  Stops every instance cleanly and frees the deployment.
static void
s_deploy_stop (s_deploy_t *deploy)
{
    s_nodes_stop (deploy->nodes, S_DEPLOY_NODES);
    int status = harness_stop (deploy->gateway_pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert_msg (harness_exited_with (status, 0), "the gateway did not stop cleanly");
    status = harness_stop (deploy->server_pid, SIGTERM, HARNESS_STOP_MS);
    ck_assert_msg (harness_exited_with (status, 0), "the server did not stop cleanly");
    harness_nodes_free (deploy->nodes, S_DEPLOY_NODES);
    free (deploy->config);
}

//  ---------------------------------------------------------------------
//  1. Mining race: five nodes at difficulty 1, 2,000 transactions through
//  the gateway from 20 connections; every reply is "broadcast", and soon
//  after the last one all nodes share one tip holding each exactly once.

START_TEST (test_mining_race)
{
    size_t tx_count = s_slow ()? 1000: 2000;
    s_deploy_t deploy;
    s_deploy_start (&deploy, "difficulty = 1\nminers = 1\n");

    s_txs_t *txs = s_txs_new ("race", tx_count, 4, true);
    const char *addresses [] = { deploy.gateway };
    //  20 connections; few requests in flight on each, so that replies come
    //  well within the gateway's 3 s even on a loaded machine
    s_load_t load = { .txs = txs, .addresses = addresses, .address_count = 1,
                      .gateway = true, .conns = 20, .window = s_slow ()? 1: 4 };
    s_load_run (&load, s_converge_ms ());
    ck_assert_uint_eq (load.acked_count, tx_count);

    //  "Within a few seconds of the last confirmation"
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (deploy.nodes, S_DEPLOY_NODES, 1,
                                    s_slow ()? 30000: 15000, tip);
    s_ledgers_verify (deploy.nodes, S_DEPLOY_NODES, 1, height, tip, txs->ids, tx_count, true);
    s_deploy_stop (&deploy);
    free (load.acked);
    s_txs_destroy (&txs);
}
END_TEST

//  ---------------------------------------------------------------------
//  2a. Two of five nodes SIGKILLed during a load through the gateway and
//  restarted on their data folders: they catch up, every ledger passes
//  integrity_check, and every acknowledged transaction is in each once.

//  The load's hook: kills n4 and n5 a quarter into the load, restarts
//  them at three fifths
typedef struct {
    s_deploy_t *deploy;
    size_t kill_at;
    size_t restart_at;
    bool killed;
    bool restarted;
} s_crash_t;

static void
s_crash_hook (void *arg, size_t acked)
{
    s_crash_t *crash = (s_crash_t *) arg;
    if (!crash->killed && acked >= crash->kill_at) {
        s_node_kill9 (&crash->deploy->nodes [3]);
        s_node_kill9 (&crash->deploy->nodes [4]);
        crash->killed = true;
        fprintf (stderr, "test_converge: kill9: n4 and n5 killed after %zu acks\n", acked);
    }
    if (crash->killed && !crash->restarted && acked >= crash->restart_at) {
        s_node_start (&crash->deploy->nodes [3], crash->deploy->config);
        s_node_start (&crash->deploy->nodes [4], crash->deploy->config);
        crash->restarted = true;
        fprintf (stderr, "test_converge: kill9: n4 and n5 restarted after %zu acks\n", acked);
    }
}

START_TEST (test_kill_two)
{
    size_t tx_count = s_slow ()? 400: 600;
    s_deploy_t deploy;
    s_deploy_start (&deploy, "difficulty = 1\nminers = 1\n");

    s_txs_t *txs = s_txs_new ("kill", tx_count, 3, true);
    const char *addresses [] = { deploy.gateway };
    s_crash_t crash = { &deploy, tx_count / 4, tx_count * 3 / 5, false, false };
    s_load_t load = { .txs = txs, .addresses = addresses, .address_count = 1,
                      .gateway = true, .conns = 10, .window = 2,
                      .hook = s_crash_hook, .hook_arg = &crash };
    s_load_run (&load, s_converge_ms ());
    ck_assert (crash.killed && crash.restarted);
    ck_assert_uint_eq (load.acked_count, tx_count);
    s_node_wait_ready (&deploy.nodes [3]);
    s_node_wait_ready (&deploy.nodes [4]);

    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (deploy.nodes, S_DEPLOY_NODES, 1, s_converge_ms (), tip);
    s_ledgers_verify (deploy.nodes, S_DEPLOY_NODES, 1, height, tip, txs->ids, tx_count, true);
    s_deploy_stop (&deploy);
    free (load.acked);
    s_txs_destroy (&txs);
}
END_TEST

//  ---------------------------------------------------------------------
//  2b. Every node SIGKILLed right after acknowledging transactions that
//  are not mined yet: each acknowledged transaction is already in the
//  acknowledging node's file, and once the nodes restart (same config)
//  each ends up mined exactly once.
//
//  Known daemon bug this test exposes (reported; the assertion stands):
//  zc_validator.c loads the durable mempool in s_self_start, but nothing
//  gives the miners a job for it, so nodes that all restart with waiting
//  transactions and no new block to hear of never mine them (get_status:
//  mempool > 0, mining false).

//  Picks the difficulty at which one hashing thread here takes about a
//  second per block, so that blocks are slow enough to kill nodes with
//  transactions waiting.  Measures for 200 ms one compression of a short
//  tail, about what the miner's portable kernel does per nonce (its
//  vector kernels do more, which only makes blocks come sooner).
static int
s_second_difficulty (void)
{
    char text [32];
    unsigned char digest [SHA256_DIGEST_LENGTH];
    int64_t start = zc_clock_usecs ();
    uint64_t count = 0;
    while (zc_clock_usecs () - start < 200000)
        for (int i = 0; i < 1000; i++, count++) {
            int length = snprintf (text, sizeof text, "tail%" PRIu64, count);
            SHA256 ((const unsigned char *) text, (size_t) length, digest);
        }
    double rate = (double) count / ((double) (zc_clock_usecs () - start) / 1e6);
    int best = 4;
    double best_gap = 1e18, hashes = 65536;             //  16^4
    for (int difficulty = 4; difficulty <= 7; difficulty++, hashes *= 16) {
        double seconds = hashes / rate;
        double gap = seconds > 1? seconds: 1 / seconds;
        if (gap < best_gap) {
            best_gap = gap;
            best = difficulty;
        }
    }
    fprintf (stderr, "test_converge: ~%.1f MH/s per miner thread here: difficulty %d, "
             "blocks of ~%.1f s\n", rate / 1e6, best,
             (double) (1 << (4 * (best - 4))) * 65536 / rate);
    return best;
}

START_TEST (test_kill_all)
{
    int difficulty = s_second_difficulty ();
    harness_node_t nodes [3];
    harness_nodes_init (nodes, 3);
    char network [64];
    snprintf (network, sizeof network, "difficulty = %d\nminers = 1\n", difficulty);
    char *config = s_config_write ("zchain.conf", nodes, 3, network, NULL, NULL, NULL);
    s_nodes_start (nodes, 3, config);

    //  60 transactions, straight to the nodes, 20 to each, two connections each
    s_txs_t *txs = s_txs_new ("killall", 60, 3, false);
    const char *addresses [] = { nodes [0].address, nodes [1].address, nodes [2].address };
    s_load_t load = { .txs = txs, .addresses = addresses, .address_count = 3,
                      .gateway = false, .conns = 6, .window = 10 };
    s_load_run (&load, S_REPLY_MS);
    ck_assert_uint_eq (load.acked_count, txs->count);
    for (size_t i = 0; i < 3; i++)
        kill (-nodes [i].pid, SIGKILL);
    for (size_t i = 0; i < 3; i++)
        s_node_kill9 (&nodes [i]);

    //  Durable before acknowledged: each transaction is in the file of the
    //  node that acknowledged it, mined or waiting, once
    size_t waiting = 0;
    for (size_t n = 0; n < 3; n++) {
        sqlite3 *db = harness_ledger_open (&nodes [n]);
        s_ledger_integrity (db, &nodes [n]);
        for (size_t i = 0; i < txs->count; i++) {
            //  Request i went on connection i % 6, which went to node i % 6 % 3
            if (i % 6 % 3 != n)
                continue;
            int64_t mined = harness_sql_int (db, "SELECT COUNT(*) FROM transactions WHERE id = ?",
                                       txs->ids [i]);
            int64_t pooled = harness_sql_int (db, "SELECT COUNT(*) FROM mempool WHERE id = ?",
                                        txs->ids [i]);
            ck_assert_msg (mined + pooled == 1, "%s acknowledged %s but its file holds it "
                           "%" PRId64 " times mined and %" PRId64 " times waiting",
                           nodes [n].name, txs->ids [i], mined, pooled);
            waiting += (size_t) pooled;
        }
        sqlite3_close (db);
    }
    fprintf (stderr, "test_converge: kill all: %zu of %zu acknowledged transactions were "
             "waiting when every node was killed\n", waiting, txs->count);
    ck_assert_msg (waiting > 0, "every transaction was mined before the kill: blocks are "
                   "faster than difficulty %d was measured to give", difficulty);

    //  The same config again: nothing acknowledged is lost, nothing doubled
    s_nodes_start (nodes, 3, config);
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (nodes, 3, 1, s_converge_ms (), tip);
    s_ledgers_verify (nodes, 3, difficulty, height, tip, txs->ids, txs->count, true);
    s_nodes_stop (nodes, 3);
    free (load.acked);
    s_txs_destroy (&txs);
    free (config);
    harness_nodes_free (nodes, 3);
}
END_TEST

//  ---------------------------------------------------------------------
//  3. Partition: two namespaces joined by a veth pair, two nodes on each
//  side.  The link is cut, side A mines 4 blocks and side B 2 with other
//  transactions; the link heals, every node takes A's chain, and B's
//  transactions are mined again on top of it.

//  Makes the two namespaces and the veth pair between them; false (with
//  the reason in why) where that is not possible.
static bool
s_netns_setup (char *why, size_t size)
{
    if (geteuid () != 0) {
        snprintf (why, size, "not running as root");
        return false;
    }
    if (!s_shell ("ip netns add %s", s_ns_a)) {
        snprintf (why, size, "'ip netns add' failed (no ip tool, or no CAP_SYS_ADMIN)");
        return false;
    }
    bool ok = s_shell ("ip netns add %s", s_ns_b)
           && s_shell ("ip link add %s type veth peer name %s", s_dev_a, s_dev_b)
           && s_shell ("ip link set %s netns %s", s_dev_a, s_ns_a)
           && s_shell ("ip link set %s netns %s", s_dev_b, s_ns_b)
           && s_shell ("ip -n %s addr add 10.200.0.1/24 dev %s", s_ns_a, s_dev_a)
           && s_shell ("ip -n %s addr add 10.200.0.2/24 dev %s", s_ns_b, s_dev_b)
           && s_shell ("ip -n %s link set lo up", s_ns_a)
           && s_shell ("ip -n %s link set lo up", s_ns_b)
           && s_shell ("ip -n %s link set %s up", s_ns_a, s_dev_a)
           && s_shell ("ip -n %s link set %s up", s_ns_b, s_dev_b);
    if (!ok)
        snprintf (why, size, "could not set up the veth pair between the namespaces");
    return ok;
}

//  Cuts (up false) or heals the link, at both ends.
static void
s_link_set (bool up)
{
    ck_assert (s_shell ("ip -n %s link set %s %s", s_ns_a, s_dev_a, up? "up": "down"));
    ck_assert (s_shell ("ip -n %s link set %s %s", s_ns_b, s_dev_b, up? "up": "down"));
}

//  Submits one transaction to a node and waits until it is mined there,
//  so each makes one block.  Returns the id (caller frees).
static char *
s_submit_mined (harness_node_t *node, zc_keys_t *keys, const char *tag, int number)
{
    int64_t before = s_node_height (node, NULL);
    char *id = s_node_submit (node, keys, tag, number);
    s_wait_height (node, before + 1);
    return id;
}

START_TEST (test_partition)
{
    char why [128];
    if (!s_netns_setup (why, sizeof why)) {
        fprintf (stderr, "test_converge: partition test SKIPPED: %s; it needs root and "
                 "network namespaces (ip netns)\n", why);
        return;
    }
    harness_node_t nodes [4];
    harness_nodes_init (nodes, 4);
    const char *hosts [] = { "10.200.0.1", "10.200.0.1", "10.200.0.2", "10.200.0.2" };
    s_ns_map_count = 0;
    for (size_t i = 0; i < 4; i++) {
        snprintf (nodes [i].address, sizeof nodes [i].address, "%s:%d", hosts [i], nodes [i].port);
        s_ns_map [s_ns_map_count].port = nodes [i].port;
        s_ns_map [s_ns_map_count++].ns = i < 2? s_ns_a: s_ns_b;
    }
    char *config = s_config_write ("zchain.conf", nodes, 4, "difficulty = 2\nminers = 1\n",
                                   hosts, NULL, NULL);
    s_nodes_start (nodes, 4, config);
    harness_node_t *side_a = &nodes [0], *side_b = &nodes [2];

    //  Joined: a first block reaches all four
    zc_keys_t *keys = zc_keys_new ();
    char *ids [8];
    size_t id_count = 0;
    ids [id_count++] = s_node_submit (&side_a [0], keys, "joined", 0);
    int64_t base = s_wait_agreed (nodes, 4, 1, s_converge_ms (), NULL);

    //  Cut: A mines 4 blocks, B 2, each side with its own transactions
    s_link_set (false);
    for (int n = 0; n < 4; n++)
        ids [id_count++] = s_submit_mined (&side_a [0], keys, "side-a", n);
    for (int n = 0; n < 2; n++)
        ids [id_count++] = s_submit_mined (&side_b [0], keys, "side-b", n);
    char tip_a [ZC_HASH_HEX + 1], tip_b [ZC_HASH_HEX + 1];
    ck_assert_int_eq (s_wait_agreed (side_a, 2, base + 4, s_converge_ms (), tip_a), base + 4);
    ck_assert_int_eq (s_wait_agreed (side_b, 2, base + 2, s_converge_ms (), tip_b), base + 2);
    fprintf (stderr, "test_converge: partition: side A at %" PRId64 " (%.12s), side B at %"
             PRId64 " (%.12s)\n", base + 4, tip_a, base + 2, tip_b);

    //  Heal: all take A's chain (the most work) and mine B's transactions again
    s_link_set (true);
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (nodes, 4, base + 5, s_converge_ms (), tip);
    for (size_t i = 0; i < 4; i++) {
        char **hashes = s_ledger_verify (&nodes [i], 2, height, tip, ids, id_count, true);
        ck_assert_msg (streq (hashes [base + 4], tip_a), "%s: block %" PRId64 " is %.16s, "
                       "not side A's %.16s: the most-work chain lost", nodes [i].name,
                       base + 4, hashes [base + 4], tip_a);
        for (int64_t index = 0; index <= height; index++)
            ck_assert_msg (!streq (hashes [index], tip_b), "%s still holds side B's tip",
                           nodes [i].name);
        s_hashes_free (hashes);
    }
    s_nodes_stop (nodes, 4);
    for (size_t i = 0; i < id_count; i++)
        free (ids [i]);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 4);
    s_ns_map_count = 0;
}
END_TEST

//  ---------------------------------------------------------------------
//  4. Late node: three nodes build a chain of 1,000 one-transaction blocks
//  at difficulty 1; a fourth node whose config names only n1 syncs it all
//  and learns every other node.

//  The state of a wait for a node_list naming certain nodes
typedef struct {
    harness_node_t *asked;
    harness_node_t *others;
    size_t count;
    char seen [1024];
} s_discovery_t;

//  True if node_discovery of `asked` names each of the others by host,
//  port and node_id.
static bool
s_discovered (void *arg)
{
    s_discovery_t *state = (s_discovery_t *) arg;
    cJSON *reply = s_node_request (state->asked, "{\"type\":\"node_discovery\"}", 2000);
    char *text = reply? cJSON_PrintUnformatted (reply): NULL;
    snprintf (state->seen, sizeof state->seen, "%s", text? text: "(no reply)");
    free (text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive (reply, "nodes");
    bool complete = cJSON_IsArray (list);
    for (size_t i = 0; complete && i < state->count; i++) {
        complete = harness_node_listed (list, &state->others [i]);
    }
    cJSON_Delete (reply);
    return complete;
}

START_TEST (test_late_node)
{
    size_t block_count = 1000;
    harness_node_t nodes [4];
    harness_nodes_init (nodes, 4);
    char peers [3][128];
    for (size_t i = 0; i < 3; i++) {
        peers [i][0] = 0;
        for (size_t j = 0; j < 3; j++)
            if (j != i)
                snprintf (peers [i] + strlen (peers [i]), sizeof peers [i] - strlen (peers [i]),
                          "%s%s", peers [i][0]? ",": "", nodes [j].address);
    }
    //  n1..n3 know each other only; n4 knows n1 only
    const char *peer_keys [] = { peers [0], peers [1], peers [2], nodes [0].address };
    char *config = s_config_write ("zchain.conf", nodes, 4,
                                   "difficulty = 1\nminers = 1\nmax_block_txs = 1\n",
                                   NULL, peer_keys, NULL);
    s_nodes_start (nodes, 3, config);

    s_txs_t *txs = s_txs_new ("late", block_count, 2, false);
    const char *addresses [] = { nodes [0].address };
    s_load_t load = { .txs = txs, .addresses = addresses, .address_count = 1,
                      .gateway = false, .conns = 4, .window = 16 };
    s_load_run (&load, s_converge_ms ());
    ck_assert_uint_eq (load.acked_count, block_count);
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (nodes, 3, (int64_t) block_count, 2 * s_converge_ms (), tip);
    ck_assert_int_eq (height, (int64_t) block_count);

    //  The late node: from one peer to the whole chain and the whole network
    s_nodes_start (&nodes [3], 1, config);
    char tip_late [ZC_HASH_HEX + 1];
    ck_assert_int_eq (s_wait_agreed (nodes, 4, height, s_converge_ms (), tip_late), height);
    ck_assert_str_eq (tip_late, tip);
    char **hashes = s_ledger_verify (&nodes [3], 1, height, tip, txs->ids, block_count, true);
    s_hashes_free (hashes);
    s_discovery_t state = { &nodes [3], nodes, 3, "" };
    bool listed = harness_wait_until (s_discovered, &state, s_converge_ms ());
    ck_assert_msg (listed, "n4 (config peer: n1 only) never listed n1, n2 and n3 with their "
                   "node_ids; last node_list: %s", state.seen);

    s_nodes_stop (nodes, 4);
    free (load.acked);
    s_txs_destroy (&txs);
    free (config);
    harness_nodes_free (nodes, 4);
}
END_TEST

//  ---------------------------------------------------------------------
//  5. Deep reorg: n1 and n2 are not peers; n1 mines 5 blocks, n2 3 with
//  other transactions.  n2 restarts with n1 as its peer: it rolls back
//  its 3 blocks, applies n1's 5, and mines its 3 transactions again.

START_TEST (test_deep_reorg)
{
    harness_node_t nodes [2];
    harness_nodes_init (nodes, 2);
    const char *apart [] = { "", "" };
    const char *joined [] = { "", nodes [0].address };
    const char *network = "difficulty = 2\nminers = 1\n";
    char *config = s_config_write ("apart.conf", nodes, 2, network, NULL, apart, NULL);
    char *config_joined = s_config_write ("joined.conf", nodes, 2, network, NULL, joined, NULL);
    s_nodes_start (nodes, 2, config);

    zc_keys_t *keys = zc_keys_new ();
    char *ids [8];
    size_t id_count = 0;
    for (int n = 0; n < 5; n++)
        ids [id_count++] = s_submit_mined (&nodes [0], keys, "a", n);
    for (int n = 0; n < 3; n++)
        ids [id_count++] = s_submit_mined (&nodes [1], keys, "b", n);
    char tip_a [ZC_HASH_HEX + 1], tip_b [ZC_HASH_HEX + 1];
    ck_assert_int_eq (s_node_height (&nodes [0], tip_a), 5);
    ck_assert_int_eq (s_node_height (&nodes [1], tip_b), 3);
    char **hashes_a = s_ledger_verify (&nodes [0], 2, 5, tip_a, ids, 5, true);
    char **hashes_b = s_ledger_verify (&nodes [1], 2, 3, tip_b, ids + 5, 3, true);

    //  Connected: n2 follows n1's chain, then n1 follows n2's next block
    s_node_stop (&nodes [1]);
    s_node_start (&nodes [1], config_joined);
    s_node_wait_ready (&nodes [1]);
    char tip [ZC_HASH_HEX + 1];
    int64_t height = s_wait_agreed (nodes, 2, 6, s_converge_ms (), tip);
    for (size_t i = 0; i < 2; i++) {
        char **hashes = s_ledger_verify (&nodes [i], 2, height, tip, ids, id_count, true);
        for (int index = 1; index <= 5; index++)
            ck_assert_msg (streq (hashes [index], hashes_a [index]), "%s: block %d is not "
                           "n1's", nodes [i].name, index);
        for (int64_t index = 1; index <= height; index++)
            for (int old = 1; old <= 3; old++)
                ck_assert_msg (!streq (hashes [index], hashes_b [old]), "%s still holds "
                               "n2's old block %d", nodes [i].name, old);
        s_hashes_free (hashes);
    }
    //  n2 rolled its three blocks back in one reorganization
    char *log_path = harness_path ("n2.log");
    char *log = harness_read_file (log_path);
    ck_assert_msg (log && strstr (log, "3 block(s) rolled back above 0"),
                   "n2's log does not show its 3 blocks rolled back in one reorganization");
    free (log);
    free (log_path);

    s_nodes_stop (nodes, 2);
    s_hashes_free (hashes_a);
    s_hashes_free (hashes_b);
    for (size_t i = 0; i < id_count; i++)
        free (ids [i]);
    zc_keys_destroy (&keys);
    free (config);
    free (config_joined);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  ---------------------------------------------------------------------
//  6. Bogus branch: a fake peer (a server the node dials, and clients
//  that send it blocks) floods the node with 3,000 orphans of valid proof
//  of work and answers its get_blocks with more; then sends invalid
//  blocks.  The node stays up and answers ping, keeps at most 1024 blocks
//  aside, stays on its chain, and closes each connection that sent an
//  invalid block.

//  A block on prev_hash at index with proof of work at difficulty (or,
//  with bad_pow, a real hash that misses it), signed by keys.
static zc_block_t *
s_block_make (zc_keys_t *keys, int64_t index, const char *prev_hash, int difficulty,
              bool bad_pow)
{
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    zc_block_t *block = zc_block_new (index, prev_hash, now, NULL, 0);
    ck_assert_ptr_nonnull (block);
    char *preimage = zc_block_preimage (block);
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 24);
    memcpy (text, preimage, length);
    char hash [ZC_HASH_HEX + 1];
    uint64_t nonce = 0;
    for (;; nonce++) {
        int digits = snprintf (text + length, 24, "%" PRIu64, nonce);
        zc_sha256_hex (text, length + (size_t) digits, hash);
        if (zc_hash_meets (hash, difficulty) != bad_pow)
            break;
    }
    ck_assert_int_eq (zc_block_seal (block, nonce, hash, S_FAKE_ID, keys), 0);
    free (text);
    free (preimage);
    return block;
}

//  A random 64-hex hash nobody holds.
static void
s_random_hash (char *out)
{
    uint8_t bytes [32];
    for (size_t i = 0; i < 32; i++)
        bytes [i] = (uint8_t) (random () & 0xff);
    zc_hex_encode (bytes, 32, out);
}

//  A new_block message (canonical text, caller frees) carrying block;
//  destroys the block.
static char *
s_new_block_text (zc_block_t **block_p)
{
    cJSON *message = cJSON_CreateObject ();
    cJSON_AddStringToObject (message, "type", "new_block");
    cJSON_AddStringToObject (message, "node_id", S_FAKE_ID);
    cJSON_AddItemToObject (message, "data", zc_block_to_json (*block_p));
    zc_block_destroy (block_p);
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    return text;
}

//  An orphan: valid proof of work at difficulty 1 on an unknown parent.
static zc_block_t *
s_orphan (zc_keys_t *keys)
{
    char prev [ZC_HASH_HEX + 1];
    s_random_hash (prev);
    return s_block_make (keys, 5 + random () % 100, prev, 1, false);
}

//  The fake peer's server side: the node dials it (it is in the node's
//  config) and asks its status, peers and blocks
#define S_FAKE_CONNS    8
typedef struct {
    int listener;
    int port;
    int fds [S_FAKE_CONNS];
    zc_codec_t *codecs [S_FAKE_CONNS];
    zc_keys_t *keys;
    size_t status_asked;        //  get_status requests answered
    size_t blocks_asked;        //  get_blocks requests answered
} s_fake_t;

//  Sends one line to a connection of the fake peer (blocking is fine: the
//  node reads whatever it is sent).
static void
s_fake_send (int fd, cJSON *message)
{
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    size_t length = strlen (text);
    text = (char *) realloc (text, length + 2);
    text [length++] = '\n';
    size_t sent = 0;
    while (sent < length) {
        ssize_t rc = send (fd, text + sent, length - sent, MSG_NOSIGNAL);
        if (rc <= 0 && errno != EINTR && errno != EAGAIN)
            break;
        if (rc > 0)
            sent += (size_t) rc;
        else
            harness_nap (1);
    }
    free (text);
}

//  Answers one request from the node: its status at genesis (so the node
//  learns our node_id), no peers, and to get_blocks a batch of orphans
//  (an endless branch: each answer leads nowhere).
static void
s_fake_answer (s_fake_t *fake, int fd, const char *data, size_t size)
{
    cJSON *request = zc_json_parse (data, size);
    const char *type = harness_string (request, "type");
    if (type && streq (type, "get_status")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "type", "status");
        cJSON_AddStringToObject (reply, "node_id", S_FAKE_ID);
        cJSON_AddNumberToObject (reply, "height", 0);
        cJSON_AddStringToObject (reply, "tip_hash", S_GENESIS_HASH);
        s_fake_send (fd, reply);
        fake->status_asked++;
    }
    else
    if (type && streq (type, "node_discovery")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "type", "node_list");
        cJSON_AddArrayToObject (reply, "nodes");
        s_fake_send (fd, reply);
    }
    else
    if (type && streq (type, "get_blocks")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "type", "blocks");
        cJSON *blocks = cJSON_AddArrayToObject (reply, "blocks");
        for (int i = 0; i < 16; i++) {
            zc_block_t *block = s_orphan (fake->keys);
            cJSON_AddItemToArray (blocks, zc_block_to_json (block));
            zc_block_destroy (&block);
        }
        s_fake_send (fd, reply);
        fake->blocks_asked++;
    }
    else
    if (type && streq (type, "ping")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "type", "pong");
        cJSON_AddStringToObject (reply, "node_id", S_FAKE_ID);
        s_fake_send (fd, reply);
    }
    cJSON_Delete (request);                 //  relays of blocks and txs: ignored
}

//  Serves the fake peer's connections for up to msecs (0: what is ready).
static void
s_fake_serve (s_fake_t *fake, int msecs)
{
    int64_t deadline = harness_now_ms () + msecs;
    do {
        struct pollfd fds [S_FAKE_CONNS + 1];
        size_t count = 0;
        fds [count].fd = fake->listener;
        fds [count++].events = POLLIN;
        for (size_t i = 0; i < S_FAKE_CONNS; i++) {
            fds [count].fd = fake->fds [i];         //  -1 is ignored by poll
            fds [count++].events = POLLIN;
        }
        int64_t left = deadline - harness_now_ms ();
        if (poll (fds, count, left > 0? (int) (left < 50? left: 50): 0) <= 0)
            continue;
        if (fds [0].revents & POLLIN) {
            int fd = accept (fake->listener, NULL, NULL);
            for (size_t i = 0; fd >= 0 && i < S_FAKE_CONNS; i++)
                if (fake->fds [i] < 0) {
                    fake->fds [i] = fd;
                    fake->codecs [i] = zc_codec_new (ZC_MAX_MESSAGE);
                    fd = -1;
                }
            if (fd >= 0)
                close (fd);
        }
        for (size_t i = 0; i < S_FAKE_CONNS; i++) {
            if (fake->fds [i] < 0 || !(fds [i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buffer [65536];
            ssize_t size = recv (fake->fds [i], buffer, sizeof buffer, 0);
            if (size <= 0 || zc_codec_feed (fake->codecs [i], buffer, (size_t) size) != 0) {
                close (fake->fds [i]);
                fake->fds [i] = -1;
                zc_codec_destroy (&fake->codecs [i]);
                continue;
            }
            const char *data;
            size_t length;
            while (zc_codec_next (fake->codecs [i], &data, &length) == 1)
                s_fake_answer (fake, fake->fds [i], data, length);
        }
    } while (harness_now_ms () < deadline);
}

//  True if the node answers ping within a second.
static bool
s_pings (harness_node_t *node)
{
    cJSON *reply = s_node_request (node, "{\"type\":\"ping\"}", 1000);
    const char *type = harness_string (reply, "type");
    bool ok = type && streq (type, "pong");
    cJSON_Delete (reply);
    return ok;
}

//  Sends an invalid block on a new connection and checks that the node
//  answers an error naming what is wrong and then closes the connection.
static void
s_expect_dropped (harness_node_t *node, s_fake_t *fake, const char *what, char *text)
{
    zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    cJSON *message = cJSON_Parse (text);
    ck_assert_int_eq (zc_client_send (client, message), 0);
    cJSON_Delete (message);
    free (text);
    cJSON *reply = zc_client_recv (client, S_REPLY_MS);
    const char *type = harness_string (reply, "type");
    ck_assert_msg (type && streq (type, "error") && harness_string (reply, "error"),
                   "%s: the node did not answer an error", what);
    fprintf (stderr, "test_converge: bogus: %s refused: %s\n", what,
             harness_string (reply, "error"));
    cJSON_Delete (reply);
    ck_assert_msg (zc_client_closed (client, S_REPLY_MS),
                   "%s: the node kept the connection open after an invalid block", what);
    zc_client_destroy (&client);
    s_fake_serve (fake, 0);
}

START_TEST (test_bogus_branch)
{
    size_t orphan_count = 3000;
    srandom ((unsigned) getpid ());
    s_fake_t fake;
    memset (&fake, 0, sizeof fake);
    fake.listener = harness_occupy_port (&fake.port);
    for (size_t i = 0; i < S_FAKE_CONNS; i++)
        fake.fds [i] = -1;
    fake.keys = zc_keys_new ();

    harness_node_t nodes [1];
    harness_nodes_init (nodes, 1);
    char fake_address [32];
    snprintf (fake_address, sizeof fake_address, "127.0.0.1:%d", fake.port);
    const char *peers [] = { fake_address };
    char *config = s_config_write ("zchain.conf", nodes, 1, "difficulty = 1\nminers = 1\n",
                                   NULL, peers, NULL);
    harness_node_t *node = &nodes [0];
    s_node_start (node, config);
    //  Serve the fake peer while the node starts and asks its status
    int64_t deadline = harness_now_ms () + S_START_MS;
    while (!node->node_id [0] && harness_now_ms () < deadline) {
        s_fake_serve (&fake, 100);
        cJSON *reply = s_node_request (node, "{\"type\":\"ping\"}", 500);
        if (harness_string (reply, "node_id"))
            snprintf (node->node_id, sizeof node->node_id, "%s", harness_string (reply, "node_id"));
        cJSON_Delete (reply);
    }
    ck_assert_msg (node->node_id [0], "the node did not answer ping");

    //  A real chain of three blocks
    zc_keys_t *keys = zc_keys_new ();
    char *ids [4];
    for (int n = 0; n < 3; n++) {
        ids [n] = s_node_submit (node, keys, "real", n);
        HARNESS_AWAIT ((s_fake_serve (&fake, 20), s_node_height (node, NULL) >= n + 1),
                       s_converge_ms (), "block %d was not mined", n + 1);
    }
    char tip [ZC_HASH_HEX + 1];
    ck_assert_int_eq (s_node_height (node, tip), 3);

    //  The node must know the fake peer's node_id, so that it asks the
    //  fake peer for the parents of the orphans it sends
    HARNESS_AWAIT ((s_fake_serve (&fake, 100), fake.status_asked > 0), S_START_MS,
                   "the node never asked the fake peer its status");
    bool known = false;
    deadline = harness_now_ms () + S_START_MS;
    while (!known && harness_now_ms () < deadline) {
        s_fake_serve (&fake, 100);
        cJSON *reply = s_node_request (node, "{\"type\":\"node_discovery\"}", 1000);
        const cJSON *entry;
        cJSON_ArrayForEach (entry, cJSON_GetObjectItemCaseSensitive (reply, "nodes")) {
            const char *node_id = harness_string (entry, "node_id");
            known = known || (node_id && streq (node_id, S_FAKE_ID));
        }
        cJSON_Delete (reply);
    }
    ck_assert_msg (known, "the node never learnt the fake peer's node_id");

    //  The endless stream: orphans on one connection, the fake peer
    //  answering the get_blocks they cause with more orphans
    zc_client_t *flood = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (flood);
    int64_t start = harness_now_ms ();
    int64_t slowest_ping = 0;
    for (size_t i = 0; i < orphan_count; i++) {
        zc_block_t *block = s_orphan (fake.keys);
        char *text = s_new_block_text (&block);
        ck_assert_int_eq (zc_client_send_raw (flood, text, strlen (text)), 0);
        ck_assert_int_eq (zc_client_send_raw (flood, "\n", 1), 0);
        free (text);
        if (i % 100 == 99) {
            s_fake_serve (&fake, 0);
            int64_t before = harness_now_ms ();
            ck_assert_msg (s_pings (node), "the node stopped answering ping after %zu orphans",
                           i + 1);
            if (harness_now_ms () - before > slowest_ping)
                slowest_ping = harness_now_ms () - before;
        }
    }
    //  Valid orphans are not errors: nothing comes back, the link stays
    cJSON *answer = zc_client_recv (flood, 500);
    char *answer_text = answer? cJSON_PrintUnformatted (answer): NULL;
    ck_assert_msg (!answer, "the node answered a valid orphan: %s", answer_text);
    cJSON_Delete (answer);
    ck_assert_msg (!zc_client_closed (flood, 0), "the node closed a connection that sent "
                   "only valid orphans");
    zc_client_destroy (&flood);
    s_fake_serve (&fake, 2000);
    cJSON *status = s_node_status (node, S_REPLY_MS);
    ck_assert_ptr_nonnull (status);
    int64_t aside = (int64_t) harness_number (status, "aside");
    fprintf (stderr, "test_converge: bogus: %zu orphans sent in %" PRId64 " ms (slowest ping "
             "%" PRId64 " ms), %zu get_blocks answered with more, aside %" PRId64 "\n",
             orphan_count, harness_now_ms () - start, slowest_ping, fake.blocks_asked, aside);
    ck_assert_msg (aside >= 0 && aside <= 1024, "aside holds %" PRId64 " blocks", aside);
    ck_assert_int_eq ((int64_t) harness_number (status, "height"), 3);
    ck_assert_str_eq (harness_string (status, "tip_hash"), tip);
    ck_assert_int_eq ((int64_t) harness_number (status, "rejected_blocks"), 0);
    cJSON_Delete (status);

    //  Invalid blocks, each on its own connection, each dropped:
    //  bad proof of work on the tip
    zc_block_t *block = s_block_make (fake.keys, 4, tip, 1, true);
    s_expect_dropped (node, &fake, "a block without proof of work", s_new_block_text (&block));
    //  a wrong link: on the tip, but an index that does not follow it
    block = s_block_make (fake.keys, 9, tip, 1, false);
    s_expect_dropped (node, &fake, "a block whose index skips its parent's",
                      s_new_block_text (&block));
    //  an invalid branch: a valid block on genesis (kept aside), then one
    //  on it claiming index 7, which would outweigh the chain if it linked
    block = s_block_make (fake.keys, 1, S_GENESIS_HASH, 1, false);
    char first [ZC_HASH_HEX + 1];
    snprintf (first, sizeof first, "%s", zc_block_hash (block));
    char *text = s_new_block_text (&block);
    zc_client_t *client = zc_client_new (node->address, ZC_FRAMING_LINE, NULL);
    cJSON *message = cJSON_Parse (text);
    ck_assert_int_eq (zc_client_send (client, message), 0);
    cJSON_Delete (message);
    free (text);
    answer = zc_client_recv (client, 500);
    answer_text = answer? cJSON_PrintUnformatted (answer): NULL;
    ck_assert_msg (!answer, "the node answered a valid block on genesis: %s", answer_text);
    ck_assert (!zc_client_closed (client, 0));
    zc_client_destroy (&client);
    block = s_block_make (fake.keys, 7, first, 1, false);
    s_expect_dropped (node, &fake, "an invalid branch", s_new_block_text (&block));

    //  Still up, on its chain, bounded, and counting what it refused
    ck_assert (s_pings (node));
    status = s_node_status (node, S_REPLY_MS);
    ck_assert_ptr_nonnull (status);
    ck_assert_int_eq ((int64_t) harness_number (status, "height"), 3);
    ck_assert_str_eq (harness_string (status, "tip_hash"), tip);
    ck_assert_int_le ((int64_t) harness_number (status, "aside"), 1024);
    ck_assert_int_eq ((int64_t) harness_number (status, "rejected_blocks"), 3);
    cJSON_Delete (status);
    //  ... and it still mines real transactions
    ids [3] = s_node_submit (node, keys, "after", 0);
    HARNESS_AWAIT ((s_fake_serve (&fake, 20), s_node_height (node, NULL) >= 4),
                   s_converge_ms (), "no block was mined after the attack");
    char **hashes = s_ledger_verify (node, 1, 4, NULL, ids, 4, true);
    s_hashes_free (hashes);

    s_node_stop (node);
    for (size_t i = 0; i < S_FAKE_CONNS; i++)
        if (fake.fds [i] >= 0) {
            close (fake.fds [i]);
            zc_codec_destroy (&fake.codecs [i]);
        }
    close (fake.listener);
    zc_keys_destroy (&fake.keys);
    for (int n = 0; n < 4; n++)
        free (ids [n]);
    zc_keys_destroy (&keys);
    free (config);
    harness_nodes_free (nodes, 1);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("converge");
    //  One case per test: its own folder, timeout and cleanup, and
    //  CK_RUN_CASE=partition runs one alone
    int scale = s_slow ()? 2: 1;
    tcase_add_test (harness_tcase (suite, "race", 150 * scale), test_mining_race);
    tcase_add_test (harness_tcase (suite, "kill_two", 150 * scale), test_kill_two);
    tcase_add_test (harness_tcase (suite, "kill_all", 120 * scale), test_kill_all);
    TCase *partition = harness_tcase (suite, "partition", 150 * scale);
    tcase_add_unchecked_fixture (partition, s_netns_case_setup, s_netns_case_teardown);
    tcase_add_test (partition, test_partition);
    tcase_add_test (harness_tcase (suite, "late_node", 180 * scale), test_late_node);
    tcase_add_test (harness_tcase (suite, "deep_reorg", 120 * scale), test_deep_reorg);
    tcase_add_test (harness_tcase (suite, "bogus_branch", 120 * scale), test_bogus_branch);
    return testutil_run (suite);
}
