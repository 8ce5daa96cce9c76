/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_config - a deployment described in one ZPL file

    One file names every instance of a deployment; zchaind runs any of
    them.  The file is read once, checked whole, and turned into plain
    structs: a bad or missing value stops the start with a message naming
    file, key and problem, and no actor ever sees the zconfig tree.
    Relative data paths are made absolute from the file's own folder, so
    the same file means the same data from any working directory.

        network
            difficulty = 4          # leading '0' hex digits of a block hash
            max_block_txs = 1000    # transactions per block, at most
            block_interval = 30     # msecs after a block before the next is begun
            tx_policy = verify      # verify | open
            max_message = 4194304   # bytes in one message, at most
            max_mempool = 100000    # transactions waiting, at most
            miners = 0              # hashing threads per node, 0 = cores
            permissioned = no       # yes: only allowed keys' blocks count
            miner_keys = "K1, K2"   # allowed besides the pinned node keys
            miner_kernel = auto     # auto | avx512 | avx2 | sha-ni | portable
        node
            n1
                host = 127.0.0.1
                port = 13246
                data = var/n1
                peers = "127.0.0.1:13247"   # optional: replaces the
                                            # default, every other node
                key = "base64"      # optional: pins node.key's public key
        gateway
            host = 127.0.0.1        # RPC_LISTEN_HOST
            port = 13300            # RPC_LISTEN_PORT
            data = var/gateway      # the gateway's signing key
            max_queue = 100000      # confirmations held while the server is down
            allow = "127.0.0.0/8, ::1"  # client networks served
        server
            host = 127.0.0.1        # SERVER_NOTIFY_HOST
            port = 13400            # SERVER_NOTIFY_PORT
            data = var/server       # market.sqlite3
    =========================================================================
*/

#include "zc_roles.h"
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

struct _zc_config_t {
    char *path;                 //  the file, for messages
    char *folder;               //  the file's folder, absolute: relative
                                //  data paths are taken from it
    zc_node_config_t **nodes;   //  node instances, file order
    size_t node_count;          //  how many
    char **names;               //  every instance name, file order
    size_t name_count;          //  how many
    zc_service_config_t *gateway;   //  the gateway, or NULL
    zc_service_config_t *server;    //  the server, or NULL
};

//  Frees one service config.
static void
s_service_destroy (zc_service_config_t **service_p)
{
    if (*service_p) {
        zc_service_config_t *service = *service_p;
        free (service->name);
        free (service->host);
        free (service->data);
        for (size_t i = 0; i < service->node_count; i++)
            free (service->nodes [i]);
        free (service->nodes);
        free (service->server);
        for (size_t i = 0; i < service->file_node_count; i++) {
            free (service->node_names [i]);
            free (service->node_keys [i]);
        }
        free (service->node_names);
        free (service->node_keys);
        for (size_t i = 0; i < service->allow_count; i++)
            free (service->allow [i]);
        free (service->allow);
        free (service);
        *service_p = NULL;
    }
}

//  Frees one node config.
static void
s_node_destroy (zc_node_config_t **node_p)
{
    if (*node_p) {
        zc_node_config_t *node = *node_p;
        free (node->name);
        free (node->host);
        free (node->data);
        for (size_t i = 0; i < node->peer_count; i++)
            free (node->peers [i]);
        free (node->peers);
        free (node->gateway);
        free (node->file);
        free (node->pinned_key);
        for (size_t i = 0; i < node->miner_key_count; i++)
            free (node->miner_keys [i]);
        free (node->miner_keys);
        free (node);
        *node_p = NULL;
    }
}

void
zc_config_destroy (zc_config_t **self_p)
{
    if (self_p && *self_p) {
        zc_config_t *self = *self_p;
        for (size_t i = 0; i < self->node_count; i++)
            s_node_destroy (&self->nodes [i]);
        free (self->nodes);
        for (size_t i = 0; i < self->name_count; i++)
            free (self->names [i]);
        free (self->names);
        s_service_destroy (&self->gateway);
        s_service_destroy (&self->server);
        free (self->path);
        free (self->folder);
        free (self);
        *self_p = NULL;
    }
}

