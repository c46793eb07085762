/*
 * kcmdline.h: reading the kernel command line the way the kernel splits it
 * (whitespace outside double quotes; a '"' anywhere toggles quoting).
 */
#ifndef INIT_KCMDLINE_H
#define INIT_KCMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Number of tokens after the first bare "--" of (cmdline): the arguments the
 * host gave the workload.  The kernel hands init these *after* any unknown
 * bare words from before "--" (e.g. "nomodule" on a kernel without modules),
 * so init's own argv ends with exactly this many workload arguments.
 * Returns -1 if there is no "--" at all.
 */
ssize_t kcmdline_args_after_dashes(const char *cmdline);

/* Whether (cmdline) has the bare token (word) before "--". */
bool kcmdline_has_word(const char *cmdline, const char *word);

/*
 * Read /proc/cmdline into (buf) of (size) bytes (NUL-terminated).  Returns
 * false if it cannot be read.
 */
bool kcmdline_read(char *buf, size_t size);

#endif /* INIT_KCMDLINE_H */
