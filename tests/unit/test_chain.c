/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_chain.c - unit tests of zc_chain, chain choice

    Offers mined blocks to a chain and checks what it answers and the
    plans it hands back: extending the tip, known blocks, the tie-break
    between equal heights by lower hash, a reorganisation onto a longer
    branch with the mempool following it, orphans joined when their parent
    arrives, blocks that cannot fit their parent, a branch repeating a
    transaction below its fork, the bound on blocks kept aside, the
    transaction index, and zc_chain_load's link check.  A chain opened on
    a real ledger file with a small depth: blocks leaving memory but still
    known and readable, a reorganization at exactly the maximum depth and
    one a block deeper refused, a transaction confirmed long ago refused
    again, and reopening a long chain.
    =========================================================================
*/

#include "../testutil.h"
#include <inttypes.h>

//  A signed transaction with data {"tag": tag}.
static zc_tx_t *
s_tx (zc_keys_t *keys, const char *tag)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "tag", tag);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    return tx;
}

//  Distinct timestamps, so blocks with the same parent and transactions
//  still differ.
static unsigned s_clock = 0;

//  A mined block at index on prev_hash, taking ownership of txs [0..count).
static zc_block_t *
s_block_at (zc_keys_t *keys, int64_t index, const char *prev_hash, zc_tx_t **txs,
            size_t count)
{
    char timestamp [ZC_TIMESTAMP_LEN + 1];
    s_clock++;
    snprintf (timestamp, sizeof timestamp, "2024-01-01T00:%02u:%02u.%06uZ",
              (s_clock / 60) % 60, s_clock % 60, s_clock % 1000000);
    zc_block_t *block = zc_block_new (index, prev_hash, timestamp, txs, count);
    testutil_mine (block, 1, keys);
    return block;
}

//  A mined block on parent, taking ownership of txs [0..count).
static zc_block_t *
s_block (zc_keys_t *keys, zc_block_t *parent, zc_tx_t **txs, size_t count)
{
    return s_block_at (keys, zc_block_index (parent) + 1, zc_block_hash (parent),
                       txs, count);
}

//  A mined block on parent whose hash compares above (above true) or
//  below `than`, taking ownership of txs [0..count).
static zc_block_t *
s_block_vs (zc_keys_t *keys, zc_block_t *parent, zc_tx_t **txs, size_t count,
            const char *than, bool above)
{
    while (true) {
        zc_tx_t *copies [8];
        ck_assert_uint_le (count, 8);
        for (size_t i = 0; i < count; i++)
            copies [i] = zc_tx_dup (txs [i]);
        zc_block_t *block = s_block (keys, parent, copies, count);
        int order = strcmp (zc_block_hash (block), than);
        if ((above && order > 0) || (!above && order < 0)) {
            for (size_t i = 0; i < count; i++)
                zc_tx_destroy (&txs [i]);
            return block;
        }
        zc_block_destroy (&block);
    }
}

//  An independent copy of a block, as it would arrive from a peer.
static zc_block_t *
s_copy (zc_block_t *block)
{
    cJSON *json = zc_block_to_json (block);
    zc_block_t *copy = zc_block_from_json (json, NULL);
    cJSON_Delete (json);
    ck_assert_ptr_nonnull (copy);
    return copy;
}

//  Offers a copy of block, expecting result; returns the plan (or NULL).
static zc_plan_t *
s_offer (zc_chain_t *chain, zc_block_t *block, zc_chain_result_t expected)
{
    zc_plan_t *plan = (zc_plan_t *) 1;      //  must be reset by offer
    const char *error = NULL;
    zc_chain_result_t result = zc_chain_offer (chain, s_copy (block), &plan, &error);
    ck_assert_msg (result == expected, "offer of block %" PRId64 ": got %d (%s), expected %d",
                   zc_block_index (block), (int) result, error? error: "-", (int) expected);
    if (result == ZC_CHAIN_SWITCH)
        ck_assert_ptr_nonnull (plan);
    else
        ck_assert_ptr_null (plan);
    return plan;
}

//  Offers a copy of block, expects SWITCH and commits the plan.
static void
s_offer_commit (zc_chain_t *chain, zc_block_t *block)
{
    zc_plan_t *plan = s_offer (chain, block, ZC_CHAIN_SWITCH);
    zc_chain_commit (chain, &plan);
    ck_assert_ptr_null (plan);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (block));
}

//  A new chain on genesis with roomy aside bounds.
static zc_chain_t *
s_chain_new (void)
{
    zc_chain_t *chain = zc_chain_new (zc_block_genesis (), 100, 10 * 1024 * 1024);
    ck_assert_ptr_nonnull (chain);
    return chain;
}

