/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_validator - a node's chain, mempool and mining jobs

    The validator is the single owner of a node's view of the chain: it
    checks every transaction and block that arrives, decides with zc_chain
    which chain is best, has the ledger writer make each change durable
    before anyone hears of it, keeps the mempool in step with the chain,
    and gives the miner pool its jobs.  It owns the miner pool and the
    ledger writer as child actors.

    A block is checked in two steps: context-free (recomputed hash, proof
    of work, miner signature, transactions) by zc_block_check, then against
    its parent by zc_chain_offer.  A block whose parent is unknown is kept
    aside and its parents are asked of the peer that sent it.

    Pipe protocol (from the node role):
        START                   opens the ledger and the chain's last blocks
                                -> signal 0, or -1 with the reason logged
        $TERM                   ends the actor

    Listener link: the TX / BLOCK / SYNCED / PEER_STATUS / STATUS /
    GET_BLOCKS commands of zc_msg in, BROADCAST out.  Answers (REPLY /
    DONE / CLOSE) and sends to one peer (SEND) go straight to the bridge's
    answer link (zc_link_answers_new), not through the listener.
    =========================================================================
*/

#include "zc_actors.h"
#include <sys/stat.h>

#define S_ASIDE_COUNT   1024                //  blocks kept aside, at most
#define S_ASIDE_BYTES   (64 * 1024 * 1024)  //  their bytes, at most
#define S_MAX_REPLY_BLOCKS 500              //  blocks in one reply, at most
#define S_START_HOLD    2500                //  msecs at most before a started node mines:
                                            //  its peers' status has come in

#define S_TX_BATCH      256                 //  transactions made durable at once

//  A transaction of the current batch, waiting for its answer
typedef struct {
    uint32_t conn;              //  connection to answer
    char tx_id [ZC_HASH_HEX + 1];   //  its id
    const char *error;          //  why it was refused, or NULL
    bool fresh;                 //  new to us: in the mempool, not yet durable
} s_pending_tx_t;

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe, to the node role
    zsock_t *listener;          //  PAIR to the listener
    zsock_t *answers;           //  PUSH to the bridge: answers and sends
    zactor_t *miner;            //  miner pool
    zactor_t *writer;           //  ledger writer
    zc_node_config_t *config;   //  node config (borrowed)
    zc_keys_t *keys;            //  node key, signs mined blocks
    zc_ledger_t *reader;        //  our read connection to the ledger: the
                                //  chain looks up what it no longer holds
    zc_chain_t *chain;          //  best chain and blocks aside
    zc_mempool_t *mempool;      //  transactions waiting
    zc_block_t *job;            //  block being mined, or NULL
    uint64_t job_id;            //  id of the current job
    zc_sync_t *sync;            //  what to fetch from peers; mining hold
    int64_t next_job_at;        //  no job is begun before then: a block
                                //  interval after the last block applied
    uint64_t rejected;          //  invalid blocks seen
    int64_t taken;              //  TX commands handled, told in LOAD
    s_pending_tx_t batch [S_TX_BATCH];  //  transactions awaiting durability
    size_t batch_size;          //  how many
    bool terminated;            //  $TERM received
} self_t;

static bool s_miner_allowed (self_t *self, const char *public_key_b64);

static self_t *
s_self_new (zsock_t *pipe, zc_node_config_t *config)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->config = config;
    self->mempool = zc_mempool_new (config->max_mempool);
    self->sync = zc_sync_new ();
    self->listener = zc_link_new ("listener", config->name, false);
    self->answers = zc_link_answers_new (config->name, false);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zactor_destroy (&self->miner);
        zactor_destroy (&self->writer);
        zc_block_destroy (&self->job);
        zc_chain_destroy (&self->chain);
        zc_ledger_destroy (&self->reader);
        zc_mempool_destroy (&self->mempool);
        zc_keys_destroy (&self->keys);
        zc_sync_destroy (&self->sync);
        zsock_destroy (&self->listener);
        zsock_destroy (&self->answers);
        free (self);
        *self_p = NULL;
    }
}

