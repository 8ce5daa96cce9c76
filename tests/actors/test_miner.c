/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_miner.c - the miner pool finds nonces whose hash is right

    The pool lays out the final SHA-256 block(s) by hand and steps the
    nonce digits in place, so these tests check its answers against a
    plain SHA-256 of preimage + decimal nonce, for preimage tails that
    leave room for one final block and for two, and that a stop reaches
    every thread.
    =========================================================================
*/

#include "../testutil.h"
#include "../../src/actors/zc_actors.h"
#include <openssl/evp.h>

//  SHA-256 hex of preimage followed by the decimal nonce, the slow way.
static void
s_reference_hash (const char *preimage, uint64_t nonce, char *out)
{
    char *text = zsys_sprintf ("%s%" PRIu64, preimage, nonce);
    unsigned char digest [32];
    unsigned int size = 0;
    EVP_Digest (text, strlen (text), digest, &size, EVP_sha256 (), NULL);
    zc_hex_encode (digest, 32, out);
    free (text);
}

//  Mines one job and checks the FOUND answer against the reference.
static void
s_mine_and_check (zactor_t *miner, const char *preimage, int difficulty, uint64_t job_id)
{
    zsock_send (miner, "s8is", "JOB", job_id, difficulty, preimage);
    zsock_set_rcvtimeo (miner, 60000);
    char *command = NULL, *hash = NULL;
    uint64_t found_job = 0, nonce = 0;
    int rc = zsock_recv (miner, "s88s", &command, &found_job, &nonce, &hash);
    ck_assert_int_eq (rc, 0);
    ck_assert_ptr_nonnull (command);
    ck_assert_str_eq (command, "FOUND");
    ck_assert_uint_eq (found_job, job_id);
    char expected [65];
    s_reference_hash (preimage, nonce, expected);
    ck_assert_str_eq (hash, expected);
    ck_assert (zc_hash_meets (hash, difficulty));
    zstr_free (&command);
    zstr_free (&hash);
}

//  Preimages of every tail length 0..63 mod 64: one final block when the
//  tail and digits leave 9 bytes, two otherwise.
START_TEST (test_found_nonces_hash_right)
{
    int threads = 2;
    zactor_t *miner = zactor_new (zc_miner_actor, &threads);
    for (size_t length = 50; length < 50 + 64; length += 7) {
        char *preimage = (char *) malloc (length + 1);
        for (size_t i = 0; i < length; i++)
            preimage [i] = (char) ('a' + i % 26);
        preimage [length] = 0;
        s_mine_and_check (miner, preimage, 3, length);
        free (preimage);
    }
    zactor_destroy (&miner);
}
END_TEST

//  A real block preimage, and a difficulty whose nonces need several
//  digits, so the in-place digit stepping carries across digits.
START_TEST (test_block_preimage)
{
    int threads = 1;
    zactor_t *miner = zactor_new (zc_miner_actor, &threads);
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis), "2024-01-01T00:00:01.000000Z",
                                      NULL, 0);
    char *preimage = zc_block_preimage (block);
    s_mine_and_check (miner, preimage, 4, 1);
    free (preimage);
    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
    zactor_destroy (&miner);
}
END_TEST

//  Reads the pool's STATS: busy threads.
static int
s_busy (zactor_t *miner)
{
    zstr_send (miner, "STATS");
    uint64_t hashes = 0;
    int busy = -1;
    zsock_recv (miner, "8i", &hashes, &busy);
    return busy;
}

//  STOP reaches every thread: busy drops to 0 (polled with a deadline).
START_TEST (test_stop_reaches_threads)
{
    int threads = 2;
    zactor_t *miner = zactor_new (zc_miner_actor, &threads);
    zsock_send (miner, "s8is", "JOB", (uint64_t) 1, 64, "never met");
    int64_t deadline = zclock_mono () + 10000;
    while (s_busy (miner) != threads && zclock_mono () < deadline)
        zclock_sleep (1);
    ck_assert_int_eq (s_busy (miner), threads);
    zstr_send (miner, "STOP");
    deadline = zclock_mono () + 10000;
    while (s_busy (miner) != 0 && zclock_mono () < deadline)
        zclock_sleep (1);
    ck_assert_int_eq (s_busy (miner), 0);
    zactor_destroy (&miner);
}
END_TEST

//  Destroying the pool while its threads mine a job no one can finish
//  returns (a hang here fails on the test's timeout): zchaind's SIGTERM.
START_TEST (test_term_while_mining)
{
    int threads = 2;
    zactor_t *miner = zactor_new (zc_miner_actor, &threads);
    zsock_send (miner, "s8is", "JOB", (uint64_t) 1, 64, "never met");
    int64_t deadline = zclock_mono () + 10000;
    while (s_busy (miner) != threads && zclock_mono () < deadline)
        zclock_sleep (1);
    ck_assert_int_eq (s_busy (miner), threads);
    zactor_destroy (&miner);
    ck_assert_ptr_null (miner);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("miner");
    TCase *tcase = tcase_create ("pool");
    tcase_set_timeout (tcase, 120);
    tcase_add_test (tcase, test_found_nonces_hash_right);
    tcase_add_test (tcase, test_block_preimage);
    tcase_add_test (tcase, test_stop_reaches_threads);
    tcase_add_test (tcase, test_term_while_mining);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
