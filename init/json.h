/*
 * json.h: a small JSON parser of our own for the guest init.  It parses the
 * whole document into a tree (RFC 8259: strings with escapes including
 * \uXXXX surrogate pairs, numbers, literals, nesting) with bounded size,
 * depth and node count, so hostile input is rejected, never crashes.
 */
#ifndef KRUN_INIT_JSON_H
#define KRUN_INIT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_INPUT (4u << 20) /* bytes */
#define JSON_MAX_DEPTH 64         /* nested arrays/objects */
#define JSON_MAX_NODES 200000     /* values in one document */

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json {
    enum json_type type;
    char *key;      /* member name when the parent is an object, else NULL */
    size_t key_len; /* bytes in key (it may contain NUL) */
    char *str;      /* STRING: decoded, NUL-terminated; NUMBER: its text */
    size_t len;     /* STRING: bytes in str; ARRAY/OBJECT: children */
    double num;     /* NUMBER: value */
    struct json *child; /* ARRAY/OBJECT: first element or member */
    struct json *next;  /* next sibling */
};

/*
 * Parse (len) bytes at (text) into a tree stored in (*out). Returns 0, or
 * -EINVAL with a message naming the offset and the problem in (err), or
 * -E2BIG if the input is larger than JSON_MAX_INPUT, or -ENOMEM. Free the
 * tree with json_free().
 */
int json_parse(const char *text, size_t len, struct json **out, char *err,
               size_t err_len);

/* Free a tree from json_parse() (NULL is fine). */
void json_free(struct json *root);

/*
 * The first member of object (obj) whose name equals (key) ignoring ASCII
 * case, or NULL if there is none or (obj) is not an object.
 */
const struct json *json_get(const struct json *obj, const char *key);

/* Name of a type, for error messages ("string", "array", ...). */
const char *json_type_name(enum json_type type);

#endif /* KRUN_INIT_JSON_H */
