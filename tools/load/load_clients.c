/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    load_clients.c - zchain-load's client engine: connections, sends, replies
    =========================================================================
*/

#include "zc_load.h"
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

//  ---------------------------------------------------------------------
//  Sockets

//  Resolves "host:port" or "[v6]:port" (zc_net's forms).  Returns 0 or
//  -1 with a message on stderr.
int
load_resolve (const char *address, struct sockaddr_storage *addr, socklen_t *length_p)
{
    const char *error = NULL;
    if (zc_net_resolve (address, addr, length_p, &error) != 0) {
        fprintf (stderr, "zchain-load: cannot use '%s': %s\n", address, error);
        return -1;
    }
    return 0;
}

//  Starts a non-blocking connect; returns the socket (connect in
//  progress or done) or -1 with errno set.
static int
s_connect_start (load_target_t *target)
{
    return zc_net_dial (&target->addr, target->addr_len);
}

//  Checks a target answers TCP before anything else is done, so a wrong
//  address fails in seconds with a clear message.  0 or -1.
int
load_preflight (load_target_t *target, int timeout_ms)
{
    int fd = s_connect_start (target);
    int error = fd < 0? errno: 0;
    if (fd >= 0) {
        struct pollfd item = { fd, POLLOUT, 0 };
        int rc = poll (&item, 1, timeout_ms);
        socklen_t length = sizeof error;
        if (rc == 0)
            error = ETIMEDOUT;
        else
        if (rc < 0 || getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        close (fd);
    }
    if (error) {
        fprintf (stderr, "zchain-load: cannot connect to %s: %s\n", target->address,
                 strerror (error));
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Clients

//  Puts a client with nothing outstanding at the end of the idle queue.
void
load_idle_push (load_t *self, load_client_t *client)
{
    if (client->queued)
        return;
    size_t size = self->options->clients;
    self->idle [(self->idle_head + self->idle_count) % size] = client->index;
    self->idle_count++;
    client->queued = true;
}

//  Takes the client that has been idle longest, or NULL.
load_client_t *
load_idle_pop (load_t *self)
{
    if (self->idle_count == 0)
        return NULL;
    load_client_t *client = &self->clients [self->idle [self->idle_head]];
    self->idle_head = (self->idle_head + 1) % self->options->clients;
    self->idle_count--;
    client->queued = false;
    return client;
}

//  Closes a client's connection; it will reconnect for its next request.
void
load_client_close (load_t *self, load_client_t *client)
{
    if (client->fd >= 0) {
        epoll_ctl (self->epoll, EPOLL_CTL_DEL, client->fd, NULL);
        close (client->fd);
        client->fd = -1;
    }
    client->connecting = false;
    zc_codec_destroy (&client->codec);
}

//  Says which events the client wants: writable while connecting or with
//  a frame half written, else readable.
static void
s_client_watch (load_t *self, load_client_t *client, int op)
{
    struct epoll_event event;
    memset (&event, 0, sizeof event);
    bool writing = client->connecting || (client->request >= 0
                 && client->written < self->requests [client->request].size);
    event.events = EPOLLIN | EPOLLRDHUP | (writing? EPOLLOUT: 0);
    event.data.ptr = client;
    epoll_ctl (self->epoll, op, client->fd, &event);
}

//  Opens a client's connection (non-blocking).  0, or -1 with errno.
int
load_client_open (load_t *self, load_client_t *client, int64_t now)
{
    client->fd = s_connect_start (client->target);
    if (client->fd < 0)
        return -1;
    client->connecting = true;
    client->deadline = now + (int64_t) (self->options->connect_timeout * 1e6);
    client->codec = zc_codec_new (LOAD_REPLY_MAX);
    zc_codec_set_framing (client->codec, self->options->redis? ZC_FRAMING_LINE:
                                                               ZC_FRAMING_LENGTH);
    s_client_watch (self, client, EPOLL_CTL_ADD);
    return 0;
}

//  The client is done with its request: keep-alive keeps the link,
//  per-request closes it; the client goes back to the idle queue.
static void
s_client_free (load_t *self, load_client_t *client, bool keep_link)
{
    if (client->request >= 0) {
        client->request = -1;
        self->outstanding--;
    }
    if (!keep_link || self->options->per_request)
        load_client_close (self, client);
    else
    if (client->fd >= 0)
        s_client_watch (self, client, EPOLL_CTL_MOD);
    load_idle_push (self, client);
}

//  Fails the client's request with a reason and drops its connection
//  (a late reply would be taken for the next request's).
void
load_client_fail (load_t *self, load_client_t *client, const char *reason)
{
    if (client->request >= 0) {
        load_request_t *request = &self->requests [client->request];
        zc_report_failed (self->report, load_action_names [request->action], self->now, reason);
    }
    s_client_free (self, client, false);
}

//  Writes what is left of the request's frame.  0, or -1 after failing
//  the request.
static int
s_client_flush (load_t *self, load_client_t *client)
{
    load_request_t *request = &self->requests [client->request];
    const byte *frame = zchunk_data (self->frames) + request->offset;
    while (client->written < request->size) {
        ssize_t rc = send (client->fd, frame + client->written,
                           request->size - client->written, MSG_NOSIGNAL);
        if (rc > 0)
            client->written += (uint32_t) rc;
        else
        if (rc < 0 && errno == EINTR)
            continue;
        else
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            char reason [96];
            snprintf (reason, sizeof reason, "send: %s", strerror (errno));
            load_client_fail (self, client, reason);
            return -1;
        }
    }
    s_client_watch (self, client, EPOLL_CTL_MOD);
    return 0;
}

//  Sends request k on a client, lag after its due time: connects first if
//  the client has no connection.
void
load_client_send (load_t *self, load_client_t *client, uint64_t k, int64_t lag)
{
    load_request_t *request = &self->requests [k];
    client->request = (int64_t) k;
    client->written = 0;
    client->started = self->now;
    request->started = self->now;
    self->outstanding++;
    zc_report_sent (self->report, load_action_names [request->action], self->now, lag);
    if (client->fd < 0 && load_client_open (self, client, self->now)) {
        char reason [96];
        snprintf (reason, sizeof reason, "connect: %s", strerror (errno));
        load_client_fail (self, client, reason);
        return;
    }
    if (!client->connecting) {
        client->deadline = self->now + (int64_t) (self->options->timeout * 1e6);
        s_client_flush (self, client);
    }
}

//  A connect finished (writable): check it worked, then send.
void
load_client_connected (load_t *self, load_client_t *client)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt (client->fd, SOL_SOCKET, SO_ERROR, &error, &length) || error) {
        char reason [96];
        snprintf (reason, sizeof reason, "connect: %s", strerror (error? error: errno));
        if (client->request >= 0)
            load_client_fail (self, client, reason);
        else
            load_client_close (self, client);
        return;
    }
    client->connecting = false;
    if (client->request >= 0) {
        client->deadline = self->now + (int64_t) (self->options->timeout * 1e6);
        s_client_flush (self, client);
    }
    else
        s_client_watch (self, client, EPOLL_CTL_MOD);
}

