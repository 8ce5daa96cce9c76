/*  =========================================================================
    test_notice.c - unit tests of signed block notices (zc_notice), the
    trusted nodes of a file (zc_trust), the ledger's outbox and the
    gateway's spool (issue 9)

    The worked example of doc/PROTOCOL.md ("Checking a notice") is checked
    here byte for byte: the key (RFC 8032's first test key), the bytes
    signed and the signature.
    =========================================================================
*/

#include "../testutil.h"
#include <sqlite3.h>

//  doc/PROTOCOL.md, "Checking a notice"
#define S_DOC_KEY_PEM \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n" \
    "-----END PRIVATE KEY-----\n"
#define S_DOC_PUBLIC "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define S_DOC_NOTICE \
    "{\"type\":\"block_confirmation\",\"block_index\":1," \
    "\"block_hash\":\"b903496d7dce7c16efc298dd6d17029441fe74b4b2f0a3a522f83f8e7a890da7\"," \
    "\"miner_id\":\"6f1c2a52-1d0e-4c51-9a51-0d8f7a3e9b10\"," \
    "\"node_id\":\"6f1c2a52-1d0e-4c51-9a51-0d8f7a3e9b10\"," \
    "\"timestamp\":\"2024-01-01T00:00:01.000000Z\"," \
    "\"tx_ids\":[\"f4d9efbffcd27521b64663aee8b84e9dbfb8dc4cec02b0dffd736bce1f6e4967\"]," \
    "\"seq\":1704067201000000}"
#define S_DOC_SIGNED \
    "{\"block_hash\":\"b903496d7dce7c16efc298dd6d17029441fe74b4b2f0a3a522f83f8e7a890da7\"," \
    "\"block_index\":1,\"miner_id\":\"6f1c2a52-1d0e-4c51-9a51-0d8f7a3e9b10\"," \
    "\"node_id\":\"6f1c2a52-1d0e-4c51-9a51-0d8f7a3e9b10\"," \
    "\"public_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\",\"seq\":1704067201000000," \
    "\"timestamp\":\"2024-01-01T00:00:01.000000Z\"," \
    "\"tx_ids\":[\"f4d9efbffcd27521b64663aee8b84e9dbfb8dc4cec02b0dffd736bce1f6e4967\"]," \
    "\"type\":\"block_confirmation\"}"
#define S_DOC_SIGNATURE \
    "M8dmF8RHacqv56CkUQb4lGpnNT0c8vYPEHJ80macmj1OPujvkpyvWUs/WTRqs9n+y6yU2zl9FbabqP1+C319BA=="

static char *s_dir;

static void
s_setup (void)
{
    s_dir = testutil_tempdir ();
}

static void
s_teardown (void)
{
    testutil_rmdir (s_dir);
    free (s_dir);
}

//  The doc's key, loaded from a PEM file as zchaind loads node.key.
static zc_keys_t *
s_doc_keys (void)
{
    char *path = zsys_sprintf ("%s/doc.key", s_dir);
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    fputs (S_DOC_KEY_PEM, file);
    fclose (file);
    zc_keys_t *keys = zc_keys_load (path);
    ck_assert_ptr_nonnull (keys);
    free (path);
    return keys;
}

START_TEST (test_worked_example)
{
    zc_keys_t *keys = s_doc_keys ();
    ck_assert_str_eq (zc_keys_public_b64 (keys), S_DOC_PUBLIC);
    cJSON *notice = cJSON_Parse (S_DOC_NOTICE);
    ck_assert_int_eq (zc_notice_sign (notice, keys), 0);
    ck_assert_str_eq (cJSON_GetObjectItem (notice, "signature")->valuestring, S_DOC_SIGNATURE);
    //  The bytes signed: the JCS of the notice without "signature"
    cJSON *copy = cJSON_Duplicate (notice, true);
    cJSON_DeleteItemFromObject (copy, "signature");
    char *signed_text = zc_jcs_serialize (copy);
    ck_assert_str_eq (signed_text, S_DOC_SIGNED);
    ck_assert (zc_verify_raw (S_DOC_PUBLIC, S_DOC_SIGNED, strlen (S_DOC_SIGNED), S_DOC_SIGNATURE));
    ck_assert_ptr_null (zc_notice_check (notice));

    //  Any change to a signed member breaks it; a missing one is named
    const char *members [] = { "block_hash", "block_index", "node_id", "tx_ids", "seq",
                               "type", "timestamp", NULL };
    for (const char **member = members; *member; member++) {
        cJSON *forged = cJSON_Duplicate (notice, true);
        cJSON *item = cJSON_GetObjectItem (forged, *member);
        if (cJSON_IsNumber (item))
            cJSON_SetNumberValue (item, item->valuedouble + 1);
        else
        if (cJSON_IsArray (item))
            cJSON_AddItemToArray (item, cJSON_CreateString (
                "abababababababababababababababababababababababababababababababab"));
        else
        if (streq (*member, "type"))
            cJSON_SetValuestring (item, "block_rollback");
        else
            cJSON_SetValuestring (item, "2024-01-01T00:00:02.000000Z");
        ck_assert_msg (zc_notice_check (forged), "a changed %s still verifies", *member);
        cJSON_Delete (forged);
    }
    cJSON *unsigned_notice = cJSON_Duplicate (notice, true);
    cJSON_DeleteItemFromObject (unsigned_notice, "signature");
    ck_assert_str_eq (zc_notice_check (unsigned_notice), "notice has no signature");
    cJSON_Delete (unsigned_notice);
    free (signed_text);
    cJSON_Delete (copy);
    cJSON_Delete (notice);
    zc_keys_destroy (&keys);
}
END_TEST

