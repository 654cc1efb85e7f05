"""copy=False: frames held in place as read-only views, released by release(), with, or collection."""

import asyncio
import gc
import os
import select
import time

import numpy as np
import pytest

import shmframe
from conftest import python_child
from frames import FORMATS, cases, make_frame
from holding import SHAPE, granted_reader, pattern, wait_for_holds


@pytest.fixture
def holding_writer(name):
    """A writer honouring 4 holds (a ring of 6 slots) of small frames."""
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=4) as w:
        yield w


@pytest.fixture
def child_publish(name):
    """A writer honouring 4 holds in another process: ``child_publish(count)`` has it
    publish the next ``count`` pattern frames and returns the last index;
    ``child_publish.process`` is the process (closing its stdin closes the stream)."""
    child = python_child("child_publisher.py", name, 4)
    try:
        assert child.stdout.readline() == "ready\n"

        def publish_in_child(count):
            child.stdin.write(f"{count}\n")
            child.stdin.flush()
            return int(child.stdout.readline())

        publish_in_child.process = child
        yield publish_in_child
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def publish(writer, count=1):
    """Publishes the next ``count`` pattern frames; returns the last one's index."""
    for _ in range(count):
        n = writer.frames_published + 1
        assert writer.publish(pattern(n)) == n
    return writer.frames_published


def test_a_held_frame_is_a_read_only_view_that_does_not_own_its_data(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    n = publish(holding_writer)
    frame = reader.latest(copy=False)
    assert frame.zero_copy and frame.index == n
    array = frame.array
    assert not array.flags.writeable and not array.flags.owndata
    np.testing.assert_array_equal(array, pattern(n))
    assert reader.holding == 1
    # The segment is mapped read-only: numpy must refuse every way to write it.
    with pytest.raises(ValueError):
        array[0, 0, 0] = 1
    with pytest.raises(ValueError):
        array.flags.writeable = True
    part = array[::2, 1:]
    with pytest.raises(ValueError):
        part.flags.writeable = True
    with pytest.raises(ValueError):
        np.add(array, 1, out=array)
    del array, part, frame
    assert reader.holding == 0
    reader.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_the_same_in_place_as_copied(name, fmt):
    # Padded rows, odd sizes, YUV planes: the view has the copy's shape,
    # dtype, strides and values.
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=4) as writer:
        reader = granted_reader(writer, name)
        for seed, (width, height, padded) in enumerate(cases(fmt)):
            array, kwargs, expected = make_frame(fmt, width, height, padded, seed)
            writer.publish(array, **kwargs)
            copied = reader.latest()
            with reader.latest(copy=False) as held:
                assert held.zero_copy and not copied.zero_copy
                assert held.array.shape == copied.array.shape == expected.shape
                assert held.array.dtype == copied.array.dtype
                assert held.array.strides == copied.array.strides
                np.testing.assert_array_equal(held.array, expected)
                assert held.planes == copied.planes
                if fmt in ("nv12", "i420", "yuyv"):
                    for i in range(len(held.planes)):
                        np.testing.assert_array_equal(held.plane(i), copied.plane(i))
        assert reader.holding == 0
        reader.close()


