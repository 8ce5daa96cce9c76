/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    load_monitor.c - the resources of the system under test, each bucket

    Like Caliper's resource monitors, a run reports what it cost the
    system it loaded, sampled once per time bucket:

      - when every target is on this host (a loopback or local address),
        the CPU % (user + system, of one core) and the RSS of each zchaind
        process found in /proc, and of this zchain-load for comparison;
      - otherwise, with --nodes, each node's get_status figures (height
        and mempool), asked by a thread of its own so that the event loop
        never waits on them;
      - otherwise nothing, and a note says why.
    --monitor proc, status or none chooses instead of this default (auto).

    Sampling is cheap (a few /proc reads per process per bucket) and runs
    in the event loop between events.
    =========================================================================
*/

#include "zc_load.h"
#include <dirent.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <netinet/in.h>

#define S_MAX_PROCS     32          //  processes followed
#define S_STATUS_MS     1000        //  get_status reply deadline

//  A process followed through /proc
typedef struct {
    pid_t pid;                  //  its id
    char name [48];             //  "zchaind[4242]"
    uint64_t ticks;             //  utime + stime at the last sample
    int64_t at;                 //  clock usecs of the last sample, -1 none
} s_proc_t;

//  A node asked for get_status by the poller thread
typedef struct {
    const char *address;        //  "host:port" (borrowed from the options)
    double height;              //  last answer, -1 if none yet
    double mempool;             //  last answer
    bool fresh;                 //  answered since the last sample
} s_node_t;

struct _load_monitor_t {
    load_t *load;               //  the run (borrowed)
    s_proc_t procs [S_MAX_PROCS];   //  /proc mode: the processes
    size_t proc_count;          //  how many
    long ticks_per_second;      //  sysconf (_SC_CLK_TCK)
    long page_size;             //  sysconf (_SC_PAGESIZE)
    s_node_t *nodes;            //  get_status mode: one per target
    size_t node_count;          //  how many; 0 in /proc mode
    pthread_t poller;           //  asks the nodes
    bool polling;               //  the poller runs
    pthread_mutex_t mutex;      //  guards nodes and stop
    pthread_cond_t wake;        //  ends the poller's wait early
    bool stop;                  //  the poller must end
    int64_t interval_ms;        //  between rounds of get_status
};

//  True if addr is a loopback address or one of this host's own.
static bool
s_local (const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) addr;
        if ((ntohl (in->sin_addr.s_addr) >> 24) == 127)
            return true;
    }
    else
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
        if (IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr))
            return true;
    }
    struct ifaddrs *list = NULL;
    if (getifaddrs (&list) != 0)
        return false;
    bool found = false;
    for (struct ifaddrs *item = list; item && !found; item = item->ifa_next) {
        if (!item->ifa_addr || item->ifa_addr->sa_family != addr->ss_family)
            continue;
        if (addr->ss_family == AF_INET)
            found = ((struct sockaddr_in *) item->ifa_addr)->sin_addr.s_addr
                 == ((const struct sockaddr_in *) addr)->sin_addr.s_addr;
        else
        if (addr->ss_family == AF_INET6)
            found = memcmp (&((struct sockaddr_in6 *) item->ifa_addr)->sin6_addr,
                            &((const struct sockaddr_in6 *) addr)->sin6_addr,
                            sizeof (struct in6_addr)) == 0;
    }
    freeifaddrs (list);
    return found;
}

//  Reads a small /proc file into buffer; false if it cannot.
static bool
s_read_proc (pid_t pid, const char *file, char *buffer, size_t size)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
    FILE *stream = fopen (path, "re");
    if (!stream)
        return false;
    size_t length = fread (buffer, 1, size - 1, stream);
    fclose (stream);
    buffer [length] = 0;
    return length > 0;
}

//  CPU ticks (user + system) and resident bytes of a process; false if
//  it is gone.
static bool
s_proc_usage (load_monitor_t *self, pid_t pid, uint64_t *ticks_p, double *rss_p)
{
    char stat [1024], statm [256];
    if (!s_read_proc (pid, "stat", stat, sizeof stat)
    ||  !s_read_proc (pid, "statm", statm, sizeof statm))
        return false;
    //  The name in parentheses may hold spaces: fields start after the last ')'
    const char *fields = strrchr (stat, ')');
    unsigned long long utime = 0, stime = 0, size = 0, resident = 0;
    if (!fields || sscanf (fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                           &utime, &stime) != 2
    ||  sscanf (statm, "%llu %llu", &size, &resident) != 2)
        return false;
    *ticks_p = utime + stime;
    *rss_p = (double) resident * (double) self->page_size;
    return true;
}

//  Finds the zchaind processes of this host (and adds this process).
static void
s_find_procs (load_monitor_t *self)
{
    DIR *dir = opendir ("/proc");
    struct dirent *entry;
    while (dir && (entry = readdir (dir)) && self->proc_count < S_MAX_PROCS - 1) {
        char *end = NULL;
        long pid = strtol (entry->d_name, &end, 10);
        char comm [64];
        if (*end || pid <= 0 || !s_read_proc ((pid_t) pid, "comm", comm, sizeof comm))
            continue;
        comm [strcspn (comm, "\n")] = 0;
        if (!streq (comm, "zchaind") && !streq (comm, "lt-zchaind"))
            continue;
        s_proc_t *proc = &self->procs [self->proc_count++];
        proc->pid = (pid_t) pid;
        proc->at = -1;
        snprintf (proc->name, sizeof proc->name, "zchaind[%ld]", pid);
    }
    if (dir)
        closedir (dir);
    if (self->proc_count > 0) {
        s_proc_t *proc = &self->procs [self->proc_count++];
        proc->pid = getpid ();
        proc->at = -1;
        snprintf (proc->name, sizeof proc->name, "zchain-load[%d] (this client)", (int) getpid ());
    }
}

