/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_market - the reference marketplace's record of confirmations

    The server instance keeps, in market.sqlite3, every block notice the
    gateway forwards, and for each transaction id which nodes confirm it
    in which block.  A rollback notice from a node withdraws that node's
    confirmations of the block, so a transaction is shown as confirmed
    only while some node's chain holds it.

    Notices are counted by node key, not node_id string (issue 9): the
    server has checked each one's signature before it gets here.

    Invariants: tx_confirmations holds (tx_id, node_key) at most once;
    confirmed_blocks the blocks each key confirmed and has not rolled
    back, so a rollback counts only from a node that confirmed the block;
    sources the highest seq recorded per key, so a notice delivered twice
    counts once.
    =========================================================================
*/

#include "zchain.h"
#include <sqlite3.h>
#include <stdarg.h>

struct _zc_market_t {
    sqlite3 *db;                //  market.sqlite3
};

static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS notices ("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  block_index INTEGER NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  miner_id TEXT,"
    "  node_id TEXT NOT NULL,"
    "  timestamp TEXT,"
    "  received_at TEXT NOT NULL,"
    "  body TEXT NOT NULL);"
    //  The first servers' table, by node_id, superseded by
    //  tx_confirmations when issue 9 counted by key; nothing reads it
    "DROP TABLE IF EXISTS confirmed_txs;"
    "CREATE TABLE IF NOT EXISTS tx_confirmations ("
    "  tx_id TEXT NOT NULL,"
    "  node_key TEXT NOT NULL,"
    "  node_id TEXT NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  block_index INTEGER NOT NULL,"
    "  PRIMARY KEY (tx_id, node_key));"
    "CREATE TABLE IF NOT EXISTS confirmed_blocks ("
    "  block_hash TEXT NOT NULL,"
    "  node_key TEXT NOT NULL,"
    "  PRIMARY KEY (block_hash, node_key));"
    "CREATE TABLE IF NOT EXISTS sources ("
    "  node_key TEXT PRIMARY KEY,"
    "  node_id TEXT NOT NULL,"
    "  last_seq INTEGER NOT NULL);";

//  Opens or creates the file.
zc_market_t *
zc_market_open (const char *path, char **error_p)
{
    zc_market_t *self = (zc_market_t *) zmalloc (sizeof (zc_market_t));
    char *message = NULL;
    if (sqlite3_open (path, &self->db) != SQLITE_OK
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL", NULL, NULL, &message) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema, NULL, NULL, &message) != SQLITE_OK) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: %s", path, message? message: sqlite3_errmsg (self->db));
        sqlite3_free (message);
        zc_market_destroy (&self);
        return NULL;
    }
    sqlite3_busy_timeout (self->db, 5000);
    return self;
}

void
zc_market_destroy (zc_market_t **self_p)
{
    if (self_p && *self_p) {
        sqlite3_close ((*self_p)->db);
        free (*self_p);
        *self_p = NULL;
    }
}

//  String member or NULL.
static const char *
s_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

//  Runs one statement with text/integer parameters given as a format of
//  't' (text) and 'i' (int64) characters; -1 on failure, else SQLITE_ROW
//  or SQLITE_DONE (with *value_p the first column of a row, if set).
static int
s_run (sqlite3 *db, const char *sql, const char *format, int64_t *value_p, ...)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    va_list args;
    va_start (args, value_p);
    for (int i = 0; format [i]; i++)
        if (format [i] == 't')
            sqlite3_bind_text (stmt, i + 1, va_arg (args, const char *), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64 (stmt, i + 1, va_arg (args, int64_t));
    va_end (args);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW && value_p)
        *value_p = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE? rc: -1;
}

