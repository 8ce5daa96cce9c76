/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_daemon.c - the programs as a Unix user and init system meet them

    Real zchaind, zchain-cli and zchain-load processes on loopback:
      - option forms: --conf=FILE, -cFILE, -c without a value, options
        after the command, --version on every program, -aHOST:PORT and
        --clients=N for zchain-load;
      - exit codes: 3 for "no such block", 4 for "not confirmed", 1 with
        the system's reason for a refused connection, --timeout, --wait;
      - SIGHUP: the log file is reopened, the daemon lives on, the ledger
        keeps growing and stays intact;
      - paths: relative data folders are taken from the config file's
        folder whatever the working directory; a ledger follows its node
        when the port changes (and an ambiguous folder is refused).
    The installed layout (make install, man pages, systemd unit) is
    tested by test_install.sh.
    =========================================================================
*/

#include "../harness.h"

#define S_START_MS      20000       //  a node must answer ping within this
#define S_RUN_MS        30000       //  a program must finish within this
#define S_MINE_MS       30000       //  a transaction must be mined within this
#define S_NETWORK       "difficulty = 2\nminers = 1\n"

//  ---------------------------------------------------------------------
//  Helpers

//  Runs a program (NULL-terminated arguments after the program's
//  variable) to completion; its stdout and stderr in *out_p and *err_p
//  (caller frees; either may be NULL).  Returns the waitpid status.
static int
s_run (char **out_p, char **err_p, const char *variable, ...)
{
    const char *argv [32];
    size_t argc = 0;
    argv [argc++] = harness_program (variable);
    va_list args;
    va_start (args, variable);
    const char *arg;
    while ((arg = va_arg (args, const char *)) && argc < 31)
        argv [argc++] = arg;
    va_end (args);
    argv [argc] = NULL;
    char *out = harness_path ("run.out");
    char *err = harness_path ("run.err");
    unlink (out);
    unlink (err);
    int status = harness_run ((char *const *) argv, out, err, S_RUN_MS);
    char *text = harness_read_file (out);
    if (out_p)
        *out_p = text? text: strdup ("");
    else
        free (text);
    text = harness_read_file (err);
    if (err_p)
        *err_p = text? text: strdup ("");
    else
        free (text);
    free (out);
    free (err);
    return status;
}

//  Asserts a status is an exit with code, showing stderr otherwise.
static void
s_expect_exit (int status, int code, const char *what, const char *err)
{
    char text [64];
    ck_assert_msg (harness_exited_with (status, code), "%s: %s, expected exit %d; stderr: %s",
                   what, harness_status_text (status, text, sizeof text), code, err? err: "");
}

//  Starts zchaind with argv (after the program; NULL-terminated) from
//  directory dir (NULL: the test's), stderr appended to log.
static pid_t
s_zchaind (const char *dir, const char *log, const char **args)
{
    //  A shell only to change directory, then exec: the pid is zchaind's
    char command [4096];
    snprintf (command, sizeof command, "cd '%s' && exec '%s'", dir? dir: harness_dir (),
              harness_program ("ZCHAIND"));
    for (const char **arg = args; *arg; arg++)
        snprintf (command + strlen (command), sizeof command - strlen (command), " '%s'", *arg);
    const char *argv [] = { "/bin/sh", "-c", command, NULL };
    char *log_path = harness_path ("%s", log);
    pid_t pid = harness_spawn (log, (char *const *) argv, NULL, log_path);
    free (log_path);
    return pid;
}

//  Stops zchaind with SIGTERM and checks it stopped cleanly.
static void
s_stop (pid_t pid)
{
    int status = harness_stop (pid, SIGTERM, HARNESS_STOP_MS);
    s_expect_exit (status, 0, "zchaind on SIGTERM", NULL);
}

//  Height of a node from get_status, -1 if it does not answer.
static int64_t
s_height (const char *address)
{
    cJSON *status = harness_status (address, 2000);
    int64_t height = status? (int64_t) harness_number (status, "height"): -1;
    cJSON_Delete (status);
    return height;
}

//  Submits data to a node through zchain-cli and waits until it is in a
//  block (the node's height passes what it was).
static void
s_submit_and_mine (harness_node_t *node, const char *data)
{
    int64_t before = s_height (node->address);
    char *err = NULL;
    int status = s_run (NULL, &err, "ZCHAIN_CLI", "submit", data, "-a", node->address, NULL);
    s_expect_exit (status, 0, "zchain-cli submit", err);
    free (err);
    HARNESS_AWAIT (s_height (node->address) > before, S_MINE_MS,
                   "%s mined no block above %" PRId64 " within %d ms", node->name, before,
                   S_MINE_MS);
}

