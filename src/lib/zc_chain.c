/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_chain - the best chain, the blocks kept aside, and chain choice

    Rule: the valid chain with the most work wins.  With one difficulty
    for the whole network every block carries the same work, so the most
    work is the greatest height.  Between chains of equal height the one
    whose tip hash is lower (as a hex string) wins, so every node picks
    the same chain at once instead of waiting for a next block that, with
    few transactions, nobody may ever mine.

    The recent main chain is held in memory, block by block, with an index
    of its transaction ids.  A chain opened on a ledger holds only its last
    depth + 1 blocks (the fork block of the deepest reorganization it will
    make, and every block such a reorganization takes off); older blocks,
    their hashes and their transactions are looked up in the ledger, which
    holds the whole main chain.  A branch that forks below the blocks held
    is refused: a reorganization deeper than depth is never made.  A chain
    made without a ledger (zc_chain_new) holds every block.

    A block that does not extend the tip is kept aside
    (bounded in count and bytes, oldest evicted first).  Whenever a block
    arrives, the best branch through it is compared with the main chain;
    a better branch is checked against its fork point (heights link up,
    no transaction already in the chain below the fork, none twice) and
    handed back as a plan.  The caller writes the plan to the ledger and
    only then commits it here, so memory never runs ahead of the file.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>
#include <inttypes.h>

struct _zc_chain_t {
    zc_ledger_t *ledger;        //  whole main chain (borrowed), or NULL
    size_t keep;                //  main blocks held at most (SIZE_MAX: all)
    int64_t base;               //  index of main [0]
    zc_block_t **main;          //  recent main chain, main [i] has index base + i
    size_t main_size;           //  blocks held: height + 1 - base
    size_t main_limit;          //  allocated slots
    zhashx_t *main_by_hash;     //  hash -> index + 1 of held main blocks
    zhashx_t *tx_index;         //  tx id -> index + 1 of its held main block
    zhashx_t *aside;            //  hash -> zc_block_t *, owned
    zlistx_t *aside_order;      //  hashes kept aside, oldest first
    size_t aside_bytes;         //  zc_block_bytes summed over aside
    size_t aside_max_count;     //  bound on blocks kept aside
    size_t aside_max_bytes;     //  bound on their bytes
};

//  A hashx key duplicator/destructor pair for string keys we own.
static void
s_free_string (void **item)
{
    free (*item);
    *item = NULL;
}

static void *
s_dup_string (const void *item)
{
    return strdup ((const char *) item);
}

//  Creates the chain with genesis as its only main block.
zc_chain_t *
zc_chain_new (zc_block_t *genesis, size_t aside_max_count, size_t aside_max_bytes)
{
    zc_chain_t *self = (zc_chain_t *) zmalloc (sizeof (zc_chain_t));
    self->keep = SIZE_MAX;
    self->main_limit = 1024;
    self->main = (zc_block_t **) zmalloc (self->main_limit * sizeof (zc_block_t *));
    self->main_by_hash = zhashx_new ();
    self->tx_index = zhashx_new ();
    self->aside = zhashx_new ();
    self->aside_order = zlistx_new ();
    zlistx_set_duplicator (self->aside_order, s_dup_string);
    zlistx_set_destructor (self->aside_order, s_free_string);
    zlistx_set_comparator (self->aside_order, (zlistx_comparator_fn *) strcmp);
    self->aside_max_count = aside_max_count;
    self->aside_max_bytes = aside_max_bytes;
    self->main [0] = genesis;
    self->main_size = 1;
    zhashx_insert (self->main_by_hash, zc_block_hash (genesis), (void *) (uintptr_t) 1);
    return self;
}

static void s_main_push (zc_chain_t *self, zc_block_t *block);

