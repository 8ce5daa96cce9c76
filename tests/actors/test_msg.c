/*  =========================================================================
    test_msg.c - every typed inner command survives the trip (issue 11):
    listener <-> validator (zc_msg), validator <-> ledger writer and its
    events (zc_ledger_msg), the miner pool (zc_mine_msg), listener ->
    notifier (zc_notices_msg), and the bridge's link (zc_link)

    Each zc_msg_send_* is received by zc_msg_recv over the kind of inproc
    PAIR the actors use, and every field comes back as sent; an object
    (transaction, block) arrives as the same object, owned by the
    receiver; a frame that is not one of ours is refused, not guessed at.
    =========================================================================
*/

#include "../testutil.h"
#include "../../src/actors/zc_actors.h"

static zsock_t *s_out, *s_in;

//  A new endpoint for each test: ZeroMQ releases an inproc name only once
//  its reaper has closed the socket, so with CK_FORK=no (valgrind) the
//  next test could not bind the same name at once
static void
s_setup (void)
{
    static int tests;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-msg-%d", tests++);
    s_in = zsock_new (ZMQ_PAIR);
    ck_assert_int_eq (zsock_bind (s_in, "%s", endpoint), 0);
    s_out = zsock_new (ZMQ_PAIR);
    ck_assert_int_eq (zsock_connect (s_out, "%s", endpoint), 0);
    zsock_set_rcvtimeo (s_in, 5000);
}

static void
s_teardown (void)
{
    zsock_destroy (&s_out);
    zsock_destroy (&s_in);
}

static zc_msg_t *
s_recv (zc_msg_id_t id)
{
    bool malformed = true;
    zc_msg_t *msg = zc_msg_recv (s_in, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_msg_id (msg), id);
    return msg;
}

static zc_tx_t *
s_signed_tx (zc_keys_t *keys)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "item", "test");
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    return tx;
}

START_TEST (test_tx)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_signed_tx (keys);
    char id [ZC_HASH_HEX + 1];
    snprintf (id, sizeof id, "%s", zc_tx_id (tx));
    ck_assert_int_eq (zc_msg_send_tx (s_out, 42, "127.0.0.1:5000", tx), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_TX);
    ck_assert_uint_eq (zc_msg_conn (msg), 42);
    ck_assert_str_eq (zc_msg_address (msg), "127.0.0.1:5000");
    zc_tx_t *got = zc_msg_take_tx (msg);
    ck_assert_ptr_eq (got, tx);         //  the same object, now ours
    ck_assert_str_eq (zc_tx_id (got), id);
    ck_assert_ptr_null (zc_msg_take_tx (msg));
    zc_msg_destroy (&msg);
    ck_assert_ptr_null (msg);
    zc_tx_destroy (&got);

    //  Not taken: destroyed with the message (ASan's leak check sees it)
    zc_msg_send_tx (s_out, 0, "relay", s_signed_tx (keys));
    msg = s_recv (ZC_MSG_TX);
    ck_assert_uint_eq (zc_msg_conn (msg), 0);
    zc_msg_destroy (&msg);
    zc_keys_destroy (&keys);
}
END_TEST

START_TEST (test_block)
{
    zc_block_t *block = zc_block_genesis ();
    ck_assert_ptr_nonnull (block);
    ck_assert_int_eq (zc_msg_send_block (s_out, 7, "10.0.0.1:1", "10.0.0.2:2", block), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_BLOCK);
    ck_assert_uint_eq (zc_msg_conn (msg), 7);
    ck_assert_str_eq (zc_msg_address (msg), "10.0.0.1:1");
    ck_assert_str_eq (zc_msg_peer (msg), "10.0.0.2:2");
    zc_block_t *got = zc_msg_take_block (msg);
    ck_assert_ptr_eq (got, block);
    zc_msg_destroy (&msg);
    zc_block_destroy (&got);

    //  An unknown sender: peer is ""
    zc_msg_send_block (s_out, 0, "a:1", "", zc_block_genesis ());
    msg = s_recv (ZC_MSG_BLOCK);
    ck_assert_str_eq (zc_msg_peer (msg), "");
    zc_msg_destroy (&msg);
}
END_TEST

START_TEST (test_synced)
{
    int64_t big = (INT64_C (1) << 53) + 5;
    ck_assert_int_eq (zc_msg_send_synced (s_out, "h:9", 500, big), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_SYNCED);
    ck_assert_str_eq (zc_msg_address (msg), "h:9");
    ck_assert_int_eq (zc_msg_count (msg), 500);
    ck_assert_int_eq (zc_msg_next (msg), big);
    zc_msg_destroy (&msg);
}
END_TEST

