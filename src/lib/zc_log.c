/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_log - the log every layer writes to

    One line per event, to stderr by default, to a file (--log-file) and/or
    syslog (--syslog) when asked:

        2026-12-01T04:08:19.123Z I zchaind[4242]: n1: node ... listening

    UTC ISO 8601 with milliseconds, so lines from several hosts sort and
    compare; a level letter as CZMQ's (E W N I D); the program and its pid.
    Syslog lines carry no timestamp of ours: syslog adds its own.

    The file is opened in append mode and reopened by zc_log_reopen (the
    daemon calls it on SIGHUP), so logrotate can move it away and the next
    line goes to a new file.  Every write takes one mutex, so lines from
    actor threads never interleave and a reopen never races a write.

    Repetitive lines (a confirmation per block per node) go through
    zc_log_often: the first of a kind in each period is written, the rest
    are counted, and zc_log_flush (called about once a second by the
    daemon) writes "N more like this" when the period is over.  -v
    (zc_verbose) writes every one of them, as before.
    =========================================================================
*/

#include "zchain.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define S_LINE_MAX      2048        //  longest line written, bytes
#define S_KINDS         32          //  kinds of repetitive lines tracked
#define S_PERIOD_USECS  (10 * 1000000LL)   //  one summary per kind per period

//  A kind of repetitive line and what was held back of it
typedef struct {
    char key [64];              //  the kind, e.g. "gateway confirmation"
    int64_t period_start;       //  monotonic usecs; 0: slot unused
    uint64_t held;              //  lines not written this period
    char last [S_LINE_MAX];     //  the latest line held back
} s_kind_t;

static pthread_mutex_t s_mutex = PTHREAD_MUTEX_INITIALIZER;
static char s_ident [32] = "zchain";
static bool s_to_stderr = true;     //  write to stderr
static bool s_to_syslog = false;    //  write to syslog
static char *s_path = NULL;         //  --log-file, or NULL
static FILE *s_file = NULL;         //  it, open for appending
static s_kind_t s_kinds [S_KINDS];

//  The current UTC time as 2026-12-01T04:08:19.123Z; out holds 32 bytes.
static void
s_timestamp (char *out, size_t size)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    struct tm utc;
    time_t seconds = now.tv_sec;
    gmtime_r (&seconds, &utc);
    size_t length = strftime (out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf (out + length, size - length, ".%03dZ", (int) (now.tv_usec / 1000));
}

//  Writes one formatted line to every destination.  Caller holds s_mutex.
static void
s_write (char level, const char *text)
{
    if (s_to_syslog) {
        int priority = level == 'E'? LOG_ERR: level == 'W'? LOG_WARNING:
                       level == 'N'? LOG_NOTICE: level == 'D'? LOG_DEBUG: LOG_INFO;
        syslog (priority, "%s", text);
    }
    if (s_file || s_to_stderr) {
        char stamp [32];
        s_timestamp (stamp, sizeof stamp);
        FILE *stream = s_file? s_file: stderr;
        fprintf (stream, "%s %c %s[%d]: %s\n", stamp, level, s_ident, (int) getpid (), text);
        fflush (stream);
    }
}

//  Opens path for appending; NULL with errno set.
static FILE *
s_open (const char *path)
{
    FILE *file = fopen (path, "ae");
    if (file)
        setvbuf (file, NULL, _IOLBF, 0);
    return file;
}

int
zc_log_open (const char *ident, const char *path, bool use_syslog, char **error_p)
{
    FILE *file = NULL;
    if (path && !(file = s_open (path))) {
        if (error_p)
            *error_p = zsys_sprintf ("cannot open log file %s: %s", path, strerror (errno));
        return -1;
    }
    pthread_mutex_lock (&s_mutex);
    snprintf (s_ident, sizeof s_ident, "%s", ident? ident: "zchain");
    if (s_file)
        fclose (s_file);
    free (s_path);
    s_file = file;
    s_path = path? strdup (path): NULL;
    s_to_syslog = use_syslog;
    //  stderr is the destination only when no other was asked for
    s_to_stderr = !path && !use_syslog;
    if (use_syslog)
        openlog (s_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    pthread_mutex_unlock (&s_mutex);
    return 0;
}

int
zc_log_reopen (void)
{
    pthread_mutex_lock (&s_mutex);
    int rc = 0;
    if (s_path) {
        FILE *file = s_open (s_path);
        if (file) {
            fclose (s_file);
            s_file = file;
        }
        else {
            //  Keep writing to the old file rather than lose lines
            char text [S_LINE_MAX];
            snprintf (text, sizeof text, "cannot reopen log file %s: %s; still writing to "
                      "the file opened before", s_path, strerror (errno));
            s_write ('E', text);
            rc = -1;
        }
    }
    pthread_mutex_unlock (&s_mutex);
    return rc;
}

//  Writes every summary whose period is over (all of them if force).
//  Caller holds s_mutex.
static void
s_flush (bool force)
{
    int64_t now = zc_clock_usecs ();
    for (size_t i = 0; i < S_KINDS; i++) {
        s_kind_t *kind = &s_kinds [i];
        if (kind->period_start == 0 || (!force && now - kind->period_start < S_PERIOD_USECS))
            continue;
        if (kind->held > 0) {
            char text [S_LINE_MAX + 128];
            snprintf (text, sizeof text, "%.63s: %" PRIu64 " more like this in %.0f s, "
                      "the latest: %.2000s", kind->key, kind->held,
                      (double) (now - kind->period_start) / 1e6, kind->last);
            s_write ('I', text);
        }
        //  A quiet period frees the slot; the next line is written again
        kind->period_start = kind->held > 0? now: 0;
        kind->held = 0;
    }
}

void
zc_log_flush (void)
{
    pthread_mutex_lock (&s_mutex);
    s_flush (false);
    pthread_mutex_unlock (&s_mutex);
}

void
zc_log_close (void)
{
    pthread_mutex_lock (&s_mutex);
    s_flush (true);
    memset (s_kinds, 0, sizeof s_kinds);
    if (s_file)
        fclose (s_file);
    s_file = NULL;
    free (s_path);
    s_path = NULL;
    if (s_to_syslog)
        closelog ();
    s_to_syslog = false;
    s_to_stderr = true;
    pthread_mutex_unlock (&s_mutex);
}

void
zc_log (char level, const char *format, ...)
{
    char text [S_LINE_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    pthread_mutex_lock (&s_mutex);
    s_write (level, text);
    pthread_mutex_unlock (&s_mutex);
}

void
zc_log_often (const char *key, const char *format, ...)
{
    char text [S_LINE_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    pthread_mutex_lock (&s_mutex);
    s_flush (false);
    s_kind_t *kind = NULL, *free_slot = NULL;
    for (size_t i = 0; i < S_KINDS && !kind; i++) {
        if (s_kinds [i].period_start && streq (s_kinds [i].key, key))
            kind = &s_kinds [i];
        else
        if (!s_kinds [i].period_start && !free_slot)
            free_slot = &s_kinds [i];
    }
    if (zc_verbose || (!kind && !free_slot))
        s_write ('I', text);            //  verbose, or too many kinds: no holding back
    else
    if (!kind) {
        //  First of its kind this period: written, and the period starts
        snprintf (free_slot->key, sizeof free_slot->key, "%s", key);
        free_slot->period_start = zc_clock_usecs ();
        free_slot->held = 0;
        s_write ('I', text);
    }
    else {
        kind->held++;
        snprintf (kind->last, sizeof kind->last, "%s", text);
    }
    pthread_mutex_unlock (&s_mutex);
}
