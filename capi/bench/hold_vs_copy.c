/* The cost of one read through the C API: shmframe_reader_hold_latest +
 * shmframe_hold_release (zero-copy) beside shmframe_reader_latest (a copy),
 * at 64 B, 1080p RGBA and 4K RGBA, in one process, rounds interleaved.
 * Prints the median over rounds of each round's mean per call.
 * Run by capi/bench/run.sh (release library). Timing only: it asserts nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmframe.h"

#define ROUNDS 21

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int fail(const char *what, int rc) {
    char message[512];
    shmframe_last_error(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, shmframe_status_str(rc), message);
    exit(1);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int n) {
    qsort(values, (size_t)n, sizeof *values, by_value);
    return values[n / 2];
}

/* One hold and its release, `calls` times; mean ns per call. */
static double hold_round(shmframe_reader *r, int calls) {
    uint64_t start = now_ns();
    for (int i = 0; i < calls; i++) {
        shmframe_hold *h;
        int rc = shmframe_reader_hold_latest(r, &h);
        if (rc != SHMFRAME_OK) fail("hold", rc);
        const uint8_t *data;
        size_t len;
        shmframe_hold_pixels(h, &data, &len);
        shmframe_hold_release(h);
    }
    return (double)(now_ns() - start) / calls;
}

/* One copy of the latest frame, `calls` times; mean ns per call. */
static double copy_round(shmframe_reader *r, uint8_t *buf, size_t cap, int calls) {
    uint64_t start = now_ns();
    for (int i = 0; i < calls; i++) {
        shmframe_frame_info info;
        int rc = shmframe_reader_latest(r, buf, cap, &info);
        if (rc != SHMFRAME_OK) fail("copy", rc);
    }
    return (double)(now_ns() - start) / calls;
}

int main(void) {
    const struct { const char *name; uint32_t w, h; shmframe_pixel_format format; int hold_calls, copy_calls; } sizes[] = {
        {"64 B gray8 8x8", 8, 8, SHMFRAME_FORMAT_GRAY8, 20000, 20000},
        {"1080p RGBA", 1920, 1080, SHMFRAME_FORMAT_RGBA8, 20000, 100},
        {"4K RGBA", 3840, 2160, SHMFRAME_FORMAT_RGBA8, 20000, 25},
    };
    shmframe_writer_options wopts;
    shmframe_writer_options_default(&wopts);
    wopts.slot_capacity = 3840u * 2160u * 4u;
    shmframe_writer *w;
    int rc = shmframe_writer_create("capi-bench-hold", &wopts, &w);
    if (rc < 0) fail("create", rc);
    shmframe_reader *r;
    if ((rc = shmframe_reader_open("capi-bench-hold", NULL, &r)) < 0) fail("open", rc);
    size_t cap = wopts.slot_capacity;
    uint8_t *pixels = (uint8_t *)calloc(cap, 1), *buf = (uint8_t *)malloc(cap);
    if (!pixels || !buf) return 1;
    memset(buf, 1, cap); /* fault the copy's pages in before timing */

    printf("| frame | hold + release (ns, median) | copy (ns, median) | copy / hold |\n");
    printf("|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        shmframe_frame_meta meta = shmframe_frame_meta_packed(sizes[s].w, sizes[s].h, sizes[s].format);
        size_t len;
        shmframe_frame_meta_len(&meta, &len);
        /* Publish until this reader's holds are granted (at a publish after its first try). */
        for (int tries = 0;; tries++) {
            if ((rc = shmframe_writer_publish(w, &meta, pixels, len)) < 0) fail("publish", rc);
            shmframe_hold *h;
            rc = shmframe_reader_hold_latest(r, &h);
            shmframe_hold_release(h);
            if (rc == SHMFRAME_OK) break;
            if (rc != SHMFRAME_E_NO_HOLD_FREE || tries > 2000) fail("first hold", rc);
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
        }
        double holds[ROUNDS], copies[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            holds[round] = hold_round(r, sizes[s].hold_calls);
            copies[round] = copy_round(r, buf, cap, sizes[s].copy_calls);
        }
        double hold = median(holds, ROUNDS), copy = median(copies, ROUNDS);
        printf("| %s | %.0f | %.0f | %.1fx |\n", sizes[s].name, hold, copy, copy / hold);
    }
    free(pixels);
    free(buf);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
    return 0;
}
