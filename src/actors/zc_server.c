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

    Pipe protocol (from the role):
        START                   opens market.sqlite3 in the data folder
                                -> signal 0, or -1 with the reason logged
        $TERM                   ends the actor

    Bridge link: MSG in; REPLY / DONE out (see zc_bridge).
    =========================================================================
*/

#include "zc_actors.h"

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *bridge;            //  PAIR to the bridge
    zc_service_config_t *config;    //  server config (borrowed)
    zc_market_t *market;        //  market.sqlite3
    bool terminated;            //  $TERM received
} self_t;

static self_t *
s_self_new (zsock_t *pipe, zc_service_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->bridge = zc_link_new ("bridge", config->name, false);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zc_market_destroy (&self->market);
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
    return self->market? 0: -1;
}

//  Answers a bad request with {"type":"error","error":reason}.
static void
s_reply_error (self_t *self, uint32_t conn, const char *address, const char *reason)
{
    zc_log_warning ("%s: bad message from %s: %s", self->config->name, address, reason);
    zc_link_error (self->bridge, conn, reason, false);
}

//  One whole message from the gateway or a client.
static void
s_handle_message (void *arg, uint32_t conn, const char *address,
                  const char *data, size_t size)
{
    self_t *self = (self_t *) arg;
    cJSON *message = zc_json_parse (data, size);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (message, "type");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive (message, "action");
    if (!cJSON_IsObject (message))
        s_reply_error (self, conn, address, "message is not a JSON object");
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
        if (zc_market_record (self->market, message) == 0) {
            const cJSON *index = cJSON_GetObjectItemCaseSensitive (message, "block_index");
            const cJSON *node = cJSON_GetObjectItemCaseSensitive (message, "node_id");
            zc_log_often ("server notice", "%s: %s of block %.0f from node %s", self->config->name,
                       type->valuestring, index->valuedouble, node->valuestring);
            zc_link_done (self->bridge, conn);
        }
        else
            s_reply_error (self, conn, address, "notice needs block_index, block_hash, node_id");
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
        void *which = zpoller_wait (poller, -1);
        if (!which)
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
        else
            zc_link_dispatch (self->bridge, s_handle_message, self);    //  START opened the market first
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}
