/*  =========================================================================
    test_pow.c - every proof-of-work kernel hashes exactly as OpenSSL does

    For random preimages of every length 0..300 and nonces around every
    digit-count boundary (so 9 -> 10 -> 11 digits among them), around 2^32
    and up to 2^53, each kernel this machine runs must give OpenSSL's
    SHA-256 of preimage + decimal nonce, find every nonce that meets the
    difficulty and no other.  The lengths cover every tail size and so
    every layout (one block, last block, spill, two blocks).
    =========================================================================
*/

#include "../testutil.h"
#include <openssl/evp.h>

//  SHA-256 of preimage followed by the decimal nonce, the plain way.
static void
s_reference (const uint8_t *preimage, size_t size, uint64_t nonce, uint8_t *digest)
{
    uint8_t text [400];
    memcpy (text, preimage, size);
    int digits = snprintf ((char *) text + size, 24, "%" PRIu64, nonce);
    unsigned int length = 0;
    ck_assert (EVP_Digest (text, size + (size_t) digits, digest, &length, EVP_sha256 (), NULL));
}

//  True if the digest starts with difficulty '0' hex digits.
static bool
s_meets (const uint8_t *digest, int difficulty)
{
    for (int i = 0; i < difficulty; i++)
        if ((digest [i / 2] >> (i % 2? 0: 4)) & 0xf)
            return false;
    return true;
}

//  Searches [from, to) at difficulty 1 hit after hit with the kernel; each
//  hit must be the next nonce whose reference digest meets, with that
//  digest.  Returns how many nonces were checked.
static uint64_t
s_check_window (zc_pow_t *pow, const uint8_t *preimage, size_t size, uint64_t from, uint64_t to)
{
    uint64_t next = from;           //  nonces before next are checked
    while (next < to) {
        uint64_t nonce = 0, tried = 0;
        uint8_t digest [32], expected [32];
        int rc = zc_pow_search (pow, next, to, &nonce, digest, &tried, NULL, NULL);
        ck_assert_int_ge (rc, 0);
        uint64_t end = rc == 1? nonce: next + tried;
        ck_assert_uint_gt (tried, 0);
        //  Nothing between next and the hit (or the end of what it tried) meets
        for (uint64_t miss = next; miss < end; miss++) {
            s_reference (preimage, size, miss, expected);
            if (s_meets (expected, 1))
                ck_abort_msg ("kernel %s, length %zu: nonce %" PRIu64 " meets but was passed",
                              zc_pow_kernel_name (zc_pow_kernel (pow)), size, miss);
        }
        if (rc == 1) {
            s_reference (preimage, size, nonce, expected);
            if (memcmp (digest, expected, 32) != 0)
                ck_abort_msg ("kernel %s, length %zu, nonce %" PRIu64 ": wrong digest",
                              zc_pow_kernel_name (zc_pow_kernel (pow)), size, nonce);
            ck_assert (s_meets (expected, 1));
            next = nonce + 1;
        }
        else
            next = end;
    }
    return to - from;
}

//  Every usable kernel, every length 0..300, windows of nonces around
//  each digit-count boundary, 2^32 and the top, 2^53.
START_TEST (test_kernels_match_openssl)
{
    unsigned seed = 14;
    uint8_t preimage [301];
    int kernels_run = 0;
    for (int kernel = 0; kernel < ZC_POW_KERNELS; kernel++) {
        if (zc_pow_kernel_unusable (kernel))
            continue;
        kernels_run++;
        uint64_t checked = 0;
        for (size_t size = 0; size <= 300; size++) {
            for (size_t i = 0; i < size; i++)
                preimage [i] = (uint8_t) rand_r (&seed);
            zc_pow_t *pow = zc_pow_new (kernel, preimage, size, 1);
            ck_assert_int_eq (zc_pow_kernel (pow), kernel);
            checked += s_check_window (pow, preimage, size, 0, 24);
            uint64_t power = 10;
            for (int digits = 2; digits <= 16; digits++, power *= 10)
                checked += s_check_window (pow, preimage, size, power - 12, power + 12);
            checked += s_check_window (pow, preimage, size, (1ULL << 32) - 12, (1ULL << 32) + 12);
            checked += s_check_window (pow, preimage, size, (1ULL << 53) - 23, (1ULL << 53) + 1);
            zc_pow_destroy (&pow);
            ck_assert_ptr_null (pow);
        }
        fprintf (stderr, "test_pow: kernel %s: %" PRIu64 " nonces checked\n",
                 zc_pow_kernel_name (kernel), checked);
    }
    ck_assert_int_ge (kernels_run, 1);
}
END_TEST

