/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    load_options.c - zchain-load's command line and --help
    =========================================================================
*/

#include "zc_load.h"
#include <getopt.h>

const char *load_action_names [LOAD_ACTIONS] = {
    "health", "submit_transaction", "submit_purchase" };

//  ---------------------------------------------------------------------
//  Usage and option parsing

//  The --help text, also shown after bad usage hints.
void
load_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zchain-load -a HOST:PORT [options]\n"
        "Simulates many clients of a zchain gateway (or of nodes, with --nodes)\n"
        "from one process and reports sent, succeeded, failed by reason, send rate,\n"
        "throughput and latency min/p50/p90/p99/p99.9/max.\n"
        "target:\n"
        "  -a, --address HOST:PORT  gateway (or node) to load; repeat to spread the\n"
        "                           clients over several\n"
        "  --nodes                  talk to nodes: NEW_TRANSACTION and ping instead of\n"
        "                           the gateway's submit_transaction and health\n"
        "  --redis-ping             talk to a redis-server: every request is a RESP\n"
        "                           PING (answered +PONG), reported as health; the\n"
        "                           reference the gateway's health is measured against\n"
        "load shape:\n"
        "  --clients N              simulated clients, one connection each (default 10;\n"
        "                           10,000 work: the fd limit is raised)\n"
        "  --rate R                 total sends per second, open loop: sends go out on\n"
        "                           schedule whether or not replies came; a send due\n"
        "                           while every client waits for a reply is skipped and\n"
        "                           counted (no pipelining).  0 (default): closed loop,\n"
        "                           each client sends when its last reply came\n"
        "  --duration S             send for S seconds (ramp included), or\n"
        "  --count N                schedule N requests (default 1000)\n"
        "  --ramp S                 open loop: rate climbs linearly from 0 over S s;\n"
        "                           closed loop: clients start evenly over S s\n"
        "  --mix A=W,...            actions by weight: health, submit_transaction,\n"
        "                           submit_purchase; a lone name means only it\n"
        "                           (default submit_transaction)\n"
        "  --keep-alive             one connection per client for the run (default)\n"
        "  --connect-per-request    a new connection per request, as the seed's\n"
        "                           clients do (latency includes the connect)\n"
        "confirmations:\n"
        "  --notify-listen HOST:PORT  act as the marketplace server: take the gateway's\n"
        "                           block_confirmation lines and measure confirmation\n"
        "                           latency (first node, every node) and confirmed tx/s;\n"
        "                           configure HOST:PORT as the deployment's server\n"
        "report:\n"
        "  --json FILE              write the report as JSON\n"
        "  --csv FILE               write the summary table as CSV\n"
        "  --html FILE              write one HTML page with the tables and SVG charts\n"
        "  --bucket S               width of the time series' buckets (default 1)\n"
        "  --monitor M              resources of the system under test, sampled each\n"
        "                           bucket: proc (CPU and RSS of each zchaind on this\n"
        "                           host), status (the nodes' get_status; needs\n"
        "                           --nodes), none, or auto (default: proc when the\n"
        "                           targets are on this host, else status with --nodes)\n"
        "  --late-ms MS             a send this late counts as late (default 10)\n"
        "tuning:\n"
        "  --keys N                 signing keys for transactions (default 64)\n"
        "  --prepare N              requests prepared before the clock (default: all\n"
        "                           scheduled; closed loop with --duration: 20000, then\n"
        "                           more are signed during the run, which is noted)\n"
        "  --timeout S              a reply later than this fails the request (default 10)\n"
        "  --connect-timeout S      a connect slower than this fails (default 3)\n"
        "  --grace S                after the last send, wait this long at most for\n"
        "                           replies and confirmations (default 10)\n"
        "  -h, --help               print this help and exit\n"
        "  -V, --version            print the version and exit\n"
        "A live progress line goes to stderr when it is a terminal.  Exit status: 0\n"
        "if every request sent succeeded, 1 if some failed or the target could not\n"
        "be reached, 2 on bad usage.\n");
}

//  Parses a number in [min, max]; false if text is not one.
static bool
s_parse_double (const char *text, double min, double max, double *value_p)
{
    char *end = NULL;
    errno = 0;
    if (!text || !*text)
        return false;
    double value = strtod (text, &end);
    if (*end || errno || !(value >= min && value <= max))
        return false;
    *value_p = value;
    return true;
}

//  Parses an unsigned integer in [min, max]; false if text is not one.
bool
load_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *value_p)
{
    char *end = NULL;
    errno = 0;
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    unsigned long long value = strtoull (text, &end, 10);
    if (*end || errno || value < min || value > max)
        return false;
    *value_p = value;
    return true;
}

