/*  =========================================================================
    zc_pow_kernel.h - SHA-256 compression kernels of the proof-of-work
    search (private to the library; zc_pow.c is their only user)

    A kernel compresses ZC_POW_LANES (16) independent blocks in one call.
    Every array is transposed: row r holds word r of every lane, lane i in
    column i, so a vector kernel loads a row as one register.

        init  [8][16]   chaining value per lane (the state before the block)
        words [16][16]  message words per lane (big-endian words, decoded)
        out   [8][16]   state after the block, feed-forward included

    A kernel's second entry point takes one message for every lane, its
    schedule already expanded and added to the round constants (wk [r] =
    W [r] + K [r], r = 0..63; w the sixteen words for kernels that need
    them): the rounds alone remain.

    A kernel narrower than 16 lanes runs as many passes as it needs.  Each
    kernel file builds with function-level target attributes, so the
    project's flags need nothing special; on a compiler or machine without
    them the file defines its kernel as NULL and only the portable one runs.
    =========================================================================
*/

#ifndef ZC_POW_KERNEL_H_INCLUDED
#define ZC_POW_KERNEL_H_INCLUDED

#include <stdint.h>

#define ZC_POW_LANES 16

//  The x86-64 kernels build where the compiler has their intrinsics and
//  target attributes (GCC 7, any clang); defining ZC_POW_PORTABLE_ONLY
//  builds as a compiler or machine without them would: portable only.
#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 7)) \
 && !defined(ZC_POW_PORTABLE_ONLY)
#   define ZC_POW_X86 1
#endif

typedef void (zc_pow_kernel_fn) (const uint32_t *init, const uint32_t *words, uint32_t *out);
typedef void (zc_pow_uniform_fn) (const uint32_t *init, const uint32_t *w, const uint32_t *wk,
                                  uint32_t *out);

//  SHA-256 round constants, shared by every kernel
extern const uint32_t zc_pow_k [64];

//  The kernels; NULL where the compiler cannot build one.
extern zc_pow_kernel_fn *zc_pow_kernel_avx512;
extern zc_pow_kernel_fn *zc_pow_kernel_avx2;
extern zc_pow_kernel_fn *zc_pow_kernel_shani;
extern zc_pow_uniform_fn *zc_pow_uniform_avx512;
extern zc_pow_uniform_fn *zc_pow_uniform_avx2;
extern zc_pow_uniform_fn *zc_pow_uniform_shani;

#endif
