/*  fuzz_link.h - drives an actor's message handler without the actor

    The listener, gateway and server handlers speak to their bridge (and
    the listener to its validator) over inproc PAIRs.  Here the far ends
    are the fuzzer's: it binds the bridge's endpoint, connects to the
    validator's, calls the handler with one message and reads back what
    the handler sent, checking each answer.  */

#ifndef FUZZ_LINK_H_INCLUDED
#define FUZZ_LINK_H_INCLUDED

#include "fuzz.h"
#include "../src/actors/zc_actors.h"

//  What one message led to
typedef struct {
    int answers;                //  REPLY, DONE or CLOSE for the connection
    int replies;                //  of which with a body
    int forwarded;              //  requests passed on with the connection
    char first [64];            //  "type" (or "status") of the first reply
    size_t first_size;          //  bytes of the first reply
} fuzz_outcome_t;

static inline zsock_t *
fuzz_link_bind (const char *role, const char *name)
{
    zsock_t *sock = zsock_new (ZMQ_PAIR);
    zsock_set_rcvtimeo (sock, 0);
    zsock_set_sndhwm (sock, 0);
    zsock_set_rcvhwm (sock, 0);
    char *endpoint = zc_endpoint (role, name);
    int rc = zsock_bind (sock, "%s", endpoint);
    FUZZ_ASSERT (rc == 0, "cannot bind %s", endpoint);
    free (endpoint);
    return sock;
}

static inline zsock_t *
fuzz_link_connect (const char *role, const char *name)
{
    zsock_t *sock = zsock_new (ZMQ_PAIR);
    zsock_set_rcvtimeo (sock, 0);
    zsock_set_sndhwm (sock, 0);
    zsock_set_rcvhwm (sock, 0);
    char *endpoint = zc_endpoint (role, name);
    int rc = zsock_connect (sock, "%s", endpoint);
    FUZZ_ASSERT (rc == 0, "cannot connect %s", endpoint);
    free (endpoint);
    return sock;
}

//  Reads everything the handler sent the bridge: every body it would put
//  on the wire must be strict JSON.
static inline void
fuzz_drain_bridge (zsock_t *bridge, uint32_t conn, fuzz_outcome_t *outcome)
{
    zc_link_msg_t *msg;
    bool malformed = false;
    while ((msg = zc_link_recv (bridge, &malformed))) {
        zc_link_msg_id_t id = zc_link_msg_id (msg);
        const char *command = zc_link_msg_name (id);
        size_t size = zc_link_msg_size (msg);
        const char *data = zc_link_msg_data (msg);
        if (id == ZC_LINK_REPLY || id == ZC_LINK_CLOSE || id == ZC_LINK_DONE) {
            if (zc_link_msg_conn (msg) == conn)
                outcome->answers++;
            if (id != ZC_LINK_DONE) {
                FUZZ_ASSERT (size > 0, "%s with an empty body: the client gets nothing", command);
                fuzz_assert_sendable (data, size, "reply");
                if (outcome->replies++ == 0) {
                    cJSON *reply = zc_json_parse (data, size);
                    const cJSON *type = cJSON_GetObjectItemCaseSensitive (reply, "type");
                    if (!cJSON_IsString (type))
                        type = cJSON_GetObjectItemCaseSensitive (reply, "status");
                    snprintf (outcome->first, sizeof outcome->first, "%s",
                              cJSON_IsString (type)? type->valuestring: "?");
                    outcome->first_size = size;
                    cJSON_Delete (reply);
                }
            }
        }
        else
        if (id == ZC_LINK_SEND || id == ZC_LINK_POST) {
            FUZZ_ASSERT (size > 0, "%s with an empty body", command);
            fuzz_assert_sendable (data, size, "message to a peer");
        }
        else
            FUZZ_ASSERT (false, "%s from a handler", command);
        zc_link_msg_destroy (&msg);
    }
    FUZZ_ASSERT (!malformed, "bad link message");
}

#endif
