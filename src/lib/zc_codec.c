/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_codec.c - per-connection decoder and encoder for the two framings

    Every listening port accepts two framings, told apart by a connection's
    first byte: '{' starts newline-terminated JSON lines, anything else a
    2-byte big-endian length followed by that many bytes.  The decoder is
    fed arbitrary TCP chunks and hands out whole messages.  The bytes come
    from untrusted peers, so every length is checked before it is trusted
    and the unfinished message a decoder holds never exceeds the cap: what
    it buffers is at most max_message plus a few framing bytes, plus the
    complete messages of the last chunk that the caller has not taken yet.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>

//  First allocation, and the size an idle decoder shrinks back to
#define S_INITIAL_SIZE  4096
//  Above this, a decoder whose buffer empties gives the memory back
#define S_SHRINK_SIZE   (64 * 1024)
//  Framing bytes a message may carry beyond its body ("\r\n" or 2-byte
//  length prefix)
#define S_FRAMING_BYTES 2

struct _zc_codec_t {
    char *buffer;               //  received bytes, NULL until the first
    size_t capacity;            //  bytes allocated for buffer
    size_t start;               //  first byte not yet handed out
    size_t end;                 //  one past the last byte received
    size_t scan;                //  LINE: bytes before this hold no '\n'
    size_t tail;                //  LINE: start of the unterminated line
    size_t walk;                //  LENGTH: next frame header to check
    size_t max_message;         //  cap on one message's body
    size_t max_frame;           //  LENGTH: min (max_message, 65535)
    zc_framing_t framing;       //  detected or forced framing
    const char *error;          //  reason for the last -1, or NULL
};

//  Creates a decoder for one connection.  A max_message of 0 means the
//  protocol default, so callers cannot build a decoder that takes nothing.
zc_codec_t *
zc_codec_new (size_t max_message)
{
    zc_codec_t *self = (zc_codec_t *) zmalloc (sizeof (zc_codec_t));
    self->max_message = max_message? max_message: ZC_MAX_MESSAGE;
    self->max_frame = self->max_message < ZC_MAX_LENGTH_FRAME
                    ? self->max_message: ZC_MAX_LENGTH_FRAME;
    self->framing = ZC_FRAMING_UNKNOWN;
    return self;
}

//  Frees the decoder and nulls the caller's pointer; safe twice.
void
zc_codec_destroy (zc_codec_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zc_codec_t *self = *self_p;
        free (self->buffer);
        free (self);
        *self_p = NULL;
    }
}

//  Records a protocol error and drops what is buffered: the connection is
//  going to be closed, so its bytes are of no more use.  Returns -1.
static int
s_fail (zc_codec_t *self, const char *reason)
{
    self->error = reason;
    free (self->buffer);
    self->buffer = NULL;
    self->capacity = 0;
    self->start = self->end = 0;
    self->scan = self->tail = self->walk = 0;
    return -1;
}

//  Moves unconsumed bytes to the front of the buffer, so that taking many
//  messages never makes the buffer creep forwards.  Each byte moves at
//  most once per message taken before it, which keeps feeding linear.
static void
s_compact (zc_codec_t *self)
{
    if (self->start == 0)
        return;
    size_t shift = self->start;
    size_t held = self->end - self->start;
    if (held)
        memmove (self->buffer, self->buffer + shift, held);
    self->start = 0;
    self->end = held;
    self->scan = self->scan > shift? self->scan - shift: 0;
    self->tail = self->tail > shift? self->tail - shift: 0;
    self->walk = self->walk > shift? self->walk - shift: 0;

    //  An idle connection that once carried a big message gives it back
    if (held == 0 && self->capacity > S_SHRINK_SIZE) {
        free (self->buffer);
        self->buffer = NULL;
        self->capacity = 0;
    }
}

//  Makes room for size more bytes.  Grows by doubling for linear cost,
//  but does not round past the cap when the need fits under it.
static int
s_reserve (zc_codec_t *self, size_t size)
{
    if (size > SIZE_MAX - self->end)
        return -1;
    size_t needed = self->end + size;
    if (needed <= self->capacity)
        return 0;
    size_t limit = self->max_message + S_FRAMING_BYTES + 1;
    size_t capacity = self->capacity? self->capacity: S_INITIAL_SIZE;
    while (capacity < needed && capacity <= SIZE_MAX / 2)
        capacity *= 2;
    if (capacity < needed)
        capacity = needed;
    if (capacity > limit && needed <= limit)
        capacity = limit;
    char *buffer = (char *) realloc (self->buffer, capacity);
    if (!buffer)
        return -1;
    self->buffer = buffer;
    self->capacity = capacity;
    return 0;
}

//  Checks a declared frame length; the reasons are what peers are told.
static int
s_check_length (zc_codec_t *self, size_t length)
{
    if (length == 0)
        return s_fail (self, "empty frame");
    if (length > self->max_frame)
        return s_fail (self, "message too large");
    return 0;
}

//  Last '\n' in [data, data + size), or NULL; memrchr is a GNU extension.
static const char *
s_last_newline (const char *data, size_t size)
{
    while (size > 0) {
        size--;
        if (data [size] == '\n')
            return data + size;
    }
    return NULL;
}

//  LINE: after new bytes at [from, end), finds where the unterminated line
//  starts and fails if it already cannot fit the cap.  A line may run one
//  byte over if that byte is the '\r' of a CRLF ending.
static int
s_check_line_tail (zc_codec_t *self, size_t from)
{
    const char *newline = s_last_newline (self->buffer + from, self->end - from);
    if (newline)
        self->tail = (size_t) (newline - self->buffer) + 1;
    if (self->tail < self->start)
        self->tail = self->start;
    size_t length = self->end - self->tail;
    if (length > self->max_message + 1
    || (length == self->max_message + 1
        && self->buffer [self->end - 1] != '\r'))
        return s_fail (self, "message too large");
    return 0;
}

