/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_report.c - unit tests of zc_report, zchain-load's statistics

    Feeds zc_report known events and checks the percentiles (empty, one
    sample, p99.9 of 1000), the counters and failure reasons, Caliper's
    rate arithmetic, the open-loop schedule with and without a ramp, and
    the JSON, CSV and HTML it writes.
    =========================================================================
*/

#include "../harness.h"
#include <math.h>
#include "../../tools/load/zc_report.h"

//  ---------------------------------------------------------------------
//  Unit tests of zc_report

//  Percentiles of nothing are -1; of one sample, that sample.
START_TEST (test_percentile_edges)
{
    zc_report_t *report = zc_report_new (0);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 50), -1);
    ck_assert_int_eq (zc_report_percentile (report, "health", ZC_REPORT_ACK, 99), -1);
    ck_assert_int_eq (zc_report_lag_percentile (report, 50), -1);
    zc_report_succeeded (report, "health", 1000, 1234);
    double percents [] = { 0, 50, 90, 99, 99.9, 100 };
    for (size_t i = 0; i < sizeof percents / sizeof percents [0]; i++)
        ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, percents [i]), 1234);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_CONFIRM_FIRST, 50), -1);
    zc_report_destroy (&report);
    ck_assert_ptr_null (report);
    zc_report_destroy (&report);            //  safe twice
}
END_TEST

//  Nearest rank over 1..1000 inserted out of order, split over actions.
START_TEST (test_percentile_thousand)
{
    zc_report_t *report = zc_report_new (0);
    for (int i = 0; i < 1000; i++) {
        int value = (i * 7919) % 1000 + 1;        //  a permutation of 1..1000
        zc_report_succeeded (report, value % 2? "odd": "even", i * 1000, value);
    }
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 0), 1);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 50), 500);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 90), 900);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 99), 990);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 99.9), 999);
    ck_assert_int_eq (zc_report_percentile (report, NULL, ZC_REPORT_ACK, 100), 1000);
    //  One action alone: the even numbers 2..1000
    ck_assert_int_eq (zc_report_percentile (report, "even", ZC_REPORT_ACK, 0), 2);
    ck_assert_int_eq (zc_report_percentile (report, "even", ZC_REPORT_ACK, 50), 500);
    ck_assert_int_eq (zc_report_percentile (report, "even", ZC_REPORT_ACK, 100), 1000);
    //  Ten samples: p50 is the 5th, p99 and p99.9 the 10th
    zc_report_t *small = zc_report_new (0);
    for (int value = 10; value >= 1; value--)
        zc_report_confirmed (small, "tx", 0, value * 1000, false);
    ck_assert_int_eq (zc_report_percentile (small, NULL, ZC_REPORT_CONFIRM_FIRST, 50), 5000);
    ck_assert_int_eq (zc_report_percentile (small, NULL, ZC_REPORT_CONFIRM_FIRST, 90), 9000);
    ck_assert_int_eq (zc_report_percentile (small, NULL, ZC_REPORT_CONFIRM_FIRST, 99.9), 10000);
    ck_assert_int_eq (zc_report_percentile (small, NULL, ZC_REPORT_CONFIRM_ALL, 50), -1);
    zc_report_destroy (&small);
    zc_report_destroy (&report);
}
END_TEST

