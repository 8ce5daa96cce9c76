/*  =========================================================================
    zc_classes.h - private header of libzchain: config, actors and roles

    The pure pieces are public, in include/zchain.h.  This header adds
    what only zchaind and the tests inside this tree use: the parsed
    config, the actors a node is made of, and the roles that start them.

    How a node is wired (each box one actor, one source file):

        TCP <-> bridge <-PAIR-> listener <-PAIR-> validator -pipe-> miner
                                                     |pipe
                                                  writer --PUB--> notifier

    The bridge owns every socket and speaks zmsg; the listener dispatches
    by message type; the validator owns the chain and the mempool; the
    miner pool hashes; the ledger writer owns the SQLite file and
    publishes what it commits; the notifier tells the outside world.
    =========================================================================
*/

#ifndef ZC_CLASSES_H_INCLUDED
#define ZC_CLASSES_H_INCLUDED

#include "zchain.h"
#include <inttypes.h>
#include <assert.h>

//  =========================================================================
//  zc_config - a deployment described in one ZPL file
//  =========================================================================

//  One node instance, with the network-wide settings copied in, so an
//  actor never touches the zconfig tree.
typedef struct {
    char *name;                 //  instance name, e.g. "n1"
    char *host;                 //  address to listen on
    int port;                   //  port to listen on
    char *data;                 //  data folder: ledger, key, node_id
    int difficulty;             //  leading '0' hex digits of a block hash
    size_t max_block_txs;       //  transactions per block, at most
    bool verify_txs;            //  tx_policy = verify
    size_t max_message;         //  largest message accepted, bytes
    size_t max_mempool;         //  transactions waiting, at most
    int miner_threads;          //  hashing threads (0: one per core)
    char **peers;               //  "host:port" of the other nodes
    size_t peer_count;          //  how many
    char *gateway;              //  "host:port" of the gateway, or NULL
    char node_id [40];          //  set by the node role at start
} zc_node_config_t;

//  The gateway or the server instance of a deployment.
typedef struct {
    char *name;                 //  "gateway" or "server"
    char *host;                 //  address to listen on
    int port;                   //  port to listen on
    char *data;                 //  data folder: gateway key, market.sqlite3
    char **nodes;               //  gateway: every node's "host:port"
    size_t node_count;          //  how many
    char *server;               //  gateway: the server's "host:port", or NULL
    bool verify_txs;            //  tx_policy = verify
    size_t max_message;         //  largest message accepted, bytes
    size_t max_queue;           //  gateway: confirmations held for the server
} zc_service_config_t;

typedef struct _zc_config_t zc_config_t;

//  Loads and checks a config file.  NULL on any problem, with *error_p a
//  message naming file, key and problem (caller frees).
zc_config_t *zc_config_load (const char *path, char **error_p);
void zc_config_destroy (zc_config_t **self_p);

//  Number of instances and the name of each, in file order.
size_t zc_config_size (zc_config_t *self);
const char *zc_config_name (zc_config_t *self, size_t index);

//  The node config of an instance, or NULL if it is not a node (borrowed).
zc_node_config_t *zc_config_node (zc_config_t *self, const char *name);

//  The gateway or server config of an instance, or NULL (borrowed).
zc_service_config_t *zc_config_service (zc_config_t *self, const char *name);

//  =========================================================================
//  zc_market - the reference marketplace's record of confirmations
//  =========================================================================

typedef struct _zc_market_t zc_market_t;

//  Opens or creates market.sqlite3; NULL with *error_p (caller frees).
zc_market_t *zc_market_open (const char *path, char **error_p);
void zc_market_destroy (zc_market_t **self_p);

//  Records a block_confirmation or block_rollback notice.  0 or -1.
int zc_market_record (zc_market_t *self, const cJSON *notice);

//  New {"type":"confirmation", ...} answer for a transaction id.
cJSON *zc_market_lookup (zc_market_t *self, const char *tx_id);

//  =========================================================================
//  Actors.  Each is `void fn (zsock_t *pipe, void *args)` for zactor_new;
//  the pipe protocol is documented at the top of each source file.
//  =========================================================================

//  Endpoint of an actor's inproc socket for the node instance `name`.
//  Caller frees.
char *zc_endpoint (const char *role, const char *name);

