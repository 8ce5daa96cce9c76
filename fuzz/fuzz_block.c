/*  fuzz_block.c - blocks from JSON (zc_block_from_json, zc_block_check)

    The poison block of issue 10 was accepted and could not be written
    back.  Oracle: every block zc_block_from_json takes has a canonical
    form that reads back as the same block, fields the hash does not cover
    included.  */

#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cJSON *json = zc_json_parse ((const char *) data, size);
    if (!json)
        return 0;
    const char *error = NULL;
    zc_block_t *block = zc_block_from_json (json, &error);
    if (block) {
        zc_block_check (block, 0, 1000, false, NULL, NULL);
        cJSON *out = zc_block_to_json (block);
        fuzz_assert_roundtrip (out, "block");
        zc_block_t *again = zc_block_from_json (out, &error);
        FUZZ_ASSERT (again, "block does not read back: %s", error);
        FUZZ_ASSERT (streq (zc_block_hash (again), zc_block_hash (block))
                  && streq (zc_block_miner_id (again), zc_block_miner_id (block))
                  && streq (zc_block_public_key_pem (again), zc_block_public_key_pem (block))
                  && streq (zc_block_signature (again), zc_block_signature (block)),
                     "block changed when read back");
        zc_block_destroy (&again);
        cJSON_Delete (out);
        zc_block_destroy (&block);
    }
    else
        FUZZ_ASSERT (error, "no reason");
    cJSON_Delete (json);
    return 0;
}
