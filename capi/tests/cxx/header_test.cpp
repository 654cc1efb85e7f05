// The C++ header: RAII handles, exceptions and Status overloads, publishing
// through a callback (an exception in it aborts the frame), reads that grow
// the frame's buffer, and the cv::Mat / QImage views when those headers are
// included (SHMFRAME_TEST_OPENCV, SHMFRAME_TEST_QT). Built as C++17 and C++20,
// and with -fno-exceptions (SHMFRAME_TEST_NO_EXCEPTIONS: Status overloads only).
#ifdef SHMFRAME_TEST_OPENCV
#include <opencv2/core.hpp>
#endif
#ifdef SHMFRAME_TEST_QT
#include <QImage>
#endif
#include "shmframe.hpp"

#include <cstdio>
#include <cstdlib>
#include <thread>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                        \
        }                                                                        \
    } while (0)

using shmframe::Outcome;
using shmframe::PixelFormat;

// Handles and frames are move-only, and moving them cannot throw.
static_assert(!std::is_copy_constructible_v<shmframe::Writer> && !std::is_copy_assignable_v<shmframe::Writer>);
static_assert(!std::is_copy_constructible_v<shmframe::Reader> && !std::is_copy_assignable_v<shmframe::Reader>);
static_assert(!std::is_copy_constructible_v<shmframe::Frame>);
static_assert(std::is_nothrow_move_constructible_v<shmframe::Writer> &&
              std::is_nothrow_move_assignable_v<shmframe::Writer>);
static_assert(std::is_nothrow_move_constructible_v<shmframe::Reader> &&
              std::is_nothrow_move_assignable_v<shmframe::Reader>);

static_assert(!std::is_copy_constructible_v<shmframe::Hold> && !std::is_copy_assignable_v<shmframe::Hold>);
static_assert(std::is_nothrow_move_constructible_v<shmframe::Hold> &&
              std::is_nothrow_move_assignable_v<shmframe::Hold>);

static std::uint8_t pattern_byte(std::uint64_t number, std::size_t i) {
    return static_cast<std::uint8_t>(i * 31u + number * 7u);
}

static shmframe_writer_options small_slots() {
    shmframe_writer_options options = shmframe::default_writer_options();
    options.slot_count = 4;
    options.slot_capacity = 1 << 16;
    return options;
}

static void status_overloads_never_throw() {
    shmframe::Status status;
    shmframe::Reader missing("hpp-missing", nullptr, &status);
    CHECK(!missing);
    CHECK(status.code == SHMFRAME_E_NOT_FOUND && status.failed());
    CHECK(status.message.find("hpp-missing") != std::string::npos);

    shmframe::Writer writer("hpp-status", small_slots(), &status);
    CHECK(writer && status.code == SHMFRAME_OK && status.message.empty());
    shmframe::Writer second("hpp-status", small_slots(), &status);
    CHECK(!second && status.code == SHMFRAME_E_EXISTS);

    shmframe::Reader reader("hpp-status", nullptr, &status);
    CHECK(reader);
    shmframe::Frame frame;
    CHECK(reader.next(frame, &status) == Outcome::NoFrame && status.code == SHMFRAME_NO_FRAME);
    const shmframe::Meta meta = shmframe::packed(8, 8, PixelFormat::Gray8);
    std::uint8_t pixels[64] = {};
    CHECK(!writer.publish(meta, pixels, 63, &status) && status.code == SHMFRAME_E_INVALID);
    // A fill that returns false publishes nothing.
    CHECK(!writer.publish(meta, [](shmframe::Bytes) { return false; }, &status));
    CHECK(status.code == SHMFRAME_OK && writer.frames_published() == 0);
    CHECK(writer.publish(
        meta,
        [](shmframe::Bytes bytes) {
            for (std::size_t i = 0; i < bytes.size(); i++) bytes[i] = std::byte{pattern_byte(1, i)};
            return true;
        },
        &status));
    CHECK(reader.wait_next(frame, std::chrono::seconds(5), &status) == Outcome::Ok);
    CHECK(frame.size() == 64 && frame.index() == 1 && frame.data()[5] == pattern_byte(1, 5));
    // Moving the writer keeps the stream; destroying it closes the stream.
    shmframe::Writer moved = std::move(writer);
    CHECK(!writer && moved);
    moved = shmframe::Writer();
    CHECK(reader.next(frame, &status) == Outcome::Closed);
}

/// Publishes frame `n` of `meta` (pixels pattern_byte(n, i)).
static void publish_pattern(shmframe::Writer &writer, const shmframe::Meta &meta, std::uint64_t n) {
    shmframe::Status status;
    CHECK(writer.publish(
        meta,
        [&](shmframe::Bytes bytes) {
            for (std::size_t i = 0; i < bytes.size(); i++) bytes[i] = std::byte{pattern_byte(n, i)};
        },
        &status));
}

