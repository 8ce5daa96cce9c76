/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_server - the reference marketplace server: a sink for confirmations

    It accepts what the gateway forwards (one JSON line per connection,
    as the seed says), logs each notice and records it in market.sqlite3,
    and answers questions about transactions, so a person or a test can
    ask whether a purchase is confirmed and by how many nodes.

        {"type":"block_confirmation", ...}      recorded; no reply
        {"type":"block_rollback", ...}          recorded; no reply
        {"type":"get_confirmation","tx_id":X}   -> {"type":"confirmation",
                                                    "confirmed", "nodes", ...}
        {"action":"health"}                     -> {"status":"ok",
                                                    "service":"market_server"}

    Issue 9: a notice is recorded only if signed by the key of a node of
    the file (pinned, or learned from a pong at the address the file gives,
    kept in DATA/known_nodes) with that node's node_id, whether it comes
    through the gateway or straight from anyone; anything else is logged
    with the sender's address and reason, counted, and never recorded.  A
    notice that cannot be judged yet (a node of the file not yet reached)
    waits, at most S_MAX_PENDING of them, until the nodes are known.

    Pipe protocol (from the role):
        START                   opens market.sqlite3 in the data folder
                                -> signal 0, or -1 with the reason logged
        $TERM                   ends the actor

    Bridge link: MSG in; REPLY / DONE / SEND (ping the file's nodes) out
    (see zc_bridge).
    =========================================================================
*/

#include "zc_actors.h"

#define S_MAX_PENDING   1024        //  notices waiting for their node's key
#define S_PING_MSECS    1000        //  how often unknown nodes are asked

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *bridge;            //  PAIR to the bridge
    zc_service_config_t *config;    //  server config (borrowed)
    zc_market_t *market;        //  market.sqlite3
    zc_trust_t *trust;          //  the file's nodes and their keys
    zlistx_t *pending;          //  cJSON * notices waiting for a key, oldest first
    uint64_t refused;           //  notices refused so far
    int64_t next_ping;          //  when to ask unknown nodes again
    bool terminated;            //  $TERM received
} self_t;

//  zlistx destructor of a cJSON item.
static void
s_json_destroy (cJSON **item_p)
{
    cJSON_Delete (*item_p);
    *item_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, zc_service_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->bridge = zc_link_new ("bridge", config->name, false);
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, (czmq_destructor *) s_json_destroy);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zc_market_destroy (&self->market);
        zc_trust_destroy (&self->trust);
        zlistx_destroy (&self->pending);
        zsock_destroy (&self->bridge);
        free (self);
        *self_p = NULL;
    }
}

//  Opens market.sqlite3 in the data folder (the role made it).
static int
s_self_start (self_t *self)
{
    char *path = zsys_sprintf ("%s/market.sqlite3", self->config->data);
    char *error = NULL;
    self->market = zc_market_open (path, &error);
    if (!self->market)
        zc_log_error ("%s: cannot open %s", self->config->name, error? error: path);
    free (error);
    free (path);
    if (!self->market)
        return -1;
    path = zsys_sprintf ("%s/known_nodes", self->config->data);
    self->trust = zc_trust_new (path);
    free (path);
    for (size_t i = 0; i < self->config->file_node_count; i++)
        zc_trust_add (self->trust, self->config->node_names [i], self->config->nodes [i],
                      self->config->node_keys [i]);
    error = NULL;
    if (zc_trust_load (self->trust, &error) != 0) {
        zc_log_error ("%s: %s", self->config->name, error);
        free (error);
        return -1;
    }
    return 0;
}

//  Asks the file's nodes not yet known who they are.
static void
s_ping_unknown (self_t *self)
{
    if (!self->trust || zclock_mono () < self->next_ping)
        return;
    self->next_ping = zclock_mono () + S_PING_MSECS;
    zc_link_ping_unknown (self->bridge, self->trust);
}

//  Judges a notice and records it if it counts.  Takes the notice.
//  Returns false if it must wait for a node's key.
static bool
s_notice (self_t *self, const char *address, cJSON *message, bool waited)
{
    const char *reason = NULL, *name = NULL;
    zc_trust_result_t result = zc_trust_verify (self->trust, message, &reason, &name);
    if (result == ZC_TRUST_LATER && !waited) {
        if (zlistx_size (self->pending) >= S_MAX_PENDING) {
            self->refused++;
            zc_log_warning ("%s: dropped a waiting notice: %zu wait for unknown nodes",
                          self->config->name, zlistx_size (self->pending));
            cJSON *oldest = (cJSON *) zlistx_detach (self->pending, NULL);
            cJSON_Delete (oldest);
        }
        cJSON *entry = cJSON_CreateObject ();
        cJSON_AddStringToObject (entry, "from", address);
        cJSON_AddItemToObject (entry, "notice", message);
        zlistx_add_end (self->pending, entry);
        return false;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (message, "type");
    if (result != ZC_TRUST_OK) {
        self->refused++;
        zc_log_warning ("%s: refused a %s from %s: %s (%" PRIu64 " refused so far)",
                      self->config->name, type->valuestring, address, reason, self->refused);
    }
    else {
        int rc = zc_market_record (self->market, message);
        const cJSON *index = cJSON_GetObjectItemCaseSensitive (message, "block_index");
        if (rc == 1)
            zc_log_often ("server notice", "%s: %s of block %.0f from node %s", self->config->name,
                       type->valuestring, index->valuedouble, name);
        else
        if (rc == 0)
            zc_debug ("%s: %s of block %.0f from node %s changes nothing (a repeat)",
                      self->config->name, type->valuestring, index->valuedouble, name);
        else
            zc_log_error ("%s: cannot record a notice from %s", self->config->name, address);
    }
    cJSON_Delete (message);
    return true;
}

//  Notices that waited for a key are judged again once one is learned.
static void
s_retry_pending (self_t *self)
{
    zlistx_t *waiting = self->pending;
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, (czmq_destructor *) s_json_destroy);
    cJSON *entry;
    while ((entry = (cJSON *) zlistx_detach (waiting, NULL))) {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive (entry, "from");
        cJSON *message = cJSON_DetachItemFromObjectCaseSensitive (entry, "notice");
        if (message)
            s_notice (self, cJSON_IsString (from)? from->valuestring: "?", message, false);
        cJSON_Delete (entry);
    }
    zlistx_destroy (&waiting);
}

