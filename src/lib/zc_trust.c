/*  =========================================================================
    zc_trust - the nodes of a deployment's file, the only ones whose block
    notices count

    A node's key is pinned by the file, or learned the first time the node
    is reached at the address the file gives (trust on first use), kept in
    a file of the holder's data folder and never replaced.  Its node_id is
    learned the same way (a pong at that address), so a genuine key cannot
    speak for another node.

    Invariant: a key belongs to at most one node, and a node's key never
    changes once known; a notice verifies only if its signature does (see
    zc_notice), its key is a known node's and its node_id that node's.
    =========================================================================
*/

#include "zchain.h"
#include <errno.h>

//  String member or NULL.
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

typedef struct {
    char *name;                 //  instance name in the file
    char *address;              //  "host:port" the file gives
    char *pinned;               //  node/NAME/key, or NULL
    char *key;                  //  the key: pinned, or learned; NULL till known
    char *node_id;              //  learned from a pong at address, or NULL
} s_node_t;

struct _zc_trust_t {
    char *path;                 //  file of learned identities, or NULL
    s_node_t *nodes;            //  the file's nodes
    size_t count;               //  how many
    uint64_t refused;           //  notices refused so far
};

zc_trust_t *
zc_trust_new (const char *path)
{
    zc_trust_t *self = (zc_trust_t *) zmalloc (sizeof (zc_trust_t));
    self->path = path? strdup (path): NULL;
    return self;
}