//  Opens the ledger through the writer and loads the chain it holds.
static int
s_self_start (self_t *self)
{
    zc_node_config_t *config = self->config;
    char *key_path = zsys_sprintf ("%s/node.key", config->data);
    self->keys = zc_keys_load_or_create (key_path);
    if (!self->keys)
        zc_log_error ("%s: cannot load or create node key %s", config->name, key_path);
    free (key_path);
    if (!self->keys)
        return -1;

    self->writer = zactor_new (zc_writer_actor, config->name);
    char *path = zsys_sprintf ("%s/node_%d.sqlite3", config->data, config->port);
    //  A node with a gateway owes it a notice of every change (issue 9)
    zc_ledger_msg_send_open (self->writer, path, config->gateway != NULL);
    int rc = zsock_wait (self->writer) == 0? 0: -1;

    //  Open the chain with a connection of our own (WAL lets it read
    //  beside the writer); only the last blocks are read and checked, so
    //  start-up does not grow with the chain
    int64_t started = zc_clock_usecs ();
    char *error = NULL;
    self->reader = rc == 0? zc_ledger_open (path, &error): NULL;
    if (rc == 0 && !self->reader) {
        zc_log_error ("%s: cannot open ledger %s", config->name, error? error: path);
        rc = -1;
    }
    zstr_free (&error);
    if (self->reader) {
        self->chain = zc_chain_open (self->reader, ZC_MAX_REORG_DEPTH,
                                     S_ASIDE_COUNT, S_ASIDE_BYTES, &error);
        if (!self->chain) {
            zc_log_error ("%s: %s: %s (zchaind --check-ledger checks the whole file)",
                        config->name, path, error);
            zstr_free (&error);
            rc = -1;
        }
        //  Acknowledged transactions that no block holds yet wait again
        zlistx_t *waiting = rc == 0? zc_ledger_pool_load (self->reader): NULL;
        zc_tx_t *tx = waiting? (zc_tx_t *) zlistx_first (waiting): NULL;
        while (tx) {
            zc_tx_t *copy = zc_tx_dup (tx);
            if (zc_chain_has_tx (self->chain, zc_tx_id (copy))
            ||  zc_mempool_add (self->mempool, &copy) != 0)
                zc_tx_destroy (&copy);
            tx = (zc_tx_t *) zlistx_next (waiting);
        }
        zlistx_destroy (&waiting);
        if (rc == 0)
            zc_log_info ("%s: ledger %s at height %" PRId64 ", tip %.16s, %zu waiting,"
                       " opened in %" PRId64 " ms",
                       config->name, path, zc_chain_height (self->chain),
                       zc_chain_tip_hash (self->chain), zc_mempool_size (self->mempool),
                       (zc_clock_usecs () - started) / 1000);
    }
    free (path);
    if (rc == 0)
        self->miner = zactor_new (zc_miner_actor, config);
    if (rc == 0 && !s_miner_allowed (self, zc_keys_public_b64 (self->keys)))
        zc_log_warning ("%s: network/permissioned: this node's key %s may not mine; it only"
                      " validates and relays", config->name, zc_keys_public_b64 (self->keys));
    return rc;
}

//  Sends a JSON message to one peer (address) or, with address NULL, to
//  every peer, through the listener; destroys the message.
static void
s_send_json (self_t *self, const char *address, cJSON *message)
{
    char *text = zc_jcs_serialize (message);
    cJSON_Delete (message);
    if (!text) {            //  the node keeps nothing it cannot send: a bug
        zc_log_error ("%s: bug: message to %s has no canonical form", self->config->name,
                    address? address: "every peer");
        return;
    }
    if (address)
        zc_link_send_peer (self->answers, address, text, strlen (text));
    else
        zc_msg_send_broadcast (self->listener, text, strlen (text));
    free (text);
}

