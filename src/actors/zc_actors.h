/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_actors.h - the actors a node, the gateway and the server are made of

    Each actor is `void fn (zsock_t *pipe, void *args)` for zactor_new, one
    source file in src/actors/, its pipe protocol documented at the top of
    that file.  Actors use only the library (include/zchain.h); the roles
    above them (src/roles/) start and wire them.

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

#ifndef ZC_ACTORS_H_INCLUDED
#define ZC_ACTORS_H_INCLUDED

#include "zchain.h"
#include <inttypes.h>
#include <assert.h>
#include <stdatomic.h>

//  =========================================================================
//  Settings an actor is started with (read from the config file by the
//  roles, copied here so that no actor touches the zconfig tree)
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
    int block_interval;         //  msecs after a block before mining the next
    bool verify_txs;            //  tx_policy = verify
    size_t max_message;         //  largest message accepted, bytes
    size_t max_mempool;         //  transactions waiting, at most
    int miner_threads;          //  hashing threads (0: one per core)
    int miner_kernel;           //  ZC_POW_... kernel, -1: the fastest the CPU has
    char **peers;               //  "host:port" of the other nodes
    size_t peer_count;          //  how many
    char *gateway;              //  "host:port" of the gateway, or NULL
    char node_id [40];          //  set by the node role at start
    //  Issue 9: identities
    char *file;                 //  the config file, for messages
    char *pinned_key;           //  node/NAME/key, or NULL
    char public_key [64];       //  base64 of node.key's public key, set at start
    bool permissioned;          //  network/permissioned = yes
    char **miner_keys;          //  permissioned: keys that may sign blocks
    size_t miner_key_count;     //  how many
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
    //  Issue 9: the file's nodes, whose notices alone count
    char **node_names;          //  name of each of the first node_count nodes
    char **node_keys;           //  its pinned key, or NULL
    size_t file_node_count;     //  how many nodes the file names
    char **allow;               //  gateway/allow: client CIDRs served
    size_t allow_count;         //  how many
    //  Issue 11: set by the gateway while past capacity, read by its
    //  bridge's quick answers (the one value the two threads share), or
    //  NULL; owned by the service role
    atomic_bool *busy;
} zc_service_config_t;

//  =========================================================================
//  The link (zc_link.c): endpoints and the bridge's link protocol
//  =========================================================================

//  Endpoint of an actor's inproc socket for the node instance `name`.
//  Caller frees.
char *zc_endpoint (const char *role, const char *name);

//  bridge: raw framed TCP <-> zmsg.  args: const char * instance name.
void zc_bridge_actor (zsock_t *pipe, void *args);

//  A request the bridge may answer on its own thread: the reply (a static
//  string, framed by the bridge), or NULL to hand the request on.  Called
//  on the bridge's thread: it may read only what no thread changes.
typedef const char *(zc_bridge_quick_fn) (void *arg, const char *address,
                                         const char *data, size_t size);
//  Gives a bridge its quick answers (before it binds).
void zc_bridge_set_quick (zactor_t *bridge, zc_bridge_quick_fn *quick, void *arg);

//  Opens a bridge's listening port; -1 with the reason logged.
int zc_bridge_bind (zactor_t *bridge, const char *name, const char *host, int port,
                    size_t max_message);

//  The bridge's link protocol (see zc_bridge.c), typed (zc_link.c): an
//  inproc PAIR bound or connected at zc_endpoint (role, name).
zsock_t *zc_link_new (const char *role, const char *name, bool bind);
//  A bridge's answer link: PULL (bind) in the bridge, PUSH elsewhere.
zsock_t *zc_link_answers_new (const char *name, bool bind);

typedef enum {
    ZC_LINK_MSG = 1,            //  bridge -> actor: conn address body
    ZC_LINK_REPLY,              //  actor -> bridge: conn body
    ZC_LINK_DONE,               //  actor -> bridge: conn
    ZC_LINK_CLOSE,              //  actor -> bridge: conn body
    ZC_LINK_SEND,               //  actor -> bridge: address body
    ZC_LINK_POST,               //  actor -> bridge: address body
    ZC_LINK_DOWN,               //  bridge -> actor: address
    ZC_LINK_POSTED              //  bridge -> actor: address
} zc_link_msg_id_t;

typedef struct _zc_link_msg_t zc_link_msg_t;

