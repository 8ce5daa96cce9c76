/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    test_jcs.c - unit tests of zc_jcs, the RFC 8785 canonical JSON writer

    Checks the number vectors of RFC 8785 appendix B, the structured and
    sorting examples of section 3.2, and every way a tree can fail to have
    a canonical form (NaN, duplicates, invalid UTF-8, raw text), plus the
    strictness of zc_json_parse.
    =========================================================================
*/

#include "../testutil.h"
#include <math.h>

//  Canonical text of JSON text, or NULL; caller frees.
static char *
s_canonical (const char *text)
{
    cJSON *json = zc_json_parse (text, strlen (text));
    if (!json)
        return NULL;
    char *canonical = zc_jcs_serialize (json);
    cJSON_Delete (json);
    return canonical;
}

//  Asserts that JSON text canonicalizes to expected.
static void
s_assert_canonical (const char *text, const char *expected)
{
    char *canonical = s_canonical (text);
    ck_assert_ptr_nonnull (canonical);
    ck_assert_str_eq (canonical, expected);
    free (canonical);
}

//  Asserts that a tree has no canonical form, then frees it.
static void
s_assert_rejected (cJSON *json)
{
    ck_assert_ptr_nonnull (json);
    char *canonical = zc_jcs_serialize (json);
    ck_assert_ptr_null (canonical);
    cJSON_Delete (json);
}

//  One RFC 8785 appendix B vector: IEEE 754 bits and the expected text
typedef struct {
    uint64_t bits;              //  the double's bit pattern
    const char *expected;       //  its ECMAScript form
} s_vector_t;

