/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_ledger.c - unit tests of zc_ledger, the node's SQLite file

    Uses real SQLite files in a fresh temporary folder per test: creation
    in WAL mode with genesis, the seed's table columns, writing mined
    blocks and reading them back unchanged, transaction rows and their
    timestamps, a reorganisation, all-or-nothing refusal of blocks that do
    not link, reopening, and a clean error for an impossible path.  A
    second sqlite3 handle looks at the file from outside.
    =========================================================================
*/

#include "../testutil.h"
#include <inttypes.h>
#include <sqlite3.h>
#include <sys/stat.h>

#define S_RECEIVED "2024-03-04T05:06:07.080910Z"

//  A mined block on parent holding `count` signed txs with data
//  {"tag": tag, "n": i}, each received at S_RECEIVED.
static zc_block_t *
s_block (zc_keys_t *keys, zc_block_t *parent, const char *tag, size_t count)
{
    zc_tx_t *txs [8];
    ck_assert_uint_le (count, 8);
    for (size_t i = 0; i < count; i++) {
        cJSON *data = cJSON_CreateObject ();
        cJSON_AddStringToObject (data, "tag", tag);
        cJSON_AddNumberToObject (data, "n", (double) i);
        txs [i] = zc_tx_new_signed (keys, data);
        cJSON_Delete (data);
        ck_assert_ptr_nonnull (txs [i]);
        zc_tx_set_received (txs [i], S_RECEIVED);
    }
    char timestamp [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (timestamp);
    zc_block_t *block = zc_block_new (zc_block_index (parent) + 1, zc_block_hash (parent),
                                      timestamp, txs, count);
    testutil_mine (block, 1, keys);
    return block;
}

//  Asserts that two blocks are the same in every field and transaction.
static void
s_assert_same (zc_block_t *one, zc_block_t *two)
{
    ck_assert_ptr_nonnull (one);
    ck_assert_ptr_nonnull (two);
    ck_assert_int_eq (zc_block_index (one), zc_block_index (two));
    ck_assert_str_eq (zc_block_hash (one), zc_block_hash (two));
    ck_assert_str_eq (zc_block_prev_hash (one), zc_block_prev_hash (two));
    ck_assert_str_eq (zc_block_timestamp (one), zc_block_timestamp (two));
    ck_assert_uint_eq (zc_block_nonce (one), zc_block_nonce (two));
    ck_assert_str_eq (zc_block_miner_id (one), zc_block_miner_id (two));
    ck_assert_str_eq (zc_block_signature (one), zc_block_signature (two));
    ck_assert_str_eq (zc_block_public_key_pem (one), zc_block_public_key_pem (two));
    ck_assert_uint_eq (zc_block_tx_count (one), zc_block_tx_count (two));
    for (size_t i = 0; i < zc_block_tx_count (one); i++) {
        zc_tx_t *a = zc_block_tx (one, i);
        zc_tx_t *b = zc_block_tx (two, i);
        ck_assert_str_eq (zc_tx_id (a), zc_tx_id (b));
        ck_assert_str_eq (zc_tx_sender (a), zc_tx_sender (b));
        ck_assert_str_eq (zc_tx_data (a), zc_tx_data (b));
        ck_assert_str_eq (zc_tx_signature (a), zc_tx_signature (b));
    }
}

//  Reads block index from the ledger and compares it with expected.
static void
s_assert_stored (zc_ledger_t *ledger, int64_t index, zc_block_t *expected)
{
    zc_block_t *stored = zc_ledger_block (ledger, index);
    s_assert_same (stored, expected);
    zc_block_destroy (&stored);
}

//  Path of the ledger file inside dir; caller frees.
static char *
s_path (const char *dir)
{
    return zsys_sprintf ("%s/ledger.db", dir);
}

//  Runs a one-value query through a separate handle; caller frees.
static char *
s_query (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    char *result = NULL;
    if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0))
        result = strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return result;
}

