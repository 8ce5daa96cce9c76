/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zchain.h - public API of libzchain, the pure pieces of a zchain node

    These classes know nothing of sockets or threads: framing codec,
    canonical JSON (RFC 8785), keys and signatures, transactions, blocks,
    the SQLite ledger, the mempool and chain choice.  zchaind, zchain-cli
    and the tests all build on them.

    Conventions: int returns 0 on success and -1 on failure; a returned
    `char *` belongs to the caller, a `const char *` is borrowed; every
    `_destroy (self_p)` nulls the caller's pointer and is safe twice.
    =========================================================================
*/

#ifndef ZCHAIN_H_INCLUDED
#define ZCHAIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <czmq.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZCHAIN_VERSION "0.1.0"

//  Protocol constants (see doc/PROTOCOL.md)
#define ZC_HASH_HEX         64          //  chars in a hex SHA-256 digest
#define ZC_TIMESTAMP_LEN    27          //  YYYY-MM-DDTHH:MM:SS.ffffffZ
#define ZC_MAX_MESSAGE      (4 * 1024 * 1024)   //  default network/max_message
#define ZC_MAX_LENGTH_FRAME 65535       //  largest 2-byte length-prefixed body
#define ZC_GENESIS_TIMESTAMP "2024-01-01T00:00:00.000000Z"

//  =========================================================================
//  zc_util - encodings, digests and clocks shared by every class
//  =========================================================================

//  Lowercase hex of SHA-256 over data; out must hold 65 bytes (NUL added).
void zc_sha256_hex (const void *data, size_t size, char *out);

//  Lowercase hex encoding; out must hold 2 * size + 1 bytes.
void zc_hex_encode (const uint8_t *data, size_t size, char *out);

//  Standard base64 (RFC 4648, with padding).  Caller frees.
char *zc_base64_encode (const uint8_t *data, size_t size);

//  Decodes strict standard base64 (padding required, no whitespace).
//  Returns a malloc'd buffer and sets *size_p, or NULL on any bad input.
uint8_t *zc_base64_decode (const char *text, size_t *size_p);

//  Current UTC time as YYYY-MM-DDTHH:MM:SS.ffffffZ; out holds 28 bytes.
void zc_timestamp_now (char *out);

//  True if text is exactly of the form YYYY-MM-DDTHH:MM:SS.ffffffZ with
//  plausible field ranges (the form blocks carry).
bool zc_timestamp_valid (const char *text);

//  True if text is an ISO 8601 date-time a client may send: date, 'T',
//  time with optional fraction, then 'Z' or +hh:mm / -hh:mm.
bool zc_iso8601_valid (const char *text);

//  True if text is 64 lowercase hex characters.
bool zc_hash_valid (const char *text);

//  A version 4 UUID in its 36-char text form; out holds 37 bytes.
void zc_uuid_new (char *out);

//  True if text is a UUID in its 36-char lowercase text form (8-4-4-4-12
//  hex digits): the form of every node_id and miner_id.
bool zc_uuid_valid (const char *text);

//  True if text can be a peer's host: 1 to ZC_HOST_MAX characters of
//  letters, digits, '-', '.' and ':' (a DNS name, IPv4 or IPv6 literal),
//  not starting with '-' or '.'.
#define ZC_HOST_MAX 253
bool zc_host_valid (const char *text);

//  Monotonic clock in microseconds, for latencies and deadlines.
int64_t zc_clock_usecs (void);

//  =========================================================================
//  zc_pow - the proof-of-work search: SHA-256 (preimage || decimal nonce)
//  over nonces 0 .. 2^53, sixteen lanes per kernel call (see zc_pow.c for
//  the search order and the layouts)
//  =========================================================================

typedef struct _zc_pow_t zc_pow_t;

//  Kernels, the numbers zc_pow_new takes
#define ZC_POW_PORTABLE     0       //  OpenSSL's SHA256_Transform, lane by lane
#define ZC_POW_SHANI        1       //  SHA extensions, two streams interleaved
#define ZC_POW_AVX2         2       //  eight lanes per register
#define ZC_POW_AVX512       3       //  sixteen lanes per register
#define ZC_POW_KERNELS      4

//  The kernel's name ("portable", "sha-ni", "avx2", "avx512").
const char *zc_pow_kernel_name (int kernel);

//  The kernel of that name, or -1.
int zc_pow_kernel_lookup (const char *name);

//  Lanes the kernel computes side by side (1, 2, 8, 16).
int zc_pow_kernel_lanes (int kernel);

//  NULL if this build and this CPU can run the kernel, else why not.  The
//  environment variable ZCHAIN_POW_DISABLE (kernel names, comma-separated)
//  makes listed kernels unusable, as if the CPU lacked them.
const char *zc_pow_kernel_unusable (int kernel);

//  The fastest kernel this CPU runs (asked of cpuid at run time).
int zc_pow_kernel_best (void);

//  The usable kernels' names, fastest first, comma-separated.  Caller frees.
char *zc_pow_kernel_list (void);

//  A search over preimage with a kernel (an unusable one falls back to
//  the portable kernel), for hashes starting with difficulty '0' hex
//  digits (0..64).
zc_pow_t *zc_pow_new (int kernel, const void *preimage, size_t size, int difficulty);
void zc_pow_destroy (zc_pow_t **self_p);

