/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_block.c - unit tests of zc_tx and zc_block

    Transactions: signing and verifying, tampering, the shape checks of
    zc_tx_from_json, the id as SHA-256 of the canonical text, deep copies.
    Blocks: the genesis block, the exact preimage text and hash formula,
    the JSON round trip, every shape zc_block_from_json turns away, every
    reason zc_block_check gives, and worked example vectors (printed to
    stderr) that doc/PROTOCOL.md quotes.
    =========================================================================
*/

#include "../testutil.h"
#include <inttypes.h>
#include <openssl/evp.h>

#define S_TS1 "2024-01-01T00:00:01.000000Z"

//  The genesis hash, computed independently from its preimage
//  {"index":0,"prev_hash":"000..0","timestamp":"2024-01-01T00:00:00.000000Z",
//  "transactions":[]} followed by nonce "0".
#define S_GENESIS_HASH \
    "0af0ad5df75257be430a80ae3120e5e0094fe8eeedadfca7f07d6d3d9fdce0cd"

//  Parses literal JSON text, failing the test if it is not JSON.
static cJSON *
s_parse (const char *text)
{
    cJSON *json = cJSON_Parse (text);
    ck_assert_msg (json != NULL, "not JSON: %s", text);
    return json;
}

//  Builds a transaction from literal JSON text; must be well shaped.
static zc_tx_t *
s_tx_parse (const char *text)
{
    cJSON *json = s_parse (text);
    const char *error = NULL;
    zc_tx_t *tx = zc_tx_from_json (json, &error);
    cJSON_Delete (json);
    ck_assert_msg (tx != NULL, "zc_tx_from_json: %s", error? error: "?");
    return tx;
}

//  A transaction signed by keys with data {"n": n}.
static zc_tx_t *
s_tx_signed (zc_keys_t *keys, int n)
{
    cJSON *data = cJSON_CreateObject ();
    cJSON_AddNumberToObject (data, "n", n);
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    return tx;
}

//  A block at index 1 on genesis with count signed txs, mined at
//  difficulty 1.
static zc_block_t *
s_block_mined (zc_keys_t *keys, size_t count)
{
    zc_tx_t *txs [8];
    ck_assert_uint_le (count, 8);
    for (size_t i = 0; i < count; i++)
        txs [i] = s_tx_signed (keys, (int) i);
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, txs, count);
    testutil_mine (block, 1, keys);
    return block;
}

//  Lowercase hex SHA-256 computed with OpenSSL's EVP, independent of
//  zc_sha256_hex.
static void
s_evp_sha256_hex (const char *text, size_t size, char *out)
{
    unsigned char digest [EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ck_assert_int_eq (EVP_Digest (text, size, digest, &length, EVP_sha256 (), NULL), 1);
    ck_assert_uint_eq (length, 32);
    for (unsigned int i = 0; i < length; i++)
        snprintf (out + 2 * i, 3, "%02x", digest [i]);
}

//  Runs zc_block_from_json on json and expects error.
static void
s_expect_block_error (cJSON *json, const char *expected)
{
    const char *error = NULL;
    zc_block_t *block = zc_block_from_json (json, &error);
    char *text = cJSON_PrintUnformatted (json);
    ck_assert_msg (block == NULL, "accepted: %s", text);
    ck_assert_ptr_nonnull (error);
    ck_assert_msg (strcmp (error, expected) == 0,
                   "for %s: got \"%s\", expected \"%s\"", text, error, expected);
    free (text);
}

//  Copy of a block's JSON with member name replaced by value (taken).
static cJSON *
s_json_with (zc_block_t *block, const char *name, cJSON *value)
{
    cJSON *json = zc_block_to_json (block);
    cJSON_ReplaceItemInObjectCaseSensitive (json, name, value);
    return json;
}

//  Block rebuilt from json; must be well shaped.
static zc_block_t *
s_block_parse (cJSON *json)
{
    const char *error = NULL;
    zc_block_t *block = zc_block_from_json (json, &error);
    ck_assert_msg (block != NULL, "zc_block_from_json: %s", error? error: "?");
    return block;
}

//  -------------------------------------------------------------------------
//  Transactions

//  A signed transaction verifies, carries the key as sender and its data
//  as canonical text.
START_TEST (test_tx_sign_verify)
{
    zc_keys_t *keys = zc_keys_new ();
    cJSON *data = s_parse ("{\"b\": [1, 2.50, \"x\"], \"a\": true}");
    zc_tx_t *tx = zc_tx_new_signed (keys, data);
    cJSON_Delete (data);
    ck_assert_ptr_nonnull (tx);
    ck_assert (zc_tx_verify (tx));
    ck_assert_str_eq (zc_tx_sender (tx), zc_keys_public_b64 (keys));
    ck_assert_str_eq (zc_tx_data (tx), "{\"a\":true,\"b\":[1,2.5,\"x\"]}");
    ck_assert (zc_timestamp_valid (zc_tx_received (tx)));
    //  The wire form rebuilds the same transaction, which still verifies
    cJSON *json = zc_tx_to_json (tx);
    zc_tx_t *copy = zc_tx_from_json (json, NULL);
    cJSON_Delete (json);
    ck_assert_ptr_nonnull (copy);
    ck_assert_str_eq (zc_tx_id (copy), zc_tx_id (tx));
    ck_assert (zc_tx_verify (copy));
    zc_tx_destroy (&copy);
    zc_tx_destroy (&tx);
    ck_assert_ptr_null (tx);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
}
END_TEST

//  Changing data, the signature or the sender after signing makes
//  verification fail.
START_TEST (test_tx_tampered)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_keys_t *other = zc_keys_new ();
    zc_tx_t *tx = s_tx_signed (keys, 1);
    zc_tx_t *tx2 = s_tx_signed (keys, 2);

    //  Tampered data
    cJSON *json = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "data", s_parse ("{\"n\":3}"));
    zc_tx_t *bad = zc_tx_from_json (json, NULL);
    ck_assert_ptr_nonnull (bad);
    ck_assert (!zc_tx_verify (bad));
    zc_tx_destroy (&bad);
    cJSON_Delete (json);

    //  A real signature by the same key, but over other data
    json = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "signature",
                                            cJSON_CreateString (zc_tx_signature (tx2)));
    bad = zc_tx_from_json (json, NULL);
    ck_assert_ptr_nonnull (bad);
    ck_assert (!zc_tx_verify (bad));
    zc_tx_destroy (&bad);
    cJSON_Delete (json);

    //  Garbage signature, and one with a flipped character
    json = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "signature", cJSON_CreateString ("!!garbage!!"));
    bad = zc_tx_from_json (json, NULL);
    ck_assert_ptr_nonnull (bad);
    ck_assert (!zc_tx_verify (bad));
    zc_tx_destroy (&bad);
    cJSON_Delete (json);

    char *flipped = strdup (zc_tx_signature (tx));
    flipped [10] = flipped [10] == 'A'? 'B': 'A';
    json = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "signature", cJSON_CreateString (flipped));
    bad = zc_tx_from_json (json, NULL);
    ck_assert_ptr_nonnull (bad);
    ck_assert (!zc_tx_verify (bad));
    zc_tx_destroy (&bad);
    cJSON_Delete (json);
    free (flipped);

    //  Another sender
    json = zc_tx_to_json (tx);
    cJSON_ReplaceItemInObjectCaseSensitive (json, "sender",
                                            cJSON_CreateString (zc_keys_public_b64 (other)));
    bad = zc_tx_from_json (json, NULL);
    ck_assert_ptr_nonnull (bad);
    ck_assert (!zc_tx_verify (bad));
    zc_tx_destroy (&bad);
    cJSON_Delete (json);

    ck_assert (zc_tx_verify (tx));
    zc_tx_destroy (&tx);
    zc_tx_destroy (&tx2);
    zc_keys_destroy (&keys);
    zc_keys_destroy (&other);
}
END_TEST

