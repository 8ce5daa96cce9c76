/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_node - the node role: starts a node's actors from its config

    A node is six actors wired by inproc endpoints named after the
    instance, so several nodes can share one process.  They start in an
    order that lets each connect to what it needs, and the bridge opens
    the port last: a node takes connections only once its ledger is open
    and its chain loaded.  Anything that fails on the way is logged with
    the instance name and the node is not started.
    =========================================================================
*/

#include "zc_roles.h"
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>

struct _zc_node_t {
    zc_node_config_t *config;   //  the instance's config (borrowed)
    zactor_t *notifier;         //  tells the gateway of committed blocks
    zactor_t *validator;        //  chain, mempool, miner pool, writer
    zactor_t *listener;         //  dispatches messages
    zactor_t *bridge;           //  owns the TCP sockets
};

//  The node's identity: a UUID made on first start and kept in its data
//  folder, so peers see the same node_id across restarts.
static int
s_load_node_id (zc_node_config_t *config)
{
    char *path = zsys_sprintf ("%s/node_id", config->data);
    char text [64] = "";
    FILE *file = fopen (path, "r");
    if (file) {
        if (!fgets (text, sizeof text, file))
            text [0] = 0;
        fclose (file);
        text [strcspn (text, "\r\n")] = 0;
    }
    int rc = 0;
    if (!zc_uuid_valid (text)) {
        if (file)
            zc_log_warning ("%s: %s is not a UUID; making a new node_id", config->name, path);
        zc_uuid_new (text);
        file = fopen (path, "w");
        if (!file || fprintf (file, "%s\n", text) < 0)
            rc = -1;
        if (file && fclose (file) != 0)
            rc = -1;
        if (rc)
            zc_log_error ("%s: cannot write %s: %s", config->name, path, strerror (errno));
    }
    snprintf (config->node_id, sizeof config->node_id, "%s", text);
    free (path);
    return rc;
}

//  The node's key (issue 9): node.key in its data folder, made on first
//  start unless the file pins a key (a key made now could never match
//  it).  A key that is not the pinned one stops the start, naming file,
//  instance and both keys.
static int
s_check_key (zc_node_config_t *config)
{
    char *path = zsys_sprintf ("%s/node.key", config->data);
    zc_keys_t *keys = NULL;
    if (config->pinned_key && access (path, F_OK) != 0)
        zc_log_error ("%s: node/%s/key pins %s, but %s does not exist (copy the node's key"
                    " there, or remove the pin and run zchaind -c %s --init %s)",
                    config->file, config->name, config->pinned_key, path, config->file,
                    config->name);
    else {
        keys = zc_keys_load_or_create (path);
        if (!keys)
            zc_log_error ("%s: cannot load or create node key %s", config->name, path);
    }
    int rc = keys? 0: -1;
    if (keys && config->pinned_key && !streq (config->pinned_key, zc_keys_public_b64 (keys))) {
        zc_log_error ("%s: node/%s/key: the file pins %s, but %s holds key %s: refusing to"
                    " start", config->file, config->name, config->pinned_key, path,
                    zc_keys_public_b64 (keys));
        rc = -1;
    }
    if (keys)
        snprintf (config->public_key, sizeof config->public_key, "%s",
                  zc_keys_public_b64 (keys));
    zc_keys_destroy (&keys);
    free (path);
    return rc;
}

//  True if name is exactly node_PORT.sqlite3, with *port_p its port.
static bool
s_ledger_name (const char *name, int *port_p)
{
    int port = 0, end = 0;
    if (sscanf (name, "node_%d.sqlite3%n", &port, &end) != 1 || name [end] != '\0'
    ||  port < 1 || port > 65535)
        return false;
    char canonical [32];
    snprintf (canonical, sizeof canonical, "node_%d.sqlite3", port);
    *port_p = port;
    return streq (canonical, name);
}

