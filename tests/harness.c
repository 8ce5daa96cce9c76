/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    harness.c - processes, ports, files and deadlines for integration tests

    The test harness as a small library every test program links
    (tests/libharness.la); what each function does is said in harness.h.
    =========================================================================
*/

#include "harness.h"

//  The state of the current test
static struct {
    char *base;                 //  the test case's folder, or NULL
    char *dir;                  //  the test's folder inside it, or NULL
    bool lone;                  //  base made by harness_setup (no unchecked
                                //  fixture): harness_teardown removes it
    harness_proc_t procs [HARNESS_MAX_PROCS];
    size_t proc_count;
    int ports [HARNESS_MAX_PORTS];
    size_t port_count;
} s_harness;

//  Monotonic milliseconds, for deadlines.
int64_t
harness_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Pauses between two polls of a condition (never on its own a wait).
void
harness_nap (int msecs)
{
    struct timespec pause = { msecs / 1000, (long) (msecs % 1000) * 1000000L };
    while (nanosleep (&pause, &pause) == -1 && errno == EINTR)
        ;
}

bool
harness_wait_until (harness_cond_fn *cond, void *arg, int timeout_ms)
{
    int64_t deadline = harness_now_ms () + timeout_ms;
    while (true) {
        bool past = harness_now_ms () >= deadline;
        if (cond (arg))
            return true;
        if (past)
            return false;
        harness_nap (HARNESS_POLL_MS);
    }
}

//  A path inside the test's folder, from a printf-style name.  Caller frees.
char *
harness_path (const char *format, ...)
{
    ck_assert_msg (s_harness.dir, "harness_setup has not run");
    char name [512];
    va_list args;
    va_start (args, format);
    vsnprintf (name, sizeof name, format, args);
    va_end (args);
    char *path = (char *) malloc (strlen (s_harness.dir) + strlen (name) + 2);
    ck_assert_ptr_nonnull (path);
    sprintf (path, "%s/%s", s_harness.dir, name);
    return path;
}

//  Writes text to a file, replacing it.
void
harness_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    ck_assert_msg (file, "cannot write %s: %s", path, strerror (errno));
    ck_assert_int_eq (fputs (text, file) >= 0, 1);
    ck_assert_int_eq (fclose (file), 0);
}

//  Whole contents of a file as a string, or NULL.  Caller frees.
char *
harness_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t size = 0, capacity = 4096;
    char *text = (char *) malloc (capacity);
    size_t count;
    while (text && (count = fread (text + size, 1, capacity - size - 1, file)) > 0) {
        size += count;
        if (capacity - size - 1 == 0) {
            capacity *= 2;
            text = (char *) realloc (text, capacity);
        }
    }
    fclose (file);
    if (text)
        text [size] = 0;
    return text;
}

//  Prints the last bytes of a log to stderr, to explain a failure.
void
harness_print_tail (const char *title, const char *path)
{
    char *text = path? harness_read_file (path): NULL;
    if (!text)
        return;
    size_t size = strlen (text);
    const char *start = size > HARNESS_LOG_TAIL? text + size - HARNESS_LOG_TAIL: text;
    fprintf (stderr, "---- %s (%s)%s ----\n%s\n---- end of %s ----\n", title, path,
             start == text? "": ", last bytes", start, title);
    free (text);
}

//  Prints the tail of the log of every process the test started.
void
harness_print_logs (void)
{
    for (size_t i = 0; i < s_harness.proc_count; i++)
        harness_print_tail (s_harness.procs [i].name, s_harness.procs [i].log);
}