//  Answers a bad request with {"type":"error","error":reason}.
static void
s_reply_error (self_t *self, uint32_t conn, const char *address, const char *reason)
{
    zc_link_refuse (self->bridge, self->config->name, conn, address, reason);
}

//  One whole message from the gateway or a client.
static void
s_handle_message (void *arg, uint32_t conn, const char *address,
                  const char *data, size_t size)
{
    self_t *self = (self_t *) arg;
    char reason [ZC_JSON_ERROR_MAX];
    cJSON *message = zc_json_read (data, size, reason, sizeof reason);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (message, "type");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive (message, "action");
    bool from_node = false;
    for (size_t i = 0; i < self->config->file_node_count && !from_node; i++)
        from_node = streq (self->config->nodes [i], address);
    if (!message)
        s_reply_error (self, conn, address, reason);
    else
    if (!cJSON_IsObject (message))
        s_reply_error (self, conn, address, "message is not a JSON object");
    else
    if (from_node && cJSON_IsString (type) && streq (type->valuestring, "pong")) {
        //  A file node says who it is, at the address the file gives
        const cJSON *node_id = cJSON_GetObjectItemCaseSensitive (message, "node_id");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive (message, "public_key");
        char *error = NULL;
        if (zc_trust_learn (self->trust, address, cJSON_IsString (node_id)? node_id->valuestring:
                            NULL, cJSON_IsString (key)? key->valuestring: NULL, &error) != 0) {
            zc_log_error ("%s: %s", self->config->name, error);
            free (error);
        }
        else
            s_retry_pending (self);
        zc_link_done (self->bridge, conn);
    }
    else
    if (from_node)
        zc_link_done (self->bridge, conn);      //  other answers of a node: nothing to do
    else
    if (cJSON_IsString (action) && streq (action->valuestring, "health")) {
        cJSON *reply = cJSON_CreateObject ();
        cJSON_AddStringToObject (reply, "status", "ok");
        cJSON_AddStringToObject (reply, "service", "market_server");
        zc_link_reply (self->bridge, conn, reply);
    }
    else
    if (!cJSON_IsString (type))
        s_reply_error (self, conn, address, "message has no string \"type\"");
    else
    if (streq (type->valuestring, "block_confirmation")
    ||  streq (type->valuestring, "block_rollback")) {
        //  A notice that is not well formed and signed gets an error
        //  naming why; one that is goes unanswered (the seed's notices get
        //  no reply) and is judged by its key: recorded, or refused and
        //  logged
        const char *malformed = zc_notice_check (message);
        if (malformed) {
            self->refused++;
            zc_log_warning ("%s: refused a %s from %s: %s (%" PRIu64 " refused so far)",
                          self->config->name, type->valuestring, address, malformed,
                          self->refused);
            zc_link_error (self->bridge, conn, malformed, false);
        }
        else {
            s_notice (self, address, message, false);
            message = NULL;
            zc_link_done (self->bridge, conn);
        }
    }
    else
    if (streq (type->valuestring, "get_confirmation")) {
        const cJSON *tx_id = cJSON_GetObjectItemCaseSensitive (message, "tx_id");
        if (cJSON_IsString (tx_id) && zc_hash_valid (tx_id->valuestring))
            zc_link_reply (self->bridge, conn, zc_market_lookup (self->market, tx_id->valuestring));
        else
            s_reply_error (self, conn, address, "get_confirmation needs a 64-hex \"tx_id\"");
    }
    else
        s_reply_error (self, conn, address, "unknown message type");
    cJSON_Delete (message);
}


void
zc_server_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_service_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->bridge, NULL);
    while (!self->terminated) {
        int64_t wait = self->next_ping - zclock_mono ();
        void *which = zpoller_wait (poller, self->trust? (wait > 0? (int) wait: 0): -1);
        if (zpoller_terminated (poller))
            break;
        s_ping_unknown (self);
        if (!which)
            continue;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            else
            if (streq (command, "START"))
                zsock_signal (pipe, s_self_start (self) == 0? 0: 1);
            zstr_free (&command);
        }
        else
            zc_link_dispatch (self->bridge, self->config->name, s_handle_message, NULL, self);    //  START opened the market first
        s_ping_unknown (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

//  -------------------------------------------------------------------------
//  The handler outside the actor (fuzz/fuzz_server.c): state with its
//  bridge link and an open market at config->data.

void *
zc_server_state_new (zc_service_config_t *config)
{
    self_t *self = s_self_new (NULL, config);
    if (s_self_start (self) != 0)
        s_self_destroy (&self);
    return self;
}

void
zc_server_state_destroy (void **state_p)
{
    s_self_destroy ((self_t **) state_p);
}

void
zc_server_handle (void *state, uint32_t conn, const char *address,
                  const char *data, size_t size)
{
    s_handle_message (state, conn, address, data, size);
}