//  Starts a job on the tip with the oldest waiting transactions, or stops
//  the miners if nothing waits, a peer is known to be ahead (mining on a
//  chain about to be replaced wastes the work), or the block interval
//  since the last block has not passed.
//  The interval (network/block_interval, issue 11): at difficulty 4 a
//  block takes a millisecond to find, less than it takes to reach every
//  node, so without it five nodes raced for a block per transaction or
//  two, and the network spent its time on forks, rollbacks and their
//  notices (50 clients: 53 blocks/s, ~2.7 applied per height per node).
//  Transactions that arrive in the interval join the next block; one that
//  comes after a quiet spell is mined at once.
static void
s_mine_next (self_t *self)
{
    zc_block_destroy (&self->job);
    size_t count = zc_mempool_size (self->mempool);
    //  A node whose own key may not mine (network/permissioned) only relays
    if (count == 0 || zclock_mono () < zc_sync_hold_until (self->sync)
    ||  zclock_mono () < self->next_job_at
    ||  !s_miner_allowed (self, zc_keys_public_b64 (self->keys))) {
        zc_mine_msg_send_stop (self->miner);
        return;
    }
    if (count > self->config->max_block_txs)
        count = self->config->max_block_txs;
    zc_tx_t **txs = (zc_tx_t **) malloc (count * sizeof (zc_tx_t *));
    count = zc_mempool_take (self->mempool, txs, count);
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    self->job = zc_block_new (zc_chain_height (self->chain) + 1,
                              zc_chain_tip_hash (self->chain), now, txs, count);
    free (txs);
    char *preimage = zc_block_preimage (self->job);
    self->job_id++;
    zc_mine_msg_send_job (self->miner, self->job_id, self->config->difficulty, preimage);
    free (preimage);
}

//  Tells the listener how far intake has got and what waits to be mined,
//  which is how it refuses clients at once past capacity.
static void
s_send_load (self_t *self)
{
    zc_msg_send_load (self->listener, self->taken,
                      (int64_t) zc_mempool_size (self->mempool));
}

//  Tells the listener the blocks a written plan attaches, and their
//  transactions, are held: relayed copies need no parsing.
static void
s_send_held_blocks (self_t *self, zc_plan_t *plan)
{
    size_t count = 0;
    for (size_t i = 0; i < plan->attach_count; i++)
        count += 1 + zc_block_tx_count (plan->attach [i]);
    char *ids = (char *) malloc (count * ZC_HASH_HEX + 1);
    size_t used = 0;
    for (size_t i = 0; i < plan->attach_count; i++) {
        zc_block_t *block = plan->attach [i];
        memcpy (ids + used++ * ZC_HASH_HEX, zc_block_hash (block), ZC_HASH_HEX);
        for (size_t t = 0; t < zc_block_tx_count (block); t++)
            memcpy (ids + used++ * ZC_HASH_HEX, zc_tx_id (zc_block_tx (block, t)), ZC_HASH_HEX);
    }
    if (used > 0)
        zc_msg_send_held (self->listener, ids, used);
    free (ids);
}

//  Makes a better chain durable, then current.  Announced (our own
//  blocks, and relayed gossip) blocks go to every peer once written.
static int
s_switch (self_t *self, zc_plan_t *plan, bool announce)
{
    zc_ledger_msg_send_apply (self->writer, plan);
    if (zsock_wait (self->writer) != 0) {
        zc_log_error ("%s: ledger write failed; block %" PRId64 " not applied",
                    self->config->name, zc_block_index (plan->attach [plan->attach_count - 1]));
        zc_plan_destroy (&plan);
        return -1;
    }
    zc_plan_update_mempool (plan, self->chain, self->mempool);
    if (plan->detach_count > 0)
        zc_log_info ("%s: reorganized: %zu block(s) rolled back above %" PRId64 ", %zu applied",
                   self->config->name, plan->detach_count, plan->fork_height,
                   plan->attach_count);
    s_send_held_blocks (self, plan);
    for (size_t i = 0; i < plan->attach_count; i++) {
        zc_block_t *block = plan->attach [i];
        zc_debug ("%s: block %" PRId64 " %.16s with %zu tx by %s", self->config->name,
                  zc_block_index (block), zc_block_hash (block),
                  zc_block_tx_count (block), zc_block_miner_id (block));
        if (announce) {
            //  {"data":...,"node_id":...,"type":"new_block"}, keys in JCS
            //  order, the block as its kept canonical texts
            char *data = zc_block_canonical (block);
            char *text = data? zsys_sprintf ("{\"data\":%s,\"node_id\":\"%s\",\"type\":\"new_block\"}",
                                             data, self->config->node_id): NULL;
            if (text)
                zc_msg_send_broadcast (self->listener, text, strlen (text));
            else
                zc_log_error ("%s: bug: block %.16s has no canonical form",
                            self->config->name, zc_block_hash (block));
            free (data);
            free (text);
        }
    }
    zc_chain_commit (self->chain, &plan);
    self->next_job_at = zclock_mono () + self->config->block_interval;
    s_send_load (self);                 //  the mempool has shrunk
    s_mine_next (self);
    return 0;
}