//  Counters per action and in total, reasons, and bounds on reasons.
START_TEST (test_counters)
{
    zc_report_t *report = zc_report_new (0);
    for (int i = 0; i < 5; i++)
        zc_report_sent (report, "health", i, 0);
    for (int i = 0; i < 3; i++)
        zc_report_sent (report, "submit_transaction", i, 0);
    for (int i = 0; i < 4; i++)
        zc_report_succeeded (report, "health", 10, 5);
    zc_report_failed (report, "health", 10, "reply timed out");
    zc_report_failed (report, "submit_transaction", 10, "reply timed out");
    zc_report_failed (report, "submit_transaction", 10, "error: mempool is full");
    zc_report_skipped (report, "submit_transaction", 10, "all 2 clients busy");
    zc_report_confirmed (report, "submit_transaction", 20, 15, false);
    zc_report_confirmed (report, "submit_transaction", 30, 25, true);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_SENT), 8);
    ck_assert_uint_eq (zc_report_count (report, "health", ZC_REPORT_SENT), 5);
    ck_assert_uint_eq (zc_report_count (report, "submit_transaction", ZC_REPORT_SENT), 3);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_SUCCEEDED), 4);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_FAILED), 3);
    ck_assert_uint_eq (zc_report_count (report, "health", ZC_REPORT_FAILED), 1);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_SKIPPED), 1);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_CONFIRMED_FIRST), 1);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_CONFIRMED_ALL), 1);
    ck_assert_uint_eq (zc_report_count (report, "nothing", ZC_REPORT_SENT), 0);
    ck_assert_uint_eq (zc_report_reason_count (report, "reply timed out", false), 2);
    ck_assert_uint_eq (zc_report_reason_count (report, "error: mempool is full", false), 1);
    ck_assert_uint_eq (zc_report_reason_count (report, "all 2 clients busy", true), 1);
    ck_assert_uint_eq (zc_report_reason_count (report, "all 2 clients busy", false), 0);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_LATE), 0);

    //  Reasons come from the far side: many distinct ones are pooled
    for (int i = 0; i < 100; i++) {
        char reason [32];
        snprintf (reason, sizeof reason, "error: number %d", i);
        zc_report_failed (report, "health", 50, reason);
    }
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_FAILED), 103);
    ck_assert_uint_gt (zc_report_reason_count (report, "(other reasons)", false), 0);
    //  and a long one is cut
    char long_reason [1000];
    memset (long_reason, 'x', sizeof long_reason - 1);
    long_reason [sizeof long_reason - 1] = 0;
    zc_report_skipped (report, "health", 60, long_reason);
    ck_assert_uint_eq (zc_report_reason_count (report, long_reason, true), 0);
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_SKIPPED), 2);
    zc_report_destroy (&report);
}
END_TEST

//  Caliper's arithmetic: send rate over the send span, throughput up to
//  the last reply, confirmed rate up to the last confirmation.
START_TEST (test_rates)
{
    zc_report_t *report = zc_report_new (0);
    ck_assert (zc_report_send_rate (report) == 0);
    ck_assert (zc_report_throughput (report) == 0);
    //  Ten sends one second apart, each answered 0.5 s later
    for (int i = 0; i < 10; i++) {
        int64_t at = (int64_t) i * 1000000;
        zc_report_sent (report, "submit_transaction", at, 0);
        zc_report_succeeded (report, "submit_transaction", at + 500000, 500000);
    }
    //  Six confirmed by one node, four of them by every node, by 12 s
    for (int i = 0; i < 6; i++)
        zc_report_confirmed (report, "submit_transaction", 4000000 + i * 1000000, 1000, false);
    for (int i = 0; i < 4; i++)
        zc_report_confirmed (report, "submit_transaction", 9000000 + i * 1000000, 2000, true);
    ck_assert_double_eq_tol (zc_report_send_rate (report), 10.0 / 9.0, 1e-9);
    ck_assert_double_eq_tol (zc_report_throughput (report), 10.0 / 9.5, 1e-9);
    ck_assert_double_eq_tol (zc_report_confirm_rate (report, false), 6.0 / 9.0, 1e-9);
    ck_assert_double_eq_tol (zc_report_confirm_rate (report, true), 4.0 / 12.0, 1e-9);
    ck_assert (zc_report_rate_kept (report));     //  closed loop: always kept
    zc_report_destroy (&report);
}
END_TEST

