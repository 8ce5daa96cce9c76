/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_jcs.c - RFC 8785 JSON Canonicalization Scheme over cJSON trees

    Signatures and ids are computed over text, so every node must turn the
    same JSON value into the same bytes.  This class writes a cJSON tree in
    the RFC 8785 form: object members sorted by the UTF-16 code units of
    their names, no whitespace, numbers as ECMAScript prints them, strings
    with the minimal escapes.  Anything with no canonical form (NaN,
    infinities, duplicate names, invalid UTF-8, raw cJSON text) yields NULL.
    =========================================================================
*/

#include "zchain.h"
#include <inttypes.h>
#include <inttypes.h>
#include <math.h>

//  Growable output buffer; a failed allocation sticks and ends the walk
typedef struct {
    char *data;                 //  text so far, not NUL-terminated
    size_t used;                //  bytes written
    size_t size;                //  bytes allocated
    bool failed;                //  out of memory or not canonicalizable
} s_buffer_t;

//  One object member with its name as UTF-16, for sorting
typedef struct {
    const cJSON *item;          //  the member (borrowed)
    uint16_t *units;            //  name as UTF-16 code units
    size_t count;               //  how many units
} s_member_t;

static void s_write_value (s_buffer_t *buffer, const cJSON *item);

//  Makes room for `more` bytes; marks the buffer failed if it cannot.
static bool
s_reserve (s_buffer_t *buffer, size_t more)
{
    if (buffer->failed)
        return false;
    if (more <= buffer->size - buffer->used)
        return true;
    size_t size = buffer->size? buffer->size: 256;
    while (more > size - buffer->used) {
        if (size > SIZE_MAX / 2) {
            buffer->failed = true;
            return false;
        }
        size *= 2;
    }
    char *data = (char *) realloc (buffer->data, size);
    if (!data) {
        buffer->failed = true;
        return false;
    }
    buffer->data = data;
    buffer->size = size;
    return true;
}

//  Appends bytes to the buffer.
static void
s_append (s_buffer_t *buffer, const char *data, size_t size)
{
    if (s_reserve (buffer, size)) {
        memcpy (buffer->data + buffer->used, data, size);
        buffer->used += size;
    }
}

//  Appends one character to the buffer.
static void
s_append_char (s_buffer_t *buffer, char c)
{
    s_append (buffer, &c, 1);
}

