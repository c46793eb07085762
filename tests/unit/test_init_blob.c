/*
 * test_init_blob.c: the library embeds the guest init exactly as built
 * (src/bundle/init_blob.S) and serves it through krun_get_default_init.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libkrun.h"

#include "t.h"
#include "bundle/bundle.h"

static void test_blob_is_the_built_init(void)
{
    static unsigned char file[4 << 20];
    FILE *f = fopen(INIT_KRUN_PATH, "rb");
    size_t n = f ? fread(file, 1, sizeof(file), f) : 0, len = 0;
    const uint8_t *blob = init_blob(&len);

    if (f)
        fclose(f);
    CHECK(n > 0 && n < sizeof(file));
    CHECK_EQ(len, n);
    CHECK(len >= 4 && !memcmp(blob, "\177ELF", 4));
    CHECK(len == n && !memcmp(blob, file, n));
}

static void test_api(void)
{
    const uint8_t *data = NULL;
    size_t len = 0, blob_len;
    const uint8_t *blob = init_blob(&blob_len);

    CHECK_EQ(krun_has_feature(KRUN_FEATURE_INIT_BLOB), 1);
    CHECK_EQ(krun_get_default_init(&data, &len), 0);
    CHECK(data == blob && len == blob_len);
    CHECK_EQ(krun_get_default_init(NULL, &len), -EINVAL);
}

int main(void)
{
    RUN(test_blob_is_the_built_init);
    RUN(test_api);
    return t_done();
}