//  Counts a transaction as settled once it is both acknowledged and
//  confirmed by every node; the drain waits for all of them.
void
load_settle (load_t *self, load_request_t *request)
{
    if (request->acked && request->confirmed_all && request->action != LOAD_HEALTH)
        self->tx_settled++;
}

//  A purchase's reply named its transaction: match it to confirmations
//  that came before the reply did.
static void
s_learn_id (load_t *self, uint64_t k, const char *tx_id)
{
    load_request_t *request = &self->requests [k];
    if (!tx_id || !zc_hash_valid (tx_id) || request->id_known)
        return;
    request->id_known = true;
    zhashx_insert (self->ids, tx_id, (void *) (uintptr_t) (k + 1));
    load_early_t *early = (load_early_t *) zhashx_lookup (self->early, tx_id);
    if (early) {
        load_confirm (self, k, early->first, early->last, early->nodes);
        zhashx_delete (self->early, tx_id);
    }
}

#define LOAD_HEALTH_REPLY "{\"service\":\"gateway_server\",\"status\":\"ok\"}"

//  One reply on a client's connection: judges it by the action, records
//  latency or the failure reason.
static void
s_client_reply (load_t *self, load_client_t *client, const char *data, size_t size)
{
    if (client->request < 0) {
        self->unexpected++;
        return;
    }
    uint64_t k = (uint64_t) client->request;
    load_request_t *request = &self->requests [k];
    const char *action = load_action_names [request->action];
    //  A gateway's health reply in its canonical form is judged by its
    //  bytes, as the redis-server reference is by "+PONG": parsing it cost
    //  this client a fifth of its time, and the client is what limits a
    //  50-client health run on two cores
    if (request->action == LOAD_HEALTH && !self->options->redis && !self->options->nodes
    &&  size == strlen (LOAD_HEALTH_REPLY) && memcmp (data, LOAD_HEALTH_REPLY, size) == 0) {
        zc_report_succeeded (self->report, action, self->now, self->now - client->started);
        s_client_free (self, client, true);
        return;
    }
    cJSON *reply = self->options->redis? NULL: zc_json_parse (data, size);
    const char *status = load_string (reply, "status");
    const char *type = load_string (reply, "type");
    bool ok;
    if (self->options->redis)
        ok = size == 5 && memcmp (data, "+PONG", 5) == 0;
    else
    if (self->options->nodes)
        ok = type && streq (type, request->action == LOAD_HEALTH? "pong": "MINING_STARTED");
    else
        ok = status && streq (status, request->action == LOAD_HEALTH? "ok":
                              request->action == LOAD_SUBMIT_TX? "broadcast": "submitted");
    if (ok) {
        zc_report_succeeded (self->report, action, self->now, self->now - client->started);
        double total = load_number (reply, "total_nodes");
        double reached = load_number (reply, "nodes_reached");
        if (total > 0 && total <= LOAD_MAX_NODES && (size_t) total > self->total_nodes)
            self->total_nodes = (size_t) total;
        if (total > 0 && reached >= 0 && reached < total)
            self->partial++;
        if (request->action == LOAD_SUBMIT_PURCHASE) {
            const cJSON *transaction = cJSON_GetObjectItemCaseSensitive (reply, "transaction");
            const char *id = load_string (transaction, "id");
            s_learn_id (self, k, id? id: load_string (reply, "tx_id"));
        }
        if (request->action != LOAD_HEALTH) {
            request->acked = true;
            self->tx_acked++;
            //  Every node may have confirmed it before the count was known
            if (!request->confirmed_all && request->nodes && self->total_nodes
            &&  (size_t) __builtin_popcountll (request->nodes) >= self->total_nodes) {
                request->confirmed_all = true;
                zc_report_confirmed (self->report, action, self->now,
                                     self->now - request->started, true);
            }
            load_settle (self, request);
        }
        cJSON_Delete (reply);
        s_client_free (self, client, true);
        return;
    }
    char reason [200];
    const char *error = load_string (reply, "error");
    const char *message = load_string (reply, "message");
    if (!reply)
        snprintf (reason, sizeof reason, "reply is not JSON");
    else
    if ((status && streq (status, "error")) || (type && streq (type, "error"))) {
        const char *why = error? error: message? message: "?";
        //  Refused at once past capacity: its own reason, not a failure of
        //  the request itself
        if (strncmp (why, "busy", 4) == 0)
            snprintf (reason, sizeof reason, "busy (refused at capacity)");
        else
            snprintf (reason, sizeof reason, "error: %.150s", why);
    }
    else
        snprintf (reason, sizeof reason, "unexpected reply (%.40s %.40s)",
                  status? status: "no status", type? type: "");
    zc_report_failed (self->report, action, self->now, reason);
    cJSON_Delete (reply);
    s_client_free (self, client, true);
}