START_TEST (test_peer_status)
{
    char tip [ZC_HASH_HEX + 1];
    memset (tip, 'a', ZC_HASH_HEX);
    tip [ZC_HASH_HEX] = 0;
    ck_assert_int_eq (zc_msg_send_peer_status (s_out, "p:1", 123456789, tip), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_PEER_STATUS);
    ck_assert_str_eq (zc_msg_address (msg), "p:1");
    ck_assert_int_eq (zc_msg_height (msg), 123456789);
    ck_assert_str_eq (zc_msg_tip (msg), tip);
    ck_assert_str_eq (zc_msg_peer (msg), "");   //  not a BLOCK field
    zc_msg_destroy (&msg);
}
END_TEST

START_TEST (test_status_and_get_blocks)
{
    ck_assert_int_eq (zc_msg_send_status (s_out, 4000000000u, 256), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_STATUS);
    ck_assert_uint_eq (zc_msg_conn (msg), 4000000000u);
    ck_assert_uint_eq (zc_msg_peers (msg), 256);
    zc_msg_destroy (&msg);

    ck_assert_int_eq (zc_msg_send_get_blocks (s_out, 3, 1000, 500), 0);
    msg = s_recv (ZC_MSG_GET_BLOCKS);
    ck_assert_uint_eq (zc_msg_conn (msg), 3);
    ck_assert_int_eq (zc_msg_from (msg), 1000);
    ck_assert_int_eq (zc_msg_limit (msg), 500);
    zc_msg_destroy (&msg);
}
END_TEST

START_TEST (test_broadcast)
{
    const char body [] = "{\"type\":\"new_block\"}\0binary";
    ck_assert_int_eq (zc_msg_send_broadcast (s_out, body, sizeof body), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_BROADCAST);
    zframe_t *frame = zc_msg_body (msg);
    ck_assert_ptr_nonnull (frame);
    ck_assert_uint_eq (zframe_size (frame), sizeof body);
    ck_assert (memcmp (zframe_data (frame), body, sizeof body) == 0);
    zc_msg_destroy (&msg);

    //  An empty body is still a body
    zc_msg_send_broadcast (s_out, "", 0);
    msg = s_recv (ZC_MSG_BROADCAST);
    ck_assert_uint_eq (zframe_size (zc_msg_body (msg)), 0);
    zc_msg_destroy (&msg);
}
END_TEST

START_TEST (test_held)
{
    char ids [3 * ZC_HASH_HEX + 1];
    for (int i = 0; i < 3; i++) {
        char text [8];
        snprintf (text, sizeof text, "%d", i);
        zc_sha256_hex (text, strlen (text), ids + i * ZC_HASH_HEX);
    }
    ck_assert_int_eq (zc_msg_send_held (s_out, ids, 3), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_HELD);
    ck_assert_uint_eq (zc_msg_held_count (msg), 3);
    for (size_t i = 0; i < 3; i++) {
        char id [ZC_HASH_HEX + 1];
        zc_msg_held_id (msg, i, id);
        ck_assert_uint_eq (strlen (id), ZC_HASH_HEX);
        ck_assert (memcmp (id, ids + i * ZC_HASH_HEX, ZC_HASH_HEX) == 0);
    }
    zc_msg_destroy (&msg);

    //  A body that is not whole ids is refused
    zc_msg_send_held (s_out, ids, 1);
    zmsg_t *whole = zmsg_recv (s_in);
    zframe_t *body = zmsg_last (whole);
    zframe_reset (body, ids, ZC_HASH_HEX - 1);
    zmsg_send (&whole, s_out);
    bool malformed = false;
    ck_assert_ptr_null (zc_msg_recv (s_in, &malformed));
    ck_assert (malformed);
}
END_TEST

START_TEST (test_load)
{
    ck_assert_int_eq (zc_msg_send_load (s_out, INT64_C (5000000000), 1234), 0);
    zc_msg_t *msg = s_recv (ZC_MSG_LOAD);
    ck_assert_int_eq (zc_msg_taken (msg), INT64_C (5000000000));
    ck_assert_int_eq (zc_msg_waiting (msg), 1234);
    zc_msg_destroy (&msg);
}
END_TEST

//  What is not one of our commands is refused as malformed: the old text
//  form, a short header, a known command with a frame missing.
START_TEST (test_malformed)
{
    bool malformed = false;
    zstr_sendx (s_out, "TX", "1", "127.0.0.1:1", NULL);
    ck_assert_ptr_null (zc_msg_recv (s_in, &malformed));
    ck_assert (malformed);

    zsock_send (s_out, "b", "\x01\x02", (size_t) 2);
    malformed = false;
    ck_assert_ptr_null (zc_msg_recv (s_in, &malformed));
    ck_assert (malformed);

    //  A STATUS message with a string it does not have
    zc_msg_send_status (s_out, 1, 1);
    zmsg_t *whole = zmsg_recv (s_in);
    zmsg_addstr (whole, "extra");
    zmsg_send (&whole, s_out);
    malformed = false;
    ck_assert_ptr_null (zc_msg_recv (s_in, &malformed));
    ck_assert (malformed);

    //  Interrupted (timed out) is not malformed
    zsock_set_rcvtimeo (s_in, 10);
    malformed = true;
    ck_assert_ptr_null (zc_msg_recv (s_in, &malformed));
    ck_assert (!malformed);
}
END_TEST

