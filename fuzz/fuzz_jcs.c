/*  fuzz_jcs.c - RFC 8785 canonical JSON (zc_jcs_serialize, zc_jcs_number)

    Trees come from cJSON's own lenient parse, so the writer sees trees the
    strict reader would never build too.  Oracles: a canonical text is
    strict JSON and a fixed point; a number's ECMAScript form reads back as
    the same double.  */

#include "fuzz.h"
#include <math.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size >= sizeof (double)) {
        double value;
        memcpy (&value, data, sizeof value);
        char buffer [32];
        int length = zc_jcs_number (value, buffer, sizeof buffer);
        if (isfinite (value)) {
            FUZZ_ASSERT (length > 0, "finite %g has no form", value);
            double back = strtod (buffer, NULL);
            FUZZ_ASSERT (back == value, "%s reads back as %.17g, not %.17g", buffer, back, value);
        }
        else
            FUZZ_ASSERT (length == -1, "non-finite number written");
    }
    cJSON *json = cJSON_ParseWithLength ((const char *) data, size);
    if (json) {
        char *canonical = zc_jcs_serialize (json);
        if (canonical) {
            fuzz_assert_sendable (canonical, strlen (canonical), "canonical text");
            cJSON *again = zc_json_parse (canonical, strlen (canonical));
            FUZZ_ASSERT (again, "canonical text not readable: %s", canonical);
            fuzz_assert_roundtrip (again, "canonical text");
            cJSON_Delete (again);
        }
        free (canonical);
        cJSON_Delete (json);
    }
    return 0;
}