//  A block extending the tip gives SWITCH with fork = height, one block
//  to attach and none to detach; nothing changes until commit, then the
//  height grows by one and the block's transactions are indexed.
START_TEST (test_extend_tip)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    ck_assert_int_eq (zc_chain_height (chain), 0);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (genesis));
    ck_assert (zc_chain_has_block (chain, zc_block_hash (genesis)));

    zc_tx_t *tx = s_tx (keys, "one");
    char id [ZC_HASH_HEX + 1];
    strcpy (id, zc_tx_id (tx));
    zc_block_t *one = s_block (keys, genesis, &tx, 1);
    zc_plan_t *plan = s_offer (chain, one, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 0);
    ck_assert_uint_eq (plan->detach_count, 0);
    ck_assert_uint_eq (plan->attach_count, 1);
    ck_assert_str_eq (zc_block_hash (plan->attach [0]), zc_block_hash (one));
    ck_assert_int_eq (zc_chain_height (chain), 0);
    ck_assert (!zc_chain_has_tx (chain, id));
    zc_chain_commit (chain, &plan);
    ck_assert_ptr_null (plan);
    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (one));
    ck_assert_str_eq (zc_block_hash (zc_chain_block (chain, 1)), zc_block_hash (one));
    ck_assert_ptr_null (zc_chain_block (chain, 2));
    ck_assert_ptr_null (zc_chain_block (chain, -1));
    ck_assert (zc_chain_has_tx (chain, id));
    ck_assert_uint_eq (zc_chain_aside_count (chain), 0);

    //  And again on top
    zc_block_t *two = s_block (keys, one, NULL, 0);
    plan = s_offer (chain, two, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 1);
    ck_assert_uint_eq (plan->detach_count, 0);
    ck_assert_uint_eq (plan->attach_count, 1);
    zc_chain_commit (chain, &plan);
    ck_assert_int_eq (zc_chain_height (chain), 2);

    zc_block_destroy (&one);
    zc_block_destroy (&two);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    ck_assert_ptr_null (chain);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  A block already held, on the main chain or aside, is KNOWN.
START_TEST (test_known)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, NULL, 0);
    s_offer_commit (chain, one);
    s_offer (chain, one, ZC_CHAIN_KNOWN);
    s_offer (chain, genesis, ZC_CHAIN_KNOWN);

    zc_block_t *stray = s_block_at (keys, 7, "1111111111111111111111111111111111111111111111111111111111111111",
                                    NULL, 0);
    s_offer (chain, stray, ZC_CHAIN_ORPHAN);
    s_offer (chain, stray, ZC_CHAIN_KNOWN);
    ck_assert_uint_eq (zc_chain_aside_count (chain), 1);
    ck_assert_int_eq (zc_chain_height (chain), 1);

    zc_block_destroy (&stray);
    zc_block_destroy (&one);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  Between equal heights the lower tip hash wins: a competitor with a
//  higher hash is kept aside; one with a lower hash switches, detaching
//  the old tip (which is then kept aside).
START_TEST (test_tie_break)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *tip = s_block (keys, genesis, NULL, 0);
    s_offer_commit (chain, tip);

    //  Higher hash: aside, main chain unchanged
    zc_block_t *high = s_block_vs (keys, genesis, NULL, 0, zc_block_hash (tip), true);
    s_offer (chain, high, ZC_CHAIN_ASIDE);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (tip));
    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert_uint_eq (zc_chain_aside_count (chain), 1);
    ck_assert (zc_chain_has_block (chain, zc_block_hash (high)));
    //  Aside, but its parent is on the main chain: nothing to fetch
    ck_assert (!zc_chain_aside_orphan (chain, zc_block_hash (high)));

    //  Lower hash: switch, detaching the tip
    zc_block_t *low = s_block_vs (keys, genesis, NULL, 0, zc_block_hash (tip), false);
    zc_plan_t *plan = s_offer (chain, low, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 0);
    ck_assert_uint_eq (plan->detach_count, 1);
    ck_assert_str_eq (zc_block_hash (plan->detach [0]), zc_block_hash (tip));
    ck_assert_uint_eq (plan->attach_count, 1);
    ck_assert_str_eq (zc_block_hash (plan->attach [0]), zc_block_hash (low));
    zc_chain_commit (chain, &plan);
    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (low));
    ck_assert (zc_chain_has_block (chain, zc_block_hash (tip)));
    ck_assert_uint_eq (zc_chain_aside_count (chain), 2);
    s_offer (chain, tip, ZC_CHAIN_KNOWN);

    zc_block_destroy (&tip);
    zc_block_destroy (&high);
    zc_block_destroy (&low);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  True if the mempool holds a transaction with tx's id.
static bool
s_mempool_has (zc_mempool_t *mempool, zc_tx_t *tx)
{
    return zc_mempool_lookup (mempool, zc_tx_id (tx)) != NULL;
}

