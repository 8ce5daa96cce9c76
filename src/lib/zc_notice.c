/*  =========================================================================
    zc_notice - signed block notices

    A node tells the outside world of its chain with block_confirmation and
    block_rollback notices.  Each carries the node's raw Ed25519 public key
    ("public_key", base64) and "signature": the base64 Ed25519 signature of
    the JCS text of the whole notice without its "signature" member.  So
    anyone can check a notice with a few lines of any language, and the
    gateway can forward it unchanged for the server to check again.

    Who may send a notice is zc_trust's business (zc_trust.c).
    =========================================================================
*/

#include "zchain.h"

//  ---------------------------------------------------------------------
//  Signing and checking one notice

//  The bytes a notice's signature covers: JCS of it without "signature".
static char *
s_signed_text (const cJSON *notice)
{
    cJSON *copy = cJSON_Duplicate (notice, true);
    if (!copy)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive (copy, "signature");
    char *text = zc_jcs_serialize (copy);
    cJSON_Delete (copy);
    return text;
}

int
zc_notice_sign (cJSON *notice, zc_keys_t *keys)
{
    cJSON_DeleteItemFromObjectCaseSensitive (notice, "signature");
    cJSON_DeleteItemFromObjectCaseSensitive (notice, "public_key");
    cJSON_AddStringToObject (notice, "public_key", zc_keys_public_b64 (keys));
    char *text = zc_jcs_serialize (notice);
    char *signature = text? zc_keys_sign (keys, text, strlen (text)): NULL;
    free (text);
    if (!signature)
        return -1;
    cJSON_AddStringToObject (notice, "signature", signature);
    free (signature);
    return 0;
}

//  String member or NULL.
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

const char *
zc_notice_check (const cJSON *notice)
{
    const char *type = s_string (notice, "type");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive (notice, "block_index");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive (notice, "seq");
    const cJSON *tx_ids = cJSON_GetObjectItemCaseSensitive (notice, "tx_ids");
    if (!cJSON_IsObject (notice) || !type
    ||  (!streq (type, "block_confirmation") && !streq (type, "block_rollback")))
        return "not a block notice";
    if (!cJSON_IsNumber (index) || !s_string (notice, "block_hash")
    ||  !s_string (notice, "node_id") || !cJSON_IsArray (tx_ids))
        return "notice needs block_index, block_hash, node_id and tx_ids";
    //  Forms before anything is cast or kept: a huge block_index was once
    //  cast to INT64_MIN
    if (!(index->valuedouble >= 0 && index->valuedouble <= 9007199254740992.0)
    ||  index->valuedouble != (double) (int64_t) index->valuedouble
    ||  !zc_hash_valid (s_string (notice, "block_hash"))
    ||  !zc_uuid_valid (s_string (notice, "node_id")))
        return "notice needs an integer block_index >= 0, a 64-hex block_hash and a UUID node_id";
    if (!s_string (notice, "public_key"))
        return "notice has no public_key";
    if (!s_string (notice, "signature"))
        return "notice has no signature";
    if (!cJSON_IsNumber (seq) || seq->valuedouble < 1 || seq->valuedouble > 9007199254740992.0
    ||  seq->valuedouble != (double) (int64_t) seq->valuedouble)
        return "notice needs an integer seq >= 1";
    const cJSON *tx_id;
    cJSON_ArrayForEach (tx_id, tx_ids)
        if (!cJSON_IsString (tx_id) || !zc_hash_valid (tx_id->valuestring))
            return "notice tx_ids must be 64-hex strings";
    if (!zc_hash_valid (s_string (notice, "block_hash")))
        return "notice block_hash must be 64 hex";
    char *text = s_signed_text (notice);
    bool valid = text && zc_verify_raw (s_string (notice, "public_key"), text, strlen (text),
                                        s_string (notice, "signature"));
    free (text);
    return valid? NULL: "notice signature does not verify";
}