//  The kernel the search runs.
int zc_pow_kernel (zc_pow_t *self);

//  The search order is a list of chunks of at most 10^4 nonces that share
//  every digit but the last four; cheap layouts come first.  How many
//  chunks, and chunk index's nonces [*from_p, *to_p).
uint64_t zc_pow_chunks (zc_pow_t *self);
void zc_pow_chunk (zc_pow_t *self, uint64_t index, uint64_t *from_p, uint64_t *to_p);

//  The layout of nonce ("one block", "last block", "spill", "two
//  blocks") and its compressions per nonce.
const char *zc_pow_layout (zc_pow_t *self, uint64_t nonce, double *compressions_p);

//  Asked every ~1000 nonces with the next nonce to try: false stops.
typedef bool (zc_pow_going_fn) (void *arg, uint64_t next);

//  Searches nonces [from, to), cut at the end of from's chunk.  Returns
//  1 with the smallest winning nonce and its digest (32 bytes), 0 if none
//  wins, -1 if going said stop; *tried_p counts the nonces hashed.
int zc_pow_search (zc_pow_t *self, uint64_t from, uint64_t to, uint64_t *nonce_p,
                   uint8_t *digest, uint64_t *tried_p, zc_pow_going_fn *going, void *arg);

//  =========================================================================
//  zc_jcs - RFC 8785 JSON Canonicalization Scheme over cJSON trees
//  =========================================================================

//  Canonical text of item: object members sorted by their UTF-16 code
//  units, no whitespace, numbers in ECMAScript form, strings escaped the
//  RFC 8785 way.  Returns NULL if item cannot be canonicalized (NaN or
//  infinite number, duplicate member name, invalid UTF-8).  Caller frees.
char *zc_jcs_serialize (const cJSON *item);

//  Writes value in ECMAScript Number.prototype.toString form ("1e+21",
//  "0.000001", "-0" becomes "0").  Returns chars written (excluding NUL),
//  or -1 if value is not finite or size is too small (32 is always enough).
int zc_jcs_number (double value, char *buffer, size_t size);

//  =========================================================================
//  zc_json - the strict reader every outside text goes through
//  =========================================================================
//  RFC 8259 exactly (no leading zeros, no bare points, whitespace is space,
//  tab, LF, CR), every string valid UTF-8, \u escapes only of whole
//  characters, nesting at most ZC_JSON_MAX_DEPTH.  See src/lib/zc_json.c.

#define ZC_JSON_MAX_DEPTH   512     //  arrays and objects inside each other
#define ZC_JSON_ERROR_MAX   128     //  enough for any zc_json_read reason

//  Checks that exactly size bytes are one RFC 8259 JSON text.  NULL if so,
//  else a static reason; *offset_p (if not NULL) gets the byte where the
//  walk stopped.  Parses nothing.
const char *zc_json_check (const char *text, size_t size, size_t *offset_p);

//  Checks, then parses exactly size bytes.  NULL if the text is not JSON
//  or holds U+0000 in a string (which cJSON cannot keep); then error (if
//  not NULL) gets "invalid JSON at byte N: <reason>".  Caller owns result.
cJSON *zc_json_read (const char *text, size_t size, char *error, size_t error_size);

//  zc_json_read without the reason.
cJSON *zc_json_parse (const char *text, size_t size);

//  True if size bytes of text are well-formed UTF-8 (RFC 3629).
bool zc_utf8_valid (const char *text, size_t size);

//  Length of the longest prefix of text (at most max bytes, and stopping
//  at a NUL) that is whole UTF-8 characters: where to cut a string that is
//  echoed back so the echo stays valid.
size_t zc_utf8_prefix (const char *text, size_t max);

//  =========================================================================
//  zc_keys - Ed25519 key pairs: node keys, gateway keys, client keys
//  =========================================================================

typedef struct _zc_keys_t zc_keys_t;

//  Generates a new random Ed25519 key pair.
zc_keys_t *zc_keys_new (void);

//  Loads a private key from a PEM file (PKCS#8); NULL if missing or bad.
zc_keys_t *zc_keys_load (const char *path);

//  Loads the key at path, or generates one and saves it there (mode 0600).
//  NULL if the file exists but is not a key, or cannot be written.
zc_keys_t *zc_keys_load_or_create (const char *path);

//  Saves the private key as PEM with mode 0600.
int zc_keys_save (zc_keys_t *self, const char *path);

void zc_keys_destroy (zc_keys_t **self_p);

//  Base64 of the raw 32-byte public key: a transaction's `sender`.
const char *zc_keys_public_b64 (zc_keys_t *self);

//  PEM (SubjectPublicKeyInfo) of the public key: a block's public_key_pem.
const char *zc_keys_public_pem (zc_keys_t *self);

//  Base64 of the Ed25519 signature over data.  Caller frees.
char *zc_keys_sign (zc_keys_t *self, const void *data, size_t size);

//  Verifies a base64 signature by a base64 raw 32-byte public key.
//  False on any malformed input.
bool zc_verify_raw (const char *public_b64, const void *data, size_t size,
                    const char *signature_b64);

