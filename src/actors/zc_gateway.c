/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_gateway - the RPC gateway: client requests in, transactions out to
    every node, block confirmations on to the marketplace server

    Clients send {"action": ...} requests.  A transaction (given, or built
    from a purchase and signed with the gateway's own key) is checked as a
    node would check it, then sent as NEW_TRANSACTION to every node over
    connections the bridge keeps open and redials.  The client's reply
    waits for each node's answer, a node going down, or a short deadline,
    whichever comes first: a node that is down lowers nodes_reached but
    never blocks the reply.  Nodes answer with the transaction's id
    (tx_id), which is how answers are matched to requests.

    Nodes send {"type":"block_confirmation"} (and "block_rollback") here;
    each is forwarded to the server as the seed says: a new connection, one
    JSON line, close.  They wait in a bounded queue while the server is
    down, and are retried with backoff.  Each node's notices reach the
    server in the order the node sent them (the server takes a seq only
    above the last it took from that key), one post at a time per node;
    different nodes' posts travel side by side (issue 11: one post at a
    time for the whole gateway could not keep up with five nodes).

    Issue 9: a notice counts only if signed by the key of a node of the
    file (pinned there, or learned from a pong at the address the file
    gives, kept in DATA/known_nodes) with that node's node_id.  An accepted
    notice is written to DATA/gateway.sqlite3 (zc_spool) before the node
    gets {"type":"notice_ack","seq"}, and leaves it once POSTED, so neither
    a node nor the gateway killed loses one; a repeated seq is acknowledged
    and not queued again.  What one wake-up takes is written in one SQL
    transaction, and acknowledged once that commits.  Anything else is
    refused with an error and the connection closed (so nothing sent after
    a refusal on it is taken out of order), logged with the sender's
    address and counted.  A full queue
    refuses too: the node keeps the notice and sends it again later.
    Client requests are served only from gateway/allow's networks.

    Pipe protocol (from the role):
        START                   loads or makes the gateway key
                                -> signal 0, or -1 with the reason logged
        $TERM                   ends the actor

    Bridge link: MSG in; REPLY / DONE / SEND / POST (with the notice's
    spool id) out; DOWN and POSTED in about our own connections and posts
    (see zc_bridge).
    =========================================================================
*/

#include "zc_actors.h"
#include <sys/socket.h>
#include <arpa/inet.h>

#define S_REPLY_MSECS   3000        //  longest a client waits for the nodes
#define S_DRAIN_BUDGET  1024        //  messages taken per wake-up, at most
#define S_NODE_PENDING  100000      //  answers awaited from one node, at most
#define S_RETRY_MIN     100         //  first pause before re-posting, msecs
#define S_RETRY_MAX     5000        //  longest pause before re-posting
#define S_MAX_FIELD     1024        //  longest purchase string field
#define S_MAX_NODES     256         //  nodes known, at most
#define S_DISCOVER_MSECS 5000       //  how often nodes are asked for their peers
#define S_BUSY_REQUESTS 512         //  transactions the nodes still owe answers
                                    //  for, at most: past it a client is
                                    //  refused at once, busy (issue 11)...
#define S_BUSY_MSECS    75          //  ...as while more than S_BUSY_BURST are
#define S_BUSY_BURST    100         //  owed and one that most nodes have not
                                    //  answered yet has waited S_BUSY_MSECS
                                    //  (before the nodes' own bound, 150 ms,
                                    //  so that they rarely refuse its sends;
                                    //  a short burst is never refused)

//  A client request waiting for the nodes' answers
typedef struct {
    uint32_t conn;              //  client connection
    bool purchase;              //  submit_purchase (else submit_transaction)
    cJSON *transaction;         //  purchase: the transaction for the reply
    char tx_id [ZC_HASH_HEX + 1];   //  the transaction's id
    size_t outstanding;         //  nodes that have not answered yet
    size_t reached;             //  nodes that answered MINING_STARTED
    size_t busy;                //  nodes that refused it as busy
    int64_t deadline;           //  when to reply regardless
    bool replied;               //  the client has its reply
    void *handle;               //  its place in the list of requests
} s_request_t;

//  Notices owed to the server from one node (its key), oldest first
typedef struct {
    zlistx_t *queue;            //  "ID BODY" strings
    int64_t posting;            //  the spool id of the head on its way, or 0
} s_source_t;

//  A notice taken in this wake-up, acknowledged once its group commits
typedef struct {
    uint32_t conn;              //  the node's connection
    int64_t seq;                //  what to acknowledge
    char *key;                  //  its source
    char *entry;                //  "ID BODY" to queue, or NULL (a repeat)
} s_taken_t;

//  An answer one node owes us
typedef struct {
    s_request_t *request;       //  the request it counts for
    char tx_id [ZC_HASH_HEX + 1];   //  what the node will name
} s_pending_t;

//  A node the gateway broadcasts to
typedef struct {
    char *address;              //  "host:port"
    zlistx_t *pending;          //  s_pending_t *, in send order
} s_node_t;

