/*
 * replay.c: run saved fuzz inputs through a target's LLVMFuzzerTestOneInput
 * without libFuzzer, with any compiler.  Usage: replay FILE|DIR...; each file
 * runs in its own child so a crash counts as one failure.  Prints
 * "NAME: N passed, N failed" and exits 1 if any failed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int passed, failed;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) < 0)
        goto err;
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        goto err;
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
err:
    free(buf);
    fclose(f);
    return -1;
}

static void replay_one(const char *path)
{
    int status = 0;
    pid_t pid = fork();

    if (pid == 0)
        _exit(run_file(path) == 0 ? 0 : 2);
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL %s (status %#x)\n", path, status);
        failed++;
        return;
    }
    passed++;
}

static void replay_path(const char *path)
{
    struct dirent **names;
    struct stat st;
    int n;

    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        replay_one(path);
        return;
    }
    n = scandir(path, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char child[4096];

        if (names[i]->d_name[0] != '.' &&
            snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name) <
                (int)sizeof(child))
            replay_one(child);
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        replay_path(argv[i]);
    printf("%s: %u passed, %u failed\n", argv[0], passed, failed);
    return failed ? 1 : 0;
}
