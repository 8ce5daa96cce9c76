/*  fuzz_tx.c - transactions from JSON (zc_tx_from_json, zc_tx_verify)

    Oracles: an accepted transaction writes back to canonical JSON that
    reads back to the same id.  */

#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cJSON *json = zc_json_parse ((const char *) data, size);
    if (!json)
        return 0;
    const char *error = NULL;
    zc_tx_t *tx = zc_tx_from_json (json, &error);
    if (tx) {
        zc_tx_verify (tx);
        cJSON *out = zc_tx_to_json (tx);
        fuzz_assert_roundtrip (out, "transaction");
        zc_tx_t *again = zc_tx_from_json (out, &error);
        FUZZ_ASSERT (again && streq (zc_tx_id (again), zc_tx_id (tx)), "id changed");
        zc_tx_destroy (&again);
        cJSON_Delete (out);
        zc_tx_destroy (&tx);
    }
    else
        FUZZ_ASSERT (error && zc_utf8_valid (error, strlen (error)), "no reason");
    cJSON_Delete (json);
    return 0;
}
