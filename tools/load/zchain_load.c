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
    =========================================================================
*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     //  accept4
#endif
#include "zc_report.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define S_MAX_TARGETS       64          //  -a given at most
#define S_MAX_NODES         64          //  node ids told apart in confirmations
#define S_MAX_EARLY         100000      //  confirmations held for unknown ids
#define S_MAX_NOTIFY        1024        //  notice connections open at once
#define S_NOTIFY_IDLE_MS    30000       //  a notice connection idle this long is closed
#define S_MAX_EVENTS        1024        //  epoll events per wait
#define S_READ_SIZE         65536       //  bytes read per read ()
#define S_REPLY_MAX         (1024 * 1024)   //  largest reply we accept
#define S_EXTRA_FDS         64          //  descriptors beyond clients
#define S_TICK_MS           100         //  longest sleep of the loop
#define S_PROGRESS_MS       1000        //  progress line interval
#define S_CLOSED_PREPARE    20000       //  closed loop + duration: prepared txs
#define S_PREPARE_BATCH     1000        //  signed at once when they run out

//  What a request does
typedef enum {
    S_HEALTH = 0,               //  health (--nodes: ping)
    S_SUBMIT_TX = 1,            //  submit_transaction (--nodes: NEW_TRANSACTION)
    S_SUBMIT_PURCHASE = 2,      //  submit_purchase (gateway only)
    S_ACTIONS = 3
} s_action_t;

static const char *s_action_names [S_ACTIONS] = {
    "health", "submit_transaction", "submit_purchase" };

//  Command-line options
typedef struct {
    const char *addresses [S_MAX_TARGETS];  //  -a, in order
    size_t address_count;       //  how many
    bool nodes;                 //  --nodes: talk NEW_TRANSACTION to nodes
    bool redis;                 //  --redis-ping: RESP PING to a redis-server
    size_t clients;             //  --clients
    double rate;                //  --rate, per second; 0 closed loop
    double duration;            //  --duration, seconds; 0 if --count
    uint64_t count;             //  --count; 0 if --duration
    double ramp;                //  --ramp, seconds
    unsigned weights [S_ACTIONS];   //  --mix
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
} s_options_t;

//  A resolved target
typedef struct {
    const char *address;        //  "host:port" as given
    struct sockaddr_storage addr;   //  resolved address
    socklen_t addr_len;         //  its length
} s_target_t;

//  A request, prepared before the clock starts
typedef struct {
    uint64_t offset;            //  its frame in the frames chunk
    uint32_t size;              //  frame bytes
    uint8_t action;             //  s_action_t
    bool acked;                 //  positive reply received
    bool confirmed_all;         //  every node confirmed it
    bool id_known;              //  its tx id is in the id map
    int64_t started;            //  clock usecs of its send, -1 if not sent
    uint64_t nodes;             //  bit per node that confirmed it
} s_request_t;

//  What an epoll event points at
typedef enum { S_KIND_CLIENT = 1, S_KIND_LISTENER, S_KIND_NOTIFY } s_kind_t;

//  One simulated client and its connection
typedef struct {
    s_kind_t kind;              //  S_KIND_CLIENT
    int fd;                     //  socket, -1 when not connected
    uint32_t index;             //  client number
    s_target_t *target;         //  where it connects
    bool connecting;            //  connect in progress
    bool queued;                //  in the idle queue
    int64_t request;            //  request outstanding, -1 if none
    uint32_t written;           //  bytes of the request's frame written
    int64_t started;            //  usecs the request started (connect or send)
    int64_t deadline;           //  usecs: connect or reply deadline
    zc_codec_t *codec;          //  reply decoder for this connection
} s_client_t;

//  A connection from the gateway carrying block notices
typedef struct {
    s_kind_t kind;              //  S_KIND_NOTIFY
    int fd;                     //  socket
    zc_codec_t *codec;          //  line decoder
    int64_t last;               //  usecs of its last activity
    void *handle;               //  place in the list of notice connections
} s_notify_t;

//  A confirmation for an id not known yet (a purchase whose reply is late)
typedef struct {
    int64_t first;              //  usecs of the first node's confirmation
    int64_t last;               //  usecs of the latest
    uint64_t nodes;             //  bit per node
} s_early_t;

//  Where the run is
typedef enum { S_SENDING = 0, S_DRAINING, S_DONE } s_phase_t;

//  The whole load generator
typedef struct {
    s_options_t *options;       //  command line
    s_target_t targets [S_MAX_TARGETS];     //  resolved -a
    size_t target_count;        //  how many
    int epoll;                  //  the event loop
    s_client_t *clients;        //  options->clients of them
    uint32_t *idle;             //  ring of clients with nothing outstanding
    size_t idle_head;           //  ring's first
    size_t idle_count;          //  ring's size
    size_t released;            //  closed loop: clients started so far
    s_request_t *requests;      //  prepared requests
    uint64_t request_count;     //  prepared
    uint64_t request_alloc;     //  allocated
    uint64_t planned;           //  requests to schedule in all (0: until duration)
    uint64_t next;              //  next request to schedule
    int64_t mix_credit [S_ACTIONS];     //  smooth weighted round robin state
    zchunk_t *frames;           //  every request's frame, back to back
    zc_keys_t **keys;           //  signing keys
    char run_id [16];           //  makes this run's transactions unique
    char now_text [ZC_TIMESTAMP_LEN + 1];   //  purchase timestamp
    zhashx_t *ids;              //  tx id -> request index + 1
    zhashx_t *early;            //  tx id -> s_early_t *
    char node_ids [S_MAX_NODES][40];    //  node ids seen in confirmations
    size_t node_count;          //  how many
    size_t total_nodes;         //  from replies (--nodes: targets)
    int listener;               //  --notify-listen socket, or -1
    s_kind_t listener_kind;     //  epoll tag of the listener
    zlistx_t *notifies;         //  s_notify_t * open
    zc_report_t *report;        //  the statistics
    int64_t t0;                 //  clock start, zc_clock_usecs
    int64_t now;                //  clock usecs since t0, this iteration
    s_phase_t phase;            //  where the run is
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
} self_t;