//  Parses a whole decimal integer within [min, max].
static bool
s_parse_int (const char *text, long long min, long long max, long long *value_p)
{
    if (!text || !*text)
        return false;
    char *end = NULL;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *value_p = value;
    return true;
}

//  Reads an optional integer key into *value_p, left as it is when the
//  key is absent; returns an error message if the value is bad.
static char *
s_get_int (zc_config_t *self, zconfig_t *section, const char *where, const char *key,
           long long min, long long max, long long *value_p)
{
    zconfig_t *item = zconfig_locate (section, key);
    if (!item)
        return NULL;                    //  keep the default
    const char *text = zconfig_value (item);
    if (!s_parse_int (text, min, max, value_p))
        return zsys_sprintf ("%s: %s/%s: must be an integer from %lld to %lld (got '%s')",
                             self->path, where, key, min, max, text? text: "");
    return NULL;
}

//  Reads an optional miner_kernel key into *kernel_p (-1: auto), left as
//  it is when the key is absent; a kernel this CPU cannot run is an error.
static char *
s_get_kernel (zc_config_t *self, zconfig_t *section, const char *where, int *kernel_p)
{
    zconfig_t *item = zconfig_locate (section, "miner_kernel");
    if (!item)
        return NULL;
    const char *name = zconfig_value (item);
    if (name && streq (name, "auto")) {
        *kernel_p = -1;
        return NULL;
    }
    int kernel = zc_pow_kernel_lookup (name);
    if (kernel < 0)
        return zsys_sprintf ("%s: %s/miner_kernel: must be auto, avx512, avx2, sha-ni or "
                             "portable (got '%s')", self->path, where, name? name: "");
    const char *unusable = zc_pow_kernel_unusable (kernel);
    if (unusable) {
        char *usable = zc_pow_kernel_list ();
        char *error = zsys_sprintf ("%s: %s/miner_kernel: cannot use %s here: %s "
                                    "(usable: %s)", self->path, where, name, unusable, usable);
        free (usable);
        return error;
    }
    *kernel_p = kernel;
    return NULL;
}

//  Checks that a section has only the keys we know, so typos are caught.
static char *
s_check_keys (zc_config_t *self, zconfig_t *section, const char *where,
              const char **known)
{
    for (zconfig_t *child = zconfig_child (section); child; child = zconfig_next (child)) {
        const char *name = zconfig_name (child);
        bool found = false;
        for (const char **key = known; *key && !found; key++)
            found = streq (name, *key);
        if (!found)
            return zsys_sprintf ("%s: %s/%s: unknown key", self->path, where, name);
    }
    return NULL;
}

//  True for "host:port" or "[v6]:port" (see zc_net).
static bool
s_valid_address (const char *address)
{
    char host [ZC_HOST_MAX + 1];
    int port;
    return zc_net_split (address, host, sizeof host, &port) == 0 && zc_host_valid (host);
}

//  A data path as given, or, if relative, made absolute from the config
//  file's folder: the same file means the same data from any working
//  directory (systemd starts us in /).  Caller frees.
static char *
s_data_path (zc_config_t *self, const char *data)
{
    if (*data == '/' || *data == '\0')
        return strdup (data);
    if (data [0] == '.' && data [1] == '/')
        data += 2;
    return zsys_sprintf ("%s/%s", self->folder, data);
}

//  Adds an instance name; an error if it is taken.
static char *
s_add_name (zc_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->name_count; i++)
        if (streq (self->names [i], name))
            return zsys_sprintf ("%s: instance name '%s' is used twice", self->path, name);
    self->names = (char **) realloc (self->names, (self->name_count + 1) * sizeof (char *));
    self->names [self->name_count++] = strdup (name);
    return NULL;
}