//  Makes the batch's new transactions durable in one SQL transaction, then
//  answers every transaction of the batch in arrival order, relays the
//  new ones, and starts mining if the miners are idle.
static void
s_flush_txs (self_t *self)
{
    if (self->batch_size == 0)
        return;
    zc_tx_t **fresh = (zc_tx_t **) malloc (self->batch_size * sizeof (zc_tx_t *));
    size_t count = 0;
    for (size_t i = 0; i < self->batch_size; i++)
        if (self->batch [i].fresh)
            fresh [count++] = zc_mempool_lookup (self->mempool, self->batch [i].tx_id);
    //  Durable before acknowledged: a crash must not lose what we answered
    bool stored = true;
    //  The relay is built from each transaction's canonical text as kept
    //  since it was parsed: JCS of the whole, keys in order, nothing
    //  re-serialized ({"transactions":[...],"tx_ids":[...],"type":...})
    zchunk_t *relay = zchunk_new (NULL, 0);
    zchunk_t *relay_ids = zchunk_new (NULL, 0);
    size_t relayed = 0;
    char *held = (char *) malloc (count * ZC_HASH_HEX + 1);
    size_t held_count = 0;
    if (count > 0) {
        zc_ledger_msg_send_pool (self->writer, fresh, count);
        stored = zsock_wait (self->writer) == 0;
    }
    //  Verified and durable: the listener may drop relayed copies unparsed.
    //  Told before any answer, so a client's next message finds it known
    for (size_t i = 0; stored && i < self->batch_size; i++)
        if (self->batch [i].fresh)
            memcpy (held + held_count++ * ZC_HASH_HEX, self->batch [i].tx_id, ZC_HASH_HEX);
    if (held_count > 0)
        zc_msg_send_held (self->listener, held, held_count);
    free (held);
    s_send_load (self);
    for (size_t i = 0; i < self->batch_size; i++) {
        s_pending_tx_t *entry = &self->batch [i];
        if (entry->fresh && !stored) {
            zc_mempool_remove (self->mempool, entry->tx_id);
            entry->error = "transaction could not be stored";
        }
        cJSON *reply = entry->error? zc_error_new (entry->error): cJSON_CreateObject ();
        if (!entry->error) {
            cJSON_AddStringToObject (reply, "type", "MINING_STARTED");
            cJSON_AddStringToObject (reply, "miner", self->config->node_id);
            cJSON_AddStringToObject (reply, "message", entry->fresh? "Mining started":
                                                                     "Transaction already known");
        }
        cJSON_AddStringToObject (reply, "tx_id", entry->tx_id);
        if (entry->conn)
            zc_link_reply (self->answers, entry->conn, reply);
        else
            cJSON_Delete (reply);       //  relayed by a peer: nobody waits
        //  New to us: relay it, so nodes the sender did not reach get it
        if (entry->fresh && stored) {
            const char *canonical = zc_tx_canonical (zc_mempool_lookup (self->mempool,
                                                                        entry->tx_id));
            zchunk_extend (relay, relayed? ",": "{\"transactions\":[", relayed? 1: 17);
            zchunk_extend (relay, canonical, strlen (canonical));
            zchunk_extend (relay_ids, relayed? ",\"": "\"", relayed? 2: 1);
            zchunk_extend (relay_ids, entry->tx_id, ZC_HASH_HEX);
            zchunk_extend (relay_ids, "\"", 1);
            relayed++;
        }
    }
    //  One relay message per batch, not one per transaction
    if (relayed > 0) {
        const char *ids = "],\"tx_ids\":[";
        const char *tail = "],\"type\":\"new_transactions\"}";
        zchunk_extend (relay, ids, strlen (ids));
        zchunk_extend (relay, zchunk_data (relay_ids), zchunk_size (relay_ids));
        zchunk_extend (relay, tail, strlen (tail));
        zc_msg_send_broadcast (self->listener, zchunk_data (relay), zchunk_size (relay));
    }
    zchunk_destroy (&relay);
    zchunk_destroy (&relay_ids);
    free (fresh);
    self->batch_size = 0;
    if (count > 0 && stored && !self->job)
        s_mine_next (self);
}

