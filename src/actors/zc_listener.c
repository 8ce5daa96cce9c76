/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_listener - dispatches a node's messages by type

    The listener parses every message the bridge hands it, checks its
    shape, answers what needs no chain (ping, node_discovery) and passes
    transactions, blocks and chain queries to the validator as built
    objects.  It also keeps the node's table of peers: the other nodes of
    the config file plus those learnt from node_list replies, each with
    its node_id once a pong has told it.

    Peer table invariants (issue 10): at most S_MAX_PEERS peers; every
    host passes zc_host_valid, every port is 1..65535, every node_id is a
    UUID, so a node_list reply can always be sent.  A node_list is taken
    only from a peer we sent node_discovery and that has not answered it
    yet.  A learnt peer that answers none of S_EVICT_ROUNDS status rounds
    in a row is dropped; the config file's peers are kept.  A dropped
    peer is not learnt again from node_list for S_FORGET_MSECS (other
    nodes still list it for a while), only from its own node_discovery.

    zc_listener_handle runs the message handler outside the actor, for
    the fuzz target fuzz/fuzz_listener.c: the same code, the same links.

    Pipe protocol (from the node role):
        $TERM                       ends the actor

    Bridge link (PAIR connected to zc_endpoint ("bridge", name)): the
    REPLY / DONE / CLOSE / SEND commands of zc_bridge out, MSG and DOWN in,
    each sent and received by zc_link (typed, shared by both ends).

    Validator link (PAIR bound at zc_endpoint ("listener", name)):
      to the validator
        TX conn address tx          zc_tx_t * (ownership passes); answer due
                                    unless conn is 0 (relayed by a peer)
        BLOCK conn address peer block   zc_block_t * (ownership passes);
                                    answer due unless conn is 0 (part of a
                                    batch); peer is where the sender
                                    listens, or "" if we do not know it
        SYNCED address count last   a "blocks" batch from address was passed
        PEER_STATUS address height tip  a peer's status reply
        STATUS conn peers           get_status; answer due
        GET_BLOCKS conn from limit  get_blocks; answer due
      from the validator
        BROADCAST body              send body to every peer
        LOAD taken waiting          TX commands it has handled, and its
                                    mempool's size: past capacity a client's
                                    NEW_TRANSACTION is refused at once, busy
        HELD ids                    these transactions and blocks are held
                                    validly: relayed copies are dropped
                                    before they are built (zc_seen)
      Each command is sent and received by zc_msg (typed, shared by both
      ends).  The validator's answers (REPLY / DONE / CLOSE) and its sends
      to one peer (SEND) go straight to the bridge's answer link, not
      through the listener.

    Notifier link (PAIR bound at zc_endpoint ("notices", name)), the
    commands of zc_notices_msg (typed, shared by both ends), about the
    gateway (config->gateway) only; the notifier sends its notices
    straight to the bridge's answer link, not through us:
        ACK seq                     it answered {"type":"notice_ack","seq"}
        NACK reason                 it answered an error
        DOWN                        our connection to it ended
    =========================================================================
*/

#include "zc_actors.h"

#define S_MAX_PEERS     256         //  peers remembered, at most
#define S_PING_MSECS    2000        //  how often peers are asked their status
#define S_DISCOVER_EVERY 5          //  ...and every this many times, their peers
#define S_EVICT_ROUNDS  15          //  silent status rounds before a learnt peer goes
#define S_MAX_LEARN     S_MAX_PEERS //  entries of one node_list looked at, at most
#define S_FORGET_MSECS  600000      //  an evicted peer is not relearnt from lists for this
#define S_LIST_BYTES    60000       //  a node_list reply, at most (a length frame: 65535)
#define S_SEEN_IDS      65536       //  ids of held transactions and blocks remembered
//  Capacity (issue 11): a client's NEW_TRANSACTION is refused at once as
//  busy while the validator has this many transactions still to take, or
//  more than S_BUSY_BURST of which the oldest has waited S_BUSY_MSECS (a
//  short burst is never refused: it is not a queue)...
#define S_BUSY_BACKLOG  256
#define S_BUSY_BURST    100
#define S_BUSY_MSECS    150
//  ...or while more wait to be mined than S_BUSY_BLOCKS blocks hold (and
//  at least S_BUSY_WAITING): what the network can confirm soon
#define S_BUSY_BLOCKS   2
#define S_BUSY_WAITING  1000

