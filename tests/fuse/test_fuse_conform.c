/*
 * test_fuse_conform.c: differential POSIX conformance.  Runs the conform
 * script ($FUSE_CONFORM) once in a plain host directory and once on a
 * ckrun-fuse mount of another fresh directory on the same host filesystem;
 * the two outputs must be identical, line for line, except the pairs listed
 * in $FUSE_CONFORM_ALLOW (conform.allow, each with its reason).  On a
 * mismatch the diff is printed as TAP diagnostics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusetest.h"
#include "t.h"

#define MAXLINES 2000
#define MAXALLOW 64

struct lines {
    char *l[MAXLINES];
    int n;
};

static struct ftmount m;

static bool load(const char *path, struct lines *ls)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    ls->n = 0;
    if (!f)
        return false;
    while ((len = getline(&line, &cap, f)) >= 0 && ls->n < MAXLINES) {
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = 0;
        ls->l[ls->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return true;
}

/* Run "conform DIR >OUT"; returns its exit status. */
static int run_conform(const char *dir, const char *out)
{
    char cmd[512];
    int st;

    snprintf(cmd, sizeof(cmd), "'%s' '%s' >'%s' 2>&1", getenv("FUSE_CONFORM"),
             dir, out);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int main(void)
{
    char host[128], hout[160], fout[160], cmd[512];
    struct lines h, f, allow;
    char *ah[MAXALLOW], *af[MAXALLOW];
    bool used[MAXALLOW] = {false};
    int na = 0, unexpected = 0, allowed = 0;

    ft_require();
    if (!getenv("FUSE_CONFORM") || !getenv("FUSE_CONFORM_ALLOW"))
        t_skip_all(
            "FUSE_CONFORM(_ALLOW) not set (run through make check-fuse)");
    if (!CHECK(load(getenv("FUSE_CONFORM_ALLOW"), &allow)))
        return t_done();
    for (int i = 0; i < allow.n; i++) {
        if (!strncmp(allow.l[i], "- ", 2) && i + 1 < allow.n &&
            !strncmp(allow.l[i + 1], "+ ", 2) && na < MAXALLOW) {
            ah[na] = allow.l[i] + 2;
            af[na++] = allow.l[++i] + 2;
        } else if (allow.l[i][0] != '#' && allow.l[i][0]) {
            t_diag("conform.allow: bad line %d: %s", i + 1, allow.l[i]);
            CHECK(!"conform.allow well-formed");
        }
    }

    ft_scratch(&m);
    snprintf(host, sizeof(host), "%s/host", m.base);
    snprintf(hout, sizeof(hout), "%s/host.out", m.base);
    snprintf(fout, sizeof(fout), "%s/fuse.out", m.base);
    mkdir(host, 0755);
    CHECK_EQ(run_conform(host, hout), 0);
    if (!ft_mount(&m, NULL, 0))
        t_skip_all("cannot mount");
    CHECK_EQ(run_conform(m.mnt, fout), 0);
    CHECK_EQ(ft_umount(&m), 0);

    CHECK(load(hout, &h) && load(fout, &f));
    if (!CHECK_EQ(h.n, f.n))
        unexpected++;
    for (int i = 0; i < h.n && i < f.n; i++) {
        bool ok = !strcmp(h.l[i], f.l[i]);

        for (int j = 0; !ok && j < na; j++) {
            if (!strcmp(h.l[i], ah[j]) && !strcmp(f.l[i], af[j])) {
                ok = used[j] = true;
                allowed++;
            }
        }
        if (!ok) {
            unexpected++;
            t_diag("line %d: host \"%s\" / fuse \"%s\"", i + 1, h.l[i], f.l[i]);
        }
    }
    for (int j = 0; j < na; j++)
        if (!used[j])
            t_diag("allow-list entry not seen (fixed?): - %s / + %s", ah[j],
                   af[j]);
    if (!CHECK_EQ(unexpected, 0)) {
        snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s' | sed 's/^/# /'", hout,
                 fout);
        if (system(cmd) < 0)
            t_diag("diff: %s", strerror(errno));
    }
    if (h.n > 0)
        t_diag("conform: %s; %d lines, %d allow-listed differences",
               h.l[h.n - 1] + 2, h.n, allowed);
    ft_cleanup(&m);
    return t_done();
}