def test_held_pixels_stay_byte_identical_while_the_writer_publishes_thousands(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    first = reader.latest(copy=False)
    publish(holding_writer)
    second = reader.latest(copy=False)
    assert first.zero_copy and second.zero_copy and second.index == first.index + 1
    expected = [np.array(first.array), np.array(second.array)]
    np.testing.assert_array_equal(expected[0], pattern(first.index))
    last = publish(holding_writer, 5000)
    # The writer went round its ring (6 slots) hundreds of times meanwhile:
    # the other slots hold its latest frames.
    np.testing.assert_array_equal(reader.latest().array, pattern(last))
    np.testing.assert_array_equal(first.array, expected[0])
    np.testing.assert_array_equal(second.array, expected[1])
    first.release()
    second.release()
    assert reader.holding == 0
    reader.close()


def test_holding_more_frames_than_holds_falls_back_to_copies_and_never_waits(holding_writer, name):
    reader = granted_reader(holding_writer, name, holds=2)
    n = publish(holding_writer)
    held = [reader.latest(copy=False), reader.latest(copy=False)]
    assert [f.zero_copy for f in held] == [True, True] and reader.holding == 2
    # Both holds taken: a copy at once, from every kind of read.
    copied = reader.latest(copy=False)
    assert not copied.zero_copy and copied.index == n
    assert copied.array.flags.writeable  # the caller's own memory
    np.testing.assert_array_equal(copied.array, pattern(n))
    n = publish(holding_writer)
    waited = reader.wait_latest(0, copy=False)  # a frame is there: no wait at all
    assert waited is not None and not waited.zero_copy and waited.index == n
    np.testing.assert_array_equal(waited.array, pattern(n))
    assert reader.holding == 2
    # A hold given back is used again.
    held.pop().release()
    again = reader.latest(copy=False)
    assert again.zero_copy and again.index == n
    np.testing.assert_array_equal(again.array, pattern(n))
    held.append(again)
    for frame in held:
        frame.release()
    assert reader.holding == 0
    reader.close()


def test_in_order_reads_stay_exact_across_holds_and_copies(holding_writer, name):
    reader = granted_reader(holding_writer, name, holds=2)
    while reader.next() is not None:  # catch up with the frames the grant took
        pass
    first = publish(holding_writer, 4) - 3
    frames = [reader.next(copy=False) for _ in range(4)]
    assert [f.index for f in frames] == list(range(first, first + 4))
    assert [f.zero_copy for f in frames] == [True, True, False, False]
    assert [f.missed for f in frames] == [0, 0, 0, 0]
    for frame in frames:
        np.testing.assert_array_equal(frame.array, pattern(frame.index))
    assert reader.next(copy=False) is None
    # Lapped while holding: the writer skips the held slots, missed stays exact.
    last = publish(holding_writer, 20)
    late = reader.next(copy=False)
    assert not late.zero_copy  # both holds are still taken by frames[0:2]
    assert late.missed > 0 and late.index == first + 4 + late.missed
    np.testing.assert_array_equal(late.array, pattern(late.index))
    del frames
    assert reader.holding == 0
    # The rest in place, in order, none missed.
    expected = late.index + 1
    while (frame := reader.next(copy=False)) is not None:
        with frame:
            assert (frame.index, frame.missed, frame.zero_copy) == (expected, 0, True)
            np.testing.assert_array_equal(frame.array, pattern(frame.index))
        expected += 1
    assert expected == last + 1
    reader.close()


def test_a_writer_without_holds_gives_copies(name):
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=0) as writer:
        reader = shmframe.Reader(name)
        for n in range(1, 6):
            writer.publish(pattern(n))
            frame = reader.latest(copy=False)
            assert not frame.zero_copy and frame.array.flags.writeable
            np.testing.assert_array_equal(frame.array, pattern(n))
        assert reader.holds_granted == 0 and reader.holding == 0
        reader.close()


def test_readers_share_the_writers_holds_first_come_first_served(name):
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=1) as writer:
        first = granted_reader(writer, name, holds=1)
        other = shmframe.Reader(name, holds=1)
        n = publish(writer)
        mine = first.latest(copy=False)
        assert mine.zero_copy
        # The one hold is taken: the other reader copies, now and after publishes.
        for _ in range(20):
            theirs = other.latest(copy=False)
            assert theirs is not None and not theirs.zero_copy
            n = publish(writer)
        assert other.holds_granted == 0
        np.testing.assert_array_equal(theirs.array, pattern(n - 1))
        mine.release()
        first.close()
        other.close()


