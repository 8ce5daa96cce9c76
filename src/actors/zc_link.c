/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_link - the link protocol between a bridge and the actors behind it

    Every actor that speaks to the network does it through its node's
    bridge, over an inproc PAIR named after the instance.  This file is the
    one place that knows those endpoint names and the frames of the link
    protocol (documented at the top of zc_bridge.c), so the listener, the
    gateway, the server and the validator all speak it the same way.
    =========================================================================
*/

#include "zc_actors.h"

//  Endpoint names are per instance so that nodes in one process never
//  meet on an inproc socket.
char *
zc_endpoint (const char *role, const char *name)
{
    return zsys_sprintf ("inproc://zchain-%s-%s", role, name);
}

//  -------------------------------------------------------------------------
//  The link: helpers for the actors that sit behind a bridge (listener,
//  gateway, server) or forward to one (validator), so each speaks the
//  protocol above the same way.

//  An inproc PAIR with no high-water mark and no waiting: actors never
//  block each other; the bridge's per-connection window bounds what can
//  queue.
zsock_t *
zc_link_new (const char *role, const char *name, bool bind)
{
    zsock_t *link = zsock_new (ZMQ_PAIR);
    zsock_set_sndhwm (link, 0);
    zsock_set_rcvhwm (link, 0);
    //  A PAIR whose peer is gone blocks a send for ever; with no high-water
    //  mark a send to a live peer never waits, so a send that would wait
    //  can only be one during shutdown, and is dropped
    zsock_set_sndtimeo (link, 0);
    char *endpoint = zc_endpoint (role, name);
    int rc = bind? zsock_bind (link, "%s", endpoint): zsock_connect (link, "%s", endpoint);
    assert (rc == 0);
    free (endpoint);
    return link;
}

//  The answer link of a bridge: the bridge binds a PULL, and each actor
//  that answers connections without being the one they came through (a
//  node's validator) connects a PUSH, so an answer goes straight to the
//  bridge.  No high-water mark and no waiting, as zc_link_new.
zsock_t *
zc_link_answers_new (const char *name, bool bind)
{
    zsock_t *link = zsock_new (bind? ZMQ_PULL: ZMQ_PUSH);
    zsock_set_sndhwm (link, 0);
    zsock_set_rcvhwm (link, 0);
    zsock_set_sndtimeo (link, 0);
    char *endpoint = zc_endpoint ("answers", name);
    int rc = bind? zsock_bind (link, "%s", endpoint): zsock_connect (link, "%s", endpoint);
    assert (rc == 0);
    free (endpoint);
    return link;
}

//  The answer sent when the one meant cannot be written.  Invariant: the
//  node keeps nothing it could not send back out, so this is only ever
//  sent because of a bug, which is logged; the client still gets an error.
#define S_UNSENDABLE "{\"error\":\"internal error: the reply could not be built\",\"type\":\"error\"}"

//  Sends a JSON answer on a connection and destroys it; the request is
//  done.
void
zc_link_reply (zsock_t *link, uint32_t conn, cJSON *reply)
{
    char *text = zc_jcs_serialize (reply);
    if (!text) {
        char *raw = cJSON_PrintUnformatted (reply);
        zc_log_error ("bug: reply on connection %u has no canonical form: %.200s",
                    conn, raw? raw: "(unprintable)");
        free (raw);
        text = strdup (S_UNSENDABLE);
    }
    cJSON_Delete (reply);
    zsock_send (link, "s4b", "REPLY", conn, text, strlen (text));
    free (text);
}

//  Ends a request that needs no answer.
void
zc_link_done (zsock_t *link, uint32_t conn)
{
    zsock_send (link, "s4b", "DONE", conn, "", (size_t) 0);
}

//  Answers {"type":"error","error":reason}; with close, the connection is
//  dropped after it.
void
zc_link_error (zsock_t *link, uint32_t conn, const char *reason, bool close)
{
    cJSON *reply = zc_error_new (reason);
    char *text = zc_jcs_serialize (reply);
    cJSON_Delete (reply);
    if (!text) {
        zc_log_error ("bug: error reason on connection %u is not UTF-8", conn);
        text = strdup (S_UNSENDABLE);
    }
    zsock_send (link, "s4b", close? "CLOSE": "REPLY", conn, text, strlen (text));
    free (text);
}

//  Refuses a bad request: logs it with the sender's address, and answers
//  {"type":"error","error":reason}, keeping the connection.
void
zc_link_refuse (zsock_t *link, const char *name, uint32_t conn, const char *address,
                const char *reason)
{
    zc_log_warning ("%s: bad message from %s: %s", name, address, reason);
    zc_link_error (link, conn, reason, false);
}

//  Receives one message from a bridge and hands a whole message (MSG) to
//  handler; news of our own connections (DOWN, POSTED) is dropped, for
//  actors that never open connections of their own.
void
zc_link_dispatch (zsock_t *link, zc_link_msg_fn *handler, void *arg)
{
    uint32_t conn = 0;
    char *address = NULL, *command = NULL;
    zframe_t *body = NULL;
    zmsg_t *rest = NULL;
    if (zc_link_recv (link, &conn, &address, &body, &command, &rest) == 1)
        handler (arg, conn, address, (const char *) zframe_data (body), zframe_size (body));
    zstr_free (&address);
    zframe_destroy (&body);
    zstr_free (&command);
    zmsg_destroy (&rest);
}

//  Receives one message from a bridge.  Returns 1 for MSG with conn,
//  address and body set (the caller frees address and body), 0 for any
//  other command (its name in *command_p, the rest of it in *rest_p, both
//  the caller's), -1 if interrupted.
int
zc_link_recv (zsock_t *link, uint32_t *conn_p, char **address_p, zframe_t **body_p,
              char **command_p, zmsg_t **rest_p)
{
    zmsg_t *msg = zmsg_recv (link);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    if (command && streq (command, "MSG") && zmsg_size (msg) == 3) {
        char *conn = zmsg_popstr (msg);
        *conn_p = (uint32_t) strtoul (conn, NULL, 10);
        free (conn);
        *address_p = zmsg_popstr (msg);
        *body_p = zmsg_pop (msg);
        free (command);
        zmsg_destroy (&msg);
        return 1;
    }
    *command_p = command;
    *rest_p = msg;
    return 0;
}