//  A transaction arrived: checked and put in the mempool now, answered
//  when the batch it joins is durable (or at once if it is not new).
//  Batching makes one SQL transaction serve many acknowledgements.
static void
s_handle_tx (self_t *self, uint32_t conn, const char *address, zc_tx_t *tx)
{
    s_pending_tx_t *entry = &self->batch [self->batch_size++];
    entry->conn = conn;
    snprintf (entry->tx_id, sizeof entry->tx_id, "%s", zc_tx_id (tx));
    entry->error = NULL;
    entry->fresh = false;
    if (zc_chain_has_tx (self->chain, entry->tx_id)
    ||  zc_mempool_lookup (self->mempool, entry->tx_id))
        ;                               //  known: acknowledged, not added
    else
    if (self->config->verify_txs && !zc_tx_verify (tx)) {
        zc_log_warning ("%s: bad transaction from %s: bad signature", self->config->name, address);
        entry->error = "bad transaction signature";
    }
    else
    if (zc_mempool_add (self->mempool, &tx) != 0)
        entry->error = "mempool is full";
    else
        entry->fresh = true;
    zc_tx_destroy (&tx);                //  if the mempool did not take it
    if (self->batch_size == S_TX_BATCH)
        s_flush_txs (self);
}

//  Asks a peer for blocks from an index on (zc_sync decides which).
static void
s_request_blocks (self_t *self, const char *address, int64_t from)
{
    cJSON *request = cJSON_CreateObject ();
    cJSON_AddStringToObject (request, "type", "get_blocks");
    cJSON_AddNumberToObject (request, "from", (double) from);
    cJSON_AddNumberToObject (request, "limit", ZC_SYNC_BATCH);
    s_send_json (self, address, request);
    zc_debug ("%s: asking %s for blocks from %" PRId64, self->config->name, address, from);
}

//  A batch from a peer has been offered: fetch more, or mine again.
static void
s_handle_synced (self_t *self, const char *address, int64_t count, int64_t next)
{
    bool held = zc_sync_hold_until (self->sync) != 0;
    int64_t from = zc_sync_batch (self->sync, address, count, next, zclock_mono ());
    if (from)
        s_request_blocks (self, address, from);
    else
    if (held && !self->job)
        s_mine_next (self);             //  caught up with this peer
}

//  A peer's status: if its chain beats ours, fetch it before mining more.
static void
s_handle_peer_status (self_t *self, const char *address, int64_t height, const char *tip)
{
    int64_t ours = zc_chain_height (self->chain);
    bool ahead = height > ours
              || (height == ours && strcmp (tip, zc_chain_tip_hash (self->chain)) < 0);
    int64_t from = zc_sync_status (self->sync, address, ahead, ours, zclock_mono ());
    if (!from)
        return;
    zc_log_info ("%s: %s is ahead (height %" PRId64 "); syncing", self->config->name,
               address, height);
    if (self->job)
        s_mine_next (self);             //  stops the miners
    s_request_blocks (self, address, from);
}

//  network/permissioned (issue 9): true if the block's miner key is one the
//  file allows (a pinned node key or one of network/miner_keys).
static bool
s_miner_allowed (self_t *self, const char *public_key_b64)
{
    if (!self->config->permissioned)
        return true;
    for (size_t i = 0; public_key_b64 && i < self->config->miner_key_count; i++)
        if (streq (self->config->miner_keys [i], public_key_b64))
            return true;
    return false;
}

