/*  =========================================================================
    zc_pow - the proof-of-work search: SHA-256 (preimage || decimal nonce)
    over many nonces at once, with the fastest kernel this CPU has

    Kernels (zc_pow_kernel.h) compress sixteen independent blocks per
    call: AVX-512 (sixteen lanes in one register), AVX2 (eight), SHA-NI
    (two streams interleaved) and the portable one (OpenSSL's
    SHA256_Transform, lane by lane).  Which the CPU can run is asked of
    cpuid at run time (__builtin_cpu_supports), never assumed from the
    compiler's flags.

    The search order.  Nonces 0 .. 2^53 (the protocol's largest) are
    grouped by digit count D; the preimage's tail t (its length mod 64)
    then fixes where the digits fall in the final block(s), one layout
    per D:

      one block     t + D + 9 <= 64: preimage tail, digits, padding and
                    length fit one block: one compression per nonce.
      last block    two final blocks, but the last four digits all fall
                    in the second: the first is compressed once per 10^4
                    nonces, so one compression per nonce.
      spill         two final blocks and the last four digits straddle
                    them: the lanes are sixteen nonces / 10 (each needs
                    its own first block, one 16-lane call) and each of the
                    ten last digits is one call on those sixteen states:
                    11 calls per 160 nonces, 1.1 compressions per nonce.
      two blocks    every digit in the first of two final blocks (the
                    second holds only padding and length): two
                    compressions per nonce; nothing can be shared.

    The order takes digit counts by layout cost (one block and last block
    first, then spill, then two blocks), and by D within a cost: a block
    whose tail is 49 bytes (the benchmark's 100-transaction block) tries
    nonces 0 .. 999,999 (one block), then 10^15 .. 2^53 (spill), and only
    then 10^6 .. 10^15 - 1 (two blocks).  The order is split into chunks
    of at most 10^4 nonces that share every digit but the last four; a
    chunk is searched whole, and its smallest winning nonce is the answer,
    so the first winning nonce in this order is found whatever the
    number of threads.

    In a chunk the last four digits (fewer below 1000) are the only bytes
    that change: each lane's one or two message words are the template's
    words or'ed with a table entry shifted into place.
    =========================================================================
*/

#include "zchain.h"
#include "zc_pow_kernel.h"
#include <openssl/sha.h>
#include <assert.h>
#include <pthread.h>
#include <arpa/inet.h>
#ifdef ZC_POW_X86
#   include <cpuid.h>
#endif

//  OpenSSL 3 deprecates the low-level SHA256_* calls, but only they give
//  one compression from a kept midstate (SHA256_Transform): the warning
//  is silenced here, in the files that mine, and nowhere else.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define S_MAX_NONCE     9007199254740992ULL     //  2^53
#define S_CHUNK         10000                   //  nonces sharing all but 4 digits
#define S_CHECK         1024                    //  nonces between stop checks

