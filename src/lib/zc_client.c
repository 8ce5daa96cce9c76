/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_client.c - a blocking request/reply client for tools and tests

    zchain-cli and the integration tests talk to a node the way any
    outside client does: a plain TCP connection carrying framed JSON.  So
    this class uses POSIX sockets directly, not ZeroMQ, with poll() for
    timeouts, and decodes replies with the same zc_codec the node uses.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <poll.h>
#include <errno.h>
#include <unistd.h>

//  Bytes read from the socket at a time
#define S_READ_SIZE     (64 * 1024)
//  Longest "host:port" we accept
#define S_MAX_ADDRESS   256
//  A send that makes no progress this long means the server is stuck
#define S_SEND_TIMEOUT  30
//  A dial not answered this long fails (seconds)
#define S_CONNECT_TIMEOUT 10

struct _zc_client_t {
    int fd;                     //  connected TCP socket, or -1
    zc_framing_t framing;       //  framing of requests and replies
    zc_codec_t *codec;          //  reassembles replies
    bool closed;                //  server closed or reset the connection
};

//  Connects to a node.  ZC_FRAMING_UNKNOWN means the default, lines.
zc_client_t *
zc_client_new (const char *address, zc_framing_t framing, const char **error_p)
{
    const char *error_dummy;
    if (!error_p)
        error_p = &error_dummy;
    *error_p = NULL;
    if (!address || strlen (address) >= S_MAX_ADDRESS) {
        *error_p = "bad address";
        return NULL;
    }
    if (framing != ZC_FRAMING_LENGTH)
        framing = ZC_FRAMING_LINE;

    int fd = zc_net_connect (address, S_CONNECT_TIMEOUT * 1000, error_p);
    if (fd == -1)
        return NULL;
    //  A server that stops reading must not hang a tool forever
    struct timeval timeout = { S_SEND_TIMEOUT, 0 };
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);

    zc_client_t *self = (zc_client_t *) zmalloc (sizeof (zc_client_t));
    self->fd = fd;
    self->framing = framing;
    self->codec = zc_codec_new (ZC_MAX_MESSAGE);
    zc_codec_set_framing (self->codec, framing);
    return self;
}

//  Closes the connection and frees the client; safe twice.
void
zc_client_destroy (zc_client_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zc_client_t *self = *self_p;
        if (self->fd != -1)
            close (self->fd);
        zc_codec_destroy (&self->codec);
        free (self);
        *self_p = NULL;
    }
}

//  Writes all bytes; tests use it to send malformed or partial input.
int
zc_client_send_raw (zc_client_t *self, const void *data, size_t size)
{
    assert (self);
    assert (data || size == 0);
    const char *cursor = (const char *) data;
    while (size > 0) {
        ssize_t sent = send (self->fd, cursor, size, MSG_NOSIGNAL);
        if (sent == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                self->closed = true;
            return -1;
        }
        cursor += sent;
        size -= (size_t) sent;
    }
    return 0;
}

//  Sends the canonical text of request in the client's framing.
int
zc_client_send (zc_client_t *self, const cJSON *request)
{
    assert (self);
    char *text = request? zc_jcs_serialize (request): NULL;
    if (!text)
        return -1;
    size_t size = strlen (text);
    zchunk_t *chunk = zchunk_new (NULL, size + 2);
    int rc = zc_codec_encode (self->framing, text, size, chunk);
    if (rc == 0)
        rc = zc_client_send_raw (self, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    free (text);
    return rc;
}

//  Milliseconds left until deadline (in usecs), or -1 for no deadline.
static int
s_remaining_ms (int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = (deadline - zc_clock_usecs () + 999) / 1000;
    return left > 0? (int) (left < INT32_MAX? left: INT32_MAX): 0;
}

//  Waits for bytes until deadline and reads them into buffer.  Returns the
//  count, 0 on timeout, or -1 once the server has closed or reset.
static ssize_t
s_read (zc_client_t *self, char *buffer, size_t size, int64_t deadline)
{
    if (self->closed)
        return -1;
    while (true) {
        struct pollfd item = { self->fd, POLLIN, 0 };
        int rc = poll (&item, 1, s_remaining_ms (deadline));
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc == -1)
            break;
        if (rc == 0)
            return 0;
        ssize_t count = recv (self->fd, buffer, size, 0);
        if (count > 0)
            return count;
        if (count == -1 && (errno == EINTR || errno == EAGAIN))
            continue;
        break;                  //  0 is an orderly close, else a reset
    }
    self->closed = true;
    return -1;
}

//  Reads until one whole reply is decoded or the time runs out.
cJSON *
zc_client_recv (zc_client_t *self, int timeout_ms)
{
    assert (self);
    int64_t deadline = timeout_ms < 0
                     ? -1: zc_clock_usecs () + (int64_t) timeout_ms * 1000;
    char *buffer = NULL;
    cJSON *reply = NULL;
    while (true) {
        const char *data;
        size_t size;
        int rc = zc_codec_next (self->codec, &data, &size);
        if (rc == 1) {
            reply = zc_json_parse (data, size);
            break;
        }
        if (rc == -1)
            break;
        if (!buffer)
            buffer = (char *) malloc (S_READ_SIZE);
        if (!buffer)
            break;
        ssize_t count = s_read (self, buffer, S_READ_SIZE, deadline);
        if (count <= 0)
            break;
        if (zc_codec_feed (self->codec, buffer, (size_t) count))
            break;
    }
    free (buffer);
    return reply;
}

//  One request, one reply: what zchain-cli needs.
cJSON *
zc_client_request (zc_client_t *self, const cJSON *request, int timeout_ms)
{
    assert (self);
    if (zc_client_send (self, request))
        return NULL;
    return zc_client_recv (self, timeout_ms);
}

//  Lets tests check that a server hangs up on bad input: reads and
//  discards until the close arrives or the time runs out.
bool
zc_client_closed (zc_client_t *self, int timeout_ms)
{
    assert (self);
    int64_t deadline = timeout_ms < 0
                     ? -1: zc_clock_usecs () + (int64_t) timeout_ms * 1000;
    char buffer [4096];
    while (!self->closed) {
        if (s_read (self, buffer, sizeof buffer, deadline) == 0)
            break;              //  timed out, still open
        if (deadline >= 0 && zc_clock_usecs () >= deadline)
            break;              //  still sending, still open
    }
    return self->closed;
}