//  Each returns 0, or -1 if the peer is gone.  The bytes are copied.
int zc_link_send_msg (void *link, uint32_t conn, const char *address,
                      const void *data, size_t size);
int zc_link_send_reply (void *link, uint32_t conn, const void *data, size_t size);
int zc_link_send_close (void *link, uint32_t conn, const void *data, size_t size);
int zc_link_send_peer (void *link, const char *address, const void *data, size_t size);
//  POST, and DOWN / POSTED about a post, carry its id (the gateway's spool
//  id: posts overlap); DOWN about a kept connection has 0
int zc_link_send_post (void *link, const char *address, int64_t post,
                       const void *data, size_t size);
int zc_link_send_down (void *link, const char *address, int64_t post);
int zc_link_send_posted (void *link, const char *address, int64_t post);
//  Receives one command; NULL if interrupted, or if it was malformed
//  (*malformed_p set).
zc_link_msg_t *zc_link_recv (void *link, bool *malformed_p);
void zc_link_msg_destroy (zc_link_msg_t **self_p);
zc_link_msg_id_t zc_link_msg_id (zc_link_msg_t *self);
const char *zc_link_msg_name (zc_link_msg_id_t id);
uint32_t zc_link_msg_conn (zc_link_msg_t *self);        //  MSG REPLY DONE CLOSE
const char *zc_link_msg_address (zc_link_msg_t *self);  //  MSG SEND POST DOWN POSTED
int64_t zc_link_msg_post (zc_link_msg_t *self);         //  POST DOWN POSTED, or 0
const char *zc_link_msg_data (zc_link_msg_t *self);     //  MSG REPLY CLOSE SEND POST
size_t zc_link_msg_size (zc_link_msg_t *self);          //  its bytes ("" and 0 if none)

//  Helpers built on them: a JSON reply (destroyed), DONE, an error reply
//  (then CLOSE if close), a refusal logged with the sender's address.
void zc_link_reply (zsock_t *link, uint32_t conn, cJSON *reply);
void zc_link_done (zsock_t *link, uint32_t conn);
void zc_link_error (zsock_t *link, uint32_t conn, const char *reason, bool close);
void zc_link_refuse (zsock_t *link, const char *name, uint32_t conn, const char *address,
                     const char *reason);
//  Receives one command from a bridge and hands a MSG to handler, and news
//  of our own connections and posts (DOWN, POSTED) to news, or drops it if
//  news is NULL (an actor that opens no connections).  Anything else is a
//  bug, logged with name.
//  Pings every node of trust whose key is not known yet, through link.
void zc_link_ping_unknown (zsock_t *link, zc_trust_t *trust);
typedef void (zc_link_msg_fn) (void *arg, uint32_t conn, const char *address,
                               const char *data, size_t size);
typedef void (zc_link_news_fn) (void *arg, zc_link_msg_id_t id, const char *address,
                                int64_t post);
void zc_link_dispatch (zsock_t *link, const char *name, zc_link_msg_fn *handler,
                       zc_link_news_fn *news, void *arg);

//  =========================================================================
//  Typed commands between a node's listener and validator (zc_msg.c):
//  one send function per command, one receive for all, shared by both
//  =========================================================================

typedef enum {
    ZC_MSG_TX = 1,
    ZC_MSG_BLOCK,
    ZC_MSG_SYNCED,
    ZC_MSG_PEER_STATUS,
    ZC_MSG_STATUS,
    ZC_MSG_GET_BLOCKS,
    ZC_MSG_BROADCAST,
    ZC_MSG_HELD,
    ZC_MSG_LOAD
} zc_msg_id_t;

typedef struct _zc_msg_t zc_msg_t;

//  Each returns 0, or -1 if the peer is gone (the object is destroyed).
//  TX and BLOCK pass the object's ownership with the message.
int zc_msg_send_tx (zsock_t *dest, uint32_t conn, const char *address, zc_tx_t *tx);
int zc_msg_send_block (zsock_t *dest, uint32_t conn, const char *address, const char *peer,
                       zc_block_t *block);
int zc_msg_send_synced (zsock_t *dest, const char *address, int64_t count, int64_t next);
int zc_msg_send_peer_status (zsock_t *dest, const char *address, int64_t height,
                             const char *tip);
