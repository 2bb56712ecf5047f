/* unit.h -- a tiny TAP unit-test framework for `make check`.
 *
 * Each test file defines `static void test_xxx(void)` functions using
 * CHECK/CHECK_STREQ/CHECK_INTEQ and ends with
 *     UNIT_TESTS(test_a, test_b, ...)
 * which provides main(): it runs every test and prints one TAP line
 * ("ok N - name" / "not ok N - name") per test function.
 */
#ifndef LIB_TEST_UNIT_H
#define LIB_TEST_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_failures;

#define CHECK(cond) do { \
    if (!(cond)) { \
        printf("# %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        unit_failures++; \
    } } while (0)

#define CHECK_STREQ(a, b) do { \
    const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_)) { \
        printf("# %s:%d: expected \"%s\", got \"%s\" (%s)\n", __FILE__, \
               __LINE__, b_ ? b_ : "(null)", a_ ? a_ : "(null)", #a); \
        unit_failures++; \
    } } while (0)

#define CHECK_INTEQ(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { \
        printf("# %s:%d: expected %lld, got %lld (%s)\n", __FILE__, \
               __LINE__, b_, a_, #a); \
        unit_failures++; \
    } } while (0)

struct unit_test {
    const char *name;
    void (*fn)(void);
};

int unit_run(const struct unit_test *tests, int n);

#define UNIT_T(fn) { #fn, fn }
#define UNIT_TESTS(...) \
    int main(void) { \
        static const struct unit_test tests_[] = { __VA_ARGS__ }; \
        return unit_run(tests_, (int)(sizeof(tests_) / sizeof(tests_[0]))); \
    }

#endif