//  A peer: another node we may send to
typedef struct {
    char *address;              //  "host:port"
    char *host;                 //  host part
    int port;                   //  port part
    char *node_id;              //  from its pong, or NULL until then
    bool configured;            //  from the config file: never evicted
    bool discovering;           //  we sent node_discovery, no node_list yet
    bool answered;              //  it sent us something this status round
    int silent;                 //  status rounds in a row with no answer
} s_peer_t;

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *bridge;            //  PAIR to the bridge
    zsock_t *validator;         //  PAIR to the validator
    zsock_t *notifier;          //  PAIR to the notifier (zc_notices_msg)
    zc_node_config_t *config;   //  node config (borrowed)
    char *self_address;         //  our own "host:port", never a peer
    zlistx_t *peers;            //  s_peer_t *, in the order learnt
    zhashx_t *forgotten;        //  evicted "host:port" -> int64_t *, until when (mono ms)
    zc_seen_t *seen;            //  ids the validator holds validly (HELD):
                                //  relayed copies of them are dropped unparsed
    int64_t tx_sent;            //  TX commands sent to the validator
    int64_t sent_at [S_BUSY_BACKLOG];   //  when each of the last ones went
    int64_t tx_taken;           //  ...and handled by it (its last LOAD)
    int64_t waiting;            //  its mempool's size (its last LOAD)
    size_t busy_waiting;        //  waiting at which clients are refused
    int64_t next_ping;          //  when to ask peers their status again
    uint64_t rounds;            //  status rounds so far
    bool terminated;            //  $TERM received
} self_t;

static void
s_peer_destroy (s_peer_t **peer_p)
{
    if (*peer_p) {
        s_peer_t *peer = *peer_p;
        free (peer->address);
        free (peer->host);
        free (peer->node_id);
        free (peer);
        *peer_p = NULL;
    }
}

//  Finds a peer by address.
static s_peer_t *
s_peer_lookup (self_t *self, const char *address)
{
    s_peer_t *peer = (s_peer_t *) zlistx_first (self->peers);
    while (peer && strcmp (peer->address, address) != 0)
        peer = (s_peer_t *) zlistx_next (self->peers);
    return peer;
}

//  Finds a peer by the node_id it told us.
static s_peer_t *
s_peer_by_node_id (self_t *self, const char *node_id)
{
    s_peer_t *peer = (s_peer_t *) zlistx_first (self->peers);
    while (peer && !(peer->node_id && streq (peer->node_id, node_id)))
        peer = (s_peer_t *) zlistx_next (self->peers);
    return peer;
}

//  Adds a peer unless known, ourselves, the table is full, or host or port
//  is not of the form the protocol fixes.
static s_peer_t *
s_peer_add (self_t *self, const char *host, int port)
{
    if (!zc_host_valid (host) || port <= 0 || port > 65535)
        return NULL;
    char *address = zc_net_join (host, port);
    s_peer_t *peer = NULL;
    if (strcmp (address, self->self_address) != 0
    &&  !s_peer_lookup (self, address)
    &&  zlistx_size (self->peers) < S_MAX_PEERS) {
        peer = (s_peer_t *) zmalloc (sizeof (s_peer_t));
        peer->address = address;
        peer->host = strdup (host);
        peer->port = port;
        zlistx_add_end (self->peers, peer);
        address = NULL;
    }
    free (address);
    return peer;
}

