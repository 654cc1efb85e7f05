/* shmframe-c-reader [NAME]: prints every frame of stream NAME (default
 * "c-demo") as it arrives, in order, until the writer closes the stream. */
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "c-demo";
    shmframe_reader *reader;
    int rc = shmframe_reader_open(name, NULL, &reader);
    if (rc < 0) return fail("open", rc);

    size_t cap = 0;
    unsigned char *pixels = NULL;
    shmframe_frame_info info;
    unsigned long long frames = 0;
    /* Wait without a time limit: the call returns a frame, or CLOSED. */
    while ((rc = shmframe_reader_wait_next(reader, pixels, cap, -1, &info)) != SHMFRAME_CLOSED) {
        if (rc == SHMFRAME_E_BUFFER_TOO_SMALL) { /* the frame stays next */
            cap = info.len;
            pixels = (unsigned char *)realloc(pixels, cap);
            if (!pixels) return 1;
            continue;
        }
        if (rc < 0) return fail("read", rc);
        frames++;
        printf("frame %llu  %ux%u %s  missed %llu  first byte %u  %.0f us after publish\n",
               (unsigned long long)info.number, info.meta.width, info.meta.height,
               shmframe_format_name(info.meta.format), (unsigned long long)info.missed, pixels[0],
               (double)(now_ns() - info.published_ns) / 1e3);
    }
    printf("the writer closed the stream after %llu frames\n", frames);
    free(pixels);
    shmframe_reader_close(reader);
    return 0;
}
