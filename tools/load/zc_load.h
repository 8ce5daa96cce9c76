/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_load.h - zchain-load's parts and the state they share

    zchain-load is one event loop over non-blocking sockets; its code is
    split by concern, every file working on the one load_t:

        load_options.c   the command line (getopt_long) and --help
        load_clients.c   the client engine: targets, connections, requests
                         sent and replies judged
        load_notices.c   the --notify-listen side: the gateway's
                         block_confirmation lines matched to submissions
        load_run.c       requests prepared before the clock, the schedule
                         (open and closed loop) and the loop itself
        load_monitor.c   the resources of the system under test, sampled
                         each bucket
        zchain_load.c    main, and the glue to zc_report (notes, settings,
                         the files written)
    =========================================================================
*/

#ifndef ZC_LOAD_H_INCLUDED
#define ZC_LOAD_H_INCLUDED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     //  accept4
#endif
#include "zc_report.h"
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>

#define LOAD_MAX_TARGETS      64                //  -a given at most
#define LOAD_MAX_NODES        64                //  node ids told apart in confirmations
#define LOAD_MAX_EARLY        100000            //  confirmations held for unknown ids
#define LOAD_MAX_NOTIFY       1024              //  notice connections open at once
#define LOAD_NOTIFY_IDLE_MS   30000             //  a notice connection idle this long is closed
#define LOAD_MAX_EVENTS       1024              //  epoll events per wait
#define LOAD_READ_SIZE        65536             //  bytes read per read ()
#define LOAD_REPLY_MAX        (1024 * 1024)     //  largest reply we accept
#define LOAD_EXTRA_FDS        64                //  descriptors beyond clients
#define LOAD_TICK_MS          100               //  longest sleep of the loop
#define LOAD_PROGRESS_MS      1000              //  progress line interval
#define LOAD_CLOSED_PREPARE   20000             //  closed loop + duration: prepared txs
#define LOAD_PREPARE_BATCH    1000              //  signed at once when they run out

//  What a request does
typedef enum {
    LOAD_HEALTH = 0,            //  health (--nodes: ping)
    LOAD_SUBMIT_TX = 1,         //  submit_transaction (--nodes: NEW_TRANSACTION)
    LOAD_SUBMIT_PURCHASE = 2,   //  submit_purchase (gateway only)
    LOAD_ACTIONS = 3
} load_action_t;

//  Their names, in reports and --mix
extern const char *load_action_names [LOAD_ACTIONS];

//  Command-line options
typedef struct {
    const char *addresses [LOAD_MAX_TARGETS];  //  -a, in order
    size_t address_count;       //  how many
    bool nodes;                 //  --nodes: talk NEW_TRANSACTION to nodes
    bool redis;                 //  --redis-ping: RESP PING to a redis-server
    size_t clients;             //  --clients
    double rate;                //  --rate, per second; 0 closed loop
    double duration;            //  --duration, seconds; 0 if --count
    uint64_t count;             //  --count; 0 if --duration
    double ramp;                //  --ramp, seconds
    unsigned weights [LOAD_ACTIONS];  //  --mix
    char *mix;                  //  --mix as given, for the report
    bool per_request;           //  --connect-per-request
    const char *notify;         //  --notify-listen HOST:PORT, or NULL
    const char *json_path;      //  --json FILE
    const char *csv_path;       //  --csv FILE
    const char *html_path;      //  --html FILE
    size_t keys;                //  --keys: signing keys
    double timeout;             //  --timeout: reply deadline, seconds
    double connect_timeout;     //  --connect-timeout, seconds
    double grace;               //  --grace: drain after the last send, seconds
    double late_ms;             //  --late-ms: a send this late is late
    uint64_t prepare;           //  --prepare: requests made before the clock
    double bucket;              //  --bucket: series resolution, seconds
    const char *monitor;        //  --monitor: auto, proc, status or none
} load_options_t;

//  A resolved target
typedef struct {
    const char *address;        //  "host:port" as given
    struct sockaddr_storage addr;  //  resolved address
    socklen_t addr_len;         //  its length
} load_target_t;

//  A request, prepared before the clock starts
typedef struct {
    uint64_t offset;            //  its frame in the frames chunk
    uint32_t size;              //  frame bytes
    uint8_t action;             //  load_action_t
    bool acked;                 //  positive reply received
    bool confirmed_all;         //  every node confirmed it
    bool id_known;              //  its tx id is in the id map
    int64_t started;            //  clock usecs of its send, -1 if not sent
    uint64_t nodes;             //  bit per node that confirmed it
} load_request_t;

