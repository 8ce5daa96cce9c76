/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_ledger_msg - the typed commands of the ledger writer (zc_writer)

    One send function per command, and one receive for them all, shared by
    the validator, the writer and the notifier (as zc_msg): nobody lays
    out or parses these frames by hand.  The frames are zc_typed's:

        [header]    s_header_t: command id, flag, number, object
        [text]...   zero to three strings, by command
        [ids]       COMMITTED, ROLLED_BACK: transaction ids, ZC_HASH_HEX
                    chars each, back to back

    Commands on the writer's pipe (validator -> writer), each answered
    with zsock_signal (0 done, 1 failed), which the sender waits for:
        OPEN path outbox        the file to own; outbox (flag): also write
                                every change's block notices (issue 9)
        APPLY plan              zc_plan_t * (borrowed until the signal)
        POOL txs count          zc_tx_t ** of count (borrowed until the
                                signal): acknowledged transactions to keep
        $TERM                   (zactor_destroy) ends the writer: TERM
    Events on the writer's PUB socket (writer -> notifier), after a commit:
        ROLLED_BACK index hash ids                  a block taken off
        COMMITTED index hash miner_id timestamp ids a block added

    Invariant: a message received is whole and of the right shape, or
    zc_ledger_msg_recv says it was malformed (a bug: only our own code
    sends these).  No command passes ownership of an object.
    =========================================================================
*/

#include "zc_actors.h"

#define S_MAX_STRINGS   3

//  The fixed part of every command
typedef struct {
    uint8_t id;                 //  zc_ledger_msg_id_t
    bool flag;                  //  OPEN: outbox
    int64_t number;             //  POOL: count; events: block index
    void *object;               //  APPLY: zc_plan_t *; POOL: zc_tx_t **
} s_header_t;

struct _zc_ledger_msg_t {
    s_header_t header;
    char *strings [S_MAX_STRINGS];  //  OPEN: path; events: hash, miner_id,
                                    //  timestamp (ROLLED_BACK: hash only)
    zframe_t *ids;              //  events: the block's transaction ids
};

//  How many strings each command has, and whether ids follow; -1 for an
//  id that is no command of ours
static int
s_shape (int id, bool *body_p)
{
    *body_p = id == ZC_LEDGER_COMMITTED || id == ZC_LEDGER_ROLLED_BACK;
    switch (id) {
        case ZC_LEDGER_OPEN:            return 1;
        case ZC_LEDGER_APPLY:           return 0;
        case ZC_LEDGER_POOL:            return 0;
        case ZC_LEDGER_COMMITTED:       return 3;
        case ZC_LEDGER_ROLLED_BACK:     return 1;
        default:                        return -1;
    }
}

int
zc_ledger_msg_send_open (void *dest, const char *path, bool outbox)
{
    s_header_t header = { .id = ZC_LEDGER_OPEN, .flag = outbox };
    const char *strings [] = { path };
    return zc_typed_send (dest, &header, sizeof header, strings, 1, NULL, 0, false);
}

int
zc_ledger_msg_send_apply (void *dest, zc_plan_t *plan)
{
    s_header_t header = { .id = ZC_LEDGER_APPLY, .object = plan };
    return zc_typed_send (dest, &header, sizeof header, NULL, 0, NULL, 0, false);
}

int
zc_ledger_msg_send_pool (void *dest, zc_tx_t **txs, size_t count)
{
    s_header_t header = { .id = ZC_LEDGER_POOL, .number = (int64_t) count, .object = txs };
    return zc_typed_send (dest, &header, sizeof header, NULL, 0, NULL, 0, false);
}

//  Sends an event about block: its index, hash and transaction ids, and
//  for COMMITTED its miner_id and timestamp.
static int
s_send_event (void *dest, zc_ledger_msg_id_t id, zc_block_t *block)
{
    s_header_t header = { .id = (uint8_t) id, .number = zc_block_index (block) };
    size_t count = zc_block_tx_count (block);
    char *ids = (char *) malloc (count * ZC_HASH_HEX + 1);
    for (size_t i = 0; i < count; i++)
        memcpy (ids + i * ZC_HASH_HEX, zc_tx_id (zc_block_tx (block, i)), ZC_HASH_HEX);
    const char *strings [] = { zc_block_hash (block), zc_block_miner_id (block),
                               zc_block_timestamp (block) };
    int rc = zc_typed_send (dest, &header, sizeof header, strings,
                            id == ZC_LEDGER_COMMITTED? 3: 1, ids, count * ZC_HASH_HEX, true);
    free (ids);
    return rc;
}