//  Verifies a base64 signature by a PEM public key (Ed25519 only).
bool zc_verify_pem (const char *public_pem, const void *data, size_t size,
                    const char *signature_b64);

//  Base64 of the raw key of a PEM Ed25519 public key (a block's miner key
//  as the config file pins keys); NULL if malformed.  Caller frees.
char *zc_pem_to_public_b64 (const char *public_pem);

//  =========================================================================
//  zc_codec - the two framings every listening port accepts
//  =========================================================================
//  A connection's framing is detected from its first byte: '{' means
//  newline-terminated JSON, anything else a 2-byte big-endian length and
//  that many bytes.  The decoder is fed arbitrary TCP chunks and yields
//  whole messages; it never holds more than max_message bytes.

typedef enum {
    ZC_FRAMING_UNKNOWN = 0,     //  nothing seen yet
    ZC_FRAMING_LINE = 1,        //  one JSON message per '\n'-ended line
    ZC_FRAMING_LENGTH = 2       //  2-byte big-endian length + body
} zc_framing_t;

typedef struct _zc_codec_t zc_codec_t;

//  New decoder for one connection; max_message caps one message's bytes.
zc_codec_t *zc_codec_new (size_t max_message);
void zc_codec_destroy (zc_codec_t **self_p);

//  Appends received bytes.  Returns 0, or -1 if the bytes already buffered
//  plus these cannot form a message within the cap (then the connection
//  must be closed; zc_codec_error says why).
int zc_codec_feed (zc_codec_t *self, const void *data, size_t size);

//  Takes the next whole message: returns 1 and sets *data_p / *size_p
//  (valid until the next call on self; no trailing newline), 0 if no whole
//  message is buffered yet, -1 on a protocol error (message too large or
//  zero-length frame).
int zc_codec_next (zc_codec_t *self, const char **data_p, size_t *size_p);

//  Bytes held that do not yet form a message (at end of stream: truncated).
size_t zc_codec_pending (zc_codec_t *self);

//  Framing detected so far.
zc_framing_t zc_codec_framing (zc_codec_t *self);

//  Forces a framing before any byte arrives (for connections we open).
void zc_codec_set_framing (zc_codec_t *self, zc_framing_t framing);

//  Reason for the last -1, or NULL.
const char *zc_codec_error (zc_codec_t *self);

//  Frames a message: appends to out (a zchunk that grows as needed).
//  Returns 0, or -1 if the body is too long for the framing.
int zc_codec_encode (zc_framing_t framing, const char *data, size_t size,
                     zchunk_t *out);

//  =========================================================================
//  zc_tx - a signed transaction {sender, data, signature}
//  =========================================================================

typedef struct _zc_tx_t zc_tx_t;

//  Builds a transaction from its JSON form; checks shape only (sender and
//  signature non-empty strings, data present).  NULL with *error_p set to
//  a static reason on bad shape.
zc_tx_t *zc_tx_from_json (const cJSON *json, const char **error_p);

//  Signs data (any JSON value) with keys: sender is the keys' public key.
zc_tx_t *zc_tx_new_signed (zc_keys_t *keys, const cJSON *data);

zc_tx_t *zc_tx_dup (zc_tx_t *self);
void zc_tx_destroy (zc_tx_t **self_p);

//  Lowercase hex SHA-256 of the canonical {data, sender, signature}.
const char *zc_tx_id (zc_tx_t *self);
const char *zc_tx_sender (zc_tx_t *self);
const char *zc_tx_signature (zc_tx_t *self);
//  Canonical text of data.
const char *zc_tx_data (zc_tx_t *self);
//  Canonical text of the whole transaction as it travels and is hashed.
const char *zc_tx_canonical (zc_tx_t *self);

//  True if signature is sender's Ed25519 signature of
//  JCS({"data": data, "sender": sender}).  A good result is remembered (in
//  this object and its dups), so a transaction is verified once.
bool zc_tx_verify (zc_tx_t *self);

//  New JSON object {sender, data, signature}; caller owns it.
cJSON *zc_tx_to_json (zc_tx_t *self);

//  When it entered this node (received or loaded), as a timestamp string.
const char *zc_tx_received (zc_tx_t *self);
void zc_tx_set_received (zc_tx_t *self, const char *timestamp);

//  =========================================================================
//  zc_block - a block: header, transactions, proof of work, miner signature
//  =========================================================================

typedef struct _zc_block_t zc_block_t;

//  Builds a block from a new_block payload; checks shape and the form of
//  each field (hashes 64 hex, miner_id a UUID or, at index 0, "genesis",
//  signature base64, public_key_pem a bare PEM public key).  NULL with
//  *error_p set to a static reason on bad shape.
zc_block_t *zc_block_from_json (const cJSON *json, const char **error_p);

//  Unsealed block (nonce 0, no hash); takes ownership of the txs in txs
//  (an array of count zc_tx_t *, which itself stays the caller's).
zc_block_t *zc_block_new (int64_t index, const char *prev_hash,
                          const char *timestamp, zc_tx_t **txs, size_t count);

//  The network's shared genesis block.
zc_block_t *zc_block_genesis (void);

void zc_block_destroy (zc_block_t **self_p);

