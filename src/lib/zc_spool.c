/*  =========================================================================
    zc_spool - the gateway's durable queue of notices owed to the server

    A notice the gateway accepts is written here before the node hears
    notice_ack, and leaves only once the server has it, so a gateway killed
    at any point loses nothing.  The last seq accepted from each node key
    is kept in the same SQL transaction, so a notice sent again (a node
    that did not hear the acknowledgement, a replay) is recognised and
    never queued twice.

    Accepts and removals may be grouped into one SQL transaction
    (zc_spool_begin ... zc_spool_commit): the gateway groups what it takes
    in one wake-up, and acknowledges none of it before the commit.  A
    removal need not be durable at once: a notice delivered again after a
    crash is recognised by the server by its seq.

    Invariant: queue holds, oldest first, the notices accepted and not yet
    delivered; seen.seq is the highest seq queued for its key.
    =========================================================================
*/

#include "zchain.h"
#include <sqlite3.h>

struct _zc_spool_t {
    sqlite3 *db;                //  the spool file
    bool open;                  //  inside zc_spool_begin ... commit
    bool failed;                //  a step of the open group failed
    sqlite3_stmt *begin;        //  BEGIN IMMEDIATE
    sqlite3_stmt *commit;       //  COMMIT
    sqlite3_stmt *rollback;     //  ROLLBACK
    sqlite3_stmt *seen;         //  highest seq queued for a key
    sqlite3_stmt *insert;       //  a notice into the queue
    sqlite3_stmt *see;          //  a key's highest seq
    sqlite3_stmt *remove;       //  a notice out of the queue
};

static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS queue ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS seen ("
    "  key TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL);";

//  Prepares one statement; false if SQLite refuses it.
static bool
s_prepare (zc_spool_t *self, const char *sql, sqlite3_stmt **stmt_p)
{
    return sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                               stmt_p, NULL) == SQLITE_OK;
}

//  Runs a statement that returns no rows; 0, or -1 if SQLite fails it.
static int
s_run (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt) == SQLITE_DONE? 0: -1;
    sqlite3_reset (stmt);
    return rc;
}

zc_spool_t *
zc_spool_open (const char *path, char **error_p)
{
    zc_spool_t *self = (zc_spool_t *) zmalloc (sizeof (zc_spool_t));
    char *message = NULL;
    if (sqlite3_open (path, &self->db) != SQLITE_OK
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL", NULL, NULL, &message) != SQLITE_OK
    //  As the ledger: a notice acknowledged to its node is on the disk, not
    //  only in the system's cache (the node then forgets it)
    ||  sqlite3_exec (self->db, "PRAGMA synchronous=FULL", NULL, NULL, &message) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema, NULL, NULL, &message) != SQLITE_OK
    ||  !s_prepare (self, "BEGIN IMMEDIATE", &self->begin)
    ||  !s_prepare (self, "COMMIT", &self->commit)
    ||  !s_prepare (self, "ROLLBACK", &self->rollback)
    ||  !s_prepare (self, "SELECT seq FROM seen WHERE key = ?", &self->seen)
    ||  !s_prepare (self, "INSERT INTO queue (body) VALUES (?)", &self->insert)
    ||  !s_prepare (self, "INSERT OR REPLACE INTO seen (key, seq) VALUES (?,?)", &self->see)
    ||  !s_prepare (self, "DELETE FROM queue WHERE id = ?", &self->remove)) {
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
        zc_spool_t *self = *self_p;
        if (self->open)
            s_run (self->rollback);     //  never committed: never acknowledged
        sqlite3_finalize (self->begin);
        sqlite3_finalize (self->commit);
        sqlite3_finalize (self->rollback);
        sqlite3_finalize (self->seen);
        sqlite3_finalize (self->insert);
        sqlite3_finalize (self->see);
        sqlite3_finalize (self->remove);
        sqlite3_close (self->db);
        free (self);
        *self_p = NULL;
    }
}

int
zc_spool_begin (zc_spool_t *self)
{
    if (self->open)
        return 0;
    if (s_run (self->begin) != 0)
        return -1;
    self->open = true;
    self->failed = false;
    return 0;
}

int
zc_spool_commit (zc_spool_t *self)
{
    if (!self->open)
        return 0;
    self->open = false;
    if (!self->failed && s_run (self->commit) == 0)
        return 0;
    s_run (self->rollback);
    return -1;
}

int
zc_spool_accept (zc_spool_t *self, const char *key, int64_t seq, const char *body,
                 int64_t *id_p)
{
    bool alone = !self->open;
    if (alone && zc_spool_begin (self) != 0)
        return -1;
    int rc = 1;
    sqlite3_bind_text (self->seen, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step (self->seen);
    if (step == SQLITE_ROW && sqlite3_column_int64 (self->seen, 0) >= seq)
        rc = 0;                         //  already queued once
    else
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = -1;
    sqlite3_reset (self->seen);
    if (rc == 1) {
        sqlite3_bind_text (self->insert, 1, body, -1, SQLITE_STATIC);
        if (s_run (self->insert) != 0)
            rc = -1;
        else
        if (id_p)
            *id_p = sqlite3_last_insert_rowid (self->db);
    }
    if (rc == 1) {
        sqlite3_bind_text (self->see, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (self->see, 2, seq);
        if (s_run (self->see) != 0)
            rc = -1;
    }
    //  A failed step fails its group as a whole: the caller acknowledges
    //  nothing of it
    if (rc < 0)
        self->failed = true;
    if (alone && zc_spool_commit (self) != 0)
        rc = -1;
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
    sqlite3_bind_int64 (self->remove, 1, id);
    int rc = s_run (self->remove);
    if (rc != 0 && self->open)
        self->failed = true;
    return rc;
}