//  The open-loop schedule, with and without a ramp, and its inverse.
START_TEST (test_schedule)
{
    //  100 per second, no ramp: every 10 ms
    for (uint64_t k = 0; k < 1000; k++)
        ck_assert_int_eq (zc_report_schedule (100, 0, k), (int64_t) k * 10000);
    ck_assert_uint_eq (zc_report_due (100, 0, -1), 0);
    ck_assert_uint_eq (zc_report_due (100, 0, 0), 1);
    ck_assert_uint_eq (zc_report_due (100, 0, 9999), 1);
    ck_assert_uint_eq (zc_report_due (100, 0, 10000), 2);
    ck_assert_uint_eq (zc_report_due (100, 0, 999999), 100);     //  sends in 1 s
    ck_assert_int_eq (zc_report_schedule (0, 0, 5), 0);         //  closed loop
    ck_assert_uint_eq (zc_report_due (0, 0, 1000000), 0);

    //  100 per second reached over a 2 s ramp: rate t^2 / 2T sends by t
    //  during it, so send 25 at 1 s, send 100 at 2 s, then every 10 ms
    int64_t ramp = 2000000;
    ck_assert_int_eq (zc_report_schedule (100, ramp, 0), 0);
    ck_assert_int_eq (zc_report_schedule (100, ramp, 25), 1000000);
    ck_assert_int_eq (zc_report_schedule (100, ramp, 100), 2000000);
    ck_assert_int_eq (zc_report_schedule (100, ramp, 101), 2010000);
    ck_assert_int_eq (zc_report_schedule (100, ramp, 200), 3000000);
    //  Sends during the ramp are sparser than after it
    ck_assert_int_gt (zc_report_schedule (100, ramp, 1) - zc_report_schedule (100, ramp, 0),
                      zc_report_schedule (100, ramp, 101) - zc_report_schedule (100, ramp, 100));
    //  In 3 s with the ramp: 100 * (3 - 1) = 200 sends
    ck_assert_uint_eq (zc_report_due (100, ramp, 3000000 - 1), 200);
    //  due and schedule agree everywhere, and the schedule never goes back
    uint64_t k = 0;
    for (int64_t at = 0; at < 4000000; at += 1777) {
        while (zc_report_schedule (100, ramp, k) <= at)
            k++;
        ck_assert_uint_eq (zc_report_due (100, ramp, at), k);
    }
    for (uint64_t i = 1; i < 500; i++)
        ck_assert_int_ge (zc_report_schedule (100, ramp, i), zc_report_schedule (100, ramp, i - 1));
}
END_TEST

//  A report with a little of everything, for the output tests.
static zc_report_t *
s_sample_report (void)
{
    zc_report_t *report = zc_report_new (500000);
    zc_report_set_text (report, "target", "127.0.0.1:13300");
    zc_report_set_number (report, "clients", 2);
    zc_report_set_target (report, 10, 10000);
    for (int i = 0; i < 20; i++) {
        int64_t at = (int64_t) i * 100000;
        const char *action = i % 4? "submit_transaction": "health";
        zc_report_sent (report, action, at, i == 7? 50000: 100);
        if (i == 13)
            zc_report_failed (report, action, at + 3000, "error: \"quoted\", <tag>");
        else
            zc_report_succeeded (report, action, at + 2000 + i * 100, 2000 + i * 100);
        if (i % 4)
            zc_report_confirmed (report, action, at + 300000, 300000, i % 2);
    }
    zc_report_skipped (report, "health", 1900000, "all 2 clients busy");
    zc_report_note (report, "a note with %d <angle> brackets", 2);
    zc_report_set_elapsed (report, 2500000);
    return report;
}

