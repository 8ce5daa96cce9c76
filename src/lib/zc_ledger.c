/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_ledger - a node's SQLite file: blocks and confirmed transactions

    The file holds the seed's two tables, plus public_key_pem on blocks so
    that any block can be verified again from the file alone, and each
    transaction's position inside its block so that a block read back
    hashes the same.

    Invariant: the blocks table holds exactly one chain, indexes 0..height
    without gaps, each block's prev_hash equal to the current_hash of the
    block one below; every transaction row belongs to a block of that
    chain, and a transaction id appears at most once.  Every change is one
    SQL transaction that keeps the invariant, so a crash at any point
    leaves the file at the chain before or after the change, never between.
    =========================================================================
*/

#include "zchain.h"
#include <inttypes.h>
#include <sqlite3.h>
#include <time.h>

struct _zc_ledger_t {
    sqlite3 *db;                //  the open file
    sqlite3_stmt *insert_block; //  prepared INSERT into blocks
    sqlite3_stmt *insert_tx;    //  prepared INSERT into transactions
    sqlite3_stmt *select_block; //  prepared SELECT of one block by index
    sqlite3_stmt *select_txs;   //  prepared SELECT of one block's txs
    sqlite3_stmt *has_tx;       //  prepared lookup of a tx id
    sqlite3_stmt *pool_insert;  //  prepared INSERT into mempool
    sqlite3_stmt *pool_delete;  //  prepared DELETE from mempool
    bool outbox;                //  block notices go to the outbox table
    int64_t last_seq;           //  seq of the last notice written
    sqlite3_stmt *block_index;  //  prepared index of a block by hash
    sqlite3_stmt *tx_height;    //  prepared index of the block holding a tx
    //  What every block write runs, prepared once: parsing them each time
    //  was a tenth of a node's CPU at a block or so per transaction
    sqlite3_stmt *begin;        //  BEGIN IMMEDIATE
    sqlite3_stmt *commit;       //  COMMIT
    sqlite3_stmt *restore_pool; //  transactions above a height wait again
    sqlite3_stmt *delete_txs;   //  transactions above a height
    sqlite3_stmt *delete_blocks;    //  blocks above a height
    sqlite3_stmt *outbox_insert;    //  one notice row
    sqlite3_stmt *outbox_seq;   //  the last seq written
    sqlite3_stmt *outbox_above; //  blocks above a height, tip first, and tx ids
    sqlite3_stmt *outbox_delete;    //  one notice row, acknowledged
};

static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS blocks ("
    "  \"index\" INTEGER PRIMARY KEY,"
    "  timestamp TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  current_hash TEXT NOT NULL UNIQUE,"
    "  nonce INTEGER NOT NULL,"
    "  miner_id TEXT NOT NULL,"
    "  signature TEXT NOT NULL,"
    "  public_key_pem TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS transactions ("
    "  id TEXT PRIMARY KEY,"
    "  block_hash TEXT NOT NULL REFERENCES blocks (current_hash),"
    "  sender TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  signature TEXT NOT NULL,"
    "  start_timestamp TEXT NOT NULL,"
    "  end_timestamp TEXT NOT NULL,"
    "  position INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS transactions_block"
    "  ON transactions (block_hash, position);"
    "CREATE TABLE IF NOT EXISTS mempool ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  sender TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  signature TEXT NOT NULL,"
    "  received TEXT NOT NULL);"
    //  Block notices the node owes its gateway, written in the SQL
    //  transaction of the change they report, deleted once acknowledged
    "CREATE TABLE IF NOT EXISTS outbox ("
    "  seq INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  block_index INTEGER NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  miner_id TEXT,"
    "  timestamp TEXT,"
    "  tx_ids TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outbox_seq ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  last INTEGER NOT NULL);";

//  Runs SQL that returns no rows; on failure records the message.
static int
s_exec (zc_ledger_t *self, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        zc_log_error ("ledger: %s: %s", sql, message? message: "?");
        sqlite3_free (message);
        return -1;
    }
    return 0;
}

