"""Helpers of the zero-copy tests: distinct frames, and a reader whose holds were granted."""

import time

import numpy as np

import shmframe

#: A small RGBA frame: every test frame has this shape.
SHAPE = (48, 64, 4)


def pattern(n, shape=SHAPE):
    """Frame ``n``: bytes that differ from those of every other n below 251 * 256."""
    flat = (np.arange(int(np.prod(shape)), dtype=np.uint32) + n) % 251
    image = flat.astype(np.uint8).reshape(shape)
    image[0, 0, :2] = (n & 0xFF, (n >> 8) & 0xFF)
    return image


def granted_reader(writer, name, holds=2, **options):
    """A Reader of ``name`` (written by ``writer``, in this process) with ``holds`` holds granted."""
    reader = shmframe.Reader(name, holds=holds, **options)
    wait_for_holds(reader, lambda: writer.publish(pattern(writer.frames_published + 1)), holds)
    return reader


def wait_for_holds(reader, publish_one, holds):
    """Publishes frames with ``publish_one()`` until ``reader`` has ``holds`` holds granted.

    Its first ``copy=False`` read makes its hold file and is refused; the
    writer grants holds when it next publishes (it looks for hold files a few
    milliseconds apart), so this publishes until it has.
    """
    publish_one()
    first = reader.latest(copy=False)
    assert first is not None and not first.zero_copy, "holds granted before the first hold asked"
    give_up = time.monotonic() + 20
    while reader.holds_granted < holds:
        assert time.monotonic() < give_up, f"{reader.holds_granted} of {holds} holds granted after 20 s"
        publish_one()
        time.sleep(0.001)