//  The JSON form parses and has every documented member.
START_TEST (test_json)
{
    zc_report_t *report = s_sample_report ();
    ck_assert_uint_eq (zc_report_count (report, NULL, ZC_REPORT_LATE), 1);
    ck_assert (!zc_report_rate_kept (report));
    char *path = zsys_sprintf ("/tmp/zchain-test-report-%d.json", getpid ());
    ck_assert_int_eq (zc_report_write_json (report, path), 0);
    char *text = harness_read_file (path);
    ck_assert_ptr_nonnull (text);
    cJSON *json = cJSON_Parse (text);
    ck_assert_msg (json, "the JSON report does not parse: %s", text);
    static const char *members [] = {
        "tool", "version", "config", "elapsed_s", "target_rate", "rate_kept",
        "late_threshold_ms", "send_lag_ms", "total", "actions", "failures", "skipped",
        "notes", "series", NULL };
    for (const char **name = members; *name; name++)
        ck_assert_msg (cJSON_HasObjectItem (json, *name), "no \"%s\" in %s", *name, text);
    ck_assert_str_eq (harness_string (json, "tool"), "zchain-load");
    ck_assert (cJSON_IsFalse (cJSON_GetObjectItem (json, "rate_kept")));
    ck_assert_double_eq (harness_number (json, "elapsed_s"), 2.5);
    const cJSON *config = cJSON_GetObjectItem (json, "config");
    ck_assert_str_eq (harness_string (config, "target"), "127.0.0.1:13300");

    const cJSON *total = cJSON_GetObjectItem (json, "total");
    static const char *row_members [] = {
        "name", "sent", "succeeded", "failed", "skipped", "late", "send_rate", "throughput",
        "latency_ms", "confirmed_first", "confirmed_all", "confirm_rate_first",
        "confirm_rate_all", "confirm_first_ms", "confirm_all_ms", NULL };
    for (const char **name = row_members; *name; name++)
        ck_assert_msg (cJSON_HasObjectItem (total, *name), "no total.%s", *name);
    ck_assert_double_eq (harness_number (total, "sent"), 20);
    ck_assert_double_eq (harness_number (total, "succeeded"), 19);
    ck_assert_double_eq (harness_number (total, "failed"), 1);
    ck_assert_double_eq (harness_number (total, "skipped"), 1);
    ck_assert_double_eq (harness_number (total, "confirmed_first"), 5);
    ck_assert_double_eq (harness_number (total, "confirmed_all"), 10);
    ck_assert_double_eq_tol (harness_number (total, "send_rate"), 20 / 1.9, 0.001);
    const cJSON *latency = cJSON_GetObjectItem (total, "latency_ms");
    static const char *stats [] = { "count", "min", "mean", "p50", "p90", "p99", "p99_9",
                                    "max", NULL };
    for (const char **name = stats; *name; name++)
        ck_assert_msg (cJSON_IsNumber (cJSON_GetObjectItem (latency, *name)),
                       "total.latency_ms.%s is not a number", *name);
    ck_assert_double_eq (harness_number (latency, "min"), 2.0);
    ck_assert_double_eq (harness_number (latency, "max"), 3.9);
    //  No sample: null stats, count 0
    const cJSON *actions = cJSON_GetObjectItem (json, "actions");
    ck_assert_int_eq (cJSON_GetArraySize (actions), 2);
    const cJSON *health = cJSON_GetArrayItem (actions, 0);
    ck_assert_str_eq (harness_string (health, "name"), "health");
    const cJSON *none = cJSON_GetObjectItem (health, "confirm_first_ms");
    ck_assert_double_eq (harness_number (none, "count"), 0);
    ck_assert (cJSON_IsNull (cJSON_GetObjectItem (none, "p50")));

    const cJSON *failures = cJSON_GetObjectItem (json, "failures");
    ck_assert_double_eq (harness_number (failures, "error: \"quoted\", <tag>"), 1);
    ck_assert_double_eq (harness_number (cJSON_GetObjectItem (json, "skipped"),
                                         "all 2 clients busy"), 1);
    //  The report's own note says the rate was not kept, and why
    const cJSON *notes = cJSON_GetObjectItem (json, "notes");
    ck_assert_int_eq (cJSON_GetArraySize (notes), 2);
    ck_assert_ptr_nonnull (strstr (cJSON_GetArrayItem (notes, 0)->valuestring,
                                   "did not keep the target rate"));
    //  The series: 0.5 s buckets over 2.5 s
    const cJSON *series = cJSON_GetObjectItem (json, "series");
    ck_assert_double_eq (harness_number (series, "bucket_s"), 0.5);
    const cJSON *rows = cJSON_GetObjectItem (series, "rows");
    ck_assert_int_eq (cJSON_GetArraySize (rows), 5);
    const cJSON *row = cJSON_GetArrayItem (rows, 0);
    ck_assert_double_eq (harness_number (row, "sent"), 5);
    ck_assert (cJSON_IsNumber (cJSON_GetObjectItem (row, "ack_p99_ms")));
    ck_assert_double_eq (harness_number (cJSON_GetArrayItem (rows, 4), "sent"), 0);
    cJSON_Delete (json);
    free (text);
    unlink (path);
    zstr_free (&path);

    //  The text summary names every action
    char *summary = zc_report_text (report);
    ck_assert_ptr_nonnull (strstr (summary, "submit_transaction"));
    ck_assert_ptr_nonnull (strstr (summary, "NOT kept"));
    free (summary);
    zc_report_destroy (&report);
}
END_TEST

