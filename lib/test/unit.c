/* unit.c -- the runner behind unit.h. */
#include <stdio.h>

#include "lib/test/unit.h"

int unit_failures;

int unit_run(const struct unit_test *tests, int n)
{
    int failed = 0;
    printf("1..%d\n", n);
    for (int i = 0; i < n; i++) {
        int before = unit_failures;
        tests[i].fn();
        int ok = unit_failures == before;
        if (!ok) failed++;
        printf("%sok %d - %s\n", ok ? "" : "not ", i + 1, tests[i].name);
        fflush(stdout);
    }
    return failed ? 1 : 0;
}
