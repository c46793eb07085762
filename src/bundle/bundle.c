/* bundle.c: access to the embedded guest init (init_blob.S). */
#include "bundle/bundle.h"

extern const uint8_t init_blob_start[];
extern const uint8_t init_blob_end[];

const uint8_t *init_blob(size_t *len)
{
    *len = (size_t)(init_blob_end - init_blob_start);
    return init_blob_start;
}
