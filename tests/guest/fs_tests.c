#include "tests.h"
GUEST_TEST(test_fs)
{
    return "todo";
}
GUEST_TEST(test_fs_init)
{
    return "todo";
}
GUEST_TEST(test_fs_badlen)
{
    return "todo";
}
GUEST_TEST(test_fs_badchain)
{
    return "todo";
}
