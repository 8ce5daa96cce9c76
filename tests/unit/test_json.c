/*  =========================================================================
    test_json.c - unit tests of zc_json, the strict reader

    The cases the fuzzers and the conformance suite found in cJSON's lenient
    parse, one by one; then every file of the vendored JSONTestSuite
    (tests/data/JSONTestSuite): y_ accepted, n_ rejected, i_ as documented.
    =========================================================================
*/

#include "../testutil.h"
#include <dirent.h>
#include <sys/stat.h>

static void
s_assert_json (const char *text)
{
    const char *error = zc_json_check (text, strlen (text), NULL);
    if (error)
        ck_abort_msg ("refused %s: %s", text, error);
    cJSON *json = zc_json_parse (text, strlen (text));
    ck_assert_msg (json != NULL, "parse refused %s", text);
    cJSON_Delete (json);
}

static void
s_assert_not_json (const char *text, const char *reason)
{
    const char *error = zc_json_check (text, strlen (text), NULL);
    ck_assert_msg (error != NULL, "took %s", text);
    if (reason)
        ck_assert_msg (strstr (error, reason), "%s: said \"%s\", not \"%s\"", text, error, reason);
    char message [ZC_JSON_ERROR_MAX] = "";
    cJSON *json = zc_json_read (text, strlen (text), message, sizeof message);
    ck_assert_ptr_null (json);
    ck_assert_msg (strncmp (message, "invalid JSON", 12) == 0, "reason %s", message);
}

START_TEST (test_numbers)
{
    s_assert_json ("[0, -0, 1, -1, 0.5, -0.5, 1e5, 1E+5, 1e-5, 10.25e3, 123456789]");
    s_assert_not_json ("[012]", "leading zero");
    s_assert_not_json ("[-01]", "leading zero");
    s_assert_not_json ("[1.]", "after its point");
    s_assert_not_json ("[-.123]", "without digits");
    s_assert_not_json ("[.5]", "unexpected");
    s_assert_not_json ("[2.e3]", "after its point");
    s_assert_not_json ("[1e]", "exponent");
    s_assert_not_json ("[1e+]", "exponent");
    s_assert_not_json ("[+1]", "unexpected");
    s_assert_not_json ("[0x10]", NULL);
    s_assert_not_json ("[Infinity]", NULL);
    s_assert_not_json ("[NaN]", NULL);
    s_assert_not_json ("[-]", "without digits");
}
END_TEST

START_TEST (test_strings)
{
    s_assert_json ("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD834\\uDD1E\"]");
    s_assert_json ("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]");
    s_assert_not_json ("[\"a\tb\"]", "control character");
    s_assert_not_json ("[\"a\nb\"]", "control character");
    s_assert_not_json ("[\"a\x1f\"]", "control character");
    s_assert_not_json ("[\"\\uqqqq\"]", "four hex digits");
    s_assert_not_json ("[\"ab\\uqqqqSECRET\"]", "four hex digits");
    s_assert_not_json ("[\"\\u12\"]", "four hex digits");
    s_assert_not_json ("[\"\\x41\"]", "invalid escape");
    s_assert_not_json ("[\"\\'\"]", "invalid escape");
    s_assert_not_json ("[\"\\uDC00\"]", "low surrogate");
    s_assert_not_json ("[\"\\uD800\"]", "high surrogate");
    s_assert_not_json ("[\"\\uD800x\"]", "high surrogate");
    s_assert_not_json ("[\"\\uD800\\u0041\"]", "high surrogate");
    s_assert_not_json ("[\"\\uD800\\uD800\"]", "high surrogate");
    s_assert_not_json ("[\"abc", "unterminated");
    s_assert_not_json ("[\"\\", "unterminated");
    //  Not UTF-8: every way
    s_assert_not_json ("[\"\xff\"]", "UTF-8");
    s_assert_not_json ("[\"a\x80\"]", "UTF-8");
    s_assert_not_json ("[\"\xc0\xaf\"]", "UTF-8");
    s_assert_not_json ("[\"\xe0\x80\xaf\"]", "UTF-8");
    s_assert_not_json ("[\"\xed\xa0\x80\"]", "UTF-8");
    s_assert_not_json ("[\"\xf4\x90\x80\x80\"]", "UTF-8");
    s_assert_not_json ("[\"\xe2\x82\"]", "UTF-8");
    s_assert_not_json ("[\"\xf0\x9f\x98\"]", "UTF-8");
    s_assert_not_json ("{\"\xff\":1}", "UTF-8");
    //  A byte that is not UTF-8 outside a string, a byte order mark
    s_assert_not_json ("\xef\xbb\xbf{}", "unexpected");
}
END_TEST

