/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_notifier - tells the gateway about blocks a node has committed

    The ledger writer puts a notice for every block added to the node's
    chain, and for every block a reorganization takes off it, into the
    ledger's outbox table, in the same SQL transaction as the change
    itself.  The notifier sends what the outbox holds to the deployment's
    gateway, oldest first, each notice signed with the node key:

        {"type":"block_confirmation","block_index","block_hash","miner_id",
         "node_id","timestamp","tx_ids":[...],"seq","public_key","signature"}
        {"type":"block_rollback","block_index","block_hash","node_id",
         "tx_ids":[...],"seq","public_key","signature"}

    and deletes a notice only when the gateway answers {"type":"notice_ack",
    "seq"}.  So a node killed at any point sends, once restarted, every
    notice the gateway has not acknowledged; the gateway drops the ones it
    has already seen by their seq.  Notices go out in order through the
    node's bridge (its answer link, not through the listener), at most
    S_WINDOW unacknowledged at once.  A refusal, a connection that ends
    or acknowledgements that stop coming make the notifier send again from
    the oldest unacknowledged notice, after a pause that doubles from
    100 ms to 5 s.

    Pipe protocol (from the node role):
        START                   opens the ledger (after the validator has)
                                and loads the node key -> signal 0 / -1
        $TERM                   ends the actor

    SUB socket connected to zc_endpoint ("ledger", name): the COMMITTED
    and ROLLED_BACK events of zc_writer (zc_ledger_msg); each says the
    outbox has grown.

    Bridge: the SEND command of zc_bridge (a signed notice for the
    gateway) on the bridge's answer link (zc_link_answers_new), like the
    validator's sends; the bridge tells the listener, not us, when the
    connection ends.

    Listener link (PAIR connected to zc_endpoint ("notices", name)), the
    commands of zc_notices_msg (typed, shared by both ends):
        ACK seq                 the gateway acknowledged notice seq
        NACK reason             the gateway refused a notice
        DOWN                    the connection to the gateway ended
    =========================================================================
*/

#include "zc_actors.h"

#define S_WINDOW        64          //  notices sent and not yet acknowledged
#define S_RETRY_MIN     100         //  first pause before sending again, msecs
#define S_RETRY_MAX     5000        //  longest pause
#define S_ACK_MSECS     10000       //  an acknowledgement later than this: resend

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *events;            //  SUB to the ledger writer
    zsock_t *listener;          //  PAIR from the listener
    zsock_t *bridge;            //  PUSH to the bridge's answer link
    zc_node_config_t *config;   //  node config (borrowed)
    zc_ledger_t *ledger;        //  our own connection to the node's file
    zc_keys_t *keys;            //  node key, signs notices
    int64_t inflight [S_WINDOW];    //  seqs sent, not acknowledged, in order
    size_t inflight_count;      //  how many
    int64_t last_sent;          //  seq of the last notice sent
    int64_t ack_deadline;       //  when missing acknowledgements mean resend
    int64_t retry_at;           //  no sending before then
    int64_t retry_pause;        //  current backoff
    bool terminated;            //  $TERM received
} self_t;

static self_t *
s_self_new (zsock_t *pipe, zc_node_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->retry_pause = S_RETRY_MIN;
    char *endpoint = zc_endpoint ("ledger", config->name);
    self->events = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (self->events, 0);
    zsock_set_subscribe (self->events, "");
    zsock_connect (self->events, "%s", endpoint);
    free (endpoint);
    self->listener = zc_link_new ("notices", config->name, false);
    self->bridge = zc_link_answers_new (config->name, false);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zc_ledger_destroy (&self->ledger);
        zc_keys_destroy (&self->keys);
        zsock_destroy (&self->events);
        zsock_destroy (&self->listener);
        zsock_destroy (&self->bridge);
        free (self);
        *self_p = NULL;
    }
}

//  Opens the ledger (the validator's writer made it) and the node key.
static int
s_self_start (self_t *self)
{
    if (!self->config->gateway)
        return 0;                       //  nobody to tell
    char *path = zsys_sprintf ("%s/node_%d.sqlite3", self->config->data, self->config->port);
    char *error = NULL;
    self->ledger = zc_ledger_open (path, &error);
    if (!self->ledger)
        zc_log_error ("%s: notifier cannot open %s", self->config->name, error? error: path);
    free (error);
    free (path);
    path = zsys_sprintf ("%s/node.key", self->config->data);
    self->keys = self->ledger? zc_keys_load (path): NULL;
    if (self->ledger && !self->keys)
        zc_log_error ("%s: notifier cannot load %s", self->config->name, path);
    free (path);
    if (self->ledger)
        zc_debug ("%s: %" PRId64 " notice(s) owed to the gateway", self->config->name,
                  zc_ledger_outbox_count (self->ledger));
    return self->ledger && self->keys? 0: -1;
}

