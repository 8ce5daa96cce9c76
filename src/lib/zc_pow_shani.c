/*  =========================================================================
    zc_pow_shani - SHA-256 with the SHA extensions, two streams interleaved

    sha256rnds2 does two rounds, but each depends on the one before, so a
    single stream leaves the unit idle for most of its latency.  Two
    independent lanes, their instructions interleaved, fill that gap.  A
    call runs the sixteen lanes as eight pairs.  The state lives in the
    instructions' ABEF / CDGH register form; the message schedule uses
    sha256msg1 / sha256msg2 on four words at a time.
    =========================================================================
*/

#include "zc_pow_kernel.h"

#ifdef ZC_POW_X86
#include <immintrin.h>

#define S_TARGET __attribute__((target("sha,sse4.1")))

//  Words 4q..4q+3 of lanes `lane` (into *x) and `lane + 1` (into *y),
//  from the transposed rows: a 4 x 2 transpose of two-lane row pieces
S_TARGET static inline void
s_words (const uint32_t *words, int q, int lane, __m128i *x, __m128i *y)
{
    const uint32_t *row = words + 16 * 4 * q + lane;
    __m128i r0 = _mm_loadl_epi64 ((const __m128i *) row);
    __m128i r1 = _mm_loadl_epi64 ((const __m128i *) (row + 16));
    __m128i r2 = _mm_loadl_epi64 ((const __m128i *) (row + 32));
    __m128i r3 = _mm_loadl_epi64 ((const __m128i *) (row + 48));
    __m128i a = _mm_unpacklo_epi32 (r0, r1);       //  w0 x, w1 x, w0 y, w1 y
    __m128i b = _mm_unpacklo_epi32 (r2, r3);       //  w2 x, w3 x, w2 y, w3 y
    *x = _mm_unpacklo_epi64 (a, b);
    *y = _mm_unpackhi_epi64 (a, b);
}

//  Four rounds on both streams: message m + K[4q..4q+3]
#define S_ROUNDS4(q, m0, m1) do { \
    __m128i k = _mm_loadu_si128 ((const __m128i *) (zc_pow_k + 4 * (q))); \
    __m128i x0 = _mm_add_epi32 (m0, k), x1 = _mm_add_epi32 (m1, k); \
    cdgh0 = _mm_sha256rnds2_epu32 (cdgh0, abef0, x0); \
    cdgh1 = _mm_sha256rnds2_epu32 (cdgh1, abef1, x1); \
    x0 = _mm_shuffle_epi32 (x0, 0x0E); \
    x1 = _mm_shuffle_epi32 (x1, 0x0E); \
    abef0 = _mm_sha256rnds2_epu32 (abef0, cdgh0, x0); \
    abef1 = _mm_sha256rnds2_epu32 (abef1, cdgh1, x1); \
} while (0)

//  The next four schedule words from the last sixteen (a oldest, d newest)
#define S_NEXT(a, b, c, d) \
    _mm_sha256msg2_epu32 (_mm_add_epi32 (_mm_sha256msg1_epu32 (a, b), \
                                         _mm_alignr_epi8 (d, c, 4)), d)

//  Loads a lane's state (rows of init) into ABEF / CDGH form
S_TARGET static inline void
s_load_state (const uint32_t *init, int lane, __m128i *abef_p, __m128i *cdgh_p)
{
    //  ABEF: A in the top element, then B, E, F
    *abef_p = _mm_set_epi32 ((int) init [lane], (int) init [16 + lane],
                             (int) init [64 + lane], (int) init [80 + lane]);
    *cdgh_p = _mm_set_epi32 ((int) init [32 + lane], (int) init [48 + lane],
                             (int) init [96 + lane], (int) init [112 + lane]);
}

//  Stores ABEF / CDGH back into a lane's column of out
S_TARGET static inline void
s_store_state (__m128i abef, __m128i cdgh, uint32_t *out, int lane)
{
    out [lane]       = (uint32_t) _mm_extract_epi32 (abef, 3);
    out [16 + lane]  = (uint32_t) _mm_extract_epi32 (abef, 2);
    out [64 + lane]  = (uint32_t) _mm_extract_epi32 (abef, 1);
    out [80 + lane]  = (uint32_t) _mm_extract_epi32 (abef, 0);
    out [32 + lane]  = (uint32_t) _mm_extract_epi32 (cdgh, 3);
    out [48 + lane]  = (uint32_t) _mm_extract_epi32 (cdgh, 2);
    out [96 + lane]  = (uint32_t) _mm_extract_epi32 (cdgh, 1);
    out [112 + lane] = (uint32_t) _mm_extract_epi32 (cdgh, 0);
}

