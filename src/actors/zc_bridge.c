/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_bridge - raw framed TCP <-> zmsg for one node

    The bridge owns every TCP socket of a node: the listening socket, the
    connections clients and peers open to it, and the connections it opens
    to peers.  It turns framed bytes into whole messages for the listener
    and the listener's answers back into framed bytes.  It never blocks:
    sockets are non-blocking, each connection has a capped input buffer
    (zc_codec) and a capped output buffer, and a connection with too many
    requests in flight is not read until some are answered.

    Plain sockets rather than ZMQ_STREAM: a STREAM socket drops what is
    queued for a peer when told to close it, so an error reply followed by
    a close is lost, and its send blocks the actor at the high-water mark
    (see doc/DESIGN.md).  Every socket and the actor's own ZeroMQ sockets
    (their ZMQ_FD) are watched by one epoll set, and a wake-up is one
    epoll_wait: it costs what is ready, not how many connections there
    are, and a request answered here (QUICK) costs a read and a write,
    as in redis (issue 11: polling the ZeroMQ sockets beside the set cost
    six poll calls a wake-up).

    Pipe protocol (from the node role), sent by zc_bridge_bind and
    zc_bridge_set_quick, received by s_self_handle_pipe (zc_typed frames:
    this file's s_pipe_t, then the host for BIND); a malformed command is
    logged and answered with signal 1:
        BIND host port max_message  -> signal 0, or 1 if it cannot listen
        QUICK fn arg                zc_bridge_quick_fn * and its argument:
                                    a request it answers is answered here,
                                    when nothing else is in flight on its
                                    connection (so replies stay in order),
                                    without crossing to another thread
                                    -> signal 0
        $TERM                       ends the actor

    Link protocol (PAIR bound at zc_endpoint ("bridge", name)), the
    commands of zc_link (typed, shared by both ends):
      to the listener
        MSG conn address body       one whole message from connection conn
      from the listener
        REPLY conn body             send body in conn's framing; request done
        DONE conn                   request done, nothing to send
        CLOSE conn body             send body (if not empty), then close
        SEND address body           send body to peer "host:port" over a
                                    connection of our own (opened on demand,
                                    kept open, dialled again when gone)
        POST address body id        open a new connection to address, send
                                    body as one line, close (the seed's
                                    one-shot notification).  Our side is
                                    shut once sent; the post counts as
                                    delivered when the receiver closes its
                                    side (it has read it), or S_POST_MSECS
                                    later, so posts one after another are
                                    handled in order.  id (the gateway's
                                    spool id) names it in POSTED or DOWN:
                                    posts may overlap
      to the listener, about connections of our own
        DOWN address [id]           what was sent to address may be lost:
                                    the dial failed or the connection ended
                                    (id: that of the POST that failed)
        POSTED address id           a POST was sent whole and closed
    Answer link (PULL bound at zc_endpoint ("answers", name)): REPLY, DONE,
    CLOSE and SEND as above, from the actors behind the listener (a node's
    validator and notifier), so their answers do not cross the listener's
    thread; DOWN for their sends still goes to the listener.
    Every MSG gets exactly one REPLY, DONE or CLOSE, which is how the
    bridge counts requests in flight per connection.
    =========================================================================
*/

#include "zc_actors.h"
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <sys/epoll.h>

#define S_READ_CHUNK    65536           //  bytes read per recv
#define S_MAX_INFLIGHT  64              //  requests in flight per connection
#define S_MIN_OUT_CAP   (16 * 1024 * 1024)  //  output buffer cap, at least
#define S_CONNECT_MSECS 3000            //  a dial not answered by then fails
#define S_BACKOFF_MAX   30000           //  longest pause after dials time out
#define S_POST_MSECS    5000            //  longest wait for a POST's receiver

//  One TCP connection, accepted or opened by us
typedef struct {
    uint32_t id;                //  connection id, never reused
    int fd;                     //  non-blocking socket
    char *address;              //  peer address, "host:port"
    bool outgoing;              //  we opened it (to a peer)
    bool post;                  //  one-shot POST connection
    int64_t post_id;            //  POST: its id, told back in POSTED / DOWN
    int64_t shut_at;            //  POST: when our side was shut, or 0
    bool connecting;            //  connect() still in progress
    int64_t dialled;            //  when connect() started
    zc_codec_t *codec;          //  input reassembly, capped
    zchunk_t *out;              //  bytes waiting to be sent
    size_t out_offset;          //  bytes of out already sent
    size_t inflight;            //  messages handed on, not yet answered
    bool read_closed;           //  peer has finished sending
    bool closing;               //  close as soon as out is sent
    uint32_t watched;           //  epoll events registered for fd
} s_conn_t;

//  A peer whose dials time out (no answer at all, unlike a refusal): it is
//  not dialled again before `until`, and the pause doubles each time
typedef struct {
    int64_t until;              //  no dial before then
    int64_t pause;              //  the next pause
} s_backoff_t;

//  Actor state
typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *link;              //  PAIR to the listener
    zsock_t *answers;           //  PULL: answers from actors behind the
                                //  listener (the validator), same commands
    char *name;                 //  node instance name, for logs
    int listen_fd;              //  listening socket, or -1
    int epoll_fd;               //  epoll set of listen_fd and every fd
    bool listen_watched;        //  listen_fd is in the set with EPOLLIN
    size_t max_message;         //  cap on one message
    size_t out_cap;             //  cap on a connection's unsent bytes
    uint32_t next_id;           //  id for the next connection
    zhashx_t *conns;            //  "id" -> s_conn_t *
    zhashx_t *outgoing;         //  "host:port" -> s_conn_t * we opened
    zhashx_t *unreachable;      //  "host:port" -> s_backoff_t *, dials timed out
    int64_t accept_paused;      //  no accepting until then (out of fds)
    zc_bridge_quick_fn *quick;  //  answers it gives itself, or NULL
    void *quick_arg;            //  its argument
    bool link_touched;          //  sent on link since its input was last
                                //  looked at: a ZeroMQ send may take in
                                //  the command that would have woken us
    bool terminated;            //  $TERM received
} self_t;

