/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_mempool.c - transactions waiting for a block, in arrival order

    The miner takes the oldest transactions first, peers and clients ask
    whether an id is already held, and a new block removes its
    transactions from anywhere in the queue.  So transactions sit in a
    zlistx in arrival order, and a zhashx maps each id to its list handle:
    add, lookup and remove are all O(1).  The pool is bounded so a flood
    of transactions cannot exhaust memory.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>

struct _zc_mempool_t {
    zlistx_t *queue;            //  zc_tx_t items, oldest first, owned
    zhashx_t *index;            //  tx id -> queue handle, not owned
    size_t max;                 //  most transactions held at once
};

//  zlistx destructor adapter, so the list owns its transactions.
static void
s_tx_destroy (void **item_p)
{
    zc_tx_destroy ((zc_tx_t **) item_p);
}

//  Creates an empty pool; max bounds it so a flood cannot exhaust memory.
zc_mempool_t *
zc_mempool_new (size_t max)
{
    zc_mempool_t *self = (zc_mempool_t *) zmalloc (sizeof (zc_mempool_t));
    self->queue = zlistx_new ();
    self->index = zhashx_new ();
    if (!self->queue || !self->index) {
        zc_mempool_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->queue, s_tx_destroy);
    self->max = max;
    return self;
}

//  Destroys the pool and every transaction still held; safe twice.
void
zc_mempool_destroy (zc_mempool_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zc_mempool_t *self = *self_p;
        //  The index borrows ids from the transactions: drop it first
        zhashx_destroy (&self->index);
        zlistx_destroy (&self->queue);
        free (self);
        *self_p = NULL;
    }
}

//  Queues a new transaction, refusing duplicates and overflow so the
//  caller can tell a peer "already known" from "pool full".
int
zc_mempool_add (zc_mempool_t *self, zc_tx_t **tx_p)
{
    assert (self);
    assert (tx_p);
    zc_tx_t *tx = *tx_p;
    assert (tx);
    const char *id = zc_tx_id (tx);
    if (zhashx_lookup (self->index, id))
        return 1;
    if (zlistx_size (self->queue) >= self->max)
        return -1;
    void *handle = zlistx_add_end (self->queue, tx);
    if (!handle)
        return -1;
    if (zhashx_insert (self->index, id, handle)) {
        //  Cannot happen after the lookup above; keep the tx with caller
        zlistx_detach (self->queue, handle);
        return -1;
    }
    *tx_p = NULL;
    return 0;
}

//  Drops a transaction a block has confirmed, wherever it is queued.
void
zc_mempool_remove (zc_mempool_t *self, const char *tx_id)
{
    assert (self);
    if (!tx_id)
        return;
    void *handle = zhashx_lookup (self->index, tx_id);
    if (handle) {
        //  Unindex before destroying: tx_id may be the transaction's own id
        zhashx_delete (self->index, tx_id);
        zlistx_delete (self->queue, handle);
    }
}

//  Finds a held transaction by id without taking it.
zc_tx_t *
zc_mempool_lookup (zc_mempool_t *self, const char *tx_id)
{
    assert (self);
    if (!tx_id)
        return NULL;
    void *handle = zhashx_lookup (self->index, tx_id);
    return handle? (zc_tx_t *) zlistx_handle_item (handle): NULL;
}

//  How many transactions are waiting.
size_t
zc_mempool_size (zc_mempool_t *self)
{
    assert (self);
    return zlistx_size (self->queue);
}

//  Copies the oldest transactions for a block template.  They stay in the
//  pool until a block that holds them is accepted and removes them.
size_t
zc_mempool_take (zc_mempool_t *self, zc_tx_t **txs, size_t max)
{
    assert (self);
    assert (txs || max == 0);
    size_t count = 0;
    zc_tx_t *tx = (zc_tx_t *) zlistx_first (self->queue);
    while (tx && count < max) {
        zc_tx_t *copy = zc_tx_dup (tx);
        if (!copy)
            break;
        txs [count++] = copy;
        tx = (zc_tx_t *) zlistx_next (self->queue);
    }
    return count;
}