//  Decodes the UTF-8 sequence at text [*index], advancing *index; returns
//  the code point, or -1 for any invalid sequence (overlong forms,
//  surrogates, values past U+10FFFF, truncation).
static int32_t
s_utf8_next (const uint8_t *text, size_t length, size_t *index)
{
    size_t at = *index;
    uint8_t lead = text [at];
    int32_t code;
    size_t extra;
    int32_t minimum;
    if (lead < 0x80) {
        *index = at + 1;
        return lead;
    }
    else
    if ((lead & 0xE0) == 0xC0) {
        code = lead & 0x1F;
        extra = 1;
        minimum = 0x80;
    }
    else
    if ((lead & 0xF0) == 0xE0) {
        code = lead & 0x0F;
        extra = 2;
        minimum = 0x800;
    }
    else
    if ((lead & 0xF8) == 0xF0) {
        code = lead & 0x07;
        extra = 3;
        minimum = 0x10000;
    }
    else
        return -1;              //  continuation byte or 0xF8..0xFF
    if (extra >= length - at)
        return -1;
    size_t step;
    for (step = 1; step <= extra; step++) {
        uint8_t next = text [at + step];
        if ((next & 0xC0) != 0x80)
            return -1;
        code = (code << 6) | (next & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return -1;
    *index = at + 1 + extra;
    return code;
}

//  Writes a string literal with exactly the RFC 8785 escapes, checking
//  that the text is valid UTF-8 as it goes.
static void
s_write_string (s_buffer_t *buffer, const char *string)
{
    if (!string) {
        buffer->failed = true;
        return;
    }
    const uint8_t *text = (const uint8_t *) string;
    size_t length = strlen (string);
    s_append_char (buffer, '"');
    size_t index = 0;
    while (index < length && !buffer->failed) {
        size_t start = index;
        int32_t code = s_utf8_next (text, length, &index);
        if (code < 0) {
            buffer->failed = true;
            return;
        }
        switch (code) {
            case '"':  s_append (buffer, "\\\"", 2); break;
            case '\\': s_append (buffer, "\\\\", 2); break;
            case '\b': s_append (buffer, "\\b", 2); break;
            case '\f': s_append (buffer, "\\f", 2); break;
            case '\n': s_append (buffer, "\\n", 2); break;
            case '\r': s_append (buffer, "\\r", 2); break;
            case '\t': s_append (buffer, "\\t", 2); break;
            default:
                if (code < 0x20) {
                    char escape [7];
                    snprintf (escape, sizeof escape, "\\u%04x", (unsigned) code);
                    s_append (buffer, escape, 6);
                }
                else
                    s_append (buffer, string + start, index - start);
        }
    }
    s_append_char (buffer, '"');
}

//  Converts a member name to UTF-16 code units, the order RFC 8785 sorts
//  by; NULL if the name is not valid UTF-8.
static uint16_t *
s_utf16_units (const char *name, size_t *count_p)
{
    const uint8_t *text = (const uint8_t *) name;
    size_t length = strlen (name);
    //  Never more units than bytes: a 4-byte sequence gives 2 units
    uint16_t *units = (uint16_t *) malloc ((length? length: 1) * sizeof (uint16_t));
    if (!units)
        return NULL;
    size_t count = 0;
    size_t index = 0;
    while (index < length) {
        int32_t code = s_utf8_next (text, length, &index);
        if (code < 0) {
            free (units);
            return NULL;
        }
        if (code >= 0x10000) {
            code -= 0x10000;
            units [count++] = (uint16_t) (0xD800 + (code >> 10));
            units [count++] = (uint16_t) (0xDC00 + (code & 0x3FF));
        }
        else
            units [count++] = (uint16_t) code;
    }
    *count_p = count;
    return units;
}

//  qsort order of members: UTF-16 code units, shorter prefix first.
static int
s_member_compare (const void *left_p, const void *right_p)
{
    const s_member_t *left = (const s_member_t *) left_p;
    const s_member_t *right = (const s_member_t *) right_p;
    size_t common = left->count < right->count? left->count: right->count;
    size_t index;
    for (index = 0; index < common; index++)
        if (left->units [index] != right->units [index])
            return left->units [index] < right->units [index]? -1: 1;
    if (left->count == right->count)
        return 0;
    return left->count < right->count? -1: 1;
}

//  Writes an object with sorted members; a repeated name fails the walk
//  since its canonical form would be ambiguous.
static void
s_write_object (s_buffer_t *buffer, const cJSON *object)
{
    size_t count = 0;
    const cJSON *child;
    for (child = object->child; child; child = child->next)
        count++;
    if (count == 0) {
        s_append (buffer, "{}", 2);
        return;
    }
    s_member_t *members = (s_member_t *) calloc (count, sizeof (s_member_t));
    if (!members) {
        buffer->failed = true;
        return;
    }
    size_t index = 0;
    for (child = object->child; child; child = child->next, index++) {
        members [index].item = child;
        if (!child->string
        || !(members [index].units = s_utf16_units (child->string,
                                                    &members [index].count))) {
            buffer->failed = true;
            goto done;
        }
    }
    qsort (members, count, sizeof (s_member_t), s_member_compare);
    for (index = 1; index < count; index++)
        if (s_member_compare (&members [index - 1], &members [index]) == 0) {
            buffer->failed = true;
            goto done;
        }
    s_append_char (buffer, '{');
    for (index = 0; index < count && !buffer->failed; index++) {
        if (index > 0)
            s_append_char (buffer, ',');
        s_write_string (buffer, members [index].item->string);
        s_append_char (buffer, ':');
        s_write_value (buffer, members [index].item);
    }
    s_append_char (buffer, '}');
done:
    for (index = 0; index < count; index++)
        free (members [index].units);
    free (members);
}

//  Writes any value; dispatches on the cJSON type.
static void
s_write_value (s_buffer_t *buffer, const cJSON *item)
{
    if (buffer->failed)
        return;
    if (cJSON_IsNull (item))
        s_append (buffer, "null", 4);
    else
    if (cJSON_IsTrue (item))
        s_append (buffer, "true", 4);
    else
    if (cJSON_IsFalse (item))
        s_append (buffer, "false", 5);
    else
    if (cJSON_IsNumber (item)) {
        char number [32];
        int length = zc_jcs_number (item->valuedouble, number, sizeof number);
        if (length < 0)
            buffer->failed = true;
        else
            s_append (buffer, number, (size_t) length);
    }
    else
    if (cJSON_IsString (item))
        s_write_string (buffer, item->valuestring);
    else
    if (cJSON_IsArray (item)) {
        s_append_char (buffer, '[');
        const cJSON *child;
        for (child = item->child; child && !buffer->failed; child = child->next) {
            if (child != item->child)
                s_append_char (buffer, ',');
            s_write_value (buffer, child);
        }
        s_append_char (buffer, ']');
    }
    else
    if (cJSON_IsObject (item))
        s_write_object (buffer, item);
    else
        buffer->failed = true;  //  cJSON_Raw, cJSON_Invalid or NULL
}

//  The canonical text of a JSON value: what gets hashed and signed.
char *
zc_jcs_serialize (const cJSON *item)
{
    s_buffer_t buffer = { NULL, 0, 0, false };
    if (!item)
        return NULL;
    s_write_value (&buffer, item);
    s_append_char (&buffer, 0);
    if (buffer.failed) {
        free (buffer.data);
        return NULL;
    }
    return buffer.data;
}

//  Splits printf's "d.ddde+XX" into its digits and decimal exponent,
//  whatever the locale's decimal point is.
static int
s_split_digits (const char *text, char *digits, int *count_p, int *exponent_p)
{
    int count = 0;
    const char *cursor = text;
    while (*cursor && *cursor != 'e') {
        if (*cursor >= '0' && *cursor <= '9' && count < 17)
            digits [count++] = *cursor;
        cursor++;
    }
    if (*cursor != 'e' || count == 0)
        return -1;
    *count_p = count;
    *exponent_p = (int) strtol (cursor + 1, NULL, 10);
    return 0;
}

//  The double that digits (d.ddd * 10^exponent) reads back as; written
//  with no decimal point so the locale cannot matter.
static double
s_read_digits (const char *digits, int count, int exponent)
{
    char text [40];
    snprintf (text, sizeof text, "%.*se%d", count, digits, exponent - (count - 1));
    return strtod (text, NULL);
}

//  Moves digits one unit in their last place up (+1) or down (-1),
//  renormalizing when a carry or borrow changes the leading digit.
static void
s_step_digits (char *digits, int *count_p, int *exponent_p, int direction)
{
    int count = *count_p;
    int index = count - 1;
    if (direction > 0) {
        while (index >= 0 && digits [index] == '9')
            digits [index--] = '0';
        if (index >= 0)
            digits [index]++;
        else {
            //  999 + 1 = 1000: one more digit, keep the leading count
            digits [0] = '1';
            *exponent_p += 1;
        }
    }
    else {
        while (index >= 0 && digits [index] == '0')
            digits [index--] = '9';
        if (index >= 0)
            digits [index]--;
        if (digits [0] == '0' && count > 1) {
            //  1000 - 1 = 0999: drop the leading zero
            memmove (digits, digits + 1, count - 1);
            *count_p = count - 1;
            *exponent_p -= 1;
        }
    }
}

//  ECMAScript Number::toString: the shortest digits that read back as the
//  same double, laid out as integer, decimal or exponent form by the
//  position of the decimal point.  RFC 8785 requires exactly this.
int
zc_jcs_number (double value, char *buffer, size_t size)
{
    if (!buffer || !isfinite (value))
        return -1;
    char text [40];             //  longest form is 26 chars
    size_t length = 0;
    if (value == 0) {
        text [length++] = '0';  //  both zeros print as "0"
        goto finish;
    }
    if (value < 0) {
        text [length++] = '-';
        value = -value;
    }
    //  Integers below 2^53 (indexes, nonces, counts: most numbers we see)
    //  print exactly as their decimal digits, with no search
    if (value < 9007199254740992.0 && value == (double) (uint64_t) value) {
        length += (size_t) snprintf (text + length, sizeof text - length,
                                     "%" PRIu64, (uint64_t) value);
        goto finish;
    }
    //  Shortest round-trip digits: for each precision, the correctly
    //  rounded %e digits, or failing that their neighbour on the far side
    //  of value (at a power of two the round-trip interval is lopsided)
    char digits [20];
    int count = 0;
    int exponent = 0;
    bool found = false;
    int precision;
    for (precision = 1; precision <= 17 && !found; precision++) {
        char scratch [40];
        snprintf (scratch, sizeof scratch, "%.*e", precision - 1, value);
        if (s_split_digits (scratch, digits, &count, &exponent) != 0)
            return -1;
        double back = s_read_digits (digits, count, exponent);
        if (back == value)
            found = true;
        else {
            s_step_digits (digits, &count, &exponent, back < value? 1: -1);
            found = s_read_digits (digits, count, exponent) == value;
        }
    }
    if (!found)
        return -1;              //  cannot happen: 17 digits always suffice
    while (count > 1 && digits [count - 1] == '0')
        count--;
    //  As in ECMA-262: value = 0.digits * 10^point
    int point = exponent + 1;
    int index;
    if (count <= point && point <= 21) {
        memcpy (text + length, digits, count);
        length += count;
        for (index = count; index < point; index++)
            text [length++] = '0';
    }
    else
    if (0 < point && point <= 21) {
        memcpy (text + length, digits, point);
        length += point;
        text [length++] = '.';
        memcpy (text + length, digits + point, count - point);
        length += count - point;
    }
    else
    if (-6 < point && point <= 0) {
        text [length++] = '0';
        text [length++] = '.';
        for (index = point; index < 0; index++)
            text [length++] = '0';
        memcpy (text + length, digits, count);
        length += count;
    }
    else {
        text [length++] = digits [0];
        if (count > 1) {
            text [length++] = '.';
            memcpy (text + length, digits + 1, count - 1);
            length += count - 1;
        }
        length += snprintf (text + length, sizeof text - length, "e%c%d",
                            point - 1 < 0? '-': '+', abs (point - 1));
    }
finish:
    if (length + 1 > size)
        return -1;
    memcpy (buffer, text, length);
    buffer [length] = 0;
    return (int) length;
}
