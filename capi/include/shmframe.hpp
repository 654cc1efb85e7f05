// shmframe.hpp: header-only C++17 over the C API of shmframe.h.
//
//   shmframe::Writer writer("cam0");
//   writer.publish(shmframe::packed(640, 480, shmframe::PixelFormat::Rgb8),
//                  [&](shmframe::Bytes pixels) { fill(pixels.data(), pixels.size()); });
//
//   shmframe::Reader reader("cam0");
//   shmframe::Frame frame;
//   while (reader.wait_next(frame, shmframe::no_limit) == shmframe::Outcome::Ok)
//       use(frame.data(), frame.meta());
//
// Errors throw shmframe::Error (its status() and what()). Every call that can
// fail also has an overload taking a shmframe::Status*, which never throws:
// it fills the status and returns Outcome::Failed (or false / an empty
// handle). Built with -fno-exceptions, use those: the throwing ones abort.
//
// shmframe::Bytes, what a fill callback gets, is std::span<std::byte> in
// C++20 and a small span of this header's own in C++17 (data(), size(),
// begin(), end(), operator[]): code using only those compiles in both.
//
// Include OpenCV's or Qt's headers before this one to get shmframe::as_mat
// (a cv::Mat over a frame or hold) and shmframe::as_qimage (a QImage over a
// frame or hold), neither of which copies the pixels.
//
// Zero-copy: reader.hold_latest(hold) makes a shmframe::Hold of the frame in
// place (no copy); Outcome::NoHoldFree (never thrown) says to copy instead.
#ifndef SHMFRAME_HPP
#define SHMFRAME_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#if __cplusplus >= 202002L
#include <span>
#endif

#include "shmframe.h"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define SHMFRAME_HPP_EXCEPTIONS 1
#else
#define SHMFRAME_HPP_EXCEPTIONS 0
#endif

namespace shmframe {

/// The pixel formats (the values of the SHMFRAME_FORMAT_* codes).
enum class PixelFormat : std::uint32_t {
    Rgba8 = SHMFRAME_FORMAT_RGBA8,
    Bgra8 = SHMFRAME_FORMAT_BGRA8,
    Rgb8 = SHMFRAME_FORMAT_RGB8,
    Gray8 = SHMFRAME_FORMAT_GRAY8,
    Bgr8 = SHMFRAME_FORMAT_BGR8,
    Nv12 = SHMFRAME_FORMAT_NV12,
    I420 = SHMFRAME_FORMAT_I420,
    Yuyv = SHMFRAME_FORMAT_YUYV,
    Gray16 = SHMFRAME_FORMAT_GRAY16,
    GrayF32 = SHMFRAME_FORMAT_GRAYF32,
};

/// A frame's size, stride, format and colorimetry (the C struct).
using Meta = shmframe_frame_meta;
/// What a read says about a frame (the C struct).
using Info = shmframe_frame_info;

/// A packed frame `width` x `height` of `format`.
inline Meta packed(std::uint32_t width, std::uint32_t height, PixelFormat format) {
    return shmframe_frame_meta_packed(width, height, static_cast<shmframe_pixel_format>(format));
}

/// The format of `meta` (check it is known with format_name first if it came from elsewhere).
inline PixelFormat format_of(const Meta &meta) { return static_cast<PixelFormat>(meta.format); }

/// "rgba8", "nv12", ...; "" if unknown.
inline const char *format_name(PixelFormat format) {
    const char *name = shmframe_format_name(static_cast<shmframe_pixel_format>(format));
    return name ? name : "";
}

/// Wait without a time limit (not `forever`: Qt defines that as a macro).
constexpr std::chrono::nanoseconds no_limit{-1};

/// How a read ended: a frame, nothing new (or a timeout), the writer gone, or
/// (in the Status* overloads only) an error. NoHoldFree: a hold was refused
/// (only the hold calls give it, and never throw it): read a copy instead.
enum class Outcome { Ok, NoFrame, Closed, Failed, NoHoldFree };

/// A status code and, for errors, the message of shmframe_last_error.
struct Status {
    int code = SHMFRAME_OK;
    std::string message;
    bool failed() const noexcept { return code < 0; }
    const char *name() const noexcept { return shmframe_status_str(code); }
};

/// A failed call: its status code (negative) and message.
class Error : public std::runtime_error {
  public:
    Error(int status, const std::string &message)
        : std::runtime_error(std::string(shmframe_status_str(status)) + ": " + message), status_(status) {}
    int status() const noexcept { return status_; }

