/*
 * stdio_ports.h: give the workload the host's stdin/stdout/stderr through
 * the virtio-console ports named krun-stdin, krun-stdout and krun-stderr
 * (libkrun-behaviour.md §4.5, §5.1). Named stdio_ports, not stdio, so it can
 * never shadow <stdio.h>.
 */
#ifndef KRUN_INIT_STDIO_PORTS_H
#define KRUN_INIT_STDIO_PORTS_H

#define VIRTIO_PORTS_DIR "/sys/class/virtio-ports"

/*
 * Reopen fds 0, 1 and 2 on /dev/<port> for every port whose name file in
 * (VIRTIO_PORTS_DIR)/<port>/name says krun-stdin/stdout/stderr. Ports with
 * other names are left alone. Returns the number of fds redirected, or a
 * negative errno (message on stderr) if the directory cannot be read for a
 * reason other than not existing (a kernel without virtio-console ports) or
 * a port cannot be opened.
 */
int stdio_ports_redirect(void);

/*
 * Which fd a port name asks for: 0, 1, 2, or -1 for any other name. (name)
 * may end with a newline, as sysfs files do.
 */
int stdio_ports_fd_for_name(const char *name);

#endif /* KRUN_INIT_STDIO_PORTS_H */