//  Sends the outbox's next notices while the window has room.
static void
s_pump (self_t *self)
{
    if (!self->ledger || zclock_mono () < self->retry_at || self->inflight_count >= S_WINDOW)
        return;
    zlistx_t *notices = zc_ledger_outbox_load (self->ledger, self->last_sent,
                                               S_WINDOW - self->inflight_count);
    cJSON *notice = (cJSON *) zlistx_first (notices);
    while (notice) {
        int64_t seq = (int64_t) cJSON_GetObjectItemCaseSensitive (notice, "seq")->valuedouble;
        cJSON_AddStringToObject (notice, "node_id", self->config->node_id);
        char *text = zc_notice_sign (notice, self->keys) == 0? zc_jcs_serialize (notice): NULL;
        if (text) {
            zc_link_send_peer (self->bridge, self->config->gateway, text, strlen (text));
            if (self->inflight_count == 0)
                self->ack_deadline = zclock_mono () + S_ACK_MSECS;
            self->inflight [self->inflight_count++] = seq;
        }
        else
            zc_log_error ("%s: cannot sign notice %" PRId64, self->config->name, seq);
        self->last_sent = seq;
        free (text);
        notice = (cJSON *) zlistx_next (notices);
    }
    zlistx_destroy (&notices);
}

//  Sends again from the oldest unacknowledged notice, after a pause.
static void
s_resend_later (self_t *self, const char *why)
{
    //  One failure ends the whole window: the DOWNs of the rest of it do
    //  not lengthen the pause again
    if (self->inflight_count == 0 && self->retry_at > zclock_mono ())
        return;
    if (self->inflight_count > 0)
        zc_debug ("%s: %s; resending %zu notice(s) in %" PRId64 " ms", self->config->name,
                  why, self->inflight_count, self->retry_pause);
    self->inflight_count = 0;
    self->last_sent = 0;
    self->retry_at = zclock_mono () + self->retry_pause;
    self->retry_pause = self->retry_pause * 2 > S_RETRY_MAX? S_RETRY_MAX: self->retry_pause * 2;
}

//  The gateway has a notice: it leaves the outbox.  Acknowledgements come
//  in the order the notices went out.
static void
s_acked (self_t *self, int64_t seq)
{
    size_t found = 0;
    while (found < self->inflight_count && self->inflight [found] != seq)
        found++;
    if (found == self->inflight_count)
        return;                         //  from before a resend
    if (zc_ledger_outbox_remove (self->ledger, seq) != 0)
        zc_log_error ("%s: cannot delete acknowledged notice %" PRId64, self->config->name, seq);
    memmove (self->inflight + found, self->inflight + found + 1,
             (self->inflight_count - found - 1) * sizeof (int64_t));
    self->inflight_count--;
    self->ack_deadline = zclock_mono () + S_ACK_MSECS;
    self->retry_pause = S_RETRY_MIN;
}

//  A message from the listener about our gateway connection.
static void
s_self_handle_listener (self_t *self)
{
    bool malformed = false;
    zc_notices_msg_t *msg = zc_notices_msg_recv (self->listener, &malformed);
    zc_notices_msg_id_t id = msg? zc_notices_msg_id (msg): 0;
    if (malformed)
        zc_log_error ("%s: notifier: bug: malformed listener command", self->config->name);
    else
    if (id == ZC_NOTICES_ACK)
        s_acked (self, zc_notices_msg_seq (msg));
    else
    if (id == ZC_NOTICES_NACK) {
        zc_log_warning ("%s: the gateway refused a notice: %s", self->config->name,
                      zc_notices_msg_reason (msg));
        s_resend_later (self, "refused");
    }
    else
    if (id == ZC_NOTICES_DOWN)
        s_resend_later (self, "gateway connection ended");
    zc_notices_msg_destroy (&msg);
}

//  One event from the ledger writer: logged; the outbox has grown.
static void
s_self_handle_event (self_t *self)
{
    bool malformed = false;
    zc_ledger_msg_t *event = zc_ledger_msg_recv (self->events, &malformed);
    if (event && (zc_ledger_msg_id (event) == ZC_LEDGER_COMMITTED
              ||  zc_ledger_msg_id (event) == ZC_LEDGER_ROLLED_BACK))
        zc_log_often (self->config->name, "%s: block %" PRId64 " %s (%.16s)", self->config->name,
                      zc_ledger_msg_index (event),
                      zc_ledger_msg_id (event) == ZC_LEDGER_COMMITTED? "committed": "rolled back",
                      zc_ledger_msg_hash (event));
    else
    if (event || malformed)
        zc_log_error ("%s: notifier: bug: unexpected ledger event %s", self->config->name,
                    event? zc_ledger_msg_name (zc_ledger_msg_id (event)): "(malformed)");
    zc_ledger_msg_destroy (&event);
}

void
zc_notifier_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_node_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->events, self->listener, NULL);
    while (!self->terminated) {
        int timeout = -1;
        int64_t now = zclock_mono ();
        if (self->ledger && self->retry_at > now)
            timeout = (int) (self->retry_at - now);
        else
        if (self->inflight_count > 0)
            timeout = self->ack_deadline > now? (int) (self->ack_deadline - now): 0;
        void *which = zpoller_wait (poller, timeout);
        if (zpoller_terminated (poller))
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
        if (which == self->events)
            s_self_handle_event (self);
        else
        if (which == self->listener)
            s_self_handle_listener (self);
        if (self->inflight_count > 0 && zclock_mono () >= self->ack_deadline)
            s_resend_later (self, "no acknowledgement");
        s_pump (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}
