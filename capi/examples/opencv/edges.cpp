// shmframe-opencv-edges IN OUT: reads every frame of stream IN as a cv::Mat
// over the frame held in place in shared memory (no copy; a copy when no
// hold is free), finds its edges with Canny and publishes them to stream OUT
// as gray8, until IN's writer closes the stream.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <shmframe.hpp>

#include <cstdio>
#include <thread>

// The frame `mat` of `format` as 8-bit gray, converted from any format
// (only read: a held frame's Mat is read-only).
static cv::Mat gray_of(const cv::Mat &mat, shmframe::PixelFormat format) {
    cv::Mat gray;
    switch (format) {
    case shmframe::PixelFormat::Rgba8: cv::cvtColor(mat, gray, cv::COLOR_RGBA2GRAY); break;
    case shmframe::PixelFormat::Bgra8: cv::cvtColor(mat, gray, cv::COLOR_BGRA2GRAY); break;
    case shmframe::PixelFormat::Rgb8: cv::cvtColor(mat, gray, cv::COLOR_RGB2GRAY); break;
    case shmframe::PixelFormat::Bgr8: cv::cvtColor(mat, gray, cv::COLOR_BGR2GRAY); break;
    case shmframe::PixelFormat::Nv12: cv::cvtColor(mat, gray, cv::COLOR_YUV2GRAY_NV12); break;
    case shmframe::PixelFormat::I420: cv::cvtColor(mat, gray, cv::COLOR_YUV2GRAY_I420); break;
    case shmframe::PixelFormat::Yuyv: cv::cvtColor(mat, gray, cv::COLOR_YUV2GRAY_YUYV); break;
    case shmframe::PixelFormat::Gray16: mat.convertTo(gray, CV_8U, 1.0 / 257); break;
    case shmframe::PixelFormat::GrayF32: mat.convertTo(gray, CV_8U, 255.0); break;
    case shmframe::PixelFormat::Gray8: gray = mat; break;
    }
    return gray;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: shmframe-opencv-edges IN OUT\n");
        return 2;
    }
    try {
        // Wait up to 30 s for IN's writer to start.
        shmframe::Reader in;
        for (int tries = 0; !in; tries++) {
            shmframe::Status status;
            in = shmframe::Reader(argv[1], nullptr, &status);
            if (!in && (status.code != SHMFRAME_E_NOT_FOUND || tries == 300)) throw shmframe::Error(status.code, status.message);
            if (!in) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        shmframe::Writer out(argv[2]);
        std::printf("edges of \"%s\" -> \"%s\"\n", argv[1], argv[2]);
        std::fflush(stdout);
        shmframe::Hold hold;
        shmframe::Frame frame;
        cv::Mat edges;
        unsigned long long held = 0, copied = 0;
        for (;;) {
            shmframe::Outcome got = in.wait_hold_next(hold, shmframe::no_limit);
            if (got == shmframe::Outcome::Ok) {
                cv::Canny(gray_of(shmframe::as_mat(hold), hold.format()), edges, 100, 200);
                held++;
            } else if (got == shmframe::Outcome::NoHoldFree) {
                // No hold free, or not granted yet: the frame stayed next, copy it.
                got = in.next(frame);
                if (got == shmframe::Outcome::Closed) break;
                if (got != shmframe::Outcome::Ok) continue;
                cv::Canny(gray_of(shmframe::as_mat(frame), frame.format()), edges, 100, 200);
                copied++;
            } else {
                break;  // Closed
            }
            shmframe::publish_mat(out, edges, shmframe::PixelFormat::Gray8);
        }
        std::printf("\"%s\" closed after %llu frames (%llu held in place, %llu copied)\n", argv[1],
                    (unsigned long long)out.frames_published(), held, copied);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "shmframe-opencv-edges: %s\n", e.what());
        return 1;
    }
}