static volatile sig_atomic_t s_interrupted = 0;

//  SIGINT/SIGTERM: the first ends sending (the report is still written),
//  the second ends the drain too.
static void
s_signal (int signum)
{
    s_interrupted++;
}

//  ---------------------------------------------------------------------
//  Usage and option parsing

//  The --help text, also shown after bad usage hints.
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchain-load -a HOST:PORT [options]\n"
        "Simulates many clients of a zchain gateway (or of nodes, with --nodes)\n"
        "from one process and reports sent, succeeded, failed by reason, send rate,\n"
        "throughput and latency min/p50/p90/p99/p99.9/max.\n"
        "target:\n"
        "  -a HOST:PORT             gateway (or node) to load; repeat to spread the\n"
        "                           clients over several\n"
        "  --nodes                  talk to nodes: NEW_TRANSACTION and ping instead of\n"
        "                           the gateway's submit_transaction and health\n"
        "  --redis-ping             talk to a redis-server: every request is a RESP\n"
        "                           PING (answered +PONG), reported as health; the\n"
        "                           reference the gateway's health is measured against\n"
        "load shape:\n"
        "  --clients N              simulated clients, one connection each (default 10;\n"
        "                           10,000 work: the fd limit is raised)\n"
        "  --rate R                 total sends per second, open loop: sends go out on\n"
        "                           schedule whether or not replies came; a send due\n"
        "                           while every client waits for a reply is skipped and\n"
        "                           counted (no pipelining).  0 (default): closed loop,\n"
        "                           each client sends when its last reply came\n"
        "  --duration S             send for S seconds (ramp included), or\n"
        "  --count N                schedule N requests (default 1000)\n"
        "  --ramp S                 open loop: rate climbs linearly from 0 over S s;\n"
        "                           closed loop: clients start evenly over S s\n"
        "  --mix A=W,...            actions by weight: health, submit_transaction,\n"
        "                           submit_purchase; a lone name means only it\n"
        "                           (default submit_transaction)\n"
        "  --keep-alive             one connection per client for the run (default)\n"
        "  --connect-per-request    a new connection per request, as the seed's\n"
        "                           clients do (latency includes the connect)\n"
        "confirmations:\n"
        "  --notify-listen HOST:PORT  act as the marketplace server: take the gateway's\n"
        "                           block_confirmation lines and measure confirmation\n"
        "                           latency (first node, every node) and confirmed tx/s;\n"
        "                           configure HOST:PORT as the deployment's server\n"
        "report:\n"
        "  --json FILE              write the report as JSON\n"
        "  --csv FILE               write the summary table as CSV\n"
        "  --html FILE              write one HTML page with the tables and SVG charts\n"
        "  --bucket S               width of the time series' buckets (default 1)\n"
        "  --late-ms MS             a send this late counts as late (default 10)\n"
        "tuning:\n"
        "  --keys N                 signing keys for transactions (default 64)\n"
        "  --prepare N              requests prepared before the clock (default: all\n"
        "                           scheduled; closed loop with --duration: 20000, then\n"
        "                           more are signed during the run, which is noted)\n"
        "  --timeout S              a reply later than this fails the request (default 10)\n"
        "  --connect-timeout S      a connect slower than this fails (default 3)\n"
        "  --grace S                after the last send, wait this long at most for\n"
        "                           replies and confirmations (default 10)\n"
        "  -h, --help               this text\n"
        "A live progress line goes to stderr when it is a terminal.  Exit status: 0\n"
        "if every request sent succeeded, 1 if some failed or the target could not\n"
        "be reached, 2 on bad usage.\n");
}

//  Parses a number in [min, max]; false if text is not one.
static bool
s_parse_double (const char *text, double min, double max, double *value_p)
{
    char *end = NULL;
    errno = 0;
    if (!text || !*text)
        return false;
    double value = strtod (text, &end);
    if (*end || errno || !(value >= min && value <= max))
        return false;
    *value_p = value;
    return true;
}

//  Parses an unsigned integer in [min, max]; false if text is not one.
static bool
s_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *value_p)
{
    char *end = NULL;
    errno = 0;
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    unsigned long long value = strtoull (text, &end, 10);
    if (*end || errno || value < min || value > max)
        return false;
    *value_p = value;
    return true;
}

//  Parses --mix: "a=w,b=w" or a lone action name.  Returns an error
//  message (static) or NULL.
static const char *
s_parse_mix (s_options_t *options, const char *text)
{
    unsigned weights [S_ACTIONS] = { 0 };
    char *copy = strdup (text);
    char *saveptr = NULL;
    const char *error = NULL;
    for (char *item = strtok_r (copy, ",", &saveptr); item && !error;
         item = strtok_r (NULL, ",", &saveptr)) {
        char *equals = strchr (item, '=');
        uint64_t weight = 1;
        if (equals) {
            *equals = 0;
            if (!s_parse_uint (equals + 1, 0, 1000000, &weight))
                error = "--mix weights must be integers from 0 to 1000000";
        }
        else
        if (strchr (text, ','))
            error = "--mix: give every action a weight (action=weight,...), or one name";
        size_t action = 0;
        while (action < S_ACTIONS && !streq (s_action_names [action], item))
            action++;
        if (!error && action == S_ACTIONS)
            error = "--mix: unknown action (health, submit_transaction, submit_purchase)";
        if (!error)
            weights [action] += (unsigned) weight;
    }
    free (copy);
    if (!error && weights [0] + weights [1] + weights [2] == 0)
        error = "--mix: the weights add up to 0";
    if (!error)
        memcpy (options->weights, weights, sizeof weights);
    return error;
}

