"""Bad input raises the documented exception, with a message that says what was expected."""

import os

import numpy as np
import pytest

import shmframe

RGB = np.zeros((4, 6, 3), np.uint8)


@pytest.mark.parametrize(
    "frame, kwargs, error, match",
    [
        ([[1, 2], [3, 4]], {}, TypeError, "numpy.ndarray"),
        (b"\x00" * 16, {}, TypeError, "numpy.ndarray"),
        (np.zeros((4, 4), np.int32), {}, TypeError, "uint8, uint16 or float32"),
        (np.zeros((4, 4), np.float64), {}, TypeError, "uint8, uint16 or float32"),
        (np.zeros((4, 4), ">u2"), {}, TypeError, "native byte order"),
        (np.zeros((4, 4, 2), np.uint8), {}, ValueError, "cannot tell the format"),
        (np.zeros((4, 4, 3), np.uint16), {}, ValueError, "cannot tell the format"),
        (np.zeros((2, 4, 4, 3), np.uint8), {}, ValueError, "cannot tell the format"),
        (np.zeros(16, np.uint8), {}, ValueError, "cannot tell the format"),
        (np.zeros((0, 4), np.uint8), {}, ValueError, "no pixels"),
        (np.zeros((4, 8, 3), np.uint8)[:, ::2], {}, ValueError, "contiguous"),
        (np.zeros((6, 4, 3), np.uint8).transpose(1, 0, 2), {}, ValueError, "contiguous"),
        (np.zeros((4, 6, 3), np.uint8)[:, :, ::-1], {}, ValueError, "contiguous"),
        (np.zeros((4, 6, 3), np.uint8)[::-1], {}, ValueError, "row stride"),
        (np.zeros((4, 6), np.uint8).T, {}, ValueError, "contiguous"),
        (RGB, {"format": "xyz"}, ValueError, "unknown format"),
        (RGB, {"format": "rgba"}, ValueError, "HxWx4"),
        (RGB, {"format": "gray16"}, TypeError, "uint16"),
        (np.zeros((4, 6), np.uint8), {"format": "bgr"}, ValueError, "HxWx3"),
        (RGB, {"width": 5}, ValueError, "width=5 does not match"),
        (RGB, {"stride": 99}, ValueError, "stride=99 does not match"),
        (RGB, {"matrix": "bt2020"}, ValueError, "matrix"),
        (RGB, {"range": "half"}, ValueError, "range"),
        (np.zeros(24, np.uint8), {"format": "nv12"}, TypeError, "width= and height="),
        (np.zeros(24, np.uint8), {"format": "nv12", "width": 4}, TypeError, "width= and height="),
        (np.zeros(23, np.uint8), {"format": "nv12", "width": 4, "height": 4}, ValueError, "24 bytes"),
        (np.zeros(24, np.uint16), {"format": "nv12", "width": 4, "height": 4}, TypeError, "uint8"),
        (np.zeros(48, np.uint8)[::2], {"format": "nv12", "width": 4, "height": 4}, ValueError, "C-contiguous"),
        (np.zeros(12, np.uint8), {"format": "yuyv", "width": 3, "height": 2}, ValueError, "even width"),
        (np.zeros(24, np.uint8), {"format": "i420", "width": 4, "height": 4, "stride": 2}, ValueError, "stride"),
        (np.zeros((200, 100, 4), np.uint8), {}, ValueError, "does not fit the slot capacity"),
    ],
)
def test_publish_rejects(writer, frame, kwargs, error, match):
    with pytest.raises(error, match=match) as caught:
        writer.publish(frame, **kwargs)
    assert isinstance(caught.value, shmframe.Error)
    assert writer.frames_published == 0  # nothing was published