//  A signed notice from keys as node_id.
static cJSON *
s_notice (zc_keys_t *keys, const char *node_id, double seq)
{
    cJSON *notice = cJSON_Parse (S_DOC_NOTICE);
    cJSON_ReplaceItemInObject (notice, "node_id", cJSON_CreateString (node_id));
    cJSON_ReplaceItemInObject (notice, "seq", cJSON_CreateNumber (seq));
    ck_assert_int_eq (zc_notice_sign (notice, keys), 0);
    return notice;
}

START_TEST (test_trust)
{
    zc_keys_t *a = zc_keys_new (), *b = zc_keys_new (), *c = zc_keys_new ();
    char *path = zsys_sprintf ("%s/known_nodes", s_dir);
    zc_trust_t *trust = zc_trust_new (path);
    zc_trust_add (trust, "n1", "127.0.0.1:1", zc_keys_public_b64 (a));   //  pinned
    zc_trust_add (trust, "n2", "127.0.0.1:2", NULL);                     //  learned
    const char *reason = NULL, *name = NULL;

    //  Nothing learned yet: a's notice must wait for n1's node_id
    cJSON *notice = s_notice (a, "aaaaaaaa-0000-4000-8000-00000000000a", 1);
    ck_assert_int_eq (zc_trust_verify (trust, notice, &reason, &name), ZC_TRUST_LATER);
    cJSON_Delete (notice);
    //  A pong with another key than the pinned one is refused
    char *error = NULL;
    ck_assert_int_eq (zc_trust_learn (trust, "127.0.0.1:1", "aaaaaaaa-0000-4000-8000-00000000000a", zc_keys_public_b64 (c),
                                      &error), -1);
    ck_assert_ptr_nonnull (strstr (error, "pinned"));
    zstr_free (&error);
    ck_assert_int_eq (zc_trust_learn (trust, "127.0.0.1:1", "aaaaaaaa-0000-4000-8000-00000000000a", zc_keys_public_b64 (a),
                                      NULL), 0);
    ck_assert_int_eq (zc_trust_learn (trust, "127.0.0.1:2", "bbbbbbbb-0000-4000-8000-00000000000b", zc_keys_public_b64 (b),
                                      NULL), 0);
    //  Addresses outside the file are never sources
    ck_assert_int_eq (zc_trust_learn (trust, "127.0.0.1:3", "cccccccc-0000-4000-8000-00000000000c", zc_keys_public_b64 (c),
                                      NULL), 0);
    //  Learned once, never replaced
    ck_assert_int_eq (zc_trust_learn (trust, "127.0.0.1:2", "bbbbbbbb-0000-4000-8000-00000000000b", zc_keys_public_b64 (c),
                                      &error), -1);
    ck_assert_ptr_nonnull (strstr (error, "learned before"));
    zstr_free (&error);

    notice = s_notice (a, "aaaaaaaa-0000-4000-8000-00000000000a", 1);
    ck_assert_int_eq (zc_trust_verify (trust, notice, &reason, &name), ZC_TRUST_OK);
    ck_assert_str_eq (name, "n1");
    cJSON_Delete (notice);
    notice = s_notice (a, "bbbbbbbb-0000-4000-8000-00000000000b", 2);           //  a genuine key, another node's id
    ck_assert_int_eq (zc_trust_verify (trust, notice, &reason, &name), ZC_TRUST_REFUSED);
    cJSON_Delete (notice);
    notice = s_notice (c, "cccccccc-0000-4000-8000-00000000000c", 3);           //  a key of no node
    ck_assert_int_eq (zc_trust_verify (trust, notice, &reason, &name), ZC_TRUST_REFUSED);
    cJSON_Delete (notice);
    zc_trust_destroy (&trust);

    //  What was learned is read back from the file
    trust = zc_trust_new (path);
    zc_trust_add (trust, "n1", "127.0.0.1:1", zc_keys_public_b64 (a));
    zc_trust_add (trust, "n2", "127.0.0.1:2", NULL);
    ck_assert_int_eq (zc_trust_load (trust, NULL), 0);
    ck_assert (zc_trust_known (trust, "127.0.0.1:2"));
    notice = s_notice (b, "bbbbbbbb-0000-4000-8000-00000000000b", 4);
    ck_assert_int_eq (zc_trust_verify (trust, notice, &reason, &name), ZC_TRUST_OK);
    ck_assert_str_eq (name, "n2");
    cJSON_Delete (notice);
    zc_trust_destroy (&trust);
    free (path);
    zc_keys_destroy (&a);
    zc_keys_destroy (&b);
    zc_keys_destroy (&c);
}
END_TEST

