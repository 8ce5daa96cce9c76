/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_util.c - encodings, digests and clocks shared by every class

    Small stateless helpers: SHA-256 as lowercase hex, hex and strict
    base64 (RFC 4648), the fixed timestamp form blocks carry and the looser
    ISO 8601 form clients may send, hash text checks, version 4 UUIDs and a
    monotonic clock.  Everything here validates its input and never asserts
    on it: these functions sit right behind the network.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/time.h>
#include <time.h>

bool zc_verbose = false;

static const char s_hex_digits [] = "0123456789abcdef";
static const char s_b64_alphabet [] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

//  Hashes data with SHA-256 and writes the digest as lowercase hex, the
//  form every id and block hash takes on the wire.
void
zc_sha256_hex (const void *data, size_t size, char *out)
{
    uint8_t digest [32];
    unsigned int digest_size = 0;
    static const uint8_t empty = 0;
    if (!data)
        data = &empty;          //  EVP wants a pointer even for 0 bytes
    if (EVP_Digest (data, size, digest, &digest_size, EVP_sha256 (), NULL) != 1
    ||  digest_size != sizeof digest) {
        //  Cannot happen with a working libcrypto; never hand back garbage
        memset (out, '0', ZC_HASH_HEX);
        out [ZC_HASH_HEX] = 0;
        return;
    }
    zc_hex_encode (digest, sizeof digest, out);
}

//  Lowercase hex of a byte string, NUL-terminated.
void
zc_hex_encode (const uint8_t *data, size_t size, char *out)
{
    size_t index;
    for (index = 0; index < size; index++) {
        out [2 * index] = s_hex_digits [data [index] >> 4];
        out [2 * index + 1] = s_hex_digits [data [index] & 15];
    }
    out [2 * size] = 0;
}

