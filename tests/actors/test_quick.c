/*  =========================================================================
    test_quick.c - the gateway's bridge answers health on its own thread
    (issue 11)

    A real bridge with the gateway's quick answers and nothing behind its
    link: an allowed client's health is answered, so no other thread was
    needed; a client outside gateway/allow, or health in another form, is
    handed on to the link unanswered, where the gateway decides.
    =========================================================================
*/

#include "../testutil.h"
#include "../../src/actors/zc_actors.h"
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

//  A loopback port nothing listens on now.
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ck_assert_int_eq (bind (fd, (struct sockaddr *) &address, sizeof address), 0);
    ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &address, &size), 0);
    close (fd);
    return ntohs (address.sin_port);
}

typedef struct {
    zc_service_config_t config;
    char *allow [1];
    zactor_t *bridge;
    zsock_t *link;              //  where the gateway would be
    char address [32];
} s_gateway_t;

static void
s_start (s_gateway_t *self, const char *name, const char *allow)
{
    memset (self, 0, sizeof *self);
    self->allow [0] = (char *) allow;
    self->config.name = (char *) name;
    self->config.allow = self->allow;
    self->config.allow_count = 1;
    self->bridge = zactor_new (zc_bridge_actor, (void *) name);
    zc_bridge_set_quick (self->bridge, zc_gateway_quick, &self->config);
    char *endpoint = zc_endpoint ("bridge", name);
    self->link = zsock_new (ZMQ_PAIR);
    ck_assert_int_eq (zsock_connect (self->link, "%s", endpoint), 0);
    free (endpoint);
    zsock_set_rcvtimeo (self->link, 10000);
    int port = s_free_port ();
    ck_assert_int_eq (zc_bridge_bind (self->bridge, name, "127.0.0.1", port, 65536), 0);
    snprintf (self->address, sizeof self->address, "127.0.0.1:%d", port);
}

static void
s_stop (s_gateway_t *self)
{
    zsock_destroy (&self->link);
    zactor_destroy (&self->bridge);
}

//  Expects the request to reach the link as MSG with these bytes.
static void
s_expect_handed_on (s_gateway_t *self, const char *request)
{
    bool malformed = true;
    zc_link_msg_t *msg = zc_link_recv (self->link, &malformed);
    ck_assert (!malformed);
    ck_assert_ptr_nonnull (msg);
    ck_assert_int_eq (zc_link_msg_id (msg), ZC_LINK_MSG);
    ck_assert_uint_eq (zc_link_msg_size (msg), strlen (request));
    ck_assert (memcmp (zc_link_msg_data (msg), request, strlen (request)) == 0);
    zc_link_msg_destroy (&msg);
}

START_TEST (test_health_answered_by_the_bridge)
{
    s_gateway_t gateway;
    s_start (&gateway, "quick-allowed", "127.0.0.0/8");
    zc_client_t *client = zc_client_new (gateway.address, ZC_FRAMING_LENGTH, NULL);
    ck_assert_ptr_nonnull (client);
    cJSON *health = cJSON_CreateObject ();
    cJSON_AddStringToObject (health, "action", "health");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq (zc_client_send (client, health), 0);
        cJSON *reply = zc_client_recv (client, 10000);
        ck_assert_ptr_nonnull (reply);
        ck_assert_str_eq (cJSON_GetObjectItem (reply, "status")->valuestring, "ok");
        ck_assert_str_eq (cJSON_GetObjectItem (reply, "service")->valuestring, "gateway_server");
        cJSON_Delete (reply);
    }
    cJSON_Delete (health);
    zc_client_destroy (&client);
    //  Health in another form is the gateway's to read
    client = zc_client_new (gateway.address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    const char *spaced = "{ \"action\": \"health\" }";
    ck_assert_int_eq (zc_client_send_raw (client, "{ \"action\": \"health\" }\n",
                                          strlen (spaced) + 1), 0);
    s_expect_handed_on (&gateway, spaced);
    zc_client_destroy (&client);
    s_stop (&gateway);
}
END_TEST

//  While the gateway says it is past capacity, its bridge refuses a
//  submission itself, at once; otherwise the submission is handed on.
START_TEST (test_busy_refused_by_the_bridge)
{
    s_gateway_t gateway;
    atomic_bool busy;
    atomic_init (&busy, true);
    s_start (&gateway, "quick-busy", "127.0.0.0/8");
    gateway.config.busy = &busy;
    const char *submit = "{\"action\":\"submit_transaction\",\"body\":{}}";
    char line [128];
    snprintf (line, sizeof line, "%s\n", submit);
    zc_client_t *client = zc_client_new (gateway.address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    ck_assert_int_eq (zc_client_send_raw (client, line, strlen (line)), 0);
    cJSON *reply = zc_client_recv (client, 10000);
    ck_assert_ptr_nonnull (reply);
    ck_assert_str_eq (cJSON_GetObjectItem (reply, "status")->valuestring, "error");
    ck_assert_str_eq (cJSON_GetObjectItem (reply, "message")->valuestring, ZC_BUSY_REASON);
    cJSON_Delete (reply);
    atomic_store (&busy, false);
    ck_assert_int_eq (zc_client_send_raw (client, line, strlen (line)), 0);
    s_expect_handed_on (&gateway, submit);
    zc_client_destroy (&client);
    s_stop (&gateway);
}
END_TEST

START_TEST (test_not_allowed_handed_on)
{
    s_gateway_t gateway;
    s_start (&gateway, "quick-refused", "10.0.0.0/8");
    zc_client_t *client = zc_client_new (gateway.address, ZC_FRAMING_LINE, NULL);
    ck_assert_ptr_nonnull (client);
    ck_assert_int_eq (zc_client_send_raw (client, "{\"action\":\"health\"}\n", 20), 0);
    s_expect_handed_on (&gateway, "{\"action\":\"health\"}");
    zc_client_destroy (&client);
    s_stop (&gateway);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("quick");
    TCase *tcase = tcase_create ("bridge");
    tcase_set_timeout (tcase, 60);
    tcase_add_test (tcase, test_health_answered_by_the_bridge);
    tcase_add_test (tcase, test_busy_refused_by_the_bridge);
    tcase_add_test (tcase, test_not_allowed_handed_on);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