  private:
    int status_;
};

#if __cplusplus >= 202002L
/// The bytes of a frame being filled.
using Bytes = std::span<std::byte>;
/// The bytes of a held frame, read-only.
using ConstBytes = std::span<const std::byte>;
#else
/// A span of bytes (std::span in C++20).
template <class Byte>
class BasicBytes {
  public:
    BasicBytes(Byte *data, std::size_t size) noexcept : data_(data), size_(size) {}
    Byte *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    Byte *begin() const noexcept { return data_; }
    Byte *end() const noexcept { return data_ + size_; }
    Byte &operator[](std::size_t i) const noexcept { return data_[i]; }

  private:
    Byte *data_;
    std::size_t size_;
};
/// The bytes of a frame being filled (std::span<std::byte> in C++20).
using Bytes = BasicBytes<std::byte>;
/// The bytes of a held frame, read-only (std::span<const std::byte> in C++20).
using ConstBytes = BasicBytes<const std::byte>;
#endif

namespace detail {

inline std::string last_error() {
    std::size_t length = shmframe_last_error(nullptr, 0);
    std::string message(length + 1, '\0');
    shmframe_last_error(&message[0], message.size());
    message.resize(length);
    return message;
}

/// `rc`, after filling `status` if given, or throwing if `rc` is an error.
inline int check(int rc, Status *status) {
    if (status) {
        status->code = rc;
        status->message = rc < 0 ? last_error() : std::string();
        return rc;
    }
    if (rc < 0) {
#if SHMFRAME_HPP_EXCEPTIONS
        throw Error(rc, last_error());
#else
        std::abort();
#endif
    }
    return rc;
}

inline Outcome outcome_of(int rc) {
    switch (rc) {
    case SHMFRAME_OK:
        return Outcome::Ok;
    case SHMFRAME_NO_FRAME:
        return Outcome::NoFrame;
    case SHMFRAME_CLOSED:
        return Outcome::Closed;
    case SHMFRAME_E_NO_HOLD_FREE:
        return Outcome::NoHoldFree;
    default:
        return Outcome::Failed;
    }
}

inline std::int64_t to_ns(std::chrono::nanoseconds timeout) { return static_cast<std::int64_t>(timeout.count()); }

/// Owns one handle of the C API (NULL when empty) and closes it once:
/// move-only, as are the Writer and Reader holding one.
template <class T, void (*Close)(T *)>
class Handle {
  public:
    Handle() = default;
    Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    Handle &operator=(Handle &&other) noexcept {
        if (this != &other) {
            Close(raw_);
            raw_ = std::exchange(other.raw_, nullptr);
        }
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { Close(raw_); }

    T *get() const noexcept { return raw_; }
    /// Where a create or open call writes the new handle (this one is empty then).
    T **out() noexcept { return &raw_; }

  private:
    T *raw_ = nullptr;
};

}  // namespace detail

/// A frame copied out of a stream: its pixels and what the read said. The
/// buffer is reused by the next read into the same Frame. Move-only.
class Frame {
  public:
    Frame() = default;
    Frame(Frame &&) noexcept = default;
    Frame &operator=(Frame &&) noexcept = default;
    Frame(const Frame &) = delete;
    Frame &operator=(const Frame &) = delete;