//  zhashx destructor of a source.
static void
s_source_free (s_source_t **source_p)
{
    if (*source_p) {
        zlistx_destroy (&(*source_p)->queue);
        free (*source_p);
        *source_p = NULL;
    }
}

//  Frees a notice taken.
static void
s_taken_free (s_taken_t **taken_p)
{
    if (*taken_p) {
        free ((*taken_p)->key);
        free ((*taken_p)->entry);
        free (*taken_p);
        *taken_p = NULL;
    }
}

//  Frees a pending answer (the request is freed elsewhere).
static void
s_pending_free (s_pending_t **pending_p)
{
    free (*pending_p);
    *pending_p = NULL;
}

//  Frees a request.
static void
s_request_free (s_request_t **request_p)
{
    if (*request_p) {
        cJSON_Delete ((*request_p)->transaction);
        free (*request_p);
        *request_p = NULL;
    }
}

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *bridge;            //  PAIR to the bridge
    zc_service_config_t *config;    //  gateway config (borrowed)
    zc_keys_t *keys;            //  signs purchases
    s_node_t *nodes;            //  every node of the deployment
    size_t node_count;          //  how many
    int64_t next_discovery;     //  when to ask the nodes for their peers
    zlistx_t *requests;         //  s_request_t * not yet replied, oldest first
    zhashx_t *sources;          //  node key -> s_source_t *, notices owed
    size_t queued;              //  notices in every source's queue
    zlistx_t *taken;            //  s_taken_t *, this wake-up's notices
    zc_trust_t *trust;          //  the file's nodes and their keys
    zc_spool_t *spool;          //  the durable copy of the queues
    zhashx_t *refused_conns;    //  connections that had a notice refused
    uint64_t refused;           //  notices refused so far
    int64_t next_ping;          //  when to ask unlearned nodes who they are
    int64_t retry_at;           //  when to post again after a failure
    int64_t retry_pause;        //  current backoff
    uint64_t dropped;           //  confirmations dropped, queue full
    uint64_t forwarded;         //  confirmations delivered
    bool terminated;            //  $TERM received
} self_t;

//  Adds a node to broadcast to (the file's, or one a node_list named).
static void
s_node_add (self_t *self, const char *address)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (streq (self->nodes [i].address, address))
            return;
    if (self->node_count == S_MAX_NODES)
        return;
    s_node_t *node = &self->nodes [self->node_count++];
    node->address = strdup (address);
    node->pending = zlistx_new ();
    zlistx_set_destructor (node->pending, (czmq_destructor *) s_pending_free);
}

static self_t *
s_self_new (zsock_t *pipe, zc_service_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->nodes = (s_node_t *) zmalloc (S_MAX_NODES * sizeof (s_node_t));
    for (size_t i = 0; i < config->node_count && i < S_MAX_NODES; i++)
        s_node_add (self, config->nodes [i]);
    self->requests = zlistx_new ();
    self->sources = zhashx_new ();
    zhashx_set_destructor (self->sources, (czmq_destructor *) s_source_free);
    self->taken = zlistx_new ();
    zlistx_set_destructor (self->taken, (czmq_destructor *) s_taken_free);
    self->retry_pause = S_RETRY_MIN;
    self->refused_conns = zhashx_new ();
    self->bridge = zc_link_new ("bridge", config->name, false);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        //  Requests are owned by the request list; pending entries point
        //  into them, so the entries go first
        for (size_t i = 0; i < self->node_count; i++) {
            zlistx_destroy (&self->nodes [i].pending);
            free (self->nodes [i].address);
        }
        free (self->nodes);
        s_request_t *request = (s_request_t *) zlistx_first (self->requests);
        while (request) {
            s_request_free (&request);
            request = (s_request_t *) zlistx_next (self->requests);
        }
        zlistx_destroy (&self->requests);
        zhashx_destroy (&self->sources);
        zlistx_destroy (&self->taken);
        zc_trust_destroy (&self->trust);
        zc_spool_destroy (&self->spool);
        zhashx_destroy (&self->refused_conns);
        zc_keys_destroy (&self->keys);
        zsock_destroy (&self->bridge);
        free (self);
        *self_p = NULL;
    }
}

//  Queues a notice ("ID BODY", which the queue then owns) for its source.
static void
s_queue_add (self_t *self, const char *key, char *entry)
{
    s_source_t *source = (s_source_t *) zhashx_lookup (self->sources, key);
    if (!source) {
        source = (s_source_t *) zmalloc (sizeof (s_source_t));
        source->queue = zlistx_new ();
        zlistx_set_destructor (source->queue, (czmq_destructor *) zstr_free);
        zhashx_insert (self->sources, key, source);
    }
    zlistx_add_end (source->queue, entry);
    self->queued++;
}