//  Whole chunks: the kernels find the same first winning nonce as a
//  brute force over the same chunk, at difficulty 2, for every layout.
START_TEST (test_first_nonce_in_chunk)
{
    unsigned seed = 7;
    for (size_t size = 40; size < 40 + 64; size += 3) {
        uint8_t preimage [128];
        for (size_t i = 0; i < size; i++)
            preimage [i] = (uint8_t) ('a' + rand_r (&seed) % 26);
        for (int kernel = 0; kernel < ZC_POW_KERNELS; kernel++) {
            if (zc_pow_kernel_unusable (kernel))
                continue;
            zc_pow_t *pow = zc_pow_new (kernel, preimage, size, 2);
            for (uint64_t index = 0; index < 3; index++) {
                uint64_t from, to, nonce = 0, tried = 0;
                zc_pow_chunk (pow, index * 1000, &from, &to);
                uint8_t digest [32], expected [32];
                int rc = zc_pow_search (pow, from, to, &nonce, digest, &tried, NULL, NULL);
                uint64_t brute = from;
                for (; brute < to; brute++) {
                    s_reference (preimage, size, brute, expected);
                    if (s_meets (expected, 2))
                        break;
                }
                if (brute < to) {
                    ck_assert_int_eq (rc, 1);
                    ck_assert_uint_eq (nonce, brute);
                    ck_assert_mem_eq (digest, expected, 32);
                }
                else
                    ck_assert_int_eq (rc, 0);
            }
            zc_pow_destroy (&pow);
        }
    }
}
END_TEST

//  The order covers 0 .. 2^53 once, in chunks of at most 10^4 that share
//  all but the last four digits, cheapest layout first.
START_TEST (test_search_order)
{
    uint8_t preimage [64 + 49];
    memset (preimage, 'x', sizeof preimage);
    //  A tail of 49 bytes: 0 .. 999999 fit one block, 10^15.. spill
    zc_pow_t *pow = zc_pow_new (ZC_POW_PORTABLE, preimage, sizeof preimage, 1);
    uint64_t from, to, total = 0;
    uint64_t chunks = zc_pow_chunks (pow);
    zc_pow_chunk (pow, 0, &from, &to);
    ck_assert_uint_eq (from, 0);
    ck_assert_uint_eq (to, 10);
    double cost = 0;
    ck_assert_str_eq (zc_pow_layout (pow, 999999, &cost), "one block");
    ck_assert (cost == 1);
    ck_assert_str_eq (zc_pow_layout (pow, 1000000, &cost), "two blocks");
    ck_assert (cost == 2);
    ck_assert_str_eq (zc_pow_layout (pow, 1000000000000000ULL, &cost), "spill");
    //  After the one-block ranges (4 small chunks, then 99 of 10^4) comes 10^15
    zc_pow_chunk (pow, 4 + 99, &from, &to);
    ck_assert_uint_eq (from, 1000000000000000ULL);
    ck_assert_uint_eq (to, 1000000000010000ULL);
    zc_pow_chunk (pow, chunks - 1, &from, &to);
    ck_assert_uint_eq (to, 1000000000000000ULL);
    //  Every chunk's size adds up to 2^53 + 1 nonces; sample the sizes
    for (uint64_t index = 0; index < chunks; index += 1 + index / 3) {
        zc_pow_chunk (pow, index, &from, &to);
        ck_assert_uint_gt (to, from);
        ck_assert_uint_le (to - from, 10000);
        ck_assert_uint_eq (from / 10000, (to - 1) / 10000);
    }
    for (int digits = 1; digits <= 16; digits++)
        total += digits <= 4? (digits == 1? 10: 9 * (uint64_t) (digits == 2? 10: digits == 3? 100: 1000))
                            : 0;
    ck_assert_uint_eq (total, 10000);
    ck_assert_uint_eq (chunks, 4 + (((1ULL << 53) + 1 - 10000) + 9999) / 10000);
    zc_pow_destroy (&pow);
}
END_TEST

//  A disabled kernel (as if the CPU lacked it) is unusable, and the best
//  is then another; names round-trip.
START_TEST (test_kernel_choice)
{
    for (int kernel = 0; kernel < ZC_POW_KERNELS; kernel++)
        ck_assert_int_eq (zc_pow_kernel_lookup (zc_pow_kernel_name (kernel)), kernel);
    ck_assert_int_eq (zc_pow_kernel_lookup ("mmx"), -1);
    ck_assert_ptr_null (zc_pow_kernel_unusable (ZC_POW_PORTABLE));
    int best = zc_pow_kernel_best ();
    ck_assert_ptr_null (zc_pow_kernel_unusable (best));
    setenv ("ZCHAIN_POW_DISABLE", "avx512,sha-ni,avx2", 1);
    ck_assert_ptr_nonnull (zc_pow_kernel_unusable (ZC_POW_AVX512));
    ck_assert_ptr_nonnull (zc_pow_kernel_unusable (ZC_POW_AVX2));
    ck_assert_ptr_nonnull (zc_pow_kernel_unusable (ZC_POW_SHANI));
    ck_assert_int_eq (zc_pow_kernel_best (), ZC_POW_PORTABLE);
    //  Asked for one it cannot run, a search runs the portable kernel
    zc_pow_t *pow = zc_pow_new (ZC_POW_AVX512, "abc", 3, 1);
    ck_assert_int_eq (zc_pow_kernel (pow), ZC_POW_PORTABLE);
    zc_pow_destroy (&pow);
    char *list = zc_pow_kernel_list ();
    ck_assert_str_eq (list, "portable");
    free (list);
    unsetenv ("ZCHAIN_POW_DISABLE");
    ck_assert_int_eq (zc_pow_kernel_best (), best);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("pow");
    TCase *tcase = tcase_create ("kernels");
    tcase_set_timeout (tcase, 600);
    tcase_add_test (tcase, test_kernel_choice);
    tcase_add_test (tcase, test_search_order);
    tcase_add_test (tcase, test_first_nonce_in_chunk);
    tcase_add_test (tcase, test_kernels_match_openssl);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