//  A config with one node n1 whose data folder is `data` as written
//  (may be relative) and, if service_ports, a gateway and a server.
static char *
s_config (const char *file, harness_node_t *node, const char *data, int gateway, int server)
{
    char *text = zsys_sprintf (
        "network\n    difficulty = 2\n    miners = 1\n"
        "node\n    n1\n        host = 127.0.0.1\n        port = %d\n        data = %s\n",
        node->port, data);
    if (gateway) {
        char *more = zsys_sprintf ("%sgateway\n    host = 127.0.0.1\n    port = %d\n"
                                   "    data = %s/gateway\n", text, gateway, harness_dir ());
        zstr_free (&text);
        text = more;
    }
    if (server) {
        char *more = zsys_sprintf ("%sserver\n    host = 127.0.0.1\n    port = %d\n"
                                   "    data = %s/server\n", text, server, harness_dir ());
        zstr_free (&text);
        text = more;
    }
    char *path = harness_path ("%s", file);
    harness_write_file (path, text);
    zstr_free (&text);
    return path;
}

//  True if the file at path contains text.
static bool
s_file_has (const char *path, const char *text)
{
    char *content = harness_read_file (path);
    bool found = content && strstr (content, text);
    free (content);
    return found;
}

//  ---------------------------------------------------------------------
//  Option forms

START_TEST (test_option_forms)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = s_config ("zchain.conf", &node, node.data, 0, 0);

    //  --conf=FILE
    char *conf_eq = zsys_sprintf ("--conf=%s", config);
    const char *args_eq [] = { conf_eq, "n1", NULL };
    node.pid = s_zchaind (NULL, "eq.log", args_eq);
    harness_node_wait_ready (&node, S_START_MS);
    s_stop (node.pid);
    zstr_free (&conf_eq);

    //  -cFILE
    char *conf_joined = zsys_sprintf ("-c%s", config);
    const char *args_joined [] = { conf_joined, NULL };
    node.pid = s_zchaind (NULL, "joined.log", args_joined);
    harness_node_wait_ready (&node, S_START_MS);

    //  zchain-cli: options after the command, -aHOST:PORT, --address=
    char *short_a = zsys_sprintf ("-a%s", node.address);
    char *long_a = zsys_sprintf ("--address=%s", node.address);
    char *out = NULL, *err = NULL;
    int status = s_run (&out, &err, "ZCHAIN_CLI", "ping", short_a, "--json", NULL);
    s_expect_exit (status, 0, "zchain-cli ping -aADDR --json", err);
    ck_assert_msg (strstr (out, "\"type\":\"pong\""), "not the JSON pong: %s", out);
    free (out);
    free (err);
    status = s_run (&out, &err, "ZCHAIN_CLI", "status", long_a, "--timeout=5", NULL);
    s_expect_exit (status, 0, "zchain-cli status --address=ADDR --timeout=5", err);
    ck_assert_msg (strstr (out, "height"), "no status: %s", out);
    free (out);
    free (err);

    //  zchain-load: --clients=N, -aHOST:PORT, --count=N
    status = s_run (&out, &err, "ZCHAIN_LOAD", "--nodes", short_a, "--clients=2", "--count=6",
                    "--mix=health", NULL);
    s_expect_exit (status, 0, "zchain-load --clients=2 -aADDR", err);
    ck_assert_msg (strstr (out, "health"), "no report: %s", out);
    free (out);
    free (err);
    zstr_free (&short_a);
    zstr_free (&long_a);
    zstr_free (&conf_joined);
    s_stop (node.pid);

    //  -c without a value: a message that says so, exit 2
    status = s_run (NULL, &err, "ZCHAIND", "-c", NULL);
    s_expect_exit (status, 2, "zchaind -c", err);
    ck_assert_msg (strstr (err, "-c needs a value"), "unclear message: %s", err);
    free (err);
    status = s_run (NULL, &err, "ZCHAIND", "--conf", NULL);
    s_expect_exit (status, 2, "zchaind --conf", err);
    ck_assert_msg (strstr (err, "--conf needs a value"), "unclear message: %s", err);
    free (err);
    status = s_run (NULL, &err, "ZCHAIND", "--bogus", NULL);
    s_expect_exit (status, 2, "zchaind --bogus", err);
    ck_assert_msg (strstr (err, "unknown option --bogus"), "unclear message: %s", err);
    free (err);
    status = s_run (NULL, &err, "ZCHAIN_CLI", "ping", "--bogus", NULL);
    s_expect_exit (status, 2, "zchain-cli ping --bogus", err);
    free (err);
    status = s_run (NULL, &err, "ZCHAIN_CLI", "ping", "--buyer", "x", NULL);
    s_expect_exit (status, 2, "zchain-cli ping --buyer x", err);
    ck_assert_msg (strstr (err, "go with purchase"), "unclear message: %s", err);
    free (err);

    //  --version on every program
    const char *programs [][2] = { { "ZCHAIND", "zchaind " }, { "ZCHAIN_CLI", "zchain-cli " },
                                   { "ZCHAIN_LOAD", "zchain-load " } };
    for (size_t i = 0; i < 3; i++) {
        status = s_run (&out, &err, programs [i][0], "--version", NULL);
        s_expect_exit (status, 0, programs [i][1], err);
        char *expected = zsys_sprintf ("%s%s\n", programs [i][1], ZCHAIN_VERSION);
        ck_assert_msg (streq (out, expected), "%s--version printed '%s'", programs [i][1], out);
        zstr_free (&expected);
        free (out);
        free (err);
    }
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  ---------------------------------------------------------------------
//  Exit codes, errors with their reason, --timeout and --wait

