/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_writer - the ledger writer: the one thread that writes a node's file

    The validator decides; the writer makes it durable.  A change of chain
    (one new block, or a reorganization) is written in one SQL transaction
    and the validator waits for the outcome, so nothing is announced to
    peers, clients or the gateway before it is in the file.  After each
    commit the writer publishes what changed for the notifier.

    Pipe protocol (from the validator):
        OPEN path [outbox]      -> signal 0, or -1 if the file cannot be used;
                                with "outbox", every change also writes its
                                block notices to the outbox table (issue 9)
        APPLY plan              zc_plan_t * (borrowed until the signal)
                                -> signal 0, or -1 if nothing was written
        POOL txs count          zc_tx_t ** (borrowed until the signal): keep
                                transactions about to be acknowledged, in
                                one SQL transaction -> signal 0/-1
        $TERM                   ends the actor

    PUB socket bound at zc_endpoint ("ledger", name), after each commit:
        ROLLED_BACK index hash tx_ids           one per block taken off
        COMMITTED index hash miner_id timestamp tx_ids
                                                one per block added
    tx_ids is the block's transaction ids joined by commas.
    =========================================================================
*/

#include "zc_actors.h"

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe, to the validator
    zsock_t *events;            //  PUB of committed changes
    zc_ledger_t *ledger;        //  the open file, once OPEN succeeded
    char *name;                 //  instance name, for logs
    bool terminated;            //  $TERM received
} self_t;

static self_t *
s_self_new (zsock_t *pipe, const char *name)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->name = strdup (name);
    self->events = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (self->events, 100000);
    char *endpoint = zc_endpoint ("ledger", name);
    int rc = zsock_bind (self->events, "%s", endpoint);
    assert (rc == 0);
    free (endpoint);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zc_ledger_destroy (&self->ledger);
        zsock_destroy (&self->events);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

//  The block's transaction ids joined by commas.  Caller frees.
static char *
s_tx_ids (zc_block_t *block)
{
    size_t count = zc_block_tx_count (block);
    char *ids = (char *) malloc (count * (ZC_HASH_HEX + 1) + 1);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (i)
            ids [used++] = ',';
        memcpy (ids + used, zc_tx_id (zc_block_tx (block, i)), ZC_HASH_HEX);
        used += ZC_HASH_HEX;
    }
    ids [used] = 0;
    return ids;
}

//  Publishes a committed change, removals first.
static void
s_publish (self_t *self, zc_plan_t *plan)
{
    for (size_t i = plan->detach_count; i-- > 0; ) {
        zc_block_t *block = plan->detach [i];
        char *ids = s_tx_ids (block);
        zsock_send (self->events, "s8ss", "ROLLED_BACK", (uint64_t) zc_block_index (block),
                    zc_block_hash (block), ids);
        free (ids);
    }
    for (size_t i = 0; i < plan->attach_count; i++) {
        zc_block_t *block = plan->attach [i];
        char *ids = s_tx_ids (block);
        zsock_send (self->events, "s8ssss", "COMMITTED", (uint64_t) zc_block_index (block),
                    zc_block_hash (block), zc_block_miner_id (block),
                    zc_block_timestamp (block), ids);
        free (ids);
    }
}

//  Handles one command from the validator.
static void
s_self_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg? zmsg_popstr (msg): NULL;
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "OPEN")) {
        char *path = zmsg_popstr (msg);
        char *outbox = zmsg_popstr (msg);
        char *error = NULL;
        zc_ledger_destroy (&self->ledger);
        self->ledger = path? zc_ledger_open (path, &error): NULL;
        if (self->ledger && outbox && streq (outbox, "outbox"))
            zc_ledger_set_outbox (self->ledger, true);
        zstr_free (&outbox);
        if (!self->ledger)
            zc_log_error ("%s: cannot open ledger %s", self->name, error? error: "(no path)");
        zsock_signal (self->pipe, self->ledger? 0: 1);
        zstr_free (&path);
        zstr_free (&error);
    }
    else
    if (streq (command, "APPLY")) {
        zframe_t *frame = zmsg_pop (msg);
        zc_plan_t *plan = NULL;
        if (frame && zframe_size (frame) == sizeof (void *))
            memcpy (&plan, zframe_data (frame), sizeof (void *));
        int rc = -1;
        if (plan && self->ledger)
            rc = zc_ledger_replace (self->ledger, plan->fork_height,
                                    plan->attach, plan->attach_count);
        if (rc == 0)
            s_publish (self, plan);
        zsock_signal (self->pipe, rc == 0? 0: 1);
        zframe_destroy (&frame);
    }
    else
    if (streq (command, "POOL")) {
        zframe_t *frame = zmsg_pop (msg);
        char *count = zmsg_popstr (msg);
        zc_tx_t **txs = NULL;
        if (frame && zframe_size (frame) == sizeof (void *))
            memcpy (&txs, zframe_data (frame), sizeof (void *));
        int rc = txs && count && self->ledger?
                 zc_ledger_pool_add (self->ledger, txs, (size_t) atoll (count)): -1;
        zsock_signal (self->pipe, rc == 0? 0: 1);
        zframe_destroy (&frame);
        zstr_free (&count);
    }
    else
        zc_log_error ("%s: writer: unknown command %s", self->name, command);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

void
zc_writer_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const char *) args);
    zsock_signal (pipe, 0);
    while (!self->terminated)
        s_self_handle_pipe (self);
    s_self_destroy (&self);
}
