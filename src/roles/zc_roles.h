/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_roles.h - roles: a deployment's config file and what runs from it

    A role reads its part of the config and starts the actors it is made
    of (src/actors/): a node, or the gateway or server service.  The
    programs (src/programs/) use only this header and the library.
    =========================================================================
*/

#ifndef ZC_ROLES_H_INCLUDED
#define ZC_ROLES_H_INCLUDED

#include "../actors/zc_actors.h"

//  =========================================================================
//  zc_config - a deployment described in one ZPL file
//  =========================================================================

typedef struct _zc_config_t zc_config_t;

//  Loads and checks a config file.  NULL on any problem, with *error_p a
//  message naming file, key and problem (caller frees).
zc_config_t *zc_config_load (const char *path, char **error_p);
void zc_config_destroy (zc_config_t **self_p);

//  Number of instances and the name of each, in file order.
size_t zc_config_size (zc_config_t *self);
const char *zc_config_name (zc_config_t *self, size_t index);

//  The node config of an instance, or NULL if it is not a node (borrowed).
zc_node_config_t *zc_config_node (zc_config_t *self, const char *name);

//  The gateway or server config of an instance, or NULL (borrowed).
zc_service_config_t *zc_config_service (zc_config_t *self, const char *name);

//  Issue 9: makes the node.key of the node instances named (every node
//  of the file if names is empty) that have none, and prints to out the
//  `key = ...` line of each, to paste under node/NAME.  0, or -1 with
//  the problem logged.
int zc_config_init_keys (zc_config_t *self, const char **names, size_t name_count,
                         FILE *out);

//  =========================================================================
//  zc_node - the node role: starts a node's actors from its config
//  =========================================================================

typedef struct _zc_node_t zc_node_t;

//  Starts a node; NULL with a logged reason if it cannot (bad data folder,
//  port in use, unreadable ledger).  Borrows config until destroyed.
zc_node_t *zc_node_new (zc_node_config_t *config);
void zc_node_destroy (zc_node_t **self_p);

//  =========================================================================
//  zc_service - the gateway and server roles: a bridge and their actor
//  =========================================================================

typedef struct _zc_service_t zc_service_t;

//  Starts the gateway or server instance; NULL with a logged reason.
zc_service_t *zc_service_new (zc_service_config_t *config);
void zc_service_destroy (zc_service_t **self_p);

#endif