//  Two blocks on a block kept aside make a longer branch: SWITCH with the
//  fork below, one block detached and two attached.  The mempool gets
//  back what only the detached block held, loses what the branch
//  confirms, and the transaction index follows the commit.
START_TEST (test_reorg)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_tx_t *tx = s_tx (keys, "one");
    zc_block_t *one = s_block (keys, genesis, &tx, 1);
    s_offer_commit (chain, one);

    //  Main block 2 holds "only-main" and "shared"
    zc_tx_t *only_main = s_tx (keys, "only-main");
    zc_tx_t *shared = s_tx (keys, "shared");
    zc_tx_t *txs [2] = { zc_tx_dup (only_main), zc_tx_dup (shared) };
    zc_block_t *two = s_block (keys, one, txs, 2);
    s_offer_commit (chain, two);

    //  Branch block 2' holds "shared" and "side-2", with a higher hash
    zc_tx_t *side2 = s_tx (keys, "side-2");
    zc_tx_t *side3 = s_tx (keys, "side-3");
    zc_tx_t *side_txs [2] = { zc_tx_dup (shared), zc_tx_dup (side2) };
    zc_block_t *two_side = s_block_vs (keys, one, side_txs, 2, zc_block_hash (two), true);
    s_offer (chain, two_side, ZC_CHAIN_ASIDE);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (two));
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (side2)));

    //  Block 3' on 2' holds "side-3": the branch is now longer
    zc_tx_t *three_txs [1] = { zc_tx_dup (side3) };
    zc_block_t *three_side = s_block (keys, two_side, three_txs, 1);
    zc_plan_t *plan = s_offer (chain, three_side, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 1);
    ck_assert_uint_eq (plan->detach_count, 1);
    ck_assert_str_eq (zc_block_hash (plan->detach [0]), zc_block_hash (two));
    ck_assert_uint_eq (plan->attach_count, 2);
    ck_assert_str_eq (zc_block_hash (plan->attach [0]), zc_block_hash (two_side));
    ck_assert_str_eq (zc_block_hash (plan->attach [1]), zc_block_hash (three_side));

    //  The mempool holds the branch's transactions (as if received) and
    //  one unrelated transaction
    zc_mempool_t *mempool = zc_mempool_new (100);
    zc_tx_t *unrelated = s_tx (keys, "unrelated");
    zc_tx_t *adds [3] = { zc_tx_dup (side2), zc_tx_dup (side3), zc_tx_dup (unrelated) };
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq (zc_mempool_add (mempool, &adds [i]), 0);
    zc_plan_update_mempool (plan, chain, mempool);
    ck_assert (s_mempool_has (mempool, only_main));
    ck_assert (!s_mempool_has (mempool, shared));
    ck_assert (!s_mempool_has (mempool, side2));
    ck_assert (!s_mempool_has (mempool, side3));
    ck_assert (s_mempool_has (mempool, unrelated));
    ck_assert_uint_eq (zc_mempool_size (mempool), 2);

    zc_chain_commit (chain, &plan);
    ck_assert_int_eq (zc_chain_height (chain), 3);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (three_side));
    ck_assert_str_eq (zc_block_hash (zc_chain_block (chain, 2)), zc_block_hash (two_side));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (shared)));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (side2)));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (side3)));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (zc_block_tx (one, 0))));
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (only_main)));
    //  The old block 2 is kept aside, so it is known
    ck_assert (zc_chain_has_block (chain, zc_block_hash (two)));
    ck_assert_uint_eq (zc_chain_aside_count (chain), 1);
    s_offer (chain, two, ZC_CHAIN_KNOWN);

    zc_mempool_destroy (&mempool);
    zc_tx_destroy (&only_main);
    zc_tx_destroy (&shared);
    zc_tx_destroy (&side2);
    zc_tx_destroy (&side3);
    zc_tx_destroy (&unrelated);
    zc_block_destroy (&one);
    zc_block_destroy (&two);
    zc_block_destroy (&two_side);
    zc_block_destroy (&three_side);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  A block whose parent is unknown is an ORPHAN kept aside; when the
//  parent arrives the chain switches to both at once.
START_TEST (test_orphan)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, NULL, 0);
    zc_block_t *two = s_block (keys, one, NULL, 0);
    zc_block_t *three = s_block (keys, two, NULL, 0);
    s_offer (chain, three, ZC_CHAIN_ORPHAN);
    s_offer (chain, two, ZC_CHAIN_ORPHAN);
    ck_assert_uint_eq (zc_chain_aside_count (chain), 2);
    ck_assert_int_eq (zc_chain_height (chain), 0);
    //  Both lack what leads to them (sync must still fetch block 1)
    ck_assert (zc_chain_aside_orphan (chain, zc_block_hash (three)));
    ck_assert (zc_chain_aside_orphan (chain, zc_block_hash (two)));
    ck_assert (!zc_chain_aside_orphan (chain, zc_block_hash (one)));     //  not held

    zc_plan_t *plan = s_offer (chain, one, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 0);
    ck_assert_uint_eq (plan->detach_count, 0);
    ck_assert_uint_eq (plan->attach_count, 3);
    ck_assert_str_eq (zc_block_hash (plan->attach [0]), zc_block_hash (one));
    ck_assert_str_eq (zc_block_hash (plan->attach [1]), zc_block_hash (two));
    ck_assert_str_eq (zc_block_hash (plan->attach [2]), zc_block_hash (three));
    zc_chain_commit (chain, &plan);
    ck_assert_int_eq (zc_chain_height (chain), 3);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (three));
    ck_assert_uint_eq (zc_chain_aside_count (chain), 0);
    ck_assert (!zc_chain_aside_orphan (chain, zc_block_hash (three)));

    zc_block_destroy (&one);
    zc_block_destroy (&two);
    zc_block_destroy (&three);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  A block whose index does not follow its parent is INVALID, whether
