/*  =========================================================================
    test_net.c - unit tests of zc_net: addresses and sockets

    Address forms every program accepts ("host:port", "[v6]:port") and the
    ones they all refuse; formatting back; and real loopback sockets made
    by zc_net_listen, zc_net_connect and zc_net_accept, IPv4 and (where
    the machine has it) IPv6.
    =========================================================================
*/

#include "../testutil.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>

//  Splits address; asserts it is accepted with host and port.
static void
s_accepts (const char *address, const char *host, int port)
{
    char got [256];
    int got_port = -1;
    ck_assert_msg (zc_net_split (address, got, sizeof got, &got_port) == 0,
                   "'%s' should be accepted", address);
    ck_assert_str_eq (got, host);
    ck_assert_int_eq (got_port, port);
}

//  Asserts address is refused.
static void
s_refuses (const char *address)
{
    char got [256];
    int got_port = -1;
    ck_assert_msg (zc_net_split (address, got, sizeof got, &got_port) == -1,
                   "'%s' should be refused", address? address: "(null)");
}

START_TEST (test_split)
{
    s_accepts ("127.0.0.1:13246", "127.0.0.1", 13246);
    s_accepts ("localhost:1", "localhost", 1);
    s_accepts ("node-1.example.org:65535", "node-1.example.org", 65535);
    s_accepts ("[::1]:13246", "::1", 13246);
    s_accepts ("[fe80::1:2]:80", "fe80::1:2", 80);
    s_accepts ("h:00080", "h", 80);

    s_refuses (NULL);
    s_refuses ("");
    s_refuses ("127.0.0.1");
    s_refuses ("127.0.0.1:");
    s_refuses (":13246");
    s_refuses ("127.0.0.1:0");
    s_refuses ("127.0.0.1:65536");
    s_refuses ("127.0.0.1:123456");
    s_refuses ("127.0.0.1:12a");
    s_refuses ("127.0.0.1:+12");
    s_refuses ("127.0.0.1:-1");
    s_refuses ("127.0.0.1: 80");
    s_refuses ("::1:13246");            //  IPv6 must be bracketed
    s_refuses ("[::1]");
    s_refuses ("[]:80");
    s_refuses ("[::1:80");
    s_refuses ("::1]:80");
    s_refuses ("[[::1]]:80");
    s_refuses ("a]b:80");

    //  A host longer than the caller's buffer is refused, not cut
    char small [4];
    int port;
    ck_assert_int_eq (zc_net_split ("abcd:80", small, sizeof small, &port), -1);
    ck_assert_int_eq (zc_net_split ("abc:80", small, sizeof small, &port), 0);
    ck_assert_str_eq (small, "abc");
}
END_TEST

START_TEST (test_join)
{
    char *text = zc_net_join ("127.0.0.1", 13246);
    ck_assert_str_eq (text, "127.0.0.1:13246");
    free (text);
    text = zc_net_join ("::1", 13246);
    ck_assert_str_eq (text, "[::1]:13246");
    s_accepts (text, "::1", 13246);     //  what join makes, split reads
    free (text);
}
END_TEST

START_TEST (test_resolve)
{
    struct sockaddr_storage addr;
    socklen_t length;
    const char *error = NULL;
    ck_assert_int_eq (zc_net_resolve ("127.0.0.1:13246", &addr, &length, &error), 0);
    ck_assert_int_eq (addr.ss_family, AF_INET);
    char text [ZC_NET_ADDRESS_MAX];
    zc_net_address_text (&addr, text, sizeof text);
    ck_assert_str_eq (text, "127.0.0.1:13246");

    ck_assert_int_eq (zc_net_resolve ("[::1]:13246", &addr, &length, &error), 0);
    ck_assert_int_eq (addr.ss_family, AF_INET6);
    zc_net_address_text (&addr, text, sizeof text);
    ck_assert_str_eq (text, "[::1]:13246");

    error = NULL;
    ck_assert_int_eq (zc_net_resolve ("127.0.0.1", &addr, &length, &error), -1);
    ck_assert_ptr_nonnull (error);
}
END_TEST

