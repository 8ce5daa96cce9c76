/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_keys.c - unit tests of zc_keys (Ed25519) and zc_util helpers

    Keys: sign and verify both ways, tampering, malformed keys and
    signatures of every kind, save/load through a 0600 PEM file.  Util:
    RFC 4648 base64 vectors and strict decoding, SHA-256, timestamps,
    ISO 8601, hash text, UUIDs and the monotonic clock.
    =========================================================================
*/

#include "../testutil.h"
#include <sys/stat.h>

//  Writes text to path, replacing it.
static void
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "wb");
    ck_assert_ptr_nonnull (file);
    ck_assert_uint_eq (fwrite (text, 1, strlen (text), file), strlen (text));
    fclose (file);
}

START_TEST (test_sign_verify)
{
    zc_keys_t *keys = zc_keys_new ();
    ck_assert_ptr_nonnull (keys);
    const char *public_b64 = zc_keys_public_b64 (keys);
    ck_assert_uint_eq (strlen (public_b64), 44);
    const char *public_pem = zc_keys_public_pem (keys);
    ck_assert_ptr_nonnull (strstr (public_pem, "-----BEGIN PUBLIC KEY-----"));

    const char *data = "{\"data\":1,\"sender\":\"x\"}";
    char *signature = zc_keys_sign (keys, data, strlen (data));
    ck_assert_ptr_nonnull (signature);
    ck_assert_uint_eq (strlen (signature), 88);
    ck_assert (zc_verify_raw (public_b64, data, strlen (data), signature));
    ck_assert (zc_verify_pem (public_pem, data, strlen (data), signature));

    //  Tampered data
    char *tampered = strdup (data);
    tampered [9] = '2';
    ck_assert (!zc_verify_raw (public_b64, tampered, strlen (tampered), signature));
    ck_assert (!zc_verify_pem (public_pem, tampered, strlen (tampered), signature));
    ck_assert (!zc_verify_raw (public_b64, data, strlen (data) - 1, signature));
    free (tampered);

    //  Tampered signature: flip bits in the first character
    char *bad_signature = strdup (signature);
    bad_signature [0] = bad_signature [0] == 'A'? 'B': 'A';
    ck_assert (!zc_verify_raw (public_b64, data, strlen (data), bad_signature));
    ck_assert (!zc_verify_pem (public_pem, data, strlen (data), bad_signature));
    free (bad_signature);

    //  Another key's signature
    zc_keys_t *other = zc_keys_new ();
    ck_assert_str_ne (zc_keys_public_b64 (other), public_b64);
    char *other_signature = zc_keys_sign (other, data, strlen (data));
    ck_assert (!zc_verify_raw (public_b64, data, strlen (data), other_signature));
    ck_assert (zc_verify_raw (zc_keys_public_b64 (other), data, strlen (data),
                              other_signature));
    free (other_signature);
    zc_keys_destroy (&other);

    //  Empty data signs and verifies too
    char *empty_signature = zc_keys_sign (keys, NULL, 0);
    ck_assert_ptr_nonnull (empty_signature);
    ck_assert (zc_verify_raw (public_b64, "", 0, empty_signature));
    ck_assert (!zc_verify_raw (public_b64, "x", 1, empty_signature));
    free (empty_signature);

    free (signature);
    zc_keys_destroy (&keys);
    zc_keys_destroy (&keys);
    ck_assert_ptr_null (keys);
}
END_TEST

