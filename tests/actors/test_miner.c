/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_miner.c - the miner pool finds nonces whose hash is right

    The pool hashes with the library's kernels (zc_pow) in many lanes and
    in an order of its own, so these tests check its answers against a
    plain SHA-256 of preimage + decimal nonce, for preimage tails that
    leave room for one final block and for two, that it finds the first
    winning nonce a brute force over the same order finds with every
    kernel and several threads, that a stop reaches every thread, and
    that a forced kernel the CPU lacks is refused at start.
    =========================================================================
*/

#include "../testutil.h"
#include "../../src/roles/zc_roles.h"
#include <openssl/evp.h>
#include <sys/wait.h>

//  A pool of threads running kernel (-1: the fastest).
static zactor_t *
s_pool_new (int threads, int kernel)
{
    zc_node_config_t config = { .miner_threads = threads, .miner_kernel = kernel };
    return zactor_new (zc_miner_actor, &config);
}

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
    ck_assert_int_eq (zc_mine_msg_send_job (miner, job_id, difficulty, preimage), 0);
    zsock_set_rcvtimeo (miner, 60000);
    bool malformed = true;
    zc_mine_msg_t *found = zc_mine_msg_recv (miner, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (found);
    ck_assert_int_eq (zc_mine_msg_id (found), ZC_MINE_FOUND);
    ck_assert_uint_eq (zc_mine_msg_job_id (found), job_id);
    const char *hash = zc_mine_msg_hash (found);
    char expected [65];
    s_reference_hash (preimage, zc_mine_msg_nonce (found), expected);
    ck_assert_str_eq (hash, expected);
    ck_assert (zc_hash_meets (hash, difficulty));
    zc_mine_msg_destroy (&found);
}

//  Preimages of every tail length 0..63 mod 64: one final block when the
//  tail and digits leave 9 bytes, two otherwise.
START_TEST (test_found_nonces_hash_right)
{
    zactor_t *miner = s_pool_new (2, -1);
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
    zactor_t *miner = s_pool_new (1, -1);
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
    ck_assert_int_eq (zc_mine_msg_send_stats (miner), 0);
    bool malformed = true;
    zc_mine_msg_t *stats = zc_mine_msg_recv (miner, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (stats);
    ck_assert_int_eq (zc_mine_msg_id (stats), ZC_MINE_STATS_REPLY);
    int busy = zc_mine_msg_busy (stats);
    zc_mine_msg_destroy (&stats);
    return busy;
}

//  STOP reaches every thread: busy drops to 0 (polled with a deadline).
START_TEST (test_stop_reaches_threads)
{
    int threads = 2;
    zactor_t *miner = s_pool_new (threads, -1);
    zc_mine_msg_send_job (miner, 1, 64, "never met");
    int64_t deadline = zclock_mono () + 10000;
    while (s_busy (miner) != threads && zclock_mono () < deadline)
        zclock_sleep (1);
    ck_assert_int_eq (s_busy (miner), threads);
    zc_mine_msg_send_stop (miner);
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
    zactor_t *miner = s_pool_new (threads, -1);
    zc_mine_msg_send_job (miner, 1, 64, "never met");
    int64_t deadline = zclock_mono () + 10000;
    while (s_busy (miner) != threads && zclock_mono () < deadline)
        zclock_sleep (1);
    ck_assert_int_eq (s_busy (miner), threads);
    zactor_destroy (&miner);
    ck_assert_ptr_null (miner);
}
END_TEST


//  The first nonce of the search order whose hash meets difficulty, by
//  brute force: plain SHA-256 over each nonce of the order in turn.
static uint64_t
s_brute_force (const char *preimage, int difficulty)
{
    size_t length = strlen (preimage);
    zc_pow_t *order = zc_pow_new (ZC_POW_PORTABLE, preimage, length, difficulty);
    uint64_t winner = UINT64_MAX;
    for (uint64_t chunk = 0; chunk < zc_pow_chunks (order) && winner == UINT64_MAX; chunk++) {
        uint64_t from, to;
        zc_pow_chunk (order, chunk, &from, &to);
        for (uint64_t nonce = from; nonce < to && winner == UINT64_MAX; nonce++) {
            char hash [65];
            s_reference_hash (preimage, nonce, hash);
            if (zc_hash_meets (hash, difficulty))
                winner = nonce;
        }
    }
    zc_pow_destroy (&order);
    return winner;
}

//  Every kernel this machine runs, one and four threads: the pool's nonce
//  is the brute force's, for tails whose order starts at 0 (one block),
//  at 10^15 (tail 49: spill first) and elsewhere (tails 55, 60, 63).
//  Difficulty 2 keeps it short where the idle-priority threads get
//  little CPU (a loaded machine, ASan); several chunks still race.
START_TEST (test_first_winning_nonce)
{
    size_t lengths [] = { 10, 64 + 49, 64 + 55, 128 + 60, 63 };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths [0]; i++) {
        char *preimage = (char *) malloc (lengths [i] + 1);
        for (size_t j = 0; j < lengths [i]; j++)
            preimage [j] = (char) ('A' + (j * 7 + i) % 26);
        preimage [lengths [i]] = 0;
        int difficulty = 2;
        uint64_t expected = s_brute_force (preimage, difficulty);
        ck_assert_uint_ne (expected, UINT64_MAX);
        for (int kernel = 0; kernel < ZC_POW_KERNELS; kernel++) {
            if (zc_pow_kernel_unusable (kernel))
                continue;
            for (int threads = 1; threads <= 4; threads += 3) {
                zactor_t *miner = s_pool_new (threads, kernel);
                zc_mine_msg_send_kernel (miner);
                bool malformed = true;
                zc_mine_msg_t *reply = zc_mine_msg_recv (miner, &malformed);
                ck_assert_ptr_nonnull (reply);
                ck_assert_int_eq (zc_mine_msg_id (reply), ZC_MINE_KERNEL_REPLY);
                ck_assert_str_eq (zc_mine_msg_kernel_name (reply), zc_pow_kernel_name (kernel));
                ck_assert_int_eq (zc_mine_msg_lanes (reply), zc_pow_kernel_lanes (kernel));
                zc_mine_msg_destroy (&reply);
                zc_mine_msg_send_job (miner, 9, difficulty, preimage);
                zsock_set_rcvtimeo (miner, 60000);
                reply = zc_mine_msg_recv (miner, &malformed);
                ck_assert_ptr_nonnull (reply);
                ck_assert_int_eq (zc_mine_msg_id (reply), ZC_MINE_FOUND);
                ck_assert_uint_eq (zc_mine_msg_job_id (reply), 9);
                uint64_t nonce = zc_mine_msg_nonce (reply);
                const char *hash = zc_mine_msg_hash (reply);
                if (nonce != expected)
                    ck_abort_msg ("length %zu, kernel %s, %d threads: nonce %" PRIu64
                                  ", brute force %" PRIu64, lengths [i],
                                  zc_pow_kernel_name (kernel), threads, nonce, expected);
                char reference [65];
                s_reference_hash (preimage, nonce, reference);
                ck_assert_str_eq (hash, reference);
                zc_mine_msg_destroy (&reply);
                zactor_destroy (&miner);
            }
        }
        free (preimage);
    }
}
END_TEST