//  Tells zc_block_check which transactions were verified on arrival.
static bool
s_tx_verified (const char *tx_id, void *arg)
{
    self_t *self = (self_t *) arg;
    //  An id is the SHA-256 of the whole transaction, signature included:
    //  one we hold, in the mempool or in a block of ours, was verified.
    //  Competing blocks (forks) carry what our own block already took out
    //  of the mempool, and were each verified again (issue 11 profile)
    return zc_mempool_lookup (self->mempool, tx_id) != NULL
        || zc_chain_has_tx (self->chain, tx_id);
}

//  A block from address (conn 0: part of a batch, nobody to answer);
//  peer is where its sender listens, or "" if unknown.
static void
s_handle_block (self_t *self, uint32_t conn, const char *address, const char *peer,
                zc_block_t *block)
{
    int64_t index = zc_block_index (block);
    if (zc_chain_has_block (self->chain, zc_block_hash (block))) {
        //  Already held (relays bring each block several times): a block
        //  claiming a known hash with other contents could never replace it.
        //  One held aside whose ancestors are still missing is news for
        //  sync, though: a peer that serves it serves what leads to it
        if (*peer && zc_chain_aside_orphan (self->chain, zc_block_hash (block))) {
            int64_t from = zc_sync_orphan (self->sync, peer, index,
                                           zc_chain_height (self->chain), zclock_mono ());
            if (from)
                s_request_blocks (self, peer, from);
        }
        zc_block_destroy (&block);
        if (conn)
            zc_link_done (self->answers, conn);
        return;
    }
    const char *error = zc_block_check (block, self->config->difficulty,
                                        self->config->max_block_txs,
                                        self->config->verify_txs, s_tx_verified, self);
    if (!error && self->config->permissioned) {
        char *miner_key = zc_pem_to_public_b64 (zc_block_public_key_pem (block));
        if (!s_miner_allowed (self, miner_key))
            error = "miner key is not allowed to mine (network/permissioned)";
        free (miner_key);
    }
    zc_chain_result_t result = ZC_CHAIN_INVALID;
    if (!error) {
        zc_plan_t *plan = NULL;
        result = zc_chain_offer (self->chain, block, &plan, &error);
        block = NULL;                   //  the chain owns it now
        if (result == ZC_CHAIN_SWITCH)
            s_switch (self, plan, conn != 0);   //  relay gossip, not batches
        else
        if (result == ZC_CHAIN_ORPHAN && *peer) {
            //  A block whose parent we lack: fetch what leads to it
            int64_t from = zc_sync_orphan (self->sync, peer, index,
                                           zc_chain_height (self->chain), zclock_mono ());
            if (from)
                s_request_blocks (self, peer, from);
        }
        //  (a sender we cannot dial is caught up with by the status round)
    }
    zc_block_destroy (&block);
    if (result == ZC_CHAIN_INVALID) {
        //  A peer that sends an invalid block is dropped: its connection
        //  closed after the error, and nothing more fetched from it for a
        //  while, so a bogus or endless branch costs us nothing more
        self->rejected++;
        zc_log_warning ("%s: rejected block %" PRId64 " from %s: %s",
                      self->config->name, index, address, error);
        if (*peer)
            zc_sync_shun (self->sync, peer, zclock_mono ());
        if (conn)
            zc_link_error (self->answers, conn, error, true);
    }
    else
    if (conn)
        zc_link_done (self->answers, conn);
}