//  Parses --mix: "a=w,b=w" or a lone action name.  Returns an error
//  message (static) or NULL.
static const char *
s_parse_mix (load_options_t *options, const char *text)
{
    unsigned weights [LOAD_ACTIONS] = { 0 };
    char *copy = strdup (text);
    char *saveptr = NULL;
    const char *error = NULL;
    for (char *item = strtok_r (copy, ",", &saveptr); item && !error;
         item = strtok_r (NULL, ",", &saveptr)) {
        char *equals = strchr (item, '=');
        uint64_t weight = 1;
        if (equals) {
            *equals = 0;
            if (!load_parse_uint (equals + 1, 0, 1000000, &weight))
                error = "--mix weights must be integers from 0 to 1000000";
        }
        else
        if (strchr (text, ','))
            error = "--mix: give every action a weight (action=weight,...), or one name";
        size_t action = 0;
        while (action < LOAD_ACTIONS && !streq (load_action_names [action], item))
            action++;
        if (!error && action == LOAD_ACTIONS)
            error = "--mix: unknown action (health, submit_transaction, submit_purchase)";
        if (!error)
            weights [action] += (unsigned) weight;
    }
    free (copy);
    if (!error && weights [0] + weights [1] + weights [2] == 0)
        error = "--mix: the weights add up to 0";
    if (!error)
        memcpy (options->weights, weights, sizeof weights);
    return error;
}

