/* The main of every unit-test binary: runs the suite the test file defines. */
#include <check.h>
#include <stdlib.h>

#include "testlib.h"

int main(void)
{
    SRunner *sr = srunner_create(test_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