def test_with_frame_ends_the_hold(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    n = publish(holding_writer)
    with reader.wait_latest(5.0, copy=False) as frame:
        assert frame.zero_copy and reader.holding == 1
        assert frame.array.sum() == pattern(n).sum()
    assert reader.holding == 0
    with pytest.raises(shmframe.FrameValueError, match="released"):
        frame.array
    with pytest.raises(shmframe.FrameValueError, match="released"):
        frame.planes
    assert "released" in repr(frame) and frame.index == n
    reader.close()


def test_release_ends_the_hold_once_no_array_from_the_frame_is_left(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    n = publish(holding_writer)
    frame = reader.latest(copy=False)
    kept = frame.array[1:, :, :3]  # a view of the view
    frame.release()
    frame.release()  # again: nothing more happens
    # The view still references the hold: its pixels stay valid and unchanged.
    assert reader.holding == 1
    publish(holding_writer, 100)
    np.testing.assert_array_equal(kept, pattern(n)[1:, :, :3])
    del kept
    assert reader.holding == 0
    reader.close()


def test_a_copied_frame_is_released_alike(holding_writer, name):
    # The same code runs whether a hold was free or not.
    reader = granted_reader(holding_writer, name, holds=1)
    held = reader.latest(copy=False)
    with reader.latest(copy=False) as copied:
        assert not copied.zero_copy
    with pytest.raises(shmframe.FrameValueError):
        copied.array
    held.release()
    reader.close()


def test_a_frame_and_its_arrays_end_the_hold_when_collected(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    publish(holding_writer)
    frame = reader.latest(copy=False)
    del frame  # no reference left: the hold ends at once
    assert reader.holding == 0
    array = reader.latest(copy=False).array  # only the array is kept
    assert reader.holding == 1
    del array
    assert reader.holding == 0
    # In a reference cycle, the garbage collector ends it.
    cycle = [reader.latest(copy=False)]
    cycle.append(cycle)
    del cycle
    assert reader.holding == 1
    gc.collect()
    assert reader.holding == 0
    reader.close()


def test_views_outlive_the_reader_and_the_writer(name):
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=4) as writer:
        reader = granted_reader(writer, name)
        n = publish(writer)
        frame = reader.latest(copy=False)
        array = frame.array
        reader.close()
        with pytest.raises(shmframe.FrameValueError, match="closed"):
            reader.holding
        # The frame keeps the mapping and the hold: the writer still leaves it be.
        publish(writer, 1000)
        np.testing.assert_array_equal(array, pattern(n))
        np.testing.assert_array_equal(frame.array, pattern(n))
    # The writer is gone and its name removed; the mapping stays with the view.
    np.testing.assert_array_equal(array, pattern(n))
    del frame
    np.testing.assert_array_equal(array, pattern(n))
    del array  # unmaps; the hold file goes (the fixture checks the directory is empty)


def test_copy_false_excludes_out(holding_writer, name):
    reader = shmframe.Reader(name)
    publish(holding_writer)
    with pytest.raises(shmframe.InvalidArgumentError, match="out="):
        reader.latest(copy=False, out=np.empty(SHAPE, np.uint8))
    reader.close()


def test_iteration_and_asyncio_hold_frames_too(name):
    with shmframe.Writer(name, slots=8, capacity=1 << 16, holds=4) as writer:
        reader = granted_reader(writer, name)
        while reader.next() is not None:
            pass
        first = publish(writer, 3) - 2

        async def three():
            got = []
            async for frame in reader.frames(copy=False):
                got.append((frame.index, frame.zero_copy, np.array_equal(frame.array, pattern(frame.index))))
                frame.release()
                if len(got) == 3:
                    return got

        assert asyncio.run(three()) == [(i, True, True) for i in range(first, first + 3)]
        last = publish(writer, 3)
    # The writer closed: iteration gives the frames left, then ends.
    got = []
    for frame in reader.iter(copy=False):
        with frame:
            got.append((frame.index, frame.zero_copy))
            np.testing.assert_array_equal(frame.array, pattern(frame.index))
    assert got == [(i, True) for i in range(last - 2, last + 1)]
    assert reader.holding == 0
    reader.close()


def test_a_forked_child_dropping_a_held_frame_does_not_end_the_parents_hold(holding_writer, name):
    reader = granted_reader(holding_writer, name)
    n = publish(holding_writer)
    frame = reader.latest(copy=False)
    assert frame.zero_copy
    pid = os.fork()
    if pid == 0:  # the child: let go of its copy of the frame, then leave at once
        code = 1
        try:
            del frame
            gc.collect()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    publish(holding_writer, 1000)
    np.testing.assert_array_equal(frame.array, pattern(n))
    frame.release()
    assert reader.holding == 0
    reader.close()


def test_a_forked_child_closing_its_reader_leaves_the_parents_hold_file(holding_writer, name, shm_dir):
    reader = granted_reader(holding_writer, name)
    hold_files = lambda: sorted(p.name for p in shm_dir.iterdir() if p.name.startswith(".shmframe-hold."))
    before = hold_files()
    assert len(before) == 1
    pid = os.fork()
    if pid == 0:  # the child: close its copy of the reader, then leave at once
        code = 1
        try:
            reader.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert hold_files() == before, "the child took the parent's hold file away"
    n = publish(holding_writer)
    frame = reader.latest(copy=False)
    assert frame.zero_copy and frame.index == n
    publish(holding_writer, 1000)
    np.testing.assert_array_equal(frame.array, pattern(n))
    frame.release()
    reader.close()


def test_frames_held_from_a_writer_in_another_process_stay_identical(name, child_publish):
    reader = shmframe.Reader(name)
    wait_for_holds(reader, lambda: child_publish(1), 2)
    n = child_publish(1)
    held = reader.latest(copy=False)
    assert held.zero_copy and held.index == n
    last = child_publish(5000)
    np.testing.assert_array_equal(reader.latest().array, pattern(last))
    np.testing.assert_array_equal(held.array, pattern(n))
    child_publish.process.stdin.close()  # the writer closes and exits
    assert child_publish.process.wait(30) == 0
    np.testing.assert_array_equal(held.array, pattern(n))
    del held
    reader.close()


def test_holds_of_a_killed_holder_come_back_and_meanwhile_others_copy(name):
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=2) as writer:
        publish(writer)
        holder = python_child("child_holder.py", name, 2)
        try:
            # Publish until the other process holds both of the writer's holds.
            give_up = time.monotonic() + 20
            while not select.select([holder.stdout], [], [], 0.001)[0]:
                assert time.monotonic() < give_up and holder.poll() is None, "the holder never held"
                publish(writer)
            assert holder.stdout.readline() == "held\n"
            reader = shmframe.Reader(name)
            for _ in range(50):  # every hold is taken: copies, exact, and at once
                n = publish(writer)
                frame = reader.latest(copy=False)
                assert not frame.zero_copy and frame.index == n
                np.testing.assert_array_equal(frame.array, pattern(n))
            assert reader.holds_granted == 0
        finally:
            holder.kill()
            holder.wait()
        # The writer takes the dead reader's holds back and grants them again.
        give_up = time.monotonic() + 20
        while reader.holds_granted < 2:
            assert time.monotonic() < give_up, "the dead reader's holds never came back"
            publish(writer)
            reader.latest(copy=False)  # asks again
            time.sleep(0.001)
        n = publish(writer)
        with reader.latest(copy=False) as frame:
            assert frame.zero_copy
            np.testing.assert_array_equal(frame.array, pattern(n))
        reader.close()
        # The dead reader's hold file stays until a reader of the same user makes
        # its own hold file, which removes the dead ones (the fixture checks).
        with shmframe.Reader(name) as sweeper:
            sweeper.latest(copy=False)


def test_a_segment_truncated_under_a_held_view_reads_as_zeros_never_a_crash(name, shm_dir, child_publish):
    # Only the writer's user can truncate the segment; the reader's SIGBUS
    # handler (docs/security.md) covers the held view's pages as well.
    reader = shmframe.Reader(name)
    wait_for_holds(reader, lambda: child_publish(1), 2)
    n = child_publish(1)
    frame = reader.latest(copy=False)
    assert frame.zero_copy
    view = frame.array[2:]
    np.testing.assert_array_equal(view, pattern(n)[2:])
    os.truncate(shm_dir / f"shmframe.{name}", 0)
    assert not view.any()  # zeros where the pixels were: no SIGBUS
    assert not frame.array.any()
    with pytest.raises(shmframe.Error, match="truncated"):
        reader.latest(copy=False)
    del view, frame
    reader.close()
    # The writer dies at its next touch of the segment: it leaves its segment
    # and wake file (a next writer would reclaim them); the reader's hold file
    # must be gone (the fixture checks).
    child_publish.process.kill()
    child_publish.process.wait()
    (shm_dir / f"shmframe.{name}").unlink()
    for wake in shm_dir.glob(".shmframe-wake.*"):
        wake.unlink()
