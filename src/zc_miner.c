/*  =========================================================================
    zc_miner - the miner pool: proof-of-work hashing threads

    The block hash is SHA-256 (preimage || decimal nonce).  The preimage is
    fixed for a job, so its whole 64-byte blocks are compressed once (the
    midstate) and each nonce costs only the tail: a copy of the midstate,
    the last partial block with the nonce digits, and the padding.

    Threads split the nonce space by stride (thread t tries t, t + n,
    t + 2n, ...).  Each checks the shared job generation every
    S_CHECK_EVERY nonces, so a new job or a stop reaches every thread
    within that many hashes (well under a millisecond).

    Pipe protocol (from the validator):
        JOB job_id difficulty preimage  mine this job, dropping any other
        STOP                            stop mining
        STATS                           -> hashes busy: nonces tried since
                                           start, threads mining right now
        $TERM                           ends the actor
      to the validator:
        FOUND job_id nonce hash         a nonce that meets the difficulty
    =========================================================================
*/

#include "zc_classes.h"
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>

#define S_CHECK_EVERY   1024        //  nonces between looks at the generation
#define S_MAX_THREADS   256         //  hashing threads, at most

//  The job every thread works on, guarded by lock
typedef struct {
    pthread_mutex_t lock;       //  guards the fields below it
    pthread_cond_t changed;     //  signalled when generation moves
    atomic_uint_fast64_t generation;   //  bumped on every JOB and STOP
    char *preimage;             //  current preimage, or NULL when stopped
    int difficulty;             //  leading '0' hex digits wanted
    uint64_t job_id;            //  validator's id for the job
    bool quit;                  //  threads must exit
    atomic_uint_fast64_t hashes;       //  nonces tried, all threads
    atomic_int busy;            //  threads inside a job right now
    char *endpoint;             //  where threads PUSH what they find
    int threads;                //  how many threads
} s_shared_t;

//  One hashing thread's identity
typedef struct {
    s_shared_t *shared;         //  the pool's shared state
    int number;                 //  0 .. threads - 1
    pthread_t thread;           //  its thread
} s_worker_t;

//  Writes n in decimal; returns its length.
static size_t
s_decimal (uint64_t n, char *out)
{
    char digits [24];
    size_t length = 0;
    do {
        digits [length++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n);
    for (size_t i = 0; i < length; i++)
        out [i] = digits [length - 1 - i];
    return length;
}

//  True if the digest's hex form starts with difficulty zeros.
static bool
s_meets (const unsigned char *digest, int difficulty)
{
    int i = 0;
    for (; i + 1 < difficulty; i += 2)
        if (digest [i / 2])
            return false;
    return i == difficulty || (digest [i / 2] >> 4) == 0;
}

//  Mines one job until a nonce is found or the generation moves on.
static void
s_mine (s_worker_t *worker, zsock_t *found, const char *preimage, int difficulty,
        uint64_t job_id, uint64_t generation)
{
    s_shared_t *shared = worker->shared;
    size_t length = strlen (preimage);
    size_t whole = length - length % SHA256_CBLOCK;
    SHA256_CTX midstate;
    SHA256_Init (&midstate);
    SHA256_Update (&midstate, preimage, whole);
    //  The tail of the preimage, then room for the nonce digits
    char tail [SHA256_CBLOCK + 32];
    size_t tail_length = length - whole;
    memcpy (tail, preimage + whole, tail_length);

    uint64_t nonce = (uint64_t) worker->number;
    uint64_t stride = (uint64_t) shared->threads;
    unsigned char digest [SHA256_DIGEST_LENGTH];
    while (true) {
        for (int i = 0; i < S_CHECK_EVERY; i++, nonce += stride) {
            size_t size = tail_length + s_decimal (nonce, tail + tail_length);
            SHA256_CTX context = midstate;
            SHA256_Update (&context, tail, size);
            SHA256_Final (digest, &context);
            if (s_meets (digest, difficulty)) {
                char hash [ZC_HASH_HEX + 1];
                zc_hex_encode (digest, sizeof digest, hash);
                atomic_fetch_add (&shared->hashes, (uint64_t) i + 1);
                zsock_send (found, "s888s", "FOUND", job_id, generation, nonce, hash);
                return;
            }
        }
        atomic_fetch_add (&shared->hashes, S_CHECK_EVERY);
        if (atomic_load (&shared->generation) != generation)
            return;
    }
}

//  A hashing thread: waits for a job, mines it, repeats.
static void *
s_worker_main (void *args)
{
    s_worker_t *worker = (s_worker_t *) args;
    s_shared_t *shared = worker->shared;
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
        char *preimage = shared->preimage? strdup (shared->preimage): NULL;
        int difficulty = shared->difficulty;
        uint64_t job_id = shared->job_id;
        pthread_mutex_unlock (&shared->lock);
        if (preimage) {
            atomic_fetch_add (&shared->busy, 1);
            s_mine (worker, found, preimage, difficulty, job_id, seen);
            atomic_fetch_sub (&shared->busy, 1);
        }
        free (preimage);
    }
    zsock_destroy (&found);
    return NULL;
}

