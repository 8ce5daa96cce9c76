/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_block - a block: header, transactions, proof of work, miner signature

    The block hash is SHA-256 over the canonical text of
    {"index","prev_hash","timestamp","transactions"} followed by the nonce
    in ASCII decimal.  A receiver never trusts current_hash: it recomputes
    it.  The miner signs the 64 hex characters of the hash with its
    Ed25519 node key and ships the key's PEM beside it.
    =========================================================================
*/

#include "zchain.h"
#include <inttypes.h>

//  Largest integer a JSON number carries exactly (2^53).
#define S_MAX_EXACT 9007199254740992.0
//  Bounds on strings a peer chooses, so a block's size stays sane.
#define S_MAX_ID        128
#define S_MAX_SIGNATURE 1024
#define S_MAX_PEM       4096
#define S_MAX_TIMESTAMP 64

struct _zc_block_t {
    int64_t index;              //  height in the chain, genesis is 0
    char prev_hash [ZC_HASH_HEX + 1];  //  hash of the block below
    char hash [ZC_HASH_HEX + 1];       //  current_hash as claimed or sealed
    char *timestamp;            //  ISO 8601 UTC text, as hashed
    uint64_t nonce;             //  proof-of-work nonce
    char *miner_id;             //  node_id of the miner
    char *signature;            //  base64 Ed25519 signature of hash
    char *public_key_pem;       //  miner's public key (SubjectPublicKeyInfo)
    zc_tx_t **txs;              //  transactions, owned
    size_t tx_count;            //  how many
    size_t bytes;               //  approximate size, for bounded stores
};

//  Allocates a block with its strings; txs are added by the caller.
static zc_block_t *
s_block_new (int64_t index, const char *prev_hash, const char *timestamp)
{
    zc_block_t *self = (zc_block_t *) zmalloc (sizeof (zc_block_t));
    self->index = index;
    snprintf (self->prev_hash, sizeof self->prev_hash, "%s", prev_hash);
    self->timestamp = strdup (timestamp);
    self->miner_id = strdup ("");
    self->signature = strdup ("");
    self->public_key_pem = strdup ("");
    self->bytes = sizeof (zc_block_t) + strlen (timestamp);
    return self;
}

//  Replaces an owned string field.
static void
s_set_string (char **field, const char *value)
{
    free (*field);
    *field = strdup (value);
}

//  Reads a JSON number that must be a non-negative integer within 2^53.
static bool
s_get_uint (const cJSON *json, const char *name, uint64_t *value_p)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    if (!cJSON_IsNumber (item))
        return false;
    double value = item->valuedouble;
    if (!(value >= 0 && value <= S_MAX_EXACT) || value != (double) (uint64_t) value)
        return false;
    *value_p = (uint64_t) value;
    return true;
}

//  Reads a string member no longer than max; NULL if absent or wrong.
static const char *
s_get_string (const cJSON *json, const char *name, size_t max)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    if (!cJSON_IsString (item) || strlen (item->valuestring) > max)
        return NULL;
    return item->valuestring;
}

