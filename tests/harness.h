/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    harness.h - processes, ports, files and deadlines for integration tests

    Integration tests start real programs (zchaind now; the gateway and the
    load tool later) and talk to them over loopback TCP.  This library
    (tests/harness.c, linked into every test program as tests/libharness.la)
    keeps the plumbing in one place:

      - one temporary folder per test, removed when the test passes and
        kept (with the tail of every process log printed) when it fails;
      - free loopback ports, found by binding port 0;
      - child processes in their own process group, stderr to a log file,
        always stopped and reaped: by the checked teardown when a test ends
        normally, by the unchecked teardown (in the Check runner) after a
        test that failed or timed out, and by the kernel (PR_SET_PDEATHSIG
        sends SIGTERM) the moment the test process dies;
      - waits that poll a condition until a deadline, never sleep-and-hope;
      - zchain node helpers: config files, starting zchaind, one-shot
        requests, waiting for a node to answer ping.

    Use it from a Check test program:

        TCase *tc = harness_tcase (suite, "name", 60);   //  both fixtures

    one test per case, so each gets its own folder, timeout and cleanup.
    Programs are found through the environment variables that `make check`
    exports (ZCHAIND, ZCHAIN_CLI); harness_program names them.
    =========================================================================
*/

#ifndef HARNESS_H_INCLUDED
#define HARNESS_H_INCLUDED

#include "testutil.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sqlite3.h>

#define HARNESS_MAX_PROCS   32          //  processes one test may start
#define HARNESS_MAX_PORTS   64          //  ports one test may take
#define HARNESS_STOP_MS     20000       //  SIGTERM grace before SIGKILL
#define HARNESS_POLL_MS     50          //  interval of condition polls
#define HARNESS_LOG_TAIL    3000        //  bytes of a log shown on failure

//  A process the harness started and must stop
typedef struct {
    pid_t pid;                  //  also its process group id
    char *name;                 //  for messages
    char *log;                  //  where its stderr goes, or NULL
} harness_proc_t;

//  ---------------------------------------------------------------------
//  Clocks and waits

//  Monotonic milliseconds, for deadlines.
int64_t harness_now_ms (void);

//  Pauses between two polls of a condition (never on its own a wait).
void harness_nap (int msecs);

//  Polls cond (with arg) every HARNESS_POLL_MS until it holds or timeout_ms
//  passes; true if it held.  The condition is always tried once more at
//  the deadline, so a slow machine never fails on a late last poll.
typedef bool (harness_cond_fn) (void *arg);
bool harness_wait_until (harness_cond_fn *cond, void *arg, int timeout_ms);

//  The same as a statement: polls expression `cond` until it holds, or
//  fails the test with the printf-style message after timeout_ms.
#define HARNESS_AWAIT(cond, timeout_ms, ...) do {                       \
    int64_t harness_deadline_ = harness_now_ms () + (timeout_ms);       \
    while (true) {                                                      \
        bool harness_past_ = harness_now_ms () >= harness_deadline_;    \
        if (cond)                                                       \
            break;                                                      \
        if (harness_past_)                                              \
            ck_abort_msg (__VA_ARGS__);                                 \
        harness_nap (HARNESS_POLL_MS);                                  \
    }                                                                   \
} while (0)

//  ---------------------------------------------------------------------
//  Files

//  A path inside the test's folder, from a printf-style name.  Caller frees.
char *harness_path (const char *format, ...);

//  Writes text to a file, replacing it.
void harness_write_file (const char *path, const char *text);

//  Whole contents of a file as a string, or NULL.  Caller frees.
char *harness_read_file (const char *path);

//  Prints the last bytes of a log to stderr, to explain a failure.
void harness_print_tail (const char *title, const char *path);

//  Prints the tail of the log of every process the test started.
void harness_print_logs (void);

//  ---------------------------------------------------------------------
//  Ports

//  A loopback TCP port that nothing listens on now: bind port 0 and ask
//  the kernel which it gave.  Never the same port twice in one test.
int harness_free_port (void);

//  Listens on a free loopback port, to make a port busy on purpose.
//  Returns the socket; *port_p gets the port.
int harness_occupy_port (int *port_p);

//  ---------------------------------------------------------------------
//  Processes

//  When a process started, in clock ticks since boot (field 22 of
//  /proc/PID/stat), or 0 if there is no such live process.  With the pid it
//  names one process for good: a reused pid has another start time.
unsigned long long harness_proc_started (pid_t pid);

//  Absolute path of a program from its environment variable (set by
//  make check); fails the test with a hint if it is not set.
const char *harness_program (const char *variable);

//  Starts argv (argv [0] a path) in its own process group, stdin from
//  /dev/null, stdout and stderr appended to the given files (NULL:
//  /dev/null).  The process is registered, so it is stopped at teardown
//  or exit, and dies with the test process if that is killed.
pid_t harness_spawn (const char *name, char *const argv [], const char *out_path,
                     const char *err_path);

//  The registered process with that pid, or NULL.
harness_proc_t *harness_proc (pid_t pid);

//  Polls for the process to exit until timeout_ms; true and *status_p (a
//  waitpid status) if it did; the process is then reaped and forgotten.
bool harness_wait_exit (pid_t pid, int timeout_ms, int *status_p);