int zc_msg_send_status (zsock_t *dest, uint32_t conn, uint32_t peers);
int zc_msg_send_get_blocks (zsock_t *dest, uint32_t conn, int64_t from, int64_t limit);
int zc_msg_send_broadcast (zsock_t *dest, const void *body, size_t size);
//  ids: count ids of ZC_HASH_HEX chars each, back to back, no separator.
int zc_msg_send_held (zsock_t *dest, const char *ids, size_t count);
int zc_msg_send_load (zsock_t *dest, int64_t taken, int64_t waiting);
//  Receives one command; NULL if interrupted, or if it was malformed
//  (*malformed_p set; what it carried is destroyed).
zc_msg_t *zc_msg_recv (zsock_t *source, bool *malformed_p);
void zc_msg_destroy (zc_msg_t **self_p);
zc_msg_id_t zc_msg_id (zc_msg_t *self);
const char *zc_msg_name (zc_msg_id_t id);
uint32_t zc_msg_conn (zc_msg_t *self);          //  TX BLOCK STATUS GET_BLOCKS
const char *zc_msg_address (zc_msg_t *self);    //  TX BLOCK SYNCED PEER_STATUS
const char *zc_msg_peer (zc_msg_t *self);       //  BLOCK ("" if unknown)
const char *zc_msg_tip (zc_msg_t *self);        //  PEER_STATUS
int64_t zc_msg_count (zc_msg_t *self);          //  SYNCED
int64_t zc_msg_next (zc_msg_t *self);           //  SYNCED
int64_t zc_msg_height (zc_msg_t *self);         //  PEER_STATUS
int64_t zc_msg_from (zc_msg_t *self);           //  GET_BLOCKS
int64_t zc_msg_limit (zc_msg_t *self);          //  GET_BLOCKS
uint32_t zc_msg_peers (zc_msg_t *self);         //  STATUS
zc_tx_t *zc_msg_take_tx (zc_msg_t *self);       //  TX: the caller's now
zc_block_t *zc_msg_take_block (zc_msg_t *self); //  BLOCK: the caller's now
zframe_t *zc_msg_body (zc_msg_t *self);         //  BROADCAST (still the message's)
size_t zc_msg_held_count (zc_msg_t *self);      //  HELD: how many ids
int64_t zc_msg_taken (zc_msg_t *self);          //  LOAD: TX commands handled
int64_t zc_msg_waiting (zc_msg_t *self);        //  LOAD: mempool size
void zc_msg_held_id (zc_msg_t *self, size_t index, char *id);  //  HELD: one id

//  =========================================================================
//  The frames of every typed inner message (zc_typed.c): [header struct,
//  first byte the command id] [strings...] [body], shaped per protocol
//  =========================================================================

//  dest and source are a zsock_t * or a zactor_t * (its pipe), as for
//  zmsg_send and zmsg_recv.
//  The strings a command has (-1: no such command), and whether a body
//  follows them.
typedef int (zc_typed_shape_fn) (int id, bool *body_p);
#define ZC_TYPED_OK             0       //  a whole command
#define ZC_TYPED_TERM           1       //  "$TERM" (zactor_destroy)
#define ZC_TYPED_INTERRUPTED    -1      //  nothing received
#define ZC_TYPED_MALFORMED      -2      //  not one of the protocol's commands
//  0, or -1 if the peer is gone (nothing was sent).  A NULL string goes
//  as "".
int zc_typed_send (void *dest, const void *header, size_t header_size,
                   const char **strings, size_t string_count,
                   const void *body, size_t body_size, bool with_body);
//  One of ZC_TYPED_...; on OK, header is filled and the strings (the
//  caller frees them) and body (the caller's) set, else all NULL.
int zc_typed_recv (void *source, void *header, size_t header_size, zc_typed_shape_fn *shape,
                   char **strings, size_t max_strings, zframe_t **body_p);

//  =========================================================================
//  Typed commands of the ledger writer (zc_ledger_msg.c): validator ->
//  writer on its pipe, and its events on the PUB socket for the notifier
//  =========================================================================

typedef enum {
    ZC_LEDGER_TERM = 1,         //  "$TERM" from zactor_destroy
    ZC_LEDGER_OPEN,
    ZC_LEDGER_APPLY,
    ZC_LEDGER_POOL,
    ZC_LEDGER_COMMITTED,
    ZC_LEDGER_ROLLED_BACK
} zc_ledger_msg_id_t;