//  Destroys a hash value that is one malloc'd block.
static void
s_free_item (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, zc_node_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->self_address = zc_net_join (config->host, config->port);
    self->peers = zlistx_new ();
    zlistx_set_destructor (self->peers, (czmq_destructor *) s_peer_destroy);
    self->forgotten = zhashx_new ();
    zhashx_set_destructor (self->forgotten, s_free_item);
    for (size_t i = 0; i < config->peer_count; i++) {
        char host [ZC_HOST_MAX + 1];
        int port;
        if (zc_net_split (config->peers [i], host, sizeof host, &port) == 0) {
            s_peer_t *peer = s_peer_add (self, host, port);
            if (peer)
                peer->configured = true;
        }
    }
    self->bridge = zc_link_new ("bridge", config->name, false);
    self->validator = zc_link_new ("listener", config->name, true);
    self->notifier = zc_link_new ("notices", config->name, true);
    self->seen = zc_seen_new (S_SEEN_IDS);
    self->busy_waiting = S_BUSY_BLOCKS * config->max_block_txs;
    if (self->busy_waiting < S_BUSY_WAITING)
        self->busy_waiting = S_BUSY_WAITING;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zlistx_destroy (&self->peers);
        zhashx_destroy (&self->forgotten);
        zc_seen_destroy (&self->seen);
        zsock_destroy (&self->bridge);
        zsock_destroy (&self->validator);
        zsock_destroy (&self->notifier);
        free (self->self_address);
        free (self);
        *self_p = NULL;
    }
}

//  Answers a bad request with {"type":"error","error":reason} and logs it
//  with the peer's address.
static void
s_error (self_t *self, uint32_t conn, const char *address, const char *reason)
{
    zc_link_refuse (self->bridge, self->config->name, conn, address, reason);
}

//  Sends a JSON message to a peer.
static void
s_send_peer (self_t *self, const char *address, cJSON *message)
{
    char *text = zc_jcs_serialize (message);
    if (text)
        zc_link_send_peer (self->bridge, address, text, strlen (text));
    free (text);
}

//  node_list: the peers we know, in the order learnt, with their node_id
//  once known; as many as fit S_LIST_BYTES, so the reply always fits a
//  length frame (256 peers of 253-char hosts would not: found by
//  fuzz/fuzz_listener).
static cJSON *
s_node_list (self_t *self)
{
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "type", "node_list");
    cJSON *nodes = cJSON_AddArrayToObject (reply, "nodes");
    size_t bytes = 32;                  //  {"nodes":[],"type":"node_list"}
    s_peer_t *peer = (s_peer_t *) zlistx_first (self->peers);
    while (peer) {
        //  {"host":"","node_id":"","port":65535}, and a comma
        bytes += strlen (peer->host) + (peer->node_id? strlen (peer->node_id) + 2: 4) + 36;
        if (bytes > S_LIST_BYTES)
            break;
        cJSON *node = cJSON_CreateObject ();
        if (peer->node_id)
            cJSON_AddStringToObject (node, "node_id", peer->node_id);
        else
            cJSON_AddNullToObject (node, "node_id");
        cJSON_AddStringToObject (node, "host", peer->host);
        cJSON_AddNumberToObject (node, "port", peer->port);
        cJSON_AddItemToArray (nodes, node);
        peer = (s_peer_t *) zlistx_next (self->peers);
    }
    return reply;
}

//  Learns peers from a node_list reply; entries of the wrong form are
//  skipped and counted.
static void
s_learn_peers (self_t *self, const char *address, const cJSON *message)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive (message, "nodes");
    const cJSON *node;
    int seen = 0, skipped = 0;
    cJSON_ArrayForEach (node, nodes) {
        if (seen++ >= S_MAX_LEARN)
            break;
        char *entry = zc_net_address_of (node);
        if (!entry)
            skipped++;
        else
        if (!zhashx_lookup (self->forgotten, entry))
            s_peer_add (self, cJSON_GetObjectItemCaseSensitive (node, "host")->valuestring,
                        zc_net_port_of (cJSON_GetObjectItemCaseSensitive (node, "port")));
        free (entry);
    }
    if (skipped)
        zc_log_warning ("%s: node_list from %s: skipped %d entries without a valid host and port",
                      self->config->name, address, skipped);
}

//  Takes the node_id a peer tells (pong, status) if it is a UUID.
static void
s_peer_set_node_id (self_t *self, s_peer_t *peer, const cJSON *node_id)
{
    if (!peer || !cJSON_IsString (node_id))
        return;
    if (!zc_uuid_valid (node_id->valuestring)) {
        zc_log_warning ("%s: %s told a node_id that is not a UUID", self->config->name,
                      peer->address);
        return;
    }
    if (!peer->node_id || !streq (peer->node_id, node_id->valuestring)) {
        free (peer->node_id);
        peer->node_id = strdup (node_id->valuestring);
    }
}

