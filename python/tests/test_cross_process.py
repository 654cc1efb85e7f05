"""A Python writer in one process, a Python reader in another: exact pixels, every format."""

import numpy as np
import pytest

import shmframe
from conftest import python_child
from frames import FORMATS, cases, make_frame, size_for


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_case_of_a_format_arrives_exactly_and_in_order(fmt, name):
    child = python_child("child_writer.py", name, fmt)
    try:
        assert child.stdout.readline().strip() == "ready"
        reader = shmframe.Reader(name)
        child.stdin.write("go\n")
        child.stdin.flush()
        frames = list(reader)  # every frame, until the writer closes the stream
        assert child.stdout.readline().strip() == "closed"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
    todo = cases(fmt)
    assert [f.number for f in frames] == list(range(1, len(todo) + 1))
    for seed, (frame, (width, height, padded)) in enumerate(zip(frames, todo)):
        _, kwargs, expected = make_frame(fmt, width, height, padded, seed)
        assert frame.format == fmt
        assert (frame.width, frame.height) == size_for(fmt, width, height)
        assert frame.missed == 0
        assert frame.array.dtype == expected.dtype
        assert frame.array.shape == expected.shape
        np.testing.assert_array_equal(frame.array, expected)
        if fmt in ("nv12", "i420", "yuyv"):
            assert frame.stride == kwargs["stride"]
            assert (frame.matrix, frame.range) == ("bt601", "limited")
        elif padded and height > 1:
            # Padded rows travel with their stride: the reader's array keeps it.
            assert frame.stride > expected.strides[0]
            assert frame.array.strides[0] == frame.stride
        else:
            assert frame.stride == expected.strides[0]
    reader.close()


@pytest.mark.parametrize("fmt", ["rgb8", "gray16", "i420"])
def test_out_receives_the_same_pixels_as_a_new_array(fmt, writer, name):
    reader = shmframe.Reader(name)
    for seed, (width, height, padded) in enumerate(cases(fmt)):
        array, kwargs, expected = make_frame(fmt, width, height, padded, seed)
        writer.publish(array, **kwargs)
        shape, dtype = shmframe.out_shape(fmt, *size_for(fmt, width, height), kwargs.get("stride"))
        out = np.full(shape, 7, dtype=dtype)
        frame = reader.wait_latest(5.0, out=out)
        assert frame is not None and frame.array is out
        np.testing.assert_array_equal(out, expected)
    reader.close()


def test_yuv_planes_are_views_of_the_frame_bytes(writer, name):
    width, height = 5, 3
    y = np.arange(width * height, dtype=np.uint8).reshape(height, width)
    u = np.full((2, 3), 100, np.uint8)
    v = np.full((2, 3), 200, np.uint8)
    writer.publish(np.concatenate([y.ravel(), u.ravel(), v.ravel()]), "i420", width=width, height=height)
    with shmframe.Reader(name) as reader:
        frame = reader.latest()
    np.testing.assert_array_equal(frame.plane(0), y)
    np.testing.assert_array_equal(frame.plane(1), u)
    np.testing.assert_array_equal(frame.plane(2), v)
    rgb = _rgb_frame(writer, name)
    with pytest.raises(shmframe.FrameValueError, match="plane"):
        rgb.plane(0)


def _rgb_frame(writer, name):
    writer.publish(np.zeros((2, 2, 3), np.uint8))
    with shmframe.Reader(name) as reader:
        return reader.latest()


def test_colorimetry_travels_with_yuv_frames(writer, name):
    data = np.zeros(4 * 2 * 2, np.uint8)
    writer.publish(data, "yuyv", width=4, height=2, matrix="bt709", range="full")
    with shmframe.Reader(name) as reader:
        frame = reader.latest()
    assert (frame.format, frame.matrix, frame.range) == ("yuyv", "bt709", "full")
    assert frame.plane(0).shape == (2, 8)
