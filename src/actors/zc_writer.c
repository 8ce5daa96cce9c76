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

    Pipe protocol (from the validator), sent and received by zc_ledger_msg
    (typed, shared by both ends):
        OPEN path outbox        -> signal 0, or 1 if the file cannot be used;
                                with outbox, every change also writes its
                                block notices to the outbox table (issue 9)
        APPLY plan              zc_plan_t * (borrowed until the signal)
                                -> signal 0, or 1 if nothing was written
        POOL txs count          zc_tx_t ** (borrowed until the signal): keep
                                transactions about to be acknowledged, in
                                one SQL transaction -> signal 0/1
        $TERM                   ends the actor
    A malformed command (a bug) is logged and answered with signal 1, so
    its sender, waiting, learns it failed.

    PUB socket bound at zc_endpoint ("ledger", name), after each commit
    (zc_ledger_msg events):
        ROLLED_BACK index hash tx_ids           one per block taken off
        COMMITTED index hash miner_id timestamp tx_ids
                                                one per block added
    tx_ids is the block's transaction ids, back to back.
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

//  Publishes a committed change, removals first.
static void
s_publish (self_t *self, zc_plan_t *plan)
{
    for (size_t i = plan->detach_count; i-- > 0; )
        zc_ledger_msg_send_rolled_back (self->events, plan->detach [i]);
    for (size_t i = 0; i < plan->attach_count; i++)
        zc_ledger_msg_send_committed (self->events, plan->attach [i]);
}

//  Handles one command from the validator.
static void
s_self_handle_pipe (self_t *self)
{
    bool malformed = false;
    zc_ledger_msg_t *msg = zc_ledger_msg_recv (self->pipe, &malformed);
    zc_ledger_msg_id_t id = msg? zc_ledger_msg_id (msg): ZC_LEDGER_TERM;
    if (malformed) {
        zc_log_error ("%s: writer: bug: malformed command", self->name);
        zsock_signal (self->pipe, 1);
    }
    else
    if (id == ZC_LEDGER_TERM)
        self->terminated = true;        //  $TERM, or interrupted
    else
    if (id == ZC_LEDGER_OPEN) {
        char *error = NULL;
        zc_ledger_destroy (&self->ledger);
        self->ledger = zc_ledger_open (zc_ledger_msg_path (msg), &error);
        if (self->ledger && zc_ledger_msg_outbox (msg))
            zc_ledger_set_outbox (self->ledger, true);
        if (!self->ledger)
            zc_log_error ("%s: cannot open ledger %s", self->name, error? error: "(no path)");
        zsock_signal (self->pipe, self->ledger? 0: 1);
        zstr_free (&error);
    }
    else
    if (id == ZC_LEDGER_APPLY) {
        zc_plan_t *plan = zc_ledger_msg_plan (msg);
        int rc = -1;
        if (plan && self->ledger)
            rc = zc_ledger_replace (self->ledger, plan->fork_height,
                                    plan->attach, plan->attach_count);
        if (rc == 0)
            s_publish (self, plan);
        zsock_signal (self->pipe, rc == 0? 0: 1);
    }
    else
    if (id == ZC_LEDGER_POOL) {
        zc_tx_t **txs = zc_ledger_msg_txs (msg);
        int rc = txs && self->ledger?
                 zc_ledger_pool_add (self->ledger, txs, zc_ledger_msg_count (msg)): -1;
        zsock_signal (self->pipe, rc == 0? 0: 1);
    }
    else {
        zc_log_error ("%s: writer: bug: unexpected command %s", self->name,
                    zc_ledger_msg_name (id));
        zsock_signal (self->pipe, 1);
    }
    zc_ledger_msg_destroy (&msg);
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
