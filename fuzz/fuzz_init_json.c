/*
 * fuzz_init_json.c: the guest init's JSON parser and the config-file reader
 * on top of it (init/json.c, init/config.c). Input: the bytes of a
 * /.krun_config.json. Checks that the tree is consistent with what the
 * parser claims (child counts, string lengths, depth).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../init/config.h"
#include "../init/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the tree; abort() on any inconsistency. */
static void walk(const struct json *j, int depth)
{
    size_t n = 0;

    if (depth > JSON_MAX_DEPTH + 1)
        abort();
    if (j->type == JSON_STRING && j->str[j->len] != '\0')
        abort();
    if (j->type != JSON_ARRAY && j->type != JSON_OBJECT) {
        if (j->child)
            abort();
        return;
    }
    for (const struct json *c = j->child; c; c = c->next, n++) {
        if ((j->type == JSON_OBJECT) != (c->key != NULL))
            abort();
        walk(c, depth + 1);
    }
    if (n != j->len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct file_config fc = {0};
    struct json *root = NULL;
    char err[256];

    if (json_parse(text, size, &root, err, sizeof(err)) == 0) {
        walk(root, 0);
        json_get(root, "process");
    } else if (root || !memchr(err, '\0', sizeof(err))) {
        abort();
    }
    json_free(root);
    if (config_parse(text, size, &fc, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < fc.args.n; i++)
            if (!fc.args.v[i] || fc.args.v[fc.args.n])
                abort();
    }
    file_config_free(&fc);
    return 0;
}