//  epoll data of the actor's ZeroMQ sockets (connections use their id,
//  a uint32_t, and the listening socket 0)
#define S_EVENT_PIPE    ((uint64_t) 1 << 32)
#define S_EVENT_LINK    (S_EVENT_PIPE + 1)
#define S_EVENT_ANSWERS (S_EVENT_PIPE + 2)

//  Formats a connection id as a hash key.
static void
s_key (uint32_t id, char *key)
{
    snprintf (key, 16, "%" PRIu32, id);
}

static self_t *
s_self_new (zsock_t *pipe, const char *name)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->name = strdup (name);
    self->listen_fd = -1;
    self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    assert (self->epoll_fd >= 0);
    self->max_message = ZC_MAX_MESSAGE;
    self->out_cap = S_MIN_OUT_CAP;
    self->next_id = 1;
    self->conns = zhashx_new ();
    self->outgoing = zhashx_new ();
    self->unreachable = zhashx_new ();
    zhashx_set_destructor (self->unreachable, (zhashx_destructor_fn *) zstr_free);
    self->link = zc_link_new ("bridge", name, true);
    self->answers = zc_link_answers_new (name, true);
    //  ZMQ_FD is readable while a socket has commands to take in: a sign
    //  to look at its input, which is read until empty (zmq_getsockopt(3))
    zsock_t *sockets [] = { pipe, self->link, self->answers };
    uint64_t events [] = { S_EVENT_PIPE, S_EVENT_LINK, S_EVENT_ANSWERS };
    for (size_t i = 0; i < 3; i++) {
        struct epoll_event event = { .events = EPOLLIN, .data.u64 = events [i] };
        int rc = epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, zsock_fd (sockets [i]), &event);
        assert (rc == 0);
    }
    return self;
}

//  Unsent bytes of a connection.
static size_t
s_conn_unsent (s_conn_t *conn)
{
    return zchunk_size (conn->out) - conn->out_offset;
}

