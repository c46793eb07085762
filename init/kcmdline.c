/* kcmdline.c: the kernel command line as the kernel tokenizes it. */
#include "kcmdline.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/*
 * The next token of (*p): its start in (*tok) and length in (*len); advances
 * (*p).  Returns false at the end.  Quotes stay in the token, as only
 * equality with unquoted words matters here.
 */
static bool next_token(const char **p, const char **tok, size_t *len)
{
    const char *s = *p;
    bool quoted = false;

    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    if (!*s)
        return false;
    *tok = s;
    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\n'))
            break;
    }
    *len = (size_t)(s - *tok);
    *p = s;
    return true;
}

static bool is(const char *tok, size_t len, const char *word)
{
    return len == strlen(word) && !strncmp(tok, word, len);
}

ssize_t kcmdline_args_after_dashes(const char *cmdline)
{
    const char *p = cmdline, *tok;
    size_t len;
    ssize_t n = 0;
    bool after = false;

    while (next_token(&p, &tok, &len)) {
        if (after)
            n++;
        else if (is(tok, len, "--"))
            after = true;
    }
    return after ? n : -1;
}

bool kcmdline_has_word(const char *cmdline, const char *word)
{
    const char *p = cmdline, *tok;
    size_t len;

    while (next_token(&p, &tok, &len)) {
        if (is(tok, len, "--"))
            return false;
        if (is(tok, len, word))
            return true;
    }
    return false;
}

bool kcmdline_read(char *buf, size_t size)
{
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return false;
    r = read(fd, buf, size - 1);
    close(fd);
    buf[r > 0 ? r : 0] = '\0';
    return r > 0;
}
