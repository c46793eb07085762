/*
 * t.h: a tiny TAP producer for ckrun's test programs.
 *
 *   static void test_something(void) { CHECK(1 + 1 == 2); }
 *   int main(void) { RUN(test_something); return t_done(); }
 *
 * Every CHECK prints one TAP line; failures also print file:line and the
 * expression.  t_done() prints the plan and returns the exit status (0 iff all
 * checks passed).  A program that cannot run here calls t_skip_all(reason),
 * which prints "1..0 # SKIP reason" and exits 77.
 */
#ifndef KRUN_TESTS_T_H
#define KRUN_TESTS_T_H

#include <stdbool.h>

/* Record one check; prints "ok N - what" or "not ok N - what". */
bool t_check(bool ok, const char *what, const char *file, int line);
/* Print a "# ..." diagnostic line. */
void t_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan; returns 0 if every check passed, 1 otherwise. */
int t_done(void);
/* Print "1..0 # SKIP reason" and exit(77). */
void t_skip_all(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Name of the test function being run (set by RUN). */
extern const char *t_current;

#define CHECK(expr) t_check(!!(expr), #expr, __FILE__, __LINE__)
#define CHECK_EQ(a, b)                                                         \
    ({                                                                         \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                \
        bool t_ok_ = t_check(t_a_ == t_b_, #a " == " #b, __FILE__, __LINE__);  \
        if (!t_ok_)                                                            \
            t_diag("  got %lld, want %lld", t_a_, t_b_);                       \
        t_ok_;                                                                 \
    })
#define RUN(fn)                                                                \
    do {                                                                       \
        t_current = #fn;                                                       \
        fn();                                                                  \
    } while (0)

#endif /* KRUN_TESTS_T_H */