//  Each bad shape is refused with its own reason.
START_TEST (test_tx_shape_errors)
{
    struct {
        const char *text;
        const char *error;
    } cases [] = {
        { "[1,2]", "transaction is not an object" },
        { "\"tx\"", "transaction is not an object" },
        { "null", "transaction is not an object" },
        { "{\"data\":1,\"signature\":\"s\"}", "sender must be a non-empty string" },
        { "{\"sender\":5,\"data\":1,\"signature\":\"s\"}", "sender must be a non-empty string" },
        { "{\"sender\":\"\",\"data\":1,\"signature\":\"s\"}", "sender must be a non-empty string" },
        { "{\"sender\":\"a\",\"signature\":\"s\"}", "data is missing" },
        { "{\"sender\":\"a\",\"data\":1}", "signature must be a non-empty string" },
        { "{\"sender\":\"a\",\"data\":1,\"signature\":7}", "signature must be a non-empty string" },
        { "{\"sender\":\"a\",\"data\":1,\"signature\":\"\"}", "signature must be a non-empty string" },
        { "{\"sender\":\"a\",\"data\":{\"k\":1,\"k\":2},\"signature\":\"s\"}",
          "data is not canonical JSON (bad number, UTF-8 or duplicate key)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        cJSON *json = s_parse (cases [i].text);
        const char *error = NULL;
        zc_tx_t *tx = zc_tx_from_json (json, &error);
        cJSON_Delete (json);
        ck_assert_msg (tx == NULL, "accepted %s", cases [i].text);
        ck_assert_ptr_nonnull (error);
        ck_assert_msg (strcmp (error, cases [i].error) == 0,
                       "%s: got \"%s\"", cases [i].text, error);
    }
    //  Shape only: data may be any JSON value, null included, and the
    //  error pointer is cleared on success
    zc_tx_t *tx = s_tx_parse ("{\"sender\":\"a\",\"data\":null,\"signature\":\"s\"}");
    ck_assert_str_eq (zc_tx_data (tx), "null");
    zc_tx_destroy (&tx);
    const char *error = "stale";
    cJSON *json = s_parse ("{\"sender\":\"a\",\"data\":[],\"signature\":\"s\"}");
    tx = zc_tx_from_json (json, &error);
    cJSON_Delete (json);
    ck_assert_ptr_nonnull (tx);
    ck_assert_ptr_null (error);
    zc_tx_destroy (&tx);
}
END_TEST

//  The id is SHA-256 of the canonical text, which has sorted keys and no
//  whitespace whatever order the members arrived in.
START_TEST (test_tx_id)
{
    zc_tx_t *tx = s_tx_parse ("{ \"signature\" : \"BBBB\", \"data\": {\"qty\": 2, \"item\": \"apple\"},"
                              " \"sender\": \"AAAA\" }");
    const char *canonical =
        "{\"data\":{\"item\":\"apple\",\"qty\":2},\"sender\":\"AAAA\",\"signature\":\"BBBB\"}";
    ck_assert_str_eq (zc_tx_canonical (tx), canonical);
    ck_assert_str_eq (zc_tx_data (tx), "{\"item\":\"apple\",\"qty\":2}");
    ck_assert_str_eq (zc_tx_sender (tx), "AAAA");
    ck_assert_str_eq (zc_tx_signature (tx), "BBBB");
    char expected [ZC_HASH_HEX + 1];
    zc_sha256_hex (canonical, strlen (canonical), expected);
    ck_assert_str_eq (zc_tx_id (tx), expected);
    char evp [ZC_HASH_HEX + 1];
    s_evp_sha256_hex (canonical, strlen (canonical), evp);
    ck_assert_str_eq (zc_tx_id (tx), evp);
    zc_tx_destroy (&tx);

    //  Same for a signed transaction, rebuilt by hand from its parts
    zc_keys_t *keys = zc_keys_new ();
    tx = s_tx_signed (keys, 5);
    char *text = zsys_sprintf ("{\"data\":{\"n\":5},\"sender\":\"%s\",\"signature\":\"%s\"}",
                               zc_keys_public_b64 (keys), zc_tx_signature (tx));
    ck_assert_str_eq (zc_tx_canonical (tx), text);
    zc_sha256_hex (text, strlen (text), expected);
    ck_assert_str_eq (zc_tx_id (tx), expected);
    zstr_free (&text);
    zc_tx_destroy (&tx);
    zc_keys_destroy (&keys);
}
END_TEST

//  A copy holds every field, including the received time, in its own
//  memory.
START_TEST (test_tx_dup)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *tx = s_tx_signed (keys, 9);
    zc_tx_set_received (tx, "2024-02-03T04:05:06.000007Z");
    zc_tx_t *copy = zc_tx_dup (tx);
    ck_assert_ptr_nonnull (copy);
    ck_assert_ptr_ne (copy, tx);
    ck_assert_str_eq (zc_tx_id (copy), zc_tx_id (tx));
    ck_assert_str_eq (zc_tx_sender (copy), zc_tx_sender (tx));
    ck_assert_ptr_ne (zc_tx_sender (copy), zc_tx_sender (tx));
    ck_assert_str_eq (zc_tx_signature (copy), zc_tx_signature (tx));
    ck_assert_ptr_ne (zc_tx_signature (copy), zc_tx_signature (tx));
    ck_assert_str_eq (zc_tx_data (copy), zc_tx_data (tx));
    ck_assert_ptr_ne (zc_tx_data (copy), zc_tx_data (tx));
    ck_assert_str_eq (zc_tx_canonical (copy), zc_tx_canonical (tx));
    ck_assert_ptr_ne (zc_tx_canonical (copy), zc_tx_canonical (tx));
    ck_assert_str_eq (zc_tx_received (copy), "2024-02-03T04:05:06.000007Z");
    zc_tx_destroy (&tx);
    ck_assert (zc_tx_verify (copy));
    ck_assert_ptr_null (zc_tx_dup (NULL));
    zc_tx_destroy (&copy);
    zc_keys_destroy (&keys);
}
END_TEST

