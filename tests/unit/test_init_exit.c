/*
 * test_init_exit.c: how the guest init turns the workload's end into the
 * VM's exit code (125/126/127/128+N), running real child processes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "../../init/exitcode.h"

/* A status as waitpid() reports it for a child doing (how). */
static int status_of(int how)
{
    pid_t pid = fork();
    int st = 0;

    if (pid == 0) {
        if (how < 0)
            raise(-how);
        _exit(how);
    }
    waitpid(pid, &st, 0);
    return st;
}

static void test_status_mapping(void)
{
    CHECK_EQ(exit_code_from_status(status_of(0)), 0);
    CHECK_EQ(exit_code_from_status(status_of(1)), 1);
    CHECK_EQ(exit_code_from_status(status_of(42)), 42);
    CHECK_EQ(exit_code_from_status(status_of(255)), 255);
    CHECK_EQ(exit_code_from_status(status_of(-SIGKILL)), 137);
    CHECK_EQ(exit_code_from_status(status_of(-SIGTERM)), 143);
    CHECK_EQ(exit_code_from_status(status_of(-SIGUSR1)), 128 + SIGUSR1);
}

static void test_exec_errno_mapping(void)
{
    CHECK_EQ(exit_code_from_exec_errno(ENOENT), 127);
    CHECK_EQ(exit_code_from_exec_errno(EACCES), 126);
    CHECK_EQ(exit_code_from_exec_errno(ENOEXEC), 126);
    CHECK_EQ(exit_code_from_exec_errno(ENOTDIR), 126);
}

/* Run (argv) with PATH=/usr/bin:/bin through the init's own path. */
static int run(const char *const argv[])
{
    struct init_config cfg = {0};
    int code;

    strv_push_all(&cfg.argv, argv);
    strv_push(&cfg.env, "PATH=/usr/bin:/bin");
    code = exitcode_run_workload(&cfg);
    init_config_free(&cfg);
    return code;
}

static void test_run_workload(void)
{
    char dir[] = "/tmp/test_init_exit.XXXXXX", path[64];
    FILE *f;

    CHECK_EQ(run((const char *const[]){"sh", "-c", "exit 42", NULL}), 42);
    CHECK_EQ(run((const char *const[]){"true", NULL}), 0);
    CHECK_EQ(run((const char *const[]){"sh", "-c", "kill -9 $$", NULL}), 137);
    CHECK_EQ(run((const char *const[]){"no-such-program-here", NULL}), 127);
    CHECK_EQ(run((const char *const[]){"/no/such/path", NULL}), 127);
    /* An existing file that is not executable: 126. */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/noexec", dir);
    f = fopen(path, "w");
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    chmod(path, 0644);
    CHECK_EQ(run((const char *const[]){path, NULL}), 126);
    /* The workload sees exactly the configured environment. */
    CHECK_EQ(run((const char *const[]){"sh", "-c",
                                       "[ \"$PATH\" = /usr/bin:/bin ] && "
                                       "[ -z \"$HOME$TERM\" ]",
                                       NULL}),
             0);
    unlink(path);
    rmdir(dir);
}

static void test_orphans_are_reaped(void)
{
    int st;

    /* As a subreaper we get the orphans, as PID 1 would. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    CHECK_EQ(run((const char *const[]){
                 "sh", "-c", "(sh -c 'exit 9' &); sleep 0.3; exit 7", NULL}),
             7);
    CHECK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD);
}

int main(void)
{
    RUN(test_status_mapping);
    RUN(test_exec_errno_mapping);
    RUN(test_run_workload);
    RUN(test_orphans_are_reaped);
    return t_done();
}