//  The CSV: the documented header, one row per action and one for all.
START_TEST (test_csv)
{
    zc_report_t *report = s_sample_report ();
    char *path = zsys_sprintf ("/tmp/zchain-test-report-%d.csv", getpid ());
    ck_assert_int_eq (zc_report_write_csv (report, path), 0);
    char *text = harness_read_file (path);
    ck_assert_ptr_nonnull (text);
    const char *header = "name,sent,succeeded,failed,skipped,late,send_rate,throughput,"
        "latency_min_ms,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,"
        "latency_p99_9_ms,latency_max_ms,confirmed_first,confirmed_all,"
        "confirm_rate_first,confirm_rate_all,confirm_first_p50_ms,confirm_first_p99_ms,"
        "confirm_first_max_ms,confirm_all_p50_ms,confirm_all_p99_ms,confirm_all_max_ms\n";
    ck_assert_msg (strncmp (text, header, strlen (header)) == 0, "bad CSV header: %s", text);
    int lines = 0, commas = 0;
    for (const char *c = text; *c; c++) {
        lines += *c == '\n';
        commas += *c == ',';
    }
    ck_assert_int_eq (lines, 4);
    ck_assert_int_eq (commas, 4 * 24);
    ck_assert_ptr_nonnull (strstr (text, "\nhealth,5,"));
    ck_assert_ptr_nonnull (strstr (text, "\nall,20,19,1,1,1,"));
    free (text);
    unlink (path);
    zstr_free (&path);
    zc_report_destroy (&report);
}
END_TEST

//  The HTML page: self-contained, SVG charts, text escaped.
START_TEST (test_html)
{
    zc_report_t *report = s_sample_report ();
    char *path = zsys_sprintf ("/tmp/zchain-test-report-%d.html", getpid ());
    ck_assert_int_eq (zc_report_write_html (report, path), 0);
    char *text = harness_read_file (path);
    ck_assert_ptr_nonnull (text);
    ck_assert_ptr_nonnull (strstr (text, "<svg"));
    ck_assert_ptr_nonnull (strstr (text, "<polyline"));
    ck_assert_ptr_nonnull (strstr (text, "</html>"));
    ck_assert_ptr_null (strstr (text, "http"));
    ck_assert_ptr_null (strstr (text, "<script"));
    ck_assert_ptr_null (strstr (text, "@font-face"));
    ck_assert_ptr_null (strstr (text, "url("));
    ck_assert_ptr_null (strstr (text, "<tag>"));
    ck_assert_ptr_nonnull (strstr (text, "&lt;tag&gt;"));
    ck_assert_ptr_nonnull (strstr (text, "submit_transaction"));
    free (text);
    unlink (path);
    //  An empty report still makes a page
    zc_report_t *empty = zc_report_new (0);
    ck_assert_int_eq (zc_report_write_html (empty, path), 0);
    ck_assert_int_eq (zc_report_write_csv (empty, path), 0);
    ck_assert_int_eq (zc_report_write_json (empty, path), 0);
    ck_assert_int_eq (zc_report_write_json (empty, "/nonexistent/dir/report.json"), -1);
    zc_report_destroy (&empty);
    unlink (path);
    zstr_free (&path);
    zc_report_destroy (&report);
}
END_TEST