//  Prepares one statement; -1 if SQLite refuses it.
static int
s_prepare (zc_ledger_t *self, const char *sql, sqlite3_stmt **stmt_p)
{
    return sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                               stmt_p, NULL) == SQLITE_OK? 0: -1;
}

//  Runs a prepared statement that returns no rows, with an optional
//  integer parameter; -1 (logged) if SQLite fails it.
static int
s_step (zc_ledger_t *self, sqlite3_stmt *stmt, bool bind, int64_t value)
{
    sqlite3_reset (stmt);
    if (bind)
        sqlite3_bind_int64 (stmt, 1, value);
    int rc = sqlite3_step (stmt) == SQLITE_DONE? 0: -1;
    if (rc != 0)
        zc_log_error ("ledger: %s: %s", sqlite3_sql (stmt), sqlite3_errmsg (self->db));
    sqlite3_reset (stmt);
    return rc;
}

//  Inserts one block and its transactions; the caller holds the SQL
//  transaction.
static int
s_insert_block (zc_ledger_t *self, zc_block_t *block, const char *now)
{
    sqlite3_stmt *stmt = self->insert_block;
    sqlite3_reset (stmt);
    sqlite3_bind_int64 (stmt, 1, zc_block_index (block));
    sqlite3_bind_text (stmt, 2, zc_block_timestamp (block), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, zc_block_prev_hash (block), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, zc_block_hash (block), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) zc_block_nonce (block));
    sqlite3_bind_text (stmt, 6, zc_block_miner_id (block), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, zc_block_signature (block), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 8, zc_block_public_key_pem (block), -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_DONE) {
        zc_log_error ("ledger: cannot insert block %" PRId64 ": %s",
                    zc_block_index (block), sqlite3_errmsg (self->db));
        return -1;
    }
    for (size_t i = 0; i < zc_block_tx_count (block); i++) {
        zc_tx_t *tx = zc_block_tx (block, i);
        stmt = self->insert_tx;
        sqlite3_reset (stmt);
        sqlite3_bind_text (stmt, 1, zc_tx_id (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, zc_block_hash (block), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 3, zc_tx_sender (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 4, zc_tx_data (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 5, zc_tx_signature (tx), -1, SQLITE_STATIC);
        const char *received = zc_tx_received (tx);
        sqlite3_bind_text (stmt, 6, *received? received: now, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 7, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) i);
        if (sqlite3_step (stmt) != SQLITE_DONE) {
            zc_log_error ("ledger: cannot insert transaction %s: %s",
                        zc_tx_id (tx), sqlite3_errmsg (self->db));
            return -1;
        }
        //  Confirmed: no longer waiting
        sqlite3_reset (self->pool_delete);
        sqlite3_bind_text (self->pool_delete, 1, zc_tx_id (tx), -1, SQLITE_STATIC);
        if (sqlite3_step (self->pool_delete) != SQLITE_DONE)
            return -1;
    }
    return 0;
}

//  Opens the file, applies the schema and writes genesis into a new file.
zc_ledger_t *
zc_ledger_open (const char *path, char **error_p)
{
    zc_ledger_t *self = (zc_ledger_t *) zmalloc (sizeof (zc_ledger_t));
    int rc = sqlite3_open_v2 (path, &self->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout (self->db, 5000);
    if (rc != SQLITE_OK
    ||  s_exec (self, "PRAGMA journal_mode=WAL") != 0
    //  Each commit is on the disk before it returns (the WAL is synced):
    //  what a node acknowledges survives the machine failing, not only the
    //  process.  NORMAL synced only at checkpoints; FULL cost 6 % of the
    //  50-client rate and 0.4 ms of a lone client's acknowledgement (issue 11)
    ||  s_exec (self, "PRAGMA synchronous=FULL") != 0
    ||  s_exec (self, s_schema) != 0
    ||  s_prepare (self, "INSERT INTO blocks (\"index\", timestamp, prev_hash,"
                   " current_hash, nonce, miner_id, signature, public_key_pem)"
                   " VALUES (?,?,?,?,?,?,?,?)", &self->insert_block) != 0
    ||  s_prepare (self, "INSERT INTO transactions (id, block_hash, sender, data,"
                   " signature, start_timestamp, end_timestamp, position)"
                   " VALUES (?,?,?,?,?,?,?,?)", &self->insert_tx) != 0
    ||  s_prepare (self, "SELECT \"index\", timestamp, prev_hash, current_hash,"
                   " nonce, miner_id, signature, public_key_pem FROM blocks"
                   " WHERE \"index\" = ?", &self->select_block) != 0
    ||  s_prepare (self, "SELECT sender, data, signature, start_timestamp"
                   " FROM transactions WHERE block_hash = ? ORDER BY position",
                   &self->select_txs) != 0
    ||  s_prepare (self, "SELECT 1 FROM transactions WHERE id = ?",
                   &self->has_tx) != 0
    ||  s_prepare (self, "INSERT OR IGNORE INTO mempool (id, sender, data, signature,"
                   " received) VALUES (?,?,?,?,?)", &self->pool_insert) != 0
    ||  s_prepare (self, "DELETE FROM mempool WHERE id = ?", &self->pool_delete) != 0
    ||  s_prepare (self, "SELECT \"index\" FROM blocks WHERE current_hash = ?",
                   &self->block_index) != 0
    ||  s_prepare (self, "SELECT b.\"index\" FROM transactions t JOIN blocks b"
                   " ON b.current_hash = t.block_hash WHERE t.id = ?",
                   &self->tx_height) != 0
    ||  s_prepare (self, "BEGIN IMMEDIATE", &self->begin) != 0
    ||  s_prepare (self, "COMMIT", &self->commit) != 0
    ||  s_prepare (self, "INSERT OR IGNORE INTO mempool (id, sender, data, signature, received)"
                   " SELECT t.id, t.sender, t.data, t.signature, t.start_timestamp"
                   " FROM transactions t JOIN blocks b ON t.block_hash = b.current_hash"
                   " WHERE b.\"index\" > ? ORDER BY b.\"index\", t.position",
                   &self->restore_pool) != 0
    ||  s_prepare (self, "DELETE FROM transactions WHERE block_hash IN"
                   " (SELECT current_hash FROM blocks WHERE \"index\" > ?)",
                   &self->delete_txs) != 0
    ||  s_prepare (self, "DELETE FROM blocks WHERE \"index\" > ?", &self->delete_blocks) != 0
    ||  s_prepare (self, "INSERT INTO outbox (seq, type, block_index, block_hash, miner_id,"
                   " timestamp, tx_ids) VALUES (?,?,?,?,?,?,?)", &self->outbox_insert) != 0
    ||  s_prepare (self, "INSERT OR REPLACE INTO outbox_seq (id, last) VALUES (1, ?)",
                   &self->outbox_seq) != 0
    ||  s_prepare (self, "SELECT b.\"index\", b.current_hash,"
                   " (SELECT group_concat (id, ',') FROM (SELECT id FROM transactions"
                   "  WHERE block_hash = b.current_hash ORDER BY position))"
                   " FROM blocks b WHERE b.\"index\" > ? ORDER BY b.\"index\" DESC",
                   &self->outbox_above) != 0
    ||  s_prepare (self, "DELETE FROM outbox WHERE seq = ?", &self->outbox_delete) != 0) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: %s", path,
                                     self->db? sqlite3_errmsg (self->db): "cannot open");
        zc_ledger_destroy (&self);
        return NULL;
    }
    //  A new file gets the network's genesis block
    if (zc_ledger_height (self) < 0) {
        zc_block_t *genesis = zc_block_genesis ();
        char now [ZC_TIMESTAMP_LEN + 1];
        zc_timestamp_now (now);
        int rc = s_exec (self, "BEGIN IMMEDIATE");
        if (rc == 0)
            rc = s_insert_block (self, genesis, now);
        if (rc == 0)
            rc = s_exec (self, "COMMIT");
        else
            s_exec (self, "ROLLBACK");
        zc_block_destroy (&genesis);
        if (rc != 0) {
            if (error_p)
                *error_p = zsys_sprintf ("%s: cannot write genesis block", path);
            zc_ledger_destroy (&self);
            return NULL;
        }
    }
    return self;
}