//  the parent is on the main chain or kept aside; the chain is unchanged.
START_TEST (test_bad_index)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, NULL, 0);
    s_offer_commit (chain, one);

    //  Parent on the main chain: too high, and at its parent's height
    const char *error = NULL;
    zc_plan_t *plan = NULL;
    zc_block_t *bad = s_block_at (keys, 5, zc_block_hash (one), NULL, 0);
    ck_assert_int_eq (zc_chain_offer (chain, s_copy (bad), &plan, &error), ZC_CHAIN_INVALID);
    ck_assert_ptr_null (plan);
    ck_assert_str_eq (error, "index does not follow its parent");
    zc_block_destroy (&bad);
    bad = s_block_at (keys, 1, zc_block_hash (one), NULL, 0);
    s_offer (chain, bad, ZC_CHAIN_INVALID);
    ck_assert (!zc_chain_has_block (chain, zc_block_hash (bad)));
    zc_block_destroy (&bad);

    //  Parent kept aside: 1' (higher hash) then a child claiming index 3
    zc_block_t *side = s_block_vs (keys, genesis, NULL, 0, zc_block_hash (one), true);
    s_offer (chain, side, ZC_CHAIN_ASIDE);
    bad = s_block_at (keys, 3, zc_block_hash (side), NULL, 0);
    error = NULL;
    ck_assert_int_eq (zc_chain_offer (chain, s_copy (bad), &plan, &error), ZC_CHAIN_INVALID);
    ck_assert_ptr_null (plan);
    ck_assert_ptr_nonnull (error);
    ck_assert_str_eq (error, "index does not follow its parent");
    ck_assert (!zc_chain_has_block (chain, zc_block_hash (bad)));
    ck_assert (zc_chain_has_block (chain, zc_block_hash (side)));

    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (one));
    zc_block_destroy (&bad);
    zc_block_destroy (&side);
    zc_block_destroy (&one);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  A bad block kept aside above the offered one (an orphan claiming the
//  wrong index) is dropped, and the good part of the branch still wins.
START_TEST (test_bad_descendant_dropped)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, NULL, 0);
    s_offer_commit (chain, one);
    zc_block_t *one_side = s_block_vs (keys, genesis, NULL, 0, zc_block_hash (one), true);
    s_offer (chain, one_side, ZC_CHAIN_ASIDE);
    zc_block_t *two_side = s_block (keys, one_side, NULL, 0);
    zc_block_t *liar = s_block_at (keys, 7, zc_block_hash (two_side), NULL, 0);
    s_offer (chain, liar, ZC_CHAIN_ORPHAN);

    zc_plan_t *plan = s_offer (chain, two_side, ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 0);
    ck_assert_uint_eq (plan->detach_count, 1);
    ck_assert_uint_eq (plan->attach_count, 2);
    ck_assert_str_eq (zc_block_hash (plan->attach [0]), zc_block_hash (one_side));
    ck_assert_str_eq (zc_block_hash (plan->attach [1]), zc_block_hash (two_side));
    ck_assert (!zc_chain_has_block (chain, zc_block_hash (liar)));
    zc_chain_commit (chain, &plan);
    ck_assert_int_eq (zc_chain_height (chain), 2);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (two_side));

    zc_block_destroy (&liar);
    zc_block_destroy (&two_side);
    zc_block_destroy (&one_side);
    zc_block_destroy (&one);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  A longer branch that repeats a transaction already confirmed below its