//  Asserts that a table has (at least) the named columns.
static void
s_assert_columns (const char *path, const char *table, const char **names, size_t count)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char *sql = zsys_sprintf ("PRAGMA table_info(%s)", table);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    zlistx_t *columns = zlistx_new ();
    zlistx_set_duplicator (columns, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor (columns, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator (columns, (zlistx_comparator_fn *) strcmp);
    while (sqlite3_step (stmt) == SQLITE_ROW)
        zlistx_add_end (columns, (void *) sqlite3_column_text (stmt, 1));
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    zstr_free (&sql);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg (zlistx_find (columns, (void *) names [i]) != NULL,
                       "table %s has no column %s", table, names [i]);
    zlistx_destroy (&columns);
}

//  A new file is created in WAL mode holding only genesis, and passes
//  SQLite's integrity check.
START_TEST (test_open_creates)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    struct stat info;
    ck_assert_int_ne (stat (path, &info), 0);
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (path, &error);
    ck_assert_msg (ledger != NULL, "open: %s", error? error: "?");
    ck_assert_ptr_null (error);
    ck_assert_int_eq (stat (path, &info), 0);
    ck_assert_int_eq (zc_ledger_height (ledger), 0);
    ck_assert_int_eq (zc_ledger_tx_count (ledger), 0);
    zc_block_t *genesis = zc_block_genesis ();
    s_assert_stored (ledger, 0, genesis);
    ck_assert_ptr_null (zc_ledger_block (ledger, 1));
    ck_assert_ptr_null (zc_ledger_block (ledger, -1));

    char *mode = s_query (path, "PRAGMA journal_mode");
    ck_assert_ptr_nonnull (mode);
    ck_assert_str_eq (mode, "wal");
    free (mode);
    char *integrity = s_query (path, "PRAGMA integrity_check");
    ck_assert_str_eq (integrity, "ok");
    free (integrity);

    zc_block_destroy (&genesis);
    zc_ledger_destroy (&ledger);
    ck_assert_ptr_null (ledger);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  The tables carry the seed's columns.
START_TEST (test_schema)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    const char *blocks [] = { "index", "timestamp", "prev_hash", "current_hash", "nonce",
                              "miner_id", "signature", "public_key_pem" };
    const char *transactions [] = { "id", "block_hash", "sender", "data", "signature",
                                    "start_timestamp", "end_timestamp" };
    s_assert_columns (path, "blocks", blocks, sizeof blocks / sizeof blocks [0]);
    s_assert_columns (path, "transactions", transactions,
                      sizeof transactions / sizeof transactions [0]);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  Two mined blocks written at fork 0 read back identical, transactions
//  in block order; their rows carry received and confirmed times.
START_TEST (test_replace_and_read)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *blocks [2];
    blocks [0] = s_block (keys, genesis, "one", 3);
    blocks [1] = s_block (keys, blocks [0], "two", 2);
    char before [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (before);

    ck_assert_int_eq (zc_ledger_replace (ledger, 0, blocks, 2), 0);
    ck_assert_int_eq (zc_ledger_height (ledger), 2);
    ck_assert_int_eq (zc_ledger_tx_count (ledger), 5);
    s_assert_stored (ledger, 0, genesis);
    s_assert_stored (ledger, 1, blocks [0]);
    s_assert_stored (ledger, 2, blocks [1]);

    //  Read back, a block still hashes the same and passes every check
    zc_block_t *stored = zc_ledger_block (ledger, 1);
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (stored, hash);
    ck_assert_str_eq (hash, zc_block_hash (blocks [0]));
    ck_assert_ptr_null (zc_block_check (stored, 1, 10, true, NULL, NULL));
    ck_assert_str_eq (zc_tx_received (zc_block_tx (stored, 0)), S_RECEIVED);
    ck_assert_str_eq (zc_tx_data (zc_block_tx (stored, 2)), "{\"n\":2,\"tag\":\"one\"}");
    zc_block_destroy (&stored);

    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < zc_block_tx_count (blocks [b]); i++) {
            zc_tx_t *tx = zc_block_tx (blocks [b], i);
            ck_assert (zc_ledger_has_tx (ledger, zc_tx_id (tx)));
            //  The row, seen from outside
            char *sql = zsys_sprintf (
                "SELECT block_hash || '|' || sender || '|' || data || '|' || signature"
                " FROM transactions WHERE id = '%s'", zc_tx_id (tx));
            char *row = s_query (path, sql);
            char *expected = zsys_sprintf ("%s|%s|%s|%s", zc_block_hash (blocks [b]),
                                           zc_tx_sender (tx), zc_tx_data (tx),
                                           zc_tx_signature (tx));
            ck_assert_str_eq (row, expected);
            free (row);
            zstr_free (&expected);
            zstr_free (&sql);
            //  start_timestamp is when it was received, end when confirmed
            sql = zsys_sprintf ("SELECT start_timestamp FROM transactions WHERE id = '%s'",
                                zc_tx_id (tx));
            char *start = s_query (path, sql);
            zstr_free (&sql);
            ck_assert_str_eq (start, S_RECEIVED);
            sql = zsys_sprintf ("SELECT end_timestamp FROM transactions WHERE id = '%s'",
                                zc_tx_id (tx));
            char *end = s_query (path, sql);
            zstr_free (&sql);
            ck_assert_ptr_nonnull (end);
            ck_assert (zc_timestamp_valid (end));
            ck_assert_int_ge (strcmp (end, before), 0);
            free (start);
            free (end);
        }
    ck_assert (!zc_ledger_has_tx (ledger, "0000000000000000000000000000000000000000000000000000000000000000"));
    char *integrity = s_query (path, "PRAGMA integrity_check");
    ck_assert_str_eq (integrity, "ok");
    free (integrity);

    zc_block_destroy (&blocks [0]);
    zc_block_destroy (&blocks [1]);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  Transaction data of every JSON kind (awkward numbers, escapes,
//  non-ASCII, nesting) is stored as canonical text and read back to the
//  same canonical text, so the block read back hashes the same.
START_TEST (test_data_roundtrip)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    const char *texts [] = {
        "{\"big\":1e21,\"small\":1e-7,\"f\":0.1,\"neg\":-0,\"max\":9007199254740993}",
        "\"quote \\\" backslash \\\\ tab \\t nul \\u0000 line \\u2028 e\\u0301 \\ud83d\\ude00\"",
        "[null,true,false,[],{},{\"\":\"\"},-1.5e300]",
        "{\"b\":{\"z\":1,\"a\":[2,{\"y\":3,\"x\":4}]},\"a\":\"\\u00e9\"}",
    };
    size_t count = sizeof texts / sizeof texts [0];
    zc_tx_t *txs [4];
    for (size_t i = 0; i < count; i++) {
        cJSON *data = cJSON_Parse (texts [i]);
        ck_assert_msg (data != NULL, "not JSON: %s", texts [i]);
        txs [i] = zc_tx_new_signed (keys, data);
        cJSON_Delete (data);
        ck_assert_ptr_nonnull (txs [i]);
    }
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis),
                                      "2024-01-01T00:00:01.000000Z", txs, count);
    testutil_mine (block, 1, keys);
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, &block, 1), 0);
    zc_block_t *stored = zc_ledger_block (ledger, 1);
    s_assert_same (stored, block);
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (stored, hash);
    ck_assert_str_eq (hash, zc_block_hash (block));
    ck_assert_ptr_null (zc_block_check (stored, 1, 10, true, NULL, NULL));
    zc_block_destroy (&stored);

    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  A replace at fork 1 swaps block 2 for 2' and adds 3': the old block's