const uint32_t zc_pow_k [64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

//  The last four digits of 0 .. 9999 as four ASCII bytes, big-endian;
//  filled once, by whichever thread first makes a search
//  (and 160 more that wrap around, so a group's lanes past 9999 read
//  entries without a test: those lanes lie beyond the chunk, never used)
#define S_DIGITS_WRAP   (10 * ZC_POW_LANES)
static uint32_t s_digits [S_CHUNK + S_DIGITS_WRAP];
static pthread_once_t s_digits_once = PTHREAD_ONCE_INIT;

static void
s_digits_fill (void)
{
    for (uint32_t entry = 0; entry < S_CHUNK + S_DIGITS_WRAP; entry++) {
        uint32_t value = entry % S_CHUNK;
        s_digits [entry] = (uint32_t) ('0' + value / 1000) << 24
                         | (uint32_t) ('0' + value / 100 % 10) << 16
                         | (uint32_t) ('0' + value / 10 % 10) << 8
                         | (uint32_t) ('0' + value % 10);
    }
}

//  ---------------------------------------------------------------------
//  Kernels and the CPU

static const char *s_kernel_names [ZC_POW_KERNELS] = { "portable", "sha-ni", "avx2", "avx512" };
static const int s_kernel_lanes [ZC_POW_KERNELS] = { 1, 2, 8, 16 };

//  The portable kernel: OpenSSL's compression, one lane at a time
static void
s_compress_portable (const uint32_t *init, const uint32_t *words, uint32_t *out)
{
    for (int lane = 0; lane < ZC_POW_LANES; lane++) {
        SHA256_CTX context;
        unsigned char block [64];
        for (int i = 0; i < 8; i++)
            context.h [i] = init [16 * i + lane];
        for (int i = 0; i < 16; i++) {
            uint32_t word = htonl (words [16 * i + lane]);      //  big-endian bytes
            memcpy (block + 4 * i, &word, 4);
        }
        SHA256_Transform (&context, block);
        for (int i = 0; i < 8; i++)
            out [16 * i + lane] = (uint32_t) context.h [i];
    }
}

//  The portable kernel with one message for every lane
static void
s_uniform_portable (const uint32_t *init, const uint32_t *w, const uint32_t *wk, uint32_t *out)
{
    (void) wk;
    uint32_t words [16 * ZC_POW_LANES];
    for (int i = 0; i < 16; i++)
        for (int lane = 0; lane < ZC_POW_LANES; lane++)
            words [16 * i + lane] = w [i];
    s_compress_portable (init, words, out);
}

//  The kernel's entry point for one message in every lane
static zc_pow_uniform_fn *
s_uniform_fn (int kernel)
{
    switch (kernel) {
        case ZC_POW_PORTABLE: return s_uniform_portable;
        case ZC_POW_SHANI:    return zc_pow_uniform_shani;
        case ZC_POW_AVX2:     return zc_pow_uniform_avx2;
        case ZC_POW_AVX512:   return zc_pow_uniform_avx512;
        default:              return NULL;
    }
}

//  The kernel's code, or NULL if this build has none
static zc_pow_kernel_fn *
s_kernel_fn (int kernel)
{
    switch (kernel) {
        case ZC_POW_PORTABLE: return s_compress_portable;
        case ZC_POW_SHANI:    return zc_pow_kernel_shani;
        case ZC_POW_AVX2:     return zc_pow_kernel_avx2;
        case ZC_POW_AVX512:   return zc_pow_kernel_avx512;
        default:              return NULL;
    }
}

#ifdef ZC_POW_X86
//  True if the CPU has the SHA extensions: CPUID leaf 7, EBX bit 29, asked
//  directly because clang's __builtin_cpu_supports does not know "sha"
static bool
s_cpu_has_sha (void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count (7, 0, &eax, &ebx, &ecx, &edx))
        return false;
    return (ebx >> 29) & 1;
}
#endif

//  True if the CPU (and the OS, for the wide registers) runs the kernel
static bool
s_cpu_has (int kernel)
{
#ifdef ZC_POW_X86
    __builtin_cpu_init ();
    switch (kernel) {
        case ZC_POW_SHANI:  return s_cpu_has_sha ()
                                && __builtin_cpu_supports ("sse4.1");
        case ZC_POW_AVX2:   return __builtin_cpu_supports ("avx2");
        case ZC_POW_AVX512: return __builtin_cpu_supports ("avx512f");
        default:            return kernel == ZC_POW_PORTABLE;
    }
#else
    return kernel == ZC_POW_PORTABLE;
#endif
}

//  True if ZCHAIN_POW_DISABLE (comma-separated kernel names) lists it
static bool
s_disabled (int kernel)
{
    const char *list = getenv ("ZCHAIN_POW_DISABLE");
    if (!list || kernel == ZC_POW_PORTABLE)
        return false;
    const char *name = s_kernel_names [kernel];
    size_t size = strlen (name);
    for (const char *cursor = list; *cursor; ) {
        size_t item = strcspn (cursor, ", ");
        if (item == size && strncmp (cursor, name, size) == 0)
            return true;
        cursor += item;
        cursor += strspn (cursor, ", ");
    }
    return false;
}

const char *
zc_pow_kernel_name (int kernel)
{
    return kernel >= 0 && kernel < ZC_POW_KERNELS? s_kernel_names [kernel]: "unknown";
}