//  fork is not switched to; the main chain stays as it was.  The same
//  holds for a branch holding one transaction twice.
START_TEST (test_tx_below_fork)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_tx_t *tx = s_tx (keys, "in-one");
    zc_tx_t *first = zc_tx_dup (tx);
    zc_block_t *one = s_block (keys, genesis, &first, 1);
    s_offer_commit (chain, one);
    zc_block_t *two = s_block (keys, one, NULL, 0);
    s_offer_commit (chain, two);

    //  2' repeats block 1's transaction; 3' on it makes the branch longer
    zc_tx_t *repeat [1] = { zc_tx_dup (tx) };
    zc_block_t *two_side = s_block_vs (keys, one, repeat, 1, zc_block_hash (two), true);
    s_offer (chain, two_side, ZC_CHAIN_ASIDE);
    zc_block_t *three_side = s_block (keys, two_side, NULL, 0);
    const char *error = NULL;
    zc_plan_t *plan = NULL;
    zc_chain_result_t result = zc_chain_offer (chain, s_copy (three_side), &plan, &error);
    ck_assert_int_ne (result, ZC_CHAIN_SWITCH);
    ck_assert (result == ZC_CHAIN_INVALID || result == ZC_CHAIN_ASIDE);
    ck_assert_ptr_null (plan);
    ck_assert_int_eq (zc_chain_height (chain), 2);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (two));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (tx)));

    //  A branch repeating a transaction of its own: 2'' and 3'' both hold x
    zc_tx_t *x = s_tx (keys, "x");
    zc_tx_t *x1 [1] = { zc_tx_dup (x) };
    zc_tx_t *x2 [1] = { zc_tx_dup (x) };
    zc_block_t *two_other = s_block_vs (keys, one, x1, 1, zc_block_hash (two), true);
    s_offer (chain, two_other, ZC_CHAIN_ASIDE);
    zc_block_t *three_other = s_block (keys, two_other, x2, 1);
    plan = NULL;
    result = zc_chain_offer (chain, s_copy (three_other), &plan, &error);
    ck_assert_int_ne (result, ZC_CHAIN_SWITCH);
    ck_assert_ptr_null (plan);
    ck_assert_int_eq (zc_chain_height (chain), 2);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (two));
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (x)));

    zc_tx_destroy (&tx);
    zc_tx_destroy (&x);
    zc_block_destroy (&one);
    zc_block_destroy (&two);
    zc_block_destroy (&two_side);
    zc_block_destroy (&three_side);
    zc_block_destroy (&two_other);
    zc_block_destroy (&three_other);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  Blocks kept aside are bounded in count (oldest evicted first) and in
//  bytes.
START_TEST (test_aside_bounds)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = zc_chain_new (zc_block_genesis (), 4, 10 * 1024 * 1024);
    zc_block_t *orphans [10];
    for (int i = 0; i < 10; i++) {
        char parent [ZC_HASH_HEX + 1];
        char seed [16];
        snprintf (seed, sizeof seed, "parent-%d", i);
        zc_sha256_hex (seed, strlen (seed), parent);
        orphans [i] = s_block_at (keys, 5, parent, NULL, 0);
        s_offer (chain, orphans [i], ZC_CHAIN_ORPHAN);
        ck_assert_uint_le (zc_chain_aside_count (chain), 4);
    }
    ck_assert_uint_eq (zc_chain_aside_count (chain), 4);
    for (int i = 0; i < 10; i++)
        ck_assert_msg (zc_chain_has_block (chain, zc_block_hash (orphans [i])) == (i >= 6),
                       "orphan %d", i);
    ck_assert_int_eq (zc_chain_height (chain), 0);
    for (int i = 0; i < 10; i++)
        zc_block_destroy (&orphans [i]);
    zc_chain_destroy (&chain);

    //  A byte bound smaller than three blocks keeps at most two
    zc_block_t *probe = s_block_at (keys, 5, "2222222222222222222222222222222222222222222222222222222222222222",
                                    NULL, 0);
    zc_block_t *copy = s_copy (probe);
    size_t bytes = zc_block_bytes (copy);
    zc_block_destroy (&copy);
    zc_block_destroy (&probe);
    chain = zc_chain_new (zc_block_genesis (), 100, bytes * 2 + bytes / 2);
    for (int i = 0; i < 10; i++) {
        char parent [ZC_HASH_HEX + 1];
        char seed [16];
        snprintf (seed, sizeof seed, "other-%d", i);
        zc_sha256_hex (seed, strlen (seed), parent);
        zc_block_t *orphan = s_block_at (keys, 5, parent, NULL, 0);
        s_offer (chain, orphan, ZC_CHAIN_ORPHAN);
        zc_block_destroy (&orphan);
        ck_assert_uint_le (zc_chain_aside_count (chain), 2);
    }
    ck_assert_uint_ge (zc_chain_aside_count (chain), 1);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  zc_chain_has_tx follows commits, reorganisations back and forth.