//  -------------------------------------------------------------------------
//  The ledger writer's commands and events (zc_ledger_msg)

static zc_ledger_msg_t *
s_ledger_recv (zc_ledger_msg_id_t id)
{
    bool malformed = true;
    zc_ledger_msg_t *msg = zc_ledger_msg_recv (s_in, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_ledger_msg_id (msg), id);
    return msg;
}

//  A block at index 1 holding count signed transactions, sealed.
static zc_block_t *
s_block_with (zc_keys_t *keys, size_t count)
{
    zc_tx_t *txs [4];
    ck_assert (count <= 4);
    for (size_t i = 0; i < count; i++)
        txs [i] = s_signed_tx (keys);
    zc_block_t *genesis = zc_block_genesis ();
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis), now, txs, count);
    zc_block_destroy (&genesis);
    testutil_mine (block, 1, keys);
    return block;
}

START_TEST (test_ledger_open)
{
    ck_assert_int_eq (zc_ledger_msg_send_open (s_out, "/data/node_1.sqlite3", true), 0);
    zc_ledger_msg_t *msg = s_ledger_recv (ZC_LEDGER_OPEN);
    ck_assert_str_eq (zc_ledger_msg_path (msg), "/data/node_1.sqlite3");
    ck_assert (zc_ledger_msg_outbox (msg));
    ck_assert_ptr_null (zc_ledger_msg_plan (msg));  //  not an OPEN field
    zc_ledger_msg_destroy (&msg);
    ck_assert_ptr_null (msg);

    zc_ledger_msg_send_open (s_out, "x", false);
    msg = s_ledger_recv (ZC_LEDGER_OPEN);
    ck_assert (!zc_ledger_msg_outbox (msg));
    zc_ledger_msg_destroy (&msg);
}
END_TEST

START_TEST (test_ledger_apply_and_pool)
{
    zc_plan_t plan = { .fork_height = 3 };
    ck_assert_int_eq (zc_ledger_msg_send_apply (s_out, &plan), 0);
    zc_ledger_msg_t *msg = s_ledger_recv (ZC_LEDGER_APPLY);
    ck_assert_ptr_eq (zc_ledger_msg_plan (msg), &plan);    //  borrowed, the same
    ck_assert_ptr_null (zc_ledger_msg_txs (msg));
    zc_ledger_msg_destroy (&msg);

    zc_tx_t *txs [3] = { NULL, NULL, NULL };
    ck_assert_int_eq (zc_ledger_msg_send_pool (s_out, txs, 3), 0);
    msg = s_ledger_recv (ZC_LEDGER_POOL);
    ck_assert_ptr_eq (zc_ledger_msg_txs (msg), txs);
    ck_assert_uint_eq (zc_ledger_msg_count (msg), 3);
    zc_ledger_msg_destroy (&msg);
}
END_TEST

START_TEST (test_ledger_events)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_with (keys, 3);
    ck_assert_int_eq (zc_ledger_msg_send_committed (s_out, block), 0);
    zc_ledger_msg_t *msg = s_ledger_recv (ZC_LEDGER_COMMITTED);
    ck_assert_int_eq (zc_ledger_msg_index (msg), 1);
    ck_assert_str_eq (zc_ledger_msg_hash (msg), zc_block_hash (block));
    ck_assert_str_eq (zc_ledger_msg_miner_id (msg), TESTUTIL_MINER_ID);
    ck_assert_str_eq (zc_ledger_msg_timestamp (msg), zc_block_timestamp (block));
    ck_assert_uint_eq (zc_ledger_msg_tx_count (msg), 3);
    for (size_t i = 0; i < 3; i++) {
        char id [ZC_HASH_HEX + 1];
        zc_ledger_msg_tx_id (msg, i, id);
        ck_assert_str_eq (id, zc_tx_id (zc_block_tx (block, i)));
    }
    zc_ledger_msg_destroy (&msg);

    ck_assert_int_eq (zc_ledger_msg_send_rolled_back (s_out, block), 0);
    msg = s_ledger_recv (ZC_LEDGER_ROLLED_BACK);
    ck_assert_int_eq (zc_ledger_msg_index (msg), 1);
    ck_assert_str_eq (zc_ledger_msg_hash (msg), zc_block_hash (block));
    ck_assert_str_eq (zc_ledger_msg_miner_id (msg), "");   //  COMMITTED's only
    ck_assert_uint_eq (zc_ledger_msg_tx_count (msg), 3);
    zc_ledger_msg_destroy (&msg);
    zc_block_destroy (&block);

    //  A block with no transactions: an empty, still present, ids frame
    block = s_block_with (keys, 0);
    zc_ledger_msg_send_committed (s_out, block);
    msg = s_ledger_recv (ZC_LEDGER_COMMITTED);
    ck_assert_uint_eq (zc_ledger_msg_tx_count (msg), 0);
    char id [ZC_HASH_HEX + 1] = "x";
    zc_ledger_msg_tx_id (msg, 0, id);
    ck_assert_str_eq (id, "");
    zc_ledger_msg_destroy (&msg);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  Receives one ledger message that must be refused as malformed.