    const std::uint8_t *data() const noexcept { return pixels_.data(); }
    std::uint8_t *data() noexcept { return pixels_.data(); }
    /// Bytes of the frame (not of the buffer, which may be larger).
    std::size_t size() const noexcept { return info_.len; }
    const Info &info() const noexcept { return info_; }
    const Meta &meta() const noexcept { return info_.meta; }
    PixelFormat format() const noexcept { return format_of(info_.meta); }
    std::uint32_t width() const noexcept { return info_.meta.width; }
    std::uint32_t height() const noexcept { return info_.meta.height; }
    std::uint32_t stride() const noexcept { return info_.meta.stride; }
    std::uint64_t index() const noexcept { return info_.index; }
    std::uint64_t number() const noexcept { return info_.number; }
    std::uint64_t missed() const noexcept { return info_.missed; }

  private:
    friend class Reader;
    std::vector<std::uint8_t> pixels_;
    Info info_{};
};

/// A frame held in place in the stream (zero-copy): its pixels stay as they
/// are until the Hold is released or destroyed. Read-only (a write faults).
/// Move-only; it may outlive its Reader and move to another thread.
class Hold {
  public:
    Hold() = default;
    Hold(Hold &&other) noexcept
        : hold_(std::move(other.hold_)),
          data_(std::exchange(other.data_, nullptr)),
          info_(std::exchange(other.info_, Info{})) {}
    Hold &operator=(Hold &&other) noexcept {
        if (this != &other) {
            hold_ = std::move(other.hold_);
            data_ = std::exchange(other.data_, nullptr);
            info_ = std::exchange(other.info_, Info{});
        }
        return *this;
    }

    /// Whether a frame is held.
    explicit operator bool() const noexcept { return hold_.get() != nullptr; }
    const std::uint8_t *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return info_.len; }
    ConstBytes pixels() const noexcept { return ConstBytes(reinterpret_cast<const std::byte *>(data_), info_.len); }
    const Info &info() const noexcept { return info_; }
    const Meta &meta() const noexcept { return info_.meta; }
    PixelFormat format() const noexcept { return format_of(info_.meta); }
    std::uint32_t width() const noexcept { return info_.meta.width; }
    std::uint32_t height() const noexcept { return info_.meta.height; }
    std::uint32_t stride() const noexcept { return info_.meta.stride; }
    std::uint64_t index() const noexcept { return info_.index; }
    std::uint64_t number() const noexcept { return info_.number; }
    std::uint64_t missed() const noexcept { return info_.missed; }
    shmframe_hold *handle() const noexcept { return hold_.get(); }

    /// Ends the hold now (the writer may reuse the slot); the Hold is empty after.
    void release() noexcept {
        hold_ = {};
        data_ = nullptr;
        info_ = Info{};
    }

  private:
    friend class Reader;
    /// Takes what the C call left in `*hold_.out()`: its pixels and info.
    void adopt() noexcept {
        std::size_t len = 0;
        if (shmframe_hold_pixels(hold_.get(), &data_, &len) != SHMFRAME_OK ||
            shmframe_hold_info(hold_.get(), &info_) != SHMFRAME_OK)
            release();
    }

    detail::Handle<shmframe_hold, shmframe_hold_release> hold_;
    const std::uint8_t *data_ = nullptr;
    Info info_{};
};

/// How to create a stream (defaults from shmframe_writer_options_default).
inline shmframe_writer_options default_writer_options() {
    shmframe_writer_options options;
    shmframe_writer_options_default(&options);
    return options;
}

/// The one writer of a stream; closing (destroying) it closes the stream. Move-only.
class Writer {
  public:
    /// An empty writer (from a failed create with a Status*).
    Writer() = default;
    /// Creates stream `name`; throws Error.
    explicit Writer(const std::string &name, const shmframe_writer_options &options = default_writer_options()) {
        detail::check(shmframe_writer_create(name.c_str(), &options, writer_.out()), nullptr);
    }
    /// Creates stream `name`; an empty writer and `status` filled on failure.
    Writer(const std::string &name, const shmframe_writer_options &options, Status *status) {
        detail::check(shmframe_writer_create(name.c_str(), &options, writer_.out()), status);
    }

