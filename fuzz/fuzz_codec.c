/*  fuzz_codec.c - the framing decoder and encoder (zc_codec)

    The first byte picks the chunk size the bytes are fed in, so TCP's
    arbitrary splits are covered.  Oracles: a message is never larger than
    the cap; a message the encoder takes decodes back to itself.  */

#include "fuzz.h"

#define S_CAP 4096

static void
s_roundtrip (zc_framing_t framing, const char *body, size_t size)
{
    zchunk_t *chunk = zchunk_new (NULL, 0);
    if (zc_codec_encode (framing, body, size, chunk) == 0) {
        zc_codec_t *codec = zc_codec_new (S_CAP + 2);
        zc_codec_set_framing (codec, framing);
        FUZZ_ASSERT (zc_codec_feed (codec, zchunk_data (chunk), zchunk_size (chunk)) == 0,
                     "own frame refused");
        const char *data = NULL;
        size_t length = 0;
        FUZZ_ASSERT (zc_codec_next (codec, &data, &length) == 1, "own frame not decoded");
        FUZZ_ASSERT (length == size && memcmp (data, body, size) == 0,
                     "frame changed in transit");
        zc_codec_destroy (&codec);
    }
    zchunk_destroy (&chunk);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = 1 + data [0] % 64;
    data++, size--;
    zc_codec_t *codec = zc_codec_new (S_CAP);
    bool broken = false;
    for (size_t at = 0; at < size && !broken; at += step) {
        size_t chunk = size - at < step? size - at: step;
        if (zc_codec_feed (codec, data + at, chunk) != 0)
            break;
        const char *message = NULL;
        size_t length = 0;
        int rc;
        while ((rc = zc_codec_next (codec, &message, &length)) == 1) {
            FUZZ_ASSERT (length > 0 && length <= S_CAP, "message of %zu bytes", length);
            //  Copy: the decoder's buffer is only valid until its next call
            char *copy = (char *) malloc (length);
            memcpy (copy, message, length);
            s_roundtrip (zc_codec_framing (codec), copy, length);
            free (copy);
        }
        if (rc < 0) {
            FUZZ_ASSERT (zc_codec_error (codec), "error without a reason");
            broken = true;
        }
    }
    zc_codec_pending (codec);
    zc_codec_destroy (&codec);
    return 0;
}
