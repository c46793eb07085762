/*
 * fusetest.h: helpers for the real-mount tests: start ckrun-fuse on a
 * scratch share (path in $CKRUN_FUSE), wait for the mount, stop it.
 */
#ifndef KRUN_TESTS_FUSETEST_H
#define KRUN_TESTS_FUSETEST_H

#include <stdbool.h>
#include <sys/types.h>

struct ftmount {
    char base[64];  /* scratch directory */
    char share[96]; /* base/share (or as given) */
    char mnt[96];   /* base/mnt */
    pid_t pid;      /* the ckrun-fuse process */
};

/* Skip the whole program (77) unless root, /dev/fuse and $CKRUN_FUSE. */
void ft_require(void);
/* Make base/, base/share, base/mnt and a canary base/canary. */
void ft_scratch(struct ftmount *m);
/* Start ckrun-fuse (extra option or NULL; nofile > 0 sets RLIMIT_NOFILE)
 * and wait until mounted.  Returns true on success. */
bool ft_mount(struct ftmount *m, const char *opt, long nofile);
/* Unmount through SIGTERM; returns ckrun-fuse's exit status (its stderr is
 * in base/log). */
int ft_umount(struct ftmount *m);
/* Remove the scratch directory. */
void ft_cleanup(struct ftmount *m);
/* Read a whole small file into buf (NUL-terminated); -errno or length. */
int ft_read(const char *path, char *buf, size_t size);
/* Write a string to a file (create/truncate); 0 or -errno. */
int ft_write(const char *path, const char *s);

#endif /* KRUN_TESTS_FUSETEST_H */
