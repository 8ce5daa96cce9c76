/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_load.c - system tests of zchain-load, the real program

    Runs ZCHAIN_LOAD: once against a real deployment (two nodes at
    difficulty 1, a gateway, and zchain-load itself as the server that
    takes block confirmations), and against bad flags, a port nothing
    listens on, and a peer that never answers, which must all end quickly
    with a message and a non-zero exit.  zc_report's arithmetic has its own
    unit tests (tests/unit/test_report.c).
    =========================================================================
*/

#include "../harness.h"

#define S_START_MS      20000       //  the deployment must answer within this
#define S_RUN_MS        60000       //  a load run must finish within this
#define S_FAIL_FAST_MS  5000        //  an unreachable target fails within this

//  ---------------------------------------------------------------------
//  Integration tests: the program

//  Runs zchain-load with args (NULL-terminated), output to files in the
//  test folder; returns its waitpid status, *elapsed_p how long it took.
static int
s_load (const char **args, int64_t *elapsed_p)
{
    const char *argv [64];
    size_t argc = 0;
    argv [argc++] = harness_program ("ZCHAIN_LOAD");
    while (*args && argc < 63)
        argv [argc++] = *args++;
    argv [argc] = NULL;
    char *out = harness_path ("load.out");
    char *err = harness_path ("load.err");
    unlink (out);
    unlink (err);
    int64_t start = harness_now_ms ();
    int status = harness_run ((char *const *) argv, out, err, S_RUN_MS);
    if (elapsed_p)
        *elapsed_p = harness_now_ms () - start;
    free (out);
    free (err);
    return status;
}

//  What zchain-load wrote to stderr in the last s_load.  Caller frees.
static char *
s_load_stderr (void)
{
    char *path = harness_path ("load.err");
    char *text = harness_read_file (path);
    free (path);
    return text? text: strdup ("");
}

//  True if the gateway at address answers health.
static bool
s_gateway_up (const char *address)
{
    cJSON *reply = harness_request (address, ZC_FRAMING_LENGTH, "{\"action\":\"health\"}", 2000);
    const char *status = harness_string (reply, "status");
    bool up = status && streq (status, "ok");
    cJSON_Delete (reply);
    return up;
}

