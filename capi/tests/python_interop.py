"""The Python side of capi/tests/interop.rs.

    python python_interop.py read PREFIX    checks the frames of interop.c's writer
    python python_interop.py write PREFIX   publishes the frames interop.c's reader
                                            checks, prints "ready", closes at EOF

Frames are 16x6, pattern byte i of frame n = (31 i + 7 n) mod 256, n = the
format code; YUV frames are BT.709 full range (as in interop.c).
"""

import sys

import numpy as np
import shmframe

WIDTH, HEIGHT = 16, 6
# name, code, numpy dtype and shape of a packed frame (None: 1-D bytes)
FORMATS = [
    ("rgba8", 1, np.uint8, (HEIGHT, WIDTH, 4)),
    ("bgra8", 2, np.uint8, (HEIGHT, WIDTH, 4)),
    ("rgb8", 3, np.uint8, (HEIGHT, WIDTH, 3)),
    ("gray8", 4, np.uint8, (HEIGHT, WIDTH)),
    ("bgr8", 5, np.uint8, (HEIGHT, WIDTH, 3)),
    ("nv12", 6, np.uint8, None),
    ("i420", 7, np.uint8, None),
    ("yuyv", 8, np.uint8, None),
    ("gray16", 9, np.dtype("<u2"), (HEIGHT, WIDTH)),
    ("grayf32", 10, np.dtype("<f4"), (HEIGHT, WIDTH)),
]
LENGTHS = {"nv12": WIDTH * HEIGHT * 3 // 2, "i420": WIDTH * HEIGHT * 3 // 2, "yuyv": WIDTH * HEIGHT * 2}


def pattern(number, length):
    return bytes((i * 31 + number * 7) % 256 for i in range(length))


def is_yuv(name):
    return name in ("nv12", "i420", "yuyv")


def read(prefix):
    for name, code, dtype, shape in FORMATS:
        frame = shmframe.Reader(f"{prefix}-{name}").latest()
        assert frame is not None, name
        assert (frame.width, frame.height, frame.format, frame.index) == (WIDTH, HEIGHT, name, 1), name
        if is_yuv(name):
            assert (frame.matrix, frame.range) == ("bt709", "full"), name
        data = frame.array.tobytes()
        assert data == pattern(code, len(data)), name
    print("python read 10 formats")


def write(prefix):
    writers = []
    for name, code, dtype, shape in FORMATS:
        writer = shmframe.Writer(f"{prefix}-{name}", capacity=1 << 16)
        if shape is None:
            array = np.frombuffer(pattern(code, LENGTHS[name]), np.uint8)
            writer.publish(array, name, width=WIDTH, height=HEIGHT, matrix="bt709", range="full")
        else:
            length = int(np.prod(shape)) * np.dtype(dtype).itemsize
            array = np.frombuffer(pattern(code, length), dtype).reshape(shape)
            writer.publish(array, name)
        writers.append(writer)
    print("ready", flush=True)
    sys.stdin.read()
    for writer in writers:
        writer.close()


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2])
