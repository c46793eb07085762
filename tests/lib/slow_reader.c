/* slow_reader.c: see slow_reader.h. */
#include "slow_reader.h"

#include <unistd.h>

static void *slow_reader_main(void *arg)
{
    struct slow_reader *r = arg;
    uint8_t buf[4096];
    size_t chunk = r->chunk && r->chunk < sizeof(buf) ? r->chunk : sizeof(buf);
    ssize_t n;

    usleep(r->start_ms * 1000);
    while ((n = read(r->fd, buf, chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++, r->got++)
            r->bad += buf[i] != r->byte(r->got);
        usleep(r->pause_us);
    }
    return NULL;
}

int slow_reader_start(struct slow_reader *r)
{
    r->got = r->bad = 0;
    return pthread_create(&r->thread, NULL, slow_reader_main, r);
}

void slow_reader_join(struct slow_reader *r)
{
    pthread_join(r->thread, NULL);
}
