/*  =========================================================================
    test_seen.c - the bounded set of held ids (issue 11)
    =========================================================================
*/

#include "../testutil.h"

static void
s_id (int n, char *id)
{
    char text [32];
    snprintf (text, sizeof text, "id-%d", n);
    zc_sha256_hex (text, strlen (text), id);
}

START_TEST (test_add_and_has)
{
    zc_seen_t *seen = zc_seen_new (4);
    char id [ZC_HASH_HEX + 1];
    s_id (1, id);
    ck_assert (!zc_seen_has (seen, id));
    zc_seen_add (seen, id);
    ck_assert (zc_seen_has (seen, id));
    zc_seen_add (seen, id);             //  twice is once
    ck_assert_uint_eq (zc_seen_size (seen), 1);
    //  Only ids: anything else is never held
    zc_seen_add (seen, "not an id");
    ck_assert (!zc_seen_has (seen, "not an id"));
    ck_assert (!zc_seen_has (seen, NULL));
    ck_assert_uint_eq (zc_seen_size (seen), 1);
    zc_seen_destroy (&seen);
    ck_assert_ptr_null (seen);
}
END_TEST

//  The oldest id goes first, and the set never grows past its capacity.
START_TEST (test_bounded_oldest_first)
{
    zc_seen_t *seen = zc_seen_new (3);
    char id [ZC_HASH_HEX + 1];
    for (int n = 0; n < 10; n++) {
        s_id (n, id);
        zc_seen_add (seen, id);
        ck_assert_uint_le (zc_seen_size (seen), 3);
    }
    for (int n = 0; n < 10; n++) {
        s_id (n, id);
        ck_assert_msg (zc_seen_has (seen, id) == (n >= 7), "id %d", n);
    }
    zc_seen_destroy (&seen);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("seen");
    TCase *tcase = tcase_create ("set");
    tcase_add_test (tcase, test_add_and_has);
    tcase_add_test (tcase, test_bounded_oldest_first);
    suite_add_tcase (suite, tcase);
    return testutil_run (suite);
}