START_TEST (test_malformed)
{
    zc_keys_t *keys = zc_keys_new ();
    const char *public_b64 = zc_keys_public_b64 (keys);
    const char *data = "hello";
    char *signature = zc_keys_sign (keys, data, 5);
    ck_assert (zc_verify_raw (public_b64, data, 5, signature));

    //  Bad public keys
    ck_assert (!zc_verify_raw (NULL, data, 5, signature));
    ck_assert (!zc_verify_raw ("", data, 5, signature));
    ck_assert (!zc_verify_raw ("not base64!", data, 5, signature));
    ck_assert (!zc_verify_raw ("AAAA", data, 5, signature));       //  3 bytes
    char *with_space = malloc (strlen (public_b64) + 2);
    sprintf (with_space, " %s", public_b64);
    ck_assert (!zc_verify_raw (with_space, data, 5, signature));
    free (with_space);
    uint8_t long_key [33] = { 0 };
    char *long_b64 = zc_base64_encode (long_key, sizeof long_key);
    ck_assert (!zc_verify_raw (long_b64, data, 5, signature));
    free (long_b64);
    //  All-zero 32 bytes: a valid length but not this key (and a weak point)
    char *zero_b64 = zc_base64_encode (long_key, 32);
    ck_assert (!zc_verify_raw (zero_b64, data, 5, signature));
    free (zero_b64);

    //  Bad signatures
    ck_assert (!zc_verify_raw (public_b64, data, 5, NULL));
    ck_assert (!zc_verify_raw (public_b64, data, 5, ""));
    ck_assert (!zc_verify_raw (public_b64, data, 5, "%%%%"));
    char *short_signature = strdup (signature);
    short_signature [strlen (short_signature) - 4] = 0;  //  63 bytes
    ck_assert (!zc_verify_raw (public_b64, data, 5, short_signature));
    free (short_signature);
    uint8_t zero_signature [64] = { 0 };
    char *zero_sig_b64 = zc_base64_encode (zero_signature, sizeof zero_signature);
    ck_assert (!zc_verify_raw (public_b64, data, 5, zero_sig_b64));
    free (zero_sig_b64);
    ck_assert (!zc_verify_raw (public_b64, NULL, 5, signature));

    //  Bad PEM
    ck_assert (!zc_verify_pem (NULL, data, 5, signature));
    ck_assert (!zc_verify_pem ("", data, 5, signature));
    ck_assert (!zc_verify_pem ("garbage", data, 5, signature));
    ck_assert (!zc_verify_pem ("-----BEGIN PUBLIC KEY-----\nAAAA\n"
                               "-----END PUBLIC KEY-----\n", data, 5, signature));
    //  A PEM cut in half
    char *half = strdup (zc_keys_public_pem (keys));
    half [strlen (half) / 2] = 0;
    ck_assert (!zc_verify_pem (half, data, 5, signature));
    free (half);
    //  A private key is not a public key
    ck_assert (!zc_verify_pem ("-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIFmiNR1KyBEsjuxH/NQKIkzjQ2TnbEY4r0LwoxTSdK3a\n"
        "-----END PRIVATE KEY-----\n", data, 5, signature));
    //  A P-256 public key is the wrong algorithm
    ck_assert (!zc_verify_pem ("-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC3Iv7xtp1m5q2mQcHGW1e12OR9Ai\n"
        "/x+jrfyzW+hOqRshxehc5k7agHI8J3AKfYxWyhU8U18rn3FDPtTgJ+uNbw==\n"
        "-----END PUBLIC KEY-----\n", data, 5, signature));

    free (signature);
    ck_assert_ptr_null (zc_keys_sign (NULL, data, 5));
    ck_assert_ptr_null (zc_keys_sign (keys, NULL, 5));
    zc_keys_destroy (&keys);
    zc_keys_destroy (NULL);
}
END_TEST

//  Decoded PEM keys are remembered (issue 11): a remembered text still
//  verifies only its own key's signatures, a text differing by one byte is
//  decoded on its own, and more keys than are remembered still verify.
START_TEST (test_pem_remembered)
{
    enum { KEYS = 80 };                 //  more than zc_keys remembers
    const char *data = "block hash";
    zc_keys_t *keys [KEYS];
    char *signatures [KEYS];
    for (int i = 0; i < KEYS; i++) {
        keys [i] = zc_keys_new ();
        ck_assert_ptr_nonnull (keys [i]);
        signatures [i] = zc_keys_sign (keys [i], data, strlen (data));
        ck_assert_ptr_nonnull (signatures [i]);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < KEYS; i++) {
            const char *pem = zc_keys_public_pem (keys [i]);
            ck_assert (zc_verify_pem (pem, data, strlen (data), signatures [i]));
            ck_assert (!zc_verify_pem (pem, data, strlen (data), signatures [(i + 1) % KEYS]));
            char *b64 = zc_pem_to_public_b64 (pem);
            ck_assert_str_eq (b64, zc_keys_public_b64 (keys [i]));
            free (b64);
        }
    //  One byte of the base64 changed: another (or no) key, never the one
    //  remembered for the original text
    char *altered = strdup (zc_keys_public_pem (keys [0]));
    char *body = strchr (altered, '\n') + 1;
    body [20] = body [20] == 'A'? 'B': 'A';
    ck_assert (!zc_verify_pem (altered, data, strlen (data), signatures [0]));
    char *b64 = zc_pem_to_public_b64 (altered);
    ck_assert (!b64 || strcmp (b64, zc_keys_public_b64 (keys [0])) != 0);
    free (b64);
    free (altered);
    //  A text too long to remember is still decoded
    char *padded = zsys_sprintf ("%s%*s", zc_keys_public_pem (keys [1]), 300, "");
    ck_assert (zc_verify_pem (padded, data, strlen (data), signatures [1]));
    free (padded);
    for (int i = 0; i < KEYS; i++) {
        free (signatures [i]);
        zc_keys_destroy (&keys [i]);
    }
}
END_TEST

