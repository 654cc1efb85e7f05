/* Zero-copy holds: held pixels never change while the writer publishes
 * thousands of frames (copied in or filled in place); no hold free is told
 * at once and the copy still works; holds outlive their reader and their
 * writer; in-order holds count missed frames; a hold may be released on
 * another thread. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SIDE 64
#define LEN (SIDE * SIDE * 4)

static shmframe_frame_meta frame_meta(void) { return shmframe_frame_meta_packed(SIDE, SIDE, SHMFRAME_FORMAT_RGBA8); }

/* A writer honouring `holds` holds in all (its ring gets holds + 2 slots). */
static shmframe_writer *holding_writer(const char *name, uint32_t holds) {
    shmframe_writer_options opts;
    shmframe_writer_options_default(&opts);
    opts.slot_count = 2;
    opts.slot_capacity = LEN;
    opts.holds = holds;
    shmframe_writer *w = NULL;
    CHECK_OK(shmframe_writer_create(name, &opts, &w));
    return w;
}

/* A reader asking for `holds` holds. */
static shmframe_reader *reader_asking(const char *name, uint32_t holds) {
    shmframe_reader_options opts;
    shmframe_reader_options_default(&opts);
    CHECK(opts.holds == 2);
    opts.holds = holds;
    shmframe_reader *r = NULL;
    CHECK_OK(shmframe_reader_open(name, &opts, &r));
    return r;
}

/* Publishes the next frame (pixels pattern(n) for frame n); returns n. */
static uint64_t publish_next(shmframe_writer *w) {
    static uint8_t pixels[LEN];
    uint64_t n = shmframe_writer_frames_published(w) + 1;
    fill_pattern(pixels, LEN, n);
    shmframe_frame_meta meta = frame_meta();
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, LEN));
    return n;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Holds the latest frame, publishing while no hold is free: a reader's
 * holds are granted at the writer's next publish after its first try. */
static shmframe_hold *hold_when_granted(shmframe_writer *w, shmframe_reader *r) {
    shmframe_hold *h = NULL;
    for (int tries = 0; tries < 20000; tries++) {
        int rc = shmframe_reader_hold_latest(r, &h);
        if (rc == SHMFRAME_OK) return h;
        CHECK_RC(rc, SHMFRAME_E_NO_HOLD_FREE);
        CHECK(h == NULL);
        publish_next(w);
        sleep_ms(1);
    }
    check_fail(__FILE__, __LINE__, "holds never granted", SHMFRAME_E_NO_HOLD_FREE);
    return NULL;
}

/* Stream `name` whose writer honours `writer_holds` holds, and a reader of it
 * asking for `reader_holds`, once granted: returns the hold that proved it. */
static shmframe_hold *granted_stream(const char *name, uint32_t writer_holds, uint32_t reader_holds,
                                     shmframe_writer **w, shmframe_reader **r) {
    *w = holding_writer(name, writer_holds);
    publish_next(*w);
    *r = reader_asking(name, reader_holds);
    return hold_when_granted(*w, *r);
}

/* The hold's pixels are frame `number`'s pattern, LEN bytes. */
static void check_held(const shmframe_hold *h, uint64_t number) {
    const uint8_t *data = NULL;
    size_t len = 0;
    shmframe_frame_info info;
    CHECK_OK(shmframe_hold_pixels(h, &data, &len));
    CHECK_OK(shmframe_hold_info(h, &info));
    CHECK(len == LEN && info.len == LEN);
    CHECK(info.number == number && info.meta.width == SIDE && info.meta.format == SHMFRAME_FORMAT_RGBA8);
    CHECK(is_pattern(data, len, number));
}