int
zc_pow_kernel_lookup (const char *name)
{
    for (int kernel = 0; name && kernel < ZC_POW_KERNELS; kernel++)
        if (streq (name, s_kernel_names [kernel]))
            return kernel;
    return -1;
}

int
zc_pow_kernel_lanes (int kernel)
{
    return kernel >= 0 && kernel < ZC_POW_KERNELS? s_kernel_lanes [kernel]: 0;
}

const char *
zc_pow_kernel_unusable (int kernel)
{
    if (kernel < 0 || kernel >= ZC_POW_KERNELS)
        return "no such kernel";
    if (!s_kernel_fn (kernel) || !s_uniform_fn (kernel))
        return "this build has no code for it (compiler without the instructions)";
    if (!s_cpu_has (kernel))
        return "this CPU does not have the instructions";
    if (s_disabled (kernel))
        return "ZCHAIN_POW_DISABLE turns it off";
    return NULL;
}

//  Fastest first, as measured on the machines we have (doc/PERFORMANCE.md)
static const int s_preference [ZC_POW_KERNELS] = {
    ZC_POW_AVX512, ZC_POW_SHANI, ZC_POW_AVX2, ZC_POW_PORTABLE
};

int
zc_pow_kernel_best (void)
{
    for (int i = 0; i < ZC_POW_KERNELS; i++)
        if (!zc_pow_kernel_unusable (s_preference [i]))
            return s_preference [i];
    return ZC_POW_PORTABLE;
}

char *
zc_pow_kernel_list (void)
{
    char list [128] = "";
    for (int i = 0; i < ZC_POW_KERNELS; i++)
        if (!zc_pow_kernel_unusable (s_preference [i])) {
            if (*list)
                strcat (list, ", ");
            strcat (list, s_kernel_names [s_preference [i]]);
        }
    return strdup (list);
}

//  ---------------------------------------------------------------------
//  The search

//  Layouts, cheapest first (see the top of the file)
#define S_ONE_BLOCK     0
#define S_LAST_BLOCK    1
#define S_SPILL         2
#define S_TWO_BLOCKS    3

static const char *s_layout_names [] = { "one block", "last block", "spill", "two blocks" };
static const double s_layout_cost [] = { 1, 1, 1.1, 2 };

//  One digit count's nonces
typedef struct {
    int digits;                 //  D
    int layout;                 //  S_ONE_BLOCK ..
    uint64_t from, to;          //  nonces [from, to)
    uint64_t chunks;            //  chunks in it
    uint64_t first;             //  index of its first chunk in the order
} s_range_t;

struct _zc_pow_t {
    zc_pow_kernel_fn *compress; //  the kernel
    zc_pow_uniform_fn *uniform; //  its entry for one message in every lane
    int kernel;                 //  its number
    uint32_t midstate [8];      //  state after the preimage's whole blocks
    uint64_t whole;             //  bytes in those blocks
    unsigned char tail [64];    //  the rest of the preimage
    size_t tail_size;           //  t
    uint32_t mask [8];          //  bits that must be zero, per state word
    s_range_t ranges [16];      //  digit counts, in search order
    int range_count;
    uint64_t chunk_count;       //  chunks in the whole order
    //  Lane buffers (rows of 16 lanes)
    uint32_t init [8 * ZC_POW_LANES] __attribute__((aligned (64)));
    uint32_t words [2][16 * ZC_POW_LANES] __attribute__((aligned (64)));
    uint32_t middle [8 * ZC_POW_LANES] __attribute__((aligned (64)));
    uint32_t out [8 * ZC_POW_LANES] __attribute__((aligned (64)));
    //  The chunk being searched
    int layout;                 //  its layout
    uint32_t tmpl [32];         //  its final block(s) as words, window zeroed
    int window_word;            //  region word (0..31) holding the window's start
    int window_shift;           //  window value << this, as a 64-bit big-endian pair
    uint32_t window_mask;       //  the table entry's bytes the window uses
    //  Spill with only the last digit in the last block: that block is
    //  the same in every lane, one per last digit, schedules expanded
    bool last_digit_only;
    uint32_t last_w [10][16];   //  its words
    uint32_t last_wk [10][64];  //  W [r] + K [r]
};

