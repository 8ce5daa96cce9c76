/*  =========================================================================
    fuzz.h - shared by the libFuzzer targets in fuzz/

    Each target is one file with LLVMFuzzerTestOneInput over one place
    where outside bytes enter zchain.  Besides "no crash, no leak, no
    undefined behaviour" (ASan, UBSan), each checks the invariant of
    issue 10 where it applies: whatever zchain accepts it can write back
    out, as JSON that its own strict reader accepts.
    =========================================================================
*/

#ifndef FUZZ_H_INCLUDED
#define FUZZ_H_INCLUDED

#include "zchain.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Aborts (a finding) with a message if cond is false.
#define FUZZ_ASSERT(cond, ...) do { if (!(cond)) { \
    fprintf (stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); abort (); } } while (0)

//  Logs go nowhere: a fuzzer feeds millions of bad messages, each logged.
static inline void
fuzz_quiet (void)
{
    zsys_init ();
    static FILE *null_stream = NULL;
    if (!null_stream)
        null_stream = fopen ("/dev/null", "w");
    if (null_stream)
        zsys_set_logstream (null_stream);
    zsys_set_logsystem (false);
}

//  Asserts that text of size bytes is strict JSON that zchain can read.
static inline void
fuzz_assert_sendable (const char *text, size_t size, const char *what)
{
    const char *error = zc_json_check (text, size, NULL);
    FUZZ_ASSERT (error == NULL, "%s is not strict JSON (%s): %.*s", what, error,
                 (int) (size > 300? 300: size), text);
}

//  Asserts that a tree has a canonical form that reads back as itself.
static inline void
fuzz_assert_roundtrip (const cJSON *json, const char *what)
{
    char *text = zc_jcs_serialize (json);
    FUZZ_ASSERT (text != NULL, "%s has no canonical form", what);
    fuzz_assert_sendable (text, strlen (text), what);
    cJSON *again = zc_json_parse (text, strlen (text));
    FUZZ_ASSERT (again != NULL, "%s does not parse back", what);
    char *twice = zc_jcs_serialize (again);
    FUZZ_ASSERT (twice && streq (text, twice), "%s changes when read back", what);
    free (twice);
    cJSON_Delete (again);
    free (text);
}

#endif
