/*  =========================================================================
    bench_path.c - the references the transaction path is measured against
    (issue 11), measured by the bench itself in the same run

        bench_path verify [--seconds S]     Ed25519 verifies per second on
                                            one core, through zc_verify_raw
                                            (what a node does per transaction),
                                            as `openssl speed ed25519` does
        bench_path rtt [--count N]          loopback TCP round trip: one
                                            byte there and back on a
                                            connected pair, p50 and p99 in ms

    Prints one JSON object on stdout: {"verify_per_sec": ...} or
    {"rtt_p50_ms": ..., "rtt_p99_ms": ...}.
    =========================================================================
*/

#include "zchain.h"
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

//  Verifies one signed transaction-sized message for seconds; prints the rate.
static int
s_verify (double seconds)
{
    zc_keys_t *keys = zc_keys_new ();
    const char *message = "{\"data\":{\"amount\":42,\"item\":\"bench\",\"to\":\"someone\"},"
                          "\"sender\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}";
    char *signature = zc_keys_sign (keys, message, strlen (message));
    if (!signature || !zc_verify_raw (zc_keys_public_b64 (keys), message, strlen (message),
                                      signature)) {
        fprintf (stderr, "bench_path: a signature does not verify\n");
        return 1;
    }
    uint64_t count = 0;
    double start = s_now (), elapsed = 0;
    while (elapsed < seconds) {
        for (int i = 0; i < 64; i++)
            if (zc_verify_raw (zc_keys_public_b64 (keys), message, strlen (message), signature))
                count++;
        elapsed = s_now () - start;
    }
    printf ("{\"verify_per_sec\":%.1f}\n", (double) count / elapsed);
    free (signature);
    zc_keys_destroy (&keys);
    return 0;
}

typedef struct {
    int fd;
    int count;
} s_echo_t;

//  Echoes every byte back until the connection ends.
static void *
s_echo_main (void *args)
{
    s_echo_t *echo = (s_echo_t *) args;
    char byte;
    for (int i = 0; i < echo->count; i++)
        if (recv (echo->fd, &byte, 1, 0) != 1 || send (echo->fd, &byte, 1, 0) != 1)
            break;
    return NULL;
}

//  Times count one-byte round trips over loopback TCP; prints p50 and p99.
static int
s_rtt (int count)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listener < 0 || bind (listener, (struct sockaddr *) &address, sizeof address) != 0
    ||  listen (listener, 1) != 0
    ||  getsockname (listener, (struct sockaddr *) &address, &size) != 0) {
        perror ("bench_path: listen");
        return 1;
    }
    int client = socket (AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect (client, (struct sockaddr *) &address, sizeof address) != 0) {
        perror ("bench_path: connect");
        return 1;
    }
    int server = accept (listener, NULL, NULL);
    int on = 1;
    setsockopt (client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt (server, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    s_echo_t echo = { server, count + 100 };
    pthread_t thread;
    pthread_create (&thread, NULL, s_echo_main, &echo);
    double *times = (double *) malloc ((size_t) count * sizeof (double));
    char byte = 'x';
    int done = 0;
    for (int i = 0; i < count + 100; i++) {
        double start = s_now ();
        if (send (client, &byte, 1, 0) != 1 || recv (client, &byte, 1, 0) != 1)
            break;
        if (i >= 100)                   //  the first ones warm up
            times [done++] = (s_now () - start) * 1000.0;
    }
    close (client);
    pthread_join (thread, NULL);
    close (server);
    close (listener);
    if (done == 0) {
        fprintf (stderr, "bench_path: no round trip completed\n");
        free (times);
        return 1;
    }
    qsort (times, (size_t) done, sizeof (double), s_compare);
    printf ("{\"rtt_p50_ms\":%.4f,\"rtt_p99_ms\":%.4f}\n", times [done / 2],
            times [(size_t) (done * 0.99)]);
    free (times);
    return 0;
}

int
main (int argc, char *argv [])
{
    double seconds = 2;
    int count = 20000;
    const char *command = argc > 1? argv [1]: "";
    for (int arg = 2; arg + 1 < argc; arg += 2) {
        if (streq (argv [arg], "--seconds"))
            seconds = atof (argv [arg + 1]);
        else
        if (streq (argv [arg], "--count"))
            count = atoi (argv [arg + 1]);
    }
    if (streq (command, "verify") && seconds > 0)
        return s_verify (seconds);
    if (streq (command, "rtt") && count > 0)
        return s_rtt (count);
    fprintf (stderr, "usage: bench_path verify [--seconds S] | rtt [--count N]\n");
    return 2;
}
