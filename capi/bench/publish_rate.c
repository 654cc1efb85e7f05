/* publish_rate NAME WIDTH HEIGHT FPS HOLDS SECONDS: publishes RGBA frames
 * (a moving gradient) to stream NAME at about FPS for SECONDS, the writer
 * honouring HOLDS holds (0: readers must copy). A load for measuring readers
 * such as the viewer (capi/bench/viewer_cpu.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmframe.h"

static int fail(const char *what, int rc) {
    char message[512];
    shmframe_last_error(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, shmframe_status_str(rc), message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: publish_rate NAME WIDTH HEIGHT FPS HOLDS SECONDS\n");
        return 2;
    }
    uint32_t width = (uint32_t)atoi(argv[2]), height = (uint32_t)atoi(argv[3]);
    long fps = atol(argv[4]), seconds = atol(argv[6]);
    if (fps <= 0) return 2;
    shmframe_writer_options opts;
    shmframe_writer_options_default(&opts);
    opts.slot_capacity = (size_t)width * height * 4;
    opts.holds = (uint32_t)atoi(argv[5]);
    shmframe_writer *w;
    int rc = shmframe_writer_create(argv[1], &opts, &w);
    if (rc < 0) return fail("create", rc);
    shmframe_frame_meta meta = shmframe_frame_meta_packed(width, height, SHMFRAME_FORMAT_RGBA8);
    const struct timespec pause = {0, 1000000000L / fps};
    for (long n = 0; n < fps * seconds; n++) {
        void *slot;
        size_t len;
        if ((rc = shmframe_writer_begin(w, &meta, &slot, &len)) < 0) return fail("begin", rc);
        uint8_t *p = (uint8_t *)slot;
        for (uint32_t y = 0; y < height; y++, p += (size_t)width * 4)
            memset(p, (int)((y + (uint32_t)n) & 0xff), (size_t)width * 4);
        if ((rc = shmframe_writer_commit(w)) < 0) return fail("commit", rc);
        nanosleep(&pause, NULL);
    }
    shmframe_writer_close(w);
    return 0;
}