//  Closes the file and nulls the caller's pointer.
void
zc_ledger_destroy (zc_ledger_t **self_p)
{
    if (self_p && *self_p) {
        zc_ledger_t *self = *self_p;
        sqlite3_finalize (self->insert_block);
        sqlite3_finalize (self->insert_tx);
        sqlite3_finalize (self->select_block);
        sqlite3_finalize (self->select_txs);
        sqlite3_finalize (self->has_tx);
        sqlite3_finalize (self->pool_insert);
        sqlite3_finalize (self->pool_delete);
        sqlite3_finalize (self->block_index);
        sqlite3_finalize (self->tx_height);
        sqlite3_finalize (self->begin);
        sqlite3_finalize (self->commit);
        sqlite3_finalize (self->restore_pool);
        sqlite3_finalize (self->delete_txs);
        sqlite3_finalize (self->delete_blocks);
        sqlite3_finalize (self->outbox_insert);
        sqlite3_finalize (self->outbox_seq);
        sqlite3_finalize (self->outbox_above);
        sqlite3_finalize (self->outbox_delete);
        sqlite3_close (self->db);
        free (self);
        *self_p = NULL;
    }
}

//  Index of the last block, or -1 for a file with no blocks yet.
int64_t
zc_ledger_height (zc_ledger_t *self)
{
    sqlite3_stmt *stmt;
    int64_t height = -1;
    if (sqlite3_prepare_v2 (self->db, "SELECT MAX(\"index\") FROM blocks",
                            -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step (stmt) == SQLITE_ROW
        &&  sqlite3_column_type (stmt, 0) != SQLITE_NULL)
            height = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    return height;
}

//  Text of a column, never NULL.
static const char *
s_text (sqlite3_stmt *stmt, int column)
{
    const char *text = (const char *) sqlite3_column_text (stmt, column);
    return text? text: "";
}

//  Reads a block back as it was written, transactions in block order.
zc_block_t *
zc_ledger_block (zc_ledger_t *self, int64_t index)
{
    sqlite3_stmt *stmt = self->select_block;
    sqlite3_reset (stmt);
    sqlite3_bind_int64 (stmt, 1, index);
    if (sqlite3_step (stmt) != SQLITE_ROW)
        return NULL;
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddNumberToObject (json, "index", (double) sqlite3_column_int64 (stmt, 0));
    cJSON_AddStringToObject (json, "timestamp", s_text (stmt, 1));
    cJSON_AddStringToObject (json, "prev_hash", s_text (stmt, 2));
    cJSON_AddStringToObject (json, "current_hash", s_text (stmt, 3));
    cJSON_AddNumberToObject (json, "nonce", (double) sqlite3_column_int64 (stmt, 4));
    cJSON_AddStringToObject (json, "miner_id", s_text (stmt, 5));
    cJSON_AddStringToObject (json, "signature", s_text (stmt, 6));
    cJSON_AddStringToObject (json, "public_key_pem", s_text (stmt, 7));
    cJSON *txs = cJSON_AddArrayToObject (json, "transactions");
    cJSON *received = cJSON_CreateArray ();

    sqlite3_stmt *tx_stmt = self->select_txs;
    sqlite3_reset (tx_stmt);
    sqlite3_bind_text (tx_stmt, 1, s_text (stmt, 3), -1, SQLITE_TRANSIENT);
    while (sqlite3_step (tx_stmt) == SQLITE_ROW) {
        cJSON *tx = cJSON_CreateObject ();
        cJSON_AddStringToObject (tx, "sender", s_text (tx_stmt, 0));
        const char *data = s_text (tx_stmt, 1);
        cJSON *data_json = zc_json_parse (data, strlen (data));
        cJSON_AddItemToObject (tx, "data", data_json? data_json: cJSON_CreateNull ());
        cJSON_AddStringToObject (tx, "signature", s_text (tx_stmt, 2));
        cJSON_AddItemToArray (txs, tx);
        cJSON_AddItemToArray (received, cJSON_CreateString (s_text (tx_stmt, 3)));
    }
    sqlite3_reset (tx_stmt);
    sqlite3_reset (stmt);
    const char *error = NULL;
    zc_block_t *block = zc_block_from_json (json, &error);
    if (!block)
        zc_log_error ("ledger: block %" PRId64 " cannot be read back: %s", index, error);
    else
        for (size_t i = 0; i < zc_block_tx_count (block); i++)
            zc_tx_set_received (zc_block_tx (block, i),
                                cJSON_GetArrayItem (received, (int) i)->valuestring);
    cJSON_Delete (received);
    cJSON_Delete (json);
    return block;
}

//  ---------------------------------------------------------------------
//  The outbox: block notices owed to the gateway (issue 9)

//  Adds one notice row; the caller holds the SQL transaction.  seq only
//  grows, across restarts and even a ledger made anew with the same key:
//  it is at least the wall clock in microseconds.
static int
s_outbox_add (zc_ledger_t *self, const char *type, int64_t index, const char *hash,
              const char *miner_id, const char *timestamp, const char *tx_ids)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t clock = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
    int64_t seq = self->last_seq + 1 > clock? self->last_seq + 1: clock;
    sqlite3_stmt *stmt = self->outbox_insert;
    sqlite3_reset (stmt);
    sqlite3_bind_int64 (stmt, 1, seq);
    sqlite3_bind_text (stmt, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, index);
    sqlite3_bind_text (stmt, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, miner_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, timestamp, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, tx_ids, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt) == SQLITE_DONE? 0: -1;
    sqlite3_reset (stmt);
    if (rc == 0)
        rc = s_step (self, self->outbox_seq, true, seq);
    if (rc == 0)
        self->last_seq = seq;
    else
        zc_log_error ("ledger: cannot write a notice of block %" PRId64 ": %s", index,
                    sqlite3_errmsg (self->db));
    return rc;
}

