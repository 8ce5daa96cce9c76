/*  =========================================================================
    zc_notifier - tells the world about blocks a node has committed

    The notifier subscribes to the ledger writer's events, so it hears of
    a block only once it is in the file, and turns them into log lines.
    It runs on its own thread so that telling others never slows the
    validator down.

    Pipe protocol (from the node role):
        $TERM                   ends the actor

    SUB socket connected to zc_endpoint ("ledger", name): the COMMITTED
    and ROLLED_BACK events of zc_writer.
    =========================================================================
*/

#include "zc_classes.h"

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *events;            //  SUB to the ledger writer
    zc_node_config_t *config;   //  node config (borrowed)
    bool terminated;            //  $TERM received
} self_t;

static self_t *
s_self_new (zsock_t *pipe, zc_node_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    char *endpoint = zc_endpoint ("ledger", config->name);
    self->events = zsock_new_sub (endpoint, "");
    zsock_set_rcvhwm (self->events, 100000);
    free (endpoint);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zsock_destroy (&self->events);
        free (self);
        *self_p = NULL;
    }
}

//  One event from the ledger writer.
static void
s_self_handle_event (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->events);
    char *event = msg? zmsg_popstr (msg): NULL;
    char *index = msg? zmsg_popstr (msg): NULL;
    char *hash = msg? zmsg_popstr (msg): NULL;
    if (event && index && hash) {
        if (streq (event, "COMMITTED"))
            zsys_info ("%s: block %s committed (%.16s)", self->config->name, index, hash);
        else
            zsys_info ("%s: block %s rolled back (%.16s)", self->config->name, index, hash);
    }
    zstr_free (&event);
    zstr_free (&index);
    zstr_free (&hash);
    zmsg_destroy (&msg);
}

void
zc_notifier_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_node_config_t *) args);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->events, NULL);
    while (!self->terminated) {
        void *which = zpoller_wait (poller, -1);
        if (!which)
            break;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            zstr_free (&command);
        }
        else
            s_self_handle_event (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}
