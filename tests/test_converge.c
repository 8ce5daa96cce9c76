/*  test_converge.c - placeholder until written */
#include "testutil.h"
START_TEST (test_placeholder) { ck_assert_int_eq (1, 1); }
END_TEST
int main (void) { Suite *s = suite_create ("converge"); TCase *tc = tcase_create ("core");
    tcase_add_test (tc, test_placeholder); suite_add_tcase (s, tc); return testutil_run (s); }