//  The first port of the kernel's ephemeral range (what outgoing
//  connections are given), or 32768 if it cannot be read.
static int
s_ephemeral_low (void)
{
    int low = 32768, high = 0;
    FILE *file = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (file) {
        if (fscanf (file, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose (file);
    }
    return low;
}

//  A loopback TCP port that nothing listens on now, never the same twice
//  in one test.  Drawn at random from below the kernel's ephemeral range
//  when there is room there: a port the kernel picked (bind to port 0)
//  could be handed to another test's outgoing connection before our
//  daemon binds it, which once made a node fail to start with "address
//  already in use" while two suites ran side by side.
int
harness_free_port (void)
{
    static unsigned int seed;
    if (!seed)
        seed = (unsigned int) getpid () ^ (unsigned int) time (NULL);
    int low = 20000, high = s_ephemeral_low () - 1;
    bool below = high - low >= 1000;
    for (int attempt = 0; attempt < 1000; attempt++) {
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge (fd, 0);
        struct sockaddr_in addr;
        memset (&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        addr.sin_port = below? htons ((uint16_t) (low + rand_r (&seed) % (high - low + 1))): 0;
        socklen_t length = sizeof addr;
        int rc = bind (fd, (struct sockaddr *) &addr, sizeof addr);
        if (rc == 0)
            rc = getsockname (fd, (struct sockaddr *) &addr, &length);
        int error = errno;
        close (fd);
        if (rc != 0 && below && error == EADDRINUSE)
            continue;                   //  taken: draw again
        ck_assert_msg (rc == 0, "cannot bind a loopback port: %s", strerror (error));
        int port = ntohs (addr.sin_port);
        bool taken = false;
        for (size_t i = 0; i < s_harness.port_count; i++)
            taken = taken || s_harness.ports [i] == port;
        if (!taken && s_harness.port_count < HARNESS_MAX_PORTS) {
            s_harness.ports [s_harness.port_count++] = port;
            return port;
        }
    }
    ck_abort_msg ("no free loopback port found");
    return -1;
}

//  Listens on a free loopback port, to make a port busy on purpose.
//  Returns the socket; *port_p gets the port.
int
harness_occupy_port (int *port_p)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge (fd, 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    ck_assert_int_eq (listen (fd, 8), 0);
    ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &addr, &length), 0);
    *port_p = ntohs (addr.sin_port);
    return fd;
}

//  When a process started, in clock ticks since boot (field 22 of
//  /proc/PID/stat), or 0 if there is no such live process.  With the pid it
//  names one process for good: a reused pid has another start time.
unsigned long long
harness_proc_started (pid_t pid)
{
    char path [64], text [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    size_t size = file? fread (text, 1, sizeof text - 1, file): 0;
    if (file)
        fclose (file);
    text [size] = 0;
    char *cursor = strrchr (text, ')');        //  the name may hold anything
    if (cursor && (cursor [2] == 'Z' || cursor [2] == 'X'))
        return 0;                               //  dead, waiting to be reaped
    unsigned long long started = 0;
    for (int field = 2; cursor && field < 22; field++)
        cursor = strchr (cursor + 1, ' ');
    if (cursor)
        started = strtoull (cursor + 1, NULL, 10);
    return started;
}

//  Appends "start PID STARTED" or "end PID 0" to the case's pid file, so
//  the runner knows which processes may still run, and can tell them
//  from unrelated processes that reuse their pids.
static void
s_harness_note (const char *what, pid_t pid, unsigned long long started)
{
    if (!s_harness.base)
        return;
    char *path = zsys_sprintf ("%s/pids", s_harness.base);
    FILE *file = fopen (path, "a");
    if (file) {
        fprintf (file, "%s %d %llu\n", what, (int) pid, started);
        fclose (file);
    }
    free (path);
}

//  Absolute path of a program from its environment variable (set by
//  make check); fails the test with a hint if it is not set.
const char *
harness_program (const char *variable)
{
    const char *path = getenv (variable);
    ck_assert_msg (path && *path, "%s is not set: run under make check, or export "
                   "%s=/path/to/the/built/program", variable, variable);
    ck_assert_msg (access (path, X_OK) == 0, "%s=%s is not executable", variable, path);
    return path;
}

//  Starts argv (argv [0] a path) in its own process group, stdin from
//  /dev/null, stdout and stderr appended to the given files (NULL:
//  /dev/null).  The process is registered, so it is stopped at teardown
//  or exit, and dies with the test process if that is killed.
pid_t
harness_spawn (const char *name, char *const argv [], const char *out_path,
               const char *err_path)
{
    ck_assert_msg (s_harness.proc_count < HARNESS_MAX_PROCS, "too many processes");
    pid_t parent = getpid ();
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    ck_assert_msg (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        //  Child: only async-signal-safe calls until exec, then _exit
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (127);                //  the test died before we got here
        int in = open ("/dev/null", O_RDONLY);
        int out = open (out_path? out_path: "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        int err = open (err_path? err_path: "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0 || err < 0)
            _exit (126);
        dup2 (in, 0);
        dup2 (out, 1);
        dup2 (err, 2);
        execv (argv [0], argv);
        dprintf (2, "harness: cannot exec %s: %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    setpgid (pid, pid);                 //  also here: no race with kill (-pid)
    harness_proc_t *proc = &s_harness.procs [s_harness.proc_count++];
    proc->pid = pid;
    proc->name = strdup (name);
    proc->log = err_path? strdup (err_path): NULL;
    s_harness_note ("start", pid, harness_proc_started (pid));
    return pid;
}

//  The registered process with that pid, or NULL.
harness_proc_t *
harness_proc (pid_t pid)
{
    for (size_t i = 0; i < s_harness.proc_count; i++)
        if (s_harness.procs [i].pid == pid)
            return &s_harness.procs [i];
    return NULL;
}

//  Forgets a process that has been reaped.
static void
s_harness_forget (pid_t pid)
{
    s_harness_note ("end", pid, 0);
    for (size_t i = 0; i < s_harness.proc_count; i++)
        if (s_harness.procs [i].pid == pid) {
            free (s_harness.procs [i].name);
            free (s_harness.procs [i].log);
            s_harness.procs [i] = s_harness.procs [--s_harness.proc_count];
            return;
        }
}

//  Polls for the process to exit until timeout_ms; true and *status_p (a
//  waitpid status) if it did; the process is then reaped and forgotten.
bool
harness_wait_exit (pid_t pid, int timeout_ms, int *status_p)
{
    int64_t deadline = harness_now_ms () + timeout_ms;
    while (true) {
        int status = 0;
        pid_t rc = waitpid (pid, &status, WNOHANG);
        if (rc == pid || (rc == -1 && errno == ECHILD)) {
            if (status_p)
                *status_p = rc == pid? status: -1;
            s_harness_forget (pid);
            return true;
        }
        if (harness_now_ms () >= deadline)
            return false;
        harness_nap (10);
    }
}

//  Sends sig to the process's group and waits up to timeout_ms for it to
//  exit, then SIGKILLs the group.  Returns the waitpid status, or -1 if
//  it had to be killed.
int
harness_stop (pid_t pid, int sig, int timeout_ms)
{
    int status = -1;
    kill (-pid, sig);
    if (harness_wait_exit (pid, timeout_ms, &status))
        return status;
    kill (-pid, SIGKILL);
    while (waitpid (pid, NULL, 0) == -1 && errno == EINTR)
        ;
    s_harness_forget (pid);
    return -1;
}

//  True if a waitpid status says the process exited on its own with code.
bool
harness_exited_with (int status, int code)
{
    return status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == code;
}

//  Describes a waitpid status for messages ("exit 2", "signal 9").
const char *
harness_status_text (int status, char *buffer, size_t size)
{
    if (status == -1)
        snprintf (buffer, size, "did not exit in time (killed)");
    else
    if (WIFEXITED (status))
        snprintf (buffer, size, "exit %d", WEXITSTATUS (status));
    else
    if (WIFSIGNALED (status))
        snprintf (buffer, size, "signal %d", WTERMSIG (status));
    else
        snprintf (buffer, size, "status %d", status);
    return buffer;
}

//  Runs a program to completion (at most timeout_ms) with output to files;
//  returns its waitpid status.  Fails the test if it does not finish.
int
harness_run (char *const argv [], const char *out_path, const char *err_path,
             int timeout_ms)
{
    pid_t pid = harness_spawn (argv [0], argv, out_path, err_path);
    int status = -1;
    if (!harness_wait_exit (pid, timeout_ms, &status)) {
        harness_stop (pid, SIGKILL, 1000);
        ck_abort_msg ("%s did not finish within %d ms", argv [0], timeout_ms);
    }
    return status;
}

//  Stops every process still running (SIGTERM, then SIGKILL).
void
harness_stop_all (void)
{
    //  Signal all first, so they shut down in parallel
    for (size_t i = 0; i < s_harness.proc_count; i++)
        kill (-s_harness.procs [i].pid, SIGTERM);
    while (s_harness.proc_count > 0)
        harness_stop (s_harness.procs [0].pid, SIGTERM, HARNESS_STOP_MS);
}

//  Prints the tail of every *.log file in a folder.
static void
s_harness_print_logs (const char *dir)
{
    DIR *handle = opendir (dir);
    struct dirent *entry;
    while (handle && (entry = readdir (handle))) {
        size_t length = strlen (entry->d_name);
        if (length > 4 && streq (entry->d_name + length - 4, ".log")) {
            char *path = zsys_sprintf ("%s/%s", dir, entry->d_name);
            harness_print_tail (entry->d_name, path);
            free (path);
        }
    }
    if (handle)
        closedir (handle);
}

//  Unchecked fixture setup (in the runner, once per test case): the
//  case's folder, which each test's own folder goes inside.
void
harness_case_setup (void)
{
    s_harness.base = testutil_tempdir ();
}

//  Unchecked fixture teardown (in the runner, after the case's tests,
//  even failed or timed out ones): stops every process a test started
//  and did not reap (SIGTERM to its group, SIGKILL after a grace), shows
//  the logs of the tests that failed and keeps their folders.
void
harness_case_teardown (void)
{
    if (!s_harness.base)
        return;
    char *path = zsys_sprintf ("%s/pids", s_harness.base);
    FILE *file = fopen (path, "r");
    free (path);
    pid_t running [256];
    unsigned long long started [256];
    size_t count = 0;
    char what [16];
    int pid;
    unsigned long long start;
    while (file && fscanf (file, "%15s %d %llu", what, &pid, &start) == 3) {
        if (streq (what, "start") && count < 256) {
            running [count] = (pid_t) pid;
            started [count++] = start;
        }
        else
        if (streq (what, "end"))
            for (size_t i = 0; i < count; i++)
                if (running [i] == (pid_t) pid) {
                    running [i] = running [--count];
                    started [i] = started [count];
                    break;
                }
    }
    if (file)
        fclose (file);
    //  Signal only a process that is still the one we started (same pid,
    //  same start time); it leads its own group
    for (size_t i = 0; i < count; i++)
        if (started [i] && harness_proc_started (running [i]) == started [i])
            kill (-running [i], SIGTERM);
    //  They are not our children (the test process that was is gone), so
    //  poll until each is gone (init reaps them), then SIGKILL stragglers
    int64_t deadline = harness_now_ms () + HARNESS_STOP_MS;
    for (size_t i = 0; i < count; i++) {
        while (started [i] && harness_proc_started (running [i]) == started [i]) {
            waitpid (running [i], NULL, WNOHANG);   //  ours if Check did not fork
            if (harness_now_ms () >= deadline) {
                fprintf (stderr, "harness: process %d ignored SIGTERM; killing it\n",
                         (int) running [i]);
                kill (-running [i], SIGKILL);
                deadline = harness_now_ms () + HARNESS_STOP_MS;
            }
            harness_nap (10);
        }
    }
    //  A test's folder is left only if the test did not pass
    bool failed = false;
    DIR *handle = opendir (s_harness.base);
    struct dirent *entry;
    while (handle && (entry = readdir (handle)))
        if (strncmp (entry->d_name, "test-", 5) == 0) {
            char *dir = zsys_sprintf ("%s/%s", s_harness.base, entry->d_name);
            fprintf (stderr, "harness: a test did not pass; its files are kept in %s\n", dir);
            s_harness_print_logs (dir);
            free (dir);
            failed = true;
        }
    if (handle)
        closedir (handle);
    if (!failed && !getenv ("ZCHAIN_KEEP_TMP"))
        testutil_rmdir (s_harness.base);
    free (s_harness.base);
    s_harness.base = NULL;
}

//  Checked fixture setup (in the test process): a fresh folder for this
//  test inside the case's folder, and a clean slate.
void
harness_setup (void)
{
    s_harness.proc_count = 0;
    s_harness.port_count = 0;
    s_harness.lone = !s_harness.base;
    if (s_harness.lone)
        s_harness.base = testutil_tempdir ();  //  no unchecked fixture
    char template [600];
    snprintf (template, sizeof template, "%s/test-XXXXXX", s_harness.base);
    ck_assert_ptr_nonnull (mkdtemp (template));
    s_harness.dir = strdup (template);
}

//  Checked fixture teardown (in the test process, when the test ended
//  normally): stops every process and removes the test's folder (kept if
//  ZCHAIN_KEEP_TMP is set).
void
harness_teardown (void)
{
    harness_stop_all ();
    if (s_harness.dir) {
        if (getenv ("ZCHAIN_KEEP_TMP"))
            fprintf (stderr, "harness: files kept in %s\n", s_harness.dir);
        else
            testutil_rmdir (s_harness.lone? s_harness.base: s_harness.dir);
        free (s_harness.dir);
        s_harness.dir = NULL;
    }
    if (s_harness.lone) {
        free (s_harness.base);
        s_harness.base = NULL;
    }
}

//  A test case with both fixtures and a timeout, added to suite.
TCase *
harness_tcase (Suite *suite, const char *name, double timeout)
{
    TCase *tcase = tcase_create (name);
    tcase_add_unchecked_fixture (tcase, harness_case_setup, harness_case_teardown);
    tcase_add_checked_fixture (tcase, harness_setup, harness_teardown);
    tcase_set_timeout (tcase, timeout);
    suite_add_tcase (suite, tcase);
    return tcase;
}

//  The test's temporary folder.
const char *
harness_dir (void)
{
    return s_harness.dir;
}

//  Names nodes n1..nN, gives each a free port and a data folder.
void
harness_nodes_init (harness_node_t *nodes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        harness_node_t *node = &nodes [i];
        memset (node, 0, sizeof *node);
        snprintf (node->name, sizeof node->name, "n%u", (unsigned) (i + 1) % 100000u);
        node->port = harness_free_port ();
        snprintf (node->address, sizeof node->address, "127.0.0.1:%d", node->port);
        node->data = harness_path ("%s", node->name);
        node->db = harness_path ("%s/node_%d.sqlite3", node->name, node->port);
    }
}

//  Frees what harness_nodes_init allocated.
void
harness_nodes_free (harness_node_t *nodes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free (nodes [i].data);
        free (nodes [i].db);
        nodes [i].data = nodes [i].db = NULL;
    }
}

//  Writes a ZPL config for the nodes to the test folder and returns its
//  path (caller frees).  network holds "key = value" lines for the
//  Appends "network" and network's lines ("key = value\n"...), indented, to
//  text, which has room for 16 + 2 * strlen (network) more bytes.
void
harness_network_section (char *text, const char *network)
{
    strcat (text, "network\n");
    const char *line = network;
    while (*line) {
        const char *end = strchr (line, '\n');
        size_t length = end? (size_t) (end - line): strlen (line);
        strcat (text, "    ");
        strncat (text, line, length);
        strcat (text, "\n");
        line += length + (end? 1: 0);
    }
}

//  network section, one per line, unindented.
char *
harness_config_write (const char *file, harness_node_t *nodes, size_t count,
                      const char *network)
{
    size_t size = 256 + strlen (network) * 2 + count * 1024;
    char *text = (char *) calloc (1, size);
    ck_assert_ptr_nonnull (text);
    strcat (text, "#   written by the test harness\n");
    harness_network_section (text, network);
    strcat (text, "node\n");
    for (size_t i = 0; i < count; i++)
        snprintf (text + strlen (text), size - strlen (text),
                  "    %s\n        host = 127.0.0.1\n        port = %d\n"
                  "        data = %s\n", nodes [i].name, nodes [i].port, nodes [i].data);
    char *path = harness_path ("%s", file);
    harness_write_file (path, text);
    free (text);
    return path;
}

//  Starts zchaind on a config for the named instances (all of the file's
//  if names is NULL), stderr to the test folder's `log`.
pid_t
harness_zchaind_start (const char *config, const char *log, const char **names,
                       size_t name_count)
{
    const char *argv [8 + 16];
    size_t argc = 0;
    ck_assert_uint_le (name_count, 16);
    argv [argc++] = harness_program ("ZCHAIND");
    argv [argc++] = "-c";
    argv [argc++] = config;
    for (size_t i = 0; names && i < name_count; i++)
        argv [argc++] = names [i];
    argv [argc] = NULL;
    char *log_path = harness_path ("%s", log);
    pid_t pid = harness_spawn (log, (char *const *) argv, NULL, log_path);
    free (log_path);
    return pid;
}

//  Sends one message (its text, framed as asked) on a new connection and
//  returns the reply, or NULL if there is none within timeout_ms.
cJSON *
harness_request (const char *address, zc_framing_t framing, const char *text,
                 int timeout_ms)
{
    cJSON *request = cJSON_Parse (text);
    ck_assert_msg (request, "test bug: request is not JSON: %s", text);
    zc_client_t *client = zc_client_new (address, framing, NULL);
    cJSON *reply = client? zc_client_request (client, request, timeout_ms): NULL;
    zc_client_destroy (&client);
    cJSON_Delete (request);
    return reply;
}

//  String member of a JSON object, or NULL.
const char *
harness_string (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsString (item)? item->valuestring: NULL;
}

//  Number member of a JSON object, or -1 if absent.
double
harness_number (const cJSON *json, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (json, name);
    return cJSON_IsNumber (item)? item->valuedouble: -1;
}

//  Asks a node for ping; its node_id if it answered pong (caller frees).
char *
harness_ping (const char *address, int timeout_ms)
{
    cJSON *reply = harness_request (address, ZC_FRAMING_LINE, "{\"type\":\"ping\"}", timeout_ms);
    const char *type = harness_string (reply, "type");
    const char *node_id = harness_string (reply, "node_id");
    char *result = type && streq (type, "pong") && node_id? strdup (node_id): NULL;
    cJSON_Delete (reply);
    return result;
}

//  Waits until a node answers ping (it listens only once its ledger is
//  loaded) and records its node_id; fails the test after timeout_ms,
//  showing the log of the process.
void
harness_node_wait_ready (harness_node_t *node, int timeout_ms)
{
    int64_t deadline = harness_now_ms () + timeout_ms;
    char *node_id = NULL;
    while (!node_id) {
        bool past = harness_now_ms () >= deadline;
        node_id = harness_ping (node->address, 1000);
        if (node_id || past)
            break;
        int status = 0;
        if (node->pid && harness_wait_exit (node->pid, 0, &status)) {
            char text [64];
            harness_print_logs ();      //  Check's _exit skips the exit handler
            ck_abort_msg ("zchaind for %s exited before answering ping: %s", node->name,
                          harness_status_text (status, text, sizeof text));
        }
        harness_nap (HARNESS_POLL_MS);
    }
    if (!node_id)
        harness_print_logs ();
    ck_assert_msg (node_id, "%s (%s) did not answer ping within %d ms",
                   node->name, node->address, timeout_ms);
    snprintf (node->node_id, sizeof node->node_id, "%s", node_id);
    free (node_id);
}

//  Height and tip (copied into tip, ZC_HASH_HEX + 1 bytes) of a node by
//  get_status; fails the test if it does not answer.
int64_t
harness_node_tip (harness_node_t *node, char *tip)
{
    cJSON *status = harness_status (node->address, 10000);
    ck_assert_msg (status, "%s did not answer get_status", node->name);
    const char *hash = harness_string (status, "tip_hash");
    ck_assert_msg (hash && zc_hash_valid (hash), "%s: bad tip_hash", node->name);
    strcpy (tip, hash);
    int64_t height = (int64_t) harness_number (status, "height");
    cJSON_Delete (status);
    return height;
}

//  True if a node_list's "nodes" array names node by its loopback host,
//  port and node_id.
bool
harness_node_listed (const cJSON *list, const harness_node_t *node)
{
    const cJSON *entry;
    cJSON_ArrayForEach (entry, list) {
        const char *host = harness_string (entry, "host");
        const char *node_id = harness_string (entry, "node_id");
        if (host && streq (host, "127.0.0.1") && harness_number (entry, "port") == node->port
        &&  node_id && streq (node_id, node->node_id))
            return true;
    }
    return false;
}

//  get_status of a node, or NULL if it does not answer in timeout_ms.
cJSON *
harness_status (const char *address, int timeout_ms)
{
    cJSON *reply = harness_request (address, ZC_FRAMING_LINE,
                                    "{\"type\":\"get_status\"}", timeout_ms);
    const char *type = harness_string (reply, "type");
    if (!type || !streq (type, "status")) {
        cJSON_Delete (reply);
        reply = NULL;
    }
    return reply;
}

//  Opens a node's ledger read-only (WAL lets a test read beside the node).
sqlite3 *
harness_ledger_open (harness_node_t *node)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2 (node->db, &db, SQLITE_OPEN_READONLY, NULL);
    ck_assert_msg (rc == SQLITE_OK, "cannot open %s read-only: %s", node->db,
                   db? sqlite3_errmsg (db): "?");
    sqlite3_busy_timeout (db, 5000);
    return db;
}

//  Runs a query that yields one integer (one optional text parameter).
int64_t
harness_sql_int (sqlite3 *db, const char *sql, const char *text_arg)
{
    sqlite3_stmt *stmt = NULL;
    ck_assert_msg (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK,
                   "%s: %s", sql, sqlite3_errmsg (db));
    if (text_arg)
        sqlite3_bind_text (stmt, 1, text_arg, -1, SQLITE_TRANSIENT);
    ck_assert_msg (sqlite3_step (stmt) == SQLITE_ROW, "%s: no row: %s", sql, sqlite3_errmsg (db));
    int64_t value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}