int64_t zc_block_index (zc_block_t *self);
const char *zc_block_prev_hash (zc_block_t *self);
const char *zc_block_hash (zc_block_t *self);
const char *zc_block_timestamp (zc_block_t *self);
uint64_t zc_block_nonce (zc_block_t *self);
const char *zc_block_miner_id (zc_block_t *self);
const char *zc_block_signature (zc_block_t *self);
const char *zc_block_public_key_pem (zc_block_t *self);
size_t zc_block_tx_count (zc_block_t *self);
zc_tx_t *zc_block_tx (zc_block_t *self, size_t index);
//  Approximate bytes held, for bounding stores of blocks.
size_t zc_block_bytes (zc_block_t *self);

//  The hashed prefix: JCS({"index","prev_hash","timestamp","transactions"});
//  the block hash is SHA-256 of this text followed by the decimal nonce.
//  Caller frees.
char *zc_block_preimage (zc_block_t *self);

//  Recomputes the hash for the block's nonce into out (65 bytes).
void zc_block_compute_hash (zc_block_t *self, char *out);

//  True if hash starts with difficulty '0' hex digits.
bool zc_hash_meets (const char *hash, int difficulty);

//  Seals a mined block: sets nonce and hash, miner_id, signs the hash with
//  keys and records their public key PEM.  -1 (block unchanged) unless
//  miner_id is a UUID and hash 64 hex: the node never makes a block it
//  could not send.
int zc_block_seal (zc_block_t *self, uint64_t nonce, const char *hash,
                   const char *miner_id, zc_keys_t *keys);

//  Context-free checks of a received block: recomputed hash equals
//  current_hash, proof of work, miner signature, transaction count, no
//  transaction twice, and (if verify_txs) every transaction's signature,
//  skipping those for which skip (if not NULL) returns true.
//  Returns NULL if valid, else a static reason.
typedef bool (zc_tx_known_fn) (const char *tx_id, void *arg);
const char *zc_block_check (zc_block_t *self, int difficulty, size_t max_txs,
                            bool verify_txs, zc_tx_known_fn *skip, void *arg);

//  New JSON payload as new_block carries it; caller owns it.
cJSON *zc_block_to_json (zc_block_t *self);
//  The same without "transactions".
cJSON *zc_block_to_json_header (zc_block_t *self);
//  JCS text of zc_block_to_json, built from the transactions' kept
//  canonical texts.  Caller frees; NULL if it has no canonical form.
char *zc_block_canonical (zc_block_t *self);

//  =========================================================================
//  zc_ledger - a node's SQLite file: blocks and confirmed transactions
//  =========================================================================
//  Invariant: the blocks table holds exactly one chain, indexes 0..height
//  without gaps, each block's prev_hash the current_hash of the one below;
//  every transaction row belongs to exactly one block of that chain.

typedef struct _zc_ledger_t zc_ledger_t;

//  Opens (creating if needed) the ledger at path in WAL mode and writes
//  the genesis block into an empty file.  NULL on failure; *error_p (if
//  not NULL) gets a malloc'd message the caller frees.
zc_ledger_t *zc_ledger_open (const char *path, char **error_p);
void zc_ledger_destroy (zc_ledger_t **self_p);

//  Index of the last block (0 for a ledger holding only genesis).
int64_t zc_ledger_height (zc_ledger_t *self);

//  Block at index with its transactions, or NULL.
zc_block_t *zc_ledger_block (zc_ledger_t *self, int64_t index);

//  Replaces every block above fork_height with blocks[0..count), which
//  must continue the chain at fork_height + 1, in one SQL transaction.
//  end_timestamp of each new transaction row is now; start_timestamp is
//  the transaction's received time.  Transactions of removed blocks go to
//  the mempool table, those of added blocks leave it.  All or nothing.
int zc_ledger_replace (zc_ledger_t *self, int64_t fork_height,
                       zc_block_t **blocks, size_t count);

//  True if a transaction with that id is in the ledger.
bool zc_ledger_has_tx (zc_ledger_t *self, const char *tx_id);

//  Number of transaction rows.
int64_t zc_ledger_tx_count (zc_ledger_t *self);

//  Index of the block with that hash, or -1 if the chain in the file
//  holds none (an indexed lookup: cheap at any length).
int64_t zc_ledger_block_index (zc_ledger_t *self, const char *hash);

//  Index of the block confirming the transaction with that id, or -1.
int64_t zc_ledger_tx_height (zc_ledger_t *self, const char *tx_id);

//  Checks the whole file, block by block with one block in memory at a
//  time: genesis, index and link of every block, zc_block_check with the
//  given network rules, and transaction rows against the blocks.  Sets
//  *checked_p (if not NULL) to the last index looked at.  0, or -1 with
//  *error_p (if not NULL; caller frees) naming the first fault.
int zc_ledger_check (zc_ledger_t *self, int difficulty, size_t max_txs,
                     bool verify_txs, int64_t *checked_p, char **error_p);

