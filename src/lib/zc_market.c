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

    Invariant: confirmed_txs holds (tx_id, node_id) at most once, the
    block in which that node's chain holds the transaction now.
    =========================================================================
*/

#include "zchain.h"
#include <sqlite3.h>

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
    "CREATE TABLE IF NOT EXISTS confirmed_txs ("
    "  tx_id TEXT NOT NULL,"
    "  node_id TEXT NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  block_index INTEGER NOT NULL,"
    "  PRIMARY KEY (tx_id, node_id));";

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

//  Records one notice and what it confirms or withdraws, in one SQL
//  transaction.  -1 if the notice is malformed or cannot be written.
int
zc_market_record (zc_market_t *self, const cJSON *notice)
{
    const char *type = s_string (notice, "type");
    const char *hash = s_string (notice, "block_hash");
    const char *node_id = s_string (notice, "node_id");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive (notice, "block_index");
    const cJSON *tx_ids = cJSON_GetObjectItemCaseSensitive (notice, "tx_ids");
    if (!type || !hash || !node_id || !cJSON_IsNumber (index)
    ||  (!streq (type, "block_confirmation") && !streq (type, "block_rollback")))
        return -1;
    bool confirm = streq (type, "block_confirmation");
    char *body = zc_jcs_serialize (notice);
    char now [ZC_TIMESTAMP_LEN + 1];
    zc_timestamp_now (now);
    int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK? 0: -1;
    sqlite3_stmt *stmt = NULL;
    if (rc == 0
    &&  sqlite3_prepare_v2 (self->db, "INSERT INTO notices (type, block_index, block_hash,"
                            " miner_id, node_id, timestamp, received_at, body)"
                            " VALUES (?,?,?,?,?,?,?,?)", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text (stmt, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) index->valuedouble);
        sqlite3_bind_text (stmt, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 4, s_string (notice, "miner_id"), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 5, node_id, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 6, s_string (notice, "timestamp"), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 7, now, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 8, body? body: "", -1, SQLITE_STATIC);
        if (sqlite3_step (stmt) != SQLITE_DONE)
            rc = -1;
    }
    else
        rc = -1;
    sqlite3_finalize (stmt);
    stmt = NULL;
    //  A confirmation adds (tx, node) rows; a rollback removes the node's
    //  rows for that block
    const char *sql = confirm
        ? "INSERT OR REPLACE INTO confirmed_txs (tx_id, node_id, block_hash, block_index)"
          " VALUES (?,?,?,?)"
        : "DELETE FROM confirmed_txs WHERE node_id = ? AND block_hash = ?";
    if (rc == 0 && sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        rc = -1;
    if (rc == 0 && confirm) {
        const cJSON *tx_id;
        cJSON_ArrayForEach (tx_id, tx_ids) {
            if (!cJSON_IsString (tx_id))
                continue;
            sqlite3_reset (stmt);
            sqlite3_bind_text (stmt, 1, tx_id->valuestring, -1, SQLITE_STATIC);
            sqlite3_bind_text (stmt, 2, node_id, -1, SQLITE_STATIC);
            sqlite3_bind_text (stmt, 3, hash, -1, SQLITE_STATIC);
            sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) index->valuedouble);
            if (sqlite3_step (stmt) != SQLITE_DONE)
                rc = -1;
        }
    }
    else
    if (rc == 0) {
        sqlite3_bind_text (stmt, 1, node_id, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_STATIC);
        if (sqlite3_step (stmt) != SQLITE_DONE)
            rc = -1;
    }
    sqlite3_finalize (stmt);
    sqlite3_exec (self->db, rc == 0? "COMMIT": "ROLLBACK", NULL, NULL, NULL);
    free (body);
    return rc;
}

//  What the market knows of a transaction: {"type":"confirmation","tx_id",
//  "confirmed","nodes","node_ids","block_hash","block_index"}.
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
                            " FROM confirmed_txs WHERE tx_id = ? ORDER BY node_id",
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