//  A block_confirmation row for a block being added.
static int
s_outbox_confirmation (zc_ledger_t *self, zc_block_t *block)
{
    size_t count = zc_block_tx_count (block);
    char *ids = (char *) malloc (count * (ZC_HASH_HEX + 1) + 1);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (i)
            ids [used++] = ',';
        memcpy (ids + used, zc_tx_id (zc_block_tx (block, i)), ZC_HASH_HEX);
        used += ZC_HASH_HEX;
    }
    ids [used] = 0;
    int rc = s_outbox_add (self, "block_confirmation", zc_block_index (block),
                           zc_block_hash (block), zc_block_miner_id (block),
                           zc_block_timestamp (block), ids);
    free (ids);
    return rc;
}

//  block_rollback rows for the blocks above fork_height, tip first, read
//  before they are deleted.
static int
s_outbox_rollbacks (zc_ledger_t *self, int64_t fork_height)
{
    sqlite3_stmt *stmt = self->outbox_above;
    sqlite3_reset (stmt);
    sqlite3_bind_int64 (stmt, 1, fork_height);
    int rc = 0, step;
    zlistx_t *rows = zlistx_new ();
    zlistx_set_destructor (rows, (czmq_destructor *) zstr_free);
    while ((step = sqlite3_step (stmt)) == SQLITE_ROW)
        zlistx_add_end (rows, zsys_sprintf ("%" PRId64 " %s %s", sqlite3_column_int64 (stmt, 0),
                                            s_text (stmt, 1), s_text (stmt, 2)));
    if (step != SQLITE_DONE)
        rc = -1;
    sqlite3_reset (stmt);
    for (char *row = (char *) zlistx_first (rows); row && rc == 0;
         row = (char *) zlistx_next (rows)) {
        char hash [ZC_HASH_HEX + 1];
        int64_t index = 0;
        int offset = 0;
        if (sscanf (row, "%" SCNd64 " %64s %n", &index, hash, &offset) < 2)
            rc = -1;
        else
            rc = s_outbox_add (self, "block_rollback", index, hash, NULL, NULL,
                               offset > 0? row + offset: "");
    }
    zlistx_destroy (&rows);
    return rc;
}

