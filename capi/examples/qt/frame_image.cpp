#include "frame_image.h"

#include <algorithm>
#include <cstring>

namespace {

// Y'CbCr to R'G'B' coefficients of one matrix (Kr, Kb; ITU-R BT.601 and BT.709).
struct Matrix {
    double r_cr, g_cb, g_cr, b_cb;
};
const Matrix BT601 = {1.402, -0.344136, -0.714136, 1.772};
const Matrix BT709 = {1.5748, -0.187324, -0.468124, 1.8556};

unsigned char clamp8(double v) { return static_cast<unsigned char>(std::clamp(v + 0.5, 0.0, 255.0)); }

// Converts one pixel's Y, U, V bytes into `rgb`.
void yuv_to_rgb(const shmframe::Meta &meta, int y, int u, int v, unsigned char *rgb) {
    const Matrix &m = meta.matrix == SHMFRAME_MATRIX_BT709 ? BT709 : BT601;
    const bool full = meta.range == SHMFRAME_RANGE_FULL;
    const double luma = full ? y : (y - 16) * 255.0 / 219.0;
    const double cb = full ? u - 128.0 : (u - 128) * 255.0 / 224.0;
    const double cr = full ? v - 128.0 : (v - 128) * 255.0 / 224.0;
    rgb[0] = clamp8(luma + m.r_cr * cr);
    rgb[1] = clamp8(luma + m.g_cb * cb + m.g_cr * cr);
    rgb[2] = clamp8(luma + m.b_cb * cb);
}

// The YUV frame as RGB888, with the plane layout of docs/layout.md.
QImage yuv_image(const shmframe::Frame &frame) {
    const shmframe::Meta &meta = frame.meta();
    const int w = static_cast<int>(meta.width), h = static_cast<int>(meta.height);
    const std::size_t stride = meta.stride, chroma_rows = (meta.height + 1) / 2;
    const unsigned char *bytes = frame.data();
    QImage image(w, h, QImage::Format_RGB888);
    for (int row = 0; row < h; row++) {
        unsigned char *out = image.scanLine(row);
        const unsigned char *luma = bytes + row * stride;
        for (int x = 0; x < w; x++) {
            int y, u, v;
            if (frame.format() == shmframe::PixelFormat::Yuyv) {
                const unsigned char *pair = luma + (x / 2) * 4;
                y = pair[(x % 2) * 2], u = pair[1], v = pair[3];
            } else if (frame.format() == shmframe::PixelFormat::Nv12) {
                const unsigned char *uv = bytes + stride * h + (row / 2) * (stride + stride % 2);
                y = luma[x], u = uv[(x / 2) * 2], v = uv[(x / 2) * 2 + 1];
            } else {  // I420
                const std::size_t chroma_stride = (stride + 1) / 2;
                const unsigned char *u_plane = bytes + stride * h;
                const unsigned char *v_plane = u_plane + chroma_stride * chroma_rows;
                y = luma[x], u = u_plane[(row / 2) * chroma_stride + x / 2], v = v_plane[(row / 2) * chroma_stride + x / 2];
            }
            yuv_to_rgb(meta, y, u, v, out + x * 3);
        }
    }
    return image;
}

// A float frame (0..1) as 8-bit gray.
QImage float_image(const shmframe::Frame &frame) {
    const int w = static_cast<int>(frame.width()), h = static_cast<int>(frame.height());
    QImage image(w, h, QImage::Format_Grayscale8);
    for (int row = 0; row < h; row++) {
        const unsigned char *in = frame.data() + static_cast<std::size_t>(row) * frame.stride();
        unsigned char *out = image.scanLine(row);
        for (int x = 0; x < w; x++) {
            float value;
            std::memcpy(&value, in + x * 4, 4);
            out[x] = clamp8(value * 255.0);
        }
    }
    return image;
}

}  // namespace

QImage to_qimage(const shmframe::Frame &frame) {
    switch (frame.format()) {
    case shmframe::PixelFormat::Nv12:
    case shmframe::PixelFormat::I420:
    case shmframe::PixelFormat::Yuyv:
        return yuv_image(frame);
    case shmframe::PixelFormat::GrayF32:
        return float_image(frame);
    default:
        // The view shares the frame's buffer, which the next read reuses: copy.
        return shmframe::as_qimage(frame).copy();
    }
}
