"""numpy image frames between processes, through lock-free shared memory.

One :class:`Writer` per stream publishes frames; any number of :class:`Reader`
processes (Python, Rust, the ``shmframe`` command, GStreamer) read the
latest frame, or every frame in order while they keep up. A name is all two
processes share::

    import numpy as np, shmframe

    with shmframe.Writer("cam0", slots=3) as w:        # process A
        w.publish(np.zeros((480, 640, 3), np.uint8))   # rgb8; format="bgr" for OpenCV

    r = shmframe.Reader("cam0")                         # process B
    f = r.wait_latest(timeout=1.0)                      # a Frame, or None
    f.array, f.number, f.format                         # (480, 640, 3) uint8, 1, "rgb8"

``r.latest(copy=False)`` (and every other read) holds the frame in place
instead of copying it: ``f.array`` is then a read-only view into shared
memory (``f.zero_copy``), a copy when no hold is free.

The writer is never held up by a reader; waits and copies release the GIL;
``async for f in r.frames()`` serves asyncio. Errors derive from
:class:`Error`. Segments live in /dev/shm, or in ``$SHMFRAME_DIR``.
"""

from typing import List

from . import _native
from ._errors import (
    CorruptSegmentError,
    Error,
    ForeignOwnerError,
    FrameTypeError,
    FrameValueError,
    InvalidArgumentError,
    NoStreamError,
    StarvedError,
    StreamOSError,
    WriterExistsError,
)
from ._frame import Frame, Plane, out_shape
from ._reader import Reader, Status

Writer = _native.Writer

#: Largest frame a Writer's slots hold by default: one 1920x1080 RGBA frame.
DEFAULT_CAPACITY: int = _native.DEFAULT_CAPACITY

#: Every pixel format name, in the engine's code order.
FORMATS: List[str] = list(_native.formats())


def list_streams() -> List[str]:
    """Names of the streams in the segment directory ($SHMFRAME_DIR, default /dev/shm)."""
    return list(_native.list_streams())


def monotonic_ns() -> int:
    """CLOCK_MONOTONIC nanoseconds, the clock of :attr:`Frame.timestamp_ns`."""
    return _native.monotonic_ns()


__all__ = [
    "CorruptSegmentError",
    "DEFAULT_CAPACITY",
    "Error",
    "FORMATS",
    "ForeignOwnerError",
    "Frame",
    "FrameTypeError",
    "FrameValueError",
    "InvalidArgumentError",
    "NoStreamError",
    "Plane",
    "Reader",
    "StarvedError",
    "Status",
    "StreamOSError",
    "Writer",
    "WriterExistsError",
    "list_streams",
    "monotonic_ns",
    "out_shape",
]
