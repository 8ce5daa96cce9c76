/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_typed - the frames every typed inner message is made of

    The typed protocols between a node's actors (zc_ledger_msg,
    zc_mine_msg, zc_notices_msg, zc_link) share one layout, which this
    file alone lays out and takes apart:

        [header]        the protocol's fixed struct, its first byte the
                        command id; numbers and pointers in native form
                        (inproc only: never leaves the process)
        [string]...     as many as the command has (the protocol says)
        [body]          if the command has one: opaque bytes, may be empty

    A protocol gives its shape as a function of the command id; a message
    that does not fit it is reported malformed.  An actor pipe also gets
    "$TERM" from zactor_destroy, one text frame, which the receive tells
    apart from every command.
    =========================================================================
*/

#include "zc_actors.h"

int
zc_typed_send (void *dest, const void *header, size_t header_size,
               const char **strings, size_t string_count,
               const void *body, size_t body_size, bool with_body)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, header, header_size);
    for (size_t i = 0; i < string_count; i++)
        zmsg_addmem (msg, strings [i]? strings [i]: "",
                     strings [i]? strlen (strings [i]): 0);
    if (with_body)
        zmsg_addmem (msg, body, body_size);
    int rc = zmsg_send (&msg, dest);
    zmsg_destroy (&msg);                //  not sent: the peer is gone
    return rc;
}

int
zc_typed_recv (void *source, void *header, size_t header_size, zc_typed_shape_fn *shape,
               char **strings, size_t max_strings, zframe_t **body_p)
{
    for (size_t i = 0; i < max_strings; i++)
        strings [i] = NULL;
    *body_p = NULL;
    zmsg_t *msg = zmsg_recv (source);
    if (!msg)
        return ZC_TYPED_INTERRUPTED;
    zframe_t *frame = zmsg_pop (msg);
    int rc = ZC_TYPED_MALFORMED;
    if (frame && zframe_size (frame) == 5 && memcmp (zframe_data (frame), "$TERM", 5) == 0
    &&  zmsg_size (msg) == 0)
        rc = ZC_TYPED_TERM;
    else
    if (frame && zframe_size (frame) == header_size && header_size > 0) {
        memcpy (header, zframe_data (frame), header_size);
        bool with_body = false;
        int count = shape (*(uint8_t *) header, &with_body);
        if (count >= 0 && (size_t) count <= max_strings
        &&  zmsg_size (msg) == (size_t) count + (with_body? 1: 0)) {
            for (int i = 0; i < count; i++)
                strings [i] = zmsg_popstr (msg);
            if (with_body)
                *body_p = zmsg_pop (msg);
            rc = ZC_TYPED_OK;
        }
    }
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return rc;
}