//  Replaces the job (NULL preimage: stop) and wakes every thread.
static void
s_set_job (s_shared_t *shared, char *preimage, int difficulty, uint64_t job_id)
{
    pthread_mutex_lock (&shared->lock);
    free (shared->preimage);
    shared->preimage = preimage;
    shared->difficulty = difficulty;
    shared->job_id = job_id;
    atomic_fetch_add (&shared->generation, 1);
    pthread_cond_broadcast (&shared->changed);
    pthread_mutex_unlock (&shared->lock);
}

void
zc_miner_actor (zsock_t *pipe, void *args)
{
    int threads = args? *(int *) args: 0;
    if (threads <= 0)
        threads = (int) sysconf (_SC_NPROCESSORS_ONLN);
    if (threads <= 0)
        threads = 1;
    if (threads > S_MAX_THREADS)
        threads = S_MAX_THREADS;

    s_shared_t shared = { .threads = threads };
    pthread_mutex_init (&shared.lock, NULL);
    pthread_cond_init (&shared.changed, NULL);
    atomic_init (&shared.generation, 0);
    atomic_init (&shared.hashes, 0);
    atomic_init (&shared.busy, 0);
    shared.endpoint = zsys_sprintf ("inproc://zc-miner-%p", (void *) &shared);
    zsock_t *found = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (found, 0);
    zsock_bind (found, "%s", shared.endpoint);

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
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg? zmsg_popstr (msg): NULL;
            bool quit = !command || streq (command, "$TERM");
            if (command && streq (command, "JOB")) {
                char *job_id = zmsg_popstr (msg);
                char *difficulty = zmsg_popstr (msg);
                char *preimage = zmsg_popstr (msg);
                if (job_id && difficulty && preimage)
                    s_set_job (&shared, preimage, atoi (difficulty),
                               strtoull (job_id, NULL, 10));
                else
                    free (preimage);
                zstr_free (&job_id);
                zstr_free (&difficulty);
            }
            else
            if (command && streq (command, "STOP"))
                s_set_job (&shared, NULL, 0, 0);
            else
            if (command && streq (command, "STATS"))
                zsock_send (pipe, "8i", (uint64_t) atomic_load (&shared.hashes),
                            (int) atomic_load (&shared.busy));
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (quit)
                break;
        }
        else
        if (which == found) {
            //  Only a find for the current job counts; stop the others
            uint64_t job_id, generation, nonce;
            char *command = NULL, *hash = NULL;
            if (zsock_recv (found, "s888s", &command, &job_id, &generation, &nonce, &hash) == 0
            &&  generation == atomic_load (&shared.generation)) {
                s_set_job (&shared, NULL, 0, 0);
                zsock_send (pipe, "s88s", "FOUND", job_id, nonce, hash);
            }
            zstr_free (&command);
            zstr_free (&hash);
        }
    }
    zpoller_destroy (&poller);
    pthread_mutex_lock (&shared.lock);
    shared.quit = true;
    pthread_cond_broadcast (&shared.changed);
    pthread_mutex_unlock (&shared.lock);
    for (int i = 0; i < threads; i++)
        pthread_join (workers [i].thread, NULL);
    free (workers);
    zsock_destroy (&found);
    free (shared.preimage);
    free (shared.endpoint);
    pthread_mutex_destroy (&shared.lock);
    pthread_cond_destroy (&shared.changed);
}
