/* The C side of the cross-process, cross-language tests (capi/tests/interop.rs).
 *
 *   interop write PREFIX   publishes one frame in every format, to stream
 *                          PREFIX-FORMAT each, prints "ready", and closes the
 *                          streams when its standard input ends.
 *   interop read PREFIX    reads the latest frame of each PREFIX-FORMAT and
 *                          checks its metadata and every byte.
 *
 * Frames are 16x6 with the pattern of check.h, frame number = format code;
 * YUV frames carry BT.709 full range. */
#include "check.h"

#define FORMATS 10
#define WIDTH 16
#define HEIGHT 6

static shmframe_frame_meta meta_of(shmframe_pixel_format format) {
    shmframe_frame_meta meta = shmframe_frame_meta_packed(WIDTH, HEIGHT, format);
    if (format == SHMFRAME_FORMAT_NV12 || format == SHMFRAME_FORMAT_I420 || format == SHMFRAME_FORMAT_YUYV) {
        meta.matrix = SHMFRAME_MATRIX_BT709;
        meta.range = SHMFRAME_RANGE_FULL;
    }
    return meta;
}

static void stream_name(char *out, size_t cap, const char *prefix, shmframe_pixel_format format) {
    snprintf(out, cap, "%s-%s", prefix, shmframe_format_name(format));
}

static int write_all(const char *prefix) {
    shmframe_writer *writers[FORMATS];
    for (shmframe_pixel_format f = 1; f <= FORMATS; f++) {
        char name[256];
        stream_name(name, sizeof name, prefix, f);
        shmframe_frame_meta meta = meta_of(f);
        size_t len;
        CHECK_OK(shmframe_frame_meta_len(&meta, &len));
        writers[f - 1] = test_writer(name, 2);
        /* Half the formats copied in, half filled in place. */
        if (f % 2) {
            uint8_t *pixels = (uint8_t *)malloc(len);
            fill_pattern(pixels, len, f);
            CHECK_OK(shmframe_writer_publish(writers[f - 1], &meta, pixels, len));
            free(pixels);
        } else {
            void *slot;
            size_t cap;
            CHECK_OK(shmframe_writer_begin(writers[f - 1], &meta, &slot, &cap));
            CHECK(cap == len);
            fill_pattern((uint8_t *)slot, cap, f);
            CHECK_OK(shmframe_writer_commit(writers[f - 1]));
        }
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF) {
    }
    for (int i = 0; i < FORMATS; i++) shmframe_writer_close(writers[i]);
    return 0;
}

static int read_all(const char *prefix) {
    uint8_t out[WIDTH * HEIGHT * 4];
    for (shmframe_pixel_format f = 1; f <= FORMATS; f++) {
        char name[256];
        stream_name(name, sizeof name, prefix, f);
        shmframe_reader *r = test_reader(name);
        shmframe_frame_info info;
        CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
        shmframe_frame_meta meta = meta_of(f);
        size_t len;
        CHECK_OK(shmframe_frame_meta_len(&meta, &len));
        CHECK(memcmp(&info.meta, &meta, sizeof meta) == 0);
        CHECK(info.len == len && info.index == 1);
        CHECK(is_pattern(out, len, f));
        shmframe_reader_close(r);
    }
    printf("read %d formats\n", FORMATS);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "write") == 0) return write_all(argv[2]);
    if (argc == 3 && strcmp(argv[1], "read") == 0) return read_all(argv[2]);
    fprintf(stderr, "usage: interop write|read PREFIX\n");
    return 2;
}
