/*  =========================================================================
    zc_msg - the typed commands between a node's listener and validator

    One send function per command, and one receive for them all, shared by
    sender and receiver (as zyre's zre_msg): no actor lays out or parses
    these frames by hand.  They travel only over inproc sockets inside one
    process, so numbers and object pointers go in their native form.

    Every message is two or more frames:
        [header]    s_header_t: command id, conn, two integers, an object
        [text]...   zero to two strings, by command
        [body]      BROADCAST: the bytes to send; HELD: the ids

    Commands (listener -> validator unless said):
        TX conn address tx              zc_tx_t * (ownership passes); answer
                                        due unless conn is 0 (relayed)
        BLOCK conn address peer block   zc_block_t * (ownership passes);
                                        answer due unless conn is 0
        SYNCED address count next       a "blocks" batch from address passed
        PEER_STATUS address height tip  a peer's status reply
        STATUS conn peers               get_status; answer due
        GET_BLOCKS conn from limit      get_blocks; answer due
        BROADCAST body                  validator -> listener: to every peer
        LOAD taken waiting              validator -> listener: TX commands
                                        handled so far, transactions waiting
                                        in the mempool (the listener's
                                        measure of capacity: busy refusal)
        HELD ids                        validator -> listener: ids (64 hex
                                        each, back to back) of transactions
                                        and blocks now held validly
    Answers (REPLY, DONE, CLOSE, SEND) go from the validator straight to
    its bridge through zc_link, not through the listener.

    Invariant: a message received is whole and of the right shape, or
    zc_msg_recv says it was malformed (a bug: only our own code sends
    these); an object it carried is then destroyed, never leaked.
    =========================================================================
*/

#include "zc_actors.h"

//  The fixed part of every command
typedef struct {
    uint8_t id;                 //  zc_msg_id_t
    uint32_t conn;              //  connection to answer, or 0
    int64_t first;              //  count / height / from / peers
    int64_t second;             //  next / limit
    void *object;               //  zc_tx_t * or zc_block_t *, or NULL
} s_header_t;

struct _zc_msg_t {
    s_header_t header;
    char *address;              //  TX, BLOCK, SYNCED, PEER_STATUS
    char *text;                 //  BLOCK: peer; PEER_STATUS: tip
    zframe_t *body;             //  BROADCAST
};

//  How many strings each command carries, and whether a body follows
static int
s_strings (int id)
{
    switch (id) {
        case ZC_MSG_TX:             return 1;
        case ZC_MSG_BLOCK:          return 2;
        case ZC_MSG_SYNCED:         return 1;
        case ZC_MSG_PEER_STATUS:    return 2;
        case ZC_MSG_STATUS:         return 0;
        case ZC_MSG_GET_BLOCKS:     return 0;
        case ZC_MSG_BROADCAST:      return 0;
        case ZC_MSG_HELD:           return 0;
        case ZC_MSG_LOAD:           return 0;
        default:                    return -1;
    }
}

static bool
s_has_body (int id)
{
    return id == ZC_MSG_BROADCAST || id == ZC_MSG_HELD;
}

//  Sends header, strings (NULL ends them) and an optional body.  The
//  message is dropped only if the peer is gone (shutdown): -1.
static int
s_send (zsock_t *dest, s_header_t *header, const char *first, const char *second,
        const void *body, size_t size, bool with_body)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, header, sizeof *header);
    if (first)
        zmsg_addmem (msg, first, strlen (first));
    if (second)
        zmsg_addmem (msg, second, strlen (second));
    if (with_body)
        zmsg_addmem (msg, body, size);
    int rc = zmsg_send (&msg, dest);
    zmsg_destroy (&msg);
    return rc;
}

int
zc_msg_send_tx (zsock_t *dest, uint32_t conn, const char *address, zc_tx_t *tx)
{
    s_header_t header = { .id = ZC_MSG_TX, .conn = conn, .object = tx };
    int rc = s_send (dest, &header, address, NULL, NULL, 0, false);
    if (rc != 0)
        zc_tx_destroy (&tx);
    return rc;
}