//  Tells epoll what the connection waits for now: input while it may
//  read (open, connected, window not full), output while it has bytes to
//  send or a dial to finish.
static void
s_conn_watch (self_t *self, s_conn_t *conn)
{
    uint32_t events = 0;
    if (!conn->read_closed && !conn->connecting && conn->inflight < S_MAX_INFLIGHT)
        events |= EPOLLIN;
    if (conn->connecting || s_conn_unsent (conn) > 0)
        events |= EPOLLOUT;
    if (events != conn->watched) {
        struct epoll_event event = { .events = events, .data.u64 = conn->id };
        epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event);
        conn->watched = events;
    }
}

//  Closes a connection and forgets it.
static void
s_conn_close (self_t *self, s_conn_t *conn)
{
    char key [16];
    s_key (conn->id, key);
    if (conn->outgoing && zhashx_lookup (self->outgoing, conn->address) == conn)
        zhashx_delete (self->outgoing, conn->address);
    //  Whoever sent on a connection of ours must learn it has ended
    if (self->link && (conn->outgoing || conn->post)) {
        if (conn->post && conn->shut_at && !conn->closing)
            zc_link_send_posted (self->link, conn->address, conn->post_id);
        else
            zc_link_send_down (self->link, conn->address, conn->post_id);
        self->link_touched = true;
    }
    epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    close (conn->fd);
    zc_codec_destroy (&conn->codec);
    zchunk_destroy (&conn->out);
    free (conn->address);
    zhashx_delete (self->conns, key);
    free (conn);
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zsock_destroy (&self->link);    //  nobody is listening any more
        s_conn_t *conn;
        while ((conn = (s_conn_t *) zhashx_first (self->conns)))
            s_conn_close (self, conn);
        if (self->listen_fd >= 0)
            close (self->listen_fd);
        close (self->epoll_fd);
        zhashx_destroy (&self->conns);
        zhashx_destroy (&self->outgoing);
        zhashx_destroy (&self->unreachable);
        zsock_destroy (&self->link);
        zsock_destroy (&self->answers);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

//  Registers a new connection.
static s_conn_t *
s_conn_new (self_t *self, int fd, const char *address, bool outgoing)
{
    s_conn_t *conn = (s_conn_t *) zmalloc (sizeof (s_conn_t));
    conn->id = self->next_id++;
    if (self->next_id == 0)
        self->next_id = 1;
    conn->fd = fd;
    conn->address = strdup (address);
    conn->outgoing = outgoing;
    conn->codec = zc_codec_new (self->max_message);
    conn->out = zchunk_new (NULL, 0);
    if (outgoing)
        zc_codec_set_framing (conn->codec, ZC_FRAMING_LINE);
    char key [16];
    s_key (conn->id, key);
    zhashx_insert (self->conns, key, conn);
    struct epoll_event event = { .events = 0, .data.u64 = conn->id };
    epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event);
    return conn;
}

//  Sends what the kernel takes now; -1 if the connection failed.
static int
s_conn_flush (s_conn_t *conn)
{
    while (!conn->connecting && s_conn_unsent (conn) > 0) {
        ssize_t sent = send (conn->fd, zchunk_data (conn->out) + conn->out_offset,
                             s_conn_unsent (conn), MSG_NOSIGNAL);
        if (sent > 0)
            conn->out_offset += (size_t) sent;
        else
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        else
            return -1;
    }
    if (s_conn_unsent (conn) == 0) {
        zchunk_set (conn->out, NULL, 0);
        conn->out_offset = 0;
    }
    return 0;
}