//  transactions go, the new ones come, block 1 stays.
START_TEST (test_reorg)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *main [2];
    main [0] = s_block (keys, genesis, "one", 2);
    main [1] = s_block (keys, main [0], "two", 2);
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, main, 2), 0);

    zc_block_t *branch [2];
    branch [0] = s_block (keys, main [0], "two-prime", 1);
    branch [1] = s_block (keys, branch [0], "three-prime", 2);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, branch, 2), 0);
    ck_assert_int_eq (zc_ledger_height (ledger), 3);
    ck_assert_int_eq (zc_ledger_tx_count (ledger), 5);
    s_assert_stored (ledger, 1, main [0]);
    s_assert_stored (ledger, 2, branch [0]);
    s_assert_stored (ledger, 3, branch [1]);
    for (size_t i = 0; i < 2; i++) {
        ck_assert (zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (main [0], i))));
        ck_assert (!zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (main [1], i))));
        ck_assert (zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (branch [1], i))));
    }
    ck_assert (zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (branch [0], 0))));
    char *sql = zsys_sprintf ("SELECT COUNT(*) FROM blocks WHERE current_hash = '%s'",
                              zc_block_hash (main [1]));
    char *count = s_query (path, sql);
    ck_assert_str_eq (count, "0");
    free (count);
    zstr_free (&sql);

    //  And back again: a shorter replace at fork 1 truncates to height 2
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, &main [1], 1), 0);
    ck_assert_int_eq (zc_ledger_height (ledger), 2);
    ck_assert_int_eq (zc_ledger_tx_count (ledger), 4);
    s_assert_stored (ledger, 2, main [1]);
    ck_assert_ptr_null (zc_ledger_block (ledger, 3));
    char *integrity = s_query (path, "PRAGMA integrity_check");
    ck_assert_str_eq (integrity, "ok");
    free (integrity);

    for (size_t i = 0; i < 2; i++) {
        zc_block_destroy (&main [i]);
        zc_block_destroy (&branch [i]);
    }
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  Asserts the ledger still holds exactly main [0..count) above genesis.
static void
s_assert_unchanged (zc_ledger_t *ledger, zc_block_t **main, size_t count, int64_t txs)
{
    ck_assert_int_eq (zc_ledger_height (ledger), (int64_t) count);
    ck_assert_int_eq (zc_ledger_tx_count (ledger), txs);
    for (size_t i = 0; i < count; i++)
        s_assert_stored (ledger, (int64_t) i + 1, main [i]);
}