//  True if text is base64 of exactly 32 bytes: an Ed25519 public key.
static bool
s_valid_key (const char *text)
{
    size_t size = 0;
    uint8_t *raw = text? zc_base64_decode (text, &size): NULL;
    free (raw);
    return raw && size == 32;
}

//  network/permissioned and network/miner_keys (issue 9).  The keys
//  listed are kept in the template; the pinned node keys join them once
//  every node is read.
static char *
s_read_permissioned (zc_config_t *self, zconfig_t *section, zc_node_config_t *net)
{
    const char *permissioned = zconfig_get (section, "permissioned", "no");
    if (streq (permissioned, "yes"))
        net->permissioned = true;
    else
    if (!streq (permissioned, "no"))
        return zsys_sprintf ("%s: network/permissioned: must be 'yes' or 'no' (got '%s')",
                             self->path, permissioned);
    const char *keys = zconfig_get (section, "miner_keys", NULL);
    if (keys) {
        char *list = strdup (keys);
        char *saveptr = NULL;
        for (char *item = strtok_r (list, ", ", &saveptr); item;
             item = strtok_r (NULL, ", ", &saveptr)) {
            if (!s_valid_key (item)) {
                char *error = zsys_sprintf ("%s: network/miner_keys: '%s' is not the base64"
                                            " of a 32-byte Ed25519 public key", self->path, item);
                free (list);
                return error;
            }
            net->miner_keys = (char **) realloc (net->miner_keys,
                              (net->miner_key_count + 1) * sizeof (char *));
            net->miner_keys [net->miner_key_count++] = strdup (item);
        }
        free (list);
    }
    return NULL;
}

//  Reads the network section into a template node config.
static char *
s_read_network (zc_config_t *self, zconfig_t *root, zc_node_config_t *net)
{
    net->difficulty = 4;
    net->max_block_txs = 1000;
    net->block_interval = 30;
    net->verify_txs = true;
    net->max_message = ZC_MAX_MESSAGE;
    net->max_mempool = 100000;
    net->miner_threads = 0;
    net->miner_kernel = -1;
    zconfig_t *section = zconfig_locate (root, "network");
    if (!section)
        return NULL;
    static const char *known [] = { "difficulty", "max_block_txs", "block_interval", "tx_policy",
                                    "max_message", "max_mempool", "miners",
                                    "permissioned", "miner_keys", "miner_kernel", NULL };
    char *error = s_check_keys (self, section, "network", known);
    long long value = net->difficulty;
    if (!error && !(error = s_get_int (self, section, "network", "difficulty", 0, 32, &value)))
        net->difficulty = (int) value;
    value = (long long) net->max_block_txs;
    if (!error && !(error = s_get_int (self, section, "network", "max_block_txs", 1, 100000, &value)))
        net->max_block_txs = (size_t) value;
    value = net->block_interval;
    if (!error && !(error = s_get_int (self, section, "network", "block_interval", 0, 60000, &value)))
        net->block_interval = (int) value;
    value = (long long) net->max_message;
    if (!error && !(error = s_get_int (self, section, "network", "max_message",
                                       1024, 256 * 1024 * 1024, &value)))
        net->max_message = (size_t) value;
    value = (long long) net->max_mempool;
    if (!error && !(error = s_get_int (self, section, "network", "max_mempool", 1, 100000000, &value)))
        net->max_mempool = (size_t) value;
    value = net->miner_threads;
    if (!error && !(error = s_get_int (self, section, "network", "miners", 0, 256, &value)))
        net->miner_threads = (int) value;
    if (!error)
        error = s_get_kernel (self, section, "network", &net->miner_kernel);
    if (!error) {
        const char *policy = zconfig_get (section, "tx_policy", "verify");
        if (streq (policy, "verify"))
            net->verify_txs = true;
        else
        if (streq (policy, "open"))
            net->verify_txs = false;
        else
            error = zsys_sprintf ("%s: network/tx_policy: must be 'verify' or 'open' (got '%s')",
                                  self->path, policy);
    }
    if (!error)
        error = s_read_permissioned (self, section, net);
    return error;
}

