"""A hostile or corrupt segment file raises shmframe.Error; it never crashes the interpreter.

Segments are crafted by hand (docs/layout.md) in the test's private SHMFRAME_DIR.
"""

import os
import struct

import numpy as np
import pytest

import shmframe

HEADER = 128
SLOT_HEADER = 64


@pytest.fixture
def good_segment(name):
    """The bytes of a real segment: 2 slots of 64 bytes, frame 1 (2x2 rgba8) published."""
    with shmframe.Writer(name, slots=2, capacity=64, holds=0) as writer:
        writer.publish(np.arange(16, dtype=np.uint8).reshape(2, 2, 4))
        data = bytearray(open(writer.path, "rb").read())
    # The header, two slots, and the tail (the placement table) after them.
    assert data[:8] == b"SHMFRAME" and len(data) == HEADER + 2 * 128 + 64
    return data


def frame_slot(data):
    """Byte offset of the slot holding frame 1."""
    for offset in (HEADER, HEADER + 128):
        if struct.unpack_from("<Q", data, offset + 8)[0] == 1:
            return offset
    raise AssertionError("frame 1 not found")


def plant(shm_dir, name, data):
    path = shm_dir / f"shmframe.{name}"
    path.write_bytes(bytes(data))
    path.chmod(0o600)
    return path


def read_everything(name):
    """Opens and reads the stream every way; returns what it got, raises shmframe.Error otherwise."""
    with shmframe.Reader(name) as reader:
        got = [reader.latest(), reader.next(), reader.wait_latest(0.01), reader.wait_next(0.01)]
        # copy=False: in place where the segment offers holds, else a copy. Nothing
        # publishes meanwhile, so the latest frame is the same either way.
        held = [reader.latest(copy=False), reader.wait_latest(0.01, copy=False), reader.next(copy=False)]
        if got[0] is not None:
            assert held[0].array.tobytes() == got[0].array.tobytes()
        got += held
        reader.status()
        out = np.empty((2, 2, 4), np.uint8)
        try:
            got.append(reader.latest(out=out))
        except (shmframe.FrameValueError, shmframe.FrameTypeError):
            pass  # a frame of another shape does not fit this out: the documented refusal
        return got


def put(fmt, offset, value):
    def mutate(data):
        struct.pack_into(fmt, data, offset, value)

    return mutate


def put_in_slot(fmt, offset, value):
    def mutate(data):
        struct.pack_into(fmt, data, frame_slot(data) + offset, value)

    return mutate


