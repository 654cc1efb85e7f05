/* shmframe-c-reader [--hold] [NAME]: prints every frame of stream NAME
 * (default "c-demo") as it arrives, in order, until the writer closes the
 * stream. With --hold it reads each frame in place (zero-copy) under a hold,
 * and copies it when no hold is free; each line says which. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shmframe.h>

static int fail(const char *what, int rc) {
    char message[512];
    shmframe_last_error(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, shmframe_status_str(rc), message);
    return 1;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void print_frame(const shmframe_frame_info *info, const unsigned char *pixels, const char *how) {
    printf("frame %llu  %ux%u %s  missed %llu  first byte %u  %.0f us after publish%s\n",
           (unsigned long long)info->number, info->meta.width, info->meta.height,
           shmframe_format_name(info->meta.format), (unsigned long long)info->missed, pixels[0],
           (double)(now_ns() - info->published_ns) / 1e3, how);
}

/* A buffer that grows to the frames' size. */
struct buffer {
    unsigned char *pixels;
    size_t cap;
};

/* Copies the next frame in order into `buf`, waiting up to `timeout_ns`. */
static int copy_next(shmframe_reader *reader, struct buffer *buf, int64_t timeout_ns, shmframe_frame_info *info) {
    int rc;
    while ((rc = shmframe_reader_wait_next(reader, buf->pixels, buf->cap, timeout_ns, info)) ==
           SHMFRAME_E_BUFFER_TOO_SMALL) { /* the frame stays next */
        unsigned char *grown = (unsigned char *)realloc(buf->pixels, info->len);
        if (!grown) return SHMFRAME_E_INTERNAL;
        buf->pixels = grown;
        buf->cap = info->len;
    }
    return rc;
}

int main(int argc, char **argv) {
    int hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
    const char *name = argc > 1 + hold ? argv[1 + hold] : "c-demo";
    shmframe_reader *reader;
    int rc = shmframe_reader_open(name, NULL, &reader);
    if (rc < 0) return fail("open", rc);

    struct buffer buf = {NULL, 0};
    shmframe_frame_info info;
    unsigned long long frames = 0;
    for (;;) {
        /* Wait without a time limit: the call returns a frame, or CLOSED. */
        shmframe_hold *held = NULL;
        rc = hold ? shmframe_reader_wait_hold_next(reader, -1, &held) : copy_next(reader, &buf, -1, &info);
        if (rc == SHMFRAME_E_NO_HOLD_FREE) {
            /* All holds taken, or not granted yet (the writer grants them at
             * its next publish): the frame stayed next, so copy it. */
            rc = copy_next(reader, &buf, 0, &info);
            if (rc == SHMFRAME_OK) print_frame(&info, buf.pixels, "  copied");
        } else if (held) {
            const uint8_t *pixels;
            size_t len;
            if ((rc = shmframe_hold_pixels(held, &pixels, &len)) == SHMFRAME_OK &&
                (rc = shmframe_hold_info(held, &info)) == SHMFRAME_OK)
                print_frame(&info, pixels, "  held");
            shmframe_hold_release(held);
        } else if (rc == SHMFRAME_OK) {
            print_frame(&info, buf.pixels, "");
        }
        if (rc == SHMFRAME_CLOSED) break;
        if (rc < 0) return fail("read", rc);
        frames += rc == SHMFRAME_OK;
    }
    printf("the writer closed the stream after %llu frames\n", frames);
    free(buf.pixels);
    shmframe_reader_close(reader);
    return 0;
}