//  Reads an integer member within [min, max]; false if absent or not.
static bool
s_get_int (const cJSON *message, const char *name, int64_t min, int64_t max,
           int64_t *value_p)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (message, name);
    if (!cJSON_IsNumber (item))
        return false;
    double value = item->valuedouble;
    if (!(value >= (double) min && value <= (double) max) || value != (double) (int64_t) value)
        return false;
    *value_p = (int64_t) value;
    return true;
}

//  Handles a "blocks" reply to one of our get_blocks requests.
static void
s_handle_blocks (self_t *self, const char *address, const cJSON *message)
{
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive (message, "blocks");
    if (!cJSON_IsArray (blocks)) {
        zc_log_warning ("%s: blocks reply from %s has no blocks array", self->config->name, address);
        return;
    }
    int64_t count = 0, last = -1;
    const cJSON *item;
    cJSON_ArrayForEach (item, blocks) {
        const char *error = NULL;
        zc_block_t *block = zc_block_from_json (item, &error);
        if (!block) {
            zc_log_warning ("%s: bad block from %s: %s", self->config->name, address, error);
            break;
        }
        count++;
        last = zc_block_index (block);
        //  Signatures are most of what a sync costs: this thread checks
        //  those of every second block while the validator checks the
        //  others, so a late node uses two cores.  The result stays in
        //  each transaction (zc_tx_verify); a bad one is found again and
        //  refused by the validator.
        if (self->config->verify_txs && count % 2 == 0)
            for (size_t i = 0; i < zc_block_tx_count (block); i++)
                zc_tx_verify (zc_block_tx (block, i));
        zc_msg_send_block (self->validator, 0, address, address, block);
    }
    zc_msg_send_synced (self->validator, address, count, last + 1);
}

//  True if a client's transaction would wait longer than the network can
//  confirm: the validator is behind, or the mempool holds more than the
//  next blocks take.
static bool
s_busy (self_t *self)
{
    int64_t backlog = self->tx_sent - self->tx_taken;
    return backlog >= S_BUSY_BACKLOG
        || (backlog > S_BUSY_BURST
            && zclock_mono () - self->sent_at [self->tx_taken % S_BUSY_BACKLOG] > S_BUSY_MSECS)
        || (size_t) self->waiting >= self->busy_waiting;
}

//  One whole message from a connection.
//  True if the id of ZC_HASH_HEX characters at text is a valid hash this
//  node holds.
static bool
s_held_at (self_t *self, const char *text)
{
    char id [ZC_HASH_HEX + 1];
    memcpy (id, text, ZC_HASH_HEX);
    id [ZC_HASH_HEX] = 0;
    return zc_hash_valid (id) && zc_seen_has (self->seen, id);
}

//  A relay this node already holds, told apart before it is read (issue
//  11): each node relays what it takes to every peer, so a node gets each
//  transaction and block from up to every peer, and reading every copy
//  (strict UTF-8, a JSON tree) cost more than the copy it keeps.  Our
//  nodes write relays in JCS form, so the claims sit at fixed places:
//      {"transactions":[...],"tx_ids":["ID",...],"type":"new_transactions"}
//      {"data":{"current_hash":"ID",...},"node_id":...,"type":"new_block"}
//  A relay whose every claimed id is held carries nothing new, whatever
//  else it holds: an id is the hash of the whole object, so a copy under
//  a held id is that object or a forgery that could never replace it (the
//  same rule as for each item below, once read).  Scanning is bounded by
//  the message; anything not exactly in this form is read in full.
static bool
s_relay_held (self_t *self, const char *data, size_t size)
{
    static const char txs_tail [] = "],\"type\":\"new_transactions\"}";
    static const char ids_key [] = "\"tx_ids\":[";
    static const char block_head [] = "{\"data\":{\"current_hash\":\"";
    static const char block_tail [] = ",\"type\":\"new_block\"}";
    size_t tail = sizeof txs_tail - 1;
    if (size > tail && memcmp (data + size - tail, txs_tail, tail) == 0) {
        //  Back from the end: "ID" (,"ID")* after "tx_ids":[
        size_t end = size - tail, ids = 0;
        while (end >= ZC_HASH_HEX + 2 && data [end - 1] == '"'
        &&     data [end - ZC_HASH_HEX - 2] == '"') {
            if (!s_held_at (self, data + end - ZC_HASH_HEX - 1))
                return false;
            ids++;
            end -= ZC_HASH_HEX + 2;
            if (end > 0 && data [end - 1] == ',')
                end--;
            else
                break;
        }
        size_t key = sizeof ids_key - 1;
        return ids > 0 && end >= key && memcmp (data + end - key, ids_key, key) == 0;
    }
    size_t head = sizeof block_head - 1;
    tail = sizeof block_tail - 1;
    return size > head + ZC_HASH_HEX + tail
        && memcmp (data, block_head, head) == 0
        && data [head + ZC_HASH_HEX] == '"'
        && memcmp (data + size - tail, block_tail, tail) == 0
        && s_held_at (self, data + head);
}

