/*  =========================================================================
    zc_net - "host:port" addresses and the TCP sockets made from them

    The one place in zchain that reads an address or makes a socket, as
    redis's anet.c is: the bridge, the client and the load tool all come
    here, so an address means the same thing everywhere and every socket
    gets the same options, each call's result checked.

    An address is "host:port" where host is a name or an IPv4 address, or
    "[v6]:port" where v6 is an IPv6 address (its colons would otherwise be
    ambiguous with the port's).  The port is 1 to 65535 in decimal digits.
    Every socket made here is close-on-exec; connections have Nagle's
    algorithm off, since every message is a whole request or answer.
    =========================================================================
*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             //  accept4
#endif
#include "zchain.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

//  Splits address into host (without brackets) and port.  0, or -1 if it
//  is not of the form above or host does not fit in host_size bytes.
int
zc_net_split (const char *address, char *host, size_t host_size, int *port_p)
{
    assert (host && host_size > 0 && port_p);
    if (!address)
        return -1;
    const char *colon = strrchr (address, ':');
    if (!colon)
        return -1;
    const char *start = address, *end = colon;
    if (*start == '[') {
        //  [v6]:port: the bracket must close right before the port
        if (end - start < 3 || end [-1] != ']')
            return -1;
        start++;
        end--;
    }
    else
    if (memchr (start, ':', (size_t) (end - start)))
        return -1;                  //  an IPv6 host must be bracketed
    size_t length = (size_t) (end - start);
    if (length == 0 || length >= host_size
    ||  memchr (start, '[', length) || memchr (start, ']', length))
        return -1;
    const char *digits = colon + 1;
    size_t count = strlen (digits);
    if (count == 0 || count > 5 || strspn (digits, "0123456789") != count)
        return -1;
    int port = atoi (digits);
    if (port < 1 || port > 65535)
        return -1;
    memcpy (host, start, length);
    host [length] = 0;
    *port_p = port;
    return 0;
}

//  Formats host and port as an address, bracketing an IPv6 host.
//  Caller frees.
char *
zc_net_join (const char *host, int port)
{
    assert (host);
    return strchr (host, ':')? zsys_sprintf ("[%s]:%d", host, port)
                             : zsys_sprintf ("%s:%d", host, port);
}

//  Resolves an address to a socket address (the first the resolver
//  gives).  0, or -1 with *error_p a static reason.
int
zc_net_resolve (const char *address, struct sockaddr_storage *addr, socklen_t *length_p,
                const char **error_p)
{
    assert (addr && length_p && error_p);
    char host [256], port [8];
    int number;
    if (zc_net_split (address, host, sizeof host, &number) != 0) {
        *error_p = "not HOST:PORT or [IPv6]:PORT";
        return -1;
    }
    snprintf (port, sizeof port, "%d", number);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *info = NULL;
    int rc = getaddrinfo (host, port, &hints, &info);
    if (rc != 0 || !info) {
        *error_p = rc? gai_strerror (rc): "no address";
        return -1;
    }
    assert (info->ai_addrlen <= sizeof *addr);
    memcpy (addr, info->ai_addr, info->ai_addrlen);
    *length_p = info->ai_addrlen;
    freeaddrinfo (info);
    return 0;
}

//  Makes a socket non-blocking and close-on-exec.  0, or -1 with errno.
int
zc_net_set_nonblocking (int fd)
{
    int flags = fcntl (fd, F_GETFL, 0);
    if (flags == -1 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return -1;
    flags = fcntl (fd, F_GETFD, 0);
    if (flags == -1 || fcntl (fd, F_SETFD, flags | FD_CLOEXEC) == -1)
        return -1;
    return 0;
}

//  Turns Nagle's algorithm off.  0, or -1 with errno.
static int
s_set_nodelay (int fd)
{
    int one = 1;
    return setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

//  Closes fd keeping errno, and returns -1.
static int
s_fail (int fd)
{
    int saved = errno;
    if (fd >= 0)
        close (fd);
    errno = saved;
    return -1;
}

//  Starts a non-blocking connect.  The socket, its connect done or in
//  progress (zc_net_dial_result says how it ended once it is writable),
//  or -1 with errno.
int
zc_net_dial (const struct sockaddr_storage *addr, socklen_t length)
{
    assert (addr);
    int fd = socket (addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || s_set_nodelay (fd) != 0)
        return s_fail (fd);
    if (connect (fd, (const struct sockaddr *) addr, length) != 0 && errno != EINPROGRESS)
        return s_fail (fd);
    return fd;
}

//  How a dial ended, once its socket is writable: 0, or the errno of the
//  failure.
int
zc_net_dial_result (int fd)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        return errno;
    return error;
}

//  Waits for a dial to end by deadline (usecs): 0, or an errno value.
static int
s_dial_wait (int fd, int64_t deadline)
{
    while (true) {
        struct pollfd item = { fd, POLLOUT, 0 };
        int64_t left = (deadline - zc_clock_usecs () + 999) / 1000;
        int rc = poll (&item, 1, left > 0? (int) (left < INT32_MAX? left: INT32_MAX): 0);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc == -1)
            return errno;
        return rc == 0? ETIMEDOUT: zc_net_dial_result (fd);
    }
}

//  Connects to an address, trying each address its host resolves to in
//  turn, all within timeout_ms.  A blocking socket, or -1 with *error_p a
//  static reason (strerror of the last failure).
int
zc_net_connect (const char *address, int timeout_ms, const char **error_p)
{
    assert (error_p);
    char host [256], service [8];
    int port;
    if (zc_net_split (address, host, sizeof host, &port) != 0) {
        *error_p = "not HOST:PORT or [IPv6]:PORT";
        return -1;
    }
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *list = NULL;
    int rc = getaddrinfo (host, service, &hints, &list);
    if (rc != 0 || !list) {
        *error_p = rc? gai_strerror (rc): "no address";
        return -1;
    }
    int64_t deadline = zc_clock_usecs () + (int64_t) timeout_ms * 1000;
    int fd = -1, error = ENOENT;
    for (struct addrinfo *info = list; info && fd == -1; info = info->ai_next) {
        struct sockaddr_storage addr;
        memcpy (&addr, info->ai_addr, info->ai_addrlen);
        fd = zc_net_dial (&addr, info->ai_addrlen);
        error = fd < 0? errno: s_dial_wait (fd, deadline);
        int flags = error? -1: fcntl (fd, F_GETFL, 0);
        if (flags == -1 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
            if (!error)
                error = errno;
            if (fd >= 0)
                close (fd);
            fd = -1;
        }
    }
    freeaddrinfo (list);
    if (fd < 0) {
        *error_p = strerror (error);
        errno = error;
    }
    return fd;
}

//  Listens on host:port (a name or address; IPv6 without brackets),
//  non-blocking, with SO_REUSEADDR so a restarted node gets its port back
//  at once.  The socket, or -1 with errno (EADDRNOTAVAIL if host does not
//  resolve).
int
zc_net_listen (const char *host, int port, int backlog)
{
    assert (host);
    char service [8];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *info = NULL;
    if (getaddrinfo (host, service, &hints, &info) != 0 || !info) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int one = 1;
    int fd = socket (info->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
    ||  bind (fd, info->ai_addr, info->ai_addrlen) != 0
    ||  listen (fd, backlog) != 0) {
        freeaddrinfo (info);
        return s_fail (fd);
    }
    freeaddrinfo (info);
    return fd;
}

//  Formats a socket address as "host:port" ("[v6]:port") into address.
void
zc_net_address_text (const struct sockaddr_storage *addr, char *address, size_t size)
{
    char host [INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) addr;
        inet_ntop (AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs (in->sin_port);
        snprintf (address, size, "%s:%d", host, port);
    }
    else
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs (in6->sin6_port);
        snprintf (address, size, "[%s]:%d", host, port);
    }
    else
        snprintf (address, size, "?:0");
}

//  Accepts one connection: non-blocking, close-on-exec, Nagle off, and
//  its peer's address into address (ZC_NET_ADDRESS_MAX bytes suffice).
//  The socket, or -1 with errno (EAGAIN when none is waiting).
int
zc_net_accept (int listen_fd, char *address, size_t size)
{
    struct sockaddr_storage addr;
    socklen_t length = sizeof addr;
    int fd = accept4 (listen_fd, (struct sockaddr *) &addr, &length,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    if (s_set_nodelay (fd) != 0)
        return s_fail (fd);
    zc_net_address_text (&addr, address, size);
    return fd;
}

//  The port of a JSON member: an integer 1..65535, checked before it is
//  cast; 0 if it is anything else.
int
zc_net_port_of (const cJSON *item)
{
    if (!cJSON_IsNumber (item))
        return 0;
    double value = item->valuedouble;
    if (!(value >= 1 && value <= 65535) || value != (double) (int) value)
        return 0;
    return (int) value;
}

//  The address a protocol object names with "host" and "port" (an entry
//  of node_list, a node_discovery): NULL unless the host has the form of
//  a host (zc_host_valid) and the port is an integer 1..65535.  Caller
//  frees.
char *
zc_net_address_of (const cJSON *object)
{
    const cJSON *host = cJSON_GetObjectItemCaseSensitive (object, "host");
    int port = zc_net_port_of (cJSON_GetObjectItemCaseSensitive (object, "port"));
    if (!cJSON_IsString (host) || !zc_host_valid (host->valuestring) || !port)
        return NULL;
    return zc_net_join (host->valuestring, port);
}
