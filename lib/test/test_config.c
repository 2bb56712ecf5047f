/* test_config.c -- not written yet. */
#include "lib/test/unit.h"
static void test_placeholder(void) { CHECK(0); }
UNIT_TESTS(UNIT_T(test_placeholder))
