/*  =========================================================================
    zc_pow_avx512 - sixteen SHA-256 compressions side by side (AVX-512F)

    One 512-bit register holds one word of all sixteen lanes, so each
    round is the scalar round done on sixteen lanes at once.  Rotations
    are single instructions (vprord) and every three-input function (the
    xor of three rotations, Ch, Maj) is one vpternlogd.  The message
    schedule is kept as a ring of sixteen registers.
    =========================================================================
*/

#include "zc_pow_kernel.h"

#ifdef ZC_POW_X86
#include <immintrin.h>

#define S_TARGET __attribute__((target("avx512f")))

//  Three-input truth tables for vpternlogd (bit index = a << 2 | b << 1 | c)
#define S_XOR3  0x96
#define S_CH    0xCA                //  a? b: c
#define S_MAJ   0xE8                //  at least two of a, b, c

#define S_ROR(x, n)         _mm512_ror_epi32 (x, n)
#define S_XOR3F(x, y, z)    _mm512_ternarylogic_epi32 (x, y, z, S_XOR3)
#define S_BSIG0(x)  S_XOR3F (S_ROR (x, 2), S_ROR (x, 13), S_ROR (x, 22))
#define S_BSIG1(x)  S_XOR3F (S_ROR (x, 6), S_ROR (x, 11), S_ROR (x, 25))
#define S_SSIG0(x)  S_XOR3F (S_ROR (x, 7), S_ROR (x, 18), _mm512_srli_epi32 (x, 3))
#define S_SSIG1(x)  S_XOR3F (S_ROR (x, 17), S_ROR (x, 19), _mm512_srli_epi32 (x, 10))
#define S_ADD(x, y) _mm512_add_epi32 (x, y)
#define S_CH3(e, f, g)  _mm512_ternarylogic_epi32 (e, f, g, S_CH)
#define S_MAJ3(a, b, c) _mm512_ternarylogic_epi32 (a, b, c, S_MAJ)

//  Round r on the working variables named in order a..h; w is W[r]
#define S_ROUND(a, b, c, d, e, f, g, h, r, w) do { \
    __m512i t1 = S_ADD (S_ADD (h, S_BSIG1 (e)), \
                 S_ADD (_mm512_ternarylogic_epi32 (e, f, g, S_CH), \
                        S_ADD (_mm512_set1_epi32 ((int) zc_pow_k [r]), w))); \
    __m512i t2 = S_ADD (S_BSIG0 (a), _mm512_ternarylogic_epi32 (a, b, c, S_MAJ)); \
    d = S_ADD (d, t1); \
    h = S_ADD (t1, t2); \
} while (0)

//  W[r] for r >= 16, in place in the ring of sixteen
#define S_EXPAND(w, r) \
    (w [(r) & 15] = S_ADD (S_ADD (S_SSIG1 (w [((r) - 2) & 15]), w [((r) - 7) & 15]), \
                           S_ADD (S_SSIG0 (w [((r) - 15) & 15]), w [(r) & 15])))

S_TARGET static void
s_compress16 (const uint32_t *init, const uint32_t *words, uint32_t *out)
{
    __m512i w [16];
    for (int i = 0; i < 16; i++)
        w [i] = _mm512_loadu_si512 ((const void *) (words + 16 * i));
    __m512i s [8];
    for (int i = 0; i < 8; i++)
        s [i] = _mm512_loadu_si512 ((const void *) (init + 16 * i));
    __m512i a = s [0], b = s [1], c = s [2], d = s [3];
    __m512i e = s [4], f = s [5], g = s [6], h = s [7];
    //  Eight rounds per turn, the names rotating instead of the values
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
    __m512i v [8] = { a, b, c, d, e, f, g, h };
    for (int i = 0; i < 8; i++)
        _mm512_storeu_si512 ((void *) (out + 16 * i), S_ADD (s [i], v [i]));
}

zc_pow_kernel_fn *zc_pow_kernel_avx512 = s_compress16;

//  Round r with W [r] + K [r] given, the same for every lane
#define S_UROUND(a, b, c, d, e, f, g, h, r) do { \
    __m512i t1 = S_ADD (S_ADD (h, S_BSIG1 (e)), \
                 S_ADD (S_CH3 (e, f, g), _mm512_set1_epi32 ((int) wk [r]))); \
    __m512i t2 = S_ADD (S_BSIG0 (a), S_MAJ3 (a, b, c)); \
    d = S_ADD (d, t1); \
    h = S_ADD (t1, t2); \
} while (0)

//  16 lanes from column `lane`, one message for all, its schedule given
S_TARGET static void
s_uniform_lanes (const uint32_t *init, const uint32_t *wk, uint32_t *out, int lane)
{
    __m512i s [8];
    for (int i = 0; i < 8; i++)
        s [i] = _mm512_loadu_si512 ((const void *) (init + 16 * i + lane));
    __m512i a = s [0], b = s [1], c = s [2], d = s [3];
    __m512i e = s [4], f = s [5], g = s [6], h = s [7];
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
    __m512i v [8] = { a, b, c, d, e, f, g, h };
    for (int i = 0; i < 8; i++)
        _mm512_storeu_si512 ((void *) (out + 16 * i + lane), S_ADD (s [i], v [i]));
}

S_TARGET static void
s_uniform16 (const uint32_t *init, const uint32_t *w, const uint32_t *wk, uint32_t *out)
{
    (void) w;
    s_uniform_lanes (init, wk, out, 0);
}

zc_pow_uniform_fn *zc_pow_uniform_avx512 = s_uniform16;
#else
zc_pow_kernel_fn *zc_pow_kernel_avx512 = 0;
zc_pow_uniform_fn *zc_pow_uniform_avx512 = 0;
#endif