//  A replace whose blocks do not link (wrong prev_hash, wrong index, a
//  fork above the tip, a bad second block, a transaction already below
//  the fork) fails and changes nothing, not even the blocks it would
//  have dropped.
START_TEST (test_replace_refused)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *main [2];
    main [0] = s_block (keys, genesis, "one", 2);
    main [1] = s_block (keys, main [0], "two", 1);
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, main, 2), 0);
    s_assert_unchanged (ledger, main, 2, 3);

    //  Wrong prev_hash: a block 2 built on genesis's hash
    zc_tx_t *tx = NULL;
    zc_block_t *bad = zc_block_new (2, zc_block_hash (genesis), "2024-01-01T00:00:05.000000Z",
                                    &tx, 0);
    testutil_mine (bad, 1, keys);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, &bad, 1), -1);
    s_assert_unchanged (ledger, main, 2, 3);
    zc_block_destroy (&bad);

    //  Wrong index: links to block 1 but claims index 3
    bad = zc_block_new (3, zc_block_hash (main [0]), "2024-01-01T00:00:05.000000Z", &tx, 0);
    testutil_mine (bad, 1, keys);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, &bad, 1), -1);
    s_assert_unchanged (ledger, main, 2, 3);
    zc_block_destroy (&bad);

    //  Fork above the tip
    zc_block_t *three = s_block (keys, main [1], "three", 1);
    ck_assert_int_eq (zc_ledger_replace (ledger, 5, &three, 1), -1);
    s_assert_unchanged (ledger, main, 2, 3);

    //  A good first block followed by one that does not link: all or nothing
    zc_block_t *pair [2];
    pair [0] = s_block (keys, main [0], "two-prime", 1);
    pair [1] = s_block (keys, main [0], "stray", 1);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, pair, 2), -1);
    s_assert_unchanged (ledger, main, 2, 3);
    ck_assert (!zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (pair [0], 0))));

    //  A block 2' repeating a transaction of block 1 (below the fork)
    zc_tx_t *repeat = zc_tx_dup (zc_block_tx (main [0], 0));
    bad = zc_block_new (2, zc_block_hash (main [0]), "2024-01-01T00:00:06.000000Z", &repeat, 1);
    testutil_mine (bad, 1, keys);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, &bad, 1), -1);
    s_assert_unchanged (ledger, main, 2, 3);
    zc_block_destroy (&bad);

    //  The file is still sound and still takes a good block
    char *integrity = s_query (path, "PRAGMA integrity_check");
    ck_assert_str_eq (integrity, "ok");
    free (integrity);
    ck_assert_int_eq (zc_ledger_replace (ledger, 2, &three, 1), 0);
    ck_assert_int_eq (zc_ledger_height (ledger), 3);

    zc_block_destroy (&three);
    zc_block_destroy (&pair [0]);
    zc_block_destroy (&pair [1]);
    zc_block_destroy (&main [0]);
    zc_block_destroy (&main [1]);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  Closing and reopening keeps every block and transaction, and does not