//  Powers of ten up to 10^16
static uint64_t
s_pow10 (int n)
{
    uint64_t value = 1;
    while (n-- > 0)
        value *= 10;
    return value;
}

//  One compression from state by block, scalar (setup work only)
static void
s_compress_one (uint32_t *state, const unsigned char *block)
{
    SHA256_CTX context;
    for (int i = 0; i < 8; i++)
        context.h [i] = state [i];
    SHA256_Transform (&context, block);
    for (int i = 0; i < 8; i++)
        state [i] = (uint32_t) context.h [i];
}

//  The layout of D-digit nonces after a tail of t bytes
static int
s_layout (size_t t, int digits)
{
    size_t end = t + (size_t) digits;               //  window end
    size_t start = end - (size_t) (digits < 4? digits: 4);
    if (end + 9 <= 64)
        return S_ONE_BLOCK;
    if (start >= 64)
        return S_LAST_BLOCK;
    if (end > 64)
        return S_SPILL;
    return S_TWO_BLOCKS;
}

zc_pow_t *
zc_pow_new (int kernel, const void *preimage, size_t size, int difficulty)
{
    pthread_once (&s_digits_once, s_digits_fill);
    //  The lane buffers are 64-byte aligned, so the struct is too
    size_t bytes = (sizeof (zc_pow_t) + 63) / 64 * 64;
    zc_pow_t *self = (zc_pow_t *) aligned_alloc (64, bytes);
    assert (self);
    memset (self, 0, bytes);
    if (zc_pow_kernel_unusable (kernel))
        kernel = ZC_POW_PORTABLE;
    self->kernel = kernel;
    self->compress = s_kernel_fn (kernel);
    self->uniform = s_uniform_fn (kernel);
    SHA256_CTX context;
    SHA256_Init (&context);
    self->whole = size - size % 64;
    SHA256_Update (&context, preimage, self->whole);
    for (int i = 0; i < 8; i++)
        self->midstate [i] = (uint32_t) context.h [i];
    self->tail_size = size % 64;
    memcpy (self->tail, (const unsigned char *) preimage + self->whole, self->tail_size);
    if (difficulty < 0)
        difficulty = 0;
    if (difficulty > 64)
        difficulty = 64;
    for (int word = 0; word < 8; word++) {
        int bits = 4 * difficulty - 32 * word;
        self->mask [word] = bits <= 0? 0: bits >= 32? 0xffffffffu: ~(0xffffffffu >> bits);
    }

    //  Digit counts 1 .. 16 by layout cost, then by D
    s_range_t all [16];
    for (int digits = 1; digits <= 16; digits++) {
        s_range_t *range = &all [digits - 1];
        range->digits = digits;
        range->layout = s_layout (self->tail_size, digits);
        range->from = digits == 1? 0: s_pow10 (digits - 1);
        range->to = digits == 16? S_MAX_NONCE + 1: s_pow10 (digits);
        range->chunks = digits <= 4? 1: (range->to - range->from + S_CHUNK - 1) / S_CHUNK;
    }
    for (int layout = S_ONE_BLOCK; layout <= S_TWO_BLOCKS; layout++)
        for (int digits = 1; digits <= 16; digits++) {
            //  One block and last block cost the same: one class
            int cost = all [digits - 1].layout == S_LAST_BLOCK? S_ONE_BLOCK: all [digits - 1].layout;
            if (cost == layout) {
                s_range_t *range = &self->ranges [self->range_count++];
                *range = all [digits - 1];
                range->first = self->chunk_count;
                self->chunk_count += range->chunks;
            }
        }
    return self;
}