//  -------------------------------------------------------------------------
//  Blocks

//  Genesis is the same block every time: index 0, 64 zeros below it, the
//  fixed timestamp and a hash computed (not mined) over nonce 0.
START_TEST (test_genesis)
{
    zc_block_t *one = zc_block_genesis ();
    zc_block_t *two = zc_block_genesis ();
    ck_assert_str_eq (zc_block_hash (one), zc_block_hash (two));
    ck_assert_str_eq (zc_block_hash (one), S_GENESIS_HASH);
    ck_assert_int_eq (zc_block_index (one), 0);
    char zeros [ZC_HASH_HEX + 1];
    memset (zeros, '0', ZC_HASH_HEX);
    zeros [ZC_HASH_HEX] = 0;
    ck_assert_str_eq (zc_block_prev_hash (one), zeros);
    ck_assert_str_eq (zc_block_timestamp (one), ZC_GENESIS_TIMESTAMP);
    ck_assert_uint_eq (zc_block_nonce (one), 0);
    ck_assert_uint_eq (zc_block_tx_count (one), 0);
    ck_assert_ptr_null (zc_block_tx (one, 0));
    ck_assert_str_eq (zc_block_miner_id (one), "genesis");
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (one, hash);
    ck_assert_str_eq (hash, zc_block_hash (one));
    zc_block_destroy (&one);
    zc_block_destroy (&two);
    ck_assert_ptr_null (one);
    zc_block_destroy (&one);
}
END_TEST

//  The preimage is exactly the canonical header with the transactions'
//  canonical texts in block order.
START_TEST (test_preimage_text)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *txs [2];
    txs [0] = s_tx_parse ("{\"sender\":\"AAAA\",\"data\":{\"qty\":2,\"item\":\"apple\"},\"signature\":\"BBBB\"}");
    txs [1] = s_tx_signed (keys, 1);
    char *second = strdup (zc_tx_canonical (txs [1]));
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, txs, 2);
    ck_assert_uint_eq (zc_block_tx_count (block), 2);
    ck_assert_ptr_eq (zc_block_tx (block, 0), txs [0]);
    ck_assert_ptr_eq (zc_block_tx (block, 1), txs [1]);
    char *expected = zsys_sprintf (
        "{\"index\":1,\"prev_hash\":\"%s\",\"timestamp\":\"%s\",\"transactions\":["
        "{\"data\":{\"item\":\"apple\",\"qty\":2},\"sender\":\"AAAA\",\"signature\":\"BBBB\"},%s]}",
        S_GENESIS_HASH, S_TS1, second);
    char *preimage = zc_block_preimage (block);
    ck_assert_str_eq (preimage, expected);
    free (preimage);
    zstr_free (&expected);
    free (second);
    zc_block_destroy (&block);

    //  No transactions: an empty array
    block = zc_block_new (1, S_GENESIS_HASH, S_TS1, NULL, 0);
    preimage = zc_block_preimage (block);
    ck_assert_str_eq (preimage, "{\"index\":1,\"prev_hash\":\"" S_GENESIS_HASH
                      "\",\"timestamp\":\"" S_TS1 "\",\"transactions\":[]}");
    free (preimage);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  The preimage stays exact for any index a peer may send (up to 2^53):
