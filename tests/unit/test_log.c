/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_log.c - unit tests of zc_log: line format, log file reopening,
    and repetitive lines summed up unless verbose
    =========================================================================
*/

#include "../harness.h"
#include <regex.h>

//  A log file path in the test's folder.
static char *
s_log_path (const char *name)
{
    return harness_path ("%s", name);
}

//  Number of lines of a file that contain text (all lines if NULL).
static int
s_count (const char *path, const char *text)
{
    char *content = harness_read_file (path);
    int count = 0;
    for (char *line = content; line && *line; ) {
        char *end = strchr (line, '\n');
        if (end)
            *end = 0;
        if (!text || strstr (line, text))
            count++;
        line = end? end + 1: line + strlen (line);
    }
    free (content);
    return count;
}

//  Every line: UTC ISO 8601 with milliseconds, level, program[pid]: text.
START_TEST (test_format)
{
    char *path = s_log_path ("format.log");
    char *error = NULL;
    ck_assert_int_eq (zc_log_open ("tester", path, false, &error), 0);
    zc_log_info ("hello %d", 42);
    zc_log_error ("trouble");
    zc_log_close ();
    char *text = harness_read_file (path);
    ck_assert_ptr_nonnull (text);
    regex_t regex;
    char pattern [256];
    snprintf (pattern, sizeof pattern, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
              "\\.[0-9]{3}Z I tester\\[%d\\]: hello 42\n[0-9T:.Z-]+ E tester\\[%d\\]: trouble\n$",
              (int) getpid (), (int) getpid ());
    ck_assert_int_eq (regcomp (&regex, pattern, REG_EXTENDED), 0);
    ck_assert_msg (regexec (&regex, text, 0, NULL, 0) == 0, "bad lines: %s", text);
    regfree (&regex);
    //  The time is UTC: the date in the line is today's in UTC
    time_t now = time (NULL);
    struct tm utc;
    gmtime_r (&now, &utc);
    char today [16];
    strftime (today, sizeof today, "%Y-%m-%d", &utc);
    ck_assert_msg (strncmp (text, today, 10) == 0 || now % 86400 < 5, "not UTC: %s", text);
    free (text);
    //  A log file that cannot be opened is refused with the reason
    ck_assert_int_eq (zc_log_open ("tester", "/nonexistent/dir/x.log", false, &error), -1);
    ck_assert_ptr_nonnull (strstr (error, "No such file or directory"));
    free (error);
    free (path);
}
END_TEST

//  After the file is moved away (logrotate), reopen starts a new one.
START_TEST (test_reopen)
{
    char *path = s_log_path ("daemon.log");
    char *moved = s_log_path ("daemon.log.1");
    ck_assert_int_eq (zc_log_open ("tester", path, false, NULL), 0);
    zc_log_info ("before");
    ck_assert_int_eq (rename (path, moved), 0);
    zc_log_info ("still to the moved file");
    ck_assert_int_eq (zc_log_reopen (), 0);
    zc_log_info ("after");
    zc_log_close ();
    ck_assert_int_eq (s_count (moved, NULL), 2);
    ck_assert_int_eq (s_count (path, NULL), 1);
    ck_assert_int_eq (s_count (path, "after"), 1);
    free (path);
    free (moved);
}
END_TEST

//  A line of one kind a hundred times: one written, the rest counted in
//  one summary (written at the latest when the log closes); verbose
//  writes them all; other kinds are counted apart.
START_TEST (test_often)
{
    char *path = s_log_path ("often.log");
    ck_assert_int_eq (zc_log_open ("tester", path, false, NULL), 0);
    for (int i = 0; i < 100; i++) {
        zc_log_often ("notice", "block %d confirmed", i);
        if (i % 10 == 0)
            zc_log_often ("other", "other %d", i);
    }
    zc_log_flush ();                //  the period is not over: nothing yet
    ck_assert_int_eq (s_count (path, "more like this"), 0);
    zc_log_close ();
    ck_assert_int_eq (s_count (path, "block 0 confirmed"), 1);
    ck_assert_int_eq (s_count (path, "notice: 99 more like this"), 1);
    ck_assert_int_eq (s_count (path, "the latest: block 99 confirmed"), 1);
    ck_assert_int_eq (s_count (path, "other: 9 more like this"), 1);
    ck_assert_int_eq (s_count (path, NULL), 4);

    unlink (path);
    ck_assert_int_eq (zc_log_open ("tester", path, false, NULL), 0);
    zc_verbose = true;
    for (int i = 0; i < 100; i++)
        zc_log_often ("notice", "block %d confirmed", i);
    zc_verbose = false;
    zc_log_close ();
    ck_assert_int_eq (s_count (path, "confirmed"), 100);
    ck_assert_int_eq (s_count (path, "more like this"), 0);
    free (path);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("log");
    tcase_add_test (harness_tcase (suite, "format", 10), test_format);
    tcase_add_test (harness_tcase (suite, "reopen", 10), test_reopen);
    tcase_add_test (harness_tcase (suite, "often", 10), test_often);
    return testutil_run (suite);
}
