/*
 * api_feature.c: krun_has_feature.  The one table saying which optional
 * features of upstream's build work in ckrun; flip an entry when its device
 * or blob lands (and update docs/API-STATUS.md).
 */
#include <errno.h>

#include "libkrun.h"

#include "util.h"

static const struct {
    bool known; /* a KRUN_FEATURE_* constant (3 and 5 are unused) */
    bool works;
} features[] = {
    [KRUN_FEATURE_NET] = {true, false},
    [KRUN_FEATURE_BLK] = {true, false},
    [KRUN_FEATURE_GPU] = {true, false},
    [KRUN_FEATURE_INPUT] = {true, false},
    [KRUN_FEATURE_TEE] = {true, false},
    [KRUN_FEATURE_AMD_SEV] = {true, false},
    [KRUN_FEATURE_INTEL_TDX] = {true, false},
    [KRUN_FEATURE_AWS_NITRO] = {true, false},
    [KRUN_FEATURE_VIRGL_RESOURCE_MAP2] = {true, false},
    [KRUN_FEATURE_INIT_BLOB] = {true, true},
};

KRUN_API int32_t krun_has_feature(uint64_t feature)
{
    if (feature >= ARRAY_SIZE(features) || !features[feature].known)
        return -EINVAL;
    return features[feature].works;
}