//  write genesis a second time.
START_TEST (test_reopen)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *main [2];
    main [0] = s_block (keys, genesis, "one", 1);
    main [1] = s_block (keys, main [0], "two", 2);
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, main, 2), 0);
    zc_ledger_destroy (&ledger);

    char *error = NULL;
    ledger = zc_ledger_open (path, &error);
    ck_assert_msg (ledger != NULL, "reopen: %s", error? error: "?");
    s_assert_stored (ledger, 0, genesis);
    s_assert_unchanged (ledger, main, 2, 3);
    ck_assert (zc_ledger_has_tx (ledger, zc_tx_id (zc_block_tx (main [1], 1))));
    zc_block_t *stored = zc_ledger_block (ledger, 2);
    ck_assert_str_eq (zc_tx_received (zc_block_tx (stored, 1)), S_RECEIVED);
    zc_block_destroy (&stored);
    char *count = s_query (path, "SELECT COUNT(*) FROM blocks");
    ck_assert_str_eq (count, "3");
    free (count);
    char *integrity = s_query (path, "PRAGMA integrity_check");
    ck_assert_str_eq (integrity, "ok");
    free (integrity);

    zc_block_destroy (&main [0]);
    zc_block_destroy (&main [1]);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    free (path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST

//  A path in a folder that does not exist gives NULL and a message naming
//  the path, not a crash; a NULL error_p is allowed.
START_TEST (test_open_bad_path)
{
    char *dir = testutil_tempdir ();
    char *path = zsys_sprintf ("%s/no/such/folder/ledger.db", dir);
    char *error = NULL;
    zc_ledger_t *ledger = zc_ledger_open (path, &error);
    ck_assert_ptr_null (ledger);
    ck_assert_ptr_nonnull (error);
    ck_assert_msg (strstr (error, path) != NULL, "message: %s", error);
    free (error);
    ck_assert_ptr_null (zc_ledger_open (path, NULL));
    zstr_free (&path);

    //  A file that is not SQLite is refused the same way
    path = zsys_sprintf ("%s/junk.db", dir);
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    for (int i = 0; i < 200; i++)
        fputs ("this is not a database file at all\n", file);
    fclose (file);
    error = NULL;
    ledger = zc_ledger_open (path, &error);
    ck_assert_ptr_null (ledger);
    ck_assert_ptr_nonnull (error);
    free (error);
    zstr_free (&path);
    testutil_rmdir (dir);
    free (dir);
}
END_TEST


//  ---------------------------------------------------------------------
//  Issue 13: lookups by hash and transaction id, and the whole-file check

//  Runs one statement through a separate handle (to damage a file).
static void
s_exec_outside (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
}

//  zc_ledger_block_index and zc_ledger_tx_height answer from the file,
//  and follow a reorganization.
START_TEST (test_lookups)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *main [2];
    main [0] = s_block (keys, genesis, "one", 1);
    main [1] = s_block (keys, main [0], "two", 2);
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, main, 2), 0);
    ck_assert_int_eq (zc_ledger_block_index (ledger, zc_block_hash (genesis)), 0);
    ck_assert_int_eq (zc_ledger_block_index (ledger, zc_block_hash (main [1])), 2);
    ck_assert_int_eq (zc_ledger_tx_height (ledger, zc_tx_id (zc_block_tx (main [0], 0))), 1);
    ck_assert_int_eq (zc_ledger_tx_height (ledger, zc_tx_id (zc_block_tx (main [1], 1))), 2);
    ck_assert_int_eq (zc_ledger_block_index (ledger, "no such hash"), -1);
    ck_assert_int_eq (zc_ledger_tx_height (ledger, "no such id"), -1);
    //  Block 2 rolled back: neither it nor its transactions are found
    zc_block_t *side = s_block (keys, main [0], "side", 1);
    ck_assert_int_eq (zc_ledger_replace (ledger, 1, &side, 1), 0);
    ck_assert_int_eq (zc_ledger_block_index (ledger, zc_block_hash (main [1])), -1);
    ck_assert_int_eq (zc_ledger_tx_height (ledger, zc_tx_id (zc_block_tx (main [1], 0))), -1);
    ck_assert_int_eq (zc_ledger_tx_height (ledger, zc_tx_id (zc_block_tx (side, 0))), 2);

    zc_block_destroy (&side);
    zc_block_destroy (&main [0]);
    zc_block_destroy (&main [1]);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    zc_ledger_destroy (&ledger);
    testutil_rmdir (dir);
    free (path);
    free (dir);
}
END_TEST