//  Loads the gateway's key from its data folder (the role made it),
//  making one the first time.
static int
s_self_start (self_t *self)
{
    char *path = zsys_sprintf ("%s/gateway.key", self->config->data);
    self->keys = zc_keys_load_or_create (path);
    if (!self->keys)
        zc_log_error ("%s: cannot load or create key %s", self->config->name, path);
    free (path);
    if (!self->keys)
        return -1;
    //  The nodes whose notices count, and what was learned of them
    path = zsys_sprintf ("%s/known_nodes", self->config->data);
    self->trust = zc_trust_new (path);
    free (path);
    for (size_t i = 0; i < self->config->file_node_count; i++)
        zc_trust_add (self->trust, self->config->node_names [i], self->config->nodes [i],
                      self->config->node_keys [i]);
    char *error = NULL;
    if (zc_trust_load (self->trust, &error) != 0) {
        zc_log_error ("%s: %s", self->config->name, error);
        free (error);
        return -1;
    }
    //  What was owed to the server when we stopped
    path = zsys_sprintf ("%s/gateway.sqlite3", self->config->data);
    self->spool = zc_spool_open (path, &error);
    if (!self->spool)
        zc_log_error ("%s: cannot open %s", self->config->name, error? error: path);
    free (error);
    free (path);
    if (!self->spool)
        return -1;
    zlistx_t *owed = zc_spool_load (self->spool);
    for (char *entry = (char *) zlistx_first (owed); entry;
         entry = (char *) zlistx_next (owed)) {
        //  The spool holds what we checked and wrote: its source is the
        //  public_key it names
        const char *text = strchr (entry, ' ');
        cJSON *notice = text? zc_json_parse (text + 1, strlen (text + 1)): NULL;
        const cJSON *key = cJSON_GetObjectItemCaseSensitive (notice, "public_key");
        s_queue_add (self, cJSON_IsString (key)? key->valuestring: "", strdup (entry));
        cJSON_Delete (notice);
    }
    zlistx_destroy (&owed);
    if (self->queued > 0)
        zc_log_info ("%s: %zu notice(s) still owed to the server", self->config->name,
                   self->queued);
    return 0;
}

//  Answers a bad request: {"status":"error","message":reason}.
static void
s_reply_error (self_t *self, uint32_t conn, const char *address, const char *reason)
{
    zc_log_warning ("%s: bad request from %s: %s", self->config->name, address, reason);
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "status", "error");
    cJSON_AddStringToObject (reply, "message", reason);
    zc_link_reply (self->bridge, conn, reply);
}

//  Replies to a client once every node has answered or the deadline has
//  passed; the request itself lives on until no node owes an answer.
static void
s_request_finish (self_t *self, s_request_t *request)
{
    if (!request->replied) {
        request->replied = true;
        cJSON *reply = cJSON_CreateObject ();
        bool reached = request->reached > 0;
        cJSON_AddStringToObject (reply, "status", !reached? "error":
                                 request->purchase? "submitted": "broadcast");
        bool busy = !reached && request->busy > 0;
        cJSON_AddNumberToObject (reply, "nodes_reached", (double) request->reached);
        cJSON_AddNumberToObject (reply, "total_nodes", (double) self->node_count);
        char message [128];
        if (reached)
            snprintf (message, sizeof message, "transaction sent to %zu of %zu nodes",
                      request->reached, self->node_count);
        else
        if (busy)
            snprintf (message, sizeof message, "%s", ZC_BUSY_REASON);
        else
            snprintf (message, sizeof message, "no node could be reached (%zu known)",
                      self->node_count);
        cJSON_AddStringToObject (reply, "message", message);
        cJSON_AddStringToObject (reply, "tx_id", request->tx_id);
        if (request->transaction) {
            cJSON_AddItemToObject (reply, "transaction", request->transaction);
            request->transaction = NULL;
        }
        zc_link_reply (self->bridge, request->conn, reply);
    }
    if (request->outstanding == 0) {
        zlistx_detach (self->requests, request->handle);
        s_request_free (&request);
    }
}

//  One node's answer (or its absence) for one request.
static void
s_request_answered (self_t *self, s_request_t *request, bool reached, bool busy)
{
    assert (request->outstanding > 0);
    request->outstanding--;
    if (reached)
        request->reached++;
    if (busy)
        request->busy++;
    if (request->outstanding == 0 || request->replied)
        s_request_finish (self, request);
}

//  Sends a transaction to every node and waits for their answers.
static void
s_broadcast (self_t *self, uint32_t conn, zc_tx_t *tx, bool purchase)
{
    s_request_t *request = (s_request_t *) zmalloc (sizeof (s_request_t));
    request->conn = conn;
    request->purchase = purchase;
    snprintf (request->tx_id, sizeof request->tx_id, "%s", zc_tx_id (tx));
    request->deadline = zclock_mono () + S_REPLY_MSECS;
    if (purchase) {
        request->transaction = zc_tx_to_json (tx);
        cJSON_AddStringToObject (request->transaction, "id", zc_tx_id (tx));
    }
    request->handle = zlistx_add_end (self->requests, request);

    cJSON *message = zc_tx_to_json (tx);
    cJSON_AddStringToObject (message, "type", "NEW_TRANSACTION");
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    for (size_t i = 0; i < self->node_count && text; i++) {
        s_node_t *node = &self->nodes [i];
        if (zlistx_size (node->pending) >= S_NODE_PENDING)
            continue;                   //  a node that never answers
        s_pending_t *pending = (s_pending_t *) zmalloc (sizeof (s_pending_t));
        pending->request = request;
        memcpy (pending->tx_id, request->tx_id, sizeof pending->tx_id);
        zlistx_add_end (node->pending, pending);
        request->outstanding++;
        zc_link_send_peer (self->bridge, node->address, text, strlen (text));
    }
    free (text);
    if (request->outstanding == 0)
        s_request_finish (self, request);
}