//  Standard padded base64, used for public keys and signatures.
char *
zc_base64_encode (const uint8_t *data, size_t size)
{
    if (size > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;            //  output length would overflow
    char *out = (char *) malloc ((size + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    char *target = out;
    size_t index = 0;
    while (index + 3 <= size) {
        uint32_t block = ((uint32_t) data [index] << 16)
                       | ((uint32_t) data [index + 1] << 8)
                       |  (uint32_t) data [index + 2];
        *target++ = s_b64_alphabet [(block >> 18) & 63];
        *target++ = s_b64_alphabet [(block >> 12) & 63];
        *target++ = s_b64_alphabet [(block >> 6) & 63];
        *target++ = s_b64_alphabet [block & 63];
        index += 3;
    }
    if (size - index == 1) {
        uint32_t block = (uint32_t) data [index] << 16;
        *target++ = s_b64_alphabet [(block >> 18) & 63];
        *target++ = s_b64_alphabet [(block >> 12) & 63];
        *target++ = '=';
        *target++ = '=';
    }
    else
    if (size - index == 2) {
        uint32_t block = ((uint32_t) data [index] << 16)
                       | ((uint32_t) data [index + 1] << 8);
        *target++ = s_b64_alphabet [(block >> 18) & 63];
        *target++ = s_b64_alphabet [(block >> 12) & 63];
        *target++ = s_b64_alphabet [(block >> 6) & 63];
        *target++ = '=';
    }
    *target = 0;
    return out;
}

//  Value of one base64 alphabet character, or -1 if it is not one.
static int
s_b64_value (char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

//  Strict decoder: a signature or key has exactly one valid encoding, so
//  anything else (whitespace, missing or misplaced padding, non-zero pad
//  bits, foreign characters) is rejected rather than tolerated.
uint8_t *
zc_base64_decode (const char *text, size_t *size_p)
{
    if (!text || !size_p)
        return NULL;
    size_t length = strlen (text);
    if (length % 4 != 0)
        return NULL;
    size_t padding = 0;
    if (length >= 1 && text [length - 1] == '=')
        padding++;
    if (padding && length >= 2 && text [length - 2] == '=')
        padding++;
    size_t size = length / 4 * 3 - padding;
    uint8_t *out = (uint8_t *) malloc (size? size: 1);
    if (!out)
        return NULL;

    size_t written = 0;
    size_t index;
    for (index = 0; index < length; index += 4) {
        bool last = index + 4 == length;
        int values [4];
        int quad;
        for (quad = 0; quad < 4; quad++) {
            char c = text [index + quad];
            if (c == '=' && last && quad >= 4 - (int) padding)
                values [quad] = 0;
            else
            if ((values [quad] = s_b64_value (c)) < 0)
                goto bad;       //  includes '=' anywhere but the end
        }
        uint32_t block = ((uint32_t) values [0] << 18)
                       | ((uint32_t) values [1] << 12)
                       | ((uint32_t) values [2] << 6)
                       |  (uint32_t) values [3];
        if (last && padding == 2 && (block & 0xFFFF) != 0)
            goto bad;           //  non-canonical: stray bits under padding
        if (last && padding == 1 && (block & 0xFF) != 0)
            goto bad;
        out [written++] = (uint8_t) (block >> 16);
        if (!(last && padding == 2))
            out [written++] = (uint8_t) (block >> 8);
        if (!(last && padding >= 1))
            out [written++] = (uint8_t) block;
    }
    *size_p = written;
    return out;
bad:
    free (out);
    return NULL;
}

//  Wall-clock time in the one form blocks and transactions carry.
void
zc_timestamp_now (char *out)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm broken;
    time_t seconds = now.tv_sec;
    char date [20];             //  YYYY-MM-DDTHH:MM:SS
    if (!gmtime_r (&seconds, &broken)
    ||  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &broken) != 19)
        strcpy (date, "1970-01-01T00:00:00");   //  clock beyond year 9999
    unsigned micros = (unsigned) (now.tv_nsec / 1000) % 1000000u;
    snprintf (out, ZC_TIMESTAMP_LEN + 1, "%s.%06uZ", date, micros);
}

//  Reads exactly `digits` decimal digits at text; -1 if any is missing.
static int
s_read_digits (const char *text, int digits)
{
    int value = 0;
    int index;
    for (index = 0; index < digits; index++) {
        if (text [index] < '0' || text [index] > '9')
            return -1;
        value = value * 10 + (text [index] - '0');
    }
    return value;
}

//  Days in a month of the proleptic Gregorian calendar.
static int
s_days_in_month (int year, int month)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days [month - 1];
}

//  Checks "YYYY-MM-DDTHH:MM:SS" at text with real field ranges; both
//  timestamp checks share this.  Allows a leap second (:60).
static bool
s_datetime_valid (const char *text)
{
    int year = s_read_digits (text, 4);
    if (year < 0 || text [4] != '-')
        return false;
    int month = s_read_digits (text + 5, 2);
    if (month < 1 || month > 12 || text [7] != '-')
        return false;
    int day = s_read_digits (text + 8, 2);
    if (day < 1 || day > s_days_in_month (year, month) || text [10] != 'T')
        return false;
    int hour = s_read_digits (text + 11, 2);
    if (hour < 0 || hour > 23 || text [13] != ':')
        return false;
    int minute = s_read_digits (text + 14, 2);
    if (minute < 0 || minute > 59 || text [16] != ':')
        return false;
    int second = s_read_digits (text + 17, 2);
    if (second < 0 || second > 60)
        return false;
    return true;
}

//  The strict block form, so a timestamp compares correctly as text.
bool
zc_timestamp_valid (const char *text)
{
    if (!text || strlen (text) != ZC_TIMESTAMP_LEN)
        return false;
    if (!s_datetime_valid (text) || text [19] != '.')
        return false;
    if (s_read_digits (text + 20, 6) < 0)
        return false;
    return text [26] == 'Z';
}

//  The looser form a client may send: any fraction, Z or a UTC offset.
bool
zc_iso8601_valid (const char *text)
{
    if (!text || strnlen (text, 20) < 20)
        return false;
    if (!s_datetime_valid (text))
        return false;
    const char *cursor = text + 19;
    if (*cursor == '.') {
        cursor++;
        if (*cursor < '0' || *cursor > '9')
            return false;       //  a point needs at least one digit
        while (*cursor >= '0' && *cursor <= '9')
            cursor++;
    }
    if (*cursor == 'Z')
        return cursor [1] == 0;
    if (*cursor != '+' && *cursor != '-')
        return false;
    int hours = s_read_digits (cursor + 1, 2);
    if (hours < 0 || hours > 23 || cursor [3] != ':')
        return false;
    int minutes = s_read_digits (cursor + 4, 2);
    if (minutes < 0 || minutes > 59)
        return false;
    return cursor [6] == 0;
}

//  A block or transaction id as we write them: 64 lowercase hex digits.
bool
zc_hash_valid (const char *text)
{
    if (!text)
        return false;
    size_t index;
    for (index = 0; index < ZC_HASH_HEX; index++) {
        char c = text [index];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;       //  also stops at the NUL of short text
    }
    return text [ZC_HASH_HEX] == 0;
}

//  Random UUID (RFC 4122 version 4) from the OpenSSL CSPRNG.
void
zc_uuid_new (char *out)
{
    uint8_t bytes [16];
    if (RAND_bytes (bytes, sizeof bytes) != 1) {
        //  The CSPRNG never fails on a sane system; fall back to the
        //  clock mixed with the pid rather than returning nothing
        uint64_t seed = (uint64_t) zc_clock_usecs () ^ ((uint64_t) getpid () << 32);
        size_t index;
        for (index = 0; index < sizeof bytes; index++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            bytes [index] = (uint8_t) (seed >> 56);
        }
    }
    bytes [6] = (bytes [6] & 0x0F) | 0x40;      //  version 4
    bytes [8] = (bytes [8] & 0x3F) | 0x80;      //  RFC 4122 variant
    char hex [33];
    zc_hex_encode (bytes, sizeof bytes, hex);
    snprintf (out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s",
              hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

//  Microseconds on a clock that never jumps, for latencies and deadlines.
int64_t
zc_clock_usecs (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  The node protocol's error answer, built in one place for every server.
cJSON *
zc_error_new (const char *reason)
{
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "type", "error");
    cJSON_AddStringToObject (reply, "error", reason? reason: "error");
    return reply;
}

//  -------------------------------------------------------------------------
//  Forms of the strings the protocol fixes (issue 10): what a peer sends
//  in these fields is refused unless it has exactly this form, so the
//  node never keeps text it could not send back out.

bool
zc_uuid_valid (const char *text)
{
    if (!text)
        return false;
    for (size_t index = 0; index < 36; index++) {
        char c = text [index];
        if (index == 8 || index == 13 || index == 18 || index == 23) {
            if (c != '-')
                return false;
        }
        else
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;       //  also stops at the NUL of short text
    }
    return text [36] == 0;
}

bool
zc_host_valid (const char *text)
{
    if (!text || !*text || *text == '-' || *text == '.')
        return false;
    size_t length = 0;
    for (const char *p = text; *p; p++, length++) {
        char c = *p;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == ':'))
            return false;
        if (length >= ZC_HOST_MAX)
            return false;
    }
    return true;
}
