/* test_fuse_inode: the passthrough backend's inode table. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/inode.h"
#include "t.h"

static struct stat fake_stat(ino_t ino, mode_t mode)
{
    struct stat st = {.st_dev = 7, .st_ino = ino, .st_mode = mode};

    return st;
}

/* A host inode number reused for a file of another type, while the guest
 * still knows the old one, gets a new node id: the old entry held no fd, so
 * it could not keep the number from being reused. */
static void test_reused_inode_number(void)
{
    struct itab t;
    struct stat file = fake_stat(100, S_IFREG | 0644);
    struct stat dir = fake_stat(100, S_IFDIR | 0755);
    uint64_t a, a2, d;
    struct inode *old;

    CHECK_EQ(itab_init(&t, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), 8), 0);
    a = itab_lookup(&t, t.root, "a", &file);
    CHECK(a > 1);
    a2 = itab_lookup(&t, t.root, "a", &file); /* same file: same id */
    CHECK_EQ(a2, a);
    d = itab_lookup(&t, t.root, "d", &dir);
    CHECK(d != 0 && d != a);
    old = itab_get(&t, a); /* the old id lives until the guest forgets it */
    CHECK(old && old->type == S_IFREG);
    if (old)
        itab_put(&t, old);
    CHECK(itab_find(&t, 7, 100) == itab_get(&t, d));
    itab_forget(&t, a, 2);
    CHECK(itab_get(&t, a) == NULL);
    itab_destroy(&t);
}

int main(void)
{
    RUN(test_reused_inode_number);
    return t_done();
}
