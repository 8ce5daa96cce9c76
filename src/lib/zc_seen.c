/*  =========================================================================
    zc_seen - a bounded set of ids held validly, oldest forgotten first

    A node's listener keeps the ids (transaction ids, block hashes) its
    validator has accepted, so that a relayed copy of one is dropped
    before it is parsed into an object, canonicalized or hashed.  Only an
    id whose object was verified and kept is ever added: a copy that fails
    leaves no trace here, so a forged copy arriving first cannot make the
    genuine one look known.  An id is the SHA-256 of the whole object, so
    a copy claiming a held id is that object or a forgery that could never
    replace it: dropping it loses nothing.

    Invariant: at most `capacity` ids; adding one more forgets the oldest.
    =========================================================================
*/

#include "zchain.h"

struct _zc_seen_t {
    zhashx_t *ids;              //  id -> its slot in ring (unused value)
    char (*ring) [ZC_HASH_HEX + 1];     //  ids in the order added
    size_t capacity;            //  slots in ring
    size_t next;                //  slot the next id goes in
    size_t count;               //  slots in use
};

zc_seen_t *
zc_seen_new (size_t capacity)
{
    zc_seen_t *self = (zc_seen_t *) zmalloc (sizeof (zc_seen_t));
    self->capacity = capacity? capacity: 1;
    self->ring = zmalloc (self->capacity * sizeof *self->ring);
    self->ids = zhashx_new ();
    return self;
}

void
zc_seen_destroy (zc_seen_t **self_p)
{
    if (*self_p) {
        zc_seen_t *self = *self_p;
        zhashx_destroy (&self->ids);
        free (self->ring);
        free (self);
        *self_p = NULL;
    }
}

void
zc_seen_add (zc_seen_t *self, const char *id)
{
    if (!zc_hash_valid (id) || zhashx_lookup (self->ids, id))
        return;
    char *slot = self->ring [self->next];
    if (self->count == self->capacity)
        zhashx_delete (self->ids, slot);    //  the oldest goes
    else
        self->count++;
    memcpy (slot, id, ZC_HASH_HEX + 1);
    zhashx_insert (self->ids, slot, slot);
    self->next = (self->next + 1) % self->capacity;
}

bool
zc_seen_has (zc_seen_t *self, const char *id)
{
    return id && zhashx_lookup (self->ids, id) != NULL;
}

size_t
zc_seen_size (zc_seen_t *self)
{
    return self->count;
}