//  A node answered (MINING_STARTED or error) for the transaction tx_id.
static void
s_node_answer (self_t *self, s_node_t *node, const char *tx_id, bool reached, bool busy)
{
    s_pending_t *pending = (s_pending_t *) zlistx_first (node->pending);
    while (pending && strcmp (pending->tx_id, tx_id) != 0)
        pending = (s_pending_t *) zlistx_next (node->pending);
    if (pending) {
        s_request_t *request = pending->request;
        zlistx_delete (node->pending, zlistx_cursor (node->pending));
        s_request_answered (self, request, reached, busy);
    }
}

//  A node's connection ended: what it still owed will not come.
static void
s_node_down (self_t *self, s_node_t *node)
{
    s_pending_t *pending;
    while ((pending = (s_pending_t *) zlistx_first (node->pending))) {
        s_request_t *request = pending->request;
        zlistx_delete (node->pending, zlistx_cursor (node->pending));
        s_request_answered (self, request, false, false);
    }
}

//  The node with that address, or NULL.
static s_node_t *
s_node_lookup (self_t *self, const char *address)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (streq (self->nodes [i].address, address))
            return &self->nodes [i];
    return NULL;
}

//  Sends each source's head to the server, unless its previous one is
//  still on its way: one post in flight per node keeps its order.
static void
s_post_next (self_t *self)
{
    if (!self->config->server || self->queued == 0 || zclock_mono () < self->retry_at)
        return;
    for (s_source_t *source = (s_source_t *) zhashx_first (self->sources); source;
         source = (s_source_t *) zhashx_next (self->sources)) {
        const char *entry = source->posting? NULL: (const char *) zlistx_first (source->queue);
        const char *line = entry? strchr (entry, ' '): NULL;
        if (line) {
            line++;
            source->posting = strtoll (entry, NULL, 10);    //  our own "ID BODY"
            zc_link_send_post (self->bridge, self->config->server, source->posting,
                               line, strlen (line));
        }
    }
}

//  The server took the notice with that spool id, or could not be
//  reached: its source goes on with the next, or everything waits a pause
//  that doubles up to S_RETRY_MAX.
static void
s_posted (self_t *self, int64_t id, bool delivered)
{
    s_source_t *source = (s_source_t *) zhashx_first (self->sources);
    while (source && source->posting != id)
        source = (s_source_t *) zhashx_next (self->sources);
    if (!source)
        return;                         //  not ours (a bug): nothing waits on it
    source->posting = 0;
    if (delivered) {
        //  Removed in this wake-up's group: a removal lost to a crash only
        //  means the server sees the notice again, and knows its seq
        zc_spool_begin (self->spool);
        if (zc_spool_remove (self->spool, id) != 0)
            zc_log_error ("%s: cannot remove a delivered notice from the spool",
                        self->config->name);
        zlistx_delete (source->queue, NULL);     //  the head
        self->queued--;
        self->forwarded++;
        self->retry_pause = S_RETRY_MIN;
    }
    else {
        zc_debug ("%s: server %s is down; retrying in %" PRId64 " ms",
                  self->config->name, self->config->server, self->retry_pause);
        self->retry_at = zclock_mono () + self->retry_pause;
        self->retry_pause = self->retry_pause * 2 > S_RETRY_MAX? S_RETRY_MAX:
                            self->retry_pause * 2;
    }
}

//  Commits what this wake-up took and removed, then acknowledges each
//  notice taken (queueing the new ones), or, if the commit failed, tells
//  each node that sent one to send it again later.
static void
s_settle (self_t *self)
{
    if (!self->spool)
        return;                         //  not started: nothing taken
    bool stored = zc_spool_commit (self->spool) == 0;
    if (!stored)
        zc_log_error ("%s: cannot keep %zu notice(s): not acknowledged", self->config->name,
                    zlistx_size (self->taken));
    s_taken_t *taken;
    while ((taken = (s_taken_t *) zlistx_first (self->taken))) {
        zlistx_detach (self->taken, NULL);
        if (stored) {
            if (taken->entry && self->config->server) {
                s_queue_add (self, taken->key, taken->entry);
                taken->entry = NULL;
            }
            cJSON *ack = cJSON_CreateObject ();
            cJSON_AddStringToObject (ack, "type", "notice_ack");
            cJSON_AddNumberToObject (ack, "seq", (double) taken->seq);
            zc_link_reply (self->bridge, taken->conn, ack);
        }
        else
            zc_link_error (self->bridge, taken->conn, "gateway cannot store the notice", true);
        s_taken_free (&taken);
    }
}