static void
s_handle_message (void *arg, uint32_t conn, const char *address,
                  const char *data, size_t size)
{
    self_t *self = (self_t *) arg;
    if (s_relay_held (self, data, size)) {
        s_peer_t *from = s_peer_lookup (self, address);
        if (from)
            from->answered = true;
        zc_link_done (self->bridge, conn);
        return;
    }
    char reason [ZC_JSON_ERROR_MAX];
    cJSON *message = zc_json_read (data, size, reason, sizeof reason);
    if (!message) {
        s_error (self, conn, address, reason);
        return;
    }
    //  Any message on our own connection to a peer shows it is alive
    s_peer_t *from = s_peer_lookup (self, address);
    if (from)
        from->answered = true;
    const cJSON *type_item = cJSON_GetObjectItemCaseSensitive (message, "type");
    const char *type = cJSON_IsString (type_item)? type_item->valuestring: NULL;
    if (!cJSON_IsObject (message))
        s_error (self, conn, address, "message is not a JSON object");
    else
    if (!type)
        s_error (self, conn, address, "message has no string \"type\"");
    else
    if (streq (type, "ping")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "type", "pong");
        cJSON_AddStringToObject (reply, "node_id", self->config->node_id);
        if (*self->config->public_key)      //  how the gateway and server learn it
            cJSON_AddStringToObject (reply, "public_key", self->config->public_key);
        zc_link_reply (self->bridge, conn, reply);
    }
    else
    if (streq (type, "node_discovery")) {
        //  A node that says where it listens becomes a peer of ours: this
        //  is how a node started with one peer joins the whole network
        const cJSON *host = cJSON_GetObjectItemCaseSensitive (message, "host");
        const cJSON *port = cJSON_GetObjectItemCaseSensitive (message, "port");
        if (!host && !port)
            zc_link_reply (self->bridge, conn, s_node_list (self));
        else
        if (!cJSON_IsString (host) || !zc_host_valid (host->valuestring))
            s_error (self, conn, address, "node_discovery \"host\" must be a host name or address");
        else
        if (!zc_net_port_of (port))
            s_error (self, conn, address, "node_discovery \"port\" must be an integer 1..65535");
        else {
            //  The peer itself says it is back: it may be learnt again
            char *entry = zc_net_address_of (message);
            zhashx_delete (self->forgotten, entry);
            free (entry);
            s_peer_add (self, host->valuestring, zc_net_port_of (port));
            zc_link_reply (self->bridge, conn, s_node_list (self));
        }
    }
    else
    if (streq (type, "NEW_TRANSACTION")) {
        const char *error = NULL;
        zc_tx_t *tx = zc_tx_from_json (message, &error);
        if (!tx)
            s_error (self, conn, address, error);
        else
        if (s_busy (self)) {
            //  Past capacity: refused now rather than acknowledged seconds
            //  later (a relay from a peer is always taken)
            cJSON *reply = zc_error_new (ZC_BUSY_REASON);
            cJSON_AddStringToObject (reply, "tx_id", zc_tx_id (tx));
            zc_link_reply (self->bridge, conn, reply);
            zc_tx_destroy (&tx);
        }
        else {      //  the validator checks the signature, once, if new
            self->sent_at [self->tx_sent % S_BUSY_BACKLOG] = zclock_mono ();
            self->tx_sent++;
            zc_msg_send_tx (self->validator, conn, address, tx);
        }
    }
    else
    if (streq (type, "new_transactions")) {
        //  A peer relays the transactions that were new to it, in one
        //  message; each goes to the validator, nobody waits for answers
        const cJSON *txs = cJSON_GetObjectItemCaseSensitive (message, "transactions");
        //  The relayer's ids, in the same order: one we hold is dropped
        //  before it is built (whatever the item is, we lose nothing)
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive (message, "tx_ids");
        const cJSON *id = cJSON_IsArray (ids) && cJSON_GetArraySize (ids) == cJSON_GetArraySize (txs)?
                          ids->child: NULL;
        if (!cJSON_IsArray (txs))
            s_error (self, conn, address, "new_transactions needs a \"transactions\" array");
        else {
            const cJSON *item;
            cJSON_ArrayForEach (item, txs) {
                bool held = id && cJSON_IsString (id) && zc_seen_has (self->seen, id->valuestring);
                id = id? id->next: NULL;
                if (held)
                    continue;
                const char *error = NULL;
                zc_tx_t *tx = zc_tx_from_json (item, &error);
                if (tx) {
                    self->sent_at [self->tx_sent % S_BUSY_BACKLOG] = zclock_mono ();
                    self->tx_sent++;
                    zc_msg_send_tx (self->validator, 0, address, tx);
                }
                else
                    zc_log_warning ("%s: bad relayed transaction from %s: %s",
                                  self->config->name, address, error);
            }
            zc_link_done (self->bridge, conn);
        }
    }
    else
    if (streq (type, "new_block")) {
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive (message, "data");
        //  A block we hold is dropped before its transactions are hashed: a
        //  copy claiming its hash is it, or a forgery that could never
        //  replace it
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive (payload, "current_hash");
        bool held = cJSON_IsString (hash) && zc_seen_has (self->seen, hash->valuestring);
        const char *error = "new_block has no data object";
        zc_block_t *block = cJSON_IsObject (payload) && !held?
                            zc_block_from_json (payload, &error): NULL;
        //  Find where the sender listens, when we know it, so that what its
        //  block lacks can be fetched from it
        const cJSON *node_id = cJSON_GetObjectItemCaseSensitive (message, "node_id");
        s_peer_t *sender = cJSON_IsString (node_id)?
                           s_peer_by_node_id (self, node_id->valuestring): NULL;
        if (held)
            zc_link_done (self->bridge, conn);
        else
        if (block)
            zc_msg_send_block (self->validator, conn, address,
                               sender? sender->address: "", block);
        else
            s_error (self, conn, address, error);
    }
    else
    if (streq (type, "get_status"))
        zc_msg_send_status (self->validator, conn, (uint32_t) zlistx_size (self->peers));
    else
    if (streq (type, "get_blocks")) {
        int64_t from = 0, limit = 0;
        if (!s_get_int (message, "from", 0, INT64_C (1) << 53, &from))
            s_error (self, conn, address, "get_blocks needs an integer \"from\" >= 0");
        else
        if (!s_get_int (message, "limit", 1, 1000000, &limit))
            s_error (self, conn, address, "get_blocks needs an integer \"limit\" >= 1");
        else
            zc_msg_send_get_blocks (self->validator, conn, from, limit);
    }
    else
    if (streq (type, "pong")) {
        s_peer_set_node_id (self, from, cJSON_GetObjectItemCaseSensitive (message, "node_id"));
        zc_link_done (self->bridge, conn);
    }
    else
    if (streq (type, "node_list")) {
        //  Only the answer to our own node_discovery: a list pushed by
        //  anyone else would let them fill our table
        if (from && from->discovering) {
            from->discovering = false;
            s_learn_peers (self, address, message);
            zc_link_done (self->bridge, conn);
        }
        else
            s_error (self, conn, address, "node_list is taken only as the answer to our node_discovery");
    }
    else
    if (streq (type, "blocks")) {
        s_handle_blocks (self, address, message);
        zc_link_done (self->bridge, conn);
    }
    else
    if (streq (type, "notice_ack")) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive (message, "seq");
        //  A seq is what the notifier sent: a whole number, in range
        if (self->config->gateway && streq (address, self->config->gateway)
        &&  cJSON_IsNumber (seq) && seq->valuedouble >= 0
        &&  seq->valuedouble < 9007199254740992.0
        &&  seq->valuedouble == (double) (int64_t) seq->valuedouble)
            zc_notices_msg_send_ack (self->notifier, (int64_t) seq->valuedouble);
        zc_link_done (self->bridge, conn);
    }
    else
    if (streq (type, "error")) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive (message, "error");
        if (self->config->gateway && streq (address, self->config->gateway))
            zc_notices_msg_send_nack (self->notifier,
                                      cJSON_IsString (error)? error->valuestring: "?");
        zc_debug ("%s: %s answered an error: %s", self->config->name, address,
                  cJSON_IsString (error)? error->valuestring: "?");
        zc_link_done (self->bridge, conn);
    }
    else
    if (streq (type, "status")) {
        //  A peer's answer to our get_status: the validator decides whether
        //  to sync from it
        const cJSON *height = cJSON_GetObjectItemCaseSensitive (message, "height");
        const cJSON *tip = cJSON_GetObjectItemCaseSensitive (message, "tip_hash");
        s_peer_t *peer = from;
        s_peer_set_node_id (self, peer, cJSON_GetObjectItemCaseSensitive (message, "node_id"));
        if (peer && cJSON_IsNumber (height) && height->valuedouble >= 0
        &&  height->valuedouble < 9007199254740992.0
        &&  height->valuedouble == (double) (uint64_t) height->valuedouble
        &&  cJSON_IsString (tip) && zc_hash_valid (tip->valuestring))
            zc_msg_send_peer_status (self->validator, address,
                                     (int64_t) height->valuedouble, tip->valuestring);
        zc_link_done (self->bridge, conn);
    }
    else
    if (streq (type, "MINING_STARTED"))
        zc_link_done (self->bridge, conn);            //  answer to a transaction we relayed
    else {
        //  The echo is cut at a character's end, so the reply stays UTF-8
        char unknown [128];
        snprintf (unknown, sizeof unknown, "unknown message type \"%.*s\"",
                  (int) zc_utf8_prefix (type, 64), type);
        s_error (self, conn, address, unknown);
    }
    cJSON_Delete (message);
}