//  The poller thread: get_status of every node, once per interval.
static void *
s_poller (void *args)
{
    load_monitor_t *self = (load_monitor_t *) args;
    pthread_mutex_lock (&self->mutex);
    while (!self->stop) {
        for (size_t i = 0; i < self->node_count && !self->stop; i++) {
            const char *address = self->nodes [i].address;
            pthread_mutex_unlock (&self->mutex);
            zc_client_t *client = zc_client_new (address, ZC_FRAMING_LENGTH, NULL);
            cJSON *request = cJSON_CreateObject ();
            cJSON_AddStringToObject (request, "type", "get_status");
            cJSON *reply = client? zc_client_request (client, request, S_STATUS_MS): NULL;
            cJSON_Delete (request);
            zc_client_destroy (&client);
            pthread_mutex_lock (&self->mutex);
            const char *type = load_string (reply, "type");
            if (type && streq (type, "status")) {
                self->nodes [i].height = load_number (reply, "height");
                self->nodes [i].mempool = load_number (reply, "mempool");
                self->nodes [i].fresh = true;
            }
            cJSON_Delete (reply);
        }
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        int64_t nsecs = until.tv_nsec + self->interval_ms * 1000000;
        until.tv_sec += nsecs / 1000000000;
        until.tv_nsec = nsecs % 1000000000;
        if (!self->stop)
            pthread_cond_timedwait (&self->wake, &self->mutex, &until);
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}

load_monitor_t *
load_monitor_new (load_t *self_load)
{
    load_options_t *options = self_load->options;
    load_monitor_t *self = (load_monitor_t *) zmalloc (sizeof (load_monitor_t));
    self->load = self_load;
    self->ticks_per_second = sysconf (_SC_CLK_TCK);
    self->page_size = sysconf (_SC_PAGESIZE);
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->wake, NULL);
    self->interval_ms = (int64_t) (options->bucket * 1000);
    bool local = self_load->target_count > 0;
    for (size_t i = 0; i < self_load->target_count; i++)
        local = local && s_local (&self_load->targets [i].addr);
    const char *mode = options->monitor? options->monitor: "auto";
    zc_report_t *report = self_load->report;
    if (streq (mode, "none"))
        return self;
    if (streq (mode, "proc") || (streq (mode, "auto") && local && !options->redis))
        s_find_procs (self);
    if (self->proc_count > 0)
        zc_report_set_resource_source (report, "CPU % (of one core) and RSS of each zchaind "
                                       "process on this host, read from /proc each bucket");
    else
    if (options->nodes && !streq (mode, "proc")) {
        self->node_count = self_load->target_count;
        self->nodes = (s_node_t *) zmalloc (self->node_count * sizeof (s_node_t));
        for (size_t i = 0; i < self->node_count; i++) {
            self->nodes [i].address = self_load->targets [i].address;
            self->nodes [i].height = -1;
        }
        if (pthread_create (&self->poller, NULL, s_poller, self) == 0) {
            self->polling = true;
            zc_report_set_resource_source (report, streq (mode, "status")
                ? "the nodes' get_status figures, asked each bucket (--monitor status)"
                : local? "no zchaind process found on this host: the nodes' get_status figures"
                       : "the target is not on this host: the nodes' get_status figures");
        }
    }
    else
        zc_report_note (report, "no resource figures: %s", options->redis
            ? "the target is a redis-server"
            : local || streq (mode, "proc")? "no zchaind process was found on this host"
                   : "the target is not on this host; run zchain-load there, or give "
                     "--nodes to sample the nodes' get_status");
    return self;
}

void
load_monitor_sample (load_monitor_t *self)
{
    load_t *load = self->load;
    int64_t now = load->now;
    for (size_t i = 0; i < self->proc_count; i++) {
        s_proc_t *proc = &self->procs [i];
        uint64_t ticks = 0;
        double rss = 0;
        if (!s_proc_usage (self, proc->pid, &ticks, &rss))
            continue;               //  gone: its series just ends
        if (proc->at >= 0 && now > proc->at) {
            double cpu = (double) (ticks - proc->ticks) / (double) self->ticks_per_second
                       / ((double) (now - proc->at) / 1e6) * 100;
            zc_report_resource (load->report, proc->name, "CPU", "%", now, cpu);
        }
        zc_report_resource (load->report, proc->name, "RSS", "MB", now, rss / 1e6);
        proc->ticks = ticks;
        proc->at = now;
    }
    if (self->polling) {
        pthread_mutex_lock (&self->mutex);
        for (size_t i = 0; i < self->node_count; i++) {
            s_node_t *node = &self->nodes [i];
            if (!node->fresh)
                continue;
            char name [128];
            snprintf (name, sizeof name, "node %s", node->address);
            zc_report_resource (load->report, name, "height", "blocks", now, node->height);
            zc_report_resource (load->report, name, "mempool", "transactions", now,
                                node->mempool);
            node->fresh = false;
        }
        pthread_mutex_unlock (&self->mutex);
    }
}

void
load_monitor_destroy (load_monitor_t **self_p)
{
    if (*self_p) {
        load_monitor_t *self = *self_p;
        if (self->polling) {
            pthread_mutex_lock (&self->mutex);
            self->stop = true;
            pthread_cond_signal (&self->wake);
            pthread_mutex_unlock (&self->mutex);
            pthread_join (self->poller, NULL);
        }
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->mutex);
        free (self->nodes);
        free (self);
        *self_p = NULL;
    }
}
