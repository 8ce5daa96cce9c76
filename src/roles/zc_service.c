/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_service - the gateway and server roles

    Both are a bridge (the same one a node uses: both framings, bounded
    buffers, connections of its own) and one actor that handles their
    messages.  The actor starts first so it can refuse a bad data folder
    before the port opens.
    =========================================================================
*/

#include "zc_roles.h"

struct _zc_service_t {
    zc_service_config_t *config;    //  the instance's config (borrowed)
    zactor_t *handler;          //  zc_gateway_actor or zc_server_actor
    zactor_t *bridge;           //  owns the TCP sockets
    atomic_bool busy;           //  gateway: past capacity (config->busy)
};

//  Starts the instance's actor and opens its port.
zc_service_t *
zc_service_new (zc_service_config_t *config)
{
    if (zsys_dir_create ("%s", config->data) != 0) {
        zc_log_error ("%s: cannot create data folder %s", config->name, config->data);
        return NULL;
    }
    zc_service_t *self = (zc_service_t *) zmalloc (sizeof (zc_service_t));
    self->config = config;
    bool gateway = streq (config->name, "gateway");
    atomic_init (&self->busy, false);
    if (gateway)
        config->busy = &self->busy;
    self->bridge = zactor_new (zc_bridge_actor, config->name);
    self->handler = zactor_new (gateway? zc_gateway_actor: zc_server_actor, config);
    //  Health needs no state: the gateway's bridge answers it itself
    if (gateway)
        zc_bridge_set_quick (self->bridge, zc_gateway_quick, config);
    zstr_send (self->handler, "START");
    if (zsock_wait (self->handler) != 0) {
        zc_service_destroy (&self);
        return NULL;
    }
    if (zc_bridge_bind (self->bridge, config->name, config->host, config->port,
                        config->max_message) != 0) {
        zc_service_destroy (&self);
        return NULL;
    }
    zc_log_info ("%s: %s listening on %s:%d", config->name,
               gateway? "gateway": "marketplace server", config->host, config->port);
    return self;
}

//  Stops the bridge first, so nothing new arrives, then the actor.
void
zc_service_destroy (zc_service_t **self_p)
{
    if (self_p && *self_p) {
        zc_service_t *self = *self_p;
        zactor_destroy (&self->bridge);
        zactor_destroy (&self->handler);
        if (self->config->busy == &self->busy)
            self->config->busy = NULL;
        free (self);
        *self_p = NULL;
    }
}