//  Opens the chain a ledger holds: checks that block 0 is this network's
//  genesis, then loads only the last depth + 1 blocks, checking each one's
//  recomputed hash, its index and its link to the block below (for the
//  lowest, the ledger's block below it).  The rest of the file is trusted
//  as written: it was checked when it was written, and zc_ledger_check
//  walks it on demand.  Start-up thus reads a bounded number of blocks
//  whatever the chain's length.
zc_chain_t *
zc_chain_open (zc_ledger_t *ledger, size_t depth, size_t aside_max_count,
               size_t aside_max_bytes, char **error_p)
{
    char *error = NULL;
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *first = zc_ledger_block (ledger, 0);
    if (!first || strcmp (zc_block_hash (first), zc_block_hash (genesis)) != 0)
        error = strdup ("block 0 is not this network's genesis block");
    zc_block_destroy (&first);
    zc_block_destroy (&genesis);
    int64_t height = zc_ledger_height (ledger);
    if (depth < 1)
        depth = 1;                      //  the tip and the block below it
    int64_t lowest = height - (int64_t) depth;
    if (lowest < 0)
        lowest = 0;
    zc_chain_t *self = (zc_chain_t *) zmalloc (sizeof (zc_chain_t));
    self->ledger = ledger;
    self->keep = depth + 1;
    self->base = lowest;
    self->main_limit = depth + 2;
    self->main = (zc_block_t **) zmalloc (self->main_limit * sizeof (zc_block_t *));
    self->main_by_hash = zhashx_new ();
    self->tx_index = zhashx_new ();
    self->aside = zhashx_new ();
    self->aside_order = zlistx_new ();
    zlistx_set_duplicator (self->aside_order, s_dup_string);
    zlistx_set_destructor (self->aside_order, s_free_string);
    zlistx_set_comparator (self->aside_order, (zlistx_comparator_fn *) strcmp);
    self->aside_max_count = aside_max_count;
    self->aside_max_bytes = aside_max_bytes;

    char link [ZC_HASH_HEX + 1] = "";
    if (!error && lowest > 0) {
        zc_block_t *below = zc_ledger_block (ledger, lowest - 1);
        if (below)
            snprintf (link, sizeof link, "%s", zc_block_hash (below));
        else
            error = zsys_sprintf ("block %" PRId64 " cannot be read", lowest - 1);
        zc_block_destroy (&below);
    }
    for (int64_t index = lowest; index <= height && !error; index++) {
        zc_block_t *block = zc_ledger_block (ledger, index);
        char hash [ZC_HASH_HEX + 1];
        if (block)
            zc_block_compute_hash (block, hash);
        if (!block)
            error = zsys_sprintf ("block %" PRId64 " cannot be read", index);
        else
        if (zc_block_index (block) != index
        ||  (index > 0 && strcmp (zc_block_prev_hash (block), link) != 0))
            error = zsys_sprintf ("block %" PRId64 " does not link to the one below", index);
        else
        if (strcmp (hash, zc_block_hash (block)) != 0)
            error = zsys_sprintf ("block %" PRId64 " does not hash to its current_hash", index);
        if (error) {
            zc_block_destroy (&block);
            break;
        }
        snprintf (link, sizeof link, "%s", zc_block_hash (block));
        s_main_push (self, block);
    }
    if (!error && self->main_size == 0)
        error = strdup ("the file holds no block");
    if (error) {
        if (error_p)
            *error_p = error;
        else
            free (error);
        zc_chain_destroy (&self);
    }
    return self;
}

//  Frees every block held and nulls the caller's pointer.
void
zc_chain_destroy (zc_chain_t **self_p)
{
    if (self_p && *self_p) {
        zc_chain_t *self = *self_p;
        for (size_t i = 0; i < self->main_size; i++)
            zc_block_destroy (&self->main [i]);
        free (self->main);
        zc_block_t *block = (zc_block_t *) zhashx_first (self->aside);
        while (block) {
            zc_block_destroy (&block);
            block = (zc_block_t *) zhashx_next (self->aside);
        }
        zhashx_destroy (&self->aside);
        zlistx_destroy (&self->aside_order);
        zhashx_destroy (&self->main_by_hash);
        zhashx_destroy (&self->tx_index);
        free (self);
        *self_p = NULL;
    }
}

//  Forgets the lowest main block held (the ledger still holds it).
static void
s_main_evict (zc_chain_t *self)
{
    assert (self->main_size > 1);
    zc_block_t *block = self->main [0];
    zhashx_delete (self->main_by_hash, zc_block_hash (block));
    for (size_t i = 0; i < zc_block_tx_count (block); i++)
        zhashx_delete (self->tx_index, zc_tx_id (zc_block_tx (block, i)));
    zc_block_destroy (&block);
    memmove (self->main, self->main + 1, (self->main_size - 1) * sizeof (zc_block_t *));
    self->main [--self->main_size] = NULL;
    self->base++;
}

