/* Waits: timeouts, a wait woken by a publish from another thread, and
 * SHMFRAME_CLOSED soon after the writer closes, even without a time limit. */
#include <pthread.h>
#include <time.h>

#include "check.h"

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

static void a_wait_times_out_with_no_frame(void) {
    shmframe_writer *w = test_writer("timeout", 2);
    shmframe_reader *r = test_reader("timeout");
    uint8_t out[64];
    shmframe_frame_info info;
    uint64_t start = now_ns();
    CHECK_RC(shmframe_reader_wait_next(r, out, sizeof out, 50000000, &info), SHMFRAME_NO_FRAME);
    CHECK_RC(shmframe_reader_wait_latest(r, out, sizeof out, 50000000, &info), SHMFRAME_NO_FRAME);
    CHECK(now_ns() - start >= 100000000u);
    /* A zero timeout does not wait, and returns a frame that is there. */
    CHECK_RC(shmframe_reader_wait_next(r, out, sizeof out, 0, &info), SHMFRAME_NO_FRAME);
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[16];
    fill_pattern(pixels, 16, 1);
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 16));
    CHECK_OK(shmframe_reader_wait_latest(r, out, sizeof out, 0, &info));
    CHECK(info.index == 1 && is_pattern(out, 16, 1));
    /* wait_latest wants a frame newer than the last one returned. */
    CHECK_RC(shmframe_reader_wait_latest(r, out, sizeof out, 0, &info), SHMFRAME_NO_FRAME);
    CHECK_OK(shmframe_reader_wait_next(r, out, sizeof out, 0, &info));
    CHECK(info.index == 1);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

struct publisher {
    shmframe_writer *w;
    int frames;
    long pause_ms;
    int close_at_end;
};

static void *publish_frames(void *arg) {
    struct publisher *p = (struct publisher *)arg;
    shmframe_frame_meta meta = shmframe_frame_meta_packed(8, 8, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[64];
    for (int n = 1; n <= p->frames; n++) {
        sleep_ms(p->pause_ms);
        fill_pattern(pixels, sizeof pixels, (uint64_t)n);
        CHECK_OK(shmframe_writer_publish(p->w, &meta, pixels, sizeof pixels));
    }
    if (p->close_at_end) shmframe_writer_close(p->w);
    return NULL;
}

/* Starts a thread publishing `frames` frames into `w`, `pause_ms` apart, and
 * closing `w` at the end if `close_at_end`; `p` must outlive the thread. */
static pthread_t start_publisher(struct publisher *p, shmframe_writer *w, int frames, long pause_ms,
                                 int close_at_end) {
    p->w = w;
    p->frames = frames;
    p->pause_ms = pause_ms;
    p->close_at_end = close_at_end;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, publish_frames, p) == 0);
    return thread;
}

static void waits_are_woken_by_publishes_and_end_with_closed(void) {
    shmframe_writer *w = test_writer("woken", 8);
    shmframe_reader *r = test_reader("woken");
    struct publisher p;
    pthread_t thread = start_publisher(&p, w, 20, 5, 1);
    uint8_t out[64];
    shmframe_frame_info info;
    uint64_t expected = 1;
    int rc;
    /* No time limit: every frame in order, then CLOSED. */
    while ((rc = shmframe_reader_wait_next(r, out, sizeof out, -1, &info)) == SHMFRAME_OK) {
        CHECK(info.index == expected && info.missed == 0);
        CHECK(is_pattern(out, 64, info.index));
        expected++;
    }
    CHECK_RC(rc, SHMFRAME_CLOSED);
    CHECK(expected == 21);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK_RC(shmframe_reader_wait_latest(r, out, sizeof out, -1, &info), SHMFRAME_CLOSED);
    CHECK_RC(shmframe_reader_latest(r, out, sizeof out, &info), SHMFRAME_OK);
    CHECK(info.index == 20);
    shmframe_reader_close(r);
}

static void a_wait_without_limit_outlasts_a_slow_writer(void) {
    shmframe_writer *w = test_writer("slow", 2);
    shmframe_reader *r = test_reader("slow");
    struct publisher p;
    /* 400 ms between frames: longer than any internal slice of a wait. */
    pthread_t thread = start_publisher(&p, w, 2, 400, 0);
    uint8_t out[64];
    shmframe_frame_info info;
    CHECK_OK(shmframe_reader_wait_next(r, out, sizeof out, -1, &info));
    CHECK(info.index == 1 && is_pattern(out, 64, 1));
    CHECK_OK(shmframe_reader_wait_latest(r, out, sizeof out, -1, &info));
    CHECK(info.index == 2 && is_pattern(out, 64, 2));
    CHECK(pthread_join(thread, NULL) == 0);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void a_long_wait_returns_closed_soon_after_the_writer_closes(void) {
    shmframe_writer *w = test_writer("closing", 2);
    shmframe_reader *r = test_reader("closing");
    struct publisher p;
    uint64_t start = now_ns();
    pthread_t thread = start_publisher(&p, w, 0, 0, 1);
    uint8_t out[64];
    shmframe_frame_info info;
    /* A 60 s limit, but the writer closes at once. */
    CHECK_RC(shmframe_reader_wait_latest(r, out, sizeof out, 60000000000, &info), SHMFRAME_CLOSED);
    CHECK(now_ns() - start < 30000000000u);
    CHECK(pthread_join(thread, NULL) == 0);
    shmframe_reader_close(r);
}

int main(void) {
    a_wait_times_out_with_no_frame();
    waits_are_woken_by_publishes_and_end_with_closed();
    a_wait_without_limit_outlasts_a_slow_writer();
    a_long_wait_returns_closed_soon_after_the_writer_closes();
    return 0;
}