//  bridge: raw framed TCP <-> zmsg.  args: const char * instance name.
void zc_bridge_actor (zsock_t *pipe, void *args);

//  Opens a bridge's listening port; -1 with the reason logged.
int zc_bridge_bind (zactor_t *bridge, const char *name, const char *host, int port,
                    size_t max_message);

//  The bridge's link protocol, for the actors behind a bridge (see
//  zc_bridge.c): an inproc PAIR bound or connected at zc_endpoint (role,
//  name), answers, and receiving one MSG.
zsock_t *zc_link_new (const char *role, const char *name, bool bind);
void zc_link_reply (zsock_t *link, uint32_t conn, cJSON *reply);
void zc_link_done (zsock_t *link, uint32_t conn);
void zc_link_error (zsock_t *link, uint32_t conn, const char *reason, bool close);
int zc_link_recv (zsock_t *link, uint32_t *conn_p, char **address_p, zframe_t **body_p,
                  char **command_p, zmsg_t **rest_p);
typedef void (zc_link_msg_fn) (void *arg, uint32_t conn, const char *address,
                               const char *data, size_t size);
void zc_link_dispatch (zsock_t *link, zc_link_msg_fn *handler, void *arg);

//  listener: dispatches messages by type.  args: zc_node_config_t *.
void zc_listener_actor (zsock_t *pipe, void *args);

//  validator: chain, mempool, mining jobs.  args: zc_node_config_t *.
void zc_validator_actor (zsock_t *pipe, void *args);

//  miner pool: hashing threads.  args: int * thread count (0: cores).
void zc_miner_actor (zsock_t *pipe, void *args);

//  ledger writer: the SQLite file.  args: const char * instance name.
void zc_writer_actor (zsock_t *pipe, void *args);

//  notifier: tells others of committed blocks.  args: zc_node_config_t *.
void zc_notifier_actor (zsock_t *pipe, void *args);

//  gateway: client requests, broadcast, confirmations.
//  args: zc_service_config_t *.
void zc_gateway_actor (zsock_t *pipe, void *args);

//  server: the reference marketplace sink.  args: zc_service_config_t *.
void zc_server_actor (zsock_t *pipe, void *args);

//  =========================================================================
//  zc_node - the node role: starts a node's actors from its config
//  =========================================================================

typedef struct _zc_node_t zc_node_t;

//  Starts a node; NULL with a logged reason if it cannot (bad data folder,
//  port in use, unreadable ledger).  Borrows config until destroyed.
zc_node_t *zc_node_new (zc_node_config_t *config);
void zc_node_destroy (zc_node_t **self_p);

//  =========================================================================
//  zc_service - the gateway and server roles: a bridge and their actor
//  =========================================================================

typedef struct _zc_service_t zc_service_t;

//  Starts the gateway or server instance; NULL with a logged reason.
zc_service_t *zc_service_new (zc_service_config_t *config);
void zc_service_destroy (zc_service_t **self_p);

//  =========================================================================
//  zc_report - load-test statistics (BEGIN zc_report: owned by zchain-load)
//  =========================================================================
//  What zchain-load measures, kept apart from its sockets so that it can
//  be unit-tested: counters by action and by failure reason, exact latency
//  percentiles, a time-bucketed series, the open-loop send schedule, and
//  the report as JSON, CSV and one self-contained HTML page.  Every time
//  is in microseconds since the run's clock started.

typedef struct _zc_report_t zc_report_t;

//  Latencies kept for every action
typedef enum {
    ZC_REPORT_ACK = 0,              //  request sent to its reply
    ZC_REPORT_CONFIRM_FIRST = 1,    //  sent to the first node's confirmation
    ZC_REPORT_CONFIRM_ALL = 2,      //  sent to the last node's confirmation
    ZC_REPORT_METRICS = 3           //  how many
} zc_report_metric_t;

//  Counters kept for every action
typedef enum {
    ZC_REPORT_SENT = 0,             //  requests sent
    ZC_REPORT_SUCCEEDED = 1,        //  replies that said yes
    ZC_REPORT_FAILED = 2,           //  error replies, timeouts, lost links
    ZC_REPORT_SKIPPED = 3,          //  scheduled sends not made
    ZC_REPORT_CONFIRMED_FIRST = 4,  //  transactions confirmed by one node
    ZC_REPORT_CONFIRMED_ALL = 5,    //  transactions confirmed by every node
    ZC_REPORT_LATE = 6,             //  sends later than the late threshold
    ZC_REPORT_COUNTERS = 7          //  how many
} zc_report_counter_t;

