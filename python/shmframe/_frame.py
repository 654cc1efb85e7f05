"""Frames as numpy arrays: the array shape and dtype of each pixel format."""

from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from ._errors import FrameTypeError, FrameValueError

#: numpy dtype and channels of each packed format's HxW or HxWxC array.
PACKED = {
    "gray8": (np.dtype(np.uint8), 1),
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "gray16": (np.dtype("<u2"), 1),
    "grayf32": (np.dtype("<f4"), 1),
}

#: YUV formats: their array is the frame's bytes (1-D uint8), planes describe it.
YUV = ("nv12", "i420", "yuyv")


class Plane(NamedTuple):
    """Where one plane of a YUV frame lies in ``Frame.array`` (bytes)."""

    offset: int
    stride: int
    rows: int
    row_bytes: int


def yuv_planes(fmt: str, width: int, height: int, stride: int) -> Tuple[Plane, ...]:
    """The planes of a YUV frame, as docs/layout.md defines them."""
    luma = Plane(0, stride, height, width * (2 if fmt == "yuyv" else 1))
    half_w, half_h = (width + 1) // 2, (height + 1) // 2
    if fmt == "nv12":
        return (luma, Plane(stride * height, stride + stride % 2, half_h, 2 * half_w))
    if fmt == "i420":
        chroma_stride = (stride + 1) // 2
        u = Plane(stride * height, chroma_stride, half_h, half_w)
        return (luma, u, Plane(u.offset + chroma_stride * half_h, chroma_stride, half_h, half_w))
    return (luma,)


class Frame:
    """One frame read from a stream.

    Attributes:
        array: the pixels as a numpy array. Read with ``copy=True`` (the
            default), the caller owns it; with ``copy=False`` it is a read-only
            view into the shared segment (``zero_copy`` says which). Packed formats give
            HxW (gray8 uint8, gray16 uint16, grayf32 float32) or HxWxC (rgb8,
            bgr8: 3 channels; rgba8, bgra8: 4) uint8; rows the writer padded stay
            padded in memory (``array.strides[0] == stride``), unless read into
            ``out=``. YUV formats (nv12, i420, yuyv) give the frame's bytes as a
            1-D uint8 array; ``planes`` and ``plane(i)`` say where each plane is.
        number: frame number: its index, unless the writer gave its own (a
            stream imported by shmframe-bridge keeps the sender's numbers).
        index: the frame's place in this stream's segment (1 for the first
            frame, then consecutive); ``missed`` counts indexes.
        timestamp_ns: the frame's timestamp: CLOCK_MONOTONIC nanoseconds at
            which it was published, unless the writer gave its own (an
            imported frame keeps its sender's, on the sender's clock).
        published_ns: CLOCK_MONOTONIC nanoseconds on this machine at which it
            was published into this stream (compare with ``time.monotonic_ns()``
            for its age; for an imported frame, when it arrived).
        missed: frames skipped since the previous in-order read because the
            writer lapped this reader (always 0 for latest-frame reads).
        width, height: size in pixels.
        format: pixel format name: "rgba8", "bgra8", "rgb8", "bgr8", "gray8",
            "gray16", "grayf32", "nv12", "i420" or "yuyv".
        stride: bytes from one row (of the first plane) to the next in the stream.
        matrix, range: YUV colorimetry ("bt601"/"bt709", "limited"/"full").
        zero_copy: True if ``array`` is a read-only view of the frame in place
            in the segment, under a hold (``copy=False`` and a hold was free);
            False if it is a copy.

    A zero-copy frame's hold ends when ``release()`` is called (or its
    ``with`` block ends) and no array made from it is left, or when the frame
    and every such array are garbage-collected: an array (or any view of it)
    that is still referenced keeps the pixels valid and unchanged until it
    goes. After ``release()``, ``frame.array`` raises FrameValueError.
    """

    __slots__ = (
        "_array",
        "zero_copy",
        "number",
        "index",
        "timestamp_ns",
        "published_ns",
        "missed",
        "width",
        "height",
        "format",
        "stride",
        "matrix",
        "range",
    )

    def __init__(self, info: Tuple[Any, ...], array: np.ndarray, zero_copy: bool = False) -> None:
        (
            self.number,
            self.timestamp_ns,
            self.missed,
            self.width,
            self.height,
            self.stride,
            self.format,
            self.matrix,
            self.range,
            _length,
            self.index,
            self.published_ns,
        ) = info
        self._array: Optional[np.ndarray] = array
        self.zero_copy = zero_copy

    @property
    def array(self) -> np.ndarray:
        """The pixels (see the class doc); FrameValueError after ``release()``."""
        array = self._array
        if array is None:
            raise FrameValueError(
                f"frame #{self.number} was released; keep a reference to frame.array "
                "(or np.array(frame.array) for a copy) before release() to use it afterwards"
            )
        return array

    def release(self) -> None:
        """Lets go of the pixels: a zero-copy frame's hold ends as soon as no array made
        from it is referenced any more (at once if there is none). ``frame.array`` raises
        afterwards; arrays taken from it before stay valid. Calling it again does nothing."""
        self._array = None

    def __enter__(self) -> "Frame":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @property
    def planes(self) -> Tuple[Plane, ...]:
        """Offsets, strides and sizes of the planes in ``array``'s bytes (one plane for packed formats)."""
        if self.format in YUV:
            return yuv_planes(self.format, self.width, self.height, self.stride)
        dtype, channels = PACKED[self.format]
        row = self.width * channels * dtype.itemsize
        stride = self.array.strides[0] if self.array.ndim >= 2 else row
        return (Plane(0, stride, self.height, row),)

    def plane(self, index: int) -> np.ndarray:
        """Plane ``index`` of a YUV frame as a 2-D uint8 view (rows x row bytes) of ``array``.

        NV12: 0 is Y (HxW), 1 is interleaved UV (ceil(H/2) x 2*ceil(W/2)); I420:
        0 Y, 1 U, 2 V (ceil(H/2) x ceil(W/2)); YUYV: 0 is the packed rows (H x 2W).
        """
        if self.format not in YUV:
            raise FrameValueError(f"plane() is for YUV frames; this frame is {self.format}: use .array")
        p = self.planes[index]
        return np.lib.stride_tricks.as_strided(
            self.array[p.offset :], shape=(p.rows, p.row_bytes), strides=(p.stride, 1), writeable=False
        )

    def __repr__(self) -> str:
        state = " zero_copy" if self.zero_copy else ""
        state += " released" if self._array is None else ""
        return (
            f"<shmframe.Frame #{self.number} {self.width}x{self.height} {self.format}"
            f" missed={self.missed}{state}>"
        )