int
zc_ledger_msg_send_committed (void *dest, zc_block_t *block)
{
    return s_send_event (dest, ZC_LEDGER_COMMITTED, block);
}

int
zc_ledger_msg_send_rolled_back (void *dest, zc_block_t *block)
{
    return s_send_event (dest, ZC_LEDGER_ROLLED_BACK, block);
}

zc_ledger_msg_t *
zc_ledger_msg_recv (void *source, bool *malformed_p)
{
    zc_ledger_msg_t *self = (zc_ledger_msg_t *) zmalloc (sizeof (zc_ledger_msg_t));
    int rc = zc_typed_recv (source, &self->header, sizeof self->header, s_shape,
                            self->strings, S_MAX_STRINGS, &self->ids);
    if (rc == ZC_TYPED_TERM)
        self->header.id = ZC_LEDGER_TERM;
    //  Events hold whole ids only
    if (rc == ZC_TYPED_OK && self->ids && zframe_size (self->ids) % ZC_HASH_HEX != 0)
        rc = ZC_TYPED_MALFORMED;
    *malformed_p = rc == ZC_TYPED_MALFORMED;
    if (rc != ZC_TYPED_OK && rc != ZC_TYPED_TERM)
        zc_ledger_msg_destroy (&self);
    return self;
}

void
zc_ledger_msg_destroy (zc_ledger_msg_t **self_p)
{
    if (*self_p) {
        zc_ledger_msg_t *self = *self_p;
        for (size_t i = 0; i < S_MAX_STRINGS; i++)
            free (self->strings [i]);
        zframe_destroy (&self->ids);
        free (self);
        *self_p = NULL;
    }
}

zc_ledger_msg_id_t
zc_ledger_msg_id (zc_ledger_msg_t *self)
{
    return (zc_ledger_msg_id_t) self->header.id;
}

const char *
zc_ledger_msg_name (zc_ledger_msg_id_t id)
{
    switch (id) {
        case ZC_LEDGER_TERM:            return "$TERM";
        case ZC_LEDGER_OPEN:            return "OPEN";
        case ZC_LEDGER_APPLY:           return "APPLY";
        case ZC_LEDGER_POOL:            return "POOL";
        case ZC_LEDGER_COMMITTED:       return "COMMITTED";
        case ZC_LEDGER_ROLLED_BACK:     return "ROLLED_BACK";
        default:                        return "?";
    }
}

//  The index-th string if the command has it, else ""
static const char *
s_string (zc_ledger_msg_t *self, size_t index)
{
    return index < S_MAX_STRINGS && self->strings [index]? self->strings [index]: "";
}

const char *
zc_ledger_msg_path (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_OPEN? s_string (self, 0): "";
}

bool
zc_ledger_msg_outbox (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_OPEN && self->header.flag;
}

zc_plan_t *
zc_ledger_msg_plan (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_APPLY? (zc_plan_t *) self->header.object: NULL;
}

zc_tx_t **
zc_ledger_msg_txs (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_POOL? (zc_tx_t **) self->header.object: NULL;
}

size_t
zc_ledger_msg_count (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_POOL && self->header.number > 0?
           (size_t) self->header.number: 0;
}

static bool
s_event (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_COMMITTED || self->header.id == ZC_LEDGER_ROLLED_BACK;
}

int64_t
zc_ledger_msg_index (zc_ledger_msg_t *self)
{
    return s_event (self)? self->header.number: 0;
}

const char *
zc_ledger_msg_hash (zc_ledger_msg_t *self)
{
    return s_event (self)? s_string (self, 0): "";
}

const char *
zc_ledger_msg_miner_id (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_COMMITTED? s_string (self, 1): "";
}

const char *
zc_ledger_msg_timestamp (zc_ledger_msg_t *self)
{
    return self->header.id == ZC_LEDGER_COMMITTED? s_string (self, 2): "";
}

size_t
zc_ledger_msg_tx_count (zc_ledger_msg_t *self)
{
    return s_event (self) && self->ids? zframe_size (self->ids) / ZC_HASH_HEX: 0;
}

void
zc_ledger_msg_tx_id (zc_ledger_msg_t *self, size_t index, char *id)
{
    *id = 0;
    if (index < zc_ledger_msg_tx_count (self)) {
        memcpy (id, zframe_data (self->ids) + index * ZC_HASH_HEX, ZC_HASH_HEX);
        id [ZC_HASH_HEX] = 0;
    }
}