START_TEST (test_exit_codes)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    int gateway_port = harness_free_port (), server_port = harness_free_port ();
    char *config = s_config ("zchain.conf", &node, node.data, gateway_port, server_port);
    const char *args [] = { "-c", config, NULL };
    node.pid = s_zchaind (NULL, "zchaind.log", args);
    harness_node_wait_ready (&node, S_START_MS);
    char gateway [32], server [32];
    snprintf (gateway, sizeof gateway, "127.0.0.1:%d", gateway_port);
    snprintf (server, sizeof server, "127.0.0.1:%d", server_port);

    char *out = NULL, *err = NULL;
    int status = s_run (&out, &err, "ZCHAIN_CLI", "-a", node.address, "block", "0", NULL);
    s_expect_exit (status, 0, "block 0", err);
    free (out);
    free (err);
    status = s_run (&out, &err, "ZCHAIN_CLI", "-a", node.address, "block", "999", NULL);
    s_expect_exit (status, 3, "block 999 (no such block)", err);
    ck_assert_msg (strstr (out, "no such block"), "said: %s", out);
    free (out);
    free (err);

    //  The gateway answers health, options after the command
    char *wait = zsys_sprintf ("--wait=%d", S_START_MS / 1000);
    status = s_run (&out, &err, "ZCHAIN_CLI", "health", "--json", "-a", gateway, wait, NULL);
    s_expect_exit (status, 0, "health --json", err);
    ck_assert_msg (strstr (out, "\"status\":\"ok\""), "said: %s", out);
    free (out);
    free (err);
    char unknown [ZC_HASH_HEX + 1];
    memset (unknown, 'a', ZC_HASH_HEX);
    unknown [ZC_HASH_HEX] = 0;
    status = s_run (&out, &err, "ZCHAIN_CLI", "confirmed", unknown, "-a", server, wait, NULL);
    s_expect_exit (status, 4, "confirmed UNKNOWN (not confirmed)", err);
    ck_assert_msg (strstr (out, "not confirmed"), "said: %s", out);
    free (out);
    free (err);
    zstr_free (&wait);

    //  A refused connection: exit 1 with the system's reason
    char nobody [32];
    snprintf (nobody, sizeof nobody, "127.0.0.1:%d", harness_free_port ());
    status = s_run (NULL, &err, "ZCHAIN_CLI", "-a", nobody, "ping", NULL);
    s_expect_exit (status, 1, "ping to a closed port", err);
    ck_assert_msg (strstr (err, nobody) && strstr (err, strerror (ECONNREFUSED)),
                   "no reason given: %s", err);
    free (err);

    //  A peer that never answers: --timeout ends the wait, exit 1
    int port = 0;
    int fd = harness_occupy_port (&port);
    char silent [32];
    snprintf (silent, sizeof silent, "127.0.0.1:%d", port);
    int64_t start = harness_now_ms ();
    status = s_run (NULL, &err, "ZCHAIN_CLI", "--timeout", "0.5", "-a", silent, "ping", NULL);
    int64_t elapsed = harness_now_ms () - start;
    close (fd);
    s_expect_exit (status, 1, "ping to a silent peer", err);
    ck_assert_msg (strstr (err, "within 0.5 s"), "said: %s", err);
    ck_assert_msg (elapsed >= 500 && elapsed < 9000, "took %" PRId64 " ms", elapsed);
    free (err);
    s_stop (node.pid);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  --wait: started before the node, zchain-cli waits for it; with a