//  the buffer must be sized for the index's digits.
START_TEST (test_preimage_large_index)
{
    const int64_t indexes [] = { 9999999, 12345678, 123456789, 1000000000000000,
                                 9007199254740992 };
    for (size_t i = 0; i < sizeof indexes / sizeof indexes [0]; i++) {
        zc_block_t *block = zc_block_new (indexes [i], S_GENESIS_HASH, S_TS1, NULL, 0);
        char *expected = zsys_sprintf (
            "{\"index\":%" PRId64 ",\"prev_hash\":\"%s\",\"timestamp\":\"%s\",\"transactions\":[]}",
            indexes [i], S_GENESIS_HASH, S_TS1);
        char *preimage = zc_block_preimage (block);
        ck_assert_str_eq (preimage, expected);
        free (preimage);
        zstr_free (&expected);
        zc_block_destroy (&block);
    }
    //  Such an index arrives from the wire and is hashed by zc_block_check
    cJSON *json = s_parse ("{\"index\":9007199254740992,\"prev_hash\":\"" S_GENESIS_HASH "\","
                           "\"current_hash\":\"" S_GENESIS_HASH "\",\"timestamp\":\"" S_TS1 "\","
                           "\"nonce\":0,\"miner_id\":\"" TESTUTIL_MINER_ID "\",\"signature\":\"\","
                           "\"public_key_pem\":\"\",\"transactions\":[]}");
    zc_block_t *block = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (block, 0, 10, true, NULL, NULL),
                      "current_hash does not match the block's contents");
    zc_block_destroy (&block);
}
END_TEST

//  The hash is SHA-256 of the preimage followed by the nonce in decimal,
//  and zc_hash_meets counts leading '0' digits.
START_TEST (test_hash_formula)
{
    zc_block_t *block = zc_block_new (3, S_GENESIS_HASH, S_TS1, NULL, 0);
    zc_keys_t *keys = zc_keys_new ();
    char hash [ZC_HASH_HEX + 1];
    zc_sha256_hex ("x", 1, hash);
    ck_assert_int_eq (zc_block_seal (block, 1234567890123ULL, hash, TESTUTIL_MINER_ID, keys), 0);
    ck_assert_uint_eq (zc_block_nonce (block), 1234567890123ULL);
    char *preimage = zc_block_preimage (block);
    char *text = zsys_sprintf ("%s1234567890123", preimage);
    char expected [ZC_HASH_HEX + 1];
    s_evp_sha256_hex (text, strlen (text), expected);
    zc_block_compute_hash (block, hash);
    ck_assert_str_eq (hash, expected);
    zstr_free (&text);
    free (preimage);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);

    ck_assert (zc_hash_meets ("00ab", 2));
    ck_assert (zc_hash_meets ("00ab", 0));
    ck_assert (!zc_hash_meets ("00ab", 3));
    ck_assert (!zc_hash_meets ("0a0b", 2));
    ck_assert (!zc_hash_meets ("00", 3));
}
END_TEST

//  A sealed block survives to_json/from_json with every field and its
//  hash intact, and the copy passes the checks.
START_TEST (test_json_roundtrip)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 3);
    ck_assert_str_eq (zc_block_miner_id (block), TESTUTIL_MINER_ID);
    ck_assert_str_eq (zc_block_public_key_pem (block), zc_keys_public_pem (keys));
    cJSON *json = zc_block_to_json (block);
    zc_block_t *copy = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_int_eq (zc_block_index (copy), zc_block_index (block));
    ck_assert_str_eq (zc_block_prev_hash (copy), zc_block_prev_hash (block));
    ck_assert_str_eq (zc_block_hash (copy), zc_block_hash (block));
    ck_assert_str_eq (zc_block_timestamp (copy), zc_block_timestamp (block));
    ck_assert_uint_eq (zc_block_nonce (copy), zc_block_nonce (block));
    ck_assert_str_eq (zc_block_miner_id (copy), zc_block_miner_id (block));
    ck_assert_str_eq (zc_block_signature (copy), zc_block_signature (block));
    ck_assert_str_eq (zc_block_public_key_pem (copy), zc_block_public_key_pem (block));
    ck_assert_uint_eq (zc_block_tx_count (copy), 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq (zc_tx_id (zc_block_tx (copy, i)), zc_tx_id (zc_block_tx (block, i)));
        ck_assert_str_eq (zc_tx_canonical (zc_block_tx (copy, i)),
                          zc_tx_canonical (zc_block_tx (block, i)));
    }
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (copy, hash);
    ck_assert_str_eq (hash, zc_block_hash (block));
    char *one = zc_block_preimage (block);
    char *two = zc_block_preimage (copy);
    ck_assert_str_eq (one, two);
    free (one);
    free (two);
    ck_assert_ptr_null (zc_block_check (copy, 1, 10, true, NULL, NULL));
    zc_block_destroy (&copy);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  zc_block_canonical, spliced from the transactions' kept texts, is