static void
s_ledger_refused (void)
{
    bool malformed = false;
    ck_assert_ptr_null (zc_ledger_msg_recv (s_in, &malformed));
    ck_assert (malformed);
}

START_TEST (test_ledger_malformed)
{
    //  The old text form
    zstr_sendx (s_out, "OPEN", "/data/x", NULL);
    s_ledger_refused ();
    //  A header of another size
    zsock_send (s_out, "b", "\x02\x00", (size_t) 2);
    s_ledger_refused ();
    //  OPEN without its path; APPLY with a frame too many
    zc_ledger_msg_send_open (s_out, "p", false);
    zmsg_t *whole = zmsg_recv (s_in);
    zframe_t *path = zmsg_last (whole);
    zmsg_remove (whole, path);
    zframe_destroy (&path);
    zmsg_send (&whole, s_out);
    s_ledger_refused ();
    zc_ledger_msg_send_apply (s_out, NULL);
    whole = zmsg_recv (s_in);
    zmsg_addstr (whole, "extra");
    zmsg_send (&whole, s_out);
    s_ledger_refused ();
    //  An event whose ids are not whole ids
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_with (keys, 1);
    zc_ledger_msg_send_committed (s_out, block);
    whole = zmsg_recv (s_in);
    zframe_reset (zmsg_last (whole), "abc", 3);
    zmsg_send (&whole, s_out);
    s_ledger_refused ();
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
    //  A header naming no command of ours (a zc_msg header is another size)
    zc_msg_send_status (s_out, 1, 1);
    s_ledger_refused ();

    //  $TERM, as zactor_destroy sends it, is a command, not malformed;
    //  "$TERM" with more frames is not it
    zstr_send (s_out, "$TERM");
    zc_ledger_msg_t *msg = s_ledger_recv (ZC_LEDGER_TERM);
    zc_ledger_msg_destroy (&msg);
    zstr_sendx (s_out, "$TERM", "more", NULL);
    s_ledger_refused ();

    //  Interrupted (timed out) is not malformed
    zsock_set_rcvtimeo (s_in, 10);
    bool malformed = true;
    ck_assert_ptr_null (zc_ledger_msg_recv (s_in, &malformed));
    ck_assert (!malformed);
}
END_TEST

//  The writer itself: a malformed command is answered with a failure
//  signal (its sender waits for one) and the writer goes on; $TERM ends it.
START_TEST (test_writer_malformed)
{
    char *folder = testutil_tempdir ();
    zactor_t *writer = zactor_new (zc_writer_actor, (void *) "msg-writer");
    zstr_sendx (writer, "OPEN", "no longer how it is said", NULL);
    ck_assert_int_eq (zsock_wait (writer), 1);
    char *path = zsys_sprintf ("%s/ledger.sqlite3", folder);
    ck_assert_int_eq (zc_ledger_msg_send_open (writer, path, false), 0);
    ck_assert_int_eq (zsock_wait (writer), 0);
    zc_tx_t *none [1] = { NULL };
    ck_assert_int_eq (zc_ledger_msg_send_pool (writer, none, 0), 0);
    ck_assert_int_eq (zsock_wait (writer), 0);
    zactor_destroy (&writer);
    ck_assert_ptr_null (writer);
    free (path);
    testutil_rmdir (folder);
    free (folder);
}
END_TEST

//  -------------------------------------------------------------------------
//  The miner pool's commands (zc_mine_msg)

static zc_mine_msg_t *
s_mine_recv (zc_mine_msg_id_t id)
{
    bool malformed = true;
    zc_mine_msg_t *msg = zc_mine_msg_recv (s_in, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_mine_msg_id (msg), id);
    return msg;
}

START_TEST (test_mine_job)
{
    uint64_t big = UINT64_MAX - 3;
    ck_assert_int_eq (zc_mine_msg_send_job (s_out, big, 5, "preimage text"), 0);
    zc_mine_msg_t *msg = s_mine_recv (ZC_MINE_JOB);
    ck_assert_uint_eq (zc_mine_msg_job_id (msg), big);
    ck_assert_int_eq (zc_mine_msg_difficulty (msg), 5);
    ck_assert_str_eq (zc_mine_msg_preimage (msg), "preimage text");
    ck_assert_str_eq (zc_mine_msg_hash (msg), "");  //  not a JOB field
    char *preimage = zc_mine_msg_take_preimage (msg);
    ck_assert_str_eq (preimage, "preimage text");
    ck_assert_ptr_null (zc_mine_msg_take_preimage (msg));
    ck_assert_str_eq (zc_mine_msg_preimage (msg), "");
    zc_mine_msg_destroy (&msg);
    ck_assert_ptr_null (msg);
    free (preimage);

    //  A preimage is any bytes but NUL, of any length
    size_t length = 200000;
    char *large = (char *) malloc (length + 1);
    memset (large, 'p', length);
    large [length] = 0;
    zc_mine_msg_send_job (s_out, 1, 0, large);
    msg = s_mine_recv (ZC_MINE_JOB);
    ck_assert_str_eq (zc_mine_msg_preimage (msg), large);
    zc_mine_msg_destroy (&msg);         //  not taken: freed with it
    free (large);
}
END_TEST