//  Refuses a notice: logged with the sender and reason, counted, answered
//  with an error, and the connection closed, so nothing its sender sent
//  after it is taken out of order.
static void
s_refuse (self_t *self, uint32_t conn, const char *address, const char *reason)
{
    self->refused++;
    zc_log_warning ("%s: refused a block notice from %s: %s (%" PRIu64 " refused so far)",
                  self->config->name, address, reason, self->refused);
    char key [16];
    snprintf (key, sizeof key, "%" PRIu32, conn);
    if (zhashx_size (self->refused_conns) > 10000)
        zhashx_purge (self->refused_conns);
    zhashx_insert (self->refused_conns, key, (void *) 1);
    zc_link_error (self->bridge, conn, reason, true);
}

//  Asks the file's nodes that are not yet known who they are (a pong
//  says node_id and public_key), now and then.
static void
s_ping_unknown (self_t *self, bool now)
{
    if (!self->trust || (!now && zclock_mono () < self->next_ping))
        return;
    self->next_ping = zclock_mono () + 1000;
    zc_link_ping_unknown (self->bridge, self->trust);
}

//  A node's notice: checked, made durable, acknowledged, queued for the
//  server; or refused.
static void
s_forward (self_t *self, uint32_t conn, const char *address, cJSON *message)
{
    char key [16];
    snprintf (key, sizeof key, "%" PRIu32, conn);
    if (zhashx_lookup (self->refused_conns, key)) {
        zc_link_done (self->bridge, conn);      //  the connection is closing
        return;
    }
    const char *reason = NULL, *name = NULL;
    zc_trust_result_t result = zc_trust_verify (self->trust, message, &reason, &name);
    if (result == ZC_TRUST_LATER)
        s_ping_unknown (self, true);
    if (result != ZC_TRUST_OK) {
        s_refuse (self, conn, address, reason);
        return;
    }
    if (self->config->server
    &&  self->queued + zlistx_size (self->taken) >= self->config->max_queue) {
        s_refuse (self, conn, address, "gateway queue is full; send it again later");
        return;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (message, "type");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive (message, "block_index");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive (message, "block_hash");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive (message, "seq");
    const cJSON *public_key = cJSON_GetObjectItemCaseSensitive (message, "public_key");
    char *text = zc_jcs_serialize (message);
    int64_t id = 0;
    int rc = text && zc_spool_begin (self->spool) == 0?
             zc_spool_accept (self->spool, public_key->valuestring,
                              (int64_t) seq->valuedouble, text, &id): -1;
    if (rc < 0) {
        zc_log_error ("%s: cannot keep a notice from %s", self->config->name, address);
        zc_link_error (self->bridge, conn, "gateway cannot store the notice", true);
    }
    else {
        s_taken_t *taken = (s_taken_t *) zmalloc (sizeof (s_taken_t));
        taken->conn = conn;
        taken->seq = (int64_t) seq->valuedouble;
        taken->key = strdup (public_key->valuestring);
        if (rc == 1) {
            zc_log_often ("gateway notice", "%s: %s of block %.0f (%.16s) from node %s", self->config->name,
                       type->valuestring, index->valuedouble, hash->valuestring, name);
            if (self->config->server)
                taken->entry = zsys_sprintf ("%" PRId64 " %s", id, text);
            else
                zc_spool_remove (self->spool, id);  //  nobody to tell
        }
        zlistx_add_end (self->taken, taken);
    }
    free (text);
}

static bool s_allowed_by (zc_service_config_t *config, const char *address);

//  True if a client address ("host:port") is in gateway/allow.
static bool
s_allowed (self_t *self, const char *address)
{
    return s_allowed_by (self->config, address);
}

//  What the bridge may answer on its own thread, without handing the
//  request to the gateway (issue 11): health, asked in its canonical form
//  by an allowed client.  Reads only the config, which no one changes once
//  started, so it is safe on the bridge's thread.
//  And, while the gateway says it is past capacity (config->busy, an
//  atomic it sets), a submission in canonical form is refused as busy.
#define S_HEALTH_REQUEST    "{\"action\":\"health\"}"
#define S_HEALTH_REPLY      "{\"service\":\"gateway_server\",\"status\":\"ok\"}"
#define S_SUBMIT_PREFIX     "{\"action\":\"submit_"
#define S_BUSY_REPLY        "{\"message\":\"" ZC_BUSY_REASON "\",\"status\":\"error\"}"

const char *
zc_gateway_quick (void *arg, const char *address, const char *data, size_t size)
{
    zc_service_config_t *config = (zc_service_config_t *) arg;
    if (size == strlen (S_HEALTH_REQUEST) && memcmp (data, S_HEALTH_REQUEST, size) == 0
    &&  s_allowed_by (config, address))
        return S_HEALTH_REPLY;
    if (config->busy && atomic_load (config->busy)
    &&  size > strlen (S_SUBMIT_PREFIX) && memcmp (data, S_SUBMIT_PREFIX, strlen (S_SUBMIT_PREFIX)) == 0
    &&  s_allowed_by (config, address))
        return S_BUSY_REPLY;
    return NULL;
}

static bool
s_allowed_by (zc_service_config_t *config, const char *address)
{
    char host [64];
    int port;
    if (zc_net_split (address, host, sizeof host, &port) != 0)
        return false;
    unsigned char client [16];
    int family = strchr (host, ':')? AF_INET6: AF_INET;
    if (inet_pton (family, host, client) != 1)
        return false;
    //  An IPv4 client seen on an IPv6 socket is judged as IPv4
    static const unsigned char mapped [12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
    if (family == AF_INET6 && memcmp (client, mapped, 12) == 0) {
        memmove (client, client + 12, 4);
        family = AF_INET;
    }
    for (size_t i = 0; i < config->allow_count; i++) {
        char net_host [64];
        const char *cidr = config->allow [i];
        const char *slash = strchr (cidr, '/');
        size_t net_length = slash? (size_t) (slash - cidr): strlen (cidr);
        if (net_length >= sizeof net_host)
            continue;
        memcpy (net_host, cidr, net_length);
        net_host [net_length] = 0;
        unsigned char net [16];
        int net_family = strchr (net_host, ':')? AF_INET6: AF_INET;
        if (net_family != family || inet_pton (net_family, net_host, net) != 1)
            continue;
        int bits = slash? atoi (slash + 1): (family == AF_INET? 32: 128);
        bool match = true;
        for (int bit = 0; bit < bits && match; bit++)
            match = ((client [bit / 8] ^ net [bit / 8]) & (0x80 >> (bit % 8))) == 0;
        if (match)
            return true;
    }
    return false;
}

//  A client outside gateway/allow: {"status":"error","message"}, then the
//  connection is closed.
static void
s_refuse_client (self_t *self, uint32_t conn, const char *address)
{
    zc_log_warning ("%s: refused client %s: not in gateway/allow", self->config->name, address);
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "status", "error");
    cJSON_AddStringToObject (reply, "message", "client address not allowed (gateway/allow)");
    char *text = zc_jcs_serialize (reply);
    cJSON_Delete (reply);
    zc_link_send_close (self->bridge, conn, text? text: "", text? strlen (text): 0);
    free (text);
}

//  Reads a purchase string field: non-empty, bounded.
static const char *
s_purchase_string (const cJSON *body, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (body, name);
    if (!cJSON_IsString (item) || !*item->valuestring || strlen (item->valuestring) > S_MAX_FIELD)
        return NULL;
    return item->valuestring;
}

//  submit_purchase: checks every field, makes a transaction signed by the
//  gateway with the purchase as its data, and broadcasts it.
//  True if the nodes already owe as many answers as they can give soon.
static bool
s_past_capacity (self_t *self)
{
    bool busy = zlistx_size (self->requests) >= S_BUSY_REQUESTS;
    //  The oldest request most nodes have not answered yet (one waiting
    //  only for a stuck node or two does not count: the others show there
    //  is capacity)
    size_t most = self->node_count / 2 + 1;
    s_request_t *request = (s_request_t *) zlistx_first (self->requests);
    while (request && (request->replied || request->reached + request->busy >= most))
        request = (s_request_t *) zlistx_next (self->requests);
    if (request && zlistx_size (self->requests) > S_BUSY_BURST
    &&  zclock_mono () - (request->deadline - S_REPLY_MSECS) > S_BUSY_MSECS)
        busy = true;
    return busy;
}

//  Tells the bridge whether to refuse submissions itself (quick answers),
//  so that past capacity they do not even queue for this thread.
static void
s_publish_capacity (self_t *self)
{
    if (self->config->busy)
        atomic_store (self->config->busy, s_past_capacity (self));
}

//  True, and the client refused at once, if past capacity: the request is
//  not even checked.
static bool
s_refuse_busy (self_t *self, uint32_t conn)
{
    if (!s_past_capacity (self))
        return false;
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "status", "error");
    cJSON_AddStringToObject (reply, "message", ZC_BUSY_REASON);
    zc_link_reply (self->bridge, conn, reply);
    return true;
}