//  Lanes `lane` and `lane + 1`, interleaved
S_TARGET static void
s_compress2 (const uint32_t *init, const uint32_t *words, uint32_t *out, int lane)
{
    __m128i abef0, cdgh0, abef1, cdgh1;
    s_load_state (init, lane, &abef0, &cdgh0);
    s_load_state (init, lane + 1, &abef1, &cdgh1);
    const __m128i save_abef0 = abef0, save_cdgh0 = cdgh0;
    const __m128i save_abef1 = abef1, save_cdgh1 = cdgh1;
    __m128i a0, a1, b0, b1, c0, c1, d0, d1;
    s_words (words, 0, lane, &a0, &a1);
    s_words (words, 1, lane, &b0, &b1);
    s_words (words, 2, lane, &c0, &c1);
    s_words (words, 3, lane, &d0, &d1);
    S_ROUNDS4 (0, a0, a1);
    S_ROUNDS4 (1, b0, b1);
    S_ROUNDS4 (2, c0, c1);
    S_ROUNDS4 (3, d0, d1);
    _Pragma ("GCC unroll 4")
    for (int q = 4; q < 16; q += 4) {
        a0 = S_NEXT (a0, b0, c0, d0);
        a1 = S_NEXT (a1, b1, c1, d1);
        S_ROUNDS4 (q, a0, a1);
        b0 = S_NEXT (b0, c0, d0, a0);
        b1 = S_NEXT (b1, c1, d1, a1);
        S_ROUNDS4 (q + 1, b0, b1);
        c0 = S_NEXT (c0, d0, a0, b0);
        c1 = S_NEXT (c1, d1, a1, b1);
        S_ROUNDS4 (q + 2, c0, c1);
        d0 = S_NEXT (d0, a0, b0, c0);
        d1 = S_NEXT (d1, a1, b1, c1);
        S_ROUNDS4 (q + 3, d0, d1);
    }
    s_store_state (_mm_add_epi32 (abef0, save_abef0), _mm_add_epi32 (cdgh0, save_cdgh0),
                   out, lane);
    s_store_state (_mm_add_epi32 (abef1, save_abef1), _mm_add_epi32 (cdgh1, save_cdgh1),
                   out, lane + 1);
}

S_TARGET static void
s_compress16 (const uint32_t *init, const uint32_t *words, uint32_t *out)
{
    for (int lane = 0; lane < ZC_POW_LANES; lane += 2)
        s_compress2 (init, words, out, lane);
}

zc_pow_kernel_fn *zc_pow_kernel_shani = s_compress16;

//  Four rounds on both streams, W + K given (the same for both)
#define S_UROUNDS4(q) do { \
    __m128i x = _mm_loadu_si128 ((const __m128i *) (wk + 4 * (q))); \
    __m128i y = _mm_shuffle_epi32 (x, 0x0E); \
    cdgh0 = _mm_sha256rnds2_epu32 (cdgh0, abef0, x); \
    cdgh1 = _mm_sha256rnds2_epu32 (cdgh1, abef1, x); \
    abef0 = _mm_sha256rnds2_epu32 (abef0, cdgh0, y); \
    abef1 = _mm_sha256rnds2_epu32 (abef1, cdgh1, y); \
} while (0)

//  Lanes `lane` and `lane + 1`, one message for both, its schedule given
S_TARGET static void
s_uniform2 (const uint32_t *init, const uint32_t *wk, uint32_t *out, int lane)
{
    __m128i abef0, cdgh0, abef1, cdgh1;
    s_load_state (init, lane, &abef0, &cdgh0);
    s_load_state (init, lane + 1, &abef1, &cdgh1);
    const __m128i save_abef0 = abef0, save_cdgh0 = cdgh0;
    const __m128i save_abef1 = abef1, save_cdgh1 = cdgh1;
    _Pragma ("GCC unroll 4")
    for (int q = 0; q < 16; q += 4) {
        S_UROUNDS4 (q);
        S_UROUNDS4 (q + 1);
        S_UROUNDS4 (q + 2);
        S_UROUNDS4 (q + 3);
    }
    s_store_state (_mm_add_epi32 (abef0, save_abef0), _mm_add_epi32 (cdgh0, save_cdgh0),
                   out, lane);
    s_store_state (_mm_add_epi32 (abef1, save_abef1), _mm_add_epi32 (cdgh1, save_cdgh1),
                   out, lane + 1);
}

S_TARGET static void
s_uniform16 (const uint32_t *init, const uint32_t *w, const uint32_t *wk, uint32_t *out)
{
    (void) w;
    for (int lane = 0; lane < ZC_POW_LANES; lane += 2)
        s_uniform2 (init, wk, out, lane);
}

zc_pow_uniform_fn *zc_pow_uniform_shani = s_uniform16;
#else
zc_pow_kernel_fn *zc_pow_kernel_shani = 0;
zc_pow_uniform_fn *zc_pow_uniform_shani = 0;
#endif