START_TEST (test_mine_control)
{
    ck_assert_int_eq (zc_mine_msg_send_stop (s_out), 0);
    zc_mine_msg_t *msg = s_mine_recv (ZC_MINE_STOP);
    zc_mine_msg_destroy (&msg);
    ck_assert_int_eq (zc_mine_msg_send_stats (s_out), 0);
    msg = s_mine_recv (ZC_MINE_STATS);
    zc_mine_msg_destroy (&msg);
    ck_assert_int_eq (zc_mine_msg_send_kernel (s_out), 0);
    msg = s_mine_recv (ZC_MINE_KERNEL);
    zc_mine_msg_destroy (&msg);
}
END_TEST

START_TEST (test_mine_answers)
{
    char hash [ZC_HASH_HEX + 1];
    zc_sha256_hex ("x", 1, hash);
    ck_assert_int_eq (zc_mine_msg_send_found (s_out, 77, UINT64_C (123456789012), hash), 0);
    zc_mine_msg_t *msg = s_mine_recv (ZC_MINE_FOUND);
    ck_assert_uint_eq (zc_mine_msg_job_id (msg), 77);
    ck_assert_uint_eq (zc_mine_msg_nonce (msg), UINT64_C (123456789012));
    ck_assert_str_eq (zc_mine_msg_hash (msg), hash);
    ck_assert_ptr_null (zc_mine_msg_take_preimage (msg));  //  JOB's only
    zc_mine_msg_destroy (&msg);

    ck_assert_int_eq (zc_mine_msg_send_stats_reply (s_out, UINT64_C (1) << 40, 16), 0);
    msg = s_mine_recv (ZC_MINE_STATS_REPLY);
    ck_assert_uint_eq (zc_mine_msg_hashes (msg), UINT64_C (1) << 40);
    ck_assert_int_eq (zc_mine_msg_busy (msg), 16);
    ck_assert_uint_eq (zc_mine_msg_nonce (msg), 0);
    zc_mine_msg_destroy (&msg);

    ck_assert_int_eq (zc_mine_msg_send_kernel_reply (s_out, "avx2", 8), 0);
    msg = s_mine_recv (ZC_MINE_KERNEL_REPLY);
    ck_assert_str_eq (zc_mine_msg_kernel_name (msg), "avx2");
    ck_assert_int_eq (zc_mine_msg_lanes (msg), 8);
    zc_mine_msg_destroy (&msg);
}
END_TEST

static void
s_mine_refused (void)
{
    bool malformed = false;
    ck_assert_ptr_null (zc_mine_msg_recv (s_in, &malformed));
    ck_assert (malformed);
}

START_TEST (test_mine_malformed)
{
    //  The old text forms
    zstr_send (s_out, "STOP");
    s_mine_refused ();
    zsock_send (s_out, "s8is", "JOB", (uint64_t) 1, 3, "preimage");
    s_mine_refused ();
    //  JOB without its preimage, FOUND with a frame too many
    zc_mine_msg_send_job (s_out, 1, 1, "p");
    zmsg_t *whole = zmsg_recv (s_in);
    zframe_t *text = zmsg_last (whole);
    zmsg_remove (whole, text);
    zframe_destroy (&text);
    zmsg_send (&whole, s_out);
    s_mine_refused ();
    zc_mine_msg_send_found (s_out, 1, 2, "h");
    whole = zmsg_recv (s_in);
    zmsg_addstr (whole, "extra");
    zmsg_send (&whole, s_out);
    s_mine_refused ();
    //  A header of the right size naming no command
    zc_mine_msg_send_stop (s_out);
    whole = zmsg_recv (s_in);
    zframe_t *header = zmsg_first (whole);
    zframe_data (header) [0] = 0xEE;
    zmsg_send (&whole, s_out);
    s_mine_refused ();
    //  $TERM is a command
    zstr_send (s_out, "$TERM");
    zc_mine_msg_t *msg = s_mine_recv (ZC_MINE_TERM);
    zc_mine_msg_destroy (&msg);
}
END_TEST