static void
s_handle_purchase (self_t *self, uint32_t conn, const char *address, const cJSON *body)
{
    if (s_refuse_busy (self, conn))
        return;
    static const char *strings [] = { "tx_id", "buyer", "seller", "asset_id", "asset_name", NULL };
    char reason [128] = "";
    if (!cJSON_IsObject (body))
        snprintf (reason, sizeof reason, "submit_purchase needs a \"body\" object");
    for (const char **name = strings; !*reason && *name; name++)
        if (!s_purchase_string (body, *name))
            snprintf (reason, sizeof reason, "purchase %s must be a non-empty string", *name);
    const cJSON *price = cJSON_GetObjectItemCaseSensitive (body, "price");
    const cJSON *timestamp = cJSON_GetObjectItemCaseSensitive (body, "timestamp");
    if (!*reason && !(cJSON_IsNumber (price) && price->valuedouble > 0
                   && price->valuedouble < 1e300))
        snprintf (reason, sizeof reason, "purchase price must be a positive number");
    if (!*reason && !(cJSON_IsString (timestamp) && zc_iso8601_valid (timestamp->valuestring)))
        snprintf (reason, sizeof reason, "purchase timestamp must be an ISO 8601 date-time");
    if (*reason) {
        s_reply_error (self, conn, address, reason);
        return;
    }
    cJSON *data = cJSON_CreateObject ();
    for (const char **name = strings; *name; name++)
        cJSON_AddStringToObject (data, *name, s_purchase_string (body, *name));
    cJSON_AddNumberToObject (data, "price", price->valuedouble);
    cJSON_AddStringToObject (data, "timestamp", timestamp->valuestring);
    zc_tx_t *tx = zc_tx_new_signed (self->keys, data);
    cJSON_Delete (data);
    if (!tx)
        s_reply_error (self, conn, address, "purchase cannot be signed");
    else
        s_broadcast (self, conn, tx, true);
    zc_tx_destroy (&tx);
}