//  exactly the JCS of the JSON tree (issue 11), with 0, 1 and 3 txs.
START_TEST (test_canonical_text)
{
    zc_keys_t *keys = zc_keys_new ();
    for (size_t count = 0; count <= 3; count += (count == 0? 1: 2)) {
        zc_block_t *block = s_block_mined (keys, count);
        cJSON *json = zc_block_to_json (block);
        char *expected = zc_jcs_serialize (json);
        char *text = zc_block_canonical (block);
        ck_assert_ptr_nonnull (expected);
        ck_assert_ptr_nonnull (text);
        ck_assert_str_eq (text, expected);
        //  And strict JSON that parses back to the same block
        ck_assert_ptr_null (zc_json_check (text, strlen (text), NULL));
        free (text);
        free (expected);
        cJSON_Delete (json);
        zc_block_destroy (&block);
    }
    zc_block_t *genesis = zc_block_genesis ();
    cJSON *json = zc_block_to_json (genesis);
    char *expected = zc_jcs_serialize (json);
    char *text = zc_block_canonical (genesis);
    ck_assert_str_eq (text, expected);
    free (text);
    free (expected);
    cJSON_Delete (json);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
}
END_TEST

//  zc_block_from_json turns away each bad shape with its reason.
START_TEST (test_from_json_rejects)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 1);
    const char *bad_index = "index must be a non-negative integer";
    const char *bad_prev = "prev_hash must be 64 lowercase hex characters";
    const char *bad_hash = "current_hash must be 64 lowercase hex characters";
    const char *bad_time = "timestamp must be an ISO 8601 date-time";
    const char *bad_nonce = "nonce must be a non-negative integer";
    char upper [ZC_HASH_HEX + 1];
    strcpy (upper, zc_block_hash (block));
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char) (*c - 'a' + 'A');
    if (strcmp (upper, zc_block_hash (block)) == 0)
        upper [63] = 'A';       //  all digits: force one uppercase letter
    const char *bad_miner = "miner_id must be a UUID";
    const char *bad_signature = "signature must be a base64 string";
    const char *bad_pem = "public_key_pem must be a PEM public key and nothing else";
    //  OpenSSL reads a key after junk, and before junk after its end
    char *poison_pem = zsys_sprintf ("\xff\xfe junk\n%s", zc_block_public_key_pem (block));
    char *trailing_pem = zsys_sprintf ("%s\xc3", zc_block_public_key_pem (block));
    struct {
        const char *name;
        cJSON *value;
        const char *error;
    } cases [] = {
        { "index", cJSON_CreateNumber (-1), bad_index },
        { "index", cJSON_CreateNumber (1.5), bad_index },
        { "index", cJSON_CreateString ("1"), bad_index },
        { "index", cJSON_CreateNumber (18014398509481984.0), bad_index },
        { "prev_hash", cJSON_CreateString ("abc"), bad_prev },
        { "prev_hash", cJSON_CreateString (S_GENESIS_HASH "0"), bad_prev },
        { "prev_hash", cJSON_CreateString (
            "0AF0AD5DF75257BE430A80AE3120E5E0094FE8EEEDADFCA7F07D6D3D9FDCE0CD"), bad_prev },
        { "prev_hash", cJSON_CreateString (
            "0af0ad5df75257be430a80ae3120e5e0094fe8eeedadfca7f07d6d3d9fdce0cg"), bad_prev },
        { "prev_hash", cJSON_CreateNumber (0), bad_prev },
        { "current_hash", cJSON_CreateString (upper), bad_hash },
        { "current_hash", cJSON_CreateNull (), bad_hash },
        { "timestamp", cJSON_CreateString ("junk"), bad_time },
        { "timestamp", cJSON_CreateString ("2024-13-01T00:00:00.000000Z"), bad_time },
        { "timestamp", cJSON_CreateString ("2024-01-01 00:00:00"), bad_time },
        { "timestamp", cJSON_CreateNumber (1704067200), bad_time },
        { "nonce", cJSON_CreateNumber (1.5), bad_nonce },
        { "nonce", cJSON_CreateNumber (-1), bad_nonce },
        { "nonce", cJSON_CreateString ("42"), bad_nonce },
        { "miner_id", cJSON_CreateNumber (1), "miner_id must be a string" },
        //  Issue 10: fields the hash and signature do not cover, poisoned
        { "miner_id", cJSON_CreateString ("miner-1"), bad_miner },
        { "miner_id", cJSON_CreateString ("\xff\xfe"), bad_miner },
        { "miner_id", cJSON_CreateString ("11111111-1111-4111-8111-11111111111\xc3"), bad_miner },
        { "miner_id", cJSON_CreateString ("11111111-1111-4111-8111-11111111111A"), bad_miner },
        { "miner_id", cJSON_CreateString ("genesis"), bad_miner },
        { "signature", cJSON_CreateFalse (), bad_signature },
        { "signature", cJSON_CreateString ("AAAA\xff"), bad_signature },
        { "public_key_pem", cJSON_CreateNull (), bad_pem },
        { "public_key_pem", cJSON_CreateString (poison_pem), bad_pem },
        { "public_key_pem", cJSON_CreateString (trailing_pem), bad_pem },
        { "public_key_pem", cJSON_CreateString ("-----BEGIN PUBLIC KEY-----\n"
                                                "-----END PUBLIC KEY-----\n"), bad_pem },
        { "transactions", cJSON_CreateObject (), "transactions must be an array" },
        { "transactions", cJSON_CreateString ("[]"), "transactions must be an array" },
        { "transactions", s_parse ("[{\"sender\":\"a\",\"signature\":\"s\"}]"), "data is missing" },
        { "transactions", s_parse ("[{\"sender\":\"a\",\"data\":1,\"signature\":\"s\"},"
                                   " {\"data\":1,\"signature\":\"s\"}]"),
          "sender must be a non-empty string" },
        { "transactions", s_parse ("[7]"), "transaction is not an object" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        cJSON *json = s_json_with (block, cases [i].name, cases [i].value);
        s_expect_block_error (json, cases [i].error);
        cJSON_Delete (json);
    }
    zstr_free (&poison_pem);
    zstr_free (&trailing_pem);
    //  A missing member is as bad as a wrong one
    cJSON *json = zc_block_to_json (block);
    cJSON_DeleteItemFromObjectCaseSensitive (json, "nonce");
    s_expect_block_error (json, bad_nonce);
    cJSON_Delete (json);
    json = s_parse ("[1]");
    s_expect_block_error (json, "block is not an object");
    cJSON_Delete (json);

    //  The block itself still parses
    json = zc_block_to_json (block);
    zc_block_t *copy = s_block_parse (json);
    cJSON_Delete (json);
    zc_block_destroy (&copy);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  A hash short of the difficulty's leading zeros is refused.
//  Issue 10: the node never makes a block it could not send, and every
//  block zc_block_from_json takes can be written back as canonical JSON.
START_TEST (test_sendable)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, NULL, 0);
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (block, hash);
    ck_assert_int_eq (zc_block_seal (block, 0, hash, "miner-1", keys), -1);
    ck_assert_int_eq (zc_block_seal (block, 0, hash, "\xff", keys), -1);
    ck_assert_int_eq (zc_block_seal (block, 0, "short", TESTUTIL_MINER_ID, keys), -1);
    ck_assert_str_eq (zc_block_miner_id (block), "");
    ck_assert_int_eq (zc_block_seal (block, 0, hash, TESTUTIL_MINER_ID, keys), 0);
    cJSON *json = zc_block_to_json (block);
    char *text = zc_jcs_serialize (json);
    ck_assert_ptr_nonnull (text);
    //  ...and read back through the strict reader, it is the same block
    cJSON *again = zc_json_parse (text, strlen (text));
    ck_assert_ptr_nonnull (again);
    const char *error = NULL;
    zc_block_t *copy = zc_block_from_json (again, &error);
    ck_assert_msg (copy != NULL, "%s", error);
    ck_assert_str_eq (zc_block_public_key_pem (copy), zc_keys_public_pem (keys));
    zc_block_destroy (&copy);
    cJSON_Delete (again);
    free (text);
    cJSON_Delete (json);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

