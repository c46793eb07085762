/* rng.c: virtio-rng (virtio 1.2 §5.4): one writable buffer comes back full
 * of random bytes, and the used-buffer interrupt bit is set in the ISR. */
#include "guest.h"
#include "tests.h"
#include "virtio.h"

static uint8_t rng_buf[64];

GUEST_TEST(test_rng)
{
    struct vdev d;
    struct vq q;
    struct vbuf b = {rng_buf, sizeof(rng_buf), true};
    const char *why = vdev_find(c, VIRTIO_ID_RNG, 0, &d);
    uint32_t nonzero = 0;
    int64_t len;

    if (!why)
        why = vdev_negotiate(&d, 0);
    if (!why)
        why = vq_setup(&d, &q, 0);
    if (!why)
        why = vdev_ready(&d);
    if (why)
        return why;
    len = vq_call(&q, &b, 1);
    if (len != sizeof(rng_buf))
        return "bad used element";
    for (unsigned i = 0; i < sizeof(rng_buf); i++)
        nonzero += rng_buf[i] != 0;
    put_str("rng bytes=");
    put_dec((uint64_t)len);
    put_str(" nonzero=");
    put_dec(nonzero);
    put_str(" isr=");
    put_dec(vdev_isr(&d));
    put_char('\n');
    vdev_isr_ack(&d, vdev_isr(&d));
    return nonzero > 32 ? NULL : "buffer not random";
}