//  One short real run: two nodes and a gateway whose server is
//  zchain-load's --notify-listen; mixed requests, every one answered,
//  and confirmations matched to submissions.
START_TEST (test_real_run)
{
    harness_node_t nodes [2];
    harness_nodes_init (nodes, 2);
    char gateway [32], notify [32];
    snprintf (gateway, sizeof gateway, "127.0.0.1:%d", harness_free_port ());
    snprintf (notify, sizeof notify, "127.0.0.1:%d", harness_free_port ());
    char *config = harness_config_write ("zchain.conf", nodes, 2, "difficulty = 1\nminers = 1\n");
    char *gateway_data = harness_path ("gateway");
    char *server_data = harness_path ("server");
    FILE *file = fopen (config, "a");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "gateway\n    host = 127.0.0.1\n    port = %s\n    data = %s\n"
             "server\n    host = 127.0.0.1\n    port = %s\n    data = %s\n",
             strchr (gateway, ':') + 1, gateway_data, strchr (notify, ':') + 1, server_data);
    ck_assert_int_eq (fclose (file), 0);

    //  The nodes and the gateway, not the server: zchain-load is the server
    const char *names [] = { "n1", "n2", "gateway" };
    pid_t pid = harness_zchaind_start (config, "zchaind.log", names, 3);
    for (size_t i = 0; i < 2; i++) {
        nodes [i].pid = pid;
        harness_node_wait_ready (&nodes [i], S_START_MS);
    }
    HARNESS_AWAIT (s_gateway_up (gateway), S_START_MS,
                   "gateway %s did not answer health within %d ms", gateway, S_START_MS);

    char *json_path = harness_path ("load.json");
    char *html_path = harness_path ("load.html");
    const char *args [] = { "-a", gateway, "--clients", "20", "--count", "100",
        "--rate", "100", "--mix", "health=1,submit_transaction=2,submit_purchase=1",
        "--notify-listen", notify, "--json", json_path, "--html", html_path,
        "--grace", "30", NULL };
    int64_t elapsed = 0;
    int status = s_load (args, &elapsed);
    char *err = s_load_stderr ();
    char text [64];
    ck_assert_msg (harness_exited_with (status, 0), "zchain-load: %s\n%s",
                   harness_status_text (status, text, sizeof text), err);
    free (err);

    char *report_text = harness_read_file (json_path);
    ck_assert_msg (report_text, "zchain-load wrote no %s", json_path);
    cJSON *report = cJSON_Parse (report_text);
    ck_assert_msg (report, "the report is not JSON: %s", report_text);
    const cJSON *total = cJSON_GetObjectItem (report, "total");
    double sent = harness_number (total, "sent");
    double skipped = harness_number (total, "skipped");
    ck_assert_msg (sent > 0 && sent + skipped == 100, "sent %g, skipped %g", sent, skipped);
    ck_assert_msg (harness_number (total, "succeeded") == sent, "not every request "
                   "succeeded: %s", report_text);
    ck_assert_msg (harness_number (total, "failed") == 0, "failures: %s", report_text);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (report, "failures")), 0);
    ck_assert_int_eq (cJSON_GetArraySize (cJSON_GetObjectItem (report, "actions")), 3);
    ck_assert_msg (harness_number (total, "confirmed_first") > 0,
                   "no confirmation was observed: %s", report_text);
    const cJSON *confirm = cJSON_GetObjectItem (total, "confirm_first_ms");
    ck_assert_msg (harness_number (confirm, "p50") > 0, "no confirmation latency");
    ck_assert (harness_number (cJSON_GetObjectItem (total, "latency_ms"), "p99_9") > 0);
    //  The target is on this host: the report has the CPU and RSS of the
    //  zchaind running the deployment, sampled each bucket
    const cJSON *resources = cJSON_GetObjectItem (report, "resources");
    ck_assert_msg (resources, "no resources in the report: %s", report_text);
    ck_assert_msg (strstr (harness_string (resources, "source"), "/proc"), "source: %s",
                   harness_string (resources, "source"));
    char process [32];
    snprintf (process, sizeof process, "zchaind[%d]", (int) pid);
    bool cpu = false, rss = false;
    const cJSON *monitor;
    cJSON_ArrayForEach (monitor, cJSON_GetObjectItem (resources, "monitors")) {
        if (!streq (harness_string (monitor, "name"), process))
            continue;
        if (streq (harness_string (monitor, "metric"), "CPU"))
            cpu = harness_number (monitor, "count") >= 1 && harness_number (monitor, "max") >= 0;
        if (streq (harness_string (monitor, "metric"), "RSS"))
            rss = harness_number (monitor, "count") >= 2 && harness_number (monitor, "mean") > 1;
    }
    ck_assert_msg (cpu && rss, "no CPU or RSS series for %s: %s", process,
                   cJSON_PrintUnformatted (resources));
    cJSON_Delete (report);
    free (report_text);
    char *html = harness_read_file (html_path);
    ck_assert_msg (html && strstr (html, "<svg"), "no chart in the HTML report");
    ck_assert_msg (strstr (html, "id=\"resources\""), "no resource section in the HTML report");
    free (html);

    free (json_path);
    free (html_path);
    free (gateway_data);
    free (server_data);
    free (config);
    harness_nodes_free (nodes, 2);
}
END_TEST

//  Bad flags: a message and exit status 2, at once.
START_TEST (test_bad_flags)
{
    const char *cases [][6] = {
        { "-a", "127.0.0.1:1", "--bogus", NULL },
        { "--count", "10", NULL },
        { "-a", "127.0.0.1:1", "--clients", "0", NULL },
        { "-a", "127.0.0.1:1", "--rate", "fast", NULL },
        { "-a", "127.0.0.1:1", "--mix", "health=1,nothing=2", NULL },
        { "-a", "127.0.0.1:1", "--count", "5", "--duration", NULL },
        { "-a", "127.0.0.1:1", "--clients", NULL } };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int64_t elapsed = 0;
        int status = s_load (cases [i], &elapsed);
        char *err = s_load_stderr ();
        char text [64];
        ck_assert_msg (harness_exited_with (status, 2), "case %zu: %s", i,
                       harness_status_text (status, text, sizeof text));
        ck_assert_msg (strstr (err, "zchain-load: "), "case %zu: no message: '%s'", i, err);
        free (err);
    }
    const char *help [] = { "--help", NULL };
    ck_assert (harness_exited_with (s_load (help, NULL), 0));
}
END_TEST

//  A port nothing listens on: a message naming it, non-zero, quickly.
START_TEST (test_unreachable)
{
    char target [32];
    snprintf (target, sizeof target, "127.0.0.1:%d", harness_free_port ());
    const char *args [] = { "-a", target, "--count", "10", NULL };
    int64_t elapsed = 0;
    int status = s_load (args, &elapsed);
    char *err = s_load_stderr ();
    ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) != 0,
                   "an unreachable target must fail: %s", err);
    ck_assert_msg (strstr (err, "cannot connect") && strstr (err, target),
                   "no clear message: '%s'", err);
    ck_assert_msg (elapsed < S_FAIL_FAST_MS, "took %" PRId64 " ms", elapsed);
    free (err);
}
END_TEST

