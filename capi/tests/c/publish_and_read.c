/* A writer and readers in one process: exact pixels in every format, frames
 * filled in place (begin, commit, abort), in-order reading with missed counts. */
#include "check.h"

static const shmframe_pixel_format ALL_FORMATS[] = {
    SHMFRAME_FORMAT_RGBA8, SHMFRAME_FORMAT_BGRA8, SHMFRAME_FORMAT_RGB8, SHMFRAME_FORMAT_GRAY8,
    SHMFRAME_FORMAT_BGR8,  SHMFRAME_FORMAT_NV12,  SHMFRAME_FORMAT_I420, SHMFRAME_FORMAT_YUYV,
    SHMFRAME_FORMAT_GRAY16, SHMFRAME_FORMAT_GRAYF32,
};

static void every_format_reads_back_exactly(void) {
    shmframe_writer *w = test_writer("formats", 4);
    shmframe_reader *r = test_reader("formats");
    shmframe_frame_info info;
    CHECK_RC(shmframe_reader_latest(r, NULL, 0, &info), SHMFRAME_NO_FRAME);
    uint8_t pixels[4096], out[4096];
    for (size_t i = 0; i < sizeof ALL_FORMATS / sizeof ALL_FORMATS[0]; i++) {
        shmframe_frame_meta meta = shmframe_frame_meta_packed(16, 6, ALL_FORMATS[i]);
        if (ALL_FORMATS[i] == SHMFRAME_FORMAT_NV12) meta.matrix = SHMFRAME_MATRIX_BT709;
        if (ALL_FORMATS[i] == SHMFRAME_FORMAT_I420) meta.range = SHMFRAME_RANGE_FULL;
        size_t len = 0;
        CHECK_OK(shmframe_frame_meta_len(&meta, &len));
        fill_pattern(pixels, len, i + 1);
        CHECK_OK(shmframe_writer_publish(w, &meta, pixels, len));
        memset(out, 0, sizeof out);
        CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
        CHECK(info.len == len && is_pattern(out, len, i + 1));
        CHECK(info.index == i + 1 && info.number == i + 1 && info.missed == 0);
        CHECK(memcmp(&info.meta, &meta, sizeof meta) == 0);
        CHECK(info.timestamp_ns > 0 && info.published_ns >= info.timestamp_ns);
        /* The in-order reader sees the same frame. */
        CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
        CHECK(info.index == i + 1 && is_pattern(out, len, i + 1));
    }
    CHECK(shmframe_writer_frames_published(w) == 10);
    /* Latest returns the latest frame again; next is caught up. */
    CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
    CHECK(info.index == 10);
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_NO_FRAME);
    CHECK_RC(shmframe_reader_writer_alive(r), 1);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void a_frame_filled_in_place_is_published_by_commit_and_not_by_abort(void) {
    shmframe_writer *w = test_writer("in-place", 2);
    shmframe_reader *r = test_reader("in-place");
    shmframe_frame_meta meta = shmframe_frame_meta_packed(8, 4, SHMFRAME_FORMAT_RGB8);
    void *slot = NULL;
    size_t capacity = 0;
    uint8_t out[256];
    shmframe_frame_info info;

    CHECK_OK(shmframe_writer_begin(w, &meta, &slot, &capacity));
    CHECK(slot != NULL && capacity == 8 * 4 * 3);
    fill_pattern((uint8_t *)slot, capacity, 1);
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_NO_FRAME);
    shmframe_writer_abort(w);
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_NO_FRAME);
    CHECK(shmframe_writer_frames_published(w) == 0);
    CHECK_RC(shmframe_writer_commit(w), SHMFRAME_E_STATE);
    shmframe_writer_abort(w); /* nothing begun: no effect */

    CHECK_OK(shmframe_writer_begin(w, &meta, &slot, &capacity));
    fill_pattern((uint8_t *)slot, capacity, 2);
    /* While a frame is begun, nothing else may start. */
    void *other = NULL;
    CHECK_RC(shmframe_writer_begin(w, &meta, &other, &capacity), SHMFRAME_E_STATE);
    CHECK_RC(shmframe_writer_publish(w, &meta, out, capacity), SHMFRAME_E_STATE);
    CHECK_OK(shmframe_writer_commit(w));
    CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
    CHECK(info.index == 1 && info.missed == 0 && info.len == capacity && is_pattern(out, capacity, 2));
    CHECK(shmframe_writer_frames_published(w) == 1);

    /* Closing with a frame begun publishes nothing more. */
    CHECK_OK(shmframe_writer_begin(w, &meta, &slot, &capacity));
    shmframe_writer_close(w);
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_CLOSED);
    shmframe_reader_close(r);
}

static void an_in_order_reader_counts_the_frames_it_missed(void) {
    shmframe_writer *w = test_writer("in-order", 4);
    shmframe_reader *r = test_reader("in-order");
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[16], out[16];
    /* Frames 1..10 into 4 slots: the reader, opened before frame 1, reads
     * from the oldest frame the ring still holds (10 + 1 - 4 = 7) and missed
     * 1..6. */
    for (uint64_t n = 1; n <= 10; n++) {
        fill_pattern(pixels, sizeof pixels, n);
        CHECK_OK(shmframe_writer_publish(w, &meta, pixels, sizeof pixels));
    }
    shmframe_frame_info info;
    CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
    CHECK(info.index == 7 && info.missed == 6 && is_pattern(out, 16, 7));
    for (uint64_t n = 8; n <= 10; n++) {
        CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
        CHECK(info.index == n && info.missed == 0 && is_pattern(out, 16, n));
    }
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_NO_FRAME);
    /* A reader opened now starts at the latest frame. */
    shmframe_reader *late = test_reader("in-order");
    CHECK_OK(shmframe_reader_next(late, out, sizeof out, &info));
    CHECK(info.index == 10 && info.missed == 0);
    shmframe_reader_close(late);
    /* After the writer closes, frames left are read, then CLOSED. */
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, sizeof pixels));
    shmframe_writer_close(w);
    CHECK_RC(shmframe_reader_writer_alive(r), 0);
    CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
    CHECK(info.index == 11);
    CHECK_RC(shmframe_reader_next(r, out, sizeof out, &info), SHMFRAME_CLOSED);
    shmframe_reader_close(r);
}

int main(void) {
    every_format_reads_back_exactly();
    a_frame_filled_in_place_is_published_by_commit_and_not_by_abort();
    an_in_order_reader_counts_the_frames_it_missed();
    return 0;
}