//  Block notices go to the outbox table from now on (a node with a gateway).
void
zc_ledger_set_outbox (zc_ledger_t *self, bool outbox)
{
    self->outbox = outbox;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "SELECT last FROM outbox_seq WHERE id = 1",
                            -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        self->last_seq = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
}

//  zlistx destructor of a cJSON item.
static void
s_json_destroy (cJSON **item_p)
{
    cJSON_Delete (*item_p);
    *item_p = NULL;
}

//  Up to max notices with seq above after, oldest first: JSON objects with
//  type, block_index, block_hash, (miner_id, timestamp,) tx_ids and seq.
zlistx_t *
zc_ledger_outbox_load (zc_ledger_t *self, int64_t after, size_t max)
{
    zlistx_t *notices = zlistx_new ();
    zlistx_set_destructor (notices, (czmq_destructor *) s_json_destroy);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "SELECT seq, type, block_index, block_hash, miner_id,"
                            " timestamp, tx_ids FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                            -1, &stmt, NULL) != SQLITE_OK)
        return notices;
    sqlite3_bind_int64 (stmt, 1, after);
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) max);
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        cJSON *notice = cJSON_CreateObject ();
        cJSON_AddStringToObject (notice, "type", s_text (stmt, 1));
        cJSON_AddNumberToObject (notice, "block_index", (double) sqlite3_column_int64 (stmt, 2));
        cJSON_AddStringToObject (notice, "block_hash", s_text (stmt, 3));
        if (streq (s_text (stmt, 1), "block_confirmation")) {
            cJSON_AddStringToObject (notice, "miner_id", s_text (stmt, 4));
            cJSON_AddStringToObject (notice, "timestamp", s_text (stmt, 5));
        }
        cJSON *ids = cJSON_AddArrayToObject (notice, "tx_ids");
        const char *cursor = s_text (stmt, 6);
        while (strlen (cursor) >= ZC_HASH_HEX) {
            char id [ZC_HASH_HEX + 1];
            memcpy (id, cursor, ZC_HASH_HEX);
            id [ZC_HASH_HEX] = 0;
            cJSON_AddItemToArray (ids, cJSON_CreateString (id));
            cursor += ZC_HASH_HEX;
            if (*cursor == ',')
                cursor++;
        }
        cJSON_AddNumberToObject (notice, "seq", (double) sqlite3_column_int64 (stmt, 0));
        zlistx_add_end (notices, notice);
    }
    sqlite3_finalize (stmt);
    return notices;
}

