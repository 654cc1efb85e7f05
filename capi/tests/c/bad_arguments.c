/* Bad arguments give negative status codes and a message, never a crash:
 * NULL pointers, bad names, bad metadata, too-small buffers, a second writer,
 * a missing stream and a corrupt segment. */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

static void null_pointers_are_invalid(void) {
    shmframe_writer *w = test_writer("nulls", 2);
    shmframe_reader *r = test_reader("nulls");
    shmframe_frame_meta meta = shmframe_frame_meta_packed(2, 2, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[4] = {1, 2, 3, 4};
    void *slot;
    size_t cap;
    shmframe_frame_info info;
    shmframe_writer *w2 = NULL;
    shmframe_reader *r2 = NULL;

    CHECK_RC(shmframe_writer_create(NULL, NULL, &w2), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_create("x", NULL, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_publish(NULL, &meta, pixels, 4), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_publish(w, NULL, pixels, 4), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_publish(w, &meta, NULL, 4), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_begin(NULL, &meta, &slot, &cap), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_begin(w, NULL, &slot, &cap), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_begin(w, &meta, NULL, &cap), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_begin(w, &meta, &slot, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_writer_commit(NULL), SHMFRAME_E_INVALID);
    shmframe_writer_abort(NULL);
    shmframe_writer_close(NULL);
    CHECK(shmframe_writer_frames_published(NULL) == 0);

    CHECK_RC(shmframe_reader_open(NULL, NULL, &r2), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_open("nulls", NULL, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_latest(NULL, pixels, 4, &info), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_latest(r, pixels, 4, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_next(NULL, pixels, 4, &info), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_next(r, NULL, 4, &info), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_wait_latest(NULL, pixels, 4, 0, &info), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_wait_next(r, pixels, 4, 0, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_writer_alive(NULL), SHMFRAME_E_INVALID);
    shmframe_reader_close(NULL);

    /* Holds: a NULL reader also sets *out to NULL; a NULL out is refused. */
    shmframe_hold *h = (shmframe_hold *)&h;
    CHECK_RC(shmframe_reader_hold_latest(NULL, &h), SHMFRAME_E_INVALID);
    CHECK(h == NULL);
    h = (shmframe_hold *)&h;
    CHECK_RC(shmframe_reader_hold_next(NULL, &h), SHMFRAME_E_INVALID);
    CHECK(h == NULL);
    CHECK_RC(shmframe_reader_wait_hold_latest(NULL, 0, &h), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_wait_hold_next(NULL, -1, &h), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_hold_latest(r, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_hold_next(r, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_wait_hold_latest(r, 0, NULL), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_reader_wait_hold_next(r, -1, NULL), SHMFRAME_E_INVALID);
    const uint8_t *data;
    CHECK_RC(shmframe_hold_pixels(NULL, &data, &cap), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_hold_info(NULL, &info), SHMFRAME_E_INVALID);
    shmframe_hold_release(NULL);
    size_t len;
    CHECK_RC(shmframe_frame_meta_len(NULL, &len), SHMFRAME_E_INVALID);
    CHECK_RC(shmframe_frame_meta_len(&meta, NULL), SHMFRAME_E_INVALID);

    char message[256];
    shmframe_last_error(message, sizeof message);
    CHECK(strstr(message, "NULL") != NULL);
    /* After all that, the handles still work. */
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 4));
    CHECK_OK(shmframe_reader_latest(r, pixels, 4, &info));
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void bad_names_options_and_metadata_are_invalid(void) {
    shmframe_writer *w = NULL;
    char too_long[202];
    memset(too_long, 'n', 201);
    too_long[201] = 0;
    const char *bad_names[] = {"", "..", "../escape", "a/b", "with space", too_long};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_RC(shmframe_writer_create(bad_names[i], NULL, &w), SHMFRAME_E_INVALID);
        shmframe_reader *r = NULL;
        CHECK_RC(shmframe_reader_open(bad_names[i], NULL, &r), SHMFRAME_E_INVALID);
    }
    const char not_utf8[] = {'c', 'a', 'm', (char)0xff, 0};
    CHECK_RC(shmframe_writer_create(not_utf8, NULL, &w), SHMFRAME_E_INVALID);

    shmframe_writer_options opts;
    shmframe_writer_options_default(&opts);
    opts.slot_count = 1;
    CHECK_RC(shmframe_writer_create("opts", &opts, &w), SHMFRAME_E_INVALID);
    shmframe_writer_options_default(&opts);
    opts.mode = 0666;
    CHECK_RC(shmframe_writer_create("opts", &opts, &w), SHMFRAME_E_INVALID);
    shmframe_reader_options ropts;
    shmframe_reader_options_default(&ropts);
    ropts.trusted_uid_count = 3; /* with a NULL array */
    shmframe_reader *r = NULL;
    CHECK_RC(shmframe_reader_open("opts", &ropts, &r), SHMFRAME_E_INVALID);
    shmframe_reader_options_default(&ropts);
    ropts.liveness_interval_ns = 0;
    CHECK_RC(shmframe_reader_open("opts", &ropts, &r), SHMFRAME_E_INVALID);

    w = test_writer("meta", 2);
    uint8_t pixels[64] = {0};
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, 0);
    CHECK_RC(shmframe_writer_publish(w, &meta, pixels, 16), SHMFRAME_E_INVALID);
    meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    meta.matrix = 5;
    CHECK_RC(shmframe_writer_publish(w, &meta, pixels, 16), SHMFRAME_E_INVALID);
    meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    CHECK_RC(shmframe_writer_publish(w, &meta, pixels, 15), SHMFRAME_E_INVALID);
    meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    CHECK_RC(shmframe_writer_publish(w, &meta, pixels, SIZE_MAX), SHMFRAME_E_INVALID);
    meta = shmframe_frame_meta_packed(0, 4, SHMFRAME_FORMAT_GRAY8);
    CHECK_RC(shmframe_writer_publish(w, &meta, pixels, 0), SHMFRAME_E_INVALID);
    meta = shmframe_frame_meta_packed(256, 256, SHMFRAME_FORMAT_RGBA8); /* 256 KiB > 64 KiB slots */
    void *slot;
    size_t cap;
    CHECK_RC(shmframe_writer_begin(w, &meta, &slot, &cap), SHMFRAME_E_TOO_LARGE);
    CHECK(shmframe_writer_frames_published(w) == 0);
    shmframe_writer_close(w);
}

static void a_small_buffer_says_the_size_needed_and_the_frame_stays_next(void) {
    shmframe_writer *w = test_writer("small", 2);
    shmframe_reader *r = test_reader("small");
    shmframe_frame_meta meta = shmframe_frame_meta_packed(10, 10, SHMFRAME_FORMAT_RGB8);
    uint8_t pixels[300], out[300];
    fill_pattern(pixels, 300, 1);
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 300));
    shmframe_frame_info info;
    CHECK_RC(shmframe_reader_latest(r, NULL, 0, &info), SHMFRAME_E_BUFFER_TOO_SMALL);
    CHECK(info.len == 300);
    CHECK_RC(shmframe_reader_next(r, out, 299, &info), SHMFRAME_E_BUFFER_TOO_SMALL);
    CHECK(info.len == 300);
    CHECK_RC(shmframe_reader_wait_next(r, out, 10, 0, &info), SHMFRAME_E_BUFFER_TOO_SMALL);
    CHECK(info.len == 300);
    CHECK_RC(shmframe_reader_wait_latest(r, out, 10, 1000000, &info), SHMFRAME_E_BUFFER_TOO_SMALL);
    CHECK(info.len == 300);
    CHECK_RC(shmframe_reader_latest(r, out, SIZE_MAX, &info), SHMFRAME_E_INVALID);
    CHECK_OK(shmframe_reader_next(r, out, sizeof out, &info));
    CHECK(info.index == 1 && info.len == 300 && is_pattern(out, 300, 1));
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

static void one_live_writer_per_stream_and_no_reader_without_one(void) {
    shmframe_writer *w = test_writer("taken", 2);
    shmframe_writer *second = NULL;
    CHECK_RC(shmframe_writer_create("taken", NULL, &second), SHMFRAME_E_EXISTS);
    CHECK(second == NULL);
    shmframe_writer_close(w);
    shmframe_reader *r = NULL;
    CHECK_RC(shmframe_reader_open("taken", NULL, &r), SHMFRAME_E_NOT_FOUND);
    CHECK(r == NULL);
}

static void a_corrupt_segment_is_refused(void) {
    const char *dir = getenv("SHMFRAME_DIR");
    CHECK(dir != NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/shmframe.corrupt", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    CHECK(fd >= 0);
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (char)(i * 13);
    CHECK(write(fd, garbage, sizeof garbage) == (ssize_t)sizeof garbage);
    close(fd);
    shmframe_reader *r = NULL;
    CHECK_RC(shmframe_reader_open("corrupt", NULL, &r), SHMFRAME_E_CORRUPT);
    CHECK(r == NULL);
    /* An empty file too. */
    fd = open(path, O_TRUNC | O_WRONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_RC(shmframe_reader_open("corrupt", NULL, &r), SHMFRAME_E_CORRUPT);
    CHECK(unlink(path) == 0);
}

static void a_symlink_in_place_of_a_segment_is_refused(void) {
    const char *dir = getenv("SHMFRAME_DIR");
    char path[4096], target[4096];
    snprintf(path, sizeof path, "%s/shmframe.planted", dir);
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    int fd = open(target, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(symlink(target, path) == 0);
    shmframe_reader *r = NULL;
    CHECK_RC(shmframe_reader_open("planted", NULL, &r), SHMFRAME_E_PERMISSION);
    CHECK(unlink(path) == 0 && unlink(target) == 0);
}

/* A frame whose format code this version does not know (as a newer writer
 * would write): patched into the segment of frame 1 (docs/layout.md: slot 1
 * of 2 starts after the 128-byte header and slot 0; the format code is the
 * 16 bits at byte 36 of the slot). */
static void an_unknown_format_in_the_segment_is_unsupported(void) {
    shmframe_writer *w = test_writer("newer", 2);
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[16] = {0};
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 16));
    shmframe_reader *r = test_reader("newer");
    shmframe_frame_info info;
    CHECK_OK(shmframe_reader_latest(r, pixels, 16, &info));

    const char *dir = getenv("SHMFRAME_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/shmframe.newer", dir);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    const off_t slot_stride = 64 + (1 << 16);
    const uint16_t unknown = 99;
    CHECK(pwrite(fd, &unknown, 2, 128 + slot_stride + 36) == 2);
    close(fd);
    CHECK_RC(shmframe_reader_latest(r, pixels, 16, &info), SHMFRAME_E_UNSUPPORTED);
    char message[256];
    shmframe_last_error(message, sizeof message);
    CHECK(strstr(message, "99") != NULL);
    shmframe_reader_close(r);
    shmframe_writer_close(w);
}

int main(void) {
    null_pointers_are_invalid();
    bad_names_options_and_metadata_are_invalid();
    a_small_buffer_says_the_size_needed_and_the_frame_stays_next();
    one_live_writer_per_stream_and_no_reader_without_one();
    a_corrupt_segment_is_refused();
    a_symlink_in_place_of_a_segment_is_refused();
    an_unknown_format_in_the_segment_is_unsupported();
    return 0;
}