//  Queues one framed message on a connection; -1 if its output cap is
//  exceeded (a peer that does not read) or the body cannot be framed.
static int
s_conn_queue (self_t *self, s_conn_t *conn, const char *body, size_t size)
{
    zc_framing_t framing = zc_codec_framing (conn->codec);
    if (framing == ZC_FRAMING_UNKNOWN)
        framing = ZC_FRAMING_LINE;
    if (s_conn_unsent (conn) + size > self->out_cap) {
        zc_log_warning ("%s: closing %s: it does not read its replies",
                      self->name, conn->address);
        return -1;
    }
    //  Keep the buffer from creeping: drop what was sent before appending
    if (conn->out_offset > 0) {
        size_t unsent = s_conn_unsent (conn);
        memmove (zchunk_data (conn->out), zchunk_data (conn->out) + conn->out_offset, unsent);
        zchunk_set (conn->out, zchunk_data (conn->out), unsent);
        conn->out_offset = 0;
    }
    if (zc_codec_encode (framing, body, size, conn->out) != 0) {
        //  Every body we make is framable (canonical JSON has no raw
        //  newline and ends in '}'), except one too long for a 2-byte
        //  length: the client still gets an error, and the stream stays
        //  in step
        static const char error [] =
            "{\"error\":\"reply too long for this framing\",\"type\":\"error\"}";
        zc_log_warning ("%s: reply to %s cannot be framed (%zu bytes)", self->name,
                      conn->address, size);
        if (zc_codec_encode (framing, error, sizeof error - 1, conn->out) != 0)
            return -1;
    }
    return 0;
}

//  Closes a connection whose stream cannot be trusted, after an error
//  reply in its framing.
static void
s_conn_protocol_error (self_t *self, s_conn_t *conn, const char *reason)
{
    zc_log_warning ("%s: protocol error from %s: %s", self->name, conn->address, reason);
    cJSON *error = zc_error_new (reason);
    char *text = zc_jcs_serialize (error);
    cJSON_Delete (error);
    if (text)
        s_conn_queue (self, conn, text, strlen (text));
    free (text);
    conn->closing = true;
    conn->read_closed = true;
}

//  Hands on the whole messages buffered on a connection, while its window
//  of requests in flight has room.
static void
s_conn_drain (self_t *self, s_conn_t *conn)
{
    while (!conn->closing && conn->inflight < S_MAX_INFLIGHT) {
        const char *data;
        size_t size;
        int rc = zc_codec_next (conn->codec, &data, &size);
        if (rc == 0)
            break;
        if (rc < 0) {
            s_conn_protocol_error (self, conn, zc_codec_error (conn->codec));
            break;
        }
        const char *quick = self->quick && conn->inflight == 0?
                            self->quick (self->quick_arg, conn->address, data, size): NULL;
        if (quick) {
            if (s_conn_queue (self, conn, quick, strlen (quick)) != 0)
                conn->closing = true;   //  it does not read its replies
            continue;
        }
        conn->inflight++;
        zc_link_send_msg (self->link, conn->id, conn->address, data, size);
        self->link_touched = true;
    }
}

//  A POST's life after it is sent: shut our side, then wait for the
//  receiver to close its own (or for S_POST_MSECS); true if it closed.
//  A reset ends it at once, as not delivered: the receiver may not have
//  read it.  (It once left the post open for good: read closed, nothing to
//  send, no event to come, so its sender waited for ever; seen when the
//  server was stopped with posts of several nodes on their way.)
static bool
s_conn_post_progress (self_t *self, s_conn_t *conn)
{
    if (!conn->post || conn->connecting)
        return false;
    if (conn->closing) {
        s_conn_close (self, conn);      //  DOWN
        return true;
    }
    if (s_conn_unsent (conn) > 0)
        return false;
    if (!conn->shut_at) {
        shutdown (conn->fd, SHUT_WR);
        conn->shut_at = zclock_mono ();
    }
    if (conn->read_closed || zclock_mono () - conn->shut_at > S_POST_MSECS) {
        s_conn_close (self, conn);      //  POSTED
        return true;
    }
    return false;
}

//  Closes the connection if nothing more can happen on it; true if closed.
static bool
s_conn_reap (self_t *self, s_conn_t *conn)
{
    if (conn->post)
        return s_conn_post_progress (self, conn);
    bool done = s_conn_unsent (conn) == 0
             && (conn->closing || (conn->read_closed && conn->inflight == 0));
    if (done)
        s_conn_close (self, conn);
    return done;
}

