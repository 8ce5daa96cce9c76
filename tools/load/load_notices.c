/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    load_notices.c - zchain-load as the marketplace server: block notices
    =========================================================================
*/

#include "zc_load.h"
#include <sys/epoll.h>

//  Opens the --notify-listen socket.  Returns it or -1 with a message.
int
load_listen (const char *address)
{
    char host [256];
    int port;
    errno = 0;
    int fd = zc_net_split (address, host, sizeof host, &port) == 0?
             zc_net_listen (host, port, 4096): -1;
    if (fd < 0)
        fprintf (stderr, "zchain-load: cannot listen on %s: %s\n", address,
                 errno? strerror (errno): "not HOST:PORT or [IPv6]:PORT");
    return fd;
}

//  ---------------------------------------------------------------------
//  Confirmations

//  The bit of a node id, learnt on first sight; -1 past LOAD_MAX_NODES.
static int
s_node_bit (load_t *self, const char *node_id)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (streq (self->node_ids [i], node_id))
            return (int) i;
    if (self->node_count == LOAD_MAX_NODES)
        return -1;
    snprintf (self->node_ids [self->node_count], sizeof self->node_ids [0], "%s", node_id);
    return (int) self->node_count++;
}

//  Nodes confirmed request k (first and last: when, in usecs): records
//  the latency to the first node, and to every node once all have.
void
load_confirm (load_t *self, uint64_t k, int64_t first, int64_t last, uint64_t nodes)
{
    load_request_t *request = &self->requests [k];
    if (request->started < 0 || (nodes & ~request->nodes) == 0)
        return;
    const char *action = load_action_names [request->action];
    if (request->nodes == 0)
        zc_report_confirmed (self->report, action, first, first - request->started, false);
    request->nodes |= nodes;
    if (!request->confirmed_all && self->total_nodes
    &&  (size_t) __builtin_popcountll (request->nodes) >= self->total_nodes) {
        request->confirmed_all = true;
        zc_report_confirmed (self->report, action, last, last - request->started, true);
        load_settle (self, request);
    }
}

//  One notice line from the gateway.
static void
s_notice (load_t *self, const char *data, size_t size)
{
    cJSON *notice = zc_json_parse (data, size);
    const char *type = load_string (notice, "type");
    const char *node_id = load_string (notice, "node_id");
    const cJSON *tx_ids = cJSON_GetObjectItemCaseSensitive (notice, "tx_ids");
    if (type && streq (type, "block_rollback"))
        self->rollbacks++;
    else
    if (!type || !streq (type, "block_confirmation") || !node_id || !cJSON_IsArray (tx_ids))
        self->bad_notices++;
    else {
        self->notices++;
        int bit = s_node_bit (self, node_id);
        uint64_t mask = bit >= 0? (uint64_t) 1 << bit: 0;
        const cJSON *item;
        cJSON_ArrayForEach (item, tx_ids) {
            if (!mask || !cJSON_IsString (item) || !zc_hash_valid (item->valuestring))
                continue;
            uintptr_t found = (uintptr_t) zhashx_lookup (self->ids, item->valuestring);
            if (found) {
                load_confirm (self, found - 1, self->now, self->now, mask);
                continue;
            }
            //  Maybe a purchase whose reply has not come yet
            load_early_t *early = (load_early_t *) zhashx_lookup (self->early, item->valuestring);
            if (!early && zhashx_size (self->early) < LOAD_MAX_EARLY
            &&  self->options->weights [LOAD_SUBMIT_PURCHASE] > 0) {
                early = (load_early_t *) zmalloc (sizeof (load_early_t));
                early->first = self->now;
                zhashx_insert (self->early, item->valuestring, early);
            }
            else
            if (!early)
                self->early_dropped++;
            if (early) {
                early->nodes |= mask;
                early->last = self->now;
            }
        }
    }
    cJSON_Delete (notice);
}

//  Closes a notice connection.
void
load_notify_close (load_t *self, load_notify_t *notify)
{
    epoll_ctl (self->epoll, EPOLL_CTL_DEL, notify->fd, NULL);
    close (notify->fd);
    zc_codec_destroy (&notify->codec);
    zlistx_delete (self->notifies, notify->handle);
    free (notify);
}

//  Accepts every pending notice connection.
void
load_notify_accept (load_t *self)
{
    while (true) {
        char peer [ZC_NET_ADDRESS_MAX];
        int fd = zc_net_accept (self->listener, peer, sizeof peer);
        if (fd < 0)
            return;
        if (zlistx_size (self->notifies) >= LOAD_MAX_NOTIFY) {
            close (fd);
            continue;
        }
        load_notify_t *notify = (load_notify_t *) zmalloc (sizeof (load_notify_t));
        notify->kind = LOAD_KIND_NOTIFY;
        notify->fd = fd;
        notify->codec = zc_codec_new (ZC_MAX_MESSAGE);
        notify->last = self->now;
        notify->handle = zlistx_add_end (self->notifies, notify);
        struct epoll_event event;
        memset (&event, 0, sizeof event);
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.ptr = notify;
        epoll_ctl (self->epoll, EPOLL_CTL_ADD, fd, &event);
    }
}

//  Reads notice lines until the gateway closes the connection.
void
load_notify_read (load_t *self, load_notify_t *notify)
{
    char buffer [LOAD_READ_SIZE];
    while (true) {
        ssize_t rc = recv (notify->fd, buffer, sizeof buffer, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (rc <= 0) {
            load_notify_close (self, notify);      //  end of the notice, or a reset
            return;
        }
        if (zc_codec_feed (notify->codec, buffer, (size_t) rc)) {
            self->bad_notices++;
            load_notify_close (self, notify);
            return;
        }
        notify->last = self->now;
        const char *data;
        size_t size;
        int next = 0;
        while ((next = zc_codec_next (notify->codec, &data, &size)) == 1)
            s_notice (self, data, size);
        if (next < 0) {
            self->bad_notices++;
            load_notify_close (self, notify);
            return;
        }
    }
}