//  submit_transaction: checked as a node would check it, then broadcast.
static void
s_handle_transaction (self_t *self, uint32_t conn, const char *address, const cJSON *body)
{
    if (s_refuse_busy (self, conn))
        return;
    const char *error = "submit_transaction needs a \"body\" object";
    zc_tx_t *tx = cJSON_IsObject (body)? zc_tx_from_json (body, &error): NULL;
    if (tx && self->config->verify_txs && !zc_tx_verify (tx))
        error = "bad transaction signature";
    else
    if (tx)
        error = NULL;
    if (error)
        s_reply_error (self, conn, address, error);
    else
        s_broadcast (self, conn, tx, false);
    zc_tx_destroy (&tx);
}

//  One whole message from a client, a node, or a node's answer.
static void
s_handle_message (void *arg, uint32_t conn, const char *address,
                  const char *data, size_t size)
{
    self_t *self = (self_t *) arg;
    char reason [ZC_JSON_ERROR_MAX];
    cJSON *message = zc_json_read (data, size, reason, sizeof reason);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive (message, "action");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (message, "type");
    s_node_t *node = s_node_lookup (self, address);
    if (!cJSON_IsObject (message) && !node && !s_allowed (self, address))
        s_refuse_client (self, conn, address);
    else
    if (!message)
        s_reply_error (self, conn, address, reason);
    else
    if (!cJSON_IsObject (message))
        s_reply_error (self, conn, address, "request is not a JSON object");
    else
    if (node && cJSON_IsString (type) && streq (type->valuestring, "node_list")) {
        //  The gateway's nodes are the file's plus those the nodes know
        const cJSON *entry;
        cJSON_ArrayForEach (entry, cJSON_GetObjectItemCaseSensitive (message, "nodes")) {
            char *address = zc_net_address_of (entry);
            if (address)
                s_node_add (self, address);
            free (address);
        }
        zc_link_done (self->bridge, conn);
    }
    else
    if (node && cJSON_IsString (type) && streq (type->valuestring, "pong")) {
        //  Who the node at a file address is: its key and node_id
        const cJSON *node_id = cJSON_GetObjectItemCaseSensitive (message, "node_id");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive (message, "public_key");
        char *error = NULL;
        if (zc_trust_learn (self->trust, address, cJSON_IsString (node_id)? node_id->valuestring:
                            NULL, cJSON_IsString (key)? key->valuestring: NULL, &error) != 0) {
            zc_log_error ("%s: %s", self->config->name, error);
            free (error);
        }
        zc_link_done (self->bridge, conn);
    }
    else
    if (node && cJSON_IsString (type)) {
        //  A node's answer on our own connection to it
        const cJSON *tx_id = cJSON_GetObjectItemCaseSensitive (message, "tx_id");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive (message, "error");
        if (cJSON_IsString (tx_id))
            s_node_answer (self, node, tx_id->valuestring,
                           streq (type->valuestring, "MINING_STARTED"),
                           cJSON_IsString (error) && streq (error->valuestring, ZC_BUSY_REASON));
        zc_link_done (self->bridge, conn);
    }
    else
    if (cJSON_IsString (type) && (streq (type->valuestring, "block_confirmation")
                              ||  streq (type->valuestring, "block_rollback"))) {
        s_forward (self, conn, address, message);
    }
    else
    if (!s_allowed (self, address))
        s_refuse_client (self, conn, address);
    else
    if (!cJSON_IsString (action))
        s_reply_error (self, conn, address, "request needs a string \"action\"");
    else
    if (streq (action->valuestring, "health")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "status", "ok");
        cJSON_AddStringToObject (reply, "service", "gateway_server");
        zc_link_reply (self->bridge, conn, reply);
    }
    else
    if (streq (action->valuestring, "submit_transaction"))
        s_handle_transaction (self, conn, address,
                              cJSON_GetObjectItemCaseSensitive (message, "body"));
    else
    if (streq (action->valuestring, "submit_purchase"))
        s_handle_purchase (self, conn, address,
                           cJSON_GetObjectItemCaseSensitive (message, "body"));
    else {
        char reason [128];
        //  The echo is cut at a character's end, so the reply stays UTF-8
        snprintf (reason, sizeof reason, "unknown action \"%.*s\"",
                  (int) zc_utf8_prefix (action->valuestring, 64), action->valuestring);
        s_reply_error (self, conn, address, reason);
    }
    cJSON_Delete (message);
}