int
zc_msg_send_block (zsock_t *dest, uint32_t conn, const char *address, const char *peer,
                   zc_block_t *block)
{
    s_header_t header = { .id = ZC_MSG_BLOCK, .conn = conn, .object = block };
    int rc = s_send (dest, &header, address, peer, NULL, 0, false);
    if (rc != 0)
        zc_block_destroy (&block);
    return rc;
}

int
zc_msg_send_synced (zsock_t *dest, const char *address, int64_t count, int64_t next)
{
    s_header_t header = { .id = ZC_MSG_SYNCED, .first = count, .second = next };
    return s_send (dest, &header, address, NULL, NULL, 0, false);
}

int
zc_msg_send_peer_status (zsock_t *dest, const char *address, int64_t height, const char *tip)
{
    s_header_t header = { .id = ZC_MSG_PEER_STATUS, .first = height };
    return s_send (dest, &header, address, tip, NULL, 0, false);
}

int
zc_msg_send_status (zsock_t *dest, uint32_t conn, uint32_t peers)
{
    s_header_t header = { .id = ZC_MSG_STATUS, .conn = conn, .first = peers };
    return s_send (dest, &header, NULL, NULL, NULL, 0, false);
}

int
zc_msg_send_get_blocks (zsock_t *dest, uint32_t conn, int64_t from, int64_t limit)
{
    s_header_t header = { .id = ZC_MSG_GET_BLOCKS, .conn = conn, .first = from,
                          .second = limit };
    return s_send (dest, &header, NULL, NULL, NULL, 0, false);
}

int
zc_msg_send_broadcast (zsock_t *dest, const void *body, size_t size)
{
    s_header_t header = { .id = ZC_MSG_BROADCAST };
    return s_send (dest, &header, NULL, NULL, body, size, true);
}

int
zc_msg_send_held (zsock_t *dest, const char *ids, size_t count)
{
    s_header_t header = { .id = ZC_MSG_HELD, .first = (int64_t) count };
    return s_send (dest, &header, NULL, NULL, ids, count * ZC_HASH_HEX, true);
}

int
zc_msg_send_load (zsock_t *dest, int64_t taken, int64_t waiting)
{
    s_header_t header = { .id = ZC_MSG_LOAD, .first = taken, .second = waiting };
    return s_send (dest, &header, NULL, NULL, NULL, 0, false);
}

int64_t
zc_msg_taken (zc_msg_t *self)
{
    return self->header.first;
}

int64_t
zc_msg_waiting (zc_msg_t *self)
{
    return self->header.second;
}

size_t
zc_msg_held_count (zc_msg_t *self)
{
    return self->header.id == ZC_MSG_HELD && self->body?
           zframe_size (self->body) / ZC_HASH_HEX: 0;
}

//  Copies the index-th id of a HELD message into id (ZC_HASH_HEX + 1).
void
zc_msg_held_id (zc_msg_t *self, size_t index, char *id)
{
    *id = 0;
    if (index < zc_msg_held_count (self)) {
        memcpy (id, zframe_data (self->body) + index * ZC_HASH_HEX, ZC_HASH_HEX);
        id [ZC_HASH_HEX] = 0;
    }
}

//  Destroys the object a header carries, if any.
static void
s_drop_object (s_header_t *header)
{
    if (header->id == ZC_MSG_TX && header->object) {
        zc_tx_t *tx = (zc_tx_t *) header->object;
        zc_tx_destroy (&tx);
    }
    else
    if (header->id == ZC_MSG_BLOCK && header->object) {
        zc_block_t *block = (zc_block_t *) header->object;
        zc_block_destroy (&block);
    }
    header->object = NULL;
}

