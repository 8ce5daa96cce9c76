/*  =========================================================================
    test_sync.c - unit tests of zc_sync, the sync decisions

    Drives zc_sync with a clock of its own, as the validator does with
    zclock_mono, and checks what it asks of which peer and when mining is
    held: one request out per peer, timeouts, going deeper when a batch
    does not link, going on when it is full, shunning a peer that sent an
    invalid block, and the hold on mining that a sync keeps.
    =========================================================================
*/

#include "../testutil.h"

#define PEER_A  "127.0.0.1:13246"
#define PEER_B  "[::1]:13247"

//  A peer that is ahead is asked from our height, and mining is held.
START_TEST (test_status_ahead)
{
    zc_sync_t *sync = zc_sync_new ();
    int64_t now = 1000;
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, false, 10, now), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 0);

    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 10, now), 10);
    ck_assert_int_eq (zc_sync_hold_until (sync), now + ZC_SYNC_TIMEOUT);
    //  One request out per peer: the same news asks nothing more...
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 10, now + 1), 0);
    //  ...but another peer is asked on its own
    ck_assert_int_eq (zc_sync_status (sync, PEER_B, true, 10, now + 1), 10);
    //  A peer that never answers is asked again once its time is out
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 10, now + ZC_SYNC_TIMEOUT), 10);
    zc_sync_destroy (&sync);
    ck_assert_ptr_null (sync);
    zc_sync_destroy (&sync);
}
END_TEST

//  Our height 0: a request starts from block 1, never 0 or below.
START_TEST (test_from_at_least_one)
{
    zc_sync_t *sync = zc_sync_new ();
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 0, 5), 1);
    zc_sync_destroy (&sync);
    sync = zc_sync_new ();
    ck_assert_int_eq (zc_sync_orphan (sync, PEER_A, 3, 0, 5), 1);
    zc_sync_destroy (&sync);
}
END_TEST

//  A batch with blocks goes on from the next index (a reply may be cut
//  short by its size); an empty one ends the sync and releases mining.
START_TEST (test_batches)
{
    zc_sync_t *sync = zc_sync_new ();
    int64_t now = 100;
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 1, now), 1);
    now += 10;
    int64_t next = 1 + ZC_SYNC_BATCH;
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, ZC_SYNC_BATCH, next, now), next);
    ck_assert_int_eq (zc_sync_hold_until (sync), now + ZC_SYNC_TIMEOUT);
    now += 10;
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, 17, next + 17, now), next + 17);
    now += 10;
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, 0, next + 17, now), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 0);
    //  Answered: the peer may be asked again at once
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 300, now), 300);
    zc_sync_destroy (&sync);
}
END_TEST

//  A block without a parent asks from below the gap; while that request
//  is out, deeper gaps are remembered, and an answer whose first block
//  did not link makes the next request go one batch deeper.
START_TEST (test_orphans_go_deeper)
{
    zc_sync_t *sync = zc_sync_new ();
    int64_t now = 1000;
    //  Our height 500, the orphan at 1000: ask from just above our tip
    ck_assert_int_eq (zc_sync_orphan (sync, PEER_A, 1000, 500, now), 501 - ZC_SYNC_OVERLAP);
    //  The orphan below our height: ask from a little below it
    ck_assert_int_eq (zc_sync_orphan (sync, PEER_B, 200, 500, now), 200 - ZC_SYNC_OVERLAP);
    //  While A's request is out, an orphan at or below its start is noted
    int64_t from = 501 - ZC_SYNC_OVERLAP;
    ck_assert_int_eq (zc_sync_orphan (sync, PEER_A, from, 500, now + 1), 0);
    //  The answer did not link: go one batch deeper, holding mining
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, ZC_SYNC_BATCH, from + ZC_SYNC_BATCH, now + 2),
                      from - ZC_SYNC_BATCH);
    ck_assert_int_ne (zc_sync_hold_until (sync), 0);
    //  That one linked; the next answer is empty: done
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, 3, from - ZC_SYNC_BATCH + 3, now + 3),
                      from - ZC_SYNC_BATCH + 3);
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, 0, from - ZC_SYNC_BATCH + 3, now + 4), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 0);
    zc_sync_destroy (&sync);
}
END_TEST