typedef struct _zc_ledger_msg_t zc_ledger_msg_t;

//  Each returns 0, or -1 if the peer is gone.  Objects are borrowed: the
//  sender keeps them, unchanged, until the writer's signal.
int zc_ledger_msg_send_open (void *dest, const char *path, bool outbox);
int zc_ledger_msg_send_apply (void *dest, zc_plan_t *plan);
int zc_ledger_msg_send_pool (void *dest, zc_tx_t **txs, size_t count);
int zc_ledger_msg_send_committed (void *dest, zc_block_t *block);
int zc_ledger_msg_send_rolled_back (void *dest, zc_block_t *block);
//  Receives one command (TERM for "$TERM"); NULL if interrupted, or if
//  it was malformed (*malformed_p set).
zc_ledger_msg_t *zc_ledger_msg_recv (void *source, bool *malformed_p);
void zc_ledger_msg_destroy (zc_ledger_msg_t **self_p);
zc_ledger_msg_id_t zc_ledger_msg_id (zc_ledger_msg_t *self);
const char *zc_ledger_msg_name (zc_ledger_msg_id_t id);
const char *zc_ledger_msg_path (zc_ledger_msg_t *self);     //  OPEN
bool zc_ledger_msg_outbox (zc_ledger_msg_t *self);          //  OPEN
zc_plan_t *zc_ledger_msg_plan (zc_ledger_msg_t *self);      //  APPLY (borrowed)
zc_tx_t **zc_ledger_msg_txs (zc_ledger_msg_t *self);        //  POOL (borrowed)
size_t zc_ledger_msg_count (zc_ledger_msg_t *self);         //  POOL
int64_t zc_ledger_msg_index (zc_ledger_msg_t *self);        //  events
const char *zc_ledger_msg_hash (zc_ledger_msg_t *self);     //  events
const char *zc_ledger_msg_miner_id (zc_ledger_msg_t *self); //  COMMITTED
const char *zc_ledger_msg_timestamp (zc_ledger_msg_t *self);    //  COMMITTED
size_t zc_ledger_msg_tx_count (zc_ledger_msg_t *self);      //  events
//  Copies the index-th transaction id of an event into id (ZC_HASH_HEX + 1).
void zc_ledger_msg_tx_id (zc_ledger_msg_t *self, size_t index, char *id);

//  =========================================================================
//  Typed commands of the miner pool (zc_mine_msg.c): to the pool on its
//  pipe, and its finds and answers back
//  =========================================================================

typedef enum {
    ZC_MINE_TERM = 1,           //  "$TERM" from zactor_destroy
    ZC_MINE_JOB,
    ZC_MINE_STOP,
    ZC_MINE_STATS,
    ZC_MINE_KERNEL,
    ZC_MINE_FOUND,
    ZC_MINE_STATS_REPLY,
    ZC_MINE_KERNEL_REPLY
} zc_mine_msg_id_t;

typedef struct _zc_mine_msg_t zc_mine_msg_t;

//  Each returns 0, or -1 if the peer is gone.  Strings are copied.
int zc_mine_msg_send_job (void *dest, uint64_t job_id, int difficulty, const char *preimage);
int zc_mine_msg_send_stop (void *dest);
int zc_mine_msg_send_stats (void *dest);
int zc_mine_msg_send_kernel (void *dest);
int zc_mine_msg_send_found (void *dest, uint64_t job_id, uint64_t nonce, const char *hash);
int zc_mine_msg_send_stats_reply (void *dest, uint64_t hashes, int busy);
int zc_mine_msg_send_kernel_reply (void *dest, const char *name, int lanes);
//  Receives one command (TERM for "$TERM"); NULL if interrupted, or if
//  it was malformed (*malformed_p set).
zc_mine_msg_t *zc_mine_msg_recv (void *source, bool *malformed_p);
void zc_mine_msg_destroy (zc_mine_msg_t **self_p);
zc_mine_msg_id_t zc_mine_msg_id (zc_mine_msg_t *self);
const char *zc_mine_msg_name (zc_mine_msg_id_t id);
uint64_t zc_mine_msg_job_id (zc_mine_msg_t *self);          //  JOB FOUND
int zc_mine_msg_difficulty (zc_mine_msg_t *self);           //  JOB
const char *zc_mine_msg_preimage (zc_mine_msg_t *self);     //  JOB
char *zc_mine_msg_take_preimage (zc_mine_msg_t *self);      //  JOB: the caller's now
uint64_t zc_mine_msg_nonce (zc_mine_msg_t *self);           //  FOUND
const char *zc_mine_msg_hash (zc_mine_msg_t *self);         //  FOUND
uint64_t zc_mine_msg_hashes (zc_mine_msg_t *self);          //  STATS_REPLY
int zc_mine_msg_busy (zc_mine_msg_t *self);                 //  STATS_REPLY
const char *zc_mine_msg_kernel_name (zc_mine_msg_t *self);  //  KERNEL_REPLY
int zc_mine_msg_lanes (zc_mine_msg_t *self);                //  KERNEL_REPLY