    explicit operator bool() const noexcept { return writer_.get() != nullptr; }
    shmframe_writer *handle() const noexcept { return writer_.get(); }

    /// Publishes a copy of `len` bytes at `pixels`; throws Error.
    void publish(const Meta &meta, const void *pixels, std::size_t len) {
        detail::check(shmframe_writer_publish(writer_.get(), &meta, pixels, len), nullptr);
    }
    /// Publishes a copy; false and `status` filled on failure.
    bool publish(const Meta &meta, const void *pixels, std::size_t len, Status *status) {
        return detail::check(shmframe_writer_publish(writer_.get(), &meta, pixels, len), status) >= 0;
    }

    /// Publishes a frame that `fill(Bytes)` writes in place. If `fill` throws,
    /// or returns false (when it returns bool), nothing is published and the
    /// exception propagates. Throws Error.
    template <class Fill, class = std::enable_if_t<std::is_invocable_v<Fill &, Bytes>>>
    void publish(const Meta &meta, Fill &&fill) {
        publish_filled(meta, fill, nullptr);
    }
    /// As above; false and `status` filled on failure (false with status OK
    /// when `fill` returned false).
    template <class Fill, class = std::enable_if_t<std::is_invocable_v<Fill &, Bytes>>>
    bool publish(const Meta &meta, Fill &&fill, Status *status) {
        return publish_filled(meta, fill, status);
    }

    /// Frames published so far.
    std::uint64_t frames_published() const noexcept { return shmframe_writer_frames_published(writer_.get()); }

  private:
    template <class Fill>
    bool publish_filled(const Meta &meta, Fill &fill, Status *status) {
        void *slot = nullptr;
        std::size_t capacity = 0;
        if (detail::check(shmframe_writer_begin(writer_.get(), &meta, &slot, &capacity), status) < 0) return false;
        Bytes bytes(static_cast<std::byte *>(slot), capacity);
#if SHMFRAME_HPP_EXCEPTIONS
        try {
#endif
            if constexpr (std::is_same_v<std::invoke_result_t<Fill &, Bytes>, bool>) {
                if (!fill(bytes)) {
                    shmframe_writer_abort(writer_.get());
                    return false;
                }
            } else {
                fill(bytes);
            }
#if SHMFRAME_HPP_EXCEPTIONS
        } catch (...) {
            shmframe_writer_abort(writer_.get());
            throw;
        }
#endif
        return detail::check(shmframe_writer_commit(writer_.get()), status) >= 0;
    }

    detail::Handle<shmframe_writer, shmframe_writer_close> writer_;
};

/// A read-only view of a stream. Move-only.
class Reader {
  public:
    /// An empty reader (from a failed open with a Status*).
    Reader() = default;
    /// Opens stream `name`; throws Error (SHMFRAME_E_NOT_FOUND if there is no writer).
    explicit Reader(const std::string &name, const shmframe_reader_options *options = nullptr) {
        detail::check(shmframe_reader_open(name.c_str(), options, reader_.out()), nullptr);
    }
    /// Opens stream `name`; an empty reader and `status` filled on failure.
    Reader(const std::string &name, const shmframe_reader_options *options, Status *status) {
        detail::check(shmframe_reader_open(name.c_str(), options, reader_.out()), status);
    }

    explicit operator bool() const noexcept { return reader_.get() != nullptr; }
    shmframe_reader *handle() const noexcept { return reader_.get(); }

