/*  =========================================================================
    zc_sync - when to fetch blocks from which peer, and when not to mine

    The decisions of catching up with peers, kept apart from the sockets
    that carry them so unit tests can drive them with a clock of their own
    (the validator actor passes zclock_mono).  The validator tells this
    class what happened (a block without a parent, a batch of get_blocks
    offered, a peer's status, an invalid block) and does what it answers:
    ask a peer for blocks from an index, and mine or not.

    Invariants:
    - At most one get_blocks is outstanding per peer; another is asked
      only once it has been answered or ZC_SYNC_TIMEOUT has passed.
    - A peer that sent an invalid block is not synced from for
      ZC_SYNC_SHUN msecs, whatever it claims, so a bogus branch costs one
      batch, not an endless loop.
    - Mining is held while a peer known to be ahead is being fetched from,
      and never longer than ZC_SYNC_TIMEOUT after the last sign of
      progress: a peer that stops answering cannot stop us mining.
    - A node that starts holds mining until every peer it knows has told
      its status, or the start hold runs out: mining a chain a peer has
      already outgrown wastes the work, and waiting longer than needed
      delays every transaction sent meanwhile (issue 11: a fixed 2.5 s).
    - At most ZC_SYNC_PEERS peers are tracked; beyond that, news from a
      new peer is ignored (the status round reaches it later).
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>

//  Where we are in fetching blocks from one peer
typedef struct {
    int64_t from;               //  first index of the last request
    int64_t sent_at;            //  when it was sent (0: none outstanding)
    int64_t orphan_low;         //  lowest orphan index seen meanwhile, or -1
    int64_t shunned_until;      //  sent an invalid block: ignored till then
} s_peer_t;

struct _zc_sync_t {
    zhashx_t *peers;            //  address -> s_peer_t *
    int64_t hold_until;         //  no mining before then; 0 when not held
    size_t awaited;             //  start hold: statuses still to come, or 0
    zhashx_t *heard;            //  start hold: peers whose status came
};

zc_sync_t *
zc_sync_new (void)
{
    zc_sync_t *self = (zc_sync_t *) zmalloc (sizeof (zc_sync_t));
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, (zhashx_destructor_fn *) zstr_free);
    self->heard = zhashx_new ();
    return self;
}

void
zc_sync_destroy (zc_sync_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zc_sync_t *self = *self_p;
        zhashx_destroy (&self->peers);
        zhashx_destroy (&self->heard);
        free (self);
        *self_p = NULL;
    }
}

//  The state of a peer, made on first use; NULL past ZC_SYNC_PEERS.
static s_peer_t *
s_peer (zc_sync_t *self, const char *address)
{
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, address);
    if (!peer && zhashx_size (self->peers) < ZC_SYNC_PEERS) {
        peer = (s_peer_t *) zmalloc (sizeof (s_peer_t));
        peer->orphan_low = -1;
        zhashx_insert (self->peers, address, peer);
    }
    return peer;
}

//  True if the peer may be asked now: tracked, not shunned, and nothing
//  outstanding that is still within its time.
static bool
s_may_ask (s_peer_t *peer, int64_t now)
{
    return peer && now >= peer->shunned_until
        && !(peer->sent_at && now - peer->sent_at < ZC_SYNC_TIMEOUT);
}

//  Records a request from an index (at least 1) and returns the index.
static int64_t
s_ask (s_peer_t *peer, int64_t from, int64_t now)
{
    peer->from = from < 1? 1: from;
    peer->sent_at = now;
    peer->orphan_low = -1;
    return peer->from;
}

//  A block at index arrived from peer and its parent is unknown; height
//  is our chain's.  Returns the index to ask peer for blocks from, or 0.
//  While a request to that peer is out, only how deep the gap goes is
//  remembered, for when its answer is in.
int64_t
zc_sync_orphan (zc_sync_t *self, const char *peer_address, int64_t index,
                int64_t height, int64_t now)
{
    assert (self && peer_address);
    s_peer_t *peer = s_peer (self, peer_address);
    if (!peer || now < peer->shunned_until)
        return 0;
    if (!s_may_ask (peer, now)) {
        if (peer->orphan_low < 0 || index < peer->orphan_low)
            peer->orphan_low = index;
        return 0;
    }
    //  A few blocks below the lower of the two, so a short fork is met
    //  by its common ancestor in the same batch
    return s_ask (peer, (index < height + 1? index: height + 1) - ZC_SYNC_OVERLAP, now);
}

//  A batch from peer of count blocks has been offered to the chain;
//  next is the index after its last.  Returns the index to ask peer for
//  next, or 0 when this sync is done: deeper if the batch did not link
//  (an orphan at or below its start), on if it held any block.  Mining stays
//  held while it goes on, and is released when it is done.
int64_t
zc_sync_batch (zc_sync_t *self, const char *peer_address, int64_t count, int64_t next,
               int64_t now)
{
    assert (self && peer_address);
    s_peer_t *peer = s_peer (self, peer_address);
    if (!peer)
        return 0;
    peer->sent_at = 0;
    if (now < peer->shunned_until)
        return 0;                       //  its batch held an invalid block
    int64_t from = 0;
    if (peer->orphan_low >= 0 && peer->orphan_low <= peer->from && peer->from > 1)
        from = s_ask (peer, peer->from - ZC_SYNC_BATCH, now);
    else
    if (count > 0)
        //  A reply is cut by its byte budget as well as by the count
        //  asked: any block at all means there may be more
        from = s_ask (peer, next, now);
    self->hold_until = from? now + ZC_SYNC_TIMEOUT: 0;
    return from;
}

//  A peer reports its chain; ahead is true if it beats ours (longer, or
//  as long with a lower tip hash), height is ours.  Returns the index to
//  ask it for blocks from, or 0; when non-zero, mining is held.
int64_t
zc_sync_status (zc_sync_t *self, const char *peer_address, bool ahead, int64_t height,
                int64_t now)
{
    assert (self && peer_address);
    if (!ahead) {
        //  The last status a start hold awaits ends it
        if (self->awaited > 0 && zhashx_size (self->heard) < ZC_SYNC_PEERS) {
            zhashx_insert (self->heard, peer_address, (void *) 1);
            if (zhashx_size (self->heard) >= self->awaited) {
                self->awaited = 0;
                self->hold_until = now;
            }
        }
        return 0;
    }
    s_peer_t *peer = s_peer (self, peer_address);
    if (!s_may_ask (peer, now))
        return 0;
    self->awaited = 0;                  //  a sync hold now: its own end
    self->hold_until = now + ZC_SYNC_TIMEOUT;
    //  From our own height: at equal height that fetches the competing
    //  tip, and a peer on another branch is found by going deeper
    return s_ask (peer, height, now);
}

//  The peer sent an invalid block: ignore it for a while.
void
zc_sync_shun (zc_sync_t *self, const char *peer_address, int64_t now)
{
    assert (self && peer_address);
    s_peer_t *peer = s_peer (self, peer_address);
    if (peer)
        peer->shunned_until = now + ZC_SYNC_SHUN;
}

//  Holds mining until a time (a node that has just started waits for its
//  peers' status before it mines).
void
zc_sync_hold (zc_sync_t *self, int64_t until)
{
    assert (self);
    self->hold_until = until;
    self->awaited = 0;
}

//  Holds mining at start until a time, or until peers (how many) have all
//  told their status and none is ahead, whichever comes first.
void
zc_sync_hold_start (zc_sync_t *self, int64_t until, size_t peers)
{
    assert (self);
    self->hold_until = until;
    self->awaited = peers;
    zhashx_purge (self->heard);
}

//  When mining is held until, or 0 if it is not held.
int64_t
zc_sync_hold_until (zc_sync_t *self)
{
    assert (self);
    return self->hold_until;
}

//  True once, when a hold has run out by now; the hold is then over.
bool
zc_sync_hold_expired (zc_sync_t *self, int64_t now)
{
    assert (self);
    if (!self->hold_until || now < self->hold_until)
        return false;
    self->hold_until = 0;
    self->awaited = 0;
    return true;
}