//  Reads one node instance.
static char *
s_read_node (zc_config_t *self, zconfig_t *section, const zc_node_config_t *net)
{
    const char *name = zconfig_name (section);
    char *where = zsys_sprintf ("node/%s", name);
    static const char *known [] = { "host", "port", "data", "peers", "miners", "key",
                                    "miner_kernel", NULL };
    char *error = s_check_keys (self, section, where, known);
    zc_node_config_t *node = (zc_node_config_t *) zmalloc (sizeof (zc_node_config_t));
    *node = *net;
    node->name = strdup (name);
    node->peers = NULL;
    node->peer_count = 0;
    node->gateway = NULL;
    node->miner_keys = NULL;
    node->miner_key_count = 0;
    node->file = strdup (self->path);
    const char *key = zconfig_get (section, "key", NULL);
    if (!error && key && !s_valid_key (key))
        error = zsys_sprintf ("%s: %s/key: '%s' is not the base64 of a 32-byte Ed25519"
                              " public key (zchaind -c FILE --init prints it)",
                              self->path, where, key);
    node->pinned_key = key && !error? strdup (key): NULL;
    const char *host = zconfig_get (section, "host", "");
    const char *data = zconfig_get (section, "data", "");
    long long value = 0;
    if (!error && !*host)
        error = zsys_sprintf ("%s: %s/host: missing", self->path, where);
    if (!error && !zc_host_valid (host))
        error = zsys_sprintf ("%s: %s/host: not a host name or address", self->path, where);
    if (!error && !zconfig_locate (section, "port"))
        error = zsys_sprintf ("%s: %s/port: missing", self->path, where);
    if (!error && !(error = s_get_int (self, section, where, "port", 1, 65535, &value)))
        node->port = (int) value;
    if (!error && !*data)
        error = zsys_sprintf ("%s: %s/data: missing (the node's data folder)", self->path, where);
    value = node->miner_threads;
    if (!error && !(error = s_get_int (self, section, where, "miners", 0, 256, &value)))
        node->miner_threads = (int) value;
    if (!error)
        error = s_get_kernel (self, section, where, &node->miner_kernel);
    node->host = strdup (host);
    node->data = s_data_path (self, data);

    //  Explicit peers, comma-separated, replace the default set
    const char *peers = zconfig_get (section, "peers", NULL);
    if (!error && peers) {
        char *list = strdup (peers);
        char *saveptr = NULL;
        for (char *item = strtok_r (list, ", ", &saveptr); item && !error;
             item = strtok_r (NULL, ", ", &saveptr)) {
            if (!s_valid_address (item))
                error = zsys_sprintf ("%s: %s/peers: '%s' is not host:port", self->path, where, item);
            else {
                node->peers = (char **) realloc (node->peers, (node->peer_count + 1) * sizeof (char *));
                node->peers [node->peer_count++] = strdup (item);
            }
        }
        free (list);
        //  An empty list is still a choice: mark it so defaults are not added
        if (!error && node->peer_count == 0)
            node->peers = (char **) zmalloc (sizeof (char *));
    }
    if (!error)
        error = s_add_name (self, name);
    if (!error) {
        self->nodes = (zc_node_config_t **) realloc (self->nodes,
                      (self->node_count + 1) * sizeof (zc_node_config_t *));
        self->nodes [self->node_count++] = node;
    }
    else
        s_node_destroy (&node);
    free (where);
    return error;
}

