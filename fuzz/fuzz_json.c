/*  fuzz_json.c - the strict reader (zc_json_check, zc_json_read)

    Oracles: the reader never takes what cJSON cannot parse; what it takes
    and has a canonical form (no duplicate names, finite numbers) reads back
    from that form unchanged; zc_utf8_prefix always cuts at a character.  */

#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    size_t offset = 0;
    const char *error = zc_json_check (text, size, &offset);
    FUZZ_ASSERT (offset <= size, "offset %zu past %zu", offset, size);
    char reason [ZC_JSON_ERROR_MAX];
    cJSON *json = zc_json_read (text, size, reason, sizeof reason);
    if (error)
        FUZZ_ASSERT (!json, "zc_json_read took what zc_json_check refused");
    else
    if (json) {
        char *canonical = zc_jcs_serialize (json);
        if (canonical) {
            cJSON *again = zc_json_parse (canonical, strlen (canonical));
            FUZZ_ASSERT (again, "canonical form not readable: %s", canonical);
            fuzz_assert_roundtrip (again, "canonical form");
            cJSON_Delete (again);
            free (canonical);
        }
    }
    else        //  only U+0000 is grammatical and refused
        FUZZ_ASSERT (strstr (reason, "U+0000"), "took grammar, refused: %s", reason);
    cJSON_Delete (json);
    //  Whatever the bytes, the echo cut stays whole characters
    char *copy = strndup (text, size);
    size_t cut = zc_utf8_prefix (copy, 64);
    FUZZ_ASSERT (cut <= 64 && zc_utf8_valid (copy, cut), "bad cut %zu", cut);
    free (copy);
    return 0;
}
