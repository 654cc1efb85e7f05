/* The reader's fd with poll(): readable when a new frame is there, cleared by
 * a read, readable once more when the writer closes. */
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

/* Whether `fd` is readable within `timeout_ms`. */
static int readable(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    int n = poll(&p, 1, timeout_ms);
    CHECK(n >= 0);
    return n == 1 && (p.revents & POLLIN);
}

static void *publish_after_a_pause(void *arg) {
    shmframe_writer *w = (shmframe_writer *)arg;
    usleep(50000);
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[16];
    fill_pattern(pixels, 16, 2);
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 16));
    return NULL;
}

int main(void) {
    alarm(60);
    shmframe_writer *w = test_writer("fd", 4);
    shmframe_reader *r = test_reader("fd");
    int fd = shmframe_reader_fd(r);
    CHECK(fd >= 0);
    CHECK(shmframe_reader_fd(r) == fd);
    CHECK_RC(shmframe_reader_fd(NULL), SHMFRAME_E_INVALID);
    shmframe_reader_clear_readiness(NULL);
    CHECK(!readable(fd, 0));

    /* A publish in this thread makes it readable; the read clears it. */
    shmframe_frame_meta meta = shmframe_frame_meta_packed(4, 4, SHMFRAME_FORMAT_GRAY8);
    uint8_t pixels[16], out[16];
    fill_pattern(pixels, 16, 1);
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 16));
    CHECK(readable(fd, 10000));
    CHECK(readable(fd, 0)); /* level-triggered: stays readable until read */
    shmframe_frame_info info;
    CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
    CHECK(info.index == 1 && is_pattern(out, 16, 1));
    CHECK(!readable(fd, 0));

    /* A publish from another thread wakes a poll that sleeps. */
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, publish_after_a_pause, w) == 0);
    CHECK(readable(fd, 10000));
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK_OK(shmframe_reader_latest(r, out, sizeof out, &info));
    CHECK(info.index == 2 && is_pattern(out, 16, 2));
    CHECK(!readable(fd, 0));

    /* clear_readiness counts a frame as seen without reading it. */
    CHECK_OK(shmframe_writer_publish(w, &meta, pixels, 16));
    CHECK(readable(fd, 10000));
    shmframe_reader_clear_readiness(r);
    CHECK(!readable(fd, 0));

    /* The writer's close makes it readable; the read that follows says CLOSED. */
    shmframe_writer_close(w);
    CHECK(readable(fd, 10000));
    CHECK_OK(shmframe_reader_wait_latest(r, out, sizeof out, 0, &info)); /* frame 3, left unread */
    CHECK(info.index == 3);
    CHECK_RC(shmframe_reader_wait_latest(r, out, sizeof out, 0, &info), SHMFRAME_CLOSED);
    shmframe_reader_close(r);
    return 0;
}