//  A message from the validator: what goes to every peer (its answers
//  and sends to one peer go straight to the bridge).
static void
s_self_handle_validator (self_t *self)
{
    bool malformed = false;
    zc_msg_t *msg = zc_msg_recv (self->validator, &malformed);
    if (msg && zc_msg_id (msg) == ZC_MSG_BROADCAST) {
        zframe_t *body = zc_msg_body (msg);
        s_peer_t *peer = (s_peer_t *) zlistx_first (self->peers);
        while (peer && body) {
            zc_link_send_peer (self->bridge, peer->address, zframe_data (body),
                               zframe_size (body));
            peer = (s_peer_t *) zlistx_next (self->peers);
        }
    }
    else
    if (msg && zc_msg_id (msg) == ZC_MSG_LOAD) {
        self->tx_taken = zc_msg_taken (msg);
        self->waiting = zc_msg_waiting (msg);
    }
    else
    if (msg && zc_msg_id (msg) == ZC_MSG_HELD) {
        char id [ZC_HASH_HEX + 1];
        for (size_t i = 0; i < zc_msg_held_count (msg); i++) {
            zc_msg_held_id (msg, i, id);
            zc_seen_add (self->seen, id);
        }
    }
    else
    if (msg || malformed)
        zc_log_error ("%s: listener: bug: unexpected validator command %s",
                    self->config->name, msg? zc_msg_name (zc_msg_id (msg)): "(malformed)");
    zc_msg_destroy (&msg);
}