/// Holds the latest frame into `hold`, publishing frames of `meta` until the
/// writer grants the reader its holds (at its next publish after the first try).
static void hold_when_granted(shmframe::Writer &writer, shmframe::Reader &reader, const shmframe::Meta &meta,
                              shmframe::Hold &hold) {
    for (int tries = 0; tries < 20000; tries++) {
        // NoHoldFree is an outcome, never thrown (nor an abort without exceptions).
        Outcome got = reader.hold_latest(hold);
        if (got == Outcome::Ok) return;
        CHECK(got == Outcome::NoHoldFree && !hold);
        publish_pattern(writer, meta, writer.frames_published() + 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(!"holds never granted");
}

static bool holds_pattern(const shmframe::Hold &hold, std::uint64_t n) {
    for (std::size_t i = 0; i < hold.size(); i++)
        if (hold.data()[i] != pattern_byte(n, i) || hold.pixels()[i] != std::byte{pattern_byte(n, i)}) return false;
    return hold.size() > 0 && hold.pixels().size() == hold.size();
}

static void holds_are_raii_and_outlive_their_reader() {
    shmframe::Status status;
    shmframe::Writer writer("hpp-hold", small_slots(), &status);  // 4 holds by default
    const shmframe::Meta meta = shmframe::packed(8, 8, PixelFormat::Rgba8);
    publish_pattern(writer, meta, 1);
    shmframe::Hold first, second, third;
    {
        shmframe::Reader reader("hpp-hold", nullptr, &status);  // asks for 2 holds by default
        CHECK(reader);
        hold_when_granted(writer, reader, meta, first);
        CHECK(first && holds_pattern(first, first.number()) && first.width() == 8);
        publish_pattern(writer, meta, writer.frames_published() + 1);
        CHECK(reader.hold_latest(second, &status) == Outcome::Ok && status.code == SHMFRAME_OK);
        CHECK(second.number() == writer.frames_published() && holds_pattern(second, second.number()));
        // Both holds taken: refused, and a copy still reads.
        CHECK(reader.hold_latest(third, &status) == Outcome::NoHoldFree && !third);
        CHECK(status.code == SHMFRAME_E_NO_HOLD_FREE && status.message.find("no hold is free") != std::string::npos);
        CHECK(reader.wait_hold_next(third, shmframe::no_limit) == Outcome::NoHoldFree);
        shmframe::Frame frame;
        CHECK(reader.latest(frame, &status) == Outcome::Ok && frame.number() == second.number());
        // Moving a hold keeps it; releasing one frees it for the next hold.
        shmframe::Hold moved = std::move(first);
        CHECK(!first && first.data() == nullptr && moved && holds_pattern(moved, moved.info().number));
        moved.release();
        CHECK(!moved);
        CHECK(reader.wait_hold_latest(third, std::chrono::seconds(0), &status) == Outcome::NoFrame);
        CHECK(reader.hold_latest(third, &status) == Outcome::Ok && third.number() == second.number());
    }
    // The reader is gone; its holds are not, and the writer still honours them.
    for (int i = 0; i < 200; i++) publish_pattern(writer, meta, writer.frames_published() + 1);
    CHECK(holds_pattern(second, second.number()) && holds_pattern(third, third.number()));
}

#ifndef SHMFRAME_TEST_NO_EXCEPTIONS
static void errors_throw_and_a_throwing_fill_publishes_nothing() {
    bool thrown = false;
    try {
        shmframe::Reader missing("hpp-missing");
    } catch (const shmframe::Error &e) {
        thrown = e.status() == SHMFRAME_E_NOT_FOUND && std::string(e.what()).find("SHMFRAME_E_NOT_FOUND") == 0;
    }
    CHECK(thrown);

    shmframe::Writer writer("hpp-throw", small_slots());
    shmframe::Reader reader("hpp-throw");
    const shmframe::Meta meta = shmframe::packed(16, 4, PixelFormat::Rgba8);
    thrown = false;
    try {
        writer.publish(meta, [](shmframe::Bytes) { throw std::runtime_error("camera unplugged"); });
    } catch (const std::runtime_error &e) {
        thrown = std::string(e.what()) == "camera unplugged";
    }
    CHECK(thrown && writer.frames_published() == 0);
    shmframe::Frame frame;
    CHECK(reader.next(frame) == Outcome::NoFrame);

    // Frames of growing size: the frame's buffer grows as reads need.
    for (std::uint32_t height = 1; height <= 4; height++) {
        const shmframe::Meta grown = shmframe::packed(16, height, PixelFormat::Rgba8);
        writer.publish(grown, [&](shmframe::Bytes bytes) {
            for (std::size_t i = 0; i < bytes.size(); i++) bytes[i] = std::byte{pattern_byte(height, i)};
        });
        CHECK(reader.wait_next(frame, shmframe::no_limit) == Outcome::Ok);
        CHECK(frame.height() == height && frame.size() == 64u * height);
        for (std::size_t i = 0; i < frame.size(); i++) CHECK(frame.data()[i] == pattern_byte(height, i));
    }
    CHECK(reader.fd() >= 0);
    thrown = false;
    try {
        std::uint8_t too_big[1];
        writer.publish(shmframe::packed(1024, 1024, PixelFormat::Rgba8), too_big, 4u << 20);
    } catch (const shmframe::Error &e) {
        thrown = e.status() == SHMFRAME_E_TOO_LARGE;
    }
    CHECK(thrown);
}
#endif

#if defined(SHMFRAME_TEST_OPENCV) && !defined(SHMFRAME_TEST_NO_EXCEPTIONS)
static void a_mat_wraps_a_frame_and_publishes_exactly() {
    shmframe::Writer writer("hpp-mat", small_slots());
    shmframe::Reader reader("hpp-mat");
    cv::Mat image(6, 10, CV_8UC3);
    for (int y = 0; y < image.rows; y++)
        for (int x = 0; x < image.cols * 3; x++) image.ptr<std::uint8_t>(y)[x] = pattern_byte(3, y * 30 + x);
    // A region of interest has a step larger than its rows: published packed.
    cv::Mat roi = image(cv::Rect(2, 1, 5, 4));
    shmframe::publish_mat(writer, roi, PixelFormat::Bgr8);
    shmframe::Frame frame;
    CHECK(reader.latest(frame) == Outcome::Ok);
    cv::Mat view = shmframe::as_mat(frame);
    CHECK(view.rows == 4 && view.cols == 5 && view.type() == CV_8UC3);
    CHECK(view.data == frame.data());
    CHECK(cv::norm(view, roi, cv::NORM_INF) == 0);
    // Planar YUV: one plane of height * 3 / 2 rows.
    writer.publish(shmframe::packed(4, 4, PixelFormat::Nv12), [](shmframe::Bytes b) {
        for (std::size_t i = 0; i < b.size(); i++) b[i] = std::byte{static_cast<unsigned char>(i)};
    });
    CHECK(reader.latest(frame) == Outcome::Ok);
    cv::Mat nv12 = shmframe::as_mat(frame);
    CHECK(nv12.rows == 6 && nv12.cols == 4 && nv12.at<std::uint8_t>(5, 3) == 23);
    // A held frame: the Mat is over the shared memory itself.
    shmframe::Hold hold;
    hold_when_granted(writer, reader, shmframe::packed(4, 4, PixelFormat::Nv12), hold);
    cv::Mat held = shmframe::as_mat(hold);
    CHECK(held.data == hold.data() && held.rows == 6 && held.cols == 4);
    CHECK(held.at<std::uint8_t>(5, 3) == pattern_byte(hold.number(), 23));
}
#endif

#ifdef SHMFRAME_TEST_QT
static void a_qimage_wraps_a_frame() {
    shmframe::Status status;
    shmframe::Writer writer("hpp-qimage", small_slots(), &status);
    shmframe::Reader reader("hpp-qimage", nullptr, &status);
    CHECK(writer && reader);
    const std::uint8_t bgra[8] = {10, 20, 30, 255, 40, 50, 60, 128};  // 2x1
    CHECK(writer.publish(shmframe::packed(2, 1, PixelFormat::Bgra8), bgra, 8, &status));
    shmframe::Frame frame;
    CHECK(reader.latest(frame, &status) == Outcome::Ok);
    QImage image = shmframe::as_qimage(frame);
    CHECK(!image.isNull() && image.constBits() == frame.data());
    CHECK(image.pixel(0, 0) == qRgba(30, 20, 10, 255));
    CHECK(image.pixel(1, 0) == qRgba(60, 50, 40, 128));
    const std::uint8_t rgb[6] = {1, 2, 3, 4, 5, 6};
    CHECK(writer.publish(shmframe::packed(2, 1, PixelFormat::Rgb8), rgb, 6, &status));
    CHECK(reader.latest(frame, &status) == Outcome::Ok);
    CHECK(shmframe::as_qimage(frame).pixel(1, 0) == qRgb(4, 5, 6));
    std::uint8_t nv12[6] = {};
    CHECK(writer.publish(shmframe::packed(2, 2, PixelFormat::Nv12), nv12, 6, &status));
    CHECK(reader.latest(frame, &status) == Outcome::Ok);
    CHECK(shmframe::as_qimage(frame).isNull());
    // A held frame: the QImage is over the shared memory itself.
    shmframe::Hold hold;
    hold_when_granted(writer, reader, shmframe::packed(2, 1, PixelFormat::Rgb8), hold);
    const QImage held = shmframe::as_qimage(hold);
    const std::uint64_t n = hold.number();
    CHECK(!held.isNull() && held.constBits() == hold.data());
    CHECK(held.pixel(1, 0) == qRgb(pattern_byte(n, 3), pattern_byte(n, 4), pattern_byte(n, 5)));
}
#endif

int main() {
    status_overloads_never_throw();
    holds_are_raii_and_outlive_their_reader();
#ifndef SHMFRAME_TEST_NO_EXCEPTIONS
    errors_throw_and_a_throwing_fill_publishes_nothing();
#endif
#if defined(SHMFRAME_TEST_OPENCV) && !defined(SHMFRAME_TEST_NO_EXCEPTIONS)
    a_mat_wraps_a_frame_and_publishes_exactly();
#endif
#ifdef SHMFRAME_TEST_QT
    a_qimage_wraps_a_frame();
#endif
    return 0;
}