//  Reads what the socket holds and passes on whole messages.
static void
s_conn_read (self_t *self, s_conn_t *conn)
{
    char buffer [S_READ_CHUNK];
    //  A few reads per wake-up, so one busy peer cannot starve others
    for (int reads = 0; reads < 4 && !conn->read_closed; reads++) {
        ssize_t size = recv (conn->fd, buffer, sizeof buffer, 0);
        if (size > 0) {
            if (conn->post)
                continue;                   //  a POST's receiver has nothing to say
            if (zc_codec_feed (conn->codec, buffer, (size_t) size) != 0) {
                s_conn_protocol_error (self, conn, zc_codec_error (conn->codec));
                return;
            }
            s_conn_drain (self, conn);
            if (conn->inflight >= S_MAX_INFLIGHT || (size_t) size < sizeof buffer)
                break;
        }
        else
        if (size == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            conn->read_closed = true;
            s_conn_drain (self, conn);
            if (zc_codec_pending (conn->codec) > 0)
                zc_log_warning ("%s: %s closed the connection mid-message (%zu bytes dropped)",
                              self->name, conn->address, zc_codec_pending (conn->codec));
            if (size < 0)
                conn->closing = true;       //  reset: nothing can be sent
                                            //  (for a POST: DOWN, not POSTED)
        }
        else
            break;
    }
}

//  Accepts every pending connection.
static void
s_accept (self_t *self)
{
    for (int accepted = 0; accepted < 256; accepted++) {
        char address [ZC_NET_ADDRESS_MAX];
        int fd = zc_net_accept (self->listen_fd, address, sizeof address);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                //  Stop watching the listening socket for a moment, or
                //  epoll would wake us for it without end
                zc_log_error ("%s: out of file descriptors; pausing accept", self->name);
                self->accept_paused = zclock_mono () + 100;
                struct epoll_event event = { .events = 0, .data.u64 = 0 };
                epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, self->listen_fd, &event);
                self->listen_watched = false;
            }
            return;
        }
        s_conn_watch (self, s_conn_new (self, fd, address, false));
    }
}

//  Starts a connection to a peer; NULL if it failed at once or the peer
//  is in its backoff.  A peer that refuses is dialled again at once (a
//  refusal costs one connect, and a pause would report a peer that has
//  just come up as down); one whose dials time out is left alone for a
//  pause that doubles up to S_BACKOFF_MAX.
static s_conn_t *
s_dial (self_t *self, const char *address, bool post)
{
    s_backoff_t *backoff = (s_backoff_t *) zhashx_lookup (self->unreachable, address);
    if (backoff && zclock_mono () < backoff->until)
        return NULL;
    struct sockaddr_storage addr;
    socklen_t length;
    const char *error = NULL;
    int fd = -1;
    if (zc_net_resolve (address, &addr, &length, &error) == 0) {
        fd = zc_net_dial (&addr, length);
        if (fd < 0)
            error = strerror (errno);
    }
    if (fd < 0) {
        zc_debug ("%s: cannot dial %s: %s", self->name, address, error);
        return NULL;
    }
    s_conn_t *conn = s_conn_new (self, fd, address, !post);
    zc_codec_set_framing (conn->codec, ZC_FRAMING_LINE);
    conn->connecting = true;
    conn->dialled = zclock_mono ();
    conn->post = post;
    if (!post)
        zhashx_insert (self->outgoing, address, conn);
    s_conn_watch (self, conn);
    return conn;
}

//  Completes a non-blocking connect; -1 if it failed.
static int
s_conn_connected (self_t *self, s_conn_t *conn)
{
    int error = zc_net_dial_result (conn->fd);
    if (error) {
        zc_debug ("%s: cannot connect to %s: %s", self->name, conn->address,
                  strerror (error));
        return -1;
    }
    conn->connecting = false;
    zhashx_delete (self->unreachable, conn->address);
    return 0;
}