//  Puts a block on top of the main chain and indexes its transactions;
//  beyond keep, the lowest block held leaves memory.
static void
s_main_push (zc_chain_t *self, zc_block_t *block)
{
    if (self->main_size >= self->keep)
        s_main_evict (self);
    if (self->main_size == self->main_limit) {
        self->main_limit *= 2;
        self->main = (zc_block_t **) realloc (self->main,
                                              self->main_limit * sizeof (zc_block_t *));
        assert (self->main);
    }
    self->main [self->main_size++] = block;
    uintptr_t slot = (uintptr_t) (zc_block_index (block) + 1);
    zhashx_insert (self->main_by_hash, zc_block_hash (block), (void *) slot);
    for (size_t i = 0; i < zc_block_tx_count (block); i++)
        zhashx_insert (self->tx_index, zc_tx_id (zc_block_tx (block, i)), (void *) slot);
}

//  Takes the tip off the main chain and un-indexes it; returns it.
static zc_block_t *
s_main_pop (zc_chain_t *self)
{
    assert (self->main_size > 1);
    zc_block_t *block = self->main [--self->main_size];
    self->main [self->main_size] = NULL;
    zhashx_delete (self->main_by_hash, zc_block_hash (block));
    for (size_t i = 0; i < zc_block_tx_count (block); i++)
        zhashx_delete (self->tx_index, zc_tx_id (zc_block_tx (block, i)));
    return block;
}

//  Keeps a block aside, evicting the oldest beyond the bounds (never the
//  block just added).
static void
s_aside_put (zc_chain_t *self, zc_block_t *block)
{
    const char *hash = zc_block_hash (block);
    zhashx_insert (self->aside, hash, block);
    zlistx_add_end (self->aside_order, (void *) hash);
    self->aside_bytes += zc_block_bytes (block);
    while ((zhashx_size (self->aside) > self->aside_max_count
        ||  self->aside_bytes > self->aside_max_bytes)
        &&  zhashx_size (self->aside) > 1) {
        char *oldest = (char *) zlistx_first (self->aside_order);
        zc_block_t *victim = (zc_block_t *) zhashx_lookup (self->aside, oldest);
        if (victim) {
            self->aside_bytes -= zc_block_bytes (victim);
            zhashx_delete (self->aside, oldest);
            zc_block_destroy (&victim);
        }
        zlistx_delete (self->aside_order, zlistx_cursor (self->aside_order));
    }
}

//  Takes a block out of the aside store, handing it to the caller.
static zc_block_t *
s_aside_take (zc_chain_t *self, const char *hash)
{
    zc_block_t *block = (zc_block_t *) zhashx_lookup (self->aside, hash);
    if (block) {
        void *handle = zlistx_find (self->aside_order, (void *) hash);
        if (handle)
            zlistx_delete (self->aside_order, handle);
        self->aside_bytes -= zc_block_bytes (block);
        zhashx_delete (self->aside, hash);
    }
    return block;
}

//  Appends a block read from the ledger at start.
int
zc_chain_load (zc_chain_t *self, zc_block_t *block)
{
    zc_block_t *tip = self->main [self->main_size - 1];
    if (self->ledger
    ||  zc_block_index (block) != zc_block_index (tip) + 1
    ||  strcmp (zc_block_prev_hash (block), zc_block_hash (tip)) != 0) {
        zc_block_destroy (&block);
        return -1;
    }
    s_main_push (self, block);
    return 0;
}

int64_t
zc_chain_height (zc_chain_t *self)
{
    return self->base + (int64_t) self->main_size - 1;
}

const char *
zc_chain_tip_hash (zc_chain_t *self)
{
    return zc_block_hash (self->main [self->main_size - 1]);
}

zc_block_t *
zc_chain_block (zc_chain_t *self, int64_t index)
{
    if (index < self->base || index > zc_chain_height (self))
        return NULL;
    return self->main [index - self->base];
}

zc_block_t *
zc_chain_read_block (zc_chain_t *self, int64_t index)
{
    if (!self->ledger || index < 0 || index > zc_chain_height (self))
        return NULL;
    return zc_ledger_block (self->ledger, index);
}

