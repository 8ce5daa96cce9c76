/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_notifier - tells the gateway about blocks a node has committed

    The notifier subscribes to the ledger writer's events, so it hears of
    a block only once it is in the file, and sends the deployment's gateway

        {"type":"block_confirmation","block_index","block_hash","miner_id",
         "node_id","timestamp","tx_ids":[...]}

    for each block added to the node's chain, and

        {"type":"block_rollback","block_index","block_hash","node_id",
         "tx_ids":[...]}

    for each block a reorganization takes off it, so a marketplace never
    shows as confirmed what the chain no longer holds.  Notices go out in
    order over one kept-open connection; while the gateway is down they
    wait in a bounded queue and the connection is retried with backoff.
    It runs on its own thread so that telling others never slows the
    validator down.

    Pipe protocol (from the node role):
        $TERM                   ends the actor

    SUB socket connected to zc_endpoint ("ledger", name): the COMMITTED
    and ROLLED_BACK events of zc_writer.
    =========================================================================
*/

#include "zc_actors.h"

#define S_MAX_QUEUE     100000      //  notices held while the gateway is down
#define S_RETRY_MIN     100         //  first pause before redialling, msecs
#define S_RETRY_MAX     5000        //  longest pause

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *events;            //  SUB to the ledger writer
    zc_node_config_t *config;   //  node config (borrowed)
    zc_client_t *gateway;       //  connection to the gateway, or NULL
    zlistx_t *queue;            //  notice lines not yet sent, in order
    int64_t retry_at;           //  when to dial the gateway again
    int64_t retry_pause;        //  current backoff
    uint64_t dropped;           //  notices dropped, queue full
    bool terminated;            //  $TERM received
} self_t;

static self_t *
s_self_new (zsock_t *pipe, zc_node_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->queue = zlistx_new ();
    zlistx_set_destructor (self->queue, (czmq_destructor *) zstr_free);
    self->retry_pause = S_RETRY_MIN;
    char *endpoint = zc_endpoint ("ledger", config->name);
    self->events = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (self->events, 0);
    zsock_set_subscribe (self->events, "");
    zsock_connect (self->events, "%s", endpoint);
    free (endpoint);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zc_client_destroy (&self->gateway);
        zlistx_destroy (&self->queue);
        zsock_destroy (&self->events);
        free (self);
        *self_p = NULL;
    }
}

//  Sends queued notices while the gateway takes them.
static void
s_flush (self_t *self)
{
    while (zlistx_size (self->queue) > 0) {
        if (!self->gateway) {
            if (zclock_mono () < self->retry_at)
                return;
            const char *error = NULL;
            self->gateway = zc_client_new (self->config->gateway, ZC_FRAMING_LINE, &error);
            if (!self->gateway) {
                zc_debug ("%s: gateway %s: %s; retrying in %" PRId64 " ms", self->config->name,
                          self->config->gateway, error? error: "?", self->retry_pause);
                self->retry_at = zclock_mono () + self->retry_pause;
                self->retry_pause = self->retry_pause * 2 > S_RETRY_MAX? S_RETRY_MAX:
                                    self->retry_pause * 2;
                return;
            }
            self->retry_pause = S_RETRY_MIN;
        }
        const char *line = (const char *) zlistx_first (self->queue);
        if (zc_client_send_raw (self->gateway, line, strlen (line)) != 0) {
            zc_client_destroy (&self->gateway);
            self->retry_at = zclock_mono () + self->retry_pause;
            return;
        }
        zlistx_delete (self->queue, NULL);
    }
}

//  Splits "id,id,..." into a JSON array.
static cJSON *
s_tx_ids (const char *ids)
{
    cJSON *array = cJSON_CreateArray ();
    for (const char *cursor = ids; cursor && *cursor; ) {
        const char *comma = strchr (cursor, ',');
        size_t length = comma? (size_t) (comma - cursor): strlen (cursor);
        char id [ZC_HASH_HEX + 1];
        if (length == ZC_HASH_HEX) {
            memcpy (id, cursor, ZC_HASH_HEX);
            id [ZC_HASH_HEX] = 0;
            cJSON_AddItemToArray (array, cJSON_CreateString (id));
        }
        cursor = comma? comma + 1: NULL;
    }
    return array;
}

//  One event from the ledger writer.
static void
s_self_handle_event (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->events);
    char *event = msg? zmsg_popstr (msg): NULL;
    char *index = msg? zmsg_popstr (msg): NULL;
    char *hash = msg? zmsg_popstr (msg): NULL;
    bool committed = event && streq (event, "COMMITTED");
    char *miner_id = committed? zmsg_popstr (msg): NULL;
    char *timestamp = committed? zmsg_popstr (msg): NULL;
    char *ids = msg? zmsg_popstr (msg): NULL;
    if (event && index && hash && ids) {
        zc_log_often (self->config->name, "%s: block %s %s (%.16s)", self->config->name, index,
                   committed? "committed": "rolled back", hash);
        if (self->config->gateway) {
            cJSON *notice = cJSON_CreateObject ();
            cJSON_AddStringToObject (notice, "type", committed? "block_confirmation":
                                                                "block_rollback");
            cJSON_AddNumberToObject (notice, "block_index", (double) atoll (index));
            cJSON_AddStringToObject (notice, "block_hash", hash);
            if (committed) {
                cJSON_AddStringToObject (notice, "miner_id", miner_id? miner_id: "");
                cJSON_AddStringToObject (notice, "timestamp", timestamp? timestamp: "");
            }
            cJSON_AddStringToObject (notice, "node_id", self->config->node_id);
            cJSON_AddItemToObject (notice, "tx_ids", s_tx_ids (ids));
            char *text = zc_jcs_serialize (notice);
            cJSON_Delete (notice);
            if (text && zlistx_size (self->queue) < S_MAX_QUEUE) {
                char *line = zsys_sprintf ("%s\n", text);
                zlistx_add_end (self->queue, line);
            }
            else
            if (text)
                zc_log_error ("%s: gateway queue full: dropped %" PRIu64 " notice(s) so far",
                            self->config->name, ++self->dropped);
            free (text);
            s_flush (self);
        }
    }
    zstr_free (&event);
    zstr_free (&index);
    zstr_free (&hash);
    zstr_free (&miner_id);
    zstr_free (&timestamp);
    zstr_free (&ids);
    zmsg_destroy (&msg);
}

void
zc_notifier_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_node_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->events, NULL);
    while (!self->terminated) {
        int timeout = -1;
        if (zlistx_size (self->queue) > 0) {
            int64_t wait = self->retry_at - zclock_mono ();
            timeout = wait > 0? (int) wait: 0;
        }
        void *which = zpoller_wait (poller, timeout);
        if (zpoller_terminated (poller))
            break;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            zstr_free (&command);
        }
        else
        if (which == self->events)
            s_self_handle_event (self);
        s_flush (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}