START_TEST (test_structure)
{
    s_assert_json (" \t\r\n{ \"a\" : [ 1 , { } , [ ] , true , false , null ] } \r\n");
    s_assert_not_json ("\f[1]", "unexpected");          //  form feed is no whitespace
    s_assert_not_json ("[1]\f", "after");
    s_assert_not_json ("[1,]", "unexpected");
    s_assert_not_json ("{\"a\":1,}", "member name");
    s_assert_not_json ("{a:1}", "member name");
    s_assert_not_json ("{\"a\" 1}", "':'");
    s_assert_not_json ("[1 2]", "','");
    s_assert_not_json ("[1]x", "after");
    s_assert_not_json ("[tru]", "literal");
    s_assert_not_json ("[True]", "unexpected");
    s_assert_not_json ("", "empty");
    s_assert_not_json ("   ", "expected a value");
    s_assert_not_json ("[1", "unterminated");
    ck_assert_ptr_nonnull (zc_json_check ("[1]\0", 4, NULL));
    ck_assert_ptr_nonnull (zc_json_check (NULL, 3, NULL));
    //  Exactly size bytes are read
    ck_assert_ptr_null (zc_json_check ("[1]garbage", 3, NULL));
    size_t offset = 0;
    ck_assert_ptr_nonnull (zc_json_check ("[1, 012]", 8, &offset));
    ck_assert_uint_eq (offset, 5);
    //  Duplicate names are grammatical; canonical JSON refuses them
    s_assert_json ("{\"a\":1,\"a\":2}");
}
END_TEST

START_TEST (test_depth)
{
    char text [2 * (ZC_JSON_MAX_DEPTH + 1) + 1];
    memset (text, '[', ZC_JSON_MAX_DEPTH);
    memset (text + ZC_JSON_MAX_DEPTH, ']', ZC_JSON_MAX_DEPTH);
    text [2 * ZC_JSON_MAX_DEPTH] = 0;
    s_assert_json (text);
    memset (text, '[', ZC_JSON_MAX_DEPTH + 1);
    memset (text + ZC_JSON_MAX_DEPTH + 1, ']', ZC_JSON_MAX_DEPTH + 1);
    text [2 * ZC_JSON_MAX_DEPTH + 2] = 0;
    s_assert_not_json (text, "nested too deeply");
    //  A hundred thousand opening brackets do not reach the stack's end
    size_t size = 100000;
    char *deep = (char *) malloc (size);
    memset (deep, '[', size);
    ck_assert_ptr_nonnull (zc_json_check (deep, size, NULL));
    free (deep);
}
END_TEST

START_TEST (test_nul)
{
    //  Grammatical, but a C string cannot hold it: refused by the reader
    //  with its own reason, so two texts never become one value
    ck_assert_ptr_null (zc_json_check ("[\"a\\u0000b\"]", 12, NULL));
    char error [ZC_JSON_ERROR_MAX] = "";
    ck_assert_ptr_null (zc_json_read ("[\"a\\u0000b\"]", 12, error, sizeof error));
    ck_assert_ptr_nonnull (strstr (error, "U+0000"));
    cJSON *json = zc_json_parse ("[\"a\\\\u0000b\"]", 13);
    ck_assert_ptr_nonnull (json);
    ck_assert_str_eq (cJSON_GetArrayItem (json, 0)->valuestring, "a\\u0000b");
    cJSON_Delete (json);
}
END_TEST

START_TEST (test_secret_suffix)
{
    //  The transaction a lenient parse made of two texts: the signed one
    //  and one with a suffix behind an invalid escape
    const char *wire = "{\"type\":\"NEW_TRANSACTION\",\"sender\":\"AAAA\","
                       "\"data\":[\"ab\\uqqqqSECRET\"],\"signature\":\"BBBB\"}";
    char error [ZC_JSON_ERROR_MAX] = "";
    ck_assert_ptr_null (zc_json_read (wire, strlen (wire), error, sizeof error));
    ck_assert_ptr_nonnull (strstr (error, "four hex digits"));
}
END_TEST

START_TEST (test_utf8_helpers)
{
    ck_assert (zc_utf8_valid ("abc\xc3\xa9", 5));
    ck_assert (!zc_utf8_valid ("abc\xc3", 4));
    ck_assert (zc_utf8_valid ("", 0));
    ck_assert (!zc_utf8_valid (NULL, 0));
    //  A cut never splits a character and never keeps a bad byte
    ck_assert_uint_eq (zc_utf8_prefix ("abc\xc3\xa9", 4), 3);
    ck_assert_uint_eq (zc_utf8_prefix ("abc\xc3\xa9", 5), 5);
    ck_assert_uint_eq (zc_utf8_prefix ("ab\xff" "cd", 64), 2);
    ck_assert_uint_eq (zc_utf8_prefix ("\xe2\x82\xac\xe2\x82\xac", 5), 3);
    ck_assert_uint_eq (zc_utf8_prefix ("abc", 64), 3);
}
END_TEST