//  Looks up a live connection by id.
static s_conn_t *
s_conn_lookup (self_t *self, uint32_t id)
{
    char key [16];
    s_key (id, key);
    return (s_conn_t *) zhashx_lookup (self->conns, key);
}

//  Opens the listening socket.
static int
s_bind (self_t *self, const char *host, int port)
{
    int fd = zc_net_listen (host, port, 4096);
    if (fd < 0) {
        zc_log_error ("%s: cannot listen on %s:%d: %s", self->name, host, port, strerror (errno));
        return -1;
    }
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = 0 };
    if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        zc_log_error ("%s: cannot watch %s:%d: %s", self->name, host, port, strerror (errno));
        close (fd);
        return -1;
    }
    self->listen_fd = fd;
    self->listen_watched = true;
    return 0;
}

//  The bridge's pipe commands (besides $TERM), as one header frame
typedef struct {
    uint8_t id;                 //  S_PIPE_BIND or S_PIPE_QUICK
    int port;                   //  BIND: port to listen on
    size_t max_message;         //  BIND: largest message, 0: the default
    zc_bridge_quick_fn *quick;  //  QUICK: the answers
    void *quick_arg;            //  QUICK: their argument
} s_pipe_t;

#define S_PIPE_BIND     1
#define S_PIPE_QUICK    2

//  Shapes of the pipe commands: BIND has the host
static int
s_pipe_shape (int id, bool *body_p)
{
    *body_p = false;
    return id == S_PIPE_BIND? 1: id == S_PIPE_QUICK? 0: -1;
}

//  Handles a command from the node role.
static void
s_self_handle_pipe (self_t *self)
{
    s_pipe_t command;
    char *host = NULL;
    zframe_t *body = NULL;
    int rc = zc_typed_recv (self->pipe, &command, sizeof command, s_pipe_shape,
                            &host, 1, &body);
    if (rc == ZC_TYPED_TERM || rc == ZC_TYPED_INTERRUPTED)
        self->terminated = true;        //  $TERM, or interrupted
    else
    if (rc == ZC_TYPED_MALFORMED) {
        //  Every pipe command is waited for: a bug must not hang the role
        zc_log_error ("%s: bridge: bug: malformed pipe command", self->name);
        zsock_signal (self->pipe, 1);
    }
    else
    if (command.id == S_PIPE_BIND) {
        if (command.max_message > 0) {
            self->max_message = command.max_message;
            self->out_cap = 4 * command.max_message > S_MIN_OUT_CAP?
                            4 * command.max_message: S_MIN_OUT_CAP;
        }
        zsock_signal (self->pipe, s_bind (self, host, command.port) == 0? 0: 1);
    }
    else {
        self->quick = command.quick;
        self->quick_arg = command.quick_arg;
        zsock_signal (self->pipe, 0);
    }
    zstr_free (&host);
    zframe_destroy (&body);
}

