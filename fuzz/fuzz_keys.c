/*  fuzz_keys.c - keys and signatures from outside (zc_verify_pem,
    zc_verify_raw, zc_base64_decode, zc_keys_load)

    The input is split at its first NUL: the first part is a PEM (or a
    base64 key), the second a signature.  A key file is loaded from the
    whole input.  */

#include "fuzz.h"

static char *s_path = NULL;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_path) {
        fuzz_quiet ();
        s_path = zsys_sprintf ("/tmp/zchain-fuzz-keys-%d.pem", (int) getpid ());
    }
    char *text = (char *) malloc (size + 1);
    memcpy (text, data, size);
    text [size] = 0;
    const char *key = text;
    const char *signature = text + strlen (text) + (strlen (text) < size? 1: 0);
    zc_verify_pem (key, "message", 7, signature);
    zc_verify_raw (key, "message", 7, signature);
    size_t length = 0;
    uint8_t *decoded = zc_base64_decode (key, &length);
    if (decoded) {
        char *encoded = zc_base64_encode (decoded, length);
        FUZZ_ASSERT (encoded && streq (encoded, key), "base64 not a fixed point");
        free (encoded);
        free (decoded);
    }
    FILE *file = fopen (s_path, "wb");
    if (file) {
        size_t written = fwrite (data, 1, size, file);
        fclose (file);
        if (written == size) {
            zc_keys_t *keys = zc_keys_load (s_path);
            if (keys) {
                const char *pem = zc_keys_public_pem (keys);
                FUZZ_ASSERT (zc_utf8_valid (pem, strlen (pem)), "PEM not UTF-8");
                char *signed_text = zc_keys_sign (keys, "x", 1);
                FUZZ_ASSERT (zc_verify_pem (pem, "x", 1, signed_text), "own signature refused");
                free (signed_text);
                zc_keys_destroy (&keys);
            }
        }
    }
    free (text);
    return 0;
}