//  The y coordinates of the points of the first polyline after marker in
//  an HTML page; their count in *count_p.
static size_t
s_polyline_ys (const char *html, const char *marker, double *ys, size_t max)
{
    const char *start = strstr (html, marker);
    ck_assert_msg (start, "no '%s' in the page", marker);
    const char *points = strstr (start, "points=\"");
    ck_assert_ptr_nonnull (points);
    points += strlen ("points=\"");
    size_t count = 0;
    double x, y;
    int used = 0;
    while (count < max && sscanf (points, "%lf,%lf %n", &x, &y, &used) == 2) {
        ys [count++] = y;
        points += used;
    }
    return count;
}

//  A run that ends half way through its last bucket: that bucket's rates
//  are over its half second, so a steady load plots as a flat line, and
//  the page says what its axes are, which version made it, the mean
//  latency, and gives every series its own colour.
START_TEST (test_last_bucket)
{
    zc_report_t *report = zc_report_new (1000000);
    zc_report_set_target (report, 100, 10000);
    for (int64_t k = 0; k < 250; k++) {
        int64_t at = k * 10000;
        zc_report_sent (report, "health", at, 0);
        zc_report_succeeded (report, "health", at + 1000, 1000 + (k % 3) * 1000);
        zc_report_failed (report, "health", at + 2000, "x");
        zc_report_confirmed (report, "health", at + 3000, 5000, false);
    }
    zc_report_set_elapsed (report, 2500000);
    cJSON *json = zc_report_json (report);
    const cJSON *rows = cJSON_GetObjectItem (cJSON_GetObjectItem (json, "series"), "rows");
    ck_assert_int_eq (cJSON_GetArraySize (rows), 3);
    for (int i = 0; i < 3; i++) {
        const cJSON *row = cJSON_GetArrayItem (rows, i);
        double span = harness_number (row, "span_s");
        ck_assert_double_eq_tol (span, i < 2? 1.0: 0.5, 1e-9);
        ck_assert_double_eq_tol (harness_number (row, "sent") / span, 100, 1e-9);
    }
    cJSON_Delete (json);

    char *path = zsys_sprintf ("/tmp/zchain-test-report-%d.html", getpid ());
    ck_assert_int_eq (zc_report_write_html (report, path), 0);
    char *html = harness_read_file (path);
    ck_assert_ptr_nonnull (html);
    double ys [16];
    size_t count = s_polyline_ys (html, "Throughput over time", ys, 16);
    ck_assert_uint_eq (count, 3);
    for (size_t i = 1; i < count; i++)
        ck_assert_msg (fabs (ys [i] - ys [0]) < 0.05, "sent/s point %zu at y %.1f, the "
                       "first at %.1f: the partial bucket is not plotted as a rate", i,
                       ys [i], ys [0]);
    ck_assert_ptr_nonnull (strstr (html, "time since the clock started (s)"));
    char version [64];
    snprintf (version, sizeof version, "zchain-load %s", ZCHAIN_VERSION);
    ck_assert_ptr_nonnull (strstr (html, version));
    ck_assert_ptr_nonnull (strstr (html, "<th>mean ms</th>"));
    //  Legend entries: a name has one colour and no two names share one
    char names [32][40], colours [32][16];
    size_t legends = 0;
    for (const char *at = html; (at = strstr (at, "font-size=\"12\" fill=\"")) && legends < 32; at++) {
        char colour [16], name [40];
        if (sscanf (at, "font-size=\"12\" fill=\"%15[^\"]\">&#9632; %39[^<]", colour, name) != 2)
            continue;
        bool known = false;
        for (size_t i = 0; i < legends; i++) {
            if (streq (names [i], name)) {
                ck_assert_str_eq (colours [i], colour);
                known = true;
            }
            else
                ck_assert_msg (!streq (colours [i], colour), "%s and %s are both %s",
                               names [i], name, colour);
        }
        if (!known) {
            snprintf (names [legends], sizeof names [0], "%s", name);
            snprintf (colours [legends], sizeof colours [0], "%s", colour);
            legends++;
        }
    }
    ck_assert_uint_ge (legends, 8);
    free (html);
    unlink (path);
    zstr_free (&path);
    char *text = zc_report_text (report);
    ck_assert_ptr_nonnull (strstr (text, "mean ms"));
    ck_assert_ptr_nonnull (strstr (text, "2.000"));          //  the mean latency, 2 ms
    ck_assert_ptr_nonnull (strstr (text, version));
    free (text);
    zc_report_destroy (&report);
}
END_TEST

