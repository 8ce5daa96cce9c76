/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    testutil.h - helpers shared by the Check test programs

    Unit tests use only the Check macros; integration tests also use the
    helpers here to make temporary folders, find free loopback ports and
    wait for a condition with a deadline (never sleep-and-hope).
    =========================================================================
*/

#ifndef TESTUTIL_H_INCLUDED
#define TESTUTIL_H_INCLUDED

#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include "zchain.h"

//  Runs one suite, prints Check's summary line and returns the exit code.
static inline int
testutil_run (Suite *suite)
{
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed == 0? EXIT_SUCCESS: EXIT_FAILURE;
}

//  Makes a fresh temporary folder; caller frees the path.
static inline char *
testutil_tempdir (void)
{
    char template [] = "/tmp/zchain-test-XXXXXX";
    char *path = mkdtemp (template);
    ck_assert_ptr_nonnull (path);
    return strdup (path);
}

//  Removes a folder tree made by testutil_tempdir.
static inline void
testutil_rmdir (const char *path)
{
    char command [512];
    snprintf (command, sizeof command, "rm -rf '%s'", path);
    int rc = system (command);
    (void) rc;
}

//  The miner_id of blocks the tests mine themselves (a UUID, as a
//  block's miner_id must be).
#define TESTUTIL_MINER_ID "11111111-1111-4111-8111-111111111111"

//  Mines block at difficulty by brute force over the nonce (the plain
//  way, independent of the miner pool), then seals it with keys.
static inline void
testutil_mine (zc_block_t *block, int difficulty, zc_keys_t *keys)
{
    char *preimage = zc_block_preimage (block);
    ck_assert_ptr_nonnull (preimage);
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 24);
    memcpy (text, preimage, length);
    char hash [ZC_HASH_HEX + 1];
    for (uint64_t nonce = 0; ; nonce++) {
        int digits = snprintf (text + length, 24, "%" PRIu64, nonce);
        zc_sha256_hex (text, length + (size_t) digits, hash);
        if (zc_hash_meets (hash, difficulty)) {
            ck_assert_int_eq (zc_block_seal (block, nonce, hash, TESTUTIL_MINER_ID, keys), 0);
            break;
        }
    }
    free (text);
    free (preimage);
}

#endif