//  The pool itself drops a malformed command and goes on serving.
START_TEST (test_miner_malformed)
{
    zc_node_config_t config = { .miner_threads = 1, .miner_kernel = -1 };
    zactor_t *pool = zactor_new (zc_miner_actor, &config);
    zsock_set_rcvtimeo (pool, 10000);
    zsock_send (pool, "s8is", "JOB", (uint64_t) 1, 3, "the old form");
    zstr_send (pool, "STATS");
    zc_mine_msg_send_stats (pool);
    bool malformed = true;
    zc_mine_msg_t *stats = zc_mine_msg_recv (pool, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (stats);
    ck_assert_int_eq (zc_mine_msg_id (stats), ZC_MINE_STATS_REPLY);
    ck_assert_uint_eq (zc_mine_msg_hashes (stats), 0);     //  no job was taken
    ck_assert_int_eq (zc_mine_msg_busy (stats), 0);
    zc_mine_msg_destroy (&stats);
    zactor_destroy (&pool);
}
END_TEST

//  -------------------------------------------------------------------------
//  The listener's news for the notifier (zc_notices_msg)

static zc_notices_msg_t *
s_notices_recv (zc_notices_msg_id_t id)
{
    bool malformed = true;
    zc_notices_msg_t *msg = zc_notices_msg_recv (s_in, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_notices_msg_id (msg), id);
    return msg;
}

START_TEST (test_notices)
{
    int64_t seq = (INT64_C (1) << 53) - 1;
    ck_assert_int_eq (zc_notices_msg_send_ack (s_out, seq), 0);
    zc_notices_msg_t *msg = s_notices_recv (ZC_NOTICES_ACK);
    ck_assert_int_eq (zc_notices_msg_seq (msg), seq);
    ck_assert_str_eq (zc_notices_msg_reason (msg), "");
    zc_notices_msg_destroy (&msg);
    ck_assert_ptr_null (msg);

    ck_assert_int_eq (zc_notices_msg_send_nack (s_out, "bad signature \xc3\xa9"), 0);
    msg = s_notices_recv (ZC_NOTICES_NACK);
    ck_assert_str_eq (zc_notices_msg_reason (msg), "bad signature \xc3\xa9");
    ck_assert_int_eq (zc_notices_msg_seq (msg), 0);
    zc_notices_msg_destroy (&msg);

    ck_assert_int_eq (zc_notices_msg_send_down (s_out), 0);
    msg = s_notices_recv (ZC_NOTICES_DOWN);
    zc_notices_msg_destroy (&msg);
}
END_TEST

static void
s_notices_refused (void)
{
    bool malformed = false;
    ck_assert_ptr_null (zc_notices_msg_recv (s_in, &malformed));
    ck_assert (malformed);
}

START_TEST (test_notices_malformed)
{
    //  The old text forms
    zstr_sendx (s_out, "ACK", "12", NULL);
    s_notices_refused ();
    zstr_send (s_out, "DOWN");
    s_notices_refused ();
    //  NACK without its reason; ACK with a reason it does not have
    zc_notices_msg_send_nack (s_out, "r");
    zmsg_t *whole = zmsg_recv (s_in);
    zframe_t *reason = zmsg_last (whole);
    zmsg_remove (whole, reason);
    zframe_destroy (&reason);
    zmsg_send (&whole, s_out);
    s_notices_refused ();
    zc_notices_msg_send_ack (s_out, 1);
    whole = zmsg_recv (s_in);
    zmsg_addstr (whole, "extra");
    zmsg_send (&whole, s_out);
    s_notices_refused ();
    //  No actor pipe carries these: $TERM is not one of them
    zstr_send (s_out, "$TERM");
    s_notices_refused ();
    //  Interrupted is not malformed
    zsock_set_rcvtimeo (s_in, 10);
    bool malformed = true;
    ck_assert_ptr_null (zc_notices_msg_recv (s_in, &malformed));
    ck_assert (!malformed);
}
END_TEST

//  -------------------------------------------------------------------------
//  The bridge's link protocol (zc_link)

static zc_link_msg_t *
s_link_recv (zc_link_msg_id_t id)
{
    bool malformed = true;
    zc_link_msg_t *msg = zc_link_recv (s_in, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_link_msg_id (msg), id);
    return msg;
}

//  Checks a message's body is exactly size bytes of data.
static void
s_link_body (zc_link_msg_t *msg, const void *data, size_t size)
{
    ck_assert_uint_eq (zc_link_msg_size (msg), size);
    ck_assert (memcmp (zc_link_msg_data (msg), data, size) == 0);
}

START_TEST (test_link_msg)
{
    const char body [] = "{\"type\":\"ping\"}\0and\nmore";
    ck_assert_int_eq (zc_link_send_msg (s_out, 4000000001u, "[::1]:65535", body,
                                        sizeof body), 0);
    zc_link_msg_t *msg = s_link_recv (ZC_LINK_MSG);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 4000000001u);
    ck_assert_str_eq (zc_link_msg_address (msg), "[::1]:65535");
    s_link_body (msg, body, sizeof body);
    zc_link_msg_destroy (&msg);
    ck_assert_ptr_null (msg);

    //  An empty message is still a body
    zc_link_send_msg (s_out, 1, "a:1", "", 0);
    msg = s_link_recv (ZC_LINK_MSG);
    ck_assert_uint_eq (zc_link_msg_size (msg), 0);
    ck_assert_str_eq (zc_link_msg_data (msg), "");
    zc_link_msg_destroy (&msg);
}
END_TEST