//  Sends sig to the process's group and waits up to timeout_ms for it to
//  exit, then SIGKILLs the group.  Returns the waitpid status, or -1 if
//  it had to be killed.
int harness_stop (pid_t pid, int sig, int timeout_ms);

//  True if a waitpid status says the process exited on its own with code.
bool harness_exited_with (int status, int code);

//  Describes a waitpid status for messages ("exit 2", "signal 9").
const char *harness_status_text (int status, char *buffer, size_t size);

//  Runs a program to completion (at most timeout_ms) with output to files;
//  returns its waitpid status.  Fails the test if it does not finish.
int harness_run (char *const argv [], const char *out_path, const char *err_path,
                 int timeout_ms);

//  Stops every process still running (SIGTERM, then SIGKILL).
void harness_stop_all (void);

//  ---------------------------------------------------------------------
//  Fixture
//
//  Check runs each test in a forked child that leaves by _exit when an
//  assertion fails, so neither atexit handlers nor the checked teardown
//  run then.  Hence two fixtures: the checked one (in the test child)
//  stops processes cleanly when the test ends normally; the unchecked one
//  (in the runner, after the case, whatever happened) ends what a failed
//  or timed-out test left, using the pid file the child kept, prints the
//  logs of failed runs and keeps their folders.

//  Unchecked fixture setup (in the runner, once per test case): the
//  case's folder, which each test's own folder goes inside.
void harness_case_setup (void);

//  Unchecked fixture teardown (in the runner, after the case's tests,
//  even failed or timed out ones): stops every process a test started
//  and did not reap (SIGTERM to its group, SIGKILL after a grace), shows
//  the logs of the tests that failed and keeps their folders.
void harness_case_teardown (void);

//  Checked fixture setup (in the test process): a fresh folder for this
//  test inside the case's folder, and a clean slate.
void harness_setup (void);

//  Checked fixture teardown (in the test process, when the test ended
//  normally): stops every process and removes the test's folder (kept if
//  ZCHAIN_KEEP_TMP is set).
void harness_teardown (void);

//  A test case with both fixtures and a timeout, added to suite.
TCase *harness_tcase (Suite *suite, const char *name, double timeout);

//  The test's temporary folder.
const char *harness_dir (void);

//  ---------------------------------------------------------------------
//  zchain nodes

//  One node instance of a generated config
typedef struct {
    char name [16];             //  instance name: n1, n2, ...
    int port;                   //  free loopback port
    char address [32];          //  "127.0.0.1:PORT"
    char *data;                 //  data folder inside the test's folder
    char *db;                   //  its ledger, DATA/node_PORT.sqlite3
    pid_t pid;                  //  the zchaind running it, or 0
    char node_id [64];          //  from its pong, once known
} harness_node_t;

//  Names nodes n1..nN, gives each a free port and a data folder.
void harness_nodes_init (harness_node_t *nodes, size_t count);

//  Frees what harness_nodes_init allocated.
void harness_nodes_free (harness_node_t *nodes, size_t count);

//  Writes a ZPL config for the nodes to the test folder and returns its
//  path (caller frees).  network holds "key = value" lines for the
//  network section, one per line, unindented.
char *harness_config_write (const char *file, harness_node_t *nodes, size_t count,
                            const char *network);

//  Starts zchaind on a config for the named instances (all of the file's
//  if names is NULL), stderr to the test folder's `log`.
pid_t harness_zchaind_start (const char *config, const char *log, const char **names,
                             size_t name_count);

//  Sends one message (its text, framed as asked) on a new connection and
//  returns the reply, or NULL if there is none within timeout_ms.
cJSON *harness_request (const char *address, zc_framing_t framing, const char *text,
                        int timeout_ms);

//  String member of a JSON object, or NULL.
const char *harness_string (const cJSON *json, const char *name);

//  Number member of a JSON object, or -1 if absent.
double harness_number (const cJSON *json, const char *name);

//  Asks a node for ping; its node_id if it answered pong (caller frees).
char *harness_ping (const char *address, int timeout_ms);

//  Waits until a node answers ping (it listens only once its ledger is
//  loaded) and records its node_id; fails the test after timeout_ms,
//  showing the log of the process.
void harness_node_wait_ready (harness_node_t *node, int timeout_ms);

//  True if a node_list's "nodes" array names node by its loopback host,
//  port and node_id.
bool harness_node_listed (const cJSON *list, const harness_node_t *node);

//  get_status of a node, or NULL if it does not answer in timeout_ms.
cJSON *harness_status (const char *address, int timeout_ms);

//  Height and tip (copied into tip, ZC_HASH_HEX + 1 bytes) of a node by
//  get_status; fails the test if it does not answer.
int64_t harness_node_tip (harness_node_t *node, char *tip);

//  Appends "network" and network's lines, indented, to a config text with
//  room for 16 + 2 * strlen (network) more bytes.
void harness_network_section (char *text, const char *network);

//  ---------------------------------------------------------------------
//  The nodes' ledgers, read as any outside tool would

//  Opens a node's ledger read-only (WAL lets a test read beside the node).
sqlite3 *harness_ledger_open (harness_node_t *node);

//  Runs a query that yields one integer (one optional text parameter).
int64_t harness_sql_int (sqlite3 *db, const char *sql, const char *text_arg);

#endif