def test_a_closed_writer_refuses_to_publish(name):
    writer = shmframe.Writer(name, capacity=1024)
    writer.close()
    writer.close()  # twice is fine
    with pytest.raises(shmframe.FrameValueError, match="closed"):
        writer.publish(np.zeros((2, 2), np.uint8))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("../etc",), {}, "invalid stream name"),
        (("",), {}, "invalid stream name"),
        (("a" * 201,), {}, "invalid stream name"),
        (("ok",), {"slots": 1}, "slot"),
        (("ok",), {"capacity": 0}, "capacity"),
        (("ok",), {"mode": 0o666}, "mode"),
    ],
)
def test_writer_options_are_checked(args, kwargs, match):
    with pytest.raises(shmframe.InvalidArgumentError, match=match) as caught:
        shmframe.Writer(*args, **kwargs)
    assert isinstance(caught.value, ValueError)


def test_a_second_writer_is_told_the_live_writers_pid(writer, name):
    with pytest.raises(shmframe.WriterExistsError) as caught:
        shmframe.Writer(name)
    assert caught.value.pid == os.getpid()
    assert f"pid {os.getpid()}" in str(caught.value)


def test_a_missing_stream_is_a_file_not_found_error():
    with pytest.raises(FileNotFoundError, match="no stream named `nothing-here`") as caught:
        shmframe.Reader("nothing-here")
    assert isinstance(caught.value, shmframe.NoStreamError)
    assert isinstance(caught.value, shmframe.Error)
    with pytest.raises(shmframe.InvalidArgumentError):
        shmframe.Reader("no/slashes")


@pytest.mark.parametrize("timeout", [-1, float("nan")])
def test_a_bad_timeout_is_a_value_error(writer, name, timeout):
    with shmframe.Reader(name) as reader, pytest.raises(ValueError, match="timeout"):
        reader.wait_latest(timeout)


@pytest.mark.parametrize(
    "make_out, error, match",
    [
        (lambda: [0] * 24, TypeError, "numpy.ndarray"),
        (lambda: np.empty((4, 6, 3), np.uint16), TypeError, "dtype"),
        (lambda: np.empty((6, 4, 3), np.uint8), ValueError, r"needs \(4, 6, 3\)"),
        (lambda: np.empty((4, 6, 4), np.uint8), ValueError, "shape"),
        (lambda: np.empty((4, 12, 3), np.uint8)[:, :6], ValueError, "C-contiguous"),
        (lambda: np.empty((4, 6, 3), np.uint8, order="F"), ValueError, "C-contiguous"),
        (lambda: _read_only(np.empty((4, 6, 3), np.uint8)), ValueError, "writeable"),
    ],
)
def test_out_must_fit_the_frame(writer, name, make_out, error, match):
    writer.publish(RGB)
    with shmframe.Reader(name) as reader:
        with pytest.raises(error, match=match) as caught:
            reader.latest(out=make_out())
        assert isinstance(caught.value, shmframe.Error)
        assert reader.latest(out=np.empty((4, 6, 3), np.uint8)) is not None  # a fitting one works


def test_an_in_order_frame_that_does_not_fit_out_is_skipped(writer, name):
    reader = shmframe.Reader(name)
    out = np.full((4, 6, 3), 7, np.uint8)
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    # Within the ring's intact frames: more bytes than out holds, fewer, as
    # many in another shape; then one that fits.
    for shape in [(8, 6, 3), (2, 6, 3), (6, 4, 3)]:
        writer.publish(np.zeros(shape, np.uint8))
        with pytest.raises(ValueError, match="shape"):
            reader.next(out=out)
    writer.publish(pixels)
    frame = reader.next(out=out)
    assert (frame.number, frame.missed) == (4, 0) and frame.array is out
    np.testing.assert_array_equal(out, pixels)
    assert reader.next(out=out) is None
    reader.close()


def _read_only(array):
    array.flags.writeable = False
    return array


def test_a_closed_reader_refuses_to_read(writer, name):
    reader = shmframe.Reader(name)
    reader.close()
    assert reader.closed
    with pytest.raises(shmframe.FrameValueError, match="closed"):
        reader.latest()
    with pytest.raises(shmframe.FrameValueError, match="closed"):
        reader.status()
    assert not reader.writer_alive