//  The durable mempool: transactions acknowledged but not yet confirmed.
//  zc_ledger_replace moves transactions between it and the chain.
int zc_ledger_pool_add (zc_ledger_t *self, zc_tx_t **txs, size_t count);
int zc_ledger_pool_remove (zc_ledger_t *self, const char *tx_id);
//  Waiting transactions, oldest first (a list that owns them).
zlistx_t *zc_ledger_pool_load (zc_ledger_t *self);
int64_t zc_ledger_pool_count (zc_ledger_t *self);

//  The outbox (issue 9): with it on, zc_ledger_replace writes a notice row
//  for each block it removes (block_rollback, tip first) and adds
//  (block_confirmation) in its own SQL transaction.  Each row has a seq
//  that only grows.
void zc_ledger_set_outbox (zc_ledger_t *self, bool outbox);
//  Up to max notices with seq above after, oldest first, as JSON objects
//  {type, block_index, block_hash, [miner_id, timestamp,] tx_ids, seq}.
zlistx_t *zc_ledger_outbox_load (zc_ledger_t *self, int64_t after, size_t max);
int zc_ledger_outbox_remove (zc_ledger_t *self, int64_t seq);
int64_t zc_ledger_outbox_count (zc_ledger_t *self);

//  =========================================================================
//  zc_seen - a bounded set of ids held validly (issue 11): relayed copies
//  of what a node holds are dropped before any work on them
//  =========================================================================

typedef struct _zc_seen_t zc_seen_t;

//  New set of at most capacity ids; the oldest is forgotten past that.
zc_seen_t *zc_seen_new (size_t capacity);
void zc_seen_destroy (zc_seen_t **self_p);
//  Adds a 64-hex id (anything else is ignored).  Only ever an id whose
//  object was verified and kept.
void zc_seen_add (zc_seen_t *self, const char *id);
bool zc_seen_has (zc_seen_t *self, const char *id);
size_t zc_seen_size (zc_seen_t *self);

//  =========================================================================
//  zc_mempool - transactions waiting for a block, in arrival order
//  =========================================================================

typedef struct _zc_mempool_t zc_mempool_t;

//  New mempool holding at most max transactions.
zc_mempool_t *zc_mempool_new (size_t max);
void zc_mempool_destroy (zc_mempool_t **self_p);

//  Adds tx, taking ownership on success (*tx_p nulled).  Returns 0 if added,
//  1 if a transaction with that id is already held (tx left with caller),
//  -1 if full (tx left with caller).
int zc_mempool_add (zc_mempool_t *self, zc_tx_t **tx_p);

//  Removes and destroys the transaction with that id, if held.
void zc_mempool_remove (zc_mempool_t *self, const char *tx_id);

//  Borrowed transaction with that id, or NULL.
zc_tx_t *zc_mempool_lookup (zc_mempool_t *self, const char *tx_id);

size_t zc_mempool_size (zc_mempool_t *self);

//  Copies of up to max of the oldest transactions into txs (an array the
//  caller sizes); returns how many.  The copies are the caller's.
size_t zc_mempool_take (zc_mempool_t *self, zc_tx_t **txs, size_t max);

//  =========================================================================
//  zc_chain - the best chain and the blocks kept aside, and chain choice
//  =========================================================================
//  The chain with the most work wins (one difficulty: the longest); of
//  equal work, the one whose tip hash is lower as a hex string.  Blocks
//  that do not extend the tip are kept aside, bounded in count and bytes,
//  until they form a better chain.

typedef struct _zc_chain_t zc_chain_t;

//  What offering a block led to.
typedef enum {
    ZC_CHAIN_KNOWN = 0,         //  already held: ignore
    ZC_CHAIN_SWITCH = 1,        //  a better chain: apply the plan
    ZC_CHAIN_ASIDE = 2,         //  kept aside: not better (yet)
    ZC_CHAIN_ORPHAN = 3,        //  parent unknown: kept aside, fetch parents
    ZC_CHAIN_INVALID = 4        //  does not fit its parent: rejected
} zc_chain_result_t;

//  A change of best chain: drop the main blocks above fork_height, then
//  add `attach` in order.  The blocks are borrowed from the chain.
typedef struct {
    int64_t fork_height;        //  last block both chains share
    zc_block_t **detach;        //  main blocks removed, lowest first
    size_t detach_count;        //  how many
    zc_block_t **attach;        //  branch blocks added, lowest first
    size_t attach_count;        //  how many
} zc_plan_t;

//  New chain holding genesis; aside_max_count / aside_max_bytes bound the
//  blocks kept aside.  Takes ownership of genesis.
zc_chain_t *zc_chain_new (zc_block_t *genesis, size_t aside_max_count,
                          size_t aside_max_bytes);
void zc_chain_destroy (zc_chain_t **self_p);

//  Longest reorganization a node makes: it holds its last
//  ZC_MAX_REORG_DEPTH + 1 main blocks in memory and refuses a branch that
//  forks below them (see doc/DESIGN.md, "Memory and the ledger").
#define ZC_MAX_REORG_DEPTH 64

//  Opens the chain held by ledger (borrowed; it must outlive the chain and
//  be used by the chain's thread only): checks genesis and the last
//  depth + 1 blocks and holds those in memory; older blocks, hashes and
//  transactions are looked up in the ledger.  A branch forking more than
//  depth blocks below the tip is refused.  NULL with *error_p (if not
//  NULL; caller frees) if the file's chain is not sound.
zc_chain_t *zc_chain_open (zc_ledger_t *ledger, size_t depth,
                           size_t aside_max_count, size_t aside_max_bytes,
                           char **error_p);