void
zc_pow_destroy (zc_pow_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

int
zc_pow_kernel (zc_pow_t *self)
{
    return self->kernel;
}

uint64_t
zc_pow_chunks (zc_pow_t *self)
{
    return self->chunk_count;
}

void
zc_pow_chunk (zc_pow_t *self, uint64_t index, uint64_t *from_p, uint64_t *to_p)
{
    *from_p = *to_p = 0;
    for (int i = 0; i < self->range_count; i++) {
        s_range_t *range = &self->ranges [i];
        if (index >= range->first && index < range->first + range->chunks) {
            uint64_t from = range->from + (index - range->first) * S_CHUNK;
            uint64_t to = range->digits <= 4? range->to: from + S_CHUNK;
            *from_p = from;
            *to_p = to < range->to? to: range->to;
            return;
        }
    }
}

//  The range holding nonce, or NULL
static s_range_t *
s_range_of (zc_pow_t *self, uint64_t nonce)
{
    for (int i = 0; i < self->range_count; i++)
        if (nonce >= self->ranges [i].from && nonce < self->ranges [i].to)
            return &self->ranges [i];
    return NULL;
}

const char *
zc_pow_layout (zc_pow_t *self, uint64_t nonce, double *compressions_p)
{
    s_range_t *range = s_range_of (self, nonce);
    if (compressions_p)
        *compressions_p = range? s_layout_cost [range->layout]: 0;
    return range? s_layout_names [range->layout]: "none";
}

//  Lays out the final block(s) for the chunk of nonces sharing `high`
//  (every digit but the window), as words, the window bytes zero.
static void
s_chunk_setup (zc_pow_t *self, s_range_t *range, uint64_t from)
{
    int digits = range->digits;
    int window = digits < 4? digits: 4;
    unsigned char region [128];
    memset (region, 0, sizeof region);
    size_t t = self->tail_size;
    memcpy (region, self->tail, t);
    //  High digits (all but the window), most significant first
    uint64_t high = from / s_pow10 (window);
    for (int i = digits - window - 1; i >= 0; i--) {
        region [t + (size_t) i] = (unsigned char) ('0' + high % 10);
        high /= 10;
    }
    size_t end = t + (size_t) digits;
    region [end] = 0x80;
    size_t blocks = end + 9 <= 64? 1: 2;
    uint64_t bits = (self->whole + end) * 8;
    for (int i = 0; i < 8; i++)
        region [64 * blocks - 1 - (size_t) i] = (unsigned char) (bits >> (8 * i));
    for (int i = 0; i < 32; i++)
        self->tmpl [i] = (uint32_t) region [4 * i] << 24 | (uint32_t) region [4 * i + 1] << 16
                       | (uint32_t) region [4 * i + 2] << 8 | region [4 * i + 3];
    //  The window (its value right-aligned in 32 bits, `window` bytes)
    //  starts at region byte end - window: as a 64-bit big-endian pair of
    //  words from window_word, the value shifts left so its last byte
    //  lands at that byte's place.
    size_t start = end - (size_t) window;
    self->window_word = (int) (start / 4);
    self->window_shift = 8 * (8 - (int) (start % 4) - window);
    self->window_mask = 0xffffffffu >> (8 * (4 - window));
    self->layout = range->layout;

    //  What every lane shares: the chaining value, the constant words
    uint32_t state [8];
    memcpy (state, self->midstate, sizeof state);
    if (self->layout == S_LAST_BLOCK)
        s_compress_one (state, region);         //  block 0 is the same for the chunk
    for (int i = 0; i < 8; i++)
        for (int lane = 0; lane < ZC_POW_LANES; lane++)
            self->init [16 * i + lane] = state [i];
    self->last_digit_only = self->layout == S_SPILL && end == 65;
    for (int digit = 0; self->last_digit_only && digit < 10; digit++) {
        uint32_t *w = self->last_w [digit];
        uint32_t *wk = self->last_wk [digit];
        memcpy (w, self->tmpl + 16, 16 * sizeof (uint32_t));
        w [0] |= (uint32_t) ('0' + digit) << 24;
        for (int r = 0; r < 64; r++) {
            if (r >= 16) {
                uint32_t x = wk [r - 15], y = wk [r - 2];
                uint32_t s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3);
                uint32_t s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10);
                wk [r] = s1 + wk [r - 7] + s0 + wk [r - 16];
            }
            else
                wk [r] = w [r];
        }
        for (int r = 0; r < 64; r++)
            wk [r] += zc_pow_k [r];
    }
    int first = self->layout == S_LAST_BLOCK? 1: 0;
    for (int block = 0; block < 2; block++)
        for (int i = 0; i < 16; i++)
            for (int lane = 0; lane < ZC_POW_LANES; lane++)
                self->words [block][16 * i + lane] = self->tmpl [16 * ((block + first) & 1) + i];
}

