/*
 * hostfd.h: the caller's fds that the VMM switches to non-blocking (console
 * ports, serial outputs), put back as they were when the VM ends.  O_NONBLOCK
 * lives in the open file description, which the caller's shell shares (a
 * terminal, a pipe): left set, the next program on that terminal gets EAGAIN.
 */
#ifndef KRUN_HOSTFD_H
#define KRUN_HOSTFD_H

/*
 * Make (fd) non-blocking; the first time an fd number is seen, its flags
 * before are recorded.  At most HOSTFD_MAX fds are recorded (later ones are
 * still switched, and logged).  Build steps only (one thread).
 */
#define HOSTFD_MAX 32
void hostfd_set_nonblock(int fd);

/*
 * Give every recorded fd its flags back, the last recorded first, so fds
 * that share one file description (0, 1 and 2 on a terminal) end as they
 * were found; then forget them.  The exit path, after the drain.
 */
void hostfd_restore(void);

#endif /* KRUN_HOSTFD_H */