//  LENGTH: checks every frame header now complete, so that a bad header
//  fails at once and an unfinished frame never exceeds the cap.
static int
s_check_frames (zc_codec_t *self)
{
    if (self->walk < self->start)
        self->walk = self->start;
    while (self->walk + 2 <= self->end) {
        const uint8_t *header = (const uint8_t *) self->buffer + self->walk;
        size_t length = ((size_t) header [0] << 8) | header [1];
        if (s_check_length (self, length))
            return -1;
        self->walk += 2 + length;
    }
    return 0;
}

//  Buffers a received chunk.  Fails as soon as the bytes cannot form
//  messages within the cap, so a hostile peer cannot make us hold more.
int
zc_codec_feed (zc_codec_t *self, const void *data, size_t size)
{
    assert (self);
    if (self->error)
        return -1;
    if (size == 0)
        return 0;
    assert (data);
    if (self->framing == ZC_FRAMING_UNKNOWN)
        self->framing = ((const char *) data) [0] == '{'
                      ? ZC_FRAMING_LINE: ZC_FRAMING_LENGTH;

    s_compact (self);
    if (s_reserve (self, size))
        return s_fail (self, "out of memory");
    size_t from = self->end;
    memcpy (self->buffer + self->end, data, size);
    self->end += size;

    if (self->framing == ZC_FRAMING_LINE)
        return s_check_line_tail (self, from);
    else
        return s_check_frames (self);
}

//  LINE: takes the next non-empty line, resuming the search for '\n'
//  where the last one stopped so long lines fed slowly stay linear.
static int
s_next_line (zc_codec_t *self, const char **data_p, size_t *size_p)
{
    while (true) {
        if (self->scan < self->start)
            self->scan = self->start;
        const char *newline = (const char *) memchr (self->buffer + self->scan,
                                                     '\n', self->end - self->scan);
        if (!newline) {
            self->scan = self->end;
            return 0;
        }
        size_t line_start = self->start;
        size_t line_end = (size_t) (newline - self->buffer);
        self->start = self->scan = line_end + 1;
        if (line_end > line_start && self->buffer [line_end - 1] == '\r')
            line_end--;
        size_t length = line_end - line_start;
        if (length == 0)
            continue;           //  blank lines are allowed between messages
        if (length > self->max_message)
            return s_fail (self, "message too large");
        *data_p = self->buffer + line_start;
        *size_p = length;
        return 1;
    }
}

//  LENGTH: takes the next frame if all of it has arrived.  Headers were
//  checked as they arrived; checking again keeps this safe on its own.
static int
s_next_frame (zc_codec_t *self, const char **data_p, size_t *size_p)
{
    if (self->end - self->start < 2)
        return 0;
    const uint8_t *header = (const uint8_t *) self->buffer + self->start;
    size_t length = ((size_t) header [0] << 8) | header [1];
    if (s_check_length (self, length))
        return -1;
    if (self->end - self->start - 2 < length)
        return 0;
    *data_p = self->buffer + self->start + 2;
    *size_p = length;
    self->start += 2 + length;
    return 1;
}

//  Hands out the next whole message in place, without copying.
int
zc_codec_next (zc_codec_t *self, const char **data_p, size_t *size_p)
{
    assert (self);
    assert (data_p);
    assert (size_p);
    if (self->error)
        return -1;
    if (self->start == self->end)
        return 0;
    if (self->framing == ZC_FRAMING_LINE)
        return s_next_line (self, data_p, size_p);
    else
        return s_next_frame (self, data_p, size_p);
}

//  Bytes held but not handed out: at end of stream, a truncated message.
size_t
zc_codec_pending (zc_codec_t *self)
{
    assert (self);
    return self->end - self->start;
}

//  Framing detected so far, so a server can answer in the same framing.
zc_framing_t
zc_codec_framing (zc_codec_t *self)
{
    assert (self);
    return self->framing;
}

//  Forces a framing for connections we open, where we speak first.
void
zc_codec_set_framing (zc_codec_t *self, zc_framing_t framing)
{
    assert (self);
    if (framing != ZC_FRAMING_LINE && framing != ZC_FRAMING_LENGTH)
        framing = ZC_FRAMING_UNKNOWN;
    self->framing = framing;
    self->scan = self->tail = self->walk = self->start;
}

//  Why the last call failed, for logs and error replies.
const char *
zc_codec_error (zc_codec_t *self)
{
    assert (self);
    return self->error;
}

//  Frames one message for sending.  Refuses what the peer's decoder would
//  reject: an empty body, a '\n' inside a line, a frame over 65535 bytes.
int
zc_codec_encode (zc_framing_t framing, const char *data, size_t size,
                 zchunk_t *out)
{
    assert (out);
    if (size == 0 || !data)
        return -1;
    if (framing == ZC_FRAMING_LINE) {
        //  The decoder drops a '\r' before the '\n': a body ending in one
        //  would arrive changed, so it cannot be sent as a line
        if (memchr (data, '\n', size) || data [size - 1] == '\r')
            return -1;
        zchunk_extend (out, data, size);
        zchunk_extend (out, "\n", 1);
        return 0;
    }
    else
    if (framing == ZC_FRAMING_LENGTH) {
        if (size > ZC_MAX_LENGTH_FRAME)
            return -1;
        uint8_t header [2] = { (uint8_t) (size >> 8), (uint8_t) (size & 0xFF) };
        zchunk_extend (out, header, 2);
        zchunk_extend (out, data, size);
        return 0;
    }
    return -1;
}