//  Appends a block to a chain made by zc_chain_new (everything in memory);
//  no checks beyond the link to the tip.  Takes ownership.  Returns 0 or
//  -1 (always -1 on a chain opened on a ledger).
int zc_chain_load (zc_chain_t *self, zc_block_t *block);

int64_t zc_chain_height (zc_chain_t *self);
const char *zc_chain_tip_hash (zc_chain_t *self);
//  Main-chain block at index (borrowed), or NULL if it is not held in
//  memory (above the tip, or below the recent blocks of a ledger chain).
zc_block_t *zc_chain_block (zc_chain_t *self, int64_t index);
//  Main-chain block at index read from the ledger (caller destroys), for
//  blocks zc_chain_block no longer holds; NULL past the tip or without a
//  ledger.
zc_block_t *zc_chain_read_block (zc_chain_t *self, int64_t index);
//  Index of the lowest main block held in memory.
int64_t zc_chain_lowest_held (zc_chain_t *self);
//  True if the main chain holds a transaction with that id (the held
//  blocks' index, then the ledger's).
bool zc_chain_has_tx (zc_chain_t *self, const char *tx_id);
//  True if a block with that hash is held, on the main chain or aside.
bool zc_chain_has_block (zc_chain_t *self, const char *hash);
//  True if a block held aside does not lead back to the main chain through
//  the blocks aside: its ancestors are still missing.
bool zc_chain_aside_orphan (zc_chain_t *self, const char *hash);
size_t zc_chain_aside_count (zc_chain_t *self);

//  Offers a block that passed zc_block_check, taking ownership.  On
//  ZC_CHAIN_SWITCH, *plan_p is a new plan: write it to the ledger, then
//  zc_chain_commit it (or zc_plan_destroy it to abandon the switch).
//  On ZC_CHAIN_INVALID *error_p gets a static reason.
zc_chain_result_t zc_chain_offer (zc_chain_t *self, zc_block_t *block,
                                  zc_plan_t **plan_p, const char **error_p);

//  Makes plan's branch the main chain; detached blocks are kept aside.
//  Destroys the plan.
void zc_chain_commit (zc_chain_t *self, zc_plan_t **plan_p);

//  Moves transactions between chain and mempool for a committed plan:
//  those of attached blocks leave the mempool, those of detached blocks
//  that the new chain lacks go back into it.  Call before zc_chain_commit.
void zc_plan_update_mempool (zc_plan_t *plan, zc_chain_t *chain,
                             zc_mempool_t *mempool);

void zc_plan_destroy (zc_plan_t **plan_p);

//  =========================================================================
//  zc_client - a blocking request/reply client for tools and tests
//  =========================================================================

typedef struct _zc_client_t zc_client_t;

//  Connects to host:port ("127.0.0.1:13246") using framing for requests.
//  NULL with *error_p (static) set on failure: what is wrong with the
//  address, or the system's reason (strerror, gai_strerror).
zc_client_t *zc_client_new (const char *address, zc_framing_t framing,
                            const char **error_p);
void zc_client_destroy (zc_client_t **self_p);

//  Sends raw bytes as they are (for tests of bad input).
int zc_client_send_raw (zc_client_t *self, const void *data, size_t size);

//  Sends one framed message (canonical JSON of request).
int zc_client_send (zc_client_t *self, const cJSON *request);

//  Waits up to timeout_ms for one framed reply; NULL on timeout, close,
//  or bad reply.  Caller owns the result.
cJSON *zc_client_recv (zc_client_t *self, int timeout_ms);

//  Sends request and waits for its reply.
cJSON *zc_client_request (zc_client_t *self, const cJSON *request,
                          int timeout_ms);

//  True if the server has closed the connection (waits up to timeout_ms).
bool zc_client_closed (zc_client_t *self, int timeout_ms);

//  =========================================================================
//  zc_market - the reference marketplace's record of confirmations
//  =========================================================================

typedef struct _zc_market_t zc_market_t;

//  Opens or creates market.sqlite3; NULL with *error_p (caller frees).
zc_market_t *zc_market_open (const char *path, char **error_p);
void zc_market_destroy (zc_market_t **self_p);

//  Records a checked block_confirmation or block_rollback notice (counted
//  by its public_key, once per seq).  1 if recorded, 0 if it changes
//  nothing (a repeat, or a rollback by a node that never confirmed the
//  block), -1 if malformed or not written.
int zc_market_record (zc_market_t *self, const cJSON *notice);

//  New {"type":"confirmation", ...} answer for a transaction id.
cJSON *zc_market_lookup (zc_market_t *self, const char *tx_id);

//  =========================================================================
//  zc_sync - when to fetch blocks from which peer, and when not to mine
//  =========================================================================
//  Pure decisions: the caller passes the time (msecs, monotonic, above 0)
//  and does
//  what the answers say.  An answer "from" is the index to send the peer
//  get_blocks {"from": from, "limit": ZC_SYNC_BATCH} for; 0 means ask
//  nothing.

