/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zchain-load - many simulated clients against a zchain gateway or nodes

        zchain-load -a HOST:PORT [options]      (zchain-load --help)

    One process, one epoll loop, non-blocking sockets, no thread per
    client: N clients, each its own TCP connection, send gateway actions
    (health, submit_transaction, submit_purchase) or, with --nodes,
    NEW_TRANSACTION and ping straight to nodes.  Every request is framed
    with a 2-byte length prefix, as the seed's clients do, and every
    transaction is signed, with one of many generated keys, before the
    clock starts, so that the client is never what limits the rate.

    Load shape.  --rate R > 0 is an open loop: send k is due at
    zc_report_schedule (R, ramp, k) whether or not replies came back.  It
    goes to the next client with nothing outstanding; clients do not
    pipeline, so when every client waits for a reply the send is SKIPPED
    and counted with the reason "all N clients busy" (more --clients fix
    that).  A send that goes out later than --late-ms after its due time
    counts as late; either makes the report say the rate was not kept, and
    why.  --rate 0 is a closed loop: each client sends its next request
    when the reply to the last one came; --ramp starts clients evenly over
    the ramp.  Latency is measured from the send (or from the connect,
    with --connect-per-request) to the reply.

    --notify-listen HOST:PORT makes this process the deployment's
    marketplace server too: the gateway forwards block_confirmation lines
    to it, and each transaction's id (zc_tx_id of what we signed, or the
    purchase reply's transaction.id) is matched to its submission, giving
    the latency to the first node's confirmation and to every node's (the
    gateway's replies say how many nodes there are).

    Exit status: 0 if every request sent succeeded, 1 if some failed or the
    target could not be reached, 2 on bad usage.

    This file holds main and the glue to the report (zc_report); the rest
    is split by concern, as zc_load.h lists: load_options.c,
    load_clients.c, load_notices.c, load_run.c.
    =========================================================================
*/

#include "zc_load.h"
#include <sys/epoll.h>

//  Notes what the run saw beyond the counters.
static void
s_notes (load_t *self)
{
    load_options_t *options = self->options;
    if (self->outstanding > 0)
        zc_report_note (self->report, "%" PRIu64 " request(s) still had no reply when the "
                        "drain grace of %.1f s ended; they are not counted as failed",
                        self->outstanding, options->grace);
    if (self->listener >= 0 && self->tx_settled < self->tx_acked)
        zc_report_note (self->report, "%" PRIu64 " of %" PRIu64 " acknowledged transactions "
                        "were not confirmed by every node (%zu) within the drain grace",
                        self->tx_acked - self->tx_settled, self->tx_acked, self->total_nodes);
    if (self->signed_late)
        zc_report_note (self->report, "the %" PRIu64 " prepared requests ran out: %" PRIu64
                        " more were made during the run, which may have slowed the client "
                        "(raise --prepare)", self->request_count - self->signed_late,
                        self->signed_late);
    if (self->partial)
        zc_report_note (self->report, "%" PRIu64 " transaction(s) reached fewer than all "
                        "nodes (nodes_reached < total_nodes)", self->partial);
    if (self->rollbacks)
        zc_report_note (self->report, "%" PRIu64 " block_rollback notice(s) seen",
                        self->rollbacks);
    if (self->bad_notices)
        zc_report_note (self->report, "%" PRIu64 " notice(s) could not be understood",
                        self->bad_notices);
    if (self->unexpected)
        zc_report_note (self->report, "%" PRIu64 " reply(ies) came with no request waiting",
                        self->unexpected);
    if (self->early_dropped)
        zc_report_note (self->report, "%" PRIu64 " confirmed transaction id(s) were not ours",
                        self->early_dropped);
    if (self->listener >= 0 && self->notices == 0)
        zc_report_note (self->report, "no block_confirmation reached %s: is it the "
                        "deployment's server address?", options->notify);
}

//  Records the run's settings in the report.
static void
s_describe (load_t *self)
{
    load_options_t *options = self->options;
    char text [1024] = "";
    for (size_t i = 0; i < options->address_count; i++)
        snprintf (text + strlen (text), sizeof text - strlen (text), "%s%s",
                  i? ",": "", options->addresses [i]);
    zc_report_t *report = self->report;
    zc_report_set_text (report, "target", text);
    zc_report_set_text (report, "mode", options->redis? "redis": options->nodes? "nodes": "gateway");
    zc_report_set_number (report, "clients", (double) options->clients);
    zc_report_set_number (report, "rate", options->rate);
    zc_report_set_text (report, "loop", options->rate > 0? "open": "closed");
    if (options->count)
        zc_report_set_number (report, "count", (double) options->count);
    else
        zc_report_set_number (report, "duration_s", options->duration);
    zc_report_set_number (report, "ramp_s", options->ramp);
    *text = 0;
    for (size_t action = 0; action < LOAD_ACTIONS; action++)
        if (options->weights [action])
            snprintf (text + strlen (text), sizeof text - strlen (text), "%s%s=%u",
                      *text? ",": "", load_action_names [action], options->weights [action]);
    zc_report_set_text (report, "mix", text);
    zc_report_set_text (report, "connection",
                        options->per_request? "connect-per-request": "keep-alive");
    zc_report_set_number (report, "keys", (double) options->keys);
    zc_report_set_number (report, "timeout_s", options->timeout);
    zc_report_set_number (report, "grace_s", options->grace);
    if (options->notify)
        zc_report_set_text (report, "notify_listen", options->notify);
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    zc_report_set_text (report, "started", now);
    zc_report_set_target (report, options->rate, (int64_t) (options->late_ms * 1000));
}

//  Writes the report files asked for.  0 or -1 after saying which failed.
static int
s_write_reports (load_t *self)
{
    load_options_t *options = self->options;
    int rc = 0;
    if (options->json_path && zc_report_write_json (self->report, options->json_path)) {
        fprintf (stderr, "zchain-load: cannot write %s: %s\n", options->json_path, strerror (errno));
        rc = -1;
    }
    if (options->csv_path && zc_report_write_csv (self->report, options->csv_path)) {
        fprintf (stderr, "zchain-load: cannot write %s: %s\n", options->csv_path, strerror (errno));
        rc = -1;
    }
    if (options->html_path && zc_report_write_html (self->report, options->html_path)) {
        fprintf (stderr, "zchain-load: cannot write %s: %s\n", options->html_path, strerror (errno));
        rc = -1;
    }
    return rc;
}

//  Frees everything the run made.
static void
s_self_destroy (load_t *self)
{
    load_monitor_destroy (&self->monitor);
    for (size_t i = 0; self->clients && i < self->options->clients; i++)
        load_client_close (self, &self->clients [i]);
    load_notify_t *notify;
    while (self->notifies && (notify = (load_notify_t *) zlistx_first (self->notifies)))
        load_notify_close (self, notify);
    zlistx_destroy (&self->notifies);
    if (self->listener >= 0)
        close (self->listener);
    if (self->epoll >= 0)
        close (self->epoll);
    for (size_t i = 0; self->keys && i < self->options->keys; i++)
        zc_keys_destroy (&self->keys [i]);
    free (self->keys);
    free (self->clients);
    free (self->idle);
    free (self->requests);
    zchunk_destroy (&self->frames);
    zhashx_destroy (&self->ids);
    zhashx_destroy (&self->early);
    zc_report_destroy (&self->report);
}

//  Frees an early confirmation (zhashx destructor).
static void
s_early_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  Parses flags, fails fast on what cannot work, prepares every request,
//  runs the clock, then prints and writes the report.
int
main (int argc, char *argv [])
{
    load_options_t options;
    int rc = load_parse_options (&options, argc, argv);
    if (rc) {
        free (options.mix);
        return rc == 1? 0: 2;
    }
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = load_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);

    load_t self;
    memset (&self, 0, sizeof self);
    self.options = &options;
    self.listener = -1;
    self.epoll = -1;
    self.listener_kind = LOAD_KIND_LISTENER;
    self.report = zc_report_new ((int64_t) (options.bucket * 1e6));
    self.frames = zchunk_new (NULL, 0);
    self.ids = zhashx_new ();
    self.early = zhashx_new ();
    zhashx_set_destructor (self.early, s_early_free);
    self.notifies = zlistx_new ();
    self.progress = isatty (STDERR_FILENO);
    char uuid [40];
    zc_uuid_new (uuid);
    snprintf (self.run_id, sizeof self.run_id, "%.8s", uuid);
    zc_timestamp_now (self.now_text);
    s_describe (&self);

    //  Everything that can fail fast does so before any work is done
    int exit_code = 1;
    for (size_t i = 0; i < options.address_count; i++) {
        load_target_t *target = &self.targets [self.target_count++];
        target->address = options.addresses [i];
        if (load_resolve (target->address, &target->addr, &target->addr_len))
            goto done;
    }
    self.total_nodes = options.nodes? self.target_count: 0;
    if (load_raise_fd_limit (options.clients + LOAD_EXTRA_FDS + (options.notify? LOAD_MAX_NOTIFY: 0)))
        goto done;
    for (size_t i = 0; i < self.target_count; i++)
        if (load_preflight (&self.targets [i], (int) (options.connect_timeout * 1000)))
            goto done;
    self.epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (self.epoll < 0) {
        fprintf (stderr, "zchain-load: epoll_create1: %s\n", strerror (errno));
        goto done;
    }
    if (options.notify) {
        self.listener = load_listen (options.notify);
        if (self.listener < 0)
            goto done;
        struct epoll_event event;
        memset (&event, 0, sizeof event);
        event.events = EPOLLIN;
        event.data.ptr = &self.listener_kind;
        epoll_ctl (self.epoll, EPOLL_CTL_ADD, self.listener, &event);
    }
    self.clients = (load_client_t *) zmalloc (options.clients * sizeof (load_client_t));
    self.idle = (uint32_t *) zmalloc (options.clients * sizeof (uint32_t));
    for (size_t i = 0; i < options.clients; i++) {
        load_client_t *client = &self.clients [i];
        client->kind = LOAD_KIND_CLIENT;
        client->fd = -1;
        client->index = (uint32_t) i;
        client->request = -1;
        client->target = &self.targets [i % self.target_count];
    }
    if (load_prepare_all (&self)) {
        fprintf (stderr, "zchain-load: cannot prepare the requests (out of memory?)\n");
        goto done;
    }
    if (!options.per_request) {
        self.t0 = zc_clock_usecs ();
        if (load_connect_all (&self) == 0)
            goto done;
    }
    self.monitor = load_monitor_new (&self);
    load_run (&self);
    s_notes (&self);

    char *text = zc_report_text (self.report);
    if (text)
        fputs (text, stdout);
    free (text);
    exit_code = s_write_reports (&self) == 0
             && zc_report_count (self.report, NULL, ZC_REPORT_FAILED) == 0
             && zc_report_count (self.report, NULL, ZC_REPORT_SUCCEEDED) > 0? 0: 1;
done:
    s_self_destroy (&self);
    free (options.mix);
    return exit_code;
}