//  True if text is "" or PEM exactly as OpenSSL writes a public key:
//  the BEGIN line, base64 lines of at most 64 characters, the END line,
//  each ended by a newline.  OpenSSL's own reader skips junk before the
//  BEGIN line and after the END one; a block must not carry any, since
//  public_key_pem is covered by neither the hash nor the signature.
static bool
s_pem_valid (const char *text)
{
    static const char begin [] = "-----BEGIN PUBLIC KEY-----\n";
    static const char end [] = "-----END PUBLIC KEY-----\n";
    if (*text == 0)
        return true;
    if (strncmp (text, begin, sizeof begin - 1) != 0)
        return false;
    const char *p = text + sizeof begin - 1;
    size_t lines = 0;
    while (*p && *p != '-') {
        size_t length = strspn (p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
        if (length == 0 || length > 64 || p [length] != '\n')
            return false;
        p += length + 1;
        lines++;
    }
    return lines > 0 && streq (p, end);
}

//  True if text is "" or only base64 characters (a signature's form).
static bool
s_base64_form (const char *text)
{
    return strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        == strlen (text);
}

//  Checks the shape of a new_block payload and builds the block.
zc_block_t *
zc_block_from_json (const cJSON *json, const char **error_p)
{
    const char *error = NULL;
    uint64_t index = 0, nonce = 0;
    const char *prev_hash = s_get_string (json, "prev_hash", ZC_HASH_HEX);
    const char *hash = s_get_string (json, "current_hash", ZC_HASH_HEX);
    const char *timestamp = s_get_string (json, "timestamp", S_MAX_TIMESTAMP);
    const char *miner_id = s_get_string (json, "miner_id", S_MAX_ID);
    const char *signature = s_get_string (json, "signature", S_MAX_SIGNATURE);
    const char *pem = s_get_string (json, "public_key_pem", S_MAX_PEM);
    const cJSON *txs = cJSON_GetObjectItemCaseSensitive (json, "transactions");
    if (!cJSON_IsObject (json))
        error = "block is not an object";
    else
    if (!s_get_uint (json, "index", &index))
        error = "index must be a non-negative integer";
    else
    if (!prev_hash || !zc_hash_valid (prev_hash))
        error = "prev_hash must be 64 lowercase hex characters";
    else
    if (!hash || !zc_hash_valid (hash))
        error = "current_hash must be 64 lowercase hex characters";
    else
    if (!timestamp || !zc_iso8601_valid (timestamp))
        error = "timestamp must be an ISO 8601 date-time";
    else
    if (!s_get_uint (json, "nonce", &nonce))
        error = "nonce must be a non-negative integer";
    else
    if (!miner_id)
        error = "miner_id must be a string";
    else
    if (!zc_uuid_valid (miner_id) && !(index == 0 && streq (miner_id, "genesis")))
        error = "miner_id must be a UUID";
    else
    if (!signature || !s_base64_form (signature))
        error = "signature must be a base64 string";
    else
    if (!pem || !s_pem_valid (pem))
        error = "public_key_pem must be a PEM public key and nothing else";
    else
    if (!cJSON_IsArray (txs))
        error = "transactions must be an array";
    if (error) {
        if (error_p)
            *error_p = error;
        return NULL;
    }
    zc_block_t *self = s_block_new ((int64_t) index, prev_hash, timestamp);
    snprintf (self->hash, sizeof self->hash, "%s", hash);
    self->nonce = nonce;
    s_set_string (&self->miner_id, miner_id);
    s_set_string (&self->signature, signature);
    s_set_string (&self->public_key_pem, pem);
    self->bytes += strlen (miner_id) + strlen (signature) + strlen (pem);
    size_t count = (size_t) cJSON_GetArraySize (txs);
    self->txs = (zc_tx_t **) zmalloc ((count? count: 1) * sizeof (zc_tx_t *));
    const cJSON *item;
    cJSON_ArrayForEach (item, txs) {
        zc_tx_t *tx = zc_tx_from_json (item, &error);
        if (!tx)
            break;
        self->txs [self->tx_count++] = tx;
        self->bytes += strlen (zc_tx_canonical (tx)) + sizeof (zc_tx_t *) + 200;
    }
    if (error) {
        zc_block_destroy (&self);
        if (error_p)
            *error_p = error;
    }
    return self;
}

//  A new block for the miner to seal.
zc_block_t *
zc_block_new (int64_t index, const char *prev_hash, const char *timestamp,
              zc_tx_t **txs, size_t count)
{
    zc_block_t *self = s_block_new (index, prev_hash, timestamp);
    self->txs = (zc_tx_t **) zmalloc ((count? count: 1) * sizeof (zc_tx_t *));
    for (size_t i = 0; i < count; i++) {
        self->txs [i] = txs [i];
        self->bytes += strlen (zc_tx_canonical (txs [i])) + sizeof (zc_tx_t *) + 200;
    }
    self->tx_count = count;
    return self;
}

//  Every node of a network starts from this same block; its hash is
//  computed, not mined, so no proof of work is asked of it.
zc_block_t *
zc_block_genesis (void)
{
    char zeros [ZC_HASH_HEX + 1];
    memset (zeros, '0', ZC_HASH_HEX);
    zeros [ZC_HASH_HEX] = 0;
    zc_block_t *self = zc_block_new (0, zeros, ZC_GENESIS_TIMESTAMP, NULL, 0);
    zc_block_compute_hash (self, self->hash);
    s_set_string (&self->miner_id, "genesis");
    return self;
}

//  Frees the block with its transactions and nulls the caller's pointer.
void
zc_block_destroy (zc_block_t **self_p)
{
    if (self_p && *self_p) {
        zc_block_t *self = *self_p;
        for (size_t i = 0; i < self->tx_count; i++)
            zc_tx_destroy (&self->txs [i]);
        free (self->txs);
        free (self->timestamp);
        free (self->miner_id);
        free (self->signature);
        free (self->public_key_pem);
        free (self);
        *self_p = NULL;
    }
}

int64_t
zc_block_index (zc_block_t *self)
{
    return self->index;
}

const char *
zc_block_prev_hash (zc_block_t *self)
{
    return self->prev_hash;
}

const char *
zc_block_hash (zc_block_t *self)
{
    return self->hash;
}

const char *
zc_block_timestamp (zc_block_t *self)
{
    return self->timestamp;
}

uint64_t
zc_block_nonce (zc_block_t *self)
{
    return self->nonce;
}

const char *
zc_block_miner_id (zc_block_t *self)
{
    return self->miner_id;
}

const char *
zc_block_signature (zc_block_t *self)
{
    return self->signature;
}

const char *
zc_block_public_key_pem (zc_block_t *self)
{
    return self->public_key_pem;
}

size_t
zc_block_tx_count (zc_block_t *self)
{
    return self->tx_count;
}

zc_tx_t *
zc_block_tx (zc_block_t *self, size_t index)
{
    return index < self->tx_count? self->txs [index]: NULL;
}

size_t
zc_block_bytes (zc_block_t *self)
{
    return self->bytes;
}

//  The text the proof of work covers, built from the transactions'
//  canonical texts so no JSON tree is rebuilt per block.
char *
zc_block_preimage (zc_block_t *self)
{
    cJSON *timestamp_json = cJSON_CreateString (self->timestamp);
    char *timestamp = zc_jcs_serialize (timestamp_json);
    cJSON_Delete (timestamp_json);
    if (!timestamp)
        return NULL;
    //  The header's length is measured, not guessed: the index may have
    //  up to 16 digits and the timestamp any length a peer chose
    const char *format = "{\"index\":%" PRId64 ",\"prev_hash\":\"%s\",\"timestamp\":%s,\"transactions\":[";
    int header = snprintf (NULL, 0, format, self->index, self->prev_hash, timestamp);
    if (header < 0) {
        free (timestamp);
        return NULL;
    }
    size_t size = (size_t) header + 3;          //  "]}" and the NUL
    for (size_t i = 0; i < self->tx_count; i++)
        size += strlen (zc_tx_canonical (self->txs [i])) + 1;
    char *text = (char *) malloc (size);
    size_t used = (size_t) snprintf (text, size, format, self->index, self->prev_hash, timestamp);
    for (size_t i = 0; i < self->tx_count; i++) {
        const char *tx = zc_tx_canonical (self->txs [i]);
        size_t length = strlen (tx);
        if (i > 0)
            text [used++] = ',';
        memcpy (text + used, tx, length);
        used += length;
    }
    memcpy (text + used, "]}", 3);
    free (timestamp);
    return text;
}

//  Recomputes the hash for the block's own nonce.
void
zc_block_compute_hash (zc_block_t *self, char *out)
{
    char *preimage = zc_block_preimage (self);
    if (!preimage) {
        out [0] = 0;
        return;
    }
    size_t length = strlen (preimage);
    char *text = (char *) malloc (length + 24);
    memcpy (text, preimage, length);
    length += (size_t) snprintf (text + length, 24, "%" PRIu64, self->nonce);
    zc_sha256_hex (text, length, out);
    free (text);
    free (preimage);
}

//  Proof of work as the seed states it: the hex hash starts with
//  difficulty '0' characters.
bool
zc_hash_meets (const char *hash, int difficulty)
{
    for (int i = 0; i < difficulty; i++)
        if (hash [i] != '0')
            return false;
    return true;
}

//  Finishes a block the local miner found.
int
zc_block_seal (zc_block_t *self, uint64_t nonce, const char *hash,
               const char *miner_id, zc_keys_t *keys)
{
    //  A block this node could not send back out is never made
    if (!zc_uuid_valid (miner_id) || !zc_hash_valid (hash))
        return -1;
    char *signature = zc_keys_sign (keys, hash, strlen (hash));
    if (!signature)
        return -1;
    self->bytes -= strlen (self->miner_id) + strlen (self->signature)
                 + strlen (self->public_key_pem);
    self->nonce = nonce;
    snprintf (self->hash, sizeof self->hash, "%s", hash);
    s_set_string (&self->miner_id, miner_id);
    free (self->signature);
    self->signature = signature;
    s_set_string (&self->public_key_pem, zc_keys_public_pem (keys));
    self->bytes += strlen (miner_id) + strlen (signature) + strlen (self->public_key_pem);
    return 0;
}

//  Everything about a block that needs no chain: cheapest checks first, so
//  junk is turned away before any hashing or signature work.
const char *
zc_block_check (zc_block_t *self, int difficulty, size_t max_txs,
                bool verify_txs, zc_tx_known_fn *skip, void *arg)
{
    if (self->index == 0)
        return "a block cannot replace genesis";
    if (self->tx_count > max_txs)
        return "too many transactions";
    if (!zc_hash_meets (self->hash, difficulty))
        return "insufficient proof of work";
    char hash [ZC_HASH_HEX + 1];
    zc_block_compute_hash (self, hash);
    if (strcmp (hash, self->hash) != 0)
        return "current_hash does not match the block's contents";
    if (!zc_verify_pem (self->public_key_pem, self->hash, ZC_HASH_HEX, self->signature))
        return "bad miner signature";
    zhashx_t *seen = zhashx_new ();
    const char *error = NULL;
    for (size_t i = 0; i < self->tx_count && !error; i++) {
        zc_tx_t *tx = self->txs [i];
        if (zhashx_insert (seen, zc_tx_id (tx), tx) != 0)
            error = "transaction appears twice in the block";
        else
        if (verify_txs
        && !(skip && skip (zc_tx_id (tx), arg))
        && !zc_tx_verify (tx))
            error = "bad transaction signature";
    }
    zhashx_destroy (&seen);
    return error;
}

//  The canonical text of the new_block payload, the transactions spliced in
//  as the canonical texts they have kept since they were parsed (issue 11:
//  no JSON tree per transaction).  "transactions" is the last key in JCS
//  order, so it goes before the header's closing brace.
char *
zc_block_canonical (zc_block_t *self)
{
    cJSON *json = zc_block_to_json_header (self);
    char *header = zc_jcs_serialize (json);
    cJSON_Delete (json);
    if (!header)
        return NULL;
    size_t header_size = strlen (header);
    size_t size = header_size + 20;
    for (size_t i = 0; i < self->tx_count; i++)
        size += strlen (zc_tx_canonical (self->txs [i])) + 1;
    char *text = (char *) malloc (size);
    memcpy (text, header, header_size - 1);             //  without its '}'
    size_t used = header_size - 1;
    memcpy (text + used, ",\"transactions\":[", 17);
    used += 17;
    for (size_t i = 0; i < self->tx_count; i++) {
        const char *tx = zc_tx_canonical (self->txs [i]);
        size_t length = strlen (tx);
        if (i > 0)
            text [used++] = ',';
        memcpy (text + used, tx, length);
        used += length;
    }
    memcpy (text + used, "]}", 3);
    free (header);
    return text;
}

//  The new_block payload without its transactions.
cJSON *
zc_block_to_json_header (zc_block_t *self)
{
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddNumberToObject (json, "index", (double) self->index);
    cJSON_AddStringToObject (json, "timestamp", self->timestamp);
    cJSON_AddStringToObject (json, "prev_hash", self->prev_hash);
    cJSON_AddStringToObject (json, "current_hash", self->hash);
    cJSON_AddNumberToObject (json, "nonce", (double) self->nonce);
    cJSON_AddStringToObject (json, "miner_id", self->miner_id);
    cJSON_AddStringToObject (json, "signature", self->signature);
    cJSON_AddStringToObject (json, "public_key_pem", self->public_key_pem);
    return json;
}

//  The new_block payload; numbers stay exact since they are within 2^53.
cJSON *
zc_block_to_json (zc_block_t *self)
{
    cJSON *json = zc_block_to_json_header (self);
    cJSON *txs = cJSON_AddArrayToObject (json, "transactions");
    for (size_t i = 0; i < self->tx_count; i++)
        cJSON_AddItemToArray (txs, zc_tx_to_json (self->txs [i]));
    return json;
}
