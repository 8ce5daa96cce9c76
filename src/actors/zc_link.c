/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_link - the link protocol between a bridge and the actors behind it

    Every actor that speaks to the network does it through its node's
    bridge, over an inproc PAIR named after the instance.  This file is the
    one place that knows those endpoint names and the frames of the link
    protocol (documented at the top of zc_bridge.c), so the bridge, the
    listener, the gateway, the server, the validator and the notifier all
    speak it the same way: one send function per command and one receive
    for them all, shared by both ends (as zc_msg).  The frames are
    zc_typed's:

        [header]    s_header_t: command id, conn, post id
        [address]   MSG, SEND, POST, DOWN, POSTED
        [body]      MSG, REPLY, CLOSE, SEND, POST: the bytes (may be empty)

    Invariant: a message received is whole and of the right shape, or
    zc_link_recv says it was malformed (a bug: only our own code sends
    these).  No command carries an object.
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

//  -------------------------------------------------------------------------
//  The typed commands

//  The fixed part of every command
typedef struct {
    uint8_t id;                 //  zc_link_msg_id_t
    uint32_t conn;              //  MSG REPLY DONE CLOSE: the connection
    int64_t post;               //  POST DOWN POSTED: the post's id, or 0
} s_header_t;

struct _zc_link_msg_t {
    s_header_t header;
    char *address;              //  MSG SEND POST DOWN POSTED
    zframe_t *body;             //  MSG REPLY CLOSE SEND POST
};

static bool
s_has_address (int id)
{
    return id == ZC_LINK_MSG || id == ZC_LINK_SEND || id == ZC_LINK_POST
        || id == ZC_LINK_DOWN || id == ZC_LINK_POSTED;
}

static int
s_shape (int id, bool *body_p)
{
    *body_p = id == ZC_LINK_MSG || id == ZC_LINK_REPLY || id == ZC_LINK_CLOSE
           || id == ZC_LINK_SEND || id == ZC_LINK_POST;
    if (id < ZC_LINK_MSG || id > ZC_LINK_POSTED)
        return -1;
    return s_has_address (id)? 1: 0;
}

//  Sends one command: conn, address or both as the command has them.
static int
s_send (void *link, zc_link_msg_id_t id, uint32_t conn, int64_t post, const char *address,
        const void *data, size_t size)
{
    s_header_t header = { .id = (uint8_t) id, .conn = conn, .post = post };
    const char *strings [] = { address };
    bool with_body = false;
    s_shape (id, &with_body);
    return zc_typed_send (link, &header, sizeof header, strings, s_has_address (id)? 1: 0,
                          data, size, with_body);
}

int
zc_link_send_msg (void *link, uint32_t conn, const char *address, const void *data, size_t size)
{
    return s_send (link, ZC_LINK_MSG, conn, 0, address, data, size);
}

int
zc_link_send_reply (void *link, uint32_t conn, const void *data, size_t size)
{
    return s_send (link, ZC_LINK_REPLY, conn, 0, NULL, data, size);
}

int
zc_link_send_close (void *link, uint32_t conn, const void *data, size_t size)
{
    return s_send (link, ZC_LINK_CLOSE, conn, 0, NULL, data, size);
}

int
zc_link_send_peer (void *link, const char *address, const void *data, size_t size)
{
    return s_send (link, ZC_LINK_SEND, 0, 0, address, data, size);
}

int
zc_link_send_post (void *link, const char *address, int64_t post, const void *data, size_t size)
{
    return s_send (link, ZC_LINK_POST, 0, post, address, data, size);
}

int
zc_link_send_down (void *link, const char *address, int64_t post)
{
    return s_send (link, ZC_LINK_DOWN, 0, post, address, NULL, 0);
}

int
zc_link_send_posted (void *link, const char *address, int64_t post)
{
    return s_send (link, ZC_LINK_POSTED, 0, post, address, NULL, 0);
}

zc_link_msg_t *
zc_link_recv (void *link, bool *malformed_p)
{
    zc_link_msg_t *self = (zc_link_msg_t *) zmalloc (sizeof (zc_link_msg_t));
    int rc = zc_typed_recv (link, &self->header, sizeof self->header, s_shape,
                            &self->address, 1, &self->body);
    //  No actor pipe carries these: "$TERM" here is as malformed as any
    *malformed_p = rc == ZC_TYPED_MALFORMED || rc == ZC_TYPED_TERM;
    if (rc != ZC_TYPED_OK)
        zc_link_msg_destroy (&self);
    return self;
}