//  Handles REPLY / DONE / CLOSE / SEND / POST from the listener (link) or
//  the actors behind it (answers).  DOWN always goes to the listener.
static void
s_self_handle_link (self_t *self, zsock_t *source)
{
    bool malformed = false;
    zc_link_msg_t *msg = zc_link_recv (source, &malformed);
    zc_link_msg_id_t id = msg? zc_link_msg_id (msg): 0;
    const char *data = msg? zc_link_msg_data (msg): "";
    size_t size = msg? zc_link_msg_size (msg): 0;
    if (id == ZC_LINK_SEND || id == ZC_LINK_POST) {
        const char *address = zc_link_msg_address (msg);
        bool post = id == ZC_LINK_POST;
        s_conn_t *conn = post? NULL: (s_conn_t *) zhashx_lookup (self->outgoing, address);
        if (!conn)
            conn = s_dial (self, address, post);
        if (conn && post)
            conn->post_id = zc_link_msg_post (msg);
        if (!conn) {
            zc_link_send_down (self->link, address, post? zc_link_msg_post (msg): 0);
            self->link_touched = true;
        }
        else
        if (size > 0) {
            if (s_conn_queue (self, conn, data, size) != 0 || s_conn_flush (conn) != 0)
                s_conn_close (self, conn);
            else
            if (!s_conn_post_progress (self, conn))     //  a POST sent at once?
                s_conn_watch (self, conn);
        }
        else
            s_conn_watch (self, conn);
    }
    else
    if (id == ZC_LINK_REPLY || id == ZC_LINK_DONE || id == ZC_LINK_CLOSE) {
        s_conn_t *conn = s_conn_lookup (self, zc_link_msg_conn (msg));
        if (conn) {
            if (conn->inflight > 0)
                conn->inflight--;
            bool failed = false;
            if (size > 0 && !conn->closing)
                failed = s_conn_queue (self, conn, data, size) != 0;
            if (id == ZC_LINK_CLOSE)
                conn->closing = true;
            if (failed || s_conn_flush (conn) != 0)
                s_conn_close (self, conn);
            else
            if (!s_conn_reap (self, conn)) {
                s_conn_drain (self, conn);
                s_conn_watch (self, conn);
            }
        }
    }
    else
    if (msg || malformed)
        zc_log_error ("%s: bridge: bug: unexpected link command %s", self->name,
                    msg? zc_link_msg_name (id): "(malformed)");
    zc_link_msg_destroy (&msg);
}

