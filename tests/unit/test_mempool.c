/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_mempool.c - unit tests of zc_mempool, the pending transactions

    Checks the bound, duplicate detection, O(1) removal from anywhere in
    the queue without disturbing arrival order, and that take hands out
    copies of the oldest transactions.  Transactions are built from JSON
    (shape only), since the pool never looks at signatures.
    =========================================================================
*/

#include "../testutil.h"

//  A distinct, well-shaped transaction numbered n.
static zc_tx_t *
s_tx_new (int n)
{
    char text [128];
    snprintf (text, sizeof text,
              "{\"sender\":\"sender-%d\",\"data\":{\"n\":%d},\"signature\":\"sig-%d\"}",
              n, n, n);
    cJSON *json = cJSON_Parse (text);
    ck_assert_ptr_nonnull (json);
    const char *error = NULL;
    zc_tx_t *tx = zc_tx_from_json (json, &error);
    cJSON_Delete (json);
    ck_assert_msg (tx != NULL, "zc_tx_from_json: %s", error? error: "?");
    return tx;
}

//  Adds transaction n and returns its id (copied into id).
static void
s_add (zc_mempool_t *pool, int n, char *id)
{
    zc_tx_t *tx = s_tx_new (n);
    strcpy (id, zc_tx_id (tx));
    ck_assert_int_eq (zc_mempool_add (pool, &tx), 0);
    ck_assert_ptr_null (tx);
}

//  Checks that take returns exactly ids, in order, as copies.
static void
s_expect_order (zc_mempool_t *pool, char ids [][ZC_HASH_HEX + 1], size_t count)
{
    zc_tx_t *txs [16];
    ck_assert_uint_le (count, 16);
    size_t taken = zc_mempool_take (pool, txs, 16);
    ck_assert_uint_eq (taken, count);
    for (size_t index = 0; index < taken; index++) {
        ck_assert_str_eq (zc_tx_id (txs [index]), ids [index]);
        //  A copy, not the pool's own object
        ck_assert_ptr_ne (txs [index], zc_mempool_lookup (pool, ids [index]));
        zc_tx_destroy (&txs [index]);
    }
}

