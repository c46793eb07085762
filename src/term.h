/*
 * term.h: host terminals the VM puts in raw mode, restored on every exit
 * path.  A process-wide registry, because the process ends with _exit() from
 * the VMM loop and no destructor would run.
 */
#ifndef KRUN_TERM_H
#define KRUN_TERM_H

#include <stdbool.h>

/*
 * Put the tty (fd) in raw mode (cfmakeraw), keeping ISIG if (keep_isig) so
 * that Ctrl-C still signals the host process.  Remembers the previous mode
 * for term_restore_all().  Returns 0, or -ENOTTY / -errno.  Build thread.
 */
int term_make_raw(int fd, bool keep_isig);

/*
 * Restore every terminal term_make_raw() changed, in reverse order.
 * Async-signal-safe (tcsetattr is), idempotent.  Any thread.
 */
void term_restore_all(void);

/*
 * The window size of the first tty among (fds) (n entries, -1 ignored) into
 * (*cols, *rows).  Returns the fd it used, or -1 (then 0x0).
 */
int term_size(const int *fds, unsigned int n, unsigned short *cols,
              unsigned short *rows);

#endif /* KRUN_TERM_H */