void
zc_link_msg_destroy (zc_link_msg_t **self_p)
{
    if (*self_p) {
        zc_link_msg_t *self = *self_p;
        free (self->address);
        zframe_destroy (&self->body);
        free (self);
        *self_p = NULL;
    }
}

zc_link_msg_id_t
zc_link_msg_id (zc_link_msg_t *self)
{
    return (zc_link_msg_id_t) self->header.id;
}

const char *
zc_link_msg_name (zc_link_msg_id_t id)
{
    switch (id) {
        case ZC_LINK_MSG:       return "MSG";
        case ZC_LINK_REPLY:     return "REPLY";
        case ZC_LINK_DONE:      return "DONE";
        case ZC_LINK_CLOSE:     return "CLOSE";
        case ZC_LINK_SEND:      return "SEND";
        case ZC_LINK_POST:      return "POST";
        case ZC_LINK_DOWN:      return "DOWN";
        case ZC_LINK_POSTED:    return "POSTED";
        default:                return "?";
    }
}

uint32_t
zc_link_msg_conn (zc_link_msg_t *self)
{
    zc_link_msg_id_t id = zc_link_msg_id (self);
    return id == ZC_LINK_MSG || id == ZC_LINK_REPLY || id == ZC_LINK_DONE
        || id == ZC_LINK_CLOSE? self->header.conn: 0;
}

int64_t
zc_link_msg_post (zc_link_msg_t *self)
{
    zc_link_msg_id_t id = zc_link_msg_id (self);
    return id == ZC_LINK_POST || id == ZC_LINK_DOWN || id == ZC_LINK_POSTED?
           self->header.post: 0;
}

const char *
zc_link_msg_address (zc_link_msg_t *self)
{
    return self->address? self->address: "";
}

const char *
zc_link_msg_data (zc_link_msg_t *self)
{
    return self->body? (const char *) zframe_data (self->body): "";
}

size_t
zc_link_msg_size (zc_link_msg_t *self)
{
    return self->body? zframe_size (self->body): 0;
}

//  -------------------------------------------------------------------------
//  Helpers for the actors behind a bridge

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
    zc_link_send_reply (link, conn, text, strlen (text));
    free (text);
}

//  Ends a request that needs no answer.
void
zc_link_done (zsock_t *link, uint32_t conn)
{
    s_send (link, ZC_LINK_DONE, conn, 0, NULL, NULL, 0);
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
    if (close)
        zc_link_send_close (link, conn, text, strlen (text));
    else
        zc_link_send_reply (link, conn, text, strlen (text));
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

//  Pings, through a bridge, every node of a trust whose key is not known
//  yet: its pong says node_id and public_key (the gateway and the server
//  learn keys so, issue 9).
void
zc_link_ping_unknown (zsock_t *link, zc_trust_t *trust)
{
    const char *text = "{\"type\":\"ping\"}";
    for (size_t i = 0; i < zc_trust_size (trust); i++) {
        const char *address = zc_trust_address (trust, i);
        if (!zc_trust_known (trust, address))
            zc_link_send_peer (link, address, text, strlen (text));
    }
}

//  Receives one message from a bridge and hands a whole message (MSG) to
//  handler and news of our own connections (DOWN, POSTED) to news; the
//  one place an actor behind a bridge reads its link.
void
zc_link_dispatch (zsock_t *link, const char *name, zc_link_msg_fn *handler,
                  zc_link_news_fn *news, void *arg)
{
    bool malformed = false;
    zc_link_msg_t *msg = zc_link_recv (link, &malformed);
    zc_link_msg_id_t id = msg? zc_link_msg_id (msg): 0;
    if (id == ZC_LINK_MSG)
        handler (arg, zc_link_msg_conn (msg), zc_link_msg_address (msg),
                 zc_link_msg_data (msg), zc_link_msg_size (msg));
    else
    if (id == ZC_LINK_DOWN || id == ZC_LINK_POSTED) {
        if (news)
            news (arg, id, zc_link_msg_address (msg), zc_link_msg_post (msg));
    }
    else
    if (msg || malformed)
        zc_log_error ("%s: bug: unexpected bridge command %s", name,
                    msg? zc_link_msg_name (id): "(malformed)");
    zc_link_msg_destroy (&msg);
}