//  limit and nobody coming, it gives up after the limit.
START_TEST (test_wait)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = s_config ("zchain.conf", &node, node.data, 0, 0);
    const char *cli [] = { harness_program ("ZCHAIN_CLI"), "--wait", "-a", node.address,
                           "ping", NULL };
    char *out = harness_path ("wait.out");
    pid_t waiter = harness_spawn ("waiter", (char *const *) cli, out, NULL);
    //  The waiter is retrying: it has not finished while nothing listens
    ck_assert (!harness_wait_exit (waiter, 300, NULL));
    const char *args [] = { "-c", config, NULL };
    node.pid = s_zchaind (NULL, "zchaind.log", args);
    int status = -1;
    ck_assert_msg (harness_wait_exit (waiter, S_START_MS, &status),
                   "zchain-cli --wait did not finish once the node was up");
    s_expect_exit (status, 0, "zchain-cli --wait ping", NULL);
    ck_assert (s_file_has (out, "pong from node"));
    s_stop (node.pid);

    int64_t start = harness_now_ms ();
    char *err = NULL;
    status = s_run (NULL, &err, "ZCHAIN_CLI", "--wait=0.5", "-a", node.address, "ping", NULL);
    int64_t elapsed = harness_now_ms () - start;
    s_expect_exit (status, 1, "--wait=0.5 with nobody listening", err);
    ck_assert_msg (strstr (err, "cannot connect"), "said: %s", err);
    ck_assert_msg (elapsed >= 500 && elapsed < 9000, "took %" PRId64 " ms", elapsed);
    free (err);
    free (out);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  ---------------------------------------------------------------------
//  SIGHUP

START_TEST (test_sighup)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = s_config ("zchain.conf", &node, node.data, 0, 0);
    char *log = harness_path ("daemon.log");
    char *rotated = harness_path ("daemon.log.1");
    char *log_arg = zsys_sprintf ("--log-file=%s", log);
    const char *args [] = { "-c", config, log_arg, NULL };
    node.pid = s_zchaind (NULL, "stderr.log", args);
    harness_node_wait_ready (&node, S_START_MS);
    s_submit_and_mine (&node, "{\"before\":\"sighup\"}");
    ck_assert_msg (s_file_has (log, "listening on"), "the log file has no start line");

    //  logrotate moves the file, then sends SIGHUP
    ck_assert_int_eq (rename (log, rotated), 0);
    ck_assert_int_eq (kill (node.pid, SIGHUP), 0);
    HARNESS_AWAIT (s_file_has (log, "SIGHUP: log reopened"), 10000,
                   "no new log file with the reopen line after SIGHUP");
    ck_assert_msg (!harness_wait_exit (node.pid, 0, NULL), "zchaind died of SIGHUP");
    int64_t height = s_height (node.address);
    ck_assert_int_ge (height, 1);

    //  It goes on: more blocks, in the ledger, which stays consistent
    s_submit_and_mine (&node, "{\"after\":\"sighup\"}");
    kill (node.pid, SIGHUP);
    s_submit_and_mine (&node, "{\"after\":\"second sighup\"}");
    ck_assert_msg (!harness_wait_exit (node.pid, 0, NULL), "zchaind died of a second SIGHUP");
    s_stop (node.pid);
    sqlite3 *db = harness_ledger_open (&node);
    ck_assert_int_ge (harness_sql_int (db, "SELECT max(\"index\") FROM blocks", NULL), height + 2);
    ck_assert_int_eq (harness_sql_int (db, "SELECT count(*) FROM transactions WHERE "
                                       "data LIKE '%sighup%'", NULL), 3);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL),
                      SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    ck_assert_str_eq ((const char *) sqlite3_column_text (stmt, 0), "ok");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    //  Lines are UTC ISO 8601 with milliseconds
    char *text = harness_read_file (rotated);
    ck_assert_ptr_nonnull (text);
    int year, month, day, hour, minute, second, millis;
    char level;
    ck_assert_msg (sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %c zchaind[", &year, &month,
                           &day, &hour, &minute, &second, &millis, &level) == 8,
                   "not an ISO 8601 UTC line: %.80s", text);
    free (text);
    zstr_free (&log_arg);
    free (log);
    free (rotated);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

//  ---------------------------------------------------------------------
//  Paths