//  Reads what a client's connection has: replies, or its end.
static void
s_client_read (load_t *self, load_client_t *client)
{
    char buffer [LOAD_READ_SIZE];
    while (client->fd >= 0) {
        ssize_t rc = recv (client->fd, buffer, sizeof buffer, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (rc <= 0) {
            char reason [96];
            snprintf (reason, sizeof reason, rc == 0? "connection closed by the target":
                      "recv: %s", strerror (errno));
            if (client->request >= 0)
                load_client_fail (self, client, reason);
            else
                load_client_close (self, client);
            return;
        }
        if (zc_codec_feed (client->codec, buffer, (size_t) rc)) {
            load_client_fail (self, client, "bad reply framing");
            return;
        }
        const char *data;
        size_t size;
        int next = 0;
        while (client->codec && (next = zc_codec_next (client->codec, &data, &size)) == 1)
            s_client_reply (self, client, data, size);
        if (client->codec && next < 0) {
            load_client_fail (self, client, "bad reply framing");
            return;
        }
    }
}

//  An event on a client's socket.
void
load_client_event (load_t *self, load_client_t *client, uint32_t events)
{
    if (client->fd < 0)
        return;
    if (client->connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            load_client_connected (self, client);
        return;
    }
    if (events & EPOLLOUT && client->request >= 0
    &&  client->written < self->requests [client->request].size)
        if (s_client_flush (self, client))
            return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        s_client_read (self, client);
}


//  Number member of a JSON object, or -1.
double
load_number (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsNumber (item)? item->valuedouble: -1;
}

//  String member of a JSON object, or NULL.
const char *
load_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

