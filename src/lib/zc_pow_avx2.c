/*  =========================================================================
    zc_pow_avx2 - eight SHA-256 compressions side by side (AVX2)

    One 256-bit register holds one word of eight lanes; a call runs the
    sixteen lanes in two passes.  AVX2 has no rotate nor three-input logic,
    so a rotation is two shifts and an or, Ch and Maj the usual and/xor
    forms.
    =========================================================================
*/

#include "zc_pow_kernel.h"

#ifdef ZC_POW_X86
#include <immintrin.h>

#define S_TARGET __attribute__((target("avx2")))

#define S_ROR(x, n) _mm256_or_si256 (_mm256_srli_epi32 (x, n), _mm256_slli_epi32 (x, 32 - (n)))
#define S_XOR(x, y) _mm256_xor_si256 (x, y)
#define S_ADD(x, y) _mm256_add_epi32 (x, y)
#define S_BSIG0(x)  S_XOR (S_XOR (S_ROR (x, 2), S_ROR (x, 13)), S_ROR (x, 22))
#define S_BSIG1(x)  S_XOR (S_XOR (S_ROR (x, 6), S_ROR (x, 11)), S_ROR (x, 25))
#define S_SSIG0(x)  S_XOR (S_XOR (S_ROR (x, 7), S_ROR (x, 18)), _mm256_srli_epi32 (x, 3))
#define S_SSIG1(x)  S_XOR (S_XOR (S_ROR (x, 17), S_ROR (x, 19)), _mm256_srli_epi32 (x, 10))
//  Ch (e, f, g) = g ^ (e & (f ^ g)); Maj (a, b, c) = b ^ ((a ^ b) & (b ^ c))
#define S_CHF(e, f, g)  S_XOR (g, _mm256_and_si256 (e, S_XOR (f, g)))
#define S_MAJF(a, b, c) S_XOR (b, _mm256_and_si256 (S_XOR (a, b), S_XOR (b, c)))
#define S_CH3   S_CHF
#define S_MAJ3  S_MAJF

#define S_ROUND(a, b, c, d, e, f, g, h, r, w) do { \
    __m256i t1 = S_ADD (S_ADD (h, S_BSIG1 (e)), \
                 S_ADD (S_CHF (e, f, g), S_ADD (_mm256_set1_epi32 ((int) zc_pow_k [r]), w))); \
    __m256i t2 = S_ADD (S_BSIG0 (a), S_MAJF (a, b, c)); \
    d = S_ADD (d, t1); \
    h = S_ADD (t1, t2); \
} while (0)

#define S_EXPAND(w, r) \
    (w [(r) & 15] = S_ADD (S_ADD (S_SSIG1 (w [((r) - 2) & 15]), w [((r) - 7) & 15]), \
                           S_ADD (S_SSIG0 (w [((r) - 15) & 15]), w [(r) & 15])))