//  The miner found a nonce: seal the block, write it, announce it.
static void
s_handle_miner (self_t *self)
{
    bool malformed = false;
    zc_mine_msg_t *msg = zc_mine_msg_recv (self->miner, &malformed);
    if (!msg || zc_mine_msg_id (msg) != ZC_MINE_FOUND) {
        if (msg || malformed)
            zc_log_error ("%s: validator: bug: unexpected miner command %s", self->config->name,
                        msg? zc_mine_msg_name (zc_mine_msg_id (msg)): "(malformed)");
        zc_mine_msg_destroy (&msg);
        return;
    }
    uint64_t nonce = zc_mine_msg_nonce (msg);
    const char *hash = zc_mine_msg_hash (msg);
    if (self->job && zc_mine_msg_job_id (msg) == self->job_id) {
        zc_block_t *block = self->job;
        self->job = NULL;
        //  The pool's hash is checked once the slow way before it is
        //  signed: a wrong one would be refused by every peer
        char check [ZC_HASH_HEX + 1];
        bool sealed = zc_block_seal (block, nonce, hash, self->config->node_id,
                                     self->keys) == 0;
        if (sealed)
            zc_block_compute_hash (block, check);
        if (!sealed || strcmp (check, hash) != 0
        ||  !zc_hash_meets (check, self->config->difficulty)) {
            zc_log_error ("%s: miner pool reported a wrong hash for nonce %" PRIu64,
                        self->config->name, nonce);
            zc_block_destroy (&block);
            s_mine_next (self);
            zc_mine_msg_destroy (&msg);
            return;
        }
        zc_plan_t *plan = NULL;
        const char *error = NULL;
        if (zc_chain_offer (self->chain, block, &plan, &error) == ZC_CHAIN_SWITCH)
            s_switch (self, plan, true);
        else {
            zc_log_warning ("%s: mined block %.16s does not extend the chain: %s",
                          self->config->name, hash, error? error: "stale");
            s_mine_next (self);
        }
    }
    zc_mine_msg_destroy (&msg);
}

//  get_blocks: main-chain blocks from an index, bounded in count and bytes.
static void
s_handle_get_blocks (self_t *self, uint32_t conn, int64_t from, int64_t limit)
{
    if (limit > S_MAX_REPLY_BLOCKS)
        limit = S_MAX_REPLY_BLOCKS;
    //  {"blocks":[...],"type":"blocks"}, each block as its kept canonical
    //  texts (no JSON tree per block or transaction)
    zchunk_t *reply = zchunk_new ("{\"blocks\":[", 11);
    size_t sent = 0;
    size_t budget = self->config->max_message / 2, used = 0;
    //  Recent blocks come from memory, older ones from the ledger, one at
    //  a time: a reply never holds more than its byte budget
    for (int64_t index = from; index < from + limit; index++) {
        zc_block_t *read = NULL;
        zc_block_t *block = zc_chain_block (self->chain, index);
        if (!block)
            block = read = zc_chain_read_block (self->chain, index);
        if (!block)
            break;
        used += zc_block_bytes (block) + 512;
        char *text = used <= budget || index == from? zc_block_canonical (block): NULL;
        if (text) {
            if (sent++ > 0)
                zchunk_extend (reply, ",", 1);
            zchunk_extend (reply, text, strlen (text));
            free (text);
        }
        zc_block_destroy (&read);
        if (used > budget)
            break;
    }
    zchunk_extend (reply, "],\"type\":\"blocks\"}", 18);
    zc_link_send_reply (self->answers, conn, zchunk_data (reply), zchunk_size (reply));
    zchunk_destroy (&reply);
}

//  get_status: where this node stands.
static void
s_handle_status (self_t *self, uint32_t conn, uint32_t peers)
{
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "type", "status");
    cJSON_AddStringToObject (reply, "node_id", self->config->node_id);
    cJSON_AddNumberToObject (reply, "height", (double) zc_chain_height (self->chain));
    cJSON_AddStringToObject (reply, "tip_hash", zc_chain_tip_hash (self->chain));
    cJSON_AddNumberToObject (reply, "difficulty", self->config->difficulty);
    cJSON_AddNumberToObject (reply, "mempool", (double) zc_mempool_size (self->mempool));
    cJSON_AddNumberToObject (reply, "peers", peers);
    cJSON_AddBoolToObject (reply, "mining", self->job != NULL);
    cJSON_AddNumberToObject (reply, "aside", (double) zc_chain_aside_count (self->chain));
    cJSON_AddNumberToObject (reply, "rejected_blocks", (double) self->rejected);
    zc_link_reply (self->answers, conn, reply);
}