//  True if flag is one of ours that takes a value.
static bool
s_takes_value (const char *flag)
{
    static const char *flags [] = {
        "-a", "--clients", "--rate", "--duration", "--count", "--ramp", "--mix",
        "--notify-listen", "--json", "--csv", "--html", "--keys", "--prepare", "--timeout",
        "--connect-timeout", "--grace", "--late-ms", "--bucket", NULL };
    for (const char **name = flags; *name; name++)
        if (streq (*name, flag))
            return true;
    return false;
}

//  Parses the command line.  Returns 0, 1 after --help, or -1 after
//  saying what is wrong.
static int
s_parse_options (s_options_t *options, int argc, char *argv [])
{
    memset (options, 0, sizeof *options);
    options->clients = 10;
    options->weights [S_SUBMIT_TX] = 1;
    options->keys = 64;
    options->timeout = 10;
    options->connect_timeout = 3;
    options->grace = 10;
    options->late_ms = 10;
    options->bucket = 1;
    const char *error = NULL;
    static char message [256];
    for (int arg = 1; arg < argc && !error; arg++) {
        const char *flag = argv [arg];
        const char *value = arg + 1 < argc? argv [arg + 1]: NULL;
        uint64_t number = 0;
        bool takes_value = true;
        if (streq (flag, "-h") || streq (flag, "--help"))
            return 1;
        else
        if (streq (flag, "--nodes"))
            options->nodes = true, takes_value = false;
        else
        if (streq (flag, "--redis-ping"))
            options->redis = true, takes_value = false;
        else
        if (streq (flag, "--keep-alive"))
            options->per_request = false, takes_value = false;
        else
        if (streq (flag, "--connect-per-request"))
            options->per_request = true, takes_value = false;
        else
        if (!s_takes_value (flag)) {
            snprintf (message, sizeof message, "unknown option %s", flag);
            error = message;
        }
        else
        if (!value) {
            snprintf (message, sizeof message, "%s needs a value", flag);
            error = message;
        }
        else
        if (streq (flag, "-a")) {
            if (options->address_count == S_MAX_TARGETS)
                error = "too many -a targets";
            else
                options->addresses [options->address_count++] = value;
        }
        else
        if (streq (flag, "--clients")) {
            if (!s_parse_uint (value, 1, 1000000, &number))
                error = "--clients needs an integer from 1 to 1000000";
            options->clients = (size_t) number;
        }
        else
        if (streq (flag, "--rate")) {
            if (!s_parse_double (value, 0, 1e7, &options->rate))
                error = "--rate needs a number of sends per second from 0 to 1e7";
        }
        else
        if (streq (flag, "--duration")) {
            if (!s_parse_double (value, 0.001, 1e6, &options->duration))
                error = "--duration needs a number of seconds above 0";
        }
        else
        if (streq (flag, "--count")) {
            if (!s_parse_uint (value, 1, 1000000000, &options->count))
                error = "--count needs an integer from 1 to 1e9";
        }
        else
        if (streq (flag, "--ramp")) {
            if (!s_parse_double (value, 0, 1e6, &options->ramp))
                error = "--ramp needs a number of seconds >= 0";
        }
        else
        if (streq (flag, "--mix")) {
            error = s_parse_mix (options, value);
            free (options->mix);
            options->mix = strdup (value);
        }
        else
        if (streq (flag, "--notify-listen"))
            options->notify = value;
        else
        if (streq (flag, "--json"))
            options->json_path = value;
        else
        if (streq (flag, "--csv"))
            options->csv_path = value;
        else
        if (streq (flag, "--html"))
            options->html_path = value;
        else
        if (streq (flag, "--keys")) {
            if (!s_parse_uint (value, 1, 100000, &number))
                error = "--keys needs an integer from 1 to 100000";
            options->keys = (size_t) number;
        }
        else
        if (streq (flag, "--prepare")) {
            if (!s_parse_uint (value, 1, 1000000000, &options->prepare))
                error = "--prepare needs an integer from 1 to 1e9";
        }
        else
        if (streq (flag, "--timeout")) {
            if (!s_parse_double (value, 0.001, 3600, &options->timeout))
                error = "--timeout needs a number of seconds from 0.001 to 3600";
        }
        else
        if (streq (flag, "--connect-timeout")) {
            if (!s_parse_double (value, 0.001, 600, &options->connect_timeout))
                error = "--connect-timeout needs a number of seconds from 0.001 to 600";
        }
        else
        if (streq (flag, "--grace")) {
            if (!s_parse_double (value, 0, 3600, &options->grace))
                error = "--grace needs a number of seconds from 0 to 3600";
        }
        else
        if (streq (flag, "--late-ms")) {
            if (!s_parse_double (value, 0.001, 1e6, &options->late_ms))
                error = "--late-ms needs a number of milliseconds above 0";
        }
        else
        if (streq (flag, "--bucket")) {
            if (!s_parse_double (value, 0.001, 3600, &options->bucket))
                error = "--bucket needs a number of seconds from 0.001 to 3600";
        }
        if (takes_value)
            arg++;
    }
    if (!error && options->address_count == 0)
        error = "give the target with -a HOST:PORT";
    if (!error && options->duration > 0 && options->count > 0)
        error = "give --duration or --count, not both";
    if (!error && options->duration == 0 && options->count == 0)
        options->count = 1000;
    if (!error && options->ramp > 0 && options->duration > 0 && options->ramp > options->duration)
        error = "--ramp cannot be longer than --duration";
    if (!error && options->nodes && options->weights [S_SUBMIT_PURCHASE] > 0)
        error = "--nodes: submit_purchase needs a gateway; use health and submit_transaction";
    if (error) {
        fprintf (stderr, "zchain-load: %s\n", error);
        fprintf (stderr, "run zchain-load --help for the options\n");
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Sockets

//  Resolves "host:port" (IPv6 as [addr]:port).  Returns 0 or -1 with a
//  message on stderr.
static int
s_resolve (const char *address, struct sockaddr_storage *addr, socklen_t *length_p)
{
    char host [256];
    const char *colon = strrchr (address, ':');
    const char *port = colon? colon + 1: NULL;
    size_t length = colon? (size_t) (colon - address): 0;
    if (length > 1 && address [0] == '[' && address [length - 1] == ']') {
        address++;
        length -= 2;
    }
    uint64_t number = 0;
    if (!colon || length == 0 || length >= sizeof host || !s_parse_uint (port, 1, 65535, &number)) {
        fprintf (stderr, "zchain-load: '%s' is not HOST:PORT\n", address);
        return -1;
    }
    memcpy (host, address, length);
    host [length] = 0;
    struct addrinfo hints, *result = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo (host, port, &hints, &result);
    if (rc != 0 || !result) {
        fprintf (stderr, "zchain-load: cannot resolve %s: %s\n", host, gai_strerror (rc));
        return -1;
    }
    memcpy (addr, result->ai_addr, result->ai_addrlen);
    *length_p = result->ai_addrlen;
    freeaddrinfo (result);
    return 0;
}

//  Starts a non-blocking connect; returns the socket (connect in
//  progress or done) or -1 with errno set.
static int
s_connect_start (s_target_t *target)
{
    int fd = socket (target->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect (fd, (struct sockaddr *) &target->addr, target->addr_len) == 0
    ||  errno == EINPROGRESS)
        return fd;
    int saved = errno;
    close (fd);
    errno = saved;
    return -1;
}

//  Checks a target answers TCP before anything else is done, so a wrong
//  address fails in seconds with a clear message.  0 or -1.
static int
s_preflight (s_target_t *target, int timeout_ms)
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

//  Opens the --notify-listen socket.  Returns it or -1 with a message.
static int
s_listen (const char *address)
{
    struct sockaddr_storage addr;
    socklen_t length = 0;
    if (s_resolve (address, &addr, &length))
        return -1;
    int fd = socket (addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind (fd, (struct sockaddr *) &addr, length) || listen (fd, 4096)) {
        fprintf (stderr, "zchain-load: cannot listen on %s: %s\n", address, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

//  Raises the open-file limit to what the clients need.  0 or -1 with a
//  message.
static int
s_raise_fd_limit (size_t needed)
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
static s_action_t
s_next_action (self_t *self)
{
    int64_t total = 0;
    size_t best = 0;
    for (size_t action = 0; action < S_ACTIONS; action++) {
        self->mix_credit [action] += self->options->weights [action];
        total += self->options->weights [action];
    }
    for (size_t action = 1; action < S_ACTIONS; action++)
        if (self->mix_credit [action] > self->mix_credit [best])
            best = action;
    self->mix_credit [best] -= total;
    return (s_action_t) best;
}

//  The JSON of request k for action; signs a transaction (whose id goes
//  into the id map).  Caller deletes.
static cJSON *
s_request_json (self_t *self, uint64_t k, s_action_t action)
{
    cJSON *json = cJSON_CreateObject ();
    if (action == S_HEALTH) {
        if (self->options->nodes)
            cJSON_AddStringToObject (json, "type", "ping");
        else
            cJSON_AddStringToObject (json, "action", "health");
    }
    else
    if (action == S_SUBMIT_TX) {
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
s_prepare (self_t *self, uint64_t until)
{
    if (until > self->request_alloc) {
        uint64_t alloc = self->request_alloc? self->request_alloc: 1024;
        while (alloc < until)
            alloc *= 2;
        s_request_t *requests = (s_request_t *) realloc (self->requests,
                                                         alloc * sizeof (s_request_t));
        if (!requests)
            return -1;
        self->requests = requests;
        self->request_alloc = alloc;
    }
    while (self->request_count < until) {
        uint64_t k = self->request_count;
        s_request_t *request = &self->requests [k];
        memset (request, 0, sizeof *request);
        request->started = -1;
        request->action = (uint8_t) s_next_action (self);
        request->offset = zchunk_size (self->frames);
        int rc = 0;
        if (self->options->redis) {
            //  The same client code, speaking RESP: *1 $4 PING
            request->action = S_HEALTH;
            zchunk_extend (self->frames, "*1\r\n$4\r\nPING\r\n", 14);
        }
        else {
            cJSON *json = s_request_json (self, k, (s_action_t) request->action);
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
//  Clients

//  Puts a client with nothing outstanding at the end of the idle queue.
static void
s_idle_push (self_t *self, s_client_t *client)
{
    if (client->queued)
        return;
    size_t size = self->options->clients;
    self->idle [(self->idle_head + self->idle_count) % size] = client->index;
    self->idle_count++;
    client->queued = true;
}

//  Takes the client that has been idle longest, or NULL.
static s_client_t *
s_idle_pop (self_t *self)
{
    if (self->idle_count == 0)
        return NULL;
    s_client_t *client = &self->clients [self->idle [self->idle_head]];
    self->idle_head = (self->idle_head + 1) % self->options->clients;
    self->idle_count--;
    client->queued = false;
    return client;
}

//  Closes a client's connection; it will reconnect for its next request.
static void
s_client_close (self_t *self, s_client_t *client)
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
s_client_watch (self_t *self, s_client_t *client, int op)
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
static int
s_client_open (self_t *self, s_client_t *client, int64_t now)
{
    client->fd = s_connect_start (client->target);
    if (client->fd < 0)
        return -1;
    client->connecting = true;
    client->deadline = now + (int64_t) (self->options->connect_timeout * 1e6);
    client->codec = zc_codec_new (S_REPLY_MAX);
    zc_codec_set_framing (client->codec, self->options->redis? ZC_FRAMING_LINE:
                                                               ZC_FRAMING_LENGTH);
    s_client_watch (self, client, EPOLL_CTL_ADD);
    return 0;
}

//  The client is done with its request: keep-alive keeps the link,
//  per-request closes it; the client goes back to the idle queue.
static void
s_client_free (self_t *self, s_client_t *client, bool keep_link)
{
    if (client->request >= 0) {
        client->request = -1;
        self->outstanding--;
    }
    if (!keep_link || self->options->per_request)
        s_client_close (self, client);
    else
    if (client->fd >= 0)
        s_client_watch (self, client, EPOLL_CTL_MOD);
    s_idle_push (self, client);
}

//  Fails the client's request with a reason and drops its connection
//  (a late reply would be taken for the next request's).
static void
s_client_fail (self_t *self, s_client_t *client, const char *reason)
{
    if (client->request >= 0) {
        s_request_t *request = &self->requests [client->request];
        zc_report_failed (self->report, s_action_names [request->action], self->now, reason);
    }
    s_client_free (self, client, false);
}

//  Writes what is left of the request's frame.  0, or -1 after failing
//  the request.
static int
s_client_flush (self_t *self, s_client_t *client)
{
    s_request_t *request = &self->requests [client->request];
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
            s_client_fail (self, client, reason);
            return -1;
        }
    }
    s_client_watch (self, client, EPOLL_CTL_MOD);
    return 0;
}

//  Sends request k on a client, lag after its due time: connects first if
//  the client has no connection.
static void
s_client_send (self_t *self, s_client_t *client, uint64_t k, int64_t lag)
{
    s_request_t *request = &self->requests [k];
    client->request = (int64_t) k;
    client->written = 0;
    client->started = self->now;
    request->started = self->now;
    self->outstanding++;
    zc_report_sent (self->report, s_action_names [request->action], self->now, lag);
    if (client->fd < 0 && s_client_open (self, client, self->now)) {
        char reason [96];
        snprintf (reason, sizeof reason, "connect: %s", strerror (errno));
        s_client_fail (self, client, reason);
        return;
    }
    if (!client->connecting) {
        client->deadline = self->now + (int64_t) (self->options->timeout * 1e6);
        s_client_flush (self, client);
    }
}

//  A connect finished (writable): check it worked, then send.
static void
s_client_connected (self_t *self, s_client_t *client)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt (client->fd, SOL_SOCKET, SO_ERROR, &error, &length) || error) {
        char reason [96];
        snprintf (reason, sizeof reason, "connect: %s", strerror (error? error: errno));
        if (client->request >= 0)
            s_client_fail (self, client, reason);
        else
            s_client_close (self, client);
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

//  Number member of a JSON object, or -1.
static double
s_number (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsNumber (item)? item->valuedouble: -1;
}

//  String member of a JSON object, or NULL.
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

static void s_confirm (self_t *self, uint64_t k, int64_t first, int64_t last, uint64_t nodes);

//  Counts a transaction as settled once it is both acknowledged and
//  confirmed by every node; the drain waits for all of them.
static void
s_settle (self_t *self, s_request_t *request)
{
    if (request->acked && request->confirmed_all && request->action != S_HEALTH)
        self->tx_settled++;
}

//  A purchase's reply named its transaction: match it to confirmations
//  that came before the reply did.
static void
s_learn_id (self_t *self, uint64_t k, const char *tx_id)
{
    s_request_t *request = &self->requests [k];
    if (!tx_id || !zc_hash_valid (tx_id) || request->id_known)
        return;
    request->id_known = true;
    zhashx_insert (self->ids, tx_id, (void *) (uintptr_t) (k + 1));
    s_early_t *early = (s_early_t *) zhashx_lookup (self->early, tx_id);
    if (early) {
        s_confirm (self, k, early->first, early->last, early->nodes);
        zhashx_delete (self->early, tx_id);
    }
}

//  One reply on a client's connection: judges it by the action, records
//  latency or the failure reason.
static void
s_client_reply (self_t *self, s_client_t *client, const char *data, size_t size)
{
    if (client->request < 0) {
        self->unexpected++;
        return;
    }
    uint64_t k = (uint64_t) client->request;
    s_request_t *request = &self->requests [k];
    const char *action = s_action_names [request->action];
    cJSON *reply = self->options->redis? NULL: zc_json_parse (data, size);
    const char *status = s_string (reply, "status");
    const char *type = s_string (reply, "type");
    bool ok;
    if (self->options->redis)
        ok = size == 5 && memcmp (data, "+PONG", 5) == 0;
    else
    if (self->options->nodes)
        ok = type && streq (type, request->action == S_HEALTH? "pong": "MINING_STARTED");
    else
        ok = status && streq (status, request->action == S_HEALTH? "ok":
                              request->action == S_SUBMIT_TX? "broadcast": "submitted");
    if (ok) {
        zc_report_succeeded (self->report, action, self->now, self->now - client->started);
        double total = s_number (reply, "total_nodes");
        double reached = s_number (reply, "nodes_reached");
        if (total > 0 && total <= S_MAX_NODES && (size_t) total > self->total_nodes)
            self->total_nodes = (size_t) total;
        if (total > 0 && reached >= 0 && reached < total)
            self->partial++;
        if (request->action == S_SUBMIT_PURCHASE) {
            const cJSON *transaction = cJSON_GetObjectItemCaseSensitive (reply, "transaction");
            const char *id = s_string (transaction, "id");
            s_learn_id (self, k, id? id: s_string (reply, "tx_id"));
        }
        if (request->action != S_HEALTH) {
            request->acked = true;
            self->tx_acked++;
            //  Every node may have confirmed it before the count was known
            if (!request->confirmed_all && request->nodes && self->total_nodes
            &&  (size_t) __builtin_popcountll (request->nodes) >= self->total_nodes) {
                request->confirmed_all = true;
                zc_report_confirmed (self->report, action, self->now,
                                     self->now - request->started, true);
            }
            s_settle (self, request);
        }
        cJSON_Delete (reply);
        s_client_free (self, client, true);
        return;
    }
    char reason [200];
    const char *error = s_string (reply, "error");
    const char *message = s_string (reply, "message");
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
s_client_read (self_t *self, s_client_t *client)
{
    char buffer [S_READ_SIZE];
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
                s_client_fail (self, client, reason);
            else
                s_client_close (self, client);
            return;
        }
        if (zc_codec_feed (client->codec, buffer, (size_t) rc)) {
            s_client_fail (self, client, "bad reply framing");
            return;
        }
        const char *data;
        size_t size;
        int next = 0;
        while (client->codec && (next = zc_codec_next (client->codec, &data, &size)) == 1)
            s_client_reply (self, client, data, size);
        if (client->codec && next < 0) {
            s_client_fail (self, client, "bad reply framing");
            return;
        }
    }
}

//  An event on a client's socket.
static void
s_client_event (self_t *self, s_client_t *client, uint32_t events)
{
    if (client->fd < 0)
        return;
    if (client->connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            s_client_connected (self, client);
        return;
    }
    if (events & EPOLLOUT && client->request >= 0
    &&  client->written < self->requests [client->request].size)
        if (s_client_flush (self, client))
            return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        s_client_read (self, client);
}

//  ---------------------------------------------------------------------
//  Confirmations

//  The bit of a node id, learnt on first sight; -1 past S_MAX_NODES.
static int
s_node_bit (self_t *self, const char *node_id)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (streq (self->node_ids [i], node_id))
            return (int) i;
    if (self->node_count == S_MAX_NODES)
        return -1;
    snprintf (self->node_ids [self->node_count], sizeof self->node_ids [0], "%s", node_id);
    return (int) self->node_count++;
}

//  Nodes confirmed request k (first and last: when, in usecs): records
//  the latency to the first node, and to every node once all have.
static void
s_confirm (self_t *self, uint64_t k, int64_t first, int64_t last, uint64_t nodes)
{
    s_request_t *request = &self->requests [k];
    if (request->started < 0 || (nodes & ~request->nodes) == 0)
        return;
    const char *action = s_action_names [request->action];
    if (request->nodes == 0)
        zc_report_confirmed (self->report, action, first, first - request->started, false);
    request->nodes |= nodes;
    if (!request->confirmed_all && self->total_nodes
    &&  (size_t) __builtin_popcountll (request->nodes) >= self->total_nodes) {
        request->confirmed_all = true;
        zc_report_confirmed (self->report, action, last, last - request->started, true);
        s_settle (self, request);
    }
}

//  One notice line from the gateway.
static void
s_notice (self_t *self, const char *data, size_t size)
{
    cJSON *notice = zc_json_parse (data, size);
    const char *type = s_string (notice, "type");
    const char *node_id = s_string (notice, "node_id");
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
                s_confirm (self, found - 1, self->now, self->now, mask);
                continue;
            }
            //  Maybe a purchase whose reply has not come yet
            s_early_t *early = (s_early_t *) zhashx_lookup (self->early, item->valuestring);
            if (!early && zhashx_size (self->early) < S_MAX_EARLY
            &&  self->options->weights [S_SUBMIT_PURCHASE] > 0) {
                early = (s_early_t *) zmalloc (sizeof (s_early_t));
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
static void
s_notify_close (self_t *self, s_notify_t *notify)
{
    epoll_ctl (self->epoll, EPOLL_CTL_DEL, notify->fd, NULL);
    close (notify->fd);
    zc_codec_destroy (&notify->codec);
    zlistx_delete (self->notifies, notify->handle);
    free (notify);
}

//  Accepts every pending notice connection.
static void
s_notify_accept (self_t *self)
{
    while (true) {
        int fd = accept4 (self->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (zlistx_size (self->notifies) >= S_MAX_NOTIFY) {
            close (fd);
            continue;
        }
        s_notify_t *notify = (s_notify_t *) zmalloc (sizeof (s_notify_t));
        notify->kind = S_KIND_NOTIFY;
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
static void
s_notify_read (self_t *self, s_notify_t *notify)
{
    char buffer [S_READ_SIZE];
    while (true) {
        ssize_t rc = recv (notify->fd, buffer, sizeof buffer, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (rc <= 0) {
            s_notify_close (self, notify);      //  end of the notice, or a reset
            return;
        }
        if (zc_codec_feed (notify->codec, buffer, (size_t) rc)) {
            self->bad_notices++;
            s_notify_close (self, notify);
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
            s_notify_close (self, notify);
            return;
        }
    }
}

//  ---------------------------------------------------------------------
//  The run

//  Clock usecs since t0.
static int64_t
s_now (self_t *self)
{
    return zc_clock_usecs () - self->t0;
}

//  Makes the requests the run will send before the clock starts.  0 or -1.
static int
s_prepare_all (self_t *self)
{
    s_options_t *options = self->options;
    int64_t duration = (int64_t) (options->duration * 1e6);
    int64_t ramp = (int64_t) (options->ramp * 1e6);
    if (options->count)
        self->planned = options->count;
    else
    if (options->rate > 0)
        self->planned = zc_report_due (options->rate, ramp, duration - 1);
    //  Everything planned, or for a closed loop with a duration (nothing
    //  planned) a default batch; --prepare lowers the first, sets the second
    uint64_t prepare = self->planned? self->planned: S_CLOSED_PREPARE;
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
static size_t
s_connect_all (self_t *self)
{
    size_t clients = self->options->clients;
    int64_t start = s_now (self);
    int64_t deadline = start + (int64_t) (self->options->connect_timeout * 1e6);
    size_t connecting = 0;
    char reason [128] = "";
    for (size_t i = 0; i < clients; i++) {
        s_client_t *client = &self->clients [i];
        if (s_client_open (self, client, start) == 0)
            connecting++;
        else
        if (!*reason)
            snprintf (reason, sizeof reason, "%s", strerror (errno));
    }
    struct epoll_event events [S_MAX_EVENTS];
    while (connecting > 0 && !s_interrupted) {
        int64_t now = s_now (self);
        if (now >= deadline)
            break;
        int count = epoll_wait (self->epoll, events, S_MAX_EVENTS,
                                (int) ((deadline - now + 999) / 1000));
        for (int i = 0; i < count; i++) {
            s_client_t *client = (s_client_t *) events [i].data.ptr;
            if (client->kind != S_KIND_CLIENT || !client->connecting)
                continue;
            connecting--;
            s_client_connected (self, client);
            if (client->fd < 0 && !*reason)
                snprintf (reason, sizeof reason, "connect failed");
        }
    }
    size_t connected = 0;
    for (size_t i = 0; i < clients; i++) {
        s_client_t *client = &self->clients [i];
        if (client->connecting) {
            s_client_close (self, client);
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
s_request_available (self_t *self)
{
    if (self->next < self->request_count)
        return true;
    if (self->planned)
        return false;
    uint64_t before = self->request_count;
    if (s_prepare (self, self->request_count + S_PREPARE_BATCH))
        return false;
    self->signed_late += self->request_count - before;
    //  s_prepare may move the requests: clients hold indexes, not pointers
    return self->next < self->request_count;
}

//  Sends what is due now: by the schedule (open loop) or to every idle
//  client (closed loop), and moves to draining when sending is over.
static void
s_send_due (self_t *self)
{
    s_options_t *options = self->options;
    int64_t ramp = (int64_t) (options->ramp * 1e6);
    int64_t duration = (int64_t) (options->duration * 1e6);
    if (options->rate > 0) {
        uint64_t due = zc_report_due (options->rate, ramp, self->now);
        if (self->planned && due > self->planned)
            due = self->planned;
        while (self->next < due) {
            uint64_t k = self->next++;
            int64_t lag = self->now - zc_report_schedule (options->rate, ramp, k);
            s_client_t *client = s_idle_pop (self);
            if (client)
                s_client_send (self, client, k, lag);
            else {
                char reason [96];
                snprintf (reason, sizeof reason, "all %zu clients busy (a reply outstanding "
                          "on each)", options->clients);
                zc_report_skipped (self->report, s_action_names [self->requests [k].action],
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
            s_idle_push (self, &self->clients [self->released++]);
        //  Each client sends at most once a pass, so one whose connect fails
        //  at once waits for the next pass instead of spinning
        bool in_time = duration == 0 || self->now < duration;
        size_t pass = self->idle_count;
        while (in_time && pass-- > 0 && s_request_available (self)) {
            s_client_t *client = s_idle_pop (self);
            s_client_send (self, client, self->next++, 0);
        }
    }
    bool over = self->planned? self->next >= self->planned: self->now >= duration;
    if (over || s_interrupted) {
        self->phase = S_DRAINING;
        self->drain_deadline = self->now + (int64_t) (self->options->grace * 1e6);
    }
}

//  Fails requests whose connect or reply is overdue; closes notice
//  connections left idle.
static void
s_check_deadlines (self_t *self)
{
    for (size_t i = 0; i < self->options->clients; i++) {
        s_client_t *client = &self->clients [i];
        if (client->request >= 0 && self->now >= client->deadline)
            s_client_fail (self, client, client->connecting? "connect timed out":
                                                              "reply timed out");
        else
        if (client->request < 0 && client->connecting && self->now >= client->deadline)
            s_client_close (self, client);
    }
    s_notify_t *notify = (s_notify_t *) zlistx_first (self->notifies);
    while (notify) {
        s_notify_t *next = (s_notify_t *) zlistx_next (self->notifies);
        if (self->now - notify->last > (int64_t) S_NOTIFY_IDLE_MS * 1000)
            s_notify_close (self, notify);
        notify = next;
    }
}

//  True once the drain has nothing more to wait for.
static bool
s_drained (self_t *self)
{
    if (self->outstanding > 0)
        return false;
    if (self->listener < 0)
        return true;
    return self->tx_settled >= self->tx_acked;
}

//  The live progress line on a terminal.
static void
s_progress (self_t *self, bool last)
{
    int64_t interval = self->now - self->last_progress;
    if (!self->progress || (!last && interval < (int64_t) S_PROGRESS_MS * 1000))
        return;
    uint64_t sent = zc_report_count (self->report, NULL, ZC_REPORT_SENT);
    double rate = interval > 0? (double) (sent - self->progress_sent) * 1e6 / (double) interval: 0;
    fprintf (stderr, "\r%7.1fs %-8s sent %" PRIu64 "  ok %" PRIu64 "  failed %" PRIu64
             "  skipped %" PRIu64 "  waiting %" PRIu64 "  %.0f/s",
             (double) self->now / 1e6, self->phase == S_SENDING? "sending": "draining", sent,
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
s_wait_ms (self_t *self)
{
    s_options_t *options = self->options;
    int64_t wait = S_TICK_MS * 1000;
    if (self->phase == S_SENDING) {
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
    if (wait > S_TICK_MS * 1000)
        wait = S_TICK_MS * 1000;
    return wait <= 0? 0: (int) ((wait + 999) / 1000);
}

//  The event loop, from clock start to the end of the drain.
static void
s_run (self_t *self)
{
    struct epoll_event events [S_MAX_EVENTS];
    int64_t next_check = 0;
    self->t0 = zc_clock_usecs ();
    self->now = 0;
    //  Open loop: every client is ready at once (closed loop: see ramp)
    for (size_t i = 0; i < self->options->clients && self->options->rate > 0; i++)
        s_idle_push (self, &self->clients [i]);
    while (self->phase != S_DONE) {
        self->now = s_now (self);
        if (self->phase == S_SENDING)
            s_send_due (self);
        if (self->now >= next_check) {
            s_check_deadlines (self);
            next_check = self->now + S_TICK_MS * 1000;
        }
        if (self->phase == S_DRAINING
        && (s_drained (self) || self->now >= self->drain_deadline || s_interrupted > 1))
            self->phase = S_DONE;
        s_progress (self, self->phase == S_DONE);
        if (self->phase == S_DONE)
            break;
        int count = epoll_wait (self->epoll, events, S_MAX_EVENTS, s_wait_ms (self));
        self->now = s_now (self);
        for (int i = 0; i < count; i++) {
            s_kind_t *kind = (s_kind_t *) events [i].data.ptr;
            if (*kind == S_KIND_CLIENT)
                s_client_event (self, (s_client_t *) kind, events [i].events);
            else
            if (*kind == S_KIND_LISTENER)
                s_notify_accept (self);
            else
                s_notify_read (self, (s_notify_t *) kind);
        }
    }
    zc_report_set_elapsed (self->report, self->now);
}

//  Notes what the run saw beyond the counters.
static void
s_notes (self_t *self)
{
    s_options_t *options = self->options;
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
s_describe (self_t *self)
{
    s_options_t *options = self->options;
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
    for (size_t action = 0; action < S_ACTIONS; action++)
        if (options->weights [action])
            snprintf (text + strlen (text), sizeof text - strlen (text), "%s%s=%u",
                      *text? ",": "", s_action_names [action], options->weights [action]);
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
s_write_reports (self_t *self)
{
    s_options_t *options = self->options;
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
s_self_destroy (self_t *self)
{
    for (size_t i = 0; self->clients && i < self->options->clients; i++)
        s_client_close (self, &self->clients [i]);
    s_notify_t *notify;
    while (self->notifies && (notify = (s_notify_t *) zlistx_first (self->notifies)))
        s_notify_close (self, notify);
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
    s_options_t options;
    int rc = s_parse_options (&options, argc, argv);
    if (rc) {
        if (rc == 1)
            s_usage (stdout);
        free (options.mix);
        return rc == 1? 0: 2;
    }
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);

    self_t self;
    memset (&self, 0, sizeof self);
    self.options = &options;
    self.listener = -1;
    self.epoll = -1;
    self.listener_kind = S_KIND_LISTENER;
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
        s_target_t *target = &self.targets [self.target_count++];
        target->address = options.addresses [i];
        if (s_resolve (target->address, &target->addr, &target->addr_len))
            goto done;
    }
    self.total_nodes = options.nodes? self.target_count: 0;
    if (s_raise_fd_limit (options.clients + S_EXTRA_FDS + (options.notify? S_MAX_NOTIFY: 0)))
        goto done;
    for (size_t i = 0; i < self.target_count; i++)
        if (s_preflight (&self.targets [i], (int) (options.connect_timeout * 1000)))
            goto done;
    self.epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (self.epoll < 0) {
        fprintf (stderr, "zchain-load: epoll_create1: %s\n", strerror (errno));
        goto done;
    }
    if (options.notify) {
        self.listener = s_listen (options.notify);
        if (self.listener < 0)
            goto done;
        struct epoll_event event;
        memset (&event, 0, sizeof event);
        event.events = EPOLLIN;
        event.data.ptr = &self.listener_kind;
        epoll_ctl (self.epoll, EPOLL_CTL_ADD, self.listener, &event);
    }
    self.clients = (s_client_t *) zmalloc (options.clients * sizeof (s_client_t));
    self.idle = (uint32_t *) zmalloc (options.clients * sizeof (uint32_t));
    for (size_t i = 0; i < options.clients; i++) {
        s_client_t *client = &self.clients [i];
        client->kind = S_KIND_CLIENT;
        client->fd = -1;
        client->index = (uint32_t) i;
        client->request = -1;
        client->target = &self.targets [i % self.target_count];
    }
    if (s_prepare_all (&self)) {
        fprintf (stderr, "zchain-load: cannot prepare the requests (out of memory?)\n");
        goto done;
    }
    if (!options.per_request) {
        self.t0 = zc_clock_usecs ();
        if (s_connect_all (&self) == 0)
            goto done;
    }
    s_run (&self);
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