START_TEST (test_has_tx)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_tx_t *a = s_tx (keys, "a");
    zc_tx_t *b = s_tx (keys, "b");
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (a)));
    zc_tx_t *with_a [1] = { zc_tx_dup (a) };
    zc_block_t *one = s_block (keys, genesis, with_a, 1);
    s_offer_commit (chain, one);
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (a)));

    //  1' holds b with a lower hash: a leaves, b enters
    zc_tx_t *with_b [1] = { zc_tx_dup (b) };
    zc_block_t *one_side = s_block_vs (keys, genesis, with_b, 1, zc_block_hash (one), false);
    s_offer_commit (chain, one_side);
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (a)));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (b)));

    //  2 on the old block 1 makes that branch longer: back again
    zc_block_t *two = s_block (keys, one, NULL, 0);
    zc_plan_t *plan = s_offer (chain, two, ZC_CHAIN_SWITCH);
    ck_assert_uint_eq (plan->detach_count, 1);
    ck_assert_uint_eq (plan->attach_count, 2);
    zc_chain_commit (chain, &plan);
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (a)));
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (b)));
    ck_assert_int_eq (zc_chain_height (chain), 2);

    zc_tx_destroy (&a);
    zc_tx_destroy (&b);
    zc_block_destroy (&one);
    zc_block_destroy (&one_side);
    zc_block_destroy (&two);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  zc_chain_load appends blocks that link to the tip and refuses (and
//  frees) those that do not.
START_TEST (test_load)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_tx_t *tx = s_tx (keys, "loaded");
    zc_tx_t *with_tx [1] = { zc_tx_dup (tx) };
    zc_block_t *one = s_block (keys, genesis, with_tx, 1);
    ck_assert_int_eq (zc_chain_load (chain, s_copy (one)), 0);
    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (tx)));

    //  Wrong prev_hash (on genesis again), wrong index, a gap
    zc_block_t *bad = s_block_at (keys, 2, zc_block_hash (genesis), NULL, 0);
    ck_assert_int_eq (zc_chain_load (chain, s_copy (bad)), -1);
    zc_block_destroy (&bad);
    bad = s_block_at (keys, 3, zc_block_hash (one), NULL, 0);
    ck_assert_int_eq (zc_chain_load (chain, s_copy (bad)), -1);
    zc_block_destroy (&bad);
    bad = s_block_at (keys, 1, zc_block_hash (genesis), NULL, 0);
    ck_assert_int_eq (zc_chain_load (chain, s_copy (bad)), -1);
    zc_block_destroy (&bad);
    ck_assert_int_eq (zc_chain_height (chain), 1);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (one));

    zc_block_t *two = s_block (keys, one, NULL, 0);
    ck_assert_int_eq (zc_chain_load (chain, s_copy (two)), 0);
    ck_assert_int_eq (zc_chain_height (chain), 2);
    //  Loaded blocks are known to offer
    s_offer (chain, one, ZC_CHAIN_KNOWN);

    zc_tx_destroy (&tx);
    zc_block_destroy (&one);
    zc_block_destroy (&two);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST

//  Abandoning a plan (the ledger write failed) leaves the main chain as it
//  was.
START_TEST (test_plan_abandoned)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_chain_t *chain = s_chain_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, NULL, 0);
    zc_plan_t *plan = s_offer (chain, one, ZC_CHAIN_SWITCH);
    zc_plan_destroy (&plan);
    ck_assert_ptr_null (plan);
    zc_plan_destroy (&plan);
    ck_assert_int_eq (zc_chain_height (chain), 0);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (genesis));

    zc_block_destroy (&one);
    zc_block_destroy (&genesis);
    zc_chain_destroy (&chain);
    zc_keys_destroy (&keys);
}
END_TEST


//  ---------------------------------------------------------------------
//  Issue 13: a chain opened on a ledger holds only its last depth + 1
//  blocks; what left memory is looked up in the ledger.

#define S_DEPTH 4                   //  a small depth, so blocks leave memory

//  Writes a plan to the ledger, then commits it, as the validator does.
static void
s_apply (zc_ledger_t *ledger, zc_chain_t *chain, zc_plan_t *plan)
{
    ck_assert_int_eq (zc_ledger_replace (ledger, plan->fork_height,
                                         plan->attach, plan->attach_count), 0);
    zc_chain_commit (chain, &plan);
}

//  Offers a copy of block to a ledger chain, expects SWITCH, applies it.
static void
s_offer_apply (zc_ledger_t *ledger, zc_chain_t *chain, zc_block_t *block)
{
    s_apply (ledger, chain, s_offer (chain, block, ZC_CHAIN_SWITCH));
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (block));
}

//  A fresh ledger in dir and a chain opened on it with depth S_DEPTH.
static zc_chain_t *
s_ledger_chain (const char *dir, zc_ledger_t **ledger_p)
{
    char *path = zsys_sprintf ("%s/ledger.sqlite3", dir);
    char *error = NULL;
    *ledger_p = zc_ledger_open (path, &error);
    ck_assert_msg (*ledger_p != NULL, "%s", error? error: "?");
    free (path);
    zc_chain_t *chain = zc_chain_open (*ledger_p, S_DEPTH, 100, 10 * 1024 * 1024, &error);
    ck_assert_msg (chain != NULL, "%s", error? error: "?");
    return chain;
}

//  Builds main blocks 1..count on the chain (and its ledger), the first
//  holding tx (taken); returns copies of them, blocks [i] at index i
//  (blocks [0] is genesis).
static zc_block_t **
s_build (zc_keys_t *keys, zc_ledger_t *ledger, zc_chain_t *chain, size_t count,
         zc_tx_t *tx)
{
    zc_block_t **blocks = (zc_block_t **) zmalloc ((count + 1) * sizeof (zc_block_t *));
    blocks [0] = zc_block_genesis ();
    for (size_t i = 1; i <= count; i++) {
        char tag [32];
        snprintf (tag, sizeof tag, "filler %zu", i);
        zc_tx_t *txs [1] = { i == 1? tx: s_tx (keys, tag) };
        blocks [i] = s_block (keys, blocks [i - 1], txs, 1);
        s_offer_apply (ledger, chain, blocks [i]);
    }
    return blocks;
}