//  Deletes the notice with that seq (the gateway acknowledged it).
int
zc_ledger_outbox_remove (zc_ledger_t *self, int64_t seq)
{
    return s_step (self, self->outbox_delete, true, seq);
}

//  Notices still owed.
int64_t
zc_ledger_outbox_count (zc_ledger_t *self)
{
    sqlite3_stmt *stmt = NULL;
    int64_t count = -1;
    if (sqlite3_prepare_v2 (self->db, "SELECT COUNT(*) FROM outbox", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return count;
}

//  Swaps the chain above fork_height for the given blocks, in one SQL
//  transaction; checks the new blocks link onto the block at fork_height.
int
zc_ledger_replace (zc_ledger_t *self, int64_t fork_height,
                   zc_block_t **blocks, size_t count)
{
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    if (s_step (self, self->begin, false, 0) != 0)
        return -1;
    int rc = self->outbox? s_outbox_rollbacks (self, fork_height): 0;
    //  Transactions of the blocks taken off wait again (those the new
    //  blocks hold leave the mempool table as each is inserted)
    if (rc == 0)
        rc = s_step (self, self->restore_pool, true, fork_height);
    if (rc == 0)
        rc = s_step (self, self->delete_txs, true, fork_height);
    if (rc == 0)
        rc = s_step (self, self->delete_blocks, true, fork_height);

    //  The first new block must sit on the block at fork_height
    zc_block_t *fork = rc == 0? zc_ledger_block (self, fork_height): NULL;
    if (!fork)
        rc = -1;
    const char *link = fork? zc_block_hash (fork): "";
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (zc_block_index (blocks [i]) != fork_height + 1 + (int64_t) i
        ||  strcmp (zc_block_prev_hash (blocks [i]), link) != 0) {
            zc_log_error ("ledger: block %" PRId64 " does not link to the chain",
                        zc_block_index (blocks [i]));
            rc = -1;
        }
        else
            rc = s_insert_block (self, blocks [i], now);
        link = zc_block_hash (blocks [i]);
    }
    zc_block_destroy (&fork);
    for (size_t i = 0; i < count && rc == 0 && self->outbox; i++)
        rc = s_outbox_confirmation (self, blocks [i]);
    if (rc == 0)
        rc = s_step (self, self->commit, false, 0);
    if (rc != 0)
        s_exec (self, "ROLLBACK");
    return rc;
}

//  True if the chain in the file confirms a transaction with this id.
bool
zc_ledger_has_tx (zc_ledger_t *self, const char *tx_id)
{
    sqlite3_stmt *stmt = self->has_tx;
    sqlite3_reset (stmt);
    sqlite3_bind_text (stmt, 1, tx_id, -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step (stmt) == SQLITE_ROW;
    sqlite3_reset (stmt);
    return found;
}

//  How many transactions the chain in the file confirms.
int64_t
zc_ledger_tx_count (zc_ledger_t *self)
{
    sqlite3_stmt *stmt;
    int64_t count = -1;
    if (sqlite3_prepare_v2 (self->db, "SELECT COUNT(*) FROM transactions",
                            -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step (stmt) == SQLITE_ROW)
            count = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    return count;
}

//  Keeps acknowledged transactions in the file, in one SQL transaction,
//  so that they survive a crash until a block confirms them.
int
zc_ledger_pool_add (zc_ledger_t *self, zc_tx_t **txs, size_t count)
{
    if (s_step (self, self->begin, false, 0) != 0)
        return -1;
    int rc = 0;
    sqlite3_stmt *stmt = self->pool_insert;
    for (size_t i = 0; i < count && rc == 0; i++) {
        zc_tx_t *tx = txs [i];
        sqlite3_reset (stmt);
        sqlite3_bind_text (stmt, 1, zc_tx_id (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, zc_tx_sender (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 3, zc_tx_data (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 4, zc_tx_signature (tx), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 5, zc_tx_received (tx), -1, SQLITE_STATIC);
        if (sqlite3_step (stmt) != SQLITE_DONE) {
            zc_log_error ("ledger: cannot keep transaction %s: %s", zc_tx_id (tx),
                        sqlite3_errmsg (self->db));
            rc = -1;
        }
    }
    sqlite3_reset (stmt);
    if (rc == 0)
        rc = s_step (self, self->commit, false, 0);
    if (rc != 0)
        s_exec (self, "ROLLBACK");
    return rc;
}

//  Drops a transaction from the file's mempool (evicted, or refused).
int
zc_ledger_pool_remove (zc_ledger_t *self, const char *tx_id)
{
    sqlite3_stmt *stmt = self->pool_delete;
    sqlite3_reset (stmt);
    sqlite3_bind_text (stmt, 1, tx_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step (stmt) == SQLITE_DONE? 0: -1;
    sqlite3_reset (stmt);
    return rc;
}

//  The transactions waiting in the file, oldest first, for a restarted
//  node's mempool.  A row that no longer parses is skipped and logged.
zlistx_t *
zc_ledger_pool_load (zc_ledger_t *self)
{
    zlistx_t *txs = zlistx_new ();
    zlistx_set_destructor (txs, (czmq_destructor *) zc_tx_destroy);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "SELECT sender, data, signature, received"
                            " FROM mempool ORDER BY seq", -1, &stmt, NULL) != SQLITE_OK)
        return txs;
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        cJSON *json = cJSON_CreateObject ();
        cJSON_AddStringToObject (json, "sender", s_text (stmt, 0));
        const char *data = s_text (stmt, 1);
        cJSON *data_json = zc_json_parse (data, strlen (data));
        cJSON_AddItemToObject (json, "data", data_json? data_json: cJSON_CreateNull ());
        cJSON_AddStringToObject (json, "signature", s_text (stmt, 2));
        const char *error = NULL;
        zc_tx_t *tx = zc_tx_from_json (json, &error);
        if (tx) {
            zc_tx_set_received (tx, s_text (stmt, 3));
            zlistx_add_end (txs, tx);
        }
        else
            zc_log_warning ("ledger: waiting transaction cannot be read back: %s", error);
        cJSON_Delete (json);
    }
    sqlite3_finalize (stmt);
    return txs;
}

//  How many transactions wait in the file.
int64_t
zc_ledger_pool_count (zc_ledger_t *self)
{
    sqlite3_stmt *stmt;
    int64_t count = -1;
    if (sqlite3_prepare_v2 (self->db, "SELECT COUNT(*) FROM mempool",
                            -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step (stmt) == SQLITE_ROW)
            count = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    return count;
}


//  Runs a prepared one-column lookup bound to key; the integer found or -1.
static int64_t
s_lookup_index (sqlite3_stmt *stmt, const char *key)
{
    sqlite3_reset (stmt);
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
    int64_t index = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        index = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return index;
}

//  Index of the main-chain block with that hash, or -1 (the UNIQUE
//  constraint on current_hash gives the index this uses).
int64_t
zc_ledger_block_index (zc_ledger_t *self, const char *hash)
{
    return s_lookup_index (self->block_index, hash);
}

//  Index of the block that confirms the transaction, or -1 (two index
//  lookups: the transaction's primary key, then current_hash).
int64_t
zc_ledger_tx_height (zc_ledger_t *self, const char *tx_id)
{
    return s_lookup_index (self->tx_height, tx_id);
}

//  Walks the whole file in index order, one block in memory at a time,
//  and checks what a peer's block is checked for plus what only the file
//  can show: genesis is the network's, every block links to the one below
//  and sits at its index, and the transactions table holds exactly the
//  rows of the blocks.
int
zc_ledger_check (zc_ledger_t *self, int difficulty, size_t max_txs, bool verify_txs,
                 int64_t *checked_p, char **error_p)
{
    int64_t height = zc_ledger_height (self);
    int64_t tx_rows = zc_ledger_tx_count (self), tx_seen = 0;
    char *error = NULL;
    char link [ZC_HASH_HEX + 1] = "";
    zc_block_t *genesis = zc_block_genesis ();
    if (height < 0)
        error = strdup ("the file holds no block");
    for (int64_t index = 0; index <= height && !error; index++) {
        zc_block_t *block = zc_ledger_block (self, index);
        if (!block)
            error = zsys_sprintf ("block %" PRId64 " is missing or cannot be read", index);
        else
        if (index == 0) {
            if (strcmp (zc_block_hash (block), zc_block_hash (genesis)) != 0)
                error = strdup ("block 0 is not this network's genesis block");
        }
        else {
            const char *reason = NULL;
            if (zc_block_index (block) != index)
                reason = "index out of place";
            else
            if (strcmp (zc_block_prev_hash (block), link) != 0)
                reason = "does not link to the block below";
            else
                reason = zc_block_check (block, difficulty, max_txs, verify_txs, NULL, NULL);
            if (reason)
                error = zsys_sprintf ("block %" PRId64 ": %s", index, reason);
        }
        if (block) {
            snprintf (link, sizeof link, "%s", zc_block_hash (block));
            tx_seen += (int64_t) zc_block_tx_count (block);
        }
        zc_block_destroy (&block);
        if (checked_p)
            *checked_p = index;
    }
    if (!error && tx_seen != tx_rows)
        error = zsys_sprintf ("%" PRId64 " transaction rows but the blocks hold %" PRId64,
                              tx_rows, tx_seen);
    zc_block_destroy (&genesis);
    if (error_p)
        *error_p = error;
    else
        free (error);
    return error? -1: 0;
}