static void held_pixels_never_change_while_thousands_are_published(void) {
    shmframe_writer *w;
    shmframe_reader *r;
    shmframe_hold *first = granted_stream("identical", 4, 2, &w, &r);
    shmframe_frame_info info;
    CHECK_OK(shmframe_hold_info(first, &info));
    uint64_t first_number = info.number;
    uint64_t second_number = publish_next(w);
    shmframe_hold *second = NULL;
    CHECK_OK(shmframe_reader_hold_latest(r, &second));
    check_held(first, first_number);
    check_held(second, second_number);
    /* A copy of the held bytes, to compare byte for byte at the end. */
    const uint8_t *data;
    size_t len;
    CHECK_OK(shmframe_hold_pixels(first, &data, &len));
    uint8_t *before = (uint8_t *)malloc(len);
    CHECK(before != NULL);
    memcpy(before, data, len);

    /* Every other slot is written over and over; copies read exact frames. */
    static uint8_t out[LEN];
    for (int i = 0; i < 5000; i++) {
        uint64_t n = publish_next(w);
        if (i % 500 == 0) {
            CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
            CHECK(info.number == n && is_pattern(out, LEN, n));
        }
    }
    /* Frames filled in place (begin/commit) pass held slots by too. */
    shmframe_frame_meta meta = frame_meta();
    for (int i = 0; i < 1000; i++) {
        void *slot;
        size_t cap;
        CHECK_OK(shmframe_writer_begin(w, &meta, &slot, &cap));
        fill_pattern((uint8_t *)slot, cap, shmframe_writer_frames_published(w) + 1);
        CHECK_OK(shmframe_writer_commit(w));
    }
    CHECK_OK(shmframe_hold_pixels(first, &data, &len));
    CHECK(len == LEN && memcmp(data, before, len) == 0);
    check_held(first, first_number);
    check_held(second, second_number);
    free(before);
    shmframe_hold_release(first);
    shmframe_hold_release(second);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void no_hold_free_is_told_at_once_and_a_copy_still_reads(void) {
    shmframe_writer *w;
    shmframe_reader *r;
    shmframe_hold *a = granted_stream("exhausted", 4, 2, &w, &r);
    shmframe_hold *b = NULL;
    CHECK_OK(shmframe_reader_hold_latest(r, &b));
    uint64_t n = publish_next(w);
    /* NULL out-pointers of a live hold are refused (bad_arguments.c: a NULL hold). */
    const uint8_t *data;
    size_t len;
    CHECK_RC(shmframe_hold_pixels(a, NULL, &len), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_hold_pixels(a, &data, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_hold_info(a, NULL), SHMFRAME_E_INVALID);

    /* Both of this reader's holds are taken: refused, with *out NULL. */
    shmframe_hold *c = (shmframe_hold *)&c; /* not NULL before the call */
    CHECK_RC(shmframe_reader_hold_latest(r, &c), SHMFRAME_E_NO_HOLD_FREE);
    CHECK(c == NULL);
    c = (shmframe_hold *)&c;
    CHECK_RC(shmframe_reader_hold_next(r, &c), SHMFRAME_E_NO_HOLD_FREE);
    CHECK(c == NULL);
    /* A wait without a limit does not wait for a hold: a newer frame is
     * there, so it returns at once (the test's time limit catches a hang). */
    CHECK_RC(shmframe_reader_wait_hold_latest(r, -1, &c), SHMFRAME_E_NO_HOLD_FREE);
    CHECK_RC(shmframe_reader_wait_hold_next(r, -1, &c), SHMFRAME_E_NO_HOLD_FREE);
    char message[256];
    shmframe_last_error(message, sizeof message);
    CHECK(strstr(message, "no hold is free") != NULL);

    /* The fallback: a copy of that same frame. */
    static uint8_t out[LEN];
    shmframe_frame_info info;
    CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
    CHECK(info.number == n && is_pattern(out, LEN, n));

    /* A hold released is free again. */
    shmframe_hold_release(a);
    CHECK_OK(shmframe_reader_hold_latest(r, &c));
    check_held(c, n);
    shmframe_hold_release(b);
    shmframe_hold_release(c);

    /* A reader asking for no holds, and a writer honouring none, never hold. */
    shmframe_reader *copier = reader_asking("exhausted", 0);
    CHECK_RC(shmframe_reader_hold_latest(copier, &c), SHMFRAME_E_NO_HOLD_FREE);
    CHECK(c == NULL);
    shmframe_reader_close(copier);
    shmframe_writer *plain = holding_writer("no-holds", 0);
    publish_next(plain);
    shmframe_reader *plain_reader = reader_asking("no-holds", 2);
    for (int i = 0; i < 20; i++) {
        CHECK_RC(shmframe_reader_hold_latest(plain_reader, &c), SHMFRAME_E_NO_HOLD_FREE);
        publish_next(plain);
    }
    shmframe_reader_close(plain_reader);
    shmframe_writer_close(plain);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void holds_outlive_their_reader_and_their_writer(void) {
    shmframe_writer *w;
    shmframe_reader *r;
    shmframe_hold *h = granted_stream("outlive", 4, 2, &w, &r);
    shmframe_frame_info info;
    CHECK_OK(shmframe_hold_info(h, &info));
    uint64_t number = info.number;
    shmframe_reader_close(r);
    /* The writer still honours the hold of a closed reader's handle. */
    for (int i = 0; i < 1000; i++) publish_next(w);
    check_held(h, number);
    shmframe_writer_close(w);
    check_held(h, number);
    shmframe_hold_release(h);
}

static void in_order_holds_count_missed_frames_and_a_refused_frame_stays_next(void) {
    shmframe_writer *w;
    shmframe_reader *r;
    shmframe_hold *granted = granted_stream("in-order", 2, 2, &w, &r);
    shmframe_hold_release(granted);
    shmframe_frame_info info;
    /* Catch up: hold every frame in order until none is left. */
    shmframe_hold *h = NULL;
    int rc;
    while ((rc = shmframe_reader_hold_next(r, &h)) == SHMFRAME_OK) shmframe_hold_release(h);
    CHECK_RC(rc, SHMFRAME_NO_FRAME);
    CHECK(h == NULL);

    uint64_t first = publish_next(w);
    uint64_t second = publish_next(w);
    CHECK_OK(shmframe_reader_hold_next(r, &h));
    check_held(h, first);
    CHECK_OK(shmframe_hold_info(h, &info));
    CHECK(info.missed == 0);
    shmframe_hold *h2 = NULL;
    CHECK_OK(shmframe_reader_wait_hold_next(r, 0, &h2));
    check_held(h2, second);
    /* Both holds taken: the third frame is refused and stays next. */
    uint64_t third = publish_next(w);
    shmframe_hold *h3 = NULL;
    CHECK_RC(shmframe_reader_hold_next(r, &h3), SHMFRAME_E_NO_HOLD_FREE);
    shmframe_hold_release(h);
    CHECK_OK(shmframe_reader_hold_next(r, &h3));
    check_held(h3, third);
    shmframe_hold_release(h2);
    shmframe_hold_release(h3);

    /* Lapped: the ring holds 4 slots, so 10 frames on, some were overwritten. */
    for (int i = 0; i < 10; i++) publish_next(w);
    uint64_t expected = third + 1, missed = 0;
    while ((rc = shmframe_reader_hold_next(r, &h)) == SHMFRAME_OK) {
        CHECK_OK(shmframe_hold_info(h, &info));
        missed += info.missed;
        CHECK(info.number == expected + info.missed);
        check_held(h, info.number);
        expected = info.number + 1;
        shmframe_hold_release(h);
    }
    CHECK_RC(rc, SHMFRAME_NO_FRAME);
    CHECK(expected == third + 11);
    CHECK(missed > 0);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void waits_with_nothing_to_hold_time_out_then_tell_the_end(void) {
    shmframe_writer *w = holding_writer("nothing", 4);
    shmframe_reader *r = reader_asking("nothing", 2);
    shmframe_hold *h = (shmframe_hold *)&h;
    CHECK_RC(shmframe_reader_wait_hold_latest(r, 20000000, &h), SHMFRAME_NO_FRAME);
    CHECK(h == NULL);
    CHECK_RC(shmframe_reader_wait_hold_next(r, 0, &h), SHMFRAME_NO_FRAME);
    /* Granted, then caught up: nothing newer to hold. */
    publish_next(w);
    shmframe_hold_release(hold_when_granted(w, r));
    int rc;
    while ((rc = shmframe_reader_hold_next(r, &h)) == SHMFRAME_OK) shmframe_hold_release(h);
    CHECK_RC(rc, SHMFRAME_NO_FRAME);
    CHECK_RC(shmframe_reader_wait_hold_latest(r, 0, &h), SHMFRAME_NO_FRAME);
    shmframe_writer_close(w);
    CHECK_RC(shmframe_reader_hold_next(r, &h), SHMFRAME_CLOSED);
    CHECK_RC(shmframe_reader_wait_hold_next(r, -1, &h), SHMFRAME_CLOSED);
    CHECK_RC(shmframe_reader_wait_hold_latest(r, -1, &h), SHMFRAME_CLOSED);
    CHECK(h == NULL);
    shmframe_reader_close(r);
}

static void *release_hold(void *arg) {
    shmframe_hold_release((shmframe_hold *)arg);
    return NULL;
}

static void a_hold_is_released_on_another_thread(void) {
    shmframe_writer *w;
    shmframe_reader *r;
    shmframe_hold *h = granted_stream("thread", 4, 1, &w, &r);
    shmframe_hold *again = NULL;
    CHECK_RC(shmframe_reader_hold_latest(r, &again), SHMFRAME_E_NO_HOLD_FREE);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, release_hold, h) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK_OK(shmframe_reader_hold_latest(r, &again));
    shmframe_hold_release(again);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

int main(void) {
    alarm(100);
    held_pixels_never_change_while_thousands_are_published();
    no_hold_free_is_told_at_once_and_a_copy_still_reads();
    holds_outlive_their_reader_and_their_writer();
    in_order_holds_count_missed_frames_and_a_refused_frame_stays_next();
    waits_with_nothing_to_hold_time_out_then_tell_the_end();
    a_hold_is_released_on_another_thread();
    return 0;
}