//  News of our own connections from the bridge: DOWN (to a node: its
//  answers will not come; a post to the server: post again later) and
//  POSTED (the server has that post).
static void
s_handle_news (void *arg, zc_link_msg_id_t id, const char *address, int64_t post)
{
    self_t *self = (self_t *) arg;
    s_node_t *node = s_node_lookup (self, address);
    if (node && id == ZC_LINK_DOWN)
        s_node_down (self, node);
    else
    if (post && self->config->server && streq (address, self->config->server))
        s_posted (self, post, id == ZC_LINK_POSTED);
}

//  A message from the bridge: a whole message, or news.
static void
s_self_handle_bridge (self_t *self)
{
    zc_link_dispatch (self->bridge, self->config->name, s_handle_message, s_handle_news, self);
}

//  Replies to clients whose nodes did not all answer in time.
static void
s_expire_requests (self_t *self)
{
    //  Deadlines follow list order, so the expired ones lead the list;
    //  they are collected first since finishing one edits the list
    int64_t now = zclock_mono ();
    zlistx_t *expired = zlistx_new ();
    s_request_t *request = (s_request_t *) zlistx_first (self->requests);
    while (request && request->deadline <= now) {
        if (!request->replied)
            zlistx_add_end (expired, request);
        request = (s_request_t *) zlistx_next (self->requests);
    }
    while ((request = (s_request_t *) zlistx_first (expired))) {
        zlistx_delete (expired, NULL);
        s_request_finish (self, request);
    }
    zlistx_destroy (&expired);
}

//  Asks every node for its peers, now and then.
static void
s_discover (self_t *self)
{
    if (zclock_mono () < self->next_discovery)
        return;
    self->next_discovery = zclock_mono () + S_DISCOVER_MSECS;
    const char *text = "{\"type\":\"node_discovery\"}";
    size_t count = self->node_count;    //  not those this round adds
    for (size_t i = 0; i < count; i++)
        zc_link_send_peer (self->bridge, self->nodes [i].address, text, strlen (text));
}

//  Milliseconds until the next timed duty.
static int
s_next_timeout (self_t *self)
{
    int64_t now = zclock_mono (), next = self->next_discovery;
    s_request_t *request = (s_request_t *) zlistx_first (self->requests);
    while (request && request->replied)
        request = (s_request_t *) zlistx_next (self->requests);
    if (request && request->deadline < next)
        next = request->deadline;
    if (self->queued > 0 && self->retry_at > now && self->retry_at < next)
        next = self->retry_at;          //  posting again after a failure
    if (self->trust && self->next_ping < next)
        next = self->next_ping;
    return next > now? (int) (next - now): 0;
}

void
zc_gateway_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_service_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->bridge, NULL);
    while (!self->terminated) {
        void *which = zpoller_wait (poller, s_next_timeout (self));
        if (zpoller_terminated (poller))
            break;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            else
            if (streq (command, "START"))
                zsock_signal (pipe, s_self_start (self) == 0? 0: 1);
            zstr_free (&command);
        }
        //  What is queued is taken (bounded) before any deadline is judged:
        //  a node's answer that arrived in time counts, however late a
        //  busy machine lets us read it
        int budget = S_DRAIN_BUDGET;
        while (!self->terminated && budget-- > 0 && (zsock_events (self->bridge) & ZMQ_POLLIN))
            s_self_handle_bridge (self);
        s_settle (self);
        s_expire_requests (self);
        s_publish_capacity (self);
        s_post_next (self);
        s_discover (self);
        s_ping_unknown (self, false);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

//  -------------------------------------------------------------------------
//  The handler outside the actor (fuzz/fuzz_gateway.c): state with its
//  bridge link and the gateway key in config->data.

void *
zc_gateway_state_new (zc_service_config_t *config)
{
    self_t *self = s_self_new (NULL, config);
    if (s_self_start (self) != 0)
        s_self_destroy (&self);
    return self;
}

void
zc_gateway_state_destroy (void **state_p)
{
    s_self_destroy ((self_t **) state_p);
}

void
zc_gateway_handle (void *state, uint32_t conn, const char *address,
                   const char *data, size_t size)
{
    s_handle_message (state, conn, address, data, size);
    s_settle ((self_t *) state);
}