//  Sixteen consecutive lanes' window words: table entries shifted into
//  the two words (no aliasing, a fixed count: the compiler vectorizes it)
static void
s_place_lanes (uint32_t *restrict out_a, uint32_t *restrict out_b,
               const uint32_t *restrict digits, uint32_t tmpl_a, uint32_t tmpl_b,
               uint32_t mask, uint32_t up_left, uint32_t up_right, uint32_t up_mask,
               uint32_t low_left, uint32_t low_mask)
{
    for (int lane = 0; lane < ZC_POW_LANES; lane++) {
        uint32_t d = digits [lane] & mask;
        out_a [lane] = tmpl_a | (((d << up_left) >> up_right) & up_mask);
        out_b [lane] = tmpl_b | ((d << low_left) & low_mask);
    }
}

//  Writes the window of each lane's nonce (nonces [first + lane * step])
//  into the words of `block` (0 or 1 of the region; only the bytes that
//  fall in it).  The last four digits come from the table; the window's
//  bytes straddle at most two words, the upper and lower halves of the
//  table entry shifted into place as a 64-bit pair.  Branch-free, so the
//  compiler can vectorize the step-1 loop.
static void
s_place (zc_pow_t *self, uint64_t first, uint64_t step, int block, uint32_t *words)
{
    int word = self->window_word;
    int shift = self->window_shift;             //  0 .. 56
    int row_a = word - 16 * block;              //  row of the pair's first word
    int row_b = row_a + 1;
    uint32_t scratch [ZC_POW_LANES];
    uint32_t *out_a = row_a >= 0 && row_a < 16? words + 16 * row_a: scratch;
    uint32_t *out_b = row_b >= 0 && row_b < 16? words + 16 * row_b: scratch;
    uint32_t tmpl_a = out_a != scratch? self->tmpl [word]: 0;
    uint32_t tmpl_b = out_b != scratch? self->tmpl [word + 1]: 0;
    //  upper = (d << up_left) >> up_right, lower = d << low_left, each
    //  masked to zero where the pair puts nothing (no 32-bit shift by 32)
    uint32_t up_left = shift >= 32? (uint32_t) shift - 32: 0;
    uint32_t up_right = shift > 0 && shift < 32? 32 - (uint32_t) shift: 0;
    uint32_t up_mask = shift > 0? 0xffffffffu: 0;
    uint32_t low_left = shift < 32? (uint32_t) shift: 0;
    uint32_t low_mask = shift < 32? 0xffffffffu: 0;
    const uint32_t *digits = s_digits + first % S_CHUNK;
    uint32_t mask = self->window_mask;
    if (step == 1)
        s_place_lanes (out_a, out_b, digits, tmpl_a, tmpl_b, mask, up_left, up_right,
                       up_mask, low_left, low_mask);
    else
        for (int lane = 0; lane < ZC_POW_LANES; lane++) {
            uint32_t d = digits [(uint64_t) lane * step] & mask;
            out_a [lane] = tmpl_a | (((d << up_left) >> up_right) & up_mask);
            out_b [lane] = tmpl_b | ((d << low_left) & low_mask);
        }
}

//  True if any lane's first state word passes the difficulty's first
//  mask (the cheap test that rejects nearly every group at once)
static inline bool
s_any_candidate (zc_pow_t *self, const uint32_t *out)
{
    uint32_t mask = self->mask [0], zeros = 0;
    for (int lane = 0; lane < ZC_POW_LANES; lane++)
        zeros |= (out [lane] & mask) == 0;
    return zeros != 0;
}

//  True if lane's state in out meets the difficulty
static inline bool
s_meets (zc_pow_t *self, const uint32_t *out, int lane)
{
    for (int word = 0; word < 8; word++) {
        if (out [16 * word + lane] & self->mask [word])
            return false;
        if (self->mask [word] != 0xffffffffu)
            return true;
    }
    return true;
}