    /// The latest frame into `frame`; throws Error.
    Outcome latest(Frame &frame) { return read(frame, Kind::Latest, 0, nullptr); }
    Outcome latest(Frame &frame, Status *status) { return read(frame, Kind::Latest, 0, status); }
    /// The next frame in order into `frame`; throws Error.
    Outcome next(Frame &frame) { return read(frame, Kind::Next, 0, nullptr); }
    Outcome next(Frame &frame, Status *status) { return read(frame, Kind::Next, 0, status); }
    /// Waits up to `timeout` (shmframe::no_limit: no limit) for a frame newer than the last one returned.
    Outcome wait_latest(Frame &frame, std::chrono::nanoseconds timeout) {
        return read(frame, Kind::WaitLatest, detail::to_ns(timeout), nullptr);
    }
    Outcome wait_latest(Frame &frame, std::chrono::nanoseconds timeout, Status *status) {
        return read(frame, Kind::WaitLatest, detail::to_ns(timeout), status);
    }
    /// Waits up to `timeout` for the next frame in order.
    Outcome wait_next(Frame &frame, std::chrono::nanoseconds timeout) {
        return read(frame, Kind::WaitNext, detail::to_ns(timeout), nullptr);
    }
    Outcome wait_next(Frame &frame, std::chrono::nanoseconds timeout, Status *status) {
        return read(frame, Kind::WaitNext, detail::to_ns(timeout), status);
    }

    /// Holds the latest frame in place in `hold` (what it held before is
    /// released first). Outcome::NoHoldFree, never thrown, when no hold is
    /// free: read a copy with latest() instead. Other errors throw Error.
    Outcome hold_latest(Hold &hold) { return take_hold(hold, Kind::Latest, 0, nullptr); }
    Outcome hold_latest(Hold &hold, Status *status) { return take_hold(hold, Kind::Latest, 0, status); }
    /// Holds the next frame in order (on NoHoldFree it stays next).
    Outcome hold_next(Hold &hold) { return take_hold(hold, Kind::Next, 0, nullptr); }
    Outcome hold_next(Hold &hold, Status *status) { return take_hold(hold, Kind::Next, 0, status); }
    /// Waits up to `timeout` for a frame newer than the last one returned and holds the latest.
    Outcome wait_hold_latest(Hold &hold, std::chrono::nanoseconds timeout) {
        return take_hold(hold, Kind::WaitLatest, detail::to_ns(timeout), nullptr);
    }
    Outcome wait_hold_latest(Hold &hold, std::chrono::nanoseconds timeout, Status *status) {
        return take_hold(hold, Kind::WaitLatest, detail::to_ns(timeout), status);
    }
    /// Waits up to `timeout` for the next frame in order and holds it.
    Outcome wait_hold_next(Hold &hold, std::chrono::nanoseconds timeout) {
        return take_hold(hold, Kind::WaitNext, detail::to_ns(timeout), nullptr);
    }
    Outcome wait_hold_next(Hold &hold, std::chrono::nanoseconds timeout, Status *status) {
        return take_hold(hold, Kind::WaitNext, detail::to_ns(timeout), status);
    }

    /// The readiness fd for event loops (see shmframe_reader_fd); throws Error.
    int fd() { return detail::check(shmframe_reader_fd(reader_.get()), nullptr); }
    int fd(Status *status) { return detail::check(shmframe_reader_fd(reader_.get()), status); }
    void clear_readiness() noexcept { shmframe_reader_clear_readiness(reader_.get()); }

    /// Whether the writer is running and publishing into the stream.
    bool writer_alive() const noexcept { return shmframe_reader_writer_alive(reader_.get()) == 1; }

  private:
    enum class Kind { Latest, Next, WaitLatest, WaitNext };

    int read_once(Frame &frame, Kind kind, std::int64_t timeout_ns) {
        void *buf = frame.pixels_.empty() ? nullptr : frame.pixels_.data();
        std::size_t cap = frame.pixels_.size();
        switch (kind) {
        case Kind::Latest:
            return shmframe_reader_latest(reader_.get(), buf, cap, &frame.info_);
        case Kind::Next:
            return shmframe_reader_next(reader_.get(), buf, cap, &frame.info_);
        case Kind::WaitLatest:
            return shmframe_reader_wait_latest(reader_.get(), buf, cap, timeout_ns, &frame.info_);
        case Kind::WaitNext:
            return shmframe_reader_wait_next(reader_.get(), buf, cap, timeout_ns, &frame.info_);
        }
        return SHMFRAME_E_INVALID;
    }