//  =========================================================================
//  Typed commands from a node's listener to its notifier
//  (zc_notices_msg.c): the gateway's answers to block notices
//  =========================================================================

typedef enum {
    ZC_NOTICES_ACK = 1,
    ZC_NOTICES_NACK,
    ZC_NOTICES_DOWN
} zc_notices_msg_id_t;

typedef struct _zc_notices_msg_t zc_notices_msg_t;

//  Each returns 0, or -1 if the peer is gone.
int zc_notices_msg_send_ack (void *dest, int64_t seq);
int zc_notices_msg_send_nack (void *dest, const char *reason);
int zc_notices_msg_send_down (void *dest);
//  Receives one command; NULL if interrupted, or if it was malformed
//  (*malformed_p set).
zc_notices_msg_t *zc_notices_msg_recv (void *source, bool *malformed_p);
void zc_notices_msg_destroy (zc_notices_msg_t **self_p);
zc_notices_msg_id_t zc_notices_msg_id (zc_notices_msg_t *self);
const char *zc_notices_msg_name (zc_notices_msg_id_t id);
int64_t zc_notices_msg_seq (zc_notices_msg_t *self);        //  ACK
const char *zc_notices_msg_reason (zc_notices_msg_t *self); //  NACK

//  listener: dispatches messages by type.  args: zc_node_config_t *.
void zc_listener_actor (zsock_t *pipe, void *args);
//  The listener's message handler outside the actor, for fuzzing: its
//  links are the actor's (see zc_listener.c).
void *zc_listener_state_new (zc_node_config_t *config);
void zc_listener_state_destroy (void **state_p);
void zc_listener_handle (void *state, uint32_t conn, const char *address,
                         const char *data, size_t size);
void zc_listener_tick (void *state);

//  validator: chain, mempool, mining jobs.  args: zc_node_config_t *.
void zc_validator_actor (zsock_t *pipe, void *args);

//  miner pool: hashing threads.  args: zc_node_config_t * (name, may be
//  NULL; miner_threads, 0: one per core; miner_kernel, -1: the fastest).
void zc_miner_actor (zsock_t *pipe, void *args);

//  ledger writer: the SQLite file.  args: const char * instance name.
void zc_writer_actor (zsock_t *pipe, void *args);

//  notifier: tells others of committed blocks.  args: zc_node_config_t *.
void zc_notifier_actor (zsock_t *pipe, void *args);

//  gateway: client requests, broadcast, confirmations.
//  args: zc_service_config_t *.
void zc_gateway_actor (zsock_t *pipe, void *args);
//  Its message handler outside the actor, for fuzzing (see zc_gateway.c);
//  NULL if the state cannot start.
void *zc_gateway_state_new (zc_service_config_t *config);
void zc_gateway_state_destroy (void **state_p);
void zc_gateway_handle (void *state, uint32_t conn, const char *address,
                   const char *data, size_t size);
//  The gateway's quick answers for its bridge (health; busy while past
//  capacity); arg is its zc_service_config_t *.
const char *zc_gateway_quick (void *arg, const char *address, const char *data,
                              size_t size);

//  server: the reference marketplace sink.  args: zc_service_config_t *.
void zc_server_actor (zsock_t *pipe, void *args);
//  Its message handler outside the actor, for fuzzing (see zc_server.c);
//  NULL if the state cannot start.
void *zc_server_state_new (zc_service_config_t *config);
void zc_server_state_destroy (void **state_p);
void zc_server_handle (void *state, uint32_t conn, const char *address,
                   const char *data, size_t size);

#endif
