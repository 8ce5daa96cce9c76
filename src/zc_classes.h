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
//  (END zc_report)

//  Logging that honours zchaind -v.
extern bool zc_verbose;
#define zc_debug(...) do { if (zc_verbose) zsys_debug (__VA_ARGS__); } while (0)

#endif