zc_msg_t *
zc_msg_recv (zsock_t *source, bool *malformed_p)
{
    *malformed_p = false;
    zmsg_t *msg = zmsg_recv (source);
    if (!msg)
        return NULL;
    zc_msg_t *self = (zc_msg_t *) zmalloc (sizeof (zc_msg_t));
    zframe_t *frame = zmsg_pop (msg);
    bool whole = frame && zframe_size (frame) == sizeof (s_header_t);
    if (whole)
        memcpy (&self->header, zframe_data (frame), sizeof (s_header_t));
    zframe_destroy (&frame);
    int strings = whole? s_strings (self->header.id): -1;
    size_t expected = strings < 0? 0:
                      (size_t) strings + (s_has_body (self->header.id)? 1: 0);
    if (strings < 0 || zmsg_size (msg) != expected)
        whole = false;
    if (whole && strings >= 1)
        self->address = zmsg_popstr (msg);
    if (whole && strings >= 2)
        self->text = zmsg_popstr (msg);
    if (whole && s_has_body (self->header.id))
        self->body = zmsg_pop (msg);
    //  HELD holds whole ids only
    if (whole && self->header.id == ZC_MSG_HELD
    &&  zframe_size (self->body) % ZC_HASH_HEX != 0)
        whole = false;
    zmsg_destroy (&msg);
    if (!whole) {
        if (strings >= 0)
            s_drop_object (&self->header);
        *malformed_p = true;
        zc_msg_destroy (&self);
    }
    return self;
}

void
zc_msg_destroy (zc_msg_t **self_p)
{
    if (*self_p) {
        zc_msg_t *self = *self_p;
        s_drop_object (&self->header);
        free (self->address);
        free (self->text);
        zframe_destroy (&self->body);
        free (self);
        *self_p = NULL;
    }
}

zc_msg_id_t
zc_msg_id (zc_msg_t *self)
{
    return (zc_msg_id_t) self->header.id;
}

uint32_t
zc_msg_conn (zc_msg_t *self)
{
    return self->header.conn;
}

const char *
zc_msg_address (zc_msg_t *self)
{
    return self->address? self->address: "";
}

const char *
zc_msg_peer (zc_msg_t *self)
{
    return self->header.id == ZC_MSG_BLOCK && self->text? self->text: "";
}

const char *
zc_msg_tip (zc_msg_t *self)
{
    return self->header.id == ZC_MSG_PEER_STATUS && self->text? self->text: "";
}

int64_t
zc_msg_count (zc_msg_t *self)
{
    return self->header.first;
}

int64_t
zc_msg_next (zc_msg_t *self)
{
    return self->header.second;
}

int64_t
zc_msg_height (zc_msg_t *self)
{
    return self->header.first;
}

int64_t
zc_msg_from (zc_msg_t *self)
{
    return self->header.first;
}

int64_t
zc_msg_limit (zc_msg_t *self)
{
    return self->header.second;
}

uint32_t
zc_msg_peers (zc_msg_t *self)
{
    return (uint32_t) self->header.first;
}

zc_tx_t *
zc_msg_take_tx (zc_msg_t *self)
{
    zc_tx_t *tx = self->header.id == ZC_MSG_TX? (zc_tx_t *) self->header.object: NULL;
    if (tx)
        self->header.object = NULL;
    return tx;
}

zc_block_t *
zc_msg_take_block (zc_msg_t *self)
{
    zc_block_t *block = self->header.id == ZC_MSG_BLOCK?
                        (zc_block_t *) self->header.object: NULL;
    if (block)
        self->header.object = NULL;
    return block;
}

zframe_t *
zc_msg_body (zc_msg_t *self)
{
    return self->body;
}

const char *
zc_msg_name (zc_msg_id_t id)
{
    switch (id) {
        case ZC_MSG_TX:             return "TX";
        case ZC_MSG_BLOCK:          return "BLOCK";
        case ZC_MSG_SYNCED:         return "SYNCED";
        case ZC_MSG_PEER_STATUS:    return "PEER_STATUS";
        case ZC_MSG_STATUS:         return "STATUS";
        case ZC_MSG_GET_BLOCKS:     return "GET_BLOCKS";
        case ZC_MSG_BROADCAST:      return "BROADCAST";
        case ZC_MSG_HELD:           return "HELD";
        case ZC_MSG_LOAD:           return "LOAD";
        default:                    return "?";
    }
}