//  zc_ledger_check passes a sound file and names the first damaged block
//  however deep it lies, and a chain opened on the file (which checks
//  only the last blocks) refuses a damaged tip.
START_TEST (test_check)
{
    char *dir = testutil_tempdir ();
    char *path = s_path (dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *parent = zc_block_genesis ();
    for (int i = 1; i <= 30; i++) {
        char tag [16];
        snprintf (tag, sizeof tag, "b%d", i);
        zc_block_t *block = s_block (keys, parent, tag, 2);
        ck_assert_int_eq (zc_ledger_replace (ledger, i - 1, &block, 1), 0);
        zc_block_destroy (&parent);
        parent = block;
    }
    zc_block_destroy (&parent);
    int64_t checked = -1;
    char *error = NULL;
    ck_assert_int_eq (zc_ledger_check (ledger, 1, 8, true, &checked, &error), 0);
    ck_assert_ptr_null (error);
    ck_assert_int_eq (checked, 30);
    //  A stricter network's rules are not met by these blocks
    ck_assert_int_eq (zc_ledger_check (ledger, 1, 1, true, NULL, &error), -1);
    ck_assert_str_eq (error, "block 1: too many transactions");
    zstr_free (&error);
    zc_ledger_destroy (&ledger);

    //  A transaction altered in block 3, far below the tip
    s_exec_outside (path, "UPDATE transactions SET data = '{\"tag\":\"forged\"}'"
                          " WHERE block_hash = (SELECT current_hash FROM blocks"
                          " WHERE \"index\" = 3) AND position = 0");
    ledger = zc_ledger_open (path, NULL);
    zc_chain_t *chain = zc_chain_open (ledger, 4, 10, 1024 * 1024, &error);
    ck_assert_ptr_nonnull (chain);          //  start-up looks at the last blocks only
    zc_chain_destroy (&chain);
    ck_assert_int_eq (zc_ledger_check (ledger, 1, 8, true, &checked, &error), -1);
    ck_assert_int_eq (checked, 3);
    ck_assert_str_eq (error, "block 3: current_hash does not match the block's contents");
    zstr_free (&error);
    zc_ledger_destroy (&ledger);

    //  The tip's link broken: start-up refuses the file
    s_exec_outside (path, "UPDATE blocks SET prev_hash = current_hash WHERE \"index\" = 30");
    ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_null (zc_chain_open (ledger, 4, 10, 1024 * 1024, &error));
    ck_assert_str_eq (error, "block 30 does not link to the one below");
    zstr_free (&error);
    zc_ledger_destroy (&ledger);

    zc_keys_destroy (&keys);
    testutil_rmdir (dir);
    free (path);
    free (dir);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("ledger");
    TCase *tcase = tcase_create ("core");
    tcase_set_timeout (tcase, 60);
    tcase_add_test (tcase, test_open_creates);
    tcase_add_test (tcase, test_schema);
    tcase_add_test (tcase, test_replace_and_read);
    tcase_add_test (tcase, test_data_roundtrip);
    tcase_add_test (tcase, test_reorg);
    tcase_add_test (tcase, test_replace_refused);
    tcase_add_test (tcase, test_reopen);
    tcase_add_test (tcase, test_open_bad_path);
    tcase_add_test (tcase, test_lookups);
    tcase_add_test (tcase, test_check);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
