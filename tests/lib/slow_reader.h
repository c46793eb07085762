/*
 * slow_reader.h: a host-side reader thread for output tests: it starts late,
 * reads in small chunks with pauses until EOF, and checks every byte against
 * the stream the test expects.
 */
#ifndef KRUN_TESTS_SLOW_READER_H
#define KRUN_TESTS_SLOW_READER_H

#include <pthread.h>
#include <stdint.h>

struct slow_reader {
    int fd;                      /* read until EOF; not closed */
    unsigned int start_ms;       /* sleep before the first read */
    unsigned int chunk;          /* bytes per read, at most 4096 */
    unsigned int pause_us;       /* sleep after each read */
    uint8_t (*byte)(uint64_t i); /* the expected byte at offset i */
    uint64_t got, bad;           /* bytes read; of those, not as expected */
    pthread_t thread;
};

/* Start (r)'s thread; returns 0 or a positive errno (pthread_create). */
int slow_reader_start(struct slow_reader *r);

/* Wait for (r) to reach EOF. */
void slow_reader_join(struct slow_reader *r);

#endif /* KRUN_TESTS_SLOW_READER_H */