int64_t
zc_chain_lowest_held (zc_chain_t *self)
{
    return self->base;
}

//  Main-chain index of the block confirming a transaction, or -1: held
//  blocks first, then the ledger (which holds them too, so a miss in
//  memory that the ledger answers is always below the blocks held).
static int64_t
s_tx_height (zc_chain_t *self, const char *tx_id)
{
    uintptr_t slot = (uintptr_t) zhashx_lookup (self->tx_index, tx_id);
    if (slot)
        return (int64_t) slot - 1;
    return self->ledger? zc_ledger_tx_height (self->ledger, tx_id): -1;
}

bool
zc_chain_has_tx (zc_chain_t *self, const char *tx_id)
{
    return s_tx_height (self, tx_id) >= 0;
}

//  The main-chain index of a hash, or -1.
static int64_t
s_main_index (zc_chain_t *self, const char *hash)
{
    uintptr_t slot = (uintptr_t) zhashx_lookup (self->main_by_hash, hash);
    if (slot)
        return (int64_t) slot - 1;
    return self->ledger? zc_ledger_block_index (self->ledger, hash): -1;
}

bool
zc_chain_has_block (zc_chain_t *self, const char *hash)
{
    return zhashx_lookup (self->aside, hash)
        || s_main_index (self, hash) >= 0;
}

//  True if the block is held aside and what leads to it is not all held:
//  following prev_hash through the blocks aside never reaches the main
//  chain.  Such a block arriving again is news for sync (its ancestors are
//  still wanted), not a duplicate to drop.  The walk is bounded by the
//  blocks aside.
bool
zc_chain_aside_orphan (zc_chain_t *self, const char *hash)
{
    zc_block_t *block = (zc_block_t *) zhashx_lookup (self->aside, hash);
    for (size_t steps = 0; block && steps <= zhashx_size (self->aside); steps++) {
        const char *parent = zc_block_prev_hash (block);
        if (s_main_index (self, parent) >= 0)
            return false;
        zc_block_t *next = (zc_block_t *) zhashx_lookup (self->aside, parent);
        if (!next)
            return true;
        block = next;
    }
    return false;
}

size_t
zc_chain_aside_count (zc_chain_t *self)
{
    return zhashx_size (self->aside);
}

//  True if chain tip a (height, hash) beats tip b.
static bool
s_better (int64_t height_a, const char *hash_a, int64_t height_b, const char *hash_b)
{
    return height_a > height_b
        || (height_a == height_b && strcmp (hash_a, hash_b) < 0);
}

//  Best tip among block and its descendants kept aside (depth-first over
//  the aside store; bounded by its size).
static zc_block_t *
s_best_descendant (zc_chain_t *self, zc_block_t *block)
{
    zc_block_t *best = block;
    zlistx_t *todo = zlistx_new ();
    zlistx_add_end (todo, block);
    zc_block_t *current;
    while ((current = (zc_block_t *) zlistx_first (todo))) {
        zlistx_delete (todo, zlistx_cursor (todo));
        zc_block_t *child = (zc_block_t *) zhashx_first (self->aside);
        while (child) {
            if (strcmp (zc_block_prev_hash (child), zc_block_hash (current)) == 0) {
                if (s_better (zc_block_index (child), zc_block_hash (child),
                              zc_block_index (best), zc_block_hash (best)))
                    best = child;
                zlistx_add_end (todo, child);
            }
            child = (zc_block_t *) zhashx_next (self->aside);
        }
    }
    zlistx_destroy (&todo);
    return best;
}

//  Drops a block kept aside and every descendant of it.
static void
s_aside_drop_tree (zc_chain_t *self, const char *hash)
{
    zlistx_t *todo = zlistx_new ();
    zlistx_set_duplicator (todo, s_dup_string);
    zlistx_set_destructor (todo, s_free_string);
    zlistx_add_end (todo, (void *) hash);
    char *current;
    while ((current = (char *) zlistx_first (todo))) {
        char *parent = strdup (current);
        zlistx_delete (todo, zlistx_cursor (todo));
        zc_block_t *block = s_aside_take (self, parent);
        zc_block_destroy (&block);
        zc_block_t *child = (zc_block_t *) zhashx_first (self->aside);
        while (child) {
            if (strcmp (zc_block_prev_hash (child), parent) == 0)
                zlistx_add_end (todo, (void *) zc_block_hash (child));
            child = (zc_block_t *) zhashx_next (self->aside);
        }
        free (parent);
    }
    zlistx_destroy (&todo);
}