START_TEST (test_check_pow)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 1);
    ck_assert_ptr_null (zc_block_check (block, 1, 10, true, NULL, NULL));
    const char *error = zc_block_check (block, 12, 10, true, NULL, NULL);
    ck_assert_ptr_nonnull (error);
    ck_assert_str_eq (error, "insufficient proof of work");
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  A block whose contents changed after sealing (a transaction or the
//  timestamp), or whose claimed hash has the zeros but is not its hash,
//  is refused even though the claimed hash meets the difficulty.
START_TEST (test_check_hash_mismatch)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 2);
    const char *expected = "current_hash does not match the block's contents";

    //  Timestamp changed
    cJSON *json = s_json_with (block, "timestamp",
                               cJSON_CreateString ("2024-01-01T00:00:02.000000Z"));
    zc_block_t *fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  One transaction's data changed
    json = zc_block_to_json (block);
    cJSON *tx = cJSON_GetArrayItem (cJSON_GetObjectItem (json, "transactions"), 1);
    cJSON_ReplaceItemInObjectCaseSensitive (tx, "data", s_parse ("{\"n\":100}"));
    fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  Transactions reordered
    json = zc_block_to_json (block);
    cJSON *txs = cJSON_GetObjectItem (json, "transactions");
    cJSON *first = cJSON_DetachItemFromArray (txs, 0);
    cJSON_AddItemToArray (txs, first);
    fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  Nonce changed
    json = s_json_with (block, "nonce", cJSON_CreateNumber ((double) zc_block_nonce (block) + 1));
    fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  A made-up hash with plenty of zeros, validly signed by the miner
    const char *made_up = "00000000000000000000000000000000000000000000000000000000000000ff";
    char *signature = zc_keys_sign (keys, made_up, ZC_HASH_HEX);
    json = s_json_with (block, "current_hash", cJSON_CreateString (made_up));
    cJSON_ReplaceItemInObjectCaseSensitive (json, "signature", cJSON_CreateString (signature));
    fake = s_block_parse (json);
    cJSON_Delete (json);
    free (signature);
    ck_assert_str_eq (zc_block_check (fake, 8, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  The miner's signature must be by the key shipped in the block, over
//  the hash.
START_TEST (test_check_miner_signature)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_keys_t *other = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 1);
    const char *expected = "bad miner signature";

    //  Signed by another key
    char *signature = zc_keys_sign (other, zc_block_hash (block), ZC_HASH_HEX);
    cJSON *json = s_json_with (block, "signature", cJSON_CreateString (signature));
    free (signature);
    zc_block_t *fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  Another key's PEM beside the real signature
    json = s_json_with (block, "public_key_pem", cJSON_CreateString (zc_keys_public_pem (other)));
    fake = s_block_parse (json);
    cJSON_Delete (json);
    ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
    zc_block_destroy (&fake);

    //  Garbage, empty signature, garbage PEM
    const char *values [][2] = {
        { "signature", "bm90IGEgc2lnbmF0dXJl" },   //  base64, not a signature
        { "signature", "" },
        { "public_key_pem", "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n" },
        { "public_key_pem", "" },
    };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        json = s_json_with (block, values [i][0], cJSON_CreateString (values [i][1]));
        fake = s_block_parse (json);
        cJSON_Delete (json);
        ck_assert_str_eq (zc_block_check (fake, 1, 10, true, NULL, NULL), expected);
        zc_block_destroy (&fake);
    }
    ck_assert_ptr_null (zc_block_check (block, 1, 10, true, NULL, NULL));
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
    zc_keys_destroy (&other);
}
END_TEST

