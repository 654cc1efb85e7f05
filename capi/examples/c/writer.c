/* shmframe-c-writer [NAME] [FRAMES]: publishes a moving 320x240 RGB gradient
 * to stream NAME (default "c-demo") at about 30 frames a second, FRAMES of
 * them (default: until Ctrl-C), filling each frame in place. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <shmframe.h>

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int fail(const char *what, int rc) {
    char message[512];
    shmframe_last_error(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, shmframe_status_str(rc), message);
    return 1;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "c-demo";
    long frames = argc > 2 ? atol(argv[2]) : -1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    shmframe_writer *writer;
    int rc = shmframe_writer_create(name, NULL, &writer);
    if (rc < 0) return fail("create", rc);
    printf("publishing to stream \"%s\"; read it with shmframe-c-reader %s\n", name, name);
    fflush(stdout);

    shmframe_frame_meta meta = shmframe_frame_meta_packed(320, 240, SHMFRAME_FORMAT_RGB8);
    const struct timespec pause = {0, 33000000};
    for (long n = 0; !stop && n != frames; n++) {
        void *slot;
        size_t len;
        rc = shmframe_writer_begin(writer, &meta, &slot, &len);
        if (rc < 0) return fail("begin", rc);
        unsigned char *p = (unsigned char *)slot;
        for (uint32_t y = 0; y < meta.height; y++)
            for (uint32_t x = 0; x < meta.width; x++, p += 3) {
                p[0] = (unsigned char)(x + n);
                p[1] = (unsigned char)(y + 2 * n);
                p[2] = (unsigned char)(128 + n);
            }
        rc = shmframe_writer_commit(writer);
        if (rc < 0) return fail("commit", rc);
        nanosleep(&pause, NULL);
    }
    printf("published %llu frames\n", (unsigned long long)shmframe_writer_frames_published(writer));
    shmframe_writer_close(writer);
    return 0;
}