//  A mined block on parent with one transaction tagged tag.
static zc_block_t *
s_block (zc_keys_t *keys, zc_block_t *parent, const char *tag)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddStringToObject (data, "tag", tag);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    zc_block_t *block = zc_block_new (zc_block_index (parent) + 1, zc_block_hash (parent),
                                      "2024-01-01T00:00:01.000000Z", &tx, 1);
    testutil_mine (block, 1, keys);
    return block;
}

START_TEST (test_outbox)
{
    char *path = zsys_sprintf ("%s/node.sqlite3", s_dir);
    zc_ledger_t *ledger = zc_ledger_open (path, NULL);
    ck_assert_ptr_nonnull (ledger);
    zc_ledger_set_outbox (ledger, true);
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *genesis = zc_block_genesis ();
    zc_block_t *one = s_block (keys, genesis, "one");
    zc_block_t *other = s_block (keys, genesis, "other");
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, &one, 1), 0);
    ck_assert_int_eq (zc_ledger_outbox_count (ledger), 1);
    //  A reorganization: the rollback of one, then other's confirmation
    ck_assert_int_eq (zc_ledger_replace (ledger, 0, &other, 1), 0);
    zlistx_t *notices = zc_ledger_outbox_load (ledger, 0, 10);
    ck_assert_uint_eq (zlistx_size (notices), 3);
    const char *expected [][2] = { { "block_confirmation", zc_block_hash (one) },
                                   { "block_rollback", zc_block_hash (one) },
                                   { "block_confirmation", zc_block_hash (other) } };
    double last = 0;
    cJSON *notice = (cJSON *) zlistx_first (notices);
    for (int i = 0; notice; i++, notice = (cJSON *) zlistx_next (notices)) {
        ck_assert_str_eq (cJSON_GetObjectItem (notice, "type")->valuestring, expected [i][0]);
        ck_assert_str_eq (cJSON_GetObjectItem (notice, "block_hash")->valuestring, expected [i][1]);
        cJSON *ids = cJSON_GetObjectItem (notice, "tx_ids");
        ck_assert_int_eq (cJSON_GetArraySize (ids), 1);
        double seq = cJSON_GetObjectItem (notice, "seq")->valuedouble;
        ck_assert (seq > last);
        last = seq;
    }
    //  A write that fails writes no notice either
    int64_t count = zc_ledger_outbox_count (ledger);
    ck_assert_int_ne (zc_ledger_replace (ledger, 5, &one, 1), 0);
    ck_assert_int_eq (zc_ledger_outbox_count (ledger), count);
    //  Acknowledged: gone; the rest stays, also across a reopen
    notice = (cJSON *) zlistx_first (notices);
    ck_assert_int_eq (zc_ledger_outbox_remove (ledger,
                      (int64_t) cJSON_GetObjectItem (notice, "seq")->valuedouble), 0);
    ck_assert_int_eq (zc_ledger_outbox_count (ledger), count - 1);
    zlistx_destroy (&notices);
    zc_ledger_destroy (&ledger);
    ledger = zc_ledger_open (path, NULL);
    ck_assert_int_eq (zc_ledger_outbox_count (ledger), count - 1);
    zc_ledger_destroy (&ledger);
    zc_block_destroy (&one);
    zc_block_destroy (&other);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
    free (path);
}
END_TEST