//  True if text is an IPv4 or IPv6 address with an optional /prefix.
static bool
s_valid_cidr (const char *text)
{
    char host [64];
    const char *slash = strchr (text, '/');
    size_t length = slash? (size_t) (slash - text): strlen (text);
    if (length == 0 || length >= sizeof host)
        return false;
    memcpy (host, text, length);
    host [length] = 0;
    unsigned char address [16];
    int family = strchr (host, ':')? AF_INET6: AF_INET;
    if (inet_pton (family, host, address) != 1)
        return false;
    long long bits = 0;
    return !slash || s_parse_int (slash + 1, 0, family == AF_INET? 32: 128, &bits);
}

//  gateway/allow: the client networks the gateway serves (issue 9).
static char *
s_read_allow (zc_config_t *self, zconfig_t *section, const char *name,
              zc_service_config_t *service)
{
    if (!streq (name, "gateway"))
        return NULL;
    const char *allow = zconfig_get (section, "allow", "127.0.0.0/8, ::1");
    char *list = strdup (allow);
    char *saveptr = NULL, *error = NULL;
    for (char *item = strtok_r (list, ", ", &saveptr); item && !error;
         item = strtok_r (NULL, ", ", &saveptr)) {
        if (!s_valid_cidr (item))
            error = zsys_sprintf ("%s: gateway/allow: '%s' is not an address or"
                                  " address/prefix", self->path, item);
        else {
            service->allow = (char **) realloc (service->allow,
                             (service->allow_count + 1) * sizeof (char *));
            service->allow [service->allow_count++] = strdup (item);
        }
    }
    free (list);
    return error;
}

//  Reads the gateway or server section, if the file has it.
static char *
s_read_service (zc_config_t *self, zconfig_t *root, const char *name,
                const zc_node_config_t *net, zc_service_config_t **service_p)
{
    zconfig_t *section = zconfig_locate (root, name);
    if (!section)
        return NULL;
    static const char *known_gateway [] = { "host", "port", "data", "max_queue", "allow", NULL };
    static const char *known_server [] = { "host", "port", "data", NULL };
    const char **known = streq (name, "gateway")? known_gateway: known_server;
    char *error = s_check_keys (self, section, name, known);
    zc_service_config_t *service = (zc_service_config_t *) zmalloc (sizeof (zc_service_config_t));
    service->name = strdup (name);
    service->host = strdup (zconfig_get (section, "host", ""));
    service->data = s_data_path (self, zconfig_get (section, "data", ""));
    service->verify_txs = net->verify_txs;
    service->max_message = net->max_message;
    service->max_queue = 100000;
    long long value = 0;
    if (!error && !*service->host)
        error = zsys_sprintf ("%s: %s/host: missing", self->path, name);
    if (!error && !zc_host_valid (service->host))
        error = zsys_sprintf ("%s: %s/host: not a host name or address", self->path, name);
    if (!error && !zconfig_locate (section, "port"))
        error = zsys_sprintf ("%s: %s/port: missing", self->path, name);
    if (!error && !(error = s_get_int (self, section, name, "port", 1, 65535, &value)))
        service->port = (int) value;
    if (!error && !*service->data)
        error = zsys_sprintf ("%s: %s/data: missing (its data folder)", self->path, name);
    value = (long long) service->max_queue;
    if (!error && !(error = s_get_int (self, section, name, "max_queue", 1, 100000000, &value)))
        service->max_queue = (size_t) value;
    if (!error)
        error = s_read_allow (self, section, name, service);
    if (!error)
        error = s_add_name (self, name);
    if (error)
        s_service_destroy (&service);
    *service_p = service;
    return error;
}

#define S_MAX_FILE (1024 * 1024)     //  a config file's size, at most

