/* test_init_rlimits.c: KRUN_RLIMITS parsing in both syntaxes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "../../init/rlimits.h"

static char err[160];

static void test_both_syntaxes(void)
{
    const char *c = "\"6=4096:8192,7:1024:2048\"";
    struct rlimit_item it;

    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(it.resource, RLIMIT_NPROC);
    CHECK_EQ(it.limit.rlim_cur, 4096);
    CHECK_EQ(it.limit.rlim_max, 8192);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(it.resource, RLIMIT_NOFILE);
    CHECK_EQ(it.limit.rlim_cur, 1024);
    CHECK_EQ(it.limit.rlim_max, 2048);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
}

static void test_limits_of_values(void)
{
    const char *c = "15=0:18446744073709551615";
    struct rlimit_item it;

    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(it.resource, 15);
    CHECK(it.limit.rlim_max == RLIM_INFINITY);
    c = "0=18446744073709551616:1";
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), -EINVAL);
}

static void test_bad_items_are_named_and_skipped(void)
{
    static const char *const bad[] = {
        "7=1",    "7",      "=1:2",    "x=1:2",
        "7=a:2",  "7=1:",   "7=1:2:3", "16=1:2",
        "-1=1:2", "7=-1:2", "7 =1:2",  "99999999999999999999=1:2",
    };
    struct rlimit_item it;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *c = bad[i];

        CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, bad[i]) != NULL);
    }
    /* A bad item in the middle does not stop the others. */
    const char *c = "6=1:2,oops,7=3:4";

    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "\"oops\""));
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(it.limit.rlim_max, 4);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
}

static void test_empty_and_separators(void)
{
    const char *c = "";
    struct rlimit_item it;

    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
    c = "\"\"";
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
    c = ",,7=1:2,,";
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 1);
    CHECK_EQ(rlimits_next(&c, &it, err, sizeof(err)), 0);
}

static void test_apply(void)
{
    struct rlimit now;

    getrlimit(RLIMIT_CORE, &now);
    /* Lowering the soft limit to itself always works; one bad item. */
    char spec[96];

    snprintf(spec, sizeof(spec), "4=%llu:%llu,bad",
             (unsigned long long)now.rlim_cur,
             (unsigned long long)now.rlim_max);
    CHECK_EQ(rlimits_apply(spec), 1);
}

int main(void)
{
    RUN(test_both_syntaxes);
    RUN(test_limits_of_values);
    RUN(test_bad_items_are_named_and_skipped);
    RUN(test_empty_and_separators);
    RUN(test_apply);
    return t_done();
}