//  One command from the listener.
static void
s_self_handle_listener (self_t *self)
{
    bool malformed = false;
    zc_msg_t *msg = zc_msg_recv (self->listener, &malformed);
    if (!msg) {
        if (malformed)
            zc_log_error ("%s: validator: bug: malformed listener command", self->config->name);
        return;
    }
    zc_msg_id_t id = zc_msg_id (msg);
    //  Anything but a transaction sees the batch settled first, so that a
    //  block never meets a transaction that is in the mempool but not yet
    //  durable
    if (id != ZC_MSG_TX)
        s_flush_txs (self);
    switch (id) {
        case ZC_MSG_TX: {
            zc_tx_t *tx = zc_msg_take_tx (msg);
            self->taken++;
            if (tx)
                s_handle_tx (self, zc_msg_conn (msg), zc_msg_address (msg), tx);
            break;
        }
        case ZC_MSG_BLOCK: {
            zc_block_t *block = zc_msg_take_block (msg);
            if (block)
                s_handle_block (self, zc_msg_conn (msg), zc_msg_address (msg),
                                zc_msg_peer (msg), block);
            break;
        }
        case ZC_MSG_SYNCED:
            s_handle_synced (self, zc_msg_address (msg), zc_msg_count (msg), zc_msg_next (msg));
            break;
        case ZC_MSG_PEER_STATUS:
            if (zc_hash_valid (zc_msg_tip (msg)))
                s_handle_peer_status (self, zc_msg_address (msg), zc_msg_height (msg),
                                      zc_msg_tip (msg));
            break;
        case ZC_MSG_STATUS:
            s_handle_status (self, zc_msg_conn (msg), zc_msg_peers (msg));
            break;
        case ZC_MSG_GET_BLOCKS:
            s_handle_get_blocks (self, zc_msg_conn (msg), zc_msg_from (msg), zc_msg_limit (msg));
            break;
        default:
            zc_log_error ("%s: validator: unexpected command %s", self->config->name,
                        zc_msg_name (id));
    }
    zc_msg_destroy (&msg);
}

void
zc_validator_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zc_node_config_t *) args);
    zsock_signal (pipe, 0);
    //  The listener is heard only once START has loaded the chain: peers
    //  may answer our listener before this node has a chain to offer to
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (!self->terminated) {
        //  While mining is held for a sync, or waits out the block
        //  interval with transactions waiting, wake when that ends
        int64_t until = zc_sync_hold_until (self->sync);
        bool waiting = self->miner && !self->job && zc_mempool_size (self->mempool) > 0
                    && self->next_job_at > zclock_mono ();
        if (waiting && (!until || self->next_job_at < until))
            until = self->next_job_at;
        int64_t hold = until - zclock_mono ();
        void *which = zpoller_wait (poller, until? (hold > 0? (int) hold: 0): -1);
        if (zpoller_terminated (poller))
            break;                      //  interrupted
        if (zc_sync_hold_expired (self->sync, zclock_mono ())
        &&  self->miner && !self->job)
            s_mine_next (self);
        else
        if (waiting && zclock_mono () >= self->next_job_at && !self->job
        &&  !zc_sync_hold_until (self->sync))
            s_mine_next (self);
        if (!which)
            continue;
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            else
            if (streq (command, "START")) {
                int rc = s_self_start (self);
                if (rc == 0) {
                    //  The miner first: zpoller answers the first ready
                    //  socket, and a listener that always has input (intake
                    //  under load) would otherwise hold a found block back
                    zpoller_add (poller, self->miner);
                    zpoller_add (poller, self->listener);
                    //  Mine what waits in the mempool, but only after the
                    //  first status round has shown whether a peer is ahead
                    //  (then the sync holds the miners until it is done)
                    if (self->config->peer_count > 0)
                        zc_sync_hold_start (self->sync, zclock_mono () + S_START_HOLD,
                                            self->config->peer_count);
                    else
                        s_mine_next (self);
                }
                zsock_signal (pipe, rc == 0? 0: 1);
            }
            zstr_free (&command);
        }
        else
        if (which == self->listener) {
            //  Take what is queued (bounded), then settle the batch
            int budget = S_TX_BATCH;
            do
                s_self_handle_listener (self);
            while (--budget > 0 && (zsock_events (self->listener) & ZMQ_POLLIN));
            s_flush_txs (self);
        }
        else
        if (self->miner && which == self->miner)
            s_handle_miner (self);
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}
