/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_miner - the miner pool: proof-of-work hashing threads

    The block hash is SHA-256 (preimage || decimal nonce).  The search
    itself is the library's (zc_pow): a kernel compresses sixteen lanes
    per call (AVX-512, AVX2, interleaved SHA-NI, or OpenSSL's
    SHA256_Transform lane by lane), chosen at start from what the CPU has
    unless the config forces one; zc_pow also orders the nonces so that
    each costs about one compression, and cuts that order into chunks of
    at most 10^4 nonces.

    Threads take chunks in order from a shared counter; a thread searches
    its chunk whole (the chunk's smallest winner) unless the job moves on
    or an earlier chunk has a winner.  The job's answer is the winner of
    the earliest chunk, sent once no thread still holds an earlier chunk
    (each thread publishes the chunk it holds): so the pool finds the
    first winning nonce of the order whatever the number of threads, as a
    brute force over that order would, and a thread that has not woken up
    for the job holds nothing and delays nothing.  A thread looks at
    the generation every ~1000 nonces, so a new job or a stop reaches it
    within that many hashes (well under a millisecond).

    Pipe protocol (from the validator), sent and received by zc_mine_msg
    (typed, shared by both ends):
        JOB job_id difficulty preimage  mine this job, dropping any other
        STOP                            stop mining
        STATS                           -> STATS_REPLY hashes busy: nonces
                                           tried since start, threads
                                           mining right now
        KERNEL                          -> KERNEL_REPLY name lanes: the
                                           kernel it runs
        $TERM                           ends the actor
      to the validator:
        FOUND job_id nonce hash         a nonce that meets the difficulty
    A malformed command (a bug) is logged and dropped.

    Threads tell the pool of a find over an inproc PUSH/PULL of the pool's
    own, one frame holding an s_found_t (this file is both ends).
    =========================================================================
*/

#include "zc_actors.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define S_MAX_THREADS   256         //  hashing threads, at most

//  One job, shared by the threads that mine it; the last to let go frees it
typedef struct {
    atomic_int refs;            //  holders: the pool and threads in it
    uint64_t generation;        //  the pool's generation it belongs to
    uint64_t job_id;            //  validator's id for the job
    int difficulty;             //  leading '0' hex digits wanted
    char *preimage;             //  what is hashed before the nonce
    atomic_uint_fast64_t next;  //  next chunk of the order to hand out
    atomic_uint_fast64_t found; //  earliest chunk with a winner, or UINT64_MAX
    atomic_uint_fast64_t *held; //  per thread: the chunk it holds (a lower
                                //  bound of it while claiming), or UINT64_MAX
    atomic_bool reported;       //  the answer went out
    pthread_mutex_t lock;       //  guards nonce and digest
    uint64_t nonce;             //  the winner of chunk `found`
    uint8_t digest [32];        //  its hash
} s_job_t;

//  The job every thread works on, guarded by lock
typedef struct {
    pthread_mutex_t lock;       //  guards the fields below it
    pthread_cond_t changed;     //  signalled when generation moves
    atomic_uint_fast64_t generation;   //  bumped on every JOB and STOP
    s_job_t *job;               //  current job, or NULL when stopped
    bool quit;                  //  threads must exit
    atomic_uint_fast64_t hashes;       //  nonces tried, all threads
    atomic_int busy;            //  threads inside a job right now
    char *endpoint;             //  where threads PUSH what they find
    int threads;                //  how many threads
    int kernel;                 //  ZC_POW_... kernel every thread runs
} s_shared_t;

//  One hashing thread's identity
typedef struct {
    s_shared_t *shared;         //  the pool's shared state
    int number;                 //  0 .. threads - 1
    pthread_t thread;           //  its thread
} s_worker_t;

//  A thread's find, as it goes to the pool: one frame of this struct
typedef struct {
    uint64_t job_id;            //  the validator's id for the job
    uint64_t generation;        //  the pool's generation it was found in
    uint64_t nonce;             //  the winner
    char hash [ZC_HASH_HEX + 1];    //  its hash, hex
} s_found_t;

//  A new job holding one reference (the pool's); takes the preimage.
static s_job_t *
s_job_new (char *preimage, int difficulty, uint64_t job_id, uint64_t generation, int threads)
{
    s_job_t *job = (s_job_t *) zmalloc (sizeof (s_job_t));
    atomic_init (&job->refs, 1);
    job->generation = generation;
    job->job_id = job_id;
    job->difficulty = difficulty;
    job->preimage = preimage;
    atomic_init (&job->next, 0);
    atomic_init (&job->found, UINT64_MAX);
    job->held = (atomic_uint_fast64_t *) zmalloc ((size_t) threads * sizeof (atomic_uint_fast64_t));
    for (int i = 0; i < threads; i++)
        atomic_init (&job->held [i], UINT64_MAX);
    atomic_init (&job->reported, false);
    pthread_mutex_init (&job->lock, NULL);
    return job;
}

//  Drops one reference; the last frees the job.
static void
s_job_release (s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (job && atomic_fetch_sub (&job->refs, 1) == 1) {
        pthread_mutex_destroy (&job->lock);
        free (job->held);
        free (job->preimage);
        free (job);
    }
    *job_p = NULL;
}

//  What a thread's search asks between stretches of nonces
typedef struct {
    s_shared_t *shared;
    s_job_t *job;
    uint64_t chunk;             //  the chunk being searched
} s_going_t;

//  Keep going while the job is current and no earlier chunk has won.
static bool
s_going (void *arg, uint64_t next)
{
    s_going_t *going = (s_going_t *) arg;
    (void) next;
    return atomic_load (&going->shared->generation) == going->job->generation
        && atomic_load (&going->job->found) > going->chunk;
}

//  Sends the job's answer if it has one and no thread holds an earlier
//  chunk (which could hold an earlier winner); once per job.
static void
s_report (s_shared_t *shared, s_job_t *job, zsock_t *found)
{
    uint64_t winner = atomic_load (&job->found);
    if (winner == UINT64_MAX)
        return;
    for (int i = 0; i < shared->threads; i++)
        if (atomic_load (&job->held [i]) < winner)
            return;                     //  that thread reports when done
    bool expected = false;
    if (!atomic_compare_exchange_strong (&job->reported, &expected, true))
        return;
    s_found_t answer = { .job_id = job->job_id, .generation = job->generation };
    pthread_mutex_lock (&job->lock);
    zc_hex_encode (job->digest, sizeof job->digest, answer.hash);
    answer.nonce = job->nonce;
    pthread_mutex_unlock (&job->lock);
    zframe_t *frame = zframe_new (&answer, sizeof answer);
    if (zframe_send (&frame, found, 0) != 0)
        zframe_destroy (&frame);        //  the pool is gone (shutdown)
}

//  Mines one job: chunks in order until the job is done or moves on.
static void
s_mine (s_worker_t *worker, zsock_t *found, s_job_t *job)
{
    s_shared_t *shared = worker->shared;
    atomic_uint_fast64_t *held = &job->held [worker->number];
    zc_pow_t *pow = zc_pow_new (shared->kernel, job->preimage, strlen (job->preimage),
                                job->difficulty);
    uint64_t chunks = zc_pow_chunks (pow);
    s_going_t going = { shared, job, 0 };
    while (atomic_load (&shared->generation) == job->generation) {
        //  Publish a lower bound before claiming: a thread that sees no
        //  holder below its winner may report it (see s_report)
        atomic_store (held, atomic_load (&job->next));
        uint64_t chunk = atomic_fetch_add (&job->next, 1);
        atomic_store (held, chunk);
        if (chunk >= chunks || chunk >= atomic_load (&job->found))
            break;                      //  done: nothing earlier is left
        uint64_t from, to, nonce = 0, tried = 0;
        uint8_t digest [32];
        zc_pow_chunk (pow, chunk, &from, &to);
        going.chunk = chunk;
        int rc = zc_pow_search (pow, from, to, &nonce, digest, &tried, s_going, &going);
        atomic_fetch_add (&shared->hashes, tried);
        if (rc == 1) {
            pthread_mutex_lock (&job->lock);
            if (chunk < atomic_load (&job->found)) {
                job->nonce = nonce;
                memcpy (job->digest, digest, sizeof job->digest);
                atomic_store (&job->found, chunk);
            }
            pthread_mutex_unlock (&job->lock);
        }
        atomic_store (held, UINT64_MAX);
        s_report (shared, job, found);
    }
    atomic_store (held, UINT64_MAX);
    zc_pow_destroy (&pow);
    if (atomic_load (&shared->generation) == job->generation)
        s_report (shared, job, found);
}

//  A hashing thread: waits for a job, mines it, repeats.
static void *
s_worker_main (void *args)
{
    s_worker_t *worker = (s_worker_t *) args;
    s_shared_t *shared = worker->shared;
    //  Hashing takes whatever CPU is left, never what the node needs to
    //  answer, validate and write: idle priority where the system has it
    struct sched_param param = { .sched_priority = 0 };
    int rc = -1;
#ifdef SCHED_IDLE
    rc = pthread_setschedparam (pthread_self (), SCHED_IDLE, &param);
#endif
    if (rc != 0 && nice (19) == -1)
        zc_debug ("miner: no lower priority to be had");
    (void) param;
    zsock_t *found = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (found, 0);
    zsock_connect (found, "%s", shared->endpoint);
    uint64_t seen = 0;
    while (true) {
        pthread_mutex_lock (&shared->lock);
        while (!shared->quit && atomic_load (&shared->generation) == seen)
            pthread_cond_wait (&shared->changed, &shared->lock);
        if (shared->quit) {
            pthread_mutex_unlock (&shared->lock);
            break;
        }
        seen = atomic_load (&shared->generation);
        s_job_t *job = shared->job;
        if (job)
            atomic_fetch_add (&job->refs, 1);
        pthread_mutex_unlock (&shared->lock);
        if (job) {
            atomic_fetch_add (&shared->busy, 1);
            s_mine (worker, found, job);
            atomic_fetch_sub (&shared->busy, 1);
            s_job_release (&job);
        }
    }
    zsock_destroy (&found);
    return NULL;
}

//  Replaces the job (NULL preimage: stop) and wakes every thread.
static void
s_set_job (s_shared_t *shared, char *preimage, int difficulty, uint64_t job_id)
{
    pthread_mutex_lock (&shared->lock);
    s_job_release (&shared->job);
    uint64_t generation = atomic_load (&shared->generation) + 1;
    if (preimage)
        shared->job = s_job_new (preimage, difficulty, job_id, generation, shared->threads);
    atomic_store (&shared->generation, generation);
    pthread_cond_broadcast (&shared->changed);
    pthread_mutex_unlock (&shared->lock);
}

void
zc_miner_actor (zsock_t *pipe, void *args)
{
    zc_node_config_t *config = (zc_node_config_t *) args;
    int threads = config? config->miner_threads: 0;
    if (threads <= 0)
        threads = (int) sysconf (_SC_NPROCESSORS_ONLN);
    if (threads <= 0)
        threads = 1;
    if (threads > S_MAX_THREADS)
        threads = S_MAX_THREADS;

    //  The config reader refuses a forced kernel this CPU lacks; here
    //  one that cannot run (a caller that skipped the check) falls back
    int kernel = config && config->miner_kernel >= 0? config->miner_kernel: zc_pow_kernel_best ();
    const char *unusable = zc_pow_kernel_unusable (kernel);
    if (unusable) {
        zc_log_error ("%s: miner kernel %s: %s; mining with %s",
                    config && config->name? config->name: "miner", zc_pow_kernel_name (kernel),
                    unusable, zc_pow_kernel_name (zc_pow_kernel_best ()));
        kernel = zc_pow_kernel_best ();
    }
    if (config && config->name)
        zc_log_info ("%s: miner pool: %d thread%s, kernel %s (%d lanes%s)", config->name, threads,
                   threads == 1? "": "s", zc_pow_kernel_name (kernel),
                   zc_pow_kernel_lanes (kernel),
                   config->miner_kernel >= 0? ", set by miner_kernel": ", the fastest this CPU has");
    s_shared_t shared = { .threads = threads, .kernel = kernel };
    pthread_mutex_init (&shared.lock, NULL);
    pthread_cond_init (&shared.changed, NULL);
    atomic_init (&shared.generation, 0);
    atomic_init (&shared.hashes, 0);
    atomic_init (&shared.busy, 0);
    //  A name no other pool ever had: a pool started where the last one
    //  ended would find its stack address, and an inproc name that ZeroMQ
    //  may not have released yet (the bind failed, every FOUND was lost)
    static atomic_uint pools;
    shared.endpoint = zsys_sprintf ("inproc://zc-miner-%u", atomic_fetch_add (&pools, 1));
    zsock_t *found = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (found, 0);
    if (zsock_bind (found, "%s", shared.endpoint) != 0)
        zc_log_error ("miner: cannot bind %s: %s", shared.endpoint, zmq_strerror (zmq_errno ()));

    s_worker_t *workers = (s_worker_t *) zmalloc ((size_t) threads * sizeof (s_worker_t));
    for (int i = 0; i < threads; i++) {
        workers [i].shared = &shared;
        workers [i].number = i;
        pthread_create (&workers [i].thread, NULL, s_worker_main, &workers [i]);
    }
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, found, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (!which)
            break;                      //  interrupted
        if (which == pipe) {
            bool malformed = false;
            zc_mine_msg_t *msg = zc_mine_msg_recv (pipe, &malformed);
            zc_mine_msg_id_t id = msg? zc_mine_msg_id (msg): ZC_MINE_TERM;
            if (malformed) {
                zc_log_error ("%s: bug: malformed miner pool command",
                            config && config->name? config->name: "miner");
                continue;
            }
            if (id == ZC_MINE_JOB)
                s_set_job (&shared, zc_mine_msg_take_preimage (msg),
                           zc_mine_msg_difficulty (msg), zc_mine_msg_job_id (msg));
            else
            if (id == ZC_MINE_STOP)
                s_set_job (&shared, NULL, 0, 0);
            else
            if (id == ZC_MINE_KERNEL)
                zc_mine_msg_send_kernel_reply (pipe, zc_pow_kernel_name (kernel),
                                               zc_pow_kernel_lanes (kernel));
            else
            if (id == ZC_MINE_STATS)
                zc_mine_msg_send_stats_reply (pipe, (uint64_t) atomic_load (&shared.hashes),
                                              (int) atomic_load (&shared.busy));
            else
            if (id != ZC_MINE_TERM)
                zc_log_error ("%s: bug: unexpected miner pool command %s",
                            config && config->name? config->name: "miner",
                            zc_mine_msg_name (id));
            zc_mine_msg_destroy (&msg);
            if (id == ZC_MINE_TERM)
                break;                  //  $TERM, or interrupted
        }
        else
        if (which == found) {
            //  Only a find for the current job counts; stop the others
            zframe_t *frame = zframe_recv (found);
            s_found_t answer;
            if (frame && zframe_size (frame) == sizeof answer) {
                memcpy (&answer, zframe_data (frame), sizeof answer);
                answer.hash [ZC_HASH_HEX] = 0;
                if (answer.generation == atomic_load (&shared.generation)) {
                    s_set_job (&shared, NULL, 0, 0);
                    zc_mine_msg_send_found (pipe, answer.job_id, answer.nonce, answer.hash);
                }
            }
            zframe_destroy (&frame);
        }
    }
    zpoller_destroy (&poller);
    //  Threads in a job look only at the generation: end the job first
    s_set_job (&shared, NULL, 0, 0);
    pthread_mutex_lock (&shared.lock);
    shared.quit = true;
    pthread_cond_broadcast (&shared.changed);
    pthread_mutex_unlock (&shared.lock);
    for (int i = 0; i < threads; i++)
        pthread_join (workers [i].thread, NULL);
    free (workers);
    zsock_destroy (&found);
    s_job_release (&shared.job);
    free (shared.endpoint);
    pthread_mutex_destroy (&shared.lock);
    pthread_cond_destroy (&shared.changed);
}
