/* args.c: validation and copies of krun_* arguments. */
#include "api/args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Length of the UTF-8 sequence starting with byte (c), 0 if invalid. */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/*
 * RFC 3629: reject overlong forms, UTF-16 surrogates (U+D800..DFFF) and code
 * points above U+10FFFF, as Rust's str validation does.
 */
bool args_utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s) {
        size_t n = utf8_seq_len(s[0]);
        unsigned char lo = 0x80, hi = 0xbf;

        if (n == 0)
            return false;
        if (s[0] == 0xe0)
            lo = 0xa0;
        else if (s[0] == 0xed)
            hi = 0x9f;
        else if (s[0] == 0xf0)
            lo = 0x90;
        else if (s[0] == 0xf4)
            hi = 0x8f;
        for (size_t i = 1; i < n; i++) {
            if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
                return false;
        }
        s += n;
    }
    return true;
}

int args_str(const char *s, char **out)
{
    if (!s || !args_utf8_ok(s))
        return -EINVAL;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

int args_str_opt(const char *s, char **out)
{
    *out = NULL;
    return s ? args_str(s, out) : 0;
}

void args_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

int args_strv(const char *const *v, char ***out)
{
    size_t n = 0;
    char **copy;

    if (!v)
        return -EINVAL;
    while (v[n]) {
        if (n == VM_MAX_ARGS || !args_utf8_ok(v[n]))
            return -EINVAL;
        n++;
    }
    copy = calloc(n + 1, sizeof(*copy));
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup(v[i]);
        if (!copy[i]) {
            args_strv_free(copy);
            return -ENOMEM;
        }
    }
    *out = copy;
    return 0;
}

void *args_push(void *parr, size_t *nr, size_t size)
{
    void **p = parr;
    char *grown;

    if (*nr >= VM_MAX_ARGS)
        return NULL;
    grown = realloc(*p, (*nr + 1) * size);
    if (!grown)
        return NULL;
    *p = grown;
    memset(grown + *nr * size, 0, size);
    return grown + (*nr)++ * size;
}

int args_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -EINVAL;
    }
    *out = v;
    return 0;
}