START_TEST (test_save_load)
{
    char *folder = testutil_tempdir ();
    char path [256];
    snprintf (path, sizeof path, "%s/node.pem", folder);

    zc_keys_t *keys = zc_keys_new ();
    ck_assert_int_eq (zc_keys_save (keys, path), 0);
    struct stat status;
    ck_assert_int_eq (stat (path, &status), 0);
    ck_assert_int_eq (status.st_mode & 0777, 0600);

    zc_keys_t *loaded = zc_keys_load (path);
    ck_assert_ptr_nonnull (loaded);
    ck_assert_str_eq (zc_keys_public_b64 (loaded), zc_keys_public_b64 (keys));
    ck_assert_str_eq (zc_keys_public_pem (loaded), zc_keys_public_pem (keys));
    //  The loaded key signs for the original public key
    char *signature = zc_keys_sign (loaded, "abc", 3);
    ck_assert (zc_verify_raw (zc_keys_public_b64 (keys), "abc", 3, signature));
    free (signature);
    zc_keys_destroy (&loaded);

    //  Saving again replaces the file, still 0600, no temp left behind
    ck_assert_int_eq (zc_keys_save (keys, path), 0);
    ck_assert_int_eq (stat (path, &status), 0);
    ck_assert_int_eq (status.st_mode & 0777, 0600);
    char command [512];
    snprintf (command, sizeof command, "test $(ls '%s' | wc -l) -eq 1", folder);
    ck_assert_int_eq (system (command), 0);

    //  load_or_create reuses an existing key
    loaded = zc_keys_load_or_create (path);
    ck_assert_ptr_nonnull (loaded);
    ck_assert_str_eq (zc_keys_public_b64 (loaded), zc_keys_public_b64 (keys));
    zc_keys_destroy (&loaded);

    //  ...and creates a missing one, then reuses it
    char new_path [256];
    snprintf (new_path, sizeof new_path, "%s/new.pem", folder);
    zc_keys_t *created = zc_keys_load_or_create (new_path);
    ck_assert_ptr_nonnull (created);
    ck_assert_int_eq (stat (new_path, &status), 0);
    ck_assert_int_eq (status.st_mode & 0777, 0600);
    loaded = zc_keys_load_or_create (new_path);
    ck_assert_str_eq (zc_keys_public_b64 (loaded), zc_keys_public_b64 (created));
    zc_keys_destroy (&loaded);
    zc_keys_destroy (&created);

    //  Garbage, empty and non-key files are refused, never replaced
    char bad_path [256];
    snprintf (bad_path, sizeof bad_path, "%s/bad.pem", folder);
    s_write_file (bad_path, "this is not a key\n");
    ck_assert_ptr_null (zc_keys_load (bad_path));
    ck_assert_ptr_null (zc_keys_load_or_create (bad_path));
    s_write_file (bad_path, "");
    ck_assert_ptr_null (zc_keys_load (bad_path));
    s_write_file (bad_path, zc_keys_public_pem (keys));
    ck_assert_ptr_null (zc_keys_load (bad_path));
    s_write_file (bad_path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    ck_assert_ptr_null (zc_keys_load (bad_path));
    ck_assert_ptr_null (zc_keys_load_or_create (bad_path));
    //  A folder where the key should be
    ck_assert_ptr_null (zc_keys_load (folder));

    //  Missing files and unwritable places
    char missing [256];
    snprintf (missing, sizeof missing, "%s/missing.pem", folder);
    ck_assert_ptr_null (zc_keys_load (missing));
    ck_assert_ptr_null (zc_keys_load (NULL));
    snprintf (missing, sizeof missing, "%s/no/such/dir/key.pem", folder);
    ck_assert_int_eq (zc_keys_save (keys, missing), -1);
    ck_assert_ptr_null (zc_keys_load_or_create (missing));

    zc_keys_destroy (&keys);
    testutil_rmdir (folder);
    free (folder);
}
END_TEST

START_TEST (test_base64)
{
    //  RFC 4648 section 10
    static const char *vectors [][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" }
    };
    size_t index;
    for (index = 0; index < sizeof vectors / sizeof vectors [0]; index++) {
        const char *plain = vectors [index][0];
        char *encoded = zc_base64_encode ((const uint8_t *) plain, strlen (plain));
        ck_assert_str_eq (encoded, vectors [index][1]);
        free (encoded);
        size_t size = 99;
        uint8_t *decoded = zc_base64_decode (vectors [index][1], &size);
        ck_assert_ptr_nonnull (decoded);
        ck_assert_uint_eq (size, strlen (plain));
        ck_assert (memcmp (decoded, plain, size) == 0);
        free (decoded);
    }
    //  Every byte value survives a round trip
    uint8_t all [256];
    for (index = 0; index < 256; index++)
        all [index] = (uint8_t) index;
    char *encoded = zc_base64_encode (all, sizeof all);
    size_t size = 0;
    uint8_t *decoded = zc_base64_decode (encoded, &size);
    ck_assert_uint_eq (size, 256);
    ck_assert (memcmp (decoded, all, 256) == 0);
    free (decoded);
    free (encoded);

    //  Strictness: anything but the one canonical encoding is refused
    static const char *bad [] = {
        "Zg", "Zg=", "Zm9", "Zg===", "Z===", "====", "=Zg=", "Zg=a", "Zm=v",
        "Zm9v Yg==", "Zm9v\nYg==", "Zm9vYg", "Zm9-", "Zm9_", "Zm9v!", "Zh==",
        "Zm9=", "Zm8==", "Zg==Zg=="
    };
    for (index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        size = 0;
        decoded = zc_base64_decode (bad [index], &size);
        ck_assert_msg (decoded == NULL, "accepted '%s'", bad [index]);
    }
    ck_assert_ptr_null (zc_base64_decode (NULL, &size));
}
END_TEST

START_TEST (test_digests)
{
    char hash [ZC_HASH_HEX + 1];
    zc_sha256_hex ("abc", 3, hash);
    ck_assert_str_eq (hash,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert (zc_hash_valid (hash));
    zc_sha256_hex ("", 0, hash);
    ck_assert_str_eq (hash,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    char hex [9];
    const uint8_t bytes [] = { 0x00, 0x7f, 0xab, 0xff };
    zc_hex_encode (bytes, 4, hex);
    ck_assert_str_eq (hex, "007fabff");

    ck_assert (!zc_hash_valid (NULL));
    ck_assert (!zc_hash_valid (""));
    ck_assert (!zc_hash_valid ("abc"));
    ck_assert (!zc_hash_valid (
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    ck_assert (!zc_hash_valid (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
    ck_assert (!zc_hash_valid (
        "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}
END_TEST

START_TEST (test_timestamps)
{
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    ck_assert_uint_eq (strlen (now), ZC_TIMESTAMP_LEN);
    ck_assert (zc_timestamp_valid (now));
    ck_assert (zc_iso8601_valid (now));
    ck_assert (zc_timestamp_valid (ZC_GENESIS_TIMESTAMP));
    ck_assert (zc_timestamp_valid ("2024-02-29T23:59:59.999999Z"));

    ck_assert (!zc_timestamp_valid (NULL));
    ck_assert (!zc_timestamp_valid (""));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00.000000+00:00"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00.00000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00.0000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01 12:00:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-13-01T12:00:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2023-02-29T12:00:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-00T12:00:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T24:00:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:60:00.000000Z"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00.00000aZ"));
    ck_assert (!zc_timestamp_valid ("2024-05-01T12:00:00.000000z"));

    ck_assert (zc_iso8601_valid ("2024-05-01T12:00:00Z"));
    ck_assert (zc_iso8601_valid ("2024-05-01T12:00:00.5+02:00"));
    ck_assert (zc_iso8601_valid ("2024-05-01T12:00:00.123456789-11:30"));
    ck_assert (zc_iso8601_valid ("2024-05-01T12:00:00+00:00"));
    ck_assert (!zc_iso8601_valid ("yesterday"));
    ck_assert (!zc_iso8601_valid (NULL));
    ck_assert (!zc_iso8601_valid (""));
    ck_assert (!zc_iso8601_valid ("2024-05-01"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00.Z"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00Zjunk"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00+2:00"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00+02:00:00"));
    ck_assert (!zc_iso8601_valid ("2024-05-01T12:00:00+24:00"));
    ck_assert (!zc_iso8601_valid ("2024-02-30T12:00:00Z"));
}
END_TEST

START_TEST (test_uuid_clock)
{
    char first [37], second [37];
    zc_uuid_new (first);
    zc_uuid_new (second);
    ck_assert_uint_eq (strlen (first), 36);
    ck_assert_str_ne (first, second);
    ck_assert (first [8] == '-' && first [13] == '-' && first [18] == '-'
            && first [23] == '-');
    ck_assert (first [14] == '4');
    ck_assert (strchr ("89ab", first [19]) != NULL);

    int64_t start = zc_clock_usecs ();
    usleep (2000);
    int64_t end = zc_clock_usecs ();
    ck_assert (end - start >= 2000);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("keys");
    TCase *tcase = tcase_create ("core");
    tcase_add_test (tcase, test_sign_verify);
    tcase_add_test (tcase, test_malformed);
    tcase_add_test (tcase, test_pem_remembered);
    tcase_add_test (tcase, test_save_load);
    tcase_add_test (tcase, test_base64);
    tcase_add_test (tcase, test_digests);
    tcase_add_test (tcase, test_timestamps);
    tcase_add_test (tcase, test_uuid_clock);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