//  The ledger is DATA/node_PORT.sqlite3, as the protocol names it.  When
//  the port in the config changes, the ledger of the old port is taken
//  over: renamed to the new name with its -wal and -shm (those first, so
//  a crash halfway leaves a state the next start completes: the old main
//  file still there, its WAL already under the new name).  Several old
//  ledgers and none of the new port is a choice we do not make: refuse.
static int
s_adopt_ledger (zc_node_config_t *config)
{
    char *path = zsys_sprintf ("%s/node_%d.sqlite3", config->data, config->port);
    int rc = 0;
    if (access (path, F_OK) == 0) {
        free (path);
        return 0;
    }
    DIR *dir = opendir (config->data);
    int found = 0, old_port = 0, port;
    struct dirent *entry;
    while (dir && (entry = readdir (dir)))
        if (s_ledger_name (entry->d_name, &port) && port != config->port) {
            found++;
            old_port = port;
        }
    if (dir)
        closedir (dir);
    if (found > 1) {
        zc_log_error ("%s: %s holds the ledgers of %d other ports and none of port %d: "
                      "keep the one to use (or rename it node_%d.sqlite3)", config->name,
                      config->data, found, config->port, config->port);
        rc = -1;
    }
    else
    if (found == 1) {
        static const char *suffixes [] = { "-wal", "-shm", "" };
        for (size_t i = 0; i < 3 && rc == 0; i++) {
            char *from = zsys_sprintf ("%s/node_%d.sqlite3%s", config->data, old_port, suffixes [i]);
            char *to = zsys_sprintf ("%s%s", path, suffixes [i]);
            if (rename (from, to) != 0 && errno != ENOENT) {
                zc_log_error ("%s: cannot rename %s to %s: %s", config->name, from, to,
                              strerror (errno));
                rc = -1;
            }
            free (from);
            free (to);
        }
        //  The renames are durable before the ledger is opened
        int fd = open (config->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync (fd);
            close (fd);
        }
        if (rc == 0)
            zc_log_notice ("%s: port changed from %d to %d: ledger renamed to %s",
                           config->name, old_port, config->port, path);
    }
    free (path);
    return rc;
}

//  Starts the node's actors; NULL if any of them cannot start.
zc_node_t *
zc_node_new (zc_node_config_t *config)
{
    if (zsys_dir_create ("%s", config->data) != 0) {
        zc_log_error ("%s: cannot create data folder %s: %s",
                    config->name, config->data, strerror (errno));
        return NULL;
    }
    if (s_load_node_id (config) != 0 || s_check_key (config) != 0
    ||  s_adopt_ledger (config) != 0)
        return NULL;
    zc_node_t *self = (zc_node_t *) zmalloc (sizeof (zc_node_t));
    self->config = config;
    self->notifier = zactor_new (zc_notifier_actor, config);
    self->bridge = zactor_new (zc_bridge_actor, config->name);
    self->listener = zactor_new (zc_listener_actor, config);
    self->validator = zactor_new (zc_validator_actor, config);
    zstr_send (self->validator, "START");
    if (zsock_wait (self->validator) != 0) {
        zc_log_error ("%s: cannot start: the ledger could not be opened", config->name);
        zc_node_destroy (&self);
        return NULL;
    }
    //  The notifier reads the outbox the validator's writer keeps
    zstr_send (self->notifier, "START");
    if (zsock_wait (self->notifier) != 0) {
        zc_node_destroy (&self);
        return NULL;
    }
    if (zc_bridge_bind (self->bridge, config->name, config->host, config->port,
                        config->max_message) != 0) {
        zc_node_destroy (&self);
        return NULL;
    }
    zc_log_info ("%s: node %s listening on %s:%d (difficulty %d)", config->name,
               config->node_id, config->host, config->port, config->difficulty);
    return self;
}

//  Stops the actors, network side first, so nothing new arrives while
//  the chain is put away.
void
zc_node_destroy (zc_node_t **self_p)
{
    if (self_p && *self_p) {
        zc_node_t *self = *self_p;
        zactor_destroy (&self->bridge);
        zactor_destroy (&self->listener);
        zactor_destroy (&self->validator);
        zactor_destroy (&self->notifier);
        free (self);
        *self_p = NULL;
    }
}
