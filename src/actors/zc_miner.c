/*  =========================================================================
    zc_miner - the miner pool: proof-of-work hashing threads

    The block hash is SHA-256 (preimage || decimal nonce).  The preimage is
    fixed for a job, so its whole 64-byte blocks are compressed once (the
    midstate) and each nonce costs only the final block or two, laid out by
    hand (tail, digits, padding, length) and fed to the compression
    function directly; the digits are stepped in place.

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

#include "zc_actors.h"
#include <openssl/sha.h>

//  OpenSSL 3 deprecates the low-level SHA256_* calls, but only they give
//  one compression from a kept midstate (SHA256_Transform): the warning
//  is silenced here, in the files that mine, and nowhere else.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pthread.h>
#include <sched.h>
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

//  What one thread hashes for each nonce: the last block or two of the
//  message, laid out by hand (preimage tail, nonce digits, the 0x80 pad
//  byte, zeros, the message length in bits), so a nonce costs only the
//  compressions themselves.  Digits are stepped in place; the layout is
//  redone only when the nonce gains a digit.
typedef struct {
    SHA_LONG midstate [8];      //  state after the preimage's whole blocks
    size_t whole;               //  bytes those blocks hold
    unsigned char block [2 * SHA256_CBLOCK];    //  the final block(s)
    size_t tail;                //  preimage bytes at the start of block
    size_t digits;              //  nonce digits after them
    size_t blocks;              //  1 or 2 final blocks
    uint64_t nonce;             //  the nonce the digits spell
} s_work_t;

//  Lays out the final block(s) for work->nonce.
static void
s_work_layout (s_work_t *work)
{
    char digits [24];
    size_t count = 0;
    uint64_t n = work->nonce;
    do {
        digits [count++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n);
    unsigned char *cursor = work->block + work->tail;
    for (size_t i = 0; i < count; i++)
        *cursor++ = (unsigned char) digits [count - 1 - i];
    work->digits = count;
    size_t used = work->tail + count;
    work->blocks = used + 9 <= SHA256_CBLOCK? 1: 2;
    size_t end = work->blocks * SHA256_CBLOCK;
    work->block [used] = 0x80;
    memset (work->block + used + 1, 0, end - used - 1);
    uint64_t bits = (uint64_t) (work->whole + used) * 8;
    for (int i = 0; i < 8; i++)
        work->block [end - 1 - i] = (unsigned char) (bits >> (8 * i));
}

//  Moves to nonce + step, stepping the decimal digits in place.
static void
s_work_step (s_work_t *work, uint64_t step)
{
    work->nonce += step;
    unsigned char *digit = work->block + work->tail + work->digits - 1;
    unsigned carry = (unsigned) step;
    while (carry && digit >= work->block + work->tail) {
        unsigned value = (unsigned) (*digit - '0') + carry;
        *digit-- = (unsigned char) ('0' + value % 10);
        carry = value / 10;
    }
    if (carry)
        s_work_layout (work);           //  one digit more
}

//  True if the state's hex form starts with difficulty zeros.
static bool
s_meets (const SHA_LONG *h, int difficulty)
{
    int word = 0;
    for (; difficulty >= 8; difficulty -= 8)
        if (h [word++])
            return false;
    return difficulty == 0 || (h [word] >> (32 - 4 * difficulty)) == 0;
}

//  Mines one job until a nonce is found or the generation moves on.
static void
s_mine (s_worker_t *worker, zsock_t *found, const char *preimage, int difficulty,
        uint64_t job_id, uint64_t generation)
{
    s_shared_t *shared = worker->shared;
    size_t length = strlen (preimage);
    s_work_t work;
    work.whole = length - length % SHA256_CBLOCK;
    SHA256_CTX context;
    SHA256_Init (&context);
    SHA256_Update (&context, preimage, work.whole);
    memcpy (work.midstate, context.h, sizeof work.midstate);
    work.tail = length - work.whole;
    memcpy (work.block, preimage + work.whole, work.tail);
    work.nonce = (uint64_t) worker->number;
    s_work_layout (&work);
    uint64_t stride = (uint64_t) shared->threads;
    if (difficulty > 64)
        difficulty = 64;

    while (true) {
        for (int i = 0; i < S_CHECK_EVERY; i++, s_work_step (&work, stride)) {
            memcpy (context.h, work.midstate, sizeof work.midstate);
            SHA256_Transform (&context, work.block);
            if (work.blocks == 2)
                SHA256_Transform (&context, work.block + SHA256_CBLOCK);
            if (s_meets (context.h, difficulty)) {
                unsigned char digest [SHA256_DIGEST_LENGTH];
                for (int word = 0; word < 8; word++)
                    for (int byte = 0; byte < 4; byte++)
                        digest [word * 4 + byte] = (unsigned char) (context.h [word] >> (24 - 8 * byte));
                char hash [ZC_HASH_HEX + 1];
                zc_hex_encode (digest, sizeof digest, hash);
                atomic_fetch_add (&shared->hashes, (uint64_t) i + 1);
                zsock_send (found, "s888s", "FOUND", job_id, generation, work.nonce, hash);
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
    //  Hashing takes whatever CPU is left, never what the node needs to
    //  answer, validate and write: idle priority where the system has it
    struct sched_param param = { .sched_priority = 0 };
    int rc = -1;
#ifdef SCHED_IDLE
    rc = pthread_setschedparam (pthread_self (), SCHED_IDLE, &param);
#endif
    if (rc != 0 && nice (19) == -1)
        zsys_debug ("miner: no lower priority to be had");
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
    free (shared.preimage);
    free (shared.endpoint);
    pthread_mutex_destroy (&shared.lock);
    pthread_cond_destroy (&shared.changed);
}
