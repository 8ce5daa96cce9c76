/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    load_run.c - zchain-load's schedule and event loop
    =========================================================================
*/

#include "zc_load.h"
#include <sys/epoll.h>
#include <sys/resource.h>

volatile sig_atomic_t load_interrupted = 0;

//  SIGINT/SIGTERM: the first ends sending (the report is still written),
//  the second ends the drain too.
void
load_signal (int signum)
{
    load_interrupted++;
}


//  Raises the open-file limit to what the clients need.  0 or -1 with a
//  message.
int
load_raise_fd_limit (size_t needed)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit))
        return 0;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        //  Up to the hard limit, or past it where we may (root)
        struct rlimit wanted = limit;
        wanted.rlim_cur = needed;
        if (wanted.rlim_max != RLIM_INFINITY && wanted.rlim_max < needed)
            wanted.rlim_max = needed;
        if (setrlimit (RLIMIT_NOFILE, &wanted)) {
            wanted = limit;
            wanted.rlim_cur = limit.rlim_max;
            setrlimit (RLIMIT_NOFILE, &wanted);
        }
        getrlimit (RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        fprintf (stderr, "zchain-load: %zu file descriptors are needed, the limit is %llu "
                 "(raise it with ulimit -n, or use fewer --clients)\n",
                 needed, (unsigned long long) limit.rlim_cur);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Preparing requests

//  Picks the action of the next request: smooth weighted round robin, so
//  the mix is exact over any window and the same in every run.
static load_action_t
s_next_action (load_t *self)
{
    int64_t total = 0;
    size_t best = 0;
    for (size_t action = 0; action < LOAD_ACTIONS; action++) {
        self->mix_credit [action] += self->options->weights [action];
        total += self->options->weights [action];
    }
    for (size_t action = 1; action < LOAD_ACTIONS; action++)
        if (self->mix_credit [action] > self->mix_credit [best])
            best = action;
    self->mix_credit [best] -= total;
    return (load_action_t) best;
}

//  The JSON of request k for action; signs a transaction (whose id goes
//  into the id map).  Caller deletes.
static cJSON *
s_request_json (load_t *self, uint64_t k, load_action_t action)
{
    cJSON *json = cJSON_CreateObject ();
    if (action == LOAD_HEALTH) {
        if (self->options->nodes)
            cJSON_AddStringToObject (json, "type", "ping");
        else
            cJSON_AddStringToObject (json, "action", "health");
    }
    else
    if (action == LOAD_SUBMIT_TX) {
        cJSON *data = cJSON_CreateObject ();
        cJSON_AddStringToObject (data, "load", self->run_id);
        cJSON_AddNumberToObject (data, "seq", (double) k);
        cJSON_AddStringToObject (data, "item", "zchain-load");
        zc_tx_t *tx = zc_tx_new_signed (self->keys [k % self->options->keys], data);
        cJSON_Delete (data);
        if (!tx) {
            cJSON_Delete (json);
            return NULL;
        }
        zhashx_insert (self->ids, zc_tx_id (tx), (void *) (uintptr_t) (k + 1));
        self->requests [k].id_known = true;
        cJSON *body = zc_tx_to_json (tx);
        zc_tx_destroy (&tx);
        if (self->options->nodes) {
            cJSON_Delete (json);
            json = body;
            cJSON_AddStringToObject (json, "type", "NEW_TRANSACTION");
        }
        else {
            cJSON_AddStringToObject (json, "action", "submit_transaction");
            cJSON_AddItemToObject (json, "body", body);
        }
    }
    else {
        char text [96];
        cJSON *body = cJSON_CreateObject ();
        snprintf (text, sizeof text, "load-%s-%" PRIu64, self->run_id, k);
        cJSON_AddStringToObject (body, "tx_id", text);
        snprintf (text, sizeof text, "buyer-%" PRIu64, k % 1000);
        cJSON_AddStringToObject (body, "buyer", text);
        snprintf (text, sizeof text, "seller-%" PRIu64, k % 97);
        cJSON_AddStringToObject (body, "seller", text);
        snprintf (text, sizeof text, "asset-%" PRIu64, k);
        cJSON_AddStringToObject (body, "asset_id", text);
        snprintf (text, sizeof text, "Load test asset %" PRIu64, k);
        cJSON_AddStringToObject (body, "asset_name", text);
        cJSON_AddNumberToObject (body, "price", 1 + (double) (k % 1000) / 100);
        cJSON_AddStringToObject (body, "timestamp", self->now_text);
        cJSON_AddStringToObject (json, "action", "submit_purchase");
        cJSON_AddItemToObject (json, "body", body);
    }
    return json;
}

//  Prepares requests up to (not including) index `until`: picks each
//  one's action, builds and frames it.  0 or -1 (out of memory, or a
//  transaction that cannot be signed).
static int
s_prepare (load_t *self, uint64_t until)
{
    if (until > self->request_alloc) {
        uint64_t alloc = self->request_alloc? self->request_alloc: 1024;
        while (alloc < until)
            alloc *= 2;
        load_request_t *requests = (load_request_t *) realloc (self->requests,
                                                         alloc * sizeof (load_request_t));
        if (!requests)
            return -1;
        self->requests = requests;
        self->request_alloc = alloc;
    }
    while (self->request_count < until) {
        uint64_t k = self->request_count;
        load_request_t *request = &self->requests [k];
        memset (request, 0, sizeof *request);
        request->started = -1;
        request->action = (uint8_t) s_next_action (self);
        request->offset = zchunk_size (self->frames);
        int rc = 0;
        if (self->options->redis) {
            //  The same client code, speaking RESP: *1 $4 PING
            request->action = LOAD_HEALTH;
            zchunk_extend (self->frames, "*1\r\n$4\r\nPING\r\n", 14);
        }
        else
        if (request->action == LOAD_HEALTH) {
            //  The same bytes every time, framed once: as cheap to make as
            //  the PING above, so the two references cost this client alike
            static const char *ping = "{\"type\":\"ping\"}";
            static const char *health = "{\"action\":\"health\"}";
            const char *text = self->options->nodes? ping: health;
            rc = zc_codec_encode (ZC_FRAMING_LENGTH, text, strlen (text), self->frames);
        }
        else {
            cJSON *json = s_request_json (self, k, (load_action_t) request->action);
            char *text = json? zc_jcs_serialize (json): NULL;
            cJSON_Delete (json);
            rc = text? zc_codec_encode (ZC_FRAMING_LENGTH, text, strlen (text), self->frames): -1;
            free (text);
        }
        if (rc)
            return -1;
        request->size = (uint32_t) (zchunk_size (self->frames) - request->offset);
        self->request_count++;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  The run

//  Clock usecs since t0.
static int64_t
s_now (load_t *self)
{
    return zc_clock_usecs () - self->t0;
}

//  Makes the requests the run will send before the clock starts.  0 or -1.
int
load_prepare_all (load_t *self)
{
    load_options_t *options = self->options;
    int64_t duration = (int64_t) (options->duration * 1e6);
    int64_t ramp = (int64_t) (options->ramp * 1e6);
    if (options->count)
        self->planned = options->count;
    else
    if (options->rate > 0)
        self->planned = zc_report_due (options->rate, ramp, duration - 1);
    //  Everything planned, or for a closed loop with a duration (nothing
    //  planned) a default batch; --prepare lowers the first, sets the second
    uint64_t prepare = self->planned? self->planned: LOAD_CLOSED_PREPARE;
    if (options->prepare && (!self->planned || options->prepare < prepare))
        prepare = options->prepare;
    self->keys = (zc_keys_t **) zmalloc (options->keys * sizeof (zc_keys_t *));
    for (size_t i = 0; i < options->keys; i++)
        if (!(self->keys [i] = zc_keys_new ()))
            return -1;
    int64_t start = zc_clock_usecs ();
    if (s_prepare (self, prepare))
        return -1;
    double seconds = (double) (zc_clock_usecs () - start) / 1e6;
    zc_report_set_number (self->report, "prepared", (double) prepare);
    zc_report_set_number (self->report, "prepare_s", (double) (int64_t) (seconds * 1000 + 0.5) / 1000);
    return 0;
}

//  Connects every keep-alive client before the clock starts, waiting up
//  to the connect timeout.  Returns how many connected.
size_t
load_connect_all (load_t *self)
{
    size_t clients = self->options->clients;
    int64_t start = s_now (self);
    int64_t deadline = start + (int64_t) (self->options->connect_timeout * 1e6);
    size_t connecting = 0;
    char reason [128] = "";
    for (size_t i = 0; i < clients; i++) {
        load_client_t *client = &self->clients [i];
        if (load_client_open (self, client, start) == 0)
            connecting++;
        else
        if (!*reason)
            snprintf (reason, sizeof reason, "%s", strerror (errno));
    }
    struct epoll_event events [LOAD_MAX_EVENTS];
    while (connecting > 0 && !load_interrupted) {
        int64_t now = s_now (self);
        if (now >= deadline)
            break;
        int count = epoll_wait (self->epoll, events, LOAD_MAX_EVENTS,
                                (int) ((deadline - now + 999) / 1000));
        for (int i = 0; i < count; i++) {
            load_client_t *client = (load_client_t *) events [i].data.ptr;
            if (client->kind != LOAD_KIND_CLIENT || !client->connecting)
                continue;
            connecting--;
            int error = 0;
            socklen_t length = sizeof error;
            if (getsockopt (client->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
                error = errno;
            load_client_connected (self, client);
            if (client->fd < 0 && !*reason)
                snprintf (reason, sizeof reason, "connect: %s",
                          strerror (error? error: ECONNREFUSED));
        }
    }
    size_t connected = 0;
    for (size_t i = 0; i < clients; i++) {
        load_client_t *client = &self->clients [i];
        if (client->connecting) {
            load_client_close (self, client);
            if (!*reason)
                snprintf (reason, sizeof reason, "connect timed out");
        }
        if (client->fd >= 0)
            connected++;
    }
    if (connected < clients && connected > 0)
        zc_report_note (self->report, "%zu of %zu clients could not connect before the "
                        "clock started (%s); they retried on their first request",
                        clients - connected, clients, reason);
    if (connected == 0)
        fprintf (stderr, "zchain-load: no client could connect (%s)\n", reason);
    return connected;
}

//  Makes one more request available in a closed loop with a duration
//  once the prepared ones are used, noting that signing now ran inside
//  the clock.  False if none can be made.
static bool
s_request_available (load_t *self)
{
    if (self->next < self->request_count)
        return true;
    if (self->planned)
        return false;
    uint64_t before = self->request_count;
    if (s_prepare (self, self->request_count + LOAD_PREPARE_BATCH))
        return false;
    self->signed_late += self->request_count - before;
    //  s_prepare may move the requests: clients hold indexes, not pointers
    return self->next < self->request_count;
}

//  Sends what is due now: by the schedule (open loop) or to every idle
//  client (closed loop), and moves to draining when sending is over.
static void
s_send_due (load_t *self)
{
    load_options_t *options = self->options;
    int64_t ramp = (int64_t) (options->ramp * 1e6);
    int64_t duration = (int64_t) (options->duration * 1e6);
    if (options->rate > 0) {
        uint64_t due = zc_report_due (options->rate, ramp, self->now);
        if (self->planned && due > self->planned)
            due = self->planned;
        while (self->next < due) {
            uint64_t k = self->next++;
            int64_t lag = self->now - zc_report_schedule (options->rate, ramp, k);
            load_client_t *client = load_idle_pop (self);
            if (client)
                load_client_send (self, client, k, lag);
            else {
                char reason [96];
                snprintf (reason, sizeof reason, "all %zu clients busy (a reply outstanding "
                          "on each)", options->clients);
                zc_report_skipped (self->report, load_action_names [self->requests [k].action],
                                   self->now, reason);
            }
        }
    }
    else {
        //  Closed loop: release clients evenly over the ramp
        size_t allowed = options->clients;
        if (ramp > 0 && self->now < ramp)
            allowed = (size_t) ((double) options->clients * (double) self->now / (double) ramp) + 1;
        while (self->released < allowed && self->released < options->clients)
            load_idle_push (self, &self->clients [self->released++]);
        //  Each client sends at most once a pass, so one whose connect fails
        //  at once waits for the next pass instead of spinning
        bool in_time = duration == 0 || self->now < duration;
        size_t pass = self->idle_count;
        while (in_time && pass-- > 0 && s_request_available (self)) {
            load_client_t *client = load_idle_pop (self);
            load_client_send (self, client, self->next++, 0);
        }
    }
    bool over = self->planned? self->next >= self->planned: self->now >= duration;
    if (over || load_interrupted) {
        self->phase = LOAD_DRAINING;
        self->drain_deadline = self->now + (int64_t) (self->options->grace * 1e6);
    }
}

//  Fails requests whose connect or reply is overdue; closes notice
//  connections left idle.
static void
s_check_deadlines (load_t *self)
{
    for (size_t i = 0; i < self->options->clients; i++) {
        load_client_t *client = &self->clients [i];
        if (client->request >= 0 && self->now >= client->deadline)
            load_client_fail (self, client, client->connecting? "connect timed out":
                                                              "reply timed out");
        else
        if (client->request < 0 && client->connecting && self->now >= client->deadline)
            load_client_close (self, client);
    }
    load_notify_t *notify = (load_notify_t *) zlistx_first (self->notifies);
    while (notify) {
        load_notify_t *next = (load_notify_t *) zlistx_next (self->notifies);
        if (self->now - notify->last > (int64_t) LOAD_NOTIFY_IDLE_MS * 1000)
            load_notify_close (self, notify);
        notify = next;
    }
}

//  True once the drain has nothing more to wait for.
static bool
s_drained (load_t *self)
{
    if (self->outstanding > 0)
        return false;
    if (self->listener < 0)
        return true;
    return self->tx_settled >= self->tx_acked;
}

//  The live progress line on a terminal.
static void
s_progress (load_t *self, bool last)
{
    int64_t interval = self->now - self->last_progress;
    if (!self->progress || (!last && interval < (int64_t) LOAD_PROGRESS_MS * 1000))
        return;
    uint64_t sent = zc_report_count (self->report, NULL, ZC_REPORT_SENT);
    double rate = interval > 0? (double) (sent - self->progress_sent) * 1e6 / (double) interval: 0;
    fprintf (stderr, "\r%7.1fs %-8s sent %" PRIu64 "  ok %" PRIu64 "  failed %" PRIu64
             "  skipped %" PRIu64 "  waiting %" PRIu64 "  %.0f/s",
             (double) self->now / 1e6, self->phase == LOAD_SENDING? "sending": "draining", sent,
             zc_report_count (self->report, NULL, ZC_REPORT_SUCCEEDED),
             zc_report_count (self->report, NULL, ZC_REPORT_FAILED),
             zc_report_count (self->report, NULL, ZC_REPORT_SKIPPED), self->outstanding, rate);
    if (self->listener >= 0)
        fprintf (stderr, "  confirmed %" PRIu64 "/%" PRIu64,
                 zc_report_count (self->report, NULL, ZC_REPORT_CONFIRMED_ALL), self->tx_acked);
    fprintf (stderr, "   %s", last? "\n": "");
    fflush (stderr);
    self->last_progress = self->now;
    self->progress_sent = sent;
}

//  How long the loop may sleep: until the next send is due, at most a
//  tick.
static int
s_wait_ms (load_t *self)
{
    load_options_t *options = self->options;
    int64_t wait = LOAD_TICK_MS * 1000;
    if (self->phase == LOAD_SENDING) {
        if (options->rate > 0) {
            int64_t due = zc_report_schedule (options->rate, (int64_t) (options->ramp * 1e6),
                                              self->next);
            wait = due - self->now;
        }
        else
        if (options->ramp > 0 && self->released < options->clients)
            wait = 1000;
        if (options->duration > 0) {
            int64_t end = (int64_t) (options->duration * 1e6) - self->now;
            wait = end < wait? end: wait;
        }
    }
    if (wait > LOAD_TICK_MS * 1000)
        wait = LOAD_TICK_MS * 1000;
    return wait <= 0? 0: (int) ((wait + 999) / 1000);
}

//  The event loop, from clock start to the end of the drain.
void
load_run (load_t *self)
{
    struct epoll_event events [LOAD_MAX_EVENTS];
    int64_t next_check = 0;
    self->t0 = zc_clock_usecs ();
    self->now = 0;
    //  Open loop: every client is ready at once (closed loop: see ramp)
    for (size_t i = 0; i < self->options->clients && self->options->rate > 0; i++)
        load_idle_push (self, &self->clients [i]);
    while (self->phase != LOAD_DONE) {
        self->now = s_now (self);
        if (self->phase == LOAD_SENDING)
            s_send_due (self);
        if (self->monitor && self->now >= self->next_sample) {
            load_monitor_sample (self->monitor);
            self->next_sample += (int64_t) (self->options->bucket * 1e6);
        }
        if (self->now >= next_check) {
            s_check_deadlines (self);
            next_check = self->now + LOAD_TICK_MS * 1000;
        }
        if (self->phase == LOAD_DRAINING
        && (s_drained (self) || self->now >= self->drain_deadline || load_interrupted > 1))
            self->phase = LOAD_DONE;
        s_progress (self, self->phase == LOAD_DONE);
        if (self->phase == LOAD_DONE)
            break;
        int count = epoll_wait (self->epoll, events, LOAD_MAX_EVENTS, s_wait_ms (self));
        self->now = s_now (self);
        for (int i = 0; i < count; i++) {
            load_kind_t *kind = (load_kind_t *) events [i].data.ptr;
            if (*kind == LOAD_KIND_CLIENT)
                load_client_event (self, (load_client_t *) kind, events [i].events);
            else
            if (*kind == LOAD_KIND_LISTENER)
                load_notify_accept (self);
            else
                load_notify_read (self, (load_notify_t *) kind);
        }
    }
    //  The last sample covers the last, maybe partial, bucket
    if (self->monitor)
        load_monitor_sample (self->monitor);
    zc_report_set_elapsed (self->report, self->now);
}

