/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_mine_msg - the typed commands of the miner pool (zc_miner)

    One send function per command, and one receive for them all, shared by
    the pool and whoever drives it (the validator, test_miner,
    bench_mining), as zc_msg: nobody lays out or parses these frames by
    hand.  The frames are zc_typed's:

        [header]    s_header_t: command id, a small and two large integers
        [text]      JOB: preimage; FOUND: hash; KERNEL_REPLY: name

    Commands on the pool's pipe (to the pool):
        JOB job_id difficulty preimage  mine this job, dropping any other
        STOP                            stop mining
        STATS                           -> STATS_REPLY
        KERNEL                          -> KERNEL_REPLY
        $TERM                           (zactor_destroy) ends it: TERM
      from the pool:
        FOUND job_id nonce hash         a nonce that meets the difficulty
        STATS_REPLY hashes busy         nonces tried since start, threads
                                        mining right now
        KERNEL_REPLY name lanes         the kernel its threads run

    Invariant: a message received is whole and of the right shape, or
    zc_mine_msg_recv says it was malformed (a bug: only our own code sends
    these).  No command carries an object.
    =========================================================================
*/

#include "zc_actors.h"

//  The fixed part of every command
typedef struct {
    uint8_t id;                 //  zc_mine_msg_id_t
    int32_t small;              //  difficulty / busy / lanes
    uint64_t first;             //  job_id / hashes
    uint64_t second;            //  nonce
} s_header_t;

struct _zc_mine_msg_t {
    s_header_t header;
    char *text;                 //  JOB: preimage; FOUND: hash;
                                //  KERNEL_REPLY: name
};

static int
s_shape (int id, bool *body_p)
{
    *body_p = false;
    switch (id) {
        case ZC_MINE_JOB:           return 1;
        case ZC_MINE_STOP:          return 0;
        case ZC_MINE_STATS:         return 0;
        case ZC_MINE_KERNEL:        return 0;
        case ZC_MINE_FOUND:         return 1;
        case ZC_MINE_STATS_REPLY:   return 0;
        case ZC_MINE_KERNEL_REPLY:  return 1;
        default:                    return -1;
    }
}

//  Sends a header and its one string, if text is not NULL.
static int
s_send (void *dest, zc_mine_msg_id_t id, int32_t small, uint64_t first, uint64_t second,
        const char *text)
{
    s_header_t header = { .id = (uint8_t) id, .small = small, .first = first,
                          .second = second };
    const char *strings [] = { text };
    return zc_typed_send (dest, &header, sizeof header, strings, text? 1: 0, NULL, 0, false);
}

int
zc_mine_msg_send_job (void *dest, uint64_t job_id, int difficulty, const char *preimage)
{
    return s_send (dest, ZC_MINE_JOB, difficulty, job_id, 0, preimage? preimage: "");
}

int
zc_mine_msg_send_stop (void *dest)
{
    return s_send (dest, ZC_MINE_STOP, 0, 0, 0, NULL);
}

int
zc_mine_msg_send_stats (void *dest)
{
    return s_send (dest, ZC_MINE_STATS, 0, 0, 0, NULL);
}

int
zc_mine_msg_send_kernel (void *dest)
{
    return s_send (dest, ZC_MINE_KERNEL, 0, 0, 0, NULL);
}

int
zc_mine_msg_send_found (void *dest, uint64_t job_id, uint64_t nonce, const char *hash)
{
    return s_send (dest, ZC_MINE_FOUND, 0, job_id, nonce, hash? hash: "");
}

int
zc_mine_msg_send_stats_reply (void *dest, uint64_t hashes, int busy)
{
    return s_send (dest, ZC_MINE_STATS_REPLY, busy, hashes, 0, NULL);
}

int
zc_mine_msg_send_kernel_reply (void *dest, const char *name, int lanes)
{
    return s_send (dest, ZC_MINE_KERNEL_REPLY, lanes, 0, 0, name? name: "");
}

zc_mine_msg_t *
zc_mine_msg_recv (void *source, bool *malformed_p)
{
    zc_mine_msg_t *self = (zc_mine_msg_t *) zmalloc (sizeof (zc_mine_msg_t));
    zframe_t *body = NULL;              //  no command has one
    int rc = zc_typed_recv (source, &self->header, sizeof self->header, s_shape,
                            &self->text, 1, &body);
    zframe_destroy (&body);
    if (rc == ZC_TYPED_TERM)
        self->header.id = ZC_MINE_TERM;
    *malformed_p = rc == ZC_TYPED_MALFORMED;
    if (rc != ZC_TYPED_OK && rc != ZC_TYPED_TERM)
        zc_mine_msg_destroy (&self);
    return self;
}

void
zc_mine_msg_destroy (zc_mine_msg_t **self_p)
{
    if (*self_p) {
        zc_mine_msg_t *self = *self_p;
        free (self->text);
        free (self);
        *self_p = NULL;
    }
}

zc_mine_msg_id_t
zc_mine_msg_id (zc_mine_msg_t *self)
{
    return (zc_mine_msg_id_t) self->header.id;
}

const char *
zc_mine_msg_name (zc_mine_msg_id_t id)
{
    switch (id) {
        case ZC_MINE_TERM:          return "$TERM";
        case ZC_MINE_JOB:           return "JOB";
        case ZC_MINE_STOP:          return "STOP";
        case ZC_MINE_STATS:         return "STATS";
        case ZC_MINE_KERNEL:        return "KERNEL";
        case ZC_MINE_FOUND:         return "FOUND";
        case ZC_MINE_STATS_REPLY:   return "STATS_REPLY";
        case ZC_MINE_KERNEL_REPLY:  return "KERNEL_REPLY";
        default:                    return "?";
    }
}

uint64_t
zc_mine_msg_job_id (zc_mine_msg_t *self)
{
    zc_mine_msg_id_t id = zc_mine_msg_id (self);
    return id == ZC_MINE_JOB || id == ZC_MINE_FOUND? self->header.first: 0;
}

int
zc_mine_msg_difficulty (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_JOB? (int) self->header.small: 0;
}

const char *
zc_mine_msg_preimage (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_JOB && self->text? self->text: "";
}

char *
zc_mine_msg_take_preimage (zc_mine_msg_t *self)
{
    char *preimage = zc_mine_msg_id (self) == ZC_MINE_JOB? self->text: NULL;
    if (preimage)
        self->text = NULL;
    return preimage;
}

uint64_t
zc_mine_msg_nonce (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_FOUND? self->header.second: 0;
}

const char *
zc_mine_msg_hash (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_FOUND && self->text? self->text: "";
}

uint64_t
zc_mine_msg_hashes (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_STATS_REPLY? self->header.first: 0;
}

int
zc_mine_msg_busy (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_STATS_REPLY? (int) self->header.small: 0;
}

const char *
zc_mine_msg_kernel_name (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_KERNEL_REPLY && self->text? self->text: "";
}

int
zc_mine_msg_lanes (zc_mine_msg_t *self)
{
    return zc_mine_msg_id (self) == ZC_MINE_KERNEL_REPLY? (int) self->header.small: 0;
}
