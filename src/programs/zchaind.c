/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zchaind - runs the instances of a zchain deployment

        zchaind [-c FILE] [-v] [--log-file FILE] [--syslog] [INSTANCE...]
        zchaind [-c FILE] --init [INSTANCE...]
        zchaind [-c FILE] --check-ledger [INSTANCE...]

    Starts every instance named (all of the file's when none is: nodes,
    gateway, server) in this one process and runs until SIGINT or SIGTERM,
    then stops them cleanly.  SIGHUP reopens the log file (logrotate).
    Without -c it reads the installed config, $(sysconfdir)/zchain/zchain.conf.

    --init makes the node keys the instances lack and prints the `key =`
    lines that pin them; --check-ledger checks every block of the nodes'
    ledgers.  Both then exit: 0 if all went well, 1 if not.

    Exit status: 0 after a clean stop, 1 if an instance could not start,
    2 on bad usage or a bad config file.  man zchaind (doc/zchaind.8).
    =========================================================================
*/

#include "../roles/zc_roles.h"
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>

#ifndef ZC_SYSCONFDIR
#   define ZC_SYSCONFDIR "/etc"
#endif
#define S_DEFAULT_CONFIG ZC_SYSCONFDIR "/zchain/zchain.conf"

//  Prints usage to the given stream.  doc/zchaind.8 lists the same flags
//  (tests/system/test_manpages.sh checks it).
static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchaind [-c FILE] [-v] [--log-file FILE] [--syslog] [INSTANCE...]\n"
        "       zchaind [-c FILE] --init [INSTANCE...]\n"
        "       zchaind [-c FILE] --check-ledger [INSTANCE...]\n"
        "  -c, --conf FILE   deployment config (ZPL); default " S_DEFAULT_CONFIG "\n"
        "  -v, --verbose     log every block and peer exchange\n"
        "  --log-file FILE   log to FILE (appended, reopened on SIGHUP) instead of stderr\n"
        "  --syslog          log to syslog (facility daemon) instead of stderr\n"
        "  --init            make the node keys the instances lack, print the\n"
        "                    `key = ...` lines that pin them in FILE, and exit\n"
        "  --check-ledger    check every block of the nodes' ledgers, and exit\n"
        "  -h, --help        print this help and exit\n"
        "  -V, --version     print the version and exit\n"
        "  INSTANCE          instance names from FILE (default: all of them)\n"
        "signals: SIGTERM and SIGINT stop cleanly; SIGHUP reopens the log file.\n"
        "exit status: 0 clean stop, 1 an instance could not start, 2 bad usage or config.\n");
}

//  A thousand idle clients must not lock others out: take the hard limit.
static void
s_raise_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
            zc_log_warning ("cannot raise the open-file limit");
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

//  Says what is wrong with the command line and how to get help; exit 2.
static int
s_bad_usage (const char *format, const char *what)
{
    fprintf (stderr, "zchaind: ");
    fprintf (stderr, format, what);
    fprintf (stderr, "\nrun zchaind --help for the options\n");
    return 2;
}

int
main (int argc, char *argv [])
{
    static const struct option longopts [] = {
        { "conf",     required_argument, NULL, 'c' },
        { "verbose",  no_argument,       NULL, 'v' },
        { "log-file", required_argument, NULL, 'L' },
        { "syslog",   no_argument,       NULL, 'S' },
        { "help",     no_argument,       NULL, 'h' },
        { "version",  no_argument,       NULL, 'V' },
        { "init",     no_argument,       NULL, 'I' },
        { "check-ledger", no_argument,   NULL, 'K' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = S_DEFAULT_CONFIG, *log_path = NULL;
    bool use_syslog = false, default_path = true, init = false, check_ledger = false;
    opterr = 0;                         //  our messages, not getopt's
    int option;
    while ((option = getopt_long (argc, argv, ":c:vhV", longopts, NULL)) != -1) {
        switch (option) {
            case 'c': path = optarg; default_path = false; break;
            case 'v': zc_verbose = true; break;
            case 'L': log_path = optarg; break;
            case 'S': use_syslog = true; break;
            case 'I': init = true; break;
            case 'K': check_ledger = true; break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("zchaind %s\n", ZCHAIN_VERSION); return 0;
            case ':':
                return s_bad_usage (optopt == 'c'? "%s needs a value: the config file, e.g. "
                                    "-c /etc/zchain/zchain.conf": "%s needs a value",
                                    argv [optind - 1]);
            default:
                return s_bad_usage ("unknown option %s", argv [optind - 1]);
        }
    }
    const char **names = (const char **) (argv + optind);
    size_t name_count = (size_t) (argc - optind);
    char *error = NULL;
    zc_config_t *config = zc_config_load (path, &error);
    if (!config) {
        fprintf (stderr, "zchaind: %s\n", error);
        if (default_path)
            fprintf (stderr, "zchaind: that is the default config; give another with -c FILE\n");
        free (error);
        return 2;
    }
    for (size_t i = 0; i < name_count; i++)
        if (!zc_config_node (config, names [i]) && !zc_config_service (config, names [i])) {
            fprintf (stderr, "zchaind: %s: no instance named '%s'\n", path, names [i]);
            zc_config_destroy (&config);
            return 2;
        }
    if (init || check_ledger) {
        int done = init? (zc_config_init_keys (config, names, name_count, stdout) == 0? 0: 1)
                       : s_check_ledgers (config, names, name_count);
        zc_config_destroy (&config);
        return done;
    }
    if (zc_log_open ("zchaind", log_path, use_syslog, &error)) {
        fprintf (stderr, "zchaind: %s\n", error);
        free (error);
        zc_config_destroy (&config);
        return 2;
    }

    //  Signals are taken by sigwait below, in this thread only: block them
    //  before any thread exists so every thread inherits the mask
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGHUP);
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
    //  Until a stop signal: SIGHUP reopens the log; once a second the
    //  log's held-back summaries are written
    while (rc == 0) {
        struct timespec second = { 1, 0 };
        int signal_number = sigtimedwait (&signals, NULL, &second);
        zc_log_flush ();
        if (signal_number == SIGHUP) {
            if (zc_log_reopen () == 0)
                zc_log_notice ("SIGHUP: log reopened");
        }
        else
        if (signal_number > 0) {
            zc_log_info ("signal %d (%s): stopping", signal_number, strsignal (signal_number));
            break;
        }
    }
    for (size_t i = started; i-- > 0; )
        zc_node_destroy (&nodes [i]);
    for (size_t i = services_started; i-- > 0; )
        zc_service_destroy (&services [i]);
    free (nodes);
    free (services);
    zc_config_destroy (&config);
    zc_log_close ();
    zsys_shutdown ();
    return rc;
}