//  A peer that sent an invalid block is not synced from, whatever it
//  claims, until the shun is over.
START_TEST (test_shun)
{
    zc_sync_t *sync = zc_sync_new ();
    int64_t now = 50;
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 4, now), 4);
    zc_sync_shun (sync, PEER_A, now + 1);
    //  Its pending answer is taken, but leads nowhere
    ck_assert_int_eq (zc_sync_batch (sync, PEER_A, ZC_SYNC_BATCH, 4 + ZC_SYNC_BATCH, now + 2), 0);
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 4, now + 3), 0);
    ck_assert_int_eq (zc_sync_orphan (sync, PEER_A, 9, 4, now + 3), 0);
    //  Other peers are unaffected
    ck_assert_int_eq (zc_sync_status (sync, PEER_B, true, 4, now + 3), 4);
    //  After the shun, the peer counts again
    ck_assert_int_eq (zc_sync_status (sync, PEER_A, true, 4, now + 1 + ZC_SYNC_SHUN), 4);
    zc_sync_destroy (&sync);
}
END_TEST

//  The start-up hold, and a hold that runs out reported exactly once.
START_TEST (test_hold)
{
    zc_sync_t *sync = zc_sync_new ();
    zc_sync_hold (sync, 2500);
    ck_assert_int_eq (zc_sync_hold_until (sync), 2500);
    ck_assert (!zc_sync_hold_expired (sync, 2499));
    ck_assert (zc_sync_hold_expired (sync, 2500));
    ck_assert (!zc_sync_hold_expired (sync, 2501));
    ck_assert_int_eq (zc_sync_hold_until (sync), 0);
    zc_sync_destroy (&sync);
}
END_TEST

//  The start hold ends when every peer has told its status and none is
//  ahead, not later (issue 11); a repeated status does not count twice; a
//  peer ahead turns it into a sync hold; without answers it runs out.
START_TEST (test_start_hold)
{
    zc_sync_t *sync = zc_sync_new ();
    zc_sync_hold_start (sync, 2500, 2);
    ck_assert_int_eq (zc_sync_status (sync, "a:1", false, 0, 100), 0);
    ck_assert_int_eq (zc_sync_status (sync, "a:1", false, 0, 110), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 2500);     //  b not heard yet
    ck_assert (!zc_sync_hold_expired (sync, 120));
    ck_assert_int_eq (zc_sync_status (sync, "b:1", false, 0, 130), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 130);
    ck_assert (zc_sync_hold_expired (sync, 130));
    ck_assert (!zc_sync_hold_expired (sync, 131));

    //  One peer ahead: its sync holds mining, whatever the others say
    zc_sync_hold_start (sync, 5000, 2);
    ck_assert_int_eq (zc_sync_status (sync, "a:1", true, 4, 200), 4);
    ck_assert_int_eq (zc_sync_hold_until (sync), 200 + ZC_SYNC_TIMEOUT);
    ck_assert_int_eq (zc_sync_status (sync, "b:1", false, 4, 210), 0);
    ck_assert_int_eq (zc_sync_hold_until (sync), 200 + ZC_SYNC_TIMEOUT);

    //  Peers that never answer: the hold runs its time
    zc_sync_hold_start (sync, 9000, 3);
    ck_assert_int_eq (zc_sync_status (sync, "a:1", false, 4, 8000), 0);
    ck_assert (!zc_sync_hold_expired (sync, 8999));
    ck_assert (zc_sync_hold_expired (sync, 9000));
    zc_sync_destroy (&sync);
}
END_TEST

//  Peers beyond ZC_SYNC_PEERS are not tracked: no unbounded memory from a
//  flood of addresses.
START_TEST (test_bounded)
{
    zc_sync_t *sync = zc_sync_new ();
    char address [32];
    for (int i = 0; i < ZC_SYNC_PEERS; i++) {
        snprintf (address, sizeof address, "10.0.%d.%d:1", i / 256, i % 256);
        ck_assert_int_eq (zc_sync_status (sync, address, true, 7, 1), 7);
    }
    ck_assert_int_eq (zc_sync_status (sync, "10.9.9.9:1", true, 7, 1), 0);
    zc_sync_destroy (&sync);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("sync");
    TCase *tcase = tcase_create ("sync");
    tcase_add_test (tcase, test_status_ahead);
    tcase_add_test (tcase, test_from_at_least_one);
    tcase_add_test (tcase, test_batches);
    tcase_add_test (tcase, test_orphans_go_deeper);
    tcase_add_test (tcase, test_shun);
    tcase_add_test (tcase, test_hold);
    tcase_add_test (tcase, test_start_hold);
    tcase_add_test (tcase, test_bounded);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