//  News of a connection of ours: the end of the one to the gateway
//  concerns the notifier.
static void
s_handle_news (void *arg, zc_link_msg_id_t id, const char *address, int64_t post)
{
    self_t *self = (self_t *) arg;
    (void) post;
    if (id == ZC_LINK_DOWN && self->config->gateway && streq (address, self->config->gateway))
        zc_notices_msg_send_down (self->notifier);
}

//  A message from the bridge: a whole message, or news.
static void
s_self_handle_bridge (self_t *self)
{
    zc_link_dispatch (self->bridge, self->config->name, s_handle_message, s_handle_news, self);
}

//  Asks every peer its status (which tells its node_id, keeps liveness,
//  and lets the validator see a better chain), and now and then its peers,
//  saying where we listen so it adds us too.
static void
s_ping_peers (self_t *self)
{
    cJSON *status = cJSON_CreateObject ();
    cJSON_AddStringToObject (status, "type", "get_status");
    cJSON *discovery = cJSON_CreateObject ();
    cJSON_AddStringToObject (discovery, "type", "node_discovery");
    cJSON_AddStringToObject (discovery, "node_id", self->config->node_id);
    cJSON_AddStringToObject (discovery, "host", self->config->host);
    cJSON_AddNumberToObject (discovery, "port", self->config->port);
    bool discover = self->rounds++ % S_DISCOVER_EVERY == 0;
    zlistx_t *expired = zlistx_new ();
    int64_t *until = (int64_t *) zhashx_first (self->forgotten);
    while (until) {
        if (*until <= zclock_mono ())
            zlistx_add_end (expired, (void *) zhashx_cursor (self->forgotten));
        until = (int64_t *) zhashx_next (self->forgotten);
    }
    const char *address = (const char *) zlistx_first (expired);
    while (address) {
        zhashx_delete (self->forgotten, address);
        address = (const char *) zlistx_next (expired);
    }
    zlistx_destroy (&expired);
    s_peer_t *peer = (s_peer_t *) zlistx_first (self->peers);
    while (peer) {
        //  A learnt peer silent for S_EVICT_ROUNDS rounds is dropped
        peer->silent = peer->answered? 0: peer->silent + 1;
        peer->answered = false;
        if (!peer->configured && peer->silent >= S_EVICT_ROUNDS) {
            zc_log_info ("%s: dropping peer %s: no answer in %d status rounds",
                       self->config->name, peer->address, peer->silent);
            if (zhashx_size (self->forgotten) < 4 * S_MAX_PEERS) {
                int64_t *until = (int64_t *) malloc (sizeof (int64_t));
                *until = zclock_mono () + S_FORGET_MSECS;
                zhashx_update (self->forgotten, peer->address, until);
            }
            zlistx_delete (self->peers, zlistx_cursor (self->peers));
            peer = (s_peer_t *) zlistx_next (self->peers);
            continue;
        }
        s_send_peer (self, peer->address, status);
        if (discover) {
            s_send_peer (self, peer->address, discovery);
            peer->discovering = true;
        }
        peer = (s_peer_t *) zlistx_next (self->peers);
    }
    cJSON_Delete (status);
    cJSON_Delete (discovery);
    self->next_ping = zclock_mono () + S_PING_MSECS;
}