#define ZC_SYNC_BATCH       256     //  blocks asked for at once
#define ZC_SYNC_TIMEOUT     3000    //  msecs before a peer is asked again
#define ZC_SYNC_SHUN        60000   //  msecs a peer that sent an invalid
                                    //  block is not synced from
#define ZC_SYNC_OVERLAP     8       //  blocks asked below a gap, to meet
                                    //  a short fork's common ancestor
#define ZC_SYNC_PEERS       1024    //  peers tracked, at most

typedef struct _zc_sync_t zc_sync_t;

zc_sync_t *zc_sync_new (void);
void zc_sync_destroy (zc_sync_t **self_p);

//  A block at index from peer has no known parent; height is ours.
int64_t zc_sync_orphan (zc_sync_t *self, const char *peer, int64_t index,
                        int64_t height, int64_t now);

//  A get_blocks answer of count blocks from peer has been offered; next
//  is the index after its last.  Goes on while answers hold blocks, and
//  holds mining while the sync goes on.
int64_t zc_sync_batch (zc_sync_t *self, const char *peer, int64_t count, int64_t next,
                       int64_t now);

//  A peer's status: ahead if its chain beats ours; height is ours.  When
//  it answers non-zero, mining is held.
int64_t zc_sync_status (zc_sync_t *self, const char *peer, bool ahead, int64_t height,
                        int64_t now);

//  The peer sent an invalid block: not synced from for ZC_SYNC_SHUN.
void zc_sync_shun (zc_sync_t *self, const char *peer, int64_t now);

//  Holds mining until a time; when it is held until (0: not held); and
//  true once when a hold has run out (the hold is then over).
void zc_sync_hold (zc_sync_t *self, int64_t until);
//  Holds mining at start until a time, or until that many peers have all
//  told their status (zc_sync_status) and none was ahead.
void zc_sync_hold_start (zc_sync_t *self, int64_t until, size_t peers);
int64_t zc_sync_hold_until (zc_sync_t *self);
bool zc_sync_hold_expired (zc_sync_t *self, int64_t now);

//  =========================================================================
//  zc_net - "host:port" addresses and the TCP sockets made from them
//  =========================================================================
//  An address is "host:port" or "[v6]:port", port 1 to 65535.  Every
//  socket is close-on-exec; connections have Nagle's algorithm off.

#define ZC_NET_ADDRESS_MAX  64      //  room for any "[v6]:port" we format

//  Splits an address into host (brackets removed, at most host_size - 1
//  bytes) and port.  0, or -1 if it is not of the form above.
int zc_net_split (const char *address, char *host, size_t host_size, int *port_p);

//  The address of host and port, an IPv6 host bracketed.  Caller frees.
char *zc_net_join (const char *host, int port);

//  Resolves an address.  0, or -1 with *error_p a static reason.
int zc_net_resolve (const char *address, struct sockaddr_storage *addr,
                    socklen_t *length_p, const char **error_p);

//  Makes a socket non-blocking and close-on-exec.  0, or -1 with errno.
int zc_net_set_nonblocking (int fd);

//  Starts a non-blocking connect: the socket, or -1 with errno.
int zc_net_dial (const struct sockaddr_storage *addr, socklen_t length);

//  How a dial ended once its socket is writable: 0 or an errno value.
int zc_net_dial_result (int fd);

//  Connects within timeout_ms: a blocking socket, or -1 with *error_p a
//  static reason (strerror of errno where the system gave one).
int zc_net_connect (const char *address, int timeout_ms, const char **error_p);

//  A non-blocking listening socket on host (unbracketed) and port, or -1
//  with errno.
int zc_net_listen (const char *host, int port, int backlog);

//  Accepts one connection (non-blocking, Nagle off) and formats its
//  peer's address: the socket, or -1 with errno (EAGAIN: none waiting).
int zc_net_accept (int listen_fd, char *address, size_t size);

//  Formats a socket address as "host:port" or "[v6]:port".
void zc_net_address_text (const struct sockaddr_storage *addr, char *address, size_t size);

//  The port of a JSON member, an integer 1..65535; 0 if it is not one.
int zc_net_port_of (const cJSON *item);

//  The address named by a protocol object's "host" and "port" (a node_list
//  entry, a node_discovery), or NULL if either is not of its form.
//  Caller frees.
char *zc_net_address_of (const cJSON *object);

//  =========================================================================
//  Protocol replies shared by every server
//  =========================================================================

//  New {"type":"error","error":reason}, the node protocol's answer to a
//  request it refuses.  Caller owns it.
cJSON *zc_error_new (const char *reason);

//  The reason a node or the gateway gives when it refuses a transaction at
//  once because it is past capacity (issue 11); clients may retry later.
#define ZC_BUSY_REASON "busy: the network is at capacity, try again later"

//  =========================================================================
//  zc_notice - signed block notices
//  =========================================================================
//  A notice ({"type":"block_confirmation"|"block_rollback", ...}) carries
//  "public_key" (base64 raw Ed25519 key) and "signature", the base64
//  signature of the JCS text of the notice without "signature".

//  Sets public_key and signature of notice with keys.  0 or -1.
int zc_notice_sign (cJSON *notice, zc_keys_t *keys);