//  More transactions than max_txs is refused; exactly max_txs is fine.
START_TEST (test_check_too_many)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = s_block_mined (keys, 3);
    ck_assert_str_eq (zc_block_check (block, 1, 2, true, NULL, NULL), "too many transactions");
    ck_assert_str_eq (zc_block_check (block, 1, 0, true, NULL, NULL), "too many transactions");
    ck_assert_ptr_null (zc_block_check (block, 1, 3, true, NULL, NULL));
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  The same transaction twice in one block is refused, signed or not.
START_TEST (test_check_duplicate_tx)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *txs [3];
    txs [0] = s_tx_signed (keys, 1);
    txs [1] = s_tx_signed (keys, 2);
    txs [2] = zc_tx_dup (txs [0]);
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, txs, 3);
    testutil_mine (block, 1, keys);
    const char *expected = "transaction appears twice in the block";
    ck_assert_str_eq (zc_block_check (block, 1, 10, true, NULL, NULL), expected);
    ck_assert_str_eq (zc_block_check (block, 1, 10, false, NULL, NULL), expected);
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  Skip callback: says it already knows (has verified) the one tx id in arg.
static bool
s_known (const char *tx_id, void *arg)
{
    return strcmp (tx_id, (const char *) arg) == 0;
}

//  A badly signed transaction is refused when verify_txs is set, unless the
//  skip callback says it is already known; with verify_txs off it passes.
START_TEST (test_check_bad_tx_signature)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *txs [2];
    txs [0] = s_tx_signed (keys, 1);
    txs [1] = s_tx_parse ("{\"sender\":\"AAAA\",\"data\":{\"item\":\"apple\",\"qty\":2},\"signature\":\"BBBB\"}");
    char good_id [ZC_HASH_HEX + 1], bad_id [ZC_HASH_HEX + 1];
    strcpy (good_id, zc_tx_id (txs [0]));
    strcpy (bad_id, zc_tx_id (txs [1]));
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, txs, 2);
    testutil_mine (block, 1, keys);
    ck_assert_str_eq (zc_block_check (block, 1, 10, true, NULL, NULL),
                      "bad transaction signature");
    ck_assert_ptr_null (zc_block_check (block, 1, 10, false, NULL, NULL));
    ck_assert_ptr_null (zc_block_check (block, 1, 10, true, s_known, bad_id));
    ck_assert_str_eq (zc_block_check (block, 1, 10, true, s_known, good_id),
                      "bad transaction signature");
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  Nothing may claim index 0, not even genesis itself.
START_TEST (test_check_genesis)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_block_t *block = zc_block_new (0, S_GENESIS_HASH, S_TS1, NULL, 0);
    testutil_mine (block, 1, keys);
    ck_assert_str_eq (zc_block_check (block, 1, 10, true, NULL, NULL),
                      "a block cannot replace genesis");
    zc_block_destroy (&block);
    block = zc_block_genesis ();
    ck_assert_str_eq (zc_block_check (block, 0, 10, true, NULL, NULL),
                      "a block cannot replace genesis");
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  A properly mined and signed block with signed transactions passes at
//  its difficulty and every lower one.
START_TEST (test_check_valid)
{
    zc_keys_t *keys = zc_keys_new ();
    zc_tx_t *txs [2];
    txs [0] = s_tx_signed (keys, 1);
    txs [1] = s_tx_signed (keys, 2);
    zc_block_t *block = zc_block_new (1, S_GENESIS_HASH, S_TS1, txs, 2);
    testutil_mine (block, 2, keys);
    ck_assert (zc_hash_meets (zc_block_hash (block), 2));
    ck_assert_ptr_null (zc_block_check (block, 2, 2, true, NULL, NULL));
    ck_assert_ptr_null (zc_block_check (block, 1, 2, true, NULL, NULL));
    ck_assert_ptr_null (zc_block_check (block, 0, 2, true, NULL, NULL));
    ck_assert_ptr_null (zc_block_check (block, 2, 2, false, NULL, NULL));
    zc_block_destroy (&block);
    zc_keys_destroy (&keys);
}
END_TEST

