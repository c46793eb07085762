/* mktree DIR NDIRS NFILES: create DIR/dNNN/fNNNNN (NFILES in total, empty
 * files spread over NDIRS directories), fast. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long ndirs, nfiles;
    char p[4096];

    if (argc != 4)
        return 2;
    ndirs = atol(argv[2]);
    nfiles = atol(argv[3]);
    for (long i = 0; i < nfiles; i++) {
        int fd;

        snprintf(p, sizeof(p), "%s/d%03ld", argv[1], i % ndirs);
        if (i < ndirs && mkdir(p, 0755) < 0)
            return 1;
        snprintf(p, sizeof(p), "%s/d%03ld/f%06ld", argv[1], i % ndirs, i);
        fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            return 1;
        close(fd);
    }
    return 0;
}
