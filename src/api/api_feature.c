/*
 * api_feature.c: krun_has_feature.  The one table saying which optional
 * features of upstream's build work in ckrun; flip an entry when its device
 * or blob lands (and update docs/API-STATUS.md).
 */
#define LOG_TAG "api"
#include <errno.h>
#include <stdbool.h>

#include "libkrun.h"

#include "api/api.h"
#include "log.h"
#include "util.h"

static const struct {
    bool known; /* a KRUN_FEATURE_* constant (3 and 5 are unused) */
    bool works;
} features[] = {
    [KRUN_FEATURE_NET] = {true, true},
    [KRUN_FEATURE_BLK] = {true, true},
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

static const char *const pending_names[PENDING_COUNT] = {
    [PENDING_NET] = "virtio-net",
    [PENDING_VSOCK] = "virtio-vsock/TSI",
    [PENDING_FIRMWARE] = "firmware boot",
    [PENDING_BOOT] = "this boot option",
};
static bool pending_allowed;

int api_pending(enum api_pending what, const char *fn)
{
    static uint32_t logged; /* one bit per kind */

    if (__atomic_load_n(&pending_allowed, __ATOMIC_RELAXED))
        return 0;
    if (!(__atomic_fetch_or(&logged, 1u << what, __ATOMIC_RELAXED) &
          (1u << what)))
        log_error("%s: %s is not implemented in ckrun yet", fn,
                  pending_names[what]);
    return -ENOTSUP;
}

void api_pending_allow(bool allow)
{
    __atomic_store_n(&pending_allowed, allow, __ATOMIC_RELAXED);
}