//  New report whose time series has buckets of bucket_usecs (0: 1 s).
zc_report_t *zc_report_new (int64_t bucket_usecs);
void zc_report_destroy (zc_report_t **self_p);

//  Describes the run (target, clients, rate...): the "config" of the report.
void zc_report_set_text (zc_report_t *self, const char *name, const char *value);
void zc_report_set_number (zc_report_t *self, const char *name, double value);

//  Adds a free-text note, e.g. why the target rate was not kept.
void zc_report_note (zc_report_t *self, const char *format, ...) CHECK_PRINTF (2);

//  The open-loop target (0: closed loop) and how late a send may be
//  before it counts as late.
void zc_report_set_target (zc_report_t *self, double rate, int64_t late_usecs);

//  How long the run took, clock start to the end of the drain.
void zc_report_set_elapsed (zc_report_t *self, int64_t usecs);

//  Events.  action names the request kind ("health"...); lag is how long
//  after its scheduled time a send went out (0 in closed loop).
void zc_report_sent (zc_report_t *self, const char *action, int64_t at, int64_t lag);
void zc_report_succeeded (zc_report_t *self, const char *action, int64_t at,
                          int64_t latency);
void zc_report_failed (zc_report_t *self, const char *action, int64_t at,
                       const char *reason);
void zc_report_skipped (zc_report_t *self, const char *action, int64_t at,
                        const char *reason);
void zc_report_confirmed (zc_report_t *self, const char *action, int64_t at,
                          int64_t latency, bool all_nodes);

//  A counter for one action, or summed over all of them (action NULL).
uint64_t zc_report_count (zc_report_t *self, const char *action,
                          zc_report_counter_t counter);

//  Failures (or, with skipped, skips) recorded with exactly this reason.
uint64_t zc_report_reason_count (zc_report_t *self, const char *reason, bool skipped);

//  Nearest-rank percentile (0 to 100) of a latency, in usecs, for one
//  action or all (NULL); -1 if there is no sample.
int64_t zc_report_percentile (zc_report_t *self, const char *action,
                              zc_report_metric_t metric, double percent);

//  Nearest-rank percentile of send lag, in usecs; -1 if no send.
int64_t zc_report_lag_percentile (zc_report_t *self, double percent);

//  Caliper's arithmetic: sent / (last send - first send); succeeded /
//  (last reply - first send); confirmed by every node (or first, if
//  all_nodes is false) / (last such confirmation - first send).  Per
//  second; 0 when the span is empty.
double zc_report_send_rate (zc_report_t *self);
double zc_report_throughput (zc_report_t *self);
double zc_report_confirm_rate (zc_report_t *self, bool all_nodes);

//  True unless an open-loop run sent late or skipped sends.
bool zc_report_rate_kept (zc_report_t *self);

//  Open-loop schedule: when send k (from 0) is due, in usecs, for a total
//  rate per second reached by a linear ramp from 0 over ramp_usecs.
int64_t zc_report_schedule (double rate, int64_t ramp_usecs, uint64_t k);

//  How many sends are due by time at: every k below it has
//  zc_report_schedule (k) <= at.
uint64_t zc_report_due (double rate, int64_t ramp_usecs, int64_t at);

//  The whole report as JSON (fields in zc_report.c); caller owns it.
cJSON *zc_report_json (zc_report_t *self);

//  The summary table, as printed at the end of a run.  Caller frees.
char *zc_report_text (zc_report_t *self);

//  Writes the report to a file: JSON, CSV (one row per action and one
//  for all), or an HTML page with the tables and inline SVG charts.
int zc_report_write_json (zc_report_t *self, const char *path);
int zc_report_write_csv (zc_report_t *self, const char *path);
int zc_report_write_html (zc_report_t *self, const char *path);
//  (END zc_report)

//  Logging that honours zchaind -v.
extern bool zc_verbose;
#define zc_debug(...) do { if (zc_verbose) zsys_debug (__VA_ARGS__); } while (0)

#endif