//  Frees a plan (its blocks are borrowed) and nulls the pointer.
void
zc_plan_destroy (zc_plan_t **plan_p)
{
    if (plan_p && *plan_p) {
        free ((*plan_p)->detach);
        free ((*plan_p)->attach);
        free (*plan_p);
        *plan_p = NULL;
    }
}

//  Builds the plan that makes tip the main tip, checking each branch block
//  against what lies below it.  NULL with *error_p and *bad_p (the first
//  bad block) set if the branch cannot be a chain.
static zc_plan_t *
s_plan_build (zc_chain_t *self, zc_block_t *tip, const char **error_p,
              zc_block_t **bad_p)
{
    //  Walk down from the tip to the main chain, collecting the branch
    size_t count = 0, limit = 16;
    zc_block_t **branch = (zc_block_t **) malloc (limit * sizeof (zc_block_t *));
    zc_block_t *block = tip;
    int64_t fork = -1;
    while (block) {
        if (count == limit) {
            limit *= 2;
            branch = (zc_block_t **) realloc (branch, limit * sizeof (zc_block_t *));
        }
        branch [count++] = block;
        fork = s_main_index (self, zc_block_prev_hash (block));
        if (fork >= 0)
            break;
        block = (zc_block_t *) zhashx_lookup (self->aside, zc_block_prev_hash (block));
    }
    assert (fork >= 0);                 //  callers pass connected tips only
    if (fork < self->base) {
        //  The blocks it would take off are no longer held: too deep
        *error_p = "fork deeper than the maximum reorganization depth";
        *bad_p = branch [count - 1];
        free (branch);
        return NULL;
    }
    zc_plan_t *plan = (zc_plan_t *) zmalloc (sizeof (zc_plan_t));
    plan->fork_height = fork;
    plan->attach_count = count;
    plan->attach = (zc_block_t **) malloc (count * sizeof (zc_block_t *));
    for (size_t i = 0; i < count; i++)
        plan->attach [i] = branch [count - 1 - i];
    free (branch);
    plan->detach_count = (size_t) (zc_chain_height (self) - fork);
    plan->detach = (zc_block_t **) malloc ((plan->detach_count + 1) * sizeof (zc_block_t *));
    for (size_t i = 0; i < plan->detach_count; i++)
        plan->detach [i] = self->main [fork + 1 - self->base + (int64_t) i];

    //  Each branch block sits one above its parent, and confirms no
    //  transaction that stays in the chain below the fork or came earlier
    //  in the branch
    const char *error = NULL;
    zhashx_t *seen = zhashx_new ();
    for (size_t i = 0; i < plan->attach_count && !error; i++) {
        zc_block_t *block = plan->attach [i];
        if (zc_block_index (block) != fork + 1 + (int64_t) i)
            error = "index does not follow its parent";
        for (size_t t = 0; t < zc_block_tx_count (block) && !error; t++) {
            const char *id = zc_tx_id (zc_block_tx (block, t));
            int64_t height = s_tx_height (self, id);
            if ((height >= 0 && height <= fork)
            ||  zhashx_insert (seen, id, (void *) 1) != 0)
                error = "transaction already in the chain";
        }
        if (error)
            *bad_p = block;
    }
    zhashx_destroy (&seen);
    if (error) {
        *error_p = error;
        zc_plan_destroy (&plan);
    }
    return plan;
}