void
zc_trust_destroy (zc_trust_t **self_p)
{
    if (self_p && *self_p) {
        zc_trust_t *self = *self_p;
        for (size_t i = 0; i < self->count; i++) {
            free (self->nodes [i].name);
            free (self->nodes [i].address);
            free (self->nodes [i].pinned);
            free (self->nodes [i].key);
            free (self->nodes [i].node_id);
        }
        free (self->nodes);
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

//  The node of that name, or NULL.
static s_node_t *
s_lookup (zc_trust_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (streq (self->nodes [i].name, name))
            return &self->nodes [i];
    return NULL;
}

void
zc_trust_add (zc_trust_t *self, const char *name, const char *address, const char *pinned)
{
    self->nodes = (s_node_t *) realloc (self->nodes, (self->count + 1) * sizeof (s_node_t));
    assert (self->nodes);
    s_node_t *node = &self->nodes [self->count++];
    memset (node, 0, sizeof *node);
    node->name = strdup (name);
    node->address = strdup (address);
    node->pinned = pinned? strdup (pinned): NULL;
    node->key = pinned? strdup (pinned): NULL;
}

//  Writes every learned identity to the file: "name key node_id" lines,
//  through a temporary file and a rename, so a crash leaves the old file
//  or the new one.
static int
s_save (zc_trust_t *self)
{
    if (!self->path)
        return 0;
    char *temp = zsys_sprintf ("%s.new", self->path);
    FILE *file = fopen (temp, "w");
    int rc = file? 0: -1;
    for (size_t i = 0; i < self->count && rc == 0; i++) {
        s_node_t *node = &self->nodes [i];
        if (node->key && node->node_id
        &&  fprintf (file, "%s %s %s\n", node->name, node->key, node->node_id) < 0)
            rc = -1;
    }
    //  No fsync: this runs on the gateway's and server's only thread, and a
    //  stalled disk must not hold their clients up; a rename survives the
    //  process being killed, as the ledger's commits do
    if (file && fflush (file) != 0)
        rc = -1;
    if (file && fclose (file) != 0)
        rc = -1;
    if (rc == 0 && rename (temp, self->path) != 0)
        rc = -1;
    if (rc != 0)
        zc_log_error ("cannot write %s: %s", self->path, strerror (errno));
    free (temp);
    return rc;
}

int
zc_trust_load (zc_trust_t *self, char **error_p)
{
    FILE *file = self->path? fopen (self->path, "r"): NULL;
    if (!file)
        return 0;                       //  nothing learned yet
    char line [512];
    int rc = 0, number = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        number++;
        char name [128], key [128], node_id [128];
        if (sscanf (line, "%127s %127s %127s", name, key, node_id) != 3) {
            rc = -1;
            if (error_p)
                *error_p = zsys_sprintf ("%s:%d: expected 'name key node_id'",
                                         self->path, number);
            break;
        }
        s_node_t *node = s_lookup (self, name);
        if (!node)
            continue;                   //  no longer in the file
        if (node->pinned && !streq (node->pinned, key)) {
            //  The file pins another key now: the pin wins, the node_id
            //  will be learned again
            continue;
        }
        free (node->key);
        node->key = strdup (key);
        free (node->node_id);
        node->node_id = strdup (node_id);
    }
    fclose (file);
    return rc;
}

int
zc_trust_learn (zc_trust_t *self, const char *address, const char *node_id,
                const char *key, char **error_p)
{
    s_node_t *node = NULL;
    for (size_t i = 0; i < self->count && !node; i++)
        if (streq (self->nodes [i].address, address))
            node = &self->nodes [i];
    if (!node)
        return 0;                       //  not a node of the file: never a source
    size_t raw_size = 0;
    uint8_t *raw = key? zc_base64_decode (key, &raw_size): NULL;
    free (raw);
    if (!key || raw_size != 32 || !node_id || !*node_id || strlen (node_id) > 64
    ||  strchr (node_id, ' ') || strchr (node_id, '\n')) {
        if (error_p)
            *error_p = zsys_sprintf ("node %s at %s does not say its key and node_id",
                                     node->name, address);
        return -1;
    }
    if (node->key && !streq (node->key, key)) {
        if (error_p)
            *error_p = zsys_sprintf ("node %s at %s presents key %s, but its key is %s (%s):"
                                     " refused", node->name, address, key, node->key,
                                     node->pinned? "pinned in the file": "learned before");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        s_node_t *other = &self->nodes [i];
        if (other != node && ((other->key && streq (other->key, key))
                          ||  (other->node_id && streq (other->node_id, node_id)))) {
            if (error_p)
                *error_p = zsys_sprintf ("node %s at %s presents the key or node_id of"
                                         " node %s: refused", node->name, address,
                                         other->name);
            return -1;
        }
    }
    if (node->key && node->node_id && streq (node->node_id, node_id))
        return 0;                       //  nothing new
    bool first = !node->key;
    free (node->key);
    node->key = strdup (key);
    free (node->node_id);
    node->node_id = strdup (node_id);
    if (first)
        zc_log_info ("learned the key of node %s at %s: %s (node_id %s)", node->name,
                   address, key, node_id);
    return s_save (self);
}

bool
zc_trust_known (zc_trust_t *self, const char *address)
{
    for (size_t i = 0; i < self->count; i++)
        if (streq (self->nodes [i].address, address))
            return self->nodes [i].key && self->nodes [i].node_id;
    return true;                        //  not ours to learn
}

size_t
zc_trust_size (zc_trust_t *self)
{
    return self->count;
}

const char *
zc_trust_address (zc_trust_t *self, size_t index)
{
    return index < self->count? self->nodes [index].address: NULL;
}

zc_trust_result_t
zc_trust_verify (zc_trust_t *self, const cJSON *notice, const char **reason_p,
                 const char **name_p)
{
    const char *reason = zc_notice_check (notice);
    if (reason) {
        *reason_p = reason;
        return ZC_TRUST_REFUSED;
    }
    const char *key = s_string (notice, "public_key");
    const char *node_id = s_string (notice, "node_id");
    bool unlearned = false;
    for (size_t i = 0; i < self->count; i++) {
        s_node_t *node = &self->nodes [i];
        if (!node->key || !node->node_id)
            unlearned = true;
        if (!node->key || !streq (node->key, key))
            continue;
        if (!node->node_id) {
            *reason_p = "the node_id of this key's node is not known yet";
            return ZC_TRUST_LATER;
        }
        if (!streq (node->node_id, node_id)) {
            *reason_p = "node_id is not the node_id of the key's node";
            return ZC_TRUST_REFUSED;
        }
        if (name_p)
            *name_p = node->name;
        return ZC_TRUST_OK;
    }
    *reason_p = "public_key is not the key of a node of the file";
    return unlearned? ZC_TRUST_LATER: ZC_TRUST_REFUSED;
}
