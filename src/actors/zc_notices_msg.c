/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_notices_msg - the typed commands from a node's listener to its
    notifier (zc_notifier), about the gateway's answers to block notices

    One send function per command, and one receive for them all, shared by
    the listener and the notifier (as zc_msg): neither lays out or parses
    these frames by hand.  The frames are zc_typed's:

        [header]    s_header_t: command id, seq
        [reason]    NACK only

    Commands (listener -> notifier, over the PAIR at zc_endpoint
    ("notices", name)):
        ACK seq                 the gateway answered {"type":"notice_ack",
                                "seq"}: notice seq may leave the outbox
        NACK reason             the gateway answered an error
        DOWN                    our connection to the gateway ended

    Invariant: a message received is whole and of the right shape, or
    zc_notices_msg_recv says it was malformed (a bug: only our own code
    sends these).
    =========================================================================
*/

#include "zc_actors.h"

//  The fixed part of every command
typedef struct {
    uint8_t id;                 //  zc_notices_msg_id_t
    int64_t seq;                //  ACK: the notice acknowledged
} s_header_t;

struct _zc_notices_msg_t {
    s_header_t header;
    char *reason;               //  NACK: the gateway's error
};

static int
s_shape (int id, bool *body_p)
{
    *body_p = false;
    switch (id) {
        case ZC_NOTICES_ACK:    return 0;
        case ZC_NOTICES_NACK:   return 1;
        case ZC_NOTICES_DOWN:   return 0;
        default:                return -1;
    }
}

int
zc_notices_msg_send_ack (void *dest, int64_t seq)
{
    s_header_t header = { .id = ZC_NOTICES_ACK, .seq = seq };
    return zc_typed_send (dest, &header, sizeof header, NULL, 0, NULL, 0, false);
}

int
zc_notices_msg_send_nack (void *dest, const char *reason)
{
    s_header_t header = { .id = ZC_NOTICES_NACK };
    const char *strings [] = { reason };
    return zc_typed_send (dest, &header, sizeof header, strings, 1, NULL, 0, false);
}

int
zc_notices_msg_send_down (void *dest)
{
    s_header_t header = { .id = ZC_NOTICES_DOWN };
    return zc_typed_send (dest, &header, sizeof header, NULL, 0, NULL, 0, false);
}

zc_notices_msg_t *
zc_notices_msg_recv (void *source, bool *malformed_p)
{
    zc_notices_msg_t *self = (zc_notices_msg_t *) zmalloc (sizeof (zc_notices_msg_t));
    zframe_t *body = NULL;              //  no command has one
    int rc = zc_typed_recv (source, &self->header, sizeof self->header, s_shape,
                            &self->reason, 1, &body);
    zframe_destroy (&body);
    //  No actor pipe carries these: "$TERM" here is as malformed as any
    *malformed_p = rc == ZC_TYPED_MALFORMED || rc == ZC_TYPED_TERM;
    if (rc != ZC_TYPED_OK)
        zc_notices_msg_destroy (&self);
    return self;
}

void
zc_notices_msg_destroy (zc_notices_msg_t **self_p)
{
    if (*self_p) {
        zc_notices_msg_t *self = *self_p;
        free (self->reason);
        free (self);
        *self_p = NULL;
    }
}

zc_notices_msg_id_t
zc_notices_msg_id (zc_notices_msg_t *self)
{
    return (zc_notices_msg_id_t) self->header.id;
}

const char *
zc_notices_msg_name (zc_notices_msg_id_t id)
{
    switch (id) {
        case ZC_NOTICES_ACK:    return "ACK";
        case ZC_NOTICES_NACK:   return "NACK";
        case ZC_NOTICES_DOWN:   return "DOWN";
        default:                return "?";
    }
}

int64_t
zc_notices_msg_seq (zc_notices_msg_t *self)
{
    return self->header.id == ZC_NOTICES_ACK? self->header.seq: 0;
}

const char *
zc_notices_msg_reason (zc_notices_msg_t *self)
{
    return self->header.id == ZC_NOTICES_NACK && self->reason? self->reason: "";
}