START_TEST (test_add_lookup)
{
    zc_mempool_t *pool = zc_mempool_new (10);
    ck_assert_uint_eq (zc_mempool_size (pool), 0);
    zc_tx_t *tx = s_tx_new (1);
    zc_tx_t *original = tx;
    char id [ZC_HASH_HEX + 1];
    strcpy (id, zc_tx_id (tx));
    ck_assert_ptr_null (zc_mempool_lookup (pool, id));
    ck_assert_int_eq (zc_mempool_add (pool, &tx), 0);
    ck_assert_ptr_null (tx);
    ck_assert_uint_eq (zc_mempool_size (pool), 1);
    ck_assert_ptr_eq (zc_mempool_lookup (pool, id), original);
    ck_assert_ptr_null (zc_mempool_lookup (pool, "0000"));
    ck_assert_ptr_null (zc_mempool_lookup (pool, NULL));
    zc_mempool_destroy (&pool);
    ck_assert_ptr_null (pool);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_duplicate)
{
    zc_mempool_t *pool = zc_mempool_new (10);
    char id [ZC_HASH_HEX + 1];
    s_add (pool, 1, id);
    zc_tx_t *again = s_tx_new (1);
    ck_assert_str_eq (zc_tx_id (again), id);
    ck_assert_int_eq (zc_mempool_add (pool, &again), 1);
    ck_assert_ptr_nonnull (again);       //  left with the caller
    ck_assert_uint_eq (zc_mempool_size (pool), 1);
    zc_tx_destroy (&again);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_full)
{
    zc_mempool_t *pool = zc_mempool_new (3);
    char ids [3][ZC_HASH_HEX + 1];
    for (int n = 0; n < 3; n++)
        s_add (pool, n, ids [n]);
    zc_tx_t *extra = s_tx_new (99);
    ck_assert_int_eq (zc_mempool_add (pool, &extra), -1);
    ck_assert_ptr_nonnull (extra);
    ck_assert_uint_eq (zc_mempool_size (pool), 3);
    //  A duplicate of a held one is still reported as held, not full
    zc_tx_t *again = s_tx_new (1);
    ck_assert_int_eq (zc_mempool_add (pool, &again), 1);
    zc_tx_destroy (&again);
    //  Room again after a removal
    zc_mempool_remove (pool, ids [0]);
    ck_assert_int_eq (zc_mempool_add (pool, &extra), 0);
    ck_assert_ptr_null (extra);
    ck_assert_uint_eq (zc_mempool_size (pool), 3);
    zc_mempool_destroy (&pool);

    //  A pool of 0 holds nothing
    pool = zc_mempool_new (0);
    extra = s_tx_new (5);
    ck_assert_int_eq (zc_mempool_add (pool, &extra), -1);
    zc_tx_destroy (&extra);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_remove)
{
    zc_mempool_t *pool = zc_mempool_new (10);
    char ids [2][ZC_HASH_HEX + 1];
    s_add (pool, 1, ids [0]);
    s_add (pool, 2, ids [1]);
    zc_mempool_remove (pool, ids [0]);
    ck_assert_uint_eq (zc_mempool_size (pool), 1);
    ck_assert_ptr_null (zc_mempool_lookup (pool, ids [0]));
    ck_assert_ptr_nonnull (zc_mempool_lookup (pool, ids [1]));
    //  Unknown and repeated removals are harmless
    zc_mempool_remove (pool, ids [0]);
    zc_mempool_remove (pool, "not-an-id");
    zc_mempool_remove (pool, NULL);
    ck_assert_uint_eq (zc_mempool_size (pool), 1);
    //  Removing by the transaction's own id string
    zc_mempool_remove (pool, zc_tx_id (zc_mempool_lookup (pool, ids [1])));
    ck_assert_uint_eq (zc_mempool_size (pool), 0);
    ck_assert_ptr_null (zc_mempool_lookup (pool, ids [1]));
    //  Re-adding a removed transaction works
    s_add (pool, 1, ids [0]);
    ck_assert_uint_eq (zc_mempool_size (pool), 1);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_take_order)
{
    zc_mempool_t *pool = zc_mempool_new (10);
    char ids [5][ZC_HASH_HEX + 1];
    for (int n = 0; n < 5; n++)
        s_add (pool, n, ids [n]);
    s_expect_order (pool, ids, 5);
    //  take copies: the pool still holds everything
    ck_assert_uint_eq (zc_mempool_size (pool), 5);

    //  Fewer than held: the oldest
    zc_tx_t *txs [2];
    ck_assert_uint_eq (zc_mempool_take (pool, txs, 2), 2);
    ck_assert_str_eq (zc_tx_id (txs [0]), ids [0]);
    ck_assert_str_eq (zc_tx_id (txs [1]), ids [1]);
    zc_tx_destroy (&txs [0]);
    zc_tx_destroy (&txs [1]);
    ck_assert_uint_eq (zc_mempool_take (pool, txs, 0), 0);
    zc_mempool_destroy (&pool);

    pool = zc_mempool_new (10);
    ck_assert_uint_eq (zc_mempool_take (pool, txs, 2), 0);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_remove_middle)
{
    zc_mempool_t *pool = zc_mempool_new (10);
    char ids [5][ZC_HASH_HEX + 1];
    for (int n = 0; n < 5; n++)
        s_add (pool, n, ids [n]);
    zc_mempool_remove (pool, ids [2]);
    char expected [4][ZC_HASH_HEX + 1];
    strcpy (expected [0], ids [0]);
    strcpy (expected [1], ids [1]);
    strcpy (expected [2], ids [3]);
    strcpy (expected [3], ids [4]);
    s_expect_order (pool, expected, 4);

    //  Remove head and tail too; a new one goes to the end
    zc_mempool_remove (pool, ids [0]);
    zc_mempool_remove (pool, ids [4]);
    char late [ZC_HASH_HEX + 1];
    s_add (pool, 7, late);
    strcpy (expected [0], ids [1]);
    strcpy (expected [1], ids [3]);
    strcpy (expected [2], late);
    s_expect_order (pool, expected, 3);
    zc_mempool_destroy (&pool);
}
END_TEST

START_TEST (test_destroy_with_contents)
{
    //  Run under valgrind or ASan: nothing may leak
    zc_mempool_t *pool = zc_mempool_new (100);
    char id [ZC_HASH_HEX + 1];
    for (int n = 0; n < 50; n++)
        s_add (pool, n, id);
    ck_assert_uint_eq (zc_mempool_size (pool), 50);
    zc_mempool_destroy (&pool);
    ck_assert_ptr_null (pool);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("mempool");
    TCase *tcase = tcase_create ("core");
    tcase_add_test (tcase, test_add_lookup);
    tcase_add_test (tcase, test_duplicate);
    tcase_add_test (tcase, test_full);
    tcase_add_test (tcase, test_remove);
    tcase_add_test (tcase, test_take_order);
    tcase_add_test (tcase, test_remove_middle);
    tcase_add_test (tcase, test_destroy_with_contents);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
