/* json.c: recursive-descent JSON parser with bounded depth, size and nodes. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

struct parser {
    const char *s;
    size_t len;
    size_t pos;
    size_t nodes;
    char *err;
    size_t err_len;
    int rc; /* first error: -EINVAL or -ENOMEM */
};

static const char *const type_names[] = {
    [JSON_NULL] = "null",     [JSON_FALSE] = "false",   [JSON_TRUE] = "true",
    [JSON_NUMBER] = "number", [JSON_STRING] = "string", [JSON_ARRAY] = "array",
    [JSON_OBJECT] = "object",
};

const char *json_type_name(enum json_type type)
{
    if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
        return "invalid";
    return type_names[type];
}

__attribute__((format(printf, 2, 3))) static void fail(struct parser *p,
                                                       const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->rc)
        return;
    p->rc = -EINVAL;
    if (!p->err_len)
        return;
    n = snprintf(p->err, p->err_len, "offset %zu: ", p->pos);
    if (n < 0 || (size_t)n >= p->err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->err_len - n, fmt, ap);
    va_end(ap);
}

static void fail_nomem(struct parser *p)
{
    if (!p->rc && p->err_len)
        snprintf(p->err, p->err_len, "out of memory");
    if (!p->rc)
        p->rc = -ENOMEM;
}

/* Current byte, or -1 at the end of input. */
static int peek(const struct parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static const char *describe(int c)
{
    static char buf[16];

    if (c < 0)
        return "end of input";
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, sizeof(buf), "'%c'", c);
    else
        snprintf(buf, sizeof(buf), "byte 0x%02x", (unsigned)c);
    return buf;
}

static struct json *new_node(struct parser *p, enum json_type type)
{
    struct json *n;

    if (++p->nodes > JSON_MAX_NODES) {
        fail(p, "more than %d values", JSON_MAX_NODES);
        return NULL;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        fail_nomem(p);
        return NULL;
    }
    n->type = type;
    return n;
}

static int hex4(struct parser *p, unsigned *out)
{
    unsigned v = 0;

    if (p->len - p->pos < 4) {
        fail(p, "truncated \\u escape");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + i];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else {
            fail(p, "bad hex digit %s in \\u escape", describe(c));
            return -1;
        }
        v = v << 4 | d;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = 0xc0 | cp >> 6;
        dst[1] = 0x80 | (cp & 0x3f);
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = 0xe0 | cp >> 12;
        dst[1] = 0x80 | (cp >> 6 & 0x3f);
        dst[2] = 0x80 | (cp & 0x3f);
        return 3;
    }
    dst[0] = 0xf0 | cp >> 18;
    dst[1] = 0x80 | (cp >> 12 & 0x3f);
    dst[2] = 0x80 | (cp >> 6 & 0x3f);
    dst[3] = 0x80 | (cp & 0x3f);
    return 4;
}

/* After "\u": one code point, combining a surrogate pair. */
static int unicode_escape(struct parser *p, unsigned *cp)
{
    unsigned hi, lo;

    if (hex4(p, &hi))
        return -1;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        fail(p, "lone low surrogate \\u%04x", hi);
        return -1;
    }
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 0;
    }
    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
        p->s[p->pos + 1] != 'u') {
        fail(p, "high surrogate \\u%04x not followed by \\u", hi);
        return -1;
    }
    p->pos += 2;
    if (hex4(p, &lo))
        return -1;
    if (lo < 0xdc00 || lo > 0xdfff) {
        fail(p, "high surrogate \\u%04x followed by \\u%04x", hi, lo);
        return -1;
    }
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 0;
}

/* One escape after the backslash; appends to dst, returns bytes or -1. */
static int escape(struct parser *p, char *dst)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    unsigned cp;
    int c = peek(p);

    if (c == 'u') {
        p->pos++;
        if (unicode_escape(p, &cp))
            return -1;
        return put_utf8(dst, cp);
    }
    hit = c > 0 ? strchr(from, c) : NULL;
    if (!hit) {
        fail(p, "invalid escape \\%s", c < 0 ? "<end>" : describe(c));
        return -1;
    }
    p->pos++;
    *dst = to[hit - from];
    return 1;
}

/* At the opening quote: decode a string into a new buffer. */
static char *string(struct parser *p, size_t *out_len)
{
    size_t start = ++p->pos, n = 0;
    char *buf;

    /* Decoded output is never longer than the escaped input. */
    while (p->pos < p->len && p->s[p->pos] != '"')
        p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    if (p->pos >= p->len) {
        p->pos = start - 1;
        fail(p, "unterminated string");
        return NULL;
    }
    buf = malloc(p->pos - start + 1);
    if (!buf) {
        fail_nomem(p);
        return NULL;
    }
    p->pos = start;
    for (int c; (c = peek(p)) != '"';) {
        int w = 1;

        if (c < 0x20) {
            fail(p, "unescaped control character %s in string", describe(c));
            free(buf);
            return NULL;
        }
        p->pos++;
        if (c == '\\')
            w = escape(p, buf + n);
        else
            buf[n] = c;
        if (w < 0) {
            free(buf);
            return NULL;
        }
        n += w;
    }
    p->pos++;
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

static size_t digits(struct parser *p)
{
    size_t start = p->pos;

    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos - start;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static struct json *number(struct parser *p)
{
    size_t start = p->pos, n;
    struct json *node;

    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0')
        p->pos++;
    else if (!digits(p))
        return fail(p, "expected a digit, got %s", describe(peek(p))), NULL;
    if (peek(p) == '.' && (p->pos++, !digits(p)))
        return fail(p, "expected a digit after '.'"), NULL;
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!digits(p))
            return fail(p, "expected a digit in the exponent"), NULL;
    }
    node = new_node(p, JSON_NUMBER);
    if (!node)
        return NULL;
    n = p->pos - start;
    node->str = strndup(p->s + start, n);
    if (!node->str) {
        free(node);
        return fail_nomem(p), NULL;
    }
    node->len = n;
    node->num = strtod(node->str, NULL);
    return node;
}