//  The resource section: each (process, figure) series with its mean,
//  max and last, in JSON, text and HTML (a table and a chart per figure).
START_TEST (test_resources)
{
    zc_report_t *report = zc_report_new (1000000);
    cJSON *json = zc_report_json (report);
    ck_assert_ptr_null (cJSON_GetObjectItem (json, "resources"));
    cJSON_Delete (json);
    zc_report_set_resource_source (report, "from /proc");
    for (int64_t t = 0; t < 4; t++) {
        zc_report_resource (report, "zchaind[10]", "CPU", "%", t * 1000000, 10.0 * (double) t);
        zc_report_resource (report, "zchaind[10]", "RSS", "MB", t * 1000000, 50);
        zc_report_resource (report, "zchaind[11]", "CPU", "%", t * 1000000, 80);
    }
    zc_report_set_elapsed (report, 3500000);
    json = zc_report_json (report);
    const cJSON *resources = cJSON_GetObjectItem (json, "resources");
    ck_assert_ptr_nonnull (resources);
    ck_assert_str_eq (harness_string (resources, "source"), "from /proc");
    const cJSON *monitors = cJSON_GetObjectItem (resources, "monitors");
    ck_assert_int_eq (cJSON_GetArraySize (monitors), 3);
    const cJSON *cpu = cJSON_GetArrayItem (monitors, 0);
    ck_assert_str_eq (harness_string (cpu, "name"), "zchaind[10]");
    ck_assert_str_eq (harness_string (cpu, "metric"), "CPU");
    ck_assert_str_eq (harness_string (cpu, "unit"), "%");
    ck_assert_double_eq (harness_number (cpu, "count"), 4);
    ck_assert_double_eq (harness_number (cpu, "mean"), 15);
    ck_assert_double_eq (harness_number (cpu, "max"), 30);
    ck_assert_double_eq (harness_number (cpu, "last"), 30);
    const cJSON *samples = cJSON_GetObjectItem (cpu, "samples");
    ck_assert_int_eq (cJSON_GetArraySize (samples), 4);
    ck_assert_double_eq (cJSON_GetArrayItem (cJSON_GetArrayItem (samples, 3), 0)->valuedouble, 3);
    cJSON_Delete (json);
    char *text = zc_report_text (report);
    ck_assert_ptr_nonnull (strstr (text, "resources (from /proc)"));
    ck_assert_ptr_nonnull (strstr (text, "zchaind[11]"));
    free (text);
    char *path = zsys_sprintf ("/tmp/zchain-test-report-%d.html", getpid ());
    ck_assert_int_eq (zc_report_write_html (report, path), 0);
    char *html = harness_read_file (path);
    ck_assert_ptr_nonnull (strstr (html, "id=\"resources\""));
    ck_assert_ptr_nonnull (strstr (html, "CPU over time"));
    ck_assert_ptr_nonnull (strstr (html, "RSS over time"));
    double ys [16];
    ck_assert_uint_eq (s_polyline_ys (html, "CPU over time", ys, 16), 4);
    free (html);
    unlink (path);
    zstr_free (&path);
    zc_report_destroy (&report);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("report");
    TCase *unit = tcase_create ("report");
    tcase_add_test (unit, test_percentile_edges);
    tcase_add_test (unit, test_percentile_thousand);
    tcase_add_test (unit, test_counters);
    tcase_add_test (unit, test_rates);
    tcase_add_test (unit, test_schedule);
    tcase_add_test (unit, test_json);
    tcase_add_test (unit, test_csv);
    tcase_add_test (unit, test_html);
    tcase_add_test (unit, test_last_bucket);
    tcase_add_test (unit, test_resources);
    suite_add_tcase (suite, unit);
    return testutil_run (suite);
}