//  Parses the command line.  Returns 0, 1 after --help or --version, or
//  -1 after saying what is wrong.  Long options take their value as
//  --clients=5 or --clients 5, -a as -aHOST:PORT or -a HOST:PORT.
int
load_parse_options (load_options_t *options, int argc, char *argv [])
{
    enum { O_NODES = 256, O_REDIS, O_KEEP_ALIVE, O_PER_REQUEST, O_CLIENTS, O_RATE,
           O_DURATION, O_COUNT, O_RAMP, O_MIX, O_NOTIFY, O_JSON, O_CSV, O_HTML, O_KEYS,
           O_PREPARE, O_TIMEOUT, O_CONNECT_TIMEOUT, O_GRACE, O_LATE_MS, O_BUCKET,
           O_MONITOR };
    static const struct option longopts [] = {
        { "address",             required_argument, NULL, 'a' },
        { "nodes",               no_argument,       NULL, O_NODES },
        { "redis-ping",          no_argument,       NULL, O_REDIS },
        { "keep-alive",          no_argument,       NULL, O_KEEP_ALIVE },
        { "connect-per-request", no_argument,       NULL, O_PER_REQUEST },
        { "clients",             required_argument, NULL, O_CLIENTS },
        { "rate",                required_argument, NULL, O_RATE },
        { "duration",            required_argument, NULL, O_DURATION },
        { "count",               required_argument, NULL, O_COUNT },
        { "ramp",                required_argument, NULL, O_RAMP },
        { "mix",                 required_argument, NULL, O_MIX },
        { "notify-listen",       required_argument, NULL, O_NOTIFY },
        { "json",                required_argument, NULL, O_JSON },
        { "csv",                 required_argument, NULL, O_CSV },
        { "html",                required_argument, NULL, O_HTML },
        { "keys",                required_argument, NULL, O_KEYS },
        { "prepare",             required_argument, NULL, O_PREPARE },
        { "timeout",             required_argument, NULL, O_TIMEOUT },
        { "connect-timeout",     required_argument, NULL, O_CONNECT_TIMEOUT },
        { "grace",               required_argument, NULL, O_GRACE },
        { "late-ms",             required_argument, NULL, O_LATE_MS },
        { "bucket",              required_argument, NULL, O_BUCKET },
        { "monitor",             required_argument, NULL, O_MONITOR },
        { "help",                no_argument,       NULL, 'h' },
        { "version",             no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    memset (options, 0, sizeof *options);
    options->clients = 10;
    options->weights [LOAD_SUBMIT_TX] = 1;
    options->keys = 64;
    options->timeout = 10;
    options->connect_timeout = 3;
    options->grace = 10;
    options->late_ms = 10;
    options->bucket = 1;
    options->monitor = "auto";
    const char *error = NULL;
    static char message [256];
    opterr = 0;
    optind = 1;
    int option;
    while (!error && (option = getopt_long (argc, argv, ":a:hV", longopts, NULL)) != -1) {
        const char *value = optarg;
        uint64_t number = 0;
        switch (option) {
        case 'h':
            load_usage (stdout);
            return 1;
        case 'V':
            printf ("zchain-load %s\n", ZCHAIN_VERSION);
            return 1;
        case ':':
            snprintf (message, sizeof message, "%s needs a value", argv [optind - 1]);
            error = message;
            break;
        case '?':
            snprintf (message, sizeof message, "unknown option %s", argv [optind - 1]);
            error = message;
            break;
        case O_NODES:       options->nodes = true; break;
        case O_REDIS:       options->redis = true; break;
        case O_KEEP_ALIVE:  options->per_request = false; break;
        case O_PER_REQUEST: options->per_request = true; break;
        case 'a':
            if (options->address_count == LOAD_MAX_TARGETS)
                error = "too many -a targets";
            else
                options->addresses [options->address_count++] = value;
            break;
        case O_CLIENTS:
            if (!load_parse_uint (value, 1, 1000000, &number))
                error = "--clients needs an integer from 1 to 1000000";
            options->clients = (size_t) number;
            break;
        case O_RATE:
            if (!s_parse_double (value, 0, 1e7, &options->rate))
                error = "--rate needs a number of sends per second from 0 to 1e7";
            break;
        case O_DURATION:
            if (!s_parse_double (value, 0.001, 1e6, &options->duration))
                error = "--duration needs a number of seconds above 0";
            break;
        case O_COUNT:
            if (!load_parse_uint (value, 1, 1000000000, &options->count))
                error = "--count needs an integer from 1 to 1e9";
            break;
        case O_RAMP:
            if (!s_parse_double (value, 0, 1e6, &options->ramp))
                error = "--ramp needs a number of seconds >= 0";
            break;
        case O_MIX:
            error = s_parse_mix (options, value);
            free (options->mix);
            options->mix = strdup (value);
            break;
        case O_NOTIFY:      options->notify = value; break;
        case O_JSON:        options->json_path = value; break;
        case O_CSV:         options->csv_path = value; break;
        case O_HTML:        options->html_path = value; break;
        case O_KEYS:
            if (!load_parse_uint (value, 1, 100000, &number))
                error = "--keys needs an integer from 1 to 100000";
            options->keys = (size_t) number;
            break;
        case O_PREPARE:
            if (!load_parse_uint (value, 1, 1000000000, &options->prepare))
                error = "--prepare needs an integer from 1 to 1e9";
            break;
        case O_TIMEOUT:
            if (!s_parse_double (value, 0.001, 3600, &options->timeout))
                error = "--timeout needs a number of seconds from 0.001 to 3600";
            break;
        case O_CONNECT_TIMEOUT:
            if (!s_parse_double (value, 0.001, 600, &options->connect_timeout))
                error = "--connect-timeout needs a number of seconds from 0.001 to 600";
            break;
        case O_GRACE:
            if (!s_parse_double (value, 0, 3600, &options->grace))
                error = "--grace needs a number of seconds from 0 to 3600";
            break;
        case O_LATE_MS:
            if (!s_parse_double (value, 0.001, 1e6, &options->late_ms))
                error = "--late-ms needs a number of milliseconds above 0";
            break;
        case O_BUCKET:
            if (!s_parse_double (value, 0.001, 3600, &options->bucket))
                error = "--bucket needs a number of seconds from 0.001 to 3600";
            break;
        case O_MONITOR:
            options->monitor = value;
            if (!streq (value, "auto") && !streq (value, "proc") && !streq (value, "status")
            &&  !streq (value, "none"))
                error = "--monitor is auto, proc, status or none";
            break;
        }
    }
    if (!error && optind < argc) {
        snprintf (message, sizeof message, "unexpected argument %s", argv [optind]);
        error = message;
    }
    if (!error && options->address_count == 0)
        error = "give the target with -a HOST:PORT";
    if (!error && options->duration > 0 && options->count > 0)
        error = "give --duration or --count, not both";
    if (!error && options->duration == 0 && options->count == 0)
        options->count = 1000;
    if (!error && options->ramp > 0 && options->duration > 0 && options->ramp > options->duration)
        error = "--ramp cannot be longer than --duration";
    if (!error && streq (options->monitor, "status") && !options->nodes)
        error = "--monitor status asks nodes for get_status: it needs --nodes";
    if (!error && options->nodes && options->weights [LOAD_SUBMIT_PURCHASE] > 0)
        error = "--nodes: submit_purchase needs a gateway; use health and submit_transaction";
    if (error) {
        fprintf (stderr, "zchain-load: %s\n", error);
        fprintf (stderr, "run zchain-load --help for the options\n");
        return -1;
    }
    return 0;
}