START_TEST (test_link_answers)
{
    ck_assert_int_eq (zc_link_send_reply (s_out, 7, "{\"a\":1}", 7), 0);
    zc_link_msg_t *msg = s_link_recv (ZC_LINK_REPLY);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 7);
    ck_assert_str_eq (zc_link_msg_address (msg), "");   //  not a REPLY field
    s_link_body (msg, "{\"a\":1}", 7);
    zc_link_msg_destroy (&msg);

    ck_assert_int_eq (zc_link_send_close (s_out, 8, "bye", 3), 0);
    msg = s_link_recv (ZC_LINK_CLOSE);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 8);
    s_link_body (msg, "bye", 3);
    zc_link_msg_destroy (&msg);

    zc_link_done (s_out, 9);
    msg = s_link_recv (ZC_LINK_DONE);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 9);
    ck_assert_uint_eq (zc_link_msg_size (msg), 0);
    zc_link_msg_destroy (&msg);

    //  The helpers: a JSON reply in canonical form, an error, an error
    //  that closes
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "type", "pong");
    cJSON_AddStringToObject (reply, "node_id", "n");
    zc_link_reply (s_out, 10, reply);
    msg = s_link_recv (ZC_LINK_REPLY);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 10);
    const char *pong = "{\"node_id\":\"n\",\"type\":\"pong\"}";
    s_link_body (msg, pong, strlen (pong));
    zc_link_msg_destroy (&msg);
    zc_link_error (s_out, 11, "no", false);
    msg = s_link_recv (ZC_LINK_REPLY);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 11);
    const char *error = "{\"error\":\"no\",\"type\":\"error\"}";
    s_link_body (msg, error, strlen (error));
    zc_link_msg_destroy (&msg);
    zc_link_error (s_out, 12, "no", true);
    msg = s_link_recv (ZC_LINK_CLOSE);
    ck_assert_uint_eq (zc_link_msg_conn (msg), 12);
    s_link_body (msg, error, strlen (error));
    zc_link_msg_destroy (&msg);
}
END_TEST

START_TEST (test_link_peers)
{
    ck_assert_int_eq (zc_link_send_peer (s_out, "10.0.0.1:13246", "{}", 2), 0);
    zc_link_msg_t *msg = s_link_recv (ZC_LINK_SEND);
    ck_assert_str_eq (zc_link_msg_address (msg), "10.0.0.1:13246");
    ck_assert_uint_eq (zc_link_msg_conn (msg), 0);      //  not a SEND field
    s_link_body (msg, "{}", 2);
    zc_link_msg_destroy (&msg);

    //  Posts overlap (issue 11): each carries its id, told back about it
    int64_t post = (int64_t) 1 << 40;
    ck_assert_int_eq (zc_link_send_post (s_out, "server:13400", post, "line", 4), 0);
    msg = s_link_recv (ZC_LINK_POST);
    ck_assert_str_eq (zc_link_msg_address (msg), "server:13400");
    ck_assert_int_eq (zc_link_msg_post (msg), post);
    s_link_body (msg, "line", 4);
    zc_link_msg_destroy (&msg);

    ck_assert_int_eq (zc_link_send_down (s_out, "10.0.0.1:13246", 0), 0);
    msg = s_link_recv (ZC_LINK_DOWN);
    ck_assert_str_eq (zc_link_msg_address (msg), "10.0.0.1:13246");
    ck_assert_uint_eq (zc_link_msg_size (msg), 0);
    ck_assert_int_eq (zc_link_msg_post (msg), 0);
    zc_link_msg_destroy (&msg);

    ck_assert_int_eq (zc_link_send_down (s_out, "server:13400", post + 1), 0);
    msg = s_link_recv (ZC_LINK_DOWN);
    ck_assert_int_eq (zc_link_msg_post (msg), post + 1);
    zc_link_msg_destroy (&msg);

    ck_assert_int_eq (zc_link_send_posted (s_out, "server:13400", post), 0);
    msg = s_link_recv (ZC_LINK_POSTED);
    ck_assert_str_eq (zc_link_msg_address (msg), "server:13400");
    ck_assert_int_eq (zc_link_msg_post (msg), post);
    zc_link_msg_destroy (&msg);

    //  Not a field of the others
    ck_assert_int_eq (zc_link_send_peer (s_out, "10.0.0.1:13246", "{}", 2), 0);
    msg = s_link_recv (ZC_LINK_SEND);
    ck_assert_int_eq (zc_link_msg_post (msg), 0);
    zc_link_msg_destroy (&msg);
}
END_TEST

static void
s_link_refused (void)
{
    bool malformed = false;
    ck_assert_ptr_null (zc_link_recv (s_in, &malformed));
    ck_assert (malformed);
}

