/* Helpers of the C tests: checks that print what failed and the library's
 * last error message, and deterministic pixels. Each test is a plain C
 * program (also compiled as C++) run by capi/tests/c_programs.rs with
 * SHMFRAME_DIR set to a fresh directory. */
#ifndef SHMFRAME_TEST_CHECK_H
#define SHMFRAME_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmframe.h"

static void check_fail(const char *file, int line, const char *what, int rc) {
    char message[512];
    shmframe_last_error(message, sizeof message);
    fprintf(stderr, "%s:%d: check failed: %s (rc %d = %s; last error: %s)\n", file, line, what, rc,
            shmframe_status_str(rc), message);
    abort();
}

/* The call returns `expected`. */
#define CHECK_RC(call, expected)                                      \
    do {                                                              \
        int check_rc_ = (call);                                       \
        if (check_rc_ != (expected)) check_fail(__FILE__, __LINE__, #call " == " #expected, check_rc_); \
    } while (0)

#define CHECK_OK(call) CHECK_RC(call, SHMFRAME_OK)

/* A condition holds. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) check_fail(__FILE__, __LINE__, #cond, 0);             \
    } while (0)

/* Byte `i` of frame `number`: every byte depends on both. */
static inline uint8_t pattern_byte(uint64_t number, size_t i) {
    return (uint8_t)(i * 31u + number * 7u);
}

static inline void fill_pattern(uint8_t *pixels, size_t len, uint64_t number) {
    for (size_t i = 0; i < len; i++) pixels[i] = pattern_byte(number, i);
}

static inline int is_pattern(const uint8_t *pixels, size_t len, uint64_t number) {
    for (size_t i = 0; i < len; i++)
        if (pixels[i] != pattern_byte(number, i)) return 0;
    return 1;
}

/* A small writer for tests: `slots` slots of 64 KiB. */
static inline shmframe_writer *test_writer(const char *name, uint32_t slots) {
    shmframe_writer_options opts;
    shmframe_writer_options_default(&opts);
    opts.slot_count = slots;
    opts.slot_capacity = 1 << 16;
    opts.holds = 0; /* exactly `slots` slots: no holds to make room for */
    shmframe_writer *w = NULL;
    CHECK_OK(shmframe_writer_create(name, &opts, &w));
    CHECK(w != NULL);
    return w;
}

/* A reader of stream `name` with the default options; the stream must exist. */
static inline shmframe_reader *test_reader(const char *name) {
    shmframe_reader *r = NULL;
    CHECK_OK(shmframe_reader_open(name, NULL, &r));
    CHECK(r != NULL);
    return r;
}

#endif
