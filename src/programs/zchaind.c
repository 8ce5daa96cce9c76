/*  =========================================================================
    zchaind - runs the instances of a zchain deployment

        zchaind -c FILE [-v] [INSTANCE...]
        zchaind -c FILE --check-ledger [INSTANCE...]

    Starts every instance named (all of the file's when none is: nodes,
    gateway, server) in this one process and runs until SIGINT or SIGTERM, then stops them cleanly.
    =========================================================================
*/

#include "../roles/zc_roles.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

//  Prints usage to the given stream.
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchaind -c FILE [-v] [INSTANCE...]\n"
        "       zchaind -c FILE --init [INSTANCE...]\n"
        "       zchaind -c FILE --check-ledger [INSTANCE...]\n"
        "  -c FILE     deployment config (ZPL), e.g. etc/zchain.conf\n"
        "  -v          verbose: log every block and peer exchange\n"
        "  INSTANCE    instance names from FILE (default: all of them)\n"
        "  --init      make the node keys the instances lack and print the\n"
        "              `key = ...` lines that pin them in FILE, then exit\n"
        "  --check-ledger  check every block of the nodes' ledgers, then exit\n"
        "  --version   print the version and exit\n");
}

//  A thousand idle clients must not lock others out: take the hard limit.
static void
s_raise_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
            zsys_warning ("cannot raise the open-file limit");
    }
}

//  --check-ledger: walks each named node's ledger (all nodes if none is
//  named) with the network's rules, one block in memory at a time.  A
//  node opens with a check of its last blocks only; this is the whole one.
//  Returns 0 if every file is sound, 1 otherwise.
static int
s_check_ledgers (zc_config_t *config, const char **names, size_t name_count)
{
    int rc = 0;
    size_t count = name_count? name_count: zc_config_size (config);
    for (size_t i = 0; i < count; i++) {
        const char *name = name_count? names [i]: zc_config_name (config, i);
        zc_node_config_t *node = zc_config_node (config, name);
        if (!node)
            continue;                   //  a service has no ledger
        char *path = zsys_sprintf ("%s/node_%d.sqlite3", node->data, node->port);
        char *error = NULL;
        struct stat info;
        zc_ledger_t *ledger = NULL;
        if (stat (path, &info) != 0)
            error = zsys_sprintf ("no such file");
        else
            ledger = zc_ledger_open (path, &error);
        int64_t checked = -1;
        int64_t started = zc_clock_usecs ();
        if (ledger && zc_ledger_check (ledger, node->difficulty, node->max_block_txs,
                                       node->verify_txs, &checked, &error) == 0)
            printf ("%s: %s: sound, %" PRId64 " blocks, %" PRId64 " transactions,"
                    " checked in %.1f s\n", name, path, checked + 1,
                    zc_ledger_tx_count (ledger), (zc_clock_usecs () - started) / 1e6);
        else {
            fprintf (stderr, "zchaind: %s: %s: %s\n", name, path, error? error: "?");
            rc = 1;
        }
        zc_ledger_destroy (&ledger);
        free (error);
        free (path);
    }
    return rc;
}

int
main (int argc, char *argv [])
{
    bool check_ledger = false;
    const char *path = NULL;
    const char **names = (const char **) calloc ((size_t) argc, sizeof (char *));
    size_t name_count = 0;
    bool init = false;
    for (int arg = 1; arg < argc; arg++) {
        if (streq (argv [arg], "-c") && arg + 1 < argc)
            path = argv [++arg];
        else
        if (streq (argv [arg], "-v"))
            zc_verbose = true;
        else
        if (streq (argv [arg], "--init"))
            init = true;
        else
        if (streq (argv [arg], "--check-ledger"))
            check_ledger = true;
        else
        if (streq (argv [arg], "-h") || streq (argv [arg], "--help")) {
            s_usage (stdout);
            free (names);
            return 0;
        }
        else
        if (streq (argv [arg], "--version")) {
            printf ("zchaind %s\n", ZCHAIN_VERSION);
            free (names);
            return 0;
        }
        else
        if (argv [arg][0] == '-') {
            fprintf (stderr, "zchaind: unknown option %s\n", argv [arg]);
            s_usage (stderr);
            free (names);
            return 2;
        }
        else
            names [name_count++] = argv [arg];
    }
    if (!path) {
        s_usage (stderr);
        free (names);
        return 2;
    }
    char *error = NULL;
    zc_config_t *config = zc_config_load (path, &error);
    if (!config) {
        fprintf (stderr, "zchaind: %s\n", error);
        free (error);
        free (names);
        return 2;
    }
    for (size_t i = 0; i < name_count; i++)
        if (!zc_config_node (config, names [i]) && !zc_config_service (config, names [i])) {
            fprintf (stderr, "zchaind: %s: no instance named '%s'\n", path, names [i]);
            zc_config_destroy (&config);
            free (names);
            return 2;
        }

    if (init) {
        int init_rc = zc_config_init_keys (config, names, name_count, stdout);
        zc_config_destroy (&config);
        free (names);
        return init_rc == 0? 0: 1;
    }
    if (check_ledger) {
        int rc = s_check_ledgers (config, names, name_count);
        zc_config_destroy (&config);
        free (names);
        return rc;
    }

    //  Signals are taken by sigwait below, in this thread only: block them
    //  before any thread exists so every thread inherits the mask
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr);
    zsys_set_logident ("zchaind");
    zsys_init ();
    s_raise_fd_limit ();

    size_t count = name_count? name_count: zc_config_size (config);
    zc_node_t **nodes = (zc_node_t **) zmalloc ((count + 1) * sizeof (zc_node_t *));
    zc_service_t **services = (zc_service_t **) zmalloc ((count + 1) * sizeof (zc_service_t *));
    int rc = 0;
    size_t started = 0, services_started = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        const char *name = name_count? names [i]: zc_config_name (config, i);
        zc_node_config_t *node_config = zc_config_node (config, name);
        if (node_config) {
            nodes [started] = zc_node_new (node_config);
            if (nodes [started])
                started++;
            else
                rc = 1;
        }
        else {
            services [services_started] = zc_service_new (zc_config_service (config, name));
            if (services [services_started])
                services_started++;
            else
                rc = 1;
        }
    }
    if (rc == 0) {
        int signal_number = 0;
        sigwait (&signals, &signal_number);
        zsys_info ("signal %d: stopping", signal_number);
    }
    for (size_t i = started; i-- > 0; )
        zc_node_destroy (&nodes [i]);
    for (size_t i = services_started; i-- > 0; )
        zc_service_destroy (&services [i]);
    free (nodes);
    free (services);
    free (names);
    zc_config_destroy (&config);
    zsys_shutdown ();
    return rc;
}