//  Handles what epoll says about one connection.
static void
s_conn_ready (self_t *self, s_conn_t *conn, uint32_t events)
{
    if (conn->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        if (s_conn_connected (self, conn) != 0) {
            s_conn_close (self, conn);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        s_conn_read (self, conn);
    //  Hung up both ways once its input has ended: nothing more can be
    //  sent, and epoll would keep saying so until the fd is closed
    if ((events & (EPOLLERR | EPOLLHUP)) && conn->read_closed && !conn->post)
        conn->closing = true;
}

//  Sends what a connection has to send and decides what it waits for
//  next; done once per wake-up, after every ready socket has been read,
//  so the replies of one wake-up leave together, as redis-server writes
//  its replies before it sleeps (health at 50 clients: 1.04 of redis
//  PING against 0.98 writing each reply as its request is read, three
//  alternating pairs).
static void
s_conn_settle (self_t *self, s_conn_t *conn)
{
    if (s_conn_flush (conn) != 0)
        s_conn_close (self, conn);
    else
    if (!s_conn_reap (self, conn))
        s_conn_watch (self, conn);
}

//  What needs a clock rather than an event: dials that take too long,
//  POSTs whose receiver does not close, and the end of an accept pause.
static void
s_sweep (self_t *self)
{
    int64_t now = zclock_mono ();
    zlistx_t *due = zlistx_new ();
    s_conn_t *conn = (s_conn_t *) zhashx_first (self->conns);
    while (conn) {
        if ((conn->connecting && now - conn->dialled > S_CONNECT_MSECS)
        ||  (conn->post && conn->shut_at))
            zlistx_add_end (due, conn);
        conn = (s_conn_t *) zhashx_next (self->conns);
    }
    while ((conn = (s_conn_t *) zlistx_first (due))) {
        zlistx_delete (due, NULL);
        if (conn->connecting) {
            zc_debug ("%s: dialling %s timed out", self->name, conn->address);
            s_backoff_t *backoff = (s_backoff_t *) zhashx_lookup (self->unreachable, conn->address);
            if (!backoff) {
                backoff = (s_backoff_t *) zmalloc (sizeof (s_backoff_t));
                backoff->pause = 1000;
                zhashx_insert (self->unreachable, conn->address, backoff);
            }
            backoff->until = now + backoff->pause;
            backoff->pause = backoff->pause * 2 > S_BACKOFF_MAX? S_BACKOFF_MAX: backoff->pause * 2;
            s_conn_close (self, conn);
        }
        else
            s_conn_post_progress (self, conn);
    }
    zlistx_destroy (&due);
    if (self->listen_fd >= 0 && !self->listen_watched && now >= self->accept_paused) {
        struct epoll_event event = { .events = EPOLLIN, .data.u64 = 0 };
        epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, self->listen_fd, &event);
        self->listen_watched = true;
    }
}

//  Waits on the epoll set of every socket, ours and ZeroMQ's.
static void
s_self_run (self_t *self)
{
    struct epoll_event events [256];
    int64_t next_sweep = zclock_mono () + 100;
    //  Input of the ZeroMQ sockets to look at: all of them at first
    bool pipe_ready = true, link_ready = true, answers_ready = true;
    while (!self->terminated) {
        int wait = 0;
        if (!pipe_ready && !link_ready && !answers_ready && !self->link_touched) {
            int64_t until = next_sweep - zclock_mono ();
            wait = until > 0? (int) until: 0;
        }
        int count = epoll_wait (self->epoll_fd, events, 256, wait);
        if (count < 0 && errno != EINTR)
            break;
        //  Sockets first, so the ids the link names below are current; a
        //  connection closed earlier in the batch is simply not found
        for (int i = 0; i < count; i++) {
            uint64_t data = events [i].data.u64;
            if (data == S_EVENT_PIPE)
                pipe_ready = true;
            else
            if (data == S_EVENT_LINK)
                link_ready = true;
            else
            if (data == S_EVENT_ANSWERS)
                answers_ready = true;
            else
            if (data == 0)
                s_accept (self);
            else {
                s_conn_t *conn = s_conn_lookup (self, (uint32_t) data);
                if (conn)
                    s_conn_ready (self, conn, events [i].events);
            }
        }
        for (int i = 0; i < count; i++) {
            uint64_t data = events [i].data.u64;
            s_conn_t *conn = data && data < S_EVENT_PIPE? s_conn_lookup (self, (uint32_t) data): NULL;
            if (conn)
                s_conn_settle (self, conn);
        }
        //  Each ZeroMQ socket's input is read until it says it is empty,
        //  after anything we sent on it: only then does its ZMQ_FD wake us
        //  for what comes next
        if (pipe_ready) {
            while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
                s_self_handle_pipe (self);
            pipe_ready = false;
        }
        if (self->terminated)
            break;
        //  Answers from the listener and the validator
        if (answers_ready) {
            while (zsock_events (self->answers) & ZMQ_POLLIN)
                s_self_handle_link (self, self->answers);
            answers_ready = false;
        }
        if (link_ready || self->link_touched) {
            self->link_touched = false;
            while (zsock_events (self->link) & ZMQ_POLLIN)
                s_self_handle_link (self, self->link);
            //  (its last look came after any DOWN sent while reading)
            self->link_touched = false;
            link_ready = false;
        }
        if (zclock_mono () >= next_sweep) {
            s_sweep (self);
            next_sweep = zclock_mono () + 100;
        }
    }
}

void
zc_bridge_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const char *) args);
    zsock_signal (pipe, 0);
    s_self_run (self);
    s_self_destroy (&self);
}

//  Gives the bridge its quick answers (its QUICK command).
void
zc_bridge_set_quick (zactor_t *bridge, zc_bridge_quick_fn *quick, void *arg)
{
    s_pipe_t command = { .id = S_PIPE_QUICK, .quick = quick, .quick_arg = arg };
    if (zc_typed_send (bridge, &command, sizeof command, NULL, 0, NULL, 0, false) == 0)
        zsock_wait (bridge);
}

//  Opens a bridge's port (its BIND command); -1 with the reason logged.
//  What a role does last, once everything behind the bridge is ready.
int
zc_bridge_bind (zactor_t *bridge, const char *name, const char *host, int port,
                size_t max_message)
{
    s_pipe_t command = { .id = S_PIPE_BIND, .port = port, .max_message = max_message };
    const char *strings [] = { host };
    if (zc_typed_send (bridge, &command, sizeof command, strings, 1, NULL, 0, false) != 0
    ||  zsock_wait (bridge) != 0) {
        zc_log_error ("%s: cannot start: %s:%d is not available", name, host, port);
        return -1;
    }
    return 0;
}