//  A peer that accepts connections but never answers: open-loop sends
//  find both clients busy and are skipped, the two sent time out, and the
//  run still ends by its deadline with a non-zero exit.
START_TEST (test_silent_peer)
{
    int port = 0;
    int fd = harness_occupy_port (&port);
    char target [32];
    snprintf (target, sizeof target, "127.0.0.1:%d", port);
    char *json_path = harness_path ("silent.json");
    const char *args [] = { "-a", target, "--clients", "2", "--rate", "1000", "--count",
        "50", "--timeout", "0.5", "--grace", "2", "--mix", "health", "--json", json_path,
        NULL };
    int64_t elapsed = 0;
    int status = s_load (args, &elapsed);
    close (fd);
    char text [64];
    ck_assert_msg (harness_exited_with (status, 1), "%s",
                   harness_status_text (status, text, sizeof text));
    ck_assert_msg (elapsed < S_FAIL_FAST_MS, "took %" PRId64 " ms", elapsed);
    char *report_text = harness_read_file (json_path);
    ck_assert_ptr_nonnull (report_text);
    cJSON *report = cJSON_Parse (report_text);
    ck_assert_ptr_nonnull (report);
    const cJSON *total = cJSON_GetObjectItem (report, "total");
    ck_assert_msg (harness_number (total, "sent") == 2, "%s", report_text);
    ck_assert_msg (harness_number (total, "skipped") == 48, "%s", report_text);
    ck_assert_msg (harness_number (cJSON_GetObjectItem (report, "failures"),
                                   "reply timed out") == 2, "%s", report_text);
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (report, "rate_kept")));
    cJSON_Delete (report);
    free (report_text);
    free (json_path);
}
END_TEST

//  --monitor status: the nodes' get_status figures each bucket, asked by
//  zchain-load's poller thread (the way a target on another host is
//  watched), in the report's resource section.
START_TEST (test_monitor_status)
{
    harness_node_t node;
    harness_nodes_init (&node, 1);
    char *config = harness_config_write ("zchain.conf", &node, 1, "difficulty = 1\nminers = 1\n");
    node.pid = harness_zchaind_start (config, "zchaind.log", NULL, 0);
    harness_node_wait_ready (&node, S_START_MS);
    char *json_path = harness_path ("status.json");
    const char *args [] = { "--nodes", "-a", node.address, "--count", "30", "--rate", "30",
        "--mix", "health=1,submit_transaction=1", "--bucket", "0.2", "--monitor", "status",
        "--json", json_path, NULL };
    int status = s_load (args, NULL);
    char *err = s_load_stderr ();
    ck_assert_msg (harness_exited_with (status, 0), "zchain-load: %s", err);
    free (err);
    char *text = harness_read_file (json_path);
    ck_assert_ptr_nonnull (text);
    cJSON *report = cJSON_Parse (text);
    const cJSON *resources = cJSON_GetObjectItem (report, "resources");
    ck_assert_msg (resources, "no resources: %s", text);
    ck_assert_msg (strstr (harness_string (resources, "source"), "get_status"), "source: %s",
                   harness_string (resources, "source"));
    char name [64];
    snprintf (name, sizeof name, "node %s", node.address);
    bool height = false, mempool = false;
    const cJSON *monitor;
    cJSON_ArrayForEach (monitor, cJSON_GetObjectItem (resources, "monitors")) {
        ck_assert_str_eq (harness_string (monitor, "name"), name);
        if (streq (harness_string (monitor, "metric"), "height"))
            height = harness_number (monitor, "count") >= 1 && harness_number (monitor, "max") >= 0;
        if (streq (harness_string (monitor, "metric"), "mempool"))
            mempool = harness_number (monitor, "count") >= 1;
    }
    ck_assert_msg (height && mempool, "no height or mempool series: %s", text);
    cJSON_Delete (report);
    free (text);
    //  --monitor status without --nodes is bad usage
    const char *bad [] = { "-a", node.address, "--monitor", "status", NULL };
    ck_assert (harness_exited_with (s_load (bad, NULL), 2));
    free (json_path);
    free (config);
    harness_nodes_free (&node, 1);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("load");

    //  The program's tests start processes: one case each, with the
    //  harness's cleanup
    tcase_add_test (harness_tcase (suite, "real_run", 90), test_real_run);
    tcase_add_test (harness_tcase (suite, "bad_flags", 90), test_bad_flags);
    tcase_add_test (harness_tcase (suite, "unreachable", 90), test_unreachable);
    tcase_add_test (harness_tcase (suite, "silent_peer", 90), test_silent_peer);
    tcase_add_test (harness_tcase (suite, "monitor_status", 60), test_monitor_status);
    return testutil_run (suite);
}