static void
s_blocks_destroy (zc_block_t ***blocks_p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        zc_block_destroy (&(*blocks_p) [i]);
    free (*blocks_p);
    *blocks_p = NULL;
}

//  Offers a branch on parent of `length` blocks, top first so that all but
//  the last offered are orphans; returns what the last offer gave (and
//  the plan, if any).  Each branch block holds one new transaction, the
//  lowest also `extra` if not NULL.
static zc_chain_result_t
s_offer_branch (zc_keys_t *keys, zc_chain_t *chain, zc_block_t *parent, size_t length,
                zc_tx_t *extra, zc_plan_t **plan_p, const char **error_p)
{
    zc_block_t **branch = (zc_block_t **) zmalloc (length * sizeof (zc_block_t *));
    zc_block_t *below = parent;
    for (size_t i = 0; i < length; i++) {
        char tag [48];
        snprintf (tag, sizeof tag, "branch %" PRId64 " %zu", zc_block_index (parent), i);
        zc_tx_t *txs [2] = { s_tx (keys, tag), i == 0 && extra? zc_tx_dup (extra): NULL };
        branch [i] = s_block (keys, below, txs, txs [1]? 2: 1);
        below = branch [i];
    }
    for (size_t i = length; i-- > 1; ) {
        zc_plan_t *plan = NULL;
        const char *error = NULL;
        ck_assert_int_eq (zc_chain_offer (chain, s_copy (branch [i]), &plan, &error),
                          ZC_CHAIN_ORPHAN);
    }
    zc_chain_result_t result = zc_chain_offer (chain, s_copy (branch [0]), plan_p, error_p);
    s_blocks_destroy (&branch, length);
    return result;
}

//  Blocks leave memory past depth + 1 but stay readable from the ledger;
//  a reorganization exactly depth blocks deep still works after the
//  blocks below its fork left memory, and one block deeper is refused.
START_TEST (test_ledger_reorg_depth)
{
    char *dir = testutil_tempdir ();
    zc_keys_t *keys = zc_keys_new ();
    zc_ledger_t *ledger = NULL;
    zc_chain_t *chain = s_ledger_chain (dir, &ledger);
    zc_block_t **blocks = s_build (keys, ledger, chain, 12, s_tx (keys, "old"));
    ck_assert_int_eq (zc_chain_height (chain), 12);
    ck_assert_int_eq (zc_chain_lowest_held (chain), 12 - S_DEPTH);
    ck_assert_ptr_null (zc_chain_block (chain, 12 - S_DEPTH - 1));
    ck_assert_ptr_nonnull (zc_chain_block (chain, 12 - S_DEPTH));
    //  Blocks no longer held are still known and readable
    ck_assert (zc_chain_has_block (chain, zc_block_hash (blocks [2])));
    zc_block_t *read = zc_chain_read_block (chain, 2);
    ck_assert_ptr_nonnull (read);
    ck_assert_str_eq (zc_block_hash (read), zc_block_hash (blocks [2]));
    zc_block_destroy (&read);
    ck_assert_ptr_null (zc_chain_read_block (chain, 13));
    //  A block we hold only in the ledger is KNOWN when a peer sends it
    s_offer (chain, blocks [3], ZC_CHAIN_KNOWN);

    //  One deeper than the bound: refused, the chain stays
    zc_plan_t *plan = NULL;
    const char *error = NULL;
    ck_assert_int_eq (s_offer_branch (keys, chain, blocks [12 - S_DEPTH - 1], S_DEPTH + 3,
                                      NULL, &plan, &error), ZC_CHAIN_INVALID);
    ck_assert_ptr_null (plan);
    ck_assert_str_eq (error, "fork deeper than the maximum reorganization depth");
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (blocks [12]));

    //  Exactly the bound: S_DEPTH blocks rolled back, in the ledger too
    ck_assert_int_eq (s_offer_branch (keys, chain, blocks [12 - S_DEPTH], S_DEPTH + 1,
                                      NULL, &plan, &error), ZC_CHAIN_SWITCH);
    ck_assert_int_eq (plan->fork_height, 12 - S_DEPTH);
    ck_assert_uint_eq (plan->detach_count, S_DEPTH);
    ck_assert_uint_eq (plan->attach_count, S_DEPTH + 1);
    char tip [ZC_HASH_HEX + 1];
    snprintf (tip, sizeof tip, "%s", zc_block_hash (plan->attach [S_DEPTH]));
    s_apply (ledger, chain, plan);
    ck_assert_int_eq (zc_chain_height (chain), 13);
    ck_assert_str_eq (zc_chain_tip_hash (chain), tip);
    ck_assert_int_eq (zc_ledger_height (ledger), 13);
    zc_block_t *top = zc_ledger_block (ledger, 13);
    ck_assert_str_eq (zc_block_hash (top), tip);
    zc_block_destroy (&top);
    //  The detached blocks are aside now, the old ones still in the ledger
    ck_assert (zc_chain_has_block (chain, zc_block_hash (blocks [12])));
    ck_assert (zc_chain_has_block (chain, zc_block_hash (blocks [1])));

    s_blocks_destroy (&blocks, 13);
    zc_chain_destroy (&chain);
    zc_ledger_destroy (&ledger);
    zc_keys_destroy (&keys);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  A transaction confirmed long ago (its block left memory) is still in
