/* Two processes: a forked child writes frames, the parent reads them in
 * order, exact, until the child closes the stream. alarm() bounds the test. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define FRAMES 200

static int child_writes(void) {
    shmframe_writer_options opts;
    shmframe_writer_options_default(&opts);
    opts.slot_count = 256; /* room for every frame: the reader misses none */
    opts.slot_capacity = 4096;
    shmframe_writer *w = NULL;
    /* Wait for the parent's go: the reader must be open before frame 1. */
    CHECK_OK(shmframe_writer_create("forked", &opts, &w));
    char go;
    if (read(STDIN_FILENO, &go, 1) != 1) return 1;
    shmframe_frame_meta meta = shmframe_frame_meta_packed(32, 32, SHMFRAME_FORMAT_RGBA8);
    for (uint64_t n = 1; n <= FRAMES; n++) {
        void *slot;
        size_t cap;
        CHECK_OK(shmframe_writer_begin(w, &meta, &slot, &cap));
        fill_pattern((uint8_t *)slot, cap, n);
        CHECK_OK(shmframe_writer_commit(w));
    }
    shmframe_writer_close(w);
    return 0;
}

int main(void) {
    alarm(60);
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        dup2(go[0], STDIN_FILENO);
        _exit(child_writes());
    }
    close(go[0]);
    shmframe_reader *r = NULL;
    int rc;
    while ((rc = shmframe_reader_open("forked", NULL, &r)) == SHMFRAME_E_NOT_FOUND) usleep(1000);
    CHECK_OK(rc);
    CHECK(write(go[1], "g", 1) == 1);
    uint8_t out[4096];
    shmframe_frame_info info;
    uint64_t expected = 1;
    while ((rc = shmframe_reader_wait_next(r, out, sizeof out, 10000000000, &info)) == SHMFRAME_OK) {
        CHECK(info.index == expected && info.missed == 0);
        CHECK(info.len == 4096 && is_pattern(out, info.len, expected));
        expected++;
    }
    CHECK_RC(rc, SHMFRAME_CLOSED);
    CHECK(expected == FRAMES + 1);
    shmframe_reader_close(r);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[1]);
    return 0;
}