//  What an epoll event points at
typedef enum { LOAD_KIND_CLIENT = 1, LOAD_KIND_LISTENER, LOAD_KIND_NOTIFY } load_kind_t;

//  One simulated client and its connection
typedef struct {
    load_kind_t kind;           //  LOAD_KIND_CLIENT
    int fd;                     //  socket, -1 when not connected
    uint32_t index;             //  client number
    load_target_t *target;      //  where it connects
    bool connecting;            //  connect in progress
    bool queued;                //  in the idle queue
    int64_t request;            //  request outstanding, -1 if none
    uint32_t written;           //  bytes of the request's frame written
    int64_t started;            //  usecs the request started (connect or send)
    int64_t deadline;           //  usecs: connect or reply deadline
    zc_codec_t *codec;          //  reply decoder for this connection
} load_client_t;

//  A connection from the gateway carrying block notices
typedef struct {
    load_kind_t kind;           //  LOAD_KIND_NOTIFY
    int fd;                     //  socket
    zc_codec_t *codec;          //  line decoder
    int64_t last;               //  usecs of its last activity
    void *handle;               //  place in the list of notice connections
} load_notify_t;

//  A confirmation for an id not known yet (a purchase whose reply is late)
typedef struct {
    int64_t first;              //  usecs of the first node's confirmation
    int64_t last;               //  usecs of the latest
    uint64_t nodes;             //  bit per node
} load_early_t;

//  Where the run is
typedef enum { LOAD_SENDING = 0, LOAD_DRAINING, LOAD_DONE } load_phase_t;

typedef struct _load_monitor_t load_monitor_t;

//  The whole load generator
typedef struct {
    load_options_t *options;    //  command line
    load_target_t targets [LOAD_MAX_TARGETS];  //  resolved -a
    size_t target_count;        //  how many
    int epoll;                  //  the event loop
    load_client_t *clients;     //  options->clients of them
    uint32_t *idle;             //  ring of clients with nothing outstanding
    size_t idle_head;           //  ring's first
    size_t idle_count;          //  ring's size
    size_t released;            //  closed loop: clients started so far
    load_request_t *requests;   //  prepared requests
    uint64_t request_count;     //  prepared
    uint64_t request_alloc;     //  allocated
    uint64_t planned;           //  requests to schedule in all (0: until duration)
    uint64_t next;              //  next request to schedule
    int64_t mix_credit [LOAD_ACTIONS];  //  smooth weighted round robin state
    zchunk_t *frames;           //  every request's frame, back to back
    zc_keys_t **keys;           //  signing keys
    char run_id [16];           //  makes this run's transactions unique
    char now_text [ZC_TIMESTAMP_LEN + 1];  //  purchase timestamp
    zhashx_t *ids;              //  tx id -> request index + 1
    zhashx_t *early;            //  tx id -> load_early_t *
    char node_ids [LOAD_MAX_NODES][40];  //  node ids seen in confirmations
    size_t node_count;          //  how many
    size_t total_nodes;         //  from replies (--nodes: targets)
    int listener;               //  --notify-listen socket, or -1
    load_kind_t listener_kind;  //  epoll tag of the listener
    zlistx_t *notifies;         //  load_notify_t * open
    zc_report_t *report;        //  the statistics
    int64_t t0;                 //  clock start, zc_clock_usecs
    int64_t now;                //  clock usecs since t0, this iteration
    load_phase_t phase;         //  where the run is
    int64_t drain_deadline;     //  usecs: end of the drain
    uint64_t outstanding;       //  requests awaiting a reply
    uint64_t tx_acked;          //  transactions with a positive reply
    uint64_t tx_settled;        //  of them, confirmed by every node
    uint64_t partial;           //  replies with nodes_reached < total_nodes
    uint64_t rollbacks;         //  block_rollback notices seen
    uint64_t notices;           //  block_confirmation notices seen
    uint64_t bad_notices;       //  notices that were not understood
    uint64_t unexpected;        //  replies nobody waited for
    uint64_t early_dropped;     //  confirmations of unknown ids not kept
    uint64_t signed_late;       //  transactions signed after the clock started
    int64_t last_progress;      //  usecs of the last progress line
    uint64_t progress_sent;     //  sent at the last progress line
    bool progress;              //  stderr is a terminal
    load_monitor_t *monitor;    //  resources of the system under test
    int64_t next_sample;        //  usecs: its next sample
} load_t;

//  Counts SIGINT/SIGTERM: the first ends sending, the second the drain.
extern volatile sig_atomic_t load_interrupted;