//  Loads and checks the whole file.
zc_config_t *
zc_config_load (const char *path, char **error_p)
{
    char *error = NULL;
    FILE *probe = fopen (path, "r");
    if (!probe) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: cannot read: %s", path, strerror (errno));
        return NULL;
    }
    //  Read here, not with zconfig_load, which leaks its zfile on a file
    //  it cannot parse (CZMQ 4.2.1; found by fuzz/fuzz_config)
    zchunk_t *chunk = zchunk_read (probe, S_MAX_FILE + 1);
    fclose (probe);
    if (chunk && zchunk_size (chunk) > S_MAX_FILE) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: larger than %d bytes", path, S_MAX_FILE);
        zchunk_destroy (&chunk);
        return NULL;
    }
    zconfig_t *root = chunk? zconfig_chunk_load (chunk): NULL;
    zchunk_destroy (&chunk);
    if (!root) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: not a valid ZPL file (indent levels by exactly 4 spaces)", path);
        return NULL;
    }
    zc_config_t *self = (zc_config_t *) zmalloc (sizeof (zc_config_t));
    self->path = strdup (path);
    char *folder = strdup (path);
    char *slash = strrchr (folder, '/');
    if (slash)
        *(slash == folder? slash + 1: slash) = '\0';
    self->folder = realpath (slash? folder: ".", NULL);
    free (folder);
    if (!self->folder)
        error = zsys_sprintf ("%s: cannot resolve its folder: %s", path, strerror (errno));
    static const char *sections [] = { "network", "node", "gateway", "server", NULL };
    if (!error)
        error = s_check_keys (self, root, "", sections);

    zc_node_config_t net = { 0 };
    if (!error)
        error = s_read_network (self, root, &net);
    zconfig_t *nodes = zconfig_locate (root, "node");
    for (zconfig_t *node = nodes? zconfig_child (nodes): NULL; node && !error;
         node = zconfig_next (node))
        error = s_read_node (self, node, &net);
    if (!error && self->node_count == 0)
        error = zsys_sprintf ("%s: node: no node instance is described", path);
    if (!error)
        error = s_read_service (self, root, "gateway", &net, &self->gateway);
    if (!error)
        error = s_read_service (self, root, "server", &net, &self->server);

    //  The gateway speaks to every node and to the server; every node
    //  sends its confirmations to the gateway
    if (!error && self->gateway) {
        zc_service_config_t *gateway = self->gateway;
        gateway->nodes = (char **) zmalloc ((self->node_count + 1) * sizeof (char *));
        for (size_t i = 0; i < self->node_count; i++)
            gateway->nodes [gateway->node_count++] = zc_net_join (self->nodes [i]->host,
                                                                   self->nodes [i]->port);
        if (self->server)
            gateway->server = zc_net_join (self->server->host, self->server->port);
        for (size_t i = 0; i < self->node_count; i++)
            self->nodes [i]->gateway = zc_net_join (gateway->host, gateway->port);
    }

    //  Issue 9: the gateway and the server know the file's nodes and their
    //  pinned keys; every node knows which keys may sign blocks
    zc_service_config_t *services [] = { self->gateway, self->server };
    for (size_t s = 0; s < 2 && !error; s++) {
        zc_service_config_t *service = services [s];
        if (!service)
            continue;
        service->node_names = (char **) zmalloc ((self->node_count + 1) * sizeof (char *));
        service->node_keys = (char **) zmalloc ((self->node_count + 1) * sizeof (char *));
        if (!service->nodes) {
            service->nodes = (char **) zmalloc ((self->node_count + 1) * sizeof (char *));
            for (size_t i = 0; i < self->node_count; i++)
                service->nodes [service->node_count++] = zc_net_join (self->nodes [i]->host,
                                                                     self->nodes [i]->port);
        }
        for (size_t i = 0; i < self->node_count; i++) {
            service->node_names [i] = strdup (self->nodes [i]->name);
            service->node_keys [i] = self->nodes [i]->pinned_key?
                                     strdup (self->nodes [i]->pinned_key): NULL;
        }
        service->file_node_count = self->node_count;
    }
    for (size_t i = 0; i < self->node_count && !error; i++) {
        zc_node_config_t *node = self->nodes [i];
        for (size_t j = 0; j < self->node_count + net.miner_key_count; j++) {
            const char *key = j < self->node_count? self->nodes [j]->pinned_key:
                                                    net.miner_keys [j - self->node_count];
            if (!key)
                continue;
            node->miner_keys = (char **) realloc (node->miner_keys,
                               (node->miner_key_count + 1) * sizeof (char *));
            node->miner_keys [node->miner_key_count++] = strdup (key);
        }
        //  (permissioned with no key allowed yet is left to each node to
        //  say: zchaind --init must read the file before keys are pinned)
    }
    for (size_t i = 0; i < net.miner_key_count; i++)
        free (net.miner_keys [i]);
    free (net.miner_keys);

    //  Two instances on one address cannot both listen
    for (size_t i = 0; i < self->node_count && !error; i++)
        for (size_t j = i + 1; j < self->node_count && !error; j++)
            if (self->nodes [i]->port == self->nodes [j]->port
            &&  streq (self->nodes [i]->host, self->nodes [j]->host))
                error = zsys_sprintf ("%s: node/%s/port: %d is also node/%s's port", path,
                                      self->nodes [j]->name, self->nodes [j]->port,
                                      self->nodes [i]->name);

    //  By default a node's peers are every other node of the file
    for (size_t i = 0; i < self->node_count && !error; i++) {
        zc_node_config_t *node = self->nodes [i];
        if (node->peers)
            continue;
        node->peers = (char **) zmalloc ((self->node_count + 1) * sizeof (char *));
        for (size_t j = 0; j < self->node_count; j++)
            if (j != i)
                node->peers [node->peer_count++] = zc_net_join (self->nodes [j]->host,
                                                                   self->nodes [j]->port);
    }
    zconfig_destroy (&root);
    if (error) {
        if (error_p)
            *error_p = error;
        else
            free (error);
        zc_config_destroy (&self);
    }
    return self;
}