//  The forms of protocol strings (zc_util)
START_TEST (test_forms)
{
    ck_assert (zc_uuid_valid ("11111111-1111-4111-8111-111111111111"));
    ck_assert (!zc_uuid_valid ("11111111-1111-4111-8111-11111111111"));
    ck_assert (!zc_uuid_valid ("11111111-1111-4111-8111-1111111111111"));
    ck_assert (!zc_uuid_valid ("11111111-1111-4111-8111-11111111111A"));
    ck_assert (!zc_uuid_valid ("11111111111114111811111111111111111a"));
    ck_assert (!zc_uuid_valid ("11111111-1111-4111-8111-11111111111\xc3"));
    ck_assert (!zc_uuid_valid ("genesis"));
    ck_assert (!zc_uuid_valid (NULL));
    ck_assert (zc_host_valid ("127.0.0.1"));
    ck_assert (zc_host_valid ("node-1.example.org"));
    ck_assert (zc_host_valid ("::1"));
    ck_assert (!zc_host_valid (""));
    ck_assert (!zc_host_valid ("-x"));
    ck_assert (!zc_host_valid (".x"));
    ck_assert (!zc_host_valid ("bad host"));
    ck_assert (!zc_host_valid ("h\xc3\xa9"));
    ck_assert (!zc_host_valid ("\xff"));
    ck_assert (!zc_host_valid (NULL));
    char long_host [ZC_HOST_MAX + 2];
    memset (long_host, 'a', sizeof long_host);
    long_host [ZC_HOST_MAX] = 0;
    ck_assert (zc_host_valid (long_host));
    long_host [ZC_HOST_MAX] = 'a';
    long_host [ZC_HOST_MAX + 1] = 0;
    ck_assert (!zc_host_valid (long_host));
}
END_TEST

//  Reads a whole file; caller frees.
static char *
s_read_file (const char *path, size_t *size_p)
{
    FILE *file = fopen (path, "rb");
    ck_assert_ptr_nonnull (file);
    struct stat info;
    ck_assert_int_eq (fstat (fileno (file), &info), 0);
    char *data = (char *) malloc ((size_t) info.st_size + 1);
    size_t size = fread (data, 1, (size_t) info.st_size, file);
    ck_assert_uint_eq (size, (size_t) info.st_size);
    fclose (file);
    *size_p = size;
    return data;
}

START_TEST (test_conformance_suite)
{
    const char *srcdir = getenv ("ZCHAIN_SRCDIR");
    char folder [1024];
    snprintf (folder, sizeof folder, "%s/tests/data/JSONTestSuite/test_parsing",
              srcdir? srcdir: ".");
    DIR *dir = opendir (folder);
    ck_assert_msg (dir != NULL, "no %s", folder);
    int yes = 0, no = 0, either = 0, either_taken = 0, failures = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        const char *name = entry->d_name;
        if (strlen (name) < 3 || name [1] != '_')
            continue;
        char path [2048];
        snprintf (path, sizeof path, "%s/%s", folder, name);
        size_t size = 0;
        char *data = s_read_file (path, &size);
        const char *error = zc_json_check (data, size, NULL);
        cJSON *json = zc_json_parse (data, size);
        if (name [0] == 'y') {
            yes++;
            //  Only U+0000 is taken by the grammar and refused by the tree
            bool nul = strstr (name, "null_escape") || strstr (name, "escaped_null");
            if (error || (!json && !nul)) {
                fprintf (stderr, "y_ refused: %s (%s)\n", name, error? error: "parse");
                failures++;
            }
        }
        else
        if (name [0] == 'n') {
            no++;
            if (!error || json) {
                fprintf (stderr, "n_ accepted: %s\n", name);
                failures++;
            }
        }
        else
        if (name [0] == 'i') {
            either++;
            either_taken += json != NULL;
            //  One line each, for doc/PROTOCOL.md's table
            if (getenv ("ZCHAIN_JSON_VERBOSE"))
                printf ("%s %s\n", name, json? "accepted": error? error: "refused");
        }
        cJSON_Delete (json);
        free (data);
    }
    closedir (dir);
    printf ("JSONTestSuite: %d y_ accepted, %d n_ rejected, %d i_ (%d accepted)\n",
            yes, no, either, either_taken);
    ck_assert_int_eq (failures, 0);
    ck_assert_int_ge (yes, 95);
    ck_assert_int_ge (no, 188);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("json");
    TCase *tcase = tcase_create ("core");
    tcase_add_test (tcase, test_numbers);
    tcase_add_test (tcase, test_strings);
    tcase_add_test (tcase, test_structure);
    tcase_add_test (tcase, test_depth);
    tcase_add_test (tcase, test_nul);
    tcase_add_test (tcase, test_secret_suffix);
    tcase_add_test (tcase, test_utf8_helpers);
    tcase_add_test (tcase, test_forms);
    tcase_add_test (tcase, test_conformance_suite);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