static const s_vector_t s_vectors [] = {
    { 0x0000000000000000ULL, "0" },
    { 0x8000000000000000ULL, "0" },
    { 0x0000000000000001ULL, "5e-324" },
    { 0x8000000000000001ULL, "-5e-324" },
    { 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
    { 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
    { 0x4340000000000000ULL, "9007199254740992" },
    { 0xc340000000000000ULL, "-9007199254740992" },
    { 0x4430000000000000ULL, "295147905179352830000" },
    { 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
    { 0x44b52d02c7e14af6ULL, "1e+23" },
    { 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
    { 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
    { 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
    { 0x444b1ae4d6e2ef50ULL, "1e+21" },
    { 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
    { 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
    { 0x41b3de4355555553ULL, "333333333.3333332" },
    { 0x41b3de4355555554ULL, "333333333.33333325" },
    { 0x41b3de4355555555ULL, "333333333.3333333" },
    { 0x41b3de4355555556ULL, "333333333.3333334" },
    { 0x41b3de4355555557ULL, "333333333.33333343" },
    { 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
    { 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
};

//  Powers of two, where the round-trip interval is narrower below the
//  value: the correctly rounded 16 digits do not read back, but the next
//  16-digit number up does, and ECMAScript wants the shortest
static const s_vector_t s_boundaries [] = {
    { 0x0060000000000000ULL, "7.120236347223045e-307" },
    { 0x0100000000000000ULL, "7.291122019556398e-304" },
    { 0x0420000000000000ULL, "8.209073602596753e-289" },
};

//  Checks a table of vectors.
static void
s_check_vectors (const s_vector_t *vectors, size_t count)
{
    size_t index;
    for (index = 0; index < count; index++) {
        double value;
        memcpy (&value, &vectors [index].bits, sizeof value);
        char buffer [32];
        int length = zc_jcs_number (value, buffer, sizeof buffer);
        ck_assert_msg (length > 0 && strcmp (buffer, vectors [index].expected) == 0,
                       "0x%016llx: got '%s', want '%s'",
                       (unsigned long long) vectors [index].bits,
                       length > 0? buffer: "(error)", vectors [index].expected);
        ck_assert_int_eq (length, (int) strlen (vectors [index].expected));
    }
}

START_TEST (test_number_vectors)
{
    s_check_vectors (s_vectors, sizeof s_vectors / sizeof s_vectors [0]);
    s_check_vectors (s_boundaries, sizeof s_boundaries / sizeof s_boundaries [0]);
}
END_TEST

START_TEST (test_number_forms)
{
    //  Each layout of ECMAScript's algorithm, and its boundaries
    static const struct { double value; const char *expected; } cases [] = {
        { 1, "1" }, { -1, "-1" }, { 100, "100" }, { 0.1, "0.1" },
        { 0.5, "0.5" }, { 4.5, "4.5" }, { 1e20, "100000000000000000000" },
        { 1e21, "1e+21" }, { 1.5e21, "1.5e+21" }, { 1.23e22, "1.23e+22" },
        { 1e-6, "0.000001" }, { 1.5e-6, "0.0000015" }, { 1e-7, "1e-7" },
        { 1.25e-7, "1.25e-7" }, { 1e30, "1e+30" }, { 2e-3, "0.002" },
        { 1e-27, "1e-27" }, { 123456.789, "123456.789" },
        { 9007199254740993.0, "9007199254740992" },
        { -0.0, "0" }
    };
    size_t index;
    for (index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char buffer [32];
        int length = zc_jcs_number (cases [index].value, buffer, sizeof buffer);
        ck_assert_int_gt (length, 0);
        ck_assert_str_eq (buffer, cases [index].expected);
    }
}
END_TEST

START_TEST (test_number_rejected)
{
    char buffer [32];
    ck_assert_int_eq (zc_jcs_number (NAN, buffer, sizeof buffer), -1);
    ck_assert_int_eq (zc_jcs_number (INFINITY, buffer, sizeof buffer), -1);
    ck_assert_int_eq (zc_jcs_number (-INFINITY, buffer, sizeof buffer), -1);
    //  Too small a buffer is an error, not a truncation
    ck_assert_int_eq (zc_jcs_number (12345, buffer, 5), -1);
    ck_assert_int_eq (zc_jcs_number (12345, buffer, 6), 5);
    ck_assert_str_eq (buffer, "12345");

    s_assert_rejected (cJSON_CreateNumber (NAN));
    s_assert_rejected (cJSON_CreateNumber (INFINITY));
    cJSON *array = cJSON_CreateArray ();
    cJSON_AddItemToArray (array, cJSON_CreateNumber (1));
    cJSON_AddItemToArray (array, cJSON_CreateNumber (-INFINITY));
    s_assert_rejected (array);
    //  cJSON reads an out-of-range literal as infinity
    char *canonical = s_canonical ("[1e400]");
    ck_assert_ptr_null (canonical);
}
END_TEST

START_TEST (test_structured_example)
{
    //  RFC 8785 section 3.2.2
    s_assert_canonical (
        "{\"numbers\":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"
        "\"string\":\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
        "\"literals\":[null,true,false]}",
        "{\"literals\":[null,true,false],"
        "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
        "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}
END_TEST

START_TEST (test_sorting_example)
{
    //  RFC 8785 section 3.2.3: UTF-16 order puts U+1F600 (surrogates
    //  D83D DE00) before U+FB33, where UTF-8 byte order would not
    s_assert_canonical (
        "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
        "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\","
        "\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
        "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
        "\"\xe2\x82\xac\":\"Euro Sign\","
        "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
        "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    //  A name sorts before every longer name it prefixes
    s_assert_canonical ("{\"ab\":1,\"a\":2,\"\":3,\"b\":4}",
                        "{\"\":3,\"a\":2,\"ab\":1,\"b\":4}");
}
END_TEST

START_TEST (test_nested)
{
    s_assert_canonical (
        " { \"b\" : { \"z\" : 1, \"a\" : [ { \"y\" : 2, \"x\" : 3 }, [ ], { } ] },\n"
        "   \"a\" : null } \n",
        "{\"a\":null,\"b\":{\"a\":[{\"x\":3,\"y\":2},[],{}],\"z\":1}}");
    //  Scalars stand alone, arrays keep their order
    s_assert_canonical ("\"x\"", "\"x\"");
    s_assert_canonical ("true", "true");
    s_assert_canonical ("null", "null");
    s_assert_canonical ("-0", "0");
    s_assert_canonical ("[3,1,2]", "[3,1,2]");
    s_assert_canonical ("{}", "{}");
    s_assert_canonical ("[]", "[]");
}
END_TEST

START_TEST (test_string_escapes)
{
    s_assert_canonical ("\"\\b\\f\\n\\r\\t\\u0001\\u001F\\u0020\\u007f\"",
                        "\"\\b\\f\\n\\r\\t\\u0001\\u001f \x7f\"");
    s_assert_canonical ("\"\\u00e9\\u2028\"", "\"\xc3\xa9\xe2\x80\xa8\"");
    //  Names are escaped like values
    s_assert_canonical ("{\"a\\nb\":\"\\\"\"}", "{\"a\\nb\":\"\\\"\"}");
}
END_TEST

START_TEST (test_duplicates)
{
    s_assert_rejected (zc_json_parse ("{\"a\":1,\"a\":2}", 13));
    const char *nested = "{\"x\":[{\"k\":1,\"j\":2,\"k\":3}]}";
    s_assert_rejected (zc_json_parse (nested, strlen (nested)));
    //  The same name escaped two ways is still one name
    const char *escaped = "{\"\\u0061\":1,\"a\":2}";
    s_assert_rejected (zc_json_parse (escaped, strlen (escaped)));
    //  The same name in different objects is fine
    s_assert_canonical ("{\"a\":{\"a\":1},\"b\":{\"a\":2}}",
                        "{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
}
END_TEST

START_TEST (test_invalid_utf8)
{
    static const char *bad [] = {
        "\xff",                 //  never valid
        "a\x80",                //  stray continuation
        "\xc0\xaf",             //  overlong '/'
        "\xe0\x80\xaf",         //  overlong, 3 bytes
        "\xed\xa0\x80",         //  UTF-16 surrogate
        "\xf4\x90\x80\x80",     //  past U+10FFFF
        "\xe2\x82",             //  truncated
        "\xf0\x9f\x98"          //  truncated 4-byte
    };
    size_t index;
    for (index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        s_assert_rejected (cJSON_CreateString (bad [index]));
        cJSON *object = cJSON_CreateObject ();
        cJSON_AddNumberToObject (object, bad [index], 1);
        s_assert_rejected (object);
    }
    //  And through the parser, which passes raw bytes through
    char *canonical = s_canonical ("[\"\xc3\x28\"]");
    ck_assert_ptr_null (canonical);
    //  Valid extremes pass
    s_assert_canonical ("\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"");
}
END_TEST

START_TEST (test_other_rejects)
{
    s_assert_rejected (cJSON_CreateRaw ("{\"a\":1}"));
    cJSON *object = cJSON_CreateObject ();
    cJSON_AddItemToObject (object, "raw", cJSON_CreateRaw ("1"));
    s_assert_rejected (object);
    ck_assert_ptr_null (zc_jcs_serialize (NULL));
}
END_TEST

START_TEST (test_built_tree)
{
    //  A tree built in code, as zc_tx builds what it signs
    cJSON *object = cJSON_CreateObject ();
    cJSON_AddStringToObject (object, "sender", "AAAA");
    cJSON_AddNumberToObject (object, "amount", 0.1 + 0.2);
    cJSON_AddBoolToObject (object, "ok", 1);
    cJSON_AddNullToObject (object, "memo");
    char *canonical = zc_jcs_serialize (object);
    ck_assert_str_eq (canonical,
        "{\"amount\":0.30000000000000004,\"memo\":null,\"ok\":true,\"sender\":\"AAAA\"}");
    free (canonical);
    cJSON_Delete (object);

    //  A long document grows the buffer many times
    cJSON *array = cJSON_CreateArray ();
    int index;
    for (index = 0; index < 20000; index++)
        cJSON_AddItemToArray (array, cJSON_CreateString ("0123456789"));
    canonical = zc_jcs_serialize (array);
    ck_assert_ptr_nonnull (canonical);
    ck_assert_uint_eq (strlen (canonical), 20000 * 13 + 1);
    free (canonical);
    cJSON_Delete (array);
}
END_TEST

START_TEST (test_parse)
{
    cJSON *json = zc_json_parse ("{\"a\":1} \t\r\n", 11);
    ck_assert_ptr_nonnull (json);
    cJSON_Delete (json);
    //  Exactly size bytes: what follows is not read
    json = zc_json_parse ("[1]garbage", 3);
    ck_assert_ptr_nonnull (json);
    cJSON_Delete (json);
    ck_assert_ptr_null (zc_json_parse ("[1]garbage", 4));
    ck_assert_ptr_null (zc_json_parse ("{} x", 4));
    ck_assert_ptr_null (zc_json_parse ("{}{}", 4));
    ck_assert_ptr_null (zc_json_parse ("{\"a\":", 5));
    ck_assert_ptr_null (zc_json_parse ("", 0));
    ck_assert_ptr_null (zc_json_parse ("   ", 3));
    ck_assert_ptr_null (zc_json_parse (NULL, 4));
    ck_assert_ptr_null (zc_json_parse ("{\"a\":1}", 4));
    //  NUL in any form would make cJSON cut a string short
    ck_assert_ptr_null (zc_json_parse ("{}\0", 3));
    ck_assert_ptr_null (zc_json_parse ("[\"a\0b\"]", 7));
    ck_assert_ptr_null (zc_json_parse ("[\"a\\u0000b\"]", 12));
    //  ...but an escaped backslash followed by u0000 is just text
    json = zc_json_parse ("[\"a\\\\u0000b\"]", 13);
    ck_assert_ptr_nonnull (json);
    ck_assert_str_eq (cJSON_GetArrayItem (json, 0)->valuestring, "a\\u0000b");
    cJSON_Delete (json);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("jcs");
    TCase *tcase = tcase_create ("core");
    tcase_add_test (tcase, test_number_vectors);
    tcase_add_test (tcase, test_number_forms);
    tcase_add_test (tcase, test_number_rejected);
    tcase_add_test (tcase, test_structured_example);
    tcase_add_test (tcase, test_sorting_example);
    tcase_add_test (tcase, test_nested);
    tcase_add_test (tcase, test_string_escapes);
    tcase_add_test (tcase, test_duplicates);
    tcase_add_test (tcase, test_invalid_utf8);
    tcase_add_test (tcase, test_other_rejects);
    tcase_add_test (tcase, test_built_tree);
    tcase_add_test (tcase, test_parse);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