size_t
zc_config_size (zc_config_t *self)
{
    return self->name_count;
}

const char *
zc_config_name (zc_config_t *self, size_t index)
{
    return index < self->name_count? self->names [index]: NULL;
}

zc_service_config_t *
zc_config_service (zc_config_t *self, const char *name)
{
    if (self->gateway && streq (self->gateway->name, name))
        return self->gateway;
    if (self->server && streq (self->server->name, name))
        return self->server;
    return NULL;
}

zc_node_config_t *
zc_config_node (zc_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (streq (self->nodes [i]->name, name))
            return self->nodes [i];
    return NULL;
}

//  Issue 9: creates missing node keys and prints the lines that pin them.
int
zc_config_init_keys (zc_config_t *self, const char **names, size_t name_count, FILE *out)
{
    int rc = 0;
    size_t count = name_count? name_count: self->node_count;
    for (size_t i = 0; i < count; i++) {
        zc_node_config_t *node = name_count? zc_config_node (self, names [i]): self->nodes [i];
        if (!node)
            continue;                   //  the gateway or the server: no node key
        if (zsys_dir_create ("%s", node->data) != 0) {
            zc_log_error ("%s: cannot create data folder %s", node->name, node->data);
            rc = -1;
            continue;
        }
        char *path = zsys_sprintf ("%s/node.key", node->data);
        bool existed = access (path, F_OK) == 0;
        zc_keys_t *keys = zc_keys_load_or_create (path);
        if (!keys) {
            zc_log_error ("%s: %s is not a key and cannot be replaced", node->name, path);
            rc = -1;
        }
        else {
            const char *key = zc_keys_public_b64 (keys);
            fprintf (out, "#   node/%s: %s (%s)%s\n    %s\n        key = %s\n", node->name,
                     path, existed? "existing key": "new key",
                     node->pinned_key && !streq (node->pinned_key, key)?
                     " -- NOT the key the file pins": "", node->name, key);
        }
        zc_keys_destroy (&keys);
        free (path);
    }
    return rc;
}