//  Checks a received notice's shape and signature; NULL if it verifies,
//  else a static reason.
const char *zc_notice_check (const cJSON *notice);

//  =========================================================================
//  zc_trust - the nodes of the file, the only ones whose notices count
//  =========================================================================

typedef struct _zc_trust_t zc_trust_t;

typedef enum {
    ZC_TRUST_OK = 0,            //  signed by a node of the file, its node_id
    ZC_TRUST_LATER = 1,         //  not verifiable yet: a node is not learned
    ZC_TRUST_REFUSED = 2        //  forged, malformed, or from an unknown key
} zc_trust_result_t;

//  New set of trusted nodes; path (may be NULL) is the file where learned
//  identities are kept.
zc_trust_t *zc_trust_new (const char *path);
void zc_trust_destroy (zc_trust_t **self_p);

//  Adds a node of the file: its name, "host:port" and pinned key (NULL if
//  the file pins none).
void zc_trust_add (zc_trust_t *self, const char *name, const char *address,
                   const char *pinned);

//  Reads the identities learned before (after every zc_trust_add).  -1 with
//  *error_p (caller frees) if the file is malformed.
int zc_trust_load (zc_trust_t *self, char **error_p);

//  What the node at address said of itself (a pong): learns its key the
//  first time (or checks it against the pinned one) and its node_id.  -1
//  with *error_p (caller frees) if the key is not the one it must be.
int zc_trust_learn (zc_trust_t *self, const char *address, const char *node_id,
                    const char *key, char **error_p);

//  True if the node at address (a file node) has its key and node_id known.
bool zc_trust_known (zc_trust_t *self, const char *address);
size_t zc_trust_size (zc_trust_t *self);
const char *zc_trust_address (zc_trust_t *self, size_t index);

//  Judges a received notice.  On OK *name_p (if set) gets the node's name;
//  otherwise *reason_p a static reason.
zc_trust_result_t zc_trust_verify (zc_trust_t *self, const cJSON *notice,
                                   const char **reason_p, const char **name_p);

//  =========================================================================
//  zc_spool - the gateway's durable queue of notices owed to the server
//  =========================================================================

typedef struct _zc_spool_t zc_spool_t;

//  Opens or creates the spool file; NULL with *error_p (caller frees).
zc_spool_t *zc_spool_open (const char *path, char **error_p);
void zc_spool_destroy (zc_spool_t **self_p);

//  Opens a group: the accepts and removals until zc_spool_commit are one
//  SQL transaction, durable only once it commits.  0, or -1.
int zc_spool_begin (zc_spool_t *self);
//  Ends a group (nothing if none is open); -1 if it could not be committed,
//  and then none of its accepts and removals happened.
int zc_spool_commit (zc_spool_t *self);
//  Queues a notice (its text) from key with seq, in its own SQL transaction
//  or the group open: 1 if queued (*id_p its id), 0 if a notice of that key
//  with this seq or a later one was queued before (a repeat), -1 on a write
//  error (inside a group: its commit will fail).
int zc_spool_accept (zc_spool_t *self, const char *key, int64_t seq, const char *body,
                     int64_t *id_p);
//  Queued notices, oldest first, as "ID BODY" strings (a list that owns them).
zlistx_t *zc_spool_load (zc_spool_t *self);
//  Removes a delivered notice.
int zc_spool_remove (zc_spool_t *self, int64_t id);

//  =========================================================================
//  zc_log - the log every layer writes to (UTC ISO 8601 timestamps)
//  =========================================================================

//  Set by zchaind -v; read by every layer above this one.
extern bool zc_verbose;

//  Sends lines to a file (appended; NULL: none) and/or syslog instead of
//  stderr, which is the destination when neither is given.  ident names
//  the program in each line.  0, or -1 with *error_p (caller frees).
int zc_log_open (const char *ident, const char *path, bool use_syslog, char **error_p);

//  Reopens the log file (after logrotate moved it: SIGHUP).  0 or -1,
//  logged; the old file is kept on failure.
int zc_log_reopen (void);

//  Writes held-back summaries, then returns to stderr.
void zc_log_close (void);

//  One line at a level: 'E'rror, 'W'arning, 'N'otice, 'I'nfo, 'D'ebug.
void zc_log (char level, const char *format, ...) CHECK_PRINTF (2);

//  A line that can come many times a second under load (key names its
//  kind): the first of a period is written, the others are summed up in
//  one "N more like this" line when zc_log_flush finds the period over.
//  Verbose runs write every one.
void zc_log_often (const char *key, const char *format, ...) CHECK_PRINTF (2);

//  Writes the summaries of periods that are over; call about once a second.
void zc_log_flush (void);

#define zc_log_error(...)   zc_log ('E', __VA_ARGS__)
#define zc_log_warning(...) zc_log ('W', __VA_ARGS__)
#define zc_log_notice(...)  zc_log ('N', __VA_ARGS__)
#define zc_log_info(...)    zc_log ('I', __VA_ARGS__)
#define zc_debug(...) do { if (zc_verbose) zc_log ('D', __VA_ARGS__); } while (0)

#ifdef __cplusplus
}
#endif

#endif