static struct json *value(struct parser *p, int depth);

/* Append (child) to (parent)'s list, keeping (*tail) current. */
static void append(struct json *parent, struct json ***tail, struct json *c)
{
    **tail = c;
    *tail = &c->next;
    parent->len++;
}

/* At '[' or '{': elements or members until the closing bracket. */
static struct json *container(struct parser *p, int depth, bool object)
{
    struct json *node = new_node(p, object ? JSON_OBJECT : JSON_ARRAY);
    struct json **tail = node ? &node->child : NULL;
    char close = object ? '}' : ']';

    if (!node)
        return NULL;
    if (depth >= JSON_MAX_DEPTH) {
        fail(p, "nesting deeper than %d", JSON_MAX_DEPTH);
        return node;
    }
    p->pos++;
    skip_ws(p);
    if (peek(p) == close) {
        p->pos++;
        return node;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        struct json *c;

        skip_ws(p);
        if (object) {
            if (peek(p) != '"')
                return fail(p, "expected a member name, got %s",
                            describe(peek(p))),
                       node;
            key = string(p, &key_len);
            if (!key)
                return node;
            skip_ws(p);
            if (peek(p) != ':') {
                fail(p, "expected ':' after member name, got %s",
                     describe(peek(p)));
                free(key);
                return node;
            }
            p->pos++;
        }
        c = value(p, depth + 1);
        if (!c) {
            free(key);
            return node;
        }
        c->key = key;
        c->key_len = key_len;
        append(node, &tail, c);
        if (p->rc)
            return node;
        skip_ws(p);
        if (peek(p) == close) {
            p->pos++;
            return node;
        }
        if (peek(p) != ',')
            return fail(p, "expected ',' or '%c', got %s", close,
                        describe(peek(p))),
                   node;
        p->pos++;
    }
}

static struct json *literal(struct parser *p, const char *word,
                            enum json_type type)
{
    size_t n = strlen(word);

    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n)) {
        fail(p, "unexpected %s", describe(peek(p)));
        return NULL;
    }
    p->pos += n;
    return new_node(p, type);
}

/*
 * One value. Returns NULL on an error before a node existed; a container
 * that failed half-way is returned (so its children get freed) with p->rc set.
 */
static struct json *value(struct parser *p, int depth)
{
    struct json *node;
    int c;

    skip_ws(p);
    c = peek(p);
    switch (c) {
    case '{':
    case '[':
        return container(p, depth, c == '{');
    case '"':
        node = new_node(p, JSON_STRING);
        if (node && !(node->str = string(p, &node->len))) {
            free(node);
            return NULL;
        }
        return node;
    case 't':
        return literal(p, "true", JSON_TRUE);
    case 'f':
        return literal(p, "false", JSON_FALSE);
    case 'n':
        return literal(p, "null", JSON_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return number(p);
        fail(p, "expected a value, got %s", describe(c));
        return NULL;
    }
}

int json_parse(const char *text, size_t len, struct json **out, char *err,
               size_t err_len)
{
    struct parser p = {.s = text, .len = len, .err = err, .err_len = err_len};
    struct json *root;

    *out = NULL;
    if (err_len)
        err[0] = '\0';
    if (len > JSON_MAX_INPUT) {
        if (err_len)
            snprintf(err, err_len, "document of %zu bytes exceeds %u", len,
                     JSON_MAX_INPUT);
        return -E2BIG;
    }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) /* UTF-8 BOM */
        p.pos = 3;
    root = value(&p, 0);
    if (!p.rc) {
        skip_ws(&p);
        if (p.pos < p.len)
            fail(&p, "unexpected %s after the document", describe(peek(&p)));
    }
    if (p.rc) {
        json_free(root);
        return p.rc;
    }
    *out = root;
    return 0;
}

void json_free(struct json *root)
{
    while (root) {
        struct json *next = root->next;

        json_free(root->child); /* recursion bounded by JSON_MAX_DEPTH */
        free(root->key);
        free(root->str);
        free(root);
        root = next;
    }
}

const struct json *json_get(const struct json *obj, const char *key)
{
    size_t n = strlen(key);

    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (const struct json *m = obj->child; m; m = m->next)
        if (m->key_len == n && !strncasecmp(m->key, key, n))
            return m;
    return NULL;
}