//  the chain, and a branch that repeats it is refused.
START_TEST (test_ledger_old_tx)
{
    char *dir = testutil_tempdir ();
    zc_keys_t *keys = zc_keys_new ();
    zc_ledger_t *ledger = NULL;
    zc_chain_t *chain = s_ledger_chain (dir, &ledger);
    zc_tx_t *old = s_tx (keys, "old");
    zc_tx_t *copy = zc_tx_dup (old);
    zc_block_t **blocks = s_build (keys, ledger, chain, 3 * S_DEPTH, old);
    ck_assert_ptr_null (zc_chain_block (chain, 1));
    ck_assert (zc_chain_has_tx (chain, zc_tx_id (copy)));
    zc_tx_t *fresh = s_tx (keys, "fresh");
    ck_assert (!zc_chain_has_tx (chain, zc_tx_id (fresh)));
    zc_tx_destroy (&fresh);

    zc_plan_t *plan = NULL;
    const char *error = NULL;
    ck_assert_int_eq (s_offer_branch (keys, chain, blocks [3 * S_DEPTH - 1], 2, copy,
                                      &plan, &error), ZC_CHAIN_INVALID);
    ck_assert_str_eq (error, "transaction already in the chain");
    ck_assert_int_eq (zc_chain_height (chain), 3 * S_DEPTH);

    zc_tx_destroy (&copy);
    s_blocks_destroy (&blocks, 3 * S_DEPTH + 1);
    zc_chain_destroy (&chain);
    zc_ledger_destroy (&ledger);
    zc_keys_destroy (&keys);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  Reopening a long chain reads only its last blocks: the tip, the blocks
//  held and the lookups below them are as before the restart.
START_TEST (test_ledger_reopen)
{
    char *dir = testutil_tempdir ();
    zc_keys_t *keys = zc_keys_new ();
    zc_ledger_t *ledger = NULL;
    zc_chain_t *chain = s_ledger_chain (dir, &ledger);
    zc_tx_t *old = s_tx (keys, "old");
    char old_id [ZC_HASH_HEX + 1];
    snprintf (old_id, sizeof old_id, "%s", zc_tx_id (old));
    size_t length = 40;
    zc_block_t **blocks = s_build (keys, ledger, chain, length, old);
    zc_chain_destroy (&chain);
    zc_ledger_destroy (&ledger);

    chain = s_ledger_chain (dir, &ledger);
    ck_assert_int_eq (zc_chain_height (chain), (int64_t) length);
    ck_assert_str_eq (zc_chain_tip_hash (chain), zc_block_hash (blocks [length]));
    ck_assert_int_eq (zc_chain_lowest_held (chain), (int64_t) length - S_DEPTH);
    ck_assert (zc_chain_has_tx (chain, old_id));
    ck_assert (zc_chain_has_block (chain, zc_block_hash (blocks [1])));
    ck_assert_int_eq (zc_chain_load (chain, s_copy (blocks [1])), -1);
    //  It goes on growing where it stopped
    zc_tx_t *txs [1] = { s_tx (keys, "after") };
    zc_block_t *next = s_block (keys, blocks [length], txs, 1);
    s_offer_apply (ledger, chain, next);
    zc_block_destroy (&next);

    s_blocks_destroy (&blocks, length + 1);
    zc_chain_destroy (&chain);
    zc_ledger_destroy (&ledger);
    zc_keys_destroy (&keys);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("chain");
    TCase *tcase = tcase_create ("core");
    tcase_set_timeout (tcase, 60);
    tcase_add_test (tcase, test_extend_tip);
    tcase_add_test (tcase, test_known);
    tcase_add_test (tcase, test_tie_break);
    tcase_add_test (tcase, test_reorg);
    tcase_add_test (tcase, test_orphan);
    tcase_add_test (tcase, test_bad_index);
    tcase_add_test (tcase, test_bad_descendant_dropped);
    tcase_add_test (tcase, test_tx_below_fork);
    tcase_add_test (tcase, test_aside_bounds);
    tcase_add_test (tcase, test_has_tx);
    tcase_add_test (tcase, test_load);
    tcase_add_test (tcase, test_plan_abandoned);
    suite_add_tcase (suite, tcase);
    tcase = tcase_create ("ledger");
    tcase_set_timeout (tcase, 60);
    tcase_add_test (tcase, test_ledger_reorg_depth);
    tcase_add_test (tcase, test_ledger_old_tx);
    tcase_add_test (tcase, test_ledger_reopen);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