def shape_of(fmt: str, width: int, height: int, length: int) -> Tuple[Tuple[int, ...], np.dtype]:
    """The shape and dtype of a frame's array (packed: HxW[xC]; YUV: its bytes)."""
    if fmt in YUV:
        return (length,), np.dtype(np.uint8)
    dtype, channels = PACKED[fmt]
    shape = (height, width) if channels == 1 else (height, width, channels)
    return shape, dtype


def view_of(info: Tuple[Any, ...], data: np.ndarray) -> np.ndarray:
    """The frame's array over ``data`` (its bytes as read, stride included), without a copy."""
    fmt, width, height, stride, length = info[6], info[3], info[4], info[5], info[9]
    shape, dtype = shape_of(fmt, width, height, length)
    if fmt in YUV:
        return data
    item = dtype.itemsize
    strides = (stride, item) if len(shape) == 2 else (stride, shape[2] * item, item)
    return np.ndarray(shape, dtype=dtype, buffer=data, strides=strides)


def check_out(out: Any) -> np.ndarray:
    """Checks what can be checked of ``out=`` before a frame is read."""
    if not isinstance(out, np.ndarray):
        raise FrameTypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise FrameValueError("out must be a writeable C-contiguous array (numpy.empty(shape, dtype))")
    return out


def fit_out(info: Tuple[Any, ...], out: np.ndarray) -> Tuple[np.ndarray, int, int, int]:
    """Checks that the frame fits ``out`` exactly; returns (bytes of out, rows, row bytes, stride)."""
    fmt, width, height, stride, length = info[6], info[3], info[4], info[5], info[9]
    shape, dtype = shape_of(fmt, width, height, length)
    if out.dtype != dtype:
        raise FrameTypeError(f"out has dtype {out.dtype}, but the {fmt} frame needs {dtype}")
    if fmt in YUV:
        if out.nbytes != length:
            raise FrameValueError(
                f"out holds {out.nbytes} bytes, but the {width}x{height} {fmt} frame is {length} bytes"
            )
        rows, row_bytes, stride = 1, length, length
    else:
        if out.shape != shape:
            raise FrameValueError(
                f"out has shape {out.shape}, but the {width}x{height} {fmt} frame needs {shape}"
            )
        rows, row_bytes = height, out.nbytes // height
    return out.reshape(-1).view(np.uint8), rows, row_bytes, stride


def out_shape(fmt: str, width: int, height: int, stride: Optional[int] = None) -> Tuple[Tuple[int, ...], np.dtype]:
    """The shape and dtype ``out=`` needs for frames of this format and size.

    For YUV formats ``stride`` is the luma row pitch (default: packed).
    """
    if fmt in YUV:
        pitch = stride if stride is not None else width * (2 if fmt == "yuyv" else 1)
        last = yuv_planes(fmt, width, height, pitch)[-1]
        return (last.offset + last.stride * last.rows,), np.dtype(np.uint8)
    return shape_of(fmt, width, height, 0)