//  A relative data folder is the config file's, from any directory.
START_TEST (test_relative_data)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *conf_dir = harness_path ("etc");
    char *other = harness_path ("elsewhere");
    ck_assert_int_eq (mkdir (conf_dir, 0755), 0);
    ck_assert_int_eq (mkdir (other, 0755), 0);
    char *config = s_config ("etc/zchain.conf", &node, "../var/n1", 0, 0);
    const char *args [] = { "-c", config, NULL };
    node.pid = s_zchaind ("/", "root.log", args);
    harness_node_wait_ready (&node, S_START_MS);
    char *id_path = harness_path ("var/n1/node_id");
    ck_assert_msg (s_file_has (id_path, node.node_id), "node_id not in %s", id_path);
    s_stop (node.pid);

    //  From another folder, with the path to the file relative too
    char first [64];
    snprintf (first, sizeof first, "%s", node.node_id);
    const char *relative [] = { "-c", "../etc/zchain.conf", NULL };
    node.pid = s_zchaind (other, "other.log", relative);
    harness_node_wait_ready (&node, S_START_MS);
    ck_assert_str_eq (node.node_id, first);
    char *stray = harness_path ("elsewhere/var");
    ck_assert_msg (access (stray, F_OK) != 0, "a data folder was made in the working directory");
    s_stop (node.pid);
    free (stray);
    free (id_path);
    free (config);
    free (conf_dir);
    free (other);
    harness_nodes_free (&node, 1);
}
END_TEST

//  A node whose port changes keeps its ledger; two old ledgers and none
//  of the new port is refused with a message.
START_TEST (test_port_change)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = s_config ("zchain.conf", &node, node.data, 0, 0);
    //  The path's text is the same each time the file is rewritten, but
    //  the pointer is not: args [1] follows it
    const char *args [] = { "-c", config, NULL };
    node.pid = s_zchaind (NULL, "first.log", args);
    harness_node_wait_ready (&node, S_START_MS);
    s_submit_and_mine (&node, "{\"port\":\"old\"}");
    int64_t height = s_height (node.address);
    char first_id [64];
    snprintf (first_id, sizeof first_id, "%s", node.node_id);
    s_stop (node.pid);
    char *old_db = strdup (node.db);

    //  Same data folder, a new port
    node.port = harness_free_port ();
    snprintf (node.address, sizeof node.address, "127.0.0.1:%d", node.port);
    free (node.db);
    node.db = harness_path ("%s/node_%d.sqlite3", node.name, node.port);
    free (config);
    config = s_config ("zchain.conf", &node, node.data, 0, 0);
    args [1] = config;
    node.pid = s_zchaind (NULL, "second.log", args);
    harness_node_wait_ready (&node, S_START_MS);
    ck_assert_str_eq (node.node_id, first_id);
    ck_assert_int_ge (s_height (node.address), height);
    ck_assert_msg (access (node.db, F_OK) == 0, "no ledger %s", node.db);
    ck_assert_msg (access (old_db, F_OK) != 0, "old ledger %s still there", old_db);
    char *log = harness_path ("second.log");
    ck_assert_msg (s_file_has (log, "port changed"), "the rename is not logged");
    free (log);
    s_stop (node.pid);

    //  Two ledgers of other ports, none of this one: refused, exit 1
    char *copy = harness_path ("%s/node_1.sqlite3", node.name);
    harness_write_file (copy, "not a ledger");
    node.port = harness_free_port ();
    snprintf (node.address, sizeof node.address, "127.0.0.1:%d", node.port);
    free (config);
    config = s_config ("zchain.conf", &node, node.data, 0, 0);
    char *err = NULL;
    int status = s_run (NULL, &err, "ZCHAIND", "-c", config, NULL);
    s_expect_exit (status, 1, "zchaind with two old ledgers", err);
    ck_assert_msg (strstr (err, "holds the ledgers of 2 other ports"), "said: %s", err);
    free (err);
    free (copy);
    free (old_db);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("daemon");
    tcase_add_test (harness_tcase (suite, "option_forms", 90), test_option_forms);
    tcase_add_test (harness_tcase (suite, "exit_codes", 60), test_exit_codes);
    tcase_add_test (harness_tcase (suite, "wait", 60), test_wait);
    tcase_add_test (harness_tcase (suite, "sighup", 90), test_sighup);
    tcase_add_test (harness_tcase (suite, "relative_data", 60), test_relative_data);
    tcase_add_test (harness_tcase (suite, "port_change", 90), test_port_change);
    return testutil_run (suite);
}