//  Records one checked notice and what it confirms or withdraws, in one
//  SQL transaction.  1 if recorded, 0 if it changes nothing (seen before,
//  or a rollback of a block this node never confirmed), -1 if malformed
//  or not written.
int
zc_market_record (zc_market_t *self, const cJSON *notice)
{
    const char *type = s_string (notice, "type");
    const char *hash = s_string (notice, "block_hash");
    const char *node_id = s_string (notice, "node_id");
    const char *key = s_string (notice, "public_key");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive (notice, "block_index");
    const cJSON *seq_item = cJSON_GetObjectItemCaseSensitive (notice, "seq");
    const cJSON *tx_ids = cJSON_GetObjectItemCaseSensitive (notice, "tx_ids");
    if (!type || !hash || !node_id || !key || !cJSON_IsNumber (index) || !cJSON_IsNumber (seq_item)
    ||  (!streq (type, "block_confirmation") && !streq (type, "block_rollback")))
        return -1;
    //  Forms checked before anything is cast or stored (issue 10): a huge
    //  block_index was cast to INT64_MIN
    if (!(index->valuedouble >= 0 && index->valuedouble <= 9007199254740992.0)
    ||  index->valuedouble != (double) (int64_t) index->valuedouble
    ||  !zc_hash_valid (hash) || !zc_uuid_valid (node_id))
        return -1;
    bool confirm = streq (type, "block_confirmation");
    int64_t seq = (int64_t) seq_item->valuedouble;
    int64_t block_index = (int64_t) index->valuedouble;
    char *body = zc_jcs_serialize (notice);
    if (!body)                  //  nothing is stored that cannot be sent back
        return -1;
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK? 1: -1;
    int64_t last = 0, confirmed = 0;
    if (rc == 1 && s_run (self->db, "SELECT last_seq FROM sources WHERE node_key = ?", "t",
                          &last, key) < 0)
        rc = -1;
    if (rc == 1 && last >= seq)
        rc = 0;                         //  delivered before
    if (rc == 1 && !confirm
    &&  s_run (self->db, "SELECT COUNT(*) FROM confirmed_blocks WHERE block_hash = ?"
               " AND node_key = ?", "tt", &confirmed, hash, key) < 0)
        rc = -1;
    if (rc == 1 && s_run (self->db, "INSERT OR REPLACE INTO sources (node_key, node_id, last_seq)"
                          " VALUES (?,?,?)", "tti", NULL, key, node_id, seq) < 0)
        rc = -1;
    if (rc == 1 && !confirm && confirmed == 0)
        rc = 2;                         //  a rollback of a block it never confirmed
    if (rc == 1
    &&  s_run (self->db, "INSERT INTO notices (type, block_index, block_hash, miner_id, node_id,"
               " timestamp, received_at, body) VALUES (?,?,?,?,?,?,?,?)", "titttttt", NULL,
               type, block_index, hash, s_string (notice, "miner_id"), node_id,
               s_string (notice, "timestamp"), now, body? body: "") < 0)
        rc = -1;
    if (rc == 1 && confirm) {
        if (s_run (self->db, "INSERT OR IGNORE INTO confirmed_blocks (block_hash, node_key)"
                   " VALUES (?,?)", "tt", NULL, hash, key) < 0)
            rc = -1;
        const cJSON *tx_id;
        cJSON_ArrayForEach (tx_id, tx_ids)
            if (rc == 1 && cJSON_IsString (tx_id) && zc_hash_valid (tx_id->valuestring)
            &&  s_run (self->db, "INSERT OR REPLACE INTO tx_confirmations (tx_id, node_key,"
                       " node_id, block_hash, block_index) VALUES (?,?,?,?,?)", "tttti", NULL,
                       tx_id->valuestring, key, node_id, hash, block_index) < 0)
                rc = -1;
    }
    else
    if (rc == 1) {
        if (s_run (self->db, "DELETE FROM confirmed_blocks WHERE block_hash = ? AND node_key = ?",
                   "tt", NULL, hash, key) < 0
        ||  s_run (self->db, "DELETE FROM tx_confirmations WHERE block_hash = ? AND node_key = ?",
                   "tt", NULL, hash, key) < 0)
            rc = -1;
    }
    if (rc == 2)
        rc = 0;
    if (rc >= 0 && sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc < 0)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    free (body);
    return rc;
}

//  What the market knows of a transaction: {"type":"confirmation","tx_id",
//  "confirmed","nodes","node_ids","block_hash","block_index"}; nodes
//  counts distinct node keys.
cJSON *
zc_market_lookup (zc_market_t *self, const char *tx_id)
{
    cJSON *reply = cJSON_CreateObject ();
    cJSON_AddStringToObject (reply, "type", "confirmation");
    cJSON_AddStringToObject (reply, "tx_id", tx_id);
    cJSON *node_ids = cJSON_CreateArray ();
    sqlite3_stmt *stmt = NULL;
    int count = 0;
    if (sqlite3_prepare_v2 (self->db, "SELECT node_id, block_hash, block_index"
                            " FROM tx_confirmations WHERE tx_id = ? ORDER BY node_id",
                            -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text (stmt, 1, tx_id, -1, SQLITE_STATIC);
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            cJSON_AddItemToArray (node_ids,
                cJSON_CreateString ((const char *) sqlite3_column_text (stmt, 0)));
            if (count++ == 0) {
                cJSON_AddStringToObject (reply, "block_hash",
                                         (const char *) sqlite3_column_text (stmt, 1));
                cJSON_AddNumberToObject (reply, "block_index",
                                         (double) sqlite3_column_int64 (stmt, 2));
            }
        }
    }
    sqlite3_finalize (stmt);
    cJSON_AddBoolToObject (reply, "confirmed", count > 0);
    cJSON_AddNumberToObject (reply, "nodes", count);
    cJSON_AddItemToObject (reply, "node_ids", node_ids);
    return reply;
}
