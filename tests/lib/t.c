/* t.c: TAP output for tests/lib/t.h. */
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *t_current = "";
static int t_count;
static int t_failed;

bool t_check(bool ok, const char *what, const char *file, int line)
{
    t_count++;
    if (ok) {
        printf("ok %d - %s: %s\n", t_count, t_current, what);
    } else {
        t_failed++;
        printf("not ok %d - %s: %s\n# at %s:%d\n", t_count, t_current, what,
               file, line);
    }
    fflush(stdout);
    return ok;
}

void t_diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

int t_done(void)
{
    printf("1..%d\n", t_count);
    fflush(stdout);
    return t_failed ? 1 : 0;
}

void t_skip_all(const char *fmt, ...)
{
    va_list ap;

    fputs("1..0 # SKIP ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    exit(77);
}