    Outcome read(Frame &frame, Kind kind, std::int64_t timeout_ns, Status *status) {
        int rc = read_once(frame, kind, timeout_ns);
        // A frame larger than the buffer stays readable: grow and read it at once
        // (a few times, should frames keep growing meanwhile).
        for (int tries = 0; rc == SHMFRAME_E_BUFFER_TOO_SMALL && tries < 4; tries++) {
            frame.pixels_.resize(frame.info_.len);
            rc = read_once(frame, kind, 0);
        }
        return detail::outcome_of(detail::check(rc, status));
    }

    Outcome take_hold(Hold &hold, Kind kind, std::int64_t timeout_ns, Status *status) {
        hold.release();
        shmframe_hold **out = hold.hold_.out();
        int rc = SHMFRAME_E_INVALID;
        switch (kind) {
        case Kind::Latest:
            rc = shmframe_reader_hold_latest(reader_.get(), out);
            break;
        case Kind::Next:
            rc = shmframe_reader_hold_next(reader_.get(), out);
            break;
        case Kind::WaitLatest:
            rc = shmframe_reader_wait_hold_latest(reader_.get(), timeout_ns, out);
            break;
        case Kind::WaitNext:
            rc = shmframe_reader_wait_hold_next(reader_.get(), timeout_ns, out);
            break;
        }
        if (rc == SHMFRAME_OK) hold.adopt();
        if (rc == SHMFRAME_E_NO_HOLD_FREE) {
            // A normal outcome for the caller (copy instead), not an exception.
            if (status) {
                status->code = rc;
                status->message = detail::last_error();
            }
            return Outcome::NoHoldFree;
        }
        return detail::outcome_of(detail::check(rc, status));
    }

    detail::Handle<shmframe_reader, shmframe_reader_close> reader_;
};

}  // namespace shmframe

#endif  // SHMFRAME_HPP

// -- OpenCV: a cv::Mat over a frame, without a copy ------------------------
#if defined(OPENCV_CORE_HPP) && !defined(SHMFRAME_HPP_OPENCV)
#define SHMFRAME_HPP_OPENCV
namespace shmframe {

/// The OpenCV type of a frame's first plane: CV_8UC4 (rgba8, bgra8), CV_8UC3
/// (rgb8, bgr8), CV_8UC1 (gray8, and nv12/i420 as OpenCV's one-channel
/// layout of height * 3 / 2 rows), CV_8UC2 (yuyv), CV_16UC1, CV_32FC1; -1 if unknown.
inline int cv_type_of(PixelFormat format) {
    switch (format) {
    case PixelFormat::Rgba8:
    case PixelFormat::Bgra8:
        return CV_8UC4;
    case PixelFormat::Rgb8:
    case PixelFormat::Bgr8:
        return CV_8UC3;
    case PixelFormat::Gray8:
    case PixelFormat::Nv12:
    case PixelFormat::I420:
        return CV_8UC1;
    case PixelFormat::Yuyv:
        return CV_8UC2;
    case PixelFormat::Gray16:
        return CV_16UC1;
    case PixelFormat::GrayF32:
        return CV_32FC1;
    }
    return -1;
}

namespace detail {
/// A cv::Mat over `len` bytes at `data` described by `meta`; empty if unknown.
inline cv::Mat mat_over(const Meta &meta, const std::uint8_t *data, std::size_t len) {
    const PixelFormat format = format_of(meta);
    int type = cv_type_of(format);
    if (type < 0 || len == 0) return cv::Mat();
    int rows = static_cast<int>(meta.height);
    if (format == PixelFormat::Nv12 || format == PixelFormat::I420) rows = rows * 3 / 2;
    // cv::Mat takes a non-const pointer; a held frame's Mat must not be written.
    return cv::Mat(rows, static_cast<int>(meta.width), type, const_cast<std::uint8_t *>(data), meta.stride);
}
}  // namespace detail

/// A cv::Mat over `frame`'s pixels (no copy): valid while `frame` lives and
/// is not read into again. Planar YUV frames are one CV_8UC1 Mat of height * 3 / 2
/// rows, as cv::cvtColor's COLOR_YUV2BGR_NV12 / _I420 expect. Empty if the format is unknown.
inline cv::Mat as_mat(Frame &frame) { return detail::mat_over(frame.meta(), frame.data(), frame.size()); }

/// A cv::Mat over a held frame's pixels in shared memory (no copy), laid out
/// as for a Frame: valid while `hold` holds it. Read-only: writing into it
/// faults (the mapping is read-only); clone() it to change it.
inline cv::Mat as_mat(const Hold &hold) { return detail::mat_over(hold.meta(), hold.data(), hold.size()); }

/// The packed frame metadata of `mat` as `format` (whose channels and depth must match).
inline Meta meta_of(const cv::Mat &mat, PixelFormat format) {
    return packed(static_cast<std::uint32_t>(mat.cols), static_cast<std::uint32_t>(mat.rows), format);
}

/// Publishes `mat` (any step) as `format` through `writer`, row by row into the slot; throws Error.
inline void publish_mat(Writer &writer, const cv::Mat &mat, PixelFormat format) {
    if (cv_type_of(format) != mat.type() || format == PixelFormat::Nv12 || format == PixelFormat::I420)
        throw Error(SHMFRAME_E_INVALID, "the cv::Mat's type does not match the pixel format");
    const Meta meta = meta_of(mat, format);
    const std::size_t row_bytes = mat.elemSize() * static_cast<std::size_t>(mat.cols);
    writer.publish(meta, [&](Bytes pixels) {
        for (int y = 0; y < mat.rows; y++)
            std::memcpy(pixels.data() + static_cast<std::size_t>(y) * meta.stride, mat.ptr(y), row_bytes);
    });
}

}  // namespace shmframe
#endif

