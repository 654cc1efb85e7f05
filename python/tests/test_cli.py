"""Python and the `shmframe` command on one stream: snapshot of a Python writer, publish to a Python reader."""

import subprocess
import time

import numpy as np
import pytest
from PIL import Image

import shmframe
from frames import make_frame

# The formats `shmframe snapshot` saves (on main: 8-bit RGB and gray), with what the PNG holds.
SNAPSHOT_FORMATS = ["rgba8", "rgb8", "gray8", "bgra8"]


def as_png_pixels(fmt, array):
    """The pixels a PNG of this frame must hold (BGRA is saved as RGBA)."""
    return array[..., [2, 1, 0, 3]] if fmt == "bgra8" else array


@pytest.mark.parametrize("fmt", SNAPSHOT_FORMATS)
@pytest.mark.parametrize("size", [(1, 1), (3, 7), (1921, 3)])
@pytest.mark.parametrize("padded", [False, True])
def test_snapshot_of_a_python_writer_is_exact(fmt, size, padded, name, cli, tmp_path):
    array, kwargs, expected = make_frame(fmt, *size, padded, seed=42)
    png = tmp_path / "frame.png"
    with shmframe.Writer(name, capacity=1 << 16) as writer:
        writer.publish(array, **kwargs)
        run = subprocess.run([cli, "snapshot", "--name", name, str(png)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    with Image.open(png) as image:
        got = np.asarray(image)
    np.testing.assert_array_equal(got, as_png_pixels(fmt, expected))


def open_when_ready(name, timeout=30.0):
    """Opens stream `name` once its writer (another process) has created it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return shmframe.Reader(name)
        except shmframe.NoStreamError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_cli_publish_of_a_png_reaches_python_exactly(mode, name, cli, tmp_path):
    rng = np.random.default_rng(7)
    shape = (37, 53) if mode == "L" else (37, 53, len(mode))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    png = tmp_path / "in.png"
    Image.fromarray(pixels, mode).save(png)
    with Image.open(png) as image:
        decoded = np.asarray(image)  # Pillow's decode of the same file
    child = subprocess.Popen([cli, "publish", "--quiet", "--name", name, str(png)], stderr=subprocess.PIPE)
    try:
        with open_when_ready(name) as reader:
            frame = reader.latest() or reader.wait_latest(30.0)
    finally:
        child.terminate()  # publish closes the stream on SIGTERM
        child.wait(timeout=30)
    assert frame is not None
    assert frame.format == {"L": "gray8", "RGB": "rgb8", "RGBA": "rgba8"}[mode]
    np.testing.assert_array_equal(frame.array, decoded)
