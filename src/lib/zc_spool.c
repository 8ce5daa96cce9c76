/*  =========================================================================
    zc_spool - the gateway's durable queue of notices owed to the server

    A notice the gateway accepts is written here before the node hears
    notice_ack, and leaves only once the server has it, so a gateway killed
    at any point loses nothing.  The last seq accepted from each node key
    is kept in the same SQL transaction, so a notice sent again (a node
    that did not hear the acknowledgement, a replay) is recognised and
    never queued twice.

    Invariant: queue holds, oldest first, the notices accepted and not yet
    delivered; seen.seq is the highest seq queued for its key.
    =========================================================================
*/

#include "zchain.h"
#include <sqlite3.h>

struct _zc_spool_t {
    sqlite3 *db;                //  the spool file
};

static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS queue ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS seen ("
    "  key TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL);";

zc_spool_t *
zc_spool_open (const char *path, char **error_p)
{
    zc_spool_t *self = (zc_spool_t *) zmalloc (sizeof (zc_spool_t));
    char *message = NULL;
    if (sqlite3_open (path, &self->db) != SQLITE_OK
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL", NULL, NULL, &message) != SQLITE_OK
    //  As the ledger: a commit survives the process being killed without an
    //  fsync each, which would stall the gateway's clients behind the disk
    ||  sqlite3_exec (self->db, "PRAGMA synchronous=NORMAL", NULL, NULL, &message) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema, NULL, NULL, &message) != SQLITE_OK) {
        if (error_p)
            *error_p = zsys_sprintf ("%s: %s", path, message? message: sqlite3_errmsg (self->db));
        sqlite3_free (message);
        zc_spool_destroy (&self);
        return NULL;
    }
    sqlite3_busy_timeout (self->db, 5000);
    return self;
}

void
zc_spool_destroy (zc_spool_t **self_p)
{
    if (self_p && *self_p) {
        sqlite3_close ((*self_p)->db);
        free (*self_p);
        *self_p = NULL;
    }
}

int
zc_spool_accept (zc_spool_t *self, const char *key, int64_t seq, const char *body,
                 int64_t *id_p)
{
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int rc = 1;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "SELECT seq FROM seen WHERE key = ?", -1, &stmt,
                            NULL) != SQLITE_OK)
        rc = -1;
    else {
        sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
        int step = sqlite3_step (stmt);
        if (step == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) >= seq)
            rc = 0;                     //  already queued once
        else
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = -1;
    }
    sqlite3_finalize (stmt);
    stmt = NULL;
    if (rc == 1) {
        if (sqlite3_prepare_v2 (self->db, "INSERT INTO queue (body) VALUES (?)", -1, &stmt,
                                NULL) != SQLITE_OK)
            rc = -1;
        else {
            sqlite3_bind_text (stmt, 1, body, -1, SQLITE_STATIC);
            if (sqlite3_step (stmt) != SQLITE_DONE)
                rc = -1;
            else
            if (id_p)
                *id_p = sqlite3_last_insert_rowid (self->db);
        }
        sqlite3_finalize (stmt);
        stmt = NULL;
    }
    if (rc == 1) {
        if (sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO seen (key, seq) VALUES (?,?)",
                                -1, &stmt, NULL) != SQLITE_OK)
            rc = -1;
        else {
            sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64 (stmt, 2, seq);
            if (sqlite3_step (stmt) != SQLITE_DONE)
                rc = -1;
        }
        sqlite3_finalize (stmt);
    }
    if (rc >= 0 && sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc < 0)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

zlistx_t *
zc_spool_load (zc_spool_t *self)
{
    zlistx_t *entries = zlistx_new ();
    zlistx_set_destructor (entries, (czmq_destructor *) zstr_free);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "SELECT id, body FROM queue ORDER BY id", -1, &stmt,
                            NULL) == SQLITE_OK)
        while (sqlite3_step (stmt) == SQLITE_ROW)
            zlistx_add_end (entries, zsys_sprintf ("%lld %s",
                            (long long) sqlite3_column_int64 (stmt, 0),
                            (const char *) sqlite3_column_text (stmt, 1)));
    sqlite3_finalize (stmt);
    return entries;
}

int
zc_spool_remove (zc_spool_t *self, int64_t id)
{
    char sql [80];
    snprintf (sql, sizeof sql, "DELETE FROM queue WHERE id = %lld", (long long) id);
    return sqlite3_exec (self->db, sql, NULL, NULL, NULL) == SQLITE_OK? 0: -1;
}