//  Offers a checked block: keeps it, and reports whether the best branch
//  through it now beats the main chain.
zc_chain_result_t
zc_chain_offer (zc_chain_t *self, zc_block_t *block, zc_plan_t **plan_p,
                const char **error_p)
{
    *plan_p = NULL;
    if (zc_chain_has_block (self, zc_block_hash (block))) {
        zc_block_destroy (&block);
        return ZC_CHAIN_KNOWN;
    }
    //  A block that claims to sit below or at its parent's height can
    //  never link, whatever else arrives
    int64_t parent = s_main_index (self, zc_block_prev_hash (block));
    if (parent >= 0 && zc_block_index (block) != parent + 1) {
        *error_p = "index does not follow its parent";
        zc_block_destroy (&block);
        return ZC_CHAIN_INVALID;
    }
    const char *hash = zc_block_hash (block);
    s_aside_put (self, block);

    //  Does the block connect to the main chain through blocks kept aside?
    zc_block_t *cursor = block;
    size_t steps = 0;
    while (s_main_index (self, zc_block_prev_hash (cursor)) < 0) {
        cursor = (zc_block_t *) zhashx_lookup (self->aside, zc_block_prev_hash (cursor));
        if (!cursor || ++steps > zhashx_size (self->aside))
            return ZC_CHAIN_ORPHAN;
    }
    //  Try the best tip through this block; a bad branch block is dropped
    //  with its descendants and the next best tip is tried
    for (int attempt = 0; attempt < 8; attempt++) {
        zc_block_t *mine = (zc_block_t *) zhashx_lookup (self->aside, hash);
        if (!mine)
            return ZC_CHAIN_INVALID;
        zc_block_t *tip = s_best_descendant (self, mine);
        if (!s_better (zc_block_index (tip), zc_block_hash (tip),
                       zc_chain_height (self), zc_chain_tip_hash (self)))
            return ZC_CHAIN_ASIDE;
        zc_block_t *bad = NULL;
        zc_plan_t *plan = s_plan_build (self, tip, error_p, &bad);
        if (plan) {
            *plan_p = plan;
            return ZC_CHAIN_SWITCH;
        }
        //  Is the bad block ours or below it (ours can never link), or above?
        bool below = false;
        for (zc_block_t *up = mine; up; 
             up = (zc_block_t *) zhashx_lookup (self->aside, zc_block_prev_hash (up)))
            if (up == bad) {
                below = true;
                break;
            }
        s_aside_drop_tree (self, zc_block_hash (bad));
        if (below)
            return ZC_CHAIN_INVALID;
    }
    return ZC_CHAIN_ASIDE;
}

//  Switches the main chain to the plan's branch.
void
zc_chain_commit (zc_chain_t *self, zc_plan_t **plan_p)
{
    zc_plan_t *plan = *plan_p;
    //  Take the branch out of the aside store before anything is added to
    //  it, so no eviction can free a block the plan still names
    for (size_t i = 0; i < plan->attach_count; i++)
        s_aside_take (self, zc_block_hash (plan->attach [i]));
    zc_block_t **detached = (zc_block_t **) malloc ((plan->detach_count + 1) * sizeof (zc_block_t *));
    size_t detached_count = 0;
    while (zc_chain_height (self) > plan->fork_height)
        detached [detached_count++] = s_main_pop (self);
    for (size_t i = 0; i < plan->attach_count; i++)
        s_main_push (self, plan->attach [i]);
    for (size_t i = 0; i < detached_count; i++)
        s_aside_put (self, detached [i]);
    free (detached);
    zc_plan_destroy (plan_p);
}

//  Transactions follow the chain: attached ones leave the mempool, and
//  those only the abandoned blocks held go back to be mined again.
void
zc_plan_update_mempool (zc_plan_t *plan, zc_chain_t *chain, zc_mempool_t *mempool)
{
    zhashx_t *attached = zhashx_new ();
    for (size_t i = 0; i < plan->attach_count; i++)
        for (size_t t = 0; t < zc_block_tx_count (plan->attach [i]); t++) {
            const char *id = zc_tx_id (zc_block_tx (plan->attach [i], t));
            zhashx_insert (attached, id, (void *) 1);
            zc_mempool_remove (mempool, id);
        }
    for (size_t i = 0; i < plan->detach_count; i++)
        for (size_t t = 0; t < zc_block_tx_count (plan->detach [i]); t++) {
            zc_tx_t *tx = zc_block_tx (plan->detach [i], t);
            if (zhashx_lookup (attached, zc_tx_id (tx)))
                continue;
            zc_tx_t *copy = zc_tx_dup (tx);
            if (zc_mempool_add (mempool, &copy) != 0)
                zc_tx_destroy (&copy);
        }
    zhashx_destroy (&attached);
}