void
zc_listener_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_node_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->validator, self->bridge, NULL);
    while (!self->terminated) {
        int64_t wait = self->next_ping - zclock_mono ();
        void *which = zpoller_wait (poller, wait > 0? (int) wait: 0);
        if (zpoller_terminated (poller))
            break;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            zstr_free (&command);
        }
        else
        if (which == self->bridge)
            s_self_handle_bridge (self);
        else
        if (which == self->validator)
            s_self_handle_validator (self);
        if (zclock_mono () >= self->next_ping)
            s_ping_peers (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

//  -------------------------------------------------------------------------
//  The handler outside the actor (fuzz/fuzz_listener.c): a listener's
//  state with its two links (the caller binds "bridge" first and connects
//  to "listener" after), and one message handled as the actor would.

void *
zc_listener_state_new (zc_node_config_t *config)
{
    return s_self_new (NULL, config);
}

void
zc_listener_state_destroy (void **state_p)
{
    s_self_destroy ((self_t **) state_p);
}

void
zc_listener_handle (void *state, uint32_t conn, const char *address,
                    const char *data, size_t size)
{
    s_handle_message (state, conn, address, data, size);
}

//  One status round, as the actor's timer runs it (asks peers, evicts).
void
zc_listener_tick (void *state)
{
    s_ping_peers ((self_t *) state);
}