//  Copies lane's state out as a digest
static void
s_digest (const uint32_t *out, int lane, uint8_t *digest)
{
    for (int word = 0; word < 8; word++) {
        uint32_t value = out [16 * word + lane];
        digest [4 * word] = (uint8_t) (value >> 24);
        digest [4 * word + 1] = (uint8_t) (value >> 16);
        digest [4 * word + 2] = (uint8_t) (value >> 8);
        digest [4 * word + 3] = (uint8_t) value;
    }
}

int
zc_pow_search (zc_pow_t *self, uint64_t from, uint64_t to, uint64_t *nonce_p,
               uint8_t *digest, uint64_t *tried_p, zc_pow_going_fn *going, void *arg)
{
    s_range_t *range = s_range_of (self, from);
    *tried_p = 0;
    if (!range || to <= from)
        return 0;
    if (to > range->to)
        to = range->to;                 //  one digit count at a time
    if (range->digits > 4 && to - 1 - (to - 1) % S_CHUNK > from)
        to = from - from % S_CHUNK + S_CHUNK;   //  one chunk at a time
    s_chunk_setup (self, range, from);
    uint64_t since_check = 0;
    if (self->layout != S_SPILL) {
        for (uint64_t first = from; first < to; first += ZC_POW_LANES) {
            int valid = to - first < ZC_POW_LANES? (int) (to - first): ZC_POW_LANES;
            const uint32_t *out = self->out;
            if (self->layout == S_TWO_BLOCKS) {
                s_place (self, first, 1, 0, self->words [0]);
                self->compress (self->init, self->words [0], self->middle);
                self->compress (self->middle, self->words [1], self->out);
            }
            else {
                s_place (self, first, 1, self->layout == S_LAST_BLOCK? 1: 0, self->words [0]);
                self->compress (self->init, self->words [0], self->out);
            }
            *tried_p += (uint64_t) valid;
            bool candidates = s_any_candidate (self, out);
            for (int lane = 0; candidates && lane < valid; lane++)
                if (s_meets (self, out, lane)) {
                    *nonce_p = first + (uint64_t) lane;
                    s_digest (out, lane, digest);
                    return 1;
                }
            since_check += ZC_POW_LANES;
            if (since_check >= S_CHECK && first + ZC_POW_LANES < to) {
                since_check = 0;
                if (going && !going (arg, first + ZC_POW_LANES))
                    return -1;
            }
        }
        return 0;
    }
    //  Spill: lane i is the ten nonces (base / 10 + i) * 10 + j; block 0
    //  for each lane once, then one call per last digit j
    const uint64_t group = 10 * ZC_POW_LANES;
    for (uint64_t base = from - from % 10; base < to; base += group) {
        s_place (self, base, 10, 0, self->words [0]);
        self->compress (self->init, self->words [0], self->middle);
        uint64_t best = UINT64_MAX;
        for (uint64_t digit = 0; digit < 10; digit++) {
            if (self->last_digit_only)
                self->uniform (self->middle, self->last_w [digit], self->last_wk [digit], self->out);
            else {
                s_place (self, base + digit, 10, 1, self->words [1]);
                self->compress (self->middle, self->words [1], self->out);
            }
            bool candidates = s_any_candidate (self, self->out);
            for (int lane = 0; candidates && lane < ZC_POW_LANES; lane++) {
                uint64_t nonce = base + 10 * (uint64_t) lane + digit;
                if (nonce >= from && nonce < to && nonce < best && s_meets (self, self->out, lane)) {
                    best = nonce;
                    s_digest (self->out, lane, digest);
                }
            }
        }
        uint64_t end = base + group < to? base + group: to;
        *tried_p += end - (base > from? base: from);
        if (best != UINT64_MAX) {
            *nonce_p = best;
            return 1;
        }
        since_check += group;
        if (since_check >= S_CHECK && end < to) {
            since_check = 0;
            if (going && !going (arg, end))
                return -1;
        }
    }
    return 0;
}
