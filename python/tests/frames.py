"""Deterministic test frames of every format, shared by the tests and their child processes."""

import numpy as np

import shmframe
from shmframe._frame import PACKED, YUV

#: Every format the engine supports.
FORMATS = list(shmframe.FORMATS)

#: Odd sizes (width, height) the issue names; YUYV needs an even width, so it uses the next one up.
SIZES = [(1, 1), (3, 7), (1921, 3)]

#: Extra bytes after each row of the padded variants (odd, so strides are odd too where allowed).
PAD = 5


def size_for(fmt, width, height):
    """The size a format can take closest to (width, height)."""
    return (width + width % 2, height) if fmt == "yuyv" else (width, height)


def make_frame(fmt, width, height, padded, seed):
    """A frame to publish, as (array, publish keyword arguments, the array a reader should get).

    Packed formats: an HxW[xC] array of the format's dtype; the padded variant is
    a slice of a wider array, so its rows lie ``row + PAD`` bytes apart. YUV
    formats: the frame's bytes with a luma stride of ``row + PAD`` when padded.
    """
    rng = np.random.default_rng(seed)
    width, height = size_for(fmt, width, height)
    if fmt in YUV:
        row = width * (2 if fmt == "yuyv" else 1)
        stride = row + PAD if padded else row
        (length,), _ = shmframe.out_shape(fmt, width, height, stride)
        data = rng.integers(0, 256, length, dtype=np.uint8)
        kwargs = dict(format=fmt, width=width, height=height, stride=stride)
        return data, kwargs, data.copy()
    dtype, channels = PACKED[fmt]
    shape = (height, width) if channels == 1 else (height, width, channels)
    if dtype == np.float32:
        full = rng.standard_normal(shape).astype(np.float32)
    else:
        full = rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    if padded:
        # Widen each row by enough whole pixels to hold PAD bytes, then slice.
        extra = -(-PAD // (channels * dtype.itemsize))
        wide_shape = (height, width + extra) + shape[2:]
        wide = np.zeros(wide_shape, dtype=dtype)
        wide[:, :width] = full
        array = wide[:, :width]
        assert array.strides[0] > width * channels * dtype.itemsize
    else:
        array = full
    return array, dict(format=fmt), full.copy()


def cases(fmt):
    """(width, height, padded) of every case run for a format."""
    return [(w, h, padded) for (w, h) in SIZES for padded in (False, True)]