START_TEST (test_spool)
{
    char *path = zsys_sprintf ("%s/gateway.sqlite3", s_dir);
    zc_spool_t *spool = zc_spool_open (path, NULL);
    ck_assert_ptr_nonnull (spool);
    int64_t first = 0, second = 0;
    ck_assert_int_eq (zc_spool_accept (spool, "K", 5, "{\"n\":5}", &first), 1);
    ck_assert_int_eq (zc_spool_accept (spool, "K", 5, "{\"n\":5}", NULL), 0);   //  again
    ck_assert_int_eq (zc_spool_accept (spool, "K", 4, "{\"n\":4}", NULL), 0);   //  older
    ck_assert_int_eq (zc_spool_accept (spool, "L", 1, "{\"l\":1}", &second), 1);
    zc_spool_destroy (&spool);
    spool = zc_spool_open (path, NULL);
    zlistx_t *entries = zc_spool_load (spool);
    ck_assert_uint_eq (zlistx_size (entries), 2);
    char expected [64];
    snprintf (expected, sizeof expected, "%" PRId64 " {\"n\":5}", first);
    ck_assert_str_eq ((char *) zlistx_first (entries), expected);
    zlistx_destroy (&entries);
    ck_assert_int_eq (zc_spool_remove (spool, first), 0);
    entries = zc_spool_load (spool);
    ck_assert_uint_eq (zlistx_size (entries), 1);
    zlistx_destroy (&entries);
    //  Removed, but still seen: a repeat is not queued again
    ck_assert_int_eq (zc_spool_accept (spool, "K", 5, "{\"n\":5}", NULL), 0);
    zc_spool_destroy (&spool);
    free (path);
}
END_TEST

//  A group of accepts and removals is one SQL transaction: all of it
//  after the commit, none of it if the process stops before (issue 11)
START_TEST (test_spool_group)
{
    char *path = zsys_sprintf ("%s/gateway.sqlite3", s_dir);
    zc_spool_t *spool = zc_spool_open (path, NULL);
    ck_assert_ptr_nonnull (spool);
    int64_t a = 0, b = 0, c = 0;
    ck_assert_int_eq (zc_spool_accept (spool, "K", 1, "{\"k\":1}", &a), 1);
    ck_assert_int_eq (zc_spool_begin (spool), 0);
    ck_assert_int_eq (zc_spool_accept (spool, "K", 2, "{\"k\":2}", &b), 1);
    ck_assert_int_eq (zc_spool_accept (spool, "K", 2, "{\"k\":2}", NULL), 0);  //  seen in the group
    ck_assert_int_eq (zc_spool_accept (spool, "L", 7, "{\"l\":7}", &c), 1);
    ck_assert_int_eq (zc_spool_remove (spool, a), 0);
    ck_assert_int_eq (zc_spool_commit (spool), 0);
    ck_assert_int_eq (zc_spool_commit (spool), 0);  //  none open: nothing to do
    zlistx_t *entries = zc_spool_load (spool);
    ck_assert_uint_eq (zlistx_size (entries), 2);
    zlistx_destroy (&entries);

    //  A group never committed: gone with the process, seqs not seen
    ck_assert_int_eq (zc_spool_begin (spool), 0);
    ck_assert_int_eq (zc_spool_accept (spool, "K", 3, "{\"k\":3}", NULL), 1);
    ck_assert_int_eq (zc_spool_remove (spool, b), 0);
    zc_spool_destroy (&spool);
    spool = zc_spool_open (path, NULL);
    entries = zc_spool_load (spool);
    ck_assert_uint_eq (zlistx_size (entries), 2);   //  b still there, k3 never was
    char expected [64];
    snprintf (expected, sizeof expected, "%" PRId64 " {\"k\":2}", b);
    ck_assert_str_eq ((char *) zlistx_first (entries), expected);
    zlistx_destroy (&entries);
    ck_assert_int_eq (zc_spool_accept (spool, "K", 3, "{\"k\":3}", NULL), 1);
    zc_spool_destroy (&spool);
    free (path);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("notice");
    TCase *tcase = tcase_create ("notice");
    tcase_add_checked_fixture (tcase, s_setup, s_teardown);
    tcase_add_test (tcase, test_worked_example);
    tcase_add_test (tcase, test_trust);
    tcase_add_test (tcase, test_outbox);
    tcase_add_test (tcase, test_spool);
    tcase_add_test (tcase, test_spool_group);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