//  Listens on host, connects to it through zc_net_connect with address,
//  accepts, and checks bytes cross both ways.  Returns false if the
//  machine cannot listen on host (no IPv6).
static bool
s_round_trip (const char *host, const char *bracketed)
{
    int listener = -1, port = 0;
    for (port = 20000 + (int) (getpid () % 20000); port < 65000; port++) {
        listener = zc_net_listen (host, port, 16);
        if (listener >= 0 || errno != EADDRINUSE)
            break;
    }
    if (listener < 0)
        return false;
    ck_assert_int_ne (fcntl (listener, F_GETFL, 0) & O_NONBLOCK, 0);
    ck_assert_int_ne (fcntl (listener, F_GETFD, 0) & FD_CLOEXEC, 0);

    char address [ZC_NET_ADDRESS_MAX];
    snprintf (address, sizeof address, "%s:%d", bracketed, port);
    const char *error = NULL;
    int client = zc_net_connect (address, 5000, &error);
    ck_assert_msg (client >= 0, "connect %s: %s", address, error);
    ck_assert_int_eq (fcntl (client, F_GETFL, 0) & O_NONBLOCK, 0);

    struct pollfd item = { listener, POLLIN, 0 };
    ck_assert_int_eq (poll (&item, 1, 5000), 1);
    char peer [ZC_NET_ADDRESS_MAX];
    int server = zc_net_accept (listener, peer, sizeof peer);
    ck_assert_int_ge (server, 0);
    ck_assert_int_ne (fcntl (server, F_GETFL, 0) & O_NONBLOCK, 0);
    //  The peer's address is one split reads back, with our host
    char peer_host [256];
    int peer_port;
    ck_assert_int_eq (zc_net_split (peer, peer_host, sizeof peer_host, &peer_port), 0);
    ck_assert_str_eq (peer_host, host);

    ck_assert_int_eq (write (client, "ping", 4), 4);
    item = (struct pollfd) { server, POLLIN, 0 };
    ck_assert_int_eq (poll (&item, 1, 5000), 1);
    char buffer [8];
    ck_assert_int_eq (read (server, buffer, sizeof buffer), 4);
    ck_assert_int_eq (memcmp (buffer, "ping", 4), 0);

    //  Nothing else is waiting: accept says so instead of blocking
    ck_assert_int_eq (zc_net_accept (listener, peer, sizeof peer), -1);
    ck_assert (errno == EAGAIN || errno == EWOULDBLOCK);
    close (server);
    close (client);
    close (listener);

    //  Once closed, the port refuses, and the reason is the system's
    error = NULL;
    ck_assert_int_eq (zc_net_connect (address, 5000, &error), -1);
    ck_assert_str_eq (error, strerror (ECONNREFUSED));
    return true;
}

START_TEST (test_sockets_ipv4)
{
    ck_assert (s_round_trip ("127.0.0.1", "127.0.0.1"));
}
END_TEST

START_TEST (test_sockets_ipv6)
{
    if (!s_round_trip ("::1", "[::1]"))
        fprintf (stderr, "test_net: SKIPPED IPv6 round trip: cannot listen on ::1\n");
}
END_TEST

START_TEST (test_connect_errors)
{
    const char *error = NULL;
    ck_assert_int_eq (zc_net_connect ("no-port", 1000, &error), -1);
    ck_assert_str_eq (error, "not HOST:PORT or [IPv6]:PORT");
    error = NULL;
    ck_assert_int_eq (zc_net_connect ("name.invalid:80", 1000, &error), -1);
    ck_assert_ptr_nonnull (error);
}
END_TEST

//  node_list entries and node_discovery name a peer by "host" and "port":
//  one reader for both, every form checked before a cast.
START_TEST (test_address_of)
{
    struct { const char *json; const char *address; } cases [] = {
        { "{\"host\":\"127.0.0.1\",\"port\":13246}", "127.0.0.1:13246" },
        { "{\"host\":\"::1\",\"port\":13246}", "[::1]:13246" },
        { "{\"host\":\"node-2.example\",\"port\":1}", "node-2.example:1" },
        { "{\"host\":\"127.0.0.1\",\"port\":0}", NULL },
        { "{\"host\":\"127.0.0.1\",\"port\":65536}", NULL },
        { "{\"host\":\"127.0.0.1\",\"port\":1e300}", NULL },
        { "{\"host\":\"127.0.0.1\",\"port\":13246.5}", NULL },
        { "{\"host\":\"127.0.0.1\",\"port\":\"13246\"}", NULL },
        { "{\"host\":\"bad host\",\"port\":13246}", NULL },
        { "{\"host\":\"\",\"port\":13246}", NULL },
        { "{\"host\":7,\"port\":13246}", NULL },
        { "{\"port\":13246}", NULL },
        { "[]", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        cJSON *json = cJSON_Parse (cases [i].json);
        ck_assert_ptr_nonnull (json);
        char *address = zc_net_address_of (json);
        if (cases [i].address)
            ck_assert_msg (address && streq (address, cases [i].address), "%s gave %s",
                           cases [i].json, address? address: "NULL");
        else
            ck_assert_msg (!address, "%s gave %s, expected NULL", cases [i].json, address);
        free (address);
        cJSON_Delete (json);
    }
    ck_assert_int_eq (zc_net_port_of (NULL), 0);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("net");
    TCase *tcase = tcase_create ("net");
    tcase_add_test (tcase, test_split);
    tcase_add_test (tcase, test_join);
    tcase_add_test (tcase, test_resolve);
    tcase_add_test (tcase, test_sockets_ipv4);
    tcase_add_test (tcase, test_sockets_ipv6);
    tcase_add_test (tcase, test_connect_errors);
    tcase_add_test (tcase, test_address_of);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