//  Worked example for doc/PROTOCOL.md: index 1 on genesis, no
//  transactions, nonce 42.  The hash is pinned and also recomputed with
//  OpenSSL's EVP over the literal preimage followed by "42".
START_TEST (test_vector_empty)
{
    const char *literal =
        "{\"index\":1,\"prev_hash\":\"" S_GENESIS_HASH "\","
        "\"timestamp\":\"2024-01-01T00:00:01.000000Z\",\"transactions\":[]}";
    const char *pinned = "0ca1fb7f5b881de3cb689ac61f878b6343a51f3d707e5a4c9d5ebad8ff91a244";
    zc_block_t *genesis = zc_block_genesis ();
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddNumberToObject (json, "index", 1);
    cJSON_AddStringToObject (json, "prev_hash", zc_block_hash (genesis));
    cJSON_AddStringToObject (json, "current_hash", pinned);
    cJSON_AddStringToObject (json, "timestamp", "2024-01-01T00:00:01.000000Z");
    cJSON_AddNumberToObject (json, "nonce", 42);
    cJSON_AddStringToObject (json, "miner_id", TESTUTIL_MINER_ID);
    cJSON_AddStringToObject (json, "signature", "");
    cJSON_AddStringToObject (json, "public_key_pem", "");
    cJSON_AddArrayToObject (json, "transactions");
    zc_block_t *block = s_block_parse (json);
    cJSON_Delete (json);

    char *preimage = zc_block_preimage (block);
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (block, hash);
    fprintf (stderr, "vector 1 preimage: %s\nvector 1 nonce: 42\nvector 1 hash: %s\n",
             preimage, hash);
    ck_assert_str_eq (preimage, literal);
    ck_assert_str_eq (hash, pinned);
    char *text = zsys_sprintf ("%s42", literal);
    char evp [ZC_HASH_HEX + 1];
    s_evp_sha256_hex (text, strlen (text), evp);
    ck_assert_str_eq (hash, evp);
    zstr_free (&text);
    free (preimage);
    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
}
END_TEST

//  Worked example with one transaction of fixed literal fields (sender
//  "AAAA", signature "BBBB", data {"item":"apple","qty":2}), nonce 7.
START_TEST (test_vector_one_tx)
{
    const char *literal =
        "{\"index\":1,\"prev_hash\":\"" S_GENESIS_HASH "\","
        "\"timestamp\":\"2024-01-01T00:00:01.000000Z\",\"transactions\":["
        "{\"data\":{\"item\":\"apple\",\"qty\":2},\"sender\":\"AAAA\",\"signature\":\"BBBB\"}]}";
    const char *pinned = "b903496d7dce7c16efc298dd6d17029441fe74b4b2f0a3a522f83f8e7a890da7";
    zc_block_t *genesis = zc_block_genesis ();
    zc_tx_t *tx = s_tx_parse ("{\"sender\":\"AAAA\",\"signature\":\"BBBB\","
                              "\"data\":{\"item\":\"apple\",\"qty\":2}}");
    zc_block_t *block = zc_block_new (1, zc_block_hash (genesis),
                                      "2024-01-01T00:00:01.000000Z", &tx, 1);
    //  Seal sets the nonce; the hash recomputed for nonce 7 is the vector
    zc_keys_t *keys = zc_keys_new ();
    ck_assert_int_eq (zc_block_seal (block, 7, pinned, TESTUTIL_MINER_ID, keys), 0);
    char *preimage = zc_block_preimage (block);
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (block, hash);
    fprintf (stderr, "vector 2 preimage: %s\nvector 2 nonce: 7\nvector 2 hash: %s\n",
             preimage, hash);
    ck_assert_str_eq (preimage, literal);
    ck_assert_str_eq (hash, pinned);
    char *text = zsys_sprintf ("%s7", literal);
    char evp [ZC_HASH_HEX + 1];
    s_evp_sha256_hex (text, strlen (text), evp);
    ck_assert_str_eq (hash, evp);
    //  Signed over the right hash, with a forged tx signature: only the
    //  transaction check fails
    ck_assert_str_eq (zc_block_check (block, 0, 10, true, NULL, NULL),
                      "bad transaction signature");
    ck_assert_ptr_null (zc_block_check (block, 0, 10, false, NULL, NULL));
    zstr_free (&text);
    free (preimage);
    zc_block_destroy (&block);
    zc_block_destroy (&genesis);
    zc_keys_destroy (&keys);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("block");
    TCase *tcase = tcase_create ("tx");
    tcase_add_test (tcase, test_tx_sign_verify);
    tcase_add_test (tcase, test_tx_tampered);
    tcase_add_test (tcase, test_tx_shape_errors);
    tcase_add_test (tcase, test_tx_id);
    tcase_add_test (tcase, test_tx_dup);
    suite_add_tcase (suite, tcase);

    tcase = tcase_create ("block");
    tcase_set_timeout (tcase, 60);
    tcase_add_test (tcase, test_genesis);
    tcase_add_test (tcase, test_preimage_text);
    tcase_add_test (tcase, test_hash_formula);
    tcase_add_test (tcase, test_json_roundtrip);
    tcase_add_test (tcase, test_canonical_text);
    tcase_add_test (tcase, test_from_json_rejects);
    tcase_add_test (tcase, test_sendable);
    tcase_add_test (tcase, test_check_pow);
    tcase_add_test (tcase, test_check_hash_mismatch);
    tcase_add_test (tcase, test_check_miner_signature);
    tcase_add_test (tcase, test_check_too_many);
    tcase_add_test (tcase, test_check_duplicate_tx);
    tcase_add_test (tcase, test_check_bad_tx_signature);
    tcase_add_test (tcase, test_check_genesis);
    tcase_add_test (tcase, test_check_valid);
    tcase_add_test (tcase, test_vector_empty);
    tcase_add_test (tcase, test_vector_one_tx);
    suite_add_tcase (suite, tcase);

    //  Its own case, so CK_RUN_CASE can run the rest apart from it
    tcase = tcase_create ("large_index");
    tcase_add_test (tcase, test_preimage_large_index);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