//  ---------------------------------------------------------------------
//  load_options.c

//  Parses the command line.  Returns 0, 1 after --help, or -1 after
//  saying what is wrong.
int load_parse_options (load_options_t *options, int argc, char *argv []);

//  Parses an unsigned integer in [min, max]; false if text is not one.
bool load_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *value_p);

//  The --help text, also shown after bad usage hints.
void load_usage (FILE *stream);

//  ---------------------------------------------------------------------
//  load_clients.c

//  Closes a client's connection; it will reconnect for its next request.
void load_client_close (load_t *self, load_client_t *client);

//  A connect finished (writable): check it worked, then send.
void load_client_connected (load_t *self, load_client_t *client);

//  An event on a client's socket.
void load_client_event (load_t *self, load_client_t *client, uint32_t events);

//  Fails the client's request with a reason and drops its connection
//  (a late reply would be taken for the next request's).
void load_client_fail (load_t *self, load_client_t *client, const char *reason);

//  Opens a client's connection (non-blocking).  0, or -1 with errno.
int load_client_open (load_t *self, load_client_t *client, int64_t now);

//  Sends request k on a client, lag after its due time: connects first if
//  the client has no connection.
void load_client_send (load_t *self, load_client_t *client, uint64_t k, int64_t lag);

//  Takes the client that has been idle longest, or NULL.
load_client_t *load_idle_pop (load_t *self);

//  Puts a client with nothing outstanding at the end of the idle queue.
void load_idle_push (load_t *self, load_client_t *client);

//  Number member of a JSON object, or -1.
double load_number (const cJSON *json, const char *name);

//  Checks a target answers TCP before anything else is done, so a wrong
//  address fails in seconds with a clear message.  0 or -1.
int load_preflight (load_target_t *target, int timeout_ms);

//  Resolves "host:port" (IPv6 as [addr]:port).  Returns 0 or -1 with a
//  message on stderr.
int load_resolve (const char *address, struct sockaddr_storage *addr, socklen_t *length_p);

//  Counts a transaction as settled once it is both acknowledged and
//  confirmed by every node; the drain waits for all of them.
void load_settle (load_t *self, load_request_t *request);

//  String member of a JSON object, or NULL.
const char *load_string (const cJSON *json, const char *name);

//  ---------------------------------------------------------------------
//  load_notices.c

//  Nodes confirmed request k (first and last: when, in usecs): records
//  the latency to the first node, and to every node once all have.
void load_confirm (load_t *self, uint64_t k, int64_t first, int64_t last, uint64_t nodes);

//  Opens the --notify-listen socket.  Returns it or -1 with a message.
int load_listen (const char *address);

//  Accepts every pending notice connection.
void load_notify_accept (load_t *self);

//  Closes a notice connection.
void load_notify_close (load_t *self, load_notify_t *notify);

//  Reads notice lines until the gateway closes the connection.
void load_notify_read (load_t *self, load_notify_t *notify);

//  ---------------------------------------------------------------------
//  load_run.c

//  Connects every keep-alive client before the clock starts, waiting up
//  to the connect timeout.  Returns how many connected.
size_t load_connect_all (load_t *self);

//  Makes the requests the run will send before the clock starts.  0 or -1.
int load_prepare_all (load_t *self);

//  Raises the open-file limit to what the clients need.  0 or -1 with a
//  message.
int load_raise_fd_limit (size_t needed);

//  The event loop, from clock start to the end of the drain.
void load_run (load_t *self);

//  SIGINT/SIGTERM: the first ends sending (the report is still written),
//  the second ends the drain too.
void load_signal (int signum);

//  ---------------------------------------------------------------------
//  load_monitor.c

//  Chooses how to watch the system under test (zchaind processes in
//  /proc, the nodes' get_status, or nothing, noted) once the targets are
//  resolved, and says so in the report.
load_monitor_t *load_monitor_new (load_t *load);

//  Records one sample of every figure, at load->now.
void load_monitor_sample (load_monitor_t *self);

//  Stops the get_status poller, if any, and frees.
void load_monitor_destroy (load_monitor_t **self_p);

//  ---------------------------------------------------------------------
//  load_monitor.c

//  Chooses how to watch the system under test (zchaind processes in
//  /proc, the nodes' get_status, or nothing, noted) once the targets are
//  resolved, and says so in the report.
load_monitor_t *load_monitor_new (load_t *load);

//  Records one sample of every figure, at load->now.
void load_monitor_sample (load_monitor_t *self);

//  Stops the get_status poller, if any, and frees.
void load_monitor_destroy (load_monitor_t **self_p);

#endif