//  Eight lanes starting at column `lane` of the 16-column arrays
S_TARGET static void
s_compress8 (const uint32_t *init, const uint32_t *words, uint32_t *out, int lane)
{
    __m256i w [16];
    for (int i = 0; i < 16; i++)
        w [i] = _mm256_loadu_si256 ((const __m256i *) (words + 16 * i + lane));
    __m256i s [8];
    for (int i = 0; i < 8; i++)
        s [i] = _mm256_loadu_si256 ((const __m256i *) (init + 16 * i + lane));
    __m256i a = s [0], b = s [1], c = s [2], d = s [3];
    __m256i e = s [4], f = s [5], g = s [6], h = s [7];
    _Pragma ("GCC unroll 8")
    for (int r = 0; r < 16; r += 8) {
        S_ROUND (a, b, c, d, e, f, g, h, r + 0, w [r + 0]);
        S_ROUND (h, a, b, c, d, e, f, g, r + 1, w [r + 1]);
        S_ROUND (g, h, a, b, c, d, e, f, r + 2, w [r + 2]);
        S_ROUND (f, g, h, a, b, c, d, e, r + 3, w [r + 3]);
        S_ROUND (e, f, g, h, a, b, c, d, r + 4, w [r + 4]);
        S_ROUND (d, e, f, g, h, a, b, c, r + 5, w [r + 5]);
        S_ROUND (c, d, e, f, g, h, a, b, r + 6, w [r + 6]);
        S_ROUND (b, c, d, e, f, g, h, a, r + 7, w [r + 7]);
    }
    _Pragma ("GCC unroll 8")
    for (int r = 16; r < 64; r += 8) {
        S_ROUND (a, b, c, d, e, f, g, h, r + 0, S_EXPAND (w, r + 0));
        S_ROUND (h, a, b, c, d, e, f, g, r + 1, S_EXPAND (w, r + 1));
        S_ROUND (g, h, a, b, c, d, e, f, r + 2, S_EXPAND (w, r + 2));
        S_ROUND (f, g, h, a, b, c, d, e, r + 3, S_EXPAND (w, r + 3));
        S_ROUND (e, f, g, h, a, b, c, d, r + 4, S_EXPAND (w, r + 4));
        S_ROUND (d, e, f, g, h, a, b, c, r + 5, S_EXPAND (w, r + 5));
        S_ROUND (c, d, e, f, g, h, a, b, r + 6, S_EXPAND (w, r + 6));
        S_ROUND (b, c, d, e, f, g, h, a, r + 7, S_EXPAND (w, r + 7));
    }
    __m256i v [8] = { a, b, c, d, e, f, g, h };
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256 ((__m256i *) (out + 16 * i + lane), S_ADD (s [i], v [i]));
}

S_TARGET static void
s_compress16 (const uint32_t *init, const uint32_t *words, uint32_t *out)
{
    s_compress8 (init, words, out, 0);
    s_compress8 (init, words, out, 8);
}

zc_pow_kernel_fn *zc_pow_kernel_avx2 = s_compress16;

//  Round r with W [r] + K [r] given, the same for every lane
#define S_UROUND(a, b, c, d, e, f, g, h, r) do { \
    __m256i t1 = S_ADD (S_ADD (h, S_BSIG1 (e)), \
                 S_ADD (S_CH3 (e, f, g), _mm256_set1_epi32 ((int) wk [r]))); \
    __m256i t2 = S_ADD (S_BSIG0 (a), S_MAJ3 (a, b, c)); \
    d = S_ADD (d, t1); \
    h = S_ADD (t1, t2); \
} while (0)

//  8 lanes from column `lane`, one message for all, its schedule given
S_TARGET static void
s_uniform8 (const uint32_t *init, const uint32_t *wk, uint32_t *out, int lane)
{
    __m256i s [8];
    for (int i = 0; i < 8; i++)
        s [i] = _mm256_loadu_si256 ((const __m256i *) (init + 16 * i + lane));
    __m256i a = s [0], b = s [1], c = s [2], d = s [3];
    __m256i e = s [4], f = s [5], g = s [6], h = s [7];
    _Pragma ("GCC unroll 8")
    for (int r = 0; r < 64; r += 8) {
        S_UROUND (a, b, c, d, e, f, g, h, r + 0);
        S_UROUND (h, a, b, c, d, e, f, g, r + 1);
        S_UROUND (g, h, a, b, c, d, e, f, r + 2);
        S_UROUND (f, g, h, a, b, c, d, e, r + 3);
        S_UROUND (e, f, g, h, a, b, c, d, r + 4);
        S_UROUND (d, e, f, g, h, a, b, c, r + 5);
        S_UROUND (c, d, e, f, g, h, a, b, r + 6);
        S_UROUND (b, c, d, e, f, g, h, a, r + 7);
    }
    __m256i v [8] = { a, b, c, d, e, f, g, h };
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256 ((__m256i *) (out + 16 * i + lane), S_ADD (s [i], v [i]));
}

S_TARGET static void
s_uniform16 (const uint32_t *init, const uint32_t *w, const uint32_t *wk, uint32_t *out)
{
    (void) w;
    s_uniform8 (init, wk, out, 0);
    s_uniform8 (init, wk, out, 8);
}

zc_pow_uniform_fn *zc_pow_uniform_avx2 = s_uniform16;
#else
zc_pow_kernel_fn *zc_pow_kernel_avx2 = 0;
zc_pow_uniform_fn *zc_pow_uniform_avx2 = 0;
#endif