// -- Qt: a QImage over a frame, without a copy ------------------------------
#if defined(QIMAGE_H) && !defined(SHMFRAME_HPP_QT)
#define SHMFRAME_HPP_QT
namespace shmframe {

/// The QImage format showing `format`'s bytes as they are, or QImage::Format_Invalid
/// (YUV and float frames need a conversion).
inline QImage::Format qimage_format_of(PixelFormat format) {
    switch (format) {
    case PixelFormat::Rgba8:
        return QImage::Format_RGBA8888;
    case PixelFormat::Bgra8:
        // B, G, R, A in memory is 0xAARRGGBB read as a little-endian word.
        return QImage::Format_ARGB32;
    case PixelFormat::Rgb8:
        return QImage::Format_RGB888;
    case PixelFormat::Bgr8:
        return QImage::Format_BGR888;
    case PixelFormat::Gray8:
        return QImage::Format_Grayscale8;
    case PixelFormat::Gray16:
        return QImage::Format_Grayscale16;
    default:
        return QImage::Format_Invalid;
    }
}

namespace detail {
/// A read-only QImage over `len` bytes at `data` described by `meta`
/// (QImage's const-data constructor: changing the image makes Qt copy first).
inline QImage qimage_over(const Meta &meta, const std::uint8_t *data, std::size_t len) {
    QImage::Format format = qimage_format_of(format_of(meta));
    if (format == QImage::Format_Invalid || len == 0) return QImage();
    return QImage(data, static_cast<int>(meta.width), static_cast<int>(meta.height),
                  static_cast<qsizetype>(meta.stride), format);
}
}  // namespace detail

/// A QImage over `frame`'s pixels (no copy): valid while `frame` lives and is
/// not read into again (QImage::copy() keeps one). Null for YUV and float frames.
inline QImage as_qimage(const Frame &frame) { return detail::qimage_over(frame.meta(), frame.data(), frame.size()); }

/// A QImage over a held frame's pixels in shared memory (no copy): valid
/// while `hold` holds it. Null for YUV and float frames.
inline QImage as_qimage(const Hold &hold) { return detail::qimage_over(hold.meta(), hold.data(), hold.size()); }

}  // namespace shmframe
#endif