//  Writes a one-node config file asking for a kernel; returns its path.
static char *
s_kernel_config (const char *folder, const char *network_kernel, const char *node_kernel)
{
    char *path = zsys_sprintf ("%s/zchain.conf", folder);
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "network\n    difficulty = 1\n");
    if (network_kernel)
        fprintf (file, "    miner_kernel = %s\n", network_kernel);
    fprintf (file, "node\n    n1\n        host = 127.0.0.1\n        port = 1\n"
                   "        data = %s/n1\n", folder);
    if (node_kernel)
        fprintf (file, "        miner_kernel = %s\n", node_kernel);
    ck_assert_int_eq (fclose (file), 0);
    return path;
}

//  Loads the config; returns the error (caller frees) or NULL.
static char *
s_config_error (const char *path, int *kernel_p)
{
    char *error = NULL;
    zc_config_t *config = zc_config_load (path, &error);
    if (config) {
        *kernel_p = zc_config_node (config, "n1")->miner_kernel;
        zc_config_destroy (&config);
    }
    return error;
}

//  A forced kernel the CPU lacks is refused with file, key and problem;
//  one it has is taken; auto is the fastest.  The CPU "lacks" a kernel
//  through ZCHAIN_POW_DISABLE, so this runs on any machine; zchaind
//  itself refuses to start with the same message.
START_TEST (test_forced_kernel_refused)
{
    char *folder = testutil_tempdir ();
    int kernel = -2;
    char *path = s_kernel_config (folder, "auto", NULL);
    ck_assert_ptr_null (s_config_error (path, &kernel));
    ck_assert_int_eq (kernel, -1);
    free (path);
    path = s_kernel_config (folder, NULL, "portable");
    ck_assert_ptr_null (s_config_error (path, &kernel));
    ck_assert_int_eq (kernel, ZC_POW_PORTABLE);
    free (path);
    path = s_kernel_config (folder, "sse9", NULL);
    char *error = s_config_error (path, &kernel);
    ck_assert_ptr_nonnull (error);
    ck_assert_ptr_nonnull (strstr (error, "network/miner_kernel"));
    ck_assert_ptr_nonnull (strstr (error, "'sse9'"));
    free (error);
    free (path);

    setenv ("ZCHAIN_POW_DISABLE", "avx512", 1);
    path = s_kernel_config (folder, "avx512", NULL);
    error = s_config_error (path, &kernel);
    ck_assert_ptr_nonnull (error);
    ck_assert_ptr_nonnull (strstr (error, path));
    ck_assert_ptr_nonnull (strstr (error, "network/miner_kernel"));
    ck_assert_ptr_nonnull (strstr (error, "cannot use avx512"));
    free (error);
    free (path);
    path = s_kernel_config (folder, "portable", "avx512");
    error = s_config_error (path, &kernel);
    ck_assert_ptr_nonnull (error);
    ck_assert_ptr_nonnull (strstr (error, "node/n1/miner_kernel"));
    free (error);
    //  zchaind refuses to start, naming the key
    const char *zchaind = getenv ("ZCHAIND");
    if (zchaind) {
        char *command = zsys_sprintf ("'%s' -c '%s' > '%s/out' 2>&1", zchaind, path, folder);
        int status = system (command);
        ck_assert (WIFEXITED (status) && WEXITSTATUS (status) != 0);
        free (command);
        char *out = zsys_sprintf ("%s/out", folder);
        FILE *file = fopen (out, "r");
        ck_assert_ptr_nonnull (file);
        char text [1024] = "";
        size_t size = fread (text, 1, sizeof text - 1, file);
        text [size] = 0;
        fclose (file);
        ck_assert_msg (strstr (text, "node/n1/miner_kernel: cannot use avx512"), "zchaind said: %s", text);
        free (out);
    }
    unsetenv ("ZCHAIN_POW_DISABLE");
    free (path);
    testutil_rmdir (folder);
    free (folder);
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
    tcase_add_test (tcase, test_first_winning_nonce);
    tcase_add_test (tcase, test_forced_kernel_refused);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