@pytest.mark.parametrize(
    "mutate, error",
    [
        pytest.param(lambda d: d.__delitem__(slice(0, None)), shmframe.CorruptSegmentError, id="empty-file"),
        pytest.param(lambda d: d.__delitem__(slice(100, None)), shmframe.CorruptSegmentError, id="shorter-than-a-header"),
        pytest.param(lambda d: d.__delitem__(slice(300, None)), shmframe.CorruptSegmentError, id="slots-cut-off"),
        pytest.param(put("<Q", 0, 0x1234), shmframe.CorruptSegmentError, id="magic"),
        pytest.param(put("<I", 8, 1), shmframe.CorruptSegmentError, id="version"),
        pytest.param(put("<I", 12, 64), shmframe.CorruptSegmentError, id="header-size"),
        pytest.param(put("<I", 16, 0), shmframe.CorruptSegmentError, id="no-slots"),
        pytest.param(put("<I", 16, 1), shmframe.CorruptSegmentError, id="one-slot"),
        pytest.param(put("<I", 16, 0xFFFFFFFF), shmframe.CorruptSegmentError, id="absurd-slot-count"),
        pytest.param(put("<I", 20, 8), shmframe.CorruptSegmentError, id="slot-header-size"),
        pytest.param(put("<Q", 24, 1 << 62), shmframe.CorruptSegmentError, id="capacity-overflowing-the-size"),
        pytest.param(put("<Q", 24, 0), shmframe.CorruptSegmentError, id="zero-capacity"),
        pytest.param(put("<Q", 32, 64), shmframe.CorruptSegmentError, id="slot-stride-inconsistent"),
        pytest.param(
            put("<Q", 64, 1 << 63),
            # The slot it maps to is empty, which looks like a writer lapping the reader.
            (shmframe.CorruptSegmentError, shmframe.StarvedError),
            id="latest-far-beyond-the-slots",
        ),
        pytest.param(put_in_slot("<I", 24, 0), shmframe.CorruptSegmentError, id="width-0"),
        pytest.param(put_in_slot("<I", 28, 1 << 20), shmframe.CorruptSegmentError, id="height-beyond-the-limit"),
        pytest.param(put_in_slot("<I", 32, 3), shmframe.CorruptSegmentError, id="stride-shorter-than-a-row"),
        pytest.param(put_in_slot("<I", 36, 99), shmframe.CorruptSegmentError, id="unknown-pixel-format"),
        pytest.param(put_in_slot("<I", 36, 0), shmframe.CorruptSegmentError, id="format-code-0"),
        pytest.param(put_in_slot("<Q", 40, 17), shmframe.CorruptSegmentError, id="length-disagrees-with-the-metadata"),
        pytest.param(put_in_slot("<Q", 40, 1 << 40), shmframe.CorruptSegmentError, id="length-beyond-the-slot"),
        pytest.param(put_in_slot("<I", 28, 100), shmframe.CorruptSegmentError, id="frame-larger-than-the-slot"),
        pytest.param(put_in_slot("<Q", 0, 1), shmframe.StarvedError, id="sequence-stuck-odd-never-consistent"),
    ],
)
def test_a_corrupt_segment_raises(shm_dir, name, good_segment, mutate, error):
    mutate(good_segment)
    path = plant(shm_dir, name, good_segment)
    try:
        with pytest.raises(error) as caught:
            read_everything(name)
        assert isinstance(caught.value, shmframe.Error)
    finally:
        path.unlink()


def test_the_unmodified_segment_reads_back(shm_dir, name, good_segment):
    path = plant(shm_dir, name, good_segment)
    try:
        got = read_everything(name)
    finally:
        path.unlink()
    assert got[0].number == 1
    np.testing.assert_array_equal(got[0].array.ravel(), np.arange(16))


def test_a_symlink_in_place_of_a_segment_is_refused(shm_dir, name, good_segment, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(bytes(good_segment))
    link = shm_dir / f"shmframe.{name}"
    os.symlink(target, link)
    try:
        with pytest.raises(shmframe.CorruptSegmentError, match="not a regular file"):
            shmframe.Reader(name)
    finally:
        link.unlink()


def test_random_corruption_never_crashes(shm_dir, name, good_segment):
    rng = np.random.default_rng(2024)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(200):
        data = bytearray(good_segment)
        # Corrupt a few bytes of the header and slot headers, where parsing happens.
        for _ in range(int(rng.integers(1, 6))):
            slot = int(rng.integers(0, 3))
            offset = (0, HEADER, HEADER + 128)[slot] + int(rng.integers(0, 64))
            data[offset] = int(rng.integers(0, 256))
        if rng.random() < 0.1:
            del data[int(rng.integers(0, len(data))) :]
        path = plant(shm_dir, name, data)
        try:
            read_everything(name)
            outcomes["read"] += 1
        except shmframe.Error:
            outcomes["refused"] += 1
        finally:
            path.unlink()
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_another_users_segment_is_refused_unless_trusted(shm_dir, name, good_segment):
    path = plant(shm_dir, name, good_segment)
    os.chown(path, 4242, -1)
    try:
        with pytest.raises(shmframe.ForeignOwnerError, match="uid 4242") as caught:
            shmframe.Reader(name)
        assert isinstance(caught.value, PermissionError)
        with shmframe.Reader(name, trusted_uids=[4242]) as reader:
            assert reader.latest().number == 1
    finally:
        path.unlink()