START_TEST (test_link_malformed)
{
    //  The old text forms
    zsock_send (s_out, "s4sb", "MSG", (uint32_t) 1, "a:1", "{}", (size_t) 2);
    s_link_refused ();
    zsock_send (s_out, "ssb", "SEND", "a:1", "{}", (size_t) 2);
    s_link_refused ();
    //  MSG without its body; DONE with a body it does not have; DOWN
    //  without its address
    zc_link_send_msg (s_out, 1, "a:1", "{}", 2);
    zmsg_t *whole = zmsg_recv (s_in);
    zframe_t *body = zmsg_last (whole);
    zmsg_remove (whole, body);
    zframe_destroy (&body);
    zmsg_send (&whole, s_out);
    s_link_refused ();
    zc_link_done (s_out, 1);
    whole = zmsg_recv (s_in);
    zmsg_addstr (whole, "{}");
    zmsg_send (&whole, s_out);
    s_link_refused ();
    zc_link_send_down (s_out, "a:1", 0);
    whole = zmsg_recv (s_in);
    zframe_t *address = zmsg_last (whole);
    zmsg_remove (whole, address);
    zframe_destroy (&address);
    zmsg_send (&whole, s_out);
    s_link_refused ();
    //  A header of the right size naming no command
    zc_link_done (s_out, 1);
    whole = zmsg_recv (s_in);
    zframe_data (zmsg_first (whole)) [0] = 0;
    zmsg_send (&whole, s_out);
    s_link_refused ();
    //  No actor pipe: $TERM is not one of these
    zstr_send (s_out, "$TERM");
    s_link_refused ();
    //  Interrupted is not malformed
    zsock_set_rcvtimeo (s_in, 10);
    bool malformed = true;
    ck_assert_ptr_null (zc_link_recv (s_in, &malformed));
    ck_assert (!malformed);
}
END_TEST

static const char *
s_no_quick (void *arg, const char *address, const char *data, size_t size)
{
    (void) arg; (void) address; (void) data; (void) size;
    return NULL;
}

//  A bridge reports malformed commands and goes on: a bad pipe command is
//  answered with a failure signal (the role waits for one), a bad link
//  command is dropped, and a SEND after it still gets its DOWN, typed.
START_TEST (test_bridge_malformed)
{
    zactor_t *bridge = zactor_new (zc_bridge_actor, (void *) "msg-bridge");
    zsock_t *link = zc_link_new ("bridge", "msg-bridge", false);
    zsock_set_rcvtimeo (link, 10000);
    zstr_sendx (bridge, "BIND", "127.0.0.1", "1", "65536", NULL);
    ck_assert_int_eq (zsock_wait (bridge), 1);
    zc_bridge_set_quick (bridge, s_no_quick, NULL);     //  typed: answered
    zsock_send (link, "s4b", "REPLY", (uint32_t) 1, "{}", (size_t) 2);
    zsock_send (link, "b", "\x05", (size_t) 1);
    //  Port 1 on loopback refuses: the dial fails, and we hear of it
    ck_assert_int_eq (zc_link_send_peer (link, "127.0.0.1:1", "{}", 2), 0);
    bool malformed = true;
    zc_link_msg_t *msg = zc_link_recv (link, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_link_msg_id (msg), ZC_LINK_DOWN);
    ck_assert_str_eq (zc_link_msg_address (msg), "127.0.0.1:1");
    zc_link_msg_destroy (&msg);
    zsock_destroy (&link);
    zactor_destroy (&bridge);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("msg");
    TCase *tcase = tcase_create ("round trip");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_tx);
    tcase_add_test (tcase, test_block);
    tcase_add_test (tcase, test_synced);
    tcase_add_test (tcase, test_peer_status);
    tcase_add_test (tcase, test_status_and_get_blocks);
    tcase_add_test (tcase, test_broadcast);
    tcase_add_test (tcase, test_held);
    tcase_add_test (tcase, test_load);
    tcase_add_test (tcase, test_malformed);
    suite_add_tcase (suite, tcase);

    tcase = tcase_create ("ledger writer");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_ledger_open);
    tcase_add_test (tcase, test_ledger_apply_and_pool);
    tcase_add_test (tcase, test_ledger_events);
    tcase_add_test (tcase, test_ledger_malformed);
    tcase_add_test (tcase, test_writer_malformed);
    suite_add_tcase (suite, tcase);

    tcase = tcase_create ("miner pool");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_mine_job);
    tcase_add_test (tcase, test_mine_control);
    tcase_add_test (tcase, test_mine_answers);
    tcase_add_test (tcase, test_mine_malformed);
    tcase_add_test (tcase, test_miner_malformed);
    suite_add_tcase (suite, tcase);

    tcase = tcase_create ("notifier");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_notices);
    tcase_add_test (tcase, test_notices_malformed);
    suite_add_tcase (suite, tcase);

    tcase = tcase_create ("bridge link");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_link_msg);
    tcase_add_test (tcase, test_link_answers);
    tcase_add_test (tcase, test_link_peers);
    tcase_add_test (tcase, test_link_malformed);
    tcase_add_test (tcase, test_bridge_malformed);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
